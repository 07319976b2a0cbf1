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

"""The journal of ``nova-imgmeta patch`` is checked, never trusted blindly.

Regression tests of issue 16, part 3, on the Queens 17.0.13 sdist: a
journal naming paths outside the tree, damaged journals (wrong JSON types,
missing keys, truncated), and the ``.journal.new`` a run killed while
writing its journal leaves. Each failed before the fix (a file outside the
tree deleted with exit 0, tracebacks, a false "rolled back", a leftover
neither reported nor removed).
"""

from __future__ import unicode_literals

import io
import json
import os
import signal

import pytest

from . import realtree
from nova_imgmeta.patching import lock
from nova_imgmeta.patching import transaction
from nova_imgmeta.patching import transaction_journal


pytestmark = pytest.mark.requires_tool('patch')

templates = realtree.templates
make_tree = realtree.make_tree
tree_root = realtree.tree_root
cli = realtree.cli
interrupted_apply = realtree.interrupted_apply
_Killed = realtree.Killed

API = 'nova/compute/api.py'
HOOKS = 'nova/compute/image_metadata_hooks.py'
JOURNAL_NEW = transaction.JOURNAL_NAME + '.new'


def _journal_path(root):
    return os.path.join(root, transaction.JOURNAL_NAME)


def _write_journal(root, record):
    with io.open(_journal_path(root), 'wb') as handle:
        handle.write(json.dumps(record).encode('utf-8')
                     if not isinstance(record, bytes) else record)


# ------------------------------------------------ paths outside the tree

@pytest.mark.parametrize('action', ['apply', 'revert'])
@pytest.mark.parametrize('entry', [
    {'path': '../outside.txt', 'kind': 'create'},
    {'path': 'nova/../../outside.txt', 'kind': 'create'},
    {'path': '%(outside)s', 'kind': 'create'},          # absolute
    {'path': 'nova/compute/../../../outside.txt', 'kind': 'remove'},
])
def test_journal_paths_outside_the_tree_refused(tree_root, action, entry):
    # Before the fix, revert deleted ../outside.txt and exited 0.
    outside = os.path.join(os.path.dirname(tree_root), 'outside.txt')
    with io.open(outside, 'wb') as handle:
        handle.write(b'not nova\n')
    entry = dict(entry, path=entry['path'] % {'outside': outside})
    _write_journal(tree_root, {'token': '0123456789ab', 'dirs': [],
                               'changes': [entry]})
    before = realtree.snapshot(tree_root)
    code, out, err = cli(action, '--nova-tree', tree_root)
    assert code == 2, out + err
    assert 'outside the tree' in err and transaction.JOURNAL_NAME in err
    assert os.path.isfile(outside)
    assert realtree.snapshot(tree_root) == before


def test_journal_directory_outside_the_tree_refused(tree_root):
    empty = os.path.join(os.path.dirname(tree_root), 'empty-dir')
    os.mkdir(empty)
    _write_journal(tree_root, {'token': '0123456789ab',
                               'dirs': ['../empty-dir'], 'changes': []})
    code, out, err = cli('revert', '--nova-tree', tree_root)
    assert code == 2 and 'outside the tree' in err, out + err
    assert os.path.isdir(empty)


def test_journal_path_through_a_link_out_of_the_tree_refused(tree_root):
    elsewhere = os.path.join(os.path.dirname(tree_root), 'elsewhere')
    os.mkdir(elsewhere)
    victim = os.path.join(elsewhere, 'victim.py')
    with io.open(victim, 'wb') as handle:
        handle.write(b'x\n')
    os.symlink(elsewhere, os.path.join(tree_root, 'nova', 'linked'))
    _write_journal(tree_root, {'token': '0123456789ab', 'dirs': [],
                               'changes': [{'path': 'nova/linked/victim.py',
                                            'kind': 'create'}]})
    code, out, err = cli('revert', '--nova-tree', tree_root)
    assert code == 2 and 'outside the tree' in err, out + err
    assert os.path.isfile(victim)


def test_journal_token_with_a_path_refused(tree_root):
    # The token is part of the backup names: "../" in it would reach out.
    _write_journal(tree_root, {'token': '../../x', 'dirs': [],
                               'changes': [{'path': API, 'kind': 'modify'}]})
    before = realtree.snapshot(tree_root)
    code, out, err = cli('apply', '--nova-tree', tree_root)
    assert code == 2 and 'damaged' in err, out + err
    assert realtree.snapshot(tree_root) == before


