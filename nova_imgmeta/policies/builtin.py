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

"""The built-in policies: the entry points of the nova-imgmeta distribution.

setup.cfg is the one list of built-in policies. The option help, the sample
configuration, the generated part of doc/source/plugins.rst, the
registration of the policies' own options and the trust the dispatcher
gives built-in policies (their change lists are used as they are) all come
from here.
Entry points of other distributions in the same namespaces are operators'
policies, not built-in ones.
"""

import collections
import threading

from nova_imgmeta.policies import base

__all__ = ['DISTRIBUTION', 'Builtin', 'builtin_policies', 'builtin_classes']

#: The distribution whose entry points are the built-in policies.
DISTRIBUTION = 'nova-imgmeta'

#: One built-in policy: its kind (``rebuild``/``snapshot``), its entry-point
#: name and its class.
Builtin = collections.namedtuple('Builtin', ['kind', 'name', 'cls'])

_LOCK = threading.Lock()
_CACHE = []


def _entry_points(group):
    """``[(name, load)]`` of DISTRIBUTION's entry points in ``group``."""
    try:
        from importlib import metadata   # Python 3.8 and later
    except ImportError:
        metadata = None
    if metadata is not None:
        dist = metadata.distribution(DISTRIBUTION)
        return [(ep.name, ep.load) for ep in dist.entry_points
                if ep.group == group]
    import pkg_resources   # Python 2.7 and 3.6
    dist = pkg_resources.get_distribution(DISTRIBUTION)
    return [(name, ep.resolve)
            for name, ep in dist.get_entry_map(group).items()]


def _load():
    found = []
    for kind in base.KINDS.values():
        for name, load in sorted(_entry_points(kind.namespace)):
            found.append(Builtin(kind.name, name, load()))
    return found


def builtin_policies():
    """Return the list of :class:`Builtin`, by kind then name.

    Read once per process, from the installed distribution's metadata.

    :raises Exception: when nova-imgmeta is not installed as a distribution
        or a built-in policy cannot be imported (a packaging bug).
    """
    if not _CACHE:
        with _LOCK:
            if not _CACHE:
                _CACHE.append(tuple(_load()))
    return list(_CACHE[0])


def builtin_classes():
    """Return the set of the built-in policy classes."""
    return frozenset(policy.cls for policy in builtin_policies())
