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
"""The newest Nova sdist of each patch series, from PyPI, kept in a cache.

The list of versions comes from PyPI (``pip index versions nova``), so a
new point release is picked up without an edit; nova_imgmeta/patches/MAP
says which series serves which. Downloaded sdists are kept as
``CACHE/nova-VERSION.tar.gz`` (the same names as
tools/check-patch-sdists.sh uses, so one cache serves both) and never
downloaded again.
"""

import os
import re
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), 'nova-tier'))

from nova_imgmeta import patching  # noqa: E402
import pypi_sdist  # noqa: E402

__all__ = ['SdistError', 'default_cache', 'pypi_versions', 'newest_by_series',
           'fetch', 'extract']


class SdistError(Exception):
    """PyPI or the cache could not give us an sdist; the message says why."""


def default_cache():
    return os.environ.get('NOVA_SDIST_CACHE') or os.path.join(
        os.path.expanduser('~'), '.cache', 'nova-imgmeta', 'sdists')


def _pip(args):
    cmd = [sys.executable, '-m', 'pip', '--disable-pip-version-check',
           '--no-color'] + args
    proc = subprocess.run(cmd, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)
    # This machine's pip configuration names index directories that do not
    # exist: pip says so once per request. That is noise, not an error.
    noise = re.compile(r"^WARNING: (Location '.*' is ignored|"
                       r"pip index is currently an experimental command)")
    err = '\n'.join(line for line in proc.stderr.splitlines()
                    if not noise.match(line) and
                    not line.startswith('It may be removed'))
    return proc.returncode, proc.stdout, err


def pypi_versions():
    """Every release version of nova that PyPI lists, as strings."""
    code, out, err = _pip(['index', 'versions', 'nova',
                           '--ignore-requires-python'])
    match = re.search(r'^Available versions: (.*)$', out, re.M)
    if code != 0 or not match:
        raise SdistError('cannot list the nova versions on PyPI '
                         '(pip index versions nova):\n%s%s' % (out, err))
    return [v.strip() for v in match.group(1).split(',') if v.strip()]


def newest_by_series(versions, patches_dir=None):
    """{series: newest version of `versions` that MAP gives that series}.

    Every series of MAP is a key; its value is None when PyPI has no
    release of it.
    """
    newest = {}
    for first, last, name in patching.load_map(patches_dir):
        newest.setdefault(name, None)
        for text in versions:
            parsed = patching.parse_version(text)
            if parsed is None or not first <= parsed <= last:
                continue
            best = newest[name]
            if best is None or parsed > patching.parse_version(best):
                newest[name] = text
    return newest


def fetch(version, cache=None):
    """Path of nova-VERSION.tar.gz in the cache, downloaded if missing."""
    cache = cache or default_cache()
    target = os.path.join(cache, 'nova-%s.tar.gz' % version)
    if os.path.isfile(target) and tarfile.is_tarfile(target):
        return target
    if not os.path.isdir(cache):
        os.makedirs(cache)
    print('downloading nova==%s from PyPI into %s' % (version, cache),
          flush=True)
    try:
        return pypi_sdist.download('nova', version, cache)
    except pypi_sdist.SdistDownloadError as exc:
        raise SdistError('cannot download nova==%s from PyPI: %s'
                         % (version, exc))


def extract(sdist, dest):
    """Unpack an sdist under dest; return its top directory (nova-X.Y.Z)."""
    with tarfile.open(sdist) as tar:
        tops = set(member.name.split('/', 1)[0] for member in tar)
        if len(tops) != 1:
            raise SdistError('%s: expected one top directory, found %s'
                             % (sdist, ', '.join(sorted(tops))))
        if hasattr(tarfile, 'data_filter'):
            tar.extractall(dest, filter='data')
        else:
            tar.extractall(dest)
    return os.path.join(dest, tops.pop())
