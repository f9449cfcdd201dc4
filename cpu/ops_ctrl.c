/*
 * cpu/ops_ctrl.c -- stack and control transfer: PUSH/POP (registers,
 * memory, segments, immediate, PUSHA/POPA, ENTER/LEAVE), Jcc/JMP/CALL/RET/
 * LOOP/JCXZ, far forms, INT/INTO/INT3/INT1/IRET (Intel SDM Vol. 2).
 */
#include "ops.h"

static void op_push_r16(Cpu *c, const Insn *i) { push16(c, R16(c, i->reg)); }
INLINE bool body_push_r32(Cpu *c, const Insn *i, bool fast) { return push32_x(c, R32(c, i->reg), fast); }
HANDLER_AND_FAST(push_r32)
FAM6_T(push_r, op_ud, op_ud, op_push_r16, op_push_r16, op_push_r32, op_push_r32,
       THREADED, THREADED, THREADED, THREADED, THREADED_F, THREADED_F);
static void op_pop_r16(Cpu *c, const Insn *i) { uint16_t v = pop16(c); R16(c, i->reg) = v; }
INLINE bool body_pop_r32(Cpu *c, const Insn *i, bool fast)
{
    uint32_t v;
    if (!pop32_x(c, &v, fast))
        return false;
    R32(c, i->reg) = v; /* after SP: POP ESP loads the popped value */
    return true;
}
HANDLER_AND_FAST(pop_r32)
FAM6_T(pop_r, op_ud, op_ud, op_pop_r16, op_pop_r16, op_pop_r32, op_pop_r32,
       THREADED, THREADED, THREADED, THREADED, THREADED_F, THREADED_F);

static void op_push_i(Cpu *c, const Insn *i)
{
    if (i->o32)
        push32(c, i->imm);
    else
        push16(c, (uint16_t)i->imm);
}
FAM1(push_i, op_push_i);

static void op_push_e(Cpu *c, const Insn *i)
{
    if (i->o32)
        push32(c, rm_get(c, i, 4));
    else
        push16(c, (uint16_t)rm_get(c, i, 2));
}
FAM1(push_e, op_push_e);

/* POP r/m: an ESP-based address is computed after ESP was incremented. */
static void op_pop_e(Cpu *c, const Insn *i)
{
    unsigned n = i->o32 ? 4 : 2;
    uint32_t sp = get_sp(c), old = c->r[REG_SP].d;
    uint32_t v = mem_get(c, SEG_SS, sp, n);
    if (!i->mem) {
        set_sp(c, sp + n);
        reg_set(c, i->rm, n, v);
        return;
    }
    set_sp(c, sp + n);
    uint32_t off = cpu_ea(c, i);
    c->r[REG_SP].d = old;
    mem_set(c, i->seg, off, n, v);
    set_sp(c, sp + n);
}
FAM1(pop_e, op_pop_e);

static void op_pusha(Cpu *c, const Insn *i)
{
    unsigned n = i->o32 ? 4 : 2;
    uint32_t sp = get_sp(c), m = sp_mask(c);
    for (unsigned r = 0; r < 8; r++) {
        uint32_t v = reg_get(c, r, n);
        mem_set(c, SEG_SS, (sp - (r + 1) * n) & m, n, v);
    }
    set_sp(c, sp - 8 * n);
}
static void op_popa(Cpu *c, const Insn *i)
{
    unsigned n = i->o32 ? 4 : 2;
    uint32_t sp = get_sp(c), m = sp_mask(c), v[8];
    for (unsigned r = 0; r < 8; r++)
        v[7 - r] = mem_get(c, SEG_SS, (sp + r * n) & m, n);
    for (unsigned r = 0; r < 8; r++)
        if (r != REG_SP)
            reg_set(c, r, n, v[r]);
    set_sp(c, sp + 8 * n);
}
FAM1(pusha, op_pusha);
FAM1(popa, op_popa);

