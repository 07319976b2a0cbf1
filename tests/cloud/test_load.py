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

"""Refusals under load: 20 concurrent createImage calls on 10 servers.

``snapshot_on_error = closed`` and a policy that refuses every second call
(``cloud-refuse-named``: the calls named ``refuse-*``). Each server gets
one refused and one accepted call; all twenty threads start together, and
a server's accepted call is sent once its refused call has been answered:
while a server's snapshot is being taken Nova answers 409 to any other
action on it (its own task_state rule, before any hook runs), which would
hide what this test is about. Every answer must be 202 or 400 (never 500),
no server may be left with a task_state, and Glance must hold no image for
a refused call and only active images for the accepted ones.
"""

import collections
import concurrent.futures
import threading
import time

import pytest

import test_refusal_http

SERVERS = 10


@pytest.mark.cloud('patched')
def test_concurrent_create_image_with_refusals(nova_conf_restored,
                                               third_party_policies):
    cloud = nova_conf_restored
    cloud.set_imgmeta(snapshot_policies=test_refusal_http.CHAIN,
                      snapshot_on_error='closed')
    cloud.restart_api()
    base = cloud.info['images']['cloud-image']
    servers = [cloud.boot('load-%d' % number, base)['id']
               for number in range(SERVERS)]
    refused_done = dict((server, threading.Event()) for server in servers)
    start = threading.Barrier(2 * SERVERS)
    offset = cloud.log_offset()

    def call(server, name, refused):
        compute = cloud.compute()
        start.wait()
        if not refused:
            refused_done[server].wait(120)
        began = time.time()
        response = compute.post(
            '/servers/%s/action' % server,
            json={'createImage': {'name': name}},
            headers={'Connection': 'close'}, raise_exc=False)
        if refused:
            refused_done[server].set()
        image_id = None
        if response.status_code == 202:
            image_id = response.json()['image_id']
        return (server, name, refused, response.status_code,
                time.time() - began, image_id, response.text[:200])

    try:
        with concurrent.futures.ThreadPoolExecutor(2 * SERVERS) as pool:
            futures = []
            for number, server in enumerate(servers):
                futures.append(pool.submit(call, server,
                                           'refuse-load-%d' % number, True))
                futures.append(pool.submit(call, server,
                                           'keep-load-%d' % number, False))
            answers = [future.result() for future in futures]
        statuses = collections.Counter(answer[3] for answer in answers)
        print('answers: %s; seconds: max %.2f' % (
            dict(statuses), max(answer[4] for answer in answers)))
        assert set(statuses) <= {202, 400}, answers
        for server, name, refused, status, _s, image_id, text in answers:
            assert status == (400 if refused else 202), (name, status, text)
        # no task_state left, only the accepted images, all active
        for server in servers:
            cloud.wait_server(server)
        for server, name, refused, status, _s, image_id, text in answers:
            if not refused:
                cloud.wait_image(image_id)
        for server in servers:
            images = cloud.images_of(server)
            assert [image['name'] for image in images] == [
                name for srv, name, refused, _st, _s, _i, _t in answers
                if srv == server and not refused]
            assert [image['status'] for image in images] == ['active']
        log = cloud.log_since(offset)
        assert log.count('refused by policy cloud-refuse-named') >= SERVERS
        assert ' 500 ' not in log
    finally:
        for server in servers:
            cloud.delete_server(server)
