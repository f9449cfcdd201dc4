/*
 * cpu/fpu_soft.h -- software 80-bit extended arithmetic for the x87 unit
 * (private to cpu/).  Every operation takes an FpuEnv carrying the control
 * word (rounding control, precision control, exception masks) and collects
 * the exception flags it raises plus the C1 "rounded up" indication.
 *
 * Numbers follow the Intel SDM vol. 1, chapter 4.8 / 8.2 encodings: a 15-bit
 * biased exponent (bias 16383) and a 64-bit significand with an explicit
 * integer bit J (bit 63).
 */
#ifndef VSX_CPU_FPU_SOFT_H
#define VSX_CPU_FPU_SOFT_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/fpu.h"

/* Status-word exception bits (SDM vol. 1, figure 8-4). */
enum {
    FPU_IE = 0x0001, FPU_DE = 0x0002, FPU_ZE = 0x0004, FPU_OE = 0x0008,
    FPU_UE = 0x0010, FPU_PE = 0x0020, FPU_SF = 0x0040, FPU_ES = 0x0080,
    FPU_C0 = 0x0100, FPU_C1 = 0x0200, FPU_C2 = 0x0400, FPU_C3 = 0x4000,
    FPU_B = 0x8000,
};

#define FPU_BIAS 16383
#define FPU_EXP_MAX 0x7FFF
#define FPU_J_BIT 0x8000000000000000ull

typedef struct FpuEnv {
    uint16_t cw;     /* control word in effect */
    uint16_t flags;  /* exceptions raised so far (status-word bits 0-6) */
    bool round_up;   /* the last rounding increased the magnitude (C1) */
} FpuEnv;

/* Operand classes; "invalid" covers the encodings the 387 and later reject
 * (unnormals, pseudo-NaNs, pseudo-infinities: SDM vol. 1, 8.2.2). */
typedef enum FpuClass {
    FPU_CLASS_ZERO, FPU_CLASS_DENORMAL, FPU_CLASS_NORMAL, FPU_CLASS_INF,
    FPU_CLASS_QNAN, FPU_CLASS_SNAN, FPU_CLASS_INVALID,
} FpuClass;

FpuClass fpu_classify(Float80 a);
bool fpu_is_nan(Float80 a);
Float80 fpu_indefinite(void);   /* the default QNaN: -1.1000...b x 2^16384 */
Float80 fpu_make(bool sign, uint16_t exp, uint64_t mant);

/* Round an exact value m * 2^(e - 16383 - 127) (m normalized, bit 127 set,
 * or zero) to the precision control of env, as for a register result. */
typedef unsigned __int128 fpu_u128;
Float80 fpu_round_pack(FpuEnv *env, bool sign, int32_t e, fpu_u128 m, int prec);
int fpu_precision(const FpuEnv *env);   /* 24, 53 or 64 bits */

Float80 fpu_add(FpuEnv *env, Float80 a, Float80 b, bool subtract);
Float80 fpu_mul(FpuEnv *env, Float80 a, Float80 b);
Float80 fpu_div(FpuEnv *env, Float80 a, Float80 b);
Float80 fpu_sqrt(FpuEnv *env, Float80 a);
/* FPREM (ieee=false) / FPREM1: *quotient gets the low 3 quotient bits
 * (FPU_REM_NO_QUOTIENT for NaN/invalid/special operands: C0 and C3 keep
 * their values), *partial true when the reduction is incomplete (C2). */
#define FPU_REM_NO_QUOTIENT 0xFFFFFFFFu
Float80 fpu_rem(FpuEnv *env, Float80 a, Float80 b, bool ieee, unsigned *quotient,
                bool *partial);
Float80 fpu_round_to_int(FpuEnv *env, Float80 a);
Float80 fpu_scale(FpuEnv *env, Float80 a, Float80 b);
/* FXTRACT: *exponent and *significand. */
void fpu_xtract(FpuEnv *env, Float80 a, Float80 *exponent, Float80 *significand);
/* Compare: 0 less, 1 equal, 2 greater, 3 unordered.  quiet: FUCOM rules. */
int fpu_compare(FpuEnv *env, Float80 a, Float80 b, bool quiet);

/* Conversions. */
Float80 fpu_from_int(int64_t v);
/* Round to an integer of `bits` (16/32/64) bits; false if out of range or
 * invalid (IE raised, caller stores the integer indefinite when masked). */
bool fpu_to_int(FpuEnv *env, Float80 a, int bits, int64_t *out);
Float80 fpu_from_f32(FpuEnv *env, uint32_t v);
Float80 fpu_from_f64(FpuEnv *env, uint64_t v);
uint32_t fpu_to_f32(FpuEnv *env, Float80 a);
uint64_t fpu_to_f64(FpuEnv *env, Float80 a);
/* Packed BCD (10 bytes, SDM vol. 1, 4.7). */
Float80 fpu_from_bcd(const uint8_t bcd[10]);
bool fpu_to_bcd(FpuEnv *env, Float80 a, uint8_t bcd[10]);
/* The constant of D9 E8+which (0 FLD1, 1 FLDL2T, 2 FLDL2E, 3 FLDPI,
 * 4 FLDLG2, 5 FLDLN2, 6 FLDZ), rounded from a 128-bit expansion under the
 * current rounding control, so the last bit depends on RC as on real chips. */
Float80 fpu_constant(const FpuEnv *env, int which);

/* Transcendentals (cpu/fpu_trans.c). */
Float80 fpu_f2xm1(FpuEnv *env, Float80 a);
Float80 fpu_yl2x(FpuEnv *env, Float80 x, Float80 y);
Float80 fpu_yl2xp1(FpuEnv *env, Float80 x, Float80 y);
Float80 fpu_patan(FpuEnv *env, Float80 y, Float80 x);
/* FSIN/FCOS/FSINCOS/FPTAN: false (C2 set, operand unchanged) when
 * |x| >= 2^63. */
bool fpu_sincos(FpuEnv *env, Float80 x, Float80 *sin_out, Float80 *cos_out, bool cos_c1);
bool fpu_tan(FpuEnv *env, Float80 x, Float80 *tan_out);

/* Shared helpers for the transcendental code. */
Float80 fpu_propagate_nan(FpuEnv *env, Float80 a, Float80 b);
/* Raise IE/DE for one operand; returns true if a is a NaN or invalid (then
 * *result holds the propagated QNaN or indefinite). */
bool fpu_check_operand(FpuEnv *env, Float80 a, Float80 *result);

#endif
