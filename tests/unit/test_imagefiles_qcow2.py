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

"""qcow2 header parsing (no qemu-img)."""

import os
import subprocess

import pytest

from nova_imgmeta.imagefiles import qcow2

from .qcow2_images import backing_format
from .qcow2_images import make_header


def _write(path, data):
    with open(str(path), 'wb') as handle:
        handle.write(data)
    return str(path)


@pytest.mark.parametrize('version', [2, 3])
def test_backing_file(tmpdir, version):
    path = _write(tmpdir.join('disk'), make_header(
        '/var/lib/nova/instances/_base/abc_20', version=version,
        backing_format='raw'))
    assert qcow2.backing_name(path) == \
        b'/var/lib/nova/instances/_base/abc_20'


def test_no_backing_file(tmpdir):
    path = _write(tmpdir.join('disk'), make_header(None))
    assert qcow2.backing_name(path) is None


def test_raw_file_is_not_qcow2(tmpdir):
    path = _write(tmpdir.join('disk'), b'\0' * 512)
    assert qcow2.backing_name(path) is None


def test_short_header_is_corrupt(tmpdir):
    path = _write(tmpdir.join('disk'), b'QFI\xfb')
    with pytest.raises(qcow2.CorruptHeader):
        qcow2.backing_name(path)


@pytest.mark.parametrize('offset', [1 << 40, (1 << 64) - 1])
def test_huge_backing_offset_is_corrupt_not_a_crash(tmpdir, offset):
    # an offset past the end of the file (2**64-1 used to raise
    # OverflowError from seek): the header cannot be followed
    path = _write(tmpdir.join('disk'), make_header(
        '/var/lib/nova/instances/_base/abc', backing_offset=offset))
    with pytest.raises(qcow2.CorruptHeader) as info:
        qcow2.backing_name(path)
    assert 'past the end of the file' in str(info.value)


@pytest.mark.requires_tool('qemu-img')
def test_matches_qemu_img(tmpdir):
    base = str(tmpdir.join('base'))
    subprocess.check_call(['qemu-img', 'create', '-f', 'raw', base, '1M'],
                          stdout=subprocess.PIPE)
    disk = str(tmpdir.join('disk'))
    subprocess.check_call(['qemu-img', 'create', '-f', 'qcow2', '-b', base,
                           '-F', 'raw', disk], stdout=subprocess.PIPE)
    assert qcow2.backing_name(disk) == base.encode('utf-8')
    assert backing_format(disk) == 'raw'
    assert os.path.exists(base)
