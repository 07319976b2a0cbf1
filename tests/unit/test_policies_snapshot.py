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

import logging
import random

import pytest

from nova_imgmeta import changes
from nova_imgmeta import compat
from nova_imgmeta import exceptions
from nova_imgmeta.policies import heal
from nova_imgmeta.policies import never_inherit
from nova_imgmeta.policies import patterns
from nova_imgmeta.policies import truncated
from nova_imgmeta import sysmeta

from . import fakes

SIGNATURE = {
    'img_signature': 'c2lnbmF0dXJl',
    'img_signature_hash_method': 'SHA-256',
    'img_signature_key_type': 'RSA-PSS',
    'img_signature_certificate_uuid': 'cert-1',
}
ENCRYPTION = {
    'cinder_encryption_key_id': 'key-of-the-original',
    'cinder_encryption_key_deletion_policy': 'on_image_deletion',
}
GLANCE = {
    'os_glance_importing_to_stores': 'file',
    'os_glance_failed_import': '',
    'os_glance_hash_algo': 'sha512',
}


def instance_with(properties, image_ref=fakes.IMAGE_A, base=True):
    image = {'properties': dict(properties)}
    if base:
        sysmeta = fakes.boot_system_metadata(image_ref, image)
    else:
        sysmeta = fakes.system_metadata_from_image(image)
    return fakes.InstanceStub(image_ref=image_ref, system_metadata=sysmeta)


def snapshot(policy, instance, extra=None, non_inheritable=None):
    image_meta, extra = fakes.snapshot_image_meta(
        instance, extra_properties=extra, non_inheritable=non_inheritable)
    result = policy.apply(None, instance, image_meta, extra)
    return image_meta, result


# heal --------------------------------------------------------------------

def test_heal_adds_base_image_ref_after_an_old_rebuild(conf):
    instance = instance_with({'os_distro': 'x'}, base=False)
    image_meta, result = snapshot(heal.HealBaseImageRefPolicy(conf),
                                  instance)
    assert image_meta['properties']['base_image_ref'] == fakes.IMAGE_A
    assert result == [changes.MetadataChange('base_image_ref',
                                             changes.ABSENT, fakes.IMAGE_A)]


def test_heal_leaves_an_existing_base_alone(conf):
    instance = instance_with({'base_image_ref': fakes.ROOT})
    image_meta, result = snapshot(heal.HealBaseImageRefPolicy(conf),
                                  instance)
    assert image_meta['properties']['base_image_ref'] == fakes.ROOT
    assert result == []


def test_heal_does_not_undo_non_inheritable_base_image_ref(conf):
    instance = instance_with({})
    image_meta, result = snapshot(heal.HealBaseImageRefPolicy(conf),
                                  instance,
                                  non_inheritable=['base_image_ref'])
    assert 'base_image_ref' not in image_meta['properties']
    assert result == []


@pytest.mark.parametrize('image_ref', ['', None])
def test_heal_volume_backed_does_nothing(conf, image_ref):
    instance = instance_with({'hw_disk_bus': 'scsi'}, image_ref=image_ref,
                             base=False)
    image_meta, result = snapshot(heal.HealBaseImageRefPolicy(conf),
                                  instance)
    assert 'base_image_ref' not in image_meta['properties']
    assert result == []


def test_heal_request_value_wins(conf):
    instance = instance_with({}, base=False)
    image_meta, result = snapshot(heal.HealBaseImageRefPolicy(conf),
                                  instance, extra={'base_image_ref': 'req'})
    assert image_meta['properties']['base_image_ref'] == 'req'
    assert result == []


def test_heal_empty_metadata(conf):
    instance = fakes.InstanceStub(system_metadata={})
    image_meta, _ = snapshot(heal.HealBaseImageRefPolicy(conf), instance)
    assert image_meta['properties']['base_image_ref'] == fakes.IMAGE_A
    assert heal.HealBaseImageRefPolicy(conf).apply(
        None, instance, {}, {}) == []


def test_bug_1893618_snapshot_after_unfixed_rebuild_has_base(conf):
    instance = instance_with({'os_distro': 'ubuntu'}, image_ref=fakes.IMAGE_B,
                             base=False)
    image_meta, _ = fakes.snapshot_image_meta(instance)
    assert 'base_image_ref' not in image_meta['properties']   # the bug
    heal.HealBaseImageRefPolicy(conf).apply(None, instance, image_meta, {})
    assert image_meta['properties']['base_image_ref'] == fakes.IMAGE_B


# never-inherit -----------------------------------------------------------

