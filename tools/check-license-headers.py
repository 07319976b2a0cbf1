#!/usr/bin/env python3
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
"""List the source files that lack the Apache-2.0 license header.

    tools/check-license-headers.py [PATH...]     (tox -e license-headers)

Source files: the files git tracks (or the PATHs given) named *.py or *.sh,
or starting with "#!". Left out: empty files (an empty __init__.py needs no
header), and nova_imgmeta/patches/ and tests/recordings/ (Nova's code and
recorded data). A file has the header when its first 40 lines hold the
Apache License 2.0 notice that OpenStack projects use (as hacking's H103
compares it: comment signs and line breaks do not matter) or an
"SPDX-License-Identifier: Apache-2.0" line.

A header must not push the encoding declaration down: a *.py file with
non-ASCII bytes needs "# -*- coding: utf-8 -*-" on line 1 or 2 (PEP 263),
or Python 2.7 refuses to compile it. Such files are listed as well.

Exit status: 0 every source file has it, 1 some lack it (listed), 2 error.
"""

import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEAD_LINES = 40
EXCLUDED = ('nova_imgmeta/patches/', 'tests/recordings/')
NOTICE = ' '.join("""
Licensed under the Apache License, Version 2.0 (the "License"); you may
not use this file except in compliance with the License. You may obtain
a copy of the License at

http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
License for the specific language governing permissions and limitations
under the License.""".split())
SPDX = re.compile(r'SPDX-License-Identifier:\s*Apache-2\.0\b')
CODING = re.compile(br'^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)')


def tracked_files(top):
    out = subprocess.check_output(['git', '-C', top, 'ls-files', '-z'])
    return [path for path in out.decode('utf-8').split('\0') if path]


def is_source(top, path):
    if path.startswith(EXCLUDED):
        return False
    full = os.path.join(top, path)
    if os.path.islink(full) or not os.path.isfile(full):
        return False
    if path.endswith(('.py', '.sh')):
        return True
    with open(full, 'rb') as handle:
        return handle.read(2) == b'#!'


def has_header(text):
    head = text.splitlines()[:HEAD_LINES]
    if any(SPDX.search(line) for line in head):
        return True
    flat = ' '.join(' '.join(head).replace('#', ' ').split())
    return NOTICE in flat


def declares_encoding(data):
    """PEP 263: ASCII files need nothing; others a declaration on line 1-2."""
    try:
        data.decode('ascii')
        return True
    except UnicodeDecodeError:
        return any(CODING.match(line) for line in data.splitlines()[:2])


def lacking(top, paths):
    """(source files checked, those without the header), sorted."""
    checked, missing, undeclared = [], [], []
    for path in sorted(paths):
        if not is_source(top, path):
            continue
        with open(os.path.join(top, path), 'rb') as handle:
            data = handle.read()
        text = data.decode('utf-8', 'replace')
        if not text.strip():
            continue
        checked.append(path)
        if not has_header(text):
            missing.append(path)
        if path.endswith('.py') and not declares_encoding(data):
            undeclared.append(path)
    return checked, missing, undeclared


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        paths = argv or tracked_files(TOP)
    except (OSError, subprocess.CalledProcessError) as exc:
        print('check-license-headers: cannot list the files git tracks: %s'
              % exc, file=sys.stderr)
        return 2
    checked, missing, undeclared = lacking(TOP, paths)
    for path in missing:
        print(path)
    for path in undeclared:
        print('%s: non-ASCII but no encoding declaration on line 1 or 2'
              % path)
    print('%d of %d source files lack the Apache-2.0 license header, '
          '%d the encoding declaration they need'
          % (len(missing), len(checked), len(undeclared)), file=sys.stderr)
    return 1 if missing or undeclared else 0


if __name__ == '__main__':
    sys.exit(main())
