; exceptions: vector delivery details and double faults (Intel SDM Vol. 3A
; §6.5 fault/trap EIP, §6.13 error codes for IDT-related faults (vector*8+2,
; +1 when external), §6.15 "Interrupt 8 -- Double Fault": contributory
; after contributory and page fault after page fault become #DF with error
; code 0; §6.12 a task gate for #DF).  Segmentation-before-paging is in
; seglimit.asm (QEMU cannot validate it).
%include "lib.inc"

V        equ user_vars
DFTSS    equ FREE_LOW               ; TSS of the #DF task
SEL_DFTSS equ SEL_FREE + 0x08
PD       equ 0x20000
PT       equ 0x21000

test_main:
        ; ---- fault vs trap EIPs
        TRY .t1
.f1:    ud2
.t1:    EXPECT_EXC 6, -1, "UD2"
        CHECK_EQ [exc_eip], .f1, "#UD EIP"
        TRY .t2
        xor edx, edx
        xor ecx, ecx
        mov eax, 1
.f2:    div ecx
.t2:    EXPECT_EXC 0, -1, "DIV by zero"
        CHECK_EQ [exc_eip], .f2, "#DE EIP (fault)"
        mov eax, 3
        mov ebx, int3_handler
        mov cx, SEL_CODE0
        mov dl, 0x8E
        call set_gate
        int3
.a3:    CHECK_EQ [V + 0x10], .a3, "INT3 EIP (trap: next instruction)"
        mov eax, 0x7FFFFFFF
        add eax, 1                              ; OF=1
        TRY .t4
        into
.t4:    EXPECT_EXC 4, -1, "INTO with OF=1"
        CHECK_EQ [exc_eip], .t4, "#OF EIP (trap: next instruction)"

        ; ---- instruction length limit: 15 bytes (SDM Vol. 2A §2.1); a
        ; 16-byte instruction is #GP(0) at its first byte
        times 14 db 0x3E
        nop                                     ; 15 bytes: fine
        TRY .t15
.f15:   times 15 db 0x3E
        nop                                     ; 16 bytes
.t15:   EXPECT_EXC 13, 0, "16-byte instruction"
        CHECK_EQ [exc_eip], .f15, "16-byte instruction fault EIP"

        ; ---- IDT-related faults
        mov byte [IDT_ADDR + 0x60 * 8 + 5], 0x0E ; gate 0x60: not present
        TRY .t5
        int 0x60
.t5:    EXPECT_EXC 11, 0x60 * 8 + 2, "INT via not-present gate: #NP(vec*8+2)"
        mov byte [IDT_ADDR + 0x61 * 8 + 5], 0x8A ; gate 0x61: invalid type
        TRY .t6
        int 0x61
.t6:    EXPECT_EXC 13, 0x61 * 8 + 2, "INT via invalid gate type: #GP(vec*8+2)"
        lidt [small_idt]
        TRY .t7
        int 0x40                                ; beyond the limit
.t7:    lidt [idt_ptr]
        EXPECT_EXC 13, 0x40 * 8 + 2, "INT beyond IDT limit: #GP(vec*8+2)"

        ; ---- contributory during contributory delivery: #DF(0)
        ; #GP's own gate is not present: delivering #GP raises #NP -> #DF
        mov byte [IDT_ADDR + 13 * 8 + 5], 0x0E
        TRY .t8
        mov ax, 0x100
        mov es, ax                              ; #GP(0x100)
.t8:    mov byte [IDT_ADDR + 13 * 8 + 5], 0x8E
        EXPECT_EXC 8, 0, "#NP while delivering #GP is a double fault"
        ; benign then contributory: #NP while delivering INT3 is just #NP
        mov byte [IDT_ADDR + 3 * 8 + 5], 0x0E
        TRY .t9
        int3
.t9:    mov byte [IDT_ADDR + 3 * 8 + 5], 0x8E
        EXPECT_EXC 11, 3 * 8 + 2, "#NP while delivering INT3 (no #DF)"

        call paging_on

        ; ---- #PF while delivering #PF: #DF, handled by a task gate
        mov edi, DFTSS
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [DFTSS + 0x20], df_task
        mov dword [DFTSS + 0x24], 2
        mov dword [DFTSS + 0x38], 0x6F00
        mov dword [DFTSS + 0x4C], SEL_CODE0
        mov eax, SEL_DATA0
        mov [DFTSS + 0x48], eax
        mov [DFTSS + 0x50], eax
        mov [DFTSS + 0x54], eax
        mov eax, cr3
        mov [DFTSS + 0x1C], eax
        mov [TSS_ADDR + 0x1C], eax              ; the IRET back reloads CR3 from here
        mov word [DFTSS + 0x66], 0x68
        mov eax, SEL_DFTSS
        mov ebx, DFTSS
        mov ecx, 0x67
        mov dx, 0x0089
        call set_desc
        mov eax, 8
        xor ebx, ebx
        mov cx, SEL_DFTSS
        mov dl, 0x85
        call set_gate
        mov [saved_esp], esp
        mov esp, 0x300100                       ; stack page not present
        mov eax, [0x300000]                     ; #PF; pushing its frame: #PF -> #DF
.after_df:
        mov esp, [saved_esp]
        CHECK_EQ [V + 0x20], 1, "#DF task did not run"
        CHECK_EQ [V + 0x24], 0, "#DF error code"
        CHECK_EQ [V + 0x28], SEL_TSS, "#DF task link"
        ; the second fault's address is in CR2 (the stack push)
        mov eax, [V + 0x2C]
        and eax, 0xFFFFF000
        CHECK_EQ eax, 0x300000, "CR2 at #DF"
        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax
        ret

df_task:
        inc dword [V + 0x20]
        pop eax                                 ; error code on the new stack
        mov [V + 0x24], eax
        movzx eax, word [DFTSS]
        mov [V + 0x28], eax
        mov eax, cr2
        mov [V + 0x2C], eax
        ; resume the faulting task at .after_df with a good stack
        mov dword [TSS_ADDR + 0x20], test_main.after_df
        mov eax, [saved_esp]
        mov [TSS_ADDR + 0x38], eax
        iretd

int3_handler:
        push eax
        mov eax, [esp + 4]
        mov [V + 0x10], eax
        pop eax
        iretd

small_idt:
        dw 0x20 * 8 - 1
        dd IDT_ADDR

paging_on:
        mov edi, PT
        mov eax, 7
        mov ecx, 1024
.m:     stosd
        add eax, 0x1000
        loop .m
        mov dword [PT + (0x300000 >> 12) * 4], 0
        mov edi, PD
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov dword [PD], PT | 7
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        ret

%include "lib_end.inc"
