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

"""MariaDB 10.3+ words that SQLAlchemy before 1.4 does not quote.

MariaDB 10.3 made ``SYSTEM`` a reserved word (system-versioned tables);
Debian 12 ships MariaDB 10.11. Keystone's Queens migration 033 adds a
column named ``system`` to ``application_credential``, and SQLAlchemy 1.1
to 1.3 (the pins of Pike to Victoria) write it unquoted: ``ALTER TABLE
application_credential ADD system VARCHAR(64)`` is a syntax error there.
SQLAlchemy 1.4 quotes it (its MariaDB reserved words). tools/cloud copies
this module and a ``.pth`` line importing it into the cloud's virtualenvs:
when SQLAlchemy's MySQL dialect is first imported, the word joins its
reserved words, so that it is quoted -- nothing else changes, and nothing
is imported before it is needed. Python 2.7 and 3.
"""

import sys

WORDS = ('system',)
TARGET = 'sqlalchemy.dialects.mysql.base'


class _Finder(object):
    """A PEP 302 finder that adds WORDS once TARGET is loaded."""

    def find_module(self, name, path=None):
        if name != TARGET:
            return None
        return self

    def load_module(self, name):
        sys.meta_path.remove(self)
        __import__(name)
        module = sys.modules[name]
        module.RESERVED_WORDS.update(WORDS)
        return module


def install():
    if TARGET in sys.modules:
        sys.modules[TARGET].RESERVED_WORDS.update(WORDS)
    elif not any(isinstance(f, _Finder) for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())


install()
