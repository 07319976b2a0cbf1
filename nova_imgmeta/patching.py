"""Apply, check and revert the Nova patch series shipped with this package.

The series live in ``nova_imgmeta/patches/<series>/`` (git format-patch
files plus a quilt ``series`` file); ``nova_imgmeta/patches/MAP`` maps Nova
release versions to a series. Everything here runs the ``patch`` program
(``patch -p1 -F0``: no fuzz, exactly as quilt and dpkg-source do) through
subprocess, first on a scratch copy of the files the series touches, so that
a series that does not apply as a whole never changes a file of the tree.

Works on Python 2.7, 3.6 and later; imports nothing from Nova.
"""

from __future__ import print_function

import errno
import os
import re
import shutil
import subprocess
import sys
import tempfile

__all__ = [
    'PatchError', 'UnknownVersion', 'NovaTree', 'Series', 'State',
    'PATCHES_DIR', 'load_map', 'select_series', 'load_series',
    'find_nova_tree', 'tree_from_path', 'installed_tree', 'parse_version',
    'status', 'check', 'apply', 'revert',
]

PATCHES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           'patches')
MAP_NAME = 'MAP'

# States reported by status()
APPLIED = 'applied'
NOT_APPLIED = 'not applied'
PARTIAL = 'partially applied'
MISMATCH = 'does not match'

_RELEASE_RE = re.compile(r'^(\d+)\.(\d+)\.(\d+)$')


class PatchError(Exception):
    """A problem the user must solve; the message says what."""


class UnknownVersion(PatchError):
    """No series serves this Nova version."""


