/*
 * chipset/pci.c -- PCI bus 0 of the i440FX board: configuration mechanism #1
 * (CONFADD at 0xCF8, CONFDATA at 0xCFC-0xCFF), the generic type-0 header
 * (command, status, BARs, expansion ROM, interrupt line/pin), BAR placement
 * on the Bus, and INTx# routing through the PIIX3 PIRQ registers.
 *
 * References: PCI Local Bus Specification 2.1 §3.2.2.3.2 (mechanism #1) and
 * §6 (configuration space); 82441FX datasheet §3.2 (CONFADD/CONFDATA);
 * 82371SB (PIIX3) datasheet §2.2.10 (PIRQRC).
 *
 * Each function keeps its 256 configuration bytes plus a write mask and a
 * write-one-to-clear mask per byte, so a config write is one table-driven
 * loop; side effects (BAR remapping, IRQ recomputation) follow from which
 * bytes the write touched.  The chipset functions themselves (host bridge,
 * ISA bridge, power management) live in piix.c and acpi_pm.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "chipset/pci_internal.h"

#define CONFADD_PORT 0xCF8
#define CONFDATA_PORT 0xCFC
#define CONFADD_ENABLE 0x80000000u
#define CONFADD_MASK 0x80FFFFFCu /* bits 30:24 and 1:0 are reserved (read 0) */
#define PCI_IO_LIMIT 0x10000u
/* Memory BARs go in the hole between the top of low RAM and the APIC/BIOS
 * area at 0xFEC00000 (where SeaBIOS and Linux put them on this board); a BAR
 * programmed elsewhere would shadow RAM or the reset vector, so it stays
 * unmapped. */
#define PCI_MEM_LIMIT 0xFEC00000ull
#define PCI_CMD_WRITABLE 0x0547u    /* I/O, mem, master, parity, SERR, INTx disable */
#define PCI_STATUS_W1C 0xF900u      /* error bits 15:11 and 8 */
#define PCI_ROM_MAX (16u << 20)

/* Guest-caused conditions are logged, but only the first few: a guest that
 * keeps moving a BAR onto another device must not flood stderr. */
void pci_log(PciBus *pci, const char *fmt, ...)
{
    if (pci->logged >= PCI_LOG_MAX)
        return;
    if (++pci->logged == PCI_LOG_MAX)
        fmt = "(further PCI placement messages suppressed)";
    va_list ap;
    va_start(ap, fmt);
    fputs("vsx: pci: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ------------------------------------------------------- raw byte access */

uint32_t pci_cfg_get(const PciDevice *d, uint8_t offset, unsigned width)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < width && offset + i < 256; i++)
        v |= (uint32_t)d->cfg[offset + i] << (8 * i);
    return v;
}

void pci_cfg_put(PciDevice *d, uint8_t offset, unsigned width, uint32_t value)
{
    for (unsigned i = 0; i < width && offset + i < 256; i++)
        d->cfg[offset + i] = (uint8_t)(value >> (8 * i));
}

void pci_set_wmask(PciDevice *d, uint8_t offset, unsigned width, uint32_t mask)
{
    for (unsigned i = 0; i < width && offset + i < 256; i++)
        d->wmask[offset + i] = (uint8_t)(mask >> (8 * i));
}

static bool touches(uint8_t offset, unsigned width, unsigned lo, unsigned hi)
{
    return offset <= hi && offset + width - 1 >= lo;
}

static uint16_t pci_command(const PciDevice *d)
{
    return (uint16_t)pci_cfg_get(d, PCI_COMMAND, 2);
}

/* ------------------------------------------------------- BAR placement */

static bool mem_range_ok(PciBus *pci, uint64_t addr, uint64_t size)
{
    return addr >= 0x100000 && addr >= bus_ram_below_4g(pci->bus) && addr + size <= PCI_MEM_LIMIT;
}

