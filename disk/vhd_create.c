/*
 * disk/vhd_create.c -- making VHD images (fixed, dynamic, differencing with
 * Windows parent locators), the block-device entry points, undo disks and
 * commit.  On-disk layouts and the crash-safety scheme: vhd_internal.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/vhd_internal.h"

/* ------------------------------------------------------------ creation */

static void vhd_random_uuid(uint8_t u[16])
{
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    bool ok = fd >= 0 && vhd_pread(fd, u, 16, 0) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok) { /* no urandom: mix time, pid and address bits */
        uint64_t x = (uint64_t)time(NULL) * 6364136223846793005ull ^ (uint64_t)getpid() ^ (uintptr_t)u;
        for (int i = 0; i < 16; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            u[i] = (uint8_t)(x >> 56);
        }
    }
    u[6] = (u[6] & 0x0F) | 0x40; /* RFC 4122 version 4 */
    u[8] = (u[8] & 0x3F) | 0x80;
}

static void vhd_new_footer(VhdFooter *f, uint32_t type, uint64_t size, const VhdFooter *like)
{
    memset(f, 0, sizeof *f);
    f->features = 2; /* "reserved: must always be set" */
    f->version = VHD_VERSION;
    f->data_offset = type == VHD_TYPE_FIXED ? VHD_NO_OFFSET : 512;
    /* Creator "vsx ", version 0.1, host "Wi2k": readers treat "Wi2k" as the
     * generic Windows value and vsx paths are stored the Windows way. */
    memcpy(f->creator_app, "vsx ", 4);
    f->creator_version = 0x00000001;
    memcpy(f->creator_os, "Wi2k", 4);
    f->original_size = f->current_size = size;
    f->disk_type = type;
    vhd_geometry(size / 512, &f->cylinders, &f->heads, &f->sectors);
    if (like) {
        f->timestamp = like->timestamp;
        memcpy(f->uuid, like->uuid, 16);
        f->original_size = like->original_size;
        memcpy(f->creator_app, like->creator_app, 4);
        f->creator_version = like->creator_version;
        memcpy(f->creator_os, like->creator_os, 4);
        f->cylinders = like->cylinders;
        f->heads = like->heads;
        f->sectors = like->sectors;
    } else {
        time_t now = time(NULL);
        f->timestamp = now > VHD_EPOCH_UNIX ? (uint32_t)(now - VHD_EPOCH_UNIX) : 0;
        vhd_random_uuid(f->uuid);
    }
}

/* Relative path from directory `from` to `to` (both absolute, canonical). */
static void vhd_relative(const char *from, const char *to, char *out, size_t len)
{
    size_t common = 0, i = 0;
    for (; from[i] && from[i] == to[i]; i++)
        if (from[i] == '/')
            common = i;
    if (!from[i] && (to[i] == '/' || !to[i]))
        common = i;
    out[0] = 0;
    size_t o = 0;
    if (!from[common] || !from[common + 1])
        o += (size_t)snprintf(out, len, ".\\");
    for (const char *p = from + common; *p && o < len; p++)
        if (*p == '/' && p[1])
            o += (size_t)snprintf(out + o, len - o, "..\\");
    if (o < len)
        snprintf(out + o, len - o, "%s", to + common + (to[common] == '/'));
    for (char *c = out; *c; c++)
        if (*c == '/')
            *c = '\\';
}

/* The two Windows locators (relative, absolute) of a differencing disk;
 * returns bytes of locator data laid out from data_at. */
