#!/bin/sh
# tests/bench/run.sh -- `make bench`: the CPU workload of ../shared/bench under
# vsx, QEMU TCG and Bochs in one run, engines interleaved so machine drift hits
# them alike.  Prints a Markdown table and writes it to tests/bench/results.md.
#
# Guest MIPS = (ITERS - 1) * instructions-per-iteration / (wall(ITERS) - wall(1)):
# the 1-iteration run measures boot overhead, which cancels.  Medians of RUNS
# runs, with min and max.  Checksums must agree between engines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${VSX:=$top/vsx}"
: "${BENCH_DIR:=$top/../shared/bench}"
: "${RUNS:=3}"
: "${SCALE:=1}" # multiply iteration counts (0.1 for a quick look)
out="$here/results.md"
w=$(mktemp -d /tmp/vsx-bench.XXXXXX)
trap 'rm -rf "$w"' EXIT
[ -f "$BENCH_DIR/bench.asm" ] || { echo "bench: workload not found in $BENCH_DIR" >&2; exit 1; }

engines="vsx"
command -v qemu-system-i386 >/dev/null && engines="$engines qemu"
command -v bochs-bin >/dev/null && [ -f /usr/share/bochs/BIOS-bochs-latest ] && engines="$engines bochs"

now() { date +%s.%N; }

run_engine() { # engine image serial-file -> prints wall seconds; rc 0 if the guest finished
    e=$1 img=$2 s=$3
    rm -f "$s"
    t0=$(now)
    case $e in
    vsx) "$VSX" run --headless --accel interp --memory 32M --boot floppy --fda "$img" --serial "file:$s" \
            --timeout 600 >/dev/null 2>&1 ;;
    qemu) qemu-system-i386 -accel tcg -display none -monitor none -no-reboot -m 32 \
            -device isa-debug-exit,iobase=0xf4,iosize=0x04 -boot a \
            -serial "file:$s" -drive "file=$img,format=raw,if=floppy" >/dev/null 2>&1 ;;
    bochs) cat > "$w/rc" <<RC
megs: 32
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
floppya: 1_44=$img, status=inserted
boot: floppy
display_library: rfb, options="timeout=0"
port_e9_hack: enabled=1
com1: enabled=1, mode=file, dev=$s
cpu: count=1, ips=100000000
clock: sync=none
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
           printf 'c\nquit\n' > "$w/cont"
           bochs-bin -q -f "$w/rc" -rc "$w/cont" >/dev/null 2>&1 ;;
    esac
    t1=$(now)
    grep -q 'BENCH v=' "$s" 2>/dev/null # the guest finished and reported
    ok=$?
    echo "$t0 $t1" | awk '{printf "%.4f\n", $2 - $1}'
    return $ok
}

median() { sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "-"; exit} m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.6g %.6g %.6g\n", m, a[1], a[NR]}'; }

variants="1:alu:20000000:21 2:pg:20000000:21 3:tlb:3000000:21 4:rep:500000:6"
date_str=$(date -u '+%Y-%m-%d %H:%M UTC')
cpu_str=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "# vsx benchmark, $date_str" > "$w/table"
echo "" >> "$w/table"
echo "Machine: $cpu_str, $(nproc) cores. Engines: $engines. Medians of $RUNS runs (min-max)." >> "$w/table"
echo "" >> "$w/table"
echo "| variant | metric | $(echo $engines | sed 's/ / | /g') | vsx/qemu | vsx/bochs |" >> "$w/table"
echo "|---|---|$(for e in $engines; do printf -- '---:|'; done)---:|---:|" >> "$w/table"
boot_rows=""
for v in $variants; do
    num=${v%%:*}; rest=${v#*:}; name=${rest%%:*}; rest=${rest#*:}
    iters=${rest%%:*}; ipi=${rest#*:}
    iters=$(awk -v i="$iters" -v s="$SCALE" 'BEGIN {n=int(i*s); if (n<2) n=2; print n}')
    sh "$BENCH_DIR/build.sh" "$num" "$iters" "$w/$name.img" >/dev/null
    sh "$BENCH_DIR/build.sh" "$num" 1 "$w/$name-1.img" >/dev/null
    for r in $(seq "$RUNS"); do
        for e in $engines; do
            t1=$(run_engine "$e" "$w/$name-1.img" "$w/s1") || { echo "bench: $e failed the 1-iteration $name run" >&2; continue; }
            tb=$(run_engine "$e" "$w/$name.img" "$w/sb") || { echo "bench: $e failed the $name run" >&2; continue; }
            sum=$(grep -o 'r1=.*' "$w/sb" | tr -d '\r')
            echo "$sum" >> "$w/$name.sums.$e"
            echo "$t1" >> "$w/$name.boot.$e"
            awk -v n="$iters" -v ipi="$ipi" -v a="$t1" -v b="$tb" -v rep="$([ "$name" = rep ] && echo 1 || echo 0)" \
                'BEGIN {d=b-a; if (d<=0) d=1e-9; if (rep) printf "%.1f\n", (n-1)*4096/d/1e6; else printf "%.1f\n", (n-1)*ipi/d/1e6}' >> "$w/$name.$e"
        done
    done
    # Checksums must agree.
    ref=""
    for e in $engines; do
        [ -f "$w/$name.sums.$e" ] || continue
        s=$(sort -u "$w/$name.sums.$e")
        [ -z "$ref" ] && ref=$s
        [ "$s" = "$ref" ] || echo "bench: WARNING: $e checksum for $name differs: $s vs $ref" >&2
    done
    metric=$([ "$name" = rep ] && echo "MB/s" || echo "MIPS")
    row="| $name | $metric |"
    for e in $engines; do
        m=$( [ -f "$w/$name.$e" ] && median < "$w/$name.$e" || echo "- - -")
        set -- $m
        row="$row $1 ($2-$3) |"
        eval "med_$e=$1"
    done
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b+0>0 && a+0>0) printf "%.2fx", a/b; else print "-"}'; }
    row="$row $(ratio "${med_vsx:-0}" "${med_qemu:-0}") | $(ratio "${med_vsx:-0}" "${med_bochs:-0}") |"
    echo "$row" >> "$w/table"
    unset med_vsx med_qemu med_bochs
done
{
    echo ""
    echo "Boot to the boot sector and back (1-iteration run: BIOS POST, floppy boot, exit), seconds:"
    echo ""
    echo "| engine | median (min-max) |"
    echo "|---|---:|"
    for e in $engines; do
        cat "$w"/*.boot.$e 2>/dev/null | median | awk -v e="$e" '{printf "| %s | %s (%s-%s) |\n", e, $1, $2, $3}'
    done
} >> "$w/table"
# Host resources: peak RSS for a 256 MiB guest.
if command -v /usr/bin/time >/dev/null; then
    rss=$(/usr/bin/time -f '%M' "$VSX" run --headless --memory 256M --boot floppy --fda "$w/alu-1.img" --timeout 60 2>&1 >/dev/null | tail -1)
    echo "" >> "$w/table"
    echo "Peak RSS of vsx with a 256 MiB guest (1-iteration alu run): $((rss / 1024)) MiB" >> "$w/table"
fi
cat "$w/table"
cp "$w/table" "$out"
echo "(written to $out)"
