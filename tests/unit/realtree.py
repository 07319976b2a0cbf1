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

The Nova sdists come from PyPI through the project's one downloader,
tools/packaging/nova_sdists.py, into ``$NOVA_SDIST_CACHE`` (default
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
import sys
import tarfile

import pytest

from nova_imgmeta.cli import patch as patch_cli
from nova_imgmeta import patching
from nova_imgmeta.patching import transaction

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))), 'tools', 'packaging'))
import nova_sdists  # noqa: E402  (tools/packaging/nova_sdists.py)

__all__ = ['sdist', 'extract', 'copy_tree', 'newest_per_series',
           'snapshot', 'all_touched', 'cli', 'templates', 'make_tree',
           'tree_root', 'QUEENS']

QUEENS = '17.0.13'

# What tree_from_path and has_tests look at, beside the touched files.
DETECTION = ['PKG-INFO', 'nova/__init__.py', 'nova/tests/__init__.py',
             'nova/compute/__init__.py']


def sdist(version):
    """Path of nova-VERSION.tar.gz, downloaded if not cached (these tests
    need it: put it into the cache to run offline).
    """
    return nova_sdists.fetch(version, log=None)


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


class Killed(BaseException):
    """Stands for the process dying (kill -9, power loss)."""


def interrupted_apply(root, monkeypatch, installs=2):
    """An apply killed after its first ``installs`` renames (no roll-back):
    the tree half patched, the journal left.
    """
    calls = []
    real = os.rename

    def install(*args):
        if len(calls) == installs:
            raise Killed()
        calls.append(args)
        return real(*args)
    monkeypatch.setattr(transaction, '_install', install)
    monkeypatch.setattr(transaction, '_rollback', lambda *args: None)
    with pytest.raises(Killed):
        cli('apply', '--nova-tree', root)
    monkeypatch.undo()
    assert os.path.exists(os.path.join(root, transaction.JOURNAL_NAME))


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
