/*
 * chipset/bus.c -- the port-I/O bus and the physical address space.
 *
 * Port I/O: a 64 K table maps each port to a region index (0 = unclaimed), so
 * dispatch is O(1); accesses of a width the device does not handle natively
 * are split into little-endian halves (or widened and masked for byte reads
 * of a dword-only device).  Unclaimed ports read all-ones.
 *
 * Memory: guest RAM is one host allocation (mmap'ed, so untouched RAM costs
 * no host memory).  Below 4 GiB it covers [0, below_4g) except the legacy
 * hole 0xA0000-0xFFFFF; the remainder sits at 4 GiB as on the i440FX.
 * 0xC0000-0xFFFFF is shadow RAM under PAM control (read and write enables per
 * 16 KiB granule, 82441FX datasheet §3.2.18), with the BIOS image's last
 * 128 KiB as the ROM side of 0xE0000-0xFFFFF.  The whole BIOS image also
 * appears just below 4 GiB.  MMIO and extra RAM (framebuffers) live in a small
 * region list consulted only on the CPU's TLB misses and by DMA.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "chipset.h"

#define IO_REGIONS_MAX 255
#define MEM_REGIONS_MAX 64
#define PAM_BASE 0xC0000u
#define PAM_GRANULE 0x4000u
#define PAM_GRANULES 16
#define ISA_BIOS_BASE 0xE0000u
#define FOUR_GIB 0x100000000ull
#define LOW_RAM_LIMIT 0xE0000000ull /* RAM above this moves to 4 GiB (QEMU's i440FX choice) */

typedef struct IoRegion {
    uint16_t base;
    uint32_t count;
    const IoOps *ops;
    void *dev;
} IoRegion;

/* An access of exactly `width` bytes at `port` (bus_map_io_wide). */
typedef struct IoWideClaim {
    uint16_t port;
    unsigned width;
    const IoOps *ops;
    void *dev;
} IoWideClaim;

typedef struct MemRegion {
    uint64_t base, len;
    const MmioOps *ops; /* MMIO, or ... */
    uint8_t *host;      /* ... host memory */
    bool readonly;
    void *dev;
} MemRegion;

typedef struct PortLog {
    uint16_t port;
    FILE *f;
} PortLog;

struct Bus {
    uint8_t io_owner[65536];
    IoRegion io[IO_REGIONS_MAX + 1]; /* index 0 unused */
    uint8_t port_logged[65536 / 8];
    PortLog logs[16];
    int nlogs;
    IoWideClaim wide[4];
    int nwide;

    uint8_t *ram;
    uint64_t ram_size, below_4g;
    const uint8_t *bios;
    size_t bios_size;
    bool pam_read_ram[PAM_GRANULES], pam_write_ram[PAM_GRANULES];
    uint64_t a20_mask;

    MemRegion mem[MEM_REGIONS_MAX];
    int nmem;

    const BusCpuHooks *hooks;
    void *cpu;
    BusIntrAck intr_ack;
    void *intr_ctl;
    int intr_level;
    void (*lint0)(void *apic, int level);
    void (*ferr)(void *opaque, int level);
    void *ferr_opaque;
    uint64_t (*apic_read_base)(void *apic);
    void (*apic_write_base)(void *apic, uint64_t v);
    void *apic;

    BusRequest request;
    int request_status;
};

/* ---------------------------------------------------------------- errors */

int vsx_errorf(VsxError *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    size_t used = strnlen(err->msg, sizeof err->msg);
    if (used && used + 1 < sizeof err->msg && err->msg[used - 1] != '\n')
        err->msg[used++] = '\n', err->msg[used] = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg + used, sizeof err->msg - used, fmt, ap);
    va_end(ap);
    return -1;
}

/* ------------------------------------------------------------- lifecycle */

