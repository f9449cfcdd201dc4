/*
 * cpu/cpu.c -- the CPU object: models, reset, control registers, MSRs,
 * CPUID, the run loop (block lookup/translation and dispatch), exception
 * unwinding with the double/triple-fault rules, external interrupts, bus
 * hooks, register access and save/load.
 */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- models (data, not code: CPUID leaves, features, ISA class) ---- */
static const CpuModel cpu_models[] = {
    /* Intel486 DX4-class: CPUID present, FPU on chip (SDM Vol. 2 CPUID). */
    { "486", ISA_486, 1, "GenuineIntel", 0x0480, 0x00000001, 0, 100, 0,
      0, { 0 }, 0, 0, NULL, { 0 }, { 0 } },
    /* Pentium (P54C): FPU VME DE PSE TSC MSR MCE CX8. */
    { "pentium", ISA_P5, 1, "GenuineIntel", 0x052C, 0x000001BF, 0, 1000,
      CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE,
      0, { 0 }, 0, 0, NULL, { 0 }, { 0 } },
    /* P6 family.  Advertised: FPU VME DE PSE TSC MSR PAE MCE CX8 APIC SEP
     * MTRR PGE MCA CMOV MMX FXSR (0x0180FBFF), + PAT SSE on Pentium III /
     * Athlon XP, + CLFSH SSE2 on Pentium 4 (MTRR/PAT/MCA registers:
     * msr_p6.c; PAE paging: mmu.c).  Not advertised because vsx lacks them:
     * PSE-36 (and AMD SYSCALL / 3DNow!).  Leaf 2 descriptors from
     * SDM Vol. 2 CPUID Table 3-12 (Pentium II 512K L2, Pentium III 256K L2,
     * Pentium 4 8K L1 / 12K uop trace / 512K L2). */
    { "pentium2", ISA_P6, 2, "GenuineIntel", 0x0652, 0x0180FBFF, 0, 300,
      CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR,
      0, { 0x03020101, 0, 0, 0x0C040843 }, 0, 0, NULL, { 0 }, { 0 } },
    { "pentium3", ISA_P6, 2, "GenuineIntel", 0x0686, 0x0381FBFF, 0, 800,
      CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT,
      0, { 0x03020101, 0, 0, 0x0C040882 }, 0x80000004, 0, "Intel(R) Pentium(R) III CPU",
      { 0 }, { 0 } },
    { "pentium4", ISA_P6, 2, "GenuineIntel", 0x0F27, 0x0789FBFF, 0, 2000,
      CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT,
      0x00000800, { 0x665B5001, 0, 0, 0x007B7040 }, 0x80000004, 0,
      "Intel(R) Pentium(R) 4 CPU", { 0 }, { 0 } },
    /* Athlon XP (K7 Palomino, family 6 model 6): SSE; 80000001h EDX mirrors
     * the leaf-1 bits plus MMX extensions (22), without SYSCALL (11).
     * L1 64K+64K 2-way, L2 256K 16-way, 64-byte lines (AMD CPUID spec). */
    { "athlon", ISA_P6, 1, "AuthenticAMD", 0x0662, 0x0381FBFF, 0, 1500,
      CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_MCE | CR4_PAE | CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT,
      0, { 0 }, 0x80000006, 0x01C1F3FF, "AMD Athlon(tm) XP",
      { 0x0408FF08, 0xFF20FF10, 0x40020140, 0x40020140 }, { 0, 0x41004100, 0x01008140, 0 } },
};
static const char *const cpu_model_list[] = {
    "486", "pentium", "pentium2", "pentium3", "pentium4", "athlon", NULL,
};

const char *const *cpu_model_names(void) { return cpu_model_list; }

static const CpuModel *model_find(const char *name)
{
    if (!name)
        name = "pentium";
    for (size_t k = 0; k < sizeof cpu_models / sizeof cpu_models[0]; k++)
        if (!strcmp(cpu_models[k].name, name))
            return &cpu_models[k];
    return NULL;
}
bool cpu_model_valid(const char *model) { return model_find(model) != NULL; }

/* ---- bus hooks ---- */
static void hook_intr(void *p, int level)
{
    Cpu *c = p;
    c->intr_line = level != 0;
    if (level)
        c->brk = 1;
}
static void hook_nmi(void *p)
{
    Cpu *c = p;
    c->nmi_pending = true;
    c->brk = 1;
}
static void hook_map_changed(void *p)
{
    Cpu *c = p;
    c->a20_mask = (uint32_t)bus_a20_mask(c->bus);
    tlb_flush(c);
    code_flush_all(c);
}
static void hook_ram_written(void *p, uint64_t paddr, uint64_t len)
{
    code_invalidate_range(p, paddr, len);
}
static void hook_stop(void *p)
{
    Cpu *c = p;
    c->stop = true;
    c->brk = 1;
}
static const BusCpuHooks cpu_hooks = {
    hook_intr, hook_nmi, hook_map_changed, hook_ram_written, hook_stop,
};