def all_never_inherit():
    props = {'os_distro': 'centos', 'hw_qemu_guest_agent': 'yes'}
    props.update(SIGNATURE)
    props.update(ENCRYPTION)
    props.update(GLANCE)
    return props


@pytest.mark.parametrize('non_inheritable', [
    None, [], ['cache_in_nova', 'my_custom_prop']])
def test_never_inherit_drops_everything(conf, non_inheritable):
    instance = instance_with(all_never_inherit())
    image_meta, result = snapshot(never_inherit.NeverInheritPolicy(conf),
                                  instance, non_inheritable=non_inheritable)
    properties = image_meta['properties']
    for key in list(SIGNATURE) + list(ENCRYPTION) + list(GLANCE):
        assert key not in properties
    assert properties['os_distro'] == 'centos'
    assert properties['base_image_ref'] == fakes.IMAGE_A
    removed = set(change.key for change in result)
    assert set(ENCRYPTION) | set(GLANCE) <= removed
    assert all(change.new is changes.ABSENT for change in result)


def test_never_inherit_keeps_what_the_request_sets(conf):
    instance = instance_with(all_never_inherit())
    image_meta, _ = snapshot(never_inherit.NeverInheritPolicy(conf),
                             instance, extra={'img_signature': 'new'})
    assert image_meta['properties']['img_signature'] == 'new'


def test_never_inherit_odd_keys_and_values(conf):
    policy = never_inherit.NeverInheritPolicy(conf)
    image_meta = {'properties': {1: 'x', u'os_glance_ü': None,
                                 u'clé': u'välue', 'n': None, 'f': 1.5,
                                 'cinder_encryption_key_id': None}}
    policy.apply(None, fakes.InstanceStub(), image_meta, None)
    assert image_meta['properties'] == {1: 'x', u'clé': u'välue', 'n': None,
                                        'f': 1.5}
    for empty in ({}, {'properties': {}}, {'properties': None}):
        assert policy.apply(None, fakes.InstanceStub(), empty, {}) == []


def test_never_inherit_mixed_key_types(conf):
    policy = never_inherit.NeverInheritPolicy(conf)
    image_meta = {'properties': {b'os_glance_raw': 1, u'os_glance_ü': 2,
                                 'img_signature': 3, u'kept': 4,
                                 b'\xc3\xa9': 5}}
    policy.apply(None, fakes.InstanceStub(), image_meta, {})
    properties = image_meta['properties']
    assert u'os_glance_ü' not in properties
    assert 'img_signature' not in properties
    assert u'kept' in properties and b'\xc3\xa9' in properties
    # bytes keys: dropped on Python 2 (they are str), kept on Python 3
    assert (b'os_glance_raw' in properties) == (str is not bytes)


def test_bug_1852106_encryption_key_is_not_inherited(conf):
    instance = instance_with(ENCRYPTION)
    image_meta, _ = fakes.snapshot_image_meta(instance)
    assert 'cinder_encryption_key_id' in image_meta['properties']  # the bug
    never_inherit.NeverInheritPolicy(conf).apply(None, instance, image_meta,
                                                 {})
    assert 'cinder_encryption_key_id' not in image_meta['properties']
    assert ('cinder_encryption_key_deletion_policy'
            not in image_meta['properties'])


def test_bug_1852106_signature_dropped_with_an_operator_list(conf):
    instance = instance_with(SIGNATURE)
    image_meta, _ = fakes.snapshot_image_meta(
        instance, non_inheritable=['cache_in_nova'])
    assert 'img_signature' in image_meta['properties']  # the bug
    never_inherit.NeverInheritPolicy(conf).apply(None, instance, image_meta,
                                                 {})
    for key in SIGNATURE:
        assert key not in image_meta['properties']


def test_bug_1852106_os_glance_properties_are_not_inherited(conf):
    instance = instance_with(GLANCE)
    image_meta, _ = fakes.snapshot_image_meta(instance)
    assert 'os_glance_hash_algo' in image_meta['properties']  # the bug
    never_inherit.NeverInheritPolicy(conf).apply(None, instance, image_meta,
                                                 {})
    assert not [k for k in image_meta['properties']
                if k.startswith('os_glance')]


# patterns ----------------------------------------------------------------

def pattern_policy(config, deny=(), allow=()):
    config.config(group='nova_imgmeta', deny_patterns=list(deny),
                  allow_only_patterns=list(allow))
    return patterns.PatternPolicy(config.conf)


PROPS = {'hw_disk_bus': 'scsi', 'hw_vif_model': 'virtio',
         'os_distro': 'ubuntu', 'license_key': 'abc', u'clé_ü': u'é'}


