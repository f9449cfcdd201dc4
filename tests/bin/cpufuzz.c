/*
 * tests/bin/cpufuzz.c -- random instruction bytes against the core.
 *
 *   cpufuzz [-s SEED] [-n PROGRAMS-PER-MODE] [-t SECONDS] [-m MODEL] [-x N] [MODE...]
 *   (-x N prints the state before/after program N of each mode run)
 *
 * Modes: real, pm16, pm32, ring3, v86, paged.  For each program the harness
 * rebuilds a small machine (GDT with sensible and random descriptors, IDT
 * whose every vector lands on a HLT, TSS, page tables with random
 * permissions in paged mode), fills a 64 KiB code region and the data area
 * with random bytes, randomizes the registers, and runs a bounded number of
 * instructions.  Exceptions are delivered through the IDT (or IVT) to the
 * HLT handler, which ends the program; a triple fault ends it too.  Guest
 * code may scribble over any of the tables -- nonsense the core must survive.
 *
 * Passing means the process neither crashes nor hangs, the core honours
 * the instruction budget, and every 32nd program, run twice from the same
 * seed state and RAM, ends identically (registers, exit, count, low 512 KiB).  Meant for the ASan/UBSan build (make asan).  All
 * randomness comes from the seed, so a failing seed replays exactly; the
 * time limit (-t) only cuts the run short, it never changes a program.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/bin/cpumachine.h"

enum {
    RAM_SIZE = 8u << 20,
    GDT = 0x1000, IDT = 0x2000, TSS = 0x3000, HANDLER = 0x8000,
    CODE = 0x10000, CODE_SIZE = 0x10000, DATA = 0x20000, DATA_SIZE = 0x60000,
    STACK0 = 0x7F000, PD = 0x90000, PT = 0x91000,
    BUDGET = 2000, /* instructions per program */
};

typedef enum Mode { M_REAL, M_PM16, M_PM32, M_RING3, M_V86, M_PAGED, M_COUNT } Mode;
static const char *const mode_names[M_COUNT] = {"real", "pm16", "pm32", "ring3", "v86", "paged"};

static uint64_t rng;
static uint32_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 0x2545F4914F6CDD1Dull) >> 32);
}

static void put32(uint8_t *ram, uint32_t a, uint32_t v) { memcpy(ram + a, &v, 4); }

static void put_desc(uint8_t *ram, unsigned sel, uint32_t base, uint32_t limit, uint16_t flags)
{
    uint8_t *d = ram + GDT + (sel & ~7u);
    d[0] = (uint8_t)limit, d[1] = (uint8_t)(limit >> 8);
    d[2] = (uint8_t)base, d[3] = (uint8_t)(base >> 8), d[4] = (uint8_t)(base >> 16);
    d[5] = (uint8_t)flags;
    d[6] = (uint8_t)(((limit >> 16) & 0xF) | (flags >> 8 & 0xF0));
    d[7] = (uint8_t)(base >> 24);
}

/* Descriptor tables, TSS, IVT and the HLT handler. */
static void build_tables(uint8_t *ram)
{
    memset(ram + GDT, 0, 0x3000);
    put_desc(ram, 0x08, 0, 0xFFFFF, 0xC09B);
    put_desc(ram, 0x10, 0, 0xFFFFF, 0xC093);
    put_desc(ram, 0x18, 0, 0xFFFFF, 0xC0FB);
    put_desc(ram, 0x20, 0, 0xFFFFF, 0xC0F3);
    put_desc(ram, 0x28, TSS, 0x67, 0x008B); /* busy 32-bit TSS (TR loaded) */
    put_desc(ram, 0x30, CODE, 0xFFFF, 0x009B); /* 16-bit code over the program */
    put_desc(ram, 0x38, DATA, 0xFFFF, 0x0093); /* 16-bit data over the data area */
    /* 0x40-0x78: random descriptors of every kind, so random segment loads,
     * far transfers and gates meet garbage too. */
    for (unsigned sel = 0x40; sel < 0x80; sel += 8)
        for (int i = 0; i < 8; i++)
            ram[GDT + sel + (unsigned)i] = (uint8_t)rnd();
    /* IDT: 256 interrupt gates, DPL 3, to the handler. */
    for (unsigned v = 0; v < 256; v++) {
        uint8_t *g = ram + IDT + v * 8;
        g[0] = (uint8_t)HANDLER, g[1] = (uint8_t)(HANDLER >> 8);
        g[2] = 0x08, g[3] = 0, g[4] = 0, g[5] = 0xEE, g[6] = 0, g[7] = 0;
    }
    put32(ram, TSS + 4, STACK0);
    put32(ram, TSS + 8, 0x10);
    ram[TSS + 102] = 0x68; /* no I/O bitmap: ports denied above IOPL */
    /* Real-mode IVT: every vector -> 0000:HANDLER. */
    for (unsigned v = 0; v < 256; v++)
        put32(ram, v * 4, HANDLER);
    memset(ram + HANDLER, 0xF4, 0x1000); /* HLT */
}

