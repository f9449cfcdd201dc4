/*
 * cpu/fpu_trans.c -- x87 transcendental instructions (F2XM1, FYL2X, FYL2XP1,
 * FPATAN, FSIN, FCOS, FSINCOS, FPTAN).
 *
 * The functions are evaluated with our own series in 113-bit quad precision
 * (GCC's software __float128 arithmetic is only the working type; every
 * series, reduction and special case is written here), keeping the binary
 * exponent of the x87 operand separate so the 15-bit exponent range never
 * overflows the working type.  The result is then rounded once to 64 bits
 * under the current rounding control by fpu_round_pack(), so it is the
 * correctly rounded value except in rare near-halfway cases (< 1 ulp, as the
 * SDM vol. 1, 8.3.10 promises for the P6 family).
 *
 * FSIN/FCOS/FSINCOS/FPTAN reduce their argument by a 66-bit approximation
 * of pi, like the Intel hardware (SDM vol. 1, 8.3.8), so large arguments give
 * the same results as the real chip.  Operands with |x| >= 2^63 are out of
 * range: C2 is set and the operand is left alone.
 */
#include "cpu/fpu_soft.h"

/* The working type: IEEE binary128.  GCC provides it as __float128 on x86
 * hosts; where long double already is binary128 (AArch64 Linux) that is
 * the same format under another name. */
#if defined(__SIZEOF_FLOAT128__)
typedef __float128 quad;
#elif defined(__LDBL_MANT_DIG__) && __LDBL_MANT_DIG__ == 113
typedef long double quad;
#else
#error "cpu/fpu_trans.c needs a binary128 working type"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "cpu/fpu_trans.c reads binary128 fields in little-endian order"
#endif
typedef fpu_u128 u128;

#define TINY_EXP (-60)   /* below this, f(x) = x +- (far less than an ulp) */

/* ----------------------------------------------------- quad plumbing */

typedef union QuadBits {
    quad q;
    struct { uint64_t lo, hi; } w;   /* x86-64 is little endian */
} QuadBits;

/* m * 2^e for m in [1, 2) style values: adjusts the exponent field. */
static quad q_scale(quad m, int e)
{
    QuadBits b = { .q = m };
    if (m == 0)
        return m;
    int32_t qe = (int32_t)((b.w.hi >> 48) & 0x7FFF) + e;
    b.w.hi = (b.w.hi & ~(0x7FFFull << 48)) | (uint64_t)(qe & 0x7FFF) << 48;
    return b.q;
}

/* A 128-bit significand m (bit 127 = 2^0) times 2^e, rounded to quad. */
static quad q_from_u128(u128 m, int e)
{
    quad hi = (quad)(uint64_t)(m >> 64), lo = (quad)(uint64_t)m;
    return q_scale(hi, e - 63) + q_scale(lo, e - 127);
}

/* Constants from their 128-bit expansions. */
static quad q_pi(void)
{
    return q_from_u128((u128)0xc90fdaa22168c234ull << 64 | 0xc4c6628b80dc1cd1ull, 1);
}

static quad q_ln2(void)
{
    return q_from_u128((u128)0xb17217f7d1cf79abull << 64 | 0xc9e3b39803f2f6afull, -1);
}

typedef struct Split {
    bool sign;
    quad m;        /* in [1, 2) */
    int32_t e;     /* unbiased binary exponent */
} Split;

/* A finite nonzero operand as sign, significand in [1,2), exponent. */
static Split split(Float80 a)
{
    Split s;
    int32_t e = a.sign_exp & 0x7FFF;
    uint64_t m = a.mant;
    if (e == 0)
        e = 1;
    int sh = __builtin_clzll(m);
    m <<= sh;
    s.sign = (a.sign_exp & 0x8000) != 0;
    s.m = q_scale((quad)m, -63);
    s.e = e - sh - FPU_BIAS;
    return s;
}

static quad q_value(Split s) { return q_scale(s.sign ? -s.m : s.m, s.e); }

