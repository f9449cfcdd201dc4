/*
 * cpu/simd.c -- MMX, SSE and SSE2: the form table, operand fetch and
 * write-back, the exception rules, MXCSR, FXSAVE/FXRSTOR and the few
 * instructions that are not "dest op= source" (stores, EMMS, shift-by-
 * immediate groups, MASKMOVQ, fences).
 *
 * The decoder sends every SIMD opcode of the 0F map here (fam_simd); the
 * mandatory prefix (none, 66, F3, F2 -- the last F2/F3 wins and either beats
 * 66, SDM Vol. 2 2.1.2) and the opcode select one row of forms[][].
 *
 * MMX registers are the significands of the x87 physical registers R0-R7;
 * every MMX instruction but EMMS sets TOP to 0 and all tags to valid and a
 * write sets the register's sign/exponent to all ones; EMMS empties all tags
 * (SDM Vol. 1 9.5 and Table 9-3).
 */
#include "ops.h"
#include "simd_ops.h"

#define EXC_XM 19   /* SIMD floating-point exception (SDM Vol. 3A 6.15) */

void simd_reset(SimdState *s)
{
    memset(s, 0, sizeof *s);
    s->mxcsr = MXCSR_RESET;
}

/* ---- the form table ---- */
enum { P_NP, P_66, P_F3, P_F2 };

/* How the operands are fetched and the result written back. */
enum {
    K_XX,      /* xmm[reg] op= xmm[rm] / mem          -> xmm[reg] */
    K_MM,      /* mm[reg] op= mm[rm] / mem            -> mm[reg] */
    K_XM,      /* xmm[reg] op= mm[rm] / mem           -> xmm[reg] */
    K_MX,      /* mm[reg] op= xmm[rm] / mem           -> mm[reg] */
    K_XG,      /* xmm[reg] op= r32[rm] / mem          -> xmm[reg] */
    K_MG,      /* mm[reg] op= r32[rm] / mem           -> mm[reg] */
    K_GX,      /* 0 op= xmm[rm] / mem                 -> r32[reg] */
    K_GM,      /* 0 op= mm[rm] / mem                  -> r32[reg] */
    K_XF,      /* compare xmm[reg], xmm[rm] / mem     -> EFLAGS */
    K_CUSTOM,  /* the row's own handler */
};

/* Which CPUID feature the form needs and which checks precede it. */
enum {
    C_MMX,     /* MMX: CR0.EM #UD, CR0.TS #NM, pending x87 error #MF */
    C_MMXS,    /* MMX-register form added by SSE: checks as MMX */
    C_MMX2,    /* MMX-register form added by SSE2: checks as MMX */
    C_SSE,     /* CR0.EM or !CR4.OSFXSR #UD, CR0.TS #NM */
    C_SSE2,
    C_OWN,     /* the custom handler checks for itself */
};

enum {
    F_UNALIGNED = 1u << 0,  /* 16-byte memory operand may be misaligned */
    F_REGONLY = 1u << 1,
    F_MEMONLY = 1u << 2,
    F_NOTRANS = 1u << 3,    /* no x87->MMX transition afterwards (EMMS) */
};

typedef struct SimdForm SimdForm;
typedef void (*SimdCustomFn)(Cpu *c, const Insn *i, const SimdForm *f);
struct SimdForm {
    const char *name;
    SimdOpFn op;
    SimdCustomFn custom;
    uint8_t kind, cls, msize, flags;
};

static void st_x(Cpu *c, const Insn *i, const SimdForm *f);
static void st_xhi(Cpu *c, const Insn *i, const SimdForm *f);
static void st_xg(Cpu *c, const Insn *i, const SimdForm *f);
static void st_movq(Cpu *c, const Insn *i, const SimdForm *f);
static void st_m(Cpu *c, const Insn *i, const SimdForm *f);
static void st_mg(Cpu *c, const Insn *i, const SimdForm *f);
static void op_emms(Cpu *c, const Insn *i, const SimdForm *f);
static void op_shift_grp(Cpu *c, const Insn *i, const SimdForm *f);
static void op_maskmov(Cpu *c, const Insn *i, const SimdForm *f);
static void op_movnti(Cpu *c, const Insn *i, const SimdForm *f);
static void op_hint(Cpu *c, const Insn *i, const SimdForm *f);
static void op_grp15(Cpu *c, const Insn *i, const SimdForm *f);

