/*
 * video/vga.c -- the VGA register file, CPU access to video memory (write
 * modes 0-3, read modes 0-1, latches, chain-4, odd/even, memory map select),
 * the Bochs VBE DISPI interface and the PCI function 1234:1111.
 *
 * References: IBM VGA Technical Reference (register descriptions), FreeVGA
 * "VGA/SVGA Video Programming" (graphics controller data path), Bochs vbe.h
 * and QEMU docs/specs/standard-vga.rst (DISPI registers).
 */
#include <stdlib.h>
#include <string.h>

#include "vga_priv.h"

/* ------------------------------------------------------------------------ */
/* Small helpers                                                            */
/* ------------------------------------------------------------------------ */
static bool vga_color_io(const Vga *vga) { return vga->r.misc & 0x01; }

bool vga_vbe_enabled(const Vga *vga) { return vga->r.vbe[VBE_ENABLE] & VBE_ENABLED; }

unsigned vga_vbe_bytes_per_pixel(const Vga *vga)
{
    return (vga->r.vbe[VBE_BPP] + 7) / 8;
}

/* Bytes of video memory per scan line.  4 bpp modes are planar: virt_width/8
 * bytes in each of the four interleaved planes. */
uint32_t vga_vbe_line_bytes(const Vga *vga)
{
    if (vga->r.vbe[VBE_BPP] == 4)
        return vga->r.vbe[VBE_VIRT_WIDTH] / 2u;
    return (uint32_t)vga->r.vbe[VBE_VIRT_WIDTH] * vga_vbe_bytes_per_pixel(vga);
}

/* Packed VBE modes bypass the VGA data path: the 64 KiB window at A0000
 * shows VRAM at BANK * 64 KiB.  4 bpp modes keep the planar path. */
static bool vga_vbe_packed(const Vga *vga)
{
    return vga_vbe_enabled(vga) && vga->r.vbe[VBE_BPP] != 4;
}

/* Plane offsets: 64 KiB per plane on the VGA; a planar VBE mode adds the
 * bank and reaches all of VRAM. */
static uint32_t vga_plane_offset(const Vga *vga, uint32_t off)
{
    if (vga_vbe_enabled(vga))
        return ((uint32_t)vga->r.vbe[VBE_BANK] * 0x10000u + off) & (vga->vram_size / 4 - 1);
    return off & (VGA_PLANE_SIZE - 1);
}

/* ------------------------------------------------------------------------ */
/* Video memory as the CPU sees it through 0xA0000-0xBFFFF                  */
/* ------------------------------------------------------------------------ */

/* GC06 bits 3-2, memory map select: window base and size (IBM VGA TR). */
static bool vga_window(const Vga *vga, uint32_t addr, uint32_t *off)
{
    static const uint32_t base[4] = {0x00000, 0x00000, 0x10000, 0x18000};
    static const uint32_t size[4] = {0x20000, 0x10000, 0x08000, 0x08000};
    unsigned sel = (vga->r.gc[6] >> 2) & 3;
    if (addr < base[sel] || addr >= base[sel] + size[sel])
        return false;
    *off = addr - base[sel];
    return true;
}

static uint32_t vga_load_latch(Vga *vga, uint32_t plane_off)
{
    uint32_t v;
    memcpy(&v, vga->vram + plane_off * 4, 4);
    vga->r.latch = v;
    return v;
}

static uint8_t latch_plane(uint32_t latch, unsigned p) { return (uint8_t)(latch >> (8 * p)); }

/* Read mode 1: a bit is 1 where every plane not masked out by Color Don't
 * Care (GC07) equals the Color Compare bit (GC02) for that plane. */
static uint8_t vga_color_compare(const Vga *vga)
{
    uint8_t result = 0xFF;
    for (unsigned p = 0; p < 4; p++) {
        if (!(vga->r.gc[7] & (1u << p)))
            continue;
        uint8_t want = (vga->r.gc[2] & (1u << p)) ? 0xFF : 0x00;
        result &= (uint8_t)~(latch_plane(vga->r.latch, p) ^ want);
    }
    return result;
}

