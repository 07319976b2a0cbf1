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

"""audit and backfill see the whole real catalogue: Nova's page cap and
next links, hidden images, community images of other projects, --owner
limiting which snapshots are checked (not which images exist), and
backfill --image naming what it cannot do.

Each test seeds its own projects in the real Glance server; the Nova
stand-in caps ``limit`` as real Nova does (see test_glance_fake_nova.py).
"""

import json

import pytest

from fake_nova import start_fake_nova
import glance_server
from loopback_http import start_proxy

ADMIN_PROJECT = 'admin-project'


def _project():
    return 'proj-' + glance_server.new_id()[:8]


def _plan(out):
    rows = [json.loads(line) for line in out.splitlines()]
    return dict((r['image_id'], r) for r in rows[:-1]), rows[-1]['summary']


def _problems(out):
    report = json.loads(out)
    return report, dict((p['id'], p['kind']) for p in report['problems'])


def _through_proxy(cli, glance, *argv):
    """Run the CLI with a counting proxy in front of Glance: (code, out,
    err, the paths Glance was asked).
    """
    proxy = start_proxy(glance.url)
    try:
        code, out, err = cli.run(*argv, glance_url=proxy.url)
        return code, out, err, [p for _m, p in proxy.counter.paths]
    finally:
        proxy.shutdown()


@pytest.fixture
def small_nova_pages():
    """A Nova of its own with ``[api] max_limit = 100``."""
    server = start_fake_nova()
    server.state.max_limit = 100
    yield server
    server.shutdown()


def test_nova_max_limit_below_the_page_asked_loses_no_server(
        cli, admin, small_nova_pages, tmp_path):
    nova = small_nova_pages
    owner = _project()
    base = admin.create(name='base', owner=owner)['id']
    servers = [glance_server.new_id() for _ in range(280)]
    for number, uuid in enumerate(servers):
        nova.state.add(uuid, base, project=owner,
                       created='2018-02-14T10:%02d:%02dZ' % divmod(
                           number, 60),
                       updated='2030-01-01T00:00:00Z')
    snaps = {}
    for uuid in servers[::10]:   # 28 snapshots, their servers on 3 pages
        snaps[admin.create(name='s', owner=owner, image_type='snapshot',
                           instance_uuid=uuid)['id']] = uuid
    nova.state.counter.reset()
    code, out, err = cli.run('backfill', '--owner', owner, '--format',
                             'json', '--nova-batch-threshold', '0',
                             nova_url=nova.compute_url)
    assert code == 0, out + err
    plan, summary = _plan(out)
    assert summary['would_change'] == len(snaps) and \
        summary['unresolved'] == 0
    assert all(plan[i]['new'] == base for i in snaps)
    # Nova served 100 servers a page whatever the limit asked: 3 pages
    # (the 280 servers), each following the previous page's next link
    paths = [p for _m, p in nova.state.counter.paths]
    assert len(paths) == 3
    assert 'marker=' not in paths[0]
    assert all('marker=' in p and 'limit=1000' in p for p in paths[1:])


def test_every_glance_listing_follows_next(cli, admin, glance):
    # pages of 2 images, in every listing this Glance needs: the default
    # one and the hidden (API v2.7 on) or community one
    owner = _project()
    base = admin.create(name='base', owner=owner)['id']
    extra = {'os_hidden': True} if glance.api_version >= (2, 7) else {
        'visibility': 'community'}
    others = [admin.create(name='other-%d' % n, owner=owner, **extra)['id']
              for n in range(5)]
    snaps = [admin.create(name='s', owner=owner, image_type='snapshot',
                          base_image_ref=other)['id'] for other in others]
    snaps.append(admin.create(name='s', owner=owner, image_type='snapshot',
                              base_image_ref=base)['id'])
    code, out, err, paths = _through_proxy(
        cli, glance, 'audit', '--owner', owner, '--format', 'json',
        '--page-size', '2')
    assert code == 0, out + err
    report, _kinds = _problems(out)
    assert report['summary']['images'] == 12
    assert report['summary']['ok'] == 6
    second = [p for p in paths if 'os_hidden=true' in p or
              'visibility=community' in p]
    assert len(second) == 3   # 5 images, pages of 2
    assert 'os_hidden' not in ''.join(paths) or \
        glance.api_version >= (2, 7)


def test_hidden_images_are_not_dangling(cli, admin, glance, nova):
    owner = _project()
    if glance.api_version < (2, 7):
        # no hidden images before Rocky: os_hidden must never be sent (an
        # older Glance takes it for a property filter and lists nothing)
        base = admin.create(name='retired', owner=owner)['id']
    else:
        base = admin.create(name='retired', owner=owner,
                            os_hidden=True)['id']
    server = glance_server.new_id()
    nova.state.add(server, base, project=owner,
                   updated='2030-01-01T00:00:00Z')
    ok = admin.create(name='s-ok', owner=owner, image_type='snapshot',
                      base_image_ref=base, instance_uuid=server)['id']
    missing = admin.create(name='s-missing', owner=owner,
                           image_type='snapshot',
                           instance_uuid=server)['id']
    for args in ([], ['--owner', owner]):
        code, out, err, paths = _through_proxy(cli, glance, 'audit',
                                               '--format', 'json', *args)
        report, kinds = _problems(out)
        assert ok not in kinds, args
        assert kinds[missing] == 'missing'
        if glance.api_version < (2, 7):
            assert not [p for p in paths if 'os_hidden' in p]
    code, out, err = cli.run('backfill', '--owner', owner, '--format',
                             'json')
    assert code == 0, out + err
    plan, summary = _plan(out)
    assert plan[missing]['action'] == 'change'
    assert plan[missing]['new'] == base


