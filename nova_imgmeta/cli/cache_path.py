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

"""``nova-imgmeta cache-path IMAGE_ID``: the image-cache files of an image
on this compute node, whether they exist, and which instance disks use
them (read from the disks' qcow2 headers, no qemu-img needed).

Exit codes: 0 no instance disk uses them (safe to delete), 1 some are in
use (or an instance disk needs a base file that is gone), 2 unknown: a
directory or disk could not be read, or a disk's backing file name is not
a path the command can follow (``json:{...}``, ``nbd:``, ``file:``, not
UTF-8...; named in the output), or an error.
"""

from __future__ import print_function

import json
import os
import sys

from nova_imgmeta.cli import common
from nova_imgmeta.exceptions import CommandError
from nova_imgmeta.imagefiles import cache

HELP = 'image-cache file names of an image and which instances use them'


def register(subparsers):
    parser = subparsers.add_parser(
        'cache-path', help=HELP,
        description=HELP + ': _base/<sha1 of the image id> and its resized '
        '_<GiB> copies. Exit code 0: none in use, 1: in use, 2: unknown '
        '(something could not be read, or a disk\'s backing file name is '
        'not a path it can follow, e.g. json:{...}) or error.')
    parser.add_argument('image_id', metavar='IMAGE_ID')
    parser.add_argument('--instances-path', metavar='PATH',
                        default=cache.DEFAULT_INSTANCES_PATH,
                        help='Nova\'s instances_path (default %(default)s)')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text')
    parser.set_defaults(func=common.guarded('cache-path', run))
    return parser


def image_id_text(value):
    """The IMAGE_ID argument as text; Glance image ids are ASCII (UUIDs),
    so anything else is refused with a message that prints anywhere.
    """
    if isinstance(value, bytes):   # Python 2.7: argv holds bytes
        try:
            value = value.decode('ascii')
        except UnicodeDecodeError:
            raise CommandError('IMAGE_ID %r is not an image id: Glance '
                               'image ids are ASCII (UUIDs)' % value)
    try:
        value.encode('ascii')
    except UnicodeEncodeError:
        raise CommandError('IMAGE_ID %s is not an image id: Glance image '
                           'ids are ASCII (UUIDs)' % value.encode(
                               'ascii', 'backslashreplace').decode('ascii'))
    if not value.strip():
        raise CommandError('IMAGE_ID is empty')
    return value


def run(args, out=None):
    out = out or sys.stdout
    image_id = image_id_text(args.image_id)
    if not os.path.isdir(args.instances_path):
        raise CommandError('%s is not a directory (use --instances-path)'
                           % args.instances_path)
    unreadable = []
    files = cache.cache_files(args.instances_path, image_id, unreadable)
    dangling = cache.find_users(args.instances_path, files, unreadable)
    in_use = any(f.used_by for f in files)
    if in_use:
        verdict = 'in use'
    elif unreadable:
        verdict = 'unknown'
    else:
        verdict = 'not in use'
    if args.format == 'json':
        out.write(json.dumps({
            'image_id': image_id,
            'cache_name': cache.cache_name(image_id),
            'instances_path': args.instances_path,
            'files': [f.as_dict() for f in files],
            'in_use': in_use if verdict != 'unknown' else None,
            'verdict': verdict,
            'missing_but_used': dangling,
            'unreadable': unreadable}, sort_keys=True) + '\n')
    else:
        _write_text(out, args, image_id, files, dangling, unreadable,
                    verdict)
    if verdict == 'in use':
        return common.EXIT_PROBLEMS
    if verdict == 'unknown':
        return common.EXIT_ERROR
    return common.EXIT_OK


def _write_text(out, args, image_id, files, dangling, unreadable, verdict):
    out.write('image %s -> cache name %s (sha1 of the image id)\n'
              % (image_id, cache.cache_name(image_id)))
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
    for item in unreadable:
        label = {'interpret': 'CANNOT INTERPRET THE BACKING FILE NAME OF'}.get(
            item.get('what'), 'COULD NOT READ')
        out.write('%s %s: %s\n' % (label, item['path'], item['error']))
    if verdict == 'in use':
        out.write('IN USE: do not delete these base files\n')
    elif verdict == 'unknown':
        out.write('UNKNOWN: %d path(s) above could not be read or '
                  'interpreted, so these base files may be in use: do not '
                  'delete them\n' % len(unreadable))
    else:
        out.write('no instance disk under %s uses them\n'
                  % args.instances_path)
