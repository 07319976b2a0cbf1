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

"""Find snapshots whose lineage is broken, and draw the lineage trees.

For every snapshot or backup image (Glance property ``image_type``) the
``base_image_ref`` links are followed until an image without one: the root.

* ``ok``: the link names a root directly (what Nova writes);
* ``indirect``: the link names an image that itself has a base_image_ref
  (a chain: shown nested under that image in the tree);
* ``missing``: no base_image_ref, or an empty one (the rebuild bug);
* ``dangling``: a link names an image that no longer exists;
* ``loop``: the links come back to an image already seen.

The last three are problems. Results live in the index's SQLite file.
"""

import json

from nova_imgmeta.catalogue.index import Row
from nova_imgmeta.catalogue.index import SNAPSHOT_TYPES

OK = 'ok'
INDIRECT = 'indirect'
MISSING = 'missing'
DANGLING = 'dangling'
LOOP = 'loop'
PROBLEM_KINDS = (MISSING, DANGLING, LOOP)
KINDS = (OK, INDIRECT) + PROBLEM_KINDS
MAX_DEPTH = 64


def walk(index, row):
    """Follow row's base_image_ref links: ``(kind, root, path)``."""
    if not row.base:
        return MISSING, row.id, [row.id]
    path = [row.id]
    seen = set(path)
    current = row.base
    while True:
        if current in seen or len(path) > MAX_DEPTH:
            return LOOP, None, path + [current]
        found = index.get(current)
        if found is None:
            return DANGLING, current, path + [current]
        path.append(current)
        seen.add(current)
        if not found.base:
            return (OK if len(path) == 2 else INDIRECT), current, path
        current = found.base


class Audit(object):
    """The verdict of every snapshot, in the index's SQLite file.

    Most snapshots name their root directly (``ok``) or name nothing
    (``missing``): those are classified by two SQL statements; only the
    others (chains, dangling links, loops) are walked one by one, so that
    100,000 images cost a few seconds here, not minutes.
    """

    def __init__(self, index):
        self.index = index
        self.db = index.db
        self.db.execute(
            'CREATE TABLE IF NOT EXISTS results (id TEXT PRIMARY KEY, '
            'kind TEXT, root TEXT, parent TEXT, path TEXT)')
        self.db.execute('CREATE INDEX IF NOT EXISTS results_parent '
                        'ON results (parent)')

    def run(self):
        self.index.flush()
        db = self.db
        db.execute('DELETE FROM results')
        # path NULL: [id] for missing, [id, root] for ok (see findings)
        db.execute(
            "INSERT INTO results SELECT id, ?, id, NULL, NULL FROM images "
            "WHERE listed = 1 AND image_type IN (?, ?) "
            "AND (base IS NULL OR base = '')", (MISSING,) + SNAPSHOT_TYPES)
        db.execute(
            "INSERT INTO results SELECT s.id, ?, s.base, s.base, NULL "
            "FROM images s JOIN images b ON b.id = s.base "
            "WHERE s.listed = 1 AND s.image_type IN (?, ?) "
            "AND s.base != '' AND s.base != s.id "
            "AND (b.base IS NULL OR b.base = '')", (OK,) + SNAPSHOT_TYPES)
        cur = db.cursor()
        cur.execute(
            'SELECT * FROM images WHERE listed = 1 AND image_type IN (?, ?) '
            'AND id NOT IN (SELECT id FROM results) ORDER BY id',
            SNAPSHOT_TYPES)
        batch = []
        for values in cur:
            row = Row(values)
            kind, root, path = walk(self.index, row)
            batch.append((row.id, kind, root, row.base or None,
                          json.dumps(path)))
            if len(batch) >= 500:
                self._store(batch)
                batch = []
        self._store(batch)
        db.execute('DROP TABLE IF EXISTS parents')
        db.execute('CREATE TABLE parents (id TEXT PRIMARY KEY)')
        db.execute('INSERT OR IGNORE INTO parents SELECT parent FROM '
                   'results WHERE parent IS NOT NULL AND kind NOT IN '
                   '(?, ?)', (LOOP, MISSING))
        return self

    def _store(self, batch):
        if batch:
            self.db.executemany(
                'INSERT OR REPLACE INTO results VALUES (?,?,?,?,?)', batch)

    def counts(self):
        counts = dict((kind, 0) for kind in KINDS)
        for kind, number in self.db.execute(
                'SELECT kind, COUNT(*) FROM results GROUP BY kind'):
            counts[kind] = number
        return counts

    def summary(self):
        counts = self.counts()
        summary = {'images': self.index.count,
                   'snapshots': sum(counts.values()),
                   'problems': sum(counts[k] for k in PROBLEM_KINDS)}
        summary.update(counts)
        return summary

    def findings(self, kinds=PROBLEM_KINDS):
        """Yield dicts for the snapshots of the given kinds, by id."""
        marks = ','.join('?' * len(kinds))
        cur = self.db.cursor()
        cur.execute(
            'SELECT r.id, r.kind, r.root, r.parent, r.path, i.name, '
            'i.image_type, i.instance_uuid, i.created_at, i.base '
            'FROM results r JOIN images i ON i.id = r.id '
            'WHERE r.kind IN (%s) ORDER BY r.kind, r.id' % marks,  # nosec B608
            tuple(kinds))
        for (image_id, kind, root, parent, path, name, image_type,
             instance_uuid, created_at, base) in cur:
            if path is not None:
                path = json.loads(path)
            elif kind == MISSING:
                path = [image_id]
            else:
                path = [image_id, root]
            yield {'id': image_id, 'kind': kind, 'root': root,
                   'base_image_ref': base, 'path': path,
                   'name': name, 'image_type': image_type,
                   'instance_uuid': instance_uuid,
                   'created_at': created_at}

    def roots(self):
        """The tree roots (node dicts without children): resolved roots,
        missing-base snapshots and the deleted images that dangling links
        name, by name.
        """
        cur = self.db.cursor()
        cur.execute(
            'SELECT r.root, i.id, i.name, i.image_type, i.status, i.base, '
            '(SELECT kind FROM results k WHERE k.id = r.root), '
            'EXISTS (SELECT 1 FROM parents p WHERE p.id = r.root) '
            'FROM (SELECT DISTINCT root FROM results WHERE kind != ? AND '
            'root IS NOT NULL) r LEFT JOIN images i ON i.id = r.root '
            'ORDER BY i.name IS NULL, i.name, r.root', (LOOP,))
        for values in cur:
            yield _node(values[0], values[1:])

    def _children(self, parent_id):
        cur = self.db.execute(
            'SELECT r.id, i.id, i.name, i.image_type, i.status, i.base, '
            'r.kind, EXISTS (SELECT 1 FROM parents p WHERE p.id = r.id) '
            'FROM results r JOIN images i ON i.id = r.id '
            'WHERE r.parent = ? AND r.kind NOT IN (?, ?) '
            'ORDER BY i.created_at, i.name, r.id',
            (parent_id, LOOP, MISSING))
        return [_node(values[0], values[1:]) for values in cur.fetchall()]

    def children(self, parent_id):
        return [node['id'] for node in self._children(parent_id)]

    def walk_tree(self, top):
        """The tree under ``top`` (a node of :meth:`roots`), depth first:
        ``(depth, last sibling, node)`` for each node as it opens, and
        ``(depth, None, None)`` as it closes. Memory: the children of the
        nodes on the way down, never the whole tree.
        """
        yield 0, True, top
        stack = [[self._children(top['id']) if top['_parent'] else [], 0]]
        while stack:
            kids, number = stack[-1]
            if number >= len(kids):
                stack.pop()
                yield len(stack), None, None
                continue
            stack[-1][1] = number + 1
            node = kids[number]
            depth = len(stack)
            yield depth, number == len(kids) - 1, node
            if node['_parent'] and depth < MAX_DEPTH:
                stack.append([self._children(node['id']), 0])
            else:
                yield depth, None, None

    def tree(self, root_id):
        """The lineage tree under root_id as nested dicts."""
        top = None
        for node in self.roots():
            if node['id'] == root_id:
                top = node
                break
        if top is None:
            top = _node(root_id, (None,) * 7)
        made = []
        for depth, _last, node in self.walk_tree(top):
            if node is None:
                continue
            node = public(node)
            node['children'] = []
            del made[depth:]
            if made:
                made[-1]['children'].append(node)
            made.append(node)
        return made[0]


