; task: hardware task switching (Intel SDM Vol. 3A §7.3 "Task Switching":
; JMP/CALL to a TSS descriptor, task gates in the IDT, IRET with NT=1;
; §7.4 "Task Linking": previous-task link, NT flag, busy flag rules -- CALL
; and INT keep the old task busy and set NT, JMP clears the old busy bit;
; calling a busy task is #GP(selector)).
%include "lib.inc"

TSSB     equ FREE_LOW               ; second TSS
SEL_TSSB equ SEL_FREE
V        equ user_vars
TSS_TYPE equ GDT_ADDR + SEL_TSS + 5
TSSB_TYPE equ GDT_ADDR + SEL_TSSB + 5

; init_tssb EIP: fresh state for task B
%macro INIT_TSSB 1
        mov edi, TSSB
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSSB + 0x20], %1             ; EIP
        mov dword [TSSB + 0x24], 2              ; EFLAGS
        mov dword [TSSB + 0x28], 0x1234ABCD     ; EAX
        mov dword [TSSB + 0x38], 0x6F00         ; ESP
        mov dword [TSSB + 0x4C], SEL_CODE0      ; CS
        mov eax, SEL_DATA0
        mov [TSSB + 0x48], eax                  ; ES
        mov [TSSB + 0x50], eax                  ; SS
        mov [TSSB + 0x54], eax                  ; DS
        mov [TSSB + 0x58], eax                  ; FS
        mov [TSSB + 0x5C], eax                  ; GS
        mov word [TSSB + 0x66], 0x68            ; no I/O bitmap
        mov eax, cr3
        mov [TSSB + 0x1C], eax
%endmacro

test_main:
        mov eax, SEL_TSSB
        mov ebx, TSSB
        mov ecx, 0x67
        mov dx, 0x0089
        call set_desc

        ; ---- CALL to a TSS: nested task, back link, both busy
        INIT_TSSB task_nested
        mov ebx, 0x5A5A5A5A
        mov esi, 0x1111
        call SEL_TSSB:0
.back1:
        CHECK_EQ ebx, 0x5A5A5A5A, "EBX not restored from the outgoing TSS"
        CHECK_EQ esi, 0x1111, "ESI not restored from the outgoing TSS"
        CHECK_EQ [V + 0x00], SEL_TSSB, "TR in called task"
        CHECK_EQ [V + 0x04], 0x4000, "NT in called task"
        CHECK_EQ [V + 0x08], SEL_TSS, "previous-task link"
        CHECK_EQ [V + 0x0C], 0x8B, "caller TSS not busy during CALL"
        CHECK_EQ [V + 0x10], 0x8B, "called TSS not busy"
        CHECK_EQ [V + 0x14], 0x1234ABCD, "EAX not loaded from the new TSS"
        movzx eax, byte [TSSB_TYPE]
        CHECK_EQ eax, 0x89, "busy bit of the task left by IRET"
        movzx eax, byte [TSS_TYPE]
        CHECK_EQ eax, 0x8B, "busy bit of the resumed task"
        pushfd
        pop eax
        and eax, 0x4000
        CHECK_EQ eax, 0, "NT set after returning to the outer task"
        str ax
        movzx eax, ax
        CHECK_EQ eax, SEL_TSS, "TR after IRET"
        ; the outgoing state of task B was saved into its TSS at IRET
        mov eax, [TSSB + 0x20]
        CHECK_EQ eax, task_nested.after_iret, "EIP saved into TSS B by IRET"
        CHECK_EQ [TSSB + 0x34], 0x77, "EBX saved into TSS B by IRET"
        ; TSS A's saved EIP was the instruction after the CALL
        mov eax, [TSS_ADDR + 0x20]
        CHECK_EQ eax, .back1, "EIP saved into TSS A by CALL"

        ; ---- JMP to a TSS: no link, old task not busy
        INIT_TSSB task_jumped
        mov dword [TSSB + 0x34], 0
        jmp SEL_TSSB:0
.back2:
        CHECK_EQ [V + 0x20], 0x89, "JMP left the old TSS busy"
        CHECK_EQ [V + 0x24], 0x8B, "JMP target not busy"
        CHECK_EQ [V + 0x28], 0, "JMP set NT"
        movzx eax, byte [TSSB_TYPE]
        CHECK_EQ eax, 0x89, "task B busy after JMP back"

        ; ---- calling a busy task (ourselves): #GP(selector)
        TRY .t1
        call SEL_TSS:0
.t1:    EXPECT_EXC 13, SEL_TSS, "CALL to a busy TSS"

        ; ---- INT through a task gate: like CALL
        INIT_TSSB task_nested
        mov dword [V + 0x00], 0
        mov eax, 0x50
        xor ebx, ebx
        mov cx, SEL_TSSB
        mov dl, 0x85                            ; task gate
        call set_gate
        int 0x50
        CHECK_EQ [V + 0x00], SEL_TSSB, "task gate: TR"
        CHECK_EQ [V + 0x04], 0x4000, "task gate: NT"
        CHECK_EQ [V + 0x08], SEL_TSS, "task gate: link"

        ; ---- IRET with NT=1 and an available (not busy) link target: #TS
        ; (SDM §7.4: IRET checks the previous task is busy) -- link to TSS B
        ; while it is not busy
        mov word [TSS_ADDR + 0], SEL_TSSB
        TRY .t2
        pushfd
        or dword [esp], 0x4000
        popfd
        iretd
.t2:    EXPECT_EXC 10, SEL_TSSB, "IRET to a non-busy task"
        pushfd
        and dword [esp], ~0x4000
        popfd
        ret

task_nested:
        mov [V + 0x14], eax                     ; loaded from the TSS image
        str ax
        movzx eax, ax
        mov [V + 0x00], eax
        pushfd
        pop eax
        and eax, 0x4000
        mov [V + 0x04], eax
        movzx eax, word [TSSB]
        mov [V + 0x08], eax
        movzx eax, byte [TSS_TYPE]
        mov [V + 0x0C], eax
        movzx eax, byte [TSSB_TYPE]
        mov [V + 0x10], eax
        mov ebx, 0x77
        iretd
.after_iret:
        jmp .after_iret

task_jumped:
        movzx eax, byte [TSS_TYPE]
        mov [V + 0x20], eax
        movzx eax, byte [TSSB_TYPE]
        mov [V + 0x24], eax
        pushfd
        pop eax
        and eax, 0x4000
        mov [V + 0x28], eax
        jmp SEL_TSS:0

%include "lib_end.inc"
