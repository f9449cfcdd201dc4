/*
 * tests/unit/cpu_fuzz_test.c -- random bytes as code, in every mode, with
 * random descriptor tables, IDT gates, TSS and page tables: the core must
 * always return from cpu_run (no host crash, hang or sanitizer report; the
 * ASan/UBSan build runs this too).  Deterministic seed.
 */
#include <stdlib.h>

#include "chipset/chipset.h"
#include "cpu/cpu.h"
#include "test.h"

typedef struct Rng {
    uint64_t s;
} Rng;
static uint32_t rng_next(Rng *r)
{
    r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(r->s >> 32);
}

enum { FUZZ_RAM = 4u << 20 };

/* Fills RAM: code at 0x10000, GDT at 0x1000, IDT at 0x2000, TSS at 0x3000,
 * page directory at 0x20000, page tables after it. */
static void fuzz_memory(Bus *bus, Rng *r, bool sane_tables)
{
    uint8_t buf[4096];
    for (uint32_t page = 0; page < 0x40000; page += sizeof buf) {
        for (size_t k = 0; k < sizeof buf; k++)
            buf[k] = (uint8_t)rng_next(r);
        bus_dma_write(bus, page, buf, sizeof buf);
    }
    /* Flat ring-0/3 code and data descriptors in slots 1-4, 16-bit code in 5. */
    static const uint64_t gdt[] = {
        0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull, 0x00CFFB000000FFFFull,
        0x00CFF3000000FFFFull, 0x00009B010000FFFFull, 0x00008B0030000067ull,
    };
    bus_dma_write(bus, 0x1000, gdt, sizeof gdt);
    if (sane_tables) {
        /* Identity-map the first 4 MiB with 4 KiB pages, a few pages not present or read-only. */
        for (uint32_t k = 0; k < 1024; k++) {
            uint32_t pte = k << 12 | 7;
            if ((rng_next(r) & 31) == 0)
                pte &= ~1u;
            if ((rng_next(r) & 15) == 0)
                pte &= ~2u;
            bus_dma_write(bus, 0x21000 + 4 * k, &pte, 4);
        }
        uint32_t pde = 0x21000 | 7;
        bus_dma_write(bus, 0x20000, &pde, 4);
    }
}

static void seg(CpuSegment *s, uint16_t sel, uint32_t base, uint32_t limit, uint16_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
}

enum { MODE_REAL, MODE_PM32, MODE_PM16, MODE_RING3, MODE_V86, MODE_PAGING, MODE_COUNT };

static void fuzz_regs(Cpu *cpu, Rng *r, int mode)
{
    CpuRegs regs;
    cpu_get_regs(cpu, &regs);
    for (int k = 0; k < 8; k++)
        regs.gpr[k] = rng_next(r);
    regs.gpr[4] = 0x8000 + (rng_next(r) & 0xFFF);
    regs.rflags = 2 | (rng_next(r) & 0x8D5) | ((rng_next(r) & 1) ? 0x200 : 0);
    regs.gdtr_base = 0x1000;
    regs.gdtr_limit = 0xFFF;
    regs.idtr_base = mode == MODE_REAL ? 0 : 0x2000;
    regs.idtr_limit = mode == MODE_REAL ? 0x3FF : 0x7FF;
    seg(&regs.tr, 0x30, 0x3000, 0x67, 0x8B);
    regs.cr0 = 0x10;
    regs.cr3 = 0x20000;
    regs.cr4 = rng_next(r) & 0x13; /* VME, PVI, PSE */
    regs.rip = 0x10000 + (rng_next(r) & 0x7FFF);
    switch (mode) {
    case MODE_REAL:
        for (int s = 0; s < SEG_COUNT; s++)
            seg(&regs.seg[s], 0x1000, 0x10000, 0xFFFF, 0x93);
        regs.seg[SEG_CS].flags = 0x9B;
        regs.rip &= 0xFFFF;
        break;
    case MODE_PM16:
        for (int s = 0; s < SEG_COUNT; s++)
            seg(&regs.seg[s], 0x10, 0, 0xFFFFFFFF, 0xC093);
        seg(&regs.seg[SEG_CS], 0x28, 0x10000, 0xFFFF, 0x9B);
        regs.rip &= 0xFFFF;
        regs.cr0 = 0x11;
        break;
    case MODE_RING3:
        for (int s = 0; s < SEG_COUNT; s++)
            seg(&regs.seg[s], 0x23, 0, 0xFFFFFFFF, 0xC0F3);
        seg(&regs.seg[SEG_CS], 0x1B, 0, 0xFFFFFFFF, 0xC0FB);
        regs.cr0 = 0x11;
        regs.rflags |= (rng_next(r) & 3) << 12;
        break;
    case MODE_V86:
        for (int s = 0; s < SEG_COUNT; s++)
            seg(&regs.seg[s], 0x1000, 0x10000, 0xFFFF, 0xF3);
        regs.seg[SEG_CS].flags = 0xFB;
        regs.rip &= 0xFFFF;
        regs.cr0 = 0x11;
        regs.rflags |= 0x20000 | (rng_next(r) & 3) << 12;
        break;
    default: /* PM32 and paging */
        for (int s = 0; s < SEG_COUNT; s++)
            seg(&regs.seg[s], 0x10, 0, 0xFFFFFFFF, 0xC093);
        seg(&regs.seg[SEG_CS], 0x08, 0, 0xFFFFFFFF, 0xC09B);
        regs.cr0 = mode == MODE_PAGING ? 0x80010011 : 0x11;
        break;
    }
    cpu_set_regs(cpu, &regs);
}

TEST(cpu, fuzz_random_code_all_modes)
{
    VsxError err = { { 0 } };
    Bus *bus = bus_create(FUZZ_RAM, &err);
    CHECK(bus != NULL);
    if (!bus)
        return;
    Cpu *cpu = cpu_create(bus, NULL, "pentium", &err);
    CHECK(cpu != NULL);
    Rng r = { 12345 };
    uint64_t total = 0;
    for (int round = 0; round < 240; round++) {
        int mode = round % MODE_COUNT;
        fuzz_memory(bus, &r, mode == MODE_PAGING || (round & 1));
        cpu_reset(cpu);
        fuzz_regs(cpu, &r, mode);
        for (int slice = 0; slice < 4; slice++) {
            uint64_t ran = 0;
            CpuExit why = cpu_run(cpu, 500, &ran);
            CHECK(ran <= 500);
            total += ran;
            bus_take_request(bus, NULL);
            if (why == CPU_EXIT_SHUTDOWN)
                break;
        }
    }
    CHECK(total > 0);
    cpu_destroy(cpu);
    bus_destroy(bus);
}
