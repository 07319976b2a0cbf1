"""Snapshot policy ``truncated``: values cut short at 255 bytes.

Nova keeps at most 255 bytes (UTF-8) of an image property in system
metadata, so a longer value reaches the server's snapshots cut short.
Depending on ``[nova_imgmeta] truncated_values`` the policy keeps such a
value and logs a warning (``warn``) or removes it (``drop``). Properties of
the API request are left alone: they do not come from system metadata.
"""

import six
from oslo_config import cfg
from oslo_log import log as logging

from nova_imgmeta import changes
from nova_imgmeta import opts
from nova_imgmeta import sysmeta
from nova_imgmeta.policies import base

__all__ = ['TruncatedValuePolicy']

LOG = logging.getLogger(__name__)

truncated_values = cfg.StrOpt(
    'truncated_values',
    default='warn',
    choices=['warn', 'drop'],
    help="""
What the ``truncated`` snapshot policy does with an inherited property whose
value is at Nova's 255-byte limit for system metadata, i.e. was probably
cut short when the server was built: exactly 255 bytes of UTF-8, or 252 to
254 bytes holding a multi-byte character (Nova drops a character that the
cut split). A value that really had that length cannot be told apart.
Values set by the API request are left alone. Restoring the full value from
Glance is not implemented.

Possible values:

* ``warn``: keep the value and log a warning.
* ``drop``: remove the property from the snapshot.

Related options:

* ``snapshot_policies``
""")


_HAS_ISASCII = hasattr(six.text_type, 'isascii')   # Python 3.7 and later


def _all_ascii(values):
    try:
        joined = u''.join(values)
    except (TypeError, UnicodeDecodeError):   # bytes among them
        return False
    if _HAS_ISASCII:
        return joined.isascii()
    try:
        joined.encode('ascii')
    except UnicodeError:
        return False
    return True


def cut_short(properties, extra_properties):
    """Return the keys of ``properties`` whose values Nova may have cut.

    Most snapshots have none: one pass finds the values long enough to be
    at the limit and, when they are all ASCII, only one of exactly 255
    characters can be. Testing each value on its own costs about twice as
    much on Python 2.7 (benchmarks/bench_snapshot_chain.py).
    """
    try:
        long_values = [value for value in six.itervalues(properties)
                       if len(value) >= sysmeta.MIN_CHARS_AT_LIMIT]
    except TypeError:   # a value without a length (None, a number...)
        pass
    else:
        if not long_values or (
                _all_ascii(long_values) and
                sysmeta.MAX_VALUE_BYTES not in map(len, long_values)):
            return []
    extra = extra_properties or {}
    return [key for key, value in six.iteritems(properties)
            if key not in extra and sysmeta.at_limit(value)]


class TruncatedValuePolicy(base.SnapshotPolicy):
    """Warn about or drop inherited values at Nova's 255-byte limit."""

    summary = ('find inherited values at Nova\'s 255-byte limit of system '
               'metadata (probably cut short); see ``truncated_values``.')
    options = (truncated_values,)

    def __init__(self, conf):
        super(TruncatedValuePolicy, self).__init__(conf)
        self.drop = opts.get_option(conf, 'truncated_values') == 'drop'

    def apply(self, context, instance, image_meta, extra_properties):
        properties = image_meta.get('properties')
        if not properties or not isinstance(properties, dict):
            return []
        removed = []
        for key in cut_short(properties, extra_properties):
            if self.drop:
                removed.append(changes.Change(key, properties.pop(key),
                                              changes.ABSENT))
                continue
            LOG.warning(
                'nova-imgmeta: instance %(uuid)s: property %(key)s of the '
                'snapshot is at Nova\'s limit of %(limit)d bytes: it was '
                'probably cut short (kept, %(value)s)',
                {'uuid': getattr(instance, 'uuid', None),
                 'key': changes.abbreviate(key),
                 'limit': sysmeta.MAX_VALUE_BYTES,
                 'value': changes.abbreviate(properties[key], limit=64)})
        return removed
