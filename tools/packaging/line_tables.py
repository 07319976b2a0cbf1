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
"""The tables and lists about release lines, from the one place for each.

Sources: nova_imgmeta/patches/MAP (which releases each series serves),
tools/nova-tier/releases.py (the lines: tier release, Python, CI),
tools/cloud-tier/components.py (the loopback cloud's services per line) and
patches-src/ (each series' patches and variables). Written into README.md,
tools/nova-tier/README.md and tox.ini by tools/regen, and into
doc/source/patches.rst and doc/source/cloud.rst at build time
(doc/source/_exts/series_tables.py).
"""

import collections
import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, 'tools', 'nova-tier'))
sys.path.insert(0, TOP)

from nova_imgmeta import patching  # noqa: E402
import releases  # noqa: E402
import series_sources  # noqa: E402

__all__ = ['Row', 'line_of', 'rows', 'source_problems', 'readme_table',
           'tier_table',
           'tox_header', 'cloud_tox_header', 'tox_sections',
           'tox_section_names', 'rst_map_table',
           'rst_differences_table', 'rst_cloud_table', 'cloud_components']

DASH = '\u2013'

# name; ranges: [(first, last)] dotted; tags: the <line>-eol tags it
# serves; patches: ['0001', ...]; line: the releases.Line of its (first)
# line (or None); tier: whether a line's tier runs this series; variables:
# those of patches-src/<name>/variables.ini; lines: the releases.Line of
# every line whose releases it serves (from Wallaby on a series may serve
# several lines).
Row = collections.namedtuple(
    'Row', ['name', 'ranges', 'tags', 'patches', 'line', 'tier',
            'variables', 'lines'])


def line_of(series):
    """'rocky-pre-18.2.2' -> 'rocky' (the convention of MAP)."""
    return series.split('-', 1)[0]


def _dotted(version):
    return '.'.join(str(part) for part in version)


def _major(entry):
    return patching.parse_version(entry.nova)[0]


def _lines_of(name, rules):
    """The releases.Line entries whose releases MAP gives series name.

    A series serves the lines of its rules' major versions; a tag-only
    series (train-eol) the line its name starts with.
    """
    majors = set(first[0] for first, _last, other in rules if other == name)
    found = [entry for entry in releases.LINES.values()
             if _major(entry) in majors]
    if not found:
        entry = releases.LINES.get(name) or releases.LINES.get(line_of(name))
        found = [entry] if entry else []
    return found


def rows(patches_dir=None, sources=None):
    """One Row per series, MAP's order, a tag-only series after its line."""
    rules = patching.load_map(patches_dir)
    names = []
    for _first, _last, name in rules:
        if name not in names:
            names.append(name)
    for name in series_sources.names(sources):
        if name not in names:
            after = [n for n, other in enumerate(names)
                     if line_of(other) == line_of(name)]
            names.insert(after[-1] + 1 if after else len(names), name)
    tags = {}
    for entry in releases.LINES.values():
        if not entry.eol_tag:
            continue
        if entry.eol_tag in names:
            tags[entry.eol_tag] = entry.eol_tag
            continue
        newest = max(((last, name) for _first, last, name in rules
                      if last[0] == _major(entry)), default=None)
        if newest:
            tags[entry.eol_tag] = newest[1]
    result = []
    for name in names:
        series = series_sources.load(name, sources, patches_dir)
        ranges = [(_dotted(first), _dotted(last))
                  for first, last, other in rules if other == name]
        lines = _lines_of(name, rules)
        tiers = [entry for entry in lines if any(
            first <= patching.parse_version(entry.nova) <= last
            for first, last, other in rules if other == name)]
        result.append(Row(
            name, ranges, sorted(tag for tag, other in tags.items()
                                 if other == name),
            [patch.number for patch in series.patches],
            lines[0] if lines else None, bool(tiers), series.variables,
            lines))
    return result


CONSTRAINTS_DIR = os.path.join(TOP, 'tests', 'nova', 'constraints')


def source_problems(patches_dir=None, lines=None,
                    constraints_dir=CONSTRAINTS_DIR):
    """[message] where MAP and releases.py leave a line half added.

    Each is a piece the tables cannot derive, so a line added without it
    would otherwise pass ``tools/regen --check`` (issue 18's trial): a
    line of Nova MAP serves with no releases.py entry (no tier, no
    Python in the tables), a releases.py line testing a release no MAP
    rule serves (its tier would be refused a series), and a line without
    its constraints file (its tier, not run by CI when ``ci=False``, would
    be the first to notice).
    """
    rules = patching.load_map(patches_dir)
    lines = releases.LINES if lines is None else lines
    problems = []
    tested = set(_major(entry) for entry in lines.values())
    served = collections.OrderedDict()
    for first, last, name in rules:
        for major in range(first[0], last[0] + 1):
            served.setdefault(major, name)
    for major, name in served.items():
        if major not in tested:
            problems.append(
                'MAP serves Nova %d.x (series %s), but '
                'tools/nova-tier/releases.py has no line for it: add its '
                '_line(...)' % (major, name))
    for entry in lines.values():
        version = patching.parse_version(entry.nova)
        if not any(first <= version <= last for first, last, _n in rules):
            problems.append(
                'tools/nova-tier/releases.py: line %s tests Nova %s, which '
                'no rule of MAP serves: add its MAP rule'
                % (entry.series, entry.nova))
        path = os.path.join(constraints_dir, entry.constraints)
        if not os.path.isfile(path):
            problems.append(
                'tools/nova-tier/releases.py: line %s has no %s: copy the '
                'requirements project\'s pins there'
                % (entry.series, os.path.relpath(path, TOP)))
    return problems


