#!/bin/sh
# tests/video/run-qemu.sh -- validates the video guest tests on QEMU: each
# boot sector runs (built with -DHOLD so it stays on screen), QEMU's
# screendump is scaled to the mode's size and compared with the picture
# tests/bin/vga_expect computes.  QEMU widens 6-bit DAC values as v<<2 plus
# the low bit twice, vsx as v<<2 | v>>4, hence the small colour fuzz.
#   sh tests/video/run-qemu.sh [BUILD]
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
t=$(mktemp -d /tmp/vsx-video-qemu.XXXXXX)
trap 'rm -rf "$t"' EXIT
for n in mode13 modex text vbe vbe32 mode12 cga4; do
    nasm -f bin -DHOLD -I "$here/" -o "$t/$n.img" "$here/$n.asm" || { echo "FAIL $n: nasm"; continue; }
    truncate -s 1474560 "$t/$n.img"
    "$build/tests/vga_expect" $n "$t/want.png" || { echo "FAIL $n: vga_expect"; continue; }
    size=$(identify -format %wx%h "$t/want.png")
    (sleep 6; echo "screendump $t/$n.ppm"; sleep 1; echo quit) |
        timeout 60 qemu-system-i386 -display none -monitor stdio -fda "$t/$n.img" -boot a -m 32 >/dev/null 2>&1
    convert "$t/$n.ppm" -sample "$size!" "$t/got.png"
    [ $n = text ] && convert "$t/got.png" -fill black -draw "rectangle 0,0 719,15" "$t/got.png"
    d=$(compare -fuzz 1.6% -metric AE "$t/got.png" "$t/want.png" null: 2>&1)
    [ "$d" = 0 ] && echo "PASS $n" || echo "FAIL $n: $d pixels differ"
done
