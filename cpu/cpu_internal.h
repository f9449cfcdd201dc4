/*
 * cpu/cpu_internal.h -- private state of the interpretive x86 core.
 *
 * Architecture (DESIGN.md "The interpreter, for speed"):
 *  - Guest code is decoded once into blocks of Insn records (handler pointers
 *    + pre-digested operands) kept in an arena, keyed by physical address,
 *    EIP and code size (CS.D).  A block ends at a control transfer (it runs
 *    on through a forward direct JMP/CALL within its page), at an
 *    instruction that changes the mode, or at the page end.  Blocks are
 *    found through successor links, a jump cache and a hash table; writes to
 *    a physical page holding cached code (tracked per 64-byte chunk) drop
 *    that page's blocks.
 *  - Dispatch is threaded: each Insn's tfn tail-calls the next, and a
 *    sentinel after the block's last one chains to the successor block
 *    (cpu.c "the run loop").
 *  - Flags are lazy: the last flag-setting operation records its kind,
 *    operands and result (cc_*), and EFLAGS bits are computed when read.
 *  - The software TLB maps a linear page to a host pointer; a hit is one
 *    64-bit compare that also covers "the access does not cross the page".
 *    Read and write TLBs are separate, and there is one set for supervisor
 *    and one for user accesses.  Pages holding cached code get no write entry.
 *  - Exceptions go through one path: cpu_raise() longjmps back to cpu_run,
 *    which delivers the exception (with the double/triple fault rules) and
 *    resumes.  Handlers therefore read everything before writing anything.
 */
#ifndef VSX_CPU_CPU_INTERNAL_H
#define VSX_CPU_CPU_INTERNAL_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cpu.h"
#include "fpu.h"
#include "simd.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

typedef struct Insn Insn;
typedef void (*InsnFn)(Cpu *cpu, const Insn *i);

/* One decoded instruction.  fn runs it alone; tfn ("threaded") runs it and
 * then tail-calls the next Insn's tfn, so a whole block runs without going
 * back to a dispatch loop.  Every block ends with a sentinel Insn whose tfn
 * returns. */
struct Insn {
    InsnFn fn;
    InsnFn tfn;
    uint32_t eip;      /* offset of the instruction (blocks are keyed by it too) */
    uint32_t next_eip; /* eip + len */
    uint32_t disp;     /* ModRM displacement, moffs, or far offset */
    uint32_t imm;      /* immediate or relative displacement (sign-extended) */
    uint32_t amask;    /* 0xFFFF or 0xFFFFFFFF: address size */
    uint16_t imm2;     /* far selector, ENTER level */
    uint16_t op;       /* 0x000-0x0FF one byte, 0x100-0x1FF after 0F */
    uint8_t len;       /* bytes including prefixes */
    uint8_t modrm;
    uint8_t reg;       /* ModRM.reg, or the register coded in the opcode */
    uint8_t rm;        /* ModRM.rm (register form) */
    uint8_t base, index, scale; /* EA = r[base] + (r[index] << scale) + disp */
    uint8_t seg;       /* effective segment for the memory operand */
    uint8_t mem;       /* ModRM names memory */
    uint8_t o32, a32;  /* operand / address size is 32 bits */
    uint8_t rep;       /* 0, 2 (F2 REPNE) or 3 (F3 REP/REPE) */
    uint8_t lock;
    uint8_t segovr;    /* a segment override prefix was present */
    uint8_t cl;        /* shift count comes from CL */
};

#define R_ZERO 16      /* index of the always-zero register used by EA */

typedef union Gpr {
    uint64_t q;
    uint32_t d;
    uint16_t w;
    uint8_t b[8];
} Gpr;

/* Segment register cache, plus the offset ranges an access may touch
 * (lo..hi inclusive, for reads and for writes).  An unusable segment has
 * lo > hi so every access takes the slow path, which raises the fault. */
