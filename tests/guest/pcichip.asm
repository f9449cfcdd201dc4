; pcichip: the i440FX/PIIX chipset as firmware sees it -- PCI configuration
; mechanism #1 (PCI 2.1 §3.2.2.3.2: dword CONFADD at 0xCF8, byte/word/dword
; data at 0xCFC-0xCFF), the function IDs of an i440FX + PIIX3 + PIIX4-PM
; board, PIIX3 PIRQ route registers, PAM shadowing of the BIOS segment the
; way SeaBIOS does it (82441FX §3.2.18), the PIIX4 PM timer (82371AB §7.2)
; and fw_cfg through its port and DMA interfaces (QEMU docs/specs/fw_cfg).
; Valid on QEMU -M pc as well.
%include "lib.inc"

DESC     equ SCRATCH                ; fw_cfg DMA descriptor
DMABUF   equ SCRATCH + 0x100

; cfg_read: EAX = CONFADD value -> EAX = dword at 0xCFC
cfg_read:
        push edx
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        in eax, dx
        pop edx
        ret

; cfg_write: EAX = CONFADD value, EBX = dword to write
cfg_write:
        push edx
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFC
        mov eax, ebx
        out dx, eax
        pop edx
        ret

; pam0: AL = new PAM0 value (byte 0x59 of 00:00.0)
pam0:
        push edx
        push eax
        mov eax, 0x80000058
        mov dx, 0xCF8
        out dx, eax
        pop eax
        mov dx, 0xCFD
        out dx, al
        pop edx
        ret

; pam_shadow: runs at its alias below 4 GiB (the whole 64 KiB image is
; mapped at 0xFFFF0000), so switching F0000-FFFFF to empty RAM cannot pull the
; code from under it.
pam_shadow:
        mov eax, 0x80000058
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFD
        mov al, 0x30                ; PAM0: reads and writes go to RAM
        out dx, al
        mov esi, 0xFFFF0000
        mov edi, 0xF0000
        mov ecx, 0x4000
        rep movsd
        ret