/* ---- creation and reset ---- */
Cpu *cpu_create(Bus *bus, Clock *clk, const char *model, VsxError *err)
{
    const CpuModel *m = model_find(model);
    if (!m) {
        vsx_errorf(err, "unknown CPU model '%s'", model ? model : "(null)");
        return NULL;
    }
    Cpu *c = calloc(1, sizeof *c);
    if (!c) {
        vsx_errorf(err, "out of memory for the CPU");
        return NULL;
    }
    c->bus = bus;
    c->clk = clk;
    c->model = m;
    c->tlb_nused = TLB_USED_MAX + 1; /* calloc'ed tags are not invalid yet: the first flush clears all */
    c->arena = malloc(ARENA_SIZE);
    c->tracked_pages = (uint32_t)(bus_ram_below_4g(bus) >> 12);
    if (c->tracked_pages < 0x100)
        c->tracked_pages = 0x100; /* always track the first MiB (BIOS shadow) */
    c->page_blocks = calloc(c->tracked_pages, sizeof *c->page_blocks);
    c->code_chunks = calloc(c->tracked_pages, sizeof *c->code_chunks);
    c->scratch = malloc(sizeof(Block) + 2 * sizeof(Insn));
    if (!c->arena || !c->page_blocks || !c->code_chunks || !c->scratch) {
        cpu_destroy(c);
        vsx_errorf(err, "out of memory for the CPU caches");
        return NULL;
    }
    bus_set_cpu_hooks(bus, &cpu_hooks, c);
    cpu_reset(c);
    return c;
}

void cpu_destroy(Cpu *c)
{
    if (!c)
        return;
    if (getenv("VSX_CPU_STATS"))
        fprintf(stderr, "vsx cpu: %llu instructions, %llu blocks translated, %llu uncached decodes, "
                        "%llu code pages invalidated, %llu full flushes\n",
                (unsigned long long)c->icount, (unsigned long long)c->stats.translated,
                (unsigned long long)c->stats.uncached, (unsigned long long)c->stats.invalidated,
                (unsigned long long)c->stats.flushes);
    free(c->arena);
    free(c->page_blocks);
    free(c->code_chunks);
    free(c->scratch);
    free(c);
}

/* RESET# state: SDM Vol. 3A Table 9-1. */
void cpu_reset(Cpu *c)
{
    memset(c->r, 0, sizeof c->r);
    c->r[REG_DX].d = c->model->signature;
    c->eip = c->next_eip = 0xFFF0;
    c->eflags = 2;
    c->cc_op = CC_EAGER;
    c->cr0 = 0x60000010;
    c->cr2 = c->cr3 = c->cr4 = 0;
    c->paging = false;
    c->efer = 0;
    msr_p6_reset(c);
    for (int k = 0; k < 4; k++)
        c->dr[k] = 0;
    c->dr[6] = 0xFFFF0FF0;
    c->dr[7] = 0x400;
    c->cpl = 0;
    cpu_update_tlb_sel(c);
    for (int s = 0; s < SEG_COUNT; s++)
        seg_set_cache(c, s, 0, 0, 0xFFFF, 0x93);
    seg_set_cache(c, SEG_CS, 0xF000, 0xFFFF0000u, 0xFFFF, 0x9B);
    c->code32 = c->stack32 = 0;
    c->gdtr_base = c->idtr_base = 0;
    c->gdtr_limit = c->idtr_limit = 0xFFFF;
    c->ldtr = (SegCache){ .limit = 0xFFFF, .flags = 0x82 };
    c->tr = (SegCache){ .limit = 0xFFFF, .flags = 0x8B };
    c->halted = false;
    c->nmi_pending = c->nmi_blocked = false;
    c->shadow = false;
    c->shutdown = false;
    c->delivering = -1;
    c->tsc_offset = 0;
    c->apic_base = 0xFEE00900;
    c->sysenter_cs = c->sysenter_esp = c->sysenter_eip = 0;
    c->a20_mask = (uint32_t)bus_a20_mask(c->bus);
    c->data_bp = false;
    c->dr6_pending = 0;
    fpu_power_on(&c->fpu);
    simd_reset(&c->simd);
    tlb_flush(c);
    code_flush_all(c);
}

/* ---- control registers (SDM Vol. 3A 2.5) ---- */
static void segs_refresh(Cpu *c)
{
    bool pm = cpu_pm_nonv86(c);
    for (int s = 0; s < SEG_COUNT; s++)
        seg_update_ranges(&c->seg[s], s, pm);
}

