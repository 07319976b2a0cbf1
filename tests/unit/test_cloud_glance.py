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

"""The Glance and Nova layers' choices that no live server of the test
tiers shows: a Rocky Glance (API v2.7 without visibility=all), a Glance
without a version document, Nova's next links going round in circles."""

import pytest

from nova_imgmeta.cloud import compute
from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud import glance

try:  # Python 3
    from urllib.parse import parse_qsl
    from urllib.parse import urlsplit
except ImportError:  # Python 2.7
    from urlparse import parse_qsl
    from urlparse import urlsplit


class HTTPError(Exception):
    def __init__(self, code):
        super(HTTPError, self).__init__('HTTP %d' % code)
        self.code = code


class FakeGlance(object):
    """Images with owner, visibility and os_hidden, listed the way Glance
    Rocky (API v2.7) lists them: no visibility=all (400).
    """

    def __init__(self, versions, images, all_visibility=False):
        self.versions = versions
        self.images = images
        self.all_visibility = all_visibility
        self.asked = []

    def get(self, url):
        self.asked.append(url)
        if url == '/versions':
            if self.versions is None:
                raise HTTPError(404)
            return None, {'versions': [{'id': v, 'status': 'SUPPORTED'}
                                       for v in self.versions]}
        query = dict(parse_qsl(urlsplit(url).query))
        visibility = query.get('visibility')
        if visibility == 'all' and not self.all_visibility:
            raise HTTPError(400)
        hidden = query.get('os_hidden', 'false') == 'true'
        found = []
        for image in self.images:
            if image.get('os_hidden', False) != hidden:
                continue
            if visibility in (None, 'all'):
                if visibility is None and image['visibility'] == 'community':
                    continue
            elif image['visibility'] != visibility:
                continue
            found.append(image)
        return None, {'images': found}


IMAGES = [
    {'id': 'a', 'visibility': 'private'},
    {'id': 'b', 'visibility': 'public'},
    {'id': 'c', 'visibility': 'community'},
    {'id': 'd', 'visibility': 'private', 'os_hidden': True},
    {'id': 'e', 'visibility': 'community', 'os_hidden': True},
]


def _listed(http):
    api = glance.GlanceAPI(http)
    return sorted(set(i['id'] for i in api.iter_catalogue(page_size=10)))


def test_rocky_falls_back_from_visibility_all():
    http = FakeGlance(['v2.7', 'v2.6'], IMAGES)
    assert _listed(http) == ['a', 'b', 'c', 'd', 'e']
    queries = [sorted(parse_qsl(urlsplit(u).query)) for u in http.asked[1:]]
    assert [dict(q).get('visibility') for q in queries] == \
        ['all', None, None, 'community', 'community']
    assert [dict(q).get('os_hidden') for q in queries] == \
        [None, None, 'true', None, 'true']


def test_stein_and_later_use_visibility_all():
    http = FakeGlance(['v2.9'], IMAGES, all_visibility=True)
    assert _listed(http) == ['a', 'b', 'c', 'd', 'e']
    assert len(http.asked) == 3   # versions, all, all + hidden


@pytest.mark.parametrize('versions', [['v2.5', 'v2.4'], None])
def test_before_v27_never_sends_os_hidden(versions):
    http = FakeGlance(versions, IMAGES)
    assert _listed(http) == ['a', 'b', 'c']
    assert not [u for u in http.asked if 'os_hidden' in u or
                'visibility=all' in u]


def test_api_version_reads_the_highest_v2():
    assert glance.api_version({'versions': [
        {'id': 'v2.10', 'status': 'CURRENT'},
        {'id': 'v2.9', 'status': 'SUPPORTED'},
        {'id': 'v3.0', 'status': 'EXPERIMENTAL'},
        {'id': 'v1.1', 'status': 'DEPRECATED'}]}) == (2, 10)
    assert glance.api_version({}) is None


class FakeNova(object):
    def __init__(self, pages):
        self.pages = pages
        self.asked = []

    def get(self, url):
        self.asked.append(url)
        return None, self.pages[len(self.asked) - 1]


def _page(ids, marker=None):
    body = {'servers': [{'id': i} for i in ids]}
    if marker:
        body['servers_links'] = [{'rel': 'next', 'href':
                                  'http://nova/v2.1/p/servers/detail?'
                                  'limit=1000&marker=%s' % marker}]
    return body


def test_nova_listing_follows_next_links_whatever_the_page_size():
    http = FakeNova([_page(['s1', 's2'], 's2'), _page(['s3'], 's3'),
                     _page([])])
    api = compute.NovaAPI(http)
    found = [s['id'] for s in api.iter_servers([('changes-since', 'x')])]
    assert found == ['s1', 's2', 's3']
    assert 'marker' not in http.asked[0]
    assert 'marker=s2' in http.asked[1] and 'marker=s3' in http.asked[2]


def test_nova_next_links_in_circles_stop_with_an_error():
    http = FakeNova([_page(['s1'], 's1'), _page(['s1'], 's1')])
    api = compute.NovaAPI(http)
    with pytest.raises(ApiError) as info:
        list(api.iter_servers([]))
    assert 'same "next" marker twice' in str(info.value)
