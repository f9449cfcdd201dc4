/*
 * disk/vhd_format.c -- VHD on-disk structures: footer and dynamic header
 * encoding, checksums, the CHS geometry algorithm, and small helpers.
 * Field offsets follow Microsoft's "Virtual Hard Disk Image Format
 * Specification" (hard disk footer format, dynamic disk header format); all
 * multi-byte fields are big-endian.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/vhd_internal.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) << 32 | get32(p + 4); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)(v >> 32)); put32(p + 4, (uint32_t)v); }

/* "Checksum: ... the one's complement of the sum of all the bytes in the
 * footer without the checksum field."  The same rule covers the header. */
uint32_t vhd_checksum(const uint8_t *buf, size_t len, size_t skip_at)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i++)
        if (i < skip_at || i >= skip_at + 4)
            sum += buf[i];
    return ~sum;
}

/* The specification's appendix "CHS Calculation", from the total number of
 * sectors; sizes beyond 65535*16*255 sectors are clamped to that geometry
 * (the footer's current size stays authoritative). */
void vhd_geometry(uint64_t total, uint16_t *cyl, uint8_t *heads, uint8_t *spt)
{
    uint64_t cth;
    uint32_t h, s;
    if (total > 65535ull * 16 * 255)
        total = 65535ull * 16 * 255;
    if (total >= 65535ull * 16 * 63) {
        s = 255;
        h = 16;
        cth = total / s;
    } else {
        s = 17;
        cth = total / s;
        h = (uint32_t)((cth + 1023) / 1024);
        if (h < 4)
            h = 4;
        if (cth >= h * 1024ull || h > 16) {
            s = 31;
            h = 16;
            cth = total / s;
        }
        if (cth >= h * 1024ull) {
            s = 63;
            h = 16;
            cth = total / s;
        }
    }
    *cyl = (uint16_t)(cth / h);
    *heads = (uint8_t)h;
    *spt = (uint8_t)s;
}

const char *vhd_type_name(uint32_t type)
{
    static const char *const names[] = {
        [VHD_TYPE_FIXED] = "vhd-fixed",
        [VHD_TYPE_DYNAMIC] = "vhd-dynamic",
        [VHD_TYPE_DIFF] = "vhd-differencing",
    };
    return type >= VHD_TYPE_FIXED && type <= VHD_TYPE_DIFF ? names[type] : "vhd-unknown";
}

void vhd_footer_encode(VhdFooter *f, uint8_t b[512])
{
    memset(b, 0, 512);
    memcpy(b, "conectix", 8);
    put32(b + 8, f->features);
    put32(b + 12, f->version);
    put64(b + 16, f->data_offset);
    put32(b + 24, f->timestamp);
    memcpy(b + 28, f->creator_app, 4);
    put32(b + 32, f->creator_version);
    memcpy(b + 36, f->creator_os, 4);
    put64(b + 40, f->original_size);
    put64(b + 48, f->current_size);
    put16(b + 56, f->cylinders);
    b[58] = f->heads;
    b[59] = f->sectors;
    put32(b + 60, f->disk_type);
    memcpy(b + 68, f->uuid, 16);
    b[84] = f->saved_state;
    f->checksum = vhd_checksum(b, 512, 64);
    put32(b + 64, f->checksum);
}

/* Returns NULL when cookie and checksum are right, else what is wrong. */
const char *vhd_footer_decode(const uint8_t b[512], VhdFooter *f)
{
    if (memcmp(b, "conectix", 8) != 0)
        return "bad footer cookie (expected \"conectix\")";
    f->features = get32(b + 8);
    f->version = get32(b + 12);
    f->data_offset = get64(b + 16);
    f->timestamp = get32(b + 24);
    memcpy(f->creator_app, b + 28, 4);
    f->creator_version = get32(b + 32);
    memcpy(f->creator_os, b + 36, 4);
    f->original_size = get64(b + 40);
    f->current_size = get64(b + 48);
    f->cylinders = get16(b + 56);
    f->heads = b[58];
    f->sectors = b[59];
    f->disk_type = get32(b + 60);
    f->checksum = get32(b + 64);
    memcpy(f->uuid, b + 68, 16);
    f->saved_state = b[84];
    if (f->checksum != vhd_checksum(b, 512, 64))
        return "bad footer checksum";
    return NULL;
}

void vhd_header_encode(VhdHeader *h, uint8_t b[1024])
{
    memset(b, 0, 1024);
    memcpy(b, "cxsparse", 8);
    put64(b + 8, h->data_offset);
    put64(b + 16, h->table_offset);
    put32(b + 24, h->version);
    put32(b + 28, h->max_entries);
    put32(b + 32, h->block_size);
    memcpy(b + 40, h->parent_uuid, 16);
    put32(b + 56, h->parent_timestamp);
    for (int i = 0; i < 256; i++)
        put16(b + 64 + 2 * i, h->parent_name[i]);
    for (int i = 0; i < VHD_LOCATORS; i++) {
        uint8_t *e = b + 576 + 24 * i;
        put32(e, h->loc[i].code);
        put32(e + 4, h->loc[i].space);
        put32(e + 8, h->loc[i].length);
        put64(e + 16, h->loc[i].offset);
    }
    h->checksum = vhd_checksum(b, 1024, 36);
    put32(b + 36, h->checksum);
}

const char *vhd_header_decode(const uint8_t b[1024], VhdHeader *h)
{
    if (memcmp(b, "cxsparse", 8) != 0)
        return "bad dynamic header cookie (expected \"cxsparse\")";
    h->data_offset = get64(b + 8);
    h->table_offset = get64(b + 16);
    h->version = get32(b + 24);
    h->max_entries = get32(b + 28);
    h->block_size = get32(b + 32);
    h->checksum = get32(b + 36);
    memcpy(h->parent_uuid, b + 40, 16);
    h->parent_timestamp = get32(b + 56);
    for (int i = 0; i < 256; i++)
        h->parent_name[i] = get16(b + 64 + 2 * i);
    for (int i = 0; i < VHD_LOCATORS; i++) {
        const uint8_t *e = b + 576 + 24 * i;
        h->loc[i].code = get32(e);
        h->loc[i].space = get32(e + 4);
        h->loc[i].length = get32(e + 8);
        h->loc[i].offset = get64(e + 16);
    }
    if (h->checksum != vhd_checksum(b, 1024, 36))
        return "bad dynamic header checksum";
    return NULL;
}

int vhd_pread(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO; /* short file: validated sizes make this a defect */
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int vhd_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

bool vhd_all_zero(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        if (p[i])
            return false;
    return true;
}

void vhd_uuid_string(const uint8_t u[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u[i] >> 4];
        out[o++] = hex[u[i] & 15];
    }
    out[o] = 0;
}

void vhd_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void vhd_note(VhdLog *log, bool defect, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (defect) {
        if (log->defects++ == 0)
            vhd_set_err(log->err, log->errlen, "%s: %s", path, msg);
        if (log->out)
            fprintf(log->out, "%s: %s\n", path, msg);
        return;
    }
    log->warnings++;
    FILE *w = log->out ? log->out : log->warn;
    if (w)
        fprintf(w, "%s: warning: %s\n", path, msg);
}