#define R(o, p, nm, fn, k, cl, ms, fl) [o][P_##p] = { nm, simd_##fn, NULL, K_##k, C_##cl, ms, fl },
#define RC(o, p, nm, fn, cl, ms, fl) [o][P_##p] = { nm, NULL, fn, K_CUSTOM, C_##cl, ms, fl },
/* An MMX operation and its SSE2 XMM form. */
#define RMX(o, nm, fn, cl, ms) R(o, NP, nm, fn, MM, cl, ms, 0) R(o, 66, nm, fn, XX, SSE2, 16, 0)
/* A floating-point operation in its ps / pd / ss / sd forms. */
#define RFP(o, nm)                                                            \
    R(o, NP, #nm "ps", nm##ps, XX, SSE, 16, 0) R(o, 66, #nm "pd", nm##pd, XX, SSE2, 16, 0) \
    R(o, F3, #nm "ss", nm##ss, XX, SSE, 4, 0) R(o, F2, #nm "sd", nm##sd, XX, SSE2, 8, 0)

/* Intel SDM Vol. 2 Appendix A, Tables A-3 (0F map, prefix columns). */
static const SimdForm forms[256][4] = {
    R(0x10, NP, "movups", mov, XX, SSE, 16, F_UNALIGNED)
    R(0x10, 66, "movupd", mov, XX, SSE2, 16, F_UNALIGNED)
    R(0x10, F3, "movss", movss_in, XX, SSE, 4, 0)
    R(0x10, F2, "movsd", movsd_in, XX, SSE2, 8, 0)
    RC(0x11, NP, "movups", st_x, SSE, 16, F_UNALIGNED)
    RC(0x11, 66, "movupd", st_x, SSE2, 16, F_UNALIGNED)
    RC(0x11, F3, "movss", st_x, SSE, 4, 0)
    RC(0x11, F2, "movsd", st_x, SSE2, 8, 0)
    R(0x12, NP, "movlps", movlps_in, XX, SSE, 8, 0)
    R(0x12, 66, "movlpd", movlps_in, XX, SSE2, 8, F_MEMONLY)
    RC(0x13, NP, "movlps", st_x, SSE, 8, F_MEMONLY)
    RC(0x13, 66, "movlpd", st_x, SSE2, 8, F_MEMONLY)
    R(0x14, NP, "unpcklps", unpcklps, XX, SSE, 16, 0)
    R(0x14, 66, "unpcklpd", unpcklpd, XX, SSE2, 16, 0)
    R(0x15, NP, "unpckhps", unpckhps, XX, SSE, 16, 0)
    R(0x15, 66, "unpckhpd", unpckhpd, XX, SSE2, 16, 0)
    R(0x16, NP, "movhps", movhps_in, XX, SSE, 8, 0)
    R(0x16, 66, "movhpd", movhps_in, XX, SSE2, 8, F_MEMONLY)
    RC(0x17, NP, "movhps", st_xhi, SSE, 8, F_MEMONLY)
    RC(0x17, 66, "movhpd", st_xhi, SSE2, 8, F_MEMONLY)
    RC(0x18, NP, "prefetch", op_hint, OWN, 0, 0)
    R(0x28, NP, "movaps", mov, XX, SSE, 16, 0)
    R(0x28, 66, "movapd", mov, XX, SSE2, 16, 0)
    RC(0x29, NP, "movaps", st_x, SSE, 16, 0)
    RC(0x29, 66, "movapd", st_x, SSE2, 16, 0)
    R(0x2A, NP, "cvtpi2ps", cvtpi2ps, XM, SSE, 8, 0)
    R(0x2A, 66, "cvtpi2pd", cvtpi2pd, XM, SSE2, 8, 0)
    R(0x2A, F3, "cvtsi2ss", cvtsi2ss, XG, SSE, 4, 0)
    R(0x2A, F2, "cvtsi2sd", cvtsi2sd, XG, SSE2, 4, 0)
    RC(0x2B, NP, "movntps", st_x, SSE, 16, F_MEMONLY)
    RC(0x2B, 66, "movntpd", st_x, SSE2, 16, F_MEMONLY)
    R(0x2C, NP, "cvttps2pi", cvttps2pi, MX, SSE, 8, 0)
    R(0x2C, 66, "cvttpd2pi", cvttpd2pi, MX, SSE2, 16, 0)
    R(0x2C, F3, "cvttss2si", cvttss2si, GX, SSE, 4, 0)
    R(0x2C, F2, "cvttsd2si", cvttsd2si, GX, SSE2, 8, 0)
    R(0x2D, NP, "cvtps2pi", cvtps2pi, MX, SSE, 8, 0)
    R(0x2D, 66, "cvtpd2pi", cvtpd2pi, MX, SSE2, 16, 0)
    R(0x2D, F3, "cvtss2si", cvtss2si, GX, SSE, 4, 0)
    R(0x2D, F2, "cvtsd2si", cvtsd2si, GX, SSE2, 8, 0)
    R(0x2E, NP, "ucomiss", ucomiss, XF, SSE, 4, 0)
    R(0x2E, 66, "ucomisd", ucomisd, XF, SSE2, 8, 0)
    R(0x2F, NP, "comiss", comiss, XF, SSE, 4, 0)
    R(0x2F, 66, "comisd", comisd, XF, SSE2, 8, 0)
    R(0x50, NP, "movmskps", movmskps, GX, SSE, 16, F_REGONLY)
    R(0x50, 66, "movmskpd", movmskpd, GX, SSE2, 16, F_REGONLY)
    RFP(0x51, sqrt)
    R(0x52, NP, "rsqrtps", rsqrtps, XX, SSE, 16, 0)
    R(0x52, F3, "rsqrtss", rsqrtss, XX, SSE, 4, 0)
    R(0x53, NP, "rcpps", rcpps, XX, SSE, 16, 0)
    R(0x53, F3, "rcpss", rcpss, XX, SSE, 4, 0)
    R(0x54, NP, "andps", pand, XX, SSE, 16, 0)
    R(0x54, 66, "andpd", pand, XX, SSE2, 16, 0)
    R(0x55, NP, "andnps", pandn, XX, SSE, 16, 0)
    R(0x55, 66, "andnpd", pandn, XX, SSE2, 16, 0)
    R(0x56, NP, "orps", por, XX, SSE, 16, 0)
    R(0x56, 66, "orpd", por, XX, SSE2, 16, 0)
    R(0x57, NP, "xorps", pxor, XX, SSE, 16, 0)
    R(0x57, 66, "xorpd", pxor, XX, SSE2, 16, 0)
    RFP(0x58, add)
    RFP(0x59, mul)
    R(0x5A, NP, "cvtps2pd", cvtps2pd, XX, SSE2, 8, 0)
    R(0x5A, 66, "cvtpd2ps", cvtpd2ps, XX, SSE2, 16, 0)
    R(0x5A, F3, "cvtss2sd", cvtss2sd, XX, SSE2, 4, 0)
    R(0x5A, F2, "cvtsd2ss", cvtsd2ss, XX, SSE2, 8, 0)
    R(0x5B, NP, "cvtdq2ps", cvtdq2ps, XX, SSE2, 16, 0)
    R(0x5B, 66, "cvtps2dq", cvtps2dq, XX, SSE2, 16, 0)
    R(0x5B, F3, "cvttps2dq", cvttps2dq, XX, SSE2, 16, 0)
    RFP(0x5C, sub)
    RFP(0x5D, min)
    RFP(0x5E, div)
    RFP(0x5F, max)
    /* MMX punpckl* read only 32 bits of memory (SDM Vol. 2 PUNPCKLBW). */
    RMX(0x60, "punpcklbw", punpcklbw, MMX, 4)
    RMX(0x61, "punpcklwd", punpcklwd, MMX, 4)
    RMX(0x62, "punpckldq", punpckldq, MMX, 4)
    RMX(0x63, "packsswb", packsswb, MMX, 8)
    RMX(0x64, "pcmpgtb", pcmpgtb, MMX, 8)
    RMX(0x65, "pcmpgtw", pcmpgtw, MMX, 8)
    RMX(0x66, "pcmpgtd", pcmpgtd, MMX, 8)
    RMX(0x67, "packuswb", packuswb, MMX, 8)
    RMX(0x68, "punpckhbw", punpckhbw, MMX, 8)
    RMX(0x69, "punpckhwd", punpckhwd, MMX, 8)
    RMX(0x6A, "punpckhdq", punpckhdq, MMX, 8)
    RMX(0x6B, "packssdw", packssdw, MMX, 8)
    R(0x6C, 66, "punpcklqdq", punpcklqdq, XX, SSE2, 16, 0)
    R(0x6D, 66, "punpckhqdq", punpckhqdq, XX, SSE2, 16, 0)
    R(0x6E, NP, "movd", movd_in, MG, MMX, 4, 0)
    R(0x6E, 66, "movd", movd_in, XG, SSE2, 4, 0)
    R(0x6F, NP, "movq", mov, MM, MMX, 8, 0)
    R(0x6F, 66, "movdqa", mov, XX, SSE2, 16, 0)
    R(0x6F, F3, "movdqu", mov, XX, SSE2, 16, F_UNALIGNED)
    R(0x70, NP, "pshufw", pshufw, MM, MMXS, 8, 0)
    R(0x70, 66, "pshufd", pshufd, XX, SSE2, 16, 0)
    R(0x70, F3, "pshufhw", pshufhw, XX, SSE2, 16, 0)
    R(0x70, F2, "pshuflw", pshuflw, XX, SSE2, 16, 0)
    RC(0x71, NP, "(psxw)", op_shift_grp, MMX, 0, F_REGONLY)
    RC(0x71, 66, "(psxw)", op_shift_grp, SSE2, 0, F_REGONLY)
    RC(0x72, NP, "(psxd)", op_shift_grp, MMX, 0, F_REGONLY)
    RC(0x72, 66, "(psxd)", op_shift_grp, SSE2, 0, F_REGONLY)
    RC(0x73, NP, "(psxq)", op_shift_grp, MMX, 0, F_REGONLY)
    RC(0x73, 66, "(psxq)", op_shift_grp, SSE2, 0, F_REGONLY)
    RMX(0x74, "pcmpeqb", pcmpeqb, MMX, 8)
    RMX(0x75, "pcmpeqw", pcmpeqw, MMX, 8)
    RMX(0x76, "pcmpeqd", pcmpeqd, MMX, 8)
    RC(0x77, NP, "emms", op_emms, MMX, 0, F_NOTRANS)
    RC(0x7E, NP, "movd", st_mg, MMX, 4, 0)
    RC(0x7E, 66, "movd", st_xg, SSE2, 4, 0)
    R(0x7E, F3, "movq", movq_in, XX, SSE2, 8, 0)
    RC(0x7F, NP, "movq", st_m, MMX, 8, 0)
    RC(0x7F, 66, "movdqa", st_x, SSE2, 16, 0)
    RC(0x7F, F3, "movdqu", st_x, SSE2, 16, F_UNALIGNED)
    RC(0xAE, NP, "(grp15)", op_grp15, OWN, 0, 0)
    RFP(0xC2, cmp)
    RC(0xC3, NP, "movnti", op_movnti, OWN, 4, F_MEMONLY)
    R(0xC4, NP, "pinsrw", pinsrw, MG, MMXS, 2, 0)
    R(0xC4, 66, "pinsrw", pinsrw, XG, SSE2, 2, 0)
    R(0xC5, NP, "pextrw", pextrw, GM, MMXS, 8, F_REGONLY)
    R(0xC5, 66, "pextrw", pextrw, GX, SSE2, 16, F_REGONLY)
    R(0xC6, NP, "shufps", shufps, XX, SSE, 16, 0)
    R(0xC6, 66, "shufpd", shufpd, XX, SSE2, 16, 0)
    RMX(0xD1, "psrlw", psrlw, MMX, 8)
    RMX(0xD2, "psrld", psrld, MMX, 8)
    RMX(0xD3, "psrlq", psrlq, MMX, 8)
    RMX(0xD4, "paddq", paddq, MMX2, 8)
    RMX(0xD5, "pmullw", pmullw, MMX, 8)
    RC(0xD6, 66, "movq", st_movq, SSE2, 8, 0)
    R(0xD6, F3, "movq2dq", movq_in, XM, SSE2, 8, F_REGONLY)
    R(0xD6, F2, "movdq2q", mov, MX, SSE2, 8, F_REGONLY)
    R(0xD7, NP, "pmovmskb", pmovmskb, GM, MMXS, 8, F_REGONLY)
    R(0xD7, 66, "pmovmskb", pmovmskb, GX, SSE2, 16, F_REGONLY)
    RMX(0xD8, "psubusb", psubusb, MMX, 8)
    RMX(0xD9, "psubusw", psubusw, MMX, 8)
    RMX(0xDA, "pminub", pminub, MMXS, 8)
    RMX(0xDB, "pand", pand, MMX, 8)
    RMX(0xDC, "paddusb", paddusb, MMX, 8)
    RMX(0xDD, "paddusw", paddusw, MMX, 8)
    RMX(0xDE, "pmaxub", pmaxub, MMXS, 8)
    RMX(0xDF, "pandn", pandn, MMX, 8)
    RMX(0xE0, "pavgb", pavgb, MMXS, 8)
    RMX(0xE1, "psraw", psraw, MMX, 8)
    RMX(0xE2, "psrad", psrad, MMX, 8)
    RMX(0xE3, "pavgw", pavgw, MMXS, 8)
    RMX(0xE4, "pmulhuw", pmulhuw, MMXS, 8)
    RMX(0xE5, "pmulhw", pmulhw, MMX, 8)
    R(0xE6, 66, "cvttpd2dq", cvttpd2dq, XX, SSE2, 16, 0)
    R(0xE6, F3, "cvtdq2pd", cvtdq2pd, XX, SSE2, 8, 0)
    R(0xE6, F2, "cvtpd2dq", cvtpd2dq, XX, SSE2, 16, 0)
    RC(0xE7, NP, "movntq", st_m, MMXS, 8, F_MEMONLY)
    RC(0xE7, 66, "movntdq", st_x, SSE2, 16, F_MEMONLY)
    RMX(0xE8, "psubsb", psubsb, MMX, 8)
    RMX(0xE9, "psubsw", psubsw, MMX, 8)
    RMX(0xEA, "pminsw", pminsw, MMXS, 8)
    RMX(0xEB, "por", por, MMX, 8)
    RMX(0xEC, "paddsb", paddsb, MMX, 8)
    RMX(0xED, "paddsw", paddsw, MMX, 8)
    RMX(0xEE, "pmaxsw", pmaxsw, MMXS, 8)
    RMX(0xEF, "pxor", pxor, MMX, 8)
    RMX(0xF1, "psllw", psllw, MMX, 8)
    RMX(0xF2, "pslld", pslld, MMX, 8)
    RMX(0xF3, "psllq", psllq, MMX, 8)
    RMX(0xF4, "pmuludq", pmuludq, MMX2, 8)
    RMX(0xF5, "pmaddwd", pmaddwd, MMX, 8)
    RMX(0xF6, "psadbw", psadbw, MMXS, 8)
    RC(0xF7, NP, "maskmovq", op_maskmov, MMXS, 8, F_REGONLY)
    RC(0xF7, 66, "maskmovdqu", op_maskmov, SSE2, 16, F_REGONLY)
    RMX(0xF8, "psubb", psubb, MMX, 8)
    RMX(0xF9, "psubw", psubw, MMX, 8)
    RMX(0xFA, "psubd", psubd, MMX, 8)
    RMX(0xFB, "psubq", psubq, MMX2, 8)
    RMX(0xFC, "paddb", paddb, MMX, 8)
    RMX(0xFD, "paddw", paddw, MMX, 8)
    RMX(0xFE, "paddd", paddd, MMX, 8)
};

/* ---- features and checks ---- */
static bool has(const Cpu *c, uint32_t bit) { return (c->model->features & bit) != 0; }

static bool cls_present(const Cpu *c, unsigned cls)
{
    static const uint32_t need[] = {
        [C_MMX] = CPUID_MMX, [C_MMXS] = CPUID_SSE, [C_MMX2] = CPUID_SSE2,
        [C_SSE] = CPUID_SSE, [C_SSE2] = CPUID_SSE2, [C_OWN] = 0,
    };
    return !need[cls] || has(c, need[cls]);
}
static bool cls_mmx(unsigned cls) { return cls <= C_MMX2; }

static void fpu_pending_check(Cpu *c)
{
    /* A pending unmasked x87 exception is reported before an MMX
     * instruction runs (#MF with CR0.NE; FERR# is not wired, as in ops_sys.c). */
    if (fpu_error_pending(&c->fpu) && (c->cr0 & CR0_NE))
        cpu_raise(c, EXC_MF, ERR_NONE);
}

/* SDM Vol. 3A 13.1 / Vol. 2 exception tables: MMX instructions ignore
 * CR4.OSFXSR; SSE ones #UD without it; both #UD with CR0.EM, #NM with TS. */
static void check_mmx(Cpu *c)
{
    if (c->cr0 & CR0_EM)
        cpu_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, ERR_NONE);
    fpu_pending_check(c);
}
static void check_sse(Cpu *c)
{
    if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
        cpu_ud(c);
    if (c->cr0 & CR0_TS)
        cpu_raise(c, EXC_NM, ERR_NONE);
}

/* Records the flags an operation raised; an unmasked one faults with
 * nothing written.  Pre-computation exceptions (I, D, Z) that are unmasked
 * suppress the post-computation ones (SDM Vol. 1 11.5.2). */
static void fp_commit(Cpu *c, uint32_t f)
{
    if (!f)
        return;
    uint32_t masks = (c->simd.mxcsr >> 7) & 0x3F;
    if (f & ~masks) {
        if (f & 7 & ~masks)
            f &= 7;
        c->simd.mxcsr |= f;
        cpu_raise(c, (c->cr4 & CR4_OSXMMEXCPT) ? EXC_XM : EXC_UD, ERR_NONE);
    }
    c->simd.mxcsr |= f;
}

/* With UM unmasked, underflow is reported for any tiny result, exact or
 * not (SDM Vol. 1 11.5.2.5); the host run, all masked, flags it only when
 * inexact.  Tininess is found by running again with FTZ, which flushes
 * every tiny result and then reports UE (SDM Vol. 1 10.2.3.3). */
static uint32_t unmasked_underflow(Cpu *c, const SimdForm *f, const Insn *i, const Xmm *dst,
                                   const Xmm *src, unsigned n, uint32_t flags)
{
    uint32_t csr = c->simd.mxcsr;
    if ((csr & (1u << 11)) || (flags & (MXCSR_UE | (7 & ~(csr >> 7)))) || (csr & MXCSR_FTZ))
        return 0;
    Xmm tmp = *dst;
    c->simd.mxcsr = csr | MXCSR_FTZ;
    uint32_t again = f->op(c, i, &tmp, src, n);
    c->simd.mxcsr = csr;
    return again & MXCSR_UE;
}

/* ---- registers ---- */
static uint64_t mm_get(const Cpu *c, unsigned n) { return c->fpu.st[n & 7].mant; }
static void mm_set(Cpu *c, unsigned n, uint64_t v)
{
    c->fpu.st[n & 7].mant = v;
    c->fpu.st[n & 7].sign_exp = 0xFFFF;
}
static void mmx_transition(Cpu *c)
{
    c->fpu.sw &= (uint16_t)~(7u << 11);
    c->fpu.tw = 0;
}

/* ---- memory ---- */
static uint32_t simd_ea(Cpu *c, const Insn *i, unsigned bytes, bool aligned)
{
    uint32_t ea = cpu_ea(c, i);
    /* 16-byte operands of the aligned forms: #GP(0) (SDM Vol. 1 11.4.1). */
    if (aligned && bytes == 16 && ((c->seg[i->seg].base + ea) & 15))
        cpu_gp(c, 0);
    return ea;
}
static void mem_read(Cpu *c, const Insn *i, uint32_t ea, unsigned bytes, Xmm *v)
{
    v->q[0] = v->q[1] = 0;
    switch (bytes) {
    case 2: v->w[0] = mrd16(c, i->seg, ea); break;
    case 4: v->d[0] = mrd32(c, i->seg, ea); break;
    case 8: v->q[0] = mrd64(c, i->seg, ea); break;
    default:
        v->q[0] = mrd64(c, i->seg, ea);
        v->q[1] = mrd64(c, i->seg, (ea + 8) & i->amask);
        break;
    }
}
static void mem_write(Cpu *c, const Insn *i, uint32_t ea, unsigned bytes, const uint8_t *p)
{
    mem_probe_write(c, i->seg, ea, bytes);
    for (unsigned k = 0; k < bytes; k += 4) {
        uint32_t v;
        memcpy(&v, p + k, 4);
        mwr32(c, i->seg, (ea + k) & i->amask, v);
    }
}

/* ---- generic form: fetch, operate, commit ---- */
static bool kind_src_mm(unsigned k) { return k == K_MM || k == K_XM || k == K_GM; }
static bool kind_src_gpr(unsigned k) { return k == K_XG || k == K_MG; }
static bool kind_dst_mm(unsigned k) { return k == K_MM || k == K_MX || k == K_MG; }
static bool kind_dst_gpr(unsigned k) { return k == K_GX || k == K_GM; }

static void run_generic(Cpu *c, const Insn *i, const SimdForm *f)
{
    unsigned k = f->kind;
    Xmm src, dst = { .q = { 0, 0 } };
    if (i->mem) {
        uint32_t ea = simd_ea(c, i, f->msize, !(f->flags & F_UNALIGNED));
        mem_read(c, i, ea, f->msize, &src);
    } else if (kind_src_mm(k)) {
        src.q[0] = mm_get(c, i->rm);
        src.q[1] = 0;
    } else if (kind_src_gpr(k)) {
        src.q[0] = R32(c, i->rm);
        src.q[1] = 0;
    } else {
        src = c->simd.xmm[i->rm];
    }
    if (kind_dst_mm(k))
        dst.q[0] = mm_get(c, i->reg);
    else if (!kind_dst_gpr(k))
        dst = c->simd.xmm[i->reg];
    unsigned n = (kind_dst_mm(k) || k == K_GM) ? 8 : 16;
    Xmm orig = dst;
    uint32_t flags = f->op(c, i, &dst, &src, n);
    flags |= unmasked_underflow(c, f, i, &orig, &src, n, flags);
    fp_commit(c, flags);
    if (kind_dst_mm(k)) {
        mm_set(c, i->reg, dst.q[0]);
    } else if (kind_dst_gpr(k)) {
        R32(c, i->reg) = dst.d[0];
    } else if (k == K_XF) {
        cpu_flags_materialize(c);
        c->eflags = (c->eflags & ~FL_ARITH) | (dst.d[0] & (FL_ZF | FL_PF | FL_CF));
    } else {
        c->simd.xmm[i->reg] = dst;
    }
}

/* Does this form touch an MMX register (x87 -> MMX transition)? */
static bool touches_mmx(const SimdForm *f, const Insn *i)
{
    if (cls_mmx(f->cls))
        return !(f->flags & F_NOTRANS);
    return f->kind == K_MX || (f->kind == K_XM && !i->mem);
}

static unsigned prefix_index(const Cpu *c, const Insn *i)
{
    if (i->rep == 3)
        return P_F3;
    if (i->rep == 2)
        return P_F2;
    return i->o32 != c->code32 ? P_66 : P_NP;
}

/* The form for this instruction, or NULL (#UD).  An F2/F3 prefix on an
 * MMX-register instruction that has no such form is ignored, as a REP
 * prefix is on instructions it does not apply to. */
static const SimdForm *find_form(const Cpu *c, const Insn *i)
{
    const SimdForm *row = forms[i->op & 0xFF];
    unsigned p = prefix_index(c, i);
    const SimdForm *f = &row[p];
    if ((!f->name || !cls_present(c, f->cls)) && p >= P_F3 && row[P_NP].name && cls_mmx(row[P_NP].cls))
        f = &row[P_NP];
    if (!f->name || !cls_present(c, f->cls))
        return NULL;
    return f;
}

static void op_simd(Cpu *c, const Insn *i)
{
    const SimdForm *f = find_form(c, i);
    if (!f || ((f->flags & F_REGONLY) && i->mem) || ((f->flags & F_MEMONLY) && !i->mem))
        cpu_ud(c);
    bool mmx = touches_mmx(f, i);
    if (cls_mmx(f->cls))
        check_mmx(c);
    else if (f->cls != C_OWN)
        check_sse(c);
    if (mmx && !cls_mmx(f->cls))
        fpu_pending_check(c);
    if (f->kind == K_CUSTOM)
        f->custom(c, i, f);
    else
        run_generic(c, i, f);
    if (mmx)
        mmx_transition(c);
}
FAM1(simd, op_simd);

/* ---- stores and other custom forms ---- */
/* xmm[reg] -> xmm[rm] or memory: the low msize bytes (a register
 * destination keeps the rest, as MOVSS/MOVSD between registers do). */
static void st_x(Cpu *c, const Insn *i, const SimdForm *f)
{
    const Xmm v = c->simd.xmm[i->reg];
    if (i->mem)
        mem_write(c, i, simd_ea(c, i, f->msize, !(f->flags & F_UNALIGNED)), f->msize, v.b);
    else
        memcpy(&c->simd.xmm[i->rm], &v, f->msize);
}
/* MOVHPS/MOVHPD m64, xmm: the high quadword. */
static void st_xhi(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    mem_write(c, i, cpu_ea(c, i), 8, c->simd.xmm[i->reg].b + 8);
}
/* MOVD r/m32, xmm. */
static void st_xg(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    uint32_t v = c->simd.xmm[i->reg].d[0];
    if (i->mem)
        mwr32(c, i->seg, cpu_ea(c, i), v);
    else
        R32(c, i->rm) = v;
}
/* MOVQ xmm/m64, xmm (66 0F D6): a register destination is zero-extended. */
static void st_movq(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    uint64_t v = c->simd.xmm[i->reg].q[0];
    if (i->mem) {
        mwr64(c, i->seg, cpu_ea(c, i), v);
    } else {
        c->simd.xmm[i->rm].q[0] = v;
        c->simd.xmm[i->rm].q[1] = 0;
    }
}
/* MOVQ mm/m64, mm and MOVNTQ. */
static void st_m(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    uint64_t v = mm_get(c, i->reg);
    if (i->mem)
        mwr64(c, i->seg, cpu_ea(c, i), v);
    else
        mm_set(c, i->rm, v);
}
/* MOVD r/m32, mm. */
static void st_mg(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    uint32_t v = (uint32_t)mm_get(c, i->reg);
    if (i->mem)
        mwr32(c, i->seg, cpu_ea(c, i), v);
    else
        R32(c, i->rm) = v;
}
static void op_emms(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)i, (void)f;
    c->fpu.sw &= (uint16_t)~(7u << 11);
    c->fpu.tw = 0xFFFF;
}

