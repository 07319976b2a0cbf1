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

import pytest

from nova_imgmeta import changes
from nova_imgmeta import exceptions
from nova_imgmeta.policies import base_image_ref

from . import fakes


def make(conf_file=None, conf=None, mode=None):
    if mode is not None:
        conf = conf_file('[nova_imgmeta]\nbase_image_ref_mode = %s\n' % mode)
    return base_image_ref.BaseImageRefPolicy(conf)


def rebuild(policy, image_id, image, patch_0001=False, instance=None):
    new = fakes.rebuild_new_sys_metadata(image_id, image, patch_0001)
    result = policy.apply(None, instance or fakes.InstanceStub(), image_id,
                          image, new)
    return new, result


@pytest.mark.parametrize('patch_0001', [False, True])
def test_boot_mode_plain_image_gets_its_own_id(conf, patch_0001):
    image = {'id': fakes.IMAGE_B, 'properties': {'os_distro': 'ubuntu'}}
    new, result = rebuild(make(conf=conf), fakes.IMAGE_B, image, patch_0001)
    assert new['image_base_image_ref'] == fakes.IMAGE_B
    assert new['image_os_distro'] == 'ubuntu'
    if patch_0001:
        assert result == []
    else:
        assert result == [changes.MetadataChange('image_base_image_ref',
                                                 changes.ABSENT,
                                                 fakes.IMAGE_B)]


@pytest.mark.parametrize('patch_0001', [False, True])
def test_boot_mode_snapshot_keeps_its_root(conf, patch_0001):
    image = {'properties': {'base_image_ref': fakes.ROOT}}
    new, _ = rebuild(make(conf=conf), fakes.IMAGE_B, image, patch_0001)
    assert new['image_base_image_ref'] == fakes.ROOT


@pytest.mark.parametrize('patch_0001', [False, True])
def test_upstream_mode_always_the_rebuild_image(conf_file, patch_0001):
    image = {'properties': {'base_image_ref': fakes.ROOT}}
    new, result = rebuild(make(conf_file, mode='upstream'), fakes.IMAGE_B,
                          image, patch_0001)
    assert new['image_base_image_ref'] == fakes.IMAGE_B
    assert result == [changes.MetadataChange('image_base_image_ref',
                                             fakes.ROOT, fakes.IMAGE_B)]


@pytest.mark.parametrize('mode', ['boot', 'upstream'])
@pytest.mark.parametrize('image_id', ['', None])
def test_volume_backed_empty_image_id_writes_nothing(conf_file, mode,
                                                     image_id):
    image = {'properties': {'hw_disk_bus': 'scsi'}}
    instance = fakes.InstanceStub(image_ref='')
    new = fakes.rebuild_new_sys_metadata(image_id, image)
    before = dict(new)
    assert make(conf_file, mode=mode).apply(None, instance, image_id, image,
                                            new) == []
    assert new == before


def test_volume_backed_keeps_lineage_from_volume_image_metadata(conf):
    image = {'properties': {'base_image_ref': fakes.ROOT}}
    new, _ = rebuild(make(conf=conf), '', image,
                     instance=fakes.InstanceStub(image_ref=''))
    assert new['image_base_image_ref'] == fakes.ROOT


@pytest.mark.parametrize('image', [None, {}, {'properties': None},
                                   {'properties': {}}])
def test_missing_or_empty_image(conf, image):
    new = {}
    make(conf=conf).apply(None, fakes.InstanceStub(), fakes.IMAGE_B, image,
                          new)
    assert new == {'image_base_image_ref': fakes.IMAGE_B}


def test_unicode_and_non_string_values(conf):
    image = {'properties': {'base_image_ref': 12345, u'clé': u'välue'}}
    new, _ = rebuild(make(conf=conf), u'ïmage', image)
    assert new['image_base_image_ref'] == u'12345'
    new, _ = rebuild(make(conf=conf), u'ïmage', {'properties': {}})
    assert new['image_base_image_ref'] == u'ïmage'


def test_long_base_image_ref_is_stored_as_nova_would(conf):
    image = {'properties': {'base_image_ref': u'é' * 200}}
    new, _ = rebuild(make(conf=conf), fakes.IMAGE_B, image)
    assert new['image_base_image_ref'] == fakes.safe_truncate(u'é' * 200,
                                                              255)


def test_unknown_mode_fails_with_the_option_name(conf_file):
    with pytest.raises(exceptions.ConfigError) as info:
        make(conf_file, mode='victoria')
    assert info.value.option == 'base_image_ref_mode'


