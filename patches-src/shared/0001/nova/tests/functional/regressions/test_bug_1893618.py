# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

import datetime

from nova import context as nova_context
from nova import objects
from nova.tests.functional import integrated_helpers
from nova.tests.unit.image import fake as fake_image


class RebuildKeepsBaseImageRef(integrated_helpers._IntegratedTestBase,
                               integrated_helpers.InstanceHelperMixin):
    """Regression test for bug 1893618.

    Rebuild deleted every image_* key of the instance system metadata,
    image_base_image_ref included, and never set it again, so that later
    snapshots of the server had no base_image_ref property.
    """
    api_major_version = 'v2.1'
    microversion = 'latest'

    IMAGE_A = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
    IMAGE_B = 'a2459075-d96c-40d5-893e-577ff92e721c'

    def _rebuild(self, server, image_id):
        self.api.post_server_action(server['id'],
                                    {'rebuild': {'imageRef': image_id}})
#@ if wait_for_state_change_api == yes
        return self._wait_for_state_change(self.api, server, 'ACTIVE')
#@ else
        return self._wait_for_state_change(server, 'ACTIVE')
#@ endif

    def _base_image_ref(self, server):
        ctxt = nova_context.get_admin_context()
        instance = objects.Instance.get_by_uuid(
            ctxt, server['id'], expected_attrs=['system_metadata'])
        return instance.system_metadata.get('image_base_image_ref')

    def _snapshot_base_image_ref(self, server):
        image_id = self.api.post_server_action(
            server['id'], {'createImage': {'name': 'snap'}})['image_id']
        image = fake_image.FakeImageService().show(
            nova_context.get_admin_context(), image_id)
        return image['properties'].get('base_image_ref')

    def test_rebuild_sets_image_base_image_ref(self):
        server = self.api.post_server({'server': {
            'name': 'test_bug_1893618', 'imageRef': self.IMAGE_A,
            'flavorRef': '1', 'networks': 'none'}})
#@ if wait_for_state_change_api == yes
        server = self._wait_for_state_change(self.api, server, 'ACTIVE')
#@ else
        server = self._wait_for_state_change(server, 'ACTIVE')
#@ endif
        self.assertEqual(self.IMAGE_A, self._base_image_ref(server))

        server = self._rebuild(server, self.IMAGE_B)
        self.assertEqual(self.IMAGE_B, self._base_image_ref(server))
        self.assertEqual(self.IMAGE_B, self._snapshot_base_image_ref(server))

        # Like at boot, the base_image_ref property of the image (for
        # example a snapshot of the server) wins over the image id.
        timestamp = datetime.datetime(2011, 1, 1, 1, 2, 3)
        image_c = fake_image.FakeImageService().create(
            nova_context.get_admin_context(),
            {'name': 'snapshot-of-a', 'status': 'active',
             'created_at': timestamp, 'updated_at': timestamp,
             'deleted_at': None, 'deleted': False, 'is_public': False,
             'container_format': 'raw', 'disk_format': 'raw',
             'size': '25165824',
             'properties': {'base_image_ref': self.IMAGE_A}})
        server = self._rebuild(server, image_c['id'])
        self.assertEqual(self.IMAGE_A, self._base_image_ref(server))