/* 0F 71/72/73 /r ib: shift mm/xmm[rm] by an immediate count. */
static void op_shift_grp(Cpu *c, const Insn *i, const SimdForm *f)
{
    static const SimdOpFn grp[3][8] = {
        { [2] = simd_psrlw, [4] = simd_psraw, [6] = simd_psllw },
        { [2] = simd_psrld, [4] = simd_psrad, [6] = simd_pslld },
        { [2] = simd_psrlq, [3] = simd_psrldq, [6] = simd_psllq, [7] = simd_pslldq },
    };
    bool xmm = f->cls == C_SSE2;
    SimdOpFn op = grp[(i->op & 0xFF) - 0x71][i->reg];
    if (!op || (!xmm && (op == simd_psrldq || op == simd_pslldq)))
        cpu_ud(c);
    Xmm cnt = { .q = { i->imm & 0xFF, 0 } };
    if (xmm) {
        op(c, i, &c->simd.xmm[i->rm], &cnt, 16);
    } else {
        Xmm v = { .q = { mm_get(c, i->rm), 0 } };
        op(c, i, &v, &cnt, 8);
        mm_set(c, i->rm, v.q[0]);
    }
}

/* MASKMOVQ / MASKMOVDQU: bytes of reg whose mask byte (rm) has bit 7 set
 * go to DS:[E]DI (segment overridable). */
