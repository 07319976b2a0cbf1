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

"""``nova-imgmeta patch`` on real Nova trees, including failing writes.

The trees are the PyPI sdists of the newest release of each series in MAP
(tests/unit/realtree.py), unpacked as far as the series and Nova detection
need. Every test works on its own copy. The robustness tests use Queens
17.0.13, the newest release of the first series built.
"""

from __future__ import unicode_literals

import errno
import io
import os
import py_compile
import shutil
import subprocess

import pytest

from . import realtree
from nova_imgmeta import patching
from nova_imgmeta.patching import transaction

try:
    from shutil import which
except ImportError:  # Python 2.7
    from distutils.spawn import find_executable as which

pytestmark = pytest.mark.requires_tool('patch')

QUEENS = realtree.QUEENS
API = 'nova/compute/api.py'
TESTPY = 'nova/test.py'
HOOKS = 'nova/compute/image_metadata_hooks.py'
HOOKS_TEST = 'nova/tests/unit/compute/test_image_metadata_hooks.py'
REGRESSION = 'nova/tests/functional/regressions/test_bug_1893618.py'

templates = realtree.templates
make_tree = realtree.make_tree
tree_root = realtree.tree_root
_cli = realtree.cli
_Killed = realtree.Killed


def _gnu_patched(template, target):
    """The tree as ``patch -p1 -F0`` makes it, patch by patch (reference)."""
    realtree.copy_tree(template, target)
    version = patching.tree_from_path(target).version
    series = patching.load_series(patching.select_series(version))
    for path in series.patches:
        # Offsets are allowed (a series serves several releases): no .orig
        # backups of the hunks that moved.
        subprocess.check_call(['patch', '-s', '-p1', '-F0',
                               '--no-backup-if-mismatch', '-d', target,
                               '-i', path])
    return target