typedef struct SegCache {
    uint32_t base;
    uint32_t limit;
    uint16_t sel;
    uint16_t flags;    /* as CpuSegment.flags */
    uint32_t rlo, rhi, wlo, whi;
    uint32_t pad;      /* 32 bytes: seg[n] is a shift away */
} SegCache;

/* Descriptor flags (CpuSegment.flags layout). */
enum {
    DF_TYPE = 0x0F, DF_A = 0x01, DF_RW = 0x02, DF_CE = 0x04, DF_CODE = 0x08,
    DF_S = 0x10, DF_DPL = 0x60, DF_P = 0x80, DF_AVL = 0x1000, DF_L = 0x2000,
    DF_DB = 0x4000, DF_G = 0x8000,
};

/* TLB: tag is the linear page address, or TLB_INVALID. */
#define TLB_BITS 11
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_INVALID (1ull << 40)
#define TLB_USED_MAX 256
typedef struct TlbEntry {
    uint64_t tag;
    uintptr_t addend;  /* host pointer = addend + linear address */
} TlbEntry;            /* 16 bytes: a 2048-entry TLB is 32 KiB */

/* Decoded block. */
typedef struct Block {
    uint32_t phys;     /* physical address of the first instruction */
    uint32_t eip;      /* offset it was decoded at (for the CS limit check) */
    uint8_t code32;
    uint16_t n;        /* instructions */
    uint16_t bytes;    /* guest bytes covered */
    struct Block *hnext;  /* hash chain */
    struct Block *pnext;  /* chain of blocks on the same physical page */
    /* Direct successors (fall-through, other), valid while gen equals
     * link_gen() (see there). */
    uint32_t gen;
    uint32_t succ_eip[2];
    struct Block *succ[2];
    Insn insn[];
} Block;

#define BLOCK_MAX_INSNS 64
#define BLOCK_HASH_BITS 14
#define JC_BITS 12
#define ARENA_SIZE (16u << 20)

/* Lazy flag operation kinds; +0/+1/+2 for 8/16/32-bit operands. */
enum {
    CC_EAGER = 0,   /* arithmetic flags are in eflags */
    CC_ADD = 1, CC_ADC = 4, CC_SUB = 7, CC_SBB = 10, CC_LOGIC = 13,
    CC_INC = 16, CC_DEC = 19,
    CC_ZSP = 22,    /* CF/OF/AF in eflags, ZF/SF/PF from the result */
};

enum {
    FL_CF = 1u << 0, FL_PF = 1u << 2, FL_AF = 1u << 4, FL_ZF = 1u << 6,
    FL_SF = 1u << 7, FL_TF = 1u << 8, FL_IF = 1u << 9, FL_DF = 1u << 10,
    FL_OF = 1u << 11, FL_IOPL = 3u << 12, FL_NT = 1u << 14, FL_RF = 1u << 16,
    FL_VM = 1u << 17, FL_AC = 1u << 18, FL_VIF = 1u << 19, FL_VIP = 1u << 20,
    FL_ID = 1u << 21,
};
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

enum {
    CR0_PE = 1u << 0, CR0_MP = 1u << 1, CR0_EM = 1u << 2, CR0_TS = 1u << 3,
    CR0_ET = 1u << 4, CR0_NE = 1u << 5, CR0_WP = 1u << 16, CR0_AM = 1u << 18,
    CR0_NW = 1u << 29, CR0_CD = 1u << 30, CR0_PG = 1u << 31,
};
enum {
    CR4_VME = 1u << 0, CR4_PVI = 1u << 1, CR4_TSD = 1u << 2, CR4_DE = 1u << 3,
    CR4_PSE = 1u << 4, CR4_PAE = 1u << 5, CR4_MCE = 1u << 6, CR4_PGE = 1u << 7,
    CR4_PCE = 1u << 8, CR4_OSFXSR = 1u << 9, CR4_OSXMMEXCPT = 1u << 10,
};

/* Exception vectors. */
enum {
    EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
    EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
    EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18,
};
#define ERR_NONE (-1)

/* Instruction availability classes (model table). */
enum { ISA_386 = 0, ISA_486 = 1, ISA_P5 = 2, ISA_P6 = 3 };

