/*
 * cpu/fpu.c -- the x87 floating-point unit as a pure module (see cpu/fpu.h).
 *
 * This file owns the register stack, tag word, status/control words, the
 * exception bookkeeping (SDM vol. 1, 8.5 and 8.6) and instruction dispatch
 * for opcodes D8-DF; the arithmetic itself is in fpu_soft.c and
 * fpu_trans.c.  Dispatch is table driven: one table for the memory forms
 * (indexed by opcode and ModRM.reg) and one for the register forms
 * (indexed by opcode and ModRM.reg, the handler reading ModRM.rm).
 *
 * Where the SDM is silent or says "undefined", behaviour follows a P6-family
 * x87 as observed by tests/unit/fpu_test.c, which runs every instruction on
 * the build machine's own x87 and compares bit for bit.  The less obvious
 * findings, each marked "(host x87)" at its place in the code:
 *  - an unmasked pre-computation exception (IE, DE, ZE) stops the
 *    instruction: no result, no PE/UE/OE, C1 cleared; compares still set
 *    C3/C2/C0 (or ZF/PF/CF) to the relation they found;
 *  - an invalid operation hides DE; a zero divisor hides a denormal dividend;
 *  - FLD m32/m64 still loads under an unmasked DE; FIST/FBSTP never raise DE;
 *  - C1 is left alone by FNOP, FCMOVcc and FCOMI/FUCOMI(P);
 *  - FCMOVcc with an empty operand writes the indefinite whatever the
 *    condition; FSTP1 (D9 D8+i) with ST(0) empty just pops;
 *  - FXTRACT, FPTAN and FSINCOS check for stack room before the operand;
 *  - FPREM/FPREM1 on special operands clear C2 and C1 but keep C0/C3.
 */
#include "cpu/fpu.h"

#include <string.h>

#include "cpu/fpu_soft.h"

enum { TAG_VALID = 0, TAG_ZERO = 1, TAG_SPECIAL = 2, TAG_EMPTY = 3 };
#define SW_TOP_SHIFT 11
#define SW_COND (FPU_C0 | FPU_C1 | FPU_C2 | FPU_C3)
#define EXC_MASK 0x3F

/* One instruction in flight. */
typedef struct Exec {
    FpuState *f;
    const FpuContext *ctx;
    const uint8_t *in;
    uint8_t *out;
    FpuResult *res;
    unsigned op, reg, rm;
    FpuEnv env;
    bool stack_fault;  /* SF raised: C1 tells overflow (1) / underflow (0) */
    bool c1_overflow;
} Exec;

typedef void (*Handler)(Exec *x);

/* ---------------------------------------------------------------- stack */

static unsigned top_of(const FpuState *f) { return (f->sw >> SW_TOP_SHIFT) & 7; }

static void set_top(FpuState *f, unsigned top)
{
    f->sw = (uint16_t)((f->sw & ~(7u << SW_TOP_SHIFT)) | (top & 7) << SW_TOP_SHIFT);
}

static unsigned phys(const FpuState *f, unsigned i) { return (top_of(f) + i) & 7; }
static unsigned tag_get(const FpuState *f, unsigned p) { return (f->tw >> (2 * p)) & 3; }

static void tag_set(FpuState *f, unsigned p, unsigned t)
{
    f->tw = (uint16_t)((f->tw & ~(3u << (2 * p))) | t << (2 * p));
}

/* Tag a register from its contents (SDM vol. 1, 8.1.7). */
static unsigned tag_for(Float80 v)
{
    switch (fpu_classify(v)) {
    case FPU_CLASS_ZERO:
        return TAG_ZERO;
    case FPU_CLASS_NORMAL:
        return TAG_VALID;
    default:
        return TAG_SPECIAL;
    }
}

static bool st_empty(const Exec *x, unsigned i) { return tag_get(x->f, phys(x->f, i)) == TAG_EMPTY; }
static Float80 st(const Exec *x, unsigned i) { return x->f->st[phys(x->f, i)]; }

static void st_write(Exec *x, unsigned i, Float80 v)
{
    unsigned p = phys(x->f, i);
    x->f->st[p] = v;
    tag_set(x->f, p, tag_for(v));
}

static void stack_underflow(Exec *x)
{
    x->env.flags |= FPU_IE | FPU_SF;
    x->stack_fault = true;
    x->c1_overflow = false;
}

static void stack_overflow(Exec *x)
{
    x->env.flags |= FPU_IE | FPU_SF;
    x->stack_fault = true;
    x->c1_overflow = true;
}

static bool masked(const Exec *x, uint16_t exc) { return (x->f->cw & exc) != 0; }

static void pop(Exec *x)
{
    tag_set(x->f, phys(x->f, 0), TAG_EMPTY);
    set_top(x->f, top_of(x->f) + 1);
}

/* Push: a full stack is a stack overflow; masked, the indefinite is pushed. */
static void push(Exec *x, Float80 v)
{
    if (!st_empty(x, 7)) {
        stack_overflow(x);
        if (!masked(x, FPU_IE))
            return;
        v = fpu_indefinite();
    }
    set_top(x->f, top_of(x->f) - 1);
    st_write(x, 0, v);
}

/* Read ST(i) as an operand; an empty register is a stack underflow and
 * reads as the indefinite (the masked response). */
