/*
 * tests/bin/simddiff.c -- host-differential test of MMX, SSE and SSE2.
 *
 *   simddiff [-s SEED] [-n CASES-PER-FORM] [-m MODEL] [-v] [FILTER]
 *
 * Each instruction form is executed on the same random or edge-case operands
 * (NaNs, infinities, denormals, zeros, integer extremes) under a random
 * MXCSR (all four rounding modes, FTZ, DAZ, sticky flags; exceptions masked)
 * twice: natively on the x86-64 host and in the vsx core (flat 32-bit
 * protected mode, CR4.OSFXSR set).  Both run the same machine-code bytes: a
 * thunk that loads XMM0/XMM1/MM0/MM1/EAX from a state block addressed by
 * [E/R]DI, points [E/R]BX at a 16-byte memory operand inside it, loads
 * MXCSR, runs the instruction, and stores everything back with MXCSR and
 * EFLAGS.  Every byte of the thunk means the same in 32-bit and 64-bit mode
 * as long as the state block lies below 2 GB (MAP_32BIT on the host).
 * XMM0/XMM1, MM0/MM1, EAX, the memory operand and MXCSR must agree, and
 * EFLAGS for the COMISS family.
 *
 * Output: PASS/FAIL simddiff.FORM per form (register and memory variants).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/bin/cpumachine.h"

enum { T_INT, T_F32, T_F64 };
enum { V_REG = 1, V_MEM = 2, V_BOTH = 3, V_IMM = 4, V_FLAGS = 8, V_EDI = 16, V_CNT = 32 };

typedef struct Form {
    const char *name;
    uint8_t prefix;   /* 0, 0x66, 0xF3, 0xF2 */
    uint8_t op;       /* after 0F */
    uint8_t modrm;    /* register form (mod 11); the memory form uses [EBX] */
    uint8_t type;
    uint8_t flags;
} Form;

#define F(n, p, o, m, t, f) { n, p, o, m, T_##t, f },
/* ps/pd/ss/sd forms of a floating-point opcode. */
#define FP4(n, o)                                                             \
    F(n "ps", 0, o, 0xC1, F32, V_BOTH) F(n "pd", 0x66, o, 0xC1, F64, V_BOTH)  \
    F(n "ss", 0xF3, o, 0xC1, F32, V_BOTH) F(n "sd", 0xF2, o, 0xC1, F64, V_BOTH)
/* MMX form and its 66 XMM form. */
#define MX(n, o) F(n, 0, o, 0xC1, INT, V_BOTH) F(n "-x", 0x66, o, 0xC1, INT, V_BOTH)

