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

"""The cloud's software: virtualenvs and wheels, built once, reused.

Under $NOVA_TIER_CACHE/cloud-SERIES/ (never in the checkout):

    nova/pristine, nova/patched   the Nova sdist unpacked, and unpacked then
                                  patched by ``nova-imgmeta patch apply``
                                  (tools/nova-tier's env.Env does both)
    wheels/nova-{pristine,patched}/  Nova built from each tree
    venv/           the line's Python: Nova's requirements, Keystone,
                    Neutron, Glance (but for Queens), openstack-placement
                    (Stein on), uWSGI, python-openstackclient, the fake
                    virt driver; all pinned by the line's upper-constraints.
                    Nova itself is installed by ``tools/cloud up`` from the
                    wheel of the mode asked (patched or pristine).
    glance-venv/    Queens only: Pike's Glance with Pike's pins
    tempest-venv/   Tempest, pinned by the line's constraints
    logs/           one log per pip run

Each venv is rebuilt only when its inputs change (a stamp file).
"""

import hashlib
import json
import os
import re
import shutil
import sys
import tarfile

import components

sys.path.insert(0, os.path.join(components.REPO, 'tools', 'nova-tier'))
sys.path.insert(0, os.path.join(components.REPO, 'tools', 'packaging'))
import env as tier_env  # noqa: E402
from env import read_text  # noqa: E402
from env import write_text  # noqa: E402
import nova_sdists  # noqa: E402  (the one sdist downloader)

__all__ = ['Build', 'BuildError']

BUILDER = 1
HERE = components.HERE
REPO = components.REPO
CONSTRAINTS_DIR = os.path.join(REPO, 'tests', 'nova', 'constraints')
FAKEVIRT = os.path.join(HERE, 'fakevirt')
MARIADB_WORDS = os.path.join(HERE, 'mariadb_words.py')

BuildError = tier_env.TierError


def _sha(*paths):
    digest = hashlib.sha256()
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    if name.endswith('.pyc'):
                        continue
                    full = os.path.join(root, name)
                    digest.update(os.path.relpath(full, path).encode())
                    with open(full, 'rb') as handle:
                        digest.update(handle.read())
        else:
            with open(path, 'rb') as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:16]


