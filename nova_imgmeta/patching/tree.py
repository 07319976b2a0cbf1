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

"""Where Nova is and which release it is, read from packaging metadata only.

The version comes from files beside the ``nova`` package: an sdist's
``PKG-INFO``, or the distribution metadata that installers write next to
the package (``nova.egg-info/PKG-INFO`` of a develop install,
``nova-X-pyN.egg-info`` of a distribution package, ``nova-X.dist-info/
METADATA`` of a wheel). Nova is never imported.
"""

import io
import os
import re
import sys

from nova_imgmeta.patching.errors import PatchError

__all__ = ['NovaTree', 'find_nova_tree', 'tree_from_path', 'installed_tree']

# nova.egg-info, nova-17.0.13-py2.7.egg-info, nova-17.0.13.dist-info; not
# nova_imgmeta-...: the distribution name must be exactly "nova".
_METADATA_RE = re.compile(r'^nova(-[^-]+)?(-py\d+(\.\d+)?)?\.(egg|dist)-info$',
                          re.IGNORECASE)


class NovaTree(object):
    """Where Nova is: ``root`` is the -p1 root (it holds ``nova/``)."""

    def __init__(self, root, version, origin):
        self.root = root
        self.version = version
        self.origin = origin        # the file the version was read from

    def __repr__(self):
        return 'NovaTree(%r, %r, %r)' % (self.root, self.version, self.origin)

    @property
    def has_tests(self):
        """Distribution packages ship Nova without ``nova/tests``."""
        return os.path.isdir(os.path.join(self.root, 'nova', 'tests'))


def _metadata(path):
    """{'Name': ..., 'Version': ...} of a PKG-INFO / METADATA file."""
    values = {}
    try:
        with io.open(path, encoding='utf-8', errors='replace') as handle:
            for line in handle:
                if not line.strip():
                    break               # end of the headers
                key, sep, value = line.partition(':')
                if sep and key in ('Name', 'Version'):
                    values[key] = value.strip()
    except (IOError, OSError):
        pass
    return values


def _candidates(root):
    """Metadata files that may say which Nova this is, with their names."""
    found = [('PKG-INFO', os.path.join(root, 'PKG-INFO'))]
    for entry in sorted(_listdir(root)):
        if not _METADATA_RE.match(entry):
            continue
        path = os.path.join(root, entry)
        if entry.endswith('.dist-info'):
            found.append((entry + '/METADATA',
                          os.path.join(path, 'METADATA')))
        elif os.path.isdir(path):
            found.append((entry + '/PKG-INFO', os.path.join(path, 'PKG-INFO')))
        else:
            found.append((entry, path))   # distutils writes a single file
    return found


def _version(root):
    """(version, origin) from the tree's metadata, or (None, None)."""
    versions = []
    for origin, path in _candidates(root):
        fields = _metadata(path)
        name, version = fields.get('Name'), fields.get('Version')
        if name and name.lower() == 'nova' and version:
            versions.append((version, origin))
    distinct = sorted(set(version for version, _origin in versions))
    if len(distinct) > 1:
        raise PatchError(
            '%s has metadata of several Nova versions (%s): remove the '
            'stale ones or use --series' % (root, ', '.join(
                '%s in %s' % pair for pair in versions)))
    return versions[0] if versions else (None, None)


def tree_from_path(path):
    """A Nova source tree, or a directory holding an installed ``nova/``."""
    root = os.path.abspath(path)
    if not os.path.isfile(os.path.join(root, 'nova', 'compute', 'api.py')):
        raise PatchError('%s is not a Nova tree: nova/compute/api.py is '
                         'missing' % root)
    version, origin = _version(root)
    return NovaTree(root, version, origin)


def _find_nova_package():
    """Directory of the importable ``nova`` package, without importing it."""
    try:
        import importlib.util
        find_spec = importlib.util.find_spec
    except (ImportError, AttributeError):        # Python 2.7
        import imp
        try:
            _handle, pathname, _desc = imp.find_module('nova')
        except ImportError:
            return None
        return pathname
    spec = find_spec('nova')
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def installed_tree():
    """The nova package installed for this Python."""
    package = _find_nova_package()
    if not package:
        raise PatchError('no nova package is importable by %s; pass '
                         '--nova-tree PATH' % sys.executable)
    return tree_from_path(os.path.dirname(os.path.abspath(package)))


def find_nova_tree(path=None):
    if path:
        return tree_from_path(path)
    return installed_tree()


def _listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []
