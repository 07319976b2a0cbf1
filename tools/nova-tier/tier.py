#!/usr/bin/env python3
# Copyright nova-imgmeta contributors
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""The real-Nova tier: the series and the plugin inside real Nova.

    tier.py run SERIES [--stages STAGE,...]   the tier (tox -e nova-SERIES)
    tier.py build SERIES                      the environment only
    tier.py demo [SERIES] [--json]            what tools/demo runs
    tier.py bench SERIES [-- BENCH ARGS]      benchmarks/bench_nova_hooks.py
                                              in the series' environment

SERIES is an entry of releases.py. Stages of ``run``, in order:

  build        sdist; pristine tree; patched tree made by ``nova-imgmeta
               patch apply --nova-tree`` (series from MAP); venv pinned by
               tests/nova/constraints; nova installed from the patched tree
  nova-bare    Nova's own tests (releases.NOVA_TESTS + the test modules the
               series adds or changes), series applied, nova-imgmeta NOT
               installed
  freeze       pip install nova-imgmeta without constraints must add only
               nova-imgmeta (upgrade nothing)
  genconfig    Nova's sample config plus --namespace nova_imgmeta
  nova         the same Nova tests with nova-imgmeta installed
  integration  tests/nova/integration (real entry points, test policies)
  e2e          tests/nova/functional/test_lineage_e2e.py: passes on the
               patched tree, is exactly an expected failure on the
               pristine tree
  refusal      tests/nova/functional/test_refusal_rest.py, patched tree:
               failing and refusing policies through the REST API
               (createImage, createBackup, shelve, volume-backed createImage)

Environment: NOVA_TIER_CACHE, NOVA_SDIST_CACHE, NOVA_VERSION (another
release of the line), NOVA_TIER_STAGES, NOVA_TIER_CONCURRENCY (stestr
workers, 2), NOVA_TIER_PY27 / NOVA_TIER_PY38 (interpreters),
NOVA_TIER_PACKAGE (what to install as nova-imgmeta). tools/nova-tier/README.md
says more.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import env as tier_env
import lineage_table
import releases
import testrun

HERE = tier_env.HERE
REPO = tier_env.REPO
sys.path.insert(0, REPO)
from nova_imgmeta import patching  # noqa: E402

STAGES = ('build', 'nova-bare', 'freeze', 'genconfig', 'nova',
          'integration', 'e2e', 'refusal')
E2E_DIR = os.path.join(REPO, 'tests', 'nova', 'functional')


class Report(object):
    """Stage lines, timings and the verdict."""

    def __init__(self, env):
        self.env = env
        self.lines = []
        self.timings = {}
        self.failed = False
        self.start = time.time()

    def stage(self, name, ok, text, started):
        seconds = int(time.time() - started)
        self.timings[name] = seconds
        self.lines.append('%-11s %-6s %s  [%d s]' % (
            name, 'ok' if ok else 'FAILED', text, seconds))
        self.failed = self.failed or not ok
        self.env.log('%s: %s' % (name, 'ok' if ok else 'FAILED'))

    def close(self):
        env = self.env
        total = int(time.time() - self.start)
        print('\n======== real-Nova tier: %s (nova %s, Python %s) ========'
              % (env.series, env.version, env.line.python))
        for line in self.lines:
            print(line)
        print('total %d s (logs: %s, results: %s)'
              % (total, env.logs, env.results))
        with open(os.path.join(env.results, 'summary.json'), 'w') as handle:
            json.dump({'series': env.series, 'nova': env.version,
                       'timings': self.timings, 'total': total,
                       'ok': not self.failed}, handle, indent=2)
        print('RESULT (%s): %s' % (env.series, 'FAILED' if self.failed
                                   else 'OK'))
        return 1 if self.failed else 0


def series_test_modules(env):
    """Test modules the series applied to this release adds or changes."""
    series = patching.load_series(patching.select_series(env.version))
    return sorted('.'.join(path[:-3].split('/'))
                  for path in series.touched_files()
                  if path.startswith('nova/tests/') and
                  os.path.basename(path).startswith('test_') and
                  path.endswith('.py'))


def build(env, report):
    started = time.time()
    try:
        env.ensure_bootstrap()
        env.ensure_sdist()
        env.log('trees: pristine; patched by nova-imgmeta patch')
        env.build_trees()
        env.ensure_venv()
        env.install_nova()
    except tier_env.TierError as exc:
        print(exc)
        report.stage('build', False, 'environment build failed', started)
        return False
    report.stage('build', True, 'nova %s, series applied by nova-imgmeta '
                 'patch, venv %s' % (env.version, env.venv), started)
    return True


