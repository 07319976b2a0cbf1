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

"""Authentication paths: clouds.yaml, keystoneauth password against an
unreachable Keystone."""

import glance_server


def test_os_cloud_from_clouds_yaml(cli, catalogue, tmp_path, monkeypatch):
    clouds = tmp_path / 'clouds.yaml'
    clouds.write_text(
        'clouds:\n'
        '  loopback:\n'
        '    auth_type: none\n'
        '    auth:\n'
        '      endpoint: %s\n'
        '    image_endpoint_override: %s\n'
        % (cli.glance_url, cli.glance_url))
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(clouds))
    argv = ['audit', '--os-cloud', 'loopback', '--owner', catalogue.owner,
            '--no-tree'] + glance_server.cli_headers()
    cli.capsys.readouterr()
    from nova_imgmeta.cli import main as cli_main
    code = cli_main.main(argv)
    out, err = cli.capsys.readouterr()
    assert code == 1, err
    assert 'summary: 16 images' in out


def test_password_auth_keystone_unreachable(cli, capsys):
    from nova_imgmeta.cli import main as cli_main
    port = glance_server.free_port()
    code = cli_main.main([
        'audit', '--os-auth-url', 'http://127.0.0.1:%d/v3' % port,
        '--os-username', 'admin', '--os-password', 'secret',
        '--os-project-name', 'admin', '--os-user-domain-name', 'Default',
        '--os-project-domain-name', 'Default'])
    err = capsys.readouterr()[1]
    assert code == 2
    assert 'network error' in err
    assert 'secret' not in err