def test_patterns_empty_change_nothing(config):
    instance = instance_with(PROPS)
    image_meta, result = snapshot(pattern_policy(config), instance)
    assert result == []
    assert image_meta['properties']['hw_disk_bus'] == 'scsi'


def test_deny_patterns(config):
    instance = instance_with(PROPS)
    image_meta, result = snapshot(
        pattern_policy(config, deny=['hw_*', 'license_?ey', 'cl?_*']),
        instance)
    properties = image_meta['properties']
    assert sorted(change.key for change in result) == sorted(
        ['hw_disk_bus', 'hw_vif_model', 'license_key', u'clé_ü'])
    assert properties['os_distro'] == 'ubuntu'


def test_deny_wildcard_never_removes_nova_or_request_properties(config):
    instance = instance_with(PROPS)
    image_meta, _ = snapshot(pattern_policy(config, deny=['*']), instance,
                             extra={'backup_type': 'daily', 'rotation': 2})
    assert sorted(image_meta['properties']) == sorted(
        ['instance_uuid', 'user_id', 'image_type', 'base_image_ref',
         'backup_type', 'rotation'])


def test_deny_exact_name_removes_a_protected_property(config):
    instance = instance_with(PROPS)
    image_meta, _ = snapshot(
        pattern_policy(config, deny=['user_id', 'rotation']), instance,
        extra={'rotation': 2})
    assert 'user_id' not in image_meta['properties']
    assert 'rotation' not in image_meta['properties']
    assert 'instance_uuid' in image_meta['properties']


def test_allow_only_patterns(config):
    instance = instance_with(PROPS)
    image_meta, _ = snapshot(pattern_policy(config, allow=['hw_*']),
                             instance, extra={'custom': 'from-request'})
    assert sorted(image_meta['properties']) == sorted(
        ['hw_disk_bus', 'hw_vif_model', 'instance_uuid', 'user_id',
         'image_type', 'base_image_ref', 'custom'])


def test_deny_then_allow(config):
    instance = instance_with(PROPS)
    image_meta, _ = snapshot(
        pattern_policy(config, deny=['hw_vif_*'], allow=['hw_*', 'os_*']),
        instance)
    properties = image_meta['properties']
    assert 'hw_disk_bus' in properties and 'os_distro' in properties
    assert 'hw_vif_model' not in properties
    assert 'license_key' not in properties


def test_patterns_are_case_sensitive(config):
    instance = instance_with({'HW_X': '1', 'hw_x': '2'})
    image_meta, _ = snapshot(pattern_policy(config, deny=['hw_*']), instance)
    assert 'HW_X' in image_meta['properties']
    assert 'hw_x' not in image_meta['properties']


def test_patterns_skip_non_string_keys(config):
    image_meta = {'properties': {1: 'x', 'hw_a': None}}
    pattern_policy(config, deny=['*']).apply(None, fakes.InstanceStub(),
                                             image_meta, {})
    assert image_meta['properties'] == {1: 'x'}


@pytest.mark.parametrize('option', ['deny_patterns', 'allow_only_patterns'])
@pytest.mark.parametrize('bad', ['hw_[abc', '[!', 'a[z-b]', ''])
def test_malformed_pattern_names_the_option(config, option, bad):
    config.config(group='nova_imgmeta', **{option: ['ok_*', bad]})
    with pytest.raises(exceptions.ConfigError) as info:
        patterns.PatternPolicy(config.conf)
    assert info.value.option == option
    assert '[nova_imgmeta] %s' % option in str(info.value)


def test_valid_bracket_patterns(config):
    policy = pattern_policy(config, deny=['[]]x', '[!a]y', 'z[0-9]'])
    image_meta = {'properties': {']x': 1, 'by': 2, 'ay': 3, 'z5': 4}}
    policy.apply(None, fakes.InstanceStub(), image_meta, {})
    assert image_meta['properties'] == {'ay': 3}


def test_non_ascii_patterns_from_nova_conf_match(conf_file):
    """Python 2.7: oslo.config gives the patterns as bytes, Nova's keys
    are text: such a pattern never matched.
    """
    conf = conf_file(u'[nova_imgmeta]\ndeny_patterns = clé_*,prix_€\n'
                     u'allow_only_patterns = clé_*,prix_€,os_*\n')
    policy = patterns.PatternPolicy(conf)
    image_meta = {'properties': {u'clé_ü': u'x', u'prix_€': u'1',
                                 u'os_distro': u'debian', u'hw_x': u'y'}}
    removed = policy.apply(None, fakes.InstanceStub(), image_meta, {})
    assert image_meta['properties'] == {u'os_distro': u'debian'}
    assert sorted(change.key for change in removed) == sorted(
        [u'clé_ü', u'prix_€', u'hw_x'])


