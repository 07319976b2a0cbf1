#!/usr/bin/env bash
# The real-Nova test tier for one series.
#
#   tools/nova-tier/run.sh pike|queens
#
# 0. build/refresh the environment (build-env.sh: sdist, series applied with
#    patch -p1 -F0, Python 2.7 venv pinned by tests/nova/constraints, the
#    "installing nova-imgmeta upgrades nothing" freeze check, nova.conf
#    generated with --namespace nova_imgmeta);
# a. Nova's own nova.tests.unit.compute.test_compute_api and
#    nova.tests.unit.compute.test_compute, plus the test modules the series
#    adds or changes, with the series applied and nova_imgmeta installed
#    (stestr --concurrency 2);
# b. tests/nova/integration: the real patched API.rebuild and
#    API._initialize_instance_snapshot_metadata with the installed plugin;
# c. tests/nova/functional/test_lineage_e2e.py in Nova's functional harness,
#    on the patched tree (must pass) and on the pristine tree (UNPATCHED=1,
#    must be an expected failure: the bug is seen).
#
# Environment: see build-env.sh; NOVA_TIER_SKIP_BUILD=1 reuses the env as is;
# NOVA_TIER_STAGES (default "a b c") selects stages; NOVA_TIER_CONCURRENCY
# (default 2).
SERIES=${1:-${SERIES:-}}
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

CONCURRENCY=${NOVA_TIER_CONCURRENCY:-2}
STAGES=${NOVA_TIER_STAGES:-a b c}
RESULTS=$ENV_ROOT/results
T_START=$(date +%s)
declare -a SUMMARY=()
FAILED=0

mkdir -p "$LOG_DIR"
if [ "${NOVA_TIER_SKIP_BUILD:-0}" != 1 ]; then
    T0=$(date +%s)
    "$NOVA_TIER_DIR/build-env.sh" "$SERIES" 2>&1 | grep -v -E 'WARNING: Url|^$' | tee "$LOG_DIR/build-env.log"
    [ "${PIPESTATUS[0]}" = 0 ] || die "environment build failed (log: $LOG_DIR/build-env.log)"
    SUMMARY+=("0. env build + freeze check + genconfig: OK in $(( $(date +%s) - T0 )) s")
fi
[ -x "$VENV/bin/python" ] || die "no venv at $VENV: run build-env.sh first"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
venv_on_path
export LANGUAGE=en_US LC_ALL=C.UTF-8 LANG=C.UTF-8 OS_STDOUT_CAPTURE=1 OS_STDERR_CAPTURE=1 \
    OS_TEST_TIMEOUT=${OS_TEST_TIMEOUT:-160} PYTHONDONTWRITEBYTECODE=1
unset UNPATCHED PYTHONPATH LINEAGE_RESULTS_JSON NOVA_EXPECT_TREE || true

# run_stestr NAME WORKDIR TEST_PATH TOP_DIR [filter...]
# Runs stestr in WORKDIR; summarises into $RESULTS/NAME.json; returns stestr's rc.
run_stestr() {
    local name=$1 workdir=$2 test_path=$3 top_dir=$4; shift 4
    local rc=0
    mkdir -p "$workdir"
    rm -rf "$workdir/.stestr"
    ( cd "$workdir" && stestr --test-path "$test_path" --top-dir "$top_dir" \
        run --concurrency "$CONCURRENCY" "$@" ) > "$LOG_DIR/$name.log" 2>&1 || rc=$?
    ( cd "$workdir" && stestr last --subunit 2>/dev/null ) \
        | python "$NOVA_TIER_DIR/subunit_summary.py" "$name" "$RESULTS/$name.json" \
        || true
    if grep -q -E 'ImportError|Failed to import test module|unittest.loader._FailedTest' "$LOG_DIR/$name.log"; then
        echo "  import errors in discovery, see $LOG_DIR/$name.log:" >&2
        grep -E -A3 'Failed to import test module|ImportError' "$LOG_DIR/$name.log" | head -20 >&2
    fi
    if [ ! -s "$RESULTS/$name.json" ]; then
        tail -40 "$LOG_DIR/$name.log" >&2
    fi
    return $rc
}

