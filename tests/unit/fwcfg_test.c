/* tests/unit/fwcfg_test.c -- fw_cfg: signature, feature bits, file directory,
 * byte reads past the end, DMA read/skip/select into RAM, bad descriptors. */
#include <errno.h>

#include "chiptest.h"

static void fw_select(Bus *b, uint16_t key) { bus_io_write(b, 0x510, key, 2); }
static uint8_t fw_byte(Bus *b) { return (uint8_t)bus_io_read(b, 0x511, 1); }

static void fw_read(Bus *b, uint16_t key, uint8_t *out, size_t n)
{
    fw_select(b, key);
    for (size_t i = 0; i < n; i++)
        out[i] = fw_byte(b);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Writes a descriptor at `desc` and starts it the way SeaBIOS does: the
 * big-endian address in two 32-bit halves, low half last. */
static uint32_t fw_dma(Bus *b, uint64_t desc, uint32_t control, uint32_t len, uint64_t addr)
{
    uint8_t d[16];
    put_be32(d, control);
    put_be32(d + 4, len);
    put_be32(d + 8, (uint32_t)(addr >> 32));
    put_be32(d + 12, (uint32_t)addr);
    bus_dma_write(b, desc, d, sizeof d);
    bus_io_write(b, 0x514, __builtin_bswap32((uint32_t)(desc >> 32)), 4);
    bus_io_write(b, 0x518, __builtin_bswap32((uint32_t)desc), 4);
    uint8_t st[4];
    bus_dma_read(b, desc, st, 4);
    return be32(st);
}

typedef struct FwRig {
    Bus *bus;
    FwCfg *fw;
} FwRig;

static void fw_open(FwRig *r)
{
    r->bus = bus_create(16u << 20, NULL);
    r->fw = fwcfg_create(r->bus);
}

static void fw_close(FwRig *r)
{
    if (r->fw)
        fwcfg_device_class.destroy(r->fw);
    bus_destroy(r->bus);
}

TEST(fwcfg, signature_id_and_defaults)
{
    FwRig r;
    fw_open(&r);
    CHECK(r.fw != NULL);
    uint8_t sig[6];
    fw_read(r.bus, 0x0000, sig, 6);
    CHECK(memcmp(sig, "QEMU\0\0", 6) == 0); /* past the end reads 0 */
    uint8_t id[4];
    fw_read(r.bus, 0x0001, id, 4);
    CHECK_EQ(id[0], 0x03); /* traditional + DMA */
    uint8_t ram[8];
    fw_read(r.bus, 0x0003, ram, 8);
    CHECK_EQ(ram[3], 0x01); /* 16 MiB, little-endian */
    CHECK_EQ(ram[2], 0x00);
    fw_select(r.bus, 0x1234);
    CHECK_EQ(fw_byte(r.bus), 0); /* unknown key */
    /* The DMA register reads back the signature "QEMU CFG". */
    CHECK_EQ(bus_io_read(r.bus, 0x514, 4), 0x554D4551);
    CHECK_EQ(bus_io_read(r.bus, 0x518, 4), 0x47464320);
    CHECK_EQ(bus_io_read(r.bus, 0x51B, 1), 'G');
    /* fwcfg_set replaces a fixed item. */
    uint8_t cpus[2] = {4, 0};
    fwcfg_set(r.fw, 0x0005, cpus, 2);
    uint8_t got[2];
    fw_read(r.bus, 0x0005, got, 2);
    CHECK_EQ(got[0], 4);
    const char *cmdline = "console=ttyS0";
    fwcfg_set(r.fw, 0x0015, cmdline, strlen(cmdline) + 1);
    char s[32] = {0};
    fw_read(r.bus, 0x0015, (uint8_t *)s, sizeof s - 1);
    CHECK_STR(s, "console=ttyS0");
    fw_close(&r);
}

TEST(fwcfg, file_directory)
{
    FwRig r;
    fw_open(&r);
    uint8_t e820[20] = {0};
    e820[9] = 0x10; /* len 1 MiB... whatever: just bytes */
    CHECK_EQ(fwcfg_add_file(r.fw, "etc/e820", e820, sizeof e820), 0);
    CHECK_EQ(fwcfg_add_file(r.fw, "bootorder", "/pci@i0cf8/ide@1,1\n", 20), 0);
    CHECK_EQ(fwcfg_add_file(r.fw, "bootorder", "x", 1), -EEXIST);
    char longname[80];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK_EQ(fwcfg_add_file(r.fw, longname, "x", 1), -EINVAL);
    uint8_t dir[4 + 2 * 64];
    fw_read(r.bus, 0x0019, dir, sizeof dir);
    CHECK_EQ(be32(dir), 2);
    const uint8_t *e = dir + 4;
    CHECK_EQ(be32(e), 20);
    CHECK_EQ(e[4] << 8 | e[5], 0x0020);
    CHECK_STR((const char *)e + 8, "etc/e820");
    e += 64;
    CHECK_EQ(be32(e), 20);
    uint16_t key = (uint16_t)(e[4] << 8 | e[5]);
    CHECK_EQ(key, 0x0021);
    CHECK_STR((const char *)e + 8, "bootorder");
    char boot[21] = {0};
    fw_read(r.bus, key, (uint8_t *)boot, 20);
    CHECK_STR(boot, "/pci@i0cf8/ide@1,1\n");
    fw_close(&r);
}

TEST(fwcfg, dma_read_select_skip)
{
    FwRig r;
    fw_open(&r);
    Bus *b = r.bus;
    uint8_t data[300];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i ^ 0x5A);
    CHECK_EQ(fwcfg_add_file(r.fw, "etc/test", data, sizeof data), 0);
    uint8_t *ram = bus_ram(b);
    memset(ram + 0x2000, 0xEE, 0x1000);
    /* select 0x20 + read 100 bytes */
    CHECK_EQ(fw_dma(b, 0x1000, 0x0020u << 16 | 0x08 | 0x02, 100, 0x2000), 0);
    CHECK(memcmp(ram + 0x2000, data, 100) == 0);
    CHECK_EQ(ram[0x2000 + 100], 0xEE);
    /* continue: skip 50, then read the rest and 10 bytes past the end */
    CHECK_EQ(fw_dma(b, 0x1000, 0x04, 50, 0), 0);
    CHECK_EQ(fw_dma(b, 0x1000, 0x02, 160, 0x2800), 0);
    CHECK(memcmp(ram + 0x2800, data + 150, 150) == 0);
    for (int i = 150; i < 160; i++)
        CHECK_EQ(ram[0x2800 + i], 0); /* zero padding */
    CHECK_EQ(ram[0x2800 + 160], 0xEE);
    /* The byte port sees the same offset: at the end now. */
    CHECK_EQ(fw_byte(b), 0);
    /* Writes are refused with the error bit. */
    CHECK_EQ(fw_dma(b, 0x1000, 0x0020u << 16 | 0x08 | 0x10, 4, 0x2000), 1);
    /* Signature through DMA, a descriptor above 4 GiB address halves zero. */
    CHECK_EQ(fw_dma(b, 0x1000, 0x0000u << 16 | 0x08 | 0x02, 4, 0x3000), 0);
    CHECK(memcmp(ram + 0x3000, "QEMU", 4) == 0);
    fw_close(&r);
}

