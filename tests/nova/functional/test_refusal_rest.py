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
"""Refused and failing snapshot policies, seen through Nova's REST API.

Runs in Nova's functional harness (API, conductor, scheduler, fake compute,
fake image service) on the PATCHED tree with nova-imgmeta and the tier's
test policies (tests/nova/integration/testplugin) installed. Every REST
action that builds snapshot metadata is driven: createImage, createBackup,
shelve and createImage of a volume-backed server.

The failure contract of doc/source/design.rst, checked where users meet it:

* a refusal (``snapshot_on_error = closed`` with a failing policy, or a
  policy refusing on purpose) answers 400 with the refusal's message,
  creates no image and leaves the server exactly as it was: ACTIVE,
  task_state None, no instance action recorded for the request, and the
  server still takes the next action;
* a failing policy in the default ``open`` mode never answers an error: the
  action goes on, and only the failing policy's changes are undone (the
  encryption key id is still never inherited);
* a policy that raises SystemExit is contained like any other failure.

It runs unchanged on every release line from Pike to 2026.2; the
differences it absorbs are marked "release lines" below.
"""

# Before anything else of Nova: from 2024.2 on importing nova.tests is what
# monkey-patches eventlet (nova.monkey_patch); Nova's own tests get it from
# their package, these live outside it (earlier lines patch in nova/). And
# the functional harness before nova.compute: on 2026.1 (33.0.2), with
# nova.compute.utils imported first, every snapshot the harness takes stays
# in task_state image_snapshot (measured; not traced further).
import nova.tests  # noqa: F401,H306,I100  isort:skip
from nova.tests.functional import integrated_helpers  # noqa: H306

import os
import time

from oslo_config import cfg

from nova.compute import instance_actions
from nova import context as nova_context
from nova import objects
from nova.tests import fixtures as nova_fixtures
from nova.tests.functional.api import client
from nova.volume import cinder

from nova_imgmeta import dispatch
from nova_imgmeta import opts
import nova_lines
from nova_lines import image_metadata_hooks

# Added by patch 0002 of the series. Its absence is the pristine tree:
# these tests are for the patched one only. The end-to-end run on the
# pristine tree (UNPATCHED=1) discovers this module too; anywhere else a
# missing module is an error.
if image_metadata_hooks is None and os.environ.get('UNPATCHED', '0') != '1':
    raise nova_lines.HOOKS_IMPORT_ERROR

CONF = cfg.CONF

IMAGE = 'c3c3c3c3-0000-4000-8000-00000000000c'
SECRET_KEY = '5cc8b3b2-1111-4c4c-9a9a-0123456789ab'
# The tier runner sets it to the tree under test, so that a run cannot
# silently use another Nova.
EXPECT_TREE = os.environ.get('NOVA_EXPECT_TREE')


def _image():
    properties = {'kernel_id': 'nokernel', 'ramdisk_id': 'nokernel',
                  'architecture': 'x86_64', 'os_distro': 'cirros'}
    if not nova_lines.BOOT_REFUSES_ENCRYPTED:
        properties['cinder_encryption_key_id'] = SECRET_KEY
    return {'id': IMAGE, 'name': 'refusal-image', 'status': 'active',
            'is_public': False, 'container_format': 'bare',
            'disk_format': 'qcow2', 'size': '25165824',
            'min_ram': 0, 'min_disk': 0, 'deleted': False,
            'deleted_at': None, 'properties': properties}


