# -*- coding: utf-8 -*-
import pytest
from stevedore import extension
from stevedore import named

from nova_imgmeta import loader
from nova_imgmeta.policies import heal

try:
    import nova_imgmeta_example  # noqa: F401
    HAVE_EXAMPLE = True
except ImportError:
    HAVE_EXAMPLE = False

needs_example = pytest.mark.skipif(
    not HAVE_EXAMPLE,
    reason='tests/unit/example_plugin is not installed (tox installs it)')


def test_default_chains_load_from_entry_points(conf):
    rebuild = loader.build_chain('rebuild', conf)
    snapshot = loader.build_chain('snapshot', conf)
    assert rebuild.names == ['base-image-ref']
    assert snapshot.names == ['heal', 'never-inherit', 'patterns',
                              'truncated']
    assert not rebuild.errors and not snapshot.errors


def test_configured_order_is_kept(config):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['truncated', 'heal'])
    assert loader.build_chain('snapshot', config.conf).names == [
        'truncated', 'heal']


def test_unknown_policy_names_the_option_and_what_is_installed(config):
    config.config(group='nova_imgmeta', snapshot_policies=['hael', 'heal'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['heal']
    [error] = chain.errors
    assert error.policy == 'hael'
    assert error.option == 'snapshot_policies'
    text = str(error)
    assert '[nova_imgmeta] snapshot_policies' in text
    assert 'unknown policy' in text and 'never-inherit' in text


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


@needs_example
def test_example_operator_plugin_loads_from_its_entry_point(config):
    from nova_imgmeta_example import stamp
    config.config(group='nova_imgmeta',
                  snapshot_policies=['never-inherit', 'stamp-project'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['never-inherit', 'stamp-project']
    assert isinstance(chain.policies[1][1], stamp.StampProjectPolicy)


@needs_example
def test_plugin_that_fails_to_import(config):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['example-broken-import', 'heal'])
    chain = loader.build_chain('snapshot', config.conf)
    assert chain.names == ['heal']
    [error] = chain.errors
    assert error.policy == 'example-broken-import'
    assert 'failed to load' in str(error)
    assert 'nova_imgmeta_example_missing_dependency' in str(error)


@needs_example
def test_plugin_that_is_not_a_policy(config):
    config.config(group='nova_imgmeta',
                  snapshot_policies=['example-not-a-policy'])
    chain = loader.build_chain('snapshot', config.conf)
    [error] = chain.errors
    assert error.policy == 'example-not-a-policy'
    assert 'NotAPolicy' in str(error) and 'SnapshotPolicy' in str(error)


@needs_example
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
