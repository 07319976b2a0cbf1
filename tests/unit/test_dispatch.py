# -*- coding: utf-8 -*-
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

import importlib
import logging
import sys
import threading
import time
import types

from oslo_config import cfg
import pytest
from stevedore import extension
from stevedore import named

from nova_imgmeta import changes
from nova_imgmeta import dispatch
from nova_imgmeta import exceptions
from nova_imgmeta import loader
from nova_imgmeta.policies import base
from nova_imgmeta.policies import base_image_ref
from nova_imgmeta.policies import builtin
from nova_imgmeta.policies import heal
from nova_imgmeta.policies import never_inherit
from nova_imgmeta.policies import truncated
from nova_imgmeta import registry
from nova_imgmeta import rollback

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


class ExitingSnapshotPolicy(base.SnapshotPolicy):
    """A policy that calls sys.exit() after changing things."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['half_done'] = 'yes'
        sys.exit('policy exits')


class RaisingRebuildPolicy(base.RebuildPolicy):
    def apply(self, context, instance, image_id, image, new_sys_metadata):
        new_sys_metadata['image_half_done'] = 'yes'
        new_sys_metadata.pop('image_os_distro', None)
        raise Boom('policy bug')


class ExitingRebuildPolicy(base.RebuildPolicy):
    def apply(self, context, instance, image_id, image, new_sys_metadata):
        new_sys_metadata['image_half_done'] = 'yes'
        raise SystemExit('policy exits')


class RefusingPolicy(base.SnapshotPolicy):
    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['half_done'] = 'yes'
        raise exceptions.SnapshotRejected('no snapshots of this server')


class CountingRebuildPolicy(base.RebuildPolicy):
    def apply(self, context, instance, image_id, image, new_sys_metadata):
        new_sys_metadata['image_counted'] = 'yes'


class StampingSnapshotPolicy(base.SnapshotPolicy):
    """A third-party policy: changes a property and a top-level key."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['stamped'] = 'yes'
        image_meta['min_ram'] = 512


def manager(conf, *pairs):
    exts = []
    for name, policy in pairs:
        if isinstance(policy, type):
            policy = policy(conf)
        exts.append(extension.Extension(name, None, type(policy), policy))
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


def as_built(image_meta):
    """A deep enough copy of what Nova built, to compare with later."""
    return dict(image_meta, properties=dict(image_meta['properties']))


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


def errors(caplog):
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.ERROR]


# real entry points, cfg.CONF ---------------------------------------------

def test_default_chains_from_the_installed_entry_points():
    assert dispatch.get_chain('rebuild').names == ['base-image-ref']
    snapshot = dispatch.get_chain('snapshot')
    assert snapshot.names == ['heal', 'never-inherit', 'truncated']
    assert [name for name, _why in snapshot.idle] == ['patterns']
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


def test_chains_are_built_once_by_one_thread(config, monkeypatch):
    """Eight threads call both hooks at once on first use: each chain is
    built once, never by two threads at the same time.
    """
    config.config(group='nova_imgmeta', rebuild_policies=['base-image-ref'])
    dispatch.reset(conf=config.conf)
    real_build = loader.build_chain
    builds = []
    running = []
    overlaps = []

    def slow_build(kind, conf, manager=None):
        running.append(kind)
        overlaps.append(len(running))
        time.sleep(0.05)   # lets the other threads run into the loader
        try:
            return real_build(kind, conf, manager=manager)
        finally:
            builds.append(kind)
            running.remove(kind)

    monkeypatch.setattr(loader, 'build_chain', slow_build)
    go = threading.Event()
    results = []

    def worker():
        go.wait()
        image, new = rebuild_case()
        call_rebuild(image, new)
        instance, image_meta, extra = snapshot_case()
        call_snapshot(instance, image_meta, extra)
        leaked = 'cinder_encryption_key_id' in image_meta['properties']
        results.append((new.get('image_base_image_ref'), leaked))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    go.set()
    for thread in threads:
        thread.join()
    assert sorted(builds) == ['rebuild', 'snapshot']
    assert max(overlaps) == 1
    assert results == [(fakes.IMAGE_B, False)] * 8


def test_only_the_named_plugins_of_other_packages_are_imported(config,
                                                               monkeypatch):
    for module in ('nova_imgmeta_example.stamp',
                   'nova_imgmeta_broken.missing_dependency'):
        monkeypatch.delitem(sys.modules, module, raising=False)
    config.config(group='nova_imgmeta', snapshot_policies=['heal'],
                  rebuild_policies=[])
    dispatch.reset(conf=config.conf)
    chain = dispatch.get_chain('snapshot')
    assert chain.names == ['heal'] and chain.errors == []
    assert dispatch.get_chain('rebuild').names == []
    assert 'nova_imgmeta_example.stamp' not in sys.modules
    assert 'nova_imgmeta_broken.missing_dependency' not in sys.modules
    config.config(group='nova_imgmeta',
                  snapshot_policies=['heal', 'stamp-project'])
    dispatch.reset(conf=config.conf)
    assert dispatch.get_chain('snapshot').names == ['heal', 'stamp-project']
    assert 'nova_imgmeta_example.stamp' in sys.modules
    assert 'nova_imgmeta_broken.missing_dependency' not in sys.modules


