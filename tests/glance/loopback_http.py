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
    with the test: {'drop_after': {'PATCH': n}} closes the connection
    without an answer once n such requests went through.
    """
    target = None
    counter = None
    faults = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _forward(self):
        method = self.command
        length = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(length) if length else None
        seen = self.counter.by_method.get(method, 0)
        drop_after = (self.faults or {}).get('drop_after', {})
        if method in drop_after and seen >= drop_after[method]:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.counter.add(method, self.path)
        delay = (self.faults or {}).get('delay', {}).get(method)
        if delay:
            time.sleep(delay)
        conn = http.client.HTTPConnection(*self.target, timeout=300)
        headers = dict((k, v) for k, v in self.headers.items()
                       if k.lower() not in ('host', 'connection'))
        conn.request(method, self.path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        lose = (self.faults or {}).get('lose_reply_after', {})
        if method in lose and seen >= lose[method]:
            # the request reached the server; its answer is lost
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() in ('transfer-encoding', 'connection',
                                'content-length'):
                continue
            self.send_header(name, value)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _forward


def start_proxy(target_url, faults=None):
    host, port = target_url.split('//', 1)[1].split(':')
    counter = Counter()
    faults = faults if faults is not None else {}
    server = serve(ProxyHandler, target=(host, int(port)), counter=counter,
                   faults=faults)
    server.counter = counter
    server.faults = faults
    return server
