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
"""The line directives of the shared files of patches-src/.

A shared file (the hook runner, its tests) is written once for every
series; where Nova's lines differ, it keeps each variant between
directives that name a variable of the series' recipe::

    #@ if NAME == VALUE        (or NAME != VALUE)
    #@ elif NAME == VALUE
    #@ else
    #@ endif

A line whose first non-blank characters are ``#@`` is a directive and never
reaches the output; any other line is copied when every enclosing condition
holds. Blocks nest. There is no other syntax: no substitution inside
lines, so a rendered file is always a text one can find in the template.

Every variable and value must be declared (patches-src/patches.ini,
``[variables]``), and a series must set every variable its templates name:
a misspelt name or value is an error, never a silently skipped block.
"""

import re

__all__ = ['TemplateError', 'render', 'names']

_DIRECTIVE = re.compile(r'^\s*#@\s*(.*?)\s*$')
_CONDITION = re.compile(r'^(\w+)\s*(==|!=)\s*(\S+)$')


class TemplateError(Exception):
    """A template or its variables are wrong; the message says where."""


def _condition(text, where, declared):
    match = _CONDITION.match(text)
    if not match:
        raise TemplateError('%s: expected "NAME == VALUE" or "NAME != '
                            'VALUE", got %r' % (where, text))
    name, operator, value = match.groups()
    if declared is not None:
        if name not in declared:
            raise TemplateError('%s: undeclared variable %r (patches.ini '
                                'declares %s)' % (where, name,
                                                  ', '.join(sorted(declared))))
        if value not in declared[name]:
            raise TemplateError('%s: %s has no value %r (declared: %s)'
                                % (where, name, value,
                                   ', '.join(declared[name])))
    return name, operator, value


def _directives(text, source, declared):
    """[(line number, keyword, condition or None)] of the directives."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        match = _DIRECTIVE.match(line)
        if not match:
            continue
        where = '%s:%d' % (source, number)
        words = match.group(1).split(None, 1)
        keyword = words[0] if words else ''
        rest = words[1] if len(words) > 1 else ''
        if keyword in ('if', 'elif'):
            found.append((number, keyword, _condition(rest, where, declared)))
        elif keyword in ('else', 'endif') and not rest:
            found.append((number, keyword, None))
        else:
            raise TemplateError('%s: unknown directive %r' % (where, line))
    return found


def names(text, source='<template>', declared=None):
    """The variables the directives of ``text`` name, sorted."""
    return sorted(set(condition[0] for _n, _k, condition
                      in _directives(text, source, declared) if condition))


def render(text, variables, source='<template>', declared=None):
    """``text`` with the directives applied for ``variables`` ({name: value}).

    Raises TemplateError for a malformed block, an undeclared name or value,
    or a variable the template names that ``variables`` does not set.
    """
    directives = dict((number, (keyword, condition)) for number, keyword,
                      condition in _directives(text, source, declared))
    missing = [name for name in names(text, source, declared)
               if name not in variables]
    if missing:
        raise TemplateError('%s needs %s, which the series does not set'
                            % (source, ', '.join(missing)))

    def holds(condition):
        name, operator, value = condition
        return (variables[name] == value) == (operator == '==')

    # One frame per open block: [enclosing block active, a branch was
    # taken, this branch active, else seen, line of the if].
    stack = []
    out = []
    for number, line in enumerate(text.splitlines(True), 1):
        if number not in directives:
            if all(frame[2] for frame in stack):
                out.append(line)
            continue
        keyword, condition = directives[number]
        where = '%s:%d' % (source, number)
        if keyword == 'if':
            active = all(frame[2] for frame in stack)
            taken = holds(condition)
            stack.append([active, taken, active and taken, False, number])
            continue
        if not stack:
            raise TemplateError('%s: %s without if' % (where, keyword))
        frame = stack[-1]
        if frame[3] and keyword != 'endif':
            raise TemplateError('%s: %s after else' % (where, keyword))
        if keyword == 'elif':
            branch = not frame[1] and holds(condition)
            frame[1] = frame[1] or branch
            frame[2] = frame[0] and branch
        elif keyword == 'else':
            frame[2] = frame[0] and not frame[1]
            frame[1] = frame[3] = True
        else:
            stack.pop()
    if stack:
        raise TemplateError('%s:%d: if without endif' % (source, stack[-1][4]))
    return ''.join(out)
