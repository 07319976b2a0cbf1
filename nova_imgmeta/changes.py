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

"""Changes made by policies: how they are computed and logged.

Every change is logged at INFO with the instance uuid, the key, the old and
the new value and the policy's name. No log line carries a whole value
longer than 255 characters.
"""

import collections

from oslo_log import log as logging

from nova_imgmeta import compat

__all__ = ['ABSENT', 'MetadataChange', 'diff', 'remove', 'undo',
           'abbreviate', 'shorten', 'log_changes']

LOG = logging.getLogger(__name__)

#: Longest value logged whole; longer ones are abbreviated.
MAX_LOGGED_CHARS = 255
_HEAD_CHARS = 64


class _Absent(object):
    """Marks a key that is not in the dict (before or after a change)."""

    def __repr__(self):
        return '<absent>'

    __str__ = __repr__


ABSENT = _Absent()

#: One key of the system metadata or of the image properties changed by a
#: policy; ``old``/``new`` are :data:`ABSENT` for an added / removed key.
MetadataChange = collections.namedtuple('MetadataChange',
                                        ['key', 'old', 'new'])


def diff(before, after):
    """Return the list of :class:`MetadataChange` from dict ``before`` to
    ``after``.
    """
    if before == after:
        return []
    changes = []
    for key, old in compat.iteritems(before):
        new = after.get(key, ABSENT)
        if new is ABSENT or new != old:
            changes.append(MetadataChange(key, old, new))
    for key, new in compat.iteritems(after):
        if key not in before:
            changes.append(MetadataChange(key, ABSENT, new))
    return changes


def shorten(text, limit=MAX_LOGGED_CHARS):
    """Return ``text`` whole, or its head and length when longer than
    ``limit`` characters.
    """
    if len(text) > limit:
        return u'%s... (%d characters)' % (text[:_HEAD_CHARS], len(text))
    return text


def remove(properties, keys):
    """Remove ``keys`` (all present) from ``properties``; return the changes.

    The built-in policies decide first which keys go, then call this: it
    cannot fail half way, so a built-in policy that raises has changed
    nothing (the dispatcher relies on it, doc/source/plugins.rst section 1).
    """
    return [MetadataChange(key, properties.pop(key), ABSENT) for key in keys]


def undo(target, applied):
    """Put ``target`` back as it was before ``applied``, the change lists
    (of :class:`MetadataChange`) made to it, in the order they were made.
    """
    for found in reversed(applied):
        for change in reversed(found):
            if change.old is ABSENT:
                target.pop(change.key, None)
            else:
                target[change.key] = change.old


def abbreviate(value, limit=MAX_LOGGED_CHARS):
    """Return ``value`` as text fit for a log line (about ``limit`` chars)."""
    if value is ABSENT:
        return '<absent>'
    if isinstance(value, compat.binary_type):
        text = value.decode('utf-8', 'replace')
    elif isinstance(value, compat.text_type):
        text = value
    else:
        try:
            text = compat.text_type(value)
        except Exception:
            text = repr(value)
        if not isinstance(text, compat.text_type):
            text = text.decode('utf-8', 'replace')
    quoted = isinstance(value, (compat.text_type, compat.binary_type))
    text = shorten(text, limit)
    if quoted:
        return u"'%s'" % text
    return text


def log_changes(policy, instance_uuid, changes, where=None):
    """Log each of ``changes`` made by ``policy`` at INFO.

    Nothing is logged for a policy that changed nothing: that is the common
    case, and even a disabled DEBUG line costs a level check per policy and
    call.
    """
    for change in changes:
        key = change.key
        if where:
            key = u'%s[%s]' % (where, abbreviate(key))
        else:
            key = abbreviate(key)
        LOG.info(u'nova-imgmeta: instance %(uuid)s: policy %(policy)s '
                 u'changed %(key)s: %(old)s -> %(new)s',
                 {'uuid': instance_uuid, 'policy': policy, 'key': key,
                  'old': abbreviate(change.old),
                  'new': abbreviate(change.new)})
