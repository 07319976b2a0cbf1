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

"""The services' configuration files, written as an operator writes them.

One file per service under ``etc/SERVICE/``, INI sections in the order
the upstream samples use, with what devstack's ``lib/*`` at each line's
``*-eol`` tag sets for a single-node cloud (loopback, no agents, the fake
hypervisor), and nothing else. The paste files are the ones the packages
ship (copied from the venv or the sdist). Differences between lines are
marked with the first line they apply to.
"""

import os
import shutil

import releases

__all__ = ['Configs', 'since']

SERIES = list(releases.LINES)

#: what the cloud's nova.conf replaces non_inheritable_image_properties
#: with: an operator's own list, as many deployments have one (Nova's
#: default also holds the image-signature keys)
OPERATOR_NON_INHERITABLE = 'cache_in_nova,bittorrent,cloud_private_note'


def since(series, first):
    return SERIES.index(series) >= SERIES.index(first)


def _ini(sections):
    """INI text from [(section, [(key, value) or '# comment'])]."""
    out = []
    for section, items in sections:
        out.append('[%s]' % section)
        for item in items:
            if isinstance(item, str):
                out.append(item)
            elif item[1] is not None:
                out.append('%s = %s' % item)
        out.append('')
    return '\n'.join(out)


class Configs(object):
    """Writes every configuration file of one cloud."""

    def __init__(self, layout, build, secrets, mariadb, rabbitmq):
        self.layout = layout
        self.build = build
        self.comps = build.comps
        self.series = build.series
        self.secrets = secrets
        self.mariadb = mariadb
        self.rabbitmq = rabbitmq

    # ------------------------------------------------------------- helpers

    @property
    def auth_url(self):
        return self.layout.url('keystone', '/v3')

    def _write(self, service, name, text):
        path = self.layout.etc(service, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as handle:
            handle.write(text)
        return path

    def _copy(self, source, service, name=None):
        path = self.layout.etc(service, name or os.path.basename(source))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(source, path)
        return path

    def service_auth(self, user, extra=()):
        """The keystoneauth options of a service user (password plugin)."""
        return [('auth_type', 'password'), ('auth_url', self.auth_url),
                ('username', user), ('password', self.secrets[user]),
                ('project_name', 'service'),
                ('user_domain_name', 'Default'),
                ('project_domain_name', 'Default')] + list(extra)

    def authtoken(self, user):
        # www_authenticate_uri: keystonemiddleware 4.18 (Queens) on
        uri = 'www_authenticate_uri' if since(self.series, 'queens') \
            else 'auth_uri'
        return [(uri, self.layout.url('keystone'))] + self.service_auth(user)

    def common(self, service):
        return [('lock_path', self.layout.data(service, 'lock'))]

    # ------------------------------------------------------------ keystone

    def keystone(self):
        paste = os.path.join(self.build.venv, 'etc', 'keystone',
                             'keystone-paste.ini')
        if not os.path.exists(paste):   # Pike: not installed by its wheel
            paste = self.build.etc_file('keystone', 'keystone-paste.ini')
        sections = [
            ('DEFAULT', [('debug', 'False')]),
            ('database', [('connection', self.mariadb.url('keystone'))]),
            ('token', [('provider', 'fernet')]),
            ('fernet_tokens', [('key_repository',
                                self.layout.etc('keystone', 'fernet-keys'))]),
            ('credential', [('key_repository', self.layout.etc(
                'keystone', 'credential-keys'))]),
            ('cache', [('enabled', 'False')]),
        ]
        if paste:    # Queens and before: a paste pipeline
            sections.append(('paste_deploy', [
                ('config_file', self._copy(paste, 'keystone'))]))
        self._write('keystone', 'keystone.conf', _ini(sections))
        return self.uwsgi('keystone', 'keystone-wsgi-public', processes=2,
                          env={'OS_KEYSTONE_CONFIG_DIR':
                               self.layout.etc('keystone')})

    def uwsgi(self, service, script, processes, env):
        """uWSGI as devstack's lib/apache write_uwsgi_config writes it,
        listening for HTTP itself (no front web server).
        """
        items = [
            ('wsgi-file', os.path.join(self.build.venv, 'bin', script)),
            ('http-socket', '127.0.0.1:%d' % self.layout.ports[service]),
            ('processes', str(processes)),
            ('threads', '1'),
            ('master', 'true'),
            ('lazy-apps', 'true'),
            ('enable-threads', 'true'),
            ('die-on-term', 'true'),
            ('exit-on-reload', 'false'),
            ('hook-master-start', 'unix_signal:15 gracefully_kill_them_all'),
            ('worker-reload-mercy', '1'),
            ('thunder-lock', 'true'),
            ('buffer-size', '65535'),
            ('add-header', 'Connection: close'),
            ('pidfile', self.layout.data(service, 'uwsgi.pid')),
        ]
        items += [('env', '%s=%s' % item) for item in sorted(env.items())]
        os.makedirs(self.layout.data(service), exist_ok=True)
        return self._write(service, service + '-uwsgi.ini',
                           _ini([('uwsgi', items)]))

    # -------------------------------------------------------------- glance

    def glance_paste(self):
        return os.path.join(self.build.root, 'etc-glance',
                            'glance-api-paste.ini')

    def glance(self):
        port = self.layout.ports['glance-api']
        paste = self._copy(self.glance_paste(), 'glance')
        images = self.layout.data('glance', 'images')
        os.makedirs(images, exist_ok=True)
        sections = [
            ('DEFAULT', [
                ('bind_host', '127.0.0.1'), ('bind_port', str(port)),
                ('workers', '1'),
                ('image_cache_dir', self.layout.data('glance', 'cache')),
                # Pike/Queens: the v2 API straight on the database (no
                # glance-registry), as devstack's lib/glance has it
                ('enable_v1_api', None if since(self.series, 'rocky')
                 else 'False'),
                ('enable_v2_registry', None if since(self.series, 'rocky')
                 else 'False'),
                ('data_api', None if since(self.series, 'rocky')
                 else 'glance.db.sqlalchemy.api'),
                ('debug', 'False')]),
            ('database', [('connection', self.mariadb.url('glance'))]),
            ('glance_store', [
                ('stores', 'file,http'), ('default_store', 'file'),
                ('filesystem_store_datadir', images)]),
            ('keystone_authtoken', self.authtoken('glance')),
            ('oslo_concurrency', self.common('glance')),
            ('oslo_messaging_notifications', [('driver', 'noop')]),
            ('paste_deploy', [('flavor', 'keystone'),
                              ('config_file', paste)]),
        ]
        if self.comps.glance_policy:
            sections.append(('oslo_policy', [('policy_file', self._copy(
                self.build.etc_file('glance', 'policy.json'), 'glance'))]))
        return self._write('glance', 'glance-api.conf', _ini(sections))

    # ------------------------------------------------------------- neutron

    def neutron(self):
        etc = os.path.join(self.build.venv, 'etc', 'neutron')
        paste = self._copy(os.path.join(etc, 'api-paste.ini'), 'neutron')
        policy = os.path.join(etc, 'policy.json')
        default = [
            ('bind_host', '127.0.0.1'),
            ('bind_port', str(self.layout.ports['neutron-server'])),
            ('core_plugin', 'ml2'),
            # no L3, no DHCP, no agents: servers boot with no network
            ('service_plugins', ''),
            ('auth_strategy', 'keystone'),
            ('api_paste_config', paste),
            ('api_workers', '1'), ('rpc_workers', '1'),
            ('transport_url', self.rabbitmq.transport_url()),
            ('state_path', self.layout.data('neutron')),
            ('notify_nova_on_port_status_changes', 'True'),
            ('notify_nova_on_port_data_changes', 'True'),
            ('debug', 'False')]
        sections = [
            ('DEFAULT', default),
            ('database', [('connection', self.mariadb.url('neutron'))]),
            ('keystone_authtoken', self.authtoken('neutron')),
            ('nova', self.service_auth('nova', [('region_name',
                                                 'RegionOne')])),
            ('oslo_concurrency', self.common('neutron')),
        ]
        if os.path.exists(policy):    # Queens and before: policy.json
            sections.append(('oslo_policy', [
                ('policy_file', self._copy(policy, 'neutron'))]))
        neutron_conf = self._write('neutron', 'neutron.conf', _ini(sections))
        ml2 = self._write('neutron', 'ml2_conf.ini', _ini([
            ('ml2', [('type_drivers', 'local,flat'),
                     ('tenant_network_types', 'local'),
                     ('mechanism_drivers', ''),
                     ('extension_drivers', 'port_security')]),
        ]))
        return neutron_conf, ml2

    # ----------------------------------------------------------- placement

    def placement(self):
        """Stein on: openstack-placement's own placement.conf."""
        sections = [
            ('DEFAULT', [('debug', 'False')]),
            ('api', [('auth_strategy', 'keystone')]),
            ('keystone_authtoken', self.authtoken('placement')),
            ('placement_database', [('connection',
                                     self.mariadb.url('placement'))]),
        ]
        self._write('placement', 'placement.conf', _ini(sections))
        return self.uwsgi('placement-api', 'placement-api', processes=1,
                          env={'OS_PLACEMENT_CONFIG_DIR':
                               self.layout.etc('placement')})

    # ----------------------------------------------------------------- nova

    def nova_placement_uwsgi(self):
        """Up to Rocky: Nova's own placement API, reading nova.conf."""
        return self.uwsgi('placement-api', 'nova-placement-api', processes=1,
                          env={'OS_PLACEMENT_CONFIG_DIR':
                               self.layout.etc('nova')})

    def nova(self, imgmeta=None):
        """nova.conf; ``imgmeta``: the [nova_imgmeta] options to write
        (None: the section is written with the plugin's defaults spelled
        out, as an operator configures it).
        """
        series = self.series
        # the file Nova ships (Pike's wheel does not install it)
        paste = self._copy(os.path.join(self.build.nova.pristine, 'etc',
                                        'nova', 'api-paste.ini'), 'nova')
        default = [
            ('host', 'cloud-compute'),
            ('my_ip', '127.0.0.1'),
            ('state_path', self.layout.data('nova')),
            ('instances_path', self.layout.data('nova', 'instances')),
            ('transport_url', self.rabbitmq.transport_url()),
            ('enabled_apis', 'osapi_compute'),
            ('osapi_compute_listen', '127.0.0.1'),
            ('osapi_compute_listen_port', str(self.layout.ports['nova-api'])),
            ('osapi_compute_workers', '2'),
            ('compute_driver', 'nova_imgmeta_fake.UploadingFakeDriver'),
            ('use_neutron', None if since(series, 'ussuri') else 'True'),
            ('firewall_driver', None if since(series, 'ussuri') else
             'nova.virt.firewall.NoopFirewallDriver'),
            '# an operator\'s own list, replacing Nova\'s default',
            ('non_inheritable_image_properties', OPERATOR_NON_INHERITABLE),
            ('debug', 'False'),
        ]
        nova_imgmeta = imgmeta if imgmeta is not None else [
            ('base_image_ref_mode', 'boot'),
            ('snapshot_policies', 'heal,never-inherit,patterns,truncated'),
            ('snapshot_on_error', 'open'),
        ]
        region = 'region_name' if since(series, 'queens') \
            else 'os_region_name'
        sections = [
            ('DEFAULT', default),
            ('api', [('auth_strategy', 'keystone')]),
            ('api_database', [('connection', self.mariadb.url('nova_api'))]),
            ('conductor', [('workers', '1')]),
            ('database', [('connection', self.mariadb.url('nova'))]),
            ('glance', [('api_servers', self.layout.url('glance-api'))]),
            ('keystone_authtoken', self.authtoken('nova')),
            ('neutron', self.service_auth('neutron', [
                ('region_name', 'RegionOne'),
                ('url', None if since(series, 'queens') else
                 self.layout.url('neutron-server'))])),
            ('oslo_concurrency', self.common('nova')),
            ('oslo_messaging_notifications', [('driver', 'noop')]),
            ('placement', self.service_auth('placement', [
                (region, 'RegionOne')])),
            # the fake hypervisor: no arbitrary limits (devstack's
            # lib/nova_plugins/hypervisor-fake)
            ('quota', [('instances', '-1'), ('cores', '-1'), ('ram', '-1'),
                       ('metadata_items', '-1')]),
            ('scheduler', [('workers', '1')]),
            ('vnc', [('enabled', 'False')]),
            ('wsgi', [('api_paste_config', paste)]),
            ('nova_imgmeta', nova_imgmeta),
        ]
        return self._write('nova', 'nova.conf', _ini(sections))

    def cell0_url(self):
        return self.mariadb.url('nova_cell0')
