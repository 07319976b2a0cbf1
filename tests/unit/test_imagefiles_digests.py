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

"""Glance checksums of a file, streamed."""

import hashlib
import json

import pytest

from nova_imgmeta.cli import main as cli_main
from nova_imgmeta.imagefiles import digests


def test_file_hashes_streamed_in_small_chunks(tmpdir):
    data = b'0123456789' * 10001
    path = tmpdir.join('f')
    path.write_binary(data)
    hashes, size = digests.file_hashes(str(path), chunk_size=7)
    assert size == len(data)
    assert hashes['md5'] == hashlib.md5(data).hexdigest()
    assert hashes['sha512'] == hashlib.sha512(data).hexdigest()


def test_compare_with_an_image():
    hashes = {'md5': 'a', 'sha512': 'b'}
    rows = digests.compare(hashes, 3, {'checksum': 'a',
                                       'os_hash_algo': 'sha512',
                                       'os_hash_value': 'c', 'size': 3})
    assert rows == [('checksum', 'a', 'a', True),
                    ('os_hash_value', 'b', 'c', False),
                    ('size', 3, 3, True)]


def test_cli_checksum_without_image_needs_no_client(tmpdir, capsys):
    path = tmpdir.join('f')
    path.write_binary(b'abc')
    code = cli_main.main(['checksum', str(path), '--format', 'json'])
    out = json.loads(capsys.readouterr()[0])
    assert code == 0
    assert out['checksum'] == hashlib.md5(b'abc').hexdigest()
    assert out['os_hash_value'] == hashlib.sha512(b'abc').hexdigest()


def test_cli_checksum_missing_file(tmpdir, capsys):
    code = cli_main.main(['checksum', str(tmpdir.join('nope'))])
    assert code == 2
    assert 'nope' in capsys.readouterr()[1]


@pytest.mark.parametrize('size', ['0', '-1', '-65536', 'lots',
                                  str(2 ** 40)])
def test_cli_checksum_bad_chunk_size_is_refused(tmpdir, capsys, size):
    path = tmpdir.join('f')
    path.write_binary(b'abc')
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main(['checksum', str(path), '--chunk-size', size])
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2
    assert 'argument --chunk-size' in err
    assert out == '' and 'Traceback' not in err
