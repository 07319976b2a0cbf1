# -*- coding: utf-8 -*-
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

"""Tests of nova_imgmeta.patching and ``nova-imgmeta patch``: the logic.

A small synthetic tree and series are built in tmpdir, so that every rule
(map, series file, version sources, states) is checked in isolation.
test_patching_real.py runs the command on real Nova trees, failing writes
included.
"""

from __future__ import unicode_literals

import argparse
import io
import os
import re
import subprocess
import sys

import pytest

from .patchfiles import diff as _diff
from .patchfiles import patch_file as _patch_file
from .patchfiles import write as _write
from nova_imgmeta.cli import patch as patch_cli
from nova_imgmeta import patching
from nova_imgmeta.patching import series as series_module
from nova_imgmeta.patching.series import PatchFile
from nova_imgmeta.patching import tree as tree_module

if sys.version_info[0] >= 3:
    _Buffer = io.StringIO
else:  # print() of a native str into io.StringIO fails on Python 2.7
    from StringIO import StringIO as _Buffer

needs_patch = pytest.mark.requires_tool('patch')

API_OLD = ''.join('line %d of api.py\n' % i for i in range(1, 31))
API_1 = API_OLD.replace('line 10 of api.py\n',
                        'line 10 of api.py\nfixed by 0001\n')
API_2 = API_1.replace('line 20 of api.py\n',
                      'line 20 of api.py\nhooked by 0002\n')
TEST_OLD = ''.join('test line %d\n' % i for i in range(1, 21))
TEST_2 = TEST_OLD.replace('test line 5\n', 'test line 5\nhooks disabled\n')
HOOKS = 'def run_rebuild_hooks(**kwargs):\n    pass\n'

API = 'nova/compute/api.py'
TESTPY = 'nova/test.py'
NEWMOD = 'nova/compute/image_metadata_hooks.py'


def _read(path):
    with io.open(path, newline='') as handle:
        return handle.read()


@pytest.fixture
def patches_dir(tmpdir):
    root = os.path.join(str(tmpdir), 'patches')
    series = os.path.join(root, 'testseries')
    _write(os.path.join(series, '0001-Fix.patch'),
           _patch_file('Fix', [_diff(API, API_OLD, API_1)]))
    _write(os.path.join(series, '0002-Hooks.patch'),
           _patch_file('Hooks', [_diff(API, API_1, API_2),
                                 _diff(NEWMOD, None, HOOKS),
                                 _diff(TESTPY, TEST_OLD, TEST_2)]))
    _write(os.path.join(series, 'series'),
           '# comment\n0001-Fix.patch\n0002-Hooks.patch -p1\n')
    _write(os.path.join(root, 'MAP'),
           '# FIRST LAST SERIES\n17.0.0 17.0.13 testseries\n'
           '16.0.0 16.1.8 otherseries  # trailing comment\n')
    return root


def _make_tree(base, version='17.0.13', pkg_info=True):
    root = os.path.join(base, 'nova-%s' % version)
    _write(os.path.join(root, API), API_OLD)
    _write(os.path.join(root, TESTPY), TEST_OLD)
    _write(os.path.join(root, 'nova', '__init__.py'), '')
    if pkg_info:
        _write(os.path.join(root, 'PKG-INFO'),
               'Metadata-Version: 1.1\nName: nova\nVersion: %s\n' % version)
    return root


@pytest.fixture
def tree_root(tmpdir):
    return _make_tree(str(tmpdir))


@pytest.fixture
def series(patches_dir):
    return patching.load_series('testseries', patches_dir)


def _tree(root):
    return patching.tree_from_path(root)


def _snapshot(root):
    files = {}
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            files[os.path.relpath(path, root)] = _read(path)
    return files


# ---------------------------------------------------------------- versions

@pytest.mark.parametrize('text,expected', [
    ('17.0.13', (17, 0, 13)),
    (' 16.1.8\n', (16, 1, 8)),
    ('17.0.0.0rc1', None),
    ('17.0.14.dev5', None),
    ('17.0.13-5-gabcdef', None),
    ('', None),
    (None, None),
])
def test_parse_version(text, expected):
    assert patching.parse_version(text) == expected


def test_map_and_selection(patches_dir):
    rules = patching.load_map(patches_dir)
    assert rules == [((17, 0, 0), (17, 0, 13), 'testseries'),
                     ((16, 0, 0), (16, 1, 8), 'otherseries')]
    assert patching.select_series('17.0.0', patches_dir) == 'testseries'
    assert patching.select_series('17.0.13', patches_dir) == 'testseries'
    assert patching.select_series('16.1.2', patches_dir) == 'otherseries'


@pytest.mark.parametrize('version', ['17.0.14', '15.1.0', '18.0.0',
                                     '17.0.14.dev3', '17.0.0.0rc1'])
def test_unknown_version_refused(patches_dir, version):
    with pytest.raises(patching.UnknownVersion) as exc:
        patching.select_series(version, patches_dir)
    message = str(exc.value)
    assert version in message
    assert '17.0.0 to 17.0.13 (testseries)' in message
    assert '--series' in message


def test_bad_map_line(tmpdir):
    root = str(tmpdir)
    _write(os.path.join(root, 'MAP'), '17.0.0 queens\n')
    with pytest.raises(patching.PatchError) as exc:
        patching.load_map(root)
    assert 'MAP:1' in str(exc.value)


def test_missing_map(tmpdir):
    with pytest.raises(patching.PatchError):
        patching.load_map(str(tmpdir))


def test_load_series(series, patches_dir):
    assert [os.path.basename(p) for p in series.patches] == [
        '0001-Fix.patch', '0002-Hooks.patch']
    assert series.touched_files() == [API, NEWMOD, TESTPY]
    with pytest.raises(patching.PatchError) as exc:
        patching.load_series('nope', patches_dir)
    assert 'testseries' in str(exc.value)
    with pytest.raises(patching.PatchError):
        patching.load_series('../patches', patches_dir)


def test_series_lists_missing_patch(patches_dir):
    _write(os.path.join(patches_dir, 'broken', 'series'), 'missing.patch\n')
    with pytest.raises(patching.PatchError) as exc:
        patching.load_series('broken', patches_dir)
    assert 'missing.patch' in str(exc.value)


def test_unsafe_path_refused(tmpdir):
    text = b'diff --git a/../x b/../x\n--- a/../x\n+++ b/../x\n'
    with pytest.raises(patching.PatchError) as exc:
        PatchFile.parse('evil.patch', text)
    assert 'unsafe path' in str(exc.value)


def test_rename_refused():
    text = (b'diff --git a/nova/a.py b/nova/b.py\n--- a/nova/a.py\n'
            b'+++ b/nova/b.py\n@@ -1 +1 @@\n-a\n+b\n')
    with pytest.raises(patching.PatchError) as exc:
        PatchFile.parse('rename.patch', text)
    assert '--no-renames' in str(exc.value)


def test_sections_and_created_files(series):
    assert [patch.paths() for patch in series.files] == [
        [API], [API, NEWMOD, TESTPY]]
    assert series.created_by() == {NEWMOD: 1}
    assert series.mode_of(NEWMOD) == 0o644


def test_series_without_a_directory(series):
    narrowed = series.without('nova/compute/')
    assert narrowed.touched_files() == [TESTPY]
    assert len(narrowed.files) == 1          # 0001 only touched api.py
    assert narrowed.skipped == [API, NEWMOD]
    text = narrowed.files[0].text().decode('ascii')
    assert text.startswith('From ') and 'api.py' not in \
        text.split('\n---\n', 1)[1].split('diff --git', 1)[1]


# ---------------------------------------------------------------- finding

def test_version_from_pkg_info(tree_root):
    tree = _tree(tree_root)
    assert (tree.version, tree.origin) == ('17.0.13', 'PKG-INFO')
    assert tree.root == os.path.abspath(tree_root)


def test_version_from_egg_info(tmpdir):
    root = _make_tree(str(tmpdir), pkg_info=False)
    _write(os.path.join(root, 'nova.egg-info', 'PKG-INFO'),
           'Name: nova\nVersion: 17.0.5\n')
    tree = _tree(root)
    assert (tree.version, tree.origin) == ('17.0.5', 'nova.egg-info/PKG-INFO')


@pytest.mark.requires_tool('git')
def test_version_from_distribution_metadata(tmpdir):
    # What installers leave beside the nova package: a distutils egg-info
    # file (distribution packages), or a wheel's dist-info directory.
    root = _make_tree(str(tmpdir), pkg_info=False)
    _write(os.path.join(root, 'nova-17.0.10-py2.7.egg-info'),
           'Metadata-Version: 1.1\nName: nova\nVersion: 17.0.10\n')
    assert _tree(root).version == '17.0.10'
    os.remove(os.path.join(root, 'nova-17.0.10-py2.7.egg-info'))
    _write(os.path.join(root, 'nova-16.1.8.dist-info', 'METADATA'),
           'Metadata-Version: 2.1\nName: nova\nVersion: 16.1.8\n\n'
           'Version: 1.0 in the description\n')
    tree = _tree(root)
    assert (tree.version, tree.origin) == ('16.1.8',
                                           'nova-16.1.8.dist-info/METADATA')


