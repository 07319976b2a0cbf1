"""The few Glance v2 calls the operator commands make.

Listing follows Glance's ``next`` links page by page and yields one image at
a time, so memory stays flat whatever the number of images. Writes are one
JSON-patch ``PATCH`` each. The HTTP client is glanceclient's (a keystoneauth1
adapter); any object with ``get(url)`` and ``patch(url, headers=, data=)``
returning ``(response, body)`` will do, which is how tests and the benchmark
count requests.
"""

import json

try:  # Python 3
    from urllib.parse import urlencode
except ImportError:  # Python 2.7
    from urllib import urlencode

from nova_imgmeta.cloud.failures import ApiError, MissingClients, describe

#: Glance's default api_limit_max: the largest page it serves.
DEFAULT_PAGE_SIZE = 1000
PATCH_CONTENT_TYPE = 'application/openstack-images-v2.1-json-patch'


def glance_http(connection):
    """glanceclient's HTTP client for ``connection`` (an ops.auth one)."""
    try:
        import glanceclient
    except ImportError as exc:
        raise MissingClients(str(exc))
    return glanceclient.Client('2', **connection.client_kwargs(
        connection.image_endpoint)).http_client


class GlanceAPI(object):

    def __init__(self, http):
        self.http = http

    @classmethod
    def from_connection(cls, connection):
        return cls(glance_http(connection))

    def _call(self, what, method, url, **kwargs):
        try:
            return getattr(self.http, method)(url, **kwargs)
        except Exception as exc:
            raise describe(exc, what)

    def iter_images(self, page_size=DEFAULT_PAGE_SIZE, filters=None,
                    on_page=None):
        """Yield every image (a dict), one page in memory at a time.

        :param filters: extra query parameters, e.g. {'image_type':
            'snapshot'} or {'visibility': 'all'}.
        :param on_page: called with the number of images of each page.
        """
        params = [('limit', int(page_size))]
        for key in sorted(filters or {}):
            params.append((key, filters[key]))
        url = '/v2/images?' + urlencode(params)
        seen = set()
        while url:
            if url in seen:
                raise ApiError('list images: Glance sent the same "next" '
                               'page twice (%s): its pagination goes round '
                               'in circles; stopping' % url)
            seen.add(url)
            _resp, body = self._call('list images', 'get', url)
            images = body.get('images') or []
            if on_page is not None:
                on_page(len(images))
            for image in images:
                yield image
            url = body.get('next')

    def get_image(self, image_id):
        _resp, body = self._call('GET image %s' % image_id, 'get',
                                 '/v2/images/%s' % image_id)
        return body

    def patch_image(self, image_id, operations):
        """Apply a JSON-patch (a list of operations); return the image."""
        _resp, body = self._call(
            'update image %s' % image_id, 'patch',
            '/v2/images/%s' % image_id,
            headers={'Content-Type': PATCH_CONTENT_TYPE},
            data=json.dumps(operations))
        return body


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
