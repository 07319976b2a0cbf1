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

"""What the operator commands share: exit codes, error reporting, progress
lines, and the listing of the catalogue into an index."""

from __future__ import print_function

import argparse
import sys
import time

from nova_imgmeta.catalogue.index import ImageIndex
from nova_imgmeta.cloud import auth
from nova_imgmeta.exceptions import CommandError

#: Exit codes shared by the commands.
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_ERROR = 2
#: --workers of backfill and undo: the default (measured, see
#: doc/source/benchmarks.rst) and the largest accepted
DEFAULT_WORKERS = 8
MAX_WORKERS = 32


def err(command, message):
    print('nova-imgmeta %s: %s' % (command, message), file=sys.stderr)


def guarded(command, func):
    """Wrap func(args) -> exit code: CommandError becomes a message and
    its exit code.
    """
    def run(args):
        try:
            return func(args)
        except CommandError as exc:
            err(command, 'error: %s' % exc)
            return exc.exit_code
    run.__name__ = getattr(func, '__name__', 'run')
    return run


class Progress(object):
    """Progress lines on stderr for long runs, at most one every few
    seconds.
    """

    def __init__(self, enabled=True, interval=2.0, stream=None):
        self.enabled = enabled
        self.interval = interval
        self.stream = stream or sys.stderr
        self._last = 0.0

    def say(self, message, force=False):
        if not self.enabled:
            return
        now = time.time()
        if force or now - self._last >= self.interval:
            self._last = now
            print('nova-imgmeta: ' + message, file=self.stream)
            try:
                self.stream.flush()
            except (AttributeError, ValueError):
                pass


def workers(text):
    """argparse type of --workers: 1 to :data:`MAX_WORKERS`."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError('%r is not a whole number' % text)
    if not 1 <= value <= MAX_WORKERS:
        raise argparse.ArgumentTypeError('%d: must be from 1 to %d'
                                         % (value, MAX_WORKERS))
    return value


def add_workers_argument(parser):
    parser.add_argument(
        '--workers', type=workers, default=DEFAULT_WORKERS, metavar='N',
        help='images written at the same time (1 to %d, default '
             '%%(default)s); each waits when Glance answers 429 or 503, '
             'as long as its Retry-After says' % MAX_WORKERS)


def connect_glance(args, **options):
    """The Glance of the cloud that the command's authentication
    arguments (:func:`nova_imgmeta.cloud.auth.add_auth_arguments`) name;
    ``options`` (``warn``, ``workers``) go to ``GlanceAPI.from_connection``.
    """
    from nova_imgmeta.cloud.glance import GlanceAPI
    connection = auth.connect(auth.settings_from_args(args))
    return GlanceAPI.from_connection(connection, **options)


def add_listing_arguments(parser):
    parser.add_argument('--page-size', type=int, default=1000, metavar='N',
                        help='images per Glance request (default 1000, '
                             "Glance's usual api_limit_max)")
    parser.add_argument('--owner', metavar='PROJECT_ID',
                        help="check only this project's snapshots (the "
                             'images they name are looked up wherever '
                             'they are; default: every image your '
                             'credentials can see; admins see all)')
    parser.add_argument('--quiet', '-q', action='store_true',
                        help='no progress lines on stderr')


def build_index(glance, args, source_properties=(), on_image=None,
                on_page=None):
    """List the catalogue into an :class:`ImageIndex`, with progress, then
    look up the images its snapshots name that the listing did not hold
    (``--owner``, or deleted: only a 404 makes a link dangling).

    :param on_image: called with each image listed, as it comes.
    :param on_page: called after each page (e.g. to flush output).
    """
    progress = Progress(enabled=not getattr(args, 'quiet', False))
    index = ImageIndex(source_properties=source_properties)
    seen = {'pages': 0, 'images': 0}

    def page_done(number):
        seen['pages'] += 1
        seen['images'] += number
        progress.say('listing images: %d pages, %d images so far'
                     % (seen['pages'], seen['images']))
    filters = {}
    if getattr(args, 'owner', None):
        filters['owner'] = args.owner
        index.filtered = True
    try:
        for image in glance.iter_catalogue(page_size=args.page_size,
                                           filters=filters,
                                           on_page=page_done):
            index.add(image)
            if on_image is not None:
                on_image(image)
            if on_page is not None and seen['images'] and \
                    seen.get('flushed') != seen['pages']:
                seen['flushed'] = seen['pages']
                on_page()
        listed = index.count
        looked_up = index.add_references(glance.find_images)
    except BaseException:
        index.close()
        raise
    message = 'listed %d images in %d pages' % (listed, seen['pages'])
    if looked_up:
        message += ('; looked up %d images named by snapshots but not '
                    'listed' % looked_up)
    progress.say(message, force=True)
    return index, progress
