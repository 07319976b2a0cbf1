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

"""Nova trees whose version is not a release, made from PyPI sdists.

These run everywhere (the sdists come through pip, tests/unit/realtree.py);
test_patching_git.py runs the same on real trees from git when a Nova
repository is there. The code is a release's, the metadata says what a
git-built, pre-release or distribution Nova says, in each layout pip or a
distribution leaves: the series must be chosen by trying, as on those
trees. Two of them are the trap of issue 16: the release nearest to the
version (18.2.2 for 18.2.2.dev15, 21.2.1 for 21.2.1.dev3) maps to a series
that does not fit the code.
"""

from __future__ import unicode_literals

import io
import os
import re
import shutil

import pytest

from . import realtree
from nova_imgmeta import patching
from nova_imgmeta.patching import choice


pytestmark = pytest.mark.requires_tool('patch')

# (release whose code it is, version the metadata says, layout, series)
CASES = [
    ('18.2.1', '18.2.2.dev15', 'wheel', 'rocky-pre-18.2.2'),
    ('18.3.0', '18.3.1.dev92', 'develop', 'rocky'),
    ('21.2.0', '21.2.1.dev3', 'wheel', 'ussuri-pre-21.2.1'),
    ('21.2.4', '21.2.5.dev27', 'develop', 'ussuri'),
    ('20.6.1', '20.6.2.dev5', 'wheel', 'train'),
    ('16.1.8', '16.1.9.dev92', 'sdist', 'pike'),
    ('17.0.13', '2:17.0.13-0ubuntu1', 'distro', 'queens'),
    ('19.3.2', '19.3.2-1.el8', 'distro', 'stein'),
    ('22.4.0', '22.0.0.0rc1', 'sdist', 'victoria'),
]


@pytest.fixture(scope='session')
def pristine_trees(tmpdir_factory):
    """{release: tree with what every series touches}, unpacked once."""
    paths = set()
    for name in choice.all_series_names():
        paths.update(patching.load_series(name).touched_files())
    base = str(tmpdir_factory.mktemp('dev-sdists'))
    found = {}
    for release in sorted(set(case[0] for case in CASES)):
        found[release] = realtree.extract(
            release, os.path.join(base, release), sorted(paths))
    return found


def _relabel(template, target, version, layout):
    """A copy of template whose metadata says version, laid out as named.

    wheel: nova-V.dist-info/METADATA (pip install of a wheel built from
    git); develop: nova.egg-info/PKG-INFO (pip install -e); sdist:
    PKG-INFO; distro: nova-V-py2.7.egg-info (the file distutils installs
    for a distribution package, V made safe for a file name); none: no
    metadata at all.
    """
    root = realtree.copy_tree(template, target)
    os.remove(os.path.join(root, 'PKG-INFO'))
    text = 'Metadata-Version: 1.1\nName: nova\nVersion: %s\n' % version
    where = {'wheel': 'nova-%s.dist-info/METADATA' % version,
             'develop': 'nova.egg-info/PKG-INFO',
             'sdist': 'PKG-INFO',
             'distro': 'nova-%s-py2.7.egg-info' % re.sub(
                 r'[^A-Za-z0-9.]+', '_', version),
             'none': None}[layout]
    if where:
        path = os.path.join(root, where)
        if not os.path.isdir(os.path.dirname(path)):
            os.makedirs(os.path.dirname(path))
        with io.open(path, 'w') as handle:
            handle.write(text)
    return root


def _round_trip(root, series, version_words):
    before = realtree.snapshot(root)
    code, out, err = realtree.cli('apply', '--nova-tree', root)
    assert code == 0, out + err
    chosen = out.splitlines()[0]
    assert chosen.startswith(version_words) and \
        ': series %s chosen from ' % series in chosen, out
    assert 'series %s: applied (' % series in out
    code, out, err = realtree.cli('status', '--nova-tree', root)
    assert code == 0 and 'series %s: applied' % series in out, out + err
    assert out.splitlines()[0] == chosen
    code, out, err = realtree.cli('check', '--nova-tree', root)
    assert code == 0 and out.splitlines()[0] == chosen, out + err
    code, out, err = realtree.cli('revert', '--nova-tree', root)
    assert code == 0 and 'series %s: reverted' % series in out, out + err
    assert realtree.snapshot(root) == before


@pytest.mark.parametrize('release,version,layout,series', CASES)
def test_not_a_release(pristine_trees, tmpdir, release, version, layout,
                       series):
    root = _relabel(pristine_trees[release], str(tmpdir.join('t')),
                    version, layout)
    _round_trip(root, series, 'Nova %s is not a release' % version)


def test_nearest_release_would_be_wrong():
    # What made issue 16: the release a dev version leads to is mapped
    # to the series of the code after it.
    assert patching.select_series('18.2.2') == 'rocky'
    assert patching.select_series('21.2.1') == 'ussuri'


@pytest.mark.parametrize('release,series', [
    ('18.2.1', 'rocky-pre-18.2.2'), ('21.2.0', 'ussuri-pre-21.2.1'),
    ('17.0.13', 'queens')])
def test_no_version(pristine_trees, tmpdir, release, series):
    root = _relabel(pristine_trees[release], str(tmpdir.join('t')),
                    'unused', 'none')
    _round_trip(root, series, 'Nova at %s has no version' % root)


def test_dev_version_without_nova_tests(pristine_trees, tmpdir):
    # A distribution's package built from git: no nova/tests.
    root = _relabel(pristine_trees['18.2.1'], str(tmpdir.join('t')),
                    '18.2.2.dev15', 'distro')
    shutil.rmtree(os.path.join(root, 'nova', 'tests'))
    code, out, err = realtree.cli('apply', '--nova-tree', root)
    assert code == 0, out + err
    assert 'series rocky-pre-18.2.2 chosen' in out
    assert 'has no nova/tests' in out
    assert not os.path.exists(os.path.join(root, 'nova', 'tests'))
    code, out, err = realtree.cli('status', '--nova-tree', root)
    assert code == 0 and 'series rocky-pre-18.2.2: applied' in out


def test_dev_version_of_another_line_refused(pristine_trees, tmpdir):
    # Queens code labelled as a Rocky development version: neither Rocky
    # series fits, and the refusal says what each did.
    root = _relabel(pristine_trees['17.0.13'], str(tmpdir.join('t')),
                    '18.0.0.dev3', 'wheel')
    before = realtree.snapshot(root)
    code, out, err = realtree.cli('apply', '--nova-tree', root)
    assert code == 2 and out == '', out + err
    assert ('Nova 18.0.0.dev3 is not a release; the 2 series of its line, '
            'rocky (from the version) were tried and none fits the tree'
            in err)
    assert '\n  rocky-pre-18.2.2: does not apply with zero fuzz (0001-' in err
    assert '\n  rocky: does not apply with zero fuzz (0001-' in err
    assert realtree.snapshot(root) == before