/* Identity page tables for 0-8 MiB with random permissions; the pages the
 * harness itself needs stay present and writable for the supervisor. */
static void build_paging(uint8_t *ram)
{
    for (unsigned i = 0; i < 2048; i++) {
        uint32_t f = 0x7, r = rnd() % 100;
        if (r < 5)
            f = 0;          /* not present */
        else if (r < 10)
            f = 0x5;        /* read-only */
        else if (r < 15)
            f = 0x3;        /* supervisor */
        uint32_t a = i << 12;
        if (a < 0x10000 || (a >= 0x7E000 && a < 0x93000))
            f = 0x3 | 4;
        put32(ram, PT + i * 4, a | f);
    }
    memset(ram + PD, 0, 4096);
    put32(ram, PD, PT | 0x7);
    put32(ram, PD + 4, (PT + 0x1000) | 0x7);
    /* a 4 MiB page (used when CR4.PSE is set) */
    put32(ram, PD + 8, 0x00000000 | 0x87);
}

static uint32_t rnd_reg(void)
{
    switch (rnd() % 4) {
    case 0: return rnd();
    case 1: return DATA + rnd() % DATA_SIZE;
    case 2: return rnd() & 0xFFFF;
    default: return rnd() & 0xFF;
    }
}

static void setup_program(CpuMachine *m, Mode mode)
{
    uint8_t *ram = bus_ram(m->bus);
    build_tables(ram);
    for (uint32_t i = 0; i < CODE_SIZE; i += 4)
        put32(ram, CODE + i, rnd());
    /* Some programs get mostly-valid-looking code: a bias to common
     * one-byte opcodes keeps execution going longer. */
    if (rnd() % 2)
        for (uint32_t i = 0; i < CODE_SIZE; i++)
            if (rnd() % 3 == 0)
                ram[CODE + i] = (uint8_t)(0x40 + rnd() % 0x40);
    for (uint32_t i = 0; i < DATA_SIZE; i += 4)
        if (rnd() % 8 == 0)
            put32(ram, DATA + i, rnd());

    CpuRegs r;
    cpu_reset(m->cpu);
    cpu_get_regs(m->cpu, &r);
    for (int i = 0; i < 8; i++)
        r.gpr[i] = rnd_reg();
    r.rflags = 2 | (rnd() & 0x0CD5); /* arithmetic flags, DF, OF; no TF/IF */
    r.halted = false;
    r.tsc = 0; /* RDTSC results depend only on the program */
    r.gdtr_base = GDT, r.gdtr_limit = 0x7F;
    r.idtr_base = IDT, r.idtr_limit = 0x7FF;
    cm_seg(&r.tr, 0x28, TSS, 0x67, 0x008B);
    cm_seg(&r.ldtr, 0, 0, 0, 0);
    r.cr0 = 0x10;
    r.cr4 = 0;
    uint32_t ip = rnd() % (CODE_SIZE - 16);
    switch (mode) {
    case M_REAL:
        r.idtr_base = 0, r.idtr_limit = 0x3FF;
        for (int s = 0; s < SEG_COUNT; s++)
            cm_seg(&r.seg[s], (uint16_t)(DATA >> 4), DATA, 0xFFFF, SEGF_DATA16);
        cm_seg(&r.seg[SEG_CS], CODE >> 4, CODE, 0xFFFF, SEGF_CODE16);
        cm_seg(&r.seg[SEG_SS], 0x7000, 0x70000, 0xFFFF, SEGF_DATA16);
        r.gpr[REG_SP] = 0xF000 + (rnd() & 0xFF);
        r.rip = ip;
        break;
    case M_PM16:
        r.cr0 |= 1;
        for (int s = 0; s < SEG_COUNT; s++)
            cm_seg(&r.seg[s], 0x38, DATA, 0xFFFF, SEGF_DATA16);
        cm_seg(&r.seg[SEG_CS], 0x30, CODE, 0xFFFF, SEGF_CODE16);
        r.gpr[REG_SP] = 0xF000;
        r.rip = ip;
        break;
    case M_PM32:
    case M_PAGED:
        cm_flat32(&r);
        r.gpr[REG_SP] = STACK0 - 0x800;
        r.rip = CODE + ip;
        if (mode == M_PAGED) {
            build_paging(ram);
            r.cr3 = PD;
            r.cr0 |= 0x80000000u | (rnd() % 2 ? 0x10000 : 0);
            r.cr4 = rnd() % 2 ? 0x10 : 0;
        }
        break;
    case M_RING3:
        cm_flat32(&r);
        cm_seg(&r.seg[SEG_CS], 0x1B, 0, 0xFFFFFFFFu, SEGF_CODE32 | SEGF_DPL3);
        for (int s = 0; s < SEG_COUNT; s++)
            if (s != SEG_CS)
                cm_seg(&r.seg[s], 0x23, 0, 0xFFFFFFFFu, SEGF_DATA32 | SEGF_DPL3);
        r.gpr[REG_SP] = 0x7C000;
        r.rip = CODE + ip;
        r.rflags |= (rnd() % 4 == 0) ? 0x3000 : 0; /* sometimes IOPL 3 */
        break;
    case M_V86:
        r.cr0 |= 1;
        r.cr4 = rnd() % 2; /* VME */
        for (int s = 0; s < SEG_COUNT; s++)
            cm_seg(&r.seg[s], (uint16_t)(DATA >> 4), DATA, 0xFFFF, 0x00F3);
        cm_seg(&r.seg[SEG_CS], CODE >> 4, CODE, 0xFFFF, 0x00F3);
        cm_seg(&r.seg[SEG_SS], 0x7000, 0x70000, 0xFFFF, 0x00F3);
        r.gpr[REG_SP] = 0xE000;
        r.rip = ip;
        r.rflags |= 0x20000 | ((rnd() % 2) ? 0x3000 : 0);
        break;
    default:
        break;
    }
    cpu_set_regs(m->cpu, &r);
}

