#!/bin/sh
# 40-guest: NASM guest tests (tests/guest/*.asm, each a 64 KiB BIOS image)
# booted headless by vsx.  A test reports through debug port 0xE9 ("PASS" or
# "FAIL: reason") and exits through port 0xF4: value 0 -> exit status 1.
# Every test is validated on QEMU/Bochs by tests/guest/run-qemu.sh, so a FAIL
# here is a vsx bug.
: "${BUILD:=build}" "${VSX:=./vsx}"
tmp=$(mktemp -d /tmp/vsx-guest.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ran=0
for bin in "$BUILD"/guest/*.bin; do
    [ -e "$bin" ] || continue
    n=$(basename "$bin" .bin)
    log=$tmp/$n.log
    : >"$log"
    if [ -x "$VSX" ]; then
        timeout 60 "$VSX" run --headless --deterministic --timeout 20 --bios "$bin" --debugcon "$log" \
            >"$tmp/$n.out" 2>&1
        st=$?
    elif [ -x "$BUILD/tests/cpurun" ]; then
        timeout 60 "$BUILD/tests/cpurun" --bios "$bin" >"$log" 2>"$tmp/$n.out"
        st=$?
    else
        echo "SKIP guest.$n: neither $VSX nor $BUILD/tests/cpurun is built"
        continue
    fi
    ran=$((ran + 1))
    last=$(tail -1 "$log" | tr -d '\r')
    if [ $st -eq 1 ] && [ "$last" = PASS ]; then
        echo "PASS guest.$n"
    elif [ $st -eq 124 ]; then
        echo "FAIL guest.$n: timed out (last output: ${last:-none})"
    else
        why=$(grep -a '^FAIL' "$log" | head -1)
        echo "FAIL guest.$n: exit $st: ${why:-${last:-no output; $(tail -1 "$tmp/$n.out")}}"
    fi
done
[ -n "$(ls "$BUILD"/guest/*.bin 2>/dev/null)" ] || echo "FAIL guest: no guest tests built in $BUILD/guest"
exit 0
