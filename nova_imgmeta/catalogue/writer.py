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

"""Journaled writes to Glance: apply a backfill plan, and undo it.

The images are taken :data:`CHUNK` at a time. For each chunk the images
are read again (one ``id=in:`` listing, a GET for those it does not show):
an image's current value is the journal's "old", and a value that
appeared since the listing is not overwritten without --force. Then, for
each image: journal ``begin`` (fsynced), one PATCH, journal ``done``.

``workers`` chunks are under way at once (:mod:`.pool`); the journal's
threads share their fsyncs. A run cut short, even by SIGKILL, leaves at
most one ``begin`` without its ``done`` per worker; the next run (or
undo) compares Glance's current value with the journal to finish it. A
write whose answer is lost or garbled (no answer, a server error, not
the API's answer) is read back: ``done`` if Glance has the new value,
else ``failed`` if it has the old one, else left open.
"""

from __future__ import absolute_import

import threading

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.catalogue import pool
from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud.glance import set_property_ops

__all__ = ['Outcome', 'apply_changes', 'close_open_changes',
           'undo_changes']

#: images read again with one request and then written, per unit of work
CHUNK = 20


class Outcome(object):
    """Counts and messages of a run, shared by its threads."""

    def __init__(self):
        self.changed = 0
        self.already = 0
        self.confirmed = 0      # an earlier run's open change, confirmed
        self.skipped = 0
        self.failed = 0
        self.messages = []
        self.aborted = None     # the fatal error that stopped the run
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def count(self, name):
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def fail(self, message):
        with self._lock:
            self.failed += 1
            self.messages.append(message)

    def abort(self, exc):
        """Stop the run on a fatal error (the first one is kept)."""
        with self._lock:
            if self.aborted is None:
                self.aborted = exc
        self.stop.set()

    @property
    def exit_code(self):
        if self.aborted is not None or self.failed:
            return 2
        return 0


def current_value(image, key):
    """The property's value, or None when the image has no such key."""
    return image.get(key) if key in image else None


def _chunks(items, size):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _serialized(report):
    """``report`` callable from several threads (whole lines)."""
    lock = threading.Lock()

    def say(message):
        with lock:
            report(message)
    return say


def _read_again(glance, ids, outcome):
    """{id: image or the ApiError of its read}; None when the run must
    stop (recorded in ``outcome``).
    """
    try:
        return dict(glance.current_images(ids))
    except ApiError as exc:   # fatal: the others raise per image
        outcome.abort(exc)
        return None


def _failed_read(image, outcome):
    """True (recorded) when reading the image again failed."""
    if not isinstance(image, ApiError):
        return False
    if image.fatal:
        outcome.abort(image)
    else:
        outcome.fail(str(image))
    return True


def _confirm(glance, image_id, key, new):
    """After a write whose answer is unusable: True if Glance now has
    ``new``, False if not, None if that cannot be told.
    """
    try:
        return current_value(glance.get_image(image_id), key) == new
    except ApiError:
        return None


def _write(glance, journal, outcome, image_id, key, old, new, events,
           **extra):
    """Journal ``begin``, PATCH, journal ``done`` or ``failed``; True when
    Glance has the new value.

    :param events: (begin, done, failed) journal events.
    """
    begin, done, failed = events
    journal.write(begin, image_id, key, old=old, new=new, **extra)
    try:
        glance.patch_image(image_id, set_property_ops(key, old, new))
    except ApiError as exc:
        if exc.network:
            # the PATCH may or may not have reached Glance: the begin
            # stays open and the next run checks Glance's value
            outcome.abort(exc)
            return False
        confirmed = _confirm(glance, image_id, key, new) \
            if exc.ambiguous else False
        if confirmed:
            journal.write(done, image_id, key, old=old, new=new,
                          verified='read-back', error=str(exc))
            outcome.abort(exc)   # Glance answers garbage: stop there
            return True
        if confirmed is None:
            outcome.fail('%s (the change could not be read back: the '
                         'journal keeps it open)' % exc)
        else:
            journal.write(failed, image_id, key, old=old, new=new,
                          error=str(exc), status=exc.status)
            outcome.fail(str(exc))
        if exc.fatal:
            outcome.abort(exc)
        return False
    journal.write(done, image_id, key, old=old, new=new)
    return True


def open_changes(records, key):
    """{image id: PropertyFix} of the changes a cut-short run began and did
    not finish (a ``begin`` without its ``done`` or ``failed``).
    """
    return dict((change.image_id, change)
                for change in fix_journal.changes(records).values()
                if change.key == key and change.state == fix_journal.BEGIN)