def _releases(row, code):
    parts = ['%s %s %s' % (first, DASH, last) if first != last else first
             for first, last in row.ranges]
    parts += [code % tag for tag in row.tags]
    if not row.ranges:
        parts[0] += ' (a tag, no release)'
    return ', '.join(parts)


def _title(row):
    if not row.ranges:
        return ''
    names = [entry.series for entry in row.lines] or [line_of(row.name)]
    return ' (%s)' % ', '.join(name.capitalize() for name in names)


def _pythons(row):
    found = []
    for entry in row.lines:
        found.extend(python for python in entry.pythons
                     if python not in found)
    if not found:
        return '?'
    found.sort(key=lambda python: tuple(int(p) for p in python.split('.')))
    return 'Python ' + ', '.join(found)


def _tier(row, code):
    if not row.tier:
        return '-'
    return ', '.join('%s (%s%s)' % (code % entry.tox_env, entry.nova,
                                    '' if entry.ci else '; not in CI')
                     for entry in row.lines)


def readme_table(patches_dir=None, sources=None):
    """README.md's "Supported releases" table (Markdown)."""
    lines = ['| Nova | series | patches | the plugin runs on | '
             'real-Nova tier |', '| --- | --- | --- | --- | --- |']
    for row in rows(patches_dir, sources):
        series = '`%s`' % row.name
        if not row.ranges:
            series += ' (chosen by trying)'
        lines.append('| %s%s | %s | %s | %s | %s |' % (
            _releases(row, '`%s`'), _title(row), series,
            ', '.join(row.patches), _pythons(row), _tier(row, '`%s`')))
    return '\n'.join(lines) + '\n'


def tier_table():
    """tools/nova-tier/README.md's table of the lines (Markdown)."""
    lines = ['| line | `tox -e` | Nova | Python (pyenv) | extra packages | '
             'in `tools/run-tests` by default |',
             '| --- | --- | --- | --- | --- | --- |']
    for entry in releases.LINES.values():
        lines.append('| %s | `%s` | %s | %s | %s | %s |' % (
            entry.series.capitalize(), entry.tox_env, entry.nova,
            entry.python, ', '.join('`%s`' % p for p in entry.extra_packages)
            or '-', 'yes' if entry.ci else 'no (`tools/run-tests all`)'))
    return '\n'.join(lines) + '\n'


#: tox 3's pattern of a factor group in a generative section name
#: (tox.config.ParseIni.expand_section_names): no "." in it
TOX3_FACTORS = re.compile(r'{\s*([\w\s,-]+)\s*}')
TOX_INI = os.path.join(TOP, 'tox.ini')


def _braces(items):
    return items[0] if len(items) == 1 else '{%s}' % ','.join(items)


def tox_section_names(prefix, names):
    """Section names that tox 3 expands into ``testenv:PREFIX-NAME`` for
    every name, in order.

    tox 3 expands ``{a,b}`` in a section name only when the factors are
    letters, digits, ``_`` and ``-``: ``[testenv:nova-{zed,2023.1}]`` is
    left as it is (one env named so, none of the lines). The names without
    a "." share one section; those with one (``2023.1``, ``2023.2``) one
    section per part before their last ".": ``nova-2023.{1,2}``.
    """
    plain = [name for name in names if '.' not in name]
    dotted = collections.OrderedDict()
    for name in names:
        if '.' in name:
            head, tail = name.rsplit('.', 1)
            dotted.setdefault(head, []).append(tail)
    headers = []
    if plain:
        headers.append('testenv:%s-%s' % (prefix, _braces(plain)))
    for head, tails in dotted.items():
        headers.append('testenv:%s-%s.%s' % (prefix, head, _braces(tails)))
    return headers


def tox_template(section, tox_ini=TOX_INI):
    """The lines of tox.ini's ``[section]`` as written (the comment lines
    just above the next section are that section's).
    """
    with open(tox_ini) as handle:
        lines = handle.read().splitlines()
    try:
        start = lines.index('[%s]' % section) + 1
    except ValueError:
        raise ValueError('%s: no section [%s]' % (tox_ini, section))
    body = []
    for line in lines[start:]:
        if line.startswith('['):
            break
        body.append(line)
    while body and (not body[-1].strip() or body[-1].startswith('#')):
        body.pop()
    return '\n'.join(body) + '\n'


