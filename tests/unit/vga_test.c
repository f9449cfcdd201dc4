/* tests/unit/vga_test.c -- the VGA and Bochs VBE driven through the port and
 * memory buses as a guest would, rendered and compared with pixels the test
 * computes itself from the standard register values (IBM VGA TR mode tables). */
#include <stdlib.h>
#include <string.h>

#include "../../chipset/chipset.h"
#include "../../video/video.h"
#include "test.h"

typedef struct Rig {
    Bus *bus;
    Clock *clk;
    Vga *vga;
} Rig;

static int rig_open(Rig *r)
{
    VsxError err = {{0}};
    r->bus = bus_create(1u << 20, &err);
    r->clk = clock_create(CLOCK_VIRTUAL);
    r->vga = r->bus && r->clk ? vga_create(r->bus, NULL, r->clk, 16u << 20, NULL, 0, &err) : NULL;
    if (!r->vga)
        test_fail(__FILE__, __LINE__, "setup: %s", err.msg);
    return r->vga ? 0 : -1;
}

static void rig_close(Rig *r)
{
    if (r->vga)
        vga_device_class.destroy(r->vga);
    if (r->bus)
        bus_destroy(r->bus);
    if (r->clk)
        clock_destroy(r->clk);
}

static void out8(Rig *r, uint16_t port, uint8_t v) { bus_io_write(r->bus, port, v, 1); }
static uint8_t in8(Rig *r, uint16_t port) { return (uint8_t)bus_io_read(r->bus, port, 1); }
static void idx(Rig *r, uint16_t port, uint8_t i, uint8_t v) { out8(r, port, i); out8(r, port + 1, v); }
static void wr8(Rig *r, uint32_t a, uint8_t v) { bus_mem_write(r->bus, a, v, 1); }
static uint8_t rd8(Rig *r, uint32_t a) { return (uint8_t)bus_mem_read(r->bus, a, 1); }

typedef struct ModeRegs {
    uint8_t misc, seq[5], crtc[25], gc[9], ar[21];
} ModeRegs;

/* Standard register sets (IBM VGA Technical Reference, BIOS mode tables). */
static const ModeRegs mode3 = {
    0x67, {0x03, 0x00, 0x03, 0x00, 0x02},
    {0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F, 0x0D, 0x0E, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x1F, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0E, 0x00, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
     0x3D, 0x3E, 0x3F, 0x0C, 0x00, 0x0F, 0x08, 0x00}};
static const ModeRegs mode12 = {
    0xE3, {0x03, 0x01, 0x0F, 0x00, 0x06},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0x0B, 0x3E, 0x00, 0x40, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0xEA, 0x8C, 0xDF, 0x28, 0x00, 0xE7, 0x04, 0xE3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07, 0x38, 0x39, 0x3A, 0x3B, 0x3C,
     0x3D, 0x3E, 0x3F, 0x01, 0x00, 0x0F, 0x00, 0x00}};
static const ModeRegs mode13 = {
    0x63, {0x03, 0x01, 0x0F, 0x00, 0x0E},
    {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0x41, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x05, 0x0F, 0xFF},
    {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C,
     0x0D, 0x0E, 0x0F, 0x41, 0x00, 0x0F, 0x00, 0x00}};
static const ModeRegs mode4 = {
    0x63, {0x03, 0x09, 0x03, 0x00, 0x02},
    {0x2D, 0x27, 0x28, 0x90, 0x2B, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
     0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x14, 0x00, 0x96, 0xB9, 0xA2, 0xFF},
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x30, 0x0F, 0x00, 0xFF},
    {0x00, 0x13, 0x15, 0x17, 0x02, 0x04, 0x06, 0x07, 0x10, 0x11, 0x12, 0x13, 0x14,
     0x15, 0x16, 0x17, 0x01, 0x00, 0x03, 0x00, 0x00}};

static void set_mode(Rig *r, const ModeRegs *m)
{
    out8(r, 0x3C2, m->misc);
    for (int i = 0; i < 5; i++)
        idx(r, 0x3C4, (uint8_t)i, m->seq[i]);
    idx(r, 0x3D4, 0x11, 0x00); /* unlock CR00-CR07 */
    for (int i = 0; i < 25; i++)
        idx(r, 0x3D4, (uint8_t)i, m->crtc[i]);
    for (int i = 0; i < 9; i++)
        idx(r, 0x3CE, (uint8_t)i, m->gc[i]);
    (void)in8(r, 0x3DA); /* attribute flip-flop to "index" */
    for (int i = 0; i < 21; i++) {
        out8(r, 0x3C0, (uint8_t)i);
        out8(r, 0x3C0, m->ar[i]);
    }
    out8(r, 0x3C0, 0x20); /* palette address source: display on */
}