void cpu_write_cr0(Cpu *c, uint32_t v)
{
    if ((v & CR0_PG) && !(v & CR0_PE))
        cpu_gp(c, 0);
    if ((v & CR0_NW) && !(v & CR0_CD))
        cpu_gp(c, 0);
    v |= CR0_ET;
    v &= CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | CR0_PG;
    uint32_t old = c->cr0;
    uint64_t pdpte[4];
    if ((v & CR0_PG) && !(old & CR0_PG) && (c->cr4 & CR4_PAE)) {
        if (!mmu_read_pdptes(c, c->cr3, pdpte))
            cpu_gp(c, 0);
        memcpy(c->pdpte, pdpte, sizeof pdpte);
    }
    c->cr0 = v;
    c->paging = (v & CR0_PG) != 0;
    if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE))
        tlb_flush(c);
    if ((old ^ v) & CR0_PE)
        segs_refresh(c);
    if ((old ^ v) & CR0_AM)
        cpu_update_tlb_sel(c);
    c->brk = 1;
}

void cpu_write_cr3(Cpu *c, uint32_t v)
{
    uint64_t pdpte[4];
    if (c->cr4 & CR4_PAE) {
        /* PAE: bits 5-31 locate the page-directory-pointer table. */
        if (c->paging && !mmu_read_pdptes(c, v, pdpte))
            cpu_gp(c, 0);
        if (c->paging)
            memcpy(c->pdpte, pdpte, sizeof pdpte);
        c->cr3 = v & 0xFFFFFFF8u;
    } else {
        c->cr3 = v & 0xFFFFF018u;
    }
    tlb_flush(c);
}

void cpu_write_cr4(Cpu *c, uint32_t v)
{
    if (v & ~c->model->cr4_mask)
        cpu_gp(c, 0);
    uint32_t old = c->cr4;
    uint64_t pdpte[4];
    if ((v & CR4_PAE) && c->paging && ((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE))) {
        if (!mmu_read_pdptes(c, c->cr3, pdpte))
            cpu_gp(c, 0);
        memcpy(c->pdpte, pdpte, sizeof pdpte);
    }
    c->cr4 = v;
    if ((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE))
        tlb_flush(c);
    c->brk = 1;
}

void cpu_mode_changed(Cpu *c) { c->brk = 1; }

/* ---- time stamp counter, MSRs, CPUID ---- */
static uint64_t tsc_base(Cpu *c)
{
    if (c->clk)
        return clock_now(c->clk) * c->model->tsc_mhz / 1000;
    return cpu_icount_now(c);
}
uint64_t cpu_rdtsc(Cpu *c) { return tsc_base(c) + c->tsc_offset; }

/* IA32_APIC_BASE exists when the model has an APIC and the board wired one. */
static bool apic_msr_present(const Cpu *c)
{
    return (c->model->features & (1u << 9)) && c->bus && bus_apic_present(c->bus);
}

bool cpu_rdmsr(Cpu *c, uint32_t msr, uint64_t *v)
{
    switch (msr) {
    case 0x00: case 0x01: *v = 0; return true;   /* P5_MC_ADDR / P5_MC_TYPE */
    case 0x17: case 0x8B:                         /* PLATFORM_ID, BIOS_SIGN_ID (P6) */
        if (c->model->isa < ISA_P6)
            return false;
        *v = 0;
        return true;
    case 0x10: *v = cpu_rdtsc(c); return true;    /* TSC */
    case 0x1B:
        if (!apic_msr_present(c))
            return false;
        *v = bus_apic_base_read(c->bus);
        return true;
    case 0x174: case 0x175: case 0x176:
        if (!(c->model->features & (1u << 11)))
            return false;
        *v = msr == 0x174 ? c->sysenter_cs : msr == 0x175 ? c->sysenter_esp : c->sysenter_eip;
        return true;
    default:
        return msr_p6_read(c, msr, v);
    }
}

bool cpu_wrmsr(Cpu *c, uint32_t msr, uint64_t v)
{
    switch (msr) {
    case 0x00: case 0x01: return true;
    case 0x8B: return c->model->isa >= ISA_P6; /* microcode signature latch */
    case 0x10: c->tsc_offset = v - tsc_base(c); return true;
    case 0x1B:
        /* IA32_APIC_BASE: BSP (8), enable (11), base (12-31); the rest is
         * reserved (#GP) on a CPU without PAE (SDM Vol. 3A 10.4.4). */
        if (!apic_msr_present(c) || (v & ~0xFFFFF900ull))
            return false;
        c->apic_base = v;
        bus_apic_base_write(c->bus, v);
        return true;
    case 0x174: case 0x175: case 0x176:
        if (!(c->model->features & (1u << 11)))
            return false;
        if (msr == 0x174)
            c->sysenter_cs = (uint32_t)v;
        else if (msr == 0x175)
            c->sysenter_esp = (uint32_t)v;
        else
            c->sysenter_eip = (uint32_t)v;
        return true;
    default:
        return msr_p6_write(c, msr, v);
    }
}

