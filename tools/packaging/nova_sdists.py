# Copyright nova-imgmeta contributors.
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
"""The one downloader of Nova sdists: from PyPI, into a shared cache.

Every user of a Nova sdist gets it here: the series builder
(series_build.py, tools/regen), the zero-fuzz check of every release
(tools/check-patch-tags.py --pypi, tools/check-patch-sdists.sh), the
real-Nova tier (tools/nova-tier/env.py) and the unit tests on real trees
(tests/unit/realtree.py, which run on Python 2.7 too: this module does).
The cloud tier gets the Glance sdist it reads a paste file from here too
(``fetch(version, project='glance')``).

The cache is ``$NOVA_SDIST_CACHE`` (default
``~/.cache/nova-imgmeta/sdists``): ``nova-VERSION.tar.gz``, downloaded
once, by tools/nova-tier/pypi_sdist.py: the file from the index's simple
API (sha256 checked), written to a temporary file and renamed into place,
so that concurrent users never see half a file, and no sdist metadata is
built (no one setuptools reads every Nova sdist). It and ``pip index``
run on the Python of a small virtualenv of the cache (``.pip-venv``, made
once with the Python 3 that tools/find-python finds), so that Python
2.7 callers use them too.
The list of versions comes from PyPI (``pip index versions nova``), so a
new point release is picked up without an edit; nova_imgmeta/patches/MAP
says which series serves which.
"""

from __future__ import print_function

import errno
import os
import re
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402

__all__ = ['SdistError', 'NoSdist', 'default_cache', 'pip_python',
           'pypi_versions', 'newest_by_series', 'fetch', 'fetch_all',
           'extract']

FIND_PYTHON = os.path.join(TOP, 'tools', 'find-python')
PYPI_SDIST = os.path.join(TOP, 'tools', 'nova-tier', 'pypi_sdist.py')
PIP_VENV = '.pip-venv'
# What the pip virtualenv holds (the check imports them, pip aside).
PIP_VENV_PACKAGES = ['pbr', 'setuptools', 'wheel']

# This machine's pip configuration may name index directories that do not
# exist: pip says so once per request. That is noise, not an error.
_NOISE = re.compile(r"^WARNING: (Location '.*' is ignored|"
                    r"pip index is currently an experimental command)|"
                    r"^It may be removed|is ignored: it is neither a file")


class SdistError(Exception):
    """PyPI or the cache could not give us an sdist; the message says why."""


class NoSdist(SdistError):
    """PyPI lists the version but serves no sdist of it (29.0.0: a wheel)."""


def default_cache():
    return os.environ.get('NOVA_SDIST_CACHE') or os.path.join(
        os.path.expanduser('~'), '.cache', 'nova-imgmeta', 'sdists')


def _run(cmd, cwd=None):
    """(exit code, stdout, stderr without pip's noise) of cmd."""
    # Not a tox env's PIP_CONSTRAINT (the py27 env pins Queens' libraries):
    # it would also pin the tools pip prepares an sdist with.
    env = dict((key, value) for key, value in os.environ.items()
               if key not in ('PIP_CONSTRAINT', 'PYTHONPATH'))
    try:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except OSError as exc:
        return 127, '', '%s: %s' % (cmd[0], exc)
    out, err = proc.communicate()
    out = out.decode('utf-8', 'replace')
    err = '\n'.join(line for line in
                    err.decode('utf-8', 'replace').splitlines()
                    if not _NOISE.search(line))
    return proc.returncode, out, err


def _python3():
    """A Python 3 to make the pip virtualenv with."""
    code, out, err = _run([FIND_PYTHON, '3.11', '3'])
    if code == 0 and out.strip():
        return out.strip()
    if sys.version_info[0] >= 3:
        return sys.executable
    raise SdistError('no Python 3 to download the Nova sdists with (%s); '
                     'or put the sdists into %s' % (err.strip(),
                                                    default_cache()))


def _lock(path):
    """An exclusive lock on path (a file), held until the handle closes."""
    handle = open(path, 'a')
    try:
        import fcntl
    except ImportError:   # not POSIX: no lock, as before
        return handle
    fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
    return handle


def _venv_ready(python):
    code, _out, _err = _run([python, '-c',
                             'import ' + ', '.join(PIP_VENV_PACKAGES)])
    return code == 0


def pip_python(cache=None):
    """The Python of the cache's pip virtualenv, made on first use."""
    cache = cache or default_cache()
    _makedirs(cache)
    venv = os.path.join(cache, PIP_VENV)
    python = os.path.join(venv, 'bin', 'python')
    if os.path.exists(python) and _venv_ready(python):
        return python
    with _lock(os.path.join(cache, PIP_VENV + '.lock')):
        if os.path.exists(python) and _venv_ready(python):
            return python     # another process made it meanwhile
        shutil.rmtree(venv, ignore_errors=True)
        for cmd in ([_python3(), '-m', 'venv', venv],
                    [python, '-m', 'pip', 'install', '--quiet',
                     '--disable-pip-version-check'] + PIP_VENV_PACKAGES):
            code, out, err = _run(cmd)
            if code != 0:
                shutil.rmtree(venv, ignore_errors=True)
                raise SdistError('cannot make the pip virtualenv %s (%s):'
                                 '\n%s%s' % (venv, ' '.join(cmd[:4]), out,
                                             err))
    return python


