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
"""The patch series are made from patches-src/ (series_build.py).

The real series are made on Nova's sdists by ``tox -e regen``; these tests
need no network: they check what can be checked without Nova's tree, and
run the whole tool on a small stand-in release.
"""

import os
import shutil

import pytest

from nova_imgmeta.patching.series import PATCHES_DIR
import series_build
import series_sources

RUNNER = 'nova/compute/image_metadata_hooks.py'


@pytest.mark.parametrize('name', series_sources.names())
def test_committed_series_carry_their_sources(name):
    # The messages and every shared file (the hook runner, its tests, the
    # regression test), rendered for the series, are in its committed
    # patches: a change to patches-src/ that was not regenerated fails
    # here, train-eol included (tox -e regen compares the whole files).
    series = series_sources.load(name)
    assert series_build.offline_problems(series, PATCHES_DIR) == []


def test_sources_and_map_agree():
    assert series_sources.consistency_problems() == []


def test_runner_change_not_regenerated_is_caught_in_every_series(tmpdir):
    sources = str(tmpdir.join('patches-src'))
    shutil.copytree(series_sources.SOURCES, sources)
    with open(os.path.join(sources, 'shared', '0002', RUNNER), 'a') as f:
        f.write('# one more line\n')
    stale = []
    for name in series_sources.names(sources):
        series = series_sources.load(name, sources)
        stale += [name for path, why, _excerpt
                  in series_build.offline_problems(series, PATCHES_DIR)
                  if RUNNER in why]
    assert sorted(stale) == series_sources.names()


def test_map_series_without_sources_is_caught(tmpdir):
    patches = tmpdir.mkdir('patches')
    with open(os.path.join(PATCHES_DIR, 'MAP')) as handle:
        rules = handle.read()
    patches.join('MAP').write(rules + '35.0.0 35.1.0 no-such-series\n')
    problems = series_sources.consistency_problems(
        patches_dir=str(patches))
    assert problems == ['MAP names the series no-such-series, but '
                        'patches-src/no-such-series/ does not exist']


def test_series_directory_without_sources_is_caught(tmpdir):
    patches = tmpdir.mkdir('patches')
    with open(os.path.join(PATCHES_DIR, 'MAP')) as handle:
        patches.join('MAP').write(handle.read())
    patches.mkdir('old').join('series').write('0001-x.patch\n')
    problems = series_sources.consistency_problems(
        patches_dir=str(patches))
    assert problems == ['nova_imgmeta/patches/old/ is made from no sources: '
                        'remove it, or add patches-src/old/']


# ---------------------------------------------------------------- stand-in

MESSAGE = """Change a and add the runner

Body of the message,
two lines.

Closes-Bug: #1
"""

CALL_SITE = """diff --git a/nova/a.py b/nova/a.py
--- a/nova/a.py
+++ b/nova/a.py
@@ -1,3 +1,4 @@
 one
 two
+hook()
 three
"""


@pytest.fixture
def standin(tmpdir, monkeypatch):
    """patches-src and MAP for a series 'demo' of a stand-in Nova 1.0.0."""
    sources = tmpdir.mkdir('src')
    sources.join('patches.ini').write(
        '[0001]\nauthor = A U Thor <a@example.invalid>\n'
        'date = Mon, 23 Nov 2026 10:58:15 +0000\n'
        '[variables]\nflavour = plain fancy\n')
    runner = sources.mkdir('shared').mkdir('0001').mkdir('nova')
    runner.join('runner.py').write(
        'def hook():\n#@ if flavour == fancy\n    return "fancy"\n'
        '#@ else\n    return "plain"\n#@ endif\n')
    demo = sources.mkdir('demo')
    demo.join('variables.ini').write('[variables]\nflavour = fancy\n')
    demo.join('0001.msg').write(MESSAGE)
    demo.join('0001.diff').write(CALL_SITE)
    patches = tmpdir.mkdir('patches')
    patches.join('MAP').write('0.9.0 1.0.0 demo\n')

    def reference_tree(reference, work, git_dir=None):
        assert reference == series_sources.Reference('release', '1.0.0')
        root = os.path.join(work, 'nova-1.0.0')
        os.makedirs(os.path.join(root, 'nova'))
        with open(os.path.join(root, 'nova', 'a.py'), 'w') as handle:
            handle.write('one\ntwo\nthree\n')
        return root

    monkeypatch.setattr(series_build, 'reference_tree', reference_tree)
    return str(sources), str(patches)


def _build(sources, patches):
    return series_build.write(sources=sources, patches_dir=patches,
                              log=lambda *args: None)