static uint8_t vga_mem_read8(Vga *vga, uint32_t addr)
{
    if (vga_vbe_packed(vga)) {
        uint32_t off = (uint32_t)vga->r.vbe[VBE_BANK] * 0x10000u + (addr & 0xFFFF);
        return addr < 0x10000 && off < vga->vram_size ? vga->vram[off] : 0xFF;
    }
    uint32_t off;
    if (!vga_window(vga, addr, &off))
        return 0xFF;
    unsigned plane;
    uint32_t plane_off;
    if (vga->r.seq[4] & 0x08) {             /* chain-4: A1:A0 pick the plane */
        plane = off & 3;
        plane_off = off & ~3u;
    } else if (vga->r.gc[5] & 0x10) {       /* odd/even read (GC05 bit 4) */
        plane = (vga->r.gc[4] & 2) | (off & 1);
        plane_off = off & ~1u;
    } else {
        plane = vga->r.gc[4] & 3;
        plane_off = off;
    }
    uint32_t latch = vga_load_latch(vga, vga_plane_offset(vga, plane_off));
    if (vga->r.gc[5] & 0x08)
        return vga_color_compare(vga);
    return latch_plane(latch, plane);
}

static uint8_t rotate_right(uint8_t v, unsigned n)
{
    n &= 7;
    return n ? (uint8_t)((v >> n) | (v << (8 - n))) : v;
}

/* The ALU stage: GC03 bits 4-3 combine data with the latches. */
static uint32_t vga_logic_op(const Vga *vga, uint32_t data)
{
    switch ((vga->r.gc[3] >> 3) & 3) {
    case 1: return data & vga->r.latch;
    case 2: return data | vga->r.latch;
    case 3: return data ^ vga->r.latch;
    default: return data;
    }
}

static uint32_t expand_bits(uint8_t four_bits)
{
    uint32_t v = 0;
    for (unsigned p = 0; p < 4; p++)
        if (four_bits & (1u << p))
            v |= 0xFFu << (8 * p);
    return v;
}

/* Write modes 0-3 (FreeVGA "graphics controller data path"): returns the
 * 32-bit value for the four planes after the bit mask merged the latches. */
static uint32_t vga_write_data(Vga *vga, uint8_t value)
{
    uint8_t mask = vga->r.gc[8];
    uint32_t data;
    switch (vga->r.gc[5] & 3) {
    case 1:
        return vga->r.latch;
    case 2:
        data = expand_bits(value & 0x0F);
        break;
    case 3:
        mask &= rotate_right(value, vga->r.gc[3]);
        data = expand_bits(vga->r.gc[0] & 0x0F);
        break;
    default: {
        uint8_t rot = rotate_right(value, vga->r.gc[3]);
        uint32_t sr = expand_bits(vga->r.gc[0] & 0x0F);
        uint32_t en = expand_bits(vga->r.gc[1] & 0x0F);
        data = (rot * 0x01010101u & ~en) | (sr & en);
        break;
    }
    }
    data = vga_logic_op(vga, data);
    uint32_t m = mask * 0x01010101u;
    return (data & m) | (vga->r.latch & ~m);
}

static void vga_mem_write8(Vga *vga, uint32_t addr, uint8_t value)
{
    if (vga_vbe_packed(vga)) {
        uint32_t off = (uint32_t)vga->r.vbe[VBE_BANK] * 0x10000u + (addr & 0xFFFF);
        if (addr < 0x10000 && off < vga->vram_size) {
            vga->vram[off] = value;
            vga->dirty[off >> 12] = 1;
        }
        return;
    }
    uint32_t off;
    if (!vga_window(vga, addr, &off))
        return;
    unsigned planes = vga->r.seq[2] & 0x0F;
    uint32_t plane_off = off;
    if (vga->r.seq[4] & 0x08) {
        planes &= 1u << (off & 3);
        plane_off = off & ~3u;
    } else if (!(vga->r.seq[4] & 0x04)) {   /* odd/even write (SEQ04 bit 2 = 0) */
        planes &= (off & 1) ? 0x0A : 0x05;
        plane_off = off & ~1u;
    }
    plane_off = vga_plane_offset(vga, plane_off);
    uint32_t v = vga_write_data(vga, value);
    uint8_t *cell = vga->vram + plane_off * 4;
    for (unsigned p = 0; p < 4; p++)
        if (planes & (1u << p))
            cell[p] = latch_plane(v, p);
    if (planes)
        vga->dirty[(plane_off * 4) >> 12] = 1;
    if (planes & 4)                          /* plane 2 holds the font */
        vga->full_redraw |= !(vga->r.gc[6] & 1);
}

