#!/bin/sh
# 75-storage: the IDE (ATA PIO, bus-master DMA, ATAPI) and floppy controllers
# on the whole board, driven by a BIOS-less guest (tests/storage/storage.asm,
# built here with the tests/guest runtime) against pattern images whose
# sectors start with their own number.  The guest reports through port 0xE9
# and exits through 0xF4 (status 1 = pass), as the tests/guest programs do.
: "${VSX:?}" "${BUILD:?}" "${VSX_TESTS:=tests}"
t=$(mktemp -d /tmp/vsx-storage.XXXXXX)
trap 'rm -rf "$t"' EXIT

if ! command -v nasm >/dev/null 2>&1; then
    echo "SKIP storage.guest: nasm is not installed"; exit 0
fi
if [ ! -x "$VSX" ]; then
    echo "SKIP storage.guest: $VSX is not built"; exit 0
fi
if ! nasm -f bin -I "$VSX_TESTS/guest/" -o "$t/storage.bin" "$VSX_TESTS/storage/storage.asm" 2>"$t/nasm.err"; then
    echo "FAIL storage.guest: nasm: $(head -1 "$t/nasm.err")"; exit 0
fi

# put_le32 FILE OFFSET VALUE: writes VALUE little-endian at byte OFFSET.
put_le32() {
    v=$3
    printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $((v & 255)) $(((v >> 8) & 255)) \
        $(((v >> 16) & 255)) $(((v >> 24) & 255)))" |
        dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# The sectors the guest reads: disk LBA 5, 9, 10; CD block 3; floppy LBA 36.
truncate -s 1M "$t/disk.img"
for lba in 5 9 10; do put_le32 "$t/disk.img" $((lba * 512)) $lba; done
truncate -s 2M "$t/cd.iso"
put_le32 "$t/cd.iso" $((3 * 2048)) 3
truncate -s 1474560 "$t/fd.img"
put_le32 "$t/fd.img" $((36 * 512)) 36

timeout 120 "$VSX" run --headless --deterministic --timeout 30 --bios "$t/storage.bin" \
    --hda "$t/disk.img" --cdrom "$t/cd.iso" --fda "$t/fd.img" --debugcon "$t/log" \
    > "$t/out" 2>&1
st=$?
last=$(tail -1 "$t/log" 2>/dev/null | tr -d '\r')
if [ $st -eq 1 ] && [ "$last" = PASS ]; then
    echo "PASS storage.guest"
elif [ $st -eq 124 ]; then
    echo "FAIL storage.guest: timed out (last output: ${last:-none})"
else
    why=$(grep -a '^FAIL' "$t/log" 2>/dev/null | head -1)
    echo "FAIL storage.guest: exit $st: ${why:-${last:-no output; $(tail -1 "$t/out")}}"
fi
exit 0
