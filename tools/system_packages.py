#!/usr/bin/env python3
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


"""The system packages of bindep.txt that a set of profiles needs here.

    tools/system_packages.py [--missing] [--file PATH] PROFILE...

Prints one package name a line: those of bindep.txt that the PROFILEs
need on this platform (``--missing``: only those not installed, asked of
dpkg-query or rpm). A small reader of OpenStack's bindep format, as
tools/run-tests needs it without installing bindep: a rule is a package
name with optional ``[selectors]`` (and version constraints, ignored);
``platform:X`` selectors and profile selectors are judged apart, each
group passing when it is empty, or when one of its positive selectors is
active and none of its ``!`` selectors is, and a rule applies when both
groups pass (as bindep does). Runs on Python 2.7 and 3 (the unit tests
import it).
"""

from __future__ import print_function

import argparse
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINDEP = os.path.join(TOP, 'bindep.txt')
_RULE = re.compile(r'^([A-Za-z0-9][A-Za-z0-9.+/-]*)\s*(?:\[([^\]]*)\])?')


def parse(text):
    """``[(package, [(positive, selector)])]`` of a bindep.txt text.

    :raises ValueError: a line that is no rule.
    """
    rules = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split('#', 1)[0].strip()
        if not line:
            continue
        match = _RULE.match(line)
        if not match:
            raise ValueError('bindep.txt:%d: not a rule: %r' % (number, line))
        selectors = [(not word.startswith('!'), word.lstrip('!'))
                     for word in (match.group(2) or '').split()]
        rules.append((match.group(1), selectors))
    return rules


def _passes(selectors, active):
    """None: no selector; else whether the group lets the rule through."""
    if not selectors:
        return None
    if any(not positive and name in active for positive, name in selectors):
        return False
    positives = [name for positive, name in selectors if positive]
    return not positives or any(name in active for name in positives)


def applies(selectors, active):
    """Whether a rule with ``selectors`` applies for ``active`` (the
    chosen profiles and this platform's ``platform:`` atoms).
    """
    platform = [s for s in selectors if s[1].startswith('platform:')]
    user = [s for s in selectors if not s[1].startswith('platform:')]
    votes = (_passes(platform, active), _passes(user, active))
    return False not in votes


def platform_atoms(os_release='/etc/os-release'):
    """``platform:`` atoms of this machine: the distribution's ID (and
    ID_LIKE) and its package manager (dpkg or rpm).
    """
    ids = []
    try:
        with open(os_release) as handle:
            for line in handle:
                key, _sep, value = line.strip().partition('=')
                if key in ('ID', 'ID_LIKE'):
                    ids.extend(value.strip('"\'').lower().split())
    except (IOError, OSError):
        pass
    atoms = set(ids)
    if atoms & set(['debian', 'ubuntu']):
        atoms.add('dpkg')
    if atoms & set(['rhel', 'centos', 'fedora', 'suse', 'opensuse']):
        atoms.add('rpm')
    return set('platform:' + atom for atom in atoms)


def packages(profiles, path=BINDEP, atoms=None):
    """The packages of ``path`` that ``profiles`` need on this platform."""
    with open(path) as handle:
        rules = parse(handle.read())
    active = set(profiles or ['default'])
    active |= platform_atoms() if atoms is None else set(atoms)
    found = []
    for package, selectors in rules:
        if applies(selectors, active) and package not in found:
            found.append(package)
    return found


def installed(package):
    """Whether ``package`` is installed; None when this cannot be told."""
    for command in (['dpkg-query', '-W', '-f', '${db:Status-Status}',
                     package], ['rpm', '-q', package]):
        try:
            proc = subprocess.Popen(command, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError:
            continue   # not this platform's tool
        out, _err = proc.communicate()
        if command[0] == 'dpkg-query':
            return proc.returncode == 0 and out.strip() == b'installed'
        return proc.returncode == 0
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('profiles', nargs='*', metavar='PROFILE')
    parser.add_argument('--missing', action='store_true',
                        help='only the packages not installed')
    parser.add_argument('--file', default=BINDEP, help='default: bindep.txt')
    args = parser.parse_args(argv)
    try:
        found = packages(args.profiles, args.file)
    except (IOError, OSError, ValueError) as exc:
        print('system_packages: %s' % exc, file=sys.stderr)
        return 2
    for package in found:
        if args.missing:
            state = installed(package)
            if state is None:
                print('system_packages: cannot tell whether %s is installed '
                      '(no dpkg-query or rpm)' % package, file=sys.stderr)
            if state:
                continue
        print(package)
    return 0


if __name__ == '__main__':
    sys.exit(main())