static void op_maskmov(Cpu *c, const Insn *i, const SimdForm *f)
{
    Xmm data, mask;
    if (f->msize == 8) {
        data.q[0] = mm_get(c, i->reg);
        mask.q[0] = mm_get(c, i->rm);
    } else {
        data = c->simd.xmm[i->reg];
        mask = c->simd.xmm[i->rm];
    }
    uint32_t base = R32(c, REG_DI) & i->amask;
    bool any = false;
    for (unsigned k = 0; k < f->msize; k++)
        any |= (mask.b[k] & 0x80) != 0;
    if (!any)
        return;
    mem_probe_write(c, i->seg, base, f->msize);
    for (unsigned k = 0; k < f->msize; k++)
        if (mask.b[k] & 0x80)
            mwr8(c, i->seg, (base + k) & i->amask, data.b[k]);
}

/* MOVNTI m32, r32: an integer store (no SIMD state checks). */
static void op_movnti(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    if (!has(c, CPUID_SSE2))
        cpu_ud(c);
    mwr32(c, i->seg, cpu_ea(c, i), R32(c, i->reg));
}

/* 0F 18: PREFETCHh hints; nothing to do without caches (reserved
 * encodings are NOPs too, SDM Vol. 2 PREFETCHh). */
static void op_hint(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)i, (void)f;
    if (c->model->isa < ISA_P6)   /* the 0F 18-1F hint space is P6 and later */
        cpu_ud(c);
}

