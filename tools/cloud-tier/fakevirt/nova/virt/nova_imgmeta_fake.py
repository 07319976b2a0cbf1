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

"""The only stand-in of the loopback cloud: its hypervisor.

Nova's ``fake.FakeDriver`` boots, stops, pauses, shelves... without a
hypervisor, but its ``snapshot`` never uploads anything, so every snapshot
stays ``queued`` in a real Glance and whatever waits for it to become
``active`` (Tempest, the rebuild onto a snapshot) waits forever. This
subclass adds what libvirt's driver does after the fake's own checks:
the image's format and bytes sent to Glance through Nova's own image API.
The bytes are a small made-up disk; nothing else changes. Runs on Python
2.7 and 3.

It is installed as ``nova/virt/nova_imgmeta_fake.py`` (``compute_driver =
nova_imgmeta_fake.UploadingFakeDriver``): up to Queens Nova loads its
compute driver from ``nova.virt`` only.
"""

import hashlib
import io

from nova.virt import fake

try:  # Pike to Ussuri
    from nova.image import api as _image_api

    def _images():
        return _image_api.API()
except ImportError:  # Victoria: the image API is the Glance client itself
    from nova.image import glance as _glance

    def _images():
        return _glance.API()

__all__ = ['UploadingFakeDriver', 'disk_bytes']

#: size of the made-up disk each snapshot uploads
DISK_SIZE = 64 * 1024


def disk_bytes(instance_uuid, image_id):
    """The bytes of a snapshot: distinct per instance and image."""
    seed = ('%s %s' % (instance_uuid, image_id)).encode('ascii')
    block = hashlib.sha256(seed).digest()
    return (block * (DISK_SIZE // len(block) + 1))[:DISK_SIZE]


class UploadingFakeDriver(fake.FakeDriver):
    """FakeDriver whose snapshots upload their bytes to Glance."""

    def snapshot(self, context, instance, image_id, update_task_state):
        # the fake's checks (instance running) and its IMAGE_UPLOADING
        super(UploadingFakeDriver, self).snapshot(
            context, instance, image_id, update_task_state)
        data = disk_bytes(instance.uuid, image_id)
        # what libvirt's driver sets with the data: the format of the bytes
        metadata = {'disk_format': 'raw', 'container_format': 'bare'}
        _images().update(context, image_id, metadata, data=io.BytesIO(data),
                         purge_props=False)
