/* tests/unit/bus_test.c -- the port-I/O bus and the physical memory map. */
#include <errno.h>
#include <stdlib.h>

#include "../../chipset/chipset.h"
#include "test.h"

typedef struct FakeDev {
    uint32_t last_off, last_val;
    unsigned last_width;
    int reads, writes;
    uint8_t regs[16];
} FakeDev;

static uint32_t fake_read(void *dev, uint32_t off, unsigned width)
{
    FakeDev *d = dev;
    d->reads++;
    d->last_off = off;
    d->last_width = width;
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)d->regs[(off + i) & 15] << (8 * i);
    return v;
}

static void fake_write(void *dev, uint32_t off, uint32_t value, unsigned width)
{
    FakeDev *d = dev;
    d->writes++;
    d->last_off = off;
    d->last_val = value;
    d->last_width = width;
    for (unsigned i = 0; i < width; i++)
        d->regs[(off + i) & 15] = (uint8_t)(value >> (8 * i));
}

static const IoOps byte_ops = {fake_read, fake_write, IO_W8, "bytes"};
static const IoOps dword_ops = {fake_read, fake_write, IO_W32, "dwords"};

TEST(bus, unclaimed_ports_read_all_ones)
{
    Bus *bus = bus_create(1 << 20, NULL);
    CHECK_EQ(bus_io_read(bus, 0x300, 1), 0xFF);
    CHECK_EQ(bus_io_read(bus, 0x300, 2), 0xFFFF);
    CHECK_EQ(bus_io_read(bus, 0x300, 4), 0xFFFFFFFFu);
    bus_io_write(bus, 0x300, 0x12, 1); /* dropped, no crash */
    bus_destroy(bus);
}

TEST(bus, overlapping_maps_refused)
{
    Bus *bus = bus_create(1 << 20, NULL);
    FakeDev a = {0}, b = {0};
    CHECK_EQ(bus_map_io(bus, 0x60, 1, &byte_ops, &a), 0);
    CHECK_EQ(bus_map_io(bus, 0x5F, 2, &byte_ops, &b), -EEXIST);
    CHECK_EQ(bus_map_io(bus, 0x61, 1, &byte_ops, &b), 0);
    bus_unmap_io(bus, 0x60, 1);
    CHECK_EQ(bus_map_io(bus, 0x60, 1, &byte_ops, &b), 0);
    bus_destroy(bus);
}

TEST(bus, offsets_are_relative_and_words_split_into_bytes)
{
    Bus *bus = bus_create(1 << 20, NULL);
    FakeDev d = {0};
    CHECK_EQ(bus_map_io(bus, 0x3F8, 8, &byte_ops, &d), 0);
    bus_io_write(bus, 0x3F9, 0xBEEF, 2);
    CHECK_EQ(d.regs[1], 0xEF);
    CHECK_EQ(d.regs[2], 0xBE);
    CHECK_EQ(d.writes, 2);
    CHECK_EQ(d.last_width, 1);
    CHECK_EQ(bus_io_read(bus, 0x3F9, 4), 0x0000BEEF);
    CHECK_EQ(d.reads, 4);
    /* A dword straddling the end of the region reads all-ones for the rest. */
    CHECK_EQ(bus_io_read(bus, 0x3FE, 4), 0xFFFF0000u);
    bus_destroy(bus);
}

TEST(bus, byte_read_of_dword_device_is_widened)
{
    Bus *bus = bus_create(1 << 20, NULL);
    FakeDev d = {.regs = {0x11, 0x22, 0x33, 0x44}};
    CHECK_EQ(bus_map_io(bus, 0xCFC, 4, &dword_ops, &d), 0);
    CHECK_EQ(bus_io_read(bus, 0xCFE, 1), 0x33);
    CHECK_EQ(d.last_width, 4);
    CHECK_EQ(d.last_off, 0);
    bus_destroy(bus);
}

TEST(bus, port_log_records_bytes)
{
    Bus *bus = bus_create(1 << 20, NULL);
    FILE *f = tmpfile();
    CHECK_EQ(bus_add_port_log(bus, 0x80, f), 0);
    bus_io_write(bus, 0x80, 0x42, 1);
    bus_io_write(bus, 0x7F, 0x4443, 2); /* byte 0x44 lands on 0x80 */
    rewind(f);
    char buf[8] = {0};
    CHECK_EQ(fread(buf, 1, sizeof buf, f), 2);
    CHECK_EQ(buf[0], 0x42);
    CHECK_EQ(buf[1], 0x44);
    fclose(f);
    bus_destroy(bus);
}

