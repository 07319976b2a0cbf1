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
"""tools/check-license-headers.py: which files count, what a header is."""

import importlib.util
import os

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _load():
    spec = importlib.util.spec_from_file_location(
        'check_license_headers',
        os.path.join(TOP, 'tools', 'check-license-headers.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _load()
with open(os.path.abspath(__file__)) as _handle:
    HEADER = ''.join(_handle.readlines()[:13])


@pytest.fixture
def tree(tmpdir):
    def make(files):
        for path, text in files.items():
            tmpdir.join(path).write(text, ensure=True)
        return check.lacking(str(tmpdir), list(files))
    return make


def test_python_and_shell_files_with_and_without_the_header(tree):
    checked, missing, _undeclared = tree({
        'pkg/good.py': '#!/usr/bin/env python\n' + HEADER + 'import os\n',
        'pkg/bad.py': '"""Docstring."""\nimport os\n',
        'tools/run.sh': 'set -e\n',
        'tools/script': '#!/bin/bash\n' + HEADER + 'echo\n',
        'tools/noext': '#!/bin/bash\necho\n',
        'README.md': 'text\n',
        'pkg/__init__.py': '',
        'nova_imgmeta/patches/pike/x.py': 'nova code\n',
        'tests/recordings/nova/x.py': 'data\n',
    })
    assert checked == ['pkg/bad.py', 'pkg/good.py', 'tools/noext',
                       'tools/run.sh', 'tools/script']
    assert missing == ['pkg/bad.py', 'tools/noext', 'tools/run.sh']


@pytest.mark.parametrize('text, ok', [
    # re-indented and re-wrapped, as hacking's H103 accepts
    (' '.join(HEADER.replace('#', '').split()).join(['# ', '\n']), True),
    ('# SPDX-License-Identifier: Apache-2.0\n', True),
    (HEADER.replace('Version 2.0', 'Version 3.0'), False),
    (HEADER.replace('WITHOUT\n', '\n'), False),
    ('\n' * 40 + HEADER, False),
    ('# Licensed under the Apache License 2.0.\n', False),
])
def test_what_counts_as_the_header(tree, text, ok):
    _checked, missing, _undeclared = tree({'f.py': text + 'x = 1\n'})
    assert missing == ([] if ok else ['f.py'])


def test_exit_status_and_listing(monkeypatch, tmpdir, capsys):
    tmpdir.join('good.py').write(HEADER + 'x = 1\n')
    tmpdir.join('bad.sh').write('echo\n')
    monkeypatch.setattr(check, 'TOP', str(tmpdir))
    assert check.main(['good.py']) == 0
    assert check.main(['good.py', 'bad.sh']) == 1
    out, err = capsys.readouterr()
    assert out == 'bad.sh\n'
    assert err.splitlines() == [
        '0 of 1 source files lack the Apache-2.0 license header, 0 the '
        'encoding declaration they need',
        '1 of 2 source files lack the Apache-2.0 license header, 0 the '
        'encoding declaration they need']


CODING = '# -*- coding: utf-8 -*-\n'


@pytest.mark.parametrize('text, ok', [
    (HEADER + 'x = 1\n', True),                      # ASCII: nothing needed
    (CODING + HEADER + 'x = "\u00e9"\n', True),
    ('#!/usr/bin/env python\n' + CODING + HEADER + 'x = "\u00e9"\n', True),
    # the header pushed the declaration to line 15: Python 2.7 refuses it
    (HEADER + '\n' + CODING + 'x = "\u00e9"\n', False),
    (HEADER + 'x = "\u00e9"\n', False),
])
def test_non_ascii_python_needs_its_encoding_on_line_1_or_2(tree, text, ok):
    _checked, missing, undeclared = tree({'f.py': text})
    assert missing == []
    assert undeclared == ([] if ok else ['f.py'])


def test_an_undeclared_encoding_fails_the_check(monkeypatch, tmpdir, capsys):
    tmpdir.join('late.py').write_text(HEADER + CODING + 'x = "\u00e9"\n',
                                      encoding='utf-8')
    monkeypatch.setattr(check, 'TOP', str(tmpdir))
    assert check.main(['late.py']) == 1
    out, _err = capsys.readouterr()
    assert out == ('late.py: non-ASCII but no encoding declaration on line '
                   '1 or 2\n')
