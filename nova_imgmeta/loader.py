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
plugins are imported. Each loaded policy is checked (its base class; that
``apply`` is a plain callable requiring no argument the hook does not
offer, :mod:`nova_imgmeta.signature`) and bound to what the dispatcher
will pass it. Everything that goes wrong (unknown name, import error, bad
option, a plugin that is not a policy, a wrong or ``async`` ``apply``, an
attribute that raises when read) becomes a
:class:`nova_imgmeta.exceptions.PolicyLoadError` in ``chain.errors``: one
broken plugin costs only itself. The caller decides what to do with it
(the plugin logs it, ``nova-imgmeta check-config`` prints it).
"""

import collections
import operator

from stevedore import named

from nova_imgmeta import compat
from nova_imgmeta import exceptions
from nova_imgmeta.policies import base
from nova_imgmeta.policies import builtin
from nova_imgmeta import settings
from nova_imgmeta import signature

__all__ = ['Bound', 'IN_ORDER', 'PolicyChain', 'build_chain']

#: ``Bound.keywords`` of an ``apply`` whose parameters are exactly the
#: hook's arguments, in the hook's order (:data:`signature.IN_ORDER`).
IN_ORDER = signature.IN_ORDER

#: A loaded policy, ready to call: ``apply`` takes ``keywords`` (None: all
#: the hook offers; :data:`IN_ORDER`: all of them, in the order of
#: ``Kind.arguments``, which :attr:`PolicyChain.in_order` reads from the
#: hook's arguments by name) by keyword.
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
    :ivar in_order: ``f(arguments)``: the tuple of the hook's arguments
        (a dict, by name) in the order of the kind's ``Kind.arguments``,
        for the policies bound :data:`IN_ORDER` (one C-level call).
    :ivar built_in: ``((name, apply), ...)`` when every policy that runs
        is trusted and bound :data:`IN_ORDER` (the default chains), else
        None: the dispatcher then runs the chain without any per-policy
        test (it runs on every snapshot).
    """

    def __init__(self, kind, option, policies, errors, idle=()):
        self.kind = kind
        self.option = option
        self.policies = tuple(policies)
        self.errors = errors
        self.idle = list(idle)
        self.in_order = _getter(base.KINDS[kind].arguments)
        self.built_in = None
        if all(bound.trusted and bound.keywords is IN_ORDER
               for bound in self.policies):
            self.built_in = tuple((bound.name, bound.apply)
                                  for bound in self.policies)

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


def _getter(names):
    """``f(mapping)``: the tuple of ``mapping[name]`` for each of names."""
    if len(names) == 1:   # itemgetter of one name returns the value alone
        name = names[0]
        return lambda mapping: (mapping[name],)
    return operator.itemgetter(*names)


class _Refused(Exception):
    """A loaded plugin that cannot run; the message says why."""


def _text(value):
    """``value`` as text for a message; never raises."""
    try:
        return compat.text_type(value)
    except Exception:
        try:
            return compat.text_type(repr(value))
        except Exception:
            return u'<%s object>' % type(value).__name__


def _read(policy, attribute):
    """``policy.<attribute>``; whatever reading it raises is a refusal
    (an option its package forgot to register, a SystemExit...).
    """
    try:
        return getattr(policy, attribute)
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        raise _Refused('reading its %s attribute raised %s'
                       % (attribute, exceptions.describe(exc)))


def _idle(policy):
    """Why the policy has nothing to do (text), or None."""
    idle = _read(policy, 'idle')
    try:
        if not idle:
            return None
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        raise _Refused('reading its idle attribute raised %s (telling '
                       'whether it is true)' % exceptions.describe(exc))
    return _text(idle)


def _is_a(policy, base_class):
    try:
        return isinstance(policy, base_class)
    except BaseException as exc:   # ABCMeta reads policy.__class__
        if exceptions.propagates(exc):
            raise
        raise _Refused('reading its __class__ attribute raised %s'
                       % exceptions.describe(exc))


def _check(policy, spec):
    """``(apply, keywords, why idle or None)`` of a policy.

    :raises _Refused: why it cannot run. Each attribute is read once,
        guarded: whatever it raises costs only this policy.
    """
    apply = _read(policy, 'apply')
    try:
        signature.check(apply)
        keywords = signature.keywords(apply, spec)
    except signature.BadApply as exc:
        raise _Refused(exc.args[0])
    return apply, keywords, _idle(policy)


def _where(policy):
    """``module.Class`` of a loaded plugin, for the messages."""
    cls = type(policy)
    return '%s.%s' % (getattr(cls, '__module__', '?'),
                      getattr(cls, '__name__', '?'))


def _bind(ext, spec, trusted):
    """Check a loaded extension: return ``(Bound, None)`` for a policy
    that runs, ``(None, why)`` for an idle one.

    :raises _Refused: why the policy cannot run, naming its class.
    """
    policy = ext.obj
    try:
        is_policy = _is_a(policy, spec.base_class)
        if is_policy:
            apply, keywords, why = _check(policy, spec)
    except _Refused as exc:
        raise _Refused(u'%s: %s' % (_where(policy), exc.args[0]))
    if not is_policy:
        raise _Refused('plugin %s from namespace %s is not a %s.%s'
                       % (_text(repr(getattr(ext, 'plugin', policy))),
                          spec.namespace, spec.base_class.__module__,
                          spec.base_class.__name__))
    if why is not None:
        return None, why
    return Bound(ext.name, policy, apply, keywords,
                 type(policy) in trusted), None


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
        return builtin.builtin_classes()
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
        names = list(settings.get_option(conf, spec.option) or [])
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
        try:
            bound, why = _bind(ext, spec, trusted)
        except _Refused as exc:
            errors.append(exceptions.PolicyLoadError(name, spec.option,
                                                     exc.args[0]))
            continue
        except BaseException as exc:   # a check of our own broke on it
            if exceptions.propagates(exc):
                raise
            errors.append(exceptions.PolicyLoadError(
                name, spec.option, 'cannot be checked: %s'
                % exceptions.describe(exc)))
            continue
        if bound is None:
            idle.append((name, why))
        else:
            policies.append(bound)
    return PolicyChain(kind, spec.option, policies, errors, idle)
