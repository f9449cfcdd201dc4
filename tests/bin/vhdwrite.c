/*
 * tests/bin/vhdwrite.c -- drives disk_open + write for the VHD suite.
 *
 *   vhdwrite write IMAGE LOG SEED COUNT [SPAN]
 *                                         COUNT random writes (0: until killed),
 *                                         within the first SPAN sectors if given
 *   vhdwrite verify IMAGE LOG [REF] [--strict]
 *                                         every sector holds old or new data
 *                                         (--strict: a done write counts as
 *                                         durable even before a flush)
 *   vhdwrite dump IMAGE OUT               the image's contents as a raw file
 *
 * `write` appends "S seed" when it starts, "W seed idx lba count" to LOG
 * before each write, "D" after it and "F" after each completed flush.  After
 * a kill -9 a write that was in flight, or done but not yet flushed (a
 * differencing disk may keep sector-bitmap updates in memory until a flush,
 * like a disk's write cache), may show either the old or the new data; a
 * flushed write must show the new data.  Sector
 * contents are a function of (seed, idx, lba), so the log is enough to
 * rebuild what every sector may legitimately hold.  REF is the image's
 * initial contents as raw (absent: zeros).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/disk.h"

#define MAX_RUN 64
#define MAX_ALTS 16

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static uint64_t tag_of(uint32_t seed, uint32_t idx) { return ((uint64_t)seed << 32 | idx) + 1; }

/* Contents of sector lba as written by write `tag`; one write in seven
 * writes zeros (zero writes must also stick). */
static void sector_for(uint64_t tag, uint64_t lba, uint8_t *out)
{
    uint32_t idx = (uint32_t)(tag - 1);
    if (idx % 7 == 3) {
        memset(out, 0, 512);
        return;
    }
    uint64_t s = mix(tag * 0x9E3779B97F4A7C15ull ^ lba);
    for (int i = 0; i < 512; i += 8) {
        s = mix(s + 0x632BE59BD9B4E019ull);
        memcpy(out + i, &s, 8);
    }
    memcpy(out, &tag, 8);
    memcpy(out + 8, &lba, 8);
}

static void plan(uint32_t seed, uint32_t idx, uint64_t sectors, uint64_t *lba, uint32_t *n)
{
    uint64_t r = mix(tag_of(seed, idx) ^ 0xABCDEF);
    *n = 1 + (uint32_t)(r % MAX_RUN);
    *lba = (r >> 8) % sectors;
    if (*lba + *n > sectors)
        *n = (uint32_t)(sectors - *lba);
}

