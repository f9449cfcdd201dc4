; tests/boot/hello.asm -- a 512-byte boot sector: SeaBIOS loads it from a
; floppy or disk at 0:7C00.  It prints through BIOS INT 10h (teletype) and
; INT 14h-free direct UART writes to COM1, reports the boot drive, then exits
; through the exit port (0xF4) with 0x21 (-> status 0x43 = 67).
        org   0x7c00
        bits  16
start:
        cli
        xor   ax, ax
        mov   ds, ax
        mov   ss, ax
        mov   sp, 0x7c00
        sti
        mov   [drive], dl
        mov   si, msg
.next:  lodsb
        test  al, al
        jz    .drive
        call  putc
        jmp   .next
.drive: mov   al, [drive]          ; boot drive as two hex digits
        shr   al, 4
        call  hexdig
        mov   al, [drive]
        and   al, 0x0f
        call  hexdig
        mov   al, 13
        call  putc
        mov   al, 10
        call  putc
        mov   al, 0x21
        out   0xf4, al
.halt:  hlt
        jmp   .halt

hexdig: add   al, '0'
        cmp   al, '9'
        jbe   putc
        add   al, 7
putc:   push  ax                   ; BIOS teletype ...
        mov   ah, 0x0e
        mov   bx, 0x0007
        int   0x10
        pop   ax
        push  dx                   ; ... and COM1 (polling THRE)
        push  ax
        mov   dx, 0x3fd
.wait:  in    al, dx
        test  al, 0x20
        jz    .wait
        pop   ax
        mov   dx, 0x3f8
        out   dx, al
        pop   dx
        ret

msg:    db "vsx boot sector OK, drive ", 0
drive:  db 0
        times 510 - ($ - $$) db 0
        dw 0xaa55
