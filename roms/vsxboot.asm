; roms/vsxboot.asm -- vsx's direct-kernel-boot option ROM (NASM, 16-bit).
;
; The board (chipset/kernel.c) prepares the boot images in fw_cfg using the
; standard item keys, and lists this ROM as "genroms/vsxboot.bin" first in the
; boot order.  SeaBIOS runs its (empty) init at POST and, when it boots, calls
; the PnP bootstrap entry vector (BEV) below, which:
;   1. copies the four blobs -- setup, kernel, initrd, command line -- to their
;      guest-physical addresses with the fw_cfg DMA interface (item keys:
;      ADDR/SIZE/DATA = 16h/17h/18h, 07h/08h/11h, 0Ah/0Bh/12h, 13h/14h/15h);
;   2. if KERNEL_ENTRY (10h) is 0: enters a Linux real-mode setup (x86 boot
;      protocol): DS=ES=FS=GS=SS = setup segment, SP = E000h, jump to
;      setup segment + 20h : 0;
;   3. otherwise boots a Multiboot v1 kernel: fills the memory map of the
;      Multiboot information (prepared by the board, at the setup blob's
;      address) from INT 15h E820 and INT 12h, enables A20, enters flat 32-bit
;      protected mode and jumps to the entry with EAX = 2BADB002h, EBX = MBI.
; The board fixes up the PnP header and ROM checksums when it installs it.

        bits    16
        org     0

FWCFG_SEL       equ 0x510
FWCFG_DATA      equ 0x511
FWCFG_DMA_HI    equ 0x514
FWCFG_DMA_LO    equ 0x518
DMA_CTL_ERROR   equ 0x01
DMA_CTL_READ    equ 0x02
DMA_CTL_SELECT  equ 0x08
MBI_MEM_LOWER   equ 4
MBI_MEM_UPPER   equ 8
MBI_MMAP_LENGTH equ 44
MBI_MMAP_ADDR   equ 48
MMAP_MAX        equ 64              ; entries

rom_start:
        db      0x55, 0xaa
        db      rom_blocks          ; size in 512-byte blocks
        jmp     init                ; offset 3: initialisation entry
        times   0x1a - ($ - $$) db 0
        dw      pnp                 ; offset 1Ah: PnP expansion header

        align   16
pnp:    db      '$PnP'
        db      1                   ; structure revision
        db      2                   ; length in 16-byte units
        dw      0                   ; next header
        db      0                   ; reserved
        db      0                   ; checksum (the board fills it in)
        dd      0                   ; device identifier
        dw      manufacturer
        dw      product
        db      0, 0, 0             ; device type code
        db      0x14                ; indicators: IPL device, may be shadowed
        dw      0                   ; boot connection vector
        dw      0                   ; disconnect vector
        dw      bev                 ; bootstrap entry vector
        dw      0                   ; reserved
        dw      0                   ; static resource information vector

manufacturer:   db 'vsx', 0
product:        db 'vsx direct kernel boot', 0

init:   retf

; ------------------------------------------------------------------------
; fw_cfg helpers
; ------------------------------------------------------------------------

; ax = item key -> eax = little-endian dword of its first 4 bytes
fwcfg_read32:
        push    dx
        push    cx
        mov     dx, FWCFG_SEL
        out     dx, ax
        mov     dx, FWCFG_DATA
        mov     cx, 4
.byte:  in      al, dx
        ror     eax, 8
        loop    .byte
        pop     cx
        pop     dx
        ret

; ax = data item key, ebx = destination (physical), ecx = length.
; Uses a FWCfgDmaAccess {be32 control, be32 length, be64 address} on the
; stack.  Returns CF set on a DMA error.
fwcfg_dma_read:
        push    bp
        sub     sp, 16
        mov     bp, sp
        movzx   eax, ax
        shl     eax, 16
        or      eax, DMA_CTL_SELECT | DMA_CTL_READ
        bswap   eax
        mov     [bp + 0], eax
        mov     eax, ecx
        bswap   eax
        mov     [bp + 4], eax
        mov     dword [bp + 8], 0
        mov     eax, ebx
        bswap   eax
        mov     [bp + 12], eax
        movzx   eax, sp             ; physical address of the descriptor
        xor     edx, edx
        mov     dx, ss
        shl     edx, 4
        add     eax, edx
        bswap   eax
        push    eax
        xor     eax, eax
        mov     dx, FWCFG_DMA_HI
        out     dx, eax
        pop     eax
        mov     dx, FWCFG_DMA_LO
        out     dx, eax             ; starts the transfer
.wait:  mov     eax, [bp + 0]
        bswap   eax
        test    eax, DMA_CTL_ERROR
        jnz     .fail
        test    eax, eax
        jnz     .wait
        add     sp, 16
        pop     bp
        clc
        ret
.fail:  add     sp, 16
        pop     bp
        stc
        ret

