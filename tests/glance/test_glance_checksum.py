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

"""checksum against an image whose data Glance stored and hashed."""

import json
import os

import pytest


@pytest.fixture
def uploaded(admin, tmp_path):
    data = os.urandom(300000) + b'tail'
    image = admin.create(name='with-data', disk_format='raw',
                         container_format='bare', owner='proj-checksum')
    admin.upload(image['id'], data)
    path = tmp_path / 'image.raw'
    path.write_bytes(data)
    return admin.get(image['id']), str(path)


def test_checksum_matches_glance(cli, uploaded, glance):
    image, path = uploaded
    code, out, err = cli.run('checksum', path, '--image', image['id'],
                             '--format', 'json')
    assert code == 0, err
    result = json.loads(out)
    assert result['match'] is True
    assert result['checksum'] == image['checksum']
    fields = [c['field'] for c in result['compared']]
    if glance.api_version >= (2, 7):
        # multihash (Rocky on): sha512 by default
        assert image['os_hash_algo'] == 'sha512'
        assert result['os_hash_value'] == image['os_hash_value']
        assert fields == ['checksum', 'os_hash_value', 'size']
    else:
        # Pike: md5 checksum and size only
        assert 'os_hash_algo' not in image
        assert fields == ['checksum', 'size']


def test_checksum_differs_after_data_replaced(cli, uploaded, tmp_path):
    image, path = uploaded
    with open(path, 'ab') as handle:
        handle.write(b'changed')
    code, out, err = cli.run('checksum', path, '--image', image['id'])
    assert code == 1
    assert 'DIFFERENT' in out


def test_checksum_of_unknown_image(cli, tmp_path):
    path = tmp_path / 'f'
    path.write_bytes(b'x')
    code, out, err = cli.run('checksum', str(path), '--image',
                             '00000000-0000-0000-0000-000000000000')
    assert code == 2 and 'not found (HTTP 404)' in err
