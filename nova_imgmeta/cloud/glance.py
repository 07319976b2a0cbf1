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

"""The few Glance v2 calls the operator commands make.

Listing follows Glance's ``next`` links page by page and yields one image
at a time, so memory stays flat whatever the number of images. The default
listing leaves out hidden images (API v2.7 on) and community images of
other projects, so the whole catalogue is the union of a few listings,
chosen from the API version document (see :meth:`GlanceAPI._scopes`).
Writes are one JSON-patch ``PATCH`` each. The HTTP client is
:class:`nova_imgmeta.cloud.http.JsonHTTP` on a keystoneauth1 adapter for
the ``image`` service; any object with ``get(url)`` and ``patch(url,
headers=, data=)`` returning ``(response, body)`` will do, which is how
tests and the benchmark count requests.

Every answer is checked for the shape the commands rely on (a listing is
an object with a list of images, an image has a string ``id``, the fields
read are strings...): anything else is an
:class:`~nova_imgmeta.cloud.failures.ApiError` naming the request, the
status and what was wrong, never a traceback.
"""

from __future__ import absolute_import

import json
import numbers

try:  # Python 3
    from urllib.parse import urlencode
except ImportError:  # Python 2.7
    from urllib import urlencode

from nova_imgmeta.cloud.ahead import ahead
from nova_imgmeta.cloud.failures import ApiError
from nova_imgmeta.cloud.failures import describe
from nova_imgmeta.cloud.http import garbage

__all__ = ['GlanceAPI', 'api_version', 'check_image', 'set_property_ops']

#: Glance's default api_limit_max: the largest page it serves.
DEFAULT_PAGE_SIZE = 1000
PATCH_CONTENT_TYPE = 'application/openstack-images-v2.1-json-patch'
#: os_hidden came with image API v2.7 (Glance Rocky)
HIDDEN_VERSION = (2, 7)
#: ids per ``id=in:`` look-up (keeps the URL near 2 KB)
LOOKUP_BATCH = 50
#: image fields the commands read, which Glance's schema makes strings
STRING_FIELDS = ('name', 'status', 'owner', 'created_at', 'visibility',
                 'image_type', 'base_image_ref', 'instance_uuid',
                 'checksum', 'os_hash_algo', 'os_hash_value')
_STRINGS = (type(u''), str)


def glance_http(connection, workers=1):
    """The JSON client of ``connection``'s image service (an auth one)."""
    from nova_imgmeta.cloud.http import JsonHTTP
    return JsonHTTP(connection.adapter('image', connection.image_endpoint,
                                       pool=workers), 'Glance')


def _kind(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, numbers.Number):
        return 'a number'
    if isinstance(value, _STRINGS):
        return 'a string'
    if isinstance(value, list):
        return 'a list'
    if isinstance(value, dict):
        return 'an object'
    return type(value).__name__


def _quote(value, limit=80):
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[:limit] + '...'


def check_image(image):
    """What is wrong with an image of an answer, or None."""
    if not isinstance(image, dict):
        return ('JSON of the wrong shape: an image that is %s, not an '
                'object' % _kind(image))
    image_id = image.get('id')
    if image_id is None:
        return 'an image without "id": %s' % _quote(image)
    if not isinstance(image_id, _STRINGS) or not image_id:
        return 'an image whose "id" is %s (%s), not an image id' % (
            _kind(image_id), _quote(image_id))
    for key in STRING_FIELDS:
        value = image.get(key)
        if value is not None and not isinstance(value, _STRINGS):
            return 'image %s: "%s" is %s (%s), not a string' % (
                image_id, key, _kind(value), _quote(value))
    size = image.get('size')
    if size is not None and (isinstance(size, bool) or
                             not isinstance(size, numbers.Integral)):
        return 'image %s: "size" is %s (%s), not a whole number' % (
            image_id, _kind(size), _quote(size))
    return None


def _check_listing(body):
    if not isinstance(body, dict) or not isinstance(body.get('images'),
                                                    list):
        if isinstance(body, dict) and 'images' in body:
            return ('JSON of the wrong shape: "images" is %s, not a list'
                    % _kind(body['images']))
        return ('JSON of the wrong shape: %s, not an object with "images"'
                % (_kind(body) if not isinstance(body, dict) else
                   'an object without "images"'))
    following = body.get('next')
    if following is not None and not isinstance(following, _STRINGS):
        return '"next" is %s (%s), not a link' % (
            _kind(following), _quote(following))
    for image in body['images']:
        problem = check_image(image)
        if problem:
            return problem
    return None


