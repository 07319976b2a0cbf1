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

"""Record a Glance server's answers to the requests that matter to the
operator commands (tests/glance/glance_answers.py): the raw probes, and
the exchanges of the CLI's Glance layer on a small fixed catalogue.

The server must be running and empty (a fresh database), with the tier's
trusted-auth pipeline, e.g. one started by tests/glance/glance_server.py::

    NOVA_IMGMETA_GLANCE_SERVER=VENV python tests/glance/glance_server.py DIR
    python tools/record-glance-responses.py http://127.0.0.1:PORT \\
        tests/recordings/glance16/recorded.json "Glance 16.0.1 (Queens)"

Run with the Glance tier's venv (.venv-glance/bin/python), from the
repository's top directory.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, 'tests', 'glance')]

import glance_answers  # noqa: E402
import glance_server  # noqa: E402


def main(url, out, source):
    glance_answers.seed(glance_server.AdminClient(url))
    probes = glance_answers.run_probes(url)
    http = glance_answers.RecordingHTTP(url)
    layer = glance_answers.run_layer(http)
    with open(out, 'w') as handle:
        json.dump({'_source': 'recorded from %s on loopback '
                   '(tools/record-glance-responses.py)' % source,
                   'probes': probes, 'layer': {'records': http.records,
                                               'result': layer}},
                  handle, indent=1, sort_keys=True)
        handle.write('\n')
    print('%s: %d probes, %d layer exchanges'
          % (out, len(probes), len(http.records)))


if __name__ == '__main__':
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
