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

"""``nova-imgmeta checksum FILE [--image ID]``: Glance's checksums of a
file, compared with an image's when one is named.

Exit codes: 0 computed (and, with --image, equal), 1 different, 2 error.
"""

from __future__ import print_function

import argparse
import hashlib
import json
import sys

from nova_imgmeta.cli import common
from nova_imgmeta.cloud import auth
from nova_imgmeta.exceptions import CommandError
from nova_imgmeta.imagefiles import digests

HELP = "Glance's md5 checksum and sha512 os_hash_value of a file"
#: the largest chunk read at once (memory, not speed, is the bound)
MAX_CHUNK_SIZE = 256 * 1024 * 1024


def chunk_size(text):
    """argparse type of --chunk-size: a whole number of bytes, 1 to
    MAX_CHUNK_SIZE (0 would hash nothing; a negative size reads the whole
    file at once).
    """
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not a whole number of '
                                         'bytes' % text)
    if not 1 <= value <= MAX_CHUNK_SIZE:
        raise argparse.ArgumentTypeError(
            '%d: must be from 1 to %d bytes' % (value, MAX_CHUNK_SIZE))
    return value


def register(subparsers):
    parser = subparsers.add_parser(
        'checksum', help=HELP,
        description=HELP + ', streamed in chunks; with --image, compared '
        "with that image's checksum, os_hash_value and size in Glance.")
    parser.add_argument('file', metavar='FILE')
    parser.add_argument('--image', metavar='ID',
                        help='compare with this Glance image')
    parser.add_argument('--chunk-size', type=chunk_size,
                        default=digests.CHUNK_SIZE, metavar='BYTES',
                        help='bytes read at a time (default %(default)s)')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text')
    auth.add_auth_arguments(parser)
    parser.set_defaults(func=common.guarded('checksum', run))
    return parser


def run(args, glance=None, out=None):
    out = out or sys.stdout
    image = None
    algorithms = ['md5', 'sha512']
    if args.image:
        if glance is None:
            glance = common.connect_glance(args)
        image = glance.get_image(args.image)
        algo = image.get('os_hash_algo')
        if algo and algo not in algorithms:
            if algo not in hashlib.algorithms_available:
                raise CommandError(
                    'image %s: Glance hashed it with os_hash_algo %r, '
                    'which this Python cannot compute' % (args.image, algo))
            algorithms.append(algo)
    try:
        hashes, size = digests.file_hashes(
            args.file, algorithms, chunk_size=args.chunk_size)
    except (IOError, OSError) as exc:
        raise CommandError('%s: %s' % (args.file, exc))
    rows = digests.compare(hashes, size, image) if image else []
    same = all(row[3] for row in rows)
    if args.format == 'json':
        result = {'file': args.file, 'size': size, 'checksum': hashes['md5'],
                  'os_hash_algo': 'sha512', 'os_hash_value':
                  hashes['sha512']}
        if image is not None:
            result['image'] = args.image
            result['match'] = same
            result['compared'] = [
                {'field': f, 'file': o, 'glance': g, 'same': s}
                for f, o, g, s in rows]
        out.write(json.dumps(result, sort_keys=True) + '\n')
    else:
        out.write('%s  size %d\n' % (args.file, size))
        out.write('checksum (md5)           %s\n' % hashes['md5'])
        out.write('os_hash_value (sha512)   %s\n' % hashes['sha512'])
        if image is not None:
            if not rows:
                out.write('image %s has no checksum in Glance (no data '
                          'uploaded?)\n' % args.image)
            for field, ours, theirs, equal in rows:
                out.write('%-14s %s  file %s  glance %s\n' % (
                    field, 'same     ' if equal else 'DIFFERENT', ours,
                    theirs))
    if image is not None and (not rows or not same):
        return common.EXIT_PROBLEMS
    return common.EXIT_OK