/* Extended leaves 8000_0000h and up (SDM Vol. 2 CPUID; AMD CPUID spec). */
static void cpuid_ext(const Cpu *c, uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *cc, uint32_t *d)
{
    const CpuModel *m = c->model;
    uint32_t *out[4] = { a, b, cc, d };
    if (leaf == 0x80000000u) {
        *a = m->max_ext;
        if (m->vendor[0] == 'A') {   /* AMD repeats the vendor string */
            memcpy(b, m->vendor, 4);
            memcpy(d, m->vendor + 4, 4);
            memcpy(cc, m->vendor + 8, 4);
        }
    } else if (leaf == 0x80000001u) {
        *a = m->vendor[0] == 'A' ? m->signature : 0;
        *d = m->ext_edx;
        if (!apic_msr_present(c))
            *d &= ~(1u << 9);
    } else if (leaf <= 0x80000004u) {
        char s[48] = { 0 };
        if (m->brand)
            strncpy(s, m->brand, sizeof s - 1);
        for (int k = 0; k < 4; k++)
            memcpy(out[k], s + 16 * (leaf - 0x80000002u) + 4 * k, 4);
    } else {
        const uint32_t *t = leaf == 0x80000005u ? m->ext5 : m->ext6;
        for (int k = 0; k < 4; k++)
            *out[k] = t[k];
    }
}

void cpu_cpuid(Cpu *c, uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *cc, uint32_t *d)
{
    const CpuModel *m = c->model;
    uint32_t v[3];
    *a = *b = *cc = *d = 0;
    if (leaf >= 0x80000000u && m->max_ext) {
        if (leaf <= m->max_ext) {
            cpuid_ext(c, leaf, a, b, cc, d);
            return;
        }
        if (m->vendor[0] == 'A')
            return;   /* AMD: unsupported leaves read as zero */
    }
    if (leaf > m->max_leaf)
        leaf = m->max_leaf; /* Intel: out-of-range leaves return the highest basic leaf */
    if (leaf == 0) {
        memcpy(v, m->vendor, 12);
        *a = m->max_leaf;
        *b = v[0];
        *d = v[1];
        *cc = v[2];
    } else if (leaf == 1) {
        *a = m->signature;
        *b = m->leaf1_ebx;
        *d = m->features;
        *cc = m->features_ecx;
        /* A board without a local APIC reads as APIC disabled: bit 9 clear. */
        if (!apic_msr_present(c))
            *d &= ~(1u << 9);
    } else if (leaf == 2) {
        *a = m->leaf2[0];
        *b = m->leaf2[1];
        *cc = m->leaf2[2];
        *d = m->leaf2[3];
    }
}

/* ---- exceptions ---- */
_Noreturn void cpu_raise(Cpu *c, int vec, int err)
{
    c->exc_vec = vec;
    c->exc_err = err;
    longjmp(c->jb, 1);
}

static bool contributory(int v)
{
    return v == EXC_DE || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP;
}

static bool has_error_code(int v)
{
    return v == EXC_DF || v == EXC_TS || v == EXC_NP || v == EXC_SS || v == EXC_GP
        || v == EXC_PF || v == EXC_AC;
}

/* Delivers c->exc_vec, combining it with an exception being delivered into
 * a double fault or shutdown (SDM Vol. 3A Table 6-5). */
static void exception_dispatch(Cpu *c, bool trap)
{
    int vec = c->exc_vec, err = c->exc_err;
    int prev = c->delivering;
    if (prev >= 0) {
        if (prev == EXC_DF) {
            c->shutdown = true;
            c->delivering = -1;
            bus_request(c->bus, BUS_REQ_SHUTDOWN, 0);
            return;
        }
        if ((contributory(prev) && contributory(vec)) || (prev == EXC_PF && (contributory(vec) || vec == EXC_PF))) {
            vec = EXC_DF;
            err = 0;
        }
    }
    if (has_error_code(vec) && err == ERR_NONE)
        err = 0;
    if (!has_error_code(vec))
        err = ERR_NONE;
    if (!cpu_pm(c))
        err = ERR_NONE; /* real mode pushes no error codes */
    c->delivering = vec;
    c->halted = false;
    /* Faults push EFLAGS with RF set so the restarted instruction does not
     * hit its own instruction breakpoint again (SDM Vol. 3B 17.3.1.1). */
    c->push_rf = !trap && vec != EXC_DF;
    cpu_deliver(c, vec, err, false, c->eip);
    c->push_rf = false;
    c->delivering = -1;
}

/* ---- external events ---- */
static bool interrupt_shadow(Cpu *c)
{
    if (c->shadow && c->icount == c->shadow_icount)
        return true;
    c->shadow = false;
    return false;
}

/* Takes NMI or INTR if one is deliverable now; true if one was taken. */
static bool take_interrupt(Cpu *c)
{
    if (interrupt_shadow(c))
        return false;
    if (c->nmi_pending && !c->nmi_blocked) {
        c->nmi_pending = false;
        c->nmi_blocked = true;
        c->halted = false;
        c->delivering = -1;
        cpu_deliver(c, EXC_NMI, ERR_NONE, false, c->eip);
        return true;
    }
    if (c->intr_line && (c->eflags & FL_IF)) {
        int vec = bus_intr_ack(c->bus);
        c->halted = false;
        c->delivering = -1;
        cpu_deliver(c, vec & 0xFF, ERR_NONE, false, c->eip);
        return true;
    }
    return false;
}

