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


"""``pytest tests/`` says loudly what it did not run (issue 17, item 9: it
went green having run none of the Glance tier's tests and none of the
Nova tests, their conftests skipping silently).
"""

import os
import subprocess
import sys

import pytest

from nova_imgmeta import supported

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir,
                   os.pardir)


def _pytest(tmp_path, *paths):
    env = dict(os.environ,
               NOVA_IMGMETA_GLANCE_VENV=str(tmp_path / 'no-glance-venv'),
               PATH=os.path.dirname(sys.executable))
    env.pop('NOVA_IMGMETA_GLANCE_SERVER', None)
    proc = subprocess.Popen(
        [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider'] +
        list(paths), cwd=TOP, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    return proc.communicate()[0].decode('utf-8', 'replace')


def test_nova_tests_not_collected_are_named_with_their_tox_envs(tmp_path):
    oldest, newest = supported.lines()
    out = _pytest(tmp_path, 'tests/nova')
    assert 'NOT RUN: the real-Nova tests' in out, out
    assert 'Nova is not importable in this Python' in out
    assert 'tox -e nova-%s ... nova-%s' % (
        oldest.name.lower(), newest.name.lower()) in out.replace('\n', ' ')


@pytest.mark.skipif(sys.version_info < (3, 7),
                    reason='the Glance tier runs on Python 3.7 and later '
                           '(tox -e glance: 3.11)')
def test_glance_tests_skipped_are_counted_with_their_tox_envs(tmp_path):
    out = _pytest(tmp_path, 'tests/glance/test_glance_audit.py',
                  'tests/glance/test_glance_auth.py')
    assert 'NOT RUN: the Glance tier' in out, out
    assert 'skipped: no Glance venv' in out
    assert 'tox -e glance' in out and 'tox -e glance-15' in out
