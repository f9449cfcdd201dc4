/*
 * tests/unit/cpu_core_test.c -- targeted checks of the interpretive core
 * against the architecture (Intel SDM): exceptions with their error codes,
 * paging and the TLB, self-modifying code, REP faults, budgets, HLT, triple
 * fault, model gating, A20.
 *
 * Machine: 4 MiB RAM, flat 32-bit ring 0 (selectors 0x08 code, 0x10 data),
 * IDT at 0x1000 whose gate n points to a HLT stub at 0x3000 + 16 n, so an
 * exception ends the run with EIP = stub + 1 (vector = (EIP - 0x3001) / 16).
 */
#include <string.h>

#include "chipset/chipset.h"
#include "cpu/cpu.h"
#include "test.h"

enum { IDT = 0x1000, GDT = 0x800, STUBS = 0x3000, CODE = 0x10000, STACK = 0x9000,
       PD = 0x20000, PT = 0x21000 };

typedef struct M {
    Bus *bus;
    Cpu *cpu;
} M;

static void wr32(M *m, uint32_t a, uint32_t v) { bus_dma_write(m->bus, a, &v, 4); }
static uint32_t rd32(M *m, uint32_t a)
{
    uint32_t v = 0;
    bus_dma_read(m->bus, a, &v, 4);
    return v;
}

static void seg(CpuSegment *s, uint16_t sel, uint32_t base, uint32_t limit, uint16_t flags)
{
    s->selector = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
}

static bool m_init(M *m, const char *model)
{
    VsxError err = { { 0 } };
    m->bus = bus_create(4u << 20, &err);
    if (!m->bus)
        return false;
    m->cpu = cpu_create(m->bus, NULL, model, &err);
    if (!m->cpu)
        return false;
    static const uint32_t gdt[] = { 0, 0, 0xFFFF, 0x00CF9B00, 0xFFFF, 0x00CF9300 };
    bus_dma_write(m->bus, GDT, gdt, sizeof gdt);
    for (uint32_t v = 0; v < 32; v++) {
        uint32_t h = STUBS + 16 * v;
        wr32(m, IDT + 8 * v, (h & 0xFFFF) | 0x08u << 16);
        wr32(m, IDT + 8 * v + 4, (h & 0xFFFF0000u) | 0x8E00);
        uint8_t hlt = 0xF4;
        bus_dma_write(m->bus, h, &hlt, 1);
    }
    CpuRegs r;
    cpu_get_regs(m->cpu, &r);
    seg(&r.seg[SEG_CS], 0x08, 0, 0xFFFFFFFF, 0xC09B);
    for (int s = 0; s < SEG_COUNT; s++)
        if (s != SEG_CS)
            seg(&r.seg[s], 0x10, 0, 0xFFFFFFFF, 0xC093);
    r.gdtr_base = GDT;
    r.gdtr_limit = sizeof gdt - 1;
    r.idtr_base = IDT;
    r.idtr_limit = 32 * 8 - 1;
    r.cr0 = 0x11;
    r.rip = CODE;
    r.gpr[4] = STACK;
    r.rflags = 2;
    cpu_set_regs(m->cpu, &r);
    return true;
}

static void m_free(M *m)
{
    cpu_destroy(m->cpu);
    bus_destroy(m->bus);
}

static void code(M *m, uint32_t at, const uint8_t *bytes, size_t n) { bus_dma_write(m->bus, at, bytes, n); }

/* Runs until HLT; returns the exception vector taken (or -1 if the HLT was
 * not an exception stub). */
static int run_to_hlt(M *m, CpuRegs *r)
{
    uint64_t n;
    CpuExit why = cpu_run(m->cpu, 100000, &n);
    cpu_get_regs(m->cpu, r);
    if (why != CPU_EXIT_HLT)
        return -2;
    if (r->rip > STUBS && r->rip < STUBS + 32 * 16)
        return (int)((r->rip - STUBS - 1) / 16);
    return -1;
}

/* Identity map of the first 4 MiB, all pages user+writable, paging on. */
static void m_paging(M *m)
{
    for (uint32_t k = 0; k < 1024; k++)
        wr32(m, PT + 4 * k, k << 12 | 7);
    wr32(m, PD, PT | 7);
    CpuRegs r;
    cpu_get_regs(m->cpu, &r);
    r.cr3 = PD;
    r.cr0 = 0x80010011; /* PG WP ET PE */
    cpu_set_regs(m->cpu, &r);
}

