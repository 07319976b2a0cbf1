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
"""treediff: what the packaging tier calls "the same tree"."""

import os

import treediff


def _tree(root, files):
    for path, content in files.items():
        full = os.path.join(str(root), path)
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full))
        with open(full, 'w') as handle:
            handle.write(content)
    return str(root)


def test_equal_trees_have_no_difference(tmpdir):
    files = {'a.py': 'a\n', 'pkg/b.py': 'b\n'}
    assert treediff.differences(_tree(tmpdir.join('x'), files),
                                _tree(tmpdir.join('y'), files)) == []


def test_every_kind_of_difference_is_named(tmpdir):
    x = _tree(tmpdir.join('x'), {'same': '1', 'changed': 'old',
                                 'gone': '1', 'script': '1', 'link': '1'})
    y = _tree(tmpdir.join('y'), {'same': '1', 'changed': 'new',
                                 'new/file': '1', 'script': '1'})
    os.chmod(os.path.join(y, 'script'), 0o755)
    os.symlink('same', os.path.join(y, 'link'))
    assert treediff.differences(x, y) == [
        ('changed', 'content differs'),
        ('gone', 'missing'),
        ('link', 'is a link, expected a file'),
        ('new/file', 'unexpected file'),
        ('script', 'is a exec, expected a file'),
    ]


def test_same_size_same_time_different_bytes_is_a_difference(tmpdir):
    x = _tree(tmpdir.join('x'), {'f': 'abc'})
    y = _tree(tmpdir.join('y'), {'f': 'abd'})
    stat = os.stat(os.path.join(x, 'f'))
    os.utime(os.path.join(y, 'f'), (stat.st_atime, stat.st_mtime))
    assert treediff.differences(x, y) == [('f', 'content differs')]


def test_ignored_top_level_entries_only(tmpdir):
    x = _tree(tmpdir.join('x'), {'nova/x': '1'})
    y = _tree(tmpdir.join('y'), {'nova/x': '1', '.git/HEAD': 'ref',
                                 'debian/control': 'c', 'nova/debian': '1'})
    assert treediff.differences(x, y, ('.git', 'debian')) == [
        ('nova/debian', 'unexpected file')]
