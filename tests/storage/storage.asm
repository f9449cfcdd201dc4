; tests/storage/storage.asm -- the storage controllers on the whole board, as
; a guest sees them without a BIOS: IDE PIO and bus-master DMA through the
; PCI BAR it programs itself, IRQ 14/15 through the 8259A pair, an ATAPI
; packet sequence on the secondary channel, and a floppy READ DATA through
; the 8237 channel 2 with IRQ 6.  Run by tests/suites/75-storage.sh with
; pattern images (the first dword of each sector is its own number) on
; --hda, --cdrom and --fda.  Built with the runtime of tests/guest/.
%include "lib.inc"

IRQ6_COUNT      equ user_vars + 0x00
IRQ14_COUNT     equ user_vars + 0x04
IRQ15_COUNT     equ user_vars + 0x08
PRD_TABLE       equ 0x7000
DMA_BUF         equ 0x200000
CD_BUF          equ 0x210000
FD_BUF          equ 0x30000
BM_BASE         equ 0xC000

test_main:
        call apic_virtual_wire
        call pic_init
        sti
        call ide_identify
        call ide_pio_read
        call ide_bmdma_read
        call atapi_sequence
        call floppy_read
        cli
        ret

; ---- PIC interrupts reach the CPU only in virtual-wire mode when a local
; APIC is present (MP spec 3.6.2.2). ----
apic_virtual_wire:
        mov eax, 1
        cpuid
        test edx, 1 << 9
        jz .none
        or dword [0xFEE000F0], 0x100
        mov dword [0xFEE00350], 0x700
        mov dword [0xFEE00360], 0x400
.none:  ret

; ---- 8259A: vectors 0x20/0x28; IRQ 6, 14, 15 and the cascade unmasked ----
pic_init:
        mov al, 0x11
        out 0x20, al
        out 0xA0, al
        mov al, 0x20
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 0x04
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01
        out 0x21, al
        out 0xA1, al
        mov eax, 0x26
        mov ebx, irq6_handler
        call .gate
        mov eax, 0x2E
        mov ebx, irq14_handler
        call .gate
        mov eax, 0x2F
        mov ebx, irq15_handler
        call .gate
        mov al, 0xBB                    ; IR2 (cascade) and IR6 (floppy)
        out 0x21, al
        mov al, 0x3F                    ; IR6/IR7 of the slave: IRQ 14, 15
        out 0xA1, al
        ret
.gate:  mov cx, SEL_CODE0
        mov dl, 0x8E
        jmp set_gate

irq6_handler:
        inc dword [IRQ6_COUNT]
        jmp eoi_master
irq14_handler:
        inc dword [IRQ14_COUNT]
        jmp eoi_slave
irq15_handler:
        inc dword [IRQ15_COUNT]
eoi_slave:
        push eax
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop eax
        iretd
eoi_master:
        push eax
        mov al, 0x20
        out 0x20, al
        pop eax
        iretd

; wait_irq: waits until the dword at EBX differs from EAX (bounded).
wait_irq:
        mov ecx, 200000
.w:     cmp [ebx], eax
        jne .done
        loop .w
        mov esi, msg_no_irq
        jmp fail
.done:  ret
msg_no_irq: db "expected interrupt never arrived", 0

; ---- IDE primary master: IDENTIFY DEVICE, with IRQ 14 ----
ide_identify:
        mov dx, 0x1F6
        mov al, 0xA0
        out dx, al
        mov eax, [IRQ14_COUNT]
        mov dx, 0x1F7
        push eax
        mov al, 0xEC
        out dx, al
        pop eax
        mov ebx, IRQ14_COUNT
        call wait_irq
        mov dx, 0x1F7
        in al, dx
        and eax, 0x89
        CHECK_EQ eax, 0x08, "IDENTIFY: status not DRQ"
        mov edi, DMA_BUF
        mov ecx, 256
        mov dx, 0x1F0
        rep insw
        movzx eax, word [DMA_BUF + 27 * 2]
        CHECK_EQ eax, 0x5653, "IDENTIFY: model does not start with VS"
        movzx eax, word [DMA_BUF + 60 * 2]
        CHECK_EQ eax, 2048, "IDENTIFY: LBA28 capacity (1 MiB disk)"
        mov dx, 0x1F7
        in al, dx
        and eax, 0xFF
        CHECK_EQ eax, 0x50, "IDENTIFY: status after the data"
        ret

; ---- PIO READ SECTORS of LBA 5 with 32-bit data reads ----
ide_pio_read:
        mov dx, 0x1F2
        mov al, 1
        out dx, al
        inc dx
        mov al, 5
        out dx, al
        inc dx
        xor al, al
        out dx, al
        inc dx
        out dx, al
        inc dx
        mov al, 0xE0
        out dx, al
        mov eax, [IRQ14_COUNT]
        push eax
        inc dx
        mov al, 0x20
        out dx, al
        pop eax
        mov ebx, IRQ14_COUNT
        call wait_irq
        mov dx, 0x1F7
        in al, dx
        mov edi, DMA_BUF
        mov ecx, 128
        mov dx, 0x1F0
        rep insd
        CHECK_EQ dword [DMA_BUF], 5, "PIO read: wrong sector"
        ret

