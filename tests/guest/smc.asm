; smc: self-modifying and cross-modifying code (Intel SDM Vol. 3A §8.1.3
; "Handling Self- and Cross-Modifying Code": after a write to code, a jump
; guarantees the new bytes execute on every IA-32 processor; Vol. 3A §11.6:
; the check is on physical addresses, so writes through another linear
; alias or segment also count).
%include "lib.inc"

CODE     equ SCRATCH                ; routine copied to RAM (physical 1 MiB)
PD       equ 0x20000

test_main:
        ; 1. a routine copied to RAM, patched between calls
        mov esi, snippet
        mov edi, CODE
        mov ecx, snippet_end - snippet
        rep movsb
        call CODE
        CHECK_EQ eax, 0x11111111, "copied routine"
        ; patch its immediate and call again
        mov dword [CODE + (snippet.imm - snippet) + 1], 0x22222222
        call CODE
        CHECK_EQ eax, 0x22222222, "routine patched between calls ran stale code"

        ; 2. write-then-jump inside one block: the routine patches its own
        ; next instruction and jumps to it
        mov esi, selfpatch
        mov edi, CODE + 0x100
        mov ecx, selfpatch_end - selfpatch
        rep movsb
        call CODE + 0x100
        CHECK_EQ eax, 0x33333333, "write-then-jump in one block ran stale code"
        ; run it again: the patched bytes are what is now in memory
        call CODE + 0x100
        CHECK_EQ eax, 0x33333333, "second run of self-patched code"

        ; 3. patch through a data segment with a different base
        mov eax, SEL_FREE
        mov ebx, CODE
        mov ecx, 0xFFFF
        mov dx, 0x4093
        call set_desc
        mov ax, SEL_FREE
        mov es, ax
        mov dword [es:(snippet.imm - snippet) + 1], 0x44444444
        mov ax, SEL_DATA0
        mov es, ax
        call CODE
        CHECK_EQ eax, 0x44444444, "patch through another segment ran stale code"

        ; 4. patch through a different linear alias of the same physical page
        ; (4 MiB pages: linear 0x400000-0x7FFFFF aliases physical 0-4 MiB)
        mov edi, PD
        xor eax, eax
        mov ecx, 1024
        rep stosd
        mov dword [PD], 0x000000 | 0x83
        mov dword [PD + 4], 0x000000 | 0x83
        mov eax, cr4
        or eax, 0x10
        mov cr4, eax
        mov eax, PD
        mov cr3, eax
        mov eax, cr0
        or eax, 0x80000000
        mov cr0, eax
        call CODE                               ; cache the translation
        CHECK_EQ eax, 0x44444444, "routine under paging"
        mov dword [CODE + 0x400000 + (snippet.imm - snippet) + 1], 0x55555555
        call CODE
        CHECK_EQ eax, 0x55555555, "patch through a linear alias ran stale code"
        ; and executing through the alias sees the same bytes
        call CODE + 0x400000
        CHECK_EQ eax, 0x55555555, "running the alias"
        mov dword [CODE + (snippet.imm - snippet) + 1], 0x66666666
        call CODE + 0x400000
        CHECK_EQ eax, 0x66666666, "alias ran stale code after a write to the original"
        mov eax, cr0
        and eax, ~0x80000000
        mov cr0, eax

        ; 5. overwrite a whole routine with REP MOVSB, then call it
        mov esi, snippet2
        mov edi, CODE
        mov ecx, snippet2_end - snippet2
        rep movsb
        call CODE
        CHECK_EQ eax, 0x77777777, "routine replaced by REP MOVSB ran stale code"
        ret

snippet:
.imm:   mov eax, 0x11111111
        ret
snippet_end:

selfpatch:
        mov dword [CODE + 0x100 + (selfpatch.target - selfpatch) + 1], 0x33333333
        jmp .target
.target:
        mov eax, 0x12345678
        ret
selfpatch_end:

snippet2:
        xor eax, eax
        mov eax, 0x77777777
        nop
        ret
snippet2_end:

%include "lib_end.inc"
