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

"""Image cache names and the cache-path command."""

import hashlib
import io
import json
import os
import shutil
import sys
import tempfile

import pytest

from nova_imgmeta.cli import main as cli_main
from nova_imgmeta.imagefiles import cache

from .qcow2_images import make_header

IMAGE = '70a599e0-31e7-49b7-b260-868f441e862b'
NAME = hashlib.sha1(IMAGE.encode('utf-8')).hexdigest()


def _tree(tmpdir):
    root = tmpdir.mkdir('instances')
    base = root.mkdir('_base')
    base.join(NAME).write('base data')
    base.join(NAME + '_20').write('resized')
    base.join(NAME + '_40').write('resized')
    base.join('ffff' + NAME[4:]).write('other image')
    inst = root.mkdir('11111111-aaaa-bbbb-cccc-000000000001')
    inst.join('disk').write_binary(make_header(
        '/var/lib/nova/instances/_base/%s_20' % NAME))
    inst.join('disk.info').write('{}')
    inst2 = root.mkdir('11111111-aaaa-bbbb-cccc-000000000002')
    inst2.join('disk').write_binary(make_header(
        '/var/lib/nova/instances/_base/other'))
    inst3 = root.mkdir('instance-00000003')
    inst3.join('disk').write_binary(make_header(
        '/var/lib/nova/instances/_base/%s_80' % NAME))
    root.mkdir('locks')
    return str(root)


def test_cache_name_is_sha1_of_the_image_id():
    assert cache.cache_name(IMAGE) == NAME
    assert cache.classify(NAME, NAME) == 'base'
    assert cache.classify(NAME + '_10', NAME) == 'resized'
    assert cache.classify(NAME + '.part', NAME) == 'partial download'
    assert cache.classify(NAME + '_x', NAME) is None


def test_cache_files_and_users(tmpdir):
    root = _tree(tmpdir)
    files = cache.cache_files(root, IMAGE)
    kinds = [(os.path.basename(f.path), f.kind, f.exists) for f in files]
    assert kinds == [(NAME, 'base', True), (NAME + '_20', 'resized', True),
                     (NAME + '_40', 'resized', True)]
    dangling = cache.find_users(root, files)
    assert [u['instance'] for u in files[1].used_by] == [
        '11111111-aaaa-bbbb-cccc-000000000001']
    assert files[0].used_by == [] and files[2].used_by == []
    assert dangling == []


def test_cli_cache_path_json(tmpdir, capsys):
    root = _tree(tmpdir)
    code = cli_main.main(['cache-path', IMAGE, '--instances-path', root,
                          '--format', 'json'])
    out = json.loads(capsys.readouterr()[0])
    assert code == 1   # in use
    assert out['cache_name'] == NAME and out['in_use'] is True
    assert out['files'][0]['path'] == os.path.join(root, '_base', NAME)


def test_cli_cache_path_text_not_in_use(tmpdir, capsys):
    root = tmpdir.mkdir('instances')
    root.mkdir('_base')
    code = cli_main.main(['cache-path', IMAGE, '--instances-path',
                          str(root)])
    out = capsys.readouterr()[0]
    assert code == 0
    assert '[base]  absent' in out and 'no instance disk' in out


def test_cli_cache_path_missing_dir(tmpdir, capsys):
    code = cli_main.main(['cache-path', IMAGE, '--instances-path',
                          str(tmpdir.join('nope'))])
    assert code == 2
    assert 'is not a directory' in capsys.readouterr()[1]


# -- what could not be read makes the answer "unknown" (exit 2) -----------
# Real permissions on real files. Root reads everything, so as root the
# command runs in a forked child that has dropped to an unprivileged user
# (the modules are already imported: the child opens nothing of ours).

UNPRIVILEGED = 65534   # nobody
# what the CLI writes to: native str on Python 2.7 and 3
NativeIO = io.BytesIO if str is bytes else io.StringIO