count() {  # count NAME STATUS
    python -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"][sys.argv[2]])' \
        "$RESULTS/$1.json" "$2" 2>/dev/null || echo 0
}
tests_of() { python -c 'import json,sys; print(json.load(open(sys.argv[1]))["tests"])' "$RESULTS/$1.json" 2>/dev/null || echo 0; }

# Test modules added or changed by the applied series.
series_test_modules() {  # kind: unit|functional
    local kind=$1
    [ -s "$ENV_ROOT/series-applied.txt" ] || return 0
    while read -r p; do
        awk '/^\+\+\+ b\/nova\/tests\// {print $2}' "$p"
    done < "$ENV_ROOT/series-applied.txt" \
        | sed 's#^b/##' | grep -E "^nova/tests/$kind/.*/?test_[^/]*\.py$" \
        | sed 's#\.py$##; s#/#.#g' | sort -u
}

# Deepest common directory (./a/b) of dotted module names.
common_dir() {
    python - "$@" <<'EOF'
import sys
dirs = [m.split('.')[:-1] for m in sys.argv[1:]]
common = dirs[0]
for d in dirs[1:]:
    n = 0
    while n < min(len(common), len(d)) and common[n] == d[n]:
        n += 1
    common = common[:n]
print('./' + '/'.join(common))
EOF
}

# --- a. Nova's own tests -------------------------------------------------------
if [[ " $STAGES " == *" a "* ]]; then
    log "a. Nova's own unit tests (patched tree, nova_imgmeta installed)"
    T0=$(date +%s)
    mapfile -t EXTRA_UNIT < <(series_test_modules unit | grep -v -x -E 'nova\.tests\.unit\.compute\.test_compute(_api)?' || true)
    mapfile -t EXTRA_FUNC < <(series_test_modules functional || true)
    FILTERS=('^nova\.tests\.unit\.compute\.test_compute_api\.' '^nova\.tests\.unit\.compute\.test_compute\.')
    for m in "${EXTRA_UNIT[@]}"; do FILTERS+=("^${m//./\\.}\\."); done
    echo "  modules: nova.tests.unit.compute.test_compute_api nova.tests.unit.compute.test_compute ${EXTRA_UNIT[*]}"
    # Discover only the deepest directory holding every module: stestr
    # discovers once per worker, and the whole unit tree costs minutes (the
    # whole functional tree needs gabbi, which is not installed).
    UNIT_PATH=$(common_dir nova.tests.unit.compute.test_compute "${EXTRA_UNIT[@]}")
    rc=0; run_stestr nova-unit "$PATCHED_TREE" "$UNIT_PATH" ./ "${FILTERS[@]}" || rc=$?
    line="a. Nova unit tests: $(tests_of nova-unit) run, $(count nova-unit success) passed, $(count nova-unit fail) failed, $(count nova-unit skip) skipped"
    [ "$rc" = 0 ] && [ "$(count nova-unit fail)" = 0 ] && [ "$(tests_of nova-unit)" -gt 0 ] || { FAILED=1; line="$line  <== FAILED (rc=$rc, log $LOG_DIR/nova-unit.log)"; }
    if [ "${#EXTRA_FUNC[@]}" -gt 0 ]; then
        echo "  functional modules from the series: ${EXTRA_FUNC[*]}"
        FF=(); for m in "${EXTRA_FUNC[@]}"; do FF+=("^${m//./\\.}\\."); done
        FUNC_PATH=$(common_dir "${EXTRA_FUNC[@]}")
        rc=0; run_stestr nova-functional-series "$PATCHED_TREE" "$FUNC_PATH" ./ "${FF[@]}" || rc=$?
        line="$line; series functional tests ($FUNC_PATH): $(tests_of nova-functional-series) run, $(count nova-functional-series success) passed, $(count nova-functional-series fail) failed"
        [ "$rc" = 0 ] && [ "$(count nova-functional-series fail)" = 0 ] && [ "$(tests_of nova-functional-series)" -gt 0 ] \
            || { FAILED=1; line="$line  <== FAILED (log $LOG_DIR/nova-functional-series.log)"; }
    fi
    SUMMARY+=("$line  [$(( $(date +%s) - T0 )) s]")
fi

