/*
 * cpu/decode.c -- x86 instruction decoder, generated from opcodes.def.
 *
 * Produces one Insn: prefixes folded in, ModRM/SIB turned into
 * base + (index << scale) + disp with the default segment chosen, the
 * immediate sign- or zero-extended, and the handler picked for the operand
 * size and register/memory form (so handlers never branch on those).
 * Encoding rules: Intel SDM Vol. 2, chapter 2 and Appendix A.
 */
#include "cpu_internal.h"

enum {
    F_NONE, F_M, F_MIB, F_MIZ, F_IB, F_IW, F_IZ, F_JB, F_JZ, F_AP, F_ENTER,
    F_MOFFS, F_GRP, F_PREFIX, F_0F,
};

enum {
    A_B = 1u << 0, A_END = 1u << 1, A_SX = 1u << 2, A_MEM = 1u << 3,
    A_LK = 1u << 4, A_ACC = 1u << 5, A_OPREG = 1u << 6, A_ONE = 1u << 7,
    A_CL = 1u << 8,
    A_486 = 1u << 12, A_P5 = 2u << 12, A_P6 = 3u << 12,
};
#define A_ISA(a) (((a) >> 12) & 3)
#define GF1(o) ((o) == 0x81 ? F_MIZ : F_MIB)

typedef struct OpInfo {
    const InsnFn *fam;
    const char *name;
    uint16_t attr;
    uint8_t fmt;
    uint8_t valid;
} OpInfo;

#define X(o, n, f, fam, a) extern const InsnFn fam_##fam[12];
#define G(o, r, n, f, fam, a) extern const InsnFn fam_##fam[12];
#include "opcodes.def"
#undef X
#undef G
#undef GRP1
#undef GRP2

static const OpInfo op_table[512] = {
#define X(o, n, f, fam, a) [o] = { fam_##fam, n, (a), (f), 1 },
#define G(o, r, n, f, fam, a)
#include "opcodes.def"
#undef X
#undef G
#undef GRP1
#undef GRP2
};

/* Group members: index by a small group number to keep the table small. */
static int group_index(unsigned op)
{
    switch (op) {
    case 0x80: return 0;  case 0x81: return 1;  case 0x82: return 2;
    case 0x83: return 3;  case 0x8F: return 4;  case 0xC0: return 5;
    case 0xC1: return 6;  case 0xD0: return 7;  case 0xD1: return 8;
    case 0xD2: return 9;  case 0xD3: return 10; case 0xC6: return 11;
    case 0xC7: return 12; case 0xF6: return 13; case 0xF7: return 14;
    case 0xFE: return 15; case 0xFF: return 16; case 0x100: return 17;
    case 0x101: return 18; case 0x1BA: return 19; case 0x1C7: return 20;
    default: return -1;
    }
}
#define GI(o) ((o) == 0x80 ? 0 : (o) == 0x81 ? 1 : (o) == 0x82 ? 2 : (o) == 0x83 ? 3 : \
    (o) == 0x8F ? 4 : (o) == 0xC0 ? 5 : (o) == 0xC1 ? 6 : (o) == 0xD0 ? 7 :           \
    (o) == 0xD1 ? 8 : (o) == 0xD2 ? 9 : (o) == 0xD3 ? 10 : (o) == 0xC6 ? 11 :          \
    (o) == 0xC7 ? 12 : (o) == 0xF6 ? 13 : (o) == 0xF7 ? 14 : (o) == 0xFE ? 15 :        \
    (o) == 0xFF ? 16 : (o) == 0x100 ? 17 : (o) == 0x101 ? 18 : (o) == 0x1BA ? 19 : 20)

static const OpInfo group_table[21][8] = {
#define X(o, n, f, fam, a)
#define G(o, r, n, f, fam, a) [GI(o)][r] = { fam_##fam, n, (a), (f), 1 },
#include "opcodes.def"
#undef X
#undef G
#undef GRP1
#undef GRP2
};

const char *decode_name(unsigned op, unsigned reg)
{
    if (op >= 512)
        return "?";
    const OpInfo *in = &op_table[op];
    if (in->valid && in->fmt == F_GRP) {
        int g = group_index(op);
        in = g >= 0 ? &group_table[g][reg & 7] : NULL;
    }
    return in && in->valid ? in->name : "(bad)";
}

