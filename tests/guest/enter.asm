; enter: ENTER with nesting levels (the one opcode the 286 vectors lack) and
; its neighbours (Intel SDM Vol. 2A ENTER "Operation": level L copies L-1
; frame pointers from the old frame, then pushes the new frame pointer;
; LEAVE; BOUND #BR (vector 5, fault); PUSHA/POPA order).
%include "lib.inc"

V        equ user_vars

test_main:
        ; ---- ENTER 16, 0: push EBP, EBP = ESP, ESP -= 16
        mov ebp, 0x11111111
        mov ebx, esp
        enter 16, 0
        lea eax, [ebx - 4]
        CHECK_EQ ebp, eax, "ENTER 16,0: EBP"
        lea eax, [ebx - 4 - 16]
        mov ecx, esp
        CHECK_EQ ecx, eax, "ENTER 16,0: ESP"
        CHECK_EQ [ebp], 0x11111111, "ENTER 16,0: saved EBP"
        leave
        mov ecx, esp
        CHECK_EQ ecx, ebx, "LEAVE: ESP"
        CHECK_EQ ebp, 0x11111111, "LEAVE: EBP"

        ; ---- ENTER 8, 3: copies 2 frame pointers from the old frame
        ; build an old frame: EBP points at a chain [ebp-4], [ebp-8]
        mov esi, 0x80000
        mov dword [esi - 4], 0xAAAA0001
        mov dword [esi - 8], 0xAAAA0002
        mov ebp, esi
        mov ebx, esp
        enter 8, 3
        ; layout from the new EBP down: [ebp]=old EBP, [ebp-4]=copy of
        ; [old-4], [ebp-8]=copy of [old-8], [ebp-12]=new frame pointer
        lea eax, [ebx - 4]
        CHECK_EQ ebp, eax, "ENTER 8,3: EBP"
        CHECK_EQ [ebp], 0x80000, "ENTER 8,3: saved EBP"
        CHECK_EQ [ebp - 4], 0xAAAA0001, "ENTER 8,3: first copied frame pointer"
        CHECK_EQ [ebp - 8], 0xAAAA0002, "ENTER 8,3: second copied frame pointer"
        CHECK_EQ [ebp - 12], ebp, "ENTER 8,3: pushed new frame pointer"
        lea eax, [ebx - 4 - 12 - 8]
        mov ecx, esp
        CHECK_EQ ecx, eax, "ENTER 8,3: ESP"
        leave
        mov ecx, esp
        CHECK_EQ ecx, ebx, "LEAVE after ENTER 8,3"

        ; ---- ENTER 4, 1: only the new frame pointer is pushed
        mov ebp, 0x12345678
        mov ebx, esp
        enter 4, 1
        CHECK_EQ [ebp - 4], ebp, "ENTER 4,1: pushed frame pointer"
        lea eax, [ebx - 4 - 4 - 4]
        mov ecx, esp
        CHECK_EQ ecx, eax, "ENTER 4,1: ESP"
        leave

        ; ---- 16-bit ENTER (operand-size prefix): 2-byte pushes, only BP is
        ; written; with this 32-bit stack, LEAVE then copies all of EBP to
        ; ESP, so EBP's upper half must match ESP's (stack is below 1 MiB)
        mov ebp, 0x00080000 | 0x4444
        mov ebx, esp
        o16 enter 6, 0
        lea eax, [ebx - 2]
        movzx eax, ax
        movzx ecx, bp
        CHECK_EQ ecx, eax, "o16 ENTER 6,0: BP"
        mov eax, ebp
        shr eax, 16
        CHECK_EQ eax, 0x0008, "o16 ENTER must not change EBP's upper half"
        lea eax, [ebx - 8]
        mov ecx, esp
        CHECK_EQ ecx, eax, "o16 ENTER 6,0: ESP"
        movzx eax, word [ebx - 2]
        CHECK_EQ eax, 0x4444, "o16 ENTER 6,0: saved BP"
        o16 leave
        mov ecx, esp
        CHECK_EQ ecx, ebx, "o16 LEAVE: ESP"

        ; ---- BOUND: in range passes, out of range is #BR (a fault)
        mov dword [V + 0], 10
        mov dword [V + 4], 20
        mov eax, 15
        bound eax, [V]
        mov eax, 21
        TRY .t1
.f1:    bound eax, [V]
.t1:    EXPECT_EXC 5, -1, "BOUND out of range"
        CHECK_EQ [exc_eip], .f1, "#BR EIP (fault)"

        ; ---- PUSHAD order: EAX ECX EDX EBX ESP(original) EBP ESI EDI
        mov eax, 1
        mov ecx, 2
        mov edx, 3
        mov ebx, 4
        mov ebp, 6
        mov esi, 7
        mov edi, 8
        mov [V + 8], esp
        pushad
        mov ecx, esp
        CHECK_EQ [ecx + 28], 1, "PUSHAD EAX slot"
        mov ecx, esp
        CHECK_EQ [ecx + 16], 4, "PUSHAD EBX slot"
        mov eax, [V + 8]
        mov ecx, esp
        CHECK_EQ [ecx + 12], eax, "PUSHAD ESP slot (value before PUSHAD)"
        mov ecx, esp
        CHECK_EQ [ecx], 8, "PUSHAD EDI slot"
        mov dword [esp + 12], 0x12345678        ; POPAD ignores the ESP slot
        popad
        mov ecx, esp
        CHECK_EQ ecx, [V + 8], "POPAD must skip the ESP slot"
        ret

%include "lib_end.inc"
