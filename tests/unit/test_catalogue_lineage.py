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

"""Lineage audit, backfill plan, apply and undo on in-memory fakes."""

import copy
import json

import pytest

from nova_imgmeta.catalogue import index
from nova_imgmeta.catalogue import plan as resolve
from nova_imgmeta.catalogue import verdicts
from nova_imgmeta.cli import audit as audit_cli
from nova_imgmeta.cli import backfill as backfill_cli
from nova_imgmeta.cli import main as cli_main
from nova_imgmeta.cli import undo as undo_cli
from nova_imgmeta.cloud import failures as errors
from nova_imgmeta.cloud import glance as glance_ops


class FakeGlance(object):
    def __init__(self, images):
        self.images = dict((i['id'], copy.deepcopy(i)) for i in images)
        self.calls = []
        self.fail = {}

    def iter_images(self, page_size=1000, filters=None, on_page=None):
        self.calls.append('list')
        for image_id in sorted(self.images):
            yield copy.deepcopy(self.images[image_id])

    iter_catalogue = iter_images

    def current_images(self, image_ids):
        result = []
        for image_id in image_ids:
            try:
                result.append((image_id, self.get_image(image_id)))
            except errors.ApiError as exc:
                result.append((image_id, exc))
        return result

    def find_images(self, image_ids, search=True):
        for image_id in image_ids:
            self.calls.append('get')
            image = self.images.get(image_id)
            yield image_id, copy.deepcopy(image) if image else None

    def get_image(self, image_id):
        self.calls.append('get')
        if image_id not in self.images:
            raise errors.ApiError('GET image %s: not found' % image_id, 404)
        return copy.deepcopy(self.images[image_id])

    def patch_image(self, image_id, ops):
        self.calls.append('patch')
        if image_id in self.fail:
            raise self.fail[image_id]
        image = self.images[image_id]
        for op in ops:
            key = op['path'][1:]
            if op['op'] == 'remove':
                if key not in image:
                    raise errors.ApiError('conflict', 409)
                del image[key]
            elif op['op'] == 'replace' and key not in image:
                raise errors.ApiError('conflict', 409)
            else:
                image[key] = op['value']
        return copy.deepcopy(image)


class FakeNova(object):
    def __init__(self, servers):
        self.servers = servers
        self.calls = 0

    def find_servers(self, uuids, since=None, batch_threshold=20):
        self.calls += 1
        for uuid in sorted(self.servers):
            if uuid in uuids:
                yield uuid, {'id': uuid, 'image': self.servers[uuid]}


def catalogue():
    return [
        {'id': 'base', 'name': 'ubuntu'},
        {'id': 's-ok', 'name': 'ok', 'image_type': 'snapshot',
         'base_image_ref': 'base', 'instance_uuid': 'srv1'},
        {'id': 's-chain', 'name': 'chain', 'image_type': 'snapshot',
         'base_image_ref': 's-ok'},
        {'id': 's-miss', 'name': 'miss', 'image_type': 'snapshot',
         'instance_uuid': 'srv1'},
        {'id': 's-empty', 'name': 'empty', 'image_type': 'backup',
         'base_image_ref': '', 'instance_uuid': 'srv2'},
        {'id': 's-vol', 'name': 'vol', 'image_type': 'snapshot',
         'instance_uuid': 'srv-vol'},
        {'id': 's-none', 'name': 'none', 'image_type': 'snapshot'},
        {'id': 's-dang', 'name': 'dang', 'image_type': 'snapshot',
         'base_image_ref': 'deleted', 'instance_uuid': 'srv1'},
        {'id': 'l1', 'name': 'l1', 'image_type': 'snapshot',
         'base_image_ref': 'l2'},
        {'id': 'l2', 'name': 'l2', 'image_type': 'snapshot',
         'base_image_ref': 'l1'},
    ]


SERVERS = {'srv1': {'id': 'base'}, 'srv2': {'id': 's-ok'}, 'srv-vol': ''}


def _index(images):
    idx = index.ImageIndex()
    for image in images:
        idx.add(image)
    idx.flush()
    return idx


