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

"""The backfill journal: JSON lines, each fsynced before the next step.

One line per event, with the image id, the property key, the old and new
values (``null`` = the key was absent) and the UTC time::

    {"event": "begin", "image_id": "...", "key": "base_image_ref",
     "old": null, "new": "...", "run": "...", "time": "..."}

``begin`` is written and fsynced *before* the image is changed, ``done``
after Glance answered, ``failed`` when it refused. ``undo-begin`` and
``undone`` do the same for ``undo``. A line cut short by a crash (the last
one) is ignored on reading, so the file is never left unusable.
"""

import io
import json
import os
import time
import uuid as uuid_mod

from nova_imgmeta.exceptions import CommandError

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


def read(path):
    """Return the journal's records (dicts) in file order.

    A last line without its newline (a write cut short) is dropped; any
    other line that is not a JSON object is an error.
    """
    records = []
    if not os.path.exists(path):
        return records
    with io.open(path, 'r', encoding='utf-8') as handle:
        lines = handle.read().split('\n')
    last = len(lines) - 1
    for number, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict) or 'image_id' not in record:
                raise ValueError('not a journal record')
        except ValueError as exc:
            if number == last:
                break  # torn final write: the change it announced is
                #        re-checked against Glance by whoever reads on
            raise JournalError('%s line %d: %s' % (path, number + 1, exc))
        records.append(record)
    return records


class Change(object):
    """The life of one (image, key) change as the journal tells it."""

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
        return '<Change %s %s %s>' % (self.image_id, self.key, self.state)


def changes(records):
    """Fold records into {(image_id, key): Change}.

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
                change = Change(rec['image_id'], rec.get('key'))
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
    """An append-only journal file, locked against a second writer."""

    def __init__(self, path, run_id=None):
        self.path = path
        self.run_id = run_id or new_run_id()
        self._handle = None

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
        self._handle = os.fdopen(fd, 'ab')
        if created:
            _fsync_dir(directory)
        return self

    def close(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc_info):
        self.close()

    def write(self, event, image_id, key, old=None, new=None, **extra):
        """Append one record and fsync it before returning."""
        if event not in EVENTS:
            raise ValueError('unknown journal event %r' % event)
        record = {'event': event, 'image_id': image_id, 'key': key,
                  'old': old, 'new': new, 'time': utcnow(),
                  'run': self.run_id}
        record.update(extra)
        line = json.dumps(record, sort_keys=True) + '\n'
        self._handle.write(line.encode('utf-8'))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return record


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