; si -> table entry {addr key, size key, data key}: copies one blob.
load_blob:
        mov     ax, [cs:si + 2]
        call    fwcfg_read32
        mov     ecx, eax
        jecxz   .none
        mov     ax, [cs:si]
        call    fwcfg_read32
        mov     ebx, eax
        mov     ax, [cs:si + 4]
        call    fwcfg_dma_read
        jc      fail
.none:  ret

blobs:  dw      0x16, 0x17, 0x18    ; setup / Multiboot information
        dw      0x07, 0x08, 0x11    ; kernel
        dw      0x0a, 0x0b, 0x12    ; initrd / modules
        dw      0x13, 0x14, 0x15    ; command line
blobs_end:

; ------------------------------------------------------------------------
; bootstrap entry
; ------------------------------------------------------------------------
bev:
        cli
        cld
        xor     ax, ax
        mov     ss, ax
        mov     sp, 0x7000
        sti
        mov     si, blobs
.next:  call    load_blob
        add     si, 6
        cmp     si, blobs_end
        jb      .next
        mov     ax, 0x10            ; KERNEL_ENTRY
        call    fwcfg_read32
        test    eax, eax
        jnz     multiboot

        ; ---- Linux real-mode setup
        mov     ax, 0x16
        call    fwcfg_read32
        shr     eax, 4
        cli
        mov     ds, ax
        mov     es, ax
        mov     fs, ax
        mov     gs, ax
        mov     ss, ax
        mov     sp, 0xe000
        add     ax, 0x20
        push    ax
        push    word 0
        retf

fail:   mov     si, msg_fail
.out:   mov     al, [cs:si]
        test    al, al
        jz      .halt
        mov     ah, 0x0e
        mov     bx, 7
        int     0x10
        inc     si
        jmp     .out
.halt:  cli
        hlt
        jmp     .halt
msg_fail: db 'vsx: direct kernel boot: fw_cfg DMA failed', 13, 10, 0

        ; ---- Multiboot v1
multiboot:
        mov     edi, eax            ; edi = entry
        mov     ax, 0x16
        call    fwcfg_read32
        mov     esi, eax            ; esi = MBI (below 1 MiB)
        shr     eax, 4
        mov     fs, ax              ; fs:0 = MBI
        int     0x12                ; conventional memory in KiB
        movzx   eax, ax
        mov     [fs:MBI_MEM_LOWER], eax
        ; memory map: entries {u32 size=20, u64 base, u64 len, u32 type}
        mov     eax, [fs:MBI_MMAP_ADDR]
        mov     ebp, eax
        shr     eax, 4
        mov     es, ax
        and     bp, 0x0f            ; es:bp -> first entry
        push    edi
        xor     ebx, ebx
        xor     cx, cx              ; entries so far
.e820:  lea     di, [bp + 4]
        push    cx
        mov     eax, 0xe820
        mov     ecx, 20
        mov     edx, 0x534d4150     ; 'SMAP'
        int     0x15
        pop     cx
        jc      .done
        cmp     eax, 0x534d4150
        jne     .done
        mov     dword [es:bp], 20
        ; mem_upper: KiB of the RAM range starting at 1 MiB
        cmp     dword [es:bp + 4], 0x100000
        jne     .skip
        cmp     dword [es:bp + 8], 0
        jne     .skip
        cmp     dword [es:bp + 20], 1
        jne     .skip
        mov     eax, [es:bp + 12]
        shr     eax, 10
        mov     [fs:MBI_MEM_UPPER], eax
.skip:  add     bp, 24
        inc     cx
        cmp     cx, MMAP_MAX
        jae     .done
        test    ebx, ebx
        jnz     .e820
.done:  movzx   eax, cx
        imul    eax, 24
        mov     [fs:MBI_MMAP_LENGTH], eax
        pop     edi
        ; A20 on (port 92h), then flat protected mode.
        in      al, 0x92
        or      al, 2
        and     al, 0xfe
        out     0x92, al
        cli
        xor     eax, eax
        mov     ax, cs
        shl     eax, 4              ; eax = linear address of this ROM
        mov     ebx, eax
        add     eax, gdt
        sub     sp, 8
        mov     bp, sp
        mov     word [bp], gdt_end - gdt - 1
        mov     [bp + 2], eax
        lgdt    [ss:bp]
        add     sp, 8
        lea     eax, [ebx + pm32]   ; far jump target
        push    dword 0x08
        push    eax
        mov     eax, cr0
        or      al, 1
        mov     cr0, eax
        o32 retf

        bits    32
pm32:   mov     ax, 0x10
        mov     ds, ax
        mov     es, ax
        mov     fs, ax
        mov     gs, ax
        mov     ss, ax
        mov     ebx, esi            ; MBI
        mov     eax, 0x2badb002
        jmp     edi

        align   8
gdt:    dq      0
        dq      0x00cf9a000000ffff  ; 08h: flat 4 GiB code
        dq      0x00cf92000000ffff  ; 10h: flat 4 GiB data
gdt_end:

        align   512, db 0
rom_end:
rom_blocks equ (rom_end - rom_start) / 512