/* DAC entry i = (r, g, b) 6-bit */
static void set_dac(Rig *r, uint8_t i, uint8_t red, uint8_t green, uint8_t blue)
{
    out8(r, 0x3C8, i);
    out8(r, 0x3C9, red), out8(r, 0x3C9, green), out8(r, 0x3C9, blue);
}

static uint32_t rgb6(uint8_t red, uint8_t green, uint8_t blue)
{
    uint32_t a = (uint32_t)(red << 2 | red >> 4), b = (uint32_t)(green << 2 | green >> 4),
             c = (uint32_t)(blue << 2 | blue >> 4);
    return a << 16 | b << 8 | c;
}

static uint32_t px(const VgaFrame *f, int x, int y) { return f->pixels[(size_t)y * f->stride + x]; }

/* The standard 16 EGA colours the BIOS loads into DAC 0-63. */
static void load_ega_dac(Rig *r)
{
    for (int i = 0; i < 64; i++) {
        uint8_t rr = (uint8_t)(((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15);
        uint8_t gg = (uint8_t)(((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15);
        uint8_t bb = (uint8_t)((i & 1) * 0x2A + ((i >> 3) & 1) * 0x15);
        set_dac(r, (uint8_t)i, rr, gg, bb);
    }
}

static uint32_t ega_rgb(int dac)
{
    uint8_t rr = (uint8_t)(((dac >> 2) & 1) * 0x2A + ((dac >> 5) & 1) * 0x15);
    uint8_t gg = (uint8_t)(((dac >> 1) & 1) * 0x2A + ((dac >> 4) & 1) * 0x15);
    uint8_t bb = (uint8_t)((dac & 1) * 0x2A + ((dac >> 3) & 1) * 0x15);
    return rgb6(rr, gg, bb);
}

TEST(vga, mode13h_chained_pixels)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode13);
    for (int i = 0; i < 256; i++)
        set_dac(&r, (uint8_t)i, (uint8_t)(i & 63), (uint8_t)((i * 3) & 63), (uint8_t)((255 - i) & 63));
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 320; x++)
            wr8(&r, 0xA0000 + (uint32_t)(y * 320 + x), (uint8_t)(x ^ y));
    VgaFrame f;
    CHECK(vga_render(r.vga, &f));
    CHECK_EQ(f.width, 320);
    CHECK_EQ(f.height, 200);
    int bad = 0;
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 320; x++) {
            int c = (x ^ y) & 255;
            bad += px(&f, x, y) != rgb6((uint8_t)(c & 63), (uint8_t)((c * 3) & 63), (uint8_t)((255 - c) & 63));
        }
    CHECK_EQ(bad, 0);
    CHECK_EQ(rd8(&r, 0xA0000 + 321), (321 % 320) ^ 1);
    /* chain-4 uses every fourth byte of each plane (Abrash, mode X chapter):
     * plane 1 at offset 4 holds pixel 5 */
    out8(&r, 0x3C4, 4), out8(&r, 0x3C5, 0x06); /* chain-4 off */
    idx(&r, 0x3CE, 4, 1);                       /* read map 1 */
    CHECK_EQ(rd8(&r, 0xA0004), 5);
    rig_close(&r);
}

TEST(vga, mode13h_idle_frame_renders_nothing)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode13);
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK(!vga_render(r.vga, &f));
    wr8(&r, 0xA0000 + 100 * 320 + 7, 9);
    CHECK(vga_render(r.vga, &f));
    CHECK(f.dirty_y0 <= 100 && f.dirty_y1 >= 101);
    CHECK(f.dirty_y1 - f.dirty_y0 < 20); /* one page of VRAM, not the screen */
    rig_close(&r);
}

