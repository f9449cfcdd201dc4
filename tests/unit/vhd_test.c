/*
 * tests/unit/vhd_test.c -- disk/: VHD math (geometry, checksums), raw/ISO and
 * VHD round trips, differencing chains against a reference, every corrupt
 * image refused with its message and left byte-identical, undo disks, commit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "disk/vhd_internal.h"
#include "test.h"

/* ----------------------------------------------------------- helpers */

static const char *vt_path(const char *name)
{
    static char buf[16][512];
    static int slot;
    char *p = buf[slot++ & 15];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    unlink(p);
    return p;
}

static uint64_t vt_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void vt_fill(uint8_t *buf, size_t len, uint64_t *s)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(vt_rng(s) >> 24);
}

static uint8_t *vt_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void vt_patch(const char *path, uint64_t off, const void *data, size_t len)
{
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, data, len, (off_t)off) == (ssize_t)len);
    close(fd);
}

static void vt_create(const char *path, uint32_t type, uint64_t size, uint32_t bs, const char *parent)
{
    char err[512] = "";
    VhdCreate c = {.type = type, .size = size, .block_size = bs, .parent = parent};
    int r = vhd_create(path, &c, err, sizeof err);
    if (r)
        test_fail(__FILE__, __LINE__, "create %s: %s", path, err);
}

/* Random writes applied to bd and to the reference ref. */
static void vt_random_writes(BlockDev *bd, uint8_t *ref, int count, uint64_t *seed)
{
    uint64_t sectors = bd->size / 512;
    uint8_t *buf = malloc(64 * 512);
    for (int i = 0; i < count; i++) {
        uint32_t n = 1 + (uint32_t)(vt_rng(seed) % 64);
        uint64_t lba = vt_rng(seed) % sectors;
        if (lba + n > sectors)
            n = (uint32_t)(sectors - lba);
        if (vt_rng(seed) % 8 == 0)
            memset(buf, 0, (size_t)n * 512); /* zeros over data must stick */
        else
            vt_fill(buf, (size_t)n * 512, seed);
        CHECK_EQ(bd->write(bd, lba, buf, n), 0);
        memcpy(ref + lba * 512, buf, (size_t)n * 512);
    }
    free(buf);
}

static bool vt_matches(BlockDev *bd, const uint8_t *ref)
{
    uint8_t *buf = malloc(bd->size);
    bool ok = buf && bd->read(bd, 0, buf, (uint32_t)(bd->size / 512)) == 0 &&
              memcmp(buf, ref, bd->size) == 0;
    free(buf);
    return ok;
}

static BlockDev *vt_open(const char *path, unsigned flags)
{
    char err[512] = "";
    BlockDev *bd = disk_open(path, flags, err, sizeof err);
    if (!bd)
        test_fail(__FILE__, __LINE__, "open %s: %s", path, err);
    return bd;
}

/* -------------------------------------------------------------- math */

TEST(vhd, geometry_matches_spec_algorithm)
{
    /* Total sectors and CHS as written by an independent implementation of
     * the specification's algorithm (qemu-img create -f vpc). */
    static const struct { uint64_t total; uint16_t c; uint8_t h, s; } cases[] = {
        {20536, 302, 4, 17},          {131104, 964, 8, 17},       {2097648, 2081, 16, 63},
        {41943888, 41611, 16, 63},    {266338320, 65279, 16, 255}, {419430400, 65535, 16, 255},
        {4278190080ull, 65535, 16, 255}, {6291936, 6242, 16, 63}, {2048256, 2032, 16, 63},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t c;
        uint8_t h, s;
        vhd_geometry(cases[i].total, &c, &h, &s);
        CHECK_EQ(c, cases[i].c);
        CHECK_EQ(h, cases[i].h);
        CHECK_EQ(s, cases[i].s);
    }
}

TEST(vhd, checksum_is_ones_complement_of_byte_sum)
{
    uint8_t b[16] = {1, 2, 3, 4, 0xAA, 0xBB, 0xCC, 0xDD, 5, 6, 7, 8, 9, 10, 11, 12};
    /* Bytes 4..7 are the checksum field and do not count. */
    CHECK_EQ(vhd_checksum(b, 16, 4), ~(uint32_t)(1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12));
    VhdFooter f = {.version = VHD_VERSION, .disk_type = VHD_TYPE_FIXED, .current_size = 1 << 20};
    uint8_t fb[512];
    VhdFooter g;
    vhd_footer_encode(&f, fb);
    CHECK(vhd_footer_decode(fb, &g) == NULL);
    CHECK_EQ(g.current_size, 1 << 20);
    fb[100] ^= 1;
    CHECK(vhd_footer_decode(fb, &g) != NULL);
}

TEST(vhd, new_footer_fields)
{
    const char *p = vt_path("fields.vhd");
    vt_create(p, VHD_TYPE_DYNAMIC, 10u << 20, 0, NULL);
    size_t len;
    uint8_t *b = vt_slurp(p, &len);
    CHECK(b && len >= 2048);
    if (!b)
        return;
    CHECK(memcmp(b + len - 512, "conectix", 8) == 0);
    CHECK(memcmp(b, b + len - 512, 512) == 0);       /* copy at offset 0 */
    CHECK(memcmp(b + 28, "vsx Wi2k", 4) == 0 || memcmp(b + 28, "vsx ", 4) == 0);
    CHECK(memcmp(b + 36, "Wi2k", 4) == 0);
    CHECK_EQ(b[12] << 24 | b[13] << 16 | b[14] << 8 | b[15], 0x00010000);
    CHECK_EQ(b[63], 3);                                /* dynamic */
    CHECK((b[68 + 6] & 0xF0) == 0x40);                 /* random UUID v4 */
    CHECK(memcmp(b + 512, "cxsparse", 8) == 0);
    CHECK_EQ(b[512 + 32] << 24 | b[512 + 33] << 16 | b[512 + 34] << 8 | b[512 + 35], 2u << 20);
    CHECK_EQ(b[1536], 0xFF);                           /* empty BAT */
    time_t now = time(NULL);
    uint32_t ts = (uint32_t)(b[24] << 24 | b[25] << 16 | b[26] << 8 | b[27]);
    CHECK(ts + VHD_EPOCH_UNIX <= now && ts + VHD_EPOCH_UNIX + 60 >= now);
    free(b);
}

