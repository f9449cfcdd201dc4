/* tests/unit/ide_test.c -- the PIIX3 IDE controller through its ports: ATA
 * PIO/DMA, IDENTIFY, errors, resets, and the ATAPI packet interface
 * (T13 ATA/ATAPI-6, MMC-3, PIIX3 datasheet bus-master registers). */
#include <errno.h>

#include "chiptest.h"
#include "disk/disk.h"

/* ---- an in-memory BlockDev; with data == NULL sector contents are a
 * function of the LBA (huge "disks" for LBA48 tests). */
typedef struct MemDisk {
    BlockDev bd;
    uint8_t *data;
    int64_t fail_lba; /* reads/writes touching it fail with -EIO */
    int flushes;
} MemDisk;

static uint8_t pattern_byte(uint64_t lba, unsigned i) { return (uint8_t)(lba * 7 + i * 13 + (lba >> 8)); }

static int md_read(BlockDev *bd, uint64_t lba, void *buf, uint32_t count)
{
    MemDisk *m = (MemDisk *)bd;
    if (lba + count > bd->size / 512)
        return -EIO;
    if (m->fail_lba >= 0 && (uint64_t)m->fail_lba >= lba && (uint64_t)m->fail_lba < lba + count)
        return -EIO;
    for (uint32_t s = 0; s < count; s++)
        for (unsigned i = 0; i < 512; i++)
            ((uint8_t *)buf)[s * 512 + i] = m->data ? m->data[(lba + s) * 512 + i] : pattern_byte(lba + s, i);
    return 0;
}

static int md_write(BlockDev *bd, uint64_t lba, const void *buf, uint32_t count)
{
    MemDisk *m = (MemDisk *)bd;
    if (lba + count > bd->size / 512 || !m->data || bd->readonly)
        return -EIO;
    if (m->fail_lba >= 0 && (uint64_t)m->fail_lba >= lba && (uint64_t)m->fail_lba < lba + count)
        return -EIO;
    memcpy(m->data + lba * 512, buf, (size_t)count * 512);
    return 0;
}

static int md_flush(BlockDev *bd)
{
    ((MemDisk *)bd)->flushes++;
    return 0;
}

static void md_close(BlockDev *bd) { (void)bd; }

/* A disk of `bytes`; backed by RAM if `backed`, filled with the pattern. */
static MemDisk *md_new(uint64_t bytes, bool backed, uint32_t sector_size)
{
    MemDisk *m = calloc(1, sizeof *m);
    m->bd = (BlockDev){.size = bytes, .sector_size = sector_size, .format = "raw",
                       .read = md_read, .write = md_write, .flush = md_flush, .close = md_close};
    m->fail_lba = -1;
    if (backed) {
        m->data = malloc(bytes);
        for (uint64_t s = 0; s < bytes / 512; s++)
            for (unsigned i = 0; i < 512; i++)
                m->data[s * 512 + i] = pattern_byte(s, i);
    }
    return m;
}

static void md_free(MemDisk *m)
{
    if (m) {
        free(m->data);
        free(m);
    }
}

/* ---- fixture: bus, PCI host, IDE with BAR4 at 0xC000 and bus mastering on */
#define BM_BASE 0xC000
enum { P_DATA = 0x1F0, P_ERR, P_NSECT, P_SECT, P_LCYL, P_HCYL, P_SEL, P_CMD };
#define P_CTL 0x3F6
#define S_BASE 0x170
#define S_CTL 0x376

typedef struct IdeFix {
    Bus *bus;
    Clock *clk;
    PciBus *pci;
    Ide *ide;
    ChipIrqs irqs;
    MemDisk *disk[4];
} IdeFix;

static void pci_cfg_write32(Bus *b, int devfn, uint8_t reg, uint32_t v)
{
    bus_io_write(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | reg, 4);
    bus_io_write(b, 0xCFC, v, 4);
}

static uint32_t pci_cfg_read32(Bus *b, int devfn, uint8_t reg)
{
    bus_io_write(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | reg, 4);
    return bus_io_read(b, 0xCFC, 4);
}

static void fix_init(IdeFix *f, MemDisk *d0, MemDisk *d1, MemDisk *d2, MemDisk *d3, unsigned cdmask)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(4 << 20, NULL);
    f->clk = clock_create(CLOCK_VIRTUAL);
    IrqLine lines[16];
    for (int i = 0; i < 16; i++)
        lines[i] = chiptest_line(&f->irqs, i);
    f->pci = pci_create(f->bus, f->clk, lines);
    MemDisk *md[4] = {d0, d1, d2, d3};
    BlockDev *bd[4];
    bool cd[4];
    for (int i = 0; i < 4; i++) {
        f->disk[i] = md[i];
        bd[i] = md[i] ? &md[i]->bd : NULL;
        cd[i] = (cdmask >> i) & 1;
    }
    f->ide = ide_create(f->bus, f->pci, f->clk, lines[14], lines[15], bd, cd);
    pci_cfg_write32(f->bus, 0x09, 0x20, BM_BASE | 1);
    pci_cfg_write32(f->bus, 0x09, 0x04, 0x0005); /* I/O decode + bus master */
}

static void fix_done(IdeFix *f)
{
    ide_device_class.destroy(f->ide);
    pci_device_class.destroy(f->pci);
    clock_destroy(f->clk);
    bus_destroy(f->bus);
    for (int i = 0; i < 4; i++)
        md_free(f->disk[i]);
}

static uint16_t inw(Bus *b, uint16_t p) { return (uint16_t)bus_io_read(b, p, 2); }
static void outw(Bus *b, uint16_t p, uint16_t v) { bus_io_write(b, p, v, 2); }

static void read_words(Bus *b, uint16_t port, uint16_t *w, int n)
{
    for (int i = 0; i < n; i++)
        w[i] = inw(b, port);
}

static void read_bytes(Bus *b, uint16_t port, uint8_t *buf, int n)
{
    for (int i = 0; i < n; i += 2) {
        uint16_t v = inw(b, port);
        buf[i] = (uint8_t)v;
        buf[i + 1] = (uint8_t)(v >> 8);
    }
}

/* LBA28 task file + command on the primary channel, device 0. */
static void ata_lba28(Bus *b, uint8_t cmd, uint32_t lba, uint8_t count)
{
    outb(b, P_SEL, (uint8_t)(0xE0 | ((lba >> 24) & 0x0F)));
    outb(b, P_NSECT, count);
    outb(b, P_SECT, (uint8_t)lba);
    outb(b, P_LCYL, (uint8_t)(lba >> 8));
    outb(b, P_HCYL, (uint8_t)(lba >> 16));
    outb(b, P_CMD, cmd);
}

