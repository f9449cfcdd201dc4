/*
 * cpu/fpu_soft.c -- software 80-bit extended arithmetic (see fpu_soft.h).
 *
 * Every result is computed exactly (or with a sticky bit) in a 128-bit
 * significand and then rounded once by fpu_round_core(), which implements
 * the x87 rules of the Intel SDM vol. 1, 4.8.4 (rounding control), 8.1.5.2
 * (precision control) and 4.9.1.4-4.9.1.6 / 8.5.4-8.5.6 (overflow,
 * underflow and inexact, masked and unmasked responses).
 */
#include "cpu/fpu_soft.h"

#include <string.h>

typedef fpu_u128 u128;

enum { RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_CHOP = 3 };

/* Unmasked overflow/underflow deliver the result with the exponent biased by
 * 3 * 2^13 so the handler can still see it (SDM vol. 1, 8.5.4 and 8.5.5). */
#define FPU_WRAP_BIAS 24576

/* x87 detects tininess after rounding (checked against real hardware). */
static const bool tiny_after_rounding = true;

Float80 fpu_make(bool sign, uint16_t exp, uint64_t mant)
{
    Float80 r = { mant, (uint16_t)((sign ? 0x8000 : 0) | (exp & 0x7FFF)) };
    return r;
}

static bool sign_of(Float80 a) { return (a.sign_exp & 0x8000) != 0; }
static int32_t exp_of(Float80 a) { return a.sign_exp & 0x7FFF; }

Float80 fpu_indefinite(void)
{
    return fpu_make(true, FPU_EXP_MAX, 0xC000000000000000ull);
}

FpuClass fpu_classify(Float80 a)
{
    int32_t e = exp_of(a);
    bool j = (a.mant & FPU_J_BIT) != 0;
    if (e == 0)
        return a.mant == 0 ? FPU_CLASS_ZERO : FPU_CLASS_DENORMAL;
    if (!j)
        return FPU_CLASS_INVALID;   /* unnormal, pseudo-NaN, pseudo-infinity */
    if (e == FPU_EXP_MAX) {
        if ((a.mant << 1) == 0)
            return FPU_CLASS_INF;
        return (a.mant & 0x4000000000000000ull) ? FPU_CLASS_QNAN : FPU_CLASS_SNAN;
    }
    return FPU_CLASS_NORMAL;
}

bool fpu_is_nan(Float80 a)
{
    FpuClass c = fpu_classify(a);
    return c == FPU_CLASS_QNAN || c == FPU_CLASS_SNAN;
}

int fpu_precision(const FpuEnv *env)
{
    static const int bits[4] = { 24, 64, 53, 64 };   /* PC 10b is reserved: 64 */
    return bits[(env->cw >> 8) & 3];
}

static int clz128(u128 m)
{
    uint64_t hi = (uint64_t)(m >> 64);
    if (hi)
        return __builtin_clzll(hi);
    return 64 + __builtin_clzll((uint64_t)m);
}

static u128 shift_right_jam(u128 m, int32_t n)
{
    if (n <= 0)
        return m;
    if (n >= 128)
        return m != 0;
    return (m >> n) | ((m & (((u128)1 << n) - 1)) != 0);
}

/* Should a value whose discarded bits are `rest` (out of a field whose half
 * is `half`) round away from zero? */
static bool round_increment(int rc, bool sign, u128 kept_lsb_set, u128 rest, u128 half)
{
    switch (rc) {
    case RC_NEAREST:
        return rest > half || (rest == half && kept_lsb_set);
    case RC_DOWN:
        return sign && rest != 0;
    case RC_UP:
        return !sign && rest != 0;
    default:
        return false;
    }
}

typedef struct Rounded {
    bool sign;
    int32_t exp;      /* biased in the target format; 0 for zero/denormal */
    uint64_t sig;     /* explicit integer bit at bit 63 */
    bool no_store;    /* unmasked overflow/underflow to memory: nothing stored */
} Rounded;

/* Round m * 2^(e - bias - 127) to `prec` bits in a format whose all-ones
 * exponent is emax.  memory: the destination is a memory format, where
 * unmasked overflow/underflow store nothing instead of wrapping. */
