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


"""How a policy's ``apply`` is called, and whether calling it runs it.

Checked once, at load: ``apply`` must be callable, must not require an
argument that its hook does not offer, and calling it must run its body.
An ``async def`` or a generator ``apply`` only makes a coroutine or a
generator when called, which nova-imgmeta never awaits or iterates: such a
policy would load and then never run, so it is refused. A plain ``apply``
that hands back such an object anyway (a wrapper) is caught when it does
(:func:`unrun`). Works on Python 2.7, where ``inspect`` knows nothing of
coroutines: the code flags are read directly.
"""

import functools
import inspect
import types


from nova_imgmeta import compat
from nova_imgmeta import exceptions

__all__ = ['IN_ORDER', 'BadApply', 'keywords', 'check', 'why_deferred',
           'UNRUN_TYPES', 'unrun']

#: What :func:`keywords` returns for an ``apply`` whose parameters are
#: exactly the hook's arguments, in the order of ``Kind.arguments``: the
#: dispatcher calls it by position (the values picked from the hook's
#: arguments by name), which spares Python matching keyword names.
IN_ORDER = 'in-order'

# CPython's code flags (Include/cpython/code.h); the same since 3.6, the
# last three absent on 2.7, where no code object carries them.
_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ITERABLE_COROUTINE = 0x100
_CO_ASYNC_GENERATOR = 0x200
_DEFERRED = (
    (_CO_ASYNC_GENERATOR, 'an asynchronous generator function (async def '
                          'with yield)'),
    (_CO_COROUTINE, 'a coroutine function (async def)'),
    (_CO_ITERABLE_COROUTINE, 'a generator-based coroutine (types.coroutine)'),
    (_CO_GENERATOR, 'a generator function (it contains yield)'),
)

#: What a call that did not run returns (the object that would run it),
#: and how the log names it.
_UNRUN = dict((kind, name) for kind, name in (
    (types.GeneratorType, 'a generator'),
    (getattr(types, 'CoroutineType', None), 'a coroutine'),   # 3.5
    (getattr(types, 'AsyncGeneratorType', None),              # 3.6
     'an asynchronous generator'),
) if kind is not None)
UNRUN_TYPES = tuple(_UNRUN)


class BadApply(Exception):
    """``apply`` cannot be used; the message says why."""


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


def keywords(apply, spec):
    """Return what to pass ``apply``: :data:`IN_ORDER`, None (all offered,
    by keyword) or a tuple of names.

    :param spec: the hook's :class:`~nova_imgmeta.policies.base.Kind`.
    :raises BadApply: naming what the hook cannot give it.
    """
    try:
        positional_only, named_, required, var_keyword = _parameters(apply)
    except BaseException as exc:   # TypeError, ValueError, a plugin's own
        if exceptions.propagates(exc):
            raise
        raise BadApply('cannot read the signature of apply(): %s'
                       % exceptions.describe(exc))
    expected = ('it must accept keyword arguments among: %s, and may take '
                '**kwargs' % ', '.join(spec.arguments))
    if positional_only:
        raise BadApply('apply() has positional-only parameters (%s); %s'
                       % (', '.join(positional_only), expected))
    unknown = [name for name in required if name not in spec.arguments]
    if unknown:
        raise BadApply(
            'apply() requires %s, which the %s hook does not offer; %s'
            % (', '.join(unknown), spec.name, expected))
    if not var_keyword and tuple(named_) == tuple(spec.arguments):
        return IN_ORDER
    if var_keyword or all(name in named_ for name in spec.arguments):
        return None
    return tuple(name for name in spec.arguments if name in named_)


def _code(function):
    """The code object that calling ``function`` runs first, or None (not
    Python code: a builtin, a class...).
    """
    for _ in range(8):   # partials of partials, methods of callables...
        if isinstance(function, functools.partial):
            function = function.func
        elif inspect.ismethod(function):
            function = function.__func__
        elif inspect.isfunction(function):
            return function.__code__
        elif inspect.isclass(function):
            return None
        else:   # a callable object: its class' __call__, if Python code
            call = getattr(type(function), '__call__', None)
            if not (inspect.isfunction(call) or inspect.ismethod(call)):
                return None
            function = call
    return None


def why_deferred(apply):
    """Why calling ``apply`` would not run its body, or None.

    An ``async def``, ``async def`` with ``yield``, generator or
    ``types.coroutine`` function (or a partial of one, or an object whose
    ``__call__`` is one). A wrapper that returns such an object is caught
    when it runs (:func:`unrun`).
    """
    code = _code(apply)
    flags = getattr(code, 'co_flags', 0)
    for flag, kind in _DEFERRED:
        if flags & flag:
            return kind
    for name, kind in (('iscoroutinefunction', _DEFERRED[1][1]),
                       ('isasyncgenfunction', _DEFERRED[0][1])):
        test = getattr(inspect, name, None)   # Python 3.5 / 3.6 on
        if test is not None and test(apply):
            return kind
    return None


def check(apply):
    """Refuse an ``apply`` that cannot be called, or whose call would not
    run it.

    :raises BadApply: saying why.
    """
    if not callable(apply):
        raise BadApply('apply is not callable (%s)' % type(apply).__name__)
    try:
        kind = why_deferred(apply)
    except BaseException as exc:
        if exceptions.propagates(exc):
            raise
        raise BadApply('cannot tell what apply() is: %s'
                       % exceptions.describe(exc))
    if kind is not None:
        raise BadApply(
            'apply() is %s: calling it returns an object that nova-imgmeta '
            'does not await or iterate, so the policy would never run; make '
            'apply a plain function' % kind)


def unrun(result):
    """Return the error for a call of ``apply`` that returned ``result``,
    an un-run generator or coroutine (closed here, so that Python does not
    warn that it was never awaited).
    """
    close = getattr(result, 'close', None)
    if close is not None:
        # It never ran: a failure to close it has nothing to report.
        try:
            close()
        except Exception:   # nosec B110
            pass
    kind = _UNRUN.get(type(result), 'a generator')
    return TypeError('apply() returned %s instead of running: nova-imgmeta '
                     'does not await or iterate what a policy returns, so '
                     'its work was not done' % kind)
