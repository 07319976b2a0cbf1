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

"""Read one item ahead in a thread: the next page of a listing is on its
way while the command works on the current one.

A listing of 100,000 images is a hundred requests, each of which keeps
Glance busy for a while; the command's own work on a page (checking,
indexing) then costs no wall time, and the whole listing takes what Glance
needs. At most three pages are in memory: one being worked on, one
waiting, one being read.
"""

from __future__ import absolute_import

import sys
import threading

from nova_imgmeta import compat

try:  # Python 3
    import queue
except ImportError:  # Python 2.7
    import Queue as queue

__all__ = ['ahead']

_END = object()
_POLL = 0.2   # seconds: Python 2.7 blocks Ctrl-C in untimed waits


def ahead(iterable):
    """Yield the items of ``iterable``, produced one ahead by a thread.

    An exception of ``iterable`` is raised here, at the item it stopped
    at. Leaving the loop early stops the thread after its current item.
    """
    items = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce():
        try:
            for item in iterable:
                if not _put(items, (item, None), stop):
                    return
        except BaseException:
            _put(items, (_END, sys.exc_info()), stop)
            return
        _put(items, (_END, None), stop)

    thread = threading.Thread(target=produce, name='nova-imgmeta-ahead')
    thread.daemon = True
    thread.start()
    try:
        while True:
            try:
                item, failure = items.get(timeout=_POLL)
            except queue.Empty:
                continue
            if item is _END:
                if failure is not None:
                    compat.reraise(*failure)
                return
            yield item
    finally:
        stop.set()


def _put(items, value, stop):
    while not stop.is_set():
        try:
            items.put(value, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False