def test_other_distributions_ignored(tmpdir):
    root = _make_tree(str(tmpdir), pkg_info=False)
    _write(os.path.join(root, 'nova_imgmeta-1.0.0.dist-info', 'METADATA'),
           'Name: nova-imgmeta\nVersion: 1.0.0\n')
    _write(os.path.join(root, 'novaclient-9.1.0.dist-info', 'METADATA'),
           'Name: python-novaclient\nVersion: 9.1.0\n')
    assert _tree(root).version is None


def test_conflicting_versions_refused(tmpdir):
    root = _make_tree(str(tmpdir), version='17.0.13')
    _write(os.path.join(root, 'nova-17.0.12.dist-info', 'METADATA'),
           'Name: nova\nVersion: 17.0.12\n')
    with pytest.raises(patching.PatchError) as exc:
        _tree(root)
    assert '17.0.12' in str(exc.value) and '17.0.13' in str(exc.value)


@pytest.mark.requires_tool('git')
def test_no_version_from_git_or_environment(tmpdir, monkeypatch):
    # Only packaging metadata counts: a git tag or $PBR_VERSION says
    # nothing reliable about the files in the tree.
    root = _make_tree(str(tmpdir), pkg_info=False)
    env = dict(os.environ, GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@t',
               GIT_COMMITTER_NAME='t', GIT_COMMITTER_EMAIL='t@t')
    for cmd in (['init', '-q'], ['add', '-A'], ['commit', '-qm', 'x'],
                ['tag', '16.1.8']):
        subprocess.check_call(['git', '-c', 'safe.directory=*'] + cmd,
                              cwd=root, env=env)
    monkeypatch.setenv(str('PBR_VERSION'), str('17.0.13'))  # native str
    assert _tree(root).version is None


@needs_patch
def test_unknown_version_without_metadata(tmpdir, patches_dir):
    # Every series is tried (test_patching_choice.py); testseries has no
    # reference scopes in the shipped table, so none fits here.
    root = _make_tree(str(tmpdir), pkg_info=False)
    tree = _tree(root)
    assert tree.version is None
    with pytest.raises(patching.UnknownVersion) as exc:
        patching.resolve(tree, None, patches_dir)
    assert 'has no version' in str(exc.value)
    assert 'no reference scopes are recorded for series testseries' in \
        str(exc.value)
    assert '--series' in str(exc.value)
    # --series still works
    assert patching.resolve(tree, 'testseries', patches_dir).name == \
        'testseries'


def test_not_a_nova_tree(tmpdir):
    with pytest.raises(patching.PatchError) as exc:
        patching.tree_from_path(str(tmpdir))
    assert 'not a Nova tree' in str(exc.value)


def test_installed_tree(tmpdir, monkeypatch):
    site = os.path.join(str(tmpdir), 'site-packages')
    _write(os.path.join(site, API), API_OLD)
    _write(os.path.join(site, 'nova', '__init__.py'), '')
    _write(os.path.join(site, 'nova-16.1.8.dist-info', 'METADATA'),
           'Name: nova\nVersion: 16.1.8\n')
    monkeypatch.setattr(tree_module, '_find_nova_package',
                        lambda: os.path.join(site, 'nova'))
    tree = patching.find_nova_tree(None)
    assert tree.root == os.path.abspath(site)
    assert (tree.version, tree.origin) == ('16.1.8',
                                           'nova-16.1.8.dist-info/METADATA')


def test_no_installed_nova(monkeypatch):
    monkeypatch.setattr(tree_module, '_find_nova_package', lambda: None)
    with pytest.raises(patching.PatchError) as exc:
        patching.installed_tree()
    assert '--nova-tree' in str(exc.value)


def test_find_nova_package_does_not_import(tmpdir, monkeypatch):
    site = os.path.join(str(tmpdir), 'site')
    _write(os.path.join(site, 'nova', '__init__.py'),
           'raise RuntimeError("nova must not be imported")\n')
    monkeypatch.syspath_prepend(site)
    monkeypatch.delitem(sys.modules, 'nova', raising=False)
    found = tree_module._find_nova_package()
    assert os.path.abspath(found) == os.path.join(site, 'nova')
    assert 'nova' not in sys.modules