TEST(bus, ram_rom_and_unassigned)
{
    Bus *bus = bus_create(16 << 20, NULL);
    static uint8_t bios[0x20000];
    for (size_t i = 0; i < sizeof bios; i++)
        bios[i] = (uint8_t)(i * 7);
    CHECK_EQ(bus_set_bios(bus, bios, sizeof bios), 0);
    bus_mem_write(bus, 0x1000, 0x1122334455667788ull, 8);
    CHECK_EQ(bus_mem_read(bus, 0x1000, 8), 0x1122334455667788ull);
    CHECK_EQ(bus_ram(bus)[0x1000], 0x88);
    /* A value crossing a page boundary. */
    bus_mem_write(bus, 0x1FFE, 0xAABBCCDD, 4);
    CHECK_EQ(bus_mem_read(bus, 0x1FFE, 4), 0xAABBCCDD);
    /* Legacy VGA hole and beyond RAM: all-ones. */
    CHECK_EQ(bus_mem_read(bus, 0xA0000, 4), 0xFFFFFFFFu);
    CHECK_EQ(bus_mem_read(bus, 0x2000000, 2), 0xFFFF);
    /* BIOS: reset vector below 4 GiB and the legacy alias at 0xF0000. */
    CHECK_EQ(bus_mem_read(bus, 0xFFFFFFF0, 1), bios[0x1FFF0]);
    CHECK_EQ(bus_mem_read(bus, 0xFFFF0, 1), bios[0x1FFF0]);
    CHECK_EQ(bus_mem_read(bus, 0xE0000, 1), bios[0]);
    bus_mem_write(bus, 0xFFFF0, 0x99, 1); /* ROM: dropped */
    CHECK_EQ(bus_mem_read(bus, 0xFFFF0, 1), bios[0x1FFF0]);
    bus_destroy(bus);
}

TEST(bus, pam_shadowing_modes)
{
    Bus *bus = bus_create(16 << 20, NULL);
    static uint8_t bios[0x20000];
    memset(bios, 0x5A, sizeof bios);
    bus_set_bios(bus, bios, sizeof bios);
    /* Write-only to RAM: reads still come from ROM. */
    bus_set_shadow(bus, 0xF0000, 0x10000, false, true);
    bus_mem_write(bus, 0xF1234, 0xC3, 1);
    CHECK_EQ(bus_mem_read(bus, 0xF1234, 1), 0x5A);
    /* Read-enable: now the shadow copy shows. */
    bus_set_shadow(bus, 0xF0000, 0x10000, true, false);
    CHECK_EQ(bus_mem_read(bus, 0xF1234, 1), 0xC3);
    bus_mem_write(bus, 0xF1234, 0x00, 1); /* write-protected shadow */
    CHECK_EQ(bus_mem_read(bus, 0xF1234, 1), 0xC3);
    /* 0xC0000 with reads to ROM side and no option ROM: unassigned. */
    CHECK_EQ(bus_mem_read(bus, 0xC0000, 1), 0xFF);
    BusPage pg;
    bus_set_shadow(bus, 0xC0000, 0x4000, true, true);
    bus_page(bus, 0xC0000, &pg);
    CHECK(pg.read == bus_ram(bus) + 0xC0000);
    CHECK(pg.write == pg.read);
    bus_destroy(bus);
}

static int map_changes;
static void count_map_change(void *cpu)
{
    (void)cpu;
    map_changes++;
}

TEST(bus, a20_mask_and_map_changed_hook)
{
    Bus *bus = bus_create(4 << 20, NULL);
    BusCpuHooks hooks = {.map_changed = count_map_change};
    bus_set_cpu_hooks(bus, &hooks, NULL);
    map_changes = 0;
    CHECK(bus_a20(bus));
    bus_set_a20(bus, false);
    CHECK_EQ(bus_a20_mask(bus), ~(uint64_t)0x100000);
    CHECK_EQ(map_changes, 1);
    bus_set_a20(bus, false); /* no change, no flush */
    CHECK_EQ(map_changes, 1);
    bus_set_a20(bus, true);
    CHECK_EQ(bus_a20_mask(bus), ~0ull);
    CHECK_EQ(map_changes, 2);
    bus_set_shadow(bus, 0xE0000, 0x4000, true, true);
    CHECK_EQ(map_changes, 3);
    bus_destroy(bus);
}

