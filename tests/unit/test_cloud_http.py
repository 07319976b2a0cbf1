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

"""The JSON client: what counts as an answer, the messages of what does
not, and the shared wait on 429 and 503 (Retry-After)."""

import email.utils
import json
import threading
import time

import pytest

from nova_imgmeta.cloud import backoff
from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud import glance
from nova_imgmeta.cloud import http


class Response(object):
    def __init__(self, status, body=b'', content_type='application/json',
                 headers=None, url='http://glance/v2/images'):
        self.status_code = status
        if not isinstance(body, bytes):
            body = json.dumps(body).encode('utf-8')
        self.content = body
        self.headers = dict(headers or {})
        if content_type is not None:
            self.headers['Content-Type'] = content_type
        self.url = url


class Adapter(object):
    """keystoneauth1's Adapter.request, answering from a list."""

    def __init__(self, *responses):
        self.responses = list(responses)
        self.sent = []
        self.lock = threading.Lock()

    def request(self, url, method, headers=None, data=None,
                raise_exc=True):
        assert raise_exc is False
        with self.lock:
            self.sent.append((method, url, dict(headers or {}), data,
                              time.time()))
            return self.responses.pop(0)


def _client(*responses, **kwargs):
    kwargs.setdefault('sleep', lambda seconds: None)
    return http.JsonHTTP(Adapter(*responses), 'Glance', **kwargs)


def test_json_answers_decode():
    client = _client(Response(200, {'images': []}),
                     Response(200, {'a': 1}, 'application/json; '
                              'charset=UTF-8'),
                     Response(300, {'versions': []}),
                     Response(204, b''),
                     Response(200, {'b': 2}, None))
    assert client.get('/v2/images')[1] == {'images': []}
    assert client.get('/x')[1] == {'a': 1}
    assert client.get('/versions')[1] == {'versions': []}
    assert client.patch('/x', data='[]')[1] is None
    assert client.get('/y')[1] == {'b': 2}   # no Content-Type: parsed


@pytest.mark.parametrize('response,what', [
    (Response(200, b'<html><b>hi</b></html>', 'text/html'),
     'Content-Type text/html, not JSON: "<html><b>hi</b></html>"'),
    (Response(200, b'{"a": ', 'application/json'), 'invalid JSON'),
    (Response(200, b'', 'application/json'), 'an empty body'),
    (Response(200, b'\xff\xfe', 'application/json'), 'invalid JSON'),
    (Response(200, b'\x00\x01', 'application/octet-stream'),
     '"\\x00\\x01"'),
])
def test_garbage_names_status_url_and_what(response, what):
    with pytest.raises(ApiError) as caught:
        _client(response).get('/v2/images')
    error = caught.value
    assert error.status == response.status_code
    assert error.url == 'GET http://glance/v2/images'
    assert '[GET http://glance/v2/images]' in str(error)
    assert what in str(error)
    assert error.fatal


@pytest.mark.parametrize('status,body,ctype,said', [
    (500, {'error': 'boom'}, 'application/json', 'Glance said: boom'),
    (404, {'itemNotFound': {'message': 'no such image', 'code': 404}},
     'application/json', 'Glance said: no such image'),
    (409, b'<html><body><h1>409 Conflict</h1>There was a conflict'
     b'</body></html>', 'text/html', '409 Conflict There was a conflict'),
    (502, b'Bad Gateway\n', 'text/plain', 'Glance said: Bad Gateway'),
    (500, {'error': {'deep': {'message': 'deeper'}}}, 'application/json',
     'deeper'),
    (500, [1, 2], 'application/json', '[1, 2]'),
])
def test_error_status_keeps_status_and_server_message(status, body, ctype,
                                                      said):
    with pytest.raises(ApiError) as caught:
        _client(Response(status, body, ctype)).get('/v2/images')
    error = caught.value
    assert error.status == status
    assert 'HTTP %d' % status in str(error)
    assert said in str(error)
    assert str(error).endswith('[GET http://glance/v2/images]')
    assert not error.garbage


def test_message_is_short_and_one_line():
    body = b'<html>' + b'line\n' * 10000 + b'</html>'
    with pytest.raises(ApiError) as caught:
        _client(Response(200, body, 'text/html')).get('/v2/images')
    assert len(str(caught.value)) < 400
    assert '\n' not in str(caught.value)


def test_ambiguous_and_fatal_errors():
    assert ApiError('x', status=500).ambiguous
    assert not ApiError('x', status=500).fatal
    assert ApiError('x', network=True).ambiguous
    assert not ApiError('x', status=409).ambiguous
    assert not ApiError('x', status=503, throttled=True).ambiguous
    assert ApiError('x', status=503, throttled=True).fatal
    error = ApiError('boom [GET u]', status=500).doing('list images')
    assert str(error) == 'list images: boom [GET u]'
    assert error.doing('again') is error


