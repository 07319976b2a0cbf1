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

"""Batched server look-ups in Nova (compute API v2.1, Pike and Queens).

What those releases' API offers, and what this module uses:

* ``GET /servers/detail`` with ``all_tenants=1`` (admins) and
  ``changes-since=<time>``: Nova then returns deleted servers too (the API
  only hides deleted servers when neither ``changes-since`` nor ``deleted``
  is given), paginated by ``limit`` (at most ``osapi_max_limit``, 1000 by
  default) and ``marker``. One listing therefore answers for every server
  changed since the oldest snapshot in question, live or deleted.
* ``uuid=<one uuid>`` is an admin filter (an exact match; Nova keeps only
  the last value of a repeated query parameter, so it takes no list). For a
  handful of servers one filtered request each is cheaper than a listing.
* Non-admins get 403 for ``all_tenants``: the look-up then retries without
  it and sees the servers of its own project only.

Requests go through :class:`nova_imgmeta.cloud.http.JsonHTTP` (compute API
2.1, the ``compute`` service of the catalog); an answer that is not a
server listing (another content type, a server without ``id``...) is an
:class:`~nova_imgmeta.cloud.failures.ApiError` naming the URL, the status
and what was wrong.
"""

from __future__ import absolute_import

import json

try:  # Python 3
    from urllib.parse import parse_qsl
    from urllib.parse import urlencode
    from urllib.parse import urlsplit
except ImportError:  # Python 2.7
    from urllib import urlencode
    from urlparse import parse_qsl
    from urlparse import urlsplit

from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud.failures import describe
from nova_imgmeta.cloud.http import garbage

__all__ = ['NovaAPI', 'next_marker', 'server_image_id']

DEFAULT_PAGE_SIZE = 1000
#: Up to this many servers are looked up one request each.
DEFAULT_BATCH_THRESHOLD = 20
EPOCH = '1970-01-01T00:00:00Z'
#: the compute API microversion asked for (the base of v2.1)
MICROVERSION = '2.1'
_STRINGS = (type(u''), str)


def nova_http(connection):
    """The JSON client of ``connection``'s compute service."""
    from nova_imgmeta.cloud.http import JsonHTTP
    return JsonHTTP(connection.adapter('compute',
                                       connection.compute_endpoint),
                    'Nova', headers={
                        'X-OpenStack-Nova-API-Version': MICROVERSION})


def server_image_id(server):
    """The id of the image a server (a dict from the API) runs, or ''."""
    image = server.get('image')
    if isinstance(image, dict):
        return image.get('id') or ''
    return ''


def _check_server(server):
    if not isinstance(server, dict):
        return 'JSON of the wrong shape: a server that is not an object'
    server_id = server.get('id')
    if server_id is None:
        return 'a server without "id": %s' % json.dumps(
            server, sort_keys=True)[:80]
    if not isinstance(server_id, _STRINGS) or not server_id:
        return 'a server whose "id" is %r, not a server id' % (server_id,)
    image = server.get('image')
    if image not in (None, '') and not (
            isinstance(image, dict) and
            isinstance(image.get('id', ''), _STRINGS)):
        # a dict with the image's id, or "" (volume-backed)
        return 'server %s: "image" is %s, not an image reference' % (
            server_id, json.dumps(image)[:80])
    return None


def check_servers(body):
    """What is wrong with a server listing, or None."""
    if not isinstance(body, dict):
        return ('JSON of the wrong shape: %s, not an object with a list '
                'of "servers"' % json.dumps(body)[:80])
    if not isinstance(body.get('servers'), list):
        return ('JSON of the wrong shape: "servers" is %s, not a list'
                % json.dumps(body.get('servers'))[:80])
    links = body.get('servers_links')
    if links is not None and not (isinstance(links, list) and all(
            isinstance(link, dict) for link in links)):
        return '"servers_links" is %s, not a list of links' % (
            json.dumps(links)[:80])
    for server in body['servers']:
        problem = _check_server(server)
        if problem:
            return problem
    return None


class NovaAPI(object):

    def __init__(self, http, warn=None):
        self.http = http
        self.warn = warn or (lambda message: None)
        self.all_projects = True

    @classmethod
    def from_connection(cls, connection, warn=None):
        return cls(nova_http(connection), warn=warn)

    def _get_servers(self, params):
        """One ``GET /servers/detail``: its body (a dict)."""
        query = list(params)
        if self.all_projects:
            query.insert(0, ('all_tenants', '1'))
        url = '/servers/detail?' + urlencode(query)
        try:
            response, body = self.http.get(url)
        except Exception as exc:
            error = describe(exc, 'list servers')
            if error.status == 403 and self.all_projects:
                self.warn('not allowed to list the servers of all projects '
                          '(admin only): looking at your own project only')
                self.all_projects = False
                return self._get_servers(params)
            raise error
        problem = check_servers(body)
        if problem:
            raise garbage('Nova', 'GET', url, response, problem,
                          'list servers')
        return body

    def find_servers(self, uuids, since=None,
                     batch_threshold=DEFAULT_BATCH_THRESHOLD,
                     page_size=DEFAULT_PAGE_SIZE):
        """Yield ``(server uuid, server dict)`` for the wanted servers found.

        :param uuids: the wanted server uuids (a sized container).
        :param since: ISO 8601 time no later than the last change of any
            wanted server (e.g. the oldest snapshot's created_at less a
            margin); None for no lower bound.
        """
        since = since or EPOCH
        if len(uuids) <= batch_threshold:
            for uuid in sorted(uuids):
                body = self._get_servers([('uuid', uuid),
                                          ('changes-since', EPOCH)])
                for server in body['servers']:
                    if server.get('id') == uuid:
                        yield uuid, server
                        break
            return
        for server in self.iter_servers([('changes-since', since)],
                                        page_size):
            if server.get('id') in uuids:
                yield server['id'], server

    def iter_servers(self, params, page_size=DEFAULT_PAGE_SIZE):
        """Every server of a listing, page by page.

        Nova caps ``limit`` at its ``[api] max_limit`` without saying so,
        so a short page does not mean the end: the listing goes on while
        Nova sends a ``servers_links`` "next" link, with that link's
        marker.
        """
        markers = set()
        marker = None
        while True:
            query = list(params) + [('limit', int(page_size))]
            if marker:
                query.append(('marker', marker))
            body = self._get_servers(query)
            servers = body['servers']
            for server in servers:
                yield server
            marker = next_marker(body.get('servers_links'))
            if not servers or not marker:
                return
            if marker in markers:
                raise ApiError('list servers: Nova sent the same "next" '
                               'marker twice (%s); stopping' % marker)
            markers.add(marker)


def next_marker(links):
    """The ``marker`` of a ``servers_links`` "next" link, or None."""
    for link in links or ():
        href = link.get('href')
        if link.get('rel') != 'next' or not isinstance(href, _STRINGS):
            continue
        query = urlsplit(href).query
        for key, value in parse_qsl(query):
            if key == 'marker' and value:
                return value
    return None
