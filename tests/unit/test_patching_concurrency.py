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

"""Two ``nova-imgmeta patch`` runs at once on one tree (issue 16, part 2).

Each round forks two processes that start ``patch apply`` (or ``apply``
and ``revert``) on the same Queens 17.0.13 tree at the same instant. Before
the tree lock, about one round in 7 to 10 left a half-patched Nova (the
patched ``api.py`` importing a hooks module that was not there) while both
runs exited 0. Now the tree ends fully patched or pristine, byte for byte,
with nothing left beside it, and what each run printed matches the order
the lock gave them. NOVA_IMGMETA_RACE_ROUNDS sets the number of rounds:
100 in tox -e py3, by default 20 on the other interpreters (the lock is
the kernel's flock on every one; 200 rounds take 40 to 80 s on the 2-core
CI machine).
"""

from __future__ import unicode_literals

import io
import os
import shutil
import tempfile
import time

import pytest

from . import realtree


pytestmark = [
    pytest.mark.requires_tool('patch'),
    pytest.mark.skipif(not hasattr(os, 'fork'), reason='needs os.fork'),
]

templates = realtree.templates
make_tree = realtree.make_tree

ROUNDS = int(os.environ.get('NOVA_IMGMETA_RACE_ROUNDS') or 20)


def _start(argv, gate, delay):
    """Fork a child that runs the CLI once the gate opens; (pid, outfile).

    delay: seconds it then waits, so that the two runs meet at every
    stage of each other (survey, journal, writes, clean-up).
    """
    fd, outfile = tempfile.mkstemp(prefix='nova-imgmeta-race-')
    os.close(fd)
    pid = os.fork()
    if pid == 0:                                   # the child
        code = 99
        try:
            os.read(gate, 1)
            time.sleep(delay)
            code, out, err = realtree.cli(*argv)
            with io.open(outfile, 'w') as handle:
                handle.write('%d\n%s\n--stderr--\n%s' % (code, out, err))
        finally:
            os._exit(code)
    return pid, outfile


def _race(argvs, number):
    """Run the command lines at once; [(code, out, err)] in argv order.

    Round `number` delays the first or the second by 0 to 190 ms.
    """
    step = (number // 2) % 20 * 0.01
    delays = [step, 0] if number % 2 else [0, step]
    read_end, write_end = os.pipe()
    children = [_start(argv, read_end, delay)
                for argv, delay in zip(argvs, delays)]
    os.write(write_end, b'go' * len(children))     # one byte each
    results = []
    for pid, outfile in children:
        _pid, status = os.waitpid(pid, 0)
        with io.open(outfile) as handle:
            text = handle.read()
        os.unlink(outfile)
        assert os.WIFEXITED(status), 'killed by signal %d' % (
            os.WTERMSIG(status))
        code_line, _sep, rest = text.partition('\n')
        out, _sep, err = rest.partition('\n--stderr--\n')
        assert int(code_line) == os.WEXITSTATUS(status)
        results.append((os.WEXITSTATUS(status), out, err))
    os.close(read_end)
    os.close(write_end)
    return results


@pytest.fixture
def states(templates, make_tree):
    """(tree, pristine snapshot, patched snapshot, reset function)."""
    root = make_tree()
    pristine = realtree.snapshot(root)
    reference = make_tree(name='reference')
    assert realtree.cli('apply', '--nova-tree', reference)[0] == 0

    def reset():
        shutil.rmtree(root)
        realtree.copy_tree(templates[realtree.QUEENS], root)
        assert realtree.snapshot(root) == pristine
    return root, pristine, realtree.snapshot(reference), reset


def _describe_outcome(root, pristine, patched):
    now = realtree.snapshot(root)
    if now == pristine:
        return 'pristine'
    if now == patched:
        return 'patched'
    strays = sorted(set(now) - set(patched) - set(pristine))
    changed = sorted(rel for rel in set(now) & set(patched)
                     if now[rel] != patched[rel] and
                     now[rel] != pristine.get(rel))
    mixed = sorted(rel for rel in now if rel in pristine and
                   now[rel] == pristine[rel] and rel in patched and
                   patched[rel] != pristine[rel])
    missing = sorted(set(patched) - set(now))
    return 'between: strays %s, changed %s, still pristine %s, missing ' \
        '%s' % (strays, changed, mixed, missing)


def test_two_concurrent_applies(states):
    root, pristine, patched, reset = states
    outcomes = []
    for number in range(ROUNDS):
        results = _race([('apply', '--nova-tree', root)] * 2, number)
        outcome = _describe_outcome(root, pristine, patched)
        codes = [code for code, _out, _err in results]
        did = sorted('files written' in out for _code, out, _err in results)
        nothing = sorted('already applied, nothing to do' in out
                         for _code, out, _err in results)
        ok = (outcome == 'patched' and codes == [0, 0] and
              did == [False, True] and nothing == [False, True])
        if not ok:
            outcomes.append((number, outcome, results))
        reset()
    between = [o for o in outcomes if o[1].startswith('between')]
    assert outcomes == [], '%d of %d rounds went wrong (%d between ' \
        'pristine and patched), first: %r' % (
            len(outcomes), ROUNDS, len(between), (between or outcomes)[0])


def test_apply_against_revert(states):
    root, pristine, patched, reset = states
    outcomes = []
    for number in range(ROUNDS):
        (a_code, a_out, a_err), (r_code, r_out, r_err) = _race([
            ('apply', '--nova-tree', root), ('revert', '--nova-tree', root)],
            number)
        outcome = _describe_outcome(root, pristine, patched)
        applied = 'series queens: applied (9 files written' in a_out
        reverted = 'series queens: reverted (6 files written, 3 removed)' \
            in r_out
        revert_idle = 'series queens: not applied, nothing to do' in r_out
        if outcome == 'patched':        # revert ran first, found nothing
            ok = applied and revert_idle
        elif outcome == 'pristine':     # apply ran first, revert undid it
            ok = applied and reverted
        else:
            ok = False
        ok = ok and (a_code, r_code) == (0, 0)
        if not ok:
            outcomes.append((number, outcome, a_code, a_out + a_err,
                             r_code, r_out + r_err))
        reset()
    between = [o for o in outcomes if o[1].startswith('between')]
    assert outcomes == [], '%d of %d rounds went wrong (%d between ' \
        'pristine and patched), first: %r' % (
            len(outcomes), ROUNDS, len(between), (between or outcomes)[0])
