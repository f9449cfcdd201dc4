/*
 * cpu/simd_fp.c -- SSE/SSE2 floating-point operations, executed on the
 * host's own SSE unit.
 *
 * Why this is exact: the host is x86-64, whose SSE/SSE2 instructions are the
 * very instructions being emulated, specified bit-for-bit by IEEE 754 plus
 * the SDM's SSE rules (which NaN is returned, MIN/MAX operand order, the
 * integer indefinite 80000000h, DAZ/FTZ, the flag rules).  Each operation
 * loads the host MXCSR with the guest's rounding control, FTZ and DAZ and
 * every exception masked, runs the one instruction, reads back the six
 * sticky flags and restores the host MXCSR.  With all exceptions masked the
 * host produces the masked response, which is the guest's result when its
 * exceptions are masked too; when the guest unmasks one, simd.c discards
 * the result and raises #XM from the flags.  Everything happens inside one
 * asm statement so the compiler cannot move its own SSE code in between.
 * (RCPPS/RSQRTPS are approximations whose low bits differ between CPU
 * generations; the guest sees the host's.)
 */
#include "simd_ops.h"

#if !defined(__x86_64__) && !defined(__i386__)
#error "cpu/simd_fp.c executes SSE on the host: x86 hosts only"
#endif

static uint32_t host_csr(const Cpu *c)
{
    return (c->simd.mxcsr & (MXCSR_RC | MXCSR_FTZ | MXCSR_DAZ)) | MXCSR_MASKS;
}

/* xmm0 = dest, xmm1 = source; `text` names the instruction (and imm). */
#define HOST_FN(fn, text)                                                     \
    static uint32_t fn(const Cpu *c, Xmm *d, const Xmm *s)                    \
    {                                                                         \
        uint32_t csr = host_csr(c), save = 0, out = 0;                        \
        __asm__ volatile("stmxcsr %[save]\n\t"                                \
                         "ldmxcsr %[csr]\n\t"                                 \
                         "movdqu %[d], %%xmm0\n\t"                            \
                         "movdqu %[s], %%xmm1\n\t"                            \
                         text " %%xmm1, %%xmm0\n\t"                           \
                         "movdqu %%xmm0, %[d]\n\t"                            \
                         "stmxcsr %[out]\n\t"                                 \
                         "ldmxcsr %[save]"                                    \
                         : [d] "+m"(*d), [save] "+m"(save), [out] "+m"(out)   \
                         : [s] "m"(*s), [csr] "m"(csr)                        \
                         : "xmm0", "xmm1");                                   \
        return out & 0x3F;                                                    \
    }

