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

"""Check, apply and revert the Nova patch series shipped with this package.

``series``: the MAP and the series; ``tree``: finding Nova and its version;
``choice``: which series a tree gets (MAP for a release, else the series
of its line tried, with ``scopes``: where each hunk lands); ``survey``:
what the tree carries, worked out with ``patch -p1 -F0`` on a scratch
copy; ``transaction`` and ``transaction_journal``: writing the result
into the tree all together or not at all; ``lock``: one run at a time per
tree. ``run`` is a whole command under the tree's lock; the functions
return a Result, which ``nova_imgmeta.cli.patch`` prints. Works on Python
2.7, 3.6 and later with the standard library alone; imports nothing from
Nova.
"""

import errno
import os
import re

from nova_imgmeta.patching.choice import choose
from nova_imgmeta.patching.choice import TESTS_DIR
from nova_imgmeta.patching.errors import DamagedJournal
from nova_imgmeta.patching.errors import LockTimeout
from nova_imgmeta.patching.errors import NoSeriesChoice
from nova_imgmeta.patching.errors import PatchError
from nova_imgmeta.patching.errors import RollbackFailed
from nova_imgmeta.patching.errors import UnknownVersion
from nova_imgmeta.patching import lock
from nova_imgmeta.patching.series import load_map
from nova_imgmeta.patching.series import load_series
from nova_imgmeta.patching.series import parse_version
from nova_imgmeta.patching.series import select_series
from nova_imgmeta.patching.series import Series
from nova_imgmeta.patching.series import series_names
from nova_imgmeta.patching.survey import APPLIED
from nova_imgmeta.patching.survey import MISMATCH
from nova_imgmeta.patching.survey import NOT_APPLIED
from nova_imgmeta.patching.survey import PARTIAL
from nova_imgmeta.patching.survey import State
from nova_imgmeta.patching.survey import survey
from nova_imgmeta.patching import transaction
from nova_imgmeta.patching.tree import find_nova_tree
from nova_imgmeta.patching.tree import installed_tree
from nova_imgmeta.patching.tree import NovaTree
from nova_imgmeta.patching.tree import tree_from_path

__all__ = [
    'PatchError', 'UnknownVersion', 'NoSeriesChoice', 'RollbackFailed',
    'DamagedJournal', 'LockTimeout',
    'NovaTree', 'Series', 'State', 'Result',
    'APPLIED', 'NOT_APPLIED', 'PARTIAL', 'MISMATCH', 'TESTS_DIR',
    'load_map', 'select_series', 'series_names', 'load_series',
    'parse_version', 'find_nova_tree', 'tree_from_path', 'installed_tree',
    'choose', 'resolve', 'run', 'status', 'check', 'apply', 'revert',
]


class Result(object):
    """What an action found and did; the CLI turns it into text.

    ``state``: the State found first. ``patches``: names of the patches
    applied or reverted (or that would be, with ``dry_run``). ``written``
    and ``removed``: paths changed in the tree. ``notes``: facts worth
    telling (files left out, leftovers reused, an interrupted run rolled
    back, compiled files that could not be removed). ``error``: why a
    write failed (the tree was put back as it was). ``choice``: the
    choice.Choice that gave the series (set by ``run``).
    """

    def __init__(self, action, tree, series, state, ok, patches=(),
                 written=(), removed=(), notes=(), dry_run=False,
                 error=''):
        self.action = action
        self.tree = tree
        self.series = series
        self.state = state
        self.ok = ok
        self.patches = list(patches)
        self.written = list(written)
        self.removed = list(removed)
        self.notes = list(notes)
        self.dry_run = dry_run
        self.error = error
        self.choice = None

    def __repr__(self):
        return 'Result(%r, %r, ok=%r, %r)' % (self.action, self.state.state,
                                              self.ok, self.patches)


def resolve(tree, series_name=None, patches_dir=None):
    """The Series to use for a NovaTree (see choice.choose)."""
    return choose(tree, series_name, patches_dir).series


def run(action, tree, series_name=None, dry_run=False, patches_dir=None,
        scopes_file=None, lock_timeout=None, on_wait=None):
    """One command (status, check, apply, revert), start to end, locked.

    Under the tree's lock (``lock.hold``; on_wait and lock_timeout are
    its): an interrupted run is rolled back (apply, revert) or refused
    (the others), the series chosen, then the action done. Returns its
    Result, with ``choice`` set.
    """
    if action not in _ACTIONS:
        raise PatchError('unknown action %r' % (action,))
    writes = action in ('apply', 'revert') and not dry_run
    notes = []
    with lock.hold(tree.root, action, write=writes, timeout=lock_timeout,
                   on_wait=on_wait) as held:
        before = None if held.locked else _fingerprint(tree.root,
                                                       patches_dir)
        if writes:
            notes = transaction.recover(tree.root)
        else:
            transaction.check_pending(tree.root)   # its notes come with result
        chosen = choose(tree, series_name, patches_dir, scopes_file)
        if action in ('status', 'check'):
            result = _ACTIONS[action](tree, chosen.series,
                                      _state=chosen.state)
        else:
            result = _ACTIONS[action](tree, chosen.series, dry_run=dry_run,
                                      _state=chosen.state)
        if before is not None and _fingerprint(tree.root,
                                               patches_dir) != before:
            raise PatchError(
                '%s changed while it was read without the lock (another '
                'user\'s nova-imgmeta patch run?); nothing was done, run '
                'this again' % tree.root)
    result.choice = chosen
    result.notes = notes + result.notes + ([held.note] if held.note else [])
    return result


