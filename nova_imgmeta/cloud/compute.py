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
"""

try:  # Python 3
    from urllib.parse import urlencode
except ImportError:  # Python 2.7
    from urllib import urlencode

from nova_imgmeta.cloud.failures import ApiError, MissingClients, describe

DEFAULT_PAGE_SIZE = 1000
#: Up to this many servers are looked up one request each.
DEFAULT_BATCH_THRESHOLD = 20
EPOCH = '1970-01-01T00:00:00Z'


def nova_http(connection):
    try:
        from novaclient import client as nova_client
    except ImportError as exc:
        raise MissingClients(str(exc))
    # endpoint_type: novaclient's name for the interface since Ocata
    return nova_client.Client('2.1', **connection.client_kwargs(
        connection.compute_endpoint, 'endpoint_type')).client


def server_image_id(server):
    """The id of the image a server (a dict from the API) runs, or ''."""
    image = server.get('image')
    if isinstance(image, dict):
        return image.get('id') or ''
    return ''


class NovaAPI(object):

    def __init__(self, http, warn=None):
        self.http = http
        self.warn = warn or (lambda message: None)
        self.all_projects = True

    @classmethod
    def from_connection(cls, connection, warn=None):
        return cls(nova_http(connection), warn=warn)

    def _get_servers(self, params):
        query = list(params)
        if self.all_projects:
            query.insert(0, ('all_tenants', '1'))
        url = '/servers/detail?' + urlencode(query)
        try:
            _resp, body = self.http.get(url)
        except Exception as exc:
            error = describe(exc, 'list servers')
            if error.status == 403 and self.all_projects:
                self.warn('not allowed to list the servers of all projects '
                          '(admin only): looking at your own project only')
                self.all_projects = False
                return self._get_servers(params)
            raise error
        return body.get('servers') or []

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
                for server in self._get_servers([('uuid', uuid),
                                                 ('changes-since', EPOCH)]):
                    if server.get('id') == uuid:
                        yield uuid, server
                        break
            return
        marker = None
        while True:
            params = [('changes-since', since), ('limit', int(page_size))]
            if marker:
                params.append(('marker', marker))
            servers = self._get_servers(params)
            for server in servers:
                if server.get('id') in uuids:
                    yield server['id'], server
            if len(servers) < page_size:
                return
            marker = servers[-1].get('id')
            if not marker:
                raise ApiError('list servers: a page without server ids')
