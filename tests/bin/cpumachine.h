/*
 * tests/bin/cpumachine.h -- a bare CPU + RAM machine for the CPU test tools
 * (cpudiff, cpufuzz): no board, no devices, just bus_create + cpu_create,
 * and helpers to load segment state directly through cpu_set_regs.
 * Header-only (static functions) because each tests/bin/NAME.c is its own
 * program.
 */
#ifndef VSX_TESTS_CPUMACHINE_H
#define VSX_TESTS_CPUMACHINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chipset/chipset.h"
#include "cpu/cpu.h"

/* CpuSegment.flags: descriptor bits 40-47 in 0-7, bits 52-55 in 12-15. */
enum {
    SEGF_CODE32 = 0xC09B, /* G, D=1, P, S, code execute/read, accessed */
    SEGF_DATA32 = 0xC093, /* G, B=1, P, S, data read/write, accessed */
    SEGF_CODE16 = 0x009B,
    SEGF_DATA16 = 0x0093,
    SEGF_DPL3 = 0x0060,
};

typedef struct CpuMachine {
    Bus *bus;
    Clock *clk;
    Cpu *cpu;
} CpuMachine;

static inline int cm_create(CpuMachine *m, uint64_t ram, const char *model, VsxError *err)
{
    memset(m, 0, sizeof *m);
    m->bus = bus_create(ram, err);
    if (!m->bus)
        return -1;
    m->clk = clock_create(CLOCK_VIRTUAL);
    if (!m->clk)
        return vsx_errorf(err, "cannot create clock");
    m->cpu = cpu_create(m->bus, m->clk, model, err);
    return m->cpu ? 0 : -1;
}

static inline void cm_destroy(CpuMachine *m)
{
    if (m->cpu)
        cpu_destroy(m->cpu);
    if (m->clk)
        clock_destroy(m->clk);
    if (m->bus)
        bus_destroy(m->bus);
}

static inline void cm_seg(CpuSegment *s, uint16_t sel, uint32_t base, uint32_t limit, uint16_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
}

/* Flat 32-bit protected mode, ring 0, CR0.PE|ET, selectors 0x08/0x10. */
static inline void cm_flat32(CpuRegs *r)
{
    cm_seg(&r->seg[SEG_CS], 0x08, 0, 0xFFFFFFFFu, SEGF_CODE32);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            cm_seg(&r->seg[s], 0x10, 0, 0xFFFFFFFFu, SEGF_DATA32);
    r->cr0 = 0x11;
}

#endif
