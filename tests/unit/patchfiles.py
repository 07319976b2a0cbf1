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

"""Patch files made by hand, for the synthetic Nova trees of the
``nova-imgmeta patch`` tests (test_patching.py, test_patching_choice.py):
``git format-patch`` output of the diffs given, and the files they apply to.
"""

from __future__ import unicode_literals

import difflib
import io
import os

__all__ = ['diff', 'patch_file', 'write']


def write(path, text):
    """Write text with LF line ends, making the directories first."""
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    with io.open(path, 'w', newline='\n') as handle:
        handle.write(text)


def diff(path, old, new, context=3):
    """The ``git diff`` of one file from old to new text (old None: a new
    file), with ``context`` lines of context.
    """
    lines = ['diff --git a/%s b/%s\n' % (path, path)]
    if old is None:
        lines.append('new file mode 100644\n')
        body = difflib.unified_diff([], new.splitlines(True),
                                    '/dev/null', 'b/' + path, n=context)
    else:
        body = difflib.unified_diff(old.splitlines(True),
                                    new.splitlines(True),
                                    'a/' + path, 'b/' + path, n=context)
    for line in body:
        if line.startswith('---') or line.startswith('+++'):
            line = line.rstrip() + '\n'
        if line.startswith('@@ -0,0'):
            line = line.replace('@@ -0,0 +1 @@', '@@ -0,0 +1,%d @@'
                                % len(new.splitlines()))
        lines.append(line)
    return ''.join(lines)


def patch_file(subject, diffs):
    """A patch as ``git format-patch`` writes it, of these diffs."""
    return ('From 0000000000000000000000000000000000000000 Mon Sep 17 '
            '00:00:00 2001\nFrom: Test <test@example.invalid>\n'
            'Date: Mon, 23 Nov 2026 10:00:00 +0000\n'
            'Subject: [PATCH] %s\n\nA description.\n---\n%s--\n2.0\n'
            % (subject, ''.join(diffs)))