def nova_tests(env, report, stage, with_plugin):
    started = time.time()
    modules = list(env.line.nova_tests)
    modules += [m for m in series_test_modules(env) if m not in modules]
    if with_plugin and os.environ.get('NOVA_TIER_FULL') != '1':
        modules = [narrowed for module in modules for narrowed in
                   releases.WITH_PLUGIN_ONLY.get(module, (module,))]
    env.log('%s: Nova\'s tests, series applied, nova-imgmeta %s: %s' % (
        stage, 'installed' if with_plugin else 'NOT installed',
        ' '.join(modules)))
    if not with_plugin:
        env.uninstall_plugins()
    outcome = testrun.Outcome(stage)
    for number, (directory, group) in enumerate(
            testrun.module_groups(modules).items()):
        filters = ['^%s\\.' % module.replace('.', '\\.') for module in group]
        testrun.stestr(env, outcome, '%s-%d' % (stage, number), env.patched,
                       directory, './', filters)
    for text in outcome.summary:
        print(text)
    report.stage(stage, outcome.passed(), outcome.line(), started)


def freeze(env, report):
    started = time.time()
    env.log('freeze: pip install nova-imgmeta (no constraints) must add '
            'only nova-imgmeta')
    try:
        lines = env.install_plugin(check_freeze=True)
    except tier_env.TierError as exc:
        print(exc)
        report.stage('freeze', False, str(exc).splitlines()[0], started)
        return
    report.stage('freeze', True, lines[0], started)


def genconfig(env, report):
    started = time.time()
    try:
        text = env.genconfig()
    except tier_env.TierError as exc:
        print(exc)
        report.stage('genconfig', False, 'oslo-config-generator', started)
        return
    report.stage('genconfig', True, text, started)


def integration(env, report):
    started = time.time()
    env.install_test_plugin()
    path = os.path.join(REPO, 'tests', 'nova', 'integration')
    # E2E_DIR: tests/nova/functional/nova_lines.py, the release-line facts
    outcome = testrun.stestr(env, testrun.Outcome('integration'),
                             'integration',
                             os.path.join(env.runs, 'integration'), path,
                             path, extra_env={'PYTHONPATH': E2E_DIR})
    print(outcome.summary[0])
    report.stage('integration', outcome.passed(), outcome.line(), started)


def lineage_runs(env, name, module, test_dir, extra_path=(), filters=()):
    """The scenario on the patched, then the pristine tree; the JSONs."""
    outcomes = {}
    for tree in ('patched', 'pristine'):
        results = os.path.join(env.results, 'lineage-%s.json' % tree)
        if os.path.exists(results):
            os.remove(results)
        root = env.patched if tree == 'patched' else env.pristine
        extra = {'NOVA_EXPECT_TREE': root, 'LINEAGE_RESULTS_JSON': results,
                 'PYTHONPATH': os.pathsep.join(list(extra_path))}
        if tree == 'pristine':
            extra['UNPATCHED'] = '1'
            extra['PYTHONPATH'] = os.pathsep.join([root] + list(extra_path))
        env.log('%s: the scenario on the %s tree' % (name, tree.upper()))
        label = '%s-%s' % (name, tree)
        workdir = os.path.join(env.runs, label)
        if module:
            outcomes[tree] = testrun.module_run(
                env, testrun.Outcome(label), label, module, workdir, extra)
        else:
            outcomes[tree] = testrun.stestr(
                env, testrun.Outcome(label), label, workdir, test_dir,
                test_dir, filters=filters, extra_env=extra)
    return outcomes


def e2e(env, report):
    started = time.time()
    outcomes = lineage_runs(env, 'e2e', None, E2E_DIR,
                            filters=[r'^test_lineage_e2e\.'])
    patched_ok = outcomes['patched'].passed()
    pristine_ok = outcomes['pristine'].passed(expect_xfail=True)
    pristine = lineage_table.load(os.path.join(env.results,
                                               'lineage-pristine.json'))
    patched = lineage_table.load(os.path.join(env.results,
                                              'lineage-patched.json'))
    if pristine and patched:
        print('\n'.join(lineage_table.render(pristine, patched)))
    for outcome in outcomes.values():
        if not outcome.tests or outcome.counts['fail']:
            print(outcome.summary[0])
    report.stage('e2e', patched_ok and pristine_ok,
                 'patched: %s; pristine (must be exactly an expected '
                 'failure): %s' % (outcomes['patched'].line(),
                                   outcomes['pristine'].line()), started)


def refusal(env, report):
    started = time.time()
    env.install_test_plugin()
    outcome = testrun.stestr(
        env, testrun.Outcome('refusal'), 'refusal',
        os.path.join(env.runs, 'refusal'), E2E_DIR, E2E_DIR,
        filters=[r'^test_refusal_rest\.'],
        extra_env={'NOVA_EXPECT_TREE': env.patched})
    print(outcome.summary[0])
    report.stage('refusal', outcome.passed(), outcome.line(), started)


def cmd_run(env, stages):
    report = Report(env)
    if 'build' in stages:
        if not build(env, report):
            return report.close()
    elif not os.path.exists(env.python):
        raise SystemExit('no venv at %s: run the build stage' % env.venv)
    if 'nova-bare' in stages:
        nova_tests(env, report, 'nova-bare', with_plugin=False)
    if 'freeze' in stages:
        freeze(env, report)
    else:
        env.install_plugin(check_freeze=False)
    if 'genconfig' in stages:
        genconfig(env, report)
    if 'nova' in stages:
        nova_tests(env, report, 'nova', with_plugin=True)
    if 'integration' in stages:
        integration(env, report)
    if 'e2e' in stages:
        e2e(env, report)
    if 'refusal' in stages:
        refusal(env, report)
    return report.close()


