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

"""The journal of a patch transaction: written atomically, read warily.

The journal (``.nova-imgmeta-patch.journal`` in the tree's root) names the
files a run of ``nova-imgmeta patch`` changes before it changes any
(:mod:`nova_imgmeta.patching.transaction`), so that the next run can roll
an interrupted one back. Rolling back renames and removes files: a journal
is only acted on when it is exactly what a run writes (a JSON object with a
12-digit hexadecimal token, the directories created and the changes, every
path relative, without ``..``, resolving inside the tree through no
symbolic link). Anything else is a DamagedJournal: nothing is touched, and
the message names the file, the backups found beside Nova's files and the
commands that put them back.

Writing goes to ``.nova-imgmeta-patch.journal.new`` (synced), renamed over
the journal, then the directory is synced: a journal is whole or absent. A
run killed during that write leaves the ``.new`` file; without a journal
it changed nothing yet, and the next apply or revert removes it.
"""

import errno
import io
import json
import os
import re

from nova_imgmeta.durable import fsync_dir
from nova_imgmeta.durable import write_all
from nova_imgmeta.patching.errors import DamagedJournal
from nova_imgmeta.patching.errors import PatchError

__all__ = ['JOURNAL_NAME', 'NEW_NAME', 'KINDS', 'backup_names', 'write',
           'load', 'exists', 'new_exists', 'remove_new', 'unlink_quiet']

JOURNAL_NAME = '.nova-imgmeta-patch.journal'
NEW_NAME = JOURNAL_NAME + '.new'
KINDS = ('create', 'modify', 'remove')

_TOKEN_RE = re.compile(r'^[0-9a-f]{12}$')
_BACKUP_RE = re.compile(r'^\.(.+)\.([0-9a-f]{12})\.nova-imgmeta-(new|orig)$')

try:
    _TEXT = (str, unicode)          # noqa: F821 (Python 2.7)
except NameError:
    _TEXT = (str,)


def backup_names(path, token):
    """(new content, kept original) beside path, for the run ``token``."""
    directory, base = os.path.split(path)
    return (os.path.join(directory, '.%s.%s.nova-imgmeta-new' % (base, token)),
            os.path.join(directory, '.%s.%s.nova-imgmeta-orig' % (base,
                                                                  token)))


def _checkpoint(name):
    """Test seam: called between the steps of a journal write."""