static const Form forms[] = {
    FP4("add", 0x58) FP4("mul", 0x59) FP4("sub", 0x5C) FP4("min", 0x5D)
    FP4("div", 0x5E) FP4("max", 0x5F) FP4("sqrt", 0x51)
    F("cmpps", 0, 0xC2, 0xC1, F32, V_BOTH | V_IMM) F("cmppd", 0x66, 0xC2, 0xC1, F64, V_BOTH | V_IMM)
    F("cmpss", 0xF3, 0xC2, 0xC1, F32, V_BOTH | V_IMM) F("cmpsd", 0xF2, 0xC2, 0xC1, F64, V_BOTH | V_IMM)
    F("rcpps", 0, 0x53, 0xC1, F32, V_BOTH) F("rsqrtss", 0xF3, 0x52, 0xC1, F32, V_BOTH)
    F("comiss", 0, 0x2F, 0xC1, F32, V_BOTH | V_FLAGS) F("ucomiss", 0, 0x2E, 0xC1, F32, V_BOTH | V_FLAGS)
    F("comisd", 0x66, 0x2F, 0xC1, F64, V_BOTH | V_FLAGS) F("ucomisd", 0x66, 0x2E, 0xC1, F64, V_BOTH | V_FLAGS)
    F("cvtps2pd", 0, 0x5A, 0xC1, F32, V_BOTH) F("cvtpd2ps", 0x66, 0x5A, 0xC1, F64, V_BOTH)
    F("cvtss2sd", 0xF3, 0x5A, 0xC1, F32, V_BOTH) F("cvtsd2ss", 0xF2, 0x5A, 0xC1, F64, V_BOTH)
    F("cvtdq2ps", 0, 0x5B, 0xC1, INT, V_BOTH) F("cvtps2dq", 0x66, 0x5B, 0xC1, F32, V_BOTH)
    F("cvttps2dq", 0xF3, 0x5B, 0xC1, F32, V_BOTH) F("cvttpd2dq", 0x66, 0xE6, 0xC1, F64, V_BOTH)
    F("cvtdq2pd", 0xF3, 0xE6, 0xC1, INT, V_BOTH) F("cvtpd2dq", 0xF2, 0xE6, 0xC1, F64, V_BOTH)
    F("cvtpi2ps", 0, 0x2A, 0xC1, INT, V_BOTH) F("cvtpi2pd", 0x66, 0x2A, 0xC1, INT, V_BOTH)
    F("cvtsi2ss", 0xF3, 0x2A, 0xC0, INT, V_BOTH) F("cvtsi2sd", 0xF2, 0x2A, 0xC0, INT, V_BOTH)
    F("cvttps2pi", 0, 0x2C, 0xC1, F32, V_BOTH) F("cvtps2pi", 0, 0x2D, 0xC1, F32, V_BOTH)
    F("cvttpd2pi", 0x66, 0x2C, 0xC1, F64, V_BOTH) F("cvtpd2pi", 0x66, 0x2D, 0xC1, F64, V_BOTH)
    F("cvttss2si", 0xF3, 0x2C, 0xC1, F32, V_BOTH) F("cvtss2si", 0xF3, 0x2D, 0xC1, F32, V_BOTH)
    F("cvttsd2si", 0xF2, 0x2C, 0xC1, F64, V_BOTH) F("cvtsd2si", 0xF2, 0x2D, 0xC1, F64, V_BOTH)
    F("andps", 0, 0x54, 0xC1, F32, V_BOTH) F("andnps", 0, 0x55, 0xC1, F32, V_BOTH)
    F("orps", 0, 0x56, 0xC1, F32, V_BOTH) F("xorps", 0, 0x57, 0xC1, F32, V_BOTH)
    F("andpd", 0x66, 0x54, 0xC1, F64, V_BOTH) F("xorpd", 0x66, 0x57, 0xC1, F64, V_BOTH)
    F("unpcklps", 0, 0x14, 0xC1, F32, V_BOTH) F("unpckhps", 0, 0x15, 0xC1, F32, V_BOTH)
    F("unpcklpd", 0x66, 0x14, 0xC1, F64, V_BOTH) F("unpckhpd", 0x66, 0x15, 0xC1, F64, V_BOTH)
    F("shufps", 0, 0xC6, 0xC1, F32, V_BOTH | V_IMM) F("shufpd", 0x66, 0xC6, 0xC1, F64, V_BOTH | V_IMM)
    F("movmskps", 0, 0x50, 0xC1, F32, V_REG) F("movmskpd", 0x66, 0x50, 0xC1, F64, V_REG)
    F("movups", 0, 0x10, 0xC1, INT, V_BOTH) F("movupd", 0x66, 0x10, 0xC1, INT, V_BOTH)
    F("movss", 0xF3, 0x10, 0xC1, INT, V_BOTH) F("movsd", 0xF2, 0x10, 0xC1, INT, V_BOTH)
    F("movups-st", 0, 0x11, 0xC1, INT, V_BOTH) F("movss-st", 0xF3, 0x11, 0xC1, INT, V_BOTH)
    F("movsd-st", 0xF2, 0x11, 0xC1, INT, V_BOTH)
    F("movlps", 0, 0x12, 0xC1, INT, V_BOTH) F("movlpd", 0x66, 0x12, 0xC1, INT, V_MEM)
    F("movlps-st", 0, 0x13, 0xC1, INT, V_MEM) F("movhps", 0, 0x16, 0xC1, INT, V_BOTH)
    F("movhpd", 0x66, 0x16, 0xC1, INT, V_MEM) F("movhps-st", 0, 0x17, 0xC1, INT, V_MEM)
    F("movaps", 0, 0x28, 0xC1, INT, V_BOTH) F("movaps-st", 0, 0x29, 0xC1, INT, V_BOTH)
    F("movapd", 0x66, 0x28, 0xC1, INT, V_BOTH) F("movntps", 0, 0x2B, 0xC1, INT, V_MEM)
    F("movntpd", 0x66, 0x2B, 0xC1, INT, V_MEM)
    /* MMX and their SSE2 forms */
    MX("punpcklbw", 0x60) MX("punpcklwd", 0x61) MX("punpckldq", 0x62) MX("packsswb", 0x63)
    MX("pcmpgtb", 0x64) MX("pcmpgtw", 0x65) MX("pcmpgtd", 0x66) MX("packuswb", 0x67)
    MX("punpckhbw", 0x68) MX("punpckhwd", 0x69) MX("punpckhdq", 0x6A) MX("packssdw", 0x6B)
    F("punpcklqdq", 0x66, 0x6C, 0xC1, INT, V_BOTH) F("punpckhqdq", 0x66, 0x6D, 0xC1, INT, V_BOTH)
    MX("pcmpeqb", 0x74) MX("pcmpeqw", 0x75) MX("pcmpeqd", 0x76)
    MX("psrlw", 0xD1) MX("psrld", 0xD2) MX("psrlq", 0xD3) MX("paddq", 0xD4) MX("pmullw", 0xD5)
    MX("psubusb", 0xD8) MX("psubusw", 0xD9) MX("pminub", 0xDA) MX("pand", 0xDB)
    MX("paddusb", 0xDC) MX("paddusw", 0xDD) MX("pmaxub", 0xDE) MX("pandn", 0xDF)
    MX("pavgb", 0xE0) MX("psraw", 0xE1) MX("psrad", 0xE2) MX("pavgw", 0xE3)
    MX("pmulhuw", 0xE4) MX("pmulhw", 0xE5) MX("psubsb", 0xE8) MX("psubsw", 0xE9)
    MX("pminsw", 0xEA) MX("por", 0xEB) MX("paddsb", 0xEC) MX("paddsw", 0xED)
    MX("pmaxsw", 0xEE) MX("pxor", 0xEF) MX("psllw", 0xF1) MX("pslld", 0xF2) MX("psllq", 0xF3)
    MX("pmuludq", 0xF4) MX("pmaddwd", 0xF5) MX("psadbw", 0xF6) MX("psubb", 0xF8)
    MX("psubw", 0xF9) MX("psubd", 0xFA) MX("psubq", 0xFB) MX("paddb", 0xFC)
    MX("paddw", 0xFD) MX("paddd", 0xFE)
    F("pshufw", 0, 0x70, 0xC1, INT, V_BOTH | V_IMM) F("pshufd", 0x66, 0x70, 0xC1, INT, V_BOTH | V_IMM)
    F("pshufhw", 0xF3, 0x70, 0xC1, INT, V_BOTH | V_IMM) F("pshuflw", 0xF2, 0x70, 0xC1, INT, V_BOTH | V_IMM)
    F("psrlw-i", 0, 0x71, 0xD1, INT, V_REG | V_CNT) F("psraw-i", 0, 0x71, 0xE1, INT, V_REG | V_CNT)
    F("psllw-i", 0, 0x71, 0xF1, INT, V_REG | V_CNT) F("psrld-i", 0, 0x72, 0xD1, INT, V_REG | V_CNT)
    F("psrad-i", 0, 0x72, 0xE1, INT, V_REG | V_CNT) F("pslld-i", 0, 0x72, 0xF1, INT, V_REG | V_CNT)
    F("psrlq-i", 0, 0x73, 0xD1, INT, V_REG | V_CNT) F("psllq-i", 0, 0x73, 0xF1, INT, V_REG | V_CNT)
    F("psrlw-xi", 0x66, 0x71, 0xD1, INT, V_REG | V_CNT) F("psraw-xi", 0x66, 0x71, 0xE1, INT, V_REG | V_CNT)
    F("psllw-xi", 0x66, 0x71, 0xF1, INT, V_REG | V_CNT) F("psrad-xi", 0x66, 0x72, 0xE1, INT, V_REG | V_CNT)
    F("psrlq-xi", 0x66, 0x73, 0xD1, INT, V_REG | V_CNT) F("psrldq", 0x66, 0x73, 0xD9, INT, V_REG | V_CNT)
    F("psllq-xi", 0x66, 0x73, 0xF1, INT, V_REG | V_CNT) F("pslldq", 0x66, 0x73, 0xF9, INT, V_REG | V_CNT)
    F("movd-mm", 0, 0x6E, 0xC0, INT, V_BOTH) F("movd-xmm", 0x66, 0x6E, 0xC0, INT, V_BOTH)
    F("movd-mm-st", 0, 0x7E, 0xC0, INT, V_BOTH) F("movd-xmm-st", 0x66, 0x7E, 0xC0, INT, V_BOTH)
    F("movq-xmm", 0xF3, 0x7E, 0xC1, INT, V_BOTH) F("movq-mm", 0, 0x6F, 0xC1, INT, V_BOTH)
    F("movq-mm-st", 0, 0x7F, 0xC1, INT, V_BOTH) F("movdqa", 0x66, 0x6F, 0xC1, INT, V_BOTH)
    F("movdqu", 0xF3, 0x6F, 0xC1, INT, V_BOTH) F("movdqa-st", 0x66, 0x7F, 0xC1, INT, V_BOTH)
    F("movdqu-st", 0xF3, 0x7F, 0xC1, INT, V_BOTH) F("movq-st", 0x66, 0xD6, 0xC1, INT, V_BOTH)
    F("movq2dq", 0xF3, 0xD6, 0xC1, INT, V_REG) F("movdq2q", 0xF2, 0xD6, 0xC1, INT, V_REG)
    F("pinsrw", 0, 0xC4, 0xC0, INT, V_BOTH | V_IMM) F("pinsrw-x", 0x66, 0xC4, 0xC0, INT, V_BOTH | V_IMM)
    F("pextrw", 0, 0xC5, 0xC1, INT, V_REG | V_IMM) F("pextrw-x", 0x66, 0xC5, 0xC1, INT, V_REG | V_IMM)
    F("pmovmskb", 0, 0xD7, 0xC1, INT, V_REG) F("pmovmskb-x", 0x66, 0xD7, 0xC1, INT, V_REG)
    F("movntq", 0, 0xE7, 0xC1, INT, V_MEM) F("movntdq", 0x66, 0xE7, 0xC1, INT, V_MEM)
    F("maskmovq", 0, 0xF7, 0xC1, INT, V_REG | V_EDI) F("maskmovdqu", 0x66, 0xF7, 0xC1, INT, V_REG | V_EDI)
};
#define NFORMS (sizeof forms / sizeof *forms)

