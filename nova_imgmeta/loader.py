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

"""Loading the configured policy chains through stevedore.

A chain is the ordered list of policies named in ``rebuild_policies`` or
``snapshot_policies``, loaded from their entry-point namespace with
``NamedExtensionManager(names=..., name_order=True)``: only the named
plugins are imported. Each loaded policy is checked (its base class, and
that ``apply`` requires no argument the hook does not offer) and bound to
what the dispatcher will pass it. Everything that goes wrong (unknown name,
import error, bad option, a plugin that is not a policy, a wrong
signature) becomes a :class:`nova_imgmeta.exceptions.PolicyLoadError` in
``chain.errors``; the caller decides what to do with it (the plugin logs
it, ``nova-imgmeta check-config`` prints it).
"""

import collections
import inspect

from stevedore import named

from nova_imgmeta import compat
from nova_imgmeta import exceptions
from nova_imgmeta import opts
from nova_imgmeta.policies import base
from nova_imgmeta.policies import catalog

__all__ = ['Bound', 'IN_ORDER', 'PolicyChain', 'build_chain']

#: ``Bound.keywords`` of an ``apply`` whose parameters are exactly the
#: hook's arguments, in the hook's order: it is called with them by
#: position, which spares building a dict of keyword arguments per call.
IN_ORDER = 'in-order'

#: A loaded policy, ready to call: ``apply`` takes ``keywords`` (None: all
#: the hook offers; :data:`IN_ORDER`: all of them, by position) by keyword.
#: ``trusted`` (a built-in policy) means its returned change list is
#: complete and it changes nothing unless it succeeds: the dispatcher
#: neither saves nor compares the dict around it.
Bound = collections.namedtuple(
    'Bound', ['name', 'policy', 'apply', 'keywords', 'trusted'])


class PolicyChain(object):
    """The loaded policies of one kind, in configured order.

    :ivar kind: ``'rebuild'`` or ``'snapshot'``.
    :ivar option: the option that lists them.
    :ivar policies: list of :class:`Bound`, the policies that run.
    :ivar errors: list of :class:`~nova_imgmeta.exceptions.PolicyLoadError`.
    :ivar idle: ``[(name, why)]`` of the policies that loaded but have
        nothing to do (``Policy.idle``): they are left out of ``policies``.
    """

    def __init__(self, kind, option, policies, errors, idle=()):
        self.kind = kind
        self.option = option
        self.policies = policies
        self.errors = errors
        self.idle = list(idle)

    @property
    def names(self):
        return [bound.name for bound in self.policies]

    def describe(self):
        """The policies that run, and those left idle with why, as text."""
        text = ', '.join(self.names) or '(none)'
        if self.idle:
            text += '; idle: %s' % '; '.join(
                '%s (%s)' % (name, why) for name, why in self.idle)
        return text

    def __repr__(self):
        return '<PolicyChain %s %r errors=%d>' % (self.kind, self.names,
                                                  len(self.errors))


class _BadSignature(Exception):
    pass


def _parameters(apply):
    """``(positional-only, other named, required, takes **kwargs)``."""
    if compat.PY2:
        try:
            spec = inspect.getargspec(apply)
        except TypeError:   # not a Python function: look at __call__
            spec = inspect.getargspec(apply.__call__)
            apply = apply.__call__
        names = list(spec.args)
        if inspect.ismethod(apply) and apply.__self__ is not None:
            names = names[1:]
        required = names[:len(names) - len(spec.defaults or ())]
        return [], names, required, spec.keywords is not None
    signature = inspect.signature(apply)
    positional_only, named_ = [], []
    required, var_keyword = [], False
    for parameter in signature.parameters.values():
        if parameter.kind == parameter.VAR_KEYWORD:
            var_keyword = True
        elif parameter.kind == parameter.VAR_POSITIONAL:
            continue
        elif parameter.kind == parameter.POSITIONAL_ONLY:
            positional_only.append(parameter.name)
        else:
            named_.append(parameter.name)
            if parameter.default is parameter.empty:
                required.append(parameter.name)
    return positional_only, named_, required, var_keyword


def _keywords(apply, spec):
    """Return what to pass ``apply``: :data:`IN_ORDER`, None (all offered,
    by keyword) or a tuple of names.

    :raises _BadSignature: naming what the hook cannot give it.
    """
    try:
        positional_only, named_, required, var_keyword = _parameters(apply)
    except (TypeError, ValueError) as exc:
        raise _BadSignature('cannot read the signature of apply(): %s'
                            % exceptions.describe(exc))
    expected = ('it must accept keyword arguments among: %s, and may take '
                '**kwargs' % ', '.join(spec.arguments))
    if positional_only:
        raise _BadSignature('apply() has positional-only parameters (%s); %s'
                            % (', '.join(positional_only), expected))
    unknown = [name for name in required if name not in spec.arguments]
    if unknown:
        raise _BadSignature(
            'apply() requires %s, which the %s hook does not offer; %s'
            % (', '.join(unknown), spec.name, expected))
    if not var_keyword and tuple(named_) == tuple(spec.arguments):
        return IN_ORDER
    if var_keyword or all(name in named_ for name in spec.arguments):
        return None
    return tuple(name for name in spec.arguments if name in named_)


