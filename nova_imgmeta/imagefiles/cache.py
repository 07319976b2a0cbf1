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

"""Nova's image cache on a compute node (libvirt driver, Pike/Queens).

An image is downloaded once to ``<instances_path>/_base/<sha1 of the image
id>`` (``nova.virt.libvirt.imagecache.get_cache_fname``); older qcow2
set-ups also keep resized copies ``<that name>_<size in GiB>``, and a
download in progress leaves ``.part`` / ``.converted`` files. Instance disks
(``<instances_path>/<instance>/disk*``) are qcow2 overlays whose header
names the base file they need: reading those headers tells which cached
files are still in use.
"""

import errno
import hashlib
import os
import re

from nova_imgmeta.imagefiles import backing as backing_names
from nova_imgmeta.imagefiles import qcow2

__all__ = ['DEFAULT_INSTANCES_PATH', 'cache_files', 'cache_name',
           'find_users']

DEFAULT_INSTANCES_PATH = '/var/lib/nova/instances'
BASE_DIR = '_base'
_NOT_INSTANCES = frozenset([BASE_DIR, 'locks', 'snapshots',
                            'compute_nodes', 'lost+found'])


def cache_name(image_id):
    """sha1 hex digest of the image id (text): the cached base file's
    name, as ``nova.virt.libvirt.imagecache.get_cache_fname`` makes it.
    """
    return hashlib.sha1(image_id.encode('utf-8')).hexdigest()  # nosec B324


def classify(entry, name):
    """What a _base entry is for cache name ``name``, or None."""
    if entry == name:
        return 'base'
    if not entry.startswith(name):
        return None
    rest = entry[len(name):]
    if re.match(r'^_\d+$', rest):
        return 'resized'
    if rest in ('.part', '.converted'):
        return 'partial download'
    if rest == '.info':
        return 'info'
    return None


class CacheFile(object):

    def __init__(self, path, kind, size_gb=None):
        self.path = path
        self.kind = kind
        self.size_gb = size_gb
        try:
            self.bytes = os.path.getsize(path)
            self.exists = True
        except EnvironmentError:
            self.exists, self.bytes = False, None
        self.used_by = []

    def as_dict(self):
        return {'path': self.path, 'kind': self.kind,
                'resized_gb': self.size_gb, 'exists': self.exists,
                'bytes': self.bytes, 'used_by': list(self.used_by)}


def cache_files(instances_path, image_id, unreadable=None):
    """The cache files of an image: the base file (always listed, even
    when absent) and every resized or partial copy present. A ``_base``
    directory that cannot be listed is added to ``unreadable``.
    """
    name = cache_name(image_id)
    base_dir = os.path.join(instances_path, BASE_DIR)
    files = [CacheFile(os.path.join(base_dir, name), 'base')]
    entries = []
    if os.path.lexists(base_dir):   # no _base yet: nothing cached
        entries = _listdir(base_dir, unreadable)
    for entry in entries:
        kind = classify(entry, name)
        if kind in (None, 'base'):
            continue
        size_gb = int(entry[len(name) + 1:]) if kind == 'resized' else None
        files.append(CacheFile(os.path.join(base_dir, entry), kind, size_gb))
    return files


def _note(unreadable, path, exc):
    """Add ``path`` to ``unreadable``: ``what`` could not be done to it
    (``read``, or ``interpret`` its backing file name) and why.
    """
    if unreadable is not None:
        what = 'interpret' if isinstance(
            exc, backing_names.Uninterpretable) else 'read'
        unreadable.append({'path': path, 'error': str(exc), 'what': what})


def _listdir(path, unreadable):
    """The sorted entries of a directory; [] (and a note) when it cannot
    be listed.
    """
    try:
        return sorted(os.listdir(path))
    except EnvironmentError as exc:
        _note(unreadable, path, exc)
        return []


def instance_disks(instances_path, unreadable=None):
    """Yield (instance directory name, disk path) for every disk file;
    each directory that cannot be listed is added to ``unreadable``.
    """
    for entry in _listdir(instances_path, unreadable):
        directory = os.path.join(instances_path, entry)
        if entry in _NOT_INSTANCES or entry.startswith('.') or \
                not os.path.isdir(directory):
            continue
        for disk in _listdir(directory, unreadable):
            path = os.path.join(directory, disk)
            if disk.startswith('disk') and os.path.isfile(path):
                yield entry, path


def _identities(files):
    """``{(st_dev, st_ino): CacheFile}`` of the cache files present."""
    found = {}
    for cache_file in files:
        try:
            stat = os.stat(cache_file.path)
        except EnvironmentError:
            continue
        found[(stat.st_dev, stat.st_ino)] = cache_file
    return found


def _same_file(path, identities):
    """The cache file that ``path`` is (through a symbolic link or another
    name), or None.

    :raises EnvironmentError: ``path`` exists but cannot be looked at.
    """
    try:
        stat = os.stat(path)
    except EnvironmentError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None   # not a file of this host: not one of ours
        raise
    return identities.get((stat.st_dev, stat.st_ino))


def _user_of(disk, by_name, identities):
    """``(cache file, backing path)`` that ``disk`` needs, or
    ``(None, path)`` when none of them.

    :raises EnvironmentError, qcow2.CorruptHeader,
        backing_names.Uninterpretable: the disk's need cannot be told.
    """
    raw = qcow2.backing_name(disk)
    if not raw:
        return None, None
    path = backing_names.local_path(raw, disk)
    parent = os.path.basename(os.path.dirname(path))
    found = by_name.get(os.path.basename(path))
    if found is not None and parent == BASE_DIR:
        return found, path
    return _same_file(path, identities), path


def find_users(instances_path, files, unreadable=None):
    """Fill each CacheFile's ``used_by`` from the instance disks' qcow2
    headers; return the users of cache files that are absent.

    A disk uses a cache file when its backing file name is a path to it
    (``.../_base/<name>``, wherever the instances directory is mounted) or
    to the same file under another name. Every directory or disk that
    could not be read, and every disk whose backing file name is not a
    path (``json:{...}``, ``nbd:``, ``file:``..., not UTF-8), is added to
    ``unreadable`` ({'path', 'error', 'what': 'read' or 'interpret'}):
    such a disk may use the files, so the caller must not answer "not in
    use".
    """
    by_name = dict((os.path.basename(f.path), f) for f in files)
    identities = _identities(files)
    dangling = []
    for instance, disk in instance_disks(instances_path, unreadable):
        try:
            found, path = _user_of(disk, by_name, identities)
        except (EnvironmentError, qcow2.CorruptHeader,
                backing_names.Uninterpretable) as exc:
            _note(unreadable, disk, exc)
            continue
        if found is None:
            continue
        user = {'instance': instance, 'disk': disk, 'backing_file': path}
        found.used_by.append(user)
        if not found.exists:
            dangling.append(user)
    return dangling