static void ata_lba48(Bus *b, uint8_t cmd, uint64_t lba, uint16_t count)
{
    outb(b, P_SEL, 0xE0);
    outb(b, P_NSECT, (uint8_t)(count >> 8));
    outb(b, P_SECT, (uint8_t)(lba >> 24));
    outb(b, P_LCYL, (uint8_t)(lba >> 32));
    outb(b, P_HCYL, (uint8_t)(lba >> 40));
    outb(b, P_NSECT, (uint8_t)count);
    outb(b, P_SECT, (uint8_t)lba);
    outb(b, P_LCYL, (uint8_t)(lba >> 8));
    outb(b, P_HCYL, (uint8_t)(lba >> 16));
    outb(b, P_CMD, cmd);
}

static bool sector_matches(const uint8_t *buf, uint64_t lba)
{
    for (unsigned i = 0; i < 512; i++)
        if (buf[i] != pattern_byte(lba, i))
            return false;
    return true;
}

static void ident_string(const uint16_t *w, int first, int nwords, char *out)
{
    for (int i = 0; i < nwords; i++) {
        out[2 * i] = (char)(w[first + i] >> 8);
        out[2 * i + 1] = (char)w[first + i];
    }
    out[2 * nwords] = 0;
    for (int i = 2 * nwords - 1; i >= 0 && out[i] == ' '; i--)
        out[i] = 0;
}

/* ------------------------------------------------------------ ATA */

TEST(ide, pci_function_and_bar4)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), NULL, NULL, NULL, 0);
    CHECK_EQ(pci_cfg_read32(f.bus, 0x09, 0x00), 0x70108086u);
    CHECK_EQ(pci_cfg_read32(f.bus, 0x09, 0x08) >> 8, 0x010180u);
    CHECK_EQ(pci_cfg_read32(f.bus, 0x09, 0x20), (uint32_t)(BM_BASE | 1));
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x60, 0x20); /* drive 0 DMA capable */
    fix_done(&f);
}

TEST(ide, identify_device)
{
    IdeFix f;
    fix_init(&f, md_new(64 << 20, true, 512), NULL, NULL, NULL, 0);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    outb(f.bus, P_SEL, 0xA0);
    outb(f.bus, P_CMD, 0xEC);
    CHECK_EQ(f.irqs.level[14], 1);
    CHECK_EQ(inb(f.bus, P_CTL) & 0x89, 0x08); /* alternate status: DRQ, no IRQ ack */
    CHECK_EQ(f.irqs.level[14], 1);
    CHECK_EQ(inb(f.bus, P_CMD), 0x58);
    CHECK_EQ(f.irqs.level[14], 0);
    uint16_t w[256];
    read_words(f.bus, P_DATA, w, 256);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    uint32_t sectors = (64 << 20) / 512;
    CHECK_EQ(w[0], 0x0040);
    CHECK_EQ(w[1], sectors / (16 * 63));
    CHECK_EQ(w[3], 16);
    CHECK_EQ(w[6], 63);
    char s[48];
    ident_string(w, 27, 20, s);
    CHECK_STR(s, "VSX HARDDISK");
    ident_string(w, 23, 4, s);
    CHECK_STR(s, "0.1");
    ident_string(w, 10, 10, s);
    CHECK(strlen(s) > 0);
    CHECK_EQ(w[47] & 0xFF, 16);
    CHECK_EQ(w[49] & 0x0300, 0x0300);           /* LBA and DMA */
    CHECK_EQ(w[53] & 0x0007, 0x0007);
    CHECK_EQ(w[54], w[1]);
    CHECK_EQ(w[55], 16);
    CHECK_EQ(w[56], 63);
    CHECK_EQ(w[57] | (uint32_t)w[58] << 16, (uint32_t)w[1] * 16 * 63);
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, sectors);
    CHECK_EQ(w[63] & 0x07, 0x07);               /* MWDMA 0-2 */
    CHECK_EQ(w[88] & 0x3F, 0x3F);               /* UDMA 0-5 */
    CHECK_EQ(w[83] & 0xC400, 0x4400);           /* valid, 48-bit */
    CHECK_EQ(w[83] & 0x3000, 0x3000);           /* FLUSH CACHE (EXT) */
    CHECK_EQ(w[86] & 0x3400, 0x3400);
    CHECK_EQ(w[100] | (uint32_t)w[101] << 16, sectors);
    CHECK_EQ(w[102] | w[103], 0);
    fix_done(&f);
}

TEST(ide, identify_caps_chs_and_lba28_on_huge_disk)
{
    IdeFix f;
    uint64_t bytes = 200ull << 30; /* 200 GiB, beyond LBA28 */
    fix_init(&f, md_new(bytes, false, 512), NULL, NULL, NULL, 0);
    outb(f.bus, P_SEL, 0xA0);
    outb(f.bus, P_CMD, 0xEC);
    uint16_t w[256];
    read_words(f.bus, P_DATA, w, 256);
    CHECK_EQ(w[1], 16383);
    CHECK_EQ(w[60] | (uint32_t)w[61] << 16, 0x0FFFFFFFu);
    uint64_t n = w[100] | (uint64_t)w[101] << 16 | (uint64_t)w[102] << 32 | (uint64_t)w[103] << 48;
    CHECK_EQ(n, bytes / 512);
    /* LBA48 read above 2^28 */
    uint64_t lba = 0x12345678ull; /* above 2^28, below the 0x19000000 sectors */
    ata_lba48(f.bus, 0x24, lba, 2);
    CHECK_EQ(inb(f.bus, P_CMD), 0x58);
    uint8_t buf[1024];
    read_bytes(f.bus, P_DATA, buf, 1024);
    CHECK(sector_matches(buf, lba));
    CHECK(sector_matches(buf + 512, lba + 1));
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    /* HOB readback: the last sector's address */
    outb(f.bus, P_CTL, 0x80);
    CHECK_EQ(inb(f.bus, P_SECT), 0x12);
    CHECK_EQ(inb(f.bus, P_LCYL), 0x00);
    outb(f.bus, P_CTL, 0x00);
    CHECK_EQ(inb(f.bus, P_SECT), 0x79);
    CHECK_EQ(inb(f.bus, P_LCYL), 0x56);
    CHECK_EQ(inb(f.bus, P_HCYL), 0x34);
    fix_done(&f);
}

