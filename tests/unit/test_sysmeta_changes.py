# -*- coding: utf-8 -*-
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

import logging

import pytest

from nova_imgmeta import changes
from nova_imgmeta import sysmeta

from . import fakes


@pytest.mark.parametrize('value,expected', [
    ('x' * 255, True),
    ('x' * 254, False),
    ('x' * 256, False),   # not from system metadata: Nova never stores it
    (u'é' * 127, True),    # 254 bytes: a 2-byte character was cut off
    (u'é' * 126, True),    # 252 bytes, not ASCII: may have been cut
    (u'é' * 125, False),   # 250 bytes
    (u'€' * 85, True),     # 255 bytes exactly
    (u'€' * 84, True),     # 252 bytes with 3-byte characters
    (u'a' + u'€' * 84, True),
    (b'y' * 255, True),
    (b'y' * 253, False),
    (None, False),
    (12345, False),
    ('', False),
])
def test_at_limit(value, expected):
    assert sysmeta.at_limit(value) is expected


def test_at_limit_matches_what_nova_cuts():
    for text in (u'a' * 300, u'é' * 300, u'€' * 300, u'😀' * 100,
                 u'ab€' * 100):
        assert sysmeta.at_limit(fakes.safe_truncate(text, 255)), text


def test_to_sysmeta_value_like_nova():
    for value in (u'é' * 300, 'plain', 42, None, u'€' * 90):
        assert sysmeta.to_sysmeta_value(value) == fakes.safe_truncate(
            u'%s' % (value,), 255)
    assert sysmeta.to_sysmeta_value(b'bytes') == u'bytes'


def test_abbreviate_never_logs_long_values_whole():
    value = u'ü' * 300
    text = changes.abbreviate(value)
    assert value not in text
    assert len(text) < 255
    assert '300 characters' in text
    assert changes.abbreviate(u'x' * 255) == u"'%s'" % (u'x' * 255)


@pytest.mark.parametrize('value,expected', [
    (None, 'None'),
    (changes.ABSENT, '<absent>'),
    (3, '3'),
    (u'é', u"'é'"),
    (b'raw', u"'raw'"),
    ([1, 2], '[1, 2]'),
])
def test_abbreviate_any_value(value, expected):
    assert changes.abbreviate(value) == expected


def test_diff():
    before = {'a': 1, 'b': 2, 'c': None}
    after = {'a': 1, 'b': 3, 'd': u'é'}
    assert sorted(changes.diff(before, after)) == sorted([
        changes.MetadataChange('b', 2, 3),
        changes.MetadataChange('c', None, changes.ABSENT),
        changes.MetadataChange('d', changes.ABSENT, u'é'),
    ])
    assert changes.diff(before, dict(before)) == []


def test_log_changes(caplog):
    caplog.set_level(logging.DEBUG)
    changes.log_changes('pol', fakes.UUID, [])
    assert not caplog.records   # nothing changed: not even a DEBUG line
    changes.log_changes('pol', fakes.UUID,
                        [changes.MetadataChange(u'kéy', u'v' * 400,
                                                changes.ABSENT)])
    [info] = caplog.records
    assert info.levelno == logging.INFO
    message = info.getMessage()
    for part in (fakes.UUID, u'kéy', 'pol', '<absent>', '400 characters'):
        assert part in message
    assert u'v' * 256 not in message
