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

"""An in-memory Glance for the writer's tests on several threads: the
three calls the writer makes, each PATCH taking a while.
"""

import copy
import threading
import time

from nova_imgmeta.cloud import failures as errors

__all__ = ['SlowGlance', 'images', 'rows']

KEY = 'base_image_ref'


class SlowGlance(object):
    """Images in memory; each PATCH takes a while; thread-safe.

    :param landed: called as ``landed(image_id)`` with :attr:`lock` held,
        just before and just after a PATCH changes an image (a test takes
        its snapshots of "the moment the process was killed" there).
    """

    def __init__(self, images, delay=0.005, landed=None):
        self.images = dict((i['id'], copy.deepcopy(i)) for i in images)
        self.delay = delay
        self.landed = landed
        self.lock = threading.Lock()
        self.fail = {}
        self.answer_garbage = set()
        self.fail_read = {}     # read number (1, 2...): its ApiError
        self.in_flight = 0
        self.most_in_flight = 0
        self.reads = 0
        self.patches = 0

    def current_images(self, ids):
        with self.lock:
            self.reads += 1
            if self.reads in self.fail_read:
                raise self.fail_read[self.reads]
            return [(i, copy.deepcopy(self.images[i]) if i in self.images
                     else errors.ApiError('GET image %s: not found' % i,
                                          status=404)) for i in ids]

    def get_image(self, image_id):
        with self.lock:
            return copy.deepcopy(self.images[image_id])

    def patch_image(self, image_id, ops):
        with self.lock:
            self.in_flight += 1
            self.patches += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            time.sleep(self.delay)
            if image_id in self.fail:
                raise self.fail[image_id]
            with self.lock:
                if self.landed is not None:
                    self.landed(image_id)
                image = self.images[image_id]
                for op in ops:
                    if op['op'] == 'remove':
                        del image[op['path'][1:]]
                    else:
                        image[op['path'][1:]] = op['value']
                if self.landed is not None:
                    self.landed(image_id)
            if image_id in self.answer_garbage:
                raise errors.ApiError('update image %s: Glance answered '
                                      'HTTP 200 with Content-Type text/html'
                                      % image_id, status=200, garbage=True)
            return copy.deepcopy(image)
        finally:
            with self.lock:
                self.in_flight -= 1


def images(count, empty_every=0):
    """``count`` snapshots without base_image_ref; with ``empty_every``,
    one in so many has an empty one (a write replaces it, undo puts the
    empty string back).
    """
    result = []
    for number in range(count):
        image = {'id': 'img-%03d' % number, 'image_type': 'snapshot'}
        if empty_every and number % empty_every == 0:
            image[KEY] = ''
        result.append(image)
    return result


def rows(count, empty_every=0):
    """The backfill plan of :func:`images`: a new value for each."""
    return [{'image_id': 'img-%03d' % number,
             'old': '' if empty_every and number % empty_every == 0
             else None,
             'new': 'base-%d' % number, 'source': 'x', 'how': 'nova'}
            for number in range(count)]