TEST(ide, pio_read_lba28_one_irq_per_sector)
{
    IdeFix f;
    fix_init(&f, md_new(8 << 20, true, 512), NULL, NULL, NULL, 0);
    int rises = f.irqs.rises[14];
    ata_lba28(f.bus, 0x20, 100, 3);
    uint8_t buf[512];
    for (int s = 0; s < 3; s++) {
        CHECK_EQ(f.irqs.rises[14], rises + s + 1);
        CHECK_EQ(inb(f.bus, P_CMD), 0x58);
        /* dwords through the 32-bit data port path */
        for (int i = 0; i < 512; i += 4) {
            uint32_t v = bus_io_read(f.bus, P_DATA, 4);
            memcpy(buf + i, &v, 4);
        }
        CHECK(sector_matches(buf, 100 + s));
    }
    CHECK_EQ(f.irqs.rises[14], rises + 3); /* no interrupt at the end of PIO-in */
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    CHECK_EQ(inb(f.bus, P_SECT), 102);
    fix_done(&f);
}

TEST(ide, pio_write_lba48_and_flush)
{
    IdeFix f;
    MemDisk *m = md_new(8 << 20, true, 512);
    fix_init(&f, m, NULL, NULL, NULL, 0);
    int rises = f.irqs.rises[14];
    ata_lba48(f.bus, 0x34, 0x1000, 2);
    CHECK_EQ(inb(f.bus, P_CMD), 0x58);
    CHECK_EQ(f.irqs.rises[14], rises); /* no interrupt before the first block */
    for (int i = 0; i < 256; i++)
        outw(f.bus, P_DATA, (uint16_t)(0xA500 + i));
    CHECK_EQ(f.irqs.rises[14], rises + 1);
    CHECK_EQ(inb(f.bus, P_CMD), 0x58);
    for (int i = 0; i < 128; i++)
        bus_io_write(f.bus, P_DATA, 0xDEADBEEF, 4);
    CHECK_EQ(f.irqs.rises[14], rises + 2);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    CHECK_EQ(m->data[0x1000 * 512], 0x00);
    CHECK_EQ(m->data[0x1000 * 512 + 1], 0xA5);
    CHECK_EQ(m->data[0x1000 * 512 + 511], 0xA5);
    CHECK_EQ(m->data[0x1001 * 512], 0xEF);
    CHECK_EQ(m->data[0x1001 * 512 + 3], 0xDE);
    CHECK(sector_matches(m->data + 0x1002 * 512, 0x1002));
    outb(f.bus, P_CMD, 0xE7);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    outb(f.bus, P_CMD, 0xEA);
    CHECK_EQ(m->flushes, 2);
    fix_done(&f);
}

TEST(ide, chs_addressing_and_init_params)
{
    IdeFix f;
    fix_init(&f, md_new(8 << 20, true, 512), NULL, NULL, NULL, 0);
    /* default translation 16/63: C=1 H=2 S=3 */
    outb(f.bus, P_SEL, 0xA2);
    outb(f.bus, P_NSECT, 1);
    outb(f.bus, P_SECT, 3);
    outb(f.bus, P_LCYL, 1);
    outb(f.bus, P_HCYL, 0);
    outb(f.bus, P_CMD, 0x20);
    uint8_t buf[512];
    read_bytes(f.bus, P_DATA, buf, 512);
    CHECK(sector_matches(buf, (1 * 16 + 2) * 63 + 2));
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors */
    outb(f.bus, P_SEL, 0xA3);
    outb(f.bus, P_NSECT, 17);
    outb(f.bus, P_CMD, 0x91);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    outb(f.bus, P_SEL, 0xA1);
    outb(f.bus, P_NSECT, 1);
    outb(f.bus, P_SECT, 5);
    outb(f.bus, P_LCYL, 2);
    outb(f.bus, P_CMD, 0x20);
    read_bytes(f.bus, P_DATA, buf, 512);
    CHECK(sector_matches(buf, (2 * 4 + 1) * 17 + 4));
    /* sector 0 names nothing */
    outb(f.bus, P_SECT, 0);
    outb(f.bus, P_CMD, 0x20);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR) & 0x10, 0x10);
    outb(f.bus, P_CMD, 0xEC);
    uint16_t w[256];
    read_words(f.bus, P_DATA, w, 256);
    CHECK_EQ(w[55], 4);
    CHECK_EQ(w[56], 17);
    CHECK_EQ(w[54], (8 << 20) / 512 / (4 * 17));
    fix_done(&f);
}

TEST(ide, read_write_multiple)
{
    IdeFix f;
    MemDisk *m = md_new(8 << 20, true, 512);
    fix_init(&f, m, NULL, NULL, NULL, 0);
    ata_lba28(f.bus, 0xC4, 10, 4); /* before SET MULTIPLE: aborts */
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR), 0x04);
    outb(f.bus, P_NSECT, 3);
    outb(f.bus, P_CMD, 0xC6); /* not a power of two */
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    outb(f.bus, P_NSECT, 4);
    outb(f.bus, P_CMD, 0xC6);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    int rises = f.irqs.rises[14];
    ata_lba28(f.bus, 0xC4, 20, 10);
    uint8_t buf[10 * 512];
    int blocks = 0;
    for (int off = 0; off < 10 * 512;) {
        CHECK_EQ(inb(f.bus, P_CMD), 0x58);
        blocks++;
        int n = off + 4 * 512 <= 10 * 512 ? 4 * 512 : 10 * 512 - off;
        read_bytes(f.bus, P_DATA, buf + off, n);
        off += n;
    }
    CHECK_EQ(blocks, 3);
    CHECK_EQ(f.irqs.rises[14], rises + 3);
    for (int s = 0; s < 10; s++)
        CHECK(sector_matches(buf + s * 512, 20 + s));
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    /* WRITE MULTIPLE EXT of 6 sectors: blocks 4 + 2, IRQ after each */
    rises = f.irqs.rises[14];
    ata_lba48(f.bus, 0x39, 40, 6);
    for (int i = 0; i < 6 * 256; i++) {
        if (i == 4 * 256) {
            CHECK_EQ(f.irqs.rises[14], rises + 1);
            CHECK_EQ(inb(f.bus, P_CMD), 0x58); /* acknowledges INTRQ */
        }
        outw(f.bus, P_DATA, 0x1111);
    }
    CHECK_EQ(f.irqs.rises[14], rises + 2);
    CHECK_EQ(m->data[45 * 512 + 511], 0x11);
    CHECK(sector_matches(m->data + 46 * 512, 46));
    outb(f.bus, P_CMD, 0xEC);
    uint16_t w[256];
    read_words(f.bus, P_DATA, w, 256);
    CHECK_EQ(w[59], 0x0104);
    fix_done(&f);
}

