#!/bin/sh
# 20-singlestep: 80286 real-mode single-instruction vectors from real silicon
# (../shared/singlestep) against the vsx core; one PASS/FAIL/SKIP line per
# opcode group (see tests/bin/singlestep.c for the 286-vs-386+ rules).
: "${BUILD:=build}"
# ../shared beside the checkout (as CI has it), else the team's /work/shared.
shared=$(cd "${VSX_TESTS:-$(dirname "$0")/..}/../../shared" 2>/dev/null && pwd)
[ -d "$shared/singlestep/80286" ] || shared=/work/shared
vectors=${VSX_SINGLESTEP:-$shared/singlestep/80286}
if [ ! -x "$BUILD/tests/singlestep" ]; then
    echo "FAIL singlestep: $BUILD/tests/singlestep was not built"
    exit 1
fi
if [ ! -f "$vectors/metadata.json" ]; then
    echo "SKIP singlestep: vector set not found at $vectors (set VSX_SINGLESTEP)"
    exit 0
fi
"$BUILD/tests/singlestep" -d "$vectors"
