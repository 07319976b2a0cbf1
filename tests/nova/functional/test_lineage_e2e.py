# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""End-to-end image lineage through Nova's REST API (functional harness).

Runs inside Nova's own functional harness (API, conductor, scheduler,
compute with the fake virt driver, placement, fake image service) under
the Python of the real-Nova tier (tools/nova-tier):

1. boot from image A, createImage -> snapshot 1: base_image_ref is A;
2. rebuild to image B, createImage -> snapshot 2: base_image_ref is B;
3. rebuild onto snapshot 1, createImage -> snapshot 3: base_image_ref is A
   (the default "boot" mode of nova-imgmeta, and the rule Nova uses at boot);
and from Wallaby (23.0.0) on, where every resize and cold migration sets
image_base_image_ref to the server's image_ref (change f02899418d):
4. resize that server (confirmed), createImage -> snapshot 4: A;
5. boot a second server from snapshot 1 (the boot rule gives it A), cold
   migrate it (confirmed), createImage -> snapshot 5: A.

Image A also carries properties that must never reach a snapshot
(cinder_encryption_key_id and friends, os_glance_*, img_signature*; bug
1852106); they are checked when the nova_imgmeta plugin is installed.

The same test runs against the unpatched Nova tree (UNPATCHED=1 and
PYTHONPATH=<pristine tree>): there it asserts that the bug is visible and
records the fixed-behaviour check as an expected failure, so it cannot pass
vacuously. An unexpected success fails the run. What "visible" means
depends on the release: up to Ussuri 21.2.0 snapshot 2 has no
base_image_ref; from Ussuri 21.2.1 on (upstream's fix, which always takes
the rebuild image) rolling back onto snapshot 1 loses image A; from
Wallaby on the resize and the cold migration lose it as well. The
properties pristine Nova lets through are exactly those it does not drop
itself (all of them up to Train; from Ussuri on, os_glance_*).

It runs unchanged on every release line from Pike to 2026.1; the
differences it absorbs are marked "release lines" below.

