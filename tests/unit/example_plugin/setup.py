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

# An operator's own nova-imgmeta policy, packaged on its own: installing this
# distribution next to nova-imgmeta is all it takes (no fork). See
# doc/source/plugins.rst. nova-imgmeta's unit tests install it (tox.ini)
# and load it through its real entry point.
import setuptools

setuptools.setup(
    name='nova-imgmeta-example',
    version='1.0.0',
    description='Example operator policy for nova-imgmeta',
    packages=['nova_imgmeta_example'],
    install_requires=[],  # nova-imgmeta itself is already installed
    entry_points={
        'nova_imgmeta.snapshot_policies': [
            'stamp-project = nova_imgmeta_example.stamp:StampProjectPolicy',
        ],
    },
)
