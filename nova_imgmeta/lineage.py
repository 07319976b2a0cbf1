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

"""The lineage rule: which root image a new image or instance descends from.

Nova applies it once, at boot (``_populate_instance_for_create`` does
``system_meta.setdefault('image_base_image_ref', instance.image_ref)`` after
copying the image's own properties). The rebuild fix, the ``heal`` snapshot
policy and ``nova-imgmeta backfill`` all apply the same rule, so that a
server rolled back onto one of its own snapshots keeps the root image it was
built from.
"""

__all__ = ['BASE_IMAGE_REF', 'SYSMETA_BASE_IMAGE_REF', 'base_image_ref']

#: The image property Nova writes on every snapshot it creates.
BASE_IMAGE_REF = 'base_image_ref'
#: The same value as Nova keeps it in instance system metadata.
SYSMETA_BASE_IMAGE_REF = 'image_base_image_ref'


def base_image_ref(image_id, image_properties=None):
    """Return the root image of something built from ``image_id``.

    :param image_id: id of the image the server is (re)built from; may be
        empty for a volume-backed server.
    :param image_properties: that image's properties (a mapping) or None.
    :returns: the image's own non-empty ``base_image_ref`` property if it
        has one, else ``image_id`` itself.
    """
    if image_properties:
        inherited = image_properties.get(BASE_IMAGE_REF)
        if inherited:
            return inherited
    return image_id
