# Copyright nova-imgmeta contributors.
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
"""Temporary work directories for the packaging checks, in memory if we can.

The checks unpack several Nova trees (about 4,000 files each) and
virtualenvs. On a disk mounted with online discard, only removing the
trees of one series took a minute on the CI machine; in /dev/shm (tmpfs)
well under a second. So: $TMPDIR when it is set, else /dev/shm when it
has 2 GiB free, else the system's default.
"""

import os
import tempfile

__all__ = ['make']

ROOM = 2 * 1024 ** 3


def _root():
    if os.environ.get('TMPDIR'):
        return None
    try:
        fs = os.statvfs('/dev/shm')
    except OSError:
        return None
    if fs.f_bavail * fs.f_frsize >= ROOM and os.access('/dev/shm', os.W_OK):
        return '/dev/shm'
    return None


def make(prefix):
    """A new directory; the caller removes it."""
    return tempfile.mkdtemp(prefix=prefix, dir=_root())
