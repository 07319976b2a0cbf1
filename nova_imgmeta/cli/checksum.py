"""``nova-imgmeta checksum FILE [--image ID]``: Glance's checksums of a
file, compared with an image's when one is named.

Exit codes: 0 computed (and, with --image, equal), 1 different, 2 error.
"""

from __future__ import print_function

import json
import sys

from nova_imgmeta.ops import auth, checksum as checksum_mod, command, errors

HELP = "Glance's md5 checksum and sha512 os_hash_value of a file"


def register(subparsers):
    parser = subparsers.add_parser(
        'checksum', help=HELP,
        description=HELP + ', streamed in chunks; with --image, compared '
        "with that image's checksum, os_hash_value and size in Glance.")
    parser.add_argument('file', metavar='FILE')
    parser.add_argument('--image', metavar='ID',
                        help='compare with this Glance image')
    parser.add_argument('--chunk-size', type=int,
                        default=checksum_mod.CHUNK_SIZE, metavar='BYTES')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text')
    auth.add_auth_arguments(parser)
    parser.set_defaults(func=command.guarded('checksum', run))
    return parser


def run(args, glance=None, out=None):
    out = out or sys.stdout
    image = None
    algorithms = ['md5', 'sha512']
    if args.image:
        if glance is None:
            from nova_imgmeta.ops.glance import GlanceAPI
            glance = GlanceAPI.from_connection(auth.connect(args))
        image = glance.get_image(args.image)
        algo = image.get('os_hash_algo')
        if algo and algo not in algorithms:
            algorithms.append(algo)
    try:
        digests, size = checksum_mod.file_hashes(
            args.file, algorithms, chunk_size=args.chunk_size)
    except (IOError, OSError) as exc:
        raise errors.OpsError('%s: %s' % (args.file, exc))
    rows = checksum_mod.compare(digests, size, image) if image else []
    same = all(row[3] for row in rows)
    if args.format == 'json':
        result = {'file': args.file, 'size': size, 'checksum': digests['md5'],
                  'os_hash_algo': 'sha512', 'os_hash_value':
                  digests['sha512']}
        if image is not None:
            result['image'] = args.image
            result['match'] = same
            result['compared'] = [
                {'field': f, 'file': o, 'glance': g, 'same': s}
                for f, o, g, s in rows]
        out.write(json.dumps(result, sort_keys=True) + '\n')
    else:
        out.write('%s  size %d\n' % (args.file, size))
        out.write('checksum (md5)           %s\n' % digests['md5'])
        out.write('os_hash_value (sha512)   %s\n' % digests['sha512'])
        if image is not None:
            if not rows:
                out.write('image %s has no checksum in Glance (no data '
                          'uploaded?)\n' % args.image)
            for field, ours, theirs, equal in rows:
                out.write('%-14s %s  file %s  glance %s\n' % (
                    field, 'same     ' if equal else 'DIFFERENT', ours,
                    theirs))
    if image is not None and (not rows or not same):
        return errors.EXIT_PROBLEMS
    return errors.EXIT_OK
