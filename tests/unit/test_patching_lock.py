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

"""The tree lock of ``nova-imgmeta patch`` (nova_imgmeta/patching/lock.py).

Waiting, the timeout and its message, the lock file never left behind,
one left by a killed run taken over, re-entrance, threads, and a user who
cannot write to the tree. test_patching_concurrency.py races whole runs.
"""

from __future__ import unicode_literals

import errno
import io
import os
import signal
import threading
import time

import pytest

from . import realtree
from nova_imgmeta import patching
from nova_imgmeta.patching import lock


pytestmark = [
    pytest.mark.requires_tool('patch'),
    pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork'),
]

templates = realtree.templates
make_tree = realtree.make_tree
tree_root = realtree.tree_root
cli = realtree.cli


def _lock_path(root):
    return os.path.join(root, lock.LOCK_NAME)


class _Holder(object):
    """A child process holding the tree's lock until released (or killed)."""

    def __init__(self, root, action='apply'):
        ready_r, ready_w = os.pipe()
        self._go_r, self._go_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:                          # the child
            try:
                with lock.hold(root, action):
                    os.write(ready_w, b'x')
                    os.read(self._go_r, 1)
            finally:
                os._exit(0)
        os.read(ready_r, 1)
        os.close(ready_r)
        os.close(ready_w)

    def release(self):
        os.write(self._go_w, b'x')
        os.waitpid(self.pid, 0)

    def kill(self):
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


@pytest.mark.parametrize('argv', [
    ['status'], ['check'], ['apply', '--dry-run'], ['apply'], ['status'],
    ['revert', '--dry-run'], ['revert'], ['revert']])
def test_no_lock_file_is_left(tree_root, argv):
    before = realtree.snapshot(tree_root)
    code, out, err = cli(*(argv + ['--nova-tree', tree_root]))
    assert code in (0, 1), out + err
    assert not os.path.exists(_lock_path(tree_root))
    if argv[0] != 'apply' or '--dry-run' in argv:
        assert realtree.snapshot(tree_root) == before


def test_timeout_says_who_holds_it(tree_root):
    before = realtree.snapshot(tree_root)
    holder = _Holder(tree_root, 'revert')
    try:
        started = time.time()
        code, out, err = cli('apply', '--lock-timeout', '0.5', '--nova-tree',
                             tree_root)
        waited = time.time() - started
    finally:
        holder.release()
    assert code == 2 and out == '', out + err
    assert 0.5 <= waited < 5
    assert 'waiting for another run on this tree to finish (pid %d on ' % (
        holder.pid) in err
    assert ('another nova-imgmeta patch run holds the lock %s (pid %d on '
            % (_lock_path(tree_root), holder.pid)) in err
    assert 'nova-imgmeta patch revert, since ' in err
    assert 'gave up after 0.5 s, nothing was done' in err
    assert '--lock-timeout' in err
    assert realtree.snapshot(tree_root) == before


@pytest.mark.parametrize('action', ['status', 'check'])
def test_readers_wait_too(tree_root, action):
    holder = _Holder(tree_root)
    try:
        code, out, err = cli(action, '--lock-timeout', '0', '--nova-tree',
                             tree_root)
    finally:
        holder.release()
    assert code == 2 and 'holds the lock' in err, out + err


def test_waits_then_runs(tree_root):
    holder = _Holder(tree_root)
    timer = threading.Timer(0.5, holder.release)
    timer.start()
    try:
        code, out, err = cli('apply', '--nova-tree', tree_root)
    finally:
        timer.join()
    assert code == 0, out + err
    assert 'waiting for another run' in err
    assert 'series queens: applied (9 files written' in out
    assert not os.path.exists(_lock_path(tree_root))


def test_lock_of_a_killed_run_is_taken_over(tree_root):
    before = realtree.snapshot(tree_root)
    holder = _Holder(tree_root)
    holder.kill()
    assert os.path.exists(_lock_path(tree_root))  # the file, not the lock
    code, out, err = cli('apply', '--lock-timeout', '0', '--nova-tree',
                         tree_root)
    assert code == 0 and err == '', out + err
    assert not os.path.exists(_lock_path(tree_root))
    assert cli('revert', '--nova-tree', tree_root)[0] == 0
    assert realtree.snapshot(tree_root) == before


def test_lock_file_as_a_symbolic_link_refused(tree_root, tmpdir):
    target = str(tmpdir.join('elsewhere'))
    io.open(target, 'wb').close()
    os.symlink(target, _lock_path(tree_root))
    code, out, err = cli('apply', '--nova-tree', tree_root)
    assert code == 2 and 'is a symbolic link' in err, out + err
    assert os.path.islink(_lock_path(tree_root))


