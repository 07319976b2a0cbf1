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

"""Nova trees from git commits, laid out as pip installs them from git.

openstack-ansible installs Nova from a pinned commit, vendors build it from
their branch tips: pip builds it from a git checkout, and pbr writes the
version it computes for the commit into the metadata (``nova.egg-info/
PKG-INFO`` of ``pip install -e``, ``nova-V.dist-info/METADATA`` of a wheel
built from git). This module makes such trees from a Nova git repository:
``git archive`` of the files the series touch and Nova detection reads,
plus that metadata with pbr's version (``pbr_version``).

The repository: ``$NOVA_GIT_DIR``, else /work/.mirror/openstack+nova/repo
(bare or not). Without it the tests using it skip, saying why and how to get
one. The pins are in nova-git-trees.txt beside this file (made with
``python -m tests.unit.gittree OSA_GIT_DIR``, see ``main``).
"""

from __future__ import print_function

import io
import os
import re
import subprocess
import sys
import tarfile

__all__ = ['DEFAULT_GIT_DIR', 'git_dir', 'skip_reason', 'pbr_version',
           'make_tree', 'Row', 'load_rows', 'expected_series', 'LINES']

DEFAULT_GIT_DIR = '/work/.mirror/openstack+nova/repo'
ROWS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                         'nova-git-trees.txt')

# The release lines the series serve: first release, and for the lines
# with two series the commit that decides between them (on the line's
# stable branch; a tree that contains it gets the second series). MAP's
# boundaries are these commits' first releases (test_patching_git checks
# that against every release tag).
LINES = {
    16: ('pike', '16.0.0', None, 'pike', None),
    17: ('queens', '17.0.0', None, 'queens', None),
    # "Share snapshot image membership with instance owner": the context
    # argument of _initialize_instance_snapshot_metadata (18.2.2).
    18: ('rocky', '18.0.0', '6ca6f6fce6', 'rocky-pre-18.2.2', 'rocky'),
    19: ('stein', '19.0.0', None, 'stein', None),
    # "Update image_base_image_ref during rebuild" (upstream's fix of bug
    # 1893618): on stable/train after 20.6.1, only in train-eol.
    20: ('train', '20.0.0', '8a01a58a60', 'train', 'train-eol'),
    # the same fix on stable/ussuri (21.2.1).
    21: ('ussuri', '21.0.0', '560414036d', 'ussuri-pre-21.2.1', 'ussuri'),
    22: ('victoria', '22.0.0', None, 'victoria', None),
}

_SEMVER_RE = re.compile(
    r'^(\d+)\.(\d+)(?:\.(\d+))?(?:\.0(a|b|rc)(\d+)|(a|b|rc)(\d+))?$')


def git_dir():
    """The Nova repository to use, or None."""
    path = os.environ.get('NOVA_GIT_DIR') or DEFAULT_GIT_DIR
    if os.path.isdir(os.path.join(path, '.git')):
        path = os.path.join(path, '.git')
    try:
        _git(path, 'rev-parse', '--verify', '-q', '16.0.0^{commit}')
    except (OSError, subprocess.CalledProcessError):
        return None
    return path


def skip_reason():
    return ('no Nova git repository at $NOVA_GIT_DIR or %s: these tests '
            'build Nova trees from openstack-ansible\'s pinned commits and '
            'the *-eol tags. Get one with "git clone --mirror '
            'https://opendev.org/openstack/nova nova.git" and set '
            'NOVA_GIT_DIR to it' % DEFAULT_GIT_DIR)


def _git(git_dir_path, *args, **kwargs):
    cmd = ['git', '--git-dir', git_dir_path] + list(args)
    return subprocess.check_output(cmd, stderr=subprocess.PIPE, **kwargs)


