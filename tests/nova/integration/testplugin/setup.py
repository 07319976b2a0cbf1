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

# Policies used only by the real-Nova integration tests
# (tests/nova/integration): installed into the tier's venv by
# tools/nova-tier/tier.py after the freeze check, and loaded by nova_imgmeta
# through these real entry points when a test names them in
# [nova_imgmeta] rebuild_policies / resize_policies / snapshot_policies.
import setuptools

setuptools.setup(
    name='nova-imgmeta-itplugins',
    version='1.0.0',
    description='Test policies for the nova-imgmeta real-Nova tier',
    packages=['nova_imgmeta_itplugins'],
    install_requires=[],
    entry_points={
        'nova_imgmeta.rebuild_policies': [
            'it-raising = nova_imgmeta_itplugins:RaisingRebuildPolicy',
            'it-idle-raises = nova_imgmeta_itplugins:IdleRaisesPolicy',
        ],
        'nova_imgmeta.resize_policies': [
            'it-raising = nova_imgmeta_itplugins:RaisingResizePolicy',
        ],
        'nova_imgmeta.snapshot_policies': [
            'it-raising = nova_imgmeta_itplugins:RaisingSnapshotPolicy',
            'it-refusing = nova_imgmeta_itplugins:RefusingSnapshotPolicy',
            'it-system-exit = nova_imgmeta_itplugins:SystemExitSnapshotPolicy',
            'it-broken-import = nova_imgmeta_itplugins.does_not_exist:Nope',
            'it-idle-raises = nova_imgmeta_itplugins:IdleRaisesPolicy',
            'it-generator = nova_imgmeta_itplugins:GeneratorSnapshotPolicy',
        ],
    },
)
