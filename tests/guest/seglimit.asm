; seglimit: segment limit and type checks on data accesses (limits,
; expand-down with B=0/1, page granularity, read-only writes, stack limit;
; segment checks come before paging: Intel SDM Vol. 3A §3.4.5 / §6.15)
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

        ; null selector in DS loads fine, using it faults #GP(0)
        xor ax, ax
        mov es, ax
        TRY .t2
        mov eax, [es:0x1000]
.t2:    EXPECT_EXC 13, 0, "access through null ES"

        ; write to read-only data: #GP(0)
        mov ax, SEL_RO
        mov es, ax
        mov eax, [es:0x10]                      ; reading is fine
        TRY .t9
        mov dword [es:0x10], 1
.t9:    EXPECT_EXC 13, 0, "write to read-only segment"

        ; limit checks: last valid dword at 0xFFC in a 0xFFF-limit segment
        mov ax, SEL_SMALL
        mov es, ax
        mov dword [exc_vec], 0xFF
        mov eax, [es:0xFFC]
        mov al, [es:0xFFF]
        CHECK_EQ [exc_vec], 0xFF, "access within limit faulted"
        TRY .t10
        mov eax, [es:0xFFD]
.t10:   EXPECT_EXC 13, 0, "dword straddling the limit"
        TRY .t11
        mov al, [es:0x1000]
.t11:   EXPECT_EXC 13, 0, "byte past the limit"
        ; G=1 limit 0: offsets 0..0xFFF valid
        mov ax, SEL_PAGEG
        mov es, ax
        mov eax, [es:0xFFC]
        TRY .t12
        mov eax, [es:0x1000]
.t12:   EXPECT_EXC 13, 0, "page-granular limit 0 allows only 0..0xFFF"

        ; expand-down, B=1: valid offsets 0x1000..0xFFFFFFFF
        mov ax, SEL_ED32
        mov es, ax
        mov dword [exc_vec], 0xFF
        mov eax, [es:0x1000]
        mov eax, [es:0x200000]
        CHECK_EQ [exc_vec], 0xFF, "expand-down (B=1) valid access faulted"
        TRY .t13
        mov eax, [es:0xFFF]
.t13:   EXPECT_EXC 13, 0, "expand-down access at limit"
        TRY .t14
        mov eax, [es:0xFFE]
.t14:   EXPECT_EXC 13, 0, "expand-down dword straddling limit+1"
        ; expand-down, B=0: valid offsets 0x1000..0xFFFF
        mov ax, SEL_ED16
        mov es, ax
        mov ax, [es:0xFFFE]
        TRY .t15
        mov eax, [es:0xFFFE]
.t15:   EXPECT_EXC 13, 0, "expand-down (B=0) dword past 0xFFFF"
        TRY .t16
        mov al, [es:0x10000]
.t16:   EXPECT_EXC 13, 0, "expand-down (B=0) byte at 0x10000"

        ; stack segment limit: an SS-relative access past the limit is #SS(0)
        mov [saved_esp], esp
        mov ax, SEL_STK
        mov ss, ax
        mov esp, 0x8000
        TRY .t17
        mov eax, [ss:0x10000]
.t17:   mov ax, SEL_DATA0
        mov ss, ax
        mov esp, [saved_esp]
        EXPECT_EXC 12, 0, "SS access past limit"
        mov ax, SEL_STK
        mov ss, ax
        mov esp, 0x8000
        TRY .t18
        mov eax, [ebp + 0x20000]                ; EBP-based: SS is the default segment
.t18:   mov ax, SEL_DATA0
        mov ss, ax
        mov esp, [saved_esp]
        EXPECT_EXC 12, 0, "EBP-based access past SS limit"

        ; far jump to a data segment: #GP(selector)
        TRY .t19
        jmp SEL_SMALL:0
.t19:   EXPECT_EXC 13, SEL_SMALL, "far jump to data segment"
        ; far jump to not-present code: #NP(selector)
        DESC SEL_NP, 0, 0xFFFFF, 0xC01B
        TRY .t20
        jmp SEL_NP:0
.t20:   EXPECT_EXC 11, SEL_NP, "far jump to not-present code"
        ; the faulting EIP points at the faulting instruction
        TRY .t21
.f21:   mov al, [es:0x10000]
.t21:   CHECK_EQ [exc_eip], .f21, "fault EIP is not the faulting instruction"

        ; ---- segmentation is checked before paging
        ; identity paging with linear 0x300000 not present
        mov ax, SEL_DATA0
        mov es, ax
        mov edi, 0x21000
        mov eax, 7
        mov ecx, 1024
.m:     stosd
        add eax, 0x1000
        loop .m
        mov dword [0x21000 + (0x300000 >> 12) * 4], 0
        mov edi, 0x20000
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov dword [0x20000], 0x21000 | 7
        mov eax, 0x20000
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        mov eax, SEL_FREE
        mov ebx, 0x300000
        mov ecx, 0xFFF
        mov dx, 0x4093
        call set_desc
        mov ax, SEL_FREE
        mov es, ax
        TRY .tp
        mov eax, [es:0xFFE]                     ; past the limit, and not present
.tp:   mov ax, SEL_DATA0
        mov es, ax
        EXPECT_EXC 13, 0, "segment limit must be checked before the page"

        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax

        mov ax, SEL_DATA0
        mov es, ax
        ret

%include "lib_end.inc"
