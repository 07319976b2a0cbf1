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

"""The backfill journal: records, folding, torn lines."""

import json

import pytest

from nova_imgmeta.catalogue import journal


def _journal(tmpdir):
    return journal.Journal(str(tmpdir.join('j.jsonl'))).open()


def test_records_are_json_lines_with_the_required_fields(tmpdir):
    j = _journal(tmpdir)
    j.write(journal.BEGIN, 'img', 'base_image_ref', old=None, new='root')
    j.write(journal.DONE, 'img', 'base_image_ref', old=None, new='root')
    j.close()
    lines = tmpdir.join('j.jsonl').read().splitlines()
    first = json.loads(lines[0])
    assert set(['image_id', 'key', 'old', 'new', 'time', 'event']) <= \
        set(first)
    assert first['old'] is None and first['new'] == 'root'
    changes = journal.changes(journal.read(j.path))
    change = changes[('img', 'base_image_ref')]
    assert change.state == journal.DONE and change.old is None


def test_torn_last_line_is_ignored_but_not_a_middle_one(tmpdir):
    path = tmpdir.join('j.jsonl')
    path.write('{"event": "begin", "image_id": "a", "key": "k"}\n{"ev')
    assert len(journal.read(str(path))) == 1
    path.write('{"ev\n{"event": "begin", "image_id": "a", "key": "k"}\n')
    with pytest.raises(journal.JournalError):
        journal.read(str(path))


_WHOLE = '{"event": "begin", "image_id": "a", "key": "k", "old": null, ' \
    '"new": "x"}'


@pytest.mark.parametrize('torn', [
    '{"event": "beg',                        # a fragment
    '{"event": "begin", "image_id": "b", "k',
])
def test_appending_after_a_torn_last_line_keeps_the_journal_readable(
        tmpdir, torn):
    """Regression: the next run's first record was glued to the fragment
    a killed run left, and read() then refused the whole journal.
    """
    path = tmpdir.join('j.jsonl')
    path.write(_WHOLE + '\n' + torn)
    assert len(journal.read(str(path))) == 1
    with journal.Journal(str(path)) as j:
        j.write(journal.DONE, 'a', 'k', old=None, new='x')
    records = journal.read(str(path))
    assert [r['event'] for r in records] == ['begin', 'done']
    assert path.read_binary().endswith(b'\n')


@pytest.mark.parametrize('prefix', ['', _WHOLE + '\n'])
def test_a_whole_last_record_without_its_newline_is_kept(tmpdir, prefix):
    path = tmpdir.join('j.jsonl')
    path.write(prefix + _WHOLE.replace('"a"', '"c"'))
    before = journal.read(str(path))
    with journal.Journal(str(path)) as j:
        j.write(journal.DONE, 'c', 'k', old=None, new='x')
    records = journal.read(str(path))
    assert records[:-1] == before and records[-1]['event'] == 'done'


def test_a_file_that_is_one_fragment_is_emptied_before_appending(tmpdir):
    path = tmpdir.join('j.jsonl')
    path.write('{"event": "be')
    with journal.Journal(str(path)) as j:
        j.write(journal.BEGIN, 'a', 'k', old=None, new='x')
    assert [r['image_id'] for r in journal.read(str(path))] == ['a']


def test_a_long_torn_line_is_found_across_blocks(tmpdir, monkeypatch):
    monkeypatch.setattr(journal, '_TAIL_BLOCK', 7)
    path = tmpdir.join('j.jsonl')
    path.write(_WHOLE + '\n' + '{"event": "begin", "note": "' + 'x' * 50)
    with journal.Journal(str(path)) as j:
        j.write(journal.DONE, 'a', 'k', old=None, new='x')
    assert [r['event'] for r in journal.read(str(path))] == \
        ['begin', 'done']


def test_chained_changes_keep_the_first_old_value(tmpdir):
    j = _journal(tmpdir)
    j.write(journal.BEGIN, 'i', 'k', old='x', new='y')
    j.write(journal.DONE, 'i', 'k', old='x', new='y')
    j.write(journal.BEGIN, 'i', 'k', old='y', new='z')
    j.write(journal.FAILED, 'i', 'k', old='y', new='z')
    j.write(journal.BEGIN, 'i', 'k', old='y', new='w')
    j.write(journal.DONE, 'i', 'k', old='y', new='w')
    j.close()
    change = journal.changes(journal.read(j.path))[('i', 'k')]
    assert (change.old, change.new, change.state) == ('x', 'w', 'done')


def test_undone_change_starts_afresh(tmpdir):
    j = _journal(tmpdir)
    j.write(journal.BEGIN, 'i', 'k', old=None, new='y')
    j.write(journal.DONE, 'i', 'k', old=None, new='y')
    j.write(journal.UNDO_BEGIN, 'i', 'k', old='y', new=None)
    j.write(journal.UNDONE, 'i', 'k', old='y', new=None)
    j.write(journal.BEGIN, 'i', 'k', old='q', new='y')
    j.close()
    change = journal.changes(journal.read(j.path))[('i', 'k')]
    assert (change.old, change.state) == ('q', journal.BEGIN)


def test_second_writer_is_refused(tmpdir):
    j = _journal(tmpdir)
    try:
        with pytest.raises(journal.JournalError):
            journal.Journal(j.path).open()
    finally:
        j.close()


def test_unknown_event_is_refused(tmpdir):
    j = _journal(tmpdir)
    with pytest.raises(ValueError):
        j.write('bogus', 'i', 'k')
    j.close()
