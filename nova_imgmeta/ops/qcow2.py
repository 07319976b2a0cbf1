"""Read the backing file of a qcow2 image from its header (no qemu-img).

The qcow2 header (big-endian): magic ``QFI\\xfb``, version (2 or 3),
backing_file_offset (u64, 0 = none), backing_file_size (u32) ... A version
3 header gives its length at byte 100; header extensions follow the header
(type u32, length u32, data padded to 8 bytes); type 0xE2792ACA holds the
backing file's format.
"""

import struct

MAGIC = b'QFI\xfb'
EXT_BACKING_FORMAT = 0xE2792ACA
EXT_END = 0
V2_HEADER_LENGTH = 72
MAX_BACKING_NAME = 1023  # qemu's limit


class NotQcow2(ValueError):
    pass


class Qcow2Info(object):

    def __init__(self, version, backing_file=None, backing_format=None):
        self.version = version
        self.backing_file = backing_file
        self.backing_format = backing_format

    def __repr__(self):
        return '<Qcow2Info v%d backing=%r fmt=%r>' % (
            self.version, self.backing_file, self.backing_format)


def _decode(raw):
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return raw.decode('latin-1')


def read_info(path):
    """Parse the header of the qcow2 file at path; NotQcow2 if it isn't."""
    with open(path, 'rb') as handle:
        header = handle.read(104)
        if len(header) < V2_HEADER_LENGTH or header[:4] != MAGIC:
            raise NotQcow2('%s is not a qcow2 image' % path)
        version, = struct.unpack('>I', header[4:8])
        if version not in (2, 3):
            raise NotQcow2('%s: unknown qcow2 version %d' % (path, version))
        offset, = struct.unpack('>Q', header[8:16])
        size, = struct.unpack('>I', header[16:20])
        backing = None
        if offset and size:
            if size > MAX_BACKING_NAME:
                raise NotQcow2('%s: backing file name too long' % path)
            handle.seek(offset)
            backing = _decode(handle.read(size))
        if version >= 3 and len(header) >= 104:
            header_length, = struct.unpack('>I', header[100:104])
        else:
            header_length = V2_HEADER_LENGTH
        backing_format = _read_backing_format(handle, header_length, offset)
    return Qcow2Info(version, backing, backing_format)


def _read_backing_format(handle, start, limit):
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
            return _decode(data)
    return None


def backing_file(path):
    """The backing file name of a qcow2 image, or None; None also for a
    file that is not qcow2 (a raw disk)."""
    try:
        return read_info(path).backing_file
    except NotQcow2:
        return None


def make_header(backing=None, version=3, backing_format=None,
                cluster_bits=16, size=1 << 30):
    """Bytes of a minimal qcow2 header (for tests and fixtures)."""
    header_length = 104 if version >= 3 else V2_HEADER_LENGTH
    extensions = b''
    if backing_format:
        data = backing_format.encode('utf-8')
        extensions += struct.pack('>II', EXT_BACKING_FORMAT, len(data))
        extensions += data + b'\0' * ((8 - len(data) % 8) % 8)
    extensions += struct.pack('>II', EXT_END, 0)
    name = backing.encode('utf-8') if backing else b''
    backing_offset = header_length + len(extensions) if name else 0
    fields = struct.pack('>4sIQIIQIIQQIIQ', MAGIC, version, backing_offset,
                         len(name), cluster_bits, size, 0, 0, 0, 0, 0, 0, 0)
    if version >= 3:
        fields += struct.pack('>QQQII', 0, 0, 0, 4, header_length)
    return fields + extensions + name
