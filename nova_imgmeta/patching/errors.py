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

"""Errors of ``nova-imgmeta patch``.

They do not derive from ``nova_imgmeta.exceptions.NovaImgmetaError``: that
module imports oslo.log, and the patch command must run with the standard
library alone (it patches trees before Nova's dependencies exist).
"""

__all__ = ['PatchError', 'UnknownVersion', 'NoSeriesChoice',
           'RollbackFailed', 'DamagedJournal', 'LockTimeout']


class PatchError(Exception):
    """A problem the user must solve; the message says what."""


class UnknownVersion(PatchError):
    """No series serves this Nova version (or it could not be found)."""


class NoSeriesChoice(UnknownVersion):
    """Not a release, and not exactly one series of its line fits the tree.

    The message says what each candidate series did.
    """


class DamagedJournal(PatchError):
    """The journal cannot be trusted: unreadable, or naming paths outside.

    Nothing is touched; the message names the file and says what to do.
    """


class LockTimeout(PatchError):
    """Another run held the tree's lock for longer than the timeout."""


class RollbackFailed(PatchError):
    """A write failed and the tree could not be put back as it was.

    The message names every file left changed and where its original is;
    the journal stays in the tree so that the next apply or revert can
    finish the roll-back.
    """
