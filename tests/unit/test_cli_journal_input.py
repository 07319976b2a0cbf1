# -*- coding: utf-8 -*-
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

"""``--journal`` that is not a journal (issue 17, item 5): a directory, a
file that is not UTF-8, a file of another shape. ``undo`` and ``backfill
--apply`` stop with exit 2 and a message naming the file and what is wrong
with it, before any request, and leave the file as it was.
"""

import io
import json
import os

import pytest

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.cli import main as cli_main

GOOD = {'event': 'begin', 'image_id': 'i1', 'key': 'base_image_ref',
        'old': None, 'new': 'b', 'time': '2026-01-01T00:00:00Z', 'run': 'r'}


def _line(**changes):
    record = dict(GOOD)
    record.update(changes)
    for key in [k for k, v in changes.items() if v is _DROP]:
        del record[key]
    return json.dumps(record) + '\n'


_DROP = object()

#: (name, file content (bytes), what the message says)
SHAPES = [
    ('not-utf8', b'\xff\xfe{"event": "begin"}\n\x80\x81\n', 'UTF-8'),
    ('latin1-text', u'{"image_id": "caf\xe9"}\n'.encode('latin-1'), 'UTF-8'),
    ('binary-with-nul', b'\x00\x01\x02\x03' * 64 + b'\n', 'line 1'),
    ('json-array-file', json.dumps([GOOD]).encode('utf-8') + b'\n',
     'line 1'),
    ('pretty-printed-json', json.dumps(GOOD, indent=2).encode('utf-8') +
     b'\n', 'line 1'),
    ('json-string-line', b'"begin"\n', 'line 1'),
    ('json-number-line', b'42\n', 'line 1'),
    ('yaml', b'event: begin\nimage_id: x\n', 'line 1'),
    ('csv', b'image_id,key,old,new\nx,base_image_ref,,y\n', 'line 1'),
    # backfill's own dry-run output (--format json): a plan, not a journal
    ('backfill-plan-output', (json.dumps(
        {'image_id': 'x', 'action': 'change', 'new': 'y', 'old': None}) +
        '\n' + json.dumps({'summary': {'would_change': 1}}) +
        '\n').encode('utf-8'), 'event'),
    ('unknown-event', _line(event='set').encode('utf-8'), 'event'),
    ('event-missing', _line(event=_DROP).encode('utf-8'), 'event'),
    ('image-id-missing', _line(image_id=_DROP).encode('utf-8'),
     'image_id'),
    ('image-id-a-number', _line(image_id=5).encode('utf-8'), 'image_id'),
    ('image-id-empty', _line(image_id='').encode('utf-8'), 'image_id'),
    ('key-missing', _line(key=_DROP).encode('utf-8'), 'key'),
    ('key-a-list', _line(key=['base_image_ref']).encode('utf-8'), 'key'),
    ('old-an-object', _line(old={'a': 1}).encode('utf-8'), 'old'),
    ('new-a-number', _line(new=3).encode('utf-8'), 'new'),
    ('bad-line-in-the-middle', (_line() + '{"ev\n' + _line(
        event='done')).encode('utf-8'), 'line 2'),
]


def _argv(command, path):
    argv = [command, '--journal', path, '--os-auth-type', 'none',
            '--os-endpoint', 'http://127.0.0.1:9',
            '--os-image-endpoint-override', 'http://127.0.0.1:9',
            '--os-compute-endpoint-override', 'http://127.0.0.1:9/v2.1']
    if command == 'backfill':
        argv.insert(1, '--apply')
    return argv


def _snapshot(path):
    if os.path.isdir(path):
        return ('dir', sorted(os.listdir(path)), os.stat(path).st_mtime)
    with open(path, 'rb') as handle:
        return ('file', handle.read(), os.stat(path).st_mtime)


@pytest.mark.parametrize('command', ['undo', 'backfill'])
@pytest.mark.parametrize('name,content,what', SHAPES,
                         ids=[s[0] for s in SHAPES])
def test_journal_of_the_wrong_shape_is_exit_2_and_untouched(
        tmpdir, capsys, command, name, content, what):
    path = str(tmpdir.join('journal.jsonl'))
    with open(path, 'wb') as handle:
        handle.write(content)
    before = _snapshot(path)
    code = cli_main.main(_argv(command, path))
    err = capsys.readouterr()[1]
    assert code == 2, err
    assert path in err and what in err, err
    assert 'Traceback' not in err
    assert _snapshot(path) == before


@pytest.mark.parametrize('command', ['undo', 'backfill'])
def test_journal_that_is_a_directory_is_exit_2_and_untouched(
        tmpdir, capsys, command):
    path = str(tmpdir.mkdir('journal.d'))
    tmpdir.join('journal.d', 'keep').write('x')
    before = _snapshot(path)
    code = cli_main.main(_argv(command, path))
    err = capsys.readouterr()[1]
    assert code == 2, err
    assert path in err and 'directory' in err, err
    assert _snapshot(path) == before


@pytest.mark.parametrize('command', ['undo', 'backfill'])
def test_journal_that_is_not_a_regular_file_is_exit_2(tmpdir, capsys,
                                                      command):
    path = str(tmpdir.join('fifo'))
    if not hasattr(os, 'mkfifo'):
        pytest.skip('no FIFOs on this platform')
    os.mkfifo(path)
    code = cli_main.main(_argv(command, path))
    err = capsys.readouterr()[1]
    assert code == 2, err
    assert path in err and 'not a regular file' in err, err


def test_valid_journals_still_read(tmpdir):
    path = str(tmpdir.join('j.jsonl'))
    with io.open(path, 'w', encoding='utf-8') as handle:
        handle.write(u'' + _line() + _line(event='done', new=u'caf\xe9'))
        handle.write(u'{"event": "begin", "ima')   # torn last write
    records = fix_journal.read(path)
    assert [r['event'] for r in records] == ['begin', 'done']
    # an empty file, or blank lines only: no records
    open(path, 'w').close()
    assert fix_journal.read(path) == []
    with open(path, 'w') as handle:
        handle.write('\n\n  \n')
    assert fix_journal.read(path) == []
