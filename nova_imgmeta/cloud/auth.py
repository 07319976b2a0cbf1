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

"""Authentication the OpenStack way, for the operator commands.

``add_auth_arguments(parser)`` adds the usual ``--os-*`` options (their
defaults are the ``OS_*`` environment variables, read when the command runs,
so that ``--help`` never shows a password) and ``--os-cloud`` for
clouds.yaml; ``settings_from_args(args)`` turns the parsed options into
plain settings, ``{name: value}``. ``connect(settings)`` returns a
:class:`Connection` holding a keystoneauth1 session: it knows nothing of
argparse, so a benchmark or a test hands it a dict. keystoneauth1 and
os-client-config are imported only there: they come with the ``cli``
extra.
"""

from __future__ import absolute_import

import os

from nova_imgmeta.cloud.failures import MissingClients
from nova_imgmeta.exceptions import CommandError

__all__ = ['AUTH_OPTIONS', 'SETTINGS', 'Connection', 'add_auth_arguments',
           'settings_from_args', 'connect', 'parse_headers']

#: (option dest without the "os_" prefix, help). Every one is also read from
#: the environment variable OS_<DEST upper-case>.
AUTH_OPTIONS = (
    ('auth_url', 'Identity (Keystone) endpoint URL'),
    ('username', 'user name'),
    ('user_id', 'user id'),
    ('password', 'password'),
    ('project_name', 'project (tenant) name'),
    ('project_id', 'project (tenant) id'),
    ('user_domain_name', 'domain name of the user'),
    ('user_domain_id', 'domain id of the user'),
    ('project_domain_name', 'domain name of the project'),
    ('project_domain_id', 'domain id of the project'),
    ('domain_name', 'domain name to scope to'),
    ('domain_id', 'domain id to scope to'),
    ('default_domain_name', 'default domain name (v2 credentials)'),
    ('default_domain_id', 'default domain id (v2 credentials)'),
    ('system_scope', 'system scope (e.g. "all")'),
    ('trust_id', 'trust id'),
    ('token', 'a token (auth types token and admin_token)'),
    ('endpoint', 'service endpoint for auth types none and admin_token'),
)
#: connections per host that requests keeps open by default
POOL_SIZE = 10
#: Legacy environment names still found in many openrc files.
ENV_ALIASES = {
    'project_name': ('OS_TENANT_NAME',),
    'project_id': ('OS_TENANT_ID',),
    'image_endpoint_override': ('OS_IMAGE_URL',),
}


def _env(dest):
    names = ('OS_' + dest.upper(),) + ENV_ALIASES.get(dest, ())
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


#: Every setting :func:`connect` reads besides those of AUTH_OPTIONS (and
#: any other option of the keystoneauth1 plugin, read from its OS_*
#: variable). The option of each is ``--os-<name with dashes>``, but
#: those of ``_ARG_DEST``.
SETTINGS = tuple(dest for dest, _text in AUTH_OPTIONS) + (
    'cloud', 'auth_type', 'region_name', 'interface', 'cacert', 'cert',
    'key', 'insecure', 'timeout', 'image_endpoint_override',
    'compute_endpoint_override', 'headers')

#: The argparse destinations that are not os_<name>.
_ARG_DEST = {'insecure': 'insecure', 'timeout': 'timeout',
             'headers': 'os_header'}


def settings_from_args(args):
    """The settings given on the command line (``add_auth_arguments``):
    ``{name: value}`` of :data:`SETTINGS`, those not given left out.
    """
    given = {}
    for name in SETTINGS:
        found = getattr(args, _ARG_DEST.get(name, 'os_' + name), None)
        if found not in (None, '', []):
            given[name] = found
    return given


def value(settings, name):
    """The setting if given, else its OS_* variable, else None."""
    given = settings.get(name)
    if given not in (None, ''):
        return given
    return _env(name)


