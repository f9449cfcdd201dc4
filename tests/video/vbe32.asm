; Bochs VBE programmed directly (DISPI index/data ports 1CEh/1CFh, IDs
; B0C0h-B0C5h): 800x600 at 32 bpp, pixels 00RRGGBB with R = x & 255,
; G = y & 255, B = (x + y) & 255, written through the 64 KiB banked window
; at A000 (DISPI bank register).
%include "common.inc"
DISPI_INDEX     equ 0x1CE
XRES            equ 1
YRES            equ 2
BPP             equ 3
ENABLE          equ 4
BANK            equ 5

; dispi_write index, value
%macro dispi 2
        mov     dx, DISPI_INDEX
        mov     ax, %1
        out     dx, ax
        inc     dx
        mov     ax, %2
        out     dx, ax
%endmacro

test_main:
        dispi   ENABLE, 0
        dispi   XRES, 800
        dispi   YRES, 600
        dispi   BPP, 32
        dispi   ENABLE, 1
        mov     ax, 0xA000
        mov     es, ax
        xor     ebp, ebp                ; pixel index
.bank:  mov     esi, ebp                ; bank = byte offset >> 16
        shr     esi, 14
        dispi   BANK, si
        xor     di, di
.pixel: mov     eax, ebp
        xor     edx, edx
        mov     ecx, 800
        div     ecx                     ; eax = y, edx = x
        movzx   ebx, dl                 ; R = x & 255
        shl     ebx, 16
        mov     bh, al                  ; G = y & 255
        add     al, dl                  ; B = (x + y) & 255
        mov     bl, al
        mov     eax, ebx
        stosd
        inc     ebp
        cmp     ebp, 800 * 600
        jae     .end
        test    di, di
        jnz     .pixel
        jmp     .bank
.end:   ret
%include "end.inc"
