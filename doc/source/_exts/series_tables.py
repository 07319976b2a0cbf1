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
"""``.. nova-imgmeta-series:: map|differences|cloud``: the series, from the sources.

``map``: the releases each series serves (nova_imgmeta/patches/MAP, the
``<line>-eol`` tags of tools/nova-tier/releases.py); ``differences``: where
each series calls the hooks and what it passes (the variables of
patches-src/<series>/variables.ini); ``cloud``: the services of each
line's loopback cloud (tools/cloud-tier/components.py). Made by
tools/packaging/line_tables.py
at build time: nothing about a series is written by hand in the docs.
"""

import os
import sys

from docutils.parsers.rst import Directive

import rst_lines

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(TOP, 'tools', 'packaging'))

import line_tables  # noqa: E402

TABLES = {'map': line_tables.rst_map_table,
          'differences': line_tables.rst_differences_table,
          'cloud': line_tables.rst_cloud_table}


class SeriesTable(Directive):
    required_arguments = 1
    has_content = False

    def run(self):
        which = self.arguments[0]
        if which not in TABLES:
            raise self.error('nova-imgmeta-series: expected one of %s, got '
                             '%r' % (', '.join(sorted(TABLES)), which))
        return rst_lines.parse(self.state, TABLES[which](),
                               'nova-imgmeta-series')


def setup(app):
    app.add_directive('nova-imgmeta-series', SeriesTable)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