Bus *bus_create(uint64_t ram_size, VsxError *err)
{
    Bus *bus = calloc(1, sizeof *bus);
    if (!bus) {
        vsx_errorf(err, "out of memory");
        return NULL;
    }
    ram_size = (ram_size + BUS_PAGE_SIZE - 1) & BUS_PAGE_MASK;
    if (ram_size) {
        void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED) {
            vsx_errorf(err, "cannot allocate %llu MiB of guest RAM: %s",
                       (unsigned long long)(ram_size >> 20), strerror(errno));
            free(bus);
            return NULL;
        }
        bus->ram = p;
    }
    bus->ram_size = ram_size;
    bus->below_4g = ram_size < LOW_RAM_LIMIT ? ram_size : LOW_RAM_LIMIT;
    bus->a20_mask = ~0ull;
    return bus;
}

void bus_destroy(Bus *bus)
{
    if (!bus)
        return;
    if (bus->ram)
        munmap(bus->ram, bus->ram_size);
    free(bus);
}

uint8_t *bus_ram(Bus *bus) { return bus->ram; }
uint64_t bus_ram_size(const Bus *bus) { return bus->ram_size; }
uint64_t bus_ram_below_4g(const Bus *bus) { return bus->below_4g; }

static void bus_map_changed(Bus *bus)
{
    if (bus->hooks && bus->hooks->map_changed)
        bus->hooks->map_changed(bus->cpu);
}

/* --------------------------------------------------------------- port I/O */

int bus_map_io(Bus *bus, uint16_t base, uint32_t count, const IoOps *ops, void *dev)
{
    if (!count || base + count > 65536 || !ops || !(ops->widths & (IO_W8 | IO_W16 | IO_W32)))
        return -EINVAL;
    for (uint32_t p = base; p < base + count; p++)
        if (bus->io_owner[p])
            return -EEXIST;
    int idx = 0;
    for (int i = 1; i <= IO_REGIONS_MAX; i++)
        if (!bus->io[i].ops) {
            idx = i;
            break;
        }
    if (!idx)
        return -ENOSPC;
    bus->io[idx] = (IoRegion){base, count, ops, dev};
    memset(bus->io_owner + base, idx, count);
    return 0;
}

int bus_map_io_wide(Bus *bus, uint16_t port, unsigned width, const IoOps *ops, void *dev)
{
    if (!ops || (width != 2 && width != 4))
        return -EINVAL;
    for (int i = 0; i < bus->nwide; i++)
        if (bus->wide[i].port == port && bus->wide[i].width == width)
            return -EEXIST;
    if (bus->nwide >= (int)(sizeof bus->wide / sizeof bus->wide[0]))
        return -ENOSPC;
    bus->wide[bus->nwide++] = (IoWideClaim){port, width, ops, dev};
    return 0;
}

static const IoWideClaim *io_wide_find(Bus *bus, uint16_t port, unsigned width)
{
    for (int i = 0; i < bus->nwide; i++)
        if (bus->wide[i].port == port && bus->wide[i].width == width)
            return &bus->wide[i];
    return NULL;
}

void bus_unmap_io(Bus *bus, uint16_t base, uint32_t count)
{
    for (int i = 0; i < bus->nwide; i++)
        if (bus->wide[i].port - (uint32_t)base < count)
            bus->wide[i--] = bus->wide[--bus->nwide];
    for (uint32_t p = base; p < base + count && p < 65536; p++) {
        int idx = bus->io_owner[p];
        if (!idx)
            continue;
        IoRegion *r = &bus->io[idx];
        memset(bus->io_owner + r->base, 0, r->count);
        r->ops = NULL;
    }
}

static uint32_t ones(unsigned width)
{
    return width >= 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
}

/* One access that lies inside region r: native, split or widened. */
static uint32_t io_region_read(IoRegion *r, uint32_t off, unsigned width)
{
    unsigned w = r->ops->widths;
    if ((w & width) && off + width <= r->count)
        return r->ops->read(r->dev, off, width);
    if (width > 1) {
        unsigned half = width / 2;
        uint32_t lo = off + half <= r->count ? io_region_read(r, off, half) : ones(half);
        uint32_t hi = off + width <= r->count ? io_region_read(r, off + half, half) : ones(half);
        return lo | hi << (8 * half);
    }
    /* A byte read of a device that only decodes wider accesses. */
    unsigned wide = (w & IO_W16) ? 2 : 4;
    uint32_t aligned = off & ~(wide - 1);
    if (aligned + wide > r->count)
        return 0xFF;
    return (r->ops->read(r->dev, aligned, wide) >> (8 * (off - aligned))) & 0xFF;
}