def test_the_default_chain_copies_nothing(mocker):
    """Built-in policies report their changes: no save of the dict at all
    (Nova's hook runner keeps its own copy for the hook as a whole).
    """
    save = mocker.patch.object(rollback, 'save', wraps=rollback.save)
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert 'cinder_encryption_key_id' not in image_meta['properties']
    assert save.call_count == 0


def test_only_chains_of_built_in_policies_take_the_short_path(config,
                                                              mocker):
    """The default chains run without per-policy tests; one policy of
    another package puts the whole chain back on the general path.
    """
    for kind in ('rebuild', 'snapshot'):
        chain = dispatch.get_chain(kind)
        assert [name for name, _apply in chain.built_in] == chain.names
    short = mocker.spy(dispatch, '_run_built_in')
    use(config, 'snapshot', ['never-inherit', 'stamp'],
        ('never-inherit', _builtin('snapshot', 'never-inherit')),
        ('stamp', StampingSnapshotPolicy))
    assert dispatch.get_chain('snapshot').built_in is None
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert image_meta['properties']['stamped'] == 'yes'
    assert 'cinder_encryption_key_id' not in image_meta['properties']
    assert short.call_count == 0


@pytest.mark.parametrize('hook', ['rebuild_hook', 'resize_hook',
                                  'snapshot_hook'])
def test_each_hook_tells_nova_it_undoes_its_own_changes(hook):
    """Nova's hook runner then keeps no copy of the dict (patch 0002)."""
    assert getattr(dispatch, hook).undoes_own_changes is True


def test_a_refusal_puts_back_what_the_built_in_policies_changed(config,
                                                                mocker):
    """heal adds base_image_ref, never-inherit removes keys, then
    truncated breaks with snapshot_on_error = closed: image_meta is as Nova
    built it, from the changes the policies returned (no copy).
    """
    use(config, 'snapshot', ['heal', 'never-inherit', 'truncated'],
        ('heal', _builtin('snapshot', 'heal')),
        ('never-inherit', _builtin('snapshot', 'never-inherit')),
        ('truncated', _builtin('snapshot', 'truncated')),
        snapshot_on_error='closed', truncated_values='drop')
    assert dispatch.get_chain('snapshot').built_in is not None
    arguments, image_meta = _work_for('snapshot')
    image_meta['properties']['cinder_encryption_key_id'] = 'k'
    nova_built = as_built(image_meta)
    _break(mocker, importlib.import_module('nova_imgmeta.sysmeta'),
           'at_limit', 1)
    undo = mocker.spy(changes, 'undo')
    save = mocker.spy(rollback, 'save')
    with pytest.raises(exceptions.SnapshotRejected) as info:
        dispatch.snapshot_hook(**arguments)
    assert info.value.policy == 'truncated'
    assert image_meta == nova_built
    [(_target, applied), _kwargs] = undo.call_args
    assert [len(found) for found in applied] == [1, 2]   # heal, never-inherit
    assert save.call_count == 0


def test_a_refusal_puts_back_what_other_packages_policies_changed(config):
    """stamp changes a property and a top-level key, heal adds
    base_image_ref, then a policy refuses: all of it is put back.
    """
    use(config, 'snapshot', ['stamp', 'heal', 'refuse'],
        ('stamp', StampingSnapshotPolicy),
        ('heal', _builtin('snapshot', 'heal')),
        ('refuse', RefusingPolicy))
    instance, image_meta, extra = snapshot_case()
    instance.system_metadata.pop('image_base_image_ref')
    image_meta['properties'].pop('base_image_ref')
    nova_built = as_built(image_meta)
    with pytest.raises(exceptions.SnapshotRejected):
        call_snapshot(instance, image_meta, extra)
    assert image_meta == nova_built


# calling policies by keyword --------------------------------------------

class DeclaresLittle(base.SnapshotPolicy):
    """Declares two arguments, in its own order."""

    seen = []

    def apply(self, image_meta, instance):
        DeclaresLittle.seen.append((image_meta, instance))
        image_meta['properties']['little'] = instance.uuid


class TakesKwargs(base.RebuildPolicy):
    seen = []

    def apply(self, new_sys_metadata, **kwargs):
        TakesKwargs.seen.append(sorted(kwargs))
        new_sys_metadata['image_kwargs'] = 'yes'


def test_policies_get_only_what_they_declare_by_keyword(config):
    DeclaresLittle.seen = []
    use(config, 'snapshot', ['little'], ('little', DeclaresLittle))
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert DeclaresLittle.seen == [(image_meta, instance)]
    assert image_meta['properties']['little'] == fakes.UUID


def test_policies_with_kwargs_get_every_offered_argument(config):
    TakesKwargs.seen = []
    use(config, 'rebuild', ['kw'], ('kw', TakesKwargs))
    image, new = rebuild_case()
    call_rebuild(image, new)
    # the hook's own future_argument is not passed on: only the contract's
    assert TakesKwargs.seen == [['context', 'image', 'image_id', 'instance']]
    assert new['image_kwargs'] == 'yes'


class ReversedOrder(base.SnapshotPolicy):
    """Every argument, in the reverse of the order of KINDS."""

    seen = []

    def apply(self, extra_properties, image_meta, instance, context):
        ReversedOrder.seen.append((extra_properties, image_meta, instance,
                                   context))


def _recorder(kind):
    """A policy of ``kind`` that records what it gets by keyword."""
    seen = []

    def apply(self, **kwargs):
        seen.append(kwargs)

    cls = type('Records' + kind.title(), (base.KINDS[kind].base_class,),
               {'apply': apply})
    return cls, seen


