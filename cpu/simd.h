/*
 * cpu/simd.h -- MMX / SSE / SSE2 state and entry points (private to cpu/).
 *
 * The XMM registers and MXCSR live here; the MMX registers are the
 * significands of the x87 physical registers in FpuState (SDM Vol. 1 9.5),
 * so they need no storage of their own.
 *
 * The decoder routes every SIMD opcode of the 0F map to one handler family
 * (fam_simd, fam_simd_ib in opcodes.def); simd.c then picks the form from
 * its own table keyed by mandatory prefix (none/66/F3/F2) and opcode.
 */
#ifndef VSX_CPU_SIMD_H
#define VSX_CPU_SIMD_H

#include <stdint.h>

typedef union Xmm {
    uint8_t b[16];
    int8_t sb[16];
    uint16_t w[8];
    int16_t sw[8];
    uint32_t d[4];
    int32_t sd[4];
    uint64_t q[2];
    float f[4];
    double fd[2];
} Xmm;

typedef struct SimdState {
    Xmm xmm[8];
    uint32_t mxcsr;
} SimdState;

/* MXCSR fields (SDM Vol. 1 10.2.3). */
enum {
    MXCSR_IE = 1u << 0, MXCSR_DE = 1u << 1, MXCSR_ZE = 1u << 2, MXCSR_OE = 1u << 3,
    MXCSR_UE = 1u << 4, MXCSR_PE = 1u << 5, MXCSR_DAZ = 1u << 6,
    MXCSR_MASKS = 0x3Fu << 7, MXCSR_RC = 3u << 13, MXCSR_FTZ = 1u << 15,
    MXCSR_RESET = 0x1F80,
};

/* CPUID.1 EDX bits the SIMD unit looks at. */
enum {
    CPUID_MMX = 1u << 23, CPUID_FXSR = 1u << 24, CPUID_SSE = 1u << 25,
    CPUID_SSE2 = 1u << 26, CPUID_CLFSH = 1u << 19,
};

/* RESET# state: XMM registers zero, MXCSR 1F80h (SDM Vol. 3A Table 9-1). */
void simd_reset(SimdState *s);

#endif
