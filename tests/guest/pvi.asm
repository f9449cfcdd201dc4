; pvi: protected-mode virtual interrupts (Intel SDM Vol. 3B §20.4 and Vol.
; 2B CLI/STI: with CR4.PVI=1 at CPL 3 and IOPL < 3, CLI clears VIF instead
; of faulting, STI sets VIF -- or raises #GP(0) when VIP is set; IF itself is
; untouched).  Skipped (passes) when CPUID says the CPU has no VME/PVI.
%include "lib.inc"

V        equ user_vars
VIF      equ 1 << 19
VIP      equ 1 << 20

%macro R3 2                         ; record vector+1 (0 = no fault)
        TRY %%r
        mov dword [exc_vec], 0xFFFFFFFF
        %2
%%r:    mov eax, [exc_vec]
        inc eax
        mov [V + %1 * 4], eax
%endmacro

test_main:
        mov eax, 1
        cpuid
        test edx, 2                             ; VME (covers PVI)
        jnz .have
        OUTSTR {"no VME/PVI in CPUID: nothing to test", 10}
        ret
.have:  mov eax, cr4
        or eax, 2                               ; PVI
        mov cr4, eax
        mov dword [ring3_flags], 0x200 | VIF    ; IF=1, VIF=1, IOPL 0
        mov ebx, ring3_a
        call ring3_call
        CHECK_EQ [V + 0x00], 0, "CLI at CPL 3 with PVI faulted"
        CHECK_EQ [V + 0x04], 0, "CLI with PVI must clear VIF"
        CHECK_EQ [V + 0x08], 0x200, "CLI with PVI must leave IF set"
        CHECK_EQ [V + 0x0C], 0, "STI at CPL 3 with PVI faulted"
        CHECK_EQ [V + 0x10], VIF, "STI with PVI must set VIF"
        mov dword [ring3_flags], 0x200 | VIP    ; VIF=0, VIP=1
        mov ebx, ring3_b
        call ring3_call
        CHECK_EQ [V + 0x20], 14, "STI with VIP set must #GP"
        CHECK_EQ [V + 0x24], 0, "its error code"
        mov dword [ring3_flags], 0
        mov eax, cr4
        and eax, ~2
        mov cr4, eax
        ret

ring3_a:
        R3 0, {cli}
        pushfd
        pop eax
        mov ebx, eax
        and eax, VIF
        mov [V + 0x04], eax
        and ebx, 0x200
        mov [V + 0x08], ebx
        R3 3, {sti}
        pushfd
        pop eax
        and eax, VIF
        mov [V + 0x10], eax
        int 0x30

ring3_b:
        R3 8, {sti}
        mov eax, [exc_err]
        mov [V + 0x24], eax
        int 0x30

%include "lib_end.inc"
