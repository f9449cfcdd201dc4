/* tests/bin/vga_window.c -- draws a known picture through the VGA/VBE and
 * shows it, for tests/suites/60-video.sh:
 *   vga_window PATTERN OUT.png            render and write vsx's own PNG
 *   vga_window PATTERN OUT.png --window   also show it in the SDL window,
 *        print "READY x y w h" (the picture's place on the screen) and keep
 *        presenting until stdin closes, so the suite can capture the screen.
 * PATTERN: vbe640 (640x480x32 through DISPI + LFB), mode13 (320x200x256). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>

#include "../../chipset/chipset.h"
#include "../../ui/ui_priv.h"
#include "../../video/video.h"

static void dispi(Bus *bus, uint16_t i, uint16_t v)
{
    bus_io_write(bus, 0x1CE, i, 2);
    bus_io_write(bus, 0x1CF, v, 2);
}

/* The same picture the suite's expectation uses: smooth gradients with a
 * checkerboard and a border, so scaling or offsets would show. */
uint32_t pattern_rgb(int x, int y, int w, int h);
uint32_t pattern_rgb(int x, int y, int w, int h)
{
    if (x == 0 || y == 0 || x == w - 1 || y == h - 1)
        return 0xFFFFFF;
    uint32_t r = (uint32_t)(x * 255 / (w - 1)), g = (uint32_t)(y * 255 / (h - 1));
    uint32_t b = ((x / 16) ^ (y / 16)) & 1 ? 0xC0 : 0x20;
    return r << 16 | g << 8 | b;
}

static void draw_vbe640(Bus *bus)
{
    dispi(bus, 1, 640), dispi(bus, 2, 480), dispi(bus, 3, 32);
    dispi(bus, 4, 0x41);
    for (int y = 0; y < 480; y++)
        for (int x = 0; x < 640; x++)
            bus_mem_write(bus, 0xE0000000u + (uint32_t)(y * 640 + x) * 4, pattern_rgb(x, y, 640, 480), 4);
}

static void out8(Bus *bus, uint16_t port, uint8_t v) { bus_io_write(bus, port, v, 1); }

static void draw_mode13(Bus *bus)
{
    static const uint8_t seq[5] = {0x03, 0x01, 0x0F, 0x00, 0x0E};
    static const uint8_t crtc[25] = {0x5F, 0x4F, 0x50, 0x82, 0x54, 0x80, 0xBF, 0x1F, 0x00,
                                     0x41, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E,
                                     0x8F, 0x28, 0x40, 0x96, 0xB9, 0xA3, 0xFF};
    static const uint8_t gc[9] = {0, 0, 0, 0, 0, 0x40, 0x05, 0x0F, 0xFF};
    out8(bus, 0x3C2, 0x63);
    for (int i = 0; i < 5; i++)
        out8(bus, 0x3C4, (uint8_t)i), out8(bus, 0x3C5, seq[i]);
    out8(bus, 0x3D4, 0x11), out8(bus, 0x3D5, 0);
    for (int i = 0; i < 25; i++)
        out8(bus, 0x3D4, (uint8_t)i), out8(bus, 0x3D5, crtc[i]);
    for (int i = 0; i < 9; i++)
        out8(bus, 0x3CE, (uint8_t)i), out8(bus, 0x3CF, gc[i]);
    (void)bus_io_read(bus, 0x3DA, 1);
    for (int i = 0; i < 16; i++)
        out8(bus, 0x3C0, (uint8_t)i), out8(bus, 0x3C0, (uint8_t)i);
    out8(bus, 0x3C0, 0x10), out8(bus, 0x3C0, 0x41);
    out8(bus, 0x3C0, 0x12), out8(bus, 0x3C0, 0x0F);
    out8(bus, 0x3C0, 0x20);
    out8(bus, 0x3C8, 0);
    for (int i = 0; i < 256; i++)
        out8(bus, 0x3C9, (uint8_t)(i & 63)), out8(bus, 0x3C9, (uint8_t)(i >> 2)),
            out8(bus, 0x3C9, (uint8_t)(63 - (i & 63)));
    for (int y = 0; y < 200; y++)
        for (int x = 0; x < 320; x++)
            bus_mem_write(bus, 0xA0000 + (uint32_t)(y * 320 + x), (uint8_t)(x + 2 * y), 1);
}

static int show(Vga *vga, const char *name)
{
    UiOptions opt = {.title = name, .integer_scale = true};
    char err[512];
    UiWindow *w = ui_window_open(NULL, &opt, err, sizeof err);
    if (!w) {
        fprintf(stderr, "vga_window: %s\n", err);
        return 1;
    }
    VgaFrame f;
    for (int i = 0; i < 30; i++) { /* let the window settle at its size */
        vga_render(vga, &f);
        f.dirty_y0 = 0, f.dirty_y1 = f.height;
        ui_window_present(w, &f);
        ui_window_events(w, 10);
    }
    int x, y, ww, hh;
    ui_window_picture_rect(w, &x, &y, &ww, &hh);
    printf("READY %d %d %d %d\n", x, y, ww, hh);
    fflush(stdout);
    struct pollfd p = {0, POLLIN, 0};
    for (int i = 0; i < 3000; i++) { /* at most ~30 s */
        if (poll(&p, 1, 0) > 0)
            break;
        vga_render(vga, &f);
        f.dirty_y0 = 0, f.dirty_y1 = f.height;
        ui_window_present(w, &f);
        ui_window_events(w, 10);
    }
    ui_window_close(w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: vga_window vbe640|mode13 OUT.png [--window]\n");
        return 2;
    }
    VsxError err = {{0}};
    Bus *bus = bus_create(1u << 20, &err);
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    Vga *vga = bus && clk ? vga_create(bus, NULL, clk, 16u << 20, NULL, 0, &err) : NULL;
    if (!vga) {
        fprintf(stderr, "vga_window: %s\n", err.msg);
        return 1;
    }
    if (!strcmp(argv[1], "vbe640"))
        draw_vbe640(bus);
    else
        draw_mode13(bus);
    VgaFrame f;
    vga_render(vga, &f);
    char msg[512];
    if (ui_write_png(argv[2], &f, msg, sizeof msg)) {
        fprintf(stderr, "vga_window: %s\n", msg);
        return 1;
    }
    int rc = argc > 3 && !strcmp(argv[3], "--window") ? show(vga, argv[1]) : 0;
    vga_device_class.destroy(vga);
    bus_destroy(bus);
    clock_destroy(clk);
    return rc;
}