def add_auth_arguments(parser):
    group = parser.add_argument_group(
        'authentication',
        'keystoneauth1 options; each defaults to its OS_* environment '
        'variable (e.g. --os-auth-url: OS_AUTH_URL)')
    group.add_argument('--os-cloud', metavar='NAME',
                       help='a cloud from clouds.yaml (os-client-config); '
                            'default: OS_CLOUD')
    group.add_argument('--os-auth-type', metavar='TYPE',
                       help='keystoneauth1 plugin: password, token, '
                            'v3password, admin_token, none... '
                            '(default: password, or token when a token '
                            'is given)')
    for dest, text in AUTH_OPTIONS:
        group.add_argument('--os-' + dest.replace('_', '-'),
                           dest='os_' + dest, metavar='VALUE', help=text)
    group.add_argument('--os-region-name', metavar='REGION')
    group.add_argument('--os-interface', metavar='INTERFACE',
                       help='endpoint interface (default: public)')
    group.add_argument('--os-cacert', metavar='FILE',
                       help='CA bundle to verify TLS servers')
    group.add_argument('--os-cert', metavar='FILE')
    group.add_argument('--os-key', metavar='FILE')
    group.add_argument('--insecure', action='store_true', default=None,
                       help='do not verify TLS certificates')
    group.add_argument('--timeout', type=float, default=None,
                       metavar='SECONDS',
                       help='HTTP timeout (default: OS_TIMEOUT or 60)')
    group.add_argument('--os-image-endpoint-override', metavar='URL',
                       help='Glance endpoint, bypassing the catalog '
                            '(OS_IMAGE_ENDPOINT_OVERRIDE or OS_IMAGE_URL)')
    group.add_argument('--os-compute-endpoint-override', metavar='URL',
                       help='Nova endpoint incl. /v2.1, bypassing the '
                            'catalog (OS_COMPUTE_ENDPOINT_OVERRIDE)')
    group.add_argument('--os-header', action='append', default=[],
                       metavar='"NAME: VALUE"',
                       help='an extra HTTP header on every request '
                            '(repeatable; e.g. for services behind a '
                            'trusted authentication proxy)')
    return group


class Connection(object):
    """A keystoneauth1 session and where the image and compute APIs are."""

    def __init__(self, session, region_name=None, interface=None,
                 image_endpoint=None, compute_endpoint=None):
        self.session = session
        self.region_name = region_name
        self.interface = interface or 'public'
        self.image_endpoint = image_endpoint
        self.compute_endpoint = compute_endpoint
        self._pool = POOL_SIZE

    def adapter(self, service_type, endpoint_override=None, pool=1):
        """A keystoneauth1 adapter for one service of the catalog (its
        endpoint for this interface and region, or the override).

        :param pool: connections kept open per host, at least the number
            of threads that share the session.
        """
        from keystoneauth1 import adapter
        self.size_pools(pool)
        return adapter.Adapter(self.session, service_type=service_type,
                               interface=self.interface,
                               region_name=self.region_name or None,
                               endpoint_override=endpoint_override or None)

    def size_pools(self, connections):
        """Keep ``connections`` connections per host open (requests'
        default, 10, would open and drop one per request beyond it, and
        urllib3 warns each time).
        """
        if connections <= POOL_SIZE or connections <= self._pool:
            return
        requests_session = getattr(self.session, 'session', None)
        if requests_session is None:
            return
        try:
            from keystoneauth1.session import TCPKeepAliveAdapter as Adapter
        except ImportError:  # pragma: no cover - every supported release
            from requests.adapters import HTTPAdapter as Adapter
        for scheme in ('http://', 'https://'):
            requests_session.mount(scheme, Adapter(
                pool_connections=connections, pool_maxsize=connections))
        self._pool = connections


def parse_headers(items):
    headers = {}
    for item in items or ():
        sep = ':' if ':' in item else '='
        if sep not in item:
            raise CommandError('--os-header %r: expected "NAME: VALUE"' % item)
        name, val = item.split(sep, 1)
        headers[name.strip()] = val.strip()
    return headers


def _import_keystoneauth():
    try:
        from keystoneauth1 import loading
        from keystoneauth1 import session as ks_session
    except ImportError as exc:
        raise MissingClients(str(exc))
    return loading, ks_session


