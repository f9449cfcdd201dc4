/*
 * chipset/apic.c -- the local APIC of the (single) CPU and the I/O APIC.
 *
 * References: Intel SDM Vol. 3A ch. 10 "Advanced Programmable Interrupt
 * Controller" (register map 10.4.1, priorities 10.8.3, EOI 10.8.5, LVT 10.5.1,
 * timer 10.5.4, ICR 10.6.1); Intel 82093AA I/O APIC datasheet (IOREGSEL and
 * IOWIN, redirection table, remote IRR for level-triggered inputs).
 *
 * Wiring: the PIC's INTR output arrives on LINT0 (bus_set_intr_filter); at
 * reset LINT0 is ExtINT and unmasked (MP spec "virtual wire" mode, as QEMU
 * does for the BSP), so the PIC keeps working until software programs the
 * APIC.  The CPU acknowledges through lapic_intr_ack, which hands ExtINT
 * acknowledges on to the PIC.  The IOAPIC delivers its interrupts straight
 * into the local APIC (one CPU; physical destination = APIC ID 0, logical
 * destination matched against the LDR, broadcast 0xFF).
 * Not emulated: SMI/INIT/SIPI to other CPUs (there are none), the thermal
 * and performance-counter LVT sources (never fire), TSC-deadline mode (P6
 * has none).
 */
#include <stdlib.h>
#include <string.h>

#include "devices.h"

#define LAPIC_BASE_DEFAULT 0xFEE00000u
#define APIC_BASE_BSP (1u << 8)
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BUS_HZ 100000000ull /* 100 MHz front-side bus */
#define IOAPIC_PINS 24

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };
#define LVT_MASKED (1u << 16)
#define LVT_LEVEL (1u << 15)
#define LVT_REMOTE_IRR (1u << 14)
#define LVT_PENDING (1u << 12)
#define LVT_TIMER_PERIODIC (1u << 17)
enum { DM_FIXED = 0, DM_LOWEST = 1, DM_SMI = 2, DM_NMI = 4, DM_INIT = 5, DM_SIPI = 6, DM_EXTINT = 7 };

struct Lapic {
    Bus *bus;
    Clock *clk;
    Pic *pic;
    Timer *timer;
    uint64_t base_msr;
    uint32_t id, tpr, ldr, dfr, svr, esr, icr_lo, icr_hi;
    uint32_t lvt[LVT_COUNT];
    uint32_t isr[8], irr[8], tmr[8];
    uint32_t initial_count, divide_conf;
    uint64_t count_start; /* clock time the current count period began */
    int lint0_level;
    int cpu_intr;
    IoApic *ioapic;
};

struct IoApic {
    Lapic *lapic;
    uint32_t id, sel;
    uint64_t redir[IOAPIC_PINS];
    uint32_t levels; /* input pin levels */
};

/* ------------------------------------------------------------ bit sets */

static void vset(uint32_t *v, int vec) { v[vec >> 5] |= 1u << (vec & 31); }
static void vclr(uint32_t *v, int vec) { v[vec >> 5] &= ~(1u << (vec & 31)); }
static bool vtest(const uint32_t *v, int vec) { return v[vec >> 5] >> (vec & 31) & 1; }
static int vhighest(const uint32_t *v)
{
    for (int i = 7; i >= 0; i--)
        if (v[i])
            return i * 32 + 31 - __builtin_clz(v[i]);
    return -1;
}

/* ----------------------------------------------------------- priority */

static bool lapic_enabled(const Lapic *a)
{
    return (a->base_msr & APIC_BASE_ENABLE) && (a->svr & 0x100);
}