/* --------------------------------------------------------------- raw */

TEST(disk, raw_round_trip_and_readonly)
{
    const char *p = vt_path("r.img");
    int fd = open(p, O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
    close(fd);
    BlockDev *bd = vt_open(p, 0);
    if (!bd)
        return;
    CHECK_STR(bd->format, "raw");
    CHECK_EQ(bd->size, 1 << 20);
    uint8_t *ref = calloc(1, 1 << 20);
    uint64_t seed = 1;
    vt_random_writes(bd, ref, 50, &seed);
    CHECK(vt_matches(bd, ref));
    uint8_t s[512];
    CHECK(bd->read(bd, 2048, s, 1) != 0); /* past the end: error, no crash */
    CHECK_EQ(bd->flush(bd), 0);
    disk_close(bd);
    bd = vt_open(p, DISK_OPEN_READONLY);
    if (bd) {
        CHECK(bd->readonly);
        CHECK(vt_matches(bd, ref));
        CHECK(bd->write(bd, 0, s, 1) != 0);
        disk_close(bd);
    }
    chmod(p, 0444);
    if (geteuid() != 0) { /* root may write anyway */
        bd = vt_open(p, 0);
        CHECK(bd && bd->readonly);
        disk_close(bd);
    }
    free(ref);
}

TEST(disk, raw_zero_writes_keep_holes)
{
    const char *p = vt_path("sparse.img");
    int fd = open(p, O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 64 << 20) == 0);
    close(fd);
    BlockDev *bd = vt_open(p, 0);
    if (!bd)
        return;
    uint8_t *buf = calloc(1, 1 << 20);
    for (int i = 0; i < 32; i++)
        CHECK_EQ(bd->write(bd, (uint64_t)i * 2048, buf, 2048), 0);
    buf[5] = 1;
    CHECK_EQ(bd->write(bd, 65536, buf, 1), 0);
    buf[5] = 0;
    CHECK_EQ(bd->write(bd, 65536, buf, 1), 0); /* zeros over data: written */
    uint8_t s[512];
    CHECK_EQ(bd->read(bd, 65536, s, 1), 0);
    CHECK(vhd_all_zero(s, 512));
    disk_close(bd);
    struct stat st;
    stat(p, &st);
    CHECK(st.st_blocks * 512 < (1 << 20)); /* 32 MiB of zeros not allocated */
    free(buf);
}

TEST(disk, raw_odd_size_refused)
{
    const char *p = vt_path("odd.img");
    int fd = open(p, O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 1000) == 0);
    close(fd);
    char err[256] = "";
    CHECK(disk_open(p, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "not a multiple of 512") != NULL);
}

TEST(disk, iso_is_readonly_2048)
{
    const char *p = vt_path("cd.iso");
    uint8_t *img = calloc(1, 40 * 2048);
    memcpy(img + 0x8001, "CD001", 5);
    FILE *f = fopen(p, "wb");
    fwrite(img, 1, 40 * 2048, f);
    fclose(f);
    BlockDev *bd = vt_open(p, DISK_OPEN_CDROM);
    if (bd) {
        CHECK_STR(bd->format, "iso");
        CHECK_EQ(bd->sector_size, 2048);
        CHECK(bd->readonly);
        CHECK_EQ(bd->size, 40 * 2048);
        uint8_t s[2048];
        CHECK_EQ(bd->read(bd, 64, s, 4), 0);
        CHECK(memcmp(s + 1, "CD001", 5) == 0);
        CHECK(bd->write(bd, 0, s, 1) != 0);
        disk_close(bd);
    }
    free(img);
}

/* --------------------------------------------------------- VHD types */