/* ---- translation ---- */
Block *code_lookup(Cpu *c, uint32_t phys, uint32_t eip, bool code32);
void code_insert(Cpu *c, Block *b);

static void block_end(Cpu *c, const Insn *i);

void thread_slow(Cpu *c, const Insn *i)
{
    i->fn(c, i);
    if (unlikely(c->brk))
        return;
    i++;
    i->tfn(c, i);
}

/* Adds the sentinel after a block's last instruction (see struct Insn). */
static void block_seal(Block *b)
{
    Insn *e = &b->insn[b->n];
    e->tfn = block_end;
    e->imm = b->n; /* block_end finds its Block from this */
}

/* Drops b's successor links; new ones are valid in generation gen. */
static void block_unlink(Block *b, uint32_t gen)
{
    b->gen = gen;
    b->succ[0] = b->succ[1] = NULL;
    b->succ_eip[0] = b->insn[b->n - 1].next_eip; /* the fall-through */
    b->succ_eip[1] = 0;
}

static void insn_place(Insn *in, uint32_t eip)
{
    in->eip = eip;
    in->next_eip = eip + in->len;
}

/* Fetches one instruction byte by byte through the MMU (page-crossing or
 * uncacheable code), with the CS limit check (#GP(0)). */
static Block *decode_uncached(Cpu *c, uint32_t eip)
{
    c->stats.uncached++;
    uint8_t buf[16];
    Block *b = c->scratch;
    bool end;
    const SegCache *cs = &c->seg[SEG_CS];
    for (unsigned k = 0; k < 15; k++) {
        uint32_t off = c->code32 ? eip + k : ((eip + k) & 0xFFFF);
        if (off > cs->limit)
            cpu_gp(c, 0);
        buf[k] = (uint8_t)lin_rd(c, cs->base + off, 1, c->cpl == 3);
        int len = decode_insn(c, buf, k + 1, c->code32, &b->insn[0], &end);
        if (len > 0) {
            insn_place(&b->insn[0], eip);
            b->eip = eip;
            b->n = 1;
            b->bytes = (uint16_t)len;
            block_unlink(b, link_gen(c) - 1); /* never chained from */
            block_seal(b);
            return b;
        }
        if (len < 0)
            break;
    }
    cpu_gp(c, 0); /* longer than 15 bytes */
}

static Block *translate(Cpu *c, uint32_t phys, const uint8_t *host, uint32_t eip, bool cache)
{
    size_t need = sizeof(Block) + (BLOCK_MAX_INSNS + 1) * sizeof(Insn);
    if (!cache)
        return decode_uncached(c, eip);
    if (c->arena_used + need > ARENA_SIZE)
        code_flush_all(c);
    Block *b = (Block *)(c->arena + c->arena_used);
    unsigned pos = 0, avail = 0x1000 - (phys & 0xFFF);
    uint32_t limit = c->seg[SEG_CS].limit;
    b->n = 0;
    while (b->n < BLOCK_MAX_INSNS) {
        bool end = false;
        Insn *in = &b->insn[b->n];
        int len = decode_insn(c, host + pos, avail - pos, c->code32, in, &end);
        if (len <= 0 || eip + pos + (unsigned)len - 1 > limit || (!c->code32 && eip + pos + (unsigned)len > 0x10000))
            break;
        insn_place(in, eip + pos);
        pos += (unsigned)len;
        b->n++;
        /* A direct JMP/CALL forward within the page: the block goes on at
         * the target (the handler still checks it against the CS limit
         * when it runs), and covers [eip, eip + bytes). */
        uint32_t target;
        if (end && decode_direct_target(in, &target) && target >= eip &&
            target - eip >= pos && target - eip < avail) {
            pos = target - eip;
            end = false;
        }
        if (end || pos >= avail)
            break;
    }
    if (b->n == 0)
        return decode_uncached(c, eip);
    block_seal(b);
    b->phys = phys;
    b->eip = eip;
    block_unlink(b, link_gen(c) - 1); /* no successors yet */
    b->code32 = c->code32;
    b->bytes = (uint16_t)pos;
    c->arena_used += (sizeof(Block) + (b->n + 1u) * sizeof(Insn) + 15) & ~(size_t)15;
    c->stats.translated++;
    code_insert(c, b);
    return b;
}

