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

"""The patch command's transaction: a tree's files changed all together,
or not at all.

``commit(root, changes, expected)`` first writes every new content into a
temporary file beside its target, then moves the targets aside (a hard link,
or a copy where links are refused) and renames the new files into place.
Any failure, at any step, puts every file back: the original inode returns
under its name (same bytes, mode, owner and times), created files and
directories go away, no temporary file stays. A journal in the tree's root
(:mod:`~nova_imgmeta.patching.transaction_journal`: written atomically,
checked before use) names every file involved before the first change, so
that a run killed half way is rolled back by the next ``apply`` or
``revert`` (``recover``). Not to be confused with the backfill journal of
the Glance commands (``nova_imgmeta/catalogue/``): this one is about Nova's
files.
"""

import errno
import io
import os
import shutil
import stat
import uuid

from nova_imgmeta.patching.errors import PatchError
from nova_imgmeta.patching.errors import RollbackFailed
from nova_imgmeta.patching import transaction_journal
from nova_imgmeta.patching.transaction_journal import JOURNAL_NAME
from nova_imgmeta.patching.transaction_journal import NEW_NAME

__all__ = ['JOURNAL_NAME', 'NEW_NAME', 'FileChange', 'commit', 'recover',
           'pending', 'check_pending', 'check_no_links']

# Test seams (with _write_new below): the steps that change the tree. A
# test makes the k-th call fail to prove that every earlier step is undone.
_install = os.rename          # new content into place
_remove = os.unlink           # a file the change deletes


class FileChange(object):
    """One file of a tree patched: set ``path`` to ``data`` (bytes), or
    remove it (``data`` None).
    """

    def __init__(self, path, data, mode=None):
        self.path = path
        self.data = data
        self.mode = mode          # for a created file

    def __repr__(self):
        return 'FileChange(%r, %s)' % (
            self.path,
            'remove' if self.data is None else '%d bytes' % len(self.data))


_names = transaction_journal.backup_names


def check_no_links(root, paths):
    """Refuse symbolic links at, or on the way to, any path to change.

    Writing through a link would change a file outside the tree (or turn
    the link into a file); the operator decides what the link should be.
    """
    for path in paths:
        parts = path.split('/')
        for depth in range(1, len(parts) + 1):
            partial = os.path.join(root, *parts[:depth])
            if os.path.islink(partial):
                raise PatchError(
                    '%s is a symbolic link (to %s): nova-imgmeta patch does '
                    'not write through links. Patch the tree it points to, '
                    'or replace the link with a copy of its target. Nothing '
                    'was changed.' % (partial, os.readlink(partial)))


def _fsync_write(path, data, mode, owner):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with io.open(fd, 'wb', closefd=False) as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.fchmod(fd, mode)
        if owner is not None and owner != (os.geteuid(), os.getegid()):
            os.fchown(fd, owner[0], owner[1])
    finally:
        os.close(fd)


# Test seam: writing a new content beside its target.
_write_new = _fsync_write


def _write_journal(root, record):
    transaction_journal.write(root, record)


def pending(root):
    """True when an interrupted apply or revert left its journal."""
    return transaction_journal.exists(root)


def check_pending(root):
    """For the commands that only read: refuse an interrupted run's tree.

    Returns notes (a ``.journal.new`` left by a run killed before it
    changed anything); raises DamagedJournal, or PatchError when a run
    must be rolled back first.
    """
    if transaction_journal.load(root) is not None:
        raise PatchError(
            'an interrupted apply or revert left %s in %s; run "nova-imgmeta '
            'patch apply" or "revert" (without --dry-run) to roll it back '
            'first' % (JOURNAL_NAME, root))
    if transaction_journal.new_exists(root):
        return ['%s was left by a run killed while writing its journal, '
                'before it changed anything; the next apply or revert '
                'removes it' % os.path.join(root, NEW_NAME)]
    return []


def commit(root, changes, expected):
    """Make every change, or none.

    ``expected`` is {path: bytes or None} as the changes were computed
    from: a tree changed meanwhile is refused before anything is written.
    Raises PatchError (nothing changed) or RollbackFailed.
    """
    changes = sorted(changes, key=lambda change: change.path)
    check_no_links(root, [change.path for change in changes])
    for change in changes:
        current = _read_quiet(os.path.join(root, change.path))
        if current != expected.get(change.path):
            raise PatchError('%s changed while nova-imgmeta patch was '
                             'working; nothing was changed, run it again'
                             % change.path)
    token = uuid.uuid4().hex[:12]
    record = {'token': token, 'dirs': _missing_dirs(root, changes),
              'changes': [{'path': change.path,
                           'kind': _kind(change, expected)}
                          for change in changes]}
    try:
        _write_journal(root, record)
        _stage(root, record, changes)
        for change in changes:
            _step('replacing' if change.data is not None else 'removing',
                  change.path, _apply_one, root, token, change)
        for change in changes:
            if _read_quiet(os.path.join(root, change.path)) != change.data:
                raise PatchError('%s does not hold what was written'
                                 % change.path)
        # The commit point: from here on, recovery completes the change
        # (drops the backups) instead of undoing it.
        record['committed'] = True
        _write_journal(root, record)
    except BaseException as exc:
        record.pop('committed', None)
        _rollback(root, record, exc)
        if isinstance(exc, (PatchError, EnvironmentError)):
            raise PatchError('%s; every file was put back as it was, '
                             'nothing was changed' % _describe(exc))
        raise
    _cleanup(root, record)