/* Where BAR i should be mapped given the header now, or 0 for nowhere. */
static uint32_t bar_wanted(PciDevice *d, int i)
{
    const PciBar *b = &d->bar[i];
    uint32_t raw = pci_cfg_get(d, (uint8_t)(PCI_BAR0 + 4 * i), 4);
    uint16_t cmd = pci_command(d);
    if (b->type == PCI_BAR_UNUSED)
        return 0;
    if (b->type == PCI_BAR_IO) {
        uint32_t addr = raw & ~(b->size - 1) & ~3u;
        if (!(cmd & PCI_CMD_IO) || !addr || (uint64_t)addr + b->size > PCI_IO_LIMIT)
            return 0;
        return addr;
    }
    uint32_t addr = raw & ~(b->size - 1) & ~0xFu;
    if (!(cmd & PCI_CMD_MEM) || !addr || !mem_range_ok(d->pci, addr, b->size))
        return 0;
    return addr;
}

static void bar_unmap(PciDevice *d, int i)
{
    uint32_t at = d->bar_mapped[i];
    if (!at)
        return;
    if (d->bar[i].type == PCI_BAR_IO)
        bus_unmap_io(d->pci->bus, (uint16_t)at, d->bar_map_len[i]);
    else
        bus_unmap(d->pci->bus, at);
    d->bar_mapped[i] = 0;
}

static int bar_map(PciDevice *d, int i, uint32_t at)
{
    const PciBar *b = &d->bar[i];
    Bus *bus = d->pci->bus;
    uint32_t len = d->bar_map_len[i];
    if (!len)
        return -EINVAL;
    if (b->type == PCI_BAR_IO)
        return b->io ? bus_map_io(bus, (uint16_t)at, len, b->io, b->dev) : -EINVAL;
    if (b->mmio)
        return bus_map_mmio(bus, at, len, b->mmio, b->dev);
    if (b->ram)
        return bus_map_ram(bus, at, len, b->ram, false);
    return -EINVAL;
}

static void bar_sync(PciDevice *d, int i)
{
    uint32_t want = bar_wanted(d, i);
    if (want == d->bar_mapped[i])
        return;
    bar_unmap(d, i);
    if (!want)
        return;
    int rc = bar_map(d, i, want);
    if (rc < 0) {
        /* Overlapping another device: real hardware would have two
         * claimants; we leave this BAR off the bus rather than break the
         * other one. */
        pci_log(d->pci, "%02x.%d %s BAR%d at 0x%x (size 0x%x) not mapped: %s", d->devfn >> 3,
                d->devfn & 7, d->info.name ? d->info.name : "?", i, want, d->bar[i].size,
                strerror(-rc));
        return;
    }
    d->bar_mapped[i] = want;
}

static uint32_t rom_wanted(PciDevice *d)
{
    uint32_t raw = pci_cfg_get(d, PCI_ROM_BAR, 4);
    uint32_t addr = raw & ~(d->rom_size - 1);
    if (!d->rom || !(raw & PCI_ROM_ENABLE) || !(pci_command(d) & PCI_CMD_MEM) || !addr ||
        !mem_range_ok(d->pci, addr, d->rom_size))
        return 0;
    return addr;
}

static void rom_sync(PciDevice *d)
{
    uint32_t want = rom_wanted(d);
    if (want == d->rom_mapped)
        return;
    if (d->rom_mapped)
        bus_unmap(d->pci->bus, d->rom_mapped);
    d->rom_mapped = 0;
    if (!want)
        return;
    int rc = bus_map_ram(d->pci->bus, want, d->rom_size, d->rom, true);
    if (rc < 0) {
        pci_log(d->pci, "%02x.%d ROM at 0x%x not mapped: %s", d->devfn >> 3, d->devfn & 7, want, strerror(-rc));
        return;
    }
    d->rom_mapped = want;
}

static void pci_sync_mappings(PciDevice *d)
{
    for (int i = 0; i < PCI_BARS; i++)
        bar_sync(d, i);
    rom_sync(d);
}

/* ------------------------------------------------------------ interrupts */

/* The i440FX/PIIX3 swizzle: device D's INTx pin P (1-4) drives
 * PIRQ[(D + P - 1) mod 4] (as QEMU's board and SeaBIOS's tables assume). */
