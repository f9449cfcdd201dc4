; pmode: real -> protected mode switch (done by lib.inc), then checks the
; state the switch must produce: CR0.PE, CS/DS selectors, 32-bit code,
; segment base/limit via a base-shifted data segment, and a return to real
; mode and back (Intel SDM Vol. 3A §9.9 "Mode Switching").
%include "lib.inc"

test_main:
        mov eax, cr0
        test eax, 1
        FAIL_IF z, "CR0.PE clear after switch"
        xor eax, eax
        mov ax, cs
        CHECK_EQ eax, SEL_CODE0, "CS selector"
        ; 32-bit default operand size: push/pop move 4 bytes
        mov edx, esp
        push eax
        sub edx, esp
        pop eax
        CHECK_EQ edx, 4, "push size in 32-bit code"
        ; a data segment with base 0x100000: [fs:0] aliases linear 0x100000
        mov eax, SEL_FREE
        mov ebx, 0x100000
        mov ecx, 0xFFFFF
        mov dx, 0xC093
        call set_desc
        mov ax, SEL_FREE
        mov fs, ax
        mov dword [0x100000], 0x12345678
        mov eax, [fs:0]
        CHECK_EQ eax, 0x12345678, "segment base not applied"
        ; LSL/LAR report the descriptor we built
        mov eax, SEL_FREE
        lsl ecx, eax
        FAIL_IF nz, "LSL failed"
        CHECK_EQ ecx, 0xFFFFFFFF, "LSL limit (G=1)"
        lar ecx, eax
        FAIL_IF nz, "LAR failed"
        and ecx, 0x00F0FF00
        CHECK_EQ ecx, 0x00C09300, "LAR access rights"
        ; back to real mode through a 16-bit segment, then to PM again
        call real_mode_roundtrip
        xor eax, eax
        mov ax, cs
        CHECK_EQ eax, SEL_CODE0, "CS after round trip"
        mov eax, [0x500]
        CHECK_EQ eax, 0xCAFE1234, "real-mode code did not run"
        ret

real_mode_roundtrip:
        mov [saved_esp], esp
        mov ax, SEL_DATA16
        mov ds, ax
        mov es, ax
        mov ss, ax
        jmp SEL_CODE16:(.pm16 - 0xF0000)
        bits 16
.pm16:
        mov eax, cr0
        and eax, ~1
        mov cr0, eax
        jmp 0xF000:(.rm - 0xF0000)
.rm:
        xor ax, ax
        mov ds, ax
        mov ss, ax
        mov sp, 0x7000
        ; real-mode addressing: 0x0050:0 = linear 0x500
        mov ax, 0x50
        mov es, ax
        mov dword [es:0], 0xCAFE1234
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword SEL_CODE0:.back
        bits 32
.back:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, [saved_esp]
        ret

%include "lib_end.inc"
