#!/bin/sh
# 45-acpi: ACPI soft-off end to end.  A tiny ROM (assembled here with NASM)
# programs the PIIX4 PM function's I/O base through PCI configuration
# mechanism #1, asks for S3 (which wakes at once on vsx), then writes SLP_EN
# with the S5 sleep type 0 from QEMU's/SeaBIOS's DSDT to PM1a_CNT: vsx must
# exit 0 (guest power-off), having run the code in between.
: "${VSX:?}" "${BUILD:?}"
t=$(mktemp -d /tmp/vsx-acpi.XXXXXX)
trap 'rm -rf "$t"' EXIT
if ! command -v nasm >/dev/null; then
    echo "SKIP acpi.soft_off: nasm not installed"
    exit 0
fi
cat >"$t/off.asm" <<'EOF'
        bits 16
        org 0
start:  cli
        mov dx, 0xCF8               ; 00:01.3 PMBA (0x40) = 0x600 | 1
        mov eax, 0x80000B40
        out dx, eax
        mov dx, 0xCFC
        mov eax, 0x601
        out dx, eax
        mov dx, 0xCF8               ; PMREGMISC (0x80) bit 0: PM I/O on
        mov eax, 0x80000B80
        out dx, eax
        mov dx, 0xCFC
        mov al, 1
        out dx, al
        mov dx, 0x604               ; PM1a_CNT: SLP_EN | SLP_TYP 1 (S3)
        mov ax, 0x2400
        out dx, ax
        mov dx, 0xE9                ; still running
        mov al, 'K'
        out dx, al
        mov dx, 0x604               ; PM1a_CNT: SLP_EN | SLP_TYP 0 (S5)
        mov ax, 0x2000
        out dx, ax
        mov dx, 0xE9
        mov al, 'X'                 ; must not run
        out dx, al
        mov dx, 0xF4                ; exit port: status 0xFF
        mov al, 0x7F
        out dx, al
.halt:  hlt
        jmp .halt
        times 0xFFF0 - ($ - $$) db 0xFF
        jmp 0xF000:start
        times 0x10000 - ($ - $$) db 0xFF
EOF
if ! nasm -f bin -o "$t/off.bin" "$t/off.asm" 2>"$t/nasm.err"; then
    echo "FAIL acpi.soft_off: NASM failed: $(head -1 "$t/nasm.err")"
    exit 0
fi
: >"$t/con"
timeout 60 "$VSX" run --headless --deterministic --timeout 20 --bios "$t/off.bin" --debugcon "$t/con" \
    >"$t/out" 2>&1
st=$?
con=$(cat "$t/con")
if [ $st -eq 0 ] && [ "$con" = K ]; then
    echo "PASS acpi.soft_off"
else
    echo "FAIL acpi.soft_off: exit $st, debug console '$con' (want exit 0 and 'K'): $(tail -1 "$t/out")"
fi
exit 0
