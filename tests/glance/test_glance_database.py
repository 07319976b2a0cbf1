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

"""The Glance tier's databases without a server: the seeding's SQL for
SQLite and MariaDB.
"""

import os
import sqlite3

import pymysql.cursors
import pytest

import glance_database
import glance_server

REPO = glance_database.REPO


class RecordingMariaDB(glance_database.MariaDB):
    """glance_database.MariaDB's SQL, recorded by a stand-in connection
    (no mariadbd).
    """

    def __init__(self):
        self.calls = []
        self.committed = False

    def connect(self):
        return _Connection(self)


class _Connection(object):

    def __init__(self, database):
        self.database = database

    def cursor(self):
        return _Cursor(self.database)

    def commit(self):
        self.database.committed = True

    def close(self):
        pass


class _Cursor(object):

    def __init__(self, database):
        self.database = database
        self.rows = []

    def execute(self, sql, args=None):
        self.database.calls.append(('execute', sql, args))
        if 'information_schema.columns' in sql:
            self.rows = [('id',), ('name',), ('created_at',),
                         ('visibility',)]

    def executemany(self, sql, rows):
        self.database.calls.append(('executemany', sql, list(rows)))

    def fetchall(self):
        return self.rows


def test_insert_sql_placeholders():
    assert glance_database.insert_sql('images', ('id', 'name'), '?') == \
        'INSERT INTO images (id,name) VALUES (?,?)'
    assert glance_database.insert_sql('images', ('id', 'name'), '%s') == \
        'INSERT INTO images (id,name) VALUES (%s,%s)'


def test_mariadb_seeding_is_one_multirow_insert_per_table():
    """PyMySQL turns executemany into multi-row INSERTs only for SQL its
    pattern matches (else one round trip per row: minutes for 10,000).
    """
    database = RecordingMariaDB()
    glance_server.bulk_insert(database, [
        {'id': 'i1', 'name': 'base', 'owner': 'p'},
        {'id': 'i2', 'name': 'snap', 'owner': 'p',
         'properties': {'image_type': 'snapshot', 'base_image_ref': 'i1'}}])
    many = [call for call in database.calls if call[0] == 'executemany']
    assert [call[1] for call in many] == [
        'INSERT INTO images (id,name,created_at,visibility) '
        'VALUES (%s,%s,%s,%s)',
        'INSERT INTO image_properties (image_id,name,value,created_at,'
        'updated_at,deleted_at,deleted) VALUES (%s,%s,%s,%s,%s,%s,%s)']
    for _kind, sql, _rows in many:
        assert pymysql.cursors.RE_INSERT_VALUES.match(sql), sql
    images, props = many[0][2], many[1][2]
    assert [row[0] for row in images] == ['i1', 'i2']
    # whole seconds (MySQL's DATETIME), one apart and in order
    assert len(images[0][2]) == len('2026-01-01 00:00:00')
    assert images[0][2] < images[1][2]
    assert sorted(row[1:3] for row in props) == [
        ('base_image_ref', 'i1'), ('image_type', 'snapshot')]
    assert database.committed


def test_sqlite_seeding_keeps_microseconds(tmp_path):
    path = str(tmp_path / 'glance.sqlite')
    db = sqlite3.connect(path)
    db.execute('CREATE TABLE images (id, name, created_at, owner)')
    db.execute('CREATE TABLE image_properties (image_id, name, value, '
               'created_at, updated_at, deleted_at, deleted)')
    db.commit()
    glance_server.bulk_insert(path, [{'id': 'a', 'owner': 'p'},
                                     {'id': 'b', 'owner': 'p',
                                      'properties': {'k': 'v'}}])
    rows = db.execute('SELECT id, created_at FROM images ORDER BY id'
                      ).fetchall()
    assert [row[0] for row in rows] == ['a', 'b']
    assert len(rows[0][1]) == len('2026-01-01 00:00:00.000000')
    assert rows[0][1] < rows[1][1]
    assert db.execute('SELECT image_id, name, value FROM image_properties'
                      ).fetchall() == [('b', 'k', 'v')]
    db.close()


def test_mariadb_is_private_and_not_started(tmp_path):
    """Its own state directory under the workdir, a port of its own, a
    PyMySQL URL; nothing runs until start().
    """
    database = glance_database.make('mariadb', str(tmp_path))
    assert database.layout.state == str(tmp_path / 'mariadb')
    assert database.url == (
        'mysql+pymysql://openstack:%s@127.0.0.1:%d/glance?charset=utf8'
        % (database.password, database.port))
    assert not os.path.exists(database.layout.state)
    database.stop()   # nothing to stop: no error


def test_make_unknown_kind(tmp_path):
    with pytest.raises(ValueError):
        glance_database.make('postgresql', str(tmp_path))