typedef struct Stats {
    uint64_t programs, insns, hlt, shutdown, budget, replays;
    double slowest; /* seconds */
    long slowest_program;
} Stats;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* -x N: print the state before and after program N (to reproduce a report). */
static long trace_program = -1;

static void dump_state(CpuMachine *m, const char *when)
{
    CpuRegs r;
    cpu_get_regs(m->cpu, &r);
    printf("# %s: eax=%08llx ecx=%08llx edx=%08llx ebx=%08llx esp=%08llx ebp=%08llx esi=%08llx edi=%08llx\n"
           "#   cs=%04x:%08llx eflags=%08llx cr0=%08llx cr4=%08llx ss=%04x ds=%04x es=%04x\n#   bytes at cs:eip:",
           when, (unsigned long long)r.gpr[0], (unsigned long long)r.gpr[1], (unsigned long long)r.gpr[2],
           (unsigned long long)r.gpr[3], (unsigned long long)r.gpr[4], (unsigned long long)r.gpr[5],
           (unsigned long long)r.gpr[6], (unsigned long long)r.gpr[7], r.seg[SEG_CS].selector,
           (unsigned long long)r.rip, (unsigned long long)r.rflags, (unsigned long long)r.cr0,
           (unsigned long long)r.cr4, r.seg[SEG_SS].selector, r.seg[SEG_DS].selector, r.seg[SEG_ES].selector);
    for (int i = 0; i < 16; i++)
        printf(" %02x", (unsigned)bus_mem_read(m->bus, r.seg[SEG_CS].base + r.rip + (uint64_t)i, 1));
    printf("\n");
}

/* The traced program runs one instruction per cpu_run, to name the slowest
 * single instruction. */
static CpuExit trace_run(CpuMachine *m, uint64_t *total)
{
    CpuExit why = CPU_EXIT_BUDGET;
    double worst = -1;
    CpuRegs before, worst_regs;
    memset(&worst_regs, 0, sizeof worst_regs);
    uint8_t worst_bytes[8] = {0};
    *total = 0;
    while (*total < BUDGET) {
        cpu_get_regs(m->cpu, &before);
        uint8_t bytes[8];
        for (int i = 0; i < 8; i++)
            bytes[i] = (uint8_t)bus_mem_read(m->bus, before.seg[SEG_CS].base + before.rip + (uint64_t)i, 1);
        uint64_t n = 0;
        double t0 = now_s();
        why = cpu_run(m->cpu, 1, &n);
        double dt = now_s() - t0;
        if (dt > worst) {
            worst = dt, worst_regs = before;
            memcpy(worst_bytes, bytes, sizeof bytes);
        }
        *total += n ? n : 1;
        if (why != CPU_EXIT_BUDGET)
            break;
    }
    printf("# slowest step: %.3f s at %04x:%08llx ecx=%08llx esi=%08llx edi=%08llx eflags=%08llx bytes",
           worst, worst_regs.seg[SEG_CS].selector, (unsigned long long)worst_regs.rip,
           (unsigned long long)worst_regs.gpr[REG_CX], (unsigned long long)worst_regs.gpr[REG_SI],
           (unsigned long long)worst_regs.gpr[REG_DI], (unsigned long long)worst_regs.rflags);
    for (int i = 0; i < 8; i++)
        printf(" %02x", worst_bytes[i]);
    printf("\n");
    return why;
}

