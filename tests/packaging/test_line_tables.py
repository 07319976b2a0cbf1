# Copyright nova-imgmeta contributors.
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
"""The lists and tables derived from MAP, releases.py and patches-src/."""

import importlib.machinery
import importlib.util
import itertools
import os
import re

import pytest

import line_tables
import marked_blocks
from nova_imgmeta import patching
import releases
import series_sources

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _regen():
    path = os.path.join(TOP, 'tools', 'regen')
    loader = importlib.machinery.SourceFileLoader('regen', path)
    spec = importlib.util.spec_from_loader('regen', loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_committed_blocks_are_current():
    # tools/regen --check (tox -e regen) checks them with the series; this
    # one needs no sdist.
    assert _regen()._blocks(check=True) == []


def test_every_series_has_one_row_and_every_line_its_tier():
    rows = line_tables.rows()
    names = [row.name for row in rows]
    assert sorted(names) == sorted(set(names))
    assert set(names) == set(patching.series_names()) | set(
        series_sources.names())
    # From Wallaby on a series serves several lines: each line's tier runs
    # the series of its newest release.
    tiers = []
    for row in rows:
        if row.tier:
            tiers.extend(entry.series for entry in row.lines)
    assert tiers == list(releases.LINES)
    by_name = dict((row.name, row) for row in rows)
    assert by_name['train-eol'].tags == ['train-eol']
    assert by_name['train'].tags == []
    assert by_name['rocky'].tags == ['rocky-eol']
    assert by_name['rocky-pre-18.2.2'].tags == []


def test_readme_rows():
    table = line_tables.readme_table().splitlines()
    pike = releases.LINES['pike']
    assert table[2] == ('| 16.0.0 \u2013 16.1.8, `pike-eol` (Pike) | `pike` '
                        '| 0001, 0002 | Python 2.7 | `nova-pike` (16.1.8%s) |'
                        % ('' if pike.ci else '; not in CI'))
    assert ('| `train-eol` (a tag, no release) | `train-eol` (chosen by '
            'trying) | 0002 | Python 2.7, 3.6 | - |') in table


def test_line_left_out_of_ci(monkeypatch):
    lines = releases.LINES.copy()
    lines['rocky'] = lines['rocky']._replace(ci=False)
    monkeypatch.setattr(releases, 'LINES', lines)
    assert 'nova-rocky' not in releases.tox_envs(ci_only=True)
    assert 'nova-rocky' in releases.tox_envs()
    assert '`nova-rocky` (18.3.0; not in CI)' in line_tables.readme_table()
    assert '| Rocky | `nova-rocky` | 18.3.0 | 2.7.18 | - | no' in \
        line_tables.tier_table()


def _tox3_envs(sections_text):
    """The testenv names tox 3 makes of these sections, as its
    ParseIni.expand_section_names does (only those it expands).
    """
    names = []
    for line in sections_text.splitlines():
        if not line.startswith('[testenv:'):
            continue
        section = line[1:-1]
        parts = line_tables.TOX3_FACTORS.split(section)
        choices = [re.split(r'\s*,\s*', part) for part in parts]
        names += [''.join(chosen)[len('testenv:'):]
                  for chosen in itertools.product(*choices)]
    return names


def test_tox_sections_of_dotted_lines_expand_under_tox3():
    """Regression: [testenv:nova-{...,2023.1,...}] is not expanded by tox
    3 (no "." in its factor pattern): tox -e nova-queens answered "unknown
    environment" for every line.
    """
    text = line_tables.tox_header()
    assert _tox3_envs(text) == releases.tox_envs()
    assert line_tables.tox_section_names('x', ['a', 'b', '2023.1', '2023.2',
                                               '2024.1']) == [
        'testenv:x-{a,b}', 'testenv:x-2023.{1,2}', 'testenv:x-2024.1']


def test_tox_sections_carry_the_template(tmp_path):
    tox_ini = tmp_path / 'tox.ini'
    tox_ini.write_text('[t]\n# kept\ncommands = run {envname}\n\n'
                       '# the next one\n[testenv:other]\n')
    assert line_tables.tox_sections('x', ['a', '1.2'], 't', str(tox_ini)) \
        == ('[testenv:x-a]\n# kept\ncommands = run {envname}\n\n'
            '[testenv:x-1.2]\n# kept\ncommands = run {envname}\n')
    with pytest.raises(ValueError):
        line_tables.tox_template('missing', str(tox_ini))


def test_cloud_tier_envs_and_table():
    components = line_tables.cloud_components()
    assert _tox3_envs(line_tables.cloud_tox_header()) == \
        components.tox_envs()
    assert components.tox_envs(ci_only=True) == ['cloud-queens']
    for env in components.tox_envs():
        assert env[len('cloud-'):] in releases.LINES
    text = '\n'.join(line_tables.rst_cloud_table())
    assert "15.0.2 (Pike's, Python 2.7.18)" in text
    assert text.count('   * - ``cloud-') == len(components.COMPONENTS)


def test_rst_tables_are_list_tables():
    differences = line_tables.rst_differences_table()
    assert differences[0] == '.. list-table::'
    text = '\n'.join(differences)
    assert ('``nova.compute.utils.initialize_instance_snapshot_metadata``, '
            'also for cross-cell resize') in text
    assert "after upstream's line (below)" in text
    assert '``None`` (the method has none)' in text
    assert len(line_tables.rst_map_table()) == \
        4 + 2 * (1 + len(line_tables.rows()))


def test_replace_touches_only_the_block():
    text = 'a\n# BEGIN x: generated by tools/regen, do not edit\nold\n' \
        '# END x\nb\n'
    assert marked_blocks.replace(text, 'x', 'new', 'hash') == \
        'a\n# BEGIN x: generated by tools/regen, do not edit\nnew\n' \
        '# END x\nb\n'


@pytest.mark.parametrize('text', [
    'no markers\n',
    '<!-- END x -->\n<!-- BEGIN x: generated by tools/regen, do not edit '
    '-->\n',
    '<!-- BEGIN x: generated by tools/regen, do not edit -->\n' * 2 +
    '<!-- END x -->\n',
])
def test_missing_or_misplaced_markers_are_errors(text):
    with pytest.raises(marked_blocks.BlockError):
        marked_blocks.replace(text, 'x', 'new', 'html', 'README.md')


def test_no_line_is_half_added():
    assert line_tables.source_problems() == []


def test_line_in_map_without_releases_entry_is_caught(tmp_path):
    """Issue 18's trial: a line MAP serves, made into a series, but left
    out of releases.py, passed tools/regen --check (its tables just said
    "-" for the tier and "?" for the Python).
    """
    with open(os.path.join(TOP, 'nova_imgmeta', 'patches', 'MAP')) as f:
        rules = f.read()
    (tmp_path / 'MAP').write_text(rules + '35.0.0 35.0.1 2025.1\n')
    assert line_tables.source_problems(str(tmp_path)) == [
        'MAP serves Nova 35.x (series 2025.1), but '
        'tools/nova-tier/releases.py has no line for it: add its _line(...)']


def test_releases_entry_without_map_rule_or_constraints_is_caught():
    lines = releases.LINES.copy()
    lines['2027.1'] = releases._line('2027.1', nova='35.0.0',
                                     python='3.12.1', pythons=['3.12'],
                                     eol_tag=None)
    assert line_tables.source_problems(lines=lines) == [
        'tools/nova-tier/releases.py: line 2027.1 tests Nova 35.0.0, which '
        'no rule of MAP serves: add its MAP rule',
        'tools/nova-tier/releases.py: line 2027.1 has no '
        'tests/nova/constraints/upper-constraints-2027.1.txt: copy the '
        "requirements project's pins there"]


def test_regen_names_a_missing_piece_and_fails(monkeypatch, capsys):
    regen = _regen()
    monkeypatch.setattr(regen.line_tables, 'source_problems',
                        lambda: ['MAP serves Nova 35.x (series 2025.1), ...'])
    assert regen.main(['--check', '--skip-series']) == 1
    out = capsys.readouterr()[0]
    assert 'INCOMPLETE MAP serves Nova 35.x (series 2025.1), ...\n' in out
    assert 'regen: 1 piece(s) of a release line missing' in out
    assert 'every derived file is current' not in out