/* The state block both sides use (offsets are baked into the thunk). */
typedef struct State {
    uint8_t xmm0[16], xmm1[16];  /* 0, 16 */
    uint64_t mm0, mm1;           /* 32, 40 */
    uint8_t mem[16];             /* 48: the [EBX] operand */
    uint32_t eax;                /* 64 */
    uint32_t mxcsr_in;           /* 68 */
    uint32_t mxcsr_out;          /* 72 */
    uint32_t eflags;             /* 76 */
    uint32_t saved;              /* 80: the host's MXCSR */
    uint32_t pad[3];
} State;
_Static_assert(sizeof(State) == 96, "State layout");

static const uint8_t thunk_head[] = {
    0x53,                   /* push rbx */
    0x57,                   /* push rdi */
    0x0F, 0xAE, 0x5F, 0x50, /* stmxcsr [rdi+80] */
    0x0F, 0x10, 0x07,       /* movups xmm0, [rdi] */
    0x0F, 0x10, 0x4F, 0x10, /* movups xmm1, [rdi+16] */
    0x0F, 0x6F, 0x47, 0x20, /* movq mm0, [rdi+32] */
    0x0F, 0x6F, 0x4F, 0x28, /* movq mm1, [rdi+40] */
    0x8B, 0x47, 0x40,       /* mov eax, [rdi+64] */
    0x8D, 0x5F, 0x30,       /* lea ebx, [rdi+48] */
    0x0F, 0xAE, 0x57, 0x44, /* ldmxcsr [rdi+68] */
};
static const uint8_t thunk_tail[] = {
    0x5F,                   /* pop rdi */
    0x0F, 0xAE, 0x5F, 0x48, /* stmxcsr [rdi+72] */
    0x9C, 0x59,             /* pushf; pop rcx */
    0x89, 0x4F, 0x4C,       /* mov [rdi+76], ecx */
    0x0F, 0x11, 0x07,       /* movups [rdi], xmm0 */
    0x0F, 0x11, 0x4F, 0x10, /* movups [rdi+16], xmm1 */
    0x0F, 0x7F, 0x47, 0x20, /* movq [rdi+32], mm0 */
    0x0F, 0x7F, 0x4F, 0x28, /* movq [rdi+40], mm1 */
    0x89, 0x47, 0x40,       /* mov [rdi+64], eax */
    0x0F, 0x77,             /* emms */
    0x0F, 0xAE, 0x57, 0x50, /* ldmxcsr [rdi+80] */
    0x5B,                   /* pop rbx */
};

