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

"""Snapshot policy ``stamp-project``: record the project a snapshot came from.

Enable it in nova.conf after installing this distribution::

    [nova_imgmeta]
    snapshot_policies = heal,never-inherit,patterns,truncated,stamp-project
"""

from nova_imgmeta.policies import base

__all__ = ['StampProjectPolicy']

PROPERTY = 'source_project_id'


class StampProjectPolicy(base.SnapshotPolicy):
    """Set ``source_project_id`` to the project of the snapshotted server."""

    summary = 'set source_project_id to the project of the server'

    def apply(self, instance, image_meta, extra_properties):
        project_id = getattr(instance, 'project_id', None)
        properties = image_meta.get('properties')
        if not project_id or not isinstance(properties, dict):
            return
        if PROPERTY in extra_properties:
            return  # the request's own value wins
        properties[PROPERTY] = project_id