TEST(cpu, divide_error_is_a_fault)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    /* mov eax,5; xor ecx,ecx; div ecx */
    static const uint8_t p[] = { 0xB8, 5, 0, 0, 0, 0x31, 0xC9, 0xF7, 0xF1, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), 0);
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4]), CODE + 7); /* EIP of the DIV */
    CHECK_EQ(r.gpr[0] & 0xFFFFFFFF, 5);
    m_free(&m);
}

TEST(cpu, ud_for_lock_on_register_and_missing_isa)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    static const uint8_t p[] = { 0xF0, 0x01, 0xC0 }; /* lock add eax,eax */
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), 6);
    m_free(&m);
    CHECK(m_init(&m, "pentium"));
    static const uint8_t q[] = { 0x0F, 0x44, 0xC1 }; /* cmove eax,ecx: P6 only */
    code(&m, CODE, q, sizeof q);
    CHECK_EQ(run_to_hlt(&m, &r), 6);
    m_free(&m);
    CHECK(m_init(&m, "486"));
    static const uint8_t t[] = { 0x0F, 0x31 }; /* rdtsc: Pentium */
    code(&m, CODE, t, sizeof t);
    CHECK_EQ(run_to_hlt(&m, &r), 6);
    m_free(&m);
}

TEST(cpu, cpuid_and_msr)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    /* xor eax,eax; cpuid; hlt */
    static const uint8_t p[] = { 0x31, 0xC0, 0x0F, 0xA2, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    CHECK_EQ(r.gpr[3] & 0xFFFFFFFF, 0x756E6547); /* "Genu" */
    CHECK_EQ(r.gpr[2] & 0xFFFFFFFF, 0x49656E69); /* "ineI" */
    CHECK_EQ(r.gpr[1] & 0xFFFFFFFF, 0x6C65746E); /* "ntel" */
    m_free(&m);
    CHECK(m_init(&m, "pentium"));
    /* mov ecx,0x12345; rdmsr -> #GP(0) */
    static const uint8_t q[] = { 0xB9, 0x45, 0x23, 0x01, 0x00, 0x0F, 0x32, 0xF4 };
    code(&m, CODE, q, sizeof q);
    CHECK_EQ(run_to_hlt(&m, &r), 13);
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4]), 0);           /* error code */
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4] + 4), CODE + 5); /* faulting EIP */
    m_free(&m);
}

TEST(cpu, page_fault_error_code_and_cr2)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    m_paging(&m);
    wr32(&m, PT + 4 * 0x200, 0x200000 | 5); /* page 0x200000: user, read-only */
    /* mov dword [0x200010], 1 */
    static const uint8_t p[] = { 0xC7, 0x05, 0x10, 0x00, 0x20, 0x00, 1, 0, 0, 0, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), 14);
    CHECK_EQ(r.cr2, 0x200010);
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4]), 3); /* present | write, supervisor (WP=1) */
    m_free(&m);
}

TEST(cpu, tlb_needs_invlpg)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    m_paging(&m);
    wr32(&m, 0x200000, 0xAAAA);
    wr32(&m, 0x201000, 0xBBBB);
    /* mov eax,[0x200000]; mov dword [PT+0x800], 0x201007; mov ebx,[0x200000];
     * invlpg [0x200000]; mov ecx,[0x200000]; hlt */
    static const uint8_t p[] = {
        0xA1, 0x00, 0x00, 0x20, 0x00,
        0xC7, 0x05, 0x00, 0x18, 0x02, 0x00, 0x07, 0x10, 0x20, 0x00,
        0x8B, 0x1D, 0x00, 0x00, 0x20, 0x00,
        0x0F, 0x01, 0x3D, 0x00, 0x00, 0x20, 0x00,
        0x8B, 0x0D, 0x00, 0x00, 0x20, 0x00,
        0xF4,
    };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    CHECK_EQ(r.gpr[0] & 0xFFFF, 0xAAAA);
    CHECK_EQ(r.gpr[3] & 0xFFFF, 0xAAAA); /* stale TLB entry still used */
    CHECK_EQ(r.gpr[1] & 0xFFFF, 0xBBBB); /* after INVLPG: new mapping */
    CHECK_EQ(rd32(&m, PT + 0x800) & 0x60, 0x20); /* accessed set, not dirty */
    m_free(&m);
}