def _fingerprint(root, patches_dir):
    """What a writer would change: the root and every file a series touches.

    Writers create the lock and the journal in the root and rename files
    into place (new inodes): an unlocked read compares this before and
    after.
    """
    from nova_imgmeta.patching.choice import all_series_names

    paths = set()
    for name in all_series_names(patches_dir):
        paths.update(load_series(name, patches_dir).touched_files())
    found = []
    for path in [''] + sorted(paths):
        try:
            info = os.lstat(os.path.join(root, path))
        except OSError:
            found.append(None)
            continue
        found.append((info.st_ino, info.st_size, info.st_mtime,
                      info.st_ctime))
    return found


def _notes(tree, series, state):
    notes = []
    if series.skipped:
        notes.append(
            'this Nova has no nova/tests (as distribution packages install '
            'it): the series goes in without its changes to %d test files '
            '(%s)' % (len(series.skipped), ', '.join(series.skipped)))
    if state.leftovers:
        notes.append(
            'already present with the content the series gives them (left '
            'by an earlier apply: reinstalling nova does not remove them): '
            '%s' % ', '.join(state.leftovers))
    return notes


def status(tree, series, _state=None):
    """Find out how much of the series the tree carries (a Result).

    _state: the survey run() already made under the same lock.
    """
    with lock.hold(tree.root, 'status', write=False):
        pending_notes = transaction.check_pending(tree.root)
        state = _state or survey(tree, series)
    return Result('status', tree, series, state,
                  state.state != MISMATCH,
                  notes=pending_notes + _notes(tree, series, state))


def check(tree, series, _state=None):
    """Would apply succeed (or is the series already in)?"""
    result = status(tree, series, _state)
    result.action = 'check'
    return result


def apply(tree, series, dry_run=False, _state=None):
    """Apply what the tree lacks of the series."""
    with lock.hold(tree.root, 'apply', write=not dry_run):
        return _change(tree, series, 'apply', dry_run, _state)


def revert(tree, series, dry_run=False, _state=None):
    """Revert what the tree carries of the series."""
    with lock.hold(tree.root, 'revert', write=not dry_run):
        return _change(tree, series, 'revert', dry_run, _state)


_ACTIONS = {'status': status, 'check': check, 'apply': apply,
            'revert': revert}


def _change(tree, series, action, dry_run, state=None):
    if dry_run:
        notes = transaction.check_pending(tree.root)
    else:
        notes = transaction.recover(tree.root)
    if notes and not dry_run:
        state = None            # the tree was just rolled back: look again
    state = state or survey(tree, series)
    notes += _notes(tree, series, state)
    if state.state == MISMATCH:
        return Result(action, tree, series, state, False, notes=notes,
                      dry_run=dry_run)
    if action == 'apply':
        target = state.full
        patches = series.files[state.applied_count:]
    else:
        target = state.pristine
        patches = list(reversed(series.files[:state.applied_count]))
    changes = [transaction.FileChange(path, target[path],
                                      series.mode_of(path))
               for path in series.touched_files()
               if target[path] != state.original[path]]
    result = Result(action, tree, series, state, True,
                    [patch.name for patch in patches],
                    [c.path for c in changes if c.data is not None],
                    [c.path for c in changes if c.data is None],
                    notes, dry_run)
    if changes and not dry_run:
        try:
            transaction.commit(tree.root, changes, state.original)
        except RollbackFailed:
            raise
        except PatchError as exc:
            result.ok, result.error = False, str(exc)
            result.written, result.removed = [], []
            return result
        result.notes += _remove_compiled(tree.root,
                                         [c.path for c in changes])
        _prune_dirs(tree.root, result.removed)
    return result


def _prune_dirs(root, removed):
    """Remove the directories that apply created for files now removed."""
    for path in removed:
        parts = path.split('/')[:-1]
        while len(parts) > 1:
            try:
                os.rmdir(os.path.join(root, *parts))
            except OSError:
                break                  # not empty (or not ours to remove)
            parts.pop()


def _remove_compiled(root, paths):
    """Remove the compiled files of changed modules; notes on failures.

    Python rebuilds them; a stale one of a removed module could still be
    imported (Python 2 imports a lone .pyc), and a hash-based one of a
    changed module would never be checked again.
    """
    problems = []
    for path in paths:
        if not path.endswith('.py'):
            continue
        directory, name = os.path.split(os.path.join(root, path))
        stem = name[:-3]
        candidates = [os.path.join(directory, name + 'c'),
                      os.path.join(directory, name + 'o')]
        cache = os.path.join(directory, '__pycache__')
        pattern = re.compile(r'^%s\.[^.]+(\.opt-\d+)?\.py[co]$'
                             % re.escape(stem))
        try:
            candidates += [os.path.join(cache, entry)
                           for entry in os.listdir(cache)
                           if pattern.match(entry)]
        except OSError:
            pass
        for candidate in candidates:
            try:
                os.unlink(candidate)
            except OSError as exc:
                if exc.errno != errno.ENOENT:
                    problems.append('%s: %s' % (candidate, exc.strerror))
        try:
            os.rmdir(cache)            # only if nothing else is cached there
        except OSError:
            pass
    if problems:
        return ['stale compiled files could not be removed (remove them by '
                'hand): %s' % ', '.join(problems)]
    return []
