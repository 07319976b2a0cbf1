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

"""Where the hunks of a series land: the function or class holding each.

Zero fuzz is not enough to trust a series on a tree it was not made for:
``patch`` moves a hunk to wherever its context matches, and three lines of
context (``return image_meta``) can match in another function. So a series
chosen by trying it (``choice``) must also put every hunk in the same
function (or class, or module level) as on the series' reference release.

``reference-scopes.txt`` (beside this module) records that, per series:
the reference release (the newest release MAP gives the series, or the tag
of a ``<line>-eol`` series), and the scope of each hunk of each patch that
changes an existing file. ``python -m nova_imgmeta.patching.scopes SERIES
TREE REFERENCE`` prints those lines for a pristine tree of the reference;
tests/unit/test_patching_scopes.py checks the file against the releases.

The scope of a hunk is that of its first added line of code (not blank,
not a comment; else its first added line; for a hunk that only removes,
the line before the removal): the dotted names of the ``def`` and
``class`` blocks holding the line (``API.rebuild._reset_image_metadata``),
``-`` at module level, read with ``tokenize`` (which reads the code of
every line on Python 2.7 and 3, where ``ast`` would need the Python the
code was written for; strings and comments do not count), up to the last
line wanted. Where a hunk went is what ``patch --verbose`` says, checked
against the content.
"""

from __future__ import print_function

import io
import os
import re
import sys
import tokenize

from nova_imgmeta.patching.errors import PatchError
from nova_imgmeta.patching.survey import Scratch

__all__ = ['REFERENCE_FILE', 'MODULE_LEVEL', 'Hunk', 'hunks', 'scopes_of',
           'line_scopes', 'placements', 'load_reference', 'compare',
           'record']

REFERENCE_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              'reference-scopes.txt')
MODULE_LEVEL = '-'

_HEADER_RE = re.compile(br'^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@')
_SUCCEEDED_RE = re.compile(r'^Hunk #(\d+) succeeded at (\d+)')
_PATCHING_RE = re.compile(r'^patching file (.+)$')


class Hunk(object):
    """One hunk of a section: its new side and its first changed line."""

    def __init__(self, number, lines):
        self.number = number        # 1-based within its file, as patch says
        self.lines = lines          # [(b' ' | b'+' | b'-', bytes)]

    def new_side(self):
        return [text for tag, text in self.lines if tag in (b' ', b'+')]

    def change_offset(self):
        """Index in new_side() of the line whose scope is the hunk's."""
        added = []
        index = 0
        for tag, text in self.lines:
            if tag == b'+':
                added.append((index, text))
            elif tag == b'-' and not added:
                return max(index - 1, 0)   # a removal first: the line before
            if tag != b'-':
                index += 1
        for index, text in added:
            code = text.strip()
            if code and not code.startswith(b'#'):
                return index
        return added[0][0] if added else 0


def hunks(section):
    """The Hunks of a series.Section (bytes lines, counted by the header)."""
    found = []
    lines = section.text.splitlines(True)
    index = 0
    while index < len(lines):
        match = _HEADER_RE.match(lines[index])
        index += 1
        if not match:
            continue
        old = int(match.group(2) or b'1')
        new = int(match.group(4) or b'1')
        body = []
        while (old > 0 or new > 0) and index < len(lines):
            line = lines[index]
            index += 1
            tag = line[:1]
            if tag == b'\\':
                continue             # "\ No newline at end of file"
            if tag not in (b' ', b'+', b'-'):
                raise PatchError('%s: a hunk of %s is shorter than its '
                                 'header says' % (section.path, section.path))
            body.append((tag, line[1:]))
            if tag in (b' ', b'-'):
                old -= 1
            if tag in (b' ', b'+'):
                new -= 1
        found.append(Hunk(len(found) + 1, body))
    return found


# --------------------------------------------------------------- scopes

