"""Snapshot policy ``never-inherit`` (bug 1852106).

Nova Pike and Queens copy every image property of the server to its
snapshots, minus ``[DEFAULT] non_inheritable_image_properties``. The
encryption key id of the original volume image (deleting the snapshot may
then delete the original's key: data loss), Glance's internal ``os_glance*``
properties and the image signature properties (wrong for the snapshot's
data; dropped only while that option keeps its default list) must never be
inherited. Upstream made them never-inheritable in Ussuri (commit bc29084)
and Wallaby (commit dda179d). As upstream does, a property that the API
request itself supplies (extra properties) is kept.
"""

import six

from nova_imgmeta import changes
from nova_imgmeta.policies import base

__all__ = ['NEVER_INHERIT', 'NEVER_INHERIT_PREFIXES', 'NeverInheritPolicy',
           'never_inherited']

#: Properties never copied to a snapshot.
NEVER_INHERIT = frozenset([
    'cinder_encryption_key_id',
    'cinder_encryption_key_deletion_policy',
    'img_signature',
    'img_signature_hash_method',
    'img_signature_key_type',
    'img_signature_certificate_uuid',
])
#: Prefixes of properties never copied to a snapshot.
NEVER_INHERIT_PREFIXES = ('os_glance',)

# the fast path of apply() handles exactly one prefix
_PREFIX = six.text_type(NEVER_INHERIT_PREFIXES[0])
_PREFIX_LEN = len(_PREFIX)
assert len(NEVER_INHERIT_PREFIXES) == 1


def never_inherited(key):
    """Tell whether property ``key`` must never reach a snapshot."""
    return isinstance(key, six.string_types) and (
        key in NEVER_INHERIT or key.startswith(NEVER_INHERIT_PREFIXES))


class NeverInheritPolicy(base.SnapshotPolicy):
    """Remove the never-inheritable properties from a snapshot."""

    reports_changes = True

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta.get('properties')
        if not properties or not isinstance(properties, dict):
            return []
        extra = extra_properties or {}
        removed = []
        try:
            # Fast path for string keys: one C-level pass tells whether any
            # key carries the prefix at all; usually none does.
            joined = '\x00'.join(properties)
        except (TypeError, UnicodeDecodeError):
            doomed = [k for k in properties if never_inherited(k)]
        else:
            doomed = sorted(NEVER_INHERIT.intersection(properties))
            if NEVER_INHERIT_PREFIXES[0] in joined:
                doomed.extend(sorted(k for k in properties
                                     if k[:_PREFIX_LEN] == _PREFIX))
        for key in doomed:
            if key in extra:
                continue
            removed.append(changes.Change(key, properties.pop(key),
                                          changes.ABSENT))
        return removed
