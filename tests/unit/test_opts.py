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

import subprocess
import sys

from oslo_config import cfg
import pytest

from nova_imgmeta import exceptions
from nova_imgmeta import opts
from nova_imgmeta.policies import base_image_ref
from nova_imgmeta.policies import builtin
from nova_imgmeta.policies import patterns
from nova_imgmeta.policies import truncated
from nova_imgmeta import settings


def test_list_opts_returns_the_original_objects():
    [(group, options)] = opts.list_opts()
    assert group is opts.group()
    assert group.name == 'nova_imgmeta'
    assert options is opts.all_opts()
    assert opts.snapshot_on_error in options
    # each built-in policy's own options, the very objects of its module
    assert base_image_ref.base_image_ref_mode in options
    assert patterns.deny_patterns in options
    assert truncated.truncated_values in options
    [(_group, again)] = opts.list_opts()
    assert [id(opt) for opt in again] == [id(opt) for opt in options]


def test_option_names_and_defaults(conf):
    group = conf.nova_imgmeta
    assert group.rebuild_policies == ['base-image-ref']
    assert group.base_image_ref_mode == 'boot'
    assert group.snapshot_policies == ['heal', 'never-inherit', 'patterns',
                                       'truncated']
    assert group.snapshot_on_error == 'open'
    assert group.deny_patterns == []
    assert group.allow_only_patterns == []
    assert group.truncated_values == 'warn'


def test_default_chains_name_only_builtin_policies():
    builtins = set((policy.kind, policy.name)
                   for policy in builtin.builtin_policies())
    for kind, names in opts.DEFAULT_POLICIES.items():
        for name in names:
            assert (kind, name) in builtins


def test_register_opts_is_idempotent():
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    opts.register_opts(conf)
    conf([], default_config_files=[])
    assert conf.nova_imgmeta.snapshot_on_error == 'open'
    assert conf.nova_imgmeta.truncated_values == 'warn'


def test_importing_opts_registers_nothing():
    code = ('import nova_imgmeta.opts, nova_imgmeta.dispatch\n'
            'from oslo_config import cfg\n'
            'assert "nova_imgmeta" not in cfg.CONF, "registered"\n')
    subprocess.check_call([sys.executable, '-c', code])


def test_only_the_registry_registers_options():
    """One owner: loading a chain or building a policy registers nothing."""
    from nova_imgmeta import loader
    from nova_imgmeta.policies import heal

    conf = cfg.ConfigOpts()
    conf([], default_config_files=[])
    heal.HealBaseImageRefPolicy(conf)
    with pytest.raises(exceptions.ConfigError):
        base_image_ref.BaseImageRefPolicy(conf)
    chain = loader.build_chain('snapshot', conf)
    assert 'nova_imgmeta' not in conf
    [error] = chain.errors
    assert 'snapshot_policies' in str(error)


def test_policies_help_lists_every_builtin_policy():
    helps = dict((opt.name, ' '.join(opt.help.split()))
                 for opt in opts.all_opts())
    for policy in builtin.builtin_policies():
        entry = '* ``%s``: %s' % (policy.name, policy.cls.summary)
        assert entry in helps['%s_policies' % policy.kind]
        for opt in policy.cls.options:
            assert '``%s``' % opt.name in helps['%s_policies' % policy.kind]


def test_help_names_the_bugs():
    helps = ' '.join(opt.help for opt in opts.all_opts())
    assert '1893618' in helps
    assert '1852106' in helps
    for opt in opts.all_opts():
        assert 'Possible values' in opt.help, opt.name
        assert 'Related options' in opt.help, opt.name


@pytest.mark.parametrize('option,value', [
    ('base_image_ref_mode', 'victoria'),
    ('snapshot_on_error', 'ajar'),
    ('truncated_values', 'restore-maybe'),
])
def test_unknown_mode_is_reported_with_the_option_name(conf_file, option,
                                                       value):
    conf = conf_file('[nova_imgmeta]\n%s = %s\n' % (option, value))
    with pytest.raises(exceptions.ConfigError) as info:
        settings.get_option(conf, option)
    assert info.value.option == option
    text = str(info.value)
    assert text.startswith('[nova_imgmeta] %s: ' % option)
    assert value in text
    assert 'LocationInfo' not in text


def test_fixture_overrides(config):
    config.config(group='nova_imgmeta', deny_patterns=['hw_*'])
    assert settings.get_option(config.conf, 'deny_patterns') == ['hw_*']


def test_overrides_stay_in_their_configopts():
    """oslo.config's shallow copy of one OptGroup shared the overrides of
    every ConfigOpts that registered it.
    """
    first, second = cfg.ConfigOpts(), cfg.ConfigOpts()
    for conf in (first, second):
        opts.register_opts(conf)
        conf([], default_config_files=[])
    first.set_override('snapshot_on_error', 'closed', group='nova_imgmeta')
    try:
        assert first.nova_imgmeta.snapshot_on_error == 'closed'
        assert second.nova_imgmeta.snapshot_on_error == 'open'
    finally:
        first.clear_override('snapshot_on_error', group='nova_imgmeta')
