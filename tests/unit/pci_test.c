/* tests/unit/pci_test.c -- configuration mechanism #1, BARs and ROM BAR,
 * command-register gating, i440FX PAM and SMRAM, PIIX3 PIRQ routing, the
 * PIIX4 PM function (timer, SCI, soft-off), save/load and reset. */
#include "chiptest.h"

#define TEST_DEVFN (3 << 3) /* 00:03.0 */

static uint32_t inl_(Bus *b, uint16_t p) { return bus_io_read(b, p, 4); }
static void outl_(Bus *b, uint16_t p, uint32_t v) { bus_io_write(b, p, v, 4); }
static uint16_t inw_(Bus *b, uint16_t p) { return (uint16_t)bus_io_read(b, p, 2); }
static void outw_(Bus *b, uint16_t p, uint16_t v) { bus_io_write(b, p, v, 2); }

static uint32_t cfg_read(Bus *b, int devfn, uint8_t off, unsigned width)
{
    outl_(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xFCu));
    return bus_io_read(b, (uint16_t)(0xCFC + (off & 3)), width);
}

static void cfg_write(Bus *b, int devfn, uint8_t off, uint32_t v, unsigned width)
{
    outl_(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xFCu));
    bus_io_write(b, (uint16_t)(0xCFC + (off & 3)), v, width);
}

/* A test device: an I/O BAR, an MMIO BAR and a RAM BAR that record accesses. */
typedef struct TestDev {
    int io_reads, io_writes;
    uint32_t last_off, last_val;
    int mmio_reads;
    uint8_t ram[65536];
} TestDev;

static uint32_t td_io_read(void *dev, uint32_t off, unsigned width)
{
    TestDev *t = dev;
    t->io_reads++;
    t->last_off = off;
    return 0xA0 + off + (width == 4 ? 0x12340000u : 0);
}

static void td_io_write(void *dev, uint32_t off, uint32_t v, unsigned width)
{
    (void)width;
    TestDev *t = dev;
    t->io_writes++;
    t->last_off = off, t->last_val = v;
}

static uint32_t td_mmio_read(void *dev, uint64_t off, unsigned width)
{
    (void)width;
    TestDev *t = dev;
    t->mmio_reads++;
    return 0x5500u + (uint32_t)off;
}

static void td_mmio_write(void *dev, uint64_t off, uint32_t v, unsigned width)
{
    (void)width;
    TestDev *t = dev;
    t->last_off = (uint32_t)off, t->last_val = v;
}

static const IoOps td_io = {td_io_read, td_io_write, IO_W8 | IO_W16 | IO_W32, "testdev"};
static const MmioOps td_mmio = {td_mmio_read, td_mmio_write, "testdev"};
static const PciDeviceInfo td_info = {
    .vendor_id = 0x1234, .device_id = 0x5678, .revision = 7, .class_code = 0xFF,
    .interrupt_pin = 1, .name = "testdev",
};

typedef struct Rig {
    Bus *bus;
    Clock *clk;
    ChipIrqs irqs;
    IrqLine lines[16];
    PciBus *pci;
    PciDevice *d;
    TestDev *t;
} Rig;

static void rig_open(Rig *r, bool with_dev)
{
    memset(r, 0, sizeof *r);
    r->bus = bus_create(32u << 20, NULL);
    r->clk = clock_create(CLOCK_VIRTUAL);
    for (int i = 0; i < 16; i++)
        r->lines[i] = chiptest_line(&r->irqs, i);
    r->pci = pci_create(r->bus, r->clk, r->lines);
    if (!with_dev || !r->pci)
        return;
    r->t = calloc(1, sizeof *r->t);
    r->d = pci_add_device(r->pci, TEST_DEVFN, &td_info, NULL, r->t);
    pci_set_bar(r->d, 0, &(PciBar){.type = PCI_BAR_IO, .size = 16, .io = &td_io, .dev = r->t});
    pci_set_bar(r->d, 1, &(PciBar){.type = PCI_BAR_MEM32, .size = 4096, .mmio = &td_mmio, .dev = r->t});
    pci_set_bar(r->d, 2, &(PciBar){.type = PCI_BAR_MEM32_PREFETCH, .size = 65536, .ram = r->t->ram});
}

static void rig_close(Rig *r)
{
    if (r->pci)
        pci_device_class.destroy(r->pci);
    free(r->t);
    clock_destroy(r->clk);
    bus_destroy(r->bus);
}

