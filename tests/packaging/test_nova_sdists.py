# Copyright nova-imgmeta contributors.
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
"""nova_sdists: the newest PyPI release of each series of MAP."""

import nova_sdists


def test_newest_release_of_each_series(tmpdir):
    tmpdir.join('MAP').write('16.0.0 16.1.8 pike\n17.0.0 17.0.13 queens\n'
                             '18.0.0 18.3.0 rocky\n')
    versions = ['34.0.0', '17.0.13', '17.0.9', '17.0.10', '16.1.8',
                '16.1.9.dev3', '16.2.0', '15.1.5', '17.0.14rc1']
    assert nova_sdists.newest_by_series(versions, str(tmpdir)) == {
        'pike': '16.1.8', 'queens': '17.0.13', 'rocky': None}


def test_several_rules_of_one_series(tmpdir):
    tmpdir.join('MAP').write('17.0.0 17.0.5 queens\n17.0.7 17.0.13 queens\n'
                             '17.0.6 17.0.6 queens-early\n')
    assert nova_sdists.newest_by_series(
        ['17.0.6', '17.0.4', '17.0.8'], str(tmpdir)) == {
            'queens': '17.0.8', 'queens-early': '17.0.6'}
