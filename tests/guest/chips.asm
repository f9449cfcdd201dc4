; tests/guest/chips.asm -- the legacy PC chips seen by a real CPU: 8259A
; pair (ICW1-4, masks, EOI, cascade through IR2), 8254 (mode 2 on IRQ 0,
; counter latch and read-back, channel 2 gated from port 0x61 and its OUT
; on bit 5), MC146818 (register D, periodic interrupt on IRQ 8 through the
; slave PIC, flags cleared by reading C), 8042 (self-test, command byte,
; A20 through the output port) and port 0x92 A20, 8237 address/page
; registers.  Written against the datasheets; validated on QEMU.
%include "lib.inc"

IRQ0_COUNT      equ user_vars + 0x00
IRQ8_COUNT      equ user_vars + 0x04
RTC_C_SEEN      equ user_vars + 0x08
SPURIOUS        equ user_vars + 0x0C
KBD_BYTES       equ user_vars + 0x10    ; count, then bytes from IRQ 1
AUX_BYTES       equ user_vars + 0x20    ; count, then bytes from IRQ 12
WRAP_LO         equ 0x2F0000            ; differs from WRAP_HI only in bit 20
WRAP_HI         equ 0x3F0000

test_main:
        mov dword [IRQ0_COUNT], 0
        mov dword [IRQ8_COUNT], 0
        mov dword [RTC_C_SEEN], 0xFF
        call apic_virtual_wire
        call pic_init
        call pit_irq0_test
        call pit_latch_test
        call pit_channel2_test
        call rtc_test
        call kbc_test
        call kbc_irq_test
        call a20_test
        call dma_test
        ret

; ---- A local APIC (CPUID.1:EDX bit 9) comes out of reset with LINT0 masked,
; so PIC interrupts would never reach the CPU: set up virtual wire mode as a
; BIOS does (MP spec 3.6.2.2; SDM vol. 3 10.5.1): APIC software-enabled,
; LINT0 ExtINT, LINT1 NMI. ----
apic_virtual_wire:
        mov eax, 1
        cpuid
        test edx, 1 << 9
        jz .none
        or dword [0xFEE000F0], 0x100    ; SVR: APIC software enable
        mov dword [0xFEE00350], 0x700   ; LVT LINT0: ExtINT, unmasked
        mov dword [0xFEE00360], 0x400   ; LVT LINT1: NMI
.none:  ret

; ---- 8259A: vectors 0x20 / 0x28, cascade on IR2, everything masked ----
pic_init:
        mov al, 0x11                    ; ICW1: edge, cascade, ICW4 needed
        out 0x20, al
        out 0xA0, al
        mov al, 0x20                    ; ICW2: vector bases
        out 0x21, al
        mov al, 0x28
        out 0xA1, al
        mov al, 0x04                    ; ICW3: slave on IR2 / slave ID 2
        out 0x21, al
        mov al, 0x02
        out 0xA1, al
        mov al, 0x01                    ; ICW4: 8086 mode, normal EOI
        out 0x21, al
        out 0xA1, al
        mov al, 0xFF
        out 0x21, al
        out 0xA1, al
        xor eax, eax
        in al, 0x21
        CHECK_EQ eax, 0xFF, "PIC master IMR does not read back"
        mov al, 0x0B                    ; OCW3: read ISR
        out 0x20, al
        in al, 0x20
        CHECK_EQ eax, 0, "PIC ISR not empty after init"
        mov al, 0x0A                    ; back to IRR
        out 0x20, al
        mov eax, 0x20
        mov ebx, irq0_handler
        mov cx, SEL_CODE0
        mov dl, 0x8E
        call set_gate
        mov eax, 0x28
        mov ebx, irq8_handler
        call set_gate
        mov eax, 0x27
        mov ebx, spurious_master
        call set_gate
        mov eax, 0x2F
        mov ebx, spurious_slave
        call set_gate
        ret

irq0_handler:
        push eax
        inc dword [IRQ0_COUNT]
        mov al, 0x20
        out 0x20, al
        pop eax
        iretd

irq8_handler:
        push eax
        mov al, 0x0C
        out 0x70, al
        in al, 0x71                     ; reading C clears it and drops IRQ 8
        movzx eax, al
        mov [RTC_C_SEEN], eax
        inc dword [IRQ8_COUNT]
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop eax
        iretd

spurious_master:
        inc dword [SPURIOUS]
        iretd

spurious_slave:
        push eax
        inc dword [SPURIOUS]
        mov al, 0x20                    ; the master saw IR2 for real
        out 0x20, al
        pop eax
        iretd

; ---- 8254 channel 0, mode 2 at ~1 kHz on IRQ 0 ----
pit_irq0_test:
        mov al, 0x34
        out 0x43, al
        mov al, 0xA9                    ; 1193 = 0x04A9
        out 0x40, al
        mov al, 0x04
        out 0x40, al
        mov al, 0xFE                    ; unmask IRQ 0
        out 0x21, al
        sti
