/*
 * cpu/mmu.c -- segment limit checks, paging, the software TLB, the slow
 * memory paths, and tracking of physical pages that hold decoded code.
 *
 * Paging: 32-bit two-level tables with 4 KiB pages and, with CR4.PSE, 4 MiB
 * pages (Intel SDM Vol. 3A 4.3).  Accessed/dirty bits are set as the walk
 * goes (4.8); U/S and R/W are combined over both levels, supervisor writes
 * to read-only pages are allowed unless CR0.WP (4.6).  #PF error codes and
 * CR2 follow 4.7.  The walk is written so a PAE walker can sit beside it.
 */
#include "cpu_internal.h"

#include <stdlib.h>

enum { PTE_P = 1, PTE_W = 2, PTE_U = 4, PTE_A = 0x20, PTE_D = 0x40, PTE_PS = 0x80 };

/* ---- physical access used by the page walker ---- */
static uint32_t phys_rd32(Cpu *c, uint32_t pa)
{
    BusPage bp;
    bus_page(c->bus, pa & ~0xFFFu, &bp);
    if (bp.read && (pa & 3) == 0) {
        uint32_t v;
        memcpy(&v, bp.read + (pa & 0xFFF), 4);
        return v;
    }
    return (uint32_t)bus_mem_read(c->bus, pa, 4);
}

static void phys_wr32(Cpu *c, uint32_t pa, uint32_t v)
{
    BusPage bp;
    bus_page(c->bus, pa & ~0xFFFu, &bp);
    if (code_page_tracked(c, pa >> 12))
        code_invalidate_range(c, pa, 4);
    if (bp.write && (pa & 3) == 0)
        memcpy(bp.write + (pa & 0xFFF), &v, 4);
    else
        bus_mem_write(c->bus, pa, v, 4);
}

static _Noreturn void page_fault(Cpu *c, uint32_t lin, bool present, bool write, bool user)
{
    c->cr2 = lin;
    cpu_raise(c, EXC_PF, (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0));
}

/* ---- PAE (SDM Vol. 3A 4.4): 64-bit entries, 36-bit physical addresses ---- */
#define PAE_ADDR 0x0000000FFFFFF000ull   /* bits 12-35 */
#define PAE_RSVD_HIGH 0xFFFFFFF000000000ull /* 36-63 (bit 63 is XD: no NX on P6) */
#define PDPTE_RSVD (PAE_RSVD_HIGH | 0x1E6ull) /* and bits 1, 2, 5-8 */
#define PAE_2M_RSVD (PAE_RSVD_HIGH | 0x1FE000ull) /* bits 13-20 of a 2 MiB PDE */

static uint64_t phys_rd64(Cpu *c, uint32_t pa)
{
    return phys_rd32(c, pa) | (uint64_t)phys_rd32(c, pa + 4) << 32;
}

bool mmu_read_pdptes(Cpu *c, uint32_t cr3, uint64_t out[4])
{
    uint32_t base = (cr3 & 0xFFFFFFE0u) & c->a20_mask;
    for (int k = 0; k < 4; k++) {
        uint64_t e = phys_rd64(c, base + 8 * k);
        if ((e & PTE_P) && (e & PDPTE_RSVD))
            return false;
        out[k] = e;
    }
    return true;
}

/* A reserved bit in a present entry: #PF with RSVD (bit 3) set. */
static _Noreturn void page_fault_rsvd(Cpu *c, uint32_t lin, bool write, bool user)
{
    c->cr2 = lin;
    cpu_raise(c, EXC_PF, 1 | 8 | (write ? 2 : 0) | (user ? 4 : 0));
}

/* The guest's physical addresses are 32 bits wide here: a PAE entry naming
 * memory above 4 GiB is reached at its address modulo 4 GiB (only guests
 * with more than 3.5 GiB of RAM have any there). */
