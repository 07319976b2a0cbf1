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

"""reference-scopes.txt says where each hunk lands on its reference release.

The table is derived data: these tests derive it again from the reference
releases (the PyPI sdists, through tests/unit/realtree.py; the train-eol
tag from the Nova git repository, tests/unit/gittree.py) and compare, so
that a series changed without recording its scopes again fails here.
"""

from __future__ import unicode_literals

import os
import warnings

import pytest

from . import gittree
from . import realtree
from nova_imgmeta import patching
from nova_imgmeta.patching import choice
from nova_imgmeta.patching import scopes
from nova_imgmeta.patching.survey import read_files

try:
    from shutil import which
except ImportError:  # Python 2.7
    from distutils.spawn import find_executable as which

pytestmark = pytest.mark.skipif(which('patch') is None,
                                reason='the patch program is not installed')

TABLE = scopes.load_reference()


def _recorded(name):
    reference, hunks = TABLE[name]
    return ['%s %s %s %s %d %s' % (name, reference, key[0], key[1], key[2],
                                   hunks[key]) for key in sorted(hunks)]


def test_every_series_has_reference_scopes():
    assert sorted(TABLE) == sorted(choice.all_series_names())


@pytest.mark.parametrize('name,version', realtree.newest_per_series())
def test_reference_is_the_newest_release(name, version):
    assert TABLE[name][0] == version


@pytest.mark.parametrize('name,version', realtree.newest_per_series())
def test_scopes_recorded_from_the_reference_sdist(tmpdir, name, version):
    series = patching.load_series(name)
    root = realtree.extract(version, str(tmpdir), series.touched_files())
    pristine = read_files(root, series.touched_files())
    assert scopes.record(series, pristine, version) == _recorded(name)


def test_eol_series_scopes_recorded_from_the_tag(tmpdir):
    names = [name for name in choice.all_series_names()
             if name.endswith('-eol')]
    assert names == ['train-eol']
    git = gittree.git_dir()
    if git is None:
        warnings.warn('SKIPPED: ' + gittree.skip_reason())
        pytest.skip(gittree.skip_reason())
    for name in names:
        series = patching.load_series(name)
        assert TABLE[name][0] == name
        root = gittree.make_tree(git, name, 'unused', series.touched_files(),
                                 os.path.join(str(tmpdir), name))
        pristine = read_files(root, series.touched_files())
        assert scopes.record(series, pristine, name) == _recorded(name)


def test_the_hooks_land_where_the_design_says():
    # doc/source/patches.rst, "Rocky to Victoria: what differs per series".
    for name, (_reference, hunks) in TABLE.items():
        found = set(hunks.values())
        assert 'API.rebuild._reset_image_metadata' in found, name
        assert 'TestCase.setUp' in found, name
        if name.split('-')[0] in ('pike', 'queens', 'rocky'):
            assert 'API._initialize_instance_snapshot_metadata' in found
        else:
            assert 'initialize_instance_snapshot_metadata' in found, name


def test_record_command(tmpdir, capsys):
    # python -m nova_imgmeta.patching.scopes SERIES TREE REFERENCE
    series = patching.load_series('queens')
    root = realtree.extract('17.0.13', str(tmpdir), series.touched_files())
    assert scopes.main(['queens', root, '17.0.13']) == 0
    assert capsys.readouterr()[0].splitlines() == _recorded('queens')
    assert scopes.main(['queens']) == 2
    assert 'usage:' in capsys.readouterr()[1]