static uint8_t *m_snapshot; /* RAM copy for replays (RAM_SIZE bytes) */

/* Runs the program's budget.  A triple fault or an exit-port write makes
 * the bus ask the core to stop (CPU_EXIT_STOP, possibly at the start of the
 * next run): take the request and go on, as the board would. */
static CpuExit run_budget(CpuMachine *m, uint64_t *total)
{
    CpuExit why = CPU_EXIT_BUDGET;
    *total = 0;
    for (int guard = 0; guard < 16 && *total < BUDGET; guard++) {
        uint64_t n = 0;
        why = cpu_run(m->cpu, BUDGET - *total, &n);
        *total += n;
        int status;
        while (bus_take_request(m->bus, &status) != BUS_REQ_NONE) {
        }
        if (why != CPU_EXIT_STOP)
            break;
    }
    return why;
}

/* What a program left behind: registers, exit, count, and a hash of the
 * memory it can reach cheaply (tables, handler, code, data, stacks). */
typedef struct Outcome {
    CpuRegs regs;
    CpuExit why;
    uint64_t n, ram_hash;
} Outcome;

static void outcome(CpuMachine *m, CpuExit why, uint64_t n, Outcome *o)
{
    memset(o, 0, sizeof *o);
    cpu_get_regs(m->cpu, &o->regs);
    o->regs.tsc = 0; /* time, not architecture */
    o->why = why;
    o->n = n;
    const uint8_t *ram = bus_ram(m->bus);
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < 0x80000; i++)
        h = (h ^ ram[i]) * 0x100000001b3ull;
    o->ram_hash = h;
}

static bool same_outcome(const Outcome *a, const Outcome *b, char *why, size_t n)
{
    if (a->why != b->why || a->n != b->n)
        return snprintf(why, n, "exit %d after %llu vs exit %d after %llu", (int)a->why,
                        (unsigned long long)a->n, (int)b->why, (unsigned long long)b->n), false;
    for (int i = 0; i < 8; i++)
        if (a->regs.gpr[i] != b->regs.gpr[i])
            return snprintf(why, n, "gpr%d %#llx vs %#llx", i, (unsigned long long)a->regs.gpr[i],
                            (unsigned long long)b->regs.gpr[i]), false;
    if (a->regs.rip != b->regs.rip || a->regs.rflags != b->regs.rflags)
        return snprintf(why, n, "eip/eflags %#llx/%#llx vs %#llx/%#llx", (unsigned long long)a->regs.rip,
                        (unsigned long long)a->regs.rflags, (unsigned long long)b->regs.rip,
                        (unsigned long long)b->regs.rflags), false;
    for (int s = 0; s < SEG_COUNT; s++)
        if (a->regs.seg[s].selector != b->regs.seg[s].selector || a->regs.seg[s].base != b->regs.seg[s].base)
            return snprintf(why, n, "segment %d %04x vs %04x", s, a->regs.seg[s].selector,
                            b->regs.seg[s].selector), false;
    if (a->regs.cr0 != b->regs.cr0 || a->regs.cr2 != b->regs.cr2 || a->regs.cr3 != b->regs.cr3)
        return snprintf(why, n, "control registers differ"), false;
    if (a->ram_hash != b->ram_hash)
        return snprintf(why, n, "memory below 512 KiB differs"), false;
    return true;
}