static uint32_t lapic_ppr(const Lapic *a)
{
    int isrv = vhighest(a->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;
    return (a->tpr & 0xF0) >= isr_class ? a->tpr & 0xFF : isr_class;
}

/* The PIC's INTR reaches the CPU when LINT0 is ExtINT and unmasked, or when
 * the APIC is globally disabled (then LINT0 is the plain INTR pin). */
static bool extint_passes(const Lapic *a)
{
    if (!(a->base_msr & APIC_BASE_ENABLE))
        return true;
    uint32_t l = a->lvt[LVT_LINT0];
    return !(l & LVT_MASKED) && ((l >> 8) & 7) == DM_EXTINT;
}

static int lapic_deliverable(const Lapic *a)
{
    int v = vhighest(a->irr);
    if (v < 0 || !lapic_enabled(a))
        return -1;
    return ((uint32_t)v & 0xF0) > (lapic_ppr(a) & 0xF0) ? v : -1;
}

static void lapic_update(Lapic *a)
{
    int level = lapic_deliverable(a) >= 0 || (a->lint0_level && extint_passes(a));
    if (level != a->cpu_intr) {
        a->cpu_intr = level;
        bus_cpu_intr(a->bus, level);
    }
}

/* Accepts an interrupt message (fixed/lowest-priority delivery). */
static void lapic_accept(Lapic *a, int vector, bool level)
{
    if (vector < 16) {
        a->esr |= 0x40; /* illegal vector received */
        return;
    }
    vset(a->irr, vector);
    if (level)
        vset(a->tmr, vector);
    else
        vclr(a->tmr, vector);
    lapic_update(a);
}

static void lapic_deliver(Lapic *a, int mode, int vector, bool level)
{
    switch (mode) {
    case DM_FIXED:
    case DM_LOWEST: lapic_accept(a, vector, level); break;
    case DM_NMI: bus_raise_nmi(a->bus); break;
    case DM_EXTINT: lapic_update(a); break;
    default: break; /* SMI, INIT, SIPI: nothing to do for one CPU */
    }
}

/* -------------------------------------------------------------- timer */

static uint64_t timer_period_ns(const Lapic *a)
{
    unsigned d = (a->divide_conf & 3) | ((a->divide_conf >> 1) & 4);
    unsigned shift = d == 7 ? 0 : d + 1; /* 000 -> /2 ... 110 -> /128, 111 -> /1 */
    return (uint64_t)a->initial_count * (1000000000ull << shift) / APIC_BUS_HZ;
}

static uint32_t timer_current(Lapic *a)
{
    if (!a->initial_count)
        return 0;
    uint64_t period = timer_period_ns(a), now = clock_now(a->clk);
    if (!period)
        return 0;
    uint64_t elapsed = now - a->count_start;
    if (elapsed >= period) {
        if (!(a->lvt[LVT_TIMER] & LVT_TIMER_PERIODIC))
            return 0;
        elapsed %= period;
    }
    return (uint32_t)(a->initial_count - elapsed * a->initial_count / period);
}

static void timer_rearm(Lapic *a)
{
    uint64_t period = timer_period_ns(a);
    if (!a->initial_count || !period) {
        timer_cancel(a->timer);
        return;
    }
    timer_arm(a->timer, a->count_start + period);
}

static void lapic_timer_fire(void *opaque, uint64_t now)
{
    Lapic *a = opaque;
    uint32_t lvt = a->lvt[LVT_TIMER];
    if (!(lvt & LVT_MASKED))
        lapic_accept(a, lvt & 0xFF, false);
    if (lvt & LVT_TIMER_PERIODIC) {
        uint64_t period = timer_period_ns(a);
        a->count_start += period;
        if (a->count_start + period <= now) /* far behind: resynchronise */
            a->count_start = now - (now - a->count_start) % period;
        timer_rearm(a);
    }
    /* One-shot: the current count reads 0 from now on (timer_current). */
}

/* ---------------------------------------------------------------- EOI */

static void ioapic_eoi(IoApic *io, int vector);

static void lapic_eoi(Lapic *a)
{
    int v = vhighest(a->isr);
    if (v < 0)
        return;
    vclr(a->isr, v);
    if (vtest(a->tmr, v) && a->ioapic)
        ioapic_eoi(a->ioapic, v);
    lapic_update(a);
}

/* ----------------------------------------------------------- registers */

static void lapic_write_icr(Lapic *a, uint32_t lo)
{
    a->icr_lo = lo & ~(1u << 12); /* delivery completes at once */
    int mode = (lo >> 8) & 7, vector = lo & 0xFF, shorthand = (lo >> 18) & 3;
    bool to_self = shorthand == 1 || shorthand == 2 ||
                   (shorthand == 0 && ((lo & (1u << 11)) ? (a->icr_hi >> 24) & (a->ldr >> 24)
                                                         : (a->icr_hi >> 24) == a->id || (a->icr_hi >> 24) == 0xFF));
    if (to_self)
        lapic_deliver(a, mode, vector, false);
}

static uint32_t lapic_read_reg(Lapic *a, unsigned reg)
{
    switch (reg) {
    case 0x02: return a->id << 24;
    case 0x03: return 0x00050014; /* version 14h, 6 LVT entries */
    case 0x08: return a->tpr;
    case 0x09: return 0; /* APR */
    case 0x0A: return lapic_ppr(a);
    case 0x0D: return a->ldr;
    case 0x0E: return a->dfr;
    case 0x0F: return a->svr;
    case 0x28: return a->esr;
    case 0x30: return a->icr_lo;
    case 0x31: return a->icr_hi;
    case 0x38: return a->initial_count;
    case 0x39: return timer_current(a);
    case 0x3E: return a->divide_conf;
    }
    if (reg >= 0x10 && reg < 0x18)
        return a->isr[reg - 0x10];
    if (reg >= 0x18 && reg < 0x20)
        return a->tmr[reg - 0x18];
    if (reg >= 0x20 && reg < 0x28)
        return a->irr[reg - 0x20];
    if (reg >= 0x32 && reg < 0x32 + LVT_COUNT)
        return a->lvt[reg - 0x32];
    return 0;
}

static void lapic_write_reg(Lapic *a, unsigned reg, uint32_t v)
{
    static const uint32_t lvt_mask[LVT_COUNT] = {0x310FF, 0x117FF, 0x117FF, 0x1A7FF, 0x1A7FF, 0x110FF};
    switch (reg) {
    case 0x02: a->id = v >> 24; return;
    case 0x08: a->tpr = v & 0xFF; lapic_update(a); return;
    case 0x0B: lapic_eoi(a); return;
    case 0x0D: a->ldr = v & 0xFF000000u; return;
    case 0x0E: a->dfr = v | 0x0FFFFFFFu; return;
    case 0x0F:
        a->svr = v & 0x3FF;
        if (!(v & 0x100)) /* software disable masks every LVT entry */
            for (int i = 0; i < LVT_COUNT; i++)
                a->lvt[i] |= LVT_MASKED;
        lapic_update(a);
        return;
    case 0x28: a->esr = 0; return;
    case 0x30: lapic_write_icr(a, v); return;
    case 0x31: a->icr_hi = v & 0xFF000000u; return;
    case 0x38:
        a->initial_count = v;
        a->count_start = clock_now(a->clk);
        timer_rearm(a);
        return;
    case 0x3E:
        a->divide_conf = v & 0xB;
        timer_rearm(a);
        return;
    }
    if (reg >= 0x32 && reg < 0x32 + LVT_COUNT) {
        int i = reg - 0x32;
        if (!(a->svr & 0x100))
            v |= LVT_MASKED;
        a->lvt[i] = (a->lvt[i] & (LVT_REMOTE_IRR | LVT_PENDING)) | (v & lvt_mask[i]);
        if (i == LVT_TIMER)
            timer_rearm(a);
        lapic_update(a);
    }
}

static uint32_t lapic_mmio_read(void *opaque, uint64_t off, unsigned width)
{
    Lapic *a = opaque;
    uint32_t v = lapic_read_reg(a, (unsigned)(off >> 4) & 0xFF);
    unsigned shift = (off & 3) * 8;
    return width == 4 ? v : (v >> shift) & ((1u << (8 * width)) - 1);
}

static void lapic_mmio_write(void *opaque, uint64_t off, uint32_t value, unsigned width)
{
    if (width != 4 || (off & 0xF))
        return; /* only aligned 32-bit accesses reach APIC registers */
    lapic_write_reg(opaque, (unsigned)(off >> 4) & 0xFF, value);
}

static const MmioOps lapic_mmio_ops = {lapic_mmio_read, lapic_mmio_write, "local APIC"};

/* ------------------------------------------------ CPU side: INTR and MSR */

static void lapic_lint0(void *opaque, int level)
{
    Lapic *a = opaque;
    a->lint0_level = level;
    lapic_update(a);
}

int lapic_intr_ack(void *opaque)
{
    Lapic *a = opaque;
    int v = lapic_deliverable(a);
    if (v >= 0) {
        vclr(a->irr, v);
        vset(a->isr, v);
        lapic_update(a);
        return v;
    }
    if (a->lint0_level && extint_passes(a)) {
        int vec = pic_intr_ack(a->pic);
        lapic_update(a);
        return vec;
    }
    return a->svr & 0xFF; /* spurious interrupt vector */
}

static uint64_t lapic_base_read(void *opaque) { return ((Lapic *)opaque)->base_msr; }

static void lapic_base_write(void *opaque, uint64_t v)
{
    Lapic *a = opaque;
    uint64_t old = a->base_msr;
    a->base_msr = (v & 0xFFFFF000u & ~0xFFFull) | (v & APIC_BASE_ENABLE) | APIC_BASE_BSP;
    if ((old ^ a->base_msr) & ~(uint64_t)APIC_BASE_ENABLE) {
        bus_unmap(a->bus, old & ~0xFFFull);
        bus_map_mmio(a->bus, a->base_msr & ~0xFFFull, BUS_PAGE_SIZE, &lapic_mmio_ops, a);
    }
    lapic_update(a);
}

/* ------------------------------------------------------------- lifecycle */

static void lapic_reset(void *opaque)
{
    Lapic *a = opaque;
    timer_cancel(a->timer);
    uint64_t old = a->base_msr;
    memset(a->isr, 0, sizeof a->isr);
    memset(a->irr, 0, sizeof a->irr);
    memset(a->tmr, 0, sizeof a->tmr);
    a->id = 0;
    a->tpr = a->ldr = a->esr = a->icr_lo = a->icr_hi = 0;
    a->dfr = 0xFFFFFFFFu;
    a->svr = 0xFF;
    a->initial_count = a->divide_conf = 0;
    for (int i = 0; i < LVT_COUNT; i++)
        a->lvt[i] = LVT_MASKED;
    a->lvt[LVT_LINT0] = DM_EXTINT << 8; /* virtual wire for the BSP */
    a->lvt[LVT_LINT1] = DM_NMI << 8;
    a->base_msr = LAPIC_BASE_DEFAULT | APIC_BASE_ENABLE | APIC_BASE_BSP;
    if ((old & ~0xFFFull) != LAPIC_BASE_DEFAULT) {
        bus_unmap(a->bus, old & ~0xFFFull);
        bus_map_mmio(a->bus, LAPIC_BASE_DEFAULT, BUS_PAGE_SIZE, &lapic_mmio_ops, a);
    }
    a->cpu_intr = -1;
    lapic_update(a);
}

static void lapic_save(void *opaque, StateStream *s)
{
    Lapic *a = opaque;
    uint32_t regs[] = {a->id, a->tpr, a->ldr, a->dfr, a->svr, a->esr, a->icr_lo, a->icr_hi,
                       a->initial_count, a->divide_conf, (uint32_t)a->lint0_level};
    state_put(s, "lapic.regs", regs, sizeof regs);
    state_put(s, "lapic.lvt", a->lvt, sizeof a->lvt);
    state_put(s, "lapic.isr", a->isr, sizeof a->isr);
    state_put(s, "lapic.irr", a->irr, sizeof a->irr);
    state_put(s, "lapic.tmr", a->tmr, sizeof a->tmr);
    state_put_u64(s, "lapic.base", a->base_msr);
    state_put_u64(s, "lapic.start", a->count_start);
}

static int lapic_load(void *opaque, StateStream *s)
{
    Lapic *a = opaque;
    uint32_t regs[11];
    uint64_t base;
    if (state_get(s, "lapic.regs", regs, sizeof regs) || state_get(s, "lapic.lvt", a->lvt, sizeof a->lvt) ||
        state_get(s, "lapic.isr", a->isr, sizeof a->isr) || state_get(s, "lapic.irr", a->irr, sizeof a->irr) ||
        state_get(s, "lapic.tmr", a->tmr, sizeof a->tmr) || state_get_u64(s, "lapic.base", &base) ||
        state_get_u64(s, "lapic.start", &a->count_start))
        return -1;
    a->id = regs[0], a->tpr = regs[1], a->ldr = regs[2], a->dfr = regs[3], a->svr = regs[4];
    a->esr = regs[5], a->icr_lo = regs[6], a->icr_hi = regs[7], a->initial_count = regs[8];
    a->divide_conf = regs[9], a->lint0_level = (int)regs[10];
    lapic_base_write(a, base);
    timer_rearm(a);
    a->cpu_intr = -1;
    lapic_update(a);
    return 0;
}

static void lapic_destroy(void *opaque)
{
    Lapic *a = opaque;
    timer_free(a->timer);
    free(a);
}

const DeviceClass lapic_device_class = {"local APIC", lapic_reset, lapic_save, lapic_load, lapic_destroy};

Lapic *lapic_create(Bus *bus, Clock *clk, Pic *pic)
{
    Lapic *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->bus = bus;
    a->clk = clk;
    a->pic = pic;
    a->timer = timer_new(clk, lapic_timer_fire, a, "apic-timer");
    if (!a->timer || bus_map_mmio(bus, LAPIC_BASE_DEFAULT, BUS_PAGE_SIZE, &lapic_mmio_ops, a)) {
        timer_free(a->timer);
        free(a);
        return NULL;
    }
    a->base_msr = LAPIC_BASE_DEFAULT | APIC_BASE_ENABLE | APIC_BASE_BSP;
    bus_set_intr_filter(bus, lapic_lint0, a);
    bus_set_intr_controller(bus, lapic_intr_ack, a);
    bus_set_apic(bus, lapic_base_read, lapic_base_write, a);
    lapic_reset(a);
    return a;
}

/* ================================================================ IOAPIC */

#define RTE_MASKED (1ull << 16)
#define RTE_LEVEL (1ull << 15)
#define RTE_REMOTE_IRR (1ull << 14)
#define RTE_LOGICAL (1ull << 11)

static bool ioapic_dest_matches(const IoApic *io, uint64_t rte)
{
    unsigned dest = (unsigned)(rte >> 56);
    const Lapic *a = io->lapic;
    if (rte & RTE_LOGICAL)
        return dest == 0xFF || (dest & (a->ldr >> 24)) != 0;
    return dest == 0xFF || dest == a->id;
}

/* Input polarity (RTE bit 13) is not applied: every line on this board is
 * modelled active-high, while firmware describes PCI lines as active-low
 * (the MP-table default), as QEMU's board does. */
static void ioapic_service(IoApic *io, int pin)
{
    uint64_t rte = io->redir[pin];
    bool asserted = (io->levels >> pin) & 1;
    if ((rte & RTE_MASKED) || !asserted)
        return;
    if (rte & RTE_LEVEL) {
        if (rte & RTE_REMOTE_IRR)
            return;
        io->redir[pin] |= RTE_REMOTE_IRR;
    }
    if (ioapic_dest_matches(io, rte))
        lapic_deliver(io->lapic, (int)((rte >> 8) & 7), (int)(rte & 0xFF), (rte & RTE_LEVEL) != 0);
}

void ioapic_set_irq(void *opaque, int pin, int level)
{
    IoApic *io = opaque;
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    uint32_t bit = 1u << pin, old = io->levels;
    io->levels = level ? old | bit : old & ~bit;
    bool level_mode = io->redir[pin] & RTE_LEVEL;
    if (level_mode || ((io->levels ^ old) & bit))
        ioapic_service(io, pin);
}

static void ioapic_eoi(IoApic *io, int vector)
{
    for (int pin = 0; pin < IOAPIC_PINS; pin++)
        if ((io->redir[pin] & RTE_LEVEL) && (int)(io->redir[pin] & 0xFF) == vector &&
            (io->redir[pin] & RTE_REMOTE_IRR)) {
            io->redir[pin] &= ~RTE_REMOTE_IRR;
            ioapic_service(io, pin);
        }
}

static uint32_t ioapic_read(void *opaque, uint64_t off, unsigned width)
{
    IoApic *io = opaque;
    uint32_t v = 0;
    if ((off & ~3ull) == 0x00) {
        v = io->sel;
    } else if ((off & ~3ull) == 0x10) {
        unsigned r = io->sel;
        if (r == 0)
            v = io->id << 24;
        else if (r == 1)
            v = ((IOAPIC_PINS - 1) << 16) | 0x11;
        else if (r == 2)
            v = io->id << 24;
        else if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS)
            v = (uint32_t)(io->redir[(r - 0x10) / 2] >> (r & 1 ? 32 : 0));
    }
    unsigned shift = (off & 3) * 8;
    return width == 4 ? v : (v >> shift) & ((1u << (8 * width)) - 1);
}

