"""The package's exceptions: one base class and three kinds of failure."""

import threading

from oslo_log import log as logging

__all__ = [
    'NovaImgmetaError',
    'CommandError',
    'ConfigError',
    'PolicyLoadError',
    'SnapshotRejected',
    'snapshot_rejected_class',
]

LOG = logging.getLogger(__name__)

_LOCK = threading.Lock()
_REJECTED_CLASS = []


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
            '[nova_imgmeta] %s: %s' % (option, reason))


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
            "policy '%s' listed in [nova_imgmeta] %s: %s"
            % (policy, option, reason))


class SnapshotRejected(NovaImgmetaError):
    """The snapshot dispatcher refuses a snapshot (fail-closed mode).

    Raise it through :func:`snapshot_rejected_class` so that, inside Nova,
    the exception is also a ``nova.exception.Invalid``.
    """

    def __init__(self, message, policy=None):
        self.message = message
        self.policy = policy
        super(SnapshotRejected, self).__init__(message)


def _build_rejected_class():
    try:
        from nova import exception as nova_exception
        invalid = nova_exception.Invalid
    except Exception as exc:  # ImportError, or a Nova that fails to import
        LOG.debug(
            'nova.exception.Invalid not available (%s): snapshots are '
            'rejected with SnapshotRejected only', exc)
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
