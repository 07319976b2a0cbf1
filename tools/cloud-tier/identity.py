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

"""Keystone's users, projects and catalog, and the files people use.

``keystone-manage bootstrap`` makes the admin user, project and role, the
region and the identity endpoints; this module adds what devstack adds:
a ``service`` project with one user per service (admin role), the
catalog of the image, network, placement and compute services, and a
member: the project ``nova-imgmeta`` and its user ``nova-imgmeta-member``
(role ``member``). Then it writes clouds.yaml and the openrc files.
"""

import os

import httpjson

__all__ = ['SERVICE_USERS', 'MEMBER', 'setup', 'write_client_files']

#: service users, in the ``service`` project
SERVICE_USERS = ('nova', 'glance', 'neutron', 'placement')
#: (project, user) of the member
MEMBER = ('nova-imgmeta', 'nova-imgmeta-member')
#: catalog entries: (service name, type, port key, path)
CATALOG = (
    ('glance', 'image', 'glance-api', ''),
    ('neutron', 'network', 'neutron-server', ''),
    ('placement', 'placement', 'placement-api', ''),
    ('nova', 'compute', 'nova-api', '/v2.1'),
)
CLOUD_NAMES = {'admin': 'nova-imgmeta-admin', 'member': 'nova-imgmeta-member'}


def _find(session, url, collection, name):
    found = session('GET', url + '/%s?name=%s' % (collection, name))
    items = found[collection]
    return items[0]['id'] if items else None


def _ensure(session, url, collection, name, body):
    existing = _find(session, url, collection, name)
    if existing:
        return existing
    key = collection[:-1]
    created = session('POST', url + '/' + collection, {key: body})
    return created[key]['id']


def setup(layout, secrets):
    """Users, projects, roles and the catalog; returns ids for cloud.json."""
    url = layout.url('keystone', '/v3')
    admin = httpjson.Session(url, 'admin', secrets['admin'], 'admin')
    admin.authenticate()
    domain = 'default'
    ids = {}
    ids['service_project'] = _ensure(admin, url, 'projects', 'service', {
        'name': 'service', 'domain_id': domain,
        'description': 'the services\' own users'})
    member_project, member_user = MEMBER
    ids['member_project'] = _ensure(admin, url, 'projects', member_project, {
        'name': member_project, 'domain_id': domain,
        'description': 'a member project of the nova-imgmeta cloud'})
    roles = {}
    for role in ('admin', 'member'):
        roles[role] = _ensure(admin, url, 'roles', role, {'name': role})
    for user in SERVICE_USERS:
        user_id = _ensure(admin, url, 'users', user, {
            'name': user, 'domain_id': domain, 'password': secrets[user],
            'default_project_id': ids['service_project']})
        admin('PUT', url + '/projects/%s/users/%s/roles/%s' % (
            ids['service_project'], user_id, roles['admin']))
    ids['member_user'] = _ensure(admin, url, 'users', member_user, {
        'name': member_user, 'domain_id': domain,
        'password': secrets['member'],
        'default_project_id': ids['member_project']})
    admin('PUT', url + '/projects/%s/users/%s/roles/%s' % (
        ids['member_project'], ids['member_user'], roles['member']))
    ids['admin_project'] = _find(admin, url, 'projects', 'admin')
    for name, kind, port_key, path in CATALOG:
        service_id = _ensure(admin, url, 'services', name, {
            'name': name, 'type': kind, 'enabled': True})
        endpoints = admin('GET', url + '/endpoints?service_id=' + service_id)
        have = set(e['interface'] for e in endpoints['endpoints'])
        for interface in ('public', 'internal', 'admin'):
            if interface not in have:
                admin('POST', url + '/endpoints', {'endpoint': {
                    'service_id': service_id, 'interface': interface,
                    'region_id': 'RegionOne',
                    'url': layout.url(port_key, path)}})
    return ids


def credentials(layout, secrets):
    """{kind: (user, password, project)} of the admin and the member."""
    return {'admin': ('admin', secrets['admin'], 'admin'),
            'member': (MEMBER[1], secrets['member'], MEMBER[0])}


def write_client_files(layout, secrets):
    """clouds.yaml (both clouds) and openrc-admin / openrc-member."""
    auth_url = layout.url('keystone', '/v3')
    lines = ['# the nova-imgmeta loopback cloud (%s); written by tools/cloud '
             'up' % layout.series, 'clouds:']
    for kind, (user, password, project) in sorted(
            credentials(layout, secrets).items()):
        lines += [
            '  %s:' % CLOUD_NAMES[kind],
            '    auth:',
            '      auth_url: %s' % auth_url,
            '      username: %s' % user,
            '      password: %s' % password,
            '      project_name: %s' % project,
            '      user_domain_name: Default',
            '      project_domain_name: Default',
            '    region_name: RegionOne',
            '    interface: public',
            '    identity_api_version: 3',
        ]
        openrc = os.path.join(layout.state, 'openrc-' + kind)
        with open(openrc, 'w') as handle:
            handle.write('\n'.join([
                '# %s of the nova-imgmeta loopback cloud (%s): '
                '. %s' % (kind, layout.series, openrc),
                'export OS_AUTH_URL=%s' % auth_url,
                'export OS_IDENTITY_API_VERSION=3',
                'export OS_USERNAME=%s' % user,
                'export OS_PASSWORD=%s' % password,
                'export OS_PROJECT_NAME=%s' % project,
                'export OS_USER_DOMAIN_NAME=Default',
                'export OS_PROJECT_DOMAIN_NAME=Default',
                'export OS_REGION_NAME=RegionOne',
                'export OS_INTERFACE=public', '']))
        os.chmod(openrc, 0o600)
    with open(layout.clouds_yaml, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')
    os.chmod(layout.clouds_yaml, 0o600)
    return layout.clouds_yaml
