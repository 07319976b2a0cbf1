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

"""``nova-imgmeta audit``: find snapshots with a broken lineage.

Exit codes: 0 no problem found, 1 problems found, 2 an error.
"""

from __future__ import print_function

import json
import sys

from nova_imgmeta.catalogue import audit as lineage_audit
from nova_imgmeta.cli import common
from nova_imgmeta.cloud import auth

HELP = 'find snapshots without, or with a broken, base_image_ref'


def register(subparsers):
    parser = subparsers.add_parser(
        'audit', help=HELP,
        description=HELP + '. Lists every image (paginated), follows the '
        'base_image_ref of snapshot and backup images (image_type '
        'property) and reports those without one, those naming a deleted '
        'image and chains that loop. Exit code: 0 no problem, 1 problems '
        'found, 2 error.')
    parser.add_argument('--format', choices=('text', 'json'),
                        default='text', help='output format (default text)')
    parser.add_argument('--no-tree', action='store_true',
                        help='only the problems and the summary')
    common.add_listing_arguments(parser)
    auth.add_auth_arguments(parser)
    parser.set_defaults(func=common.guarded('audit', run))
    return parser


def run(args, glance=None, out=None):
    out = out or sys.stdout
    if glance is None:
        from nova_imgmeta.cloud.glance import GlanceAPI
        glance = GlanceAPI.from_connection(auth.connect(args))
    index, progress = common.build_index(glance, args)
    try:
        audit = lineage_audit.Audit(index).run()
        summary = audit.summary()
        if args.format == 'json':
            _write_json(audit, summary, out, trees=not args.no_tree)
        else:
            _write_text(audit, summary, out, trees=not args.no_tree)
    finally:
        index.close()
    progress.say('%(snapshots)d snapshots/backups in %(images)d images, '
                 '%(problems)d with problems' % summary, force=True)
    return common.EXIT_PROBLEMS if summary['problems'] else common.EXIT_OK


def _write_text(audit, summary, out, trees=True):
    def write(line):
        out.write(line + '\n')
    if trees:
        for root in audit.roots():
            lineage_audit.render_tree(audit.tree(root), write)
            write('')
    titles = {lineage_audit.MISSING: 'without base_image_ref',
              lineage_audit.DANGLING: 'base_image_ref names a deleted image',
              lineage_audit.LOOP: 'base_image_ref chain loops'}
    for kind in lineage_audit.PROBLEM_KINDS:
        found = list(audit.findings((kind,)))
        if not found:
            continue
        write('%s (%d):' % (titles[kind], len(found)))
        for item in found:
            detail = ''
            if kind == lineage_audit.MISSING:
                detail = 'instance_uuid=%s' % (item['instance_uuid'] or '-')
            else:
                detail = ' -> '.join(item['path'])
            write('  %s  %s  [%s]  %s' % (item['id'], item['name'] or '',
                                          item['image_type'], detail))
        del found
    write('summary: %(images)d images, %(snapshots)d snapshots/backups: '
          '%(ok)d ok, %(indirect)d via another image, %(missing)d missing, '
          '%(dangling)d dangling, %(loop)d in loops' % summary)


def _write_json(audit, summary, out, trees=True):
    out.write('{"summary": %s,\n "problems": [' % json.dumps(
        summary, sort_keys=True))
    first = True
    for item in audit.findings():
        out.write(('\n  ' if first else ',\n  ') +
                  json.dumps(item, sort_keys=True))
        first = False
    out.write('],\n "trees": [')
    first = True
    if trees:
        for root in audit.roots():
            out.write(('\n  ' if first else ',\n  ') +
                      json.dumps(audit.tree(root), sort_keys=True))
            first = False
    out.write(']}\n')