; ---- PCI 00:01.1: BAR4 = BM_BASE, I/O + bus master; READ DMA of LBA 9-10 ----
pci_cfg_addr:                           ; AL = register
        push eax
        and eax, 0xFC
        or eax, 0x80000000 | (9 << 8)
        mov dx, 0xCF8
        out dx, eax
        pop eax
        mov dx, 0xCFC
        ret

ide_bmdma_read:
        mov al, 0x00
        call pci_cfg_addr
        in eax, dx
        CHECK_EQ eax, 0x70108086, "PCI 00:01.1 is not the PIIX3 IDE"
        mov al, 0x20
        call pci_cfg_addr
        mov eax, BM_BASE | 1
        out dx, eax
        mov al, 0x04
        call pci_cfg_addr
        mov eax, 0x0005
        out dx, eax
        ; two PRDs: 512 bytes each, at DMA_BUF and DMA_BUF + 0x1000
        mov dword [PRD_TABLE], DMA_BUF
        mov dword [PRD_TABLE + 4], 512
        mov dword [PRD_TABLE + 8], DMA_BUF + 0x1000
        mov dword [PRD_TABLE + 12], 0x80000000 | 512
        mov dx, BM_BASE + 4
        mov eax, PRD_TABLE
        out dx, eax
        mov dx, BM_BASE + 2
        mov al, 0x06
        out dx, al
        mov dx, 0x1F2
        mov al, 2
        out dx, al
        inc dx
        mov al, 9
        out dx, al
        mov dx, 0x1F6
        mov al, 0xE0
        out dx, al
        mov dx, 0x1F7
        mov al, 0xC8
        out dx, al
        mov eax, [IRQ14_COUNT]
        push eax
        mov dx, BM_BASE
        mov al, 0x09                    ; start, device to memory
        out dx, al
        pop eax
        mov ebx, IRQ14_COUNT
        call wait_irq
        mov dx, BM_BASE + 2
        in al, dx
        and eax, 0x07
        CHECK_EQ eax, 0x04, "BMDMA: status not interrupt/inactive"
        mov dx, BM_BASE
        xor al, al
        out dx, al
        mov dx, 0x1F7
        in al, dx
        and eax, 0xFF
        CHECK_EQ eax, 0x50, "READ DMA: drive status"
        CHECK_EQ dword [DMA_BUF], 9, "READ DMA: first PRD"
        CHECK_EQ dword [DMA_BUF + 0x1000], 10, "READ DMA: second PRD"
        ret

; ---- ATAPI on the secondary master ----
; atapi_packet: ESI = 12-byte packet, EDI = buffer.  Returns EAX = bytes
; received, BL = final status, BH = error.
atapi_packet:
        push esi
        mov dx, 0x176
        mov al, 0xA0
        out dx, al
        mov dx, 0x171
        xor al, al
        out dx, al
        mov dx, 0x174
        mov al, 0x00
        out dx, al
        inc dx
        mov al, 0x08                    ; byte count limit 2048
        out dx, al
        mov dx, 0x177
        mov al, 0xA0
        out dx, al
        in al, dx
        test al, 0x08
        FAIL_IF z, "PACKET: no DRQ for the command packet"
        pop esi
        mov ecx, 6
        mov dx, 0x170
        rep outsw
        xor ebp, ebp
.chunk: mov dx, 0x177
        in al, dx
        test al, 0x08
        jz .done
        mov dx, 0x174
        in al, dx
        movzx ecx, al
        inc dx
        in al, dx
        mov ch, al
        add ebp, ecx
        shr ecx, 1
        mov dx, 0x170
        rep insw
        jmp .chunk
.done:  mov bl, al
        mov dx, 0x171
        in al, dx
        mov bh, al
        mov eax, ebp
        ret

atapi_sequence:
        mov eax, [IRQ15_COUNT]
        push eax
        mov esi, pkt_tur
        mov edi, CD_BUF
        call atapi_packet
        movzx eax, bh
        shr eax, 4
        CHECK_EQ eax, 6, "TEST UNIT READY after power-on: no UNIT ATTENTION"
        pop eax
        mov ebx, IRQ15_COUNT            ; the failed command interrupted
        call wait_irq
        mov esi, pkt_sense
        mov edi, CD_BUF
        call atapi_packet
        CHECK_EQ eax, 18, "REQUEST SENSE length"
        movzx eax, byte [CD_BUF + 2]
        CHECK_EQ eax, 6, "REQUEST SENSE: sense key"
        mov esi, pkt_read
        mov edi, CD_BUF
        call atapi_packet
        CHECK_EQ eax, 2048, "READ(10) length"
        CHECK_EQ dword [CD_BUF], 3, "READ(10): wrong block"
        movzx eax, bl
        and eax, 0xC9
        CHECK_EQ eax, 0x40, "READ(10): final status"
        ret