# ------------------------------------------------------ damaged journals

DAMAGED = [
    ('object', {}),
    ('list', []),
    ('null', None),
    ('string', 'rolled back'),
    ('number', 7),
    ('no changes', {'token': '0123456789ab', 'dirs': []}),
    ('no token', {'dirs': [], 'changes': []}),
    ('no dirs', {'token': '0123456789ab', 'changes': []}),
    ('changes not a list', {'token': '0123456789ab', 'dirs': [],
                            'changes': {'path': API}}),
    ('entry not an object', {'token': '0123456789ab', 'dirs': [],
                             'changes': [API]}),
    ('entry without kind', {'token': '0123456789ab', 'dirs': [],
                            'changes': [{'path': API}]}),
    ('unknown kind', {'token': '0123456789ab', 'dirs': [],
                      'changes': [{'path': API, 'kind': 'explode'}]}),
    ('path not a string', {'token': '0123456789ab', 'dirs': [],
                           'changes': [{'path': 3, 'kind': 'modify'}]}),
    ('committed not a boolean', {'token': '0123456789ab', 'dirs': [],
                                 'changes': [], 'committed': 'yes'}),
    ('not JSON', b'{"token": "0123'),
    ('not UTF-8', b'\xff\xfe{}'),
    ('empty', b''),
]


@pytest.mark.parametrize('action', ['status', 'check', 'apply', 'revert'])
@pytest.mark.parametrize('label,record', DAMAGED,
                         ids=[label for label, _record in DAMAGED])
def test_damaged_journal_is_a_clear_error(tree_root, action, label, record):
    # Before the fix: tracebacks (AttributeError, KeyError, TypeError) for
    # apply and revert, "interrupted ... roll it back" advice for status,
    # and "rolled back" for the JSON that does not parse.
    _write_journal(tree_root, record)
    before = realtree.snapshot(tree_root)
    code, out, err = cli(action, '--nova-tree', tree_root)
    assert code == 2, out + err
    assert _journal_path(tree_root) in err and 'damaged' in err, err
    assert 'rolled back' not in out + err
    assert realtree.snapshot(tree_root) == before