/* Builds thunk + instruction; `last` is RET (host) or HLT (guest). */
static size_t build(uint8_t *p, const uint8_t *insn, size_t len, uint8_t last)
{
    size_t n = 0;
    memcpy(p, thunk_head, sizeof thunk_head);
    n += sizeof thunk_head;
    memcpy(p + n, insn, len);
    n += len;
    memcpy(p + n, thunk_tail, sizeof thunk_tail);
    n += sizeof thunk_tail;
    p[n++] = last;
    return n;
}

/* ------------------------------------------------------------------ host */
static uint8_t *host_code;
static State *host_state;

static int host_init(void)
{
    uint8_t *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE | PROT_EXEC,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    host_code = p;
    host_state = (State *)(p + 4096);
    return 0;
}

static void host_run(const uint8_t *insn, size_t len, State *s)
{
    size_t n = build(host_code, insn, len, 0xC3);
    __builtin___clear_cache((char *)host_code, (char *)host_code + n);
    *host_state = *s;
    void (*fn)(State *) = (void (*)(State *))(uintptr_t)host_code;
    fn(host_state);
    *s = *host_state;
}

/* ----------------------------------------------------------------- guest */
enum { CODE_ADDR = 0x10000, STATE_ADDR = 0x2000 };

static bool guest_run(CpuMachine *m, const uint8_t *insn, size_t len, State *s)
{
    uint8_t code[128];
    size_t n = build(code, insn, len, 0xF4);
    bus_dma_write(m->bus, CODE_ADDR, code, n);
    bus_dma_write(m->bus, STATE_ADDR, s, sizeof *s);
    CpuRegs r;
    cpu_reset(m->cpu);
    cpu_get_regs(m->cpu, &r);
    cm_flat32(&r);
    r.cr4 = 0x600; /* OSFXSR | OSXMMEXCPT */
    r.gpr[REG_SP] = 0x8000;
    r.gpr[REG_DI] = STATE_ADDR;
    r.rip = CODE_ADDR;
    r.halted = false;
    cpu_set_regs(m->cpu, &r);
    uint64_t done = 0;
    CpuExit why = cpu_run(m->cpu, 200, &done);
    for (int k = 0; k < 10 && why == CPU_EXIT_STOP; k++)   /* clock slice end */
        why = cpu_run(m->cpu, 200, &done);
    cpu_get_regs(m->cpu, &r);
    bus_dma_read(m->bus, STATE_ADDR, s, sizeof *s);
    return why == CPU_EXIT_HLT && r.rip == CODE_ADDR + n;
}