def connect(settings):
    """Build a :class:`Connection` from plain settings.

    :param settings: a mapping, ``{name: value}``: the names of
        :data:`SETTINGS` and any other option of the keystoneauth1 plugin.
        What it lacks (or holds as None or '') is read from the OS_*
        environment variable of its name (OS_AUTH_URL...), as OpenStack's
        own clients do. ``headers``: a ``{name: value}`` dict or a list of
        ``"NAME: VALUE"``.
    :raises CommandError: the credentials are missing or wrong.
    :raises MissingClients: keystoneauth1 (the ``cli`` extra) is missing.
    """
    headers = settings.get('headers') or {}
    if not isinstance(headers, dict):
        headers = parse_headers(headers)
    cloud = value(settings, 'cloud')
    if cloud:
        return _connect_cloud(settings, cloud, headers)
    loading, ks_session = _import_keystoneauth()
    auth_type = value(settings, 'auth_type')
    if not auth_type:
        if value(settings, 'token') and value(settings, 'endpoint'):
            auth_type = 'admin_token'
        elif value(settings, 'token'):
            auth_type = 'token'
        elif value(settings, 'endpoint') and not value(settings, 'auth_url'):
            auth_type = 'none'
        else:
            auth_type = 'password'
    try:
        loader = loading.get_plugin_loader(auth_type)
    except Exception as exc:
        raise CommandError('unknown --os-auth-type %r: %s' % (auth_type, exc))
    options = {}
    for opt in loader.get_options():
        val = value(settings, opt.dest)
        if val is not None:
            options[opt.dest] = val
    if auth_type not in ('none', 'admin_token') and \
            not options.get('auth_url'):
        raise CommandError('no credentials: set OS_AUTH_URL and friends '
                           '(source your openrc), use --os-cloud NAME, or '
                           '--os-auth-url and the other --os-* options')
    try:
        auth = loader.load_from_options(**options)
    except Exception as exc:
        raise CommandError('incomplete credentials for auth type %s: %s'
                           % (auth_type, exc))
    verify = True
    if _insecure(settings):
        verify = False
    elif value(settings, 'cacert'):
        verify = value(settings, 'cacert')
    cert = value(settings, 'cert')
    if cert and value(settings, 'key'):
        cert = (cert, value(settings, 'key'))
    session = ks_session.Session(
        auth=auth, verify=verify, cert=cert, timeout=_timeout(settings),
        additional_headers=headers, user_agent='nova-imgmeta')
    return Connection(
        session,
        region_name=value(settings, 'region_name'),
        interface=value(settings, 'interface'),
        image_endpoint=value(settings, 'image_endpoint_override'),
        compute_endpoint=value(settings, 'compute_endpoint_override'))


def _insecure(settings):
    if settings.get('insecure'):
        return True
    return (os.environ.get('OS_INSECURE') or '').lower() in (
        '1', 'true', 'yes')


def _timeout(settings):
    given = settings.get('timeout')
    if given is None:
        given = os.environ.get('OS_TIMEOUT') or 60
    return float(given)


def _connect_cloud(settings, cloud, headers):
    _import_keystoneauth()
    try:
        import os_client_config
    except ImportError as exc:
        raise MissingClients(str(exc))
    try:
        config = os_client_config.OpenStackConfig().get_one_cloud(
            cloud=cloud, region_name=value(settings, 'region_name'))
        session = config.get_session()
    except Exception as exc:
        raise CommandError('clouds.yaml cloud %r: %s' % (cloud, exc))
    session.additional_headers.update(headers)
    conf = getattr(config, 'config', {}) or {}
    return Connection(
        session,
        region_name=getattr(config, 'region_name', None) or
        conf.get('region_name'),
        interface=conf.get('interface'),
        image_endpoint=value(settings, 'image_endpoint_override') or
        conf.get('image_endpoint_override'),
        compute_endpoint=value(settings, 'compute_endpoint_override') or
        conf.get('compute_endpoint_override'))
