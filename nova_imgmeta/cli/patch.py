"""``nova-imgmeta patch``: status, check, apply and revert the Nova series.

Exit codes: 0 success (for ``status``: the series is applied); 1 failure
(for ``status``: not applied); 2 unknown Nova version, no Nova found or bad
usage; 3 (``status`` only) partially applied; 4 (``status`` only) the tree
neither carries the series nor accepts it.
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


def register(subparsers):
    parser = subparsers.add_parser(
        'patch',
        help='apply, check or revert the Nova patch series',
        description='Apply the patch series that fixes base_image_ref on '
                    'rebuild and adds the image metadata hooks to Nova Pike '
                    'or Queens, or check or revert it. The series is chosen '
                    'from the Nova version; the whole series is checked '
                    '(patch -p1 -F0, on a scratch copy) before any file is '
                    'changed.')
    parser.add_argument('action', choices=ACTIONS,
                        help='status: is the series applied; check: would '
                             'apply succeed; apply; revert')
    parser.add_argument('--nova-tree', metavar='PATH',
                        help='a Nova source tree (the directory holding '
                             'nova/); default: the nova package installed '
                             'for this Python')
    parser.add_argument('--series', metavar='NAME',
                        help='use this series (for example pike or queens) '
                             'instead of the one mapped to the Nova version')
    parser.add_argument('--dry-run', action='store_true',
                        help='apply/revert: only say what would be done')
    parser.set_defaults(func=run)
    return parser


def run(args, out=None, err=None):
    from nova_imgmeta import patching

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        tree = patching.find_nova_tree(args.nova_tree)
        series = patching.resolve(tree, args.series)
        if args.action == 'status':
            state = patching.status(tree, series)
            line = 'Nova %s at %s: series %s %s' % (
                tree.version or '(unknown version)', tree.root, series.name,
                state.state)
            if state.state == patching.PARTIAL:
                line += ' (first %d of %d patches)' % (state.applied_count,
                                                       state.total)
            print(line, file=out)
            if state.detail:
                print(state.detail, file=out)
            return _STATUS_CODES[state.state]
        if args.action == 'check':
            return patching.check(tree, series, out=out)
        if args.action == 'apply':
            return patching.apply(tree, series, dry_run=args.dry_run,
                                  out=out)
        return patching.revert(tree, series, dry_run=args.dry_run, out=out)
    except patching.PatchError as exc:
        print('nova-imgmeta patch: %s' % exc, file=err)
        return 2