static Rounded round_core(FpuEnv *env, bool sign, int32_t e, u128 m, int prec,
                          int32_t emax, bool memory)
{
    Rounded r = { sign, 0, 0, false };
    int rc = (env->cw >> 10) & 3;
    int drop = 128 - prec;
    u128 unit = (u128)1 << drop, mask = unit - 1, half = unit >> 1;
    bool tiny = false;

    env->round_up = false;
    if (m == 0)
        return r;
    if (e < 1) {
        tiny = true;
        if (tiny_after_rounding && e == 0) {
            u128 kept = m & ~mask;
            if (round_increment(rc, sign, kept & unit, m & mask, half) && kept + unit == 0)
                tiny = false;
        }
        if (tiny && !(env->cw & FPU_UE)) {
            env->flags |= FPU_UE;
            if (memory) {
                r.no_store = true;
                return r;
            }
            e += FPU_WRAP_BIAS;
            if (e < 1) {
                /* beyond even the wrapped range (FSCALE): a signed zero */
                env->flags |= FPU_PE;
                return r;
            }
        } else {
            m = shift_right_jam(m, 1 - e);
            e = 1;
        }
    }
    u128 rest = m & mask;
    m -= rest;
    if (round_increment(rc, sign, m & unit, rest, half)) {
        env->round_up = true;
        m += unit;
        if (m == 0) {
            m = (u128)1 << 127;
            e++;
        }
    }
    if (rest) {
        env->flags |= FPU_PE;
        if (tiny && (env->cw & FPU_UE))
            env->flags |= FPU_UE;
    }
    if (e == 1 && !(m >> 127))
        e = 0;   /* stayed denormal */
    if (e >= emax) {
        env->flags |= FPU_OE;
        if (!(env->cw & FPU_OE)) {
            if (memory) {
                /* nothing stored, so nothing was inexact (host x87) */
                env->flags &= (uint16_t)~FPU_PE;
                env->round_up = false;
                r.no_store = true;
                return r;
            }
            e -= FPU_WRAP_BIAS;
            if (e >= emax) {
                /* beyond even the wrapped range (FSCALE): infinity */
                env->flags |= FPU_PE;
                env->round_up = true;
                r.exp = emax;
                r.sig = FPU_J_BIT;
                return r;
            }
        } else {
            bool to_inf = rc == RC_NEAREST || (rc == RC_UP && !sign) || (rc == RC_DOWN && sign);
            env->flags |= FPU_PE;
            env->round_up = to_inf;
            if (to_inf) {
                r.exp = emax;
                r.sig = FPU_J_BIT;
            } else {
                r.exp = emax - 1;
                r.sig = ~0ull << (64 - prec);
            }
            return r;
        }
    }
    r.exp = e;
    r.sig = (uint64_t)(m >> 64);
    return r;
}

Float80 fpu_round_pack(FpuEnv *env, bool sign, int32_t e, u128 m, int prec)
{
    Rounded r = round_core(env, sign, e, m, prec, FPU_EXP_MAX, false);
    return fpu_make(r.sign, (uint16_t)r.exp, r.sig);
}

/* Normalize a finite nonzero operand: value = sig * 2^(*exp - bias - 63)
 * with sig bit 63 set; denormals get exponent 1 - shift. */
static uint64_t normalize(Float80 a, int32_t *exp)
{
    int32_t e = exp_of(a);
    uint64_t m = a.mant;
    if (e == 0)
        e = 1;   /* denormals and pseudo-denormals use exponent 1 (SDM 8.2.2) */
    int s = __builtin_clzll(m);
    *exp = e - s;
    return m << s;
}

static Float80 quiet(Float80 a)
{
    a.mant |= 0x4000000000000000ull;
    return a;
}

/* NaN operands (SDM vol. 1, table 4-7): an SNaN raises IE; a QNaN beats an
 * SNaN; of two NaNs of the same kind the larger significand wins. */
Float80 fpu_propagate_nan(FpuEnv *env, Float80 a, Float80 b)
{
    bool an = fpu_is_nan(a), bn = fpu_is_nan(b);
    if ((an && fpu_classify(a) == FPU_CLASS_SNAN) || (bn && fpu_classify(b) == FPU_CLASS_SNAN))
        env->flags |= FPU_IE;
    if (an && bn) {
        FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
        if (ca != cb)   /* an SNaN and a QNaN: the QNaN wins */
            return quiet(ca == FPU_CLASS_QNAN ? a : b);
        uint64_t ma = a.mant, mb = b.mant;
        if (ma != mb)
            return quiet(ma > mb ? a : b);
        return quiet(sign_of(a) ? b : a);
    }
    return quiet(an ? a : b);
}

