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

"""The few Python 2 / 3 differences nova-imgmeta needs, without ``six``.

The plugin runs inside Nova's own Python: 2.7 up to Train, 3 from Ussuri
on. Nova dropped ``six`` in Wallaby (23.0.0) and its environments need not
have it, so nova-imgmeta must not require it there (installing it must add
nothing but itself). These names behave as ``six``'s do.
"""

import sys

__all__ = ['PY2', 'string_types', 'text_type', 'binary_type', 'iteritems',
           'itervalues', 'add_metaclass', 'reraise']

PY2 = sys.version_info[0] == 2

if PY2:  # pragma: no cover (run by the py27 tests)
    string_types = (basestring,)  # noqa: F821
    text_type = unicode  # noqa: F821
    binary_type = str

    def iteritems(mapping):
        return mapping.iteritems()

    def itervalues(mapping):
        return mapping.itervalues()

    # The three-argument raise is a syntax error on Python 3: compiled
    # here only, as six does.
    exec('def reraise(tp, value, tb=None):\n'  # nosec B102
         '    raise tp, value, tb\n')
else:
    string_types = (str,)
    text_type = str
    binary_type = bytes

    def iteritems(mapping):
        return iter(mapping.items())

    def itervalues(mapping):
        return iter(mapping.values())

    def reraise(tp, value, tb=None):
        """Raise ``value`` (of ``tp``) with the traceback ``tb``: an
        exception another thread caught, with where it came from.
        """
        try:
            if value is None:
                value = tp()
            if value.__traceback__ is not tb:
                raise value.with_traceback(tb)
            raise value
        finally:
            value = None
            tb = None


def add_metaclass(metaclass):
    """Class decorator giving the class ``metaclass`` (as ``six``'s)."""
    def wrapper(cls):
        namespace = cls.__dict__.copy()
        slots = namespace.get('__slots__')
        if slots is not None:
            if isinstance(slots, str):
                slots = [slots]
            for name in slots:
                namespace.pop(name)
        namespace.pop('__dict__', None)
        namespace.pop('__weakref__', None)
        return metaclass(cls.__name__, cls.__bases__, namespace)
    return wrapper
