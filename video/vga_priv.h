/*
 * video/vga_priv.h -- the Vga object shared by vga.c (registers, memory,
 * Bochs VBE, PCI) and vga_render.c (scan-out).  Private to video/.
 *
 * Video memory layout: VGA planes are interleaved, byte (offset*4 + plane),
 * so one 32-bit load fetches the four planes the way the latches do.  Bochs
 * VBE modes and the LFB use the same memory linearly.
 */
#ifndef VSX_VIDEO_VGA_PRIV_H
#define VSX_VIDEO_VGA_PRIV_H

#include "video.h"

#define VGA_PLANE_SIZE 0x10000u  /* 64 KiB per plane: a 256 KiB VGA */
#define VGA_LFB_FIXED 0xE0000000u /* LFB address when there is no PCI bus */

/* Bochs DISPI register indices (Bochs vbe.h; QEMU docs/specs/standard-vga). */
enum {
    VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK,
    VBE_VIRT_WIDTH, VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET,
    VBE_VIDEO_MEMORY_64K, VBE_NREGS
};
#define VBE_ENABLED 0x01
#define VBE_GETCAPS 0x02
#define VBE_8BIT_DAC 0x20
#define VBE_LFB_ENABLED 0x40
#define VBE_NOCLEARMEM 0x80
#define VBE_MAX_XRES 2560
#define VBE_MAX_YRES 1600

/* Everything a save/load must carry besides VRAM: plain bytes. */
typedef struct VgaRegs {
    uint8_t misc, feature, vga_enable;
    uint8_t seq_index, seq[8];
    uint8_t crtc_index, crtc[0x40];
    uint8_t gc_index, gc[16];
    uint8_t ar_index, ar[0x20], ar_flipflop;
    uint8_t pel_mask, dac_read_index, dac_write_index, dac_sub, dac_state;
    uint8_t dac_latch[3];
    uint8_t dac[768];
    uint32_t latch;
    uint16_t vbe_index;
    uint16_t vbe[VBE_NREGS];
} VgaRegs;

struct Vga {
    Bus *bus;
    Clock *clk;
    PciDevice *pci;
    uint8_t *vram;
    uint32_t vram_size;
    bool lfb_fixed; /* LFB mapped by us at VGA_LFB_FIXED (no PCI) */
    VgaRegs r;

    /* rendering */
    uint8_t *dirty;          /* one byte per 4 KiB page of vram */
    bool full_redraw;        /* registers changed: redraw everything */
    uint32_t *pixels;
    int width, height;
    size_t pixels_cap;
    int blink_phase;         /* -1 unknown; else (frame / 16) & 3 */
    uint32_t palette_rgb[256];
    bool palette_valid;
    uint8_t *snapshot;       /* VBE: last scanned bytes of each visible line */
    size_t snapshot_cap;
    uint64_t mode_key;       /* geometry hash: a change forces a redraw */
    uint32_t cursor_key;     /* cursor shape and place last drawn */
};

/* vga.c */
bool vga_vbe_enabled(const Vga *vga);
unsigned vga_vbe_bytes_per_pixel(const Vga *vga);
uint32_t vga_vbe_line_bytes(const Vga *vga);

#endif
