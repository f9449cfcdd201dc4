; gates2: error cases of privilege transfers (Intel SDM Vol. 2A CALL
; "Operation", CALL-GATE/MORE-PRIVILEGE: a new SS from the TSS whose RPL or
; DPL is not the new CPL is #TS(SS selector); call gate to a not-present
; segment is #NP(code selector); Vol. 2A IRET/RET: returning to a
; non-conforming code segment whose DPL != RPL is #GP(selector), a null SS
; on a return to an outer level is #GP(0); §6.12.1 an interrupt gate whose
; target code has DPL 3 runs the handler at CPL 3 on the same stack).
%include "lib.inc"

V        equ user_vars
GATE     equ SEL_FREE + 0x00        ; call gate DPL 3 -> ring 0 code
GATE_NP  equ SEL_FREE + 0x08        ; call gate DPL 3 -> not-present code
CODE_NP  equ SEL_FREE + 0x10        ; not-present code, DPL 0
SEL_TSTSS equ SEL_FREE + 0x18       ; task for #TS (the faulting stack is unusable)
TSTSS    equ FREE_LOW

%macro CALLGATE 3                   ; sel, code selector, target
        mov edi, GDT_ADDR + (%1 & 0xFFF8)
        mov eax, %3
        mov [edi], ax
        mov word [edi + 2], %2
        mov byte [edi + 4], 0
        mov byte [edi + 5], 0xEC
        shr eax, 16
        mov [edi + 6], ax
%endmacro

%macro R3 2                         ; record vector+1 and error code
        TRY %%r
        mov dword [exc_vec], 0xFFFFFFFF
        %2
%%r:    mov eax, [exc_vec]
        inc eax
        mov [V + %1 * 8], eax
        mov eax, [exc_err]
        mov [V + %1 * 8 + 4], eax
%endmacro

test_main:
        CALLGATE GATE, SEL_CODE0, gate_target
        CALLGATE GATE_NP, CODE_NP, gate_target
        mov eax, CODE_NP
        xor ebx, ebx
        mov ecx, 0xFFFFF
        mov dx, 0xC01B                          ; code, DPL 0, not present
        call set_desc
        ; interrupt gate 0x44 (DPL 3) whose target is ring-3 code
        mov eax, 0x44
        mov ebx, ring3_handler
        mov cx, SEL_CODE3
        mov dl, 0xEE
        call set_gate

        ; a TSS with a wrong SS0 (DPL/RPL 3) for the inner stack; #TS is
        ; delivered through a task gate (it needs SS0 too), whose handler
        ; records the error, repairs SS0 and returns to retry the CALL
        mov edi, TSTSS
        mov ecx, 0x68 / 4
        xor eax, eax
        rep stosd
        mov dword [TSTSS + 0x20], ts_task
        mov dword [TSTSS + 0x24], 2
        mov dword [TSTSS + 0x38], 0x6F00
        mov dword [TSTSS + 0x4C], SEL_CODE0
        mov eax, SEL_DATA0
        mov [TSTSS + 0x48], eax
        mov [TSTSS + 0x50], eax
        mov [TSTSS + 0x54], eax
        mov word [TSTSS + 0x66], 0x68
        mov eax, SEL_TSTSS
        mov ebx, TSTSS
        mov ecx, 0x67
        mov dx, 0x0089
        call set_desc
        mov eax, 10
        xor ebx, ebx
        mov cx, SEL_TSTSS
        mov dl, 0x85
        call set_gate
        mov word [TSS_ADDR + 8], SEL_DATA3
        mov ebx, ring3_badss
        call ring3_call
        mov word [TSS_ADDR + 8], SEL_DATA0
        CHECK_EQ [V + 0x00], 11, "call gate with SS0 of DPL 3: #TS"
        CHECK_EQ [V + 0x04], SEL_DATA3 & ~3, "call gate with SS0 of DPL 3: error code"

        mov ebx, ring3_code
        call ring3_call
        CHECK_EQ [V + 0x08], 12, "call gate to not-present code: #NP"
        CHECK_EQ [V + 0x0C], CODE_NP, "call gate to not-present code: error code"
        CHECK_EQ [V + 0x10], 0, "INT to a DPL 3 handler faulted"
        CHECK_EQ [V + 0x40], 3, "handler CPL for a DPL 3 target"
        CHECK_EQ [V + 0x44], 12, "handler frame size on the same stack (no SS:ESP)"

        ; IRET from CPL 0 to a DPL 3 code segment with RPL 0: #GP(selector)
        mov [saved_esp], esp
        TRY .t1
        pushfd
        push dword SEL_CODE3 & ~3
        push dword .t1
        iretd
.t1:    mov esp, [saved_esp]                    ; the faulting IRET left its frame
        EXPECT_EXC 13, SEL_CODE3 & ~3, "IRET to DPL 3 code with RPL 0"
        ; RETF to ring 3 with a null SS: #GP(0)
        mov [saved_esp], esp
        TRY .t2
        push dword 0                            ; SS (null)
        push dword STACK3_TOP
        push dword SEL_CODE3
        push dword ring3_code
        retf
.t2:    mov esp, [saved_esp]                    ; the faulting RETF left its frame
        EXPECT_EXC 13, 0, "RETF to ring 3 with a null SS"
        ret

ring3_badss:
        call GATE:0
        int 0x30

ring3_code:
        R3 1, {call GATE_NP:0}
        mov [V + 0x48], esp
        R3 2, {int 0x44}
        int 0x30

ring3_handler:                          ; runs at CPL 3 on the caller's stack
        xor eax, eax
        mov ax, cs
        and eax, 3
        mov [V + 0x40], eax
        mov eax, [V + 0x48]
        sub eax, esp
        mov [V + 0x44], eax
        iretd

gate_target:
        retf

ts_task:
        pop eax                                 ; error code
        mov [V + 0x04], eax
        mov dword [V + 0x00], 11                ; vector 10, +1
        mov word [TSS_ADDR + 8], SEL_DATA0      ; repair SS0
        iretd                                   ; back to the CALL, which now works
        jmp ts_task                             ; (a re-entry restarts here)

%include "lib_end.inc"
