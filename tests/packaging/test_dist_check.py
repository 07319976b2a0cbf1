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
"""dist_check: what "the archive carries the patch series" means."""

import pytest

import dist_check


def test_the_checkout_series_pass():
    files = dist_check.expected_patch_files()
    assert dist_check.PATCHES + 'MAP' in files
    assert dist_check.check_patch_files(dict(files), 'x').startswith(
        '%d files (MAP, ' % len(files))


@pytest.mark.parametrize('change, message', [
    (lambda f: f.pop(sorted(f)[-1]), 'missing'),
    (lambda f: f.update({dist_check.PATCHES + 'queens/0003-x.patch': b''}),
     "not in the checkout's series"),
    (lambda f: f.update({dist_check.PATCHES + 'MAP': b'# edited\n'}),
     'differs from the checkout'),
])
def test_a_missing_extra_or_changed_file_fails(change, message):
    files = dist_check.expected_patch_files()
    change(files)
    with pytest.raises(dist_check.CheckFailed) as info:
        dist_check.check_patch_files(files, 'the wheel')
    assert message in str(info.value)
