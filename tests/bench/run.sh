#!/bin/sh
# tests/bench/run.sh -- `make bench`: the CPU workload of ../shared/bench under
# vsx, QEMU TCG and Bochs in one run, engines interleaved so machine drift hits
# them alike.  Prints a Markdown table and writes it to tests/bench/results.md.
#
# Guest MIPS = (ITERS - 1) * instructions-per-iteration / (wall(ITERS) - wall(1)):
# the 1-iteration run measures boot overhead, which cancels.  Medians of RUNS
# runs, with min and max.  Checksums must agree between engines.
#
# Boot milestones (vsx and QEMU TCG, interleaved, same 512 MiB guest): wall
# time from just before exec until the milestone is seen, the process killed
# as soon as it is; a script polls every 50 ms.  vsx --debug timing gives the
# time from exec to the first guest instruction.  MILESTONE_TIMEOUT bounds
# each milestone run (wall seconds); a run that misses it counts as failed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
: "${VSX:=$top/vsx}"
: "${BENCH_DIR:=$top/../shared/bench}"
: "${RUNS:=3}"
: "${SCALE:=1}" # multiply iteration counts (0.1 for a quick look)
: "${MILESTONE_TIMEOUT:=300}"
: "${GRUB_ISO:=/usr/lib/grub-rescue/grub-rescue-cdrom.iso}"
: "${DI:=/usr/lib/debian-installer/images/12/i386/text/debian-installer/i386}"
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

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b+0>0 && a+0>0) printf "%.2fx", a/b; else print "-"}'; }

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
    row="$row $(ratio "${med_vsx:-0}" "${med_qemu:-0}") | $(ratio "${med_vsx:-0}" "${med_bochs:-0}") |"
    echo "$row" >> "$w/table"
    unset med_vsx med_qemu med_bochs
done
# ---- Boot milestones.
# poll_milestone PID CHECK...: runs CHECK every 50 ms until it succeeds (prints
# the seconds since $t0 and kills PID), PID exits or MILESTONE_TIMEOUT passes
# (prints nothing, rc 1).
poll_milestone() {
    pid=$1; shift
    found=1
    while :; do
        if "$@"; then found=0; t1=$(now); break; fi
        kill -0 "$pid" 2>/dev/null || break
        awk -v a="$t0" -v b="$(now)" -v m="$MILESTONE_TIMEOUT" 'BEGIN {exit !(b - a > m)}' && break
        sleep 0.05
    done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
    [ $found = 0 ] && echo "$t0 $t1" | awk '{printf "%.4f\n", $2 - $1}'
    return $found
}
serial_has() { sed 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1" 2>/dev/null | grep -q "$2"; }
# QEMU: ask the monitor (stdin, a FIFO on fd 3) to dump VGA text memory, then
# look at the dump the previous request left: characters are the even bytes.
qemu_vga_has() {
    echo "pmemsave 0xb8000 4000 \"$w/vga.bin\"" >&3 2>/dev/null
    [ -f "$w/vga.bin" ] && od -An -v -tu1 -w2 "$w/vga.bin" | awk '{printf "%c", $1} NR % 80 == 0 {print ""}' |
        LC_ALL=C tr -c '[:print:]\n' ' ' | grep -q "$1"
}
GRUB_PAT='executed automatically' # the last line GRUB draws: its menu is up, counting down
DI_PAT='Select a language'
run_milestone() { # engine milestone -> prints seconds; rc 1 if not reached
    e=$1 m=$2
    rm -f "$w/ms.txt" "$w/ms.ser" "$w/vga.bin"
    case $e:$m in
    vsx:grub)
        t0=$(now)
        "$VSX" run --headless --accel interp --memory 512M --cdrom "$w/grub.iso" --boot cdrom \
            --screen-text "$w/ms.txt" --timeout "$MILESTONE_TIMEOUT" >/dev/null 2>&1 &
        poll_milestone $! grep -qs "$GRUB_PAT" "$w/ms.txt" ;;
    qemu:grub)
        rm -f "$w/mon"; mkfifo "$w/mon"
        trap '' PIPE # (in this subshell) a QEMU that died must not kill the poll
        t0=$(now)
        qemu-system-i386 -accel tcg -display none -monitor stdio -no-reboot -m 512 \
            -cdrom "$w/grub.iso" -boot d < "$w/mon" >/dev/null 2>&1 &
        qpid=$!
        exec 3>"$w/mon"
        poll_milestone $qpid qemu_vga_has "$GRUB_PAT"; rc=$?
        exec 3>&-
        return $rc ;;
    vsx:di)
        t0=$(now)
        "$VSX" run --headless --accel interp --memory 512M --serial "file:$w/ms.ser" \
            --kernel "$DI/linux" --initrd "$DI/initrd.gz" --append console=ttyS0 \
            --timeout "$MILESTONE_TIMEOUT" >/dev/null 2>&1 &
        poll_milestone $! serial_has "$w/ms.ser" "$DI_PAT" ;;
    qemu:di)
        t0=$(now)
        qemu-system-i386 -accel tcg -display none -monitor none -no-reboot -m 512 \
            -serial "file:$w/ms.ser" -kernel "$DI/linux" -initrd "$DI/initrd.gz" -append console=ttyS0 \
            >/dev/null 2>&1 &
        poll_milestone $! serial_has "$w/ms.ser" "$DI_PAT" ;;
    esac
}
ms_engines="vsx"
case " $engines " in *" qemu "*) ms_engines="vsx qemu" ;; esac
milestones=""
skips=""
if [ -f "$GRUB_ISO" ]; then
    cp "$GRUB_ISO" "$w/grub.iso" # a private copy: the guest never writes the system's file
    milestones="grub"
