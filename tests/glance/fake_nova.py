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

"""A loopback stand-in for Nova's compute API (v2.1, Queens behaviour).

It serves ``GET /v2.1/servers/detail`` and ``GET /v2.1/servers/<id>``
with the server records and error bodies RECORDED from real Nova 17.0.13
(Queens) in its functional harness (tests/recordings/nova/recorded-queens.json,
written by tools/record-nova-responses.py), and the filtering rules that
recording shows (test_glance_fake_nova.py replays it against this fake):

* deleted servers are hidden unless ``changes-since`` (which then includes
  them) or ``deleted`` (admins only) is given;
* ``all_tenants`` is admin-only (403 "Policy doesn't allow
  os_compute_api:servers:index:get_all_tenants"); without it everyone,
  admins included, sees their own project only;
* admin-only filters (``uuid``, ``deleted``) are silently dropped for
  non-admins; a repeated query parameter keeps its last value;
* ``limit`` is capped silently at ``state.max_limit`` (Nova's ``[api]
  max_limit``, 1000 by default; tests lower it); a full page carries a
  ``servers_links`` "next" link built as Nova builds it (the request's
  parameters sorted, ``marker`` set to the page's last id, the project id
  in the path), recorded in recorded-queens-max-limit.json; ``marker``
  pages by id (400 when the marker is unknown); order is created_at desc,
  id desc.

Authentication mirrors the Glance tier: ``X-Identity-Status: Confirmed``
with ``X-Tenant-Id`` and ``X-Roles``; otherwise 401.
"""

import collections
import copy
import json
import os
import threading
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlparse

from loopback_http import BaseHTTPRequestHandler
from loopback_http import Counter
from loopback_http import serve

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'recordings', 'nova')
MAX_LIMIT = 1000


