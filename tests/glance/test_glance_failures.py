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

"""Every failure path of audit, backfill and undo, against a real Glance.

401 and 403 are Glance's own answers (no identity; a reader role), 404 and
409 too (an image deleted, a property removed, while the command runs);
network failures come from a closed port and from a loopback proxy that
drops the connection, mid-run.
"""

import os
import signal
import subprocess
import sys
import time

import glance_server
from loopback_http import start_proxy

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.cloud import glance as glance_ops

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def test_401_is_explained_and_writes_nothing(cli, catalogue, tmp_path):
    before = catalogue.base_image_refs()
    journal = tmp_path / 'j.jsonl'
    for command in (['audit'], ['backfill', '--apply', '--journal',
                                str(journal)]):
        code, out, err = cli.run(*(command + ['--owner', catalogue.owner]),
                                 identity=False)
        assert code == 2
        assert 'authentication failed (HTTP 401)' in err
    assert not journal.exists() or fix_journal.read(str(journal)) == []
    assert catalogue.base_image_refs() == before


def test_403_each_refusal_journaled_nothing_changed(cli, catalogue,
                                                    tmp_path):
    before = catalogue.base_image_refs()
    journal = str(tmp_path / 'j.jsonl')
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal', journal,
                             project=catalogue.owner, roles='reader')
    assert code == 2
    assert 'permission denied (HTTP 403)' in err
    records = fix_journal.read(journal)
    assert records and all(r['event'] in ('begin', 'failed')
                           for r in records)
    assert [r['status'] for r in records if r['event'] == 'failed'] == \
        [403] * (len(records) // 2)
    assert catalogue.base_image_refs() == before
    # undo has nothing to restore
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0 and 'restored=0' in out


def test_404_image_deleted_during_the_run(cli, catalogue, tmp_path,
                                          monkeypatch):
    victim = catalogue.ids['missing-live']
    real_read = glance_ops.GlanceAPI.current_images

    def current_images(self, image_ids):
        # deleted between the listing and the write: the images are read
        # again (one id=in: listing), the deleted one with its own GET
        if victim in image_ids:
            catalogue.admin.delete(victim)
        return real_read(self, image_ids)
    monkeypatch.setattr(glance_ops.GlanceAPI, 'current_images',
                        current_images)
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal',
                             str(tmp_path / 'j.jsonl'))
    assert code == 2
    assert 'GET image %s: not found (HTTP 404)' % victim in err
    assert 'changed=4' in out and 'failed=1' in out


def test_409_property_removed_during_a_forced_replace(cli, catalogue,
                                                      tmp_path,
                                                      monkeypatch):
    victim = catalogue.ids['dangling']
    real_get = glance_ops.GlanceAPI.get_image

    def get_image(self, image_id):
        image = real_get(self, image_id)
        if image_id == victim:   # someone removes it right after our GET
            catalogue.admin.patch(victim, [{'op': 'remove',
                                            'path': '/base_image_ref'}])
        return image
    monkeypatch.setattr(glance_ops.GlanceAPI, 'get_image', get_image)
    journal = str(tmp_path / 'j.jsonl')
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--force', '--image', victim,
                             '--journal', journal)
    assert code == 2
    assert 'conflict (HTTP 409)' in err
    assert [r['event'] for r in fix_journal.read(journal)] == ['begin',
                                                               'failed']
    assert 'base_image_ref' not in catalogue.admin.get(victim)


def test_value_appearing_after_the_listing_is_not_overwritten(
        cli, catalogue, tmp_path, monkeypatch):
    victim = catalogue.ids['missing-live']
    real_read = glance_ops.GlanceAPI.current_images

    def current_images(self, image_ids):
        if victim in image_ids:
            catalogue.admin.patch(victim, [{'op': 'add',
                                            'path': '/base_image_ref',
                                            'value': 'set-by-someone'}])
        return real_read(self, image_ids)
    monkeypatch.setattr(glance_ops.GlanceAPI, 'current_images',
                        current_images)
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal',
                             str(tmp_path / 'j.jsonl'))
    assert 'not overwritten without --force' in err
    assert catalogue.admin.get(victim)['base_image_ref'] == 'set-by-someone'
    assert 'changed=4' in out


def test_network_error_closed_port(cli, catalogue):
    port = glance_server.free_port()
    code, out, err = cli.run('audit', '--owner', catalogue.owner,
                             glance_url='http://127.0.0.1:%d' % port)
    assert code == 2
    assert 'read the Glance API version document: network error' in err


