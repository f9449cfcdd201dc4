; segload: segment-register loads and far jumps: descriptor type, presence,
; privilege and GDT-limit checks with exact error codes
; (Intel SDM Vol. 3A §5.3 "Limit Checking", §5.4 "Type Checking", §5.6
; "Privilege Level Checking When Accessing Data Segments", §6.15 #GP/#NP/#SS
; error codes: selector-related faults push the selector with RPL cleared).
%include "lib.inc"

SEL_RO     equ SEL_FREE + 0x00      ; read-only data, limit 0xFFF
SEL_NP     equ SEL_FREE + 0x08      ; not present data
SEL_XO     equ SEL_FREE + 0x10      ; execute-only code
SEL_SMALL  equ SEL_FREE + 0x18      ; RW data, limit 0xFFF byte granular
SEL_ED32   equ SEL_FREE + 0x20      ; expand-down, limit 0xFFF, B=1
SEL_ED16   equ SEL_FREE + 0x28      ; expand-down, limit 0xFFF, B=0
SEL_STK    equ SEL_FREE + 0x30      ; RW data base 0x70000 limit 0xFFFF (stack)
SEL_NPSTK  equ SEL_FREE + 0x38      ; not-present RW data (for SS)
SEL_PAGEG  equ SEL_FREE + 0x40      ; RW data, limit 0 with G=1 (4 KiB)

%macro DESC 4                       ; selector, base, limit, flags
        mov eax, %1
        mov ebx, %2
        mov ecx, %3
        mov dx, %4
        call set_desc
%endmacro

test_main:
        DESC SEL_RO, 0x100000, 0xFFF, 0x4091
        DESC SEL_NP, 0x100000, 0xFFF, 0x4013
        DESC SEL_XO, 0, 0xFFFFF, 0xC099
        DESC SEL_SMALL, 0x100000, 0xFFF, 0x4093
        DESC SEL_ED32, 0, 0xFFF, 0x4097
        DESC SEL_ED16, 0, 0xFFF, 0x0097
        DESC SEL_STK, 0x70000, 0xFFFF, 0x4093
        DESC SEL_NPSTK, 0x70000, 0xFFFF, 0x4013
        DESC SEL_PAGEG, 0x100000, 0, 0xC093

        ; selector beyond the GDT limit: #GP(selector)
        TRY .t1
        mov ax, 0x100 | 3
        mov es, ax
.t1:    EXPECT_EXC 13, 0x100, "load ES beyond GDT limit"

        ; null SS: #GP(0)
        TRY .t3
        xor ax, ax
        mov ss, ax
.t3:    EXPECT_EXC 13, 0, "load null SS"

        ; not present: #NP(selector) for DS, #SS(selector) for SS
        TRY .t4
        mov ax, SEL_NP
        mov es, ax
.t4:    EXPECT_EXC 11, SEL_NP, "load not-present ES"
        TRY .t5
        mov ax, SEL_NPSTK
        mov ss, ax
.t5:    EXPECT_EXC 12, SEL_NPSTK, "load not-present SS"

        ; execute-only code into a data register: #GP(selector)
        TRY .t6
        mov ax, SEL_XO
        mov es, ax
.t6:    EXPECT_EXC 13, SEL_XO, "load execute-only code into ES"
        ; read-only data into SS: #GP(selector)
        TRY .t7
        mov ax, SEL_RO
        mov ss, ax
.t7:    EXPECT_EXC 13, SEL_RO, "load read-only data into SS"
        ; RPL 3 on a DPL 0 data segment at CPL 0: #GP(selector, RPL cleared)
        TRY .t8
        mov ax, SEL_SMALL | 3
        mov es, ax
.t8:    EXPECT_EXC 13, SEL_SMALL, "RPL 3 > DPL 0 data load"

        mov ax, SEL_DATA0
        mov es, ax
        ret

%include "lib_end.inc"