/* ---- MXCSR, FXSAVE / FXRSTOR ---- */
/* MXCSR_MASK: DAZ exists on the SSE2 models only (early SSE parts lack it,
 * SDM Vol. 1 11.6.6). */
static uint32_t mxcsr_mask(const Cpu *c) { return has(c, CPUID_SSE2) ? 0xFFFF : 0xFFBF; }

static void ldmxcsr(Cpu *c, uint32_t v)
{
    if (v & ~mxcsr_mask(c))
        cpu_gp(c, 0);
    c->simd.mxcsr = v;
}

/* Tag of a non-empty x87 register from its contents: 00 valid, 01 zero,
 * 10 special (SDM Vol. 1 10.5.1.1, FXRSTOR's abridged tag expansion). */
static unsigned tag_of(const Float80 *r)
{
    unsigned exp = r->sign_exp & 0x7FFF;
    if (exp == 0)
        return r->mant == 0 ? 1 : 2;
    if (exp == 0x7FFF || !(r->mant >> 63))
        return 2;
    return 0;
}

/* FXSAVE image, 32-bit legacy layout (SDM Vol. 2 FXSAVE Table 3-53). */
static void fxsave_image(const Cpu *c, uint8_t img[288])
{
    const FpuState *x = &c->fpu;
    memset(img, 0, 288);
    uint8_t ftw = 0;
    for (unsigned k = 0; k < 8; k++)
        if (((x->tw >> (2 * k)) & 3) != 3)
            ftw |= (uint8_t)(1u << k);
    uint32_t mask = mxcsr_mask(c);
    memcpy(img + 0, &x->cw, 2);
    memcpy(img + 2, &x->sw, 2);
    img[4] = ftw;
    uint16_t fop = x->fop & 0x7FF;
    memcpy(img + 6, &fop, 2);
    memcpy(img + 8, &x->fip, 4);
    memcpy(img + 12, &x->fcs, 2);
    memcpy(img + 16, &x->fdp, 4);
    memcpy(img + 20, &x->fds, 2);
    memcpy(img + 24, &c->simd.mxcsr, 4);
    memcpy(img + 28, &mask, 4);
    unsigned top = (x->sw >> 11) & 7;
    for (unsigned k = 0; k < 8; k++) {   /* ST(k), in stack order */
        const Float80 *r = &x->st[(top + k) & 7];
        memcpy(img + 32 + 16 * k, &r->mant, 8);
        memcpy(img + 40 + 16 * k, &r->sign_exp, 2);
    }
    memcpy(img + 160, c->simd.xmm, 128);
}

