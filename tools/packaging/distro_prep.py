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
"""The packagers' own tools on the contrib/ recipes (``tox -e packaging``).

    tools/packaging/distro_prep.py [--series NAME]... [--keep]

For the newest PyPI sdist of every series of nova_imgmeta/patches/MAP, in a
package that already carries one patch of the distribution's own (a line
added to README.rst), with the recipe of contrib/ dropped in as
doc/source/packaging.rst says:

* RPM: ``rpmbuild -bp`` of a spec with the PatchNNNN lines of
  contrib/rpm/SERIES/patches.spec after the distro's Patch0001 and its
  ``%autosetup -S git`` line (one git commit per patch);
* Debian: a ``3.0 (quilt)`` source package, ``debian/patches/series`` =
  the distro's patch then contrib/debian/SERIES/series; ``dpkg-source -b``,
  then ``dpkg-source -x`` of the .dsc;
* quilt: in the source tree ``dpkg-source -b`` left patched,
  ``quilt pop -a``, then ``quilt push -a --fuzz=0``.

Each tree must equal the reference: the pristine sdist with the distro's
patch and then ``nova-imgmeta patch apply --nova-tree`` (every file the
series touches byte-identical, no other difference; ``.git``, ``debian``
and ``.pc`` left out); after ``quilt pop -a`` the tree must equal the
pristine sdist.

The trees are made in a temporary directory (tools/packaging/workdir.py:
in /dev/shm when it has room). Needs rpm, dpkg-dev, quilt, patch and git
(Debian packages): installed
with apt-get when missing (as root). NOVA_SDIST_CACHE keeps the sdists
(default ~/.cache/nova-imgmeta/sdists); a warm cache needs the network only
for PyPI's list of versions. Exit status: 0 every tree equal, 1 a
difference or a tool failed, 2 the check could not run.
"""

import argparse
import difflib
import email.utils
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402
import nova_sdists  # noqa: E402
import recipes  # noqa: E402
import treediff  # noqa: E402
import workdir  # noqa: E402

# command -> Debian package
TOOLS = {'rpmbuild': 'rpm', 'dpkg-source': 'dpkg-dev', 'quilt': 'quilt',
         'patch': 'patch', 'git': 'git'}

DISTRO_FILE = 'README.rst'
DISTRO_PATCH = '0001-Distro-own-change-to-README.patch'
PACKAGER = 'nova-imgmeta packaging check <packaging-check@example.invalid>'

# A stand-in for a distribution's openstack-nova spec: its own patch, then
# the lines of contrib/rpm/SERIES/patches.spec where
# doc/source/packaging.rst says.
SPEC = """\
Name:           openstack-nova
Version:        {version}
Release:        1%{{?dist}}
Summary:        OpenStack Compute, prep check of the nova-imgmeta series
License:        ASL 2.0
URL:            https://launchpad.net/nova
Source0:        nova-%{{version}}.tar.gz
Patch0001:      {distro_patch}
{patch_lines}
BuildArch:      noarch

%description
Stand-in for a distribution's openstack-nova spec; only prep runs.

%prep
{autosetup}
"""

CONTROL = """\
Source: nova
Section: python
Priority: optional
Maintainer: {packager}
Standards-Version: 4.6.2

Package: python3-nova
Architecture: all
Description: OpenStack Compute, prep check of the nova-imgmeta series
 Stand-in for a distribution's nova source package.
"""

CHANGELOG = """\
nova ({version}-1) unstable; urgency=medium

  * Packaging check of the nova-imgmeta patch series.

 -- {packager}  {date}
"""


class CheckError(Exception):
    """A tool failed or a recipe is unusable: the check says no."""


class SetupError(Exception):
    """The check could not run (tools, network, PyPI): exit 2."""


def run(cmd, cwd=None, env=None):
    """Run cmd; return its output, raise CheckError naming it on failure."""
    full_env = dict(os.environ, LC_ALL='C')
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True)
    if proc.returncode != 0:
        raise CheckError('%s failed (exit %d):\n%s' % (
            ' '.join(cmd), proc.returncode, proc.stdout.rstrip()))
    return proc.stdout