bool fpu_check_operand(FpuEnv *env, Float80 a, Float80 *result)
{
    switch (fpu_classify(a)) {
    case FPU_CLASS_INVALID:
        env->flags |= FPU_IE;
        *result = fpu_indefinite();
        return true;
    case FPU_CLASS_QNAN:
    case FPU_CLASS_SNAN:
        *result = fpu_propagate_nan(env, a, a);
        return true;
    case FPU_CLASS_DENORMAL:
        env->flags |= FPU_DE;
        return false;
    default:
        return false;
    }
}

/* Common screening of two operands: invalid encodings, NaNs, denormals.
 * Returns true when *result is final. */
static bool check_two_nan(FpuEnv *env, Float80 a, Float80 b, Float80 *result)
{
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    if (ca == FPU_CLASS_INVALID || cb == FPU_CLASS_INVALID) {
        env->flags |= FPU_IE;
        *result = fpu_indefinite();
        return true;
    }
    if (ca == FPU_CLASS_QNAN || ca == FPU_CLASS_SNAN || cb == FPU_CLASS_QNAN || cb == FPU_CLASS_SNAN) {
        *result = fpu_propagate_nan(env, a, b);
        return true;
    }
    return false;
}

static bool check_two(FpuEnv *env, Float80 a, Float80 b, Float80 *result)
{
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    if (ca == FPU_CLASS_INVALID || cb == FPU_CLASS_INVALID) {
        env->flags |= FPU_IE;
        *result = fpu_indefinite();
        return true;
    }
    if (ca == FPU_CLASS_QNAN || ca == FPU_CLASS_SNAN || cb == FPU_CLASS_QNAN || cb == FPU_CLASS_SNAN) {
        *result = fpu_propagate_nan(env, a, b);
        return true;
    }
    if (ca == FPU_CLASS_DENORMAL || cb == FPU_CLASS_DENORMAL)
        env->flags |= FPU_DE;
    return false;
}

static Float80 invalid(FpuEnv *env)
{
    env->flags |= FPU_IE;
    return fpu_indefinite();
}

static Float80 zero_of(bool sign) { return fpu_make(sign, 0, 0); }
static Float80 inf_of(bool sign) { return fpu_make(sign, FPU_EXP_MAX, FPU_J_BIT); }

Float80 fpu_add(FpuEnv *env, Float80 a, Float80 b, bool subtract)
{
    Float80 r;
    env->round_up = false;
    if (check_two(env, a, b, &r))
        return r;
    bool sa = sign_of(a), sb = sign_of(b) ^ subtract;
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    int rc = (env->cw >> 10) & 3;
    if (ca == FPU_CLASS_INF || cb == FPU_CLASS_INF) {
        if (ca == FPU_CLASS_INF && cb == FPU_CLASS_INF && sa != sb)
            return invalid(env);
        return inf_of(ca == FPU_CLASS_INF ? sa : sb);
    }
    if (ca == FPU_CLASS_ZERO && cb == FPU_CLASS_ZERO)
        return zero_of(sa == sb ? sa : rc == RC_DOWN);
    if (ca == FPU_CLASS_ZERO || cb == FPU_CLASS_ZERO) {
        /* x + 0 = x, still rounded to the precision control. */
        Float80 x = ca == FPU_CLASS_ZERO ? b : a;
        bool sx = ca == FPU_CLASS_ZERO ? sb : sa;
        int32_t e;
        uint64_t m = normalize(x, &e);
        return fpu_round_pack(env, sx, e, (u128)m << 64, fpu_precision(env));
    }
    int32_t ea, eb;
    u128 ma = (u128)normalize(a, &ea) << 63, mb = (u128)normalize(b, &eb) << 63;
    if (ea < eb || (ea == eb && ma < mb)) {
        u128 tm = ma; ma = mb; mb = tm;
        int32_t te = ea; ea = eb; eb = te;
        bool ts = sa; sa = sb; sb = ts;
    }
    mb = shift_right_jam(mb, ea - eb);
    u128 m = sa == sb ? ma + mb : ma - mb;
    if (m == 0)
        return zero_of(rc == RC_DOWN);
    int s = clz128(m);
    /* ma sits at bit 126: exponent of bit 127 is ea + 1. */
    return fpu_round_pack(env, sa, ea + 1 - s, m << s, fpu_precision(env));
}

