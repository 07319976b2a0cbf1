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

"""Listing more than one page: 1,200 images, pages of 100 and 1000."""

import json
import math
import time

import glance_server
from loopback_http import start_proxy
import pytest

N_IMAGES = 1200


@pytest.fixture(scope='module')
def big_catalogue(glance):
    """1,200 images in one project: 300 bases, 900 snapshots of which 90
    miss base_image_ref and 9 name a deleted image. Seeded straight into
    Glance's SQLite database (1,200 POSTs take ~2 minutes here).
    """
    owner = 'proj-big'
    images, bases = [], []
    for number in range(300):
        image_id = glance_server.new_id()
        bases.append(image_id)
        images.append({'id': image_id, 'name': 'base-%04d' % number,
                       'owner': owner})
    for number in range(900):
        props = {'image_type': 'snapshot',
                 'instance_uuid': glance_server.new_id()}
        if number % 10 == 0:
            pass  # missing
        elif number % 100 == 1:
            props['base_image_ref'] = glance_server.new_id()  # dangling
        else:
            props['base_image_ref'] = bases[number % 300]
        images.append({'id': glance_server.new_id(),
                       'name': 'snap-%04d' % number, 'owner': owner,
                       'properties': props})
    start = time.time()
    glance_server.bulk_insert(glance.db_path, images)
    glance_server.TIMINGS['seed 1,200 images via SQLite (s)'] = round(
        time.time() - start, 2)
    return owner


@pytest.mark.parametrize('page_size', [100, 1000])
def test_audit_paginates_with_few_requests(cli, glance, big_catalogue,
                                           page_size):
    proxy = start_proxy(glance.url)
    try:
        code, out, err = cli.run('audit', '--owner', big_catalogue,
                                 '--format', 'json', '--no-tree',
                                 '--page-size', str(page_size),
                                 glance_url=proxy.url)
        counts = dict(proxy.counter.by_method)
        paths = list(proxy.counter.paths)
    finally:
        proxy.shutdown()
    assert code == 1
    summary = json.loads(out)['summary']
    assert summary['images'] == N_IMAGES
    assert summary['snapshots'] == 900
    assert summary['missing'] == 90 and summary['dangling'] == 9
    assert counts == {'GET': counts['GET']}
    kinds = {}
    for _method, path in paths:
        if path == '/versions':
            kind = 'version document'
        elif 'id=in' in path:
            kind = 'batched look-up'
        elif path.startswith('/v2/images?') and 'os_hidden=true' in path:
            kind = 'hidden listing'
        elif 'visibility=community' in path:
            kind = 'community listing'
        elif path.startswith('/v2/images?'):
            kind = 'listing'
        else:
            kind = 'GET image'
        kinds[kind] = kinds.get(kind, 0) + 1
    # ceil(N / page size) pages, plus one empty page at most; the hidden
    # images' listing (API v2.7 on) or, before it, the community images'
    # listing (one empty page); the 9 dangling ids: one batched look-up
    # (--owner: they might be another project's), then one GET each, whose
    # 404 makes them dangling
    assert kinds.pop('listing') <= math.ceil(N_IMAGES / float(page_size)) + 1
    other = 'hidden' if glance.api_version >= (2, 7) else 'community'
    assert kinds == {'version document': 1, other + ' listing': 1,
                     'batched look-up': 1, 'GET image': 9}


def test_page_size_above_glance_limit_still_lists_everything(
        cli, big_catalogue):
    code, out, err = cli.run('audit', '--owner', big_catalogue, '--format',
                             'json', '--no-tree', '--page-size', '5000')
    assert json.loads(out)['summary']['images'] == N_IMAGES
