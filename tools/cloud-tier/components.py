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

"""The cloud's table: which release of every service each line runs.

One row per series of tools/nova-tier/releases.py, whose entries give the
Nova release and the line's Python (not repeated here). Every version is
a PyPI release of the same cycle, installed from its sdist or wheel and
pinned by the line's upper-constraints (tests/nova/constraints/), as
devstack's ``<line>-eol`` tag installs them. Where a row differs from that
rule it says why:

* Glance 16.x (Queens) was never published on PyPI. The Queens cloud runs
  Pike's Glance 15.0.2, in a virtualenv of its own pinned by Pike's
  constraints: with its default configuration Queens' Glance 16 serves the
  same image API as 15.0.2 (the recordings of a real Glance 16.0.1 in
  tests/recordings/glance16 answer with the shapes 15.0.2 gives, checked by
  tests/glance/test_glance_recorded.py), whereas Rocky's 17.0.1 adds API
  v2.7 (``os_hidden``, ``os_hash_*``, ``visibility=all``).
* Placement: inside Nova (``nova-placement-api``) up to Rocky; from Stein
  on, ``openstack-placement`` at the release the real-Nova tier already
  installs for the line's functional harness (releases.py), as devstack's
  stein-eol and later run it.
* Tempest: the release devstack's ``<line>-eol`` tag pins as the one that
  supports the line (stackrc ``TEMPEST_BRANCH``), in its own virtualenv
  pinned by the line's constraints (their own ``tempest`` pin dropped), as
  devstack's lib/tempest installs it. Tempest 24 and later no longer run
  on Python 2.7: Stein's and Train's run on 3.6.
* uWSGI (Keystone and Placement, as devstack runs them) is not pinned by
  upper-constraints: 2.0.21 builds on every Python here.
* MariaDB and RabbitMQ are Debian's packages: bindep.txt's ``cloud``
  profile (tools/cloud installs them with apt-get when missing).
"""

import collections
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, 'tools', 'nova-tier'))
import releases  # noqa: E402

__all__ = ['Components', 'COMPONENTS', 'UWSGI', 'components', 'tox_envs']

#: what builds on every Python of the table (not in upper-constraints)
UWSGI = 'uwsgi==2.0.21'


def _row(keystone, neutron, glance, tempest, glance_line=None,
         tempest_python=None, ci=False, glance_policy=False):
    return {'keystone': keystone, 'neutron': neutron, 'glance': glance,
            'glance_line': glance_line, 'tempest': tempest,
            'tempest_python': tempest_python, 'ci': ci,
            'glance_policy': glance_policy}


#: series: its services (glance_line: the line whose Python and pins
#: Glance installs with, when not its own; tempest_python: when Tempest
#: cannot run on the line's Python; ci: tools/run-tests runs its tier by
#: default -- the others stay one command away; glance_policy: Glance runs
#: with the policy.json of its sdist, as devstack's lib/glance copies it:
#: from Rocky on, a Glance without a policy file and without its policies
#: in code denies all but admins, default 'role:admin')
_TABLE = collections.OrderedDict([
    ('pike', _row('12.0.3', '11.0.8', '15.0.2', '21.0.0')),
    ('queens', _row('13.0.4', '12.1.1', '15.0.2', '21.0.0',
                    glance_line='pike', ci=True)),
    ('rocky', _row('14.2.0', '13.0.7', '17.0.1', '23.0.0',
                   glance_policy=True)),
    ('stein', _row('15.0.1', '14.4.2', '18.0.1', '24.0.0',
                   tempest_python='3.6.15')),
    ('train', _row('16.0.2', '15.3.4', '19.0.4', '26.1.0',
                   tempest_python='3.6.15')),
    ('ussuri', _row('17.0.1', '16.4.2', '20.2.0', '26.1.0')),
    ('victoria', _row('18.1.0', '17.4.1', '21.1.0', '26.1.0')),
])


class Components(collections.namedtuple('Components', [
        'line', 'keystone', 'neutron', 'glance', 'glance_line', 'placement',
        'tempest', 'tempest_python', 'ci', 'glance_policy'])):
    """The services of one series' cloud.

    line: the releases.Line (Nova version, Python); glance_line: the
    releases.Line whose Python and constraints Glance installs with (the
    same line but for Queens); placement: a pip requirement of
    openstack-placement, or None when Nova serves placement itself; ci:
    whether ``tools/run-tests`` runs the tier by default.
    """

    @property
    def tox_env(self):
        return 'cloud-' + self.series

    @property
    def series(self):
        return self.line.series

    @property
    def python(self):
        return self.line.python

    @property
    def glance_apart(self):
        """Glance needs a virtualenv of its own (another line's pins)."""
        return self.glance_line.series != self.line.series

    def describe(self):
        """``[(component, version, python)]`` for people."""
        rows = [('nova', self.line.nova, self.python),
                ('keystone', self.keystone, self.python),
                ('glance', self.glance + ('' if not self.glance_apart else
                                          ' (%s)' % self.glance_line.series),
                 self.glance_line.python),
                ('neutron', self.neutron, self.python),
                ('placement', self.placement or 'in nova', self.python),
                ('tempest', self.tempest, self.tempest_python)]
        return rows


def _placement(line):
    for requirement in line.extra_packages:
        if requirement.startswith('openstack-placement'):
            return requirement
    return None


def components(series):
    """The Components of ``series`` (or ``cloud-SERIES``)."""
    if series.startswith('cloud-'):
        series = series[len('cloud-'):]
    if series not in _TABLE:
        raise SystemExit('unknown series %r: the cloud knows %s'
                         % (series, ', '.join(_TABLE)))
    line = releases.line(series)
    row = _TABLE[series]
    return Components(
        line=line, keystone=row['keystone'], neutron=row['neutron'],
        glance=row['glance'],
        glance_line=releases.line(row['glance_line'] or series),
        placement=_placement(line), tempest=row['tempest'],
        tempest_python=row['tempest_python'] or line.python, ci=row['ci'],
        glance_policy=row['glance_policy'])


#: every series, in order (the rows of releases.LINES that have a cloud)
COMPONENTS = collections.OrderedDict(
    (series, components(series)) for series in releases.LINES
    if series in _TABLE)


def tox_envs(ci_only=False):
    """The tier's tox envs, oldest line first (only CI's with ci_only)."""
    return releases.tox_envs(ci_only, COMPONENTS.values())


def main(argv):
    return releases.envs_main(argv, 'components.py', tox_envs)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
