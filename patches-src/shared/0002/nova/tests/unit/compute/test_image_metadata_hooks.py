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

#@ if resize_hook == yes
"""Tests for the image metadata hooks of rebuild, resize and snapshot."""
#@ else
"""Tests for the image metadata hooks of rebuild and snapshot."""
#@ endif

#@ if mock == unittest.mock
import inspect
from unittest import mock

#@ else
import mock
#@ endif
#@ if uuidsentinel == oslo_utils.fixture
from oslo_utils.fixture import uuidsentinel as uuids
#@ endif
from oslo_utils import timeutils
from stevedore import extension
import webob

from nova.api.openstack.compute import create_backup
from nova.api.openstack.compute import shelve
from nova.compute import api as compute_api
from nova.compute import image_metadata_hooks as hooks
from nova.compute import task_states
from nova.compute import utils as compute_utils
from nova.compute import vm_states
from nova import context
from nova import exception
from nova import objects
from nova import test
from nova.tests.unit.api.openstack import fakes
from nova.tests.unit import fake_instance
from nova.tests.unit.objects import test_flavor
#@ if uuidsentinel == nova.tests
from nova.tests import uuidsentinel as uuids
#@ endif


def _manager(namespace, *plugins):
    exts = [extension.Extension('hook%d' % i, None, plugin, None)
            for i, plugin in enumerate(plugins)]
    return extension.ExtensionManager.make_test_instance(
        exts, namespace=namespace)


#@ if resize_hook == yes
def _use_hooks(rebuild=(), snapshot=(), resize=()):
    hooks.reset({
        hooks.REBUILD_NAMESPACE: _manager(hooks.REBUILD_NAMESPACE, *rebuild),
        hooks.RESIZE_NAMESPACE: _manager(hooks.RESIZE_NAMESPACE, *resize),
        hooks.SNAPSHOT_NAMESPACE: _manager(hooks.SNAPSHOT_NAMESPACE,
                                           *snapshot)})


def _undecorated(method):
    """The API method itself, without its decorators.

    Their checks (instance state, lock, host, ports, accelerators, shares)
    differ between releases and are not what these tests are about.
    """
    return inspect.unwrap(method)


def _keep_base_image_ref_hook(**kwargs):
    """What a plugin keeping the lineage of the instance does on resize."""
    current = kwargs['instance'].system_metadata.get('image_base_image_ref')
    if current:
        kwargs['new_sys_metadata']['image_base_image_ref'] = current
#@ else
def _use_hooks(rebuild=(), snapshot=()):
    hooks.reset({
        hooks.REBUILD_NAMESPACE: _manager(hooks.REBUILD_NAMESPACE, *rebuild),
        hooks.SNAPSHOT_NAMESPACE: _manager(hooks.SNAPSHOT_NAMESPACE,
                                           *snapshot)})
#@ endif


def _failing_hook(**kwargs):
    for target in ('new_sys_metadata', 'image_meta'):
        if target in kwargs:
            kwargs[target]['half_done'] = 'yes'
    raise ValueError('hook failure')


def _refusing_hook(**kwargs):
    raise exception.ImageUnacceptable(image_id='snap', reason='refused')