/* Mode 12h: the write modes of the graphics controller. */
TEST(vga, mode12h_write_modes)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode12);
    load_ega_dac(&r);
    /* write mode 0 with set/reset: fill row 0 byte 0 with colour 12 */
    idx(&r, 0x3CE, 0, 12), idx(&r, 0x3CE, 1, 0x0F);
    wr8(&r, 0xA0000, 0x00);
    idx(&r, 0x3CE, 1, 0);
    /* write mode 0 plain with map mask 0b0101 and bit mask 0xF0 */
    idx(&r, 0x3C4, 2, 0x05), idx(&r, 0x3CE, 8, 0xF0);
    (void)rd8(&r, 0xA0000 + 80);             /* latches = 0 */
    wr8(&r, 0xA0000 + 80, 0xAA);             /* pixels 0,2 colour 5; others 0 */
    idx(&r, 0x3C4, 2, 0x0F), idx(&r, 0x3CE, 8, 0xFF);
    /* write mode 2: colour from data, bit mask 0x3C */
    idx(&r, 0x3CE, 5, 0x02), idx(&r, 0x3CE, 8, 0x3C);
    (void)rd8(&r, 0xA0000 + 160);
    wr8(&r, 0xA0000 + 160, 9);
    /* write mode 3: set/reset colour 14, mask = rotated data & bit mask */
    idx(&r, 0x3CE, 5, 0x03), idx(&r, 0x3CE, 8, 0xFF), idx(&r, 0x3CE, 0, 14);
    (void)rd8(&r, 0xA0000 + 240);
    wr8(&r, 0xA0000 + 240, 0x81);
    /* write mode 1: copy byte 0 of row 0 (colour 12) to row 4 */
    idx(&r, 0x3CE, 5, 0x01);
    (void)rd8(&r, 0xA0000);
    wr8(&r, 0xA0000 + 320, 0x55);
    idx(&r, 0x3CE, 5, 0x00);
    /* XOR logic op with latches: row 5 = colour 12 ^ 3 = 15 on the mask 0x0F */
    idx(&r, 0x3CE, 3, 0x18), idx(&r, 0x3CE, 0, 3), idx(&r, 0x3CE, 1, 0x0F), idx(&r, 0x3CE, 8, 0x0F);
    (void)rd8(&r, 0xA0000);
    wr8(&r, 0xA0000 + 400, 0);
    idx(&r, 0x3CE, 3, 0), idx(&r, 0x3CE, 1, 0), idx(&r, 0x3CE, 8, 0xFF);

    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 640);
    CHECK_EQ(f.height, 480);
    static const int want[6][8] = {
        {12, 12, 12, 12, 12, 12, 12, 12}, {5, 0, 5, 0, 0, 0, 0, 0},
        {0, 0, 9, 9, 9, 9, 0, 0},         {14, 0, 0, 0, 0, 0, 0, 14},
        {12, 12, 12, 12, 12, 12, 12, 12}, {12, 12, 12, 12, 15, 15, 15, 15}};
    static const int dac_of[16] = {0, 1, 2, 3, 4, 5, 20, 7, 56, 57, 58, 59, 60, 61, 62, 63};
    for (int y = 0; y < 6; y++)
        for (int x = 0; x < 8; x++)
            if (px(&f, x, y) != ega_rgb(dac_of[want[y][x]]))
                test_fail(__FILE__, __LINE__, "pixel %d,%d = %06x want colour %d", x, y,
                          px(&f, x, y), want[y][x]);
    /* read mode 1: colour compare 12 on row 3 -> pixels 0 and 7 are 14 */
    idx(&r, 0x3CE, 5, 0x08), idx(&r, 0x3CE, 2, 14), idx(&r, 0x3CE, 7, 0x0F);
    CHECK_EQ(rd8(&r, 0xA0000 + 240), 0x81);
    idx(&r, 0x3CE, 7, 0x00);                 /* don't care everything: all match */
    CHECK_EQ(rd8(&r, 0xA0000 + 240), 0xFF);
    /* read mode 0, plane 3 of row 0 (colour 12 = 1100b) */
    idx(&r, 0x3CE, 5, 0x00), idx(&r, 0x3CE, 4, 3);
    CHECK_EQ(rd8(&r, 0xA0000), 0xFF);
    idx(&r, 0x3CE, 4, 0);
    CHECK_EQ(rd8(&r, 0xA0000), 0x00);
    rig_close(&r);
}

static const uint8_t glyph_a[16] = {0x00, 0x00, 0x18, 0x3C, 0x66, 0xC3, 0xC3, 0xFF,
                                    0xC3, 0xC3, 0xC3, 0xC3, 0x00, 0x00, 0x00, 0x00};

/* Loads glyphs into plane 2 the way the BIOS does: sequential addressing,
 * map mask plane 2, A0000 window. */
static void load_glyph(Rig *r, uint8_t ch, const uint8_t *rows, uint32_t map_base)
{
    idx(r, 0x3C4, 2, 0x04), idx(r, 0x3C4, 4, 0x06);
    idx(r, 0x3CE, 4, 0x02), idx(r, 0x3CE, 5, 0x00), idx(r, 0x3CE, 6, 0x04);
    for (int i = 0; i < 32; i++)
        wr8(r, 0xA0000 + map_base + ch * 32u + (uint32_t)i, i < 16 ? rows[i] : 0);
    idx(r, 0x3C4, 2, 0x03), idx(r, 0x3C4, 4, 0x02);
    idx(r, 0x3CE, 4, 0x00), idx(r, 0x3CE, 5, 0x10), idx(r, 0x3CE, 6, 0x0E);
}