TEST(cpu, self_modifying_code_in_one_block)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    /* mov byte [CODE+12], 0x43 (inc ebx); nop x5; db 0x40 (inc eax); hlt */
    static const uint8_t p[] = { 0xC6, 0x05, 0x0C, 0x00, 0x01, 0x00, 0x43, 0x90, 0x90, 0x90,
                                 0x90, 0x90, 0x40, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    CHECK_EQ(r.gpr[0] & 0xFFFFFFFF, 0); /* INC EAX was overwritten before it ran */
    CHECK_EQ(r.gpr[3] & 0xFFFFFFFF, 1);
    m_free(&m);
}

TEST(cpu, dma_write_invalidates_decoded_code)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    static const uint8_t p[] = { 0x40, 0xF4 }; /* inc eax; hlt */
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    CHECK_EQ(r.gpr[0] & 0xFF, 1);
    static const uint8_t q[] = { 0x43 }; /* inc ebx */
    code(&m, CODE, q, sizeof q);
    r.rip = CODE;
    r.halted = false;
    cpu_set_regs(m.cpu, &r);
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    CHECK_EQ(r.gpr[0] & 0xFF, 1);
    CHECK_EQ(r.gpr[3] & 0xFF, 1);
    m_free(&m);
}

TEST(cpu, rep_movs_fault_leaves_registers_at_faulting_element)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    m_paging(&m);
    wr32(&m, PT + 4 * 0x201, 0); /* 0x201000 not present */
    /* mov esi,0x100000; mov edi,0x200ff0; mov ecx,32; rep movsb */
    static const uint8_t p[] = { 0xBE, 0x00, 0x00, 0x10, 0x00, 0xBF, 0xF0, 0x0F, 0x20, 0x00,
                                 0xB9, 0x20, 0x00, 0x00, 0x00, 0xF3, 0xA4, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), 14);
    CHECK_EQ(r.gpr[1] & 0xFFFFFFFF, 16);          /* ECX: 16 bytes left */
    CHECK_EQ(r.gpr[6] & 0xFFFFFFFF, 0x100010);    /* ESI */
    CHECK_EQ(r.gpr[7] & 0xFFFFFFFF, 0x201000);    /* EDI at the fault */
    CHECK_EQ(r.cr2, 0x201000);
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4] + 4), CODE + 15); /* EIP of the REP MOVSB */
    m_free(&m);
}

TEST(cpu, budget_and_hlt)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    static const uint8_t p[] = { 0x40, 0x40, 0x40, 0x40, 0xF4 };
    code(&m, CODE, p, sizeof p);
    uint64_t n = 0;
    CHECK_EQ(cpu_run(m.cpu, 1, &n), CPU_EXIT_BUDGET);
    CHECK_EQ(n, 1);
    CHECK_EQ(cpu_run(m.cpu, 2, &n), CPU_EXIT_BUDGET);
    CHECK_EQ(n, 2);
    CHECK_EQ(cpu_run(m.cpu, 100, &n), CPU_EXIT_HLT);
    CHECK_EQ(n, 2);
    CpuRegs r;
    cpu_get_regs(m.cpu, &r);
    CHECK_EQ(r.gpr[0] & 0xFF, 4);
    CHECK(r.halted);
    CHECK_EQ(cpu_icount(m.cpu), 5);
    m_free(&m);
}

TEST(cpu, triple_fault_shuts_down)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    CpuRegs r;
    cpu_get_regs(m.cpu, &r);
    r.idtr_limit = 0; /* every delivery faults: #GP -> #DF -> shutdown */
    cpu_set_regs(m.cpu, &r);
    static const uint8_t p[] = { 0x0F, 0x0B }; /* ud2 */
    code(&m, CODE, p, sizeof p);
    uint64_t n;
    CHECK_EQ(cpu_run(m.cpu, 100, &n), CPU_EXIT_SHUTDOWN);
    int st;
    CHECK_EQ(bus_take_request(m.bus, &st), BUS_REQ_SHUTDOWN);
    m_free(&m);
}

