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

"""The functions Nova calls: how they run the policy chains.

``rebuild_hook``, ``resize_hook`` (Nova Wallaby and later) and
``snapshot_hook`` are the entry points that the patched Nova calls; what it
passes them and what it does with their errors is the hook contract of
doc/source/design.rst, section 1. Here, how
nova-imgmeta runs its chains (loaded once per process by
:mod:`nova_imgmeta.registry`):

* each policy is called with the keyword arguments its ``apply`` declares;
* when a policy raises (anything but KeyboardInterrupt, GeneratorExit and
  GreenletExit), its changes, and only those, are undone, and the chain
  goes on: a built-in policy changes nothing unless it succeeds, another
  package's policy is saved before it runs (:mod:`nova_imgmeta.rollback`);
* whatever a hook raises, the dict Nova handed over is as it was before
  the hook: each hook has ``undoes_own_changes = True``, and Nova's hook
  runner keeps no copy of its own (the copy cost about as much as the
  policies' work); the built-in policies' changes are undone from the
  changes they return, a chain with other packages' policies is saved
  once before it runs;
* the rebuild and resize hooks never raise, except when a failing
  policy's changes cannot be undone;
* what each failure left of the metadata is logged
  (:mod:`nova_imgmeta.outcome`);
* the snapshot hook refuses the snapshot (raises
  :func:`~nova_imgmeta.exceptions.snapshot_rejected_class`, a
  ``nova.exception.Invalid`` inside Nova, with ``image_meta`` as Nova built
  it) when a policy refuses on purpose (raises
  :class:`~nova_imgmeta.exceptions.SnapshotRejected`), and, with
  ``snapshot_on_error = closed``, when a policy fails to load or raises or
  the chain cannot be loaded at all.
"""

from oslo_log import log as logging

from nova_imgmeta import changes
from nova_imgmeta import exceptions
from nova_imgmeta import loader
from nova_imgmeta import outcome
from nova_imgmeta import registry
from nova_imgmeta import rollback
from nova_imgmeta import signature

__all__ = ['rebuild_hook', 'resize_hook', 'snapshot_hook', 'get_chain',
           'reset']

LOG = logging.getLogger(__name__)

#: Kept here for the tests of Nova's tier, which use these names.
get_chain = registry.get_chain
reset = registry.reset


def _uuid(instance):
    return getattr(instance, 'uuid', None)


def _log_steps(name, instance, steps, top_label):
    for where, found in steps:
        if where is None:
            label = top_label
        elif where == 'properties' and top_label == 'image':
            label = None
        else:
            label = where
        changes.log_changes(name, _uuid(instance), found, where=label)


#: Local to this module: one global lookup per policy, not two.
_IN_ORDER = loader.IN_ORDER


def _run(chain, arguments, target, subject, top_label, instance,
         on_failure):
    """Run ``chain`` on ``target`` (the dict Nova hands over); whatever
    it raises, ``target`` is as it was before.

    :param subject: the dict of ``target`` that the built-in policies
        change (``image_meta['properties']``, ``new_sys_metadata``).
    """
    if chain.built_in is not None:
        _run_built_in(chain.built_in, chain.in_order(arguments), subject,
                      instance, on_failure)
        return
    try:
        whole = rollback.save(target)
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        # Each other package's policy meets the same failure when saved,
        # and is left out (outcome.SAVE); the built-in ones still run.
        whole = None
    try:
        _run_any(chain, arguments, target, top_label, instance, on_failure)
    except BaseException:
        if whole is not None:
            rollback.restore(target, whole)
        raise


