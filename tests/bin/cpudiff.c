/*
 * tests/bin/cpudiff.c -- host-differential test of the integer ALU.
 *
 *   cpudiff [-s SEED] [-n CASES-PER-FORM] [-v] [FILTER]
 *
 * Each instruction form below is executed twice on the same random or
 * edge-case operands: natively on the x86-64 host (the same machine-code
 * bytes, placed in a small executable thunk that loads EAX/ECX/EDX/EBX and
 * the arithmetic flags, runs the instruction, and stores them back), and in
 * the vsx core as one instruction in flat 32-bit protected mode.  Results and
 * the flags the SDM defines for that instruction (and count) must agree.
 * Only register forms are used, and only encodings that mean the same thing
 * in 64-bit and 32-bit mode (no 0x40-0x4F INC/DEC, which are REX there).
 * Every form runs twice in the core: in 32-bit code, and (NAME/cs16) in a
 * 16-bit code segment with the operand-size prefix toggled, which must mean
 * the same operation.
 *
 * Memory forms use [ESI+disp8] on a buffer both sides see at the same
 * address; string forms (MOVS/STOS/LODS/CMPS/SCAS, REP/REPE/REPNE, DF both
 * ways, overlapping source and destination) run on the same buffer.
 *
 * Then each flag-producing instruction is followed by SETcc CL for all 16
 * conditions (run as two instructions in the core), which checks the flags
 * the core computes lazily are the ones a consumer reads.
 *
 * Output: PASS/FAIL cpudiff.FORM: K/N per form, with the first mismatch.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/bin/cpumachine.h"

enum { CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800 };
#define ARITH (CF | PF | AF | ZF | SF | OF)

/* Which flags are defined after the instruction (Intel SDM Vol. 2, "Flags
 * Affected" of each instruction).  Flags an instruction leaves unchanged are
 * defined (they must keep their input value). */
typedef enum FlagRule {
    FR_ALL,      /* ADD ADC SUB SBB CMP NEG INC DEC XADD CMPXCHG NOT BSWAP */
    FR_LOGIC,    /* AND OR XOR TEST: AF undefined */
    FR_SHIFT,    /* SHL SHR SAR SHLD SHRD: count 0 none; AF undef; OF only count 1 */
    FR_ROTATE,   /* ROL ROR RCL RCR: only CF/OF touched; OF only count 1 */
    FR_MUL,      /* MUL IMUL: CF OF defined */
    FR_DIV,      /* DIV IDIV: all undefined */
    FR_BSCAN,    /* BSF BSR (source nonzero): ZF defined */
    FR_BT,       /* BT BTS BTR BTC: CF defined, ZF unchanged */
} FlagRule;

typedef enum Operands {
    OPS_ANY,      /* random EAX..EBX */
    OPS_COUNT_CL, /* shift count in CL: mix of 0, 1, size-1, >31 */
    OPS_DIV,      /* EDX:EAX / EBX without #DE */
    OPS_IDIV,
    OPS_NONZERO_B,/* EBX != 0 */
    OPS_COUNT01,  /* CL in {0, 1, 32, 33}: masked count 0 or 1 */
    OPS_BITOFF,   /* EBX a signed bit offset within +-512 (BTx m, r) */
    OPS_CMPEQ,    /* CMPXCHG m: half the cases find the accumulator in memory */
    OPS_STRING,   /* string ops: ESI/EDI near each other in the buffer, ECX <= 64, DF random */
} Operands;

typedef struct Form {
    const char *name;
    uint8_t bytes[8];
    int len;
    int imm;        /* trailing immediate bytes to randomize (0, 1, 4) */
    FlagRule fr;
    Operands ops;
    int width;      /* operand width in bits (for count masking) */
} Form;

