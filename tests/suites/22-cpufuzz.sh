#!/bin/sh
# 22-cpufuzz: random instruction bytes in real, 16/32-bit protected (ring 0
# and 3), V86 and paged modes; passes when the process neither crashes nor
# hangs (meant above all for `make asan`).  VSX_FUZZ_SEED / VSX_FUZZ_SECONDS
# override the fixed seed and the 20-second budget.
: "${BUILD:=build}"
if [ ! -x "$BUILD/tests/cpufuzz" ]; then
    echo "FAIL cpufuzz: $BUILD/tests/cpufuzz was not built"
    exit 1
fi
seed=${VSX_FUZZ_SEED:-0x7e57f022}
secs=${VSX_FUZZ_SECONDS:-20}
out=$(mktemp /tmp/vsx-fuzz.XXXXXX)
timeout $((secs * 3 + 30)) "$BUILD/tests/cpufuzz" -s "$seed" -t "$secs" -n 3000 >"$out" 2>"$out.err"
rc=$?
cat "$out"
if [ $rc -eq 124 ]; then
    echo "FAIL cpufuzz: hung (seed $seed; last: $(tail -1 "$out"))"
elif [ $rc -ne 0 ] && ! grep -q '^FAIL' "$out"; then
    echo "FAIL cpufuzz: exit status $rc (seed $seed): $(grep -m1 -E 'ERROR|runtime error|Sanitizer' "$out.err" || tail -1 "$out.err")"
    tail -20 "$out.err" >&2
fi
rm -f "$out" "$out.err"
exit 0
