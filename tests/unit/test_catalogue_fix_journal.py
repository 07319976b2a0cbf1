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

"""The fix journal of backfill and undo: records, folding, torn lines."""

import json

import pytest

from nova_imgmeta.catalogue import fix_journal


def _journal(tmpdir):
    return fix_journal.Journal(str(tmpdir.join('j.jsonl'))).open()


def test_records_are_json_lines_with_the_required_fields(tmpdir):
    j = _journal(tmpdir)
    j.write(fix_journal.BEGIN, 'img', 'base_image_ref', old=None, new='root')
    j.write(fix_journal.DONE, 'img', 'base_image_ref', old=None, new='root')
    j.close()
    lines = tmpdir.join('j.jsonl').read().splitlines()
    first = json.loads(lines[0])
    assert set(['image_id', 'key', 'old', 'new', 'time', 'event']) <= \
        set(first)
    assert first['old'] is None and first['new'] == 'root'
    changes = fix_journal.changes(fix_journal.read(j.path))
    change = changes[('img', 'base_image_ref')]
    assert change.state == fix_journal.DONE and change.old is None


def test_torn_last_line_is_ignored_but_not_a_middle_one(tmpdir):
    path = tmpdir.join('j.jsonl')
    path.write('{"event": "begin", "image_id": "a", "key": "k"}\n{"ev')
    assert len(fix_journal.read(str(path))) == 1
    path.write('{"ev\n{"event": "begin", "image_id": "a", "key": "k"}\n')
    with pytest.raises(fix_journal.JournalError):
        fix_journal.read(str(path))


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
    assert len(fix_journal.read(str(path))) == 1
    with fix_journal.Journal(str(path)) as j:
        j.write(fix_journal.DONE, 'a', 'k', old=None, new='x')
    records = fix_journal.read(str(path))
    assert [r['event'] for r in records] == ['begin', 'done']
    assert path.read_binary().endswith(b'\n')


@pytest.mark.parametrize('prefix', ['', _WHOLE + '\n'])
def test_a_whole_last_record_without_its_newline_is_kept(tmpdir, prefix):
    path = tmpdir.join('j.jsonl')
    path.write(prefix + _WHOLE.replace('"a"', '"c"'))
    before = fix_journal.read(str(path))
    with fix_journal.Journal(str(path)) as j:
        j.write(fix_journal.DONE, 'c', 'k', old=None, new='x')
    records = fix_journal.read(str(path))
    assert records[:-1] == before and records[-1]['event'] == 'done'


def test_a_file_that_is_one_fragment_is_emptied_before_appending(tmpdir):
    path = tmpdir.join('j.jsonl')
    path.write('{"event": "be')
    with fix_journal.Journal(str(path)) as j:
        j.write(fix_journal.BEGIN, 'a', 'k', old=None, new='x')
    assert [r['image_id'] for r in fix_journal.read(str(path))] == ['a']


def test_a_long_torn_line_is_found_across_blocks(tmpdir, monkeypatch):
    monkeypatch.setattr(fix_journal, '_TAIL_BLOCK', 7)
    path = tmpdir.join('j.jsonl')
    path.write(_WHOLE + '\n' + '{"event": "begin", "note": "' + 'x' * 50)
    with fix_journal.Journal(str(path)) as j:
        j.write(fix_journal.DONE, 'a', 'k', old=None, new='x')
    assert [r['event'] for r in fix_journal.read(str(path))] == \
        ['begin', 'done']


def test_chained_changes_keep_the_first_old_value(tmpdir):
    j = _journal(tmpdir)
    j.write(fix_journal.BEGIN, 'i', 'k', old='x', new='y')
    j.write(fix_journal.DONE, 'i', 'k', old='x', new='y')
    j.write(fix_journal.BEGIN, 'i', 'k', old='y', new='z')
    j.write(fix_journal.FAILED, 'i', 'k', old='y', new='z')
    j.write(fix_journal.BEGIN, 'i', 'k', old='y', new='w')
    j.write(fix_journal.DONE, 'i', 'k', old='y', new='w')
    j.close()
    change = fix_journal.changes(fix_journal.read(j.path))[('i', 'k')]
    assert (change.old, change.new, change.state) == ('x', 'w', 'done')


def test_undone_change_starts_afresh(tmpdir):
    j = _journal(tmpdir)
    j.write(fix_journal.BEGIN, 'i', 'k', old=None, new='y')
    j.write(fix_journal.DONE, 'i', 'k', old=None, new='y')
    j.write(fix_journal.UNDO_BEGIN, 'i', 'k', old='y', new=None)
    j.write(fix_journal.UNDONE, 'i', 'k', old='y', new=None)
    j.write(fix_journal.BEGIN, 'i', 'k', old='q', new='y')
    j.close()
    change = fix_journal.changes(fix_journal.read(j.path))[('i', 'k')]
    assert (change.old, change.state) == ('q', fix_journal.BEGIN)


#: a journal as backfill and undo wrote it when this module was
#: nova_imgmeta/catalogue/journal.py: the records name no module or class,
#: so the rename to fix_journal.py (issue 18) leaves the format as it was
OLD_JOURNAL = (
    '{"event": "begin", "image_id": "img-1", "key": "base_image_ref", '
    '"new": "root-1", "old": null, "run": "0a1b2c3d4e5f", '
    '"time": "2026-11-02T10:00:00Z"}\n'
    '{"event": "done", "image_id": "img-1", "key": "base_image_ref", '
    '"new": "root-1", "old": null, "run": "0a1b2c3d4e5f", '
    '"time": "2026-11-02T10:00:01Z"}\n'
    '{"event": "begin", "image_id": "img-2", "key": "base_image_ref", '
    '"new": "root-2", "old": "gone", "run": "0a1b2c3d4e5f", '
    '"time": "2026-11-02T10:00:02Z"}\n')


def test_a_journal_written_before_the_rename_is_read_and_extended(tmpdir):
    path = tmpdir.join('old.jsonl')
    path.write_binary(OLD_JOURNAL.encode('utf-8'))
    fixes = fix_journal.changes(fix_journal.read(str(path)))
    assert sorted((k, f.old, f.new, f.state) for k, f in fixes.items()) == [
        (('img-1', 'base_image_ref'), None, 'root-1', fix_journal.DONE),
        (('img-2', 'base_image_ref'), 'gone', 'root-2', fix_journal.BEGIN)]
    assert all(isinstance(f, fix_journal.PropertyFix)
               for f in fixes.values())
    with fix_journal.Journal(str(path)) as j:
        j.write(fix_journal.FAILED, 'img-2', 'base_image_ref', old='gone',
                new='root-2')
    assert path.read_binary().startswith(OLD_JOURNAL.encode('utf-8'))
    fixes = fix_journal.changes(fix_journal.read(str(path)))
    assert fixes[('img-2', 'base_image_ref')].state == fix_journal.FAILED


def test_second_writer_is_refused(tmpdir):
    j = _journal(tmpdir)
    try:
        with pytest.raises(fix_journal.JournalError):
            fix_journal.Journal(j.path).open()
    finally:
        j.close()


def test_unknown_event_is_refused(tmpdir):
    j = _journal(tmpdir)
    with pytest.raises(ValueError):
        j.write('bogus', 'i', 'k')
    j.close()