.wait:  hlt
        cmp dword [IRQ0_COUNT], 5
        jb .wait
        cli
        mov al, 0xFF
        out 0x21, al
        ret

pit_latch_test:
        mov al, 0x00                    ; counter latch, channel 0
        out 0x43, al
        xor eax, eax
        in al, 0x40
        mov ah, al
        in al, 0x40
        xchg al, ah
        cmp eax, 1193
        FAIL_IF a, "PIT latched count above the reload value"
        test eax, eax
        FAIL_IF z, "PIT latched count is zero"
        mov al, 0xE2                    ; read-back: status of channel 0 only
        out 0x43, al
        xor eax, eax
        in al, 0x40
        and al, 0x3F
        CHECK_EQ eax, 0x34, "PIT read-back status (RW, mode, BCD)"
        ret

; ---- 8254 channel 2: mode 0 gated by port 0x61 bit 0, OUT on bit 5 ----
pit_channel2_test:
        in al, 0x61
        and al, 0xFC                    ; speaker off, gate low
        out 0x61, al
        mov al, 0xB0                    ; channel 2, LSB/MSB, mode 0
        out 0x43, al
        mov al, 100
        out 0x42, al
        xor al, al
        out 0x42, al
        in al, 0x61
        test al, 0x20
        FAIL_IF nz, "PIT OUT2 high right after a mode 0 count"
        or al, 0x01                     ; gate high: counting starts
        and al, 0x0F
        out 0x61, al
        mov ecx, 10000000
.poll:  in al, 0x61
        test al, 0x20
        jnz .done
        loop .poll
        mov esi, msg_out2
        jmp fail
.done:  ; the DRAM refresh bit toggles by itself
        in al, 0x61
        and al, 0x10
        mov bl, al
        mov ecx, 10000000
.tog:   in al, 0x61
        and al, 0x10
        cmp al, bl
        jne .toggled
        loop .tog
        mov esi, msg_refresh
        jmp fail
.toggled:
        ret
msg_out2: db "PIT OUT2 never rose on port 0x61 bit 5", 0
msg_refresh: db "port 0x61 refresh bit 4 never toggled", 0

; ---- MC146818: register D, periodic interrupt through the slave PIC ----
rtc_read:                               ; AL = index -> AL = value
        out 0x70, al
        in al, 0x71
        ret

rtc_test:
        mov al, 0x0D
        call rtc_read
        movzx eax, al
        CHECK_EQ eax, 0x80, "RTC register D: VRT not set"
        mov al, 0x0A
        out 0x70, al
        mov al, 0x26                    ; 32.768 kHz divider, 1024 Hz rate
        out 0x71, al
        mov al, 0x0C
        call rtc_read                   ; clear stale flags
        mov al, 0x0B
        call rtc_read
        or al, 0x40                     ; PIE
        mov bl, al
        mov al, 0x0B
        out 0x70, al
        mov al, bl
        out 0x71, al
        mov al, 0xFB                    ; unmask the cascade on the master
        out 0x21, al
        mov al, 0xFE                    ; and IRQ 8 on the slave
        out 0xA1, al
        sti
.wait:  hlt
        cmp dword [IRQ8_COUNT], 3
        jb .wait
        cli
        mov al, 0xFF
        out 0x21, al
        out 0xA1, al
        mov eax, [RTC_C_SEEN]
        and eax, 0xC0
        CHECK_EQ eax, 0xC0, "RTC register C lacks IRQF|PF in the handler"
        mov al, 0x0B
        call rtc_read
        and al, ~0x40
        mov bl, al
        mov al, 0x0B
        out 0x70, al
        mov al, bl
        out 0x71, al
        ret

; ---- 8042 ----
kbc_wait_out:                           ; waits for OBF, AL = byte
        mov ecx, 1000000
.l:     in al, 0x64
        test al, 0x01
        jnz .r
        loop .l
        mov esi, msg_kbc_timeout
        jmp fail
.r:     in al, 0x60
        ret
msg_kbc_timeout: db "8042 output buffer never filled", 0

kbc_flush:
        mov ecx, 64
.l:     in al, 0x64
        test al, 0x01
        jz .r
        in al, 0x60
        loop .l
.r:     ret

kbc_test:
        call kbc_flush
        mov al, 0xAA                    ; self-test
        out 0x64, al
        call kbc_wait_out
        movzx eax, al
        CHECK_EQ eax, 0x55, "8042 self-test did not answer 0x55"
        mov al, 0x60                    ; write command byte: SYS, translate, no IRQs
        out 0x64, al
        mov al, 0x44
        out 0x60, al
        mov al, 0x20
        out 0x64, al
        call kbc_wait_out
        movzx eax, al
        CHECK_EQ eax, 0x44, "8042 command byte does not read back"
        in al, 0x64
        and eax, 0x04
        CHECK_EQ eax, 0x04, "8042 status SYS flag does not follow the command byte"
        ret

