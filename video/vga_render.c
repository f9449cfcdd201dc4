/*
 * video/vga_render.c -- scan-out: turns VGA/VBE state and video memory into a
 * 0x00RRGGBB frame, redrawing only lines whose memory or registers changed,
 * and the text screen as UTF-8.
 *
 * The CRTC is followed line by line as the IBM VGA Technical Reference
 * describes it: a character-clock address counter starting at the start
 * address (CR0C/CR0D, byte panning CR08), row scan counter up to maximum scan
 * line (CR09), offset (CR13) added per character row, scan doubling (CR09
 * bit 7), line compare resetting the counter (split screen), byte/word/
 * doubleword addressing (CR17 bit 6, CR14 bit 6) and the CGA/Hercules
 * substitution of address bits 13/14 by the row scan counter (CR17 bits 0-1).
 */
#include <stdlib.h>
#include <string.h>

#include "vga_priv.h"

enum VgaKind { KIND_BLANK, KIND_TEXT, KIND_PLANAR, KIND_CGA4, KIND_256, KIND_VBE };

typedef struct VgaGeom {
    enum VgaKind kind;
    int width, height;      /* output pixels */
    int cols, char_w;       /* character clocks per line, dots per clock */
    int msl;                /* maximum scan line (CR09 bits 4-0) */
    int vde;                /* displayed physical scan lines */
    int lines_per_out;      /* physical lines per output line */
    bool dbl;               /* CR09 bit 7 */
    uint32_t start;         /* start address incl. byte panning */
    uint32_t step;          /* counter increment per character row */
    unsigned line_compare;
    int pan;                /* horizontal pixel panning in output pixels */
} VgaGeom;

typedef struct VgaLine {
    uint32_t ma;            /* address counter at the line start */
    int row_scan;
    bool below_split;
} VgaLine;

/* ------------------------------------------------------------------------ */
/* Palette                                                                  */
/* ------------------------------------------------------------------------ */
static uint32_t dac_to_rgb(const Vga *vga, unsigned index)
{
    const uint8_t *c = &vga->r.dac[index * 3];
    if (vga_vbe_enabled(vga) && (vga->r.vbe[VBE_ENABLE] & VBE_8BIT_DAC))
        return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
    /* 6-bit DAC values scaled to 8 bits so 63 becomes 255 */
    uint32_t r = c[0] & 63, g = c[1] & 63, b = c[2] & 63;
    return ((r << 2 | r >> 4) << 16) | ((g << 2 | g >> 4) << 8) | (b << 2 | b >> 4);
}

static bool vga_update_palette(Vga *vga)
{
    if (vga->palette_valid)
        return false;
    for (unsigned i = 0; i < 256; i++)
        vga->palette_rgb[i] = dac_to_rgb(vga, i & vga->r.pel_mask);
    vga->palette_valid = true;
    return true;
}

/* Attribute controller: 4-bit pixel -> colour plane enable (AR12) ->
 * palette register (AR00-AR0F) -> bits 7-4 from colour select (AR14), bits
 * 5-4 only when AR10 bit 7 -> DAC index. */
static void vga_attr_map(const Vga *vga, uint32_t map[16])
{
    const uint8_t *ar = vga->r.ar;
    for (unsigned i = 0; i < 16; i++) {
        unsigned v = ar[i & ar[0x12] & 0x0F] & 0x3F;
        if (ar[0x10] & 0x80)
            v = (v & 0x0F) | (ar[0x14] & 0x03) << 4;
        v |= (ar[0x14] & 0x0C) << 4;
        map[i] = vga->palette_rgb[v];
    }
}

/* ------------------------------------------------------------------------ */
/* Geometry                                                                 */
/* ------------------------------------------------------------------------ */
static unsigned crtc_bits(const uint8_t *c, unsigned reg, int b8_reg, int b8, int b9_reg, int b9)
{
    unsigned v = c[reg];
    if (b8_reg >= 0)
        v |= ((c[b8_reg] >> b8) & 1u) << 8;
    if (b9_reg >= 0)
        v |= ((c[b9_reg] >> b9) & 1u) << 9;
    return v;
}

static enum VgaKind vga_kind(const Vga *vga)
{
    if (!(vga->r.gc[6] & 1))
        return KIND_TEXT;
    if (vga->r.gc[5] & 0x40)
        return KIND_256;
    if (vga->r.gc[5] & 0x20)
        return KIND_CGA4;
    return KIND_PLANAR;
}