def close_open_changes(journal, records, index, key):
    """Journal ``done`` for changes a cut-short run made without saying so
    (the listing shows their new value). Returns the records written.
    """
    closed = []
    for change in open_changes(records, key).values():
        row = index.get(change.image_id)
        if row is not None and row.base == change.new:
            closed.append(journal.write(
                fix_journal.DONE, change.image_id, key, old=change.old,
                new=change.new, verified='listing'))
    return closed


_APPLY = (fix_journal.BEGIN, fix_journal.DONE, fix_journal.FAILED)
_UNDO = (fix_journal.UNDO_BEGIN, fix_journal.UNDONE,
         fix_journal.UNDO_FAILED)


def apply_changes(glance, journal, rows, key, force=False, report=None,
                  workers=1, chunk=CHUNK, records=()):
    """Write each row's ``new`` value; return an :class:`Outcome`.

    :param records: the journal's records before this run: a change an
        earlier run began whose value Glance now shows (its answer was
        lost, or it landed after the listing) is journaled ``done``.
    """
    outcome = Outcome()
    report = _serialized(report or (lambda message: None))
    began = open_changes(records, key)

    def unit(batch):
        current = _read_again(glance, [r['image_id'] for r in batch],
                              outcome)
        for row in batch if current is not None else ():
            if outcome.stop.is_set():
                return
            _apply_one(glance, journal, row, current[row['image_id']], key,
                       force, outcome, report, began.get(row['image_id']))
    pool.run(unit, _chunks(rows, chunk), workers, outcome.stop)
    return outcome


def _apply_one(glance, journal, row, image, key, force, outcome, report,
               began=None):
    image_id, new = row['image_id'], row['new']
    if _failed_read(image, outcome):
        return
    old = current_value(image, key)
    if old == new:
        if began is not None and began.new == new:
            # an earlier run's write, which the listing did not show yet
            journal.write(fix_journal.DONE, image_id, key, old=began.old,
                          new=new, verified='read-back')
            outcome.count('confirmed')
        else:
            outcome.count('already')
        return
    if old not in (None, '') and old != row['old'] and not force:
        outcome.count('skipped')
        report('skipped %s: base_image_ref became %r since the listing;'
               ' not overwritten without --force' % (image_id, old))
        return
    if old not in (None, '') and not force:
        outcome.count('skipped')
        report('skipped %s: has base_image_ref %r; not overwritten '
               'without --force' % (image_id, old))
        return
    if _write(glance, journal, outcome, image_id, key, old, new, _APPLY,
              source=row.get('source'), how=row.get('how')):
        outcome.count('changed')
        report('set %s %s=%s (was %s)' % (image_id, key, new,
                                          'absent' if old is None
                                          else repr(old)))


def undo_changes(glance, journal, records, force=False, dry_run=False,
                 report=None, workers=1, chunk=CHUNK):
    """Restore every change the journal made, newest first."""
    outcome = Outcome()
    report = _serialized(report or (lambda message: None))
    live = (fix_journal.BEGIN, fix_journal.DONE, fix_journal.UNDO_BEGIN,
            fix_journal.UNDO_FAILED)
    todo = [c for c in fix_journal.changes(records).values()
            if c.started and c.state in live]
    todo.sort(key=lambda c: c.order, reverse=True)

    def unit(batch):
        current = _read_again(glance, [c.image_id for c in batch], outcome)
        for change in batch if current is not None else ():
            if outcome.stop.is_set():
                return
            _undo_one(glance, journal, change, current[change.image_id],
                      force, dry_run, outcome, report)
    pool.run(unit, _chunks(todo, chunk), workers, outcome.stop)
    return outcome


def _undo_one(glance, journal, change, image, force, dry_run, outcome,
              report):
    image_id, key = change.image_id, change.key
    if _failed_read(image, outcome):
        return
    now = current_value(image, key)
    if now == change.old:
        outcome.count('already')
        if not dry_run:
            journal.write(fix_journal.UNDONE, image_id, key, old=now,
                          new=change.old, note='already restored'
                          if change.state != fix_journal.BEGIN
                          else 'change never applied')
        return
    if now != change.new and not force:
        outcome.fail('%s: %s is now %r, not the %r the journal set: '
                     'left alone (--force restores %r anyway)'
                     % (image_id, key, now, change.new, change.old))
        return
    if dry_run:
        outcome.count('changed')
        report('would restore %s %s to %s' % (image_id, key,
                                              _show(change.old)))
        return
    if _write(glance, journal, outcome, image_id, key, now, change.old,
              _UNDO):
        outcome.count('changed')
        report('restored %s %s to %s' % (image_id, key, _show(change.old)))


def _show(value):
    return '(absent)' if value is None else repr(value)
