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

from oslo_config import cfg

from nova_imgmeta import changes
from nova_imgmeta import compat
from nova_imgmeta import exceptions
from nova_imgmeta.policies import base
from nova_imgmeta import settings

__all__ = ['NOVA_SNAPSHOT_PROPERTIES', 'PatternPolicy', 'compile_patterns']

#: Set by Nova's ``_create_image`` for every snapshot.
NOVA_SNAPSHOT_PROPERTIES = frozenset([
    'instance_uuid', 'user_id', 'image_type', 'base_image_ref',
])

_MAGIC = re.compile(r'[*?[]')

deny_patterns = cfg.ListOpt(
    'deny_patterns',
    default=[],
    help="""
Shell-style patterns (fnmatch, case-sensitive: ``*``, ``?``, ``[seq]``) of
image properties that the ``patterns`` snapshot policy removes from every
snapshot.

The properties Nova sets for the snapshot itself (instance_uuid, user_id,
image_type, base_image_ref) and the extra properties of the API request are
removed only when named exactly, never by a wildcard. An empty pattern, an
unclosed ``[`` or a reversed range such as ``[z-a]`` is a configuration
error.

Possible values:

* a list of patterns, e.g. ``hw_*,custom_license_*``; empty: remove nothing.

Related options:

* ``allow_only_patterns``, ``snapshot_policies``
""")

allow_only_patterns = cfg.ListOpt(
    'allow_only_patterns',
    default=[],
    help="""
Shell-style patterns (as for ``deny_patterns``) of the only image properties
a snapshot may inherit; the ``patterns`` snapshot policy removes every other
inherited property.

The properties Nova sets for the snapshot itself (instance_uuid, user_id,
image_type, base_image_ref) and the extra properties of the API request are
always kept.

Possible values:

* a list of patterns, e.g. ``hw_*,os_*``; empty: no allow-list (keep
  everything not denied).

Related options:

* ``deny_patterns`` (applied first), ``snapshot_policies``
""")


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
    if isinstance(pattern, compat.binary_type):
        # oslo.config gives bytes on Python 2; Nova's keys are text.
        try:
            pattern = pattern.decode('utf-8')
        except UnicodeDecodeError:
            raise exceptions.ConfigError(
                option, 'pattern %r is not valid UTF-8' % pattern)
    if not isinstance(pattern, compat.string_types) or not pattern.strip():
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
        return re.compile(fnmatch.translate(pattern)).match, pattern
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
        match, text = _check_pattern(option, pattern)
        matchers.append(match)
        if not _MAGIC.search(text):
            exact.add(text)
    return matchers, frozenset(exact)


def _matches(matchers, key):
    for match in matchers:
        if match(key):
            return True
    return False


class PatternPolicy(base.SnapshotPolicy):
    """Apply ``deny_patterns`` then ``allow_only_patterns``."""

    summary = 'apply ``deny_patterns``, then ``allow_only_patterns``.'
    options = (deny_patterns, allow_only_patterns)

    def __init__(self, conf):
        super(PatternPolicy, self).__init__(conf)
        self.deny, self.deny_exact = compile_patterns(
            'deny_patterns', settings.get_option(conf, 'deny_patterns'))
        self.allow, _exact = compile_patterns(
            'allow_only_patterns',
            settings.get_option(conf, 'allow_only_patterns'))
        if not (self.deny or self.allow):
            self.idle = 'deny_patterns and allow_only_patterns are empty'

    def apply(self, context, instance, image_meta, extra_properties):
        if not (self.deny or self.allow):
            return []
        properties = image_meta.get('properties')
        if not properties or not isinstance(properties, dict):
            return []
        return changes.remove(properties,
                              self._denied(properties, extra_properties or {}))

    def _denied(self, properties, extra):
        denied = []
        for key in properties:
            if not isinstance(key, compat.string_types):
                continue
            if key in NOVA_SNAPSHOT_PROPERTIES or key in extra:
                drop = key in self.deny_exact
            else:
                drop = (_matches(self.deny, key) or
                        bool(self.allow) and not _matches(self.allow, key))
            if drop:
                denied.append(key)
        return denied
