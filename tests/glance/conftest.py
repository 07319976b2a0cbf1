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

"""Fixtures of the Glance tier: a real Glance API server on loopback, a
Nova stand-in with Queens' API behaviour, and a seeded catalogue.

The Glance venv comes from tools/glance-tier/setup-venv.sh; the whole tier
is skipped (with the reason) when it is missing.
"""

import os
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
for path in (HERE, REPO):
    if path not in sys.path:
        sys.path.insert(0, path)

from fake_nova import start_fake_nova  # noqa: E402
import glance_server  # noqa: E402
from loopback_http import start_proxy  # noqa: E402

from nova_imgmeta.cli import main as cli_main  # noqa: E402

TIMINGS = glance_server.TIMINGS


@pytest.fixture(autouse=True)
def _no_cloud_environment(monkeypatch):
    """The operator's own OS_* variables must not reach the tests."""
    for name in list(os.environ):
        if name.startswith('OS_'):
            monkeypatch.delenv(name)


#: Why the tests that need a Glance server skip (the terminal summary
#: counts them by it).
NO_GLANCE = ('no Glance venv: run tools/glance-tier/setup-venv.sh (or set '
             'NOVA_IMGMETA_GLANCE_VENV)')


@pytest.fixture(scope='session')
def glance(tmp_path_factory):
    if glance_server.glance_bin_dir() is None:
        pytest.skip(NO_GLANCE)
    server = glance_server.GlanceServer(
        str(tmp_path_factory.mktemp('glance'))).start()
    TIMINGS['glance startup (s)'] = round(server.startup_seconds, 2)
    yield server
    server.stop()


@pytest.fixture(scope='session')
def nova():
    server = start_fake_nova()
    yield server
    server.shutdown()


@pytest.fixture
def admin(glance):
    return glance_server.AdminClient(glance.url)


class Catalogue(object):
    """A realistic catalogue in one project (``owner``) of its own."""

    def __init__(self, admin, nova, owner):
        self.admin = admin
        self.nova = nova
        self.owner = owner
        self.ids = {}

    def image(self, key, **props):
        fields = {'name': '%s-%s' % (key, self.owner[-6:]),
                  'disk_format': 'qcow2', 'container_format': 'bare',
                  'owner': self.owner}
        fields.update(props)
        created = self.admin.create(**fields)
        self.ids[key] = created['id']
        return created['id']

    def server(self, key, image_key=None, image_id=None, deleted=False,
               project=None):
        uuid = glance_server.new_id()
        if image_key:
            image_id = self.ids[image_key]
        self.nova.state.add(uuid, image_id or '', deleted=deleted,
                            project=project or self.owner,
                            updated='2030-01-01T00:00:00Z')
        self.ids[key] = uuid
        return uuid

    def get(self, key):
        return self.admin.get(self.ids[key])

    def base_image_refs(self):
        """{key: base_image_ref, or '<absent>'} of the catalogue's images
        (its servers and the deleted 'gone' left out) as Glance has them
        now: what backfill changes and undo restores.
        """
        result = {}
        for key, image_id in self.ids.items():
            if key.startswith('srv-') or key == 'gone':
                continue
            image = self.admin.get(image_id)
            result[key] = image.get('base_image_ref', '<absent>')
        return result