TEST(pci, chipset_ids_and_absent_functions)
{
    Rig r;
    rig_open(&r, false);
    CHECK(r.pci != NULL);
    Bus *b = r.bus;
    CHECK_EQ(cfg_read(b, 0x00, 0x00, 4), 0x12378086);
    CHECK_EQ(cfg_read(b, 0x00, 0x08, 1), 0x02);
    CHECK_EQ(cfg_read(b, 0x08, 0x00, 4), 0x70008086);
    CHECK_EQ(cfg_read(b, 0x08, 0x0E, 1), 0x80); /* multi-function */
    CHECK_EQ(cfg_read(b, 0x08, 0x0A, 2), 0x0601);
    CHECK_EQ(cfg_read(b, 0x0B, 0x00, 4), 0x71138086);
    CHECK_EQ(cfg_read(b, 0x0B, 0x08, 1), 0x03);
    CHECK_EQ(cfg_read(b, 0x0B, 0x3D, 1), 1);
    CHECK_EQ(cfg_read(b, 0x28, 0x00, 4), 0xFFFFFFFF); /* 00:05.0 absent */
    CHECK_EQ(cfg_read(b, 0x09, 0x00, 2), 0xFFFF);     /* 00:01.1 not added */
    outl_(b, 0xCF8, 0x80010000u);                     /* bus 1 */
    CHECK_EQ(inl_(b, 0xCFC), 0xFFFFFFFF);
    outl_(b, 0xCF8, 0x00000000u); /* enable bit clear */
    CHECK_EQ(inl_(b, 0xCFC), 0xFFFFFFFF);
    outl_(b, 0xCF8, 0xFFFFFFFFu);
    CHECK_EQ(inl_(b, 0xCF8), 0x80FFFFFC); /* reserved bits read 0 */
    rig_close(&r);
}

TEST(pci, data_port_widths_and_offsets)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    outl_(b, 0xCF8, 0x80000000u | TEST_DEVFN << 8);
    CHECK_EQ(inb(b, 0xCFC), 0x34);
    CHECK_EQ(inb(b, 0xCFD), 0x12);
    CHECK_EQ(inb(b, 0xCFE), 0x78);
    CHECK_EQ(inb(b, 0xCFF), 0x56);
    CHECK_EQ(inw_(b, 0xCFD), 0x7812);
    CHECK_EQ(inw_(b, 0xCFE), 0x5678);
    /* Device-specific bytes 0x40+ are writable storage by default. */
    cfg_write(b, TEST_DEVFN, 0x40, 0x11223344, 4);
    cfg_write(b, TEST_DEVFN, 0x42, 0xAA, 1);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x40, 4), 0x11AA3344);
    cfg_write(b, TEST_DEVFN, 0x41, 0xBEEF, 2);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x40, 4), 0x11BEEF44);
    /* Read-only header fields ignore writes. */
    cfg_write(b, TEST_DEVFN, 0x00, 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x00, 4), 0x56781234);
    cfg_write(b, TEST_DEVFN, 0x3C, 0x0B, 1);
    cfg_write(b, TEST_DEVFN, 0x3D, 0x04, 1);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x3C, 2), 0x010B); /* line writable, pin not */
    CHECK(pci_config_space(r.d)[0x3C] == 0x0B);
    /* Byte and word accesses at 0xCF8 are not CONFADD. */
    outl_(b, 0xCF8, 0x80000040u | TEST_DEVFN << 8);
    outb(b, 0xCF8, 0x00);
    CHECK_EQ(inl_(b, 0xCF8), 0x80000040u | TEST_DEVFN << 8);
    rig_close(&r);
}

static int rcr_writes;
static uint32_t rcr_read(void *dev, uint32_t o, unsigned w) { (void)dev, (void)o, (void)w; return 0x5A; }
static void rcr_write(void *dev, uint32_t o, uint32_t v, unsigned w) { (void)dev, (void)o, (void)v, (void)w; rcr_writes++; }
static const IoOps rcr_ops = {rcr_read, rcr_write, IO_W8, "rcr"};

TEST(pci, confadd_dword_coexists_with_byte_port_cf9)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    CHECK_EQ(bus_map_io(b, 0xCF9, 1, &rcr_ops, NULL), 0);
    rcr_writes = 0;
    outl_(b, 0xCF8, 0x80000C00u); /* 00:01.4: byte 1 has bit 2 set */
    CHECK_EQ(rcr_writes, 0);
    CHECK_EQ(inl_(b, 0xCF8), 0x80000C00u);
    outb(b, 0xCF9, 0x06);
    CHECK_EQ(rcr_writes, 1);
    CHECK_EQ(inb(b, 0xCF9), 0x5A);
    CHECK_EQ(cfg_read(b, 0x08, 0x00, 4), 0x70008086);
    rig_close(&r);
}

