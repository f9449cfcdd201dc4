; roms/default_vm.asm -- the welcome VM: `vsx` with no arguments boots this
; from a built-in 1.44 MB floppy.  The guest draws everything itself through
; the BIOS: a "vsx" banner, the CPU it finds with CPUID, the memory the BIOS
; reports through INT 15h E820, a sample VM file, and a line that echoes the
; keyboard (INT 16h).
;
; Layout: sector 1 is the boot sector (loaded at 0000:7C00 by the BIOS); it
; reads the following sectors of track 0 to 0000:7E00 with INT 13h and jumps
; there.  Flat binary, assembled with `nasm -f bin`.
        bits 16
        cpu 586                         ; CPUID is used only after checking EFLAGS.ID
        org 0x7C00

STAGE2_SECTORS  equ 16                  ; 8 KiB after the boot sector
ATTR_SCREEN     equ 0x1F                ; bright white on blue
ATTR_BAR        equ 0x70                ; black on grey
ATTR_BANNER     equ 0x1E                ; yellow on blue
ATTR_LABEL      equ 0x1B                ; bright cyan on blue
ATTR_INI        equ 0x17                ; grey on blue
E820_BUF        equ 0x0600              ; 24-byte E820 entry

; ---------------------------------------------------------------- sector 1
boot:
        jmp     0:.start                ; some BIOSes enter at 07C0:0000
.start:
        cli
        xor     ax, ax
        mov     ds, ax
        mov     es, ax
        mov     ss, ax
        mov     sp, 0x7C00
        sti
        cld
        mov     [boot_drive], dl
        mov     di, 3                   ; tries: floppies want a reset and retry
.read:
        mov     ax, 0x0200 | STAGE2_SECTORS
        mov     bx, stage2
        mov     cx, 0x0002              ; cylinder 0, sector 2
        xor     dh, dh                  ; head 0
        mov     dl, [boot_drive]
        int     0x13
        jnc     stage2
        xor     ah, ah                  ; reset the drive and try again
        int     0x13
        dec     di
        jnz     .read
        mov     si, msg_disk_error
.say:   lodsb                           ; teletype output: works in any mode
        test    al, al
        jz      .halt
        mov     ah, 0x0E
        mov     bx, 0x0007
        int     0x10
        jmp     .say
.halt:  hlt
        jmp     .halt

boot_drive      db 0
msg_disk_error  db "vsx welcome: cannot read the floppy", 13, 10, 0

        times 510 - ($ - $$) db 0
        dw      0xAA55

; ---------------------------------------------------------------- stage 2
stage2:
        mov     ax, 0x0003              ; 80x25 colour text, clears the screen
        int     0x10
        mov     ax, 0x1003              ; attribute bit 7: bright background,
        xor     bx, bx                  ; not blinking
        int     0x10
        call    draw_background
        call    draw_banner
        call    show_cpu
        call    show_memory
        call    show_ini
        call    keyboard_loop           ; never returns

; Fills the screen: blue body, grey title and status bars.
draw_background:
        mov     ax, 0x0600              ; scroll up "all": clear a window
        mov     bh, ATTR_SCREEN
        xor     cx, cx
        mov     dx, 0x184F
        int     0x10
        mov     ax, 0x0600
        mov     bh, ATTR_BAR
        xor     cx, cx
        mov     dx, 0x004F
        int     0x10
        mov     ax, 0x0600
        mov     bh, ATTR_BAR
        mov     cx, 0x1800
        mov     dx, 0x184F
        int     0x10
        mov     dx, 0x0002
        mov     bl, ATTR_BAR
        mov     si, str_title
        call    print_at
        mov     dx, 0x1802
        mov     bl, ATTR_BAR
        mov     si, str_status
        jmp     print_at

draw_banner:
        mov     si, banner
        mov     dx, 0x0204              ; row 2, column 4
.line:  cmp     byte [si], 0
        je      .done
        mov     bl, ATTR_BANNER
        push    dx
        call    print_at                ; si now past this line's NUL
        pop     dx
        inc     dh
        jmp     .line
.done:  mov     dx, 0x0422
        mov     bl, ATTR_SCREEN
        mov     si, str_tagline
        jmp     print_at

