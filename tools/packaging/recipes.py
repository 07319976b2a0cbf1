#!/usr/bin/env python3
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
"""Generate the packagers' recipes of contrib/ from the patch series.

    tools/packaging/recipes.py          write contrib/rpm and contrib/debian
    tools/packaging/recipes.py --check  exit 1 naming every stale file

One recipe pair per series that nova_imgmeta/patches/MAP names, built from
that series' quilt ``series`` file, so the recipes cannot drift from the
patches (the check runs in CI):

* ``contrib/rpm/<series>/patches.spec``: the PatchNNNN lines and the
  ``%autosetup -S git`` line to put into an openstack-nova spec;
* ``contrib/debian/<series>/series``: the lines to append to
  ``debian/patches/series`` after the distribution's own patches.

How to use them: doc/source/packaging.rst.
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402

__all__ = ['RPM_FIRST_PATCH', 'DEBIAN_SUBDIR', 'AUTOSETUP', 'series_ranges',
           'render_rpm', 'render_debian', 'expected', 'write', 'stale']

CONTRIB = os.path.join(TOP, 'contrib')
# Above the distribution's own PatchNNNN numbers: %autosetup applies the
# patches in number order, so the series goes on top of the distro's.
RPM_FIRST_PATCH = 9001
# Directory under debian/patches/ that holds the series' files.
DEBIAN_SUBDIR = 'nova-imgmeta'
AUTOSETUP = '%autosetup -n nova-%{version} -S git'
GENERATOR = 'tools/packaging/recipes.py'


def _version(parsed):
    return '.'.join(str(part) for part in parsed)


def series_ranges(patches_dir=None):
    """Ordered {series: ['16.0.0 to 16.1.8', ...]} of the rules of MAP."""
    ranges = {}
    for first, last, name in patching.load_map(patches_dir):
        ranges.setdefault(name, []).append(
            '%s to %s' % (_version(first), _version(last)))
    return ranges


def _patch_names(name, patches_dir):
    series = patching.load_series(name, patches_dir)
    return [os.path.basename(path) for path in series.patches]


def _header(name, ranges, comment):
    return [
        '%s nova-imgmeta patch series "%s", for Nova %s.' % (
            comment, name, ', '.join(ranges)),
        '%s Generated from nova_imgmeta/patches/%s/series by %s:'
        % (comment, name, GENERATOR),
        '%s do not edit. How to use it: doc/source/packaging.rst.' % comment,
    ]


def render_rpm(name, ranges, patch_names):
    # No rpm macro in the comments: rpm expands macros even there.
    lines = _header(name, ranges, '#') + [
        '#',
        '# 1. Preamble, after the Source lines and the spec\'s own Patch',
        '#    lines; copy these files from nova_imgmeta/patches/%s/ into'
        % name,
        '#    SOURCES. The numbers are above the distribution\'s own, so the',
        '#    series is applied last, in this order.',
    ]
    for number, patch in enumerate(patch_names, RPM_FIRST_PATCH):
        lines.append('Patch%04d: %s' % (number, patch))
    lines += [
        '',
        '# 2. The prep section: unpack and apply every PatchNNNN with git,',
        '#    one commit each (RDO\'s openstack-nova spec has this line, with',
        '#    upstream_version for version).',
        AUTOSETUP,
    ]
    return '\n'.join(lines) + '\n'


def render_debian(name, ranges, patch_names):
    lines = _header(name, ranges, '#') + [
        '# Append to debian/patches/series, after the distribution\'s own',
        '# patches; copy the files of nova_imgmeta/patches/%s/ to' % name,
        '# debian/patches/%s/.' % DEBIAN_SUBDIR,
    ]
    lines += ['%s/%s' % (DEBIAN_SUBDIR, patch) for patch in patch_names]
    return '\n'.join(lines) + '\n'


def expected(patches_dir=None):
    """{path relative to contrib/: content} for every series of MAP."""
    files = {}
    for name, ranges in series_ranges(patches_dir).items():
        patch_names = _patch_names(name, patches_dir)
        files[os.path.join('rpm', name, 'patches.spec')] = render_rpm(
            name, ranges, patch_names)
        files[os.path.join('debian', name, 'series')] = render_debian(
            name, ranges, patch_names)
    return files


def _present(contrib):
    """Files now under contrib/rpm and contrib/debian (relative paths)."""
    found = set()
    for kind in ('rpm', 'debian'):
        for dirpath, _dirs, names in os.walk(os.path.join(contrib, kind)):
            for name in names:
                found.add(os.path.relpath(os.path.join(dirpath, name),
                                          contrib))
    return found


def stale(contrib=None, patches_dir=None):
    """Sorted [(path, why)] of what differs from the generated recipes."""
    contrib = contrib or CONTRIB
    want = expected(patches_dir)
    problems = []
    for path, content in want.items():
        full = os.path.join(contrib, path)
        try:
            with open(full) as handle:
                have = handle.read()
        except IOError:
            problems.append((path, 'missing'))
            continue
        if have != content:
            problems.append((path, 'out of date'))
    for path in _present(contrib) - set(want):
        problems.append((path, 'not generated from any series of MAP'))
    return sorted(problems)


def write(contrib=None, patches_dir=None):
    """Write the recipes, remove files no series generates; return paths."""
    contrib = contrib or CONTRIB
    want = expected(patches_dir)
    for path in sorted(_present(contrib) - set(want)):
        os.remove(os.path.join(contrib, path))
    for path, content in sorted(want.items()):
        full = os.path.join(contrib, path)
        if not os.path.isdir(os.path.dirname(full)):
            os.makedirs(os.path.dirname(full))
        with open(full, 'w') as handle:
            handle.write(content)
    for kind in ('rpm', 'debian'):
        root = os.path.join(contrib, kind)
        for dirpath, dirs, names in os.walk(root, topdown=False):
            if dirpath != root and not os.listdir(dirpath):
                os.rmdir(dirpath)
    return sorted(want)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Generate contrib/rpm and contrib/debian from the patch '
                    'series named in nova_imgmeta/patches/MAP.')
    parser.add_argument('--check', action='store_true',
                        help='change nothing; exit 1 if a recipe is stale')
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale()
            for path, why in problems:
                print('contrib/%s: %s' % (path, why))
            if problems:
                print('The recipes are stale: run %s and commit contrib/.'
                      % GENERATOR)
                return 1
            print('contrib/: the recipes match the patch series')
            return 0
        for path in write():
            print('wrote contrib/%s' % path)
        return 0
    except patching.PatchError as exc:
        print('%s: %s' % (GENERATOR, exc), file=sys.stderr)
        return 2


if __name__ == '__main__':
    sys.exit(main())
