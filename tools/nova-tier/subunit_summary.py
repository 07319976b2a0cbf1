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

"""Summarise a subunit v2 stream (stdin) per test module.

    stestr last --subunit | python subunit_summary.py LABEL OUT.json

Runs under the tier's Python 2.7 venv (python-subunit and testtools come
with Nova's test requirements) and under Python 3. Prints one line per
module and a total; writes the counts as JSON. Exit status 0 always: the
caller decides what counts as a failure.
"""
from __future__ import print_function

import collections
import json
import re
import sys

import subunit
import testtools

STATUSES = ('success', 'fail', 'skip', 'xfail', 'uxsuccess')


def module_of(test_id):
    test_id = re.sub(r'\(.*\)$', '', test_id)  # scenario suffix
    parts = test_id.split('.')
    # module.Class.method -> module; keep at least one element
    return '.'.join(parts[:-2]) if len(parts) > 2 else parts[0]


def main():
    label = sys.argv[1] if len(sys.argv) > 1 else 'tests'
    out = sys.argv[2] if len(sys.argv) > 2 else None
    counts = collections.OrderedDict()
    failed = []

    def on_test(test):
        status = test['status']
        if status in ('exists', 'inprogress'):
            return
        mod = module_of(test['id'])
        counts.setdefault(mod, collections.Counter())[status] += 1
        if status in ('fail', 'uxsuccess'):
            failed.append(test['id'])

    stdin = getattr(sys.stdin, 'buffer', sys.stdin)
    stream = subunit.ByteStreamToStreamResult(stdin, non_subunit_name='stdout')
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()

    total = collections.Counter()
    print('%-64s %7s %6s %6s %6s %6s' % (
        label, 'passed', 'failed', 'skip', 'xfail', 'uxsucc'))
    for mod in sorted(counts):
        c = counts[mod]
        total.update(c)
        print('  %-62s %7d %6d %6d %6d %6d' % (
            mod, c['success'], c['fail'], c['skip'], c['xfail'],
            c['uxsuccess']))
    print('  %-62s %7d %6d %6d %6d %6d' % (
        'TOTAL (%d tests)' % sum(total.values()), total['success'],
        total['fail'], total['skip'], total['xfail'], total['uxsuccess']))
    for t in failed[:50]:
        print('  FAILED: %s' % t)
    if out:
        with open(out, 'w') as f:
            json.dump({'label': label,
                       'total': dict((s, total[s]) for s in STATUSES),
                       'tests': sum(total.values()),
                       'modules': dict((m, dict(c))
                                       for m, c in counts.items()),
                       'failed': failed}, f, indent=2, sort_keys=True)


if __name__ == '__main__':
    main()