/* Round sign * |q| * 2^e (q a normal quad) to the x87 format; nudge -1
 * takes the value a hair below |q| (for f(t) = t - O(t^3) at tiny t). */
static Float80 pack_quad_nudged(FpuEnv *env, quad q, int32_t e, int nudge)
{
    QuadBits b = { .q = q };
    bool sign = b.w.hi >> 63;
    int32_t qe = (int32_t)((b.w.hi >> 48) & 0x7FFF);
    if (q == 0)
        return fpu_make(sign, 0, 0);
    /* Computed transcendental results always report PE, even when exact
     * (host x87). */
    env->flags |= FPU_PE;
    u128 frac = (u128)(b.w.hi & 0xFFFFFFFFFFFFull) << 64 | b.w.lo;
    u128 m = ((u128)1 << 112 | frac) << 15;
    if (nudge < 0) {
        m -= 1;
        if (!(m >> 127)) {
            m <<= 1;
            e--;
        }
    }
    Float80 r = fpu_round_pack(env, sign, qe - 16383 + e + FPU_BIAS, m, 64);
    if ((r.sign_exp & 0x7FFF) == 0 && r.mant)
        env->flags |= FPU_UE;   /* tiny and (deemed) inexact */
    return r;
}

static Float80 pack_quad(FpuEnv *env, quad q, int32_t e)
{
    return pack_quad_nudged(env, q, e, 0);
}

/* x itself, nudged by less than an ulp (dir -1 below, +1 above in magnitude):
 * for f(x) = x - x^3/6 and friends when x is tiny. */
static Float80 pack_nudged(FpuEnv *env, Float80 x, int dir)
{
    Split s = split(x);
    u128 m = (u128)(x.mant << __builtin_clzll(x.mant)) << 64;
    m = dir < 0 ? m - 1 : m + 1;
    if (!(m >> 127)) {   /* 1.000... - tiny: renormalize */
        m <<= 1;
        s.e--;
    }
    return fpu_round_pack(env, s.sign, s.e + FPU_BIAS, m, 64);
}

static Float80 pack_const(FpuEnv *env, quad q)
{
    return pack_quad(env, q, 0);
}

/* ------------------------------------------------------------- series */

static bool small_enough(quad term, quad sum)
{
    quad a = term < 0 ? -term : term, b = sum < 0 ? -sum : sum;
    return a <= q_scale(b, -118);
}

/* sin and cos of r in [0, pi/4]. */
static quad q_sin(quad r)
{
    quad r2 = r * r, term = r, sum = r;
    for (int i = 1; i < 60; i++) {
        term = -term * r2 / (quad)((2 * i) * (2 * i + 1));
        sum += term;
        if (small_enough(term, sum))
            break;
    }
    return sum;
}

static quad q_cos(quad r)
{
    quad r2 = r * r, term = 1, sum = 1;
    for (int i = 1; i < 60; i++) {
        term = -term * r2 / (quad)((2 * i - 1) * (2 * i));
        sum += term;
        if (small_enough(term, sum))
            break;
    }
    return sum;
}

/* atan of t in [0, 1]. */
static quad q_atan(quad t)
{
    quad pi = q_pi(), base = 0;
    /* tan(pi/8) = sqrt(2) - 1: above it, atan t = pi/4 + atan((t-1)/(t+1)). */
    if (t > (quad)0.41421356237309504880) {
        t = (t - 1) / (t + 1);
        base = pi / 4;
    }
    /* one halving: atan t = 2 atan(t / (1 + sqrt(1 + t^2))) */
    quad s = 1 + t * t, root = (quad)1.0 + t * t / 2;
    for (int i = 0; i < 8; i++)
        root = (root + s / root) / 2;
    t = t / (1 + root);
    quad t2 = t * t, term = t, sum = t;
    for (int i = 1; i < 200; i++) {
        term = -term * t2;
        quad add = term / (quad)(2 * i + 1);
        sum += add;
        if (small_enough(add, sum))
            break;
    }
    return base + 2 * sum;
}

