; fpu: x87 state images and error reporting (Intel SDM Vol. 1 §8.1.10 and
; Figures 8-9/8-10: FSTENV/FNSTENV 32-bit and 16-bit protected-mode layouts,
; FIP/FCS/opcode/FDP/FDS; Figure 8-13 FSAVE = environment + ST0..ST7 as
; 80-bit values, then FNINIT; FSTENV masks all exceptions after saving;
; §8.7 / Vol. 3A §2.5 CR0.NE: native #MF (vector 16) on the next waiting
; instruction, or with NE=0 the PC-style FERR# -> IRQ 13 path, cleared by
; writing port 0xF0).
%include "lib.inc"

V        equ user_vars
ENV      equ V + 0x100
SAVE     equ V + 0x200
IRQ13_VEC equ 0x2D                  ; slave PIC base 0x28 + 5

test_main:
        mov eax, cr0
        and eax, ~0x0C                          ; TS=0 EM=0
        or eax, 0x22                            ; MP, NE
        mov cr0, eax
        fninit
        ; ---- FNSTENV after FNINIT
        fnstenv [ENV]
        movzx eax, word [ENV + 0]
        CHECK_EQ eax, 0x037F, "FCW after FNINIT"
        movzx eax, word [ENV + 4]
        CHECK_EQ eax, 0, "FSW after FNINIT"
        movzx eax, word [ENV + 8]
        CHECK_EQ eax, 0xFFFF, "FTW after FNINIT"

        ; ---- two values pushed: TOP=6, tags, instruction/data pointers
        fldcw [cw_unmasked]
        fld1
.ldi:   fld dword [two_and_half]
        fnstenv [ENV]
        movzx eax, word [ENV + 0]
        CHECK_EQ eax, 0x0360, "saved FCW"
        fnstcw [V + 0x10]
        movzx eax, word [V + 0x10]
        CHECK_EQ eax, 0x037F, "FNSTENV must mask all exceptions afterwards"
        movzx eax, word [ENV + 4]
        and eax, 0x3800
        CHECK_EQ eax, 0x3000, "FSW.TOP after two loads"
        movzx eax, word [ENV + 8]
        CHECK_EQ eax, 0x0FFF, "FTW after two loads"
        CHECK_EQ [ENV + 12], .ldi, "FIP"
        movzx eax, word [ENV + 16]
        CHECK_EQ eax, SEL_CODE0, "FCS"
        mov eax, [ENV + 16]
        shr eax, 16
        and eax, 0x7FF
        CHECK_EQ eax, 0x105, "opcode field (D9 05)"
        CHECK_EQ [ENV + 20], two_and_half, "FDP"
        movzx eax, word [ENV + 24]
        CHECK_EQ eax, SEL_DATA0, "FDS"

        ; ---- 16-bit protected-mode layout (operand-size prefix)
        o16 fnstenv [ENV + 0x40]
        movzx eax, word [ENV + 0x40 + 2]
        and eax, 0x3800
        CHECK_EQ eax, 0x3000, "16-bit FNSTENV: FSW at offset 2"
        movzx eax, word [ENV + 0x40 + 4]
        CHECK_EQ eax, 0x0FFF, "16-bit FNSTENV: FTW at offset 4"
        movzx eax, word [ENV + 0x40 + 6]
        mov ebx, .ldi
        movzx ebx, bx
        CHECK_EQ eax, ebx, "16-bit FNSTENV: FIP at offset 6"
        movzx eax, word [ENV + 0x40 + 10]
        mov ebx, two_and_half
        movzx ebx, bx
        CHECK_EQ eax, ebx, "16-bit FNSTENV: FDP at offset 10"

        ; ---- FNSAVE: environment + registers, then FNINIT
        fnsave [SAVE]
        CHECK_EQ [SAVE + 28], 0, "ST0 mantissa low"
        CHECK_EQ [SAVE + 32], 0xA0000000, "ST0 mantissa high (2.5)"
        movzx eax, word [SAVE + 36]
        CHECK_EQ eax, 0x4000, "ST0 sign/exponent (2.5)"
        CHECK_EQ [SAVE + 42], 0x80000000, "ST1 mantissa high (1.0)"
        movzx eax, word [SAVE + 46]
        CHECK_EQ eax, 0x3FFF, "ST1 sign/exponent (1.0)"
        fnstsw ax
        movzx eax, ax
        CHECK_EQ eax, 0, "FSW after FNSAVE (must reinitialise)"
        fnstcw [V + 0x10]
        movzx eax, word [V + 0x10]
        CHECK_EQ eax, 0x037F, "FCW after FNSAVE"
        frstor [SAVE]
        fstp dword [V + 0x14]
        CHECK_EQ [V + 0x14], 0x40200000, "ST0 after FRSTOR"
        fninit

        ; ---- CR0.NE=1: unmasked #Z is reported as #MF on the next FWAIT
        fldcw [cw_zm_unmasked]
        fld1
        fldz
        fdivp st1, st0                          ; 1/0: ZE pending
        fnstsw ax
        and eax, 0x84
        CHECK_EQ eax, 0x84, "FSW.ES and ZE after unmasked 1/0"
        TRY .t1
.w1:    fwait
.t1:    EXPECT_EXC 16, -1, "#MF with CR0.NE=1"
        CHECK_EQ [exc_eip], .w1, "#MF EIP (the waiting instruction)"
        fnclex
        fninit

        ; ---- CR0.NE=0: FERR# raises IRQ 13 through the PIC, no #MF
        call lib_pic_init
        mov al, 0xDF                            ; slave: IRQ 13 only
        out 0xA1, al
        mov eax, IRQ13_VEC
        mov ebx, irq13_handler
        mov cx, SEL_CODE0
        mov dl, 0x8E
        call set_gate
        mov eax, cr0
        and eax, ~0x20
        mov cr0, eax
        mov dword [V + 0x20], 0
        mov dword [exc_vec], 0xFF
        fldcw [cw_zm_unmasked]
        fld1
        fldz
        sti
        fdivp st1, st0
        fwait
        mov ecx, 1000
.spin:  nop
        loop .spin
        cli
        CHECK_EQ [exc_vec], 0xFF, "#MF raised with CR0.NE=0"
        CHECK_EQ [V + 0x20], 1, "IRQ 13 count with CR0.NE=0"
        mov al, 0xFF
        out 0x21, al
        out 0xA1, al
        mov eax, cr0
        or eax, 0x20
        mov cr0, eax
        fninit
        ret

irq13_handler:
        push eax
        inc dword [V + 0x20]
        xor al, al
        out 0xF0, al                            ; clear the coprocessor busy latch
        fnclex
        mov al, 0x20
        out 0xA0, al
        out 0x20, al
        pop eax
        iretd

cw_unmasked:    dw 0x0360
cw_zm_unmasked: dw 0x037B
two_and_half:   dd 2.5

%include "lib_end.inc"
