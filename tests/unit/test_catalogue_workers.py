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

import json
import threading
import time

import pytest

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.catalogue import pool
from nova_imgmeta.catalogue import writer
from nova_imgmeta.cloud.ahead import ahead
from nova_imgmeta.cloud import failures as errors

from .memory_glance import images as _images
from .memory_glance import rows as _rows
from .memory_glance import SlowGlance

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


def _in_threads(write, count):
    """Run write(0) ... write(count - 1) at once, each in its own thread;
    return when all are done.
    """
    threads = [threading.Thread(target=write, args=(n,))
               for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_journal_lines_from_many_threads_are_whole_and_share_fsyncs(tmpdir):
    path = str(tmpdir.join('j.jsonl'))
    journal = fix_journal.Journal(path).open()

    def write(thread):
        for number in range(50):
            image_id = 'img-%d-%d' % (thread, number)
            journal.write(fix_journal.BEGIN, image_id, KEY, new='x' * 300)
            journal.write(fix_journal.DONE, image_id, KEY, new='x' * 300)
    _in_threads(write, 8)
    journal.close()
    records = fix_journal.read(path)
    assert len(records) == 800
    assert journal.fsyncs <= 800
    changes = fix_journal.changes(records)
    assert len(changes) == 400
    assert all(c.state == fix_journal.DONE for c in changes.values())


def test_a_line_is_on_disk_when_write_returns(tmpdir, monkeypatch):
    path = str(tmpdir.join('j.jsonl'))
    journal = fix_journal.Journal(path).open()
    synced = []
    real = fix_journal.os.fsync
    monkeypatch.setattr(fix_journal.os, 'fsync',
                        lambda fd: synced.append(open(path).read()) or
                        real(fd))
    journal.write(fix_journal.BEGIN, 'i', KEY, new='v')
    journal.close()
    assert synced and '"event": "begin"' in synced[-1]


def test_apply_with_workers_writes_everything_in_parallel(tmpdir):
    glance = SlowGlance(_images(100))
    path = str(tmpdir.join('j.jsonl'))
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(100), KEY,
                                       workers=8)
    assert outcome.changed == 100 and outcome.exit_code == 0
    assert glance.most_in_flight > 1
    assert glance.reads == 5   # 100 images read again, 20 a request
    assert all(glance.images['img-%03d' % n][KEY] == 'base-%d' % n
               for n in range(100))
    changes = fix_journal.changes(fix_journal.read(path))
    assert all(c.state == fix_journal.DONE and c.old is None
               for c in changes.values())
    with fix_journal.Journal(path) as journal:
        outcome = writer.undo_changes(glance, journal,
                                      fix_journal.read(path), workers=8)
    assert outcome.changed == 100
    assert glance.images == dict((i['id'], i) for i in _images(100))


def test_a_network_error_stops_every_worker_leaving_its_begin_open(tmpdir):
    glance = SlowGlance(_images(200))
    glance.fail['img-050'] = errors.ApiError('network', network=True)
    path = str(tmpdir.join('j.jsonl'))
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(200), KEY,
                                       workers=8)
    assert outcome.aborted is not None and outcome.exit_code == 2
    changes = fix_journal.changes(fix_journal.read(path))
    assert changes[('img-050', KEY)].state == fix_journal.BEGIN
    assert KEY not in glance.images['img-050']
    # the others under way finished: begin then done, nothing else open
    assert [c.image_id for c in changes.values()
            if c.state == fix_journal.BEGIN] == ['img-050']
    assert len(changes) < 200
    # resumed: the open change is made, every other one too
    del glance.fail['img-050']
    records = fix_journal.read(path)
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, [
            r for r in _rows(200) if KEY not in glance.images[r['image_id']]
            or r['image_id'] == 'img-050'], KEY, workers=8,
            records=records)
    changes = fix_journal.changes(fix_journal.read(path))
    assert len(changes) == 200
    assert all(c.state == fix_journal.DONE for c in changes.values())