TEST(pci, bar_sizing)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    for (int i = 0; i < 6; i++)
        cfg_write(b, TEST_DEVFN, (uint8_t)(0x10 + 4 * i), 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x10, 4), 0xFFFFFFF1); /* 16 ports, I/O */
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x14, 4), 0xFFFFF000); /* 4 KiB memory */
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x18, 4), 0xFFFF0008); /* 64 KiB prefetchable */
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x1C, 4), 0);          /* unused */
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x30, 4), 0);          /* no ROM */
    /* Nothing is decoded while the command register is 0. */
    CHECK_EQ(pci_bar_address(r.d, 0), 0);
    CHECK_EQ(pci_bar_address(r.d, 1), 0);
    cfg_write(b, TEST_DEVFN, 0x10, 0xC123, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x10, 4), 0xC121); /* low bits hard-wired */
    cfg_write(b, TEST_DEVFN, 0x14, 0xE0000FFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x14, 4), 0xE0000000);
    rig_close(&r);
}

TEST(pci, io_bar_placement_and_remap)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    cfg_write(b, TEST_DEVFN, 0x10, 0xC000, 4);
    CHECK_EQ(inb(b, 0xC004), 0xFF); /* decode off */
    cfg_write(b, TEST_DEVFN, 0x04, 0x0001, 2);
    CHECK_EQ(pci_bar_address(r.d, 0), 0xC000);
    CHECK_EQ(inb(b, 0xC004), 0xA4);
    CHECK_EQ(r.t->last_off, 4);
    CHECK_EQ(inl_(b, 0xC008), 0x123400A8);
    outw_(b, 0xC00E, 0x4321);
    CHECK_EQ(r.t->last_off, 0x0E);
    CHECK_EQ(r.t->last_val, 0x4321);
    /* Move it: the old place goes quiet, the new one answers. */
    cfg_write(b, TEST_DEVFN, 0x10, 0xD000, 4);
    CHECK_EQ(pci_bar_address(r.d, 0), 0xD000);
    int reads = r.t->io_reads;
    CHECK_EQ(inb(b, 0xC004), 0xFF);
    CHECK_EQ(r.t->io_reads, reads);
    CHECK_EQ(inb(b, 0xD002), 0xA2);
    /* Command I/O off unmaps it. */
    cfg_write(b, TEST_DEVFN, 0x04, 0x0000, 2);
    CHECK_EQ(pci_bar_address(r.d, 0), 0);
    CHECK_EQ(inb(b, 0xD002), 0xFF);
    rig_close(&r);
}

static uint32_t other_read(void *dev, uint32_t o, unsigned w) { (void)dev, (void)o, (void)w; return 0x77; }
static void other_write(void *dev, uint32_t o, uint32_t v, unsigned w) { (void)dev, (void)o, (void)v, (void)w; }
static const IoOps other_ops = {other_read, other_write, IO_W8, "other"};

TEST(pci, bar_onto_occupied_range_stays_unmapped)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    CHECK_EQ(bus_map_io(b, 0xE008, 4, &other_ops, NULL), 0);
    cfg_write(b, TEST_DEVFN, 0x04, 0x0003, 2);
    cfg_write(b, TEST_DEVFN, 0x10, 0xE000, 4); /* overlaps 0xE008-0xE00B */
    CHECK_EQ(pci_bar_address(r.d, 0), 0);
    CHECK_EQ(inb(b, 0xE008), 0x77);
    CHECK_EQ(inb(b, 0xE000), 0xFF);
    cfg_write(b, TEST_DEVFN, 0x10, 0xE010, 4); /* a free place works again */
    CHECK_EQ(pci_bar_address(r.d, 0), 0xE010);
    CHECK_EQ(inb(b, 0xE011), 0xA1);
    CHECK_EQ(inb(b, 0xE008), 0x77);
    /* Memory BARs over RAM, the legacy area or the BIOS/APIC range stay off. */
    cfg_write(b, TEST_DEVFN, 0x14, 0x00100000, 4);
    CHECK_EQ(pci_bar_address(r.d, 1), 0);
    cfg_write(b, TEST_DEVFN, 0x14, 0xFFFFF000, 4);
    CHECK_EQ(pci_bar_address(r.d, 1), 0);
    cfg_write(b, TEST_DEVFN, 0x14, 0xF0000000, 4);
    CHECK_EQ(pci_bar_address(r.d, 1), 0xF0000000);
    /* Two BARs at one address: the second is refused, the first survives. */
    cfg_write(b, TEST_DEVFN, 0x18, 0xF0000000, 4);
    CHECK_EQ(pci_bar_address(r.d, 2), 0);
    CHECK_EQ(bus_mem_read(b, 0xF0000010, 4), 0x5510);
    rig_close(&r);
}

