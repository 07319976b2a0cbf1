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
