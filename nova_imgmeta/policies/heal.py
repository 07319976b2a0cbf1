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

"""Snapshot policy ``heal``: give ``base_image_ref`` back (bug 1893618).

A server rebuilt before the fix was installed has no
``image_base_image_ref`` in its system metadata, so its snapshots lack
``base_image_ref``. This policy sets it to the server's ``image_ref`` (the
lineage rule, :func:`nova_imgmeta.lineage.base_image_ref`, for an image
whose own ``base_image_ref`` was not kept). A volume-backed server (empty
``image_ref``) is left alone.
"""

from nova_imgmeta import changes
from nova_imgmeta import lineage
from nova_imgmeta.policies import base

__all__ = ['HealBaseImageRefPolicy']


class HealBaseImageRefPolicy(base.SnapshotPolicy):
    """Add ``base_image_ref`` to a snapshot whose instance lost it."""

    summary = ('give ``base_image_ref`` back to snapshots of servers rebuilt '
               'before the fix was installed (bug 1893618): the server\'s '
               '``image_ref``, unless the property is there or the server is '
               'volume-backed.')

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta.get('properties')
        if not isinstance(properties, dict):
            return []
        if properties.get(lineage.BASE_IMAGE_REF):
            return []   # the common case: Nova copied it from the instance
        # Missing although the instance has it: the operator made it
        # non-inheritable; leave it so.
        system_metadata = getattr(instance, 'system_metadata', None) or {}
        if system_metadata.get(lineage.SYSMETA_BASE_IMAGE_REF):
            return []
        value = lineage.base_image_ref(getattr(instance, 'image_ref', None))
        if not value:
            return []
        old = properties.get(lineage.BASE_IMAGE_REF, changes.ABSENT)
        properties[lineage.BASE_IMAGE_REF] = value
        return [changes.MetadataChange(lineage.BASE_IMAGE_REF, old,
                                       value)]