/* Builds a PRD table at `table` from (addr, bytes) pairs; bytes 65536 -> 0. */
static void prd_table(Bus *b, uint32_t table, const uint32_t *pairs, int n)
{
    for (int i = 0; i < n; i++) {
        uint8_t e[8];
        uint32_t a = pairs[2 * i], c = pairs[2 * i + 1] & 0xFFFF;
        memcpy(e, &a, 4);
        e[4] = (uint8_t)c;
        e[5] = (uint8_t)(c >> 8);
        e[6] = 0;
        e[7] = i == n - 1 ? 0x80 : 0;
        bus_dma_write(b, table + 8u * i, e, 8);
    }
}

TEST(ide, bmdma_read_scatter_gather)
{
    IdeFix f;
    fix_init(&f, md_new(8 << 20, true, 512), NULL, NULL, NULL, 0);
    uint32_t prds[] = {0x20000, 1536, 0x30000, 512};
    prd_table(f.bus, 0x10000, prds, 2);
    bus_io_write(f.bus, BM_BASE + 4, 0x10000, 4);
    outb(f.bus, BM_BASE + 2, 0x06); /* clear interrupt/error */
    ata_lba28(f.bus, 0xC8, 50, 4);
    CHECK_EQ(f.irqs.level[14], 0); /* nothing until the engine starts */
    outb(f.bus, BM_BASE, 0x09);   /* start, device -> memory */
    CHECK_EQ(f.irqs.level[14], 1);
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x07, 0x04); /* interrupt, not active */
    outb(f.bus, BM_BASE, 0x08);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    uint8_t *ram = bus_ram(f.bus);
    CHECK(sector_matches(ram + 0x20000, 50));
    CHECK(sector_matches(ram + 0x20000 + 1024, 52));
    CHECK(sector_matches(ram + 0x30000, 53));
    outb(f.bus, BM_BASE + 2, 0x04);
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x04, 0);
    fix_done(&f);
}

TEST(ide, bmdma_write_64k_prd_and_long_table)
{
    IdeFix f;
    MemDisk *m = md_new(8 << 20, true, 512);
    fix_init(&f, m, NULL, NULL, NULL, 0);
    uint8_t *ram = bus_ram(f.bus);
    for (int i = 0; i < 65536; i++)
        ram[0x100000 + i] = (uint8_t)(i * 3 + 1);
    uint32_t prds[] = {0x100000, 65536};
    prd_table(f.bus, 0x8000, prds, 1);
    bus_io_write(f.bus, BM_BASE + 4, 0x8000, 4);
    outb(f.bus, BM_BASE, 0x01);   /* engine first, memory -> device */
    ata_lba48(f.bus, 0x35, 1000, 128);
    CHECK_EQ(f.irqs.level[14], 1);
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x07, 0x04);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    CHECK(memcmp(m->data + 1000 * 512, ram + 0x100000, 65536) == 0);
    outb(f.bus, BM_BASE, 0x00);
    /* a PRD table longer than the transfer: interrupt with active still set */
    uint32_t prds2[] = {0x40000, 4096, 0x50000, 4096};
    prd_table(f.bus, 0x9000, prds2, 2);
    bus_io_write(f.bus, BM_BASE + 4, 0x9000, 4);
    outb(f.bus, BM_BASE + 2, 0x06);
    ata_lba28(f.bus, 0xC8, 0, 2);
    outb(f.bus, BM_BASE, 0x09);
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x07, 0x05);
    CHECK(sector_matches(ram + 0x40200, 1));
    outb(f.bus, BM_BASE, 0x08);
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x01, 0);
    fix_done(&f);
}

TEST(ide, bmdma_short_table_stalls_without_interrupt)
{
    IdeFix f;
    fix_init(&f, md_new(8 << 20, true, 512), NULL, NULL, NULL, 0);
    uint32_t prds[] = {0x20000, 512};
    prd_table(f.bus, 0x10000, prds, 1);
    bus_io_write(f.bus, BM_BASE + 4, 0x10000, 4);
    ata_lba28(f.bus, 0xC8, 0, 4);
    outb(f.bus, BM_BASE, 0x09);
    CHECK_EQ(inb(f.bus, BM_BASE + 2) & 0x07, 0x00);
    CHECK_EQ(f.irqs.level[14], 0);
    CHECK_EQ(inb(f.bus, P_CTL) & 0x08, 0x08); /* the drive still wants to transfer */
    outb(f.bus, BM_BASE, 0x00);
    /* software reset recovers the channel */
    outb(f.bus, P_CTL, 0x04);
    outb(f.bus, P_CTL, 0x00);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    fix_done(&f);
}

TEST(ide, errors_idnf_abrt_unc_readonly)
{
    IdeFix f;
    MemDisk *m = md_new(1 << 20, true, 512);
    fix_init(&f, m, NULL, NULL, NULL, 0);
    ata_lba28(f.bus, 0x20, 2047, 2); /* runs past the end */
    CHECK_EQ(f.irqs.level[14], 1);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR) & 0x10, 0x10);
    ata_lba48(f.bus, 0x25, 1ull << 40, 1);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR) & 0x10, 0x10);
    outb(f.bus, P_CMD, 0xFF); /* unknown */
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR), 0x04);
    outb(f.bus, P_CMD, 0xA1); /* IDENTIFY PACKET on a disk */
    CHECK_EQ(inb(f.bus, P_ERR), 0x04);
    m->fail_lba = 7;
    ata_lba28(f.bus, 0x20, 5, 4);
    uint8_t buf[512];
    read_bytes(f.bus, P_DATA, buf, 512);
    read_bytes(f.bus, P_DATA, buf, 512);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR), 0x40); /* UNC */
    CHECK_EQ(inb(f.bus, P_SECT), 7);   /* the failing sector */
    m->fail_lba = -1;
    m->bd.readonly = true;
    ata_lba28(f.bus, 0x30, 5, 1);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR), 0x04);
    ata_lba28(f.bus, 0x40, 5, 8); /* READ VERIFY is fine on read-only media */
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    fix_done(&f);
}

TEST(ide, set_features_and_power)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), NULL, NULL, NULL, 0);
    outb(f.bus, P_SEL, 0xA0);
    outb(f.bus, P_ERR, 0x03);
    outb(f.bus, P_NSECT, 0x22); /* MWDMA 2 */
    outb(f.bus, P_CMD, 0xEF);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    outb(f.bus, P_NSECT, 0x47); /* UDMA 7 does not exist */
    outb(f.bus, P_CMD, 0xEF);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    outb(f.bus, P_ERR, 0x82); /* write cache off */
    outb(f.bus, P_CMD, 0xEF);
    outb(f.bus, P_CMD, 0xEC);
    uint16_t w[256];
    read_words(f.bus, P_DATA, w, 256);
    CHECK_EQ(w[63] & 0x0700, 0x0400);
    CHECK_EQ(w[88] & 0xFF00, 0);
    CHECK_EQ(w[85] & 0x20, 0);
    outb(f.bus, P_NSECT, 0);
    outb(f.bus, P_CMD, 0xE5);
    CHECK_EQ(inb(f.bus, P_NSECT), 0xFF);
    outb(f.bus, P_CMD, 0xE0);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    outb(f.bus, P_CMD, 0x10); /* RECALIBRATE */
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    fix_done(&f);
}

