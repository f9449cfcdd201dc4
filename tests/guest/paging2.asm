; paging2: more 32-bit paging rules (Intel SDM Vol. 3A §4.6.1: the access
; rights of a 4 KiB page combine the PDE and PTE -- user access needs U/S=1
; in both, user writes need R/W=1 in both; §4.8: the PDE's D bit is not
; used for 4 KiB pages; §4.7: CR2 on an instruction fetch that crosses into
; a not-present page; Vol. 2B REP: a page fault part-way through REP MOVS
; leaves ECX/ESI/EDI at the faulting element, restartable).
%include "lib.inc"

V        equ user_vars
PD       equ 0x20000
PT0      equ 0x21000                ; 0-4 MiB, user/writable
PT1      equ 0x22000                ; 4-8 MiB: per-test permissions

%define PTE1(lin) (PT1 + (((lin) - 0x400000) >> 12) * 4)

test_main:
        mov edi, PT0
        mov eax, 7
        mov ecx, 1024
.m0:    stosd
        add eax, 0x1000
        loop .m0
        mov edi, PT1
        mov eax, 0x400000 | 7
        mov ecx, 1024
.m1:    stosd
        add eax, 0x1000
        loop .m1
        mov edi, PD
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov dword [PD + 0], PT0 | 7
        mov dword [PD + 4], PT1 | 5             ; PDE: user, READ-ONLY
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80010000                      ; PG, WP
        mov cr0, eax

        ; PDE read-only + PTE writable: user write faults (P|W|U = 7),
        ; supervisor write faults too with WP=1 (P|W = 3)
        mov ebx, ring3_write
        call ring3_call
        CHECK_EQ [V + 0x00], 14, "user write under a read-only PDE: vector"
        CHECK_EQ [V + 0x04], 7, "user write under a read-only PDE: error code"
        TRY .t1
        mov dword [0x400000], 1
.t1:    EXPECT_EXC 14, 3, "supervisor write under a read-only PDE with WP=1"
        ; PDE supervisor-only + PTE user: user read faults (P|U = 5)
        mov dword [PD + 4], PT1 | 3
        mov eax, cr3
        mov cr3, eax
        mov ebx, ring3_read
        call ring3_call
        CHECK_EQ [V + 0x08], 5, "user read under a supervisor PDE: error code"
        ; 4 KiB page: the PDE's D bit stays clear after a write
        mov dword [PD + 4], PT1 | 7
        mov eax, cr3
        mov cr3, eax
        mov dword [0x401000], 1
        mov eax, [PD + 4]
        and eax, 0x40
        CHECK_EQ eax, 0, "PDE D bit set by a write through a 4 KiB page"
        mov eax, [PTE1(0x401000)]
        and eax, 0x60
        CHECK_EQ eax, 0x60, "PTE A/D after a write"

        ; instruction fetch crossing into a not-present page: CR2 = that page
        mov dword [PTE1(0x403000)], 0
        mov eax, cr3
        mov cr3, eax
        mov edi, 0x403000 - 3
        mov byte [edi], 0xB8                    ; mov eax, imm32 (5 bytes, 2 in the next page)
        TRY .t2
        jmp edi
.t2:    EXPECT_EXC 14, 0, "fetch into a not-present page"
        CHECK_EQ [exc_cr2], 0x403000, "CR2 of a straddling fetch"
        CHECK_EQ [exc_eip], 0x403000 - 3, "EIP of a straddling fetch"

        ; REP MOVSB faulting part-way: registers at the faulting element
        mov dword [PTE1(0x405000)], 0
        mov eax, cr3
        mov cr3, eax
        mov esi, 0x100000
        mov edi, 0x405000 - 0x10
        mov ecx, 0x40
        TRY .t3
.f3:    rep movsb
.t3:    EXPECT_EXC 14, 2, "REP MOVSB into a not-present page"
        CHECK_EQ [exc_eip], .f3, "REP MOVSB fault EIP"
        CHECK_EQ ecx, 0x30, "ECX after a fault part-way through REP MOVSB"
        CHECK_EQ edi, 0x405000, "EDI after a fault part-way through REP MOVSB"
        CHECK_EQ esi, 0x100010, "ESI after a fault part-way through REP MOVSB"
        CHECK_EQ [exc_cr2], 0x405000, "CR2 of the REP MOVSB fault"

        mov eax, cr0
        and eax, ~0x80010000
        mov cr0, eax
        ret

ring3_write:
        TRY .r
        mov dword [0x400000], 1
.r:     mov eax, [exc_vec]
        mov [V + 0x00], eax
        mov eax, [exc_err]
        mov [V + 0x04], eax
        int 0x30

ring3_read:
        TRY .r
        mov eax, [0x400000]
.r:     mov eax, [exc_err]
        mov [V + 0x08], eax
        int 0x30

%include "lib_end.inc"
