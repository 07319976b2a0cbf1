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

"""``nova-imgmeta backfill``: set the missing base_image_ref of snapshots.

Dry run unless ``--apply``. Exit codes: 0 nothing failed and nothing left
unresolved, 1 some snapshots could not be resolved or were skipped, 2 an
error (a change refused, a network or authentication failure).
"""

from __future__ import print_function

import json
import os
import sys
import time

from nova_imgmeta.catalogue import fix_journal
from nova_imgmeta.catalogue import plan as plan_mod
from nova_imgmeta.catalogue import verdicts
from nova_imgmeta.catalogue import writer
from nova_imgmeta.cli import common
from nova_imgmeta.cloud import auth
from nova_imgmeta.cloud import compute
from nova_imgmeta.exceptions import CommandError
from nova_imgmeta import lineage

HELP = 'set the missing base_image_ref of snapshots (dry run by default)'


def register(subparsers):
    parser = subparsers.add_parser(
        'backfill', help=HELP,
        description=HELP + '. The value is found by the lineage rule of '
        'the plugin, applied to the image of the server that took the '
        'snapshot (Nova, deleted servers included for admins), or else to '
        'the image named by --source-property. With --apply each change is '
        'journaled (JSON lines, fsynced) before it is made; re-run with '
        'the same --journal to resume, and "nova-imgmeta undo --journal '
        'FILE" to restore.')
    parser.add_argument('--apply', action='store_true',
                        help='write the changes (default: only show them)')
    parser.add_argument('--force', action='store_true',
                        help='also replace an existing (dangling, looping '
                             'or, with --image, any) base_image_ref')
    parser.add_argument('--journal', metavar='FILE',
                        help='journal file (default with --apply: '
                             'nova-imgmeta-backfill-<time>.jsonl here)')
    parser.add_argument('--image', action='append', default=[],
                        metavar='ID',
                        help='only this snapshot or backup (repeatable); '
                             'an id that is not found, not a snapshot or '
                             'not listed is named, and the exit code is 1')
    parser.add_argument('--source-property', action='append', default=[],
                        metavar='KEY',
                        help='image property naming the image a snapshot '
                             'was taken from, used when Nova cannot tell '
                             '(repeatable)')
    parser.add_argument('--nova-batch-threshold', type=int,
                        default=compute.DEFAULT_BATCH_THRESHOLD,
                        metavar='N',
                        help='look up at most N servers one by one; more '
                             'are found with one paginated listing '
                             '(default %(default)s)')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text')
    common.add_workers_argument(parser)
    common.add_listing_arguments(parser)
    auth.add_auth_arguments(parser)
    parser.set_defaults(func=common.guarded('backfill', run))
    return parser


def run(args, glance=None, nova=None, out=None):
    out = out or sys.stdout
    report = lambda message: common.err('backfill', message)  # noqa
    records = []
    if args.apply and args.journal:
        try:
            records = fix_journal.read(args.journal)
        except fix_journal.JournalError as exc:
            raise CommandError('cannot resume: %s' % exc)
    if glance is None or nova is None:
        connection = auth.connect(auth.settings_from_args(args))
        if glance is None:
            from nova_imgmeta.cloud.glance import GlanceAPI
            glance = GlanceAPI.from_connection(connection, warn=report,
                                               workers=args.workers)
        if nova is None:
            nova = compute.NovaAPI.from_connection(connection, warn=report)
    index, progress = common.build_index(glance, args,
                                         args.source_property)
    try:
        if args.image:
            index.add_references(glance.find_images, args.image)
        audit = verdicts.Audit(index).run()
        plan = plan_mod.Plan(index, audit, force=args.force, only=args.image)
        plan.select()
        plan.lookup_servers(nova, progress,
                            batch_threshold=args.nova_batch_threshold)
        plan.look_up_sources(glance.find_images)
        plan.resolve()
        return _act(args, plan, index, glance, records, out, report)
    finally:
        index.close()


def _act(args, plan, index, glance, records, out, report):
    changes = list(plan.rows(('change',)))
    unresolved = plan.count('unresolved')
    skipped = plan.count('skip')
    bad_ids = plan.count(plan_mod.BAD_IMAGE)
    for row in plan.rows((plan_mod.BAD_IMAGE,)):
        report('--image %s: %s' % (row['image_id'], row['reason']))
    if not args.apply:
        _show_plan(args, plan, out)
        summary = {'would_change': len(changes), 'unresolved': unresolved,
                   'skipped': skipped, 'bad_image_ids': bad_ids,
                   'applied': False}
        _summary(args, summary, out)
        return common.EXIT_PROBLEMS if (unresolved or skipped or
                                        bad_ids) else 0
    path = args.journal or 'nova-imgmeta-backfill-%s.jsonl' % time.strftime(
        '%Y%m%dT%H%M%SZ', time.gmtime())
    report('journal: %s (re-run with --journal %s to resume; undo with '
           '"nova-imgmeta undo --journal %s")' % (path, path, path))
    try:
        journal = fix_journal.Journal(path).open()
    except (fix_journal.JournalError, OSError, IOError) as exc:
        raise CommandError('journal %s: %s' % (path, exc))
    try:
        closed = writer.close_open_changes(journal, records, index,
                                           lineage.BASE_IMAGE_REF)
        done_before = sum(
            1 for c in fix_journal.changes(records).values()
            if c.state == fix_journal.DONE)
        outcome = writer.apply_changes(glance, journal, changes,
                                       lineage.BASE_IMAGE_REF,
                                       force=args.force, report=report,
                                       workers=args.workers,
                                       records=records + closed)
    finally:
        journal.close()
    for message in outcome.messages:
        report('failed: ' + message)
    summary = {'changed': outcome.changed, 'already_set': outcome.already,
               'skipped': skipped + outcome.skipped,
               'unresolved': unresolved, 'failed': outcome.failed,
               'bad_image_ids': bad_ids,
               'done_in_earlier_runs': done_before + len(closed) +
               outcome.confirmed,
               'journal': os.path.abspath(path), 'applied': True}
    if outcome.aborted is not None:
        summary['aborted'] = str(outcome.aborted)
        report('stopped: %s' % outcome.aborted)
        report('nothing is half-written: re-run with --journal %s to '
               'resume' % path)
    _show_plan(args, plan, out, actions=('skip', 'unresolved',
                                         plan_mod.BAD_IMAGE))
    _summary(args, summary, out)
    if outcome.exit_code:
        return outcome.exit_code
    return common.EXIT_PROBLEMS if (unresolved or summary['skipped'] or
                                    bad_ids) else 0


def _show_plan(args, plan, out, actions=None):
    for row in plan.rows(actions):
        if args.format == 'json':
            out.write(json.dumps(row, sort_keys=True) + '\n')
            continue
        if row['action'] == 'change':
            out.write('%s %s: base_image_ref %s -> %s  (%s %s)\n' % (
                'would set' if not args.apply else 'set',
                row['image_id'], _show(row['old']), row['new'], row['how'],
                row['source']))
        else:
            out.write('%s %s: %s\n' % (row['action'], row['image_id'],
                                       row['reason']))


def _summary(args, summary, out):
    if args.format == 'json':
        out.write(json.dumps({'summary': summary}, sort_keys=True) + '\n')
        return
    out.write('summary: ' + ', '.join(
        '%s=%s' % (key, summary[key]) for key in sorted(summary)) + '\n')
    if not summary.get('applied') and summary.get('would_change'):
        out.write('dry run: nothing was written; add --apply to write\n')


def _show(value):
    return '(absent)' if value is None else repr(value)
