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


"""bindep.txt, the reader tools/run-tests uses, and what a test does when a
program it needs is missing (issue 17, item 8: test_matches_qemu_img
failed with FileNotFoundError without qemu-img).
"""

import ast
import io
import os
import re
import subprocess
import sys

import pytest

from . import conftest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                   os.pardir)
sys.path.insert(0, os.path.join(TOP, 'tools'))
import system_packages  # noqa: E402  (tools/system_packages.py)

DEBIAN = ['platform:debian', 'platform:dpkg']


def test_bindep_lists_every_program_the_unit_tests_need():
    needed = system_packages.packages(['test'], atoms=DEBIAN)
    for program, package in sorted(conftest.SYSTEM_TOOLS.items()):
        assert package in needed, (program, package)


def test_bindep_lists_what_the_packaging_tier_installs():
    with io.open(os.path.join(TOP, 'tools', 'packaging', 'distro_prep.py'),
                 encoding='utf-8') as handle:
        source = handle.read()
    tools = ast.literal_eval(re.search(r'^TOOLS = (\{[^}]*\})', source,
                                       re.M).group(1))
    needed = system_packages.packages(['packaging'], atoms=DEBIAN)
    assert sorted(set(tools.values()) - set(needed)) == []


def test_profiles_select_their_packages():
    assert system_packages.packages(['test'], atoms=DEBIAN) == [
        'patch', 'git', 'qemu-utils']
    assert system_packages.packages(['packaging'], atoms=DEBIAN) == [
        'patch', 'git', 'rpm', 'dpkg-dev', 'quilt']
    cloud = system_packages.packages(['cloud'], atoms=DEBIAN)
    assert 'mariadb-server' in cloud and 'rabbitmq-server' in cloud
    assert 'qemu-utils' not in cloud
    rpm = system_packages.packages(['test', 'packaging'],
                                   atoms=['platform:rpm', 'platform:fedora'])
    assert 'qemu-img' in rpm and 'rpm-build' in rpm
    assert 'qemu-utils' not in rpm and 'rpm' not in rpm


@pytest.mark.parametrize('selectors,active,expected', [
    ('', ['test'], True),
    ('test', ['test'], True),
    ('test', ['default'], False),
    ('!test', ['test'], False),
    ('!test', ['default'], True),
    ('platform:dpkg test', ['test', 'platform:dpkg'], True),
    ('platform:dpkg test', ['test', 'platform:rpm'], False),
    ('platform:dpkg test', ['default', 'platform:dpkg'], False),
    ('platform:dpkg', ['default', 'platform:dpkg'], True),
    ('!platform:rpm', ['test', 'platform:dpkg'], True),
    ('test packaging', ['packaging'], True),
])
def test_selectors_as_bindep_reads_them(selectors, active, expected):
    [(_name, parsed)] = system_packages.parse('pkg [%s]\n' % selectors
                                              if selectors else 'pkg\n')
    assert system_packages.applies(parsed, set(active)) is expected


def test_a_line_that_is_no_rule_is_an_error():
    with pytest.raises(ValueError):
        system_packages.parse('[test]\n')
    assert system_packages.parse('# only\n\n  pkg  # why\n') == [
        ('pkg', [])]


def _run_without(tmp_path, program, require):
    """Run test_matches_qemu_img with nothing on PATH."""
    env = dict(os.environ, PATH=str(tmp_path))
    env.pop(conftest.REQUIRE_TOOLS, None)
    if require:
        env[conftest.REQUIRE_TOOLS] = '1'
    proc = subprocess.Popen(
        [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-rs',
         'tests/unit/test_imagefiles_qcow2.py::test_matches_qemu_img'],
        cwd=TOP, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.communicate()[0].decode('utf-8', 'replace')
    return proc.returncode, out


def test_a_missing_program_skips_naming_its_package(tmp_path):
    code, out = _run_without(tmp_path, 'qemu-img', require=False)
    assert code == 0, out
    assert '1 skipped' in out, out
    assert 'qemu-img is not installed: install the package qemu-utils' \
        in out
    assert 'NOT RUN: system programs missing' in out
    assert 'FileNotFoundError' not in out and 'No such file' not in out


def test_under_ci_a_missing_program_fails(tmp_path):
    code, out = _run_without(tmp_path, 'qemu-img', require=True)
    assert code == 1, out
    assert '1 error' in out, out   # at setup: the test never started
    assert 'qemu-img is not installed: install the package qemu-utils' \
        in out
    assert '%s=1' % conftest.REQUIRE_TOOLS in out