def scopes_of(data, lines):
    """{line: scope} for the given line numbers of Python source bytes."""
    lines = sorted(set(lines))
    if not lines:
        return {}
    every = line_scopes(data, lines[-1])
    return dict((line, every[line - 1] if line <= len(every)
                 else MODULE_LEVEL) for line in lines)


def line_scopes(data, upto=None):
    """[scope of line 1, of line 2, ...] of Python source bytes.

    upto: the last line wanted (the file is read that far only).
    """
    count = len(data.splitlines())
    if upto is not None:
        count = min(count, upto)
    if sys.version_info[0] >= 3:
        readline = io.StringIO(data.decode('utf-8', 'replace')).readline
    else:
        readline = io.BytesIO(data).readline
    try:
        found = _token_scopes(readline, count)
    except (tokenize.TokenError, SyntaxError):
        found = _indent_scopes(data)        # not Python we can read
    scopes = []
    last = MODULE_LEVEL
    for number in range(1, count + 1):
        last = found.get(number, last)
        scopes.append(last)
    return scopes


def _token_scopes(readline, upto):
    """{line: scope} from the tokens (strings and comments do not count)."""
    scopes = {}
    stack = []                 # [(indent depth, name)]
    current = MODULE_LEVEL     # the scope the stack makes
    depth = 0
    pending = None             # a def/class whose body has not started
    want_name = False
    line_start = True
    after_newline = False
    for token in tokenize.generate_tokens(readline):
        kind, text, start, end = token[0], token[1], token[2], token[3]
        if start[0] > upto:
            break
        if kind == tokenize.INDENT:
            depth += 1
            if pending is not None:
                stack.append((depth, pending))
                current = '.'.join(entry[1] for entry in stack)
            pending, after_newline = None, False
            continue        # INDENT and DEDENT sit on the next statement
        if kind == tokenize.DEDENT:
            depth -= 1
            if stack and stack[-1][0] > depth:
                while stack and stack[-1][0] > depth:
                    stack.pop()
                current = '.'.join(e[1] for e in stack) or MODULE_LEVEL
            continue
        if kind == tokenize.NEWLINE:
            line_start, after_newline = True, True
        elif kind not in (tokenize.NL, tokenize.COMMENT):
            if after_newline:
                pending, after_newline = None, False   # a one-line def
            if want_name and kind == tokenize.NAME:
                pending, want_name = text, False
            elif line_start and kind == tokenize.NAME and \
                    text in ('def', 'class'):
                want_name = True
            if text != 'async':     # a NAME, or ASYNC on Python 3.5-3.6
                line_start = False
        if start[0] not in scopes:
            scopes[start[0]] = current
        for row in range(start[0] + 1, end[0] + 1):
            scopes.setdefault(row, current)
    return scopes


def _indent_scopes(data):
    """{line: scope} from indentation alone (for code tokenize refuses)."""
    scopes = {}
    stack = []                 # [(indent, name)]
    for number, raw in enumerate(data.splitlines(), 1):
        line = raw.decode('utf-8', 'replace')
        stripped = line.lstrip()
        if not stripped or stripped.startswith('#'):
            continue
        indent = len(line) - len(stripped)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        scopes[number] = '.'.join(e[1] for e in stack) or MODULE_LEVEL
        match = re.match(r'(?:async\s+)?(?:def|class)\s+(\w+)', stripped)
        if match:
            stack.append((indent, match.group(1)))
    return scopes


# ---------------------------------------------------------- placements

def patch_number(patch):
    """'0002' of 0002-Add-extension-points....patch."""
    match = re.match(r'^(\d+)-', patch.name)
    return match.group(1) if match else patch.name


def placements(series, pristine):
    """{(patch number, path, hunk number): scope}, series applied to pristine.

    pristine: {path: bytes or None} (a survey's State.pristine). Files the
    series creates have no entry. Raises PatchError when a hunk's place
    cannot be told.
    """
    scratch = Scratch(pristine)
    try:
        found = {}
        for patch in series.files:
            out = scratch.run(patch, verbose=True)
            where = _hunk_lines(out)
            after = scratch.read(patch.paths())
            for section in patch.sections:
                if section.created or section.deleted:
                    continue
                found.update(_place(patch, section, after[section.path],
                                    where))
        return found
    finally:
        scratch.close()