else
    skips="$skips
GRUB rescue CD menu: skipped, $GRUB_ISO missing (package grub-rescue-pc)."
fi
if [ -f "$DI/linux" ] && [ -f "$DI/initrd.gz" ]; then
    milestones="$milestones di"
else
    skips="$skips
Debian installer language screen: skipped, $DI/linux missing (package debian-installer-12-netboot-i386)."
fi
for r in $(seq "$RUNS"); do
    # exec to the first guest instruction (vsx only: the 1-iteration alu floppy)
    t0=$(now)
    "$VSX" run --headless --accel interp --debug timing --memory 32M --boot floppy --fda "$w/alu-1.img" \
        --timeout 60 >/dev/null 2>"$w/timing.err"
    rt=$(sed -n 's/^vsx: timing: first guest instruction at realtime \([0-9.]*\), \(-*[0-9]*\) ms.*/\1 \2/p' "$w/timing.err")
    if [ -n "$rt" ]; then
        set -- $rt
        awk -v a="$t0" -v b="$1" 'BEGIN {printf "%.2f\n", (b - a) * 1e3}' >> "$w/first.exec"
        echo "$2" >> "$w/first.proc"
    else
        echo "bench: vsx --debug timing printed no timing line" >&2
    fi
    for m in $milestones; do
        for e in $ms_engines; do
            if t=$(run_milestone "$e" "$m"); then
                echo "$t" >> "$w/ms.$m.$e"
            else
                echo "bench: $e did not reach the $m milestone within $MILESTONE_TIMEOUT s" >&2
                echo x >> "$w/ms.$m.$e.fail"
            fi
        done
    done
done
spread() { # "median min max" on stdin [UNIT] -> "median UNIT (min-max)"
    awk -v u="${1:+ $1}" '{printf "%s%s (%s-%s)", $1, u, $2, $3}'
}
cell() { # FILE-PREFIX -> "median (min-max)" plus failures
    c=$( [ -f "$1" ] && median < "$1" | spread)
    [ -n "$c" ] || c="-"
    [ -f "$1.fail" ] && c="$c, $(wc -l < "$1.fail") of $RUNS failed"
    echo "$c"
}
{
    echo ""
    echo "Boot milestones, wall seconds from exec until the milestone is on screen or serial (polled every"
    echo "50 ms, the process then killed); median of $RUNS (min-max).  Same guest RAM per row for all engines;"
    echo "vsx/qemu is the ratio of times (below 1: vsx is faster)."
    echo ""
    echo "| milestone | $(echo $engines | sed 's/ / | /g') | vsx/qemu |"
    echo "|---|$(for e in $engines; do printf -- '---:|'; done)---:|"
    row="| (a) SeaBIOS to the boot sector and back: POST, floppy boot, exit (1-iteration run, 32 MiB) |"
    for e in $engines; do
        c=$(cat "$w"/*.boot.$e 2>/dev/null | median | spread)
        row="$row ${c:--} |"
        eval "med_$e=\$(cat \"\$w\"/*.boot.\$e 2>/dev/null | median | cut -d' ' -f1)"
    done
    echo "$row $(ratio "${med_vsx:-0}" "${med_qemu:-0}") |"
    for m in $milestones; do
        case $m in
        grub) label="(b) GRUB rescue CD ($(basename "$GRUB_ISO")): menu drawn, '$GRUB_PAT' (512 MiB)" ;;
        di) label="(c) Debian installer 12 i386 kernel+initrd, console=ttyS0: '$DI_PAT' on serial (512 MiB)" ;;
        esac
        row="| $label |"
        for e in $engines; do
            case " $ms_engines " in
            *" $e "*) row="$row $(cell "$w/ms.$m.$e") |" ;;
            *) row="$row not run |" ;;
            esac
        done
        mv=$( [ -f "$w/ms.$m.vsx" ] && median < "$w/ms.$m.vsx" | cut -d' ' -f1)
        mq=$( [ -f "$w/ms.$m.qemu" ] && median < "$w/ms.$m.qemu" | cut -d' ' -f1)
        echo "$row $(ratio "${mv:-0}" "${mq:-0}") |"
    done
    [ -n "$skips" ] && echo "$skips" | sed '/^$/d; s/^/\n/'
    echo ""
    echo "The GRUB rescue CD stops at its menu (30 s countdown); its grub> prompt needs a key ('c'), so the"
    echo "menu is the milestone.  vsx rewrites its --screen-text file every 50 ms of wall time while running;"
    echo "QEMU's VGA text memory (0xB8000) is read with the monitor's pmemsave on each poll."
    if [ -f "$w/first.exec" ]; then
        fe=$(median < "$w/first.exec"); fp=$(median < "$w/first.proc")
        echo ""
        echo "vsx, exec to the first guest instruction (--debug timing, the bench floppy, 32 MiB): $(echo $fe | spread ms)"
        echo "from a timestamp taken just before exec (includes fork, exec, dynamic loading, ROM and board setup);"
        echo "$(echo $fp | spread ms) by the kernel's process start time (/proc/self/stat, 10 ms ticks)."
    fi
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