static void io_region_write(IoRegion *r, uint32_t off, uint32_t value, unsigned width)
{
    unsigned w = r->ops->widths;
    if ((w & width) && off + width <= r->count) {
        r->ops->write(r->dev, off, value, width);
        return;
    }
    if (width > 1) {
        unsigned half = width / 2;
        if (off + half <= r->count)
            io_region_write(r, off, value & ones(half), half);
        if (off + width <= r->count)
            io_region_write(r, off + half, value >> (8 * half), half);
        return;
    }
    /* Byte write to a wider-only device: the byte lanes outside are undefined
     * on a real bus; we send the byte in its lane with the others zero. */
    unsigned wide = (w & IO_W16) ? 2 : 4;
    uint32_t aligned = off & ~(wide - 1);
    if (aligned + wide <= r->count)
        r->ops->write(r->dev, aligned, (value & 0xFF) << (8 * (off - aligned)), wide);
}

uint32_t bus_io_read(Bus *bus, uint16_t port, unsigned width)
{
    const IoWideClaim *w = bus->nwide && width > 1 ? io_wide_find(bus, port, width) : NULL;
    if (w)
        return w->ops->read(w->dev, 0, width);
    int idx = bus->io_owner[port];
    if (idx && (uint32_t)port + width <= (uint32_t)bus->io[idx].base + bus->io[idx].count)
        return io_region_read(&bus->io[idx], port - bus->io[idx].base, width);
    if (width == 1)
        return idx ? io_region_read(&bus->io[idx], port - bus->io[idx].base, 1) : 0xFF;
    /* Straddles regions (or unclaimed): assemble from halves. */
    unsigned half = width / 2;
    return bus_io_read(bus, port, half) | bus_io_read(bus, (uint16_t)(port + half), half) << (8 * half);
}

static void bus_port_log(Bus *bus, uint16_t port, uint32_t value, unsigned width)
{
    for (unsigned i = 0; i < width; i++) {
        uint16_t p = (uint16_t)(port + i);
        if (!(bus->port_logged[p >> 3] & (1u << (p & 7))))
            continue;
        for (int l = 0; l < bus->nlogs; l++)
            if (bus->logs[l].port == p) {
                fputc((value >> (8 * i)) & 0xFF, bus->logs[l].f);
                fflush(bus->logs[l].f);
            }
    }
}

void bus_io_write(Bus *bus, uint16_t port, uint32_t value, unsigned width)
{
    if (bus->nlogs)
        bus_port_log(bus, port, value, width);
    const IoWideClaim *w = bus->nwide && width > 1 ? io_wide_find(bus, port, width) : NULL;
    if (w) {
        w->ops->write(w->dev, 0, value, width);
        return;
    }
    int idx = bus->io_owner[port];
    if (idx && (uint32_t)port + width <= (uint32_t)bus->io[idx].base + bus->io[idx].count) {
        io_region_write(&bus->io[idx], port - bus->io[idx].base, value, width);
        return;
    }
    if (width == 1)
        return; /* unclaimed: dropped */
    unsigned half = width / 2;
    int saved = bus->nlogs; /* log each byte once */
    bus->nlogs = 0;
    bus_io_write(bus, port, value & ones(half), half);
    bus_io_write(bus, (uint16_t)(port + half), value >> (8 * half), half);
    bus->nlogs = saved;
}

int bus_add_port_log(Bus *bus, uint16_t port, FILE *f)
{
    if (bus->nlogs >= (int)(sizeof bus->logs / sizeof bus->logs[0]))
        return -ENOSPC;
    bus->logs[bus->nlogs++] = (PortLog){port, f};
    bus->port_logged[port >> 3] |= 1u << (port & 7);
    return 0;
}

/* ----------------------------------------------------------------- memory */