static void fxrstor_image(Cpu *c, const uint8_t img[288])
{
    uint32_t mxcsr;
    memcpy(&mxcsr, img + 24, 4);
    if (mxcsr & ~mxcsr_mask(c))
        cpu_gp(c, 0);
    FpuState *x = &c->fpu;
    uint16_t cw, fop;
    memcpy(&cw, img + 0, 2);
    x->cw = (uint16_t)((cw & 0x1F3F) | 0x40);  /* as FLDCW (cpu/fpu.c) */
    memcpy(&x->sw, img + 2, 2);
    memcpy(&fop, img + 6, 2);
    x->fop = fop & 0x7FF;
    memcpy(&x->fip, img + 8, 4);
    memcpy(&x->fcs, img + 12, 2);
    memcpy(&x->fdp, img + 16, 4);
    memcpy(&x->fds, img + 20, 2);
    unsigned top = (x->sw >> 11) & 7;
    for (unsigned k = 0; k < 8; k++) {
        Float80 *r = &x->st[(top + k) & 7];
        memcpy(&r->mant, img + 32 + 16 * k, 8);
        memcpy(&r->sign_exp, img + 40 + 16 * k, 2);
    }
    uint16_t tw = 0;
    for (unsigned k = 0; k < 8; k++)
        tw |= (uint16_t)(((img[4] >> k) & 1 ? tag_of(&x->st[k]) : 3u) << (2 * k));
    x->tw = tw;
    c->simd.mxcsr = mxcsr;
    memcpy(c->simd.xmm, img + 160, 128);
}