/* ln(m) for m in [1, 2): 2 atanh((m - 1) / (m + 1)). */
static quad q_ln_mant(quad m)
{
    quad s = (m - 1) / (m + 1), s2 = s * s, term = s, sum = s;
    for (int i = 1; i < 200; i++) {
        term *= s2;
        quad add = term / (quad)(2 * i + 1);
        sum += add;
        if (small_enough(add, sum))
            break;
    }
    return 2 * sum;
}

/* e^z - 1 for |z| <= 1. */
static quad q_expm1(quad z)
{
    quad term = z, sum = z;
    for (int i = 2; i < 80; i++) {
        term = term * z / (quad)i;
        sum += term;
        if (small_enough(term, sum))
            break;
    }
    return sum;
}

/* -------------------------------------------------------- F2XM1 */

Float80 fpu_f2xm1(FpuEnv *env, Float80 a)
{
    Float80 r;
    if (fpu_check_operand(env, a, &r))
        return r;
    FpuClass c = fpu_classify(a);
    bool neg = (a.sign_exp & 0x8000) != 0;
    if (c == FPU_CLASS_ZERO)
        return a;
    if (c == FPU_CLASS_INF)
        return neg ? fpu_make(true, FPU_BIAS, FPU_J_BIT) : a;
    Split s = split(a);
    quad ln2 = q_ln2();
    if (s.e < TINY_EXP) {
        /* 2^x - 1 = x ln2 (1 + x ln2 / 2 + ...) */
        quad prod = s.m * ln2;
        return pack_quad(env, s.sign ? -prod : prod, s.e);
    }
    if (s.e < 0 || (s.e == 0 && s.m == 1))   /* |x| <= 1, the architectural domain */
        return pack_quad(env, q_expm1(q_value(s) * ln2), 0);
    /* Outside the domain the result is undefined; the P6 family hands the
     * operand back unchanged and reports it inexact (host x87). */
    env->flags |= FPU_PE;
    return a;
}

/* ------------------------------------------------------ FYL2X(P1) */

/* y * L where L = log2 value given as a quad (nonzero, finite). */
static Float80 times_y(FpuEnv *env, Split y, quad l)
{
    quad prod = y.m * l;
    return pack_quad(env, y.sign ? -prod : prod, y.e);
}

static Float80 signed_inf(bool s) { return fpu_make(s, FPU_EXP_MAX, FPU_J_BIT); }
static Float80 signed_zero(bool s) { return fpu_make(s, 0, 0); }

static Float80 invalid(FpuEnv *env)
{
    env->flags |= FPU_IE;
    return fpu_indefinite();
}

static bool two_nans(FpuEnv *env, Float80 x, Float80 y, Float80 *r)
{
    FpuClass cx = fpu_classify(x), cy = fpu_classify(y);
    if (cx == FPU_CLASS_INVALID || cy == FPU_CLASS_INVALID) {
        *r = invalid(env);
        return true;
    }
    if (fpu_is_nan(x) || fpu_is_nan(y)) {
        *r = fpu_propagate_nan(env, x, y);
        return true;
    }
    return false;
}

static void denormal_check(FpuEnv *env, Float80 a)
{
    if (fpu_classify(a) == FPU_CLASS_DENORMAL)
        env->flags |= FPU_DE;
}

