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
"""The sources of the patch series, in patches-src/ (its README.md).

* ``patches.ini``: the patches (0001, 0002: author and date of their
  commit) and the variables the shared files may test;
* ``shared/NNNN/<path>``: the files patch NNNN adds to Nova, written once
  for every series (the hook runner, its tests, the regression test), with
  the line directives of series_template.py;
* ``<series>/``: ``variables.ini`` (the values for this series), and for
  each of its patches ``NNNN.msg`` (the commit message) and ``NNNN.diff``
  (the changes to Nova's own files: the call sites).

Which release a series is made on is not written here: it is the newest
release nova_imgmeta/patches/MAP gives the series, or for a ``<line>-eol``
series (no MAP rule) the git tag of that name.
"""

import collections
import configparser
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402
from nova_imgmeta.patching.series import PATCHES_DIR  # noqa: E402
import series_template  # noqa: E402

__all__ = ['SOURCES', 'SourceError', 'Patch', 'Series', 'Reference',
           'names', 'load', 'reference', 'consistency_problems']

SOURCES = os.path.join(TOP, 'patches-src')
SHARED = 'shared'
PATCHES_INI = 'patches.ini'
VARIABLES_INI = 'variables.ini'


class SourceError(Exception):
    """patches-src/ is incomplete or inconsistent; the message says how."""


# number: '0002'; message: the commit message; diff: the call-site changes
# (text of a git diff, may be empty); shared: {path: rendered content};
# author, date: of the commit.
Patch = collections.namedtuple(
    'Patch', ['number', 'message', 'diff', 'shared', 'author', 'date'])

# kind: 'release' (a PyPI sdist) or 'tag' (a git tag of NOVA_GIT_DIR).
Reference = collections.namedtuple('Reference', ['kind', 'name'])

Series = collections.namedtuple(
    'Series', ['name', 'reference', 'patches', 'variables'])


def _read_ini(path):
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str
    try:
        with open(path, encoding='utf-8') as handle:
            parser.read_file(handle)
    except (OSError, configparser.Error) as exc:
        raise SourceError('cannot read %s: %s' % (path, exc))
    return parser


def _read(path):
    try:
        with open(path, encoding='utf-8', newline='') as handle:
            return handle.read()
    except OSError as exc:
        raise SourceError('cannot read %s: %s' % (path, exc))


def _patches_ini(sources):
    """({number: (author, date)}, {variable: [values]}) of patches.ini."""
    path = os.path.join(sources, PATCHES_INI)
    parser = _read_ini(path)
    numbers = {}
    for section in parser.sections():
        if section == 'variables':
            continue
        if not (len(section) == 4 and section.isdigit()):
            raise SourceError('%s: unexpected section [%s]' % (path, section))
        try:
            numbers[section] = (parser.get(section, 'author'),
                                parser.get(section, 'date'))
        except configparser.Error as exc:
            raise SourceError('%s: %s' % (path, exc))
    declared = {}
    if parser.has_section('variables'):
        declared = dict((name, value.split())
                        for name, value in parser.items('variables'))
    return numbers, declared


def names(sources=None):
    """The series that have sources, sorted."""
    sources = sources or SOURCES
    return sorted(name for name in os.listdir(sources)
                  if name != SHARED and
                  os.path.isdir(os.path.join(sources, name)))


def _dotted(version):
    return '.'.join(str(part) for part in version)


def reference(name, patches_dir=None):
    """The release (or tag) the series ``name`` is made on."""
    lasts = [last for _first, last, series in patching.load_map(patches_dir)
             if series == name]
    if lasts:
        return Reference('release', _dotted(max(lasts)))
    if name.endswith('-eol'):
        return Reference('tag', name)
    raise SourceError('patches-src/%s: MAP has no rule for this series, and '
                      'it is no <line>-eol series: add its MAP rule' % name)


def shared_files(number, sources=None):
    """Sorted paths (relative to Nova's root) of the files patch adds."""
    root = os.path.join(sources or SOURCES, SHARED, number)
    found = []
    for dirpath, _dirs, files in os.walk(root):
        for file_name in files:
            found.append(os.path.relpath(os.path.join(dirpath, file_name),
                                         root))
    return sorted(found)


def load(name, sources=None, patches_dir=None):
    """The Series ``name``, its shared files rendered.

    Raises SourceError (or series_template.TemplateError) naming the file
    that is wrong.
    """
    sources = sources or SOURCES
    directory = os.path.join(sources, name)
    if not os.path.isdir(directory):
        raise SourceError('no sources for series %s (patches-src/%s/)'
                          % (name, name))
    numbers, declared = _patches_ini(sources)
    variables_path = os.path.join(directory, VARIABLES_INI)
    parser = _read_ini(variables_path)
    variables = dict(parser.items('variables')) \
        if parser.has_section('variables') else {}
    for variable, value in sorted(variables.items()):
        if variable not in declared or value not in declared[variable]:
            raise SourceError('%s: %s = %s is not declared in patches-src/%s'
                              % (variables_path, variable, value,
                                 PATCHES_INI))
    expected = set([VARIABLES_INI])
    patches = []
    used = set()
    for number in sorted(numbers):
        message_path = os.path.join(directory, number + '.msg')
        diff_path = os.path.join(directory, number + '.diff')
        if not os.path.isfile(message_path):
            if os.path.exists(diff_path):
                raise SourceError('%s without %s' % (diff_path, message_path))
            continue
        expected.update([number + '.msg', number + '.diff'])
        message = _read(message_path)
        if not message.strip() or message.startswith('\n'):
            raise SourceError('%s: the commit message must start with its '
                              'subject line' % message_path)
        diff = _read(diff_path) if os.path.isfile(diff_path) else ''
        shared = collections.OrderedDict()
        for path in shared_files(number, sources):
            source = os.path.join(SHARED, number, path)
            text = _read(os.path.join(sources, source))
            used.update(series_template.names(text, source, declared))
            shared[path] = series_template.render(text, variables, source,
                                                  declared)
        author, date = numbers[number]
        patches.append(Patch(number, message, diff, shared, author, date))
    if not patches:
        raise SourceError('patches-src/%s holds no NNNN.msg of the patches '
                          'in patches-src/%s' % (name, PATCHES_INI))
    unknown = sorted(set(os.listdir(directory)) - expected)
    if unknown:
        raise SourceError('patches-src/%s: unexpected %s (a series holds '
                          '%s, NNNN.msg and NNNN.diff)'
                          % (name, ', '.join(unknown), VARIABLES_INI))
    unused = sorted(set(variables) - used)
    if unused:
        raise SourceError('%s sets %s, which no shared file of its patches '
                          'tests' % (variables_path, ', '.join(unused)))
    return Series(name, reference(name, patches_dir), patches, variables)


def consistency_problems(sources=None, patches_dir=None):
    """[message] for MAP's series without sources and the reverse."""
    sources = sources or SOURCES
    have = set(names(sources))
    problems = ['MAP names the series %s, but patches-src/%s/ does not '
                'exist' % (name, name)
                for name in patching.series_names(patches_dir)
                if name not in have]
    for name in sorted(have):
        try:
            reference(name, patches_dir)
        except SourceError as exc:
            problems.append(str(exc))
    made = patches_dir or PATCHES_DIR
    for name in sorted(os.listdir(made)):
        if name not in have and os.path.isdir(os.path.join(made, name)):
            problems.append('nova_imgmeta/patches/%s/ is made from no '
                            'sources: remove it, or add patches-src/%s/'
                            % (name, name))
    return problems