TEST(ide, absent_devices_read_zero)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), NULL, NULL, NULL, 0);
    outb(f.bus, P_SEL, 0xB0); /* slave: absent */
    CHECK_EQ(inb(f.bus, P_CMD), 0x00);
    CHECK_EQ(inb(f.bus, P_CTL), 0x00);
    outb(f.bus, P_NSECT, 0x55);
    outb(f.bus, P_SECT, 0xAA);
    CHECK_EQ(inb(f.bus, P_NSECT), 0x00);
    CHECK_EQ(inb(f.bus, P_SECT), 0x00);
    outb(f.bus, P_CMD, 0xEC); /* ignored */
    CHECK_EQ(f.irqs.level[14], 0);
    outb(f.bus, P_SEL, 0xA0); /* master latched the bytes too */
    CHECK_EQ(inb(f.bus, P_NSECT), 0x55);
    CHECK_EQ(inb(f.bus, P_SECT), 0xAA);
    /* empty secondary channel */
    CHECK_EQ(inb(f.bus, S_BASE + 7), 0x00);
    outb(f.bus, S_BASE + 2, 0x55);
    CHECK_EQ(inb(f.bus, S_BASE + 2), 0x00);
    fix_done(&f);
}

TEST(ide, srst_and_diagnostic_signatures)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), md_new(4 << 20, true, 2048), NULL, NULL, 0x2);
    outb(f.bus, P_CTL, 0x04);
    CHECK_EQ(inb(f.bus, P_CTL) & 0x80, 0x80);
    outb(f.bus, P_CTL, 0x00);
    CHECK_EQ(f.irqs.level[14], 0);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    CHECK_EQ(inb(f.bus, P_NSECT), 1);
    CHECK_EQ(inb(f.bus, P_SECT), 1);
    CHECK_EQ(inb(f.bus, P_LCYL), 0);
    CHECK_EQ(inb(f.bus, P_HCYL), 0);
    CHECK_EQ(inb(f.bus, P_ERR), 1);
    outb(f.bus, P_SEL, 0xB0);
    CHECK_EQ(inb(f.bus, P_LCYL), 0x14);
    CHECK_EQ(inb(f.bus, P_HCYL), 0xEB);
    CHECK_EQ(inb(f.bus, P_CMD), 0x00);
    /* IDENTIFY DEVICE on the packet device aborts and keeps the signature */
    outb(f.bus, P_CMD, 0xEC);
    CHECK_EQ(inb(f.bus, P_CMD) & 0x01, 0x01);
    CHECK_EQ(inb(f.bus, P_LCYL), 0x14);
    CHECK_EQ(inb(f.bus, P_HCYL), 0xEB);
    /* EXECUTE DEVICE DIAGNOSTIC: both signatures, device 0 interrupts */
    outb(f.bus, P_LCYL, 0x33);
    outb(f.bus, P_CMD, 0x90);
    CHECK_EQ(f.irqs.level[14], 1);
    CHECK_EQ(inb(f.bus, P_SEL) & 0x10, 0);
    CHECK_EQ(inb(f.bus, P_ERR), 0x01);
    CHECK_EQ(inb(f.bus, P_LCYL), 0x00);
    outb(f.bus, P_SEL, 0xB0);
    CHECK_EQ(inb(f.bus, P_LCYL), 0x14);
    /* nIEN masks INTRQ */
    outb(f.bus, P_CTL, 0x02);
    outb(f.bus, P_SEL, 0xA0);
    outb(f.bus, P_CMD, 0xE5);
    CHECK_EQ(f.irqs.level[14], 0);
    outb(f.bus, P_CTL, 0x00);
    CHECK_EQ(f.irqs.level[14], 1);
    fix_done(&f);
}

TEST(ide, hob_register_history)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), NULL, NULL, NULL, 0);
    outb(f.bus, P_NSECT, 0x12);
    outb(f.bus, P_NSECT, 0x34);
    CHECK_EQ(inb(f.bus, P_NSECT), 0x34);
    outb(f.bus, P_CTL, 0x80);
    CHECK_EQ(inb(f.bus, P_NSECT), 0x12);
    outb(f.bus, P_LCYL, 0x99); /* a register write clears HOB */
    CHECK_EQ(inb(f.bus, P_NSECT), 0x34);
    fix_done(&f);
}

TEST(ide, save_load_mid_transfer)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), NULL, NULL, NULL, 0);
    ata_lba28(f.bus, 0x20, 3, 2);
    uint8_t buf[512];
    read_bytes(f.bus, P_DATA, buf, 100);
    CHECK_EQ(chiptest_roundtrip(&ide_device_class, f.ide), 0);
    read_bytes(f.bus, P_DATA, buf + 100, 412);
    CHECK(sector_matches(buf, 3));
    read_bytes(f.bus, P_DATA, buf, 512);
    CHECK(sector_matches(buf, 4));
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    fix_done(&f);
}

TEST(ide, register_fuzz_never_crashes)
{
    IdeFix f;
    fix_init(&f, md_new(1 << 20, true, 512), md_new(1 << 20, true, 2048), md_new(1 << 20, true, 512), NULL,
             0x2);
    uint32_t seed = 0x1DE5EED;
    static const uint16_t ports[] = {0x1F0, 0x1F1, 0x1F2, 0x1F3, 0x1F4, 0x1F5, 0x1F6, 0x1F7, 0x3F6,
                                     0x170, 0x171, 0x172, 0x173, 0x174, 0x175, 0x176, 0x177, 0x376,
                                     BM_BASE, BM_BASE + 2, BM_BASE + 4, BM_BASE + 8, BM_BASE + 10, BM_BASE + 12};
    for (int i = 0; i < 200000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port = ports[r % (sizeof ports / sizeof ports[0])];
        unsigned width = 1u << ((r >> 8) % 3);
        if (r & 0x40000000)
            bus_io_read(f.bus, port, width);
        else
            bus_io_write(f.bus, port, chiptest_rand(&seed), width);
    }
    /* after a reset the channel works again */
    outb(f.bus, BM_BASE, 0);
    outb(f.bus, P_CTL, 0x04);
    outb(f.bus, P_CTL, 0x00);
    outb(f.bus, P_SEL, 0xA0);
    outb(f.bus, P_CMD, 0xEC);
    CHECK_EQ(inb(f.bus, P_CMD), 0x58);
    uint16_t w[256];
    read_words(f.bus, P_DATA, w, 256);
    CHECK_EQ(w[0], 0x0040);
    fix_done(&f);
}

