/*
 * cpu/simd_int.c -- the integer and data-movement SIMD operations, in plain
 * C.  Each works on n bytes (8 for an MMX register, 16 for an XMM register),
 * so one function serves the MMX form and its SSE2 66-prefixed form.
 * Semantics: Intel SDM Vol. 2, the instruction pages of each mnemonic.
 */
#include "simd_ops.h"

#define UNUSED_ARGS (void)c, (void)i, (void)n

static int sat(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Element-wise operation over lanes of a given type; a and b are the
 * destination and source lanes. */
#define LANES(name, field, type, expr)                                        \
    SIMD_OP(simd_##name)                                                      \
    {                                                                         \
        (void)c, (void)i;                                                     \
        for (unsigned k = 0; k < n / sizeof(type); k++) {                     \
            type a = d->field[k], b = s->field[k];                            \
            d->field[k] = (type)(expr);                                       \
        }                                                                     \
        return 0;                                                             \
    }

LANES(paddb, b, uint8_t, a + b)
LANES(paddw, w, uint16_t, a + b)
LANES(paddd, d, uint32_t, a + b)
LANES(paddq, q, uint64_t, a + b)
LANES(psubb, b, uint8_t, a - b)
LANES(psubw, w, uint16_t, a - b)
LANES(psubd, d, uint32_t, a - b)
LANES(psubq, q, uint64_t, a - b)
LANES(paddsb, sb, int8_t, sat(a + b, -128, 127))
LANES(paddsw, sw, int16_t, sat(a + b, -32768, 32767))
LANES(paddusb, b, uint8_t, sat(a + b, 0, 255))
LANES(paddusw, w, uint16_t, sat(a + b, 0, 65535))
LANES(psubsb, sb, int8_t, sat(a - b, -128, 127))
LANES(psubsw, sw, int16_t, sat(a - b, -32768, 32767))
LANES(psubusb, b, uint8_t, sat(a - b, 0, 255))
LANES(psubusw, w, uint16_t, sat(a - b, 0, 65535))
LANES(pmullw, w, uint16_t, (uint32_t)a * b)
LANES(pmulhw, sw, int16_t, ((int32_t)a * b) >> 16)
LANES(pmulhuw, w, uint16_t, ((uint32_t)a * b) >> 16)
LANES(pand, q, uint64_t, a & b)
LANES(pandn, q, uint64_t, ~a & b)
LANES(por, q, uint64_t, a | b)
LANES(pxor, q, uint64_t, a ^ b)
LANES(pcmpeqb, b, uint8_t, a == b ? 0xFF : 0)
LANES(pcmpeqw, w, uint16_t, a == b ? 0xFFFF : 0)
LANES(pcmpeqd, d, uint32_t, a == b ? 0xFFFFFFFFu : 0)
LANES(pcmpgtb, sb, int8_t, a > b ? -1 : 0)
LANES(pcmpgtw, sw, int16_t, a > b ? -1 : 0)
LANES(pcmpgtd, sd, int32_t, a > b ? -1 : 0)
LANES(pavgb, b, uint8_t, ((unsigned)a + b + 1) >> 1)
LANES(pavgw, w, uint16_t, ((unsigned)a + b + 1) >> 1)
LANES(pminub, b, uint8_t, a < b ? a : b)
LANES(pmaxub, b, uint8_t, a > b ? a : b)
LANES(pminsw, sw, int16_t, a < b ? a : b)
LANES(pmaxsw, sw, int16_t, a > b ? a : b)

/* PMADDWD: pairs of signed word products summed into dwords.  The one
 * overflow case (all four words 8000h) wraps to 80000000h. */
SIMD_OP(simd_pmaddwd)
{
    UNUSED_ARGS;
    for (unsigned k = 0; k < n / 4; k++) {
        int64_t v = (int64_t)d->sw[2 * k] * s->sw[2 * k] + (int64_t)d->sw[2 * k + 1] * s->sw[2 * k + 1];
        d->d[k] = (uint32_t)v;
    }
    return 0;
}

/* PMULUDQ: the even dwords multiplied into full quadwords. */
SIMD_OP(simd_pmuludq)
{
    UNUSED_ARGS;
    for (unsigned k = 0; k < n / 8; k++)
        d->q[k] = (uint64_t)d->d[2 * k] * s->d[2 * k];
    return 0;
}

/* PSADBW: per quadword, the sum of absolute byte differences in the low
 * word, the rest of the quadword zero. */
SIMD_OP(simd_psadbw)
{
    UNUSED_ARGS;
    for (unsigned k = 0; k < n / 8; k++) {
        unsigned sum = 0;
        for (unsigned j = 0; j < 8; j++) {
            int diff = d->b[8 * k + j] - s->b[8 * k + j];
            sum += (unsigned)(diff < 0 ? -diff : diff);
        }
        d->q[k] = sum;
    }
    return 0;
}

/* ---- packs: the destination's elements narrow into the low half, the
 * source's into the high half ---- */
SIMD_OP(simd_packsswb)
{
    UNUSED_ARGS;
    Xmm r;
    unsigned h = n / 2;
    for (unsigned k = 0; k < h; k++) {
        r.sb[k] = (int8_t)sat(d->sw[k], -128, 127);
        r.sb[h + k] = (int8_t)sat(s->sw[k], -128, 127);
    }
    memcpy(d, &r, n);
    return 0;
}
SIMD_OP(simd_packuswb)
{
    UNUSED_ARGS;
    Xmm r;
    unsigned h = n / 2;
    for (unsigned k = 0; k < h; k++) {
        r.b[k] = (uint8_t)sat(d->sw[k], 0, 255);
        r.b[h + k] = (uint8_t)sat(s->sw[k], 0, 255);
    }
    memcpy(d, &r, n);
    return 0;
}
SIMD_OP(simd_packssdw)
{
    UNUSED_ARGS;
    Xmm r;
    unsigned h = n / 4;
    for (unsigned k = 0; k < h; k++) {
        r.sw[k] = (int16_t)(d->sd[k] < -32768 ? -32768 : d->sd[k] > 32767 ? 32767 : d->sd[k]);
        r.sw[h + k] = (int16_t)(s->sd[k] < -32768 ? -32768 : s->sd[k] > 32767 ? 32767 : s->sd[k]);
    }
    memcpy(d, &r, n);
    return 0;
}

/* ---- unpacks: interleave elements of size e from the low (hi=0) or high
 * half of destination and source ---- */
static void unpack(Xmm *d, const Xmm *s, unsigned n, unsigned e, bool hi)
{
    Xmm r;
    unsigned half = n / 2, base = hi ? half : 0;
    for (unsigned k = 0; k < half / e; k++) {
        memcpy(&r.b[2 * k * e], &d->b[base + k * e], e);
        memcpy(&r.b[(2 * k + 1) * e], &s->b[base + k * e], e);
    }
    memcpy(d, &r, n);
}
#define UNPACK(name, e, hi)                                                   \
    SIMD_OP(simd_##name)                                                      \
    {                                                                         \
        UNUSED_ARGS;                                                          \
        unpack(d, s, n, e, hi);                                               \
        return 0;                                                             \
    }
UNPACK(punpcklbw, 1, false)
UNPACK(punpcklwd, 2, false)
UNPACK(punpckldq, 4, false)
UNPACK(punpcklqdq, 8, false)
UNPACK(punpckhbw, 1, true)
UNPACK(punpckhwd, 2, true)
UNPACK(punpckhdq, 4, true)
UNPACK(punpckhqdq, 8, true)
UNPACK(unpcklps, 4, false)
UNPACK(unpckhps, 4, true)
UNPACK(unpcklpd, 8, false)
UNPACK(unpckhpd, 8, true)

/* ---- shifts: the count is the whole low quadword of the source; counts
 * past the element width give zero (logical) or the sign (arithmetic) ---- */
#define SHIFT(name, field, type, bits, expr_in, expr_big)                     \
    SIMD_OP(simd_##name)                                                      \
    {                                                                         \
        UNUSED_ARGS;                                                          \
        uint64_t cnt = s->q[0];                                               \
        for (unsigned k = 0; k < n / sizeof(type); k++) {                     \
            type a = d->field[k];                                             \
            d->field[k] = cnt < bits ? (type)(expr_in) : (type)(expr_big);    \
        }                                                                     \
        return 0;                                                             \
    }
SHIFT(psrlw, w, uint16_t, 16, a >> cnt, 0)
SHIFT(psrld, d, uint32_t, 32, a >> cnt, 0)
SHIFT(psrlq, q, uint64_t, 64, a >> cnt, 0)
SHIFT(psllw, w, uint16_t, 16, (uint32_t)a << cnt, 0)
SHIFT(pslld, d, uint32_t, 32, a << cnt, 0)
SHIFT(psllq, q, uint64_t, 64, a << cnt, 0)
SHIFT(psraw, sw, int16_t, 16, a >> cnt, a >> 15)
SHIFT(psrad, sd, int32_t, 32, a >> cnt, a >> 31)

/* PSRLDQ / PSLLDQ: whole-register byte shifts (count > 15 clears). */
SIMD_OP(simd_psrldq)
{
    UNUSED_ARGS;
    uint64_t cnt = s->q[0] > 16 ? 16 : s->q[0];
    Xmm r = { .q = { 0, 0 } };
    for (unsigned k = 0; k + cnt < 16; k++)
        r.b[k] = d->b[k + cnt];
    *d = r;
    return 0;
}
SIMD_OP(simd_pslldq)
{
    UNUSED_ARGS;
    uint64_t cnt = s->q[0] > 16 ? 16 : s->q[0];
    Xmm r = { .q = { 0, 0 } };
    for (unsigned k = (unsigned)cnt; k < 16; k++)
        r.b[k] = d->b[k - cnt];
    *d = r;
    return 0;
}

/* ---- shuffles (imm8 selects source elements) ---- */
SIMD_OP(simd_pshufw)
{
    UNUSED_ARGS;
    for (unsigned k = 0; k < 4; k++)
        d->w[k] = s->w[(i->imm >> (2 * k)) & 3];
    return 0;
}
SIMD_OP(simd_pshufd)
{
    UNUSED_ARGS;
    Xmm r;
    for (unsigned k = 0; k < 4; k++)
        r.d[k] = s->d[(i->imm >> (2 * k)) & 3];
    *d = r;
    return 0;
}
SIMD_OP(simd_pshufhw)
{
    UNUSED_ARGS;
    Xmm r;
    r.q[0] = s->q[0];
    for (unsigned k = 0; k < 4; k++)
        r.w[4 + k] = s->w[4 + ((i->imm >> (2 * k)) & 3)];
    *d = r;
    return 0;
}
SIMD_OP(simd_pshuflw)
{
    UNUSED_ARGS;
    Xmm r;
    r.q[1] = s->q[1];
    for (unsigned k = 0; k < 4; k++)
        r.w[k] = s->w[(i->imm >> (2 * k)) & 3];
    *d = r;
    return 0;
}
SIMD_OP(simd_shufps)
{
    UNUSED_ARGS;
    Xmm r;
    r.d[0] = d->d[i->imm & 3];
    r.d[1] = d->d[(i->imm >> 2) & 3];
    r.d[2] = s->d[(i->imm >> 4) & 3];
    r.d[3] = s->d[(i->imm >> 6) & 3];
    *d = r;
    return 0;
}
SIMD_OP(simd_shufpd)
{
    UNUSED_ARGS;
    Xmm r;
    r.q[0] = d->q[i->imm & 1];
    r.q[1] = s->q[(i->imm >> 1) & 1];
    *d = r;
    return 0;
}

/* ---- to a general register (d starts as zero; the result is d->d[0]) ---- */
SIMD_OP(simd_pmovmskb)
{
    UNUSED_ARGS;
    uint32_t m = 0;
    for (unsigned k = 0; k < n; k++)
        m |= (uint32_t)(s->b[k] >> 7) << k;
    d->d[0] = m;
    return 0;
}
SIMD_OP(simd_movmskps)
{
    UNUSED_ARGS;
    d->d[0] = (s->d[0] >> 31) | (s->d[1] >> 31) << 1 | (s->d[2] >> 31) << 2 | (s->d[3] >> 31) << 3;
    return 0;
}
SIMD_OP(simd_movmskpd)
{
    UNUSED_ARGS;
    d->d[0] = (uint32_t)(s->q[0] >> 63 | (s->q[1] >> 63) << 1);
    return 0;
}
SIMD_OP(simd_pextrw)
{
    UNUSED_ARGS;
    d->d[0] = s->w[i->imm & (n / 2 - 1)];
    return 0;
}
/* PINSRW: source is r32 or m16; only its low word is used. */
SIMD_OP(simd_pinsrw)
{
    UNUSED_ARGS;
    d->w[i->imm & (n / 2 - 1)] = s->w[0];
    return 0;
}

/* ---- moves into a register ---- */
SIMD_OP(simd_mov)
{
    UNUSED_ARGS;
    memcpy(d, s, n);
    return 0;
}
/* MOVD mm/xmm, r/m32: zero-extended to the register width. */
SIMD_OP(simd_movd_in)
{
    UNUSED_ARGS;
    uint32_t v = s->d[0];
    memset(d, 0, n);
    d->d[0] = v;
    return 0;
}
/* MOVQ xmm, xmm/m64 (F3 0F 7E) and MOVQ2DQ: upper quadword cleared. */
SIMD_OP(simd_movq_in)
{
    UNUSED_ARGS;
    d->q[0] = s->q[0];
    d->q[1] = 0;
    return 0;
}
/* MOVSS / MOVSD loads: from memory the rest of the register is cleared,
 * between registers only the low element moves (SDM Vol. 2 MOVSS). */
SIMD_OP(simd_movss_in)
{
    UNUSED_ARGS;
    if (i->mem)
        d->q[0] = d->q[1] = 0;
    d->d[0] = s->d[0];
    return 0;
}
SIMD_OP(simd_movsd_in)
{
    UNUSED_ARGS;
    if (i->mem)
        d->q[1] = 0;
    d->q[0] = s->q[0];
    return 0;
}
/* 0F 12: MOVLPS xmm, m64, or MOVHLPS xmm, xmm in the register form. */
SIMD_OP(simd_movlps_in)
{
    UNUSED_ARGS;
    d->q[0] = i->mem ? s->q[0] : s->q[1];
    return 0;
}
/* 0F 16: MOVHPS xmm, m64, or MOVLHPS xmm, xmm: both take the low quadword. */
SIMD_OP(simd_movhps_in)
{
    UNUSED_ARGS;
    d->q[1] = s->q[0];
    return 0;
}
