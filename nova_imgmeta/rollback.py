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

"""Undoing what another package's policy changed, and only that.

Before a policy of another package runs, the dispatcher saves the dict Nova
hands over (:func:`save`: the dict and a copy of each dict it holds, such as
``image_meta['properties']``); if the policy raises, :func:`restore` puts
both back, and :func:`diff` tells what a policy that succeeded changed, for
the log. The built-in policies need none of this: they change nothing
unless they succeed, and report their changes themselves.
"""

from nova_imgmeta import changes

__all__ = ['save', 'restore', 'diff']


def save(target):
    """Return what :func:`restore` needs to put ``target`` back."""
    top = target.copy()
    nested = [(key, value, value.copy()) for key, value in top.items()
              if isinstance(value, dict)]
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


def diff(saved, target):
    """Return the steps from the state :func:`save` saw to ``target``'s.

    A dict held by ``target`` that was changed in place gives a step of its
    own; one that was replaced or removed is a change of ``target`` itself
    (its new value copied, so that later changes do not alter the log).
    """
    top, nested = saved
    steps = []
    for key, value, content in nested:
        if target.get(key) is value and value != content:
            steps.append((key, changes.diff(content, value)))
    found = [changes.MetadataChange(change.key, change.old,
                                    _copied(change.new))
             for change in changes.diff(top, target)]
    if found:
        steps.insert(0, (None, found))
    return steps
