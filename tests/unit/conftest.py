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

"""Fixtures of the unit tests: a private ConfigOpts and a clean dispatcher."""

from oslo_config import cfg
from oslo_config import fixture as config_fixture
import pytest

from nova_imgmeta import dispatch
from nova_imgmeta import exceptions
from nova_imgmeta import opts


@pytest.fixture
def config():
    """``oslo_config.fixture.Config`` on a fresh ConfigOpts with our opts."""
    conf = cfg.ConfigOpts()
    opts.register_opts(conf)
    fixture = config_fixture.Config(conf)
    fixture.setUp()
    conf([], project='nova-imgmeta-tests', default_config_files=[])
    yield fixture
    fixture.cleanUp()


@pytest.fixture
def conf(config):
    return config.conf


@pytest.fixture
def conf_file(tmp_path):
    """Return ``load(text)``: a ConfigOpts parsed from a nova.conf text."""
    def load(text):
        path = tmp_path / 'nova.conf'
        path.write_text(u'' + text)
        conf = cfg.ConfigOpts()
        opts.register_opts(conf)
        conf(['--config-file', str(path)], project='nova-imgmeta-tests',
             default_config_files=[])
        return conf
    return load


@pytest.fixture(autouse=True)
def clean_state():
    dispatch.reset()
    exceptions._reset_for_tests()
    yield
    dispatch.reset()
    exceptions._reset_for_tests()
