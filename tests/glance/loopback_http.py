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

"""Small HTTP servers on 127.0.0.1 for the tests: a forwarding proxy that
counts requests and can drop connections, and a base for the Nova fake."""

import http.client
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
import json
import socket
import threading
import time


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def serve(handler_class, **attrs):
    """Start a threaded server on a free loopback port; returns it (with
    .url and .shutdown()).
    """
    # TCP_NODELAY: an answer is written as headers then body; with
    # Nagle's algorithm the body waits for the client's delayed ACK of
    # the headers, some 40 ms an answer
    attrs.setdefault('disable_nagle_algorithm', True)
    handler = type('Handler', (handler_class,), attrs)
    server = _Server(('127.0.0.1', 0), handler)
    server.url = 'http://127.0.0.1:%d' % server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


class Counter(object):
    def __init__(self):
        self.lock = threading.Lock()
        self.by_method = {}
        self.paths = []
        #: requests the proxy is handling, and a condition to wait on
        self.in_flight = 0
        self.idle = threading.Condition()

    def add(self, method, path):
        with self.lock:
            self.by_method[method] = self.by_method.get(method, 0) + 1
            self.paths.append((method, path))

    @property
    def total(self):
        return sum(self.by_method.values())

    def reset(self):
        with self.lock:
            self.by_method = {}
            self.paths = []


class ProxyHandler(BaseHTTPRequestHandler):
    """Forwards to ``target`` (host, port). ``faults`` is a dict shared
    with the test:

    * {'drop_after': {'PATCH': n}} closes the connection without an answer
      once n such requests went through;
    * {'lose_reply_after': {'PATCH': n}}: the same, after the server
      answered;
    * {'delay': {'PATCH': seconds}} before forwarding;
    * {'answers': [Answer, ...]}: the first answer that matches the
      request is sent instead of the server's (see :class:`Answer`).
    """
    target = None
    counter = None
    faults = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _forward(self):
        with self.counter.idle:
            self.counter.in_flight += 1
        try:
            self._forward_one()
        finally:
            with self.counter.idle:
                self.counter.in_flight -= 1
                self.counter.idle.notify_all()

    def _forward_one(self):
        method = self.command
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        seen = self.counter.by_method.get(method, 0)
        drop_after = (self.faults or {}).get('drop_after', {})
        if method in drop_after and seen >= drop_after[method]:
            return self._hang_up()
        self.counter.add(method, self.path)
        delay = (self.faults or {}).get('delay', {}).get(method)
        if delay:
            time.sleep(delay)
        answer = self._answer(method)
        if answer is not None and not answer.after_forward:
            return self._send(answer.status, answer.headers, answer.body)
        conn = http.client.HTTPConnection(*self.target, timeout=300)
        headers = dict((k, v) for k, v in self.headers.items()
                       if k.lower() not in ('host', 'connection'))
        conn.request(method, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        lose = (self.faults or {}).get('lose_reply_after', {})
        if method in lose and seen >= lose[method]:
            # the request reached the server; its answer is lost
            return self._hang_up()
        conn.close()
        if answer is not None:   # the server did the work; its answer
            return self._send(answer.status, answer.headers, answer.body)
        self._send(response.status, response.getheaders(), data)

    def _hang_up(self):
        """Close the connection without an answer (a network failure as
        the client sees it).
        """
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _answer(self, method):
        with self.counter.lock:
            for answer in (self.faults or {}).get('answers', ()):
                if answer.matches(method, self.path):
                    answer.used += 1
                    return answer
        return None

    def _send(self, status, headers, data):
        self.send_response(status)
        for name, value in headers:
            if name.lower() in ('transfer-encoding', 'connection',
                                'content-length'):
                continue
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _forward


class Answer(object):
    """An answer the proxy sends instead of the server's.

    :param method: the request method it answers.
    :param path: a string the request's path (with its query) contains.
    :param status: the HTTP status sent.
    :param body: bytes, or an object sent as JSON.
    :param content_type: the Content-Type header (None: no such header).
    :param after_forward: forward the request first (the server does the
        work) and send this answer instead of the server's.
    :param times: answer this many requests (None: every one).
    :param headers: more headers, e.g. {'Retry-After': '1'}.
    """

    def __init__(self, method, path, status=200, body=b'',
                 content_type='application/json', after_forward=False,
                 times=None, headers=None):
        self.method = method
        self.path = path
        self.status = status
        if not isinstance(body, bytes):
            body = json.dumps(body).encode('utf-8')
        self.body = body
        self.headers = list((headers or {}).items())
        if content_type is not None:
            self.headers.append(('Content-Type', content_type))
        self.after_forward = after_forward
        self.times = times
        self.used = 0

    def matches(self, method, path):
        if self.times is not None and self.used >= self.times:
            return False
        return method == self.method and self.path in path


def start_proxy(target_url, faults=None):
    host, port = target_url.split('//', 1)[1].split(':')
    counter = Counter()
    faults = faults if faults is not None else {}
    server = serve(ProxyHandler, target=(host, int(port)), counter=counter,
                   faults=faults)
    server.counter = counter
    server.faults = faults
    stop = server.shutdown

    def shutdown(timeout=60):
        """Stop serving, then wait for the requests under way: one that
        a killed client left in the proxy still reaches the server (as a
        request in flight does in a real cloud), and it must land before
        the test goes on rather than after an undo.
        """
        stop()
        deadline = time.time() + timeout
        with counter.idle:
            while counter.in_flight and time.time() < deadline:
                counter.idle.wait(deadline - time.time())
    server.shutdown = shutdown
    return server