Float80 fpu_mul(FpuEnv *env, Float80 a, Float80 b)
{
    Float80 r;
    env->round_up = false;
    if (check_two(env, a, b, &r))
        return r;
    bool s = sign_of(a) ^ sign_of(b);
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    if (ca == FPU_CLASS_INF || cb == FPU_CLASS_INF) {
        if (ca == FPU_CLASS_ZERO || cb == FPU_CLASS_ZERO)
            return invalid(env);
        return inf_of(s);
    }
    if (ca == FPU_CLASS_ZERO || cb == FPU_CLASS_ZERO)
        return zero_of(s);
    int32_t ea, eb;
    uint64_t ma = normalize(a, &ea), mb = normalize(b, &eb);
    u128 m = (u128)ma * mb;
    int32_t e = ea + eb - FPU_BIAS + 1;
    if (!(m >> 127)) {
        m <<= 1;
        e--;
    }
    return fpu_round_pack(env, s, e, m, fpu_precision(env));
}

Float80 fpu_div(FpuEnv *env, Float80 a, Float80 b)
{
    Float80 r;
    env->round_up = false;
    bool s = sign_of(a) ^ sign_of(b);
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    /* A zero divisor is reported before a denormal dividend (host x87). */
    if (!check_two_nan(env, a, b, &r) && cb == FPU_CLASS_ZERO && ca == FPU_CLASS_DENORMAL) {
        env->flags |= FPU_ZE;
        return inf_of(s);
    }
    if (check_two(env, a, b, &r))
        return r;
    if (ca == FPU_CLASS_INF)
        return cb == FPU_CLASS_INF ? invalid(env) : inf_of(s);
    if (cb == FPU_CLASS_INF)
        return zero_of(s);
    if (cb == FPU_CLASS_ZERO) {
        if (ca == FPU_CLASS_ZERO)
            return invalid(env);
        env->flags |= FPU_ZE;
        return inf_of(s);
    }
    if (ca == FPU_CLASS_ZERO)
        return zero_of(s);
    int32_t ea, eb;
    uint64_t ma = normalize(a, &ea), mb = normalize(b, &eb);
    u128 num = (u128)ma << 63;
    uint64_t q1 = (uint64_t)(num / mb);
    u128 rem = num % mb;
    num = rem << 64;
    uint64_t q2 = (uint64_t)(num / mb);
    rem = num % mb;
    u128 q = ((u128)q1 << 64) | q2 | (rem != 0);
    int32_t e = ea - eb + FPU_BIAS;
    int sh = clz128(q);
    return fpu_round_pack(env, s, e - sh, q << sh, fpu_precision(env));
}

/* Integer square root of m (up to 2 * n bits given as n bit pairs, most
 * significant first) by the restoring digit-by-digit method; *exact says
 * whether the remainder is zero. */
static u128 isqrt_bits(u128 hi_part, int pairs_hi, int zero_pairs, bool *exact)
{
    u128 root = 0, rem = 0;
    for (int i = pairs_hi - 1; i >= -zero_pairs; i--) {
        unsigned two = i >= 0 ? (unsigned)((hi_part >> (2 * i)) & 3) : 0;
        rem = (rem << 2) | two;
        u128 trial = (root << 2) | 1;
        if (rem >= trial) {
            rem -= trial;
            root = (root << 1) | 1;
        } else {
            root <<= 1;
        }
    }
    *exact = rem == 0;
    return root;
}

Float80 fpu_sqrt(FpuEnv *env, Float80 a)
{
    Float80 r;
    FpuClass c = fpu_classify(a);
    env->round_up = false;
    if (sign_of(a) && (c == FPU_CLASS_DENORMAL || c == FPU_CLASS_NORMAL || c == FPU_CLASS_INF))
        return invalid(env);   /* IE alone, even for a denormal (host x87) */
    if (fpu_check_operand(env, a, &r))
        return r;
    if (c == FPU_CLASS_ZERO || c == FPU_CLASS_INF)
        return a;
    int32_t e;
    uint64_t m = normalize(a, &e);
    int32_t E = e - FPU_BIAS - 63;   /* value = m * 2^E */
    u128 rad = m;
    if (E & 1) {
        rad <<= 1;
        E--;
    }
    bool exact;
    /* sqrt(rad * 4^35) has 67-68 bits: enough for 64 bits plus round/sticky. */
    u128 root = isqrt_bits(rad, 33, 35, &exact);
    int sh = clz128(root);
    u128 mm = (root << sh) | !exact;
    int32_t er = E / 2 - 35 - sh + FPU_BIAS + 127;
    return fpu_round_pack(env, false, er, mm, fpu_precision(env));
}

/* Partial remainder (SDM vol. 2, FPREM/FPREM1).  The exact remainder never
 * needs rounding; the quotient's low bits go to C0/C3/C1. */
