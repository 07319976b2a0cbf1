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

"""Garbage from Glance or Nova (issue 17, item 4): whatever a proxy, a
broken server or a login page sends instead of the API's answer, audit,
backfill, undo and ``checksum --image`` stop with exit 2 and say which URL
answered, with which status, and what was wrong: never a traceback, never
exit 1 (which means "problems found" or "different").

A loopback proxy in front of the real Glance server (or of the Nova
stand-in) sends each answer instead of the server's. The tests share one
catalogue: each leaves it as it found it (nothing written, or undone).
"""

import os

from loopback_http import Answer
from loopback_http import start_proxy
import pytest

from nova_imgmeta.catalogue import fix_journal

HTML = b'<html><body><h1>Welcome to nginx!</h1></body></html>'
JSON = 'application/json'

#: (name, status, Content-Type, body, what the message must say)
GARBAGE = [
    ('html-200', 200, 'text/html', HTML, 'text/html'),
    ('plain-text-200', 200, 'text/plain', b'OK', 'text/plain'),
    ('octet-stream-200', 200, 'application/octet-stream', b'\x00\x01\xff',
     'application/octet-stream'),
    ('truncated-json', 200, JSON, b'{"images": [{"id": "a", "na',
     'invalid JSON'),
    ('empty-body-200', 200, JSON, b'', 'empty'),
    ('not-utf8-json', 200, JSON, b'{"images": ["\xff\xfe"]}', 'invalid JSON'),
    ('json-list', 200, JSON, b'[]', 'wrong shape'),
    ('json-string', 200, JSON, b'"images"', 'wrong shape'),
    ('500-error-string', 500, JSON, b'{"error": "boom"}', 'boom'),
    ('500-html', 500, 'text/html', b'<html><h1>Server Error</h1></html>',
     'Server Error'),
    ('502-bad-gateway-text', 502, 'text/plain', b'Bad Gateway',
     'Bad Gateway'),
]

#: garbage shaped like a listing but not one
BAD_LISTINGS = [
    ('images-not-a-list', {'images': {'a': 1}}, 'wrong shape'),
    ('image-not-an-object', {'images': ['abc']}, 'wrong shape'),
    ('image-without-id', {'images': [{'name': 'x'}]}, 'without "id"'),
    ('image-id-not-a-string', {'images': [{'id': 5}]}, '"id"'),
    ('property-not-a-string', {'images': [{
        'id': 'a', 'image_type': 'snapshot', 'base_image_ref': {'x': 1}}]},
     'base_image_ref'),
    ('next-not-a-string', {'images': [], 'next': 12}, '"next"'),
    ('no-images-key', {'servers': []}, 'wrong shape'),
]


@pytest.fixture
def catalogue(shared_catalogue):
    return shared_catalogue


def _check(code, err, url, status, what):
    assert code == 2, err
    assert 'Traceback' not in err
    assert url in err, err
    assert 'HTTP %d' % status in err, err
    assert what in err, err


def _run(cli, glance, answers, *argv, **kwargs):
    proxy = start_proxy(glance.url, {'answers': answers})
    try:
        code, out, err = cli.run(*argv, glance_url=proxy.url, **kwargs)
        return code, out, err, proxy.url
    finally:
        proxy.shutdown()


@pytest.mark.parametrize('name,status,ctype,body,what', GARBAGE,
                         ids=[g[0] for g in GARBAGE])
def test_audit_listing_garbage_is_exit_2_with_url_and_status(
        cli, glance, catalogue, name, status, ctype, body, what):
    answer = Answer('GET', '/v2/images?', status, body, ctype)
    code, out, err, url = _run(cli, glance, [answer], 'audit', '--owner',
                               catalogue.owner)
    _check(code, err, url + '/v2/images?limit=1000', status, what)


@pytest.mark.parametrize('name,body,what', BAD_LISTINGS,
                         ids=[g[0] for g in BAD_LISTINGS])
def test_audit_listing_of_the_wrong_shape_is_exit_2(cli, glance, catalogue,
                                                    name, body, what):
    answer = Answer('GET', '/v2/images?', 200, body)
    code, out, err, url = _run(cli, glance, [answer], 'audit', '--owner',
                               catalogue.owner)
    _check(code, err, url + '/v2/images?limit=1000', 200, what)


@pytest.mark.parametrize('name,status,ctype,body,what', GARBAGE[:4],
                         ids=[g[0] for g in GARBAGE[:4]])
