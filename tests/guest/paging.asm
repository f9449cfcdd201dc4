; paging: 32-bit paging (Intel SDM Vol. 3A §4.3 "32-Bit Paging", §4.7
; "Page-Fault Exceptions" error code P/W/U bits and CR2, §4.8 "Accessed and
; Dirty Flags", §4.6 CR0.WP and U/S rules, §4.10.4.1 INVLPG).
%include "lib.inc"

PD      equ 0x20000
PT      equ 0x21000                 ; maps linear 0-4 MiB
V       equ user_vars
PG_P    equ 1
PG_W    equ 2
PG_U    equ 4
PG_A    equ 0x20
PG_D    equ 0x40
PG_PS   equ 0x80

%define PTE(lin) (PT + ((lin) >> 12) * 4)

test_main:
        ; identity map 0-4 MiB, user + writable; PDE 0 -> PT
        mov edi, PT
        mov eax, PG_P | PG_W | PG_U
        mov ecx, 1024
.map:   stosd
        add eax, 0x1000
        loop .map
        mov edi, PD
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov dword [PD], PT | PG_P | PG_W | PG_U
        ; the test pages
        mov dword [PTE(0x300000)], 0                            ; not present
        mov dword [PTE(0x301000)], 0x301000 | PG_P | PG_U       ; read-only, user
        mov dword [PTE(0x302000)], 0x302000 | PG_P | PG_W       ; supervisor only
        mov dword [PTE(0x303000)], 0x303000 | PG_P | PG_W | PG_U ; A/D test
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        ; not present: read -> error 0, write -> error 2, CR2 = address
        TRY .t1
        mov eax, [0x300123]
.t1:    EXPECT_EXC 14, 0, "read of not-present page"
        CHECK_EQ [exc_cr2], 0x300123, "CR2 after read fault"
        TRY .t2
        mov dword [0x300ffe], 1                 ; straddles into 0x301000 too
.t2:    EXPECT_EXC 14, 2, "write to not-present page"
        CHECK_EQ [exc_cr2], 0x300ffe, "CR2 after write fault"

        ; read-only page: supervisor writes allowed while CR0.WP = 0 ...
        mov dword [exc_vec], 0xFF
        mov dword [0x301010], 0x11
        CHECK_EQ [exc_vec], 0xFF, "supervisor write to read-only page with WP=0 faulted"
        ; ... and fault with error 3 once CR0.WP = 1
        mov eax, cr0
        or eax, 0x10000
        mov cr0, eax
        TRY .t3
        mov dword [0x301010], 0x22
.t3:    EXPECT_EXC 14, 3, "supervisor write to read-only page with WP=1"
        CHECK_EQ [0x301010], 0x11, "faulting write changed memory"

        ; accessed / dirty bits
        and dword [PTE(0x303000)], ~(PG_A | PG_D)
        invlpg [0x303000]
        mov eax, [0x303000]
        mov eax, [PTE(0x303000)]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A, "read must set A only"
        mov dword [0x303004], 5
        mov eax, [PTE(0x303000)]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A | PG_D, "write must set D"
        mov eax, [PD]
        and eax, PG_A
        CHECK_EQ eax, PG_A, "PDE accessed bit"

        ; INVLPG: remap 0x303000 to physical 0x305000; after INVLPG the new
        ; translation is used
        mov dword [0x305000], 0xABCDEF01
        mov dword [PTE(0x303000)], 0x305000 | PG_P | PG_W | PG_U
        invlpg [0x303000]
        CHECK_EQ [0x303000], 0xABCDEF01, "INVLPG did not drop the old translation"
        ; ... and a page made not-present faults after INVLPG
        mov dword [PTE(0x303000)], 0
        invlpg [0x303000]
        TRY .t4
        mov eax, [0x303000]
.t4:    EXPECT_EXC 14, 0, "access after INVLPG of a not-present page"

        ; ring 3: supervisor page -> error 5 (read) / 7 (write); read-only
        ; user page write -> error 7
        mov ebx, ring3_code
        call ring3_call
        CHECK_EQ [V + 0x00], 14, "user read of supervisor page: vector"
        CHECK_EQ [V + 0x04], 5, "user read of supervisor page: error"
        CHECK_EQ [V + 0x08], 7, "user write of supervisor page: error"
        CHECK_EQ [V + 0x0C], 7, "user write of read-only page: error"
        CHECK_EQ [V + 0x10], 0x11, "user read of read-only user page"

        ; 4 MiB pages (CR4.PSE): linear 0x400000 -> physical 0x800000, and an
        ; identity 4 MiB page at 0x800000 to look at it
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        mov dword [PD + 4], 0x800000 | PG_PS | PG_P | PG_W
        mov dword [PD + 8], 0x800000 | PG_PS | PG_P | PG_W
        mov eax, cr3
        mov cr3, eax
        mov dword [0x400010], 0x4D4D4D4D
        CHECK_EQ [0x800010], 0x4D4D4D4D, "4 MiB page translation"
        mov eax, [PD + 4]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A | PG_D, "4 MiB PDE accessed/dirty"
        mov eax, [PD + 8]
        and eax, PG_D
        CHECK_EQ eax, 0, "4 MiB PDE dirty set by a read"
        TRY .t5
        mov eax, [0xC00000]                     ; PDE 3 not present
.t5:    EXPECT_EXC 14, 0, "4 MiB region with no PDE"
        CHECK_EQ [exc_cr2], 0xC00000, "CR2 for PDE fault"

        ; paging off again for the runtime
        mov eax, cr0
        and eax, ~0x80010000
        mov cr0, eax
        ret

ring3_code:
        TRY .r1
        mov eax, [0x302000]
.r1:    mov eax, [exc_vec]
        mov [V + 0x00], eax
        mov eax, [exc_err]
        mov [V + 0x04], eax
        TRY .r2
        mov dword [0x302000], 1
.r2:    mov eax, [exc_err]
        mov [V + 0x08], eax
        TRY .r3
        mov dword [0x301000], 1
.r3:    mov eax, [exc_err]
        mov [V + 0x0C], eax
        mov eax, [0x301010]
        mov [V + 0x10], eax
        int 0x30

%include "lib_end.inc"
