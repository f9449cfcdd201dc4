/* tests/unit/fdc_test.c -- the 82077AA floppy controller through its ports
 * with the real 8237 DMA on channel 2 (Intel 82077AA datasheet: command
 * and result phases, ST0-ST3, reset polling, C/H/R/N after termination). */
#include <errno.h>

#include "chiptest.h"
#include "disk/disk.h"

typedef struct FloppyImg {
    BlockDev bd;
    uint8_t *data;
} FloppyImg;

static uint8_t fpat(uint64_t lba, unsigned i) { return (uint8_t)(lba * 5 + i * 3 + 1); }

static int fi_read(BlockDev *bd, uint64_t lba, void *buf, uint32_t count)
{
    FloppyImg *m = (FloppyImg *)bd;
    if ((lba + count) * 512 > bd->size)
        return -EIO;
    memcpy(buf, m->data + lba * 512, (size_t)count * 512);
    return 0;
}

static int fi_write(BlockDev *bd, uint64_t lba, const void *buf, uint32_t count)
{
    FloppyImg *m = (FloppyImg *)bd;
    if ((lba + count) * 512 > bd->size || bd->readonly)
        return -EIO;
    memcpy(m->data + lba * 512, buf, (size_t)count * 512);
    return 0;
}

static int fi_flush(BlockDev *bd) { (void)bd; return 0; }
static void fi_close(BlockDev *bd) { (void)bd; }

static FloppyImg *fi_new(uint32_t bytes, bool readonly)
{
    FloppyImg *m = calloc(1, sizeof *m);
    m->bd = (BlockDev){.size = bytes, .sector_size = 512, .readonly = readonly, .format = "raw",
                       .read = fi_read, .write = fi_write, .flush = fi_flush, .close = fi_close};
    m->data = malloc(bytes);
    for (uint32_t s = 0; s < bytes / 512; s++)
        for (unsigned i = 0; i < 512; i++)
            m->data[s * 512 + i] = fpat(s, i);
    return m;
}

static void fi_free(FloppyImg *m)
{
    if (m) {
        free(m->data);
        free(m);
    }
}

enum { DOR = 0x3F2, MSR = 0x3F4, FIFO = 0x3F5, DIR = 0x3F7 };

typedef struct FdcFix {
    Bus *bus;
    Clock *clk;
    IsaDma *dma;
    Fdc *fdc;
    ChipIrqs irqs;
    FloppyImg *img[2];
} FdcFix;

static void ffix_init(FdcFix *f, FloppyImg *a, FloppyImg *b)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(4 << 20, NULL);
    f->clk = clock_create(CLOCK_VIRTUAL);
    f->dma = isa_dma_create(f->bus);
    f->img[0] = a;
    f->img[1] = b;
    BlockDev *bd[2] = {a ? &a->bd : NULL, b ? &b->bd : NULL};
    f->fdc = fdc_create(f->bus, f->clk, chiptest_line(&f->irqs, 6), f->dma, bd);
    /* as the BIOS does: channel 4 in cascade mode and unmasked */
    outb(f->bus, 0xD6, 0xC0);
    outb(f->bus, 0xD4, 0x00);
}

static void ffix_done(FdcFix *f)
{
    fdc_device_class.destroy(f->fdc);
    isa_dma_device_class.destroy(f->dma);
    clock_destroy(f->clk);
    bus_destroy(f->bus);
    fi_free(f->img[0]);
    fi_free(f->img[1]);
}

/* Writes command bytes, checking RQM=1, DIO=0 before each. */
static void fdc_cmd(Bus *b, const uint8_t *bytes, int n)
{
    for (int i = 0; i < n; i++) {
        CHECK_EQ(inb(b, MSR) & 0xC0, 0x80);
        outb(b, FIFO, bytes[i]);
    }
}

/* Reads n result bytes, checking RQM=1, DIO=1; then the command phase. */
static void fdc_results(Bus *b, uint8_t *r, int n)
{
    for (int i = 0; i < n; i++) {
        CHECK_EQ(inb(b, MSR) & 0xD0, 0xD0);
        r[i] = inb(b, FIFO);
    }
    CHECK_EQ(inb(b, MSR) & 0xD0, 0x80);
}

