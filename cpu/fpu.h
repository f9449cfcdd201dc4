/*
 * cpu/fpu.h -- the x87 unit as a pure module (private to cpu/).
 *
 * The core decodes D8-DF, computes the effective address, and does all guest
 * memory traffic itself (so faults stay precise):
 *   1. fpu_operand(op, modrm, &info) says how many bytes to read and write;
 *   2. the core checks CR0.EM/TS (#NM), probes the write range, reads the
 *      input bytes;
 *   3. fpu_execute() updates FpuState and fills the output bytes;
 *   4. the core writes them.
 * fpu_execute never touches guest memory or raises CPU exceptions itself; it
 * returns FPU_MF when an unmasked exception is pending at the start of a
 * waiting instruction (the core raises #MF if CR0.NE, else asserts FERR/IRQ13).
 */
#ifndef VSX_CPU_FPU_H
#define VSX_CPU_FPU_H

#include <stdbool.h>
#include <stdint.h>

/* 80-bit extended value, as stored in memory. */
typedef struct Float80 {
    uint64_t mant;
    uint16_t sign_exp;
} Float80;

typedef struct FpuState {
    Float80 st[8];      /* physical registers R0-R7 */
    uint16_t cw, sw;    /* control word, status word (TOP in bits 11-13) */
    uint16_t tw;        /* full tag word: 2 bits per physical register */
    uint16_t fop;       /* last non-control opcode (11 bits) */
    uint32_t fip, fdp;  /* last instruction / data pointer offsets */
    uint16_t fcs, fds;  /* and their selectors */
} FpuState;

/* Operand traffic of one instruction. */
typedef struct FpuOperand {
    uint8_t read_len;   /* bytes the core reads at EA before fpu_execute */
    uint8_t write_len;  /* bytes fpu_execute produces for the core to store */
    bool env;           /* FLDENV/FSTENV/FSAVE/FRSTOR: size depends on mode */
    bool control;       /* non-waiting control instruction (FNINIT, FNSTSW...) */
} FpuOperand;

/* Context the environment layouts depend on. */
typedef struct FpuContext {
    bool protected_mode; /* CR0.PE && !VM: selector layout, else real-mode layout */
    bool op32;           /* 32-bit operand size: 28/108-byte images, else 14/94 */
    uint16_t cs, ds;     /* selectors for FIP/FDP bookkeeping */
    uint32_t ip;         /* offset of this instruction (FIP) */
    uint32_t ea;         /* effective address offset of the memory operand (FDP) */
    bool has_mem;
    uint32_t eflags;     /* CF/ZF/PF for FCMOVcc (P6) */
} FpuContext;

enum {
    FPU_OK = 0,
    FPU_MF = 1,        /* raise #MF (or FERR#) before executing: nothing changed */
    FPU_UD = 2,        /* invalid encoding: raise #UD */
};

/* Results that leave the FPU: FSTSW AX, FCOMI/FUCOMI (P6) flags. */
typedef struct FpuResult {
    bool write_ax;
    uint16_t ax;
    bool write_eflags;     /* ZF, PF, CF set from the compare; OF/SF/AF cleared */
    uint32_t eflags_zpc;
    bool suppress_write;   /* unmasked exception on a store: the core writes nothing */
} FpuResult;

void fpu_reset(FpuState *fpu);             /* FNINIT state */
void fpu_power_on(FpuState *fpu);          /* RESET# state */
/* op: 0-7 for D8-DF; modrm: the ModRM byte. */
void fpu_operand(unsigned op, uint8_t modrm, bool op32, FpuOperand *info);
int fpu_execute(FpuState *fpu, unsigned op, uint8_t modrm, const FpuContext *ctx,
                const uint8_t *in, uint8_t *out, FpuResult *res);
/* Is an unmasked exception pending (ES)? For FWAIT and the FERR# line. */
bool fpu_error_pending(const FpuState *fpu);

#endif
