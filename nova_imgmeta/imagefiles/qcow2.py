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

"""Read the backing file name of a qcow2 image from its header (no
qemu-img).

The qcow2 header (big-endian) starts with the magic ``QFI\\xfb``, the
version (2 or 3), backing_file_offset (u64, 0 = none) and
backing_file_size (u32); the name is stored at that offset, as bytes. A
header that says qcow2 but cannot be followed raises
:class:`CorruptHeader`: whoever asks which base file a disk uses must then
answer "unknown", never "none". What the name means (a path, or a
pseudo-protocol such as ``json:{...}``) is
:mod:`nova_imgmeta.imagefiles.backing`'s business.
"""

import os
import struct

from nova_imgmeta.exceptions import NovaImgmetaError

__all__ = ['CorruptHeader', 'backing_name']

MAGIC = b'QFI\xfb'
V2_HEADER_LENGTH = 72
MAX_BACKING_NAME = 1023  # qemu's limit


class CorruptHeader(NovaImgmetaError):
    """A qcow2 header whose backing file cannot be read."""


def backing_name(path):
    """The backing file name (bytes, as stored) of the qcow2 image at
    ``path``, or None when it has none or is not qcow2 at all (a raw disk).

    :raises CorruptHeader: a qcow2 header that cannot be followed.
    :raises EnvironmentError: the file cannot be read.
    """
    with open(path, 'rb') as handle:
        header = handle.read(V2_HEADER_LENGTH)
        if header[:4] != MAGIC:
            return None
        if len(header) < V2_HEADER_LENGTH:
            raise CorruptHeader('%s: qcow2 header cut short (%d bytes)'
                                % (path, len(header)))
        version, offset, size = struct.unpack('>IQI', header[4:20])
        if version not in (2, 3):
            raise CorruptHeader('%s: unknown qcow2 version %d'
                                % (path, version))
        if not offset or not size:
            return None
        if size > MAX_BACKING_NAME:
            raise CorruptHeader('%s: backing file name of %d bytes (qemu '
                                'allows %d)' % (path, size,
                                                MAX_BACKING_NAME))
        end = os.fstat(handle.fileno()).st_size
        if offset + size > end:
            raise CorruptHeader('%s: backing file name at offset %d, past '
                                'the end of the file (%d bytes)'
                                % (path, offset, end))
        handle.seek(offset)
        return handle.read(size)
