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

"""The properties of image A in the lineage scenario, one copy for both
places that run it: test_lineage_e2e.py beside this module (Nova's
functional harness, inside Nova's environment, Python 2.7 to 3.12) and
tests/cloud/cloudlib.py (the loopback cloud's tests, from the project's
environment, which puts this directory on sys.path). Plain data: it
imports nothing, so that it loads in both.
"""

#: Properties that nova-imgmeta's never-inherit policy must keep out of
#: every snapshot (bug 1852106; upstream Ussuri bc29084, Wallaby dda179d).
#: img_signature* are also in Nova's default
#: non_inheritable_image_properties.
NEVER_INHERIT = {
    'cinder_encryption_key_id': '5cc8b3b2-1111-4c4c-9a9a-0123456789ab',
    'cinder_encryption_key_deletion_policy': 'on_image_deletion',
    'os_glance_importing_to_stores': 'file1',
    'os_glance_failed_import': '',
    'img_signature': 'c2lnbmF0dXJl',
    'img_signature_hash_method': 'SHA-256',
    'img_signature_key_type': 'RSA-PSS',
    'img_signature_certificate_uuid': '6ec2d7a4-2222-4c4c-9a9a-0123456789ab',
}
#: Ordinary properties, inherited by every snapshot in every mode.
ORDINARY = {'hw_qemu_guest_agent': 'yes', 'os_distro': 'cirros'}
