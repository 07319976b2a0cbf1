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

"""etc/nova-imgmeta.conf.sample must match nova_imgmeta.opts.

Regenerate it with ``tox -e genconfig``. The comparison is on content
(options, defaults, help texts) rather than bytes, because the generator's
layout differs between the oslo.config releases of Python 2.7 and 3.x.
"""

import io
import os
import re

from nova_imgmeta import opts

SAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                      os.pardir, os.pardir, 'etc', 'nova-imgmeta.conf.sample')
GENERATOR_CONF = os.path.join(os.path.dirname(SAMPLE),
                              'nova-imgmeta-config-generator.conf')
STALE = 'etc/nova-imgmeta.conf.sample is stale: run "tox -e genconfig"'


def _squash(text):
    return re.sub(r'\s+', '', text)


def _section(name):
    with io.open(SAMPLE, encoding='utf-8') as sample:
        lines = sample.read().splitlines()
    found = []
    current = None
    for line in lines:
        match = re.match(r'^\[(.+)\]$', line)
        if match:
            current = match.group(1)
            continue
        if current == name:
            found.append(line)
    return found


def _default(opt):
    if opt.default is None:
        return '<None>'
    if isinstance(opt.default, list):
        return ','.join(opt.default)
    return str(opt.default)


def test_generator_config_names_our_namespace():
    with io.open(GENERATOR_CONF, encoding='utf-8') as conf:
        text = conf.read()
    assert 'namespace = nova_imgmeta' in text
    assert 'output_file = etc/nova-imgmeta.conf.sample' in text


def test_sample_lists_every_option_with_its_default():
    lines = _section('nova_imgmeta')
    assert lines, STALE
    in_sample = {}
    for line in lines:
        match = re.match(r'^#(\w+) = ?(.*)$', line)
        if match:
            in_sample[match.group(1)] = match.group(2)
    expected = dict((opt.name, _default(opt)) for opt in opts.all_opts())
    assert in_sample == expected, STALE


def test_sample_carries_the_current_help_texts():
    comments = _squash(' '.join(
        line.lstrip('#') for line in _section('nova_imgmeta')
        if line.startswith('#')))
    assert _squash(opts.group().help) in comments, STALE
    for opt in opts.all_opts():
        assert _squash(opt.help) in comments, '%s: %s' % (opt.name, STALE)