def test_walk_kinds():
    idx = _index(catalogue())
    try:
        audit = verdicts.Audit(idx).run()
        kinds = dict((f['id'], f['kind'])
                     for f in audit.findings(verdicts.KINDS))
        assert kinds == {'s-ok': 'ok', 's-chain': 'indirect',
                         's-miss': 'missing', 's-empty': 'missing',
                         's-vol': 'missing', 's-none': 'missing',
                         's-dang': 'dangling', 'l1': 'loop', 'l2': 'loop'}
        tree = audit.tree('base')
        assert [c['id'] for c in tree['children']] == ['s-ok']
        assert tree['children'][0]['children'][0]['id'] == 's-chain'
        lines = []
        verdicts.render_tree(tree, lines.append)
        assert lines[0] == 'ubuntu  base'
        assert lines[2] == '    `-- chain  s-chain  [snapshot]'
    finally:
        idx.close()


def test_plan_values():
    idx = _index(catalogue())
    try:
        audit = verdicts.Audit(idx).run()
        plan = resolve.Plan(idx, audit)
        plan.select()
        plan.lookup_servers(FakeNova(SERVERS))
        plan.resolve()
        rows = dict((r['image_id'], r) for r in plan.rows())
        assert rows['s-miss']['new'] == 'base'
        assert rows['s-empty']['new'] == 'base'   # via s-ok's own base
        assert rows['s-empty']['old'] == ''
        assert rows['s-vol']['action'] == 'unresolved'
        assert 'volume-backed' in rows['s-vol']['reason']
        assert rows['s-none']['action'] == 'unresolved'
        assert rows['s-dang']['action'] == 'skip'
    finally:
        idx.close()


def test_since_is_the_oldest_snapshot_less_a_margin():
    assert resolve._since(['2020-01-02T00:00:00Z', '2020-01-05T00:00:00Z'],
                          margin=3600) == '2020-01-01T23:00:00Z'
    assert resolve._since(['2020-01-02T00:00:00Z', None]) is None


class Args(object):
    def __init__(self, **kw):
        self.__dict__.update(dict(
            apply=False, force=False, journal=None, image=[],
            source_property=[], nova_batch_threshold=20, format='text',
            page_size=1000, owner=None, quiet=True, no_tree=False,
            dry_run=False, workers=1))
        self.__dict__.update(kw)


class Out(object):
    def __init__(self):
        self.text = ''

    def write(self, text):
        self.text += text


def test_audit_exit_codes():
    out = Out()
    assert audit_cli.run(Args(), glance=FakeGlance(catalogue()),
                         out=out) == 1
    assert len([line for line in out.text.splitlines()
                if line.startswith('MISSING ')]) == 4
    clean = [catalogue()[0], catalogue()[1]]
    assert audit_cli.run(Args(format='json'), glance=FakeGlance(clean),
                         out=Out()) == 0


def test_backfill_dry_run_apply_undo(tmpdir):
    glance = FakeGlance(catalogue())
    before = copy.deepcopy(glance.images)
    out = Out()
    assert backfill_cli.run(Args(), glance=glance, nova=FakeNova(SERVERS),
                            out=out) == 1
    assert 'patch' not in glance.calls
    assert 'would set s-miss' in out.text
    journal = str(tmpdir.join('j.jsonl'))
    out = Out()
    code = backfill_cli.run(Args(apply=True, journal=journal),
                            glance=glance, nova=FakeNova(SERVERS), out=out)
    assert code == 1   # unresolved and skipped remain
    assert glance.images['s-miss']['base_image_ref'] == 'base'
    assert glance.images['s-empty']['base_image_ref'] == 'base'
    assert 'changed=2' in out.text
    out = Out()
    assert undo_cli.run(Args(journal=journal), glance=glance, out=out) == 0
    assert glance.images == before


