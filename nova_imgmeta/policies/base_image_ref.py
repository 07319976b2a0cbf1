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

"""Rebuild policy ``base-image-ref``: fix for bug 1893618.

Nova up to Ussuri 21.2.0 drops every ``image_*`` key from the system
metadata on rebuild and copies in the new image's properties, but never
sets ``image_base_image_ref`` again (at boot ``_populate_instance_for_create``
sets it with ``setdefault``). Later snapshots then lack ``base_image_ref``.
Upstream fixed it in Victoria (commit fe52b6c).

Resize policy ``base-image-ref``: from Wallaby (23.0.0, commit f02899418d,
the fix of bug 1906428) on, ``API.resize`` sets ``image_base_image_ref`` to
the server's ``image_ref`` on every resize and cold migration, which loses
the image a server booted from, or rolled back onto, a snapshot was built
from. In mode ``boot`` the policy keeps the value the server has.
"""

from oslo_config import cfg

from nova_imgmeta import changes
from nova_imgmeta import lineage
from nova_imgmeta.policies import base
from nova_imgmeta import settings
from nova_imgmeta import sysmeta

__all__ = ['BaseImageRefPolicy', 'KeepBaseImageRefPolicy']

base_image_ref_mode = cfg.StrOpt(
    'base_image_ref_mode',
    default='boot',
    choices=['boot', 'upstream'],
    help="""
How the ``base-image-ref`` rebuild policy chooses the server's base image
(bug 1893618).

Possible values:

* ``boot``: the rule Nova applies at boot: the rebuild image's own
  ``base_image_ref`` property when it has one, else the rebuild image id. A
  server rolled back onto one of its own snapshots keeps the root image it
  was built from.
* ``upstream``: always the rebuild image id, as the upstream fix in Nova
  Victoria (commit fe52b6c) does.

With an empty image id (volume-backed server) and no ``base_image_ref``
property the policy changes nothing.

On resize and cold migration (Nova Wallaby and later, which set
``image_base_image_ref`` to the server's ``image_ref`` there), the resize
policy ``base-image-ref`` keeps the server's value in mode ``boot`` and lets
Nova set ``image_ref`` in mode ``upstream``.

Related options:

* ``rebuild_policies``
* ``resize_policies``
""")


class BaseImageRefPolicy(base.RebuildPolicy):
    """Set ``image_base_image_ref`` in the rebuild's new system metadata.

    Mode ``boot`` (default): :func:`nova_imgmeta.lineage.base_image_ref`,
    the rule Nova applies at boot. Mode ``upstream``: the rebuild image id,
    as Victoria does. Nothing is written when the result is empty
    (volume-backed server rebuilt without an image id).
    """

    summary = ('set ``image_base_image_ref`` again, which the rebuild loses '
               '(bug 1893618); see ``base_image_ref_mode``.')
    options = (base_image_ref_mode,)

    def __init__(self, conf):
        super(BaseImageRefPolicy, self).__init__(conf)
        self.mode = settings.get_option(conf, 'base_image_ref_mode')

    def target(self, image_id, image):
        if self.mode == 'upstream':
            return image_id
        properties = None
        if isinstance(image, dict):
            properties = image.get('properties')
        return lineage.base_image_ref(image_id, properties)

    def apply(self, context, instance, image_id, image, new_sys_metadata):
        value = self.target(image_id, image)
        if value is None or value == '':
            return []
        value = sysmeta.to_sysmeta_value(value)
        key = lineage.SYSMETA_BASE_IMAGE_REF
        old = new_sys_metadata.get(key, changes.ABSENT)
        if old == value:
            return []
        new_sys_metadata[key] = value
        return [changes.MetadataChange(key, old, value)]


class KeepBaseImageRefPolicy(base.ResizePolicy):
    """Keep ``image_base_image_ref`` across resize and cold migration.

    Mode ``boot`` (default): the server's own non-empty value stays (what
    the rebuild policy or Nova's boot rule set); a server without one gets
    Nova's ``image_ref``, as upstream intends. Mode ``upstream``: nothing
    is changed, Nova stores ``image_ref``.
    """

    options = (base_image_ref_mode,)
    summary = ('keep ``image_base_image_ref`` on resize and cold migration, '
               'which Nova Wallaby and later set to the server\'s '
               '``image_ref`` (change f02899418d); follows '
               '``base_image_ref_mode``.')

    def __init__(self, conf):
        super(KeepBaseImageRefPolicy, self).__init__(conf)
        self.mode = settings.get_option(conf, 'base_image_ref_mode')
        if self.mode == 'upstream':
            self.idle = 'base_image_ref_mode = upstream: Nova sets image_ref'

    def apply(self, context, instance, new_sys_metadata):
        key = lineage.SYSMETA_BASE_IMAGE_REF
        system_metadata = getattr(instance, 'system_metadata', None) or {}
        current = system_metadata.get(key)
        if self.mode == 'upstream' or not current:
            return []
        old = new_sys_metadata.get(key, changes.ABSENT)
        if old == current:
            return []
        new_sys_metadata[key] = current
        return [changes.MetadataChange(key, old, current)]
