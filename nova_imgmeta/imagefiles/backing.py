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


"""What a qcow2 backing file name says about the file an overlay needs.

QEMU opens a backing name whose first ``:`` comes before any ``/``
(``json:{...}``, ``nbd:...``, ``file:...``, ``rbd:...``) through that
pseudo-protocol's driver (qemu's ``path_has_protocol``); any other name is
a path, a relative one taken from the overlay's directory. ``cache-path``
can only match paths against Nova's image cache: every other name, and one
that is not UTF-8 text or holds a NUL byte, is *uninterpretable*, and the
verdict must then be "unknown": an operator deletes base files on "not in
use".
"""

import os
import re

from nova_imgmeta.exceptions import NovaImgmetaError

__all__ = ['Uninterpretable', 'local_path', 'shown']

# qemu's path_has_protocol() on POSIX: a ':' before any '/'
_PROTOCOL = re.compile(u'^([^:/]*):')
_SHOWN_BYTES = 160


class Uninterpretable(NovaImgmetaError):
    """A backing file name that cannot be followed to a local file."""


def shown(raw):
    """``raw`` (bytes) as ASCII text for a message: printable ASCII as is,
    other bytes as ``\\xNN``; long names cut short.
    """
    data = bytearray(raw[:_SHOWN_BYTES])
    text = u''.join(u'%c' % byte if 32 <= byte < 127 and byte != 92
                    else u'\\x%02x' % byte for byte in data)
    if len(raw) > _SHOWN_BYTES:
        text += u'... (%d bytes)' % len(raw)
    return u"'%s'" % text


def local_path(raw, disk):
    """The path that backing file name ``raw`` (bytes, from the header of
    the overlay ``disk``) names, normalised; a native ``str``.

    :raises Uninterpretable: saying why the name is not a path.
    """
    try:
        name = raw.decode('utf-8')
    except UnicodeDecodeError:
        raise Uninterpretable(u'backing file name %s is not UTF-8 text'
                              % shown(raw))
    if u'\x00' in name:
        raise Uninterpretable(u'backing file name %s holds a NUL byte'
                              % shown(raw))
    protocol = _PROTOCOL.match(name)
    if protocol:
        raise Uninterpretable(
            u'backing file name %s is not a path: qemu opens it through its '
            u'"%s:" pseudo-protocol, which cache-path cannot follow'
            % (shown(raw), shown(protocol.group(1).encode('utf-8'))[1:-1]))
    if str is bytes:   # Python 2.7: paths are native (byte) strings
        name = name.encode('utf-8')
        disk = disk.encode('utf-8') if not isinstance(disk, bytes) else disk
    if not os.path.isabs(name):
        name = os.path.join(os.path.dirname(disk), name)
    return os.path.normpath(name)
