/* tests/unit/ui_test.c -- the front end's pure parts: scripted-key parsing
 * (PS/2 set-1 codes) and PNG screenshots read back with libpng. */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "../../ui/ui.h"
#include "test.h"

TEST(ui_keys, names_times_and_order)
{
    UiKeyEvent *ev = NULL;
    size_t n = 0;
    char err[256];
    CHECK_EQ(ui_keys_parse("3s:ret 1.5:F12  500ms:up", &ev, &n, err, sizeof err), 0);
    CHECK_EQ(n, 6);
    if (n == 6) {
        CHECK_EQ(ev[0].keycode, 0xE048); /* up at 0.5 s first */
        CHECK(ev[0].time_s > 0.49 && ev[0].time_s < 0.51);
        CHECK(ev[0].down);
        CHECK(!ev[1].down);
        CHECK_EQ(ev[2].keycode, 0x58);   /* F12, case-insensitive */
        CHECK_EQ(ev[4].keycode, 0x1C);
        CHECK(ev[4].time_s == 3.0);
    }
    free(ev);
}

TEST(ui_keys, quoted_text_and_shift)
{
    UiKeyEvent *ev = NULL;
    size_t n = 0;
    char err[256];
    CHECK_EQ(ui_keys_parse("2s:\"aB \\\"\"+ret", &ev, &n, err, sizeof err), 0);
    /* a: 2 events; B: shift+b: 4; space: 2; ": shift+quote 4; ret: 2 */
    static const struct { int code; bool down; } want[] = {
        {0x1E, 1}, {0x1E, 0}, {0x2A, 1}, {0x30, 1}, {0x30, 0}, {0x2A, 0},
        {0x39, 1}, {0x39, 0}, {0x2A, 1}, {0x28, 1}, {0x28, 0}, {0x2A, 0},
        {0x1C, 1}, {0x1C, 0}};
    CHECK_EQ(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++) {
        CHECK_EQ(ev[i].keycode, want[i].code);
        CHECK_EQ(ev[i].down, want[i].down);
    }
    free(ev);
}

TEST(ui_keys, modifiers_wrap_the_key)
{
    UiKeyEvent *ev = NULL;
    size_t n = 0;
    char err[256];
    CHECK_EQ(ui_keys_parse("1:ctrl-alt-del # reboot\n2:pause", &ev, &n, err, sizeof err), 0);
    CHECK_EQ(n, 8);
    if (n == 8) {
        CHECK_EQ(ev[0].keycode, 0x1D);
        CHECK_EQ(ev[1].keycode, 0x38);
        CHECK_EQ(ev[2].keycode, 0xE053);
        CHECK(ev[2].down && !ev[3].down);
        CHECK_EQ(ev[4].keycode, 0x38);
        CHECK(!ev[4].down);
        CHECK_EQ(ev[5].keycode, 0x1D);
        CHECK_EQ(ev[6].keycode, 0xE11D);
    }
    free(ev);
}

TEST(ui_keys, errors_name_the_item)
{
    UiKeyEvent *ev = NULL;
    size_t n = 0;
    char err[256] = "";
    CHECK_EQ(ui_keys_parse("2s:nosuchkey", &ev, &n, err, sizeof err), -1);
    CHECK(strstr(err, "nosuchkey") != NULL);
    CHECK_EQ(ui_keys_parse("ret", &ev, &n, err, sizeof err), -1);
    CHECK_EQ(ui_keys_parse("1:\"open", &ev, &n, err, sizeof err), -1);
    CHECK(strstr(err, "quote") != NULL);
    CHECK_EQ(ui_keys_parse("1:\"\x01\"", &ev, &n, err, sizeof err), -1);
}

TEST(ui_png, written_frame_reads_back_equal)
{
    enum { W = 37, H = 23, STRIDE = 40 };
    static uint32_t pix[STRIDE * H];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < STRIDE; x++)
            pix[y * STRIDE + x] = (uint32_t)(x * 7) << 16 | (uint32_t)(y * 11) << 8 | (uint32_t)((x ^ y) * 5);
    VgaFrame f = {pix, W, H, STRIDE, 0, H};
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/frame.png", test_tmpdir());
    CHECK_EQ(ui_write_png(path, &f, err, sizeof err), 0);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_file(&img, path));
    CHECK_EQ(img.width, W);
    CHECK_EQ(img.height, H);
    img.format = PNG_FORMAT_RGB;
    uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
    CHECK(rgb && png_image_finish_read(&img, NULL, rgb, 0, NULL));
    int bad = 0;
    for (int y = 0; rgb && y < H; y++)
        for (int x = 0; x < W; x++) {
            const uint8_t *p = rgb + (y * W + x) * 3;
            bad += ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) != pix[y * STRIDE + x];
        }
    CHECK_EQ(bad, 0);
    free(rgb);
    CHECK_EQ(ui_write_png("/nonexistent-dir/x.png", &f, err, sizeof err), -1);
}
