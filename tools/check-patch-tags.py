#!/usr/bin/env python
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

"""Check that the Nova patch series apply with zero fuzz to every release.

Usage:
    tools/check-patch-tags.py NOVA_GIT_DIR [--eol]    # every release tag
                                    # (--eol: and each line's -eol/-eom tag)
    tools/check-patch-tags.py --sdists nova-X.tar.gz  # release sdists
    tools/check-patch-tags.py --pypi CACHE_DIR        # every PyPI sdist
        [--versions V...]                             # or only these
    options: --all-series (also try each series on the releases it is not
             mapped to), --markdown (print a table for doc/source/patches.rst)

The releases checked are those of the lines MAP serves (the major versions
of its rules): every git tag X.Y.Z of those lines (beta and rc tags are
skipped; --eol adds the tag <series>-eol of each series), the given sdists,
or with --pypi every version PyPI lists for nova (``pip index versions``),
whose sdists are downloaded into CACHE_DIR once (by
tools/packaging/nova_sdists.py; files there are reused). A release of a
served line that no MAP rule covers is a failure: MAP must name it once it
is checked. Each release gets the series
MAP maps it to, applied patch by patch to a scratch copy of the files it
touches, once with ``git apply --check`` + ``git apply`` and once with
``patch -p1 -F0 --dry-run`` + ``patch -p1 -F0`` (each patch is checked on
the tree the previous ones produced). Exit status 0 only when every
release has a series and both tools apply it without fuzz.

An ``<line>-eol`` or ``<line>-eom`` tag is no release (MAP cannot name it):
it is checked with the series directory of the tag's name when there is one
(``train-eol``), else with the series of the line's newest release in MAP.
Which release line a name stands for (``wallaby``, ``2023.1``...) is read
from tools/nova-tier/releases.py.

Python 2.7 or 3 (--pypi: 3 runs faster, downloading in parallel); needs
git, patch and tar. Imports
nova_imgmeta from the checkout this script lives in.
"""

from __future__ import print_function

import argparse
import functools
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

sys.path.insert(0, os.path.join(HERE, 'nova-tier'))
sys.path.insert(0, os.path.join(HERE, 'packaging'))

from nova_imgmeta import patching  # noqa: E402
import nova_sdists  # noqa: E402
import releases  # noqa: E402

#: The tags that end a line's maintenance: end of maintenance (from 2023 on
#: the line becomes "unmaintained") and end of life.
END_TAG_SUFFIXES = ('-eol', '-eom')


def served_majors():
    """Major versions (release lines) that MAP has rules for."""
    return set(first[0] for first, _last, _name in patching.load_map())


def served(versions):
    """The release versions of the lines MAP serves, oldest first."""
    majors = served_majors()
    found = [v for v in versions if patching.parse_version(v) and
             patching.parse_version(v)[0] in majors]
    return sorted(set(found), key=patching.parse_version)


def line_of(series_name):
    """'rocky-pre-18.2.2' -> 'rocky'."""
    return series_name.split('-', 1)[0]


def has_series(name):
    """Whether nova_imgmeta/patches/<name> is a series directory."""
    try:
        patching.load_series(name)
    except patching.PatchError:
        return False
    return True


def tag_line(tag):
    """'wallaby-eom' -> 'wallaby', '2023.1-eol' -> '2023.1'; else None."""
    for suffix in END_TAG_SUFFIXES:
        if tag.endswith(suffix):
            return tag[:-len(suffix)]
    return None


def line_major(line):
    """Major version of a release line, from tools/nova-tier/releases.py."""
    entry = releases.LINES.get(line)
    return patching.parse_version(entry.nova)[0] if entry else None


def eol_series(tag, rules):
    """Series for a line's "<line>-eol" or "-eom" tag (module docstring)."""
    if has_series(tag):
        return tag
    major = line_major(tag_line(tag))
    newest = None
    for _first, last, name in rules:
        if last[0] == major and (newest is None or last > newest[0]):
            newest = (last, name)
    return newest[1] if newest else None


def _run(cmd, cwd, stdin=None):
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, _err = proc.communicate(stdin)
    return proc.returncode == 0, out.decode('utf-8', 'replace')