Float80 fpu_yl2x(FpuEnv *env, Float80 x, Float80 y)
{
    Float80 r;
    if (two_nans(env, x, y, &r))
        return r;
    FpuClass cx = fpu_classify(x), cy = fpu_classify(y);
    bool sx = (x.sign_exp & 0x8000) != 0, sy = (y.sign_exp & 0x8000) != 0;
    if (sx && cx != FPU_CLASS_ZERO)
        return invalid(env);
    if (cx == FPU_CLASS_ZERO) {
        if (cy == FPU_CLASS_ZERO)
            return invalid(env);
        if (cy != FPU_CLASS_INF)
            env->flags |= FPU_ZE;   /* and no DE for a denormal y (host x87) */
        return signed_inf(!sy);
    }
    if (cx == FPU_CLASS_INF) {
        if (cy == FPU_CLASS_ZERO)
            return invalid(env);
        denormal_check(env, y);
        return signed_inf(sy);
    }
    bool one = x.sign_exp == FPU_BIAS && x.mant == FPU_J_BIT;
    if (one) {
        if (cy == FPU_CLASS_INF)
            return invalid(env);
        denormal_check(env, y);
        return signed_zero(sy);
    }
    denormal_check(env, x);
    denormal_check(env, y);
    Split sxp = split(x);
    bool below_one = sxp.e < 0;
    if (cy == FPU_CLASS_INF)
        return signed_inf(sy ^ below_one);
    if (cy == FPU_CLASS_ZERO)
        return signed_zero(sy ^ below_one);
    /* log2 x = e + ln(m)/ln2, with m moved to [sqrt(1/2), sqrt(2)). */
    quad m = sxp.m;
    int32_t e = sxp.e;
    if (m > (quad)1.41421356237309504880) {
        m /= 2;
        e++;
    }
    quad l = (quad)e + q_ln_mant(m) / q_ln2();
    return times_y(env, split(y), l);
}

Float80 fpu_yl2xp1(FpuEnv *env, Float80 x, Float80 y)
{
    Float80 r;
    if (two_nans(env, x, y, &r))
        return r;
    FpuClass cx = fpu_classify(x), cy = fpu_classify(y);
    bool sx = (x.sign_exp & 0x8000) != 0, sy = (y.sign_exp & 0x8000) != 0;
    if (cx == FPU_CLASS_ZERO) {
        if (cy == FPU_CLASS_INF)
            return invalid(env);
        denormal_check(env, y);
        return signed_zero(sx ^ sy);
    }
    if (cx == FPU_CLASS_INF) {
        if (sx || cy == FPU_CLASS_ZERO)
            return invalid(env);
        denormal_check(env, y);
        return signed_inf(sy);
    }
    denormal_check(env, x);
    denormal_check(env, y);
    Split sxp = split(x);
    if (sx && sxp.e >= 0 && !(sxp.e == 0 && sxp.m == 1))
        return invalid(env);   /* 1 + x < 0 */
    if (sx && sxp.e == 0) {     /* x = -1: log2(0) */
        if (cy == FPU_CLASS_ZERO)
            return invalid(env);
        if (cy != FPU_CLASS_INF)
            env->flags |= FPU_ZE;
        return signed_inf(!sy);
    }
    if (cy == FPU_CLASS_INF)
        return signed_inf(sy ^ sx);
    if (cy == FPU_CLASS_ZERO)
        return signed_zero(sy ^ sx);
    quad l;
    int32_t extra = 0;
    if (sxp.e < TINY_EXP) {
        /* log2(1 + x) = x / ln2 (1 - x/2 + ...): keep x's exponent apart. */
        l = (sx ? -sxp.m : sxp.m) / q_ln2();
        extra = sxp.e;
    } else {
        quad xv = q_value(sxp);
        if (xv > (quad)0.41421356237309504880 || xv < (quad)-0.29289321881345247560) {
            /* outside the documented domain: log2(1 + x) directly */
            quad m = 1 + xv;
            QuadBits b = { .q = m };
            int32_t e = (int32_t)((b.w.hi >> 48) & 0x7FFF) - 16383;
            m = q_scale(m, -e);
            if (m > (quad)1.41421356237309504880) {
                m /= 2;
                e++;
            }
            l = (quad)e + q_ln_mant(m) / q_ln2();
        } else {
            quad s = xv / (2 + xv), s2 = s * s, term = s, sum = s;
            for (int i = 1; i < 200; i++) {
                term *= s2;
                quad add = term / (quad)(2 * i + 1);
                sum += add;
                if (small_enough(add, sum))
                    break;
            }
            l = 2 * sum / q_ln2();
        }
    }
    Split sy_split = split(y);
    sy_split.e += extra;
    return times_y(env, sy_split, l);
}

