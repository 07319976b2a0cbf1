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

"""Work out the missing base_image_ref values: the backfill plan.

For a snapshot the value is the lineage rule (``nova_imgmeta.lineage``)
applied to the image its server was running, which Nova names: the
snapshot's ``instance_uuid`` property gives the server, looked up in
batches, deleted servers included for admins. When Nova cannot tell (the
server was purged, or is not visible), the image the snapshot was taken
from is used when known: the first non-empty property named by
``--source-property``. When the server's image is itself a snapshot being
backfilled in the same run, its new value is used.

The plan is a table in the index's SQLite file.
"""

import calendar
import time

from nova_imgmeta.catalogue.index import SNAPSHOT_TYPES
from nova_imgmeta.catalogue import verdicts
from nova_imgmeta.cloud.compute import server_image_id
from nova_imgmeta import lineage

SINCE_MARGIN = 24 * 3600
#: plan action of a --image id that cannot be backfilled
BAD_IMAGE = 'bad-image'


class SqlSet(object):
    """A set of strings kept in a SQLite table (flat memory)."""

    def __init__(self, db, table):
        self.db = db
        self.table = table
        db.execute('CREATE TABLE %s (value TEXT PRIMARY KEY, image TEXT, '
                   'found INTEGER DEFAULT 0)' % table)

    def add(self, value):
        self.db.execute('INSERT OR IGNORE INTO %s (value) VALUES (?)'
                        % self.table, (value,))  # nosec B608

    def __contains__(self, value):
        row = self.db.execute('SELECT 1 FROM %s WHERE value = ?'
                              % self.table, (value,)).fetchone()  # nosec B608
        return row is not None

    def __len__(self):
        return self.db.execute('SELECT COUNT(*) FROM %s'
                               % self.table).fetchone()[0]  # nosec B608

    def __iter__(self):
        for (value,) in self.db.execute('SELECT value FROM %s ORDER BY value'
                                        % self.table).fetchall():  # nosec B608
            yield value

    def record(self, value, image):
        self.db.execute('UPDATE %s SET image = ?, found = 1 WHERE value = ?'
                        % self.table, (image, value))  # nosec B608

    def lookup(self, value):
        """(found, image id) for value."""
        row = self.db.execute('SELECT found, image FROM %s WHERE value = ?'
                              % self.table, (value,)).fetchone()  # nosec B608
        if not row:
            return False, None
        return bool(row[0]), row[1]


def _since(created_at_values, margin=SINCE_MARGIN):
    oldest = None
    for value in created_at_values:
        if not value:
            return None
        try:
            stamp = calendar.timegm(time.strptime(value[:19],
                                                  '%Y-%m-%dT%H:%M:%S'))
        except ValueError:
            return None
        oldest = stamp if oldest is None else min(oldest, stamp)
    if oldest is None:
        return None
    return time.strftime('%Y-%m-%dT%H:%M:%SZ',
                         time.gmtime(max(0, oldest - margin)))


