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

"""Failed API calls, and the sentence an operator sees for each.

Error answers and answers that are not the API's (see
:mod:`nova_imgmeta.cloud.http`) and network failures from keystoneauth1
are turned into :class:`ApiError` (a
:class:`nova_imgmeta.exceptions.CommandError`, exit code 2) with one clear
sentence each, without importing any OpenStack library here.
"""

from __future__ import absolute_import

from nova_imgmeta.exceptions import CommandError

__all__ = ['ApiError', 'MissingClients', 'describe', 'status_text']

MISSING_CLIENTS = ('this command needs the OpenStack clients: '
                   'install nova-imgmeta[cli] '
                   '(pip install "nova-imgmeta[cli]")')

_HINTS = {
    401: 'authentication failed (HTTP 401): check your credentials '
         '(OS_* variables, --os-* options or --os-cloud)',
    403: 'permission denied (HTTP 403): your role may not do this; '
         'an admin role is needed to change images of other projects '
         'and to see deleted servers',
    404: 'not found (HTTP 404): it was deleted, or is not visible to '
         'your project',
    409: 'conflict (HTTP 409): it changed while this command ran; '
         'run the command again to see its current state',
}


class MissingClients(CommandError):
    def __init__(self, detail=None):
        msg = MISSING_CLIENTS
        if detail:
            msg = '%s [%s]' % (msg, detail)
        super(MissingClients, self).__init__(msg)


class ApiError(CommandError):
    """A failed API request.

    :param status: the HTTP status, or None (network error, or not HTTP).
    :param network: the request may or may not have reached the service.
    :param garbage: the service answered something that is not the API's
        answer (wrong content type, invalid JSON, wrong shape).
    :param throttled: the service kept asking to wait (429, 503) longer
        than the command waits.
    :param url: ``METHOD URL`` of the request, when known.
    :param what: what was being done ("list images"); the message starts
        with it once :func:`describe` added it.
    """

    def __init__(self, message, status=None, network=False, garbage=False,
                 throttled=False, url=None, what=None):
        super(ApiError, self).__init__(message)
        self.status = status
        self.network = network
        self.garbage = garbage
        self.throttled = throttled
        self.url = url
        self.what = what

    @property
    def fatal(self):
        """True when going on with other images cannot succeed either."""
        return (self.network or self.garbage or self.throttled or
                self.status == 401)

    @property
    def ambiguous(self):
        """True when a write may have happened although it failed: no
        answer, an answer that is not the API's, or a server error.
        """
        return (self.network or self.garbage or
                (self.status is not None and self.status >= 500 and
                 not self.throttled))

    def doing(self, what):
        """The same error, its message starting with ``what``."""
        if self.what is not None:
            return self
        return ApiError('%s: %s' % (what, self.message), status=self.status,
                        network=self.network, garbage=self.garbage,
                        throttled=self.throttled, url=self.url, what=what)


def status_text(status, service='the service'):
    """What an HTTP error status means to an operator."""
    if status in _HINTS:
        return _HINTS[status]
    if status in (429, 503):
        return ('%s is busy (HTTP %d) and kept asking to retry later; '
                'run the command again later' % (service, status))
    if status >= 500:
        return 'HTTP %d (a server error in %s)' % (status, service)
    return 'HTTP %d' % status


def http_status(exc):
    """The HTTP status of a client exception, or None."""
    for attr in ('http_status', 'status_code', 'code', 'status'):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    response = getattr(exc, 'response', None)
    value = getattr(response, 'status_code', None)
    if isinstance(value, int):
        return value
    return None


_NETWORK_NAMES = ('ConnectFailure', 'ConnectionError', 'ConnectTimeout',
                  'CommunicationError', 'ConnectionRefused',
                  'RequestTimeout', 'SSLError', 'UnknownConnectionError',
                  'DiscoveryFailure', 'EndpointNotFound', 'Timeout',
                  'InvalidEndpoint')


def is_network_error(exc):
    import socket
    if isinstance(exc, (socket.error, EnvironmentError)):
        return True
    names = set(cls.__name__ for cls in type(exc).__mro__)
    return bool(names.intersection(_NETWORK_NAMES))


def describe(exc, what):
    """Turn a client exception into an :class:`ApiError`.

    :param exc: the exception raised by a client or keystoneauth1.
    :param what: what was being done, e.g. "GET image 1234".
    """
    if isinstance(exc, ApiError):
        return exc.doing(what)
    status = http_status(exc)
    if status in _HINTS:
        return ApiError('%s: %s' % (what, _HINTS[status]), status=status)
    if status is not None:
        return ApiError('%s: HTTP %d: %s' % (what, status, _short(exc)),
                        status=status)
    if is_network_error(exc):
        return ApiError('%s: network error (%s: %s); check the endpoint '
                        'URL and that the service is reachable'
                        % (what, type(exc).__name__, _short(exc)),
                        network=True)
    return ApiError('%s: %s: %s' % (what, type(exc).__name__, _short(exc)))


def _short(exc, limit=300):
    text = ' '.join(str(exc).split())
    if len(text) > limit:
        text = text[:limit] + '...'
    return text
