/*
 * disk/vhd.c -- VHD images (fixed, dynamic, differencing chains) as block
 * devices: open with full validation, reads falling through the chain, and
 * crash-safe writes (the scheme is described in vhd_internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/vhd_internal.h"

/* ---------------------------------------------------------------- paths */

static char *vhd_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Directory part of path ("." when it has none), into out. */
void vhd_dirname(const char *path, char *out, size_t len)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, len, ".");
    else if (slash == path)
        snprintf(out, len, "/");
    else
        snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* UTF-16 code units (host order) to UTF-8; unpaired surrogates become '?'. */
static void vhd_utf16_to_utf8(const uint16_t *in, size_t n, char *out, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < n && in[i]; i++) {
        uint32_t c = in[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && in[i + 1] >= 0xDC00 && in[i + 1] < 0xE000)
            c = 0x10000 + ((c - 0xD800) << 10) + (in[++i] - 0xDC00);
        else if (c >= 0xD800 && c < 0xE000)
            c = '?';
        uint8_t b[4];
        int k;
        if (c < 0x80) { b[0] = (uint8_t)c; k = 1; }
        else if (c < 0x800) { b[0] = 0xC0 | c >> 6; b[1] = 0x80 | (c & 63); k = 2; }
        else if (c < 0x10000) { b[0] = 0xE0 | c >> 12; b[1] = 0x80 | (c >> 6 & 63); b[2] = 0x80 | (c & 63); k = 3; }
        else { b[0] = 0xF0 | c >> 18; b[1] = 0x80 | (c >> 12 & 63); b[2] = 0x80 | (c >> 6 & 63); b[3] = 0x80 | (c & 63); k = 4; }
        if (o + (size_t)k >= len)
            break;
        memcpy(out + o, b, (size_t)k);
        o += (size_t)k;
    }
    out[o] = 0;
}

/* UTF-8 to UTF-16 code units (host order); returns the count, or -1 if it
 * does not fit.  Invalid bytes are taken as Latin-1. */
int vhd_utf8_to_utf16(const char *s, uint16_t *out, size_t max)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t o = 0;
    while (*p) {
        uint32_t c = *p++;
        int extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (extra) {
            uint32_t v = c & (0x3F >> extra);
            int k = 0;
            for (; k < extra && (p[k] & 0xC0) == 0x80; k++)
                v = v << 6 | (p[k] & 63);
            if (k == extra) {
                c = v;
                p += extra;
            }
        }
        if (c >= 0x10000) {
            if (o + 2 > max)
                return -1;
            out[o++] = (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
            out[o++] = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
        } else {
            if (o + 1 > max)
                return -1;
            out[o++] = (uint16_t)c;
        }
    }
    return (int)o;
}

/* Turns a locator's path into a host path: backslashes become slashes; a
 * relative path is taken from the child's directory. */
static void vhd_locator_path(const char *child_dir, const char *raw, char *out, size_t len)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", raw);
    for (char *c = tmp; *c; c++)
        if (*c == '\\')
            *c = '/';
    const char *p = tmp;
    if (strncmp(p, "file://", 7) == 0) { /* MacX: a file URL */
        p += 7;
        if (strncmp(p, "localhost", 9) == 0)
            p += 9;
    }
    if (p[0] == '/')
        snprintf(out, len, "%s", p);
    else {
        while (strncmp(p, "./", 2) == 0)
            p += 2;
        if (snprintf(out, len, "%s/%s", child_dir, p) >= (int)len)
            out[0] = 0; /* too long: no such file */
    }
}

/* Reads locator i's path text (UTF-16LE for W2ru/W2ku, UTF-8 for MacX). */
static bool vhd_read_locator(Vhd *v, const VhdLocator *l, char *out, size_t len)
{
    if (l->length == 0 || l->length > 65536)
        return false;
    uint8_t *buf = malloc(l->length + 2);
    if (!buf || vhd_pread(v->fd, buf, l->length, l->offset) != 0) {
        free(buf);
        return false;
    }
    if (l->code == VHD_PLAT_MACX) {
        snprintf(out, len, "%.*s", (int)l->length, (char *)buf);
    } else {
        size_t n = l->length / 2;
        uint16_t *u = malloc((n + 1) * sizeof *u);
        if (!u) {
            free(buf);
            return false;
        }
        for (size_t i = 0; i < n; i++)
            u[i] = (uint16_t)(buf[2 * i] | buf[2 * i + 1] << 8);
        vhd_utf16_to_utf8(u, n, out, len);
        free(u);
    }
    free(buf);
    return true;
}

