; chain: what the interpreter's threaded dispatch assumes about code.  A
; decoded block runs on through a forward JMP/CALL in its page, so a write
; to the target (and only there) must take effect (SDM Vol. 3A 8.1.3: a
; write to code, then a jump, runs the new bytes); blocks are found by
; physical address *and* EIP, so one routine reached through two code
; segments sees each EIP; returns to many call sites (the jump cache) and a
; fault in the middle of a chain of blocks report the right EIP.
%include "lib.inc"

CODE    equ SCRATCH + 0x10000       ; copies run from RAM
CSBASE  equ 0x1000                  ; base of the second code segment
SEL_CB  equ SEL_FREE                ; 32-bit code, base CSBASE, 4 GiB

test_main:
        ; 1. one block through a forward JMP and a forward CALL
        mov esi, fwd
        mov edi, CODE
        mov ecx, fwd_end - fwd
        rep movsb
        call CODE
        CHECK_EQ eax, 0x11111111, "forward jmp/call routine"
        CHECK_EQ ebx, 0x33333333, "forward call's callee"
        mov dword [CODE + (fwd.t1 - fwd) + 1], 0x22222222
        call CODE
        CHECK_EQ eax, 0x22222222, "patched jmp target: the stale block ran"
        mov dword [CODE + (fwd.f - fwd) + 1], 0x44444444
        call CODE
        CHECK_EQ ebx, 0x44444444, "patched forward-call target: the stale block ran"
        mov byte [CODE + (fwd.gap - fwd)], 0x90     ; the skipped bytes: not run
        call CODE
        CHECK_EQ eax, 0x22222222, "write to the skipped bytes changed the result"
        CHECK_EQ ebx, 0x44444444, "write to the skipped bytes changed the callee"

        ; 2. the same bytes at two EIPs (two code segment bases)
        mov dword [GDT_ADDR + SEL_CB], 0x0000FFFF | (CSBASE << 16)
        mov dword [GDT_ADDR + SEL_CB + 4], 0x00CF9A00
        mov esi, where
        mov edi, CODE + 0x800
        mov ecx, where_end - where
        rep movsb
        call SEL_CODE0:CODE + 0x800
        CHECK_EQ eax, CODE + 0x800 + (where.here - where), "EIP through the flat segment"
        call SEL_CB:CODE + 0x800 - CSBASE
        CHECK_EQ eax, CODE + 0x800 - CSBASE + (where.here - where), "EIP through the based segment"
        call SEL_CODE0:CODE + 0x800
        CHECK_EQ eax, CODE + 0x800 + (where.here - where), "EIP through the flat segment again"

        ; 3. returns to three call sites, many times
        xor edx, edx
        mov ecx, 1000
.calls: call bump1
        call bump2
        call bump1
        dec ecx
        jnz .calls
        CHECK_EQ edx, 1000 * (1 + 0x10000 + 1), "returns to three call sites"

        ; 4. a #GP in the middle of a chain of blocks: EIP of the faulting
        ; instruction, and the instructions before it completed
        mov dword [exc_resume], .after
        xor esi, esi
        mov ecx, 100
.chain: inc esi
        jmp .next
.next:  dec ecx
        jnz .chain
        mov edi, 7
.fault: mov ax, 0x1234                          ; not a selector in the GDT
        mov ds, ax
        mov edi, 8
.after: CHECK_EQ dword [exc_vec], 13, "#GP from MOV DS"
        CHECK_EQ dword [exc_eip], .fault + 4, "#GP EIP inside a chain of blocks"
        CHECK_EQ esi, 100, "instructions before the fault"
        CHECK_EQ edi, 7, "the fault let a later instruction run"
        mov ax, SEL_DATA0
        mov ds, ax
        ret

bump1:  inc edx
        ret
bump2:  add edx, 0x10000
        ret

; copied to CODE: jmp over bytes that must not run, then a forward call
fwd:    jmp short .t1
.gap:   ud2
        ud2
.t1:    mov eax, 0x11111111
        call .f
        ret
        ud2
.f:     mov ebx, 0x33333333
        ret
fwd_end:

; copied to CODE + 0x800: returns its own EIP (far return)
where:  call .here
.here:  pop eax
        retf
where_end:

%include "lib_end.inc"