static int pci_pirq_of(const PciDevice *d)
{
    int pin = d->cfg[PCI_INT_PIN];
    if (pin < 1 || pin > 4)
        return -1;
    return ((d->devfn >> 3) + pin - 1) & 3;
}

void pci_update_irqs(PciBus *pci)
{
    bool pirq_level[4] = {false};
    for (int i = 0; i < pci->ndev; i++) {
        PciDevice *d = pci->list[i];
        int pirq = pci_pirq_of(d);
        if (pirq >= 0 && d->irq_level && !(pci_command(d) & PCI_CMD_INTX_DISABLE))
            pirq_level[pirq] = true;
    }
    uint16_t want = 0;
    for (int p = 0; p < 4; p++) {
        int irq = pci->isa ? piix3_pirq_irq(pci->isa, p) : -1;
        if (irq >= 0 && pirq_level[p])
            want |= (uint16_t)(1u << irq);
    }
    if (pci->sci_level)
        want |= 1u << 9; /* SCI: IRQ 9, level (PIIX4 datasheet §3.1.x, QEMU's FADT) */
    uint16_t changed = want ^ pci->irq_driven;
    pci->irq_driven = want;
    for (int n = 0; n < 16; n++)
        if (changed & (1u << n))
            irq_set(&pci->pic_irq[n], (want >> n) & 1);
}

void pci_set_sci(PciBus *pci, int level)
{
    pci->sci_level = level != 0;
    pci_update_irqs(pci);
}

void pci_set_irq(PciDevice *d, int level)
{
    if (!d)
        return;
    d->irq_level = level != 0;
    /* Status bit 3 reflects the function's INTx# state (PCI 2.3 §6.2.3). */
    if (d->irq_level)
        d->cfg[PCI_STATUS] |= PCI_STATUS_INTX;
    else
        d->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTX;
    pci_update_irqs(d->pci);
}

/* ------------------------------------------------------ config accesses */

static uint32_t pci_config_read(PciDevice *d, uint8_t offset, unsigned width)
{
    uint32_t v;
    if (d->ops && d->ops->read && d->ops->read(d->dev, offset, width, &v))
        return v;
    return pci_cfg_get(d, offset, width);
}

static void pci_config_write(PciDevice *d, uint8_t offset, uint32_t value, unsigned width)
{
    for (unsigned i = 0; i < width && offset + i < 256; i++) {
        unsigned o = offset + i;
        uint8_t b = (uint8_t)(value >> (8 * i));
        d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (b & d->wmask[o]));
        d->cfg[o] &= (uint8_t)~(b & d->w1c[o]);
    }
    if (d->ops && d->ops->write)
        d->ops->write(d->dev, offset, value, width);
    if (touches(offset, width, PCI_COMMAND, PCI_COMMAND + 1) || touches(offset, width, PCI_BAR0, 0x27) ||
        touches(offset, width, PCI_ROM_BAR, PCI_ROM_BAR + 3))
        pci_sync_mappings(d);
    if (touches(offset, width, PCI_COMMAND + 1, PCI_COMMAND + 1))
        pci_update_irqs(d->pci); /* INTx disable */
}

static PciDevice *pci_addressed(PciBus *pci)
{
    uint32_t a = pci->confadd;
    if (!(a & CONFADD_ENABLE) || ((a >> 16) & 0xFF) != 0)
        return NULL; /* only bus 0 exists; no bridges */
    return pci->slot[(a >> 8) & 0xFF];
}

static uint32_t ones(unsigned width)
{
    return width >= 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
}

static uint32_t confdata_read(void *dev, uint32_t offset, unsigned width)
{
    PciBus *pci = dev;
    PciDevice *d = pci_addressed(pci);
    if (!d || offset + width > 4)
        return ones(width); /* master abort: all ones */
    return pci_config_read(d, (uint8_t)((pci->confadd & 0xFC) + offset), width);
}

static void confdata_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    PciBus *pci = dev;
    PciDevice *d = pci_addressed(pci);
    if (d && offset + width <= 4)
        pci_config_write(d, (uint8_t)((pci->confadd & 0xFC) + offset), value, width);
}

