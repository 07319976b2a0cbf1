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

"""Loading chains, with the example plugin (tests/unit/example_plugin) and
the broken ones (tests/unit/fixtures/broken_plugins) installed by tox."""

import logging
import sys

import pytest
from stevedore import extension
from stevedore import named

from nova_imgmeta import exceptions
from nova_imgmeta import loader
from nova_imgmeta.policies import base
from nova_imgmeta.policies import heal
from nova_imgmeta import signature

import nova_imgmeta_broken  # noqa: F401  (tests/unit/fixtures, via tox)
import nova_imgmeta_example  # noqa: F401  (tests/unit/example_plugin)


def test_default_chains_load_from_entry_points(conf):
    rebuild = loader.build_chain('rebuild', conf)
    snapshot = loader.build_chain('snapshot', conf)
    assert rebuild.names == ['base-image-ref']
    assert snapshot.names == ['heal', 'never-inherit', 'truncated']
    assert snapshot.idle == [
        ('patterns', 'deny_patterns and allow_only_patterns are empty')]
    assert snapshot.describe() == (
        'heal, never-inherit, truncated; idle: patterns (deny_patterns and '
        'allow_only_patterns are empty)')
    assert not rebuild.errors and not snapshot.errors
    assert all(bound.trusted for bound in rebuild.policies)
    assert all(bound.trusted for bound in snapshot.policies)


def test_patterns_run_once_there_are_patterns(config):
    config.config(group='nova_imgmeta', deny_patterns=['hw_*'])
    snapshot = loader.build_chain('snapshot', config.conf)
    assert snapshot.names == ['heal', 'never-inherit', 'patterns',
                              'truncated']
    assert snapshot.idle == []


def test_configured_order_is_kept(config):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['truncated', 'heal'])
    assert loader.build_chain('snapshot', config.conf).names == [
        'truncated', 'heal']


