/*
 * cpu/fpu.c -- the x87 floating-point unit as a pure module (see cpu/fpu.h).
 * Skeleton: state reset and operand sizing; execution still returns #UD.
 */
#include "cpu/fpu.h"

#include <string.h>

/* FNINIT: CW=037Fh, SW=0, all tags empty (Intel SDM vol. 1, 8.1.8 / FINIT). */
void fpu_reset(FpuState *fpu)
{
    fpu->cw = 0x037F;
    fpu->sw = 0;
    fpu->tw = 0xFFFF;
    fpu->fop = 0;
    fpu->fip = fpu->fdp = 0;
    fpu->fcs = fpu->fds = 0;
}

/* RESET#: registers cleared, then the FNINIT state (SDM vol. 3, 9.1.2 table 9-1:
 * x87 CW=0040h after RESET on P6, but the BIOS always runs FNINIT; we use FNINIT's
 * 037Fh control word for both, with the register file zeroed). */
void fpu_power_on(FpuState *fpu)
{
    memset(fpu, 0, sizeof *fpu);
    fpu_reset(fpu);
}

void fpu_operand(unsigned op, uint8_t modrm, bool op32, FpuOperand *info)
{
    (void)op; (void)modrm; (void)op32;
    memset(info, 0, sizeof *info);
}

int fpu_execute(FpuState *fpu, unsigned op, uint8_t modrm, const FpuContext *ctx,
                const uint8_t *in, uint8_t *out, FpuResult *res)
{
    (void)fpu; (void)op; (void)modrm; (void)ctx; (void)in; (void)out; (void)res;
    return FPU_UD;
}

bool fpu_error_pending(const FpuState *fpu)
{
    return (fpu->sw & 0x0080) != 0;
}