static Block *block_for_eip(Cpu *c)
{
    uint32_t eip = c->eip;
    const SegCache *cs = &c->seg[SEG_CS];
    if (eip > cs->limit)
        cpu_gp(c, 0);
    uint32_t lin = cs->base + eip;
    TlbEntry *e = &c->tlbr[(lin >> 12) & (TLB_SIZE - 1)];
    uint32_t phys;
    uint8_t *host;
    if (tlb_hit(e, lin, 1)) {
        phys = (c->tlb_rpage[c->cpl == 3][(lin >> 12) & (TLB_SIZE - 1)] << 12) | (lin & 0xFFF);
        host = (uint8_t *)(e->addend + lin);
    } else {
        (void)lin_rd(c, lin, 1, c->cpl == 3); /* walks, faults, fills the TLB */
        phys = mmu_translate(c, lin, false, c->cpl == 3);
        BusPage bp;
        bus_page(c->bus, phys & ~0xFFFu, &bp);
        host = bp.read ? bp.read + (phys & 0xFFF) : NULL;
    }
    bool cache = host != NULL;
    if (cache && (phys >> 12) >= c->tracked_pages) {
        BusPage bp;
        bus_page(c->bus, phys & ~0xFFFu, &bp);
        cache = bp.write == NULL; /* ROM: never written behind our back */
    }
    if (cache) {
        Block *b = code_lookup(c, phys, eip, c->code32);
        if (b && eip + b->bytes - 1 <= cs->limit)
            return b;
        if (b)
            return decode_uncached(c, eip);
    }
    return translate(c, phys, host, eip, cache);
}

static inline unsigned jc_slot(uint32_t eip)
{
    return (eip ^ (eip >> JC_BITS)) & ((1u << JC_BITS) - 1);
}

static inline Block *jc_find(const Cpu *c, uint32_t eip)
{
    unsigned k = jc_slot(eip);
    return c->jc[k].eip == eip && c->jc[k].gen == link_gen(c) ? c->jc[k].b : NULL;
}

static void jc_fill(Cpu *c, uint32_t eip, Block *b)
{
    unsigned k = jc_slot(eip);
    c->jc[k].eip = eip;
    c->jc[k].gen = link_gen(c);
    c->jc[k].b = b;
}

/* b's successor link for eip (slot 0: the fall-through), or NULL.  Only
 * meaningful while b->gen == link_gen(c). */
static inline Block *succ_find(const Block *b, uint32_t eip)
{
    int s = eip != b->succ_eip[0];
    return b->succ_eip[s] == eip ? b->succ[s] : NULL;
}

/* The block at CS:EIP, through the previous block's successor links when
 * nothing has changed since they were made, else the jump cache. */
static Block *next_block(Cpu *c)
{
    Block *p = c->prev_block, *b;
    uint32_t gen = link_gen(c);
    if (p && c->prev_gen == gen && p->gen == gen) {
        b = succ_find(p, c->eip);
        if (b && c->eip + b->bytes - 1 <= c->seg[SEG_CS].limit)
            goto found;
    }
    b = jc_find(c, c->eip);
    if (!b) {
        b = block_for_eip(c);
        if (b == c->scratch) {
            c->prev_block = NULL;
            return b;
        }
        jc_fill(c, c->eip, b);
    }
    if (p && c->prev_gen == gen && link_gen(c) == gen) {
        if (p->gen != gen)
            block_unlink(p, gen);
        int s = c->eip != p->succ_eip[0];
        p->succ[s] = b;
        p->succ_eip[s] = c->eip;
    }
found:
    c->prev_block = b;
    c->prev_gen = link_gen(c);
    return b;
}

/* Instruction breakpoints in DR0-DR3 (SDM Vol. 3A 17.2). */
static bool debug_active(const Cpu *c)
{
    return (c->eflags & (FL_TF | FL_RF)) || (c->dr[7] & 0xFF) || c->data_bp;
}

static void check_code_breakpoints(Cpu *c)
{
    if (!(c->dr[7] & 0xFF) || (c->eflags & FL_RF))
        return;
    uint32_t lin = c->seg[SEG_CS].base + c->eip, hit = 0;
    for (int k = 0; k < 4; k++) {
        bool en = (c->dr[7] >> (2 * k)) & 3;
        unsigned rw = (c->dr[7] >> (16 + 4 * k)) & 3;
        if (en && rw == 0 && c->dr[k] == lin)
            hit |= 1u << k;
    }
    if (hit) {
        c->dr[6] = (c->dr[6] & ~0xFu) | hit;
        cpu_raise(c, EXC_DB, ERR_NONE);
    }
}

/* ---- the run loop ----
 * A block runs threaded: each Insn's tfn tail-calls the next one, and the
 * sentinel after the last (block_end) accounts for the block and, when
 * nothing needs the outer loop, tail-calls the successor block directly.
 * Nothing carried from one instruction to the next goes through memory:
 * eip comes from the Insn and icount is added per block (an exception
 * recovers the exact count from Cpu.cur, see cpu_icount_now).  Chaining is
 * bounded (chain_left) so the stack stays small even where the compiler
 * does not turn the tail calls into jumps (sanitizer builds). */
#define CHAIN_BLOCKS 64

