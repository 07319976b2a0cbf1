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

"""The live loopback cloud, as its tests and benchmarks use it.

Everything goes through the cloud's public APIs with keystoneauth, as a
user would (the member user unless the test needs the admin), and through
the files and commands an operator has: nova.conf, ``tools/cloud SERIES
restart nova-api``, pip in Nova's environment, nova-api's log.
"""

import configparser
import json
import os
import re
import subprocess
import sys
import time

from keystoneauth1 import adapter
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(REPO, 'tools', 'cloud')
PLUGINS = os.path.join(HERE, 'plugins')
#: image A's properties, one copy with the functional test of the same
#: scenario in Nova's environment (image_a.py imports nothing)
FUNCTIONAL = os.path.join(REPO, 'tests', 'nova', 'functional')
if FUNCTIONAL not in sys.path:
    sys.path.append(FUNCTIONAL)

from image_a import NEVER_INHERIT  # noqa: E402
from image_a import ORDINARY  # noqa: E402

#: microversion of every compute call: 2.45 (Pike and later) answers
#: createImage and createBackup with the image id; >= 2.37 for networks=none
MICROVERSION = '2.45'
TIMEOUT = 180

#: With all four img_signature* properties on an image, Glance verifies the
#: signature of the bytes uploaded into it (the certificate comes from
#: Barbican). A snapshot that inherits them is refused by Glance: the
#: signature was the base image's. The lineage scenario's image A leaves
#: this one out so that pristine Nova's snapshots get through;
#: test_lineage_http.py's signed image has all four.
SIGNATURE_CERTIFICATE = 'img_signature_certificate_uuid'

# What the installed Nova does on its own, read from its code in the
# cloud's environment (the same facts test_lineage_e2e.py reads).
_FACTS_SCRIPT = r'''
import inspect, json
from nova.compute import api as compute_api
from nova.compute import utils as compute_utils
try:
    from nova.compute import image_metadata_hooks
except ImportError:
    image_metadata_hooks = None
print(json.dumps({
    "boot_refuses_encrypted": hasattr(
        compute_api.API, "_detect_nonbootable_image_from_properties"),
    "upstream_rebuild_fix": (
        "new_sys_metadata.update({'image_base_image_ref': image_id})"
        in inspect.getsource(compute_api)),
    "nova_never_inherits": sorted(getattr(
        compute_utils, "NON_INHERITABLE_IMAGE_PROPERTIES", ())),
    "hooks_module": image_metadata_hooks is not None,
}))
'''


class CloudTestError(AssertionError):
    pass


