#!/usr/bin/env bash
# Build (or refresh) the Python 2.7 real-Nova environment for one series.
#
#   tools/nova-tier/build-env.sh pike|queens
#
# Steps (each logged):
#   1. virtualenv<20.22 in a bootstrap venv (it creates Python 2.7 venvs);
#   2. the Nova sdist from PyPI (pip download --no-deps --no-binary :all:);
#   3. two unpacked trees: pristine/ (as released) and patched/ (series
#      applied with `patch -p1 -F0` in series order; any reject fails);
#   4. a Python 2.7 venv with Nova's requirements and test requirements
#      (minus tools that do not install or are not needed: bandit, sphinx*,
#      os-api-ref, openstackdocstheme, reno, whereto, psycopg2, gabbi),
#      pinned by tests/nova/constraints/upper-constraints-<series>.txt;
#      the venv is reused while the constraints and Nova version are unchanged;
#   5. Nova installed (editable) from the patched tree;
#   6. the "installing nova-imgmeta upgrades nothing" check: pip freeze,
#      pip install <repo> WITHOUT constraints, pip freeze, diff; anything but
#      the added nova-imgmeta line fails;
#   7. nova.conf generated with Nova's generator config plus
#      --namespace nova_imgmeta.
#
# Environment: NOVA_TIER_CACHE (default ~/.cache/nova-imgmeta),
# NOVA_TIER_PY27, NOVA_TIER_PY3, NOVA_TIER_SERIES_DIR (override the patch
# series directory), NOVA_TIER_ALLOW_NO_SERIES=1 (build an unpatched env when
# the repository has no series yet), NOVA_TIER_SKIP_FREEZE_CHECK=1,
# NOVA_TIER_PACKAGE (what to pip install as nova-imgmeta; default: this repo).
SERIES=${1:-${SERIES:-}}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

BUILD_START=$(date +%s)
mkdir -p "$ENV_ROOT" "$LOG_DIR" "$SDIST_DIR"

# 1. bootstrap virtualenv<20.22 ------------------------------------------------
if [ ! -x "$BOOTSTRAP/bin/virtualenv" ]; then
    log "bootstrap: virtualenv<20.22 in $BOOTSTRAP"
    "$(find_py3)" -m venv "$BOOTSTRAP"
    "$BOOTSTRAP/bin/pip" install -q "virtualenv<20.22"
fi

# 2. Nova sdist ---------------------------------------------------------------
if [ ! -f "$SDIST" ]; then
    log "downloading nova==$NOVA_VERSION sdist"
    "$BOOTSTRAP/bin/pip" download -q --no-deps --no-binary :all: \
        "nova==$NOVA_VERSION" -d "$SDIST_DIR"
fi
[ -f "$SDIST" ] || die "sdist $SDIST not found after download"

# 3. trees --------------------------------------------------------------------
if [ ! -f "$PRISTINE_TREE/setup.cfg" ]; then
    log "unpacking pristine tree $PRISTINE_TREE"
    rm -rf "$(dirname "$PRISTINE_TREE")"; mkdir -p "$(dirname "$PRISTINE_TREE")"
    tar -xzf "$SDIST" -C "$(dirname "$PRISTINE_TREE")"
fi
log "unpacking patched tree $PATCHED_TREE"
rm -rf "$(dirname "$PATCHED_TREE")"; mkdir -p "$(dirname "$PATCHED_TREE")"
tar -xzf "$SDIST" -C "$(dirname "$PATCHED_TREE")"

SDIR=$(series_dir)
: > "$ENV_ROOT/series-applied.txt"
if [ -z "$SDIR" ]; then
    if [ "${NOVA_TIER_ALLOW_NO_SERIES:-0}" = 1 ]; then
        log "WARNING: no patch series under $PATCH_ROOT/$SERIES: the 'patched' tree is UNPATCHED"
    else
        die "no patch series for $SERIES $NOVA_VERSION under $PATCH_ROOT/$SERIES (set NOVA_TIER_ALLOW_NO_SERIES=1 to build unpatched)"
    fi
