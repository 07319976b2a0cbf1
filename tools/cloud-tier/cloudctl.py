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

"""A real multi-process OpenStack cloud on loopback: up, down, status.

``up`` installs the mode's Nova (the patched wheel and nova-imgmeta's
wheel, or the pristine wheel alone), writes every configuration file,
starts MariaDB, RabbitMQ, Keystone, Glance, Neutron, Placement and Nova's
API (2 workers), conductor, scheduler and compute, one process group each,
creates what devstack creates (service users, catalog, a member project,
flavors, two public images) and writes clouds.yaml and the openrc files.
Any failure stops everything it started. ``down`` stops every service of
the state directory, the infrastructure last.
"""

import concurrent.futures
import json
import os
import secrets as _secrets
import shutil
import sys
import threading
import time

import build as cloud_build
import components
import configs as cloud_configs
import httpjson
import identity
import infra
import layout as cloud_layout
import proc

__all__ = ['Cloud', 'CloudError', 'SERVICES']

#: every service, in start order (``down`` stops them in reverse)
SERVICES = ('mariadb', 'rabbitmq', 'keystone', 'glance-api',
            'neutron-server', 'placement-api', 'nova-api', 'nova-conductor',
            'nova-scheduler', 'nova-compute')
#: services answering HTTP, and the path that answers when they are ready
HTTP_READY = {'keystone': '/v3', 'glance-api': '/', 'neutron-server': '/',
              'placement-api': '/', 'nova-api': '/'}
#: the made-up disk of the public images (bytes; the fake hypervisor
#: never reads it)
IMAGE_SIZE = 64 * 1024
FLAVORS = (('1', 'cloud.tiny', 64), ('2', 'cloud.small', 128))


class CloudError(Exception):
    """A step failed; the message says which, and which log to read."""


