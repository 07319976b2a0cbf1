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

Every change is: GET the image (its current value is the journal's "old",
and a value that appeared since the listing is not overwritten without
--force), journal ``begin`` (fsynced), one PATCH, journal ``done``. A run
cut short leaves at most one ``begin`` without its ``done``; the next run
(or undo) compares Glance's current value with the journal to finish it.
"""

from nova_imgmeta.catalogue import journal as journal_mod
from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud.glance import set_property_ops


class Outcome(object):

    def __init__(self):
        self.changed = 0
        self.already = 0
        self.skipped = 0
        self.failed = 0
        self.messages = []
        self.aborted = None     # the fatal error that stopped the run

    def fail(self, message):
        self.failed += 1
        self.messages.append(message)

    @property
    def exit_code(self):
        if self.aborted is not None or self.failed:
            return 2
        return 0


def current_value(image, key):
    """The property's value, or None when the image has no such key."""
    return image.get(key) if key in image else None


def _fetch(glance, image_id, outcome):
    """GET the image; on an API error record it in ``outcome`` (aborted
    when fatal, failed otherwise) and return None.
    """
    try:
        return glance.get_image(image_id)
    except ApiError as exc:
        if exc.fatal:
            outcome.aborted = exc
        else:
            outcome.fail(str(exc))
        return None


def close_open_changes(journal, records, index, key):
    """Journal ``done`` for changes a cut-short run made without saying so
    (the listing shows their new value). Returns their number.
    """
    closed = 0
    for change in journal_mod.changes(records).values():
        if change.key != key or change.state != journal_mod.BEGIN:
            continue
        row = index.get(change.image_id)
        if row is not None and row.base == change.new:
            journal.write(journal_mod.DONE, change.image_id, key,
                          old=change.old, new=change.new,
                          verified='listing')
            closed += 1
    return closed


def apply_changes(glance, journal, rows, key, force=False, report=None):
    """Write each row's ``new`` value; return an :class:`Outcome`."""
    outcome = Outcome()
    report = report or (lambda message: None)
    for row in rows:
        image_id, new = row['image_id'], row['new']
        image = _fetch(glance, image_id, outcome)
        if image is None:
            if outcome.aborted is not None:
                return outcome
            continue
        old = current_value(image, key)
        if old == new:
            outcome.already += 1
            continue
        if old not in (None, '') and old != row['old'] and not force:
            outcome.skipped += 1
            report('skipped %s: base_image_ref became %r since the listing;'
                   ' not overwritten without --force' % (image_id, old))
            continue
        if old not in (None, '') and not force:
            outcome.skipped += 1
            report('skipped %s: has base_image_ref %r; not overwritten '
                   'without --force' % (image_id, old))
            continue
        journal.write(journal_mod.BEGIN, image_id, key, old=old, new=new,
                      source=row.get('source'), how=row.get('how'))
        try:
            glance.patch_image(image_id, set_property_ops(key, old, new))
        except ApiError as exc:
            if exc.network:
                # the PATCH may or may not have reached Glance: the begin
                # stays open and the next run checks Glance's value.
                outcome.aborted = exc
                return outcome
            journal.write(journal_mod.FAILED, image_id, key, old=old,
                          new=new, error=str(exc), status=exc.status)
            if exc.fatal:
                outcome.aborted = exc
                return outcome
            outcome.fail(str(exc))
            continue
        journal.write(journal_mod.DONE, image_id, key, old=old, new=new)
        outcome.changed += 1
        report('set %s %s=%s (was %s)' % (image_id, key, new,
                                          'absent' if old is None
                                          else repr(old)))
    return outcome


def undo_changes(glance, journal, records, force=False, dry_run=False,
                 report=None):
    """Restore every change the journal made, newest first."""
    outcome = Outcome()
    report = report or (lambda message: None)
    live = (journal_mod.BEGIN, journal_mod.DONE, journal_mod.UNDO_BEGIN,
            journal_mod.UNDO_FAILED)
    todo = [c for c in journal_mod.changes(records).values()
            if c.started and c.state in live]
    todo.sort(key=lambda c: c.order, reverse=True)
    for change in todo:
        image_id, key = change.image_id, change.key
        image = _fetch(glance, image_id, outcome)
        if image is None:
            if outcome.aborted is not None:
                return outcome
            continue
        now = current_value(image, key)
        if now == change.old:
            outcome.already += 1
            if not dry_run and change.state != journal_mod.BEGIN:
                journal.write(journal_mod.UNDONE, image_id, key, old=now,
                              new=change.old, note='already restored')
            elif not dry_run:
                journal.write(journal_mod.UNDONE, image_id, key, old=now,
                              new=change.old, note='change never applied')
            continue
        if now != change.new and not force:
            outcome.fail('%s: %s is now %r, not the %r the journal set: '
                         'left alone (--force restores %r anyway)'
                         % (image_id, key, now, change.new, change.old))
            continue
        if dry_run:
            outcome.changed += 1
            report('would restore %s %s to %s' % (image_id, key, _show(
                change.old)))
            continue
        journal.write(journal_mod.UNDO_BEGIN, image_id, key, old=now,
                      new=change.old)
        try:
            glance.patch_image(image_id,
                               set_property_ops(key, now, change.old))
        except ApiError as exc:
            if exc.network:
                outcome.aborted = exc
                return outcome
            journal.write(journal_mod.UNDO_FAILED, image_id, key, old=now,
                          new=change.old, error=str(exc), status=exc.status)
            if exc.fatal:
                outcome.aborted = exc
                return outcome
            outcome.fail(str(exc))
            continue
        journal.write(journal_mod.UNDONE, image_id, key, old=now,
                      new=change.old)
        outcome.changed += 1
        report('restored %s %s to %s' % (image_id, key, _show(change.old)))
    return outcome


def _show(value):
    return '(absent)' if value is None else repr(value)