def tox_sections(prefix, names, template, tox_ini=TOX_INI):
    """The tox.ini sections of the envs ``PREFIX-NAME``: each has the
    settings of tox.ini's ``[template]`` (see tox_section_names).
    """
    body = tox_template(template, tox_ini)
    return '\n'.join('[%s]\n%s' % (header, body)
                     for header in tox_section_names(prefix, names))


def tox_header():
    """The sections of the real-Nova tier's envs in tox.ini."""
    return tox_sections('nova', releases.LINES, 'nova-tier-env')


def cloud_components():
    """tools/cloud-tier/components.py, loaded from its path: the cloud
    tier's modules (build, proc, layout...) stay off ``sys.path``.
    """
    name = 'nova_imgmeta_cloud_components'
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, os.path.join(
            TOP, 'tools', 'cloud-tier', 'components.py'))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[name] = module
    return sys.modules[name]


def cloud_tox_header():
    """The sections of the cloud tier's envs in tox.ini."""
    return tox_sections('cloud', cloud_components().COMPONENTS,
                        'cloud-tier-env')


def _list_table(header, body, widths):
    lines = ['.. list-table::', '   :header-rows: 1',
             '   :widths: %s' % ' '.join(str(w) for w in widths), '']
    for cells in [header] + body:
        lines.append('   * - %s' % cells[0])
        lines.extend('     - %s' % cell for cell in cells[1:])
    return lines


def rst_map_table(patches_dir=None, sources=None):
    """doc/source/patches.rst: release -> series (reST lines)."""
    body = [[_releases(row, '``%s``') + _title(row), '``%s``' % row.name]
            for row in rows(patches_dir, sources)]
    return _list_table(['Nova releases', 'series'], body, [60, 40])


_SNAPSHOT_BUILDER = {
    'api': '``API._initialize_instance_snapshot_metadata``',
    'utils': '``nova.compute.utils.initialize_instance_snapshot_metadata``',
}
_SNAPSHOT_CONTEXT = {'none': '``None`` (the method has none)',
                     'request': 'the request context'}


def rst_differences_table(patches_dir=None, sources=None):
    """doc/source/patches.rst: where each series calls the hooks (reST)."""
    body = []
    for row in rows(patches_dir, sources):
        variables = row.variables
        snapshot = _SNAPSHOT_BUILDER[variables['snapshot_builder']]
        if variables['cross_cell_resize'] == 'yes':
            snapshot += ', also for cross-cell resize'
        pythons = []
        for entry in row.lines:
            python = '.'.join(entry.python.split('.')[:2])
            if python not in pythons:
                pythons.append(python)
        rebuild = ("after 0001's ``setdefault``" if '0001' in row.patches
                   else "after upstream's line (below)")
        if variables.get('reimage_boot_volume') == 'yes':
            rebuild += '; volume-backed rebuilds with another image too'
        resize = ('``API.resize``, where Nova sets it to ``image_ref``'
                  if variables.get('resize_hook') == 'yes' else '-')
        body.append([
            '``%s``' % row.name, _releases(row, '``%s``'),
            ', '.join(row.patches), rebuild, resize, snapshot,
            _SNAPSHOT_CONTEXT[variables['snapshot_context']],
            ', '.join(pythons) or '?'])
    return _list_table(
        ['series', 'Nova releases', 'patches',
         'rebuild hook, in ``API.rebuild._reset_image_metadata``',
         'resize hook (``image_base_image_ref``)',
         'snapshot hook, at the end of', '``context`` of the snapshot hook',
         'Python of the tests below'], body, [11, 15, 7, 13, 11, 19, 12, 8])


def rst_cloud_table():
    """doc/source/cloud.rst: the services of each line's cloud (reST)."""
    body = []
    for comps in cloud_components().COMPONENTS.values():
        glance = comps.glance
        if comps.glance_apart:
            glance += " (%s's, Python %s)" % (
                comps.glance_line.series.capitalize(),
                comps.glance_line.python)
        tempest = comps.tempest
        if comps.tempest_python != comps.python:
            tempest += ' (Python %s)' % comps.tempest_python
        body.append([
            '``%s``' % comps.tox_env, comps.line.nova, comps.python,
            comps.keystone, glance, comps.neutron,
            comps.placement or 'in Nova', tempest,
            'yes' if comps.ci else 'no'])
    return _list_table(
        ['tox env', 'Nova', 'Python', 'Keystone', 'Glance', 'Neutron',
         'Placement', 'Tempest', 'in CI'], body,
        [14, 9, 8, 9, 16, 9, 16, 12, 7])
