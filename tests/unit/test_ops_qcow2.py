"""qcow2 header parsing (no qemu-img)."""

import os
import subprocess

import pytest

from nova_imgmeta.ops import qcow2


def _write(path, data):
    with open(str(path), 'wb') as handle:
        handle.write(data)
    return str(path)


@pytest.mark.parametrize('version', [2, 3])
def test_backing_file_and_format(tmpdir, version):
    path = _write(tmpdir.join('disk'), qcow2.make_header(
        '/var/lib/nova/instances/_base/abc_20', version=version,
        backing_format='raw'))
    info = qcow2.read_info(path)
    assert info.version == version
    assert info.backing_file == '/var/lib/nova/instances/_base/abc_20'
    assert info.backing_format == 'raw'


def test_no_backing_file(tmpdir):
    path = _write(tmpdir.join('disk'), qcow2.make_header(None))
    assert qcow2.backing_file(path) is None


def test_raw_file_is_not_qcow2(tmpdir):
    path = _write(tmpdir.join('disk'), b'\0' * 512)
    assert qcow2.backing_file(path) is None
    with pytest.raises(qcow2.NotQcow2):
        qcow2.read_info(path)


def test_short_file(tmpdir):
    path = _write(tmpdir.join('disk'), b'QFI\xfb')
    with pytest.raises(qcow2.NotQcow2):
        qcow2.read_info(path)


def test_matches_qemu_img_when_available(tmpdir):
    try:
        subprocess.check_call(['qemu-img', '--version'],
                              stdout=subprocess.PIPE)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip('qemu-img not installed')
    base = str(tmpdir.join('base'))
    subprocess.check_call(['qemu-img', 'create', '-f', 'raw', base, '1M'],
                          stdout=subprocess.PIPE)
    disk = str(tmpdir.join('disk'))
    subprocess.check_call(['qemu-img', 'create', '-f', 'qcow2', '-b', base,
                           '-F', 'raw', disk], stdout=subprocess.PIPE)
    info = qcow2.read_info(disk)
    assert info.backing_file == base
    assert info.backing_format == 'raw'
    assert os.path.exists(info.backing_file)
