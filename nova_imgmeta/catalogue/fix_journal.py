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

"""The fix journal of backfill and undo: JSON lines, each fsynced before
the next step (the patch command's journal is
:mod:`nova_imgmeta.patching.transaction_journal`).

One line per event, with the image id, the property key, the old and new
values (``null`` = the key was absent) and the UTC time::

    {"event": "begin", "image_id": "...", "key": "base_image_ref",
     "old": null, "new": "...", "run": "...", "time": "..."}

``begin`` is written and fsynced *before* the image is changed, ``done``
after Glance answered, ``failed`` when it refused. ``undo-begin`` and
``undone`` do the same for ``undo``. A line cut short by a crash (the last
one) is ignored on reading, and cut off before the next run appends, so
the file is never left unusable.

Several threads may write (``--workers``): each line is one ``write(2)``
on a file opened for appending, so lines never interleave, and the
threads share their fsyncs (group commit): a thread returns once a fsync
that started after its line was written has finished.

Reading is strict: a file that is not a journal (a directory, not UTF-8,
lines that are not journal records) is a :class:`JournalError` naming the
file, the line and what is wrong, before anything is written.
"""

import errno
import json
import logging
import os
import stat
import threading
import time
import uuid as uuid_mod

from nova_imgmeta.durable import fsync_dir
from nova_imgmeta.durable import write_all
from nova_imgmeta.exceptions import CommandError

LOG = logging.getLogger(__name__)

__all__ = ['BEGIN', 'DONE', 'EVENTS', 'FAILED', 'Journal', 'JournalError',
           'PropertyFix', 'UNDONE', 'UNDO_BEGIN', 'UNDO_FAILED', 'changes',
           'read']

BEGIN = 'begin'
DONE = 'done'
FAILED = 'failed'
UNDO_BEGIN = 'undo-begin'
UNDONE = 'undone'
UNDO_FAILED = 'undo-failed'
EVENTS = (BEGIN, DONE, FAILED, UNDO_BEGIN, UNDONE, UNDO_FAILED)


class JournalError(CommandError):
    """The journal cannot be read, or is in use by another run."""


def utcnow():
    return time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())


def new_run_id():
    return uuid_mod.uuid4().hex[:12]


_STRINGS = (type(u''), str)
#: fields every record has, and what each must be
_REQUIRED = ('event', 'image_id', 'key')


def _check_record(record):
    """What is wrong with one parsed line, or None."""
    if not isinstance(record, dict):
        return 'not a journal record (a JSON object with "event", ' \
            '"image_id", "key", "old", "new")'
    for name in _REQUIRED:
        value = record.get(name)
        if not isinstance(value, _STRINGS) or not value:
            return ('not a journal record: "%s" is %s' % (
                name, 'missing' if name not in record else
                'not a non-empty string (%s)' % json.dumps(value)[:60]))
    if record['event'] not in EVENTS:
        return 'not a journal record: unknown "event" %s (one of %s)' % (
            json.dumps(record['event'])[:60], ', '.join(EVENTS))
    for name in ('old', 'new'):
        value = record.get(name)
        if value is not None and not isinstance(value, _STRINGS):
            return ('not a journal record: "%s" is %s, not a string or '
                    'null' % (name, json.dumps(value)[:60]))
    return None