def ensure_tools():
    missing = sorted(set(pkg for cmd, pkg in TOOLS.items()
                         if shutil.which(cmd) is None))
    if not missing:
        return
    if shutil.which('apt-get') is None or os.geteuid() != 0:
        raise SetupError('missing tools; install the Debian packages %s '
                         '(apt-get needs root)' % ' '.join(missing))
    print('distro-prep: installing %s with apt-get (system-wide)'
          % ' '.join(missing), flush=True)
    env = {'DEBIAN_FRONTEND': 'noninteractive'}
    try:
        run(['apt-get', 'update', '-qq'], env=env)
        run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends']
            + missing, env=env)
    except CheckError as exc:
        raise SetupError(str(exc))


def read_rpm_recipe(series):
    """(Patch lines, autosetup line) of contrib/rpm/SERIES/patches.spec."""
    path = os.path.join(recipes.CONTRIB, 'rpm', series, 'patches.spec')
    patch_lines, autosetup = [], []
    with open(path) as handle:
        for line in handle.read().splitlines():
            if not line.strip() or line.startswith('#'):
                continue
            if line.startswith('Patch'):
                patch_lines.append(line)
            elif line.startswith('%autosetup'):
                autosetup.append(line)
            else:
                raise CheckError('%s: unexpected line %r' % (path, line))
    if not patch_lines or len(autosetup) != 1:
        raise CheckError('%s: expected Patch lines and one %%autosetup line'
                         % path)
    return patch_lines, autosetup[0]


def debian_recipe(series):
    """(text of contrib/debian/SERIES/series, the patch paths it lists)."""
    path = os.path.join(recipes.CONTRIB, 'debian', series, 'series')
    with open(path) as handle:
        text = handle.read()
    listed = [line.split()[0] for line in text.splitlines()
              if line.strip() and not line.startswith('#')]
    return text, listed


def distro_patch(pristine):
    """A patch of the distribution's own: one line added to README.rst."""
    with open(os.path.join(pristine, DISTRO_FILE)) as handle:
        old = handle.read().splitlines(True)
    new = old + ['\n', 'Packaged by a distribution (packaging check).\n']
    return ''.join(difflib.unified_diff(old, new, 'a/' + DISTRO_FILE,
                                        'b/' + DISTRO_FILE))


def nova_imgmeta_command():
    here = os.path.join(os.path.dirname(sys.executable), 'nova-imgmeta')
    command = here if os.path.exists(here) else shutil.which('nova-imgmeta')
    if not command:
        raise SetupError('the nova-imgmeta command is not installed')
    return command


def build_reference(pristine, dest, patch_text):
    """pristine + the distro's patch + nova-imgmeta patch apply."""
    shutil.copytree(pristine, dest, symlinks=True)
    patch_file = dest + '.distro.patch'
    with open(patch_file, 'w') as handle:
        handle.write(patch_text)
    run(['patch', '-p1', '-F0', '--batch', '-d', dest, '-i', patch_file])
    run([nova_imgmeta_command(), 'patch', 'apply', '--nova-tree', dest])
    return dest


def rpm_prep(series, version, sdist, work, patch_text):
    """rpmbuild -bp of the stand-in spec; returns the unpacked tree."""
    top = os.path.join(work, 'rpmbuild')
    sources = os.path.join(top, 'SOURCES')
    os.makedirs(sources)
    os.makedirs(os.path.join(top, 'SPECS'))
    patch_lines, autosetup = read_rpm_recipe(series)
    shutil.copy(sdist, os.path.join(sources, 'nova-%s.tar.gz' % version))
    with open(os.path.join(sources, DISTRO_PATCH), 'w') as handle:
        handle.write(patch_text)
    series_dir = os.path.join(patching.series.PATCHES_DIR, series)
    for line in patch_lines:
        shutil.copy(os.path.join(series_dir, line.split(':', 1)[1].strip()),
                    sources)
    spec = os.path.join(top, 'SPECS', 'openstack-nova.spec')
    with open(spec, 'w') as handle:
        handle.write(SPEC.format(version=version, distro_patch=DISTRO_PATCH,
                                 patch_lines='\n'.join(patch_lines),
                                 autosetup=autosetup))
    run(['rpmbuild', '-bp', '--nodeps', '--define', '_topdir %s' % top,
         spec])
    tree = os.path.join(top, 'BUILD', 'nova-%s' % version)
    if not os.path.isdir(tree):
        raise CheckError('rpmbuild -bp left no %s' % tree)
    # -S git: one commit for the pristine tree, then one per patch.
    commits = int(run(['git', '-C', tree, 'rev-list', '--count', 'HEAD']))
    if commits != 2 + len(patch_lines):
        raise CheckError('%s: %d git commits, expected %d (base, the distro '
                         'patch, %d of the series)' % (
                             tree, commits, 2 + len(patch_lines),
                             len(patch_lines)))
    return tree


