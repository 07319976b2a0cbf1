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

"""The Nova release lines: one entry per line, the one place for them.

A new line is one more entry here, plus its constraints file in
tests/nova/constraints/, its series in patches-src/ with their MAP rule,
and a release note; ``tools/regen`` derives the rest (tox.ini's env list,
the README tables, contrib/), and ``tools/run-tests`` reads the lines CI
runs from here. The series applied to the tree is not named here:
``nova-imgmeta patch apply`` picks it from MAP for the Nova version, as it
does for operators.

    releases.py envs [--ci]     the tier's tox envs (CI's default set)
"""

import collections
import sys

__all__ = ['CI_LINES', 'Line', 'LINES', 'NOVA_TESTS', 'WITH_PLUGIN_ONLY',
           'line', 'tox_envs']

# Nova's own test modules run with the series applied, with and without
# nova-imgmeta installed: the API code the series changes (rebuild,
# createImage, createBackup, shelve) and its controllers. The test modules
# the series adds or changes are added to these by the runner.
NOVA_TESTS = (
    'nova.tests.unit.compute.test_compute_api',
    'nova.tests.unit.compute.test_compute',
    'nova.tests.unit.compute.test_shelve',
    'nova.tests.unit.api.openstack.compute.test_shelve',
    'nova.tests.unit.api.openstack.compute.test_create_backup',
    'nova.tests.unit.api.openstack.compute.test_server_actions',
)

# With nova-imgmeta installed, the tier runs the same tests but for these
# modules, of which it runs only the classes that drive the API code the
# series changes and the hooks run in: the compute manager's tests of
# test_compute (ComputeTestCase and the like: 366 of its 506 tests on
# Queens) cannot reach a hook. NOVA_TIER_FULL=1 runs the whole modules in
# both stages; they pass that way too (doc/source/patches.rst has the
# counts).
WITH_PLUGIN_ONLY = {
    'nova.tests.unit.compute.test_compute': (
        'nova.tests.unit.compute.test_compute.ComputeAPITestCase',),
}

# Test requirements left out: they do not install in these environments
# (bandit: no Python 2.7 release left) or are not needed (docs, the
# PostgreSQL driver, gabbi for the placement API tests). hacking stays, at
# the release's own pin: test discovery imports nova/tests/unit/
# test_hacking.py, which needs it.
DROPPED_TEST_REQUIREMENTS = (
    'bandit', 'sphinx', 'sphinxcontrib-*', 'os-api-ref', 'openstackdocstheme',
    'reno', 'whereto', 'psycopg2', 'psycopg2-binary', 'gabbi', 'mypy',
    # the VMware driver's library, for tests the tier does not run; the
    # suds-jurko 0.6 that Wallaby pins no longer builds (use_2to3)
    'oslo.vmware',
)


class Line(collections.namedtuple('Line', [
        'series', 'nova', 'python', 'extra_packages', 'extra_tests',
        'renamed_tests', 'pythons', 'eol_tag', 'ci'])):
    """One Nova release line.

    series: name (also of tests/nova/constraints/upper-constraints-NAME.txt);
    nova: the release tested (the newest of the line); python: the pyenv
    version of the interpreter (2.x: a virtualenv, 3.x: ``-m venv``);
    extra_packages: installed with the requirements (same constraints);
    extra_tests: Nova test modules run on top of NOVA_TESTS;
    renamed_tests: ``{module of NOVA_TESTS: its name in this line}``;
    pythons: the Python versions ("X.Y") the line's Nova runs on, so the
    plugin too; eol_tag: the line's end-of-life git tag (None if it has
    none), which the series also serve; ci: whether ``tools/run-tests``
    runs the line's tier by default (``tools/run-tests all`` runs every
    line).
    """

    @property
    def tox_env(self):
        return 'nova-' + self.series

    @property
    def constraints(self):
        return 'upper-constraints-%s.txt' % self.series

    @property
    def nova_tests(self):
        renamed = dict(self.renamed_tests)
        return (tuple(renamed.get(module, module) for module in NOVA_TESTS) +
                tuple(self.extra_tests))


def _line(series, nova, python, pythons, extra_packages=(), extra_tests=(),
          renamed_tests=(), eol_tag=True, ci=None):
    if ci is None:
        ci = series in CI_LINES
    if eol_tag is True:
        eol_tag = series + '-eol'
    return Line(series, nova, python, tuple(extra_packages),
                tuple(extra_tests), tuple(sorted(dict(renamed_tests).items())),
                tuple(pythons), eol_tag, bool(ci))


# Victoria renamed test_compute_api.
# The lines whose tier CI runs by default: the oldest and the newest of
# each Python generation the plugin meets inside Nova (2.7: Pike, Train;
# 3.6/3.8: Ussuri, Victoria; 3.9 to 3.12: Wallaby, 2026.2). Queens, the
# demo's line, is proven end to end by the cloud tier (cloud-queens) in
# CI. A tier took 4 to 5 minutes on a cold 2-core machine and the whole
# CI run must fit 80; the others stay one command away (tools/run-tests
# nova-LINE, or tools/run-tests nova for all of them).
CI_LINES = ('pike', 'train', 'ussuri', 'victoria', 'wallaby', '2026.2')