; ---- CPU: vendor (leaf 0) and brand string (leaves 0x80000002-4)
show_cpu:
        mov     dx, 0x0804
        mov     bl, ATTR_LABEL
        mov     si, str_cpu
        call    print_at
        call    have_cpuid
        jnc     .cpuid
        mov     si, str_no_cpuid
        mov     dx, 0x080E
        jmp     .print
.cpuid: xor     eax, eax
        cpuid
        mov     [max_leaf], eax
        mov     [vendor], ebx
        mov     [vendor + 4], edx
        mov     [vendor + 8], ecx
        mov     si, vendor
        mov     dx, 0x080E
        mov     bl, ATTR_SCREEN
        call    print_at
        cmp     dword [max_leaf], 1
        jb      .ext
        call    show_signature
.ext:   mov     eax, 0x80000000
        cpuid
        cmp     eax, 0x80000004
        jb      .ret
        mov     di, brand
        mov     eax, 0x80000002
.leaf:  push    eax
        cpuid
        mov     [di], eax
        mov     [di + 4], ebx
        mov     [di + 8], ecx
        mov     [di + 12], edx
        add     di, 16
        pop     eax
        inc     eax
        cmp     eax, 0x80000004
        jbe     .leaf
        mov     si, brand
.skip:  cmp     byte [si], ' '          ; brand strings may be right-aligned
        jne     .brand
        inc     si
        jmp     .skip
.brand: mov     dx, 0x090E
.print: mov     bl, ATTR_SCREEN
        call    print_at
.ret:   ret

; After the vendor: ", family F, model M, stepping S" from CPUID leaf 1,
; and on the next free row the features a user might ask about.
show_signature:
        mov     eax, 1
        cpuid
        mov     [signature], eax
        mov     [features], edx
        mov     si, str_family
        call    print_here
        mov     cl, 8
        call    print_sig_field
        mov     si, str_model
        call    print_here
        mov     cl, 4
        call    print_sig_field
        mov     si, str_stepping
        call    print_here
        mov     cl, 0
        call    print_sig_field
        mov     dx, 0x0A0E
        mov     bl, ATTR_INI
        mov     si, str_features
        call    print_at
        mov     si, feature_names
.next:  lodsb                           ; EDX bit number, then its name
        cmp     al, 0xFF
        je      .done
        movzx   ecx, al
        mov     eax, [features]
        bt      eax, ecx
        jnc     .skip
        call    print_here
        jmp     .next
.skip:  lodsb
        test    al, al
        jnz     .skip
        jmp     .next
.done:  ret

; prints (signature >> CL) & 15 in decimal at the saved position
print_sig_field:
        mov     eax, [signature]
        shr     eax, cl
        and     eax, 15
        mov     di, numbuf
        call    utoa
        mov     si, numbuf
        jmp     print_here

; CF clear when EFLAGS.ID (bit 21) can be toggled, i.e. CPUID exists.
have_cpuid:
        pushfd
        pop     eax
        mov     ecx, eax
        xor     eax, 1 << 21
        push    eax
        popfd
        pushfd
        pop     eax
        push    ecx
        popfd
        xor     eax, ecx
        test    eax, 1 << 21
        jz      .no
        clc
        ret
.no:    stc
        ret

; ---- memory: sum of E820 type-1 (usable) ranges, in KiB
show_memory:
        mov     dx, 0x0B04
        mov     bl, ATTR_LABEL
        mov     si, str_memory
        call    print_at
        xor     ebx, ebx
        mov     [mem_kib], ebx
        mov     [e820_count], bx
.next:  mov     eax, 0xE820
        mov     edx, 0x534D4150         ; 'SMAP'
        mov     ecx, 24
        mov     di, E820_BUF
        mov     dword [di + 20], 1      ; ACPI 3 "valid" bit for 20-byte BIOSes
        int     0x15
        jc      .end
        cmp     eax, 0x534D4150
        jne     .end
        inc     word [e820_count]
        cmp     dword [di + 16], 1
        jne     .more
        mov     eax, [di + 8]           ; length, low and high dwords -> KiB
        mov     edx, [di + 12]
        shrd    eax, edx, 10
        shr     edx, 10
        jz      .add
        mov     eax, 0xFFFFFFFF         ; more than 4 TiB: saturate
