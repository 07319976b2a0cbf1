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

"""Glance's checksums of a file: md5 (``checksum``) and, for the
multihash fields, ``os_hash_algo``'s digest (sha512 by default), computed
in one streamed pass."""

import hashlib

CHUNK_SIZE = 65536


def file_hashes(path, algorithms=('md5', 'sha512'), chunk_size=CHUNK_SIZE):
    """Return ({algorithm: hexdigest}, size in bytes) for the file."""
    hashers = dict((name, hashlib.new(name)) for name in algorithms)
    size = 0
    with open(path, 'rb') as handle:
        while True:
            chunk = handle.read(chunk_size)
            if not chunk:
                break
            size += len(chunk)
            for hasher in hashers.values():
                hasher.update(chunk)
    return dict((name, h.hexdigest()) for name, h in hashers.items()), size


def compare(digests, size, image):
    """Compare with a Glance image dict: a list of (field, ours, glance,
    same) for each field Glance has a value for.
    """
    rows = []
    if image.get('checksum'):
        rows.append(('checksum', digests.get('md5'), image['checksum']))
    algo = image.get('os_hash_algo')
    if algo and image.get('os_hash_value'):
        rows.append(('os_hash_value', digests.get(algo),
                     image['os_hash_value']))
    if image.get('size') is not None:
        rows.append(('size', size, image['size']))
    return [(field, ours, theirs, ours == theirs)
            for field, ours, theirs in rows]