static void vhd_add_tried(char *tried, size_t tlen, const char *path)
{
    size_t t = strlen(tried), n = strlen(path);
    for (const char *p = strstr(tried, path); p; p = strstr(p + 1, path))
        if ((p == tried || p[-1] == ' ') && (p[n] == ',' || p[n] == 0))
            return; /* already listed */
    if (snprintf(tried + t, tlen - t, "%s%s", t ? ", " : "", path) >= (int)(tlen - t))
        tried[tlen - 1] = 0;
}

/* Tries raw (a locator's text) as a path; with only_name, just its file
 * name in the child's directory (a Windows drive path, or a moved chain). */
static bool vhd_try_parent(const char *dir, const char *raw, bool only_name, char *out, size_t len,
                           char *tried, size_t tlen)
{
    char name[PATH_MAX];
    if (snprintf(name, sizeof name, "%s", raw) >= (int)sizeof name)
        return false;
    for (char *c = name; *c; c++)
        if (*c == '\\')
            *c = '/';
    const char *base = strrchr(name, '/');
    vhd_locator_path(dir, only_name && base ? base + 1 : name, out, len);
    if (out[0] && access(out, F_OK) == 0)
        return true;
    vhd_add_tried(tried, tlen, out);
    return false;
}

/* Finds the parent: relative locator first, then absolute, then MacX, then
 * the parent name field (specification: "Parent Locator Entries"); last,
 * each of their file names in the child's own directory. */
static bool vhd_find_parent(Vhd *v, char *out, size_t len, char *tried, size_t tlen)
{
    static const uint32_t order[] = {VHD_PLAT_W2RU, VHD_PLAT_W2KU, VHD_PLAT_MACX};
    char dir[PATH_MAX], raw[VHD_LOCATORS + 1][PATH_MAX];
    int n = 0;
    vhd_dirname(v->path, dir, sizeof dir);
    tried[0] = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (int i = 0; i < VHD_LOCATORS; i++) {
            const VhdLocator *l = &v->header.loc[i];
            if (l->code == order[k] && vhd_read_locator(v, l, raw[n], sizeof raw[n]) && raw[n][0])
                n++;
        }
    vhd_utf16_to_utf8(v->header.parent_name, 256, raw[n], sizeof raw[n]);
    if (raw[n][0])
        n++;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if (vhd_try_parent(dir, raw[i], pass == 1, out, len, tried, tlen))
                return true;
    return false;
}

/* ------------------------------------------------------------- bitmaps */

bool vhd_bit(const uint8_t *bm, uint32_t i)
{
    return bm[i >> 3] & (0x80 >> (i & 7)); /* most significant bit first */
}

static void vhd_set_bit(uint8_t *bm, uint32_t i) { bm[i >> 3] |= (uint8_t)(0x80 >> (i & 7)); }

/* The block's sector bitmap, read once and cached. */
int vhd_bitmap(Vhd *v, uint32_t block, uint8_t **out)
{
    if (v->bitmaps[block]) {
        *out = v->bitmaps[block];
        return 0;
    }
    uint8_t *bm = malloc(v->bitmap_bytes);
    if (!bm)
        return -ENOMEM;
    int r = vhd_pread(v->fd, bm, v->bitmap_bytes, vhd_block_offset(v, block));
    if (r) {
        free(bm);
        return r;
    }
    if (memcmp(bm, v->ones, v->bitmap_bytes) == 0) {
        free(bm); /* all ones: share one buffer */
        bm = v->ones;
    }
    v->bitmaps[block] = bm;
    *out = bm;
    return 0;
}

static void vhd_drop_bitmaps(Vhd *v)
{
    if (!v->bitmaps)
        return;
    for (uint32_t i = 0; i < v->header.max_entries; i++)
        if (v->bitmaps[i] != v->ones)
            free(v->bitmaps[i]);
    free(v->bitmaps);
}

void vhd_free(Vhd *v)
{
    if (!v)
        return;
    if (v->parent)
        vhd_free(v->parent);
    vhd_drop_bitmaps(v);
    free(v->ones);
    free(v->bat);
    free(v->parent_path);
    free(v->path);
    if (v->fd >= 0)
        close(v->fd);
    free(v);
}

bool vhd_range_unallocated(Vhd *v, uint64_t lba, uint64_t count)
{
    for (; v; v = v->parent) {
        if (v->footer.disk_type == VHD_TYPE_FIXED)
            return false;
        uint64_t first = lba / v->spb, last = (lba + count - 1) / v->spb;
        for (uint64_t b = first; b <= last && b < v->blocks; b++)
            if (v->bat[b] != VHD_UNUSED)
                return false;
    }
    return true;
}

