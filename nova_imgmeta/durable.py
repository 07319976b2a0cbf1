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

"""Low-level writes that must reach the disk whole: the two journals
(:mod:`nova_imgmeta.catalogue.fix_journal` of backfill and undo,
:mod:`nova_imgmeta.patching.transaction_journal` of the patch command)
share them, so that both handle short writes and directory syncs alike.
"""

import logging
import os

LOG = logging.getLogger(__name__)

__all__ = ['fsync_dir', 'write_all']


def write_all(fd, data):
    """Write all of data to fd: one write(2) when the kernel takes it all
    (appended lines then never interleave), more only if it took part.
    """
    while data:
        data = data[os.write(fd, data):]


def fsync_dir(directory):
    """fsync a directory, so that a file created or renamed in it stays
    after a crash; a no-op where directories cannot be opened or synced
    (some network filesystems, not POSIX).
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