static void block_end(Cpu *c, const Insn *i)
{
    const Block *b = (const Block *)((const char *)(i - i->imm) - offsetof(Block, insn));
    uint32_t eip = c->next_eip;
    c->eip = eip;
    c->icount += b->n;
    c->blk = NULL;
    /* An INTR line held while IF=0 (interrupts masked around a long loop)
     * does not stop chaining: STI, POPF and IRET end the block when they
     * change IF or NMI blocking. */
    if (--c->chain_left == 0 || (c->intr_line && (c->eflags & FL_IF)) ||
        (c->nmi_pending && !c->nmi_blocked) || b->gen != link_gen(c))
        return;
    /* Links are made under one link_gen, which a change of the CS limit
     * bumps: the successor was checked against this limit when linked. */
    Block *n = succ_find(b, eip);
    if (!n) {
        n = jc_find(c, eip); /* an indirect jump's other target */
        if (!n)
            return;
    }
    if (c->chain_limit - c->icount < BLOCK_MAX_INSNS)
        return; /* (not n->n: n's header may not be in the cache) */
    c->prev_block = n;
    c->blk = n;
    n->insn[0].tfn(c, n->insn);
}

/* Runs b (and the blocks it chains to); returns with eip and icount up to
 * date and blk clear. */
static void run_chain(Cpu *c, Block *b, uint64_t limit)
{
    c->brk = 0;
    c->blk = b;
    if (likely(limit - c->icount >= b->n)) {
        c->chain_limit = limit;
        c->chain_left = CHAIN_BLOCKS;
        b->insn[0].tfn(c, b->insn);
        if (!c->blk)
            return; /* ended in block_end */
        b = (Block *)c->blk; /* left early from a chained block */
    } else {
        const Insn *i = b->insn, *end = b->insn + (limit - c->icount);
        do {
            insn_enter(c, i);
            i->fn(c, i);
        } while (++i < end && likely(!c->brk));
    }
    /* cur is the last instruction run: the one that asked to leave the
     * block, or the last within the budget. */
    c->eip = c->next_eip;
    c->icount += (uint64_t)(c->cur - b->insn) + 1;
    c->blk = NULL;
}

static void run_step(Cpu *c, Block *b)
{
    bool tf = c->eflags & FL_TF, rf = c->eflags & FL_RF;
    check_code_breakpoints(c);
    const Insn *i = b->insn;
    c->brk = 0;
    insn_enter(c, i);
    i->fn(c, i);
    c->eip = c->next_eip;
    c->icount++;
    /* RF is cleared once an instruction completes, except by IRET, which
     * loads it (SDM Vol. 3A 2.3 "RF"). */
    if (rf && i->op != 0xCF)
        c->eflags &= ~FL_RF;
    /* MOV SS/POP SS hold off debug traps until after the next instruction
     * (SDM Vol. 3A 6.8.3). */
    bool step = tf && !(c->shadow && c->shadow_icount == c->icount);
    if (step || c->dr6_pending) {
        if (c->dr6_pending)
            c->dr[6] = (c->dr[6] & ~0xFu) | c->dr6_pending;
        if (step)
            c->dr[6] |= 1u << 14; /* BS: single-step trap after the instruction */
        c->dr6_pending = 0;
        c->exc_is_trap = true;
        cpu_raise(c, EXC_DB, ERR_NONE);
    }
}

CpuExit cpu_run(Cpu *c, uint64_t max_insns, uint64_t *executed)
{
    uint64_t start = c->icount;
    volatile uint64_t limit = start + max_insns;
    volatile CpuExit why = CPU_EXIT_BUDGET;
    c->delivering = -1;
    if (setjmp(c->jb)) {
        c->icount = cpu_icount_now(c);
        c->blk = NULL;
        if (!c->exc_is_trap && c->delivering < 0)
            c->icount++; /* the faulting instruction counts as executed */
        bool trap = c->exc_is_trap;
        c->exc_is_trap = false;
        c->brk = 0;
        c->dr6_pending = 0;
        c->prev_block = NULL;
        exception_dispatch(c, trap);
    }
    while (c->icount < limit) {
        if (c->shutdown) {
            why = CPU_EXIT_SHUTDOWN;
            break;
        }
        if (c->stop) {
            c->stop = false;
            why = CPU_EXIT_STOP;
            break;
        }
        if ((c->intr_line || c->nmi_pending) && take_interrupt(c))
            continue;
        if (c->halted) {
            why = CPU_EXIT_HLT;
            break;
        }
        Block *b = next_block(c);
        if (unlikely(debug_active(c)))
            run_step(c, b);
        else if (unlikely(c->shadow && (c->intr_line || c->nmi_pending)))
            run_chain(c, b, c->icount + 1); /* the shadowed instruction, then the interrupt */
        else
            run_chain(c, b, limit);
    }
    if (c->shutdown)
        why = CPU_EXIT_SHUTDOWN;
    if (executed)
        *executed = c->icount - start;
    return why;
}

uint64_t cpu_icount(const Cpu *c) { return cpu_icount_now(c); }

/* ---- register access ---- */
static void seg_out(const SegCache *s, CpuSegment *o)
{
    o->selector = s->sel;
    o->base = s->base;
    o->limit = s->limit;
    o->flags = s->flags;
}

