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
"""Make the patch series of nova_imgmeta/patches/ from patches-src/.

    series_build.py build [SERIES...]     write nova_imgmeta/patches/SERIES
    series_build.py check [SERIES...]     change nothing; exit 1 if stale
    series_build.py tree SERIES DIR       a git checkout to edit the series
                    [--reject]            (what does not apply: .rej files)
    series_build.py refresh SERIES DIR    its commits back into patches-src

As packagers' tools do (rdopkg's patches branch, gbp pq): the series'
reference release is unpacked from its PyPI sdist (a ``<line>-eol`` series:
``git archive`` of that tag from the Nova repository NOVA_GIT_DIR) and
committed to a new git repository; each patch is one commit on top (its
call-site diff applied with ``git apply --index``, which allows no fuzz,
its shared files written), with the fixed author and date of
patches-src/patches.ini; then ``git format-patch --no-renames
--zero-commit --no-signature --abbrev=10`` writes the patch files, and the
quilt ``series`` file lists them. Git runs without the user's or the
system's configuration, so the output is the same byte for byte wherever
it runs (with the same git: 2.39 made the committed files).

``check`` makes every series in a scratch directory and compares it with
the committed one. A series whose reference cannot be had (a tag, without
NOVA_GIT_DIR) is not made: it is reported as SKIPPED, loudly, and what can
be checked without Nova's tree still is (its commit messages and the files
its patches add, against the committed patches). Exit status: 0 all
current (or skipped), 1 something is stale, 2 error (no sdist, a diff that
does not apply, bad sources).

Editing a series: ``tree SERIES DIR`` leaves the reference release with
one commit per patch in DIR; change the call sites there (``git commit
--amend``, ``git rebase -i``), then ``refresh SERIES DIR`` writes the
commit messages and call-site diffs back to patches-src/SERIES/ (the files
in patches-src/shared/ are edited there, never in DIR), and ``build``
(or ``tools/regen``) remakes the patch files.
"""

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402
from nova_imgmeta.patching.series import PATCHES_DIR  # noqa: E402
import nova_sdists  # noqa: E402
import series_sources  # noqa: E402
import series_template  # noqa: E402

__all__ = ['BuildError', 'Unavailable', 'FORMAT_PATCH', 'make', 'stale',
           'report', 'offline_problems', 'write', 'make_tree', 'refresh',
           'main']

# The options that make the files what they are (doc/source/patches.rst).
FORMAT_PATCH = ['format-patch', '--no-renames', '--zero-commit',
                '--no-signature', '--abbrev=10', '--diff-algorithm=myers']
GIT_DIR_VARIABLE = 'NOVA_GIT_DIR'
# The branch holding the pristine release; the patches are commits on the
# branch PATCHES_BRANCH on top of it (as rdopkg's patches branch).
BASE_BRANCH = 'nova'
PATCHES_BRANCH = 'patches'
BASE_AUTHOR = 'nova-imgmeta <nova-imgmeta@example.invalid>'
BASE_DATE = 'Thu, 1 Jan 2026 00:00:00 +0000'


class BuildError(Exception):
    """A series could not be made; the message says why."""


class Unavailable(BuildError):
    """The series' reference tree cannot be had here (a tag, no repo)."""


def _split_author(author):
    match = re.match(r'^(.*?)\s*<(.*)>$', author)
    if not match:
        raise BuildError('author %r is not "Name <email>"' % author)
    return match.groups()


def _git_env(home, author=BASE_AUTHOR, date=BASE_DATE):
    """An environment in which no configuration but ours reaches git."""
    env = dict((key, value) for key, value in os.environ.items()
               if not key.startswith('GIT_') and key != 'COLUMNS')
    name, email = _split_author(author)
    env.update({
        'HOME': home, 'XDG_CONFIG_HOME': home, 'GIT_CONFIG_NOSYSTEM': '1',
        'GIT_CONFIG_GLOBAL': os.devnull, 'LC_ALL': 'C', 'TZ': 'UTC',
        'GIT_AUTHOR_NAME': name, 'GIT_AUTHOR_EMAIL': email,
        'GIT_AUTHOR_DATE': date, 'GIT_COMMITTER_NAME': name,
        'GIT_COMMITTER_EMAIL': email, 'GIT_COMMITTER_DATE': date})
    return env


def _git(args, cwd, env, check=True):
    cmd = ['git', '-c', 'safe.directory=*', '-c', 'core.autocrlf=false',
           '-c', 'core.fileMode=true', '-c', 'init.defaultBranch=' +
           PATCHES_BRANCH] + args
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    if check and proc.returncode != 0:
        raise BuildError('git %s failed in %s:\n%s%s' % (
            ' '.join(args[:3]), cwd, proc.stdout, proc.stderr))
    return proc


