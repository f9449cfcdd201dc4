; intshadow: the one-instruction interrupt shadow after STI (Intel SDM Vol.
; 2B STI: "external interrupts are not recognized until after the
; instruction following STI", which is what makes `sti; hlt` safe), checked
; with a real pending IRQ 0 from the 8254 through the 8259A; and that the
; interrupt is taken right after that one instruction.
%include "lib.inc"

V        equ user_vars
IRQ0_VEC equ 0x20

test_main:
        mov eax, IRQ0_VEC
        mov ebx, irq0_handler
        mov cx, SEL_CODE0
        mov dl, 0x8E
        call set_gate
        call lib_pic_init
        mov al, 0xFE                            ; master: IRQ 0 only
        out 0x21, al

        mov ecx, 3                              ; a few rounds
.round:
        push ecx
        ; 8254 channel 0, mode 0 (interrupt on terminal count), count 200
        mov al, 0x30
        out 0x43, al
        mov al, 200
        out 0x40, al
        xor al, al
        out 0x40, al
        ; wait with IF=0 until the request is pending in the IRR
        mov edx, 10000000
.poll:  mov al, 0x0A                            ; OCW3: read IRR
        out 0x20, al
        in al, 0x20
        test al, 1
        jnz .pending
        dec edx
        jnz .poll
        mov esi, msg_no_irq
        jmp fail
.pending:
        mov dword [V + 0x00], 0
        mov dword [V + 0x04], 0xFFFFFFFF
        mov dword [V + 0x08], 0
        sti
        mov dword [V + 0x00], 1                 ; in the shadow: runs first
        mov dword [V + 0x00], 2                 ; the IRQ must come before this
        cli
        CHECK_EQ [V + 0x08], 1, "IRQ 0 count after STI"
        CHECK_EQ [V + 0x04], 1, "interrupt not held off exactly one instruction after STI"
        pop ecx
        dec ecx
        jnz .round
        mov al, 0xFF
        out 0x21, al
        ret

msg_no_irq: db "IRQ 0 never became pending (8254 mode 0 / 8259A IRR)", 0

irq0_handler:
        push eax
        mov eax, [V + 0x00]
        mov [V + 0x04], eax
        inc dword [V + 0x08]
        mov al, 0x20
        out 0x20, al
        pop eax
        iretd

%include "lib_end.inc"
