/*
 * cpu/ops_str.c -- string instructions with REP/REPE/REPNE (SDM Vol. 2
 * MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS and "REP/REPE/REPNE").
 *
 * A REP instruction runs in slices: after a bounded number of iterations
 * with the count not yet zero it leaves EIP on itself, so interrupts are
 * recognised between iterations as on hardware (SDM Vol. 2 REP: "interrupts
 * ... are recognised after each iteration").  A fault leaves ECX/ESI/EDI at
 * the faulting iteration because registers are updated per element.
 * REP MOVS/STOS forward with plain RAM on both sides are done a page at a
 * time with memmove/memset through the TLB.
 */
#include "ops.h"

#define REP_SLICE 4096u        /* elements per slice, generic path */
#define REP_FAST_SLICE (1u << 18) /* bytes per slice, fast path */

static inline uint32_t areg(Cpu *c, const Insn *i, int r) { return i->a32 ? R32(c, r) : R16(c, r); }
static inline void aset(Cpu *c, const Insn *i, int r, uint32_t v)
{
    if (i->a32)
        R32(c, r) = v;
    else
        R16(c, r) = (uint16_t)v;
}
static inline int32_t step_of(Cpu *c, unsigned n) { return (c->eflags & FL_DF) ? -(int32_t)n : (int32_t)n; }
static inline unsigned str_bytes(const Insn *i) { return (i->op & 1) ? (i->o32 ? 4 : 2) : 1; }

/* Elements (of n bytes) from off going forward that stay inside the range
 * [lo, hi] of the segment, inside the address-size wrap and inside the page. */
static uint32_t room_forward(const SegCache *s, bool write, const Insn *i, uint32_t off, unsigned n)
{
    uint32_t lo = write ? s->wlo : s->rlo, hi = write ? s->whi : s->rhi;
    if (off < lo || off > hi)
        return 0;
    uint64_t lim = hi;
    if (!i->a32 && lim > 0xFFFF)
        lim = 0xFFFF;
    uint64_t seg_room = (lim - off + 1) / n;
    uint32_t lin = s->base + off;
    uint32_t page_room = (0x1000 - (lin & 0xFFF)) / n;
    return (uint32_t)(seg_room < page_room ? seg_room : page_room);
}

static uint8_t *tlb_host(TlbEntry *tlb, uint32_t lin)
{
    TlbEntry *e = &tlb[(lin >> 12) & (TLB_SIZE - 1)];
    return tlb_hit(e, lin, 1) ? (uint8_t *)(e->addend + lin) : NULL;
}

/* Fast REP MOVS: returns false when it could not make progress this way. */
static bool movs_fast(Cpu *c, const Insn *i, unsigned n, uint32_t *count)
{
    const SegCache *ss = &c->seg[i->seg], *ds = &c->seg[SEG_ES];
    uint32_t si = areg(c, i, REG_SI), di = areg(c, i, REG_DI);
    uint32_t k = room_forward(ss, false, i, si, n), kd = room_forward(ds, true, i, di, n);
    if (kd < k)
        k = kd;
    if (*count < k)
        k = *count;
    if (k == 0)
        return false;
    uint8_t *src = tlb_host(c->tlbr, ss->base + si), *dst = tlb_host(c->tlbw, ds->base + di);
    if (!src || !dst)
        return false;
    size_t bytes = (size_t)k * n;
    if (dst > src && dst < src + bytes)
        return false; /* overlapping forward copy replicates: element by element */
    memmove(dst, src, bytes);
    aset(c, i, REG_SI, si + (uint32_t)bytes);
    aset(c, i, REG_DI, di + (uint32_t)bytes);
    *count -= k;
    return true;
}

static bool stos_fast(Cpu *c, const Insn *i, unsigned n, uint32_t *count)
{
    const SegCache *ds = &c->seg[SEG_ES];
    uint32_t di = areg(c, i, REG_DI);
    uint32_t k = room_forward(ds, true, i, di, n);
    if (*count < k)
        k = *count;
    if (k == 0)
        return false;
    uint8_t *dst = tlb_host(c->tlbw, ds->base + di);
    if (!dst)
        return false;
    uint32_t v = c->r[REG_AX].d;
    if (n == 1) {
        memset(dst, (int)(v & 0xFF), k);
    } else {
        for (uint32_t e = 0; e < k; e++)
            memcpy(dst + (size_t)e * n, &v, n);
    }
    aset(c, i, REG_DI, di + k * n);
    *count -= k;
    return true;
}

static void movs_one(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t si = areg(c, i, REG_SI), di = areg(c, i, REG_DI);
    uint32_t v = mem_get(c, i->seg, si, n);
    mem_set(c, SEG_ES, di, n, v);
    int32_t d = step_of(c, n);
    aset(c, i, REG_SI, si + (uint32_t)d);
    aset(c, i, REG_DI, di + (uint32_t)d);
}

static void stos_one(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t di = areg(c, i, REG_DI);
    mem_set(c, SEG_ES, di, n, reg_get(c, REG_AX, n));
    aset(c, i, REG_DI, di + (uint32_t)step_of(c, n));
}

