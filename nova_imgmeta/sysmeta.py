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

"""How Nova stores image properties in instance system metadata.

Nova keeps each image property of an instance as ``image_<name>`` in
``instance.system_metadata`` with its value converted to text and cut to
255 bytes of UTF-8 (``nova.utils.get_system_metadata_from_image`` with
``nova.utils.safe_truncate``); a snapshot inherits them back through
``nova.utils.get_image_from_system_metadata``.
"""

from nova_imgmeta import compat

__all__ = ['PREFIX', 'MAX_VALUE_BYTES', 'MIN_CHARS_AT_LIMIT',
           'to_sysmeta_value', 'at_limit']

#: ``nova.utils.SM_IMAGE_PROP_PREFIX``
PREFIX = 'image_'
#: Nova truncates a value to this many bytes of UTF-8.
MAX_VALUE_BYTES = 255
# A UTF-8 character takes at most 4 bytes: shorter texts cannot be at the
# limit, which spares encoding short values.
MIN_CHARS_AT_LIMIT = MAX_VALUE_BYTES // 4
# safe_truncate drops a multi-byte character that the cut split, leaving
# between 252 and 255 bytes.
_MIN_BYTES_AT_LIMIT = MAX_VALUE_BYTES - 3
_HAS_ISASCII = hasattr(compat.text_type, 'isascii')   # Python 3.7 and later


def to_sysmeta_value(value):
    """Convert ``value`` the way Nova does before storing it.

    Text, cut to at most 255 bytes of UTF-8 without splitting a character.
    """
    if isinstance(value, compat.binary_type):
        value = value.decode('utf-8', 'replace')
    elif not isinstance(value, compat.text_type):
        value = compat.text_type(value)
    encoded = value.encode('utf-8')
    if len(encoded) <= MAX_VALUE_BYTES:
        return value
    return encoded[:MAX_VALUE_BYTES].decode('utf-8', 'ignore')


def at_limit(value):
    """Tell whether ``value`` may have been cut short by Nova.

    True for a string of exactly 255 bytes of UTF-8, or of 252 to 254 bytes
    when it holds a multi-byte character (the cut may have split one and
    Nova then drops the partial character). Non-string values are never at
    the limit. A value that was exactly that long in the image is
    indistinguishable from a cut one.
    """
    if isinstance(value, compat.text_type):
        chars = len(value)
        if chars < MIN_CHARS_AT_LIMIT or chars > MAX_VALUE_BYTES:
            return False   # too short, or more bytes than Nova keeps
        if _HAS_ISASCII and value.isascii():   # O(1) on Python 3.7+
            return chars == MAX_VALUE_BYTES
        size = len(value.encode('utf-8'))
        multibyte = size != chars
    elif isinstance(value, compat.binary_type):
        size = len(value)
        try:
            value.decode('ascii')
            multibyte = False
        except UnicodeDecodeError:
            multibyte = True
    else:
        return False
    if size == MAX_VALUE_BYTES:
        return True
    return multibyte and _MIN_BYTES_AT_LIMIT <= size < MAX_VALUE_BYTES