/* ------------------------------------------------------------ ATAPI */

typedef struct Reply {
    uint8_t status, error, ireason;
    uint32_t len;
    int drq_blocks;
    uint8_t data[70000];
} Reply;

/* Sends a packet on the secondary master (PIO) and collects the reply. */
static void atapi_pio(IdeFix *f, const uint8_t cdb[12], uint16_t limit, Reply *r)
{
    Bus *b = f->bus;
    memset(r, 0, sizeof *r);
    outb(b, S_BASE + 6, 0xA0);
    outb(b, S_BASE + 1, 0x00);
    outb(b, S_BASE + 4, (uint8_t)limit);
    outb(b, S_BASE + 5, (uint8_t)(limit >> 8));
    outb(b, S_BASE + 7, 0xA0);
    uint8_t st = inb(b, S_BASE + 7);
    CHECK_EQ(st & 0x88, 0x08);
    CHECK_EQ(inb(b, S_BASE + 2) & 3, 1); /* CoD */
    for (int i = 0; i < 12; i += 2)
        outw(b, S_BASE, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
    for (int guard = 0; guard < 1000; guard++) {
        st = inb(b, S_BASE + 7);
        if (!(st & 0x08))
            break;
        uint8_t ir = inb(b, S_BASE + 2);
        uint32_t n = inb(b, S_BASE + 4) | (uint32_t)inb(b, S_BASE + 5) << 8;
        CHECK_EQ(ir & 3, 2); /* IO, data */
        if (limit)
            CHECK(n <= limit);
        r->drq_blocks++;
        read_bytes(b, S_BASE, r->data + r->len, (int)n);
        r->len += n;
    }
    r->status = st;
    r->error = inb(b, S_BASE + 1);
    r->ireason = inb(b, S_BASE + 2);
}

static void cdb_set(uint8_t *c, uint8_t op, uint32_t lba, uint32_t len16)
{
    memset(c, 0, 12);
    c[0] = op;
    c[2] = (uint8_t)(lba >> 24);
    c[3] = (uint8_t)(lba >> 16);
    c[4] = (uint8_t)(lba >> 8);
    c[5] = (uint8_t)lba;
    c[7] = (uint8_t)(len16 >> 8);
    c[8] = (uint8_t)len16;
}

static void fix_cd(IdeFix *f, MemDisk *cd)
{
    fix_init(f, md_new(1 << 20, true, 512), NULL, cd, NULL, 0x4);
}

/* Clears the power-on unit attention the way hosts do. */
static void clear_ua(IdeFix *f, Reply *r)
{
    uint8_t c[12] = {0};
    atapi_pio(f, c, 0xFFFE, r);
    c[0] = 0x03;
    c[4] = 18;
    atapi_pio(f, c, 0xFFFE, r);
}

TEST(atapi, identify_packet_device)
{
    IdeFix f;
    fix_cd(&f, md_new(2 << 20, true, 2048));
    outb(f.bus, S_BASE + 6, 0xA0);
    outb(f.bus, S_BASE + 7, 0xA1);
    CHECK_EQ(f.irqs.level[15], 1);
    CHECK_EQ(inb(f.bus, S_BASE + 7) & 0x08, 0x08);
    uint16_t w[256];
    read_words(f.bus, S_BASE, w, 256);
    CHECK_EQ(w[0], 0x85C0);
    char s[48];
    ident_string(w, 27, 20, s);
    CHECK_STR(s, "VSX CD-ROM");
    CHECK_EQ(w[49] & 0x0200, 0x0200);
    fix_done(&f);
}

TEST(atapi, unit_attention_after_reset_then_request_sense)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    uint8_t c[12] = {0};
    atapi_pio(&f, c, 0xFFFE, r); /* TEST UNIT READY */
    CHECK_EQ(r->status & 0x01, 0x01);
    CHECK_EQ(r->error, 0x64);    /* UNIT ATTENTION, ABRT */
    CHECK_EQ(r->ireason, 3);
    c[0] = 0x03;
    c[4] = 18;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 0x01, 0);
    CHECK_EQ(r->len, 18);
    CHECK_EQ(r->data[0], 0x70);
    CHECK_EQ(r->data[2], 0x06);
    CHECK_EQ(r->data[12], 0x29);
    memset(c, 0, 12);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 0x01, 0);
    CHECK_EQ(r->status & 0x40, 0x40);
    /* a software reset brings it back */
    outb(f.bus, S_CTL, 0x04);
    outb(f.bus, S_CTL, 0x00);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error >> 4, 0x06);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 0x01, 0);
    free(r);
    fix_done(&f);
}

TEST(atapi, inquiry_and_read_capacity)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    uint8_t c[12] = {0x12, 0, 0, 0, 36};
    atapi_pio(&f, c, 0xFFFE, r); /* INQUIRY runs despite the unit attention */
    CHECK_EQ(r->status & 0x01, 0);
    CHECK_EQ(r->len, 36);
    CHECK_EQ(r->data[0], 0x05);
    CHECK_EQ(r->data[1], 0x80);
    CHECK(memcmp(r->data + 8, "VSX     ", 8) == 0);
    CHECK(memcmp(r->data + 16, "VSX CD-ROM      ", 16) == 0);
    clear_ua(&f, r);
    cdb_set(c, 0x25, 0, 0);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 8);
    uint32_t last = (uint32_t)r->data[0] << 24 | r->data[1] << 16 | r->data[2] << 8 | r->data[3];
    CHECK_EQ(last, (2 << 20) / 2048 - 1);
    CHECK_EQ(r->data[6], 0x08);
    CHECK_EQ(r->data[7], 0x00);
    free(r);
    fix_done(&f);
}