static int vhd_make_locators(const char *child, const char *parent, VhdHeader *h,
                             uint8_t **data, uint64_t data_at, char *err, size_t errlen)
{
    char pabs[PATH_MAX], cdir[PATH_MAX], cdir_abs[PATH_MAX], rel[PATH_MAX * 2], absw[PATH_MAX];
    if (!realpath(parent, pabs)) {
        vhd_set_err(err, errlen, "%s: %s", parent, strerror(errno));
        return -1;
    }
    vhd_dirname(child, cdir, sizeof cdir);
    if (!realpath(cdir, cdir_abs)) {
        vhd_set_err(err, errlen, "%s: %s", cdir, strerror(errno));
        return -1;
    }
    vhd_relative(cdir_abs, pabs, rel, sizeof rel);
    snprintf(absw, sizeof absw, "%s", pabs);
    for (char *c = absw; *c; c++)
        if (*c == '/')
            *c = '\\';
    const char *text[2] = {rel, absw};
    const uint32_t codes[2] = {VHD_PLAT_W2RU, VHD_PLAT_W2KU};
    uint16_t *u = malloc(PATH_MAX * 2 * sizeof *u);
    *data = calloc(2, PATH_MAX * 4 + 512);
    if (!u || !*data) {
        free(u);
        vhd_set_err(err, errlen, "%s: out of memory", child);
        return -1;
    }
    uint64_t used = 0;
    for (int i = 0; i < 2; i++) {
        int n = vhd_utf8_to_utf16(text[i], u, PATH_MAX * 2);
        if (n < 0) {
            free(u);
            vhd_set_err(err, errlen, "%s: parent path too long", child);
            return -1;
        }
        for (int k = 0; k < n; k++) {
            (*data)[used + 2 * (uint64_t)k] = (uint8_t)u[k];
            (*data)[used + 2 * (uint64_t)k + 1] = (uint8_t)(u[k] >> 8);
        }
        uint32_t bytes = (uint32_t)n * 2, space = (bytes + 511) & ~511u;
        if (!space)
            space = 512;
        /* Data space is written in bytes (what Windows writes and reads);
         * vsx reads only `length`, so either reading of the field works. */
        h->loc[i] = (VhdLocator){codes[i], space, bytes, data_at + used};
        used += space;
    }
    /* Parent name: the parent's file name, UTF-16 (stored big-endian). */
    const char *base = strrchr(pabs, '/');
    int n = vhd_utf8_to_utf16(base ? base + 1 : pabs, u, 255);
    memset(h->parent_name, 0, sizeof h->parent_name);
    if (n > 0)
        memcpy(h->parent_name, u, (size_t)n * 2);
    free(u);
    return (int)used;
}

static int vhd_parent_identity(const char *parent, VhdHeader *h, uint64_t *size, char *err, size_t errlen)
{
    VhdLog log = {.err = err, .errlen = errlen};
    Vhd *p = vhd_load(parent, VHD_LOAD_READONLY, NULL, &log, 0);
    if (!p) {
        if (log.defects == 0 || (err && strstr(err, "footer cookie")))
            vhd_set_err(err, errlen, "%s: not a VHD image; a differencing disk needs a VHD parent "
                        "(convert it with `vsx vhd convert %s OUT.vhd --fixed`)", parent, parent);
        return -1;
    }
    memcpy(h->parent_uuid, p->footer.uuid, 16);
    h->parent_timestamp = vhd_file_timestamp(p->fd);
    *size = p->footer.current_size;
    vhd_free(p);
    return 0;
}

static int vhd_create_fixed(int fd, const VhdFooter *f)
{
    uint8_t b[512];
    VhdFooter copy = *f;
    vhd_footer_encode(&copy, b);
    if (ftruncate(fd, (off_t)f->current_size) != 0)
        return -errno;
    return vhd_pwrite(fd, b, 512, f->current_size);
}

static int vhd_create_sparse(int fd, VhdFooter *f, VhdHeader *h, const uint8_t *loc, int loc_len)
{
    uint8_t fb[512], hb[1024];
    uint64_t bat_bytes = ((uint64_t)h->max_entries * 4 + 511) & ~511ull;
    uint64_t end = h->table_offset + bat_bytes + (uint64_t)loc_len;
    vhd_footer_encode(f, fb);
    vhd_header_encode(h, hb);
    uint8_t *bat = malloc(bat_bytes);
    if (!bat)
        return -ENOMEM;
    memset(bat, 0xFF, bat_bytes);
    int r = vhd_pwrite(fd, fb, 512, 0);
    if (!r)
        r = vhd_pwrite(fd, hb, 1024, 512);
    if (!r)
        r = vhd_pwrite(fd, bat, bat_bytes, h->table_offset);
    if (!r && loc_len)
        r = vhd_pwrite(fd, loc, (size_t)loc_len, h->table_offset + bat_bytes);
    if (!r)
        r = vhd_pwrite(fd, fb, 512, end);
    free(bat);
    return r;
}

/* Gives the finished file tmp its name path without replacing anything
 * there (link, or rename where hard links are unsupported), durably. */