def test_retry_after_seconds_and_http_date():
    assert backoff.retry_after('3') == 3.0
    assert backoff.retry_after(' 0 ') == 0.0
    assert backoff.retry_after('-5') == 0.0
    now = time.time()
    date = email.utils.formatdate(now + 120, usegmt=True)
    assert 118 <= backoff.retry_after(date, now=now) <= 121
    assert backoff.retry_after(email.utils.formatdate(now - 60,
                                                      usegmt=True)) == 0.0
    for value in (None, '', 'soon', '1.5e3x'):
        assert backoff.retry_after(value) is None


def test_exponential_wait_with_jitter_and_a_cap():
    assert backoff.delay(1, rand=lambda: 1.0) == backoff.FIRST_WAIT
    assert backoff.delay(1, rand=lambda: 0.0) == backoff.FIRST_WAIT / 2
    assert backoff.delay(3, rand=lambda: 1.0) == backoff.FIRST_WAIT * 4
    assert backoff.delay(30, rand=lambda: 1.0) == backoff.MAX_WAIT
    assert backoff.delay(5, asked=7.0) == 7.0


def test_429_and_503_are_sent_again_after_retry_after():
    waits = []
    client = _client(Response(429, b'', None, {'Retry-After': '2'}),
                     Response(503, b'busy', 'text/plain',
                              {'Retry-After': '1'}),
                     Response(200, {'ok': True}), sleep=waits.append)
    client.gate._clock = _Clock(waits)
    assert client.get('/v2/images')[1] == {'ok': True}
    assert sum(waits) == pytest.approx(3.0)
    assert len(client.adapter.sent) == 3


class _Clock(object):
    """A clock that the fake sleep moves forward."""

    def __init__(self, waits):
        self.waits = waits

    def __call__(self):
        return 1000.0 + sum(self.waits)


def test_busy_for_longer_than_the_retries_is_an_error():
    responses = [Response(503, b'', None, {'Retry-After': '0'})
                 for _ in range(backoff.RETRIES + 1)]
    client = _client(*responses)
    with pytest.raises(ApiError) as caught:
        client.patch('/v2/images/x', data='[]')
    error = caught.value
    assert error.throttled and error.fatal and error.status == 503
    assert 'busy (HTTP 503)' in str(error)
    assert 'after %d attempts' % (backoff.RETRIES + 1) in str(error)
    assert len(client.adapter.sent) == backoff.RETRIES + 1


def test_retry_after_longer_than_the_limit_is_not_waited_for():
    client = _client(Response(429, b'', None, {'Retry-After': '86400'}))
    with pytest.raises(ApiError) as caught:
        client.get('/v2/images')
    assert 'asked to retry after 86400 s' in str(caught.value)
    assert len(client.adapter.sent) == 1


def test_the_gate_holds_back_every_thread():
    now = [0.0]
    slept = []
    lock = threading.Lock()

    def sleep(seconds):
        with lock:
            slept.append(seconds)
            now[0] += seconds
    gate = backoff.Gate(clock=lambda: now[0], sleep=sleep)
    gate.close_for(2.5)
    threads = [threading.Thread(target=gate.wait) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert now[0] >= 2.5 and slept
    assert gate.waits == 1 and gate.waited == 2.5
    gate.close_for(1.0)   # a shorter wait never shortens a longer one
    assert gate._until == pytest.approx(now[0] + 1.0)


def test_headers_sent_with_every_request():
    client = http.JsonHTTP(Adapter(Response(200, {})), 'Nova',
                           headers={'X-OpenStack-Nova-API-Version': '2.1'})
    client.get('/servers/detail')
    assert client.adapter.sent[0][2] == {
        'X-OpenStack-Nova-API-Version': '2.1'}


def test_non_ascii_in_messages():
    body = u'<html>caf\xe9 \u2603</html>'.encode('utf-8')
    with pytest.raises(ApiError) as caught:
        _client(Response(200, body, 'text/html')).get('/v2/images')
    text = str(caught.value)
    assert 'caf' in text


def test_glance_checks_the_shape_of_images():
    assert glance.check_image({'id': 'a', 'name': None, 'size': 3}) is None
    assert 'without "id"' in glance.check_image({'name': 'x'})
    assert 'not an image id' in glance.check_image({'id': ''})
    assert 'not an image id' in glance.check_image({'id': 5})
    assert '"size" is a string' in glance.check_image({'id': 'a',
                                                       'size': '3'})
    assert '"size" is a boolean' in glance.check_image({'id': 'a',
                                                        'size': True})
    assert '"base_image_ref" is a list' in glance.check_image(
        {'id': 'a', 'base_image_ref': ['x']})
    assert 'not an object' in glance.check_image('a')
