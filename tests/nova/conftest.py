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

"""tests/nova holds the real-Nova tier's tests: tools/nova-tier/tier.py runs
them with stestr inside each series' own venv, where Nova is installed.
Where Nova cannot be imported, pytest collects none of them, and says so
loudly at the end (which tox environments run them), so that a green
``pytest tests/`` is not taken for a run of Nova's tests.
"""

import glob
import os

try:
    import nova  # noqa: F401
    WHY_NOT = None
except ImportError as exc:
    collect_ignore_glob = ['*']
    WHY_NOT = '%s: %s' % (type(exc).__name__, exc)

HERE = os.path.dirname(os.path.abspath(__file__))


def _tox_envs():
    """``nova-pike ... nova-victoria``: one tox env per line of MAP."""
    try:
        from nova_imgmeta import supported
        oldest, newest = supported.lines()
    except Exception:
        return 'nova-<line> (one per line of nova_imgmeta/patches/MAP)'
    return 'nova-%s ... nova-%s (one per line of nova_imgmeta/patches/MAP)' \
        % (oldest.name.lower(), newest.name.lower())


def pytest_terminal_summary(terminalreporter):
    if WHY_NOT is None:
        return
    modules = glob.glob(os.path.join(HERE, '*', 'test_*.py'))
    terminalreporter.section('NOT RUN: the real-Nova tests', sep='!',
                             red=True, bold=True)
    terminalreporter.write_line(
        '%d test module(s) of tests/nova were not collected: Nova is not '
        'importable in this Python (%s). They run inside each line\'s own '
        'Nova environment, patched: tox -e %s, all part of tools/run-tests '
        '(one: tools/run-tests nova-queens).'
        % (len(modules), WHY_NOT, _tox_envs()))
