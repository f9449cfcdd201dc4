; Mode 13h set by the VGA BIOS, pixels (x + 2y) & 255 written chained.
%include "common.inc"
test_main:
        mov     ax, 0x0013
        int     0x10
        call    set_test_dac
        mov     ax, 0xA000
        mov     es, ax
        xor     di, di
        xor     bx, bx                  ; y
.row:   xor     cx, cx                  ; x
.col:   mov     al, cl
        add     al, bl
        add     al, bl
        stosb
        inc     cx
        cmp     cx, 320
        jb      .col
        inc     bx
        cmp     bx, 200
        jb      .row
        ret
%include "end.inc"
