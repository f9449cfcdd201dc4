#!/bin/sh
# tests/suites/50-vhd.sh -- VHD images against qemu-img (an independent
# implementation of the format) and crash safety under kill -9.
#
# Size note: qemu's vpc driver takes the virtual size from the CHS geometry
# for images whose creator is not one it knows to use the footer's size, so
# for a "vsx " image plain `qemu-img info` reports cylinders*heads*sectors*512,
# which is below the real size unless the size is an exact CHS product.  The
# tests therefore read vsx images with force_size_calc=current_size (the
# size vsx and the specification use), and check separately that plain
# qemu-img sees exactly the CHS size vsx wrote.
: "${BUILD:=build}"
T=$(mktemp -d /tmp/vsx-vhd.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
W=$BUILD/tests/vhdwrite
if [ -n "$VSX" ] && [ -x "$VSX" ] && "$VSX" vhd help >/dev/null 2>&1; then
    VHD="$VSX vhd"
else
    VHD=$BUILD/tests/vhdtool # vsx not built: the same code, called directly
fi
pass() { echo "PASS vhd.$1"; }
fail() { echo "FAIL vhd.$1: $2"; }
rand() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; } # 0..65535

if [ ! -x "$W" ]; then
    echo "FAIL vhd.setup: $W not built"
    exit 1
fi
have_qemu=1
command -v qemu-img >/dev/null 2>&1 || have_qemu=0

# A raw reference with data, holes and a zero run inside allocated space.
mkraw() { # file MiB
    rm -f "$1"
    truncate -s "$2M" "$1"
    dd if=/dev/urandom of="$1" bs=64K count=20 conv=notrunc 2>/dev/null
    dd if=/dev/urandom of="$1" bs=64K seek=100 count=7 conv=notrunc 2>/dev/null
    dd if=/dev/urandom of="$1" bs=512 seek=$(( $2 * 2048 - 3 )) count=3 conv=notrunc 2>/dev/null
}

qopts() { echo "driver=vpc,force_size_calc=current_size,file.filename=$1"; }
qsize() { qemu-img info --output=json "$@" | sed -n 's/.*"virtual-size": *\([0-9]*\).*/\1/p' | head -1; }

# ---- qemu-made images read identically in vsx
qemu_to_vsx() { # name subformat extra-options
    name=$1; shift
    mkraw "$T/src.raw" 24
    if ! qemu-img convert -f raw -O vpc -o "$*" "$T/src.raw" "$T/q.vhd" 2>"$T/err"; then
        fail "$name" "qemu-img convert: $(head -1 "$T/err")"; return
    fi
    qemu-img convert -f vpc -O raw "$T/q.vhd" "$T/qref.raw"
    rm -f "$T/out.raw"
    if ! $VHD check "$T/q.vhd" >"$T/err" 2>&1; then
        fail "$name" "vsx check: $(head -1 "$T/err")"
    elif ! $W dump "$T/q.vhd" "$T/out.raw" 2>"$T/err"; then
        fail "$name" "vsx open: $(head -1 "$T/err")"
    elif ! cmp -s "$T/out.raw" "$T/qref.raw"; then
        fail "$name" "vsx reads different data than qemu-img convert -O raw"
    else
        pass "$name"
    fi
    rm -f "$T/q.vhd" "$T/qref.raw" "$T/out.raw"
}