def parse_version(text):
    """'17.0.13' -> (17, 0, 13); anything else (dev, rc, ...) -> None."""
    match = _RELEASE_RE.match((text or '').strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


# --------------------------------------------------------------------------
# Map and series

def load_map(patches_dir=None):
    """Return the rules of MAP as a list of (first, last, series)."""
    patches_dir = patches_dir or PATCHES_DIR
    path = os.path.join(patches_dir, MAP_NAME)
    rules = []
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError) as exc:
        raise PatchError('cannot read the series map %s: %s' % (path, exc))
    for number, line in enumerate(lines, 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        first = parse_version(fields[0]) if fields else None
        last = parse_version(fields[1]) if len(fields) > 1 else None
        if len(fields) != 3 or first is None or last is None or \
                first > last:
            raise PatchError('%s:%d: expected "FIRST LAST SERIES" with '
                             'release versions, got %r' % (path, number,
                                                           line))
        rules.append((first, last, fields[2]))
    return rules


def select_series(version, patches_dir=None):
    """Name of the series for a Nova version string, or UnknownVersion."""
    rules = load_map(patches_dir)
    parsed = parse_version(version)
    covered = ', '.join(
        '%s to %s (%s)' % ('.'.join(map(str, first)),
                           '.'.join(map(str, last)), series)
        for first, last, series in rules)
    if parsed is None:
        raise UnknownVersion(
            'Nova version %r is not a release version; the series are '
            'verified only for the releases %s. Use --series to choose one '
            'anyway.' % (version, covered))
    for first, last, series in rules:
        if first <= parsed <= last:
            return series
    raise UnknownVersion(
        'no patch series for Nova %s: the series are verified only for the '
        'releases %s. Use --series to choose one anyway.'
        % (version, covered))


class Series(object):
    """An ordered list of patch files in one directory."""

    def __init__(self, name, directory, patches):
        self.name = name
        self.directory = directory
        self.patches = patches      # absolute paths, in order

    def __repr__(self):
        return 'Series(%r, %d patches)' % (self.name, len(self.patches))

    def touched_files(self):
        """Paths (relative to the -p1 root) that the series touches."""
        paths = []
        for patch in self.patches:
            for path in patch_paths(patch):
                if path not in paths:
                    paths.append(path)
        return paths


def load_series(name, patches_dir=None):
    patches_dir = patches_dir or PATCHES_DIR
    directory = os.path.join(patches_dir, name)
    series_file = os.path.join(directory, 'series')
    if os.sep in name or name.startswith('.') or \
            not os.path.isfile(series_file):
        available = sorted(
            entry for entry in _listdir(patches_dir)
            if os.path.isfile(os.path.join(patches_dir, entry, 'series')))
        raise PatchError('no patch series %r (available: %s)'
                         % (name, ', '.join(available) or 'none'))
    patches = []
    with open(series_file) as handle:
        for line in handle.read().splitlines():
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            if fields[1:] and fields[1:] != ['-p1']:
                raise PatchError('%s: only -p1 patches are supported: %r'
                                 % (series_file, line))
            path = os.path.join(directory, fields[0])
            if not os.path.isfile(path):
                raise PatchError('%s lists %s, which does not exist'
                                 % (series_file, fields[0]))
            patches.append(path)
    if not patches:
        raise PatchError('%s lists no patch' % series_file)
    return Series(name, directory, patches)


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def patch_paths(patch_file):
    """Paths a -p1 patch touches, from its ---/+++ lines (diff part only)."""
    paths = []
    in_diff = False
    with open(patch_file) as handle:
        for line in handle:
            if line.startswith('diff --git '):
                in_diff = True
                continue
            if not in_diff:
                continue
            if line.startswith('--- ') or line.startswith('+++ '):
                name = line[4:].rstrip('\n').split('\t')[0]
                if name == '/dev/null':
                    continue
                parts = name.split('/', 1)
                if len(parts) != 2 or not parts[1]:
                    raise PatchError('%s: unexpected path %r'
                                     % (patch_file, name))
                path = parts[1]
                if path.startswith('/') or '..' in path.split('/'):
                    raise PatchError('%s: unsafe path %r' % (patch_file,
                                                             name))
                if path not in paths:
                    paths.append(path)
    return paths


# --------------------------------------------------------------------------
# Finding Nova

class NovaTree(object):
    """Where Nova is: ``root`` is the -p1 root (it holds ``nova/``)."""

    def __init__(self, root, version, origin):
        self.root = root
        self.version = version
        self.origin = origin        # how the version was found

    def __repr__(self):
        return 'NovaTree(%r, %r, %r)' % (self.root, self.version, self.origin)


def _read_pkg_info_version(path):
    try:
        with open(path) as handle:
            for line in handle:
                if line.startswith('Version:'):
                    return line.split(':', 1)[1].strip()
    except (IOError, OSError):
        pass
    return None


def _git_version(root):
    if not os.path.exists(os.path.join(root, '.git')):
        return None
    try:
        proc = subprocess.Popen(
            ['git', '-C', root, 'describe', '--tags', '--exact-match'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, _err = proc.communicate()
    except OSError:
        return None
    if proc.returncode != 0:
        # Not on a tag: report what describe says so the refusal is clear.
        try:
            proc = subprocess.Popen(['git', '-C', root, 'describe', '--tags'],
                                    stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            out, _err = proc.communicate()
        except OSError:
            return None
        if proc.returncode != 0:
            return None
    return out.decode('utf-8', 'replace').strip() or None


def tree_from_path(path):
    """A Nova source tree (or any directory holding ``nova/``)."""
    root = os.path.abspath(path)
    if not os.path.isfile(os.path.join(root, 'nova', 'compute', 'api.py')):
        raise PatchError('%s is not a Nova tree: nova/compute/api.py is '
                         'missing' % root)
    version = _read_pkg_info_version(os.path.join(root, 'PKG-INFO'))
    if version:
        return NovaTree(root, version, 'PKG-INFO')
    for entry in sorted(_listdir(root)):
        if entry.endswith('.egg-info') and entry.startswith('nova'):
            version = _read_pkg_info_version(
                os.path.join(root, entry, 'PKG-INFO'))
            if version:
                return NovaTree(root, version, entry + '/PKG-INFO')
    version = _git_version(root)
    if version:
        return NovaTree(root, version, 'git describe')
    version = os.environ.get('PBR_VERSION')
    if version:
        return NovaTree(root, version, 'PBR_VERSION')
    return NovaTree(root, None, None)


def _find_nova_package():
    """Directory of the importable ``nova`` package, without importing it."""
    try:
        import importlib.util  # noqa
        spec = importlib.util.find_spec('nova')
        if spec is None or not spec.submodule_search_locations:
            return None
        return list(spec.submodule_search_locations)[0]
    except ImportError:
        import imp
        try:
            _handle, pathname, _desc = imp.find_module('nova')
        except ImportError:
            return None
        return pathname


def _installed_version():
    try:
        from importlib import metadata  # Python 3.8+
    except ImportError:
        metadata = None
    if metadata is not None:
        try:
            return metadata.version('nova')
        except metadata.PackageNotFoundError:
            return None
    try:
        import pkg_resources
    except ImportError:
        return None
    try:
        return pkg_resources.get_distribution('nova').version
    except pkg_resources.DistributionNotFound:
        return None


def installed_tree():
    """The nova package installed for this Python."""
    package = _find_nova_package()
    if not package:
        raise PatchError('no nova package is importable by %s; pass '
                         '--nova-tree PATH' % sys.executable)
    root = os.path.dirname(os.path.abspath(package))
    if not os.path.isfile(os.path.join(root, 'nova', 'compute', 'api.py')):
        raise PatchError('%s does not look like Nova (no compute/api.py)'
                         % package)
    version = _installed_version()
    if version:
        return NovaTree(root, version, 'installed distribution')
    tree = tree_from_path(root)
    return tree


def find_nova_tree(path=None):
    if path:
        return tree_from_path(path)
    return installed_tree()


def resolve(tree, series_name=None, patches_dir=None):
    """The Series to use for a NovaTree (series_name overrides the map)."""
    if series_name:
        return load_series(series_name, patches_dir)
    if not tree.version:
        raise UnknownVersion(
            'cannot tell the Nova version of %s (no PKG-INFO, no egg-info, '
            'no git tag); use --series to choose a series' % tree.root)
    return load_series(select_series(tree.version, patches_dir), patches_dir)


# --------------------------------------------------------------------------
# Running patch

def _patch_program():
    return os.environ.get('NOVA_IMGMETA_PATCH', 'patch')


def _run_patch(root, patch_file, reverse=False, dry_run=False):
    """Run patch -p1 -F0 in root; return (ok, output)."""
    cmd = [_patch_program(), '-p1', '-F0', '--forward', '--batch',
           '--no-backup-if-mismatch', '-r', '-', '-d', root, '-i',
           patch_file]
    if reverse:
        cmd.insert(1, '-R')
    if dry_run:
        cmd.append('--dry-run')
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise PatchError('the "patch" program is not installed (for '
                             'example: apt-get install patch, or dnf '
                             'install patch)')
        raise
    out, _err = proc.communicate()
    return proc.returncode == 0, out.decode('utf-8', 'replace')


class _Scratch(object):
    """A temporary copy of the files a series touches."""

    def __init__(self, tree_root, paths):
        self.root = tempfile.mkdtemp(prefix='nova-imgmeta-patch-')
        for path in paths:
            source = os.path.join(tree_root, path)
            if os.path.isfile(source):
                target = os.path.join(self.root, path)
                parent = os.path.dirname(target)
                if not os.path.isdir(parent):
                    os.makedirs(parent)
                shutil.copy2(source, target)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        shutil.rmtree(self.root, ignore_errors=True)


def _try_sequence(tree_root, paths, steps):
    """Run steps [(patch_file, reverse)] in order on a scratch copy.

    Returns (ok, message of the first failure).
    """
    with _Scratch(tree_root, paths) as scratch:
        for patch_file, reverse in steps:
            ok, out = _run_patch(scratch.root, patch_file, reverse=reverse)
            if not ok:
                return False, '%s%s failed:\n%s' % (
                    'reverting ' if reverse else '',
                    os.path.basename(patch_file), out.rstrip())
    return True, ''


class State(object):
    def __init__(self, state, applied_count, total, detail=''):
        self.state = state
        self.applied_count = applied_count     # first N patches applied
        self.total = total
        self.detail = detail

    def __repr__(self):
        return 'State(%r, %d/%d)' % (self.state, self.applied_count,
                                     self.total)


def status(tree, series):
    """Find out how much of the series the tree carries."""
    paths = series.touched_files()
    patches = series.patches
    total = len(patches)
    forward_ok, forward_msg = _try_sequence(
        tree.root, paths, [(p, False) for p in patches])
    if forward_ok:
        return State(NOT_APPLIED, 0, total)
    # k = number of leading patches applied, from all of them down to one
    for k in range(total, 0, -1):
        steps = [(p, True) for p in reversed(patches[:k])]
        steps += [(p, False) for p in patches]
        ok, _msg = _try_sequence(tree.root, paths, steps)
        if ok:
            if k == total:
                return State(APPLIED, total, total)
            return State(PARTIAL, k, total)
    return State(MISMATCH, 0, total, forward_msg)


def _describe(tree, series):
    return 'Nova %s at %s, series %s' % (tree.version or '(unknown version)',
                                         tree.root, series.name)


def check(tree, series, out=None):
    """Report whether apply would succeed; returns an exit code."""
    out = out or sys.stdout
    state = status(tree, series)
    if state.state == APPLIED:
        print('%s: already applied' % _describe(tree, series), file=out)
        return 0
    if state.state == NOT_APPLIED:
        print('%s: applies cleanly (%d patches, no fuzz)'
              % (_describe(tree, series), state.total), file=out)
        return 0
    if state.state == PARTIAL:
        print('%s: first %d of %d patches applied; apply completes it'
              % (_describe(tree, series), state.applied_count, state.total),
              file=out)
        return 0
    print('%s: the series does not apply and is not applied; no file '
          'would be changed.\n%s' % (_describe(tree, series), state.detail),
          file=out)
    return 1


def apply(tree, series, dry_run=False, out=None):
    out = out or sys.stdout
    state = status(tree, series)
    what = _describe(tree, series)
    if state.state == APPLIED:
        print('%s: already applied, nothing to do' % what, file=out)
        return 0
    if state.state == MISMATCH:
        print('%s: the series does not apply; no file was changed.\n%s'
              % (what, state.detail), file=out)
        return 1
    todo = series.patches[state.applied_count:]
    if dry_run:
        print('%s: would apply %s' % (what, ', '.join(
            os.path.basename(p) for p in todo)), file=out)
        return 0
    return _run_checked(tree, series, [(p, False) for p in todo], 'applied',
                        out)


def revert(tree, series, dry_run=False, out=None):
    out = out or sys.stdout
    state = status(tree, series)
    what = _describe(tree, series)
    if state.state == NOT_APPLIED:
        print('%s: not applied, nothing to revert' % what, file=out)
        return 0
    if state.state == MISMATCH:
        print('%s: the tree does not carry the series; no file was '
              'changed.\n%s' % (what, state.detail), file=out)
        return 1
    todo = list(reversed(series.patches[:state.applied_count]))
    if dry_run:
        print('%s: would revert %s' % (what, ', '.join(
            os.path.basename(p) for p in todo)), file=out)
        return 0
    return _run_checked(tree, series, [(p, True) for p in todo], 'reverted',
                        out)


def _run_checked(tree, series, steps, verb, out):
    what = _describe(tree, series)
    # The whole sequence was just checked by status() on a scratch copy;
    # check once more right before touching the tree, then run it.
    ok, msg = _try_sequence(tree.root, series.touched_files(), steps)
    if not ok:
        print('%s: %s; no file was changed' % (what, msg), file=out)
        return 1
    for patch_file, reverse in steps:
        ok, output = _run_patch(tree.root, patch_file, reverse=reverse)
        if not ok:
            # Should not happen after a successful check (the tree changed
            # meanwhile?): say exactly where the tree was left.
            print('%s: %s of %s failed after a successful check:\n%s'
                  % (what, 'reverting' if reverse else 'applying',
                     os.path.basename(patch_file), output), file=out)
            return 1
        print('%s %s' % ('reverted' if reverse else 'applied',
                         os.path.basename(patch_file)), file=out)
    print('%s: %s' % (what, verb), file=out)
    return 0
