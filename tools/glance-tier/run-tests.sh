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

# The Glance test tier: operator CLI tests against a real Glance API server
# (Glance 33.0.0 from PyPI under Python 3.11, or Pike's 15.0.2 under Python
# 2.7; SQLite, filesystem store) started by the tests on 127.0.0.1, plus
# the Nova stand-in checked against responses recorded from real Nova
# Queens.
#
#   tools/glance-tier/run-tests.sh [pytest args]     (default: tests/glance)
#
# NOVA_IMGMETA_GLANCE_VENV: the venv (default <repo>/.venv-glance); it is
# created or completed first by setup-venv.sh.
# NOVA_IMGMETA_GLANCE_RELEASE=15.0.2: the server is Pike's Glance 15.0.2
# under Python 2.7 instead (venv NOVA_IMGMETA_GLANCE_SERVER, default
# <repo>/.venv-glance15, made by setup-glance15.sh); the tests and the
# CLI still run in the Python 3.11 venv.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export NOVA_IMGMETA_GLANCE_VENV=${NOVA_IMGMETA_GLANCE_VENV:-$ROOT/.venv-glance}
case "${NOVA_IMGMETA_GLANCE_RELEASE:-}" in
    ""|33.0.0) ;;
    15.0.2) export NOVA_IMGMETA_GLANCE_SERVER=${NOVA_IMGMETA_GLANCE_SERVER:-$ROOT/.venv-glance15} ;;
    *) echo "run-tests.sh: no recipe for Glance $NOVA_IMGMETA_GLANCE_RELEASE" >&2; exit 2 ;;
esac
if [ -z "${NOVA_IMGMETA_GLANCE_SKIP_SETUP:-}" ]; then
    "$HERE/setup-venv.sh" "$NOVA_IMGMETA_GLANCE_VENV"
    if [ -n "${NOVA_IMGMETA_GLANCE_SERVER:-}" ]; then
        "$HERE/setup-glance15.sh" "$NOVA_IMGMETA_GLANCE_SERVER"
    fi
fi
cd "$ROOT"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
# the Glance tier's tests unless a test path is given
case " $* " in
    *" tests/"*|*" ./tests/"*) ;;
    *) set -- "$@" tests/glance ;;
esac
exec "$NOVA_IMGMETA_GLANCE_VENV/bin/python" -m pytest -p no:cacheprovider \
    -W "ignore::DeprecationWarning" -W "ignore::UserWarning" "$@"
