; pae: PAE paging (Intel SDM Vol. 3A §4.4 "PAE Paging"): PDPTEs loaded by
; MOV CR3 / MOV CR0 (#GP(0) for reserved bits in a present PDPTE, CR3
; unchanged), 64-bit PDEs/PTEs with 4 KiB and 2 MiB pages, A/D bits in the
; 64-bit entries, #PF error codes incl. RSVD (bit 3) for a reserved bit (62),
; and a linear alias through a second PDPTE.
%include "lib.inc"

PDPT    equ 0x20000                 ; 32-byte aligned
PD0     equ 0x21000                 ; linear 0-1 GiB
PT0     equ 0x22000                 ; linear 0-2 MiB in 4 KiB pages
PD3     equ 0x23000                 ; linear 3-4 GiB
BAD     equ 0x24000                 ; a PDPT with a reserved bit set
V       equ user_vars
PG_P    equ 1
PG_W    equ 2
PG_U    equ 4
PG_A    equ 0x20
PG_D    equ 0x40
PG_PS   equ 0x80

test_main:
        ; clear the tables
        mov edi, PDPT
        xor eax, eax
        mov ecx, 0x5000 / 4
        rep stosd
        ; PT0: identity 0-2 MiB (4 KiB pages), then test pages
        mov edi, PT0
        mov eax, PG_P | PG_W | PG_U
        mov ecx, 512
.map:   mov [edi], eax
        mov dword [edi + 4], 0
        add edi, 8
        add eax, 0x1000
        loop .map
        mov dword [PT0 + 0x180 * 8], 0                          ; 0x180000 not present
        mov dword [PT0 + 0x181 * 8], 0x181000 | PG_P | PG_U     ; read-only
        mov dword [PT0 + 0x182 * 8 + 4], 0x40000000             ; bit 62: reserved
        ; PD0: 0-2 MiB via PT0, 2-4 MiB one 2 MiB page, 4-6 MiB a 2 MiB page
        ; aliasing physical 0x200000
        mov dword [PD0], PT0 | PG_P | PG_W | PG_U
        mov dword [PD0 + 8], 0x200000 | PG_P | PG_W | PG_U | PG_PS
        mov dword [PD0 + 16], 0x200000 | PG_P | PG_W | PG_U | PG_PS
        ; PD3: linear 0xC0000000 -> 2 MiB page at physical 0x200000 as well
        mov dword [PD3], 0x200000 | PG_P | PG_W | PG_PS
        mov dword [PDPT], PD0 | PG_P
        mov dword [PDPT + 24], PD3 | PG_P
        ; the bad PDPT: present with bit 1 (reserved in PAE PDPTEs) set
        mov dword [BAD], PD0 | PG_P | PG_W
        mov eax, cr4
        or eax, 0x20                            ; PAE
        mov cr4, eax
        mov eax, PDPT
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        ; 2 MiB pages and a linear alias through the fourth PDPTE
        mov dword [0x200010], 0x5A5A1234
        CHECK_EQ [0x400010], 0x5A5A1234, "2 MiB page alias at 4 MiB"
        CHECK_EQ [0xC0000010], 0x5A5A1234, "2 MiB page through PDPTE 3"
        test dword [PD0 + 8], PG_D
        FAIL_IF z, "dirty bit not set in the 2 MiB PDE"
        ; not present 4 KiB page, read-only write from user level is covered
        ; by the 32-bit test; here the error codes of PAE entries:
        TRY .t1
        mov eax, [0x180004]
.t1:    EXPECT_EXC 14, 0, "read of a not-present PAE PTE"
        CHECK_EQ [exc_cr2], 0x180004, "CR2"
        TRY .t2
        mov eax, [0x182000]
.t2:    EXPECT_EXC 14, 9, "reserved bit 62 in a PTE: P|RSVD"
        ; supervisor write to the read-only page is allowed without CR0.WP
        mov dword [0x181000], 7
        CHECK_EQ [0x181000], 7, "supervisor write, WP=0"
        ; accessed/dirty bits land in the low dword of the 64-bit PTE
        mov dword [0x100000], 1
        mov eax, [PT0 + 0x100 * 8]
        and eax, PG_A | PG_D
        CHECK_EQ eax, PG_A | PG_D, "A and D in a PAE PTE"
        ; MOV CR3 with a reserved bit in a present PDPTE: #GP(0), CR3 kept
        TRY .t3
        mov eax, BAD
        mov cr3, eax
.t3:    EXPECT_EXC 13, 0, "MOV CR3 to a PDPT with a reserved bit"
        mov eax, cr3
        CHECK_EQ eax, PDPT, "CR3 unchanged after the #GP"
        ; back to flat, unpaged
        mov eax, cr0
        and eax, 0x7FFFFFFF
        mov cr0, eax
        mov eax, cr4
        and eax, ~0x20
        mov cr4, eax
        ret
%include "lib_end.inc"