class ImageMetadataHooksTestCase(test.NoDBTestCase):
    """Loading and calling of the hooks."""

    def test_disabled_by_default_in_tests(self):
        with mock.patch('stevedore.ExtensionManager') as em:
            hooks.run_rebuild_hooks(new_sys_metadata={})
            hooks.run_snapshot_hooks(image_meta={})
        self.assertFalse(em.called)

    @mock.patch('stevedore.ExtensionManager')
    def test_loaded_once_per_namespace(self, em):
        hooks.reset()
        hooks.run_rebuild_hooks(new_sys_metadata={})
        hooks.run_rebuild_hooks(new_sys_metadata={})
        hooks.run_snapshot_hooks(image_meta={})
        hooks.run_snapshot_hooks(image_meta={})
        self.assertEqual(
            [mock.call(hooks.REBUILD_NAMESPACE, invoke_on_load=False,
                       on_load_failure_callback=hooks._on_load_failure),
             mock.call(hooks.SNAPSHOT_NAMESPACE, invoke_on_load=False,
                       on_load_failure_callback=hooks._on_load_failure)],
            em.call_args_list)

    def test_no_entry_points(self):
        hooks.reset()
        meta = {'image_foo': 'bar'}
        hooks.run_rebuild_hooks(new_sys_metadata=meta)
        image_meta = {'properties': {'foo': 'bar'}}
        hooks.run_snapshot_hooks(image_meta=image_meta)
        self.assertEqual({'image_foo': 'bar'}, meta)
        self.assertEqual({'properties': {'foo': 'bar'}}, image_meta)

    @mock.patch.object(hooks, 'LOG')
    def test_load_failure_callback_logs(self, log):
        manager = mock.Mock(namespace=hooks.REBUILD_NAMESPACE)
        error = ImportError(u'no module \xe9')
        hooks._on_load_failure(manager, 'ep', error)
        self.assertEqual(1, log.error.call_count)
        args = log.error.call_args[0][1]
        self.assertEqual({'entrypoint': 'ep',
                          'namespace': hooks.REBUILD_NAMESPACE,
                          'error': error}, args)
        # the message is formatted with repr(): ASCII on every Python
        self.assertIn("ImportError(", log.error.call_args[0][0] % args)

    @mock.patch('stevedore.ExtensionManager', side_effect=RuntimeError)
    def test_manager_failure_never_raises(self, em):
        hooks.reset()
        meta = {'image_foo': 'bar'}
        hooks.run_rebuild_hooks(new_sys_metadata=meta)
        hooks.run_snapshot_hooks(image_meta={})
        self.assertEqual({'image_foo': 'bar'}, meta)

    def test_rebuild_hooks_called_in_order(self):
        calls = []

        def hook1(**kwargs):
            calls.append(('hook1', sorted(kwargs)))
            kwargs['new_sys_metadata']['image_foo'] = 'one'

        def hook2(**kwargs):
            calls.append(('hook2', kwargs['new_sys_metadata']['image_foo']))
            kwargs['new_sys_metadata']['image_bar'] = 'two'

        _use_hooks(rebuild=[hook1, hook2])
        meta = {}
        hooks.run_rebuild_hooks(context='ctxt', instance='inst',
                                image_id='id', image={},
                                new_sys_metadata=meta)
        self.assertEqual(
            [('hook1', ['context', 'image', 'image_id', 'instance',
                        'new_sys_metadata']),
             ('hook2', 'one')], calls)
        self.assertEqual({'image_foo': 'one', 'image_bar': 'two'}, meta)

    def test_rebuild_hook_failure_is_contained(self):
        def hook(**kwargs):
            kwargs['new_sys_metadata']['image_after'] = 'ok'

        _use_hooks(rebuild=[_failing_hook, hook])
        meta = {'image_foo': 'bar'}
        hooks.run_rebuild_hooks(new_sys_metadata=meta)
        self.assertEqual({'image_foo': 'bar', 'image_after': 'ok'}, meta)

    def test_rebuild_hook_invalid_is_contained(self):
        def hook(**kwargs):
            raise exception.Invalid()

        _use_hooks(rebuild=[hook])
        meta = {'image_foo': 'bar'}
        hooks.run_rebuild_hooks(new_sys_metadata=meta)
        self.assertEqual({'image_foo': 'bar'}, meta)

    def test_rebuild_hook_system_exit_is_contained(self):
        def hook(**kwargs):
            kwargs['new_sys_metadata']['image_half_done'] = 'yes'
            raise SystemExit(1)

        _use_hooks(rebuild=[hook])
        meta = {'image_foo': 'bar'}
        hooks.run_rebuild_hooks(new_sys_metadata=meta)
        self.assertEqual({'image_foo': 'bar'}, meta)

    def test_rebuild_hook_failure_restores_changed_and_removed_keys(self):
        def hook(**kwargs):
            kwargs['new_sys_metadata']['image_foo'] = 'changed'
            del kwargs['new_sys_metadata']['image_base_image_ref']
            raise ValueError('hook failure')

        _use_hooks(rebuild=[hook])
        meta = {'image_foo': 'bar', 'image_base_image_ref': 'ref'}
        hooks.run_rebuild_hooks(new_sys_metadata=meta)
        self.assertEqual({'image_foo': 'bar', 'image_base_image_ref': 'ref'},
                         meta)

    def test_hook_that_undoes_its_own_changes_is_not_copied(self):
        class Counted(dict):
            copies = 0

            def copy(self):
                Counted.copies += 1
                return dict.copy(self)

        def careful(**kwargs):
            raise ValueError('changed nothing')
        careful.undoes_own_changes = True

        def careless(**kwargs):
            kwargs['image_meta']['half_done'] = 'yes'
            raise ValueError('hook failure')

        _use_hooks(snapshot=[careful])
        image_meta = Counted(name='snap')
        hooks.run_snapshot_hooks(image_meta=image_meta)
        self.assertEqual(0, Counted.copies)
        _use_hooks(snapshot=[careless])
        hooks.run_snapshot_hooks(image_meta=image_meta)
        self.assertEqual(1, Counted.copies)
        self.assertEqual({'name': 'snap'}, image_meta)

    def test_reset_replaces_the_hooks_in_use(self):
        calls = []
        _use_hooks(rebuild=[lambda **kwargs: calls.append('first')])
        hooks.run_rebuild_hooks(new_sys_metadata={})
        _use_hooks(rebuild=[lambda **kwargs: calls.append('second')])
        hooks.run_rebuild_hooks(new_sys_metadata={})
        hooks.disable()
        hooks.run_rebuild_hooks(new_sys_metadata={})
        self.assertEqual(['first', 'second'], calls)

