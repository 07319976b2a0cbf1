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

"""qcow2 headers for tests, and the header extension that names the
backing file's format (to compare our reading with qemu-img's)."""

import struct

MAGIC = b'QFI\xfb'
EXT_BACKING_FORMAT = 0xE2792ACA
EXT_END = 0
V2_HEADER_LENGTH = 72


def make_header(backing=None, version=3, backing_format=None,
                cluster_bits=16, size=1 << 30, backing_offset=None):
    """Bytes of a minimal qcow2 header; ``backing`` is text (written as
    UTF-8) or bytes; ``backing_offset`` overrides where the header says the
    backing file name is.
    """
    header_length = 104 if version >= 3 else V2_HEADER_LENGTH
    extensions = b''
    if backing_format:
        data = backing_format.encode('utf-8')
        extensions += struct.pack('>II', EXT_BACKING_FORMAT, len(data))
        extensions += data + b'\0' * ((8 - len(data) % 8) % 8)
    extensions += struct.pack('>II', EXT_END, 0)
    if isinstance(backing, bytes):   # bytes as they are (non-UTF-8...)
        name = backing
    else:
        name = backing.encode('utf-8') if backing else b''
    if backing_offset is None:
        backing_offset = header_length + len(extensions) if name else 0
    fields = struct.pack('>4sIQIIQIIQQIIQ', MAGIC, version, backing_offset,
                         len(name), cluster_bits, size, 0, 0, 0, 0, 0, 0, 0)
    if version >= 3:
        fields += struct.pack('>QQQII', 0, 0, 0, 4, header_length)
    return fields + extensions + name


def backing_format(path):
    """The backing format named by the header extensions, or None."""
    with open(path, 'rb') as handle:
        header = handle.read(104)
        version, = struct.unpack('>I', header[4:8])
        limit, = struct.unpack('>Q', header[8:16])
        start = V2_HEADER_LENGTH
        if version >= 3:
            start, = struct.unpack('>I', header[100:104])
        handle.seek(start)
        position = start
        for _ in range(64):
            if limit and position + 8 > limit:
                return None
            head = handle.read(8)
            if len(head) < 8:
                return None
            ext_type, length = struct.unpack('>II', head)
            if ext_type == EXT_END:
                return None
            data = handle.read(length)
            padding = (8 - length % 8) % 8
            handle.read(padding)
            position += 8 + length + padding
            if ext_type == EXT_BACKING_FORMAT:
                return data.decode('utf-8')
    return None
