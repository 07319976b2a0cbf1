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

"""``nova-imgmeta patch`` on the Nova trees operators have, built from git.

Every Nova commit openstack-ansible 16.x to 22.x pins, and Nova's *-em,
*-eol and victoria-eom tags (the tips of the old stable branches), as
tests/unit/nova-git-trees.txt lists them: each laid out as pip installs it
from git (tests/unit/gittree.py), then ``patch apply`` and ``patch
status`` with no --series must choose the series the commit's history
calls for, print why, and round-trip. Commits of a line's development
(before its first release) are outside what the series serve: there a
refusal (exit 2, each candidate's verdict) or a choice that round-trips
are both fine.

Needs a Nova git repository (gittree.git_dir: $NOVA_GIT_DIR, else the
mirror); without one every test here skips, with a warning saying how to
get one. With NOVA_IMGMETA_GIT_TREES=all (tox -e py3 sets it) every one of
the 178 commits gets apply and status; by default (the other interpreters)
a sample: one commit per series (the newest pin), every branch tip and the
pin of issue 16 (12 commits) get apply, status and revert
(doc/source/patches.rst gives the time each takes).
"""

from __future__ import unicode_literals

import os
import shutil
import subprocess
import warnings

import pytest

from . import gittree
from . import realtree
from nova_imgmeta import patching
from nova_imgmeta.patching import choice


GIT_DIR = gittree.git_dir()
if GIT_DIR is None:
    warnings.warn('SKIPPED: tests/unit/test_patching_git.py: ' +
                  gittree.skip_reason())

pytestmark = [
    pytest.mark.skipif(GIT_DIR is None, reason=gittree.skip_reason()),
    pytest.mark.requires_tool('patch', 'git'),
]

ROWS = gittree.load_rows()
ALL = os.environ.get('NOVA_IMGMETA_GIT_TREES', 'sample') == 'all'


def _selected():
    """[(id, row)]: every commit once, or a sample (see the docstring)."""
    by_commit = {}
    for row in ROWS:
        by_commit.setdefault(row.commit, row)
    rows = list(by_commit.values())
    if not ALL:
        last = {}
        for row in rows:
            last[row.expected] = row     # the newest pin of each series
        rows = [row for row in rows if row in last.values() or
                row.source.startswith('tag:') or
                row.source == 'osa:18.1.9']
    return [(row.source, row) for row in rows]


SELECTED = _selected()


@pytest.fixture(scope='module')
def paths():
    """What every series touches and Nova detection reads."""
    found = set(realtree.DETECTION)
    for name in choice.all_series_names():
        found.update(patching.load_series(name).touched_files())
    return sorted(found)


def test_rows_cover_every_pin_and_tip():
    sources = [row.source for row in ROWS]
    assert len(sources) == len(set(sources))
    osa = [s for s in sources if s.startswith('osa:')]
    assert len(osa) == 190          # 16.0.0.0b1 .. 22.4.4 and 7 eol tags
    for line in ('pike', 'queens', 'rocky', 'stein', 'train', 'ussuri',
                 'victoria'):
        assert 'tag:%s-eol' % line in sources
        assert 'osa:%s-eol' % line in sources
    assert len(set(row.commit for row in ROWS)) == 178


@pytest.mark.parametrize('source,row', SELECTED,
                         ids=[source for source, _row in SELECTED])
def test_version_and_expected_series_from_history(source, row):
    assert gittree.pbr_version(GIT_DIR, row.commit) == row.version
    assert gittree.expected_series(GIT_DIR, row.commit, row.version) == \
        row.expected


def test_pbr_itself_gives_those_versions(tmpdir):
    # pbr's own code, on a clone sharing the repository's objects, with
    # HEAD moved to each commit (a sample: pbr reads the whole history).
    try:
        from pbr import git as pbr_git
        from pbr import packaging as pbr_packaging
        from pbr import version as pbr_version
    except ImportError as exc:
        pytest.skip('pbr is not importable here: %s' % exc)
    clone = str(tmpdir.join('clone.git'))
    subprocess.check_call(['git', 'clone', '-q', '--bare', '--shared',
                           GIT_DIR, clone])
    sample = [row for row in ROWS if row.source in (
        'osa:18.1.9', 'osa:16.0.0.0b2', 'osa:17.0.0.0rc1', 'tag:rocky-eol',
        'tag:victoria-em', 'osa:20.2.6', 'osa:21.2.12')]
    assert len(sample) == 7
    for row in sample:
        subprocess.check_call(['git', '--git-dir', clone, 'update-ref',
                               '--no-deref', 'HEAD', row.commit])
        try:        # pbr.packaging._get_version_from_git, on this clone
            tagged = pbr_git._run_git_command(
                ['describe', '--exact-match'], clone,
                throw_on_error=True).replace('-', '.')
            target = pbr_version.SemanticVersion.from_pip_string(tagged)
        except Exception:
            target = None
        found = pbr_packaging._get_version_from_git_target(clone, target)
        assert found.release_string() == row.version, row


def test_history_rule_agrees_with_map():
    # Every release tag of MAP's ranges gets, by history, MAP's series.
    tags = subprocess.check_output(['git', '--git-dir', GIT_DIR, 'tag',
                                    '-l']).decode('ascii').split()
    checked = 0
    for tag in tags:
        parsed = patching.parse_version(tag)
        if not parsed or parsed[0] not in gittree.LINES:
            continue
        assert gittree.expected_series(GIT_DIR, tag, tag) == \
            patching.select_series(tag), tag
        checked += 1
    assert checked >= 75


@pytest.mark.parametrize('source,row', SELECTED,
                         ids=[source for source, _row in SELECTED])
def test_apply_then_status(tmpdir, paths, source, row):
    layout = 'wheel' if source.startswith('osa:') else 'develop'
    root = gittree.make_tree(GIT_DIR, row.commit, row.version, paths,
                             str(tmpdir.join('site-packages')), layout)
    before = realtree.snapshot(root)
    code, out, err = realtree.cli('apply', '--nova-tree', root)
    if row.expected == '-' and code == 2:
        # a development commit no series fits (or of no line they serve):
        # refused, nothing changed
        assert out == '' and ('were tried and' in err or
                              'is of no line the series serve' in err), err
        assert realtree.snapshot(root) == before
        return
    assert code == 0, out + err
    release = patching.parse_version(row.version) is not None
    first = out.splitlines()[0]
    if release:
        assert 'chosen' not in out       # MAP
        chosen = patching.select_series(row.version)
    else:
        assert first.startswith('Nova %s is not a release: series '
                                % row.version), out
        chosen = first.split(': series ', 1)[1].split()[0]
    if row.expected != '-':
        assert chosen == row.expected, out
    assert 'series %s: applied (' % chosen in out, out
    code, sout, err = realtree.cli('status', '--nova-tree', root)
    assert code == 0 and 'series %s: applied' % chosen in sout, sout + err
    assert release or sout.splitlines()[0] == first
    if not ALL:                 # (all: apply and status only, for time)
        code, out, err = realtree.cli('revert', '--nova-tree', root)
        assert code == 0, out + err
        assert realtree.snapshot(root) == before
    shutil.rmtree(root)
