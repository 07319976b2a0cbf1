# Shared settings for the real-Nova test tier. Sourced, not executed.
#
#   SERIES=queens . tools/nova-tier/lib.sh
#
# Everything big (sdists, venvs, unpacked Nova trees, stestr repositories)
# lives under $NOVA_TIER_CACHE (default ~/.cache/nova-imgmeta), never in the
# git checkout.

set -euo pipefail

NOVA_TIER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$NOVA_TIER_DIR/../.." && pwd)
NOVA_TIER_CACHE=${NOVA_TIER_CACHE:-$HOME/.cache/nova-imgmeta}

case "${SERIES:-}" in
    pike) NOVA_VERSION=${NOVA_VERSION:-16.1.8} ;;
    queens) NOVA_VERSION=${NOVA_VERSION:-17.0.13} ;;
    *) echo "unknown series '${SERIES:-}': use pike or queens" >&2; exit 2 ;;
esac

CONSTRAINTS=$REPO_ROOT/tests/nova/constraints/upper-constraints-$SERIES.txt
ENV_ROOT=$NOVA_TIER_CACHE/nova-$SERIES
VENV=$ENV_ROOT/venv
PATCHED_TREE=$ENV_ROOT/patched/nova-$NOVA_VERSION
PRISTINE_TREE=$ENV_ROOT/pristine/nova-$NOVA_VERSION
SDIST_DIR=$NOVA_TIER_CACHE/sdist
SDIST=$SDIST_DIR/nova-$NOVA_VERSION.tar.gz
BOOTSTRAP=$NOVA_TIER_CACHE/bootstrap
LOG_DIR=$ENV_ROOT/logs
PATCH_ROOT=$REPO_ROOT/nova_imgmeta/patches

log() { printf '\n[nova-tier %s %s] %s\n' "$SERIES" "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { printf '\n[nova-tier %s] ERROR: %s\n' "$SERIES" "$*" >&2; exit 1; }

# Python 2.7 interpreter: $NOVA_TIER_PY27, else pyenv's 2.7.18, else python2.7.
find_py27() {
    if [ -n "${NOVA_TIER_PY27:-}" ]; then echo "$NOVA_TIER_PY27"; return; fi
    if command -v pyenv >/dev/null 2>&1 && pyenv prefix 2.7.18 >/dev/null 2>&1; then
        echo "$(pyenv prefix 2.7.18)/bin/python"; return
    fi
    command -v python2.7 || die "no Python 2.7 found (set NOVA_TIER_PY27)"
}

# Python 3 used only to host virtualenv<20.22 (the last release that creates
# Python 2.7 environments).
find_py3() {
    if [ -n "${NOVA_TIER_PY3:-}" ]; then echo "$NOVA_TIER_PY3"; return; fi
    if command -v pyenv >/dev/null 2>&1 && pyenv prefix 3.11.7 >/dev/null 2>&1; then
        echo "$(pyenv prefix 3.11.7)/bin/python"; return
    fi
    command -v python3 || die "no python3 found (set NOVA_TIER_PY3)"
}

# Resolve the patch series for $SERIES/$NOVA_VERSION. Prints the directory
# holding the quilt `series` file. Reads nova_imgmeta/patches/MAP
# ("FIRST LAST SERIESDIR" a line, versions inclusive) when present, else
# uses nova_imgmeta/patches/<series>/series. NOVA_TIER_SERIES_DIR overrides.
version_le() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$1" ]; }
series_dir() {
    if [ -n "${NOVA_TIER_SERIES_DIR:-}" ]; then echo "$NOVA_TIER_SERIES_DIR"; return; fi
    local mapf=$PATCH_ROOT/MAP first last d rest
    if [ -f "$mapf" ]; then
        while read -r first last d rest; do
            case "$first" in ''|'#'*) continue ;; esac
            [ -n "$d" ] || continue
            if version_le "$first" "$NOVA_VERSION" && version_le "$NOVA_VERSION" "$last"; then
                [ -f "$PATCH_ROOT/$d/series" ] && { echo "$PATCH_ROOT/$d"; return; }
            fi
        done < "$mapf"
    fi
    if [ -f "$PATCH_ROOT/$SERIES/series" ]; then echo "$PATCH_ROOT/$SERIES"; return; fi
    echo ""
}

# The patch files of the series, in order (absolute paths).
series_patches() {
    local d=$1
    local p
    while read -r p rest; do
        case "$p" in ''|'#'*) continue ;; esac
        echo "$d/$p"
    done < "$d/series"
}

venv_on_path() {
    export PATH="$VENV/bin:$PATH"
    export VIRTUAL_ENV="$VENV"
    export PYTHON="$VENV/bin/python"
    unset PYTHONHOME
}
