; fpu_arith: x87 arithmetic through the whole CPU path -- memory operands of
; every size, conversions on store, rounding control, integer and packed-BCD
; stores, FPREM quotient bits, FXAM classes, and compare results reaching
; EFLAGS through FCOMI and FNSTSW AX/SAHF (Intel SDM Vol. 1 ch. 8, Vol. 2
; instruction pages).  Expected values were taken from a real x87.
%include "lib.inc"

V        equ user_vars

test_main:
        mov eax, cr0
        and eax, ~0x0C                          ; TS=0 EM=0
        or eax, 0x22                            ; MP, NE
        mov cr0, eax
        fninit

        ; ---- m64 load, m64 add, m64 store: 1.5 + 2.25 = 3.75
        fld qword [d_1_5]
        fadd qword [d_2_25]
        fstp qword [V]
        CHECK_EQ [V], 0, "1.5+2.25 low dword"
        CHECK_EQ [V + 4], 0x400E0000, "1.5+2.25 high dword"

        ; ---- FLDPI times 1.0, stored as m80: the round-to-nearest pi
        fld1
        fldpi
        fmulp st1, st0
        fstp tword [V]
        CHECK_EQ [V], 0x2168C235, "pi bits 0-31"
        CHECK_EQ [V + 4], 0xC90FDAA2, "pi bits 32-63"
        movzx eax, word [V + 8]
        CHECK_EQ eax, 0x4000, "pi exponent"

        ; ---- integers: -7 / 2 = -3.5 rounds to even -4
        fild dword [i_m7]
        fidiv dword [i_2]
        fistp dword [V]
        CHECK_EQ [V], 0xFFFFFFFC, "FISTP of -3.5"

        ; ---- out of range with IE masked: the integer indefinite
        fld qword [d_1e20]
        fistp dword [V]
        CHECK_EQ [V], 0x80000000, "FISTP of 1e20"
        fnstsw ax
        and eax, 0x01
        CHECK_EQ eax, 1, "IE after FISTP of 1e20"
        fnclex

        ; ---- packed BCD
        fild dword [i_1234567]
        fbstp tword [V]
        CHECK_EQ [V], 0x01234567, "FBSTP digits 0-7"
        CHECK_EQ [V + 4], 0, "FBSTP digits 8-15"
        movzx eax, word [V + 8]
        CHECK_EQ eax, 0, "FBSTP digits 16-17 and sign"

        ; ---- FPREM: 10 mod 3 = 1, quotient 3 -> C3 (Q1) and C1 (Q0)
        fld qword [d_3]
        fld qword [d_10]
        fprem
        fnstsw ax
        fistp dword [V]
        fstp st0
        CHECK_EQ [V], 1, "FPREM remainder"
        and eax, 0x4700
        CHECK_EQ eax, 0x4200, "FPREM quotient bits"

        ; ---- FSQRT then a double-precision store
        fld qword [d_2]
        fsqrt
        fstp qword [V]
        CHECK_EQ [V], 0x667F3BCD, "sqrt 2 low dword"
        CHECK_EQ [V + 4], 0x3FF6A09E, "sqrt 2 high dword"

        ; ---- rounding control on an m32 store of 1/3
        fldcw [cw_up]
        fld qword [d_third]
        fstp dword [V]
        CHECK_EQ [V], 0x3EAAAAAB, "1/3 rounded up to single"
        fldcw [cw_down]
        fld qword [d_third]
        fstp dword [V]
        CHECK_EQ [V], 0x3EAAAAAA, "1/3 rounded down to single"
        fninit

        ; ---- FXAM of the smallest denormal: C3=1 C2=1 C0=0
        fld tword [t_denormal]
        fxam
        fnstsw ax
        fstp st0
        and eax, 0x4700
        CHECK_EQ eax, 0x4400, "FXAM class of a denormal"

        ; ---- compares reaching EFLAGS
        fld qword [d_10]
        fld qword [d_10]
        fcompp
        fnstsw ax
        sahf
        FAIL_IF ne, "FCOMPP equal: ZF after SAHF"
        fld1
        fldz
        fcomi st0, st1                          ; 0 < 1: CF=1 ZF=0 PF=0
        FAIL_IF nb, "FCOMI 0 < 1: CF"
        FAIL_IF e, "FCOMI 0 < 1: ZF"
        FAIL_IF p, "FCOMI 0 < 1: PF"
        fucomip st0, st1                        ; pops the 0.0
        fstp st0
        fnstsw ax
        and eax, 0x3800
        CHECK_EQ eax, 0, "TOP back to 0"
        fninit
        ret

d_1_5:      dq 1.5
d_2_25:     dq 2.25
d_1e20:     dq 1.0e20
d_3:        dq 3.0
d_10:       dq 10.0
d_2:        dq 2.0
d_third:    dq 0x3FD5555555555555
i_m7:       dd -7
i_2:        dd 2
i_1234567:  dd 1234567
t_denormal: dq 1
            dw 0
cw_up:      dw 0x0B7F
cw_down:    dw 0x077F

%include "lib_end.inc"
