#!/bin/sh
# Command line and VM files: the binary runs alone, broken VM files are
# refused with every problem named, paths resolve relative to the VM file.
: "${VSX:?}"
t=$(mktemp -d /tmp/vsx-cli.XXXXXX)
trap 'rm -rf "$t"' EXIT
pass() { echo "PASS cli.$1"; }
fail() { echo "FAIL cli.$1: $2"; }
check() { # name condition-command...
    n=$1; shift
    if "$@"; then pass "$n"; else fail "$n" "$(echo "$*" | cut -c1-120)"; fi
}

# The binary copied alone into an empty folder runs: ROMs are embedded.
mkdir "$t/empty" && cp "$VSX" "$t/empty/vsx"
out=$(cd "$t/empty" && ./vsx --version 2>&1); rc=$?
check version_alone [ $rc -eq 0 ] 
check version_text sh -c "echo '$out' | grep -q '^vsx [0-9]'"
printf '[vm]\nmemory = 16M\n' > "$t/empty/tiny.ini"
(cd "$t/empty" && ./vsx check tiny.ini > check.out 2>&1); rc=$?
check check_alone [ $rc -eq 0 ]
check check_prints_machine grep -q 'memory *= 16M' "$t/empty/check.out"

"$VSX" --help > "$t/help" 2>&1
check help_exit_statuses grep -q '124' "$t/help"
check help_lists_models grep -q 'CPU models:.*pentium' "$t/help"

# A broken VM file: every problem, as FILE:LINE: [section] key: what, exit 1.
cat > "$t/broken.ini" <<'INI'
[vm]
memory = 12Q
cpu = pentium
colour = red

[ide0.master]
type = disk
image = nowhere.vhd
INI
"$VSX" check "$t/broken.ini" > "$t/out" 2>&1; rc=$?
check broken_exit_1 [ $rc -eq 1 ]
check broken_bad_size grep -q "broken.ini:2: \[vm\] memory: '12Q' is not a size" "$t/out"
check broken_unknown_key grep -q "broken.ini:4: \[vm\] colour: unknown key" "$t/out"
# The missing image is reported once the syntax errors are fixed.
sed -i '/12Q/d; /colour/d' "$t/broken.ini"
"$VSX" check "$t/broken.ini" > "$t/out" 2>&1; rc=$?
check missing_image_exit_1 [ $rc -eq 1 ]
check missing_image_named grep -q "broken.ini:6: \[ide0.master\] image: cannot open '.*nowhere.vhd'" "$t/out"
# run refuses it the same way, and starts nothing.
"$VSX" run --headless --timeout 1 "$t/broken.ini" > "$t/out" 2>&1; rc=$?
check run_refuses_broken [ $rc -eq 1 ]

# Paths are relative to the VM file: move the whole folder and it still works.
mkdir -p "$t/vmdir/sub"
truncate -s 1M "$t/vmdir/sub/disk.img"
printf '[ide0.master]\nimage = sub/disk.img\n' > "$t/vmdir/vm.ini"
mv "$t/vmdir" "$t/moved"
(cd / && "$VSX" check "$t/moved/vm.ini" > "$t/out" 2>&1); rc=$?
check relative_paths [ $rc -eq 0 ]
check relative_paths_resolved grep -q "image *= $t/moved/sub/disk.img" "$t/out"

# Command-line options override the file and are checked like it.
"$VSX" check "$t/moved/vm.ini" --memory 64M > "$t/out" 2>&1
check override_memory grep -q 'memory *= 64M' "$t/out"
"$VSX" check "$t/moved/vm.ini" --memory 0 > "$t/out" 2>&1; rc=$?
check override_checked [ $rc -eq 1 ]
"$VSX" run --no-such-option > "$t/out" 2>&1; rc=$?
check unknown_option_exit_1 [ $rc -eq 1 ]

# accel = kvm without a KVM backend fails clearly (exit 1), naming the key.
"$VSX" check "$t/moved/vm.ini" --accel kvm > "$t/out" 2>&1; rc=$?
check accel_kvm_refused [ $rc -eq 1 ]
check accel_kvm_named grep -q "\[vm\] accel: kvm was requested" "$t/out"

# --debug timing: one line, before the guest runs, with a real-time stamp that
# falls inside the run (no speed is asserted).
before=$(date +%s.%N)
"$VSX" run --headless --timeout 1 --debug timing > "$t/out" 2>&1
after=$(date +%s.%N)
check debug_timing_one_line [ "$(grep -c '^vsx: timing: first guest instruction at realtime [0-9]*\.[0-9]\{9\}, [0-9]* ms after process start$' "$t/out")" = 1 ]
stamp=$(sed -n 's/^vsx: timing: .* realtime \([0-9.]*\),.*/\1/p' "$t/out")
check debug_timing_stamp_in_run awk -v a="$before" -v s="${stamp:-0}" -v b="$after" 'BEGIN {exit !(a <= s && s <= b)}'
"$VSX" run --headless --timeout 1 > "$t/out" 2>&1
check debug_timing_off_by_default sh -c "! grep -q 'vsx: timing' '$t/out'"
"$VSX" run --debug nosuch > "$t/out" 2>&1; rc=$?
check debug_unknown_topic [ $rc -eq 1 ]
check debug_topics_named grep -q "topics: post, timing" "$t/out"

# --screen-text is refreshed while the VM runs (not only at exit): SeaBIOS's
# banner shows up in it before the process ends; the writes leave no temp file.
"$VSX" run --headless --timeout 120 --screen-text "$t/live.txt" > "$t/out" 2>&1 &
pid=$!
seen=no
for i in $(seq 600); do
    grep -q 'SeaBIOS' "$t/live.txt" 2>/dev/null && { kill -0 $pid 2>/dev/null && seen=yes; break; }
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
done
kill $pid 2>/dev/null; wait $pid 2>/dev/null
check screen_text_live [ $seen = yes ]
check screen_text_no_temp [ ! -e "$t/live.txt.tmp" ]
