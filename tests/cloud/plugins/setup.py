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

# Third-party policies for the loopback cloud's tests (tests/cloud): the
# tests pip install this package into the running cloud's Nova environment,
# as an operator installs a policy of their own, and name its policies in
# nova.conf. tools/cloud up removes it again.
import setuptools

setuptools.setup(
    name='nova-imgmeta-cloud-policies',
    version='1.0.0',
    description='Test policies for the nova-imgmeta loopback cloud',
    packages=['nova_imgmeta_cloud_policies'],
    install_requires=[],
    entry_points={
        'nova_imgmeta.snapshot_policies': [
            'cloud-refuse-named = '
            'nova_imgmeta_cloud_policies:RefuseNamedPolicy',
            'cloud-fail-named = nova_imgmeta_cloud_policies:FailNamedPolicy',
            'cloud-broken = nova_imgmeta_cloud_policies.broken:BrokenPolicy',
        ],
    },
)