static int vga_pan(const Vga *vga, const VgaGeom *g)
{
    int p = vga->r.ar[0x13] & 0x0F;
    if (g->char_w == 9)
        return p >= 8 ? 0 : p + 1;
    p &= 7;
    return g->kind == KIND_256 ? p >> 1 : p;
}

static void vga_geometry(const Vga *vga, VgaGeom *g)
{
    const uint8_t *c = vga->r.crtc;
    memset(g, 0, sizeof *g);
    if (vga_vbe_enabled(vga)) {
        g->kind = KIND_VBE;
        g->width = vga->r.vbe[VBE_XRES];
        g->height = vga->r.vbe[VBE_YRES];
        return;
    }
    g->kind = vga_kind(vga);
    g->cols = c[1] + 1;
    g->char_w = (g->kind == KIND_TEXT && !(vga->r.seq[1] & 1)) ? 9 : 8;
    g->msl = c[9] & 0x1F;
    g->dbl = c[9] & 0x80;
    g->vde = (int)crtc_bits(c, 0x12, 7, 1, 7, 6) + 1;
    g->lines_per_out = g->dbl ? 2 : 1;
    if (g->kind != KIND_TEXT && (c[0x17] & 3) == 3)
        g->lines_per_out *= g->msl + 1;
    g->start = ((uint32_t)c[0x0C] << 8 | c[0x0D]) + ((c[8] >> 5) & 3);
    g->step = (uint32_t)c[0x13] * 2;
    g->line_compare = crtc_bits(c, 0x18, 7, 4, 9, 6);
    g->width = g->cols * g->char_w / (g->kind == KIND_256 ? 2 : 1);
    g->height = g->vde / g->lines_per_out;
    g->pan = vga_pan(vga, g);
    bool off = !(vga->r.ar_index & 0x20) || (vga->r.seq[1] & 0x20);
    bool nonsense = g->cols < 2 || g->height < 1;   /* unprogrammed or bogus CRTC */
    if (nonsense || off)
        g->kind = KIND_BLANK;
    if (nonsense)
        g->width = 640, g->height = 480;
}

/* Character-clock counter -> plane offset (byte, word or doubleword mode,
 * then CGA/Hercules bank bits from the row scan counter). */
static uint32_t vga_address(const Vga *vga, uint32_t ma, int row_scan)
{
    const uint8_t *c = vga->r.crtc;
    uint32_t a;
    if (c[0x14] & 0x40)
        a = (ma << 2) | ((ma >> 14) & 3);
    else if (!(c[0x17] & 0x40))
        a = (ma << 1) | ((ma >> ((c[0x17] & 0x20) ? 15 : 13)) & 1);
    else
        a = ma;
    if (!(c[0x17] & 1))
        a = (a & ~0x2000u) | (uint32_t)(row_scan & 1) << 13;
    if (!(c[0x17] & 2))
        a = (a & ~0x4000u) | (uint32_t)((row_scan >> 1) & 1) << 14;
    return a & (VGA_PLANE_SIZE - 1);
}

static const uint8_t *vga_cell(const Vga *vga, uint32_t plane_off)
{
    return vga->vram + (plane_off & (VGA_PLANE_SIZE - 1)) * 4;
}

/* ------------------------------------------------------------------------ */
/* Drawing one line                                                         */
/* ------------------------------------------------------------------------ */
typedef struct TextState {
    uint32_t attr_rgb[16];
    bool cursor_on, blink_on;
} TextState;

/* SEQ03 character map select: map A (bits 5,1,0) for attribute bit 3 set,
 * map B (bits 4,3,2) otherwise; maps live at these plane-2 offsets. */
static uint32_t font_base(const Vga *vga, uint8_t attr)
{
    static const uint32_t where[8] = {0x0000, 0x4000, 0x8000, 0xC000,
                                      0x2000, 0x6000, 0xA000, 0xE000};
    uint8_t s = vga->r.seq[3];
    unsigned sel = (attr & 8) ? ((s & 3) | ((s >> 3) & 4)) : (((s >> 2) & 3) | ((s >> 2) & 4));
    return where[sel];
}