def _run_any(chain, arguments, target, top_label, instance, on_failure):
    """Run a chain that has other packages' policies on ``target``.

    A built-in policy changes nothing unless it succeeds (it decides, then
    applies its changes with :func:`nova_imgmeta.changes.remove` or one
    assignment), and returns every change it made: it costs no copy.
    Another package's policy is saved before and diffed after, and put back
    if it raises. So a failing policy's changes, and only those, are
    undone, and the chain goes on.

    :param arguments: the hook's arguments, by name (the names of the
        kind's ``Kind.arguments``, :data:`nova_imgmeta.policies.base.KINDS`).
    :param top_label: how to label changes of ``target`` itself in the log
        (``'image'`` for ``image_meta``, whose properties are the usual
        subject), or None.
    :param on_failure: ``f(name, exc, instance, stage)``, called when
        something failed at ``stage`` (:mod:`nova_imgmeta.outcome`) of
        policy ``name``; logs it and returns an exception to raise instead
        of going on, or None.
    """
    args = None
    for name, _policy, apply, keywords, trusted in chain.policies:
        before = None
        if not trusted:
            try:
                before = rollback.save(target)
            except BaseException as exc:   # nova-imgmeta's own failure
                if exceptions.propagates(exc):
                    raise
                _failed(on_failure, name, exc, instance, outcome.SAVE)
                continue
        try:
            if keywords is _IN_ORDER:
                # Its parameters are the hook's arguments in KINDS' order:
                # by position, which spares Python matching the names.
                if args is None:
                    args = chain.in_order(arguments)
                found = apply(*args)
            elif keywords is None:
                found = apply(**arguments)
            else:
                found = apply(**dict((key, arguments[key])
                                     for key in keywords))
            if before is not None and isinstance(found,
                                                 signature.UNRUN_TYPES):
                raise signature.unrun(found)
        except BaseException as exc:
            if exceptions.propagates(exc):
                raise
            if before is not None:
                _undo(on_failure, name, instance, target, before)
            _failed(on_failure, name, exc, instance, outcome.POLICY)
            continue
        if trusted:
            if found:
                _log_found(on_failure, name, instance, found)
            continue
        try:
            _log_steps(name, instance, rollback.diff(before, target),
                       top_label)
        except BaseException as exc:   # nova-imgmeta's own failure
            if exceptions.propagates(exc):
                raise
            # The policy's changes are whole: keep them, say so.
            _failed(on_failure, name, exc, instance, outcome.LOG)


def _run_built_in(policies, args, subject, instance, on_failure):
    """:func:`_run` for a chain of built-in policies only
    (:attr:`~nova_imgmeta.loader.PolicyChain.built_in`): each changes
    only ``subject``, nothing unless it succeeds, and returns its
    changes, so nothing is saved, compared or tested per policy; when the
    chain raises (a refusal), the changes returned so far are undone.
    """
    applied = []
    try:
        for name, apply in policies:
            try:
                found = apply(*args)
            except BaseException as exc:
                if exceptions.propagates(exc):
                    raise
                _failed(on_failure, name, exc, instance, outcome.POLICY)
                continue
            if found:
                applied.append(found)
                _log_found(on_failure, name, instance, found)
    except BaseException:
        changes.undo(subject, applied)
        raise


def _log_found(on_failure, name, instance, found):
    """Log the changes a built-in policy returned."""
    try:
        changes.log_changes(name, _uuid(instance), found)
    except BaseException as exc:   # nova-imgmeta's own failure
        if exceptions.propagates(exc):
            raise
        # The policy's changes are whole: keep them, say so.
        _failed(on_failure, name, exc, instance, outcome.LOG)


def _failed(on_failure, name, exc, instance, stage):
    refusal = on_failure(name, exc, instance, stage)
    if refusal is not None:
        raise refusal


def _undo(on_failure, name, instance, target, before):
    """Put back what the failing policy ``name`` changed; when that fails,
    nova-imgmeta cannot vouch for the dict: it raises, and :func:`_run`
    puts the dict back as it was before the hook (a refusal instead, with
    ``snapshot_on_error = closed``).
    """
    try:
        rollback.restore(target, before)
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        _failed(on_failure, name, exc, instance, outcome.UNDO)
        raise


def _logs_and_goes_on(kind):
    """The ``on_failure`` of the hooks on system metadata: a failing
    policy is logged, its changes are undone, and the chain goes on.
    """
    def failed(name, exc, instance, stage):
        LOG.exception(u'nova-imgmeta: %s', outcome.describe(
            kind, name, _uuid(instance), stage))
        return None
    return failed


_rebuild_failed = _logs_and_goes_on('rebuild')
_resize_failed = _logs_and_goes_on('resize')


def _sysmeta_hook(kind, arguments, on_failure):
    """Apply the chain of ``kind`` to ``arguments['new_sys_metadata']``.

    What rebuild_hook and resize_hook share: nothing to do without a
    dict; a chain that cannot be loaded leaves the metadata as Nova built
    it (logged).
    """
    new_sys_metadata = arguments['new_sys_metadata']
    instance = arguments['instance']
    if not isinstance(new_sys_metadata, dict):
        LOG.debug('nova-imgmeta: %s hook called without a '
                  'new_sys_metadata dict; nothing to do', kind)
        return
    try:
        chain = registry.get_chain(kind)
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        LOG.exception('nova-imgmeta: the %s policies could not be '
                      'loaded; system metadata of instance %s left as Nova '
                      'built it', kind, _uuid(instance))
        return
    if not chain.policies:
        return
    _run(chain, arguments, new_sys_metadata, new_sys_metadata, None,
         instance, on_failure)