static MemRegion *mem_find(Bus *bus, uint64_t paddr)
{
    for (int i = 0; i < bus->nmem; i++)
        if (paddr - bus->mem[i].base < bus->mem[i].len)
            return &bus->mem[i];
    return NULL;
}

static int mem_add(Bus *bus, const MemRegion *r)
{
    if (!r->len || (r->base | r->len) & (BUS_PAGE_SIZE - 1) || r->base + r->len < r->base)
        return -EINVAL;
    for (int i = 0; i < bus->nmem; i++)
        if (r->base < bus->mem[i].base + bus->mem[i].len && bus->mem[i].base < r->base + r->len)
            return -EEXIST;
    if (bus->nmem >= MEM_REGIONS_MAX)
        return -ENOSPC;
    bus->mem[bus->nmem++] = *r;
    bus_map_changed(bus);
    return 0;
}

int bus_map_mmio(Bus *bus, uint64_t base, uint64_t len, const MmioOps *ops, void *dev)
{
    if (!ops)
        return -EINVAL;
    return mem_add(bus, &(MemRegion){.base = base, .len = len, .ops = ops, .dev = dev});
}

int bus_map_ram(Bus *bus, uint64_t base, uint64_t len, uint8_t *host, bool readonly)
{
    if (!host)
        return -EINVAL;
    return mem_add(bus, &(MemRegion){.base = base, .len = len, .host = host, .readonly = readonly});
}

void bus_unmap(Bus *bus, uint64_t base)
{
    for (int i = 0; i < bus->nmem; i++)
        if (bus->mem[i].base == base) {
            bus->mem[i] = bus->mem[--bus->nmem];
            bus_map_changed(bus);
            return;
        }
}

int bus_set_bios(Bus *bus, const uint8_t *image, size_t size)
{
    if (!image || !size || size % 0x10000 || size > 16u << 20)
        return -EINVAL;
    bus->bios = image;
    bus->bios_size = size;
    bus_map_changed(bus);
    return 0;
}

void bus_set_shadow(Bus *bus, uint32_t base, uint32_t len, bool read_ram, bool write_ram)
{
    for (uint32_t a = base; a < base + len; a += PAM_GRANULE) {
        if (a < PAM_BASE || a >= 0x100000)
            continue;
        int g = (a - PAM_BASE) / PAM_GRANULE;
        bus->pam_read_ram[g] = read_ram;
        bus->pam_write_ram[g] = write_ram;
    }
    bus_map_changed(bus);
}

void bus_set_a20(Bus *bus, bool enabled)
{
    uint64_t mask = enabled ? ~0ull : ~(uint64_t)(1u << 20);
    if (mask != bus->a20_mask) {
        bus->a20_mask = mask;
        bus_map_changed(bus);
    }
}

bool bus_a20(const Bus *bus) { return bus->a20_mask == ~0ull; }
uint64_t bus_a20_mask(const Bus *bus) { return bus->a20_mask; }

/* ROM side of the legacy BIOS window: the last 128 KiB of the image. */
static uint8_t *isa_bios_ptr(Bus *bus, uint64_t paddr)
{
    if (!bus->bios || paddr < ISA_BIOS_BASE)
        return NULL;
    size_t window = bus->bios_size < 0x20000 ? bus->bios_size : 0x20000;
    uint64_t off = paddr - (0x100000 - window);
    if (paddr < 0x100000 - window)
        return NULL;
    return (uint8_t *)bus->bios + bus->bios_size - window + off;
}