# ---- vsx-made images read identically in qemu-img
vsx_to_qemu() { # name create-options...
    name=$1; shift
    rm -f "$T/v.vhd" "$T/v.log" "$T/v.raw" "$T/qv.raw"
    if ! $VHD create "$@" "$T/v.vhd" >/dev/null 2>"$T/err"; then
        fail "$name" "vsx vhd create: $(head -1 "$T/err")"; return
    fi
    size=$(qsize --image-opts "$(qopts "$T/v.vhd")")
    want=$($VHD info "$T/v.vhd" | sed -n 's/^virtual size:.*(\([0-9]*\) bytes)/\1/p')
    if [ "$size" != "$want" ]; then
        fail "$name" "qemu-img virtual size $size, vsx $want"; return
    fi
    chs=$($VHD info "$T/v.vhd" | sed -n 's|^geometry: *\([0-9]*\)/\([0-9]*\)/\([0-9]*\).*|\1 \2 \3|p')
    plain=$(qsize "$T/v.vhd")
    fixed=0
    case " $* " in *" --fixed "*) fixed=1 ;; esac
    set -- $chs
    # (qemu 7.2 reports a fixed image's file length, footer included, as
    # its plain size -- for its own images too -- so only dynamic ones are
    # held to the CHS size.)
    if [ $fixed = 0 ] && [ "$plain" != $(( $1 * $2 * $3 * 512 )) ]; then
        fail "$name" "plain qemu-img size $plain is not the CHS size $1*$2*$3*512"; return
    fi
    $W write "$T/v.vhd" "$T/v.log" 7 400 || { fail "$name" "vhdwrite failed"; return; }
    if ! $W verify "$T/v.vhd" "$T/v.log" --strict 2>"$T/err"; then
        fail "$name" "vsx reads back wrong data: $(head -1 "$T/err")"; return
    fi
    qemu-img convert --image-opts "$(qopts "$T/v.vhd")" -O raw "$T/qv.raw"
    $W dump "$T/v.vhd" "$T/v.raw"
    if ! cmp -s "$T/v.raw" "$T/qv.raw"; then
        fail "$name" "qemu-img convert -O raw differs from vsx's data"
    elif ! $VHD check "$T/v.vhd" >"$T/err" 2>&1; then
        fail "$name" "vsx check: $(head -1 "$T/err")"
    else
        pass "$name"
    fi
}

if [ $have_qemu = 1 ]; then
    qemu_to_vsx qemu_dynamic_reads_in_vsx subformat=dynamic
    qemu_to_vsx qemu_dynamic_force_size_reads_in_vsx subformat=dynamic,force_size=on
    qemu_to_vsx qemu_fixed_reads_in_vsx subformat=fixed
    vsx_to_qemu vsx_dynamic_reads_in_qemu --size 24M
    vsx_to_qemu vsx_dynamic_small_blocks_reads_in_qemu --size 17M --block-size 64K
    vsx_to_qemu vsx_fixed_reads_in_qemu --size 24M --fixed
    # vsx writing into a qemu-made dynamic image; qemu reads the result.
    rm -f "$T/qw.vhd" "$T/qw.log" "$T/qw.raw" "$T/qwq.raw"
    qemu-img create -q -f vpc -o subformat=dynamic "$T/qw.vhd" 24M
    if ! $W write "$T/qw.vhd" "$T/qw.log" 11 400 2>"$T/err"; then
        fail vsx_writes_qemu_image_qemu_reads "vhdwrite: $(head -1 "$T/err")"
    elif ! $W verify "$T/qw.vhd" "$T/qw.log" --strict 2>"$T/err" || ! $VHD check "$T/qw.vhd" >/dev/null; then
        fail vsx_writes_qemu_image_qemu_reads "vsx: $(head -1 "$T/err")"
    else
        qemu-img convert -f vpc -O raw "$T/qw.vhd" "$T/qwq.raw"
        $W dump "$T/qw.vhd" "$T/qw.raw"
        if cmp -s "$T/qw.raw" "$T/qwq.raw"; then pass vsx_writes_qemu_image_qemu_reads
        else fail vsx_writes_qemu_image_qemu_reads "qemu-img reads different data"; fi
    fi
    # 302*4*17 sectors: an exact CHS size, so even plain qemu-img agrees.
    rm -f "$T/e.vhd"
    $VHD create --size 10514432 "$T/e.vhd" >/dev/null
    s=$(qsize "$T/e.vhd")
    if [ "$s" = 10514432 ]; then pass exact_chs_size_plain_qemu; else fail exact_chs_size_plain_qemu "qemu-img says $s"; fi
    # vsx convert output (dynamic, from a chain) matches qemu's reading.
    mkraw "$T/src.raw" 12
    rm -f "$T/c.vhd"
    if $VHD convert "$T/src.raw" "$T/c.vhd" --dynamic >/dev/null 2>&1 &&
       qemu-img convert --image-opts "$(qopts "$T/c.vhd")" -O raw "$T/qc.raw" && cmp -s "$T/qc.raw" "$T/src.raw"; then
        pass vsx_convert_dynamic_reads_in_qemu
    else
        fail vsx_convert_dynamic_reads_in_qemu "qemu-img reads different data"
    fi
