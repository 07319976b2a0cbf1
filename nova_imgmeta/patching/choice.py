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

"""Which series a Nova tree gets.

* ``--series NAME``: that one.
* A release version (``17.0.13``): the MAP rule.
* Any other version (``18.2.2.dev15`` of a tree pip installed from a git
  commit, an rc, a distribution's own ``2:18.2.1-0ubuntu1``) or none: the
  series of its line are tried. The line comes from the version's major
  number (the MAP rules of that major); without a version, every series of
  every line is tried and the code decides. A candidate fits when it
  applies with zero fuzz (or is applied, or partly) and puts every hunk in
  the same function as on the series' reference release (``scopes``).
  Exactly one must fit; otherwise the tree is refused with what each
  candidate did.

Nothing is written here: candidates are tried on scratch copies.
"""

import os
import re

from nova_imgmeta.patching.errors import NoSeriesChoice
from nova_imgmeta.patching.errors import PatchError
from nova_imgmeta.patching.errors import UnknownVersion
from nova_imgmeta.patching import scopes
from nova_imgmeta.patching import series as series_module
from nova_imgmeta.patching.series import load_map
from nova_imgmeta.patching.series import load_series
from nova_imgmeta.patching.series import parse_version
from nova_imgmeta.patching.series import select_series
from nova_imgmeta.patching.survey import APPLIED
from nova_imgmeta.patching.survey import MISMATCH
from nova_imgmeta.patching.survey import PARTIAL
from nova_imgmeta.patching.survey import StepFailed
from nova_imgmeta.patching.survey import survey

__all__ = ['Choice', 'Candidate', 'choose', 'line_of', 'line_of_version',
           'all_series_names', 'TESTS_DIR']

# Distribution packages install Nova without it; the series then goes in
# without its changes to Nova's tests.
TESTS_DIR = 'nova/tests/'

# An optional epoch ("2:"), then the major number of the version.
_MAJOR_RE = re.compile(r'^\s*(?:\d+:)?(\d+)(?:\.|$)')


class Candidate(object):
    """A series tried on the tree: ``fits``, what it did, its survey."""

    def __init__(self, name, fits, verdict, state=None):
        self.name = name
        self.fits = fits
        self.verdict = verdict
        self.state = state

    def __repr__(self):
        return 'Candidate(%r, %r)' % (self.name, self.fits)


class Choice(object):
    """The series for a tree and why.

    ``how``: 'option' (--series), 'map' (a release) or 'tried'.
    ``reason``: one sentence; ``candidates``: the series tried; ``state``:
    the survey of the chosen one when it was tried (the action reuses it).
    """

    def __init__(self, series, how, reason, candidates=(), state=None):
        self.series = series
        self.how = how
        self.reason = reason
        self.candidates = list(candidates)
        self.state = state

    def lines(self):
        """What the CLI prints about a tried choice (nothing otherwise)."""
        if self.how != 'tried':
            return []
        return [self.reason] + ['  %s: %s' % (c.name, c.verdict)
                                for c in self.candidates]


def line_of(series_name):
    """'rocky-pre-18.2.2' -> 'rocky': a series' name up to its first '-'."""
    return series_name.split('-', 1)[0]


def all_series_names(patches_dir=None):
    """Every series directory: those of MAP in its order, then the others."""
    patches_dir = patches_dir or series_module.PATCHES_DIR
    try:
        entries = sorted(os.listdir(patches_dir))
    except OSError:
        entries = []
    present = [entry for entry in entries
               if os.path.isfile(os.path.join(patches_dir, entry, 'series'))]
    names = []
    for _first, _last, name in load_map(patches_dir):
        if name in present and name not in names:
            names.append(name)
    return names + [name for name in present if name not in names]


def line_of_version(version, patches_dir=None):
    """The line of a version by its major number, or None if MAP has none."""
    match = _MAJOR_RE.match(version or '')
    if not match:
        return None
    major = int(match.group(1))
    lines = [line_of(name) for first, _last, name in load_map(patches_dir)
             if first[0] == major]
    return lines[0] if lines else None


