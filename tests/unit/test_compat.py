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

"""nova_imgmeta runs in Nova's environments, which lack ``six`` from
Wallaby on (and a clean Python 3.11 tox env has none): compat stands in.
"""

import os
import re
import sys

import pytest

from nova_imgmeta import compat

PACKAGE = os.path.join(os.path.dirname(__file__), '..', '..', 'nova_imgmeta')


def test_no_module_of_the_package_imports_six():
    found = []
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith('.py'):
                path = os.path.join(root, name)
                with open(path) as handle:
                    if re.search(r'^\s*(import six|from six)\b',
                                 handle.read(), re.M):
                        found.append(os.path.relpath(path, PACKAGE))
    assert found == []


def test_reraise_keeps_the_original_traceback():
    def fail():
        raise ValueError('boom')
    try:
        fail()
    except ValueError:
        failure = sys.exc_info()
    with pytest.raises(ValueError) as caught:
        compat.reraise(*failure)
    assert 'fail' in [entry.name for entry in caught.traceback]
    assert str(caught.value) == 'boom'
