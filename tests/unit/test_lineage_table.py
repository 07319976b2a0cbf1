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

"""tools/nova-tier/lineage_table.py: the demo's report fits 80 columns."""

import os
import sys

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'tools', 'nova-tier')
sys.path.insert(0, TOOLS)
import lineage_table  # noqa: E402

A = 'a1a1a1a1-0000-4000-8000-00000000000a'
B = 'b2b2b2b2-0000-4000-8000-00000000000b'
IMAGE_A = {'cinder_encryption_key_id': 'k',
           'cinder_encryption_key_deletion_policy': 'on_image_deletion',
           'os_glance_importing_to_stores': 'file1',
           'os_glance_failed_import': '',
           'img_signature': 's', 'img_signature_hash_method': 'SHA-256',
           'img_signature_key_type': 'RSA-PSS',
           'img_signature_certificate_uuid': 'c',
           'hw_qemu_guest_agent': 'yes'}


def _results(bases, props, snap1='5a5a5a5a-0000-4000-8000-000000000001'):
    return {'nova_version': '17.0.13', 'plugin_installed': True,
            'nova_file': '/a/very/long/path/' * 6,
            'images': {'A': A, 'B': B, 'snap-1': snap1},
            'steps': [{'snapshot_base_image_ref': base,
                       'sysmeta_image_base_image_ref': base,
                       'snapshot_properties': props} for base in bases]}


@pytest.fixture
def pair():
    pristine = _results([A, None, A], dict(IMAGE_A))
    patched = _results([A, B, A], {'hw_qemu_guest_agent': 'yes',
                                   'img_signature': 's'})
    return pristine, patched


def test_fits_80_columns_and_says_what_happened(pair):
    lines = lineage_table.render(pair[0], pair[1], IMAGE_A,
                                 ['cache_in_nova', 'bittorrent'])
    assert [line for line in lines if len(line) > 80] == []
    text = '\n'.join(lines)
    assert '2. rebuild to image B, createImage' in text
    assert '3. rebuild onto the first snapshot, createImage' in text
    rows = dict((line.split('  ')[0],
                 [cell.strip() for cell in line.split('  ')[1:]
                  if cell.strip()])
                for line in lines
                if line.startswith(('cinder', 'os_glance', 'img_sig', 'hw_')))
    assert rows['os_glance_*'] == ['copied', 'dropped']
    assert rows['img_signature*'] == ['copied', '1 of 4']
    assert rows['hw_qemu_guest_agent (ordinary)'] == ['copied', 'copied']


def test_verdict(pair):
    ok, lines = lineage_table.verdict(pair[0], pair[1], ['img_signature'])
    assert not ok and 'copied: img_signature' in lines[1]
    del pair[1]['steps'][0]['snapshot_properties']['img_signature']
    ok, lines = lineage_table.verdict(pair[0], pair[1], ['img_signature'])
    assert ok and [len(line) <= 80 for line in lines] == [True, True]


def test_verdict_on_upstream_rule_lines():
    """Ussuri 21.2.1+, Victoria: the pristine bug is the root image lost
    on the rollback, not a missing base after the rebuild.
    """
    snap1 = '5a5a5a5a-0000-4000-8000-000000000001'
    pristine = _results([A, B, snap1], {'hw_qemu_guest_agent': 'yes'})
    patched = _results([A, B, A], {'hw_qemu_guest_agent': 'yes'})
    ok, lines = lineage_table.verdict(pristine, patched)
    assert ok and 'root image lost' in lines[0]
    ok, lines = lineage_table.verdict(patched, patched)
    assert not ok and 'UNEXPECTED' in lines[0]


def test_a_property_of_a_later_snapshot_counts():
    """Stein 19.2.0+: the key reaches the server, hence a snapshot, late."""
    pristine = _results([A, None, A], {})
    pristine['steps'][2]['snapshot_properties'] = dict(IMAGE_A)
    patched = _results([A, B, A], {'hw_qemu_guest_agent': 'yes'})
    rows = [line for line in lineage_table.render(pristine, patched, IMAGE_A)
            if line.startswith('cinder_encryption_key_id')]
    assert rows[0].split()[1:] == ['copied', 'dropped']
