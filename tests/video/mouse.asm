; PS/2 mouse through the BIOS (INT 15h C2xx pointing-device services):
; row 0 shows the summed motion and the buttons, "mouse x=N y=N b=N", in
; PS/2 axes (y grows upwards).  Used by 60-video with the window's mouse
; capture (relative motion) under Xvfb; never exits by itself.
%include "common.inc"
test_main:
        mov     ax, 0x0003
        int     0x10
        mov     ax, 0xC205              ; initialise, 3-byte packets
        mov     bh, 3
        int     0x15
        jc      fail
        push    cs
        pop     es
        mov     bx, on_packet
        mov     ax, 0xC207              ; far handler ES:BX
        int     0x15
        jc      fail
        mov     ax, 0xC200              ; enable
        mov     bh, 1
        int     0x15
        jc      fail
.loop:  call    show
        hlt
        jmp     .loop

; Called FAR by the BIOS with status, X, Y, 0 pushed in that order.
on_packet:
        push    bp
        mov     bp, sp
        push    ax
        mov     ax, [bp + 12]           ; status: bit 4 X sign, bit 5 Y sign
        mov     [buttons], al
        and     byte [buttons], 7
        mov     ax, [bp + 10]
        xor     ah, ah
        test    byte [bp + 12], 0x10
        jz      .xpos
        mov     ah, 0xFF
.xpos:  add     [sum_x], ax
        mov     ax, [bp + 8]
        xor     ah, ah
        test    byte [bp + 12], 0x20
        jz      .ypos
        mov     ah, 0xFF
.ypos:  add     [sum_y], ax
        pop     ax
        pop     bp
        retf

show:   mov     di, line
        mov     si, str_x
        call    copy
        mov     ax, [sum_x]
        call    itoa
        mov     si, str_y
        call    copy
        mov     ax, [sum_y]
        call    itoa
        mov     si, str_b
        call    copy
        movzx   ax, byte [buttons]
        call    itoa
        mov     cx, line + 40
        sub     cx, di
        mov     al, ' '
        rep     stosb                   ; clear what a longer number left
        mov     si, line
        mov     ax, 0xB800
        mov     es, ax
        xor     di, di
        mov     cx, 40
        mov     ah, 0x07
.put:   lodsb
        stosw
        loop    .put
        push    ds
        pop     es
        ret

copy:   lodsb                           ; SI string -> DI
        test    al, al
        jz      .done
        stosb
        jmp     copy
.done:  ret

itoa:   test    ax, ax                  ; AX signed -> decimal at DI
        jns     .pos
        mov     byte [di], '-'
        inc     di
        neg     ax
.pos:   xor     cx, cx
        mov     bx, 10
.div:   xor     dx, dx
        div     bx
        push    dx
        inc     cx
        test    ax, ax
        jnz     .div
.out:   pop     ax
        add     al, '0'
        stosb
        loop    .out
        ret

str_x   db "mouse x=", 0
str_y   db " y=", 0
str_b   db " b=", 0
sum_x   dw 0
sum_y   dw 0
buttons db 0
line    times 48 db 0
%include "end.inc"