/* ------------------------------------------------------------- operands */
static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}
static uint64_t rnd64(void) { return (uint64_t)rnd() << 32 | rnd(); }

static uint32_t f32_value(void)
{
    static const uint32_t edge[] = {
        0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x7F800000, 0xFF800000,
        0x7FC00000, 0xFFC00000, 0x7FA00001, 0xFF800123, 0x00000001, 0x807FFFFF,
        0x00400000, 0x00800000, 0x80800000, 0x7F7FFFFF, 0xFF7FFFFF, 0x4F000000,
        0xCF000000, 0x4EFFFFFF, 0xCF000001, 0x3F000000, 0x3FC00000, 0x40490FDB,
    };
    switch (rnd() % 4) {
    case 0: return edge[rnd() % (sizeof edge / sizeof *edge)];
    case 1: return rnd();
    case 2: return (rnd() & 0x807FFFFFu) | ((uint32_t)(0x60 + rnd() % 0x40) << 23);
    default: return (rnd() & 0x80FFFFFFu) | ((uint32_t)(rnd() % 3) << 23) * (rnd() % 2);
    }
}
static uint64_t f64_value(void)
{
    static const uint64_t edge[] = {
        0, 0x8000000000000000ull, 0x3FF0000000000000ull, 0x7FF0000000000000ull,
        0xFFF0000000000000ull, 0x7FF8000000000000ull, 0xFFF8000000000000ull,
        0x7FF4000000000001ull, 0x0000000000000001ull, 0x800FFFFFFFFFFFFFull,
        0x0010000000000000ull, 0x7FEFFFFFFFFFFFFFull, 0x41E0000000000000ull,
        0xC1E0000000000000ull, 0x41DFFFFFFFFFFFFFull, 0xC1E0000000200000ull,
        0x3FE0000000000000ull, 0x36A0000000000000ull, 0x47F0000000000000ull,
    };
    switch (rnd() % 4) {
    case 0: return edge[rnd() % (sizeof edge / sizeof *edge)];
    case 1: return rnd64();
    case 2: return (rnd64() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(0x3C0 + rnd() % 0x80) << 52);
    default: /* near the float32 range edges, for CVTPD2PS */
        return (rnd64() & 0x800FFFFFFFFFFFFFull) | ((uint64_t)(0x360 + rnd() % 0x40 + (rnd() % 2) * 0xE0) << 52);
    }
}
static uint8_t int_byte(void)
{
    static const uint8_t edge[] = { 0, 1, 0x7F, 0x80, 0x81, 0xFE, 0xFF };
    return rnd() % 3 ? (uint8_t)rnd() : edge[rnd() % sizeof edge];
}

