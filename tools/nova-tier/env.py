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

"""The real-Nova tier's environment: sdist, trees, virtualenv, installs.

Everything big lives under $NOVA_TIER_CACHE (default ~/.cache/nova-imgmeta),
never in the checkout:

    sdists/               Nova sdists ($NOVA_SDIST_CACHE overrides; shared
                          with tools/check-patch-sdists.sh and the tests)
    bootstrap/            Python 3 venv: virtualenv<20.22 (the last that
                          creates Python 2.7 environments) and what
                          nova-imgmeta's own command needs
    nova-SERIES/venv      Nova's requirements, pinned; reused while its
                          inputs (stamp) are unchanged
    nova-SERIES/pristine  the sdist as released
    nova-SERIES/patched   the sdist after ``nova-imgmeta patch apply``
    nova-SERIES/logs, results, runs
"""

import fnmatch
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import textwrap
import time

import releases

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tools', 'packaging'))

import nova_sdists  # noqa: E402  (the one Nova sdist downloader)

__all__ = ['Env', 'TierError', 'log', 'read_text', 'write_text']

# The environment's inputs besides the files: bump to rebuild every venv.
BUILDER = 5
PIP = ['--disable-pip-version-check', '--use-deprecated=legacy-resolver']


class TierError(Exception):
    """A step of the tier failed; the message says which and where."""


def log(series, message):
    print('[nova-tier %s %s] %s' % (series, time.strftime('%H:%M:%S'),
                                    message))
    sys.stdout.flush()