TEST(pci, memory_bars_mmio_and_ram)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    cfg_write(b, TEST_DEVFN, 0x14, 0xE0000000, 4);
    cfg_write(b, TEST_DEVFN, 0x18, 0xE1000000, 4);
    CHECK_EQ(bus_mem_read(b, 0xE0000010, 4), 0xFFFFFFFF); /* memory decode off */
    cfg_write(b, TEST_DEVFN, 0x04, 0x0002, 2);
    CHECK_EQ(pci_bar_address(r.d, 1), 0xE0000000);
    CHECK_EQ(pci_bar_address(r.d, 2), 0xE1000000);
    CHECK_EQ(bus_mem_read(b, 0xE0000010, 4), 0x5510);
    bus_mem_write(b, 0xE1000123, 0x99, 1);
    CHECK_EQ(r.t->ram[0x123], 0x99);
    r.t->ram[0xFFFF] = 0x42;
    CHECK_EQ(bus_mem_read(b, 0xE100FFFF, 1), 0x42);
    cfg_write(b, TEST_DEVFN, 0x18, 0xE2000000, 4);
    CHECK_EQ(bus_mem_read(b, 0xE100FFFF, 1), 0xFF);
    CHECK_EQ(bus_mem_read(b, 0xE200FFFF, 1), 0x42);
    rig_close(&r);
}

TEST(pci, odd_sized_ram_bar_exposes_only_its_buffer)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    /* 12 KiB of host memory: decodes 16 KiB, maps only the 12 KiB. */
    pci_set_bar(r.d, 3, &(PciBar){.type = PCI_BAR_MEM32, .size = 12288, .ram = r.t->ram});
    cfg_write(b, TEST_DEVFN, 0x1C, 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x1C, 4), 0xFFFFC000);
    cfg_write(b, TEST_DEVFN, 0x1C, 0xE0100000, 4);
    cfg_write(b, TEST_DEVFN, 0x04, 0x0002, 2);
    r.t->ram[0x2FFF] = 0x31;
    CHECK_EQ(bus_mem_read(b, 0xE0102FFF, 1), 0x31);
    CHECK_EQ(bus_mem_read(b, 0xE0103000, 1), 0xFF);
    /* Nonsense sizes are clamped, never mapped past the buffer. */
    pci_set_bar(r.d, 4, &(PciBar){.type = PCI_BAR_MEM32, .size = 0xFFFFFFFFu, .mmio = &td_mmio, .dev = r.t});
    cfg_write(b, TEST_DEVFN, 0x20, 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x20, 4), 0x80000000);
    pci_set_bar(r.d, 5, &(PciBar){.type = PCI_BAR_IO, .size = 0, .io = &td_io, .dev = r.t});
    cfg_write(b, TEST_DEVFN, 0x24, 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x24, 4), 0xFFFFFFFD);
    rig_close(&r);
}

TEST(pci, expansion_rom_bar)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    uint8_t rom[5000];
    for (size_t i = 0; i < sizeof rom; i++)
        rom[i] = (uint8_t)(i * 7);
    rom[0] = 0x55, rom[1] = 0xAA;
    CHECK_EQ(pci_set_rom(r.d, rom, sizeof rom), 0);
    cfg_write(b, TEST_DEVFN, 0x30, 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x30, 4), 0xFFFFE001); /* 8 KiB */
    cfg_write(b, TEST_DEVFN, 0x30, 0xE8000000, 4); /* enable bit clear */
    cfg_write(b, TEST_DEVFN, 0x04, 0x0002, 2);
    CHECK_EQ(bus_mem_read(b, 0xE8000000, 2), 0xFFFF);
    cfg_write(b, TEST_DEVFN, 0x30, 0xE8000001, 4);
    CHECK_EQ(bus_mem_read(b, 0xE8000000, 2), 0xAA55);
    CHECK_EQ(bus_mem_read(b, 0xE8000000 + 4999, 1), (uint8_t)(4999 * 7));
    CHECK_EQ(bus_mem_read(b, 0xE8000000 + 6000, 1), 0); /* padding */
    bus_mem_write(b, 0xE8000002, 0x12, 1);             /* read-only */
    CHECK_EQ(bus_mem_read(b, 0xE8000002, 1), 14);
    cfg_write(b, TEST_DEVFN, 0x04, 0x0000, 2); /* memory decode gates it */
    CHECK_EQ(bus_mem_read(b, 0xE8000000, 2), 0xFFFF);
    rig_close(&r);
}

