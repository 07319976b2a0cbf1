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

    def __init__(self, index):
        self.index = index
        self.db = index.db
        self.db.execute(
            'CREATE TABLE IF NOT EXISTS results (id TEXT PRIMARY KEY, '
            'kind TEXT, root TEXT, parent TEXT, path TEXT)')
        self.db.execute('CREATE INDEX IF NOT EXISTS results_parent '
                        'ON results (parent)')

    def run(self):
        batch = []
        for row in self.index.snapshots():
            kind, root, path = walk(self.index, row)
            batch.append((row.id, kind, root, row.base or None,
                          json.dumps(path)))
            if len(batch) >= 500:
                self._store(batch)
                batch = []
        self._store(batch)
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
            yield {'id': image_id, 'kind': kind, 'root': root,
                   'base_image_ref': base, 'path': json.loads(path),
                   'name': name, 'image_type': image_type,
                   'instance_uuid': instance_uuid,
                   'created_at': created_at}

    def roots(self):
        """Ids of the tree roots: resolved roots, missing-base snapshots
        and the deleted images that dangling links name.
        """
        cur = self.db.cursor()
        cur.execute(
            'SELECT DISTINCT r.root, i.name FROM results r '
            'LEFT JOIN images i ON i.id = r.root '
            'WHERE r.kind != ? AND r.root IS NOT NULL '
            'ORDER BY i.name IS NULL, i.name, r.root', (LOOP,))
        for root, _name in cur:
            yield root

    def children(self, parent_id):
        cur = self.db.execute(
            'SELECT r.id FROM results r JOIN images i ON i.id = r.id '
            'WHERE r.parent = ? AND r.kind NOT IN (?, ?) '
            'ORDER BY i.created_at, i.name, r.id',
            (parent_id, LOOP, MISSING))
        return [image_id for (image_id,) in cur.fetchall()]

    def kind_of(self, image_id):
        found = self.db.execute('SELECT kind FROM results WHERE id = ?',
                                (image_id,)).fetchone()
        return found[0] if found else None

    def node(self, image_id):
        """One tree node (a dict) without children."""
        row = self.index.get(image_id)
        kind = self.kind_of(image_id)
        if row is None:
            return {'id': image_id, 'exists': False, 'name': None,
                    'image_type': None, 'problem': 'deleted'}
        return {'id': image_id, 'exists': True, 'name': row.name,
                'image_type': row.image_type, 'status': row.status,
                'base_image_ref': row.base,
                'problem': kind if kind in PROBLEM_KINDS else None}

    def tree(self, root_id):
        """The lineage tree under root_id as nested dicts."""
        top = self.node(root_id)
        stack = [(top, root_id, 0)]
        while stack:
            node, image_id, depth = stack.pop()
            node['children'] = []
            if depth >= MAX_DEPTH:
                continue
            for child_id in self.children(image_id):
                child = self.node(child_id)
                node['children'].append(child)
                stack.append((child, child_id, depth + 1))
        return top


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