def _open_tree():
    """A tree that the unprivileged user can traverse (pytest's own tmp
    directory is private to root).
    """
    top = tempfile.mkdtemp(prefix='nova-imgmeta-cache-')
    os.chmod(top, 0o755)
    root = os.path.join(top, 'instances')
    os.makedirs(os.path.join(root, '_base'))
    with open(os.path.join(root, '_base', NAME), 'w') as handle:
        handle.write('base data')
    inst = os.path.join(root, 'inst-1')
    os.mkdir(inst)
    with open(os.path.join(inst, 'disk'), 'wb') as handle:
        handle.write(make_header('/var/lib/nova/instances/_base/other'))
    for path in (root, os.path.join(root, '_base'), inst):
        os.chmod(path, 0o755)
    for path in (os.path.join(root, '_base', NAME),
                 os.path.join(inst, 'disk')):
        os.chmod(path, 0o644)
    return top, root


def _cache_path(root, *extra):
    """Run ``cache-path IMAGE`` (JSON) with real permissions: returns
    (exit code, parsed output, stderr).
    """
    argv = ['cache-path', IMAGE, '--instances-path', root,
            '--format', 'json'] + list(extra)
    if os.geteuid() != 0:
        out, err = NativeIO(), NativeIO()
        code = _run_main(argv, out, err)
        return code, json.loads(out.getvalue() or 'null'), err.getvalue()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:   # child
        code = 99
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(UNPRIVILEGED)
            os.setuid(UNPRIVILEGED)
            out, err = NativeIO(), NativeIO()
            code = _run_main(argv, out, err)
            result = json.dumps([code, out.getvalue(), err.getvalue()])
            os.write(write_fd, result.encode('utf-8'))
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks = []
    while True:
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    os.waitpid(pid, 0)
    code, out, err = json.loads(b''.join(chunks).decode('utf-8'))
    return code, json.loads(out or 'null'), err


def _run_main(argv, out, err):
    real = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        return cli_main.main(argv)
    finally:
        sys.stdout, sys.stderr = real


@pytest.fixture
def open_tree():
    top, root = _open_tree()
    yield root
    for path, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chmod(os.path.join(path, name), 0o755)
    shutil.rmtree(top)


def test_readable_tree_not_in_use(open_tree):
    code, out, err = _cache_path(open_tree)
    assert (code, out['verdict'], out['unreadable']) == (0, 'not in use', [])


@pytest.mark.parametrize('what', ['disk', 'instance directory',
                                  'instances directory', '_base'])
def test_unreadable_makes_the_answer_unknown(open_tree, what):
    path = {'disk': os.path.join(open_tree, 'inst-1', 'disk'),
            'instance directory': os.path.join(open_tree, 'inst-1'),
            'instances directory': open_tree,
            '_base': os.path.join(open_tree, '_base')}[what]
    # searchable but not readable: the path still resolves, its content
    # (or listing) cannot be read
    os.chmod(path, 0o311 if os.path.isdir(path) else 0o200)
    code, out, err = _cache_path(open_tree)
    assert code == 2, (out, err)
    assert out['verdict'] == 'unknown' and out['in_use'] is None
    assert [item['path'] for item in out['unreadable']] == [path]


def test_unknown_is_named_in_the_text_output(open_tree):
    disk = os.path.join(open_tree, 'inst-1', 'disk')
    os.chmod(disk, 0o200)
    argv = ['cache-path', IMAGE, '--instances-path', open_tree]
    if os.geteuid() == 0:
        code, _out, _err = _cache_path(open_tree)   # JSON checked above
        assert code == 2
        return
    out, err = NativeIO(), NativeIO()
    assert _run_main(argv, out, err) == 2
    assert 'COULD NOT READ %s' % disk in out.getvalue()
    assert 'UNKNOWN' in out.getvalue()


def test_huge_backing_file_offset_is_unknown_not_a_traceback(open_tree,
                                                             capsys):
    disk = os.path.join(open_tree, 'inst-1', 'disk')
    with open(disk, 'wb') as handle:
        handle.write(make_header('/var/lib/nova/instances/_base/' + NAME,
                                 backing_offset=(1 << 64) - 1))
    code = cli_main.main(['cache-path', IMAGE, '--instances-path',
                          open_tree])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert 'COULD NOT READ %s' % disk in out
    assert 'past the end of the file' in out
    assert 'Traceback' not in err


