/*
 * tests/unit/simd_test.c -- the P6 CPU models (CPUID data, IA32_APIC_BASE
 * through the board's local APIC) and the SIMD reset state, on a bare CPU +
 * RAM machine running a few guest instructions.
 */
#include "tests/bin/cpumachine.h"
#include "tests/unit/test.h"

enum { CODE = 0x10000 };

typedef struct Run {
    CpuExit why;
    CpuRegs r;
} Run;

/* Runs `code` (then HLT) in flat 32-bit ring 0 with EAX/ECX/EDX preset. */
static Run run_code_from(CpuMachine *m, bool reset, const uint8_t *code, size_t len, uint32_t eax,
                         uint32_t ecx, uint32_t edx, uint32_t cr4)
{
    Run out;
    uint8_t hlt = 0xF4;
    bus_dma_write(m->bus, CODE, code, len);
    bus_dma_write(m->bus, CODE + len, &hlt, 1);
    if (reset)
        cpu_reset(m->cpu);
    cpu_get_regs(m->cpu, &out.r);
    cm_flat32(&out.r);
    out.r.gpr[REG_AX] = eax;
    out.r.gpr[REG_CX] = ecx;
    out.r.gpr[REG_DX] = edx;
    out.r.gpr[REG_SP] = 0x8000;
    out.r.cr4 = cr4;
    out.r.rip = CODE;
    out.r.halted = false;
    cpu_set_regs(m->cpu, &out.r);
    uint64_t n = 0;
    out.why = cpu_run(m->cpu, 100, &n);
    /* A stop request (clock slice end) just returns early: go on, as the
     * board does. */
    for (int k = 0; k < 10 && out.why == CPU_EXIT_STOP; k++)
        out.why = cpu_run(m->cpu, 100, &n);
    cpu_get_regs(m->cpu, &out.r);
    return out;
}

static Run run_code(CpuMachine *m, const uint8_t *code, size_t len, uint32_t eax, uint32_t ecx,
                    uint32_t edx, uint32_t cr4)
{
    return run_code_from(m, true, code, len, eax, ecx, edx, cr4);
}

static const uint8_t cpuid_code[] = { 0x0F, 0xA2 };

static bool make(CpuMachine *m, const char *model)
{
    VsxError err = { 0 };
    if (cm_create(m, 1 << 20, model, &err) < 0) {
        test_fail(__FILE__, __LINE__, "cannot create %s: %s", model, err.msg);
        cm_destroy(m);
        return false;
    }
    return true;
}

TEST(simd, p6_models_listed)
{
    const char *want[] = { "pentium2", "pentium3", "pentium4", "athlon" };
    for (size_t k = 0; k < 4; k++) {
        bool found = false;
        for (const char *const *n = cpu_model_names(); *n; n++)
            found |= !strcmp(*n, want[k]);
        CHECK(found);
        CHECK(cpu_model_valid(want[k]));
    }
}

/* Features per model: only what vsx implements (no PSE-36); PAE and the P6
 * MTRR/PGE/MCA registers on all, PAT from the Pentium III on. */
#define P6_REGS ((1u << 6) | (1u << 12) | (1u << 13) | (1u << 14)) /* PAE, MTRR, PGE, MCA */
TEST(simd, cpuid_features)
{
    static const struct { const char *model; uint32_t family, set, clear; } t[] = {
        { "pentium2", 6, P6_REGS | (1u << 15) | (1u << 23) | (1u << 24) | (1u << 11),
          (1u << 25) | (1u << 26) | (1u << 16) },
        { "pentium3", 6, P6_REGS | (1u << 16) | (1u << 15) | (1u << 23) | (1u << 24) | (1u << 25), 1u << 26 },
        { "pentium4", 15, P6_REGS | (1u << 16) | (1u << 25) | (1u << 26) | (1u << 19), 0 },
        { "athlon", 6, P6_REGS | (1u << 16) | (1u << 15) | (1u << 23) | (1u << 24) | (1u << 25), 1u << 26 },
    };
    uint32_t never = 1u << 17;
    for (size_t k = 0; k < sizeof t / sizeof *t; k++) {
        CpuMachine m;
        if (!make(&m, t[k].model))
            return;
        Run r = run_code(&m, cpuid_code, sizeof cpuid_code, 1, 0, 0, 0);
        CHECK_EQ(r.why, CPU_EXIT_HLT);
        uint32_t a = (uint32_t)r.r.gpr[REG_AX], d = (uint32_t)r.r.gpr[REG_DX];
        CHECK_EQ((a >> 8) & 0xF, t[k].family);
        CHECK_EQ(d & t[k].set, t[k].set);
        CHECK_EQ(d & (t[k].clear | never), 0);
        /* A bare bus has no local APIC: the APIC bit reads clear. */
        CHECK_EQ(d & (1u << 9), 0);
        cm_destroy(&m);
    }
}