TEST(vga, text_mode3_custom_font)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode3);
    load_ega_dac(&r);
    load_glyph(&r, 'A', glyph_a, 0);
    uint8_t box[16];
    memset(box, 0x81, sizeof box);           /* bits 7 and 0 in every row */
    load_glyph(&r, 0xC4, box, 0);            /* line-graphics range: 9th column copies */
    load_glyph(&r, 0x41 + 0x40, box, 0);     /* 0x81 outside it: 9th is background */
    idx(&r, 0x3D4, 0x0A, 0x20);              /* cursor off: stable pixels */
    wr8(&r, 0xB8000, 'A'), wr8(&r, 0xB8001, 0x1E);   /* yellow on blue */
    wr8(&r, 0xB8002, 0xC4), wr8(&r, 0xB8003, 0x07);
    wr8(&r, 0xB8004, 0x81), wr8(&r, 0xB8005, 0x07);
    wr8(&r, 0xB8000 + 160, 'h'), wr8(&r, 0xB8001 + 160, 0x07);
    wr8(&r, 0xB8002 + 160, 'i'), wr8(&r, 0xB8003 + 160, 0x07);
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 720);
    CHECK_EQ(f.height, 400);
    uint32_t yellow = ega_rgb(62), blue = ega_rgb(1), grey = ega_rgb(7), black = ega_rgb(0);
    int bad = 0;
    for (int y = 0; y < 16; y++)
        for (int x = 0; x < 9; x++) {
            bool on = x < 8 && (glyph_a[y] & (0x80 >> x));
            bad += px(&f, x, y) != (on ? yellow : blue);
        }
    CHECK_EQ(bad, 0);
    CHECK_EQ(px(&f, 9 + 8, 3), grey);        /* 0xC4: 9th column = 8th */
    CHECK_EQ(px(&f, 18 + 8, 3), black);      /* 0x81: 9th column = background */
    CHECK_EQ(px(&f, 18 + 7, 3), grey);
    char text[8192];
    size_t n = vga_screen_text(r.vga, text, sizeof text);
    CHECK(n > 0);
    CHECK(strncmp(text, "A─ü\nhi\n\n", 9) == 0);
    rig_close(&r);
}

TEST(vga, text_cursor_blinks_on_virtual_clock)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode3);
    load_ega_dac(&r);
    idx(&r, 0x3D4, 0x0E, 0), idx(&r, 0x3D4, 0x0F, 81); /* row 1, column 1 */
    wr8(&r, 0xB8000 + 162, ' '), wr8(&r, 0xB8001 + 162, 0x07);
    VgaFrame f;
    int on = 0, off = 0;
    for (int i = 0; i < 40; i++) {
        vga_render(r.vga, &f);
        if (px(&f, 9 + 3, 16 + 14) == ega_rgb(7))
            on++;
        else
            off++;
        clock_advance(r.clk, 1000000000ull / 35);
    }
    CHECK(on > 5);
    CHECK(off > 5);
    rig_close(&r);
}

TEST(vga, split_screen_and_panning)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode12);
    load_ega_dac(&r);
    /* top: start address 80 (row 1 memory); bottom after line 100: address 0 */
    idx(&r, 0x3CE, 1, 0x0F), idx(&r, 0x3CE, 0, 4);
    for (int i = 0; i < 80; i++)
        wr8(&r, 0xA0000 + (uint32_t)i, 0);   /* row 0 of memory: colour 4 */
    idx(&r, 0x3CE, 0, 2);
    for (int i = 80; i < 160; i++)
        wr8(&r, 0xA0000 + (uint32_t)i, 0);   /* row 1: colour 2 */
    idx(&r, 0x3CE, 1, 0);
    idx(&r, 0x3D4, 0x0C, 0), idx(&r, 0x3D4, 0x0D, 80);
    idx(&r, 0x3D4, 0x18, 100);
    idx(&r, 0x3D4, 0x07, 0x3E & ~0x10);      /* line compare bit 8 = 0 */
    idx(&r, 0x3D4, 0x09, 0x00);              /* bit 9 = 0 */
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 5, 0), ega_rgb(2));
    CHECK_EQ(px(&f, 5, 100), ega_rgb(4));
    CHECK_EQ(px(&f, 5, 101), ega_rgb(2));    /* row 1 of memory again */
    rig_close(&r);
}

