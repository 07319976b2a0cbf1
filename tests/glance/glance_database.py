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

"""The database of the Glance tier's Glance: a SQLite file or a MariaDB.

SQLite (the default) needs nothing, but serves one writer at a time:
Glance with more than one gunicorn worker on it answers concurrent
writes with 500. A real cloud runs Glance on MySQL or MariaDB with
several workers; ``MariaDB`` here is a private mariadbd (Debian's
package) with its own data directory, socket and TCP port, run by
tools/cloud-tier/infra.py's ``MariaDB`` (the loopback cloud's) and
stopped by ``stop``. Its Python driver is PyMySQL (in the Glance tier's
venv, tools/glance-tier/requirements.txt).

Both offer what the tier and the benchmark need beside Glance's URL: a
DB-API connection, the columns of a table (read from the database, so
that Pike's schema and the current one both work) and the SQL of the
bulk seeding, one ``executemany`` per table (PyMySQL sends those as
multi-row INSERTs).
"""

import os
import secrets
import shutil
import socket
import sqlite3
import sys
import time

__all__ = ['KINDS', 'PROPERTY_COLUMNS', 'SQLite', 'MariaDB', 'free_port',
           'make', 'insert_sql', 'timestamp']

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))

#: image_properties' columns that the seeding fills
PROPERTY_COLUMNS = ('image_id', 'name', 'value', 'created_at',
                    'updated_at', 'deleted_at', 'deleted')


def insert_sql(table, columns, placeholder):
    """``INSERT INTO table (columns) VALUES (...)`` with the driver's
    placeholder (``?`` for sqlite3, ``%s`` for PyMySQL).
    """
    return 'INSERT INTO %s (%s) VALUES (%s)' % (
        table, ','.join(columns), ','.join([placeholder] * len(columns)))


def timestamp(stamp, fraction):
    """A DATETIME value as SQLAlchemy writes it: with microseconds when
    ``fraction`` (SQLite keeps them; Glance's marker pagination compares
    these strings), without on MySQL (its DATETIME columns hold whole
    seconds).
    """
    text = time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(stamp))
    if fraction:
        text += '.%06d' % (int(round(stamp * 1e6)) % 1000000)
    return text


def free_port():
    """A TCP port of 127.0.0.1 free now (the Glance server's too)."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class SQLite(object):
    """Glance's SQLite file (nothing to start or stop)."""

    kind = 'sqlite'
    placeholder = '?'
    #: seconds between seeded images' created_at (distinct, in order)
    time_step = 0.001

    def __init__(self, workdir=None, path=None):
        self.path = path or os.path.join(workdir, 'glance.sqlite')

    @property
    def url(self):
        return 'sqlite:///' + self.path

    def start(self):
        return self

    def stop(self):
        pass

    def connect(self):
        return sqlite3.connect(self.path, timeout=60)

    def pids(self):
        """The database's server processes (none: SQLite is a file)."""
        return []

    def columns(self, db, table):
        cursor = db.cursor()
        cursor.execute('PRAGMA table_info(%s)' % table)
        return [row[1] for row in cursor.fetchall()]


def _cloud_tier():
    """tools/cloud-tier's infra and layout modules."""
    path = os.path.join(REPO, 'tools', 'cloud-tier')
    if path not in sys.path:
        sys.path.insert(0, path)
    import infra
    import layout
    return infra, layout


class MariaDB(object):
    """A private mariadbd for Glance, under ``workdir``/mariadb."""

    kind = 'mariadb'
    placeholder = '%s'
    time_step = 1.0
    database = 'glance'

    def __init__(self, workdir):
        infra, layout = _cloud_tier()
        self.layout = layout.Layout('glance-tier', port_base=0, state=(
            os.path.join(workdir, 'mariadb')))
        self.layout.ports['mariadb'] = free_port()
        self.port = self.layout.ports['mariadb']
        self.password = secrets.token_hex(16)
        self.server = infra.MariaDB(self.layout,
                                    {'database': self.password})

    @property
    def url(self):
        return self.server.url(self.database)

    def start(self):
        for program in ('mariadbd', 'mariadb-install-db', 'mariadb'):
            if not shutil.which(program):
                raise RuntimeError(
                    '%s not found: install mariadb-server (bindep.txt, '
                    'profile cloud: apt-get install mariadb-server)'
                    % program)
        try:
            self.server.start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        import proc
        pid = proc.alive(self.layout, self.server.name)
        self.server.stop()
        if pid is not None:
            try:   # mariadbd is this process's child: reap it
                os.waitpid(pid, os.WNOHANG)
            except OSError:
                pass

    def pids(self):
        """mariadbd's pid while it runs."""
        import proc
        pid = proc.alive(self.layout, self.server.name)
        return [pid] if pid else []

    def connect(self):
        import pymysql
        return pymysql.connect(host='127.0.0.1', port=self.port,
                               user='openstack', password=self.password,
                               database=self.database, charset='utf8',
                               autocommit=False)

    def columns(self, db, table):
        cursor = db.cursor()
        cursor.execute('SELECT column_name FROM information_schema.columns '
                       'WHERE table_schema = DATABASE() AND table_name = %s '
                       'ORDER BY ordinal_position', (table,))
        return [row[0] for row in cursor.fetchall()]


#: --glance-db's choices, the first the default
KINDS = ('sqlite', 'mariadb')


def make(kind, workdir):
    """The database of ``kind`` (one of KINDS) for a Glance in workdir."""
    if kind == 'sqlite':
        return SQLite(workdir)
    if kind == 'mariadb':
        return MariaDB(workdir)
    raise ValueError('no Glance database of kind %r (one of %s)'
                     % (kind, ', '.join(KINDS)))
