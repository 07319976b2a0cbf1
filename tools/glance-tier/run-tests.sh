#!/bin/bash
# The Glance test tier: operator CLI tests against a real Glance API server
# (Glance 33.0.0 from PyPI, Python 3.11, SQLite, filesystem store) started
# by the tests on 127.0.0.1, plus the Nova stand-in checked against
# responses recorded from real Nova Queens.
#
#   tools/glance-tier/run-tests.sh [pytest args]     (default: tests/glance)
#
# NOVA_IMGMETA_GLANCE_VENV: the venv (default <repo>/.venv-glance); it is
# created or completed first by setup-venv.sh.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export NOVA_IMGMETA_GLANCE_VENV=${NOVA_IMGMETA_GLANCE_VENV:-$ROOT/.venv-glance}
if [ -z "${NOVA_IMGMETA_GLANCE_SKIP_SETUP:-}" ]; then
    "$HERE/setup-venv.sh" "$NOVA_IMGMETA_GLANCE_VENV"
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
