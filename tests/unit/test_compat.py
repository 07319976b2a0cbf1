# -*- coding: utf-8 -*-
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

"""compat stands in for ``six``, which Nova's environments lack from
Wallaby on (test_import_graph keeps the package off six).
"""

import sys

import pytest

from nova_imgmeta import compat


def test_reraise_keeps_the_original_traceback():
    def fail():
        raise ValueError('boom')
    try:
        fail()
    except ValueError:
        failure = sys.exc_info()
    with pytest.raises(ValueError) as caught:
        compat.reraise(*failure)
    assert caught.value is failure[1]
    assert 'fail' in [entry.name for entry in caught.traceback]
    assert caught.traceback[-1].name == 'fail'
    assert str(caught.value) == 'boom'
