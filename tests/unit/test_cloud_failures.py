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

"""Messages for HTTP and network failures, and the missing extra."""

import socket

from nova_imgmeta.cloud import auth
from nova_imgmeta.cloud import failures as errors


class HTTPUnauthorized(Exception):
    code = 401


class Conflict(Exception):
    http_status = 409


class ConnectFailure(Exception):
    pass


def test_status_messages():
    assert 'HTTP 401' in str(errors.describe(HTTPUnauthorized(), 'x'))
    error = errors.describe(Conflict(), 'update image 1')
    assert error.status == 409 and not error.fatal
    assert str(error).startswith('update image 1: conflict (HTTP 409)')
    assert errors.describe(HTTPUnauthorized(), 'x').fatal


def test_network_errors():
    for exc in (ConnectFailure('refused'), socket.error('boom')):
        error = errors.describe(exc, 'list images')
        assert error.network and error.fatal
        assert 'network error' in str(error)


def test_missing_clients_message():
    assert 'install nova-imgmeta[cli]' in str(errors.MissingClients())


def test_headers_option():
    assert auth.parse_headers(['X-Roles: admin', 'A=b']) == {
        'X-Roles': 'admin', 'A': 'b'}


def test_commands_say_to_install_the_extra(monkeypatch, capsys):
    from nova_imgmeta.cli import main as cli_main
    import sys
    for name in ('keystoneauth1', 'glanceclient', 'novaclient',
                 'os_client_config'):
        monkeypatch.setitem(sys.modules, name, None)
    code = cli_main.main(['audit', '--os-auth-type', 'none',
                          '--os-endpoint', 'http://127.0.0.1:9'])
    assert code == 2
    assert 'install nova-imgmeta[cli]' in capsys.readouterr()[1]


def test_no_credentials_message(monkeypatch, capsys):
    import os
    pytest = __import__('pytest')
    pytest.importorskip('keystoneauth1')
    from nova_imgmeta.cli import main as cli_main
    for name in list(os.environ):
        if name.startswith('OS_'):
            monkeypatch.delenv(name)
    code = cli_main.main(['audit'])
    assert code == 2
    assert 'no credentials' in capsys.readouterr()[1]


def test_one_error_root():
    from nova_imgmeta.catalogue.fix_journal import JournalError
    from nova_imgmeta.exceptions import CommandError
    from nova_imgmeta.exceptions import NovaImgmetaError
    from nova_imgmeta.imagefiles.qcow2 import CorruptHeader
    for cls in (errors.ApiError, errors.MissingClients, JournalError,
                CommandError, CorruptHeader):
        assert issubclass(cls, NovaImgmetaError), cls
    assert errors.ApiError('x').exit_code == 2


def test_no_module_shadows_an_openstack_package_on_python27():
    # Python 2.7 imports a sibling module before a top-level package of
    # the same name unless the module asks for absolute imports
    import nova_imgmeta
    import os
    top = os.path.dirname(nova_imgmeta.__file__)
    for path, _dirs, files in os.walk(top):
        names = set(f[:-3] for f in files if f.endswith('.py'))
        assert not names & set(['nova', 'glanceclient', 'novaclient',
                                'keystoneauth1']), path
        if 'glance' in names:   # cloud/glance.py: its siblings
            for name in names - set(['__init__']):
                with open(os.path.join(path, name + '.py')) as handle:
                    assert 'from __future__ import absolute_import' in \
                        handle.read(), (path, name)
