; task2: what a task switch loads besides registers (Intel SDM Vol. 3A
; §7.3 step 8-12: CR3 and the LDTR come from the new TSS; §7.2.1 the T flag
; raises #DB in the new task with DR6.BT; §7.6 16-bit (286) TSS format,
; types 1/3, switched to with CALL and back with IRET).
%include "lib.inc"

V         equ user_vars
TSSB      equ FREE_LOW              ; 32-bit TSS of task B
TSS16     equ FREE_LOW + 0x100      ; 16-bit TSS of task C
LDTB      equ FREE_LOW + 0x200      ; task B's LDT (1 entry)
SEL_TSSB  equ SEL_FREE
SEL_LDTB  equ SEL_FREE + 0x08
SEL_TSS16 equ SEL_FREE + 0x10
PD_A      equ 0x20000               ; identity
PD_B      equ 0x22000               ; identity, but 0x300000 -> 0x301000
PT        equ 0x21000
PT_B      equ 0x23000

test_main:
        ; two address spaces: identical except linear page 0x300000
        mov edi, PT
        mov eax, 7
        mov ecx, 1024
.m:     stosd
        add eax, 0x1000
        loop .m
        mov esi, PT
        mov edi, PT_B
        mov ecx, 1024
        rep movsd
        mov dword [PT_B + (0x300000 >> 12) * 4], 0x301000 | 7
        mov edi, PD_A
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov edi, PD_B
        mov ecx, 1024
        rep stosd
        mov dword [PD_A], PT | 7
        mov dword [PD_B], PT_B | 7
        mov dword [0x300000], 0xAAAAAAAA
        mov dword [0x301000], 0xBBBBBBBB
        mov eax, PD_A
        mov cr3, eax
        mov [TSS_ADDR + 0x1C], eax              ; our CR3 for switches back
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        ; task B: its own CR3 and LDT, T flag set
        mov edi, TSSB
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSSB + 0x1C], PD_B
        mov dword [TSSB + 0x20], task_b
        mov dword [TSSB + 0x24], 2
        mov dword [TSSB + 0x38], 0x6F00
        mov dword [TSSB + 0x4C], SEL_CODE0
        mov eax, SEL_DATA0
        mov [TSSB + 0x48], eax
        mov [TSSB + 0x50], eax
        mov [TSSB + 0x54], eax
        mov dword [TSSB + 0x5C], 0x04           ; GS = LDT entry 0 (TI=1)
        mov word [TSSB + 0x60], SEL_LDTB
        mov word [TSSB + 0x64], 1               ; T: debug trap on entry
        mov word [TSSB + 0x66], 0x68
        ; LDT of B: entry 0 = data, base 0x100000
        mov dword [LDTB], 0x0000FFFF
        mov dword [LDTB + 4], 0x00CF9310
        mov eax, SEL_LDTB
        mov ebx, LDTB
        mov ecx, 7
        mov dx, 0x0082
        call set_desc
        mov eax, SEL_TSSB
        mov ebx, TSSB
        mov ecx, 0x67
        mov dx, 0x0089
        call set_desc
        mov eax, 1
        mov ebx, db_handler
        mov cx, SEL_CODE0
        mov dl, 0x8E
        call set_gate
        mov dword [0x100000], 0x1DB1DB1D
        xor eax, eax
        mov dr6, eax
        call SEL_TSSB:0
        CHECK_EQ [V + 0x00], 0xBBBBBBBB, "task B did not run with its own CR3"
        CHECK_EQ [V + 0x04], SEL_LDTB, "LDTR in task B"
        CHECK_EQ [V + 0x08], 0x1DB1DB1D, "GS from task B's LDT"
        CHECK_EQ [0x300000], 0xAAAAAAAA, "CR3 not restored on the way back"
        sldt ax
        movzx eax, ax
        CHECK_EQ eax, 0, "LDTR not restored on the way back"

        ; task C: a 16-bit (286) TSS; CALL to it, IRET back
        mov edi, TSS16
        mov ecx, 0x2C / 2
        xor eax, eax
        rep stosw
        mov word [TSS16 + 0x0E], task_c - 0xF0000 ; IP (CS base 0xF0000)
        mov word [TSS16 + 0x10], 2              ; FLAGS
        mov word [TSS16 + 0x12], 0x1234         ; AX
        mov word [TSS16 + 0x1A], 0x6E00         ; SP
        mov word [TSS16 + 0x24], SEL_CODE16     ; CS
        mov word [TSS16 + 0x26], SEL_DATA16     ; SS
        mov word [TSS16 + 0x28], SEL_DATA16     ; DS
        mov word [TSS16 + 0x22], SEL_DATA16     ; ES
        mov eax, SEL_TSS16
        mov ebx, TSS16
        mov ecx, 0x2B
        mov dx, 0x0081                          ; 16-bit TSS, available
        call set_desc
        mov ebx, 0x55667788
        call SEL_TSS16:0
        CHECK_EQ ebx, 0x55667788, "EBX after returning from a 16-bit task"
        CHECK_EQ [V + 0x20], 0x1234, "AX loaded from the 16-bit TSS"
        movzx eax, word [TSS16 + 0x0E]
        mov edx, task_c.after - 0xF0000
        CHECK_EQ eax, edx, "IP saved into the 16-bit TSS by IRET"
        movzx eax, byte [GDT_ADDR + SEL_TSS16 + 5]
        CHECK_EQ eax, 0x81, "16-bit TSS busy after IRET"
        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax
        ; last, so QEMU (no T-flag support) still validates everything above
        CHECK_EQ [V + 0x0C], 1, "T flag: #DB count in task B"
        CHECK_EQ [V + 0x10], task_b, "T flag: #DB before the first instruction of task B"
        mov eax, [V + 0x14]
        and eax, 0x8000
        CHECK_EQ eax, 0x8000, "T flag: DR6.BT"
        ret

task_b:
        mov eax, [0x300000]
        mov [V + 0x00], eax
        sldt ax
        movzx eax, ax
        mov [V + 0x04], eax
        mov eax, [gs:0]
        mov [V + 0x08], eax
        iretd

db_handler:
        push eax
        inc dword [V + 0x0C]
        mov eax, [esp + 4]
        mov [V + 0x10], eax
        mov eax, dr6
        mov [V + 0x14], eax
        xor eax, eax
        mov dr6, eax
        pop eax
        iretd

        bits 16
task_c:
        mov [V + 0x20], ax
        iret
.after:
        jmp task_c
        bits 32

%include "lib_end.inc"
