; Text mode 3 via the BIOS; a user glyph for character 0x80 loaded with
; INT 10h AX=1100h; blinking off (AX=1003h) so attributes give 16
; background colours; cursor off.  Row 0 carries a line of text through the
; teletype; rows 1-24 hold glyph 0x80 with attribute (7 * row + col) & 255.
%include "common.inc"
glyph   db 0xFF, 0x81, 0xBD, 0xA5, 0xA5, 0xBD, 0x81, 0xFF
        db 0x00, 0x18, 0x3C, 0x7E, 0x3C, 0x18, 0x00, 0xAA
hello   db "vsx video text test", 0
test_main:
        mov     ax, 0x0003
        int     0x10
        mov     ax, 0x1003
        xor     bx, bx
        int     0x10
        mov     ah, 0x01
        mov     cx, 0x2000
        int     0x10
        push    ds
        pop     es
        mov     ax, 0x1100
        mov     bp, glyph
        mov     bx, 0x1000              ; 16 bytes per character, block 0
        mov     cx, 1
        mov     dx, 0x80
        int     0x10
        mov     si, hello
.tty:   lodsb
        test    al, al
        jz      .fill
        mov     ah, 0x0E
        xor     bx, bx
        int     0x10
        jmp     .tty
.fill:  mov     ax, 0xB800
        mov     es, ax
        mov     di, 160
        mov     bx, 1                   ; row
.row:   xor     cx, cx                  ; column
.col:   mov     al, bl
        mov     ah, 7
        mul     ah
        add     al, cl
        mov     ah, al
        mov     al, 0x80
        stosw
        inc     cx
        cmp     cx, 80
        jb      .col
        inc     bx
        cmp     bx, 25
        jb      .row
        mov     ah, 0x01                ; cursor stays off after teletype
        mov     cx, 0x2000
        int     0x10
        ret
%include "end.inc"
