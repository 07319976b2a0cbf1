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

#@ if resize_hook == yes
"""Extension points for the image metadata of rebuilds, resizes and snapshots.
#@ else
"""Extension points for the image metadata of rebuilds and snapshots.
#@ endif

#@ if resize_hook == yes
Hooks are callables registered as stevedore entry points in one of three
#@ else
Hooks are callables registered as stevedore entry points in one of two
#@ endif
namespaces, loaded once per process on first use and called in entry point
order with keyword arguments only (a hook must accept ``**kwargs``):

``nova.compute.rebuild_image_metadata_hooks``
    From ``API.rebuild`` once the system metadata of the rebuild image is
    built, before it is stored: ``context``, ``instance``, ``image_id``,
    ``image``, ``new_sys_metadata``. A hook may change ``new_sys_metadata``
    in place. Nothing a hook does can fail the rebuild: the instance is
    already in task_state REBUILDING.

#@ if resize_hook == yes
``nova.compute.resize_image_metadata_hooks``
    From ``API.resize`` (resize and cold migration), where Nova sets
    ``image_base_image_ref`` to the instance's ``image_ref`` before the
    instance moves: ``context``, ``instance`` (its system metadata still as
    before), ``new_sys_metadata`` (what Nova is about to store). A hook may
    change ``new_sys_metadata`` in place, for example to keep the image the
    instance was built from. Nothing a hook does can fail the resize.

#@ endif
``nova.compute.snapshot_image_metadata_hooks``
#@ if snapshot_builder == api
#@ if snapshot_context == none
    From ``API._initialize_instance_snapshot_metadata`` (createImage,
    createBackup, shelve, volume-backed snapshots): ``context`` (None),
    ``instance``, ``image_meta``, ``extra_properties``. A hook may change
    ``image_meta`` in place, or refuse the snapshot by raising
    nova.exception.Invalid: no image is created and the API answers 400.
#@ else
    From ``API._initialize_instance_snapshot_metadata`` (createImage,
    createBackup, shelve, volume-backed snapshots): ``context`` (the
    request context), ``instance``, ``image_meta``, ``extra_properties``. A
    hook may change ``image_meta`` in place, or refuse the snapshot by
    raising nova.exception.Invalid: no image is created and the API answers
    400.
#@ endif
#@ elif cross_cell_resize == yes
    From ``nova.compute.utils.initialize_instance_snapshot_metadata``
    (createImage, createBackup, shelve, volume-backed snapshots, and in the
    conductor the snapshot of a cross-cell resize): ``context`` (the
    request context), ``instance``, ``image_meta``, ``extra_properties``. A
    hook may change ``image_meta`` in place, or refuse the snapshot by
    raising nova.exception.Invalid: no image is created and the API answers
    400 (the conductor runs a cross-cell resize after the API answered: a
    refusal fails that resize, like any error the conductor meets there).
#@ else
    From ``nova.compute.utils.initialize_instance_snapshot_metadata``
    (createImage, createBackup, shelve, volume-backed snapshots): ``context``
    (the request context), ``instance``, ``image_meta``,
    ``extra_properties``. A hook may change ``image_meta`` in place, or
    refuse the snapshot by raising nova.exception.Invalid: no image is
    created and the API answers 400.
#@ endif

