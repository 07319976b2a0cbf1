"""Configuration options of nova-imgmeta, group ``[nova_imgmeta]``.

Importing this module has no side effect: call :func:`register_opts` to
register the options on a ``ConfigOpts`` (the dispatchers do it on Nova's
``cfg.CONF``). :func:`list_opts` serves ``oslo-config-generator`` through
the ``oslo.config.opts`` entry point ``nova_imgmeta``.
"""

from oslo_config import cfg

from nova_imgmeta import exceptions

__all__ = [
    'GROUP',
    'ALL_OPTS',
    'register_opts',
    'list_opts',
    'get_option',
]

GROUP = cfg.OptGroup(
    'nova_imgmeta',
    title='nova-imgmeta image metadata policies',
    help="""
Options of the nova-imgmeta plugin, which fixes how Nova Pike and Queens
carry image properties across rebuild and snapshot (bugs 1893618 and
1852106). They are read from nova.conf on the nova-api nodes, once per
process, when the plugin is first called. Check them with
``nova-imgmeta check-config --config-file /etc/nova/nova.conf``.
""")

rebuild_policies = cfg.ListOpt(
    'rebuild_policies',
    default=['base-image-ref'],
    help="""
Ordered list of policies applied to the new image system metadata when a
server is rebuilt.

Each name is an entry point in the namespace
``nova_imgmeta.rebuild_policies``; an operator adds a policy by installing a
package that registers one there.

Possible values:

* ``base-image-ref``: set ``image_base_image_ref`` again, which the rebuild
  loses (bug 1893618); see ``base_image_ref_mode``.
* the name of a rebuild policy installed by another package.
* an empty value: change nothing on rebuild.

Related options:

* ``base_image_ref_mode``
""")

base_image_ref_mode = cfg.StrOpt(
    'base_image_ref_mode',
    default='boot',
    choices=['boot', 'upstream'],
    help="""
How the ``base-image-ref`` rebuild policy chooses the server's base image
(bug 1893618).

Possible values:

* ``boot``: the rule Nova applies at boot: the rebuild image's own
  ``base_image_ref`` property when it has one, else the rebuild image id. A
  server rolled back onto one of its own snapshots keeps the root image it
  was built from.
* ``upstream``: always the rebuild image id, as the upstream fix in Nova
  Victoria (commit fe52b6c) does.

With an empty image id (volume-backed server) and no ``base_image_ref``
property the policy changes nothing.

Related options:

* ``rebuild_policies``
""")

snapshot_policies = cfg.ListOpt(
    'snapshot_policies',
    default=['heal', 'never-inherit', 'patterns', 'truncated'],
    help="""
Ordered list of policies applied to the properties of every new snapshot
(createImage, createBackup, shelve and volume-backed snapshots).

Each name is an entry point in the namespace
``nova_imgmeta.snapshot_policies``; an operator adds a policy by installing
a package that registers one there.

Possible values:

* ``heal``: give ``base_image_ref`` back to snapshots of servers rebuilt
  before the fix was installed (bug 1893618).
* ``never-inherit``: never copy cinder_encryption_key_id,
  cinder_encryption_key_deletion_policy, img_signature,
  img_signature_hash_method, img_signature_key_type,
  img_signature_certificate_uuid and every os_glance* property to a
  snapshot, whatever ``[DEFAULT] non_inheritable_image_properties`` says
  (bug 1852106).
* ``patterns``: apply ``deny_patterns`` and ``allow_only_patterns``.
* ``truncated``: find values cut short at 255 bytes; see
  ``truncated_values``.
* the name of a snapshot policy installed by another package.

Related options:

* ``snapshot_on_error``, ``deny_patterns``, ``allow_only_patterns``,
  ``truncated_values``
* ``[DEFAULT] non_inheritable_image_properties`` (applied by Nova first)
""")

snapshot_on_error = cfg.StrOpt(
    'snapshot_on_error',
    default='open',
    choices=['open', 'closed'],
    help="""
What happens to a snapshot when a snapshot policy fails to load or raises.

Possible values:

* ``open``: log the error and keep the image metadata exactly as Nova built
  it; the snapshot is created.
* ``closed``: refuse the snapshot: the API answers 400 and no image is
  created (the error is a ``nova.exception.Invalid``).

A failure of a rebuild policy never fails the rebuild: the server is already
in task_state REBUILDING.

Related options:

* ``snapshot_policies``
""")

deny_patterns = cfg.ListOpt(
    'deny_patterns',
    default=[],
    help="""
Shell-style patterns (fnmatch, case-sensitive: ``*``, ``?``, ``[seq]``) of
image properties that the ``patterns`` snapshot policy removes from every
snapshot.

The properties Nova sets for the snapshot itself (instance_uuid, user_id,
image_type, base_image_ref) and the extra properties of the API request are
removed only when named exactly, never by a wildcard.

Possible values:

* a list of patterns, e.g. ``hw_*,custom_license_*``; empty: remove nothing.

Related options:

* ``allow_only_patterns``, ``snapshot_policies``
""")

allow_only_patterns = cfg.ListOpt(
    'allow_only_patterns',
    default=[],
    help="""
Shell-style patterns (fnmatch, case-sensitive) of the only image properties
a snapshot may inherit; the ``patterns`` snapshot policy removes every other
inherited property.

The properties Nova sets for the snapshot itself (instance_uuid, user_id,
image_type, base_image_ref) and the extra properties of the API request are
always kept.

Possible values:

* a list of patterns, e.g. ``hw_*,os_*``; empty: no allow-list (keep
  everything not denied).

Related options:

* ``deny_patterns`` (applied first), ``snapshot_policies``
""")

truncated_values = cfg.StrOpt(
    'truncated_values',
    default='warn',
    choices=['warn', 'drop'],
    help="""
What the ``truncated`` snapshot policy does with an inherited property whose
value is at Nova's 255-byte limit for system metadata, i.e. was probably
cut short when the server was built.

Possible values:

* ``warn``: keep the value and log a warning.
* ``drop``: remove the property from the snapshot.

Related options:

* ``snapshot_policies``
""")

ALL_OPTS = [
    rebuild_policies,
    base_image_ref_mode,
    snapshot_policies,
    snapshot_on_error,
    deny_patterns,
    allow_only_patterns,
    truncated_values,
]


def register_opts(conf):
    """Register the group and its options on ``conf`` (idempotent)."""
    conf.register_group(GROUP)
    conf.register_opts(ALL_OPTS, group=GROUP)


def list_opts():
    """Return ``[(group, options)]`` for oslo-config-generator."""
    return [(GROUP, ALL_OPTS)]


def get_option(conf, name):
    """Return ``conf.nova_imgmeta.<name>``.

    :raises ConfigError: naming the option when its value is invalid (for
        instance not one of its choices).
    """
    try:
        return getattr(conf.nova_imgmeta, name)
    except (ValueError, cfg.Error) as exc:
        raise exceptions.ConfigError(name, _describe(exc))


def _describe(exc):
    text = str(exc)
    return text or exc.__class__.__name__