int vhd_publish(const char *tmp, const char *path)
{
    if (link(tmp, path) == 0)
        unlink(tmp);
    else if (errno == EEXIST || access(path, F_OK) == 0)
        return -EEXIST;
    else if (rename(tmp, path) != 0)
        return -errno;
    char dir[PATH_MAX];
    vhd_dirname(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int vhd_create(const char *path, const VhdCreate *c, char *err, size_t errlen)
{
    VhdFooter f;
    VhdHeader h;
    uint64_t size = c->size;
    uint32_t bs = c->block_size ? c->block_size : VHD_DEFAULT_BLOCK;
    uint8_t *loc = NULL;
    int loc_len = 0;
    memset(&h, 0, sizeof h);
    if (c->type == VHD_TYPE_DIFF && vhd_parent_identity(c->parent, &h, &size, err, errlen) != 0)
        return -1;
    if (size == 0 || size % 512 || size > VHD_MAX_SIZE) {
        vhd_set_err(err, errlen, "%s: size %llu must be a multiple of 512 up to 2040 GiB",
                     path, (unsigned long long)size);
        return -1;
    }
    if (bs < 512 || bs > (256u << 20) || (bs & (bs - 1))) {
        vhd_set_err(err, errlen, "%s: block size %u is not a power of two between 512 and 256 MiB",
                     path, bs);
        return -1;
    }
    vhd_new_footer(&f, c->type, size, c->like);
    h.data_offset = VHD_NO_OFFSET;
    h.table_offset = 512 + 1024;
    h.version = VHD_VERSION;
    h.max_entries = (uint32_t)((size + bs - 1) / bs);
    h.block_size = bs;
    if (c->like_header) {
        memcpy(h.parent_uuid, c->like_header->parent_uuid, 16);
        h.parent_timestamp = c->like_header->parent_timestamp;
    }
    uint64_t bat_bytes = ((uint64_t)h.max_entries * 4 + 511) & ~511ull;
    if (c->type == VHD_TYPE_DIFF) {
        loc_len = vhd_make_locators(path, c->parent, &h, &loc, h.table_offset + bat_bytes, err, errlen);
        if (loc_len < 0) {
            free(loc);
            return -1;
        }
    }
    /* Built under a temporary name and linked into place when complete, so
     * an interrupted create never leaves a half-made image at path. */
    char tmp[PATH_MAX];
    int fd = -1;
    if (access(path, F_OK) == 0)
        errno = EEXIST;
    else if (snprintf(tmp, sizeof tmp, "%s.part-%ld", path, (long)getpid()) >= (int)sizeof tmp)
        errno = ENAMETOOLONG;
    else
        fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(loc);
        vhd_set_err(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    int r = c->type == VHD_TYPE_FIXED ? vhd_create_fixed(fd, &f)
                                      : vhd_create_sparse(fd, &f, &h, loc, loc_len);
    if (!r && fdatasync(fd) != 0)
        r = -errno;
    close(fd);
    free(loc);
    if (!r)
        r = vhd_publish(tmp, path);
    if (r) {
        unlink(tmp);
        vhd_set_err(err, errlen, "%s: %s", path, strerror(-r));
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------ public entries */

BlockDev *vhd_open_blockdev(const char *path, unsigned flags, const char *override, char *err, size_t errlen)
{
    VhdLog log = {.warn = stderr, .err = err, .errlen = errlen};
    unsigned lf = (flags & DISK_OPEN_READONLY) ? VHD_LOAD_READONLY : 0;
    Vhd *v = vhd_load(path, lf, override, &log, 0);
    return v ? &v->bd : NULL;
}

static bool vhd_is_vhd(const char *path, uint8_t uuid[16], char *err, size_t errlen)
{
    VhdLog log = {.err = err, .errlen = errlen};
    Vhd *v = vhd_load(path, VHD_LOAD_READONLY, NULL, &log, 0);
    if (!v)
        return false;
    memcpy(uuid, v->footer.uuid, 16);
    vhd_free(v);
    return true;
}

/* Reads only a differencing disk's parent ID (the undo-disk match). */
static int vhd_peek_parent_uuid(const char *path, uint8_t uuid[16])
{
    uint8_t b[1536];
    VhdFooter f;
    VhdHeader h;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = vhd_pread(fd, b, sizeof b, 0);
    close(fd);
    if (r || vhd_footer_decode(b, &f) || f.disk_type != VHD_TYPE_DIFF || f.data_offset != 512 ||
        vhd_header_decode(b + 512, &h))
        return -1;
    memcpy(uuid, h.parent_uuid, 16);
    return 0;
}

BlockDev *disk_open_undo(const char *base, const char *undo, unsigned flags, char *err, size_t errlen)
{
    uint8_t base_id[16], undo_parent[16];
    char why[512] = "";
    if (!vhd_is_vhd(base, base_id, why, sizeof why)) {
        if (access(base, F_OK) == 0 && strstr(why, "cookie"))
            vhd_set_err(err, errlen, "%s: undo disks need a VHD base image (a raw image cannot be "
                        "a differencing parent); convert it with `vsx vhd convert %s OUT.vhd --fixed`",
                        base, base);
        else
            vhd_set_err(err, errlen, "%s", why[0] ? why : base);
        return NULL;
    }
    if (access(undo, F_OK) != 0) {
        VhdCreate c = {.type = VHD_TYPE_DIFF, .parent = base};
        if (vhd_create(undo, &c, err, errlen) != 0)
            return NULL;
    } else if (vhd_peek_parent_uuid(undo, undo_parent) != 0) {
        vhd_set_err(err, errlen, "%s: exists but is not a differencing VHD; refusing to replace it", undo);
        return NULL;
    } else if (memcmp(undo_parent, base_id, 16) != 0) {
        vhd_set_err(err, errlen, "%s: is an undo disk for a different base image than %s; "
                    "commit or remove it first", undo, base);
        return NULL;
    }
    return vhd_open_blockdev(undo, flags, base, err, errlen);
}

/* Copies every sector present in the child into its parent. */
static int vhd_merge(Vhd *c, uint8_t *buf)
{
    BlockDev *p = &c->parent->bd;
    for (uint32_t b = 0; b < c->blocks; b++) {
        if (c->bat[b] == VHD_UNUSED)
            continue;
        uint8_t *bm;
        int r = vhd_bitmap(c, b, &bm);
        uint64_t first = (uint64_t)b * c->spb, total = c->bd.size / 512;
        uint32_t n = first + c->spb > total ? (uint32_t)(total - first) : c->spb;
        for (uint32_t i = 0, j; r == 0 && i < n; i = j) {
            bool present = vhd_bit(bm, i);
            for (j = i + 1; j < n && vhd_bit(bm, j) == present; j++)
                ;
            if (!present)
                continue;
            r = vhd_pread(c->fd, buf, (size_t)(j - i) * 512,
                          vhd_block_offset(c, b) + c->bitmap_bytes + (uint64_t)i * 512);
            if (r == 0)
                r = p->write(p, first + i, buf, j - i);
        }
        if (r)
            return r;
    }
    return p->flush(p);
}

int vhd_commit(const char *child, char *err, size_t errlen)
{
    VhdLog log = {.warn = stderr, .err = err, .errlen = errlen};
    Vhd *c = vhd_load(child, VHD_LOAD_READONLY | VHD_LOAD_PARENT_RW, NULL, &log, 0);
    if (!c)
        return -1;
    if (c->footer.disk_type != VHD_TYPE_DIFF || c->parent->bd.readonly) {
        vhd_set_err(err, errlen, "%s: %s", child, c->footer.disk_type != VHD_TYPE_DIFF
                    ? "not a differencing disk: nothing to commit" : "parent is not writable");
        vhd_free(c);
        return -1;
    }
    uint8_t *buf = malloc(c->header.block_size);
    int r = buf ? vhd_merge(c, buf) : -ENOMEM;
    free(buf);
    if (r) {
        vhd_set_err(err, errlen, "%s: commit into %s failed: %s", child, c->parent_path, strerror(-r));
        vhd_free(c);
        return -1;
    }
    /* Record the parent's new time stamp so this child opens without a
     * warning (it still describes the same data). */
    uint32_t ts = vhd_file_timestamp(c->parent->fd);
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s", c->path);
    VhdHeader h = c->header;
    uint64_t header_at = c->footer.data_offset;
    vhd_free(c);
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        uint8_t hb[1024];
        h.parent_timestamp = ts;
        vhd_header_encode(&h, hb);
        if (vhd_pwrite(fd, hb, 1024, header_at) == 0)
            fdatasync(fd);
        close(fd);
    }
    return 0;
}