static const IoOps confdata_ops = {confdata_read, confdata_write, IO_W8 | IO_W16 | IO_W32, "pci-confdata"};

/* CONFADD answers dword accesses only (82441FX §3.2.1); the bus hands us
 * exactly those through bus_map_io_wide. */
static uint32_t confadd_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    return ((PciBus *)dev)->confadd;
}

static void confadd_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    ((PciBus *)dev)->confadd = value & CONFADD_MASK;
}

static const IoOps confadd_ops = {confadd_read, confadd_write, IO_W32, "pci-confadd"};

/* ---------------------------------------------------------- device API */

static void pci_header_masks(PciDevice *d)
{
    memset(d->wmask, 0, sizeof d->wmask);
    memset(d->w1c, 0, sizeof d->w1c);
    pci_set_wmask(d, PCI_COMMAND, 2, PCI_CMD_WRITABLE);
    d->w1c[PCI_STATUS] = PCI_STATUS_W1C & 0xFF;
    d->w1c[PCI_STATUS + 1] = PCI_STATUS_W1C >> 8;
    d->wmask[PCI_CACHE_LINE] = 0xFF;
    d->wmask[PCI_LATENCY] = 0xFF;
    d->wmask[PCI_INT_LINE] = 0xFF;
    memset(d->wmask + 0x40, 0xFF, 256 - 0x40); /* device-specific: the owner decides */
}

static void pci_header_init(PciDevice *d)
{
    const PciDeviceInfo *in = &d->info;
    memset(d->cfg, 0, 0x40);
    pci_cfg_put(d, PCI_VENDOR_ID, 2, in->vendor_id);
    pci_cfg_put(d, PCI_DEVICE_ID, 2, in->device_id);
    d->cfg[PCI_REVISION] = in->revision;
    d->cfg[PCI_PROG_IF] = in->prog_if;
    d->cfg[PCI_SUBCLASS] = in->subclass;
    d->cfg[PCI_CLASS] = in->class_code;
    d->cfg[PCI_HEADER_TYPE] = in->header_type;
    pci_cfg_put(d, PCI_SUBSYS_VENDOR, 2, in->subsystem_vendor);
    pci_cfg_put(d, PCI_SUBSYS_ID, 2, in->subsystem_id);
    d->cfg[PCI_INT_PIN] = in->interrupt_pin <= 4 ? in->interrupt_pin : 0;
}

PciDevice *pci_add_device(PciBus *pci, int devfn, const PciDeviceInfo *info, const PciConfigOps *ops, void *dev)
{
    if (!pci || !info || devfn < 0 || devfn >= PCI_DEVFNS || pci->slot[devfn])
        return NULL;
    PciDevice *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->pci = pci;
    d->devfn = devfn;
    d->info = *info;
    d->ops = ops;
    d->dev = dev;
    pci_header_init(d);
    pci_header_masks(d);
    pci->slot[devfn] = d;
    pci->list[pci->ndev++] = d;
    return d;
}

static uint32_t pow2_at_least(uint32_t v, uint32_t min)
{
    uint32_t p = min;
    while (p < v && p < 0x80000000u)
        p <<= 1;
    return p;
}