static uint32_t pae_translate(Cpu *c, uint32_t lin, bool write, bool user)
{
    bool wp = c->cr0 & CR0_WP;
    uint64_t pdpte = c->pdpte[lin >> 30];
    if (!(pdpte & PTE_P))
        page_fault(c, lin, false, write, user);
    uint32_t pde_addr = (uint32_t)((pdpte & PAE_ADDR) + ((lin >> 21) & 0x1FF) * 8) & c->a20_mask;
    uint64_t pde = phys_rd64(c, pde_addr);
    if (!(pde & PTE_P))
        page_fault(c, lin, false, write, user);
    if (pde & ((pde & PTE_PS) ? PAE_2M_RSVD : PAE_RSVD_HIGH))
        page_fault_rsvd(c, lin, write, user);
    if (pde & PTE_PS) {
        if ((user && !(pde & PTE_U)) || (write && !(pde & PTE_W) && (user || wp)))
            page_fault(c, lin, true, write, user);
        uint32_t want = PTE_A | (write ? PTE_D : 0);
        if ((pde & want) != want)
            phys_wr32(c, pde_addr, (uint32_t)pde | want);
        return ((uint32_t)(pde & 0xFFE00000u) | (lin & 0x1FFFFF)) & c->a20_mask;
    }
    uint32_t pte_addr = (uint32_t)((pde & PAE_ADDR) + ((lin >> 12) & 0x1FF) * 8) & c->a20_mask;
    uint64_t pte = phys_rd64(c, pte_addr);
    if (!(pte & PTE_P))
        page_fault(c, lin, false, write, user);
    if (pte & PAE_RSVD_HIGH)
        page_fault_rsvd(c, lin, write, user);
    uint64_t perm = pde & pte;
    if ((user && !(perm & PTE_U)) || (write && !(perm & PTE_W) && (user || wp)))
        page_fault(c, lin, true, write, user);
    if (!(pde & PTE_A))
        phys_wr32(c, pde_addr, (uint32_t)pde | PTE_A);
    uint32_t want = PTE_A | (write ? PTE_D : 0);
    if ((pte & want) != want)
        phys_wr32(c, pte_addr, (uint32_t)pte | want);
    return ((uint32_t)(pte & 0xFFFFF000u) | (lin & 0xFFF)) & c->a20_mask;
}

/* Walks the tables; returns the physical address or raises #PF. */
uint32_t mmu_translate(Cpu *c, uint32_t lin, bool write, bool user)
{
    if (!c->paging)
        return lin & c->a20_mask;
    if (c->cr4 & CR4_PAE)
        return pae_translate(c, lin, write, user);
    uint32_t pde_addr = ((c->cr3 & ~0xFFFu) | ((lin >> 20) & 0xFFC)) & c->a20_mask;
    uint32_t pde = phys_rd32(c, pde_addr);
    if (!(pde & PTE_P))
        page_fault(c, lin, false, write, user);
    bool wp = c->cr0 & CR0_WP;
    if ((pde & PTE_PS) && (c->cr4 & CR4_PSE)) {
        if ((user && !(pde & PTE_U)) || (write && !(pde & PTE_W) && (user || wp)))
            page_fault(c, lin, true, write, user);
        uint32_t want = PTE_A | (write ? PTE_D : 0);
        if ((pde & want) != want)
            phys_wr32(c, pde_addr, pde | want);
        return ((pde & 0xFFC00000u) | (lin & 0x3FFFFF)) & c->a20_mask;
    }
    uint32_t pte_addr = ((pde & ~0xFFFu) | ((lin >> 10) & 0xFFC)) & c->a20_mask;
    uint32_t pte = phys_rd32(c, pte_addr);
    if (!(pte & PTE_P))
        page_fault(c, lin, false, write, user);
    uint32_t perm = pde & pte;
    if ((user && !(perm & PTE_U)) || (write && !(perm & PTE_W) && (user || wp)))
        page_fault(c, lin, true, write, user);
    if (!(pde & PTE_A))
        phys_wr32(c, pde_addr, pde | PTE_A);
    uint32_t want = PTE_A | (write ? PTE_D : 0);
    if ((pte & want) != want)
        phys_wr32(c, pte_addr, pte | want);
    return ((pte & ~0xFFFu) | (lin & 0xFFF)) & c->a20_mask;
}

