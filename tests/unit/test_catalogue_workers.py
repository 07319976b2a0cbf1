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

"""Writes on several threads: the pool, the read-ahead of listings, the
journal's group commit, apply and undo with workers on in-memory fakes.
"""

import copy
import json
import threading
import time

import pytest

from nova_imgmeta.catalogue import journal as journal_mod
from nova_imgmeta.catalogue import pool
from nova_imgmeta.catalogue import writer
from nova_imgmeta.cloud.ahead import ahead
from nova_imgmeta.cloud import failures as errors

KEY = 'base_image_ref'


def test_pool_runs_every_unit_on_its_threads():
    seen = []
    names = set()
    lock = threading.Lock()

    def work(unit):
        time.sleep(0.01)
        with lock:
            seen.append(unit)
            names.add(threading.current_thread().name)
    pool.run(work, range(40), workers=4)
    assert sorted(seen) == list(range(40))
    assert len(names) > 1


def test_one_worker_runs_in_the_calling_thread():
    names = []
    pool.run(lambda unit: names.append(threading.current_thread().name),
             range(3), workers=1)
    assert set(names) == {threading.current_thread().name}


def test_pool_stops_starting_units_once_stopped():
    stop = threading.Event()
    done = []

    def work(unit):
        done.append(unit)
        if unit == 5:
            stop.set()
    pool.run(work, range(1000), workers=3, stop=stop)
    assert 5 in done and len(done) < 20


def test_pool_raises_the_first_bug_after_every_thread_stopped():
    running = []

    def work(unit):
        running.append(unit)
        if unit == 2:
            raise KeyError('bug')
        time.sleep(0.01)
    with pytest.raises(KeyError):
        pool.run(work, range(100), workers=4)
    assert len(running) < 100
    assert not [t for t in threading.enumerate()
                if t.name.startswith('nova-imgmeta-')]


def test_ahead_yields_everything_in_order_and_raises_where_it_failed():
    assert list(ahead(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise errors.ApiError('page 3', status=500)
    got = []
    with pytest.raises(errors.ApiError):
        for item in ahead(failing()):
            got.append(item)
    assert got == [1, 2]


def test_ahead_reads_one_ahead_and_stops_when_left():
    produced = []

    def pages():
        for number in range(100):
            produced.append(number)
            yield number
    for item in ahead(pages()):
        if item == 3:
            break
    time.sleep(0.5)
    assert len(produced) <= 7   # 3 taken, one waiting, one being read


def test_journal_lines_from_many_threads_are_whole_and_share_fsyncs(tmpdir):
    path = str(tmpdir.join('j.jsonl'))
    journal = journal_mod.Journal(path).open()

    def write(thread):
        for number in range(50):
            image_id = 'img-%d-%d' % (thread, number)
            journal.write(journal_mod.BEGIN, image_id, KEY, new='x' * 300)
            journal.write(journal_mod.DONE, image_id, KEY, new='x' * 300)
    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()
    records = journal_mod.read(path)
    assert len(records) == 800
    assert journal.fsyncs <= 800
    changes = journal_mod.changes(records)
    assert len(changes) == 400
    assert all(c.state == journal_mod.DONE for c in changes.values())


def test_a_line_is_on_disk_when_write_returns(tmpdir, monkeypatch):
    path = str(tmpdir.join('j.jsonl'))
    journal = journal_mod.Journal(path).open()
    synced = []
    real = journal_mod.os.fsync
    monkeypatch.setattr(journal_mod.os, 'fsync',
                        lambda fd: synced.append(open(path).read()) or
                        real(fd))
    journal.write(journal_mod.BEGIN, 'i', KEY, new='v')
    journal.close()
    assert synced and '"event": "begin"' in synced[-1]


class SlowGlance(object):
    """Images in memory; each PATCH takes a while; thread-safe."""

    def __init__(self, images, delay=0.005):
        self.images = dict((i['id'], copy.deepcopy(i)) for i in images)
        self.delay = delay
        self.lock = threading.Lock()
        self.fail = {}
        self.answer_garbage = set()
        self.in_flight = 0
        self.most_in_flight = 0
        self.reads = 0

    def current_images(self, ids):
        with self.lock:
            self.reads += 1
            return [(i, copy.deepcopy(self.images[i]) if i in self.images
                     else errors.ApiError('GET image %s: not found' % i,
                                          status=404)) for i in ids]

    def get_image(self, image_id):
        with self.lock:
            return copy.deepcopy(self.images[image_id])

    def patch_image(self, image_id, ops):
        with self.lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if image_id in self.fail:
                raise self.fail[image_id]
            with self.lock:
                image = self.images[image_id]
                for op in ops:
                    if op['op'] == 'remove':
                        del image[op['path'][1:]]
                    else:
                        image[op['path'][1:]] = op['value']
            if image_id in self.answer_garbage:
                raise errors.ApiError('update image %s: Glance answered '
                                      'HTTP 200 with Content-Type text/html'
                                      % image_id, status=200, garbage=True)
            return copy.deepcopy(image)
        finally:
            with self.lock:
                self.in_flight -= 1


def _images(count):
    return [{'id': 'img-%03d' % n, 'image_type': 'snapshot'}
            for n in range(count)]


def _rows(count):
    return [{'image_id': 'img-%03d' % n, 'old': None, 'new': 'base-%d' % n,
             'source': 'x', 'how': 'nova'} for n in range(count)]


def test_apply_with_workers_writes_everything_in_parallel(tmpdir):
    glance = SlowGlance(_images(100))
    path = str(tmpdir.join('j.jsonl'))
    with journal_mod.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(100), KEY,
                                       workers=8)
    assert outcome.changed == 100 and outcome.exit_code == 0
    assert glance.most_in_flight > 1
    assert glance.reads == 5   # 100 images read again, 20 a request
    assert all(glance.images['img-%03d' % n][KEY] == 'base-%d' % n
               for n in range(100))
    changes = journal_mod.changes(journal_mod.read(path))
    assert all(c.state == journal_mod.DONE and c.old is None
               for c in changes.values())
    with journal_mod.Journal(path) as journal:
        outcome = writer.undo_changes(glance, journal,
                                      journal_mod.read(path), workers=8)
    assert outcome.changed == 100
    assert glance.images == dict((i['id'], i) for i in _images(100))


def test_a_network_error_stops_every_worker_leaving_its_begin_open(tmpdir):
    glance = SlowGlance(_images(200))
    glance.fail['img-050'] = errors.ApiError('network', network=True)
    path = str(tmpdir.join('j.jsonl'))
    with journal_mod.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(200), KEY,
                                       workers=8)
    assert outcome.aborted is not None and outcome.exit_code == 2
    changes = journal_mod.changes(journal_mod.read(path))
    assert changes[('img-050', KEY)].state == journal_mod.BEGIN
    assert KEY not in glance.images['img-050']
    # the others under way finished: begin then done, nothing else open
    assert [c.image_id for c in changes.values()
            if c.state == journal_mod.BEGIN] == ['img-050']
    assert len(changes) < 200
    # resumed: the open change is made, every other one too
    del glance.fail['img-050']
    records = journal_mod.read(path)
    with journal_mod.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, [
            r for r in _rows(200) if KEY not in glance.images[r['image_id']]
            or r['image_id'] == 'img-050'], KEY, workers=8,
            records=records)
    changes = journal_mod.changes(journal_mod.read(path))
    assert len(changes) == 200
    assert all(c.state == journal_mod.DONE for c in changes.values())


