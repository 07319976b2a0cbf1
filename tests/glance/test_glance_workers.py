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

"""backfill and undo with several workers against a real Glance: SIGKILL
in the middle of the writes, resuming, undoing, and Glance asking to wait
(429, 503 with Retry-After).
"""

import os
import signal
import subprocess
import sys
import time

from fake_nova import start_fake_nova
import glance_server
from loopback_http import Answer
from loopback_http import start_proxy
import pytest

from nova_imgmeta.catalogue import fix_journal

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
N_FIXES = 120


class Seeded(object):
    """A project of its own: bases, snapshots to fix (their servers in a
    Nova stand-in of its own, one in four deleted), healthy snapshots.
    """

    def __init__(self, glance, admin, fixes=N_FIXES):
        self.admin = admin
        self.nova = nova = start_fake_nova()
        self.nova_url = nova.compute_url
        self.owner = 'proj-w-' + glance_server.new_id()[:8]
        images, self.bases, self.fix = [], [], []
        for number in range(10):
            image_id = glance_server.new_id()
            self.bases.append(image_id)
            images.append({'id': image_id, 'name': 'base-%d' % number,
                           'owner': self.owner})
        for number in range(fixes + 30):
            uuid = glance_server.new_id()
            image_id = glance_server.new_id()
            base = self.bases[number % 10]
            props = {'image_type': 'snapshot', 'instance_uuid': uuid}
            if number < fixes:
                self.fix.append(image_id)
                if number % 7 == 0:
                    props['base_image_ref'] = ''   # empty: replaced
            else:
                props['base_image_ref'] = base
            nova.state.add(uuid, base, project=self.owner,
                           deleted=number % 4 == 0,
                           updated='2030-01-01T00:00:00Z')
            images.append({'id': image_id, 'name': 'snap-%d' % number,
                           'owner': self.owner, 'properties': props})
        glance_server.bulk_insert(glance.db_path, images)
        self.ids = [image['id'] for image in images]

    def state(self):
        """Every image as Glance shows it, but for updated_at (a PATCH
        changes it, whatever it writes).
        """
        result = {}
        for image_id in self.ids:
            image = self.admin.get(image_id)
            image.pop('updated_at', None)
            result[image_id] = image
        return result


@pytest.fixture
def seeded(glance, admin):
    seeded = Seeded(glance, admin)
    yield seeded
    seeded.nova.shutdown()


def _env():
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith('OS_'))
    env['PYTHONPATH'] = REPO
    return env


def _open_changes(journal):
    changes = fix_journal.changes(fix_journal.read(journal))
    return [c for c in changes.values() if c.state == fix_journal.BEGIN]


