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

"""audit against a real Glance server."""

import json

MISSING = ['missing-live', 'missing-deleted-server', 'missing-empty',
           'missing-via-snapshot', 'missing-no-instance', 'missing-purged',
           'missing-volume', 'missing-other-project']


def test_audit_json_finds_every_problem(cli, catalogue):
    code, out, err = cli.run('audit', '--format', 'json', '--owner',
                             catalogue.owner)
    assert code == 1, err
    report = json.loads(out)
    summary = report['summary']
    assert summary['images'] == 16
    assert summary['snapshots'] == 14
    assert (summary['ok'], summary['indirect'], summary['missing'],
            summary['dangling'], summary['loop']) == (2, 1, 8, 1, 2)
    assert summary['problems'] == 11
    ids = catalogue.ids
    kinds = dict((p['id'], p['kind']) for p in report['problems'])
    for key in MISSING:
        assert kinds[ids[key]] == 'missing', key
    assert kinds[ids['dangling']] == 'dangling'
    assert kinds[ids['loop-a']] == kinds[ids['loop-b']] == 'loop'
    dangling = [p for p in report['problems'] if p['kind'] == 'dangling'][0]
    assert dangling['path'] == [ids['dangling'], ids['gone']]
    # trees: ubuntu holds snap-ok, and the chain under it
    trees = dict((t['id'], t) for t in report['trees'])
    ubuntu = trees[ids['ubuntu']]
    assert [c['id'] for c in ubuntu['children']] == [ids['snap-ok']]
    assert [c['id'] for c in ubuntu['children'][0]['children']] == [
        ids['snap-chain']]
    assert trees[ids['gone']]['exists'] is False
    assert trees[ids['missing-live']]['problem'] == 'missing'
    assert 'listed 16 images' in err   # progress on stderr


def test_audit_text_tree(cli, catalogue):
    code, out, err = cli.run('audit', '--owner', catalogue.owner)
    assert code == 1
    ids = catalogue.ids
    lines = out.splitlines()
    root = [i for i, l in enumerate(lines) if l.startswith('ubuntu-')][0]
    assert ids['ubuntu'] in lines[root]
    assert ids['snap-ok'] in lines[root + 1]
    assert lines[root + 2].startswith('    `-- snap-chain')
    assert '(deleted image)  <- DANGLING' in out
    # one line per problem, before the trees
    kinds = [line.split()[0] for line in lines[:lines.index('')]]
    assert sorted(kinds) == ['DANGLING', 'LOOP', 'LOOP'] + ['MISSING'] * 8
    assert '%s  dangling-' % ids['dangling'] in out
    assert '%s -> %s' % (ids['dangling'], ids['gone']) in out
    assert out.rstrip().splitlines()[-1].startswith('summary: 16 images')


def test_audit_clean_catalogue_exits_zero(cli, admin):
    owner = 'proj-clean'
    base = admin.create(name='base', owner=owner)['id']
    admin.create(name='snap', owner=owner, image_type='snapshot',
                 base_image_ref=base)
    code, out, err = cli.run('audit', '--owner', owner, '--quiet')
    assert code == 0, out
    assert err == ''
    assert 'summary: 2 images, 1 snapshots/backups: 1 ok' in out