def _hunk_lines(out):
    """{(path, hunk number): first line in the patched file} from output."""
    where = {}
    path = None
    for line in out.splitlines():
        match = _PATCHING_RE.match(line)
        if match:
            path = match.group(1).strip().strip('\'"')
            continue
        match = _SUCCEEDED_RE.match(line)
        if match and path is not None:
            where[(path, int(match.group(1)))] = int(match.group(2))
    return where


def _place(patch, section, content, where):
    lines = (content or b'').splitlines(True)
    at = {}
    for hunk in hunks(section):
        first = where.get((section.path, hunk.number))
        new = hunk.new_side()
        there = lines[first - 1:first - 1 + len(new)] if first else []
        if first is None or [line.rstrip(b'\r\n') for line in there] != \
                [line.rstrip(b'\r\n') for line in new]:
            raise PatchError('cannot tell where hunk #%d of %s (%s) went'
                             % (hunk.number, section.path, patch.name))
        at[(patch_number(patch), section.path, hunk.number)] = \
            first + hunk.change_offset()
    scopes = scopes_of(content or b'', at.values())
    return dict((key, scopes[line]) for key, line in at.items())


# ------------------------------------------------------ reference table

def load_reference(path=None):
    """{series: (reference, {(patch, path, hunk): scope})} of the table."""
    path = path or REFERENCE_FILE
    table = {}
    try:
        with io.open(path, encoding='utf-8') as handle:
            lines = handle.read().splitlines()
    except (IOError, OSError) as exc:
        raise PatchError('cannot read the reference scopes %s: %s'
                         % (path, exc))
    for number, line in enumerate(lines, 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 6 or not fields[4].isdigit():
            raise PatchError('%s:%d: expected "SERIES REFERENCE PATCH PATH '
                             'HUNK SCOPE", got %r' % (path, number, line))
        name, reference, patch, rel, hunk, scope = fields
        known = table.setdefault(name, (reference, {}))
        if known[0] != reference:
            raise PatchError('%s:%d: series %s has two references (%s, %s)'
                             % (path, number, name, known[0], reference))
        known[1][(patch, rel, int(hunk))] = scope
    return table


def compare(series, placed, table):
    """Problems (strings) of placed against the table; [] when all agree."""
    if series.name not in table:
        return ['no reference scopes are recorded for series %s'
                % series.name]
    reference, expected = table[series.name]
    problems = []
    for key in sorted(placed):
        want = expected.get(key)
        if want is None:
            problems.append('hunk #%d of %s (patch %s) has no reference '
                            'scope' % (key[2], key[1], key[0]))
        elif want != placed[key]:
            problems.append('hunk #%d of %s (patch %s) lands in %s, on %s '
                            'in %s' % (key[2], key[1], key[0], placed[key],
                                       reference, want))
    return problems


def record(series, pristine, reference):
    """The table lines of series, placed on the pristine reference tree."""
    placed = placements(series, pristine)
    return ['%s %s %s %s %d %s' % (series.name, reference, key[0], key[1],
                                   key[2], placed[key])
            for key in sorted(placed)]


def main(argv=None):
    """python -m nova_imgmeta.patching.scopes SERIES TREE REFERENCE"""
    from nova_imgmeta.patching.series import load_series
    from nova_imgmeta.patching.survey import read_files

    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 3:
        print('usage: python -m nova_imgmeta.patching.scopes SERIES TREE '
              'REFERENCE (TREE: pristine Nova of the release REFERENCE)',
              file=sys.stderr)
        return 2
    name, root, reference = argv
    series = load_series(name)
    pristine = read_files(root, series.touched_files())
    for line in record(series, pristine, reference):
        print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
