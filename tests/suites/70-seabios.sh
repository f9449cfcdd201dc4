#!/bin/sh
# SeaBIOS (embedded, from Debian's seabios package) runs its POST on the vsx
# CPU and board: banner, e820 map matching the configured memory, boot attempt;
# a NASM boot sector boots from floppy and from disk and prints via INT 10h
# and COM1.
: "${VSX:?}" "${BUILD:?}"
t=$(mktemp -d /tmp/vsx-seabios.XXXXXX)
trap 'rm -rf "$t"' EXIT

# e820 RAM below 4 GiB, as SeaBIOS prints it: the end of the last RAM or
# RESERVED range under the BIOS area, i.e. where guest RAM ends.
ram_top() {
    grep -E '^ *[0-9]+: [0-9a-f]{16} - [0-9a-f]{16} = [12] ' "$1" | {
        top=0
        while read -r idx s dash e rest; do
            s=$((0x$s)); e=$((0x$e))
            if [ $s -ge 1048576 ] && [ $s -lt 4227858432 ] && [ $e -le 4294967296 ] && [ $e -gt $top ]; then
                top=$e
            fi
        done
        echo $top
    }
}

for mem in 16 256 1024 3072; do
    log=$t/debugcon-$mem
    "$VSX" run --headless --deterministic --memory ${mem}M --timeout 20 --debugcon "$log" \
        --screen-text "$t/screen-$mem" > "$t/out-$mem" 2>&1
    name=seabios.post_${mem}M
    if ! grep -q 'SeaBIOS (version' "$log" 2>/dev/null; then
        echo "FAIL $name: no SeaBIOS banner on the debug console"; continue
    fi
    if ! grep -q 'No bootable device' "$log"; then
        echo "FAIL $name: SeaBIOS did not reach its boot attempt ($(tail -1 "$log"))"; continue
    fi
    top=$(ram_top "$log")
    want=$((mem * 1048576))
    if [ "$top" != "$want" ]; then
        echo "FAIL $name: e820 RAM ends at $top, configured $want"; continue
    fi
    echo "PASS $name"
done
# Once video is in, the banner is on screen too.
if grep -q 'SeaBIOS' "$t/screen-16" 2>/dev/null; then
    echo "PASS seabios.banner_on_screen"
else
    echo "FAIL seabios.banner_on_screen: $(head -c 200 "$t/screen-16" 2>/dev/null)"
fi

# A boot sector from a floppy and from an IDE disk.
img=$BUILD/boot/hello.img
for how in floppy disk; do
    cp "$img" "$t/$how.img" # the guest may write to its drive: never to the build's copy
    if [ $how = floppy ]; then args="--fda $t/$how.img --boot floppy"; want=00; else
        args="--hda $t/$how.img --boot disk"; want=80; fi
    "$VSX" run --headless --deterministic --timeout 30 $args --serial "file:$t/com1-$how" \
        --screen-text "$t/scr-$how" > "$t/out-$how" 2>&1
    rc=$?
    if [ $rc -ne 67 ]; then
        echo "FAIL seabios.boot_sector_$how: exit status $rc, wanted 67 ($(tail -2 "$t/out-$how" | tr '\n' ' '))"
    elif ! grep -q "vsx boot sector OK, drive $want" "$t/com1-$how"; then
        echo "FAIL seabios.boot_sector_$how: COM1 has '$(head -c 100 "$t/com1-$how")'"
    elif ! grep -q "vsx boot sector OK, drive $want" "$t/scr-$how"; then
        echo "FAIL seabios.boot_sector_$how: not on screen"
    else
        echo "PASS seabios.boot_sector_$how"
    fi
done

# The boot menu ([vm] boot_menu = yes): Esc opens it, "2" picks the floppy.
cp "$img" "$t/menu.img"
"$VSX" run --headless --deterministic --timeout 30 --set vm.boot_menu=yes --fda "$t/menu.img" \
    --cdrom /usr/lib/grub-rescue/grub-rescue-cdrom.iso --keys "1s:esc 2.5s:2" \
    --serial "file:$t/com1-menu" --screen-text "$t/scr-menu" > "$t/out-menu" 2>&1
rc=$?
if ! grep -q 'Select boot device' "$t/scr-menu" || ! grep -q '2\. Floppy' "$t/scr-menu"; then
    echo "FAIL seabios.boot_menu: no menu on screen ($(head -c 200 "$t/scr-menu"))"
elif [ $rc -ne 67 ] || ! grep -q 'drive 00' "$t/com1-menu"; then
    echo "FAIL seabios.boot_menu: picking the floppy did not boot it (status $rc)"
else
    echo "PASS seabios.boot_menu"
fi