class Cloud(object):
    """One series' loopback cloud."""

    def __init__(self, series, state=None, port_base=None, out=None):
        self.comps = components.components(series)
        self.series = self.comps.series
        self.layout = cloud_layout.Layout(self.series, state, port_base)
        self.build = cloud_build.Build(self.comps)
        self.out = out or sys.stdout
        self.started = time.time()
        self._lock = threading.RLock()

    def say(self, message):
        with self._lock:
            self._say(message)

    def _say(self, message):
        self.out.write('[cloud %s %s] %s\n' % (
            self.series, time.strftime('%H:%M:%S'), message))
        self.out.flush()

    # ------------------------------------------------------------- queries

    def running(self):
        """{service: pid} of the services that run."""
        found = {}
        for service in SERVICES + ('epmd',):
            pid = proc.alive(self.layout, service)
            if pid:
                found[service] = pid
        return found

    def info(self):
        return self.layout.read_cloud() or {}

    def secrets(self):
        with open(self.layout.secrets_json) as handle:
            return json.load(handle)

    # -------------------------------------------------------------- build

    def ensure_build(self, tempest=False):
        infra.ensure_packages(self.say)
        self.build.ensure()
        if tempest:
            self.build.ensure_tempest_venv()

    # ----------------------------------------------------------------- up

    def up(self, pristine=False):
        self.started = time.time()
        running = self.running()
        if running or proc.marked(self.layout):
            raise CloudError(
                'a cloud already runs from %s (%s): tools/cloud %s down '
                'first' % (self.layout.state, ', '.join(sorted(running)) or
                           'stray processes', self.series))
        busy = [('%s (%d)' % (name, port)) for name, port in
                self.layout.ports.items() if not infra.port_free(port)]
        if busy:
            raise CloudError(
                'ports in use on 127.0.0.1: %s; choose another base with '
                'NOVA_IMGMETA_CLOUD_PORT_BASE (now %d)'
                % (', '.join(busy), self.layout.port_base))
        self.ensure_build()
        mode = self.build.install_mode(pristine)
        self.say('%s cloud in %s, ports %d-%d' % (
            mode, self.layout.state, self.layout.port_base,
            self.layout.port_base + max(cloud_layout.PORTS.values())))
        if os.path.isdir(self.layout.state):
            shutil.rmtree(self.layout.state)
        os.makedirs(self.layout.state)
        secrets = dict((name, _secrets.token_hex(12)) for name in
                       ('admin', 'member', 'database', 'rabbitmq') +
                       identity.SERVICE_USERS)
        self.layout.write_json(self.layout.secrets_json, secrets,
                               private=True)
        info = {'series': self.series, 'mode': mode,
                'state': self.layout.state, 'port_base': self.layout.port_base,
                'ports': self.layout.ports, 'services': {},
                'components': [list(row) for row in self.comps.describe()],
                'up_started': time.strftime('%Y-%m-%dT%H:%M:%S')}
        self._save(info)
        try:
            self._up(info, secrets)
        except BaseException as exc:
            self.say('FAILED: %s' % exc)
            self.say('stopping what was started (logs stay in %s)'
                     % os.path.join(self.layout.state, 'logs'))
            self.down(quiet=True)
            if isinstance(exc, (CloudError, RuntimeError, OSError,
                                httpjson.HTTPError)):
                raise CloudError(str(exc))
            raise
        info['up_seconds'] = round(time.time() - self.started, 1)
        info['up'] = True
        self._save(info)
        self.say('up in %d s' % info['up_seconds'])
        return info

    def _save(self, info):
        with self._lock:
            self.layout.write_json(self.layout.cloud_json, info)

    def _venv_env(self, venv, extra=None):
        env = {'PATH': os.path.join(venv, 'bin') + os.pathsep +
               '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
               'HOME': os.environ.get('HOME', '/root'),
               'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8',
               'PYTHONDONTWRITEBYTECODE': '1', 'PYTHONUNBUFFERED': '1'}
        env.update(extra or {})
        return env

    def _tool(self, venv, cmd, what, timeout=900):
        """Run a one-off command of the cloud (db syncs...) in ``venv``."""
        started = time.time()
        code, output = proc.run(
            [os.path.join(venv, 'bin', cmd[0])] + list(cmd[1:]),
            env=self._venv_env(venv), check=False, timeout=timeout)
        log = os.path.join(self.layout.state, 'logs', 'setup.log')
        with self._lock, open(log, 'a') as handle:
            handle.write('--- %s (exit %d, %.1f s)\n%s\n' % (
                ' '.join(cmd), code, time.time() - started, output))
        if code:
            raise CloudError('%s failed (exit %d), see %s:\n%s' % (
                what, code, log, output[-2000:]))
        self.say('%s (%d s)' % (what, time.time() - started))
        return output

    def _start(self, info, service, cmd, venv=None, env=None, ready=None):
        """Start a service, wait until it is ready, record how."""
        full_env = self._venv_env(venv or self.build.venv, env)
        entry = {'cmd': cmd, 'env': full_env, 'log': self.layout.log(service)}
        if service in HTTP_READY:
            entry['url'] = self.layout.url(service, HTTP_READY[service])
        with self._lock:
            info['services'][service] = entry
        self._save(info)
        self._launch(service, entry, ready)

    def _launch(self, service, entry, ready=None):
        started = time.time()
        pid = proc.start(self.layout, service, entry['cmd'], env=entry['env'])

        def alive():
            return proc.alive(self.layout, service) is not None
        try:
            if 'url' in entry:
                httpjson.wait_http(entry['url'], 180, alive, service)
            if ready:
                ready(alive)
            if not alive():
                raise RuntimeError('%s exited' % service)
        except RuntimeError as exc:
            raise CloudError('%s: %s; its log: %s\n%s' % (
                service, exc, self.layout.log(service),
                _tail(self.layout.log(service), 25)))
        self.say('%s running (pid %d, %.0f s)' % (service, pid,
                                                  time.time() - started))

    def _up(self, info, secrets):
        """Infrastructure; then the databases of every service at once
        (and Keystone); then the services; then what the tests use.
        """
        layout = self.layout
        mariadb = infra.MariaDB(layout, secrets)
        rabbitmq = infra.RabbitMQ(layout, secrets)
        conf = cloud_configs.Configs(layout, self.build, secrets, mariadb,
                                     rabbitmq)
        _parallel([lambda: self._infra(info, mariadb),
                   lambda: self._infra(info, rabbitmq)])
        self._save(info)
        info['nova_conf'] = conf.nova()
        _parallel([lambda: self._keystone(info, conf, secrets),
                   lambda: self._glance_db(conf),
                   lambda: self._neutron_db(conf),
                   lambda: self._nova_db(conf)])
        venv, nova = self.build.venv, ['--config-file', info['nova_conf']]
        neutron_conf, ml2 = conf.neutron()
        placement_uwsgi = (conf.placement() if self.comps.placement else
                           conf.nova_placement_uwsgi())
        glance_conf = layout.etc('glance', 'glance-api.conf')
        _parallel([
            lambda: self._start(info, 'glance-api', [
                'glance-api', '--config-file', glance_conf],
                venv=self.build.glance_venv),
            lambda: self._start(info, 'neutron-server', [
                'neutron-server', '--config-file', neutron_conf,
                '--config-file', ml2]),
            lambda: self._start(info, 'placement-api',
                                ['uwsgi', '--ini', placement_uwsgi]),
            lambda: self._start(info, 'nova-api', ['nova-api'] + nova)])
        admin = httpjson.Session(layout.url('keystone', '/v3'), 'admin',
                                 secrets['admin'], 'admin')
        compute = layout.url('nova-api', '/v2.1')

        def start_nova(service):
            self._start(info, service, [service] + nova,
                        ready=lambda alive: self._wait_nova_service(
                            admin, compute, service, alive))
        _parallel([lambda: start_nova('nova-conductor'),
                   lambda: start_nova('nova-scheduler')])
        start_nova('nova-compute')
        self._tool(venv, ['nova-manage'] + nova + [
            'cell_v2', 'discover_hosts', '--verbose'],
            'nova-manage cell_v2 discover_hosts')
        self._wait_hypervisor(admin, compute)
        info['flavors'] = self._flavors(admin, compute)
        info['images'] = self._images(admin)
        self._save(info)

    def _infra(self, info, service):
        started = time.time()
        service.start()
        entry = {'log': self.layout.log(service.name),
                 'url': '127.0.0.1:%d' % self.layout.ports[service.name]}
        if service.name == 'rabbitmq':
            entry['node'] = service.node
        with self._lock:
            info['services'][service.name] = entry
        self.say('%s running (%.0f s)' % (service.name,
                                          time.time() - started))

    def _keystone(self, info, conf, secrets):
        layout, venv = self.layout, self.build.venv
        keystone_uwsgi = conf.keystone()
        kc = ['--config-file', layout.etc('keystone', 'keystone.conf')]
        self._tool(venv, ['keystone-manage'] + kc + ['db_sync'],
                   'keystone-manage db_sync')
        user, group = _user_group()
        for setup in ('fernet_setup', 'credential_setup'):
            self._tool(venv, ['keystone-manage'] + kc + [
                setup, '--keystone-user', user, '--keystone-group', group],
                'keystone-manage ' + setup)
        keystone_url = layout.url('keystone', '/v3')
        self._tool(venv, ['keystone-manage'] + kc + [
            'bootstrap', '--bootstrap-password', secrets['admin'],
            '--bootstrap-admin-url', keystone_url,
            '--bootstrap-internal-url', keystone_url,
            '--bootstrap-public-url', keystone_url,
            '--bootstrap-region-id', 'RegionOne'],
            'keystone-manage bootstrap')
        self._start(info, 'keystone', ['uwsgi', '--ini', keystone_uwsgi])
        ids = identity.setup(layout, secrets)
        with self._lock:
            info['ids'] = ids
            info['clouds_yaml'] = identity.write_client_files(layout,
                                                              secrets)
            info['clouds'] = sorted(identity.CLOUD_NAMES.values())
            info['openrc'] = [os.path.join(layout.state, 'openrc-' + kind)
                              for kind in ('admin', 'member')]
        self.say('keystone: service users, catalog, member project')

    def _glance_db(self, conf):
        self._tool(self.build.glance_venv, [
            'glance-manage', '--config-file', conf.glance(), 'db_sync'],
            'glance-manage db_sync')

    def _neutron_db(self, conf):
        neutron_conf, ml2 = conf.neutron()
        self._tool(self.build.venv, [
            'neutron-db-manage', '--config-file', neutron_conf,
            '--config-file', ml2, 'upgrade', 'heads'],
            'neutron-db-manage upgrade heads')

    def _nova_db(self, conf):
        """Nova's databases, cells v2 (cell0, cell1), and Placement's."""
        venv = self.build.venv
        nova = ['nova-manage', '--config-file',
                self.layout.etc('nova', 'nova.conf')]
        self._tool(venv, nova + ['api_db', 'sync'], 'nova-manage api_db sync')
        self._tool(venv, nova + ['cell_v2', 'map_cell0',
                                 '--database_connection', conf.cell0_url()],
                   'nova-manage cell_v2 map_cell0')
        self._tool(venv, nova + ['cell_v2', 'create_cell', '--name', 'cell1',
                                 '--verbose'],
                   'nova-manage cell_v2 create_cell')
        self._tool(venv, nova + ['db', 'sync'], 'nova-manage db sync')
        if self.comps.placement:
            conf.placement()
            self._tool(venv, ['placement-manage', '--config-file',
                              self.layout.etc('placement', 'placement.conf'),
                              'db', 'sync'], 'placement-manage db sync')

    def _wait_nova_service(self, admin, compute, binary, alive,
                           timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not alive():
                raise RuntimeError('%s exited' % binary)
            services = admin('GET', compute + '/os-services?binary=' +
                             binary)['services']
            if any(s['state'] == 'up' for s in services):
                return
            time.sleep(1)
        raise RuntimeError('%s did not report up in %d s' % (binary, timeout))

    def _wait_hypervisor(self, admin, compute, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = admin('GET', compute + '/os-hypervisors')['hypervisors']
            if found:
                return
            time.sleep(1)
        raise CloudError('no hypervisor in Nova after %d s (discover_hosts '
                         'found none?)' % timeout)

    def _flavors(self, admin, compute):
        made = {}
        for flavor_id, name, ram in FLAVORS:
            admin('POST', compute + '/flavors', {'flavor': {
                'id': flavor_id, 'name': name, 'ram': ram, 'vcpus': 1,
                'disk': 1}})
            made[name] = flavor_id
        return made

    def _images(self, admin):
        """Two public images for the tests (Tempest's image_ref, _alt)."""
        glance = self.layout.url('glance-api', '/v2')
        made = {}
        for name in ('cloud-image', 'cloud-image-alt'):
            image = admin('POST', glance + '/images', {
                'name': name, 'disk_format': 'raw',
                'container_format': 'bare', 'visibility': 'public'})
            data = (name.encode() * IMAGE_SIZE)[:IMAGE_SIZE]
            admin('PUT', glance + '/images/%s/file' % image['id'],
                  headers={'Content-Type': 'application/octet-stream'},
                  data=data)
            made[name] = image['id']
        return made

    # --------------------------------------------------------------- down

    def down(self, quiet=False):
        """Stop every service of this state directory; returns the names
        of those that were running.
        """
        stopped = []
        for service in reversed(SERVICES):
            if service == 'rabbitmq':
                was = infra.RabbitMQ(self.layout, self._secrets_or_empty()
                                     ).stop()
            elif service == 'mariadb':
                was = proc.stop(self.layout, service, timeout=60)
            else:
                was = proc.stop(self.layout, service)
            if was:
                stopped.append(service)
                if not quiet:
                    self.say('%s stopped' % service)
        if proc.stop(self.layout, 'epmd', timeout=5):
            stopped.append('epmd')
        strays = proc.marked(self.layout)
        if strays:
            self.say('stopping stray processes of this cloud: %s'
                     % ', '.join(map(str, strays)))
            for pid in strays:
                try:
                    os.kill(pid, 9)
                except OSError:
                    pass
        info = self.info()
        if info:
            info['up'] = False
            self._save(info)
        return stopped

    def _secrets_or_empty(self):
        try:
            return self.secrets()
        except (IOError, OSError, ValueError):
            return {'rabbitmq': ''}

    # ------------------------------------------------------------ restart

    def restart(self, service):
        info = self.info()
        entry = info.get('services', {}).get(service)
        if service not in SERVICES:
            raise CloudError('unknown service %r: one of %s'
                             % (service, ', '.join(SERVICES)))
        if service in ('mariadb', 'rabbitmq'):
            raise CloudError('%s is restarted with the whole cloud (down, '
                             'then up)' % service)
        if not entry or 'cmd' not in entry:
            raise CloudError('no cloud was brought up in %s'
                             % self.layout.state)
        proc.stop(self.layout, service)
        self.say('%s stopped' % service)
        self._launch(service, entry,
                     None if 'url' in entry else _still_running)


def _parallel(steps):
    """Run the callables at once; raise the first failure once all are
    over (what the others started is stopped by ``up``'s cleanup).
    """
    with concurrent.futures.ThreadPoolExecutor(len(steps)) as pool:
        futures = [pool.submit(step) for step in steps]
        errors = [future.exception() for future in futures]
    for error in errors:
        if error is not None:
            raise error


def _still_running(_alive):
    """No port to wait for: the service must still run a while later."""
    time.sleep(5)


def _tail(path, lines):
    try:
        with open(path, 'rb') as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - 20000))
            text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return ''
    return '\n'.join('    ' + line for line in text.splitlines()[-lines:])


def _user_group():
    import grp
    import pwd
    return (pwd.getpwuid(os.geteuid()).pw_name,
            grp.getgrgid(os.getegid()).gr_name)