void bus_page(Bus *bus, uint64_t page_addr, BusPage *out)
{
    page_addr &= BUS_PAGE_MASK;
    out->read = out->write = NULL;
    MemRegion *r = mem_find(bus, page_addr);
    if (r) {
        if (r->host) {
            out->read = r->host + (page_addr - r->base);
            out->write = r->readonly ? NULL : out->read;
        }
        return;
    }
    if (page_addr < 0xA0000 || (page_addr >= 0x100000 && page_addr < bus->below_4g)) {
        if (page_addr < bus->below_4g)
            out->read = out->write = bus->ram + page_addr;
        return;
    }
    if (page_addr >= PAM_BASE && page_addr < 0x100000) {
        int g = (page_addr - PAM_BASE) / PAM_GRANULE;
        bool have_ram = page_addr < bus->below_4g;
        out->read = bus->pam_read_ram[g] ? (have_ram ? bus->ram + page_addr : NULL)
                                         : isa_bios_ptr(bus, page_addr);
        out->write = bus->pam_write_ram[g] && have_ram ? bus->ram + page_addr : NULL;
        return;
    }
    if (bus->bios && page_addr < FOUR_GIB && page_addr >= FOUR_GIB - bus->bios_size) {
        out->read = (uint8_t *)bus->bios + (page_addr - (FOUR_GIB - bus->bios_size));
        return;
    }
    if (page_addr >= FOUR_GIB && page_addr - FOUR_GIB < bus->ram_size - bus->below_4g)
        out->read = out->write = bus->ram + bus->below_4g + (page_addr - FOUR_GIB);
}

static uint64_t load_le(const uint8_t *p, unsigned width)
{
    uint64_t v = 0;
    memcpy(&v, p, width); /* little-endian host (x86-64) */
    return v;
}

uint64_t bus_mem_read(Bus *bus, uint64_t paddr, unsigned width)
{
    if (width > 1 && ((paddr ^ (paddr + width - 1)) & BUS_PAGE_MASK)) {
        uint64_t v = 0;
        for (unsigned i = 0; i < width; i++)
            v |= bus_mem_read(bus, paddr + i, 1) << (8 * i);
        return v;
    }
    BusPage pg;
    bus_page(bus, paddr, &pg);
    if (pg.read)
        return load_le(pg.read + (paddr & (BUS_PAGE_SIZE - 1)), width);
    MemRegion *r = mem_find(bus, paddr);
    if (r && r->ops) {
        uint64_t off = paddr - r->base;
        if (width == 8)
            return r->ops->read(r->dev, off, 4) | (uint64_t)r->ops->read(r->dev, off + 4, 4) << 32;
        return r->ops->read(r->dev, off, width);
    }
    return width == 8 ? ~0ull : ones(width);
}

void bus_mem_write(Bus *bus, uint64_t paddr, uint64_t value, unsigned width)
{
    if (width > 1 && ((paddr ^ (paddr + width - 1)) & BUS_PAGE_MASK)) {
        for (unsigned i = 0; i < width; i++)
            bus_mem_write(bus, paddr + i, (value >> (8 * i)) & 0xFF, 1);
        return;
    }
    BusPage pg;
    bus_page(bus, paddr, &pg);
    if (pg.write) {
        memcpy(pg.write + (paddr & (BUS_PAGE_SIZE - 1)), &value, width);
        return;
    }
    MemRegion *r = mem_find(bus, paddr);
    if (r && r->ops) {
        uint64_t off = paddr - r->base;
        if (width == 8) {
            r->ops->write(r->dev, off, (uint32_t)value, 4);
            r->ops->write(r->dev, off + 4, (uint32_t)(value >> 32), 4);
        } else {
            r->ops->write(r->dev, off, (uint32_t)value, width);
        }
    }
}