def _extract(tar, dest):
    if hasattr(tarfile, 'data_filter'):
        tar.extractall(dest, filter='data')
    else:
        tar.extractall(dest)


def reference_tree(reference, work, git_dir=None):
    """Unpack the reference release (or tag) under work; return its root."""
    if reference.kind == 'release':
        try:
            sdist = nova_sdists.fetch(reference.name)
            if shutil.which('tar'):
                # ten times faster than tarfile's data filter
                subprocess.check_call(['tar', '-xzf', sdist, '-C', work,
                                       '--no-same-owner'])
                root = os.path.join(work, 'nova-' + reference.name)
                if not os.path.isdir(root):
                    raise BuildError('%s holds no nova-%s/'
                                     % (sdist, reference.name))
                return root
            return nova_sdists.extract(sdist, work)
        except nova_sdists.SdistError as exc:
            raise BuildError(str(exc))
        except subprocess.CalledProcessError as exc:
            raise BuildError('cannot unpack %s: %s' % (sdist, exc))
    git_dir = git_dir or os.environ.get(GIT_DIR_VARIABLE)
    if not git_dir:
        raise Unavailable('%s is a git tag, not a release on PyPI, and %s '
                          'does not name a Nova git repository'
                          % (reference.name, GIT_DIR_VARIABLE))
    archive = os.path.join(work, reference.name + '.tar')
    env = _git_env(work)
    with open(archive, 'wb') as handle:
        proc = subprocess.run(
            ['git', '-c', 'safe.directory=*', '--git-dir', git_dir,
             'archive', '--format=tar', '--prefix=nova-%s/' % reference.name,
             'refs/tags/' + reference.name], stdout=handle,
            stderr=subprocess.PIPE, env=env, universal_newlines=False)
    if proc.returncode != 0:
        raise BuildError('cannot archive the tag %s of %s=%s:\n%s' % (
            reference.name, GIT_DIR_VARIABLE, git_dir,
            proc.stderr.decode('utf-8', 'replace')))
    with tarfile.open(archive) as tar:
        _extract(tar, work)
    os.remove(archive)
    return os.path.join(work, 'nova-' + reference.name)


def _write_file(path, content):
    if not os.path.isdir(os.path.dirname(path)):
        os.makedirs(os.path.dirname(path))
    with open(path, 'w', encoding='utf-8', newline='') as handle:
        handle.write(content)


def _apply_rejecting(diff_file, tree, env, number):
    """Apply what applies of a diff; move the .rej files under .git.

    Returns the paths of the rejected hunks' files, relative to tree.
    """
    _git(['apply', '--index', '--reject', diff_file], tree, env, check=False)
    rejects = []
    for dirpath, dirs, files in os.walk(tree):
        dirs[:] = [d for d in dirs if d != '.git']
        for file_name in files:
            if not file_name.endswith('.rej'):
                continue
            source = os.path.join(dirpath, file_name)
            relative = os.path.relpath(source, tree)
            target = os.path.join(tree, '.git', 'rejects', number, relative)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.rename(source, target)
            rejects.append(os.path.relpath(target, tree))
    return sorted(rejects)


def commit_series(series, tree, home, reject=False):
    """Commit the reference tree, then one commit per patch, in tree.

    With ``reject``, a call-site diff that does not apply is applied as far
    as it goes (``git apply --reject``) and the rest is returned: [rejected
    hunk files under tree/.git/rejects/NNNN/], for a person to carry over.
    """
    rejected = []
    env = _git_env(home)
    _git(['init', '-q'], tree, env)
    _git(['add', '-A', '-f', '.'], tree, env)
    _git(['commit', '-q', '--no-verify', '-m',
          'Nova %s' % series.reference.name], tree, env)
    _git(['branch', BASE_BRANCH], tree, env)
    for patch in series.patches:
        env = _git_env(home, patch.author, patch.date)
        where = 'patches-src/%s/%s.diff' % (series.name, patch.number)
        if patch.diff.strip():
            diff_file = os.path.join(home, 'callsites.diff')
            _write_file(diff_file, patch.diff)
            proc = _git(['apply', '--index', '--whitespace=error-all',
                         diff_file], tree, env, check=False)
            if proc.returncode != 0 and reject:
                rejected += _apply_rejecting(diff_file, tree, env,
                                             patch.number)
            elif proc.returncode != 0:
                raise BuildError('%s does not apply to Nova %s (no fuzz '
                                 'allowed):\n%s' % (
                                     where, series.reference.name,
                                     proc.stderr.strip()))
        for path, content in patch.shared.items():
            target = os.path.join(tree, path)
            if os.path.lexists(target):
                raise BuildError('Nova %s already has %s, which '
                                 'patches-src/shared/%s/%s adds'
                                 % (series.reference.name, path,
                                    patch.number, path))
            _write_file(target, content)
        if patch.shared:
            _git(['add', '-f', '--'] + list(patch.shared), tree, env)
        message = os.path.join(home, 'message')
        _write_file(message, patch.message)
        _git(['commit', '-q', '--no-verify', '--cleanup=verbatim',
              '--allow-empty', '-F', message], tree, env)
    return rejected