def test_made_like_format_patch_and_byte_for_byte_again(standin):
    sources, patches = standin
    assert _build(sources, patches) == []
    directory = os.path.join(patches, 'demo')
    name = '0001-Change-a-and-add-the-runner.patch'
    assert sorted(os.listdir(directory)) == [name, 'series']
    with open(os.path.join(directory, 'series')) as handle:
        assert handle.read() == name + '\n'
    with open(os.path.join(directory, name), 'rb') as handle:
        first = handle.read()
    text = first.decode('utf-8')
    assert text.startswith(
        'From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 '
        '2001\nFrom: A U Thor <a@example.invalid>\n'
        'Date: Mon, 23 Nov 2026 10:58:15 +0000\n'
        'Subject: [PATCH] Change a and add the runner\n\n'
        'Body of the message,\ntwo lines.\n\nCloses-Bug: #1\n---\n')
    assert '+hook()\n' in text
    assert 'new file mode 100644\nindex 0000000000..' in text
    assert '+    return "fancy"\n' in text and 'plain' not in text
    assert not text.endswith('-- \n')
    problems, skipped = series_build.stale(
        sources=sources, patches_dir=patches, log=lambda *args: None)
    assert (problems, skipped) == ([], [])
    shutil.rmtree(directory)
    _build(sources, patches)
    with open(os.path.join(directory, name), 'rb') as handle:
        assert handle.read() == first


def test_stale_names_what_differs(standin):
    sources, patches = standin
    _build(sources, patches)
    with open(os.path.join(sources, 'demo', '0001.msg'), 'a') as handle:
        handle.write('Related-Bug: #2\n')
    with open(os.path.join(patches, 'demo', 'extra.patch'), 'w') as handle:
        handle.write('old\n')
    problems, _skipped = series_build.stale(
        sources=sources, patches_dir=patches, log=lambda *args: None)
    found = sorted((path, why) for path, why, _excerpt in problems)
    patch = 'nova_imgmeta/patches/demo/0001-Change-a-and-add-the-runner.patch'
    assert found == [
        (patch, 'its commit message is not patches-src/demo/0001.msg'),
        (patch, 'out of date'),
        ('nova_imgmeta/patches/demo/extra.patch',
         'not made from patches-src any more')]


def test_call_site_diff_that_does_not_apply_is_an_error(standin):
    sources, patches = standin
    with open(os.path.join(sources, 'demo', '0001.diff'), 'w') as handle:
        handle.write(CALL_SITE.replace(' two\n', ' deux\n'))
    with pytest.raises(series_build.BuildError) as caught:
        _build(sources, patches)
    assert 'patches-src/demo/0001.diff does not apply to Nova 1.0.0' in \
        str(caught.value)


def test_tree_with_reject_keeps_what_does_not_apply(standin, tmpdir):
    sources, patches = standin
    with open(os.path.join(sources, 'demo', '0001.diff'), 'w') as handle:
        handle.write(CALL_SITE.replace(' two\n', ' deux\n'))
    tree = str(tmpdir.join('tree'))
    series, rejected = series_build.make_tree(
        'demo', tree, sources=sources, patches_dir=patches, reject=True)
    assert rejected == ['.git/rejects/0001/nova/a.py.rej']
    env = series_build._git_env(str(tmpdir))
    log = series_build._git(['log', '--format=%s', 'nova..patches'], tree,
                            env).stdout
    assert log == 'Change a and add the runner\n'
    assert os.path.isfile(os.path.join(tree, 'nova', 'runner.py'))


def test_tag_without_nova_git_dir_is_skipped_loudly(standin, monkeypatch):
    sources, patches = standin
    monkeypatch.undo()      # the real reference_tree
    monkeypatch.delenv(series_build.GIT_DIR_VARIABLE, raising=False)
    os.rename(os.path.join(sources, 'demo'),
              os.path.join(sources, 'demo-eol'))
    with open(os.path.join(patches, 'MAP'), 'w') as handle:
        handle.write('# no rule: demo-eol is a tag\n')
    said = []
    problems, skipped = series_build.stale(
        sources=sources, patches_dir=patches, log=said.append)
    assert skipped == ['demo-eol']
    assert said[0].startswith('WARNING: SKIPPED demo-eol: demo-eol is a '
                              'git tag')
    assert [why for _path, why, _excerpt in problems] == ['missing']


def test_tree_and_refresh_round_trip(standin, tmpdir):
    sources, patches = standin
    tree = str(tmpdir.join('tree'))
    series_build.make_tree('demo', tree, sources=sources,
                           patches_dir=patches)
    before = {}
    for name in ('0001.msg', '0001.diff'):
        with open(os.path.join(sources, 'demo', name)) as handle:
            before[name] = handle.read()
        os.remove(os.path.join(sources, 'demo', name))
    with open(os.path.join(sources, 'demo', '0001.msg'), 'w') as handle:
        handle.write('placeholder\n')
    series_build.refresh('demo', tree, sources=sources, patches_dir=patches)
    for name, content in before.items():
        with open(os.path.join(sources, 'demo', name)) as handle:
            assert handle.read() == content


def test_refresh_refuses_a_changed_shared_file(standin, tmpdir):
    sources, patches = standin
    tree = str(tmpdir.join('tree'))
    series_build.make_tree('demo', tree, sources=sources,
                           patches_dir=patches)
    with open(os.path.join(tree, 'nova', 'runner.py'), 'a') as handle:
        handle.write('# changed in the tree\n')
    env = series_build._git_env(str(tmpdir))
    series_build._git(['commit', '-q', '-a', '--amend', '--no-edit'], tree,
                      env)
    with pytest.raises(series_build.BuildError) as caught:
        series_build.refresh('demo', tree, sources=sources,
                             patches_dir=patches)
    assert 'edit patches-src/shared/0001/nova/runner.py instead' in \
        str(caught.value)
