/*
 * cpu/ops_sys.c -- system instructions and I/O: IN/OUT, CLI/STI, PUSHF/
 * POPF, HLT, MOV CR/DR, LGDT/LIDT/SGDT/SIDT, LLDT/LTR/SLDT/STR, LAR/LSL/
 * VERR/VERW, ARPL, SMSW/LMSW, CLTS, INVD/WBINVD, INVLPG, CPUID, RDTSC,
 * RDMSR/WRMSR, SYSENTER/SYSEXIT, the x87 escape and FWAIT (Intel SDM Vol. 2
 * and Vol. 3A chapters 2, 5, 16, 20).
 */
#include "ops.h"

void op_ud(Cpu *c, const Insn *i)
{
    (void)i;
    cpu_ud(c);
}
FAM1(ud, op_ud);
static void op_nop(Cpu *c, const Insn *i) { (void)c; (void)i; }
FAM1(nop, op_nop);

/* Privileged instructions: CPL 0 in protected mode, never in V86 (#GP(0)). */
static void need_cpl0(Cpu *c)
{
    if (cpu_pm(c) && (c->cpl != 0 || cpu_v86(c)))
        cpu_gp(c, 0);
}
/* System-segment instructions exist only in protected mode (#UD otherwise). */
static void need_pm(Cpu *c)
{
    if (!cpu_pm_nonv86(c))
        cpu_ud(c);
}

/* ---- I/O permission (SDM Vol. 3A 19.5) ---- */
void io_check(Cpu *c, uint16_t port, unsigned n)
{
    if (!cpu_pm(c) || (!cpu_v86(c) && c->cpl <= cpu_iopl(c)))
        return;
    if (!io_permitted(c, port, n))
        cpu_gp(c, 0);
}

static void op_in_i(Cpu *c, const Insn *i)
{
    unsigned n = op_bytes(i, !(i->op & 1));
    uint16_t port = (uint8_t)i->imm;
    io_check(c, port, n);
    reg_set(c, REG_AX, n, bus_io_read(c->bus, port, n));
}
static void op_out_i(Cpu *c, const Insn *i)
{
    unsigned n = op_bytes(i, !(i->op & 1));
    uint16_t port = (uint8_t)i->imm;
    io_check(c, port, n);
    bus_io_write(c->bus, port, reg_get(c, REG_AX, n), n);
    c->brk = 1; /* devices may have raised an interrupt or a request */
}
static void op_in_dx(Cpu *c, const Insn *i)
{
    unsigned n = op_bytes(i, !(i->op & 1));
    uint16_t port = R16(c, REG_DX);
    io_check(c, port, n);
    reg_set(c, REG_AX, n, bus_io_read(c->bus, port, n));
}
static void op_out_dx(Cpu *c, const Insn *i)
{
    unsigned n = op_bytes(i, !(i->op & 1));
    uint16_t port = R16(c, REG_DX);
    io_check(c, port, n);
    bus_io_write(c->bus, port, reg_get(c, REG_AX, n), n);
    c->brk = 1;
}
FAM1(in_i, op_in_i);
FAM1(out_i, op_out_i);
FAM1(in_dx, op_in_dx);
FAM1(out_dx, op_out_dx);

/* ---- interrupt flag (SDM Vol. 2 CLI/STI, Vol. 3A 20.4 for VME/PVI) ---- */
static void op_cli(Cpu *c, const Insn *i)
{
    (void)i;
    if (!cpu_pm(c) || (!cpu_v86(c) && c->cpl <= cpu_iopl(c)) || (cpu_v86(c) && cpu_iopl(c) == 3))
        c->eflags &= ~FL_IF;
    else if ((cpu_v86(c) && (c->cr4 & CR4_VME)) || (!cpu_v86(c) && c->cpl == 3 && (c->cr4 & CR4_PVI)))
        c->eflags &= ~FL_VIF;
    else
        cpu_gp(c, 0);
}
static void op_sti(Cpu *c, const Insn *i)
{
    (void)i;
    if (!cpu_pm(c) || (!cpu_v86(c) && c->cpl <= cpu_iopl(c)) || (cpu_v86(c) && cpu_iopl(c) == 3)) {
        if (!(c->eflags & FL_IF)) {
            c->shadow = true;
            c->shadow_icount = cpu_icount_now(c) + 1;
            c->brk = 1; /* a pending INTR is taken after the next instruction */
        }
        c->eflags |= FL_IF;
    } else if (((cpu_v86(c) && (c->cr4 & CR4_VME)) || (!cpu_v86(c) && c->cpl == 3 && (c->cr4 & CR4_PVI)))
               && !(c->eflags & FL_VIP)) {
        c->eflags |= FL_VIF;
    } else {
        cpu_gp(c, 0);
    }
}
FAM1(cli, op_cli);
FAM1(sti, op_sti);

