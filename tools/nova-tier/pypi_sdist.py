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

"""Download a release's sdist from PyPI as a file, building nothing.

``pip download`` prepares an sdist's metadata with some setuptools, and no
one setuptools reads every OpenStack sdist: Nova 34.0.0's pyproject.toml
(a PEP 639 license string) needs setuptools 77 or later, which refuses the
``extras_require`` of Nova 21.0.0's setup.cfg. The tiers only need the
file: it is taken from the index's simple API (PEP 691 JSON, what pip
reads), checked against the index's sha256, and moved into place whole.

    pypi_sdist.py PROJECT VERSION DEST_DIR     print the path
"""

import hashlib
import json
import os
import sys
import tempfile
import time
import urllib.request

__all__ = ['NoSdist', 'SdistDownloadError', 'download', 'index_url']

#: the simple API's JSON form (PEP 691)
ACCEPT = 'application/vnd.pypi.simple.v1+json'


class SdistDownloadError(Exception):
    """The index could not be read or the file could not be fetched."""


class NoSdist(SdistDownloadError):
    """The index has no sdist of that release (a wheel only, or none)."""


def index_url():
    """The simple index pip would use (PIP_INDEX_URL, else PyPI's)."""
    return (os.environ.get('PIP_INDEX_URL') or
            'https://pypi.org/simple').rstrip('/')


def _get(url, accept=None, timeout=180, tries=3):
    headers = {'Accept': accept} if accept else {}
    for attempt in range(tries):
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.read()
        except OSError as exc:
            if attempt == tries - 1:
                raise SdistDownloadError('%s: %s' % (url, exc))
            time.sleep(2 ** attempt)


def _normalise(project):
    return project.lower().replace('_', '-').replace('.', '-')


def download(project, version, dest_dir):
    """Path of PROJECT-VERSION's sdist in dest_dir, fetched if missing."""
    listing = '%s/%s/' % (index_url(), _normalise(project))
    try:
        files = json.loads(_get(listing, ACCEPT).decode('utf-8'))['files']
    except (ValueError, KeyError) as exc:
        raise SdistDownloadError('%s: not a PEP 691 answer (%s)'
                                 % (listing, exc))
    names = set('%s-%s.tar.gz' % (form, version) for form in (
        project, _normalise(project), project.replace('-', '_'),
        _normalise(project).replace('-', '_')))
    found = [entry for entry in files if entry.get('filename') in names]
    if not found:
        raise NoSdist('%s %s: the index lists no sdist (%s)'
                      % (project, version, listing))
    entry = found[0]
    target = os.path.join(dest_dir, entry['filename'])
    if os.path.isfile(target):
        return target
    if not os.path.isdir(dest_dir):
        os.makedirs(dest_dir)
    url = urllib.request.urljoin(listing, entry['url'])
    data = _get(url)
    want = entry.get('hashes', {}).get('sha256')
    if want and hashlib.sha256(data).hexdigest() != want:
        raise SdistDownloadError('%s: sha256 differs from the index\'s'
                                 % url)
    handle, tmp = tempfile.mkstemp(prefix='.download-', dir=dest_dir)
    try:
        with os.fdopen(handle, 'wb') as out:
            out.write(data)
        os.rename(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1].strip())
    try:
        print(download(*sys.argv[1:]))
    except SdistDownloadError as exc:
        sys.exit('pypi_sdist: %s' % exc)