Float80 fpu_rem(FpuEnv *env, Float80 a, Float80 b, bool ieee, unsigned *quotient,
                bool *partial)
{
    Float80 r;
    *quotient = FPU_REM_NO_QUOTIENT;
    *partial = false;
    env->round_up = false;
    if (check_two_nan(env, a, b, &r))
        return r;
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    if (ca == FPU_CLASS_INF || cb == FPU_CLASS_ZERO)
        return invalid(env);   /* before any DE (host x87) */
    if (ca == FPU_CLASS_DENORMAL || cb == FPU_CLASS_DENORMAL)
        env->flags |= FPU_DE;
    if (ca == FPU_CLASS_ZERO || cb == FPU_CLASS_INF) {
        *quotient = 0;
        if (exp_of(a) == 0 && (a.mant & FPU_J_BIT))
            a.sign_exp |= 1;   /* a pseudo-denormal comes back normalized */
        return a;              /* a true denormal comes back unchanged */
    }
    bool sa = sign_of(a);
    int32_t ea, eb;
    uint64_t ma = normalize(a, &ea), mb = normalize(b, &eb);
    int32_t d = ea - eb;
    *quotient = 0;
    if (d >= 64) {
        /* Reduce by 2^(d - n) * b with n in 32..63, as the Pentium does. */
        int32_t n = 32 + ((d - 32) & 31);
        int32_t shift = d - n;   /* quotient bits computed: n + 1 */
        u128 rem = ma;
        for (int32_t i = 0; i <= n; i++) {
            /* invariant: rem < 2 * mb at each step start */
            if (i > 0)
                rem <<= 1;
            if (rem >= mb)
                rem -= mb;
        }
        *partial = true;
        if (rem == 0)
            return zero_of(sa);
        int s = clz128(rem);
        /* rem is in units of 2^(eb + shift - bias - 63) */
        return fpu_round_pack(env, sa, eb + shift - s + 127 - 63 + 0, rem << s, 64);
    }
    /* Complete reduction: compute q and r = a - q*b exactly. */
    u128 rem;
    uint64_t q = 0;
    int32_t er;   /* exponent of rem's unit */
    if (d < 0) {
        rem = ma;
        er = ea;
        if (ieee && d == -1) {
            /* |a| > |b|/2 exactly when ma > mb (eb = ea + 1); a tie keeps
             * the even quotient 0. */
            if (ma > mb) {
                /* a - b, magnitude b - a */
                rem = ((u128)mb << 1) - ma;   /* units of 2^(ea) */
                q = 1;
                sa = !sa;
            }
        }
    } else {
        rem = ma;
        for (int32_t i = 0; i <= d; i++) {
            if (i > 0)
                rem <<= 1;
            q <<= 1;
            if (rem >= mb) {
                rem -= mb;
                q |= 1;
            }
        }
        er = eb;
        if (ieee) {
            u128 twice = rem << 1;
            if (twice > mb || (twice == mb && (q & 1))) {
                rem = mb - rem;
                q++;
                sa = !sa;
            }
        }
    }
    *quotient = (unsigned)(q & 7);
    if (rem == 0)
        return zero_of(sign_of(a));
    int s = clz128(rem);
    return fpu_round_pack(env, sa, er + 64 - s, rem << s, 64);
}

/* Round a finite nonzero value to an integer per RC; shared by FRNDINT,
 * FIST and FBSTP.  false when the magnitude is 2^64 or more. */
static bool round_integer(FpuEnv *env, Float80 a, u128 *mag, bool *inexact)
{
    int32_t e;
    uint64_t m = normalize(a, &e);
    int32_t unb = e - FPU_BIAS;   /* value = m * 2^(unb - 63) */
    int rc = (env->cw >> 10) & 3;
    bool s = sign_of(a);
    *inexact = false;
    env->round_up = false;
    if (unb >= 64)
        return false;
    if (unb == 63) {
        *mag = m;
        return true;
    }
    u128 ip, rest, half;
    if (unb <= -2) {            /* below one half */
        ip = 0;
        rest = 1;
        half = 2;
    } else if (unb == -1) {     /* value = m * 2^-64 */
        ip = 0;
        rest = m;
        half = FPU_J_BIT;
    } else {
        int frac_bits = 63 - unb;
        ip = m >> frac_bits;
        rest = m & ((1ull << frac_bits) - 1);
        half = (u128)1 << (frac_bits - 1);
    }
    if (rest) {
        *inexact = true;
        if (round_increment(rc, s, ip & 1, rest, half)) {
            ip++;
            env->round_up = true;
        }
    }
    *mag = ip;
    return true;
}