TEST(vga, mode_x_unchained)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode13);
    idx(&r, 0x3C4, 4, 0x06);                 /* chain-4 off */
    idx(&r, 0x3D4, 0x11, 0x2C);              /* unlock */
    idx(&r, 0x3D4, 0x14, 0x00), idx(&r, 0x3D4, 0x17, 0xE3);
    out8(&r, 0x3C2, 0xE3);
    idx(&r, 0x3D4, 0x06, 0x0D), idx(&r, 0x3D4, 0x07, 0x3E), idx(&r, 0x3D4, 0x10, 0xEA);
    idx(&r, 0x3D4, 0x11, 0xAC), idx(&r, 0x3D4, 0x12, 0xDF), idx(&r, 0x3D4, 0x15, 0xE7);
    idx(&r, 0x3D4, 0x16, 0x06);
    for (int i = 0; i < 256; i++)
        set_dac(&r, (uint8_t)i, (uint8_t)(i & 63), (uint8_t)(i >> 2), 0);
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) {
            idx(&r, 0x3C4, 2, (uint8_t)(1 << (x & 3)));
            wr8(&r, 0xA0000 + (uint32_t)(y * 80 + x / 4), (uint8_t)(x + y));
        }
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 320);
    CHECK_EQ(f.height, 240);
    int bad = 0;
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++) {
            int c = (x + y) & 255;
            bad += px(&f, x, y) != rgb6((uint8_t)(c & 63), (uint8_t)(c >> 2), 0);
        }
    CHECK_EQ(bad, 0);
    rig_close(&r);
}

TEST(vga, cga_mode4_interleaved_banks)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode4);
    load_ega_dac(&r);
    /* even scan lines at B8000, odd at BA000; 2 bits per pixel */
    wr8(&r, 0xB8000, 0x1B);                  /* line 0: pixels 0,1,2,3 */
    wr8(&r, 0xBA000, 0xE4);                  /* line 1: pixels 3,2,1,0 */
    wr8(&r, 0xB8000 + 80, 0xFF);             /* line 2 */
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 320);
    CHECK_EQ(f.height, 200);
    /* palette 1 high intensity in the mode table: 0, 0x13, 0x15, 0x17 */
    static const int dac[4] = {0, 0x13, 0x15, 0x17};
    for (int x = 0; x < 4; x++) {
        CHECK_EQ(px(&f, x, 0), ega_rgb(dac[x]));
        CHECK_EQ(px(&f, x, 1), ega_rgb(dac[3 - x]));
        CHECK_EQ(px(&f, x, 2), ega_rgb(dac[3]));
    }
    CHECK_EQ(px(&f, 4, 0), ega_rgb(0));
    rig_close(&r);
}

static void dispi(Rig *r, uint16_t i, uint16_t v)
{
    bus_io_write(r->bus, 0x1CE, i, 2);
    bus_io_write(r->bus, 0x1CF, v, 2);
}

static uint16_t dispi_read(Rig *r, uint16_t i)
{
    bus_io_write(r->bus, 0x1CE, i, 2);
    return (uint16_t)bus_io_read(r->bus, 0x1CF, 2);
}

TEST(vbe, dispi_800x600x32_lfb)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    dispi(&r, 0, 0xB0C5);
    CHECK_EQ(dispi_read(&r, 0), 0xB0C5);
    CHECK_EQ(dispi_read(&r, 10), 256);       /* 16 MiB in 64 KiB units */
    dispi(&r, 4, 0x02);                      /* GETCAPS */
    CHECK_EQ(dispi_read(&r, 1), 2560);
    CHECK_EQ(dispi_read(&r, 2), 1600);
    dispi(&r, 4, 0);
    dispi(&r, 1, 800), dispi(&r, 2, 600), dispi(&r, 3, 32);
    dispi(&r, 4, 0x41);                      /* enabled, LFB */
    CHECK_EQ(dispi_read(&r, 6), 800);
    for (int y = 0; y < 600; y++)
        for (int x = 0; x < 800; x += 7)
            bus_mem_write(r.bus, 0xE0000000u + (uint32_t)(y * 800 + x) * 4,
                          (uint32_t)(x * 0x10101 + y * 0x100), 4);
    VgaFrame f;
    CHECK(vga_render(r.vga, &f));
    CHECK_EQ(f.width, 800);
    CHECK_EQ(f.height, 600);
    int bad = 0;
    for (int y = 0; y < 600; y++)
        for (int x = 0; x < 800; x++) {
            uint32_t want = x % 7 ? 0 : (uint32_t)(x * 0x10101 + y * 0x100) & 0xFFFFFF;
            bad += px(&f, x, y) != want;
        }
    CHECK_EQ(bad, 0);
    CHECK(!vga_render(r.vga, &f));           /* nothing changed */
    bus_mem_write(r.bus, 0xE0000000u + (300 * 800 + 5) * 4, 0x123456, 4);
    CHECK(vga_render(r.vga, &f));
    CHECK_EQ(f.dirty_y0, 300);
    CHECK_EQ(f.dirty_y1, 301);
    CHECK_EQ(px(&f, 5, 300), 0x123456);
    /* banked window: bank 1 covers LFB bytes 64K.. */
    dispi(&r, 5, 1);
    bus_mem_write(r.bus, 0xA0000, 0x00ABCDEF, 4);
    CHECK_EQ(bus_mem_read(r.bus, 0xE0010000u, 4), 0x00ABCDEF);
    /* panning: Y offset 1 shows line 1 at the top */
    dispi(&r, 9, 1);
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 7, 0), (7 * 0x10101 + 1 * 0x100) & 0xFFFFFF);
    rig_close(&r);
}