typedef struct CpuModel {
    const char *name;
    int isa;              /* highest ISA_* class implemented */
    uint32_t max_leaf;
    char vendor[13];
    uint32_t signature;   /* CPUID.1 EAX */
    uint32_t features;    /* CPUID.1 EDX */
    uint32_t features_ecx;
    uint32_t tsc_mhz;
    uint32_t cr4_mask;    /* CR4 bits that exist */
    /* P6-era leaves (zero when absent): */
    uint32_t leaf1_ebx;   /* CPUID.1 EBX (CLFLUSH line size) */
    uint32_t leaf2[4];    /* CPUID.2 cache/TLB descriptors */
    uint32_t max_ext;     /* highest 8000_00xxh leaf, 0 if none */
    uint32_t ext_edx;     /* CPUID.80000001h EDX */
    const char *brand;    /* CPUID.80000002h-4 brand string */
    uint32_t ext5[4], ext6[4]; /* AMD L1 / L2 cache leaves */
} CpuModel;

/* P6 MSRs stored for firmware and kernels (cpu/msr_p6.c). */
typedef struct MsrP6 {
    uint64_t mtrr_fixed[11], mtrr_var[16], mtrr_def_type;
    uint64_t pat;
    uint64_t mcg_status, mc0[4];
    uint64_t perfctr[2], perfevtsel[2];
} MsrP6;
bool msr_p6_read(Cpu *c, uint32_t msr, uint64_t *v);
bool msr_p6_write(Cpu *c, uint32_t msr, uint64_t v);
void msr_p6_reset(Cpu *c);

struct Cpu {
    /* hot state first */
    Gpr r[17];                 /* r[16] is always zero (EA) */
    uint32_t eip, next_eip;    /* adjacent, as in Insn: entering one copies both */
    uint32_t eflags;           /* non-arithmetic bits always; arith when CC_EAGER */
    /* Lazy flags: cc_a/cc_b are stale after LOGIC, INC and DEC, and cc_cin
     * is meaningful only after ADC, SBB, INC and DEC (see cc_commit). */
    uint32_t cc_op, cc_res, cc_a, cc_b, cc_cin;
    SegCache seg[SEG_COUNT];
    TlbEntry *tlbr, *tlbw;     /* current privilege's TLBs */
    uint8_t cpl;
    uint8_t code32, stack32;   /* CS.D, SS.B */
    volatile uint8_t brk;      /* leave the current block after this insn */
    /* Instructions retired before the running block; while a block runs
     * (blk != NULL), cur is its instruction executing now and the exact
     * count is icount + (cur - blk->insn) (cpu_icount_now). */
    uint64_t icount;
    const Block *blk;
    const Insn *cur;
    uint64_t chain_limit;      /* block_end chains while icount stays below */
    unsigned chain_left;       /* blocks block_end may still chain to */

    TlbEntry tlb_r[2][TLB_SIZE], tlb_w[2][TLB_SIZE];
    uint32_t tlb_rpage[2][TLB_SIZE], tlb_wpage[2][TLB_SIZE]; /* physical page of each entry */
    TlbEntry tlb_none[TLB_SIZE];  /* never hits: alignment checking is on */
    /* Slots filled since the last flush, so that flushes (every CR0/CR3
     * write: real/protected mode switching firmware does thousands a
     * second) and code-page write protection touch only those. */
    uint16_t tlb_used[TLB_USED_MAX];
    unsigned tlb_nused;           /* > TLB_USED_MAX: too many, scan everything */
    bool ac_check;                /* CR0.AM && EFLAGS.AC && CPL 3 */

    /* system state */
    uint32_t cr0, cr2, cr3, cr4;
    uint32_t dr[8];
    SegCache ldtr, tr;
    uint32_t gdtr_base, idtr_base;
    uint16_t gdtr_limit, idtr_limit;
    uint64_t efer;
    uint64_t tsc_offset;
    uint64_t apic_base;
    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint32_t a20_mask;
    bool paging;
    bool halted;
    bool intr_line;
    bool nmi_pending, nmi_blocked;
    uint64_t shadow_icount;     /* interrupts inhibited while icount == this */
    bool shadow;
    volatile bool stop;
    bool shutdown;

