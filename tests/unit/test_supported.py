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


"""One source for the supported release lines: nova_imgmeta/patches/MAP
(issue 17, item 7: --help, the group help, setup.cfg, the package
docstring and plugins.rst said "Pike and Queens", the README "Pike to
Victoria").
"""

import io
import os
import re
import subprocess
import sys

import pytest

import nova_imgmeta
from nova_imgmeta.cli import main
from nova_imgmeta import opts
from nova_imgmeta.patching import series
from nova_imgmeta import supported

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                   os.pardir)


def _read(*parts):
    with io.open(os.path.join(TOP, *parts), encoding='utf-8') as handle:
        return handle.read()


def _squash(text):
    return re.sub(r'\s+', ' ', text)


def _line_names():
    majors = set()
    for first, last, _name in series.load_map():
        majors.update(range(first[0], last[0] + 1))
    return sorted(supported.line_name(major) for major in majors)


def test_the_range_is_the_oldest_and_newest_rule_of_map():
    rules = sorted(series.load_map())
    oldest, newest = supported.lines()
    assert (oldest.major, newest.major) == (
        rules[0][0][0], max(last for _first, last, _name in rules)[0])
    assert supported.range_text() == '%s (%d.x) to %s (%d.x)' % (
        oldest.name, oldest.major, newest.name, newest.major)
    assert oldest.name == 'Pike'


@pytest.mark.skipif(sys.version_info < (3, 5),
                    reason='tools/nova-tier is Python 3 code')
def test_line_names_are_those_of_the_real_nova_tier():
    """tools/nova-tier/releases.py names each line it tests; so does
    LINE_NAMES (the package cannot import tools/).
    """
    import importlib.util
    path = os.path.join(os.path.dirname(__file__), '..', '..', 'tools',
                        'nova-tier', 'releases.py')
    spec = importlib.util.spec_from_file_location('releases', path)
    releases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(releases)
    for name, line in releases.LINES.items():
        major = int(line.nova.split('.')[0])
        # a line's name up to its first "-", as MAP's series (issue 18's
        # trial line victoria-test is Victoria's)
        assert supported.line_name(major).lower() == name.split('-')[0], \
            name


def test_a_new_line_needs_no_name_written_in_the_package():
    """Issue 18's trial: a line added to MAP and releases.py (2027.1,
    Nova 35) was named "Nova 35" until its name was added to LINE_NAMES,
    a file the procedure for a new line does not list.
    """
    numbered = ['2023.1', '2023.2', '2024.1', '2024.2', '2025.1', '2025.2',
                '2026.1', '2026.2', '2027.1', '2027.2']
    assert [supported.line_name(major) for major in range(27, 37)] == \
        numbered
    assert supported.line_name(26) == 'Zed'


def test_a_line_added_to_map_is_named(tmp_path):
    text = _read('nova_imgmeta', 'patches', 'MAP')
    (tmp_path / 'MAP').write_text(
        text + u'# a line added later\n35.0.0 35.1.0 2025.1\n')
    assert supported.range_text(str(tmp_path)).endswith(
        'to 2027.1 (35.x)')
    (tmp_path / 'MAP').write_text(u'17.0.0 17.0.13 queens\n')
    assert supported.range_text(str(tmp_path)) == 'Queens (17.x)'
    # older than the table: the series' name
    (tmp_path / 'MAP').write_text(u'15.0.0 15.1.0 ocata-pre-15.1\n')
    assert supported.range_text(str(tmp_path)) == 'Ocata (15.x)'


def test_without_map_the_words_say_where_to_look(tmp_path):
    assert supported.range_text(str(tmp_path)) == supported.FALLBACK
    (tmp_path / 'MAP').write_text(u'# no rule\n')
    assert supported.range_text(str(tmp_path)) == supported.FALLBACK


def test_help_names_the_supported_range(capsys):
    """It said "OpenStack Nova Pike and Queens"."""
    parser = main.build_parser()
    assert supported.range_text() in _squash(parser.description)
    try:
        main.main(['--help'])
    except SystemExit:
        pass
    assert supported.range_text() in _squash(capsys.readouterr()[0])


def test_group_help_names_the_supported_range():
    assert supported.range_text() in _squash(opts.group().help)
    assert 'Pike and Queens' not in opts.group().help


def test_static_texts_name_no_release_line():
    """What cannot be generated (setup.cfg's summary, the package
    docstring) names no line at all, so it cannot go stale.
    """
    summary = re.search(r'^summary = (.*)$', _read('setup.cfg'),
                        re.M).group(1)
    for name in _line_names():
        assert name not in summary, summary
        assert name not in nova_imgmeta.__doc__


def test_documentation_uses_the_generated_range():
    for page in ('plugins.rst', 'index.rst'):
        text = _read('doc', 'source', page)
        assert '|supported_range|' in text, page
        for name in _line_names():
            assert '%s (' % name not in text.split('\n\n')[1], page
    assert 'rst_epilog' in _read('doc', 'source', 'conf.py')


def test_readme_states_the_supported_range():
    """The README is written by hand: it must say what MAP says."""
    first = _squash(_read('README.md').split('\n\n')[1])
    assert supported.range_text() in first, first


def test_help_does_not_need_map_to_work(tmp_path):
    """A packaging fault that loses MAP still gives a working --help."""
    code = ('import sys\n'
            'from nova_imgmeta import supported\n'
            'from nova_imgmeta.cli import main\n'
            'supported.range_text.__defaults__ = (%r,)\n'
            'sys.exit(main.main(["--help"]))\n' % str(tmp_path))
    out = subprocess.check_output([sys.executable, '-c', code])
    assert supported.FALLBACK in _squash(out.decode('utf-8'))