static void check_string(const char *model, uint32_t leaf0, const char *want)
{
    CpuMachine m;
    if (!make(&m, model))
        return;
    char got[49] = { 0 };
    for (uint32_t l = 0; l < 3; l++) {
        Run r = run_code(&m, cpuid_code, sizeof cpuid_code, leaf0 + l, 0, 0, 0);
        uint32_t v[4] = { (uint32_t)r.r.gpr[REG_AX], (uint32_t)r.r.gpr[REG_BX],
                          (uint32_t)r.r.gpr[REG_CX], (uint32_t)r.r.gpr[REG_DX] };
        memcpy(got + 16 * l, v, 16);
    }
    if (strcmp(got, want))
        test_fail(__FILE__, __LINE__, "%s brand '%s', want '%s'", model, got, want);
    cm_destroy(&m);
}

TEST(simd, cpuid_vendor_brand_cache)
{
    check_string("pentium3", 0x80000002, "Intel(R) Pentium(R) III CPU");
    check_string("athlon", 0x80000002, "AMD Athlon(tm) XP");
    CpuMachine m;
    if (!make(&m, "athlon"))
        return;
    Run r = run_code(&m, cpuid_code, sizeof cpuid_code, 0, 0, 0, 0);
    char v[13] = { 0 };
    memcpy(v, &r.r.gpr[REG_BX], 4);
    memcpy(v + 4, &r.r.gpr[REG_DX], 4);
    memcpy(v + 8, &r.r.gpr[REG_CX], 4);
    CHECK(!strcmp(v, "AuthenticAMD"));
    r = run_code(&m, cpuid_code, sizeof cpuid_code, 0x80000001, 0, 0, 0);
    CHECK(r.r.gpr[REG_DX] & (1u << 22));          /* AMD MMX extensions */
    CHECK_EQ(r.r.gpr[REG_DX] & (1u << 11), 0);    /* no SYSCALL */
    cm_destroy(&m);
    if (!make(&m, "pentium3"))
        return;
    r = run_code(&m, cpuid_code, sizeof cpuid_code, 2, 0, 0, 0);
    CHECK_EQ(r.r.gpr[REG_AX] & 0xFF, 1);           /* leaf 2 run once */
    CHECK_EQ(r.r.gpr[REG_DX], 0x0C040882);        /* 256K L2, 16K L1 I+D */
    cm_destroy(&m);
}

/* A stand-in local APIC for bus_set_apic. */
typedef struct FakeApic {
    uint64_t base;
    int writes;
} FakeApic;
static uint64_t fake_read(void *p) { return ((FakeApic *)p)->base; }
static void fake_write(void *p, uint64_t v)
{
    ((FakeApic *)p)->base = v;
    ((FakeApic *)p)->writes++;
}

