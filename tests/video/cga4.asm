; CGA mode 4 (320x200, 4 colours) set by the VGA BIOS: even lines at
; B800:0000, odd lines at B800:2000, 4 pixels per byte; pixel (x, y) has
; colour (x / 4 + y) & 3.  The DAC gets the test palette, so the picture
; depends on the BIOS's attribute palette for mode 4 (0, 13h, 15h, 17h).
%include "common.inc"
test_main:
        mov     ax, 0x0004
        int     0x10
        call    set_test_dac
        mov     ax, 0xB800
        mov     es, ax
        xor     bx, bx                  ; y
.row:   mov     ax, bx
        shr     ax, 1
        mov     cx, 80
        mul     cx
        mov     di, ax
        test    bl, 1
        jz      .even
        add     di, 0x2000
.even:  xor     cx, cx                  ; byte column: pixels 4c..4c+3
.col:   mov     al, cl
        add     al, bl
        and     al, 3                   ; the same colour for all 4 pixels
        mov     ah, al
        shl     ah, 2
        or      al, ah
        mov     ah, al
        shl     ah, 4
        or      al, ah
        stosb
        inc     cx
        cmp     cx, 80
        jb      .col
        inc     bx
        cmp     bx, 200
        jb      .row
        ret
%include "end.inc"
