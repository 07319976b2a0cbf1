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

"""Fixtures of the unit tests: a private ConfigOpts, a clean dispatcher,
and the system programs some tests need (``@pytest.mark.requires_tool``).
"""

import os

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import pytest

from nova_imgmeta import dispatch
from nova_imgmeta import exceptions
from nova_imgmeta import opts

try:
    from shutil import which
except ImportError:  # Python 2.7
    from distutils.spawn import find_executable as which

#: The programs tests call, and the Debian package of bindep.txt that has
#: each (a unit test checks that bindep.txt lists them).
SYSTEM_TOOLS = {
    'qemu-img': 'qemu-utils',
    'patch': 'patch',
    'git': 'git',
}
#: Set by tools/run-tests (CI): a missing program fails its tests instead
#: of skipping them.
REQUIRE_TOOLS = 'NOVA_IMGMETA_REQUIRE_SYSTEM_TOOLS'


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'requires_tool(program, ...): the test runs these system '
        'programs (SYSTEM_TOOLS, bindep.txt); when one is missing it skips, '
        'naming the package, or fails under %s=1' % REQUIRE_TOOLS)


def missing_tool(program):
    """Why the test cannot run without ``program``, or None."""
    if which(program) is not None:
        return None
    return ('%s is not installed: install the package %s (bindep.txt, '
            'profile test; tools/run-tests installs it as root on Debian)'
            % (program, SYSTEM_TOOLS.get(program, '?')))


@pytest.fixture(autouse=True)
def _system_tools(request):
    for marker in request.node.iter_markers('requires_tool'):
        for program in marker.args:
            why = missing_tool(program)
            if why is None:
                continue
            if os.environ.get(REQUIRE_TOOLS) == '1':
                pytest.fail('%s (%s=1: missing tools fail)'
                            % (why, REQUIRE_TOOLS), pytrace=False)
            pytest.skip(why)


def pytest_terminal_summary(terminalreporter):
    """Say loudly which tests did not run for want of a program."""
    reasons = {}
    for report in terminalreporter.stats.get('skipped', []):
        reason = str(getattr(report, 'longrepr', ('', '', ''))[-1])
        if ' is not installed: install the package ' in reason:
            reason = reason.split('Skipped: ', 1)[-1]
            reasons[reason] = reasons.get(reason, 0) + 1
    if not reasons:
        return
    terminalreporter.section('NOT RUN: system programs missing', sep='!',
                             red=True, bold=True)
    for reason, count in sorted(reasons.items()):
        terminalreporter.write_line('%d test(s): %s' % (count, reason))


@pytest.fixture
def config():
    """``oslo_config.fixture.Config`` on a fresh ConfigOpts with our opts."""
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    fixture = config_fixture.Config(conf)
    fixture.setUp()
    conf([], project='nova-imgmeta-tests', default_config_files=[])
    yield fixture
    fixture.cleanUp()


@pytest.fixture
def conf(config):
    return config.conf


@pytest.fixture
def conf_file(tmp_path):
    """Return ``load(text)``: a ConfigOpts parsed from a nova.conf text."""
    def load(text):
        path = tmp_path / 'nova.conf'
        path.write_text(u'' + text)
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        conf(['--config-file', str(path)], project='nova-imgmeta-tests',
             default_config_files=[])
        return conf
    return load


@pytest.fixture(autouse=True)
def clean_state():
    dispatch.reset()
    exceptions._reset_for_tests()
    yield
    dispatch.reset()
    exceptions._reset_for_tests()