/* Releases reset and drains the four polling interrupts. */
static void fdc_enable(FdcFix *f)
{
    outb(f->bus, DOR, 0x00);
    outb(f->bus, DOR, 0x1C); /* drive 0 motor, DMA gate, not reset */
    for (int d = 0; d < 4; d++) {
        uint8_t c = 0x08, r[2];
        fdc_cmd(f->bus, &c, 1);
        fdc_results(f->bus, r, 2);
    }
}

/* 8237 channel 2 for `len` bytes at `addr` (mode 46h: device to memory,
 * 4Ah: memory to device). */
static void dma2_setup(Bus *b, uint32_t addr, uint32_t len, uint8_t mode)
{
    outb(b, 0x0A, 0x06);
    outb(b, 0x0C, 0);
    outb(b, 0x0B, mode);
    outb(b, 0x04, (uint8_t)addr);
    outb(b, 0x04, (uint8_t)(addr >> 8));
    outb(b, 0x81, (uint8_t)(addr >> 16));
    outb(b, 0x0C, 0);
    outb(b, 0x05, (uint8_t)(len - 1));
    outb(b, 0x05, (uint8_t)((len - 1) >> 8));
    outb(b, 0x0A, 0x02);
}

static void fdc_seek(FdcFix *f, uint8_t ds, uint8_t cyl)
{
    uint8_t c[3] = {0x0F, ds, cyl}, s = 0x08, r[2];
    fdc_cmd(f->bus, c, 3);
    CHECK_EQ(f->irqs.level[6], 1);
    fdc_cmd(f->bus, &s, 1);
    fdc_results(f->bus, r, 2);
    CHECK_EQ(r[0], 0x20 | ds);
    CHECK_EQ(r[1], cyl);
}

static bool sector_is(const uint8_t *p, uint64_t lba)
{
    for (unsigned i = 0; i < 512; i++)
        if (p[i] != fpat(lba, i))
            return false;
    return true;
}

#define LBA144(c, h, s) (((c) * 2 + (h)) * 18 + (s) - 1)

TEST(fdc, drive_types_from_image_size)
{
    static const struct { uint32_t size; int type; } t[] = {
        {163840, 1}, {184320, 1}, {327680, 1}, {368640, 1}, {737280, 3},
        {1228800, 2}, {1474560, 4}, {2949120, 5},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        BlockDev bd = {.size = t[i].size, .sector_size = 512};
        CHECK_EQ(fdc_drive_type(&bd), t[i].type);
    }
    CHECK_EQ(fdc_drive_type(NULL), 0);
}

TEST(fdc, reset_reports_four_polling_interrupts)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), NULL);
    CHECK_EQ(inb(f.bus, MSR), 0x00); /* held in reset after power-on */
    outb(f.bus, DOR, 0x0C);
    CHECK_EQ(f.irqs.level[6], 1);
    CHECK_EQ(inb(f.bus, MSR), 0x80);
    for (int d = 0; d < 4; d++) {
        uint8_t c = 0x08, r[2];
        fdc_cmd(f.bus, &c, 1);
        fdc_results(f.bus, r, 2);
        CHECK_EQ(r[0], 0xC0 | d);
        CHECK_EQ(r[1], 0);
    }
    CHECK_EQ(f.irqs.level[6], 0);
    uint8_t c = 0x08, r;
    fdc_cmd(f.bus, &c, 1);
    fdc_results(f.bus, &r, 1);
    CHECK_EQ(r, 0x80); /* nothing pending: invalid */
    /* DSR software reset does the same */
    outb(f.bus, MSR, 0x80);
    CHECK_EQ(f.irqs.level[6], 1);
    fdc_cmd(f.bus, &c, 1);
    uint8_t r2[2];
    fdc_results(f.bus, r2, 2);
    CHECK_EQ(r2[0], 0xC0);
    /* with the DMA gate off the interrupt line is tri-stated */
    outb(f.bus, DOR, 0x00);
    outb(f.bus, DOR, 0x04);
    CHECK_EQ(f.irqs.level[6], 0);
    outb(f.bus, DOR, 0x0C);
    CHECK_EQ(f.irqs.level[6], 1);
    ffix_done(&f);
}

