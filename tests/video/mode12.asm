; Mode 12h (640x480, 16 colours, planar) set by the VGA BIOS.  Write mode 2
; fills byte columns with colour (column + y) & 15; then write mode 3
; (rotated data AND bit mask, colour from set/reset) draws the diagonal
; x = y in colour 15 over it, each write merging with the latches.
%include "common.inc"
test_main:
        mov     ax, 0x0012
        int     0x10
        mov     ax, 0xA000
        mov     es, ax
        mov     dx, 0x3CE
        mov     ax, 0x0205              ; write mode 2
        out     dx, ax
        mov     ax, 0xFF08              ; bit mask: all
        out     dx, ax
        xor     di, di
        xor     bx, bx                  ; y
.row:   xor     cx, cx                  ; byte column
.col:   mov     al, cl
        add     al, bl
        and     al, 15
        stosb
        inc     cx
        cmp     cx, 80
        jb      .col
        inc     bx
        cmp     bx, 480
        jb      .row
        mov     ax, 0x0305              ; write mode 3
        out     dx, ax
        mov     ax, 0x0F00              ; set/reset colour 15
        out     dx, ax
        mov     ax, 0xFF08
        out     dx, ax
        xor     bx, bx                  ; x = y
.diag:  mov     ax, bx
        mov     cx, 80
        mul     cx
        mov     di, ax
        mov     ax, bx
        shr     ax, 3
        add     di, ax                  ; y * 80 + x / 8
        mov     cl, bl
        and     cl, 7
        mov     al, 0x80
        shr     al, cl                  ; this pixel's bit
        mov     ah, [es:di]             ; load the latches
        mov     [es:di], al
        inc     bx
        cmp     bx, 480
        jb      .diag
        mov     ax, 0x0005              ; back to write mode 0
        out     dx, ax
        ret
%include "end.inc"