pkt_tur:   db 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
pkt_sense: db 0x03, 0, 0, 0, 18, 0, 0, 0, 0, 0, 0, 0
pkt_read:  db 0x28, 0, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0

; ---- floppy: reset, recalibrate, seek, READ DATA of C1 H0 R1 by DMA ----
fdc_out:                                ; AL = byte for the FIFO
        push eax
        mov ecx, 100000
.w:     mov dx, 0x3F4
        in al, dx
        and al, 0xC0
        cmp al, 0x80
        je .ok
        loop .w
        mov esi, msg_fdc_rqm
        jmp fail
.ok:    pop eax
        mov dx, 0x3F5
        out dx, al
        ret
msg_fdc_rqm: db "FDC never ready for a command byte", 0

fdc_in:                                 ; returns AL = result byte
        mov ecx, 100000
.w:     mov dx, 0x3F4
        in al, dx
        and al, 0xC0
        cmp al, 0xC0
        je .ok
        loop .w
        mov esi, msg_fdc_res
        jmp fail
.ok:    mov dx, 0x3F5
        in al, dx
        ret
msg_fdc_res: db "FDC has no result byte", 0

fdc_sense_int:                          ; returns EAX = ST0 | PCN << 8
        mov al, 0x08
        call fdc_out
        call fdc_in
        movzx ebx, al
        call fdc_in
        movzx eax, al
        shl eax, 8
        or eax, ebx
        ret

floppy_read:
        mov eax, [IRQ6_COUNT]
        push eax
        mov dx, 0x3F2
        xor al, al
        out dx, al
        mov al, 0x1C                    ; motor A, DMA/IRQ gate, out of reset
        out dx, al
        pop eax
        mov ebx, IRQ6_COUNT
        call wait_irq
        call fdc_sense_int
        CHECK_EQ eax, 0xC0, "FDC reset: first SENSE INTERRUPT"
        call fdc_sense_int
        call fdc_sense_int
        call fdc_sense_int
        CHECK_EQ eax, 0xC3, "FDC reset: fourth SENSE INTERRUPT"
        mov dx, 0x3F7
        mov al, 0x00                    ; 500 kb/s
        out dx, al
        mov al, 0x03                    ; SPECIFY, DMA mode
        call fdc_out
        mov al, 0xDF
        call fdc_out
        mov al, 0x02
        call fdc_out
        mov eax, [IRQ6_COUNT]
        push eax
        mov al, 0x0F                    ; SEEK drive 0 to cylinder 1
        call fdc_out
        mov al, 0x00
        call fdc_out
        mov al, 0x01
        call fdc_out
        pop eax
        mov ebx, IRQ6_COUNT
        call wait_irq
        call fdc_sense_int
        CHECK_EQ eax, 0x0120, "FDC SEEK: ST0/PCN"
        ; 8237: channel 4 cascade, channel 2 single/increment/write to memory
        mov al, 0xC0
        out 0xD6, al
        xor al, al
        out 0xD4, al
        mov al, 0x06
        out 0x0A, al
        out 0x0C, al
        mov al, 0x46
        out 0x0B, al
        mov al, FD_BUF & 0xFF
        out 0x04, al
        mov al, (FD_BUF >> 8) & 0xFF
        out 0x04, al
        mov al, FD_BUF >> 16
        out 0x81, al
        out 0x0C, al
        mov al, 0xFF                    ; 512 bytes: count 511
        out 0x05, al
        mov al, 0x01
        out 0x05, al
        mov al, 0x02
        out 0x0A, al
        mov eax, [IRQ6_COUNT]
        push eax
        mov esi, fd_read_cmd
        mov edi, 9
.cmd:   lodsb
        push esi
        call fdc_out
        pop esi
        dec edi
        jnz .cmd
        pop eax
        mov ebx, IRQ6_COUNT
        call wait_irq
        call fdc_in
        movzx eax, al
        CHECK_EQ eax, 0x00, "READ DATA: ST0"
        call fdc_in
        call fdc_in
        call fdc_in
        call fdc_in
        call fdc_in
        movzx eax, al
        CHECK_EQ eax, 2, "READ DATA: R after the transfer"
        call fdc_in
        CHECK_EQ dword [FD_BUF], 36, "READ DATA: wrong sector in memory"
        ret

fd_read_cmd: db 0xE6, 0x00, 1, 0, 1, 2, 18, 0x1B, 0xFF

%include "lib_end.inc"