def debian_source(series, version, sdist, work, patch_text):
    """dpkg-source -b, then -x; returns (-b's source tree, -x's tree)."""
    deb = os.path.join(work, 'debian')
    os.makedirs(deb)
    shutil.copy(sdist, os.path.join(deb, 'nova_%s.orig.tar.gz' % version))
    source = nova_sdists.extract(sdist, deb)
    debian = os.path.join(source, 'debian')
    patches = os.path.join(debian, 'patches')
    os.makedirs(os.path.join(debian, 'source'))
    os.makedirs(os.path.join(patches, recipes.DEBIAN_SUBDIR))
    files = {
        'source/format': '3.0 (quilt)\n',
        'control': CONTROL.format(packager=PACKAGER),
        'changelog': CHANGELOG.format(
            version=version, packager=PACKAGER,
            date=email.utils.formatdate(0)),
        'rules': '#!/usr/bin/make -f\n%:\n\tdh $@\n',
        'patches/' + DISTRO_PATCH: patch_text,
    }
    for name, content in files.items():
        with open(os.path.join(debian, name), 'w') as handle:
            handle.write(content)
    os.chmod(os.path.join(debian, 'rules'), 0o755)
    # As doc/source/packaging.rst says: the distro's series, then ours.
    text, listed = debian_recipe(series)
    with open(os.path.join(patches, 'series'), 'w') as handle:
        handle.write(DISTRO_PATCH + '\n' + text)
    series_dir = os.path.join(patching.series.PATCHES_DIR, series)
    for path in listed:
        shutil.copy(os.path.join(series_dir, os.path.basename(path)),
                    os.path.join(patches, path))
    run(['dpkg-source', '-b', os.path.basename(source)], cwd=deb)
    dsc = os.path.join(deb, 'nova_%s-1.dsc' % version)
    extracted = os.path.join(work, 'dpkg-source-x')
    run(['dpkg-source', '-x', dsc, extracted])
    return source, extracted


def quilt(tree, *args):
    return run(['quilt', '--quiltrc', '-'] + list(args), cwd=tree,
               env={'QUILT_PATCHES': 'debian/patches', 'QUILT_PC': '.pc'})


def check_series(series, version, sdist, work):
    """Run every tool for one series; return [(step, ok, seconds, detail)]."""
    results = []

    def step(name, func):
        start = time.time()
        try:
            detail = func()
            ok = True
        except CheckError as exc:
            ok, detail = False, str(exc)
        results.append((name, ok, time.time() - start, detail or ''))
        print('  %-34s %s (%.1f s)%s' % (
            name, 'ok' if ok else 'FAILED', time.time() - start,
            '' if ok or not detail else '\n' + _indent(detail)), flush=True)
        return ok

    trees = {}
    touched = patching.load_series(series).touched_files()

    def reference():
        pristine = nova_sdists.extract(sdist, os.path.join(work, 'pristine'))
        trees['pristine'] = pristine
        trees['distro_patch'] = distro_patch(pristine)
        trees['reference'] = build_reference(
            pristine, os.path.join(work, 'reference'), trees['distro_patch'])
        changed = set(p for p, _why in treediff.differences(
            pristine, trees['reference']))
        want = set(touched) | {DISTRO_FILE}
        if changed != want:
            raise CheckError('the reference differs from the pristine sdist '
                             'in %s, expected %s' % (sorted(changed),
                                                     sorted(want)))
        return '%d files changed: the %d the series touches and %s' % (
            len(changed), len(touched), DISTRO_FILE)

    def compare(tree, ignore, against='reference'):
        diffs = treediff.differences(trees[against], tree, ignore)
        if diffs:
            raise CheckError('differs from the %s tree:\n%s' % (
                against, '\n'.join('%s: %s' % d for d in diffs[:40])))
        return None

    def rpm():
        tree = rpm_prep(series, version, sdist, work, trees['distro_patch'])
        return compare(tree, ('.git',))

    def dpkg():
        trees['quilt'], trees['dpkg'] = debian_source(
            series, version, sdist, work, trees['distro_patch'])
        return compare(trees['dpkg'], ('debian', '.pc'))

    def quilt_pop():
        quilt(trees['quilt'], 'pop', '-a')
        return compare(trees['quilt'], ('debian', '.pc'), 'pristine')

    def quilt_push():
        quilt(trees['quilt'], 'push', '-a', '--fuzz=0')
        return compare(trees['quilt'], ('debian', '.pc'))

    if not step('reference (nova-imgmeta patch apply)', reference):
        return results
    step('rpmbuild -bp, %autosetup -S git', rpm)
    if step('dpkg-source -b, dpkg-source -x', dpkg):
        if step('quilt pop -a (the pristine tree)', quilt_pop):
            step('quilt push -a --fuzz=0', quilt_push)
    return results


