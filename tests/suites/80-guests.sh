#!/bin/sh
# Real guests from Debian packages, booted headless and judged by their screen
# text and serial output: GRUB rescue (floppy and CD) driven to its command
# line, memtest86+ from CD, and the Debian installer kernel booted directly
# and from an ISO built here with xorriso + isolinux.
: "${VSX:?}" "${BUILD:?}"
t=$(mktemp -d /tmp/vsx-guests.XXXXXX)
trap 'rm -rf "$t"' EXIT
GRUB_DIR=/usr/lib/grub-rescue
MEMTEST=/usr/lib/memtest86+/memtest86+ia32.iso
DI=/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386

# expect NAME FILE PATTERN...: every extended regex must match FILE.
expect() {
    name=$1 file=$2; shift 2
    for pat in "$@"; do
        if ! grep -Eq -- "$pat" "$file" 2>/dev/null; then
            echo "FAIL guests.$name: '$pat' not found; screen/serial was:"
            sed 's/^/    | /' "$file" 2>/dev/null | head -30
            return 1
        fi
    done
    echo "PASS guests.$name"
}

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}'; }

# ---- GRUB rescue: menu, then 'c' for the command line, then commands.
grub_keys='8s:c 10s:"echo vsx-grub-ok"+ret 11s:"lspci"+ret 12.5s:"ls"+ret'
for media in floppy cdrom; do
    if [ $media = floppy ]; then img=$GRUB_DIR/grub-rescue-floppy.img; else img=$GRUB_DIR/grub-rescue-cdrom.iso; fi
    if [ ! -f "$img" ]; then echo "SKIP guests.grub_$media: $img missing (package grub-rescue-pc)"; continue; fi
    # A private copy: the guest must never write to the system's file.
    cp "$img" "$t/grub-$media.img"
    if [ $media = floppy ]; then args="--fda $t/grub-$media.img --boot floppy"
    else args="--cdrom $t/grub-$media.img --boot cdrom"; fi
    s=$(date +%s.%N)
    "$VSX" run --headless --deterministic --memory 64M $args --timeout 15 \
        --keys "$grub_keys" --screen-text "$t/grub-$media.txt" > "$t/grub-$media.out" 2>&1
    echo "# grub_$media: $(elapsed "$s") s wall"
    # ls names the boot drive: (fd0) for the floppy, (cd) for the CD.
    if [ $media = floppy ]; then drive='\(fd0\)'; else drive='\(cd\)'; fi
    expect grub_$media "$t/grub-$media.txt" 'grub>' 'vsx-grub-ok' \
        '00:00\.0 8086:1237' '00:01\.1 8086:7010' '00:02\.0 1234:1111' "$drive" 
done

# ---- memtest86+ from CD: main screen, CPU and memory size, tests 0 and 1 pass.
if [ -f "$MEMTEST" ]; then
    s=$(date +%s.%N)
    "$VSX" run --headless --deterministic --memory 64M --cdrom "$MEMTEST" --boot cdrom --timeout 40 \
        --screen-text "$t/memtest.txt" > "$t/memtest.out" 2>&1
    echo "# memtest: $(elapsed "$s") s wall"
    # Tests #0 and #1 are done once #2 or later runs; no errors so far.
    expect memtest "$t/memtest.txt" 'Memtest86\+' 'Memory *: *64MB' 'Test #([2-9]|1[0-9]) ' \
        'Errors: 0' 'Pentium' 'Status: Testing'
else
    echo "SKIP guests.memtest: $MEMTEST missing (package memtest86+)"
fi

# ---- Debian installer i386.
# di_boot NAME SERIAL-FILE ARGS...: runs until the first installer screen
# (language selection) is on the serial console, or 900 s.
di_boot() {
    name=$1 serial=$2; shift 2
    s=$(date +%s.%N)
    "$VSX" run --headless --memory 512M --serial "file:$serial" --timeout 900 "$@" > "$t/$name.out" 2>&1 &
    pid=$!
    for i in $(seq 900); do
        sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$serial" 2>/dev/null | grep -q 'Select a language' && break
        kill -0 $pid 2>/dev/null || break
        sleep 1
    done
    kill $pid 2>/dev/null; wait $pid 2>/dev/null
    sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/\x1b[()][0-9A-B]//g' "$serial" > "$serial.txt"
    echo "# $name: $(elapsed "$s") s wall to the language screen"
}

if [ -n "$VSX_SANITIZER" ]; then
    for n in kernel language vhd_disk iso; do
        echo "SKIP guests.debian_installer_$n: minutes-long Linux boots run in make test, not under the sanitizer build"
    done