def write(root, record):
    """Replace the journal by record, all at once."""
    path = os.path.join(root, JOURNAL_NAME)
    temp = os.path.join(root, NEW_NAME)
    data = json.dumps(record, indent=1, sort_keys=True).encode('utf-8')
    unlink_quiet(temp)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        _checkpoint('created')
        write_all(fd, data[:len(data) // 2])
        _checkpoint('half written')
        write_all(fd, data[len(data) // 2:])
        os.fsync(fd)
    finally:
        os.close(fd)
    _checkpoint('written')
    os.rename(temp, path)
    _checkpoint('renamed')
    # the rename is durable before the files it covers change
    fsync_dir(root)


def exists(root):
    return os.path.lexists(os.path.join(root, JOURNAL_NAME))


def new_exists(root):
    return os.path.lexists(os.path.join(root, NEW_NAME))


def remove_new(root):
    """Remove a ``.journal.new``; True if there was one."""
    try:
        os.unlink(os.path.join(root, NEW_NAME))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return False
        raise PatchError('cannot remove %s: %s' % (
            os.path.join(root, NEW_NAME), exc.strerror))
    return True


def load(root):
    """The checked journal record of root, or None when there is none."""
    path = os.path.join(root, JOURNAL_NAME)
    if os.path.islink(path):
        raise _damaged(root, 'it is a symbolic link')
    try:
        with io.open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise PatchError('cannot read the journal %s: %s'
                         % (path, exc.strerror or exc))
    try:
        record = json.loads(data.decode('utf-8'))
    except ValueError:          # UnicodeDecodeError is a ValueError too
        raise _damaged(root, 'it is not complete JSON (%d bytes: cut off '
                             'by a crash, or overwritten)' % len(data))
    problem = _problem(root, record)
    if problem:
        raise _damaged(root, problem)
    return record


def _problem(root, record):
    """What makes record unusable, or None."""
    if not isinstance(record, dict):
        return 'it holds a JSON %s, not the object a run writes' % (
            type(record).__name__ if record is not None else 'null')
    missing = [key for key in ('token', 'dirs', 'changes')
               if key not in record]
    if missing:
        return 'it lacks %s' % ', '.join(missing)
    if not isinstance(record['token'], _TEXT) or \
            not _TOKEN_RE.match(record['token']):
        return 'its token %r is not 12 hexadecimal digits' % (
            record['token'],)
    if not isinstance(record.get('committed', False), bool):
        return '"committed" is not true or false'
    if not isinstance(record['dirs'], list) or \
            not isinstance(record['changes'], list):
        return '"dirs" and "changes" must be lists'
    for entry in record['changes']:
        if not isinstance(entry, dict) or \
                not isinstance(entry.get('path'), _TEXT) or \
                entry.get('kind') not in KINDS:
            return 'a change is not {"path": ..., "kind": one of %s}: %r' % (
                ', '.join(KINDS), entry)
    for path in record['dirs']:
        if not isinstance(path, _TEXT):
            return 'a directory is not a path: %r' % (path,)
    for path in record['dirs'] + [e['path'] for e in record['changes']]:
        problem = _outside(root, path)
        if problem:
            return 'it names %r, %s' % (path, problem)
    return None


def _outside(root, path):
    """Why path (relative to root) would reach outside the tree, or None."""
    parts = path.split('/')
    if not path or os.path.isabs(path) or '\0' in path or '\\' in path or \
            any(part in ('', '.', '..') for part in parts):
        return 'a path outside the tree (only plain relative paths are ' \
            'written)'
    real_root = os.path.realpath(root)
    parent = os.path.realpath(os.path.join(root, *parts[:-1])) \
        if len(parts) > 1 else real_root
    if parent != real_root and \
            not parent.startswith(real_root.rstrip(os.sep) + os.sep):
        return 'whose directory leads outside the tree (a symbolic link ' \
            'to %s)' % parent
    if os.path.islink(os.path.join(root, *parts)):
        return 'a symbolic link (it may point outside the tree; a run ' \
            'never writes one)'
    return None


def _damaged(root, why):
    path = os.path.join(root, JOURNAL_NAME)
    leftovers = _leftovers(root)
    lines = ['the journal %s is damaged: %s. It cannot say which files an '
             'interrupted run changed, so nothing was touched.' % (path, why)]
    if leftovers:
        lines.append('Files that run left beside Nova\'s (a "-orig" file is '
                     'the original of the file it is named for, a "-new" '
                     'file a content not put in place). To put them back:')
        lines.append('  cd %s' % _quote(root))
        lines += ['  %s' % command for command in leftovers]
        lines.append('  rm %s' % JOURNAL_NAME)
        lines.append('then "nova-imgmeta patch status" names any file that '
                     'run created (as leftovers), which "revert" removes.')
    else:
        lines.append('No file left by a run was found under %s. If you '
                     'know no run was interrupted, remove the journal; '
                     'else reinstall nova (pip install --force-reinstall '
                     '--no-deps nova==VERSION, or its distribution '
                     'package) before removing it.' % os.path.join(root,
                                                                   'nova'))
    return DamagedJournal('\n'.join(lines))


def _leftovers(root):
    """Shell commands putting back what a run left under root/nova.

    The backups ("-orig": moved back, or removed when the file is still
    the original), the new contents not put in place ("-new": removed),
    then the directories that held nothing else: Nova's trees have no
    empty directory, so the run created those.
    """
    commands, emptied = [], set()
    top = os.path.join(root, 'nova')
    for dirpath, dirnames, filenames in os.walk(top, topdown=False):
        kept, ours = False, False
        for name in sorted(filenames):
            match = _BACKUP_RE.match(name)
            if not match:
                kept = True
                continue
            ours = True
            found = os.path.relpath(os.path.join(dirpath, name), root)
            target = os.path.join(os.path.dirname(found), match.group(1))
            if match.group(3) == 'orig' and not _same_file(
                    os.path.join(root, found), os.path.join(root, target)):
                commands.append('mv %s %s' % (_quote(found), _quote(target)))
                kept = True
            else:
                commands.append('rm %s' % _quote(found))
        subdirs = [os.path.join(dirpath, name) for name in dirnames]
        if dirpath != top and not kept and (ours or subdirs) and all(
                path in emptied for path in subdirs):
            emptied.add(dirpath)
    return commands + ['rmdir %s' % _quote(os.path.relpath(path, root))
                       for path in sorted(emptied, reverse=True)]


def _same_file(a, b):
    """b is a (a hard link), or an equal copy (then a can just go)."""
    try:
        if os.path.samefile(a, b):
            return True
        with io.open(a, 'rb') as one, io.open(b, 'rb') as other:
            return os.stat(a).st_mode == os.stat(b).st_mode and \
                one.read() == other.read()
    except (IOError, OSError):
        return False


def _quote(text):
    if re.match(r'^[\w@%+=:,./-]+$', text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def unlink_quiet(path):
    """Remove path; one that is already gone is no error."""
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