/* ---- PUSHF / POPF (SDM Vol. 2) ---- */
static bool vme_flags(const Cpu *c)
{
    return cpu_v86(c) && cpu_iopl(c) < 3 && (c->cr4 & CR4_VME);
}
static void op_pushf(Cpu *c, const Insn *i)
{
    uint32_t f = cpu_get_eflags(c);
    if (cpu_v86(c) && cpu_iopl(c) < 3) {
        if (!(c->cr4 & CR4_VME) || i->o32)
            cpu_gp(c, 0);
        f = (f & ~FL_IF) | ((f & FL_VIF) ? FL_IF : 0) | FL_IOPL;
        push16(c, (uint16_t)f);
        return;
    }
    if (i->o32)
        push32(c, f & ~(FL_VM | FL_RF));
    else
        push16(c, (uint16_t)f);
}
static uint32_t eflags_writable(const Cpu *c)
{
    uint32_t m = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT | FL_IF | FL_IOPL;
    if (c->model->isa >= ISA_486)
        m |= FL_AC | FL_ID;
    return m;
}
static void op_popf(Cpu *c, const Insn *i)
{
    uint32_t mask = eflags_writable(c);
    if (cpu_v86(c) && cpu_iopl(c) < 3) {
        if (!vme_flags(c) || i->o32)
            cpu_gp(c, 0);
        uint32_t sp = get_sp(c);
        uint16_t v = mrd16(c, SEG_SS, sp);
        if ((v & FL_TF) || ((v & FL_IF) && (c->eflags & FL_VIP)))
            cpu_gp(c, 0);
        set_sp(c, sp + 2);
        cpu_set_eflags(c, v, mask & 0xFFFF & ~(FL_IF | FL_IOPL));
        c->eflags = (c->eflags & ~FL_VIF) | ((v & FL_IF) ? FL_VIF : 0);
        return;
    }
    uint32_t v = i->o32 ? pop32(c) : pop16(c);
    if (cpu_pm(c)) {
        if (cpu_v86(c) || c->cpl > 0)
            mask &= ~FL_IOPL;
        if (!cpu_v86(c) && c->cpl > cpu_iopl(c))
            mask &= ~FL_IF;
    }
    if (!i->o32)
        mask &= 0xFFFF;
    cpu_set_eflags(c, v, mask);
}
FAM1(pushf, op_pushf);
FAM1(popf, op_popf);

static void op_hlt(Cpu *c, const Insn *i)
{
    (void)i;
    need_cpl0(c);
    c->halted = true;
    c->brk = 1;
}
FAM1(hlt, op_hlt);

