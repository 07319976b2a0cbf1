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

"""The patch series shipped in ``nova_imgmeta/patches`` and the MAP that
says which Nova release gets which series.

A series is a directory holding ``git format-patch`` files and a quilt
``series`` file. The patch files are parsed here into per-file sections, so
that the series can be narrowed (a Nova installed without ``nova/tests``)
and so that the files it creates are known before anything runs.
"""

import io
import os
import re

from nova_imgmeta.patching.errors import PatchError
from nova_imgmeta.patching.errors import UnknownVersion

__all__ = [
    'PATCHES_DIR', 'parse_version', 'load_map', 'select_series',
    'series_names', 'load_series', 'Series', 'PatchFile', 'Section',
]

PATCHES_DIR = os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'patches')
MAP_NAME = 'MAP'

_RELEASE_RE = re.compile(r'^(\d+)\.(\d+)\.(\d+)$')
_DEFAULT_MODE = 0o644


def parse_version(text):
    """'17.0.13' -> (17, 0, 13); anything else (dev, rc, ...) -> None."""
    match = _RELEASE_RE.match((text or '').strip())
    if not match:
        return None
    return tuple(int(part) for part in match.groups())


def _dotted(version):
    return '.'.join(str(part) for part in version)


# --------------------------------------------------------------------------
# MAP

def load_map(patches_dir=None):
    """Return the rules of MAP as a list of (first, last, series)."""
    path = os.path.join(patches_dir or PATCHES_DIR, MAP_NAME)
    try:
        with open(path) as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError) as exc:
        raise PatchError('cannot read the series map %s: %s' % (path, exc))
    rules = []
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
                             'release versions, got %r'
                             % (path, number, line))
        rules.append((first, last, fields[2]))
    return rules


def series_names(patches_dir=None):
    """The series MAP names, in MAP order, each once."""
    names = []
    for _first, _last, name in load_map(patches_dir):
        if name not in names:
            names.append(name)
    return names


def select_series(version, patches_dir=None):
    """Name of the series for a Nova version string, or UnknownVersion."""
    rules = load_map(patches_dir)
    covered = ', '.join('%s to %s (%s)' % (_dotted(first), _dotted(last),
                                           name)
                        for first, last, name in rules)
    parsed = parse_version(version)
    if parsed is None:
        raise UnknownVersion(
            'Nova version %r is not a release version; the series are '
            'verified only for the releases %s. Use --series to choose one '
            'anyway.' % (version, covered))
    for first, last, name in rules:
        if first <= parsed <= last:
            return name
    raise UnknownVersion(
        'no patch series for Nova %s: the series are verified only for the '
        'releases %s. Use --series to choose one anyway.'
        % (version, covered))


# --------------------------------------------------------------------------
# Patch files

class Section(object):
    """The part of a patch file that changes one file."""

    def __init__(self, path, text, created, deleted, mode):
        self.path = path          # relative to the -p1 root
        self.text = text          # bytes, 'diff --git' line included
        self.created = created    # the diff creates the file
        self.deleted = deleted    # the diff removes the file
        self.mode = mode          # mode of a created file

    def __repr__(self):
        return 'Section(%r%s)' % (self.path, ', created' if self.created
                                  else ', deleted' if self.deleted else '')


class PatchFile(object):
    """One patch of a series: its header and its per-file sections."""

    def __init__(self, path, header, sections):
        self.path = path
        self.name = os.path.basename(path)
        self.header = header      # bytes before the first section
        self.sections = sections

    @classmethod
    def read(cls, path):
        with io.open(path, 'rb') as handle:
            data = handle.read()
        return cls.parse(path, data)

    @classmethod
    def parse(cls, path, data):
        chunks = [[]]                 # the header, then one per file
        for line in data.splitlines(True):
            if line.startswith(b'diff --git '):
                chunks.append([])
            chunks[-1].append(line)
        header = b''.join(chunks[0])
        sections = [_parse_section(path, b''.join(lines))
                    for lines in chunks[1:]]
        if not sections:
            raise PatchError('%s holds no diff' % path)
        return cls(path, header, sections)

    def text(self):
        return self.header + b''.join(s.text for s in self.sections)

    def paths(self):
        return [section.path for section in self.sections]

    def narrowed(self, keep):
        """A copy holding only the sections whose path keep() accepts."""
        return PatchFile(self.path, self.header,
                         [s for s in self.sections if keep(s.path)])

    def __repr__(self):
        return 'PatchFile(%r)' % self.name


def _parse_section(patch_path, body):
    names = []
    created = deleted = False
    mode = _DEFAULT_MODE
    for raw in body.split(b'\n'):
        line = raw.decode('utf-8', 'replace')
        if line.startswith('@@'):
            break
        if line.startswith('new file mode '):
            created = True
            mode = int(line.split()[-1], 8) & 0o7777
        elif line.startswith('deleted file mode '):
            deleted = True
        elif line.startswith('--- ') or line.startswith('+++ '):
            name = line[4:].split('\t')[0].rstrip()
            if name == '/dev/null':
                if line.startswith('--- '):
                    created = True
                else:
                    deleted = True
                continue
            names.append(_safe_path(patch_path, name))
    if not names or len(set(names)) != 1:
        raise PatchError('%s: a diff section without one clear path (%s); '
                         'the series must be made with git format-patch '
                         '--no-renames' % (patch_path, ', '.join(names) or
                                           'none'))
    return Section(names[0], body, created, deleted, mode)


def _safe_path(patch_path, name):
    parts = name.split('/', 1)
    if len(parts) != 2 or not parts[1]:
        raise PatchError('%s: unexpected path %r' % (patch_path, name))
    path = parts[1]
    if path.startswith('/') or '..' in path.split('/'):
        raise PatchError('%s: unsafe path %r' % (patch_path, name))
    return path


# --------------------------------------------------------------------------
# Series

class Series(object):
    """An ordered list of patch files, possibly narrowed to some paths.

    ``skipped`` lists the paths a narrowed series leaves out.
    """

    def __init__(self, name, directory, files, skipped=()):
        self.name = name
        self.directory = directory
        self.files = list(files)
        self.skipped = list(skipped)

    def __repr__(self):
        return 'Series(%r, %d patches)' % (self.name, len(self.files))

    @property
    def patches(self):
        """Absolute paths of the patch files, in order."""
        return [patch.path for patch in self.files]

    def touched_files(self):
        """Paths (relative to the -p1 root) that the series touches."""
        paths = []
        for patch in self.files:
            for path in patch.paths():
                if path not in paths:
                    paths.append(path)
        return paths

    def created_by(self):
        """{path: index of the patch creating it} for files it creates."""
        first = {}
        for index, patch in enumerate(self.files):
            for section in patch.sections:
                first.setdefault(section.path, (index, section))
        return dict((path, index) for path, (index, section)
                    in first.items() if section.created)

    def mode_of(self, path):
        """Mode for a file the series creates."""
        for patch in self.files:
            for section in patch.sections:
                if section.path == path and section.created:
                    return section.mode
        return _DEFAULT_MODE

    def without(self, prefix):
        """The series without the sections under prefix (a directory)."""
        keep = (lambda path: not path.startswith(prefix))
        files = [patch.narrowed(keep) for patch in self.files]
        skipped = [path for path in self.touched_files() if not keep(path)]
        return Series(self.name, self.directory,
                      [patch for patch in files if patch.sections],
                      self.skipped + skipped)


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
    files = []
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
            files.append(PatchFile.read(path))
    if not files:
        raise PatchError('%s lists no patch' % series_file)
    return Series(name, directory, files)


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []
