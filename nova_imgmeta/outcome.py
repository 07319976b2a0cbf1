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


"""What a failure inside a hook leaves of the metadata, in words for the
log.

The dispatcher names the stage at which something failed around a policy;
what was kept and what undone differs per stage, and the log must say it
(never "left as Nova built it" when a policy's changes were kept).
"""

__all__ = ['POLICY', 'SAVE', 'LOG', 'UNDO', 'what_failed', 'describe']

#: The policy raised: its changes are undone, the chain goes on.
POLICY = 'policy'
#: nova-imgmeta could not save the dict before the policy: it did not run.
SAVE = 'save'
#: nova-imgmeta failed while logging what the policy changed: kept.
LOG = 'log'
#: nova-imgmeta could not undo a failing policy's changes: the hook raises
#: and puts the dict back as it was before the hook (its copy of the whole
#: dict).
UNDO = 'undo'

_METADATA = {'rebuild': u'system metadata', 'resize': u'system metadata',
             'snapshot': u'snapshot metadata'}

_WHAT_FAILED = {
    POLICY: u'policy %(policy)s failed',
    SAVE: u'nova-imgmeta could not save the %(metadata)s before policy '
          u'%(policy)s',
    LOG: u'nova-imgmeta failed while logging the changes of policy '
         u'%(policy)s',
    UNDO: u'policy %(policy)s failed and nova-imgmeta could not undo its '
          u'changes',
}

_OUTCOME = {
    POLICY: u'its changes are undone; the changes of the other policies '
            u'apply',
    SAVE: u'that policy did not run; the changes of the policies before it '
          u'are kept and the next policies run',
    LOG: u'its changes are kept (not all of them logged), as are those of '
         u'the policies before it; the next policies run',
    UNDO: u'the hook raises, and puts the %(metadata)s back as it was '
          u'before the hook (its copy of the whole dict): the changes of '
          u'every policy are undone',
}


def _words(kind, policy):
    return {'policy': policy, 'metadata': _METADATA[kind]}


def what_failed(policy, stage, kind='snapshot'):
    """What failed, e.g. ``policy heal failed``."""
    return _WHAT_FAILED[stage] % _words(kind, policy)


def describe(kind, policy, uuid, stage):
    """One sentence for the log: what failed for which instance, and what
    that left of the metadata.

    :param kind: ``'rebuild'``, ``'resize'`` or ``'snapshot'``.
    """
    words = _words(kind, policy)
    return u'%s of instance %s: %s; %s' % (
        kind, uuid, _WHAT_FAILED[stage] % words, _OUTCOME[stage] % words)