TEST(fdc, version_configure_lock_dumpreg)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), NULL);
    fdc_enable(&f);
    uint8_t c[4] = {0x10}, r[10];
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x90);
    uint8_t spec[3] = {0x03, 0xDF, 0x02};
    fdc_cmd(f.bus, spec, 3);
    CHECK_EQ(inb(f.bus, MSR), 0x80);
    uint8_t conf[4] = {0x13, 0x00, 0x57, 0x05};
    fdc_cmd(f.bus, conf, 4);
    uint8_t perp[2] = {0x12, 0x83};
    fdc_cmd(f.bus, perp, 2);
    c[0] = 0x94; /* LOCK */
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x10);
    fdc_seek(&f, 1, 7);
    c[0] = 0x0E;
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 10);
    CHECK_EQ(r[1], 7);
    CHECK_EQ(r[4], 0xDF);
    CHECK_EQ(r[5], 0x02);
    CHECK_EQ(r[7] & 0x80, 0x80);
    CHECK_EQ(r[8], 0x57);
    CHECK_EQ(r[9], 0x05);
    /* a reset keeps the locked CONFIGURE values; POLL=1 means no
     * polling interrupts after it */
    outb(f.bus, DOR, 0x08);
    outb(f.bus, DOR, 0x0C);
    CHECK_EQ(f.irqs.level[6], 0);
    c[0] = 0x08;
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x80);
    c[0] = 0x0E;
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 10);
    CHECK_EQ(r[8], 0x57);
    CHECK_EQ(r[7] & 0x03, 0); /* GAP/WGATE cleared */
    /* invalid opcode */
    c[0] = 0x1F;
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x80);
    ffix_done(&f);
}

TEST(fdc, seek_recalibrate_drive_status_change_line)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), fi_new(737280, true));
    fdc_enable(&f);
    CHECK_EQ(inb(f.bus, DIR) & 0x80, 0x80); /* no step since power-on */
    fdc_seek(&f, 0, 10);
    CHECK_EQ(inb(f.bus, DIR) & 0x80, 0x00);
    uint8_t c[3] = {0x04, 0x00}, r[2];
    fdc_cmd(f.bus, c, 2);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x28); /* RDY, TS, not T0, not WP */
    c[0] = 0x07;
    c[1] = 0x00;
    fdc_cmd(f.bus, c, 2);
    CHECK_EQ(inb(f.bus, MSR) & 0x01, 0x01); /* drive 0 busy until sensed */
    c[0] = 0x08;
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 2);
    CHECK_EQ(r[0], 0x20);
    CHECK_EQ(r[1], 0);
    CHECK_EQ(inb(f.bus, MSR) & 0x0F, 0);
    c[0] = 0x04;
    c[1] = 0x05; /* drive 1, head 1: write-protected */
    fdc_cmd(f.bus, c, 2);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x40 | 0x20 | 0x10 | 0x08 | 0x04 | 0x01);
    /* recalibrating an absent drive fails with equipment check */
    c[0] = 0x07;
    c[1] = 0x02;
    fdc_cmd(f.bus, c, 2);
    c[0] = 0x08;
    fdc_cmd(f.bus, c, 1);
    fdc_results(f.bus, r, 2);
    CHECK_EQ(r[0], 0x72);
    ffix_done(&f);
}

static void rw_cmd(Bus *b, uint8_t op, uint8_t hds_ds, uint8_t c, uint8_t h, uint8_t r, uint8_t eot)
{
    uint8_t cmd[9] = {op, hds_ds, c, h, r, 2, eot, 0x1B, 0xFF};
    fdc_cmd(b, cmd, 9);
}