/* ------------------------------------------------------------ FPATAN */

Float80 fpu_patan(FpuEnv *env, Float80 y, Float80 x)
{
    Float80 r;
    if (two_nans(env, x, y, &r))
        return r;
    FpuClass cx = fpu_classify(x), cy = fpu_classify(y);
    bool sx = (x.sign_exp & 0x8000) != 0, sy = (y.sign_exp & 0x8000) != 0;
    quad pi = q_pi();
    denormal_check(env, x);
    denormal_check(env, y);
    if (cy == FPU_CLASS_ZERO) {
        if (!sx)
            return y;
        return pack_const(env, sy ? -pi : pi);
    }
    if (cx == FPU_CLASS_ZERO)
        return pack_const(env, sy ? -pi / 2 : pi / 2);
    if (cy == FPU_CLASS_INF) {
        quad v = cx == FPU_CLASS_INF ? (sx ? 3 * pi / 4 : pi / 4) : pi / 2;
        return pack_const(env, sy ? -v : v);
    }
    if (cx == FPU_CLASS_INF) {
        if (!sx)
            return signed_zero(sy);
        return pack_const(env, sy ? -pi : pi);
    }
    Split a = split(x), b = split(y);
    int32_t d = b.e - a.e;
    quad v;
    if (d < -120) {
        if (!sx) {
            /* atan(t) = t - t^3/3: t = |y|/|x| with a slight shortfall */
            quad t = b.m / a.m;
            return pack_quad_nudged(env, sy ? -t : t, d, -1);
        }
        v = pi;   /* pi - t */
    } else if (d > 120) {
        v = pi / 2;
    } else {
        quad t = q_scale(b.m, d) / a.m;   /* |y| / |x| */
        v = t <= 1 ? q_atan(t) : pi / 2 - q_atan(1 / t);
        if (sx)
            v = pi - v;
    }
    return pack_const(env, sy ? -v : v);
}

/* ------------------------------------------------ FSIN, FCOS, FPTAN */

/* pi as the x87 uses it for argument reduction: 66 bits, in units of 2^-65
 * this is pi/2 (SDM vol. 1, 8.3.8). */
static const u128 pi66_half = (u128)0x3ull << 64 | 0x243f6a8885a308d3ull;

typedef struct Reduced {
    quad r;         /* reduced argument in [0, pi/4] */
    unsigned k;     /* quadrant (mod 4) */
    bool swapped;   /* r is the complement: sin and cos exchange */
} Reduced;

/* Reduce |x| (finite, nonzero, < 2^63) modulo pi66/2. */
static Reduced reduce(Split s)
{
    Reduced red = { 0, 0, false };
    if (s.e < -1) {
        red.r = q_scale(s.m, s.e);
        return red;
    }
    uint64_t mant = (uint64_t)q_scale(s.m, 63);
    u128 x = (u128)mant << (s.e + 2);     /* units of 2^-65 */
    u128 k = x / pi66_half, rem = x % pi66_half;
    red.k = (unsigned)(k & 3);
    if (rem > pi66_half / 2) {
        rem = pi66_half - rem;
        red.swapped = true;
    }
    red.r = q_from_u128(rem, 127 - 65);
    return red;
}

/* sin and cos of x via the reduction. */
static void sin_cos(Split s, quad *sin_out, quad *cos_out)
{
    Reduced red = reduce(s);
    quad sr = q_sin(red.r), cr = q_cos(red.r);
    if (red.swapped) {   /* rem = pi/2 - r: sin rem = cos r, cos rem = sin r */
        quad t = sr;
        sr = cr;
        cr = t;
    }
    /* rotate by k quarter turns */
    quad sv[4] = { sr, cr, -sr, -cr }, cv[4] = { cr, -sr, -cr, sr };
    *sin_out = s.sign ? -sv[red.k] : sv[red.k];
    *cos_out = cv[red.k];
}