static bool cursor_here(const Vga *vga, uint32_t ma, int row_scan, const TextState *ts)
{
    const uint8_t *c = vga->r.crtc;
    if (!ts->cursor_on || (c[0x0A] & 0x20))
        return false;
    uint32_t where = ((uint32_t)c[0x0E] << 8 | c[0x0F]) + ((c[0x0B] >> 5) & 3);
    int cs = c[0x0A] & 0x1F, ce = c[0x0B] & 0x1F;
    return ma == where && row_scan >= cs && row_scan <= ce;
}

static void draw_text_line(const Vga *vga, const VgaGeom *g, const VgaLine *ln,
                           const TextState *ts, uint32_t *out)
{
    const uint8_t *ar = vga->r.ar;
    bool blink_attr = ar[0x10] & 0x08, line_gfx = ar[0x10] & 0x04;
    int ul = vga->r.crtc[0x14] & 0x1F;
    for (int i = 0; i <= g->cols; i++) {
        uint32_t ma = ln->ma + (uint32_t)i;
        const uint8_t *cell = vga_cell(vga, vga_address(vga, ma, ln->row_scan));
        uint8_t ch = cell[0], at = cell[1];
        unsigned fg = at & 0x0F, bg = at >> 4;
        uint8_t bits = vga_cell(vga, font_base(vga, at) + ch * 32u + (unsigned)ln->row_scan)[2];
        if (blink_attr) {
            bg &= 7;
            if ((at & 0x80) && !ts->blink_on)
                bits = 0;
        }
        bool solid = ((at & 0x77) == 0x01 && ln->row_scan == ul) ||
                     cursor_here(vga, ma, ln->row_scan, ts);
        if (solid)
            bits = 0xFF;
        uint32_t f = ts->attr_rgb[fg], b = ts->attr_rgb[bg];
        for (int x = 0; x < 8; x++)
            *out++ = (bits & (0x80 >> x)) ? f : b;
        if (g->char_w == 9) {
            bool ninth = line_gfx && ch >= 0xC0 && ch <= 0xDF && (bits & 1);
            *out++ = ninth || solid ? f : b;
        }
    }
}