def test_truncated_journal_is_not_reported_rolled_back(tree_root,
                                                       monkeypatch):
    # Before the fix: "an interrupted earlier run was rolled back first"
    # while api.py and the hooks module stayed changed, the backups hidden
    # beside them; then status said 4 and neither apply nor revert could
    # proceed.
    pristine = realtree.snapshot(tree_root)
    interrupted_apply(tree_root, monkeypatch)
    path = _journal_path(tree_root)
    with io.open(path, 'rb') as handle:
        data = handle.read()
    with io.open(path, 'wb') as handle:
        handle.write(data[:len(data) // 2])
    before = realtree.snapshot(tree_root)
    for action in ('apply', 'revert', 'status'):
        code, out, err = cli(action, '--nova-tree', tree_root)
        assert code == 2, out + err
        assert 'rolled back' not in out + err
        assert path in err and 'damaged' in err
        assert realtree.snapshot(tree_root) == before
    # The message names the backups left beside the files and says how to
    # put them back; doing so gives a tree the command can revert.
    assert '.nova-imgmeta-orig' in err and 'mv ' in err, err
    for line in err.splitlines():
        words = line.split()
        if words[:1] == ['mv']:
            os.rename(os.path.join(tree_root, words[1]),
                      os.path.join(tree_root, words[2]))
        elif words[:1] == ['rm']:
            os.unlink(os.path.join(tree_root, words[1]))
        elif words[:1] == ['rmdir']:
            os.rmdir(os.path.join(tree_root, words[1]))
    code, out, err = cli('revert', '--nova-tree', tree_root)
    assert code == 0, out + err
    assert realtree.snapshot(tree_root) == pristine


# ------------------------------------------- leftovers of a journal write

def test_journal_new_leftover_reported_by_status(tree_root):
    # A run killed while writing its first journal changed nothing yet.
    with io.open(os.path.join(tree_root, JOURNAL_NEW), 'wb') as handle:
        handle.write(b'{"token": "0123')
    code, out, err = cli('status', '--nova-tree', tree_root)
    assert code == 1, out + err
    assert JOURNAL_NEW in out
    assert os.path.exists(os.path.join(tree_root, JOURNAL_NEW))


@pytest.mark.parametrize('action', ['apply', 'revert'])
def test_journal_new_leftover_removed(tree_root, action):
    pristine = realtree.snapshot(tree_root)
    with io.open(os.path.join(tree_root, JOURNAL_NEW), 'wb') as handle:
        handle.write(b'{"token": "0123')
    code, out, err = cli(action, '--nova-tree', tree_root)
    assert code == 0, out + err
    assert JOURNAL_NEW in out and 'removed' in out
    assert not os.path.exists(os.path.join(tree_root, JOURNAL_NEW))
    if action == 'revert':
        assert realtree.snapshot(tree_root) == pristine


def test_journal_new_beside_an_uncommitted_journal(tree_root, monkeypatch):
    # Killed while writing the commit record: every file was replaced, the
    # journal on disk is the uncommitted one. revert rolls back with it and
    # removes the half-written record too.
    pristine = realtree.snapshot(tree_root)
    calls = []
    real = transaction._write_journal

    def killed_at_commit_record(root, record):
        calls.append(record)
        if len(calls) == 2:
            with io.open(os.path.join(root, JOURNAL_NEW), 'wb') as handle:
                handle.write(b'{"committed": tr')
            raise _Killed()
        return real(root, record)
    monkeypatch.setattr(transaction, '_write_journal', killed_at_commit_record)
    monkeypatch.setattr(transaction, '_rollback', lambda *args: None)
    with pytest.raises(_Killed):
        cli('apply', '--nova-tree', tree_root)
    monkeypatch.undo()
    code, out, err = cli('revert', '--nova-tree', tree_root)
    assert code == 0, out + err
    assert 'rolled back' in out
    assert realtree.snapshot(tree_root) == pristine


# ------------------------------------- kill -9 inside the journal writes

KILL_POINTS = [(write, step) for write in (1, 2)
               for step in ('created', 'half written', 'written',
                            'renamed')]


def _killed_apply(root, write, step):
    """Run apply in a child killed (SIGKILL) at a step of journal write #n.

    Write 1 names the files before any change; write 2 is the commit
    record, after every file was replaced.
    """
    pid = os.fork()
    if pid == 0:                                   # the child
        try:
            seen = []

            def checkpoint(name):
                if name == 'created':
                    seen.append(name)
                if len(seen) == write and name == step:
                    os.kill(os.getpid(), signal.SIGKILL)
            transaction_journal._checkpoint = checkpoint
            realtree.cli('apply', '--nova-tree', root)
        finally:
            os._exit(0)                            # not killed: a failure
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and \
        os.WTERMSIG(status) == signal.SIGKILL, 'the child was not killed'


@pytest.mark.parametrize('then', ['apply', 'revert'])
@pytest.mark.parametrize('write,step', KILL_POINTS,
                         ids=['write%d-%s' % (w, s.replace(' ', '-'))
                              for w, s in KILL_POINTS])
def test_killed_inside_a_journal_write(make_tree, write, step, then):
    root = make_tree()
    pristine = realtree.snapshot(root)
    reference = make_tree(name='reference')
    assert cli('apply', '--nova-tree', reference)[0] == 0
    patched = realtree.snapshot(reference)

    _killed_apply(root, write, step)
    journal_there = os.path.exists(_journal_path(root))
    new_there = os.path.exists(os.path.join(root, JOURNAL_NEW))
    # Write 1 renamed or later: the journal is there, whole.
    assert journal_there == (write == 2 or step == 'renamed')
    # The killed run kept its lock file (not its lock: the kernel dropped
    # that); the next run takes it.
    assert os.path.exists(os.path.join(root, lock.LOCK_NAME))

    code, out, err = cli('status', '--nova-tree', root)
    if journal_there:
        assert code == 2 and 'interrupted' in err, out + err
    else:                      # nothing was changed yet
        assert code == 1 and new_there and JOURNAL_NEW in out, out + err
    code, out, err = cli(then, '--nova-tree', root)
    assert code == 0, out + err
    assert 'rolled back' in out or 'completed' in out or \
        not journal_there, out
    assert realtree.snapshot(root) == (patched if then == 'apply'
                                       else pristine)
