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

"""Where a cloud lives: its state directory and its loopback ports.

Everything a running cloud has is in one state directory
(``$NOVA_IMGMETA_CLOUD_STATE``, default
``$NOVA_TIER_CACHE/cloud-SERIES/state``):

    etc/SERVICE/      configuration files, as an operator writes them
    data/SERVICE/     databases, images, queues, instances
    logs/SERVICE.log  what each service writes (stdout and stderr)
    run/SERVICE.pid   "PID START-TIME" of each service's process group
    cloud.json        what ``status`` reports: series, mode, URLs, ports
    secrets.json      the generated passwords (mode 0600)
    clouds.yaml, openrc-admin, openrc-member

Ports: ``$NOVA_IMGMETA_CLOUD_PORT_BASE`` (default 17000) plus the offsets
of PORTS, all on 127.0.0.1.
"""

import collections
import json
import os

__all__ = ['Layout', 'PORTS', 'DEFAULT_PORT_BASE']

DEFAULT_PORT_BASE = 17000

#: every listening port, as an offset from the base
PORTS = collections.OrderedDict([
    ('keystone', 0),
    ('glance-api', 1),
    ('neutron-server', 2),
    ('placement-api', 3),
    ('nova-api', 4),
    ('mariadb', 6),
    ('rabbitmq', 7),
    ('rabbitmq-dist', 8),
    ('epmd', 9),
])


def default_cache():
    return os.environ.get('NOVA_TIER_CACHE') or os.path.join(
        os.path.expanduser('~'), '.cache', 'nova-imgmeta')


class Layout(object):
    """Paths and ports of one series' cloud."""

    def __init__(self, series, state=None, port_base=None):
        self.series = series
        self.state = os.path.abspath(
            state or os.environ.get('NOVA_IMGMETA_CLOUD_STATE') or
            os.path.join(default_cache(), 'cloud-' + series, 'state'))
        if port_base is None:
            port_base = os.environ.get('NOVA_IMGMETA_CLOUD_PORT_BASE') or \
                DEFAULT_PORT_BASE
        self.port_base = int(port_base)
        self.ports = collections.OrderedDict(
            (name, self.port_base + offset) for name, offset in PORTS.items())

    def etc(self, *parts):
        return os.path.join(self.state, 'etc', *parts)

    def data(self, *parts):
        return os.path.join(self.state, 'data', *parts)

    def log(self, service):
        return os.path.join(self.state, 'logs', service + '.log')

    def pidfile(self, service):
        return os.path.join(self.state, 'run', service + '.pid')

    @property
    def cloud_json(self):
        return os.path.join(self.state, 'cloud.json')

    @property
    def secrets_json(self):
        return os.path.join(self.state, 'secrets.json')

    @property
    def clouds_yaml(self):
        return os.path.join(self.state, 'clouds.yaml')

    def url(self, service, path=''):
        return 'http://127.0.0.1:%d%s' % (self.ports[service], path)

    def read_cloud(self):
        """cloud.json of the last ``up``, or None."""
        try:
            with open(self.cloud_json) as handle:
                return json.load(handle)
        except (IOError, OSError, ValueError):
            return None

    def write_json(self, path, data, private=False):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + '.tmp'
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                     0o600 if private else 0o644)
        with os.fdopen(fd, 'w') as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
            handle.write('\n')
        os.rename(tmp, path)