# --- b. integration tests ---------------------------------------------------------
if [[ " $STAGES " == *" b "* ]]; then
    log "b. integration tests (tests/nova/integration) against the patched tree"
    T0=$(date +%s)
    # misbehaving test policies, loaded through real entry points
    pip install -q --disable-pip-version-check --no-deps \
        "$REPO_ROOT/tests/nova/integration/testplugin" 2>&1 \
        | grep -v -E 'DEPRECATION|WARNING: Url|^$' >&2 || true
    rc=0; run_stestr integration "$ENV_ROOT/run-integration" \
        "$REPO_ROOT/tests/nova/integration" "$REPO_ROOT/tests/nova/integration" || rc=$?
    line="b. integration: $(tests_of integration) run, $(count integration success) passed, $(count integration fail) failed, $(count integration skip) skipped"
    [ "$rc" = 0 ] && [ "$(count integration fail)" = 0 ] && [ "$(tests_of integration)" -gt 0 ] || { FAILED=1; line="$line  <== FAILED (rc=$rc, log $LOG_DIR/integration.log)"; }
    SUMMARY+=("$line  [$(( $(date +%s) - T0 )) s]")
fi

# --- c. end-to-end, patched and unpatched -------------------------------------------
if [[ " $STAGES " == *" c "* ]]; then
    T0=$(date +%s)
    E2E=$REPO_ROOT/tests/nova/functional
    log "c1. end-to-end lineage test on the PATCHED tree (must pass)"
    rc=0
    NOVA_EXPECT_TREE=$PATCHED_TREE LINEAGE_RESULTS_JSON=$RESULTS/lineage-patched.json \
        run_stestr e2e-patched "$ENV_ROOT/run-e2e-patched" "$E2E" "$E2E" || rc=$?
    l1="c. e2e patched: $(count e2e-patched success) passed, $(count e2e-patched fail) failed"
    [ "$rc" = 0 ] && [ "$(count e2e-patched success)" -ge 1 ] && [ "$(count e2e-patched fail)" = 0 ] \
        || { FAILED=1; l1="$l1  <== FAILED (log $LOG_DIR/e2e-patched.log)"; }
    log "c2. the same test on the PRISTINE tree (UNPATCHED=1: must be an expected failure)"
    rc=0
    UNPATCHED=1 PYTHONPATH=$PRISTINE_TREE NOVA_EXPECT_TREE=$PRISTINE_TREE \
        LINEAGE_RESULTS_JSON=$RESULTS/lineage-unpatched.json \
        run_stestr e2e-unpatched "$ENV_ROOT/run-e2e-unpatched" "$E2E" "$E2E" || rc=$?
    l2="unpatched: $(count e2e-unpatched xfail) expected failure (bug seen), $(count e2e-unpatched success) passed, $(count e2e-unpatched fail) failed, $(count e2e-unpatched uxsuccess) unexpected success"
    [ "$(count e2e-unpatched xfail)" -ge 1 ] && [ "$(count e2e-unpatched success)" = 0 ] \
        && [ "$(count e2e-unpatched fail)" = 0 ] && [ "$(count e2e-unpatched uxsuccess)" = 0 ] \
        || { FAILED=1; l2="$l2  <== FAILED (the unpatched run must be exactly an expected failure; log $LOG_DIR/e2e-unpatched.log)"; }
    python "$NOVA_TIER_DIR/lineage_table.py" \
        "$RESULTS/lineage-unpatched.json" "$RESULTS/lineage-patched.json" || true
    SUMMARY+=("$l1; $l2  [$(( $(date +%s) - T0 )) s]")
fi

echo
echo "================ real-Nova tier: $SERIES (nova $NOVA_VERSION) ================"
echo "series: $(series_dir || true)"
[ -s "$ENV_ROOT/series-applied.txt" ] && sed 's#.*/#  applied: #' "$ENV_ROOT/series-applied.txt"
for l in "${SUMMARY[@]}"; do echo "$l"; done
echo "total time: $(( $(date +%s) - T_START )) s   (logs: $LOG_DIR, results: $RESULTS)"
if [ "$FAILED" != 0 ]; then
    echo "RESULT ($SERIES): FAILED"
    exit 1
fi
echo "RESULT ($SERIES): OK"
