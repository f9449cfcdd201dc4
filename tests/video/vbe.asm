; VBE through the VGA BIOS: INT 10h 4F02h mode 101h (640x480, 256 colours),
; pixels ((x >> 1) + y) & 255 written through the 64 KiB window at A000
; with INT 10h 4F05h bank switching.
%include "common.inc"
test_main:
        mov     ax, 0x4F02
        mov     bx, 0x0101
        int     0x10
        cmp     ax, 0x004F
        jne     fail
        call    set_test_dac
        mov     ax, 0xA000
        mov     es, ax
        xor     ebp, ebp                ; linear offset
.bank:  mov     ax, 0x4F05
        xor     bx, bx
        mov     edx, ebp
        shr     edx, 16
        int     0x10
        xor     di, di
.pixel: mov     eax, ebp
        xor     edx, edx
        mov     ecx, 640
        div     ecx                     ; eax = y, edx = x
        shr     edx, 1
        add     eax, edx
        stosb
        inc     ebp
        cmp     ebp, 640 * 480
        jae     .end
        test    di, di
        jnz     .pixel
        jmp     .bank
.end:   ret
%include "end.inc"