static int run_mode(CpuMachine *m, Mode mode, long programs, time_t deadline, Stats *st)
{
    for (long p = 0; p < programs; p++) {
        if (time(NULL) >= deadline)
            break;
        /* Every 32nd program runs twice from the same seed state and the same
         * RAM (programs may scribble anywhere): the second run, on a core
         * that just ran it with whatever it cached, must end exactly like the
         * first -- runs are deterministic per seed. */
        uint64_t rng_saved = rng;
        if (p % 32 == 31 && p != trace_program) {
            memcpy(m_snapshot, bus_ram(m->bus), RAM_SIZE);
            setup_program(m, mode);
            uint64_t n1 = 0;
            CpuExit w1 = run_budget(m, &n1);
            Outcome first;
            outcome(m, w1, n1, &first);
            rng = rng_saved;
            memcpy(bus_ram(m->bus), m_snapshot, RAM_SIZE);
            setup_program(m, mode);
            uint64_t n2 = 0;
            CpuExit w2 = run_budget(m, &n2);
            Outcome second;
            outcome(m, w2, n2, &second);
            char why[160];
            if (!same_outcome(&first, &second, why, sizeof why)) {
                printf("FAIL cpufuzz.%s: program %ld is not deterministic: %s (replay: -x %ld %s)\n",
                       mode_names[mode], p, why, p, mode_names[mode]);
                return -1;
            }
            st->replays++;
            rng = rng_saved;
            memcpy(bus_ram(m->bus), m_snapshot, RAM_SIZE);
        }
        setup_program(m, mode);
        if (p == trace_program)
            dump_state(m, "before");
        uint64_t n = 0;
        double t0 = now_s();
        CpuExit why = p == trace_program ? trace_run(m, &n) : run_budget(m, &n);
        double dt = now_s() - t0;
        if (p == trace_program) {
            dump_state(m, "after");
            printf("# program %ld: %" PRIu64 " instructions, exit %d, %.3f s\n", p, n, (int)why, dt);
        }
        if (dt > st->slowest)
            st->slowest = dt, st->slowest_program = p;
        if (n > BUDGET + 64) {
            printf("FAIL cpufuzz.%s: program %ld ran %" PRIu64 " instructions on a budget of %d\n",
                   mode_names[mode], p, n, BUDGET);
            return -1;
        }
        st->programs++;
        st->insns += n;
        if (why == CPU_EXIT_HLT)
            st->hlt++;
        else if (why == CPU_EXIT_SHUTDOWN)
            st->shutdown++;
        else
            st->budget++;
        int status;
        while (bus_take_request(m->bus, &status) != BUS_REQ_NONE) {
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t seed = (uint64_t)time(NULL);
    long programs = 3000;
    int seconds = 20;
    const char *model = "pentium";
    bool want[M_COUNT] = {false};
    bool any = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            programs = atol(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc)
            seconds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            model = argv[++i];
        else if (!strcmp(argv[i], "-x") && i + 1 < argc)
            trace_program = atol(argv[++i]);
        else {
            for (int k = 0; k < M_COUNT; k++)
                if (!strcmp(argv[i], mode_names[k]))
                    want[k] = any = true;
            if (!any) {
                fprintf(stderr, "usage: cpufuzz [-s SEED] [-n PROGRAMS] [-t SECONDS] [-m MODEL] [MODE...]\n");
                return 2;
            }
        }
    }
    if (!any)
        for (int k = 0; k < M_COUNT; k++)
            want[k] = true;
    printf("# cpufuzz seed %#" PRIx64 " model %s, %ld programs per mode, %d s limit\n", seed, model,
           programs, seconds);
    fflush(stdout);
    CpuMachine m;
    VsxError err = {{0}};
    if (cm_create(&m, RAM_SIZE, model, &err) < 0) {
        printf("FAIL cpufuzz: cannot create machine: %s\n", err.msg);
        return 1;
    }
    m_snapshot = malloc(RAM_SIZE);
    if (!m_snapshot) {
        printf("FAIL cpufuzz: out of memory\n");
        return 1;
    }
    int nmodes = 0;
    for (int k = 0; k < M_COUNT; k++)
        nmodes += want[k];
    time_t start = time(NULL);
    int rc = 0, done = 0;
    for (int k = 0; k < M_COUNT; k++) {
        if (!want[k])
            continue;
        /* Each mode gets its own share of the time and a seed of its own, so
         * one mode's programs do not depend on how far another got. */
        rng = seed * 0x9E3779B97F4A7C15ull + (uint64_t)k + 1;
        time_t deadline = start + (time_t)seconds * (done + 1) / nmodes;
        Stats st = {0};
        if (run_mode(&m, (Mode)k, programs, deadline, &st) < 0) {
            rc = 1;
        } else {
            printf("PASS cpufuzz.%s: %" PRIu64 " programs, %" PRIu64 " instructions (%" PRIu64
                   " ended in a handler/HLT, %" PRIu64 " triple faults, %" PRIu64 " ran out of budget; %" PRIu64 " replayed identically; slowest: program %ld, %.3f s)\n",
                   mode_names[k], st.programs, st.insns, st.hlt, st.shutdown, st.budget, st.replays,
                   st.slowest_program, st.slowest);
        }
        fflush(stdout);
        done++;
    }
    cm_destroy(&m);
    free(m_snapshot);
    return rc;
}