TEST(simd, apic_base_msr_via_board)
{
    static const uint8_t rdmsr[] = { 0x0F, 0x32 }, wrmsr[] = { 0x0F, 0x30 };
    CpuMachine m;
    if (!make(&m, "pentium3"))
        return;
    /* No APIC on the bus: the MSR is absent, #GP (no IDT: shutdown). */
    Run r = run_code(&m, rdmsr, sizeof rdmsr, 0, 0x1B, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_SHUTDOWN);
    FakeApic apic = { 0xFEE00900, 0 };
    bus_set_apic(m.bus, fake_read, fake_write, &apic);
    r = run_code(&m, rdmsr, sizeof rdmsr, 0, 0x1B, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    CHECK_EQ(r.r.gpr[REG_AX], 0xFEE00900);
    CHECK_EQ(r.r.gpr[REG_DX], 0);
    r = run_code(&m, wrmsr, sizeof wrmsr, 0xFEC00800, 0x1B, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    CHECK_EQ(apic.base, 0xFEC00800);
    CHECK_EQ(apic.writes, 1);
    /* Reserved bits (here bit 32, beyond a 32-bit physical space): #GP. */
    r = run_code(&m, wrmsr, sizeof wrmsr, 0xFEE00900, 0x1B, 1, 0);
    CHECK_EQ(r.why, CPU_EXIT_SHUTDOWN);
    CHECK_EQ(apic.writes, 1);
    /* With an APIC on the bus, CPUID.1 EDX bit 9 is set. */
    r = run_code(&m, cpuid_code, sizeof cpuid_code, 1, 0, 0, 0);
    CHECK(r.r.gpr[REG_DX] & (1u << 9));
    cm_destroy(&m);
}

/* MXCSR is 1F80h after RESET (STMXCSR [0x3000]); SSE needs CR4.OSFXSR. */
TEST(simd, mxcsr_reset_and_osfxsr)
{
    static const uint8_t stmxcsr[] = { 0x0F, 0xAE, 0x1D, 0x00, 0x30, 0x00, 0x00 };
    CpuMachine m;
    if (!make(&m, "pentium3"))
        return;
    uint32_t v = 0;
    bus_dma_write(m.bus, 0x3000, &v, 4);
    Run r = run_code(&m, stmxcsr, sizeof stmxcsr, 0, 0, 0, 0x200);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    bus_dma_read(m.bus, 0x3000, &v, 4);
    CHECK_EQ(v, 0x1F80);
    /* Without OSFXSR it is #UD (no IDT: shutdown). */
    r = run_code(&m, stmxcsr, sizeof stmxcsr, 0, 0, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_SHUTDOWN);
    cm_destroy(&m);
    /* The pentium model has no SSE at all. */
    if (!make(&m, "pentium"))
        return;
    r = run_code(&m, stmxcsr, sizeof stmxcsr, 0, 0, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_SHUTDOWN);
    cm_destroy(&m);
}

/* XMM registers and MXCSR survive cpu_save / cpu_reset / cpu_load. */
TEST(simd, save_load_xmm_mxcsr)
{
    /* movups xmm5, [0x3000]; ldmxcsr [0x3010] */
    static const uint8_t load[] = { 0x0F, 0x10, 0x2D, 0x00, 0x30, 0x00, 0x00,
                                    0x0F, 0xAE, 0x15, 0x10, 0x30, 0x00, 0x00 };
    /* movups [0x3020], xmm5; stmxcsr [0x3030] */
    static const uint8_t store[] = { 0x0F, 0x11, 0x2D, 0x20, 0x30, 0x00, 0x00,
                                     0x0F, 0xAE, 0x1D, 0x30, 0x30, 0x00, 0x00 };
    CpuMachine m;
    if (!make(&m, "pentium4"))
        return;
    uint8_t pat[20];
    for (int k = 0; k < 16; k++)
        pat[k] = (uint8_t)(0xA0 + k);
    uint32_t csr = 0x7F40;   /* RC=11, DAZ */
    memcpy(pat + 16, &csr, 4);
    bus_dma_write(m.bus, 0x3000, pat, sizeof pat);
    Run r = run_code(&m, load, sizeof load, 0, 0, 0, 0x200);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    StateStream *w = state_writer_create();
    cpu_save(m.cpu, w);
    size_t len = 0;
    const void *data = state_data(w, &len);
    cpu_reset(m.cpu);
    StateStream *rd = state_reader_create(data, len);
    CHECK_EQ(cpu_load(m.cpu, rd), 0);
    state_destroy(rd);
    state_destroy(w);
    r = run_code_from(&m, false, store, sizeof store, 0, 0, 0, 0x200);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    uint8_t got[20];
    bus_dma_read(m.bus, 0x3020, got, 16);
    bus_dma_read(m.bus, 0x3030, got + 16, 4);
    if (memcmp(got, pat, 20))
        test_fail(__FILE__, __LINE__, "after load: xmm5 %02x%02x.. mxcsr %02x%02x", got[0], got[15], got[17], got[16]);
    cm_destroy(&m);
}

/* In 16-bit code the 66 byte still selects the XMM form (it is the
 * mandatory prefix, not an operand-size toggle, SDM Vol. 2 2.1.2):
 * paddd xmm0, xmm1 and paddd mm0, mm1 from a 16-bit code segment. */
TEST(simd, prefix66_in_16bit_code)
{
    static const uint8_t code[] = {
        0x0F, 0x10, 0x06, 0x00, 0x30,       /* movups xmm0, [0x3000] */
        0x0F, 0x10, 0x0E, 0x10, 0x30,       /* movups xmm1, [0x3010] */
        0x66, 0x0F, 0xFE, 0xC1,             /* paddd xmm0, xmm1 */
        0x0F, 0x11, 0x06, 0x20, 0x30,       /* movups [0x3020], xmm0 */
        0x0F, 0x6F, 0x06, 0x00, 0x30,       /* movq mm0, [0x3000] */
        0x0F, 0x6F, 0x0E, 0x10, 0x30,       /* movq mm1, [0x3010] */
        0x0F, 0xFE, 0xC1,                   /* paddd mm0, mm1 */
        0x0F, 0x7F, 0x06, 0x30, 0x30,       /* movq [0x3030], mm0 */
        0xF4,
    };
    CpuMachine m;
    if (!make(&m, "pentium4"))
        return;
    uint32_t in[8] = { 1, 2, 3, 4, 10, 20, 30, 0xFFFFFFFF };
    bus_dma_write(m.bus, 0x3000, in, sizeof in);
    bus_dma_write(m.bus, CODE, code, sizeof code);
    CpuRegs r;
    cpu_reset(m.cpu);
    cpu_get_regs(m.cpu, &r);
    cm_flat32(&r);
    cm_seg(&r.seg[SEG_CS], 0x18, CODE, 0xFFFF, SEGF_CODE16);
    r.rip = 0;
    r.cr4 = 0x200;
    r.gpr[REG_SP] = 0x8000;
    r.halted = false;
    cpu_set_regs(m.cpu, &r);
    uint64_t n = 0;
    CpuExit why = cpu_run(m.cpu, 100, &n);
    for (int k = 0; k < 10 && why == CPU_EXIT_STOP; k++)
        why = cpu_run(m.cpu, 100, &n);
    CHECK_EQ(why, CPU_EXIT_HLT);
    uint32_t out[6];
    bus_dma_read(m.bus, 0x3020, out, sizeof out);
    CHECK_EQ(out[0], 11);
    CHECK_EQ(out[1], 22);
    CHECK_EQ(out[2], 33);
    CHECK_EQ(out[3], 3);
    CHECK_EQ(out[4], 11);   /* MMX form: two dwords */
    CHECK_EQ(out[5], 22);
    cm_destroy(&m);
}

/* P6 MSRs (cpu/msr_p6.c): MTRRs, PAT, MCA and the performance counters with
 * RDPMC.  A #GP here (no IDT) ends in a triple fault: CPU_EXIT_SHUTDOWN. */
TEST(p6msr, mtrr_pat_mca_and_rdpmc)
{
    static const uint8_t rdmsr[] = { 0x0F, 0x32 };
    /* mov ecx,0x2FF; wrmsr; xor eax,eax; rdmsr (EAX/EDX preset) */
    static const uint8_t def_type[] = { 0xB9, 0xFF, 0x02, 0x00, 0x00, 0x0F, 0x30, 0x31, 0xC0, 0x0F, 0x32 };
    /* mov ecx,0xC1; wrmsr; xor ecx,ecx; rdpmc */
    static const uint8_t pmc[] = { 0xB9, 0xC1, 0x00, 0x00, 0x00, 0x0F, 0x30, 0x31, 0xC9, 0x0F, 0x33 };
    CpuMachine m;
    if (!make(&m, "pentium3"))
        return;
    Run r = run_code(&m, rdmsr, sizeof rdmsr, 0, 0xFE, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    CHECK_EQ(r.r.gpr[REG_AX], 0x508); /* 8 variable ranges, fixed, WC */
    r = run_code(&m, def_type, sizeof def_type, 0xC06, 0, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    CHECK_EQ(r.r.gpr[REG_AX], 0xC06);
    r = run_code(&m, def_type, sizeof def_type, 0xC02, 0, 0, 0); /* type 2 is reserved */
    CHECK_EQ(r.why, CPU_EXIT_SHUTDOWN);
    r = run_code(&m, rdmsr, sizeof rdmsr, 0, 0x277, 0, 0);
    CHECK_EQ(r.r.gpr[REG_AX], 0x00070406);
    CHECK_EQ(r.r.gpr[REG_DX], 0x00070406);
    r = run_code(&m, rdmsr, sizeof rdmsr, 0, 0x179, 0, 0);
    CHECK_EQ(r.r.gpr[REG_AX], 1); /* one bank */
    r = run_code(&m, pmc, sizeof pmc, 0x12345, 0, 0x77, 0);
    CHECK_EQ(r.why, CPU_EXIT_HLT);
    CHECK_EQ(r.r.gpr[REG_AX], 0x12345);
    CHECK_EQ(r.r.gpr[REG_DX], 0x77); /* 40-bit counter */
    cm_destroy(&m);
    if (!make(&m, "pentium")) /* no MTRRs on the P5 */
        return;
    r = run_code(&m, rdmsr, sizeof rdmsr, 0, 0xFE, 0, 0);
    CHECK_EQ(r.why, CPU_EXIT_SHUTDOWN);
    cm_destroy(&m);
}