static bool operand(Exec *x, unsigned i, Float80 *v)
{
    if (st_empty(x, i)) {
        stack_underflow(x);
        *v = fpu_indefinite();
        return false;
    }
    *v = st(x, i);
    return true;
}

/* Exceptions that suppress the result (pre-computation: SDM vol. 1, 8.5). */
static bool blocked(const Exec *x)
{
    return (x->env.flags & ~x->f->cw & (FPU_IE | FPU_DE | FPU_ZE)) != 0;
}

/* Store failures to memory also include unmasked overflow/underflow. */
static bool mem_blocked(const Exec *x)
{
    return (x->env.flags & ~x->f->cw & (FPU_IE | FPU_DE | FPU_ZE | FPU_OE | FPU_UE)) != 0;
}

static void cond_set(Exec *x, uint16_t bits)
{
    x->f->sw = (uint16_t)((x->f->sw & ~(FPU_C0 | FPU_C2 | FPU_C3)) | bits);
}

/* Bit 6 of the control word always reads as 1 on the 387 and later, bits
 * 7 and 13-15 as 0 (checked against the host x87). */
static uint16_t cw_sanitize(uint64_t v) { return (uint16_t)((v & 0x1F3F) | 0x40); }

/* ------------------------------------------------------------- memory */

static uint64_t le_read(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void le_write(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

static Float80 f80_read(const uint8_t *p)
{
    Float80 r = { le_read(p, 8), (uint16_t)le_read(p + 8, 2) };
    return r;
}

static void f80_write(uint8_t *p, Float80 v)
{
    le_write(p, v.mant, 8);
    le_write(p + 8, v.sign_exp, 2);
}

/* The memory operand of the arithmetic group (m32fp, m32int, m64fp,
 * m16int), converted to extended format under `env`. */
static Float80 mem_operand(const Exec *x, FpuEnv *env)
{
    switch (x->op) {
    case 0:
        return fpu_from_f32(env, (uint32_t)le_read(x->in, 4));
    case 2:
        return fpu_from_int((int32_t)le_read(x->in, 4));
    case 4:
        return fpu_from_f64(env, le_read(x->in, 8));
    default:
        return fpu_from_int((int16_t)le_read(x->in, 2));
    }
}

/* ---------------------------------------------------------- arithmetic */

enum { K_ADD, K_MUL, K_COM, K_COMP, K_SUB, K_SUBR, K_DIV, K_DIVR };

static Float80 compute(Exec *x, unsigned kind, Float80 a, Float80 b)
{
    switch (kind) {
    case K_ADD:
        return fpu_add(&x->env, a, b, false);
    case K_MUL:
        return fpu_mul(&x->env, a, b);
    case K_SUB:
        return fpu_add(&x->env, a, b, true);
    case K_SUBR:
        return fpu_add(&x->env, b, a, true);
    case K_DIV:
        return fpu_div(&x->env, a, b);
    default:
        return fpu_div(&x->env, b, a);
    }
}

static void compare_codes(Exec *x, int rel)
{
    /* Set even when an unmasked exception stops the instruction (host x87). */
    static const uint16_t codes[4] = { FPU_C0, FPU_C3, 0, FPU_C0 | FPU_C2 | FPU_C3 };
    cond_set(x, codes[rel]);
}

/* FCOM/FUCOM family: compare ST(0) with b, then pop `pops` times. */
static void compare(Exec *x, bool have_b, Float80 b, bool quiet, int pops)
{
    Float80 a;
    bool ok = operand(x, 0, &a) && have_b;
    int rel = ok ? fpu_compare(&x->env, a, b, quiet) : 3;
    compare_codes(x, rel);
    if (blocked(x))
        return;
    while (pops--)
        pop(x);
}

/* ST(dst) := ST(a_i) (op) b, popping afterwards if asked; b_ok false means
 * b came from an empty register. */
static void arith(Exec *x, unsigned kind, unsigned a_i, Float80 b, bool b_ok, unsigned dst,
                  bool do_pop)
{
    Float80 a, r;
    bool ok = operand(x, a_i, &a) && b_ok;
    if (!ok) {
        if (!b_ok && !x->stack_fault)
            stack_underflow(x);
        r = fpu_indefinite();
    } else {
        r = compute(x, kind, a, b);
    }
    if (blocked(x))
        return;
    st_write(x, dst, r);
    if (do_pop)
        pop(x);
}

/* Memory-operand arithmetic.  The operand is converted to extended format
 * first; an SNaN stays signaling so the NaN rules see it, and its denormal
 * (DE) only counts when ST(0) is a usable non-NaN (as the host x87 shows). */
static void h_arith_mem(Exec *x)
{
    FpuEnv conv = x->env;
    conv.flags = 0;
    Float80 b = mem_operand(x, &conv);
    if (conv.flags & FPU_IE)
        b.mant &= ~0x4000000000000000ull;   /* back to the SNaN it was */
    FpuClass c0 = st_empty(x, 0) ? FPU_CLASS_INVALID : fpu_classify(st(x, 0));
    bool zero_divisor = x->reg == K_DIVR && c0 == FPU_CLASS_ZERO;
    if ((conv.flags & FPU_DE) && c0 != FPU_CLASS_INVALID && c0 != FPU_CLASS_QNAN &&
        c0 != FPU_CLASS_SNAN && !zero_divisor)
        x->env.flags |= FPU_DE;
    if (x->reg == K_COM || x->reg == K_COMP)
        compare(x, true, b, false, x->reg == K_COMP);
    else
        arith(x, x->reg, 0, b, true, 0, false);
}

/* D8 /r register form: ST(0) := ST(0) op ST(i). */
static void h_arith_st0(Exec *x)
{
    Float80 b;
    bool ok = operand(x, x->rm, &b);
    if (x->reg == K_COM || x->reg == K_COMP) {
        compare(x, ok, b, false, x->reg == K_COMP);
        return;
    }
    arith(x, x->reg, 0, b, ok, 0, false);
}

/* DC/DE register forms: ST(i) := ST(i) op ST(0); the SUB/SUBR and DIV/DIVR
 * encodings are swapped relative to D8 (SDM vol. 2, FSUB/FDIV opcode lists). */
static void h_arith_sti(Exec *x)
{
    static const unsigned kind[8] = { K_ADD, K_MUL, K_COM, K_COMP, K_SUBR, K_SUB, K_DIVR, K_DIV };
    Float80 b;
    bool ok = operand(x, 0, &b);
    arith(x, kind[x->reg], x->rm, b, ok, x->rm, x->op == 6);
}

/* DC D0/D8 and DE D0 aliases of FCOM/FCOMP (undocumented, as on real chips). */
static void h_fcom_sti(Exec *x)
{
    Float80 b;
    bool ok = operand(x, x->rm, &b);
    compare(x, ok, b, false, x->reg == 3 || x->op == 6);
}

static void h_fucom(Exec *x)
{
    Float80 b;
    bool ok = operand(x, x->rm, &b);
    compare(x, ok, b, true, x->reg == 5);
}

static void h_fcompp(Exec *x)
{
    Float80 b;
    bool ok = operand(x, 1, &b);
    compare(x, ok, b, x->op == 2, 2);
}

/* FCOMI/FCOMIP/FUCOMI/FUCOMIP (P6): the relation goes to ZF, PF, CF. */
static void h_fcomi(Exec *x)
{
    static const uint32_t zpc[4] = { 0x01, 0x40, 0x00, 0x45 };
    Float80 a, b;
    bool ok = operand(x, 0, &a);
    ok = operand(x, x->rm, &b) && ok;
    int rel = ok ? fpu_compare(&x->env, a, b, x->reg == 5) : 3;
    x->res->write_eflags = true;   /* even when an unmasked exception stops it */
    x->res->eflags_zpc = zpc[rel];
    if (blocked(x))
        return;
    if (x->op == 7)
        pop(x);
}

/* ------------------------------------------------------- loads, stores */

/* FLD m32/m64/m80.  A stack overflow hides the conversion's exceptions;
 * an unmasked DE still loads the value (both as the host x87 does). */
static void h_fld_mem(Exec *x)
{
    FpuEnv conv = x->env;
    Float80 v;
    conv.flags = 0;
    switch (x->op) {
    case 1: v = fpu_from_f32(&conv, (uint32_t)le_read(x->in, 4)); break;
    case 5: v = fpu_from_f64(&conv, le_read(x->in, 8)); break;
    default: v = f80_read(x->in); break;
    }
    if (st_empty(x, 7)) {
        x->env.flags |= conv.flags;
        if (conv.flags & ~x->f->cw & FPU_IE)
            return;
    }
    push(x, v);
}

static void h_fild(Exec *x)
{
    int64_t v = x->op == 3 ? (int32_t)le_read(x->in, 4)
              : x->reg == 5 ? (int64_t)le_read(x->in, 8) : (int16_t)le_read(x->in, 2);
    push(x, fpu_from_int(v));
}

static void h_fbld(Exec *x) { push(x, fpu_from_bcd(x->in)); }

static void h_fst_mem(Exec *x)
{
    Float80 v;
    bool do_pop = x->reg == 3 || x->reg == 7;
    if (!operand(x, 0, &v) && !masked(x, FPU_IE))
        return;
    switch (x->op) {
    case 1: le_write(x->out, fpu_to_f32(&x->env, v), 4); break;
    case 5: le_write(x->out, fpu_to_f64(&x->env, v), 8); break;
    default: f80_write(x->out, v); break;
    }
    if (mem_blocked(x)) {
        x->res->suppress_write = true;
        return;
    }
    if (do_pop)
        pop(x);
}

/* FIST/FISTP m16/m32/m64; out of range or invalid gives the integer
 * indefinite (only the sign bit set) when IE is masked. */
static void h_fist(Exec *x)
{
    int bits = x->op == 3 ? 32 : x->reg == 7 ? 64 : 16;
    Float80 v;
    int64_t r = 0;
    bool ok = operand(x, 0, &v);
    uint64_t out = (ok && fpu_to_int(&x->env, v, bits, &r)) ? (uint64_t)r
                 : (uint64_t)1 << (bits - 1);
    if (mem_blocked(x)) {
        x->res->suppress_write = true;
        return;
    }
    le_write(x->out, out, bits / 8);
    if (x->reg == 3 || x->reg == 7)
        pop(x);
}

static void h_fbstp(Exec *x)
{
    Float80 v;
    uint8_t bcd[10];
    bool ok = operand(x, 0, &v);
    if (!ok) {
        static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF };
        memcpy(bcd, indefinite, 10);
    } else {
        fpu_to_bcd(&x->env, v, bcd);
    }
    if (mem_blocked(x)) {
        x->res->suppress_write = true;
        return;
    }
    memcpy(x->out, bcd, 10);
    pop(x);
}

static void h_fld_sti(Exec *x)
{
    Float80 v;
    if (!operand(x, x->rm, &v) && !masked(x, FPU_IE))
        return;
    push(x, v);
}

/* FST/FSTP ST(i) and the FSTP1/8/9 aliases.  The reserved D9 D8+i form
 * (FSTP1) only pops when ST(0) is empty: no stack fault (host x87). */
static void h_fst_sti(Exec *x)
{
    Float80 v;
    bool do_pop = !(x->op == 5 && x->reg == 2);
    if (x->op == 1 && st_empty(x, 0)) {
        pop(x);
        return;
    }
    if (!operand(x, 0, &v) && !masked(x, FPU_IE))
        return;
    st_write(x, x->rm, v);
    if (do_pop)
        pop(x);
}

static void h_fxch(Exec *x)
{
    Float80 a, b;
    bool ok = operand(x, 0, &a);
    ok = operand(x, x->rm, &b) && ok;
    if (!ok && !masked(x, FPU_IE))
        return;
    st_write(x, 0, b);
    st_write(x, x->rm, a);
}

static void h_ffree(Exec *x)
{
    tag_set(x->f, phys(x->f, x->rm), TAG_EMPTY);
    if (x->op == 7)
        pop(x);
}

/* FCMOVcc (P6): DA = B/E/BE/U, DB = the negations.  A stack fault writes
 * the indefinite whatever the condition (as the host x87 does). */
static void h_fcmov(Exec *x)
{
    uint32_t fl = x->ctx->eflags;
    bool cf = fl & 0x01, zf = fl & 0x40, pf = fl & 0x04;
    bool cond[4] = { cf, zf, cf || zf, pf };
    bool take = cond[x->reg] ^ (x->op == 3);
    Float80 v;
    bool ok = operand(x, x->rm, &v);
    if (ok && st_empty(x, 0)) {
        stack_underflow(x);
        ok = false;
    }
    if (!ok) {
        if (masked(x, FPU_IE))
            st_write(x, 0, fpu_indefinite());
        return;
    }
    if (take)
        st_write(x, 0, v);
}

/* ---------------------------------------------------- D9 E0-FF group */

static void one_operand(Exec *x, Float80 (*fn)(FpuEnv *, Float80))
{
    Float80 v;
    if (!operand(x, 0, &v)) {
        if (masked(x, FPU_IE))
            st_write(x, 0, v);
        return;
    }
    Float80 r = fn(&x->env, v);
    if (!blocked(x))
        st_write(x, 0, r);
}

static Float80 op_chs(FpuEnv *e, Float80 v) { (void)e; v.sign_exp ^= 0x8000; return v; }
static Float80 op_abs(FpuEnv *e, Float80 v) { (void)e; v.sign_exp &= 0x7FFF; return v; }

static void h_fchs(Exec *x) { one_operand(x, op_chs); }
static void h_fabs(Exec *x) { one_operand(x, op_abs); }
static void h_fsqrt(Exec *x) { one_operand(x, fpu_sqrt); }
static void h_frndint(Exec *x) { one_operand(x, fpu_round_to_int); }
static void h_f2xm1(Exec *x) { one_operand(x, fpu_f2xm1); }

static void h_ftst(Exec *x)
{
    Float80 zero = { 0, 0 };
    Float80 a;
    bool ok = operand(x, 0, &a);
    compare_codes(x, ok ? fpu_compare(&x->env, a, zero, false) : 3);
}

/* FXAM class codes C3,C2,C0 (SDM vol. 2, FXAM table); C1 is the sign. */
static void h_fxam(Exec *x)
{
    static const uint16_t cls[7] = {
        [FPU_CLASS_ZERO] = FPU_C3, [FPU_CLASS_DENORMAL] = FPU_C3 | FPU_C2,
        [FPU_CLASS_NORMAL] = FPU_C2, [FPU_CLASS_INF] = FPU_C2 | FPU_C0,
        [FPU_CLASS_QNAN] = FPU_C0, [FPU_CLASS_SNAN] = FPU_C0, [FPU_CLASS_INVALID] = 0,
    };
    Float80 v = st(x, 0);
    uint16_t c = st_empty(x, 0) ? (FPU_C3 | FPU_C0) : cls[fpu_classify(v)];
    x->f->sw = (uint16_t)((x->f->sw & ~SW_COND) | c | ((v.sign_exp & 0x8000) ? FPU_C1 : 0));
}

static void h_fldconst(Exec *x) { push(x, fpu_constant(&x->env, (int)x->rm)); }

static void h_fdecstp(Exec *x) { set_top(x->f, top_of(x->f) - 1); }
static void h_fincstp(Exec *x) { set_top(x->f, top_of(x->f) + 1); }
static void h_fnop(Exec *x) { (void)x; }

/* Two-operand instructions that write ST(1) and pop (FYL2X, FPATAN...). */
static void st1_pop(Exec *x, Float80 (*fn)(FpuEnv *, Float80, Float80))
{
    Float80 a, b;
    bool ok = operand(x, 0, &a);
    ok = operand(x, 1, &b) && ok;
    Float80 r = ok ? fn(&x->env, a, b) : fpu_indefinite();
    if (blocked(x))
        return;
    st_write(x, 1, r);
    pop(x);
}

static void h_fyl2x(Exec *x) { st1_pop(x, fpu_yl2x); }
static void h_fyl2xp1(Exec *x) { st1_pop(x, fpu_yl2xp1); }
static Float80 patan_swapped(FpuEnv *e, Float80 st0, Float80 st1) { return fpu_patan(e, st1, st0); }
static void h_fpatan(Exec *x) { st1_pop(x, patan_swapped); }

static void h_fscale(Exec *x)
{
    Float80 a, b;
    bool ok = operand(x, 0, &a);
    ok = operand(x, 1, &b) && ok;
    Float80 r = ok ? fpu_scale(&x->env, a, b) : fpu_indefinite();
    if (!blocked(x))
        st_write(x, 0, r);
}

static void h_fprem(Exec *x)
{
    Float80 a, b;
    unsigned q = FPU_REM_NO_QUOTIENT;
    bool partial = false;
    bool ok = operand(x, 0, &a);
    ok = operand(x, 1, &b) && ok;
    Float80 r = ok ? fpu_rem(&x->env, a, b, x->rm == 5, &q, &partial) : fpu_indefinite();
    x->f->sw &= (uint16_t)~FPU_C2;
    if (blocked(x))
        return;
    st_write(x, 0, r);
    if (q == FPU_REM_NO_QUOTIENT)
        return;   /* C0/C3 untouched, C1 cleared (host x87) */
    uint16_t c = partial ? FPU_C2
               : (uint16_t)(((q & 4) ? FPU_C0 : 0) | ((q & 2) ? FPU_C3 : 0));
    x->f->sw = (uint16_t)((x->f->sw & ~(FPU_C0 | FPU_C2 | FPU_C3)) | c);
    x->env.round_up = (q & 1) != 0;   /* C1 = Q0, set in finish() */
}

/* FXTRACT: a full stack is checked before the operand (host x87). */
static void h_fxtract(Exec *x)
{
    Float80 v, e, s;
    if (!st_empty(x, 7)) {
        stack_overflow(x);
        if (!masked(x, FPU_IE))
            return;
        st_write(x, 0, fpu_indefinite());
        set_top(x->f, top_of(x->f) - 1);
        st_write(x, 0, fpu_indefinite());
        return;
    }
    if (!operand(x, 0, &v)) {
        if (!masked(x, FPU_IE))
            return;
        e = s = v;
    } else {
        fpu_xtract(&x->env, v, &e, &s);
        if (blocked(x))
            return;
    }
    st_write(x, 0, e);
    push(x, s);
}

/* FSIN/FCOS/FSINCOS/FPTAN: out of range leaves ST(0) alone and sets C2. */
static void h_trig(Exec *x)
{
    Float80 v, s, c;
    bool pushes = x->rm == 2 || x->rm == 3;
    if (pushes && !st_empty(x, 7)) {
        /* FPTAN/FSINCOS check for room before looking at the operand. */
        x->f->sw &= (uint16_t)~FPU_C2;
        stack_overflow(x);
        if (!masked(x, FPU_IE))
            return;
        st_write(x, 0, fpu_indefinite());
        set_top(x->f, top_of(x->f) - 1);
        st_write(x, 0, fpu_indefinite());
        return;
    }
    if (!operand(x, 0, &v)) {
        x->f->sw &= (uint16_t)~FPU_C2;
        if (!masked(x, FPU_IE))
            return;
        st_write(x, 0, v);
        if (pushes)
            push(x, v);
        return;
    }
    bool in_range;
    if (x->rm == 2) {
        in_range = fpu_tan(&x->env, v, &s);
        Float80 one = fpu_constant(&x->env, 0);
        c = fpu_is_nan(s) ? s : one;
    } else {
        in_range = fpu_sincos(&x->env, v, &s, &c, x->rm == 7);
    }
    if (!in_range) {
        x->f->sw |= FPU_C2;
        return;
    }
    x->f->sw &= (uint16_t)~FPU_C2;
    if (blocked(x))
        return;
    switch (x->rm) {
    case 2:  /* FPTAN: ST(0) = tan, push 1.0 */
        st_write(x, 0, s);
        push(x, c);
        break;
    case 3:  /* FSINCOS: ST(0) = sin, push cos */
        st_write(x, 0, s);
        push(x, c);
        break;
    case 6:
        st_write(x, 0, s);
        break;
    default:
        st_write(x, 0, c);
        break;
    }
}

/* ------------------------------------------------------ control group */

static void h_fldcw(Exec *x) { x->f->cw = cw_sanitize(le_read(x->in, 2)); }
static void h_fnstcw(Exec *x) { le_write(x->out, x->f->cw, 2); }
static void h_fnstsw(Exec *x) { le_write(x->out, x->f->sw, 2); }

static void h_fnstsw_ax(Exec *x)
{
    x->res->write_ax = true;
    x->res->ax = x->f->sw;
}

static void h_fnclex(Exec *x) { x->f->sw &= (uint16_t)~(EXC_MASK | FPU_SF | FPU_ES | FPU_B); }
static void h_fninit(Exec *x) { fpu_reset(x->f); }

/* --------------------------------------------------------- environment */

/* Tag word as FSTENV reports it: empty stays empty, the rest recomputed
 * from the register contents (SDM vol. 1, 8.1.7). */
static uint16_t tag_word_out(const FpuState *f)
{
    uint16_t tw = 0;
    for (unsigned p = 0; p < 8; p++) {
        unsigned t = tag_get(f, p) == TAG_EMPTY ? TAG_EMPTY : tag_for(f->st[p]);
        tw = (uint16_t)(tw | t << (2 * p));
    }
    return tw;
}

/* Store the environment (SDM vol. 1, figures 8-9 to 8-12); returns its size. */
static unsigned env_store(const FpuState *f, const FpuContext *ctx, uint8_t *p)
{
    uint16_t tw = tag_word_out(f);
    if (ctx->op32) {
        memset(p, 0, 28);
        le_write(p + 0, 0xFFFF0000u | f->cw, 4);
        le_write(p + 4, 0xFFFF0000u | f->sw, 4);
        le_write(p + 8, 0xFFFF0000u | tw, 4);
        if (ctx->protected_mode) {
            le_write(p + 12, f->fip, 4);
            le_write(p + 16, f->fcs | (uint32_t)(f->fop & 0x7FF) << 16, 4);
            le_write(p + 20, f->fdp, 4);
            le_write(p + 24, 0xFFFF0000u | f->fds, 4);
        } else {
            uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
            uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
            le_write(p + 12, 0xFFFF0000u | (ip & 0xFFFF), 4);
            le_write(p + 16, (ip >> 16) << 12 | (f->fop & 0x7FF), 4);
            le_write(p + 20, 0xFFFF0000u | (dp & 0xFFFF), 4);
            le_write(p + 24, (dp >> 16) << 12, 4);
        }
        return 28;
    }
    le_write(p + 0, f->cw, 2);
    le_write(p + 2, f->sw, 2);
    le_write(p + 4, tw, 2);
    if (ctx->protected_mode) {
        le_write(p + 6, f->fip, 2);
        le_write(p + 8, f->fcs, 2);
        le_write(p + 10, f->fdp, 2);
        le_write(p + 12, f->fds, 2);
    } else {
        uint32_t ip = f->fip + ((uint32_t)f->fcs << 4);
        uint32_t dp = f->fdp + ((uint32_t)f->fds << 4);
        le_write(p + 6, ip & 0xFFFF, 2);
        le_write(p + 8, ((ip >> 16) & 0xF) << 12 | (f->fop & 0x7FF), 2);
        le_write(p + 10, dp & 0xFFFF, 2);
        le_write(p + 12, ((dp >> 16) & 0xF) << 12, 2);
    }
    return 14;
}

static void update_es(FpuState *f)
{
    if (f->sw & ~f->cw & EXC_MASK)
        f->sw |= FPU_ES | FPU_B;
    else
        f->sw &= (uint16_t)~(FPU_ES | FPU_B);
}

static unsigned env_load(FpuState *f, const FpuContext *ctx, const uint8_t *p)
{
    unsigned w = ctx->op32 ? 4 : 2;
    f->cw = cw_sanitize(le_read(p, 2));
    f->sw = (uint16_t)le_read(p + w, 2);
    f->tw = (uint16_t)le_read(p + 2 * w, 2);
    if (ctx->protected_mode) {
        f->fip = (uint32_t)le_read(p + 3 * w, w);
        f->fcs = (uint16_t)le_read(p + 4 * w, 2);
        f->fop = ctx->op32 ? (uint16_t)(le_read(p + 18, 2) & 0x7FF) : f->fop;
        f->fdp = (uint32_t)le_read(p + 5 * w, w);
        f->fds = (uint16_t)le_read(p + 6 * w, 2);
    } else {
        uint32_t hi_ip = (uint32_t)le_read(p + 4 * w, w), hi_dp = (uint32_t)le_read(p + 6 * w, w);
        f->fop = (uint16_t)(hi_ip & 0x7FF);
        f->fip = (uint32_t)le_read(p + 3 * w, 2) | ((hi_ip >> 12) & 0xFFFF) << 16;
        f->fdp = (uint32_t)le_read(p + 5 * w, 2) | ((hi_dp >> 12) & 0xFFFF) << 16;
        f->fcs = f->fds = 0;
    }
    update_es(f);
    return ctx->op32 ? 28 : 14;
}

/* The loaded tag word decides empty versus in use; the other tags are
 * derived from the register contents, as the P6 does with its abridged
 * internal tags (SDM vol. 1, 8.1.7). */
static void h_fldenv(Exec *x)
{
    env_load(x->f, x->ctx, x->in);
    x->f->tw = tag_word_out(x->f);
}

static void h_fnstenv(Exec *x)
{
    env_store(x->f, x->ctx, x->out);
    x->f->cw |= EXC_MASK;   /* FSTENV masks all exceptions afterwards */
}

static void h_frstor(Exec *x)
{
    unsigned n = env_load(x->f, x->ctx, x->in);
    for (unsigned i = 0; i < 8; i++)
        x->f->st[phys(x->f, i)] = f80_read(x->in + n + 10 * i);
    x->f->tw = tag_word_out(x->f);
}

static void h_fnsave(Exec *x)
{
    unsigned n = env_store(x->f, x->ctx, x->out);
    for (unsigned i = 0; i < 8; i++)
        f80_write(x->out + n + 10 * i, st(x, i));
    fpu_reset(x->f);
}

/* ------------------------------------------------------------- tables */

/* Memory forms: [op][reg]. */
static const Handler mem_table[8][8] = {
    /* D8 */ { h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem,
               h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem },
    /* D9 */ { h_fld_mem, NULL, h_fst_mem, h_fst_mem, h_fldenv, h_fldcw, h_fnstenv, h_fnstcw },
    /* DA */ { h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem,
               h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem },
    /* DB */ { h_fild, NULL, h_fist, h_fist, NULL, h_fld_mem, NULL, h_fst_mem },
    /* DC */ { h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem,
               h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem },
    /* DD */ { h_fld_mem, NULL, h_fst_mem, h_fst_mem, h_frstor, NULL, h_fnsave, h_fnstsw },
    /* DE */ { h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem,
               h_arith_mem, h_arith_mem, h_arith_mem, h_arith_mem },
    /* DF */ { h_fild, NULL, h_fist, h_fist, h_fbld, h_fild, h_fbstp, h_fist },
};

/* Register forms: [op][reg], rm selects ST(i); D9 /4-/7, DA /5, DB /4
 * and DE /3, DF /4 are further decoded by rm in reg_special(). */
static const Handler reg_table[8][8] = {
    /* D8 */ { h_arith_st0, h_arith_st0, h_arith_st0, h_arith_st0,
               h_arith_st0, h_arith_st0, h_arith_st0, h_arith_st0 },
    /* D9 */ { h_fld_sti, h_fxch, NULL, h_fst_sti, NULL, NULL, NULL, NULL },
    /* DA */ { h_fcmov, h_fcmov, h_fcmov, h_fcmov, NULL, NULL, NULL, NULL },
    /* DB */ { h_fcmov, h_fcmov, h_fcmov, h_fcmov, NULL, h_fcomi, h_fcomi, NULL },
    /* DC */ { h_arith_sti, h_arith_sti, h_fcom_sti, h_fcom_sti,
               h_arith_sti, h_arith_sti, h_arith_sti, h_arith_sti },
    /* DD */ { h_ffree, h_fxch, h_fst_sti, h_fst_sti, h_fucom, h_fucom, NULL, NULL },
    /* DE */ { h_arith_sti, h_arith_sti, h_fcom_sti, NULL,
               h_arith_sti, h_arith_sti, h_arith_sti, h_arith_sti },
    /* DF */ { h_ffree, h_fxch, h_fst_sti, h_fst_sti, NULL, h_fcomi, h_fcomi, NULL },
};

/* D9 E0-FF, indexed by modrm - 0xE0. */
static const Handler d9_table[32] = {
    h_fchs, h_fabs, NULL, NULL, h_ftst, h_fxam, NULL, NULL,
    h_fldconst, h_fldconst, h_fldconst, h_fldconst, h_fldconst, h_fldconst, h_fldconst, NULL,
    h_f2xm1, h_fyl2x, h_trig, h_fpatan, h_fxtract, h_fprem, h_fdecstp, h_fincstp,
    h_fprem, h_fyl2xp1, h_fsqrt, h_trig, h_frndint, h_fscale, h_trig, h_trig,
};

static Handler reg_special(unsigned op, uint8_t modrm)
{
    if (op == 1 && modrm >= 0xE0)
        return d9_table[modrm - 0xE0];
    if (op == 1 && modrm == 0xD0)
        return h_fnop;
    if (op == 1 && modrm >= 0xD8)
        return h_fst_sti;               /* FSTP1 alias */
    if (op == 2 && modrm == 0xE9)
        return h_fcompp;                /* FUCOMPP */
    if (op == 3 && (modrm == 0xE0 || modrm == 0xE1 || modrm == 0xE4))
        return h_fnop;                  /* FNENI/FNDISI/FNSETPM: no-ops on 387+ */
    if (op == 3 && modrm == 0xE2)
        return h_fnclex;
    if (op == 3 && modrm == 0xE3)
        return h_fninit;
    if (op == 6 && modrm == 0xD9)
        return h_fcompp;
    if (op == 7 && modrm == 0xE0)
        return h_fnstsw_ax;
    return NULL;
}

static Handler lookup(unsigned op, uint8_t modrm)
{
    unsigned reg = (modrm >> 3) & 7;
    if (modrm < 0xC0)
        return mem_table[op][reg];
    Handler h = reg_table[op][reg];
    if (op == 1 && reg == 3)
        h = NULL;   /* D9 D8-DF handled below */
    return h ? h : reg_special(op, modrm);
}

/* Instructions that neither wait for pending exceptions nor update FOP/FIP/FDP. */
static bool is_control(unsigned op, uint8_t modrm)
{
    unsigned reg = (modrm >> 3) & 7;
    if (modrm < 0xC0)
        return (op == 1 && reg >= 4) || (op == 5 && (reg == 4 || reg == 6 || reg == 7));
    return (op == 3 && modrm >= 0xE0 && modrm <= 0xE4) || (op == 7 && modrm == 0xE0);
}

/* Non-waiting forms: FNSTENV, FNSTCW, FNSAVE, FNSTSW, FNCLEX, FNINIT, FNENI... */
static bool is_nowait(unsigned op, uint8_t modrm)
{
    unsigned reg = (modrm >> 3) & 7;
    if (modrm < 0xC0)
        return (op == 1 && (reg == 6 || reg == 7)) || (op == 5 && (reg == 6 || reg == 7));
    return (op == 3 && modrm >= 0xE0 && modrm <= 0xE4) || (op == 7 && modrm == 0xE0);
}

/* ------------------------------------------------------------- public */

/* FNINIT: CW=037Fh, SW=0, all tags empty, pointers cleared (SDM vol. 2, FINIT). */
void fpu_reset(FpuState *fpu)
{
    fpu->cw = 0x037F;
    fpu->sw = 0;
    fpu->tw = 0xFFFF;
    fpu->fop = 0;
    fpu->fip = fpu->fdp = 0;
    fpu->fcs = fpu->fds = 0;
}

/* RESET#: SDM vol. 3A, 9.1.1 table 9-1 (P6 family and later): control word
 * 0040H (all exceptions unmasked, 24-bit precision), status word 0, tag word
 * 5555H (every register holds +0.0), pointers and opcode cleared.  INIT
 * leaves the x87 alone; the BIOS runs FNINIT before using it. */
void fpu_power_on(FpuState *fpu)
{
    memset(fpu, 0, sizeof *fpu);
    fpu->cw = 0x0040;
    fpu->tw = 0x5555;
}

void fpu_operand(unsigned op, uint8_t modrm, bool op32, FpuOperand *info)
{
    /* Memory operand sizes by [op][reg]: reads, then writes. */
    static const uint8_t reads[8][8] = {
        { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 0, 0, 0, 28, 2, 0, 0 },
        { 4, 4, 4, 4, 4, 4, 4, 4 }, { 4, 0, 0, 0, 0, 10, 0, 0 },
        { 8, 8, 8, 8, 8, 8, 8, 8 }, { 8, 0, 0, 0, 108, 0, 0, 0 },
        { 2, 2, 2, 2, 2, 2, 2, 2 }, { 2, 0, 0, 0, 10, 8, 0, 0 },
    };
    static const uint8_t writes[8][8] = {
        { 0 }, { 0, 0, 4, 4, 0, 0, 28, 2 },
        { 0 }, { 0, 0, 4, 4, 0, 0, 0, 10 },
        { 0 }, { 0, 0, 8, 8, 0, 0, 108, 2 },
        { 0 }, { 0, 0, 2, 2, 0, 0, 10, 8 },
    };
    unsigned reg = (modrm >> 3) & 7;
    memset(info, 0, sizeof *info);
    op &= 7;
    info->control = is_nowait(op, modrm);
    if (modrm >= 0xC0 || !lookup(op, modrm))
        return;
    info->read_len = reads[op][reg];
    info->write_len = writes[op][reg];
    info->env = (op == 1 || op == 5) && (reg == 4 || reg == 6);
    if (info->env && !op32) {
        /* 16-bit images: 14-byte environment, 94-byte save area. */
        if (info->read_len)
            info->read_len = (uint8_t)(info->read_len - 14);
        if (info->write_len)
            info->write_len = (uint8_t)(info->write_len - 14);
    }
}

/* After an instruction: merge its exceptions and set C1 and ES/B. */
static void h_fld_mem(Exec *x);
static void finish(Exec *x, bool arithmetic, Handler h)
{
    FpuState *f = x->f;
    if (x->env.flags & FPU_IE)
        x->env.flags &= (uint16_t)~FPU_DE;   /* an invalid operation hides DE (host x87) */
    if (blocked(x) && h != h_fld_mem) {
        /* An unmasked pre-computation exception stops the instruction before
         * any result (or post-computation exception) exists. */
        x->env.flags &= (uint16_t)~(FPU_OE | FPU_UE | FPU_PE);
        x->env.round_up = false;
    }
    f->sw |= x->env.flags & (EXC_MASK | FPU_SF);
    if (x->stack_fault)
        f->sw = (uint16_t)((f->sw & ~FPU_C1) | (x->c1_overflow ? FPU_C1 : 0));
    else if (arithmetic)
        f->sw = (uint16_t)((f->sw & ~FPU_C1) | (x->env.round_up ? FPU_C1 : 0));
    update_es(f);
}

int fpu_execute(FpuState *fpu, unsigned op, uint8_t modrm, const FpuContext *ctx,
                const uint8_t *in, uint8_t *out, FpuResult *res)
{
    op &= 7;
    Handler h = lookup(op, modrm);
    memset(res, 0, sizeof *res);
    if (!h)
        return FPU_UD;
    if (!is_nowait(op, modrm) && (fpu->sw & FPU_ES))
        return FPU_MF;
    Exec x = { fpu, ctx, in, out, res, op, (modrm >> 3) & 7u, modrm & 7u,
               { fpu->cw, 0, false }, false, false };
    bool control = is_control(op, modrm);
    if (!control) {
        fpu->fop = (uint16_t)(op << 8 | modrm);
        fpu->fip = ctx->ip;
        fpu->fcs = ctx->cs;
        if (ctx->has_mem) {
            fpu->fdp = ctx->ea;
            fpu->fds = ctx->ds;
        }
    }
    h(&x);
    /* FXAM sets C1 itself; FNOP, FCMOVcc and FCOMI leave it alone (as the
     * host x87 shows); the remaining non-control instructions clear it
     * unless rounding went up or the stack faulted (SDM vol. 1, 8.1.3.1). */
    bool sets_c1 = !control && h != h_fxam && h != h_fnop && h != h_fcmov && h != h_fcomi;
    finish(&x, sets_c1, h);
    return FPU_OK;
}

bool fpu_error_pending(const FpuState *fpu)
{
    return (fpu->sw & FPU_ES) != 0;
}
