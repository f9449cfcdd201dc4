/*
 * cpu/seg.c -- segmentation and privilege: descriptor loads with their
 * checks, far JMP/CALL/RET through code segments and call gates, IRET
 * (same level, outer level, to V86, nested task), interrupt and exception
 * delivery through the IVT/IDT, task switches, LLDT/LTR and the I/O
 * permission bitmap.  References: Intel SDM Vol. 3A chapters 3, 5, 6, 7, 20
 * and the JMP/CALL/RET/IRET/INT pseudocode in Vol. 2.
 */
#include "ops.h"

/* ---- segment cache ---- */
void seg_update_ranges(SegCache *s, int seg, bool pm)
{
    uint16_t f = s->flags;
    bool usable = (f & DF_P) != 0;
    bool code = (f & DF_S) && (f & DF_CODE);
    bool readable = !code || (f & DF_RW) || !pm;
    bool writable = !pm || (!code && (f & DF_RW));
    uint32_t lo = 0, hi = s->limit;
    if ((f & DF_S) && !code && (f & DF_CE)) { /* expand-down (SDM Vol. 3A 3.4.5.1) */
        lo = s->limit + 1;
        hi = (f & DF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
        if (lo == 0)
            usable = usable && false;
    }
    (void)seg;
    if (!usable || !readable) {
        s->rlo = 1;
        s->rhi = 0;
    } else {
        s->rlo = lo;
        s->rhi = hi;
    }
    if (!usable || !writable) {
        s->wlo = 1;
        s->whi = 0;
    } else {
        s->wlo = lo;
        s->whi = hi;
    }
}

void seg_set_cache(Cpu *c, int seg, uint16_t sel, uint32_t base, uint32_t limit, uint16_t flags)
{
    SegCache *s = &c->seg[seg];
    /* Block links assume CS base, limit and size (see link_gen). */
    if (seg == SEG_CS && (s->base != base || s->limit != limit || ((s->flags ^ flags) & DF_DB)))
        c->chain_gen++;
    s->sel = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
    seg_update_ranges(s, seg, cpu_pm(c) && !cpu_v86(c));
    if (seg == SEG_CS) {
        bool d = (flags & DF_DB) != 0;
        if (d != c->code32) {
            c->code32 = d;
            c->brk = 1;
        }
    } else if (seg == SEG_SS) {
        c->stack32 = (flags & DF_DB) != 0;
    }
}

void cpu_set_cpl(Cpu *c, unsigned cpl)
{
    if (c->cpl != cpl) {
        c->cpl = (uint8_t)cpl;
        cpu_update_tlb_sel(c);
        c->brk = 1;
    }
}

/* Real mode: base = selector << 4; limit and attributes stay (that is what
 * makes "unreal mode" work).  V86 mode: 64 KiB, DPL 3 data (SDM 20.1.1). */
void seg_load_real(Cpu *c, int seg, uint16_t sel)
{
    SegCache *s = &c->seg[seg];
    if (cpu_v86(c)) {
        seg_set_cache(c, seg, sel, (uint32_t)sel << 4, 0xFFFF, seg == SEG_CS ? 0xFB : 0xF3);
        return;
    }
    uint16_t f = s->flags | DF_P | DF_S;
    if (seg == SEG_CS) {
        /* A far transfer in real mode loads a 16-bit code segment. */
        seg_set_cache(c, seg, sel, (uint32_t)sel << 4, s->limit, (uint16_t)((f & ~DF_DB) | DF_CODE | DF_RW));
        return;
    }
    seg_set_cache(c, seg, sel, (uint32_t)sel << 4, s->limit, f);
}

static void desc_decode(const uint32_t d[2], uint32_t *base, uint32_t *limit, uint16_t *flags)
{
    *base = (d[0] >> 16) | ((d[1] & 0xFF) << 16) | (d[1] & 0xFF000000u);
    uint32_t l = (d[0] & 0xFFFF) | (d[1] & 0xF0000);
    if (d[1] & (1u << 23))
        l = (l << 12) | 0xFFF;
    *limit = l;
    *flags = (uint16_t)((d[1] >> 8) & 0xF0FF);
}

/* Reads the descriptor for `sel` from the GDT/LDT; raises exc(sel) when the
 * index is beyond the table limit (or returns false if exc < 0). */
bool seg_read_desc(Cpu *c, uint16_t sel, uint32_t d[2], int exc, bool ext)
{
    uint32_t base, limit;
    if (sel & 4) {
        if ((c->ldtr.sel & 0xFFFC) == 0 || !(c->ldtr.flags & DF_P)) {
            if (exc < 0)
                return false;
            cpu_raise(c, exc, (sel & 0xFFFC) | ext);
        }
        base = c->ldtr.base;
        limit = c->ldtr.limit;
    } else {
        base = c->gdtr_base;
        limit = c->gdtr_limit;
    }
    if ((uint32_t)(sel & ~7u) + 7 > limit) {
        if (exc < 0)
            return false;
        cpu_raise(c, exc, (sel & 0xFFFC) | ext);
    }
    d[0] = sys_rd32(c, base + (sel & ~7u));
    d[1] = sys_rd32(c, base + (sel & ~7u) + 4);
    return true;
}

static void desc_set_accessed(Cpu *c, uint16_t sel, uint32_t d[2])
{
    if (d[1] & 0x100)
        return;
    d[1] |= 0x100;
    uint32_t base = (sel & 4) ? c->ldtr.base : c->gdtr_base;
    lin_wr(c, base + (sel & ~7u) + 5, 1, (d[1] >> 8) & 0xFF, false);
}

static void seg_load_desc(Cpu *c, int seg, uint16_t sel, uint32_t d[2])
{
    uint32_t base, limit;
    uint16_t flags;
    desc_decode(d, &base, &limit, &flags);
    seg_set_cache(c, seg, sel, base, limit, flags);
}

/* MOV/POP/LxS to a segment register (SDM Vol. 2 MOV "Operation"). */
void seg_load(Cpu *c, int seg, uint16_t sel)
{
    if (!cpu_pm_nonv86(c)) {
        seg_load_real(c, seg, sel);
        return;
    }
    uint32_t d[2];
    if ((sel & 0xFFFC) == 0) {
        if (seg == SEG_SS)
            cpu_gp(c, 0);
        seg_set_cache(c, seg, sel, 0, 0, 0); /* null: unusable */
        return;
    }
    seg_read_desc(c, sel, d, EXC_GP, false);
    unsigned type = (d[1] >> 8) & 0x1F, dpl = (d[1] >> 13) & 3, rpl = sel & 3;
    bool data = (type & 0x18) == 0x10, code = (type & 0x18) == 0x18;
    if (seg == SEG_SS) {
        if (rpl != c->cpl || dpl != c->cpl || !data || !(type & 2))
            cpu_gp(c, sel & 0xFFFC);
        if (!(d[1] & 0x8000))
            cpu_raise(c, EXC_SS, sel & 0xFFFC);
    } else {
        if (!data && !(code && (type & 2)))
            cpu_gp(c, sel & 0xFFFC);
        bool conforming = code && (type & 4);
        if (!conforming && (dpl < c->cpl || dpl < rpl))
            cpu_gp(c, sel & 0xFFFC);
        if (!(d[1] & 0x8000))
            cpu_raise(c, EXC_NP, sel & 0xFFFC);
    }
    desc_set_accessed(c, sel, d);
    seg_load_desc(c, seg, sel, d);
}

/* ---- stack cursor for privilege transitions: pushes go to a new stack
 * before any register is committed ---- */
typedef struct Stk {
    uint32_t base, esp, mask;
    uint32_t lo, hi;
    bool user;
    uint16_t errsel;
} Stk;

static void stk_from_cache(Stk *s, const SegCache *sc, uint32_t esp, bool user, uint16_t errsel)
{
    s->base = sc->base;
    s->mask = (sc->flags & DF_DB) ? 0xFFFFFFFFu : 0xFFFFu;
    s->esp = esp & s->mask;
    s->lo = sc->wlo;
    s->hi = sc->whi;
    s->user = user;
    s->errsel = errsel;
}
static void stk_push(Cpu *c, Stk *s, unsigned n, uint32_t v)
{
    uint32_t esp = (s->esp - n) & s->mask;
    if (esp < s->lo || (uint64_t)esp + n - 1 > s->hi)
        cpu_raise(c, EXC_SS, s->errsel);
    lin_wr(c, s->base + esp, n, v, s->user);
    s->esp = esp;
}
static uint32_t stk_pop(Cpu *c, Stk *s, unsigned n)
{
    uint32_t esp = s->esp;
    if (esp < s->lo || (uint64_t)esp + n - 1 > s->hi) {
        /* reads use the read range; for a stack segment it equals the write range */
        cpu_raise(c, EXC_SS, s->errsel);
    }
    uint32_t v = (uint32_t)lin_rd(c, s->base + esp, n, s->user);
    s->esp = (esp + n) & s->mask;
    return v;
}
static void stk_commit(Cpu *c, const Stk *s)
{
    set_sp(c, s->esp);
}
static void stk_current(Cpu *c, Stk *s)
{
    stk_from_cache(s, &c->seg[SEG_SS], c->r[REG_SP].d, c->cpl == 3, 0);
}

/* Inner-level stack from the current TSS (SDM Vol. 3A 5.8.5). */
static void tss_stack(Cpu *c, unsigned dpl, uint16_t *ss, uint32_t *esp, bool ext)
{
    bool tss32 = (c->tr.flags & 0xF) == 0x9 || (c->tr.flags & 0xF) == 0xB;
    uint32_t off = tss32 ? 4 + dpl * 8 : 2 + dpl * 4;
    if (off + (tss32 ? 5 : 3) > c->tr.limit)
        cpu_raise(c, EXC_TS, (c->tr.sel & 0xFFFC) | ext);
    if (tss32) {
        *esp = sys_rd32(c, c->tr.base + off);
        *ss = sys_rd16(c, c->tr.base + off + 4);
    } else {
        *esp = sys_rd16(c, c->tr.base + off);
        *ss = sys_rd16(c, c->tr.base + off + 2);
    }
}

/* Checks a new inner stack segment; returns its descriptor. */
static void check_new_ss(Cpu *c, uint16_t ss, unsigned dpl, uint32_t d[2], bool ext)
{
    if ((ss & 0xFFFC) == 0)
        cpu_raise(c, EXC_TS, ext);
    seg_read_desc(c, ss, d, EXC_TS, ext);
    unsigned type = (d[1] >> 8) & 0x1F;
    if ((ss & 3) != dpl || ((d[1] >> 13) & 3) != dpl || (type & 0x1A) != 0x12)
        cpu_raise(c, EXC_TS, (ss & 0xFFFC) | ext);
    if (!(d[1] & 0x8000))
        cpu_raise(c, EXC_SS, (ss & 0xFFFC) | ext);
}

static void cache_from_desc(SegCache *s, uint16_t sel, const uint32_t d[2])
{
    desc_decode(d, &s->base, &s->limit, &s->flags);
    s->sel = sel;
    seg_update_ranges(s, SEG_SS, true);
}

/* Data segment registers that the new (outer) CPL may not use become null
 * (SDM Vol. 2 RET/IRET "return to outer privilege level"). */
static void null_inaccessible_segs(Cpu *c)
{
    static const int segs[] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
    for (unsigned k = 0; k < 4; k++) {
        SegCache *s = &c->seg[segs[k]];
        unsigned dpl = (s->flags >> 5) & 3;
        bool conforming_code = (s->flags & (DF_S | DF_CODE | DF_CE)) == (DF_S | DF_CODE | DF_CE);
        if ((s->sel & 0xFFFC) && !conforming_code && dpl < c->cpl)
            seg_set_cache(c, segs[k], 0, 0, 0, 0);
    }
}

/* Return to an outer privilege level (far RET, IRET; SDM Vol. 2): pops the
 * caller's ESP and SS and checks SS -- #GP for a null selector, one whose
 * RPL, type (writable data) or DPL does not fit, #SS if not present. */
static uint16_t outer_stack_pop(Cpu *c, Stk *s, unsigned n, unsigned rpl, uint32_t *nesp, uint32_t sd[2])
{
    *nesp = stk_pop(c, s, n);
    uint16_t nss = (uint16_t)stk_pop(c, s, n);
    if ((nss & 0xFFFC) == 0)
        cpu_gp(c, 0);
    seg_read_desc(c, nss, sd, EXC_GP, false);
    unsigned stype = (sd[1] >> 8) & 0x1F;
    if ((nss & 3) != rpl || (stype & 0x1A) != 0x12 || ((sd[1] >> 13) & 3) != rpl)
        cpu_gp(c, nss & 0xFFFC);
    if (!(sd[1] & 0x8000))
        cpu_raise(c, EXC_SS, nss & 0xFFFC);
    return nss;
}

/* ... and, CS loaded, switches to that stack and drops data segments the
 * new level may not use. */
static void outer_stack_load(Cpu *c, uint16_t nss, uint32_t sd[2], uint32_t esp)
{
    seg_load_desc(c, SEG_SS, nss, sd);
    set_sp(c, esp);
    null_inaccessible_segs(c);
}

static void set_cs_desc(Cpu *c, uint16_t sel, const uint32_t d[2], unsigned cpl)
{
    uint32_t base, limit;
    uint16_t flags;
    desc_decode(d, &base, &limit, &flags);
    cpu_set_cpl(c, cpl);
    seg_set_cache(c, SEG_CS, (uint16_t)((sel & ~3u) | cpl), base, limit, flags);
}

/* Checks a code segment descriptor as the destination of JMP/CALL. */
static void check_code_target(Cpu *c, uint16_t sel, const uint32_t d[2], bool via_gate)
{
    unsigned type = (d[1] >> 8) & 0x1F, dpl = (d[1] >> 13) & 3, rpl = sel & 3;
    if ((type & 0x18) != 0x18)
        cpu_gp(c, sel & 0xFFFC);
    if (type & 4) {
        if (dpl > c->cpl)
            cpu_gp(c, sel & 0xFFFC);
    } else if (via_gate) {
        if (dpl > c->cpl)
            cpu_gp(c, sel & 0xFFFC);
    } else if (rpl > c->cpl || dpl != c->cpl) {
        cpu_gp(c, sel & 0xFFFC);
    }
    if (!(d[1] & 0x8000))
        cpu_raise(c, EXC_NP, sel & 0xFFFC);
}

static uint32_t desc_limit(const uint32_t d[2])
{
    uint32_t l = (d[0] & 0xFFFF) | (d[1] & 0xF0000);
    return (d[1] & (1u << 23)) ? (l << 12) | 0xFFF : l;
}

/* ---- far JMP (SDM Vol. 2 JMP) ---- */
void far_jump(Cpu *c, uint16_t sel, uint32_t off, bool o32)
{
    if (!o32)
        off &= 0xFFFF;
    if (!cpu_pm_nonv86(c)) {
        if (off > c->seg[SEG_CS].limit && !cpu_v86(c) && off > 0xFFFF)
            cpu_gp(c, 0);
        seg_load_real(c, SEG_CS, sel);
        cpu_jump(c, off);
        return;
    }
    if ((sel & 0xFFFC) == 0)
        cpu_gp(c, 0);
    uint32_t d[2];
    seg_read_desc(c, sel, d, EXC_GP, false);
    unsigned type = (d[1] >> 8) & 0x1F, dpl = (d[1] >> 13) & 3;
    if (type & 0x10) {
        check_code_target(c, sel, d, false);
        if (off > desc_limit(d))
            cpu_gp(c, 0);
        desc_set_accessed(c, sel, d);
        set_cs_desc(c, sel, d, c->cpl);
        c->next_eip = off;
        return;
    }
    if (dpl < c->cpl || dpl < (sel & 3u))
        cpu_gp(c, sel & 0xFFFC);
    switch (type) {
    case 0x4: case 0xC: { /* call gate */
        if (!(d[1] & 0x8000))
            cpu_raise(c, EXC_NP, sel & 0xFFFC);
        uint16_t tsel = (uint16_t)(d[0] >> 16);
        uint32_t toff = (d[0] & 0xFFFF) | (type == 0xC ? (d[1] & 0xFFFF0000u) : 0);
        if ((tsel & 0xFFFC) == 0)
            cpu_gp(c, 0);
        uint32_t td[2];
        seg_read_desc(c, tsel, td, EXC_GP, false);
        unsigned ttype = (td[1] >> 8) & 0x1F, tdpl = (td[1] >> 13) & 3;
        if ((ttype & 0x18) != 0x18 || ((ttype & 4) ? tdpl > c->cpl : tdpl != c->cpl))
            cpu_gp(c, tsel & 0xFFFC);
        if (!(td[1] & 0x8000))
            cpu_raise(c, EXC_NP, tsel & 0xFFFC);
        if (toff > desc_limit(td))
            cpu_gp(c, 0);
        set_cs_desc(c, tsel, td, c->cpl);
        c->next_eip = toff;
        return;
    }
    case 0x5: case 0x1: case 0x9:
        task_switch(c, sel, d, TS_JMP, ERR_NONE);
        return;
    default:
        cpu_gp(c, sel & 0xFFFC);
    }
}

/* ---- far CALL (SDM Vol. 2 CALL) ---- */
static void call_gate(Cpu *c, uint16_t sel, const uint32_t d[2], bool o32_insn);

void far_call(Cpu *c, uint16_t sel, uint32_t off, bool o32)
{
    if (!o32)
        off &= 0xFFFF;
    if (!cpu_pm_nonv86(c)) {
        Stk s;
        stk_current(c, &s);
        stk_push(c, &s, o32 ? 4 : 2, c->seg[SEG_CS].sel);
        stk_push(c, &s, o32 ? 4 : 2, c->next_eip);
        if (off > c->seg[SEG_CS].limit && off > 0xFFFF)
            cpu_gp(c, 0);
        stk_commit(c, &s);
        seg_load_real(c, SEG_CS, sel);
        c->next_eip = off;
        return;
    }
    if ((sel & 0xFFFC) == 0)
        cpu_gp(c, 0);
    uint32_t d[2];
    seg_read_desc(c, sel, d, EXC_GP, false);
    unsigned type = (d[1] >> 8) & 0x1F, dpl = (d[1] >> 13) & 3;
    if (type & 0x10) {
        check_code_target(c, sel, d, false);
        Stk s;
        stk_current(c, &s);
        stk_push(c, &s, o32 ? 4 : 2, c->seg[SEG_CS].sel);
        stk_push(c, &s, o32 ? 4 : 2, c->next_eip);
        if (off > desc_limit(d))
            cpu_gp(c, 0);
        desc_set_accessed(c, sel, d);
        stk_commit(c, &s);
        set_cs_desc(c, sel, d, c->cpl);
        c->next_eip = off;
        return;
    }
    if (dpl < c->cpl || dpl < (sel & 3u))
        cpu_gp(c, sel & 0xFFFC);
    switch (type) {
    case 0x4: case 0xC:
        if (!(d[1] & 0x8000))
            cpu_raise(c, EXC_NP, sel & 0xFFFC);
        call_gate(c, sel, d, o32);
        return;
    case 0x5: case 0x1: case 0x9:
        task_switch(c, sel, d, TS_CALL, ERR_NONE);
        return;
    default:
        cpu_gp(c, sel & 0xFFFC);
    }
}

static void call_gate(Cpu *c, uint16_t sel, const uint32_t d[2], bool o32_insn)
{
    (void)sel;
    (void)o32_insn;
    unsigned gtype = (d[1] >> 8) & 0x1F;
    bool g32 = gtype == 0xC;
    unsigned n = g32 ? 4 : 2, params = d[1] & 0x1F;
    uint16_t tsel = (uint16_t)(d[0] >> 16);
    uint32_t toff = (d[0] & 0xFFFF) | (g32 ? (d[1] & 0xFFFF0000u) : 0);
    if ((tsel & 0xFFFC) == 0)
        cpu_gp(c, 0);
    uint32_t td[2];
    seg_read_desc(c, tsel, td, EXC_GP, false);
    check_code_target(c, tsel, td, true);
    unsigned tdpl = (td[1] >> 13) & 3;
    bool conforming = (td[1] >> 10) & 1;
    if (toff > desc_limit(td))
        cpu_gp(c, 0);
    if (!conforming && tdpl < c->cpl) {
        /* More privileged: switch to the TSS stack, copy parameters. */
        uint16_t nss;
        uint32_t nesp, sd[2];
        tss_stack(c, tdpl, &nss, &nesp, false);
        check_new_ss(c, nss, tdpl, sd, false);
        SegCache nsc;
        cache_from_desc(&nsc, nss, sd);
        Stk ns, os;
        stk_from_cache(&ns, &nsc, nesp, tdpl == 3, nss & 0xFFFC);
        stk_current(c, &os);
        uint32_t oldss = c->seg[SEG_SS].sel, oldesp = c->r[REG_SP].d;
        stk_push(c, &ns, n, oldss);
        stk_push(c, &ns, n, os.mask == 0xFFFF ? (oldesp & 0xFFFF) : oldesp);
        uint32_t pv[32];
        for (unsigned k = 0; k < params; k++)
            pv[k] = stk_pop(c, &os, n);
        for (unsigned k = params; k > 0; k--)
            stk_push(c, &ns, n, pv[k - 1]);
        stk_push(c, &ns, n, c->seg[SEG_CS].sel);
        stk_push(c, &ns, n, c->next_eip);
        set_cs_desc(c, tsel, td, tdpl);
        seg_set_cache(c, SEG_SS, nss, nsc.base, nsc.limit, nsc.flags);
        set_sp(c, ns.esp);
        c->next_eip = toff;
        return;
    }
    Stk s;
    stk_current(c, &s);
    stk_push(c, &s, n, c->seg[SEG_CS].sel);
    stk_push(c, &s, n, c->next_eip);
    stk_commit(c, &s);
    set_cs_desc(c, tsel, td, c->cpl);
    c->next_eip = toff;
}
/* The code segment a far RET or IRET returns to (SDM Vol. 2A RET and IRET,
 * "protected mode"): non-null, a code segment, RPL not above the current
 * privilege, DPL == RPL (nonconforming) or <= RPL (conforming), present.
 * Reads its descriptor into d and returns the RPL. */
static unsigned check_return_cs(Cpu *c, uint16_t sel, uint32_t d[2])
{
    if ((sel & 0xFFFC) == 0)
        cpu_gp(c, 0);
    seg_read_desc(c, sel, d, EXC_GP, false);
    unsigned type = (d[1] >> 8) & 0x1F, dpl = (d[1] >> 13) & 3, rpl = sel & 3;
    if ((type & 0x18) != 0x18 || rpl < c->cpl)
        cpu_gp(c, sel & 0xFFFC);
    if ((type & 4) ? dpl > rpl : dpl != rpl)
        cpu_gp(c, sel & 0xFFFC);
    if (!(d[1] & 0x8000))
        cpu_raise(c, EXC_NP, sel & 0xFFFC);
    return rpl;
}


/* ---- far RET (SDM Vol. 2 RET) ---- */
void far_ret(Cpu *c, bool o32, uint16_t pop)
{
    unsigned n = o32 ? 4 : 2;
    Stk s;
    stk_current(c, &s);
    uint32_t off = stk_pop(c, &s, n);
    uint16_t sel = (uint16_t)stk_pop(c, &s, n);
    if (!o32)
        off &= 0xFFFF;
    if (!cpu_pm_nonv86(c)) {
        if (off > c->seg[SEG_CS].limit)
            cpu_gp(c, 0);
        s.esp = (s.esp + pop) & s.mask;
        stk_commit(c, &s);
        seg_load_real(c, SEG_CS, sel);
        c->next_eip = off;
        return;
    }
    uint32_t d[2];
    unsigned rpl = check_return_cs(c, sel, d);
    if (rpl == c->cpl) {
        if (off > desc_limit(d))
            cpu_gp(c, 0);
        s.esp = (s.esp + pop) & s.mask;
        stk_commit(c, &s);
        set_cs_desc(c, sel, d, c->cpl);
        c->next_eip = off;
        return;
    }
    /* Return to an outer level: the caller's SS:ESP follow the parameters. */
    s.esp = (s.esp + pop) & s.mask;
    uint32_t nesp, sd[2];
    uint16_t nss = outer_stack_pop(c, &s, n, rpl, &nesp, sd);
    if (off > desc_limit(d))
        cpu_gp(c, 0);
    set_cs_desc(c, sel, d, rpl);
    outer_stack_load(c, nss, sd, nesp + pop);
    c->next_eip = off;
}

/* ---- IRET (SDM Vol. 2 IRET) ---- */
static void iret_to_v86(Cpu *c, Stk *s, uint32_t eip, uint16_t cs, uint32_t fl)
{
    uint32_t esp = stk_pop(c, s, 4);
    uint16_t ss = (uint16_t)stk_pop(c, s, 4);
    uint16_t es = (uint16_t)stk_pop(c, s, 4);
    uint16_t ds = (uint16_t)stk_pop(c, s, 4);
    uint16_t fs = (uint16_t)stk_pop(c, s, 4);
    uint16_t gs = (uint16_t)stk_pop(c, s, 4);
    cpu_set_eflags(c, fl, 0x3F7FD5 & ~0u);
    c->eflags |= FL_VM;
    cpu_set_cpl(c, 3);
    seg_load_real(c, SEG_CS, cs);
    seg_load_real(c, SEG_SS, ss);
    seg_load_real(c, SEG_ES, es);
    seg_load_real(c, SEG_DS, ds);
    seg_load_real(c, SEG_FS, fs);
    seg_load_real(c, SEG_GS, gs);
    c->r[REG_SP].d = esp;
    c->next_eip = eip & 0xFFFF;
    c->brk = 1;
}

static uint32_t iret_flag_mask(Cpu *c, bool o32)
{
    uint32_t m = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_TF | FL_DF | FL_OF | FL_NT | FL_RF;
    if (c->model->isa >= ISA_486)
        m |= FL_AC | FL_ID;
    if (!cpu_pm(c) || c->cpl == 0)
        m |= FL_IOPL | FL_VIF | FL_VIP;
    if (!cpu_pm(c) || c->cpl <= cpu_iopl(c))
        m |= FL_IF;
    if (!cpu_pm(c))
        m &= ~(FL_VIF | FL_VIP);
    if (!o32)
        m &= 0xFFFF;
    return m;
}

void cpu_iret(Cpu *c, bool o32)
{
    unsigned n = o32 ? 4 : 2;
    if (cpu_v86(c)) {
        Stk s;
        stk_current(c, &s);
        if (cpu_iopl(c) < 3) {
            if (!(c->cr4 & CR4_VME) || o32)
                cpu_gp(c, 0);
            uint32_t ip = stk_pop(c, &s, 2);
            uint16_t cs = (uint16_t)stk_pop(c, &s, 2);
            uint32_t fl = stk_pop(c, &s, 2);
            if ((fl & FL_TF) || ((fl & FL_IF) && (c->eflags & FL_VIP)))
                cpu_gp(c, 0);
            stk_commit(c, &s);
            seg_load_real(c, SEG_CS, cs);
            cpu_set_eflags(c, fl, 0xFFFF & ~(FL_IF | FL_IOPL));
            c->eflags = (c->eflags & ~FL_VIF) | ((fl & FL_IF) ? FL_VIF : 0);
            c->next_eip = ip;
            return;
        }
        uint32_t ip = stk_pop(c, &s, n);
        uint16_t cs = (uint16_t)stk_pop(c, &s, n);
        uint32_t fl = stk_pop(c, &s, n);
        if (ip > 0xFFFF)
            cpu_gp(c, 0);
        stk_commit(c, &s);
        seg_load_real(c, SEG_CS, cs);
        cpu_set_eflags(c, fl, (o32 ? 0x3F7FD5u : 0xFFFFu) & ~(FL_IOPL | FL_VM | FL_VIF | FL_VIP));
        c->next_eip = ip;
        return;
    }
    if (!cpu_pm(c)) {
        Stk s;
        stk_current(c, &s);
        uint32_t ip = stk_pop(c, &s, n);
        uint16_t cs = (uint16_t)stk_pop(c, &s, n);
        uint32_t fl = stk_pop(c, &s, n);
        if (!o32)
            ip &= 0xFFFF;
        if (ip > c->seg[SEG_CS].limit && ip > 0xFFFF)
            cpu_gp(c, 0);
        stk_commit(c, &s);
        seg_load_real(c, SEG_CS, cs);
        cpu_set_eflags(c, fl, iret_flag_mask(c, o32));
        c->next_eip = ip;
        return;
    }
    if (c->eflags & FL_NT) {
        /* Return from a nested task through the back link (SDM 7.3). */
        uint16_t link = sys_rd16(c, c->tr.base);
        if (link & 4)
            cpu_raise(c, EXC_TS, link & 0xFFFC);
        uint32_t d[2];
        seg_read_desc(c, link, d, EXC_TS, false);
        unsigned type = (d[1] >> 8) & 0x1F;
        if (type != 0xB && type != 0x3)
            cpu_raise(c, EXC_TS, link & 0xFFFC);
        if (!(d[1] & 0x8000))
            cpu_raise(c, EXC_NP, link & 0xFFFC);
        task_switch(c, link, d, TS_IRET, ERR_NONE);
        return;
    }
    Stk s;
    stk_current(c, &s);
    uint32_t eip = stk_pop(c, &s, n);
    uint16_t sel = (uint16_t)stk_pop(c, &s, n);
    uint32_t fl = stk_pop(c, &s, n);
    if (o32 && (fl & FL_VM) && c->cpl == 0) {
        iret_to_v86(c, &s, eip, sel, fl);
        return;
    }
    if (!o32)
        eip &= 0xFFFF;
    uint32_t d[2];
    unsigned rpl = check_return_cs(c, sel, d);
    if (eip > desc_limit(d))
        cpu_gp(c, 0);
    if (rpl == c->cpl) {
        stk_commit(c, &s);
        uint32_t m = iret_flag_mask(c, o32);
        set_cs_desc(c, sel, d, c->cpl);
        cpu_set_eflags(c, fl, m);
        c->next_eip = eip;
        return;
    }
    uint32_t nesp, sd[2];
    uint16_t nss = outer_stack_pop(c, &s, n, rpl, &nesp, sd);
    uint32_t m = iret_flag_mask(c, o32); /* computed at the old CPL */
    set_cs_desc(c, sel, d, rpl);
    cpu_set_eflags(c, fl, m);
    outer_stack_load(c, nss, sd, nesp);
    c->next_eip = eip;
}

/* ---- interrupt and exception delivery (SDM Vol. 3A 6.12, 20.3) ---- */
static void deliver_real(Cpu *c, int vec, uint32_t ret)
{
    if ((uint32_t)vec * 4 + 3 > c->idtr_limit)
        cpu_gp(c, 0);
    uint32_t ent = sys_rd32(c, c->idtr_base + (uint32_t)vec * 4);
    Stk s;
    stk_current(c, &s);
    stk_push(c, &s, 2, cpu_get_eflags(c));
    stk_push(c, &s, 2, c->seg[SEG_CS].sel);
    stk_push(c, &s, 2, ret);
    stk_commit(c, &s);
    c->eflags &= ~(FL_IF | FL_TF | FL_AC | FL_RF);
    cpu_update_tlb_sel(c);
    seg_load_real(c, SEG_CS, (uint16_t)(ent >> 16));
    c->eip = c->next_eip = ent & 0xFFFF;
}

/* VME: software INT n redirected to the V86 task's own IVT (SDM 20.3.3.4). */
void v86_redirect_int(Cpu *c, uint8_t vec, uint32_t ret);
void v86_redirect_int(Cpu *c, uint8_t vec, uint32_t ret)
{
    uint32_t ent = (uint32_t)lin_rd(c, (uint32_t)vec * 4, 4, true);
    uint32_t fl = cpu_get_eflags(c);
    uint32_t img = (fl & ~FL_IF) | ((fl & FL_VIF) ? FL_IF : 0) | FL_IOPL;
    Stk s;
    stk_current(c, &s);
    stk_push(c, &s, 2, img);
    stk_push(c, &s, 2, c->seg[SEG_CS].sel);
    stk_push(c, &s, 2, ret);
    stk_commit(c, &s);
    c->eflags &= ~(FL_VIF | FL_TF | FL_RF);
    seg_load_real(c, SEG_CS, (uint16_t)(ent >> 16));
    c->eip = c->next_eip = ent & 0xFFFF;
}

void cpu_deliver(Cpu *c, int vec, int err, bool soft, uint32_t ret)
{
    if (!cpu_pm(c)) {
        deliver_real(c, vec, ret);
        return;
    }
    int ext = soft ? 0 : 1;
    uint32_t gate_err = (uint32_t)vec * 8 + 2 + (uint32_t)ext;
    if ((uint32_t)vec * 8 + 7 > c->idtr_limit)
        cpu_gp(c, (int)gate_err);
    uint32_t g[2];
    g[0] = sys_rd32(c, c->idtr_base + (uint32_t)vec * 8);
    g[1] = sys_rd32(c, c->idtr_base + (uint32_t)vec * 8 + 4);
    unsigned type = (g[1] >> 8) & 0x1F, gdpl = (g[1] >> 13) & 3;
    if (type != 5 && type != 6 && type != 7 && type != 0xE && type != 0xF)
        cpu_gp(c, (int)gate_err);
    if (soft && gdpl < c->cpl)
        cpu_gp(c, (int)gate_err);
    if (!(g[1] & 0x8000))
        cpu_raise(c, EXC_NP, (int)gate_err);
    if (type == 5) {
        uint16_t tsel = (uint16_t)(g[0] >> 16);
        uint32_t td[2];
        if (tsel & 4)
            cpu_raise(c, EXC_TS, (tsel & 0xFFFC) | ext);
        seg_read_desc(c, tsel, td, EXC_TS, ext);
        unsigned tt = (td[1] >> 8) & 0x1F;
        if (tt != 0x9 && tt != 0x1)
            cpu_raise(c, EXC_TS, (tsel & 0xFFFC) | ext);
        if (!(td[1] & 0x8000))
            cpu_raise(c, EXC_NP, (tsel & 0xFFFC) | ext);
        c->next_eip = ret;
        task_switch(c, tsel, td, TS_INT, err);
        c->eip = c->next_eip;
        return;
    }
    bool g32 = type >= 0xE;
    unsigned n = g32 ? 4 : 2;
    uint16_t tsel = (uint16_t)(g[0] >> 16);
    uint32_t toff = (g[0] & 0xFFFF) | (g32 ? (g[1] & 0xFFFF0000u) : 0);
    if ((tsel & 0xFFFC) == 0)
        cpu_gp(c, ext);
    uint32_t td[2];
    seg_read_desc(c, tsel, td, EXC_GP, ext);
    unsigned ttype = (td[1] >> 8) & 0x1F, tdpl = (td[1] >> 13) & 3;
    if ((ttype & 0x18) != 0x18 || tdpl > c->cpl)
        cpu_gp(c, (tsel & 0xFFFC) | ext);
    if (!(td[1] & 0x8000))
        cpu_raise(c, EXC_NP, (tsel & 0xFFFC) | ext);
    bool conforming = ttype & 4;
    uint32_t fl = cpu_get_eflags(c) | (c->push_rf ? FL_RF : 0);
    bool v86 = fl & FL_VM;
    unsigned newcpl = c->cpl;
    Stk s;
    SegCache nsc;
    uint16_t nss = 0;
    bool inner = !conforming && tdpl < c->cpl;
    if (v86 && (!inner || tdpl != 0))
        cpu_gp(c, (tsel & 0xFFFC) | ext);
    if (inner) {
        uint32_t nesp, sd[2];
        tss_stack(c, tdpl, &nss, &nesp, ext);
        check_new_ss(c, nss, tdpl, sd, ext);
        cache_from_desc(&nsc, nss, sd);
        stk_from_cache(&s, &nsc, nesp, tdpl == 3, (nss & 0xFFFC) | ext);
        newcpl = tdpl;
        if (v86) {
            stk_push(c, &s, n, c->seg[SEG_GS].sel);
            stk_push(c, &s, n, c->seg[SEG_FS].sel);
            stk_push(c, &s, n, c->seg[SEG_DS].sel);
            stk_push(c, &s, n, c->seg[SEG_ES].sel);
        }
        stk_push(c, &s, n, c->seg[SEG_SS].sel);
        stk_push(c, &s, n, c->r[REG_SP].d);
    } else {
        stk_current(c, &s);
    }
    if (toff > desc_limit(td))
        cpu_gp(c, ext);
    stk_push(c, &s, n, fl);
    stk_push(c, &s, n, c->seg[SEG_CS].sel);
    stk_push(c, &s, n, ret);
    if (err != ERR_NONE)
        stk_push(c, &s, n, (uint32_t)err);
    /* Commit. */
    if (inner) {
        if (v86) {
            c->eflags &= ~FL_VM;
            for (int k = 0; k < SEG_COUNT; k++)
                if (k != SEG_CS && k != SEG_SS)
                    seg_set_cache(c, k, 0, 0, 0, 0);
        }
        set_cs_desc(c, tsel, td, newcpl);
        seg_set_cache(c, SEG_SS, nss, nsc.base, nsc.limit, nsc.flags);
    } else {
        set_cs_desc(c, tsel, td, c->cpl);
    }
    set_sp(c, s.esp);
    cpu_flags_materialize(c);
    c->eflags &= ~(FL_TF | FL_NT | FL_RF | FL_VM);
    if (!(type & 1))
        c->eflags &= ~FL_IF;
    cpu_update_tlb_sel(c);
    c->eip = c->next_eip = toff;
    c->brk = 1;
}

/* ---- task switch (SDM Vol. 3A 7.3) ---- */
static void tss_write_busy(Cpu *c, uint16_t sel, bool busy)
{
    uint32_t addr = c->gdtr_base + (sel & ~7u) + 5;
    uint8_t b = sys_rd8(c, addr);
    b = busy ? (b | 2) : (b & ~2u);
    lin_wr(c, addr, 1, b, false);
}

/* Loads a segment register from the new task's image, with #TS checks. */
static void task_load_seg(Cpu *c, int seg, uint16_t sel)
{
    if (cpu_v86(c)) {
        seg_load_real(c, seg, sel);
        return;
    }
    if ((sel & 0xFFFC) == 0) {
        if (seg == SEG_SS || seg == SEG_CS)
            cpu_raise(c, EXC_TS, sel & 0xFFFC);
        seg_set_cache(c, seg, sel, 0, 0, 0);
        return;
    }
    uint32_t d[2];
    seg_read_desc(c, sel, d, EXC_TS, false);
    unsigned type = (d[1] >> 8) & 0x1F, dpl = (d[1] >> 13) & 3, rpl = sel & 3;
    if (seg == SEG_CS) {
        if ((type & 0x18) != 0x18 || ((type & 4) ? dpl > rpl : dpl != rpl))
            cpu_raise(c, EXC_TS, sel & 0xFFFC);
    } else if (seg == SEG_SS) {
        if ((type & 0x1A) != 0x12 || dpl != c->cpl || rpl != c->cpl)
            cpu_raise(c, EXC_TS, sel & 0xFFFC);
    } else {
        bool data = (type & 0x18) == 0x10, rcode = (type & 0x1A) == 0x1A;
        if (!data && !rcode)
            cpu_raise(c, EXC_TS, sel & 0xFFFC);
        if (!(rcode && (type & 4)) && (dpl < c->cpl || dpl < rpl))
            cpu_raise(c, EXC_TS, sel & 0xFFFC);
    }
    if (!(d[1] & 0x8000))
        cpu_raise(c, seg == SEG_SS ? EXC_SS : EXC_NP, sel & 0xFFFC);
    desc_set_accessed(c, sel, d);
    seg_load_desc(c, seg, sel, d);
}

void task_switch(Cpu *c, uint16_t sel, const uint32_t desc[2], int source, int err)
{
    uint32_t nd[2] = { desc[0], desc[1] };
    unsigned ntype = (nd[1] >> 8) & 0xF;
    bool n32 = ntype & 8;
    uint32_t nbase, nlimit;
    uint16_t nflags;
    desc_decode(nd, &nbase, &nlimit, &nflags);
    if (!(nd[1] & 0x8000))
        cpu_raise(c, EXC_NP, sel & 0xFFFC);
    if (nlimit < (n32 ? 0x67u : 0x2Bu))
        cpu_raise(c, EXC_TS, sel & 0xFFFC);
    bool busy = ntype & 2;
    if (source == TS_IRET ? !busy : busy)
        cpu_gp(c, sel & 0xFFFC);

    /* Read the whole new image first: faults here leave the old task intact. */
    uint32_t img[26] = { 0 };
    uint16_t segs[6], ldt, link;
    bool trap = false;
    uint32_t cr3 = c->cr3;
    if (n32) {
        cr3 = sys_rd32(c, nbase + 0x1C);
        img[0] = sys_rd32(c, nbase + 0x20); /* EIP */
        img[1] = sys_rd32(c, nbase + 0x24); /* EFLAGS */
        for (int r = 0; r < 8; r++)
            img[2 + r] = sys_rd32(c, nbase + 0x28 + 4 * (uint32_t)r);
        for (int s = 0; s < 6; s++)
            segs[s] = sys_rd16(c, nbase + 0x48 + 4 * (uint32_t)s);
        ldt = sys_rd16(c, nbase + 0x60);
        trap = sys_rd16(c, nbase + 0x64) & 1; /* T: debug trap on entry (SDM 7.2.1) */
    } else {
        img[0] = sys_rd16(c, nbase + 0x0E);
        img[1] = sys_rd16(c, nbase + 0x10);
        for (int r = 0; r < 8; r++)
            img[2 + r] = sys_rd16(c, nbase + 0x12 + 2 * (uint32_t)r);
        for (int s = 0; s < 4; s++)
            segs[s] = sys_rd16(c, nbase + 0x22 + 2 * (uint32_t)s);
        segs[SEG_FS] = segs[SEG_GS] = 0;
        ldt = sys_rd16(c, nbase + 0x2A);
    }
    link = c->tr.sel;

    /* Save the outgoing task. */
    uint32_t fl = cpu_get_eflags(c);
    if (source == TS_IRET)
        fl &= ~FL_NT;
    bool o32 = (c->tr.flags & 8) != 0;
    uint32_t ob = c->tr.base;
    if (o32) {
        lin_wr(c, ob + 0x20, 4, c->next_eip, false);
        lin_wr(c, ob + 0x24, 4, fl, false);
        for (int r = 0; r < 8; r++)
            lin_wr(c, ob + 0x28 + 4 * (uint32_t)r, 4, c->r[r].d, false);
        for (int s = 0; s < 6; s++)
            lin_wr(c, ob + 0x48 + 4 * (uint32_t)s, 2, c->seg[s].sel, false);
    } else {
        lin_wr(c, ob + 0x0E, 2, c->next_eip, false);
        lin_wr(c, ob + 0x10, 2, fl, false);
        for (int r = 0; r < 8; r++)
            lin_wr(c, ob + 0x12 + 2 * (uint32_t)r, 2, c->r[r].w, false);
        for (int s = 0; s < 4; s++)
            lin_wr(c, ob + 0x22 + 2 * (uint32_t)s, 2, c->seg[s].sel, false);
    }
    if (source == TS_JMP || source == TS_IRET)
        tss_write_busy(c, link, false);
    if (source == TS_CALL || source == TS_INT)
        lin_wr(c, nbase, 2, link, false);
    if (source != TS_IRET)
        tss_write_busy(c, sel, true);

    /* Switch. */
    c->tr.sel = sel;
    c->tr.base = nbase;
    c->tr.limit = nlimit;
    c->tr.flags = (uint16_t)(nflags | 2);
    c->cr0 |= CR0_TS;
    if (n32 && c->paging && cr3 != c->cr3)
        cpu_write_cr3(c, cr3);
    uint32_t nfl = img[1];
    if (source == TS_CALL || source == TS_INT)
        nfl |= FL_NT;
    c->cc_op = CC_EAGER;
    c->eflags = (nfl & 0x3F7FD7u) | 2;
    cpu_update_tlb_sel(c);
    if (!n32)
        c->eflags &= 0xFFFF;
    for (int r = 0; r < 8; r++) {
        if (n32)
            c->r[r].d = img[2 + r];
        else
            c->r[r].w = (uint16_t)img[2 + r];
    }
    c->next_eip = n32 ? img[0] : (img[0] & 0xFFFF);
    /* Selectors first, then descriptors (faults now belong to the new task). */
    for (int s = 0; s < 6; s++)
        c->seg[s].sel = segs[s];
    c->ldtr.sel = ldt;
    if (c->eflags & FL_VM) {
        cpu_set_cpl(c, 3);
    } else {
        cpu_set_cpl(c, segs[SEG_CS] & 3);
    }
    c->ldtr.flags = 0;
    if (ldt & 0xFFFC) {
        uint32_t ld[2];
        if (ldt & 4)
            cpu_raise(c, EXC_TS, ldt & 0xFFFC);
        seg_read_desc(c, ldt, ld, EXC_TS, false);
        if (((ld[1] >> 8) & 0x1F) != 2)
            cpu_raise(c, EXC_TS, ldt & 0xFFFC);
        if (!(ld[1] & 0x8000))
            cpu_raise(c, EXC_TS, ldt & 0xFFFC);
        desc_decode(ld, &c->ldtr.base, &c->ldtr.limit, &c->ldtr.flags);
    }
    task_load_seg(c, SEG_CS, segs[SEG_CS]);
    task_load_seg(c, SEG_SS, segs[SEG_SS]);
    for (int s = 0; s < 6; s++)
        if (s != SEG_CS && s != SEG_SS)
            task_load_seg(c, s, segs[s]);
    if (c->next_eip > c->seg[SEG_CS].limit)
        cpu_gp(c, 0);
    if (err != ERR_NONE) {
        Stk s;
        stk_current(c, &s);
        stk_push(c, &s, c->seg[SEG_CS].flags & DF_DB ? 4 : 2, (uint32_t)err);
        stk_commit(c, &s);
    }
    c->brk = 1;
    if (trap) {
        /* #DB in the new task, before its first instruction, DR6.BT set. */
        c->dr[6] |= 1u << 15;
        c->eip = c->next_eip;
        if (c->delivering < 0)
            c->icount++; /* the JMP/CALL/IRET/INT completed */
        c->exc_is_trap = true;
        cpu_raise(c, EXC_DB, ERR_NONE);
    }
}

/* ---- LLDT / LTR (SDM Vol. 2) ---- */
void seg_lldt(Cpu *c, uint16_t sel)
{
    if ((sel & 0xFFFC) == 0) {
        c->ldtr.sel = sel;
        c->ldtr.flags = 0;
        c->ldtr.base = 0;
        c->ldtr.limit = 0;
        return;
    }
    if (sel & 4)
        cpu_gp(c, sel & 0xFFFC);
    uint32_t d[2];
    seg_read_desc(c, sel, d, EXC_GP, false);
    if (((d[1] >> 8) & 0x1F) != 2)
        cpu_gp(c, sel & 0xFFFC);
    if (!(d[1] & 0x8000))
        cpu_raise(c, EXC_NP, sel & 0xFFFC);
    c->ldtr.sel = sel;
    desc_decode(d, &c->ldtr.base, &c->ldtr.limit, &c->ldtr.flags);
}

void seg_ltr(Cpu *c, uint16_t sel)
{
    if ((sel & 0xFFFC) == 0 || (sel & 4))
        cpu_gp(c, sel & 0xFFFC);
    uint32_t d[2];
    seg_read_desc(c, sel, d, EXC_GP, false);
    unsigned type = (d[1] >> 8) & 0x1F;
    if (type != 1 && type != 9)
        cpu_gp(c, sel & 0xFFFC);
    if (!(d[1] & 0x8000))
        cpu_raise(c, EXC_NP, sel & 0xFFFC);
    tss_write_busy(c, sel, true);
    c->tr.sel = sel;
    desc_decode(d, &c->tr.base, &c->tr.limit, &c->tr.flags);
    c->tr.flags |= 2;
}

/* I/O permission bitmap (SDM Vol. 3A 19.5.2): only a 32-bit TSS has one. */
bool io_permitted(Cpu *c, uint16_t port, unsigned n)
{
    if ((c->tr.flags & 0xD) != 0x9 || c->tr.limit < 0x67)
        return false;
    uint32_t iomap = sys_rd16(c, c->tr.base + 0x66);
    uint32_t byte = iomap + (port >> 3);
    if (byte + 1 > c->tr.limit)
        return false;
    uint32_t bits = sys_rd16(c, c->tr.base + byte);
    uint32_t mask = ((1u << n) - 1) << (port & 7);
    return (bits & mask) == 0;
}