/* ---- control and debug registers ---- */
static void op_mov_rc(Cpu *c, const Insn *i) /* MOV r32, CRn */
{
    need_cpl0(c);
    uint32_t v;
    switch (i->reg) {
    case 0: v = c->cr0; break;
    case 2: v = c->cr2; break;
    case 3: v = c->cr3; break;
    case 4:
        if (c->model->isa < ISA_P5)
            cpu_ud(c);
        v = c->cr4;
        break;
    default: cpu_ud(c);
    }
    R32(c, i->rm) = v;
}
static void op_mov_cr(Cpu *c, const Insn *i) /* MOV CRn, r32 */
{
    need_cpl0(c);
    uint32_t v = R32(c, i->rm);
    switch (i->reg) {
    case 0: cpu_write_cr0(c, v); break;
    case 2: c->cr2 = v; break;
    case 3: cpu_write_cr3(c, v); break;
    case 4:
        if (c->model->isa < ISA_P5)
            cpu_ud(c);
        cpu_write_cr4(c, v);
        break;
    default: cpu_ud(c);
    }
}
static int dr_index(Cpu *c, unsigned r)
{
    if (r == 4 || r == 5) {
        if (c->cr4 & CR4_DE)
            cpu_ud(c);
        return r + 2;
    }
    return (int)r;
}
static void op_mov_rd(Cpu *c, const Insn *i)
{
    need_cpl0(c);
    int d = dr_index(c, i->reg);
    if (c->dr[7] & (1u << 13)) { /* DR7.GD: general detect (SDM Vol. 3A 17.2.4) */
        c->dr[6] |= 1u << 13;
        c->dr[7] &= ~(1u << 13);
        cpu_raise(c, EXC_DB, ERR_NONE);
    }
    uint32_t v = c->dr[d];
    if (d == 6)
        v |= 0xFFFF0FF0u;
    else if (d == 7)
        v |= 0x400;
    R32(c, i->rm) = v;
}
static void op_mov_dr(Cpu *c, const Insn *i)
{
    need_cpl0(c);
    int d = dr_index(c, i->reg);
    if (c->dr[7] & (1u << 13)) {
        c->dr[6] |= 1u << 13;
        c->dr[7] &= ~(1u << 13);
        cpu_raise(c, EXC_DB, ERR_NONE);
    }
    c->dr[d] = R32(c, i->rm);
    debug_dr7_changed(c);
    c->brk = 1;
}
FAM1(mov_rc, op_mov_rc);
FAM1(mov_cr, op_mov_cr);
FAM1(mov_rd, op_mov_rd);
FAM1(mov_dr, op_mov_dr);

static void op_clts(Cpu *c, const Insn *i) { (void)i; need_cpl0(c); c->cr0 &= ~CR0_TS; }
static void op_invd(Cpu *c, const Insn *i) { (void)i; need_cpl0(c); }
static void op_invlpg(Cpu *c, const Insn *i)
{
    need_cpl0(c);
    tlb_flush_page(c, c->seg[i->seg].base + cpu_ea(c, i));
}
FAM1(clts, op_clts);
FAM1(invd, op_invd);
FAM1(invlpg, op_invlpg);

/* ---- descriptor table registers ---- */
static void op_lgdt_lidt(Cpu *c, const Insn *i, bool idt)
{
    need_cpl0(c);
    uint32_t ea = cpu_ea(c, i);
    uint16_t limit = mrd16(c, i->seg, ea);
    uint32_t base = mrd32(c, i->seg, (ea + 2) & i->amask);
    if (!i->o32)
        base &= 0xFFFFFF;
    if (idt) {
        c->idtr_base = base;
        c->idtr_limit = limit;
    } else {
        c->gdtr_base = base;
        c->gdtr_limit = limit;
    }
}
static void op_lgdt(Cpu *c, const Insn *i) { op_lgdt_lidt(c, i, false); }
static void op_lidt(Cpu *c, const Insn *i) { op_lgdt_lidt(c, i, true); }
static void op_sgdt_sidt(Cpu *c, const Insn *i, bool idt)
{
    uint32_t ea = cpu_ea(c, i);
    mem_probe_write(c, i->seg, ea, 6);
    mwr16(c, i->seg, ea, idt ? c->idtr_limit : c->gdtr_limit);
    mwr32(c, i->seg, (ea + 2) & i->amask, idt ? c->idtr_base : c->gdtr_base);
}
static void op_sgdt(Cpu *c, const Insn *i) { op_sgdt_sidt(c, i, false); }
static void op_sidt(Cpu *c, const Insn *i) { op_sgdt_sidt(c, i, true); }
FAM1(lgdt, op_lgdt);
FAM1(lidt, op_lidt);
FAM1(sgdt, op_sgdt);
FAM1(sidt, op_sidt);

static void store_sel(Cpu *c, const Insn *i, uint16_t v)
{
    if (i->mem)
        mwr16(c, i->seg, cpu_ea(c, i), v);
    else if (i->o32)
        R32(c, i->rm) = v;
    else
        R16(c, i->rm) = v;
}
static void op_sldt(Cpu *c, const Insn *i) { need_pm(c); store_sel(c, i, c->ldtr.sel); }
static void op_str(Cpu *c, const Insn *i) { need_pm(c); store_sel(c, i, c->tr.sel); }
static void op_lldt(Cpu *c, const Insn *i)
{
    need_pm(c);
    need_cpl0(c);
    seg_lldt(c, (uint16_t)rm_get(c, i, 2));
}
static void op_ltr(Cpu *c, const Insn *i)
{
    need_pm(c);
    need_cpl0(c);
    seg_ltr(c, (uint16_t)rm_get(c, i, 2));
}
FAM1(sldt, op_sldt);
FAM1(str, op_str);
FAM1(lldt, op_lldt);
FAM1(ltr, op_ltr);