.add:   add     [mem_kib], eax
        jnc     .more
        mov     dword [mem_kib], 0xFFFFFFFF
.more:  test    ebx, ebx
        jnz     .next
.end:   cmp     word [e820_count], 0
        je      .none
        mov     eax, [mem_kib]
        shr     eax, 10                 ; MiB
        mov     di, numbuf
        call    utoa
        mov     si, numbuf
        mov     dx, 0x0B0E
        mov     bl, ATTR_SCREEN
        call    print_at
        mov     si, str_mib
        call    print_here
        movzx   eax, word [e820_count]
        mov     di, numbuf
        call    utoa
        mov     si, numbuf
        call    print_here
        mov     si, str_ranges
        jmp     print_here
.none:  mov     si, str_no_e820
        mov     dx, 0x0B0E
        mov     bl, ATTR_SCREEN
        jmp     print_at

show_ini:
        mov     dx, 0x0D04
        mov     bl, ATTR_LABEL
        mov     si, str_make_vm
        call    print_at
        mov     si, ini_lines
        mov     dx, 0x0E08
.line:  cmp     byte [si], 0
        je      .done
        mov     bl, ATTR_INI
        push    dx
        call    print_at
        pop     dx
        inc     dh
        jmp     .line
.done:  ret

; ---- keyboard: INT 16h AH=00 waits for a key; printable keys echo at row 22
KEY_ROW         equ 22
KEY_COL0        equ 4
KEY_COLS        equ 56
keyboard_loop:
        mov     dx, (KEY_ROW - 1) << 8 | KEY_COL0
        mov     bl, ATTR_LABEL
        mov     si, str_type
        call    print_at
        xor     bp, bp                  ; characters on the echo line
.show:  mov     ah, 0x02                ; cursor after the last character
        xor     bh, bh
        mov     dx, KEY_ROW << 8 | KEY_COL0
        add     dx, bp
        int     0x10
        xor     ah, ah
        int     0x16                    ; AH scan code, AL ASCII
        push    ax
        call    show_key_code
        pop     ax
        cmp     al, 0x1B                ; Esc or Enter clear the line
        je      .clear
        cmp     al, 0x0D
        je      .clear
        cmp     al, 0x08
        je      .back
        cmp     al, 0x20
        jb      .show
        cmp     bp, KEY_COLS
        jae     .show
        mov     dx, KEY_ROW << 8 | KEY_COL0
        add     dx, bp
        call    put_char
        inc     bp
        jmp     .show
.back:  test    bp, bp
        jz      .show
        dec     bp
        mov     dx, KEY_ROW << 8 | KEY_COL0
        add     dx, bp
        mov     al, ' '
        call    put_char
        jmp     .show
.clear: mov     ax, 0x0600
        mov     bh, ATTR_SCREEN
        mov     cx, KEY_ROW << 8 | KEY_COL0
        mov     dx, KEY_ROW << 8 | (KEY_COL0 + KEY_COLS)
        int     0x10
        xor     bp, bp
        jmp     .show

; AX = the key from INT 16h: shows "scan XX ascii XX" at the right.
show_key_code:
        push    ax
        mov     dx, KEY_ROW << 8 | 63
        mov     bl, ATTR_INI
        mov     si, str_scan
        call    print_at
        pop     ax
        push    ax
        mov     al, ah
        call    put_hex8
        mov     si, str_ascii
        call    print_here
        pop     ax
        jmp     put_hex8

; ---------------------------------------------------------------- output
; All output goes through INT 10h with explicit positions: AH=02 sets the
; cursor, AH=09 writes a character with an attribute.  DX = row/column,
; BL = attribute; print_here continues at the saved position.
print_at:
        mov     [cur_pos], dx
        mov     [cur_attr], bl
print_here:
.next:  lodsb
        test    al, al
        jz      .done
        mov     dx, [cur_pos]
        call    put_char_attr
        inc     byte [cur_pos]
        jmp     .next
.done:  mov     dx, [cur_pos]
        mov     bl, [cur_attr]
        ret

; AL character at DX with the current attribute
put_char:
        push    bx
        mov     bl, ATTR_SCREEN
        mov     [cur_attr], bl
        pop     bx