typedef struct Cursor {
    const uint8_t *p;
    unsigned pos, avail;
    bool short_;
} Cursor;

static unsigned next8(Cursor *k)
{
    if (k->pos >= k->avail) {
        k->short_ = true;
        return 0;
    }
    return k->p[k->pos++];
}
static uint32_t next_n(Cursor *k, unsigned n)
{
    uint32_t v = 0;
    for (unsigned b = 0; b < n; b++)
        v |= (uint32_t)next8(k) << (8 * b);
    return v;
}

static void decode_modrm16(Cursor *k, Insn *i, unsigned mod, unsigned rm)
{
    static const uint8_t base16[8] = { REG_BX, REG_BX, REG_BP, REG_BP, REG_SI, REG_DI, REG_BP, REG_BX };
    static const uint8_t index16[8] = { REG_SI, REG_DI, REG_SI, REG_DI, R_ZERO, R_ZERO, R_ZERO, R_ZERO };
    i->base = base16[rm];
    i->index = index16[rm];
    i->scale = 0;
    i->seg = (rm == 2 || rm == 3 || rm == 6) ? SEG_SS : SEG_DS;
    if (mod == 0 && rm == 6) {
        i->base = R_ZERO;
        i->seg = SEG_DS;
        i->disp = next_n(k, 2);
    } else if (mod == 1) {
        i->disp = (uint32_t)(int8_t)next8(k);
    } else if (mod == 2) {
        i->disp = next_n(k, 2);
    } else {
        i->disp = 0;
    }
}

static void decode_modrm32(Cursor *k, Insn *i, unsigned mod, unsigned rm)
{
    i->index = R_ZERO;
    i->scale = 0;
    i->base = (uint8_t)rm;
    if (rm == 4) {
        unsigned sib = next8(k);
        unsigned idx = (sib >> 3) & 7;
        i->scale = (uint8_t)(sib >> 6);
        i->index = idx == 4 ? R_ZERO : (uint8_t)idx;
        i->base = (uint8_t)(sib & 7);
        if (i->base == 5 && mod == 0)
            i->base = R_ZERO;
    } else if (rm == 5 && mod == 0) {
        i->base = R_ZERO;
    }
    i->seg = (i->base == REG_SP || i->base == REG_BP) ? SEG_SS : SEG_DS;
    if (i->base == R_ZERO || mod == 2)
        i->disp = next_n(k, 4);
    else if (mod == 1)
        i->disp = (uint32_t)(int8_t)next8(k);
    else
        i->disp = 0;
}

static uint32_t imm_sized(Cursor *k, bool o32)
{
    return o32 ? next_n(k, 4) : next_n(k, 2);
}

static void decode_operands(Cursor *k, Insn *i, const OpInfo *in, unsigned fmt)
{
    bool sx = in->attr & A_SX;
    switch (fmt) {
    case F_MIB:
    case F_IB:
        i->imm = next8(k);
        if (sx)
            i->imm = i->o32 ? (uint32_t)(int8_t)i->imm : (uint16_t)(int8_t)i->imm;
        break;
    case F_MIZ:
    case F_IZ:
        i->imm = (in->attr & A_B) ? next8(k) : imm_sized(k, i->o32);
        break;
    case F_IW:
        i->imm = next_n(k, 2);
        break;
    case F_JB:
        i->imm = (uint32_t)(int8_t)next8(k);
        break;
    case F_JZ:
        i->imm = i->o32 ? next_n(k, 4) : (uint32_t)(int16_t)next_n(k, 2);
        break;
    case F_AP:
        i->disp = imm_sized(k, i->o32);
        i->imm2 = (uint16_t)next_n(k, 2);
        break;
    case F_ENTER:
        i->imm = next_n(k, 2);
        i->imm2 = (uint16_t)next8(k);
        break;
    case F_MOFFS:
        i->disp = i->a32 ? next_n(k, 4) : next_n(k, 2);
        i->base = i->index = R_ZERO;
        i->mem = 1;
        break;
    default:
        break;
    }
}

extern const InsnFn fam_ud[12];