Float80 fpu_round_to_int(FpuEnv *env, Float80 a)
{
    Float80 r;
    env->round_up = false;
    if (fpu_check_operand(env, a, &r))
        return r;
    FpuClass c = fpu_classify(a);
    if (c == FPU_CLASS_ZERO || c == FPU_CLASS_INF)
        return a;
    int32_t e;
    normalize(a, &e);
    if (e - FPU_BIAS >= 63)
        return a;
    u128 mag;
    bool inexact;
    round_integer(env, a, &mag, &inexact);
    bool up = env->round_up;
    if (inexact)
        env->flags |= FPU_PE;
    if (mag == 0)
        return zero_of(sign_of(a));
    int s = clz128(mag);
    r = fpu_round_pack(env, sign_of(a), FPU_BIAS + 127 - s, mag << s, 64);
    env->round_up = up;
    return r;
}

bool fpu_to_int(FpuEnv *env, Float80 a, int bits, int64_t *out)
{
    FpuClass c = fpu_classify(a);
    env->round_up = false;
    *out = 0;
    if (c == FPU_CLASS_INVALID || c == FPU_CLASS_QNAN || c == FPU_CLASS_SNAN ||
        c == FPU_CLASS_INF) {
        env->flags |= FPU_IE;
        return false;
    }
    if (c == FPU_CLASS_ZERO)
        return true;
    /* No DE for a denormal source (host x87): it is simply inexact. */
    u128 mag;
    bool inexact;
    if (!round_integer(env, a, &mag, &inexact)) {
        env->flags |= FPU_IE;
        env->round_up = false;
        return false;
    }
    u128 limit = (u128)1 << (bits - 1);
    bool s = sign_of(a);
    if (mag > limit || (mag == limit && !s)) {
        env->flags |= FPU_IE;
        env->round_up = false;
        return false;
    }
    if (inexact)
        env->flags |= FPU_PE;
    *out = s ? (int64_t)(0 - (uint64_t)mag) : (int64_t)(uint64_t)mag;
    return true;
}

Float80 fpu_from_int(int64_t v)
{
    if (v == 0)
        return zero_of(false);
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int sh = __builtin_clzll(m);
    return fpu_make(s, (uint16_t)(FPU_BIAS + 63 - sh), m << sh);
}

/* Memory formats: single (8-bit exponent) and double (11-bit). */
typedef struct MemFormat {
    int exp_bits, frac_bits, bias;
} MemFormat;

static const MemFormat fmt32 = { 8, 23, 127 }, fmt64 = { 11, 52, 1023 };

static Float80 from_mem(FpuEnv *env, uint64_t v, const MemFormat *f)
{
    bool s = (v >> (f->exp_bits + f->frac_bits)) & 1;
    int32_t e = (int32_t)((v >> f->frac_bits) & ((1u << f->exp_bits) - 1));
    uint64_t frac = v & ((1ull << f->frac_bits) - 1);
    int32_t emax = (1 << f->exp_bits) - 1;
    if (e == emax) {
        Float80 r = fpu_make(s, FPU_EXP_MAX, FPU_J_BIT | frac << (63 - f->frac_bits));
        if (frac && !(frac >> (f->frac_bits - 1))) {
            env->flags |= FPU_IE;   /* SNaN: converted to QNaN */
            r = quiet(r);
        }
        return r;
    }
    if (e == 0) {
        if (frac == 0)
            return zero_of(s);
        env->flags |= FPU_DE;
        int sh = __builtin_clzll(frac);
        return fpu_make(s, (uint16_t)(FPU_BIAS - f->bias + 1 - (sh - (63 - f->frac_bits))),
                        frac << sh);
    }
    return fpu_make(s, (uint16_t)(e - f->bias + FPU_BIAS), FPU_J_BIT | frac << (63 - f->frac_bits));
}

static uint64_t pack_mem(bool s, int32_t e, uint64_t sig, const MemFormat *f)
{
    return (uint64_t)s << (f->exp_bits + f->frac_bits) | (uint64_t)e << f->frac_bits |
           ((sig >> (63 - f->frac_bits)) & ((1ull << f->frac_bits) - 1));
}

