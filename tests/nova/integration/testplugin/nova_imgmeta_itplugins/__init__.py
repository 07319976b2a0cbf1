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

"""Misbehaving policies for the real-Nova integration tests."""

from nova_imgmeta import exceptions
from nova_imgmeta.policies import base


class RaisingRebuildPolicy(base.RebuildPolicy):
    """Changes the metadata half-way, then raises."""

    def apply(self, context, instance, image_id, image, new_sys_metadata):
        new_sys_metadata['image_base_image_ref'] = 'half-done'
        new_sys_metadata['image_it_raising'] = 'half-done'
        raise RuntimeError('it-raising rebuild policy')


class RaisingResizePolicy(base.ResizePolicy):
    """Changes the metadata half-way, then raises (Wallaby and later)."""

    def apply(self, context, instance, new_sys_metadata):
        new_sys_metadata['image_base_image_ref'] = 'half-done'
        new_sys_metadata['image_it_raising'] = 'half-done'
        raise RuntimeError('it-raising resize policy')


class RaisingSnapshotPolicy(base.SnapshotPolicy):
    """Changes the properties half-way, then raises."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['it_raising'] = 'half-done'
        image_meta['properties'].pop('base_image_ref', None)
        raise RuntimeError('it-raising snapshot policy')


class RefusingSnapshotPolicy(base.SnapshotPolicy):
    """Refuses every snapshot on purpose."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['it_refusing'] = 'half-done'
        raise exceptions.SnapshotRejected('it-refusing refuses every '
                                          'snapshot')


class SystemExitSnapshotPolicy(base.SnapshotPolicy):
    """Changes the properties half-way, then calls sys.exit()."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['it_system_exit'] = 'half-done'
        raise SystemExit(3)


class IdleRaisesPolicy(base.SnapshotPolicy, base.RebuildPolicy):
    """``idle`` reads an option its package forgot to register
    (cfg.NoSuchOptError when the loader reads it).
    """

    @property
    def idle(self):
        return not self.conf.nova_imgmeta_itplugins.enabled

    def apply(self, **kwargs):
        raise AssertionError('it-idle-raises must never run')


class GeneratorSnapshotPolicy(base.SnapshotPolicy):
    """A generator ``apply``: calling it would only make a generator."""

    def apply(self, context, instance, image_meta, extra_properties):
        image_meta['properties']['it_generator'] = 'never'
        yield