class Plan(object):
    """Candidates, their sources and new values."""

    def __init__(self, index, audit, force=False, only=None):
        self.index = index
        self.audit = audit
        self.db = index.db
        self.force = force
        self.only = set(only or ())
        self.db.execute(
            'CREATE TABLE plan (image_id TEXT PRIMARY KEY, name TEXT, '
            'old TEXT, new TEXT, source TEXT, how TEXT, reason TEXT, '
            'action TEXT, created_at TEXT, instance_uuid TEXT, '
            'image_source TEXT)')
        self.servers = SqlSet(self.db, 'servers')

    # -- candidates ---------------------------------------------------
    def select(self):
        """Fill the plan with the candidates; return their number."""
        if self.only:
            kinds = verdicts.KINDS
        else:
            kinds = verdicts.PROBLEM_KINDS
        rows = []
        for finding in self.audit.findings(kinds):
            if self.only and finding['id'] not in self.only:
                continue
            has_value = bool(finding['base_image_ref'])
            action = 'pending'
            reason = None
            if has_value and not self.force:
                action = 'skip'
                reason = ('has base_image_ref %s (%s): not overwritten '
                          'without --force' % (finding['base_image_ref'],
                                               finding['kind']))
            row = self.index.get(finding['id'])
            rows.append((finding['id'], finding['name'],
                         finding['base_image_ref'], None, None, None,
                         reason, action, finding['created_at'],
                         finding['instance_uuid'], row.source))
            if action == 'pending' and finding['instance_uuid']:
                self.servers.add(finding['instance_uuid'])
            if len(rows) >= 500:
                self._insert(rows)
                rows = []
        self._insert(rows)
        self._name_bad_images()
        return self.count()

    def _name_bad_images(self):
        """Each --image id that is not a snapshot the run checks: not
        found, not a snapshot or backup, or outside the listing.
        """
        rows = []
        for image_id in sorted(self.only):
            row = self.index.get(image_id)
            if row is not None and row.listed and \
                    row.image_type in SNAPSHOT_TYPES:
                continue
            if row is None:
                reason = 'not found in Glance (a GET answered 404)'
            elif row.image_type not in SNAPSHOT_TYPES:
                reason = ('not a snapshot or backup (image_type %s)'
                          % (row.image_type or 'absent'))
            else:
                reason = ('not among the images listed (its owner is %s; '
                          'see --owner)' % row.owner)
            rows.append((image_id, row.name if row else None, None, None,
                         None, None, reason, BAD_IMAGE, None, None, None))
        self._insert(rows)

    def _insert(self, rows):
        if rows:
            self.db.executemany(
                'INSERT OR REPLACE INTO plan VALUES (?,?,?,?,?,?,?,?,?,?,?)',
                rows)

    def count(self, action=None):
        if action is None:
            return self.db.execute('SELECT COUNT(*) FROM plan').fetchone()[0]
        return self.db.execute('SELECT COUNT(*) FROM plan WHERE action = ?',
                               (action,)).fetchone()[0]

    # -- Nova ---------------------------------------------------------
    def lookup_servers(self, nova, progress=None, batch_threshold=None):
        if not len(self.servers):
            return 0
        since = _since(value for (value,) in self.db.execute(
            "SELECT created_at FROM plan WHERE action = 'pending' AND "
            "instance_uuid IS NOT NULL").fetchall())
        found = 0
        kwargs = {'since': since}
        if batch_threshold is not None:
            kwargs['batch_threshold'] = batch_threshold
        for uuid, server in nova.find_servers(self.servers, **kwargs):
            self.servers.record(uuid, server_image_id(server))
            found += 1
            if progress:
                progress.say('found %d of %d servers in Nova'
                             % (found, len(self.servers)))
        return found

    def look_up_sources(self, find_images):
        """Look up in Glance the images the servers ran (and the
        --source-property images) that the listing did not hold: a
        public base image of another project is the usual case.
        """
        wanted = set(value for (value,) in self.db.execute(
            'SELECT image FROM servers WHERE found = 1 AND image IS NOT '
            "NULL AND image != ''"))
        wanted.update(value for (value,) in self.db.execute(
            "SELECT image_source FROM plan WHERE action = 'pending' AND "
            'image_source IS NOT NULL'))
        return self.index.add_references(find_images, sorted(wanted))

    # -- values -------------------------------------------------------
    def resolve(self):
        cur = self.db.execute(
            "SELECT image_id, old, instance_uuid, image_source FROM plan "
            "WHERE action = 'pending'")
        updates = []
        for image_id, old, instance_uuid, image_source in cur.fetchall():
            updates.append(self._resolve_one(image_id, old, instance_uuid,
                                             image_source))
        self.db.executemany(
            'UPDATE plan SET new = ?, source = ?, how = ?, reason = ?, '
            'action = ? WHERE image_id = ?', updates)
        self._follow_plan()
        return self

    def _resolve_one(self, image_id, old, instance_uuid, image_source):
        source, how, reason = None, None, None
        if instance_uuid:
            found, server_image = self.servers.lookup(instance_uuid)
            if found and server_image:
                source, how = server_image, 'nova'
            elif found:
                reason = ('server %s is volume-backed: Nova names no image'
                          % instance_uuid)
            else:
                reason = ('server %s not found in Nova (purged, or in '
                          'another project: admin credentials see all)'
                          % instance_uuid)
        else:
            reason = 'no instance_uuid property: Nova cannot tell'
        if source is None and image_source:
            source, how, reason = image_source, 'source-property', None
        if source is None:
            return (None, None, None, reason, 'unresolved', image_id)
        row = self.index.get(source)
        if row is None:
            return (None, source, how,
                    'its source image %s does not exist in Glance (a GET '
                    'answered 404), so its own base_image_ref is unknown'
                    % source, 'unresolved', image_id)
        new = lineage.base_image_ref(source, {lineage.BASE_IMAGE_REF:
                                              row.base})
        if new == image_id:
            return (None, source, how,
                    'the server now runs this very snapshot (rebuilt '
                    'onto it): its root cannot be told', 'unresolved',
                    image_id)
        if new == old:
            return (new, source, how, 'already has this value', 'noop',
                    image_id)
        return (new, source, how, None, 'change', image_id)

    def _follow_plan(self):
        """A new value naming a snapshot fixed in this run takes its value
        (the rule applied in order), a few rounds at most.
        """
        for _round in range(verdicts.MAX_DEPTH):
            changed = self.db.execute(
                "UPDATE plan SET new = (SELECT p2.new FROM plan p2 "
                "WHERE p2.image_id = plan.new AND p2.action = 'change') "
                "WHERE action = 'change' AND new IN (SELECT image_id FROM "
                "plan WHERE action = 'change' AND new IS NOT NULL "
                "AND new != image_id)").rowcount
            if not changed:
                break
        self.db.execute(
            "UPDATE plan SET action = 'unresolved', new = NULL, reason = "
            "'its lineage leads back to itself' WHERE action = 'change' "
            "AND new = image_id")

    def rows(self, actions=None):
        sql = ('SELECT image_id, name, old, new, source, how, reason, '
               'action, instance_uuid FROM plan')
        params = ()
        if actions:
            sql += ' WHERE action IN (%s)' % ','.join('?' * len(actions))
            params = tuple(actions)
        sql += ' ORDER BY image_id'
        cur = self.db.cursor()
        cur.execute(sql, params)
        names = ('image_id', 'name', 'old', 'new', 'source', 'how',
                 'reason', 'action', 'instance_uuid')
        for values in cur:
            yield dict(zip(names, values))
