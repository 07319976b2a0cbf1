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

"""Stubbed Nova objects and Nova Queens' image-metadata code paths.

The helpers below reproduce, in a few lines each, what Nova 17.0.x does
with image properties (nova/utils.py and nova/compute/api.py), so that the
tests feed the policies dicts in the very form Nova passes them. The
benchmark of the hooks (benchmarks/bench_snapshot_chain.py) times them as
Nova's baseline: this is their one copy. Python 2.7 and 3.
"""

from nova_imgmeta import compat

SM_IMAGE_PROP_PREFIX = 'image_'
SM_INHERITABLE_KEYS = ('min_ram', 'min_disk', 'disk_format',
                       'container_format')
SM_SKIP_KEYS = ('mappings', 'block_device_mapping', 'img_mappings',
                'img_block_device_mapping')
# nova.conf [DEFAULT] non_inheritable_image_properties, Queens default
DEFAULT_NON_INHERITABLE = ['cache_in_nova', 'bittorrent',
                           'img_signature_hash_method', 'img_signature',
                           'img_signature_key_type',
                           'img_signature_certificate_uuid']

UUID = '6f4e1a3c-5b2d-4c8e-9a7f-0d1e2f3a4b5c'
IMAGE_A = 'a0a0a0a0-0000-4000-8000-00000000000a'
IMAGE_B = 'b0b0b0b0-0000-4000-8000-00000000000b'
ROOT = 'f0f0f0f0-0000-4000-8000-00000000000f'


class InstanceStub(object):
    """What the policies read from ``nova.objects.Instance``."""

    def __init__(self, uuid=UUID, image_ref=IMAGE_A, project_id='proj-1',
                 system_metadata=None):
        self.uuid = uuid
        self.image_ref = image_ref
        self.project_id = project_id
        self.system_metadata = dict(system_metadata or {})


def safe_truncate(value, length):
    """nova.utils.safe_truncate"""
    b_value = value.encode('utf-8')[:length]
    while True:
        try:
            return b_value.decode('utf-8')
        except UnicodeDecodeError:
            b_value = b_value[:-1]


def system_metadata_from_image(image_meta, flavor=None):
    """nova.utils.get_system_metadata_from_image"""
    system_meta = {}
    for key, value in image_meta.get('properties', {}).items():
        if key in SM_SKIP_KEYS:
            continue
        system_meta[SM_IMAGE_PROP_PREFIX + key] = safe_truncate(
            compat.text_type(value), 255)
    for key in SM_INHERITABLE_KEYS:
        value = image_meta.get(key)
        if key == 'min_disk' and flavor:
            if image_meta.get('disk_format') == 'vhd':
                value = flavor['root_gb']
            else:
                value = max(value or 0, flavor['root_gb'])
        if value is not None:
            system_meta[SM_IMAGE_PROP_PREFIX + key] = value
    return system_meta


def boot_system_metadata(image_id, image):
    """_populate_instance_for_create: image props + setdefault of the base."""
    system_meta = system_metadata_from_image(image)
    system_meta.setdefault('image_base_image_ref', image_id)
    system_meta['owner_user_name'] = 'alice'
    system_meta['owner_project_name'] = 'demo'
    return system_meta


def rebuild_new_sys_metadata(image_id, image, patch_0001=False):
    """_reset_image_metadata: the dict handed to the rebuild hook."""
    new_sys_metadata = system_metadata_from_image(image)
    if patch_0001:
        new_sys_metadata.setdefault('image_base_image_ref', image_id)
    return new_sys_metadata


def image_from_system_metadata(system_meta):
    """nova.utils.get_image_from_system_metadata"""
    image_meta = {}
    properties = {}
    for key, value in system_meta.items():
        if value is None:
            continue
        if key.startswith(SM_IMAGE_PROP_PREFIX):
            key = key[len(SM_IMAGE_PROP_PREFIX):]
        if key in SM_SKIP_KEYS:
            continue
        if key in SM_INHERITABLE_KEYS:
            image_meta[key] = value
        else:
            properties[key] = value
    image_meta['properties'] = properties
    return image_meta


def snapshot_image_meta(instance, name='snap', extra_properties=None,
                        non_inheritable=None):
    """API._create_image + _initialize_instance_snapshot_metadata.

    Returns ``(image_meta, extra_properties)`` as handed to the snapshot
    hook.
    """
    properties = {'instance_uuid': instance.uuid, 'user_id': 'user-1',
                  'image_type': 'snapshot'}
    properties.update(extra_properties or {})
    image_meta = image_from_system_metadata(instance.system_metadata)
    image_meta.update({'name': name, 'is_public': False})
    if non_inheritable is None:
        non_inheritable = DEFAULT_NON_INHERITABLE
    for key in non_inheritable:
        image_meta['properties'].pop(key, None)
    image_meta['properties'].update(properties)
    return image_meta, properties