def _sha(*paths):
    digest = hashlib.sha256()
    for path in paths:
        with open(path, 'rb') as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def find_python(version):
    """The interpreter for a pyenv version such as '2.7.18'.

    $NOVA_TIER_PY27 (for 2.7.x) and the like override; else
    tools/find-python (pyenv's exact version, else pythonX.Y on PATH).
    """
    major_minor = '.'.join(version.split('.')[:2])
    variable = 'NOVA_TIER_PY' + major_minor.replace('.', '')
    if os.environ.get(variable):
        return os.environ[variable]
    proc = subprocess.run([os.path.join(REPO, 'tools', 'find-python'),
                           version, major_minor], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if proc.returncode == 0 and proc.stdout.strip():
        return proc.stdout.strip()
    raise TierError('%s; or set %s' % (proc.stderr.strip(), variable))


class PipProgress(object):
    """Condense pip's output into a progress line now and then."""

    EVERY = 15          # seconds between two lines at most

    def __init__(self, series, what):
        self.series = series
        self.what = what
        self.start = self.last = time.time()
        self.collected = 0
        self.current = ''

    def feed(self, line):
        match = re.match(r'\s*Collecting (\S+)', line)
        if match:
            self.collected += 1
            self.current = match.group(1)
            if self.collected % 10 == 0 or \
                    time.time() - self.last > self.EVERY:
                self._say('%d packages resolved (now %s)'
                          % (self.collected, self.current))
            return
        match = re.match(r'\s*Building wheel for (\S+) .*started', line)
        if match:
            self._say('building %s' % match.group(1))
            return
        match = re.match(r'\s*Installing collected packages: (.*)', line)
        if match:
            count = len(match.group(1).split(','))
            self._say('installing %d packages' % count)

    def done(self):
        self._say('done')

    def _say(self, text):
        self.last = time.time()
        print('    %s: %s [%d s]' % (self.what, text,
                                     self.last - self.start))
        sys.stdout.flush()


class Env(object):
    """One series' environment and the commands run in it."""

    def __init__(self, line, cache=None):
        # NOVA_TIER_PYTHON: another interpreter for the line (for instance
        # Queens on 3.6.15 for the benchmarks), in an environment of its own.
        python = os.environ.get('NOVA_TIER_PYTHON')
        name = 'nova-' + line.series
        if python and python != line.python:
            line = line._replace(python=python)
            name += '-py' + python
        self.line = line
        self.series = line.series
        self.version = os.environ.get('NOVA_VERSION') or line.nova
        self.cache = cache or os.environ.get('NOVA_TIER_CACHE') or \
            os.path.join(os.path.expanduser('~'), '.cache', 'nova-imgmeta')
        self.sdists = os.environ.get('NOVA_SDIST_CACHE') or \
            os.path.join(self.cache, 'sdists')
        self.bootstrap = os.path.join(self.cache, 'bootstrap')
        self.root = os.path.join(self.cache, name)
        self.venv = os.path.join(self.root, 'venv')
        self.pristine = os.path.join(self.root, 'pristine',
                                     'nova-' + self.version)
        self.patched = os.path.join(self.root, 'patched',
                                    'nova-' + self.version)
        self.logs = os.path.join(self.root, 'logs')
        self.results = os.path.join(self.root, 'results')
        self.runs = os.path.join(self.root, 'runs')
        self.constraints = os.path.join(REPO, 'tests', 'nova', 'constraints',
                                        line.constraints)
        self.sdist = os.path.join(self.sdists,
                                  'nova-%s.tar.gz' % self.version)

    def log(self, message):
        log(self.series, message)

    # ------------------------------------------------------------ commands

    def run(self, cmd, log_name=None, env=None, cwd=None, feed=None,
            check=True, stdin=None):
        """Run cmd; its output goes to logs/LOG_NAME.log (or is returned).

        Returns (returncode, output). With check, a failure raises
        TierError quoting the end of the output.
        """
        if not os.path.isdir(self.logs):
            os.makedirs(self.logs)
        full_env = dict(os.environ, **(env or {}))
        full_env.setdefault('PYTHONUNBUFFERED', '1')
        proc = subprocess.Popen(cmd, cwd=cwd, env=full_env,
                                stdin=subprocess.PIPE if stdin else None,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        if stdin:
            proc.stdin.write(stdin)
            proc.stdin.close()
        lines = []
        for raw in iter(proc.stdout.readline, b''):
            line = raw.decode('utf-8', 'replace')
            lines.append(line)
            if feed:
                feed(line)
        proc.wait()
        output = ''.join(lines)
        if log_name:
            with open(os.path.join(self.logs, log_name + '.log'), 'w') as f:
                f.write('$ %s\n%s' % (' '.join(cmd), output))
        if check and proc.returncode != 0:
            tail = '\n'.join(line for line in output.splitlines()
                             if 'is ignored' not in line)[-3000:]
            raise TierError('%s failed (exit %d)%s:\n%s' % (
                ' '.join(cmd[:4]), proc.returncode,
                ', log %s.log' % os.path.join(self.logs, log_name)
                if log_name else '', tail))
        return proc.returncode, output

    @property
    def python(self):
        return os.path.join(self.venv, 'bin', 'python')

    def venv_env(self, **extra):
        """Environment for commands in the venv (stestr runs $PYTHON)."""
        env = {'PATH': os.path.join(self.venv, 'bin') + os.pathsep +
               os.environ.get('PATH', ''),
               'VIRTUAL_ENV': self.venv, 'PYTHON': self.python,
               'LANGUAGE': 'en_US', 'LC_ALL': 'C.UTF-8', 'LANG': 'C.UTF-8',
               'OS_STDOUT_CAPTURE': '1', 'OS_STDERR_CAPTURE': '1',
               'OS_TEST_TIMEOUT': os.environ.get('OS_TEST_TIMEOUT', '160'),
               'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONPATH': ''}
        env.update(extra)
        return env

    def nova_imgmeta(self, *args):
        """Run this checkout's ``nova-imgmeta`` command (exit code, output).

        It runs from the checkout with the bootstrap venv's Python, which
        holds nova-imgmeta's requirements: the tier patches Nova with the
        product's own command, as an operator would.
        """
        return self.run([os.path.join(self.bootstrap, 'bin', 'python'), '-m',
                         'nova_imgmeta.cli.main'] + list(args),
                        env={'PYTHONPATH': REPO}, check=False)

    # --------------------------------------------------------------- build

    def _upgrade_old_pip(self):
        """Python 3.6's venv seeds pip 18.1, older than the options of PIP.

        pip 20.3 is the first with --use-deprecated; 21.3.1 the last that
        runs on 3.6. Newer interpreters seed a newer pip, left alone.
        """
        _code, out = self.run([self.python, '-c',
                               'import pip; print(pip.__version__)'])
        version = tuple(int(part) for part in
                        re.findall(r'\d+', out.strip().splitlines()[-1])[:2])
        if version < (20, 3):
            self.log('upgrading pip %s of the venv to 21.3.1'
                     % out.strip().splitlines()[-1])
            self.run([self.python, '-m', 'pip', 'install',
                      '--disable-pip-version-check', 'pip==21.3.1'],
                     log_name='venv-pip')

    def ensure_bootstrap(self):
        stamp_file = os.path.join(self.bootstrap, '.nova-tier-stamp')
        stamp = 'builder=%d requirements=%s' % (
            BUILDER, _sha(os.path.join(REPO, 'requirements.txt')))
        if read_text(stamp_file) == stamp:
            return
        self.log('bootstrap venv: virtualenv<20.22, wheel, nova-imgmeta\'s '
                 'requirements')
        shutil.rmtree(self.bootstrap, ignore_errors=True)
        self.run([sys.executable, '-m', 'venv', self.bootstrap],
                 log_name='bootstrap-venv')
        self.run([os.path.join(self.bootstrap, 'bin', 'python'), '-m', 'pip',
                  'install', '--disable-pip-version-check',
                  'virtualenv<20.22', 'wheel', '-r',
                  os.path.join(REPO, 'requirements.txt')],
                 log_name='bootstrap-pip',
                 feed=PipProgress(self.series, 'bootstrap').feed)
        write_text(stamp_file, stamp)

    def ensure_sdist(self):
        try:
            found = nova_sdists.fetch(self.version, cache=self.sdists,
                                      log=self.log)
        except nova_sdists.SdistError as exc:
            raise TierError(str(exc))
        if found != self.sdist:
            raise TierError('the sdist is %s, expected %s'
                            % (found, self.sdist))

    def _unpack(self, tree):
        parent = os.path.dirname(tree)
        shutil.rmtree(parent, ignore_errors=True)
        os.makedirs(parent)
        with tarfile.open(self.sdist) as tar:
            tar.extractall(parent)
        if not os.path.isfile(os.path.join(tree, 'setup.cfg')):
            raise TierError('%s did not unpack into %s' % (self.sdist, tree))

    def build_trees(self):
        """pristine/ as released, patched/ by ``nova-imgmeta patch``."""
        if not os.path.isfile(os.path.join(self.pristine, 'setup.cfg')):
            self._unpack(self.pristine)
        self._unpack(self.patched)
        code, out = self.nova_imgmeta('patch', 'apply', '--nova-tree',
                                      self.patched)
        print(_indent(self.short(out)))
        if code != 0:
            raise TierError('nova-imgmeta patch apply failed (exit %d)'
                            % code)
        for tree, expected in ((self.patched, 0), (self.pristine, 1)):
            code, out = self.nova_imgmeta('patch', 'status', '--nova-tree',
                                          tree)
            print(_indent(self.short(out)))
            if code != expected:
                raise TierError('nova-imgmeta patch status answered %d for '
                                '%s, expected %d' % (code, tree, expected))

    def short(self, text):
        """Text with this env's directory written as NOVA_TIER_CACHE/..."""
        return text.replace(self.cache + os.sep, 'NOVA_TIER_CACHE/')

    def _filtered_test_requirements(self):
        kept = []
        with open(os.path.join(self.patched, 'test-requirements.txt')) as f:
            for line in f:
                match = re.match(r'\s*([A-Za-z0-9_.\-]+)', line)
                if match and any(fnmatch.fnmatch(match.group(1).lower(),
                                                 pattern) for pattern in
                                 releases.DROPPED_TEST_REQUIREMENTS):
                    continue
                kept.append(line)
        path = os.path.join(self.root, 'test-requirements.filtered.txt')
        write_text(path, ''.join(kept))
        return path

    def ensure_venv(self):
        test_requirements = self._filtered_test_requirements()
        stamp = json.dumps({
            'builder': BUILDER, 'nova': self.version,
            'python': self.line.python,
            'inputs': _sha(self.constraints, test_requirements,
                           os.path.join(self.patched, 'requirements.txt')),
            'extra': list(self.line.extra_packages)}, sort_keys=True)
        stamp_file = os.path.join(self.venv, '.nova-tier-stamp')
        if os.path.exists(self.python) and read_text(stamp_file) == stamp:
            self.log('reusing the venv (its inputs are unchanged)')
            return False
        python = find_python(self.line.python)
        self.log('creating the Python %s venv' % self.line.python)
        shutil.rmtree(self.venv, ignore_errors=True)
        if self.line.python.startswith('2.'):
            self.run([os.path.join(self.bootstrap, 'bin', 'virtualenv'),
                      '-q', '-p', python, self.venv], log_name='venv')
        else:
            self.run([python, '-m', 'venv', self.venv], log_name='venv')
            self._upgrade_old_pip()
        self.log('Nova %s\'s requirements and test requirements, pinned by '
                 '%s' % (self.version, self.line.constraints))
        progress = PipProgress(self.series, 'pip')
        self.run([self.python, '-m', 'pip', 'install'] + PIP +
                 ['-c', self.constraints,
                  '-r', os.path.join(self.patched, 'requirements.txt'),
                  '-r', test_requirements] + list(self.line.extra_packages),
                 log_name='pip-requirements', feed=progress.feed)
        progress.done()
        self.run([self.python, '-c',
                  'import oslo_config, stestr, subunit, testtools'],
                 log_name='venv-check')
        write_text(stamp_file, stamp)
        return True

    def install_nova(self):
        self.log('installing nova (editable) from the patched tree')
        self.run([self.python, '-m', 'pip', 'install'] + PIP +
                 ['--no-deps', '-e', self.patched], log_name='pip-nova')
        _code, out = self.run(
            [self.python, '-c', 'import os, nova; '
             'print(os.path.realpath(os.path.dirname(nova.__file__)))'],
            env={'PYTHONPATH': ''})
        where = out.strip().splitlines()[-1]
        if not where.startswith(os.path.realpath(self.patched) + os.sep):
            raise TierError('nova is imported from %s, not from the patched '
                            'tree %s' % (where, self.patched))

    def uninstall_plugins(self):
        self.run([self.python, '-m', 'pip', 'uninstall', '-y',
                  'nova-imgmeta', 'nova-imgmeta-itplugins'],
                 log_name='pip-uninstall', check=False)

    def freeze(self):
        _code, out = self.run([self.python, '-m', 'pip', 'freeze', '--all',
                               '--disable-pip-version-check'])
        return set(line.strip() for line in out.splitlines()
                   if line.strip() and 'is ignored' not in line and
                   not line.startswith('WARNING'))

    def package_copy(self):
        """What to pip install as nova-imgmeta: a clean copy of the checkout.

        pip 20.3 (the last for Python 2.7) copies a source directory before
        building it, virtualenvs included; the copy keeps .git for pbr's
        version. NOVA_TIER_PACKAGE names something else to install.
        """
        if os.environ.get('NOVA_TIER_PACKAGE'):
            return os.environ['NOVA_TIER_PACKAGE']
        target = os.path.join(self.root, 'nova-imgmeta-src')
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(REPO, target, symlinks=True,
                        ignore=shutil.ignore_patterns(
                            '.venv*', '.tox', '.ci-venv', 'build', 'dist',
                            '.eggs', '*.egg-info', '__pycache__', '*.pyc',
                            '.benchmarks', '.pytest_cache', '.cache',
                            'work-nova'))
        return target

    def install_plugin(self, check_freeze=True):
        """pip install nova-imgmeta; with check_freeze, it must add only it.

        Returns the lines of the freeze check's verdict.
        """
        self.uninstall_plugins()
        before = self.freeze() if check_freeze else set()
        package = self.package_copy()
        _code, out = self.run([self.python, '-m', 'pip', 'install',
                               '--disable-pip-version-check', package],
                              log_name='pip-install-nova-imgmeta')
        if not check_freeze:
            return []
        after = self.freeze()
        ours = re.compile(r'^nova[-_]imgmeta([=@ ]|$)', re.IGNORECASE)
        added = sorted(after - before)
        removed = sorted(before - after)
        unexpected = [('+' + item) for item in added if not ours.match(item)]
        unexpected += ['-' + item for item in removed]
        if unexpected or len(added) != 1:
            raise TierError(
                'installing nova-imgmeta changed other packages (or did not '
                'add itself) in the %s venv:\n  %s'
                % (self.series, '\n  '.join(unexpected or ['(nothing '
                                                           'added)'])))
        name = added[0].split(' @ ')[0]      # drop pip's file:// URL
        return ['only %s added, nothing else changed (%d packages)'
                % (name, len(before))]

    def install_test_plugin(self):
        self.run([self.python, '-m', 'pip', 'install'] + PIP +
                 ['--no-deps', os.path.join(REPO, 'tests', 'nova',
                                            'integration', 'testplugin')],
                 log_name='pip-testplugin')

    def genconfig(self):
        """nova.conf from Nova's generator config plus our namespace."""
        sample = os.path.join(self.root, 'nova.conf.sample')
        self.run([os.path.join(self.venv, 'bin', 'oslo-config-generator'),
                  '--config-file', os.path.join(
                      self.patched, 'etc', 'nova',
                      'nova-config-generator.conf'),
                  '--namespace', 'nova_imgmeta', '--output-file', sample],
                 log_name='genconfig')
        sections, options, section = 0, 0, None
        with open(sample) as handle:
            for line in handle:
                if line.startswith('['):
                    sections += 1
                    section = line.strip()
                elif section == '[nova_imgmeta]' and \
                        re.match(r'^#[a-z_]+ =', line):
                    options += 1
        if not options:
            raise TierError('%s has no [nova_imgmeta] options' % sample)
        return '%s has [nova_imgmeta] with %d options, %d sections in all' \
            % (sample, options, sections)


def read_text(path):
    """The file's text, or None when it cannot be read (a stamp not
    written yet). The cloud tier's build uses it too.
    """
    try:
        with open(path) as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def write_text(path, text):
    """Write text to path, making its directory first."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as handle:
        handle.write(text)


def _indent(text):
    """Indented by 4 and wrapped at 79 columns."""
    return '\n'.join(textwrap.fill(line, 79, initial_indent='    ',
                                   subsequent_indent='      ')
                     for line in text.rstrip().splitlines())
