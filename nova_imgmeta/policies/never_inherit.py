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

"""Snapshot policy ``never-inherit`` (bug 1852106).

Nova copies every image property of the server to its snapshots, minus
``[DEFAULT] non_inheritable_image_properties``. The encryption key id of
the original volume image (deleting the snapshot may then delete the
original's key: data loss), Glance's internal ``os_glance*`` properties
and the image signature properties (wrong for the snapshot's data; dropped
only while that option keeps its default list) must never be inherited.
Upstream made them never-inheritable in Ussuri (commit bc29084) and
Wallaby (commit dda179d). As upstream does, a property that the API
request itself supplies (extra properties) is kept.
"""

from nova_imgmeta import changes
from nova_imgmeta import compat
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

_SORTED = tuple(sorted(NEVER_INHERIT))
# Each prefix, and as it appears at the start of a key but the first in
# the joined keys of _doomed().
_PREFIXES = tuple((prefix, '\x00' + prefix)
                  for prefix in NEVER_INHERIT_PREFIXES)


def never_inherited(key):
    """Tell whether property ``key`` must never reach a snapshot."""
    return isinstance(key, compat.string_types) and (
        key in NEVER_INHERIT or key.startswith(NEVER_INHERIT_PREFIXES))


def _doomed(properties):
    """The never-inherited keys of ``properties``, in sorted order.

    One C-level join of the keys tells whether any carries a prefix at all
    (usually none does), instead of a Python-level test per key: for 52
    properties on Python 2.7, 1.6 us instead of 6.4. (The join of
    ``keys()``, a list on 2.7, saves it building one from the dict: 0.3
    us.)
    """
    try:
        joined = '\x00'.join(properties.keys())   # text, or bytes on 2.7
    except (TypeError, UnicodeDecodeError):   # keys that are not all text
        return sorted((key for key in properties if never_inherited(key)),
                      key=repr)
    doomed = [key for key in _SORTED if key in properties]
    for prefix, needle in _PREFIXES:
        if needle in joined or joined.startswith(prefix):
            doomed.extend(sorted(key for key in properties
                                 if key.startswith(prefix)))
    return doomed


class NeverInheritPolicy(base.SnapshotPolicy):
    """Remove the never-inheritable properties from a snapshot."""

    summary = (
        'never copy %s and every %s property to a snapshot, whatever '
        '``[DEFAULT] non_inheritable_image_properties`` says (bug 1852106; '
        'upstream Ussuri bc29084, Wallaby dda179d). As upstream, a property '
        'set by the API request itself is kept.'
        % (', '.join('``%s``' % key for key in sorted(NEVER_INHERIT)),
           ', '.join('``%s*``' % prefix
                     for prefix in NEVER_INHERIT_PREFIXES)))

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta.get('properties')
        if not properties or not isinstance(properties, dict):
            return []
        removed = []
        for key in _doomed(properties):
            if extra_properties and key in extra_properties:
                continue
            removed.append(changes.MetadataChange(
                key, properties.pop(key), changes.ABSENT))
        return removed