TEST(pci, command_and_status_registers)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    cfg_write(b, TEST_DEVFN, 0x04, 0xFFFF, 2);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x04, 2), 0x0547);
    pci_config_space(r.d)[0x07] = 0xF9; /* error bits latched by the device */
    cfg_write(b, TEST_DEVFN, 0x06, 0x1000, 2); /* write-1-to-clear one of them */
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x06, 2), 0xE900);
    cfg_write(b, TEST_DEVFN, 0x06, 0xFFFF, 2);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x06, 2), 0x0000);
    rig_close(&r);
}

TEST(pci, pirq_routing)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    /* Slot 3, INTA#: PIRQ (3 + 1 - 1) & 3 = PIRQD (0x63). */
    pci_set_irq(r.d, 1);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(r.irqs.level[i], 0); /* PIRQs start disabled (80h) */
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x06, 1) & 0x08, 0x08); /* INTx status */
    cfg_write(b, 0x08, 0x63, 11, 1);
    CHECK_EQ(r.irqs.level[11], 1);
    pci_set_irq(r.d, 0);
    CHECK_EQ(r.irqs.level[11], 0);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x06, 1) & 0x08, 0);
    pci_set_irq(r.d, 1);
    CHECK_EQ(r.irqs.level[11], 1);
    cfg_write(b, 0x08, 0x63, 10, 1); /* re-route while asserted */
    CHECK_EQ(r.irqs.level[11], 0);
    CHECK_EQ(r.irqs.level[10], 1);
    cfg_write(b, TEST_DEVFN, 0x04, 0x0400, 2); /* INTx disable */
    CHECK_EQ(r.irqs.level[10], 0);
    cfg_write(b, TEST_DEVFN, 0x04, 0x0000, 2);
    CHECK_EQ(r.irqs.level[10], 1);
    cfg_write(b, 0x08, 0x63, 0x8A, 1); /* bit 7: routing off */
    CHECK_EQ(r.irqs.level[10], 0);
    cfg_write(b, 0x08, 0x63, 0x02, 1); /* IRQ 2 is not a valid target */
    CHECK_EQ(r.irqs.level[2], 0);
    cfg_write(b, 0x08, 0x60, 0x05, 1); /* PIRQA: not this device's */
    CHECK_EQ(r.irqs.level[5], 0);
    /* A second device in slot 4 with INTD# shares PIRQ (4 + 4 - 1) & 3 = D. */
    PciDeviceInfo info = td_info;
    info.interrupt_pin = 4;
    PciDevice *d2 = pci_add_device(r.pci, 4 << 3, &info, NULL, NULL);
    cfg_write(b, 0x08, 0x63, 0x0F, 1);
    CHECK_EQ(r.irqs.level[15], 1);
    pci_set_irq(d2, 1);
    pci_set_irq(r.d, 0);
    CHECK_EQ(r.irqs.level[15], 1); /* wired-OR */
    pci_set_irq(d2, 0);
    CHECK_EQ(r.irqs.level[15], 0);
    CHECK(pci_add_device(r.pci, 4 << 3, &info, NULL, NULL) == NULL); /* slot taken */
    CHECK(pci_add_device(r.pci, 256, &info, NULL, NULL) == NULL);
    rig_close(&r);
}