TEST(atapi, read10_pio_with_byte_count_limit)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    clear_ua(&f, r);
    uint8_t c[12];
    cdb_set(c, 0x28, 5, 1);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 0x01, 0);
    CHECK_EQ(r->len, 2048);
    for (int s = 0; s < 4; s++)
        CHECK(sector_matches(r->data + s * 512, 5 * 4 + s));
    CHECK_EQ(r->ireason, 3);
    /* three blocks with a limit of one block: three DRQ phases */
    cdb_set(c, 0x28, 10, 3);
    atapi_pio(&f, c, 2048, r);
    CHECK_EQ(r->len, 3 * 2048);
    CHECK_EQ(r->drq_blocks, 3);
    CHECK(sector_matches(r->data + 2 * 2048 + 3 * 512, 12 * 4 + 3));
    /* READ(12) */
    memset(c, 0, 12);
    c[0] = 0xA8;
    c[5] = 7;
    c[9] = 2;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 4096);
    CHECK(sector_matches(r->data + 4096 - 512, 8 * 4 + 3));
    /* READ CD, user data only */
    memset(c, 0, 12);
    c[0] = 0xBE;
    c[5] = 3;
    c[8] = 1;
    c[9] = 0x10;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 2048);
    CHECK(sector_matches(r->data, 12));
    free(r);
    fix_done(&f);
}

TEST(atapi, errors_and_sense)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    clear_ua(&f, r);
    uint8_t c[12];
    cdb_set(c, 0x28, 1023, 2); /* past the end */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 0x01, 1);
    CHECK_EQ(r->error, 0x54);
    c[0] = 0x03;
    memset(c + 1, 0, 11);
    c[4] = 18;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[2], 0x05);
    CHECK_EQ(r->data[12], 0x21);
    atapi_pio(&f, c, 0xFFFE, r); /* sense is cleared once read */
    CHECK_EQ(r->data[2], 0x00);
    memset(c, 0, 12);
    c[0] = 0xFF;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    c[0] = 0x03;
    c[4] = 18;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[12], 0x20);
    memset(c, 0, 12);
    c[0] = 0x5A;
    c[2] = 0x22; /* no such mode page */
    c[8] = 64;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    c[0] = 0x03;
    c[2] = 0;
    c[4] = 18;
    c[8] = 0;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[12], 0x24);
    free(r);
    fix_done(&f);
}

TEST(atapi, no_medium_and_eject_lock)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_init(&f, NULL, NULL, NULL, NULL, 0x4); /* empty drive */
    clear_ua(&f, r);
    uint8_t c[12] = {0};
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x24); /* NOT READY */
    c[0] = 0x03;
    c[4] = 18;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[2], 0x02);
    CHECK_EQ(r->data[12], 0x3A);
    fix_done(&f);

    fix_cd(&f, md_new(2 << 20, true, 2048));
    clear_ua(&f, r);
    memset(c, 0, 12);
    c[0] = 0x1E;
    c[4] = 1; /* prevent */
    atapi_pio(&f, c, 0xFFFE, r);
    c[0] = 0x1B;
    c[4] = 0x02; /* eject */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    c[0] = 0x1E;
    c[4] = 0;
    atapi_pio(&f, c, 0xFFFE, r);
    c[0] = 0x1B;
    c[4] = 0x02;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 0x01, 0);
    memset(c, 0, 12);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x24);
    c[0] = 0x1B;
    c[4] = 0x03; /* load */
    atapi_pio(&f, c, 0xFFFE, r);
    memset(c, 0, 12);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x64); /* medium may have changed */
    c[0] = 0x03;
    c[4] = 18;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[12], 0x28);
    /* GESN: new media event, reported once */
    memset(c, 0, 12);
    c[0] = 0x4A;
    c[1] = 1;
    c[4] = 0x10;
    c[8] = 8;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 8);
    CHECK_EQ(r->data[2], 0x04);
    CHECK_EQ(r->data[4], 0x02);
    CHECK_EQ(r->data[5], 0x02);
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[4], 0x00);
    free(r);
    fix_done(&f);
}

TEST(atapi, read_toc_formats)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    uint32_t blocks = (4 << 20) / 2048;
    fix_cd(&f, md_new(4 << 20, true, 2048));
    clear_ua(&f, r);
    uint8_t c[12] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100};
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 20);
    CHECK_EQ(r->data[1], 18);
    CHECK_EQ(r->data[2], 1);
    CHECK_EQ(r->data[3], 1);
    CHECK_EQ(r->data[5], 0x14);
    CHECK_EQ(r->data[6], 1);
    CHECK_EQ(r->data[14], 0xAA);
    CHECK_EQ((uint32_t)r->data[16] << 24 | r->data[17] << 16 | r->data[18] << 8 | r->data[19], blocks);
    c[1] = 0x02; /* MSF */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[9], 0);
    CHECK_EQ(r->data[10], 2); /* 00:02:00 */
    CHECK_EQ(r->data[11], 0);
    uint32_t fr = blocks + 150;
    CHECK_EQ(r->data[17], fr / 4500);
    CHECK_EQ(r->data[18], (fr / 75) % 60);
    CHECK_EQ(r->data[19], fr % 75);
    c[1] = 0;
    c[2] = 1; /* session info */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 12);
    CHECK_EQ(r->data[6], 1);
    c[2] = 2; /* full TOC */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 4 + 4 * 11);
    CHECK_EQ(r->data[4 + 3], 0xA0);
    CHECK_EQ(r->data[4 + 22 + 3], 0xA2);
    CHECK_EQ(r->data[4 + 22 + 8], fr / 4500);
    c[2] = 5; /* unsupported format */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    free(r);
    fix_done(&f);
}

TEST(atapi, mode_sense_configuration_and_misc)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    clear_ua(&f, r);
    uint8_t c[12] = {0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 128};
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 8 + 22);
    CHECK_EQ(r->data[8], 0x2A);
    CHECK_EQ(r->data[9], 20);
    c[2] = 0x3F;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 8 + 8 + 8 + 16 + 22);
    CHECK_EQ(r->data[1], r->len - 2);
    c[2] = 0xC1; /* saved values */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    memset(c, 0, 12);
    c[0] = 0x46; /* GET CONFIGURATION */
    c[8] = 255;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[6] << 8 | r->data[7], 0x0008); /* CD-ROM profile */
    CHECK_EQ((uint32_t)r->data[3] + 4, r->len);
    memset(c, 0, 12);
    c[0] = 0x51;
    c[8] = 34;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 34);
    CHECK_EQ(r->data[2], 0x0E);
    memset(c, 0, 12);
    c[0] = 0x52; /* READ TRACK INFORMATION, track 1 */
    c[1] = 1;
    c[5] = 1;
    c[8] = 36;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 36);
    CHECK_EQ(r->data[2], 1);
    CHECK_EQ((uint32_t)r->data[26] << 8 | r->data[27], (2 << 20) / 2048);
    c[5] = 2; /* no track 2 */
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    memset(c, 0, 12);
    c[0] = 0xBD;
    c[9] = 8;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 8);
    memset(c, 0, 12);
    c[0] = 0xBB;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->status & 1, 0);
    c[0] = 0x55; /* MODE SELECT with 8 bytes of data */
    c[8] = 8;
    Bus *b = f.bus;
    outb(b, S_BASE + 4, 0xFE);
    outb(b, S_BASE + 5, 0xFF);
    outb(b, S_BASE + 7, 0xA0);
    for (int i = 0; i < 12; i += 2)
        outw(b, S_BASE, (uint16_t)(c[i] | c[i + 1] << 8));
    CHECK_EQ(inb(b, S_BASE + 7) & 0x08, 0x08);
    CHECK_EQ(inb(b, S_BASE + 2) & 3, 0); /* data from the host */
    for (int i = 0; i < 4; i++)
        outw(b, S_BASE, 0);
    CHECK_EQ(inb(b, S_BASE + 7) & 0x09, 0);
    free(r);
    fix_done(&f);
}

