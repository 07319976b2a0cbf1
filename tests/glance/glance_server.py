"""A real Glance API server on loopback, for tests and the benchmark.

Glance (from PyPI, in the venv made by tools/glance-tier/setup-venv.sh)
runs under gunicorn with SQLite and the filesystem store. Its paste
pipeline is Glance's own ContextMiddleware without keystonemiddleware (a
"trusted-auth" flavor): requests must carry ``X-Identity-Status:
Confirmed`` (else Glance answers a real 401) and name their project and
roles in ``X-Tenant-Id`` / ``X-Roles`` (a reader role gets Glance's real
403 on writes).

The venv is found through NOVA_IMGMETA_GLANCE_VENV, else <repo>/.venv-glance,
else gunicorn and glance-manage on PATH.
"""

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import uuid

try:
    from urllib.request import Request, urlopen
    from urllib.error import HTTPError, URLError
except ImportError:  # pragma: no cover
    from urllib2 import Request, urlopen, HTTPError, URLError

#: timings the Glance tier prints at the end of the run
TIMINGS = {}

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

API_CONF = """[DEFAULT]
enabled_backends = fs:file
bind_host = 127.0.0.1
workers = 1
[database]
connection = sqlite:///{db}
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

TRUSTED_PIPELINE = """
[composite:glance-api-trusted]
paste.composite_factory = glance.api:root_app_factory
/: api
/healthcheck: healthcheck
"""


def glance_bin_dir():
    venv = os.environ.get('NOVA_IMGMETA_GLANCE_VENV') or os.path.join(
        REPO, '.venv-glance')
    candidate = os.path.join(venv, 'bin')
    if os.path.exists(os.path.join(candidate, 'gunicorn')):
        return candidate
    found = shutil.which('gunicorn')
    if found and shutil.which('glance-manage'):
        return os.path.dirname(found)
    return None


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


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

    def __init__(self, workdir, bin_dir=None):
        self.workdir = workdir
        self.bin_dir = bin_dir or glance_bin_dir()
        if not self.bin_dir:
            raise RuntimeError('no Glance venv: run '
                               'tools/glance-tier/setup-venv.sh or set '
                               'NOVA_IMGMETA_GLANCE_VENV')
        self.etc = os.path.join(workdir, 'etc')
        self.db_path = os.path.join(workdir, 'glance.sqlite')
        self.port = None
        self.process = None
        self.log_path = os.path.join(workdir, 'glance-api.log')
        self.startup_seconds = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def configure(self):
        for name in ('etc', 'images', 'staging', 'tasks'):
            path = os.path.join(self.workdir, name)
            if not os.path.isdir(path):
                os.makedirs(path)
        with open(os.path.join(self.etc, 'glance-api.conf'), 'w') as f:
            f.write(API_CONF.format(
                db=self.db_path,
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
        start = time.time()
        self.configure()
        env = dict(os.environ, OS_GLANCE_CONFIG_DIR=self.etc)
        env.pop('PYTHONPATH', None)
        subprocess.check_call(
            [os.path.join(self.bin_dir, 'glance-manage'), '--config-file',
             os.path.join(self.etc, 'glance-api.conf'), 'db_sync'],
            stdout=open(os.path.join(self.workdir, 'db_sync.log'), 'w'),
            stderr=subprocess.STDOUT, env=env)
        self.port = free_port()
        self.process = subprocess.Popen(
            [os.path.join(self.bin_dir, 'gunicorn'), '-b',
             '127.0.0.1:%d' % self.port, '-w', '1', '--timeout', '300',
             'glance.wsgi.api:application'],
            stdout=open(self.log_path, 'w'), stderr=subprocess.STDOUT,
            env=env, cwd=self.workdir)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('Glance exited; see %s' % self.log_path)
            try:
                urlopen(self.url + '/versions', timeout=2).read()
                break
            except HTTPError:
                break
            except (URLError, socket.error, OSError):
                time.sleep(0.25)
        else:
            self.stop()
            raise RuntimeError('Glance did not start; see %s'
                               % self.log_path)
        self.startup_seconds = time.time() - start
        return self

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


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


def bulk_insert(db_path, images):
    """Insert many images straight into Glance's SQLite database.

    ``images``: dicts with id, name, owner and properties (a dict). Used
    for catalogues of thousands of images, where one POST each would take
    minutes; the server then serves them like any other image.
    """
    # SQLAlchemy's own format, microseconds included: Glance's marker
    # pagination compares these strings, and a different format (or equal
    # times) would make its "next" links go round in circles.
    start = time.time() - 86400
    db = sqlite3.connect(db_path, timeout=30)
    try:
        rows, props = [], []
        for number, image in enumerate(images):
            stamp = start + number * 0.001
            now = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(stamp)) + \
                '.%06d' % (int(round(stamp * 1e6)) % 1000000)
            rows.append((image['id'], image.get('name'), None, 'active', now,
                         now, None, 0, 'qcow2', 'bare', None,
                         image.get('owner'), 0, 0, 0, None,
                         image.get('visibility', 'private'), 0, None, None))
            for key, value in sorted(image.get('properties', {}).items()):
                props.append((image['id'], key, value, now, None, None, 0))
        db.executemany('INSERT INTO images VALUES '
                       '(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)', rows)
        db.executemany('INSERT INTO image_properties (image_id, name, value,'
                       ' created_at, updated_at, deleted_at, deleted) VALUES '
                       '(?,?,?,?,?,?,?)', props)
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
