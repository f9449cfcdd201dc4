/*
 * cpu/ops_alu.c -- integer arithmetic and logic: ADD..CMP, TEST, INC/DEC,
 * NOT/NEG, MOV forms, XCHG, MUL/DIV, shifts and rotates, bit tests and
 * scans, SHLD/SHRD, BCD adjust, sign/zero extension (Intel SDM Vol. 2).
 */
#include "ops.h"

/* ---- the eight ALU operations, per width ---- */
#define ALU_W(W)                                                              \
    static inline uint##W##_t alu_add##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        (void)c;                                                              \
        uint##W##_t r = (uint##W##_t)(a + b);                                 \
        *k = (CC){ CC_ADD + SZ##W, a, b, r, 0 };                              \
        return r;                                                             \
    }                                                                         \
    static inline uint##W##_t alu_adc##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        uint32_t cin = get_cf(c);                                             \
        uint##W##_t r = (uint##W##_t)(a + b + cin);                           \
        *k = (CC){ CC_ADC + SZ##W, a, b, r, cin };                            \
        return r;                                                             \
    }                                                                         \
    static inline uint##W##_t alu_sub##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        (void)c;                                                              \
        uint##W##_t r = (uint##W##_t)(a - b);                                 \
        *k = (CC){ CC_SUB + SZ##W, a, b, r, 0 };                              \
        return r;                                                             \
    }                                                                         \
    static inline uint##W##_t alu_sbb##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        uint32_t cin = get_cf(c);                                             \
        uint##W##_t r = (uint##W##_t)(a - b - cin);                           \
        *k = (CC){ CC_SBB + SZ##W, a, b, r, cin };                            \
        return r;                                                             \
    }                                                                         \
    static inline uint##W##_t alu_and##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        (void)c;                                                              \
        uint##W##_t r = a & b;                                                \
        *k = (CC){ CC_LOGIC + SZ##W, a, b, r, 0 };                            \
        return r;                                                             \
    }                                                                         \
    static inline uint##W##_t alu_or##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        (void)c;                                                              \
        uint##W##_t r = a | b;                                                \
        *k = (CC){ CC_LOGIC + SZ##W, a, b, r, 0 };                            \
        return r;                                                             \
    }                                                                         \
    static inline uint##W##_t alu_xor##W(Cpu *c, CC *k, uint##W##_t a, uint##W##_t b) \
    {                                                                         \
        (void)c;                                                              \
        uint##W##_t r = a ^ b;                                                \
        *k = (CC){ CC_LOGIC + SZ##W, a, b, r, 0 };                            \
        return r;                                                             \
    }
ALU_W(8)
ALU_W(16)
ALU_W(32)
#define alu_cmp8 alu_sub8
#define alu_cmp16 alu_sub16
#define alu_cmp32 alu_sub32
#define alu_test8 alu_and8
#define alu_test16 alu_and16
#define alu_test32 alu_and32

/* Handlers for one operation in the E,G / G,E / E,imm forms. */
#define ALU_FORMS_W(NAME, FN, WB, W)                                          \
    static void op_##NAME##_eg_r##W(Cpu *c, const Insn *i)                    \
    {                                                                         \
        CC k;                                                                 \
        uint##W##_t r = alu_##FN##W(c, &k, R##W(c, i->rm), R##W(c, i->reg));  \
        if (WB)                                                               \
            R##W(c, i->rm) = r;                                               \
        cc_commit(c, &k);                                                     \
    }                                                                         \
    INLINE bool body_##NAME##_eg_m##W(Cpu *c, const Insn *i, bool fast)      \
    {                                                                         \
        CC k;                                                                 \
        uint32_t off = cpu_ea(c, i);                                          \
        uint##W##_t a;                                                        \
        MRD_OR_FAIL(W, fast, i->seg, off, a);                                 \
        uint##W##_t r = alu_##FN##W(c, &k, a, R##W(c, i->reg));               \
        if (WB)                                                               \
            MWR_OR_FAIL(W, fast, i->seg, off, r);                             \
        cc_commit(c, &k);                                                     \
        return true;                                                          \
    }                                                                         \
    HANDLER_AND_FAST(NAME##_eg_m##W)                                          \
    static void op_##NAME##_ge_r##W(Cpu *c, const Insn *i)                    \
    {                                                                         \
        CC k;                                                                 \
        uint##W##_t r = alu_##FN##W(c, &k, R##W(c, i->reg), R##W(c, i->rm));  \
        if (WB)                                                               \
            R##W(c, i->reg) = r;                                              \
        cc_commit(c, &k);                                                     \
    }                                                                         \
    INLINE bool body_##NAME##_ge_m##W(Cpu *c, const Insn *i, bool fast)      \
    {                                                                         \
        CC k;                                                                 \
        uint##W##_t b;                                                        \
        MRD_OR_FAIL(W, fast, i->seg, cpu_ea(c, i), b);                        \
        uint##W##_t r = alu_##FN##W(c, &k, R##W(c, i->reg), b);               \
        if (WB)                                                               \
            R##W(c, i->reg) = r;                                              \
        cc_commit(c, &k);                                                     \
        return true;                                                          \
    }                                                                         \
    HANDLER_AND_FAST(NAME##_ge_m##W)                                          \
    static void op_##NAME##_ei_r##W(Cpu *c, const Insn *i)                    \
    {                                                                         \
        CC k;                                                                 \
        uint##W##_t r = alu_##FN##W(c, &k, R##W(c, i->rm), (uint##W##_t)i->imm); \
        if (WB)                                                               \
            R##W(c, i->rm) = r;                                               \
        cc_commit(c, &k);                                                     \
    }                                                                         \
    INLINE bool body_##NAME##_ei_m##W(Cpu *c, const Insn *i, bool fast)      \
    {                                                                         \
        CC k;                                                                 \
        uint32_t off = cpu_ea(c, i);                                          \
        uint##W##_t a;                                                        \
        MRD_OR_FAIL(W, fast, i->seg, off, a);                                 \
        uint##W##_t r = alu_##FN##W(c, &k, a, (uint##W##_t)i->imm);           \
        if (WB)                                                               \
            MWR_OR_FAIL(W, fast, i->seg, off, r);                             \
        cc_commit(c, &k);                                                     \
        return true;                                                          \
    }                                                                         \
    HANDLER_AND_FAST(NAME##_ei_m##W)
#define ALU_OP(NAME, FN, WB)                                                  \
    ALU_FORMS_W(NAME, FN, WB, 8)                                              \
    ALU_FORMS_W(NAME, FN, WB, 16)                                             \
    ALU_FORMS_W(NAME, FN, WB, 32)                                             \
    FAM_SZ_F(NAME##_eg);                                                      \
    FAM_SZ_F(NAME##_ge);                                                      \
    FAM_SZ_F(NAME##_ei);
ALU_OP(add, add, 1)
ALU_OP(or, or, 1)
ALU_OP(adc, adc, 1)
ALU_OP(sbb, sbb, 1)
ALU_OP(and, and, 1)
ALU_OP(sub, sub, 1)
ALU_OP(xor, xor, 1)
ALU_OP(cmp, cmp, 0)
ALU_OP(test, test, 0)

/* ---- MOV ---- */
#define MOV_W(W)                                                              \
    static void op_mov_eg_r##W(Cpu *c, const Insn *i) { R##W(c, i->rm) = R##W(c, i->reg); } \
    static void op_mov_ge_r##W(Cpu *c, const Insn *i) { R##W(c, i->reg) = R##W(c, i->rm); } \
    static void op_mov_ei_r##W(Cpu *c, const Insn *i) { R##W(c, i->rm) = (uint##W##_t)i->imm; } \
    INLINE bool body_mov_eg_m##W(Cpu *c, const Insn *i, bool fast)           \
    {                                                                         \
        MWR_OR_FAIL(W, fast, i->seg, cpu_ea(c, i), R##W(c, i->reg));          \
        return true;                                                          \
    }                                                                         \
    INLINE bool body_mov_ge_m##W(Cpu *c, const Insn *i, bool fast)           \
    {                                                                         \
        uint##W##_t v;                                                        \
        MRD_OR_FAIL(W, fast, i->seg, cpu_ea(c, i), v);                        \
        R##W(c, i->reg) = v;                                                  \
        return true;                                                          \
    }                                                                         \
    INLINE bool body_mov_ei_m##W(Cpu *c, const Insn *i, bool fast)           \
    {                                                                         \
        MWR_OR_FAIL(W, fast, i->seg, cpu_ea(c, i), (uint##W##_t)i->imm);      \
        return true;                                                          \
    }                                                                         \
    HANDLER_AND_FAST(mov_eg_m##W)                                             \
    HANDLER_AND_FAST(mov_ge_m##W)                                             \
    HANDLER_AND_FAST(mov_ei_m##W)
MOV_W(8)
MOV_W(16)
MOV_W(32)
FAM_SZ_F(mov_eg);
FAM_SZ_F(mov_ge);
FAM_SZ_F(mov_ei);

static void op_lea16(Cpu *c, const Insn *i) { R16(c, i->reg) = (uint16_t)cpu_ea(c, i); }
static void op_lea32(Cpu *c, const Insn *i) { R32(c, i->reg) = cpu_ea(c, i); }
FAM6_T(lea, op_ud, op_ud, op_ud, op_lea16, op_ud, op_lea32, THREADED, THREADED, THREADED,
       THREADED_NOBRK, THREADED, THREADED_NOBRK);

/* ---- XCHG (memory form is always locked; no flags) ---- */
#define XCHG_W(W)                                                             \
    static void op_xchg_eg_r##W(Cpu *c, const Insn *i)                        \
    {                                                                         \
        uint##W##_t t = R##W(c, i->rm);                                       \
        R##W(c, i->rm) = R##W(c, i->reg);                                     \
        R##W(c, i->reg) = t;                                                  \
    }                                                                         \
    static void op_xchg_eg_m##W(Cpu *c, const Insn *i)                        \
    {                                                                         \
        uint32_t off = cpu_ea(c, i);                                          \
        uint##W##_t t = mrd##W(c, i->seg, off);                               \
        mwr##W(c, i->seg, off, R##W(c, i->reg));                              \
        R##W(c, i->reg) = t;                                                  \
    }
XCHG_W(8)
XCHG_W(16)
XCHG_W(32)
FAM_SZ(xchg_eg);

/* ---- INC / DEC (CF preserved) ---- */
#define INCDEC_W(W)                                                           \
    static void op_inc_e_r##W(Cpu *c, const Insn *i)                          \
    {                                                                         \
        uint32_t cf = get_cf(c);                                              \
        uint##W##_t a = R##W(c, i->rm), r = (uint##W##_t)(a + 1);             \
        R##W(c, i->rm) = r;                                                   \
        CC k = { CC_INC + SZ##W, a, 1, r, cf };                               \
        cc_commit(c, &k);                                                     \
    }                                                                         \
    static void op_inc_e_m##W(Cpu *c, const Insn *i)                          \
    {                                                                         \
        uint32_t cf = get_cf(c), off = cpu_ea(c, i);                          \
        uint##W##_t a = mrd##W(c, i->seg, off), r = (uint##W##_t)(a + 1);     \
        mwr##W(c, i->seg, off, r);                                            \
        CC k = { CC_INC + SZ##W, a, 1, r, cf };                               \
        cc_commit(c, &k);                                                     \
    }                                                                         \
    static void op_dec_e_r##W(Cpu *c, const Insn *i)                          \
    {                                                                         \
        uint32_t cf = get_cf(c);                                              \
        uint##W##_t a = R##W(c, i->rm), r = (uint##W##_t)(a - 1);             \
        R##W(c, i->rm) = r;                                                   \
        CC k = { CC_DEC + SZ##W, a, 1, r, cf };                               \
        cc_commit(c, &k);                                                     \
    }                                                                         \
    static void op_dec_e_m##W(Cpu *c, const Insn *i)                          \
    {                                                                         \
        uint32_t cf = get_cf(c), off = cpu_ea(c, i);                          \
        uint##W##_t a = mrd##W(c, i->seg, off), r = (uint##W##_t)(a - 1);     \
        mwr##W(c, i->seg, off, r);                                            \
        CC k = { CC_DEC + SZ##W, a, 1, r, cf };                               \
        cc_commit(c, &k);                                                     \
    }
INCDEC_W(8)
INCDEC_W(16)
INCDEC_W(32)
FAM_SZ(inc_e);
FAM_SZ(dec_e);

/* ---- NOT / NEG ---- */
static void op_not_any(Cpu *c, const Insn *i, unsigned n)
{
    rm_set(c, i, n, ~rm_get(c, i, n));
}
static void op_not_b(Cpu *c, const Insn *i) { op_not_any(c, i, 1); }
static void op_not_v(Cpu *c, const Insn *i) { op_not_any(c, i, op_bytes(i, false)); }
FAM6(not_e, op_not_b, op_not_b, op_not_v, op_not_v, op_not_v, op_not_v);

static void op_neg_any(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t a = rm_get(c, i, n), r = (0u - a) & size_mask_of(n);
    rm_set(c, i, n, r);
    CC k = { CC_SUB + sz_index(n), 0, a, r, 0 };
    cc_commit(c, &k);
}
static void op_neg_b(Cpu *c, const Insn *i) { op_neg_any(c, i, 1); }
static void op_neg_v(Cpu *c, const Insn *i) { op_neg_any(c, i, op_bytes(i, false)); }
FAM6(neg_e, op_neg_b, op_neg_b, op_neg_v, op_neg_v, op_neg_v, op_neg_v);

/* ---- MUL / IMUL / DIV / IDIV (SDM Vol. 2 MUL, IMUL, DIV, IDIV) ---- */
static void op_mul_any(Cpu *c, const Insn *i, unsigned n)
{
    uint64_t src = rm_get(c, i, n);
    uint32_t hi, lo;
    if (n == 1) {
        uint32_t r = R8(c, 0) * (uint32_t)src;
        R16(c, REG_AX) = (uint16_t)r;
        lo = r & 0xFF, hi = (r >> 8) & 0xFF;
    } else if (n == 2) {
        uint32_t r = R16(c, REG_AX) * (uint32_t)src;
        R16(c, REG_AX) = (uint16_t)r;
        R16(c, REG_DX) = (uint16_t)(r >> 16);
        lo = r & 0xFFFF, hi = r >> 16;
    } else {
        uint64_t r = (uint64_t)R32(c, REG_AX) * src;
        R32(c, REG_AX) = (uint32_t)r;
        R32(c, REG_DX) = (uint32_t)(r >> 32);
        lo = (uint32_t)r, hi = (uint32_t)(r >> 32);
    }
    flags_set_cozsp(c, lo, sz_index(n), hi ? (FL_CF | FL_OF) : 0);
}

static void op_imul_any(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t src = rm_get(c, i, n);
    bool ovf;
    uint32_t lo;
    if (n == 1) {
        int32_t r = (int8_t)R8(c, 0) * (int32_t)(int8_t)src;
        R16(c, REG_AX) = (uint16_t)r;
        ovf = r != (int8_t)r;
        lo = (uint32_t)r & 0xFF;
    } else if (n == 2) {
        int32_t r = (int16_t)R16(c, REG_AX) * (int32_t)(int16_t)src;
        R16(c, REG_AX) = (uint16_t)r;
        R16(c, REG_DX) = (uint16_t)((uint32_t)r >> 16);
        ovf = r != (int16_t)r;
        lo = (uint32_t)r & 0xFFFF;
    } else {
        int64_t r = (int64_t)(int32_t)R32(c, REG_AX) * (int32_t)src;
        R32(c, REG_AX) = (uint32_t)r;
        R32(c, REG_DX) = (uint32_t)((uint64_t)r >> 32);
        ovf = r != (int32_t)r;
        lo = (uint32_t)r;
    }
    flags_set_cozsp(c, lo, sz_index(n), ovf ? (FL_CF | FL_OF) : 0);
}

static void op_div_any(Cpu *c, const Insn *i, unsigned n)
{
    uint64_t d = rm_get(c, i, n);
    if (d == 0)
        cpu_raise(c, EXC_DE, ERR_NONE);
    if (n == 1) {
        uint32_t a = R16(c, REG_AX), q = a / (uint32_t)d;
        if (q > 0xFF)
            cpu_raise(c, EXC_DE, ERR_NONE);
        R8(c, 0) = (uint8_t)q;
        R8(c, 4) = (uint8_t)(a % d);
    } else if (n == 2) {
        uint32_t a = (uint32_t)R16(c, REG_DX) << 16 | R16(c, REG_AX), q = a / (uint32_t)d;
        if (q > 0xFFFF)
            cpu_raise(c, EXC_DE, ERR_NONE);
        R16(c, REG_AX) = (uint16_t)q;
        R16(c, REG_DX) = (uint16_t)(a % d);
    } else {
        uint64_t a = (uint64_t)R32(c, REG_DX) << 32 | R32(c, REG_AX), q = a / d;
        if (q > 0xFFFFFFFFu)
            cpu_raise(c, EXC_DE, ERR_NONE);
        R32(c, REG_AX) = (uint32_t)q;
        R32(c, REG_DX) = (uint32_t)(a % d);
    }
}

static void op_idiv_any(Cpu *c, const Insn *i, unsigned n)
{
    uint32_t s = rm_get(c, i, n);
    int64_t d = n == 1 ? (int8_t)s : n == 2 ? (int16_t)s : (int32_t)s;
    if (d == 0)
        cpu_raise(c, EXC_DE, ERR_NONE);
    int64_t a;
    if (n == 1)
        a = (int16_t)R16(c, REG_AX);
    else if (n == 2)
        a = (int32_t)((uint32_t)R16(c, REG_DX) << 16 | R16(c, REG_AX));
    else
        a = (int64_t)((uint64_t)R32(c, REG_DX) << 32 | R32(c, REG_AX));
    if (n == 4 && a == INT64_MIN && d == -1)
        cpu_raise(c, EXC_DE, ERR_NONE);
    int64_t q = a / d, r = a % d;
    int64_t lim = n == 1 ? 0x80 : n == 2 ? 0x8000 : 0x80000000ll;
    if (q >= lim || q < -lim)
        cpu_raise(c, EXC_DE, ERR_NONE);
    if (n == 1) {
        R8(c, 0) = (uint8_t)q;
        R8(c, 4) = (uint8_t)r;
    } else if (n == 2) {
        R16(c, REG_AX) = (uint16_t)q;
        R16(c, REG_DX) = (uint16_t)r;
    } else {
        R32(c, REG_AX) = (uint32_t)q;
        R32(c, REG_DX) = (uint32_t)r;
    }
}

#define BV_FAM(name, fn)                                                      \
    static void op_##name##_b(Cpu *c, const Insn *i) { fn(c, i, 1); }         \
    static void op_##name##_v(Cpu *c, const Insn *i) { fn(c, i, op_bytes(i, false)); } \
    FAM6(name, op_##name##_b, op_##name##_b, op_##name##_v, op_##name##_v, op_##name##_v, op_##name##_v)
BV_FAM(mul_e, op_mul_any);
BV_FAM(imul_e, op_imul_any);
BV_FAM(div_e, op_div_any);
BV_FAM(idiv_e, op_idiv_any);

static void imul_to_reg(Cpu *c, const Insn *i, uint32_t a, uint32_t b)
{
    if (i->o32) {
        int64_t r = (int64_t)(int32_t)a * (int32_t)b;
        R32(c, i->reg) = (uint32_t)r;
        flags_set_cozsp(c, (uint32_t)r, SZ32, r != (int32_t)r ? (FL_CF | FL_OF) : 0);
    } else {
        int32_t r = (int16_t)a * (int32_t)(int16_t)b;
        R16(c, i->reg) = (uint16_t)r;
        flags_set_cozsp(c, (uint32_t)r, SZ16, r != (int16_t)r ? (FL_CF | FL_OF) : 0);
    }
}
static void op_imul_gei(Cpu *c, const Insn *i) { imul_to_reg(c, i, rm_get(c, i, op_bytes(i, false)), i->imm); }
static void op_imul_ge(Cpu *c, const Insn *i)
{
    unsigned n = op_bytes(i, false);
    imul_to_reg(c, i, rm_get(c, i, n), reg_get(c, i->reg, n));
}
FAM1(imul_gei, op_imul_gei);
FAM1(imul_ge, op_imul_ge);

/* ---- shifts and rotates (SDM Vol. 2 SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR) ---- */
enum { SH_ROL, SH_ROR, SH_RCL, SH_RCR, SH_SHL, SH_SHR, SH_SAL, SH_SAR };

/* Inlined into one handler per (operation, size, form): n, kind and mem are
 * constants there, so the switch and the size tests fold away. */
static inline __attribute__((always_inline)) void shift_any(Cpu *c, const Insn *i, unsigned n, unsigned kind, bool mem)
{
    unsigned bits = 8 * n;
    uint32_t m = size_mask_of(n), sign = 1u << (bits - 1);
    unsigned cnt = (i->cl ? R8(c, REG_CX) : i->imm) & 0x1F;
    uint32_t off = mem ? cpu_ea(c, i) : 0;
    uint32_t a = mem ? mem_get(c, i->seg, off, n) : reg_get(c, i->rm, n);
    if (cnt == 0)
        return;
    uint32_t r, f = 0;
    uint32_t cf_old = (kind == SH_RCL || kind == SH_RCR) ? get_cf(c) : 0;
    switch (kind) {
    case SH_ROL: {
        unsigned k = cnt % bits;
        r = k ? ((a << k) | (a >> (bits - k))) & m : a;
        f = (r & 1) ? FL_CF : 0;
        if (((r & sign) != 0) != ((f & FL_CF) != 0))
            f |= FL_OF;
        break;
    }
    case SH_ROR: {
        unsigned k = cnt % bits;
        r = k ? ((a >> k) | (a << (bits - k))) & m : a;
        f = (r & sign) ? FL_CF : 0;
        if (((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1)
            f |= FL_OF;
        break;
    }
    case SH_RCL: {
        unsigned k = cnt % (bits + 1);
        uint64_t v = ((uint64_t)cf_old << bits) | a;
        if (k)
            v = ((v << k) | (v >> (bits + 1 - k))) & ((1ull << (bits + 1)) - 1);
        r = (uint32_t)v & m;
        f = (v >> bits) & 1 ? FL_CF : 0;
        if (((r & sign) != 0) != ((f & FL_CF) != 0))
            f |= FL_OF;
        break;
    }
    case SH_RCR: {
        unsigned k = cnt % (bits + 1);
        uint64_t v = ((uint64_t)cf_old << bits) | a;
        if (k)
            v = ((v >> k) | (v << (bits + 1 - k))) & ((1ull << (bits + 1)) - 1);
        r = (uint32_t)v & m;
        f = (v >> bits) & 1 ? FL_CF : 0;
        if (((r >> (bits - 1)) ^ (r >> (bits - 2))) & 1)
            f |= FL_OF;
        break;
    }
    case SH_SHL:
    case SH_SAL: {
        uint64_t v = (uint64_t)a << cnt;
        r = (uint32_t)v & m;
        f = (v >> bits) & 1 ? FL_CF : 0;
        if (((r & sign) != 0) != ((f & FL_CF) != 0))
            f |= FL_OF;
        break;
    }
    case SH_SHR:
        r = cnt >= bits ? 0 : a >> cnt;
        f = cnt <= bits && ((a >> (cnt - 1)) & 1) ? FL_CF : 0;
        if ((a >> (cnt - 1)) & sign) /* OF from the last one-bit step */
            f |= FL_OF;
        break;
    default: { /* SAR */
        int64_t s = (int64_t)(a & sign ? (int64_t)a - ((int64_t)1 << bits) : (int64_t)a);
        r = (uint32_t)(s >> cnt) & m;
        f = (s >> (cnt - 1)) & 1 ? FL_CF : 0;
        break;
    }
    }
    if (mem)
        mem_set(c, i->seg, off, n, r);
    else
        reg_set(c, i->rm, n, r);
    if (kind <= SH_RCR) {
        /* Rotates change only CF and OF: keep ZF/SF/PF lazy (ZSP form). */
        flags_to_zsp(c);
        c->eflags = (c->eflags & ~(FL_CF | FL_OF)) | f;
    } else {
        flags_set_cozsp(c, r, sz_index(n), f);
    }
}

#define SHIFT_FAM(name, kind)                                                 \
    static void op_##name##_r8(Cpu *c, const Insn *i) { shift_any(c, i, 1, kind, false); } \
    static void op_##name##_m8(Cpu *c, const Insn *i) { shift_any(c, i, 1, kind, true); } \
    static void op_##name##_r16(Cpu *c, const Insn *i) { shift_any(c, i, 2, kind, false); } \
    static void op_##name##_m16(Cpu *c, const Insn *i) { shift_any(c, i, 2, kind, true); } \
    static void op_##name##_r32(Cpu *c, const Insn *i) { shift_any(c, i, 4, kind, false); } \
    static void op_##name##_m32(Cpu *c, const Insn *i) { shift_any(c, i, 4, kind, true); } \
    FAM_SZ(name)
SHIFT_FAM(rol, SH_ROL);
SHIFT_FAM(ror, SH_ROR);
SHIFT_FAM(rcl, SH_RCL);
SHIFT_FAM(rcr, SH_RCR);
SHIFT_FAM(shl, SH_SHL);
SHIFT_FAM(shr, SH_SHR);
SHIFT_FAM(sar, SH_SAR);

/* SHLD/SHRD (SDM Vol. 2): count mod 32; 16-bit counts above 16 undefined. */
static void shxd(Cpu *c, const Insn *i, bool left)
{
    unsigned n = op_bytes(i, false), bits = 8 * n;
    unsigned cnt = (i->cl ? R8(c, REG_CX) : i->imm) & 0x1F;
    uint32_t off = i->mem ? cpu_ea(c, i) : 0;
    uint32_t a = i->mem ? mem_get(c, i->seg, off, n) : reg_get(c, i->rm, n);
    uint32_t b = reg_get(c, i->reg, n), m = size_mask_of(n), sign = 1u << (bits - 1);
    if (cnt == 0)
        return;
    uint32_t r, f;
    if (n == 4) {
        r = left ? (a << cnt) | (b >> (32 - cnt)) : (a >> cnt) | (b << (32 - cnt));
        f = ((left ? a >> (32 - cnt) : a >> (cnt - 1)) & 1) ? FL_CF : 0;
    } else {
        /* 16-bit: counts above 16 are undefined; real CPUs shift through
         * the 48-bit pattern dest:src:dest, which also covers 1-16. */
        if (left) {
            uint64_t t = (uint64_t)a << 32 | (uint64_t)b << 16 | a;
            r = (uint32_t)((t << cnt) >> 32) & m;
            f = ((t >> (48 - cnt)) & 1) ? FL_CF : 0;
        } else {
            uint64_t t = (uint64_t)a << 32 | (uint64_t)b << 16 | a;
            r = (uint32_t)(t >> cnt) & m;
            f = ((t >> (cnt - 1)) & 1) ? FL_CF : 0;
        }
    }
    if ((r ^ a) & sign)
        f |= FL_OF;
    if (i->mem)
        mem_set(c, i->seg, off, n, r);
    else
        reg_set(c, i->rm, n, r);
    flags_set_cozsp(c, r, sz_index(n), f);
}
static void op_shld(Cpu *c, const Insn *i) { shxd(c, i, true); }
static void op_shrd(Cpu *c, const Insn *i) { shxd(c, i, false); }
FAM1(shld, op_shld);
FAM1(shrd, op_shrd);

/* ---- bit test family (SDM Vol. 2 BT): register offsets reach outside the
 * addressed operand in memory forms; immediate offsets are taken mod size. */
enum { BT_TEST, BT_SET, BT_RESET, BT_COMP };

static void bit_op(Cpu *c, const Insn *i, unsigned kind, bool imm)
{
    unsigned n = op_bytes(i, false), bits = 8 * n;
    uint32_t bitoff = imm ? i->imm : reg_get(c, i->reg, n);
    uint32_t v, off = 0;
    if (i->mem) {
        off = cpu_ea(c, i);
        if (!imm) {
            int32_t so = n == 2 ? (int16_t)bitoff : (int32_t)bitoff;
            off = (off + (uint32_t)((so >> (n == 2 ? 4 : 5)) * (int32_t)n)) & i->amask;
        }
        v = mem_get(c, i->seg, off, n);
    } else {
        v = reg_get(c, i->rm, n);
    }
    uint32_t bit = 1u << (bitoff & (bits - 1));
    bool old = v & bit;
    if (kind != BT_TEST) {
        v = kind == BT_SET ? v | bit : kind == BT_RESET ? v & ~bit : v ^ bit;
        if (i->mem)
            mem_set(c, i->seg, off, n, v);
        else
            reg_set(c, i->rm, n, v);
    }
    cpu_flags_materialize(c);
    c->eflags = (c->eflags & ~FL_CF) | (old ? FL_CF : 0);
}
#define BIT_FAM(name, kind, imm)                                              \
    static void op_##name(Cpu *c, const Insn *i) { bit_op(c, i, kind, imm); } \
    FAM1(name, op_##name)
BIT_FAM(bt, BT_TEST, false);
BIT_FAM(bts, BT_SET, false);
BIT_FAM(btr, BT_RESET, false);
BIT_FAM(btc, BT_COMP, false);
BIT_FAM(bt_i, BT_TEST, true);
BIT_FAM(bts_i, BT_SET, true);
BIT_FAM(btr_i, BT_RESET, true);
BIT_FAM(btc_i, BT_COMP, true);

static void bit_scan(Cpu *c, const Insn *i, bool reverse)
{
    unsigned n = op_bytes(i, false);
    uint32_t v = rm_get(c, i, n);
    cpu_flags_materialize(c);
    if (v == 0) {
        c->eflags |= FL_ZF; /* destination unchanged (what the CPUs do) */
        return;
    }
    c->eflags &= ~FL_ZF;
    reg_set(c, i->reg, n, reverse ? 31u - (uint32_t)__builtin_clz(v) : (uint32_t)__builtin_ctz(v));
}
static void op_bsf(Cpu *c, const Insn *i) { bit_scan(c, i, false); }
static void op_bsr(Cpu *c, const Insn *i) { bit_scan(c, i, true); }
FAM1(bsf, op_bsf);
FAM1(bsr, op_bsr);

/* ---- extension ---- */
static void op_movzx8(Cpu *c, const Insn *i) { reg_set(c, i->reg, op_bytes(i, false), rm_get(c, i, 1)); }
static void op_movzx16(Cpu *c, const Insn *i) { reg_set(c, i->reg, op_bytes(i, false), rm_get(c, i, 2)); }
static void op_movsx8(Cpu *c, const Insn *i) { reg_set(c, i->reg, op_bytes(i, false), (uint32_t)(int8_t)rm_get(c, i, 1)); }
static void op_movsx16(Cpu *c, const Insn *i) { reg_set(c, i->reg, op_bytes(i, false), (uint32_t)(int16_t)rm_get(c, i, 2)); }
FAM1_PURE(movzx8, op_movzx8);
FAM1_PURE(movzx16, op_movzx16);
FAM1_PURE(movsx8, op_movsx8);
FAM1_PURE(movsx16, op_movsx16);

static void op_cbw(Cpu *c, const Insn *i)
{
    if (i->o32)
        R32(c, REG_AX) = (uint32_t)(int16_t)R16(c, REG_AX);
    else
        R16(c, REG_AX) = (uint16_t)(int8_t)R8(c, 0);
}
static void op_cwd(Cpu *c, const Insn *i)
{
    if (i->o32)
        R32(c, REG_DX) = (R32(c, REG_AX) & 0x80000000u) ? 0xFFFFFFFFu : 0;
    else
        R16(c, REG_DX) = (R16(c, REG_AX) & 0x8000) ? 0xFFFF : 0;
}
FAM1(cbw, op_cbw);
FAM1(cwd, op_cwd);

static void op_bswap(Cpu *c, const Insn *i)
{
    /* With a 16-bit operand the result is undefined; real CPUs clear it. */
    if (i->o32)
        R32(c, i->reg) = __builtin_bswap32(R32(c, i->reg));
    else
        R16(c, i->reg) = 0;
}
FAM1(bswap, op_bswap);

/* ---- XADD / CMPXCHG / CMPXCHG8B (486, Pentium) ---- */
static void op_xadd(Cpu *c, const Insn *i)
{
    unsigned n = (i->op & 1) ? op_bytes(i, false) : 1;
    uint32_t off = i->mem ? cpu_ea(c, i) : 0;
    uint32_t a = i->mem ? mem_get(c, i->seg, off, n) : reg_get(c, i->rm, n);
    uint32_t b = reg_get(c, i->reg, n), r = (a + b) & size_mask_of(n);
    if (i->mem)
        mem_set(c, i->seg, off, n, r);
    reg_set(c, i->reg, n, a);
    if (!i->mem)
        reg_set(c, i->rm, n, r);
    CC k = { CC_ADD + sz_index(n), a, b, r, 0 };
    cc_commit(c, &k);
}
FAM1(xadd, op_xadd);

static void op_cmpxchg(Cpu *c, const Insn *i)
{
    unsigned n = (i->op & 1) ? op_bytes(i, false) : 1;
    uint32_t off = i->mem ? cpu_ea(c, i) : 0;
    uint32_t dst = i->mem ? mem_get(c, i->seg, off, n) : reg_get(c, i->rm, n);
    uint32_t acc = reg_get(c, REG_AX, n);
    uint32_t r = (acc - dst) & size_mask_of(n);
    /* The destination is always written (with its old value on mismatch). */
    uint32_t out = acc == dst ? reg_get(c, i->reg, n) : dst;
    if (i->mem)
        mem_set(c, i->seg, off, n, out);
    else
        reg_set(c, i->rm, n, out);
    if (acc != dst)
        reg_set(c, REG_AX, n, dst);
    CC k = { CC_SUB + sz_index(n), acc, dst, r, 0 };
    cc_commit(c, &k);
}
FAM1(cmpxchg, op_cmpxchg);

static void op_cmpxchg8b(Cpu *c, const Insn *i)
{
    uint32_t off = cpu_ea(c, i);
    uint64_t v = mrd64(c, i->seg, off);
    uint64_t cmp = (uint64_t)R32(c, REG_DX) << 32 | R32(c, REG_AX);
    bool eq = v == cmp;
    mwr64(c, i->seg, off, eq ? ((uint64_t)R32(c, REG_CX) << 32 | R32(c, REG_BX)) : v);
    if (!eq) {
        R32(c, REG_AX) = (uint32_t)v;
        R32(c, REG_DX) = (uint32_t)(v >> 32);
    }
    cpu_flags_materialize(c);
    c->eflags = (c->eflags & ~FL_ZF) | (eq ? FL_ZF : 0);
}
FAM1(cmpxchg8b, op_cmpxchg8b);

/* ---- decimal adjust (SDM Vol. 2 DAA/DAS/AAA/AAS/AAM/AAD) ---- */
static void op_daa(Cpu *c, const Insn *i)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c);
    uint8_t al = R8(c, 0), old = al;
    bool old_cf = f & FL_CF, cf = false, af = false;
    if ((al & 0xF) > 9 || (f & FL_AF)) {
        cf = old_cf || al > 0xF9; /* carry out of AL + 6 */
        al += 6;
        af = true;
    }
    if (old > 0x99 || old_cf) {
        al += 0x60;
        cf = true;
    } else {
        cf = false;
    }
    R8(c, 0) = al;
    flags_set_cozsp(c, al, SZ8, (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}
static void op_das(Cpu *c, const Insn *i)
{
    (void)i;
    uint32_t f = cpu_get_eflags(c);
    uint8_t al = R8(c, 0), old = al;
    bool old_cf = f & FL_CF, cf = false, af = false;
    if ((al & 0xF) > 9 || (f & FL_AF)) {
        cf = old_cf || al < 6; /* borrow out of AL - 6 */
        al -= 6;
        af = true;
    }
    if (old > 0x99 || old_cf) {
        al -= 0x60;
        cf = true;
    }
    R8(c, 0) = al;
    flags_set_cozsp(c, al, SZ8, (cf ? FL_CF : 0) | (af ? FL_AF : 0));
}
static void op_aaa_aas(Cpu *c, bool sub)
{
    uint32_t f = cpu_get_eflags(c);
    bool adj = (R8(c, 0) & 0xF) > 9 || (f & FL_AF);
    if (adj) {
        if (sub) {
            R16(c, REG_AX) = (uint16_t)(R16(c, REG_AX) - 6);
            R8(c, 4) -= 1;
        } else {
            R16(c, REG_AX) = (uint16_t)(R16(c, REG_AX) + 0x106);
        }
    }
    R8(c, 0) &= 0xF;
    flags_set_cozsp(c, R8(c, 0), SZ8, adj ? (FL_CF | FL_AF) : 0);
}
static void op_aaa(Cpu *c, const Insn *i) { (void)i; op_aaa_aas(c, false); }
static void op_aas(Cpu *c, const Insn *i) { (void)i; op_aaa_aas(c, true); }
static void op_aam(Cpu *c, const Insn *i)
{
    uint8_t base = (uint8_t)i->imm;
    if (base == 0)
        cpu_raise(c, EXC_DE, ERR_NONE);
    uint8_t al = R8(c, 0);
    R8(c, 4) = al / base;
    R8(c, 0) = al % base;
    flags_set_cozsp(c, R8(c, 0), SZ8, 0);
}
static void op_aad(Cpu *c, const Insn *i)
{
    uint8_t r = (uint8_t)(R8(c, 0) + R8(c, 4) * (uint8_t)i->imm);
    R16(c, REG_AX) = r;
    flags_set_cozsp(c, r, SZ8, 0);
}
static void op_salc(Cpu *c, const Insn *i) { (void)i; R8(c, 0) = get_cf(c) ? 0xFF : 0; }
FAM1(daa, op_daa);
FAM1(das, op_das);
FAM1(aaa, op_aaa);
FAM1(aas, op_aas);
FAM1(aam, op_aam);
FAM1(aad, op_aad);
FAM1(salc, op_salc);

/* ---- flag instructions ---- */
static void op_cmc(Cpu *c, const Insn *i) { (void)i; cpu_flags_materialize(c); c->eflags ^= FL_CF; }
static void op_clc(Cpu *c, const Insn *i) { (void)i; cpu_flags_materialize(c); c->eflags &= ~FL_CF; }
static void op_stc(Cpu *c, const Insn *i) { (void)i; cpu_flags_materialize(c); c->eflags |= FL_CF; }
static void op_cld(Cpu *c, const Insn *i) { (void)i; c->eflags &= ~FL_DF; }
static void op_std(Cpu *c, const Insn *i) { (void)i; c->eflags |= FL_DF; }
static void op_sahf(Cpu *c, const Insn *i)
{
    (void)i;
    cpu_flags_materialize(c);
    c->eflags = (c->eflags & ~0xD5u) | (R8(c, 4) & 0xD5u);
}
static void op_lahf(Cpu *c, const Insn *i) { (void)i; R8(c, 4) = (uint8_t)((cpu_get_eflags(c) & 0xD5) | 2); }
FAM1(cmc, op_cmc);
FAM1(clc, op_clc);
FAM1(stc, op_stc);
FAM1(cld, op_cld);
FAM1(std, op_std);
FAM1(sahf, op_sahf);
FAM1(lahf, op_lahf);

static void op_setcc(Cpu *c, const Insn *i) { rm_set(c, i, 1, cpu_cond(c, i->op & 0xF)); }
FAM1(setcc, op_setcc);
static void op_cmov(Cpu *c, const Insn *i)
{
    unsigned n = op_bytes(i, false);
    uint32_t v = rm_get(c, i, n); /* the source is read (and may fault) either way */
    if (cpu_cond(c, i->op & 0xF))
        reg_set(c, i->reg, n, v);
}
FAM1(cmov, op_cmov);