class Cloud(object):
    """The cloud described by a state directory's cloud.json."""

    def __init__(self, series, state):
        self.series = series
        self.state = state
        with open(os.path.join(state, 'cloud.json')) as handle:
            self.info = json.load(handle)
        with open(os.path.join(state, 'secrets.json')) as handle:
            self.secrets = json.load(handle)
        if not self.info.get('up'):
            raise CloudTestError('the cloud in %s is not up' % state)
        self.mode = self.info['mode']
        self.nova_conf = self.info['nova_conf']
        env_path = self.info['services']['nova-api']['env']['PATH']
        self.venv_bin = env_path.split(os.pathsep)[0]
        self.auth_url = 'http://127.0.0.1:%d/v3' % self.info['ports'][
            'keystone']
        self._sessions = {}
        self._facts = None

    # --------------------------------------------------------------- auth

    def session(self, kind='member'):
        if kind not in self._sessions:
            if kind == 'admin':
                user, project = 'admin', 'admin'
            else:
                user, project = 'nova-imgmeta-member', 'nova-imgmeta'
            auth = v3.Password(
                auth_url=self.auth_url, username=user,
                password=self.secrets[kind], project_name=project,
                user_domain_name='Default', project_domain_name='Default')
            self._sessions[kind] = ks_session.Session(auth=auth)
        return self._sessions[kind]

    def compute(self, kind='member'):
        return adapter.Adapter(
            self.session(kind), service_type='compute', interface='public',
            region_name='RegionOne',
            additional_headers={'X-OpenStack-Nova-API-Version': MICROVERSION,
                                'OpenStack-API-Version': 'compute ' +
                                MICROVERSION})

    def image(self, kind='member'):
        return adapter.Adapter(self.session(kind), service_type='image',
                               interface='public', region_name='RegionOne')

    # ------------------------------------------------------------- images

    def create_image(self, name, properties=None, kind='member'):
        """An active image with bytes, then its properties (set after the
        upload: Glance would verify an upload carrying a signature).
        """
        glance = self.image(kind)
        image = glance.post('/v2/images', json={
            'name': name, 'disk_format': 'raw',
            'container_format': 'bare'}).json()
        glance.put('/v2/images/%s/file' % image['id'],
                   headers={'Content-Type': 'application/octet-stream'},
                   data=(name.encode() * 4096)[:65536])
        if properties:
            glance.patch(
                '/v2/images/%s' % image['id'],
                headers={'Content-Type':
                         'application/openstack-images-v2.1-json-patch'},
                data=json.dumps([{'op': 'add', 'path': '/' + key,
                                  'value': value}
                                 for key, value in sorted(properties.items())
                                 ]))
        return image['id']

    def show_image(self, image_id, kind='member'):
        return self.image(kind).get('/v2/images/%s' % image_id).json()

    def images_of(self, server_id, kind='member'):
        """Every image Glance holds whose instance_uuid is the server's."""
        found = self.image(kind).get(
            '/v2/images?instance_uuid=%s&limit=1000' % server_id).json()
        return found['images']

    def wait_image(self, image_id, status='active', timeout=TIMEOUT):
        deadline = time.time() + timeout
        while True:
            image = self.show_image(image_id)
            if image['status'] == status:
                return image
            if time.time() > deadline or \
                    image['status'] in ('killed', 'deleted'):
                raise CloudTestError('image %s is %s, not %s' % (
                    image_id, image['status'], status))
            time.sleep(0.5)

    # ------------------------------------------------------------ servers

    def boot(self, name, image_id, flavor='1', kind='member'):
        body = {'server': {'name': name, 'imageRef': image_id,
                           'flavorRef': flavor, 'networks': 'none'}}
        server = self.compute(kind).post('/servers', json=body).json()
        return self.wait_server(server['server']['id'], kind=kind)

    def server(self, server_id, kind='member'):
        return self.compute(kind).get('/servers/%s' % server_id).json()[
            'server']

    def wait_server(self, server_id, status='ACTIVE', kind='member',
                    timeout=TIMEOUT):
        """Wait for status with no task_state; ERROR fails at once."""
        deadline = time.time() + timeout
        while True:
            server = self.server(server_id, kind)
            if server['status'] == status and \
                    server.get('OS-EXT-STS:task_state') is None:
                return server
            if server['status'] == 'ERROR' or time.time() > deadline:
                raise CloudTestError('server %s is %s (task %s), not %s: %s'
                                     % (server_id, server['status'],
                                        server.get('OS-EXT-STS:task_state'),
                                        status, server.get('fault')))
            time.sleep(0.5)

    def action(self, server_id, body, kind='member'):
        """POST an action; returns the keystoneauth response, any status."""
        return self.compute(kind).post('/servers/%s/action' % server_id,
                                       json=body, raise_exc=False)

    def snapshot(self, server_id, name, wait=True):
        """createImage; returns the new image id once it is active."""
        response = self.action(server_id, {'createImage': {'name': name}})
        if response.status_code != 202:
            raise CloudTestError('createImage %s: HTTP %d %s' % (
                name, response.status_code, response.text[:300]))
        image_id = response.json()['image_id']
        if wait:
            self.wait_server(server_id)
            self.wait_image(image_id)
        return image_id

    def rebuild(self, server_id, image_id):
        response = self.action(server_id, {'rebuild': {'imageRef': image_id}})
        if response.status_code != 202:
            raise CloudTestError('rebuild: HTTP %d %s' % (
                response.status_code, response.text[:300]))
        return self.wait_server(server_id)

    def delete_server(self, server_id, kind='member'):
        self.compute(kind).delete('/servers/%s' % server_id,
                                  raise_exc=False)

    # ------------------------------------------------------- nova's facts

    def python(self):
        return os.path.join(self.venv_bin, 'python')

    def imgmeta_wheel(self):
        """The nova-imgmeta wheel ``up`` installed (built from this
        checkout).
        """
        folder = os.path.join(os.path.dirname(os.path.dirname(
            self.venv_bin)), 'wheels', 'nova-imgmeta')
        wheels = [name for name in os.listdir(folder)
                  if name.endswith('.whl')]
        if len(wheels) != 1:
            raise CloudTestError('expected one wheel in %s: %s'
                                 % (folder, wheels))
        return os.path.join(folder, wheels[0])

    def facts(self):
        """What the installed Nova does without nova-imgmeta."""
        if self._facts is None:
            out = subprocess.check_output([self.python(), '-c',
                                           _FACTS_SCRIPT])
            self._facts = json.loads(out.decode().strip().splitlines()[-1])
        return self._facts

    def image_a_properties(self, signed=False):
        """Image A's properties: every never-inherit key Nova boots with
        (all four signature keys only when ``signed``).
        """
        props = dict(NEVER_INHERIT, **ORDINARY)
        if not signed:
            del props[SIGNATURE_CERTIFICATE]
        if self.facts()['boot_refuses_encrypted']:
            # Stein 19.2.0 and Train 20.2.0 on refuse to boot such an image
            for key in list(props):
                if key.startswith('cinder_encryption_key'):
                    del props[key]
        return props

    # ------------------------------------------------------- operations

    def tool(self, *args, **kwargs):
        """Run ``tools/cloud SERIES ARGS``; returns its output."""
        env = dict(os.environ, NOVA_IMGMETA_CLOUD_STATE=self.state)
        return subprocess.check_output(
            [sys.executable, TOOL, self.series] + list(args), env=env,
            stderr=subprocess.STDOUT, **kwargs).decode()

    def restart_api(self):
        return self.tool('restart', 'nova-api')

    def pip(self, *args):
        cmd = [self.python(), '-m', 'pip', '--disable-pip-version-check'] + \
            list(args)
        return subprocess.check_output(cmd, stderr=subprocess.STDOUT).decode()

    def read_nova_conf(self):
        with open(self.nova_conf) as handle:
            return handle.read()

    def write_nova_conf(self, text):
        with open(self.nova_conf, 'w') as handle:
            handle.write(text)

    def set_imgmeta(self, **options):
        """Set [nova_imgmeta] options in nova.conf, in place, as an
        operator's editor (or crudini) does.
        """
        text = self.read_nova_conf()
        self.write_nova_conf(set_options(text, 'nova_imgmeta', options))

    @property
    def api_log(self):
        return self.info['services']['nova-api']['log']

    def log_offset(self):
        return os.path.getsize(self.api_log)

    def log_since(self, offset):
        with open(self.api_log, 'rb') as handle:
            handle.seek(offset)
            return handle.read().decode('utf-8', 'replace')

    def plugin_lines(self, log):
        """The lines of ``log`` that name nova-imgmeta, once the cloud's
        own paths (under ~/.cache/nova-imgmeta by default: a cold CI run
        failed on them) and the hypervisor stand-in's module are taken
        out.
        """
        state = os.path.realpath(self.state)
        # the cloud's directory (venvs, state) and the cache it sits in
        owns = (os.path.dirname(os.path.dirname(state)), state, self.state,
                'nova_imgmeta_fake')
        found = []
        for line in log.splitlines():
            for own in owns:
                line = line.replace(own, '')
            if 'nova_imgmeta' in line or 'nova-imgmeta' in line:
                found.append(line)
        return found