static uint32_t vga_mmio_read(void *dev, uint64_t offset, unsigned width)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)vga_mem_read8(dev, (uint32_t)offset + i) << (8 * i);
    return v;
}

static void vga_mmio_write(void *dev, uint64_t offset, uint32_t value, unsigned width)
{
    for (unsigned i = 0; i < width; i++)
        vga_mem_write8(dev, (uint32_t)offset + i, (uint8_t)(value >> (8 * i)));
}

static const MmioOps vga_mmio_ops = {vga_mmio_read, vga_mmio_write, "vga-mem"};

/* ------------------------------------------------------------------------ */
/* Input status 1: retrace timed on the virtual clock from the CRTC totals  */
/* ------------------------------------------------------------------------ */
static unsigned crtc_vertical(const Vga *vga, unsigned reg, unsigned bit8, unsigned bit9)
{
    const uint8_t *c = vga->r.crtc;
    return c[reg] | ((c[7] >> bit8) & 1) << 8 | ((c[7] >> bit9) & 1) << 9;
}

/* IBM VGA TR, Input Status Register 1: bit 3 vertical retrace, bit 0 display
 * disabled (either retrace or border).  Timing: horizontal total (CR00+5
 * character clocks) of 8 or 9 dots at 25.175 or 28.322 MHz (misc bits 3-2),
 * vertical total CR06+2 lines. */
static uint8_t vga_status1(Vga *vga)
{
    unsigned dots = (vga->r.seq[1] & 1) ? 8 : 9;
    uint64_t hz = (vga->r.misc & 0x0C) == 0x04 ? 28322000 : 25175000;
    if (vga->r.seq[1] & 0x08)
        hz /= 2;
    uint64_t htotal = vga->r.crtc[0] + 5u, vtotal = crtc_vertical(vga, 6, 0, 5) + 2u;
    if (htotal < 10 || vtotal < 10) {        /* unprogrammed: ~31.5 kHz / 70 Hz */
        htotal = 100, vtotal = 449, dots = 8, hz = 25175000;
    }
    uint64_t line_ns = htotal * dots * 1000000000ull / hz;
    if (!line_ns)
        line_ns = 1;
    uint64_t now = clock_now(vga->clk);
    uint64_t line = (now / line_ns) % vtotal, in_line = now % line_ns;
    unsigned vrs = crtc_vertical(vga, 0x10, 2, 7);
    unsigned vre_len = ((vga->r.crtc[0x11] & 0x0F) - (vrs & 0x0F)) & 0x0F;
    if (!vre_len)
        vre_len = 16;
    unsigned vde = crtc_vertical(vga, 0x12, 1, 6) + 1u;
    uint64_t hde_ns = (vga->r.crtc[1] + 1u) * line_ns / htotal;
    bool vretrace = line >= vrs && line < vrs + vre_len;
    bool disabled = line >= vde || in_line >= hde_ns;
    vga->r.ar_flipflop = 0;                  /* reading 0x3?A resets it */
    return (uint8_t)((vretrace ? 0x08 : 0) | (disabled || vretrace ? 0x01 : 0));
}

/* ------------------------------------------------------------------------ */
/* Port I/O 0x3B0-0x3DF                                                     */
/* ------------------------------------------------------------------------ */

/* Ports 0x3B4/5/A belong to the monochrome address, 0x3D4/5/A to colour;
 * misc output bit 0 selects which one answers (the other is unclaimed). */
static bool vga_port_absent(const Vga *vga, uint16_t port)
{
    if (port >= 0x3B0 && port <= 0x3BF)
        return vga_color_io(vga);
    if (port >= 0x3D0 && port <= 0x3DF)
        return !vga_color_io(vga);
    return false;
}

static uint8_t vga_dac_read(Vga *vga)
{
    uint8_t v = vga->r.dac[vga->r.dac_read_index * 3 + vga->r.dac_sub];
    if (++vga->r.dac_sub == 3) {
        vga->r.dac_sub = 0;
        vga->r.dac_read_index++;
    }
    return v;
}

static void vga_dac_write(Vga *vga, uint8_t v)
{
    vga->r.dac_latch[vga->r.dac_sub] = v;
    if (++vga->r.dac_sub == 3) {
        memcpy(&vga->r.dac[vga->r.dac_write_index * 3], vga->r.dac_latch, 3);
        vga->r.dac_sub = 0;
        vga->r.dac_write_index++;
        vga->palette_valid = false;
    }
}

