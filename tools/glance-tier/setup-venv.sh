#!/bin/bash
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

# Create the Python 3.11 virtualenv that the Glance test tier runs in:
# a real Glance API server (from PyPI), gunicorn, pytest, and this project
# with its `cli` extra. Idempotent: re-running only fills what is missing.
#
#   tools/glance-tier/setup-venv.sh [VENV]   (default: .venv-glance)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
VENV=${1:-${NOVA_IMGMETA_GLANCE_VENV:-$ROOT/.venv-glance}}
PY=${PYTHON311:-}
if [ -z "$PY" ]; then
    # pyenv's newest 3.11.x, else python3.11 on PATH (it says why not)
    PY=$("$ROOT/tools/find-python" 3.11) || exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -r "$HERE/requirements.txt"
# The project itself is not installed: run-tests.sh puts the checkout on
# PYTHONPATH, so that the venv serves any checkout (and pbr's README.md /
# git metadata are not needed here).
"$VENV/bin/python" -c "import glance, gunicorn, glanceclient, novaclient, keystoneauth1; print('glance tier venv ready: %s' % glance.__file__)"