else
    log "applying series $SDIR/series to $PATCHED_TREE (patch -p1 -F0)"
    while read -r p; do
        [ -f "$p" ] || die "series lists $p but it does not exist"
        if ! out=$(cd "$PATCHED_TREE" && patch -p1 -F0 -N --batch --no-backup-if-mismatch < "$p" 2>&1); then
            echo "$out" >&2
            die "$(basename "$p") does not apply with patch -p1 -F0 to nova $NOVA_VERSION"
        fi
        if echo "$out" | grep -qiE 'fuzz|offset|reject|hunk .* failed'; then
            echo "$out" >&2
            case "$out" in *FAILED*|*reject*) die "$(basename "$p") rejected" ;; esac
            log "note: $(basename "$p") applied with offset (no fuzz allowed, offsets are)"
        fi
        echo "  applied $(basename "$p")" >&2
        echo "$p" >> "$ENV_ROOT/series-applied.txt"
    done < <(series_patches "$SDIR")
    if find "$PATCHED_TREE" -name '*.rej' | grep -q .; then
        die "reject files left in $PATCHED_TREE"
    fi
fi

# 4. venv with Nova's dependencies ---------------------------------------------
STAMP_INPUT="nova=$NOVA_VERSION constraints=$(sha256sum "$CONSTRAINTS" | cut -c1-16) builder=3"
STAMP_FILE=$VENV/.nova-tier-stamp
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP_FILE" 2>/dev/null)" != "$STAMP_INPUT" ]; then
    log "creating Python 2.7 venv $VENV"
    rm -rf "$VENV"
    "$BOOTSTRAP/bin/virtualenv" -q -p "$(find_py27)" "$VENV"
    grep -v -E '^[[:space:]]*(bandit|sphinx|sphinxcontrib-[a-z]*|os-api-ref|openstackdocstheme|reno|whereto|psycopg2|gabbi)([^A-Za-z0-9_.-]|$)' \
        "$PATCHED_TREE/test-requirements.txt" > "$ENV_ROOT/test-requirements.filtered.txt"
    log "installing Nova $NOVA_VERSION requirements + test requirements with $(basename "$CONSTRAINTS")"
    env -u PBR_VERSION "$VENV/bin/pip" install -q --disable-pip-version-check \
        --use-deprecated=legacy-resolver \
        -c "$CONSTRAINTS" \
        -r "$PATCHED_TREE/requirements.txt" \
        -r "$ENV_ROOT/test-requirements.filtered.txt" \
        2>&1 | grep -v -E 'DEPRECATION|WARNING: Url|^$' >&2 || true
    "$VENV/bin/python" -c 'import oslo_config, stestr, hacking, testtools' \
        || die "dependency installation failed"
    echo "$STAMP_INPUT" > "$STAMP_FILE"
else
    log "reusing venv $VENV ($STAMP_INPUT)"
fi

# 5. Nova from the patched tree ------------------------------------------------
log "installing nova (editable) from the patched tree"
PBR_VERSION=$NOVA_VERSION "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e "$PATCHED_TREE" \
    2>&1 | grep -v -E 'DEPRECATION|WARNING: Url|^$' >&2 || true
"$VENV/bin/python" - "$PATCHED_TREE" <<'EOF' || die "nova does not import from the patched tree"
import os, sys
import nova
assert os.path.realpath(os.path.dirname(nova.__file__)).startswith(os.path.realpath(sys.argv[1])), nova.__file__
from nova import version
print("nova %s from %s" % (version.version_string(), os.path.dirname(nova.__file__)))
EOF

# 6. installing nova-imgmeta upgrades nothing --------------------------------------
# pip 20.3 (the last for Python 2.7) copies a source directory before
# building it, virtualenvs included: install from a clean copy of the
# checkout (with .git, for pbr's version), without venvs and build output.
if [ -n "${NOVA_TIER_PACKAGE:-}" ]; then
    PACKAGE=$NOVA_TIER_PACKAGE
