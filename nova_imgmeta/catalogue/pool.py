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

"""A fixed number of threads working through units of work (``--workers``).

Python 2.7's standard library has no ``concurrent.futures``: plain
threads and a bounded queue, so that the producer never runs more than a
few units ahead of the writes (what it reads stays fresh). Once
``stopped()`` says so (a fatal error, Ctrl-C), no new unit starts; the
units under way finish their current request, so that nothing is left
half-written. With one worker the units run in the calling thread.
"""

from __future__ import absolute_import

import logging
import sys
import threading

from nova_imgmeta import compat

try:  # Python 3
    import queue
except ImportError:  # Python 2.7
    import Queue as queue

__all__ = ['run']

LOG = logging.getLogger(__name__)

_END = object()
_POLL = 0.2   # seconds: Python 2.7 blocks Ctrl-C in untimed waits


def run(work, units, workers=1, stop=None):
    """Call ``work(unit)`` for every unit, on ``workers`` threads.

    :param stop: a ``threading.Event``: once set (by ``work`` on a fatal
        error, or here on Ctrl-C or a bug) no new unit starts; ``work``
        checks it between its own steps.
    :raises: the first exception ``work`` raised (a bug: expected failures
        are the work's own business), once every thread has stopped.
    """
    stop = stop if stop is not None else threading.Event()
    if workers <= 1:
        try:
            for unit in units:
                if stop.is_set():
                    break
                work(unit)
        except BaseException:
            stop.set()
            raise
        return
    failures = []

    def loop():
        while True:
            try:
                unit = pending.get(timeout=_POLL)
            except queue.Empty:
                continue
            if unit is _END:
                return
            if stop.is_set():
                continue
            try:
                work(unit)
            except BaseException:
                failures.append(sys.exc_info())
                stop.set()

    pending = queue.Queue(maxsize=workers)
    threads = [threading.Thread(target=loop, name='nova-imgmeta-%d' % n)
               for n in range(workers)]
    for thread in threads:
        thread.daemon = True
        thread.start()
    try:
        for unit in units:
            if not _put(pending, unit, stop):
                break
    except BaseException:
        stop.set()   # Ctrl-C: the units under way finish, no other starts
        raise
    finally:
        for _thread in threads:
            _put(pending, _END, None)
        for thread in threads:
            while thread.is_alive():
                thread.join(_POLL)
    if failures:
        compat.reraise(*failures[0])


def _put(pending, item, stop):
    """Queue ``item`` unless ``stop`` is set while waiting."""
    while True:
        if stop is not None and stop.is_set():
            return False
        try:
            pending.put(item, timeout=_POLL)
            return True
        except queue.Full:
            continue
