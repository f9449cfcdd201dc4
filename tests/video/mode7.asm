; Monochrome text mode 7 (80x25, 9x14 characters at B000, CRTC at 3B4h)
; set by the VGA BIOS.  Row 0: "mono text test" (attribute 07h); row 1:
; 80 spaces with attribute 01h, which the attribute logic underlines on the
; CR14 scan line.
%include "common.inc"
msg     db "mono text test"
MSGLEN  equ $ - msg
test_main:
        mov     ax, 0x0007
        int     0x10
        mov     ah, 0x01                ; cursor off
        mov     cx, 0x2000
        int     0x10
        mov     ax, 0xB000
        mov     es, ax
        xor     di, di
        mov     si, msg
        mov     cx, MSGLEN
        mov     ah, 0x07
.msg:   lodsb
        stosw
        loop    .msg
        mov     di, 160
        mov     cx, 80
        mov     ax, 0x0120              ; space, underline attribute
        rep     stosw
        ret
%include "end.inc"
