; simd: MMX/SSE state rules (Intel SDM Vol. 3A 13.1-13.2 and 2.5, Vol. 1
; 9.5 / Table 9-3, 10.2.3, 11.4.1, 11.5, Vol. 2 FXSAVE/FXRSTOR/LDMXCSR):
;  - SSE #UD while CR4.OSFXSR = 0 (MMX still works), #UD with CR0.EM,
;    #NM with CR0.TS (FXSAVE: #NM with EM or TS);
;  - MXCSR resets to 1F80h; reserved MXCSR bits #GP(0) in LDMXCSR/FXRSTOR;
;  - #GP(0) for misaligned 16-byte operands of MOVAPS/ADDPS (not MOVUPS,
;    not scalar forms) and for a misaligned FXSAVE area;
;  - unmasked SIMD exception: flag set, destination unchanged, #UD without
;    CR4.OSXMMEXCPT, #XM (vector 19) with it;
;  - FXSAVE image layout (FCW, FSW, abridged FTW, MXCSR, MXCSR_MASK, ST0-7 in
;    stack order, XMM) and the FXRSTOR round trip;
;  - MMX aliasing: writing MM0 sets R0's exponent to all ones, TOP = 0 and
;    all tags valid; EMMS empties all tags.
; Without SSE in CPUID (e.g. the "pentium" model) only the #UD cases run.
%include "lib.inc"
        cpu any

V       equ user_vars
IMG     equ SCRATCH + 0x1000            ; 16-byte aligned FXSAVE areas
IMG2    equ SCRATCH + 0x1400
BUF     equ SCRATCH + 0x2000

test_main:
        mov eax, 1
        cpuid
        mov [V], edx
        test edx, 1 << 25
        jnz have_sse
        ; ---- no SSE: its opcodes are undefined (and MMX too without MMX)
        TRY .u1
        movaps xmm0, xmm1
.u1:    EXPECT_EXC 6, -1, "movaps without SSE must #UD"
        test dword [V], 1 << 23
        jnz .done
        TRY .u2
        emms
.u2:    EXPECT_EXC 6, -1, "emms without MMX must #UD"
.done:  ret

have_sse:
        ; ---- P6 local APIC: CPUID.1 EDX.APIC and IA32_APIC_BASE (MSR 1Bh)
        ; at its reset value: base FEE00000h, enabled (11), BSP (8)
        test dword [V], 1 << 9
        FAIL_IF z, "CPUID.1 EDX.APIC clear on a board with a local APIC"
        mov ecx, 0x1B
        rdmsr
        CHECK_EQ eax, 0xFEE00900, "IA32_APIC_BASE after reset"
        mov eax, cr0
        and eax, ~0x0C                          ; EM=0 TS=0
        or eax, 0x22                            ; MP NE
        mov cr0, eax
        fninit
        ; ---- CR4.OSFXSR = 0: SSE is #UD, MMX is fine
        mov eax, cr4
        and eax, ~0x600
        mov cr4, eax
        TRY .n1
        movaps xmm0, xmm1
.n1:    EXPECT_EXC 6, -1, "movaps with OSFXSR=0 must #UD"
        TRY .n2
        ldmxcsr [mx_default]
.n2:    EXPECT_EXC 6, -1, "ldmxcsr with OSFXSR=0 must #UD"
        movq mm1, [qw_a]
        paddb mm1, [qw_b]
        movq [V + 8], mm1
        CHECK_EQ [V + 8], 0x04030201 + 0x10101010, "paddb low dword"
        emms

        mov eax, cr4
        or eax, 0x200                           ; OSFXSR
        mov cr4, eax
        stmxcsr [V + 8]
        CHECK_EQ [V + 8], 0x1F80, "MXCSR after reset"

        ; ---- CR0.TS: #NM for SSE, MMX and FXSAVE
        mov eax, cr0
        or eax, 8
        mov cr0, eax
        TRY .t1
        addps xmm0, xmm1
.t1:    EXPECT_EXC 7, -1, "addps with TS must #NM"
        TRY .t2
        paddb mm0, mm1
.t2:    EXPECT_EXC 7, -1, "paddb with TS must #NM"
        TRY .t3
        fxsave [IMG]
