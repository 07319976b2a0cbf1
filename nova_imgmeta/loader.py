"""Loading the configured policy chains through stevedore.

A chain is the ordered list of policies named in ``rebuild_policies`` or
``snapshot_policies``, loaded from the package's own entry-point namespaces
with ``NamedExtensionManager(names=..., name_order=True)``. Only the named
plugins are imported. Everything that goes wrong (unknown name, import
error, bad option, a plugin that is not a policy) becomes a
:class:`nova_imgmeta.exceptions.PolicyLoadError` in ``chain.errors``; the
caller decides what to do with it (the dispatchers log it, ``nova-imgmeta
check-config`` prints it).
"""

import collections

from stevedore import named

from nova_imgmeta import exceptions
from nova_imgmeta import opts
from nova_imgmeta.policies import base

__all__ = ['KINDS', 'Kind', 'PolicyChain', 'build_chain', 'make_manager']

#: What a chain of each kind is made of.
Kind = collections.namedtuple('Kind', ['namespace', 'option', 'base_class'])

KINDS = {
    'rebuild': Kind('nova_imgmeta.rebuild_policies', 'rebuild_policies',
                    base.RebuildPolicy),
    'snapshot': Kind('nova_imgmeta.snapshot_policies', 'snapshot_policies',
                     base.SnapshotPolicy),
}


class PolicyChain(object):
    """The loaded policies of one kind, in configured order.

    :ivar kind: ``'rebuild'`` or ``'snapshot'``.
    :ivar option: the option that lists them.
    :ivar policies: list of ``(name, policy object)``.
    :ivar errors: list of :class:`~nova_imgmeta.exceptions.PolicyLoadError`.
    """

    def __init__(self, kind, option, policies, errors):
        self.kind = kind
        self.option = option
        self.policies = policies
        self.errors = errors

    @property
    def names(self):
        return [name for name, _policy in self.policies]

    def __repr__(self):
        return '<PolicyChain %s %r errors=%d>' % (self.kind, self.names,
                                                  len(self.errors))


def make_manager(namespace, names, conf, on_load_failure_callback):
    """Build the stevedore manager exactly as the dispatchers do."""
    return named.NamedExtensionManager(
        namespace,
        names=names,
        name_order=True,
        invoke_on_load=True,
        invoke_kwds={'conf': conf},
        on_load_failure_callback=on_load_failure_callback)


def build_chain(kind, conf, manager=None):
    """Load the chain of ``kind`` configured in ``conf``.

    :param kind: ``'rebuild'`` or ``'snapshot'``.
    :param conf: a ConfigOpts; the ``[nova_imgmeta]`` options are registered
        on it if needed.
    :param manager: a ready stevedore manager (tests build one with
        ``NamedExtensionManager.make_test_instance``); by default one is
        made with :func:`make_manager`.
    :returns: :class:`PolicyChain`; never raises for a plugin's fault.
    """
    spec = KINDS[kind]
    opts.register_opts(conf)
    errors = []
    try:
        names = list(opts.get_option(conf, spec.option) or [])
    except exceptions.ConfigError as exc:
        errors.append(exceptions.PolicyLoadError('*', spec.option,
                                                 exc.reason))
        return PolicyChain(kind, spec.option, [], errors)

    failed = collections.OrderedDict()

    def on_load_failure(_manager, entrypoint, exc):
        name = getattr(entrypoint, 'name', None) or str(entrypoint)
        failed[name] = _reason(exc)

    if manager is None and names:
        try:
            manager = make_manager(spec.namespace, names, conf,
                                   on_load_failure)
        except Exception as exc:  # stevedore itself failed
            errors.append(exceptions.PolicyLoadError(
                ','.join(names), spec.option,
                'cannot load the namespace %s: %s'
                % (spec.namespace, _reason(exc))))
            return PolicyChain(kind, spec.option, [], errors)

    loaded = {}
    for ext in (manager or []):
        loaded[ext.name] = ext

    policies = []
    unknown = []
    seen = set()
    for name in names:
        if name in seen:
            errors.append(exceptions.PolicyLoadError(
                name, spec.option, 'listed more than once'))
            continue
        seen.add(name)
        if name in failed:
            errors.append(exceptions.PolicyLoadError(
                name, spec.option, 'failed to load: %s' % failed[name]))
            continue
        ext = loaded.get(name)
        if ext is None:
            unknown.append(name)
            continue
        policy = ext.obj
        if not isinstance(policy, spec.base_class):
            errors.append(exceptions.PolicyLoadError(
                name, spec.option,
                'plugin %r from namespace %s is not a %s.%s'
                % (getattr(ext, 'plugin', policy), spec.namespace,
                   spec.base_class.__module__, spec.base_class.__name__)))
            continue
        policies.append((name, policy))

    if unknown:
        known = _known_names(manager, spec.namespace)
        for name in unknown:
            reason = 'unknown policy: no entry point of that name in %s' % (
                spec.namespace)
            if known:
                reason += ' (installed: %s)' % ', '.join(known)
            errors.append(exceptions.PolicyLoadError(name, spec.option,
                                                     reason))
    return PolicyChain(kind, spec.option, policies, errors)


def _known_names(manager, namespace):
    try:
        if manager is not None and hasattr(manager, 'list_entry_points') \
                and getattr(manager, 'namespace', None) == namespace:
            entry_points = manager.list_entry_points()
        else:
            entry_points = named.NamedExtensionManager(
                namespace, names=[]).list_entry_points()
        return sorted(set(ep.name for ep in entry_points))
    except Exception:
        return []


def _reason(exc):
    text = str(exc)
    name = exc.__class__.__name__
    if isinstance(exc, exceptions.NovaImgmetaError):
        return text
    return '%s: %s' % (name, text) if text else name
