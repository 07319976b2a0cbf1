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

"""The package's exceptions (one root, three kinds of failure) and the rule
for which exceptions nova-imgmeta never contains.
"""

import threading

from oslo_log import log as logging

from nova_imgmeta import compat

__all__ = [
    'NovaImgmetaError',
    'CommandError',
    'ConfigError',
    'PolicyLoadError',
    'SnapshotRejected',
    'snapshot_rejected_class',
    'propagates',
    'describe',
]

LOG = logging.getLogger(__name__)

_LOCK = threading.Lock()
_REJECTED_CLASS = []

#: Never contained: they stop the process or the green thread, not a policy.
_PROPAGATED = (KeyboardInterrupt, GeneratorExit)
#: greenlet's GreenletExit (eventlet kills a green thread with it), known by
#: name so that nova-imgmeta does not import greenlet.
_PROPAGATED_NAME = 'GreenletExit'


class NovaImgmetaError(Exception):
    """Base class of every exception raised by nova_imgmeta."""


class CommandError(NovaImgmetaError):
    """An operator command cannot go on: a message and an exit code.

    :param message: one sentence for the operator.
    :param exit_code: the command's exit code (2, "error", by default).
    """

    exit_code = 2

    def __init__(self, message, exit_code=None):
        super(CommandError, self).__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code

    def __str__(self):
        return self.message


class ConfigError(NovaImgmetaError):
    """An option of ``[nova_imgmeta]`` has a value that cannot be used.

    :param option: the option's name (without the group).
    :param reason: what is wrong with it.
    """

    def __init__(self, option, reason):
        self.option = option
        self.reason = reason
        super(ConfigError, self).__init__(
            u'[nova_imgmeta] %s: %s' % (_text(option), _text(reason)))


class PolicyLoadError(NovaImgmetaError):
    """A policy named in the configuration could not be loaded.

    :param policy: the policy's (entry point) name.
    :param option: the option that names it, e.g. ``snapshot_policies``.
    :param reason: why: unknown name, import error, bad configuration...
    """

    def __init__(self, policy, option, reason):
        self.policy = policy
        self.option = option
        self.reason = reason
        super(PolicyLoadError, self).__init__(
            u"policy '%s' listed in [nova_imgmeta] %s: %s"
            % (_text(policy), _text(option), _text(reason)))


class SnapshotRejected(NovaImgmetaError):
    """The snapshot dispatcher refuses a snapshot.

    A policy raises it to refuse a snapshot on purpose; the dispatcher
    raises it through :func:`snapshot_rejected_class` so that, inside Nova,
    it is also a ``nova.exception.Invalid`` (HTTP 400, no image).
    """

    def __init__(self, message, policy=None):
        self.message = message
        self.policy = policy
        super(SnapshotRejected, self).__init__(message)


def _text(value):
    if isinstance(value, compat.binary_type):
        return value.decode('utf-8', 'replace')
    return compat.text_type(value)


def propagates(exc):
    """Tell whether ``exc`` must go through nova-imgmeta uncontained.

    True for KeyboardInterrupt, GeneratorExit and greenlet's GreenletExit
    (and their subclasses); everything else a policy raises, SystemExit
    included, is contained.
    """
    if isinstance(exc, _PROPAGATED):
        return True
    return any(cls.__name__ == _PROPAGATED_NAME
               for cls in type(exc).__mro__)


def describe(exc):
    """Return ``exc`` as text for a message; never raises.

    nova-imgmeta's own errors give their message; others
    ``ClassName: message``. On Python 2, ``str(exc)`` raises for a unicode
    message with non-ASCII characters and ``unicode(exc)`` for such bytes:
    both are handled.
    """
    name = type(exc).__name__
    try:
        text = compat.text_type(exc)
    except Exception:
        try:
            text = u' '.join(
                arg.decode('utf-8', 'replace')
                if isinstance(arg, compat.binary_type)
                else compat.text_type(arg)
                for arg in exc.args)
        except Exception:
            text = u''
    if isinstance(exc, NovaImgmetaError):
        return text or name
    return u'%s: %s' % (name, text) if text else compat.text_type(name)


def _build_rejected_class():
    try:
        from nova import exception as nova_exception
        invalid = nova_exception.Invalid
    except Exception as exc:  # ImportError, or a Nova that fails to import
        LOG.debug(
            'nova.exception.Invalid not available (%s): snapshots are '
            'rejected with SnapshotRejected only', describe(exc))
        return SnapshotRejected

    class NovaSnapshotRejected(SnapshotRejected, invalid):
        """SnapshotRejected that Nova's hook runner re-raises (HTTP 400)."""

        msg_fmt = 'Snapshot rejected by nova-imgmeta: %(reason)s'

        def __init__(self, message, policy=None):
            invalid.__init__(self, message)
            self.message = message
            self.policy = policy

    return NovaSnapshotRejected


def snapshot_rejected_class():
    """Return the exception class the snapshot dispatcher raises.

    A subclass of :class:`SnapshotRejected` and, when ``nova`` is
    importable, of ``nova.exception.Invalid`` as well; built on first use
    and then kept for the life of the process.
    """
    if not _REJECTED_CLASS:
        with _LOCK:
            if not _REJECTED_CLASS:
                _REJECTED_CLASS.append(_build_rejected_class())
    return _REJECTED_CLASS[0]


def _reset_for_tests():
    del _REJECTED_CLASS[:]
