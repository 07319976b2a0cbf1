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

"""Tempest's own tests against the live cloud.

The line's Tempest (components.py says which and why) in its own
virtualenv, a workspace in the state directory (``tempest init``) and a
tempest.conf written as devstack's lib/tempest writes it for this cloud:
dynamic credentials from the admin, the cloud's two public images and
flavors, the features the fake hypervisor has (snapshot, shelve, pause,
suspend, console output) on, Cinder and Swift absent, no isolated
networks (servers boot with no network) and no SSH validation.

The tests: Nova's server rebuild, createImage, createBackup and
shelve/unshelve tests, the compute image tests, and the negative tests of
the same actions (REGEX). ``run`` returns the counts and writes them to
``results/tempest-MODE.json`` with every skipped test and its reason.
"""

import json
import os
import re
import subprocess
import time

__all__ = ['REGEX', 'run', 'write_config']

#: the tests run, by id
REGEX = '|'.join([
    r'^tempest\.api\.compute\.images\.',
    r'^tempest\.api\.compute\.servers\.test_server_actions\.'
    r'ServerActionsTestJSON\.test_(rebuild|create_backup|shelve)',
    r'^tempest\.api\.compute\.servers\.test_servers_negative\.'
    r'ServersNegativeTestJSON\.test_(rebuild|shelve|unshelve)',
])


def write_config(cloud, workspace):
    info, secrets, layout = cloud.info(), cloud.secrets(), cloud.layout
    images = info['images']
    sections = [
        ('DEFAULT', [('log_file', os.path.join(workspace, 'tempest.log')),
                     ('debug', 'False')]),
        ('auth', [('use_dynamic_credentials', 'True'),
                  ('admin_username', 'admin'),
                  ('admin_password', secrets['admin']),
                  ('admin_project_name', 'admin'),
                  ('admin_domain_name', 'Default'),
                  ('create_isolated_networks', 'False')]),
        ('identity', [('uri_v3', layout.url('keystone', '/v3')),
                      ('auth_version', 'v3'), ('region', 'RegionOne')]),
        ('identity-feature-enabled', [('api_v2', 'False')]),
        ('compute', [('image_ref', images['cloud-image']),
                     ('image_ref_alt', images['cloud-image-alt']),
                     ('flavor_ref', '1'), ('flavor_ref_alt', '2'),
                     ('region', 'RegionOne'), ('build_timeout', '120'),
                     ('min_compute_nodes', '1'),
                     ('max_microversion', 'latest')]),
        ('compute-feature-enabled', [
            ('snapshot', 'True'), ('shelve', 'True'), ('pause', 'True'),
            ('suspend', 'True'), ('console_output', 'True'),
            ('resize', 'False'), ('rescue', 'False'),
            ('change_password', 'False'), ('vnc_console', 'False'),
            ('spice_console', 'False'), ('serial_console', 'False'),
            ('interface_attach', 'False'),
            ('attach_encrypted_volume', 'False')]),
        ('image', [('region', 'RegionOne'), ('build_timeout', '120')]),
        ('image-feature-enabled', [('api_v1', 'False'), ('api_v2', 'True')]),
        ('network', [('region', 'RegionOne')]),
        ('service_available', [('nova', 'True'), ('glance', 'True'),
                               ('neutron', 'True'), ('cinder', 'False'),
                               ('swift', 'False'), ('heat', 'False')]),
        ('validation', [('run_validation', 'False')]),
        ('oslo_concurrency', [('lock_path', os.path.join(workspace,
                                                         'lock'))]),
    ]
    text = []
    for section, items in sections:
        text.append('[%s]' % section)
        text += ['%s = %s' % item for item in items]
        text.append('')
    path = os.path.join(workspace, 'etc', 'tempest.conf')
    with open(path, 'w') as handle:
        handle.write('\n'.join(text))
    return path


_TOTAL = re.compile(r'^\s*-?\s*(Passed|Skipped|Failed|Expected Fail|'
                    r'Unexpected Success):\s*(\d+)', re.MULTILINE)
_SKIP = re.compile(r'\{\d+\}\s+(\S+)\s+\.\.\.\s+SKIPPED:\s*(.*)$',
                   re.MULTILINE)
_FAIL = re.compile(r'\{\d+\}\s+(\S+)\s+\[[^\]]*\]\s+\.\.\.\s+FAILED',
                   re.MULTILINE)


def run(cloud, concurrency=2):
    """Run the tests; returns the counts (passed, skipped, failed...)."""
    build, layout = cloud.build, cloud.layout
    build.ensure_tempest_venv()
    workspace = os.path.join(layout.state, 'tempest')
    tempest = os.path.join(build.tempest_venv, 'bin', 'tempest')
    env = dict(os.environ, PATH=os.path.join(build.tempest_venv, 'bin') +
               os.pathsep + os.environ.get('PATH', ''),
               OS_TEST_TIMEOUT='600')
    for name in ('PYTHONPATH', 'VIRTUAL_ENV'):
        env.pop(name, None)
    if not os.path.isdir(workspace):
        # the workspace registry in the state directory, not ~/.tempest
        with open(os.path.join(layout.state, 'logs', 'tempest-init.log'),
                  'w') as init_log:
            subprocess.check_call(
                [tempest, 'init', '--name', 'nova-imgmeta-cloud',
                 '--workspace-path', os.path.join(
                     layout.state, 'tempest-workspaces.yaml'),
                 workspace], env=env, stdout=init_log,
                stderr=subprocess.STDOUT)
    write_config(cloud, workspace)
    mode = cloud.info()['mode']
    log = os.path.join(layout.state, 'logs', 'tempest-%s.log' % mode)
    cloud.say('Tempest %s (Python %s): %s' % (
        cloud.comps.tempest, cloud.comps.tempest_python, REGEX))
    started = time.time()
    with open(log, 'w') as handle:
        code = subprocess.call(
            [tempest, 'run', '--regex', REGEX, '--concurrency',
             str(concurrency)], cwd=workspace, env=env, stdout=handle,
            stderr=subprocess.STDOUT)
    with open(log) as handle:
        output = handle.read()
    counts = dict((name.lower().replace(' ', '_'), int(value))
                  for name, value in _TOTAL.findall(output))
    result = {
        'tempest': cloud.comps.tempest,
        'python': cloud.comps.tempest_python,
        'series': cloud.series, 'mode': mode, 'regex': REGEX,
        'exit_code': code, 'seconds': round(time.time() - started),
        'counts': counts,
        'skipped': sorted(set(_SKIP.findall(output))),
        'failed': sorted(set(_FAIL.findall(output))),
        'log': log,
    }
    results = os.path.join(layout.state, 'results')
    os.makedirs(results, exist_ok=True)
    with open(os.path.join(results, 'tempest-%s.json' % mode), 'w') as out:
        json.dump(result, out, indent=2, sort_keys=True)
    cloud.say('Tempest on the %s cloud: %s in %d s (exit %d), log %s' % (
        mode, ', '.join('%s %d' % item for item in sorted(counts.items())),
        result['seconds'], code, log))
    return result
