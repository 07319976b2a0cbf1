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

"""The documentation's policy and option reference is made from the code.

``tox -e docs`` renders it (``.. nova-imgmeta-policies::`` and
``.. show-options:: nova_imgmeta``) and checks the HTML names every
built-in policy and option (tools/check-docs.py); here, that the documents
use the generated reference and write none of it by hand.
"""

import io
import os
import re

from nova_imgmeta import opts
from nova_imgmeta.policies import builtin

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                      os.pardir, 'doc', 'source')


def _read(name):
    with io.open(os.path.join(SOURCE, name), encoding='utf-8') as doc:
        return doc.read()


def test_plugins_page_uses_the_generated_reference():
    text = _read('plugins.rst')
    assert '.. nova-imgmeta-policies::' in text
    assert '.. show-options:: nova_imgmeta' in text


def test_no_option_or_policy_table_written_by_hand():
    names = ([policy.name for policy in builtin.builtin_policies()] +
             [opt.name for opt in opts.all_opts()])
    for document in os.listdir(SOURCE):
        if not document.endswith('.rst'):
            continue
        for line in _read(document).splitlines():
            # a table row (grid or list-table) that starts with a name
            cell = re.match(r'^\s*(?:\|\s*|\*\s+-\s+)``([a-z_-]+)``', line)
            assert not (cell and cell.group(1) in names), (
                '%s: %s' % (document, line))
