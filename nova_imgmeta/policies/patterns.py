"""Snapshot policy ``patterns``: operator deny and allow-only lists.

``[nova_imgmeta] deny_patterns`` removes the inherited properties that match
one of its shell-style patterns; ``allow_only_patterns``, when not empty,
removes every inherited property that matches none of its patterns. Matching
is ``fnmatch.fnmatchcase`` (case-sensitive). The properties Nova sets for the
snapshot itself and the request's extra properties are removed only when a
deny pattern names them exactly, and never by the allow-only list.
"""

import fnmatch
import re

import six

from nova_imgmeta import changes
from nova_imgmeta import exceptions
from nova_imgmeta import opts
from nova_imgmeta.policies import base

__all__ = ['NOVA_SNAPSHOT_PROPERTIES', 'PatternPolicy', 'compile_patterns']

#: Set by Nova's ``_create_image`` for every snapshot.
NOVA_SNAPSHOT_PROPERTIES = frozenset([
    'instance_uuid', 'user_id', 'image_type', 'base_image_ref',
])

_MAGIC = re.compile(r'[*?[]')


def _check_ranges(option, pattern, content):
    k = 0
    while k < len(content):
        if k + 2 < len(content) and content[k + 1] == '-':
            if content[k] > content[k + 2]:
                raise exceptions.ConfigError(
                    option, 'malformed pattern %r: bad range %s'
                    % (pattern, content[k:k + 3]))
            k += 3
        else:
            k += 1


def _check_pattern(option, pattern):
    if not isinstance(pattern, six.string_types) or not pattern.strip():
        raise exceptions.ConfigError(option, 'empty pattern')
    if pattern != pattern.strip():
        raise exceptions.ConfigError(
            option, 'pattern %r has leading or trailing spaces' % pattern)
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == '[':
            j = i + 1
            if j < n and pattern[j] == '!':
                j += 1
            start = j
            if j < n and pattern[j] == ']':
                j += 1
            while j < n and pattern[j] != ']':
                j += 1
            if j >= n:
                raise exceptions.ConfigError(
                    option, "malformed pattern %r: '[' at %d is never "
                    "closed" % (pattern, i))
            _check_ranges(option, pattern, pattern[start:j])
            i = j
        i += 1
    try:
        return re.compile(fnmatch.translate(pattern)).match
    except re.error as exc:
        raise exceptions.ConfigError(
            option, 'malformed pattern %r: %s' % (pattern, exc))


def compile_patterns(option, patterns):
    """Check ``patterns`` and return ``(matchers, exact names)``.

    :raises ConfigError: naming ``option`` for an empty or malformed pattern
        (for instance an unclosed ``[``).
    """
    matchers = []
    exact = set()
    for pattern in patterns or []:
        matchers.append(_check_pattern(option, pattern))
        if not _MAGIC.search(pattern):
            exact.add(pattern)
    return matchers, frozenset(exact)


def _matches(matchers, key):
    for match in matchers:
        if match(key):
            return True
    return False


class PatternPolicy(base.SnapshotPolicy):
    """Apply ``deny_patterns`` then ``allow_only_patterns``."""

    reports_changes = True

    def __init__(self, conf):
        super(PatternPolicy, self).__init__(conf)
        self.deny, self.deny_exact = compile_patterns(
            'deny_patterns', opts.get_option(conf, 'deny_patterns'))
        self.allow, _exact = compile_patterns(
            'allow_only_patterns',
            opts.get_option(conf, 'allow_only_patterns'))

    def apply(self, context, instance, image_meta, extra_properties):
        if not (self.deny or self.allow):
            return []
        properties = image_meta.get('properties')
        if not properties or not isinstance(properties, dict):
            return []
        extra = extra_properties or {}
        removed = []
        for key in list(properties):
            if not isinstance(key, six.string_types):
                continue
            protected = key in NOVA_SNAPSHOT_PROPERTIES or key in extra
            if protected:
                drop = key in self.deny_exact
            else:
                drop = (_matches(self.deny, key) or
                        bool(self.allow) and not _matches(self.allow, key))
            if drop:
                removed.append(changes.Change(key, properties.pop(key),
                                              changes.ABSENT))
        return removed
