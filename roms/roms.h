/* roms/roms.h -- firmware images embedded at build time (roms/roms.S). */
#ifndef VSX_ROMS_ROMS_H
#define VSX_ROMS_ROMS_H

#include <stddef.h>
#include <stdint.h>

extern const uint8_t vsx_rom_bios[], vsx_rom_bios_end[];
extern const uint8_t vsx_rom_vgabios[], vsx_rom_vgabios_end[];
/* Direct kernel boot option ROM (roms/vsxboot.asm). */
extern const uint8_t vsx_rom_vsxboot[], vsx_rom_vsxboot_end[];
#ifdef VSX_ROM_DEFAULT_VM
extern const uint8_t vsx_rom_default_vm[], vsx_rom_default_vm_end[];
#endif

#define VSX_ROM_SIZE(name) ((size_t)(name##_end - name))

#endif