.t3:    EXPECT_EXC 7, -1, "fxsave with TS must #NM"
        clts
        ; ---- CR0.EM: #UD for SSE and MMX, #NM for FXSAVE
        mov eax, cr0
        or eax, 4
        mov cr0, eax
        TRY .e1
        addps xmm0, xmm1
.e1:    EXPECT_EXC 6, -1, "addps with EM must #UD"
        TRY .e2
        emms
.e2:    EXPECT_EXC 6, -1, "emms with EM must #UD"
        TRY .e3
        fxsave [IMG]
.e3:    EXPECT_EXC 7, -1, "fxsave with EM must #NM"
        mov eax, cr0
        and eax, ~4
        mov cr0, eax

        ; ---- alignment
        TRY .a1
        movaps xmm0, [BUF + 8]
.a1:    EXPECT_EXC 13, 0, "misaligned movaps must #GP(0)"
        TRY .a2
        addps xmm0, [BUF + 8]
.a2:    EXPECT_EXC 13, 0, "misaligned addps m128 must #GP(0)"
        TRY .a3
        movaps [BUF + 4], xmm0
.a3:    EXPECT_EXC 13, 0, "misaligned movaps store must #GP(0)"
        TRY .a4
        fxsave [IMG + 8]
.a4:    EXPECT_EXC 13, 0, "misaligned fxsave must #GP(0)"
        mov dword [exc_resume], 0
        movups xmm0, [BUF + 8]                  ; fine
        addss xmm0, [BUF + 4]                   ; fine
        movups [BUF + 4], xmm0

        ; ---- MXCSR reserved bits
        TRY .r1
        ldmxcsr [mx_reserved]
.r1:    EXPECT_EXC 13, 0, "ldmxcsr with bit 16 set must #GP(0)"

        ; ---- unmasked divide-by-zero: #UD without OSXMMEXCPT, then #XM
        movss xmm0, [one]
        xorps xmm1, xmm1
        ldmxcsr [mx_zm_clear]
        TRY .x1
        divss xmm0, xmm1
.x1:    EXPECT_EXC 6, -1, "unmasked SIMD exception without OSXMMEXCPT must #UD"
        stmxcsr [V + 8]
        CHECK_EQ [V + 8], 0x1D80 | 4, "MXCSR.ZE after the faulting divss"
        movss [V + 12], xmm0
        CHECK_EQ [V + 12], 0x3F800000, "faulting divss must leave its destination"
        mov eax, cr4
        or eax, 0x400                           ; OSXMMEXCPT
        mov cr4, eax
        ldmxcsr [mx_zm_clear]
        TRY .x2
        divss xmm0, xmm1
.x2:    EXPECT_EXC 19, -1, "unmasked SIMD exception must raise #XM"
        ; exact tiny result (2^-126 * 0.5) with UM unmasked: UE, #XM, no PE
        movss xmm2, [min_normal]
        ldmxcsr [mx_um_clear]
        TRY .x3
        mulss xmm2, [half]
.x3:    EXPECT_EXC 19, -1, "exact tiny result with UM unmasked must raise #XM"
        stmxcsr [V + 8]
        CHECK_EQ [V + 8], 0x1780 | 0x10, "UE alone after an exact underflow"
        ldmxcsr [mx_default]
        mulss xmm2, [half]                      ; masked and exact: no flags
        stmxcsr [V + 8]
        CHECK_EQ [V + 8], 0x1F80, "exact denormal result, masked: no flags"
        ldmxcsr [mx_default]
        divss xmm0, xmm1                        ; masked: +inf, ZE
        movss [V + 12], xmm0
        CHECK_EQ [V + 12], 0x7F800000, "masked divss by zero"
        stmxcsr [V + 8]
        CHECK_EQ [V + 8], 0x1F84, "ZE flag, masked"

        ; ---- FXSAVE layout
        fninit
        fld1
        fldpi                                   ; TOP=6: ST0=pi (R6), ST1=1 (R7)
        ldmxcsr [mx_rc]
        movups xmm3, [pattern]
        fxsave [IMG]
        movzx eax, word [IMG + 0]
        CHECK_EQ eax, 0x037F, "FXSAVE FCW"
        movzx eax, word [IMG + 2]
        and eax, 0x3800
        CHECK_EQ eax, 0x3000, "FXSAVE FSW.TOP"
        movzx eax, byte [IMG + 4]
        CHECK_EQ eax, 0xC0, "FXSAVE abridged FTW (R6, R7 in use)"
        CHECK_EQ [IMG + 24], 0x3F80, "FXSAVE MXCSR"
        mov eax, [IMG + 28]
        cmp eax, 0xFFFF
        je .maskok
        CHECK_EQ eax, 0xFFBF, "FXSAVE MXCSR_MASK"