def test_bad_timeout(tree_root):
    code, _out, err = cli('status', '--lock-timeout', '-1', '--nova-tree',
                          tree_root)
    assert code == 2 and '--lock-timeout must be 0 or more' in err


def test_nested_holds_are_one(tree_root):
    tree = patching.tree_from_path(tree_root)
    series = patching.resolve(tree)
    with lock.hold(tree_root, 'apply') as held:
        assert held.locked
        # status and apply take the lock themselves: here they reuse it.
        assert patching.status(tree, series).ok
        assert patching.apply(tree, series).ok
        assert os.path.exists(_lock_path(tree_root))
    assert not os.path.exists(_lock_path(tree_root))


def test_threads_exclude_each_other(tree_root):
    order = []
    inside = threading.Event()

    def second():
        with lock.hold(tree_root, 'status', timeout=10):
            order.append('second')

    with lock.hold(tree_root, 'apply'):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.3)
        order.append('first done')
        inside.set()
    thread.join()
    assert order == ['first done', 'second']


def _as_nobody(func):
    """Run func() as user nobody in a child; its exit code."""
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            os.setgid(65534)
            os.setuid(65534)
            code = func()
        finally:
            os._exit(code)
    _pid, status = os.waitpid(pid, 0)
    return os.WEXITSTATUS(status)


@pytest.fixture
def readable_tree(tree_root):
    if os.geteuid() != 0:
        pytest.skip('needs root, to run a command as another user')
    for dirpath, dirnames, filenames in os.walk(os.path.dirname(tree_root)):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o644)
    parent = os.path.dirname(tree_root)
    while parent != os.path.dirname(parent):      # up to /
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
        parent = os.path.dirname(parent)
    return tree_root


def _cli_as_nobody(tmpdir, *argv):
    """cli(*argv) as user nobody: (exit code, output), the output passed
    back through a file in tmpdir (the child's memory is its own).
    """
    log = str(tmpdir.join('log'))
    os.chmod(str(tmpdir), 0o777)

    def run():
        code, out, err = cli(*argv)
        with io.open(log, 'w') as handle:
            handle.write('%s%s' % (out, err))
        return code
    code = _as_nobody(run)
    with io.open(log) as handle:
        return code, handle.read()


def test_user_who_cannot_write_reads_unlocked(readable_tree, tmpdir):
    code, text = _cli_as_nobody(tmpdir, 'status', '--nova-tree',
                                readable_tree)
    assert code == 1
    assert 'series queens: not applied' in text
    assert 'read without the lock: this user cannot create' in text
    code, text = _cli_as_nobody(tmpdir, 'apply', '--nova-tree',
                                readable_tree)
    assert code == 2
    assert 'needs write access to the tree' in text


def test_user_who_cannot_write_shares_a_held_lock(readable_tree, tmpdir):
    # The lock file exists (another user's run holds it): a reader waits.
    holder = _Holder(readable_tree)
    os.chmod(_lock_path(readable_tree), 0o644)
    try:
        code, text = _cli_as_nobody(tmpdir, 'status', '--lock-timeout',
                                    '0.3', '--nova-tree', readable_tree)
    finally:
        holder.release()
    assert code == 2
    assert 'holds the lock' in text


def _lock_file_cannot_be_created(monkeypatch):
    """As for a user who may read the tree but not write in it."""
    real_open = os.open

    def no_create(path, flags, *args, **kwargs):
        if str(path).endswith(lock.LOCK_NAME) and flags & os.O_CREAT:
            raise OSError(errno.EACCES, 'Permission denied', path)
        return real_open(path, flags, *args, **kwargs)
    monkeypatch.setattr(lock.os, 'open', no_create)


def test_unlocked_read_notices_a_change(tree_root, monkeypatch):
    # Simulated: the lock file cannot be created, and the tree changes
    # during the survey (another user's apply).
    _lock_file_cannot_be_created(monkeypatch)
    real_survey = patching.survey

    def survey_then_change(*args):
        state = real_survey(*args)
        api = os.path.join(tree_root, 'nova', 'compute', 'api.py')
        with io.open(api, 'rb') as handle:
            data = handle.read()
        os.unlink(api)
        with io.open(api, 'wb') as handle:
            handle.write(data)
        return state
    monkeypatch.setattr(patching, 'survey', survey_then_change)
    code, out, err = cli('status', '--nova-tree', tree_root)
    assert code == 2, out + err
    assert 'changed while it was read without the lock' in err


def test_no_write_under_a_read_only_hold(tree_root, monkeypatch):
    _lock_file_cannot_be_created(monkeypatch)
    tree = patching.tree_from_path(tree_root)
    with lock.hold(tree_root, 'status', write=False) as held:
        assert not held.locked
        with pytest.raises(patching.PatchError) as exc:
            patching.apply(tree, patching.resolve(tree))
    assert 'held for reading only' in str(exc.value)
