"""Undoing what a failing policy changed, and only that.

The dispatcher saves the dict Nova hands over once per call (:func:`save`:
the dict and a copy of the dicts it holds that policies may change) and
records the changes of every policy that succeeds as *steps*: ``(where,
changes)``, where ``where`` is None for the dict itself or the key of a
dict it holds (``'properties'``), and ``changes`` a list of
:class:`nova_imgmeta.changes.Change`. When a policy fails, :func:`restore`
puts the saved state back and :func:`replay` applies the steps of the
policies that succeeded before it: only the failing policy's changes are
undone, and the built-in policies (whose change lists are complete) cost no
copy of their own.
"""

from nova_imgmeta import changes

__all__ = ['save', 'restore', 'replay', 'diff']


def save(target, keys=None):
    """Return what :func:`restore` needs to put ``target`` back.

    :param keys: the keys of the dicts held by ``target`` to save as well;
        None: every dict it holds.
    """
    top = target.copy()
    if keys is None:
        nested = [(key, value, value.copy()) for key, value in top.items()
                  if isinstance(value, dict)]
    else:
        nested = [(key, top[key], top[key].copy()) for key in keys
                  if isinstance(top.get(key), dict)]
    return top, nested


def restore(target, saved):
    """Put ``target`` and the dicts it held back as :func:`save` found them.

    The dicts it held are the same objects again, with their old content.
    """
    top, nested = saved
    for _key, value, content in nested:
        value.clear()
        value.update(content)
    target.clear()
    target.update(top)


def _copied(value):
    return dict(value) if isinstance(value, dict) else value


def replay(target, steps):
    """Apply recorded ``steps`` to ``target`` again, in order."""
    for where, found in steps:
        container = target if where is None else target.get(where)
        if not isinstance(container, dict):
            continue
        for change in found:
            if change.new is changes.ABSENT:
                container.pop(change.key, None)
            else:
                container[change.key] = _copied(change.new)


def diff(saved, target):
    """Return the steps from the state :func:`save` saw to ``target``'s.

    A dict held by ``target`` that was changed in place gives a step of its
    own; one that was replaced or removed is a change of ``target`` itself
    (its new value copied, so that later changes do not alter the record).
    """
    top, nested = saved
    steps = []
    for key, value, content in nested:
        if target.get(key) is value and value != content:
            steps.append((key, changes.diff(content, value)))
    found = [changes.Change(change.key, change.old, _copied(change.new))
             for change in changes.diff(top, target)]
    if found:
        steps.insert(0, (None, found))
    return steps
