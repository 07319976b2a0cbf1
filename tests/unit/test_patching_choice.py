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

"""Choosing the series of a Nova that is not a release (issue 16, part 1).

A synthetic line "toy" (MAP: 17.0.0 to 17.0.13) with two series, built in
tmpdir: ``toy`` for the code of 17.0.13 and ``toy-new`` for a later code
where a function gained an argument (as Rocky 18.2.2 did). Each rule of
``choice`` and ``scopes`` is checked on it: the MAP for releases, the
candidates of the line for any other version, the whole set without one,
refusals listing what each candidate did, and a hunk that applies with
zero fuzz in the wrong function.
"""

from __future__ import unicode_literals

import io
import os

import pytest

from . import realtree
from .patchfiles import diff as _diff
from .patchfiles import patch_file as _patch_file
from .patchfiles import write as _write
from nova_imgmeta import patching
from nova_imgmeta.patching import choice
from nova_imgmeta.patching import scopes
from nova_imgmeta.patching import series as series_module
from nova_imgmeta.patching.survey import read_files


pytestmark = pytest.mark.requires_tool('patch')

API = 'nova/compute/api.py'

API_OLD = '''import os


class API(object):

    def rebuild(self, context, image_id):
        orig = {'image': image_id}

        def _reset_image_metadata():
            new_sys_metadata = {}
            new_sys_metadata.update(orig)
            return new_sys_metadata

        return _reset_image_metadata()

    def snapshot(self, context):
        orig = {}

        def _build():
            new_sys_metadata = {}
            new_sys_metadata.update(orig)
            return new_sys_metadata

        return _build()

    def snapshot_metadata(self, instance):
        return {}
'''
# 0001: the rebuild fix, with one line of context: it matches in
# snapshot._build too (the trap the scope check is for).
API_FIXED = API_OLD.replace(
    "            new_sys_metadata.update(orig)\n"
    "            return new_sys_metadata\n\n        return _reset",
    "            new_sys_metadata.update(orig)\n"
    "            new_sys_metadata.setdefault('base', orig)\n"
    "            return new_sys_metadata\n\n        return _reset")
# The later code: snapshot_metadata gained the context argument.
API_NEW = API_OLD.replace('def snapshot_metadata(self, instance):',
                          'def snapshot_metadata(self, context, instance):')


def _hooked(text):
    return text.replace('        return {}\n',
                        '        hooks.run(instance)\n        return {}\n')


def _series(root, name, base):
    """Series name: 0001 (rebuild fix, 1 line of context), 0002 (a hook)."""
    directory = os.path.join(root, name)
    _write(os.path.join(directory, '0001-Fix.patch'), _patch_file(
        'Fix', [_diff(API, base, _fix(base), context=1)]))
    _write(os.path.join(directory, '0002-Hook.patch'), _patch_file(
        'Hook', [_diff(API, _fix(base), _hooked(_fix(base)))]))
    _write(os.path.join(directory, 'series'),
           '0001-Fix.patch\n0002-Hook.patch\n')


def _fix(text):
    return text.replace(
        "            new_sys_metadata.update(orig)\n"
        "            return new_sys_metadata\n\n        return _reset",
        "            new_sys_metadata.update(orig)\n"
        "            new_sys_metadata.setdefault('base', orig)\n"
        "            return new_sys_metadata\n\n        return _reset")


def _make_tree(base, name, api_text, version=None):
    root = os.path.join(base, name)
    _write(os.path.join(root, API), api_text)
    _write(os.path.join(root, 'nova', '__init__.py'), '')
    if version:
        _write(os.path.join(root, 'nova.egg-info', 'PKG-INFO'),
               'Metadata-Version: 1.1\nName: nova\nVersion: %s\n' % version)
    return root


@pytest.fixture
def toy(tmpdir, monkeypatch):
    """(patches dir, scopes file): series toy and toy-new of line toy."""
    base = str(tmpdir)
    patches = os.path.join(base, 'patches')
    _series(patches, 'toy', API_OLD)
    _series(patches, 'toy-new', API_NEW)
    _write(os.path.join(patches, 'MAP'), '17.0.0 17.0.13 toy\n')
    # The reference scopes, derived as the shipped ones are: each series
    # placed on its reference code.
    lines = []
    for name, text, reference in (('toy', API_OLD, '17.0.13'),
                                  ('toy-new', API_NEW, 'toy-eol')):
        root = _make_tree(base, 'ref-' + name, text)
        series = patching.load_series(name, patches)
        lines += scopes.record(series, read_files(root, [API]), reference)
    scopes_file = os.path.join(base, 'scopes.txt')
    _write(scopes_file, '\n'.join(lines) + '\n')
    monkeypatch.setattr(series_module, 'PATCHES_DIR', patches)
    monkeypatch.setattr(scopes, 'REFERENCE_FILE', scopes_file)
    return patches, scopes_file


def test_reference_scopes_of_the_toy(toy):
    table = scopes.load_reference(toy[1])
    assert table['toy'] == ('17.0.13', {
        ('0001', API, 1): 'API.rebuild._reset_image_metadata',
        ('0002', API, 1): 'API.snapshot_metadata'})
    assert table['toy-new'][0] == 'toy-eol'