class _HarnessMixin(nova_lines.HarnessMixin):
    """The harness' helpers under the same names on every release line."""

    def _use_installed_policies(self):
        """The real hooks, and nova_imgmeta's options on CONF."""
        nova_lines.use_installed_hooks(self)
        opts.register_opts(CONF)
        self.images = nova_lines.image_service(self)

    def _wait_for_action_done(self, server, name, timeout=30):
        """Wait until the compute manager has finished the action's work.

        The server's status and task_state are final before the manager
        returns: backup rotation and shelve offload still run after them.
        A test ending in that window lets the harness stop the services
        under the running greenthread, which then fails the test's cleanup
        (NoEngineContextEstablished). The action's compute event gets its
        finish time when the manager's method returns. Release lines: Pike
        records no action for createImage and createBackup, so there is
        nothing to wait for there (what remains after their task_state is
        cleared is notifications and, for a backup, the rotation).
        """
        recorded = set(value for value in vars(instance_actions).values()
                       if isinstance(value, str))
        if name not in recorded:
            return
        context = nova_context.get_admin_context()
        deadline = time.time() + timeout
        while True:
            actions = [action for action in
                       objects.InstanceActionList.get_by_instance_uuid(
                           context, server['id'])
                       if action.action == name]
            if actions:
                newest = max(actions, key=lambda action: action.id)
                events = objects.InstanceActionEventList.get_by_action(
                    context, newest.id)
                if len(events) and all(event.finish_time
                                       for event in events):
                    return
            if time.time() > deadline:
                self.fail('the compute manager did not finish %s of %s in '
                          '%d s' % (name, server['id'], timeout))
            time.sleep(0.1)

    def _system_metadata(self, server):
        return dict(objects.Instance.get_by_uuid(
            nova_context.get_admin_context(), server['id'],
            expected_attrs=['system_metadata']).system_metadata)


class _RefusalTestBase(integrated_helpers._IntegratedTestBase,
                       integrated_helpers.InstanceHelperMixin,
                       _HarnessMixin):
    """What both test classes share: the API they speak, and the patched
    Nova they need.
    """

    api_major_version = 'v2.1'
    # 2.45: createImage and createBackup answer {"image_id": ...}
    microversion = '2.45'
    ADMIN_API = True

    def setUp(self):
        if image_metadata_hooks is None:
            self.skipTest('needs the patched Nova (UNPATCHED=1)')
        super(_RefusalTestBase, self).setUp()


