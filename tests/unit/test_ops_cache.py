"""Image cache names and the cache-path command."""

import hashlib
import json
import os

from nova_imgmeta.cli import main as cli_main
from nova_imgmeta.ops import cache, qcow2

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
    inst.join('disk').write_binary(qcow2.make_header(
        '/var/lib/nova/instances/_base/%s_20' % NAME))
    inst.join('disk.info').write('{}')
    inst2 = root.mkdir('11111111-aaaa-bbbb-cccc-000000000002')
    inst2.join('disk').write_binary(qcow2.make_header(
        '/var/lib/nova/instances/_base/other'))
    inst3 = root.mkdir('instance-00000003')
    inst3.join('disk').write_binary(qcow2.make_header(
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
