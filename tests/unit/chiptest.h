/*
 * tests/unit/chiptest.h -- shared fixtures for the legacy-chip unit tests
 * (pic, pit, rtc, uart, kbc, dma, sysctl): a bus with a little RAM, a virtual
 * clock, IRQ lines that record their level and rising edges, and the CPU's
 * INTR line captured through BusCpuHooks.
 */
#ifndef VSX_TESTS_UNIT_CHIPTEST_H
#define VSX_TESTS_UNIT_CHIPTEST_H

#include <stdlib.h>

#include "chipset/devices.h"
#include "test.h"

typedef struct ChipIrqs {
    int level[16];
    int rises[16];
} ChipIrqs;

static inline void chiptest_irq_set(void *opaque, int n, int level)
{
    ChipIrqs *c = opaque;
    if (n < 0 || n >= 16)
        return;
    if (level && !c->level[n])
        c->rises[n]++;
    c->level[n] = level != 0;
}

static inline IrqLine chiptest_line(ChipIrqs *c, int n)
{
    return (IrqLine){chiptest_irq_set, c, n};
}

typedef struct ChipCpu {
    int intr;
    int intr_changes;
    int stops;
    int nmis;
} ChipCpu;

static inline void chiptest_cpu_intr(void *cpu, int level)
{
    ChipCpu *c = cpu;
    if (c->intr != level)
        c->intr_changes++;
    c->intr = level;
}

static inline void chiptest_cpu_stop(void *cpu) { ((ChipCpu *)cpu)->stops++; }
static inline void chiptest_cpu_nmi(void *cpu) { ((ChipCpu *)cpu)->nmis++; }

static const BusCpuHooks chiptest_hooks = {
    .intr = chiptest_cpu_intr, .nmi = chiptest_cpu_nmi, .stop = chiptest_cpu_stop,
};

/* Advances the virtual clock in steps of at most `step` ns, firing timers. */
static inline void chiptest_run(Clock *clk, uint64_t ns, uint64_t step)
{
    while (ns) {
        uint64_t d = ns < step ? ns : step;
        uint64_t next = clock_next_deadline(clk);
        uint64_t now = clock_now(clk);
        if (next > now && next - now < d)
            d = next - now;
        clock_advance(clk, d);
        clock_run_timers(clk);
        ns -= d;
    }
}

static inline uint8_t inb(Bus *b, uint16_t p) { return (uint8_t)bus_io_read(b, p, 1); }
static inline void outb(Bus *b, uint16_t p, uint8_t v) { bus_io_write(b, p, v, 1); }

/* A tiny deterministic PRNG for the "nonsense" register fuzz cases. */
static inline uint32_t chiptest_rand(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Saves a device and loads the blob back into it; returns load's result. */
static inline int chiptest_roundtrip(const DeviceClass *dc, void *dev)
{
    StateStream *w = state_writer_create();
    dc->save(dev, w);
    size_t len;
    const void *data = state_data(w, &len);
    StateStream *r = state_reader_create(data, len);
    int rc = dc->load(dev, r);
    state_destroy(r);
    state_destroy(w);
    return rc;
}

#endif
