/* tests/unit/apic_test.c -- local APIC and I/O APIC through their MMIO
 * registers, with the PIC behind LINT0. */
#include <stdlib.h>

#include "../../chipset/devices.h"
#include "test.h"

#define LAPIC 0xFEE00000u
#define IOAPIC 0xFEC00000u

static int cpu_intr, nmis;
static void on_intr(void *cpu, int level) { (void)cpu; cpu_intr = level; }
static void on_nmi(void *cpu) { (void)cpu; nmis++; }
static const BusCpuHooks hooks = {.intr = on_intr, .nmi = on_nmi};

typedef struct Rig {
    Bus *bus;
    Clock *clk;
    Pic *pic;
    Lapic *lapic;
    IoApic *io;
} Rig;

static Rig rig(void)
{
    Rig r;
    r.bus = bus_create(1 << 20, NULL);
    r.clk = clock_create(CLOCK_VIRTUAL);
    bus_set_cpu_hooks(r.bus, &hooks, NULL);
    r.pic = pic_create(r.bus);
    r.lapic = lapic_create(r.bus, r.clk, r.pic);
    r.io = ioapic_create(r.bus, r.lapic);
    cpu_intr = nmis = 0;
    return r;
}

static void unrig(Rig *r)
{
    ioapic_device_class.destroy(r->io);
    lapic_device_class.destroy(r->lapic);
    pic_device_class.destroy(r->pic);
    clock_destroy(r->clk);
    bus_destroy(r->bus);
}

static void lw(Rig *r, unsigned reg, uint32_t v) { bus_mem_write(r->bus, LAPIC + reg, v, 4); }
static uint32_t lr(Rig *r, unsigned reg) { return (uint32_t)bus_mem_read(r->bus, LAPIC + reg, 4); }
static void iow(Rig *r, unsigned reg, uint32_t v)
{
    bus_mem_write(r->bus, IOAPIC, reg, 4);
    bus_mem_write(r->bus, IOAPIC + 0x10, v, 4);
}
static uint32_t ior(Rig *r, unsigned reg)
{
    bus_mem_write(r->bus, IOAPIC, reg, 4);
    return (uint32_t)bus_mem_read(r->bus, IOAPIC + 0x10, 4);
}

static void pic_init(Rig *r)
{
    bus_io_write(r->bus, 0x20, 0x11, 1); /* ICW1: edge, cascade, ICW4 */
    bus_io_write(r->bus, 0x21, 0x08, 1); /* vectors 08h-0Fh */
    bus_io_write(r->bus, 0x21, 0x04, 1);
    bus_io_write(r->bus, 0x21, 0x01, 1);
    bus_io_write(r->bus, 0x21, 0x00, 1); /* unmask all */
}

TEST(apic, reset_state_and_virtual_wire)
{
    Rig r = rig();
    CHECK_EQ(lr(&r, 0x30) & 0xFF, 0x14);
    CHECK_EQ(lr(&r, 0x350), 0x700); /* LINT0: ExtINT, unmasked */
    CHECK_EQ(lr(&r, 0xF0), 0xFF);   /* software-disabled, spurious FFh */
    CHECK_EQ(bus_apic_base_read(r.bus), 0xFEE00900ull);
    pic_init(&r);
    pic_set_irq(r.pic, 1, 1);
    CHECK_EQ(cpu_intr, 1); /* the PIC reaches the CPU through LINT0 */
    CHECK_EQ(bus_intr_ack(r.bus), 0x09);
    unrig(&r);
}

TEST(apic, self_ipi_priority_and_eoi)
{
    Rig r = rig();
    lw(&r, 0xF0, 0x1FF); /* enable */
    lw(&r, 0x300, 0x40050); /* fixed, self shorthand, vector 50h */
    CHECK_EQ(cpu_intr, 1);
    CHECK(lr(&r, 0x200 + 0x10 * (0x50 / 32)) & (1u << (0x50 % 32)));
    lw(&r, 0x80, 0x60); /* TPR above the vector's class masks it */
    CHECK_EQ(cpu_intr, 0);
    lw(&r, 0x80, 0x00);
    CHECK_EQ(cpu_intr, 1);
    CHECK_EQ(bus_intr_ack(r.bus), 0x50);
    CHECK_EQ(cpu_intr, 0);
    CHECK_EQ(lr(&r, 0xA0), 0x50); /* PPR = in-service class */
    lw(&r, 0x300, 0x40040); /* lower class: held while 50h is in service */
    CHECK_EQ(cpu_intr, 0);
    lw(&r, 0xB0, 0); /* EOI */
    CHECK_EQ(cpu_intr, 1);
    CHECK_EQ(bus_intr_ack(r.bus), 0x40);
    lw(&r, 0xB0, 0);
    CHECK_EQ(bus_intr_ack(r.bus), 0xFF); /* nothing pending: spurious vector */
    unrig(&r);
}