TEST(cpu, double_fault_has_error_code_zero)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    /* #NP for vector 13's gate: a #GP then a contributory #NP -> #DF. */
    wr32(&m, IDT + 8 * 13 + 4, rd32(&m, IDT + 8 * 13 + 4) & ~0x8000u);
    static const uint8_t p[] = { 0x8E, 0xD8 }; /* mov ds, ax with AX = 0x1234 -> #GP */
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    cpu_get_regs(m.cpu, &r);
    r.gpr[0] = 0x1234;
    cpu_set_regs(m.cpu, &r);
    CHECK_EQ(run_to_hlt(&m, &r), 8);
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4]), 0);
    m_free(&m);
}

TEST(cpu, real_mode_reset_vector_and_a20)
{
    VsxError err = { { 0 } };
    Bus *bus = bus_create(4u << 20, &err);
    Cpu *cpu = cpu_create(bus, NULL, "pentium", &err);
    CpuRegs r;
    cpu_get_regs(cpu, &r);
    CHECK_EQ(r.rip, 0xFFF0);
    CHECK_EQ(r.seg[SEG_CS].selector, 0xF000);
    CHECK_EQ(r.seg[SEG_CS].base, 0xFFFF0000u);
    CHECK_EQ(r.gpr[2] & 0xFFF0, 0x0520); /* EDX = family 5 signature */
    /* At 0000:7C00: mov ax,0xFFFF; mov es,ax; mov byte [es:0x10], 0x55; hlt */
    static const uint8_t p[] = { 0xB8, 0xFF, 0xFF, 0x8E, 0xC0, 0x26, 0xC6, 0x06, 0x10, 0x00, 0x55, 0xF4 };
    bus_dma_write(bus, 0x7C00, p, sizeof p);
    r.seg[SEG_CS].selector = 0;
    r.seg[SEG_CS].base = 0;
    r.rip = 0x7C00;
    cpu_set_regs(cpu, &r);
    bus_set_a20(bus, false);
    uint64_t n;
    CHECK_EQ(cpu_run(cpu, 100, &n), CPU_EXIT_HLT);
    uint8_t lo = 0, hi = 0;
    bus_dma_read(bus, 0x0, &lo, 1);
    bus_dma_read(bus, 0x100000, &hi, 1);
    CHECK_EQ(lo, 0x55); /* FFFF:0010 wrapped to 0 with A20 off */
    CHECK_EQ(hi, 0);
    cpu_destroy(cpu);
    bus_destroy(bus);
}

TEST(cpu, lazy_flags_match_definitions)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    /* mov al,0x7F; add al,1 (OF SF AF); pushf; mov bl,0; sub bl,1 (CF SF AF PF); pushf;
     * mov ecx,-1; inc ecx (ZF PF AF, CF kept); pushf; hlt */
    static const uint8_t p[] = { 0xB0, 0x7F, 0x04, 0x01, 0x9C, 0xB3, 0x00, 0x80, 0xEB, 0x01, 0x9C,
                                 0xF9, 0xB9, 0xFF, 0xFF, 0xFF, 0xFF, 0x41, 0x9C, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    uint32_t sp = (uint32_t)r.gpr[4];
    CHECK_EQ(rd32(&m, sp + 8) & 0x8D5, 0x890);  /* add: OF SF AF */
    CHECK_EQ(rd32(&m, sp + 4) & 0x8D5, 0x095);  /* sub: SF AF PF CF */
    CHECK_EQ(rd32(&m, sp + 0) & 0x8D5, 0x055);  /* inc: ZF AF PF, CF from STC */
    m_free(&m);
}

TEST(cpu, rotate_keeps_lazy_zf_sf_pf_af)
{
    M m;
    CHECK(m_init(&m, "pentium"));
    /* mov al,0x7F; add al,1 (SF AF OF); mov ecx,0x80000000; rol ecx,1 (CF, OF=1); pushf; hlt */
    static const uint8_t p[] = { 0xB0, 0x7F, 0x04, 0x01, 0xB9, 0x00, 0x00, 0x00, 0x80,
                                 0xD1, 0xC1, 0x9C, 0xF4 };
    code(&m, CODE, p, sizeof p);
    CpuRegs r;
    CHECK_EQ(run_to_hlt(&m, &r), -1);
    CHECK_EQ(r.gpr[1] & 0xFFFFFFFF, 1);
    CHECK_EQ(rd32(&m, (uint32_t)r.gpr[4]) & 0x8D5, 0x891); /* SF AF from ADD; CF OF from ROL */
    m_free(&m);
}