#define B(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})
static const Form forms[] = {
    /* op r/m32(EAX), r32(EBX) */
    {"add32", B(0x01, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"or32", B(0x09, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"adc32", B(0x11, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"sbb32", B(0x19, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"and32", B(0x21, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"sub32", B(0x29, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"xor32", B(0x31, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"cmp32", B(0x39, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"test32", B(0x85, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"add32-imm32", B(0x81, 0xC0, 0, 0, 0, 0), 4, FR_ALL, OPS_ANY, 32},
    {"adc32-imm8", B(0x83, 0xD0, 0), 1, FR_ALL, OPS_ANY, 32},
    {"sbb32-imm8", B(0x83, 0xD8, 0), 1, FR_ALL, OPS_ANY, 32},
    {"sub32-imm8", B(0x83, 0xE8, 0), 1, FR_ALL, OPS_ANY, 32},
    {"cmp32-imm32", B(0x81, 0xF8, 0, 0, 0, 0), 4, FR_ALL, OPS_ANY, 32},
    {"and32-imm32", B(0x81, 0xE0, 0, 0, 0, 0), 4, FR_LOGIC, OPS_ANY, 32},
    {"test32-imm32", B(0xF7, 0xC0, 0, 0, 0, 0), 4, FR_LOGIC, OPS_ANY, 32},
    {"add8", B(0x00, 0xD8), 0, FR_ALL, OPS_ANY, 8},
    {"sub8-ah", B(0x28, 0xFC), 0, FR_ALL, OPS_ANY, 8}, /* sub ah, bh */
    {"adc16", B(0x66, 0x11, 0xD8), 0, FR_ALL, OPS_ANY, 16},
    {"sbb16", B(0x66, 0x19, 0xD8), 0, FR_ALL, OPS_ANY, 16},
    {"inc32", B(0xFF, 0xC0), 0, FR_ALL, OPS_ANY, 32},
    {"dec32", B(0xFF, 0xC8), 0, FR_ALL, OPS_ANY, 32},
    {"inc8", B(0xFE, 0xC0), 0, FR_ALL, OPS_ANY, 8},
    {"dec16", B(0x66, 0xFF, 0xC8), 0, FR_ALL, OPS_ANY, 16},
    {"neg32", B(0xF7, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"neg8", B(0xF6, 0xD8), 0, FR_ALL, OPS_ANY, 8},
    {"not32", B(0xF7, 0xD0), 0, FR_ALL, OPS_ANY, 32},
    /* shifts and rotates of EAX by 1, CL, imm8 */
    {"rol32-1", B(0xD1, 0xC0), 0, FR_ROTATE, OPS_ANY, 32},
    {"ror32-1", B(0xD1, 0xC8), 0, FR_ROTATE, OPS_ANY, 32},
    {"rcl32-1", B(0xD1, 0xD0), 0, FR_ROTATE, OPS_ANY, 32},
    {"rcr32-1", B(0xD1, 0xD8), 0, FR_ROTATE, OPS_ANY, 32},
    {"shl32-1", B(0xD1, 0xE0), 0, FR_SHIFT, OPS_ANY, 32},
    {"shr32-1", B(0xD1, 0xE8), 0, FR_SHIFT, OPS_ANY, 32},
    {"sar32-1", B(0xD1, 0xF8), 0, FR_SHIFT, OPS_ANY, 32},
    {"rol32-cl", B(0xD3, 0xC0), 0, FR_ROTATE, OPS_COUNT_CL, 32},
    {"ror32-cl", B(0xD3, 0xC8), 0, FR_ROTATE, OPS_COUNT_CL, 32},
    {"rcl32-cl", B(0xD3, 0xD0), 0, FR_ROTATE, OPS_COUNT_CL, 32},
    {"rcr32-cl", B(0xD3, 0xD8), 0, FR_ROTATE, OPS_COUNT_CL, 32},
    {"shl32-cl", B(0xD3, 0xE0), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    {"shr32-cl", B(0xD3, 0xE8), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    {"sar32-cl", B(0xD3, 0xF8), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    {"rol32-imm", B(0xC1, 0xC0, 0), 1, FR_ROTATE, OPS_ANY, 32},
    {"rcr32-imm", B(0xC1, 0xD8, 0), 1, FR_ROTATE, OPS_ANY, 32},
    {"shl32-imm", B(0xC1, 0xE0, 0), 1, FR_SHIFT, OPS_ANY, 32},
    {"sar32-imm", B(0xC1, 0xF8, 0), 1, FR_SHIFT, OPS_ANY, 32},
    {"shl8-1", B(0xD0, 0xE0), 0, FR_SHIFT, OPS_ANY, 8},
    {"sar16-1", B(0x66, 0xD1, 0xF8), 0, FR_SHIFT, OPS_ANY, 16},
    {"rcl8-cl", B(0xD2, 0xD0), 0, FR_ROTATE, OPS_COUNT_CL, 8},
    {"rcr16-cl", B(0x66, 0xD3, 0xD8), 0, FR_ROTATE, OPS_COUNT_CL, 16},
    {"rol8-cl", B(0xD2, 0xC0), 0, FR_ROTATE, OPS_COUNT_CL, 8},
    /* double shifts: SHLD/SHRD EAX, EBX, imm8/CL */
    {"shld32-imm", B(0x0F, 0xA4, 0xD8, 0), 1, FR_SHIFT, OPS_ANY, 32},
    {"shld32-cl", B(0x0F, 0xA5, 0xD8), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    {"shrd32-imm", B(0x0F, 0xAC, 0xD8, 0), 1, FR_SHIFT, OPS_ANY, 32},
    {"shrd32-cl", B(0x0F, 0xAD, 0xD8), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    /* multiply / divide */
    {"mul32", B(0xF7, 0xE3), 0, FR_MUL, OPS_ANY, 32},
    {"imul32-1op", B(0xF7, 0xEB), 0, FR_MUL, OPS_ANY, 32},
    {"imul32-2op", B(0x0F, 0xAF, 0xC3), 0, FR_MUL, OPS_ANY, 32},
    {"imul32-imm32", B(0x69, 0xC3, 0, 0, 0, 0), 4, FR_MUL, OPS_ANY, 32},
    {"imul32-imm8", B(0x6B, 0xC3, 0), 1, FR_MUL, OPS_ANY, 32},
    {"mul8", B(0xF6, 0xE3), 0, FR_MUL, OPS_ANY, 8},
    {"imul16-1op", B(0x66, 0xF7, 0xEB), 0, FR_MUL, OPS_ANY, 16},
    {"div32", B(0xF7, 0xF3), 0, FR_DIV, OPS_DIV, 32},
    {"idiv32", B(0xF7, 0xFB), 0, FR_DIV, OPS_IDIV, 32},
    /* bit scan / test */
    {"bsf32", B(0x0F, 0xBC, 0xC3), 0, FR_BSCAN, OPS_NONZERO_B, 32},
    {"bsr32", B(0x0F, 0xBD, 0xC3), 0, FR_BSCAN, OPS_NONZERO_B, 32},
    {"bt32", B(0x0F, 0xA3, 0xD8), 0, FR_BT, OPS_ANY, 32},
    {"bts32", B(0x0F, 0xAB, 0xD8), 0, FR_BT, OPS_ANY, 32},
    {"btr32", B(0x0F, 0xB3, 0xD8), 0, FR_BT, OPS_ANY, 32},
    {"btc32", B(0x0F, 0xBB, 0xD8), 0, FR_BT, OPS_ANY, 32},
    {"bt32-imm", B(0x0F, 0xBA, 0xE0, 0), 1, FR_BT, OPS_ANY, 32},
    {"bts32-imm", B(0x0F, 0xBA, 0xE8, 0), 1, FR_BT, OPS_ANY, 32},
    {"btr32-imm", B(0x0F, 0xBA, 0xF0, 0), 1, FR_BT, OPS_ANY, 32},
    {"btc32-imm", B(0x0F, 0xBA, 0xF8, 0), 1, FR_BT, OPS_ANY, 32},
    {"bt16", B(0x66, 0x0F, 0xA3, 0xD8), 0, FR_BT, OPS_ANY, 16},
    /* misc */
    {"bswap-eax", B(0x0F, 0xC8), 0, FR_ALL, OPS_ANY, 32},
    {"bswap-ebx", B(0x0F, 0xCB), 0, FR_ALL, OPS_ANY, 32},
    {"xadd32", B(0x0F, 0xC1, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"xadd8", B(0x0F, 0xC0, 0xD8), 0, FR_ALL, OPS_ANY, 8},
    {"cmpxchg32", B(0x0F, 0xB1, 0xD9), 0, FR_ALL, OPS_ANY, 32}, /* cmpxchg ecx, ebx */
    {"cmpxchg8", B(0x0F, 0xB0, 0xD9), 0, FR_ALL, OPS_ANY, 8},
};
#define NFORMS (sizeof forms / sizeof *forms)

/* ------------------------------------------------------------------ host */
typedef struct State {
    uint32_t eax, ecx, edx, ebx;
    uint64_t flags;
    uint32_t esi; /* memory forms: base of the operand buffer */
    uint32_t edi; /* string forms: destination */
} State;

/* x86-64 thunk around the instruction bytes; see the file comment. */
static const uint8_t thunk_head[] = {
    0x53,                         /* push rbx */
    0x41, 0x54,                   /* push r12 */
    0x49, 0x89, 0xFC,             /* mov r12, rdi */
    0x41, 0x8B, 0x04, 0x24,       /* mov eax, [r12] */
    0x41, 0x8B, 0x4C, 0x24, 0x04, /* mov ecx, [r12+4] */
    0x41, 0x8B, 0x54, 0x24, 0x08, /* mov edx, [r12+8] */
    0x41, 0x8B, 0x5C, 0x24, 0x0C, /* mov ebx, [r12+12] */
    0x41, 0x8B, 0x74, 0x24, 0x18, /* mov esi, [r12+24] */
    0x41, 0x8B, 0x7C, 0x24, 0x1C, /* mov edi, [r12+28] */
    0x41, 0xFF, 0x74, 0x24, 0x10, /* push qword [r12+16] */
    0x9D,                         /* popfq */
};
static const uint8_t thunk_tail[] = {
    0x9C,                         /* pushfq */
    0xFC,                         /* cld (the C ABI wants DF clear) */
    0x41, 0x8F, 0x44, 0x24, 0x10, /* pop qword [r12+16] */
    0x41, 0x89, 0x04, 0x24,       /* mov [r12], eax */
    0x41, 0x89, 0x4C, 0x24, 0x04, /* mov [r12+4], ecx */
    0x41, 0x89, 0x54, 0x24, 0x08, /* mov [r12+8], edx */
    0x41, 0x89, 0x5C, 0x24, 0x0C, /* mov [r12+12], ebx */
    0x41, 0x89, 0x74, 0x24, 0x18, /* mov [r12+24], esi */
    0x41, 0x89, 0x7C, 0x24, 0x1C, /* mov [r12+28], edi */
    0x41, 0x5C,                   /* pop r12 */
    0x5B,                         /* pop rbx */
    0xC3,                         /* ret */
};

typedef struct Host {
    uint8_t *page;
} Host;

static int host_init(Host *h)
{
    h->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return h->page == MAP_FAILED ? -1 : 0;
}

static void host_run(Host *h, const uint8_t *insn, int len, State *s)
{
    uint8_t *p = h->page;
    memcpy(p, thunk_head, sizeof thunk_head);
    p += sizeof thunk_head;
    memcpy(p, insn, (size_t)len);
    p += len;
    memcpy(p, thunk_tail, sizeof thunk_tail);
    __builtin___clear_cache((char *)h->page, (char *)p + sizeof thunk_tail);
    void (*fn)(State *) = (void (*)(State *))(uintptr_t)h->page;
    fn(s);
}

/* ----------------------------------------------------------------- guest */
enum { CODE_ADDR = 0x10000 };

/* Runs `ninsn` instructions at CODE_ADDR in flat 32-bit protected mode, or
 * with code16 in a 16-bit code segment based at CODE_ADDR (IP 0); *rip gets
 * the offset reached, relative to CODE_ADDR. */
static void guest_run(CpuMachine *m, const uint8_t *insn, int len, int ninsn, bool code16, State *s,
                      CpuExit *why, uint64_t *rip)
{
    CpuRegs r;
    bus_dma_write(m->bus, CODE_ADDR, insn, (size_t)len);
    uint8_t hlt = 0xF4;
    bus_dma_write(m->bus, CODE_ADDR + (uint64_t)len, &hlt, 1);
    cpu_reset(m->cpu);
    cpu_get_regs(m->cpu, &r);
    cm_flat32(&r);
    r.gpr[REG_AX] = s->eax, r.gpr[REG_CX] = s->ecx, r.gpr[REG_DX] = s->edx, r.gpr[REG_BX] = s->ebx;
    r.gpr[REG_SP] = 0x8000;
    r.gpr[REG_SI] = s->esi;
    r.gpr[REG_DI] = s->edi;
    r.rflags = (s->flags & (ARITH | DF)) | 2;
    r.rip = CODE_ADDR;
    if (code16) {
        cm_seg(&r.seg[SEG_CS], 0x18, CODE_ADDR, 0xFFFF, SEGF_CODE16);
        r.rip = 0;
    }
    r.halted = false;
    cpu_set_regs(m->cpu, &r);
    uint64_t n = 0, start = r.rip;
    *why = cpu_run(m->cpu, (uint64_t)ninsn, &n);
    cpu_get_regs(m->cpu, &r);
    /* A core may retire a REP string instruction in pieces (each piece
     * leaves EIP on the instruction): keep going until it moves on. */
    for (int k = 0; k < 100000 && ninsn == 1 && *why == CPU_EXIT_BUDGET && r.rip == start; k++) {
        *why = cpu_run(m->cpu, 1, &n);
        cpu_get_regs(m->cpu, &r);
    }
    s->eax = (uint32_t)r.gpr[REG_AX], s->ecx = (uint32_t)r.gpr[REG_CX];
    s->edx = (uint32_t)r.gpr[REG_DX], s->ebx = (uint32_t)r.gpr[REG_BX];
    s->esi = (uint32_t)r.gpr[REG_SI];
    s->edi = (uint32_t)r.gpr[REG_DI];
    s->flags = r.rflags;
    *rip = code16 ? r.rip : r.rip - CODE_ADDR;
}

/* The same operation in a 16-bit code segment: toggle the operand-size
 * prefix (add 0x66 to a 32-bit form, drop it from a 16-bit one). */
static int to_code16(const uint8_t *in, int len, uint8_t *out)
{
    if (len > 0 && in[0] == 0x66) {
        memcpy(out, in + 1, (size_t)len - 1);
        return len - 1;
    }
    out[0] = 0x66;
    memcpy(out + 1, in, (size_t)len);
    return len + 1;
}

/* ------------------------------------------------------------- operands */
static uint64_t rng_state;
static uint32_t rnd(void)
{
    /* xorshift64*: deterministic per seed. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t operand(void)
{
    static const uint32_t edge[] = {0,          1,          2,          0x7F,       0x80,
                                    0xFF,       0x7FFF,     0x8000,     0xFFFF,     0x7FFFFFFF,
                                    0x80000000, 0xFFFFFFFF, 0xFFFFFFFE, 0x80000001, 0x0F0F0F0F};
    switch (rnd() % 4) {
    case 0:
        return edge[rnd() % (sizeof edge / sizeof *edge)];
    case 1:
        return rnd() & 0xFF;
    case 2:
        return rnd() | 0x80808080u;
    default:
        return rnd();
    }
}

static uint8_t count_value(int width)
{
    static const uint8_t c[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 255};
    (void)width;
    return rnd() % 2 ? c[rnd() % sizeof c] : (uint8_t)rnd();
}

static void make_case(const Form *f, uint8_t *insn, State *s)
{
    memcpy(insn, f->bytes, (size_t)f->len);
    for (int i = 0; i < f->imm; i++)
        insn[f->len - f->imm + i] = f->imm == 1 ? count_value(f->width) : (uint8_t)rnd();
    if (f->imm == 1 && rnd() % 2) /* immediate operands of ALU/BT forms: any byte */
        insn[f->len - 1] = (uint8_t)rnd();
    s->eax = operand(), s->ebx = operand(), s->ecx = operand(), s->edx = operand();
    s->esi = 0, s->edi = 0;
    s->flags = (rnd() & ARITH) | 2;
    switch (f->ops) {
    case OPS_COUNT_CL:
        s->ecx = (s->ecx & ~0xFFu) | count_value(f->width);
        break;
    case OPS_DIV:
        if (!s->ebx)
            s->ebx = 1 + (rnd() & 0xFF);
        s->edx %= s->ebx; /* quotient fits in 32 bits */
        break;
    case OPS_IDIV:
        for (;;) {
            int64_t dividend = (int64_t)((uint64_t)s->edx << 32 | s->eax);
            int32_t divisor = (int32_t)s->ebx;
            if (divisor != 0 && !(dividend == INT64_MIN && divisor == -1)) {
                int64_t q = dividend / divisor;
                if (q >= INT32_MIN && q <= INT32_MAX)
                    break;
            }
            /* Shrink the dividend towards a small sign-extended value. */
            s->eax = operand();
            s->edx = (s->eax & 0x80000000u) ? 0xFFFFFFFFu : 0;
            if (!s->ebx)
                s->ebx = operand() | 1;
        }
        break;
    case OPS_NONZERO_B:
        if (!s->ebx)
            s->ebx = 1u << (rnd() % 32);
        break;
    case OPS_COUNT01:
        s->ecx = (s->ecx & ~0xFFu) | ((rnd() % 2) | (rnd() % 2 ? 32 : 0));
        break;
    case OPS_BITOFF:
        s->ebx = (uint32_t)((int32_t)(rnd() % 1024) - 512);
        break;
    default:
        break;
    }
}

/* Count the instruction actually uses, after masking to 5 bits. */
static unsigned masked_count(const Form *f, const uint8_t *insn, const State *in)
{
    if (f->ops == OPS_COUNT_CL || f->ops == OPS_COUNT01)
        return in->ecx & 31;
    if (f->imm == 1)
        return insn[f->len - 1] & 31;
    return 1;
}

static uint32_t defined_flags(const Form *f, const uint8_t *insn, const State *in)
{
    unsigned c = masked_count(f, insn, in);
    switch (f->fr) {
    case FR_ALL:
        return ARITH;
    case FR_LOGIC:
        return ARITH & ~AF;
    case FR_SHIFT:
        if (c == 0)
            return ARITH;
        /* SHLD/SHRD with a count above the operand size: undefined (not for
         * 32-bit after masking).  8/16-bit SHL/SHR with count >= width: CF
         * undefined. */
        if (c >= (unsigned)f->width)
            return 0;
        return c == 1 ? ARITH & ~AF : ARITH & ~AF & ~OF;
    case FR_ROTATE:
        if (c == 0)
            return ARITH;
        return c == 1 ? ARITH : ARITH & ~OF;
    case FR_MUL:
        return CF | OF;
    case FR_DIV:
        return 0;
    case FR_BSCAN:
        return ZF;
    case FR_BT:
        return CF | ZF;
    }
    return ARITH;
}

static void fmt_state(char *buf, size_t n, const State *s)
{
    snprintf(buf, n, "eax=%08x ecx=%08x edx=%08x ebx=%08x esi=%08x edi=%08x fl=%03x", s->eax, s->ecx, s->edx,
             s->ebx, s->esi, s->edi, (unsigned)(s->flags & (ARITH | DF)));
}

/* ---- memory operands: [esi+8] (guest) = [esi+8] with an address-size
 * prefix on the host (64-bit mode would use RSI).  The host operand buffer
 * is mapped at the same address the guest sees (MEMBASE, far above guest
 * RAM, where the core's bus maps a buffer of its own), so the same ESI and
 * bit offsets address the same bytes; both buffers are compared after. */
static const char *cpu_model = "486";
enum { MEMBASE = 0x10000000u, MEMSIZE = 0x2000u, MEMESI = MEMBASE + 0x800u };
static const Form mem_forms[] = {
    {"add-m32", B(0x01, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"adc-m32", B(0x11, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"sbb-m32", B(0x19, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"and-m32", B(0x21, 0x5E, 0x08), 0, FR_LOGIC, OPS_ANY, 32},
    {"cmp-m32", B(0x39, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"add-r32-m32", B(0x03, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"lock-add-m32", B(0xF0, 0x01, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"lock-sub-m8", B(0xF0, 0x28, 0x5E, 0x09), 0, FR_ALL, OPS_ANY, 8},
    {"inc-m32", B(0xFF, 0x46, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"dec-m16", B(0x66, 0xFF, 0x4E, 0x0A), 0, FR_ALL, OPS_ANY, 16},
    {"neg-m32", B(0xF7, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"not-m32", B(0xF7, 0x56, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"shl-m32-cl", B(0xD3, 0x66, 0x08), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    {"rcr-m32-1", B(0xD1, 0x5E, 0x08), 0, FR_ROTATE, OPS_ANY, 32},
    {"rol-m8-cl", B(0xD2, 0x46, 0x09), 0, FR_ROTATE, OPS_COUNT_CL, 8},
    {"shld-m32-cl", B(0x0F, 0xA5, 0x5E, 0x08), 0, FR_SHIFT, OPS_COUNT_CL, 32},
    {"shrd-m32-imm", B(0x0F, 0xAC, 0x5E, 0x08, 0), 1, FR_SHIFT, OPS_ANY, 32},
    {"xchg-m32", B(0x87, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"xadd-m32", B(0x0F, 0xC1, 0x5E, 0x08), 0, FR_ALL, OPS_ANY, 32},
    {"lock-xadd-m16", B(0xF0, 0x66, 0x0F, 0xC1, 0x5E, 0x0A), 0, FR_ALL, OPS_ANY, 16},
    {"cmpxchg-m32", B(0x0F, 0xB1, 0x5E, 0x08), 0, FR_ALL, OPS_CMPEQ, 32},
    {"lock-cmpxchg-m8", B(0xF0, 0x0F, 0xB0, 0x5E, 0x08), 0, FR_ALL, OPS_CMPEQ, 8},
    {"cmpxchg-m16", B(0x66, 0x0F, 0xB1, 0x5E, 0x08), 0, FR_ALL, OPS_CMPEQ, 16},
    {"cmpxchg8b-m64", B(0x0F, 0xC7, 0x4E, 0x08), 0, FR_ALL, OPS_CMPEQ, 64},
    {"lock-cmpxchg8b-m64", B(0xF0, 0x0F, 0xC7, 0x4E, 0x08), 0, FR_ALL, OPS_CMPEQ, 64},
    {"bt-m32-r", B(0x0F, 0xA3, 0x5E, 0x08), 0, FR_BT, OPS_BITOFF, 32},
    {"bts-m32-r", B(0x0F, 0xAB, 0x5E, 0x08), 0, FR_BT, OPS_BITOFF, 32},
    {"btr-m16-r", B(0x66, 0x0F, 0xB3, 0x5E, 0x08), 0, FR_BT, OPS_BITOFF, 16},
    {"btc-m32-r", B(0x0F, 0xBB, 0x5E, 0x08), 0, FR_BT, OPS_BITOFF, 32},
    {"bts-m32-imm", B(0x0F, 0xBA, 0x6E, 0x08, 0), 1, FR_BT, OPS_ANY, 32},
    {"movzx-m8", B(0x0F, 0xB6, 0x5E, 0x09), 0, FR_ALL, OPS_ANY, 32},
    {"movsx-m16", B(0x0F, 0xBF, 0x5E, 0x0A), 0, FR_ALL, OPS_ANY, 32},
    {"imul-r32-m32", B(0x0F, 0xAF, 0x5E, 0x08), 0, FR_MUL, OPS_ANY, 32},
    {"div-m32", B(0xF7, 0x76, 0x08), 0, FR_DIV, OPS_ANY, 32},
    /* string instructions (ESI/EDI/ECX as set by OPS_STRING; overlapping
     * MOVS must behave element by element, not like memmove) */
    {"movsb", B(0xA4), 0, FR_ALL, OPS_STRING, 8},
    {"rep-movsb", B(0xF3, 0xA4), 0, FR_ALL, OPS_STRING, 8},
    {"rep-movsd", B(0xF3, 0xA5), 0, FR_ALL, OPS_STRING, 32},
    {"rep-movsw", B(0xF3, 0x66, 0xA5), 0, FR_ALL, OPS_STRING, 16},
    {"rep-stosb", B(0xF3, 0xAA), 0, FR_ALL, OPS_STRING, 8},
    {"rep-stosd", B(0xF3, 0xAB), 0, FR_ALL, OPS_STRING, 32},
    {"lodsw", B(0x66, 0xAD), 0, FR_ALL, OPS_STRING, 16},
    {"rep-lodsb", B(0xF3, 0xAC), 0, FR_ALL, OPS_STRING, 8},
    {"cmpsd", B(0xA7), 0, FR_ALL, OPS_STRING, 32},
    {"repe-cmpsb", B(0xF3, 0xA6), 0, FR_ALL, OPS_STRING, 8},
    {"repne-cmpsb", B(0xF2, 0xA6), 0, FR_ALL, OPS_STRING, 8},
    {"repe-cmpsw", B(0xF3, 0x66, 0xA7), 0, FR_ALL, OPS_STRING, 16},
    {"repne-scasb", B(0xF2, 0xAE), 0, FR_ALL, OPS_STRING, 8},
    {"repe-scasd", B(0xF3, 0xAF), 0, FR_ALL, OPS_STRING, 32},
};
#define NMEMFORMS (sizeof mem_forms / sizeof *mem_forms)

typedef struct MemBuf {
    uint8_t *host;  /* at MEMBASE in the host address space */
    uint8_t *guest; /* mapped at MEMBASE on the core's bus */
} MemBuf;

static int run_mem_form(CpuMachine *m, Host *host, MemBuf *mb, const Form *f, int per_form)
{
    int pass = 0, done = 0;
    char first[768] = "";
    for (int k = 0; k < per_form; k++) {
        uint8_t insn[16], hinsn[17];
        State in, host_s, guest_s;
        make_case(f, insn, &in);
        in.esi = MEMESI;
        if (f->ops == OPS_STRING) {
            static const int deltas[] = {-9, -4, -1, 1, 2, 3, 4, 8, 0x100, -0x100};
            in.edi = (uint32_t)((int32_t)MEMESI + deltas[rnd() % 10]);
            in.ecx = rnd() % 4 ? rnd() % 65 : 0;
            in.flags |= rnd() % 2 ? DF : 0;
            in.eax = rnd() % 2 ? in.eax : 0; /* SCAS: sometimes find a zero */
        }
        if (f->fr == FR_DIV) { /* divisor in memory: keep EDX:EAX / m32 in range */
            uint32_t d = operand();
            d = d ? d : 1;
            in.edx %= d;
            memcpy(mb->host + (MEMESI - MEMBASE) + 8, &d, 4);
        }
        for (uint32_t i = 0; i < MEMSIZE; i += 4) {
            uint32_t v = (f->fr == FR_DIV && i == (MEMESI - MEMBASE) + 8) ? 0 : operand();
            if (v || f->fr != FR_DIV)
                memcpy(mb->host + i, &v, 4);
        }
        if (f->ops == OPS_CMPEQ && rnd() % 2) { /* memory operand = accumulator */
            uint64_t acc = (uint64_t)in.edx << 32 | in.eax;
            memcpy(mb->host + (MEMESI - MEMBASE) + 8, &acc, (size_t)f->width / 8);
        }
        memcpy(mb->guest, mb->host, MEMSIZE);
        hinsn[0] = 0x67; /* 32-bit addressing on the host */
        memcpy(hinsn + 1, insn, (size_t)f->len);
        host_s = guest_s = in;
        host_run(host, hinsn, f->len + 1, &host_s);
        CpuExit why;
        uint64_t rip;
        guest_run(m, insn, f->len, 1, false, &guest_s, &why, &rip);
        uint32_t mask = defined_flags(f, insn, &in);
        int diff_at = -1;
        for (uint32_t i = 0; i < MEMSIZE && diff_at < 0; i++)
            if (mb->host[i] != mb->guest[i])
                diff_at = (int)i;
        bool ok = host_s.eax == guest_s.eax && host_s.ecx == guest_s.ecx && host_s.edx == guest_s.edx &&
                  host_s.ebx == guest_s.ebx && host_s.esi == guest_s.esi && host_s.edi == guest_s.edi &&
                  diff_at < 0 && ((host_s.flags ^ guest_s.flags) & DF) == 0 &&
                  !((host_s.flags ^ guest_s.flags) & mask) && rip == (uint64_t)f->len;
        done++;
        if (ok) {
            pass++;
        } else if (!first[0]) {
            char a[160], b[160], c[160], hex[40] = "";
            fmt_state(a, sizeof a, &in);
            fmt_state(b, sizeof b, &host_s);
            fmt_state(c, sizeof c, &guest_s);
            for (int i = 0; i < f->len; i++)
                snprintf(hex + 2 * i, sizeof hex - 2 * (size_t)i, "%02x", insn[i]);
            char md[96] = "memory equal";
            if (diff_at >= 0)
                snprintf(md, sizeof md, "memory differs at esi%+d: host %02x vsx %02x", diff_at - 0x800,
                         mb->host[diff_at], mb->guest[diff_at]);
            snprintf(first, sizeof first,
                     "bytes %s; in: %s; host: %s; vsx: %s (eip %+lld, exit %d); %s; compared flags %03x", hex, a,
                     b, c, (long long)rip, (int)why, md, mask);
        }
    }
    if (pass == done) {
        printf("PASS cpudiff.%s: %d/%d\n", f->name, pass, done);
        return 0;
    }
    printf("FAIL cpudiff.%s: %d/%d (first mismatch: %s)\n", f->name, pass, done, first);
    return 1;
}

static int run_mem_forms(CpuMachine *m, Host *host, int per_form, const char *filter, int *total)
{
    MemBuf mb;
    mb.host = mmap((void *)(uintptr_t)MEMBASE, MEMSIZE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (mb.host == MAP_FAILED || mb.host != (uint8_t *)(uintptr_t)MEMBASE) {
        if (mb.host != MAP_FAILED)
            munmap(mb.host, MEMSIZE);
        printf("SKIP cpudiff.memory-forms: cannot map host memory at %#x (address in use)\n", MEMBASE);
        return 0;
    }
    mb.guest = calloc(1, MEMSIZE);
    int failed = 0;
    if (!mb.guest || bus_map_ram(m->bus, MEMBASE, MEMSIZE, mb.guest, false) < 0) {
        printf("FAIL cpudiff.memory-forms: cannot map the operand buffer on the bus\n");
        failed = 1;
    } else {
        for (size_t i = 0; i < NMEMFORMS; i++) {
            if (filter && !strstr(mem_forms[i].name, filter))
                continue;
            if (mem_forms[i].width == 64 && !strcmp(cpu_model, "486")) {
                printf("SKIP cpudiff.%s: the 486 has no CMPXCHG8B (run with -m pentium)\n", mem_forms[i].name);
                continue;
            }
            failed += run_mem_form(m, host, &mb, &mem_forms[i], per_form);
            *total += per_form;
        }
        bus_unmap(m->bus, MEMBASE);
    }
    free(mb.guest);
    munmap(mb.host, MEMSIZE);
    return failed;
}

/* One form: per_form random cases, host vs core; prints PASS/FAIL, returns
 * 1 on failure. */
static int run_form(CpuMachine *m, Host *host, const Form *f, const char *name, bool code16, int per_form,
                    int verbose)
{
    int pass = 0;
    char first[768] = "";
    for (int k = 0; k < per_form; k++) {
        uint8_t insn[16], ginsn[17];
        State in, host_s, guest_s;
        make_case(f, insn, &in);
        int glen = code16 ? to_code16(insn, f->len, ginsn) : f->len;
        if (!code16)
            memcpy(ginsn, insn, (size_t)f->len);
        host_s = guest_s = in;
        host_run(host, insn, f->len, &host_s);
        CpuExit why;
        uint64_t rip;
        guest_run(m, ginsn, glen, 1, code16, &guest_s, &why, &rip);
        uint32_t mask = defined_flags(f, insn, &in);
        bool ok = host_s.eax == guest_s.eax && host_s.ecx == guest_s.ecx && host_s.edx == guest_s.edx &&
                  host_s.ebx == guest_s.ebx && !((host_s.flags ^ guest_s.flags) & mask) && rip == (uint64_t)glen;
        if (ok) {
            pass++;
        } else if (!first[0] || verbose) {
            char a[160], b[160], c[160], hex[40] = "";
            fmt_state(a, sizeof a, &in);
            fmt_state(b, sizeof b, &host_s);
            fmt_state(c, sizeof c, &guest_s);
            for (int i = 0; i < glen; i++)
                snprintf(hex + 2 * i, sizeof hex - 2 * (size_t)i, "%02x", ginsn[i]);
            snprintf(first, sizeof first,
                     "bytes %s%s; in: %s; host: %s; vsx: %s (eip %+lld, exit %d); compared flags %03x", hex,
                     code16 ? " (16-bit code)" : "", a, b, c, (long long)rip, (int)why, mask);
            if (verbose)
                printf("# %s: %s\n", name, first);
        }
    }
    if (pass == per_form) {
        printf("PASS cpudiff.%s: %d/%d\n", name, pass, per_form);
        return 0;
    }
    printf("FAIL cpudiff.%s: %d/%d (first mismatch: %s)\n", name, pass, per_form, first);
    return 1;
}

/* ---- flag consumers: an arithmetic instruction followed by SETcc CL, for
 * all 16 conditions (Intel SDM Vol. 1 Appendix B, condition codes).  This
 * checks that the flags the first instruction leaves -- computed lazily by
 * the core -- are the ones the next instruction reads. */
static const Form chain_first[] = {
    {"add32", B(0x01, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"sub32", B(0x29, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"adc32", B(0x11, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"sbb32", B(0x19, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"cmp32", B(0x39, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"and32", B(0x21, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"xor32", B(0x31, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"test32", B(0x85, 0xD8), 0, FR_LOGIC, OPS_ANY, 32},
    {"inc32", B(0xFF, 0xC0), 0, FR_ALL, OPS_ANY, 32},
    {"dec32", B(0xFF, 0xC8), 0, FR_ALL, OPS_ANY, 32},
    {"neg32", B(0xF7, 0xD8), 0, FR_ALL, OPS_ANY, 32},
    {"not32", B(0xF7, 0xD0), 0, FR_ALL, OPS_ANY, 32},
    {"add8", B(0x00, 0xD8), 0, FR_ALL, OPS_ANY, 8},
    {"sub16", B(0x66, 0x29, 0xD8), 0, FR_ALL, OPS_ANY, 16},
    {"inc8", B(0xFE, 0xC0), 0, FR_ALL, OPS_ANY, 8},
    {"shl32-cl01", B(0xD3, 0xE0), 0, FR_SHIFT, OPS_COUNT01, 32},
    {"sar32-cl01", B(0xD3, 0xF8), 0, FR_SHIFT, OPS_COUNT01, 32},
    {"rcr32-1", B(0xD1, 0xD8), 0, FR_ROTATE, OPS_ANY, 32},
    {"bt32", B(0x0F, 0xA3, 0xD8), 0, FR_BT, OPS_ANY, 32},
    {"imul32", B(0x0F, 0xAF, 0xC3), 0, FR_MUL, OPS_ANY, 32},
    {"bsf32", B(0x0F, 0xBC, 0xC3), 0, FR_BSCAN, OPS_NONZERO_B, 32},
};
#define NCHAIN (sizeof chain_first / sizeof *chain_first)

/* Flags each condition code reads: O NO B AE E NE BE A S NS P NP L GE LE G. */
static const uint32_t cc_reads[16] = {OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF,
                                      SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF};

static int run_chains(CpuMachine *m, Host *host, int per_chain, const char *filter)
{
    int failed = 0;
    for (size_t fi = 0; fi < NCHAIN; fi++) {
        const Form *f = &chain_first[fi];
        char name[64];
        snprintf(name, sizeof name, "%s+setcc", f->name);
        if (filter && !strstr(name, filter))
            continue;
        int pass = 0, total = 0;
        char first[768] = "";
        for (int cc = 0; cc < 16; cc++) {
            for (int k = 0; k < per_chain; k++) {
                uint8_t insn[16];
                State in, host_s, guest_s;
                make_case(f, insn, &in);
                insn[f->len] = 0x0F, insn[f->len + 1] = (uint8_t)(0x90 + cc), insn[f->len + 2] = 0xC1;
                int len = f->len + 3;
                host_s = guest_s = in;
                host_run(host, insn, len, &host_s);
                CpuExit why;
                uint64_t rip;
                guest_run(m, insn, len, 2, false, &guest_s, &why, &rip);
                uint32_t mask = defined_flags(f, insn, &in);
                bool cl_defined = (cc_reads[cc] & mask) == cc_reads[cc];
                bool ok = host_s.eax == guest_s.eax && host_s.edx == guest_s.edx && host_s.ebx == guest_s.ebx &&
                          (host_s.ecx & ~0xFFu) == (guest_s.ecx & ~0xFFu) &&
                          (!cl_defined || (host_s.ecx & 0xFF) == (guest_s.ecx & 0xFF)) &&
                          !((host_s.flags ^ guest_s.flags) & mask) && rip == (uint64_t)len;
                total++;
                if (ok) {
                    pass++;
                } else if (!first[0]) {
                    char a[160], b[160], c[160], hex[40] = "";
                    fmt_state(a, sizeof a, &in);
                    fmt_state(b, sizeof b, &host_s);
                    fmt_state(c, sizeof c, &guest_s);
                    for (int i = 0; i < len; i++)
                        snprintf(hex + 2 * i, sizeof hex - 2 * (size_t)i, "%02x", insn[i]);
                    snprintf(first, sizeof first,
                             "bytes %s; in: %s; host: %s; vsx: %s (eip %+lld, exit %d); compared flags %03x%s",
                             hex, a, b, c, (long long)rip, (int)why, mask,
                             cl_defined ? ", CL" : "");
                }
            }
        }
        if (pass == total) {
            printf("PASS cpudiff.%s: %d/%d\n", name, pass, total);
        } else {
            printf("FAIL cpudiff.%s: %d/%d (first mismatch: %s)\n", name, pass, total, first);
            failed++;
        }
    }
    return failed;
}

int main(int argc, char **argv)
{
    uint64_t seed = 0x5eed1234;
    int per_form = 400, verbose = 0;
    const char *filter = NULL, *model = "486";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-s") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "-n") && i + 1 < argc)
            per_form = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-m") && i + 1 < argc)
            model = cpu_model = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else
            filter = argv[i];
    }
    rng_state = seed ? seed : 1;
    printf("# cpudiff seed %#" PRIx64 ", %d cases per form, model %s\n", seed, per_form, model);
    Host host;
    if (host_init(&host) < 0) {
        printf("SKIP cpudiff: cannot map an executable page on the host\n");
        return 0;
    }
    CpuMachine m;
    VsxError err = {{0}};
    if (cm_create(&m, 2u << 20, model, &err) < 0) {
        printf("FAIL cpudiff: cannot create machine: %s\n", err.msg);
        return 1;
    }
    int failed_forms = 0, total = 0;
    for (size_t fi = 0; fi < NFORMS; fi++) {
        for (int code16 = 0; code16 < 2; code16++) {
            char name[64];
            snprintf(name, sizeof name, "%s%s", forms[fi].name, code16 ? "/cs16" : "");
            if (filter && !strstr(name, filter))
                continue;
            failed_forms += run_form(&m, &host, &forms[fi], name, code16, per_form, verbose);
            total += per_form;
        }
    }
    failed_forms += run_mem_forms(&m, &host, per_form / 2 > 0 ? per_form / 2 : 1, filter, &total);
    int per_chain = per_form / 8 > 0 ? per_form / 8 : 1;
    failed_forms += run_chains(&m, &host, per_chain, filter);
    total += per_chain * 16 * (int)NCHAIN;
    printf("# cpudiff: %d cases, %d form(s) failing\n", total, failed_forms);
    cm_destroy(&m);
    munmap(host.page, 4096);
    return failed_forms ? 1 : 0;
}