LINEAGE_RESULTS_JSON=<file> writes what was observed, for tools/demo.
"""

# Before anything else of Nova: from 2024.2 on importing nova.tests is what
# monkey-patches eventlet (nova.monkey_patch); Nova's own tests get it from
# their package, these live outside it (earlier lines patch in nova/). And
# the functional harness before nova.compute: on 2026.1 (33.0.2), with
# nova.compute.utils imported first, every snapshot the harness takes stays
# in task_state image_snapshot (measured; not traced further).
import nova.tests  # noqa: F401,H306,I100  isort:skip
from nova.tests.functional import integrated_helpers  # noqa: H306

import json
import os

from oslo_config import cfg

from nova.compute import api as compute_api
from nova import context as nova_context
from nova import objects

from image_a import NEVER_INHERIT
from image_a import ORDINARY
import nova_lines
from nova_lines import image_metadata_hooks

try:  # Python 2.7 (Nova up to Train)
    _STRING_TYPES = (basestring,)  # noqa: F821
except NameError:
    _STRING_TYPES = (str,)

UNPATCHED = os.environ.get('UNPATCHED', '0') == '1'
RESULTS_FILE = os.environ.get('LINEAGE_RESULTS_JSON')
# The Nova tree this run must import nova.compute.api from (set by the tier
# runner), so that a run cannot silently test the wrong tree.
EXPECT_TREE = os.environ.get('NOVA_EXPECT_TREE')

IMAGE_A = 'a1a1a1a1-0000-4000-8000-00000000000a'
IMAGE_B = 'b2b2b2b2-0000-4000-8000-00000000000b'

# Where booting an image with cinder_encryption_key_id is refused
# (nova_lines.BOOT_REFUSES_ENCRYPTED), image A boots without the
# cinder_encryption_key_* properties, and the test puts them into the
# server's system metadata (as an older Nova left them there) just before
# snapshot 3: on pristine Nova snapshot 1 would carry them and the rollback
# onto it would be refused.
CINDER_KEYS = sorted(k for k in NEVER_INHERIT
                     if k.startswith('cinder_encryption_key'))


def _image(image_id, name, properties):
    props = {'kernel_id': 'nokernel', 'ramdisk_id': 'nokernel',
             'architecture': 'x86_64'}
    props.update(properties)
    return {'id': image_id, 'name': name, 'status': 'active',
            'is_public': False, 'container_format': 'bare',
            'disk_format': 'qcow2', 'size': '25165824',
            'min_ram': 0, 'min_disk': 0,
            'deleted': False, 'deleted_at': None,
            'properties': props}


def _entry_point_names(group):
    """Names of the installed entry points of group.

    importlib.metadata from Python 3.8 (a Python 3.12 venv has no
    pkg_resources unless setuptools is installed), else pkg_resources.
    """
    try:
        from importlib import metadata
    except ImportError:
        import pkg_resources
        return [ep.name for ep in pkg_resources.iter_entry_points(group)]
    eps = metadata.entry_points()
    if hasattr(eps, 'select'):       # Python 3.10 and later
        return [ep.name for ep in eps.select(group=group)]
    return [ep.name for ep in eps.get(group, [])]


def _nova_version():
    try:
        from importlib import metadata
    except ImportError:
        import pkg_resources
        return pkg_resources.get_distribution('nova').version
    return metadata.version('nova')


def _plugin_installed():
    return 'nova_imgmeta' in _entry_point_names(
        'nova.compute.snapshot_image_metadata_hooks')


class ImageLineageE2ETest(integrated_helpers._IntegratedTestBase,
                          integrated_helpers.InstanceHelperMixin,
                          nova_lines.HarnessMixin):
    api_major_version = 'v2.1'
    # 2.45: createImage answers {"image_id": ...}; >= 2.37 for networks=none.
    microversion = '2.45'

    def setUp(self):
        super(ImageLineageE2ETest, self).setUp()
        nova_lines.use_installed_hooks(self)
        self.images = nova_lines.image_service(self)
        image_a = dict(NEVER_INHERIT, **ORDINARY)
        if nova_lines.BOOT_REFUSES_ENCRYPTED:
            for key in CINDER_KEYS:
                del image_a[key]
        self.images.create(None, _image(IMAGE_A, 'image-A', image_a))
        self.images.create(None, _image(IMAGE_B, 'image-B',
                                        {'os_distro': 'ubuntu'}))
        self.admin_ctxt = nova_context.get_admin_context()

    # helpers -----------------------------------------------------------------
    def _add_cinder_keys(self, server):
        inst = objects.Instance.get_by_uuid(
            self.admin_ctxt, server['id'], expected_attrs=['system_metadata'])
        for key in CINDER_KEYS:
            inst.system_metadata['image_' + key] = NEVER_INHERIT[key]
        inst.save()

    def _sysmeta_base(self, server):
        inst = objects.Instance.get_by_uuid(
            self.admin_ctxt, server['id'], expected_attrs=['system_metadata'])
        return inst.image_ref, inst.system_metadata.get('image_base_image_ref')

    def _snapshot(self, server, name):
        body = self.api.post_server_action(
            server['id'], {'createImage': {'name': name}})
        image_id = body['image_id']
        self._wait_for_params(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        image = self.images.show(None, image_id)
        # Glance answers min_disk and min_ram as integers; the harness' fake
        # image services keep Nova's strings, and on Python 3 a rebuild onto
        # such an image then fails (500) comparing them with integers.
        numbers = dict((key, int(image[key])) for key in ('min_disk',
                                                          'min_ram')
                       if isinstance(image.get(key), _STRING_TYPES))
        if numbers:
            self.images.update(None, image_id, numbers)
            image = self.images.show(None, image_id)
        # Rebuild checks that the image is active; the fake service marks
        # what createImage makes active, as Glance does after the upload.
        self.assertEqual('active', image['status'])
        return image_id, image

    def _rebuild(self, server, image_ref):
        self.api.post_server_action(
            server['id'], {'rebuild': {'imageRef': image_ref}})
        return self._wait_for_params(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})

    def _resize(self, server, body, api=None):
        """Resize or cold-migrate (body), wait, confirm, wait."""
        api = api or self.api
        api.post_server_action(server['id'], body)
        self._wait_for_params(server, {'status': 'VERIFY_RESIZE',
                                       'OS-EXT-STS:task_state': None})
        api.post_server_action(server['id'], {'confirmResize': None})
        return self._wait_for_params(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})

    def _record(self, results, step, server, snap_id, snap):
        image_ref, sys_base = self._sysmeta_base(server)
        props = dict(snap.get('properties', {}))
        results['steps'].append({
            'step': step,
            'server_image_ref': image_ref,
            'sysmeta_image_base_image_ref': sys_base,
            'snapshot_id': snap_id,
            'snapshot_base_image_ref': props.get('base_image_ref'),
            'snapshot_properties': props,
        })

    # the scenario ------------------------------------------------------------
    def _run_scenario(self):
        results = {
            'tree': 'unpatched' if UNPATCHED else 'patched',
            'nova_file': os.path.dirname(os.path.dirname(
                os.path.dirname(os.path.abspath(compute_api.__file__)))),
            'nova_version': _nova_version(),
            'plugin_installed': _plugin_installed(),
            'hooks_module': image_metadata_hooks is not None,
            'images': {'A': IMAGE_A, 'B': IMAGE_B},
            'steps': [],
        }
        server = self.api.post_server({'server': {
            'name': 'lineage', 'imageRef': IMAGE_A, 'flavorRef': '1',
            'networks': 'none'}})
        server = self._wait_for_status(server, 'ACTIVE')

        snap1_id, snap1 = self._snapshot(server, 'snap-1')
        self._record(results, '1. boot from A, snapshot', server,
                     snap1_id, snap1)

        self._rebuild(server, IMAGE_B)
        snap2_id, snap2 = self._snapshot(server, 'snap-2')
        self._record(results, '2. rebuild to B, snapshot', server,
                     snap2_id, snap2)

        self._rebuild(server, snap1_id)
        if nova_lines.BOOT_REFUSES_ENCRYPTED:
            self._add_cinder_keys(server)
        snap3_id, snap3 = self._snapshot(server, 'snap-3')
        self._record(results, '3. rebuild to snap-1, snapshot', server,
                     snap3_id, snap3)
        results['images']['snap-1'] = snap1_id

        if nova_lines.RESIZE_SETS_BASE:
            # A second compute host: the resize and the cold migration
            # move the servers there and back.
            self.start_service('compute', host='host2')
            self._resize(server, {'resize': {'flavorRef': '2'}})
            snap4_id, snap4 = self._snapshot(server, 'snap-4')
            self._record(results, '4. resize, snapshot', server,
                         snap4_id, snap4)

            server2 = self.api.post_server({'server': {
                'name': 'from-snap-1', 'imageRef': snap1_id,
                'flavorRef': '1', 'networks': 'none'}})
            server2 = self._wait_for_status(server2, 'ACTIVE')
            # cold migration is for admins
            self._resize(server2, {'migrate': None}, api=self.admin_api)
            snap5_id, snap5 = self._snapshot(server2, 'snap-5')
            self._record(results, '5. boot from snap-1, cold migrate, '
                         'snapshot', server2, snap5_id, snap5)

        if RESULTS_FILE:
            with open(RESULTS_FILE, 'w') as f:
                json.dump(results, f, indent=2, sort_keys=True)
        return results

    def _assert_fixed(self, results):
        steps = results['steps']
        expected = [IMAGE_A, IMAGE_B, IMAGE_A]
        if nova_lines.RESIZE_SETS_BASE:
            expected += [IMAGE_A, IMAGE_A]
        self.assertEqual(
            expected, [s['snapshot_base_image_ref'] for s in steps],
            'base_image_ref of the snapshots of each step')
        self.assertEqual(
            expected, [s['sysmeta_image_base_image_ref'] for s in steps],
            'image_base_image_ref in system metadata after each step')
        if results['plugin_installed']:
            for s in steps:
                leaked = sorted(k for k in s['snapshot_properties']
                                if k in NEVER_INHERIT or
                                k.startswith('os_glance'))
                self.assertEqual([], leaked, 'never-inherit: %s' % s['step'])

    def test_lineage_boot_rebuild_snapshot(self):
        if EXPECT_TREE:
            self.assertTrue(
                os.path.realpath(compute_api.__file__).startswith(
                    os.path.realpath(EXPECT_TREE) + os.sep),
                'nova.compute.api comes from %s, expected under %s' % (
                    compute_api.__file__, EXPECT_TREE))
        results = self._run_scenario()
        steps = results['steps']
        # Common to both trees: the boot path sets the base, ordinary
        # properties are inherited, and the rebuilds really happened.
        self.assertEqual(IMAGE_A, steps[0]['snapshot_base_image_ref'])
        self.assertEqual(
            'yes', steps[0]['snapshot_properties'].get('hw_qemu_guest_agent'))
        self.assertEqual(
            [IMAGE_A, IMAGE_B, results['images']['snap-1']],
            [s['server_image_ref'] for s in steps[:3]])
        if nova_lines.RESIZE_SETS_BASE:
            self.assertEqual(
                [results['images']['snap-1']] * 2,
                [s['server_image_ref'] for s in steps[3:]])
        if not UNPATCHED:
            self.assertTrue(results['hooks_module'],
                            'the patched tree has no image_metadata_hooks')
            self._assert_fixed(results)
            return
        # Unpatched Nova: the bug must be visible, not just "some failure".
        if nova_lines.UPSTREAM_REBUILD_FIX:
            self.assertEqual(IMAGE_B, steps[1]['sysmeta_image_base_image_ref'])
            self.assertEqual(
                results['images']['snap-1'],
                steps[2]['sysmeta_image_base_image_ref'],
                "upstream's rule: rolling back onto the server's own "
                "snapshot loses the image it was built from")
            reason = ('upstream Nova loses the root image when a server is '
                      'rolled back onto its own snapshot')
            if not nova_lines.NOVA_NEVER_INHERITS_NAMESPACES:
                reason += ', and lets os_glance* into snapshots'
            if nova_lines.RESIZE_SETS_BASE:
                self.assertEqual(
                    [results['images']['snap-1']] * 2,
                    [s['sysmeta_image_base_image_ref'] for s in steps[3:]],
                    "f02899418d: resize and cold migration set "
                    "image_ref, losing the root image of a server booted "
                    "from a snapshot too")
                reason += ('; and loses it on every resize and cold '
                           'migration')
        else:
            self.assertIsNone(
                steps[1]['sysmeta_image_base_image_ref'],
                'bug 1893618: rebuild drops image_base_image_ref')
            self.assertNotIn(
                'base_image_ref', steps[1]['snapshot_properties'],
                'bug 1893618: snapshot after rebuild has no base')
            reason = ('bug 1893618: unpatched Nova loses base_image_ref on '
                      'rebuild')
        # Bug 1852106 and friends: what pristine Nova lets through is what
        # it does not drop itself.
        dropped = nova_lines.NOVA_NEVER_INHERITS.union(
            cfg.CONF.non_inheritable_image_properties)
        namespaces = nova_lines.NOVA_NEVER_INHERITS_NAMESPACES
        leaked = set()
        for step in steps:
            leaked.update(k for k in step['snapshot_properties']
                          if k in NEVER_INHERIT)
        self.assertEqual(
            sorted(k for k in NEVER_INHERIT if k not in dropped and
                   not k.startswith(namespaces)),
            sorted(leaked),
            'never-inheritable properties in unpatched snapshots')
        self.expectFailure(reason, self._assert_fixed, results)