TEST(vbe, bpp16_and_8bit_palette)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    dispi(&r, 1, 640), dispi(&r, 2, 480), dispi(&r, 3, 16);
    dispi(&r, 4, 0x41);
    bus_mem_write(r.bus, 0xE0000000u, 0xF800, 2);        /* red */
    bus_mem_write(r.bus, 0xE0000002u, 0x07E0, 2);        /* green */
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 0, 0), 0xFF0000);
    CHECK_EQ(px(&f, 1, 0), 0x00FF00);
    dispi(&r, 4, 0);
    dispi(&r, 3, 8);
    dispi(&r, 4, 0x41 | 0x20);               /* 8-bit DAC */
    set_dac(&r, 3, 0x80, 0x40, 0xFF);
    bus_mem_write(r.bus, 0xE0000000u, 3, 1);
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 0, 0), 0x8040FF);
    rig_close(&r);
}

TEST(vga, status_register_retrace)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode3);
    int vr = 0, de = 0, n = 2000;
    for (int i = 0; i < n; i++) {
        uint8_t s = in8(&r, 0x3DA);
        vr += (s & 8) != 0;
        de += (s & 1) != 0;
        clock_advance(r.clk, 7919);          /* coprime with the line time */
    }
    CHECK(vr > 0 && vr < n / 5);             /* 2 of 449 lines */
    CHECK(de > n / 10 && de < n / 2);
    CHECK_EQ(in8(&r, 0x3BA), 0xFF);          /* mono port absent in colour mode */
    rig_close(&r);
}

TEST(vga, save_load_roundtrip)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode13);
    set_dac(&r, 7, 10, 20, 30);
    wr8(&r, 0xA0000 + 5, 7);
    StateStream *w = state_writer_create();
    vga_device_class.save(r.vga, w);
    size_t len;
    const void *data = state_data(w, &len);
    void *copy = malloc(len);
    memcpy(copy, data, len);
    state_destroy(w);
    vga_device_class.reset(r.vga);
    wr8(&r, 0xA0000 + 5, 0);
    StateStream *rd = state_reader_create(copy, len);
    CHECK_EQ(vga_device_class.load(r.vga, rd), 0);
    state_destroy(rd);
    free(copy);
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 320);
    CHECK_EQ(px(&f, 5, 0), rgb6(10, 20, 30));
    rig_close(&r);
}

/* 4 bpp VBE modes keep the planar data path (SeaBIOS programs VGA mode 6Ah
 * and then DISPI bpp 4); the bank register extends the plane offset. */
TEST(vbe, planar_4bpp_banked)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode12);
    load_ega_dac(&r);
    dispi(&r, 1, 800), dispi(&r, 2, 600), dispi(&r, 3, 4);
    dispi(&r, 4, 0x01);
    CHECK_EQ(dispi_read(&r, 6), 800);
    idx(&r, 0x3CE, 0, 9), idx(&r, 0x3CE, 1, 0x0F);
    wr8(&r, 0xA0000 + 100 * 100 + 2, 0);      /* pixels 16-23 of line 100 */
    dispi(&r, 5, 1);                          /* bank 1: plane offset 64K.. */
    wr8(&r, 0xA0000 + (70000 - 65536), 0);    /* beyond 64 KiB of a plane */
    idx(&r, 0x3CE, 1, 0);
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 800);
    CHECK_EQ(f.height, 600);
    CHECK_EQ(px(&f, 15, 100), ega_rgb(0));
    CHECK_EQ(px(&f, 16, 100), ega_rgb(57));
    CHECK_EQ(px(&f, 23, 100), ega_rgb(57));
    CHECK_EQ(px(&f, 24, 100), ega_rgb(0));
    /* read back through bank 1 with read mode 0, plane 0 */
    idx(&r, 0x3CE, 4, 0);
    CHECK_EQ(rd8(&r, 0xA0000 + (70000 - 65536)), 0xFF);
    dispi(&r, 5, 0);
    CHECK_EQ(rd8(&r, 0xA0000 + (70000 - 65536)), 0x00);
    rig_close(&r);
}