static void vt_round_trip(uint32_t type, uint32_t bs, uint64_t size)
{
    const char *p = vt_path("rt.vhd");
    vt_create(p, type, size, bs, NULL);
    BlockDev *bd = vt_open(p, 0);
    if (!bd)
        return;
    CHECK_STR(bd->format, vhd_type_name(type));
    CHECK_EQ(bd->size, size);
    uint8_t *ref = calloc(1, size);
    uint64_t seed = 0x1234 + type;
    CHECK(vt_matches(bd, ref));
    vt_random_writes(bd, ref, 200, &seed);
    CHECK(vt_matches(bd, ref));
    uint8_t s[512];
    CHECK(bd->write(bd, size / 512, s, 1) != 0);
    CHECK(bd->read(bd, size / 512 - 1, s, 2) != 0);
    disk_close(bd);
    bd = vt_open(p, DISK_OPEN_READONLY);
    if (bd) {
        CHECK(vt_matches(bd, ref));
        disk_close(bd);
    }
    char *argv[] = {"check", (char *)p, NULL};
    fflush(stdout);
    int saved = dup(1), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    int rc = vhd_tool_main(2, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(null);
    CHECK_EQ(rc, 0);
    free(ref);
}

TEST(vhd, fixed_round_trip) { vt_round_trip(VHD_TYPE_FIXED, 0, 3u << 20); }
TEST(vhd, dynamic_round_trip) { vt_round_trip(VHD_TYPE_DYNAMIC, 0, 5u << 20); }
TEST(vhd, dynamic_small_blocks_partial_last_block)
{
    vt_round_trip(VHD_TYPE_DYNAMIC, 4096, (3u << 20) + 7 * 512);
}

TEST(vhd, dynamic_zero_writes_do_not_allocate)
{
    const char *p = vt_path("z.vhd");
    vt_create(p, VHD_TYPE_DYNAMIC, 8u << 20, 0, NULL);
    struct stat a, b;
    stat(p, &a);
    BlockDev *bd = vt_open(p, 0);
    if (!bd)
        return;
    uint8_t *zero = calloc(1, 64 * 512);
    CHECK_EQ(bd->write(bd, 100, zero, 64), 0);
    disk_close(bd);
    stat(p, &b);
    CHECK_EQ(a.st_size, b.st_size);
    free(zero);
}

static int vt_tool(const char *a0, const char *a1, const char *a2, const char *a3);

/* A chain base (dynamic) <- d1 <- d2 <- d3, random writes at every level,
 * read back identically to a raw reference, also after reopening. */
TEST(vhd, differencing_chain_depth3_matches_reference)
{
    const uint64_t size = 6u << 20;
    const char *names[4] = {vt_path("c0.vhd"), vt_path("c1.vhd"), vt_path("c2.vhd"), vt_path("c3.vhd")};
    uint8_t *ref = calloc(1, size);
    uint64_t seed = 99;
    vt_create(names[0], VHD_TYPE_DYNAMIC, size, 65536, NULL);
    for (int level = 0; level < 4; level++) {
        if (level)
            vt_create(names[level], VHD_TYPE_DIFF, 0, level == 2 ? 4096 : 0, names[level - 1]);
        BlockDev *bd = vt_open(names[level], 0);
        if (!bd)
            break;
        CHECK_EQ(bd->size, size);
        CHECK(vt_matches(bd, ref));
        vt_random_writes(bd, ref, 150, &seed);
        CHECK(vt_matches(bd, ref));
        disk_close(bd);
    }
    BlockDev *bd = vt_open(names[3], DISK_OPEN_READONLY);
    if (bd) {
        CHECK_STR(bd->format, "vhd-differencing");
        CHECK(vt_matches(bd, ref));
        disk_close(bd);
    }
    /* Parents are opened read-only: a writer on the base is refused while
     * the chain is open, a reader is not. */
    bd = vt_open(names[3], 0);
    char err[256];
    BlockDev *b0 = disk_open(names[0], 0, err, sizeof err);
    CHECK(b0 == NULL && strstr(err, "in use"));
    b0 = disk_open(names[0], DISK_OPEN_READONLY, err, sizeof err);
    CHECK(b0 != NULL);
    disk_close(b0);
    disk_close(bd);
    free(ref);
}

TEST(vhd, differencing_finds_parent_by_relative_then_absolute)
{
    char dir[512], sub[600];
    snprintf(dir, sizeof dir, "%s/moved", test_tmpdir());
    snprintf(sub, sizeof sub, "%s/kids", dir);
    mkdir(dir, 0755);
    mkdir(sub, 0755);
    char base[700], kid[700], base2[700], kid2[700];
    snprintf(base, sizeof base, "%s/base.vhd", dir);
    snprintf(kid, sizeof kid, "%s/kid.vhd", sub);
    unlink(base);
    unlink(kid);
    vt_create(base, VHD_TYPE_DYNAMIC, 1u << 20, 0, NULL);
    vt_create(kid, VHD_TYPE_DIFF, 0, 0, base);
    BlockDev *bd = vt_open(kid, 0);
    if (bd) {
        uint8_t s[512] = {7};
        CHECK_EQ(bd->write(bd, 3, s, 1), 0);
        disk_close(bd);
    }
    /* Move both, keeping their relative placement: the absolute locator is
     * now wrong and the relative one must be used. */
    char dir2[512];
    snprintf(dir2, sizeof dir2, "%s/moved2", test_tmpdir());
    CHECK_EQ(rename(dir, dir2), 0);
    snprintf(kid2, sizeof kid2, "%s/kids/kid.vhd", dir2);
    snprintf(base2, sizeof base2, "%s/base.vhd", dir2);
    bd = vt_open(kid2, DISK_OPEN_READONLY);
    if (bd) {
        uint8_t s[512];
        CHECK_EQ(bd->read(bd, 3, s, 1), 0);
        CHECK_EQ(s[0], 7);
        disk_close(bd);
    }
    /* Move only the child: the relative path breaks, the absolute (back at
     * the old place) works. */
    CHECK_EQ(rename(dir2, dir), 0);
    char kid3[700];
    snprintf(kid3, sizeof kid3, "%s/kid3.vhd", test_tmpdir());
    CHECK_EQ(rename(kid, kid3), 0);
    bd = vt_open(kid3, DISK_OPEN_READONLY);
    if (bd) {
        uint8_t s[512];
        CHECK_EQ(bd->read(bd, 3, s, 1), 0);
        CHECK_EQ(s[0], 7);
        disk_close(bd);
    }
    (void)base2;
}

static void vt_edit_header(const char *p, void (*fn)(VhdHeader *h));
static void h_old_parent_time(VhdHeader *h) { h->parent_timestamp = 12345; }

TEST(vhd, parent_timestamp_mismatch_is_only_a_warning)
{
    const char *base = vt_path("tb.vhd"), *kid = vt_path("tk.vhd"), *log = vt_path("tk.err");
    vt_create(base, VHD_TYPE_DYNAMIC, 1u << 20, 0, NULL);
    vt_create(kid, VHD_TYPE_DIFF, 0, 0, base);
    vt_edit_header(kid, h_old_parent_time);
    fflush(stderr);
    int saved = dup(2), out = open(log, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    dup2(out, 2);
    BlockDev *bd = vt_open(kid, 0);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(out);
    CHECK(bd != NULL);
    disk_close(bd);
    size_t len;
    char *text = (char *)vt_slurp(log, &len);
    CHECK(text != NULL);
    if (!text)
        return;
    text[len] = 0;
    char *first = strstr(text, "time stamp differs");
    CHECK(first != NULL);
    CHECK(first && strstr(first + 1, "time stamp differs") == NULL); /* once */
    free(text);
}

/* ------------------------------------------------------ corrupt images */

typedef void (*VtCorrupt)(const char *path, const char *parent);

static uint64_t vt_file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Rewrites the dynamic header at 512 through fn, keeping its checksum. */
static void vt_edit_header(const char *p, void (*fn)(VhdHeader *h))
{
    size_t len;
    uint8_t *b = vt_slurp(p, &len);
    VhdHeader h;
    CHECK(vhd_header_decode(b + 512, &h) == NULL);
    fn(&h);
    vhd_header_encode(&h, b + 512);
    vt_patch(p, 512, b + 512, 1024);
    free(b);
}

/* Rewrites both footers through fn, keeping their checksums. */
static void vt_edit_footer(const char *p, void (*fn)(VhdFooter *f))
{
    size_t len;
    uint8_t *b = vt_slurp(p, &len);
    VhdFooter f;
    CHECK(vhd_footer_decode(b + len - 512, &f) == NULL);
    fn(&f);
    vhd_footer_encode(&f, b);
    vt_patch(p, len - 512, b, 512);
    if (f.disk_type != VHD_TYPE_FIXED || len > f.current_size + 512)
        vt_patch(p, 0, b, 512);
    free(b);
}

static void vt_bat_set(const char *p, uint32_t i, uint32_t v)
{
    uint8_t e[4] = {v >> 24, (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    vt_patch(p, 1536 + 4 * i, e, 4);
}

static uint32_t vt_bat_get(const char *p, uint32_t i)
{
    size_t len;
    uint8_t *b = vt_slurp(p, &len);
    uint32_t v = (uint32_t)b[1536 + 4 * i] << 24 | b[1537 + 4 * i] << 16 | b[1538 + 4 * i] << 8 | b[1539 + 4 * i];
    free(b);
    return v;
}

static void c_cookie(const char *p, const char *x) { (void)x; vt_patch(p, 0, "XXXX", 4); vt_patch(p, vt_file_size(p) - 512, "XXXX", 4); }
static void c_checksum(const char *p, const char *x) { (void)x; uint8_t z = 0x55; vt_patch(p, 100, &z, 1); vt_patch(p, vt_file_size(p) - 412, &z, 1); }
static void c_hcookie(const char *p, const char *x) { (void)x; vt_patch(p, 512, "XXXX", 4); }
static void c_hchecksum(const char *p, const char *x) { (void)x; uint8_t z = 0x55; vt_patch(p, 512 + 300, &z, 1); }
static void h_bat_far(VhdHeader *h) { h->table_offset = 1ull << 40; }
static void c_bat_far(const char *p, const char *x) { (void)x; vt_edit_header(p, h_bat_far); }
static void c_entry_far(const char *p, const char *x) { (void)x; vt_bat_set(p, 2, 0x00FFFFF0u); }
static void c_entry_overlap(const char *p, const char *x) { (void)x; vt_bat_set(p, 2, vt_bat_get(p, 0) + 8); }
static void c_entry_meta(const char *p, const char *x) { (void)x; vt_bat_set(p, 2, 3); }
static void h_bs(VhdHeader *h) { h->block_size = 3u << 20; }
static void c_block_size(const char *p, const char *x) { (void)x; vt_edit_header(p, h_bs); }
static void c_missing_parent(const char *p, const char *x) { (void)p; unlink(x); }
static void h_pid(VhdHeader *h) { h->parent_uuid[3] ^= 0xFF; }
static void c_parent_id(const char *p, const char *x) { (void)x; vt_edit_header(p, h_pid); }
static void f_version(VhdFooter *f) { f->version = 0x00020000; }
static void c_version(const char *p, const char *x) { (void)x; vt_edit_footer(p, f_version); }
static void f_type(VhdFooter *f) { f->disk_type = 5; }
static void c_type(const char *p, const char *x) { (void)x; vt_edit_footer(p, f_type); }
static void h_hversion(VhdHeader *h) { h->version = 0x00020000; }
static void c_hversion(const char *p, const char *x) { (void)x; vt_edit_header(p, h_hversion); }
static void f_vsize(VhdFooter *f) { f->current_size += 100; }
static void c_vsize(const char *p, const char *x) { (void)x; vt_edit_footer(p, f_vsize); }
static void c_odd_file(const char *p, const char *x) { (void)x; vt_patch(p, vt_file_size(p), "abc", 3); }
static void c_truncated(const char *p, const char *x) { (void)x; CHECK_EQ(truncate(p, (off_t)vt_file_size(p) - 4096), 0); }
static void c_truncated_head(const char *p, const char *x) { (void)x; CHECK_EQ(truncate(p, 1024), 0); }
static void h_entries(VhdHeader *h) { h->max_entries = 1; }
static void c_entries(const char *p, const char *x) { (void)x; vt_edit_header(p, h_entries); }

static const struct {
    const char *name;
    VtCorrupt fn;
    bool diff;      /* corrupt a differencing child (x = its parent) */
    const char *msg;
} vt_corruptions[] = {
    {"bad footer cookie", c_cookie, false, "bad footer cookie"},
    {"bad footer checksum", c_checksum, false, "bad footer checksum"},
    {"bad header cookie", c_hcookie, false, "bad dynamic header cookie"},
    {"bad header checksum", c_hchecksum, false, "bad dynamic header checksum"},
    {"BAT past EOF", c_bat_far, false, "past the end of the file"},
    {"BAT entry past EOF", c_entry_far, false, "BAT entry 2 points past the end"},
    {"BAT entries overlap", c_entry_overlap, false, "overlap"},
    {"BAT entry over metadata", c_entry_meta, false, "BAT entry 2 overlaps the"},
    {"block size", c_block_size, false, "not a power of two"},
    {"missing parent", c_missing_parent, true, "parent image not found"},
    {"parent ID", c_parent_id, true, "unique ID"},
    {"version", c_version, false, "unsupported format version"},
    {"disk type", c_type, false, "unsupported disk type"},
    {"header version", c_hversion, false, "unsupported dynamic header version"},
    {"virtual size", c_vsize, false, "not a multiple of 512"},
    {"file size", c_odd_file, false, "not a multiple of 512"},
    {"truncated", c_truncated, false, "points past the end"},
    {"truncated to header", c_truncated_head, false, "outside the file"},
    {"too few BAT entries", c_entries, false, "entries"},
};

TEST(vhd, corrupt_images_refused_and_untouched)
{
    for (size_t i = 0; i < sizeof vt_corruptions / sizeof vt_corruptions[0]; i++) {
        const char *base = vt_path("cbase.vhd"), *kid = vt_path("ckid.vhd");
        vt_create(base, VHD_TYPE_DYNAMIC, 8u << 20, 0, NULL);
        const char *victim = base;
        if (vt_corruptions[i].diff) {
            vt_create(kid, VHD_TYPE_DIFF, 0, 0, base);
            victim = kid;
        }
        BlockDev *bd = vt_open(victim, 0);
        if (!bd)
            continue;
        uint8_t s[512];
        memset(s, 0xA5, sizeof s);
        for (uint64_t lba = 0; lba < 8u << 11; lba += 4096)
            CHECK_EQ(bd->write(bd, lba + 5, s, 1), 0); /* one sector per block */
        disk_close(bd);
        vt_corruptions[i].fn(victim, base);
        size_t len1, len2;
        uint8_t *before = vt_slurp(victim, &len1);
        char err[512] = "";
        for (int ro = 0; ro < 2; ro++) {
            bd = disk_open(victim, ro ? DISK_OPEN_READONLY : 0, err, sizeof err);
            if (bd) {
                test_fail(__FILE__, __LINE__, "%s: opened", vt_corruptions[i].name);
                disk_close(bd);
            } else if (!strstr(err, vt_corruptions[i].msg) || strncmp(err, victim, strlen(victim)) != 0) {
                test_fail(__FILE__, __LINE__, "%s: message \"%s\"", vt_corruptions[i].name, err);
            }
        }
        uint8_t *after = vt_slurp(victim, &len2);
        CHECK(before && after && len1 == len2 && memcmp(before, after, len1) == 0);
        free(before);
        free(after);
    }
}

TEST(fixed, corrupt_footer_checksum_refused)
{
    const char *p = vt_path("cf.vhd");
    vt_create(p, VHD_TYPE_FIXED, 1u << 20, 0, NULL);
    uint8_t z = 0x55;
    vt_patch(p, (1u << 20) + 100, &z, 1);
    char err[256] = "";
    CHECK(disk_open(p, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "bad footer checksum") != NULL);
}

/* A dynamic disk that lost its trailing footer (torn extension) opens from
 * the copy at offset 0; read-only it stays untouched, writable it is fixed. */
TEST(vhd, missing_trailing_footer_recovered_from_copy)
{
    const char *p = vt_path("rec.vhd");
    vt_create(p, VHD_TYPE_DYNAMIC, 4u << 20, 0, NULL);
    BlockDev *bd = vt_open(p, 0);
    uint8_t *ref = calloc(1, 4u << 20);
    uint64_t seed = 5;
    if (!bd)
        return;
    vt_random_writes(bd, ref, 40, &seed);
    disk_close(bd);
    CHECK_EQ(truncate(p, (off_t)vt_file_size(p) - 512), 0);
    size_t l1, l2;
    uint8_t *before = vt_slurp(p, &l1);
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 2);
    bd = vt_open(p, DISK_OPEN_READONLY);
    if (bd) {
        CHECK(vt_matches(bd, ref));
        disk_close(bd);
    }
    uint8_t *after = vt_slurp(p, &l2);
    CHECK(l1 == l2 && memcmp(before, after, l1) == 0);
    bd = vt_open(p, 0);
    dup2(saved, 2);
    close(saved);
    close(null);
    if (bd) {
        CHECK(vt_matches(bd, ref));
        vt_random_writes(bd, ref, 40, &seed);
        disk_close(bd);
    }
    uint8_t tail[8];
    int fd = open(p, O_RDONLY);
    CHECK(pread(fd, tail, 8, (off_t)vt_file_size(p) - 512) == 8 && memcmp(tail, "conectix", 8) == 0);
    close(fd);
    bd = vt_open(p, DISK_OPEN_READONLY);
    if (bd) {
        CHECK(vt_matches(bd, ref));
        disk_close(bd);
    }
    free(before);
    free(after);
    free(ref);
}

/* ------------------------------------------------------- undo, commit */

TEST(vhd, undo_disk_create_reopen_commit)
{
    const char *base = vt_path("ub.vhd"), *undo = vt_path("ub.undo.vhd");
    const uint64_t size = 4u << 20;
    vt_create(base, VHD_TYPE_DYNAMIC, size, 0, NULL);
    uint8_t *ref = calloc(1, size), *orig = calloc(1, size);
    uint64_t seed = 77;
    BlockDev *bd = vt_open(base, 0);
    if (!bd)
        return;
    vt_random_writes(bd, ref, 30, &seed);
    disk_close(bd);
    memcpy(orig, ref, size);
    size_t l1, l2;
    uint8_t *base_bytes = vt_slurp(base, &l1);
    char err[512] = "";
    bd = disk_open_undo(base, undo, 0, err, sizeof err);
    CHECK(bd != NULL);
    if (!bd)
        return;
    CHECK_STR(bd->format, "vhd-differencing");
    CHECK(vt_matches(bd, ref));
    vt_random_writes(bd, ref, 60, &seed);
    disk_close(bd);
    uint8_t *now = vt_slurp(base, &l2);
    CHECK(l1 == l2 && memcmp(base_bytes, now, l1) == 0); /* base untouched */
    free(now);
    bd = disk_open_undo(base, undo, 0, err, sizeof err); /* reopen keeps writes */
    CHECK(bd && vt_matches(bd, ref));
    disk_close(bd);
    /* An undo file of another base is refused and kept. */
    const char *other = vt_path("uo.vhd");
    vt_create(other, VHD_TYPE_DYNAMIC, size, 0, NULL);
    CHECK(disk_open_undo(other, undo, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "different base") != NULL);
    /* Commit merges into the base. */
    CHECK_EQ(vhd_commit(undo, err, sizeof err), 0);
    bd = vt_open(base, DISK_OPEN_READONLY);
    CHECK(bd && vt_matches(bd, ref));
    disk_close(bd);
    free(base_bytes);
    free(ref);
    free(orig);
}

TEST(vhd, undo_on_raw_base_refused)
{
    const char *base = vt_path("raw.img"), *undo = vt_path("raw.undo.vhd");
    int fd = open(base, O_CREAT | O_RDWR, 0644);
    CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0);
    close(fd);
    char err[512] = "";
    CHECK(disk_open_undo(base, undo, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "need a VHD base") != NULL);
    CHECK(access(undo, F_OK) != 0);
}

/* ---------------------------------------------------------- the tools */

static int vt_tool(const char *a0, const char *a1, const char *a2, const char *a3)
{
    char *argv[5] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, NULL};
    int argc = a3 ? 4 : a2 ? 3 : a1 ? 2 : 1;
    fflush(stdout);
    fflush(stderr);
    int s1 = dup(1), s2 = dup(2), null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    int rc = vhd_tool_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(s1, 1);
    dup2(s2, 2);
    close(s1);
    close(s2);
    close(null);
    return rc;
}

TEST(vhdtool, usage_and_convert_compact)
{
    CHECK_EQ(vt_tool("bogus", NULL, NULL, NULL), 2);
    CHECK_EQ(vt_tool("create", "--size", "12Q", "x.vhd"), 2);
    CHECK_EQ(vt_tool("info", NULL, NULL, NULL), 2);
    const char *d = vt_path("t.vhd"), *r = vt_path("t.raw"), *f = vt_path("t-fixed.vhd");
    const char *d2 = vt_path("t2.vhd");
    CHECK_EQ(vt_tool("create", "--size", "6M", d), 0);
    CHECK_EQ(vt_tool("create", "--size", "6M", d), 1); /* exists */
    BlockDev *bd = vt_open(d, 0);
    if (!bd)
        return;
    uint8_t *ref = calloc(1, 6u << 20);
    uint64_t seed = 3;
    vt_random_writes(bd, ref, 20, &seed);
    /* Zero a whole 2 MiB block that had data: compact drops it. */
    uint8_t *z = calloc(1, 2u << 20);
    CHECK_EQ(bd->write(bd, 4096, z, 4096), 0);
    memset(ref + (2u << 20), 0, 2u << 20);
    disk_close(bd);
    uint64_t before = vt_file_size(d);
    CHECK_EQ(vt_tool("compact", d, NULL, NULL), 0);
    CHECK(vt_file_size(d) < before);
    CHECK_EQ(vt_tool("check", d, NULL, NULL), 0);
    CHECK_EQ(vt_tool("convert", d, r, "--raw"), 0);
    CHECK_EQ(vt_tool("convert", r, f, "--fixed"), 0);
    CHECK_EQ(vt_tool("convert", f, d2, "--dynamic"), 0);
    CHECK_EQ(vt_tool("check", d2, NULL, NULL), 0);
    CHECK_EQ(vt_tool("check", r, NULL, NULL), 1); /* not a VHD */
    const char *list[] = {d, r, f, d2};
    for (int i = 0; i < 4; i++) {
        bd = vt_open(list[i], DISK_OPEN_READONLY);
        CHECK(bd && vt_matches(bd, ref));
        disk_close(bd);
    }
    free(z);
    free(ref);
}

/* Random field values in a valid image's footer, header and BAT (checksums
 * recomputed so the values get past them): open either refuses with a
 * message or yields a device that reads and writes without crashing. */
static void vt_mutate(uint8_t *img, size_t len, uint64_t *seed)
{
    VhdFooter f;
    VhdHeader h;
    vhd_footer_decode(img, &f);
    vhd_header_decode(img + 512, &h);
    uint64_t pick = vt_rng(seed) % 12, val = vt_rng(seed);
    if (vt_rng(seed) & 1)
        val %= 1ull << (vt_rng(seed) % 40 + 1);
    switch (pick) {
    case 0: f.current_size = val; break;
    case 1: f.data_offset = val; break;
    case 2: f.disk_type = (uint32_t)val % 6; break;
    case 3: h.table_offset = val; break;
    case 4: h.max_entries = (uint32_t)val; break;
    case 5: h.block_size = 1u << (val % 32); break;
    case 6: h.loc[val % 8].offset = vt_rng(seed); h.loc[val % 8].length = (uint32_t)vt_rng(seed); break;
    default: { /* a BAT entry */
        uint32_t e = (uint32_t)(vt_rng(seed) % 64), x = (uint32_t)val;
        img[1536 + 4 * e] = x >> 24; img[1537 + 4 * e] = (uint8_t)(x >> 16);
        img[1538 + 4 * e] = (uint8_t)(x >> 8); img[1539 + 4 * e] = (uint8_t)x;
        break;
    }
    }
    vhd_footer_encode(&f, img);
    memcpy(img + len - 512, img, 512);
    vhd_header_encode(&h, img + 512);
}

TEST(vhd, fuzzed_metadata_never_crashes)
{
    const char *good = vt_path("fz.vhd"), *p = vt_path("fz-mut.vhd");
    vt_create(good, VHD_TYPE_DYNAMIC, 2u << 20, 65536, NULL);
    BlockDev *bd = vt_open(good, 0);
    if (!bd)
        return;
    uint8_t *ref = calloc(1, 2u << 20), *buf = malloc(2u << 20);
    uint64_t seed = 4242;
    vt_random_writes(bd, ref, 30, &seed);
    disk_close(bd);
    size_t len;
    uint8_t *img = vt_slurp(good, &len), *mut = malloc(len);
    int opened = 0;
    for (int i = 0; i < 300; i++) {
        memcpy(mut, img, len);
        for (int k = 0; k <= i % 3; k++)
            vt_mutate(mut, len, &seed);
        FILE *f = fopen(p, "wb");
        fwrite(mut, 1, len, f);
        fclose(f);
        char err[512] = "";
        fflush(stderr);
        int saved = dup(2), null = open("/dev/null", O_WRONLY);
        dup2(null, 2);
        bd = disk_open(p, 0, err, sizeof err);
        dup2(saved, 2);
        close(saved);
        close(null);
        if (!bd) {
            CHECK(strncmp(err, p, strlen(p)) == 0 && strlen(err) > strlen(p) + 2);
            continue;
        }
        opened++;
        uint32_t n = (uint32_t)(bd->size / 512 < 4096 ? bd->size / 512 : 4096);
        if (n)
            bd->read(bd, 0, buf, n);
        memset(buf, 0x5A, 512);
        for (int k = 0; k < 8 && bd->size >= 512; k++)
            bd->write(bd, vt_rng(&seed) % (bd->size / 512), buf, 1);
        disk_close(bd);
    }
    CHECK(opened > 0); /* some mutations (e.g. unused BAT slots) are harmless */
    free(img);
    free(mut);
    free(ref);
    free(buf);
}

/* A differencing disk's new-sector bits in an allocated block reach the
 * file at flush (after the data), and reads see them at once. */
TEST(vhd, differencing_bitmap_written_at_flush)
{
    const char *base = vt_path("fb.vhd"), *kid = vt_path("fk.vhd");
    vt_create(base, VHD_TYPE_DYNAMIC, 1u << 20, 0, NULL);
    vt_create(kid, VHD_TYPE_DIFF, 0, 0, base);
    BlockDev *bd = vt_open(kid, 0);
    if (!bd)
        return;
    uint8_t s[512], r[512];
    memset(s, 0x3C, sizeof s);
    CHECK_EQ(bd->write(bd, 5, s, 1), 0); /* allocates: bitmap written now */
    CHECK_EQ(bd->write(bd, 9, s, 1), 0); /* existing block: bit cached */
    CHECK_EQ(bd->read(bd, 9, r, 1), 0);
    CHECK(memcmp(r, s, 512) == 0);
    Vhd *v = bd->priv;
    uint64_t bm_at = (uint64_t)v->bat[0] * 512;
    int fd = open(kid, O_RDONLY);
    uint8_t b0 = 0;
    CHECK(pread(fd, &b0, 1, (off_t)bm_at) == 1);
    CHECK_EQ(b0, 0x04); /* sector 5 only (MSB first) */
    CHECK_EQ(bd->flush(bd), 0);
    uint8_t b1[2] = {0, 0};
    CHECK(pread(fd, b1, 2, (off_t)bm_at) == 2);
    CHECK_EQ(b1[0], 0x04);
    CHECK_EQ(b1[1], 0x40); /* sector 9 */
    close(fd);
    disk_close(bd);
}

/* Compacting a differencing disk keeps its data, its unique ID (children
 * of it still open) and its parent link. */
TEST(vhdtool, compact_differencing_keeps_identity)
{
    const char *base = vt_path("cb.vhd"), *mid = vt_path("cm.vhd"), *top = vt_path("ct.vhd");
    const uint64_t size = 4u << 20;
    uint8_t *ref = calloc(1, size);
    uint64_t seed = 31;
    vt_create(base, VHD_TYPE_DYNAMIC, size, 0, NULL);
    BlockDev *bd = vt_open(base, 0);
    if (!bd)
        return;
    vt_random_writes(bd, ref, 20, &seed);
    disk_close(bd);
    vt_create(mid, VHD_TYPE_DIFF, 0, 65536, base);
    bd = vt_open(mid, 0);
    if (!bd)
        return;
    vt_random_writes(bd, ref, 40, &seed);
    disk_close(bd);
    vt_create(top, VHD_TYPE_DIFF, 0, 0, mid);
    size_t l1, l2;
    uint8_t *before = vt_slurp(mid, &l1);
    CHECK_EQ(vt_tool("compact", mid, NULL, NULL), 0);
    uint8_t *after = vt_slurp(mid, &l2);
    CHECK(before && after && memcmp(before + 68, after + 68, 16) == 0); /* same UUID */
    free(before);
    free(after);
    bd = vt_open(top, DISK_OPEN_READONLY);
    CHECK(bd && vt_matches(bd, ref));
    disk_close(bd);
    CHECK_EQ(vt_tool("check", top, NULL, NULL), 0);
    free(ref);
}

/* Images from before Virtual PC 2004 end in a 511-byte footer
 * (specification, "Hard Disk Footer Format"); both kinds open, and a
 * dynamic one stays valid when it grows. */
TEST(vhd, legacy_511_byte_footer)
{
    const char *fx = vt_path("l511f.vhd"), *dy = vt_path("l511d.vhd");
    vt_create(fx, VHD_TYPE_FIXED, 1u << 20, 0, NULL);
    vt_create(dy, VHD_TYPE_DYNAMIC, 4u << 20, 0, NULL);
    CHECK_EQ(truncate(fx, (off_t)vt_file_size(fx) - 1), 0);
    CHECK_EQ(truncate(dy, (off_t)vt_file_size(dy) - 1), 0);
    BlockDev *bd = vt_open(fx, 0);
    CHECK(bd && !strcmp(bd->format, "vhd-fixed") && bd->size == 1u << 20);
    disk_close(bd);
    uint8_t *ref = calloc(1, 4u << 20);
    uint64_t seed = 511;
    bd = vt_open(dy, 0);
    if (bd) {
        vt_random_writes(bd, ref, 30, &seed);
        disk_close(bd);
    }
    bd = vt_open(dy, DISK_OPEN_READONLY);
    CHECK(bd && vt_matches(bd, ref));
    disk_close(bd);
    CHECK_EQ(vt_tool("check", dy, NULL, NULL), 0);
    free(ref);
}

/* Dynamic disks from other tools may mark only written sectors in a block's
 * bitmap: unmarked sectors read as zeros and get marked when written. */
TEST(vhd, dynamic_partial_bitmap_from_other_tools)
{
    const char *p = vt_path("pbm.vhd");
    vt_create(p, VHD_TYPE_DYNAMIC, 2u << 20, 0, NULL);
    BlockDev *bd = vt_open(p, 0);
    if (!bd)
        return;
    uint8_t s[512], r[512];
    memset(s, 0x77, sizeof s);
    for (uint64_t lba = 0; lba < 16; lba++)
        CHECK_EQ(bd->write(bd, lba, s, 1), 0);
    uint64_t bm_at = (uint64_t)((Vhd *)bd->priv)->bat[0] * 512;
    disk_close(bd);
    uint8_t bits[2] = {0xF0, 0x00}; /* only sectors 0-3 present */
    vt_patch(p, bm_at, bits, 2);
    bd = vt_open(p, 0);
    if (!bd)
        return;
    CHECK_EQ(bd->read(bd, 3, r, 1), 0);
    CHECK(memcmp(r, s, 512) == 0);
    CHECK_EQ(bd->read(bd, 4, r, 1), 0);
    CHECK(vhd_all_zero(r, 512)); /* stale data behind a clear bit is not shown */
    CHECK_EQ(bd->write(bd, 9, s, 1), 0);
    CHECK_EQ(bd->read(bd, 9, r, 1), 0);
    CHECK(memcmp(r, s, 512) == 0);
    disk_close(bd);
    bd = vt_open(p, DISK_OPEN_READONLY);
    if (bd) {
        CHECK_EQ(bd->read(bd, 9, r, 1), 0);
        CHECK(memcmp(r, s, 512) == 0);
        CHECK_EQ(bd->read(bd, 8, r, 1), 0);
        CHECK(vhd_all_zero(r, 512));
        disk_close(bd);
    }
}

/* Dense, short writes into one 2 MiB block of a differencing disk: the
 * bitmap (512 bytes, no padding) ends up with every byte partly set, the
 * case where "no zero byte" must not be taken for "all present". */
TEST(vhd, differencing_dense_partial_bitmap)
{
    const char *base = vt_path("dpb.vhd"), *kid = vt_path("dpk.vhd");
    const uint64_t size = 4u << 20;
    uint8_t *ref = malloc(size);
    uint64_t seed = 2024;
    vt_fill(ref, size, &seed);
    vt_create(base, VHD_TYPE_DYNAMIC, size, 0, NULL);
    BlockDev *bd = vt_open(base, 0);
    if (!bd)
        return;
    CHECK_EQ(bd->write(bd, 0, ref, (uint32_t)(size / 512)), 0);
    disk_close(bd);
    vt_create(kid, VHD_TYPE_DIFF, 0, 0, base);
    bd = vt_open(kid, 0);
    if (!bd)
        return;
    uint8_t s[512];
    for (uint32_t byte = 0; byte < 512; byte++) { /* one sector in each group of 8 */
        uint64_t lba = (uint64_t)byte * 8 + vt_rng(&seed) % 7;
        vt_fill(s, 512, &seed);
        CHECK_EQ(bd->write(bd, lba, s, 1), 0);
        memcpy(ref + lba * 512, s, 512);
    }
    CHECK(vt_matches(bd, ref));
    disk_close(bd);
    bd = vt_open(kid, DISK_OPEN_READONLY);
    CHECK(bd && vt_matches(bd, ref));
    disk_close(bd);
    free(ref);
}
