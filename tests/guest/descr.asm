; descr: LDT-based selectors and the descriptor-inspection instructions
; (Intel SDM Vol. 3A §3.5.1 LDT and TI=1 selectors, LLDT/SLDT; Vol. 2A LAR,
; LSL, VERR, VERW: ZF=1 only if the descriptor is visible at CPL/RPL and of
; an accepted type; ARPL; §5.8.2 conforming code segments run at the
; caller's CPL).
%include "lib.inc"

V        equ user_vars
LDT      equ FREE_LOW               ; 4 LDT entries
SEL_LDT  equ SEL_FREE               ; LDT descriptor in the GDT
SEL_CONF equ SEL_FREE + 0x08        ; conforming code, DPL 0
L_DATA3  equ 0x00 | 4 | 3           ; LDT[0]: data, DPL 3 (TI=1, RPL 3)
L_DATA0  equ 0x08 | 4               ; LDT[1]: data, DPL 0, base 0x100000
L_XONLY  equ 0x10 | 4               ; LDT[2]: execute-only code
L_NP     equ 0x18 | 4               ; LDT[3]: not present

%macro LDESC 5                      ; index, base, limit, access, flags-nibble
        mov edi, LDT + %1 * 8
        mov word [edi], (%3) & 0xFFFF
        mov word [edi + 2], (%2) & 0xFFFF
        mov byte [edi + 4], ((%2) >> 16) & 0xFF
        mov byte [edi + 5], %4
        mov byte [edi + 6], (%5) | (((%3) >> 16) & 0xF)
        mov byte [edi + 7], ((%2) >> 24) & 0xFF
%endmacro

%macro ZF_REC 2                      ; ZF_REC slot, insn: record ZF (1/0) after insn
        %2
        setz al
        movzx eax, al
        mov [V + %1 * 4], eax
%endmacro

test_main:
        LDESC 0, 0, 0xFFFFF, 0xF3, 0xC0
        LDESC 1, 0x100000, 0xFFF, 0x93, 0x40
        LDESC 2, 0, 0xFFFFF, 0x99, 0xC0
        LDESC 3, 0, 0xFFFFF, 0x13, 0xC0
        mov eax, SEL_LDT
        mov ebx, LDT
        mov ecx, 4 * 8 - 1
        mov dx, 0x0082                          ; LDT descriptor
        call set_desc
        mov eax, SEL_CONF
        mov ebx, 0
        mov ecx, 0xFFFFF
        mov dx, 0xC09F                          ; conforming code, readable, DPL 0
        call set_desc
        mov ax, SEL_LDT
        lldt ax
        sldt ax
        movzx eax, ax
        CHECK_EQ eax, SEL_LDT, "SLDT"

        ; a TI=1 selector addresses the LDT
        mov dword [0x100010], 0xFEEDF00D
        mov ax, L_DATA0
        mov es, ax
        CHECK_EQ [es:0x10], 0xFEEDF00D, "data through an LDT selector"
        TRY .t1
        mov ax, L_NP
        mov es, ax
.t1:    EXPECT_EXC 11, L_NP & ~3, "not-present LDT entry: #NP(selector with TI)"
        TRY .t2
        mov ax, 0x20 | 4                        ; beyond the LDT limit
        mov es, ax
.t2:    EXPECT_EXC 13, 0x24, "selector beyond the LDT limit"
        mov ax, SEL_DATA0
        mov es, ax

        ; LAR / LSL at CPL 0
        mov ecx, 0x12345678
        mov eax, L_DATA0
        lar ecx, eax
        FAIL_IF nz, "LAR on LDT data"
        and ecx, 0x00FFFF00
        CHECK_EQ ecx, 0x00409300, "LAR access rights of LDT data"
        lsl ecx, eax
        CHECK_EQ ecx, 0xFFF, "LSL of a byte-granular limit"
        mov eax, SEL_TSS
        lar ecx, eax                            ; TSS: valid for LAR
        FAIL_IF nz, "LAR on a TSS descriptor"
        mov eax, 0x100 | 4                      ; beyond the LDT limit
        mov ecx, 0x5555
        lar ecx, eax
        FAIL_IF z, "LAR beyond the LDT limit set ZF"
        CHECK_EQ ecx, 0x5555, "LAR changed its destination on failure"
        xor eax, eax
        lsl ecx, eax
        FAIL_IF z, "LSL of the null selector set ZF"

        ; VERR / VERW
        mov ax, L_XONLY
        verr ax
        FAIL_IF z, "VERR of execute-only code set ZF"
        mov ax, SEL_CODE0
        verr ax
        FAIL_IF nz, "VERR of readable code cleared ZF"
        verw ax
        FAIL_IF z, "VERW of code set ZF"
        mov ax, L_DATA0
        verw ax
        FAIL_IF nz, "VERW of writable data cleared ZF"

        ; ARPL: raises the RPL of the destination to the source's
        mov ax, SEL_DATA0                       ; RPL 0
        mov bx, SEL_DATA3                       ; RPL 3
        arpl ax, bx
        FAIL_IF nz, "ARPL did not set ZF when adjusting"
        movzx eax, ax
        CHECK_EQ eax, SEL_DATA0 | 3, "ARPL result"
        arpl ax, bx
        FAIL_IF z, "ARPL set ZF with nothing to adjust"

        ; ring 3: privilege-sensitive views and a conforming code call
        mov ebx, ring3_code
        call ring3_call
        CHECK_EQ [V + 0x00], 0, "VERR of a DPL 0 LDT segment at CPL 3 set ZF"
        CHECK_EQ [V + 0x04], 1, "VERR of a DPL 3 LDT segment at CPL 3"
        CHECK_EQ [V + 0x08], 0, "LAR of a DPL 0 descriptor at CPL 3 set ZF"
        CHECK_EQ [V + 0x0C], 1, "LAR of conforming code at CPL 3 (always visible)"
        CHECK_EQ [V + 0x10], 3, "CPL inside a conforming segment called from ring 3"
        CHECK_EQ [V + 0x14], SEL_CONF | 3, "CS inside a conforming segment (RPL = CPL 3)"
        CHECK_EQ [V + 0x18], 13, "load of a DPL 0 LDT data segment at CPL 3 did not #GP"
        CHECK_EQ [V + 0x1C], L_DATA0 & ~3, "its error code"
        xor eax, eax
        lldt ax
        ret

ring3_code:
        mov ax, L_DATA0
        ZF_REC 0, {verr ax}
        mov ax, L_DATA3
        ZF_REC 1, {verr ax}
        mov eax, L_DATA0
        ZF_REC 2, {lar ecx, eax}
        mov eax, SEL_CONF
        ZF_REC 3, {lar ecx, eax}
        call SEL_CONF:conf_code
        TRY .r1
        mov ax, L_DATA0 | 3
        mov es, ax
.r1:    mov eax, [exc_vec]
        mov [V + 0x18], eax
        mov eax, [exc_err]
        mov [V + 0x1C], eax
        int 0x30

conf_code:
        xor eax, eax
        mov ax, cs
        mov [V + 0x14], eax
        and eax, 3
        mov [V + 0x10], eax
        retf

%include "lib_end.inc"
