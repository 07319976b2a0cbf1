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

"""The ``[nova_imgmeta]`` group: its name and how a value is read.

A leaf: the policies, the loader and the registry read their options
through :func:`get_option` without importing :mod:`nova_imgmeta.opts`,
which gathers every option (the built-in policies' included) and so
imports the policies. Nothing here imports a policy.
"""

import re

from oslo_config import cfg

from nova_imgmeta import exceptions

__all__ = ['GROUP_NAME', 'get_option']

GROUP_NAME = 'nova_imgmeta'

# oslo.config 10 puts "from LocationInfo(location=..., detail='<file>')" in
# its messages; keep only the file.
_LOCATION = re.compile(
    r"\s*from LocationInfo\(.*?detail=(?:'([^']*)'|\"([^\"]*)\"|[^)]*)\)")


def get_option(conf, name):
    """Return ``conf.nova_imgmeta.<name>``.

    :raises ConfigError: naming the option when its value is invalid (for
        instance not one of its choices) or it is not registered.
    """
    try:
        return getattr(getattr(conf, GROUP_NAME), name)
    except (ValueError, cfg.Error) as exc:
        raise exceptions.ConfigError(name, _describe(exc))


def _describe(exc):
    text = exceptions.describe(exc)
    prefix = type(exc).__name__ + ': '
    if text.startswith(prefix):
        text = text[len(prefix):]
    text = text.strip('"')

    def location(match):
        path = match.group(1) or match.group(2)
        return ' in %s' % path if path else ''

    return _LOCATION.sub(location, text) or type(exc).__name__