#@ if resize_hook == yes
    def test_resize_hook_failure_is_contained(self):
        def hook(**kwargs):
            kwargs['new_sys_metadata']['image_after'] = 'ok'

        _use_hooks(resize=[_failing_hook, hook])
        meta = {'image_base_image_ref': 'ref'}
        hooks.run_resize_hooks(new_sys_metadata=meta)
        self.assertEqual({'image_base_image_ref': 'ref', 'image_after': 'ok'},
                         meta)

    def test_resize_hook_invalid_is_contained(self):
        def hook(**kwargs):
            kwargs['new_sys_metadata']['image_base_image_ref'] = 'changed'
            raise exception.Invalid()

        _use_hooks(resize=[hook])
        meta = {'image_base_image_ref': 'ref'}
        hooks.run_resize_hooks(new_sys_metadata=meta)
        self.assertEqual({'image_base_image_ref': 'ref'}, meta)

#@ endif
    def test_keyboard_interrupt_is_not_contained(self):
        def hook(**kwargs):
            raise KeyboardInterrupt()

        _use_hooks(rebuild=[hook], snapshot=[hook])
        self.assertRaises(KeyboardInterrupt, hooks.run_rebuild_hooks,
                          new_sys_metadata={})
        self.assertRaises(KeyboardInterrupt, hooks.run_snapshot_hooks,
                          image_meta={})

    def test_snapshot_hook_failure_is_contained(self):
        def hook(**kwargs):
            kwargs['image_meta']['properties']['after'] = 'ok'

        _use_hooks(snapshot=[_failing_hook, hook])
        image_meta = {'properties': {'foo': 'bar'}}
        hooks.run_snapshot_hooks(image_meta=image_meta)
        self.assertEqual({'properties': {'foo': 'bar', 'after': 'ok'}},
                         image_meta)

    def test_snapshot_hook_failure_restores_nested_properties(self):
        def hook(**kwargs):
            properties = kwargs['image_meta']['properties']
            properties.pop('foo')
            properties['added'] = 'yes'
            kwargs['image_meta']['name'] = 'changed'
            kwargs['image_meta']['properties'] = {}
            raise SystemExit(1)

        _use_hooks(snapshot=[hook])
        properties = {'foo': 'bar'}
        image_meta = {'name': 'snap', 'properties': properties}
        hooks.run_snapshot_hooks(image_meta=image_meta)
        self.assertEqual({'name': 'snap', 'properties': {'foo': 'bar'}},
                         image_meta)
        self.assertIs(properties, image_meta['properties'])

    def test_snapshot_hook_invalid_propagates(self):
        def hook(**kwargs):
            kwargs['image_meta']['properties']['half_done'] = 'yes'
            _refusing_hook(**kwargs)

        _use_hooks(snapshot=[hook])
        image_meta = {'properties': {}}
        self.assertRaises(exception.Invalid, hooks.run_snapshot_hooks,
                          image_meta=image_meta)
        self.assertEqual({'properties': {}}, image_meta)


