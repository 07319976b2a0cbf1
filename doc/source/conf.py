# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.
"""Sphinx configuration of nova-imgmeta's documentation (tox -e docs)."""

import os
import sys

from nova_imgmeta import supported

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '_exts'))

project = 'nova-imgmeta'
copyright = 'nova-imgmeta contributors'
master_doc = 'index'
exclude_patterns = ['_build']

extensions = [
    # .. show-options:: nova_imgmeta, from the code (oslo.config.opts)
    'oslo_config.sphinxext',
    # the sample configuration file, generated at build time
    'oslo_config.sphinxconfiggen',
    # .. nova-imgmeta-policies::, the built-in policies from the code
    'policy_table',
    # .. nova-imgmeta-series::, the series tables from MAP, releases.py and
    # patches-src/
    'series_tables',
]

# |supported_range|: the release lines of nova_imgmeta/patches/MAP, in
# words (nova_imgmeta.supported), never written by hand.
rst_epilog = '.. |supported_range| replace:: %s\n' % (
    supported.range_text())

config_generator_config_file = os.path.join(
    HERE, '..', '..', 'etc', 'nova-imgmeta-config-generator.conf')
# Written at build time (not committed: etc/nova-imgmeta.conf.sample is
# the committed copy, checked by tests/unit/test_sample_config.py).
sample_config_basename = '_generated/nova-imgmeta'

html_theme = 'alabaster'
html_static_path = ['_static']
html_theme_options = {'fixed_sidebar': True}
