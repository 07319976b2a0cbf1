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


"""The Nova release lines nova-imgmeta supports, in words, from MAP.

``nova_imgmeta/patches/MAP`` is the one list of supported releases: the
range that ``nova-imgmeta --help``, the ``[nova_imgmeta]`` group help
(hence the sample configuration) and the documentation state ("Pike
(16.x) to Victoria (22.x)") is made here from its oldest and newest rule,
so that a line added to MAP is named everywhere at once; texts that cannot
be generated (setup.cfg's summary, the package docstring) name no line.
The line of a series is its name up to the first ``-`` (as in MAP).
"""

import collections

__all__ = ['Line', 'lines', 'range_text', 'FALLBACK']

#: A release line: its name (``Pike``) and its major version (16).
Line = collections.namedtuple('Line', ['name', 'major'])

#: What :func:`range_text` says when MAP cannot be read.
FALLBACK = 'the releases listed in nova_imgmeta/patches/MAP'


def _line(rule):
    first, _last, series = rule
    return Line(series.split('-', 1)[0].capitalize(), first[0])


def lines(patches_dir=None):
    """``(oldest, newest)`` :class:`Line` of MAP.

    :raises nova_imgmeta.patching.PatchError: MAP cannot be read or has no
        rule.
    """
    from nova_imgmeta.patching import errors
    from nova_imgmeta.patching import series   # only when asked
    rules = sorted(series.load_map(patches_dir))
    if not rules:
        raise errors.PatchError('the series map names no release')
    return _line(rules[0]), _line(rules[-1])


def range_text(patches_dir=None):
    """``'Pike (16.x) to Victoria (22.x)'``; never raises (a packaging
    fault that loses MAP gives :data:`FALLBACK`).
    """
    try:
        oldest, newest = lines(patches_dir)
    except Exception:
        return FALLBACK
    if oldest == newest:
        return '%s (%d.x)' % oldest
    return '%s (%d.x) to %s (%d.x)' % (oldest + newest)