#define HOST_OP(name, text)                                                   \
    HOST_FN(host_##name, text)                                                \
    SIMD_OP(simd_##name)                                                      \
    {                                                                         \
        (void)i, (void)n;                                                     \
        return host_##name(c, d, s);                                          \
    }

HOST_OP(addps, "addps") HOST_OP(addss, "addss") HOST_OP(addpd, "addpd") HOST_OP(addsd, "addsd")
HOST_OP(subps, "subps") HOST_OP(subss, "subss") HOST_OP(subpd, "subpd") HOST_OP(subsd, "subsd")
HOST_OP(mulps, "mulps") HOST_OP(mulss, "mulss") HOST_OP(mulpd, "mulpd") HOST_OP(mulsd, "mulsd")
HOST_OP(divps, "divps") HOST_OP(divss, "divss") HOST_OP(divpd, "divpd") HOST_OP(divsd, "divsd")
HOST_OP(minps, "minps") HOST_OP(minss, "minss") HOST_OP(minpd, "minpd") HOST_OP(minsd, "minsd")
HOST_OP(maxps, "maxps") HOST_OP(maxss, "maxss") HOST_OP(maxpd, "maxpd") HOST_OP(maxsd, "maxsd")
HOST_OP(sqrtps, "sqrtps") HOST_OP(sqrtss, "sqrtss") HOST_OP(sqrtpd, "sqrtpd") HOST_OP(sqrtsd, "sqrtsd")
HOST_OP(rcpps, "rcpps") HOST_OP(rcpss, "rcpss") HOST_OP(rsqrtps, "rsqrtps") HOST_OP(rsqrtss, "rsqrtss")
HOST_OP(cvtps2pd, "cvtps2pd") HOST_OP(cvtpd2ps, "cvtpd2ps")
HOST_OP(cvtss2sd, "cvtss2sd") HOST_OP(cvtsd2ss, "cvtsd2ss")
HOST_OP(cvtdq2ps, "cvtdq2ps") HOST_OP(cvtps2dq, "cvtps2dq") HOST_OP(cvttps2dq, "cvttps2dq")
HOST_OP(cvtdq2pd, "cvtdq2pd") HOST_OP(cvtpd2dq, "cvtpd2dq") HOST_OP(cvttpd2dq, "cvttpd2dq")

/* CMPccPS/SS/PD/SD: legacy SSE uses imm8 bits 2:0 only (SDM Vol. 2 CMPPS);
 * the predicate must be an assembler immediate, hence one helper each. */
typedef uint32_t (*HostFn)(const Cpu *c, Xmm *d, const Xmm *s);
#define HOST_CMP(mn)                                                          \
    HOST_FN(host_##mn##_0, #mn " $0,") HOST_FN(host_##mn##_1, #mn " $1,")     \
    HOST_FN(host_##mn##_2, #mn " $2,") HOST_FN(host_##mn##_3, #mn " $3,")     \
    HOST_FN(host_##mn##_4, #mn " $4,") HOST_FN(host_##mn##_5, #mn " $5,")     \
    HOST_FN(host_##mn##_6, #mn " $6,") HOST_FN(host_##mn##_7, #mn " $7,")     \
    static const HostFn host_##mn[8] = {                                      \
        host_##mn##_0, host_##mn##_1, host_##mn##_2, host_##mn##_3,           \
        host_##mn##_4, host_##mn##_5, host_##mn##_6, host_##mn##_7,           \
    };                                                                        \
    SIMD_OP(simd_##mn)                                                        \
    {                                                                         \
        (void)n;                                                              \
        return host_##mn[i->imm & 7](c, d, s);                                \
    }
HOST_CMP(cmpps)
HOST_CMP(cmpss)
HOST_CMP(cmppd)
HOST_CMP(cmpsd)

/* COMISS/UCOMISS/COMISD/UCOMISD: the result is EFLAGS ZF/PF/CF, returned
 * in d->d[0] (simd.c writes EFLAGS and clears OF/SF/AF). */
#define HOST_COMI(mn)                                                         \
    SIMD_OP(simd_##mn)                                                        \
    {                                                                         \
        (void)i, (void)n;                                                     \
        uint32_t csr = host_csr(c), save = 0, out = 0;                        \
        uint8_t z = 0, p = 0, cy = 0;                                         \
        __asm__ volatile("stmxcsr %[save]\n\t"                                \
                         "ldmxcsr %[csr]\n\t"                                 \
                         "movdqu %[d], %%xmm0\n\t"                            \
                         "movdqu %[s], %%xmm1\n\t"                            \
                         #mn " %%xmm1, %%xmm0\n\t"                            \
                         "setz %[z]\n\t"                                      \
                         "setp %[p]\n\t"                                      \
                         "setc %[cy]\n\t"                                     \
                         "stmxcsr %[out]\n\t"                                 \
                         "ldmxcsr %[save]"                                    \
                         : [save] "+m"(save), [out] "+m"(out), [z] "=m"(z),   \
                           [p] "=m"(p), [cy] "=m"(cy)                         \
                         : [d] "m"(*d), [s] "m"(*s), [csr] "m"(csr)           \
                         : "xmm0", "xmm1", "cc");                             \
        d->d[0] = (uint32_t)z << 6 | (uint32_t)p << 2 | cy;                   \
        return out & 0x3F;                                                    \
    }
HOST_COMI(comiss)
HOST_COMI(ucomiss)
HOST_COMI(comisd)
HOST_COMI(ucomisd)

/* int32 -> low lane of xmm0 (CVTSI2SS/SD): the source is s->d[0]. */
#define HOST_FROM_INT(fn, mn)                                                 \
    static uint32_t fn(const Cpu *c, Xmm *d, int32_t v)                       \
    {                                                                         \
        uint32_t csr = host_csr(c), save = 0, out = 0;                        \
        __asm__ volatile("stmxcsr %[save]\n\t"                                \
                         "ldmxcsr %[csr]\n\t"                                 \
                         "movdqu %[d], %%xmm0\n\t"                            \
                         #mn " %[v], %%xmm0\n\t"                              \
                         "movdqu %%xmm0, %[d]\n\t"                            \
                         "stmxcsr %[out]\n\t"                                 \
                         "ldmxcsr %[save]"                                    \
                         : [d] "+m"(*d), [save] "+m"(save), [out] "+m"(out)   \
                         : [v] "m"(v), [csr] "m"(csr)                         \
                         : "xmm0");                                           \
        return out & 0x3F;                                                    \
    }
HOST_FROM_INT(host_cvtsi2ss, cvtsi2ssl)
HOST_FROM_INT(host_cvtsi2sd, cvtsi2sdl)

/* low lane of xmm1 -> int32 (CVT(T)SS2SI, CVT(T)SD2SI). */
#define HOST_TO_INT(fn, mn)                                                   \
    static uint32_t fn(const Cpu *c, const Xmm *s, uint32_t *res)             \
    {                                                                         \
        uint32_t csr = host_csr(c), save = 0, out = 0, v = 0;                 \
        __asm__ volatile("stmxcsr %[save]\n\t"                                \
                         "ldmxcsr %[csr]\n\t"                                 \
                         "movdqu %[s], %%xmm1\n\t"                            \
                         #mn " %%xmm1, %%eax\n\t"                             \
                         "movl %%eax, %[v]\n\t"                               \
                         "stmxcsr %[out]\n\t"                                 \
                         "ldmxcsr %[save]"                                    \
                         : [save] "+m"(save), [out] "+m"(out), [v] "+m"(v)    \
                         : [s] "m"(*s), [csr] "m"(csr)                        \
                         : "xmm1", "eax");                                    \
        *res = v;                                                             \
        return out & 0x3F;                                                    \
    }
HOST_TO_INT(host_cvtss2si, cvtss2si)
HOST_TO_INT(host_cvttss2si, cvttss2si)
HOST_TO_INT(host_cvtsd2si, cvtsd2si)
HOST_TO_INT(host_cvttsd2si, cvttsd2si)

SIMD_OP(simd_cvtsi2ss) { (void)i, (void)n; return host_cvtsi2ss(c, d, s->sd[0]); }
SIMD_OP(simd_cvtsi2sd) { (void)i, (void)n; return host_cvtsi2sd(c, d, s->sd[0]); }

/* Scalar to general register: d starts zeroed, the result is d->d[0]. */
#define TO_INT_OP(name)                                                       \
    SIMD_OP(simd_##name)                                                      \
    {                                                                         \
        (void)i, (void)n;                                                     \
        return host_##name(c, s, &d->d[0]);                                   \
    }
TO_INT_OP(cvtss2si)
TO_INT_OP(cvttss2si)
TO_INT_OP(cvtsd2si)
TO_INT_OP(cvttsd2si)

/* The MMX-register forms are two scalar conversions: the same rounding and
 * flags as the packed instruction, without touching the host's x87/MMX. */
SIMD_OP(simd_cvtpi2ps)
{
    (void)i, (void)n;
    Xmm t = { .q = { 0, 0 } };
    uint32_t f = host_cvtsi2ss(c, d, s->sd[0]);
    f |= host_cvtsi2ss(c, &t, s->sd[1]);
    d->d[1] = t.d[0];
    return f;
}
SIMD_OP(simd_cvtpi2pd)
{
    (void)i, (void)n;
    Xmm lo = { .q = { 0, 0 } }, hi = { .q = { 0, 0 } };
    uint32_t f = host_cvtsi2sd(c, &lo, s->sd[0]) | host_cvtsi2sd(c, &hi, s->sd[1]);
    d->q[0] = lo.q[0];
    d->q[1] = hi.q[0];
    return f;
}
#define TO_PI(name, scalar, lanebytes)                                        \
    SIMD_OP(simd_##name)                                                      \
    {                                                                         \
        (void)i, (void)n;                                                     \
        Xmm hi = { .q = { 0, 0 } };                                           \
        memcpy(&hi, &s->b[lanebytes], lanebytes);                             \
        uint32_t lo_v, hi_v;                                                  \
        uint32_t f = host_##scalar(c, s, &lo_v) | host_##scalar(c, &hi, &hi_v); \
        d->d[0] = lo_v;                                                       \
        d->d[1] = hi_v;                                                       \
        return f;                                                             \
    }
TO_PI(cvtps2pi, cvtss2si, 4)
TO_PI(cvttps2pi, cvttss2si, 4)
TO_PI(cvtpd2pi, cvtsd2si, 8)
TO_PI(cvttpd2pi, cvttsd2si, 8)
