#!/usr/bin/env python3
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
"""Check the built HTML documentation names every policy and option.

    tools/check-docs.py doc/build/html      (run by tox -e docs)

The reference of doc/source/plugins.rst is generated at build time; this
makes sure the generation really produced it: every built-in policy and
every ``[nova_imgmeta]`` option appears on the plugins page, and the sample
configuration was written.
"""

import os
import sys

from nova_imgmeta import opts
from nova_imgmeta.policies import builtin


def main(html):
    with open(os.path.join(html, 'plugins.html'), encoding='utf-8') as page:
        text = page.read()
    missing = [policy.name for policy in builtin.builtin_policies()
               if policy.name not in text]
    missing += ['nova_imgmeta.%s' % opt.name for opt in opts.all_opts()
                if 'nova_imgmeta.%s' % opt.name not in text]
    sample = os.path.join(html, '_downloads')
    if not any(name.endswith('.conf.sample')
               for _root, _dirs, files in os.walk(sample) for name in files):
        missing.append('the sample configuration download')
    if missing:
        print('doc/build/html lacks: %s' % ', '.join(missing))
        return 1
    print('docs: %d policies and %d options rendered, sample written'
          % (len(builtin.builtin_policies()), len(opts.all_opts())))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else 'doc/build/html'))