static void fill(uint8_t *p, size_t n, int type)
{
    for (size_t k = 0; k < n;) {
        if (type == T_F32) {
            uint32_t v = f32_value();
            memcpy(p + k, &v, 4);
            k += 4;
        } else if (type == T_F64) {
            uint64_t v = f64_value();
            memcpy(p + k, &v, 8);
            k += 8;
        } else {
            p[k++] = int_byte();
        }
    }
}

static void random_state(State *s, const Form *f)
{
    memset(s, 0, sizeof *s);
    fill(s->xmm0, 16, f->type);
    fill(s->xmm1, 16, f->type);
    fill(s->mem, 16, f->type);
    fill((uint8_t *)&s->mm0, 8, T_INT);
    fill((uint8_t *)&s->mm1, 8, T_INT);
    /* Sometimes the same operand twice (x op x, equal compares). */
    if (rnd() % 8 == 0)
        memcpy(s->xmm1, s->xmm0, 16);
    if (rnd() % 8 == 0)
        memcpy(s->mem, s->xmm0, 16);
    uint32_t v = rnd();
    s->eax = rnd() % 4 ? v : (rnd() % 2 ? 0x80000000u : (uint32_t)(int32_t)(int8_t)v);
    /* Rounding mode, FTZ, DAZ random; all exceptions masked; sometimes
     * sticky flags already set. */
    s->mxcsr_in = 0x1F80 | (rnd() % 4) << 13;
    if (rnd() % 4 == 0)
        s->mxcsr_in |= 0x8000;
    if (rnd() % 4 == 0)
        s->mxcsr_in |= 0x40;
    if (rnd() % 4 == 0)
        s->mxcsr_in |= rnd() & 0x3F;
}

/* ----------------------------------------------------------------- main */
static int encode(const Form *f, bool mem, uint8_t imm, uint8_t *out)
{
    int n = 0;
    if (f->flags & V_EDI) {           /* MASKMOV writes DS:[EDI]: aim it at mem */
        out[n++] = 0x57;              /* push rdi */
        out[n++] = 0x8D, out[n++] = 0x7F, out[n++] = 0x30; /* lea edi, [rdi+48] */
    }
    if (f->prefix)
        out[n++] = f->prefix;
    out[n++] = 0x0F;
    out[n++] = f->op;
    out[n++] = mem ? (uint8_t)((f->modrm & 0x38) | 0x03) : f->modrm;
    if (f->flags & (V_IMM | V_CNT))
        out[n++] = imm;
    if (f->flags & V_EDI)
        out[n++] = 0x5F;              /* pop rdi */
    return n;
}