def is_ancestor(git_dir_path, ancestor, commit):
    proc = subprocess.Popen(['git', '--git-dir', git_dir_path, 'merge-base',
                             '--is-ancestor', ancestor, commit],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.communicate()
    if proc.returncode not in (0, 1):
        raise RuntimeError('git merge-base --is-ancestor %s %s failed'
                           % (ancestor, commit))
    return proc.returncode == 0


# ------------------------------------------------------------------- pbr

class _SemVer(object):
    """pbr's SemanticVersion, as far as Nova's tags need it."""

    def __init__(self, major, minor, patch, pre_type=None, pre=None):
        self.key = (major, minor, patch,
                    # a release sorts after its pre-releases
                    (1, '', 0) if pre_type is None else (0, pre_type, pre))
        self.major, self.minor, self.patch = major, minor, patch
        self.pre_type, self.pre = pre_type, pre

    @classmethod
    def parse(cls, tag):
        match = _SEMVER_RE.match(tag.replace('-', '.'))
        if not match:
            return None
        major, minor, patch = (int(match.group(1)), int(match.group(2)),
                               int(match.group(3) or 0))
        pre_type = match.group(4) or match.group(6)
        pre = match.group(5) or match.group(7)
        return cls(major, minor, patch, pre_type,
                   int(pre) if pre else None)

    def increment(self, minor=False, major=False):
        if self.pre_type:
            pre_type, pre, patch = self.pre_type, self.pre + 1, self.patch
        else:
            pre_type, pre, patch = None, None, self.patch + 1
        new_minor = self.minor
        if minor:
            new_minor, patch, pre_type, pre = self.minor + 1, 0, None, None
        new_major = self.major
        if major:
            new_major, new_minor, patch, pre_type, pre = (
                self.major + 1, 0, 0, None, None)
        return _SemVer(new_major, new_minor, patch, pre_type, pre)

    def string(self, dev=None):
        text = '%d.%d.%d' % (self.major, self.minor, self.patch)
        if self.pre_type:
            text += '.0%s%d' % (self.pre_type, self.pre)
        if dev:
            text += '.dev%d' % dev
        return text


def pbr_version(git_dir_path, commit):
    """The version pbr gives a build of Nova from a checkout of commit.

    As pbr.packaging._get_version_from_git does it (Nova's setup.cfg sets
    no version): a commit with a version tag is that version; otherwise
    ``git log --decorate=full`` from the commit, in its order, is read
    until the first commit carrying a version tag (the highest if several;
    tags such as ``rocky-eol`` are not versions); the number of log lines
    before it is the dev count, and the version is that tag incremented
    (the patch number; the pre-release number of an rc or beta tag; minor
    or major when a commit since says ``Sem-Ver: feature``, ``deprecation``
    or ``api-break``), e.g. 18.2.1 + 15 lines -> 18.2.2.dev15.
    test_patching_git checks it against pbr itself.
    """
    proc = subprocess.Popen(
        ['git', '--git-dir', git_dir_path, 'log', '--decorate=full',
         '--format=%h%x00%d', commit], stdout=subprocess.PIPE)
    tag, distance = None, 0
    try:
        for row, line in enumerate(proc.stdout):
            refs = line.decode('utf-8', 'replace').rstrip('\n').split(
                '\x00', 1)[-1]
            found = [_SemVer.parse(name.split(', ')[0].strip(' ()'))
                     for name in refs.split('refs/tags/')[1:]]
            found = [version for version in found if version is not None]
            if found:
                tag = max(found, key=lambda version: version.key)
                distance = row
                break
    finally:
        proc.stdout.close()
        proc.kill()
        proc.wait()
    if tag is None:
        raise RuntimeError('no version tag behind %s' % commit)
    if distance == 0:
        return tag.string()
    spec = '%s..%s' % (_tag_name(git_dir_path, commit, tag), commit)
    bodies = _git(git_dir_path, 'log', '--pretty=%B', spec).decode(
        'utf-8', 'replace')
    symbols = set()
    for line in bodies.split('\n'):
        line = line.lower().strip()
        if line.startswith('sem-ver:'):
            symbols.update(s.strip() for s in line[8:].split(','))
    minor = 'feature' in symbols or 'deprecation' in symbols
    return tag.increment(minor=minor, major='api-break' in symbols).string(
        distance)


def _tag_name(git_dir_path, commit, version):
    """The tag (as git spells it) of version behind commit."""
    for name in (version.string(), version.string().replace('.0rc', 'rc')):
        try:
            _git(git_dir_path, 'rev-parse', '--verify', '-q', name)
            return name
        except subprocess.CalledProcessError:
            continue
    raise RuntimeError('cannot find the tag of %s' % version.string())


# ------------------------------------------------------------- the trees

def make_tree(git_dir_path, commit, version, paths, target,
              layout='wheel'):
    """The files of paths at commit under target, plus Nova's metadata.

    layout 'wheel': nova-VERSION.dist-info/METADATA (pip install from git:
    a wheel built, then installed); 'develop': nova.egg-info/PKG-INFO (pip
    install -e). Returns target.
    """
    wanted = [path for path in _git(
        git_dir_path, 'ls-tree', '-r', '--name-only', commit, '--',
        *paths).decode('utf-8').splitlines()]
    data = _git(git_dir_path, 'archive', '--format=tar', commit, '--',
                *wanted)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            dest = os.path.join(target, member.name)
            if not os.path.isdir(os.path.dirname(dest)):
                os.makedirs(os.path.dirname(dest))
            with io.open(dest, 'wb') as handle:
                handle.write(tar.extractfile(member).read())
            os.chmod(dest, member.mode & 0o7777)
    headers = 'Metadata-Version: 2.1\nName: nova\nVersion: %s\n' \
        'Summary: Cloud computing fabric controller\n\n' % version
    if layout == 'wheel':
        meta = os.path.join(target, 'nova-%s.dist-info' % version,
                            'METADATA')
    else:
        meta = os.path.join(target, 'nova.egg-info', 'PKG-INFO')
    os.makedirs(os.path.dirname(meta))
    with io.open(meta, 'w', encoding='utf-8') as handle:
        handle.write(u'' + headers)
    return target


# ------------------------------------------------------------- the pins

class Row(object):
    """A line of nova-git-trees.txt."""

    def __init__(self, source, commit, version, expected):
        self.source = source        # osa:18.1.9, tag:rocky-eol
        self.commit = commit
        self.version = version      # pbr's
        self.expected = expected    # a series, or "-": out of the lines'
        #                             releases (a development commit)

    def __repr__(self):
        return '%s %s %s %s' % (self.source, self.commit[:10], self.version,
                                self.expected)


def load_rows(path=ROWS_FILE):
    rows = []
    with io.open(path, encoding='utf-8') as handle:
        for line in handle:
            line = line.split('#', 1)[0].strip()
            if line:
                rows.append(Row(*line.split()))
    return rows


def expected_series(git_dir_path, commit, version):
    """The series a commit should get, by history alone; '-' if none.

    The line is the major of pbr's version; a commit before the line's
    first release (its development) is out of what the series serve.
    """
    major = int(version.split('.')[0])
    if major not in LINES:
        return '-'
    _line, first, marker, before, after = LINES[major]
    if not is_ancestor(git_dir_path, first, commit):
        return '-'
    if marker is None or not is_ancestor(git_dir_path, marker, commit):
        return before
    return after


def _osa_pins(osa_dir):
    """[(osa tag, nova commit)] of openstack-ansible 16.x to 22.x and eol.

    The pin is nova_git_install_branch, in playbooks/defaults/repo_packages/
    openstack_services.yml in every release of those lines (a SHA, or a
    tag such as victoria-em in the last ones).
    """
    tags = _git(osa_dir, 'tag', '-l').decode('utf-8').split()
    wanted = [tag for tag in tags if re.match(r'^(1[6-9]|2[0-2])\.', tag)]
    wanted += ['%s-eol' % line for line, _f, _m, _b, _a in
               (LINES[major] for major in sorted(LINES))
               if '%s-eol' % line in tags]
    pins = []
    for tag in sorted(wanted, key=_tag_key):
        text = _git(osa_dir, 'show', '%s:playbooks/defaults/repo_packages/'
                    'openstack_services.yml' % tag).decode('utf-8')
        match = re.search(r'^nova_git_install_branch:\s*(\S+)', text,
                          re.MULTILINE)
        if match:
            pins.append((tag, match.group(1)))
    return pins


def _tag_key(tag):
    parts = re.split(r'[.-]', tag)
    return [(0, int(part), '') if part.isdigit() else (1, 0, part)
            for part in parts]


def main(argv=None):
    """python -m tests.unit.gittree OSA_GIT_DIR > tests/unit/nova-git-trees.txt

    Every openstack-ansible 16.x-22.x tag's Nova pin and Nova's *-eol,
    *-em and victoria-eom tags of Pike to Victoria, with pbr's version
    and the expected series.
    """
    argv = sys.argv[1:] if argv is None else argv
    nova = git_dir()
    if len(argv) != 1 or nova is None:
        print(main.__doc__, file=sys.stderr)
        return 2
    sources = [('osa:' + tag, pin) for tag, pin in _osa_pins(argv[0])]
    for major in sorted(LINES):
        line = LINES[major][0]
        for suffix in ('em', 'eol', 'eom'):
            tag = '%s-%s' % (line, suffix)
            try:
                _git(nova, 'rev-parse', '--verify', '-q', tag)
            except subprocess.CalledProcessError:
                continue
            sources.append(('tag:' + tag, tag))
    print('# Nova trees from git: openstack-ansible pins and branch tips.')
    print('# Made by "python -m tests.unit.gittree OSA_GIT_DIR" (see '
          'tests/unit/gittree.py): source, Nova')
    print('# commit, the version pbr gives it, the series it should get '
          '("-": a commit of a')
    print('# line\'s development, before its first release).')
    for source, ref in sources:
        commit = _git(nova, 'rev-parse', '%s^{commit}' % ref).decode(
            'ascii').strip()
        version = pbr_version(nova, commit)
        print('%s %s %s %s' % (source, commit, version,
                               expected_series(nova, commit, version)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