/* ---- TLB ---- */
static void tlb_invalidate_slot(Cpu *c, unsigned k)
{
    c->tlb_none[k].tag = TLB_INVALID;
    for (int u = 0; u < 2; u++) {
        c->tlb_r[u][k].tag = TLB_INVALID;
        c->tlb_w[u][k].tag = TLB_INVALID;
    }
}

void tlb_flush(Cpu *c)
{
    c->chain_gen++;
    if (c->tlb_nused <= TLB_USED_MAX) {
        for (unsigned i = 0; i < c->tlb_nused; i++)
            tlb_invalidate_slot(c, c->tlb_used[i]);
    } else {
        for (unsigned k = 0; k < TLB_SIZE; k++)
            tlb_invalidate_slot(c, k);
    }
    c->tlb_nused = 0;
}

void tlb_flush_page(Cpu *c, uint32_t lin)
{
    c->chain_gen++;
    unsigned k = (lin >> 12) & (TLB_SIZE - 1);
    for (int u = 0; u < 2; u++) {
        c->tlb_r[u][k].tag = TLB_INVALID;
        c->tlb_w[u][k].tag = TLB_INVALID;
    }
    /* A 4 MiB page may have been entered as many 4 KiB entries: INVLPG on
     * any address inside it must drop them all (SDM Vol. 3A 4.10.4.1). */
    if (c->cr4 & (CR4_PSE | CR4_PAE)) { /* (a 2 MiB PAE page lies inside one 4 MiB region) */
        uint32_t big = lin & 0xFFC00000u;
        for (int u = 0; u < 2; u++)
            for (unsigned j = 0; j < TLB_SIZE; j++) {
                if ((c->tlb_r[u][j].tag & ~0x3FFFFFull) == big)
                    c->tlb_r[u][j].tag = TLB_INVALID;
                if ((c->tlb_w[u][j].tag & ~0x3FFFFFull) == big)
                    c->tlb_w[u][j].tag = TLB_INVALID;
            }
    }
}

/* Picks the TLB pair for the current privilege.  With alignment checking
 * active (SDM Vol. 3A 6.15: CR0.AM, EFLAGS.AC, CPL 3) every data access must
 * reach the slow path, so an always-missing TLB is used instead. */
void cpu_update_tlb_sel(Cpu *c)
{
    int u = c->cpl == 3;
    c->ac_check = u && (c->cr0 & CR0_AM) && (c->eflags & FL_AC) && c->model->isa >= ISA_486;
    c->tlbr = c->ac_check ? c->tlb_none : c->tlb_r[u];
    c->tlbw = c->ac_check ? c->tlb_none : c->tlb_w[u];
}

/* Drops write entries pointing at physical page `pp` (it now holds code). */
static void tlb_drop_writes_slot(Cpu *c, unsigned k, uint32_t pp)
{
    for (int u = 0; u < 2; u++)
        if (c->tlb_w[u][k].tag != TLB_INVALID && c->tlb_wpage[u][k] == pp)
            c->tlb_w[u][k].tag = TLB_INVALID;
}

static void tlb_drop_writes_to(Cpu *c, uint32_t pp)
{
    if (c->tlb_nused <= TLB_USED_MAX) {
        for (unsigned i = 0; i < c->tlb_nused; i++)
            tlb_drop_writes_slot(c, c->tlb_used[i], pp);
        return;
    }
    for (unsigned k = 0; k < TLB_SIZE; k++)
        tlb_drop_writes_slot(c, k, pp);
}

/* Remembers that slot k may hold entries (see Cpu.tlb_used). */
static void tlb_note_slot(Cpu *c, unsigned k)
{
    if (c->tlb_nused < TLB_USED_MAX)
        c->tlb_used[c->tlb_nused] = (uint16_t)k;
    if (c->tlb_nused <= TLB_USED_MAX)
        c->tlb_nused++;
}

