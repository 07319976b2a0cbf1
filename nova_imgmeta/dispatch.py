"""The two functions Nova calls (stevedore entry points of the patched Nova).

``rebuild_hook`` is registered in ``nova.compute.rebuild_image_metadata_hooks``
and ``snapshot_hook`` in ``nova.compute.snapshot_image_metadata_hooks`` (see
doc/design.md). Nova calls them with keyword arguments only:

* rebuild, from ``_reset_image_metadata``: ``context``, ``instance``,
  ``image_id``, ``image``, ``new_sys_metadata``; the hook may change
  ``new_sys_metadata`` in place before Nova stores it.
* snapshot, at the end of ``_initialize_instance_snapshot_metadata``:
  ``context`` (None there), ``instance``, ``image_meta``,
  ``extra_properties``; the hook may change ``image_meta`` in place.

Each hook accepts further keyword arguments and ignores them. On first use
it registers the ``[nova_imgmeta]`` options on ``cfg.CONF`` and loads the
configured policy chain once per process (under a lock).

Failure containment: the rebuild hook never raises; a policy that raises has
its changes undone and is logged with its name. The snapshot hook is
fail-open by default (log the error and keep the image metadata exactly as
Nova built it); with ``snapshot_on_error = closed`` a policy that raised or
failed to load makes it raise :func:`~nova_imgmeta.exceptions.
snapshot_rejected_class` (a ``nova.exception.Invalid`` inside Nova), so that
no image is created. A policy may also refuse a snapshot deliberately by
raising :class:`~nova_imgmeta.exceptions.SnapshotRejected`, in either mode.
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging

from nova_imgmeta import changes
from nova_imgmeta import exceptions
from nova_imgmeta import loader
from nova_imgmeta import opts

__all__ = ['rebuild_hook', 'snapshot_hook', 'get_chain', 'load_count',
           'reset']

LOG = logging.getLogger(__name__)

_LOCK = threading.Lock()
_STATE = {
    'conf': None,        # None: cfg.CONF
    'managers': {},      # kind -> ready stevedore manager (tests only)
    'chains': {},        # kind -> loader.PolicyChain
    'on_error': None,    # 'open' / 'closed', read with the snapshot chain
    'loads': 0,          # how many chains were built in this process
}


def _conf():
    return _STATE['conf'] if _STATE['conf'] is not None else cfg.CONF


def get_chain(kind):
    """Return the loaded chain of ``kind``, loading it on first use."""
    chain = _STATE['chains'].get(kind)
    if chain is not None:
        return chain
    with _LOCK:
        chain = _STATE['chains'].get(kind)
        if chain is None:
            chain = _load(kind)
            _STATE['chains'][kind] = chain
    return chain


def _load(kind):
    conf = _conf()
    opts.register_opts(conf)
    chain = loader.build_chain(kind, conf,
                               manager=_STATE['managers'].get(kind))
    _STATE['loads'] += 1
    if kind == 'snapshot':
        try:
            _STATE['on_error'] = opts.get_option(conf, 'snapshot_on_error')
        except exceptions.ConfigError as exc:
            LOG.error('nova-imgmeta: %s; snapshots are handled fail-open',
                      exc)
            _STATE['on_error'] = 'open'
    for error in chain.errors:
        LOG.error('nova-imgmeta: %s: the policy is not applied', error)
    LOG.info('nova-imgmeta: %s policies loaded: %s', kind,
             ', '.join(chain.names) or '(none)')
    return chain


def load_count():
    """How many policy chains this process loaded (one per kind at most)."""
    return _STATE['loads']


def reset(conf=None, managers=None):
    """Forget the loaded chains. For tests only.

    :param conf: ConfigOpts to use instead of ``cfg.CONF``.
    :param managers: ``{'rebuild'|'snapshot': manager}`` of ready stevedore
        managers (``make_test_instance``) used instead of the entry points.
    """
    with _LOCK:
        _STATE['conf'] = conf
        _STATE['managers'] = dict(managers or {})
        _STATE['chains'] = {}
        _STATE['on_error'] = None
        _STATE['loads'] = 0


def _uuid(instance):
    return getattr(instance, 'uuid', None)


def rebuild_hook(context=None, instance=None, image_id=None, image=None,
                 new_sys_metadata=None, **kwargs):
    """Rebuild extension point: apply the rebuild chain. Never raises."""
    try:
        if not isinstance(new_sys_metadata, dict):
            LOG.debug('nova-imgmeta: rebuild hook called without a '
                      'new_sys_metadata dict; nothing to do')
            return
        chain = get_chain('rebuild')
        for name, policy in chain.policies:
            before = dict(new_sys_metadata)
            try:
                policy.apply(context, instance, image_id, image,
                             new_sys_metadata)
            except Exception:
                new_sys_metadata.clear()
                new_sys_metadata.update(before)
                LOG.exception('nova-imgmeta: rebuild policy %(policy)s '
                              'failed for instance %(uuid)s; its changes '
                              'are undone',
                              {'policy': name, 'uuid': _uuid(instance)})
                continue
            changes.log_changes(name, _uuid(instance),
                                changes.diff(before, new_sys_metadata))
    except Exception:
        LOG.exception('nova-imgmeta: rebuild hook failed for instance %s; '
                      'system metadata left as Nova built it',
                      _uuid(instance))


def _copy_image_meta(image_meta):
    properties = image_meta.get('properties')
    return (dict(image_meta), properties,
            dict(properties) if isinstance(properties, dict) else None)


def _restore_image_meta(image_meta, saved):
    top, properties, properties_copy = saved
    if properties_copy is not None:
        properties.clear()
        properties.update(properties_copy)
    image_meta.clear()
    image_meta.update(top)


def _log_image_meta_changes(name, instance, saved, image_meta):
    top, properties, properties_copy = saved
    after = image_meta.get('properties')
    # Fast path: nothing changed (``top`` holds the same properties object).
    if image_meta == top and (properties_copy is None or
                              after == properties_copy):
        changes.log_changes(name, _uuid(instance), [])
        return
    found = []
    if properties_copy is not None and isinstance(after, dict):
        found = changes.diff(properties_copy, after)
    top_before = dict(top)
    top_before.pop('properties', None)
    top_after = dict(image_meta)
    top_after.pop('properties', None)
    top_changes = changes.diff(top_before, top_after)
    if top_changes:
        changes.log_changes(name, _uuid(instance), top_changes,
                            where='image')
    if found or not top_changes:
        changes.log_changes(name, _uuid(instance), found)


def _reject(message, policy=None):
    cls = exceptions.snapshot_rejected_class()
    return cls(message, policy=policy)


def snapshot_hook(context=None, instance=None, image_meta=None,
                  extra_properties=None, **kwargs):
    """Snapshot extension point: apply the snapshot chain.

    :raises SnapshotRejected: only with ``snapshot_on_error = closed``.
    """
    if not isinstance(image_meta, dict):
        LOG.debug('nova-imgmeta: snapshot hook called without an image_meta '
                  'dict; nothing to do')
        return
    extra = extra_properties if extra_properties is not None else {}
    nova_built = _copy_image_meta(image_meta)
    failed = None
    try:
        chain = get_chain('snapshot')
        if chain.errors and _STATE['on_error'] == 'closed':
            error = chain.errors[0]
            raise _reject(
                'snapshot of instance %s refused: %s (snapshot_on_error = '
                'closed)' % (_uuid(instance), error), policy=error.policy)
        debug = changes.debug_enabled()
        for name, policy in chain.policies:
            failed = name
            if policy.reports_changes:
                found = policy.apply(context, instance, image_meta, extra)
                if found or debug:
                    changes.log_changes(name, _uuid(instance), found)
            else:
                saved = _copy_image_meta(image_meta)
                policy.apply(context, instance, image_meta, extra)
                _log_image_meta_changes(name, instance, saved, image_meta)
        failed = None
    except exceptions.SnapshotRejected as exc:
        _restore_image_meta(image_meta, nova_built)
        if failed is None:   # refused above, for a policy that failed to load
            raise
        # A policy refusing the snapshot deliberately: make it an error Nova
        # re-raises, whatever snapshot_on_error says.
        LOG.error('nova-imgmeta: policy %(policy)s refused the snapshot of '
                  'instance %(uuid)s: %(error)s',
                  {'policy': failed, 'uuid': _uuid(instance),
                   'error': changes.abbreviate(exc)})
        raise _reject('snapshot of instance %s refused by policy %s: %s'
                      % (_uuid(instance), failed, changes.abbreviate(exc)),
                      policy=failed)
    except Exception as exc:
        _restore_image_meta(image_meta, nova_built)
        if _STATE['on_error'] == 'closed':
            LOG.exception('nova-imgmeta: snapshot policy %(policy)s failed '
                          'for instance %(uuid)s; snapshot refused',
                          {'policy': failed, 'uuid': _uuid(instance)})
            raise _reject(
                'snapshot of instance %s refused: policy %s failed: %s'
                % (_uuid(instance), failed, changes.abbreviate(exc)),
                policy=failed)
        LOG.exception('nova-imgmeta: snapshot policy %(policy)s failed for '
                      'instance %(uuid)s; snapshot metadata left as Nova '
                      'built it', {'policy': failed, 'uuid': _uuid(instance)})