else
    echo "SKIP vhd.qemu_interop: qemu-img not installed (Debian package qemu-utils)"
fi

# ---- kill -9 at random moments: every image checks clean and every sector
# holds its old or its new contents.  On a dynamic disk every completed
# write must survive (strict); a differencing disk may hold sector-bitmap
# updates until the next flush, so there a completed but unflushed write
# may also read old (cached), while every flushed write must read new.
kill_loop() { # name image log iterations strict|cached [ref]
    name=$1 img=$2 log=$3 n=$4 mode=$5 ref=$6
    strict=
    [ "$mode" = strict ] && strict=--strict
    i=1
    while [ $i -le "$n" ]; do
        $W write "$img" "$log" $i 0 2>"$T/werr" &
        pid=$!
        r=$(rand)
        sleep "0.$(printf %03d $(( r % 250 + 5 )))"
        kill -9 $pid 2>/dev/null
        wait $pid 2>/dev/null
        if grep -q . "$T/werr"; then
            fail "$name" "writer failed (iteration $i): $(head -1 "$T/werr")"; return
        fi
        if ! $VHD check "$img" >"$T/cout" 2>&1; then
            fail "$name" "iteration $i: check: $(grep -v 'defect' "$T/cout" | head -1)"; return
        fi
        if ! $W verify "$img" "$log" $ref $strict 2>"$T/verr"; then
            fail "$name" "iteration $i: $(head -1 "$T/verr")"; return
        fi
        i=$((i + 1))
    done
    pass "$name"
}

rm -f "$T/k.vhd" "$T/k.log"
$VHD create --size 64M --block-size 16K "$T/k.vhd" >/dev/null
kill_loop kill9_dynamic "$T/k.vhd" "$T/k.log" 30 strict

# Differencing: a base with data, writes killed in the child.
rm -f "$T/b.vhd" "$T/b.log" "$T/b.raw" "$T/d.vhd" "$T/d.log"
$VHD create --size 32M --block-size 64K "$T/b.vhd" >/dev/null
$W write "$T/b.vhd" "$T/b.log" 1000 300
$W dump "$T/b.vhd" "$T/b.raw"
$VHD create --parent "$T/b.vhd" --block-size 64K "$T/d.vhd" >/dev/null
kill_loop kill9_differencing "$T/d.vhd" "$T/d.log" 20 cached "$T/b.raw"

# ---- the same, deterministically: kill the writer before its 1st, 2nd, ...
# every pwrite (strace fault injection), from the same starting image.
every_write() { # name pristine-image writes span strict|cached [ref]
    name=$1 img0=$2 count=$3 span=$4 mode=$5 ref=$6
    strict=
    [ "$mode" = strict ] && strict=--strict
    cp "$img0" "$T/e.vhd"; rm -f "$T/e.log"
    # (LeakSanitizer cannot run under ptrace: off for sanitizer builds.)
    ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$T/e.trace" -e trace=pwrite64 $W write "$T/e.vhd" "$T/e.log" 77 "$count" "$span"
    total=$(grep -c pwrite64 "$T/e.trace")
    n=1
    while [ $n -le "$total" ]; do
        cp "$img0" "$T/e.vhd"; rm -f "$T/e.log"
        ASAN_OPTIONS=detect_leaks=0 strace -qq -o /dev/null -e trace=pwrite64 -e inject=pwrite64:error=EIO:signal=KILL:when=$n \
            $W write "$T/e.vhd" "$T/e.log" 77 "$count" "$span" 2>/dev/null
        if ! $VHD check "$T/e.vhd" >"$T/cout" 2>&1; then
            fail "$name" "killed before pwrite $n of $total: $(head -1 "$T/cout")"; return
        fi
        if ! $W verify "$T/e.vhd" "$T/e.log" $ref $strict 2>"$T/verr"; then
            fail "$name" "killed before pwrite $n of $total: $(head -1 "$T/verr")"; return
        fi
        n=$((n + 1))
    done
    if [ "$total" -lt 10 ]; then fail "$name" "only $total writes traced"; else pass "$name"; fi
}
if command -v strace >/dev/null 2>&1; then
    rm -f "$T/p.vhd" "$T/pd.vhd"
    $VHD create --size 8M --block-size 16K "$T/p.vhd" >/dev/null
    every_write kill_before_every_pwrite_dynamic "$T/p.vhd" 15 0 strict
    rm -f "$T/pb.vhd" "$T/pb.log" "$T/pb.raw"
    $VHD create --size 4M --block-size 16K "$T/pb.vhd" >/dev/null
    $W write "$T/pb.vhd" "$T/pb.log" 500 100
    $W dump "$T/pb.vhd" "$T/pb.raw"
    $VHD create --parent "$T/pb.vhd" --block-size 16K "$T/pd.vhd" >/dev/null
    # 24 writes into the first 256 sectors (16 blocks): most land in blocks
    # already allocated, and the flush after the 16th writes the batched
    # bitmaps, so every step of both paths is a kill point.
    every_write kill_before_every_pwrite_differencing "$T/pd.vhd" 24 256 cached "$T/pb.raw"