def test_version_document_garbage_is_exit_2(cli, glance, catalogue, name,
                                            status, ctype, body, what):
    answer = Answer('GET', '/versions', status, body, ctype)
    code, out, err, url = _run(cli, glance, [answer], 'audit', '--owner',
                               catalogue.owner)
    _check(code, err, url + '/versions', status, what)


@pytest.mark.parametrize('name,status,ctype,body,what', GARBAGE,
                         ids=[g[0] for g in GARBAGE])
def test_backfill_garbage_while_reading_an_image_is_exit_2(
        cli, glance, catalogue, tmp_path, name, status, ctype, body, what):
    """Before the write: the image's current value cannot be read, so
    nothing is written for it and the journal has no open change.
    """
    before = catalogue.base_image_refs()
    victim = catalogue.ids['missing-live']
    journal = str(tmp_path / 'j.jsonl')
    answers = [Answer('GET', victim, status, body, ctype)]
    code, out, err, url = _run(cli, glance, answers, 'backfill', '--owner',
                               catalogue.owner, '--apply', '--image',
                               victim, '--journal', journal)
    _check(code, err, url + '/v2/images', status, what)
    assert victim in err
    assert catalogue.base_image_refs() == before
    assert not [r for r in fix_journal.read(journal)
                if r['image_id'] == victim and r['event'] == 'begin']


@pytest.mark.parametrize('name,status,ctype,body,what', GARBAGE[:5],
                         ids=[g[0] for g in GARBAGE[:5]])
def test_backfill_garbage_answering_a_patch_is_exit_2_journal_exact(
        cli, glance, catalogue, tmp_path, name, status, ctype, body, what):
    """Glance made the change but answered garbage: the change is
    confirmed by reading the image back, journaled done, and undone.
    """
    before = catalogue.base_image_refs()
    victim = catalogue.ids['missing-live']
    journal = str(tmp_path / 'j.jsonl')
    answers = [Answer('PATCH', victim, status, body, ctype,
                      after_forward=True)]
    code, out, err, url = _run(cli, glance, answers, 'backfill', '--owner',
                               catalogue.owner, '--apply', '--image',
                               victim, '--journal', journal)
    _check(code, err, url + '/v2/images/' + victim, status, what)
    assert catalogue.get('missing-live')['base_image_ref'] == \
        catalogue.ids['ubuntu']
    change = fix_journal.changes(fix_journal.read(journal))[
        (victim, 'base_image_ref')]
    assert change.state == fix_journal.DONE
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0, out + err
    assert catalogue.base_image_refs() == before


@pytest.mark.parametrize('name,status,ctype,body,what', GARBAGE,
                         ids=[g[0] for g in GARBAGE])
def test_undo_garbage_is_exit_2(cli, glance, catalogue, tmp_path, name,
                                status, ctype, body, what):
    victim = catalogue.ids['missing-live']
    journal = str(tmp_path / 'j.jsonl')
    code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                             '--apply', '--image', victim, '--journal',
                             journal)
    assert code == 0, out + err
    answers = [Answer('GET', victim, status, body, ctype)]
    code, out, err, url = _run(cli, glance, answers, 'undo', '--journal',
                               journal)
    _check(code, err, url + '/v2/images', status, what)
    # nothing was restored without reading the image first; a second undo
    # does it
    assert catalogue.get('missing-live')['base_image_ref'] == \
        catalogue.ids['ubuntu']
    code, out, err = cli.run('undo', '--journal', journal)
    assert code == 0 and 'restored=1' in out, out + err


CHECKSUM_GARBAGE = GARBAGE + [
    ('image-without-id', 200, JSON, b'{"name": "x", "checksum": "abc"}',
     'without "id"'),
    ('checksum-not-a-string', 200, JSON,
     b'{"id": "ID", "checksum": 12, "size": 3}', 'checksum'),
    ('size-not-a-number', 200, JSON,
     b'{"id": "ID", "checksum": "abc", "size": "big"}', 'size'),
]


@pytest.fixture
def image_file(admin, tmp_path):
    image = admin.create(name='data', disk_format='raw',
                         container_format='bare', owner='proj-garbage')
    admin.upload(image['id'], b'abc')
    path = tmp_path / 'f.raw'
    path.write_bytes(b'abc')
    return image['id'], str(path)


