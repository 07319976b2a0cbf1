#!/usr/bin/env bash
# Apply check over every Nova point release PyPI serves for a series.
#
#   tools/nova-tier/check-apply.sh pike|queens [VERSION...]
#
# For each release (default: 16.1.6-16.1.8 for pike, 17.0.7-17.0.13 for
# queens), downloads the sdist (cached), picks the series from
# nova_imgmeta/patches/MAP, and applies it to a fresh copy both with
# `git apply --check` (RDO: %autosetup -S git) and with `patch -p1 -F0`
# (Debian/Ubuntu quilt). Any reject, fuzz or failure fails the check.
SERIES=${1:-${SERIES:-}}
shift || true
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if [ "$#" -gt 0 ]; then
    VERSIONS=("$@")
else
    case "$SERIES" in
        pike) VERSIONS=(16.1.6 16.1.7 16.1.8) ;;
        queens) VERSIONS=(17.0.7 17.0.8 17.0.9 17.0.10 17.0.11 17.0.12 17.0.13) ;;
    esac
fi

mkdir -p "$SDIST_DIR"
if [ ! -x "$BOOTSTRAP/bin/pip" ]; then
    "$(find_py3)" -m venv "$BOOTSTRAP"
    "$BOOTSTRAP/bin/pip" install -q "virtualenv<20.22"
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/nova-apply.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
FAIL=0
for v in "${VERSIONS[@]}"; do
    NOVA_VERSION=$v
    sd=$SDIST_DIR/nova-$v.tar.gz
    if [ ! -f "$sd" ]; then
        "$BOOTSTRAP/bin/pip" download -q --no-deps --no-binary :all: "nova==$v" -d "$SDIST_DIR" \
            >/dev/null 2>&1 || { echo "nova $v: sdist download FAILED"; FAIL=1; continue; }
    fi
    d=$(series_dir)
    if [ -z "$d" ]; then echo "nova $v: no series in MAP: FAILED"; FAIL=1; continue; fi
    for tool in git patch; do
        rm -rf "$WORK/t"; mkdir -p "$WORK/t"
        tar -xzf "$sd" -C "$WORK/t"
        tree=$WORK/t/nova-$v
        ok=1
        while read -r p; do
            if [ "$tool" = git ]; then
                out=$(cd "$tree" && git apply --check -p1 "$p" 2>&1 && git apply -p1 "$p" 2>&1) || ok=0
            else
                out=$(cd "$tree" && patch -p1 -F0 -N --batch --no-backup-if-mismatch < "$p" 2>&1) || ok=0
                echo "$out" | grep -qiE 'fuzz|FAILED|reject' && ok=0
            fi
            if [ "$ok" = 0 ]; then
                echo "nova $v: $(basename "$p") does not apply with $tool:"; echo "$out" | sed 's/^/    /'
                break
            fi
        done < <(series_patches "$d")
        if [ "$ok" = 1 ]; then
            echo "nova $v: series $(basename "$d") applies with $tool"
        else
            FAIL=1
        fi
    done
done
if [ "$FAIL" != 0 ]; then echo "APPLY CHECK ($SERIES): FAILED"; exit 1; fi
echo "APPLY CHECK ($SERIES): OK for ${VERSIONS[*]}"
