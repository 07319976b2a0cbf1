"""Errors of ``nova-imgmeta patch``.

They do not derive from ``nova_imgmeta.exceptions.NovaImgmetaError``: that
module imports oslo.log, and the patch command must run with the standard
library alone (it patches trees before Nova's dependencies exist).
"""

__all__ = ['PatchError', 'UnknownVersion', 'RollbackFailed']


class PatchError(Exception):
    """A problem the user must solve; the message says what."""


class UnknownVersion(PatchError):
    """No series serves this Nova version (or it could not be found)."""


class RollbackFailed(PatchError):
    """A write failed and the tree could not be put back as it was.

    The message names every file left changed and where its original is;
    the journal stays in the tree so that the next apply or revert can
    finish the roll-back.
    """