void pci_set_bar(PciDevice *d, int index, const PciBar *bar)
{
    if (!d || index < 0 || index >= PCI_BARS || !bar)
        return;
    bar_unmap(d, index);
    d->bar[index] = *bar;
    PciBar *b = &d->bar[index];
    uint8_t off = (uint8_t)(PCI_BAR0 + 4 * index);
    /* The decoded size is a power of two; what goes on the bus is what the
     * owner provided: a RAM buffer of the given size must not be exposed
     * past its end (whole pages only), callbacks may cover a whole page. */
    uint32_t given = b->size;
    if (b->type == PCI_BAR_IO)
        d->bar_map_len[index] = given ? given : 4;
    else if (b->ram)
        d->bar_map_len[index] = given & (uint32_t)BUS_PAGE_MASK;
    else
        d->bar_map_len[index] = given ? (uint32_t)((given + BUS_PAGE_SIZE - 1) & BUS_PAGE_MASK) : BUS_PAGE_SIZE;
    uint32_t type_bits = 0;
    switch (b->type) {
    case PCI_BAR_IO: b->size = pow2_at_least(b->size, 4); type_bits = 1; break;
    case PCI_BAR_MEM32: b->size = pow2_at_least(b->size, BUS_PAGE_SIZE); break;
    case PCI_BAR_MEM32_PREFETCH: b->size = pow2_at_least(b->size, BUS_PAGE_SIZE); type_bits = 8; break;
    default: b->type = PCI_BAR_UNUSED; b->size = 0; break;
    }
    if (d->bar_map_len[index] > b->size)
        d->bar_map_len[index] = b->size;
    /* BAR sizing (PCI 2.1 §6.2.5.1): the address bits below the size and the
     * type bits are hard-wired, so writing all-ones reads back the size. */
    uint32_t low = b->type == PCI_BAR_IO ? 3u : 0xFu;
    pci_cfg_put(d, off, 4, type_bits);
    pci_set_wmask(d, off, 4, b->type == PCI_BAR_UNUSED ? 0 : ~(b->size - 1) & ~low);
    bar_sync(d, index);
}

int pci_set_rom(PciDevice *d, const uint8_t *rom, size_t size)
{
    if (!d || !rom || !size || size > PCI_ROM_MAX)
        return -EINVAL;
    uint32_t padded = pow2_at_least((uint32_t)size, BUS_PAGE_SIZE);
    uint8_t *copy = calloc(1, padded);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, rom, size);
    if (d->rom_mapped)
        bus_unmap(d->pci->bus, d->rom_mapped);
    d->rom_mapped = 0;
    free(d->rom);
    d->rom = copy;
    d->rom_size = padded;
    pci_cfg_put(d, PCI_ROM_BAR, 4, 0);
    pci_set_wmask(d, PCI_ROM_BAR, 4, ~(padded - 1) | PCI_ROM_ENABLE);
    return 0;
}

uint8_t *pci_config_space(PciDevice *d)
{
    return d ? d->cfg : NULL;
}

uint32_t pci_bar_address(PciDevice *d, int index)
{
    if (!d || index < 0 || index >= PCI_BARS)
        return 0;
    return d->bar_mapped[index];
}

/* ------------------------------------------------------------ lifecycle */

/* Teardown: I/O BARs leave the port table, but memory BARs and the ROM stay
 * mapped -- bus_unmap tells the CPU its map changed, and at board teardown
 * the CPU is already gone; the memory map dies with its Bus (the same rule as
 * video/vga.c).  Nothing may touch the Bus's memory between this and
 * bus_destroy. */
static void pci_free_device(PciDevice *d)
{
    for (int i = 0; i < PCI_BARS; i++)
        if (d->bar[i].type == PCI_BAR_IO)
            bar_unmap(d, i);
    free(d->rom);
    free(d);
}

static void pci_destroy(void *opaque)
{
    PciBus *pci = opaque;
    if (!pci)
        return;
    if (pci->pm)
        acpi_pm_destroy(pci->pm);
    free(pci->host);
    free(pci->isa);
    for (int i = 0; i < pci->ndev; i++)
        pci_free_device(pci->list[i]);
    bus_unmap_io(pci->bus, CONFADD_PORT, 1);
    bus_unmap_io(pci->bus, CONFDATA_PORT, 4);
    free(pci);
}