def _load(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return json.load(handle)


def _recorded():
    recording = _load('recorded-queens.json')
    by_status = {}
    errors = {}
    for record in recording['records']:
        body = record['body'] or {}
        for server in body.get('servers', []):
            by_status.setdefault(server['status'], server)
        if record['status'] == 403:
            errors['forbidden_all_tenants'] = {'status': 403, 'body': body}
        if record['status'] == 404:
            body = copy.deepcopy(body)
            body['itemNotFound']['message'] = \
                'Instance %(uuid)s could not be found.'
            errors['server_not_found'] = {'status': 404, 'body': body}
    # Nova's 401 comes from keystonemiddleware, which the harness replaces
    errors['unauthorized'] = {'status': 401, 'body': {'error': {
        'message': 'The request you have made requires authentication.',
        'code': 401, 'title': 'Unauthorized'}}}
    return by_status['ACTIVE'], by_status['DELETED'], errors


#: fields of a deleted server that differ from a live one (recorded)
DELETED_FIELDS = ('OS-EXT-STS:power_state', 'OS-EXT-STS:vm_state',
                  'progress', 'security_groups', 'status')


class NovaState(object):

    def __init__(self):
        self.template, self.deleted_template, self.errors = _recorded()
        self.servers = {}
        self.lock = threading.Lock()
        self.counter = Counter()
        self.max_limit = MAX_LIMIT

    def add(self, uuid, image_id, project='admin-project', deleted=False,
            created='2018-02-14T10:00:00Z', updated='2018-02-14T10:00:04Z',
            name=None):
        with self.lock:
            self.servers[uuid] = {
                'id': uuid, 'image_id': image_id, 'project': project,
                'deleted': deleted, 'created': created, 'updated': updated,
                'name': name or 'server-' + uuid[:8]}

    def render(self, record):
        server = copy.deepcopy(self.template)
        server['id'] = record['id']
        server['name'] = record['name']
        server['tenant_id'] = record['project']
        server['created'] = record['created']
        server['updated'] = record['updated']
        for link in server['links']:
            link['href'] = link['href'].rsplit('/', 1)[0] + '/' + record['id']
        if record['image_id']:
            server['image']['id'] = record['image_id']
            for link in server['image']['links']:
                link['href'] = (link['href'].rsplit('/', 1)[0] + '/' +
                                record['image_id'])
        else:
            server['image'] = ''   # volume-backed: Nova answers ""
        if record['deleted']:
            for field in DELETED_FIELDS:
                if field in self.deleted_template:
                    server[field] = self.deleted_template[field]
                else:   # Nova leaves these out for a deleted server
                    server.pop(field, None)
            server['OS-SRV-USG:terminated_at'] = record['updated']
        return server


class NovaHandler(BaseHTTPRequestHandler):
    state = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.send_header('X-OpenStack-Nova-API-Version', '2.1')
        self.end_headers()
        self.wfile.write(data)

    def _error(self, name, **subst):
        error = copy.deepcopy(self.state.errors[name])
        for value in error['body'].values():
            if subst:
                value['message'] = value['message'] % subst
        self._send(error['status'], error['body'])

    def server_url(self):
        return 'http://%s:%d' % self.server.server_address[:2]

    def do_GET(self):
        state = self.state
        url = urlparse(self.path)
        state.counter.add('GET', self.path)
        if self.headers.get('X-Identity-Status') != 'Confirmed':
            return self._error('unauthorized')
        project = self.headers.get('X-Tenant-Id')
        roles = [r.strip() for r in
                 (self.headers.get('X-Roles') or '').split(',')]
        admin = 'admin' in roles
        query = dict(parse_qsl(url.query))   # last value wins, like Nova
        path = url.path.rstrip('/')
        if project and path.startswith('/v2.1/%s/' % project):
            path = '/v2.1/' + path[len('/v2.1/%s/' % project):]
        if not path.startswith('/v2.1/servers'):
            return self._send(404, {'itemNotFound': {
                'message': 'The resource could not be found.', 'code': 404}})
        rest = path[len('/v2.1/servers'):].strip('/')
        if rest and rest != 'detail':
            with state.lock:
                record = state.servers.get(rest)
            if record is None or record['deleted'] or (
                    not admin and record['project'] != project):
                return self._error('server_not_found', uuid=rest)
            return self._send(200, {'server': state.render(record)})
        if 'all_tenants' in query and not admin:
            return self._error('forbidden_all_tenants')
        if not admin:
            query.pop('uuid', None)
            query.pop('deleted', None)
        with state.lock:
            records = list(state.servers.values())
        if 'all_tenants' not in query:
            records = [r for r in records if r['project'] == project]
        since = query.get('changes-since')
        if 'deleted' in query:
            wanted = query['deleted'].lower() in ('true', '1', 'yes')
            records = [r for r in records if r['deleted'] == wanted]
        elif not since:
            records = [r for r in records if not r['deleted']]
        if since:
            records = [r for r in records
                       if r['updated'][:19] >= since.replace('Z', '')[:19]]
        if 'uuid' in query:
            records = [r for r in records if r['id'] == query['uuid']]
        records.sort(key=lambda r: (r['created'], r['id']), reverse=True)
        if 'marker' in query:
            ids = [r['id'] for r in records]
            if query['marker'] not in ids:
                return self._send(400, {'badRequest': {
                    'message': 'marker [%s] not found' % query['marker'],
                    'code': 400}})
            records = records[ids.index(query['marker']) + 1:]
        limit = min(int(query.get('limit', state.max_limit)),
                    state.max_limit)
        page = records[:limit]
        body = {'servers': [state.render(r) for r in page]}
        if len(page) == limit and page:
            # nova.api.openstack.common.ViewBuilder._get_next_link
            params = collections.OrderedDict(sorted(
                dict(parse_qsl(url.query)).items()))
            params['marker'] = page[-1]['id']
            body['servers_links'] = [{'rel': 'next', 'href': '%s/v2.1/%s/'
                                      'servers/detail?%s' % (
                                          self.server_url(), project,
                                          urlencode(params))}]
        return self._send(200, body)


def start_fake_nova():
    state = NovaState()
    server = serve(NovaHandler, state=state)
    server.state = state
    server.compute_url = server.url + '/v2.1'
    return server
