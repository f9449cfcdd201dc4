; Mode X (320x240, unchained 256 colours) programmed directly on the
; sequencer and CRTC after the BIOS set mode 13h; pixel (x ^ y) & 255
; written plane by plane through the map mask.
%include "common.inc"
crtc_x  dw 0x0D06, 0x3E07, 0x4109, 0xEA10, 0xAC11, 0xDF12, 0x0014, 0xE715, 0x0616, 0xE317
test_main:
        mov     ax, 0x0013
        int     0x10
        call    set_test_dac
        mov     dx, 0x3C4
        mov     ax, 0x0604              ; chain-4 off
        out     dx, ax
        mov     dx, 0x3C2
        mov     al, 0xE3                ; 480-line clock, colour
        out     dx, al
        mov     dx, 0x3D4
        mov     al, 0x11
        out     dx, al
        inc     dx
        in      al, dx
        and     al, 0x7F                ; unprotect CR00-CR07
        out     dx, al
        dec     dx
        mov     si, crtc_x
        mov     cx, 10
.crtc:  lodsw
        out     dx, ax
        loop    .crtc
        mov     ax, 0xA000
        mov     es, ax
        xor     bp, bp                  ; plane
.plane: mov     dx, 0x3C4
        mov     al, 2
        mov     cx, bp
        mov     ah, 1
        shl     ah, cl
        out     dx, ax                  ; map mask = this plane
        xor     di, di
        xor     bx, bx                  ; y
.row:   xor     si, si                  ; x / 4
.col:   mov     ax, si
        shl     ax, 2
        add     ax, bp                  ; x
        xor     al, bl
        stosb
        inc     si
        cmp     si, 80
        jb      .col
        inc     bx
        cmp     bx, 240
        jb      .row
        inc     bp
        cmp     bp, 4
        jb      .plane
        ret
%include "end.inc"
