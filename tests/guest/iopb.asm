; iopb: I/O permission checks (Intel SDM Vol. 1 §19.5 "Protected-Mode I/O":
; CPL > IOPL consults the TSS I/O permission bitmap, every byte of a
; multi-byte access must be allowed, bits beyond the TSS limit count as set;
; CLI/STI are IOPL-sensitive, §19.5.1).
%include "lib.inc"

V        equ user_vars
IOMAP    equ TSS_ADDR + 0x68

%macro R3TRY 2                      ; R3TRY slot, instruction: record vector+1 (0 = no fault)
        TRY %%r
        mov dword [exc_vec], 0xFFFFFFFF
        %2
%%r:    mov eax, [exc_vec]
        inc eax
        mov [V + %1 * 4], eax
%endmacro

test_main:
        ; bitmap: everything denied except 0x80 and 0x84-0x87; it covers
        ; ports 0-0x7FFF only (TSS limit), so 0x8000+ is denied regardless
        mov edi, IOMAP
        mov ecx, 0x1000
        mov al, 0xFF
        rep stosb
        mov byte [IOMAP + 0x1000], 0x00         ; beyond the limit: must not count
        mov byte [IOMAP + 0x10], 0xFE           ; port 0x80 allowed
        and byte [IOMAP + 0x10], 0x0F           ; ports 0x84-0x87 allowed
        mov word [TSS_ADDR + 102], 0x68
        mov byte [GDT_ADDR + SEL_TSS + 5], 0x89 ; not busy, to reload TR
        mov eax, SEL_TSS
        mov ebx, TSS_ADDR
        mov ecx, 0x68 + 0x1000 - 1
        mov dx, 0x0089
        call set_desc
        mov ax, SEL_TSS
        ltr ax

        mov ebx, ring3_iopl0
        call ring3_call
        CHECK_EQ [V + 0x00], 0, "IN AL,0x80 (allowed) faulted"
        CHECK_EQ [V + 0x04], 0, "OUT 0x80,AL (allowed) faulted"
        CHECK_EQ [V + 0x08], 14, "OUT 0x81,AL (denied) did not #GP"
        CHECK_EQ [V + 0x0C], 14, "IN AX,0x80 (0x81 denied) did not #GP"
        CHECK_EQ [V + 0x10], 0, "IN EAX,0x84 (allowed) faulted"
        CHECK_EQ [V + 0x14], 14, "IN EAX,0x83 did not #GP"
        CHECK_EQ [V + 0x18], 14, "port beyond TSS limit did not #GP"
        CHECK_EQ [V + 0x1C], 14, "INSB from denied port did not #GP"
        CHECK_EQ [V + 0x20], 14, "CLI at CPL 3 > IOPL did not #GP"
        CHECK_EQ [V + 0x24], 0, "OUTSB to allowed port faulted"
        CHECK_EQ [V + 0x28], 0, "error code of I/O #GP"

        ; IOPL 3: no bitmap checks, CLI allowed
        mov dword [ring3_flags], 0x3000
        mov ebx, ring3_iopl3
        call ring3_call
        CHECK_EQ [V + 0x40], 0, "OUT 0x81 with IOPL 3 faulted"
        CHECK_EQ [V + 0x44], 0, "IN from 0x8000 with IOPL 3 faulted"
        CHECK_EQ [V + 0x48], 0, "CLI with IOPL 3 faulted"
        mov dword [ring3_flags], 0
        ; CPL 0 ignores the bitmap
        mov dx, 0x8000
        in al, dx
        out 0x81, al
        ret

ring3_iopl0:
        R3TRY 0, {in al, 0x80}
        R3TRY 1, {out 0x80, al}
        R3TRY 2, {out 0x81, al}
        mov eax, [exc_err]
        mov [V + 0x28], eax
        R3TRY 3, {in ax, 0x80}
        R3TRY 4, {in eax, 0x84}
        R3TRY 5, {in eax, 0x83}
        mov dx, 0x8000
        R3TRY 6, {in al, dx}
        mov edi, V + 0x80
        mov dx, 0x81
        R3TRY 7, {insb}
        R3TRY 8, {cli}
        mov esi, V + 0x80
        mov dx, 0x80
        R3TRY 9, {outsb}
        int 0x30

ring3_iopl3:
        R3TRY 0x10, {out 0x81, al}
        mov dx, 0x8000
        R3TRY 0x11, {in al, dx}
        R3TRY 0x12, {cli}
        int 0x30

%include "lib_end.inc"
