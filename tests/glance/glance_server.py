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

"""A real Glance API server on loopback, for tests and the benchmark.

Two kinds of Glance, both from PyPI, with SQLite (or, for the current
one, a private MariaDB: glance_database.py) and the filesystem store:

* current Glance (33.0.0, Python 3.11, tools/glance-tier/setup-venv.sh)
  runs under gunicorn (``glance.wsgi.api``);
* Pike's Glance (15.0.2, Python 2.7, tools/glance-tier/setup-glance15.sh)
  runs as its own ``glance-api`` process (eventlet), v2 API only, without
  the registry (``data_api = glance.db.sqlalchemy.api``).

Either way the paste pipeline is Glance's own ContextMiddleware without
keystonemiddleware (a "trusted-auth" flavor): requests must carry
``X-Identity-Status: Confirmed`` (else Glance answers a real 401) and name
their project and roles in ``X-Tenant-Id`` / ``X-Roles`` (a reader role
gets Glance's real 403 on writes; Pike gets that rule in its policy.json).

The server's venv is NOVA_IMGMETA_GLANCE_SERVER if set, else the test
venv: NOVA_IMGMETA_GLANCE_VENV, else <repo>/.venv-glance, else gunicorn
and glance-manage on PATH.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid

import glance_database

try:
    from urllib.error import HTTPError
    from urllib.error import URLError
    from urllib.request import Request
    from urllib.request import urlopen
except ImportError:  # pragma: no cover
    from urllib2 import HTTPError
    from urllib2 import Request
    from urllib2 import URLError
    from urllib2 import urlopen

#: timings the Glance tier prints at the end of the run
TIMINGS = {}

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

API_CONF = """[DEFAULT]
enabled_backends = fs:file
bind_host = 127.0.0.1
workers = 1
[database]
connection = {db}
[paste_deploy]
flavor = trusted
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {images}
[os_glance_staging_store]
filesystem_store_datadir = {staging}
[os_glance_tasks_store]
filesystem_store_datadir = {tasks}
"""

#: glance-api.conf of Pike's standalone glance-api
LEGACY_API_CONF = """[DEFAULT]
bind_host = 127.0.0.1
bind_port = {port}
workers = 0
enable_v1_api = False
enable_v2_registry = False
data_api = glance.db.sqlalchemy.api
[database]
connection = sqlite:///{db}
[paste_deploy]
flavor = trusted
config_file = {paste}
[oslo_policy]
policy_file = {policy}
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = {images}
"""

#: Pike's default rules plus the read-only role that current Glance has
#: built in: a "reader" may not change images (Glance's real 403)
LEGACY_POLICY = {
    'context_is_admin': 'role:admin',
    'default': '@',
    'manage_image_cache': 'role:admin',
    'modify_image': 'not role:reader',
}

#: the whole paste pipeline of Pike's glance-api: Glance's own version
#: negotiation and context middleware in front of the v2 API
LEGACY_PASTE = """[pipeline:glance-api-trusted]
pipeline = versionnegotiation context rootapp
[composite:rootapp]
paste.composite_factory = glance.api:root_app_factory
/: apiversions
/v2: apiv2app
[app:apiversions]
paste.app_factory = glance.api.versions:create_resource
[app:apiv2app]
paste.app_factory = glance.api.v2.router:API.factory
[filter:versionnegotiation]
paste.filter_factory = glance.api.middleware.version_negotiation:\
VersionNegotiationFilter.factory
[filter:context]
paste.filter_factory = glance.api.middleware.context:\
ContextMiddleware.factory
"""

TRUSTED_PIPELINE = """
[composite:glance-api-trusted]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck
"""


def glance_bin_dir():
    server = os.environ.get('NOVA_IMGMETA_GLANCE_SERVER')
    if server:
        return os.path.join(server, 'bin')
    venv = os.environ.get('NOVA_IMGMETA_GLANCE_VENV') or os.path.join(
        REPO, '.venv-glance')
    candidate = os.path.join(venv, 'bin')
    if os.path.exists(os.path.join(candidate, 'gunicorn')):
        return candidate
    found = shutil.which('gunicorn')
    if found and shutil.which('glance-manage'):
        return os.path.dirname(found)
    return None


free_port = glance_database.free_port


def headers(project='admin-project', roles='admin', identity=True,
            user='admin-user'):
    result = {'X-Tenant-Id': project, 'X-Project-Id': project,
              'X-Roles': roles, 'X-User-Id': user}
    if identity:
        result['X-Identity-Status'] = 'Confirmed'
    return result


def cli_headers(project='admin-project', roles='admin', identity=True):
    """--os-header options for the CLI."""
    args = []
    for name, value in sorted(headers(project, roles, identity).items()):
        args += ['--os-header', '%s: %s' % (name, value)]
    return args


class GlanceServer(object):

    def __init__(self, workdir, bin_dir=None, workers=1, database=None):
        self.workdir = workdir
        #: glance_database's SQLite (the default) or MariaDB; started and
        #: stopped with the server
        self.database = database or glance_database.SQLite(workdir)
        #: gunicorn's worker processes (the benchmark tries more than one)
        self.workers = workers
        self.bin_dir = bin_dir or glance_bin_dir()
        if not self.bin_dir:
            raise RuntimeError('no Glance venv: run '
                               'tools/glance-tier/setup-venv.sh or set '
                               'NOVA_IMGMETA_GLANCE_VENV')
        self.etc = os.path.join(workdir, 'etc')
        self.db_path = getattr(self.database, 'path', None)
        self.port = None
        self.process = None
        self.log_path = os.path.join(workdir, 'glance-api.log')
        self.startup_seconds = None
        self.api_version = None
        #: Pike's standalone glance-api rather than gunicorn
        self.legacy = not os.path.exists(os.path.join(self.bin_dir,
                                                      'gunicorn'))
        if self.legacy and self.database.kind != 'sqlite':
            raise RuntimeError("Pike's Glance runs on SQLite here")

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def configure(self):
        for name in ('etc', 'images', 'staging', 'tasks'):
            path = os.path.join(self.workdir, name)
            if not os.path.isdir(path):
                os.makedirs(path)
        if self.legacy:
            paste = os.path.join(self.etc, 'glance-api-paste.ini')
            with open(paste, 'w') as f:
                f.write(LEGACY_PASTE)
            policy = os.path.join(self.etc, 'policy.json')
            with open(policy, 'w') as f:
                json.dump(LEGACY_POLICY, f)
            with open(os.path.join(self.etc, 'glance-api.conf'), 'w') as f:
                f.write(LEGACY_API_CONF.format(
                    port=self.port, db=self.db_path, paste=paste,
                    policy=policy,
                    images=os.path.join(self.workdir, 'images')))
            return
        with open(os.path.join(self.etc, 'glance-api.conf'), 'w') as f:
            f.write(API_CONF.format(
                db=self.database.url,
                images=os.path.join(self.workdir, 'images'),
                staging=os.path.join(self.workdir, 'staging'),
                tasks=os.path.join(self.workdir, 'tasks')))
        venv = os.path.dirname(self.bin_dir)
        with open(os.path.join(venv, 'etc', 'glance',
                               'glance-api-paste.ini')) as f:
            paste = f.read()
        lines = []
        for line in paste.splitlines():
            lines.append(line)
            if line.startswith('default = ') and 'unauthenticated' in line:
                lines.append('trusted = cors http_proxy_to_wsgi '
                             'versionnegotiation context rootapp')
        with open(os.path.join(self.etc, 'glance-api-paste.ini'), 'w') as f:
            f.write('\n'.join(lines) + TRUSTED_PIPELINE)

    def start(self, timeout=90):
        try:
            return self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout):
        start = time.time()
        self.database.start()
        self.port = free_port()
        self.configure()
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=self.etc)
        env.pop('PYTHONPATH', None)
        subprocess.check_call(
            [os.path.join(self.bin_dir, 'glance-manage'), '--config-file',
             os.path.join(self.etc, 'glance-api.conf'), 'db_sync'],
            stdout=open(os.path.join(self.workdir, 'db_sync.log'), 'w'),
            stderr=subprocess.STDOUT, env=env)
        if self.legacy:
            command = [os.path.join(self.bin_dir, 'glance-api'),
                       '--config-file',
                       os.path.join(self.etc, 'glance-api.conf')]
        else:
            command = [os.path.join(self.bin_dir, 'gunicorn'), '-b',
                       '127.0.0.1:%d' % self.port, '-w', str(self.workers),
                       '--timeout', '300', 'glance.wsgi.api:application']
        self.process = subprocess.Popen(
            command, stdout=open(self.log_path, 'w'),
            stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('Glance exited; see %s' % self.log_path)
            try:
                document = json.loads(urlopen(
                    self.url + '/versions', timeout=2).read().decode('utf-8'))
                self.api_version = max(
                    tuple(int(p) for p in v['id'].lstrip('v').split('.'))
                    for v in document['versions'])
                break
            except HTTPError:
                break
            except (URLError, socket.error, OSError):
                time.sleep(0.25)
        else:
            raise RuntimeError('Glance did not start; see %s'
                               % self.log_path)
        self.startup_seconds = time.time() - start
        return self

    def stop(self):
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(15)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        finally:
            self.database.stop()


class AdminClient(object):
    """Plain HTTP calls to Glance, as an admin of a project, for seeding."""

    def __init__(self, url, project='admin-project', roles='admin'):
        self.url = url
        self.headers = headers(project, roles)

    def call(self, method, path, body=None, content_type='application/json',
             raw=None):
        data = raw
        if body is not None:
            data = json.dumps(body).encode('utf-8')
        request = Request(self.url + path, data=data, method=method)
        for name, value in self.headers.items():
            request.add_header(name, value)
        if data is not None:
            request.add_header('Content-Type', content_type)
        try:
            response = urlopen(request, timeout=60)
        except HTTPError as exc:
            exc.body = exc.read()
            raise
        text = response.read()
        return json.loads(text.decode('utf-8')) if text else None

    def create(self, **fields):
        return self.call('POST', '/v2/images', fields)

    def get(self, image_id):
        return self.call('GET', '/v2/images/%s' % image_id)

    def patch(self, image_id, ops):
        return self.call('PATCH', '/v2/images/%s' % image_id, ops,
                         'application/openstack-images-v2.1-json-patch')

    def delete(self, image_id):
        return self.call('DELETE', '/v2/images/%s' % image_id)

    def upload(self, image_id, data):
        return self.call('PUT', '/v2/images/%s/file' % image_id, raw=data,
                         content_type='application/octet-stream')


def bulk_insert(database, images):
    """Insert many images straight into Glance's database.

    ``database``: a glance_database object (SQLite or MariaDB), or the
    path of a SQLite file. ``images``: dicts with id, name, owner and
    properties (a dict). Used for catalogues of thousands of images,
    where one POST each would take minutes; the server then serves them
    like any other image. The columns are read from the database, so
    that Pike's schema and the current one both work.
    """
    if not hasattr(database, 'connect'):
        database = glance_database.SQLite(path=database)
    # created_at distinct and in order: Glance's marker pagination
    # compares them (with microseconds, SQLAlchemy's own format, on
    # SQLite: a different format or equal times would make its "next"
    # links go round in circles there)
    step = database.time_step
    start = time.time() - 86400 - step * len(images)
    fraction = step < 1
    db = database.connect()
    try:
        columns = database.columns(db, 'images')
        rows, props = [], []
        for number, image in enumerate(images):
            now = glance_database.timestamp(start + number * step, fraction)
            values = {'id': image['id'], 'name': image.get('name'),
                      'status': 'active', 'created_at': now,
                      'updated_at': now, 'deleted': 0,
                      'disk_format': 'qcow2', 'container_format': 'bare',
                      'owner': image.get('owner'), 'min_disk': 0,
                      'min_ram': 0, 'protected': 0, 'os_hidden': 0,
                      'visibility': image.get('visibility', 'private')}
            rows.append(tuple(values.get(name) for name in columns))
            for key, value in sorted(image.get('properties', {}).items()):
                props.append((image['id'], key, value, now, None, None, 0))
        cursor = db.cursor()
        cursor.executemany(glance_database.insert_sql(
            'images', columns, database.placeholder), rows)
        cursor.executemany(glance_database.insert_sql(
            'image_properties', glance_database.PROPERTY_COLUMNS,
            database.placeholder), props)
        db.commit()
    finally:
        db.close()


def new_id():
    return str(uuid.uuid4())


if __name__ == '__main__':  # manual use: python glance_server.py DIR
    server = GlanceServer(sys.argv[1]).start()
    print(server.url)
    try:
        server.process.wait()
    except KeyboardInterrupt:
        server.stop()