@pytest.mark.parametrize('name,status,ctype,body,what', CHECKSUM_GARBAGE,
                         ids=[g[0] for g in CHECKSUM_GARBAGE])
def test_checksum_image_garbage_is_exit_2(cli, glance, image_file, name,
                                          status, ctype, body, what):
    image_id, path = image_file
    body = body.replace(b'"ID"', ('"%s"' % image_id).encode('ascii'))
    answers = [Answer('GET', '/v2/images/' + image_id, status, body, ctype)]
    code, out, err, url = _run(cli, glance, answers, 'checksum', path,
                               '--image', image_id)
    _check(code, err, url + '/v2/images/' + image_id, status, what)


NOVA_GARBAGE = GARBAGE + [
    ('servers-not-a-list', 200, JSON, b'{"servers": {"a": 1}}',
     'wrong shape'),
    ('server-without-id', 200, JSON, b'{"servers": [{"name": "x"}]}',
     'without "id"'),
    ('server-image-a-number', 200, JSON,
     b'{"servers": [{"id": "s", "image": 5}]}', '"image"'),
    ('links-not-a-list', 200, JSON,
     b'{"servers": [], "servers_links": "next"}', 'servers_links'),
]


@pytest.mark.parametrize('name,status,ctype,body,what,threshold', [
    g + ('0',) for g in NOVA_GARBAGE] + [
    # one server at a time (uuid= filter) rather than one listing
    g + ('20',) for g in NOVA_GARBAGE[:1] + NOVA_GARBAGE[-3:-2]], ids=[
    g[0] for g in NOVA_GARBAGE] + [
    g[0] + '-uuid-filter' for g in NOVA_GARBAGE[:1] + NOVA_GARBAGE[-3:-2]])
def test_nova_garbage_is_exit_2(cli, nova, catalogue, name, status, ctype,
                                body, what, threshold):
    proxy = start_proxy(nova.url, {'answers': [
        Answer('GET', '/servers', status, body, ctype)]})
    try:
        code, out, err = cli.run('backfill', '--owner', catalogue.owner,
                                 '--nova-batch-threshold', threshold,
                                 nova_url=proxy.url + '/v2.1')
    finally:
        proxy.shutdown()
    _check(code, err, proxy.url + '/v2.1/servers/detail?', status, what)


@pytest.mark.parametrize('name,status,ctype,body,what', GARBAGE[:2],
                         ids=[g[0] for g in GARBAGE[:2]])
def test_garbage_on_the_lookup_outside_the_listing_is_exit_2(
        cli, glance, catalogue, name, status, ctype, body, what):
    answers = [Answer('GET', 'id=in', status, body, ctype),
               Answer('GET', '/v2/images/' + catalogue.ids['gone'], status,
                      body, ctype)]
    code, out, err, url = _run(cli, glance, answers, 'audit', '--owner',
                               catalogue.owner)
    _check(code, err, url + '/v2/images', status, what)


def test_messages_never_show_a_whole_page(cli, glance, catalogue):
    body = b'<html>' + b'x' * 100000 + b'</html>'
    answer = Answer('GET', '/v2/images?', 200, body, 'text/html')
    code, out, err, url = _run(cli, glance, [answer], 'audit', '--owner',
                               catalogue.owner)
    assert code == 2 and len(err) < 2000, len(err)


def test_journal_is_untouched_by_garbage_before_any_write(
        cli, glance, catalogue, tmp_path):
    journal = tmp_path / 'j.jsonl'
    answer = Answer('GET', '/v2/images?', 200, HTML, 'text/html')
    code, out, err, url = _run(cli, glance, [answer], 'backfill', '--owner',
                               catalogue.owner, '--apply', '--journal',
                               str(journal))
    assert code == 2
    assert not os.path.exists(str(journal)) or journal.read_bytes() == b''


def test_checksum_of_an_unknown_hash_algorithm_is_exit_2(
        cli, glance, image_file):
    image_id, path = image_file
    body = {'id': image_id, 'checksum': 'abc', 'size': 3,
            'os_hash_algo': 'blake9', 'os_hash_value': 'ff'}
    answers = [Answer('GET', '/v2/images/' + image_id, 200, body)]
    code, out, err, url = _run(cli, glance, answers, 'checksum', path,
                               '--image', image_id)
    assert code == 2 and 'Traceback' not in err
    assert "os_hash_algo 'blake9'" in err and 'cannot compute' in err