static uint8_t vga_port_read(Vga *vga, uint16_t port)
{
    if (vga_port_absent(vga, port))
        return 0xFF;
    switch (port) {
    case 0x3C0: return vga->r.ar_index;
    case 0x3C1: return vga->r.ar[vga->r.ar_index & 0x1F];
    case 0x3C2: return 0x10;                 /* input status 0: switch sense */
    case 0x3C3: return vga->r.vga_enable;
    case 0x3C4: return vga->r.seq_index;
    case 0x3C5: return vga->r.seq[vga->r.seq_index & 7];
    case 0x3C6: return vga->r.pel_mask;
    case 0x3C7: return vga->r.dac_state;
    case 0x3C8: return vga->r.dac_write_index;
    case 0x3C9: return vga_dac_read(vga);
    case 0x3CA: return vga->r.feature;
    case 0x3CC: return vga->r.misc;
    case 0x3CE: return vga->r.gc_index;
    case 0x3CF: return vga->r.gc[vga->r.gc_index & 0x0F];
    case 0x3B4: case 0x3D4: return vga->r.crtc_index;
    case 0x3B5: case 0x3D5: return vga->r.crtc[vga->r.crtc_index & 0x3F];
    case 0x3BA: case 0x3DA: return vga_status1(vga);
    default: return 0xFF;
    }
}

static void vga_ar_write(Vga *vga, uint8_t v)
{
    if (!vga->r.ar_flipflop) {
        if ((v ^ vga->r.ar_index) & 0x20)
            vga->full_redraw = true;         /* palette address source: blanking */
        vga->r.ar_index = v & 0x3F;
    } else {
        unsigned i = vga->r.ar_index & 0x1F;
        if (i < 0x15)
            vga->r.ar[i] = v;
        vga->full_redraw = true;
    }
    vga->r.ar_flipflop ^= 1;
}

/* CR11 bit 7 write-protects CR00-CR07, except the line compare bit 8 in
 * CR07 bit 4 (IBM VGA TR, Vertical Retrace End register). */
static void vga_crtc_write(Vga *vga, uint8_t v)
{
    unsigned i = vga->r.crtc_index & 0x3F;
    if (i > 0x18)
        return;
    if ((vga->r.crtc[0x11] & 0x80) && i <= 7) {
        if (i == 7)
            vga->r.crtc[7] = (uint8_t)((vga->r.crtc[7] & ~0x10) | (v & 0x10));
        vga->full_redraw = true;
        return;
    }
    if (vga->r.crtc[i] == v)
        return;
    vga->r.crtc[i] = v;
    /* the cursor (CR0A/0B shape, CR0E/0F place) redraws only the lines it
     * leaves and enters (vga_render compares); all else: everything */
    if (i != 0x0A && i != 0x0B && i != 0x0E && i != 0x0F)
        vga->full_redraw = true;
}

/* Register bits that change the picture; the rest (map mask, set/reset,
 * bit mask, write/read modes...) only steer CPU accesses, so drawing
 * programs that rewrite them for every pixel do not force full redraws. */
static const uint8_t seq_display_bits[8] = {0x00, 0x3D, 0x00, 0x3F, 0x00};
static const uint8_t gc_display_bits[16] = {0, 0, 0, 0, 0, 0x60, 0x0F, 0, 0};

static void vga_seq_write(Vga *vga, uint8_t v)
{
    unsigned i = vga->r.seq_index & 7;
    if (i > 4)
        return;
    if ((vga->r.seq[i] ^ v) & seq_display_bits[i])
        vga->full_redraw = true;
    vga->r.seq[i] = v;
}

static void vga_gc_write(Vga *vga, uint8_t v)
{
    unsigned i = vga->r.gc_index & 0x0F;
    if (i > 8)
        return;
    if ((vga->r.gc[i] ^ v) & gc_display_bits[i])
        vga->full_redraw = true;
    vga->r.gc[i] = v;
}

