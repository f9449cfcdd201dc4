/*
 * cpu/msr_p6.c -- the P6 family's model-specific registers that firmware and
 * kernels program but whose effects an emulator does not need to model:
 * memory-type range registers (MTRRs, SDM Vol. 3A 11.11), the page attribute
 * table (IA32_PAT, 11.12), machine-check architecture (ch. 15; one bank that
 * never reports an error) and the two P6 performance counters (which do not
 * count: RDPMC and the MSRs read 0 until written).  They are stored exactly,
 * reserved bits raise #GP as on the real parts, and save/load keeps them.
 * Only models whose CPUID advertises MTRR (12), MCA (14), PAT (16) get them.
 */
#include "ops.h"

#define FEAT_MCE (1u << 7)
#define FEAT_MTRR (1u << 12)
#define FEAT_MCA (1u << 14)
#define FEAT_PAT (1u << 16)

#define MTRRCAP 0xFE           /* VCNT 8 variable ranges, FIX, WC */
#define MTRRCAP_VALUE 0x508
#define MTRR_PHYSBASE0 0x200   /* ... 0x20F, base/mask pairs */
#define MTRR_FIX64K 0x250
#define MTRR_FIX16K_80000 0x258
#define MTRR_FIX16K_A0000 0x259
#define MTRR_FIX4K_C0000 0x268 /* ... 0x26F */
#define MTRR_DEF_TYPE 0x2FF
#define IA32_PAT 0x277
#define PAT_RESET 0x0007040600070406ull
#define MCG_CAP 0x179          /* one bank, no MCG_CTL */
#define MCG_STATUS 0x17A
#define MC0_CTL 0x400          /* CTL, STATUS, ADDR, MISC */
#define PERFCTR0 0xC1
#define PERFEVTSEL0 0x186

static bool has(const Cpu *c, uint32_t feature) { return (c->model->features & feature) != 0; }

/* Memory types 0 (UC), 1 (WC), 4 (WT), 5 (WP), 6 (WB) are defined; 2, 3
 * and 7 are reserved in MTRRs (PAT adds 7 = UC-). */
static bool mtrr_type_ok(unsigned t) { return t <= 6 && t != 2 && t != 3; }

static bool fixed_types_ok(uint64_t v)
{
    for (int k = 0; k < 8; k++)
        if (!mtrr_type_ok((v >> (8 * k)) & 0xFF))
            return false;
    return true;
}

static uint64_t *fixed_slot(Cpu *c, uint32_t msr)
{
    if (msr == MTRR_FIX64K)
        return &c->msr6.mtrr_fixed[0];
    if (msr == MTRR_FIX16K_80000 || msr == MTRR_FIX16K_A0000)
        return &c->msr6.mtrr_fixed[1 + msr - MTRR_FIX16K_80000];
    if (msr >= MTRR_FIX4K_C0000 && msr < MTRR_FIX4K_C0000 + 8)
        return &c->msr6.mtrr_fixed[3 + msr - MTRR_FIX4K_C0000];
    return NULL;
}

/* Reads one of these MSRs; false if it does not exist on this model. */
bool msr_p6_read(Cpu *c, uint32_t msr, uint64_t *v)
{
    if (has(c, FEAT_MTRR)) {
        uint64_t *f = fixed_slot(c, msr);
        if (msr == MTRRCAP)
            return *v = MTRRCAP_VALUE, true;
        if (msr == MTRR_DEF_TYPE)
            return *v = c->msr6.mtrr_def_type, true;
        if (f)
            return *v = *f, true;
        if (msr >= MTRR_PHYSBASE0 && msr < MTRR_PHYSBASE0 + 16)
            return *v = c->msr6.mtrr_var[msr - MTRR_PHYSBASE0], true;
    }
    if (has(c, FEAT_PAT) && msr == IA32_PAT)
        return *v = c->msr6.pat, true;
    if (has(c, FEAT_MCA)) {
        if (msr == MCG_CAP)
            return *v = 1, true;
        if (msr == MCG_STATUS)
            return *v = c->msr6.mcg_status, true;
        if (msr >= MC0_CTL && msr < MC0_CTL + 4)
            return *v = c->msr6.mc0[msr - MC0_CTL], true;
    }
    if (c->model->isa >= ISA_P6 && (msr == PERFCTR0 || msr == PERFCTR0 + 1))
        return *v = c->msr6.perfctr[msr - PERFCTR0], true;
    if (c->model->isa >= ISA_P6 && (msr == PERFEVTSEL0 || msr == PERFEVTSEL0 + 1))
        return *v = c->msr6.perfevtsel[msr - PERFEVTSEL0], true;
    return false;
}