def test_hook_arguments_travel_by_name(config, monkeypatch):
    """Regression test of issue 18, item 5: the hooks handed their
    arguments over as a tuple that had to follow the order of KINDS; they
    pass them by name, so that order is no contract between them.
    """
    kind = base.KINDS['snapshot']
    monkeypatch.setitem(base.KINDS, 'snapshot', kind._replace(
        arguments=tuple(reversed(kind.arguments))))
    ReversedOrder.seen = []
    recorder, seen = _recorder('snapshot')
    use(config, 'snapshot', ['reversed', 'recorder'],
        ('reversed', ReversedOrder), ('recorder', recorder))
    [reversed_, _recorded] = dispatch.get_chain('snapshot').policies
    assert reversed_.keywords is loader.IN_ORDER   # called by position
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert ReversedOrder.seen == [(extra, image_meta, instance, None)]
    assert seen == [{'context': None, 'instance': instance,
                     'image_meta': image_meta, 'extra_properties': extra}]


@pytest.mark.parametrize('kind', sorted(base.KINDS))
def test_each_hook_offers_the_arguments_of_its_kind(config, kind):
    recorder, seen = _recorder(kind)
    use(config, kind, ['recorder'], ('recorder', recorder))
    context, instance = object(), fakes.InstanceStub()
    target = {'image_x': 'y'}
    if kind == 'rebuild':
        image = {'properties': {}}
        dispatch.rebuild_hook(context=context, instance=instance,
                              image_id=fakes.IMAGE_B, image=image,
                              new_sys_metadata=target, future_argument=1)
        expected = {'image_id': fakes.IMAGE_B, 'image': image,
                    'new_sys_metadata': target}
    elif kind == 'resize':
        dispatch.resize_hook(context=context, instance=instance,
                             new_sys_metadata=target, future_argument=1)
        expected = {'new_sys_metadata': target}
    else:
        extra = {'image_type': 'snapshot'}
        dispatch.snapshot_hook(context=context, instance=instance,
                               image_meta=target, extra_properties=extra,
                               future_argument=1)
        expected = {'image_meta': target, 'extra_properties': extra}
    expected.update(context=context, instance=instance)
    assert sorted(expected) == sorted(base.KINDS[kind].arguments)
    [got] = seen
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        assert got[name] is value, name


# rebuild containment ------------------------------------------------------

@pytest.mark.parametrize('failing', [RaisingRebuildPolicy,
                                     ExitingRebuildPolicy])
def test_rebuild_policy_that_raises_is_undone_and_the_chain_goes_on(
        config, caplog, failing):
    use(config, 'rebuild', ['base-image-ref', 'boom', 'counted'],
        ('base-image-ref', _builtin('rebuild', 'base-image-ref')),
        ('boom', failing), ('counted', CountingRebuildPolicy))
    image, new = rebuild_case()
    before = dict(new)
    call_rebuild(image, new)
    assert new == dict(before, image_counted='yes',
                       image_base_image_ref=fakes.IMAGE_B)
    [error] = errors(caplog)
    assert 'boom' in error and fakes.UUID in error


def _builtin(kind, name):
    [cls] = [policy.cls for policy in builtin.builtin_policies()
             if policy.kind == kind and policy.name == name]
    return cls


def test_rebuild_load_failures_never_raise(config, caplog):
    config.config(group='nova_imgmeta',
                  rebuild_policies=['no-such-policy', 'base-image-ref'])
    dispatch.reset(conf=config.conf)
    image, new = rebuild_case()
    call_rebuild(image, new)
    assert new['image_base_image_ref'] == fakes.IMAGE_B
    messages = ' '.join(errors(caplog))
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


@pytest.mark.parametrize('error', [RuntimeError('stevedore exploded'),
                                   SystemExit('exit while loading')])
def test_rebuild_survives_a_broken_loader(config, mocker, caplog, error):
    dispatch.reset(conf=config.conf)
    mocker.patch.object(loader, 'build_chain', side_effect=error)
    image, new = rebuild_case()
    before = dict(new)
    call_rebuild(image, new)
    assert new == before
    assert 'could not be loaded' in caplog.text


@pytest.mark.parametrize('new', [None, 'not-a-dict', ['image_x']])
def test_rebuild_odd_arguments_load_and_change_nothing(mocker, new):
    build = mocker.patch.object(loader, 'build_chain')
    assert dispatch.rebuild_hook(new_sys_metadata=new) is None
    assert dispatch.rebuild_hook() is None
    assert dispatch.snapshot_hook(image_meta=new) is None
    assert not build.called
    assert new in (None, 'not-a-dict', ['image_x'])


# snapshot containment -----------------------------------------------------