def _read_bytes(path):
    """The file's bytes, or None when there is no file; JournalError for
    anything that cannot be a journal file.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise JournalError('%s: cannot read it: %s' % (path, exc.strerror))
    if stat.S_ISDIR(info.st_mode):
        raise JournalError('%s is a directory, not a journal file (give '
                           'the path of a file)' % path)
    if not stat.S_ISREG(info.st_mode):
        raise JournalError('%s is not a regular file (a journal is a file '
                           'that backfill appends to)' % path)
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise JournalError('%s: cannot read it: %s' % (
            path, exc.strerror or exc))


def read(path):
    """Return the journal's records (dicts) in file order.

    A last line without its newline (a write cut short) is dropped; any
    other line that is not a journal record is an error, as is a file
    that is not UTF-8 text.
    """
    data = _read_bytes(path)
    if not data:
        return []
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data.count(b'\n', 0, exc.start) + 1
        raise JournalError('%s is not a journal: line %d is not UTF-8 text '
                           '(byte 0x%02x at offset %d)' % (
                               path, line, bytearray(data)[exc.start],
                               exc.start))
    records = []
    lines = text.split(u'\n')
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = _check_record(record)
        except ValueError as exc:
            problem = 'not JSON (%s)' % exc
        if problem:
            if number == last and line.startswith(u'{"'):
                break  # torn final write: the change it announced is
                #        re-checked against Glance by whoever reads on
            raise JournalError('%s is not a journal: line %d: %s' % (
                path, number + 1, problem))
        records.append(record)
    return records


class PropertyFix(object):
    """The life of one property change (image, key) that backfill made
    and undo may revert, as the journal tells it. Not to be confused with
    :class:`nova_imgmeta.patching.transaction.FileChange` (a file the patch
    command rewrites) nor :class:`nova_imgmeta.changes.MetadataChange` (a
    hook's edit of Nova's metadata).
    """

    def __init__(self, image_id, key):
        self.image_id = image_id
        self.key = key
        self.old = None        # value before the first change journaled
        self.new = None        # value of the last change journaled
        self.started = False
        self.state = None      # the last event
        self.order = 0
        self.before = None     # (new, state) before a chained begin

    def __repr__(self):
        return '<PropertyFix %s %s %s>' % (self.image_id, self.key,
                                           self.state)


def changes(records):
    """Fold records into {(image_id, key): PropertyFix}.

    ``old`` is the value before the first change still in effect, so that
    undo restores the state from before the whole journal: a later
    ``begin`` whose old value is the previous change's new value extends
    that change (``--force`` run twice); any other ``begin`` (the earlier
    change never reached Glance, or was undone) starts afresh.
    """
    result = {}
    for order, rec in enumerate(records):
        key = (rec['image_id'], rec.get('key'))
        change = result.get(key)
        event = rec.get('event')
        if event == BEGIN:
            chained = (change is not None and
                       change.state not in (UNDONE, FAILED) and
                       rec.get('old') == change.new)
            if chained:
                change.before = (change.new, change.state)
            else:
                change = PropertyFix(rec['image_id'], rec.get('key'))
                change.old = rec.get('old')
                change.order = order
                result[key] = change
            change.new = rec.get('new')
            change.started = True
        elif change is None:
            continue
        elif event == FAILED and change.before is not None:
            # this attempt changed nothing: back to the change before it
            change.new, change.state = change.before
            change.before = None
            continue
        change.state = event
    return result


class Journal(object):
    """An append-only journal file, locked against a second writer, safe
    to share between threads.
    """

    def __init__(self, path, run_id=None):
        self.path = path
        self.run_id = run_id or new_run_id()
        self._fd = None
        self._lock = threading.Lock()        # appends
        self._sync_lock = threading.Lock()   # one fsync at a time
        self._written = 0                    # lines appended
        self._synced = 0                     # lines known on disk
        #: fsyncs made, and lines they covered (group commit at work)
        self.fsyncs = 0

    def open(self):
        directory = os.path.dirname(os.path.abspath(self.path))
        created = not os.path.exists(self.path)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                     0o600)
        try:
            import fcntl
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (IOError, OSError):
                os.close(fd)
                raise JournalError('%s is in use by another nova-imgmeta '
                                   'run' % self.path)
        except ImportError:  # not POSIX
            pass
        if created:
            fsync_dir(directory)
        else:
            try:
                _end_torn_line(fd, self.path)
            except (IOError, OSError) as exc:
                os.close(fd)
                raise JournalError('%s: cannot end its last line: %s' % (
                    self.path, exc.strerror or exc))
        self._fd = fd
        return self

    def close(self):
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    def write(self, event, image_id, key, old=None, new=None, **extra):
        """Append one record; return once it is on disk (fsynced)."""
        if event not in EVENTS:
            raise ValueError('unknown journal event %r' % event)
        record = {'event': event, 'image_id': image_id, 'key': key,
                  'old': old, 'new': new, 'time': utcnow(),
                  'run': self.run_id}
        record.update(extra)
        data = (json.dumps(record, sort_keys=True) + '\n').encode('utf-8')
        with self._lock:
            write_all(self._fd, data)
            self._written += 1
            mine = self._written
        self._sync(mine)
        return record

    def _sync(self, mine):
        """fsync unless a fsync started after line ``mine`` was written
        already covered it (then the other thread's fsync is enough).
        """
        with self._sync_lock:
            if self._synced >= mine:
                return
            with self._lock:
                upto = self._written
                fd = self._fd
            os.fsync(fd)
            self._synced = upto
            self.fsyncs += 1


#: bytes read at a time when looking for the start of the last line
_TAIL_BLOCK = 4096


def _end_torn_line(fd, path):
    """Before appending: a last line without its newline (a run killed
    mid-write) would be glued to the next record and make the journal
    unreadable. A whole record lacking only its newline gets it (read()
    counts it); a fragment, which read() drops, is cut off.
    """
    size = os.fstat(fd).st_size
    if not size:
        return
    with open(path, 'rb') as handle:
        handle.seek(size - 1)
        if handle.read(1) == b'\n':
            return
        start = size
        tail = b''
        while start > 0 and b'\n' not in tail:
            step = min(_TAIL_BLOCK, start)
            start -= step
            handle.seek(start)
            tail = handle.read(step) + tail
    cut = tail.rfind(b'\n') + 1   # 0: the file is one torn line
    fragment = tail[cut:]
    start += cut
    try:
        whole = _check_record(json.loads(fragment.decode('utf-8'))) is None
    except ValueError:   # UnicodeDecodeError included
        whole = False
    if whole:
        write_all(fd, b'\n')
    else:
        LOG.warning('%s: dropping the incomplete last line (%d bytes) that '
                    'a run cut short left', path, len(fragment))
        os.ftruncate(fd, start)
    os.fsync(fd)
