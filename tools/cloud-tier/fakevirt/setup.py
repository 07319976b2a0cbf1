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

# The loopback cloud's hypervisor stand-in (tools/cloud): Nova's own fake
# virt driver, whose snapshots upload bytes to Glance. Installed into the
# cloud's Nova environment by tools/cloud (as nova/virt/nova_imgmeta_fake.py:
# Nova Queens loads compute drivers from nova.virt only); never part of
# nova-imgmeta.
import setuptools

setuptools.setup(
    name='nova-imgmeta-cloud-virt',
    version='1.0.0',
    description="Nova's fake virt driver, uploading snapshot bytes to Glance",
    py_modules=['nova.virt.nova_imgmeta_fake'],
    install_requires=[],
)
