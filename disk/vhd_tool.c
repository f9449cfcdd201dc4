/*
 * disk/vhd_tool.c -- `vsx vhd SUBCOMMAND ...`: offline tools for VHD images
 * (create, info, check, convert, commit, compact).  Exit status: 0 success,
 * 1 failure or defects found, 2 bad arguments (usage printed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/vhd_internal.h"

static const char vhd_usage_text[] =
    "usage: vsx vhd create [--size N[K|M|G|T]] [--fixed] [--block-size N] [--parent BASE] FILE\n"
    "       vsx vhd info FILE\n"
    "       vsx vhd check FILE\n"
    "       vsx vhd convert IN OUT [--fixed|--dynamic|--raw]\n"
    "       vsx vhd commit CHILD\n"
    "       vsx vhd compact FILE\n"
    "A new dynamic disk is 127G unless --size says otherwise; sizes go up to 2040G.\n";

static int vhd_usage(const char *why)
{
    if (why)
        fprintf(stderr, "vsx vhd: %s\n", why);
    fputs(vhd_usage_text, stderr);
    return 2;
}

/* "N", "NK", "NM", "NG", "NT" (binary units; "KB"/"KiB" spellings too). */
static bool vhd_parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || end == s || s[0] == '-')
        return false;
    static const char units[] = "KMGT";
    unsigned shift = 0;
    if (*end) {
        const char *u = strchr(units, *end & ~0x20);
        if (!u)
            return false;
        shift = 10 * (unsigned)(u - units + 1);
        end++;
        if (strcasecmp(end, "") != 0 && strcasecmp(end, "B") != 0 && strcasecmp(end, "iB") != 0)
            return false;
    }
    if (shift && n > (~0ull >> shift))
        return false;
    *out = (uint64_t)n << shift;
    return true;
}

static void vhd_human(uint64_t n, char *out, size_t len)
{
    static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    double d = (double)n;
    while (d >= 1024 && u < 4) {
        d /= 1024;
        u++;
    }
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", d, units[u]);
}

/* ---------------------------------------------------------------- create */