def release_tags(git_dir, eol=False):
    """[(tag, version or None, series)]: the tags to check."""
    ok, out = _run(['git', '--git-dir', git_dir, 'tag', '-l'], cwd='/')
    if not ok:
        raise SystemExit('cannot list the tags of %s:\n%s' % (git_dir, out))
    tags = out.split()
    found = [(tag, tag, None) for tag in served(tags)]
    if eol:
        rules = patching.load_map()
        majors = served_majors()
        found += [(tag, None, eol_series(tag, rules)) for tag in sorted(tags)
                  if line_major(tag_line(tag)) in majors]
    return found


def extract_tag(git_dir, tag, paths, target):
    """Write the files of paths (those that exist at tag) under target."""
    for path in paths:
        proc = subprocess.Popen(
            ['git', '--git-dir', git_dir, 'show', '%s:%s' % (tag, path)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        data, _err = proc.communicate()
        if proc.returncode != 0:
            continue        # a file the series creates
        dest = os.path.join(target, path)
        if not os.path.isdir(os.path.dirname(dest)):
            os.makedirs(os.path.dirname(dest))
        with open(dest, 'wb') as handle:
            handle.write(data)


def extract_sdist(sdist, paths, target):
    """Write the files of paths from a Nova sdist under target.

    Returns the version found in the sdist's PKG-INFO.
    """
    version = None
    with tarfile.open(sdist) as tar:
        for member in tar.getmembers():
            parts = member.name.split('/', 1)
            if len(parts) != 2 or not member.isfile():
                continue
            if parts[1] == 'PKG-INFO':
                for line in tar.extractfile(member).read().decode(
                        'utf-8', 'replace').splitlines():
                    if line.startswith('Version:'):
                        version = line.split(':', 1)[1].strip()
            elif parts[1] in paths:
                dest = os.path.join(target, parts[1])
                if not os.path.isdir(os.path.dirname(dest)):
                    os.makedirs(os.path.dirname(dest))
                with open(dest, 'wb') as handle:
                    handle.write(tar.extractfile(member).read())
    return version


def check_series(fill, series):
    """Apply series to two fresh copies made by fill(dir).

    Returns (git_result, patch_result); a result is 'ok' or
    'FAIL <patch>: <first lines of output>'.
    """
    results = []
    for tool in ('git', 'patch'):
        work = tempfile.mkdtemp(prefix='check-patch-')
        try:
            fill(work)
            if tool == 'git':
                # A repository of its own, so that git apply works on paths
                # relative to work whatever the current directory is in.
                _run(['git', 'init', '-q'], cwd=work)
            result = 'ok'
            for patch_file in series.patches:
                name = os.path.basename(patch_file)
                if tool == 'git':
                    steps = [['git', 'apply', '--check', patch_file],
                             ['git', 'apply', patch_file]]
                else:
                    steps = [['patch', '-p1', '-F0', '--dry-run', '--batch',
                              '--forward', '-i', patch_file],
                             ['patch', '-p1', '-F0', '--batch', '--forward',
                              '--no-backup-if-mismatch', '-i', patch_file]]
                for cmd in steps:
                    ok, out = _run(cmd, cwd=work)
                    if not ok:
                        lines = [line for line in out.splitlines()
                                 if re.search(r'FAILED|fuzz|error|Reversed|'
                                              r"can't find|does not",
                                              line)][:3] or \
                            [line for line in out.splitlines()
                             if line.strip()][:3]
                        result = 'FAIL %s: %s' % (name, ' | '.join(lines))
                        break
                    if tool == 'patch' and 'fuzz' in out:
                        result = 'FAIL %s: fuzz' % name
                        break
                if result != 'ok':
                    break
            results.append(result)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return tuple(results)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('git_dir', nargs='?',
                        help="a Nova git repository (bare or not)")
    parser.add_argument('--eol', action='store_true',
                        help='also check each line\'s -eol and -eom tags')
    parser.add_argument('--sdists', nargs='+', metavar='SDIST',
                        help='check these Nova sdists instead of git tags')
    parser.add_argument('--pypi', metavar='CACHE_DIR',
                        help='check every nova sdist PyPI serves for the '
                             'lines MAP serves, cached in CACHE_DIR')
    parser.add_argument('--jobs', type=int, default=4,
                        help='parallel downloads (--pypi)')
    parser.add_argument('--versions', nargs='+', metavar='VERSION',
                        help='--pypi: only these versions (no listing)')
    parser.add_argument('--all-series', action='store_true',
                        help='also try every series on every release')
    parser.add_argument('--markdown', action='store_true',
                        help='print a Markdown table')
    args = parser.parse_args(argv)
    if sum(map(bool, (args.git_dir, args.sdists, args.pypi))) != 1:
        parser.error('give one of: a Nova git directory, --sdists, --pypi')
    if args.pypi:
        try:
            versions = args.versions or served(
                nova_sdists.pypi_versions(args.pypi))
            if not versions:
                raise SystemExit('PyPI lists no nova release of the lines '
                                 'MAP serves')
            found = nova_sdists.fetch_all(versions, args.pypi, args.jobs)
        except nova_sdists.SdistError as exc:
            raise SystemExit(str(exc))
        args.no_sdist = [version for version, path in zip(versions, found)
                         if path is None]
        args.sdists = [path for path in found if path is not None]

    rules = patching.load_map()
    series_names = []
    for _first, _last, name in rules:
        if name not in series_names:
            series_names.append(name)
    for name in list(series_names):
        for suffix in END_TAG_SUFFIXES:
            end = line_of(name) + suffix
            if end not in series_names and has_series(end):
                series_names.append(end)
    all_series = dict((name, patching.load_series(name))
                      for name in series_names)
    paths = []
    for series in all_series.values():
        for path in series.touched_files():
            if path not in paths:
                paths.append(path)

    releases = []   # (version, series or None, fill function, label)
    cleanups = []
    try:
        return _check(args, releases, cleanups, paths, series_names,
                      all_series)
    finally:
        for path in cleanups:
            shutil.rmtree(path, ignore_errors=True)


def _copy_tree(source, target):
    for dirpath, _dirs, names in os.walk(source):
        rel = os.path.relpath(dirpath, source)
        dest_dir = os.path.normpath(os.path.join(target, rel))
        if not os.path.isdir(dest_dir):
            os.makedirs(dest_dir)
        for name in names:
            shutil.copy2(os.path.join(dirpath, name),
                         os.path.join(dest_dir, name))


def _check(args, releases, cleanups, paths, series_names, all_series):
    if args.git_dir:
        git_dir = args.git_dir
        if os.path.isdir(os.path.join(git_dir, '.git')):
            git_dir = os.path.join(git_dir, '.git')
        for tag, version, series in release_tags(git_dir, args.eol):
            releases.append((version, series, functools.partial(
                extract_tag, git_dir, tag, paths), 'tag ' + tag))
    else:
        pristine_root = tempfile.mkdtemp(prefix='check-patch-sdists-')
        cleanups.append(pristine_root)
        for number, sdist in enumerate(args.sdists):
            pristine = os.path.join(pristine_root, str(number))
            version = extract_sdist(sdist, paths, pristine)
            releases.append((version, None, functools.partial(
                _copy_tree, pristine), os.path.basename(sdist)))
    if not releases:
        print('no Nova release found to check', file=sys.stderr)
        return 1

    failures = 0
    rows = []
    for version, mapped, fill, label in releases:
        if not mapped:
            try:
                mapped = patching.select_series(version)
            except patching.UnknownVersion:
                failures += 1
        to_try = series_names if args.all_series else \
            [mapped] if mapped else []
        if not to_try:
            rows.append((label, '-', 'NO SERIES', 'NO SERIES', ''))
            continue
        for name in to_try:
            git_result, patch_result = check_series(fill, all_series[name])
            is_mapped = name == mapped
            if is_mapped and (git_result != 'ok' or patch_result != 'ok'):
                failures += 1
            rows.append((label, name, git_result, patch_result,
                         'mapped' if is_mapped else 'not mapped'))

    if args.markdown:
        print('| release | series | git apply --check | patch -p1 -F0 '
              '--dry-run |')
        print('| --- | --- | --- | --- |')
        for label, name, git_result, patch_result, note in rows:
            if note == 'not mapped':
                name += ' (not mapped)'
            print('| %s | %s | %s | %s |' % (label, name, git_result,
                                             patch_result))
    else:
        for label, name, git_result, patch_result, note in rows:
            print('%-22s %-17s git=%-4s patch=%-4s %s' % (
                label, name, git_result, patch_result, note))
    checked = sum(1 for row in rows if row[4] == 'mapped')
    no_sdist = getattr(args, 'no_sdist', None)
    print('%d release(s), %d mapped check(s), %d failure(s)%s'
          % (len(releases), checked, failures,
             '; no sdist on PyPI (wheel only, its git tag is checked): %s'
             % ', '.join(no_sdist) if no_sdist else ''),
          file=sys.stderr if args.markdown else sys.stdout)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
