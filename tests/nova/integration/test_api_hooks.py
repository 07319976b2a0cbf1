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
"""Integration tests: the real patched Nova API with the installed plugin.

These run in the real-Nova tier (tools/nova-tier/tier.py), against a Nova
release (Pike to Victoria) with its patch series applied. They drive the
real ``nova.compute.api.API.rebuild`` (whose ``_reset_image_metadata``
closure calls the rebuild hooks) and the snapshot metadata builder
(``API._initialize_instance_snapshot_metadata`` up to Rocky,
``nova.compute.utils.initialize_instance_snapshot_metadata`` from Stein on)
/ ``API.snapshot`` with real Nova objects (``fake_instance`` builds real
``nova.objects.Instance`` objects) inside Nova's own test fixtures
(``nova.test.NoDBTestCase``: config, policy, logging, RPC fakes).

Nothing is stubbed on the nova_imgmeta side: the hooks are loaded by the
patched Nova through the real installed entry points, the policies by
nova_imgmeta's dispatchers through theirs, and every option is set through
oslo.config (``self.flags(group='nova_imgmeta', ...)``). Misbehaving
policies come from the small ``nova-imgmeta-itplugins`` distribution next to
this file (testplugin/), which the tier installs.

Only Nova's collaborators that would need a database, Glance or RPC are
mocked, as Nova's own test_compute_api does for rebuild.
"""

# Before anything else of Nova: from 2024.2 on importing nova.tests is what
# monkey-patches eventlet (nova.monkey_patch); Nova's own tests get it from
# their package, these live outside it. Earlier lines patch in nova/.
import nova.tests  # noqa: F401,H306,I100  isort:skip

import inspect

try:
    from unittest import mock
except ImportError:  # Python 2.7 (Nova up to Train)
    import mock
from oslo_config import cfg
from oslo_utils import timeutils

from nova.compute import api as compute_api
from nova.compute import image_metadata_hooks as hooks
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from nova import context
from nova import exception
from nova import objects
from nova import test
from nova.tests.unit import fake_instance
from nova.tests.unit.objects import test_flavor

from nova_imgmeta import dispatch
from nova_imgmeta import opts
# tests/nova/functional/nova_lines.py (the tier puts that directory on
# PYTHONPATH): what differs between Nova's release lines
import nova_lines

CONF = cfg.CONF

IMAGE_A = 'aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa'
IMAGE_B = 'bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb'
SNAP_1 = 'cccccccc-3333-4333-8333-cccccccccccc'

NEVER = {
    'cinder_encryption_key_id': 'key-1',
    'cinder_encryption_key_deletion_policy': 'on_image_deletion',
    'img_signature': 'sig',
    'img_signature_hash_method': 'SHA-256',
    'img_signature_key_type': 'RSA-PSS',
    # a valid UUID: from Rocky on, rebuild builds an ImageMeta of the image
    'img_signature_certificate_uuid': 'dddddddd-4444-4444-8444-dddddddddddd',
    'os_glance_importing_to_stores': 'file1',
    'os_glance_import_task': 'task-1',
}
ORDINARY = {'hw_qemu_guest_agent': 'yes', 'os_distro': 'cirros',
            'custom_license': 'gpl'}


def _parameters(method):
    """Parameter names of an API method under its decorators (Python 3)."""
    unwrap = getattr(inspect, 'unwrap', None)
    if unwrap is None:      # Python 2.7: Nova up to Train
        return ()
    return inspect.signature(unwrap(method)).parameters


# Zed on: volume-backed servers can be rebuilt with another image.
REIMAGE_BOOT_VOLUME = 'reimage_boot_volume' in _parameters(
    compute_api.API.rebuild)


def snapshot_metadata(api, context, instance, name, extra_properties):
    """Nova's snapshot metadata builder, wherever the release keeps it.

    Stein on: nova.compute.utils.initialize_instance_snapshot_metadata;
    Rocky 18.2.2 on: API._initialize_instance_snapshot_metadata with the
    context; before: the same method without it.
    """
    init = getattr(compute_utils, 'initialize_instance_snapshot_metadata',
                   None)
    if init is not None:
        return init(context, instance, name, extra_properties)
    method = api._initialize_instance_snapshot_metadata
    code = getattr(method, '__func__', method).__code__
    if code.co_varnames[1] == 'context':
        return method(context, instance, name, extra_properties)
    return method(instance, name, extra_properties)


