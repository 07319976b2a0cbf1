"""What every operator command shares: error reporting and the listing."""

from __future__ import print_function

import sys

from nova_imgmeta.ops import errors
from nova_imgmeta.ops.index import ImageIndex
from nova_imgmeta.ops.progress import Progress


def err(command, message):
    print('nova-imgmeta %s: %s' % (command, message), file=sys.stderr)


def guarded(command, func):
    """Wrap func(args) -> exit code: OpsError becomes a message + code."""
    def run(args):
        try:
            return func(args)
        except errors.OpsError as exc:
            err(command, 'error: %s' % exc)
            return exc.exit_code
    run.__name__ = getattr(func, '__name__', 'run')
    return run


def add_listing_arguments(parser):
    parser.add_argument('--page-size', type=int, default=1000, metavar='N',
                        help='images per Glance request (default 1000, '
                             "Glance's usual api_limit_max)")
    parser.add_argument('--owner', metavar='PROJECT_ID',
                        help="only this project's images (default: every "
                             'image your credentials can see; admins see '
                             'all)')
    parser.add_argument('--quiet', '-q', action='store_true',
                        help='no progress lines on stderr')


def build_index(glance, args, source_properties=()):
    """List every image into an :class:`ImageIndex`, with progress."""
    progress = Progress(enabled=not getattr(args, 'quiet', False))
    index = ImageIndex(source_properties=source_properties)
    pages = [0]

    def on_page(number):
        pages[0] += 1
        progress.say('listing images: %d pages, %d images so far'
                     % (pages[0], index.count + number))
    filters = {}
    if getattr(args, 'owner', None):
        filters['owner'] = args.owner
    try:
        for image in glance.iter_images(page_size=args.page_size,
                                        filters=filters, on_page=on_page):
            index.add(image)
        index.flush()
    except BaseException:
        index.close()
        raise
    progress.say('listed %d images in %d pages' % (index.count, pages[0]),
                 force=True)
    return index, progress
