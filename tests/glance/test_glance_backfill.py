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

"""backfill and undo against a real Glance server (Nova: the Queens
stand-in, see fake_nova.py)."""

import json

from nova_imgmeta.catalogue import fix_journal

EXPECTED = {
    'missing-live': 'ubuntu',
    'missing-deleted-server': 'centos',
    'missing-empty': 'centos',
    'missing-via-snapshot': 'ubuntu',
    'missing-other-project': 'ubuntu',
}
UNRESOLVED = ['missing-no-instance', 'missing-purged', 'missing-volume']


def _props(catalogue):
    return dict((key, catalogue.admin.get(image_id))
                for key, image_id in catalogue.ids.items()
                if not key.startswith('srv-') and key != 'gone')


def test_dry_run_is_the_default_and_writes_nothing(cli, catalogue, tmp_path):
    before = _props(catalogue)
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--format', 'json')
    assert code == 1, err   # unresolved snapshots remain
    rows = [json.loads(line) for line in out.splitlines()]
    summary = rows[-1]['summary']
    assert summary == {'applied': False, 'would_change': 5,
                       'unresolved': 3, 'skipped': 3, 'bad_image_ids': 0}
    plan = dict((r['image_id'], r) for r in rows[:-1])
    ids = catalogue.ids
    for key, root in EXPECTED.items():
        assert plan[ids[key]]['action'] == 'change', key
        assert plan[ids[key]]['new'] == ids[root], key
    assert plan[ids['missing-deleted-server']]['how'] == 'nova'
    for key in UNRESOLVED:
        assert plan[ids[key]]['action'] == 'unresolved', key
    for key in ('dangling', 'loop-a', 'loop-b'):
        assert plan[ids[key]]['action'] == 'skip'
        assert 'without --force' in plan[ids[key]]['reason']
    assert _props(catalogue) == before
    assert not list(tmp_path.iterdir())


def test_apply_then_undo_restores_exactly(cli, catalogue, tmp_path):
    ids = catalogue.ids
    before = _props(catalogue)
    journal = str(tmp_path / 'j.jsonl')
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal', journal)
    assert code == 1, err   # 3 unresolved, 3 skipped: attention needed
    assert 'changed=5' in out and 'failed=0' in out
    for key, root in EXPECTED.items():
        assert catalogue.get(key)['base_image_ref'] == ids[root], key
    # existing values untouched without --force
    assert catalogue.get('dangling')['base_image_ref'] == ids['gone']
    records = fix_journal.read(journal)
    assert [r['event'] for r in records] == ['begin', 'done'] * 5
    first = records[0]
    assert set(first) >= set(['image_id', 'key', 'old', 'new', 'time'])
    olds = dict((r['image_id'], r['old']) for r in records)
    assert olds[ids['missing-empty']] == ''
    assert olds[ids['missing-live']] is None
    # audit now only reports what could not be fixed
    code, out, err = cli.run('audit', '--owner', catalogue.owner,
                             '--format', 'json', '--no-tree')
    assert json.loads(out)['summary']['missing'] == 3
    # undo: the key is removed where it did not exist, '' restored
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0, out + err
    assert 'restored=5' in out
    after = _props(catalogue)
    for key in before:
        assert ('base_image_ref' in after[key]) == \
            ('base_image_ref' in before[key]), key
        assert after[key].get('base_image_ref') == \
            before[key].get('base_image_ref'), key
    # undo again: nothing left to do
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0 and 'restored=0' in out


def test_rerun_skips_what_is_done(cli, catalogue, tmp_path):
    journal = str(tmp_path / 'j.jsonl')
    cli.run('backfill', '--owner', catalogue.owner, '--apply', '--journal',
            journal)
    lines = len(fix_journal.read(journal))
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--journal', journal)
    assert 'changed=0' in out and 'done_in_earlier_runs=5' in out
    assert len(fix_journal.read(journal)) == lines


def test_force_replaces_existing_values(cli, catalogue, tmp_path):
    ids = catalogue.ids
    journal = str(tmp_path / 'j.jsonl')
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--force', '--journal', journal)
    assert 'changed=7' in out, out + err
    assert catalogue.get('dangling')['base_image_ref'] == ids['ubuntu']
    assert catalogue.get('loop-a')['base_image_ref'] == ids['centos']
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0
    assert catalogue.get('dangling')['base_image_ref'] == ids['gone']
    assert catalogue.get('loop-a')['base_image_ref'] == ids['loop-b']


def test_image_option_limits_the_run(cli, catalogue, tmp_path):
    ids = catalogue.ids
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--image', ids['missing-live'], '--apply',
                             '--journal', str(tmp_path / 'j'))
    assert code == 0, out + err
    assert 'changed=1' in out
    assert 'base_image_ref' not in catalogue.get('missing-deleted-server')


def test_non_admin_sees_own_project_only(cli, catalogue):
    # Nova refuses all_tenants (403): the look-up retries for the project
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--format', 'json', project=catalogue.owner,
                             roles='member,reader')
    assert 'admin only' in err
    rows = [json.loads(line) for line in out.splitlines()]
    plan = dict((r['image_id'], r) for r in rows[:-1])
    other = plan[catalogue.ids['missing-other-project']]
    assert other['action'] == 'unresolved'
    assert 'admin credentials' in other['reason']
    assert plan[catalogue.ids['missing-deleted-server']]['action'] == \
        'change'


def test_batched_nova_lookups(cli, catalogue, nova):
    nova.state.counter.reset()
    cli.run('backfill', '--owner', catalogue.owner, '--quiet',
            '--nova-batch-threshold', '0')
    # one paginated listing (changes-since, deleted servers included)
    assert nova.state.counter.total == 1
    method, path = nova.state.counter.paths[0]
    assert 'changes-since=' in path and 'all_tenants=1' in path
    nova.state.counter.reset()
    cli.run('backfill', '--owner', catalogue.owner, '--quiet')
    # a handful of servers: one filtered request each
    assert nova.state.counter.total == 7
    assert all('uuid=' in p for _m, p in nova.state.counter.paths)


def test_source_property_fallback(cli, admin, tmp_path):
    owner = 'proj-srcprop'
    base = admin.create(name='base', owner=owner)['id']
    snap = admin.create(name='s', owner=owner, image_type='snapshot',
                        taken_from=base)['id']
    code, out, err = cli.run('backfill', '--owner', owner, '--apply',
                             '--source-property', 'taken_from',
                             '--journal', str(tmp_path / 'j'))
    assert code == 0, out + err
    assert admin.get(snap)['base_image_ref'] == base
