#!/bin/sh
# tests/storage/linux-storage.sh -- manual end-to-end check of the storage
# controllers with Linux's own drivers (ata_piix/libata with MWDMA, sr_mod
# over ATAPI, sd_mod, the floppy driver on the 82077AA).  Not part of
# `make test`: it needs the i386 kernel modules matching the debian-installer
# kernel, which it fetches with `apt-get download` (the i386 architecture must
# be enabled in dpkg).
#
# Boots the installer kernel with its initrd plus those modules and an /init
# that loads them, reads all three devices, copies 128 KiB from the CD to the
# disk, then powers off.  Pass: every checksum the guest prints matches the
# host's and the copy landed on the disk image.
#
#   sh tests/storage/linux-storage.sh [VSX] [WORKDIR]
set -e
VSX=${1:-./vsx}
VSX=$(cd "$(dirname "$VSX")" && pwd)/$(basename "$VSX")
w=${2:-/tmp/vsx-linux-storage}
DI=/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386
[ -f "$DI/linux" ] || { echo "SKIP linux_storage: $DI/linux missing"; exit 0; }
kver=$(strings "$DI/linux" | grep -m1 -oE '^[0-9]+\.[0-9]+\.[0-9]+-[0-9]+-686' || true)
[ -n "$kver" ] || { echo "SKIP linux_storage: cannot tell the installer kernel version"; exit 0; }
mkdir -p "$w"
cd "$w"
if [ ! -d x/lib/modules/$kver ]; then
    ls linux-image-$kver_*.deb >/dev/null 2>&1 || apt-get download "linux-image-$kver:i386"
    dpkg-deb -x linux-image-$kver_*.deb x
fi
K=x/lib/modules/$kver/kernel
rm -rf ird && mkdir ird && (cd ird && zcat "$DI/initrd.gz" | cpio -id 2>/dev/null)
mkdir -p ird/mods
mods="scsi/scsi_common scsi/scsi_mod ata/libata ata/ata_piix cdrom/cdrom scsi/sr_mod"
for m in $mods; do cp "$K/drivers/$m.ko" ird/mods/; done
for m in crypto/crct10dif_common crypto/crct10dif_generic lib/crc-t10dif lib/crc64 \
         crypto/crc64_rocksoft_generic lib/crc64-rocksoft block/t10-pi drivers/scsi/sd_mod drivers/block/floppy; do
    cp "$K/$m.ko" ird/mods/
done
cat > ird/init <<'EOF'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in scsi_common scsi_mod libata ata_piix cdrom sr_mod crct10dif_common crct10dif_generic crc-t10dif \
         crc64 crc64_rocksoft_generic crc64-rocksoft t10-pi sd_mod floppy; do
    insmod /mods/$m.ko || echo "INSMOD FAIL $m"
done
sleep 3
echo "SDA $(md5sum < /dev/sda)"
echo "SR0 $(md5sum < /dev/sr0)"
echo "FD0 $(md5sum < /dev/fd0)"
dd if=/dev/sr0 of=/dev/sda bs=2048 count=64 seek=100 2>/dev/null
sync
echo 1 > /proc/sys/vm/drop_caches
echo "SDAR $(dd if=/dev/sda bs=2048 skip=100 count=64 2>/dev/null | md5sum)"
for f in /sys/class/ata_device/*/xfer_mode; do echo "MODE $f $(cat $f)"; done
dmesg | grep -iE "ata[0-9]|sr0|fd0|82077|error|exception|timeout" 
echo "=== end"
poweroff -f
EOF
chmod +x ird/init
(cd ird && find . | cpio -o -H newc 2>/dev/null | gzip -1 > ../initrd.gz)
head -c 8M /dev/urandom > disk.img
head -c 4M /dev/urandom > cd.iso
head -c 1474560 /dev/urandom > fd.img
want_sda=$(md5sum < disk.img | cut -d' ' -f1)
want_sr0=$(md5sum < cd.iso | cut -d' ' -f1)
want_fd0=$(md5sum < fd.img | cut -d' ' -f1)
want_copy=$(dd if=cd.iso bs=2048 count=64 2>/dev/null | md5sum | cut -d' ' -f1)
rm -f serial.txt
: > serial.txt
timeout 1200 "$VSX" run --headless --memory 256M --kernel "$DI/linux" --initrd initrd.gz \
    --append "console=ttyS0 rdinit=/init" --hda disk.img --cdrom cd.iso --fda fd.img \
    --serial file:serial.txt --timeout 1200 >vsx.out 2>&1 || true
ok=1
for d in SDA:$want_sda SR0:$want_sr0 FD0:$want_fd0 SDAR:$want_copy; do
    name=${d%%:*} want=${d#*:}
    got=$(grep -a "^$name " serial.txt | head -1 | cut -d' ' -f2)
    [ "$got" = "$want" ] || { echo "FAIL linux_storage: $name read $got, wanted $want"; ok=0; }
done
dd if=disk.img bs=2048 skip=100 count=64 2>/dev/null | cmp -s - cd.iso -n 131072 ||
    { echo "FAIL linux_storage: the copy did not reach the disk image"; ok=0; }
grep -a "INSMOD FAIL" serial.txt && ok=0
grep -a "MODE" serial.txt
[ $ok = 1 ] && echo "PASS linux_storage"
exit 0