@pytest.mark.skipif(not compat.PY2,
                    reason='Python 3 does not parse such a file')
def test_undecodable_pattern_names_the_option(tmp_path):
    from oslo_config import cfg

    from nova_imgmeta import opts
    path = tmp_path / 'nova.conf'
    path.write_bytes(b'[nova_imgmeta]\ndeny_patterns = cl\xe9_*\n')
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    conf(['--config-file', str(path)], default_config_files=[])
    with pytest.raises(exceptions.ConfigError) as info:
        patterns.PatternPolicy(conf)
    assert info.value.option == 'deny_patterns'
    assert 'UTF-8' in str(info.value)


# truncated ---------------------------------------------------------------

def truncated_policy(config, mode):
    config.config(group='nova_imgmeta', truncated_values=mode)
    return truncated.TruncatedValuePolicy(config.conf)


LONG = {'long_ascii': 'a' * 300, 'long_unicode': u'ü' * 200,
        'exact_255': 'b' * 255, 'under_limit': 'c' * 254, 'number': 12345}


def test_truncated_warn_keeps_and_warns(config, caplog):
    instance = instance_with(LONG)
    caplog.set_level(logging.WARNING)
    image_meta, result = snapshot(truncated_policy(config, 'warn'), instance)
    assert result == []
    properties = image_meta['properties']
    assert properties['long_ascii'] == 'a' * 255
    warned = [r.getMessage() for r in caplog.records
              if r.levelno == logging.WARNING]
    assert len(warned) == 3
    joined = u' '.join(warned)
    for key in ('long_ascii', 'long_unicode', 'exact_255'):
        assert key in joined
    assert 'under_limit' not in joined and 'number' not in joined
    assert 'a' * 100 not in joined


def test_truncated_drop_removes(config):
    instance = instance_with(LONG)
    image_meta, result = snapshot(truncated_policy(config, 'drop'), instance)
    properties = image_meta['properties']
    assert sorted(change.key for change in result) == [
        'exact_255', 'long_ascii', 'long_unicode']
    assert properties['under_limit'] == 'c' * 254
    assert properties['number'] == u'12345'


def test_truncated_ignores_request_values_and_odd_values(config):
    policy = truncated_policy(config, 'drop')
    image_meta = {'properties': {'req': 'r' * 255, 'none': None, 'n': 1,
                                 'l': ['x' * 255]}}
    policy.apply(None, fakes.InstanceStub(), image_meta, {'req': 'r' * 255})
    assert sorted(image_meta['properties']) == ['l', 'n', 'none', 'req']
    for empty in ({}, {'properties': {}}, {'properties': None}):
        assert policy.apply(None, fakes.InstanceStub(), empty, {}) == []


def _naive_cut_short(properties, extra):
    return [key for key, value in properties.items()
            if key not in extra and sysmeta.at_limit(value)]


def test_cut_short_finds_what_a_test_of_each_value_finds():
    rng = random.Random(1893618)
    pieces = [u'a', u'é', u'€', u'\U0001f600', u'a\x00', b'b', b'\xc3\xa9',
              None, 7]
    for round_ in range(1000):
        properties = {}
        choices = pieces[:5] if round_ % 2 else pieces   # text only, or not
        for i in range(rng.randint(0, 12)):
            kind = rng.choice(choices)
            if not isinstance(kind, (compat.text_type, compat.binary_type)):
                properties['k%d' % i] = kind
                continue
            size = rng.choice([5, 62, 63, 64, 84, 85, 126, 127, 128, 200,
                               251, 252, 253, 254, 255, 256, 300])
            value = (kind * size)[:size]
            if isinstance(value, compat.text_type) and rng.random() < 0.5:
                value = fakes.safe_truncate(value * 4, 255)
            properties['k%d' % i] = value
        extra = dict.fromkeys(rng.sample(sorted(properties),
                                         min(2, len(properties))))
        assert sorted(truncated.cut_short(properties, extra)) == sorted(
            _naive_cut_short(properties, extra)), properties


def test_truncated_unknown_mode_names_the_option(conf_file):
    conf = conf_file('[nova_imgmeta]\ntruncated_values = restore\n')
    with pytest.raises(exceptions.ConfigError) as info:
        truncated.TruncatedValuePolicy(conf)
    assert info.value.option == 'truncated_values'
