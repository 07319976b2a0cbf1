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
"""The contrib/ recipes are generated from the series and kept current."""

import os

import pytest

from nova_imgmeta import patching
import recipes


def test_committed_recipes_match_the_series():
    # Fails whenever a series, MAP or the generator changed without
    # tools/packaging/recipes.py being run and contrib/ committed.
    assert recipes.stale() == []


@pytest.mark.parametrize('name', sorted(recipes.series_ranges()))
def test_committed_recipes_list_every_patch_in_series_order(name):
    patches = [os.path.basename(p)
               for p in patching.load_series(name).patches]
    with open(os.path.join(recipes.CONTRIB, 'rpm', name,
                           'patches.spec')) as handle:
        rpm = [line.split() for line in handle if line.startswith('Patch')]
    assert [fields[1] for fields in rpm] == patches
    numbers = [int(fields[0][len('Patch'):-1]) for fields in rpm]
    assert numbers == list(range(recipes.RPM_FIRST_PATCH,
                                 recipes.RPM_FIRST_PATCH + len(patches)))
    with open(os.path.join(recipes.CONTRIB, 'debian', name,
                           'series')) as handle:
        debian = [line.strip() for line in handle
                  if line.strip() and not line.startswith('#')]
    assert debian == ['nova-imgmeta/' + patch for patch in patches]


def _series(patches_dir, name, patch_names):
    directory = patches_dir.join(name)
    directory.ensure(dir=True)
    for patch in patch_names:
        directory.join(patch).write(
            'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n')
    directory.join('series').write('\n'.join(patch_names) + '\n')


@pytest.fixture
def tree(tmpdir):
    """A MAP with two series, their recipes written under contrib/."""
    patches_dir = tmpdir.join('patches')
    patches_dir.ensure(dir=True)
    patches_dir.join('MAP').write('# comment\n1.0.0 1.0.9 one\n'
                                  '2.0.0 2.0.3 two\n2.1.0 2.1.1 two\n')
    _series(patches_dir, 'one', ['0001-a.patch'])
    _series(patches_dir, 'two', ['0001-b.patch', '0002-c.patch'])
    contrib = str(tmpdir.join('contrib'))
    recipes.write(contrib, str(patches_dir))
    return contrib, patches_dir


def test_written_recipes_are_current_and_complete(tree):
    contrib, patches_dir = tree
    assert recipes.stale(contrib, str(patches_dir)) == []
    with open(os.path.join(contrib, 'rpm', 'two', 'patches.spec')) as fh:
        rpm = fh.read()
    assert 'for Nova 2.0.0 to 2.0.3, 2.1.0 to 2.1.1.' in rpm
    assert 'Patch9001: 0001-b.patch\nPatch9002: 0002-c.patch\n' in rpm
    assert rpm.rstrip().endswith('\n' + recipes.AUTOSETUP)
    with open(os.path.join(contrib, 'debian', 'one', 'series')) as fh:
        assert fh.read().endswith('\nnova-imgmeta/0001-a.patch\n')


def test_rpm_comments_hold_no_macro(tree):
    # rpm expands macros even in comments: a pasted fragment must not.
    contrib, _patches_dir = tree
    with open(os.path.join(contrib, 'rpm', 'one', 'patches.spec')) as fh:
        comments = [line for line in fh if line.startswith('#')]
    assert comments and not [line for line in comments if '%' in line]


def test_a_changed_series_makes_both_recipes_stale(tree):
    contrib, patches_dir = tree
    _series(patches_dir, 'two', ['0001-b.patch', '0002-c.patch',
                                 '0003-d.patch'])
    assert recipes.stale(contrib, str(patches_dir)) == [
        (os.path.join('debian', 'two', 'series'), 'out of date'),
        (os.path.join('rpm', 'two', 'patches.spec'), 'out of date'),
    ]


def test_a_new_series_in_map_needs_its_recipes(tree):
    contrib, patches_dir = tree
    _series(patches_dir, 'three', ['0001-e.patch'])
    patches_dir.join('MAP').write('3.0.0 3.0.0 three\n', mode='a')
    assert recipes.stale(contrib, str(patches_dir)) == [
        (os.path.join('debian', 'three', 'series'), 'missing'),
        (os.path.join('rpm', 'three', 'patches.spec'), 'missing'),
    ]
    recipes.write(contrib, str(patches_dir))
    assert recipes.stale(contrib, str(patches_dir)) == []


def test_recipes_of_a_series_gone_from_map_are_stale_then_removed(tree):
    contrib, patches_dir = tree
    patches_dir.join('MAP').write('1.0.0 1.0.9 one\n')
    assert recipes.stale(contrib, str(patches_dir)) == [
        (os.path.join('debian', 'two', 'series'),
         'not generated from any series of MAP'),
        (os.path.join('rpm', 'two', 'patches.spec'),
         'not generated from any series of MAP'),
    ]
    recipes.write(contrib, str(patches_dir))
    assert recipes.stale(contrib, str(patches_dir)) == []
    assert not os.path.exists(os.path.join(contrib, 'rpm', 'two'))


def test_check_mode_exits_1_on_a_stale_recipe(monkeypatch, tree, capsys):
    contrib, patches_dir = tree
    monkeypatch.setattr(recipes, 'CONTRIB', contrib)
    monkeypatch.setattr(patching.series, 'PATCHES_DIR', str(patches_dir))
    assert recipes.main(['--check']) == 0
    with open(os.path.join(contrib, 'debian', 'one', 'series'), 'a') as fh:
        fh.write('nova-imgmeta/0002-local-edit.patch\n')
    assert recipes.main(['--check']) == 1
    assert 'contrib/debian/one/series: out of date' in capsys.readouterr().out
