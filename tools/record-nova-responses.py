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

"""Record Nova's real answers to the requests nova-imgmeta backfill makes.

Runs under the real-Nova tier's Python 2.7 venv (tools/nova-tier), inside
Nova's own functional harness (API, conductor, scheduler, compute with the
fake virt driver, fake image service), and writes into a directory
(default tests/recordings/nova):

* recorded-queens.json: the default ``[api] max_limit`` (1000);
* recorded-queens-max-limit.json: ``[api] max_limit = 2`` with three
  servers, to show how Nova caps ``limit`` and links the next page.

The Glance tier's Nova stand-in (tests/glance/fake_nova.py) serves its
shapes from them and is checked against them
(tests/glance/test_glance_fake_nova.py)::

    ~/.cache/nova-imgmeta/nova-queens/venv/bin/python \\
        tools/record-nova-responses.py [DIRECTORY]
"""

import json
import os
import sys
import unittest

from nova.tests.functional import integrated_helpers
import nova.tests.unit.image.fake as fake_image

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), 'tests', 'recordings',
                           'nova')
OUT = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
MAX_LIMIT = 2
EPOCH = '1970-01-01T00:00:00Z'


class Recorder(integrated_helpers._IntegratedTestBase,
               integrated_helpers.InstanceHelperMixin):
    api_major_version = 'v2.1'
    microversion = '2.1'

    def _get(self, api, who, uri, status=(200,)):
        response = api.api_request(uri, check_response_status=list(status))
        body = json.loads(response.content) if response.content else None
        self.records.append({'as': who, 'request': 'GET /v2.1/' + uri,
                             'status': response.status_code, 'body': body})
        return body

    def _boot(self, name):
        # 2.37 for networks "none"; everything recorded is at 2.1
        self.api.microversion = '2.37'
        try:
            server = self.api.post_server({'server': {
                'name': name, 'imageRef': fake_image.get_valid_image_id(),
                'flavorRef': '1', 'networks': 'none'}})
            return self._wait_for_state_change(self.api, server, 'ACTIVE')
        finally:
            self.api.microversion = '2.1'

    def test_record(self):
        self.records = []
        admin = self.api_fixture.admin_api
        user = self.api_fixture.api
        live = self._boot('live')
        gone = self._boot('deleted')
        self.api.delete_server(gone['id'])
        self._wait_until_deleted(gone)
        ids = {'live': live['id'], 'deleted': gone['id']}
        self._get(admin, 'admin', 'servers/detail?all_tenants=1&'
                  'changes-since=%s&limit=1000' % EPOCH)
        self._get(admin, 'admin', 'servers/detail?all_tenants=1&'
                  'limit=1000')
        self._get(admin, 'admin', 'servers/detail?all_tenants=1&uuid=%s&'
                  'changes-since=%s' % (ids['deleted'], EPOCH))
        self._get(admin, 'admin', 'servers/detail?all_tenants=1&uuid=%s&'
                  'uuid=%s&changes-since=%s' % (ids['deleted'], ids['live'],
                                                EPOCH))
        self._get(admin, 'admin', 'servers/detail?all_tenants=1&'
                  'changes-since=%s&limit=1' % EPOCH)
        self._get(user, 'member', 'servers/detail?all_tenants=1',
                  status=(403,))
        self._get(user, 'member', 'servers/detail?uuid=%s&changes-since=%s'
                  % (ids['deleted'], EPOCH))
        self._get(admin, 'admin', 'servers/%s' % ids['deleted'],
                  status=(404,))
        self._write('recorded-queens.json', ids, 1000)

    def test_record_max_limit(self):
        """[api] max_limit below the limit asked for: Nova caps the page
        silently and links the next one, whose marker is the last id.
        """
        self.flags(max_limit=MAX_LIMIT, group='api')
        self.records = []
        admin = self.api_fixture.admin_api
        live = [self._boot('live-%d' % number) for number in range(2)]
        gone = self._boot('deleted')
        self.api.delete_server(gone['id'])
        self._wait_until_deleted(gone)
        ids = {'live-0': live[0]['id'], 'live-1': live[1]['id'],
               'deleted': gone['id']}
        listing = ('servers/detail?all_tenants=1&changes-since=%s'
                   % EPOCH)
        first = self._get(admin, 'admin', listing + '&limit=1000')
        marker = first['servers'][-1]['id']
        self._get(admin, 'admin', listing + '&limit=1000&marker=%s' % marker)
        self._get(admin, 'admin', listing)
        self._get(admin, 'admin', listing + '&limit=%d' % MAX_LIMIT)
        self._get(admin, 'admin', listing + '&limit=1&marker=%s' % marker)
        self._write('recorded-queens-max-limit.json', ids, MAX_LIMIT)

    def _write(self, name, ids, max_limit):
        with open(os.path.join(OUT, name), 'w') as handle:
            json.dump({'_source': 'recorded from Nova %s functional harness '
                       '(tools/record-nova-responses.py)' % _version(),
                       'max_limit': max_limit, 'ids': ids,
                       'image': fake_image.get_valid_image_id(),
                       'records': self.records}, handle, indent=1,
                      sort_keys=True)


def _version():
    import pkg_resources
    return pkg_resources.get_distribution('nova').version


if __name__ == '__main__':
    suite = unittest.TestLoader().loadTestsFromTestCase(Recorder)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)