/* Returns false (nothing to store) on unmasked IE/OE/UE. */
static bool to_mem(FpuEnv *env, Float80 a, const MemFormat *f, uint64_t *out)
{
    FpuClass c = fpu_classify(a);
    bool s = sign_of(a);
    int32_t emax = (1 << f->exp_bits) - 1;
    env->round_up = false;
    switch (c) {
    case FPU_CLASS_INVALID:
        env->flags |= FPU_IE;
        *out = pack_mem(true, emax, 0xC000000000000000ull, f);
        return env->cw & FPU_IE;
    case FPU_CLASS_SNAN:
    case FPU_CLASS_QNAN:
        if (c == FPU_CLASS_SNAN)
            env->flags |= FPU_IE;
        *out = pack_mem(s, emax, quiet(a).mant, f);
        return c == FPU_CLASS_QNAN || (env->cw & FPU_IE);
    case FPU_CLASS_INF:
        *out = pack_mem(s, emax, 0, f);
        return true;
    case FPU_CLASS_ZERO:
        *out = pack_mem(s, 0, 0, f);
        return true;
    default:
        break;
    }
    int32_t e;
    uint64_t m = normalize(a, &e);
    Rounded r = round_core(env, s, e - FPU_BIAS + f->bias, (u128)m << 64, f->frac_bits + 1,
                           emax, true);
    if (r.no_store)
        return false;
    *out = pack_mem(s, r.exp, r.sig, f);
    return true;
}

Float80 fpu_from_f32(FpuEnv *env, uint32_t v) { return from_mem(env, v, &fmt32); }
Float80 fpu_from_f64(FpuEnv *env, uint64_t v) { return from_mem(env, v, &fmt64); }

uint32_t fpu_to_f32(FpuEnv *env, Float80 a)
{
    uint64_t v = 0;
    to_mem(env, a, &fmt32, &v);
    return (uint32_t)v;
}

uint64_t fpu_to_f64(FpuEnv *env, Float80 a)
{
    uint64_t v = 0;
    to_mem(env, a, &fmt64, &v);
    return v;
}

Float80 fpu_from_bcd(const uint8_t bcd[10])
{
    int64_t v = 0;
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (bcd[i] >> 4) * 10 + (bcd[i] & 15);
    Float80 r = fpu_from_int(v);
    if (bcd[9] & 0x80)
        r.sign_exp |= 0x8000;   /* -0 stays -0 (SDM vol. 2, FBLD) */
    return r;
}

bool fpu_to_bcd(FpuEnv *env, Float80 a, uint8_t bcd[10])
{
    static const uint8_t indefinite[10] = { 0, 0, 0, 0, 0, 0, 0, 0xC0, 0xFF, 0xFF };
    FpuClass c = fpu_classify(a);
    bool s = sign_of(a);
    u128 mag = 0;
    bool inexact = false;
    env->round_up = false;
    memset(bcd, 0, 10);
    if (c == FPU_CLASS_NORMAL || c == FPU_CLASS_DENORMAL) {
        if (!round_integer(env, a, &mag, &inexact))
            mag = (u128)1 << 100;
    } else if (c != FPU_CLASS_ZERO) {
        mag = (u128)1 << 100;
    }
    if (mag >= (u128)1000000000000000000ull) {
        env->flags |= FPU_IE;
        env->round_up = false;
        memcpy(bcd, indefinite, 10);
        return env->cw & FPU_IE;
    }
    if (inexact)
        env->flags |= FPU_PE;
    uint64_t v = (uint64_t)mag;
    for (int i = 0; i < 9; i++) {
        bcd[i] = (uint8_t)((v % 10) | ((v / 10) % 10) << 4);
        v /= 100;
    }
    bcd[9] = s ? 0x80 : 0;
    return true;
}

/* The seven constants with 128-bit significands; the x87 rounds them per RC
 * (SDM vol. 1, 8.3.8). */
Float80 fpu_constant(const FpuEnv *env, int which)
{
    static const struct { uint64_t hi, lo; int32_t exp; } k[7] = {
        { 0x8000000000000000ull, 0, 0 },                              /* 1 */
        { 0xd49a784bcd1b8afeull, 0x492bf6ff4dafdb4cull, 1 },          /* log2 10 */
        { 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull, 0 },          /* log2 e */
        { 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull, 1 },          /* pi */
        { 0x9a209a84fbcff798ull, 0x8f8959ac0b7c9178ull, -2 },         /* log10 2 */
        { 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull, -1 },         /* ln 2 */
        { 0, 0, 0 },                                                  /* 0 */
    };
    if (which == 6)
        return zero_of(false);
    FpuEnv tmp = { (uint16_t)(env->cw | 0x3F), 0, false };
    u128 m = ((u128)k[which].hi << 64) | k[which].lo;
    return fpu_round_pack(&tmp, false, FPU_BIAS + k[which].exp, m, 64);
}