TEST(pci, pam_shadowing)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    static uint8_t bios[0x20000];
    for (size_t i = 0; i < sizeof bios; i++)
        bios[i] = (uint8_t)(0x80 | (i >> 12));
    CHECK_EQ(bus_set_bios(b, bios, sizeof bios), 0);
    CHECK_EQ(cfg_read(b, 0, 0x59, 1), 0);
    CHECK_EQ(cfg_read(b, 0, 0x5C, 4), 0);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0x91); /* ROM side */
    bus_mem_write(b, 0xF1000, 0x11, 1);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0x91); /* dropped */
    cfg_write(b, 0, 0x59, 0x30, 1); /* PAM0 hi: read and write RAM */
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0x00);
    bus_mem_write(b, 0xF1000, 0xAB, 1);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0xAB);
    CHECK_EQ(bus_mem_read(b, 0xFFFF0, 1), 0x00); /* whole 64 KiB segment */
    cfg_write(b, 0, 0x59, 0x10, 1);              /* read RAM, writes dropped */
    bus_mem_write(b, 0xF1000, 0xCD, 1);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0xAB);
    cfg_write(b, 0, 0x59, 0x20, 1); /* write RAM, read ROM */
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0x91);
    bus_mem_write(b, 0xF1000, 0xEF, 1);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0x91);
    cfg_write(b, 0, 0x59, 0x10, 1);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0xEF);
    cfg_write(b, 0, 0x59, 0xFF, 1);
    CHECK_EQ(cfg_read(b, 0, 0x59, 1), 0x70); /* low nibble reserved */
    /* PAM5 low nibble is E0000-E3FFF only; E4000 stays ROM. */
    cfg_write(b, 0, 0x5E, 0x03, 1);
    bus_mem_write(b, 0xE0010, 0x5A, 1);
    bus_mem_write(b, 0xE4010, 0x5A, 1);
    CHECK_EQ(bus_mem_read(b, 0xE0010, 1), 0x5A);
    CHECK_EQ(bus_mem_read(b, 0xE4010, 1), 0x84);
    /* PAM1 high nibble: C4000-C7FFF (no ROM there: reads all-ones). */
    CHECK_EQ(bus_mem_read(b, 0xC4000, 1), 0xFF);
    cfg_write(b, 0, 0x5A, 0x30, 1);
    bus_mem_write(b, 0xC4000, 0x66, 1);
    bus_mem_write(b, 0xC0000, 0x66, 1);
    CHECK_EQ(bus_mem_read(b, 0xC4000, 1), 0x66);
    CHECK_EQ(bus_mem_read(b, 0xC0000, 1), 0xFF);
    /* PAM6 high: EC000-EFFFF. */
    cfg_write(b, 0, 0x5F, 0x30, 1);
    bus_mem_write(b, 0xEFFFF, 0x42, 1);
    CHECK_EQ(bus_mem_read(b, 0xEFFFF, 1), 0x42);
    CHECK_EQ(bus_mem_read(b, 0xE8000, 1), 0x88);
    /* Reset puts every segment back on the ROM side. */
    pci_device_class.reset(r.pci);
    CHECK_EQ(cfg_read(b, 0, 0x5C, 4), 0);
    CHECK_EQ(bus_mem_read(b, 0xF1000, 1), 0x91);
    CHECK_EQ(bus_mem_read(b, 0xC4000, 1), 0xFF);
    rig_close(&r);
}

TEST(pci, smram_open_close_lock)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x02);
    cfg_write(b, 0, 0x72, 0x48, 1); /* D_OPEN | G_SMRAME */
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x4A);
    cfg_write(b, 0, 0x72, 0x28, 1); /* D_CLS */
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x2A);
    cfg_write(b, 0, 0x72, 0x58, 1); /* lock: D_OPEN drops */
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x1A);
    cfg_write(b, 0, 0x72, 0x40, 1); /* locked: only D_CLS changes */
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x1A);
    cfg_write(b, 0, 0x70, 0x00200000, 4); /* dword write reaching 0x72 */
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x3A);
    pci_device_class.reset(r.pci);
    CHECK_EQ(cfg_read(b, 0, 0x72, 1), 0x02);
    rig_close(&r);
}

static void pm_enable(Bus *b, uint16_t base)
{
    cfg_write(b, 0x0B, 0x40, base | 1u, 4);
    cfg_write(b, 0x0B, 0x80, 0x01, 1);
}