def _kill_mid_run(cli, glance_url, seeded, journal, kill_after,
                  workers='8'):
    """Start backfill --apply --workers N as a process, SIGKILL it once
    ``kill_after`` changes are done; the journal's records at that time.
    """
    argv = ([sys.executable, '-m', 'nova_imgmeta.cli.main', 'backfill',
             '--owner', seeded.owner, '--apply', '--workers', workers,
             '--journal', journal] +
            cli.auth_args(glance_url=glance_url, nova_url=seeded.nova_url))
    process = subprocess.Popen(argv, env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and process.poll() is None:
            if os.path.exists(journal):
                done = [r for r in fix_journal.read(journal)
                        if r['event'] == 'done']
                if len(done) >= kill_after:
                    break
            time.sleep(0.02)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
        process.stdout.close()
        process.stderr.close()
    return fix_journal.read(journal)


@pytest.mark.parametrize('kill_after', [1, 40])
def test_killed_backfill_with_8_workers_then_undo_leaves_every_image_as_before(
        cli, glance, seeded, tmp_path, kill_after):
    before = seeded.state()
    journal = str(tmp_path / 'j.jsonl')
    # PATCHes take 0.2 s: when the kill comes, most workers are between
    # their begin and their done
    proxy = start_proxy(glance.url, {'delay': {'PATCH': 0.2}})
    try:
        records = _kill_mid_run(cli, proxy.url, seeded, journal, kill_after)
    finally:
        proxy.shutdown()
    done = [r for r in records if r['event'] == 'done']
    assert kill_after <= len(done) < N_FIXES
    assert _open_changes(journal), 'no write under way when killed'
    # every line is whole: the journal reads back without error
    code, out, err = cli.run('undo', '--journal', journal, '--workers', '8')
    assert code == 0, out + err
    assert seeded.state() == before
    # and undo again has nothing left to do
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0 and 'restored=0' in out, out + err


def test_killed_backfill_with_8_workers_is_resumed_then_undone(
        cli, glance, seeded, tmp_path):
    before = seeded.state()
    journal = str(tmp_path / 'j.jsonl')
    proxy = start_proxy(glance.url, {'delay': {'PATCH': 0.2}})
    try:
        _kill_mid_run(cli, proxy.url, seeded, journal, 20)
    finally:
        proxy.shutdown()
    left_open = _open_changes(journal)
    assert left_open
    code, out, err = cli.run('backfill', '--owner', seeded.owner, '--apply',
                             '--workers', '8', '--journal', journal,
                             nova_url=seeded.nova_url)
    assert code == 0, out + err
    assert 'failed=0' in out
    changes = fix_journal.changes(fix_journal.read(journal))
    assert sorted(c.image_id for c in changes.values()) == \
        sorted(seeded.fix)
    assert all(c.state == fix_journal.DONE for c in changes.values())
    after = seeded.state()
    for image_id in seeded.fix:
        assert after[image_id]['base_image_ref'] in seeded.bases
    code, out, err = cli.run('undo', '--journal', journal, '--workers', '8')
    assert code == 0, out + err
    assert seeded.state() == before


def test_workers_write_what_one_worker_writes(cli, glance, admin,
                                              tmp_path):
    results = []
    for workers in ('1', '8'):
        seeded = Seeded(glance, admin, fixes=40)
        journal = str(tmp_path / ('j%s.jsonl' % workers))
        try:
            code, out, err = cli.run('backfill', '--owner', seeded.owner,
                                     '--apply', '--workers', workers,
                                     '--journal', journal,
                                     nova_url=seeded.nova_url)
        finally:
            seeded.nova.shutdown()
        assert code == 0, out + err
        assert 'changed=40' in out
        records = fix_journal.read(journal)
        assert len(records) == 80
        # each image: its begin, then its done
        order = {}
        for record in records:
            order.setdefault(record['image_id'], []).append(record['event'])
        assert set(map(tuple, order.values())) == {('begin', 'done')}
        state = seeded.state()
        results.append(sorted(
            (seeded.bases.index(state[i]['base_image_ref']),
             seeded.fix.index(i)) for i in seeded.fix))
    assert results[0] == results[1]


def test_429_with_retry_after_is_waited_out(cli, glance, seeded, tmp_path):
    journal = str(tmp_path / 'j.jsonl')
    answers = [Answer('PATCH', '/v2/images/', 429,
                      {'message': 'slow down'}, times=3,
                      headers={'Retry-After': '1'})]
    proxy = start_proxy(glance.url, {'answers': answers})
    start = time.time()
    try:
        code, out, err = cli.run('backfill', '--owner', seeded.owner,
                                 '--apply', '--workers', '4', '--journal',
                                 journal, glance_url=proxy.url,
                                 nova_url=seeded.nova_url)
        patches = proxy.counter.by_method.get('PATCH')
    finally:
        proxy.shutdown()
    assert code == 0, out + err
    assert time.time() - start >= 1.0
    assert 'changed=%d' % N_FIXES in out and 'failed=0' in out
    assert patches == N_FIXES + 3   # the 3 refused ones, sent again
    assert [r for r in fix_journal.read(journal)
            if r['event'] == 'failed'] == []


def test_503_on_the_listing_with_an_http_date_is_waited_out(cli, glance,
                                                            seeded):
    soon = time.strftime('%a, %d %b %Y %H:%M:%S GMT',
                         time.gmtime(time.time() + 1))
    answers = [Answer('GET', '/v2/images?', 503, b'busy', 'text/plain',
                      times=1, headers={'Retry-After': soon})]
    proxy = start_proxy(glance.url, {'answers': answers})
    try:
        code, out, err = cli.run('audit', '--owner', seeded.owner,
                                 '--no-tree', glance_url=proxy.url)
    finally:
        proxy.shutdown()
    assert code == 1, err   # the snapshots to fix
    assert 'summary: %d images' % (N_FIXES + 40) in out


def test_glance_busy_for_longer_than_the_retries_is_exit_2(cli, glance,
                                                           seeded, tmp_path):
    answers = [Answer('PATCH', '/v2/images/', 503, b'<h1>busy</h1>',
                      'text/html', headers={'Retry-After': '0'})]
    journal = str(tmp_path / 'j.jsonl')
    proxy = start_proxy(glance.url, {'answers': answers})
    try:
        code, out, err = cli.run('backfill', '--owner', seeded.owner,
                                 '--apply', '--journal', journal,
                                 glance_url=proxy.url,
                                 nova_url=seeded.nova_url)
    finally:
        proxy.shutdown()
    assert code == 2
    assert 'busy (HTTP 503)' in err and 'after 9 attempts' in err, err
    assert proxy.url + '/v2/images/' in err
    # nothing was written; the refused changes are journaled as failed
    changes = fix_journal.changes(fix_journal.read(journal))
    assert changes and all(c.state == fix_journal.FAILED
                           for c in changes.values())
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0 and 'restored=0' in out


def test_retry_after_too_long_stops_at_once(cli, glance, seeded):
    answers = [Answer('GET', '/v2/images?', 429, b'', None,
                      headers={'Retry-After': '3600'})]
    proxy = start_proxy(glance.url, {'answers': answers})
    start = time.time()
    try:
        code, out, err = cli.run('audit', '--owner', seeded.owner,
                                 glance_url=proxy.url)
    finally:
        proxy.shutdown()
    assert code == 2
    assert time.time() - start < 30
    assert 'asked to retry after 3600 s' in err, err
