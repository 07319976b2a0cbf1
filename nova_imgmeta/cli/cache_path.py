"""``nova-imgmeta cache-path IMAGE_ID``: the image-cache files of an image
on this compute node, whether they exist, and which instance disks use
them (read from the disks' qcow2 headers, no qemu-img needed).

Exit codes: 0 no instance disk uses them (safe to delete), 1 some are in
use (or an instance disk needs a base file that is gone), 2 error.
"""

from __future__ import print_function

import json
import os
import sys

from nova_imgmeta.ops import cache, command, errors

HELP = 'image-cache file names of an image and which instances use them'


def register(subparsers):
    parser = subparsers.add_parser(
        'cache-path', help=HELP,
        description=HELP + ': _base/<sha1 of the image id> and its resized '
        '_<GiB> copies. Exit code 0: none in use, 1: in use, 2: error.')
    parser.add_argument('image_id', metavar='IMAGE_ID')
    parser.add_argument('--instances-path', metavar='PATH',
                        default=cache.DEFAULT_INSTANCES_PATH,
                        help='Nova\'s instances_path (default %(default)s)')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text')
    parser.set_defaults(func=command.guarded('cache-path', run))
    return parser


def run(args, out=None):
    out = out or sys.stdout
    if not os.path.isdir(args.instances_path):
        raise errors.OpsError('%s is not a directory (use --instances-path)'
                              % args.instances_path)
    files = cache.cache_files(args.instances_path, args.image_id)
    problems = []
    dangling = cache.find_users(args.instances_path, files, problems)
    in_use = any(f.used_by for f in files)
    if args.format == 'json':
        out.write(json.dumps({
            'image_id': args.image_id,
            'cache_name': cache.cache_name(args.image_id),
            'instances_path': args.instances_path,
            'files': [f.as_dict() for f in files],
            'in_use': in_use,
            'missing_but_used': dangling,
            'unreadable': problems}, sort_keys=True) + '\n')
    else:
        out.write('image %s -> cache name %s (sha1 of the image id)\n'
                  % (args.image_id, cache.cache_name(args.image_id)))
        for f in files:
            state = 'exists' if f.exists else 'absent'
            if f.exists:
                state += ' (%d bytes)' % f.bytes
            label = f.kind + (' %d GiB' % f.size_gb if f.size_gb else '')
            out.write('  %s  [%s]  %s\n' % (f.path, label, state))
            for user in f.used_by:
                out.write('      used by instance %s: %s\n'
                          % (user['instance'], user['disk']))
        for user in dangling:
            out.write('WARNING: instance %s disk %s needs %s, which is '
                      'gone\n' % (user['instance'], user['disk'],
                                  user['backing_file']))
        for problem in problems:
            out.write('WARNING: could not read %s\n' % problem)
        if in_use:
            out.write('IN USE: do not delete these base files\n')
        else:
            out.write('no instance disk under %s uses them\n'
                      % args.instances_path)
    return errors.EXIT_PROBLEMS if in_use else errors.EXIT_OK