def seed_catalogue(admin, nova, owner):
    """Base images, good snapshots, a chain, snapshots missing
    base_image_ref (several ways to resolve them, and not), a dangling
    one, a loop. Returns the Catalogue and its seeding time.
    """
    start = time.time()
    c = Catalogue(admin, nova, owner)
    c.image('ubuntu')
    c.image('centos')
    c.image('gone')
    # servers as Nova knows them
    c.server('srv-ubuntu', 'ubuntu')
    c.server('srv-centos', 'centos')
    c.server('srv-deleted', 'centos', deleted=True)
    c.server('srv-purged')
    del nova.state.servers[c.ids['srv-purged']]
    c.server('srv-volume', image_id='')
    c.server('srv-other', 'ubuntu', project='someone-else')
    c.image('snap-ok', image_type='snapshot', base_image_ref=c.ids['ubuntu'],
            instance_uuid=c.ids['srv-ubuntu'])
    c.image('backup-ok', image_type='backup', base_image_ref=c.ids['centos'],
            instance_uuid=c.ids['srv-centos'])
    c.image('snap-chain', image_type='snapshot',
            base_image_ref=c.ids['snap-ok'],
            instance_uuid=c.ids['srv-ubuntu'])
    c.image('missing-live', image_type='snapshot',
            instance_uuid=c.ids['srv-ubuntu'])
    c.image('missing-deleted-server', image_type='snapshot',
            instance_uuid=c.ids['srv-deleted'])
    c.image('missing-empty', image_type='snapshot', base_image_ref='',
            instance_uuid=c.ids['srv-centos'])
    c.server('srv-rebuilt-onto-snap', 'snap-ok')
    c.image('missing-via-snapshot', image_type='snapshot',
            instance_uuid=c.ids['srv-rebuilt-onto-snap'])
    c.image('missing-no-instance', image_type='snapshot')
    c.image('missing-purged', image_type='snapshot',
            instance_uuid=c.ids['srv-purged'])
    c.image('missing-volume', image_type='backup',
            instance_uuid=c.ids['srv-volume'])
    c.image('missing-other-project', image_type='snapshot',
            instance_uuid=c.ids['srv-other'])
    c.image('dangling', image_type='snapshot', base_image_ref=c.ids['gone'],
            instance_uuid=c.ids['srv-ubuntu'])
    admin.delete(c.ids['gone'])
    loop_a = c.image('loop-a', image_type='snapshot',
                     instance_uuid=c.ids['srv-centos'])
    loop_b = c.image('loop-b', image_type='snapshot', base_image_ref=loop_a)
    admin.patch(loop_a, [{'op': 'add', 'path': '/base_image_ref',
                          'value': loop_b}])
    return c, time.time() - start


@pytest.fixture
def catalogue(admin, nova, request):
    owner = 'proj-' + glance_server.new_id()[:8]
    c, seconds = seed_catalogue(admin, nova, owner)
    TIMINGS.setdefault('seed 20-image catalogue via the API (s)',
                       round(seconds, 2))
    return c


@pytest.fixture(scope='module')
def shared_catalogue(glance, nova):
    """One catalogue for a module whose tests leave it as they found it
    (they write nothing, or undo what they wrote): seeding through the
    API costs about a second a test.
    """
    owner = 'proj-' + glance_server.new_id()[:8]
    c, _seconds = seed_catalogue(glance_server.AdminClient(glance.url), nova,
                                 owner)
    return c


class CLI(object):
    """Runs nova-imgmeta in-process against the loopback servers."""

    def __init__(self, glance, nova, capsys):
        self.glance_url = glance.url
        self.nova_url = nova.compute_url
        self.capsys = capsys

    def auth_args(self, project='admin-project', roles='admin',
                  identity=True, glance_url=None, nova_url=None):
        return (['--os-auth-type', 'none',
                 '--os-image-endpoint-override',
                 glance_url or self.glance_url,
                 '--os-compute-endpoint-override',
                 nova_url or self.nova_url] +
                glance_server.cli_headers(project, roles, identity))

    def run(self, *argv, **auth):
        argv = list(argv)
        command, rest = argv[0], argv[1:]
        full = [command] + rest
        if command != 'cache-path':
            full += self.auth_args(**auth)
        self.capsys.readouterr()
        code = cli_main.main(full)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def cli(glance, nova, capsys):
    return CLI(glance, nova, capsys)


@pytest.fixture
def proxy(glance):
    server = start_proxy(glance.url)
    yield server
    server.shutdown()


def _not_run(terminalreporter):
    """How many tests skipped for want of a Glance server."""
    return sum(1 for report in terminalreporter.stats.get('skipped', [])
               if NO_GLANCE in str(getattr(report, 'longrepr', '')))


def pytest_terminal_summary(terminalreporter):
    skipped = _not_run(terminalreporter)
    if skipped:   # loudly: a green run without them proves little
        terminalreporter.section('NOT RUN: the Glance tier', sep='!',
                                 red=True, bold=True)
        terminalreporter.write_line(
            '%d test(s) of tests/glance skipped: %s. They run against real '
            'Glance servers with tox -e glance (Glance 33.0.0) and tox -e '
            'glance-15 (Pike\'s 15.0.2), both part of tools/run-tests.'
            % (skipped, NO_GLANCE))
    if TIMINGS:
        terminalreporter.write_line('glance tier timings: ' + ', '.join(
            '%s=%s' % item for item in sorted(TIMINGS.items())))