def test_snapshot_fail_open_undoes_only_the_failing_policy(config, caplog):
    use(config, 'snapshot', ['never-inherit', 'boom', 'heal'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('boom', RaisingSnapshotPolicy),
        ('heal', heal.HealBaseImageRefPolicy))
    instance, image_meta, extra = snapshot_case()
    instance.system_metadata.pop('image_base_image_ref')
    image_meta['properties'].pop('base_image_ref')
    properties = image_meta['properties']
    nova_built = as_built(image_meta)
    call_snapshot(instance, image_meta, extra)
    expected = as_built(nova_built)
    for key in ('cinder_encryption_key_id', 'os_glance_x'):
        del expected['properties'][key]     # never-inherit: kept done
    expected['properties']['base_image_ref'] = fakes.IMAGE_A   # heal ran
    assert image_meta == expected
    assert image_meta['properties'] is properties
    [error] = errors(caplog)
    assert 'boom' in error and 'undone' in error


def test_a_failing_builtin_policy_does_not_leak_the_key_again(config,
                                                              mocker):
    """truncated failing after never-inherit: the encryption key id stays
    removed (a whole-chain undo used to copy it to the snapshot again).
    """
    mocker.patch.object(truncated, 'cut_short',
                        side_effect=RuntimeError('truncated bug'))
    dispatch.reset(conf=config.conf)
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert 'cinder_encryption_key_id' not in image_meta['properties']
    assert 'os_glance_x' not in image_meta['properties']


def _break(mocker, target, name, after):
    """Make ``target.name`` raise from its call number ``after + 1`` on."""
    real = getattr(target, name)
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        if len(calls) > after:
            raise Boom('%s broke' % name)
        return real(*args, **kwargs)

    mocker.patch.object(target, name, side_effect=broken)


class _RaisingDict(dict):
    """System metadata that cannot be read: ``get`` raises."""

    def get(self, *args):
        raise Boom('system_metadata.get broke')


def _breaks(module, function, after=0):
    """Make ``module.function`` raise from its call number ``after + 1``."""
    def arrange(mocker, arguments):
        _break(mocker, importlib.import_module(module), function, after)
    return arrange


def _unreadable_system_metadata(mocker, arguments):
    instance = arguments['instance']
    instance.system_metadata = _RaisingDict(instance.system_metadata)


#: How each built-in policy is made to fail while it decides: the options
#: it runs with, and what breaks. Keyed by (kind, name): the test runs for
#: every policy of the built-in catalogue (BUILTIN_FAILURES), and fails for
#: one that is not listed here.
HOW_TO_BREAK = {
    ('rebuild', 'base-image-ref'): (
        {}, _breaks('nova_imgmeta.lineage', 'base_image_ref')),
    ('resize', 'base-image-ref'): ({}, _unreadable_system_metadata),
    ('snapshot', 'heal'): (
        {}, _breaks('nova_imgmeta.lineage', 'base_image_ref')),
    ('snapshot', 'never-inherit'): (
        {}, _breaks('nova_imgmeta.policies.never_inherit', '_doomed')),
    ('snapshot', 'patterns'): (
        {'deny_patterns': ['custom_*', 'hw_*']},
        _breaks('nova_imgmeta.policies.patterns', '_matches', 3)),
    ('snapshot', 'truncated'): (
        {'truncated_values': 'drop'},
        _breaks('nova_imgmeta.sysmeta', 'at_limit', 1)),
}

BUILTIN_FAILURES = sorted((policy.kind, policy.name)
                          for policy in builtin.builtin_policies())


def _work_for(kind):
    """``(arguments, target)``: a case that gives a policy of ``kind``
    something to decide about (and heal something to add).
    """
    if kind == 'rebuild':
        image, new = rebuild_case()
        return {'context': None, 'instance': fakes.InstanceStub(),
                'image_id': fakes.IMAGE_B, 'image': image,
                'new_sys_metadata': new}, new
    if kind == 'resize':
        instance = fakes.InstanceStub(
            image_ref=fakes.IMAGE_B,
            system_metadata={'image_base_image_ref': fakes.ROOT})
        new = {'image_base_image_ref': fakes.IMAGE_B}
        return {'context': None, 'instance': instance,
                'new_sys_metadata': new}, new
    long_value = u'x' * 255
    instance, image_meta, extra = snapshot_case(
        custom_a='1', custom_b='2', hw_c='3', hw_d='4', long_a=long_value,
        long_b=long_value, long_c=long_value)
    del instance.system_metadata['image_base_image_ref']
    del image_meta['properties']['base_image_ref']
    return {'context': None, 'instance': instance, 'image_meta': image_meta,
            'extra_properties': extra}, image_meta


@pytest.mark.parametrize('kind,name', BUILTIN_FAILURES)
def test_a_builtin_policy_that_fails_has_changed_nothing(
        config, mocker, kind, name):
    """What the dispatcher relies on to spare the copy: a built-in policy
    decides, then applies its changes in one step that cannot fail.
    """
    assert (kind, name) in HOW_TO_BREAK, (
        'a new built-in policy: say in HOW_TO_BREAK how it fails while it '
        'decides')
    options, arrange = HOW_TO_BREAK[(kind, name)]
    config.config(group='nova_imgmeta', **options)
    policy = _builtin(kind, name)(config.conf)
    arguments, target = _work_for(kind)
    before = as_built(target) if kind == 'snapshot' else dict(target)
    arrange(mocker, arguments)
    with pytest.raises(Boom):
        policy.apply(**arguments)
    assert target == before


def test_a_failing_builtin_policy_leaves_the_others_applied(config):
    """Fail-open: a built-in policy that raises (here: its decision step)
    changes nothing; the policies before and after it still apply.
    """
    broken = never_inherit.NeverInheritPolicy(config.conf)

    def fails(context, instance, image_meta, extra_properties):
        raise Boom('never-inherit bug')

    broken.apply = fails
    use(config, 'snapshot', ['heal', 'never-inherit', 'stamp'],
        ('heal', heal.HealBaseImageRefPolicy), ('never-inherit', broken),
        ('stamp', StampingSnapshotPolicy))
    chain = dispatch.get_chain('snapshot')
    assert [bound.trusted for bound in chain.policies] == [True, True, False]
    instance, image_meta, extra = snapshot_case()
    instance.system_metadata.pop('image_base_image_ref')
    image_meta['properties'].pop('base_image_ref')
    expected = as_built(image_meta)
    call_snapshot(instance, image_meta, extra)
    expected['properties'].update(base_image_ref=fakes.IMAGE_A,
                                  stamped='yes')
    expected['min_ram'] = 512
    assert image_meta == expected


def test_a_failing_policy_undoes_only_its_own_changes(config):
    """A third-party policy that raises is put back from its own copy;
    what the one before it did stays, top-level keys included.
    """
    use(config, 'snapshot', ['stamp', 'boom'],
        ('stamp', StampingSnapshotPolicy), ('boom', RaisingSnapshotPolicy))
    instance, image_meta, extra = snapshot_case()
    expected = as_built(image_meta)
    call_snapshot(instance, image_meta, extra)
    expected['properties']['stamped'] = 'yes'
    expected['min_ram'] = 512
    assert image_meta == expected


class NestedChanger(base.SnapshotPolicy):
    """A third-party policy that changes a dict other than properties."""

    def apply(self, image_meta, **kwargs):
        image_meta['nested']['added'] = 'yes'
        image_meta['properties']['nested_changed'] = 'yes'


class NestedBreaker(base.SnapshotPolicy):
    """A third-party policy that changes nested dicts, then raises."""

    def apply(self, image_meta, **kwargs):
        image_meta['nested']['broken'] = 'yes'
        image_meta['nested'].pop('kept')
        image_meta['properties'].pop('os_distro')
        image_meta['nested'] = {}
        raise Boom('nested breaker')


def test_every_dict_a_third_party_policy_may_change_is_saved(config):
    use(config, 'snapshot', ['nested', 'breaker'],
        ('nested', NestedChanger), ('breaker', NestedBreaker))
    instance, image_meta, extra = snapshot_case()
    image_meta['nested'] = {'kept': 1}
    nested = image_meta['nested']
    expected = dict(as_built(image_meta), nested={'kept': 1, 'added': 'yes'})
    expected['properties']['nested_changed'] = 'yes'
    call_snapshot(instance, image_meta, extra)
    assert image_meta == expected
    assert image_meta['nested'] is nested


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


@pytest.mark.parametrize('failing', [RaisingSnapshotPolicy,
                                     ExitingSnapshotPolicy])
def test_snapshot_fail_closed_rejects(config, failing):
    use(config, 'snapshot', ['never-inherit', 'boom'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('boom', failing), snapshot_on_error='closed')
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert info.value.policy == 'boom'
    assert 'boom' in str(info.value) and fakes.UUID in str(info.value)
    # No image is created; what the policies changed is put back by Nova's
    # hook runner (patch 0002), which saved the dict before the hook.
    assert image_meta['properties'].get('half_done') is None


def test_snapshot_fail_closed_rejects_when_a_policy_failed_to_load(config):
    use(config, 'snapshot', ['heal', 'no-such-policy'],
        ('heal', heal.HealBaseImageRefPolicy), snapshot_on_error='closed')
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert 'no-such-policy' in str(info.value)
    assert 'snapshot_policies' in str(info.value)


@pytest.mark.parametrize('error', [RuntimeError('stevedore exploded'),
                                   SystemExit('exit while loading')])
def test_fail_closed_holds_when_the_chain_cannot_load(config, mocker,
                                                      caplog, error):
    config.config(group='nova_imgmeta', snapshot_on_error='closed')
    dispatch.reset(conf=config.conf)
    mocker.patch.object(loader, 'build_chain', side_effect=error)
    instance, image_meta, extra = snapshot_case()
    nova_built = as_built(image_meta)
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    message = str(info.value)
    assert 'could not be loaded' in message
    assert 'snapshot_on_error = closed' in message
    assert str(error) in message
    assert image_meta == nova_built
    assert 'policy None' not in caplog.text


def test_fail_open_when_the_chain_cannot_load(config, mocker, caplog):
    dispatch.reset(conf=config.conf)
    mocker.patch.object(loader, 'build_chain',
                        side_effect=RuntimeError('stevedore exploded'))
    instance, image_meta, extra = snapshot_case()
    nova_built = as_built(image_meta)
    call_snapshot(instance, image_meta, extra)
    assert image_meta == nova_built
    [error] = errors(caplog)
    assert 'could not be loaded' in error and 'policy None' not in error


@pytest.mark.parametrize('chain_loads', [True, False])
def test_invalid_on_error_value_is_handled_as_closed(conf_file, mocker,
                                                     caplog, chain_loads):
    conf = conf_file('[nova_imgmeta]\nsnapshot_on_error = ajar\n'
                     'snapshot_policies = heal,no-such-policy\n')
    dispatch.reset(conf=conf)
    if not chain_loads:
        mocker.patch.object(loader, 'build_chain',
                            side_effect=RuntimeError('stevedore exploded'))
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert 'snapshot_on_error' in str(info.value)
    assert 'ajar' in str(info.value)
    assert 'snapshot_on_error' in caplog.text


def test_invalid_on_error_value_changes_nothing_while_all_is_well(conf_file):
    conf = conf_file('[nova_imgmeta]\nsnapshot_on_error = ajar\n')
    dispatch.reset(conf=conf)
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    assert 'cinder_encryption_key_id' not in image_meta['properties']


@pytest.mark.parametrize('mode', ['open', 'closed'])
def test_policy_may_refuse_a_snapshot(config, mode):
    use(config, 'snapshot', ['refuse'], ('refuse', RefusingPolicy),
        snapshot_on_error=mode)
    instance, image_meta, extra = snapshot_case()
    nova_built = as_built(image_meta)
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert info.value.policy == 'refuse'
    assert 'no snapshots of this server' in str(info.value)
    assert image_meta == nova_built


class GreenletExit(BaseException):
    """Stands for greenlet's GreenletExit: recognised by its name."""


class KilledGreenThread(GreenletExit):
    pass


@pytest.mark.parametrize('error', [KeyboardInterrupt, GeneratorExit,
                                   GreenletExit, KilledGreenThread])
def test_what_is_not_contained_goes_through_both_hooks(config, error):
    def raising(**kwargs):
        raise error()

    rebuild = CountingRebuildPolicy(config.conf)
    rebuild.apply = raising
    snapshot = heal.HealBaseImageRefPolicy(config.conf)
    snapshot.apply = raising
    config.config(group='nova_imgmeta', rebuild_policies=['x'],
                  snapshot_policies=['x'])
    dispatch.reset(conf=config.conf, managers={
        'rebuild': manager(config.conf, ('x', rebuild)),
        'snapshot': manager(config.conf, ('x', snapshot))})
    with pytest.raises(error):
        call_rebuild(*rebuild_case())
    with pytest.raises(error):
        call_snapshot(*snapshot_case())


def test_propagates_knows_what_goes_through():
    assert exceptions.propagates(KeyboardInterrupt())
    assert exceptions.propagates(KilledGreenThread())
    assert not exceptions.propagates(SystemExit())
    assert not exceptions.propagates(AssertionError())
    assert not exceptions.propagates(MemoryError())


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


def test_rejection_is_plain_without_nova(monkeypatch):
    monkeypatch.setitem(sys.modules, 'nova', None)   # import nova fails
    exceptions._reset_for_tests()
    assert exceptions.snapshot_rejected_class() is exceptions.SnapshotRejected


# logging and odd data -----------------------------------------------------

def test_one_info_line_per_change_and_no_long_value(config, caplog):
    caplog.set_level(logging.DEBUG)
    use(config, 'snapshot', ['never-inherit', 'heal'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        ('heal', heal.HealBaseImageRefPolicy))
    long_value = 'z' * 300
    instance, image_meta, extra = snapshot_case()
    image_meta['properties']['os_glance_long'] = long_value
    call_snapshot(instance, image_meta, extra)
    infos = [r.getMessage() for r in caplog.records
             if r.levelno == logging.INFO and 'changed' in r.getMessage()]
    assert len(infos) == 3
    for message in infos:
        assert fakes.UUID in message and 'never-inherit' in message
        assert '<absent>' in message
    assert any("'cinder_encryption_key_id': 'k' -> <absent>" in m
               for m in infos)
    assert all(long_value not in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records
                if 'policy heal' in r.getMessage()]   # changed nothing


class SilentPolicy(base.SnapshotPolicy):
    """An operator policy that changes things and reports nothing."""

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta['properties']
        properties['added'] = u'nouveau'
        properties['os_distro'] = 'debian'
        properties.pop('cinder_encryption_key_id')
        image_meta['min_ram'] = 512


class LyingPolicy(SilentPolicy):
    """Returns a change list that misses most of what it did."""

    def apply(self, context, instance, image_meta, extra_properties):
        super(LyingPolicy, self).apply(context, instance, image_meta,
                                       extra_properties)
        return []


@pytest.mark.parametrize('cls', [SilentPolicy, LyingPolicy])
def test_changes_of_other_policies_are_found_by_comparison(config, caplog,
                                                           cls):
    caplog.set_level(logging.INFO)
    use(config, 'snapshot', ['silent'], ('silent', cls))
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


def test_registry_reset_forgets_chains_and_mode(config):
    config.config(group='nova_imgmeta', snapshot_on_error='closed')
    registry.reset(conf=config.conf)
    assert registry.snapshot_failure_mode() == ('closed', None)
    first = registry.get_chain('snapshot')
    assert registry.get_chain('snapshot') is first
    config.config(group='nova_imgmeta', snapshot_on_error='open')
    registry.reset(conf=config.conf)
    assert registry.snapshot_failure_mode() == ('open', None)
    assert registry.get_chain('snapshot') is not first


# issue 17, item 1: a policy attribute that raises when read -------------

@pytest.mark.parametrize('broken', ['broken-idle-option',
                                    'broken-apply-option',
                                    'broken-idle-exit',
                                    'broken-apply-timeout'])
def test_broken_attribute_costs_only_its_policy(config, caplog, broken):
    """The whole chain used to be lost: cinder_encryption_key_id was
    copied into the snapshot and the error logged on every snapshot.
    """
    config.config(group='nova_imgmeta', snapshot_policies=[
        'heal', broken, 'never-inherit', 'patterns', 'truncated'])
    dispatch.reset(conf=config.conf)
    for _ in range(2):
        instance, image_meta, extra = snapshot_case()
        call_snapshot(instance, image_meta, extra)
        assert 'cinder_encryption_key_id' not in image_meta['properties']
        assert 'os_glance_x' not in image_meta['properties']
    assert dispatch.get_chain('snapshot').names == [
        'heal', 'never-inherit', 'truncated']
    [error] = errors(caplog)   # logged once, at load
    assert broken in error and 'snapshot_policies' in error
    assert 'could not be loaded' not in caplog.text


def test_broken_attribute_in_the_rebuild_chain(config, caplog):
    config.config(group='nova_imgmeta', rebuild_policies=[
        'broken-idle-option', 'base-image-ref'])
    dispatch.reset(conf=config.conf)
    for _ in range(2):
        image, new = rebuild_case()
        new.pop('image_base_image_ref', None)
        call_rebuild(image, new)
        assert new['image_base_image_ref'] == fakes.IMAGE_B
    [error] = errors(caplog)
    assert 'broken-idle-option' in error


def test_closed_refusal_names_the_broken_policy(config):
    """closed refuses as for any policy that failed to load, naming it
    (not "the snapshot policies could not be loaded").
    """
    config.config(group='nova_imgmeta', snapshot_on_error='closed',
                  snapshot_policies=['never-inherit', 'broken-idle-option'])
    dispatch.reset(conf=config.conf)
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert info.value.policy == 'broken-idle-option'
    assert 'could not be loaded' not in str(info.value)


# issue 17, item 2: an apply that returns without running -----------------

class ReturnsAGenerator(base.SnapshotPolicy):
    """A plain apply that hands back a generator: its work never runs.
    (One that cannot be told at load: a plain function.)
    """

    def apply(self, image_meta, **kwargs):
        image_meta['properties']['half_done'] = 'yes'

        def later():
            image_meta['properties']['never'] = 'reached'
            yield
        return later()


def test_apply_returning_a_generator_is_a_failure(config, caplog):
    use(config, 'snapshot', ['gen', 'never-inherit'],
        ('gen', ReturnsAGenerator),
        ('never-inherit', never_inherit.NeverInheritPolicy))
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    properties = image_meta['properties']
    assert 'half_done' not in properties and 'never' not in properties
    assert 'cinder_encryption_key_id' not in properties
    [error] = errors(caplog)
    assert 'gen' in error and 'undone' in error
    assert 'returned a generator' in caplog.text


@pytest.mark.skipif(sys.version_info < (3, 5), reason='async def')
def test_apply_returning_a_coroutine_is_closed_and_a_failure(config, caplog,
                                                             recwarn):
    namespace = {}
    exec('async def later(meta):\n    meta["never"] = "reached"\n',
         namespace)

    class ReturnsACoroutine(base.SnapshotPolicy):
        def apply(self, image_meta, **kwargs):
            return namespace['later'](image_meta['properties'])

    use(config, 'snapshot', ['coro'], ('coro', ReturnsACoroutine),
        snapshot_on_error='closed')
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert 'returned a coroutine' in str(info.value)
    import gc
    gc.collect()
    assert not [w for w in recwarn.list if 'never awaited' in str(w.message)]


# issue 17, item 3: what the log says when nova-imgmeta itself fails -------

def _logging_breaks(mocker, target='log_changes'):
    from nova_imgmeta import changes
    return mocker.patch.object(changes, target,
                               side_effect=RuntimeError('log broke'))


def test_rebuild_log_says_the_policy_changes_are_kept(config, mocker,
                                                      caplog):
    """"system metadata left as Nova built it" was logged although the
    policy's change was kept.
    """
    config.config(group='nova_imgmeta', base_image_ref_mode='boot')
    dispatch.reset(conf=config.conf)
    image, new = rebuild_case()
    new.pop('image_base_image_ref', None)
    _logging_breaks(mocker)
    call_rebuild(image, new)
    assert new['image_base_image_ref'] == fakes.IMAGE_B   # kept
    [error] = errors(caplog)
    assert 'as Nova built it' not in error
    assert 'base-image-ref' in error and fakes.UUID in error
    assert 'are kept' in error


@pytest.mark.parametrize('trusted', [True, False])
def test_snapshot_log_says_the_policy_changes_are_kept(config, mocker,
                                                       caplog, trusted):
    if trusted:
        use(config, 'snapshot', ['never-inherit', 'heal'],
            ('never-inherit', never_inherit.NeverInheritPolicy),
            ('heal', heal.HealBaseImageRefPolicy))
        _logging_breaks(mocker)
    else:
        use(config, 'snapshot', ['stamp', 'heal'],
            ('stamp', StampingSnapshotPolicy),
            ('heal', heal.HealBaseImageRefPolicy))
        mocker.patch.object(rollback, 'diff',
                            side_effect=RuntimeError('diff broke'))
    instance, image_meta, extra = snapshot_case()
    call_snapshot(instance, image_meta, extra)
    name = 'never-inherit' if trusted else 'stamp'
    if trusted:
        assert 'cinder_encryption_key_id' not in image_meta['properties']
    else:
        assert image_meta['properties']['stamped'] == 'yes'
    [error] = errors(caplog)
    assert 'as Nova built it' not in error
    assert ('policy %s' % name) in error and 'are kept' in error


def test_snapshot_closed_log_says_nova_puts_it_back(config, mocker, caplog):
    use(config, 'snapshot', ['never-inherit'],
        ('never-inherit', never_inherit.NeverInheritPolicy),
        snapshot_on_error='closed')
    _logging_breaks(mocker)
    instance, image_meta, extra = snapshot_case()
    with pytest.raises(exceptions.SnapshotRejected) as info:
        call_snapshot(instance, image_meta, extra)
    assert 'never-inherit' in str(info.value)
    [error] = errors(caplog)
    assert 'refused' in error and 'never-inherit' in error


@pytest.mark.parametrize('kind', ['rebuild', 'snapshot'])
def test_save_failure_skips_the_policy_and_says_so(config, mocker, caplog,
                                                   kind):
    if kind == 'rebuild':
        use(config, 'rebuild', ['counted', 'base-image-ref'],
            ('counted', CountingRebuildPolicy),
            ('base-image-ref', _builtin('rebuild', 'base-image-ref')))
    else:
        use(config, 'snapshot', ['never-inherit', 'stamp'],
            ('never-inherit', never_inherit.NeverInheritPolicy),
            ('stamp', StampingSnapshotPolicy))
    mocker.patch.object(rollback, 'save',
                        side_effect=MemoryError('no room to save'))
    if kind == 'rebuild':
        image, new = rebuild_case()
        new.pop('image_base_image_ref', None)
        call_rebuild(image, new)
        assert 'image_counted' not in new
        assert new['image_base_image_ref'] == fakes.IMAGE_B
        name = 'counted'
    else:
        instance, image_meta, extra = snapshot_case()
        call_snapshot(instance, image_meta, extra)
        assert 'stamped' not in image_meta['properties']
        assert 'cinder_encryption_key_id' not in image_meta['properties']
        name = 'stamp'
    [error] = errors(caplog)
    assert 'as Nova built it' not in error
    assert 'policy %s' % name in error and 'did not run' in error


@pytest.mark.parametrize('kind', ['rebuild', 'snapshot'])
def test_undo_failure_is_raised_to_nova_and_says_so(config, mocker, caplog,
                                                    kind):
    """When a failing policy's changes cannot be put back, nova-imgmeta
    cannot vouch for its per-policy undo: it raises, and puts the dict back
    as it was before the hook from its copy of the whole dict (Nova's
    runner keeps none: the hooks undo their own changes); the log says so.
    """
    failing = RaisingRebuildPolicy if kind == 'rebuild' else \
        RaisingSnapshotPolicy
    use(config, kind, ['boom'], ('boom', failing))
    real = rollback.restore
    calls = []

    def restore_breaks_once(target, saved):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError('restore broke')
        return real(target, saved)

    mocker.patch.object(rollback, 'restore', side_effect=restore_breaks_once)
    if kind == 'rebuild':
        image, target = rebuild_case()
        before = dict(target)
        with pytest.raises(RuntimeError):
            call_rebuild(image, target)
    else:
        instance, target, extra = snapshot_case()
        before = as_built(target)
        with pytest.raises(RuntimeError):
            call_snapshot(instance, target, extra)
    assert target == before
    assert len(calls) == 2
    [error] = errors(caplog)
    assert 'policy boom' in error and 'could not undo' in error
    assert 'as it was before the hook' in error


# resize (Nova Wallaby and later) -------------------------------------------

class RaisingResizePolicy(base.ResizePolicy):
    def apply(self, context, instance, new_sys_metadata):
        new_sys_metadata['image_base_image_ref'] = 'half-done'
        new_sys_metadata['image_half'] = 'done'
        raise RuntimeError('resize policy failed')


def call_resize(instance, new):
    dispatch.resize_hook(context=None, instance=instance,
                         new_sys_metadata=new, future_argument=1)


def resize_from_image_b():
    """Resize a server of image B whose lineage starts at ROOT, Nova
    (Wallaby on) setting image B as the base: the system metadata the
    hook leaves.
    """
    instance = fakes.InstanceStub(
        image_ref=fakes.IMAGE_B,
        system_metadata={'image_base_image_ref': fakes.ROOT})
    new = {'image_base_image_ref': fakes.IMAGE_B}
    call_resize(instance, new)
    return new


def test_resize_default_chain_keeps_the_lineage():
    assert dispatch.get_chain('resize').names == ['base-image-ref']
    assert resize_from_image_b() == {'image_base_image_ref': fakes.ROOT}


def test_resize_policy_that_raises_is_undone(config, caplog):
    use(config, 'resize', ['raising', 'base-image-ref'],
        ('raising', RaisingResizePolicy),
        ('base-image-ref', base_image_ref.KeepBaseImageRefPolicy))
    assert resize_from_image_b() == {'image_base_image_ref': fakes.ROOT}
    assert any('policy raising failed; its changes are undone' in message
               and message.startswith('nova-imgmeta: resize of instance')
               for message in errors(caplog))


@pytest.mark.parametrize('new', [None, 'not-a-dict'])
def test_resize_odd_arguments_change_nothing(new):
    call_resize(fakes.InstanceStub(), new)


def test_resize_survives_a_broken_loader(mocker, caplog):
    mocker.patch.object(dispatch.registry, 'get_chain',
                        side_effect=RuntimeError('stevedore exploded'))
    new = {'image_base_image_ref': fakes.IMAGE_B}
    call_resize(fakes.InstanceStub(), new)
    assert new == {'image_base_image_ref': fakes.IMAGE_B}
    assert any('resize policies could not be loaded' in message
               for message in errors(caplog))