    /* exception bookkeeping */
    jmp_buf jb;
    int exc_vec, exc_err;       /* being raised */
    int delivering;             /* vector being delivered, or -1 */
    bool exc_is_trap;           /* INT n / INT3 / INTO: return to next insn */
    bool push_rf;               /* fault delivery: RF set in the pushed EFLAGS */
    bool data_bp;               /* DR7 enables a data breakpoint: no TLB fills */
    uint32_t dr6_pending;       /* data breakpoints hit by this insn */

    FpuState fpu;
    MsrP6 msr6;
    uint64_t pdpte[4];          /* PAE: loaded by MOV CR3/CR0/CR4 (SDM Vol. 3A 4.4.1) */
    SimdState simd;            /* XMM0-7, MXCSR (cpu/simd.c) */

    /* decoded code cache */
    uint8_t *arena;
    size_t arena_used;
    Block *hash[1u << BLOCK_HASH_BITS];
    Block **page_blocks;        /* per tracked RAM page: chain of blocks */
    uint64_t *code_chunks;      /* per tracked RAM page: 64-byte chunks holding code */
    uint32_t tracked_pages;
    Block *scratch;             /* uncached single-instruction decode */
    uint32_t chain_gen;
    struct { uint64_t translated, uncached, invalidated, flushes; } stats;
    /* Jump cache: the block last found at an eip, valid while its gen
     * equals link_gen (indirect jumps and returns, whose successor changes,
     * find their target here without the page walk and hash lookup). */
    struct { uint32_t eip, gen; Block *b; } jc[1u << JC_BITS];
    Block *prev_block;          /* last block run (for chaining), or NULL */
    uint32_t prev_gen;

    Bus *bus;
    Clock *clk;
    const CpuModel *model;
};

/* ---- registers ---- */
#define R8(c, n) ((c)->r[(n) & 3].b[(n) >> 2])
#define R16(c, n) ((c)->r[n].w)
#define R32(c, n) ((c)->r[n].d)

/* Generation that block successor links are valid in: chain_gen (bumped
 * when a mapping, the CS base/limit/size or the code cache changes) and
 * the CPL the links were made at (a link skips the code fetch's privilege
 * check), so system calls and interrupts leave both levels' links intact. */
static inline uint32_t link_gen(const Cpu *c)
{
    return c->chain_gen * 4 + c->cpl;
}

/* Makes i the instruction executing now. */
static inline void insn_enter(Cpu *c, const Insn *i)
{
    c->cur = i;
    memcpy(&c->eip, &i->eip, 8); /* eip and next_eip */
}

/* Runs i with its full handler, then goes on threaded (the slow half of
 * THREADED_F in ops.h). */
void thread_slow(Cpu *c, const Insn *i);

/* Instructions retired so far, exact also inside a running block. */
static inline uint64_t cpu_icount_now(const Cpu *c)
{
    return c->blk ? c->icount + (uint64_t)(c->cur - c->blk->insn) : c->icount;
}

static inline uint32_t cpu_ea(const Cpu *c, const Insn *i)
{
    return (c->r[i->base].d + (c->r[i->index].d << i->scale) + i->disp) & i->amask;
}

/* Next instruction offset masked to the operand size (near jumps). */
static inline uint32_t ip_mask(const Insn *i, uint32_t v)
{
    return i->o32 ? v : (v & 0xFFFF);
}

/* ---- exceptions (exceptions.c) ---- */
_Noreturn void cpu_raise(Cpu *c, int vec, int err);
static inline _Noreturn void cpu_gp(Cpu *c, int err) { cpu_raise(c, EXC_GP, err); }
static inline _Noreturn void cpu_ud(Cpu *c) { cpu_raise(c, EXC_UD, ERR_NONE); }
void cpu_deliver(Cpu *c, int vec, int err, bool soft, uint32_t ret_eip);
void cpu_service_interrupts(Cpu *c);