static void set_handler(const Cpu *c, Insn *i, const OpInfo *in)
{
    unsigned size = (in->attr & A_B) ? 0 : (i->o32 ? 2 : 1);
    const InsnFn *fam = in->fam;
    if (!in->valid || A_ISA(in->attr) > (unsigned)c->model->isa)
        fam = fam_ud;
    else if ((in->attr & A_MEM) && !i->mem)
        fam = fam_ud;
    else if (i->lock && (!(in->attr & A_LK) || !i->mem))
        fam = fam_ud; /* SDM Vol. 2 "LOCK": #UD unless a lockable memory form */
    i->fn = fam[size * 2 + i->mem];
    i->tfn = fam[6 + size * 2 + i->mem];
}

int decode_insn(const Cpu *c, const uint8_t *bytes, unsigned avail, bool code32, Insn *i, bool *end)
{
    Cursor k = { bytes, 0, avail > 15 ? 15 : avail, false };
    int segovr = -1;
    memset(i, 0, sizeof *i);
    i->o32 = code32;
    i->a32 = code32;
    unsigned op;
    for (;;) {
        op = next8(&k);
        if (k.short_)
            return avail >= 15 ? -1 : 0;
        switch (op) {
        case 0x26: segovr = SEG_ES; continue;
        case 0x2E: segovr = SEG_CS; continue;
        case 0x36: segovr = SEG_SS; continue;
        case 0x3E: segovr = SEG_DS; continue;
        case 0x64: segovr = SEG_FS; continue;
        case 0x65: segovr = SEG_GS; continue;
        case 0x66: i->o32 = !code32; continue;
        case 0x67: i->a32 = !code32; continue;
        case 0xF0: i->lock = 1; continue;
        case 0xF2: i->rep = 2; continue;
        case 0xF3: i->rep = 3; continue;
        default: break;
        }
        break;
    }
    if (op == 0x0F)
        op = 0x100 | next8(&k);
    i->op = (uint16_t)op;
    i->amask = i->a32 ? 0xFFFFFFFFu : 0xFFFFu;
    i->seg = SEG_DS;
    i->base = i->index = R_ZERO;
    i->reg = i->rm = op & 7;
    const OpInfo *in = &op_table[op];
    unsigned fmt = in->valid ? in->fmt : F_NONE;
    if (fmt == F_M || fmt == F_MIB || fmt == F_MIZ || fmt == F_GRP) {
        unsigned m = next8(&k);
        i->modrm = (uint8_t)m;
        i->reg = (m >> 3) & 7;
        i->rm = m & 7;
        /* MOV to/from CR/DR ignore mod: always register operands (SDM Vol. 2 MOV-Control Registers). */
        bool regonly = op >= 0x120 && op <= 0x123;
        i->mem = (m >> 6) != 3 && !regonly;
        if (i->mem) {
            if (i->a32)
                decode_modrm32(&k, i, m >> 6, m & 7);
            else
                decode_modrm16(&k, i, m >> 6, m & 7);
        }
        if (fmt == F_GRP) {
            int g = group_index(op);
            in = g >= 0 ? &group_table[g][i->reg] : NULL;
            fmt = in && in->valid ? in->fmt : F_M;
            if (!in)
                in = &op_table[0x10B];
        }
    }
    decode_operands(&k, i, in, fmt);
    if (in->attr & A_ACC) {
        i->reg = 0;
        if (fmt != F_MOFFS)
            i->rm = 0;
    }
    if (in->attr & A_OPREG)
        i->reg = 0;
    if (in->attr & A_ONE)
        i->imm = 1;
    i->cl = (in->attr & A_CL) != 0;
    if (k.short_)
        return avail >= 15 ? -1 : 0;
    if (segovr >= 0) {
        i->seg = (uint8_t)segovr;
        i->segovr = 1;
    }
    i->len = (uint8_t)k.pos;
    set_handler(c, i, in);
    *end = (in->attr & A_END) || !in->valid || i->fn == fam_ud[0];
    return (int)k.pos;
}

/* Near direct JMP/CALL (E8, E9, EB): their target, so that a block can go
 * on decoding there. */
bool decode_direct_target(const Insn *i, uint32_t *target)
{
    if ((i->op != 0xE8 && i->op != 0xE9 && i->op != 0xEB) || i->fn == fam_ud[0])
        return false;
    *target = ip_mask(i, i->next_eip + i->imm);
    return true;
}