def make(series, out, work, git_dir=None):
    """Write the patch files and the series file of ``series`` into out.

    Returns their names, in series order.
    """
    tree = reference_tree(series.reference, work, git_dir)
    commit_series(series, tree, work)
    env = _git_env(work)
    first = series.patches[0].number
    proc = _git(FORMAT_PATCH + ['--start-number=%d' % int(first), '-o', out,
                                '%s..HEAD' % BASE_BRANCH], tree, env)
    files = [os.path.basename(line) for line in proc.stdout.splitlines()
             if line.strip()]
    if len(files) != len(series.patches):
        raise BuildError('git format-patch wrote %d files for the %d '
                         'patches of %s' % (len(files), len(series.patches),
                                            series.name))
    for name in files:
        with open(os.path.join(out, name), 'rb') as handle:
            if b'\nGIT binary patch\n' in handle.read():
                raise BuildError('%s: %s holds a binary diff; the series '
                                 'are text only' % (series.name, name))
    _write_file(os.path.join(out, 'series'), '\n'.join(files) + '\n')
    return files + ['series']


def _committed(name, patches_dir):
    directory = os.path.join(patches_dir, name)
    if not os.path.isdir(directory):
        return {}
    found = {}
    for file_name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, file_name), 'rb') as handle:
            found[file_name] = handle.read()
    return found


def _made(out):
    found = {}
    for file_name in sorted(os.listdir(out)):
        with open(os.path.join(out, file_name), 'rb') as handle:
            found[file_name] = handle.read()
    return found


def compare(name, made, committed):
    """[(path, why, excerpt)] where committed differs from made."""
    problems = []
    prefix = 'nova_imgmeta/patches/%s/' % name
    for file_name in sorted(set(made) | set(committed)):
        if file_name not in committed:
            problems.append((prefix + file_name, 'missing', ''))
        elif file_name not in made:
            problems.append((prefix + file_name,
                             'not made from patches-src any more', ''))
        elif made[file_name] != committed[file_name]:
            diff = difflib.unified_diff(
                committed[file_name].decode('utf-8', 'replace').splitlines(),
                made[file_name].decode('utf-8', 'replace').splitlines(),
                'committed', 'made from patches-src', lineterm='', n=1)
            problems.append((prefix + file_name, 'out of date',
                             '\n'.join(list(diff)[:16])))
    return problems


def _new_file_contents(patch_file):
    """{path: content} of the files a format-patch file creates."""
    contents = {}
    for section in patch_file.sections:
        if not section.created:
            continue
        lines = section.text.decode('utf-8').split('\n')
        start = next(number for number, line in enumerate(lines)
                     if line.startswith('@@ '))
        body = []
        for line in lines[start + 1:]:
            if line.startswith('+'):
                body.append(line[1:] + '\n')
            elif line.startswith('\\') and body:
                body[-1] = body[-1][:-1]
        contents[section.path] = ''.join(body)
    return contents


def _message(header):
    """The commit message in a format-patch header."""
    text = header.decode('utf-8')
    match = re.search(r'^Subject: (?:\[PATCH[^\]]*\] )?(.*(?:\n .*)*)\n\n',
                      text, re.M)
    if not match:
        return None
    subject = match.group(1).replace('\n ', ' ')
    body = text[match.end():].split('\n---\n', 1)[0]
    return (subject + '\n\n' + body + '\n') if body.strip() else \
        subject + '\n'