def _load(spec, names, conf):
    """Load ``names`` from ``spec.namespace``.

    :returns: ``(extensions, failed, missing)``: the loaded extensions,
        ``{name: reason}`` of those that failed to load and the names
        stevedore did not load (the failed ones included).
    """
    failed = collections.OrderedDict()
    missing = set()

    def on_load_failure(_manager, entrypoint, exc):
        # Must not raise: an error here would escape stevedore and lose
        # every policy of the chain (describe() never raises).
        failed[getattr(entrypoint, 'name', None) or
               repr(entrypoint)] = exceptions.describe(exc)

    try:
        manager = named.NamedExtensionManager(
            spec.namespace,
            names=names,
            name_order=True,
            invoke_on_load=True,
            invoke_kwds={'conf': conf},
            on_load_failure_callback=on_load_failure,
            # With this callback, stevedore (1.20 to 5.x) does not log its
            # own "Could not load" warning for the same names.
            on_missing_entrypoints_callback=missing.update)
    except BaseException as exc:
        # stevedore lets AssertionError and BaseException out of a plugin's
        # import or __init__: load the names one by one so that one broken
        # plugin does not take the others with it.
        if exceptions.propagates(exc):
            raise
        if len(names) == 1:
            failed[names[0]] = exceptions.describe(exc)
            return [], failed, set(names)
        extensions = []
        for name in names:
            found, name_failed, name_missing = _load(spec, [name], conf)
            extensions.extend(found)
            failed.update(name_failed)
            missing.update(name_missing)
        return extensions, failed, missing
    return list(manager), failed, missing


def _installed(namespace):
    try:
        manager = named.NamedExtensionManager(namespace, names=[])
        return sorted(set(ep.name for ep in manager.list_entry_points()))
    except Exception:
        return []


def _trusted_classes():
    try:
        return catalog.builtin_classes()
    except Exception:   # not installed: no policy is trusted
        return frozenset()


def build_chain(kind, conf, manager=None):
    """Load the chain of ``kind`` configured in ``conf``.

    :param kind: ``'rebuild'`` or ``'snapshot'``.
    :param conf: a ConfigOpts on which the ``[nova_imgmeta]`` options are
        registered (:func:`nova_imgmeta.opts.register_opts`).
    :param manager: a ready stevedore manager (tests build one with
        ``NamedExtensionManager.make_test_instance``) used instead of the
        entry points.
    :returns: :class:`PolicyChain`; never raises for a plugin's fault.
    """
    spec = base.KINDS[kind]
    errors = []
    try:
        names = list(opts.get_option(conf, spec.option) or [])
    except exceptions.ConfigError as exc:
        errors.append(exceptions.PolicyLoadError('*', spec.option,
                                                 exc.reason))
        return PolicyChain(kind, spec.option, [], errors)

    unique = []
    for name in names:
        if name in unique:
            errors.append(exceptions.PolicyLoadError(
                name, spec.option, 'listed more than once'))
        else:
            unique.append(name)

    if manager is not None:
        extensions = list(manager)
        failed = {}
        missing = set(unique) - set(ext.name for ext in extensions)
    elif unique:
        extensions, failed, missing = _load(spec, unique, conf)
    else:
        extensions, failed, missing = [], {}, set()
    loaded = dict((ext.name, ext) for ext in extensions)
    trusted = _trusted_classes()

    policies = []
    idle = []
    for name in unique:
        if name in failed:
            errors.append(exceptions.PolicyLoadError(
                name, spec.option, 'failed to load: %s' % failed[name]))
            continue
        if name in missing or name not in loaded:
            reason = 'unknown policy: no entry point of that name in %s' % (
                spec.namespace)
            installed = _installed(spec.namespace)
            if installed:
                reason += ' (installed: %s)' % ', '.join(installed)
            errors.append(exceptions.PolicyLoadError(name, spec.option,
                                                     reason))
            continue
        ext = loaded[name]
        policy = ext.obj
        if not isinstance(policy, spec.base_class):
            errors.append(exceptions.PolicyLoadError(
                name, spec.option,
                'plugin %r from namespace %s is not a %s.%s'
                % (getattr(ext, 'plugin', policy), spec.namespace,
                   spec.base_class.__module__, spec.base_class.__name__)))
            continue
        try:
            keywords = _keywords(policy.apply, spec)
        except _BadSignature as exc:
            errors.append(exceptions.PolicyLoadError(
                name, spec.option, '%s.%s: %s'
                % (type(policy).__module__, type(policy).__name__,
                   exc.args[0])))
            continue
        if policy.idle:
            idle.append((name, policy.idle))
            continue
        policies.append(Bound(name, policy, policy.apply, keywords,
                              type(policy) in trusted))
    return PolicyChain(kind, spec.option, policies, errors, idle)