def rebuild_hook(context=None, instance=None, image_id=None, image=None,
                 new_sys_metadata=None, **kwargs):
    """Rebuild extension point: apply the rebuild chain.

    Raises only when the changes of a failing policy cannot be undone,
    with ``new_sys_metadata`` put back as it was.
    """
    _sysmeta_hook('rebuild', {'context': context, 'instance': instance,
                              'image_id': image_id, 'image': image,
                              'new_sys_metadata': new_sys_metadata},
                  _rebuild_failed)


def resize_hook(context=None, instance=None, new_sys_metadata=None,
                **kwargs):
    """Resize extension point: apply the resize chain.

    Called by ``API.resize`` (resize and cold migration) of the patched
    Nova Wallaby and later, before it stores ``new_sys_metadata``. Raises
    only when the changes of a failing policy cannot be undone, with
    ``new_sys_metadata`` put back as it was.
    """
    _sysmeta_hook('resize', {'context': context, 'instance': instance,
                             'new_sys_metadata': new_sys_metadata},
                  _resize_failed)


def _reject(message, policy=None):
    return exceptions.snapshot_rejected_class()(message, policy=policy)


def _closed_because():
    """``(closed?, why)`` for the messages of a refusal."""
    mode, why = registry.snapshot_failure_mode()
    if why is not None:
        return True, u'handled as snapshot_on_error = closed: %s' % why
    return mode == 'closed', u'snapshot_on_error = closed'


def _snapshot_failed(name, exc, instance, stage):
    uuid = _uuid(instance)
    error = changes.shorten(exceptions.describe(exc))
    if stage == outcome.POLICY and isinstance(exc,
                                              exceptions.SnapshotRejected):
        LOG.error('nova-imgmeta: policy %(policy)s refused the snapshot of '
                  'instance %(uuid)s: %(error)s',
                  {'policy': name, 'uuid': uuid, 'error': error})
        return _reject(u'snapshot of instance %s refused by policy %s: %s'
                       % (uuid, name, error), policy=name)
    closed, because = _closed_because()
    if closed:
        what = outcome.what_failed(name, stage)
        LOG.exception(u'nova-imgmeta: snapshot of instance %(uuid)s refused: '
                      u'%(what)s (%(because)s); Nova puts the snapshot '
                      u'metadata back as it built it and creates no image',
                      {'uuid': uuid, 'what': what, 'because': because})
        return _reject(u'snapshot of instance %s refused: %s: %s (%s)'
                       % (uuid, what, error, because), policy=name)
    LOG.exception(u'nova-imgmeta: %s', outcome.describe(
        'snapshot', name, uuid, stage))
    return None


def snapshot_hook(context=None, instance=None, image_meta=None,
                  extra_properties=None, **kwargs):
    """Snapshot extension point: apply the snapshot chain.

    :raises SnapshotRejected: when a policy refuses the snapshot, or a
        policy or the chain fails with ``snapshot_on_error = closed``.
    """
    if not isinstance(image_meta, dict):
        LOG.debug('nova-imgmeta: snapshot hook called without an image_meta '
                  'dict; nothing to do')
        return
    try:
        chain = registry.get_chain('snapshot')
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        closed, because = _closed_because()
        error = changes.shorten(exceptions.describe(exc))
        if closed:
            LOG.exception('nova-imgmeta: the snapshot policies could not be '
                          'loaded; snapshot of instance %s refused (%s)',
                          _uuid(instance), because)
            raise _reject(u'snapshot of instance %s refused: the snapshot '
                          u'policies could not be loaded: %s (%s)'
                          % (_uuid(instance), error, because))
        LOG.exception('nova-imgmeta: the snapshot policies could not be '
                      'loaded; snapshot metadata of instance %s left as Nova '
                      'built it', _uuid(instance))
        return
    if chain.errors:
        closed, because = _closed_because()
        if closed:
            error = chain.errors[0]
            raise _reject(u'snapshot of instance %s refused: %s (%s)'
                          % (_uuid(instance), exceptions.describe(error),
                             because), policy=error.policy)
    if not chain.policies:
        return
    if extra_properties is None:
        extra_properties = {}
    _run(chain, {'context': context, 'instance': instance,
                 'image_meta': image_meta,
                 'extra_properties': extra_properties},
         image_meta, image_meta.get('properties'), 'image', instance,
         _snapshot_failed)


# Nova's hook runner (patch 0002) keeps no copy of the dict for a hook
# that says so: these put it back themselves (_run).
rebuild_hook.undoes_own_changes = True
resize_hook.undoes_own_changes = True
snapshot_hook.undoes_own_changes = True
