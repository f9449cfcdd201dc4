/*
 * video/video.h -- VGA and Bochs VBE (PCI 1234:1111), rendering to 32-bit RGB.
 * Public face of video/; used by chipset/board.c (creation) and ui/ (display,
 * screenshots, screen text).  Never includes SDL.
 *
 * (Owned by the video work; the shapes below are the contract the board and UI
 * rely on.)
 */
#ifndef VSX_VIDEO_VIDEO_H
#define VSX_VIDEO_VIDEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../chipset/chipset.h"

typedef struct Vga Vga;

/* Maps legacy VGA ports 0x3B0-0x3DF, VBE DISPI 0x1CE/0x1CF, MMIO
 * 0xA0000-0xBFFFF, and a PCI function with an LFB BAR of vram_size bytes and
 * the VGA BIOS as its expansion ROM. */
Vga *vga_create(Bus *bus, PciBus *pci, Clock *clk, uint32_t vram_size,
                const uint8_t *vgabios, size_t vgabios_len, VsxError *err);
extern const DeviceClass vga_device_class;

/* A rendered frame: 0x00RRGGBB pixels, owned by the Vga. */
typedef struct VgaFrame {
    const uint32_t *pixels;
    int width, height, stride; /* stride in pixels */
    /* rows [dirty_y0, dirty_y1) changed since the previous vga_render */
    int dirty_y0, dirty_y1;
} VgaFrame;

/* Renders what changed since the last call; returns true if anything did. */
bool vga_render(Vga *vga, VgaFrame *frame);
/* In a text mode: writes the screen as UTF-8 (code page 437 mapped), one line
 * per row, trailing blanks trimmed.  Returns bytes written (0 if not text). */
size_t vga_screen_text(Vga *vga, char *buf, size_t len);

#endif
