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

"""Real Nova trees for the tests of ``nova-imgmeta patch``.

The Nova sdists come from PyPI through pip (``pip download --no-deps
--no-binary :all:``) into ``$NOVA_SDIST_CACHE`` (default
``~/.cache/nova-imgmeta/sdists``, shared with tools/check-patch-sdists.sh
and the real-Nova tier), once. Only what the series touches and what Nova
detection reads is unpacked, so that each test can afford a fresh copy.
"""

import argparse
import collections
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

import pytest

from nova_imgmeta.cli import patch as patch_cli
from nova_imgmeta import patching

__all__ = ['sdist', 'extract', 'copy_tree', 'newest_per_series',
           'snapshot', 'all_touched', 'cli', 'templates', 'make_tree',
           'tree_root', 'QUEENS']

QUEENS = '17.0.13'

# What tree_from_path and has_tests look at, beside the touched files.
DETECTION = ['PKG-INFO', 'nova/__init__.py', 'nova/tests/__init__.py',
             'nova/compute/__init__.py']


def cache_dir():
    return os.environ.get('NOVA_SDIST_CACHE') or os.path.join(
        os.path.expanduser('~'), '.cache', 'nova-imgmeta', 'sdists')


def _pip_python():
    """A Python whose pip can download the sdists.

    pip 20.3, the last for Python 2.7, fails on pip download of an sdist
    (``assert req.link is not None``) with some machines' index settings:
    Python 2 borrows the python3 on PATH (tools/run-tests and tox put one
    there).
    """
    if sys.version_info[0] >= 3:
        return sys.executable
    from distutils.spawn import find_executable
    found = find_executable('python3')
    if not found:
        raise RuntimeError('no python3 on PATH to download the Nova sdists '
                           'with; put them into %s' % cache_dir())
    return found


def sdist(version):
    """Path of nova-VERSION.tar.gz, downloaded with pip if not cached."""
    cache = cache_dir()
    path = os.path.join(cache, 'nova-%s.tar.gz' % version)
    if os.path.isfile(path):
        return path
    if not os.path.isdir(cache):
        os.makedirs(cache)
    work = tempfile.mkdtemp(prefix='nova-sdist-', dir=cache)
    try:
        # Not the py27 env's PIP_CONSTRAINT (Queens' library pins): it
        # would also pin the tools pip builds the sdist's metadata with.
        env = dict((key, value) for key, value in os.environ.items()
                   if key != 'PIP_CONSTRAINT')
        proc = subprocess.Popen(
            [_pip_python(), '-m', 'pip', 'download', '--quiet', '--no-deps',
             '--no-binary', ':all:', '--dest', work, 'nova==%s' % version],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        out, _err = proc.communicate()
        got = os.path.join(work, os.path.basename(path))
        if proc.returncode != 0 or not os.path.isfile(got):
            raise RuntimeError(
                'cannot download the nova %s sdist from PyPI (these tests '
                'need it; put nova-%s.tar.gz into %s to run offline):\n%s'
                % (version, version, cache, out.decode('utf-8', 'replace')))
        os.rename(got, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def newest_per_series():
    """[(series, version)]: the newest release MAP gives each series (its
    reference release; a series may serve several lines).
    """
    newest = collections.OrderedDict()
    for _first, last, name in patching.load_map():
        newest[name] = max(newest.get(name, last), last)
    return [(name, '.'.join(str(part) for part in last))
            for name, last in newest.items()]


def extract(version, target, paths):
    """Unpack PKG-INFO, Nova's detection files and paths into target."""
    wanted = set(DETECTION) | set(paths)
    prefix = 'nova-%s/' % version
    with tarfile.open(sdist(version)) as tar:
        for member in tar.getmembers():
            rel = member.name[len(prefix):]
            if not member.name.startswith(prefix) or rel not in wanted or \
                    not member.isfile():
                continue
            dest = os.path.join(target, rel)
            if not os.path.isdir(os.path.dirname(dest)):
                os.makedirs(os.path.dirname(dest))
            with io.open(dest, 'wb') as handle:
                shutil.copyfileobj(tar.extractfile(member), handle)
            os.chmod(dest, member.mode & 0o7777)
            _chown(dest, member.uid, member.gid)
    return target


def _chown(path, uid, gid):
    if os.geteuid() == 0:
        os.chown(path, uid, gid)


def copy_tree(source, target):
    """Copy with modes and owners (a test checks they are kept)."""
    shutil.copytree(source, target, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(source):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            if not stat.S_ISLNK(info.st_mode):
                _chown(os.path.join(target, os.path.relpath(path, source)),
                       info.st_uid, info.st_gid)
    return target


def snapshot(root):
    """Everything under root that a change could touch, for comparison."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            info = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(info.st_mode):
                found[rel] = ('link', os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                found[rel] = ('dir', stat.S_IMODE(info.st_mode))
            else:
                with io.open(path, 'rb') as handle:
                    data = handle.read()
                found[rel] = ('file', data, stat.S_IMODE(info.st_mode),
                              info.st_uid, info.st_gid)
    return found


def all_touched(version):
    """Every path the series MAP gives version touches."""
    series = patching.load_series(patching.select_series(version))
    return series.touched_files()


if sys.version_info[0] >= 3:
    _Buffer = io.StringIO
else:  # print() of a native str into io.StringIO fails on Python 2.7
    from StringIO import StringIO as _Buffer


def cli(*argv):
    """Run ``nova-imgmeta patch ARGV`` in this process: (code, out, err)."""
    parser = argparse.ArgumentParser(prog='nova-imgmeta')
    patch_cli.register(parser.add_subparsers(dest='command'))
    args = parser.parse_args(['patch'] + list(argv))
    out, err = _Buffer(), _Buffer()
    code = args.func(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


# Fixtures, imported by the test modules that use real trees.

@pytest.fixture(scope='session')
def templates(tmpdir_factory):
    """{version: pristine partial tree}, unpacked once per session."""
    base = str(tmpdir_factory.mktemp('nova-sdists'))
    found = {}
    for _series, version in newest_per_series():
        found[version] = extract(
            version, os.path.join(base, 'nova-%s' % version),
            all_touched(version))
    return found


@pytest.fixture
def make_tree(templates, tmpdir):
    def make(version=QUEENS, name=None):
        return copy_tree(templates[version], os.path.join(
            str(tmpdir), name or 'nova-' + version))
    return make


@pytest.fixture
def tree_root(make_tree):
    return make_tree()
