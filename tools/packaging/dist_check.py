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
"""Build the sdist and the wheel, then install and run them (tox -e dist).

    tools/packaging/dist_check.py [--python python2.7] [--python python3.6]

1. ``python -m build`` into dist/ (the wheel is built from the sdist, so a
   file missing from the sdist is missing from the wheel too), then
   ``twine check --strict``.
2. Both archives carry nova_imgmeta/patches: MAP and, for every series it
   names, the ``series`` file and every patch it lists, byte-identical to
   the checkout's, and nothing else.
3. For each Python (default 2.7 and 3.6) and each archive: a new virtualenv,
   ``pip install`` of the archive (on 2.7 with Queens' upper-constraints,
   as on a Nova node), then, from a directory outside the checkout:
   the package is imported from the virtualenv with the built version,
   its patches are the checkout's, ``nova-imgmeta --help`` works and, on the
   newest PyPI sdist of each series, ``nova-imgmeta patch status
   --nova-tree`` says "not applied" (exit 1), ``patch apply`` works and
   ``status`` then says "applied" (exit 0).
4. The release rehearsal: in a clone with the planned annotated tag on
   HEAD (tools/packaging/release_plan.py), pbr's sdist is
   nova-imgmeta-TAG.tar.gz.

Exit status 0 all passed, 1 a check failed, 2 the checks could not run.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402
from nova_imgmeta.patching.series import PATCHES_DIR  # noqa: E402
import nova_sdists  # noqa: E402
import release_plan  # noqa: E402
import workdir  # noqa: E402

DIST = os.path.join(TOP, 'dist')
PATCHES = 'nova_imgmeta/patches/'
# The library versions of a Queens node, for installs on Python 2.7.
PY27_CONSTRAINTS = os.path.join(TOP, 'tests', 'nova', 'constraints',
                                'upper-constraints-queens.txt')
# pip output that is noise here: this machine's missing index directories
# and pip's own Python 2.7 deprecation notice.
NOISE = re.compile(r"^(WARNING: Location '.*' is ignored|DEPRECATION: )")


class CheckFailed(Exception):
    """A check said no; the message says what."""


def run(cmd, cwd=None, expect=(0,)):
    """Run cmd; return (exit code, output); CheckFailed on another code."""
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, universal_newlines=True,
                          env=dict(os.environ, LC_ALL='C.UTF-8'))
    out = '\n'.join(line for line in proc.stdout.splitlines()
                    if not NOISE.match(line))
    if proc.returncode not in expect:
        raise CheckFailed('%s: exit %d, expected %s\n%s' % (
            ' '.join(cmd), proc.returncode,
            ' or '.join(str(e) for e in expect), out[-6000:]))
    return proc.returncode, out


def expected_patch_files():
    """{path inside the package: bytes} of MAP and every series directory.

    The series MAP names, and those only --series reaches (train-eol).
    """
    files = {}
    with open(os.path.join(PATCHES_DIR, 'MAP'), 'rb') as handle:
        files[PATCHES + 'MAP'] = handle.read()
    names = set(patching.series_names())
    names.update(name for name in os.listdir(PATCHES_DIR)
                 if os.path.isfile(os.path.join(PATCHES_DIR, name, 'series')))
    for name in sorted(names):
        series = patching.load_series(name)
        for path in series.patches + [os.path.join(series.directory,
                                                   'series')]:
            with open(path, 'rb') as handle:
                files[PATCHES + name + '/' + os.path.basename(path)] = \
                    handle.read()
    return files


def check_patch_files(found, where):
    """found: {package path: bytes} of every file under PATCHES."""
    want = expected_patch_files()
    problems = ['%s: missing' % p for p in sorted(set(want) - set(found))]
    problems += ['%s: not in the checkout\'s series' % p
                 for p in sorted(set(found) - set(want))]
    problems += ['%s: differs from the checkout' % p
                 for p in sorted(set(want) & set(found))
                 if want[p] != found[p]]
    if problems:
        raise CheckFailed('%s:\n%s' % (where, '\n'.join(problems)))
    return '%d files (MAP, %d series)' % (
        len(want), len(set(p.split('/')[2] for p in want if
                           p.count('/') == 3)))


def wheel_patch_files(wheel):
    with zipfile.ZipFile(wheel) as archive:
        return {name: archive.read(name) for name in archive.namelist()
                if name.startswith(PATCHES) and not name.endswith('/')}


def sdist_patch_files(sdist):
    found = {}
    with tarfile.open(sdist) as archive:
        for member in archive.getmembers():
            path = member.name.split('/', 1)[-1]
            if path.startswith(PATCHES) and member.isfile():
                found[path] = archive.extractfile(member).read()
    return found


def installed_patch_files(package_dir):
    found = {}
    root = os.path.join(package_dir, 'patches')
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(('.pyc', '.pyo')):
                continue
            full = os.path.join(dirpath, name)
            with open(full, 'rb') as handle:
                found[PATCHES + os.path.relpath(full, root)] = handle.read()
    return found


def build():
    """python -m build into dist/; returns (sdist, wheel, version)."""
    for old in glob.glob(os.path.join(DIST, 'nova[-_]imgmeta-*')):
        os.remove(old)
    run([sys.executable, '-m', 'build', '--no-isolation', '--outdir', DIST,
         TOP])
    sdists = glob.glob(os.path.join(DIST, 'nova-imgmeta-*.tar.gz'))
    wheels = glob.glob(os.path.join(DIST, 'nova_imgmeta-*.whl'))
    if len(sdists) != 1 or len(wheels) != 1:
        raise CheckFailed('expected one sdist and one wheel in %s, found %s'
                          % (DIST, os.listdir(DIST)))
    version = re.match(r'nova_imgmeta-(.+?)-', os.path.basename(
        wheels[0])).group(1)
    if not wheels[0].endswith('-py2.py3-none-any.whl'):
        raise CheckFailed('%s: not a universal (py2.py3) wheel' % wheels[0])
    return sdists[0], wheels[0], version


PROBE = r'''
import os, sys, pkg_resources, nova_imgmeta
print(os.path.dirname(os.path.realpath(nova_imgmeta.__file__)))
print(pkg_resources.get_distribution('nova-imgmeta').version)
print(sys.prefix)
'''


def install_check(python, archive, version, constraints, trees, work):
    """One virtualenv: install archive, then run the package from it."""
    venv = os.path.join(work, 'venv')
    # The wheels virtualenv embeds, never newer ones its periodic update
    # fetched into the app-data ("bundle" takes those: wheel 0.48 there
    # breaks Python 3.6).
    run([sys.executable, '-m', 'virtualenv', '--quiet', '--no-periodic-update',
         '--pip', 'embed', '--setuptools', 'embed', '--wheel', 'embed',
         '-p', python, venv])
    cmd = [os.path.join(venv, 'bin', 'python'), '-m', 'pip', 'install',
           '--quiet', '--disable-pip-version-check']
    if constraints:
        cmd += ['-c', constraints]
    run(cmd + [archive])
    outside = os.path.join(work, 'cwd')
    os.makedirs(outside)
    _code, out = run([os.path.join(venv, 'bin', 'python'), '-c', PROBE],
                     cwd=outside)
    package_dir, got_version, prefix = out.splitlines()[-3:]
    if not package_dir.startswith(os.path.realpath(prefix) + os.sep):
        raise CheckFailed('nova_imgmeta imported from %s, not from the '
                          'virtualenv %s' % (package_dir, prefix))
    if got_version != version:
        raise CheckFailed('installed version %s, built %s'
                          % (got_version, version))
    check_patch_files(installed_patch_files(package_dir),
                      'installed package %s' % package_dir)
    command = os.path.join(venv, 'bin', 'nova-imgmeta')
    _code, out = run([command, '--help'], cwd=outside)
    if not re.search(r'\bpatch\b', out):
        raise CheckFailed('nova-imgmeta --help does not list "patch":\n%s'
                          % out)
    for series, tree in sorted(trees.items()):
        copy = os.path.join(work, 'nova-' + series)
        shutil.copytree(tree, copy, symlinks=True)
        # Exit codes (doc/source/patches.rst): status 1 not applied, 0
        # applied.
        for action, code in (('status', 1), ('apply', 0), ('status', 0)):
            _code, out = run([command, 'patch', action, '--nova-tree', copy],
                             cwd=outside, expect=(code,))
            if series not in out:
                raise CheckFailed('nova-imgmeta patch %s does not name the '
                                  'series %s:\n%s' % (action, series, out))
        shutil.rmtree(copy)
    versions = ', '.join(os.path.basename(tree)
                         for _series, tree in sorted(trees.items()))
    return 'nova_imgmeta %s from %s; --help; patch status, apply, status ' \
        'on %s' % (version, package_dir.replace(work, '<venv>'), versions)


def twine_check(built):
    run([sys.executable, '-m', 'twine', 'check', '--strict', built['sdist'],
         built['wheel']])


def rehearse_tag(work):
    clone = os.path.join(work, 'clone')
    how = release_plan.tagged_clone(TOP, clone)
    out_dir = os.path.join(work, 'out')
    run([sys.executable, '-m', 'build', '--no-isolation', '--sdist',
         '--outdir', out_dir, clone])
    want = 'nova-imgmeta-%s.tar.gz' % release_plan.PLANNED_TAG
    got = os.listdir(out_dir)
    if got != [want]:
        raise CheckFailed('with %s pbr built %s, expected %s'
                          % (how, got, want))
    return '%s: %s' % (how, want)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Build the sdist and wheel, check their content, '
                    'install and run them on each Python.')
    parser.add_argument('--python', action='append', metavar='PYTHON',
                        help='interpreter to install on (repeatable); '
                             'default: python2.7 and python3.6')
    args = parser.parse_args(argv)
    pythons = args.python or ['python2.7', 'python3.6']
    start = time.time()
    failed = []
    work = workdir.make('nova-imgmeta-dist-')
    print('work directory: %s' % work, flush=True)

    def step(name, func, *func_args):
        began = time.time()
        try:
            detail = func(*func_args)
            print('  %-40s ok (%.1f s)%s' % (
                name, time.time() - began,
                '\n      ' + detail if detail else ''), flush=True)
            return True
        except (CheckFailed, release_plan.TagError) as exc:
            failed.append(name)
            print('  %-40s FAILED (%.1f s)\n%s' % (
                name, time.time() - began,
                '\n'.join('      ' + line for line in str(exc).splitlines())),
                flush=True)
            return False

    try:
        interpreters = {}
        for python in pythons:
            path = shutil.which(python)
            if not path:
                raise nova_sdists.SdistError(
                    '%s is not on PATH (tools/run-tests puts pyenv\'s 2.7 '
                    'and 3.6 there)' % python)
            interpreters[python] = path
        newest = nova_sdists.newest_by_series(nova_sdists.pypi_versions())
        trees = {}
        for series, version in newest.items():
            if version is None:
                raise nova_sdists.SdistError(
                    'no sdist of series %s on PyPI' % series)
            trees[series] = nova_sdists.extract(
                nova_sdists.fetch(version), os.path.join(work, 'nova'))
        built = {}

        def do_build():
            built['sdist'], built['wheel'], built['version'] = build()
            return '%s, %s' % (os.path.basename(built['sdist']),
                               os.path.basename(built['wheel']))

        print('dist: build and check the archives', flush=True)
        if not step('python -m build', do_build):
            return 1
        step('twine check --strict', twine_check, built)
        step('wheel carries MAP and the series', lambda: check_patch_files(
            wheel_patch_files(built['wheel']), built['wheel']))
        step('sdist carries MAP and the series', lambda: check_patch_files(
            sdist_patch_files(built['sdist']), built['sdist']))
        for python, path in interpreters.items():
            constraints = PY27_CONSTRAINTS if python.endswith('2.7') \
                else None
            for kind in ('wheel', 'sdist'):
                step('install the %s on %s' % (kind, python), install_check,
                     path, built[kind], built['version'], constraints, trees,
                     os.path.join(work, '%s-%s' % (python, kind)))
        step('release rehearsal (tag %s)' % release_plan.PLANNED_TAG,
             rehearse_tag, os.path.join(work, 'tag'))
    except (nova_sdists.SdistError, patching.PatchError) as exc:
        print('dist: %s' % exc, file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print('dist: %s in %.0f s' % (
        'FAILED: %s' % '; '.join(failed) if failed else 'all checks passed',
        time.time() - start))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