TEST(fwcfg, dma_nonsense_is_bounded)
{
    FwRig r;
    fw_open(&r);
    Bus *b = r.bus;
    /* Descriptor outside RAM: reads all-ones (control = all bits), so the
     * device does whatever those bits say, to unassigned space. */
    (void)fw_dma(b, 0xF0000000ull, 0, 0, 0);
    /* A huge read of a short item to the end of RAM and beyond. */
    CHECK_EQ(fw_dma(b, 0x1000, 0x0000u << 16 | 0x08 | 0x02, 0xFFFFFFFFu, 0xFFF000), 0);
    CHECK(memcmp(bus_ram(b) + 0xFFF000, "QEMU", 4) == 0);
    /* A huge skip and an address that wraps. */
    CHECK_EQ(fw_dma(b, 0x1000, 0x04, 0xFFFFFFFFu, 0), 0);
    CHECK_EQ(fw_dma(b, 0x1000, 0x0001u << 16 | 0x08 | 0x02, 0x100, 0xFFFFFFFFFFFFFF80ull), 0);
    /* Byte-wise writes of the address work as well (last byte starts it). */
    uint8_t d[16] = {0, 0, 0, 0x0A, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0x40, 0};
    bus_dma_write(b, 0x1000, d, sizeof d);
    const uint8_t addr[8] = {0, 0, 0, 0, 0, 0, 0x10, 0x00};
    for (int i = 0; i < 8; i++)
        bus_io_write(b, (uint16_t)(0x514 + i), addr[i], 1);
    CHECK(memcmp(bus_ram(b) + 0x4000, "QEMU", 4) == 0);
    CHECK_EQ(bus_ram(b)[0x1003], 0);
    fw_close(&r);
}

TEST(fwcfg, reset_and_state)
{
    FwRig r;
    fw_open(&r);
    fw_select(r.bus, 0x0000);
    (void)fw_byte(r.bus);
    CHECK_EQ(chiptest_roundtrip(&fwcfg_device_class, r.fw), 0);
    CHECK_EQ(fw_byte(r.bus), 'E');
    fwcfg_device_class.reset(r.fw);
    CHECK_EQ(fw_byte(r.bus), 'Q'); /* selector 0, offset 0 after reset */
    fw_close(&r);
}

TEST(fwcfg, garbage_port_accesses)
{
    FwRig r;
    fw_open(&r);
    Bus *b = r.bus;
    CHECK_EQ(fwcfg_add_file(r.fw, "etc/e820", "0123456789abcdefghij", 20), 0);
    uint32_t seed = 777;
    for (int i = 0; i < 5000; i++) {
        uint16_t port = (uint16_t)(0x510 + chiptest_rand(&seed) % 12);
        unsigned width = 1u << (chiptest_rand(&seed) % 3);
        uint32_t v = chiptest_rand(&seed);
        if (v & 0x80000000u) /* descriptors anywhere in the first 64 KiB of RAM */
            v &= 0x0000FFF0u;
        if (chiptest_rand(&seed) & 1)
            bus_io_write(b, port, __builtin_bswap32(v), width);
        else
            (void)bus_io_read(b, port, width);
        if (i % 64 == 0) { /* scribble a random descriptor into RAM */
            uint8_t *ram = bus_ram(b);
            for (int k = 0; k < 16; k++)
                ram[(v & 0xFFF0u) + (unsigned)k] = (uint8_t)chiptest_rand(&seed);
        }
    }
    /* Still answers normally afterwards. */
    uint8_t sig[4];
    fw_read(b, 0x0000, sig, 4);
    CHECK(memcmp(sig, "QEMU", 4) == 0);
    fw_close(&r);
}