class _RealPluginTestCase(test.NoDBTestCase):
    """Base: the installed hooks and policies, real oslo.config."""

    def setUp(self):
        super(_RealPluginTestCase, self).setUp()
        # The patched nova.test.TestCase disables the installed hooks for
        # Nova's own tests; use the real entry points here.
        hooks.reset()
        self.addCleanup(hooks.reset)
        if hasattr(compute_api, 'instance_has_share'):
            # 2025.1 on: rebuild, resize and shelve look for the shares of
            # the instance (in the database, which these tests do without).
            patcher = mock.patch.object(compute_api, 'instance_has_share',
                                        return_value=False)
            patcher.start()
            self.addCleanup(patcher.stop)
        # Policies are loaded once per process: forget them before and
        # after each test so that each test's flags are read.
        dispatch.reset()
        self.addCleanup(dispatch.reset)
        # The dispatcher registers [nova_imgmeta] on cfg.CONF lazily, on
        # first use; register now (idempotent) so that self.flags() can set
        # the options before that first use.
        opts.register_opts(CONF)
        self.context = context.RequestContext('fake-user', 'fake-project')
        self.compute_api = compute_api.API()

    def configure(self, **kwargs):
        self.flags(group='nova_imgmeta', **kwargs)


class EntryPointsTestCase(_RealPluginTestCase):

    def test_dispatchers_registered_in_nova_namespaces(self):
        namespaces = [hooks.REBUILD_NAMESPACE, hooks.SNAPSHOT_NAMESPACE]
        if nova_lines.RESIZE_SETS_BASE:
            namespaces.append(hooks.RESIZE_NAMESPACE)
        for ns in namespaces:
            self.assertIn('nova_imgmeta', hooks._get_manager(ns).names())

    def test_policies_loaded_from_config_once(self):
        self.configure(snapshot_policies=['never-inherit', 'heal'])
        chain = dispatch.get_chain('snapshot')
        self.assertEqual(['never-inherit', 'heal'], list(chain.names))
        self.assertIs(chain, dispatch.get_chain('snapshot'))
        self.assertEqual(['base-image-ref'],
                         list(dispatch.get_chain('rebuild').names))


def _rebuild_patches(api, image_id, image):
    """What API.rebuild reaches besides the image metadata, mocked: the
    database, the image lookup, the checks and, last (the tests read its
    mock at [-1]), the conductor's rebuild_instance.
    """
    return [
        mock.patch.object(objects.RequestSpec, 'get_by_instance_uuid',
                          return_value=objects.RequestSpec(id=1)),
        mock.patch.object(objects.RequestSpec, 'save'),
        mock.patch.object(objects.Instance, 'save'),
        mock.patch.object(objects.Instance, 'get_flavor',
                          return_value=test_flavor.fake_flavor),
        mock.patch.object(objects.BlockDeviceMappingList,
                          'get_by_instance_uuid',
                          return_value=objects.BlockDeviceMappingList()),
        mock.patch.object(compute_api.API, '_get_image',
                          return_value=(image_id, image)),
        mock.patch.object(compute_api.API, '_check_auto_disk_config'),
        mock.patch.object(compute_api.API, '_checks_for_create_and_rebuild'),
        mock.patch.object(compute_api.API, '_record_action_start'),
        mock.patch.object(api.compute_task_api, 'rebuild_instance'),
    ]