/* ENTER (SDM Vol. 2 ENTER): nesting level mod 32. */
static void op_enter(Cpu *c, const Insn *i)
{
    unsigned n = i->o32 ? 4 : 2, level = i->imm2 & 31;
    uint32_t m = sp_mask(c), sp = get_sp(c);
    uint32_t bp = c->stack32 ? R32(c, REG_BP) : R16(c, REG_BP);
    sp = (sp - n) & m;
    mem_set(c, SEG_SS, sp, n, reg_get(c, REG_BP, n));
    uint32_t frame = sp;
    if (level) {
        for (unsigned k = 1; k < level; k++) {
            bp = (bp - n) & m;
            uint32_t v = mem_get(c, SEG_SS, bp, n);
            sp = (sp - n) & m;
            mem_set(c, SEG_SS, sp, n, v);
        }
        sp = (sp - n) & m;
        mem_set(c, SEG_SS, sp, n, frame);
    }
    sp = (sp - (uint16_t)i->imm) & m;
    mem_probe_write(c, SEG_SS, sp, 1);
    reg_set(c, REG_BP, n, frame);
    set_sp(c, sp);
}
static void op_leave(Cpu *c, const Insn *i)
{
    unsigned n = i->o32 ? 4 : 2;
    uint32_t bp = c->stack32 ? R32(c, REG_BP) : R16(c, REG_BP);
    uint32_t v = mem_get(c, SEG_SS, bp, n);
    set_sp(c, bp + n);
    reg_set(c, REG_BP, n, v);
}
FAM1(enter, op_enter);
FAM1(leave, op_leave);

/* ---- segment register push/pop/load ---- */
static int seg_of_op(unsigned op)
{
    switch (op) {
    case 0x06: case 0x07: return SEG_ES;
    case 0x0E: return SEG_CS;
    case 0x16: case 0x17: return SEG_SS;
    case 0x1E: case 0x1F: return SEG_DS;
    case 0x1A0: case 0x1A1: return SEG_FS;
    default: return SEG_GS;
    }
}
static void op_push_seg(Cpu *c, const Insn *i)
{
    uint16_t v = c->seg[seg_of_op(i->op)].sel;
    if (i->o32) {
        /* Pentium and later write only the low 16 bits of the slot. */
        uint32_t sp = (get_sp(c) - 4) & sp_mask(c);
        mwr16(c, SEG_SS, sp, v);
        set_sp(c, sp);
    } else {
        push16(c, v);
    }
}
static void op_pop_seg(Cpu *c, const Insn *i)
{
    int s = seg_of_op(i->op);
    uint32_t sp = get_sp(c);
    uint16_t v = mrd16(c, SEG_SS, sp);
    seg_load(c, s, v);
    set_sp(c, sp + (i->o32 ? 4 : 2));
    if (s == SEG_SS) {
        c->shadow = true;
        c->shadow_icount = cpu_icount_now(c) + 1;
    }
}
FAM1(push_seg, op_push_seg);
FAM1(pop_seg, op_pop_seg);

static void op_mov_es(Cpu *c, const Insn *i)
{
    if (i->reg >= SEG_COUNT)
        cpu_ud(c);
    uint16_t v = c->seg[i->reg].sel;
    if (i->mem)
        mwr16(c, i->seg, cpu_ea(c, i), v);
    else if (i->o32)
        R32(c, i->rm) = v; /* 32-bit register destination: zero-extended on P6; Pentium leaves upper bits */
    else
        R16(c, i->rm) = v;
}
static void op_mov_se(Cpu *c, const Insn *i)
{
    if (i->reg >= SEG_COUNT || i->reg == SEG_CS)
        cpu_ud(c);
    uint16_t v = (uint16_t)rm_get(c, i, 2);
    seg_load(c, i->reg, v);
    if (i->reg == SEG_SS) {
        c->shadow = true;
        c->shadow_icount = cpu_icount_now(c) + 1;
    }
}
FAM1(mov_es, op_mov_es);
FAM1(mov_se, op_mov_se);