# ---------------------------------------------------------------- applying

@needs_patch
def test_status_apply_idempotent_revert(tree_root, series):
    tree = _tree(tree_root)
    before = _snapshot(tree_root)
    assert patching.status(tree, series).state.state == patching.NOT_APPLIED
    result = patching.check(tree, series)
    assert result.ok and result.state.state == patching.NOT_APPLIED

    result = patching.apply(tree, series)
    assert result.ok
    assert result.patches == ['0001-Fix.patch', '0002-Hooks.patch']
    assert sorted(result.written) == sorted([API, NEWMOD, TESTPY])
    assert _read(os.path.join(tree_root, API)) == API_2
    assert _read(os.path.join(tree_root, NEWMOD)) == HOOKS
    assert _read(os.path.join(tree_root, TESTPY)) == TEST_2
    assert patching.status(tree, series).state.state == patching.APPLIED
    after = _snapshot(tree_root)

    # idempotent
    result = patching.apply(tree, series)
    assert result.ok and (result.patches, result.written) == ([], [])
    assert _snapshot(tree_root) == after
    assert patching.check(tree, series).ok

    result = patching.revert(tree, series)
    assert result.ok and result.removed == [NEWMOD]
    assert result.patches == ['0002-Hooks.patch', '0001-Fix.patch']
    assert _snapshot(tree_root) == before
    result = patching.revert(tree, series)
    assert result.ok and (result.written, result.removed) == ([], [])
    assert _snapshot(tree_root) == before


@needs_patch
def test_dry_run_changes_nothing(tree_root, series):
    tree = _tree(tree_root)
    before = _snapshot(tree_root)
    result = patching.apply(tree, series, dry_run=True)
    assert result.ok and result.dry_run
    assert result.patches == ['0001-Fix.patch', '0002-Hooks.patch']
    assert _snapshot(tree_root) == before
    patching.apply(tree, series)
    applied = _snapshot(tree_root)
    result = patching.revert(tree, series, dry_run=True)
    assert result.patches == ['0002-Hooks.patch', '0001-Fix.patch']
    assert result.removed == [NEWMOD]
    assert _snapshot(tree_root) == applied


@needs_patch
def test_whole_series_checked_first(tree_root, series):
    # 0001 applies, 0002 does not (a hunk of nova/test.py no longer
    # matches): nothing may change, not even the file 0001 would patch.
    tree = _tree(tree_root)
    _write(os.path.join(tree_root, TESTPY),
           TEST_OLD.replace('test line 4\n', 'changed line 4\n'))
    before = _snapshot(tree_root)
    state = patching.status(tree, series).state
    assert state.state == patching.MISMATCH
    assert '0002-Hooks.patch' in state.detail
    assert not patching.check(tree, series).ok
    result = patching.apply(tree, series)
    assert not result.ok and result.written == []
    assert _snapshot(tree_root) == before
    assert not os.path.exists(os.path.join(tree_root, NEWMOD))


@needs_patch
def test_no_fuzz(tree_root, series):
    # A context line two lines away from the change differs: patch would
    # apply with fuzz 1 or 2, but fuzz is not accepted.
    tree = _tree(tree_root)
    _write(os.path.join(tree_root, API),
           API_OLD.replace('line 8 of api.py\n', 'LINE 8 of api.py\n'))
    assert patching.status(tree, series).state.state == patching.MISMATCH
    assert not patching.apply(tree, series).ok


@needs_patch
def test_offset_is_accepted(tree_root, series):
    tree = _tree(tree_root)
    _write(os.path.join(tree_root, API), 'new first line\n' + API_OLD)
    assert patching.apply(tree, series).ok
    assert patching.status(tree, series).state.state == patching.APPLIED


@needs_patch
def test_partially_applied(tree_root, series):
    tree = _tree(tree_root)
    _write(os.path.join(tree_root, API), API_1)
    state = patching.status(tree, series).state
    assert (state.state, state.applied_count, state.total) == (
        patching.PARTIAL, 1, 2)
    result = patching.apply(tree, series)
    assert result.ok and result.patches == ['0002-Hooks.patch']
    assert patching.status(tree, series).state.state == patching.APPLIED


