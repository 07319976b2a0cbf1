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

"""The modules of nova_imgmeta import each other without a cycle.

Imports inside functions count, and so does the import the built-in
catalogue makes through the entry points (nova_imgmeta.policies.builtin
loads each built-in policy's module): opts.py used to import the catalogue
inside a function while the policies imported opts (issue 18, item 3).
"""

import ast
import io
import os

import nova_imgmeta
from nova_imgmeta.policies import builtin

PACKAGE = os.path.dirname(os.path.abspath(nova_imgmeta.__file__))


def _modules():
    """{dotted name: path} of every module of the package."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = [name for name in dirnames if os.path.isfile(
            os.path.join(dirpath, name, '__init__.py'))]
        for name in filenames:
            if not name.endswith('.py'):
                continue
            rel = os.path.relpath(os.path.join(dirpath, name),
                                  os.path.dirname(PACKAGE))
            dotted = rel[:-3].replace(os.sep, '.')
            if dotted.endswith('.__init__'):
                dotted = dotted[:-len('.__init__')]
            found[dotted] = os.path.join(dirpath, name)
    return found


def _imports(path, modules):
    """The package's modules that the module at path imports, anywhere."""
    with io.open(path, 'rb') as handle:
        tree = ast.parse(handle.read(), path)
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                not node.level:
            names = [node.module + '.' + alias.name for alias in node.names]
            names = [name if name in modules else node.module
                     for name in names]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def import_graph():
    modules = _modules()
    graph = dict((name, _imports(path, modules))
                 for name, path in modules.items())
    graph[builtin.__name__].update(
        policy.cls.__module__ for policy in builtin.builtin_policies())
    return graph


def cycles(graph):
    """Every cycle found by a depth-first walk, as lists of modules."""
    found = []
    state = {}        # module -> 'open' while on the path, 'done' after

    def walk(module, path):
        state[module] = 'open'
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 'open':
                found.append(path[path.index(target):] + [target])
            elif target not in state:
                walk(target, path + [target])
        state[module] = 'done'

    for module in sorted(graph):
        if module not in state:
            walk(module, [module])
    return found


def test_the_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert 'nova_imgmeta.supported' in graph['nova_imgmeta.opts']
    assert 'nova_imgmeta.policies.patterns' in \
        graph['nova_imgmeta.policies.builtin']


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_policies_read_options_without_opts():
    graph = import_graph()
    for module in ('nova_imgmeta.policies.base_image_ref',
                   'nova_imgmeta.policies.patterns',
                   'nova_imgmeta.policies.truncated',
                   'nova_imgmeta.loader', 'nova_imgmeta.registry'):
        assert 'nova_imgmeta.settings' in graph[module], module
    assert graph['nova_imgmeta.settings'] == set(['nova_imgmeta.exceptions'])


def _third_party_imports(path):
    """Top-level names of every module the module at path imports."""
    with io.open(path, 'rb') as handle:
        tree = ast.parse(handle.read(), path)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split('.')[0]
        elif isinstance(node, ast.ImportFrom) and node.module and \
                not node.level:
            yield node.module.split('.')[0]


def test_no_module_imports_six():
    """Regression test: catalogue/pool.py and cloud/ahead.py imported six,
    which requirements.txt leaves out on purpose (Nova dropped it in
    Wallaby; nova_imgmeta.compat covers Python 2.7): the operator commands
    failed to import where six was not installed.
    """
    users = sorted(name for name, path in _modules().items()
                   if 'six' in set(_third_party_imports(path)))
    assert users == []