TEST(fdc, read_data_dma_multitrack)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), NULL);
    fdc_enable(&f);
    outb(f.bus, DIR, 0x00); /* 500 kb/s */
    fdc_seek(&f, 0, 2);
    dma2_setup(f.bus, 0x10000, 1024, 0x46);
    rw_cmd(f.bus, 0xE6, 0x04, 2, 1, 17, 18); /* MT MFM SK, head 1, sectors 17-18 */
    CHECK_EQ(f.irqs.level[6], 1);
    uint8_t r[7];
    fdc_results(f.bus, r, 7);
    CHECK_EQ(f.irqs.level[6], 0);
    CHECK_EQ(r[0], 0x04);
    CHECK_EQ(r[1], 0);
    CHECK_EQ(r[2], 0);
    CHECK_EQ(r[3], 3); /* end of track on head 1: C+1, H complemented, R=1 */
    CHECK_EQ(r[4], 0);
    CHECK_EQ(r[5], 1);
    CHECK_EQ(r[6], 2);
    uint8_t *ram = bus_ram(f.bus);
    CHECK(sector_is(ram + 0x10000, LBA144(2, 1, 17)));
    CHECK(sector_is(ram + 0x10200, LBA144(2, 1, 18)));
    /* MT across the heads: head 0 sector 18, then head 1 sector 1 */
    dma2_setup(f.bus, 0x20000, 1024, 0x46);
    rw_cmd(f.bus, 0xC6, 0x00, 2, 0, 18, 18);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x04); /* the last sector came from head 1 */
    CHECK_EQ(r[3], 2);
    CHECK_EQ(r[4], 1);
    CHECK_EQ(r[5], 2);
    CHECK(sector_is(ram + 0x20000, LBA144(2, 0, 18)));
    CHECK(sector_is(ram + 0x20200, LBA144(2, 1, 1)));
    /* without MT the track ends at EOT before terminal count: EN */
    dma2_setup(f.bus, 0x30000, 2048, 0x46);
    rw_cmd(f.bus, 0x46, 0x00, 2, 0, 17, 18);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x40);
    CHECK_EQ(r[1], 0x80);
    CHECK_EQ(r[3], 3);
    CHECK_EQ(r[5], 1);
    ffix_done(&f);
}

TEST(fdc, read_errors_rate_cylinder_sector)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), NULL);
    fdc_enable(&f);
    fdc_seek(&f, 0, 1);
    uint8_t r[7];
    outb(f.bus, DIR, 0x02); /* 250 kb/s: wrong for a 1.44M medium */
    dma2_setup(f.bus, 0x10000, 512, 0x46);
    rw_cmd(f.bus, 0x46, 0x00, 1, 0, 1, 18);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x40);
    CHECK_EQ(r[1], 0x01); /* missing address mark */
    outb(f.bus, DIR, 0x00);
    rw_cmd(f.bus, 0x46, 0x00, 5, 0, 1, 18); /* head is on cylinder 1 */
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x40);
    CHECK_EQ(r[1], 0x04);
    CHECK_EQ(r[2], 0x10);
    rw_cmd(f.bus, 0x46, 0x00, 1, 0, 19, 19); /* no sector 19 */
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[1], 0x04);
    /* READ ID */
    uint8_t c[2] = {0x4A, 0x04};
    fdc_cmd(f.bus, c, 2);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x04);
    CHECK_EQ(r[3], 1);
    CHECK_EQ(r[4], 1);
    CHECK_EQ(r[6], 2);
    /* an absent drive finds nothing */
    fdc_cmd(f.bus, (uint8_t[]){0x4A, 0x01}, 2);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x41);
    CHECK_EQ(r[1], 0x01);
    ffix_done(&f);
}