def cmd_bench(env, bench_args):
    """The real-Nova benchmark: the patched against the pristine tree."""
    report = Report(env)
    if not build(env, report):
        return 1
    env.install_plugin(check_freeze=False)
    env.log('bench: %s' % ' '.join(bench_args or ['(defaults)']))
    return subprocess.call(
        [env.python, os.path.join(REPO, 'benchmarks', 'bench_nova_hooks.py'),
         '--pristine', env.pristine, '--patched', env.patched] +
        list(bench_args), env=dict(os.environ, **env.venv_env()))


def cmd_demo(env, as_json):
    started = time.time()
    print('==> nova-imgmeta demo: Nova %s %s' % (env.series, env.version))
    print('    NOVA_TIER_CACHE=%s' % env.cache)
    print('==> [1/3] the environment (first run: a few minutes; then '
          'seconds)')
    report = Report(env)
    if not build(env, report):
        return 1
    try:
        print('    freeze check: ' + env.install_plugin(check_freeze=True)[0])
    except tier_env.TierError as exc:
        print(exc)
        return 1
    print('==> [2/3] the scenario on the patched tree, then on the pristine '
          'one')
    outcomes = lineage_runs(env, 'demo', 'demo_lineage', None,
                            extra_path=[HERE, E2E_DIR])
    pristine = lineage_table.load(os.path.join(env.results,
                                               'lineage-pristine.json'))
    patched = lineage_table.load(os.path.join(env.results,
                                              'lineage-patched.json'))
    print('==> [3/3] results\n')
    if not pristine or not patched:
        for outcome in outcomes.values():
            print(outcome.summary[0])
        print('demo: the scenario wrote no results (logs: %s)' % env.logs)
        return 1
    print('\n'.join(lineage_table.render(
        pristine, patched, patched.get('image_a_properties'),
        patched.get('non_inheritable_image_properties'))))
    ok, lines = lineage_table.verdict(pristine, patched,
                                      patched.get('never_inherit', ()))
    ok = ok and outcomes['patched'].passed() and \
        outcomes['pristine'].passed(expect_xfail=True)
    print('\n' + '\n'.join(lines))
    if as_json:
        print(json.dumps({'pristine': pristine, 'patched': patched},
                         indent=2, sort_keys=True))
    print('demo %s in %d s; results and logs: NOVA_TIER_CACHE/%s/{results,'
          'logs}' % ('done' if ok else 'FAILED', time.time() - started,
                     os.path.basename(env.root)))
    return 0 if ok else 1


def _series(name):
    return name[len('nova-'):] if name.startswith('nova-') else name


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='The real-Nova tier (tools/nova-tier/README.md).')
    sub = parser.add_subparsers(dest='command')
    run = sub.add_parser('run', help='the whole tier for one series')
    # also as its tox env name, nova-SERIES
    run.add_argument('series', type=_series, choices=list(releases.LINES))
    run.add_argument('--stages', default=os.environ.get('NOVA_TIER_STAGES'),
                     help='comma-separated subset of: %s' % ', '.join(STAGES))
    build_parser = sub.add_parser('build', help='the environment only')
    build_parser.add_argument('series', type=_series,
                              choices=list(releases.LINES))
    demo = sub.add_parser('demo', help='the demo scenario, side by side')
    demo.add_argument('series', nargs='?', default='queens',
                      choices=list(releases.LINES))
    demo.add_argument('--json', action='store_true')
    bench = sub.add_parser(
        'bench', help='benchmarks/bench_nova_hooks.py in the environment '
        '(NOVA_TIER_PYTHON=3.6.15 for another interpreter)')
    bench.add_argument('series', type=_series, choices=list(releases.LINES))
    bench.add_argument('bench_args', nargs=argparse.REMAINDER,
                       help='passed on, e.g. -- --calls 500 --rounds 40')
    args = parser.parse_args(argv)
    if not args.command:
        parser.error('give a command: run, build, demo or bench')
    env = tier_env.Env(releases.line(args.series))
    for path in (env.logs, env.results, env.runs):
        if not os.path.isdir(path):
            os.makedirs(path)
    if args.command == 'demo':
        return cmd_demo(env, args.json)
    if args.command == 'bench':
        return cmd_bench(env, [arg for arg in args.bench_args
                               if arg != '--'])
    if args.command == 'build':
        report = Report(env)
        build(env, report)
        return report.close()
    stages = STAGES
    if args.stages:
        stages = [stage for stage in args.stages.replace(',', ' ').split()]
        unknown = sorted(set(stages) - set(STAGES))
        if unknown:
            parser.error('unknown stages %s (known: %s)'
                         % (', '.join(unknown), ', '.join(STAGES)))
    return cmd_run(env, stages)


if __name__ == '__main__':
    sys.exit(main())
