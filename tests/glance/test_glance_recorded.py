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

"""Glance 16.0.1 (Queens), replayed: it is not on PyPI, so CI cannot run
it; its answers were recorded once (tools/record-glance-responses.py,
tests/recordings/glance16/recorded.json).

* The CLI's Glance layer runs on the recorded exchanges, as the Nova
  stand-in runs on Nova's: a request the layer makes that Glance 16 was
  never asked fails the test (re-record then).
* The live server of this tier (Glance 33.0.0, or 15.0.2 in glance-15)
  answers the same probes, and the shapes the commands rely on must agree
  with Glance 16's, but for the differences API v2.7 brought, asserted
  one by one.
"""

import json
import os

import glance_answers
import pytest

RECORDED = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'recordings', 'glance16', 'recorded.json')
GLANCE16 = json.load(open(RECORDED))
A_IMAGES = ['rec-base-a', 'rec-patch-me', 'rec-snap-1', 'rec-snap-2',
            'rec-snap-3', 'rec-snap-gone']

#: what the layer must make of the fixed catalogue on Glance 16
EXPECTED_LAYER = {
    'version': [2, 6],
    'has_hidden': False,
    'owner A': A_IMAGES,
    # another project's private image and its community image
    'owner B': ['rec-com-b', 'rec-priv-b'],
    'look-up': {'rec-pub': 'rec-pub', 'rec-priv-b': 'rec-priv-b',
                glance_answers.MISSING: None},
    # add, replace, remove, then replace of the absent key: 409
    'patches': [['ok', 'v1'], ['ok', 'v2'], ['ok', None], ['error', 409]],
}


def test_layer_on_glance16_replayed():
    http = glance_answers.ReplayHTTP(GLANCE16['layer']['records'])
    result = glance_answers.run_layer(http)
    assert result == EXPECTED_LAYER
    assert GLANCE16['layer']['result'] == EXPECTED_LAYER
    # API v2.6: never os_hidden (Glance 16 takes it for a property filter
    # and lists nothing) nor visibility=all (400)
    asked = ' '.join(path for _method, path in http.asked)
    assert 'os_hidden' not in asked and 'visibility=all' not in asked
    assert 'visibility=community' in asked


def test_glance16_answers_what_the_layer_expects():
    shapes = dict((p['label'], glance_answers.shape(p))
                  for p in GLANCE16['probes'])
    assert shapes['os_hidden=false'] == {'statuses': [200], 'images': [],
                                         'pages': 1}
    assert shapes['visibility=all'] == {'statuses': [400]}
    assert shapes['GET a missing image'] == {'statuses': [404]}
    assert shapes['PATCH replace of an absent key'] == {'statuses': [409]}
    assert shapes['owner listing, pages of 2']['pages'] == 4


@pytest.fixture(scope='module')
def live_probes(glance):
    glance_answers.seed(glance_server_admin(glance))
    return glance_answers.run_probes(glance.url)


def glance_server_admin(glance):
    import glance_server
    return glance_server.AdminClient(glance.url)


@pytest.mark.parametrize('label', [p[0] for p in glance_answers.PROBES])
def test_live_answers_agree_with_glance16(glance, live_probes, label):
    recorded = [p for p in GLANCE16['probes'] if p['label'] == label][0]
    live = [p for p in live_probes if p['label'] == label][0]
    expected = glance_answers.shape(recorded)
    if glance.api_version >= (2, 7):
        # what API v2.7 (Rocky) and visibility=all (Stein) changed
        if label == 'os_hidden=false':
            expected = {'statuses': [200], 'images': A_IMAGES, 'pages': 1}
        elif label == 'visibility=all':
            expected = {'statuses': [200], 'pages': 1,
                        'images': ['rec-com-b', 'rec-priv-b']}
    assert glance_answers.shape(live) == expected
