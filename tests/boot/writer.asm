; tests/boot/writer.asm -- a boot sector that writes one sector to its boot
; disk through BIOS INT 13h (AH=03h, sector 2 = LBA 1) and exits through the
; exit port with 0x22 (status 69) on success, 0x23 (status 71) on a BIOS error.
; Used to test undo disks: where do the guest's writes end up?
        org   0x7c00
        bits  16
start:
        cli
        xor   ax, ax
        mov   ds, ax
        mov   es, ax
        mov   ss, ax
        mov   sp, 0x7c00
        sti
        mov   di, buf               ; fill the sector with "vsx-undo-write"
        mov   cx, 512 / 16
.fill:  mov   si, pattern
        push  cx
        mov   cx, 16
        rep   movsb
        pop   cx
        loop  .fill
        mov   ax, 0x0301            ; write 1 sector
        mov   cx, 0x0002            ; cylinder 0, sector 2
        xor   dh, dh                ; head 0 (dl = boot drive from the BIOS)
        mov   bx, buf
        int   0x13
        mov   al, 0x22
        jnc   .done
        mov   al, 0x23
.done:  out   0xf4, al
.halt:  hlt
        jmp   .halt
pattern: db "vsx-undo-write!", 10
        times 510 - ($ - $$) db 0
        dw 0xaa55
buf:
