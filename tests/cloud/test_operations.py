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

"""Operating the plugin in a running patched cloud, as an operator does.

* ``pip uninstall nova-imgmeta`` and a restart of nova-api: Nova runs
  without any hook; snapshots inherit what they inherit on the pristine
  cloud (the rebuild fix of patch 0001, where the series has it, is Nova's
  own code and stays).
* ``pip install`` of the wheel and a restart: the policies are on again,
  and each of nova-api's two workers says so in nova-api's log exactly
  once.
* A broken third-party policy named in nova.conf: each worker logs it
  once, and no API call fails (``snapshot_on_error = open``).
"""

import concurrent.futures

import pytest

import cloudlib

WORKERS = 2


def _servers(cloud, tag, count):
    base = cloud.info['images']['cloud-image']
    return [cloud.boot('%s-%d' % (tag, number), base)['id']
            for number in range(count)]


def drive_snapshots(cloud, servers, offset, rounds=6):
    """createImage on every server at once, on fresh connections, until
    both API workers have run the hooks (or ``rounds`` rounds). Returns
    {pid: lines} of the "snapshot policies loaded" lines since offset and
    every answer's status.
    """
    statuses = []

    def one(server, number):
        response = cloud.compute().post(
            '/servers/%s/action' % server,
            json={'createImage': {'name': 'drive-%d' % number}},
            headers={'Connection': 'close'}, raise_exc=False)
        return response.status_code, response

    number = 0
    for _round in range(rounds):
        with concurrent.futures.ThreadPoolExecutor(len(servers)) as pool:
            futures = []
            for server in servers:
                number += 1
                futures.append(pool.submit(one, server, number))
            answers = [future.result() for future in futures]
        for status, response in answers:
            statuses.append(status)
            assert status == 202, response.text[:300]
            cloud.wait_image(response.json()['image_id'])
        for server in servers:
            cloud.wait_server(server)
        loaded = cloudlib.policies_loaded(cloud.log_since(offset))
        if len(loaded) >= WORKERS:
            break
    return loaded, statuses


def _snapshot_of_a(cloud, tag):
    image_a = cloud.create_image('ops-A-' + tag, cloud.image_a_properties())
    image_b = cloud.create_image('ops-B-' + tag, {'os_distro': 'ubuntu'})
    server = cloud.boot('ops-' + tag, image_a)['id']
    try:
        snap1 = cloud.snapshot(server, 'ops-snap-1-' + tag)
        cloud.rebuild(server, image_b)
        snap2 = cloud.snapshot(server, 'ops-snap-2-' + tag)
    finally:
        cloud.delete_server(server)
    return ({'A': image_a, 'B': image_b},
            cloudlib.properties(cloud.show_image(snap1)),
            cloudlib.properties(cloud.show_image(snap2)))


def _never_inherit(props):
    return sorted(key for key in props if key in cloudlib.NEVER_INHERIT or
                  key.startswith('os_glance'))


@pytest.mark.cloud('patched')
def test_uninstall_then_install_again_with_restarts(cloud):
    wheel = cloud.imgmeta_wheel()
    servers = _servers(cloud, 'ops', 3)
    try:
        cloud.pip('uninstall', '-y', 'nova-imgmeta')
        offset = cloud.log_offset()
        cloud.restart_api()
        images, snap1, snap2 = _snapshot_of_a(cloud, 'without')
        log = cloud.log_since(offset)
        assert 'nova_imgmeta' not in log and 'nova-imgmeta' not in log
        assert 'Loaded image metadata hooks' not in log
        # as on the pristine cloud: what Nova does not drop itself leaks
        dropped = set(cloud.facts()['nova_never_inherits'])
        expected = sorted(key for key in cloudlib.properties(
            cloud.show_image(images['A'])) if key in cloudlib.NEVER_INHERIT
            and key not in dropped)
        assert _never_inherit(snap1) == expected
        assert snap1['base_image_ref'] == images['A']
        # rebuild: patch 0001's fix, or upstream's, both take image B here
        assert snap2.get('base_image_ref') == images['B']
    finally:
        cloud.pip('install', wheel)
        offset = cloud.log_offset()
        cloud.restart_api()
    loaded, statuses = drive_snapshots(cloud, servers, offset)
    try:
        assert len(loaded) == WORKERS, (
            'snapshot policies loaded by %d workers after %d calls: %s'
            % (len(loaded), len(statuses), loaded))
        for pid, lines in loaded.items():
            assert len(lines) == 1, lines
            assert 'heal, never-inherit, truncated' in lines[0], lines[0]
        _images, snap1, _snap2 = _snapshot_of_a(cloud, 'with')
        assert _never_inherit(snap1) == []
    finally:
        for server in servers:
            cloud.delete_server(server)


@pytest.mark.cloud('patched')
def test_broken_third_party_policy_costs_only_itself(
        nova_conf_restored, third_party_policies):
    cloud = nova_conf_restored
    cloud.set_imgmeta(
        snapshot_policies='heal,never-inherit,patterns,truncated,'
                          'cloud-broken',
        snapshot_on_error='open')
    offset = cloud.log_offset()
    cloud.restart_api()
    servers = _servers(cloud, 'broken', 3)
    try:
        loaded, statuses = drive_snapshots(cloud, servers, offset)
        assert len(loaded) == WORKERS, loaded
        log = cloud.log_since(offset)
        failures = {}
        for line in log.splitlines():
            if 'cloud-broken' in line and 'the policy is not applied' in line:
                failures.setdefault(line.split()[2], []).append(line)
        assert sorted(failures) == sorted(loaded), (failures, loaded)
        for pid, lines in failures.items():
            assert len(lines) == 1, lines
        assert set(statuses) == {202}
        # the other policies still apply
        _images, snap1, _snap2 = _snapshot_of_a(cloud, 'broken')
        assert _never_inherit(snap1) == []
        assert ' 500 ' not in cloud.log_since(offset)
    finally:
        for server in servers:
            cloud.delete_server(server)
