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

"""Refusals over authenticated HTTP, in a running patched cloud.

The operator installs a third-party policy package (tests/cloud/plugins)
into Nova's environment, names its policies in nova.conf with
``snapshot_on_error = closed`` and restarts nova-api. Then, as the
member: createImage, createBackup and shelve of snapshots the policies
refuse (``cloud-refuse-named``, on purpose) or fail on
(``cloud-fail-named``, a bug: closed mode refuses) answer 400; the server
stays ACTIVE with no task_state; Glance holds no new image of the server;
and the next action on the server works.
"""

import pytest

import cloudlib

CHAIN = ('heal,never-inherit,patterns,truncated,cloud-refuse-named,'
         'cloud-fail-named')


@pytest.fixture
def closed_cloud(nova_conf_restored, third_party_policies):
    cloud = nova_conf_restored
    cloud.set_imgmeta(snapshot_policies=CHAIN, snapshot_on_error='closed')
    cloud.restart_api()
    return cloud


def _assert_unchanged(cloud, server_id, images_before):
    server = cloud.server(server_id)
    assert server['status'] == 'ACTIVE'
    assert server.get('OS-EXT-STS:task_state') is None
    after = sorted(image['id'] for image in cloud.images_of(server_id))
    assert after == images_before, 'a refused call left an image in Glance'


def _assert_400(response, what):
    assert response.status_code == 400, '%s: HTTP %d %s' % (
        what, response.status_code, response.text[:300])
    return response.json()['badRequest']['message']


@pytest.mark.cloud('patched')
def test_refusals_answer_400_and_leave_the_server_as_it_was(closed_cloud):
    cloud = closed_cloud
    base = cloud.info['images']['cloud-image']
    server = cloud.boot('refusal-target', base)['id']
    shelved = cloud.boot('refuse-shelve-target', base)['id']
    try:
        before = sorted(image['id'] for image in cloud.images_of(server))
        assert before == []
        offset = cloud.log_offset()
        calls = [
            ('createImage refused', server,
             {'createImage': {'name': 'refuse-image'}}),
            ('createImage failing policy, closed', server,
             {'createImage': {'name': 'fail-image'}}),
            ('createBackup refused', server,
             {'createBackup': {'name': 'refuse-backup',
                               'backup_type': 'daily', 'rotation': 1}}),
            ('createBackup failing policy, closed', server,
             {'createBackup': {'name': 'fail-backup',
                               'backup_type': 'daily', 'rotation': 1}}),
        ]
        for what, target, body in calls:
            message = _assert_400(cloud.action(target, body), what)
            assert 'refused' in message, message
            _assert_unchanged(cloud, target, before)
        # shelve names its snapshot after the server: "refuse-shelve-..."
        message = _assert_400(cloud.action(shelved, {'shelve': None}),
                              'shelve refused')
        assert 'cloud-refuse-named' in message, message
        _assert_unchanged(cloud, shelved, [])
        log = cloud.log_since(offset)
        assert log.count('refused by policy cloud-refuse-named') >= 3
        assert 'cloud-fail-named failed' in log
        assert ' 500 ' not in log

        # the next action on each server works
        kept = cloud.snapshot(server, 'kept-image')
        assert cloud.show_image(kept)['status'] == 'active'
        response = cloud.action(shelved, {'createImage': {'name': 'kept-2'}})
        assert response.status_code == 202, response.text
        cloud.wait_server(shelved)
        cloud.wait_image(response.json()['image_id'])
        assert [image['id'] for image in cloud.images_of(server)] == [kept]
    finally:
        cloud.delete_server(server)
        cloud.delete_server(shelved)


@pytest.mark.cloud('patched')
def test_refusing_policy_in_the_chain_keeps_other_snapshots_fixed(
        closed_cloud):
    """The same chain lets other snapshots through, never-inherit applied."""
    cloud = closed_cloud
    image_a = cloud.create_image('refusal-A', cloud.image_a_properties())
    server = cloud.boot('refusal-chain', image_a)['id']
    try:
        snap = cloud.snapshot(server, 'chain-ok')
        props = cloudlib.properties(cloud.show_image(snap))
        assert props['base_image_ref'] == image_a
        assert not [key for key in props if key in cloudlib.NEVER_INHERIT]
        assert 'cloud_refuse_named' not in props
        assert 'cloud_fail_named' not in props
    finally:
        cloud.delete_server(server)