def _pip(args, cache=None, cwd=None):
    return _run([pip_python(cache), '-m', 'pip',
                 '--disable-pip-version-check', '--no-color'] + args,
                cwd=cwd)


def pypi_versions(cache=None):
    """Every release version of nova that PyPI lists, as strings."""
    code, out, err = _pip(['index', 'versions', 'nova',
                           '--ignore-requires-python'], cache)
    match = re.search(r'^Available versions: (.*)$', out, re.M)
    if code != 0 or not match:
        raise SdistError('cannot list the nova versions on PyPI '
                         '(pip index versions nova; give the versions or '
                         'the sdists to work offline):\n%s%s' % (out, err))
    return [v.strip() for v in match.group(1).split(',') if v.strip()]


def newest_by_series(versions, patches_dir=None):
    """{series: newest version of `versions` that MAP gives that series}.

    Every series of MAP is a key; its value is None when PyPI has no
    release of it.
    """
    newest = {}
    for first, last, name in patching.load_map(patches_dir):
        newest.setdefault(name, None)
        for text in versions:
            parsed = patching.parse_version(text)
            if parsed is None or not first <= parsed <= last:
                continue
            best = newest[name]
            if best is None or parsed > patching.parse_version(best):
                newest[name] = text
    return newest


def _makedirs(path):
    try:
        os.makedirs(path)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise


def _say(text):
    sys.stderr.write(text + '\n')
    sys.stderr.flush()


def _download(project, version, cache):
    """(exit status, stdout, stderr) of pypi_sdist.py, which writes
    PROJECT-VERSION.tar.gz into cache whole or not at all.
    """
    proc = subprocess.Popen([pip_python(cache), PYPI_SDIST, project, version,
                             cache], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, universal_newlines=True)
    out, err = proc.communicate()
    return proc.returncode, out, err


def fetch(version, cache=None, log=_say, project='nova'):
    """Path of PROJECT-VERSION.tar.gz in the cache, downloaded if missing.

    :param log: called with one line before a download (None: quiet).
    :param project: the PyPI project: nova, or glance (the cloud tier reads
        Glance's paste file from its sdist).
    :raises NoSdist: PyPI has no sdist of that version.
    :raises SdistError: it could not be had, saying why.
    """
    cache = cache or default_cache()
    name = '%s-%s.tar.gz' % (project, version)
    target = os.path.join(cache, name)
    if os.path.isfile(target) and tarfile.is_tarfile(target):
        return target
    _makedirs(cache)
    wanted = '%s==%s' % (project, version)
    if log:
        log('downloading %s from PyPI into %s' % (wanted, cache))
    # The file itself from the index's simple API (tools/nova-tier/
    # pypi_sdist.py): pip download would prepare the sdist's metadata, and
    # no one setuptools reads every Nova sdist (34.0.0 needs 77 or later,
    # which refuses 21.0.0's extras_require). It runs on the pip
    # virtualenv's Python 3, so that Python 2.7 callers use it too.
    code, out, err = _download(project, version, cache)
    if code != 0:
        if 'lists no sdist' in err:
            raise NoSdist('%s: PyPI serves no sdist of it' % wanted)
        raise SdistError('cannot download %s from PyPI (put %s into %s to '
                         'work offline):\n%s%s' % (wanted, name, cache, out,
                                                   err))
    if not os.path.isfile(target):
        raise SdistError('%s: downloaded as %s, not %s' % (
            wanted, out.strip(), target))
    return target


def fetch_all(versions, cache=None, jobs=4, log=_say):
    """[path or None] of each version (None: PyPI has no sdist of it, said
    through log), downloading ``jobs`` at a time.

    :raises SdistError: for the first version that could not be had.
    """
    cache = cache or default_cache()
    pip_python(cache)     # made once, before the downloads start

    def one(version):
        try:
            return fetch(version, cache, log)
        except NoSdist as exc:
            if log:
                log('%s (a wheel only): nothing to check' % exc)
            return None

    try:
        from concurrent import futures
    except ImportError:   # Python 2.7: one at a time
        return [one(version) for version in versions]
    with futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, versions))


def extract(sdist, dest):
    """Unpack an sdist under dest; return its top directory (nova-X.Y.Z)."""
    with tarfile.open(sdist) as tar:
        tops = set(member.name.split('/', 1)[0] for member in tar)
        if len(tops) != 1:
            raise SdistError('%s: expected one top directory, found %s'
                             % (sdist, ', '.join(sorted(tops))))
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(dest, filter='data')
        else:
            tar.extractall(dest)
    return os.path.join(dest, tops.pop())
