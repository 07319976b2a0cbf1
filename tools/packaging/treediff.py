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
"""Compare two source trees file by file: contents, kind and exec bit.

Directories only count through the files they hold (git, quilt and tar
disagree on empty directories, which no package ships anyway). The
owner's exec bit is compared; the other mode bits depend on the umask
of whoever unpacked the tree.
"""

import filecmp
import os
import stat

__all__ = ['listing', 'differences']


def listing(root, ignore_top=()):
    """{relative path: 'file' | 'exec' | 'link'} of the files under root."""
    found = {}
    for dirpath, dirs, names in os.walk(root):
        if dirpath == root:
            dirs[:] = [d for d in dirs if d not in ignore_top]
            names = [n for n in names if n not in ignore_top]
        for name in dirs + names:
            path = os.path.join(dirpath, name)
            mode = os.lstat(path).st_mode
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(mode):
                found[rel] = 'link'
            elif stat.S_ISREG(mode):
                found[rel] = 'exec' if mode & stat.S_IXUSR else 'file'
    return found


def differences(expected_root, actual_root, ignore_top=()):
    """Sorted [(path, what)] where actual_root differs from expected_root.

    `ignore_top` names top-level entries of either tree that are left out
    (``.git``, ``debian``, ``.pc``).
    """
    expected = listing(expected_root, ignore_top)
    actual = listing(actual_root, ignore_top)
    diffs = []
    for path in sorted(set(expected) | set(actual)):
        want, have = expected.get(path), actual.get(path)
        if have is None:
            diffs.append((path, 'missing'))
        elif want is None:
            diffs.append((path, 'unexpected file'))
        elif want != have:
            diffs.append((path, 'is a %s, expected a %s' % (have, want)))
        elif want == 'link':
            if os.readlink(os.path.join(expected_root, path)) != \
                    os.readlink(os.path.join(actual_root, path)):
                diffs.append((path, 'symlink target differs'))
        elif not filecmp.cmp(os.path.join(expected_root, path),
                             os.path.join(actual_root, path), shallow=False):
            diffs.append((path, 'content differs'))
    filecmp.clear_cache()
    return diffs