static void ioapic_write(void *opaque, uint64_t off, uint32_t value, unsigned width)
{
    IoApic *io = opaque;
    if (width != 4)
        return;
    if (off == 0x00) {
        io->sel = value & 0xFF;
    } else if (off == 0x10) {
        unsigned r = io->sel;
        if (r == 0) {
            io->id = (value >> 24) & 0xF;
        } else if (r >= 0x10 && r < 0x10 + 2 * IOAPIC_PINS) {
            int pin = (int)(r - 0x10) / 2;
            uint64_t rte = io->redir[pin];
            if (r & 1)
                rte = (rte & 0xFFFFFFFFull) | (uint64_t)value << 32;
            else /* remote IRR (bit 14) and delivery status (bit 12) are read-only */
                rte = (rte & ~0xFFFFFFFFull) | (rte & (RTE_REMOTE_IRR | (1u << 12))) | (value & ~0x5000u);
            io->redir[pin] = rte;
            ioapic_service(io, pin);
        }
    }
}

static const MmioOps ioapic_mmio_ops = {ioapic_read, ioapic_write, "I/O APIC"};

static void ioapic_reset(void *opaque)
{
    IoApic *io = opaque;
    io->id = 0;
    io->sel = 0;
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->redir[i] = RTE_MASKED;
}