/* ---- memory (mmu.c) ---- */
uint64_t mem_rd_slow(Cpu *c, int seg, uint32_t off, unsigned n);
void mem_wr_slow(Cpu *c, int seg, uint32_t off, unsigned n, uint64_t v);
uint64_t lin_rd(Cpu *c, uint32_t lin, unsigned n, bool user);
void lin_wr(Cpu *c, uint32_t lin, unsigned n, uint64_t v, bool user);
/* Supervisor (system) accesses: descriptor tables, TSS, IDT. */
static inline uint32_t sys_rd32(Cpu *c, uint32_t lin) { return (uint32_t)lin_rd(c, lin, 4, false); }
static inline uint16_t sys_rd16(Cpu *c, uint32_t lin) { return (uint16_t)lin_rd(c, lin, 2, false); }
static inline uint8_t sys_rd8(Cpu *c, uint32_t lin) { return (uint8_t)lin_rd(c, lin, 1, false); }
void tlb_flush(Cpu *c);
void tlb_flush_page(Cpu *c, uint32_t lin);
void cpu_update_tlb_sel(Cpu *c);
/* Physical address of a linear one for an access (faults as the access would). */
uint32_t mmu_translate(Cpu *c, uint32_t lin, bool write, bool user);
/* PAE: reads the four PDPTEs `cr3` points at; false when a present one has
 * reserved bits set (the MOV that loads them then raises #GP(0)). */
bool mmu_read_pdptes(Cpu *c, uint32_t cr3, uint64_t out[4]);
/* Checks that [off, off+n) of seg may be written (for multi-part writes). */
void mem_probe_write(Cpu *c, int seg, uint32_t off, unsigned n);
void mem_probe_read(Cpu *c, int seg, uint32_t off, unsigned n);
/* Code: host pointer and physical address for the fetch at CS:eip. */
void code_invalidate_range(Cpu *c, uint64_t paddr, uint64_t len);
void code_flush_all(Cpu *c);
bool code_page_tracked(Cpu *c, uint32_t ppage);
void code_mark(Cpu *c, uint32_t phys, unsigned len);
/* Data breakpoints (DR0-DR3 with RW=01/11) over a linear range. */
void debug_check_data(Cpu *c, uint32_t lin, unsigned n, bool write);
void debug_dr7_changed(Cpu *c);

static inline bool tlb_hit(const TlbEntry *e, uint32_t lin, unsigned n)
{
    return (uint64_t)lin - e->tag <= 4096u - n;
}

/* mrdW/mwrW: a data access through segment seg.  The _try forms do only
 * the fast path (segment range and TLB hit) and return false, having done
 * nothing, when the access needs the slow path (page walk, device, fault). */
