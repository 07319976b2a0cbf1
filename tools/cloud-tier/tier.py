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

"""The loopback cloud tier (tox -e cloud-SERIES).

    tier.py run SERIES [--phases patched,pristine] [--no-tempest]
    tier.py bench SERIES [-- BENCH ARGS]     benchmarks/bench_cloud.py

``run`` builds the software (first time), then for each phase brings the
cloud up (``patched``: ``tools/cloud SERIES up``; ``pristine``: ``up
--pristine``), runs Tempest's tests (tempest_run.py) and tests/cloud with
pytest against it, and takes it down -- also when something fails or the
run is interrupted. It samples the cloud's memory while it runs, prints
one line per step and writes results/summary.json under
$NOVA_TIER_CACHE/cloud-SERIES/. Exit 0 only when every step passed.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ElementTree

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cloudctl  # noqa: E402
import proc  # noqa: E402
import tempest_run  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
PHASES = ('patched', 'pristine')


class MemorySampler(threading.Thread):
    """The cloud's memory (PSS of every process it started), sampled."""

    def __init__(self, layout, every=5.0):
        super(MemorySampler, self).__init__(daemon=True)
        self.layout = layout
        self.every = every
        self.peak_kib = 0
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.wait(self.every):
            kib = proc.rss_kib(proc.marked(self.layout))
            self.peak_kib = max(self.peak_kib, kib)

    def stop(self):
        self.stopping.set()
        self.join()
        return self.peak_kib // 1024


def pytest_counts(xml_path):
    try:
        root = ElementTree.parse(xml_path).getroot()
    except (IOError, OSError, ElementTree.ParseError):
        return {}
    suite = root if root.tag == 'testsuite' else root.find('testsuite')
    counts = dict((key, int(suite.get(key, 0))) for key in
                  ('tests', 'failures', 'errors', 'skipped'))
    counts['passed'] = counts['tests'] - counts['failures'] - \
        counts['errors'] - counts['skipped']
    return counts


def run_pytest(cloud, mode, results):
    xml = os.path.join(results, 'pytest-%s.xml' % mode)
    env = dict(os.environ, NOVA_IMGMETA_CLOUD_SERIES=cloud.series,
               NOVA_IMGMETA_CLOUD_STATE=cloud.layout.state)
    for name in list(env):
        if name.startswith('OS_'):
            del env[name]
    started = time.time()
    code = subprocess.call(
        [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-v',
         '--junitxml', xml, os.path.join(REPO, 'tests', 'cloud')],
        cwd=REPO, env=env)
    counts = pytest_counts(xml)
    return {'exit_code': code, 'counts': counts,
            'seconds': round(time.time() - started)}


def phase(cloud, mode, results, tempest=True):
    """One cloud's run; returns its summary."""
    summary = {'mode': mode}
    started = time.time()
    cloud.up(pristine=(mode == 'pristine'))
    summary['up_seconds'] = round(time.time() - started)
    sampler = MemorySampler(cloud.layout)
    sampler.start()
    try:
        if tempest:
            result = tempest_run.run(cloud)
            summary['tempest'] = dict(
                (key, result[key]) for key in
                ('tempest', 'python', 'exit_code', 'counts', 'skipped',
                 'failed', 'seconds'))
        summary['pytest'] = run_pytest(cloud, mode, results)
    finally:
        summary['memory_peak_mib'] = sampler.stop()
        started = time.time()
        cloud.down(quiet=True)
        summary['down_seconds'] = round(time.time() - started)
    return summary


def ok(summary):
    tempest = summary.get('tempest')
    if tempest and (tempest['exit_code'] or tempest['counts'].get(
            'failed') or not tempest['counts'].get('passed')):
        return False
    pytest = summary.get('pytest', {})
    counts = pytest.get('counts', {})
    return pytest.get('exit_code') == 0 and counts.get('passed', 0) > 0 \
        and not counts.get('failures') and not counts.get('errors')


def cmd_run(series, phases, tempest):
    cloud = cloudctl.Cloud(series)
    results = os.path.join(cloud.build.root, 'results')
    os.makedirs(results, exist_ok=True)
    started = time.time()
    report = {'series': series, 'phases': [],
              'started': time.strftime('%Y-%m-%dT%H:%M:%S')}
    build_started = time.time()
    cloud.ensure_build(tempest=tempest)
    report['build_seconds'] = round(time.time() - build_started)
    cloud.say('software ready in %d s' % report['build_seconds'])
    failed = False
    for mode in phases:
        try:
            summary = phase(cloud, mode, results, tempest)
        except Exception as exc:   # the cloud is down: report, go on
            summary = {'mode': mode, 'error': '%s: %s' % (
                type(exc).__name__, exc)}
        summary['ok'] = ok(summary) and 'error' not in summary
        failed = failed or not summary['ok']
        report['phases'].append(summary)
    report['seconds'] = round(time.time() - started)
    report['ok'] = not failed
    with open(os.path.join(results, 'summary.json'), 'w') as handle:
        json.dump(report, handle, indent=2, sort_keys=True)
    print()
    print('cloud tier (%s): software %d s'
          % (series, report['build_seconds']))
    for summary in report['phases']:
        line = '  %-8s ' % summary['mode']
        if 'error' in summary:
            line += 'ERROR: %s' % summary['error'].splitlines()[0]
        else:
            tempest = summary.get('tempest')
            if tempest:
                counts = tempest['counts']
                line += 'Tempest %s: %d passed, %d skipped, %d failed; ' % (
                    tempest['tempest'], counts.get('passed', 0),
                    counts.get('skipped', 0), counts.get('failed', 0))
            counts = summary['pytest']['counts']
            line += 'tests/cloud: %d passed, %d failed; up %d s, peak ' \
                    '%d MiB' % (counts.get('passed', 0),
                                counts.get('failures', 0) +
                                counts.get('errors', 0),
                                summary['up_seconds'],
                                summary['memory_peak_mib'])
        print(line + ('' if summary['ok'] else '  FAILED'))
    print('RESULT (cloud-%s): %s in %d s; %s' % (
        series, 'OK' if report['ok'] else 'FAILED', report['seconds'],
        os.path.join(results, 'summary.json')))
    return 0 if report['ok'] else 1


def cmd_bench(series, args):
    cloud = cloudctl.Cloud(series)
    cloud.ensure_build()
    return subprocess.call(
        [sys.executable, os.path.join(REPO, 'benchmarks', 'bench_cloud.py'),
         series] + list(args))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = parser.add_subparsers(dest='command')
    sub.required = True
    run = sub.add_parser('run')
    run.add_argument('series')
    run.add_argument('--phases', default=','.join(PHASES))
    run.add_argument('--no-tempest', action='store_true')
    bench = sub.add_parser('bench')
    bench.add_argument('series')
    bench.add_argument('args', nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    series = args.series
    if series.startswith('cloud-'):
        series = series[len('cloud-'):]
    # a TERM (CI's timeout, tox interrupted) still takes the cloud down
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit(143))
    if args.command == 'run':
        phases = [name for name in args.phases.split(',') if name]
        unknown = [name for name in phases if name not in PHASES]
        if unknown:
            parser.error('unknown phase(s) %s' % ', '.join(unknown))
        return cmd_run(series, phases, not args.no_tempest)
    bench_args = [arg for arg in args.args if arg != '--']
    return cmd_bench(series, bench_args)


if __name__ == '__main__':
    sys.exit(main())
