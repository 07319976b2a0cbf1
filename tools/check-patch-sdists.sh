#!/bin/bash
# Check the Nova patch series against every Nova sdist that PyPI serves for
# Pike and Queens: git apply --check and patch -p1 -F0 --dry-run, patch by
# patch (tools/check-patch-tags.py --sdists does the checking).
#
# Usage: tools/check-patch-sdists.sh [VERSION...]
#   NOVA_SDIST_CACHE  where the sdists are kept (default: .cache/nova-sdists
#                     in the checkout); present files are not downloaded
#                     again, so a warm cache needs no network.
#   NOVA_SDIST_JOBS   parallel downloads (default 4)
#   PYTHON            the Python that runs pip and the checker (default:
#                     python3)
#   CHECK_PATCH_MARKDOWN=1  print a Markdown table
# Needs git, patch and pip; exit status 0 only when every sdist passes.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${NOVA_SDIST_CACHE:-$here/.cache/nova-sdists}
python=${PYTHON:-python3}

if [ $# -gt 0 ]; then
    versions=("$@")
else
    versions=(16.1.6 16.1.7 16.1.8
              17.0.7 17.0.8 17.0.9 17.0.10 17.0.11 17.0.12 17.0.13)
fi

for tool in git patch; do
    command -v "$tool" >/dev/null || {
        echo "check-patch-sdists: '$tool' is not installed" >&2; exit 2; }
done

mkdir -p "$cache"
jobs_max=${NOVA_SDIST_JOBS:-4}
# pip download prepares the metadata of an sdist (setup.py egg_info, which
# needs pbr). A small venv kept in the cache holds pbr, so that pip does not
# build an isolated environment for every download (--no-build-isolation).
pipvenv=$cache/.pip-venv
ensure_pip_venv() {
    if [ ! -x "$pipvenv/bin/python" ] || \
            ! "$pipvenv/bin/python" -c 'import pbr, setuptools' 2>/dev/null
    then
        rm -rf "$pipvenv"
        "$python" -m venv "$pipvenv"
        "$pipvenv/bin/python" -m pip install --quiet pbr setuptools wheel \
            2>&1 | grep -v 'is ignored' >&2 || true
    fi
}
download() {
    local v=$1 tmp
    tmp=$(mktemp -d)
    if "$pipvenv/bin/python" -m pip download --quiet --no-deps \
            --no-binary :all: --no-build-isolation --dest "$tmp" "nova==$v" >"$tmp/log" 2>&1 \
            && [ -s "$tmp/nova-$v.tar.gz" ]; then
        mv "$tmp/nova-$v.tar.gz" "$cache/nova-$v.tar.gz"
    else
        echo "check-patch-sdists: cannot download nova==$v:" >&2
        grep -v 'is ignored' "$tmp/log" >&2 || true
    fi
    rm -rf "$tmp"
}
sdists=()
for v in "${versions[@]}"; do
    f="$cache/nova-$v.tar.gz"
    if [ ! -s "$f" ]; then
        echo "downloading nova==$v" >&2
        ensure_pip_venv
        while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do sleep 0.2; done
        download "$v" &
    fi
    sdists+=("$f")
done
wait
for f in "${sdists[@]}"; do
    [ -s "$f" ] || { echo "check-patch-sdists: missing $f" >&2; exit 2; }
done

exec "$python" "$here/tools/check-patch-tags.py" --sdists "${sdists[@]}" \
    ${CHECK_PATCH_MARKDOWN:+--markdown}
