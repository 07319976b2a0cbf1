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

"""What a Glance server answers to the requests that matter to the
operator commands, recorded or live, and the shape that must agree.

* :func:`seed` makes a small fixed catalogue (fixed ids, so that URLs with
  markers and ids are the same on every server);
* :data:`PROBES` are raw requests: version document, paging, the hidden
  and visibility parameters, ``id=in:``, a missing image, PATCH
  semantics; :func:`shape` reduces an answer to what the commands rely on;
* :func:`run_layer` drives the CLI's Glance layer
  (``nova_imgmeta.cloud.glance.GlanceAPI``) through an HTTP object that
  records (:class:`RecordingHTTP`) or replays (:class:`ReplayHTTP`).

tools/record-glance-responses.py writes both to
tests/recordings/glance16/recorded.json from a Glance 16.0.1 (Queens)
server; test_glance_recorded.py replays the layer's part and compares
the live server's probe answers with the recorded shapes.
"""

import json

try:
    from urllib.error import HTTPError
    from urllib.request import Request
    from urllib.request import urlopen
except ImportError:  # pragma: no cover
    from urllib2 import HTTPError
    from urllib2 import Request
    from urllib2 import urlopen

from nova_imgmeta.cloud.glance import GlanceAPI

ADMIN = 'admin-project'
PROJECT_A = 'proj-rec-a'
PROJECT_B = 'proj-rec-b'
ROLES = {'admin': (ADMIN, 'admin'), 'member': (PROJECT_A, 'member,reader'),
         'reader': (PROJECT_A, 'reader')}


def _id(number):
    return '5eed0000-0000-4000-8000-%012d' % number


#: name: (id, fields)
IMAGES = [
    ('rec-base-a', _id(1), {'owner': PROJECT_A}),
    ('rec-pub', _id(2), {'owner': ADMIN, 'visibility': 'public'}),
    ('rec-com-b', _id(3), {'owner': PROJECT_B, 'visibility': 'community',
                           'image_type': 'snapshot',
                           'base_image_ref': _id(2)}),
    ('rec-priv-b', _id(4), {'owner': PROJECT_B}),
    ('rec-snap-1', _id(5), {'owner': PROJECT_A, 'image_type': 'snapshot',
                            'base_image_ref': _id(1)}),
    ('rec-snap-2', _id(6), {'owner': PROJECT_A, 'image_type': 'snapshot',
                            'base_image_ref': _id(2)}),
    ('rec-snap-3', _id(7), {'owner': PROJECT_A, 'image_type': 'snapshot'}),
    ('rec-snap-gone', _id(8), {'owner': PROJECT_A, 'image_type': 'snapshot',
                               'base_image_ref': _id(9)}),
    ('rec-patch-me', _id(10), {'owner': PROJECT_A}),
]
MISSING = _id(9)   # never created
NAMES = dict((image_id, name) for name, image_id, _f in IMAGES)
BY_NAME = dict((name, image_id) for name, image_id, _f in IMAGES)
PATCH = 'application/openstack-images-v2.1-json-patch'


def seed(admin):
    """Create the fixed catalogue (once per server)."""
    for name, image_id, fields in IMAGES:
        try:
            admin.get(image_id)
            continue
        except HTTPError as exc:
            if exc.code != 404:
                raise
        body = {'id': image_id, 'name': name, 'disk_format': 'qcow2',
                'container_format': 'bare'}
        body.update(fields)
        admin.create(**body)


def _patch(op, value=None):
    body = {'op': op, 'path': '/base_image_ref'}
    if value is not None:
        body['value'] = value
    return [body]


#: (label, role, method, path, JSON body); GET listings follow "next"
PROBES = [
    ('version document', 'admin', 'GET', '/versions', None),
    ('owner listing, pages of 2', 'admin', 'GET',
     '/v2/images?limit=2&owner=%s' % PROJECT_A, None),
    ('os_hidden=true', 'admin', 'GET',
     '/v2/images?limit=20&owner=%s&os_hidden=true' % PROJECT_A, None),
    ('os_hidden=false', 'admin', 'GET',
     '/v2/images?limit=20&owner=%s&os_hidden=false' % PROJECT_A, None),
    ('visibility=all', 'admin', 'GET',
     '/v2/images?limit=20&owner=%s&visibility=all' % PROJECT_B, None),
    ('visibility=community', 'admin', 'GET',
     '/v2/images?limit=20&owner=%s&visibility=community' % PROJECT_B, None),
    ('default listing of another project (admin)', 'admin', 'GET',
     '/v2/images?limit=20&owner=%s' % PROJECT_B, None),
    ('default listing (non-admin)', 'member', 'GET', '/v2/images?limit=100',
     None),
    ('id=in: look-up', 'admin', 'GET', '/v2/images?limit=20&id=in:%s' %
     ','.join([_id(1), _id(2), MISSING]), None),
    ('GET a missing image', 'admin', 'GET', '/v2/images/%s' % MISSING, None),
    ('PATCH add', 'admin', 'PATCH', '/v2/images/%s' % _id(10),
     _patch('add', 'x')),
    ('PATCH replace', 'admin', 'PATCH', '/v2/images/%s' % _id(10),
     _patch('replace', 'y')),
    ('PATCH remove', 'admin', 'PATCH', '/v2/images/%s' % _id(10),
     _patch('remove')),
    ('PATCH replace of an absent key', 'admin', 'PATCH',
     '/v2/images/%s' % _id(10), _patch('replace', 'z')),
    ('PATCH by a reader', 'reader', 'PATCH', '/v2/images/%s' % _id(10),
     _patch('add', 'r')),
]