def set_options(text, section, options):
    """INI text with ``options`` set in ``section`` (kept elsewhere)."""
    parser = configparser.RawConfigParser(strict=False)
    parser.read_string(text)
    lines = text.splitlines()
    out, current, done = [], None, set()
    for line in lines:
        match = re.match(r'\s*\[([^\]]+)\]', line)
        if match:
            if current == section:
                out.extend('%s = %s' % (k, v) for k, v in options.items()
                           if k not in done)
                done.update(options)
            current = match.group(1)
        elif current == section:
            key = re.match(r'\s*([A-Za-z0-9_]+)\s*=', line)
            if key and key.group(1) in options:
                out.append('%s = %s' % (key.group(1),
                                        options[key.group(1)]))
                done.add(key.group(1))
                continue
        out.append(line)
    if current == section:
        out.extend('%s = %s' % (k, v) for k, v in options.items()
                   if k not in done)
        done.update(options)
    if not parser.has_section(section):
        out.append('[%s]' % section)
        out.extend('%s = %s' % item for item in options.items())
    return '\n'.join(out) + '\n'


def policies_loaded(log_text, kind='snapshot'):
    """{pid: [lines]} of nova-imgmeta's "policies loaded" lines."""
    found = {}
    for line in log_text.splitlines():
        if 'nova-imgmeta: %s policies loaded' % kind in line:
            pid = line.split()[2]
            found.setdefault(pid, []).append(line)
    return found


def properties(image):
    """The properties of a Glance v2 image (its non-core keys)."""
    core = {'id', 'name', 'status', 'visibility', 'owner', 'size',
            'checksum', 'disk_format', 'container_format', 'min_disk',
            'min_ram', 'protected', 'tags', 'created_at', 'updated_at',
            'file', 'schema', 'self', 'virtual_size', 'direct_url',
            'locations', 'os_hidden', 'os_hash_algo', 'os_hash_value',
            'stores'}
    return {key: value for key, value in image.items() if key not in core}
