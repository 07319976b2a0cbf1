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

"""A compact on-disk index of the image catalogue.

Listing 10,000 images must not keep 10,000 image dicts in memory: each
image is reduced to the few fields the lineage audit needs and stored in a
temporary SQLite file (SQLite's page cache is capped at a few MiB), so the
command's memory stays flat however large the catalogue is.

Images come from the listing (``listed``: the snapshots to check) or were
looked up because something names them (a base_image_ref, a server's
image) while the listing did not hold them: another project's public base
image under ``--owner``, for example. An id looked up and answered 404 is
recorded as missing: only those make a link "dangling".
"""

import os
import shutil
import sqlite3
import tempfile

from nova_imgmeta import lineage

SNAPSHOT_TYPES = ('snapshot', 'backup')
_COLUMNS = ('id', 'name', 'status', 'image_type', 'base', 'instance_uuid',
            'created_at', 'owner', 'source', 'listed')
#: rounds of look-ups for chains that leave the listing
MAX_ROUNDS = 64
_STRINGS = (type(u''), str)


class Row(object):
    __slots__ = _COLUMNS

    def __init__(self, values):
        for name, val in zip(_COLUMNS, values):
            setattr(self, name, val)


class ImageIndex(object):

    def __init__(self, directory=None, source_properties=()):
        self.source_properties = tuple(source_properties or ())
        #: True when the listing was filtered (--owner): images outside
        #: it are worth a batched search before one GET each
        self.filtered = False
        self._dir = tempfile.mkdtemp(prefix='nova-imgmeta-', dir=directory)
        self.path = os.path.join(self._dir, 'index.sqlite')
        self.db = sqlite3.connect(self.path)
        self.db.execute('PRAGMA journal_mode=OFF')
        self.db.execute('PRAGMA synchronous=OFF')
        self.db.execute('PRAGMA cache_size=-2048')  # KiB
        self.db.execute(
            'CREATE TABLE images (id TEXT PRIMARY KEY, name TEXT, '
            'status TEXT, image_type TEXT, base TEXT, instance_uuid TEXT, '
            'created_at TEXT, owner TEXT, source TEXT, listed INTEGER)')
        self.db.execute('CREATE INDEX images_base ON images (base)')
        self.db.execute('CREATE TABLE missing (id TEXT PRIMARY KEY)')
        self._pending = []

    def close(self):
        if self.db is not None:
            self.db.close()
            self.db = None
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def count(self):
        """The number of distinct images listed."""
        self.flush()
        return self.db.execute('SELECT COUNT(*) FROM images WHERE '
                               'listed = 1').fetchone()[0]

    def add(self, image, listed=True):
        """Add one image dict as Glance v2 returns it; ``listed`` False
        for an image looked up outside the listing.
        """
        base = image.get(lineage.BASE_IMAGE_REF)
        self._pending.append((
            image['id'], image.get('name'), image.get('status'),
            image.get('image_type'), base, image.get('instance_uuid'),
            image.get('created_at'), image.get('owner'),
            self._source(image), 1 if listed else 0))
        if len(self._pending) >= 500:
            self.flush()

    def _source(self, image):
        for key in self.source_properties:
            value = image.get(key)
            if value and isinstance(value, _STRINGS):
                return value
        return None

    def flush(self):
        if self._pending:
            # a listed row wins over a looked-up one, never the reverse
            listed = [row for row in self._pending if row[-1]]
            looked_up = [row for row in self._pending if not row[-1]]
            if listed:
                self.db.executemany('INSERT OR REPLACE INTO images VALUES '
                                    '(?,?,?,?,?,?,?,?,?,?)', listed)
            if looked_up:
                self.db.executemany('INSERT OR IGNORE INTO images VALUES '
                                    '(?,?,?,?,?,?,?,?,?,?)', looked_up)
            self._pending = []

    def unknown(self, extra_ids=()):
        """Ids named by a base_image_ref (or in ``extra_ids``) that are
        neither indexed nor known to be missing.
        """
        self.flush()
        found = set(value for (value,) in self.db.execute(
            "SELECT DISTINCT base FROM images WHERE base IS NOT NULL AND "
            "base != '' AND base NOT IN (SELECT id FROM images) AND "
            "base NOT IN (SELECT id FROM missing)"))
        for image_id in extra_ids:
            if image_id and self.get(image_id) is None and \
                    not self.is_missing(image_id):
                found.add(image_id)
        return sorted(found)

    def add_references(self, find_images, extra_ids=()):
        """Look up what the listing did not hold: every image a
        base_image_ref names (following chains) and ``extra_ids``.

        :param find_images: callable(ids) yielding (id, image or None),
            None meaning a GET answered 404 (``GlanceAPI.find_images``).
        :returns: the number of ids looked up.
        """
        looked_up = 0
        ids = self.unknown(extra_ids)
        for _round in range(MAX_ROUNDS):
            if not ids:
                break
            for image_id, image in find_images(ids, search=self.filtered):
                looked_up += 1
                if image is None:
                    self.db.execute('INSERT OR IGNORE INTO missing VALUES '
                                    '(?)', (image_id,))
                else:
                    self.add(image, listed=False)
            ids = self.unknown()
        return looked_up

    def is_missing(self, image_id):
        """True when a look-up of the id answered 404."""
        return self.db.execute('SELECT 1 FROM missing WHERE id = ?',
                               (image_id,)).fetchone() is not None

    def get(self, image_id):
        self.flush()
        cur = self.db.execute('SELECT * FROM images WHERE id = ?',
                              (image_id,))
        values = cur.fetchone()
        return Row(values) if values else None

    def snapshots(self):
        """Every snapshot or backup image listed, by id (lazy)."""
        self.flush()
        cur = self.db.cursor()
        cur.execute('SELECT * FROM images WHERE image_type IN (?, ?) '
                    'AND listed = 1 ORDER BY id', SNAPSHOT_TYPES)
        for values in cur:
            yield Row(values)

    def set_base(self, image_id, value):
        self.flush()
        self.db.execute('UPDATE images SET base = ? WHERE id = ?',
                        (value, image_id))
