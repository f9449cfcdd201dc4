#!/bin/sh
# 21-cpudiff: integer ALU instructions run natively on the host and in the vsx
# core on the same operands; results and defined flags must agree.  Model
# pentium: a superset of the 486 here (adds CMPXCHG8B).
: "${BUILD:=build}"
if [ ! -x "$BUILD/tests/cpudiff" ]; then
    echo "FAIL cpudiff: $BUILD/tests/cpudiff was not built"
    exit 1
fi
case $(uname -m) in
x86_64 | amd64) ;;
*) echo "SKIP cpudiff: host is $(uname -m), the reference results need an x86-64 host"; exit 0 ;;
esac
"$BUILD/tests/cpudiff" -m pentium -s 0x5eed1234 -n 400
