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

"""Waiting when a service says it is busy (HTTP 429 or 503).

A rate limiter in front of Glance or Nova (haproxy, a WSGI middleware) or
an overloaded API answers 429 or 503, often with ``Retry-After``. The
request was not processed: it is sent again after the wait the answer
asks for (seconds or an HTTP date), else after an exponential wait with
jitter. The wait is shared: one :class:`Gate` per service holds back every
thread of the command, not only the one that was told, so that the
service sees the whole command slow down.
"""

from __future__ import absolute_import

import email.utils
import logging
import random
import threading
import time

__all__ = ['Gate', 'RETRY_STATUSES', 'delay', 'retry_after']

LOG = logging.getLogger(__name__)

#: statuses that mean "not processed, try again later"
RETRY_STATUSES = (429, 503)
#: attempts after the first one
RETRIES = 8
#: the first wait without Retry-After, doubled each attempt, and its cap
FIRST_WAIT = 0.5
MAX_WAIT = 30.0
#: a Retry-After longer than this is not waited for: the command stops
#: (re-running it later resumes)
MAX_RETRY_AFTER = 300.0


def retry_after(value, now=None):
    """Seconds to wait from a ``Retry-After`` header value (delta-seconds
    or an HTTP date), or None when there is none or it cannot be read.
    """
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(int(value)))
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    when = email.utils.mktime_tz(parsed)
    return max(0.0, when - (time.time() if now is None else now))


def delay(attempt, asked=None, rand=random.random):
    """The wait before attempt number ``attempt`` (1 for the first retry):
    what the service asked for, else exponential with jitter.
    """
    if asked is not None:
        return asked
    base = min(MAX_WAIT, FIRST_WAIT * (2 ** (attempt - 1)))
    return base * (0.5 + rand() / 2.0)


class Gate(object):
    """A wait shared by every thread talking to one service."""

    def __init__(self, clock=time.time, sleep=time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._until = 0.0
        #: number of waits asked for, and seconds of waiting asked
        self.waits = 0
        self.waited = 0.0

    def close_for(self, seconds):
        """Hold every thread back for ``seconds`` from now."""
        with self._lock:
            until = self._clock() + seconds
            if until > self._until:
                self._until = until
            self.waits += 1
            self.waited += seconds

    def wait(self):
        """Return once the gate is open."""
        while True:
            with self._lock:
                left = self._until - self._clock()
            if left <= 0:
                return
            self._sleep(min(left, 1.0))
