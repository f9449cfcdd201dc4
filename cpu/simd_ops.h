/*
 * cpu/simd_ops.h -- the operation functions behind the SIMD form table
 * (private to cpu/simd*.c).
 *
 * Every operation has one shape: it updates the destination value *d from
 * the source value *s (both already fetched by simd.c into 16-byte
 * buffers), n is the operand width in bytes (8 for MMX registers, 16 for
 * XMM), and it returns the SIMD floating-point exception flags it raised
 * (MXCSR bits 0-5; always 0 for integer operations).  simd.c commits *d
 * only if no unmasked exception was raised, so a faulting instruction
 * changes nothing (SDM Vol. 1 11.5.1).
 */
#ifndef VSX_CPU_SIMD_OPS_H
#define VSX_CPU_SIMD_OPS_H

#include "cpu_internal.h"
#include "simd.h"

typedef uint32_t (*SimdOpFn)(Cpu *c, const Insn *i, Xmm *d, const Xmm *s, unsigned n);

#define SIMD_OP(name) uint32_t name(Cpu *c, const Insn *i, Xmm *d, const Xmm *s, unsigned n)

/* ---- integer (simd_int.c) ---- */
#define SIMD_INT_OPS(X)                                                       \
    X(paddb) X(paddw) X(paddd) X(paddq) X(psubb) X(psubw) X(psubd) X(psubq)   \
    X(paddsb) X(paddsw) X(paddusb) X(paddusw) X(psubsb) X(psubsw)             \
    X(psubusb) X(psubusw) X(pmullw) X(pmulhw) X(pmulhuw) X(pmaddwd)           \
    X(pmuludq) X(pand) X(pandn) X(por) X(pxor) X(pcmpeqb) X(pcmpeqw)          \
    X(pcmpeqd) X(pcmpgtb) X(pcmpgtw) X(pcmpgtd) X(packsswb) X(packssdw)       \
    X(packuswb) X(punpcklbw) X(punpcklwd) X(punpckldq) X(punpcklqdq)          \
    X(punpckhbw) X(punpckhwd) X(punpckhdq) X(punpckhqdq) X(psrlw) X(psrld)    \
    X(psrlq) X(psraw) X(psrad) X(psllw) X(pslld) X(psllq) X(psrldq)           \
    X(pslldq) X(pavgb) X(pavgw) X(pminub) X(pmaxub) X(pminsw) X(pmaxsw)       \
    X(psadbw) X(pshufw) X(pshufd) X(pshufhw) X(pshuflw) X(pmovmskb)           \
    X(pextrw) X(pinsrw) X(movmskps) X(movmskpd) X(shufps) X(shufpd)           \
    X(unpcklps) X(unpckhps) X(unpcklpd) X(unpckhpd) X(mov) X(movd_in)        \
    X(movq_in) X(movss_in) X(movsd_in) X(movlps_in) X(movhps_in)
#define SIMD_DECL(name) SIMD_OP(simd_##name);
SIMD_INT_OPS(SIMD_DECL)

/* ---- floating point on the host's SSE unit (simd_fp.c) ---- */
#define SIMD_FP_OPS(X)                                                        \
    X(addps) X(addss) X(addpd) X(addsd) X(subps) X(subss) X(subpd) X(subsd)   \
    X(mulps) X(mulss) X(mulpd) X(mulsd) X(divps) X(divss) X(divpd) X(divsd)   \
    X(minps) X(minss) X(minpd) X(minsd) X(maxps) X(maxss) X(maxpd) X(maxsd)   \
    X(sqrtps) X(sqrtss) X(sqrtpd) X(sqrtsd) X(rcpps) X(rcpss) X(rsqrtps)      \
    X(rsqrtss) X(cmpps) X(cmpss) X(cmppd) X(cmpsd) X(comiss) X(ucomiss)       \
    X(comisd) X(ucomisd) X(cvtps2pd) X(cvtpd2ps) X(cvtss2sd) X(cvtsd2ss)      \
    X(cvtdq2ps) X(cvtps2dq) X(cvttps2dq) X(cvtdq2pd) X(cvtpd2dq)              \
    X(cvttpd2dq) X(cvtsi2ss) X(cvtsi2sd) X(cvtss2si) X(cvttss2si)             \
    X(cvtsd2si) X(cvttsd2si) X(cvtpi2ps) X(cvtpi2pd) X(cvtps2pi)              \
    X(cvttps2pi) X(cvtpd2pi) X(cvttpd2pi)
SIMD_FP_OPS(SIMD_DECL)
#undef SIMD_DECL

#endif
