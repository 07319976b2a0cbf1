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

from nova_imgmeta.catalogue.index import SNAPSHOT_TYPES
from nova_imgmeta.catalogue import verdicts
from nova_imgmeta.cli import common
from nova_imgmeta.cloud import auth
from nova_imgmeta import lineage

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
        glance = common.connect_glance(args)
    writer = (JsonReport if args.format == 'json' else TextReport)(
        out, trees=not args.no_tree)
    streamed = set()

    def on_image(image):
        """A snapshot listed without base_image_ref is missing whatever
        else is listed: said at once.
        """
        if image.get('image_type') in SNAPSHOT_TYPES and \
                not image.get(lineage.BASE_IMAGE_REF) and \
                image['id'] not in streamed:
            streamed.add(image['id'])
            writer.problem(_missing(image))
    writer.start()
    index, progress = common.build_index(glance, args, on_image=on_image,
                                         on_page=writer.flush)
    try:
        audit = verdicts.Audit(index).run()
        for item in audit.findings():
            if item['id'] not in streamed:
                writer.problem(item)
        writer.trees(audit)
        summary = audit.summary()
        writer.end(summary)
    finally:
        index.close()
    progress.say('%(snapshots)d snapshots/backups in %(images)d images, '
                 '%(problems)d with problems' % summary, force=True)
    return common.EXIT_PROBLEMS if summary['problems'] else common.EXIT_OK


def _missing(image):
    """The finding of a snapshot listed without base_image_ref."""
    return {'id': image['id'], 'kind': verdicts.MISSING,
            'root': image['id'],
            'base_image_ref': image.get(lineage.BASE_IMAGE_REF),
            'path': [image['id']], 'name': image.get('name'),
            'image_type': image.get('image_type'),
            'instance_uuid': image.get('instance_uuid'),
            'created_at': image.get('created_at')}


#: the word that starts a problem's line, per kind
LABELS = {verdicts.MISSING: 'MISSING',
          verdicts.DANGLING: 'DANGLING',
          verdicts.LOOP: 'LOOP'}


class TextReport(object):
    """Problems one line each as they are known, then the trees, then the
    summary.
    """

    def __init__(self, out, trees=True):
        self.out = out
        self.with_trees = trees

    def write(self, line):
        self.out.write(line + '\n')

    def flush(self):
        _flush(self.out)

    def start(self):
        pass

    def problem(self, item):
        if item['kind'] == verdicts.MISSING:
            detail = 'instance_uuid=%s' % (item['instance_uuid'] or '-')
        else:
            detail = ' -> '.join(item['path'])
        self.write('%-8s  %s  %s  [%s]  %s' % (
            LABELS[item['kind']], item['id'], item['name'] or '',
            item['image_type'], detail))

    def trees(self, audit):
        if not self.with_trees:
            return
        self.write('')
        for root in audit.roots():
            verdicts.render_lines(audit.walk_tree(root), self.write)
            self.write('')

    def end(self, summary):
        self.write('summary: %(images)d images, %(snapshots)d '
                   'snapshots/backups: %(ok)d ok, %(indirect)d via another '
                   'image, %(missing)d missing, %(dangling)d dangling, '
                   '%(loop)d in loops' % summary)
        self.flush()


class JsonReport(object):
    """One JSON document, written as it is known: ``problems`` first (as
    found), then ``trees``, then ``summary``.
    """

    def __init__(self, out, trees=True):
        self.out = out
        self.with_trees = trees
        self.first = True

    def flush(self):
        _flush(self.out)

    def start(self):
        self.out.write('{"problems": [')

    def problem(self, item):
        self.out.write(('\n  ' if self.first else ',\n  ') +
                       json.dumps(item, sort_keys=True))
        self.first = False

    def trees(self, audit):
        self.out.write('],\n "trees": [')
        if not self.with_trees:
            return
        first = True
        for root in audit.roots():
            self.out.write('\n  ' if first else ',\n  ')
            first = False
            written = [False]   # per depth: a sibling was written
            for depth, _last, node in audit.walk_tree(root):
                if node is None:
                    self.out.write(']}')
                    continue
                fields = json.dumps(verdicts.public(node),
                                    sort_keys=True)
                self.out.write('%s%s, "children": [' % (
                    ', ' if written[depth] else '', fields[:-1]))
                written[depth] = True
                del written[depth + 1:]
                written.append(False)

    def end(self, summary):
        self.out.write('],\n "summary": %s}\n' % json.dumps(
            summary, sort_keys=True))
        self.flush()


def _flush(out):
    try:
        out.flush()
    except (AttributeError, ValueError):
        pass