/* Writes one; false (the caller raises #GP) if it does not exist or the
 * value sets reserved bits (36-bit physical addresses on these parts). */
bool msr_p6_write(Cpu *c, uint32_t msr, uint64_t v)
{
    if (has(c, FEAT_MTRR)) {
        uint64_t *f = fixed_slot(c, msr);
        if (msr == MTRRCAP)
            return false; /* read-only */
        if (msr == MTRR_DEF_TYPE) {
            if ((v & ~0xCFFull) || !mtrr_type_ok(v & 0xFF))
                return false;
            return c->msr6.mtrr_def_type = v, true;
        }
        if (f) {
            if (!fixed_types_ok(v))
                return false;
            return *f = v, true;
        }
        if (msr >= MTRR_PHYSBASE0 && msr < MTRR_PHYSBASE0 + 16) {
            bool mask = msr & 1;
            if (mask ? (v & ~0xFFFFFF800ull) : ((v & ~0xFFFFFF0FFull) || !mtrr_type_ok(v & 0xFF)))
                return false;
            return c->msr6.mtrr_var[msr - MTRR_PHYSBASE0] = v, true;
        }
    }
    if (has(c, FEAT_PAT) && msr == IA32_PAT) {
        for (int k = 0; k < 8; k++) {
            unsigned t = (v >> (8 * k)) & 0xFF;
            if (t > 7 || t == 2 || t == 3)
                return false;
        }
        return c->msr6.pat = v, true;
    }
    if (has(c, FEAT_MCA)) {
        if (msr == MCG_CAP)
            return false;
        if (msr == MCG_STATUS)
            return c->msr6.mcg_status = v & 7, true;
        if (msr >= MC0_CTL && msr < MC0_CTL + 4) {
            /* MCi_STATUS accepts only 0 (SDM Vol. 3B 15.3.2.2). */
            if (msr == MC0_CTL + 1 && v)
                return false;
            return c->msr6.mc0[msr - MC0_CTL] = v, true;
        }
    }
    if (c->model->isa >= ISA_P6 && (msr == PERFCTR0 || msr == PERFCTR0 + 1))
        return c->msr6.perfctr[msr - PERFCTR0] = v & 0xFFFFFFFFFFull, true; /* 40 bits */
    if (c->model->isa >= ISA_P6 && (msr == PERFEVTSEL0 || msr == PERFEVTSEL0 + 1))
        return c->msr6.perfevtsel[msr - PERFEVTSEL0] = v & 0xFFFFFFFFull, true;
    return false;
}

void msr_p6_reset(Cpu *c)
{
    memset(&c->msr6, 0, sizeof c->msr6);
    c->msr6.pat = PAT_RESET;
}

/* RDPMC (0F 33, P6): ECX selects counter 0 or 1; CR4.PCE lets CPL > 0 use
 * it (SDM Vol. 2B RDPMC).  The counters only hold what was written. */
static void op_rdpmc(Cpu *c, const Insn *i)
{
    (void)i;
    uint32_t n = R32(c, REG_CX);
    if ((!(c->cr4 & CR4_PCE) && c->cpl != 0 && cpu_pm(c)) || n > 1)
        cpu_gp(c, 0);
    uint64_t v = c->msr6.perfctr[n];
    R32(c, REG_AX) = (uint32_t)v;
    R32(c, REG_DX) = (uint32_t)(v >> 32) & 0xFF;
}
FAM1(rdpmc, op_rdpmc);