@needs_patch
def test_partial_revert(tree_root, series):
    tree = _tree(tree_root)
    before = _snapshot(tree_root)
    _write(os.path.join(tree_root, API), API_1)
    result = patching.revert(tree, series)
    assert result.ok and result.patches == ['0001-Fix.patch']
    assert _snapshot(tree_root) == before


@needs_patch
def test_partially_applied_with_leftover(tree_root, series):
    # 0001 in, 0002's new module left over from an earlier apply.
    tree = _tree(tree_root)
    _write(os.path.join(tree_root, API), API_1)
    _write(os.path.join(tree_root, NEWMOD), HOOKS)
    state = patching.status(tree, series).state
    assert (state.state, state.applied_count) == (patching.PARTIAL, 1)
    assert state.leftovers == [NEWMOD]
    assert patching.apply(tree, series).ok
    assert _read(os.path.join(tree_root, API)) == API_2


@needs_patch
def test_missing_patch_program(tree_root, series, monkeypatch):
    monkeypatch.setenv(str('NOVA_IMGMETA_PATCH'), str('no-such-patch-program'))
    with pytest.raises(patching.PatchError) as exc:
        patching.status(_tree(tree_root), series)
    assert 'patch' in str(exc.value)


# ---------------------------------------------------------------- CLI

def _parse(argv):
    parser = argparse.ArgumentParser(prog='nova-imgmeta')
    subparsers = parser.add_subparsers(dest='command')
    patch_cli.register(subparsers)
    return parser.parse_args(argv)


