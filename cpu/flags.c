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
        if (r < a || (kind * 3 + 1 == CC_ADC && c->cc_cin && r == a))
            f |= FL_CF;
        if ((a ^ r) & (b ^ r) & sign)
            f |= FL_OF;
        f |= (a ^ b ^ r) & FL_AF;
        break;
    case CC_SUB:
    case CC_SBB:
        if (a < b || (kind * 3 + 1 == CC_SBB && c->cc_cin && a == b))
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

bool cpu_cond(Cpu *c, unsigned cc) { return cpu_cond_inline(c, cc); }

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