else
    echo "SKIP vhd.kill_before_every_pwrite: strace not installed (Debian package strace)"
fi

# The verifier must be able to fail: claim a write that never happened.
cp "$T/d.log" "$T/bad.log"
printf 'S 999\nW 999 5 100 4\nD\nF\n' >>"$T/bad.log"
if $W verify "$T/d.vhd" "$T/bad.log" "$T/b.raw" 2>/dev/null; then
    fail verifier_detects_wrong_data "a sector that was never written passed"
else
    pass verifier_detects_wrong_data
fi

# ---- tools: commit merges a child into its parent; compact keeps data.
$W dump "$T/d.vhd" "$T/d.raw"
if $VHD commit "$T/d.vhd" >/dev/null 2>"$T/err" && $W dump "$T/b.vhd" "$T/b2.raw" && cmp -s "$T/b2.raw" "$T/d.raw" &&
   $VHD check "$T/d.vhd" >/dev/null; then
    pass commit_merges_into_parent
else
    fail commit_merges_into_parent "$(head -1 "$T/err")"
fi
if $VHD compact "$T/k.vhd" >/dev/null 2>"$T/err" && $VHD check "$T/k.vhd" >/dev/null &&
   $W verify "$T/k.vhd" "$T/k.log" --strict 2>/dev/null; then
    pass compact_keeps_data
else
    fail compact_keeps_data "$(head -1 "$T/err")"
fi

# ---- check finds defects and exits nonzero; bad arguments exit 2.
head -c 6M /dev/urandom >"$T/x.raw"
$VHD convert "$T/x.raw" "$T/x.vhd" --dynamic >/dev/null  # 3 blocks, all allocated
printf '\377\377\377\000' | dd of="$T/x.vhd" bs=1 seek=1540 conv=notrunc 2>/dev/null   # entry 1 past EOF
dd if="$T/x.vhd" of="$T/x.vhd" bs=1 skip=1536 seek=1544 count=4 conv=notrunc 2>/dev/null # entry 2 = entry 0
$VHD check "$T/x.vhd" >"$T/cout" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q 'x.vhd: BAT entry 1 points past the end' "$T/cout" &&
   grep -q 'x.vhd: BAT entries 0 and 2 overlap' "$T/cout" && grep -q '2 defects found' "$T/cout"; then
    pass check_reports_defects
else fail check_reports_defects "exit $rc: $(head -1 "$T/cout")"; fi
$VHD frobnicate >/dev/null 2>&1
rc=$?
if [ $rc -eq 2 ]; then pass usage_exit_2; else fail usage_exit_2 "exit $rc"; fi
$VHD info "$T/b.vhd" >"$T/info" 2>&1
if grep -q 'format: *vhd-dynamic' "$T/info" && grep -q 'block size: *65536' "$T/info" &&
   $VHD info "$T/d.vhd" | grep -q "parent 1: *.*b.vhd"; then
    pass info_shows_type_and_chain
else
    fail info_shows_type_and_chain "$(head -3 "$T/info")"
fi
exit 0