class ImageMetadataHooksCallSitesTestCase(test.NoDBTestCase):
    """The calls in nova.compute.api.API."""

    def setUp(self):
        super(ImageMetadataHooksCallSitesTestCase, self).setUp()
        self.compute_api = compute_api.API()
#@ if snapshot_context == none
        self.context = context.RequestContext('fake', 'fake')
#@ else
        self.context = context.RequestContext('fake-user', 'fake-project')
#@ endif
        patcher = mock.patch.object(compute_utils,
                                    'is_volume_backed_instance',
                                    return_value=False)
#@ if reimage_boot_volume == yes
        self.volume_backed = patcher.start()
#@ else
        patcher.start()
#@ endif
        self.addCleanup(patcher.stop)
#@ if api_calls == undecorated
        if hasattr(compute_api, 'instance_has_share'):
            # 2025.1 on: rebuild looks for the shares of the instance.
            patcher = mock.patch.object(compute_api, 'instance_has_share',
                                        return_value=False)
            patcher.start()
            self.addCleanup(patcher.stop)
#@ endif

    def _instance(self, system_metadata):
        return fake_instance.fake_instance_obj(self.context,
                vm_state=vm_states.ACTIVE, cell_name='fake-cell',
                launched_at=timeutils.utcnow(),
                system_metadata=system_metadata,
                image_ref=uuids.orig_image, node='node',
                expected_attrs=['system_metadata'])

#@ if snapshot_context == request
    def _snapshot_metadata(self, instance, name, extra_properties=None):