def offline_problems(series, patches_dir):
    """[(path, why, excerpt)]: what is checked without Nova's tree.

    The committed patches must carry each patch's message and exactly the
    shared files it adds (so that a change to patches-src/shared/ that was
    not propagated is caught even where a series cannot be made).
    """
    directory = os.path.join(patches_dir, series.name)
    prefix = 'nova_imgmeta/patches/%s/' % series.name
    if not os.path.isdir(directory):
        return [(prefix, 'missing', '')]
    try:
        loaded = patching.load_series(series.name, patches_dir)
    except patching.PatchError as exc:
        return [(prefix + 'series', str(exc), '')]
    by_number = dict((os.path.basename(patch.path)[:4], patch)
                     for patch in loaded.files)
    problems = []
    for patch in series.patches:
        committed = by_number.pop(patch.number, None)
        if committed is None:
            problems.append((prefix + patch.number + '-*.patch', 'missing',
                             ''))
            continue
        path = os.path.relpath(committed.path, os.path.dirname(directory))
        if _message(committed.header) != patch.message:
            problems.append(('nova_imgmeta/patches/' + path,
                             'its commit message is not patches-src/%s/%s'
                             '.msg' % (series.name, patch.number), ''))
        added = _new_file_contents(committed)
        for shared_path, content in patch.shared.items():
            if added.get(shared_path) != content:
                problems.append(('nova_imgmeta/patches/' + path,
                                 'does not add patches-src/shared/%s/%s as '
                                 'rendered for %s' % (patch.number,
                                                      shared_path,
                                                      series.name), ''))
    for number in sorted(by_number):
        problems.append((prefix + os.path.basename(by_number[number].path),
                         'no patch %s in patches-src/%s' % (number,
                                                            series.name),
                         ''))
    return problems


def _selected(names, sources=None):
    available = series_sources.names(sources)
    for name in names:
        if name not in available:
            raise BuildError('no sources for series %r (patches-src/ has %s)'
                             % (name, ', '.join(available)))
    return names or available


def stale(names=(), patches_dir=None, git_dir=None, log=print,
          sources=None):
    """([(path, why, excerpt)], [skipped series]) for the series."""
    patches_dir = patches_dir or PATCHES_DIR
    problems = [(None, message, '') for message in
                series_sources.consistency_problems(sources, patches_dir)]
    skipped = []
    for name in _selected(list(names), sources):
        series = series_sources.load(name, sources, patches_dir)
        problems += offline_problems(series, patches_dir)
        work = tempfile.mkdtemp(prefix='series-build-')
        try:
            out = os.path.join(work, 'out')
            os.mkdir(out)
            try:
                make(series, out, work, git_dir)
            except Unavailable as exc:
                skipped.append(name)
                log('WARNING: SKIPPED %s: %s. Only its messages and the '
                    'files it adds were checked; export %s=<a clone of '
                    'openstack/nova> to make it.'
                    % (name, exc, GIT_DIR_VARIABLE))
                continue
            problems += compare(name, _made(out),
                                _committed(name, patches_dir))
            log('%s: made on Nova %s' % (name, series.reference.name))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return problems, skipped


def write(names=(), patches_dir=None, git_dir=None, log=print,
          sources=None):
    """Remake the series; returns the series skipped (no reference)."""
    patches_dir = patches_dir or PATCHES_DIR
    problems = series_sources.consistency_problems(sources, patches_dir)
    if problems:
        raise BuildError('\n'.join(problems))
    skipped = []
    for name in _selected(list(names), sources):
        series = series_sources.load(name, sources, patches_dir)
        work = tempfile.mkdtemp(prefix='series-build-')
        try:
            out = os.path.join(work, 'out')
            os.mkdir(out)
            try:
                files = make(series, out, work, git_dir)
            except Unavailable as exc:
                skipped.append(name)
                log('WARNING: SKIPPED %s: %s; its committed patches are '
                    'kept as they are.' % (name, exc))
                continue
            target = os.path.join(patches_dir, name)
            if not os.path.isdir(target):
                os.makedirs(target)
            for file_name in sorted(set(os.listdir(target)) - set(files)):
                os.remove(os.path.join(target, file_name))
                log('removed nova_imgmeta/patches/%s/%s'
                    % (name, file_name))
            for file_name in files:
                shutil.copyfile(os.path.join(out, file_name),
                                os.path.join(target, file_name))
            log('%s: %d patch(es) made on Nova %s'
                % (name, len(files) - 1, series.reference.name))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return skipped


