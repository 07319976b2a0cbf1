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

"""Configuration options of nova-imgmeta, group ``[nova_imgmeta]``.

The options of the plugin itself are defined here; each built-in policy
defines its own in its module (``options`` of its class). Importing this
module has no side effect: :func:`register_opts` registers the group and
every option on a ``ConfigOpts`` (the plugin does it on Nova's
``cfg.CONF`` on first use), :func:`list_opts` serves
``oslo-config-generator`` through the ``oslo.config.opts`` entry point
``nova_imgmeta``. The help of ``rebuild_policies``, ``resize_policies`` and
``snapshot_policies`` lists the built-in policies, read from the installed
entry points. It only gathers: the group's name and how a value is read
are in :mod:`nova_imgmeta.settings`, which the policies import instead of
this module.
"""

import textwrap
import threading

from oslo_config import cfg
from oslo_log import log as logging

from nova_imgmeta import exceptions
from nova_imgmeta.policies import base
from nova_imgmeta.policies import builtin
from nova_imgmeta import settings

__all__ = [
    'group',
    'DEFAULT_POLICIES',
    'all_opts',
    'register_opts',
    'list_opts',
]

LOG = logging.getLogger(__name__)

GROUP_TITLE = 'nova-imgmeta image metadata policies'
_GROUP_HELP = (
    'Options of the nova-imgmeta plugin, which fixes how Nova carries '
    'image properties across rebuild and snapshot (bugs 1893618 and '
    '1852106) on the release lines %s. They are read from nova.conf on '
    'the nova-api nodes, once per process, when the plugin is first '
    'called. Check them with ``nova-imgmeta check-config --config-file '
    '/etc/nova/nova.conf``.')

#: The chains used when nova.conf names none, in order. Kept explicit:
#: turning a new built-in policy on for every deployment is a decision of
#: its own, not a side effect of installing it.
DEFAULT_POLICIES = {
    'rebuild': ['base-image-ref'],
    'resize': ['base-image-ref'],
    'snapshot': ['heal', 'never-inherit', 'patterns', 'truncated'],
}

_POLICIES_HELP = {
    'rebuild': """
Ordered list of policies applied to the new image system metadata when a
server is rebuilt.
""",
    'resize': """
Ordered list of policies applied to the system metadata Nova stores when a
server is resized or cold-migrated (Nova Wallaby and later set
``image_base_image_ref`` to the server's image there).
""",
    'snapshot': """
Ordered list of policies applied to the properties of every new snapshot
(createImage, createBackup, shelve and volume-backed snapshots).
""",
}

snapshot_on_error = cfg.StrOpt(
    'snapshot_on_error',
    default='open',
    choices=['open', 'closed'],
    help="""
What happens to a snapshot when a snapshot policy fails to load or raises.

Possible values:

* ``open``: log the error, undo what the failing policy changed and go on
  with the other policies; the snapshot is created.
* ``closed``: refuse the snapshot: the API answers 400 and no image is
  created (the error is a ``nova.exception.Invalid``).

A value that is not one of these is reported and handled as ``closed``.
A failure of a rebuild policy never fails the rebuild: the server is already
in task_state REBUILDING.

Related options:

* ``snapshot_policies``
""")

_LOCK = threading.Lock()
_ALL_OPTS = []
_GROUP = []


def _item(text):
    return textwrap.fill('* ' + text, width=76, subsequent_indent='  ')


def _policies_opt(kind, builtins):
    entries = []
    related = ['snapshot_on_error'] if kind.name == 'snapshot' else []
    for policy in builtins:
        if policy.kind != kind.name:
            continue
        entries.append(_item('``%s``: %s' % (policy.name, policy.cls.summary)))
        related.extend(opt.name for opt in policy.cls.options)
    if not entries:
        entries.append(_item('(the built-in policies could not be listed: '
                             'nova-imgmeta is not installed as a '
                             'distribution)'))
    entries.append(_item('the name of a %s policy installed by another '
                         'package.' % kind.name))
    entries.append(_item('an empty value: no %s policy.' % kind.name))
    related = [_item(', '.join('``%s``' % name for name in related))]
    if kind.name == 'snapshot':
        related.append(_item('``[DEFAULT] non_inheritable_image_properties`` '
                             '(applied by Nova first)'))
    namespace = textwrap.fill(
        'Each name is an entry point in the namespace ``%s``; an operator '
        'adds a policy by installing a package that registers one there.'
        % kind.namespace, width=76)
    help_text = '\n'.join([
        _POLICIES_HELP[kind.name], namespace, '', 'Possible values:', ''] +
        entries + ['', 'Related options:', ''] + related) + '\n'
    return cfg.ListOpt(kind.option, default=DEFAULT_POLICIES[kind.name],
                       help=help_text)


def _build():
    try:
        builtins = builtin.builtin_policies()
    except Exception as exc:   # the plugin's own options still work
        LOG.error('nova-imgmeta: cannot list the built-in policies, their '
                  'options are not registered: %s', exceptions.describe(exc))
        builtins = []
    found = [_policies_opt(kind, builtins) for kind in base.KINDS.values()]
    found.append(snapshot_on_error)
    for policy in builtins:
        found.extend(opt for opt in policy.cls.options if opt not in found)
    return found


def all_opts():
    """Return every option of ``[nova_imgmeta]``: the plugin's own, then
    each built-in policy's, by kind and name.

    Built on first use and kept, so that every caller gets the same Opt
    objects.
    """
    if not _ALL_OPTS:
        with _LOCK:
            if not _ALL_OPTS:
                _ALL_OPTS.append(_build())
    return _ALL_OPTS[0]


def _group_help():
    from nova_imgmeta import supported
    return '\n' + textwrap.fill(
        _GROUP_HELP % supported.range_text(), width=76) + '\n'


def group():
    """The ``[nova_imgmeta]`` OptGroup; its help names the release lines
    of nova_imgmeta/patches/MAP (:mod:`nova_imgmeta.supported`). Built on
    first use (reading MAP) and kept.
    """
    if not _GROUP:
        with _LOCK:
            if not _GROUP:
                _GROUP.append(cfg.OptGroup(settings.GROUP_NAME,
                                           title=GROUP_TITLE,
                                           help=_group_help()))
    return _GROUP[0]


def register_opts(conf):
    """Register the group and its options on ``conf`` (idempotent).

    Each ConfigOpts gets a group of its own: oslo.config keeps the
    overrides in the group it registers, and its shallow copy of a shared
    OptGroup would share them between every ConfigOpts of the process.
    """
    shared = group()
    conf.register_group(cfg.OptGroup(shared.name, title=shared.title,
                                     help=shared.help))
    conf.register_opts(all_opts(), group=shared.name)


def list_opts():
    """Return ``[(group, options)]`` for oslo-config-generator."""
    return [(group(), all_opts())]
