/*
 * cpu/cpu.h -- public face of the interpretive x86 core.
 *
 * The core reaches the machine only through chipset/chipset.h (Bus: port I/O,
 * physical memory pages, interrupt acknowledge; Clock: time for RDTSC).
 * Everything else about the core (decoded-instruction cache, lazy flags, TLB)
 * is private to cpu/ (cpu/cpu_internal.h).
 */
#ifndef VSX_CPU_CPU_H
#define VSX_CPU_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "../chipset/chipset.h"

typedef struct Cpu Cpu;

/* Segment registers in encoding order. */
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_COUNT };
/* General registers in encoding order. */
enum { REG_AX, REG_CX, REG_DX, REG_BX, REG_SP, REG_BP, REG_SI, REG_DI };

typedef struct CpuSegment {
    uint16_t selector;
    uint64_t base;
    uint32_t limit;  /* byte-granular effective limit */
    uint16_t flags;  /* descriptor bits 40-47 (type,S,DPL,P) and 52-55 (AVL,L,D/B,G) << 8 */
} CpuSegment;

/* Architectural register file, for tests, debuggers, snapshots and backends. */
typedef struct CpuRegs {
    uint64_t gpr[16];
    uint64_t rip;
    uint64_t rflags;
    CpuSegment seg[SEG_COUNT];
    CpuSegment ldtr, tr;
    uint64_t gdtr_base, idtr_base;
    uint16_t gdtr_limit, idtr_limit;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t dr[8];
    uint64_t efer;
    uint64_t tsc;
    bool halted;
} CpuRegs;

/* Why cpu_run returned. */
typedef enum CpuExit {
    CPU_EXIT_BUDGET = 0, /* executed max_insns (or close to it) */
    CPU_EXIT_HLT,        /* HLT with no interrupt deliverable */
    CPU_EXIT_STOP,       /* bus_request / stop hook asked us to return */
    CPU_EXIT_SHUTDOWN,   /* triple fault: the board decides reset or stop */
} CpuExit;

/* Models: "486", "pentium", later "pentium3", "athlon" ... NULL-terminated. */
const char *const *cpu_model_names(void);
bool cpu_model_valid(const char *model);

/* Creates a CPU on `bus` (registers its BusCpuHooks), in reset state. */
Cpu *cpu_create(Bus *bus, Clock *clk, const char *model, VsxError *err);
void cpu_destroy(Cpu *cpu);
/* RESET# (power-on/hardware reset): CS:IP = F000:FFF0, etc. */
void cpu_reset(Cpu *cpu);

/* Runs up to max_insns instructions (an exception or interrupt delivery
 * counts as part of the instruction that caused it; max_insns = 1 is a
 * single step).  *executed receives the count retired. */
CpuExit cpu_run(Cpu *cpu, uint64_t max_insns, uint64_t *executed);

void cpu_get_regs(Cpu *cpu, CpuRegs *regs);
void cpu_set_regs(Cpu *cpu, const CpuRegs *regs); /* flushes caches/TLB */

/* Total instructions retired since creation (for clocks and MIPS). */
uint64_t cpu_icount(const Cpu *cpu);

void cpu_save(Cpu *cpu, StateStream *s);
int cpu_load(Cpu *cpu, StateStream *s);

#endif