Any other error of a hook is logged and its changes are undone: the dict
(for ``image_meta`` also the dicts it holds, such as ``properties``; system
metadata holds strings only) is put back as it was before that hook ran.
A hook whose callable has ``undoes_own_changes = True`` promises that,
whatever it raises, it has left the dict as it found it: the runner keeps
no copy for it (copying ``image_meta`` costs about as much as the
snapshot hook's own work).
"""

import threading

from oslo_log import log as logging
import stevedore

from nova import exception

LOG = logging.getLogger(__name__)

REBUILD_NAMESPACE = 'nova.compute.rebuild_image_metadata_hooks'
#@ if resize_hook == yes
RESIZE_NAMESPACE = 'nova.compute.resize_image_metadata_hooks'
#@ endif
SNAPSHOT_NAMESPACE = 'nova.compute.snapshot_image_metadata_hooks'

# What a failing hook may raise and still be contained: everything but the
# exceptions that stop the process or the green thread (KeyboardInterrupt,
# GeneratorExit, greenlet.GreenletExit).
_CONTAINED = (Exception, SystemExit)

_LOCK = threading.Lock()
# namespace -> stevedore extension manager, filled lazily by _get_manager()
_MANAGERS = {}
# namespace -> ((name, callable, undoes its own changes), ...) of its
# hooks, made once from the manager by _get_hooks(): a call reads one dict,
# even with no hook.
_HOOKS = {}


def _on_load_failure(manager, entrypoint, exc):
    LOG.error('Could not load the image metadata hook %(entrypoint)s of '
              '%(namespace)s, ignoring it: %(error)r',
              {'entrypoint': entrypoint, 'namespace': manager.namespace,
               'error': exc})


def _get_manager(namespace):
    manager = _MANAGERS.get(namespace)
    if manager is not None:
        return manager
    with _LOCK:
        manager = _MANAGERS.get(namespace)
        if manager is None:
            try:
                manager = stevedore.ExtensionManager(
                    namespace, invoke_on_load=False,
                    on_load_failure_callback=_on_load_failure)
            except _CONTAINED:
                LOG.exception('Could not load the image metadata hooks of '
                              '%s, ignoring them.', namespace)
                manager = stevedore.ExtensionManager.make_test_instance(
                    [], namespace=namespace)
            if manager.extensions:
                LOG.info('Loaded image metadata hooks for %(namespace)s: '
                         '%(names)s', {'namespace': namespace,
                                       'names': ', '.join(manager.names())})
            _MANAGERS[namespace] = manager
        return manager


def reset(managers=None):
    """Forget the loaded hooks; for tests.

    :param managers: optional dict of namespace to stevedore extension
        manager (for example built with ExtensionManager.make_test_instance)
        to use instead of the entry points. Without it, the hooks are loaded
        from the entry points again on next use.
    """
    with _LOCK:
        _MANAGERS.clear()
        _MANAGERS.update(managers or {})
        _HOOKS.clear()


def _undoes_own_changes(hook):
    try:
        return getattr(hook, 'undoes_own_changes', False) is True
    except _CONTAINED:
        return False


def _get_hooks(namespace):
    hooks = _HOOKS.get(namespace)
    if hooks is not None:
        return hooks
    manager = _get_manager(namespace)
    hooks = tuple((ext.name, ext.plugin, _undoes_own_changes(ext.plugin))
                  for ext in manager.extensions)
    with _LOCK:
        if _MANAGERS.get(namespace) is manager:   # no reset() meanwhile
            _HOOKS[namespace] = hooks
    return hooks


def disable():
    """Run no hook at all until the next reset(); for tests."""
    reset({namespace: stevedore.ExtensionManager.make_test_instance(
               [], namespace=namespace)
#@ if resize_hook == yes
           for namespace in (REBUILD_NAMESPACE, RESIZE_NAMESPACE,
                             SNAPSHOT_NAMESPACE)})
#@ else
           for namespace in (REBUILD_NAMESPACE, SNAPSHOT_NAMESPACE)})
#@ endif


def _save(target, nested, isinstance=isinstance, dict=dict):
    """Copy what a hook can change: the dict, and the dicts it holds when
    ``nested`` (system metadata holds strings only: no need to look).

    (isinstance and dict are local names: the loop runs on every call.)
    """
    if not isinstance(target, dict):
        return None
    top = target.copy()
    if not nested:
        return top, ()
    return top, [(value, value.copy()) for value in top.values()
                 if isinstance(value, dict)]


def _restore(target, saved):
    if saved is None:
        return
    top, nested = saved
    for value, copy in nested:
        value.clear()
        value.update(copy)
    target.clear()
    target.update(top)


def _run(namespace, target_name, kwargs, nested, refusals=()):
    hooks = _HOOKS.get(namespace)
    if hooks is None:
        try:
            hooks = _get_hooks(namespace)
        except _CONTAINED:
            LOG.exception('Could not load the image metadata hooks of %s.',
                          namespace, instance=kwargs.get('instance'))
            return
    if not hooks:
        return
    target = kwargs.get(target_name)
    for name, hook, undoes_own_changes in hooks:
        saved = None if undoes_own_changes else _save(target, nested)
        try:
            hook(**kwargs)
        except refusals:
            _restore(target, saved)
            raise
        except _CONTAINED:
            LOG.exception('Image metadata hook %(hook)s of %(namespace)s '
                          'failed; its changes are undone.',
                          {'hook': name, 'namespace': namespace},
                          instance=kwargs.get('instance'))
            _restore(target, saved)


def run_rebuild_hooks(**kwargs):
    """Call the rebuild hooks with kwargs; never raises.

    A hook may change kwargs['new_sys_metadata'] in place.
    """
    _run(REBUILD_NAMESPACE, 'new_sys_metadata', kwargs, False)


#@ if resize_hook == yes
def run_resize_hooks(**kwargs):
    """Call the resize hooks with kwargs; never raises.

    A hook may change kwargs['new_sys_metadata'] in place.
    """
    _run(RESIZE_NAMESPACE, 'new_sys_metadata', kwargs, False)


#@ endif
def run_snapshot_hooks(**kwargs):
    """Call the snapshot hooks with kwargs.

    A hook may change kwargs['image_meta'] in place. nova.exception.Invalid
    raised by a hook (a refusal) is raised to the caller; any other error
    is logged and the hook's changes are undone.
    """
    _run(SNAPSHOT_NAMESPACE, 'image_meta', kwargs, True, exception.Invalid)
