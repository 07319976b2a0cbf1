"""Snapshot policy ``truncated``: values cut short at 255 bytes.

Nova keeps at most 255 bytes (UTF-8) of an image property in system
metadata, so a longer value reaches the server's snapshots cut short.
Depending on ``[nova_imgmeta] truncated_values`` the policy keeps such a
value and logs a warning (``warn``) or removes it (``drop``). Properties of
the API request are left alone: they do not come from system metadata.
"""

import six
from oslo_log import log as logging

from nova_imgmeta import changes
from nova_imgmeta import opts
from nova_imgmeta import sysmeta
from nova_imgmeta.policies import base

__all__ = ['MODES', 'TruncatedValuePolicy']

LOG = logging.getLogger(__name__)

_STRINGS = frozenset((six.text_type, six.binary_type))

#: Values of ``[nova_imgmeta] truncated_values``.
MODES = ('warn', 'drop')


class TruncatedValuePolicy(base.SnapshotPolicy):
    """Warn about or drop inherited values at Nova's 255-byte limit."""

    reports_changes = True

    def __init__(self, conf):
        super(TruncatedValuePolicy, self).__init__(conf)
        self.mode = opts.get_option(conf, 'truncated_values')

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta.get('properties')
        if not properties or not isinstance(properties, dict):
            return []
        extra = extra_properties or {}
        low, high = sysmeta.MIN_CHARS_AT_LIMIT, sysmeta.MAX_VALUE_BYTES
        at_limit = sysmeta.at_limit
        try:
            # fast path, cheap checks first: most values are short strings
            suspects = [key for key, value in six.iteritems(properties)
                        if low <= len(value) <= high and key not in extra
                        and at_limit(value)]
        except TypeError:   # a value without a length (None, a number...)
            suspects = [key for key, value in six.iteritems(properties)
                        if value.__class__ in _STRINGS and key not in extra
                        and at_limit(value)]
        removed = []
        for key in suspects:
            if self.mode == 'drop':
                removed.append(changes.Change(key, properties.pop(key),
                                              changes.ABSENT))
            else:
                LOG.warning(
                    'nova-imgmeta: instance %(uuid)s: property %(key)s of the '
                    'snapshot is at Nova\'s limit of %(limit)d bytes: it was '
                    'probably cut short (kept, %(value)s)',
                    {'uuid': getattr(instance, 'uuid', None),
                     'key': changes.abbreviate(key),
                     'limit': sysmeta.MAX_VALUE_BYTES,
                     'value': changes.abbreviate(properties[key], limit=64)})
        return removed