TEST(vga, cursor_move_redraws_two_rows)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode3);
    load_ega_dac(&r);
    VgaFrame f;
    vga_render(r.vga, &f);
    idx(&r, 0x3D4, 0x0E, 0x03), idx(&r, 0x3D4, 0x0F, 0x25); /* 805: row 10 */
    vga_render(r.vga, &f);
    CHECK(f.dirty_y0 <= 10 * 16 && f.dirty_y1 >= 11 * 16);
    CHECK(f.dirty_y1 - f.dirty_y0 <= 11 * 16);               /* rows 0..10 at most */
    idx(&r, 0x3D4, 0x0F, 0xC5);                              /* 965: row 12 */
    vga_render(r.vga, &f);
    CHECK(f.dirty_y0 >= 10 * 16 && f.dirty_y1 <= 13 * 16);
    CHECK(f.dirty_y1 > f.dirty_y0);
    rig_close(&r);
}

/* Text attributes: blink (AR10 bit 3) hides the foreground half the time
 * and limits backgrounds to 8 colours; underline at CR14 for attribute
 * 01h; the PEL mask gates DAC indices. */
TEST(vga, text_blink_underline_pel_mask)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode3);
    load_ega_dac(&r);
    load_glyph(&r, 'A', glyph_a, 0);
    idx(&r, 0x3D4, 0x0A, 0x20);
    wr8(&r, 0xB8000, 'A'), wr8(&r, 0xB8001, 0xCE);   /* blink, bg 4 (12 & 7), fg 14 */
    wr8(&r, 0xB8002, ' '), wr8(&r, 0xB8003, 0x01);   /* underline attribute */
    idx(&r, 0x3D4, 0x14, 0x0F);                      /* underline on row 15 */
    VgaFrame f;
    int shown = 0, hidden = 0;
    for (int i = 0; i < 40; i++) {
        vga_render(r.vga, &f);
        CHECK_EQ(px(&f, 0, 0), ega_rgb(4));          /* background never bright */
        if (px(&f, 0, 7) == ega_rgb(62))             /* glyph row 7 is all set */
            shown++;
        else if (px(&f, 0, 7) == ega_rgb(4))
            hidden++;
        clock_advance(r.clk, 1000000000ull / 20);
    }
    CHECK(shown > 5 && hidden > 5);
    CHECK_EQ(px(&f, 9 + 4, 15), ega_rgb(1));         /* underline in fg colour */
    CHECK_EQ(px(&f, 9 + 4, 14), ega_rgb(0));
    out8(&r, 0x3C6, 0x0F);                           /* PEL mask: index & 0x0F */
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 9 + 4, 15), ega_rgb(1));
    CHECK_EQ(px(&f, 0, 0), ega_rgb(4));
    out8(&r, 0x3C6, 0x00);                           /* everything -> DAC 0 */
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 9 + 4, 15), ega_rgb(0));
    rig_close(&r);
}

/* 512-character fonts: SEQ03 picks map A for attribute bit 3 set, map B
 * otherwise (here map A = 1 at plane-2 offset 16K). */
TEST(vga, text_char_map_select)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode3);
    load_ega_dac(&r);
    uint8_t full[16], none[16];
    memset(full, 0xFF, sizeof full), memset(none, 0x00, sizeof none);
    load_glyph(&r, 'X', none, 0x0000);               /* map 0 */
    load_glyph(&r, 'X', full, 0x4000);               /* map 1 */
    idx(&r, 0x3C4, 3, 0x01);                         /* A = 1, B = 0 */
    idx(&r, 0x3D4, 0x0A, 0x20);
    wr8(&r, 0xB8000, 'X'), wr8(&r, 0xB8001, 0x0F);   /* bit 3 set: map A */
    wr8(&r, 0xB8002, 'X'), wr8(&r, 0xB8003, 0x07);   /* map B */
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 3, 3), ega_rgb(63));
    CHECK_EQ(px(&f, 9 + 3, 3), ega_rgb(0));
    rig_close(&r);
}

/* Horizontal pel panning (AR13) shifts the picture left by whole pixels;
 * in 9-dot text 8 means no shift and 0 one pixel. */
TEST(vga, horizontal_panning)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode12);
    load_ega_dac(&r);
    idx(&r, 0x3CE, 1, 0x0F), idx(&r, 0x3CE, 0, 15);
    wr8(&r, 0xA0001, 0);                             /* pixels 8-15 white */
    idx(&r, 0x3CE, 1, 0);
    (void)in8(&r, 0x3DA);
    out8(&r, 0x3C0, 0x13 | 0x20), out8(&r, 0x3C0, 3);
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(px(&f, 4, 0), ega_rgb(0));
    CHECK_EQ(px(&f, 5, 0), ega_rgb(63));             /* pixel 8 now at 5 */
    CHECK_EQ(px(&f, 12, 0), ega_rgb(63));
    CHECK_EQ(px(&f, 13, 0), ega_rgb(0));
    rig_close(&r);
}