class HTTPFailure(Exception):
    """An HTTP error answer, as the layer's client raises it."""

    def __init__(self, status, body):
        super(HTTPFailure, self).__init__('HTTP %d: %s' % (status, body))
        self.code = status
        self.body = body


def request(url, role, method, path, body=None):
    """One raw request: (status, JSON body or text)."""
    project, roles = ROLES[role]
    data = json.dumps(body).encode('utf-8') if body is not None else None
    req = Request(url + path, data=data)
    req.get_method = lambda: method
    for name, value in (('X-Identity-Status', 'Confirmed'),
                        ('X-Tenant-Id', project), ('X-Project-Id', project),
                        ('X-Roles', roles), ('X-User-Id', 'u-' + role)):
        req.add_header(name, value)
    if data is not None:
        req.add_header('Content-Type', PATCH)
    try:
        response = urlopen(req, timeout=60)
        status, text = response.getcode(), response.read()
    except HTTPError as exc:
        status, text = exc.code, exc.read()
    text = text.decode('utf-8')
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def run_probes(url):
    """Every probe's answers: a list of {label, request, answers}; a
    listing's answers are its pages, following "next".
    """
    results = []
    for label, role, method, path, body in PROBES:
        answers = []
        next_path = path
        while next_path and len(answers) < 10:
            status, answer = request(url, role, method, next_path, body)
            answers.append({'path': next_path, 'status': status,
                            'body': answer})
            next_path = None
            if method == 'GET' and isinstance(answer, dict):
                next_path = answer.get('next')
        results.append({'label': label, 'role': role, 'method': method,
                        'body': body, 'answers': answers})
    return results


def shape(probe):
    """What the commands rely on in a probe's answers: status codes, and
    per listing the fixture images it holds (by name) and, for a listing
    of the fixture's projects, its page count;
    for an image, its base_image_ref; for the version document, that it
    lists v2 versions with a status.
    """
    statuses = [a['status'] for a in probe['answers']]
    first = probe['answers'][0]['body']
    if probe['label'] == 'version document':
        ok = all(v.get('id', '').startswith('v2.') and v.get('status')
                 for v in first['versions'])
        return {'statuses': statuses, 'v2 versions with a status': ok}
    if not isinstance(first, dict):
        return {'statuses': statuses}
    if 'images' in first:
        names = []
        for answer in probe['answers']:
            names += [NAMES[i['id']] for i in answer['body']['images']
                      if i['id'] in NAMES]
        result = {'statuses': statuses, 'images': sorted(names)}
        if 'owner=' in probe['answers'][0]['path']:
            # only the fixture's projects: the page count is the fixture's
            result['pages'] = len(statuses)
        return result
    if 'id' in first:
        return {'statuses': statuses,
                'base_image_ref': first.get('base_image_ref')}
    return {'statuses': statuses}


# -- the CLI's Glance layer, recorded and replayed ----------------------

class RecordingHTTP(object):
    """The layer's HTTP client against a live server, recording each
    exchange (as glanceclient's client does, an error answer raises).
    """

    def __init__(self, url, role='admin'):
        self.url = url
        self.role = role
        self.records = []

    def _do(self, method, path, body=None):
        status, answer = request(self.url, self.role, method, path, body)
        self.records.append({'method': method, 'path': path, 'body': body,
                             'status': status, 'answer': answer})
        if status >= 400:
            raise HTTPFailure(status, answer)
        return None, answer

    def get(self, path):
        return self._do('GET', path)

    def patch(self, path, headers=None, data=None):
        return self._do('PATCH', path, json.loads(data))


class ReplayHTTP(object):
    """Serves recorded exchanges; a request never recorded fails."""

    def __init__(self, records):
        self.records = records
        self.asked = []

    def _do(self, method, path, body=None):
        self.asked.append((method, path))
        for record in self.records:
            if (record['method'], record['path'], record['body']) == \
                    (method, path, body):
                if record['status'] >= 400:
                    raise HTTPFailure(record['status'], record['answer'])
                return None, record['answer']
        raise AssertionError('not recorded: %s %s %s (re-record with '
                             'tools/record-glance-responses.py)'
                             % (method, path, body))

    def get(self, path):
        return self._do('GET', path)

    def patch(self, path, headers=None, data=None):
        return self._do('PATCH', path, json.loads(data))


def run_layer(http):
    """What the CLI's Glance layer makes of the fixed catalogue."""
    from nova_imgmeta.cloud.failures import ApiError
    from nova_imgmeta.cloud.glance import set_property_ops
    glance = GlanceAPI(http)
    result = {'version': list(glance.version),
              'has_hidden': glance.has_hidden}
    result['owner A'] = sorted(
        NAMES[i['id']] for i in glance.iter_catalogue(
            page_size=2, filters={'owner': PROJECT_A}) if i['id'] in NAMES)
    result['owner B'] = sorted(
        NAMES[i['id']] for i in glance.iter_catalogue(
            page_size=2, filters={'owner': PROJECT_B}) if i['id'] in NAMES)
    result['look-up'] = dict(
        (NAMES.get(i, i), (image or {}).get('name'))
        for i, image in glance.find_images([_id(2), _id(4), MISSING]))
    image_id = _id(10)
    outcomes = []
    for old, new in (('y-absent', 'v1'), ('v1', 'v2'), ('v2', None),
                     ('v2', 'v3')):
        ops = set_property_ops('base_image_ref',
                               None if old == 'y-absent' else old, new)
        try:
            image = glance.patch_image(image_id, ops)
            outcomes.append(['ok', image.get('base_image_ref')])
        except ApiError as exc:
            outcomes.append(['error', exc.status])
    result['patches'] = outcomes
    return result