TEST(fdc, write_data_dma_and_write_protect)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), fi_new(1474560, true));
    fdc_enable(&f);
    outb(f.bus, DIR, 0x00);
    fdc_seek(&f, 0, 4);
    uint8_t *ram = bus_ram(f.bus);
    for (int i = 0; i < 1024; i++)
        ram[0x40000 + i] = (uint8_t)(0x80 ^ i);
    dma2_setup(f.bus, 0x40000, 1024, 0x4A);
    rw_cmd(f.bus, 0xC5, 0x00, 4, 0, 5, 18);
    uint8_t r[7];
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x00);
    CHECK_EQ(r[5], 7);
    CHECK(memcmp(f.img[0]->data + LBA144(4, 0, 5) * 512, ram + 0x40000, 1024) == 0);
    CHECK(sector_is(f.img[0]->data + LBA144(4, 0, 7) * 512, LBA144(4, 0, 7)));
    /* drive 1 is write-protected: NW */
    fdc_seek(&f, 1, 4);
    dma2_setup(f.bus, 0x40000, 512, 0x4A);
    rw_cmd(f.bus, 0xC5, 0x01, 4, 0, 5, 18);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x41);
    CHECK_EQ(r[1], 0x02);
    CHECK(sector_is(f.img[1]->data + LBA144(4, 0, 5) * 512, LBA144(4, 0, 5)));
    ffix_done(&f);
}

TEST(fdc, format_track_fills_sectors)
{
    FdcFix f;
    ffix_init(&f, fi_new(737280, false), NULL);
    fdc_enable(&f);
    outb(f.bus, DIR, 0x02); /* 250 kb/s for 720K */
    fdc_seek(&f, 0x04, 3);
    uint8_t *ram = bus_ram(f.bus);
    for (int s = 0; s < 9; s++) {
        ram[0x50000 + 4 * s] = 3;
        ram[0x50000 + 4 * s + 1] = 1;
        ram[0x50000 + 4 * s + 2] = (uint8_t)(s + 1);
        ram[0x50000 + 4 * s + 3] = 2;
    }
    dma2_setup(f.bus, 0x50000, 36, 0x4A);
    uint8_t c[6] = {0x4D, 0x04, 0x02, 9, 0x54, 0xF6};
    fdc_cmd(f.bus, c, 6);
    uint8_t r[7];
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x04);
    uint32_t lba = (3 * 2 + 1) * 9;
    for (int i = 0; i < 9 * 512; i++)
        if (f.img[0]->data[lba * 512 + i] != 0xF6) {
            CHECK_EQ(i, -1);
            break;
        }
    CHECK(sector_is(f.img[0]->data + (lba - 1) * 512, lba - 1));
    CHECK(sector_is(f.img[0]->data + (lba + 9) * 512, lba + 9));
    ffix_done(&f);
}

TEST(fdc, non_dma_read_through_fifo)
{
    FdcFix f;
    ffix_init(&f, fi_new(368640, false), NULL);
    fdc_enable(&f);
    outb(f.bus, DIR, 0x02);
    uint8_t spec[3] = {0x03, 0xDF, 0x03}; /* ND */
    fdc_cmd(f.bus, spec, 3);
    fdc_seek(&f, 0, 39);
    rw_cmd(f.bus, 0x46, 0x04, 39, 1, 9, 9); /* last sector of a 360K disk */
    CHECK_EQ(f.irqs.level[6], 1);
    uint8_t buf[512];
    for (int i = 0; i < 512; i++) {
        CHECK_EQ(inb(f.bus, MSR) & 0xF0, 0xF0); /* RQM DIO NDMA CB */
        buf[i] = inb(f.bus, FIFO);
    }
    CHECK(sector_is(buf, 368640 / 512 - 1));
    uint8_t r[7];
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x04);
    CHECK_EQ(r[3], 40);
    /* cylinder 40 does not exist on a 40-track disk */
    fdc_seek(&f, 0, 40);
    rw_cmd(f.bus, 0x46, 0x00, 40, 0, 1, 9);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x40);
    CHECK_EQ(r[1], 0x01);
    ffix_done(&f);
}

TEST(fdc, save_load_roundtrip)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), NULL);
    fdc_enable(&f);
    fdc_seek(&f, 0, 9);
    uint8_t c[2] = {0x04, 0x00}, r[1];
    fdc_cmd(f.bus, c, 2);
    CHECK_EQ(chiptest_roundtrip(&fdc_device_class, f.fdc), 0);
    fdc_results(f.bus, r, 1);
    CHECK_EQ(r[0], 0x28);
    fdc_cmd(f.bus, (uint8_t[]){0x0E}, 1);
    uint8_t d[10];
    fdc_results(f.bus, d, 10);
    CHECK_EQ(d[0], 9);
    ffix_done(&f);
}