def test_bug_1893618_rebuild_keeps_image_base_image_ref(conf):
    """Unpatched Queens: after rebuild the new sysmeta has no base at all."""
    boot_image = {'properties': {'os_distro': 'cirros'}}
    instance = fakes.InstanceStub(
        image_ref=fakes.IMAGE_A,
        system_metadata=fakes.boot_system_metadata(fakes.IMAGE_A,
                                                   boot_image))
    assert instance.system_metadata['image_base_image_ref'] == fakes.IMAGE_A
    rebuild_image = {'properties': {'os_distro': 'ubuntu'}}
    new = fakes.rebuild_new_sys_metadata(fakes.IMAGE_B, rebuild_image)
    assert 'image_base_image_ref' not in new   # the bug
    make(conf=conf).apply(None, instance, fakes.IMAGE_B, rebuild_image, new)
    assert new['image_base_image_ref'] == fakes.IMAGE_B


def test_bug_1893618_rollback_to_own_snapshot_keeps_the_root(conf):
    snapshot = {'properties': {'base_image_ref': fakes.ROOT,
                               'image_type': 'snapshot'}}
    new = fakes.rebuild_new_sys_metadata(fakes.IMAGE_B, snapshot,
                                         patch_0001=True)
    make(conf=conf).apply(None, fakes.InstanceStub(), fakes.IMAGE_B,
                          snapshot, new)
    assert new['image_base_image_ref'] == fakes.ROOT


# resize (Nova Wallaby and later) -------------------------------------------

def make_resize(conf_file=None, conf=None, mode=None):
    if mode is not None:
        conf = conf_file('[nova_imgmeta]\nbase_image_ref_mode = %s\n' % mode)
    return base_image_ref.KeepBaseImageRefPolicy(conf)


def resize(policy, instance):
    """What API.resize of the patched Wallaby+ hands over, and the result."""
    new = {'image_base_image_ref': instance.image_ref}
    result = policy.apply(None, instance, new)
    return new, result


def test_bug_1906428_resize_keeps_image_base_image_ref(conf):
    """Wallaby on: resize and cold migration set image_ref (f02899418d)."""
    instance = fakes.InstanceStub(
        image_ref=fakes.IMAGE_B,
        system_metadata={'image_base_image_ref': fakes.ROOT})
    new, result = resize(make_resize(conf=conf), instance)
    assert new == {'image_base_image_ref': fakes.ROOT}
    assert result == [changes.MetadataChange('image_base_image_ref',
                                             fakes.IMAGE_B, fakes.ROOT)]


@pytest.mark.parametrize('current', [None, ''])
def test_resize_without_a_value_takes_novas(conf, current):
    system_metadata = {} if current is None else {
        'image_base_image_ref': current}
    instance = fakes.InstanceStub(image_ref=fakes.IMAGE_B,
                                  system_metadata=system_metadata)
    new, result = resize(make_resize(conf=conf), instance)
    assert new == {'image_base_image_ref': fakes.IMAGE_B}
    assert result == []


def test_resize_same_value_changes_nothing(conf):
    instance = fakes.InstanceStub(
        image_ref=fakes.IMAGE_B,
        system_metadata={'image_base_image_ref': fakes.IMAGE_B})
    assert resize(make_resize(conf=conf), instance)[1] == []


def test_resize_volume_backed_keeps_its_lineage(conf):
    # A volume-backed server has an empty image_ref: Nova would store ''.
    instance = fakes.InstanceStub(
        image_ref='', system_metadata={'image_base_image_ref': fakes.ROOT})
    new, _ = resize(make_resize(conf=conf), instance)
    assert new == {'image_base_image_ref': fakes.ROOT}


def test_resize_upstream_mode_is_idle(conf_file):
    policy = make_resize(conf_file, mode='upstream')
    assert policy.idle
    instance = fakes.InstanceStub(
        image_ref=fakes.IMAGE_B,
        system_metadata={'image_base_image_ref': fakes.ROOT})
    new, result = resize(policy, instance)
    assert new == {'image_base_image_ref': fakes.IMAGE_B}
    assert result == []


def test_resize_unknown_mode_fails_with_the_option_name(conf_file):
    with pytest.raises(exceptions.ConfigError) as info:
        make_resize(conf_file, mode='wallaby')
    assert info.value.option == 'base_image_ref_mode'
