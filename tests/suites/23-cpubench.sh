#!/bin/sh
# 23-cpubench: the shared benchmark guest (/work/shared/bench: ALU loop, the
# same with 4 KiB paging, a TLB-thrashing loop over 1024 pages, REP MOVSD)
# run on the bare core by tests/bin/cpurun; the r1..r3 checksums must equal
# the ones QEMU 7.2 TCG prints for the same variant and iteration count
# (recorded below), so a wrong ALU result, flag, page walk or string copy
# shows up here.  Guest MIPS go to the log for information only.
: "${BUILD:=build}"
# ../shared beside the checkout (as CI has it), else the team's /work/shared.
shared=$(cd "${VSX_TESTS:-$(dirname "$0")/..}/../../shared" 2>/dev/null && pwd)
[ -d "$shared/bench" ] || shared=/work/shared
bench=${VSX_BENCH:-$shared/bench}
if [ ! -x "$BUILD/tests/cpurun" ]; then
    echo "FAIL cpubench: $BUILD/tests/cpurun was not built"
    exit 1
fi
if [ ! -f "$bench/build.sh" ]; then
    echo "SKIP cpubench: benchmark sources not found at $bench (set VSX_BENCH)"
    exit 0
fi
if ! command -v nasm >/dev/null; then
    echo "SKIP cpubench: nasm is not installed (Debian package nasm)"
    exit 0
fi
t=$(mktemp -d /tmp/vsx-cpubench.XXXXXX)
trap 'rm -rf "$t"' EXIT
# Variant, name, and QEMU's output for ITERS=200000.
while read -r v name want; do
    if ! sh "$bench/build.sh" "$v" 200000 "$t/$name.img" >"$t/$name.build" 2>&1; then
        echo "FAIL cpubench.$name: benchmark did not build: $(tail -1 "$t/$name.build")"
        continue
    fi
    dd if="$t/$name.img" of="$t/$name.bin" bs=512 count=1 2>/dev/null
    timeout 120 "$BUILD/tests/cpurun" --load "$t/$name.bin@0x7c00" --entry 0:0x7c00 \
        --max-insns 100000000 >"$t/$name.out" 2>"$t/$name.err"
    st=$?
    got=$(grep -a -o 'BENCH .*' "$t/$name.out" | head -1 | tr -d '\r')
    echo "# cpubench.$name: $(tail -1 "$t/$name.err")"
    if [ "$got" = "$want" ] && [ $st -eq 33 ]; then
        echo "PASS cpubench.$name"
    else
        echo "FAIL cpubench.$name: got '${got:-no BENCH line}' (exit $st), QEMU printed '$want'"
    fi
done <<'EOF'
1 alu BENCH v=alu n=00030D40 r1=CD1B67AD r2=3197C479 r3=B7263238
2 pg BENCH v=pg n=00030D40 r1=CD1B67AD r2=3197C479 r3=B7263238
3 tlb BENCH v=tlb n=00030D40 r1=CBBFF9F4 r2=979823F3 r3=B7263238
4 rep BENCH v=rep n=00030D40 r1=00000000 r2=00041000 r3=3FAF6A47
EOF
exit 0