;---- 8042 interrupts: IRQ 1 for keyboard bytes, IRQ 12 (slave) for mouse bytes ----
irq1_handler:
        push eax
        push ebx
        in al, 0x60
        mov ebx, [KBD_BYTES]
        and ebx, 7
        mov [KBD_BYTES + 4 + ebx], al
        inc dword [KBD_BYTES]
        mov al, 0x20
        out 0x20, al
        pop ebx
        pop eax
        iretd

irq12_handler:
        push eax
        push ebx
        in al, 0x60
        mov ebx, [AUX_BYTES]
        and ebx, 7
        mov [AUX_BYTES + 4 + ebx], al
        inc dword [AUX_BYTES]
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop ebx
        pop eax
        iretd

kbc_irq_test:
        mov dword [KBD_BYTES], 0
        mov dword [AUX_BYTES], 0
        mov eax, 0x21
        mov ebx, irq1_handler
        mov cx, SEL_CODE0
        mov dl, 0x8E
        call set_gate
        mov eax, 0x2C
        mov ebx, irq12_handler
        call set_gate
        call kbc_flush
        mov al, 0x60                    ; command byte: both IRQs, both ports on
        out 0x64, al
        mov al, 0x47
        out 0x60, al
        mov al, 0xF9                    ; unmask IRQ 1 and the cascade
        out 0x21, al
        mov al, 0xEF                    ; unmask IRQ 12
        out 0xA1, al
        sti
        mov ecx, 100000                 ; QEMU 7.2 raises IRQ 1 once more for the
.settle: loop .settle                   ; already-read command byte: count after it
        mov dword [KBD_BYTES], 0
        mov dword [AUX_BYTES], 0
        mov al, 0xEE                    ; keyboard echo
        out 0x60, al
        mov ecx, 10000000               ; spin: no timer is unmasked to end a HLT
.k:     cmp dword [KBD_BYTES], 1
        jae .kdone
        loop .k
.kdone: mov al, 0xD4                    ; mouse: get device ID -> FA 00
        out 0x64, al
        mov al, 0xF2
        out 0x60, al
        mov ecx, 10000000
.m:     cmp dword [AUX_BYTES], 2
        jae .mdone
        loop .m
.mdone: cli
        mov al, 0xFF
        out 0x21, al
        out 0xA1, al
        CHECK_EQ [KBD_BYTES], 1, "IRQ 1 did not deliver exactly the echo byte"
        movzx eax, byte [KBD_BYTES + 4]
        CHECK_EQ eax, 0xEE, "keyboard echo byte"
        CHECK_EQ [AUX_BYTES], 2, "IRQ 12 did not deliver the mouse ACK and ID"
        movzx eax, word [AUX_BYTES + 4]
        CHECK_EQ eax, 0x00FA, "mouse ACK and ID bytes"
        mov al, 0x60                    ; interrupts off again
        out 0x64, al
        mov al, 0x44
        out 0x60, al
        ret

; ---- A20 through port 0x92 and the 8042 output port ----
a20_set_92:                             ; BL = 0 off, 2 on
        in al, 0x92
        and al, ~0x03
        or al, bl
        out 0x92, al
        ret

a20_set_kbc:                            ; BL = 0xDD off, 0xDF on
        mov al, 0xD1
        out 0x64, al
        mov al, bl
        out 0x60, al
        ret

a20_wraps:                              ; ZF=1 when WRAP_HI aliases WRAP_LO
        mov dword [WRAP_LO], 0x11111111
        mov dword [WRAP_HI], 0x22222222
        cmp dword [WRAP_LO], 0x22222222
        ret

a20_test:
        mov bl, 2
        call a20_set_92
        call a20_wraps
        FAIL_IF z, "memory wraps at 1 MiB with A20 enabled"
        mov bl, 0
        call a20_set_92
        call a20_wraps
        FAIL_IF nz, "port 0x92 bit 1 clear: no wrap at 1 MiB"
        mov bl, 0xDF
        call a20_set_kbc
        call a20_wraps
        FAIL_IF z, "8042 output port A20 set: still wrapping"
        mov bl, 0xDD
        call a20_set_kbc
        call a20_wraps
        FAIL_IF nz, "8042 output port A20 clear: no wrap"
        mov bl, 2
        call a20_set_92
        call a20_wraps
        FAIL_IF z, "A20 back on: still wrapping"
        ret

; ---- 8237: flip-flop and page registers ----
dma_test:
        out 0x0C, al                    ; clear flip-flop
        mov al, 0x34
        out 0x02, al                    ; channel 1 address, low then high
        mov al, 0x12
        out 0x02, al
        out 0x0C, al
        xor eax, eax
        in al, 0x02
        mov ah, al
        in al, 0x02
        xchg al, ah
        CHECK_EQ eax, 0x1234, "8237 channel 1 address does not read back"
        mov al, 0x5A
        out 0x83, al                    ; channel 1 page
        xor eax, eax
        in al, 0x83
        CHECK_EQ eax, 0x5A, "DMA page register 0x83 does not read back"
        ret

%include "lib_end.inc"