#define DEF_MEM(W)                                                            \
    static inline bool mrd##W##_try(Cpu *c, int seg, uint32_t off, uint##W##_t *v) \
    {                                                                         \
        const SegCache *s = &c->seg[seg];                                     \
        uint32_t lin = s->base + off;                                         \
        const TlbEntry *e = &c->tlbr[(lin >> 12) & (TLB_SIZE - 1)];           \
        if (likely(off >= s->rlo && (uint64_t)off + (W / 8 - 1) <= s->rhi &&  \
                   tlb_hit(e, lin, W / 8))) {                                 \
            memcpy(v, (const void *)(e->addend + lin), W / 8);                \
            return true;                                                      \
        }                                                                     \
        return false;                                                         \
    }                                                                         \
    static inline bool mwr##W##_try(Cpu *c, int seg, uint32_t off, uint##W##_t v) \
    {                                                                         \
        const SegCache *s = &c->seg[seg];                                     \
        uint32_t lin = s->base + off;                                         \
        const TlbEntry *e = &c->tlbw[(lin >> 12) & (TLB_SIZE - 1)];           \
        if (likely(off >= s->wlo && (uint64_t)off + (W / 8 - 1) <= s->whi &&  \
                   tlb_hit(e, lin, W / 8))) {                                 \
            memcpy((void *)(e->addend + lin), &v, W / 8);                     \
            return true;                                                      \
        }                                                                     \
        return false;                                                         \
    }                                                                         \
    static inline uint##W##_t mrd##W(Cpu *c, int seg, uint32_t off)           \
    {                                                                         \
        uint##W##_t v;                                                        \
        if (likely(mrd##W##_try(c, seg, off, &v)))                            \
            return v;                                                         \
        return (uint##W##_t)mem_rd_slow(c, seg, off, W / 8);                  \
    }                                                                         \
    static inline void mwr##W(Cpu *c, int seg, uint32_t off, uint##W##_t v)   \
    {                                                                         \
        if (likely(mwr##W##_try(c, seg, off, v)))                             \
            return;                                                           \
        mem_wr_slow(c, seg, off, W / 8, v);                                   \
    }
DEF_MEM(8)
DEF_MEM(16)
DEF_MEM(32)
DEF_MEM(64)
/* Memory access inside a handler body shared by a handler and its fast_
 * form: with fast set, only the TLB-hit path, and the body returns false
 * (before any side effect) when that misses. */
#define MRD_OR_FAIL(W, fast, seg, off, dst)                                   \
    do {                                                                      \
        if (fast) {                                                           \
            if (!mrd##W##_try(c, seg, off, &(dst)))                           \
                return false;                                                 \
        } else {                                                              \
            (dst) = mrd##W(c, seg, off);                                      \
        }                                                                     \
    } while (0)
#define MWR_OR_FAIL(W, fast, seg, off, v)                                     \
    do {                                                                      \
        if (fast) {                                                           \
            if (!mwr##W##_try(c, seg, off, v))                                \
                return false;                                                 \
        } else {                                                              \
            mwr##W(c, seg, off, v);                                           \
        }                                                                     \
    } while (0)

/* ---- flags (flags.c) ---- */
uint32_t flags_arith(const Cpu *c);
static inline uint32_t cpu_get_eflags(const Cpu *c)
{
    if (c->cc_op == CC_EAGER)
        return c->eflags;
    return (c->eflags & ~FL_ARITH) | flags_arith(c);
}
static inline void cpu_flags_materialize(Cpu *c)
{
    if (c->cc_op != CC_EAGER) {
        c->eflags = cpu_get_eflags(c);
        c->cc_op = CC_EAGER;
    }
}
/* Lazy condition evaluation, inlined where the condition is a constant. */
static const uint32_t cc_size_mask[3] = { 0xFF, 0xFFFF, 0xFFFFFFFF };
static const uint32_t cc_size_sign[3] = { 0x80, 0x8000, 0x80000000 };
/* Individual flags without computing the rest. */
static inline bool lazy_cf(const Cpu *c, unsigned kind, uint32_t m)
{
    uint32_t a = c->cc_a & m, b = c->cc_b & m, r = c->cc_res & m;
    switch (kind * 3 + 1) {
    case CC_ADD: return r < a;
    case CC_ADC: return r < a || (c->cc_cin && r == a);
    case CC_SUB: return a < b;
    case CC_SBB: return a < b || (c->cc_cin && a == b);
    case CC_LOGIC: return false;
    case CC_INC: case CC_DEC: return c->cc_cin;
    default: return c->eflags & FL_CF;
    }
}
static inline bool lazy_of(const Cpu *c, unsigned kind, uint32_t m, uint32_t sign)
{
    uint32_t a = c->cc_a & m, b = c->cc_b & m, r = c->cc_res & m;
    switch (kind * 3 + 1) {
    case CC_ADD: case CC_ADC: return (a ^ r) & (b ^ r) & sign;
    case CC_SUB: case CC_SBB: return (a ^ b) & (a ^ r) & sign;
    case CC_LOGIC: return false;
    case CC_INC: return r == sign;
    case CC_DEC: return r == sign - 1;
    default: return c->eflags & FL_OF;
    }
}

/* Condition codes 0-15 (SDM Vol. 1 Table B-1), computing only the flags
 * the condition reads. */
static inline __attribute__((always_inline)) bool cpu_cond_inline(Cpu *c, unsigned cc)
{
    bool res;
    if (c->cc_op == CC_EAGER) {
        uint32_t f = c->eflags;
        switch (cc >> 1) {
        case 0: res = f & FL_OF; break;
        case 1: res = f & FL_CF; break;
        case 2: res = f & FL_ZF; break;
        case 3: res = f & (FL_CF | FL_ZF); break;
        case 4: res = f & FL_SF; break;
        case 5: res = f & FL_PF; break;
        case 6: res = !(f & FL_SF) != !(f & FL_OF); break;
        default: res = (f & FL_ZF) || (!(f & FL_SF) != !(f & FL_OF)); break;
        }
        return res ^ (cc & 1);
    }
    unsigned kind = (c->cc_op - 1) / 3, sz = (c->cc_op - 1) % 3;
    uint32_t m = cc_size_mask[sz], sign = cc_size_sign[sz], r = c->cc_res & m;
    if (kind * 3 + 1 == CC_SUB) {
        uint32_t a = c->cc_a & m, b = c->cc_b & m;
        switch (cc >> 1) {
        case 1: return (a < b) ^ (cc & 1);
        case 3: return (a <= b) ^ (cc & 1);
        case 6: return ((a ^ sign) < (b ^ sign)) ^ (cc & 1);
        case 7: return ((a ^ sign) <= (b ^ sign)) ^ (cc & 1);
        default: break;
        }
    }
    switch (cc >> 1) {
    case 0: res = lazy_of(c, kind, m, sign); break;
    case 1: res = lazy_cf(c, kind, m); break;
    case 2: res = r == 0; break;
    case 3: res = r == 0 || lazy_cf(c, kind, m); break;
    case 4: res = r & sign; break;
    case 5: res = !__builtin_parity(r & 0xFF); break;
    case 6: res = !(r & sign) != !lazy_of(c, kind, m, sign); break;
    default: res = r == 0 || (!(r & sign) != !lazy_of(c, kind, m, sign)); break;
    }
    return res ^ (cc & 1);
}

bool cpu_cond(Cpu *c, unsigned cc);
static inline __attribute__((always_inline)) bool get_cf(Cpu *c) { return cpu_cond_inline(c, 2); }
/* Writes EFLAGS as POPF/IRET/task switch would (mask = bits allowed). */
void cpu_set_eflags(Cpu *c, uint32_t v, uint32_t mask);

/* ---- segmentation and control transfer (seg.c) ---- */
void seg_load_real(Cpu *c, int seg, uint16_t sel);
void seg_load(Cpu *c, int seg, uint16_t sel);  /* MOV/POP/LxS: mode aware */
void seg_set_cache(Cpu *c, int seg, uint16_t sel, uint32_t base, uint32_t limit, uint16_t flags);
void seg_update_ranges(SegCache *s, int seg, bool protected_mode);
bool seg_read_desc(Cpu *c, uint16_t sel, uint32_t d[2], int exc, bool ext);
void cpu_set_cpl(Cpu *c, unsigned cpl);
void far_jump(Cpu *c, uint16_t sel, uint32_t off, bool o32);
void far_call(Cpu *c, uint16_t sel, uint32_t off, bool o32);
void far_ret(Cpu *c, bool o32, uint16_t pop);
void cpu_iret(Cpu *c, bool o32);
void task_switch(Cpu *c, uint16_t sel, const uint32_t desc[2], int source, int err);
enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };
bool io_permitted(Cpu *c, uint16_t port, unsigned n);
void seg_lldt(Cpu *c, uint16_t sel);
void seg_ltr(Cpu *c, uint16_t sel);
static inline bool cpu_pm(const Cpu *c) { return c->cr0 & CR0_PE; }
static inline bool cpu_v86(const Cpu *c) { return c->eflags & FL_VM; }
static inline bool cpu_pm_nonv86(const Cpu *c) { return (c->cr0 & CR0_PE) && !(c->eflags & FL_VM); }
static inline unsigned cpu_iopl(const Cpu *c) { return (c->eflags >> 12) & 3; }

/* ---- control registers, MSRs, model (cpu.c) ---- */
void cpu_write_cr0(Cpu *c, uint32_t v);
void cpu_write_cr3(Cpu *c, uint32_t v);
void cpu_write_cr4(Cpu *c, uint32_t v);
uint64_t cpu_rdtsc(Cpu *c);
bool cpu_rdmsr(Cpu *c, uint32_t msr, uint64_t *v);
bool cpu_wrmsr(Cpu *c, uint32_t msr, uint64_t v);
void cpu_cpuid(Cpu *c, uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *cc, uint32_t *d);
void cpu_mode_changed(Cpu *c);   /* CS.D/SS.B/CPL/PE changed: end the block */

/* ---- decoder (decode.c) ---- */
/* Decodes one instruction at CS:eip from `bytes` (avail bytes valid).
 * Returns length, or 0 if more bytes were needed, -1 if the instruction is
 * longer than 15 bytes.  Sets *end when the block must end after it. */
int decode_insn(const Cpu *c, const uint8_t *bytes, unsigned avail, bool code32, Insn *out, bool *end);
bool decode_direct_target(const Insn *i, uint32_t *target); /* i placed (eip set) */
const char *decode_name(unsigned op, unsigned reg);

/* ---- stack primitives: the write happens before SP moves so a fault
 * leaves SP unchanged ---- */
static inline uint32_t sp_mask(const Cpu *c) { return c->stack32 ? 0xFFFFFFFFu : 0xFFFFu; }
static inline uint32_t get_sp(const Cpu *c) { return c->r[REG_SP].d & sp_mask(c); }
static inline void set_sp(Cpu *c, uint32_t v)
{
    if (c->stack32)
        c->r[REG_SP].d = v;
    else
        c->r[REG_SP].w = (uint16_t)v;
}
static inline void push16(Cpu *c, uint16_t v)
{
    uint32_t sp = (get_sp(c) - 2) & sp_mask(c);
    mwr16(c, SEG_SS, sp, v);
    set_sp(c, sp);
}
/* With fast set, only the TLB-hit path (false, nothing done, on a miss). */
static inline __attribute__((always_inline)) bool push32_x(Cpu *c, uint32_t v, bool fast)
{
    uint32_t sp = (get_sp(c) - 4) & sp_mask(c);
    MWR_OR_FAIL(32, fast, SEG_SS, sp, v);
    set_sp(c, sp);
    return true;
}
static inline void push32(Cpu *c, uint32_t v) { push32_x(c, v, false); }
static inline uint16_t pop16(Cpu *c)
{
    uint32_t sp = get_sp(c);
    uint16_t v = mrd16(c, SEG_SS, sp);
    set_sp(c, sp + 2);
    return v;
}
static inline __attribute__((always_inline)) bool pop32_x(Cpu *c, uint32_t *v, bool fast)
{
    uint32_t sp = get_sp(c);
    MRD_OR_FAIL(32, fast, SEG_SS, sp, *v);
    set_sp(c, sp + 4);
    return true;
}
static inline uint32_t pop32(Cpu *c)
{
    uint32_t v;
    pop32_x(c, &v, false);
    return v;
}

/* Jump within CS: checks the limit (#GP(0)). */
static inline void cpu_jump(Cpu *c, uint32_t target)
{
    if (unlikely(target > c->seg[SEG_CS].limit))
        cpu_gp(c, 0);
    c->next_eip = target;
}

/* Common handler for undefined opcodes. */
void op_ud(Cpu *c, const Insn *i);

/* I/O (ops_misc.c) */
void io_check(Cpu *c, uint16_t port, unsigned n);

#endif