#@ if snapshot_builder == api
        return self.compute_api._initialize_instance_snapshot_metadata(
#@ else
        return compute_utils.initialize_instance_snapshot_metadata(
#@ endif
            self.context, instance, name, extra_properties)

#@ endif
#@ if reimage_boot_volume == yes
    def _rebuild(self, instance, image_id, image, **rebuild_kwargs):
#@ else
    def _rebuild(self, instance, image_id, image):
#@ endif
        for obj, name, kwargs in (
                (objects.Instance, 'save', {}),
                (objects.Instance, 'get_flavor',
                 {'return_value': test_flavor.fake_flavor}),
                (objects.BlockDeviceMappingList, 'get_by_instance_uuid',
                 {'return_value': objects.BlockDeviceMappingList()}),
                (objects.RequestSpec, 'get_by_instance_uuid',
                 {'return_value': objects.RequestSpec(id=1)}),
                (objects.RequestSpec, 'save', {}),
                (self.compute_api, '_get_image',
                 {'return_value': (image_id, image)}),
                (self.compute_api, '_check_auto_disk_config', {}),
                (self.compute_api, '_checks_for_create_and_rebuild', {}),
                (self.compute_api, '_record_action_start', {}),
                (self.compute_api.compute_task_api, 'rebuild_instance', {})):
            patcher = mock.patch.object(obj, name, **kwargs)
            patcher.start()
            self.addCleanup(patcher.stop)
#@ if reimage_boot_volume == yes
        self.compute_api.rebuild(self.context, instance, image_id, '',
                                 **rebuild_kwargs)
#@ else
        self.compute_api.rebuild(self.context, instance, image_id, '')
#@ endif

    def _image(self, **properties):
        return {'id': uuids.new_image, 'min_ram': 0, 'min_disk': 0,
                'properties': properties}

    def test_rebuild_passes_contract_arguments(self):
        instance = self._instance({'image_old': 'old'})
        image = self._image(foo='bar')
        with mock.patch.object(hooks, 'run_rebuild_hooks') as run:
            self._rebuild(instance, uuids.new_image, image)
        run.assert_called_once_with(
            context=self.context, instance=instance,
            image_id=uuids.new_image, image=image,
            new_sys_metadata=mock.ANY)
        new_sys_metadata = run.call_args[1]['new_sys_metadata']
        self.assertEqual('bar', new_sys_metadata['image_foo'])
        self.assertEqual(uuids.new_image,
                         new_sys_metadata['image_base_image_ref'])

    def test_rebuild_hook_changes_system_metadata(self):
        def hook(**kwargs):
            kwargs['new_sys_metadata']['image_base_image_ref'] = 'changed'
            kwargs['new_sys_metadata']['image_added'] = 'added'

        _use_hooks(rebuild=[hook])
        instance = self._instance({'image_old': 'old'})
        self._rebuild(instance, uuids.new_image, self._image())
        self.assertEqual('changed',
                         instance.system_metadata['image_base_image_ref'])
        self.assertEqual('added', instance.system_metadata['image_added'])
        self.assertNotIn('image_old', instance.system_metadata)

    def test_rebuild_failing_hook_never_breaks_rebuild(self):
        def invalid_hook(**kwargs):
            raise exception.Invalid()

        _use_hooks(rebuild=[_failing_hook, invalid_hook])
        instance = self._instance({'image_old': 'old'})
        self._rebuild(instance, uuids.new_image, self._image(foo='bar'))
        rebuild_instance = self.compute_api.compute_task_api.rebuild_instance
        self.assertEqual(1, rebuild_instance.call_count)
        kwargs = rebuild_instance.call_args[1]
        self.assertEqual(uuids.new_image, kwargs['image_ref'])
        self.assertEqual({'image_old': 'old'}, kwargs['orig_sys_metadata'])
        self.assertEqual('bar', instance.system_metadata['image_foo'])
        self.assertEqual(uuids.new_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertNotIn('image_half_done', instance.system_metadata)
        self.assertNotIn('half_done', instance.system_metadata)

#@ if reimage_boot_volume == yes
    def _volume_backed_rebuild(self, instance, image_id, image):
        self.volume_backed.return_value = True
        root_bdm = objects.BlockDeviceMapping(
            volume_id=uuids.volume, boot_index=0, source_type='volume',
            destination_type='volume')
        volume = {'id': uuids.volume,
                  'volume_image_metadata': {'image_id': uuids.orig_image}}
        for obj, name, kwargs in (
                (compute_utils, 'get_root_bdm', {'return_value': root_bdm}),
                (self.compute_api.volume_api, 'get', {'return_value': volume}),
                (self.compute_api, '_check_volume_status', {}),
                (self.compute_api, '_validate_numa_rebuild', {})):
            patcher = mock.patch.object(obj, name, **kwargs)
            patcher.start()
            self.addCleanup(patcher.stop)
        self._rebuild(instance, image_id, image, reimage_boot_volume=True)

    def test_rebuild_volume_backed_reimage_runs_hooks(self):
        # Zed on: rebuilding a volume-backed server with another image
        # (microversion 2.93, reimage_boot_volume) goes through
        # _reset_image_metadata, and so through the rebuild hooks.
        instance = self._instance({'image_old': 'old',
                                   'image_base_image_ref': ''})
        instance.image_ref = ''
        image = self._image(base_image_ref=uuids.root_image)
        with mock.patch.object(hooks, 'run_rebuild_hooks') as run:
            self._volume_backed_rebuild(instance, uuids.new_image, image)
        run.assert_called_once_with(
            context=self.context, instance=instance,
            image_id=uuids.new_image, image=image,
            new_sys_metadata=mock.ANY)
        self.assertEqual(uuids.new_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertEqual('', instance.image_ref)
        kwargs = self.compute_api.compute_task_api.rebuild_instance.call_args
        self.assertTrue(kwargs[1]['reimage_boot_volume'])

    def test_rebuild_volume_backed_reimage_hook_changes_system_metadata(self):
        def hook(**kwargs):
            properties = kwargs['image']['properties']
            kwargs['new_sys_metadata']['image_base_image_ref'] = (
                properties['base_image_ref'])

        _use_hooks(rebuild=[hook])
        instance = self._instance({'image_old': 'old'})
        instance.image_ref = ''
        self._volume_backed_rebuild(
            instance, uuids.new_image,
            self._image(base_image_ref=uuids.root_image))
        self.assertEqual(uuids.root_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertNotIn('image_old', instance.system_metadata)

#@ endif
#@ if resize_hook == yes
    def _resize(self, instance, flavor_id=None):
        service = objects.Service(host=instance.host, disabled=False)
        for obj, name, kwargs in (
                (objects.Instance, 'save', {}),
                (objects.Instance, 'get_flavor',
                 {'return_value': objects.Flavor(**test_flavor.fake_flavor)}),
                (objects.Service, 'get_by_compute_host',
                 {'return_value': service}),
                (objects.service, 'get_minimum_version_all_cells',
                 {'return_value': objects.service.SERVICE_VERSION}),
                (objects.RequestSpec, 'get_by_instance_uuid',
                 {'return_value': objects.RequestSpec(id=1)}),
                (self.compute_api.servicegroup_api, 'service_is_up',
                 {'return_value': True}),
                (self.compute_api, '_allow_cross_cell_resize',
                 {'return_value': False}),
                (self.compute_api, '_allow_resize_to_same_host',
                 {'return_value': False}),
                (self.compute_api, '_record_action_start', {}),
                (self.compute_api.compute_task_api, 'resize_instance', {})):
            patcher = mock.patch.object(obj, name, **kwargs)
            patcher.start()
            self.addCleanup(patcher.stop)
        _undecorated(compute_api.API.resize)(
            self.compute_api, self.context, instance, flavor_id=flavor_id)
        resize_instance = self.compute_api.compute_task_api.resize_instance
        self.assertEqual(1, resize_instance.call_count)

    def _snapshot_instance(self):
        # Booted from (or rolled back onto) snapshot uuids.orig_image of the
        # image uuids.root_image: the rule used at boot keeps the root.
        return self._instance({'image_base_image_ref': uuids.root_image,
                               'image_foo': 'bar'})

    def test_resize_passes_contract_arguments(self):
        instance = self._snapshot_instance()
        with mock.patch.object(hooks, 'run_resize_hooks') as run:
            self._resize(instance)
        run.assert_called_once_with(
            context=self.context, instance=instance,
            new_sys_metadata={'image_base_image_ref': uuids.orig_image})

    def test_resize_without_hooks_sets_image_ref(self):
        # As Nova does without hooks since Wallaby (change f02899418d).
        instance = self._snapshot_instance()
        self._resize(instance)
        self.assertEqual(uuids.orig_image,
                         instance.system_metadata['image_base_image_ref'])

    def test_resize_keeps_image_base_image_ref_bug_1906428(self):
        # The fix of bug 1906428 made resize and cold migration (the same
        # API.resize, here without a new flavor) set image_base_image_ref to
        # image_ref; a resize hook may keep the image the instance was built
        # from.
        _use_hooks(resize=[_keep_base_image_ref_hook])
        instance = self._snapshot_instance()
        self._resize(instance)
        self.assertEqual(uuids.root_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertEqual('bar', instance.system_metadata['image_foo'])

    def test_resize_sets_missing_image_base_image_ref_with_hooks(self):
        _use_hooks(resize=[_keep_base_image_ref_hook])
        instance = self._instance({'image_foo': 'bar'})
        self._resize(instance)
        self.assertEqual(uuids.orig_image,
                         instance.system_metadata['image_base_image_ref'])

    def test_resize_failing_hook_never_breaks_resize(self):
        def invalid_hook(**kwargs):
            raise exception.Invalid()

        _use_hooks(resize=[_failing_hook, invalid_hook])
        instance = self._snapshot_instance()
        self._resize(instance)
        self.assertEqual(uuids.orig_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertNotIn('half_done', instance.system_metadata)

#@ endif
    def test_snapshot_passes_contract_arguments(self):
        instance = self._instance({'image_foo': 'bar'})
#@ if snapshot_context == none
        init = self.compute_api._initialize_instance_snapshot_metadata
        with mock.patch.object(hooks, 'run_snapshot_hooks') as run:
            image_meta = init(instance, 'snap', {'extra': 'x'})
        run.assert_called_once_with(
            context=None, instance=instance, image_meta=image_meta,
#@ else
        with mock.patch.object(hooks, 'run_snapshot_hooks') as run:
            image_meta = self._snapshot_metadata(instance, 'snap',
                                                 {'extra': 'x'})
        run.assert_called_once_with(
            context=self.context, instance=instance, image_meta=image_meta,
#@ endif
            extra_properties={'extra': 'x'})
        self.assertEqual({'foo': 'bar', 'extra': 'x'},
                         image_meta['properties'])

    def test_snapshot_without_extra_properties(self):
        instance = self._instance({})
        with mock.patch.object(hooks, 'run_snapshot_hooks') as run:
#@ if snapshot_context == none
            self.compute_api._initialize_instance_snapshot_metadata(
                instance, 'snap')
#@ else
            self._snapshot_metadata(instance, 'snap')
#@ endif
        self.assertEqual({}, run.call_args[1]['extra_properties'])

    def test_snapshot_hook_changes_image_meta(self):
        def hook(**kwargs):
            kwargs['image_meta']['properties'].pop('secret', None)

        _use_hooks(snapshot=[hook])
        instance = self._instance({'image_foo': 'bar', 'image_secret': 's'})
#@ if snapshot_context == none
        image_meta = self.compute_api._initialize_instance_snapshot_metadata(
            instance, 'snap', {})
#@ else
        image_meta = self._snapshot_metadata(instance, 'snap', {})
#@ endif
        self.assertEqual({'foo': 'bar'}, image_meta['properties'])

    def test_snapshot_failing_hook_keeps_nova_result(self):
        instance = self._instance({'image_foo': 'bar'})
#@ if snapshot_context == none
        expected = self.compute_api._initialize_instance_snapshot_metadata(
            instance, 'snap', {'extra': 'x'})
        _use_hooks(snapshot=[_failing_hook])
        image_meta = self.compute_api._initialize_instance_snapshot_metadata(
            instance, 'snap', {'extra': 'x'})
#@ else
        expected = self._snapshot_metadata(instance, 'snap', {'extra': 'x'})
        _use_hooks(snapshot=[_failing_hook])
        image_meta = self._snapshot_metadata(instance, 'snap', {'extra': 'x'})
#@ endif
        self.assertEqual(expected, image_meta)

    def test_snapshot_invalid_from_hook_creates_no_image(self):
        _use_hooks(snapshot=[_refusing_hook])
        instance = self._instance({'image_foo': 'bar'})
        with mock.patch.object(self.compute_api.image_api,
                               'create') as create:
            self.assertRaises(exception.Invalid, self.compute_api.snapshot,
                              self.context, instance, 'snap')
        self.assertFalse(create.called)

    def test_backup_invalid_from_hook_creates_no_image(self):
        _use_hooks(snapshot=[_refusing_hook])
        instance = self._instance({'image_foo': 'bar'})
        with test.nested(
                mock.patch.object(self.compute_api.image_api, 'create'),
                mock.patch.object(instance, 'save'),
                mock.patch.object(self.compute_api, '_record_action_start'),
                mock.patch.object(self.compute_api.compute_rpcapi,
                                  'backup_instance')) as (
                create, save, record, rpc):
            self.assertRaises(exception.Invalid, self.compute_api.backup,
                              self.context, instance, 'backup', 'daily', 1,
                              extra_properties={})
        for step in (create, save, record, rpc):
            self.assertFalse(step.called)
        self.assertIsNone(instance.task_state)

    def _shelve_fails(self, instance, error=exception.Invalid,
                      create_side_effect=None):
        system_metadata = dict(instance.system_metadata)
        with test.nested(
                mock.patch.object(self.compute_api.image_api, 'create',
                                  side_effect=create_side_effect),
                mock.patch.object(instance, 'save'),
                mock.patch.object(self.compute_api, '_record_action_start'),
                mock.patch.object(self.compute_api.compute_rpcapi,
                                  'shelve_instance')) as (
                create, save, record, rpc):
#@ if api_calls == undecorated
            self.assertRaises(error, _undecorated(compute_api.API.shelve),
                              self.compute_api, self.context, instance)
#@ else
            self.assertRaises(error, self.compute_api.shelve,
                              self.context, instance)
#@ endif
        self.assertIsNone(instance.task_state)
        self.assertEqual(vm_states.ACTIVE, instance.vm_state)
        self.assertEqual(system_metadata, instance.system_metadata)
        self.assertEqual(
            [mock.call(expected_task_state=[None]),
             mock.call(expected_task_state=[task_states.SHELVING])],
            save.call_args_list)
        self.assertFalse(record.called)
        self.assertFalse(rpc.called)
        return create

    def test_shelve_invalid_from_hook_leaves_instance_as_it_was(self):
        _use_hooks(snapshot=[_refusing_hook])
        instance = self._instance({'image_foo': 'bar'})
        create = self._shelve_fails(instance)
        self.assertFalse(create.called)

    def test_shelve_image_create_failure_leaves_instance_as_it_was(self):
        instance = self._instance({'image_foo': 'bar'})
        create = self._shelve_fails(
            instance, error=exception.ImageNotAuthorized,
            create_side_effect=exception.ImageNotAuthorized(image_id='snap'))
        self.assertTrue(create.called)

#@ if upstream_fix == yes
    def test_shelve_refused_restores_image_base_image_ref(self):
        # shelve sets a missing image_base_image_ref before it saves the
        # instance; a refused shelve takes it out again.
        _use_hooks(snapshot=[_refusing_hook])
        instance = self._instance({'image_foo': 'bar'})
        self._shelve_fails(instance)
        self.assertNotIn('image_base_image_ref', instance.system_metadata)

    def _shelve(self, instance):
        with test.nested(
                mock.patch.object(self.compute_api.image_api, 'create',
                                  return_value={'id': uuids.shelved}),
                mock.patch.object(instance, 'save'),
                mock.patch.object(self.compute_api, '_record_action_start'),
                mock.patch.object(self.compute_api.compute_rpcapi,
                                  'shelve_instance')) as (
                create, save, record, rpc):
#@ if api_calls == undecorated
            _undecorated(compute_api.API.shelve)(
                self.compute_api, self.context, instance)
#@ else
            self.compute_api.shelve(self.context, instance)
#@ endif
        self.assertEqual(1, record.call_count)
        self.assertEqual(uuids.shelved, rpc.call_args[1]['image_id'])
        return create.call_args[0][1]['properties']

    def test_shelve_sets_missing_image_base_image_ref(self):
        instance = self._instance({'image_foo': 'bar'})
        properties = self._shelve(instance)
        self.assertEqual(uuids.orig_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertEqual(uuids.orig_image, properties['base_image_ref'])

    def test_shelve_keeps_image_base_image_ref(self):
        # An instance booted from (or rebuilt onto) a snapshot of another
        # image: image_base_image_ref is that image, not image_ref.
        instance = self._instance({'image_base_image_ref': uuids.root_image})
        properties = self._shelve(instance)
        self.assertEqual(uuids.root_image,
                         instance.system_metadata['image_base_image_ref'])
        self.assertEqual(uuids.root_image, properties['base_image_ref'])

#@ endif

class ImageMetadataHooksControllersTestCase(test.NoDBTestCase):
    """A refusal answers 400 on every REST action that creates an image."""

    def setUp(self):
        super(ImageMetadataHooksControllersTestCase, self).setUp()
        self.req = fakes.HTTPRequest.blank('')
        self.instance = fake_instance.fake_instance_obj(
            self.req.environ['nova.context'], vm_state=vm_states.ACTIVE,
            task_state=None)
        patcher = mock.patch('nova.api.openstack.common.get_instance',
                             return_value=self.instance)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.refusal = exception.ImageUnacceptable(image_id='snap',
                                                   reason='refused')

    def test_create_backup_refused_answers_400(self):
        controller = create_backup.CreateBackupController()
        body = {'createBackup': {'name': 'backup', 'backup_type': 'daily',
                                 'rotation': 1}}
        with mock.patch.object(controller.compute_api, 'backup',
                               side_effect=self.refusal):
            error = self.assertRaises(
                webob.exc.HTTPBadRequest, controller._create_backup,
                self.req, self.instance.uuid, body=body)
        self.assertIn('refused', error.explanation)

    def test_shelve_refused_answers_400(self):
        controller = shelve.ShelveController()
        with mock.patch.object(controller.compute_api, 'shelve',
                               side_effect=self.refusal):
            error = self.assertRaises(
                webob.exc.HTTPBadRequest, controller._shelve,
#@ if api_calls == undecorated
                self.req, self.instance.uuid, body={'shelve': None})
#@ else
                self.req, self.instance.uuid, {'shelve': None})
#@ endif
        self.assertIn('refused', error.explanation)
