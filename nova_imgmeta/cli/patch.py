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

"""``nova-imgmeta patch``: status, check, apply and revert the Nova series.

Exit codes:

* 0: success; for ``status``: the series is applied.
* 1: ``status``: not applied; ``check``: apply would fail; ``apply`` /
  ``revert``: refused or failed, and the tree is exactly as before.
* 2: no Nova found, unknown Nova version, no single series fits a tree
  that is not a release, bad usage, another run held the tree's lock
  past ``--lock-timeout``, a damaged journal (nothing touched; the
  message says what to do), or an interrupted run must be rolled back
  first (``status``, ``check``, ``--dry-run``).
* 3: ``status``: partially applied (the first patches only).
* 4: ``status``: the tree neither carries the series nor accepts it.
* 5: ``apply`` / ``revert``: a write failed and the tree could not be put
  back; the message names each file left changed, and the next ``apply``
  or ``revert`` finishes the roll-back.
"""

from __future__ import print_function

import sys

__all__ = ['register', 'run']

ACTIONS = ('status', 'check', 'apply', 'revert')

_STATUS_CODES = {
    'applied': 0,
    'not applied': 1,
    'partially applied': 3,
    'does not match': 4,
}
ROLLBACK_FAILED = 5


def register(subparsers):
    parser = subparsers.add_parser(
        'patch',
        help='apply, check or revert the Nova patch series',
        description='Apply the patch series that fixes base_image_ref on '
                    'rebuild and adds the image metadata hooks to Nova, or '
                    'check or revert it. The series is chosen from the Nova '
                    'version; the whole series is worked out first (patch '
                    '-p1 -F0, on a scratch copy), then written all together '
                    'or not at all.')
    parser.add_argument('action', choices=ACTIONS,
                        help='status: is the series applied; check: would '
                             'apply succeed; apply; revert')
    parser.add_argument('--nova-tree', metavar='PATH',
                        help='a Nova source tree (the directory holding '
                             'nova/); default: the nova package installed '
                             'for this Python')
    parser.add_argument('--series', metavar='NAME',
                        help='use this series (for example pike or queens). '
                             'Default: for a release, the one MAP gives '
                             'it; for any other version (from git, an rc, '
                             'a distribution\'s) or none, the only series '
                             'of its line that applies with zero fuzz and '
                             'puts every hunk in the same function as on '
                             'its reference release')
    parser.add_argument('--dry-run', action='store_true',
                        help='apply/revert: only say what would be done')
    parser.add_argument('--lock-timeout', metavar='SECONDS', type=float,
                        default=None,
                        help='how long to wait for another nova-imgmeta '
                             'patch run on the same tree to finish '
                             '(default: %d)' % _default_timeout())
    parser.set_defaults(func=run)
    return parser


def _default_timeout():
    from nova_imgmeta.patching import lock
    return lock.DEFAULT_TIMEOUT


def run(args, out=None, err=None):
    from nova_imgmeta import patching

    out = out or sys.stdout
    err = err or sys.stderr

    def waiting(holder):
        print('nova-imgmeta patch: waiting for another run on this tree '
              'to finish (%s)' % holder, file=err)
    try:
        if args.lock_timeout is not None and args.lock_timeout < 0:
            raise patching.PatchError('--lock-timeout must be 0 or more')
        tree = patching.find_nova_tree(args.nova_tree)
        result = patching.run(args.action, tree, series_name=args.series,
                              dry_run=args.dry_run,
                              lock_timeout=args.lock_timeout,
                              on_wait=waiting)
    except patching.RollbackFailed as exc:
        print('nova-imgmeta patch: %s' % exc, file=err)
        return ROLLBACK_FAILED
    except patching.PatchError as exc:
        print('nova-imgmeta patch: %s' % exc, file=err)
        return 2
    for line in (result.choice.lines() if result.choice else []):
        print(line, file=out)
    for line in describe(result):
        print(line, file=out)
    if result.error:
        print('nova-imgmeta patch: %s' % result.error, file=err)
    if args.action == 'status':
        return _STATUS_CODES[result.state.state]
    return 0 if result.ok else 1


def describe(result):
    """The lines that tell what a patching.Result found and did."""
    from nova_imgmeta import patching

    state = result.state
    what = 'Nova %s at %s, series %s' % (
        result.tree.version or '(unknown version)', result.tree.root,
        result.series.name)
    lines = []
    if state.state == patching.MISMATCH:
        lines.append('%s: %s: the tree neither carries the series nor '
                     'accepts it%s' % (what, state.state, {
                         'apply': '; no file was changed',
                         'revert': '; no file was changed'}.get(
                             result.action, '')))
        lines.append(state.detail)
    elif result.action == 'status':
        line = '%s: %s' % (what, state.state)
        if state.state == patching.PARTIAL:
            line += ' (first %d of %d patches)' % (state.applied_count,
                                                   state.total)
        lines.append(line)
    elif result.action == 'check':
        lines.append('%s: %s' % (what, {
            patching.APPLIED: 'already applied',
            patching.NOT_APPLIED: 'applies cleanly (%d patches, no fuzz)'
                                  % state.total,
            patching.PARTIAL: 'first %d of %d patches applied; apply '
                              'completes it' % (state.applied_count,
                                                state.total),
        }[state.state]))
    else:
        lines += _describe_change(result, what)
    lines += ['note: %s' % note for note in result.notes]
    return lines


def _describe_change(result, what):
    verb = 'applied' if result.action == 'apply' else 'reverted'
    files = len(result.written) + len(result.removed)
    if result.error:
        return ['%s: nothing %s' % (what, verb)]
    if not files:
        return ['%s: %s, nothing to do' % (
            what, 'already applied' if result.action == 'apply'
            else 'not applied')]
    if result.dry_run:
        lines = ['%s: would %s %s' % (what, result.action,
                                      ', '.join(result.patches) or
                                      'no patch')]
        lines += ['  would write %s' % path for path in result.written]
        lines += ['  would remove %s' % path for path in result.removed]
        return lines
    lines = ['%s %s' % (verb, name) for name in result.patches]
    if not result.patches:
        lines.append('removed the series\' leftover files')
    lines.append('%s: %s (%d files written, %d removed)' % (
        what, verb, len(result.written), len(result.removed)))
    return lines