def test_an_open_change_that_landed_is_confirmed(tmpdir):
    glance = SlowGlance(_images(3))
    path = str(tmpdir.join('j.jsonl'))
    with journal_mod.Journal(path) as journal:
        journal.write(journal_mod.BEGIN, 'img-001', KEY, old=None,
                      new='base-1')
    glance.images['img-001'][KEY] = 'base-1'   # it reached Glance
    records = journal_mod.read(path)
    with journal_mod.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(3), KEY,
                                       workers=2, records=records)
    assert outcome.confirmed == 1 and outcome.changed == 2
    change = journal_mod.changes(journal_mod.read(path))[('img-001', KEY)]
    assert change.state == journal_mod.DONE and change.old is None


def test_a_garbled_answer_is_read_back_before_journaling(tmpdir):
    glance = SlowGlance(_images(5))
    glance.answer_garbage.add('img-000')
    path = str(tmpdir.join('j.jsonl'))
    with journal_mod.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(5), KEY,
                                       workers=1)
    assert outcome.exit_code == 2 and outcome.aborted is not None
    records = journal_mod.read(path)
    assert [r['event'] for r in records] == ['begin', 'done']
    assert records[1]['verified'] == 'read-back'


def test_a_server_error_that_changed_nothing_is_journaled_failed(tmpdir):
    glance = SlowGlance(_images(3))
    glance.fail['img-001'] = errors.ApiError('update image: HTTP 500',
                                             status=500)
    path = str(tmpdir.join('j.jsonl'))
    with journal_mod.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(3), KEY,
                                       workers=2)
    assert outcome.failed == 1 and outcome.changed == 2
    assert outcome.aborted is None
    change = journal_mod.changes(journal_mod.read(path))[('img-001', KEY)]
    assert change.state == journal_mod.FAILED


def test_reports_from_workers_are_whole_lines(tmpdir):
    lines = []
    glance = SlowGlance(_images(60), delay=0)
    with journal_mod.Journal(str(tmpdir.join('j'))) as journal:
        writer.apply_changes(glance, journal, _rows(60), KEY, workers=8,
                             report=lines.append)
    assert len(lines) == 60
    assert all(line.startswith('set img-') for line in lines)
    assert json.dumps(sorted(lines))
