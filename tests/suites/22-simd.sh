#!/bin/sh
# 22-simd: MMX/SSE/SSE2 forms run natively on the host and in the vsx core
# (pentium4 model) on random and edge-case operands under random MXCSR
# rounding/FTZ/DAZ; registers, memory, MXCSR flags and COMISS EFLAGS must agree.
: "${BUILD:=build}" "${VSX:=./vsx}"
if [ ! -x "$BUILD/tests/simddiff" ]; then
    echo "FAIL simddiff: $BUILD/tests/simddiff was not built"
    exit 1
fi
case $(uname -m) in
x86_64 | amd64) ;;
*) echo "SKIP simddiff: host is $(uname -m), the reference results need an x86-64 host"; exit 0 ;;
esac
if ! grep -qw sse2 /proc/cpuinfo; then
    echo "SKIP simddiff: host CPU has no SSE2"
    exit 0
fi
"$BUILD/tests/simddiff" -s 0x5eed5eed -n 400 || true

# The guest test (tests/guest/simd.asm: #UD/#NM/#GP/#XM rules, FXSAVE layout,
# MMX aliasing) on each model; 40-guest runs it only on the default model.
if [ ! -x "$VSX" ] || [ ! -e "$BUILD/guest/simd.bin" ]; then
    echo "SKIP simdguest: $VSX or $BUILD/guest/simd.bin not built"
    exit 0
fi
tmp=$(mktemp -d /tmp/vsx-simd.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
for model in pentium2 pentium3 pentium4 athlon; do
    : >"$tmp/log"
    timeout 60 "$VSX" run --headless --deterministic --timeout 20 --cpu $model \
        --bios "$BUILD/guest/simd.bin" --debugcon "$tmp/log" >"$tmp/out" 2>&1
    st=$?
    last=$(tail -1 "$tmp/log" | tr -d '\r')
    if [ $st -eq 1 ] && [ "$last" = PASS ]; then
        echo "PASS simdguest.$model"
    else
        echo "FAIL simdguest.$model: exit $st: $(grep -a '^FAIL' "$tmp/log" | head -1)"
    fi
done
