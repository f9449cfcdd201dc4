/* tests/bin/vga_expect.c -- the pictures the video guest tests
 * (tests/video/NAME.asm) must produce, computed here from the pattern
 * definitions and the standard palettes, never through the VGA model:
 *   vga_expect mode13|modex|text|vbe|vbe32|mode12|cga4 OUT.png
 * For "text" row 0 (BIOS font text) is painted black and the suite blacks
 * out the same rows of the screenshot before comparing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ui/ui.h"

/* set_test_dac in tests/video/common.inc, 6-bit values scaled to 8 bits */
static uint32_t test_dac(int i)
{
    int r = i & 63, g = (i & 255) >> 2, b = 63 - (i & 63);
    r = r << 2 | r >> 4, g = g << 2 | g >> 4, b = b << 2 | b >> 4;
    return (uint32_t)(r << 16 | g << 8 | b);
}

/* The 16 text colours: attribute palette of mode 3 into the EGA-compatible
 * 64-entry DAC palette (each of r, g, b: bit for 2/3, bit for 1/3). */
static uint32_t dac64(int i)
{
    int r = ((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15;
    int g = ((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15;
    int b = (i & 1) * 0x2A + ((i >> 3) & 1) * 0x15;
    r = r << 2 | r >> 4, g = g << 2 | g >> 4, b = b << 2 | b >> 4;
    return (uint32_t)(r << 16 | g << 8 | b);
}

static uint32_t ega_colour(int c)
{
    static const int ar[16] = {0, 1, 2, 3, 4, 5, 0x14, 7, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F};
    return dac64(ar[c & 15]);
}

/* Mode 4's attribute palette as the BIOS sets it (palette 1, bright),
 * into the test DAC palette the guest loads. */
static uint32_t cga_colour(int c)
{
    static const int ar[4] = {0, 0x13, 0x15, 0x17};
    return test_dac(ar[c & 3]);
}

static const uint8_t glyph[16] = {0xFF, 0x81, 0xBD, 0xA5, 0xA5, 0xBD, 0x81, 0xFF,
                                  0x00, 0x18, 0x3C, 0x7E, 0x3C, 0x18, 0x00, 0xAA};

static uint32_t text_pixel(int x, int y)
{
    int row = y / 16, col = x / 9, line = y % 16, dot = x % 9;
    if (row == 0)
        return 0;
    int attr = (7 * row + col) & 255;
    bool on = dot < 8 && (glyph[line] & (0x80 >> dot));
    return ega_colour(on ? attr & 15 : attr >> 4);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vga_expect mode13|modex|text|vbe|vbe32|mode12|cga4 OUT.png\n");
        return 2;
    }
    const char *p = argv[1];
    int w = 320, h = 200;
    if (!strcmp(p, "modex"))
        h = 240;
    else if (!strcmp(p, "text"))
        w = 720, h = 400;
    else if (!strcmp(p, "vbe") || !strcmp(p, "mode12"))
        w = 640, h = 480;
    else if (!strcmp(p, "vbe32"))
        w = 800, h = 600;
    else if (strcmp(p, "mode13") && strcmp(p, "cga4")) {
        fprintf(stderr, "vga_expect: unknown pattern %s\n", p);
        return 2;
    }
    uint32_t *pix = malloc((size_t)w * (size_t)h * 4);
    if (!pix)
        return 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t v;
            if (!strcmp(p, "mode13"))
                v = test_dac(x + 2 * y);
            else if (!strcmp(p, "modex"))
                v = test_dac(x ^ y);
            else if (!strcmp(p, "vbe"))
                v = test_dac((x >> 1) + y);
            else if (!strcmp(p, "vbe32"))
                v = (uint32_t)(x & 255) << 16 | (uint32_t)(y & 255) << 8 | (uint32_t)((x + y) & 255);
            else if (!strcmp(p, "mode12"))
                v = ega_colour(x == y ? 15 : (x / 8 + y) & 15);
            else if (!strcmp(p, "cga4"))
                v = cga_colour(x / 4 + y);
            else
                v = text_pixel(x, y);
            pix[(size_t)y * (size_t)w + (size_t)x] = v;
        }
    VgaFrame f = {pix, w, h, w, 0, h};
    char err[512];
    if (ui_write_png(argv[2], &f, err, sizeof err)) {
        fprintf(stderr, "vga_expect: %s\n", err);
        return 1;
    }
    free(pix);
    return 0;
}