void cpu_get_regs(Cpu *c, CpuRegs *r)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < 16; k++)
        r->gpr[k] = c->r[k].q;
    r->rip = c->eip;
    r->rflags = cpu_get_eflags(c);
    for (int s = 0; s < SEG_COUNT; s++)
        seg_out(&c->seg[s], &r->seg[s]);
    seg_out(&c->ldtr, &r->ldtr);
    seg_out(&c->tr, &r->tr);
    r->gdtr_base = c->gdtr_base;
    r->idtr_base = c->idtr_base;
    r->gdtr_limit = c->gdtr_limit;
    r->idtr_limit = c->idtr_limit;
    r->cr0 = c->cr0;
    r->cr2 = c->cr2;
    r->cr3 = c->cr3;
    r->cr4 = c->cr4;
    for (int k = 0; k < 8; k++)
        r->dr[k] = c->dr[k];
    r->efer = c->efer;
    r->tsc = cpu_rdtsc(c);
    r->halted = c->halted;
}

static void seg_in(SegCache *s, const CpuSegment *o)
{
    s->sel = o->selector;
    s->base = (uint32_t)o->base;
    s->limit = o->limit;
    s->flags = o->flags;
}

void cpu_set_regs(Cpu *c, const CpuRegs *r)
{
    for (int k = 0; k < 16; k++)
        c->r[k].q = r->gpr[k];
    c->r[R_ZERO].q = 0;
    c->eip = c->next_eip = (uint32_t)r->rip;
    c->cc_op = CC_EAGER;
    c->eflags = ((uint32_t)r->rflags & 0x3F7FD7u) | 2;
    c->cr0 = (uint32_t)r->cr0;
    c->cr2 = (uint32_t)r->cr2;
    c->cr3 = (uint32_t)r->cr3;
    c->cr4 = (uint32_t)r->cr4;
    c->paging = (c->cr0 & CR0_PG) != 0;
    if (c->paging && (c->cr4 & CR4_PAE) && !mmu_read_pdptes(c, c->cr3, c->pdpte))
        memset(c->pdpte, 0, sizeof c->pdpte); /* not present: every access faults */
    for (int k = 0; k < 8; k++)
        c->dr[k] = (uint32_t)r->dr[k];
    c->efer = r->efer;
    c->gdtr_base = (uint32_t)r->gdtr_base;
    c->idtr_base = (uint32_t)r->idtr_base;
    c->gdtr_limit = r->gdtr_limit;
    c->idtr_limit = r->idtr_limit;
    seg_in(&c->ldtr, &r->ldtr);
    seg_in(&c->tr, &r->tr);
    for (int s = 0; s < SEG_COUNT; s++)
        seg_in(&c->seg[s], &r->seg[s]);
    if (!cpu_pm(c))
        c->cpl = 0;
    else if (cpu_v86(c))
        c->cpl = 3;
    else
        c->cpl = (uint8_t)(c->seg[SEG_SS].flags >> 5 & 3);
    c->code32 = (c->seg[SEG_CS].flags & DF_DB) != 0;
    c->stack32 = (c->seg[SEG_SS].flags & DF_DB) != 0;
    segs_refresh(c);
    cpu_update_tlb_sel(c);
    c->halted = r->halted;
    c->tsc_offset = r->tsc - tsc_base(c);
    tlb_flush(c);
    code_flush_all(c);
}

/* ---- save / load ---- */
void cpu_save(Cpu *c, StateStream *s)
{
    CpuRegs r;
    cpu_get_regs(c, &r);
    state_put(s, "cpu.regs", &r, sizeof r);
    state_put(s, "cpu.fpu", &c->fpu, sizeof c->fpu);
    state_put(s, "cpu.msr6", &c->msr6, sizeof c->msr6);
    uint64_t misc[8] = { c->intr_line, c->nmi_pending, c->nmi_blocked, c->apic_base,
                         c->sysenter_cs, c->sysenter_esp, c->sysenter_eip, c->icount };
    state_put(s, "cpu.misc", misc, sizeof misc);
    state_put(s, "cpu.simd", &c->simd, sizeof c->simd);
}

int cpu_load(Cpu *c, StateStream *s)
{
    CpuRegs r;
    uint64_t misc[8];
    if (state_get(s, "cpu.regs", &r, sizeof r) < 0 || state_get(s, "cpu.fpu", &c->fpu, sizeof c->fpu) < 0
        || state_get(s, "cpu.msr6", &c->msr6, sizeof c->msr6) < 0
        || state_get(s, "cpu.misc", misc, sizeof misc) < 0)
        return -1;
    cpu_set_regs(c, &r);
    c->intr_line = misc[0] != 0;
    c->nmi_pending = misc[1] != 0;
    c->nmi_blocked = misc[2] != 0;
    c->apic_base = misc[3];
    c->sysenter_cs = (uint32_t)misc[4];
    c->sysenter_esp = (uint32_t)misc[5];
    c->sysenter_eip = (uint32_t)misc[6];
    c->icount = misc[7];
    /* Older snapshots have no SIMD section: RESET values then. */
    if (state_get(s, "cpu.simd", &c->simd, sizeof c->simd) < 0)
        simd_reset(&c->simd);
    return 0;
}