static void tlb_fill(Cpu *c, uint32_t lin, uint32_t pa, bool write, bool user)
{
    BusPage bp;
    if (c->data_bp)
        return; /* every access must reach debug_check_data */
    uint32_t page = pa & ~0xFFFu;
    bus_page(c->bus, page, &bp);
    uint8_t *host = write ? bp.write : bp.read;
    if (!host)
        return;
    if (write && code_page_tracked(c, pa >> 12))
        return;
    unsigned k = (lin >> 12) & (TLB_SIZE - 1);
    TlbEntry *e = &(write ? c->tlb_w : c->tlb_r)[user][k];
    if (e->tag == TLB_INVALID)
        tlb_note_slot(c, k);
    e->tag = lin & ~0xFFFu;
    e->addend = (uintptr_t)host - (uintptr_t)(lin & ~0xFFFu);
    (write ? c->tlb_wpage : c->tlb_rpage)[user][k] = pa >> 12;
}

/* ---- physical byte access for the slow path ---- */
static uint64_t phys_read(Cpu *c, uint32_t pa, unsigned n)
{
    BusPage bp;
    bus_page(c->bus, pa & ~0xFFFu, &bp);
    if (bp.read) {
        uint64_t v = 0;
        memcpy(&v, bp.read + (pa & 0xFFF), n);
        return v;
    }
    if (n == 8)
        return bus_mem_read(c->bus, pa, 4) | bus_mem_read(c->bus, pa + 4, 4) << 32;
    return bus_mem_read(c->bus, pa, n);
}

static void phys_write(Cpu *c, uint32_t pa, unsigned n, uint64_t v)
{
    BusPage bp;
    bus_page(c->bus, pa & ~0xFFFu, &bp);
    /* Rewriting code bytes with the values they already hold (GRUB patches
     * the vector of its INT trampoline before every BIOS call) changes
     * nothing, so the decoded blocks stay valid. */
    if (code_page_tracked(c, pa >> 12) && !(bp.write && bp.read == bp.write && !memcmp(bp.write + (pa & 0xFFF), &v, n)))
        code_invalidate_range(c, pa, n);
    if (bp.write) {
        memcpy(bp.write + (pa & 0xFFF), &v, n);
        return;
    }
    if (n == 8) {
        bus_mem_write(c->bus, pa, (uint32_t)v, 4);
        bus_mem_write(c->bus, pa + 4, v >> 32, 4);
        return;
    }
    bus_mem_write(c->bus, pa, v, n);
}

/* ---- linear accesses ---- */
uint64_t lin_rd(Cpu *c, uint32_t lin, unsigned n, bool user)
{
    if (((lin & 0xFFF) + n) > 0x1000) {
        /* Crosses a page: translate both before reading (SDM Vol. 3A 4.10.2). */
        uint32_t split = 0x1000 - (lin & 0xFFF);
        uint32_t p1 = mmu_translate(c, lin, false, user);
        uint32_t p2 = mmu_translate(c, lin + split, false, user);
        uint64_t v = 0;
        for (unsigned b = 0; b < n; b++) {
            uint32_t pa = b < split ? p1 + b : p2 + (b - split);
            v |= phys_read(c, pa, 1) << (8 * b);
        }
        return v;
    }
    uint32_t pa = mmu_translate(c, lin, false, user);
    tlb_fill(c, lin, pa, false, user);
    return phys_read(c, pa, n);
}

void lin_wr(Cpu *c, uint32_t lin, unsigned n, uint64_t v, bool user)
{
    if (((lin & 0xFFF) + n) > 0x1000) {
        uint32_t split = 0x1000 - (lin & 0xFFF);
        uint32_t p1 = mmu_translate(c, lin, true, user);
        uint32_t p2 = mmu_translate(c, lin + split, true, user);
        for (unsigned b = 0; b < n; b++) {
            uint32_t pa = b < split ? p1 + b : p2 + (b - split);
            phys_write(c, pa, 1, (v >> (8 * b)) & 0xFF);
        }
        return;
    }
    uint32_t pa = mmu_translate(c, lin, true, user);
    tlb_fill(c, lin, pa, true, user);
    phys_write(c, pa, n, v);
}

