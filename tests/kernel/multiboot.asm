; tests/kernel/multiboot.asm -- a Multiboot v1 kernel (a.out kludge) for the
; direct-boot test: it checks the boot magic, then reports on the debug
; console (port 0xE9) what the Multiboot information says -- upper memory in
; KiB, the memory map entry count, the command line, and the first bytes of
; its module -- and exits through port 0xF4 with 0x2A (status 85).
        bits    32
        org     0x100000
MB_MAGIC        equ 0x1BADB002
MB_FLAGS        equ 0x00010003          ; page-aligned modules, memory info, a.out kludge
header: dd      MB_MAGIC
        dd      MB_FLAGS
        dd      -(MB_MAGIC + MB_FLAGS)
        dd      header                  ; header_addr
        dd      0x100000                ; load_addr
        dd      data_end                ; load_end_addr
        dd      bss_end                 ; bss_end_addr
        dd      start                   ; entry_addr

start:  mov     esp, stack_top
        cmp     eax, 0x2BADB002
        jne     fail
        mov     ebp, ebx                ; the Multiboot information
        mov     esi, msg_magic
        call    puts
        mov     eax, [ebp + 8]          ; mem_upper (KiB)
        call    puthex
        mov     esi, msg_mmap
        call    puts
        mov     eax, [ebp + 44]         ; mmap_length / 24 = entries
        xor     edx, edx
        mov     ecx, 24
        div     ecx
        call    puthex
        mov     esi, msg_cmdline
        call    puts
        mov     esi, [ebp + 16]
        call    puts
        mov     esi, msg_mods
        call    puts
        mov     eax, [ebp + 20]         ; mods_count
        call    puthex
        test    dword [ebp], 8
        jz      .done
        cmp     dword [ebp + 20], 0
        je      .done
        mov     esi, msg_mod
        call    puts
        mov     edi, [ebp + 24]
        mov     esi, [edi]              ; mod_start: print its first 8 bytes
        mov     ecx, 8
.byte:  lodsb
        out     0xe9, al
        loop    .byte
.done:  mov     al, 10
        out     0xe9, al
        mov     al, 0x2a
        out     0xf4, al
fail:   cli
        hlt
        jmp     fail

puts:   lodsb
        test    al, al
        jz      .ret
        out     0xe9, al
        jmp     puts
.ret:   ret

puthex: mov     ecx, 8
.nib:   rol     eax, 4
        push    eax
        and     al, 15
        add     al, '0'
        cmp     al, '9'
        jbe     .dig
        add     al, 7
.dig:   out     0xe9, al
        pop     eax
        loop    .nib
        ret

msg_magic:      db 'multiboot magic ok, mem_upper=', 0
msg_mmap:       db ' mmap=', 0
msg_cmdline:    db ' cmdline=', 0
msg_mods:       db ' mods=', 0
msg_mod:        db ' module=', 0
data_end:
bss_end equ data_end + 64              ; a small bss, zeroed by the loader
stack_top equ 0x180000                  ; free RAM above the image