def test_an_open_change_that_landed_is_confirmed(tmpdir):
    glance = SlowGlance(_images(3))
    path = str(tmpdir.join('j.jsonl'))
    with fix_journal.Journal(path) as journal:
        journal.write(fix_journal.BEGIN, 'img-001', KEY, old=None,
                      new='base-1')
    glance.images['img-001'][KEY] = 'base-1'   # it reached Glance
    records = fix_journal.read(path)
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(3), KEY,
                                       workers=2, records=records)
    assert outcome.confirmed == 1 and outcome.changed == 2
    change = fix_journal.changes(fix_journal.read(path))[('img-001', KEY)]
    assert change.state == fix_journal.DONE and change.old is None


def test_a_garbled_answer_is_read_back_before_journaling(tmpdir):
    glance = SlowGlance(_images(5))
    glance.answer_garbage.add('img-000')
    path = str(tmpdir.join('j.jsonl'))
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(5), KEY,
                                       workers=1)
    assert outcome.exit_code == 2 and outcome.aborted is not None
    records = fix_journal.read(path)
    assert [r['event'] for r in records] == ['begin', 'done']
    assert records[1]['verified'] == 'read-back'


def test_a_server_error_that_changed_nothing_is_journaled_failed(tmpdir):
    glance = SlowGlance(_images(3))
    glance.fail['img-001'] = errors.ApiError('update image: HTTP 500',
                                             status=500)
    path = str(tmpdir.join('j.jsonl'))
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(3), KEY,
                                       workers=2)
    assert outcome.failed == 1 and outcome.changed == 2
    assert outcome.aborted is None
    change = fix_journal.changes(fix_journal.read(path))[('img-001', KEY)]
    assert change.state == fix_journal.FAILED


def test_reports_from_workers_are_whole_lines(tmpdir):
    lines = []
    glance = SlowGlance(_images(60), delay=0)
    with fix_journal.Journal(str(tmpdir.join('j'))) as journal:
        writer.apply_changes(glance, journal, _rows(60), KEY, workers=8,
                             report=lines.append)
    assert len(lines) == 60
    assert all(line.startswith('set img-') for line in lines)
    assert json.dumps(sorted(lines))


# -- the pool: bounded, reading little ahead, stopping cleanly -------------

def _no_pool_threads():
    deadline = time.time() + 5
    while time.time() < deadline:
        left = [t for t in threading.enumerate()
                if t.name.startswith('nova-imgmeta-')]
        if not left:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize('workers', [2, 3, 8])
def test_pool_never_runs_more_units_at_once_than_workers(workers):
    lock = threading.Lock()
    state = {'now': 0, 'most': 0}

    def work(unit):
        with lock:
            state['now'] += 1
            state['most'] = max(state['most'], state['now'])
        time.sleep(0.005)
        with lock:
            state['now'] -= 1
    pool.run(work, range(60), workers=workers)
    assert 2 <= state['most'] <= workers


def test_pool_takes_units_only_a_little_ahead_of_the_work():
    """What a unit reads stays fresh: the producer waits for the threads
    (at most ``workers`` queued, ``workers`` taken by a thread that has not
    called work() yet, plus the one being handed over).
    """
    lock = threading.Lock()
    state = {'produced': 0, 'started': 0, 'ahead': 0}

    def units():
        for number in range(80):
            with lock:
                state['produced'] += 1
                state['ahead'] = max(state['ahead'],
                                     state['produced'] - state['started'])
            yield number

    def work(unit):
        with lock:
            state['started'] += 1
        time.sleep(0.002)
    pool.run(work, units(), workers=4)
    assert state['started'] == 80
    # Not 4 + 1: on a loaded machine a thread may hold the unit it took
    # for a while before work() counts it (seen: 6 in tox -e py27).
    assert state['ahead'] <= 2 * 4 + 1