Float80 fpu_scale(FpuEnv *env, Float80 a, Float80 b)
{
    Float80 r;
    env->round_up = false;
    if (check_two(env, a, b, &r))
        return r;
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    bool sa = sign_of(a), sb = sign_of(b);
    if (cb == FPU_CLASS_INF) {
        if (ca == FPU_CLASS_ZERO && !sb)
            return invalid(env);
        if (ca == FPU_CLASS_INF && sb)
            return invalid(env);
        if (ca == FPU_CLASS_ZERO || ca == FPU_CLASS_INF)
            return a;
        return sb ? zero_of(sa) : inf_of(sa);
    }
    if (ca == FPU_CLASS_ZERO || ca == FPU_CLASS_INF)
        return a;
    if (cb == FPU_CLASS_ZERO) {
        /* Scaling by 2^0 hands back a denormal untouched and a
         * pseudo-denormal normalized (host x87). */
        if (exp_of(a) == 0 && (a.mant & FPU_J_BIT))
            a.sign_exp |= 1;
        return a;
    }
    /* n = trunc(b), clamped: anything beyond +-2^17 already saturates. */
    int32_t eb;
    int64_t n = 0;
    if (cb != FPU_CLASS_ZERO) {
        uint64_t mb = normalize(b, &eb);
        int32_t unb = eb - FPU_BIAS;
        if (unb >= 20)
            n = 1 << 20;
        else if (unb >= 0)
            n = (int64_t)(mb >> (63 - unb));
        if (sb)
            n = -n;
    }
    int32_t ea;
    uint64_t ma = normalize(a, &ea);
    return fpu_round_pack(env, sa, (int32_t)(ea + n), (u128)ma << 64, 64);
}

void fpu_xtract(FpuEnv *env, Float80 a, Float80 *exponent, Float80 *significand)
{
    Float80 r;
    env->round_up = false;
    if (fpu_check_operand(env, a, &r)) {
        *exponent = *significand = r;
        return;
    }
    FpuClass c = fpu_classify(a);
    if (c == FPU_CLASS_ZERO) {
        env->flags |= FPU_ZE;
        *exponent = inf_of(true);
        *significand = a;
        return;
    }
    if (c == FPU_CLASS_INF) {
        *exponent = inf_of(false);
        *significand = a;
        return;
    }
    int32_t e;
    uint64_t m = normalize(a, &e);
    *exponent = fpu_from_int(e - FPU_BIAS);
    *significand = fpu_make(sign_of(a), FPU_BIAS, m);
}

int fpu_compare(FpuEnv *env, Float80 a, Float80 b, bool quiet_cmp)
{
    FpuClass ca = fpu_classify(a), cb = fpu_classify(b);
    env->round_up = false;
    if (ca == FPU_CLASS_INVALID || cb == FPU_CLASS_INVALID) {
        env->flags |= FPU_IE;
        return 3;
    }
    bool an = ca == FPU_CLASS_QNAN || ca == FPU_CLASS_SNAN;
    bool bn = cb == FPU_CLASS_QNAN || cb == FPU_CLASS_SNAN;
    if (an || bn) {
        if (!quiet_cmp || ca == FPU_CLASS_SNAN || cb == FPU_CLASS_SNAN)
            env->flags |= FPU_IE;
        return 3;
    }
    if (ca == FPU_CLASS_DENORMAL || cb == FPU_CLASS_DENORMAL)
        env->flags |= FPU_DE;
    if (ca == FPU_CLASS_ZERO && cb == FPU_CLASS_ZERO)
        return 1;
    bool sa = sign_of(a), sb = sign_of(b);
    if (ca == FPU_CLASS_ZERO)
        return sb ? 2 : 0;
    if (cb == FPU_CLASS_ZERO)
        return sa ? 0 : 2;
    if (sa != sb)
        return sa ? 0 : 2;
    int32_t ea = 0, eb = 0;
    uint64_t ma = ca == FPU_CLASS_INF ? 0 : normalize(a, &ea);
    uint64_t mb = cb == FPU_CLASS_INF ? 0 : normalize(b, &eb);
    if (ca == FPU_CLASS_INF) { ea = 0x10000; ma = FPU_J_BIT; }
    if (cb == FPU_CLASS_INF) { eb = 0x10000; mb = FPU_J_BIT; }
    int mag = ea != eb ? (ea > eb ? 2 : 0) : ma != mb ? (ma > mb ? 2 : 0) : 1;
    if (sa && mag != 1)
        mag = 2 - mag;
    return mag;
}