static void vga_port_write(Vga *vga, uint16_t port, uint8_t v)
{
    if (vga_port_absent(vga, port))
        return;
    switch (port) {
    case 0x3C0: vga_ar_write(vga, v); break;
    case 0x3C2: vga->r.misc = v; vga->full_redraw = true; break;
    case 0x3C3: vga->r.vga_enable = v & 1; break;
    case 0x3C4: vga->r.seq_index = v; break;
    case 0x3C5: vga_seq_write(vga, v); break;
    case 0x3C6: vga->r.pel_mask = v; vga->palette_valid = false; break;
    case 0x3C7:
        vga->r.dac_read_index = v, vga->r.dac_sub = 0, vga->r.dac_state = 3;
        break;
    case 0x3C8:
        vga->r.dac_write_index = v, vga->r.dac_sub = 0, vga->r.dac_state = 0;
        break;
    case 0x3C9: vga_dac_write(vga, v); break;
    case 0x3CE: vga->r.gc_index = v; break;
    case 0x3CF: vga_gc_write(vga, v); break;
    case 0x3B4: case 0x3D4: vga->r.crtc_index = v; break;
    case 0x3B5: case 0x3D5: vga_crtc_write(vga, v); break;
    case 0x3BA: case 0x3DA: vga->r.feature = v; break;
    default: break;
    }
}

static uint32_t vga_io_read(void *dev, uint32_t offset, unsigned width)
{
    (void)width;
    return vga_port_read(dev, (uint16_t)(0x3B0 + offset));
}

static void vga_io_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)width;
    vga_port_write(dev, (uint16_t)(0x3B0 + offset), (uint8_t)value);
}

static const IoOps vga_io_ops = {vga_io_read, vga_io_write, IO_W8, "vga"};

/* ------------------------------------------------------------------------ */
/* Bochs VBE DISPI (index 0x1CE, data 0x1CF)                                */
/* ------------------------------------------------------------------------ */
static uint16_t vbe_read_reg(Vga *vga)
{
    unsigned i = vga->r.vbe_index;
    if (i >= VBE_NREGS)
        return 0;
    if (vga->r.vbe[VBE_ENABLE] & VBE_GETCAPS) {
        static const uint16_t caps[4] = {0, VBE_MAX_XRES, VBE_MAX_YRES, 32};
        if (i >= VBE_XRES && i <= VBE_BPP)
            return caps[i];
    }
    if (i == VBE_VIDEO_MEMORY_64K)
        return (uint16_t)(vga->vram_size >> 16);
    return vga->r.vbe[i];
}

static bool vbe_bpp_valid(unsigned bpp)
{
    return bpp == 4 || bpp == 8 || bpp == 15 || bpp == 16 || bpp == 24 || bpp == 32;
}

/* Clamps the mode to what fits in VRAM and derives the virtual height, as
 * the Bochs/QEMU adapter does when a mode is enabled or panned. */
static void vbe_fixup(Vga *vga)
{
    uint16_t *r = vga->r.vbe;
    if (!vbe_bpp_valid(r[VBE_BPP]))
        r[VBE_BPP] = 8;
    if (r[VBE_XRES] == 0 || r[VBE_XRES] > VBE_MAX_XRES)
        r[VBE_XRES] = r[VBE_XRES] ? VBE_MAX_XRES : 8;
    if (r[VBE_YRES] == 0 || r[VBE_YRES] > VBE_MAX_YRES)
        r[VBE_YRES] = r[VBE_YRES] ? VBE_MAX_YRES : 1;
    if (r[VBE_VIRT_WIDTH] < r[VBE_XRES])
        r[VBE_VIRT_WIDTH] = r[VBE_XRES];
    uint32_t line = vga_vbe_line_bytes(vga);
    if (!line)
        line = 1;
    uint32_t max_h = vga->vram_size / line;
    if (max_h < r[VBE_YRES]) {               /* too big: fall back to 640x480 */
        r[VBE_XRES] = r[VBE_VIRT_WIDTH] = 640, r[VBE_YRES] = 480;
        line = vga_vbe_line_bytes(vga);
        max_h = vga->vram_size / line;
    }
    r[VBE_VIRT_HEIGHT] = (uint16_t)(max_h > 0xFFFF ? 0xFFFF : max_h);
    if (r[VBE_X_OFFSET] >= r[VBE_VIRT_WIDTH])
        r[VBE_X_OFFSET] = 0;
    if ((uint32_t)r[VBE_Y_OFFSET] + r[VBE_YRES] > r[VBE_VIRT_HEIGHT])
        r[VBE_Y_OFFSET] = 0;
}