def test_backfill_failure_is_journaled_and_exit_2(tmpdir):
    glance = FakeGlance(catalogue())
    glance.fail['s-miss'] = errors.ApiError('update image s-miss: 403', 403)
    journal = str(tmpdir.join('j.jsonl'))
    out = Out()
    code = backfill_cli.run(Args(apply=True, journal=journal),
                            glance=glance, nova=FakeNova(SERVERS), out=out)
    assert code == 2
    events = [json.loads(line)['event'] for line in open(journal)]
    assert events.count('failed') == 1 and events.count('done') == 1
    assert 'base_image_ref' not in glance.images['s-miss']


def test_backfill_network_error_leaves_begin_open(tmpdir):
    glance = FakeGlance(catalogue())
    glance.fail['s-empty'] = errors.ApiError('network', network=True)
    journal = str(tmpdir.join('j.jsonl'))
    code = backfill_cli.run(Args(apply=True, journal=journal),
                            glance=glance, nova=FakeNova(SERVERS), out=Out())
    assert code == 2
    events = [json.loads(line)['event'] for line in open(journal)]
    assert events == ['begin']   # s-empty sorts first; nothing after it
    del glance.fail['s-empty']
    code = backfill_cli.run(Args(apply=True, journal=journal),
                            glance=glance, nova=FakeNova(SERVERS), out=Out())
    assert code == 1
    assert glance.images['s-empty']['base_image_ref'] == 'base'


def test_set_property_ops():
    assert glance_ops.set_property_ops('k', None, 'v') == [
        {'op': 'add', 'path': '/k', 'value': 'v'}]
    assert glance_ops.set_property_ops('k', '', 'v') == [
        {'op': 'replace', 'path': '/k', 'value': 'v'}]
    assert glance_ops.set_property_ops('k', 'v', None) == [
        {'op': 'remove', 'path': '/k'}]


def test_help_needs_no_openstack_client(capsys):
    with pytest.raises(SystemExit):
        cli_main.main(['--help'])
    out = capsys.readouterr()[0]
    for command in ('audit', 'backfill', 'undo', 'checksum', 'cache-path'):
        assert command in out


class StreamingGlance(FakeGlance):
    """Notes what was written to ``out`` when each image is listed."""

    def __init__(self, images, out):
        super(StreamingGlance, self).__init__(images)
        self.out = out
        self.seen_at = []

    def iter_catalogue(self, page_size=1000, filters=None, on_page=None):
        for image in self.iter_images(page_size, filters, on_page):
            self.seen_at.append((image['id'], self.out.text))
            yield image


def test_audit_writes_each_missing_snapshot_while_listing():
    out = Out()
    glance = StreamingGlance(catalogue(), out)
    assert audit_cli.run(Args(), glance=glance, out=out) == 1
    written = dict(glance.seen_at)
    # s-miss is listed before s-none: its line is out by then
    assert 'MISSING   s-miss' in written['s-none']
    # dangling and loop are known once the listing is over, before the
    # trees; the summary comes last
    lines = out.text.splitlines()
    kinds = [line.split()[0] for line in lines[:lines.index('')]]
    assert kinds == ['MISSING'] * 4 + ['DANGLING', 'LOOP', 'LOOP']
    assert lines[-1].startswith('summary: 10 images')


def test_audit_json_is_one_document_in_the_order_written():
    out = Out()
    glance = StreamingGlance(catalogue(), out)
    assert audit_cli.run(Args(format='json'), glance=glance, out=out) == 1
    assert '"s-miss"' in dict(glance.seen_at)['s-none']
    report = json.loads(out.text)
    assert list(report) == ['problems', 'trees', 'summary'] or \
        sorted(report) == ['problems', 'summary', 'trees']
    assert report['summary']['problems'] == 7
    assert [p['kind'] for p in report['problems']] == \
        ['missing'] * 4 + ['dangling', 'loop', 'loop']
    base = [t for t in report['trees'] if t['id'] == 'base'][0]
    assert [c['id'] for c in base['children']] == ['s-ok']
    assert [c['id'] for c in base['children'][0]['children']] == \
        ['s-chain']
    assert base['children'][0]['children'][0]['children'] == []
