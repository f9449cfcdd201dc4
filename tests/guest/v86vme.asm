; v86vme: the CR4.VME part of v86.asm (virtual-8086 mode extensions:
; interrupt redirection bitmap, VIF under CLI/STI/PUSHF; Intel SDM Vol. 3B
; §20.4).  Separate because QEMU's TCG does not implement VME redirection.
%define VME
%include "v86.inc"