/* ---- segment checks (SDM Vol. 3A 5.3) ---- */
static _Noreturn void seg_fault(Cpu *c, int seg)
{
    cpu_raise(c, seg == SEG_SS ? EXC_SS : EXC_GP, 0);
}

void mem_probe_read(Cpu *c, int seg, uint32_t off, unsigned n)
{
    const SegCache *s = &c->seg[seg];
    if (off < s->rlo || (uint64_t)off + n - 1 > s->rhi)
        seg_fault(c, seg);
}

void mem_probe_write(Cpu *c, int seg, uint32_t off, unsigned n)
{
    const SegCache *s = &c->seg[seg];
    if (off < s->wlo || (uint64_t)off + n - 1 > s->whi)
        seg_fault(c, seg);
    uint32_t lin = s->base + off;
    bool user = c->cpl == 3;
    mmu_translate(c, lin, true, user);
    if (((lin & 0xFFF) + n) > 0x1000)
        mmu_translate(c, (lin | 0xFFF) + 1, true, user);
}

static void align_check(Cpu *c, uint32_t lin, unsigned n)
{
    if (c->ac_check && (lin & (n - 1)))
        cpu_raise(c, EXC_AC, 0);
}

uint64_t mem_rd_slow(Cpu *c, int seg, uint32_t off, unsigned n)
{
    mem_probe_read(c, seg, off, n);
    align_check(c, c->seg[seg].base + off, n);
    if (c->data_bp)
        debug_check_data(c, c->seg[seg].base + off, n, false);
    return lin_rd(c, c->seg[seg].base + off, n, c->cpl == 3);
}

/* Data breakpoints (SDM Vol. 3B 17.2.4-17.2.5): a hit is recorded now and
 * reported as a trap after the instruction completes. */
void debug_check_data(Cpu *c, uint32_t lin, unsigned n, bool write)
{
    static const uint32_t lens[4] = { 1, 2, 8, 4 };
    for (int k = 0; k < 4; k++) {
        if (!((c->dr[7] >> (2 * k)) & 3))
            continue;
        unsigned rw = (c->dr[7] >> (16 + 4 * k)) & 3;
        if (rw == 0 || rw == 2 || (rw == 1 && !write))
            continue;
        uint32_t len = lens[(c->dr[7] >> (18 + 4 * k)) & 3];
        uint32_t start = c->dr[k] & ~(len - 1);
        if (lin <= start + len - 1 && start <= lin + n - 1)
            c->dr6_pending |= 1u << k;
    }
}

void debug_dr7_changed(Cpu *c)
{
    bool any = false;
    for (int k = 0; k < 4; k++) {
        unsigned rw = (c->dr[7] >> (16 + 4 * k)) & 3;
        if (((c->dr[7] >> (2 * k)) & 3) && (rw == 1 || rw == 3))
            any = true;
    }
    c->data_bp = any;
    tlb_flush(c);
}

void mem_wr_slow(Cpu *c, int seg, uint32_t off, unsigned n, uint64_t v)
{
    const SegCache *s = &c->seg[seg];
    if (off < s->wlo || (uint64_t)off + n - 1 > s->whi)
        seg_fault(c, seg);
    align_check(c, s->base + off, n);
    if (c->data_bp)
        debug_check_data(c, s->base + off, n, true);
    lin_wr(c, s->base + off, n, v, c->cpl == 3);
}

/* ---- decoded-code tracking ---- */
bool code_page_tracked(Cpu *c, uint32_t ppage)
{
    return ppage < c->tracked_pages && c->code_chunks[ppage] != 0;
}

static unsigned block_hash(uint32_t phys)
{
    return (phys ^ (phys >> BLOCK_HASH_BITS) ^ (phys >> 7)) & ((1u << BLOCK_HASH_BITS) - 1);
}