static uint32_t mmio_read(void *dev, uint64_t off, unsigned width)
{
    FakeDev *d = dev;
    d->last_off = (uint32_t)off;
    d->last_width = width;
    return 0xA5A5A5A5u & (width == 4 ? ~0u : (1u << (8 * width)) - 1);
}
static void mmio_write(void *dev, uint64_t off, uint32_t value, unsigned width)
{
    fake_write(dev, (uint32_t)off, value, width);
}
static const MmioOps mmio_ops = {mmio_read, mmio_write, "fake"};

static uint64_t written_addr, written_len;
static void note_written(void *cpu, uint64_t paddr, uint64_t len)
{
    (void)cpu;
    written_addr = paddr;
    written_len = len;
}

TEST(bus, mmio_dispatch_and_dma_notifies_cpu)
{
    Bus *bus = bus_create(4 << 20, NULL);
    FakeDev d = {0};
    CHECK_EQ(bus_map_mmio(bus, 0xFEC00000, 0x1000, &mmio_ops, &d), 0);
    CHECK_EQ(bus_map_mmio(bus, 0xFEC00000, 0x1000, &mmio_ops, &d), -EEXIST);
    CHECK_EQ(bus_mem_read(bus, 0xFEC00010, 4), 0xA5A5A5A5u);
    CHECK_EQ(d.last_off, 0x10);
    bus_mem_write(bus, 0xFEC00020, 0x12345678, 4);
    CHECK_EQ(d.last_val, 0x12345678);
    BusPage pg;
    bus_page(bus, 0xFEC00000, &pg);
    CHECK(pg.read == NULL && pg.write == NULL);
    BusCpuHooks hooks = {.ram_written = note_written};
    bus_set_cpu_hooks(bus, &hooks, NULL);
    uint8_t buf[5000];
    memset(buf, 0x3C, sizeof buf);
    bus_dma_write(bus, 0x10FFE, buf, sizeof buf);
    CHECK_EQ(written_addr, 0x10FFE);
    CHECK_EQ(written_len, sizeof buf);
    uint8_t back[5000];
    bus_dma_read(bus, 0x10FFE, back, sizeof back);
    CHECK(memcmp(buf, back, sizeof buf) == 0);
    /* DMA past the end of RAM: reads all-ones, writes vanish. */
    bus_dma_read(bus, 0x3FFFFE, back, 4);
    CHECK_EQ(back[0], 0);
    CHECK_EQ(back[2], 0xFF);
    bus_unmap(bus, 0xFEC00000);
    CHECK_EQ(bus_mem_read(bus, 0xFEC00010, 4), 0xFFFFFFFFu);
    bus_destroy(bus);
}

TEST(bus, requests_rank_and_clear)
{
    Bus *bus = bus_create(1 << 20, NULL);
    int status;
    CHECK_EQ(bus_take_request(bus, &status), BUS_REQ_NONE);
    bus_request(bus, BUS_REQ_RESET, 0);
    bus_request(bus, BUS_REQ_EXIT, 33);
    bus_request(bus, BUS_REQ_RESET, 0); /* does not override the exit */
    CHECK_EQ(bus_take_request(bus, &status), BUS_REQ_EXIT);
    CHECK_EQ(status, 33);
    CHECK_EQ(bus_take_request(bus, &status), BUS_REQ_NONE);
    bus_destroy(bus);
}

TEST(bus, ram_above_4g)
{
    /* 3.5 GiB + 4 KiB: the last page is remapped above 4 GiB (not touched,
     * so the mmap costs nothing). */
    uint64_t size = 0xE0000000ull + 4096;
    Bus *bus = bus_create(size, NULL);
    if (!bus) {
        test_skip("host cannot reserve 3.5 GiB of address space");
        return;
    }
    CHECK_EQ(bus_ram_below_4g(bus), 0xE0000000ull);
    BusPage pg;
    bus_page(bus, 0x100000000ull, &pg);
    CHECK(pg.read == bus_ram(bus) + 0xE0000000ull);
    bus_page(bus, 0x100001000ull, &pg);
    CHECK(pg.read == NULL);
    bus_destroy(bus);
}