def _node(image_id, values):
    """A tree node (a dict) from (images.id, name, image_type, status,
    base, kind, has children); images.id None: a deleted image.
    """
    found, name, image_type, status, base, kind, parent = values
    if found is None:
        return {'id': image_id, 'exists': False, 'name': None,
                'image_type': None, 'problem': 'deleted',
                '_parent': bool(parent)}
    return {'id': image_id, 'exists': True, 'name': name,
            'image_type': image_type, 'status': status,
            'base_image_ref': base,
            'problem': kind if kind in PROBLEM_KINDS else None,
            '_parent': bool(parent)}


def public(node):
    """The node without its private keys."""
    return dict((k, v) for k, v in node.items() if not k.startswith('_'))


def render_lines(events, write):
    """Write :meth:`Audit.walk_tree` events as indented text lines."""
    prefixes = []
    for depth, last, node in events:
        if node is None:
            continue
        del prefixes[max(depth - 1, 0):]
        if depth == 0:
            write(_label(node))
            continue
        write(''.join(prefixes) + ('`-- ' if last else '|-- ') +
              _label(node))
        prefixes.append('    ' if last else '|   ')


def render_tree(tree, write):
    """Write a tree (from Audit.tree) as indented text lines."""
    write(_label(tree))
    _render_children(tree.get('children') or [], '', write)


def _render_children(children, prefix, write):
    for number, child in enumerate(children):
        last = number == len(children) - 1
        write(prefix + ('`-- ' if last else '|-- ') + _label(child))
        _render_children(child.get('children') or [],
                         prefix + ('    ' if last else '|   '), write)


def _label(node):
    if not node.get('exists'):
        return '%s  (deleted image)  <- DANGLING base_image_ref' % node['id']
    text = '%s  %s' % (node.get('name') or '(no name)', node['id'])
    if node.get('image_type'):
        text += '  [%s]' % node['image_type']
    problem = node.get('problem')
    if problem == MISSING:
        text += '  <- MISSING base_image_ref'
    elif problem == DANGLING:
        text += '  <- DANGLING base_image_ref'
    return text