static int cmd_write(const char *image, const char *logp, uint32_t seed, uint32_t count, uint64_t span)
{
    char err[1024];
    BlockDev *bd = disk_open(image, 0, err, sizeof err);
    if (!bd) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int log = open(logp, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (log < 0) {
        perror(logp);
        return 1;
    }
    uint8_t *buf = malloc(MAX_RUN * 512);
    uint64_t sectors = bd->size / 512;
    if (span && span < sectors)
        sectors = span;
    char start[32];
    int slen = snprintf(start, sizeof start, "S %u\n", seed);
    if (write(log, start, (size_t)slen) != slen)
        return 1;
    for (uint32_t idx = 0; count == 0 || idx < count; idx++) {
        uint64_t lba;
        uint32_t n;
        char line[128];
        plan(seed, idx, sectors, &lba, &n);
        for (uint32_t i = 0; i < n; i++)
            sector_for(tag_of(seed, idx), lba + i, buf + (size_t)i * 512);
        int len = snprintf(line, sizeof line, "W %u %u %llu %u\n", seed, idx, (unsigned long long)lba, n);
        if (write(log, line, (size_t)len) != len)
            return 1;
        int r = bd->write(bd, lba, buf, n);
        if (r) {
            fprintf(stderr, "%s: write %llu+%u: %s\n", image, (unsigned long long)lba, n, strerror(-r));
            return 1;
        }
        if (write(log, "D\n", 2) != 2)
            return 1;
        if (idx % 16 == 15 && (bd->flush(bd) != 0 || write(log, "F\n", 2) != 2))
            return 1;
    }
    disk_close(bd);
    if (write(log, "F\n", 2) != 2)
        return 1;
    free(buf);
    close(log);
    return 0;
}

typedef struct {
    uint64_t *alts; /* MAX_ALTS per sector, 0 = initial contents */
    uint8_t *nalts;
    uint64_t sectors;
} Expect;

static void expect_done(Expect *e, uint64_t tag, uint64_t lba, uint32_t n)
{
    for (uint64_t s = lba; s < lba + n && s < e->sectors; s++) {
        e->alts[s * MAX_ALTS] = tag;
        e->nalts[s] = 1;
    }
}

static void expect_maybe(Expect *e, uint64_t tag, uint64_t lba, uint32_t n)
{
    for (uint64_t s = lba; s < lba + n && s < e->sectors; s++)
        if (e->nalts[s] < MAX_ALTS)
            e->alts[s * MAX_ALTS + e->nalts[s]++] = tag;
}

typedef struct {
    uint64_t tag, lba;
    uint32_t n;
} Pending;

/* Replays the log: flushed writes are certain; writes of a run that was
 * killed before its next flush (and the one in flight) are possible. */
static int load_log(Expect *e, const char *logp, bool strict)
{
    FILE *f = fopen(logp, "r");
    if (!f) {
        perror(logp);
        return -1;
    }
    char line[128];
    size_t np = 0, cap = 1024;
    Pending *p = malloc(cap * sizeof *p);
    while (p && fgets(line, sizeof line, f)) {
        unsigned seed, idx, n;
        unsigned long long lba;
        if (line[0] == 'D' && strict && np) { /* strict: done is durable */
            np--;
            expect_done(e, p[np].tag, p[np].lba, p[np].n);
        } else if (line[0] == 'F') {
            for (size_t i = 0; i < np; i++)
                expect_done(e, p[i].tag, p[i].lba, p[i].n);
            np = 0;
        } else if (line[0] == 'S') { /* a new run: the last one was killed */
            for (size_t i = 0; i < np; i++)
                expect_maybe(e, p[i].tag, p[i].lba, p[i].n);
            np = 0;
        } else if (sscanf(line, "W %u %u %llu %u", &seed, &idx, &lba, &n) == 4) {
            if (np == cap)
                p = realloc(p, (cap *= 2) * sizeof *p);
            if (p)
                p[np++] = (Pending){tag_of(seed, idx), lba, n};
        }
    }
    for (size_t i = 0; p && i < np; i++)
        expect_maybe(e, p[i].tag, p[i].lba, p[i].n);
    free(p);
    fclose(f);
    return 0;
}

static int cmd_verify(const char *image, const char *logp, const char *refp, bool strict)
{
    char err[1024];
    BlockDev *bd = disk_open(image, DISK_OPEN_READONLY, err, sizeof err);
    if (!bd) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    Expect e = {.sectors = bd->size / 512};
    e.alts = calloc(e.sectors * MAX_ALTS, sizeof *e.alts);
    e.nalts = malloc(e.sectors);
    memset(e.nalts, 1, e.sectors);
    if (!e.alts || load_log(&e, logp, strict) != 0)
        return 1;
    FILE *ref = refp ? fopen(refp, "rb") : NULL;
    if (refp && !ref) {
        perror(refp);
        return 1;
    }
    uint8_t got[512], want[512];
    int bad = 0;
    for (uint64_t s = 0; s < e.sectors; s++) {
        if (bd->read(bd, s, got, 1) != 0) {
            fprintf(stderr, "%s: read error at sector %llu\n", image, (unsigned long long)s);
            return 1;
        }
        bool ok = false;
        for (int a = 0; a < e.nalts[s] && !ok; a++) {
            uint64_t tag = e.alts[s * MAX_ALTS + a];
            if (tag)
                sector_for(tag, s, want);
            else if (!ref || fseeko(ref, (off_t)s * 512, SEEK_SET) != 0 || fread(want, 1, 512, ref) != 512)
                memset(want, 0, 512);
            ok = memcmp(got, want, 512) == 0;
        }
        if (!ok && bad++ < 5)
            fprintf(stderr, "%s: sector %llu holds neither old nor new data\n", image, (unsigned long long)s);
    }
    if (ref)
        fclose(ref);
    disk_close(bd);
    free(e.alts);
    free(e.nalts);
    return bad ? 1 : 0;
}

static int cmd_dump(const char *image, const char *out)
{
    char err[1024];
    BlockDev *bd = disk_open(image, DISK_OPEN_READONLY, err, sizeof err);
    if (!bd) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    FILE *f = fopen(out, "wb");
    uint8_t buf[65536];
    for (uint64_t s = 0; f && s < bd->size / 512; s += 128) {
        uint32_t n = bd->size / 512 - s < 128 ? (uint32_t)(bd->size / 512 - s) : 128;
        if (bd->read(bd, s, buf, n) != 0 || fwrite(buf, 512, n, f) != n) {
            fclose(f);
            f = NULL;
        }
    }
    disk_close(bd);
    return f && fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if ((argc == 6 || argc == 7) && !strcmp(argv[1], "write"))
        return cmd_write(argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 0),
                         (uint32_t)strtoul(argv[5], NULL, 0),
                         argc == 7 ? strtoull(argv[6], NULL, 0) : 0);
    bool strict = argc >= 5 && !strcmp(argv[argc - 1], "--strict");
    if (strict)
        argc--;
    if ((argc == 4 || argc == 5) && !strcmp(argv[1], "verify"))
        return cmd_verify(argv[2], argv[3], argc == 5 ? argv[4] : NULL, strict);
    if (argc == 4 && !strcmp(argv[1], "dump"))
        return cmd_dump(argv[2], argv[3]);
    fprintf(stderr, "usage: vhdwrite write IMAGE LOG SEED COUNT [SPAN] | verify IMAGE LOG [REF] | dump IMAGE OUT\n");
    return 2;
}