class RebuildTestCase(_RealPluginTestCase):
    """API.rebuild -> _reset_image_metadata -> hooks -> policies."""

    def _rebuild(self, image_id, image_props, sys_meta=None,
                 image_ref=IMAGE_A):
        sys_meta = dict(sys_meta if sys_meta is not None else {
            'image_base_image_ref': IMAGE_A, 'image_os_distro': 'cirros',
            'image_old_property': 'old'})
        instance = fake_instance.fake_instance_obj(
            self.context, vm_state=vm_states.ACTIVE, cell_name='fake-cell',
            launched_at=timeutils.utcnow(), system_metadata=sys_meta,
            image_ref=image_ref, node='node',
            expected_attrs=['system_metadata'])
        image = {'id': image_id, 'status': 'active', 'min_ram': 0,
                 'min_disk': 0, 'properties': dict(image_props)}
        with test.nested(*_rebuild_patches(self.compute_api, image_id,
                                           image)) as mocks:
            self.compute_api.rebuild(self.context, instance, image_id,
                                     'pass', [])
            rebuild_instance = mocks[-1]
        # The rebuild went through to the conductor: it was not broken.
        self.assertEqual(1, rebuild_instance.call_count)
        self.assertEqual(image_id,
                         rebuild_instance.call_args[1]['image_ref'])
        return instance

    def test_default_mode_new_image(self):
        inst = self._rebuild(IMAGE_B, {'os_distro': 'ubuntu'})
        self.assertEqual(IMAGE_B, inst.system_metadata['image_base_image_ref'])
        self.assertEqual('ubuntu', inst.system_metadata['image_os_distro'])
        self.assertNotIn('image_old_property', inst.system_metadata)

    def test_default_mode_rollback_onto_own_snapshot(self):
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A,
                                      'image_type': 'snapshot'})
        self.assertEqual(IMAGE_A, inst.system_metadata['image_base_image_ref'])

    def test_upstream_mode(self):
        self.configure(base_image_ref_mode='upstream')
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A})
        self.assertEqual(SNAP_1, inst.system_metadata['image_base_image_ref'])

    def test_no_rebuild_policy(self):
        # Patch 0001 alone: the boot rule; where upstream's fix replaces
        # 0001 (Ussuri 21.2.1 on), upstream's rule: the rebuild image.
        self.configure(rebuild_policies=[])
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A})
        expected = SNAP_1 if nova_lines.UPSTREAM_REBUILD_FIX else IMAGE_A
        self.assertEqual(expected,
                         inst.system_metadata['image_base_image_ref'])

    def test_raising_policy_does_not_break_rebuild(self):
        self.configure(rebuild_policies=['it-raising', 'base-image-ref'],
                       base_image_ref_mode='upstream')
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A})
        # The raising policy's half-done changes are gone; the next policy
        # of the chain still ran.
        self.assertNotIn('image_it_raising', inst.system_metadata)
        self.assertEqual(SNAP_1, inst.system_metadata['image_base_image_ref'])

    def test_policy_whose_attribute_raises_costs_only_itself(self):
        # Issue 17: reading its idle attribute raised NoSuchOptError, and
        # the whole chain was lost.
        self.configure(rebuild_policies=['it-idle-raises', 'base-image-ref'])
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A})
        self.assertEqual(IMAGE_A, inst.system_metadata['image_base_image_ref'])
        chain = dispatch.get_chain('rebuild')
        self.assertEqual(['base-image-ref'], list(chain.names))
        self.assertEqual(['it-idle-raises'],
                         [error.policy for error in chain.errors])

    def test_unicode_image_properties(self):
        inst = self._rebuild(IMAGE_B, {u'd\u00e9cor': u'\u2603',
                                       'min_vram': 64})
        self.assertEqual(u'\u2603', inst.system_metadata[u'image_d\u00e9cor'])
        self.assertEqual(IMAGE_B, inst.system_metadata['image_base_image_ref'])

    def test_rebuild_image_without_properties(self):
        inst = self._rebuild(IMAGE_B, {})
        self.assertEqual(IMAGE_B, inst.system_metadata['image_base_image_ref'])
        self.assertNotIn('image_os_distro', inst.system_metadata)

    def test_unknown_policy_does_not_break_rebuild(self):
        self.configure(rebuild_policies=['no-such-policy'])
        inst = self._rebuild(IMAGE_B, {})
        self.assertEqual(IMAGE_B, inst.system_metadata['image_base_image_ref'])

    def test_rebuild_then_snapshot(self):
        inst = self._rebuild(SNAP_1, dict(NEVER, base_image_ref=IMAGE_A,
                                          **ORDINARY))
        meta = snapshot_metadata(self.compute_api, self.context, inst,
                                 'snap', {'image_type': 'snapshot'})
        props = meta['properties']
        self.assertEqual(IMAGE_A, props['base_image_ref'])
        self.assertEqual('yes', props['hw_qemu_guest_agent'])
        for key in NEVER:
            self.assertNotIn(key, props)