static void vbe_write_enable(Vga *vga, uint16_t v)
{
    bool was = vga_vbe_enabled(vga);
    vga->r.vbe[VBE_ENABLE] = v & (VBE_ENABLED | VBE_GETCAPS | VBE_8BIT_DAC |
                                  VBE_LFB_ENABLED | VBE_NOCLEARMEM);
    if ((v & VBE_ENABLED) && !was) {
        vga->r.vbe[VBE_BANK] = 0;
        vga->r.vbe[VBE_X_OFFSET] = vga->r.vbe[VBE_Y_OFFSET] = 0;
        vga->r.vbe[VBE_VIRT_WIDTH] = 0;
        vbe_fixup(vga);
        if (!(v & VBE_NOCLEARMEM))
            memset(vga->vram, 0, (size_t)vga_vbe_line_bytes(vga) * vga->r.vbe[VBE_YRES]);
    }
    vga->palette_valid = false;
    vga->full_redraw = true;
}

static void vbe_write_reg(Vga *vga, uint16_t v)
{
    unsigned i = vga->r.vbe_index;
    uint16_t *r = vga->r.vbe;
    switch (i) {
    case VBE_ID:
        if (v >= 0xB0C0 && v <= 0xB0C5)
            r[VBE_ID] = v;
        return;
    case VBE_XRES: case VBE_YRES: case VBE_BPP:
        if (!vga_vbe_enabled(vga))           /* mode registers latch at enable */
            r[i] = v;
        return;
    case VBE_ENABLE: vbe_write_enable(vga, v); return;
    case VBE_BANK:
        r[VBE_BANK] = (uint16_t)(v < (vga->vram_size >> 16) ? v : 0);
        return;
    case VBE_VIRT_WIDTH: case VBE_X_OFFSET: case VBE_Y_OFFSET:
        r[i] = v;
        if (vga_vbe_enabled(vga))
            vbe_fixup(vga);
        vga->full_redraw = true;
        return;
    default:
        return;                              /* VIRT_HEIGHT, VIDEO_MEMORY: read-only */
    }
}

static uint32_t vbe_io_read(void *dev, uint32_t offset, unsigned width)
{
    Vga *vga = dev;
    uint16_t v = offset == 0 ? vga->r.vbe_index : vbe_read_reg(vga);
    (void)width;
    return v;
}

static void vbe_io_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    Vga *vga = dev;
    (void)width;
    if (offset == 0)
        vga->r.vbe_index = (uint16_t)value;
    else
        vbe_write_reg(vga, (uint16_t)value);
}

/* The DISPI registers are 16-bit: index at 0x1CE, data at 0x1CF (and at
 * 0x1D0, the older Bochs data port), so a word access at 0x1CF covers
 * 0x1CF-0x1D0.  An 8-bit access touches the low byte. */
static const IoOps vbe_io_ops = {vbe_io_read, vbe_io_write, IO_W8 | IO_W16, "vbe-dispi"};

/* ------------------------------------------------------------------------ */
/* Creation, reset, state                                                   */
/* ------------------------------------------------------------------------ */

/* Power-on: an unprogrammed adapter.  The VGA BIOS programs a mode. */
static void vga_reset(void *dev)
{
    Vga *vga = dev;
    memset(&vga->r, 0, sizeof vga->r);
    vga->r.misc = 0x01;                      /* colour I/O addresses */
    vga->r.pel_mask = 0xFF;
    vga->r.seq[2] = 0x0F;
    vga->r.gc[8] = 0xFF;
    vga->r.vbe[VBE_ID] = 0xB0C5;
    vga->r.vbe[VBE_XRES] = 640, vga->r.vbe[VBE_YRES] = 480, vga->r.vbe[VBE_BPP] = 8;
    vga->full_redraw = true;
    vga->palette_valid = false;
    vga->blink_phase = -1;
}

static void vga_save(void *dev, StateStream *s)
{
    Vga *vga = dev;
    state_put(s, "vga.regs", &vga->r, sizeof vga->r);
    state_put(s, "vga.vram", vga->vram, vga->vram_size);
}

static int vga_load(void *dev, StateStream *s)
{
    Vga *vga = dev;
    if (state_get(s, "vga.regs", &vga->r, sizeof vga->r) < 0 ||
        state_get(s, "vga.vram", vga->vram, vga->vram_size) < 0)
        return -1;
    vga->full_redraw = true;
    vga->palette_valid = false;
    vga->blink_phase = -1;
    return 0;
}