def test_interrupted_backfill_is_resumed_then_undone(cli, catalogue, glance,
                                                     tmp_path):
    before = catalogue.base_image_refs()
    journal = str(tmp_path / 'j.jsonl')

    def backfill(faults):
        """backfill --apply through a proxy with these faults."""
        proxy = start_proxy(glance.url, faults)
        try:
            return cli.run('backfill', '--owner', catalogue.owner,
                           '--apply', '--journal', journal,
                           glance_url=proxy.url)
        finally:
            proxy.shutdown()
    # 1st run: the connection drops at the 3rd PATCH (never reaches Glance)
    code, out, err = backfill({'drop_after': {'PATCH': 2}})
    assert code == 2
    assert 'network error' in err and 're-run with --journal' in err
    events = [r['event'] for r in fix_journal.read(journal)]
    assert events == ['begin', 'done', 'begin', 'done', 'begin']
    # 2nd run: the 4th PATCH reaches Glance but its answer is lost
    code, out, err = backfill({'lose_reply_after': {'PATCH': 1}})
    assert code == 2
    # 3rd run finishes: the change whose answer was lost is confirmed
    # from the listing, the rest is done
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal', journal)
    assert 'failed=0' in out, out + err
    records = fix_journal.read(journal)
    changes = fix_journal.changes(records)
    assert len(changes) == 5
    assert all(c.state == 'done' for c in changes.values())
    assert any(r.get('verified') == 'listing' for r in records)
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0, out + err
    assert catalogue.base_image_refs() == before


def test_killed_backfill_is_resumed_then_undone(cli, catalogue, glance,
                                                tmp_path):
    """SIGKILL in the middle of a run (a process that cannot clean up)."""
    before = catalogue.base_image_refs()
    journal = str(tmp_path / 'j.jsonl')
    proxy = start_proxy(glance.url, {'delay': {'PATCH': 0.4}})
    env = dict((k, v) for k, v in os.environ.items()
               if not k.startswith('OS_'))
    env['PYTHONPATH'] = REPO
    argv = ([sys.executable, '-m', 'nova_imgmeta.cli.main', 'backfill',
             '--owner', catalogue.owner, '--apply', '--journal', journal] +
            cli.auth_args(glance_url=proxy.url))
    try:
        process = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            done = [r for r in fix_journal.read(journal)
                    if r['event'] == 'done'] if os.path.exists(journal) \
                else []
            if len(done) >= 2:
                break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
    finally:
        proxy.shutdown()
    assert 2 <= len([r for r in fix_journal.read(journal)
                     if r['event'] == 'done']) < 5
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal', journal)
    assert 'failed=0' in out
    changes = fix_journal.changes(fix_journal.read(journal))
    assert len(changes) == 5
    assert all(c.state == 'done' for c in changes.values())
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0
    assert catalogue.base_image_refs() == before


def test_torn_last_journal_line_is_ignored(cli, catalogue, tmp_path):
    journal = tmp_path / 'j.jsonl'
    cli.run('backfill', '--owner', catalogue.owner, '--apply', '--image',
            catalogue.ids['missing-live'], '--journal', str(journal))
    with open(str(journal), 'ab') as handle:
        handle.write(b'{"event": "begin", "image_id": "abc", "ke')
    code, out, err = cli.run('undo', '--journal', str(journal))
    assert code == 0 and 'restored=1' in out
    assert 'base_image_ref' not in catalogue.get('missing-live')


def test_undo_leaves_values_changed_since_unless_forced(cli, catalogue,
                                                        tmp_path):
    journal = str(tmp_path / 'j.jsonl')
    image_id = catalogue.ids['missing-live']
    cli.run('backfill', '--owner', catalogue.owner, '--apply', '--image',
            image_id, '--journal', journal)
    catalogue.admin.patch(image_id, [{'op': 'replace',
                                      'path': '/base_image_ref',
                                      'value': 'edited-by-hand'}])
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 2 and 'left alone' in err
    assert catalogue.get('missing-live')['base_image_ref'] == \
        'edited-by-hand'
    code, out, err = cli.run('undo', '--journal', journal, '--force')
    assert code == 0
    assert 'base_image_ref' not in catalogue.get('missing-live')


def test_undo_without_journal_file(cli, tmp_path):
    code, out, err = cli.run('undo', '--journal', str(tmp_path / 'none'))
    assert code == 2 and 'no journal at' in err


def test_journal_in_use_by_another_run(cli, catalogue, tmp_path):
    journal = str(tmp_path / 'j.jsonl')
    holder = fix_journal.Journal(journal).open()
    try:
        code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                                 '--apply', '--journal', journal)
    finally:
        holder.close()
    assert code == 2 and 'in use by another' in err