def test_unknown_policy_is_one_error_naming_what_is_installed(config,
                                                              caplog):
    config.config(group='nova_imgmeta', snapshot_policies=['hael', 'heal'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['heal']
    [error] = chain.errors
    assert error.policy == 'hael'
    assert error.option == 'snapshot_policies'
    text = str(error)
    assert '[nova_imgmeta] snapshot_policies' in text
    assert 'unknown policy' in text and 'never-inherit' in text
    # stevedore's own "Could not load hael" is not logged beside it
    assert not [r for r in caplog.records if 'hael' in r.getMessage()]


def test_duplicate_name(config):
    config.config(group='nova_imgmeta', snapshot_policies=['heal', 'heal'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['heal']
    assert 'more than once' in str(chain.errors[0])


def test_bad_option_of_a_policy_is_a_load_error_naming_the_option(config):
    config.config(group='nova_imgmeta', deny_patterns=['hw_[x'])
    chain = loader.build_chain('snapshot', config.conf)
    assert 'patterns' not in chain.names
    [error] = chain.errors
    assert error.policy == 'patterns'
    assert '[nova_imgmeta] deny_patterns' in str(error)


def test_wrong_kind_of_plugin_is_refused(conf):
    exts = [extension.Extension('heal', None, heal.HealBaseImageRefPolicy,
                                heal.HealBaseImageRefPolicy(conf))]
    mgr = named.NamedExtensionManager.make_test_instance(exts)
    conf.set_override('rebuild_policies', ['heal'], group='nova_imgmeta')
    chain = loader.build_chain('rebuild', conf, manager=mgr)
    assert chain.names == []
    assert 'is not a nova_imgmeta.policies.base.RebuildPolicy' in str(
        chain.errors[0])
    assert "'heal'" in str(chain.errors[0])


def test_empty_list_loads_nothing(config):
    config.config(group='nova_imgmeta', snapshot_policies=[])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == [] and chain.errors == []


def test_example_operator_plugin_loads_from_its_entry_point(config):
    from nova_imgmeta_example import stamp
    config.config(group='nova_imgmeta',
                  snapshot_policies=['never-inherit', 'stamp-project'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['never-inherit', 'stamp-project']
    assert isinstance(chain.policies[1].policy, stamp.StampProjectPolicy)
    assert not chain.policies[1].trusted
    assert chain.policies[1].keywords == ('instance', 'image_meta',
                                          'extra_properties')


def test_example_plugin_through_the_dispatcher(config):
    from nova_imgmeta import dispatch

    from . import fakes
    config.config(group='nova_imgmeta',
                  snapshot_policies=['heal', 'stamp-project'])
    dispatch.reset(conf=config.conf)
    instance = fakes.InstanceStub(project_id='proj-42', system_metadata={})
    image_meta, extra = fakes.snapshot_image_meta(instance)
    dispatch.snapshot_hook(context=None, instance=instance,
                           image_meta=image_meta, extra_properties=extra)
    assert image_meta['properties']['source_project_id'] == 'proj-42'


def test_plugin_that_fails_to_import(config):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['broken-import', 'heal'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['heal']
    [error] = chain.errors
    assert error.policy == 'broken-import'
    assert 'failed to load' in str(error)
    assert 'nova_imgmeta_broken_missing_dependency' in str(error)


def test_plugin_that_is_not_a_policy(config):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['broken-not-a-policy'])
    chain = loader.build_chain('snapshot', config.conf)
    [error] = chain.errors
    assert error.policy == 'broken-not-a-policy'
    assert 'NotAPolicy' in str(error) and 'SnapshotPolicy' in str(error)


def test_non_ascii_load_error_disables_nothing_else(config):
    """Python 2.7: str() of the error raised UnicodeEncodeError inside
    stevedore's failure callback, and the whole chain was lost.
    """
    config.config(group='nova_imgmeta',
                  snapshot_policies=['broken-non-ascii', 'never-inherit'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['never-inherit']
    [error] = chain.errors
    assert error.policy == 'broken-non-ascii'
    assert u'dépendance manquante' in exceptions.describe(error)


@pytest.mark.parametrize('name,text', [
    ('broken-exit', 'SystemExit: nova_imgmeta_broken.exits called sys.exit'),
    ('broken-assert', 'AssertionError: nova_imgmeta_broken.asserts failed'),
])
def test_plugin_escaping_stevedore_takes_no_other_policy_down(config, name,
                                                              text):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['heal', name, 'never-inherit'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['heal', 'never-inherit']
    [error] = chain.errors
    assert error.policy == name and text in str(error)


@pytest.mark.parametrize('kind', ['rebuild', 'snapshot'])
def test_apply_requiring_what_the_hook_does_not_offer(config, kind):
    config.config(group='nova_imgmeta',
                  **{'%s_policies' % kind: ['broken-signature']})
    chain = loader.build_chain(kind, config.conf)
    assert chain.names == []
    [error] = chain.errors
    text = str(error)
    assert error.policy == 'broken-signature'
    assert 'nova_imgmeta_broken.policies.WantsFlavor' in text
    assert 'requires flavor' in text
    assert ', '.join(base.KINDS[kind].arguments) in text


class Declares(base.SnapshotPolicy):
    def apply(self, image_meta, instance, unused=None):
        pass


class AllOfThem(base.SnapshotPolicy):
    def apply(self, context, instance, image_meta, extra_properties):
        pass


class OnlyKwargs(base.SnapshotPolicy):
    def apply(self, **kwargs):
        pass


class Callable(object):
    def __call__(self, image_meta, extra_properties, **kwargs):
        pass


@pytest.mark.parametrize('apply,keywords', [
    (Declares(None).apply, ('instance', 'image_meta')),
    (AllOfThem(None).apply, loader.IN_ORDER),
    (OnlyKwargs(None).apply, None),
    (Callable(), None),
    (lambda image_meta: None, ('image_meta',)),
])
def test_what_each_policy_is_passed(apply, keywords):
    assert signature.keywords(apply, base.KINDS['snapshot']) == keywords


@pytest.mark.skipif(sys.version_info < (3, 8),
                    reason='positional-only parameters: Python 3.8 and later')
def test_positional_only_parameters_are_refused():
    namespace = {}
    exec('def apply(image_meta, /): pass', namespace)
    with pytest.raises(signature.BadApply) as info:
        signature.keywords(namespace['apply'], base.KINDS['snapshot'])
    assert 'positional-only' in str(info.value)


def test_load_failure_is_logged_by_the_caller_only(config, caplog):
    caplog.set_level(logging.DEBUG)
    config.config(group='nova_imgmeta', snapshot_policies=['broken-import'])
    chain = loader.build_chain('snapshot', config.conf)
    assert len(chain.errors) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


# issue 17, item 1: an attribute that raises when read -------------------

@pytest.mark.parametrize('kind', ['rebuild', 'snapshot'])
@pytest.mark.parametrize('name,attribute,error', [
    ('broken-idle-option', 'idle', 'NoSuchOptError'),
    ('broken-apply-option', 'apply', 'NoSuchOptError'),
    ('broken-idle-exit', 'idle', 'SystemExit: nova_imgmeta_broken: idle'),
    ('broken-apply-timeout', 'apply', 'Timeout: nova_imgmeta_broken: apply'),
    ('broken-idle-untellable', 'idle', 'RuntimeError: nova_imgmeta_broken: '
                                       'idle cannot say'),
    ('broken-class', '__class__', 'RuntimeError: nova_imgmeta_broken: no '
                                  'class'),
])
def test_policy_whose_attribute_raises_costs_only_itself(config, kind, name,
                                                         attribute, error):
    """Reading ``idle`` or ``apply`` used to raise out of build_chain: the
    whole chain was lost (never-inherit with it).
    """
    builtin = {'rebuild': 'base-image-ref', 'snapshot': 'never-inherit'}[kind]
    config.config(group='nova_imgmeta',
                  **{'%s_policies' % kind: [name, builtin]})
    chain = loader.build_chain(kind, config.conf)
    assert chain.names == [builtin]
    [failure] = chain.errors
    text = exceptions.describe(failure)
    assert failure.policy == name and failure.option == '%s_policies' % kind
    assert 'reading its %s attribute raised' % attribute in text, text
    assert error in text, text
    assert 'nova_imgmeta_broken.attributes.' in text


def test_idle_that_cannot_be_printed_still_leaves_the_policy_out(config):
    config.config(group='nova_imgmeta', snapshot_policies=[
        'broken-idle-unprintable', 'never-inherit'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['never-inherit'] and chain.errors == []
    [(name, why)] = chain.idle
    assert name == 'broken-idle-unprintable'
    assert '_Unprintable' in why
    assert 'idle' in chain.describe()


# issue 17, item 2: an apply that does not run when called ----------------

@pytest.mark.parametrize('kind', ['rebuild', 'snapshot'])
@pytest.mark.parametrize('name,why', [
    ('broken-generator', 'a generator function'),
    ('broken-partial-generator', 'a generator function'),
    ('broken-callable-generator', 'a generator function'),
    ('broken-not-callable', "is not callable"),
])
def test_apply_that_would_not_run_is_refused_at_load(config, kind, name,
                                                     why):
    config.config(group='nova_imgmeta', **{'%s_policies' % kind: [name]})
    chain = loader.build_chain(kind, config.conf)
    assert chain.names == []
    [failure] = chain.errors
    text = str(failure)
    assert failure.policy == name
    assert 'nova_imgmeta_broken.deferred.' in text
    assert why in text, text


ASYNC = [
    ('broken-async', 'a coroutine function (async def)'),
    ('broken-async-generator', 'an asynchronous generator function'),
    ('broken-async-callable', 'a coroutine function (async def)'),
]


@pytest.mark.skipif(sys.version_info < (3, 6),
                    reason='async def: Python 3.5, async generators: 3.6')
@pytest.mark.parametrize('kind', ['rebuild', 'snapshot'])
@pytest.mark.parametrize('name,why', ASYNC)
def test_async_apply_is_refused_at_load(config, kind, name, why):
    """It used to load, then never run (a RuntimeWarning only)."""
    config.config(group='nova_imgmeta',
                  **{'%s_policies' % kind: [name, 'heal' if kind ==
                                            'snapshot' else 'base-image-ref']})
    chain = loader.build_chain(kind, config.conf)
    assert len(chain.names) == 1
    [failure] = chain.errors
    text = str(failure)
    assert failure.policy == name
    assert 'nova_imgmeta_broken.asyncs.' in text
    assert why in text, text
    assert 'would never run' in text


@pytest.mark.skipif(sys.version_info >= (3,), reason='Python 2.7 only')
@pytest.mark.parametrize('name', [name for name, _why in ASYNC])
def test_async_apply_does_not_even_load_on_python_2(config, name):
    config.config(group='nova_imgmeta', snapshot_policies=[name])
    chain = loader.build_chain('snapshot', config.conf)
    [failure] = chain.errors
    assert 'SyntaxError' in str(failure)