TEST(fdc, register_fuzz_never_crashes)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), fi_new(368640, true));
    uint32_t seed = 0xF10BB1;
    static const uint16_t ports[] = {0x3F0, 0x3F1, 0x3F2, 0x3F3, 0x3F4, 0x3F5, 0x3F5, 0x3F5, 0x3F7,
                                     0x04, 0x05, 0x0A, 0x0B, 0x81};
    for (int i = 0; i < 200000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port = ports[r % (sizeof ports / sizeof ports[0])];
        if (r & 0x80000000u)
            inb(f.bus, port);
        else
            outb(f.bus, port, (uint8_t)chiptest_rand(&seed));
        if ((r & 0xFF) == 0)
            isa_dma_run(f.dma);
    }
    /* a reset brings the controller back */
    outb(f.bus, 0x0A, 0x06);
    fdc_enable(&f);
    fdc_cmd(f.bus, (uint8_t[]){0x10}, 1);
    uint8_t v;
    fdc_results(f.bus, &v, 1);
    CHECK_EQ(v, 0x90);
    ffix_done(&f);
}

TEST(fdc, terminal_count_mid_sector_and_head_mismatch)
{
    FdcFix f;
    ffix_init(&f, fi_new(1474560, false), NULL);
    fdc_enable(&f);
    outb(f.bus, DIR, 0x00);
    fdc_seek(&f, 0, 0);
    uint8_t *ram = bus_ram(f.bus);
    memset(ram + 0x60000, 0xAB, 100);
    dma2_setup(f.bus, 0x60000, 100, 0x4A); /* TC after 100 bytes of a write */
    rw_cmd(f.bus, 0xC5, 0x00, 0, 0, 3, 18);
    uint8_t r[7];
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x00);
    CHECK_EQ(r[5], 4);
    uint8_t *sec = f.img[0]->data + 2 * 512;
    CHECK_EQ(sec[0], 0xAB);
    CHECK_EQ(sec[99], 0xAB);
    CHECK_EQ(sec[100], 0x00); /* the rest of the sector is zero-filled */
    CHECK_EQ(sec[511], 0x00);
    /* H in the command differs from the head selected: no such sector */
    dma2_setup(f.bus, 0x60000, 512, 0x46);
    rw_cmd(f.bus, 0x46, 0x00, 0, 1, 1, 18);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x40);
    CHECK_EQ(r[1], 0x04);
    ffix_done(&f);
}

TEST(fdc, implied_seek_and_single_sided_media)
{
    FdcFix f;
    ffix_init(&f, fi_new(163840, false), NULL); /* 160K: 40 tracks, 1 side, 8 sectors */
    fdc_enable(&f);
    outb(f.bus, DIR, 0x02);
    uint8_t conf[4] = {0x13, 0x00, 0x60, 0x00}; /* EIS: implied seek */
    fdc_cmd(f.bus, conf, 4);
    dma2_setup(f.bus, 0x10000, 512, 0x46);
    rw_cmd(f.bus, 0x46, 0x00, 12, 0, 8, 8); /* the head is on track 0 */
    uint8_t r[7];
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x00); /* TC at the EOT sector: normal termination */
    CHECK_EQ(r[3], 13);
    CHECK_EQ(r[5], 1);
    CHECK(sector_is(bus_ram(f.bus) + 0x10000, 12 * 8 + 7));
    fdc_cmd(f.bus, (uint8_t[]){0x0E}, 1);
    uint8_t d[10];
    fdc_results(f.bus, d, 10);
    CHECK_EQ(d[0], 12); /* the implied seek moved the head */
    /* side 1 of a single-sided disk has no address marks */
    fdc_cmd(f.bus, (uint8_t[]){0x4A, 0x04}, 2);
    fdc_results(f.bus, r, 7);
    CHECK_EQ(r[0], 0x44);
    CHECK_EQ(r[1], 0x01);
    ffix_done(&f);
}
