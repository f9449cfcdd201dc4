; realmode: real-address-mode details a BIOS or boot loader relies on
; (Intel SDM Vol. 3B §20.1: IDTR still locates the interrupt table in real
; mode; "big real mode": segment limits loaded in protected mode stay in
; force after returning to real mode until the register is reloaded in
; protected mode; §20.1.1 address translation with the A20 gate -- here the
; fast A20 bit of port 0x92 (PS/2 System Control Port A)).
%include "lib.inc"

V        equ user_vars

test_main:
        mov dword [V + 0x00], 0
        mov dword [0x100000], 0x11111111
        mov dword [0x000000 + 0x600], 0         ; alias target below 1 MiB
        mov dword [0x100600], 0x22222222
        ; FS: flat 4 GiB data, loaded here; it keeps its limit in real mode
        mov ax, SEL_DATA0
        mov fs, ax
        call to_real_and_back
        CHECK_EQ [V + 0x00], 0x11111111, "big real mode: FS limit not kept in real mode"
        CHECK_EQ [V + 0x04], 0x5A5A, "INT through an IVT moved by LIDT"
        CHECK_EQ [V + 0x08], 0x22222222, "A20 on: 0x100600 must not alias 0x600"
        CHECK_EQ [V + 0x0C], 0x33333333, "A20 off: 0x100600 must alias 0x600"
        CHECK_EQ [V + 0x10], 0x44444444, "A20 back on"
        ret

to_real_and_back:
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
        mov es, ax
        mov ss, ax
        mov sp, 0x7000
        ; big real mode: a 32-bit offset through FS (base still 0, limit 4 GiB)
        mov esi, 0x100000
        mov eax, [fs:esi]
        mov [V + 0x00], eax
        ; IVT relocated by LIDT: vector 0x21 at 0x8000 + 0x84
        mov word [0x8000 + 0x21 * 4], .int21 - 0xF0000
        mov word [0x8000 + 0x21 * 4 + 2], 0xF000
        mov bx, rm_idt - 0xF0000
        o32 lidt [cs:bx]
        int 0x21
        mov bx, rm_idt0 - 0xF0000
        o32 lidt [cs:bx]
        ; A20 through port 0x92 bit 1 (bit 0 is the reset bit: keep it 0)
        mov eax, [fs:dword 0x100600]
        mov [V + 0x08], eax
        in al, 0x92
        and al, ~3
        out 0x92, al
        mov dword [0x600], 0x33333333
        mov eax, [fs:dword 0x100600]            ; wraps to 0x000600
        mov [V + 0x0C], eax
        in al, 0x92
        or al, 2
        and al, ~1
        out 0x92, al
        mov dword [fs:dword 0x100600], 0x44444444
        mov eax, [fs:dword 0x100600]
        mov [V + 0x10], eax
        ; back to protected mode
        mov eax, cr0
        or eax, 1
        mov cr0, eax
        jmp dword SEL_CODE0:.back
.int21:
        mov word [V + 0x04], 0x5A5A
        iret
        bits 32
.back:
        mov ax, SEL_DATA0
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov esp, [saved_esp]
        lidt [idt_ptr]
        ret

rm_idt:  dw 0x3FF
         dd 0x8000
rm_idt0: dw 0x3FF
         dd 0

%include "lib_end.inc"
