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
A line is named for Nova's major version (:data:`LINE_NAMES`, OpenStack's
names of its releases): from Wallaby on a series serves several lines.
"""

import collections

__all__ = ['Line', 'LINE_NAMES', 'FIRST_NUMBERED', 'line_name', 'lines',
           'range_text', 'FALLBACK']

#: A release line: its name (``Pike``) and its major version (16).
Line = collections.namedtuple('Line', ['name', 'major'])

#: What :func:`range_text` says when MAP cannot be read.
FALLBACK = 'the releases listed in nova_imgmeta/patches/MAP'


#: OpenStack's name of the release whose Nova has this major version, up
#: to Zed; from 2023.1 on the names are numbers (:data:`FIRST_NUMBERED`).
LINE_NAMES = {
    16: 'Pike', 17: 'Queens', 18: 'Rocky', 19: 'Stein', 20: 'Train',
    21: 'Ussuri', 22: 'Victoria', 23: 'Wallaby', 24: 'Xena', 25: 'Yoga',
    26: 'Zed',
}

#: Nova's major version of 2023.1. From there OpenStack names its two
#: releases a year YEAR.1 and YEAR.2, so a line added to MAP later (35:
#: 2027.1) needs no name written here (issue 18's trial).
FIRST_NUMBERED = 27


def line_name(major, series=None):
    """The line of Nova ``major``: its OpenStack name, else (a line
    older than this table) the series' name up to its first ``-``, else
    ``Nova N``.
    """
    if major in LINE_NAMES:
        return LINE_NAMES[major]
    if major >= FIRST_NUMBERED:
        return '%d.%d' % (2023 + (major - FIRST_NUMBERED) // 2,
                          1 + (major - FIRST_NUMBERED) % 2)
    if series:
        return series.split('-', 1)[0].capitalize()
    return 'Nova %d' % major


def _line(major, series):
    return Line(line_name(major, series), major)


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
    oldest, newest = rules[0], max(rules, key=lambda rule: rule[1])
    return _line(oldest[0][0], oldest[2]), _line(newest[1][0], newest[2])


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