static void lods_one(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t si = areg(c, i, REG_SI);
    reg_set(c, REG_AX, n, mem_get(c, i->seg, si, n));
    aset(c, i, REG_SI, si + (uint32_t)step_of(c, n));
}

static void cmp_flags(Cpu *c, unsigned n, uint32_t a, uint32_t b)
{
    CC k = { CC_SUB + sz_index(n), a, b, (a - b) & size_mask_of(n), 0 };
    cc_commit(c, &k);
}

static void cmps_one(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t si = areg(c, i, REG_SI), di = areg(c, i, REG_DI);
    uint32_t a = mem_get(c, i->seg, si, n);
    uint32_t b = mem_get(c, SEG_ES, di, n);
    int32_t d = step_of(c, n);
    aset(c, i, REG_SI, si + (uint32_t)d);
    aset(c, i, REG_DI, di + (uint32_t)d);
    cmp_flags(c, n, a, b);
}

static void scas_one(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t di = areg(c, i, REG_DI);
    uint32_t b = mem_get(c, SEG_ES, di, n);
    aset(c, i, REG_DI, di + (uint32_t)step_of(c, n));
    cmp_flags(c, n, reg_get(c, REG_AX, n), b);
}

static void ins_one(Cpu *c, const Insn *i, unsigned n)
{
    uint16_t port = R16(c, REG_DX);
    io_check(c, port, n);
    uint32_t di = areg(c, i, REG_DI);
    mem_probe_write(c, SEG_ES, di, n); /* fault before the port read has effects */
    uint32_t v = bus_io_read(c->bus, port, n);
    mem_set(c, SEG_ES, di, n, v);
    aset(c, i, REG_DI, di + (uint32_t)step_of(c, n));
}

static void outs_one(Cpu *c, const Insn *i, unsigned n)
{
    uint16_t port = R16(c, REG_DX);
    io_check(c, port, n);
    uint32_t si = areg(c, i, REG_SI);
    uint32_t v = mem_get(c, i->seg, si, n);
    bus_io_write(c->bus, port, v, n);
    aset(c, i, REG_SI, si + (uint32_t)step_of(c, n));
}

typedef void (*StrOne)(Cpu *c, const Insn *i, unsigned n);

/* Runs the REP loop for one slice; `cond` says whether ZF terminates. */
static void rep_loop(Cpu *c, const Insn *i, StrOne one, bool cond)
{
    unsigned n = str_bytes(i);
    if (!i->rep) {
        one(c, i, n);
        return;
    }
    for (unsigned k = 0; k < REP_SLICE; k++) {
        uint32_t cnt = areg(c, i, REG_CX);
        if (cnt == 0)
            return;
        one(c, i, n);
        aset(c, i, REG_CX, cnt - 1);
        if (cond) {
            bool zf = cpu_cond(c, 4);
            if ((i->rep == 3 && !zf) || (i->rep == 2 && zf))
                return;
        }
    }
    if (areg(c, i, REG_CX) != 0)
        c->next_eip = c->eip, c->brk = 1; /* continue after pending events */
}

typedef bool (*StrFast)(Cpu *c, const Insn *i, unsigned n, uint32_t *count);

static void rep_fast(Cpu *c, const Insn *i, StrOne one, StrFast fast)
{
    unsigned n = str_bytes(i);
    if (!i->rep) {
        one(c, i, n);
        return;
    }
    uint32_t done = 0;
    while (done < REP_FAST_SLICE) {
        uint32_t cnt = areg(c, i, REG_CX);
        if (cnt == 0)
            return;
        if (!(c->eflags & FL_DF)) {
            uint32_t left = cnt;
            if (fast(c, i, n, &left)) {
                done += (cnt - left) * n;
                aset(c, i, REG_CX, left);
                continue;
            }
        }
        one(c, i, n);
        aset(c, i, REG_CX, cnt - 1);
        done += n;
    }
    if (areg(c, i, REG_CX) != 0)
        c->next_eip = c->eip, c->brk = 1;
}

static void op_movs(Cpu *c, const Insn *i) { rep_fast(c, i, movs_one, movs_fast); }
static void op_stos(Cpu *c, const Insn *i) { rep_fast(c, i, stos_one, stos_fast); }
static void op_lods(Cpu *c, const Insn *i) { rep_loop(c, i, lods_one, false); }
static void op_cmps(Cpu *c, const Insn *i) { rep_loop(c, i, cmps_one, true); }
static void op_scas(Cpu *c, const Insn *i) { rep_loop(c, i, scas_one, true); }
static void op_ins(Cpu *c, const Insn *i) { rep_loop(c, i, ins_one, false); }
static void op_outs(Cpu *c, const Insn *i) { rep_loop(c, i, outs_one, false); }
FAM1(movs, op_movs);
FAM1(stos, op_stos);
FAM1(lods, op_lods);
FAM1(cmps, op_cmps);
FAM1(scas, op_scas);
FAM1(ins, op_ins);
FAM1(outs, op_outs);

static void op_xlat(Cpu *c, const Insn *i)
{
    uint32_t off = (areg(c, i, REG_BX) + R8(c, 0)) & i->amask;
    R8(c, 0) = mrd8(c, i->seg, off);
}
FAM1(xlat, op_xlat);
