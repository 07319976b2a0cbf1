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

"""No two modules or classes of nova_imgmeta share a name (issue 18).

A newcomer reading ``journal.py`` or ``Change`` in a traceback should know
which one it is: there were two ``journal.py`` (patching's and the
catalogue's), two ``audit.py``, two ``checksum.py`` and three ``Change``
classes. The modules of ``nova_imgmeta/cli`` are named after the commands
they implement, so the library modules beside them take other names.
"""

import ast
import collections
import io
import os

import nova_imgmeta

PACKAGE = os.path.dirname(os.path.abspath(nova_imgmeta.__file__))


def _sources():
    """Paths of the package's modules, ``__init__.py`` left out."""
    for dirpath, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = sorted(name for name in dirnames if os.path.isfile(
            os.path.join(dirpath, name, '__init__.py')))
        for name in sorted(filenames):
            if name.endswith('.py') and name != '__init__.py':
                yield os.path.join(dirpath, name)


def _shared(names):
    """{name: [where, ...]} of the names found in more than one place."""
    seen = collections.defaultdict(list)
    for name, where in names:
        seen[name].append(os.path.relpath(where, PACKAGE))
    return dict((name, places) for name, places in seen.items()
                if len(places) > 1)


def test_no_two_modules_share_a_name():
    assert _shared((os.path.basename(path), path)
                   for path in _sources()) == {}


def _classes(path):
    with io.open(path, 'rb') as handle:
        tree = ast.parse(handle.read(), path)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            yield node.name, path
        elif isinstance(node, ast.Assign) and \
                isinstance(node.value, ast.Call) and \
                getattr(node.value.func, 'attr', None) == 'namedtuple':
            for target in node.targets:
                yield target.id, path


def test_no_two_classes_share_a_name():
    assert _shared(found for path in _sources()
                   for found in _classes(path)) == {}
