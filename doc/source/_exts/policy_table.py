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
"""``.. nova-imgmeta-policies::``: the built-in policies, from the code.

One row per entry point of the nova-imgmeta distribution
(:mod:`nova_imgmeta.policies.builtin`): name, kind, the policy's own
``summary``, its options and whether the default chain runs it. Nothing
about a built-in policy is written by hand in the documentation.
"""

from docutils.parsers.rst import Directive

from nova_imgmeta import opts
from nova_imgmeta.policies import builtin
import rst_lines


class PolicyTable(Directive):
    has_content = False

    def run(self):
        lines = ['.. list-table::', '   :header-rows: 1',
                 '   :widths: 15 10 45 20 10', '',
                 '   * - policy', '     - kind', '     - what it does',
                 '     - its options', '     - in the default chain']
        for policy in builtin.builtin_policies():
            options = ', '.join('``%s``' % opt.name
                                for opt in policy.cls.options) or '-'
            default = policy.name in opts.DEFAULT_POLICIES[policy.kind]
            summary = ' '.join(policy.cls.summary.split())
            lines.extend(['   * - ``%s``' % policy.name,
                          '     - %s' % policy.kind,
                          '     - %s' % summary,
                          '     - %s' % options,
                          '     - %s' % ('yes' if default else 'no')])
        return rst_lines.parse(self.state, lines, 'nova-imgmeta-policies')


def setup(app):
    app.add_directive('nova-imgmeta-policies', PolicyTable)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