def test_non_ascii_image_id_is_refused_clearly(tmpdir, capsys):
    image_id = u'imag\u00e9'
    if str is bytes:   # Python 2.7: argv holds the UTF-8 bytes
        image_id = image_id.encode('utf-8')
    code = cli_main.main(['cache-path', image_id, '--instances-path',
                          str(tmpdir)])
    out, err = capsys.readouterr()
    assert code == 2
    assert 'is not an image id' in err
    assert 'Traceback' not in err


# -- issue 17, item 6: a backing file name that is not a path --------------
# qemu opens such names through a pseudo-protocol's driver: they may name
# the base file all the same, so the answer is "unknown", never "not in
# use" (which it used to be, exit 0).

BASE = '/var/lib/nova/instances/_base/' + NAME
NOT_PATHS = [
    'json:{"driver": "qcow2", "file": {"driver": "file", '
    '"filename": "%s"}}' % BASE,
    'json:{"file.filename": "%s"}' % BASE,
    'file:' + BASE,
    'nbd:unix:/run/nbd.sock:exportname=' + NAME,
    'nbd://127.0.0.1:10809/' + NAME,
    'rbd:images/%s:conf=/etc/ceph/ceph.conf' % NAME,
    'gluster://host/volume/_base/' + NAME,
    'null-co://',
    ':' + BASE,
    BASE.encode('utf-8').replace(b'_base', b'_b\xe4se'),   # not UTF-8
    BASE.encode('utf-8') + b'\0.old',                       # a NUL byte
]


@pytest.mark.parametrize('name', NOT_PATHS)
def test_backing_name_that_is_not_a_path_makes_the_answer_unknown(
        open_tree, name):
    disk = os.path.join(open_tree, 'inst-1', 'disk')
    with open(disk, 'wb') as handle:
        handle.write(make_header(name))
    code, out, err = _cache_path(open_tree)
    assert code == 2, (out, err)
    assert out['verdict'] == 'unknown' and out['in_use'] is None
    [item] = out['unreadable']
    assert item['path'] == disk and item['what'] == 'interpret'
    assert 'backing file name' in item['error']


def test_uninterpretable_name_is_named_in_the_text_output(open_tree, capsys):
    disk = os.path.join(open_tree, 'inst-1', 'disk')
    with open(disk, 'wb') as handle:
        handle.write(make_header(NOT_PATHS[0]))
    code = cli_main.main(['cache-path', IMAGE, '--instances-path',
                          open_tree])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert 'CANNOT INTERPRET THE BACKING FILE NAME OF %s' % disk in out
    assert '"json:" pseudo-protocol' in out
    assert 'UNKNOWN' in out and 'Traceback' not in err


def test_in_use_wins_over_an_uninterpretable_name(open_tree):
    inst = os.path.join(open_tree, 'inst-2')
    os.mkdir(inst)
    os.chmod(inst, 0o755)
    with open(os.path.join(inst, 'disk'), 'wb') as handle:
        handle.write(make_header(BASE))
    with open(os.path.join(open_tree, 'inst-1', 'disk'), 'wb') as handle:
        handle.write(make_header(NOT_PATHS[0]))
    code, out, _err = _cache_path(open_tree)
    assert (code, out['verdict']) == (1, 'in use')


@pytest.mark.parametrize('how', ['relative', 'dot-dot', 'colon-in-a-path',
                                 'symbolic link'])
def test_paths_that_name_the_base_file_are_followed(open_tree, how):
    """Names that are paths, however written, still count as in use."""
    disk = os.path.join(open_tree, 'inst-1', 'disk')
    if how == 'relative':
        name = '../_base/' + NAME
    elif how == 'dot-dot':
        name = '/var/lib/nova/instances/_base/x/../' + NAME
    elif how == 'colon-in-a-path':
        name = '/srv/nova:1/instances/_base/' + NAME
    else:
        link = os.path.join(open_tree, 'cache-link')
        os.symlink(os.path.join(open_tree, '_base'), link)
        name = os.path.join(link, NAME)
    with open(disk, 'wb') as handle:
        handle.write(make_header(name))
    code, out, err = _cache_path(open_tree)
    assert (code, out['verdict']) == (1, 'in use'), (out, err)
    [used] = [f for f in out['files'] if f['used_by']]
    assert used['path'] == os.path.join(open_tree, '_base', NAME)
