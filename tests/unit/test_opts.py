# -*- coding: utf-8 -*-
import subprocess
import sys

import pytest
from oslo_config import cfg

from nova_imgmeta import exceptions
from nova_imgmeta import opts


def test_list_opts_returns_the_original_objects():
    [(group, options)] = opts.list_opts()
    assert group is opts.GROUP
    assert group.name == 'nova_imgmeta'
    assert options is opts.ALL_OPTS
    assert opts.base_image_ref_mode in options


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


def test_register_opts_is_idempotent():
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    opts.register_opts(conf)
    conf([], default_config_files=[])
    assert conf.nova_imgmeta.snapshot_on_error == 'open'


def test_importing_opts_registers_nothing():
    code = ('import nova_imgmeta.opts, nova_imgmeta.dispatch\n'
            'from oslo_config import cfg\n'
            'assert "nova_imgmeta" not in cfg.CONF, "registered"\n')
    subprocess.check_call([sys.executable, '-c', code])


def test_help_names_the_bugs():
    helps = ' '.join(opt.help for opt in opts.ALL_OPTS)
    assert '1893618' in helps
    assert '1852106' in helps
    for opt in opts.ALL_OPTS:
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
        opts.get_option(conf, option)
    assert info.value.option == option
    assert '[nova_imgmeta] %s' % option in str(info.value)


def test_fixture_overrides(config):
    config.config(group='nova_imgmeta', deny_patterns=['hw_*'])
    assert opts.get_option(config.conf, 'deny_patterns') == ['hw_*']