static void ioapic_save(void *opaque, StateStream *s)
{
    IoApic *io = opaque;
    uint32_t regs[3] = {io->id, io->sel, io->levels};
    state_put(s, "ioapic.regs", regs, sizeof regs);
    state_put(s, "ioapic.redir", io->redir, sizeof io->redir);
}

static int ioapic_load(void *opaque, StateStream *s)
{
    IoApic *io = opaque;
    uint32_t regs[3];
    if (state_get(s, "ioapic.regs", regs, sizeof regs) || state_get(s, "ioapic.redir", io->redir, sizeof io->redir))
        return -1;
    io->id = regs[0], io->sel = regs[1], io->levels = regs[2];
    return 0;
}

static void ioapic_destroy(void *opaque) { free(opaque); }

const DeviceClass ioapic_device_class = {"I/O APIC", ioapic_reset, ioapic_save, ioapic_load, ioapic_destroy};

IoApic *ioapic_create(Bus *bus, Lapic *lapic)
{
    IoApic *io = calloc(1, sizeof *io);
    if (!io)
        return NULL;
    io->lapic = lapic;
    lapic->ioapic = io;
    if (bus_map_mmio(bus, 0xFEC00000u, BUS_PAGE_SIZE, &ioapic_mmio_ops, io)) {
        free(io);
        return NULL;
    }
    ioapic_reset(io);
    return io;
}
