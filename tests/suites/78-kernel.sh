#!/bin/sh
# Direct kernel boot of a Multiboot v1 kernel ([kernel] image/initrd/cmdline):
# SeaBIOS boots vsx's option ROM, which loads the kernel and its module via
# fw_cfg DMA, builds the memory map from E820 and enters it in protected mode.
# (Linux bzImage direct boot is covered by 80-guests with the Debian installer.)
: "${VSX:?}" "${BUILD:?}"
t=$(mktemp -d /tmp/vsx-kernel.XXXXXX)
trap 'rm -rf "$t"' EXIT
printf 'MODULE-1-contents' > "$t/module"
"$VSX" run --headless --deterministic --memory 32M --kernel "$BUILD/kernel/multiboot.bin" \
    --initrd "$t/module" --append "hello-mb" --timeout 20 --debugcon "$t/dc" > "$t/out" 2>&1
rc=$?
line=$(grep -a 'multiboot magic' "$t/dc")
# 32 MiB guest: E820 RAM from 1 MiB to 0x1FFE000 -> mem_upper 0x7BF8 KiB.
if [ $rc -ne 85 ]; then
    echo "FAIL kernel.multiboot: exit status $rc, wanted 85 ($(tail -c 300 "$t/dc" | tr '\n' ' '))"
elif ! echo "$line" | grep -q 'mem_upper=00007BF8 mmap=0000000[3-9] cmdline=hello-mb mods=00000001 module=MODULE-1'; then
    echo "FAIL kernel.multiboot: the kernel reported '$line'"
else
    echo "PASS kernel.multiboot"
fi
# Something that is neither a bzImage nor a Multiboot kernel is refused at start.
printf 'not a kernel' > "$t/junk"
"$VSX" run --headless --kernel "$t/junk" --timeout 5 > "$t/junk.out" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q 'not a Linux bzImage' "$t/junk.out"; then
    echo "PASS kernel.refuses_junk"
else
    echo "FAIL kernel.refuses_junk: status $rc: $(head -c 200 "$t/junk.out")"
fi
