"""Progress lines on stderr for long runs, at most one every few seconds."""

from __future__ import print_function

import sys
import time


class Progress(object):

    def __init__(self, enabled=True, interval=2.0, stream=None):
        self.enabled = enabled
        self.interval = interval
        self.stream = stream or sys.stderr
        self._last = 0.0

    def say(self, message, force=False):
        if not self.enabled:
            return
        now = time.time()
        if force or now - self._last >= self.interval:
            self._last = now
            print('nova-imgmeta: ' + message, file=self.stream)
            try:
                self.stream.flush()
            except (AttributeError, ValueError):
                pass
