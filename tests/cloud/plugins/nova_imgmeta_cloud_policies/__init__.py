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

"""Policies of a third party, for the loopback cloud's tests."""

from nova_imgmeta import exceptions
from nova_imgmeta.policies import base

__all__ = ['FAIL_MARK', 'REFUSE_MARK', 'FailNamedPolicy',
           'RefuseNamedPolicy']

#: snapshots whose name holds this are refused
REFUSE_MARK = 'refuse'
#: snapshots whose name holds this make the policy fail
FAIL_MARK = 'fail'


class RefuseNamedPolicy(base.SnapshotPolicy):
    """Refuses the snapshots whose image name holds ``refuse``.

    The tests choose which calls are refused by naming them (shelve names
    its image after the server), so that a concurrent run knows which
    answers must be 400 and which 202.
    """

    summary = 'refuses snapshots named *refuse* (tests only)'

    def apply(self, context, instance, image_meta, extra_properties):
        name = image_meta.get('name') or ''
        if REFUSE_MARK in name:
            image_meta['properties']['cloud_refuse_named'] = 'half-done'
            raise exceptions.SnapshotRejected(
                'cloud-refuse-named refuses the snapshot %r' % name)
        return []


class FailNamedPolicy(base.SnapshotPolicy):
    """Fails (a bug, not a refusal) on snapshots whose name holds ``fail``:
    in open mode the snapshot goes on without it, in closed mode it is
    refused.
    """

    summary = 'raises on snapshots named *fail* (tests only)'

    def apply(self, context, instance, image_meta, extra_properties):
        name = image_meta.get('name') or ''
        if FAIL_MARK in name:
            image_meta['properties']['cloud_fail_named'] = 'half-done'
            raise RuntimeError('cloud-fail-named fails on %r' % name)
        return []