TEST(acpi_pm, config_registers_and_placement)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    CHECK_EQ(cfg_read(b, 0x0B, 0x40, 4), 1);
    CHECK_EQ(cfg_read(b, 0x0B, 0x58, 4) >> 25 & 1, 1); /* APMC_EN: no SMM set-up */
    cfg_write(b, 0x0B, 0x40, 0xFFFFFFFF, 4);
    CHECK_EQ(cfg_read(b, 0x0B, 0x40, 4), 0xFFC1);
    cfg_write(b, 0x0B, 0x40, 0x0600, 4);
    CHECK_EQ(cfg_read(b, 0x0B, 0x40, 4), 0x0601);
    CHECK_EQ(inl_(b, 0x608), 0xFFFFFFFF); /* PMIOSE off */
    cfg_write(b, 0x0B, 0x80, 0x01, 1);
    CHECK(inl_(b, 0x608) <= 0xFFFFFF);
    cfg_write(b, 0x0B, 0x40, 0x0700, 4); /* move */
    CHECK_EQ(inl_(b, 0x608), 0xFFFFFFFF);
    CHECK(inl_(b, 0x708) <= 0xFFFFFF);
    /* SMBus stub: idle, and a started transaction ends with DEV_ERR. */
    cfg_write(b, 0x0B, 0x90, 0x0B00, 4);
    cfg_write(b, 0x0B, 0xD2, 0x09, 1);
    CHECK_EQ(inb(b, 0xB00), 0x00);
    outb(b, 0xB02, 0x48);
    CHECK_EQ(inb(b, 0xB00) & 0x04, 0x04);
    outb(b, 0xB00, 0x04);
    CHECK_EQ(inb(b, 0xB00), 0x00);
    rig_close(&r);
}

TEST(acpi_pm, timer_frequency)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    pm_enable(b, 0x600);
    uint32_t t0 = inl_(b, 0x608);
    clock_advance(r.clk, 1000000000ull); /* one second */
    uint32_t t1 = inl_(b, 0x608);
    uint32_t delta = (t1 - t0) & 0xFFFFFF;
    CHECK(delta >= 3579544 && delta <= 3579546);
    clock_advance(r.clk, 1000); /* 1 us: 3 or 4 ticks */
    uint32_t t2 = inl_(b, 0x608);
    CHECK(((t2 - t1) & 0xFFFFFF) >= 3 && ((t2 - t1) & 0xFFFFFF) <= 4);
    CHECK_EQ(inb(b, 0x60B), 0); /* 24-bit counter */
    uint32_t w = inw_(b, 0x608) | (uint32_t)inw_(b, 0x60A) << 16;
    CHECK_EQ(w, t2);
    rig_close(&r);
}

TEST(acpi_pm, timer_overflow_sci)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    pm_enable(b, 0x600);
    CHECK_EQ(inw_(b, 0x600) & 1, 0);
    outw_(b, 0x602, 0x0001);    /* TMR_EN */
    outb(b, 0xB2, 0xF1);        /* ACPI enable through the APM port */
    CHECK_EQ(inw_(b, 0x604) & 1, 1);
    CHECK_EQ(r.irqs.level[9], 0);
    chiptest_run(r.clk, 2400000000ull, 100000000ull); /* > 2^23 ticks */
    CHECK_EQ(inw_(b, 0x600) & 1, 1);
    CHECK_EQ(r.irqs.level[9], 1);
    outw_(b, 0x600, 0x0001); /* write 1 to clear */
    CHECK_EQ(inw_(b, 0x600) & 1, 0);
    CHECK_EQ(r.irqs.level[9], 0);
    /* With SCI_EN off the status still latches but no SCI is raised. */
    outb(b, 0xB2, 0xF0);
    chiptest_run(r.clk, 2400000000ull, 100000000ull);
    CHECK_EQ(inw_(b, 0x600) & 1, 1);
    CHECK_EQ(r.irqs.level[9], 0);
    /* GPE0 at 0xAFE0: status W1C, enable, SCI. */
    outb(b, 0xB2, 0xF1);
    outw_(b, 0x600, 0xFFFF);
    outw_(b, 0xAFE2, 0x0004);
    CHECK_EQ(inw_(b, 0xAFE2), 0x0004);
    CHECK_EQ(inw_(b, 0x60E), 0x0004); /* same register at PMBA + 0x0E */
    CHECK_EQ(r.irqs.level[9], 0);
    rig_close(&r);
}