def _indent(text, keep=30):
    """Indented, and only the first line and the last `keep` lines."""
    lines = text.splitlines()
    if len(lines) > keep + 1:
        lines = lines[:1] + ['[... %d lines ...]' % (len(lines) - keep - 1)] \
            + lines[-keep:]
    return '\n'.join('      ' + line for line in lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Check the contrib/ recipes with rpmbuild -bp, '
                    'dpkg-source and quilt on the newest Nova sdist of each '
                    'series.')
    parser.add_argument('--series', action='append', metavar='NAME',
                        help='only this series (repeatable); default: every '
                             'series of MAP')
    parser.add_argument('--keep', action='store_true',
                        help='keep the work directory and print its path')
    args = parser.parse_args(argv)
    start = time.time()
    work = workdir.make('nova-imgmeta-distro-prep-')
    print('work directory: %s' % work, flush=True)
    failed, unchecked = [], []
    try:
        began = time.time()
        ensure_tools()
        print('tools: %s (%.1f s)' % (', '.join(sorted(TOOLS)),
                                      time.time() - began), flush=True)
        problems = recipes.stale()
        if problems:
            print('contrib/ is stale (run tools/packaging/recipes.py):\n%s'
                  % '\n'.join('  contrib/%s: %s' % p for p in problems))
            return 1
        began = time.time()
        newest = nova_sdists.newest_by_series(nova_sdists.pypi_versions())
        print('newest Nova release of each series on PyPI: %s (%.1f s)' % (
            ', '.join('%s %s' % item for item in newest.items()),
            time.time() - began), flush=True)
        wanted = args.series or list(newest)
        unknown = [name for name in wanted if name not in newest]
        if unknown:
            raise SetupError('not a series of MAP: %s' % ', '.join(unknown))
        for series in wanted:
            version = newest.get(series)
            if version is None:
                print('%s: no sdist of this series on PyPI: cannot check it'
                      % series)
                unchecked.append(series)
                continue
            began = time.time()
            sdist = nova_sdists.fetch(version)
            print('%s: nova %s (%s, %.1f s)' % (
                series, version, sdist, time.time() - began), flush=True)
            results = check_series(series, version, sdist,
                                   os.path.join(work, series))
            if not args.keep:
                # About 300 MB of trees per series: free them now.
                began = time.time()
                shutil.rmtree(os.path.join(work, series), ignore_errors=True)
                print('  %-34s (%.1f s)' % ('removing the trees',
                                            time.time() - began), flush=True)
            if not all(ok for _n, ok, _s, _d in results):
                failed.append(series)
    except (SetupError, nova_sdists.SdistError, patching.PatchError) as exc:
        print('distro-prep: %s' % exc, file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print('work directory kept: %s' % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failed:
        verdict, code = 'FAILED for %s' % ', '.join(failed), 1
    elif unchecked:
        verdict, code = 'could not check %s' % ', '.join(unchecked), 2
    else:
        verdict, code = 'every tree equals nova-imgmeta patch apply', 0
    print('distro-prep: %s in %.0f s' % (verdict, time.time() - start))
    return code


if __name__ == '__main__':
    sys.exit(main())
