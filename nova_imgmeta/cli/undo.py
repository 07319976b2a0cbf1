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

"""``nova-imgmeta undo --journal FILE``: restore what a backfill changed.

Every change the journal records is reverted newest first, to the value
before the journal's first change of that key (the key is removed where it
did not exist). A value changed by someone else since is left alone unless
``--force``. Exit codes: 0 all restored, 2 something failed.
"""

from __future__ import print_function

import os
import sys

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.catalogue import writer
from nova_imgmeta.cli import common
from nova_imgmeta.cloud import auth
from nova_imgmeta.exceptions import CommandError

HELP = 'restore the images a backfill journal changed'


def register(subparsers):
    parser = subparsers.add_parser('undo', help=HELP,
                                   description=HELP + '.')
    parser.add_argument('--journal', required=True, metavar='FILE',
                        help='the journal written by backfill --apply')
    parser.add_argument('--dry-run', action='store_true',
                        help='only show what would be restored')
    parser.add_argument('--force', action='store_true',
                        help='restore even values changed since by others')
    common.add_workers_argument(parser)
    auth.add_auth_arguments(parser)
    parser.set_defaults(func=common.guarded('undo', run))
    return parser


def run(args, glance=None, out=None):
    out = out or sys.stdout
    report = lambda message: out.write(message + '\n')  # noqa
    if not os.path.exists(args.journal):
        raise CommandError('no journal at %s' % args.journal)
    try:
        records = fix_journal.read(args.journal)
    except fix_journal.JournalError as exc:
        raise CommandError(str(exc))
    if glance is None:
        glance = common.connect_glance(args, workers=args.workers)
    try:
        journal = fix_journal.Journal(args.journal).open()
    except (fix_journal.JournalError, OSError, IOError) as exc:
        raise CommandError('journal %s: %s' % (args.journal, exc))
    try:
        outcome = writer.undo_changes(glance, journal, records,
                                      force=args.force,
                                      dry_run=args.dry_run, report=report,
                                      workers=args.workers)
    finally:
        journal.close()
    for message in outcome.messages:
        common.err('undo', 'failed: ' + message)
    if outcome.aborted is not None:
        common.err('undo', 'stopped: %s; re-run to finish (undo is safe '
                   'to repeat)' % outcome.aborted)
    out.write('summary: %s=%d, already_as_before=%d, failed=%d\n' % (
        'would_restore' if args.dry_run else 'restored', outcome.changed,
        outcome.already, outcome.failed))
    return outcome.exit_code