TEST(acpi_pm, soft_off)
{
    Rig r;
    rig_open(&r, false);
    Bus *b = r.bus;
    pm_enable(b, 0x600);
    int status = -1;
    outw_(b, 0x604, 0x0001 | 1u << 10); /* SLP_TYP 1 without SLP_EN */
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_NONE);
    CHECK_EQ(inw_(b, 0x604), 0x0401);
    outw_(b, 0x604, 0x2000 | 1u << 10); /* S1/S3-style: wakes at once */
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_NONE);
    CHECK_EQ(inw_(b, 0x600) & 0x8000, 0x8000); /* WAK_STS */
    CHECK_EQ(inw_(b, 0x604) & 0x2000, 0);     /* SLP_EN reads 0 */
    outw_(b, 0x604, 0x2000 | 0u << 10);      /* S5 as QEMU's DSDT says */
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_POWEROFF);
    outb(b, 0x605, 0x20 | 5u << 2); /* byte write, SLP_TYP 5 */
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_POWEROFF);
    outw_(b, 0x604, 0x2000 | 2u << 10); /* QEMU's \_S4 */
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_POWEROFF);
    outw_(b, 0x604, 0x2000 | 3u << 10);
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_NONE);
    rig_close(&r);
}

TEST(pci, garbage_config_writes_do_not_crash)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    uint8_t rom[4096] = {0x55, 0xAA};
    pci_set_rom(r.d, rom, sizeof rom);
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; i++) {
        uint32_t v = chiptest_rand(&seed);
        int devfn = (int)(chiptest_rand(&seed) % 32);
        if (devfn == 0x0B && (i & 1))
            devfn = TEST_DEVFN;
        uint8_t off = (uint8_t)chiptest_rand(&seed);
        unsigned width = 1u << (chiptest_rand(&seed) % 3);
        outl_(b, 0xCF8, 0x80000000u | (uint32_t)devfn << 8 | (off & 0xFC));
        bus_io_write(b, (uint16_t)(0xCFC + (off & 3)), v, width);
        (void)bus_io_read(b, (uint16_t)(0xCFC + (off & 3)), width);
        outl_(b, 0xCF8, v); /* CONFADD garbage too */
    }
    (void)bus_take_request(b, NULL);
    CHECK_EQ(cfg_read(b, 0x00, 0x00, 4), 0x12378086);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x00, 4), 0x56781234);
    pci_device_class.reset(r.pci);
    CHECK_EQ(pci_bar_address(r.d, 0), 0);
    CHECK_EQ(cfg_read(b, 0x08, 0x60, 4), 0x80808080);
    rig_close(&r);
}

TEST(pci, save_load_and_reset)
{
    Rig r;
    rig_open(&r, true);
    Bus *b = r.bus;
    cfg_write(b, TEST_DEVFN, 0x10, 0xC000, 4);
    cfg_write(b, TEST_DEVFN, 0x04, 0x0001, 2);
    cfg_write(b, 0x08, 0x63, 11, 1);
    pm_enable(b, 0x600);
    outw_(b, 0x602, 0x0100);
    pci_set_irq(r.d, 1);
    CHECK_EQ(chiptest_roundtrip(&pci_device_class, r.pci), 0);
    CHECK_EQ(pci_bar_address(r.d, 0), 0xC000);
    CHECK_EQ(inb(b, 0xC001), 0xA1);
    CHECK_EQ(r.irqs.level[11], 1);
    CHECK_EQ(inw_(b, 0x602), 0x0100);
    /* A snapshot loads into a fresh board of the same shape. */
    StateStream *w = state_writer_create();
    pci_device_class.save(r.pci, w);
    size_t len;
    const void *data = state_data(w, &len);
    Rig r2;
    rig_open(&r2, true);
    StateStream *rd = state_reader_create(data, len);
    CHECK_EQ(pci_device_class.load(r2.pci, rd), 0);
    CHECK_EQ(pci_bar_address(r2.d, 0), 0xC000);
    CHECK_EQ(inb(r2.bus, 0xC002), 0xA2);
    CHECK_EQ(r2.irqs.level[11], 1);
    CHECK_EQ(inw_(r2.bus, 0x602), 0x0100);
    state_destroy(rd);
    /* A truncated stream is refused. */
    rd = state_reader_create(data, len / 2);
    CHECK(pci_device_class.load(r2.pci, rd) != 0);
    state_destroy(rd);
    state_destroy(w);
    rig_close(&r2);
    pci_device_class.reset(r.pci);
    CHECK_EQ(pci_bar_address(r.d, 0), 0);
    CHECK_EQ(r.irqs.level[11], 0);
    CHECK_EQ(cfg_read(b, TEST_DEVFN, 0x10, 4), 0x00000001);
    CHECK_EQ(cfg_read(b, 0x00, 0x04, 2), 0x0006);
    CHECK_EQ(inl_(b, 0x608), 0xFFFFFFFF); /* PM I/O off again */
    rig_close(&r);
}