/* --------------------------------------------------------------- reads */

static int vhd_read_absent(Vhd *v, uint64_t lba, uint8_t *buf, uint32_t n)
{
    if (v->parent)
        return v->parent->bd.read(&v->parent->bd, lba, buf, n);
    memset(buf, 0, (size_t)n * 512);
    return 0;
}

/* n sectors from one block, split into runs present here or absent. */
static int vhd_read_in_block(Vhd *v, uint64_t lba, uint8_t *buf, uint32_t n)
{
    uint32_t block = (uint32_t)(lba / v->spb), s = (uint32_t)(lba % v->spb);
    if (v->bat[block] == VHD_UNUSED)
        return vhd_read_absent(v, lba, buf, n);
    uint8_t *bm;
    int r = vhd_bitmap(v, block, &bm);
    uint64_t data = vhd_block_offset(v, block) + v->bitmap_bytes;
    for (uint32_t i = 0, j; r == 0 && i < n; i = j) {
        bool present = vhd_bit(bm, s + i);
        for (j = i + 1; j < n && vhd_bit(bm, s + j) == present; j++)
            ;
        if (present)
            r = vhd_pread(v->fd, buf + (size_t)i * 512, (size_t)(j - i) * 512,
                          data + (uint64_t)(s + i) * 512);
        else
            r = vhd_read_absent(v, lba + i, buf + (size_t)i * 512, j - i);
    }
    return r;
}

static bool vhd_in_range(BlockDev *bd, uint64_t lba, uint32_t count)
{
    uint64_t sectors = bd->size / 512;
    return lba <= sectors && count <= sectors - lba;
}

static int vhd_read(BlockDev *bd, uint64_t lba, void *buf, uint32_t count)
{
    Vhd *v = bd->priv;
    if (!vhd_in_range(bd, lba, count))
        return -EIO;
    if (v->footer.disk_type == VHD_TYPE_FIXED)
        return vhd_pread(v->fd, buf, (size_t)count * 512, lba * 512);
    uint8_t *p = buf;
    while (count) {
        uint32_t n = v->spb - (uint32_t)(lba % v->spb);
        if (n > count)
            n = count;
        int r = vhd_read_in_block(v, lba, p, n);
        if (r)
            return r;
        lba += n;
        p += (size_t)n * 512;
        count -= n;
    }
    return 0;
}

/* -------------------------------------------------------------- writes */

int vhd_sync(Vhd *v)
{
    if (v->flags & VHD_LOAD_NOSYNC)
        return 0;
    return fdatasync(v->fd) ? -errno : 0;
}

/* Zeroes [off, off+len) that already exists in the file (reused space left
 * by an interrupted allocation), so a dynamic block reads zeros there. */