class ResizeTestCase(_RealPluginTestCase):
    """API.resize -> hooks -> resize policies (Wallaby and later)."""

    def setUp(self):
        super(ResizeTestCase, self).setUp()
        if not nova_lines.RESIZE_SETS_BASE:
            self.skipTest('Nova before Wallaby (23.0.0) does not set '
                          'image_base_image_ref on resize')

    def _resize(self, sys_meta, image_ref=SNAP_1):
        instance = fake_instance.fake_instance_obj(
            self.context, vm_state=vm_states.ACTIVE, cell_name='fake-cell',
            launched_at=timeutils.utcnow(), system_metadata=dict(sys_meta),
            image_ref=image_ref, node='node',
            expected_attrs=['system_metadata'])
        service = objects.Service(host=instance.host, disabled=False)
        with test.nested(
            mock.patch.object(objects.Instance, 'save'),
            mock.patch.object(objects.Instance, 'get_flavor',
                              return_value=objects.Flavor(
                                  **test_flavor.fake_flavor)),
            mock.patch.object(objects.Service, 'get_by_compute_host',
                              return_value=service),
            mock.patch.object(objects.service,
                              'get_minimum_version_all_cells',
                              return_value=objects.service.SERVICE_VERSION),
            mock.patch.object(objects.RequestSpec, 'get_by_instance_uuid',
                              return_value=objects.RequestSpec(id=1)),
            mock.patch.object(compute_api.API, '_allow_cross_cell_resize',
                              return_value=False),
            mock.patch.object(compute_api.API, '_allow_resize_to_same_host',
                              return_value=False),
            mock.patch.object(compute_api.API, '_record_action_start'),
            mock.patch.object(self.compute_api.compute_task_api,
                              'resize_instance'),
        ) as mocks:
            # API.resize itself (a cold migration: no new flavor); its
            # decorators' checks differ between releases.
            inspect.unwrap(compute_api.API.resize)(
                self.compute_api, self.context, instance)
            resize_instance = mocks[-1]
        # The resize went through to the conductor: it was not broken.
        self.assertEqual(1, resize_instance.call_count)
        return instance

    def test_default_mode_keeps_root_image_bug_1906428(self):
        # A server booted from (or rolled back onto) SNAP_1, a snapshot of
        # IMAGE_A: Nova's resize would set SNAP_1.
        inst = self._resize({'image_base_image_ref': IMAGE_A})
        self.assertEqual(IMAGE_A, inst.system_metadata['image_base_image_ref'])

    def test_default_mode_sets_missing_value(self):
        inst = self._resize({'image_os_distro': 'cirros'})
        self.assertEqual(SNAP_1, inst.system_metadata['image_base_image_ref'])

    def test_upstream_mode(self):
        self.configure(base_image_ref_mode='upstream')
        inst = self._resize({'image_base_image_ref': IMAGE_A})
        self.assertEqual(SNAP_1, inst.system_metadata['image_base_image_ref'])

    def test_no_resize_policy(self):
        self.configure(resize_policies=[])
        inst = self._resize({'image_base_image_ref': IMAGE_A})
        self.assertEqual(SNAP_1, inst.system_metadata['image_base_image_ref'])

    def test_raising_policy_does_not_break_resize(self):
        self.configure(resize_policies=['it-raising', 'base-image-ref'])
        inst = self._resize({'image_base_image_ref': IMAGE_A})
        self.assertNotIn('image_it_raising', inst.system_metadata)
        self.assertEqual(IMAGE_A, inst.system_metadata['image_base_image_ref'])


