"""A compact on-disk index of the image catalogue.

Listing 10,000 images must not keep 10,000 image dicts in memory: each
image is reduced to the few fields the lineage audit needs and stored in a
temporary SQLite file (SQLite's page cache is capped at a few MiB), so the
command's memory stays flat however large the catalogue is.
"""

import os
import shutil
import sqlite3
import tempfile

from nova_imgmeta import lineage

SNAPSHOT_TYPES = ('snapshot', 'backup')
_COLUMNS = ('id', 'name', 'status', 'image_type', 'base', 'instance_uuid',
            'created_at', 'owner', 'source')


class Row(object):
    __slots__ = _COLUMNS

    def __init__(self, values):
        for name, val in zip(_COLUMNS, values):
            setattr(self, name, val)


class ImageIndex(object):

    def __init__(self, directory=None, source_properties=()):
        self.source_properties = tuple(source_properties or ())
        self._dir = tempfile.mkdtemp(prefix='nova-imgmeta-', dir=directory)
        self.path = os.path.join(self._dir, 'index.sqlite')
        self.db = sqlite3.connect(self.path)
        self.db.execute('PRAGMA journal_mode=OFF')
        self.db.execute('PRAGMA synchronous=OFF')
        self.db.execute('PRAGMA cache_size=-2048')  # KiB
        self.db.execute(
            'CREATE TABLE images (id TEXT PRIMARY KEY, name TEXT, '
            'status TEXT, image_type TEXT, base TEXT, instance_uuid TEXT, '
            'created_at TEXT, owner TEXT, source TEXT)')
        self.db.execute('CREATE INDEX images_base ON images (base)')
        self.count = 0
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

    def add(self, image):
        """Add one image dict as Glance v2 returns it."""
        base = image.get(lineage.BASE_IMAGE_REF)
        self._pending.append((
            image['id'], image.get('name'), image.get('status'),
            image.get('image_type'), base, image.get('instance_uuid'),
            image.get('created_at'), image.get('owner'),
            self._source(image)))
        self.count += 1
        if len(self._pending) >= 500:
            self.flush()

    def _source(self, image):
        for key in self.source_properties:
            if image.get(key):
                return image[key]
        return None

    def flush(self):
        if self._pending:
            self.db.executemany(
                'INSERT OR REPLACE INTO images VALUES (?,?,?,?,?,?,?,?,?)',
                self._pending)
            self._pending = []

    def get(self, image_id):
        self.flush()
        cur = self.db.execute('SELECT * FROM images WHERE id = ?',
                              (image_id,))
        values = cur.fetchone()
        return Row(values) if values else None

    def snapshots(self):
        """Every snapshot or backup image, by id (a lazy iterator)."""
        self.flush()
        cur = self.db.cursor()
        cur.execute('SELECT * FROM images WHERE image_type IN (?, ?) '
                    'ORDER BY id', SNAPSHOT_TYPES)
        for values in cur:
            yield Row(values)

    def set_base(self, image_id, value):
        self.flush()
        self.db.execute('UPDATE images SET base = ? WHERE id = ?',
                        (value, image_id))
