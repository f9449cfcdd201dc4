; priv: instructions reserved to CPL 0 fault with #GP(0) at CPL 3 (Intel
; SDM Vol. 3A §5.9 "Privileged Instructions": LGDT LLDT LTR LIDT MOV CRn
; LMSW CLTS MOV DRn INVD WBINVD INVLPG HLT RDMSR WRMSR; RDTSC when CR4.TSD
; is set (Vol. 2B RDTSC)); the unprivileged ones (SGDT, SMSW, STR, RDTSC
; with TSD clear) work at CPL 3.
%include "lib.inc"

V        equ user_vars

; R3 slot, insn: record vector+1 of a fault (0 = none)
%macro R3 2
        TRY %%r
        mov dword [exc_vec], 0xFFFFFFFF
        %2
%%r:    mov eax, [exc_vec]
        inc eax
        mov [V + %1 * 4], eax
%endmacro

test_main:
        mov edi, V
        mov ecx, 64
        mov eax, 0xEEEEEEEE
        rep stosd
        mov ebx, ring3_code
        call ring3_call
        mov eax, cr4
        or eax, 4                               ; CR4.TSD
        mov cr4, eax
        mov ebx, ring3_tsd
        call ring3_call
        xor esi, esi
.check: mov eax, [V + esi * 4]
        cmp eax, 0xEEEEEEEE
        je .done
        mov edx, [expect + esi * 4]
        cmp eax, edx
        jne .bad
        inc esi
        jmp .check
.bad:   push eax
        OUTSTR "FAIL: CPL 3 instruction #"
        mov eax, esi
        call puthex
        OUTSTR " ("
        mov eax, [names + esi * 4]
        push esi
        mov esi, eax
        call puts
        pop esi
        OUTSTR "): got vector+1 "
        pop eax
        call puthex
        OUTSTR ", expected "
        mov eax, [expect + esi * 4]
        call puthex
        mov al, 10
        out 0xE9, al
        mov eax, 1
        jmp exit_vm
.done:  CHECK_EQ esi, NCHECKS, "not every CPL 3 check ran"
        mov eax, cr4
        and eax, ~4
        mov cr4, eax
        ret

%define GP 14
%define OK 0

ring3_code:
        R3 0, {lgdt [V + 0x200]}
        R3 1, {lidt [V + 0x200]}
        R3 2, {lldt ax}
        R3 3, {ltr ax}
        R3 4, {mov cr0, eax}
        R3 5, {mov eax, cr3}
        R3 6, {lmsw ax}
        R3 7, {clts}
        R3 8, {mov dr7, eax}
        R3 9, {mov eax, dr6}
        R3 10, {invd}
        R3 11, {wbinvd}
        R3 12, {invlpg [V]}
        R3 13, {hlt}
        R3 14, {rdmsr}
        R3 15, {wrmsr}
        R3 16, {sgdt [V + 0x200]}
        R3 17, {smsw ax}
        R3 18, {str ax}
        R3 19, {rdtsc}
        int 0x30
ring3_tsd:
        R3 20, {rdtsc}
        int 0x30
NCHECKS equ 21

expect:
        dd GP, GP, GP, GP, GP, GP, GP, GP, GP, GP, GP, GP, GP, GP, GP, GP
        dd OK, OK, OK, OK
        dd GP
names:
        dd n0, n1, n2, n3, n4, n5, n6, n7, n8, n9, n10, n11, n12, n13, n14, n15
        dd n16, n17, n18, n19, n20
n0: db "LGDT", 0
n1: db "LIDT", 0
n2: db "LLDT", 0
n3: db "LTR", 0
n4: db "MOV CR0", 0
n5: db "MOV from CR3", 0
n6: db "LMSW", 0
n7: db "CLTS", 0
n8: db "MOV DR7", 0
n9: db "MOV from DR6", 0
n10: db "INVD", 0
n11: db "WBINVD", 0
n12: db "INVLPG", 0
n13: db "HLT", 0
n14: db "RDMSR", 0
n15: db "WRMSR", 0
n16: db "SGDT", 0
n17: db "SMSW", 0
n18: db "STR", 0
n19: db "RDTSC, TSD=0", 0
n20: db "RDTSC, TSD=1", 0

%include "lib_end.inc"
