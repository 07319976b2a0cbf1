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

"""cloud.auth: plain settings in, a keystoneauth1 session out."""

import argparse
import os

import pytest

from nova_imgmeta.cloud import auth
from nova_imgmeta.exceptions import CommandError

ENDPOINT = 'http://127.0.0.1:9'

try:
    import keystoneauth1  # noqa: F401
    HAVE_KEYSTONEAUTH = True
except ImportError:
    HAVE_KEYSTONEAUTH = False

# connect() builds a keystoneauth1 session: tox installs the cli extra on
# 2.7 and 3.9-3.12, not on 3.6/3.8 (pip's resolver backtracks there, see
# tox.ini), where these tests cannot run.
needs_keystoneauth = pytest.mark.skipif(
    not HAVE_KEYSTONEAUTH,
    reason='keystoneauth1 is not installed (no cli extra on this Python)')


@pytest.fixture
def no_os_env(monkeypatch):
    """No OS_* variable of the test runner's shell leaks in."""
    for name in list(os.environ):
        if name.startswith('OS_'):
            monkeypatch.delenv(name)


def _parser():
    parser = argparse.ArgumentParser()
    group = auth.add_auth_arguments(parser)
    return parser, group


def test_every_option_of_the_parser_is_a_setting():
    """SETTINGS and add_auth_arguments name the same things: an option
    that settings_from_args does not carry would be ignored silently.
    """
    parser, group = _parser()
    argv = []
    for action in group._group_actions:
        option = action.option_strings[0]
        if action.nargs == 0:
            argv.append(option)
        elif action.type is float:
            argv += [option, '5']
        else:
            argv += [option, 'x' + action.dest]
    settings = auth.settings_from_args(parser.parse_args(argv))
    assert sorted(settings) == sorted(auth.SETTINGS)
    assert settings['auth_url'] == 'xos_auth_url'
    assert settings['headers'] == ['xos_header']
    assert settings['insecure'] is True and settings['timeout'] == 5.0


def test_options_not_given_are_left_out():
    parser, _group = _parser()
    assert auth.settings_from_args(parser.parse_args([])) == {}


@needs_keystoneauth
def test_connect_takes_plain_settings(no_os_env):
    """Regression test of issue 18, item 5: connect() read an argparse
    Namespace with getattr (a dict's settings were ignored, and it asked
    for credentials); it takes plain settings.
    """
    connection = auth.connect({
        'auth_type': 'none', 'endpoint': ENDPOINT, 'insecure': True,
        'timeout': 7, 'headers': ['X-Roles: admin'],
        'image_endpoint_override': ENDPOINT + '/image',
        'region_name': 'RegionTwo', 'interface': 'internal'})
    assert connection.session.verify is False
    assert connection.session.timeout == 7.0
    assert connection.session.additional_headers == {'X-Roles': 'admin'}
    assert connection.image_endpoint == ENDPOINT + '/image'
    assert connection.compute_endpoint is None
    assert (connection.region_name, connection.interface) == (
        'RegionTwo', 'internal')


@needs_keystoneauth
def test_settings_win_over_the_environment(no_os_env, monkeypatch):
    monkeypatch.setenv('OS_IMAGE_URL', ENDPOINT + '/from-env')
    monkeypatch.setenv('OS_TIMEOUT', '3')
    monkeypatch.setenv('OS_AUTH_TYPE', 'none')
    monkeypatch.setenv('OS_ENDPOINT', ENDPOINT)
    from_env = auth.connect({})
    assert from_env.image_endpoint == ENDPOINT + '/from-env'
    assert from_env.session.timeout == 3.0
    given = auth.connect({'image_endpoint_override': ENDPOINT + '/given',
                          'timeout': 4, 'headers': {'A': 'b'}})
    assert given.image_endpoint == ENDPOINT + '/given'
    assert given.session.timeout == 4.0
    assert given.session.additional_headers == {'A': 'b'}


@needs_keystoneauth
def test_no_credentials_is_a_clear_error(no_os_env):
    with pytest.raises(CommandError) as caught:
        auth.connect({})
    assert 'no credentials' in str(caught.value)
