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
"""nova_sdists: the newest PyPI release of each series of MAP; the one
Nova sdist downloader and the one interpreter finder (tools/find-python).
"""

import nova_sdists


def test_newest_release_of_each_series(tmpdir):
    tmpdir.join('MAP').write('16.0.0 16.1.8 pike\n17.0.0 17.0.13 queens\n'
                             '18.0.0 18.3.0 rocky\n')
    versions = ['34.0.0', '17.0.13', '17.0.9', '17.0.10', '16.1.8',
                '16.1.9.dev3', '16.2.0', '15.1.5', '17.0.14rc1']
    assert nova_sdists.newest_by_series(versions, str(tmpdir)) == {
        'pike': '16.1.8', 'queens': '17.0.13', 'rocky': None}


def test_several_rules_of_one_series(tmpdir):
    tmpdir.join('MAP').write('17.0.0 17.0.5 queens\n17.0.7 17.0.13 queens\n'
                             '17.0.6 17.0.6 queens-early\n')
    assert nova_sdists.newest_by_series(
        ['17.0.6', '17.0.4', '17.0.8'], str(tmpdir)) == {
            'queens': '17.0.8', 'queens-early': '17.0.6'}


# the one downloader -------------------------------------------------------

def _sdist(path, version):
    """A stand-in nova-VERSION.tar.gz holding nova-VERSION/PKG-INFO."""
    import io
    import tarfile
    data = ('Version: %s\n' % version).encode()
    with tarfile.open(path, 'w:gz') as tar:
        info = tarfile.TarInfo('nova-%s/PKG-INFO' % version)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def test_a_cached_sdist_is_not_downloaded_again(tmpdir, monkeypatch):
    _sdist(str(tmpdir.join('nova-17.0.13.tar.gz')), '17.0.13')
    monkeypatch.setattr(nova_sdists, '_pip', _no_pip)
    said = []
    assert nova_sdists.fetch('17.0.13', str(tmpdir), said.append) == \
        str(tmpdir.join('nova-17.0.13.tar.gz'))
    assert said == []


def _no_pip(*args, **kwargs):
    raise AssertionError('pip was run')


def test_download_lands_whole_or_not_at_all(tmpdir, monkeypatch):
    calls = []

    def download(project, version, dest):
        calls.append((project, version))
        if version == '29.0.0':
            return 1, '', ('pypi_sdist: nova 29.0.0: the index lists no '
                           'sdist (https://pypi.org/simple/nova/)')
        if version == '99.0.0':
            return 1, '', 'pypi_sdist: HTTP 503'
        _sdist('%s/nova-%s.tar.gz' % (dest, version), version)
        return 0, '%s/nova-%s.tar.gz' % (dest, version), ''

    monkeypatch.setattr(nova_sdists, '_download', download)
    monkeypatch.setattr(nova_sdists, '_pip', _no_pip)
    monkeypatch.setattr(nova_sdists, 'pip_python', lambda cache=None: None)
    said = []
    found = nova_sdists.fetch_all(['17.0.13', '29.0.0'], str(tmpdir), 2,
                                  said.append)
    assert found == [str(tmpdir.join('nova-17.0.13.tar.gz')), None]
    assert sorted(calls) == [('nova', '17.0.13'), ('nova', '29.0.0')]
    assert any('nova==29.0.0: PyPI serves no sdist' in line
               for line in said)
    try:
        nova_sdists.fetch('99.0.0', str(tmpdir), None)
    except nova_sdists.SdistError as exc:
        assert 'HTTP 503' in str(exc)
        assert 'put nova-99.0.0.tar.gz into' in str(exc)
    else:
        raise AssertionError('no SdistError')
    # nothing half-written: only the complete sdist (and no work directory)
    assert sorted(tmpdir.listdir()) == [tmpdir.join('nova-17.0.13.tar.gz')]


def test_other_projects_sdists(tmpdir, monkeypatch):
    """The cloud tier's Glance sdist comes through the same downloader."""
    calls = []

    def download(project, version, dest):
        calls.append('%s==%s' % (project, version))
        _sdist('%s/glance-15.0.2.tar.gz' % dest, '15.0.2')
        return 0, '', ''

    monkeypatch.setattr(nova_sdists, '_download', download)
    assert nova_sdists.fetch('15.0.2', str(tmpdir), None, 'glance') == \
        str(tmpdir.join('glance-15.0.2.tar.gz'))
    assert calls == ['glance==15.0.2']


# the one interpreter finder -----------------------------------------------

FIND_PYTHON = nova_sdists.FIND_PYTHON


def _find(*specs):
    import subprocess
    proc = subprocess.run([FIND_PYTHON] + list(specs),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True)
    return proc.returncode, proc.stdout.strip(), proc.stderr


def test_find_python_gives_the_version_asked_for():
    import subprocess
    import sys
    want = '%d.%d' % sys.version_info[:2]
    code, path, _err = _find(want)
    assert code == 0
    assert subprocess.check_output(
        [path, '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'],
        universal_newlines=True).strip() == want


def test_find_python_tries_the_next_spec():
    code, path, _err = _find('1.9', '3')
    assert code == 0 and path


def test_find_python_says_why_not():
    code, path, err = _find('1.9.7', '1.8')
    assert (code, path) == (2, '')
    assert 'no Python 1.9.7 1.8' in err and 'pyenv install 1.9.7' in err
    code, _path, err = _find('three')
    assert code == 2 and "'three' is not X.Y.Z, X.Y or X" in err