class SnapshotRefusalRestTest(_RefusalTestBase):

    def setUp(self):
        super(SnapshotRefusalRestTest, self).setUp()
        if EXPECT_TREE:
            self.assertTrue(
                os.path.realpath(image_metadata_hooks.__file__).startswith(
                    os.path.realpath(EXPECT_TREE) + os.sep),
                'nova comes from %s, expected %s'
                % (image_metadata_hooks.__file__, EXPECT_TREE))
        self._use_installed_policies()
        self.images.create(None, _image())

    # helpers -----------------------------------------------------------
    def configure(self, **options):
        self.flags(group='nova_imgmeta', **options)
        dispatch.reset()

    def _boot(self):
        server = self.api.post_server({'server': {
            'name': 'refusal', 'imageRef': IMAGE, 'flavorRef': '1',
            'networks': 'none'}})
        server = self._wait_for_status(server, 'ACTIVE')
        if nova_lines.BOOT_REFUSES_ENCRYPTED:
            inst = objects.Instance.get_by_uuid(
                nova_context.get_admin_context(), server['id'],
                expected_attrs=['system_metadata'])
            inst.system_metadata['image_cinder_encryption_key_id'] = (
                SECRET_KEY)
            inst.save()
        return server

    def _image_ids(self):
        return set(image['id'] for image in self.images.detail(None))

    def _action_names(self, server):
        return [action['action']
                for action in self.api.get_instance_actions(server['id'])]

    def _assert_refused(self, server, body):
        images = self._image_ids()
        actions = self._action_names(server)
        system_metadata = self._system_metadata(server)
        error = self.assertRaises(client.OpenStackApiException,
                                  self.api.post_server_action,
                                  server['id'], body)
        self.assertEqual(400, error.response.status_code, error)
        self.assertIn('refused', error.response.text)
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])
        self.assertEqual(images, self._image_ids(), 'no image is created')
        self.assertEqual(actions, self._action_names(server),
                         'no instance action is recorded')
        self.assertEqual(system_metadata, self._system_metadata(server),
                         'the system metadata is as it was')
        # Not stranded: the server takes the next action.
        self.api.post_server_action(server['id'],
                                    {'reboot': {'type': 'SOFT'}})
        self._wait_for_params(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        return error

    def _create_image(self, server):
        body = self.api.post_server_action(
            server['id'], {'createImage': {'name': 'snap'}})
        self._wait_for_params(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        self._wait_for_action_done(server, 'createImage')
        return self.images.show(None, body['image_id'])

    def _create_backup(self, server):
        body = self.api.post_server_action(
            server['id'], {'createBackup': {'name': 'backup',
                                            'backup_type': 'daily',
                                            # high enough that rotation
                                            # deletes nothing
                                            'rotation': 99}})
        self._wait_for_params(
            server, {'status': 'ACTIVE', 'OS-EXT-STS:task_state': None})
        self._wait_for_action_done(server, 'createBackup')
        return self.images.show(None, body['image_id'])

    def _shelve(self, server):
        images = self._image_ids()
        self.api.post_server_action(server['id'], {'shelve': None})
        server = self._wait_for_params(
            server, {'OS-EXT-STS:task_state': None})
        self.assertIn(server['status'], ('SHELVED', 'SHELVED_OFFLOADED'))
        self._wait_for_action_done(server, 'shelve')
        self.assertIn('shelve', self._action_names(server))
        new = self._image_ids() - images
        self.assertEqual(1, len(new), 'shelve creates one image')
        return self.images.show(None, new.pop())

    # refusals ----------------------------------------------------------
    def _closed_with_raising_policy(self):
        self.configure(snapshot_policies=['never-inherit', 'it-raising'],
                       snapshot_on_error='closed')

    def test_closed_mode_refuses_create_image(self):
        self._closed_with_raising_policy()
        self._assert_refused(self._boot(), {'createImage': {'name': 'x'}})

    def test_closed_mode_refuses_create_backup(self):
        self._closed_with_raising_policy()
        self._assert_refused(self._boot(), {
            'createBackup': {'name': 'x', 'backup_type': 'daily',
                             'rotation': 1}})

    def test_closed_mode_refuses_shelve_and_leaves_server_usable(self):
        self._closed_with_raising_policy()
        server = self._boot()
        self._assert_refused(server, {'shelve': None})
        # Once the policy is fixed, the same server shelves normally.
        self.configure(snapshot_policies=['never-inherit'],
                       snapshot_on_error='closed')
        image = self._shelve(server)
        self.assertNotIn('cinder_encryption_key_id', image['properties'])

    def test_deliberate_refusal_in_open_mode(self):
        self.configure(snapshot_policies=['it-refusing'],
                       snapshot_on_error='open')
        server = self._boot()
        error = self._assert_refused(server, {'createImage': {'name': 'x'}})
        self.assertIn('it-refusing', error.response.text)
        self._assert_refused(server, {
            'createBackup': {'name': 'x', 'backup_type': 'daily',
                             'rotation': 1}})
        self._assert_refused(server, {'shelve': None})

    def test_closed_mode_refuses_when_a_policy_cannot_load(self):
        self.configure(snapshot_policies=['never-inherit',
                                          'it-broken-import'],
                       snapshot_on_error='closed')
        self._assert_refused(self._boot(), {'createImage': {'name': 'x'}})

    # failures in the default open mode ------------------------------------
    def test_open_mode_failing_policy_never_answers_an_error(self):
        self.configure(snapshot_policies=['never-inherit', 'it-raising'],
                       snapshot_on_error='open')
        server = self._boot()
        for image in (self._create_image(server),
                      self._create_backup(server),
                      self._shelve(server)):
            properties = image['properties']
            self.assertEqual('cirros', properties.get('os_distro'))
            self.assertNotIn('it_raising', properties)
            self.assertNotIn('cinder_encryption_key_id', properties)
            self.assertEqual(IMAGE, properties.get('base_image_ref'))

    def test_system_exit_from_a_policy_is_contained(self):
        self.configure(snapshot_policies=['never-inherit', 'it-system-exit'],
                       snapshot_on_error='open')
        server = self._boot()
        image = self._create_image(server)
        self.assertNotIn('cinder_encryption_key_id', image['properties'])
        self.assertNotIn('it_system_exit', image['properties'])


class VolumeBackedRefusalRestTest(_RefusalTestBase):
    """createImage of a volume-backed server (snapshot_volume_backed)."""

    def setUp(self):
        super(VolumeBackedRefusalRestTest, self).setUp()
        # Queens attaches volumes with Cinder's new attachment flow; from
        # Victoria on the harness sets up its Cinder fixture itself.
        if getattr(self, 'cinder', None) is None:
            cinder_fixture = getattr(nova_fixtures,
                                     'CinderFixtureNewAttachFlow',
                                     nova_fixtures.CinderFixture)
            self.cinder = self.useFixture(cinder_fixture(self))
        self._use_installed_policies()
        self.volume_snapshots = []

        def create_snapshot_force(_api, context, volume_id, name,
                                  description):
            snapshot = {'id': 'snap-%d' % len(self.volume_snapshots),
                        'volume_id': volume_id}
            self.volume_snapshots.append(snapshot)
            return snapshot

        self.stub_out('nova.volume.cinder.API.create_snapshot_force',
                      create_snapshot_force)
        # The fixture's volumes lack the fields snapshot_volume_backed reads.
        fixture_get = cinder.API.get

        def get_volume(api, context, volume_id, *args, **kwargs):
            if getattr(fixture_get, '__self__', None) is not None or \
                    hasattr(fixture_get, 'side_effect'):
                # Later lines: the fixture stubs in a mock (or a method of
                # its own), which takes no API object
                volume = fixture_get(context, volume_id, *args, **kwargs)
            else:
                volume = fixture_get(api, context, volume_id, *args,
                                     **kwargs)
            volume = dict(volume)
            volume.setdefault('display_description', '')
            return volume

        self.stub_out('nova.volume.cinder.API.get', get_volume)
        # Queens checks the project's volume snapshot quota first.
        self.stub_out('nova.volume.cinder.API.get_absolute_limits',
                      lambda _api, context: {'totalSnapshotsUsed': 0,
                                             'maxTotalSnapshots': -1})

    def _boot_from_volume(self):
        server = self.api.post_server({'server': {
            'name': 'bfv', 'flavorRef': '1', 'networks': 'none',
            'block_device_mapping_v2': [{
                'boot_index': 0, 'uuid': self.cinder.IMAGE_BACKED_VOL,
                'source_type': 'volume', 'destination_type': 'volume'}]}})
        return self._wait_for_status(server, 'ACTIVE')

    def _image_ids(self):
        return set(image['id'] for image in self.images.detail(None))

    def test_refused_create_image_of_volume_backed_server(self):
        self.flags(group='nova_imgmeta',
                   snapshot_policies=['never-inherit', 'it-raising'],
                   snapshot_on_error='closed')
        server = self._boot_from_volume()
        images = self._image_ids()
        error = self.assertRaises(client.OpenStackApiException,
                                  self.api.post_server_action, server['id'],
                                  {'createImage': {'name': 'x'}})
        self.assertEqual(400, error.response.status_code, error)
        self.assertEqual(images, self._image_ids())
        self.assertEqual([], self.volume_snapshots)
        server = self.api.get_server(server['id'])
        self.assertEqual('ACTIVE', server['status'])
        self.assertIsNone(server['OS-EXT-STS:task_state'])

    def test_open_mode_create_image_of_volume_backed_server(self):
        self.flags(group='nova_imgmeta',
                   snapshot_policies=['never-inherit', 'it-raising'],
                   snapshot_on_error='open')
        server = self._boot_from_volume()
        body = self.api.post_server_action(server['id'],
                                           {'createImage': {'name': 'x'}})
        image = self.images.show(None, body['image_id'])
        self.assertEqual(1, len(self.volume_snapshots))
        self.assertNotIn('it_raising', image['properties'])
        self.assertIn('block_device_mapping', image['properties'])