def make_tree(name, dest, git_dir=None, sources=None, patches_dir=None,
              reject=False):
    """The reference tree of ``name`` with one commit per patch, in dest.

    Returns (series, rejected hunk files): see commit_series().
    """
    if os.path.exists(dest) and os.listdir(dest):
        raise BuildError('%s exists and is not empty' % dest)
    series = series_sources.load(name, sources, patches_dir)
    work = tempfile.mkdtemp(prefix='series-tree-')
    try:
        tree = reference_tree(series.reference, work, git_dir)
        rejected = commit_series(series, tree, work, reject)
        if os.path.isdir(dest):
            os.rmdir(dest)
        shutil.move(tree, dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return series, rejected


def refresh(name, tree, sources=None, patches_dir=None):
    """Write the commits of ``tree`` (from make_tree) back to patches-src.

    Returns the files written. The shared files must be exactly as
    patches-src/shared/ renders them for this series.
    """
    sources = sources or series_sources.SOURCES
    series = series_sources.load(name, sources, patches_dir)
    env = _git_env(tempfile.gettempdir())
    commits = _git(['rev-list', '--reverse', '%s..HEAD' % BASE_BRANCH],
                   tree, env).stdout.split()
    if len(commits) != len(series.patches):
        raise BuildError('%s has %d commits on top of the branch %s; series '
                         '%s has %d patches (%s)' % (
                             tree, len(commits), BASE_BRANCH, name,
                             len(series.patches), ', '.join(
                                 p.number for p in series.patches)))
    written = []
    directory = os.path.join(sources, name)
    for commit, patch in zip(commits, series.patches):
        for path, content in patch.shared.items():
            have = _git(['show', '%s:%s' % (commit, path)], tree, env,
                        check=False)
            if have.returncode != 0 or have.stdout != content:
                raise BuildError(
                    'commit %s changes %s: edit patches-src/shared/%s/%s '
                    'instead (and the variables of the series), then run '
                    'refresh again on a tree without that change'
                    % (commit[:10], path, patch.number, path))
        message = _git(['log', '-1', '--format=%B', commit], tree,
                       env).stdout
        message = message.rstrip('\n') + '\n'
        excludes = [':(exclude)%s' % path for path in patch.shared]
        diff = _git(['diff', '--no-renames', '--no-ext-diff',
                     '--diff-algorithm=myers', commit + '^', commit,
                     '--', '.'] + excludes, tree, env).stdout
        diff = re.sub(r'(?m)^index [0-9a-f]+\.\.[0-9a-f]+( \d+)?\n', '',
                      diff)
        for suffix, content in (('.msg', message), ('.diff', diff)):
            path = os.path.join(directory, patch.number + suffix)
            _write_file(path, content)
            written.append(path)
    return written


def report(problems):
    for path, why, excerpt in problems:
        print('%s: %s' % (path, why) if path else why)
        if excerpt:
            print('    ' + excerpt.replace('\n', '\n    '))


def main(argv=None):
    parser = argparse.ArgumentParser(
        description='Make nova_imgmeta/patches/ from patches-src/.')
    commands = parser.add_subparsers(dest='command')
    for command in ('build', 'check'):
        sub = commands.add_parser(command)
        sub.add_argument('series', nargs='*')
    for command in ('tree', 'refresh'):
        sub = commands.add_parser(command)
        sub.add_argument('series')
        sub.add_argument('dir')
        if command == 'tree':
            sub.add_argument('--reject', action='store_true',
                             help='apply what applies of a call-site diff '
                                  'and keep the rest as .rej files (a new '
                                  'line started from a copy of another)')
    args = parser.parse_args(argv)
    if not args.command:
        parser.error('give a command: build, check, tree, refresh')
    try:
        if args.command == 'build':
            write(args.series)
        elif args.command == 'check':
            problems, skipped = stale(args.series)
            report(problems)
            if problems:
                print('The patch series are stale: run tools/regen (or '
                      'tools/packaging/series_build.py build) and commit.')
                return 1
            print('nova_imgmeta/patches: every series is what patches-src '
                  'makes%s' % (' (skipped: %s)' % ', '.join(skipped)
                               if skipped else ''))
        elif args.command == 'tree':
            series, rejected = make_tree(args.series, args.dir,
                                         reject=args.reject)
            print('%s: Nova %s on branch %s, one commit per patch on top '
                  '(branch %s: %s).' % (
                      args.dir, series.reference.name, BASE_BRANCH,
                      PATCHES_BRANCH,
                      ', '.join(p.number for p in series.patches)))
            if rejected:
                print('Hunks that did not apply, to carry over by hand '
                      '(git rebase -i %s, "edit" each commit):\n  %s'
                      % (BASE_BRANCH, '\n  '.join(rejected)))
            print('Edit the call sites there, then: %s refresh %s %s'
                  % (os.path.relpath(__file__), args.series, args.dir))
        else:
            for path in refresh(args.series, args.dir):
                print('wrote %s' % os.path.relpath(path))
    except (BuildError, series_sources.SourceError,
            series_template.TemplateError, patching.PatchError) as exc:
        print('series_build: %s' % exc, file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
