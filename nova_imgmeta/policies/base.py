"""Base classes of rebuild and snapshot policies.

A policy is a class registered as an entry point in the namespace
``nova_imgmeta.rebuild_policies`` or ``nova_imgmeta.snapshot_policies``. The
dispatcher instantiates it once per process with ``cls(conf=conf)`` (Nova's
``cfg.CONF``, with the ``[nova_imgmeta]`` options registered) and then calls
:meth:`apply` for every rebuild or snapshot. A policy reads and checks its
options in ``__init__`` and raises
:class:`nova_imgmeta.exceptions.ConfigError` naming the option when one is
unusable: the dispatcher then reports the policy as failed to load.

``apply`` changes the dict it is given in place and returns the list of
changes it made (:class:`nova_imgmeta.changes.Change`). The dispatcher logs
every change: by default it compares the dict before and after the call, so
that a policy cannot forget one; a policy whose ``reports_changes`` is True
promises that its return value lists every change, which spares the
snapshot dispatcher a copy and a comparison (the built-in policies do). If
``apply`` raises, the dispatcher puts the dict back (see
:mod:`nova_imgmeta.dispatch`).
"""

import abc

import six

from nova_imgmeta import opts

__all__ = ['Policy', 'RebuildPolicy', 'SnapshotPolicy']


@six.add_metaclass(abc.ABCMeta)
class Policy(object):
    """Common base: keeps the configuration object."""

    #: True when ``apply`` returns every change it makes (see above).
    reports_changes = False

    def __init__(self, conf):
        opts.register_opts(conf)
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
        :returns: list of :class:`nova_imgmeta.changes.Change`.
        """


class SnapshotPolicy(Policy):
    """A policy run by ``_initialize_instance_snapshot_metadata``."""

    @abc.abstractmethod
    def apply(self, context, instance, image_meta, extra_properties):
        """Change ``image_meta`` (mostly its ``properties``) in place.

        :param context: the request context, or None (Nova's call site has
            none).
        :param instance: the instance being snapshotted.
        :param image_meta: the new image's metadata as Nova built it.
        :param extra_properties: the properties the API request added
            (instance_uuid, user_id, image_type, backup_type, the request's
            metadata...); a dict, possibly empty.
        :returns: list of :class:`nova_imgmeta.changes.Change`.
        """
