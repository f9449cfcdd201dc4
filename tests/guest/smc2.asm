; smc2: decoded code that crosses a page boundary must follow the current
; translation of both pages (Intel SDM Vol. 3A §4.10.4: after INVLPG or a
; CR3 load the new mapping is used; instruction fetch is a linear access
; like any other).  An instruction straddles linear 0x400FFF/0x401000; the
; second page is remapped between runs.
%include "lib.inc"

PD      equ 0x20000
PT0     equ 0x21000
PT1     equ 0x22000                 ; maps 0x400000-0x7FFFFF
PAGE_A  equ 0x500000                ; physical pages for linear 0x400000..
PAGE_B1 equ 0x501000                ; second page, version 1
PAGE_B2 equ 0x502000                ; second page, version 2

test_main:
        mov edi, PT0
        mov eax, 7
        mov ecx, 1024
.m:     stosd
        add eax, 0x1000
        loop .m
        mov edi, PT1
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov edi, PD
        mov ecx, 1024
        rep stosd
        mov dword [PD], PT0 | 7
        mov dword [PD + 4], PT1 | 7
        mov dword [PT1 + 0], PAGE_A | 7
        mov dword [PT1 + 4], PAGE_B1 | 7
        ; page A ends with "mov eax, imm32" whose last 3 immediate bytes
        ; are at the start of the next page, followed by RET
        mov edi, PAGE_A
        mov ecx, 0x1000
        mov al, 0x90                            ; NOPs
        rep stosb
        mov byte [PAGE_A + 0xFFD], 0xB8         ; mov eax, imm32
        mov word [PAGE_A + 0xFFE], 0x1111       ; imm bytes 0-1
        mov word [PAGE_B1], 0x1111              ; imm bytes 2-3
        mov byte [PAGE_B1 + 2], 0xC3            ; ret
        mov word [PAGE_B2], 0x2222
        mov byte [PAGE_B2 + 2], 0xC3
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax

        call 0x400FFD
        CHECK_EQ eax, 0x11111111, "straddling instruction, first mapping"
        call 0x400FFD                           ; cached now
        CHECK_EQ eax, 0x11111111, "straddling instruction, second run"
        ; remap the second page and INVLPG it
        mov dword [PT1 + 4], PAGE_B2 | 7
        invlpg [0x401000]
        call 0x400FFD
        CHECK_EQ eax, 0x22221111, "after INVLPG of the second page: stale code ran"
        ; back to version 1 through a CR3 reload
        mov dword [PT1 + 4], PAGE_B1 | 7
        mov eax, cr3
        mov cr3, eax
        call 0x400FFD
        CHECK_EQ eax, 0x11111111, "after a CR3 reload: stale code ran"
        ; version 2 written through an alias (identity map of the physical page)
        mov dword [PT0 + (0x3FF000 >> 12) * 4], PAGE_B1 | 7
        invlpg [0x3FF000]
        mov word [0x3FF000], 0x3333             ; imm bytes 2-3 via the alias
        call 0x400FFD
        CHECK_EQ eax, 0x33331111, "second page patched through an alias: stale code ran"
        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax
        ret

%include "lib_end.inc"
