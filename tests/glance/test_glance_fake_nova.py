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

"""The Nova stand-in against the answers recorded from real Nova 17.0.13.

tests/recordings/nova/recorded-queens*.json hold what Nova's functional
harness answered (tools/record-nova-responses.py), with the default
``[api] max_limit`` and with a lowered one; this replays each recorded
request against the stand-in, seeded with the same servers and the same
max_limit, and compares the status codes, the servers listed (and their
order and status), the fields of each server and the "next" links.
"""

import json
import os

import pytest

from fake_nova import FIXTURES
from fake_nova import start_fake_nova

try:
    from urllib.error import HTTPError
    from urllib.request import Request
    from urllib.request import urlopen
except ImportError:  # pragma: no cover
    pass

RECORDINGS = dict(
    (name, json.load(open(os.path.join(FIXTURES, name))))
    for name in ('recorded-queens.json', 'recorded-queens-max-limit.json'))
RECORDS = [(name, record) for name in sorted(RECORDINGS)
           for record in RECORDINGS[name]['records']]
PROJECT = '6f70656e737461636b20342065766572'


@pytest.fixture(scope='module')
def stand_ins():
    """One stand-in per recording, seeded like it."""
    started = dict((name, _seeded(RECORDINGS[name])) for name in RECORDINGS)
    yield started
    for server in started.values():
        server.shutdown()


def _seeded(recording):
    server = start_fake_nova()
    server.state.max_limit = recording['max_limit']
    servers = {}
    for record in recording['records']:
        for item in (record['body'] or {}).get('servers', []):
            servers[item['id']] = item
    for item in servers.values():
        server.state.add(item['id'], item['image']['id'], project=PROJECT,
                         deleted=item['status'] == 'DELETED',
                         created=item['created'], updated=item['updated'],
                         name=item['name'])
    return server


def _get(url, role):
    request = Request(url)
    for name, value in (('X-Identity-Status', 'Confirmed'),
                        ('X-Tenant-Id', PROJECT), ('X-Roles', role)):
        request.add_header(name, value)
    try:
        response = urlopen(request)
        return response.status, json.loads(response.read().decode('utf-8'))
    except HTTPError as exc:
        return exc.code, json.loads(exc.read().decode('utf-8'))


def _relative(link):
    """A link without its scheme and host (the harness has a fake host)."""
    return link['rel'], link['href'].split('/', 3)[3]


@pytest.mark.parametrize('name,record', RECORDS,
                         ids=['%s %s' % (n[9:-5], r['request'][20:90])
                              for n, r in RECORDS])
def test_replay(stand_ins, name, record):
    seeded = stand_ins[name]
    role = 'admin' if record['as'] == 'admin' else 'member,reader'
    path = record['request'].split(' ', 1)[1]
    status, body = _get(seeded.url + path, role)
    assert status == record['status']
    if 'servers' in record['body']:
        expected = [(s['id'], s['status']) for s in record['body']['servers']]
        assert [(s['id'], s['status']) for s in body['servers']] == expected
        for ours, theirs in zip(body['servers'], record['body']['servers']):
            assert sorted(ours) == sorted(theirs)
        assert [_relative(link) for link in body.get('servers_links', [])] \
            == [_relative(link)
                for link in record['body'].get('servers_links', [])]
    else:
        assert body == record['body']
