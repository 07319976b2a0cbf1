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

# Create the Python 2.7 virtualenv of Pike's Glance 15.0.2 (from PyPI) that
# the glance-15 tier starts as its server, pinned by Pike's
# upper-constraints (tests/nova/constraints/upper-constraints-pike.txt).
# virtualenv<20.22 (the last release that creates Python 2.7 venvs) comes
# from the tier's Python 3.11 venv. Idempotent.
#
#   tools/glance-tier/setup-glance15.sh [VENV]   (default: .venv-glance15)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TEST_VENV=${NOVA_IMGMETA_GLANCE_VENV:-$ROOT/.venv-glance}
VENV=${1:-${NOVA_IMGMETA_GLANCE_SERVER:-$ROOT/.venv-glance15}}
PY27=${PYTHON27:-}
if [ -z "$PY27" ]; then
    # pyenv's newest 2.7.x, else python2.7 on PATH (it says why not)
    PY27=$("$ROOT/tools/find-python" 2.7) || exit 2
fi
if [ ! -x "$VENV/bin/glance-api" ]; then
    "$TEST_VENV/bin/pip" install -q "virtualenv<20.22"
    rm -rf "$VENV"
    "$TEST_VENV/bin/virtualenv" -q -p "$PY27" "$VENV"
    "$VENV/bin/pip" install -q \
        -c "$ROOT/tests/nova/constraints/upper-constraints-pike.txt" \
        "glance==15.0.2"
fi
"$VENV/bin/python" -c "import glance.api.v2.router, pbr.version; print('glance 15 server venv ready: %s' % pbr.version.VersionInfo('glance').version_string())"
