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

"""The operator commands against the live cloud's real Keystone, Nova and
Glance (no stand-in): ``check-config`` inside Nova's own environment on
the cloud's nova.conf; ``audit`` with the admin of clouds.yaml; on the
pristine cloud, ``backfill`` repairing a snapshot Nova got wrong and
``undo`` putting it back.
"""

import json
import os
import subprocess
import sys

import pytest

import cloudlib
import test_lineage_http


def cli(cloud, *args):
    """``nova-imgmeta ARGS --os-cloud nova-imgmeta-admin`` (this checkout,
    with the ``cli`` extra's clients); returns (exit code, stdout).
    """
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=cloud.info['clouds_yaml'],
               PYTHONPATH=cloudlib.REPO)
    for name in list(env):
        if name.startswith('OS_') and name != 'OS_CLIENT_CONFIG_FILE':
            del env[name]
    process = subprocess.run(
        [sys.executable, '-m', 'nova_imgmeta.cli.main'] + list(args) +
        ['--os-cloud', 'nova-imgmeta-admin'], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
    print(process.stderr.decode())
    return process.returncode, process.stdout.decode()


def audit(cloud):
    code, out = cli(cloud, 'audit', '--format', 'json', '--quiet')
    return code, json.loads(out)


def _tree_ids(tree):
    found = {tree['id']: tree}
    for child in tree.get('children') or []:
        found.update(_tree_ids(child))
    return found


@pytest.mark.cloud('patched')
def test_check_config_on_the_cloud_nova_conf(cloud, tmp_path):
    """In Nova's own environment (Python of the line), as on an API node."""
    command = os.path.join(cloud.venv_bin, 'nova-imgmeta')
    process = subprocess.run(
        [command, 'check-config', '--config-file', cloud.nova_conf],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = process.stdout.decode()
    assert process.returncode == 0, out
    for policy in ('base-image-ref', 'heal', 'never-inherit', 'truncated'):
        assert policy in out, out
    broken = tmp_path / 'nova.conf'
    broken.write_text(cloudlib.set_options(
        cloud.read_nova_conf(), 'nova_imgmeta',
        {'snapshot_on_error': 'sideways',
         'snapshot_policies': 'heal,no-such-policy'}))
    process = subprocess.run(
        [command, 'check-config', '--config-file', str(broken)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = process.stdout.decode()
    assert process.returncode == 1, out
    assert 'snapshot_on_error' in out and 'no-such-policy' in out, out


@pytest.mark.cloud('patched')
def test_audit_finds_the_lineage(cloud):
    result = test_lineage_http.run_scenario(cloud, 'audit')
    code, report = audit(cloud)
    assert code == 0, report['problems']
    trees = {}
    for tree in report['trees']:
        trees.update({tree['id']: _tree_ids(tree)})
    snap1, snap2, snap3 = [snap for snap, _props in result['snapshots']]
    assert {snap1, snap3} <= set(trees[result['A']]), trees.get(result['A'])
    assert snap2 in trees[result['B']]
    for snap in (snap1, snap2, snap3):
        assert not any(item['id'] == snap for item in report['problems'])


def _wrong_snapshot(cloud):
    """A snapshot pristine Nova got wrong, the server still running, and
    (image id, the base_image_ref it should have, the server).
    """
    image_a = cloud.create_image('backfill-A', {'os_distro': 'cirros'})
    server = cloud.boot('backfill', image_a)['id']
    if cloud.facts()['upstream_rebuild_fix']:
        # Ussuri 21.2.1 on: the rollback onto a snapshot loses image A
        snap1 = cloud.snapshot(server, 'backfill-snap-1')
        cloud.rebuild(server, snap1)
        snap = cloud.snapshot(server, 'backfill-snap-2')
        assert cloudlib.properties(cloud.show_image(snap)).get(
            'base_image_ref') == snap1
        return snap, image_a, server
    image_b = cloud.create_image('backfill-B', {'os_distro': 'ubuntu'})
    cloud.rebuild(server, image_b)
    snap = cloud.snapshot(server, 'backfill-snap')
    # bug 1893618: the snapshot after the rebuild has no base_image_ref
    assert 'base_image_ref' not in cloudlib.properties(cloud.show_image(snap))
    return snap, image_b, server


@pytest.mark.cloud('pristine')
def test_backfill_repairs_a_pristine_snapshot_and_undo_restores_it(
        cloud, tmp_path):
    snap, expected, server = _wrong_snapshot(cloud)
    before = cloudlib.properties(cloud.show_image(snap))
    try:
        forced = ['--force'] if 'base_image_ref' in before else []
        code, report = audit(cloud)
        if not forced:
            # a snapshot without base_image_ref is a problem audit reports
            assert code == 1, report
            assert [item['kind'] for item in report['problems']
                    if item['id'] == snap] == ['missing']
        journal = str(tmp_path / 'backfill.jsonl')
        # the dry run writes nothing
        code, out = cli(cloud, 'backfill', '--image', snap, *forced)
        assert code == 0, out
        assert expected in out, out
        assert cloudlib.properties(cloud.show_image(snap)) == before
        code, out = cli(cloud, 'backfill', '--apply', '--journal', journal,
                        '--image', snap, *forced)
        assert code == 0, out
        assert cloudlib.properties(cloud.show_image(snap))[
            'base_image_ref'] == expected
        code, out = cli(cloud, 'undo', '--journal', journal)
        assert code == 0, out
        assert cloudlib.properties(cloud.show_image(snap)) == before
    finally:
        cloud.delete_server(server)