PciBus *pci_create(Bus *bus, Clock *clk, const IrqLine pic_irq[16])
{
    PciBus *pci = calloc(1, sizeof *pci);
    if (!pci)
        return NULL;
    pci->bus = bus;
    pci->clk = clk;
    if (pic_irq)
        memcpy(pci->pic_irq, pic_irq, sizeof pci->pic_irq);
    if (bus_map_io_wide(bus, CONFADD_PORT, 4, &confadd_ops, pci) < 0) {
        free(pci);
        return NULL;
    }
    if (bus_map_io(bus, CONFDATA_PORT, 4, &confdata_ops, pci) < 0) {
        bus_unmap_io(bus, CONFADD_PORT, 1);
        free(pci);
        return NULL;
    }
    pci->host = i440fx_create(pci);
    pci->isa = pci->host ? piix3_create(pci) : NULL;
    pci->pm = pci->isa ? acpi_pm_create(pci, bus, clk) : NULL;
    if (!pci->pm) {
        pci_destroy(pci);
        return NULL;
    }
    return pci;
}

/* Power-on values of the generic header; function-specific registers are
 * reset by their owners (piix.c, acpi_pm.c, and each device's own reset). */
static void pci_header_reset(PciDevice *d)
{
    pci_cfg_put(d, PCI_COMMAND, 2, 0);
    pci_cfg_put(d, PCI_STATUS, 2, 0);
    d->cfg[PCI_CACHE_LINE] = 0;
    d->cfg[PCI_LATENCY] = 0;
    for (int i = 0; i < PCI_BARS; i++) {
        uint32_t type_bits = d->bar[i].type == PCI_BAR_IO ? 1 : d->bar[i].type == PCI_BAR_MEM32_PREFETCH ? 8 : 0;
        pci_cfg_put(d, (uint8_t)(PCI_BAR0 + 4 * i), 4, type_bits);
    }
    pci_cfg_put(d, PCI_ROM_BAR, 4, 0);
    d->cfg[PCI_INT_LINE] = 0;
    d->irq_level = 0;
    pci_sync_mappings(d);
}

static void pci_reset(void *opaque)
{
    PciBus *pci = opaque;
    pci->confadd = 0;
    for (int i = 0; i < pci->ndev; i++)
        pci_header_reset(pci->list[i]);
    i440fx_reset(pci->host);
    piix3_reset(pci->isa);
    acpi_pm_reset(pci->pm);
    pci_update_irqs(pci);
}

typedef struct PciFunctionState {
    int32_t devfn;
    int32_t irq_level;
    uint8_t cfg[256];
} PciFunctionState;

static void pci_save(void *opaque, StateStream *s)
{
    PciBus *pci = opaque;
    state_put(s, "pci.confadd", &pci->confadd, sizeof pci->confadd);
    uint32_t n = (uint32_t)pci->ndev;
    state_put(s, "pci.count", &n, sizeof n);
    for (int i = 0; i < pci->ndev; i++) {
        PciFunctionState f = {.devfn = pci->list[i]->devfn, .irq_level = pci->list[i]->irq_level};
        memcpy(f.cfg, pci->list[i]->cfg, sizeof f.cfg);
        state_put(s, "pci.function", &f, sizeof f);
    }
    i440fx_save(pci->host, s);
    acpi_pm_save(pci->pm, s);
}

static int pci_load(void *opaque, StateStream *s)
{
    PciBus *pci = opaque;
    uint32_t confadd, n;
    if (state_get(s, "pci.confadd", &confadd, sizeof confadd) || state_get(s, "pci.count", &n, sizeof n) ||
        n != (uint32_t)pci->ndev)
        return -1;
    for (int i = 0; i < pci->ndev; i++) {
        PciFunctionState f;
        if (state_get(s, "pci.function", &f, sizeof f) || f.devfn != pci->list[i]->devfn)
            return -1;
        memcpy(pci->list[i]->cfg, f.cfg, sizeof f.cfg);
        pci->list[i]->irq_level = f.irq_level != 0;
    }
    pci->confadd = confadd & CONFADD_MASK;
    if (i440fx_load(pci->host, s) || acpi_pm_load(pci->pm, s))
        return -1;
    for (int i = 0; i < pci->ndev; i++)
        pci_sync_mappings(pci->list[i]);
    i440fx_apply(pci->host);
    pci_update_irqs(pci);
    return 0;
}

const DeviceClass pci_device_class = {
    .name = "pci",
    .reset = pci_reset,
    .save = pci_save,
    .load = pci_load,
    .destroy = pci_destroy,
};