def _chattr(flag, path):
    proc = subprocess.Popen(['chattr', flag, path], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    proc.communicate()
    return proc.returncode == 0


@pytest.fixture
def immutable(tmpdir):
    """Make paths immutable (chattr +i), undone after the test."""
    if which('chattr') is None or os.geteuid() != 0:
        pytest.skip('needs chattr and root')
    probe = os.path.join(str(tmpdir), 'probe')
    io.open(probe, 'wb').close()
    if not _chattr('+i', probe):
        pytest.skip('this filesystem has no immutable attribute')
    _chattr('-i', probe)
    done = []

    def make(path):
        assert _chattr('+i', path), path
        done.append(path)
    yield make
    for path in done:
        _chattr('-i', path)


# ------------------------------------------------------------ round trip

@pytest.mark.parametrize('series_name,version',
                         realtree.newest_per_series())
def test_round_trip_on_newest_release(templates, tmpdir, series_name,
                                      version):
    root = realtree.copy_tree(templates[version],
                              os.path.join(str(tmpdir), 'tree'))
    before = realtree.snapshot(root)
    assert _cli('status', '--nova-tree', root)[0] == 1
    code, out, err = _cli('apply', '--nova-tree', root)
    assert (code, err) == (0, ''), out
    reference = _gnu_patched(templates[version],
                             os.path.join(str(tmpdir), 'gnu'))
    assert realtree.snapshot(root) == realtree.snapshot(reference)
    code, out, _err = _cli('status', '--nova-tree', root)
    assert code == 0 and 'series %s: applied' % series_name in out
    assert _cli('revert', '--nova-tree', root)[0] == 0
    assert realtree.snapshot(root) == before


def test_actions_return_data_and_print_nothing(tree_root, capsys):
    tree = patching.tree_from_path(tree_root)
    series = patching.resolve(tree)
    for action in (patching.status, patching.check, patching.apply,
                   patching.revert):
        result = action(tree, series)
        assert isinstance(result, patching.Result) and result.ok
    assert capsys.readouterr() == ('', '')
    result = patching.apply(tree, series, dry_run=True)
    assert result.patches == [os.path.basename(p) for p in series.patches]
    assert sorted(result.written) == sorted(series.touched_files())


# ------------------------------------------------ transactional writes

def _assert_untouched(root, before, out_err=''):
    after = realtree.snapshot(root)
    assert sorted(after) == sorted(before), 'stray or missing files'
    assert after == before, out_err


def _failing_at(k, real):
    calls = []

    def seam(*args):
        calls.append(args)
        if len(calls) == k:
            raise OSError(errno.EIO, 'Input/output error (injected)',
                          args[-1] if isinstance(args[-1], str) else None)
        return real(*args)
    return seam, calls


def test_apply_writes_nine_files(tree_root):
    # The parametrisation below covers every write of this series.
    tree = patching.tree_from_path(tree_root)
    result = patching.apply(tree, patching.resolve(tree), dry_run=True)
    assert len(result.written) == 9 and result.removed == []


@pytest.mark.parametrize('k', range(1, 10))
def test_apply_rolls_back_when_the_kth_install_fails(tree_root, monkeypatch,
                                                     k):
    before = realtree.snapshot(tree_root)
    seam, calls = _failing_at(k, os.rename)
    monkeypatch.setattr(transaction, '_install', seam)
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1, out
    assert 'injected' in err and 'put back as it was' in err
    assert len(calls) == k
    _assert_untouched(tree_root, before, out + err)
    assert _cli('status', '--nova-tree', tree_root)[0] == 1


@pytest.mark.parametrize('k', range(1, 10))
def test_revert_rolls_back_when_the_kth_step_fails(tree_root, monkeypatch,
                                                   k):
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    applied = realtree.snapshot(tree_root)
    # 6 files written back, 3 removed: fail the k-th of those 9 steps.
    steps = []

    def counted(real):
        def step(*args):
            steps.append(args)
            if len(steps) == k:
                raise OSError(errno.EIO, 'Input/output error (injected)')
            return real(*args)
        return step
    monkeypatch.setattr(transaction, '_install', counted(os.rename))
    monkeypatch.setattr(transaction, '_remove', counted(os.unlink))
    code, out, err = _cli('revert', '--nova-tree', tree_root)
    assert code == 1 and 'injected' in err, out + err
    _assert_untouched(tree_root, applied, out + err)
    assert _cli('status', '--nova-tree', tree_root)[0] == 0


@pytest.mark.parametrize('k', [1, 5, 9])
def test_a_write_failing_half_way_changes_nothing(tree_root, monkeypatch,
                                                  k):
    before = realtree.snapshot(tree_root)
    calls = []
    real = transaction._write_new

    def half_write(path, data, mode, owner):
        calls.append(path)
        if len(calls) == k:
            real(path, data[:len(data) // 2], mode, owner)
            raise OSError(errno.ENOSPC, 'No space left on device (injected)',
                          path)
        return real(path, data, mode, owner)
    monkeypatch.setattr(transaction, '_write_new', half_write)
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1 and 'No space left' in err, out + err
    _assert_untouched(tree_root, before, out + err)


def test_immutable_file(tree_root, immutable):
    # nova/test.py comes after nova/compute/api.py and image_metadata_hooks
    # in the order of writes: those two are replaced first, then undone.
    before = realtree.snapshot(tree_root)
    immutable(os.path.join(tree_root, TESTPY))
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1, out + err
    assert 'nova/test.py' in err and 'nothing was changed' in err
    _assert_untouched(tree_root, before, out + err)
    assert _cli('status', '--nova-tree', tree_root)[0] == 1


def test_immutable_directory(tree_root, immutable):
    # A directory that takes no new file (read-only for root as well);
    # nova/compute/api.py, then image_metadata_hooks.py (with the
    # directories it needs) were written before it.
    before = realtree.snapshot(tree_root)
    immutable(os.path.join(tree_root, os.path.dirname(HOOKS_TEST)))
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1, out + err
    assert os.path.dirname(HOOKS_TEST) in err
    _assert_untouched(tree_root, before, out + err)


def test_immutable_file_on_revert(tree_root, immutable):
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    applied = realtree.snapshot(tree_root)
    immutable(os.path.join(tree_root, HOOKS_TEST))
    code, out, err = _cli('revert', '--nova-tree', tree_root)
    assert code == 1 and HOOKS_TEST in err, out + err
    _assert_untouched(tree_root, applied, out + err)


def test_symlinked_api_py_is_refused(tree_root, tmpdir):
    elsewhere = os.path.join(str(tmpdir), 'elsewhere-api.py')
    shutil.move(os.path.join(tree_root, API), elsewhere)
    os.symlink(elsewhere, os.path.join(tree_root, API))
    before = realtree.snapshot(tree_root)
    with io.open(elsewhere, 'rb') as handle:
        target_before = handle.read()
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1, out + err
    assert 'symbolic link' in err and API in err
    _assert_untouched(tree_root, before, out + err)
    with io.open(elsewhere, 'rb') as handle:
        assert handle.read() == target_before


def test_symlinked_directory_is_refused(tree_root, tmpdir):
    compute = os.path.join(tree_root, 'nova', 'compute')
    elsewhere = os.path.join(str(tmpdir), 'compute-elsewhere')
    shutil.move(compute, elsewhere)
    os.symlink(elsewhere, compute)
    before = realtree.snapshot(tree_root)
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1 and 'symbolic link' in err, out + err
    _assert_untouched(tree_root, before, out + err)


def test_interrupted_run_is_rolled_back_next_time(tree_root, monkeypatch):
    before = realtree.snapshot(tree_root)
    # killed at the third rename; a dead process runs no roll-back
    realtree.interrupted_apply(tree_root, monkeypatch, installs=2)
    assert realtree.snapshot(tree_root) != before

    code, _out, err = _cli('status', '--nova-tree', tree_root)
    assert code == 2 and 'interrupted' in err
    assert _cli('apply', '--dry-run', '--nova-tree', tree_root)[0] == 2
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 0, out + err
    assert 'interrupted earlier run was rolled back' in out
    assert _cli('revert', '--nova-tree', tree_root)[0] == 0
    _assert_untouched(tree_root, before)


def test_run_killed_after_its_commit_point_is_completed(
        tree_root, monkeypatch):
    reference = os.path.join(os.path.dirname(tree_root), 'reference')
    realtree.copy_tree(tree_root, reference)
    assert _cli('apply', '--nova-tree', reference)[0] == 0

    def killed(*args):
        raise _Killed()
    monkeypatch.setattr(transaction, '_cleanup', killed)
    with pytest.raises(_Killed):
        _cli('apply', '--nova-tree', tree_root)
    monkeypatch.undo()
    assert _cli('status', '--nova-tree', tree_root)[0] == 2
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 0 and 'already applied' in out, out + err
    assert realtree.snapshot(tree_root) == realtree.snapshot(reference)


def test_tree_changed_meanwhile_is_refused(tree_root, monkeypatch):
    tree = patching.tree_from_path(tree_root)
    series = patching.resolve(tree)
    real_survey = patching.survey

    def survey_then_edit(*args):
        state = real_survey(*args)
        with io.open(os.path.join(tree_root, API), 'ab') as handle:
            handle.write(b'# edited meanwhile\n')
        return state
    monkeypatch.setattr(patching, 'survey', survey_then_edit)
    edited = None
    result = patching.apply(tree, series)
    assert not result.ok and 'changed while' in result.error
    with io.open(os.path.join(tree_root, API), 'rb') as handle:
        edited = handle.read()
    assert edited.endswith(b'# edited meanwhile\n')
    assert not os.path.exists(os.path.join(tree_root, HOOKS))


# ------------------------------------ re-patching after a reinstall of nova

def _reinstall_nova(template, root):
    """What pip install --force-reinstall does: RECORD files rewritten."""
    for dirpath, _dirs, names in os.walk(template):
        for name in names:
            source = os.path.join(dirpath, name)
            shutil.copy2(source, os.path.join(
                root, os.path.relpath(source, template)))


def test_reapply_after_reinstall(templates, tree_root):
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    applied = realtree.snapshot(tree_root)
    _reinstall_nova(templates[QUEENS], tree_root)
    code, out, err = _cli('status', '--nova-tree', tree_root)
    assert code == 1, out + err
    assert 'not applied' in out and HOOKS in out and REGRESSION in out
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 0, out + err
    assert realtree.snapshot(tree_root) == applied
    assert _cli('status', '--nova-tree', tree_root)[0] == 0


def test_revert_after_reinstall_removes_the_leftovers(templates, tree_root):
    before = realtree.snapshot(tree_root)
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    _reinstall_nova(templates[QUEENS], tree_root)
    code, out, err = _cli('revert', '--nova-tree', tree_root)
    assert code == 0, out + err
    assert realtree.snapshot(tree_root) == before


def test_different_leftover_is_named(templates, tree_root):
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    _reinstall_nova(templates[QUEENS], tree_root)
    with io.open(os.path.join(tree_root, HOOKS), 'ab') as handle:
        handle.write(b'# a local change\n')
    before = realtree.snapshot(tree_root)
    code, out, _err = _cli('status', '--nova-tree', tree_root)
    assert code == 4 and HOOKS + ' already exists and differs' in out
    code, out, _err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1
    assert HOOKS + ' already exists and differs' in out
    assert 'no file was changed' in out
    _assert_untouched(tree_root, before)


# ------------------------------------------------------ Nova without tests

def test_nova_without_tests(tree_root):
    shutil.rmtree(os.path.join(tree_root, 'nova', 'tests'))
    before = realtree.snapshot(tree_root)
    code, out, err = _cli('check', '--nova-tree', tree_root)
    assert code == 0 and 'applies cleanly' in out, out + err
    assert 'has no nova/tests' in out
    code, out, err = _cli('apply', '--nova-tree', tree_root)
    assert code == 0, out + err
    assert 'without its changes to 4 test files' in out
    assert not os.path.exists(os.path.join(tree_root, 'nova', 'tests'))
    assert os.path.isfile(os.path.join(tree_root, HOOKS))
    code, out, _err = _cli('status', '--nova-tree', tree_root)
    assert code == 0 and 'applied' in out and 'has no nova/tests' in out
    assert _cli('revert', '--nova-tree', tree_root)[0] == 0
    _assert_untouched(tree_root, before)


def test_nova_without_tests_same_code_as_with(templates, tree_root,
                                              tmpdir):
    full = realtree.copy_tree(templates[QUEENS],
                              os.path.join(str(tmpdir), 'full'))
    shutil.rmtree(os.path.join(tree_root, 'nova', 'tests'))
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    assert _cli('apply', '--nova-tree', full)[0] == 0
    for path in (API, TESTPY, HOOKS):
        with io.open(os.path.join(tree_root, path), 'rb') as mine, \
                io.open(os.path.join(full, path), 'rb') as theirs:
            assert mine.read() == theirs.read(), path


def test_missing_test_file_is_named(tree_root):
    os.remove(os.path.join(tree_root, 'nova/tests/unit/compute/'
                                      'test_compute.py'))
    code, out, _err = _cli('apply', '--nova-tree', tree_root)
    assert code == 1
    assert ('nova/tests/unit/compute/test_compute.py is missing from the '
            'tree') in out


# ------------------------------------------------------- compiled files

def _compile(source, cfile):
    if not os.path.isdir(os.path.dirname(cfile)):
        os.makedirs(os.path.dirname(cfile))      # Python 2 does not
    py_compile.compile(source, cfile=cfile, doraise=True)


def test_revert_removes_compiled_files_of_added_modules(tree_root):
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    hooks = os.path.join(tree_root, HOOKS)
    cache = os.path.join(os.path.dirname(hooks), '__pycache__')
    compiled = [
        hooks + 'c',                      # Python 2
        os.path.join(cache, 'image_metadata_hooks.cpython-36.pyc'),
        os.path.join(cache, 'image_metadata_hooks.cpython-38.opt-1.pyc'),
    ]
    for path in compiled:
        _compile(hooks, path)
    other = os.path.join(tree_root, 'nova', 'compute', '__init__.py')
    others = [other + 'c', os.path.join(cache, '__init__.cpython-36.pyc')]
    for path in others:
        _compile(other, path)
    assert _cli('revert', '--nova-tree', tree_root)[0] == 0
    assert [path for path in compiled if os.path.exists(path)] == []
    assert [path for path in others if os.path.exists(path)] == others


def test_apply_removes_stale_compiled_files_of_changed_modules(tree_root):
    # A hash-based .pyc is never checked against its source again: a
    # stale one would keep the old code running.
    test_pyc = os.path.join(tree_root, TESTPY + 'c')
    with io.open(test_pyc, 'wb') as handle:
        handle.write(b'stale bytecode')
    assert _cli('apply', '--nova-tree', tree_root)[0] == 0
    assert not os.path.exists(test_pyc)