class VolumeBackedRebuildTestCase(_RealPluginTestCase):
    """Zed on: a volume-backed server rebuilt with another image."""

    def setUp(self):
        super(VolumeBackedRebuildTestCase, self).setUp()
        if not REIMAGE_BOOT_VOLUME:
            self.skipTest('Nova before Zed (26.0.0) cannot rebuild a '
                          'volume-backed server with another image')

    def _rebuild(self, image_id, image_props):
        instance = fake_instance.fake_instance_obj(
            self.context, vm_state=vm_states.ACTIVE, cell_name='fake-cell',
            launched_at=timeutils.utcnow(),
            system_metadata={'image_base_image_ref': IMAGE_B,
                             'image_old_property': 'old'},
            image_ref='', node='node', expected_attrs=['system_metadata'])
        image = {'id': image_id, 'status': 'active', 'min_ram': 0,
                 'min_disk': 0, 'properties': dict(image_props)}
        root_bdm = objects.BlockDeviceMapping(
            volume_id='eeeeeeee-5555-4555-8555-eeeeeeeeeeee', boot_index=0,
            source_type='volume', destination_type='volume')
        volume = {'volume_image_metadata': {'image_id': IMAGE_B}}
        with test.nested(
            mock.patch.object(compute_utils, 'is_volume_backed_instance',
                              return_value=True),
            mock.patch.object(compute_utils, 'get_root_bdm',
                              return_value=root_bdm),
            mock.patch.object(self.compute_api.volume_api, 'get',
                              return_value=volume),
            mock.patch.object(compute_api.API, '_check_volume_status'),
            mock.patch.object(compute_api.API, '_validate_numa_rebuild'),
            *_rebuild_patches(self.compute_api, image_id, image)
        ) as mocks:
            inspect.unwrap(compute_api.API.rebuild)(
                self.compute_api, self.context, instance, image_id, 'pass',
                reimage_boot_volume=True)
            rebuild_instance = mocks[-1]
        self.assertEqual(1, rebuild_instance.call_count)
        self.assertTrue(rebuild_instance.call_args[1]['reimage_boot_volume'])
        self.assertEqual('', instance.image_ref)
        return instance

    def test_reimage_onto_snapshot_keeps_root_image(self):
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A})
        self.assertEqual(IMAGE_A, inst.system_metadata['image_base_image_ref'])
        self.assertNotIn('image_old_property', inst.system_metadata)

    def test_reimage_upstream_mode(self):
        self.configure(base_image_ref_mode='upstream')
        inst = self._rebuild(SNAP_1, {'base_image_ref': IMAGE_A})
        self.assertEqual(SNAP_1, inst.system_metadata['image_base_image_ref'])