/* LES/LDS/LSS/LFS/LGS */
static void op_lxs(Cpu *c, const Insn *i)
{
    int s = i->op == 0xC4 ? SEG_ES : i->op == 0xC5 ? SEG_DS : i->op == 0x1B2 ? SEG_SS
          : i->op == 0x1B4 ? SEG_FS : SEG_GS;
    uint32_t off = cpu_ea(c, i);
    unsigned n = i->o32 ? 4 : 2;
    uint32_t v = mem_get(c, i->seg, off, n);
    uint16_t sel = mrd16(c, i->seg, (off + n) & i->amask);
    seg_load(c, s, sel);
    reg_set(c, i->reg, n, v);
}
FAM1(lxs, op_lxs);

/* ---- near control transfer ---- */
/* One handler per condition so the flag test is specialised. */
#define JCC(n)                                                                \
    static void op_jcc##n(Cpu *c, const Insn *i)                              \
    {                                                                         \
        if (cpu_cond_inline(c, 0x##n))                                        \
            cpu_jump(c, ip_mask(i, c->next_eip + i->imm));                    \
    }                                                                         \
    FAM1_PURE(jcc##n, op_jcc##n);
JCC(0) JCC(1) JCC(2) JCC(3) JCC(4) JCC(5) JCC(6) JCC(7)
JCC(8) JCC(9) JCC(A) JCC(B) JCC(C) JCC(D) JCC(E) JCC(F)

static void op_jmp_rel(Cpu *c, const Insn *i) { cpu_jump(c, ip_mask(i, c->next_eip + i->imm)); }
FAM1_PURE(jmp_rel, op_jmp_rel);

static void op_call_rel(Cpu *c, const Insn *i)
{
    uint32_t target = ip_mask(i, c->next_eip + i->imm);
    if (target > c->seg[SEG_CS].limit)
        cpu_gp(c, 0);
    if (i->o32)
        push32(c, c->next_eip);
    else
        push16(c, (uint16_t)c->next_eip);
    c->next_eip = target;
}
FAM1(call_rel, op_call_rel);

static void op_call_ind(Cpu *c, const Insn *i)
{
    uint32_t target = rm_get(c, i, i->o32 ? 4 : 2);
    if (target > c->seg[SEG_CS].limit)
        cpu_gp(c, 0);
    if (i->o32)
        push32(c, c->next_eip);
    else
        push16(c, (uint16_t)c->next_eip);
    c->next_eip = target;
}
FAM1(call_ind, op_call_ind);

static void op_jmp_ind(Cpu *c, const Insn *i) { cpu_jump(c, rm_get(c, i, i->o32 ? 4 : 2)); }
FAM1(jmp_ind, op_jmp_ind);

static void op_ret_near(Cpu *c, const Insn *i)
{
    uint32_t sp = get_sp(c);
    uint32_t target = i->o32 ? mrd32(c, SEG_SS, sp) : mrd16(c, SEG_SS, sp);
    if (target > c->seg[SEG_CS].limit)
        cpu_gp(c, 0);
    set_sp(c, sp + (i->o32 ? 4 : 2) + (i->op == 0xC2 ? (uint16_t)i->imm : 0));
    c->next_eip = target;
}
FAM1(ret_near, op_ret_near);

static void op_loop(Cpu *c, const Insn *i)
{
    uint32_t cnt;
    if (i->a32)
        cnt = --c->r[REG_CX].d;
    else
        cnt = --c->r[REG_CX].w;
    bool go = cnt != 0;
    if (i->op == 0xE0)
        go = go && !cpu_cond(c, 4);
    else if (i->op == 0xE1)
        go = go && cpu_cond(c, 4);
    if (go)
        cpu_jump(c, ip_mask(i, c->next_eip + i->imm));
}
FAM1(loop, op_loop);

static void op_jcxz(Cpu *c, const Insn *i)
{
    uint32_t cnt = i->a32 ? c->r[REG_CX].d : c->r[REG_CX].w;
    if (cnt == 0)
        cpu_jump(c, ip_mask(i, c->next_eip + i->imm));
}
FAM1(jcxz, op_jcxz);

/* ---- far control transfer ---- */
static void op_callf_ap(Cpu *c, const Insn *i) { far_call(c, i->imm2, i->disp, i->o32); }
static void op_jmpf_ap(Cpu *c, const Insn *i) { far_jump(c, i->imm2, i->disp, i->o32); }
FAM1(callf_ap, op_callf_ap);
FAM1(jmpf_ap, op_jmpf_ap);

static void far_operand(Cpu *c, const Insn *i, uint16_t *sel, uint32_t *off)
{
    uint32_t ea = cpu_ea(c, i);
    unsigned n = i->o32 ? 4 : 2;
    *off = mem_get(c, i->seg, ea, n);
    *sel = mrd16(c, i->seg, (ea + n) & i->amask);
}
static void op_callf_ind(Cpu *c, const Insn *i)
{
    uint16_t sel;
    uint32_t off;
    far_operand(c, i, &sel, &off);
    far_call(c, sel, off, i->o32);
}
static void op_jmpf_ind(Cpu *c, const Insn *i)
{
    uint16_t sel;
    uint32_t off;
    far_operand(c, i, &sel, &off);
    far_jump(c, sel, off, i->o32);
}
FAM1(callf_ind, op_callf_ind);
FAM1(jmpf_ind, op_jmpf_ind);

static void op_ret_far(Cpu *c, const Insn *i) { far_ret(c, i->o32, i->op == 0xCA ? (uint16_t)i->imm : 0); }
FAM1(ret_far, op_ret_far);

static void op_iret(Cpu *c, const Insn *i)
{
    cpu_iret(c, i->o32);
    c->nmi_blocked = false; /* IRET ends NMI blocking (SDM Vol. 3A 6.7.1) */
    c->brk = 1;
}
FAM1(iret, op_iret);

/* ---- software interrupts ---- */
static void op_int_n(Cpu *c, const Insn *i)
{
    uint8_t vec = (uint8_t)i->imm;
    if (cpu_v86(c) && cpu_iopl(c) < 3) {
        /* VME interrupt redirection (SDM Vol. 3A 20.3.3): bit clear in the
         * TSS redirection bitmap -> real-mode style through the V86 IVT. */
        if ((c->cr4 & CR4_VME) && c->tr.limit >= 0x67) {
            uint16_t iomap = sys_rd16(c, c->tr.base + 0x66);
            uint32_t byte = (uint32_t)iomap - 32 + (vec >> 3);
            if (iomap >= 32 && byte <= c->tr.limit && !(sys_rd8(c, c->tr.base + byte) & (1u << (vec & 7)))) {
                extern void v86_redirect_int(Cpu * c, uint8_t vec, uint32_t ret);
                v86_redirect_int(c, vec, c->next_eip);
                return;
            }
        }
        cpu_gp(c, 0);
    }
    cpu_deliver(c, vec, ERR_NONE, true, c->next_eip);
}
static void op_int3(Cpu *c, const Insn *i) { (void)i; cpu_deliver(c, EXC_BP, ERR_NONE, true, c->next_eip); }
static void op_into(Cpu *c, const Insn *i)
{
    (void)i;
    if (cpu_get_eflags(c) & FL_OF)
        cpu_deliver(c, EXC_OF, ERR_NONE, true, c->next_eip);
}
static void op_int1(Cpu *c, const Insn *i) { (void)i; cpu_deliver(c, EXC_DB, ERR_NONE, false, c->next_eip); }
FAM1(int_n, op_int_n);
FAM1(int3, op_int3);
FAM1(into, op_into);
FAM1(int1, op_int1);

/* BOUND (SDM Vol. 2): #BR when the index is outside [lower, upper]. */
static void op_bound(Cpu *c, const Insn *i)
{
    uint32_t ea = cpu_ea(c, i);
    if (i->o32) {
        int32_t lo = (int32_t)mrd32(c, i->seg, ea), hi = (int32_t)mrd32(c, i->seg, (ea + 4) & i->amask);
        int32_t v = (int32_t)R32(c, i->reg);
        if (v < lo || v > hi)
            cpu_raise(c, EXC_BR, ERR_NONE);
    } else {
        int16_t lo = (int16_t)mrd16(c, i->seg, ea), hi = (int16_t)mrd16(c, i->seg, (ea + 2) & i->amask);
        int16_t v = (int16_t)R16(c, i->reg);
        if (v < lo || v > hi)
            cpu_raise(c, EXC_BR, ERR_NONE);
    }
}
FAM1(bound, op_bound);
