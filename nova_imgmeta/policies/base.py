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

"""Base classes of rebuild and snapshot policies, and what each hook offers.

A policy is a class registered as an entry point in the namespace of its
kind (:data:`KINDS`). The dispatcher builds it once per process with
``cls(conf=conf)`` and then calls ``apply`` with keyword arguments, passing
only the ones ``apply`` declares (all of them if it takes ``**kwargs``), so
that a later release can offer more without breaking any policy. A
required parameter that the hook does not offer is a load error. How to
write one: doc/source/plugins.rst, "Writing a policy".
"""

import abc
import collections

from nova_imgmeta import compat

__all__ = ['Policy', 'RebuildPolicy', 'ResizePolicy', 'SnapshotPolicy', 'Kind',
           'KINDS']


@compat.add_metaclass(abc.ABCMeta)
class Policy(object):
    """Common base: keeps the configuration object.

    ``__init__`` receives Nova's ``cfg.CONF`` (or the ConfigOpts of
    ``nova-imgmeta check-config``). Read and check options there and raise
    :class:`nova_imgmeta.exceptions.ConfigError` naming the option when one
    is unusable: the policy then fails to load, with that message.
    """

    #: One line for operators: the help of ``<kind>_policies``, the sample
    #: configuration and doc/source/plugins.rst show it.
    summary = ''
    #: Options of a built-in policy, registered by nova-imgmeta in
    #: ``[nova_imgmeta]``. A policy of another package registers its own
    #: options, in a group of its own, and leaves this empty.
    options = ()
    #: Set in ``__init__`` to why (text) when the configuration leaves the
    #: policy nothing to do: the chain then leaves it out, and the load log
    #: and ``check-config`` say why. None: the policy runs.
    idle = None

    def __init__(self, conf):
        self.conf = conf


class RebuildPolicy(Policy):
    """A policy run from Nova's ``_reset_image_metadata`` (rebuild)."""

    @abc.abstractmethod
    def apply(self, context, instance, image_id, image, new_sys_metadata):
        """Change ``new_sys_metadata`` in place.

        :param context: the request context.
        :param instance: the instance being rebuilt (``uuid``, ``image_ref``,
            ``project_id``, ``system_metadata``).
        :param image_id: id of the rebuild image; empty for a volume-backed
            server.
        :param image: the rebuild image as Nova's dict (``properties``...).
        :param new_sys_metadata: the ``image_*`` system metadata Nova is about
            to store on the instance.
        :returns: list of :class:`nova_imgmeta.changes.MetadataChange`
            (only the built-in policies' lists are used; the changes of
            other policies are found by comparing the dict before and
            after).
        """


class ResizePolicy(Policy):
    """A policy run from Nova's ``API.resize`` (resize, cold migration).

    From Nova Wallaby (23.0.0) on, ``API.resize`` sets
    ``image_base_image_ref`` to the instance's ``image_ref`` before the
    instance moves; the patched Nova calls the resize chain there.
    """

    @abc.abstractmethod
    def apply(self, context, instance, new_sys_metadata):
        """Change ``new_sys_metadata`` in place.

        :param context: the request context.
        :param instance: the instance being resized or migrated; its
            ``system_metadata`` is still as before the request.
        :param new_sys_metadata: the system metadata Nova is about to store
            (``{'image_base_image_ref': instance.image_ref}``).
        :returns: list of :class:`nova_imgmeta.changes.MetadataChange` (see
            :meth:`RebuildPolicy.apply`).
        """


class SnapshotPolicy(Policy):
    """A policy run by ``_initialize_instance_snapshot_metadata``."""

    @abc.abstractmethod
    def apply(self, context, instance, image_meta, extra_properties):
        """Change ``image_meta`` (mostly its ``properties``) in place.

        :param context: the request context, or None (Nova Pike, Queens
            and Rocky before 18.2.2 have none there).
        :param instance: the instance being snapshotted.
        :param image_meta: the new image's metadata as Nova built it.
        :param extra_properties: the properties the API request added
            (instance_uuid, user_id, image_type, backup_type, the request's
            metadata...); a dict, possibly empty.
        :returns: list of :class:`nova_imgmeta.changes.MetadataChange` in
            ``image_meta['properties']`` (see :meth:`RebuildPolicy.apply`).
        """


#: What a chain of each kind is made of: the entry-point namespace of its
#: policies, the option that lists them, their base class and the keyword
#: arguments the hook offers to ``apply``.
Kind = collections.namedtuple(
    'Kind', ['name', 'namespace', 'option', 'base_class', 'arguments'])

KINDS = collections.OrderedDict((kind.name, kind) for kind in (
    Kind('rebuild', 'nova_imgmeta.rebuild_policies', 'rebuild_policies',
         RebuildPolicy,
         ('context', 'instance', 'image_id', 'image', 'new_sys_metadata')),
    Kind('resize', 'nova_imgmeta.resize_policies', 'resize_policies',
         ResizePolicy, ('context', 'instance', 'new_sys_metadata')),
    Kind('snapshot', 'nova_imgmeta.snapshot_policies', 'snapshot_policies',
         SnapshotPolicy,
         ('context', 'instance', 'image_meta', 'extra_properties')),
))