else
    PACKAGE=$ENV_ROOT/nova-imgmeta-src
    rm -rf "$PACKAGE"; mkdir -p "$PACKAGE"
    tar -C "$REPO_ROOT" --exclude='./.venv*' --exclude=./.tox --exclude=./.ci-venv \
        --exclude=./work-nova --exclude=./build --exclude=./dist --exclude=./.eggs \
        --exclude='*.egg-info' --exclude=__pycache__ --exclude='*.pyc' \
        --exclude=./.benchmarks --exclude=./.pytest_cache --exclude=./.cache \
        -cf - . | tar -C "$PACKAGE" -xf -
fi
log "freeze check: pip install $PACKAGE (no constraints) must only add nova-imgmeta"
"$VENV/bin/pip" uninstall -q -y nova-imgmeta nova-imgmeta-itplugins >/dev/null 2>&1 || true
"$VENV/bin/pip" freeze --all --disable-pip-version-check 2>/dev/null | sort > "$ENV_ROOT/freeze-before.txt"
"$VENV/bin/pip" install --disable-pip-version-check "$PACKAGE" > "$LOG_DIR/pip-install-nova-imgmeta.log" 2>&1 \
    || { cat "$LOG_DIR/pip-install-nova-imgmeta.log" >&2; die "pip install $PACKAGE failed"; }
"$VENV/bin/pip" freeze --all --disable-pip-version-check 2>/dev/null | sort > "$ENV_ROOT/freeze-after.txt"
diff -u "$ENV_ROOT/freeze-before.txt" "$ENV_ROOT/freeze-after.txt" > "$ENV_ROOT/freeze.diff" || true
echo "----- pip freeze diff (before/after pip install nova-imgmeta) -----"
grep -E '^[-+][^-+]' "$ENV_ROOT/freeze.diff" || echo "(no difference)"
echo "-------------------------------------------------------------------"
BAD=$(grep -E '^[-+][^-+]' "$ENV_ROOT/freeze.diff" | grep -v -i -E '^\+nova[-_]imgmeta([=@ ]|$)' || true)
ADDED=$(grep -c -i -E '^\+nova[-_]imgmeta([=@ ]|$)' "$ENV_ROOT/freeze.diff" || true)
if [ -n "$BAD" ]; then
    if [ "${NOVA_TIER_SKIP_FREEZE_CHECK:-0}" = 1 ]; then
        log "WARNING (ignored): installing nova-imgmeta changed: $BAD"
    else
        die "installing nova-imgmeta changed installed packages on $SERIES:
$BAD"
    fi
fi
[ "$ADDED" = 1 ] || die "nova-imgmeta was not added by pip install"
INSTALLED=$(grep -o 'Successfully installed .*' "$LOG_DIR/pip-install-nova-imgmeta.log" | sed 's/Successfully installed //' || true)
echo "FREEZE CHECK ($SERIES): OK - only nova-imgmeta added ($INSTALLED), nothing upgraded, downgraded or removed ($(wc -l < "$ENV_ROOT/freeze-before.txt") packages before)"

# 7. nova.conf with our namespace --------------------------------------------------
log "generating nova.conf with --namespace nova_imgmeta"
"$VENV/bin/oslo-config-generator" \
    --config-file "$PATCHED_TREE/etc/nova/nova-config-generator.conf" \
    --namespace nova_imgmeta \
    --output-file "$ENV_ROOT/nova.conf.sample" 2> "$LOG_DIR/genconfig.log" \
    || { cat "$LOG_DIR/genconfig.log" >&2; die "oslo-config-generator failed"; }
grep -q '^\[nova_imgmeta\]' "$ENV_ROOT/nova.conf.sample" \
    || die "generated nova.conf has no [nova_imgmeta] section"
echo "GENCONFIG ($SERIES): OK - $ENV_ROOT/nova.conf.sample has [nova_imgmeta] with $(awk '/^\[nova_imgmeta\]/{s=1;next} /^\[/{s=0} s && /^#[a-z_]+ =/{n++} END{print n+0}' "$ENV_ROOT/nova.conf.sample") options, $(grep -c '^\[' "$ENV_ROOT/nova.conf.sample") sections in all"

echo "BUILD ($SERIES): nova $NOVA_VERSION env ready in $(( $(date +%s) - BUILD_START )) s: $VENV"
