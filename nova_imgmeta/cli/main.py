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

"""Entry point of the ``nova-imgmeta`` command.

Each sub-command lives in its own module under ``nova_imgmeta.cli`` and
exposes ``register(subparsers)``; the parser here only wires them together,
so that ``nova-imgmeta --help`` never imports an OpenStack client.
"""

from __future__ import print_function

import argparse
import importlib
import sys

__all__ = ['main', 'build_parser']

# (module under nova_imgmeta.cli, in the order --help lists them)
COMMAND_MODULES = (
    'check_config',
    'patch',
    'audit',
    'backfill',
    'undo',
    'checksum',
    'cache_path',
)


def build_parser():
    from nova_imgmeta import supported
    parser = argparse.ArgumentParser(
        prog='nova-imgmeta',
        description='Check, patch and repair image metadata for '
                    'OpenStack Nova %s.' % supported.range_text())
    subparsers = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name in COMMAND_MODULES:
        importlib.import_module('nova_imgmeta.cli.' + name).register(
            subparsers)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, 'func', None)
    if func is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        print('nova-imgmeta: interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())
