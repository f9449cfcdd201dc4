; align: alignment checking (Intel SDM Vol. 3A §6.15 "Interrupt 17 --
; Alignment Check Exception": #AC(0) for an unaligned data access at CPL 3
; when CR0.AM=1 and EFLAGS.AC=1; never at CPL 0-2; a 486 feature -- the AC
; flag is writable from CPL 3).
%include "lib.inc"

V        equ user_vars

%macro R3 2                         ; record vector+1 (0 = no fault), error code
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
        mov eax, cr0
        or eax, 0x40000                         ; CR0.AM
        mov cr0, eax
        mov dword [ring3_flags], 0x40000        ; ring 3 runs with EFLAGS.AC
        ; CPL 0 never checks
        pushfd
        or dword [esp], 0x40000
        popfd
        mov eax, [V + 0x201]
        pushfd
        and dword [esp], ~0x40000
        popfd
        mov ebx, ring3_code
        call ring3_call
        mov dword [ring3_flags], 0
        CHECK_EQ [V + 0x00], 18, "unaligned dword read at CPL 3: #AC"
        CHECK_EQ [V + 0x04], 0, "#AC error code"
        CHECK_EQ [V + 0x08], 18, "unaligned word write at CPL 3: #AC"
        CHECK_EQ [V + 0x10], 0, "aligned dword at CPL 3 faulted"
        CHECK_EQ [V + 0x18], 0, "byte access at CPL 3 faulted"
        CHECK_EQ [V + 0x20], 0, "unaligned access with AC cleared faulted"
        CHECK_EQ [V + 0x28], 18, "AC set again by POPFD at CPL 3"
        mov eax, cr0
        and eax, ~0x40000
        mov cr0, eax
        ret

ring3_code:
        R3 0, {mov eax, [V + 0x201]}
        R3 1, {mov word [V + 0x203], 1}
        R3 2, {mov eax, [V + 0x204]}
        R3 3, {mov al, [V + 0x203]}
        pushfd
        and dword [esp], ~0x40000
        popfd
        R3 4, {mov eax, [V + 0x201]}
        pushfd
        or dword [esp], 0x40000
        popfd
        R3 5, {mov eax, [V + 0x202]}
        int 0x30

%include "lib_end.inc"
