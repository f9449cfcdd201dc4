/*
 * ui/png.c -- screenshots as 8-bit RGB PNG through libpng's simplified API.
 */
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "ui_priv.h"

int ui_write_png(const char *path, const VgaFrame *frame, char *err, size_t errlen)
{
    if (!frame || !frame->pixels || frame->width <= 0 || frame->height <= 0) {
        snprintf(err, errlen, "%s: no picture to write", path);
        return -1;
    }
    size_t w = (size_t)frame->width, h = (size_t)frame->height;
    uint8_t *rgb = malloc(w * h * 3);
    if (!rgb) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    for (size_t y = 0; y < h; y++) {
        const uint32_t *src = frame->pixels + y * (size_t)frame->stride;
        uint8_t *dst = rgb + y * w * 3;
        for (size_t x = 0; x < w; x++) {
            dst[3 * x] = (uint8_t)(src[x] >> 16);
            dst[3 * x + 1] = (uint8_t)(src[x] >> 8);
            dst[3 * x + 2] = (uint8_t)src[x];
        }
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    int ok = png_image_write_to_file(&img, path, 0, rgb, (png_int_32)(w * 3), NULL);
    free(rgb);
    if (!ok) {
        snprintf(err, errlen, "%s: %s", path, img.message);
        png_image_free(&img);
        return -1;
    }
    return 0;
}