def _step(doing, path, func, *args):
    """Run func; an OS error names the file of the tree it was about."""
    try:
        func(*args)
    except EnvironmentError as exc:
        raise PatchError('%s %s failed: %s' % (doing, path,
                                               exc.strerror or exc))


def _kind(change, expected):
    if change.data is None:
        return 'remove'
    return 'create' if expected.get(change.path) is None else 'modify'


def _missing_dirs(root, changes):
    """Directories to create for new files, parents first."""
    dirs = []
    for change in changes:
        if change.data is None:
            continue
        parts = change.path.split('/')[:-1]
        for depth in range(1, len(parts) + 1):
            rel = '/'.join(parts[:depth])
            if not os.path.isdir(os.path.join(root, rel)) and \
                    rel not in dirs:
                dirs.append(rel)
    return dirs


def _stage(root, record, changes):
    for rel in record['dirs']:
        _step('creating the directory', rel, os.mkdir,
              os.path.join(root, rel), 0o755)
    for change in changes:
        if change.data is None:
            continue
        target = os.path.join(root, change.path)
        new, _orig = _names(target, record['token'])
        try:
            info = os.stat(target)
        except OSError:
            mode, owner = change.mode or 0o644, None
        else:
            mode = stat.S_IMODE(info.st_mode)
            owner = (info.st_uid, info.st_gid)
        _step('writing the new content of', change.path, _write_new, new,
              change.data, mode, owner)


def _apply_one(root, token, change):
    target = os.path.join(root, change.path)
    new, orig = _names(target, token)
    if os.path.lexists(target):
        try:
            os.link(target, orig)
        except OSError:
            # No hard links here (or an immutable file): keep a copy.
            shutil.copy2(target, orig)
            info = os.stat(target)
            os.chown(orig, info.st_uid, info.st_gid)
    if change.data is None:
        _remove(target)
    else:
        _install(new, target)


def _rollback(root, record, cause):
    """Put every file of the journal back; raise RollbackFailed if not."""
    problems = []
    token = record['token']
    for entry in record['changes']:
        target = os.path.join(root, entry['path'])
        new, orig = _names(target, token)
        try:
            if os.path.lexists(orig):
                if _same_file(orig, target):  # not replaced yet
                    os.unlink(orig)
                else:
                    os.rename(orig, target)
            elif entry['kind'] == 'create':
                transaction_journal.unlink_quiet(target)
            transaction_journal.unlink_quiet(new)
        except EnvironmentError as exc:
            problems.append('%s: %s (original kept as %s)'
                            % (entry['path'], exc, orig))
    for rel in reversed(record['dirs']):
        try:
            os.rmdir(os.path.join(root, rel))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                problems.append('%s: directory created by nova-imgmeta '
                                'patch not removed: %s' % (rel, exc))
    if problems:
        raise RollbackFailed(
            '%s; then putting the tree back failed too, these files are '
            'left changed:\n  %s\nThe journal %s stays; fix the cause and '
            'run apply or revert again to finish the roll-back'
            % (_describe(cause), '\n  '.join(problems),
               os.path.join(root, JOURNAL_NAME)))
    transaction_journal.unlink_quiet(os.path.join(root, JOURNAL_NAME))


def _cleanup(root, record):
    """Drop the backups of a committed change, then its journal."""
    token = record['token']
    for entry in record['changes']:
        _new, orig = _names(os.path.join(root, entry['path']), token)
        transaction_journal.unlink_quiet(orig)
    transaction_journal.unlink_quiet(os.path.join(root, JOURNAL_NAME))


def recover(root):
    """Finish what an interrupted run left; notes on what was done.

    A committed run is completed (its backups dropped), any other rolled
    back, a ``.journal.new`` removed. Raises DamagedJournal (nothing
    touched) for a journal that cannot be trusted.
    """
    notes = []
    record = transaction_journal.load(root)
    if record is not None:
        if record.get('committed'):
            _cleanup(root, record)  # it had finished: drop the backups
            notes.append('an interrupted earlier run was completed first')
        else:
            _rollback(root, record,
                      PatchError('an earlier run was interrupted'))
            notes.append('an interrupted earlier run was rolled back first')
    if transaction_journal.remove_new(root):
        notes.append('removed %s, left by a run killed while writing its '
                     'journal%s' % (NEW_NAME, '' if record is not None else
                                    ' (before it changed anything)'))
    return notes


def _same_file(orig, target):
    """True when target is still the original: its link, or equal copy."""
    try:
        if os.path.samefile(orig, target):
            return True
        a, b = os.stat(orig), os.stat(target)
    except OSError:
        return False
    return (a.st_mode, a.st_uid, a.st_gid) == (b.st_mode, b.st_uid,
                                               b.st_gid) and \
        _read_quiet(orig) == _read_quiet(target)


def _describe(exc):
    if isinstance(exc, EnvironmentError) and exc.filename:
        return '%s: %s' % (exc.filename, exc.strerror or exc)
    return str(exc) or exc.__class__.__name__


def _read_quiet(path):
    try:
        with io.open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError):
        return None