static void op_smsw(Cpu *c, const Insn *i)
{
    if (!i->mem && i->o32)
        R32(c, i->rm) = c->cr0;
    else
        rm_set(c, i, 2, (uint16_t)c->cr0);
}
static void op_lmsw(Cpu *c, const Insn *i)
{
    need_cpl0(c);
    uint16_t v = (uint16_t)rm_get(c, i, 2);
    /* LMSW loads PE/MP/EM/TS and cannot clear PE (SDM Vol. 2 LMSW). */
    uint32_t cr0 = (c->cr0 & ~0xEu) | (v & 0xF) | (c->cr0 & CR0_PE);
    cpu_write_cr0(c, cr0);
}
FAM1(smsw, op_smsw);
FAM1(lmsw, op_lmsw);

/* ---- LAR / LSL / VERR / VERW (SDM Vol. 2): ZF reports the result ---- */
static void set_zf(Cpu *c, bool z)
{
    cpu_flags_materialize(c);
    c->eflags = (c->eflags & ~FL_ZF) | (z ? FL_ZF : 0);
}

/* Reads a descriptor for LAR/LSL/VERR/VERW; false if not accessible. */
static bool probe_desc(Cpu *c, uint16_t sel, uint32_t d[2])
{
    if ((sel & 0xFFFC) == 0)
        return false;
    uint32_t base = (sel & 4) ? c->ldtr.base : c->gdtr_base;
    uint32_t limit = (sel & 4) ? c->ldtr.limit : c->gdtr_limit;
    if ((sel & 4) && (c->ldtr.sel & 0xFFFC) == 0)
        return false;
    if ((uint32_t)(sel & ~7u) + 7 > limit)
        return false;
    d[0] = sys_rd32(c, base + (sel & ~7u));
    d[1] = sys_rd32(c, base + (sel & ~7u) + 4);
    return true;
}
static bool desc_priv_ok(Cpu *c, uint16_t sel, uint32_t hi)
{
    unsigned dpl = (hi >> 13) & 3, rpl = sel & 3;
    bool conforming_code = (hi & 0x1800) == 0x1800 && (hi & 0x400);
    return conforming_code || (dpl >= c->cpl && dpl >= rpl);
}
static void lar_lsl(Cpu *c, const Insn *i, bool lsl)
{
    need_pm(c);
    uint16_t sel = (uint16_t)rm_get(c, i, 2);
    uint32_t d[2];
    bool ok = probe_desc(c, sel, d);
    if (ok) {
        unsigned type = (d[1] >> 8) & 0x1F;
        if (!(type & 0x10)) {
            /* System types valid for LAR: 1,2,3,4,5,9,B,C; for LSL: 1,2,3,9,B. */
            static const uint16_t lar_ok = 0x1A3E, lsl_ok = 0x0A0E;
            ok = ((lsl ? lsl_ok : lar_ok) >> (type & 0xF)) & 1;
        }
        ok = ok && desc_priv_ok(c, sel, d[1]);
    }
    set_zf(c, ok);
    if (!ok)
        return;
    unsigned n = op_bytes(i, false);
    if (lsl) {
        uint32_t limit = (d[0] & 0xFFFF) | (d[1] & 0xF0000);
        if (d[1] & (1u << 23))
            limit = (limit << 12) | 0xFFF;
        reg_set(c, i->reg, n, limit);
    } else {
        reg_set(c, i->reg, n, d[1] & 0x00FFFF00u);
    }
}
static void op_lar(Cpu *c, const Insn *i) { lar_lsl(c, i, false); }
static void op_lsl(Cpu *c, const Insn *i) { lar_lsl(c, i, true); }
static void verr_verw(Cpu *c, const Insn *i, bool write)
{
    need_pm(c);
    uint16_t sel = (uint16_t)rm_get(c, i, 2);
    uint32_t d[2];
    bool ok = probe_desc(c, sel, d) && (d[1] & 0x1000);
    if (ok) {
        bool code = d[1] & 0x800, rw = d[1] & 0x200;
        ok = write ? (!code && rw) : (!code || rw);
        ok = ok && desc_priv_ok(c, sel, d[1]);
    }
    set_zf(c, ok);
}
static void op_verr(Cpu *c, const Insn *i) { verr_verw(c, i, false); }
static void op_verw(Cpu *c, const Insn *i) { verr_verw(c, i, true); }
FAM1(lar, op_lar);
FAM1(lsl, op_lsl);
FAM1(verr, op_verr);
FAM1(verw, op_verw);