class SnapshotTestCase(_RealPluginTestCase):
    """Nova's snapshot metadata builder -> hooks -> policies."""

    def _instance(self, base=IMAGE_A, image_ref=IMAGE_B, extra=None):
        sys_meta = dict(('image_%s' % k, v) for k, v in NEVER.items())
        sys_meta.update(('image_%s' % k, v) for k, v in ORDINARY.items())
        sys_meta.update({'image_min_ram': '0', 'image_min_disk': '1',
                         'image_disk_format': 'qcow2',
                         'image_container_format': 'bare'})
        if base is not None:
            sys_meta['image_base_image_ref'] = base
        sys_meta.update(extra or {})
        return fake_instance.fake_instance_obj(
            self.context, vm_state=vm_states.ACTIVE, task_state=None,
            launched_at=timeutils.utcnow(),
            system_metadata=sys_meta, image_ref=image_ref,
            expected_attrs=['system_metadata'])

    def _props(self, instance=None, extra=None):
        instance = instance or self._instance()
        extra = {'instance_uuid': instance.uuid, 'user_id': 'fake-user',
                 'image_type': 'snapshot'} if extra is None else extra
        meta = snapshot_metadata(self.compute_api, self.context, instance,
                                 'snap', extra)
        return meta['properties']

    def test_default_chain(self):
        props = self._props()
        for key in NEVER:
            self.assertNotIn(key, props)
        self.assertEqual(IMAGE_A, props['base_image_ref'])
        self.assertEqual('gpl', props['custom_license'])
        self.assertEqual('snapshot', props['image_type'])

    def test_never_inherit_with_custom_non_inheritable_list(self):
        # An operator's own list brings img_signature* back in Nova; the
        # never-inherit policy still drops them.
        self.flags(non_inheritable_image_properties=['custom_license'])
        props = self._props()
        self.assertNotIn('custom_license', props)
        for key in NEVER:
            self.assertNotIn(key, props)

    def test_without_policies_nova_leaks(self):
        # The same configuration without nova-imgmeta's snapshot policies:
        # the faults of the release are visible (so the test above is not
        # vacuous): every never-inheritable property that Nova does not
        # drop itself (all of them up to Train; os_glance* from Ussuri on).
        self.flags(non_inheritable_image_properties=['custom_license'])
        self.configure(snapshot_policies=[])
        props = self._props()
        namespaces = nova_lines.NOVA_NEVER_INHERITS_NAMESPACES
        leaked = dict((k, v) for k, v in NEVER.items()
                      if k not in nova_lines.NOVA_NEVER_INHERITS and
                      not k.startswith(namespaces))
        if not namespaces:
            # up to Victoria; from Wallaby on Nova drops them all itself
            self.assertIn('os_glance_importing_to_stores', leaked)
        self.assertEqual(leaked, dict((k, props.get(k)) for k in NEVER
                                      if k in props))

    def test_heal(self):
        inst = self._instance(base=None, image_ref=IMAGE_B)
        self.assertEqual(IMAGE_B, self._props(inst)['base_image_ref'])

    def test_heal_disabled(self):
        self.configure(snapshot_policies=['never-inherit'])
        inst = self._instance(base=None, image_ref=IMAGE_B)
        self.assertNotIn('base_image_ref', self._props(inst))

    def test_heal_volume_backed(self):
        inst = self._instance(base=None, image_ref='')
        self.assertNotIn('base_image_ref', self._props(inst))

    def test_deny_patterns(self):
        self.configure(deny_patterns=['hw_*', 'custom_*'])
        props = self._props()
        self.assertNotIn('hw_qemu_guest_agent', props)
        self.assertNotIn('custom_license', props)
        self.assertEqual('cirros', props['os_distro'])

    def test_deny_everything_keeps_nova_properties(self):
        self.configure(deny_patterns=['*'])
        inst = self._instance()
        props = self._props(inst)
        self.assertEqual(inst.uuid, props['instance_uuid'])
        self.assertEqual('fake-user', props['user_id'])
        self.assertEqual('snapshot', props['image_type'])
        self.assertEqual(IMAGE_A, props['base_image_ref'])
        self.assertNotIn('os_distro', props)

    def test_allow_only_patterns(self):
        self.configure(allow_only_patterns=['os_distro'])
        props = self._props()
        self.assertEqual('cirros', props['os_distro'])
        self.assertNotIn('hw_qemu_guest_agent', props)
        self.assertNotIn('custom_license', props)
        self.assertEqual(IMAGE_A, props['base_image_ref'])

    def test_fail_open_raising_policy(self):
        self.configure(snapshot_policies=['it-raising'])
        props = self._props()
        self.assertNotIn('it_raising', props)
        self.assertEqual(IMAGE_A, props['base_image_ref'])

    def test_fail_open_broken_plugin(self):
        self.configure(snapshot_policies=['it-broken-import'])
        props = self._props()
        self.assertEqual(IMAGE_A, props['base_image_ref'])

    def test_policy_whose_attribute_raises_costs_only_itself(self):
        # Issue 17: the whole chain was lost with it, so
        # cinder_encryption_key_id was copied into the snapshot.
        self.configure(snapshot_policies=['heal', 'it-idle-raises',
                                          'never-inherit'])
        props = self._props()
        for key in NEVER:
            self.assertNotIn(key, props)
        self.assertEqual(IMAGE_A, props['base_image_ref'])
        chain = dispatch.get_chain('snapshot')
        self.assertEqual(['heal', 'never-inherit'], list(chain.names))
        [error] = chain.errors
        self.assertEqual('it-idle-raises', error.policy)
        self.assertIn('reading its idle attribute raised NoSuchOptError',
                      str(error))

    def test_generator_apply_is_refused_at_load(self):
        self.configure(snapshot_policies=['it-generator', 'never-inherit'])
        props = self._props()
        self.assertNotIn('it_generator', props)
        for key in NEVER:
            self.assertNotIn(key, props)
        [error] = dispatch.get_chain('snapshot').errors
        self.assertEqual('it-generator', error.policy)
        self.assertIn('a generator function', str(error))

    def test_truncated_value_warn_keeps(self):
        long_value = u'\u00e9' + 'x' * 254    # 255 characters, 256 bytes
        inst = self._instance(extra={'image_long_prop': long_value})
        self.configure(truncated_values='warn')
        self.assertEqual(long_value, self._props(inst)['long_prop'])

    def test_truncated_value_drop(self):
        inst = self._instance(extra={'image_long_prop': 'y' * 255,
                                     'image_short_prop': 'y' * 10})
        self.configure(truncated_values='drop')
        props = self._props(inst)
        self.assertNotIn('long_prop', props)
        self.assertEqual('y' * 10, props['short_prop'])

    def test_unicode_properties(self):
        inst = self._instance(extra={u'image_d\u00e9cor': u'\u2603 snow'})
        props = self._props(inst)
        self.assertEqual(u'\u2603 snow', props[u'd\u00e9cor'])
        self.assertEqual(IMAGE_A, props['base_image_ref'])

    def test_empty_chain_is_what_nova_builds(self):
        # No policy at all: exactly what Nova builds (heal not applied).
        self.configure(snapshot_policies=[])
        inst = self._instance(base=None)
        props = self._props(inst)
        self.assertNotIn('base_image_ref', props)
        if nova_lines.NOVA_NEVER_INHERITS_NAMESPACES:
            self.assertNotIn('os_glance_importing_to_stores', props)
        else:
            self.assertEqual('file1', props['os_glance_importing_to_stores'])
        if 'cinder_encryption_key_id' not in nova_lines.NOVA_NEVER_INHERITS:
            self.assertEqual('key-1', props['cinder_encryption_key_id'])

    def _snapshot_api(self, instance):
        with test.nested(
            mock.patch.object(self.compute_api.image_api, 'create',
                              return_value={'id': 'new-image'}),
            mock.patch.object(self.compute_api.compute_rpcapi,
                              'snapshot_instance'),
            mock.patch.object(objects.Instance, 'save'),
            mock.patch.object(compute_api.API, '_record_action_start'),
        ) as (create, rpc, save, action):
            try:
                self.compute_api.snapshot(self.context, instance, 'snap')
            finally:
                self.create_calls = create.call_count
                self.rpc_calls = rpc.call_count

    def test_snapshot_api_fail_open(self):
        self.configure(snapshot_policies=['it-raising'])
        self._snapshot_api(self._instance())
        self.assertEqual(1, self.create_calls)
        self.assertEqual(1, self.rpc_calls)

    def test_snapshot_api_fail_closed_raising_policy(self):
        self.configure(snapshot_policies=['it-raising', 'never-inherit'],
                       snapshot_on_error='closed')
        self.assertRaises(exception.Invalid, self._snapshot_api,
                          self._instance())
        self.assertEqual(0, self.create_calls)   # no image was created
        self.assertEqual(0, self.rpc_calls)

    def test_snapshot_api_fail_closed_broken_plugin(self):
        self.configure(snapshot_policies=['it-broken-import'],
                       snapshot_on_error='closed')
        self.assertRaises(exception.Invalid, self._snapshot_api,
                          self._instance())
        self.assertEqual(0, self.create_calls)

    def test_snapshot_api_fail_closed_broken_attribute(self):
        # closed: refused naming the policy, as any policy that failed to
        # load, and no image is created
        self.configure(snapshot_policies=['never-inherit', 'it-idle-raises'],
                       snapshot_on_error='closed')
        error = self.assertRaises(exception.Invalid, self._snapshot_api,
                                  self._instance())
        self.assertIn('it-idle-raises', error.format_message())
        self.assertEqual(0, self.create_calls)

    def test_snapshot_api_default(self):
        inst = self._instance()
        with mock.patch.object(self.compute_api.image_api, 'create',
                               return_value={'id': 'new-image'}) as create, \
                mock.patch.object(self.compute_api.compute_rpcapi,
                                  'snapshot_instance'), \
                mock.patch.object(objects.Instance, 'save'), \
                mock.patch.object(compute_api.API, '_record_action_start'):
            self.compute_api.snapshot(self.context, inst, 'snap',
                                      extra_properties={'os_distro': 'x'})
        props = create.call_args[0][1]['properties']
        self.assertEqual(IMAGE_A, props['base_image_ref'])
        self.assertEqual('x', props['os_distro'])
        for key in NEVER:
            self.assertNotIn(key, props)
