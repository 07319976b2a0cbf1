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

"""``backfill --apply --workers 8`` killed at *any* point: the journal as
it was on disk and Glance as it was at that moment, before and after
every journal line and every PATCH of a run on eight threads; from each,
``undo`` leaves every image as before, and resuming then undoing too.

The Glance tier kills real processes at two points
(tests/glance/test_glance_workers.py); this goes through all of them on
the in-memory Glance.
"""

import copy

import pytest

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.catalogue import writer

from .memory_glance import images
from .memory_glance import KEY
from .memory_glance import rows
from .memory_glance import SlowGlance

N_IMAGES = 24
EMPTY_EVERY = 5     # some snapshots have an empty base_image_ref
#: the start of a begin line, as a kill in the middle of write(2) leaves it
TORN = b'{"event": "begin", "image_id": "img-0'


def _kill_points(tmpdir):
    """(journal bytes, Glance's images) at every point of a run."""
    path = str(tmpdir.join('run.jsonl'))
    points = []
    glance = SlowGlance(images(N_IMAGES, EMPTY_EVERY), delay=0.002)

    def capture(_image_id=None):
        # with glance.lock held: no PATCH lands meanwhile, and every
        # image changed so far has its begin in the file already
        with open(path, 'rb') as handle:
            data = handle.read()
        points.append((data, copy.deepcopy(glance.images)))
    glance.landed = capture
    journal = fix_journal.Journal(path).open()
    write = journal.write

    def write_then_capture(*args, **kwargs):
        record = write(*args, **kwargs)
        with glance.lock:
            capture()
        return record
    journal.write = write_then_capture
    with glance.lock:
        capture()   # killed before anything happened
    try:
        outcome = writer.apply_changes(
            glance, journal, rows(N_IMAGES, EMPTY_EVERY), KEY, workers=8,
            chunk=3)
    finally:
        journal.close()
    assert outcome.exit_code == 0 and outcome.changed == N_IMAGES
    # the run wrote on several threads at once
    assert glance.most_in_flight > 1
    return points


@pytest.fixture(scope='module')
def kill_points(tmpdir_factory):
    points = _kill_points(tmpdir_factory.mktemp('kill'))
    # 2 lines and 2 captures per PATCH, and the start
    assert len(points) == 4 * N_IMAGES + 1
    return points


def _restart(tmpdir, data, state, torn):
    """The journal file and the Glance a killed run left."""
    path = str(tmpdir.join('left.jsonl'))
    with open(path, 'wb') as handle:
        handle.write(data + (TORN if torn else b''))
    return path, SlowGlance(list(state.values()), delay=0)


def _undo(glance, path):
    records = fix_journal.read(path)
    with fix_journal.Journal(path) as journal:
        return writer.undo_changes(glance, journal, records, workers=8,
                                   chunk=3)


class Listing(object):
    """The catalogue index of the resumed run, as close_open_changes
    reads it: ``get(id).base``.
    """

    class Row(object):
        def __init__(self, image):
            self.base = image.get(KEY)

    def __init__(self, state):
        self.state = state

    def get(self, image_id):
        image = self.state.get(image_id)
        return self.Row(image) if image is not None else None


def _original():
    return dict((image['id'], image)
                for image in images(N_IMAGES, EMPTY_EVERY))


@pytest.mark.parametrize('torn', [False, True], ids=['whole', 'torn'])
def test_kill_at_any_point_then_undo_leaves_every_image_as_before(
        tmpdir, kill_points, torn):
    original = _original()
    for number, (data, state) in enumerate(kill_points):
        path, glance = _restart(tmpdir, data, state, torn)
        outcome = _undo(glance, path)
        assert outcome.exit_code == 0, (number, outcome.messages)
        assert glance.images == original, number
        # and the journal says so: nothing left to undo
        again = _undo(glance, path)
        assert again.changed == 0 and again.exit_code == 0, number


@pytest.mark.parametrize('torn', [False, True], ids=['whole', 'torn'])
def test_kill_at_any_point_then_resume_then_undo(tmpdir, kill_points, torn):
    original = _original()
    fixed = dict((row['image_id'], row['new'])
                 for row in rows(N_IMAGES, EMPTY_EVERY))
    for number, (data, state) in enumerate(kill_points):
        path, glance = _restart(tmpdir, data, state, torn)
        records = fix_journal.read(path)
        # as backfill does: the listing closes the changes it shows made,
        # the plan is the snapshots still without a value
        plan = [row for row in rows(N_IMAGES, EMPTY_EVERY)
                if not state[row['image_id']].get(KEY)]
        with fix_journal.Journal(path) as journal:
            closed = writer.close_open_changes(journal, records,
                                               Listing(state), KEY)
            outcome = writer.apply_changes(glance, journal, plan, KEY,
                                           workers=8, chunk=3,
                                           records=records + closed)
        assert outcome.exit_code == 0, (number, outcome.messages)
        assert dict((i, image.get(KEY)) for i, image in
                    glance.images.items()) == fixed, number
        changes = fix_journal.changes(fix_journal.read(path))
        assert len(changes) == N_IMAGES, number
        assert set(c.state for c in changes.values()) == \
            set([fix_journal.DONE]), number
        assert _undo(glance, path).exit_code == 0, number
        assert glance.images == original, number