def _run_cli(argv):
    args = _parse(argv)
    out, err = _Buffer(), _Buffer()
    code = args.func(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_registers_actions():
    args = _parse(['patch', 'apply', '--nova-tree', '/x', '--series', 'q',
                   '--dry-run'])
    assert (args.action, args.nova_tree, args.series, args.dry_run) == (
        'apply', '/x', 'q', True)
    assert args.func is patch_cli.run
    with pytest.raises(SystemExit):
        _parse(['patch', 'explode'])


@needs_patch
def test_cli_round_trip(tree_root, patches_dir, monkeypatch):
    monkeypatch.setattr(series_module, 'PATCHES_DIR', patches_dir)
    code, out, _err = _run_cli(['patch', 'status', '--nova-tree', tree_root])
    assert code == 1 and 'series testseries: not applied' in out
    code, out, _err = _run_cli(['patch', 'check', '--nova-tree', tree_root])
    assert code == 0 and 'applies cleanly (2 patches, no fuzz)' in out
    code, out, _err = _run_cli(['patch', 'apply', '--dry-run',
                                '--nova-tree', tree_root])
    assert code == 0
    assert 'would apply 0001-Fix.patch, 0002-Hooks.patch' in out
    assert '  would write %s' % NEWMOD in out
    code, out, _err = _run_cli(['patch', 'apply', '--nova-tree', tree_root])
    assert code == 0
    assert out.splitlines()[:2] == ['applied 0001-Fix.patch',
                                    'applied 0002-Hooks.patch']
    assert '(3 files written, 0 removed)' in out
    code, out, _err = _run_cli(['patch', 'status', '--nova-tree', tree_root])
    assert code == 0 and 'series testseries: applied' in out
    code, out, _err = _run_cli(['patch', 'apply', '--nova-tree', tree_root])
    assert code == 0 and 'already applied, nothing to do' in out
    _write(os.path.join(tree_root, API), API_1)
    os.remove(os.path.join(tree_root, NEWMOD))
    _write(os.path.join(tree_root, TESTPY), TEST_OLD)
    code, out, _err = _run_cli(['patch', 'status', '--nova-tree', tree_root])
    assert code == 3 and 'first 1 of 2' in out
    code, out, _err = _run_cli(['patch', 'revert', '--nova-tree', tree_root])
    assert code == 0 and 'reverted 0001-Fix.patch' in out
    assert _read(os.path.join(tree_root, API)) == API_OLD
    _write(os.path.join(tree_root, TESTPY), 'something else\n')
    code, out, _err = _run_cli(['patch', 'status', '--nova-tree', tree_root])
    assert code == 4 and 'does not match' in out
    code, out, _err = _run_cli(['patch', 'apply', '--nova-tree', tree_root])
    assert code == 1 and 'no file was changed' in out


def test_cli_unknown_version(tmpdir, patches_dir, monkeypatch):
    monkeypatch.setattr(series_module, 'PATCHES_DIR', patches_dir)
    root = _make_tree(str(tmpdir), version='18.0.0')
    code, out, err = _run_cli(['patch', 'apply', '--nova-tree', root])
    assert code == 2
    assert 'no patch series for Nova 18.0.0' in err
    assert out == ''


def test_cli_no_tree(tmpdir):
    code, _out, err = _run_cli(['patch', 'status', '--nova-tree',
                                str(tmpdir)])
    assert code == 2 and 'not a Nova tree' in err


# ---------------------------------------------------------------- shipped

def test_shipped_map_covers_pike_and_queens():
    assert patching.select_series('16.0.0') == 'pike'
    assert patching.select_series('16.1.8') == 'pike'
    assert patching.select_series('17.0.0') == 'queens'
    assert patching.select_series('17.0.13') == 'queens'
    # the first release of the line after the newest MAP serves
    newest = max(rule[1][0] for rule in patching.load_map())
    for version in ('15.1.5', '16.1.9', '17.0.14', '%d.0.0' % (newest + 1)):
        with pytest.raises(patching.UnknownVersion):
            patching.select_series(version)


def test_shipped_map_covers_wallaby_to_2026_2():
    expected = [('23.0.0', 'wallaby'), ('23.2.2', 'wallaby'),
                ('24.0.0', 'xena'), ('24.2.1', 'xena'),
                ('25.0.0', 'xena'), ('25.3.0', 'xena'),
                ('26.0.0', 'zed'), ('27.5.1', 'zed'), ('28.3.1', 'zed'),
                ('29.4.0', 'zed'), ('30.0.0', 'zed'), ('30.3.0', 'zed'),
                ('31.0.0', '2025.1'), ('32.2.1', '2025.1'),
                ('33.0.0', '2025.1'), ('33.0.2', '2025.1'),
                ('34.0.0', '2025.1')]
    for version, series in expected:
        assert patching.select_series(version) == series, version
    for version in ('23.2.3', '25.3.1', '30.3.1', '33.0.3', '34.0.1'):
        with pytest.raises(patching.UnknownVersion):
            patching.select_series(version)


def test_shipped_map_covers_rocky_to_victoria():
    expected = [('18.0.0', 'rocky-pre-18.2.2'), ('18.2.1', 'rocky-pre-18.2.2'),
                ('18.2.2', 'rocky'), ('18.3.0', 'rocky'),
                ('19.0.0', 'stein'), ('19.3.2', 'stein'),
                ('20.0.0', 'train'), ('20.6.1', 'train'),
                ('21.0.0', 'ussuri-pre-21.2.1'),
                ('21.2.0', 'ussuri-pre-21.2.1'),
                ('21.2.1', 'ussuri'), ('21.2.4', 'ussuri'),
                ('22.0.0', 'victoria'), ('22.4.0', 'victoria')]
    for version, series in expected:
        assert patching.select_series(version) == series, version
    for version in ('18.3.1', '19.3.3', '20.6.2', '21.2.5', '22.4.1'):
        with pytest.raises(patching.UnknownVersion):
            patching.select_series(version)


def _shipped_series():
    names = set(rule[2] for rule in patching.load_map())
    return [patching.load_series(name) for name in sorted(names)]


def test_shipped_series_files():
    for series in _shipped_series():
        listed = [os.path.basename(p) for p in series.patches]
        on_disk = sorted(name for name in os.listdir(series.directory)
                         if name.endswith('.patch'))
        assert listed == on_disk
        # The stable core of every series (later series touch more).
        assert set(series.touched_files()) >= set([
            'nova/compute/api.py',
            'nova/compute/image_metadata_hooks.py',
            'nova/test.py'])
        assert all(path.startswith('nova/')
                   for path in series.touched_files())


def test_shipped_patch_format():
    for series in _shipped_series():
        for path in series.patches:
            with open(path, 'rb') as handle:
                data = handle.read()
            assert b'\r' not in data, path
            assert b'\0' not in data, path
            text = data.decode('ascii')
            name = os.path.basename(path)
            assert re.match(r'^\d{4}-[\w.-]+\.patch$', name), name
            header, _sep, rest = text.partition('\n\n')
            assert header.startswith('From ')
            assert '\nFrom: ' in header and '\nDate: ' in header
            assert '\nSubject: [PATCH' in header
            body, sep, _diff = rest.partition('\n---\n')
            assert sep, path
            assert 'Bug' in body and '1893618' in body
            for line in body.splitlines():
                assert not line.startswith(('--- ', '+++ ', '@@ -')), line
            assert 'GIT binary patch' not in text