TEST(apic, timer_one_shot_and_periodic)
{
    Rig r = rig();
    lw(&r, 0xF0, 0x1FF);
    lw(&r, 0x3E0, 0xB);   /* divide by 1: 100 MHz, 10 ns per count */
    lw(&r, 0x320, 0x30);  /* one-shot, vector 30h */
    lw(&r, 0x380, 1000);  /* 10 us */
    clock_advance(r.clk, 5000);
    clock_run_timers(r.clk);
    CHECK_EQ(cpu_intr, 0);
    uint32_t cur = lr(&r, 0x390);
    CHECK(cur > 400 && cur <= 500);
    clock_advance(r.clk, 5000);
    clock_run_timers(r.clk);
    CHECK_EQ(cpu_intr, 1);
    CHECK_EQ(lr(&r, 0x390), 0);
    CHECK_EQ(bus_intr_ack(r.bus), 0x30);
    lw(&r, 0xB0, 0);
    lw(&r, 0x320, 0x20031); /* periodic, vector 31h */
    lw(&r, 0x380, 100);      /* 1 us */
    int fired = 0;
    for (int k = 0; k < 10; k++) {
        clock_advance(r.clk, 1000);
        clock_run_timers(r.clk);
        if (cpu_intr && bus_intr_ack(r.bus) == 0x31) {
            fired++;
            lw(&r, 0xB0, 0);
        }
    }
    CHECK_EQ(fired, 10);
    unrig(&r);
}

TEST(apic, ioapic_edge_and_level_with_remote_irr)
{
    Rig r = rig();
    lw(&r, 0xF0, 0x1FF);
    CHECK_EQ(ior(&r, 1) & 0xFF, 0x11);
    CHECK_EQ((ior(&r, 1) >> 16) & 0xFF, 23);
    iow(&r, 0x10 + 2 * 4, 0x41); /* pin 4: fixed, edge, vector 41h */
    iow(&r, 0x11 + 2 * 4, 0);
    ioapic_set_irq(r.io, 4, 1);
    CHECK_EQ(bus_intr_ack(r.bus), 0x41);
    lw(&r, 0xB0, 0);
    ioapic_set_irq(r.io, 4, 1); /* no new edge */
    CHECK_EQ(cpu_intr, 0);
    ioapic_set_irq(r.io, 4, 0);
    /* Level-triggered pin 9: held off by remote IRR until EOI. */
    iow(&r, 0x10 + 2 * 9, 0x8052);
    iow(&r, 0x11 + 2 * 9, 0);
    ioapic_set_irq(r.io, 9, 1);
    CHECK_EQ(bus_intr_ack(r.bus), 0x52);
    CHECK(ior(&r, 0x10 + 2 * 9) & (1u << 14));
    lw(&r, 0xB0, 0); /* EOI while still asserted: delivered again */
    CHECK_EQ(cpu_intr, 1);
    CHECK_EQ(bus_intr_ack(r.bus), 0x52);
    ioapic_set_irq(r.io, 9, 0);
    lw(&r, 0xB0, 0);
    CHECK_EQ(cpu_intr, 0);
    CHECK(!(ior(&r, 0x10 + 2 * 9) & (1u << 14)));
    /* Masked pins deliver nothing; NMI delivery mode raises NMI. */
    iow(&r, 0x10 + 2 * 5, 0x10060);
    ioapic_set_irq(r.io, 5, 1);
    CHECK_EQ(cpu_intr, 0);
    iow(&r, 0x10 + 2 * 6, 0x400);
    ioapic_set_irq(r.io, 6, 1);
    CHECK_EQ(nmis, 1);
    unrig(&r);
}

TEST(apic, register_fuzz_is_harmless)
{
    Rig r = rig();
    srand(7);
    for (int k = 0; k < 20000; k++) {
        uint32_t off = (uint32_t)(rand() % 0x1000), v = (uint32_t)rand() * 2654435761u;
        bus_mem_write(r.bus, LAPIC + (off & ~3u), v, 4);
        bus_mem_write(r.bus, IOAPIC + (off & 0x1C), v, 4);
        (void)bus_mem_read(r.bus, LAPIC + off, 1 + rand() % 4 / 2 * 2);
        clock_advance(r.clk, 100);
        clock_run_timers(r.clk);
        if (cpu_intr)
            (void)bus_intr_ack(r.bus);
    }
    /* Whatever the guest wrote, a reset brings back the documented state. */
    lapic_device_class.reset(r.lapic);
    ioapic_device_class.reset(r.io);
    CHECK_EQ(lr(&r, 0x350), 0x700);
    CHECK_EQ(lr(&r, 0xF0), 0xFF);
    CHECK_EQ(ior(&r, 0x10 + 2 * 3), 0x10000);
    CHECK_EQ(bus_apic_base_read(r.bus), 0xFEE00900ull);
    unrig(&r);
}
