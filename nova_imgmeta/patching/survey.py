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

"""How much of a series a tree carries, and what each touched file becomes.

Everything runs the ``patch`` program (``patch -p1 -F0``: no fuzz, as quilt
and dpkg-source apply a series) on a scratch copy of the files the series
touches, read once from the tree. The survey keeps the content of every
touched file as found, as it is without the series (pristine) and as it is
with the whole series (full): apply and revert then only write one of those
into the tree, without running ``patch`` again.
"""

import errno
import io
import os
import shutil
import subprocess
import tempfile

from nova_imgmeta.patching.errors import PatchError

__all__ = ['APPLIED', 'NOT_APPLIED', 'PARTIAL', 'MISMATCH', 'State',
           'Scratch', 'StepFailed', 'survey', 'read_files']

APPLIED = 'applied'
NOT_APPLIED = 'not applied'
PARTIAL = 'partially applied'
MISMATCH = 'does not match'


class State(object):
    """What the survey found.

    ``applied_count``: the first N patches of the series are in the tree.
    ``leftovers``: files the series creates, found in a tree that does not
    carry the patch creating them, with exactly the series' content (left
    behind by ``pip install --force-reinstall nova``, which only rewrites
    the files of its RECORD). ``conflicts``: such files with other content.
    ``original``/``pristine``/``full``: {path: bytes or None (absent)}.
    """

    def __init__(self, state, applied_count, total, detail='',
                 leftovers=(), conflicts=(), original=None, pristine=None,
                 full=None):
        self.state = state
        self.applied_count = applied_count
        self.total = total
        self.detail = detail
        self.leftovers = list(leftovers)
        self.conflicts = list(conflicts)
        self.original = original or {}
        self.pristine = pristine or {}
        self.full = full or {}

    def __repr__(self):
        return 'State(%r, %d/%d)' % (self.state, self.applied_count,
                                     self.total)


def read_files(root, paths):
    """{path: bytes, or None when absent} for paths under root."""
    files = {}
    for path in paths:
        full_path = os.path.join(root, path)
        try:
            with io.open(full_path, 'rb') as handle:
                files[path] = handle.read()
        except (IOError, OSError) as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise PatchError('cannot read %s: %s' % (full_path, exc))
            files[path] = None
    return files


def _patch_program():
    return os.environ.get('NOVA_IMGMETA_PATCH', 'patch')


class StepFailed(Exception):
    """A patch did not apply (or revert) with zero fuzz; says patch's words."""


class Scratch(object):
    """A temporary directory holding copies of some of the tree's files."""

    def __init__(self, files):
        self.root = tempfile.mkdtemp(prefix='nova-imgmeta-patch-')
        try:
            for path, data in files.items():
                if data is None:
                    continue
                target = os.path.join(self.root, path)
                if not os.path.isdir(os.path.dirname(target)):
                    os.makedirs(os.path.dirname(target))
                with io.open(target, 'wb') as handle:
                    handle.write(data)
        except BaseException:
            self.close()
            raise

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def run(self, patch, reverse=False, verbose=False):
        """Apply (or revert) a PatchFile; patch's output, or StepFailed.

        verbose: patch then says where every hunk went ("Hunk #2
        succeeded at 3270"), not only the ones it moved.
        """
        cmd = [_patch_program(), '-p1', '-F0', '--forward', '--batch',
               '--no-backup-if-mismatch', '-r', '-', '-d', self.root]
        if reverse:
            cmd.insert(1, '-R')
        if verbose:
            cmd.insert(1, '--verbose')
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise PatchError('the "patch" program is not installed (for '
                                 'example: apt-get install patch, or dnf '
                                 'install patch)')
            raise
        out, _err = proc.communicate(patch.text())
        out = out.decode('utf-8', 'replace')
        if proc.returncode != 0:
            raise StepFailed('%s%s does not apply:\n%s' % (
                'reverting ' if reverse else '', patch.name, out.rstrip()))
        return out

    def read(self, paths):
        return read_files(self.root, paths)


def _attempt(series, original, applied_count):
    """Try "the first applied_count patches are in the tree".

    Returns a State, or raises StepFailed.
    """
    paths = series.touched_files()
    created = series.created_by()
    # Files that patches not yet applied would create: kept out of the
    # scratch copy, compared with what the series makes of them below.
    candidates = sorted(path for path, index in created.items()
                        if index >= applied_count and
                        original.get(path) is not None)
    scratch = Scratch(dict((path, data) for path, data in original.items()
                           if path not in candidates))
    try:
        for patch in reversed(series.files[:applied_count]):
            scratch.run(patch, reverse=True)
        pristine = scratch.read(paths)
        for patch in series.files:
            scratch.run(patch)
        full = scratch.read(paths)
    finally:
        scratch.close()
    leftovers = [path for path in candidates
                 if full.get(path) == original[path]]
    conflicts = [path for path in candidates if path not in leftovers]
    total = len(series.files)
    if conflicts:
        state, detail = MISMATCH, _conflict_detail(series, conflicts)
    elif applied_count == total:
        state, detail = APPLIED, ''
    elif applied_count == 0:
        state, detail = NOT_APPLIED, ''
    else:
        state, detail = PARTIAL, ''
    return State(state, applied_count, total, detail, leftovers, conflicts,
                 original, pristine, full)


def _conflict_detail(series, conflicts):
    return '\n'.join(
        '%s already exists and differs from the file the series creates '
        '(a local change, or the leftover of another version of the '
        'series): compare it with %s, then move it away and retry'
        % (path, ', '.join(patch.name for patch in series.files
                           if path in patch.paths()))
        for path in conflicts)


def survey(tree, series):
    """Find out how much of the series the tree carries (a State)."""
    paths = series.touched_files()
    original = read_files(tree.root, paths)
    total = len(series.files)
    created = series.created_by()
    missing = [path for path in paths
               if path not in created and original[path] is None]
    if missing:
        return State(MISMATCH, 0, total, '\n'.join(
            '%s is missing from the tree (the series changes it)' % path
            for path in missing), original=original)
    first_failure = None
    # Nothing applied (the usual case), all applied, then the partial ones.
    for applied_count in [0] + list(range(total, 0, -1)):
        try:
            return _attempt(series, original, applied_count)
        except StepFailed as exc:
            if first_failure is None:
                first_failure = str(exc)
    return State(MISMATCH, 0, total, first_failure, original=original)