static void op_arpl(Cpu *c, const Insn *i)
{
    need_pm(c);
    uint16_t dst = (uint16_t)rm_get(c, i, 2), src = R16(c, i->reg);
    bool adj = (dst & 3) < (src & 3);
    if (adj)
        rm_set(c, i, 2, (dst & ~3u) | (src & 3));
    set_zf(c, adj);
}
FAM1(arpl, op_arpl);

/* ---- identification, time stamp, MSRs ---- */
static void op_cpuid(Cpu *c, const Insn *i)
{
    (void)i;
    uint32_t a, b, cc, d;
    cpu_cpuid(c, R32(c, REG_AX), &a, &b, &cc, &d);
    R32(c, REG_AX) = a;
    R32(c, REG_BX) = b;
    R32(c, REG_CX) = cc;
    R32(c, REG_DX) = d;
}
static void op_rdtsc(Cpu *c, const Insn *i)
{
    (void)i;
    if ((c->cr4 & CR4_TSD) && c->cpl != 0 && cpu_pm(c))
        cpu_gp(c, 0);
    uint64_t t = cpu_rdtsc(c);
    R32(c, REG_AX) = (uint32_t)t;
    R32(c, REG_DX) = (uint32_t)(t >> 32);
}
static void op_rdmsr(Cpu *c, const Insn *i)
{
    (void)i;
    need_cpl0(c);
    uint64_t v;
    if (!cpu_rdmsr(c, R32(c, REG_CX), &v))
        cpu_gp(c, 0);
    R32(c, REG_AX) = (uint32_t)v;
    R32(c, REG_DX) = (uint32_t)(v >> 32);
}
static void op_wrmsr(Cpu *c, const Insn *i)
{
    (void)i;
    need_cpl0(c);
    if (!cpu_wrmsr(c, R32(c, REG_CX), (uint64_t)R32(c, REG_DX) << 32 | R32(c, REG_AX)))
        cpu_gp(c, 0);
}
FAM1(cpuid, op_cpuid);
FAM1(rdtsc, op_rdtsc);
FAM1(rdmsr, op_rdmsr);
FAM1(wrmsr, op_wrmsr);

/* SYSENTER/SYSEXIT (SDM Vol. 2): flat segments derived from SYSENTER_CS. */
static void op_sysenter(Cpu *c, const Insn *i)
{
    (void)i;
    if (!cpu_pm(c) || (c->sysenter_cs & 0xFFFC) == 0)
        cpu_gp(c, 0);
    c->eflags &= ~(FL_VM | FL_IF | FL_RF);
    uint16_t cs = c->sysenter_cs & 0xFFFC;
    seg_set_cache(c, SEG_CS, cs, 0, 0xFFFFFFFF, 0x9B | DF_DB | DF_G);
    seg_set_cache(c, SEG_SS, (uint16_t)(cs + 8), 0, 0xFFFFFFFF, 0x93 | DF_DB | DF_G);
    cpu_set_cpl(c, 0);
    R32(c, REG_SP) = c->sysenter_esp;
    c->next_eip = c->sysenter_eip;
}
static void op_sysexit(Cpu *c, const Insn *i)
{
    (void)i;
    if (!cpu_pm_nonv86(c) || c->cpl != 0 || (c->sysenter_cs & 0xFFFC) == 0)
        cpu_gp(c, 0);
    uint16_t cs = (uint16_t)((c->sysenter_cs + 16) | 3);
    seg_set_cache(c, SEG_CS, cs, 0, 0xFFFFFFFF, 0xFB | DF_DB | DF_G);
    seg_set_cache(c, SEG_SS, (uint16_t)((c->sysenter_cs + 24) | 3), 0, 0xFFFFFFFF, 0xF3 | DF_DB | DF_G);
    cpu_set_cpl(c, 3);
    R32(c, REG_SP) = R32(c, REG_CX);
    c->next_eip = R32(c, REG_DX);
}
FAM1(sysenter, op_sysenter);
FAM1(sysexit, op_sysexit);

