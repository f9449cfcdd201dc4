/*
 * cpu/fpu_trans.c -- x87 transcendental instructions (F2XM1, FYL2X, FYL2XP1,
 * FPATAN, FSIN, FCOS, FSINCOS, FPTAN).
 */
#include "cpu/fpu_soft.h"

Float80 fpu_f2xm1(FpuEnv *env, Float80 a)
{
    (void)a;
    env->flags |= FPU_IE;
    return fpu_indefinite();
}

Float80 fpu_yl2x(FpuEnv *env, Float80 x, Float80 y)
{
    (void)x; (void)y;
    env->flags |= FPU_IE;
    return fpu_indefinite();
}

Float80 fpu_yl2xp1(FpuEnv *env, Float80 x, Float80 y)
{
    (void)x; (void)y;
    env->flags |= FPU_IE;
    return fpu_indefinite();
}

Float80 fpu_patan(FpuEnv *env, Float80 y, Float80 x)
{
    (void)x; (void)y;
    env->flags |= FPU_IE;
    return fpu_indefinite();
}

bool fpu_sincos(FpuEnv *env, Float80 x, Float80 *sin_out, Float80 *cos_out)
{
    (void)x;
    env->flags |= FPU_IE;
    *sin_out = *cos_out = fpu_indefinite();
    return true;
}

bool fpu_tan(FpuEnv *env, Float80 x, Float80 *tan_out)
{
    (void)x;
    env->flags |= FPU_IE;
    *tan_out = fpu_indefinite();
    return true;
}