put_char_attr:
        pusha
        push    ax
        mov     ah, 0x02
        xor     bh, bh
        int     0x10
        pop     ax
        mov     ah, 0x09
        xor     bh, bh
        mov     bl, [cur_attr]
        mov     cx, 1
        int     0x10
        popa
        ret

; AL as two hex digits at the saved position
put_hex8:
        push    ax
        shr     al, 4
        call    .digit
        pop     ax
.digit: and     al, 0x0F
        add     al, '0'
        cmp     al, '9'
        jbe     .out
        add     al, 'A' - '9' - 1
.out:   mov     dx, [cur_pos]
        call    put_char_attr
        inc     byte [cur_pos]
        ret

; EAX unsigned -> decimal NUL-terminated at DI
utoa:
        mov     ebx, 10
        xor     cx, cx
.div:   xor     edx, edx
        div     ebx
        push    dx
        inc     cx
        test    eax, eax
        jnz     .div
.put:   pop     ax
        add     al, '0'
        stosb
        loop    .put
        mov     byte [di], 0
        ret

; ---------------------------------------------------------------- data
str_title       db "vsx ", 0xC4, " the built-in welcome machine", 0
str_status      db "Ctrl+Alt+F full screen ", 0xB3, " Ctrl+Alt+S screenshot ", 0xB3
                db " Ctrl+Alt frees the mouse", 0
banner          db 0xDB, 0xDB, "    ", 0xDB, 0xDB, "  ", 0xDB, 0xDB, 0xDB, 0xDB, 0xDB, 0xDB
                db "  ", 0xDB, 0xDB, "   ", 0xDB, 0xDB, 0
                db 0xDB, 0xDB, "    ", 0xDB, 0xDB, " ", 0xDB, 0xDB, "        ", 0xDB, 0xDB
                db " ", 0xDB, 0xDB, " ", 0
                db " ", 0xDB, 0xDB, "  ", 0xDB, 0xDB, "   ", 0xDB, 0xDB, 0xDB, 0xDB, 0xDB
                db "     ", 0xDB, 0xDB, 0xDB, "  ", 0
                db "  ", 0xDB, 0xDB, 0xDB, 0xDB, "        ", 0xDB, 0xDB, "   ", 0xDB, 0xDB
                db " ", 0xDB, 0xDB, " ", 0
                db "   ", 0xDB, 0xDB, "    ", 0xDB, 0xDB, 0xDB, 0xDB, 0xDB, 0xDB, "  "
                db 0xDB, 0xDB, "   ", 0xDB, 0xDB, 0
                db 0
str_tagline     db "a whole x86 PC in one program", 0
str_cpu         db "CPU", 0
str_no_cpuid    db "no CPUID (a 386 or 486 without it)", 0
str_family      db ", family ", 0
str_model       db ", model ", 0
str_stepping    db ", stepping ", 0
str_features    db "features:", 0
feature_names   db 0, " fpu", 0, 4, " tsc", 0, 8, " cx8", 0, 15, " cmov", 0
                db 23, " mmx", 0, 25, " sse", 0, 26, " sse2", 0, 0xFF
str_memory      db "Memory", 0
str_mib         db " MiB usable, in ", 0
str_ranges      db " E820 ranges", 0
str_no_e820     db "the BIOS has no INT 15h E820 map", 0
str_make_vm     db "Make your own VM: save this as mybox.vsx, then run  vsx mybox.vsx", 0
ini_lines       db "[vm]", 0
                db "name   = My box", 0
                db "memory = 256M", 0
                db "boot   = disk", 0
                db "[ide0.master]", 0
                db "image  = disk.vhd   ; vsx vhd create --size 2G disk.vhd", 0
                db 0
str_type        db "Type here; the guest echoes it (Enter or Esc clears):", 0
str_scan        db "scan ", 0
str_ascii       db " ascii ", 0

        align 4
vendor          times 13 db 0
brand           times 49 db 0
numbuf          times 12 db 0
        align 4
mem_kib         dd 0
max_leaf        dd 0
signature       dd 0
features        dd 0
e820_count      dw 0
cur_pos         dw 0
cur_attr        db 0

        times (STAGE2_SECTORS + 1) * 512 - ($ - $$) db 0
