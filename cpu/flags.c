/*
 * cpu/flags.c -- lazy arithmetic flags (CF PF AF ZF SF OF).
 *
 * The last flag-setting instruction records cc_op (kind and size), its
 * operands cc_a/cc_b, carry-in cc_cin and result cc_res; the flags are
 * computed here only when something reads them.  Definitions: Intel SDM
 * Vol. 1 3.4.3.1 and each instruction's "Flags Affected" section.
 */
#include "cpu_internal.h"

static const uint32_t size_mask[3] = { 0xFF, 0xFFFF, 0xFFFFFFFF };
static const uint32_t size_sign[3] = { 0x80, 0x8000, 0x80000000 };

static uint32_t zsp(uint32_t res, unsigned sz)
{
    uint32_t f = 0;
    res &= size_mask[sz];
    if (res == 0)
        f |= FL_ZF;
    if (res & size_sign[sz])
        f |= FL_SF;
    if (!__builtin_parity(res & 0xFF))
        f |= FL_PF;
    return f;
}

uint32_t flags_arith(const Cpu *c)
{
    unsigned op = c->cc_op;
    if (op == CC_EAGER)
        return c->eflags & FL_ARITH;
    unsigned kind = (op - 1) / 3, sz = (op - 1) % 3;
    uint32_t m = size_mask[sz], sign = size_sign[sz];
    uint32_t a = c->cc_a & m, b = c->cc_b & m, r = c->cc_res & m;
    uint32_t f = zsp(r, sz);
    switch (kind * 3 + 1) {
    case CC_ADD:
    case CC_ADC:
        if (r < a || (c->cc_cin && r == a))
            f |= FL_CF;
        if ((a ^ r) & (b ^ r) & sign)
            f |= FL_OF;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    case CC_SUB:
    case CC_SBB:
        if (a < b || (c->cc_cin && a == b))
            f |= FL_CF;
        if ((a ^ b) & (a ^ r) & sign)
            f |= FL_OF;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    case CC_LOGIC:
        break;
    case CC_INC:
        f |= c->cc_cin ? FL_CF : 0;
        if (r == sign)
            f |= FL_OF;
        if ((r & 0xF) == 0)
            f |= FL_AF;
        break;
    case CC_DEC:
        f |= c->cc_cin ? FL_CF : 0;
        if (r == sign - 1)
            f |= FL_OF;
        if ((r & 0xF) == 0xF)
            f |= FL_AF;
        break;
    case CC_ZSP:
        f |= c->eflags & (FL_CF | FL_OF | FL_AF);
        break;
    default:
        break;
    }
    return f;
}

/* Individual flags without computing the rest. */
static bool lazy_cf(const Cpu *c, unsigned kind, uint32_t m)
{
    uint32_t a = c->cc_a & m, b = c->cc_b & m, r = c->cc_res & m;
    switch (kind * 3 + 1) {
    case CC_ADD: case CC_ADC: return r < a || (c->cc_cin && r == a);
    case CC_SUB: case CC_SBB: return a < b || (c->cc_cin && a == b);
    case CC_LOGIC: return false;
    case CC_INC: case CC_DEC: return c->cc_cin;
    default: return c->eflags & FL_CF;
    }
}
static bool lazy_of(const Cpu *c, unsigned kind, uint32_t m, uint32_t sign)
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
bool cpu_cond(Cpu *c, unsigned cc)
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
    uint32_t m = size_mask[sz], sign = size_sign[sz], r = c->cc_res & m;
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

/* Writes EFLAGS bits selected by mask; bit 1 always reads 1.  Callers
 * compute the mask from CPL/IOPL/mode (POPF, IRET, task switch). */
void cpu_set_eflags(Cpu *c, uint32_t v, uint32_t mask)
{
    cpu_flags_materialize(c);
    uint32_t old = c->eflags;
    c->eflags = ((old & ~mask) | (v & mask)) | 2u;
    c->eflags &= ~(1u << 3 | 1u << 5 | 1u << 15);
    if ((old ^ c->eflags) & (FL_VM | FL_TF | FL_IF | FL_RF | FL_AC))
        c->brk = 1;
    if ((old ^ c->eflags) & FL_AC)
        cpu_update_tlb_sel(c);
}