def _check_versions(body):
    if not isinstance(body, dict) or not isinstance(body.get('versions'),
                                                    list):
        return ('JSON of the wrong shape: %s, not an object with '
                '"versions"' % _kind(body))
    if api_version(body) is None:
        return ('a version document that lists no image API v2 version '
                '(CURRENT or SUPPORTED)')
    return None


def api_version(document):
    """The highest v2 API version (a tuple) that Glance's version document
    lists as CURRENT or SUPPORTED, or None.
    """
    best = None
    versions = (document or {}).get('versions') or ()
    for version in versions if isinstance(versions, list) else ():
        if not isinstance(version, dict) or version.get('status') not in (
                'CURRENT', 'SUPPORTED'):
            continue
        text = version.get('id')
        if not isinstance(text, _STRINGS):
            continue
        text = text.lstrip('v')
        try:
            number = tuple(int(part) for part in text.split('.'))
        except ValueError:
            continue
        if number[:1] == (2,) and (best is None or number > best):
            best = number
    return best


class GlanceAPI(object):

    def __init__(self, http, warn=None):
        self.http = http
        self.warn = warn or (lambda message: None)
        self._version = None
        self._all_visibility = None   # visibility=all: unknown until tried

    @classmethod
    def from_connection(cls, connection, warn=None, workers=1):
        return cls(glance_http(connection, workers), warn=warn)

    def _call(self, what, method, url, check=None, **kwargs):
        """The body of one request, checked with ``check(body)`` (which
        returns what is wrong with it, or None).
        """
        try:
            response, body = getattr(self.http, method)(url, **kwargs)
        except Exception as exc:
            raise describe(exc, what)
        problem = check(body) if check is not None else None
        if problem:
            raise garbage('Glance', method, url, response, problem, what)
        return body

    # -- what this Glance supports ------------------------------------
    @property
    def version(self):
        """The image API version, from ``GET /versions`` (once); (2, 0)
        when Glance does not say, so that nothing newer is assumed.
        """
        if self._version is None:
            try:
                body = self._call('read the Glance API version document',
                                  'get', '/versions', check=_check_versions)
                self._version = api_version(body)
            except ApiError as exc:
                if exc.status != 404:
                    raise
                # /versions not routed (a proxy that passes /v2 only)
                self.warn('Glance has no version document (%s): assuming '
                          'API v2.0 (no hidden images)' % exc)
                self._version = (2, 0)
        return self._version

    @property
    def has_hidden(self):
        """os_hidden (API v2.7, Rocky): hidden images are left out of the
        default listing. Older Glance takes ``os_hidden`` for an image
        property filter (and lists nothing), so it is sent only here.
        """
        return self.version >= HIDDEN_VERSION

    def _scopes(self):
        """The listings that together hold every image: (filters, label)."""
        if self._all_visibility is None:
            # visibility=all came in Stein, still API v2.7 (as Rocky):
            # only trying tells; Glance before v2.7 refuses it (400)
            self._all_visibility = self.has_hidden
        if self._all_visibility:
            visibilities = [{'visibility': 'all'}]
        else:
            # without visibility Glance lists no community image of
            # another project; community images are listed on their own
            visibilities = [{}, {'visibility': 'community'}]
        hidden = [{}, {'os_hidden': 'true'}] if self.has_hidden else [{}]
        for one in visibilities:
            for other in hidden:
                scope = dict(one)
                scope.update(other)
                yield scope

    # -- reading ------------------------------------------------------
    def iter_catalogue(self, page_size=DEFAULT_PAGE_SIZE, filters=None,
                       on_page=None):
        """Yield every image the credentials can see (hidden and community
        images included, as far as this Glance has them), one page in
        memory at a time. An image may be yielded twice (it is in two
        listings): callers key by id.
        """
        for scope in list(self._scopes()):
            query = dict(filters or {})
            query.update(scope)
            try:
                for image in self.iter_images(page_size, query, on_page,
                                              read_ahead=True):
                    yield image
            except ApiError as exc:
                if scope.get('visibility') == 'all' and exc.status == 400:
                    # a Rocky Glance: API v2.7 without visibility=all
                    self._all_visibility = False
                    for image in self.iter_catalogue(page_size, filters,
                                                     on_page):
                        yield image
                    return
                raise

    def iter_images(self, page_size=DEFAULT_PAGE_SIZE, filters=None,
                    on_page=None, read_ahead=False):
        """Yield every image of one listing (a dict), following Glance's
        ``next`` links, one page in memory at a time.

        :param filters: query parameters, e.g. {'owner': ...} or
            {'visibility': 'community'}.
        :param on_page: called with the number of images of each page.
        :param read_ahead: read the next page in a thread while this one
            is worked on (:mod:`nova_imgmeta.cloud.ahead`).
        """
        params = [('limit', int(page_size))]
        for key in sorted(filters or {}):
            params.append((key, filters[key]))
        pages = self._pages('/v2/images?' + urlencode(params))
        for images in ahead(pages) if read_ahead else pages:
            if on_page is not None:
                on_page(len(images))
            for image in images:
                yield image

    def _pages(self, url):
        """Each page's list of images, checked."""
        seen = set()
        while url:
            if url in seen:
                raise garbage('Glance', 'GET', url, None,
                              'the same "next" link twice: its pagination '
                              'goes round in circles', 'list images')
            seen.add(url)
            body = self._call('list images', 'get', url,
                              check=_check_listing)
            yield body['images']
            url = body.get('next')

    def find_images(self, image_ids, search=True, batch=LOOKUP_BATCH):
        """Look up images by id: yield ``(id, image dict or None)`` for
        each, None meaning that a GET answered 404 (it does not exist, or
        is not visible to these credentials).

        Batched: one ``id=in:`` listing per ``batch`` ids finds most of
        them; each id that listing does not show (a deleted image, or one
        a listing leaves out) is then asked for by its own GET.
        ``search=False`` skips the batched listing, for ids that a whole
        catalogue listing already missed.
        """
        image_ids = sorted(set(image_ids))
        for start in range(0, len(image_ids), batch):
            chunk = image_ids[start:start + batch]
            found = {}
            if search and len(chunk) > 1:
                found = dict(self._batch(chunk))
            for image_id in chunk:
                image = found.get(image_id)
                if image is None:
                    image = self.get_image_or_none(image_id)
                yield image_id, image

    def get_image(self, image_id):
        def check(body):
            problem = check_image(body)
            if problem is None and body['id'] != image_id:
                problem = 'image %s instead' % body['id']
            return problem
        return self._call('GET image %s' % image_id, 'get',
                          '/v2/images/%s' % image_id, check=check)

    def get_image_or_none(self, image_id):
        """The image, or None when Glance answers 404."""
        try:
            return self.get_image(image_id)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    def patch_image(self, image_id, operations):
        """Apply a JSON-patch (a list of operations); return the image."""
        return self._call(
            'update image %s' % image_id, 'patch',
            '/v2/images/%s' % image_id, check=check_image,
            headers={'Content-Type': PATCH_CONTENT_TYPE},
            data=json.dumps(operations))

    def current_images(self, image_ids):
        """Read images again just before changing them: a list of ``(id,
        image dict or the non-fatal ApiError of its GET, 404 included)``.
        One ``id=in:`` listing for them all (at most
        :data:`LOOKUP_BATCH`), one GET for each id it does not show
        (hidden, deleted).
        """
        ids = list(image_ids)
        found = dict(self._batch(ids)) if len(ids) > 1 else {}
        result = []
        for image_id in ids:
            image = found.get(image_id)
            if image is None:
                try:
                    image = self.get_image(image_id)
                except ApiError as exc:
                    if exc.fatal:
                        raise
                    image = exc
            result.append((image_id, image))
        return result

    def _batch(self, chunk):
        """(id, image) of the images one ``id=in:`` listing shows."""
        scope = {'id': 'in:' + ','.join(chunk)}
        if self.has_hidden and self._all_visibility is not False:
            scope['visibility'] = 'all'
        try:
            # one more than asked: a full page would make Glance
            # link to one more, empty, page
            for image in self.iter_images(len(chunk) + 1, scope):
                yield image['id'], image
        except ApiError as exc:
            if exc.fatal:
                raise
            # an id Glance cannot take in a list: one GET each


def set_property_ops(key, old, new):
    """JSON-patch operations turning property ``key`` from old to new.

    ``None`` means "absent": old None adds the key, new None removes it.
    An existing value is changed with ``replace``, which Glance refuses
    with 409 if the key vanished meanwhile (it never silently adds it).
    """
    path = '/' + key
    if new is None:
        return [{'op': 'remove', 'path': path}]
    if old is None:
        return [{'op': 'add', 'path': path, 'value': new}]
    return [{'op': 'replace', 'path': path, 'value': new}]