static void draw_graphics_line(const Vga *vga, const VgaGeom *g, const VgaLine *ln,
                               const uint32_t attr_rgb[16], uint32_t *out)
{
    for (int i = 0; i <= g->cols; i++) {
        const uint8_t *p = vga_cell(vga, vga_address(vga, ln->ma + (uint32_t)i, ln->row_scan));
        if (g->kind == KIND_256) {
            for (int k = 0; k < 4; k++)
                *out++ = vga->palette_rgb[p[k]];
        } else if (g->kind == KIND_CGA4) {
            /* shift register interleave (GC05 bit 5): 2 bits per pixel, the
             * even plane supplies the first four pixels, the odd one the rest */
            for (int x = 0; x < 8; x++) {
                int sh = 6 - 2 * (x & 3), hi = x >> 2;
                unsigned v = ((p[hi] >> sh) & 3) | ((p[2 + hi] >> sh) & 3) << 2;
                *out++ = attr_rgb[v];
            }
        } else {
            for (int x = 0; x < 8; x++) {
                unsigned sh = 7 - (unsigned)x;
                unsigned v = ((p[0] >> sh) & 1) | ((p[1] >> sh) & 1) << 1 |
                             ((p[2] >> sh) & 1) << 2 | ((p[3] >> sh) & 1) << 3;
                *out++ = attr_rgb[v];
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* Change detection                                                         */
/* ------------------------------------------------------------------------ */
static bool vga_range_dirty(const Vga *vga, uint32_t a0, uint32_t a1)
{
    if (a1 < a0)
        return true;                        /* wrapped: be conservative */
    for (uint32_t p = (a0 * 4) >> 12; p <= (a1 * 4 + 3) >> 12; p++)
        if (vga->dirty[p])
            return true;
    return false;
}

static bool text_line_blinks(const Vga *vga, const VgaGeom *g, const VgaLine *ln)
{
    const uint8_t *c = vga->r.crtc;
    uint32_t where = (uint32_t)c[0x0E] << 8 | c[0x0F];
    bool attr_blink = vga->r.ar[0x10] & 0x08;
    for (int i = 0; i <= g->cols; i++) {
        uint32_t ma = ln->ma + (uint32_t)i;
        if (ma == where)
            return true;
        if (attr_blink && (vga_cell(vga, vga_address(vga, ma, ln->row_scan))[1] & 0x80))
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------------ */
/* Frame                                                                    */
/* ------------------------------------------------------------------------ */
/* Returns 1 when the frame changed size, 0 when it kept it, -1 when the
 * memory for the new size is not there (the caller draws nothing). */
static int vga_resize(Vga *vga, int w, int h)
{
    if (w == vga->width && h == vga->height && vga->pixels)
        return 0;
    size_t need = (size_t)(w + 32) * (size_t)h;  /* slack for panning overrun */
    if (need > vga->pixels_cap) {
        uint32_t *p = realloc(vga->pixels, need * sizeof *p);
        if (!p)
            return -1;
        vga->pixels = p;
        vga->pixels_cap = need;
    }
    vga->width = w, vga->height = h;
    memset(vga->pixels, 0, need * sizeof *vga->pixels);
    return 1;
}

/* Blink phase from the virtual clock at ~70 frames per second: the cursor
 * toggles every 8 frames, blinking characters every 16 (IBM VGA TR). */
static int vga_blink_phase(Vga *vga)
{
    uint64_t frame = clock_now(vga->clk) / 14285714u;
    return (int)((frame >> 3) & 3);
}

typedef struct RenderCtx {
    VgaGeom g;
    bool full, blink_changed, cursor_changed;
    uint32_t old_cursor, new_cursor; /* character addresses */
    TextState ts;
    uint32_t *tmp;          /* one line with panning slack */
    int y0, y1;             /* dirty rows */
} RenderCtx;

static void render_vga_line(Vga *vga, RenderCtx *rc, const VgaLine *ln, int y)
{
    const VgaGeom *g = &rc->g;
    uint32_t a0 = vga_address(vga, ln->ma, ln->row_scan);
    uint32_t a1 = vga_address(vga, ln->ma + (uint32_t)g->cols, ln->row_scan);
    bool need = rc->full || vga_range_dirty(vga, a0, a1);
    if (!need && g->kind == KIND_TEXT && rc->blink_changed)
        need = text_line_blinks(vga, g, ln);
    if (!need && g->kind == KIND_TEXT && rc->cursor_changed)
        need = rc->old_cursor - ln->ma <= (uint32_t)g->cols ||
               rc->new_cursor - ln->ma <= (uint32_t)g->cols;
    if (!need)
        return;
    int pan = ln->below_split && (vga->r.ar[0x10] & 0x20) ? 0 : g->pan;
    if (g->kind == KIND_TEXT)
        draw_text_line(vga, g, ln, &rc->ts, rc->tmp);
    else
        draw_graphics_line(vga, g, ln, rc->ts.attr_rgb, rc->tmp);
    memcpy(vga->pixels + (size_t)y * (size_t)g->width, rc->tmp + pan,
           (size_t)g->width * sizeof(uint32_t));
    if (y < rc->y0)
        rc->y0 = y;
    rc->y1 = y + 1;
}

static void render_vga(Vga *vga, RenderCtx *rc)
{
    const VgaGeom *g = &rc->g;
    VgaLine ln = {g->start, vga->r.crtc[8] & 0x1F, false};
    for (int phys = 0; phys < g->vde; phys++) {
        if ((unsigned)phys == g->line_compare) {
            ln.ma = 0, ln.row_scan = 0, ln.below_split = true;
        }
        if (phys % g->lines_per_out == 0 && phys / g->lines_per_out < g->height)
            render_vga_line(vga, rc, &ln, phys / g->lines_per_out);
        if (!g->dbl || (phys & 1)) {
            if (ln.row_scan >= g->msl) {
                ln.row_scan = 0;
                ln.ma += g->step;
            } else {
                ln.row_scan++;
            }
        }
    }
}

static uint32_t vbe_pixel(const Vga *vga, const uint8_t *p, unsigned bpp)
{
    uint32_t v;
    switch (bpp) {
    case 8: return vga->palette_rgb[p[0]];
    case 15:
        v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
        return ((v >> 10 & 31) * 255 / 31) << 16 | ((v >> 5 & 31) * 255 / 31) << 8 | (v & 31) * 255 / 31;
    case 16:
        v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
        return ((v >> 11 & 31) * 255 / 31) << 16 | ((v >> 5 & 63) * 255 / 63) << 8 | (v & 31) * 255 / 31;
    default: /* 24 and 32: blue, green, red in memory order */
        return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
    }
}

/* 4 bpp VBE modes (SeaBIOS sets VGA mode 6Ah first): 16-colour planar
 * pixels through the attribute controller, like mode 12h. */
static void vbe_planar_row(const uint8_t *src, const uint32_t attr_rgb[16], uint32_t *out, int width)
{
    for (int x = 0; x < width; x++) {
        const uint8_t *p = src + (size_t)(x / 8) * 4;
        unsigned sh = 7 - (unsigned)(x & 7);
        unsigned v = ((p[0] >> sh) & 1) | ((p[1] >> sh) & 1) << 1 |
                     ((p[2] >> sh) & 1) << 2 | ((p[3] >> sh) & 1) << 3;
        out[x] = attr_rgb[v];
    }
}

/* The LFB is written by the CPU straight into host memory, so changes are
 * found by comparing each visible line with the bytes scanned last time. */
static void render_vbe(Vga *vga, RenderCtx *rc)
{
    const uint16_t *r = vga->r.vbe;
    unsigned bpp = r[VBE_BPP], bytes = vga_vbe_bytes_per_pixel(vga);
    uint32_t line = vga_vbe_line_bytes(vga);
    size_t row_bytes = (size_t)r[VBE_XRES] * bytes;
    size_t need = row_bytes * r[VBE_YRES];
    if (need > vga->snapshot_cap) {
        uint8_t *s = realloc(vga->snapshot, need);
        if (!s)
            return;
        vga->snapshot = s, vga->snapshot_cap = need;
        rc->full = true;
    }
    if (bpp == 4)                            /* planar: 8 pixels per 4 bytes */
        row_bytes = (size_t)r[VBE_XRES] / 2;
    uint64_t xoff = bpp == 4 ? (uint64_t)r[VBE_X_OFFSET] / 8 * 4 : (uint64_t)r[VBE_X_OFFSET] * bytes;
    uint64_t start = (uint64_t)r[VBE_Y_OFFSET] * line + xoff;
    for (int y = 0; y < rc->g.height; y++) {
        uint64_t off = start + (uint64_t)y * line;
        if (off + row_bytes > vga->vram_size)
            break;
        const uint8_t *src = vga->vram + off;
        uint8_t *snap = vga->snapshot + (size_t)y * row_bytes;
        if (!rc->full && !memcmp(src, snap, row_bytes))
            continue;
        memcpy(snap, src, row_bytes);
        uint32_t *out = vga->pixels + (size_t)y * (size_t)rc->g.width;
        if (bpp == 4)
            vbe_planar_row(src, rc->ts.attr_rgb, out, rc->g.width);
        else
            for (int x = 0; x < rc->g.width; x++)
                out[x] = vbe_pixel(vga, src + (size_t)x * bytes, bpp);
        if (y < rc->y0)
            rc->y0 = y;
        rc->y1 = y + 1;
    }
}

static uint64_t geom_key(const VgaGeom *g)
{
    return (uint64_t)g->kind << 56 | (uint64_t)(g->width & 0xFFFF) << 32 |
           (uint64_t)(g->height & 0xFFFF) << 16 | (uint64_t)(g->char_w & 0xFF);
}

static void render_prepare(Vga *vga, RenderCtx *rc)
{
    vga_geometry(vga, &rc->g);
    rc->full = vga->full_redraw;
    if (vga_update_palette(vga))
        rc->full = true;
    int resized = vga_resize(vga, rc->g.width, rc->g.height);
    if (resized < 0) {                       /* keep the old picture */
        rc->g.kind = KIND_BLANK;
        rc->g.width = vga->width, rc->g.height = vga->height;
        rc->full = false;
    } else if (resized || geom_key(&rc->g) != vga->mode_key) {
        rc->full = true;
    }
    vga->mode_key = geom_key(&rc->g);
    const uint8_t *c = vga->r.crtc;
    uint32_t ckey = (uint32_t)c[0x0A] << 24 | (uint32_t)c[0x0B] << 16 | (uint32_t)c[0x0E] << 8 | c[0x0F];
    rc->cursor_changed = ckey != vga->cursor_key;
    rc->old_cursor = vga->cursor_key & 0xFFFF, rc->new_cursor = ckey & 0xFFFF;
    vga->cursor_key = ckey;
    int phase = vga_blink_phase(vga);
    rc->blink_changed = phase != vga->blink_phase;
    vga->blink_phase = phase;
    rc->ts.cursor_on = !(phase & 1);
    rc->ts.blink_on = !(phase & 2);
    vga_attr_map(vga, rc->ts.attr_rgb);
    rc->y0 = rc->g.height, rc->y1 = 0;
}

bool vga_render(Vga *vga, VgaFrame *frame)
{
    RenderCtx rc;
    render_prepare(vga, &rc);
    if (rc.g.kind == KIND_VBE) {
        render_vbe(vga, &rc);
    } else if (rc.g.kind == KIND_BLANK) {
        if (rc.full) {
            memset(vga->pixels, 0, (size_t)rc.g.width * (size_t)rc.g.height * 4);
            rc.y0 = 0, rc.y1 = rc.g.height;
        }
    } else {
        uint32_t tmp[(256 + 2) * 9];
        rc.tmp = tmp;
        render_vga(vga, &rc);
    }
    memset(vga->dirty, 0, vga->vram_size >> 12);
    vga->full_redraw = false;
    frame->pixels = vga->pixels;
    frame->width = vga->width, frame->height = vga->height, frame->stride = vga->width;
    frame->dirty_y0 = rc.y0 < rc.y1 ? rc.y0 : 0;
    frame->dirty_y1 = rc.y0 < rc.y1 ? rc.y1 : 0;
    return rc.y0 < rc.y1;
}

/* ------------------------------------------------------------------------ */
/* Text screen as UTF-8                                                     */
/* ------------------------------------------------------------------------ */

/* Code page 437 glyphs as Unicode; 0x00 and 0xFF (blank cells) become
 * spaces so trailing blanks trim. */
static const char *const cp437[256] = {
    " ", "☺", "☻", "♥", "♦", "♣", "♠", "•", "◘", "○", "◙", "♂", "♀", "♪", "♫", "☼",
    "►", "◄", "↕", "‼", "¶", "§", "▬", "↨", "↑", "↓", "→", "←", "∟", "↔", "▲", "▼",
    " ", "!", "\"", "#", "$", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
    "@", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
    "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z", "[", "\\", "]", "^", "_",
    "`", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z", "{", "|", "}", "~", "⌂",
    "Ç", "ü", "é", "â", "ä", "à", "å", "ç", "ê", "ë", "è", "ï", "î", "ì", "Ä", "Å",
    "É", "æ", "Æ", "ô", "ö", "ò", "û", "ù", "ÿ", "Ö", "Ü", "¢", "£", "¥", "₧", "ƒ",
    "á", "í", "ó", "ú", "ñ", "Ñ", "ª", "º", "¿", "⌐", "¬", "½", "¼", "¡", "«", "»",
    "░", "▒", "▓", "│", "┤", "╡", "╢", "╖", "╕", "╣", "║", "╗", "╝", "╜", "╛", "┐",
    "└", "┴", "┬", "├", "─", "┼", "╞", "╟", "╚", "╔", "╩", "╦", "╠", "═", "╬", "╧",
    "╨", "╤", "╥", "╙", "╘", "╒", "╓", "╫", "╪", "┘", "┌", "█", "▄", "▌", "▐", "▀",
    "α", "ß", "Γ", "π", "Σ", "σ", "µ", "τ", "Φ", "Θ", "Ω", "δ", "∞", "φ", "ε", "∩",
    "≡", "±", "≥", "≤", "⌠", "⌡", "÷", "≈", "°", "∙", "·", "√", "ⁿ", "²", "■", " ",
};

static size_t append(char *buf, size_t len, size_t pos, const char *s, size_t n)
{
    if (pos + n < len)
        memcpy(buf + pos, s, n);
    return pos + n;
}

size_t vga_screen_text(Vga *vga, char *buf, size_t len)
{
    VgaGeom g;
    vga_geometry(vga, &g);
    if (g.kind != KIND_TEXT || !buf || !len)
        return 0;
    int rows = g.vde / (g.dbl ? 2 : 1) / (g.msl + 1);
    size_t pos = 0;
    for (int row = 0; row < rows; row++) {
        uint32_t ma = g.start + (uint32_t)row * g.step;
        size_t line_start = pos, keep = pos;
        for (int col = 0; col < g.cols; col++) {
            uint8_t ch = vga_cell(vga, vga_address(vga, ma + (uint32_t)col, 0))[0];
            const char *u = cp437[ch];
            pos = append(buf, len, pos, u, strlen(u));
            if (u[0] != ' ')
                keep = pos;
        }
        (void)line_start;
        pos = append(buf, len, keep, "\n", 1);
    }
    if (pos >= len)
        pos = len - 1;
    buf[pos] = 0;
    return pos;
}