def _cli(*argv):
    return realtree.cli(*argv)


@pytest.mark.parametrize('version', ['17.0.14.dev3', '17.0.13.0rc1',
                                     '2:17.0.13-0ubuntu1', '17.0.13-1.el7'])
def test_version_not_a_release_gets_the_series_that_fits(toy, tmpdir,
                                                         version):
    root = _make_tree(str(tmpdir), 'tree', API_NEW, version)
    code, out, err = _cli('apply', '--nova-tree', root)
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == (
        'Nova %s is not a release: series toy-new chosen from the 2 series '
        'of its line, toy (from the version): the only one that fits (zero '
        'fuzz, every hunk in the same function as on its reference '
        'release)' % version)
    assert lines[1].startswith('  toy: does not apply with zero fuzz '
                               '(0002-Hook.patch does not apply; Hunk #1 '
                               'FAILED')
    assert lines[2] == ('  toy-new: applies with zero fuzz, every hunk in '
                        'the same function as on toy-eol')
    assert 'series toy-new: applied (1 files written, 0 removed)' in out
    with io.open(os.path.join(root, API)) as handle:
        assert handle.read() == _hooked(_fix(API_NEW))
    # status and check make the same choice, on the patched tree.
    for action, words in (('status', 'series toy-new: applied'),
                          ('check', 'series toy-new: already applied')):
        code, out, err = _cli(action, '--nova-tree', root)
        assert code == 0 and words in out, out + err
        assert out.splitlines()[0] == lines[0]
        assert out.splitlines()[2] == ('  toy-new: is applied with zero '
                                       'fuzz, every hunk in the same '
                                       'function as on toy-eol')
    code, out, err = _cli('revert', '--nova-tree', root)
    assert code == 0 and 'series toy-new: reverted' in out, out + err
    with io.open(os.path.join(root, API)) as handle:
        assert handle.read() == API_NEW


def test_fix_already_in_is_not_applied_again_elsewhere(toy, tmpdir):
    # 0001 is in (by hand, or upstream's backport): with its one line of
    # context it applies again, with zero fuzz, in snapshot._build. Only
    # the scope check stands in the way.
    root = _make_tree(str(tmpdir), 'tree', _fix(API_NEW), '17.0.14.dev3')
    code, out, err = _cli('apply', '--nova-tree', root)
    assert code == 2, out + err
    assert ('  toy-new: applies with zero fuzz, but hunk #1 of %s (patch '
            '0001) lands in API.snapshot._build, on toy-eol in '
            'API.rebuild._reset_image_metadata' % API) in err
    assert read_files(root, [API])[API] == _fix(API_NEW).encode('utf-8')


def test_release_keeps_the_map_rule(toy, tmpdir):
    # 17.0.5 maps to toy, even though only toy-new would fit this code.
    root = _make_tree(str(tmpdir), 'tree', API_NEW, '17.0.5')
    code, out, err = _cli('status', '--nova-tree', root)
    assert code == 4, out + err
    assert 'chosen' not in out and 'series toy: does not match' in out


def test_series_option_overrides(toy, tmpdir):
    root = _make_tree(str(tmpdir), 'tree', API_OLD, '17.0.14.dev3')
    code, out, err = _cli('status', '--series', 'toy-new', '--nova-tree',
                          root)
    assert code == 4 and 'chosen' not in out, out + err


def test_no_version_tries_every_series(toy, tmpdir):
    root = _make_tree(str(tmpdir), 'tree', API_OLD)
    code, out, err = _cli('check', '--nova-tree', root)
    assert code == 0, out + err
    assert out.splitlines()[0] == (
        'Nova at %s has no version (no packaging metadata): series toy '
        'chosen from all 2 series (no version: the code tells the line): '
        'the only one that fits (zero fuzz, every hunk in the same function '
        'as on its reference release)' % root)
    assert 'series toy: applies cleanly' in out


def test_none_fits_refused_with_each_candidate(toy, tmpdir):
    root = _make_tree(str(tmpdir), 'tree', API_OLD.replace(
        'return {}', 'return {"x": 1}'), '17.0.14.dev3')
    before = read_files(root, [API])
    for action in ('status', 'check', 'apply', 'revert'):
        code, out, err = _cli(action, '--nova-tree', root)
        assert code == 2 and out == '', out + err
        assert ('Nova 17.0.14.dev3 is not a release; the 2 series of its '
                'line, toy (from the version) were tried and none fits the '
                'tree, so the series cannot be chosen:') in err
        assert '\n  toy: does not apply with zero fuzz' in err
        assert '\n  toy-new: does not apply with zero fuzz' in err
        assert 'Use --series NAME' in err
    assert read_files(root, [API]) == before


