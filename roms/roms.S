/* roms/roms.S -- embeds the firmware images into the vsx executable.
 * SeaBIOS and its VGA BIOS are copied from Debian's seabios package into
 * $(BUILD)/roms at build time; vsx's own guest programs are assembled there
 * from the NASM sources in roms.  Each image gets NAME and NAME_end symbols (see roms.h). */
/* gas does not join adjacent string literals, so the directory and file
 * name meet inside a macro (macro arguments lose their quotes). */
.macro vsx_incbin dir, file
    .incbin "\dir/\file"
.endm
#define EMBED(sym, file)                 \
    .section .rodata;                    \
    .balign 16;                          \
    .global sym;                         \
    .global sym##_end;                   \
sym:                                     \
    vsx_incbin ROMDIR, file;             \
sym##_end:                               \
    .byte 0

EMBED(vsx_rom_bios, "bios-256k.bin")
EMBED(vsx_rom_vgabios, "vgabios-stdvga.bin")
EMBED(vsx_rom_vsxboot, "vsxboot.bin")
#ifdef VSX_ROM_DEFAULT_VM
EMBED(vsx_rom_default_vm, "default_vm.bin")
#endif

    .section .note.GNU-stack,"",@progbits
