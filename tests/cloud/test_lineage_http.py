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

"""The lineage scenario over HTTP, as the cloud's member user.

Boot from image A, createImage; rebuild to image B, createImage; rebuild
onto the first snapshot, createImage. Each snapshot's properties are read
back from Glance. The cloud's nova.conf replaces
non_inheritable_image_properties with an operator's own list.

* Patched cloud (series applied, nova-imgmeta installed): base_image_ref
  is A, B, A, and no never-inherit property reaches any snapshot.
* Pristine cloud: the bug shows. Up to Ussuri 21.2.0 the snapshot after
  the rebuild has no base_image_ref (bug 1893618); from 21.2.1 on
  (upstream's fix) the rollback onto the first snapshot loses A. The
  never-inherit properties that reach the snapshots are exactly those
  Nova does not drop itself.
"""

import json
import os
import time

import pytest

import cloudlib

MEMBER_PROJECT = 'nova-imgmeta'


def run_scenario(cloud, tag):
    """Returns {'A', 'B', 'snapshots': [(id, properties)]}."""
    image_a = cloud.create_image('lineage-A-' + tag,
                                 cloud.image_a_properties())
    image_b = cloud.create_image('lineage-B-' + tag, {'os_distro': 'ubuntu'})
    server = cloud.boot('lineage-' + tag, image_a)['id']
    snapshots = []
    try:
        snap1 = cloud.snapshot(server, 'lineage-snap-1-' + tag)
        snapshots.append(snap1)
        cloud.rebuild(server, image_b)
        snapshots.append(cloud.snapshot(server, 'lineage-snap-2-' + tag))
        cloud.rebuild(server, snap1)
        snapshots.append(cloud.snapshot(server, 'lineage-snap-3-' + tag))
        server_image = cloud.server(server)['image']['id']
    finally:
        cloud.delete_server(server)
    result = {'A': image_a, 'B': image_b, 'server_image': server_image,
              'snapshots': [(snap, cloudlib.properties(
                  cloud.show_image(snap))) for snap in snapshots]}
    print(json.dumps(result, indent=1, sort_keys=True))
    return result


def leaked(result):
    keys = set()
    for _snap, props in result['snapshots']:
        keys.update(key for key in props
                    if key in cloudlib.NEVER_INHERIT or
                    key.startswith('os_glance'))
    return sorted(keys)


@pytest.mark.cloud('patched')
def test_lineage_patched_cloud(cloud):
    result = run_scenario(cloud, 'patched')
    bases = [props.get('base_image_ref') for _s, props in result['snapshots']]
    assert bases == [result['A'], result['B'], result['A']]
    assert leaked(result) == []
    # ordinary properties are inherited, and every snapshot is the
    # member's, with the bytes the compute host uploaded
    first = result['snapshots'][0][1]
    assert first.get('hw_qemu_guest_agent') == 'yes'
    assert result['server_image'] == result['snapshots'][0][0]
    for snap, _props in result['snapshots']:
        image = cloud.show_image(snap)
        assert image['status'] == 'active' and image['size'] == 65536


@pytest.mark.cloud('pristine')
def test_lineage_pristine_cloud_shows_the_bug(cloud):
    facts = cloud.facts()
    assert not facts['hooks_module'], 'the pristine cloud runs patched Nova'
    result = run_scenario(cloud, 'pristine')
    snaps = result['snapshots']
    bases = [props.get('base_image_ref') for _s, props in snaps]
    assert bases[0] == result['A']
    if facts['upstream_rebuild_fix']:
        # upstream's rule: the rebuild image, whatever it is
        assert bases == [result['A'], result['B'], snaps[0][0]], \
            "rolling back onto the server's own snapshot loses image A"
    else:
        # bug 1893618: rebuild drops image_base_image_ref
        assert bases[1] is None, 'snapshot after rebuild has no base'
    dropped = set(facts['nova_never_inherits'])
    image_a = cloudlib.properties(cloud.show_image(result['A']))
    expected = sorted(key for key in image_a
                      if key in cloudlib.NEVER_INHERIT and
                      key not in dropped)
    assert expected, 'pristine Nova drops every never-inherit property?'
    assert leaked(result) == expected


def _signed_snapshot(cloud, tag):
    image = cloud.create_image('signed-' + tag,
                               cloud.image_a_properties(signed=True))
    server = cloud.boot('signed-' + tag, image)['id']
    try:
        response = cloud.action(server, {'createImage': {
            'name': 'signed-snap-' + tag}})
        assert response.status_code == 202, response.text
        snap = response.json()['image_id']
        cloud.wait_server(server)
        deadline = time.time() + cloudlib.TIMEOUT
        while time.time() < deadline:
            found = cloud.image().get('/v2/images/%s' % snap,
                                      raise_exc=False)
            if found.status_code == 404 or \
                    found.json()['status'] in ('active', 'killed'):
                break
            time.sleep(0.5)
        return snap, found
    finally:
        cloud.delete_server(server)


@pytest.mark.cloud('patched')
def test_snapshot_of_a_signed_image(cloud):
    """No signature property reaches the snapshot: Glance takes its bytes."""
    snap, found = _signed_snapshot(cloud, 'patched')
    assert found.status_code == 200
    image = found.json()
    assert image['status'] == 'active'
    assert not [key for key in image if key.startswith('img_signature')]


@pytest.mark.cloud('pristine')
def test_snapshot_of_a_signed_image_pristine(cloud):
    """Pristine Nova copies the base image's signature into the snapshot
    (with non_inheritable_image_properties replaced): Glance refuses the
    upload, and Nova deletes the snapshot. From Ussuri on Nova drops the
    signature keys itself.
    """
    snap, found = _signed_snapshot(cloud, 'pristine')
    if cloudlib.SIGNATURE_CERTIFICATE in cloud.facts()['nova_never_inherits']:
        assert found.status_code == 200 and \
            found.json()['status'] == 'active'
        return
    assert found.status_code == 404, found.text
    with open(os.path.join(cloud.state, 'logs', 'glance-api.log')) as log:
        assert 'Signature verification failed for image %s' % snap in \
            log.read()
