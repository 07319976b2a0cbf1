# -*- coding: utf-8 -*-
import logging
import sys
import threading
import types

import pytest
from oslo_config import cfg
from stevedore import extension
from stevedore import named

from nova_imgmeta import dispatch
from nova_imgmeta import exceptions
from nova_imgmeta.policies import base
from nova_imgmeta.policies import heal
from nova_imgmeta.policies import never_inherit

from . import fakes


class Boom(Exception):
    pass


class RaisingSnapshotPolicy(base.SnapshotPolicy):
    """Changes the metadata, then raises midway."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['half_done'] = 'yes'
        image_meta['properties'].pop('os_distro', None)
        image_meta['name'] = 'mangled'
        raise Boom('policy bug')


class RaisingRebuildPolicy(base.RebuildPolicy):
    def apply(self, context, instance, image_id, image, new_sys_metadata):
        new_sys_metadata['image_half_done'] = 'yes'
        new_sys_metadata.pop('image_os_distro', None)
        raise Boom('policy bug')


class RefusingPolicy(base.SnapshotPolicy):
    def apply(self, context, instance, image_meta, extra_properties):
        raise exceptions.SnapshotRejected('no snapshots of this server')


class CountingRebuildPolicy(base.RebuildPolicy):
    instances = 0

    def __init__(self, conf):
        super(CountingRebuildPolicy, self).__init__(conf)
        CountingRebuildPolicy.instances += 1

    def apply(self, context, instance, image_id, image, new_sys_metadata):
        new_sys_metadata['image_counted'] = 'yes'


def manager(conf, *pairs):
    exts = [extension.Extension(name, None, cls, cls(conf))
            for name, cls in pairs]
    return named.NamedExtensionManager.make_test_instance(
        exts, namespace='nova_imgmeta.test')


def use(config, kind, names, *pairs, **overrides):
    config.config(group='nova_imgmeta', **dict(
        {'%s_policies' % kind: names}, **overrides))
    dispatch.reset(conf=config.conf,
                   managers={kind: manager(config.conf, *pairs)})


def snapshot_case(extra=None, **props):
    props.setdefault('os_distro', 'ubuntu')
    props.update({'cinder_encryption_key_id': 'k', 'os_glance_x': 'y'})
    instance = fakes.InstanceStub(system_metadata=fakes.boot_system_metadata(
        fakes.IMAGE_A, {'properties': props}))
    image_meta, extra = fakes.snapshot_image_meta(instance,
                                                  extra_properties=extra)
    return instance, image_meta, extra


def call_snapshot(instance, image_meta, extra):
    dispatch.snapshot_hook(context=None, instance=instance,
                           image_meta=image_meta, extra_properties=extra,
                           future_argument=1)


def rebuild_case():
    image = {'properties': {'os_distro': 'ubuntu'}}
    return image, fakes.rebuild_new_sys_metadata(fakes.IMAGE_B, image)


def call_rebuild(image, new):
    dispatch.rebuild_hook(context=None, instance=fakes.InstanceStub(),
                          image_id=fakes.IMAGE_B, image=image,
                          new_sys_metadata=new, future_argument=1)


# real entry points, cfg.CONF ---------------------------------------------

def test_default_chains_from_the_installed_entry_points():
    assert dispatch.get_chain('rebuild').names == ['base-image-ref']
    assert dispatch.get_chain('snapshot').names == [
        'heal', 'never-inherit', 'patterns', 'truncated']
    assert 'nova_imgmeta' in cfg.CONF
    instance, image_meta, extra = snapshot_case()
    instance.system_metadata.pop('image_base_image_ref')
    image_meta['properties'].pop('base_image_ref')
    call_snapshot(instance, image_meta, extra)
    properties = image_meta['properties']
    assert properties['base_image_ref'] == fakes.IMAGE_A
    assert 'cinder_encryption_key_id' not in properties
    assert 'os_glance_x' not in properties
    image, new = rebuild_case()
    call_rebuild(image, new)
    assert new['image_base_image_ref'] == fakes.IMAGE_B


def test_policies_load_once_per_process(config):
    use(config, 'rebuild', ['counted'],
        ('counted', CountingRebuildPolicy))
    CountingRebuildPolicy.instances = 0
    dispatch.reset(conf=config.conf)   # real entry points, not the test one
    config.config(group='nova_imgmeta', rebuild_policies=['base-image-ref'])
    threads = [threading.Thread(target=lambda: call_rebuild(*rebuild_case()))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for _ in range(20):
        call_rebuild(*rebuild_case())
        call_snapshot(*snapshot_case())
    assert dispatch.load_count() == 2


def test_only_the_named_plugins_are_imported(config):
    config.config(group='nova_imgmeta', snapshot_policies=['heal'],
                  rebuild_policies=[])
    dispatch.reset(conf=config.conf)
    assert dispatch.get_chain('snapshot').names == ['heal']
    assert dispatch.get_chain('rebuild').names == []
    image, new = rebuild_case()
    before = dict(new)
    call_rebuild(image, new)
    assert new == before


# rebuild containment ------------------------------------------------------

def test_rebuild_policy_that_raises_is_undone_and_the_chain_goes_on(
        config, caplog):
    use(config, 'rebuild', ['boom', 'counted'],
        ('boom', RaisingRebuildPolicy), ('counted', CountingRebuildPolicy))
    image, new = rebuild_case()
    before = dict(new)
    call_rebuild(image, new)
    assert new == dict(before, image_counted='yes')
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert 'boom' in errors[0].getMessage()
    assert fakes.UUID in errors[0].getMessage()


def test_rebuild_load_failures_never_raise(config, caplog):
    config.config(group='nova_imgmeta',
                  rebuild_policies=['no-such-policy', 'base-image-ref'])
    dispatch.reset(conf=config.conf)
    image, new = rebuild_case()
    call_rebuild(image, new)
    assert new['image_base_image_ref'] == fakes.IMAGE_B
    messages = ' '.join(r.getMessage() for r in caplog.records
                        if r.levelno == logging.ERROR)
    assert 'no-such-policy' in messages
    assert 'rebuild_policies' in messages


def test_rebuild_bad_mode_never_raises(conf_file, caplog):
    conf = conf_file('[nova_imgmeta]\nbase_image_ref_mode = victoria\n')
    dispatch.reset(conf=conf)
    image, new = rebuild_case()
    before = dict(new)
    call_rebuild(image, new)
    assert new == before
    assert 'base_image_ref_mode' in caplog.text


def test_rebuild_survives_a_broken_loader(config, mocker):
    dispatch.reset(conf=config.conf)
    mocker.patch('nova_imgmeta.loader.build_chain',
                 side_effect=RuntimeError('stevedore exploded'))
    image, new = rebuild_case()
    before = dict(new)
    call_rebuild(image, new)
    assert new == before


@pytest.mark.parametrize('new', [None, 'not-a-dict'])
def test_rebuild_odd_arguments(new):
    dispatch.rebuild_hook(new_sys_metadata=new)
    dispatch.rebuild_hook()


# snapshot containment -----------------------------------------------------

def test_snapshot_fail_open_keeps_what_nova_built(config, caplog):
    use(config, 'snapshot', ['never-inherit', 'boom'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('boom', RaisingSnapshotPolicy))
    instance, image_meta, extra = snapshot_case()
    properties = image_meta['properties']
    nova_built = dict(image_meta, properties=dict(properties))
    call_snapshot(instance, image_meta, extra)
    assert image_meta == nova_built
    assert image_meta['properties'] is properties
    assert 'boom' in caplog.text


@pytest.mark.parametrize('broken', ['no-such-policy', 'not-a-policy'])
def test_snapshot_fail_open_runs_the_policies_that_loaded(config, broken):
    class NotAPolicy(object):
        def __init__(self, conf):
            pass
    use(config, 'snapshot', [broken, 'never-inherit'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('not-a-policy', NotAPolicy))
    chain = dispatch.get_chain('snapshot')
    assert [e.policy for e in chain.errors] == [broken]
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert 'cinder_encryption_key_id' not in image_meta['properties']


def test_snapshot_fail_closed_rejects(config):
    use(config, 'snapshot', ['never-inherit', 'boom'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('boom', RaisingSnapshotPolicy), snapshot_on_error='closed')
    instance, image_meta, extra = snapshot_case()
    nova_built = dict(image_meta, properties=dict(image_meta['properties']))
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert info.value.policy == 'boom'
    assert 'boom' in str(info.value) and fakes.UUID in str(info.value)
    assert image_meta == nova_built


def test_snapshot_fail_closed_rejects_when_a_policy_failed_to_load(config):
    use(config, 'snapshot', ['heal', 'no-such-policy'],
        ('heal', heal.HealBaseImageRefPolicy), snapshot_on_error='closed')
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert 'no-such-policy' in str(info.value)
    assert 'snapshot_policies' in str(info.value)


def test_snapshot_bad_on_error_value_is_fail_open(conf_file, caplog):
    conf = conf_file('[nova_imgmeta]\nsnapshot_on_error = ajar\n'
                     'snapshot_policies = no-such-policy\n')
    dispatch.reset(conf=conf)
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert 'snapshot_on_error' in caplog.text


@pytest.mark.parametrize('mode', ['open', 'closed'])
def test_policy_may_refuse_a_snapshot(config, mode):
    use(config, 'snapshot', ['refuse'], ('refuse', RefusingPolicy),
        snapshot_on_error=mode)
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert info.value.policy == 'refuse'


@pytest.fixture
def fake_nova(monkeypatch):
    """A minimal ``nova.exception`` as in Nova Queens."""
    nova = types.ModuleType('nova')
    exception = types.ModuleType('nova.exception')

    class NovaException(Exception):
        msg_fmt = 'An unknown exception occurred.'
        code = 500

        def __init__(self, message=None, **kwargs):
            self.kwargs = kwargs
            self.kwargs.setdefault('code', self.code)
            if not message:
                message = self.msg_fmt % kwargs
            self.message = message
            super(NovaException, self).__init__(message)

        def format_message(self):
            return self.args[0]

    class Invalid(NovaException):
        msg_fmt = 'Bad Request - Invalid Parameters'
        code = 400

    exception.NovaException = NovaException
    exception.Invalid = Invalid
    nova.exception = exception
    monkeypatch.setitem(sys.modules, 'nova', nova)
    monkeypatch.setitem(sys.modules, 'nova.exception', exception)
    exceptions._reset_for_tests()
    return exception


def test_fail_closed_raises_nova_invalid_when_nova_is_there(config,
                                                            fake_nova):
    use(config, 'snapshot', ['boom'], ('boom', RaisingSnapshotPolicy),
        snapshot_on_error='closed')
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(fake_nova.Invalid) as info:
        call_snapshot(instance, image_meta, extra)
    assert isinstance(info.value, exceptions.SnapshotRejected)
    assert info.value.code == 400
    assert info.value.kwargs['code'] == 400
    assert 'boom' in info.value.format_message()


def test_rejection_is_plain_without_nova():
    cls = exceptions.snapshot_rejected_class()
    try:
        import nova.exception  # noqa: F401
    except ImportError:
        assert cls is exceptions.SnapshotRejected


# logging and odd data -----------------------------------------------------

def test_one_info_line_per_change_and_no_long_value(config, caplog):
    caplog.set_level(logging.DEBUG)
    use(config, 'snapshot', ['never-inherit', 'heal'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('heal', heal.HealBaseImageRefPolicy))
    long_key = 'z' * 300
    instance, image_meta, extra = snapshot_case()
    image_meta['properties']['os_glance_long'] = long_key
    call_snapshot(instance, image_meta, extra)
    infos = [r.getMessage() for r in caplog.records
             if r.levelno == logging.INFO and 'changed' in r.getMessage()]
    assert len(infos) == 3
    for message in infos:
        assert fakes.UUID in message and 'never-inherit' in message
        assert '<absent>' in message
    assert any("'cinder_encryption_key_id': 'k' -> <absent>" in m
               for m in infos)
    assert all(long_key not in r.getMessage() for r in caplog.records)
    debug = [r.getMessage() for r in caplog.records
             if r.levelno == logging.DEBUG and 'heal' in r.getMessage()]
    assert debug and 'changed nothing' in debug[0]


class SilentPolicy(base.SnapshotPolicy):
    """An operator policy that changes things and reports nothing."""

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta['properties']
        properties['added'] = u'nouveau'
        properties['os_distro'] = 'debian'
        properties.pop('cinder_encryption_key_id')
        image_meta['min_ram'] = 512


def test_changes_of_a_silent_plugin_are_logged_by_comparison(config,
                                                             caplog):
    caplog.set_level(logging.INFO)
    use(config, 'snapshot', ['silent'], ('silent', SilentPolicy))
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    infos = sorted(r.getMessage() for r in caplog.records
                   if r.levelno == logging.INFO and 'changed' in
                   r.getMessage())
    assert len(infos) == 4
    joined = u'\n'.join(infos)
    assert u"'added': <absent> -> 'nouveau'" in joined
    assert "'os_distro': 'ubuntu' -> 'debian'" in joined
    assert "'cinder_encryption_key_id': 'k' -> <absent>" in joined
    assert "image['min_ram']: <absent> -> 512" in joined
    assert all('silent' in line and fakes.UUID in line for line in infos)


@pytest.mark.parametrize('count', [0, 500])
def test_snapshot_with_0_and_500_properties(config, count):
    use(config, 'snapshot', ['heal', 'never-inherit'],
        ('heal', heal.HealBaseImageRefPolicy),
        ('never-inherit', never_inherit.NeverInheritPolicy))
    props = dict(('prop_%03d' % i, u'välue %d' % i) for i in range(count))
    props.update(('os_glance_%d' % i, 'x') for i in range(count // 10))
    instance = fakes.InstanceStub(system_metadata=fakes.boot_system_metadata(
        fakes.IMAGE_A, {'properties': props}))
    image_meta, extra = fakes.snapshot_image_meta(instance)
    call_snapshot(instance, image_meta, extra)
    properties = image_meta['properties']
    # + base_image_ref, owner_user_name, owner_project_name (Nova copies
    # every system metadata key), instance_uuid, user_id, image_type
    assert len(properties) == count + 6
    assert not [k for k in properties if k.startswith('os_glance')]


def test_snapshot_empty_metadata_and_odd_values(config):
    use(config, 'snapshot', ['heal', 'never-inherit'],
        ('heal', heal.HealBaseImageRefPolicy),
        ('never-inherit', never_inherit.NeverInheritPolicy))
    instance = fakes.InstanceStub(image_ref='', system_metadata={})
    image_meta = {'properties': {}}
    call_snapshot(instance, image_meta, None)
    assert image_meta == {'properties': {}}
    image_meta = {'properties': {u'ключ': None, 'n': 3, 'l': [1]}}
    call_snapshot(instance, image_meta, {})
    assert image_meta == {'properties': {u'ключ': None, 'n': 3, 'l': [1]}}
    dispatch.snapshot_hook(image_meta=None)
    dispatch.snapshot_hook()