def _served(patches_dir):
    seen = []
    for first, _last, name in load_map(patches_dir):
        entry = '%s (%d.x)' % (line_of(name), first[0])
        if entry not in seen:
            seen.append(entry)
    return ', '.join(seen)


def _for_tree(series, tree):
    if not tree.has_tests:
        series = series.without(TESTS_DIR)
    return series


def choose(tree, series_name=None, patches_dir=None, scopes_file=None):
    """The Choice for a NovaTree; UnknownVersion or NoSeriesChoice if none.

    A tree without ``nova/tests`` gets the series without those files.
    """
    if series_name:
        series = load_series(series_name, patches_dir)
        return Choice(_for_tree(series, tree), 'option',
                      'series %s given with --series' % series_name)
    if parse_version(tree.version):
        name = select_series(tree.version, patches_dir)
        return Choice(_for_tree(load_series(name, patches_dir), tree), 'map',
                      'series %s: MAP gives it Nova %s'
                      % (name, tree.version))
    if tree.version:
        line = line_of_version(tree.version, patches_dir)
        if line is None:
            raise UnknownVersion(
                'Nova %s (%s) is of no line the series serve (%s); use '
                '--series to choose one anyway' % (
                    tree.version, tree.origin, _served(patches_dir)))
        names = [name for name in all_series_names(patches_dir)
                 if line_of(name) == line]
        what = 'Nova %s is not a release' % tree.version
        pool = 'the %d series of its line, %s (from the version)' % (
            len(names), line)
    else:
        names = all_series_names(patches_dir)
        what = 'Nova at %s has no version (no packaging metadata)' % (
            tree.root)
        pool = 'all %d series (no version: the code tells the line)' % (
            len(names))
    table = scopes.load_reference(scopes_file)
    candidates = [_try(tree, name, patches_dir, table) for name in names]
    fitting = [c for c in candidates if c.fits]
    if len(fitting) == 1:
        chosen = fitting[0]
        return Choice(
            _for_tree(load_series(chosen.name, patches_dir), tree), 'tried',
            '%s: series %s chosen from %s: the only one that fits (zero '
            'fuzz, every hunk in the same function as on its reference '
            'release)' % (what, chosen.name, pool), candidates, chosen.state)
    raise NoSeriesChoice('\n'.join(
        ['%s; %s were tried and %s, so the series cannot be chosen:' % (
            what, pool, 'none fits the tree' if not fitting else
            '%d fit it (%s)' % (len(fitting), ', '.join(
                c.name for c in fitting)))] +
        ['  %s: %s' % (c.name, c.verdict) for c in candidates] +
        ['Use --series NAME to apply one anyway (checked only for the '
         'releases of MAP).']))


def _try(tree, name, patches_dir, table):
    """A Candidate: how series name does on the tree (scratch copies)."""
    series = _for_tree(load_series(name, patches_dir), tree)
    state = survey(tree, series)
    if state.state == MISMATCH:
        return Candidate(name, False, 'does not apply with zero fuzz (%s)'
                         % _summary(state.detail))
    try:
        placed = scopes.placements(series, state.pristine)
    except (PatchError, StepFailed) as exc:
        return Candidate(name, False, 'applies with zero fuzz, but %s'
                         % _summary(str(exc)))
    problems = scopes.compare(series, placed, table)
    if problems:
        return Candidate(name, False, '%s with zero fuzz, but %s' % (
            _state_words(state), '; '.join(problems)))
    return Candidate(name, True, '%s with zero fuzz, every hunk in the same '
                                 'function as on %s' % (
                                     _state_words(state),
                                     table[series.name][0]), state)


def _state_words(state):
    if state.state == APPLIED:
        return 'is applied'
    if state.state == PARTIAL:
        return 'is partly applied (first %d of %d patches), the rest ' \
            'applies' % (state.applied_count, state.total)
    return 'applies'


def _summary(detail):
    """The telling lines of patch's output, on one line."""
    lines = [line.strip() for line in (detail or '').splitlines()
             if line.strip()]
    if not lines:
        return 'no details'
    telling = [line for line in lines[1:] if re.search(
        r'FAILED|Reversed|missing|already exists|can\'t find|malformed',
        line)]
    return '; '.join([lines[0].rstrip(':')] + telling[:3])
