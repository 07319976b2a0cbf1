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

"""JSON requests to an OpenStack API through a keystoneauth1 adapter, and
what counts as an answer.

The commands read answers themselves rather than through glanceclient's
or novaclient's response handling: those turn an HTML page into ``None``,
fail on an error body they do not expect (``{"error": "boom"}``) and lose
the status on the way. Here every answer that is not the API's (an error
status, another content type, invalid JSON, no body) becomes an
:class:`~nova_imgmeta.cloud.failures.ApiError` that names the request
(method and URL), the status and what was wrong, in one line.

429 and 503 are waited out (:mod:`nova_imgmeta.cloud.backoff`) and the
request sent again. :class:`JsonHTTP` is safe to share between threads.
"""

from __future__ import absolute_import

import json
import logging
import re
import time

from nova_imgmeta.cloud import backoff
from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud.failures import status_text

__all__ = ['JsonHTTP', 'detail', 'garbage', 'snippet']

LOG = logging.getLogger(__name__)

#: characters of an answer quoted in a message
SNIPPET = 120
_TAG = re.compile(r'<[^>]*>')
_MESSAGE_KEYS = ('message', 'detail', 'explanation', 'error', 'title',
                 'description', 'faultstring')


def _text(data):
    if isinstance(data, bytes):
        return data.decode('utf-8', 'replace')
    return data


def _short(text, limit):
    """One line, control characters escaped, at most ``limit`` characters
    (and "...").
    """
    text = ' '.join(_text(text).split())
    text = u''.join(c if c >= u' ' else u'\\x%02x' % ord(c) for c in text)
    if len(text) > limit:
        text = text[:limit] + u'...'
    if str is bytes:  # Python 2.7: messages end up in str()
        text = text.encode('ascii', 'backslashreplace').decode('ascii')
    return text


def snippet(data, limit=SNIPPET):
    """The start of an answer's body, quoted, for a message."""
    return u'"%s"' % _short(data, limit)


def _messages(value, depth=0):
    """Strings an error body gives as its message, at most 2 levels deep."""
    found = []
    if isinstance(value, dict) and depth < 3:
        for key in _MESSAGE_KEYS:
            item = value.get(key)
            if isinstance(item, (type(u''), str)) and item.strip():
                found.append(item.strip())
        for key in sorted(value, key=str):
            if isinstance(value[key], dict):
                found.extend(_messages(value[key], depth + 1))
    return found


def detail(data, content_type):
    """The message of an error answer: its JSON message field(s), the
    text of an HTML page, or the start of the body.
    """
    if not data:
        return u''
    text = _text(data)
    media = (content_type or '').split(';')[0].strip().lower()
    if 'json' in media or text.lstrip().startswith('{'):
        try:
            found = _messages(json.loads(text))
        except ValueError:
            found = []
        if found:
            return _short(u'; '.join(found), 200)
    if 'html' in media or text.lstrip().startswith('<'):
        text = _TAG.sub(u' ', text)
    return _short(text, 200)


def garbage(service, method, url, response, problem, what=None):
    """The error of an answer that is not the API's: ``problem`` says
    what is wrong with it; ``what`` the command was doing.
    """
    status = getattr(response, 'status_code', None)
    where = '%s %s' % (method.upper(), getattr(response, 'url', None) or url)
    answered = ('answered HTTP %d with' % status if status is not None
                else 'answered with')
    message = '%s %s %s [%s]' % (service, answered, problem, where)
    if what:
        message = '%s: %s' % (what, message)
    return ApiError(message, status=status, garbage=True, url=where,
                    what=what)


def _is_json(media):
    return media == 'application/json' or media.endswith('+json')


class JsonHTTP(object):
    """``get``, ``patch``: one JSON request, its answer decoded.

    :param adapter: a keystoneauth1 ``Adapter`` (endpoint, interface,
        region and session), or any object with its ``request(url,
        method, **kwargs)`` returning a ``requests`` response.
    :param service: its name in messages ("Glance", "Nova").
    :param headers: headers sent with every request.
    """

    def __init__(self, adapter, service, headers=None,
                 retries=backoff.RETRIES, gate=None, sleep=time.sleep):
        self.adapter = adapter
        self.service = service
        self.headers = dict(headers or {})
        self.retries = retries
        self.gate = gate or backoff.Gate(sleep=sleep)
        self.sleep = sleep

    def get(self, url):
        """(response, decoded JSON body) of ``GET url``. A 300 carries an
        answer too: Glance's version document is one.
        """
        return self.request('GET', url, expect=(300,))

    def patch(self, url, headers=None, data=None):
        return self.request('PATCH', url, headers=headers, data=data)

    def request(self, method, url, headers=None, data=None, expect=()):
        sent = dict(self.headers)
        sent.update(headers or {})
        attempt = 0
        while True:
            self.gate.wait()
            response = self.adapter.request(url, method, headers=sent,
                                            data=data, raise_exc=False)
            status = response.status_code
            if status not in backoff.RETRY_STATUSES:
                break
            attempt += 1
            asked = backoff.retry_after(response.headers.get('Retry-After'))
            if attempt > self.retries or (
                    asked is not None and asked > backoff.MAX_RETRY_AFTER):
                raise self._error(method, response, throttled=True,
                                  note=self._throttle_note(attempt, asked))
            wait = backoff.delay(attempt, asked)
            LOG.info('%s answered HTTP %d to %s %s: waiting %.1f s (attempt '
                     '%d of %d)', self.service, status, method, url, wait,
                     attempt + 1, self.retries + 1)
            self.gate.close_for(wait)
        return response, self._decode(method, response, expect)

    def _throttle_note(self, attempt, asked):
        if asked is not None and asked > backoff.MAX_RETRY_AFTER:
            return 'it asked to retry after %d s' % asked
        return 'still busy after %d attempts' % attempt

    def _where(self, method, response):
        return '%s %s' % (method, getattr(response, 'url', None) or '?')

    def _error(self, method, response, throttled=False, note=None):
        status = response.status_code
        content_type = response.headers.get('Content-Type')
        said = detail(response.content, content_type)
        message = status_text(status, self.service)
        if note:
            message += ' (%s)' % note
        if said:
            message += '; %s said: %s' % (self.service, said)
        where = self._where(method, response)
        return ApiError('%s [%s]' % (message, where), status=status,
                        throttled=throttled, url=where)

    def _garbage(self, method, response, problem):
        return garbage(self.service, method, None, response, problem)

    def _decode(self, method, response, expect):
        status = response.status_code
        if not (200 <= status < 300 or status in expect):
            raise self._error(method, response)
        data = response.content
        if not data:
            if status == 204:
                return None
            raise self._garbage(method, response, 'an empty body, not JSON')
        content_type = response.headers.get('Content-Type')
        media = (content_type or '').split(';')[0].strip().lower()
        if media and not _is_json(media):
            raise self._garbage(method, response, 'Content-Type %s, not '
                                'JSON: %s' % (content_type, snippet(data)))
        try:
            return json.loads(data.decode('utf-8'))
        except (UnicodeDecodeError, ValueError) as exc:
            raise self._garbage(method, response, 'invalid JSON (%s): %s'
                                % (exc, snippet(data)))