/* sin x and tan x for tiny x, as the host x87 delivers them: below 2^-68
 * the operand itself (inexact; underflow if denormal), above that the
 * operand nudged towards zero (even for tan, whose true value is larger). */
static Float80 tiny_result(FpuEnv *env, Float80 x, int32_t e)
{
    if (e >= -68)
        return pack_nudged(env, x, -1);
    /* x itself, normalized as far as the exponent allows (a pseudo-denormal
     * becomes normal, an unmasked underflow wraps the exponent). */
    Split s = split(x);
    u128 m = (u128)(x.mant << __builtin_clzll(x.mant)) << 64;
    Float80 r = fpu_round_pack(env, s.sign, s.e + FPU_BIAS, m, 64);
    env->flags |= FPU_PE;
    env->round_up = false;
    if ((r.sign_exp & 0x7FFF) == 0)
        env->flags |= FPU_UE;
    return r;
}

static bool out_of_range(Float80 x)
{
    int32_t e = x.sign_exp & 0x7FFF;
    return e >= FPU_BIAS + 63;
}

/* Common screening for FSIN/FCOS/FSINCOS/FPTAN; true if *r is final. */
static bool trig_special(FpuEnv *env, Float80 x, Float80 *r)
{
    if (fpu_check_operand(env, x, r))
        return true;
    FpuClass c = fpu_classify(x);
    if (c == FPU_CLASS_INF) {
        *r = invalid(env);
        return true;
    }
    return false;
}

bool fpu_sincos(FpuEnv *env, Float80 x, Float80 *sin_out, Float80 *cos_out, bool cos_c1)
{
    Float80 r;
    if (fpu_classify(x) == FPU_CLASS_NORMAL && out_of_range(x))
        return false;
    if (trig_special(env, x, &r)) {
        *sin_out = *cos_out = r;
        return true;
    }
    if (fpu_classify(x) == FPU_CLASS_ZERO) {
        *sin_out = x;
        *cos_out = fpu_make(false, FPU_BIAS, FPU_J_BIT);
        return true;
    }
    Split s = split(x);
    if (s.e < TINY_EXP) {
        /* cos of a tiny x is 1.0 exactly, inexact, whatever the rounding
         * (host x87); only the sine's flags count unless asked for cos. */
        *cos_out = fpu_make(false, FPU_BIAS, FPU_J_BIT);
        if (cos_c1) {
            env->flags |= FPU_PE;
            env->round_up = false;
            *sin_out = x;
        } else {
            *sin_out = tiny_result(env, x, s.e);
        }
        return true;
    }
    quad sv, cv;
    sin_cos(s, &sv, &cv);
    /* One C1 is reported: the caller says whether the cosine's counts. */
    FpuEnv ec = *env;
    *cos_out = pack_quad(&ec, cv, 0);
    *sin_out = pack_quad(env, sv, 0);
    env->flags |= ec.flags;
    if (cos_c1)
        env->round_up = ec.round_up;
    return true;
}

bool fpu_tan(FpuEnv *env, Float80 x, Float80 *tan_out)
{
    Float80 r;
    if (fpu_classify(x) == FPU_CLASS_NORMAL && out_of_range(x))
        return false;
    if (trig_special(env, x, &r)) {
        *tan_out = r;
        return true;
    }
    if (fpu_classify(x) == FPU_CLASS_ZERO) {
        *tan_out = x;
        return true;
    }
    Split s = split(x);
    if (s.e < TINY_EXP) {
        *tan_out = tiny_result(env, x, s.e);
        return true;
    }
    quad sv, cv;
    sin_cos(s, &sv, &cv);
    *tan_out = pack_quad(env, sv / cv, 0);
    return true;
}