/* ---- x87 escape (cpu/fpu.h protocol) ---- */
/* A waiting x87 instruction found an unmasked error pending.  CR0.NE=1:
 * #MF (SDM Vol. 1 8.7).  CR0.NE=0: the error is signalled on FERR#, which a
 * PC turns into IRQ 13 and whose handler's write to port 0xF0 asserts
 * IGNNE#; the instruction then proceeds as if no error were pending (the
 * PC-compatible "MS-DOS" mode, SDM Vol. 1 D.2). */
static void fpu_error(Cpu *c)
{
    if (c->cr0 & CR0_NE)
        cpu_raise(c, EXC_MF, ERR_NONE);
    bus_set_ferr(c->bus, 1);
}

/* With IGNNE#: run the instruction as if ES were clear, then set ES/B again
 * from whatever unmasked exception flags are left. */
static int fpu_execute_ignoring_error(Cpu *c, unsigned op, uint8_t modrm, const FpuContext *ctx,
                                      const uint8_t *in, uint8_t *out, FpuResult *res)
{
    c->fpu.sw &= (uint16_t)~0x8080;
    int rc = fpu_execute(&c->fpu, op, modrm, ctx, in, out, res);
    if (c->fpu.sw & ~c->fpu.cw & 0x3F)
        c->fpu.sw |= 0x8080;
    return rc;
}

static void op_fwait(Cpu *c, const Insn *i)
{
    (void)i;
    if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
        cpu_raise(c, EXC_NM, ERR_NONE);
    if (fpu_error_pending(&c->fpu))
        fpu_error(c);
}
FAM1(fwait, op_fwait);

static void op_fpu(Cpu *c, const Insn *i)
{
    if (c->cr0 & (CR0_EM | CR0_TS))
        cpu_raise(c, EXC_NM, ERR_NONE);
    unsigned op = i->op - 0xD8;
    FpuOperand info;
    fpu_operand(op, i->modrm, i->o32, &info);
    FpuContext ctx = {
        .protected_mode = cpu_pm_nonv86(c), .op32 = i->o32,
        .cs = c->seg[SEG_CS].sel, .ds = c->seg[i->seg].sel,
        .ip = c->eip, .ea = i->mem ? cpu_ea(c, i) : 0, .has_mem = i->mem,
        .eflags = cpu_get_eflags(c),
    };
    uint8_t in[128], out[128];
    unsigned rlen = i->mem ? info.read_len : 0, wlen = i->mem ? info.write_len : 0;
    if (rlen > sizeof in || wlen > sizeof out)
        cpu_ud(c);
    if (wlen)
        mem_probe_write(c, i->seg, ctx.ea, wlen);
    for (unsigned k = 0; k < rlen; k++)
        in[k] = mrd8(c, i->seg, (ctx.ea + k) & i->amask);
    FpuResult res = { 0 };
    int rc = fpu_execute(&c->fpu, op, i->modrm, &ctx, in, out, &res);
    if (rc == FPU_UD)
        cpu_ud(c);
    if (rc == FPU_MF) {
        fpu_error(c); /* #MF, or FERR# and carry on */
        rc = fpu_execute_ignoring_error(c, op, i->modrm, &ctx, in, out, &res);
        if (rc == FPU_UD)
            cpu_ud(c);
    }
    for (unsigned k = 0; k < wlen && !res.suppress_write; k++)
        mwr8(c, i->seg, (ctx.ea + k) & i->amask, out[k]);
    if (res.write_ax)
        R16(c, REG_AX) = res.ax;
    if (res.write_eflags) {
        cpu_flags_materialize(c);
        c->eflags = (c->eflags & ~FL_ARITH) | (res.eflags_zpc & (FL_ZF | FL_PF | FL_CF));
    }
}
FAM1(fpu, op_fpu);
