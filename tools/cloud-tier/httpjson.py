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

"""JSON over HTTP with the standard library, and a Keystone v3 token.

``tools/cloud`` runs under any Python 3 without the OpenStack clients: it
sets the cloud up (users, endpoints, flavors, images) with these few
requests. The tests use keystoneauth, as users do.
"""

import json
import time
import urllib.error
import urllib.request

__all__ = ['HTTPError', 'request', 'Session']


class HTTPError(Exception):
    def __init__(self, method, url, status, body):
        super(HTTPError, self).__init__('%s %s: HTTP %s %s' % (
            method, url, status, str(body)[:500]))
        self.status = status
        self.body = body


def request(method, url, body=None, headers=None, timeout=60, data=None):
    """Returns (status, headers, decoded JSON or bytes); raises HTTPError
    for a status >= 400 and OSError when nothing answers.
    """
    all_headers = {'Accept': 'application/json'}
    if body is not None:
        data = json.dumps(body).encode()
        all_headers['Content-Type'] = 'application/json'
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=data, method=method,
                                 headers=all_headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as response:
            raw = response.read()
            status, answer_headers = response.status, response.headers
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status, answer_headers = exc.code, exc.headers
    try:
        decoded = json.loads(raw.decode()) if raw else None
    except ValueError:
        decoded = raw
    if status >= 400:
        raise HTTPError(method, url, status, decoded)
    return status, answer_headers, decoded


def wait_http(url, timeout, alive=None, what='service'):
    """Wait until ``url`` answers anything but a 5xx."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            request('GET', url, timeout=5)
            return
        except HTTPError as exc:
            if exc.status < 500:
                return
            last = exc
        except OSError as exc:
            last = exc
        if alive is not None and not alive():
            raise RuntimeError('%s exited (last answer: %s)' % (what, last))
        time.sleep(0.5)
    raise RuntimeError('%s did not answer %s in %d s (last: %s)'
                       % (what, url, timeout, last))


class Session(object):
    """A project-scoped Keystone v3 token and the requests made with it."""

    def __init__(self, auth_url, username, password, project,
                 domain='Default'):
        self.auth_url = auth_url.rstrip('/')
        self.credentials = (username, password, project, domain)
        self.token = None
        self.catalog = None

    def authenticate(self):
        username, password, project, domain = self.credentials
        body = {'auth': {
            'identity': {'methods': ['password'], 'password': {'user': {
                'name': username, 'password': password,
                'domain': {'name': domain}}}},
            'scope': {'project': {'name': project,
                                  'domain': {'name': domain}}}}}
        _status, headers, answer = request('POST', self.auth_url +
                                           '/auth/tokens', body)
        self.token = headers['X-Subject-Token']
        self.catalog = answer['token'].get('catalog', [])
        return self

    def __call__(self, method, url, body=None, headers=None, **kwargs):
        if self.token is None:
            self.authenticate()
        all_headers = {'X-Auth-Token': self.token}
        all_headers.update(headers or {})
        return request(method, url, body, all_headers, **kwargs)[2]