void bus_dma_read(Bus *bus, uint64_t paddr, void *buf, size_t len)
{
    uint8_t *dst = buf;
    while (len) {
        size_t chunk = BUS_PAGE_SIZE - (paddr & (BUS_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        BusPage pg;
        bus_page(bus, paddr, &pg);
        if (pg.read)
            memcpy(dst, pg.read + (paddr & (BUS_PAGE_SIZE - 1)), chunk);
        else
            for (size_t i = 0; i < chunk; i++)
                dst[i] = (uint8_t)bus_mem_read(bus, paddr + i, 1);
        dst += chunk, paddr += chunk, len -= chunk;
    }
}

void bus_dma_write(Bus *bus, uint64_t paddr, const void *buf, size_t len)
{
    const uint8_t *src = buf;
    uint64_t start = paddr;
    size_t total = len;
    while (len) {
        size_t chunk = BUS_PAGE_SIZE - (paddr & (BUS_PAGE_SIZE - 1));
        if (chunk > len)
            chunk = len;
        BusPage pg;
        bus_page(bus, paddr, &pg);
        if (pg.write)
            memcpy(pg.write + (paddr & (BUS_PAGE_SIZE - 1)), src, chunk);
        else
            for (size_t i = 0; i < chunk; i++)
                bus_mem_write(bus, paddr + i, src[i], 1);
        src += chunk, paddr += chunk, len -= chunk;
    }
    if (total && bus->hooks && bus->hooks->ram_written)
        bus->hooks->ram_written(bus->cpu, start, total);
}

/* ---------------------------------------------------------- the CPU side */

void bus_set_cpu_hooks(Bus *bus, const BusCpuHooks *hooks, void *cpu)
{
    bus->hooks = hooks;
    bus->cpu = cpu;
    if (hooks && hooks->intr)
        hooks->intr(cpu, bus->intr_level);
}

void bus_set_intr_controller(Bus *bus, BusIntrAck ack, void *ctl)
{
    bus->intr_ack = ack;
    bus->intr_ctl = ctl;
}

void bus_set_intr(Bus *bus, int level)
{
    if (bus->lint0)
        bus->lint0(bus->apic, level);
    else
        bus_cpu_intr(bus, level);
}

void bus_cpu_intr(Bus *bus, int level)
{
    bus->intr_level = level;
    if (bus->hooks && bus->hooks->intr)
        bus->hooks->intr(bus->cpu, level);
}

void bus_set_intr_filter(Bus *bus, void (*lint0)(void *apic, int level), void *apic)
{
    bus->lint0 = lint0;
    bus->apic = apic;
}

void bus_set_apic(Bus *bus, uint64_t (*read_base)(void *apic), void (*write_base)(void *apic, uint64_t v),
                  void *apic)
{
    bus->apic_read_base = read_base;
    bus->apic_write_base = write_base;
    bus->apic = apic;
}

bool bus_apic_present(const Bus *bus) { return bus->apic_read_base != NULL; }

uint64_t bus_apic_base_read(Bus *bus)
{
    return bus->apic_read_base ? bus->apic_read_base(bus->apic) : 0;
}

void bus_apic_base_write(Bus *bus, uint64_t v)
{
    if (bus->apic_write_base)
        bus->apic_write_base(bus->apic, v);
}

int bus_intr_ack(Bus *bus)
{
    /* No controller: the data bus floats high during INTA. */
    return bus->intr_ack ? bus->intr_ack(bus->intr_ctl) : 0xFF;
}

void bus_raise_nmi(Bus *bus)
{
    if (bus->hooks && bus->hooks->nmi)
        bus->hooks->nmi(bus->cpu);
}

void bus_set_ferr_handler(Bus *bus, void (*fn)(void *opaque, int level), void *opaque)
{
    bus->ferr = fn;
    bus->ferr_opaque = opaque;
}

void bus_set_ferr(Bus *bus, int level)
{
    if (bus->ferr)
        bus->ferr(bus->ferr_opaque, level);
}

void bus_cpu_kick(Bus *bus)
{
    if (bus->hooks && bus->hooks->stop)
        bus->hooks->stop(bus->cpu);
}

/* Later requests of higher rank win: exit/poweroff over shutdown over reset. */
static int request_rank(BusRequest r)
{
    static const int rank[] = {
        [BUS_REQ_NONE] = 0, [BUS_REQ_RESET] = 1, [BUS_REQ_SHUTDOWN] = 2,
        [BUS_REQ_POWEROFF] = 3, [BUS_REQ_EXIT] = 3,
    };
    return rank[r];
}

void bus_request(Bus *bus, BusRequest req, int status)
{
    if (request_rank(req) >= request_rank(bus->request) && req != BUS_REQ_NONE) {
        bus->request = req;
        bus->request_status = status;
    }
    if (bus->hooks && bus->hooks->stop)
        bus->hooks->stop(bus->cpu);
}

BusRequest bus_take_request(Bus *bus, int *status)
{
    BusRequest r = bus->request;
    if (status)
        *status = bus->request_status;
    bus->request = BUS_REQ_NONE;
    bus->request_status = 0;
    return r;
}