def test_two_fitting_refused(toy, tmpdir):
    patches, scopes_file = toy
    _series(patches, 'toy-copy', API_OLD)
    with io.open(scopes_file, 'a') as handle:
        for line in io.open(scopes_file).read().splitlines():
            if line.startswith('toy '):
                handle.write(line.replace('toy ', 'toy-copy ', 1) + '\n')
    root = _make_tree(str(tmpdir), 'tree', API_OLD, '17.0.14.dev3')
    code, out, err = _cli('apply', '--nova-tree', root)
    assert code == 2, out + err
    assert 'the 3 series of its line, toy (from the version) were tried ' \
        'and 2 fit it (toy, toy-copy), so the series cannot be chosen' in err
    assert read_files(root, [API])[API] == API_OLD.encode('utf-8')


def test_hunk_in_another_function_does_not_fit(toy, tmpdir):
    # The rebuild code changed: 0001's one line of context no longer
    # matches there, but matches in snapshot._build, where patch would put
    # the fix with zero fuzz. The scope check refuses that.
    moved = API_NEW.replace(
        '        def _reset_image_metadata():\n'
        '            new_sys_metadata = {}\n'
        '            new_sys_metadata.update(orig)\n',
        '        def _reset_image_metadata():\n'
        '            new_sys_metadata = {}\n'
        '            new_sys_metadata.update(dict(orig))\n')
    root = _make_tree(str(tmpdir), 'tree', moved, '17.0.14.dev3')
    series = patching.load_series('toy-new')
    assert patching.status(patching.tree_from_path(root),
                           series).state.state == patching.NOT_APPLIED
    code, out, err = _cli('apply', '--nova-tree', root)
    assert code == 2, out + err
    assert ('  toy-new: applies with zero fuzz, but hunk #1 of %s (patch '
            '0001) lands in API.snapshot._build, on toy-eol in '
            'API.rebuild._reset_image_metadata' % API) in err
    assert read_files(root, [API])[API] == moved.encode('utf-8')


def test_series_without_reference_scopes_does_not_fit(toy, tmpdir):
    patches, scopes_file = toy
    with io.open(scopes_file, 'w') as handle:
        handle.write('# nothing recorded\n')
    root = _make_tree(str(tmpdir), 'tree', API_NEW, '17.0.14.dev3')
    code, out, err = _cli('status', '--nova-tree', root)
    assert code == 2
    assert ('toy-new: applies with zero fuzz, but no reference scopes are '
            'recorded for series toy-new') in err


def test_version_of_no_served_line(toy, tmpdir):
    root = _make_tree(str(tmpdir), 'tree', API_NEW, '30.0.1.dev2')
    code, out, err = _cli('status', '--nova-tree', root)
    assert code == 2 and out == ''
    assert ('Nova 30.0.1.dev2 (nova.egg-info/PKG-INFO) is of no line the '
            'series serve (toy (17.x))') in err


def test_line_of_version(toy):
    assert choice.line_of_version('17.0.14.dev3') == 'toy'
    assert choice.line_of_version('2:17.0.1-0ubuntu1~cloud0') == 'toy'
    assert choice.line_of_version('17') == 'toy'
    assert choice.line_of_version('170.0.1') is None
    assert choice.line_of_version('unknown') is None
    assert choice.line_of('rocky-pre-18.2.2') == 'rocky'
    assert choice.all_series_names() == ['toy', 'toy-new']


# ------------------------------------------------------------- scopes

SCOPED = b'''import os

DATA = """
def not_a_function():
"""


@decorator
def top(a,
        b):
    x = 1

    def inner():
        y = """
class NotAClass:
"""
        return y
    # a comment inside top
    return inner


class Outer(object):
    attribute = 1

    def one_liner(self): return 1
    def method(self):
        pass

    async def coroutine(self):
        await something

z = 2
'''


def test_line_scopes():
    found = scopes.line_scopes(SCOPED)
    by_text = dict((line.strip(), scope) for line, scope in
                   zip(SCOPED.decode('utf-8').splitlines(), found)
                   if line.strip())
    assert by_text['import os'] == '-'
    assert by_text['def not_a_function():'] == '-'     # inside a string
    assert by_text['x = 1'] == 'top'
    assert by_text['class NotAClass:'] == 'top.inner'  # inside a string
    assert by_text['return y'] == 'top.inner'
    assert by_text['# a comment inside top'] == 'top.inner'
    assert by_text['return inner'] == 'top'
    assert by_text['attribute = 1'] == 'Outer'
    assert by_text['def one_liner(self): return 1'] == 'Outer'
    assert by_text['pass'] == 'Outer.method'
    assert by_text['await something'] == 'Outer.coroutine'
    assert by_text['z = 2'] == '-'


def test_line_scopes_of_code_tokenize_refuses():
    # An unterminated string: indentation alone then.
    found = scopes.line_scopes(
        b'class A:\n    def f(self):\n        x = """\n')
    assert found == ['-', 'A', 'A.f']


def test_hunks_counted_by_their_header(toy):
    series = patching.load_series('toy')
    [section] = series.files[0].sections
    [hunk] = scopes.hunks(section)
    assert [tag for tag, _text in hunk.lines] == [b' ', b'+', b' ']
    assert hunk.change_offset() == 1
