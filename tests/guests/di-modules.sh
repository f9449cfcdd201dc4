#!/bin/sh
# tests/guests/di-modules.sh OUT.cpio.gz -- the IDE/ATAPI driver modules that
# the Debian installer's netboot initrd leaves out (it fetches them over the
# network at its "detect disks" step), taken from Debian's own i386 kernel
# package of exactly the installer's kernel version, as a cpio archive to
# append to the initrd.  Exits non-zero with a reason when that package
# cannot be had.
set -e
out=$1
DI=/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386
abi=$(grep -a -o -m1 '6\.1\.0-[0-9]*-686 (debian-kernel' "$DI/linux" | cut -d' ' -f1)
ver=$(grep -a -o -m1 'Debian 6\.1\.[0-9]*-[0-9]*' "$DI/linux" | cut -d' ' -f2)
[ -n "$abi" ] && [ -n "$ver" ] || { echo "cannot read the installer kernel's version"; exit 1; }
cache=/var/cache/vsx-tests/$abi-$ver
if [ ! -f "$cache/ata_piix.ko" ]; then
    [ "$(id -u)" = 0 ] || { echo "needs root to fetch linux-image-$abi:i386"; exit 1; }
    command -v cpio >/dev/null || apt-get install -y -q cpio >/dev/null 2>&1
    if ! dpkg --print-foreign-architectures | grep -q i386; then
        dpkg --add-architecture i386
        apt-get update -q >/dev/null 2>&1 || true
    fi
    w=$(mktemp -d /tmp/vsx-dimod.XXXXXX)
    (cd "$w" && apt-get download "linux-image-$abi:i386=$ver" >/dev/null 2>&1) ||
        { rm -rf "$w"; echo "apt-get download linux-image-$abi:i386=$ver failed"; exit 1; }
    dpkg-deb -x "$w"/*.deb "$w/x"
    mkdir -p "$cache"
    for m in drivers/ata/libata drivers/ata/ata_piix drivers/cdrom/cdrom drivers/scsi/sr_mod; do
        cp "$w/x/lib/modules/$abi/kernel/$m.ko" "$cache/"
    done
    rm -rf "$w"
fi
command -v cpio >/dev/null || { echo "cpio missing"; exit 1; }
w=$(mktemp -d /tmp/vsx-dimod.XXXXXX)
mkdir -p "$w/vsx-modules"
cp "$cache"/*.ko "$w/vsx-modules/"
(cd "$w" && find vsx-modules | cpio -o -H newc --quiet | gzip -1) > "$out"
rm -rf "$w"