static void vga_destroy(void *dev)
{
    Vga *vga = dev;
    if (!vga)
        return;
    /* Memory mappings (0xA0000 window, fixed LFB) stay: bus_unmap tells the
     * CPU its map changed, and at board teardown the CPU is already gone;
     * the memory map dies with its bus.  Ports are only table entries. */
    bus_unmap_io(vga->bus, 0x3B0, 0x30);
    bus_unmap_io(vga->bus, 0x1CE, 3);
    free(vga->vram);
    free(vga->dirty);
    free(vga->pixels);
    free(vga->snapshot);
    free(vga);
}

const DeviceClass vga_device_class = {"vga", vga_reset, vga_save, vga_load, vga_destroy};

static int vga_attach_pci(Vga *vga, PciBus *pci, const uint8_t *bios, size_t bios_len,
                          VsxError *err)
{
    static const PciDeviceInfo info = {
        .vendor_id = 0x1234, .device_id = 0x1111, .revision = 2,
        .class_code = 0x03, .subclass = 0x00, .prog_if = 0x00,
        .subsystem_vendor = 0x1AF4, .subsystem_id = 0x1100, .name = "vga",
    };
    vga->pci = pci_add_device(pci, 2 << 3, &info, NULL, vga);
    if (!vga->pci)
        return vsx_errorf(err, "vga: PCI slot 2 is taken");
    PciBar bar = {.type = PCI_BAR_MEM32_PREFETCH, .size = vga->vram_size,
                  .ram = vga->vram, .dev = vga};
    pci_set_bar(vga->pci, 0, &bar);
    if (bios && bios_len && pci_set_rom(vga->pci, bios, bios_len) < 0)
        return vsx_errorf(err, "vga: cannot set the VGA BIOS as expansion ROM");
    return 0;
}

/* Maps ports and the legacy window; on a conflict undoes what it mapped. */
static int vga_map(Vga *vga)
{
    if (bus_map_io(vga->bus, 0x3B0, 0x30, &vga_io_ops, vga) < 0)
        return -1;
    if (bus_map_io(vga->bus, 0x1CE, 3, &vbe_io_ops, vga) < 0) {
        bus_unmap_io(vga->bus, 0x3B0, 0x30);
        return -1;
    }
    if (bus_map_mmio(vga->bus, 0xA0000, 0x20000, &vga_mmio_ops, vga) < 0) {
        bus_unmap_io(vga->bus, 0x3B0, 0x30);
        bus_unmap_io(vga->bus, 0x1CE, 3);
        return -1;
    }
    return 0;
}

static bool vram_size_valid(uint32_t size)
{
    return size >= (1u << 20) && size <= (256u << 20) && !(size & (size - 1));
}

Vga *vga_create(Bus *bus, PciBus *pci, Clock *clk, uint32_t vram_size,
                const uint8_t *vgabios, size_t vgabios_len, VsxError *err)
{
    if (!vram_size)
        vram_size = 16u << 20;
    if (!vram_size_valid(vram_size)) {
        vsx_errorf(err, "vga: video memory must be a power of two from 1M to 256M");
        return NULL;
    }
    Vga *vga = calloc(1, sizeof *vga);
    if (!vga || !(vga->vram = calloc(1, vram_size)) ||
        !(vga->dirty = calloc(vram_size >> 12, 1))) {
        vsx_errorf(err, "vga: out of memory for %u MiB of video memory", vram_size >> 20);
        vga_destroy(vga);
        return NULL;
    }
    vga->bus = bus, vga->clk = clk, vga->vram_size = vram_size;
    vga_reset(vga);
    if (vga_map(vga) < 0) {
        vsx_errorf(err, "vga: its ports or 0xA0000-0xBFFFF are already in use");
        free(vga->vram), free(vga->dirty), free(vga);
        return NULL;
    }
    if (pci) {
        if (vga_attach_pci(vga, pci, vgabios, vgabios_len, err) < 0) {
            vga_destroy(vga);
            return NULL;
        }
    } else if (bus_map_ram(bus, VGA_LFB_FIXED, vram_size, vga->vram, false) == 0) {
        vga->lfb_fixed = true;
    }
    return vga;
}