test_main:
        ; ---- function IDs and absent functions
        mov eax, 0x80000000
        call cfg_read
        CHECK_EQ eax, 0x12378086, "00:00.0 is not an i440FX"
        mov eax, 0x80000800
        call cfg_read
        CHECK_EQ eax, 0x70008086, "00:01.0 is not a PIIX3"
        mov eax, 0x80000B00
        call cfg_read
        CHECK_EQ eax, 0x71138086, "00:01.3 is not the PIIX4 PM function"
        mov eax, 0x8000F800
        call cfg_read
        CHECK_EQ eax, 0xFFFFFFFF, "absent 00:1f.0 does not read all-ones"
        mov eax, 0x80010000
        call cfg_read
        CHECK_EQ eax, 0xFFFFFFFF, "bus 1 does not read all-ones"

        ; ---- CONFADD reads back; byte and word data accesses at any offset
        mov eax, 0x8000080C
        mov dx, 0xCF8
        out dx, eax
        in eax, dx
        CHECK_EQ eax, 0x8000080C, "CONFADD does not read back"
        mov dx, 0xCFE
        in al, dx
        movzx eax, al
        CHECK_EQ eax, 0x80, "PIIX3 header type is not multi-function"
        mov eax, 0x80000000
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFE
        in ax, dx
        movzx eax, ax
        CHECK_EQ eax, 0x1237, "word read at 0xCFE"
        mov dx, 0xCFD
        in al, dx
        movzx eax, al
        CHECK_EQ eax, 0x80, "byte read at 0xCFD"

        ; ---- PIRQ route control: reset 80h each; PIRQA written by byte
        mov eax, 0x80000860
        call cfg_read
        CHECK_EQ eax, 0x80808080, "PIRQRC reset value"
        mov dx, 0xCFC
        mov al, 0x0B
        out dx, al
        mov eax, 0x80000860
        call cfg_read
        CHECK_EQ eax, 0x8080800B, "PIRQA byte write"
        mov eax, 0x80000860
        mov ebx, 0x80808080
        call cfg_write

        ; ---- PAM0: shadow the BIOS as SeaBIOS does -- from code running in
        ; the alias below 4 GiB, enable RAM and copy the image down (QEMU's
        ; PAM does not send writes to RAM in the write-only mode 20h, so
        ; that mode is left to the unit tests)
        call pam_shadow + 0xFFF00000
        CHECK_EQ [pam_cell], 0x11223344, "shadow copy differs from ROM"
        mov dword [pam_cell], 0xA5A5A5A5
        CHECK_EQ [pam_cell], 0xA5A5A5A5, "PAM0=30h: shadow RAM not writable"
        mov al, 0x10                ; read RAM, writes dropped
        call pam0
        mov dword [pam_cell], 0x5A5A5A5A
        CHECK_EQ [pam_cell], 0xA5A5A5A5, "PAM0=10h: a write reached shadow RAM"
        mov al, 0x00                ; everything to the ROM side
        call pam0
        CHECK_EQ [pam_cell], 0x11223344, "PAM0=00h: ROM not visible"
        mov al, 0x10
        call pam0
        CHECK_EQ [pam_cell], 0xA5A5A5A5, "PAM0=10h: shadow RAM lost its contents"
        mov al, 0x00
        call pam0

        ; ---- PAM1 = 33h: C0000-C7FFF is read/write RAM
        mov eax, 0x80000058
        mov dx, 0xCF8
        out dx, eax
        mov dx, 0xCFE
        mov al, 0x33
        out dx, al
        mov dword [0xC0000], 0x12345678
        mov dword [0xC7FFC], 0x9ABCDEF0
        CHECK_EQ [0xC0000], 0x12345678, "PAM1 low segment not RAM"
        CHECK_EQ [0xC7FFC], 0x9ABCDEF0, "PAM1 high segment not RAM"
        mov eax, 0x80000058
        call cfg_read
        shr eax, 16
        and eax, 0xFF
        CHECK_EQ eax, 0x33, "PAM1 does not read back"

        ; ---- PM timer: PMBA = 600h, PMIOSE on; 24 bits, and it runs
        mov eax, 0x80000B40
        mov ebx, 0x601
        call cfg_write
        mov eax, 0x80000B40
        call cfg_read
        CHECK_EQ eax, 0x601, "PMBA does not read back"
        mov eax, 0x80000B80
        mov ebx, 1
        call cfg_write
        mov dx, 0x608
        in eax, dx
        mov ebx, eax
        shr eax, 24
        CHECK_EQ eax, 0, "PM timer is wider than 24 bits"
        mov ecx, 1000000
.tick:  in eax, dx
        cmp eax, ebx
        jne .ticked
        dec ecx
        jnz .tick
        mov esi, msg_timer
        jmp fail
.ticked:

        ; ---- fw_cfg through the ports: signature and feature bits
        mov dx, 0x510
        xor eax, eax
        out dx, ax
        mov dx, 0x511
        mov ecx, 4
.sig:   in al, dx
        ror eax, 8
        loop .sig
        CHECK_EQ eax, 0x554D4551, "fw_cfg signature is not QEMU"
        mov dx, 0x510
        mov ax, 1
        out dx, ax
        mov dx, 0x511
        in al, dx
        and eax, 3
        CHECK_EQ eax, 3, "fw_cfg does not offer DMA"
        mov dx, 0x514
        in eax, dx
        CHECK_EQ eax, 0x554D4551, "fw_cfg DMA register signature"

        ; ---- fw_cfg DMA: select key 0 and read 4 bytes to DMABUF
        mov dword [DMABUF], 0
        mov dword [DESC], 0x0A000000     ; be32 control: select 0 | read
        mov dword [DESC + 4], 0x04000000 ; be32 length 4
        mov dword [DESC + 8], 0          ; be64 address, high half
        mov eax, DMABUF
        bswap eax
        mov [DESC + 12], eax
        mov dx, 0x514
        xor eax, eax
        out dx, eax
        mov dx, 0x518
        mov eax, DESC
        bswap eax
        out dx, eax
        CHECK_EQ [DESC], 0, "fw_cfg DMA control not cleared"
        CHECK_EQ [DMABUF], 0x554D4551, "fw_cfg DMA did not deliver the signature"
        ret

msg_timer: db "PM timer does not advance", 0
        align 4
pam_cell: dd 0x11223344

%include "lib_end.inc"