/* Mode 6 (CGA 640x200 two colours): plane 0 only, CGA bank interleave. */
TEST(vga, cga_mode6_two_colours)
{
    static const ModeRegs mode6 = {
        0x63, {0x03, 0x01, 0x01, 0x00, 0x06},
        {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00, 0xC1, 0x00, 0x00, 0x00,
         0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28, 0x00, 0x96, 0xB9, 0xC2, 0xFF},
        {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0D, 0x00, 0xFF},
        {0x00, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
         0x17, 0x17, 0x17, 0x01, 0x00, 0x01, 0x00, 0x00}};
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode6);
    load_ega_dac(&r);
    wr8(&r, 0xB8000, 0x80);                          /* line 0, pixel 0 */
    wr8(&r, 0xBA000, 0x01);                          /* line 1, pixel 7 */
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 640);
    CHECK_EQ(f.height, 200);
    CHECK_EQ(px(&f, 0, 0), ega_rgb(0x17));
    CHECK_EQ(px(&f, 1, 0), ega_rgb(0));
    CHECK_EQ(px(&f, 7, 1), ega_rgb(0x17));
    CHECK_EQ(px(&f, 0, 1), ega_rgb(0));
    rig_close(&r);
}

TEST(vbe, largest_mode_2560x1600x32)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    dispi(&r, 1, 2560), dispi(&r, 2, 1600), dispi(&r, 3, 32);
    dispi(&r, 4, 0x41);
    CHECK_EQ(dispi_read(&r, 1), 2560);
    bus_mem_write(r.bus, 0xE0000000u + (1599u * 2560 + 2559) * 4, 0xABCDEF, 4);
    VgaFrame f;
    vga_render(r.vga, &f);
    CHECK_EQ(f.width, 2560);
    CHECK_EQ(f.height, 1600);
    CHECK_EQ(px(&f, 2559, 1599), 0xABCDEF);
    dispi(&r, 4, 0);
    dispi(&r, 1, 4000);                              /* beyond the maximum */
    dispi(&r, 4, 0x41);
    CHECK(dispi_read(&r, 1) <= 2560);
    rig_close(&r);
}

/* Drawing in mode 12h rewrites the bit mask and map mask for every pixel;
 * only the touched memory is redrawn, not the whole screen. */
TEST(vga, planar_drawing_redraws_only_touched_lines)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    set_mode(&r, &mode12);
    VgaFrame f;
    vga_render(r.vga, &f);
    idx(&r, 0x3CE, 5, 0x02), idx(&r, 0x3CE, 8, 0x80), idx(&r, 0x3C4, 2, 0x0F);
    (void)rd8(&r, 0xA0000 + 300 * 80);
    wr8(&r, 0xA0000 + 300 * 80, 12);
    idx(&r, 0x3CE, 5, 0x00), idx(&r, 0x3CE, 8, 0xFF);
    CHECK(vga_render(r.vga, &f));
    CHECK(f.dirty_y0 <= 300 && f.dirty_y1 > 300);
    CHECK(f.dirty_y1 - f.dirty_y0 <= 64);   /* 4 KiB of interleaved VRAM */
    idx(&r, 0x3CE, 6, 0x01);                /* memory map change: A0000 128K */
    CHECK(vga_render(r.vga, &f));
    CHECK_EQ(f.dirty_y0, 0);
    CHECK_EQ(f.dirty_y1, 480);
    rig_close(&r);
}

/* Nonsense from the guest gets a picture, never a crash: random register
 * values and memory writes, rendered after each burst. */
TEST(vga, random_registers_never_crash)
{
    Rig r;
    if (rig_open(&r) < 0)
        return;
    uint32_t seed = 12345;
    VgaFrame f;
    for (int round = 0; round < 300; round++) {
        for (int i = 0; i < 40; i++) {
            seed = seed * 1103515245u + 12345u;
            uint16_t port = (uint16_t)(0x3B0 + (seed >> 8) % 0x30);
            bus_io_write(r.bus, port, seed >> 20, 1);
            if (i % 8 == 0) {
                bus_io_write(r.bus, 0x1CE, (seed >> 4) % 12, 2);
                bus_io_write(r.bus, 0x1CF, seed >> 16, 2);
            }
            bus_mem_write(r.bus, 0xA0000 + (seed >> 12) % 0x20000, seed, 1);
        }
        vga_render(r.vga, &f);
        CHECK(f.width > 0 && f.height > 0);
        char text[4096];
        vga_screen_text(r.vga, text, sizeof text);
        clock_advance(r.clk, 3000000);
    }
    rig_close(&r);
}