static void hash_unlink(Cpu *c, Block *b)
{
    Block **pp = &c->hash[block_hash(b->phys)];
    while (*pp && *pp != b)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = b->hnext;
}

static uint64_t chunk_mask(uint32_t first, uint32_t last) /* page offsets */
{
    unsigned lo = first >> 6, hi = last >> 6;
    return (hi == 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

/* Drops the blocks of page pp whose bytes overlap [first, last] (page
 * offsets), so data written next to code does not discard the code. */
static void code_invalidate_in_page(Cpu *c, uint32_t pp, uint32_t first, uint32_t last)
{
    Block **link = &c->page_blocks[pp];
    uint64_t chunks = 0;
    bool dropped = false;
    while (*link) {
        Block *b = *link;
        uint32_t bfirst = b->phys & 0xFFF, blast = bfirst + b->bytes - 1;
        if (bfirst <= last && first <= blast) {
            hash_unlink(c, b);
            *link = b->pnext;
            dropped = true;
            continue;
        }
        chunks |= chunk_mask(bfirst, blast > 0xFFF ? 0xFFF : blast);
        link = &b->pnext;
    }
    c->code_chunks[pp] = chunks;
    if (dropped) {
        c->stats.invalidated++;
        c->chain_gen++;
        c->brk = 1; /* the running block may be one of them */
    }
}

void code_invalidate_range(Cpu *c, uint64_t paddr, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t end = paddr + len - 1;
    for (uint64_t pp = paddr >> 12; pp <= end >> 12 && pp < c->tracked_pages; pp++) {
        uint64_t chunks = c->code_chunks[pp];
        if (!chunks)
            continue;
        uint32_t first = pp << 12 > paddr ? 0 : (uint32_t)(paddr & 0xFFF);
        uint32_t last = ((pp << 12) | 0xFFF) < end ? 0xFFF : (uint32_t)(end & 0xFFF);
        if (chunks & chunk_mask(first, last))
            code_invalidate_in_page(c, (uint32_t)pp, first, last);
    }
}

void code_mark(Cpu *c, uint32_t phys, unsigned len)
{
    uint32_t pp = phys >> 12;
    if (pp >= c->tracked_pages || len == 0)
        return;
    unsigned lo = (phys & 0xFFF) >> 6, hi = ((phys & 0xFFF) + len - 1) >> 6;
    if (hi > 63)
        hi = 63;
    uint64_t mask = (hi == 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
    if (c->code_chunks[pp] == 0)
        tlb_drop_writes_to(c, pp);
    c->code_chunks[pp] |= mask;
}

void code_flush_all(Cpu *c)
{
    c->stats.flushes++;
    memset(c->hash, 0, sizeof c->hash);
    if (c->tracked_pages) {
        memset(c->page_blocks, 0, c->tracked_pages * sizeof *c->page_blocks);
        memset(c->code_chunks, 0, c->tracked_pages * sizeof *c->code_chunks);
    }
    c->arena_used = 0;
    c->chain_gen++;
    c->prev_block = NULL;
    c->brk = 1;
}

/* Finds a cached block. */
Block *code_lookup(Cpu *c, uint32_t phys, uint32_t eip, bool code32);
Block *code_lookup(Cpu *c, uint32_t phys, uint32_t eip, bool code32)
{
    for (Block *b = c->hash[block_hash(phys)]; b; b = b->hnext)
        if (b->phys == phys && b->eip == eip && b->code32 == code32)
            return b;
    return NULL;
}

/* Registers a freshly built block. */
void code_insert(Cpu *c, Block *b);
void code_insert(Cpu *c, Block *b)
{
    unsigned h = block_hash(b->phys);
    b->hnext = c->hash[h];
    c->hash[h] = b;
    uint32_t pp = b->phys >> 12;
    if (pp < c->tracked_pages) {
        b->pnext = c->page_blocks[pp];
        c->page_blocks[pp] = b;
        code_mark(c, b->phys, b->bytes);
    } else {
        b->pnext = NULL;
    }
}