class Build(object):
    """The software of one series' cloud."""

    def __init__(self, comps):
        self.comps = comps
        self.series = comps.series
        self.nova = tier_env.Env(comps.line)
        self.root = os.path.join(self.nova.cache, 'cloud-' + self.series)
        # the trees and logs of tools/nova-tier's Env, moved under our root
        # so that the real-Nova tier's own trees are never touched
        nova_root = os.path.join(self.root, 'nova')
        version = self.nova.version
        self.nova.root = nova_root
        self.nova.pristine = os.path.join(nova_root, 'pristine',
                                          'nova-' + version)
        self.nova.patched = os.path.join(nova_root, 'patched',
                                         'nova-' + version)
        self.nova.logs = os.path.join(self.root, 'logs')
        self.nova.venv = os.path.join(self.root, 'venv')
        self.logs = self.nova.logs
        self.venv = self.nova.venv
        self.glance_venv = (os.path.join(self.root, 'glance-venv')
                            if comps.glance_apart else self.venv)
        self.tempest_venv = os.path.join(self.root, 'tempest-venv')
        self.wheels = os.path.join(self.root, 'wheels')
        self.constraints = os.path.join(
            CONSTRAINTS_DIR, comps.line.constraints)

    def log(self, message):
        tier_env.log(self.series, message)

    def run(self, cmd, log_name=None, **kwargs):
        return self.nova.run(cmd, log_name=log_name, **kwargs)

    def bin(self, name, venv=None):
        return os.path.join(venv or self.venv, 'bin', name)

    # ------------------------------------------------------------------ all

    def ensure(self):
        """Everything the cloud and its tests need; idempotent."""
        self.nova.ensure_bootstrap()
        self.nova.ensure_sdist()
        self.ensure_trees()
        self.ensure_venv()
        if self.comps.glance_apart:
            self.ensure_glance_venv()
        self.ensure_glance_paste()
        self.ensure_keystone_paste()
        if self.comps.glance_policy:
            self._etc_from_sdist('glance', self.comps.glance, 'policy.json',
                                 required=True)
        self.ensure_nova_wheels()

    # ---------------------------------------------------------------- trees

    def _patch_inputs(self):
        return _sha(os.path.join(REPO, 'nova_imgmeta', 'patches'),
                    os.path.join(REPO, 'nova_imgmeta', 'patching'),
                    self.nova.sdist)

    def ensure_trees(self):
        stamp_file = os.path.join(self.nova.root, '.stamp')
        stamp = 'builder=%d inputs=%s' % (BUILDER, self._patch_inputs())
        if (read_text(stamp_file) == stamp and
                os.path.isdir(self.nova.patched) and
                os.path.isdir(self.nova.pristine)):
            return
        self.log('Nova %s: pristine tree, and the tree patched by '
                 'nova-imgmeta patch apply' % self.nova.version)
        shutil.rmtree(self.nova.root, ignore_errors=True)
        self.nova.build_trees()
        shutil.rmtree(self.wheels, ignore_errors=True)
        write_text(stamp_file, stamp)

    # ----------------------------------------------------------------- venvs

    def _create_venv(self, path, python_version, log_name):
        python = tier_env.find_python(python_version)
        shutil.rmtree(path, ignore_errors=True)
        if python_version.startswith('2.'):
            self.run([self.nova.bootstrap + '/bin/virtualenv', '-q', '-p',
                      python, path], log_name=log_name)
        else:
            self.run([python, '-m', 'venv', path], log_name=log_name)
            saved = self.nova.venv
            self.nova.venv = path      # _upgrade_old_pip works on .python
            try:
                self.nova._upgrade_old_pip()
            finally:
                self.nova.venv = saved

    def _pip_install(self, venv, what, log_name, args):
        progress = tier_env.PipProgress(self.series, what)
        self.run([self.bin('python', venv), '-m', 'pip', 'install'] +
                 tier_env.PIP + list(args), log_name=log_name,
                 feed=progress.feed)
        progress.done()

    def _stamped(self, venv, stamp):
        return (os.path.exists(self.bin('python', venv)) and
                read_text(os.path.join(venv, '.cloud-stamp')) == stamp)

    def venv_requirements(self):
        """What the cloud's main venv holds besides Nova's requirements."""
        comps = self.comps
        wanted = ['keystone==' + comps.keystone,
                  'neutron==' + comps.neutron,
                  components.UWSGI, 'PyMySQL', 'python-openstackclient',
                  'python-memcached']
        if not comps.glance_apart:
            wanted.append('glance==' + comps.glance)
        if comps.placement:
            wanted.append(comps.placement)
        return wanted

    def ensure_venv(self):
        nova_requirements = os.path.join(self.nova.patched,
                                         'requirements.txt')
        stamp = json.dumps({
            'builder': BUILDER, 'python': self.comps.python,
            'inputs': _sha(self.constraints, nova_requirements,
                           MARIADB_WORDS),
            'wanted': self.venv_requirements()}, sort_keys=True)
        if self._stamped(self.venv, stamp):
            return
        self.log('the cloud\'s Python %s venv: Nova %s\'s requirements, %s; '
                 'pinned by %s' % (self.comps.python, self.nova.version,
                                   ', '.join(self.venv_requirements()),
                                   os.path.basename(self.constraints)))
        self._create_venv(self.venv, self.comps.python, 'cloud-venv')
        self._pip_install(self.venv, 'pip', 'cloud-pip', [
            '-c', self.constraints, '-r', nova_requirements] +
            self.venv_requirements())
        self.install_mariadb_words(self.venv)
        write_text(os.path.join(self.venv, '.cloud-stamp'), stamp)

    def ensure_glance_venv(self):
        glance_line = self.comps.glance_line
        constraints = os.path.join(CONSTRAINTS_DIR, glance_line.constraints)
        wanted = ['glance==' + self.comps.glance, 'PyMySQL',
                  'python-memcached']
        stamp = json.dumps({'builder': BUILDER, 'python': glance_line.python,
                            'inputs': _sha(constraints, MARIADB_WORDS),
                            'wanted': wanted},
                           sort_keys=True)
        if self._stamped(self.glance_venv, stamp):
            return
        self.log('Glance %s in a Python %s venv of its own, pinned by %s'
                 % (self.comps.glance, glance_line.python,
                    os.path.basename(constraints)))
        self._create_venv(self.glance_venv, glance_line.python,
                          'glance-venv')
        self._pip_install(self.glance_venv, 'glance pip', 'glance-pip',
                          ['-c', constraints] + wanted)
        self.install_mariadb_words(self.glance_venv)
        write_text(os.path.join(self.glance_venv, '.cloud-stamp'), stamp)

    def install_mariadb_words(self, venv):
        """mariadb_words.py and its .pth line into the venv's site
        packages (see that module: MariaDB's SYSTEM keyword).
        """
        _code, out = self.run([self.bin('python', venv), '-c',
                               'import sysconfig; '
                               'print(sysconfig.get_paths()["purelib"])'])
        site = out.strip().splitlines()[-1]
        shutil.copyfile(MARIADB_WORDS, os.path.join(site,
                                                    'mariadb_words.py'))
        write_text(os.path.join(site, 'nova_imgmeta_cloud_mariadb.pth'),
                   'import mariadb_words\n')

    def ensure_glance_paste(self):
        """Glance's paste file is in its sdist only (not installed)."""
        self._etc_from_sdist('glance', self.comps.glance,
                             'glance-api-paste.ini', required=True)

    def ensure_keystone_paste(self):
        """Keystone up to Queens runs a paste pipeline; Pike's wheel does
        not install its keystone-paste.ini (Queens' does), so it comes
        from the sdist. From Rocky on (Flask) there is none: nothing.
        """
        installed = os.path.join(self.venv, 'etc', 'keystone',
                                 'keystone-paste.ini')
        if not os.path.exists(installed):
            self._etc_from_sdist('keystone', self.comps.keystone,
                                 'keystone-paste.ini', required=False)

    def etc_file(self, project, name):
        """The etc/ file taken from ``project``'s sdist, or None."""
        path = os.path.join(self.root, 'etc-' + project, name)
        return path if os.path.exists(path) else None

    def _etc_from_sdist(self, project, version, name, required):
        target = os.path.join(self.root, 'etc-' + project, name)
        stamp = target + '.version'
        if read_text(stamp) == version and (os.path.exists(target) or
                                            not required):
            return
        self.log('%s %s\'s %s from its sdist' % (project, version, name))
        try:
            sdist = nova_sdists.fetch(version, cache=self.nova.sdists,
                                      log=self.log, project=project)
        except nova_sdists.SdistError as exc:
            raise BuildError(str(exc))
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers()
                       if m.name.endswith('/etc/' + name)]
            data = (tar.extractfile(members[0]).read().decode()
                    if members else None)
        if data is None:
            if required:
                raise BuildError('%s %s: no etc/%s in %s'
                                 % (project, version, name, sdist))
            if os.path.exists(target):
                os.unlink(target)
        else:
            write_text(target, data)
        write_text(stamp, version)

    def tempest_constraints(self):
        """The line's constraints without their own tempest pin."""
        path = os.path.join(self.root, 'tempest-constraints.txt')
        with open(self.constraints) as handle:
            kept = [line for line in handle
                    if not re.match(r'tempest\s*=', line, re.IGNORECASE)]
        write_text(path, ''.join(kept))
        return path

    def ensure_tempest_venv(self):
        constraints = self.tempest_constraints()
        wanted = ['tempest==' + self.comps.tempest]
        stamp = json.dumps({'builder': BUILDER,
                            'python': self.comps.tempest_python,
                            'inputs': _sha(constraints), 'wanted': wanted},
                           sort_keys=True)
        if self._stamped(self.tempest_venv, stamp):
            return
        self.log('Tempest %s in a Python %s venv, pinned by %s'
                 % (self.comps.tempest, self.comps.tempest_python,
                    os.path.basename(self.constraints)))
        self._create_venv(self.tempest_venv, self.comps.tempest_python,
                          'tempest-venv')
        self._pip_install(self.tempest_venv, 'tempest pip', 'tempest-pip',
                          ['-c', constraints] + wanted)
        write_text(os.path.join(self.tempest_venv, '.cloud-stamp'), stamp)

    # ---------------------------------------------------------------- wheels

    def nova_wheel(self, mode):
        folder = os.path.join(self.wheels, 'nova-' + mode)
        if os.path.isdir(folder):
            for name in os.listdir(folder):
                if name.endswith('.whl'):
                    return os.path.join(folder, name)
        return None

    def ensure_nova_wheels(self):
        code, _out = self.run([self.bin('python'), '-c', 'import wheel'],
                              check=False)
        if code:    # ``python3 -m venv`` seeds pip and setuptools only
            self.pip('install', '-c', self.constraints, 'wheel',
                     log_name='pip-wheel')
        for mode, tree in (('pristine', self.nova.pristine),
                           ('patched', self.nova.patched)):
            if self.nova_wheel(mode):
                continue
            self.log('building the Nova %s wheel of the %s tree'
                     % (self.nova.version, mode))
            folder = os.path.join(self.wheels, 'nova-' + mode)
            work = folder + '.part'
            shutil.rmtree(work, ignore_errors=True)
            self.run([self.bin('python'), '-m', 'pip', 'wheel',
                      '--disable-pip-version-check', '--no-deps',
                      '--no-build-isolation', '-w', work, tree],
                     log_name='wheel-nova-' + mode)
            shutil.rmtree(folder, ignore_errors=True)
            os.rename(work, folder)

    def nova_imgmeta_wheel(self):
        """Build this checkout's wheel (every time: the code may change)."""
        source = self.nova.package_copy()
        folder = os.path.join(self.wheels, 'nova-imgmeta')
        shutil.rmtree(folder, ignore_errors=True)
        self.run([self.nova.bootstrap + '/bin/python', '-m', 'pip', 'wheel',
                  '--disable-pip-version-check', '--no-deps',
                  '--no-build-isolation', '-w', folder, source],
                 log_name='wheel-nova-imgmeta')
        shutil.rmtree(source, ignore_errors=True)
        for name in os.listdir(folder):
            if name.endswith('.whl'):
                return os.path.join(folder, name)
        raise BuildError('no nova-imgmeta wheel was built in %s' % folder)

    # ---------------------------------------------------------- Nova's mode

    def pip(self, *args, **kwargs):
        return self.run([self.bin('python'), '-m', 'pip'] + list(args) +
                        ['--disable-pip-version-check'], **kwargs)

    def installed(self, name):
        """The version of distribution ``name`` in the venv, or None."""
        code, out = self.run(
            [self.bin('python'), '-c',
             'import pkg_resources, sys\n'
             'try:\n'
             '    print(pkg_resources.get_distribution(sys.argv[1]).version)\n'
             'except pkg_resources.DistributionNotFound:\n'
             '    print("-")', name], check=False)
        version = out.strip().splitlines()[-1] if out.strip() else '-'
        return None if code or version == '-' else version

    def install_mode(self, pristine):
        """Nova of the mode, and nova-imgmeta (patched only), as operators
        install them: the wheel with pip, nothing editable. Test plugins
        left over by an earlier run are removed.
        """
        mode = 'pristine' if pristine else 'patched'
        self.log('installing Nova %s (%s wheel)%s'
                 % (self.nova.version, mode,
                    '' if pristine else ' and nova-imgmeta (its wheel)'))
        self.pip('uninstall', '-y', 'nova-imgmeta',
                 'nova-imgmeta-cloud-policies', 'nova-imgmeta-cloud-virt',
                 log_name='pip-uninstall',
                 check=False)
        self.pip('install', '--no-deps', '--force-reinstall',
                 self.nova_wheel(mode), log_name='pip-nova-' + mode)
        # the hypervisor stand-in, into nova/virt/ (fakevirt/setup.py)
        self.pip('install', '--no-deps', '--force-reinstall', FAKEVIRT,
                 log_name='pip-fake-virt')
        if not pristine:
            wheel = self.nova_imgmeta_wheel()
            self.pip('install', wheel, log_name='pip-nova-imgmeta')
        return mode
