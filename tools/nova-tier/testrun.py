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

"""Run tests in the tier's venv with stestr and count their results.

stestr runs the tests; its subunit stream (``stestr last --subunit``) is
read by subunit_summary.py inside the venv (python-subunit lives there), which
writes the counts as JSON; the verdict is made here from stestr's exit code
and those counts.
"""

import collections
import json
import os
import shutil
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))

__all__ = ['Outcome', 'stestr', 'module_run', 'module_groups']


class Outcome(object):
    """Counts of one or more stestr runs."""

    STATUSES = ('success', 'fail', 'skip', 'xfail', 'uxsuccess')

    def __init__(self, name):
        self.name = name
        self.returncodes = []
        self.counts = collections.Counter()
        self.failed = []
        self.summary = []           # per-module lines
        self.logs = []

    def add(self, returncode, results, summary, log):
        self.returncodes.append(returncode)
        self.counts.update(results.get('total', {}))
        self.failed += results.get('failed', [])
        self.summary.append(summary.rstrip())
        self.logs.append(log)

    @property
    def tests(self):
        return sum(self.counts[status] for status in self.STATUSES)

    def passed(self, expect_xfail=False):
        """All ran and passed; or, with expect_xfail, exactly xfails."""
        if not self.tests or self.counts['fail'] or \
                self.counts['uxsuccess']:
            return False
        if expect_xfail:
            return self.counts['xfail'] >= 1 and not self.counts['success']
        return all(code == 0 for code in self.returncodes)

    def line(self):
        counts = ', '.join('%d %s' % (self.counts[status], label)
                           for status, label in (
                               ('success', 'passed'), ('fail', 'failed'),
                               ('skip', 'skipped'),
                               ('xfail', 'expected failures'),
                               ('uxsuccess', 'unexpected successes'))
                           if self.counts[status] or status in ('success',
                                                                'fail'))
        return '%d run: %s' % (self.tests, counts)


def module_groups(modules):
    """{directory: [module, ...]}: one stestr discovery per directory.

    stestr discovers once per worker; discovering all of nova/tests/unit
    imports thousands of modules, a directory only its own.
    """
    groups = collections.OrderedDict()
    for module in modules:
        # "pkg.test_mod" or "pkg.test_mod.TestClass": the directory is the
        # package of the test_* module.
        parts = module.split('.')
        last = max(i for i, part in enumerate(parts)
                   if part.startswith('test_'))
        directory = './' + '/'.join(parts[:last])
        groups.setdefault(directory, []).append(module)
    return groups


def _summarise(env, outcome, name, code, output, stream, venv_env):
    """Count the subunit stream (a pipe) with subunit_summary.py."""
    json_path = os.path.join(env.results, name + '.json')
    if os.path.exists(json_path):
        os.remove(json_path)
    summary = subprocess.run(
        [env.python, os.path.join(HERE, 'subunit_summary.py'), name,
         json_path], stdin=stream, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, env=dict(os.environ, **venv_env))
    try:
        with open(json_path) as handle:
            results = json.load(handle)
    except (IOError, ValueError):
        results = {}
    text = summary.stdout.decode('utf-8', 'replace')
    if not results.get('tests') or \
            'Failed to import test module' in output:
        # Discovery problems never reach the stream: show them.
        text += '\n' + '\n'.join(output.splitlines()[-40:])
    outcome.add(code, results, text, os.path.join(env.logs, name + '.log'))
    return outcome


def module_run(env, outcome, name, module, workdir, extra_env=None):
    """One test module run with subunit.run (no discovery, one worker)."""
    if not os.path.isdir(workdir):
        os.makedirs(workdir)
    venv_env = env.venv_env(**(extra_env or {}))
    stream_file = os.path.join(env.results, name + '.subunit')
    with open(stream_file, 'wb') as stream:
        proc = subprocess.Popen([env.python, '-m', 'subunit.run', module],
                                cwd=workdir, stdout=stream,
                                stderr=subprocess.PIPE,
                                env=dict(os.environ, **venv_env))
        _out, err = proc.communicate()
    output = err.decode('utf-8', 'replace')
    with open(os.path.join(env.logs, name + '.log'), 'w') as handle:
        handle.write(output)
    with open(stream_file, 'rb') as stream:
        return _summarise(env, outcome, name, proc.returncode, output,
                          stream, venv_env)


def stestr(env, outcome, name, workdir, test_path, top_dir, filters=(),
           extra_env=None, concurrency=None):
    """One stestr run in workdir, added to outcome."""
    concurrency = concurrency or os.environ.get('NOVA_TIER_CONCURRENCY', '2')
    if not os.path.isdir(workdir):
        os.makedirs(workdir)
    shutil.rmtree(os.path.join(workdir, '.stestr'), ignore_errors=True)
    venv_env = env.venv_env(**(extra_env or {}))
    stestr_bin = os.path.join(env.venv, 'bin', 'stestr')
    code, output = env.run(
        [stestr_bin, '--test-path', test_path, '--top-dir', top_dir, 'run',
         '--concurrency', str(concurrency)] + list(filters),
        log_name=name, env=venv_env, cwd=workdir, check=False)
    stream = subprocess.Popen([stestr_bin, 'last', '--subunit'], cwd=workdir,
                              env=dict(os.environ, **venv_env),
                              stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
    try:
        return _summarise(env, outcome, name, code, output, stream.stdout,
                          venv_env)
    finally:
        stream.stdout.close()
        stream.wait()
