#!/bin/sh
# tests/run.sh -- the one test runner.  Runs the unit-test binary, then every
# suite script tests/suites/*.sh in name order.  Each prints lines
#   PASS name | FAIL name: why | SKIP name: why
# and this script counts them and ends with "N passed, N failed, N skipped".
# Env: VSX (the binary under test), BUILD (build directory).  TESTS=PATTERN
# runs only suites whose file name contains PATTERN.
here=$(cd "$(dirname "$0")" && pwd)
: "${VSX:=$here/../vsx}" "${BUILD:=$here/../build}"
export VSX BUILD
export VSX_TESTS="$here"
log=$(mktemp /tmp/vsx-tests.XXXXXX)
run_suite() { # name command...
    name=$1; shift
    start=$(date +%s)
    out=$(mktemp /tmp/vsx-suite.XXXXXX)
    "$@" >"$out" 2>"$out.err"
    rc=$?
    grep -E '^(PASS|FAIL|SKIP) ' "$out" | tee -a "$log"
    if ! grep -qE '^(PASS|FAIL|SKIP) ' "$out"; then
        echo "FAIL $name: suite printed no result (exit $rc)" | tee -a "$log"
        tail -5 "$out.err"
    elif [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$out"; then
        echo "FAIL $name: suite exited $rc without naming a failure" | tee -a "$log"
        tail -5 "$out.err"
    fi
    echo "# $name: $(( $(date +%s) - start ))s"
    rm -f "$out" "$out.err"
}
if [ -z "$TESTS" ] || echo unit | grep -q "$TESTS"; then
    run_suite unit "$BUILD/unit_tests"
fi
for s in "$here"/suites/*.sh; do
    [ -e "$s" ] || continue
    n=$(basename "$s" .sh)
    [ -n "$TESTS" ] && ! echo "$n" | grep -q "$TESTS" && continue
    run_suite "$n" sh "$s"
done
p=$(grep -c '^PASS ' "$log"); f=$(grep -c '^FAIL ' "$log"); s=$(grep -c '^SKIP ' "$log")
if [ "$f" -gt 0 ]; then echo "failures:"; grep '^FAIL ' "$log"; fi
rm -f "$log"
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ]