TEST(atapi, dvd_profile_for_big_media)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    MemDisk *dvd = md_new(1ull << 30, false, 2048);
    fix_cd(&f, dvd);
    clear_ua(&f, r);
    uint8_t c[12] = {0x46, 0, 0, 0, 0, 0, 0, 0, 255};
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->data[6] << 8 | r->data[7], 0x0010);
    free(r);
    fix_done(&f);
}

TEST(atapi, read10_via_bus_master_dma)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    clear_ua(&f, r);
    Bus *b = f.bus;
    uint32_t prds[] = {0x60000, 4096, 0x70000, 2048};
    prd_table(b, 0x5000, prds, 2);
    bus_io_write(b, BM_BASE + 8 + 4, 0x5000, 4);
    outb(b, BM_BASE + 8 + 2, 0x06);
    uint8_t c[12];
    cdb_set(c, 0x28, 20, 3);
    outb(b, S_BASE + 6, 0xA0);
    outb(b, S_BASE + 1, 0x01); /* DMA */
    outb(b, S_BASE + 7, 0xA0);
    for (int i = 0; i < 12; i += 2)
        outw(b, S_BASE, (uint16_t)(c[i] | c[i + 1] << 8));
    outb(b, BM_BASE + 8, 0x09);
    CHECK_EQ(f.irqs.level[15], 1);
    CHECK_EQ(inb(b, BM_BASE + 8 + 2) & 0x07, 0x04);
    outb(b, BM_BASE + 8, 0x08);
    CHECK_EQ(inb(b, S_BASE + 7) & 0x89, 0x00);
    CHECK_EQ(inb(b, S_BASE + 2), 3);
    uint8_t *ram = bus_ram(b);
    CHECK(sector_matches(ram + 0x60000, 80));
    CHECK(sector_matches(ram + 0x60000 + 4096 - 512, 87));
    CHECK(sector_matches(ram + 0x70000 + 1536, 91));
    free(r);
    fix_done(&f);
}

TEST(atapi, device_reset_signature_and_unit_attention)
{
    IdeFix f;
    Reply *r = malloc(sizeof *r);
    fix_cd(&f, md_new(2 << 20, true, 2048));
    clear_ua(&f, r);
    outb(f.bus, S_BASE + 6, 0xA0);
    outb(f.bus, S_BASE + 4, 0x00);
    outb(f.bus, S_BASE + 7, 0x08); /* DEVICE RESET */
    CHECK_EQ(f.irqs.level[15], 0);  /* no interrupt */
    CHECK_EQ(inb(f.bus, S_BASE + 4), 0x14);
    CHECK_EQ(inb(f.bus, S_BASE + 5), 0xEB);
    CHECK_EQ(inb(f.bus, S_BASE + 1), 0x01);
    uint8_t c[12] = {0};
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x64);
    /* GESN must be polled; the asynchronous form is an invalid field */
    c[0] = 0x4A;
    c[4] = 0x10;
    c[8] = 8;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->error, 0x54);
    /* MODE SENSE(6) of the capabilities page */
    memset(c, 0, 12);
    c[0] = 0x1A;
    c[2] = 0x2A;
    c[4] = 0xFF;
    atapi_pio(&f, c, 0xFFFE, r);
    CHECK_EQ(r->len, 4 + 22);
    CHECK_EQ(r->data[0], 4 + 22 - 1);
    CHECK_EQ(r->data[4], 0x2A);
    /* an ATA-only command on the packet device aborts */
    outb(f.bus, S_BASE + 7, 0x20);
    CHECK_EQ(inb(f.bus, S_BASE + 7) & 0x01, 0x01);
    CHECK_EQ(inb(f.bus, S_BASE + 1) & 0x04, 0x04);
    free(r);
    fix_done(&f);
}

TEST(ide, verify_seek_and_chs_dma)
{
    IdeFix f;
    MemDisk *m = md_new(8 << 20, true, 512);
    fix_init(&f, m, NULL, NULL, NULL, 0);
    ata_lba48(f.bus, 0x42, 16000, 384); /* READ VERIFY EXT */
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    ata_lba48(f.bus, 0x42, 16000, 385); /* one past the end */
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    CHECK_EQ(inb(f.bus, P_ERR) & 0x10, 0x10);
    ata_lba28(f.bus, 0x70, 1234, 0); /* SEEK */
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    ata_lba28(f.bus, 0x70, 1u << 27, 0);
    CHECK_EQ(inb(f.bus, P_CMD), 0x51);
    /* READ DMA with a CHS address: C=0 H=1 S=1 is sector 63 */
    uint32_t prds[] = {0x20000, 1024};
    prd_table(f.bus, 0x10000, prds, 1);
    bus_io_write(f.bus, BM_BASE + 4, 0x10000, 4);
    outb(f.bus, P_SEL, 0xA1);
    outb(f.bus, P_NSECT, 2);
    outb(f.bus, P_SECT, 1);
    outb(f.bus, P_LCYL, 0);
    outb(f.bus, P_HCYL, 0);
    outb(f.bus, P_CMD, 0xC8);
    outb(f.bus, BM_BASE, 0x09);
    CHECK_EQ(inb(f.bus, P_CMD), 0x50);
    CHECK(sector_matches(bus_ram(f.bus) + 0x20000, 63));
    CHECK(sector_matches(bus_ram(f.bus) + 0x20200, 64));
    /* with bus mastering disabled in PCI COMMAND nothing moves */
    outb(f.bus, BM_BASE, 0x00);
    pci_cfg_write32(f.bus, 0x09, 0x04, 0x0001);
    memset(bus_ram(f.bus) + 0x20000, 0, 1024);
    ata_lba28(f.bus, 0xC8, 0, 2);
    outb(f.bus, BM_BASE, 0x09);
    CHECK_EQ(inb(f.bus, P_CTL) & 0x08, 0x08);
    CHECK_EQ(bus_ram(f.bus)[0x20001], 0);
    fix_done(&f);
}
