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

"""tools/demo's scenario: the end-to-end lineage test, as operators run Nova.

Runs in Nova's functional harness, inside the tier's venv, with
tests/nova/functional on the path. It is test_lineage_e2e's scenario with
``non_inheritable_image_properties`` replaced by a list of the operator's
own, as many deployments do: Nova's default list then no longer covers the
img_signature* properties, and only nova-imgmeta's never-inherit policy
keeps them out of snapshots. The results JSON also records image A's
properties, so that the demo can say which of them each snapshot copied.
"""

import json

import test_lineage_e2e as e2e

# An operator's list, without Nova's default img_signature* entries.
REPLACED = ['cache_in_nova', 'bittorrent']


class DemoLineage(e2e.ImageLineageE2ETest):

    def setUp(self):
        super(DemoLineage, self).setUp()
        self.flags(non_inheritable_image_properties=REPLACED)

    def _run_scenario(self):
        results = super(DemoLineage, self)._run_scenario()
        results['image_a_properties'] = self.images.show(
            None, e2e.IMAGE_A)['properties']
        results['never_inherit'] = sorted(e2e.NEVER_INHERIT)
        results['non_inheritable_image_properties'] = REPLACED
        if e2e.RESULTS_FILE:
            with open(e2e.RESULTS_FILE, 'w') as handle:
                json.dump(results, handle, indent=2, sort_keys=True)
        return results