.maskok:
        CHECK_EQ [IMG + 32], 0x2168C235, "FXSAVE ST0 (pi) low"
        CHECK_EQ [IMG + 36], 0xC90FDAA2, "FXSAVE ST0 (pi) high"
        movzx eax, word [IMG + 40]
        CHECK_EQ eax, 0x4000, "FXSAVE ST0 exponent"
        CHECK_EQ [IMG + 52], 0x80000000, "FXSAVE ST1 (1.0) high"
        movzx eax, word [IMG + 56]
        CHECK_EQ eax, 0x3FFF, "FXSAVE ST1 exponent"
        CHECK_EQ [IMG + 160 + 48], 0x11223344, "FXSAVE XMM3 dword 0"
        CHECK_EQ [IMG + 160 + 60], 0xDDEEFF00, "FXSAVE XMM3 dword 3"

        ; ---- FXRSTOR round trip
        fninit
        xorps xmm3, xmm3
        ldmxcsr [mx_default]
        fxrstor [IMG]
        fxsave [IMG2]
        mov esi, IMG
        mov edi, IMG2
        mov ecx, 8                              ; FCW .. FDS (FOP/FIP/FDP as saved)
        repe cmpsd
        FAIL_IF ne, "FXRSTOR/FXSAVE round trip: header differs"
        mov esi, IMG + 24
        mov edi, IMG2 + 24
        mov ecx, (288 - 24) / 4
        repe cmpsd
        FAIL_IF ne, "FXRSTOR/FXSAVE round trip: registers differ"
        fnstenv [V + 0x40]
        movzx eax, word [V + 0x40 + 8]
        CHECK_EQ eax, 0x0FFF, "FXRSTOR rebuilt tag word"
        fstp tword [V + 0x80]
        CHECK_EQ [V + 0x84], 0xC90FDAA2, "ST0 after FXRSTOR"
        ; reserved MXCSR bit in the image
        mov dword [IMG + 24], 0x10000
        TRY .f1
        fxrstor [IMG]
.f1:    EXPECT_EXC 13, 0, "FXRSTOR with a reserved MXCSR bit must #GP(0)"

        ; ---- MMX aliasing onto the x87 registers
        fninit
        fld1
        fld1                                    ; TOP=6
        movq mm0, [qw_a]
        fnstenv [V + 0x40]
        movzx eax, word [V + 0x40 + 4]
        and eax, 0x3800
        CHECK_EQ eax, 0, "TOP after an MMX instruction"
        fxsave [IMG]
        movzx eax, byte [IMG + 4]
        CHECK_EQ eax, 0xFF, "abridged tags after an MMX instruction (all in use)"
        CHECK_EQ [IMG + 32], 0x04030201, "MM0 in R0 (ST0) low"
        movzx eax, word [IMG + 40]
        CHECK_EQ eax, 0xFFFF, "MM0 write sets R0 exponent to all ones"
        emms
        fnstenv [V + 0x40]
        movzx eax, word [V + 0x40 + 8]
        CHECK_EQ eax, 0xFFFF, "tags after EMMS"
        ret

        align 16
pattern:     dd 0x11223344, 0x55667788, 0x99AABBCC, 0xDDEEFF00
qw_a:        dq 0x0807060504030201
qw_b:        dq 0x1010101010101010
one:         dd 0x3F800000
mx_default:  dd 0x1F80
mx_reserved: dd 0x11F80
mx_zm_clear: dd 0x1D80                  ; ZM (bit 9) clear
mx_rc:       dd 0x3F80                  ; RC = round down
mx_um_clear: dd 0x1780                  ; UM (bit 11) clear
min_normal:  dd 0x00800000
half:        dd 0x3F000000

%include "lib_end.inc"