static int vhd_cmd_create(int argc, char **argv)
{
    VhdCreate c = {.type = VHD_TYPE_DYNAMIC, .size = VHD_DEFAULT_SIZE};
    const char *file = NULL;
    bool sized = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t n;
        if (!strcmp(a, "--fixed"))
            c.type = VHD_TYPE_FIXED;
        else if (!strcmp(a, "--size") && i + 1 < argc && vhd_parse_size(argv[i + 1], &n)) {
            c.size = n;
            sized = true;
            i++;
        } else if (!strcmp(a, "--block-size") && i + 1 < argc && vhd_parse_size(argv[i + 1], &n) &&
                   n <= UINT32_MAX && n) {
            c.block_size = (uint32_t)n;
            i++;
        } else if (!strcmp(a, "--parent") && i + 1 < argc)
            c.parent = argv[++i];
        else if (a[0] != '-' && !file)
            file = a;
        else
            return vhd_usage("create: bad argument");
    }
    if (!file)
        return vhd_usage("create: no FILE");
    if (c.parent) {
        if (c.type == VHD_TYPE_FIXED)
            return vhd_usage("create: --parent and --fixed exclude each other");
        c.type = VHD_TYPE_DIFF;
    }
    char err[1024];
    if (vhd_create(file, &c, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    VhdLog log = {.warn = stderr, .err = err, .errlen = sizeof err};
    Vhd *v = vhd_load(file, VHD_LOAD_READONLY, NULL, &log, 0);
    if (!v) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (c.parent && sized && c.size != v->footer.current_size)
        fprintf(stderr, "%s: note: a differencing disk takes its parent's size\n", file);
    char h[32];
    vhd_human(v->footer.current_size, h, sizeof h);
    printf("created %s: %s, %s (%llu bytes)\n", file, v->bd.format, h,
           (unsigned long long)v->footer.current_size);
    vhd_free(v);
    return 0;
}

/* ------------------------------------------------------------------ info */

static void vhd_print_one(Vhd *v, int depth)
{
    const VhdFooter *f = &v->footer;
    char h[32], id[37], when[64];
    time_t t = (time_t)f->timestamp + VHD_EPOCH_UNIX;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
    vhd_uuid_string(f->uuid, id);
    vhd_human(f->current_size, h, sizeof h);
    const char *ind = depth ? "  " : "";
    printf("%sfile:            %s\n", ind, v->path);
    printf("%sformat:          %s\n", ind, v->bd.format);
    printf("%svirtual size:    %s (%llu bytes)\n", ind, h, (unsigned long long)f->current_size);
    printf("%sgeometry:        %u/%u/%u (C/H/S)\n", ind, f->cylinders, f->heads, f->sectors);
    printf("%screator:         \"%.4s\" version %u.%u on \"%.4s\"\n", ind, f->creator_app,
           f->creator_version >> 16, f->creator_version & 0xFFFF, f->creator_os);
    printf("%screated:         %s\n", ind, when);
    printf("%sunique ID:       %s\n", ind, id);
    if (f->disk_type != VHD_TYPE_FIXED) {
        uint32_t used = 0;
        for (uint32_t b = 0; b < v->header.max_entries; b++)
            used += v->bat[b] != VHD_UNUSED;
        vhd_human((uint64_t)used * v->header.block_size, h, sizeof h);
        printf("%sblock size:      %u\n", ind, v->header.block_size);
        printf("%sallocated:       %u of %u blocks (%s)\n", ind, used, v->blocks, h);
    }
    vhd_human(v->file_size, h, sizeof h);
    printf("%sfile size:       %s (%llu bytes)\n", ind, h, (unsigned long long)v->file_size);
}

static int vhd_cmd_info(int argc, char **argv)
{
    if (argc != 2)
        return vhd_usage("info: expected FILE");
    char err[1024];
    BlockDev *bd = disk_open(argv[1], DISK_OPEN_READONLY, err, sizeof err);
    if (!bd) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (strncmp(bd->format, "vhd", 3) != 0) {
        char h[32];
        vhd_human(bd->size, h, sizeof h);
        printf("file:            %s\nformat:          %s\nvirtual size:    %s (%llu bytes)\n",
               argv[1], bd->format, h, (unsigned long long)bd->size);
        disk_close(bd);
        return 0;
    }
    Vhd *v = bd->priv;
    vhd_print_one(v, 0);
    int depth = 0;
    for (Vhd *p = v; p->parent; p = p->parent) {
        printf("parent %d:        %s\n", ++depth, p->parent_path);
        vhd_print_one(p->parent, depth);
    }
    disk_close(bd);
    return 0;
}

/* ----------------------------------------------------------------- check */

static int vhd_cmd_check(int argc, char **argv)
{
    if (argc != 2)
        return vhd_usage("check: expected FILE");
    const char *file = argv[1];
    char err[1024];
    BlockDev *probe = disk_open(file, DISK_OPEN_READONLY, err, sizeof err);
    if (probe && strncmp(probe->format, "vhd", 3) != 0) {
        printf("%s: not a VHD image (no footer)\n", file);
        disk_close(probe);
        return 1;
    }
    disk_close(probe);
    VhdLog log = {.out = stdout};
    Vhd *v = vhd_load(file, VHD_LOAD_READONLY | VHD_LOAD_CHECK, NULL, &log, 0);
    int chain = 0;
    for (Vhd *p = v; p; p = p->parent)
        chain++;
    vhd_free(v);
    if (log.defects) {
        printf("%s: %d defect%s found\n", file, log.defects, log.defects == 1 ? "" : "s");
        return 1;
    }
    printf("%s: no defects (%d image%s checked, %d warning%s)\n", file, chain, chain == 1 ? "" : "s",
           log.warnings, log.warnings == 1 ? "" : "s");
    return 0;
}

/* --------------------------------------------------------------- convert */

enum { OUT_DYNAMIC, OUT_FIXED, OUT_RAW };

/* True if [lba, lba+n) of `in` is known to hold only zeros without reading. */
static bool vhd_skip_unallocated(BlockDev *in, uint64_t lba, uint32_t n)
{
    return strncmp(in->format, "vhd", 3) == 0 && vhd_range_unallocated(in->priv, lba, n);
}

/* Copies in to out, skipping all-zero chunks (out starts as zeros). */
static int vhd_copy(BlockDev *in, BlockDev *out)
{
    const uint32_t chunk = 2048; /* sectors: 1 MiB */
    uint8_t *buf = malloc((size_t)chunk * 512);
    if (!buf)
        return -ENOMEM;
    uint64_t total = in->size / 512;
    int r = 0;
    for (uint64_t lba = 0; lba < total && r == 0; lba += chunk) {
        uint32_t n = total - lba < chunk ? (uint32_t)(total - lba) : chunk;
        if (vhd_skip_unallocated(in, lba, n))
            continue;
        r = in->read(in, lba, buf, n);
        if (r == 0 && !vhd_all_zero(buf, (size_t)n * 512))
            r = out->write(out, lba, buf, n);
    }
    free(buf);
    if (r == 0)
        r = out->flush(out);
    return r;
}

static BlockDev *vhd_make_output(const char *out, int kind, uint64_t size, char *err, size_t errlen)
{
    if (kind == OUT_RAW) {
        int fd = open(out, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0 || ftruncate(fd, (off_t)size) != 0) {
            vhd_set_err(err, errlen, "%s: %s", out, strerror(errno));
            if (fd >= 0)
                close(fd);
            return NULL;
        }
        close(fd);
        return disk_open_raw(out, 0, err, errlen);
    }
    VhdCreate c = {.type = kind == OUT_FIXED ? VHD_TYPE_FIXED : VHD_TYPE_DYNAMIC, .size = size};
    if (vhd_create(out, &c, err, errlen) != 0)
        return NULL;
    VhdLog log = {.warn = stderr, .err = err, .errlen = errlen};
    Vhd *v = vhd_load(out, VHD_LOAD_NOSYNC, NULL, &log, 0);
    return v ? &v->bd : NULL;
}

static int vhd_cmd_convert(int argc, char **argv)
{
    const char *files[2] = {NULL, NULL};
    int kind = OUT_DYNAMIC, nf = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fixed"))
            kind = OUT_FIXED;
        else if (!strcmp(argv[i], "--dynamic"))
            kind = OUT_DYNAMIC;
        else if (!strcmp(argv[i], "--raw"))
            kind = OUT_RAW;
        else if (argv[i][0] != '-' && nf < 2)
            files[nf++] = argv[i];
        else
            return vhd_usage("convert: bad argument");
    }
    if (nf != 2)
        return vhd_usage("convert: expected IN and OUT");
    char err[1024];
    BlockDev *in = disk_open(files[0], DISK_OPEN_READONLY, err, sizeof err);
    if (!in) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (kind != OUT_RAW && (in->size == 0 || in->size > VHD_MAX_SIZE)) {
        fprintf(stderr, "%s: %llu bytes cannot be a VHD (1 sector .. 2040 GiB)\n", files[0],
                (unsigned long long)in->size);
        disk_close(in);
        return 1;
    }
    /* Written under a temporary name and renamed when complete. */
    char tmp[PATH_MAX];
    if (access(files[1], F_OK) == 0 ||
        snprintf(tmp, sizeof tmp, "%s.part-%ld", files[1], (long)getpid()) >= (int)sizeof tmp) {
        fprintf(stderr, "%s: %s\n", files[1], access(files[1], F_OK) == 0 ? strerror(EEXIST) : "path too long");
        disk_close(in);
        return 1;
    }
    BlockDev *out = vhd_make_output(tmp, kind, in->size, err, sizeof err);
    if (!out) {
        fprintf(stderr, "%s\n", err);
        disk_close(in);
        unlink(tmp);
        return 1;
    }
    int r = vhd_copy(in, out); /* ends with out->flush: data and bitmaps durable */
    disk_close(out);
    disk_close(in);
    if (r == 0)
        r = vhd_publish(tmp, files[1]);
    if (r) {
        fprintf(stderr, "%s: conversion failed: %s\n", files[1], strerror(-r));
        unlink(tmp);
        return 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- commit */

static int vhd_cmd_commit(int argc, char **argv)
{
    if (argc != 2)
        return vhd_usage("commit: expected CHILD");
    char err[1024];
    if (vhd_commit(argv[1], err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("%s: committed into its parent\n", argv[1]);
    return 0;
}

/* --------------------------------------------------------------- compact */

/* Copies the blocks worth keeping: for a dynamic disk the non-zero ones,
 * for a differencing disk every present sector (zeros there hide the
 * parent's data, so they stay). */
static int vhd_compact_copy(Vhd *src, Vhd *dst)
{
    uint8_t *buf = malloc(src->header.block_size);
    if (!buf)
        return -ENOMEM;
    int r = 0;
    uint64_t total = src->bd.size / 512;
    for (uint32_t b = 0; b < src->blocks && r == 0; b++) {
        if (src->bat[b] == VHD_UNUSED)
            continue;
        uint64_t first = (uint64_t)b * src->spb;
        uint32_t n = first + src->spb > total ? (uint32_t)(total - first) : src->spb;
        uint8_t *bm;
        r = vhd_bitmap(src, b, &bm);
        for (uint32_t i = 0, j; r == 0 && i < n; i = j) {
            bool present = vhd_bit(bm, i);
            for (j = i + 1; j < n && vhd_bit(bm, j) == present; j++)
                ;
            if (!present)
                continue;
            r = vhd_pread(src->fd, buf, (size_t)(j - i) * 512,
                          (uint64_t)src->bat[b] * 512 + src->bitmap_bytes + (uint64_t)i * 512);
            if (r == 0)
                r = dst->bd.write(&dst->bd, first + i, buf, j - i);
        }
    }
    free(buf);
    return r ? r : dst->bd.flush(&dst->bd);
}

static int vhd_cmd_compact(int argc, char **argv)
{
    if (argc != 2)
        return vhd_usage("compact: expected FILE");
    const char *file = argv[1];
    char err[1024], tmp[PATH_MAX];
    VhdLog log = {.warn = stderr, .err = err, .errlen = sizeof err};
    Vhd *src = vhd_load(file, VHD_LOAD_READONLY, NULL, &log, 0);
    if (!src) {
        fprintf(stderr, "%s\n", log.defects ? err : "not a VHD image");
        return 1;
    }
    if (src->footer.disk_type == VHD_TYPE_FIXED) {
        fprintf(stderr, "%s: a fixed disk has no blocks to drop; use `vsx vhd convert --dynamic`\n", file);
        vhd_free(src);
        return 1;
    }
    if (snprintf(tmp, sizeof tmp, "%s.compact-tmp", file) >= (int)sizeof tmp) {
        vhd_free(src);
        return vhd_usage("compact: path too long");
    }
    unlink(tmp); /* a leftover of an interrupted compact */
    VhdCreate c = {.type = src->footer.disk_type, .size = src->footer.current_size,
                   .block_size = src->header.block_size, .parent = src->parent_path,
                   .like = &src->footer, .like_header = &src->header};
    Vhd *dst = NULL;
    int r = vhd_create(tmp, &c, err, sizeof err);
    if (r == 0) {
        dst = vhd_load(tmp, VHD_LOAD_NOSYNC, src->parent_path, &log, 0);
        r = dst ? vhd_compact_copy(src, dst) : -1;
    }
    uint64_t before = src->file_size, after = dst ? dst->file_size : 0;
    vhd_free(dst);
    vhd_free(src);
    if (r == 0 && rename(tmp, file) != 0)
        r = -errno;
    if (r) {
        fprintf(stderr, "%s\n", r == -1 ? err : strerror(-r));
        unlink(tmp);
        return 1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* make the rename durable */
        fsync(dfd);
        close(dfd);
    }
    printf("%s: compacted from %llu to %llu bytes\n", file, (unsigned long long)before,
           (unsigned long long)after);
    return 0;
}

/* ------------------------------------------------------------- dispatch */

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} vhd_commands[] = {
    {"create", vhd_cmd_create}, {"info", vhd_cmd_info},       {"check", vhd_cmd_check},
    {"convert", vhd_cmd_convert}, {"commit", vhd_cmd_commit}, {"compact", vhd_cmd_compact},
};

int vhd_tool_main(int argc, char **argv)
{
    if (argc < 1)
        return vhd_usage(NULL);
    for (size_t i = 0; i < sizeof vhd_commands / sizeof vhd_commands[0]; i++)
        if (!strcmp(argv[0], vhd_commands[i].name))
            return vhd_commands[i].fn(argc, argv);
    if (!strcmp(argv[0], "help") || !strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(vhd_usage_text, stdout);
        return 0;
    }
    return vhd_usage("unknown subcommand");
}
