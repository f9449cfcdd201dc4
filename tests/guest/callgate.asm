; callgate: privilege transfers (Intel SDM Vol. 3A §5.8 "Privilege Level
; Checking When Transferring Program Control", §5.8.5 stack switching and
; parameter copy, §5.8.6 return to a lower privilege level -- data segment
; registers the outer level may not use are loaded with null -- and §6.12
; interrupt/trap gates, §6.12.1.1 protection of exception handlers: INT n
; through a gate with DPL < CPL is #GP(vector*8+2)).
%include "lib.inc"

GATE3   equ SEL_FREE + 0x00         ; call gate, DPL 3, 2 parameters
GATE0   equ SEL_FREE + 0x08         ; call gate, DPL 0
V       equ user_vars

; CALLGATE sel, target, access, count
%macro CALLGATE 4
        mov edi, GDT_ADDR + (%1 & 0xFFF8)
        mov eax, %2
        mov [edi], ax
        mov word [edi + 2], SEL_CODE0
        mov byte [edi + 4], %4
        mov byte [edi + 5], %3
        shr eax, 16
        mov [edi + 6], ax
%endmacro

test_main:
        CALLGATE GATE3, gate_target, 0xEC, 2
        CALLGATE GATE0, gate_target, 0x8C, 0
        mov eax, 0x40
        mov ebx, int_target
        mov cx, SEL_CODE0
        mov dl, 0xEE                            ; interrupt gate, DPL 3
        call set_gate
        mov eax, 0x41
        mov ebx, int_target
        mov dl, 0xEF                            ; trap gate, DPL 3
        call set_gate
        mov eax, 0x42
        mov dl, 0x8E                            ; interrupt gate, DPL 0
        call set_gate
        mov dword [ring3_flags], 0x200          ; ring 3 runs with IF=1
        mov ebx, ring3_code
        call ring3_call

        ; call gate: stack switch to SS0:ESP0, params copied, return frame
        CHECK_EQ [V + 0x20], STACK0_TOP - 24, "ESP after call-gate stack switch"
        CHECK_EQ [V + 0x24], SEL_DATA0, "SS after call-gate stack switch"
        CHECK_EQ [V + 0x34], SEL_CODE3, "pushed CS"
        CHECK_EQ [V + 0x38], 0x2222, "copied parameter 1 (last pushed)"
        CHECK_EQ [V + 0x3C], 0x1111, "copied parameter 2"
        mov eax, [V + 0x00]
        sub eax, 8
        CHECK_EQ [V + 0x40], eax, "pushed outer ESP"
        CHECK_EQ [V + 0x44], SEL_DATA3, "pushed outer SS"
        mov eax, [V + 0x30]
        CHECK_EQ eax, ring3_code.after_call, "pushed EIP"
        mov eax, [V + 0x00]
        CHECK_EQ [V + 0x04], eax, "ESP after RETF 8 to ring 3"
        CHECK_EQ [V + 0x08], 0, "ES (DPL 0) not nulled on return to ring 3"
        CHECK_EQ [V + 0x0C], SEL_DATA3, "DS (DPL 3) changed on return to ring 3"
        ; interrupt gate from ring 3: frame EIP CS EFLAGS ESP SS on stack 0
        CHECK_EQ [V + 0x60], STACK0_TOP - 20, "ESP in interrupt handler"
        mov eax, [V + 0x68]
        CHECK_EQ eax, SEL_CODE3, "interrupt frame CS"
        mov eax, [V + 0x6C]
        and eax, 0x200
        CHECK_EQ eax, 0x200, "interrupt frame EFLAGS.IF"
        CHECK_EQ [V + 0x74], SEL_DATA3, "interrupt frame SS"
        mov eax, [V + 0x78]
        and eax, 0x200
        CHECK_EQ eax, 0, "IF not cleared by interrupt gate"
        mov eax, [V + 0x98]
        and eax, 0x200
        CHECK_EQ eax, 0x200, "IF cleared by trap gate"
        ; INT through a DPL 0 gate from ring 3: #GP(0x42*8+2)
        CHECK_EQ [V + 0x10], 13, "INT via DPL 0 gate: vector"
        CHECK_EQ [V + 0x14], 0x42 * 8 + 2, "INT via DPL 0 gate: error code"
        ; CALL through a DPL 0 call gate from ring 3: #GP(gate selector)
        CHECK_EQ [V + 0x18], 13, "call via DPL 0 gate: vector"
        CHECK_EQ [V + 0x1C], GATE0, "call via DPL 0 gate: error code"
        ; far call straight to ring-0 code from ring 3: #GP(selector)
        CHECK_EQ [V + 0xA0], 13, "far call to ring 0 code: vector"
        CHECK_EQ [V + 0xA4], SEL_CODE0, "far call to ring 0 code: error code"
        ret

ring3_code:
        mov [V + 0x00], esp
        mov ax, SEL_DATA3
        mov es, ax
        push dword 0x1111
        push dword 0x2222
        call GATE3:0
.after_call:
        mov [V + 0x04], esp
        xor eax, eax
        mov ax, es
        mov [V + 0x08], eax
        mov ax, ds
        mov [V + 0x0C], eax
        int 0x40
        int 0x41
        TRY .r1
        int 0x42
.r1:    mov eax, [exc_vec]
        mov [V + 0x10], eax
        mov eax, [exc_err]
        mov [V + 0x14], eax
        TRY .r2
        call GATE0:0
.r2:    mov eax, [exc_vec]
        mov [V + 0x18], eax
        mov eax, [exc_err]
        mov [V + 0x1C], eax
        TRY .r3
        call SEL_CODE0:gate_target
.r3:    mov eax, [exc_vec]
        mov [V + 0xA0], eax
        mov eax, [exc_err]
        mov [V + 0xA4], eax
        int 0x30

gate_target:
        mov [V + 0x20], esp
        xor eax, eax
        mov ax, ss
        mov [V + 0x24], eax
        mov esi, esp
        lea edi, [V + 0x30]
        mov ecx, 6
        rep movsd
        mov ax, SEL_DATA0
        mov es, ax
        retf 8

int_target:
        ; first call (int 0x40) fills V+0x60.., second (int 0x41) V+0x80..
        ; (ES is null here: the return to ring 3 above nulled it)
        push es
        push eax
        mov ax, SEL_DATA0
        mov es, ax
        pop eax
        mov edi, V + 0x60
        cmp dword [V + 0x60], 0
        je .first
        mov edi, V + 0x80
.first: lea eax, [esp + 4]                      ; ESP at entry (before push es)
        mov [edi], eax
        lea esi, [esp + 4]
        push ecx
        lea edi, [edi + 4]
        mov ecx, 5
        rep movsd
        pop ecx
        pushfd
        pop eax
        mov [edi], eax                          ; handler EFLAGS (V+0x78 / V+0x98)
        pop es
        iretd

%include "lib_end.inc"