def test_an_error_of_the_units_stops_the_threads_and_is_raised():
    started = []

    def units():
        for number in range(5):
            yield number
        raise ValueError('the plan cannot be read')
    with pytest.raises(ValueError):
        pool.run(lambda unit: started.append(unit), units(), workers=3)
    assert set(started) <= set(range(5))
    assert _no_pool_threads()


def test_ctrl_c_lets_the_units_under_way_finish_and_starts_no_other():
    lock = threading.Lock()
    began, ended = [], []
    stop = threading.Event()

    def units():
        for number in range(100):
            if number == 12:
                raise KeyboardInterrupt()
            yield number

    def work(unit):
        with lock:
            began.append(unit)
        time.sleep(0.02)
        with lock:
            ended.append(unit)
    with pytest.raises(KeyboardInterrupt):
        pool.run(work, units(), workers=4, stop=stop)
    assert stop.is_set()
    assert sorted(began) == sorted(ended)   # nothing left half-done
    assert max(began) < 12
    assert _no_pool_threads()


def test_one_worker_stops_on_a_bug_too():
    stop = threading.Event()

    def work(unit):
        if unit == 3:
            raise KeyError(unit)
    with pytest.raises(KeyError):
        pool.run(work, range(10), workers=1, stop=stop)
    assert stop.is_set()


# -- read-ahead -----------------------------------------------------------

def test_ahead_produces_the_next_item_while_this_one_is_worked_on():
    """Without read-ahead this would wait for ever: the consumer holds
    item 0 until the producer has started on item 1.
    """
    started = [threading.Event() for _ in range(3)]

    def pages():
        for number in range(3):
            started[number].set()
            yield number
    for number in ahead(pages()):
        if number < 2:
            assert started[number + 1].wait(5), 'no read-ahead'


def test_ahead_thread_ends_once_the_loop_is_left():
    gate = threading.Event()

    def pages():
        for number in range(1000):
            if number == 2:   # item 1 is queued: the thread waits
                gate.set()
            yield number
    items = ahead(pages())
    assert next(items) == 0
    assert gate.wait(5)
    items.close()   # what leaving a for loop early does to a generator
    deadline = time.time() + 5
    while time.time() < deadline and [
            t for t in threading.enumerate()
            if t.name == 'nova-imgmeta-ahead']:
        time.sleep(0.01)
    assert not [t for t in threading.enumerate()
                if t.name == 'nova-imgmeta-ahead']


def test_ahead_raises_the_producers_error_with_its_traceback():
    def broken_listing():
        yield 1
        raise errors.ApiError('page 2: HTTP 500', status=500)
    with pytest.raises(errors.ApiError) as caught:
        list(ahead(broken_listing()))
    assert caught.value.status == 500
    names = [entry.name for entry in caught.traceback]
    assert 'broken_listing' in names


# -- the journal's group commit ------------------------------------------

def test_threads_share_their_fsyncs_when_fsync_is_slow(tmpdir, monkeypatch):
    path = str(tmpdir.join('j.jsonl'))
    real = fix_journal.os.fsync

    def slow_fsync(fd):
        time.sleep(0.01)
        real(fd)
    journal = fix_journal.Journal(path).open()
    monkeypatch.setattr(fix_journal.os, 'fsync', slow_fsync)

    def write(thread):
        for number in range(20):
            journal.write(fix_journal.BEGIN, 'img-%d-%d' % (thread, number),
                          KEY, new='v')
    _in_threads(write, 8)
    journal.close()
    assert len(fix_journal.read(path)) == 160
    # one fsync per line would be 160: grouped, lines share them (about
    # 20 to 80 here, by how the threads are scheduled on a loaded machine)
    assert journal.fsyncs <= 160 * 3 // 4, journal.fsyncs


