#!/bin/sh
# Undo disks: a guest writes a sector to a VHD configured with undo; at exit
# the change is discarded, kept in the differencing VHD, or committed.
: "${VSX:?}" "${BUILD:?}"
t=$(mktemp -d /tmp/vsx-undo.XXXXXX)
trap 'rm -rf "$t"' EXIT
cd "$t" || exit 1
"$VSX" vhd convert "$BUILD/boot/writer.img" base.vhd --dynamic > /dev/null 2>&1 ||
    { echo "FAIL undo.setup: vsx vhd convert failed"; exit 0; }
sector1() { # VHD -> the 16 first bytes of its sector 1 as the guest sees them
    rm -f flat.img
    "$VSX" vhd convert "$1" flat.img --raw > /dev/null 2>&1 &&
        dd if=flat.img bs=512 skip=1 count=1 2>/dev/null | head -c 15
}
before=$(sector1 base.vhd)
for mode in discard keep commit; do
    cp base.vhd $mode.vhd
    printf '[vm]\nboot = disk\n[ide0.master]\nimage = %s.vhd\nundo = %s\n' $mode $mode > $mode.ini
    "$VSX" run --headless --deterministic --timeout 30 $mode.ini > $mode.out 2>&1
    rc=$?
    if [ $rc -ne 69 ]; then
        echo "FAIL undo.$mode: the writing guest ended with status $rc, wanted 69 ($(head -c 200 $mode.out))"
        continue
    fi
    base_now=$(sector1 $mode.vhd)
    case $mode in
    discard)
        if [ -e $mode.vhd.undo.vhd ]; then echo "FAIL undo.discard: the undo disk was left behind"
        elif [ "$base_now" != "$before" ]; then echo "FAIL undo.discard: the base image changed"
        else echo "PASS undo.discard"; fi ;;
    keep)
        if [ ! -e $mode.vhd.undo.vhd ]; then echo "FAIL undo.keep: no undo disk kept"
        elif [ "$base_now" != "$before" ]; then echo "FAIL undo.keep: the base image changed"
        elif [ "$(sector1 $mode.vhd.undo.vhd)" != "vsx-undo-write!" ]; then echo "FAIL undo.keep: the undo disk lacks the write"
        elif ! "$VSX" vhd check $mode.vhd.undo.vhd > check.out 2>&1; then echo "FAIL undo.keep: vhd check: $(head -3 check.out)"
        else echo "PASS undo.keep"; fi ;;
    commit)
        if [ -e $mode.vhd.undo.vhd ]; then echo "FAIL undo.commit: the undo disk was left behind"
        elif [ "$base_now" != "vsx-undo-write!" ]; then echo "FAIL undo.commit: the write is not in the base ('$base_now')"
        elif ! "$VSX" vhd check $mode.vhd > check.out 2>&1; then echo "FAIL undo.commit: vhd check: $(head -3 check.out)"
        else echo "PASS undo.commit"; fi ;;
    esac
done
# A second run with `keep` reuses the undo disk: the guest's earlier write is still there.
"$VSX" run --headless --deterministic --timeout 30 keep.ini > keep2.out 2>&1
if [ $? -eq 69 ] && [ "$(sector1 keep.vhd.undo.vhd)" = "vsx-undo-write!" ] && [ "$(sector1 keep.vhd)" = "$before" ]; then
    echo "PASS undo.keep_reopened"
else
    echo "FAIL undo.keep_reopened: $(head -c 200 keep2.out)"
fi