static void dump(const char *tag, const State *s)
{
    fprintf(stderr, "  %s: xmm0=", tag);
    for (int k = 15; k >= 0; k--)
        fprintf(stderr, "%02x", s->xmm0[k]);
    fprintf(stderr, " xmm1=");
    for (int k = 15; k >= 0; k--)
        fprintf(stderr, "%02x", s->xmm1[k]);
    fprintf(stderr, " mm0=%016" PRIx64 " mm1=%016" PRIx64 " mem=", s->mm0, s->mm1);
    for (int k = 15; k >= 0; k--)
        fprintf(stderr, "%02x", s->mem[k]);
    fprintf(stderr, " eax=%08x mxcsr=%04x/%04x fl=%03x\n", s->eax, s->mxcsr_in, s->mxcsr_out,
            s->eflags & 0x8D5);
}

static bool same(const State *a, const State *b, bool flags)
{
    if (memcmp(a, b, offsetof(State, eflags)) != 0)
        return false;
    return !flags || ((a->eflags ^ b->eflags) & 0x8D5) == 0;
}

static uint8_t imm_value(const Form *f)
{
    if (f->flags & V_CNT) {
        static const uint8_t c[] = { 0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 255 };
        return rnd() % 2 ? c[rnd() % sizeof c] : (uint8_t)rnd();
    }
    if (f->op == 0xC2)
        return (uint8_t)(rnd() % 8);
    return (uint8_t)rnd();
}

int main(int argc, char **argv)
{
    uint64_t seed = 0x51dd1ff;
    int cases = 300;
    const char *model = "pentium4", *filter = NULL;
    bool verbose = false;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "-s") && k + 1 < argc)
            seed = strtoull(argv[++k], NULL, 0);
        else if (!strcmp(argv[k], "-n") && k + 1 < argc)
            cases = atoi(argv[++k]);
        else if (!strcmp(argv[k], "-m") && k + 1 < argc)
            model = argv[++k];
        else if (!strcmp(argv[k], "-v"))
            verbose = true;
        else
            filter = argv[k];
    }
    rng_state = seed ? seed : 1;
    if (host_init() < 0) {
        printf("FAIL simddiff: cannot map an executable page below 2 GB\n");
        return 1;
    }
    CpuMachine m;
    VsxError err = { 0 };
    if (cm_create(&m, 1 << 20, model, &err) < 0) {
        printf("FAIL simddiff: cannot create the machine: %s\n", err.msg);
        return 1;
    }
    int failed = 0;
    for (size_t fi = 0; fi < NFORMS; fi++) {
        const Form *f = &forms[fi];
        for (int variant = 1; variant <= 2; variant++) {
            if (!(f->flags & variant))
                continue;
            bool mem = variant == V_MEM;
            char name[64];
            snprintf(name, sizeof name, "%s%s", f->name, mem ? "-m" : "");
            if (filter && !strstr(name, filter))
                continue;
            int bad = 0;
            for (int t = 0; t < cases; t++) {
                State in, host, guest;
                random_state(&in, f);
                uint8_t insn[16];
                int len = encode(f, mem, imm_value(f), insn);
                host = guest = in;
                host_run(insn, (size_t)len, &host);
                bool ok = guest_run(&m, insn, (size_t)len, &guest);
                if (ok && same(&host, &guest, f->flags & V_FLAGS))
                    continue;
                if (bad++ == 0 || verbose) {
                    fprintf(stderr, "simddiff %s case %d:%s", name, t, ok ? "" : " guest did not reach HLT");
                    for (int k = 0; k < len; k++)
                        fprintf(stderr, " %02x", insn[k]);
                    fprintf(stderr, "\n");
                    dump("in   ", &in);
                    dump("host ", &host);
                    dump("guest", &guest);
                }
            }
            if (bad) {
                printf("FAIL simddiff.%s: %d/%d cases differ from the host\n", name, bad, cases);
                failed++;
            } else {
                printf("PASS simddiff.%s\n", name);
            }
        }
    }
    cm_destroy(&m);
    return failed ? 1 : 0;
}