elif [ -f "$DI/linux" ]; then
    # 1. Direct kernel boot, with a 2 GiB dynamic VHD as its first disk.
    "$VSX" vhd create --size 2G "$t/disk.vhd" > /dev/null
    di_boot di_direct "$t/di-direct.serial" --kernel "$DI/linux" --initrd "$DI/initrd.gz" \
        --append "console=ttyS0" --hda "$t/disk.vhd"
    expect debian_installer_kernel "$t/di-direct.serial.txt" 'Linux version 6\.' 'APIC' \
        'Calibrating delay|tsc: Detected' 'pci 0000:00:01\.1' 'rtc_cmos' 'Freeing unused kernel'
    expect debian_installer_language "$t/di-direct.serial.txt" 'Select a language'
    # 4. The same kernel sees the VHD with its size.  The netboot initrd has
    # no IDE drivers (the installer downloads them at its disk step), so the
    # kernel's own modules from Debian's i386 package of that exact version
    # are appended to it, and the initrd's shell loads them; libata and sd
    # report the disk.  Commands go in over COM1 once the prompt is there.
    if why=$(sh "$VSX_TESTS/guests/di-modules.sh" "$t/mods.cpio.gz" 2>&1); then
        cat "$DI/initrd.gz" "$t/mods.cpio.gz" > "$t/initrd-ide.gz"
        mkfifo "$t/com1.in"
        s=$(date +%s.%N)
        "$VSX" run --headless --memory 256M --kernel "$DI/linux" --initrd "$t/initrd-ide.gz" \
            --append "console=ttyS0 rdinit=/bin/sh" --hda "$t/disk.vhd" \
            --cdrom "$GRUB_DIR/grub-rescue-cdrom.iso" \
            --serial stdio --timeout 900 < "$t/com1.in" > "$t/di-shell.txt" 2>&1 &
        pid=$!
        exec 3> "$t/com1.in"
        wait_for() { # PATTERN SECONDS
            for i in $(seq "$2"); do
                grep -q -- "$1" "$t/di-shell.txt" 2>/dev/null && return 0
                kill -0 $pid 2>/dev/null || return 1
                sleep 1
            done
            return 1
        }
        if wait_for '~ #' 600; then
            m=/vsx-modules
            printf 'modprobe scsi_mod; insmod %s/libata.ko; insmod %s/ata_piix.ko; insmod %s/cdrom.ko; insmod %s/sr_mod.ko; modprobe sd_mod; sleep 5; echo VSX-MARK-$((6*7))\n' $m $m $m $m >&3
            wait_for 'VSX-MARK-42' 300
            printf 'poweroff -f\n' >&3
        fi
        wait_for 'reboot: Power down' 60
        exec 3>&-
        kill $pid 2>/dev/null; wait $pid 2>/dev/null
        echo "# di_shell_disks: $(elapsed "$s") s wall"
        expect debian_installer_vhd_disk "$t/di-shell.txt" 'ata1\.00: ATA-[0-9]+: VSX HARDDISK' \
            'ata1\.00: 4194304 sectors' 'sd 0:0:0:0: \[sda\] 4194304 512-byte logical blocks' \
            'ata2\.00: ATAPI: VSX' 'sr 1:0:0:0: \[sr0\]' 'reboot: Power down'
    else
        echo "SKIP guests.debian_installer_vhd_disk: $why"
    fi
    # 3b. The same kernel from an ISO built here with xorriso + isolinux.
    ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
    LDLINUX=/usr/lib/syslinux/modules/bios/ldlinux.c32
    if [ -f "$ISOLINUX" ] && [ -f "$LDLINUX" ] && command -v xorriso >/dev/null; then
        mkdir -p "$t/iso/isolinux"
        cp "$ISOLINUX" "$LDLINUX" "$t/iso/isolinux/"
        cp "$DI/linux" "$DI/initrd.gz" "$t/iso/"
        printf 'default di\nprompt 0\ntimeout 0\nlabel di\n  kernel /linux\n  append initrd=/initrd.gz console=ttyS0\n' \
            > "$t/iso/isolinux/isolinux.cfg"
        xorriso -as mkisofs -quiet -o "$t/di.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
            -no-emul-boot -boot-load-size 4 -boot-info-table "$t/iso" 2> "$t/xorriso.err"
        di_boot di_iso "$t/di-iso.serial" --cdrom "$t/di.iso" --boot cdrom
        expect debian_installer_iso "$t/di-iso.serial.txt" 'Linux version 6\.' 'Select a language'
    else
        echo "SKIP guests.debian_installer_iso: isolinux/xorriso missing (packages isolinux, syslinux-common, xorriso)"
    fi
else
    echo "SKIP guests.debian_installer: $DI/linux missing (package debian-installer-12-netboot-i386)"
fi
