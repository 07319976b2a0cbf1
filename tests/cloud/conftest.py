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

"""Tests of the loopback cloud tier, run against a live cloud.

``tools/cloud-tier/tier.py`` brings a cloud up (``tools/cloud SERIES up``,
then ``up --pristine``) and runs pytest here with
``NOVA_IMGMETA_CLOUD_SERIES`` and ``NOVA_IMGMETA_CLOUD_STATE``. Each test
says which cloud it needs with ``@pytest.mark.cloud('patched')`` or
``'pristine'``; the others are deselected (counted in the summary), never
skipped. Without a cloud the run fails: it never passes vacuously.
"""

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import cloudlib  # noqa: E402

REPO = cloudlib.REPO
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def pytest_configure(config):
    config.addinivalue_line(
        'markers', 'cloud(mode): the test needs the patched or the '
        'pristine cloud')


def _live():
    series = os.environ.get('NOVA_IMGMETA_CLOUD_SERIES')
    state = os.environ.get('NOVA_IMGMETA_CLOUD_STATE')
    if not series or not state:
        raise pytest.UsageError(
            'tests/cloud runs against a live cloud: set '
            'NOVA_IMGMETA_CLOUD_SERIES and NOVA_IMGMETA_CLOUD_STATE '
            '(tools/cloud-tier/tier.py does), after tools/cloud SERIES up')
    return cloudlib.Cloud(series, state)


def pytest_collection_modifyitems(config, items):
    mode = _live().mode
    keep, other = [], []
    for item in items:
        marker = item.get_closest_marker('cloud')
        if marker is None or marker.args[0] == mode:
            keep.append(item)
        else:
            other.append(item)
    if other:
        config.hook.pytest_deselected(items=other)
        items[:] = keep


@pytest.fixture(scope='session')
def cloud():
    return _live()


@pytest.fixture
def nova_conf_restored(cloud):
    """Gives the test nova.conf to change; puts it back and restarts
    nova-api afterwards.
    """
    saved = cloud.read_nova_conf()
    yield cloud
    if cloud.read_nova_conf() != saved:
        cloud.write_nova_conf(saved)
        cloud.restart_api()


@pytest.fixture(scope='session')
def third_party_policies(cloud):
    """The test policies of tests/cloud/plugins, pip installed into the
    running cloud's Nova environment (tools/cloud up removes them).
    """
    cloud.pip('install', '--no-deps', cloudlib.PLUGINS)
    return cloud
