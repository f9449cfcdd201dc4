#!/bin/sh
# 22-simd: MMX/SSE/SSE2 forms run natively on the host and in the vsx core
# (pentium4 model) on random and edge-case operands under random MXCSR
# rounding/FTZ/DAZ; registers, memory, MXCSR flags and COMISS EFLAGS must agree.
: "${BUILD:=build}"
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
"$BUILD/tests/simddiff" -s 0x5eed5eed -n 400