static int vhd_zero_range(Vhd *v, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (fallocate(v->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    static const uint8_t zeros[65536];
    while (len) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        int r = vhd_pwrite(v->fd, zeros, n, off);
        if (r)
            return r;
        off += n;
        len -= n;
    }
    return 0;
}

static int vhd_write_footer_at(Vhd *v, uint64_t off)
{
    uint8_t b[512];
    VhdFooter f = v->footer;
    vhd_footer_encode(&f, b);
    return vhd_pwrite(v->fd, b, 512, off);
}

static int vhd_write_bat_entry(Vhd *v, uint32_t block)
{
    uint8_t e[4];
    uint32_t x = v->bat[block];
    e[0] = x >> 24; e[1] = (uint8_t)(x >> 16); e[2] = (uint8_t)(x >> 8); e[3] = (uint8_t)x;
    return vhd_pwrite(v->fd, e, 4, v->header.table_offset + (uint64_t)block * 4);
}

/* Bitmap bits of sectors whose data is written but not yet known durable
 * are held in memory (reads use them at once) and written out, after an
 * fdatasync, in batches: on flush, on close, after any block allocation's
 * sync, or once VHD_DIRTY_MAX blocks or VHD_DIRTY_WRITES writes are pending.
 * Data always reaches the file before the bits that make it visible, so a
 * crash shows each sector's old or new contents; a write not yet flushed
 * may come back old, as with a disk's write cache. */
static int vhd_write_dirty_bitmaps(Vhd *v)
{
    for (uint32_t i = 0; i < v->ndirty; i++) {
        uint32_t b = v->dirty[i];
        int r = vhd_pwrite(v->fd, v->bitmaps[b], v->bitmap_bytes, vhd_block_offset(v, b));
        if (r)
            return r;
    }
    v->ndirty = 0;
    v->dirty_writes = 0;
    return 0;
}

static int vhd_flush_bitmaps(Vhd *v)
{
    if (v->ndirty == 0)
        return 0;
    int r = vhd_sync(v);
    return r ? r : vhd_write_dirty_bitmaps(v);
}

static int vhd_mark_dirty(Vhd *v, uint32_t block)
{
    uint32_t i = 0;
    while (i < v->ndirty && v->dirty[i] != block)
        i++;
    if (i == v->ndirty)
        v->dirty[v->ndirty++] = block;
    if (v->ndirty >= VHD_DIRTY_MAX || ++v->dirty_writes >= VHD_DIRTY_WRITES)
        return vhd_flush_bitmaps(v);
    return 0;
}

/* A new block at next_alloc, in the order that keeps the file valid at
 * every instant: footer past the block (extending the file), then data and
 * bitmap, fdatasync, then the BAT entry. */
static int vhd_alloc_block(Vhd *v, uint32_t block, uint32_t s, const uint8_t *buf, uint32_t n)
{
    uint64_t pos = v->next_alloc, end = pos + v->bitmap_bytes + v->header.block_size;
    uint64_t old_size = v->file_size;
    if (pos / 512 >= VHD_UNUSED)
        return -EFBIG; /* a BAT entry holds a 32-bit sector number */
    uint8_t *bm = calloc(1, v->bitmap_bytes);
    if (!bm)
        return -ENOMEM;
    int r = 0;
    if (end + 512 > v->file_size) {
        r = vhd_write_footer_at(v, end);
        if (r == 0)
            v->file_size = end + 512;
    }
    if (!v->parent) {
        /* Dynamic: every sector of the block is present (zero unless written),
         * so later writes into it never touch the bitmap. */
        memset(bm, 0xFF, v->bitmap_bytes);
        uint64_t zfrom = pos + v->bitmap_bytes, zto = old_size < end ? old_size : end;
        if (r == 0 && zto > zfrom)
            r = vhd_zero_range(v, zfrom, zto - zfrom);
    } else {
        for (uint32_t i = 0; i < n; i++)
            vhd_set_bit(bm, s + i);
    }
    if (r == 0)
        r = vhd_pwrite(v->fd, buf, (size_t)n * 512, pos + v->bitmap_bytes + (uint64_t)s * 512);
    if (r == 0)
        r = vhd_pwrite(v->fd, bm, v->bitmap_bytes, pos);
    if (r == 0)
        r = vhd_sync(v);
    if (r == 0) /* that sync made pending data durable too */
        r = vhd_write_dirty_bitmaps(v);
    if (r == 0) {
        v->bat[block] = (uint32_t)(pos / 512);
        r = vhd_write_bat_entry(v, block);
        if (r)
            v->bat[block] = VHD_UNUSED;
    }
    if (r) {
        free(bm);
        return r;
    }
    v->next_alloc = end;
    if (memcmp(bm, v->ones, v->bitmap_bytes) == 0) {
        free(bm);
        bm = v->ones;
    }
    v->bitmaps[block] = bm;
    return 0;
}

/* Writes into an allocated block: data now, the bits that make it visible
 * later (see vhd_write_dirty_bitmaps). */
static int vhd_write_existing(Vhd *v, uint32_t block, uint32_t s, const uint8_t *buf, uint32_t n)
{
    uint8_t *bm;
    int r = vhd_bitmap(v, block, &bm);
    uint64_t base = vhd_block_offset(v, block);
    if (r == 0)
        r = vhd_pwrite(v->fd, buf, (size_t)n * 512, base + v->bitmap_bytes + (uint64_t)s * 512);
    if (r)
        return r;
    bool missing = false;
    for (uint32_t i = 0; i < n && !missing; i++)
        missing = !vhd_bit(bm, s + i);
    if (!missing)
        return 0;
    if (bm == v->ones) /* cannot happen: all bits are set; keep the buffer shared */
        return 0;
    for (uint32_t i = 0; i < n; i++)
        vhd_set_bit(bm, s + i);
    return vhd_mark_dirty(v, block);
}

static int vhd_write_in_block(Vhd *v, uint64_t lba, const uint8_t *buf, uint32_t n)
{
    uint32_t block = (uint32_t)(lba / v->spb), s = (uint32_t)(lba % v->spb);
    if (v->bat[block] != VHD_UNUSED)
        return vhd_write_existing(v, block, s, buf, n);
    if (!v->parent && vhd_all_zero(buf, (size_t)n * 512))
        return 0; /* an absent block already reads as zeros */
    return vhd_alloc_block(v, block, s, buf, n);
}

static int vhd_write(BlockDev *bd, uint64_t lba, const void *buf, uint32_t count)
{
    Vhd *v = bd->priv;
    if (bd->readonly)
        return -EROFS;
    if (!vhd_in_range(bd, lba, count))
        return -EIO;
    if (v->footer.disk_type == VHD_TYPE_FIXED)
        return vhd_pwrite(v->fd, buf, (size_t)count * 512, lba * 512);
    const uint8_t *p = buf;
    while (count) {
        uint32_t n = v->spb - (uint32_t)(lba % v->spb);
        if (n > count)
            n = count;
        int r = vhd_write_in_block(v, lba, p, n);
        if (r)
            return r;
        lba += n;
        p += (size_t)n * 512;
        count -= n;
    }
    return 0;
}

static int vhd_flush(BlockDev *bd)
{
    Vhd *v = bd->priv;
    if (bd->readonly)
        return 0;
    int r = vhd_flush_bitmaps(v);
    if (r == 0 && fdatasync(v->fd) != 0)
        r = -errno;
    return r;
}

static void vhd_close(BlockDev *bd)
{
    Vhd *v = bd->priv;
    if (!bd->readonly && vhd_flush_bitmaps(v) == 0)
        vhd_sync(v);
    vhd_free(v);
}

/* ------------------------------------------------------------- loading */

typedef struct VhdRange {
    uint64_t start, end;
    const char *what;
    uint32_t index;
} VhdRange;

static int vhd_range_cmp(const void *a, const void *b)
{
    const VhdRange *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

static int vhd_open_file(Vhd *v, const char *path, unsigned flags, VhdLog *log)
{
    bool ro = flags & VHD_LOAD_READONLY;
    v->fd = open(path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (v->fd < 0 && !ro && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        ro = true;
        v->fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (v->fd < 0) {
        vhd_note(log, true, path, "%s", strerror(errno));
        return -1;
    }
    /* Only a held lock refuses; filesystems without locks go unlocked. */
    if (flock(v->fd, (ro ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
        vhd_note(log, true, path, "image is in use by another process");
        return -1;
    }
    v->bd.readonly = ro;
    struct stat st;
    if (fstat(v->fd, &st) != 0) {
        vhd_note(log, true, path, "%s", strerror(errno));
        return -1;
    }
    v->file_size = (uint64_t)st.st_size;
    return 0;
}

static bool vhd_footer_sane(Vhd *v, VhdLog *log)
{
    const VhdFooter *f = &v->footer;
    int before = log->defects;
    if (f->version >> 16 != 1)
        vhd_note(log, true, v->path, "unsupported format version 0x%08x", f->version);
    if (f->disk_type < VHD_TYPE_FIXED || f->disk_type > VHD_TYPE_DIFF)
        vhd_note(log, true, v->path, "unsupported disk type %u", f->disk_type);
    if (f->current_size % 512)
        vhd_note(log, true, v->path, "virtual size %llu is not a multiple of 512",
                 (unsigned long long)f->current_size);
    if (f->current_size == 0 || f->current_size > VHD_MAX_SIZE)
        vhd_note(log, true, v->path, "virtual size %llu is outside 512 bytes .. 2040 GiB",
                 (unsigned long long)f->current_size);
    if (f->saved_state)
        vhd_note(log, false, v->path, "saved-state flag is set");
    return log->defects == before;
}

/* Reads the trailing footer, falling back to the copy at offset 0 for
 * dynamic and differencing disks (see the scheme in vhd_internal.h).  The
 * specification notes that images from before Virtual PC 2004 end in a
 * 511-byte footer; those are read too (the missing byte is reserved). */
static bool vhd_load_footer(Vhd *v, VhdLog *log)
{
    uint8_t tail[512] = {0}, head[512];
    VhdFooter ft, fh;
    uint32_t tail_len = v->file_size % 512 == 511 ? 511 : 512;
    if (v->file_size % 512 && tail_len == 512) {
        vhd_note(log, true, v->path, "file size %llu is not a multiple of 512",
                 (unsigned long long)v->file_size);
        return false;
    }
    if (v->file_size < 1024 || vhd_pread(v->fd, tail, tail_len, v->file_size - tail_len) != 0 ||
        vhd_pread(v->fd, head, 512, 0) != 0) {
        vhd_note(log, true, v->path, "truncated file (%llu bytes)", (unsigned long long)v->file_size);
        return false;
    }
    v->footer_at = v->file_size - tail_len;
    const char *wt = vhd_footer_decode(tail, &ft);
    const char *wh = vhd_footer_decode(head, &fh);
    bool head_dyn = !wh && (fh.disk_type == VHD_TYPE_DYNAMIC || fh.disk_type == VHD_TYPE_DIFF);
    if (!wt) {
        v->footer = ft;
        if (ft.disk_type != VHD_TYPE_FIXED && wh)
            vhd_note(log, true, v->path, "footer copy at offset 0: %s", wh);
        else if (ft.disk_type != VHD_TYPE_FIXED && memcmp(head, tail, 511) != 0)
            vhd_note(log, true, v->path, "footer copy at offset 0 differs from the footer at the end");
        return vhd_footer_sane(v, log);
    }
    if (head_dyn) {
        v->footer = fh;
        v->footer_recovered = true;
        v->footer_at = v->file_size;
        vhd_note(log, false, v->path, "footer at the end is missing or damaged (%s); "
                 "using the copy at offset 0", wt);
        return vhd_footer_sane(v, log);
    }
    vhd_note(log, true, v->path, "%s", wt);
    return false;
}

static bool vhd_load_fixed(Vhd *v, VhdLog *log)
{
    if (v->footer_at != v->footer.current_size) {
        vhd_note(log, true, v->path, "fixed disk file is %llu bytes, expected %llu (size + footer)",
                 (unsigned long long)v->file_size,
                 (unsigned long long)v->footer.current_size + (v->file_size - v->footer_at));
        return false;
    }
    return true;
}

static bool vhd_header_sane(Vhd *v, VhdLog *log, uint64_t limit)
{
    VhdHeader *h = &v->header;
    int before = log->defects;
    if (h->version != VHD_VERSION)
        vhd_note(log, true, v->path, "unsupported dynamic header version 0x%08x", h->version);
    if (h->block_size < 512 || h->block_size > (256u << 20) || (h->block_size & (h->block_size - 1)))
        vhd_note(log, true, v->path, "block size %u is not a power of two between 512 and 256 MiB",
                 h->block_size);
    if (log->defects != before)
        return false;
    v->spb = h->block_size / 512;
    v->bitmap_bytes = ((v->spb + 7) / 8 + 511) & ~511u;
    v->blocks = (uint32_t)((v->footer.current_size + h->block_size - 1) / h->block_size);
    if (h->max_entries < v->blocks)
        vhd_note(log, true, v->path, "block allocation table has %u entries, %u needed for the size",
                 h->max_entries, v->blocks);
    else if (h->table_offset > limit || (uint64_t)h->max_entries * 4 > limit - h->table_offset)
        vhd_note(log, true, v->path, "block allocation table (offset %llu, %u entries) lies past the end of the file",
                 (unsigned long long)h->table_offset, h->max_entries);
    if (h->table_offset % 512)
        vhd_note(log, false, v->path, "block allocation table at %llu is not sector-aligned",
                 (unsigned long long)h->table_offset);
    return log->defects == before;
}

static bool vhd_overlap(const VhdRange *a, const VhdRange *b)
{
    return a->start < b->end && b->start < a->end;
}

/* Metadata ranges pairwise, each block against the metadata, then blocks
 * among themselves (all one size, so sorted neighbours suffice). */
static void vhd_check_overlaps(Vhd *v, VhdLog *log, VhdRange *m, size_t nm, VhdRange *b, size_t nb)
{
    for (size_t i = 0; i < nm; i++)
        for (size_t j = i + 1; j < nm; j++)
            if (vhd_overlap(&m[i], &m[j]))
                vhd_note(log, true, v->path, "the %s overlaps the %s", m[i].what, m[j].what);
    for (size_t i = 0; i < nb; i++)
        for (size_t j = 0; j < nm; j++)
            if (vhd_overlap(&b[i], &m[j]))
                vhd_note(log, true, v->path, "BAT entry %u overlaps the %s", b[i].index, m[j].what);
    qsort(b, nb, sizeof *b, vhd_range_cmp);
    for (size_t i = 1; i < nb; i++)
        if (vhd_overlap(&b[i - 1], &b[i]))
            vhd_note(log, true, v->path, "BAT entries %u and %u overlap", b[i - 1].index, b[i].index);
}

/* Collects metadata and blocks as ranges, reports what lies past the end
 * and what overlaps, and finds where the next block goes. */
static void vhd_check_layout(Vhd *v, VhdLog *log, uint64_t limit)
{
    VhdHeader *h = &v->header;
    VhdRange m[3 + VHD_LOCATORS];
    size_t nm = 0, nb = 0;
    VhdRange *b = malloc(((size_t)h->max_entries + 1) * sizeof *b);
    if (!b) {
        vhd_note(log, true, v->path, "out of memory");
        return;
    }
    m[nm++] = (VhdRange){0, 512, "footer copy", 0};
    m[nm++] = (VhdRange){v->footer.data_offset, v->footer.data_offset + 1024, "dynamic header", 0};
    m[nm++] = (VhdRange){h->table_offset, h->table_offset + (uint64_t)h->max_entries * 4,
                         "block allocation table", 0};
    for (int i = 0; i < VHD_LOCATORS && v->footer.disk_type == VHD_TYPE_DIFF; i++) {
        const VhdLocator *l = &h->loc[i];
        if (!l->code || !l->length)
            continue;
        uint64_t e = l->offset + ((l->length + 511ull) & ~511ull);
        if (l->offset > limit || e > limit + 511)
            vhd_note(log, true, v->path, "parent locator %d lies past the end of the file", i);
        m[nm++] = (VhdRange){l->offset, e, "parent locator", (uint32_t)i};
    }
    v->meta_end = 0;
    for (size_t i = 0; i < nm; i++)
        if (m[i].end > v->meta_end)
            v->meta_end = (m[i].end + 511) & ~511ull;
    v->next_alloc = v->meta_end;
    uint64_t bsize = v->bitmap_bytes + (uint64_t)h->block_size;
    for (uint32_t i = 0; i < h->max_entries; i++) {
        if (v->bat[i] == VHD_UNUSED)
            continue;
        uint64_t off = (uint64_t)v->bat[i] * 512;
        if (i >= v->blocks)
            vhd_note(log, false, v->path, "BAT entry %u is set but beyond the disk size", i);
        if (off + bsize > limit)
            vhd_note(log, true, v->path, "BAT entry %u points past the end of the file (block at %llu)",
                     i, (unsigned long long)off);
        b[nb++] = (VhdRange){off, off + bsize, "block", i};
        if (off + bsize > v->next_alloc)
            v->next_alloc = off + bsize;
    }
    vhd_check_overlaps(v, log, m, nm, b, nb);
    free(b);
}

static void vhd_check_bitmaps(Vhd *v, VhdLog *log)
{
    for (uint32_t b = 0; b < v->blocks; b++) {
        uint8_t *bm;
        if (v->bat[b] == VHD_UNUSED)
            continue;
        if (vhd_bitmap(v, b, &bm) != 0) {
            vhd_note(log, true, v->path, "cannot read the bitmap of block %u", b);
            continue;
        }
        if (vhd_all_zero(bm, v->bitmap_bytes))
            vhd_note(log, false, v->path, "block %u is allocated but holds no sectors", b);
    }
}

static bool vhd_load_bat(Vhd *v, VhdLog *log)
{
    uint32_t n = v->header.max_entries;
    uint8_t *raw = malloc((size_t)n * 4 + 1);
    v->bat = malloc((size_t)n * 4 + 4);
    v->bitmaps = calloc((size_t)n + 1, sizeof *v->bitmaps);
    v->ones = malloc(v->bitmap_bytes);
    if (!raw || !v->bat || !v->bitmaps || !v->ones) {
        free(raw);
        vhd_note(log, true, v->path, "out of memory for the block allocation table");
        return false;
    }
    memset(v->ones, 0xFF, v->bitmap_bytes);
    if (vhd_pread(v->fd, raw, (size_t)n * 4, v->header.table_offset) != 0) {
        free(raw);
        vhd_note(log, true, v->path, "cannot read the block allocation table");
        return false;
    }
    for (uint32_t i = 0; i < n; i++)
        v->bat[i] = (uint32_t)raw[4 * i] << 24 | (uint32_t)raw[4 * i + 1] << 16 |
                    (uint32_t)raw[4 * i + 2] << 8 | raw[4 * i + 3];
    free(raw);
    return true;
}

uint32_t vhd_file_timestamp(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_mtime < VHD_EPOCH_UNIX)
        return 0;
    return (uint32_t)(st.st_mtime - VHD_EPOCH_UNIX);
}

static void vhd_load_parent(Vhd *v, unsigned flags, const char *override, VhdLog *log, int depth)
{
    char path[PATH_MAX], tried[1024];
    if (override)
        snprintf(path, sizeof path, "%s", override);
    else if (!vhd_find_parent(v, path, sizeof path, tried, sizeof tried)) {
        vhd_note(log, true, v->path, "parent image not found (tried: %s)", tried[0] ? tried : "no locators");
        return;
    }
    if (depth + 1 >= VHD_MAX_CHAIN) {
        vhd_note(log, true, v->path, "differencing chain deeper than %d images (a loop?)", VHD_MAX_CHAIN);
        return;
    }
    unsigned pflags = (flags & (VHD_LOAD_CHECK | VHD_LOAD_NOSYNC)) |
                      ((flags & VHD_LOAD_PARENT_RW) ? 0 : VHD_LOAD_READONLY);
    v->parent = vhd_load(path, pflags, NULL, log, depth + 1);
    v->parent_path = vhd_strdup(path);
    if (!v->parent)
        return;
    char want[37], got[37];
    if (memcmp(v->parent->footer.uuid, v->header.parent_uuid, 16) != 0) {
        vhd_uuid_string(v->header.parent_uuid, want);
        vhd_uuid_string(v->parent->footer.uuid, got);
        vhd_note(log, true, v->path, "parent %s has unique ID %s, expected %s", path, got, want);
    }
    if (v->parent->footer.current_size != v->footer.current_size)
        vhd_note(log, true, v->path, "parent %s is %llu bytes, this disk %llu", path,
                 (unsigned long long)v->parent->footer.current_size,
                 (unsigned long long)v->footer.current_size);
    /* The specification records the parent's modification time; some
     * writers record its footer time stamp instead: either matches. */
    if (vhd_file_timestamp(v->parent->fd) != v->header.parent_timestamp &&
        v->parent->footer.timestamp != v->header.parent_timestamp)
        vhd_note(log, false, v->path, "parent %s was modified after this disk was made "
                 "(time stamp differs); its unique ID matches, so it is used", path);
}

static bool vhd_load_dynamic(Vhd *v, unsigned flags, const char *override, VhdLog *log, int depth)
{
    uint8_t hb[1024];
    int before = log->defects;
    uint64_t limit = v->footer_at;
    if (v->footer.data_offset < 512 || v->footer.data_offset > limit || limit - v->footer.data_offset < 1024 ||
        vhd_pread(v->fd, hb, 1024, v->footer.data_offset) != 0) {
        vhd_note(log, true, v->path, "dynamic header offset %llu lies outside the file (truncated?)",
                 (unsigned long long)v->footer.data_offset);
        return false;
    }
    const char *why = vhd_header_decode(hb, &v->header);
    if (why) {
        vhd_note(log, true, v->path, "%s", why);
        return false;
    }
    if (!vhd_header_sane(v, log, limit) || !vhd_load_bat(v, log))
        return false;
    vhd_check_layout(v, log, limit);
    if ((flags & VHD_LOAD_CHECK) && log->defects == before) { /* blocks are in bounds */
        vhd_check_bitmaps(v, log);
        if (limit > v->next_alloc)
            vhd_note(log, false, v->path, "%llu bytes before the footer belong to no block "
                     "(left by an interrupted write; the next new block reuses them)",
                     (unsigned long long)(limit - v->next_alloc));
    }
    if (v->footer.disk_type == VHD_TYPE_DIFF)
        vhd_load_parent(v, flags, override, log, depth);
    return true;
}

/* Writable image whose trailing footer was lost: append a fresh one. */
static void vhd_repair_footer(Vhd *v, VhdLog *log)
{
    if (v->bd.readonly || !v->footer_recovered)
        return;
    uint64_t at = (v->file_size + 511) & ~511ull;
    if (vhd_write_footer_at(v, at) != 0 || vhd_sync(v) != 0) {
        vhd_note(log, true, v->path, "cannot restore the footer: %s", strerror(errno));
        return;
    }
    v->file_size = at + 512;
    v->footer_recovered = false;
}

Vhd *vhd_load(const char *path, unsigned flags, const char *override, VhdLog *log, int depth)
{
    Vhd *v = calloc(1, sizeof *v);
    if (!v) {
        vhd_note(log, true, path, "out of memory");
        return NULL;
    }
    v->fd = -1;
    v->flags = flags;
    v->path = vhd_strdup(path);
    int before = log->defects;
    if (!v->path || vhd_open_file(v, path, flags, log) != 0 || !vhd_load_footer(v, log))
        goto fail;
    if (v->footer.disk_type == VHD_TYPE_FIXED ? !vhd_load_fixed(v, log)
                                              : !vhd_load_dynamic(v, flags, override, log, depth))
        goto fail;
    if (log->defects != before)
        goto fail;
    vhd_repair_footer(v, log);
    if (log->defects != before)
        goto fail;
    v->bd.size = v->footer.current_size;
    v->bd.sector_size = 512;
    v->bd.format = vhd_type_name(v->footer.disk_type);
    v->bd.read = vhd_read;
    v->bd.write = vhd_write;
    v->bd.flush = vhd_flush;
    v->bd.close = vhd_close;
    v->bd.priv = v;
    return v;
fail:
    vhd_free(v);
    return NULL;
}