def test_each_write_returns_after_a_fsync_that_covers_its_line(
        tmpdir, monkeypatch):
    path = str(tmpdir.join('j.jsonl'))
    journal = fix_journal.Journal(path).open()
    real = fix_journal.os.fsync
    covered = [0]   # file size when the last finished fsync began
    lock = threading.Lock()

    def fsync(fd):
        size = fix_journal.os.fstat(fd).st_size
        time.sleep(0.002)
        real(fd)
        with lock:
            covered[0] = max(covered[0], size)
    monkeypatch.setattr(fix_journal.os, 'fsync', fsync)
    late = []

    def write(thread):
        for number in range(15):
            record = journal.write(fix_journal.BEGIN,
                                   'img-%d-%d' % (thread, number), KEY,
                                   new='v')
            line = (json.dumps(record, sort_keys=True) + '\n').encode()
            with open(path, 'rb') as handle:
                data = handle.read()
            end = data.index(line) + len(line)
            with lock:
                if covered[0] < end:
                    late.append(record['image_id'])
    _in_threads(write, 6)
    journal.close()
    assert not late, 'write() returned before its line was fsynced'


# -- the writer on threads ------------------------------------------------

@pytest.mark.parametrize('workers', [1, 3, 8])
def test_writes_under_way_never_exceed_workers(tmpdir, workers):
    glance = SlowGlance(_images(80), delay=0.003)
    with fix_journal.Journal(str(tmpdir.join('j'))) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(80), KEY,
                                       workers=workers, chunk=5)
    assert outcome.changed == 80
    assert glance.most_in_flight <= workers
    if workers > 1:
        assert glance.most_in_flight > 1


def _journal_changes(path):
    return dict((key, (c.old, c.new, c.state)) for key, c in
                fix_journal.changes(fix_journal.read(path)).items())


def test_one_and_eight_workers_write_and_journal_the_same(tmpdir):
    results = []
    for workers in (1, 8):
        glance = SlowGlance(_images(90, empty_every=4), delay=0.001)
        path = str(tmpdir.join('j-%d' % workers))
        with fix_journal.Journal(path) as journal:
            outcome = writer.apply_changes(
                glance, journal, _rows(90, empty_every=4), KEY,
                workers=workers, chunk=7)
        assert outcome.exit_code == 0
        results.append((glance.images, _journal_changes(path)))
    assert results[0] == results[1]
    assert results[0][1][('img-000', KEY)] == ('', 'base-0', 'done')


def test_a_fatal_read_stops_every_worker_before_its_next_begin(tmpdir):
    glance = SlowGlance(_images(200), delay=0.002)
    glance.fail_read[3] = errors.ApiError('Glance is busy (HTTP 503)',
                                          status=503, throttled=True)
    path = str(tmpdir.join('j'))
    with fix_journal.Journal(path) as journal:
        outcome = writer.apply_changes(glance, journal, _rows(200), KEY,
                                       workers=4, chunk=10)
    assert outcome.exit_code == 2 and outcome.aborted.throttled
    changes = fix_journal.changes(fix_journal.read(path))
    # nothing left open, far from everything written
    assert all(c.state == fix_journal.DONE for c in changes.values())
    assert len(changes) == glance.patches < 200
    assert glance.reads < 200 // 10


def test_undo_dry_run_with_workers_writes_nothing(tmpdir):
    glance = SlowGlance(_images(30))
    path = str(tmpdir.join('j'))
    with fix_journal.Journal(path) as journal:
        writer.apply_changes(glance, journal, _rows(30), KEY, workers=4)
    before = open(path, 'rb').read()
    changed = dict((k, dict(v)) for k, v in glance.images.items())
    lines = []
    with fix_journal.Journal(path) as journal:
        outcome = writer.undo_changes(glance, journal,
                                      fix_journal.read(path), dry_run=True,
                                      workers=8, report=lines.append)
    assert outcome.changed == 30 and len(lines) == 30
    assert open(path, 'rb').read() == before
    assert glance.images == changed