_TEST_API = {'nova.tests.unit.compute.test_compute_api':
             'nova.tests.unit.compute.test_api'}

# From Stein on, Nova's functional harness imports the placement service,
# which left Nova in Stein: openstack-placement, at the release of the same
# cycle (neither test-requirements nor upper-constraints pin it).
LINES = collections.OrderedDict((entry.series, entry) for entry in [
    _line('pike', nova='16.1.8', python='2.7.18', pythons=['2.7']),
    _line('queens', nova='17.0.13', python='2.7.18', pythons=['2.7']),
    _line('rocky', nova='18.3.0', python='2.7.18', pythons=['2.7']),
    _line('stein', nova='19.3.2', python='2.7.18', pythons=['2.7', '3.6'],
          extra_packages=['openstack-placement~=1.0']),
    _line('train', nova='20.6.1', python='2.7.18', pythons=['2.7', '3.6'],
          extra_packages=['openstack-placement~=2.0']),
    _line('ussuri', nova='21.2.4', python='3.8.18', pythons=['3.6', '3.8'],
          extra_packages=['openstack-placement~=3.0']),
    _line('victoria', nova='22.4.0', python='3.8.18', pythons=['3.6', '3.8'],
          extra_packages=['openstack-placement~=4.0'],
          renamed_tests=_TEST_API),
] + [
    # Wallaby on: the tier runs the interpreter of a distribution that
    # ships the line (CentOS Stream 9: 3.9; Ubuntu 20.04: 3.8; Ubuntu 22.04:
    # 3.10; Debian 12: 3.11; Ubuntu 24.04: 3.12), so that the plugin is
    # tested on each (CI runs those of CI_LINES by default).
    _line(series, nova=nova, python=python, pythons=pythons,
          extra_packages=['openstack-placement~=%d.0' % placement] + (
              # Nova up to 2024.2 imports pkg_resources (nova/virt), and a
              # Python 3.12 venv has no setuptools; distributions ship it.
              ['setuptools<81'] if series == '2024.2' else []),
          renamed_tests=_TEST_API, eol_tag=eol_tag)
    for series, nova, python, pythons, placement, eol_tag in [
        ('wallaby', '23.2.2', '3.9.18', ['3.6', '3.8', '3.9'], 5,
         'wallaby-eol'),
        # Xena and Yoga: 3.8, the newest Python their upper-constraints pin
        # (on 3.9 numpy, networkx, kombu... are unpinned, and the newest
        # releases need 3.11)
        ('xena', '24.2.1', '3.8.18', ['3.6', '3.8', '3.9'], 6, 'xena-eol'),
        ('yoga', '25.3.0', '3.8.18', ['3.8', '3.9', '3.10'], 7, 'yoga-eom'),
        ('zed', '26.3.0', '3.10.13', ['3.8', '3.9', '3.10'], 8, 'zed-eom'),
        ('2023.1', '27.5.1', '3.10.13', ['3.8', '3.9', '3.10'], 9,
         '2023.1-eom'),
        ('2023.2', '28.3.1', '3.11.7', ['3.9', '3.10', '3.11'], 10,
         '2023.2-eol'),
        ('2024.1', '29.4.0', '3.11.7', ['3.8', '3.9', '3.10', '3.11', '3.12'],
         11, '2024.1-eom'),
        ('2024.2', '30.3.0', '3.12.1', ['3.9', '3.10', '3.11', '3.12'], 12,
         '2024.2-eol'),
        ('2025.1', '31.3.1', '3.12.1', ['3.9', '3.10', '3.11', '3.12'], 13,
         None),
        ('2025.2', '32.2.1', '3.12.1', ['3.10', '3.11', '3.12'], 14, None),
        ('2026.1', '33.0.2', '3.12.1', ['3.10', '3.11', '3.12'], 15, None),
        ('2026.2', '34.0.0', '3.12.1', ['3.10', '3.11', '3.12'], 16, None),
    ]
])


def line(series):
    """The entry of ``series`` (or ``nova-SERIES``, its tox env)."""
    if series.startswith('nova-'):
        series = series[len('nova-'):]
    try:
        return LINES[series]
    except KeyError:
        raise SystemExit('unknown series %r: the real-Nova tier knows %s'
                         % (series, ', '.join(LINES)))


def tox_envs(ci_only=False, rows=None):
    """The tier's tox envs, oldest line first (only CI's with ci_only).

    rows: the tier's rows, each with ``tox_env`` and ``ci`` (default:
    LINES's; the cloud tier passes its own).
    """
    return [row.tox_env for row in (LINES.values() if rows is None else rows)
            if row.ci or not ci_only]


def envs_main(argv, program, tox_envs):
    """``PROGRAM envs [--ci]``, what tools/run-tests asks each tier."""
    if argv[:1] != ['envs'] or argv[1:] not in ([], ['--ci']):
        print('usage: %s envs [--ci]' % program, file=sys.stderr)
        return 2
    print('\n'.join(tox_envs(ci_only=argv[1:] == ['--ci'])))
    return 0


def main(argv):
    return envs_main(argv, 'releases.py', tox_envs)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