def test_admin_sees_community_images_of_other_projects(cli, admin):
    other = _project()
    base = admin.create(name='base', owner=other, visibility='public')['id']
    community = admin.create(name='c-snap', owner=other,
                             visibility='community',
                             image_type='snapshot')['id']
    child = admin.create(name='c-child', owner=other,
                         visibility='community', image_type='snapshot',
                         base_image_ref=base)['id']
    code, out, err = cli.run('audit', '--format', 'json', '--no-tree')
    report, kinds = _problems(out)
    assert kinds.get(community) == 'missing'
    # and per project
    code, out, err = cli.run('audit', '--owner', other, '--format', 'json')
    report, kinds = _problems(out)
    assert report['summary']['images'] == 3
    assert kinds == {community: 'missing'}
    assert child in json.dumps(report['trees'])


def test_what_a_non_admin_sees(cli, admin):
    mine, other = _project(), _project()
    public = admin.create(name='pub', owner=ADMIN_PROJECT,
                          visibility='public')['id']
    own = admin.create(name='own', owner=mine, image_type='snapshot')['id']
    community = admin.create(name='com', owner=other,
                             visibility='community',
                             image_type='snapshot')['id']
    private = admin.create(name='priv', owner=other,
                           image_type='snapshot')['id']
    code, out, err = cli.run('audit', '--format', 'json', '--no-tree',
                             project=mine, roles='member,reader')
    assert code == 1, err
    report, kinds = _problems(out)
    # its own images, public ones and every community image; not the
    # private images of other projects
    assert kinds.get(own) == 'missing'
    assert kinds.get(community) == 'missing'
    assert private not in kinds
    assert public not in kinds


def test_owner_limits_the_snapshots_checked_not_the_images_that_exist(
        cli, admin, nova, glance):
    owner = _project()
    # the usual case: public base images belong to the admin project
    public = admin.create(name='pub-base', owner=ADMIN_PROJECT,
                          visibility='public')['id']
    gone = admin.create(name='gone', owner=ADMIN_PROJECT,
                        visibility='public')['id']
    admin.delete(gone)
    server = glance_server.new_id()
    nova.state.add(server, public, project=owner,
                   updated='2030-01-01T00:00:00Z')
    ok = admin.create(name='ok', owner=owner, image_type='snapshot',
                      base_image_ref=public, instance_uuid=server)['id']
    dangling = admin.create(name='dangling', owner=owner,
                            image_type='snapshot',
                            base_image_ref=gone)['id']
    missing = admin.create(name='missing', owner=owner,
                           image_type='snapshot',
                           instance_uuid=server)['id']
    code, out, err, paths = _through_proxy(cli, glance, 'audit', '--owner',
                                           owner, '--format', 'json')
    report, kinds = _problems(out)
    assert report['summary']['images'] == 3   # --owner: 3 listed
    assert kinds == {dangling: 'dangling', missing: 'missing'}
    # one batched look-up of both, then a GET for the one not found: its
    # 404 is what makes it dangling
    looked_up = [p for p in paths if 'id=in' in p]
    assert len(looked_up) == 1 and public in looked_up[0]
    assert '/v2/images/%s' % gone in paths
    assert '/v2/images/%s' % public not in paths
    trees = dict((t['id'], t) for t in report['trees'])
    assert trees[public]['exists'] is True
    assert [c['id'] for c in trees[public]['children']] == [ok]
    # backfill resolves against the public image, not "no longer exists"
    code, out, err = cli.run('backfill', '--owner', owner, '--format',
                             'json')
    plan, summary = _plan(out)
    assert plan[missing]['action'] == 'change'
    assert plan[missing]['new'] == public


def test_backfill_image_names_each_id_it_cannot_do(cli, admin, nova):
    owner, other = _project(), _project()
    base = admin.create(name='base', owner=owner)['id']
    server = glance_server.new_id()
    nova.state.add(server, base, project=owner,
                   updated='2030-01-01T00:00:00Z')
    snap = admin.create(name='snap', owner=owner, image_type='snapshot',
                        instance_uuid=server)['id']
    elsewhere = admin.create(name='elsewhere', owner=other,
                             image_type='snapshot',
                             instance_uuid=server)['id']
    nowhere = '00000000-0000-4000-8000-000000000000'
    code, out, err = cli.run('backfill', '--owner', owner, '--format',
                             'json', '--image', snap, '--image', nowhere,
                             '--image', base, '--image', elsewhere)
    assert code == 1, out + err
    plan, summary = _plan(out)
    assert summary['would_change'] == 1 and summary['bad_image_ids'] == 3
    assert plan[snap]['action'] == 'change'
    assert 'not found in Glance' in plan[nowhere]['reason']
    assert 'not a snapshot or backup' in plan[base]['reason']
    assert 'not among the images listed' in plan[elsewhere]['reason']
    for image_id in (nowhere, base, elsewhere):
        assert '--image %s: ' % image_id in err
    # alone, an unknown id is an exit 1, with its name, never a silent 0
    code, out, err = cli.run('backfill', '--image', nowhere, '--quiet')
    assert code == 1
    assert nowhere in err and 'not found in Glance' in err