static void fxsave(Cpu *c, const Insn *i)
{
    uint32_t ea = simd_ea(c, i, 16, true);
    uint8_t img[288];
    fxsave_image(c, img);
    mem_probe_write(c, i->seg, ea, 512);
    for (unsigned k = 0; k < 288; k += 4) {
        uint32_t v;
        memcpy(&v, img + k, 4);
        mwr32(c, i->seg, (ea + k) & i->amask, v);
    }
}

static void fxrstor(Cpu *c, const Insn *i)
{
    uint32_t ea = simd_ea(c, i, 16, true);
    uint8_t img[288];
    mem_probe_read(c, i->seg, ea, 512);
    for (unsigned k = 0; k < 288; k += 4) {
        uint32_t v = mrd32(c, i->seg, (ea + k) & i->amask);
        memcpy(img + k, &v, 4);
    }
    fxrstor_image(c, img);
}

/* 0F AE: FXSAVE FXRSTOR LDMXCSR STMXCSR (memory); LFENCE MFENCE SFENCE
 * (register); CLFLUSH (/7 memory).  Fences and CLFLUSH have nothing to
 * order or write back in an interpreter with coherent memory. */
static void op_grp15(Cpu *c, const Insn *i, const SimdForm *f)
{
    (void)f;
    switch (i->reg | (i->mem ? 8 : 0)) {
    case 8: case 9:          /* FXSAVE / FXRSTOR: #NM with EM or TS */
        if (!has(c, CPUID_FXSR))
            cpu_ud(c);
        if (c->cr0 & (CR0_EM | CR0_TS))
            cpu_raise(c, EXC_NM, ERR_NONE);
        if (i->reg == 0)
            fxsave(c, i);
        else
            fxrstor(c, i);
        return;
    case 10: case 11:        /* LDMXCSR / STMXCSR */
        if (!has(c, CPUID_SSE))
            cpu_ud(c);
        check_sse(c);
        if (i->reg == 2)
            ldmxcsr(c, mrd32(c, i->seg, cpu_ea(c, i)));
        else
            mwr32(c, i->seg, cpu_ea(c, i), c->simd.mxcsr);
        return;
    case 5: case 6:          /* LFENCE / MFENCE */
        if (!has(c, CPUID_SSE2))
            cpu_ud(c);
        return;
    case 7:                  /* SFENCE */
        if (!has(c, CPUID_SSE))
            cpu_ud(c);
        return;
    case 15:                 /* CLFLUSH: faults as a byte read would */
        if (!has(c, CPUID_CLFSH))
            cpu_ud(c);
        mem_probe_read(c, i->seg, cpu_ea(c, i), 1);
        return;
    default:
        cpu_ud(c);
    }
}
