/*
 * chipset/pic.c -- the cascaded 8259A pair of the PC (master 0x20-0x21, slave
 * 0xA0-0xA1 on the master's IR2) with the PIIX3 ELCR (0x4D0-0x4D1).
 *
 * References: Intel 8259A datasheet (ICW1-4, OCW1-3, priority rotation,
 * poll command, special mask mode, spurious IR7); PIIX3 datasheet 4.1.x
 * (ELCR1/ELCR2: IRQ 0, 1, 2, 8 and 13 are always edge-triggered).
 *
 * Inputs arrive as levels (pic_set_irq); the edge detector lives here.  The
 * output is the INTR pin, driven through bus_set_intr whenever it changes.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

enum { PIC_MASTER = 0, PIC_SLAVE = 1 };

#define PIC_CASCADE_IRQ 2
#define PIC_SPURIOUS_IRQ 7
#define ELCR_MASK_MASTER 0xF8 /* IRQ 0-2 cannot be level-triggered */
#define ELCR_MASK_SLAVE 0xDE  /* IRQ 8 and 13 cannot be level-triggered */

/* ICW1 / OCW bits (8259A datasheet, "Initialization Command Words"). */
#define ICW1_IC4 0x01
#define ICW1_SNGL 0x02
#define ICW1_LTIM 0x08
#define ICW1_INIT 0x10
#define ICW4_AEOI 0x02
#define ICW4_SFNM 0x10
#define OCW3_SELECT 0x08
#define OCW3_RIS 0x01
#define OCW3_RR 0x02
#define OCW3_POLL 0x04
#define OCW3_SMM 0x20
#define OCW3_ESMM 0x40

enum { INIT_DONE = 0, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

typedef struct PicChip {
    uint8_t irr, isr, imr;
    uint8_t lines;         /* current input levels, for edge detection */
    uint8_t elcr;          /* 1 = level-triggered input (PIIX ELCR) */
    uint8_t icw1, icw3, icw4;
    uint8_t vector_base;   /* ICW2 & 0xF8 */
    uint8_t init_step;
    uint8_t read_isr;      /* OCW3 RR/RIS: read ISR instead of IRR */
    uint8_t poll;          /* OCW3 P: next read is a poll */
    uint8_t special_mask;  /* OCW3 SMM */
    uint8_t rotate_aeoi;   /* OCW2 R=1 SL=0 EOI=0 */
    uint8_t lowest;        /* IR with the lowest priority (7 after init) */
} PicChip;

struct Pic {
    Bus *bus;
    PicChip chip[2];
    int intr;
};

static const uint8_t elcr_mask[2] = {ELCR_MASK_MASTER, ELCR_MASK_SLAVE};

/* --------------------------------------------------------------- priority */

/* Level-sensitive inputs: ELCR per line, or ICW1 LTIM for the whole chip. */
static uint8_t level_mask(const PicChip *c, int which)
{
    (void)which;
    return (c->icw1 & ICW1_LTIM) ? 0xFF : c->elcr;
}

/* Priority rank of IR n: 0 highest .. 7 lowest. */
static int prio_rank(const PicChip *c, int n) { return (n - c->lowest - 1) & 7; }

/* The IR with the best rank among `bits`, or -1. */
static int best_irq(const PicChip *c, uint8_t bits)
{
    for (int r = 0; r < 8; r++) {
        int n = (c->lowest + 1 + r) & 7;
        if (bits & (1u << n))
            return n;
    }
    return -1;
}

/* The IR the chip would present on INTR now, or -1: the best unmasked
 * request that outranks everything in service (in special mask mode only
 * unmasked in-service levels block, 8259A "Special Mask Mode"). */
static int chip_pending(const PicChip *c)
{
    int req = best_irq(c, c->irr & ~c->imr);
    if (req < 0)
        return -1;
    uint8_t blocking = c->isr;
    if (c->special_mask)
        blocking &= ~c->imr;
    int svc = best_irq(c, blocking);
    if (svc >= 0 && prio_rank(c, svc) <= prio_rank(c, req))
        return -1;
    return req;
}

static void chip_set_line(PicChip *c, int which, int n, int level);

/* The slave's INT drives the master's IR2 like any input: its rising edge is
 * latched, so a slave request that vanishes before INTA still reaches the
 * master and the slave answers with its spurious IR7 (IRQ 15).  A request
 * the slave keeps presenting (AEOI with more pending) is latched again. */
static void pic_update(Pic *p)
{
    PicChip *m = &p->chip[PIC_MASTER];
    if (!(m->icw1 & ICW1_SNGL)) {
        int slave_int = chip_pending(&p->chip[PIC_SLAVE]) >= 0;
        chip_set_line(m, PIC_MASTER, PIC_CASCADE_IRQ, slave_int);
        if (slave_int)
            m->irr |= 1u << PIC_CASCADE_IRQ;
    }
    int intr = chip_pending(m) >= 0;
    if (intr != p->intr) {
        p->intr = intr;
        bus_set_intr(p->bus, intr);
    }
}

/* ------------------------------------------------------------------ inputs */

static void chip_set_line(PicChip *c, int which, int n, int level)
{
    uint8_t bit = 1u << n;
    if (level_mask(c, which) & bit) {
        c->irr = level ? (c->irr | bit) : (c->irr & ~bit);
    } else if (level && !(c->lines & bit)) {
        c->irr |= bit; /* edge mode latches only a low->high transition */
    }
    c->lines = level ? (c->lines | bit) : (c->lines & ~bit);
}

void pic_set_irq(void *opaque, int irq, int level)
{
    Pic *p = opaque;
    if (irq < 0 || irq > 15)
        return;
    chip_set_line(&p->chip[irq >> 3], irq >> 3, irq & 7, level);
    pic_update(p);
}

/* ----------------------------------------------------------- acknowledge */

/* INTA for IR n: move the request into service (8259A "Interrupt Sequence").
 * A level-triggered request stays in IRR while its line is high. */
static void chip_ack(PicChip *c, int which, int n)
{
    uint8_t bit = 1u << n;
    if (!(level_mask(c, which) & bit))
        c->irr &= ~bit;
    if (c->icw4 & ICW4_AEOI) {
        if (c->rotate_aeoi)
            c->lowest = (uint8_t)n;
    } else {
        c->isr |= bit;
    }
}

int pic_intr_ack(void *opaque)
{
    Pic *p = opaque;
    PicChip *m = &p->chip[PIC_MASTER], *s = &p->chip[PIC_SLAVE];
    int n = chip_pending(m);
    int vector;
    if (n < 0) {
        /* The request went away before INTA: spurious IR7, no ISR bit. */
        vector = m->vector_base | PIC_SPURIOUS_IRQ;
    } else if (n == PIC_CASCADE_IRQ && !(m->icw1 & ICW1_SNGL)) {
        chip_ack(m, PIC_MASTER, n);
        int sn = chip_pending(s);
        if (sn < 0) {
            vector = s->vector_base | PIC_SPURIOUS_IRQ; /* master ISR2 stays set */
        } else {
            chip_ack(s, PIC_SLAVE, sn);
            vector = s->vector_base | sn;
        }
    } else {
        chip_ack(m, PIC_MASTER, n);
        vector = m->vector_base | n;
    }
    pic_update(p);
    return vector;
}

/* Poll command (OCW3 P=1): the read acts as INTA and returns 0x80 | IR, or 0. */
static uint8_t chip_poll(Pic *p, int which)
{
    PicChip *c = &p->chip[which];
    c->poll = 0;
    int n = chip_pending(c);
    if (n < 0)
        return 0;
    chip_ack(c, which, n);
    pic_update(p);
    return (uint8_t)(0x80 | n);
}

/* ------------------------------------------------------------- commands */

static void chip_icw1(PicChip *c, int which, uint8_t v)
{
    uint8_t elcr = c->elcr, lines = c->lines;
    memset(c, 0, sizeof *c);
    c->elcr = elcr;
    c->lines = lines;
    c->icw1 = v;
    c->lowest = 7;
    c->init_step = INIT_ICW2;
    /* The edge sense circuit is reset: an edge input must go low->high again
     * after ICW1, while level inputs still show their line. */
    c->irr = lines & level_mask(c, which);
}

static void chip_init_data(PicChip *c, uint8_t v)
{
    switch (c->init_step) {
    case INIT_ICW2:
        c->vector_base = v & 0xF8;
        c->init_step = !(c->icw1 & ICW1_SNGL) ? INIT_ICW3 : (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
        break;
    case INIT_ICW3:
        c->icw3 = v;
        c->init_step = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
        break;
    default:
        c->icw4 = v;
        c->init_step = INIT_DONE;
        break;
    }
}

/* OCW2: bits 7-5 are R, SL, EOI; bits 2-0 the level for SL=1. */
static void chip_ocw2(PicChip *c, uint8_t v)
{
    int level = v & 7;
    int svc = best_irq(c, c->isr);
    switch (v >> 5) {
    case 1: /* non-specific EOI */
        if (svc >= 0)
            c->isr &= ~(1u << svc);
        break;
    case 3: /* specific EOI */
        c->isr &= ~(1u << level);
        break;
    case 5: /* rotate on non-specific EOI */
        if (svc >= 0) {
            c->isr &= ~(1u << svc);
            c->lowest = (uint8_t)svc;
        }
        break;
    case 7: /* rotate on specific EOI */
        c->isr &= ~(1u << level);
        c->lowest = (uint8_t)level;
        break;
    case 6: /* set priority: `level` becomes the lowest */
        c->lowest = (uint8_t)level;
        break;
    case 4: /* set rotate in automatic EOI mode */
        c->rotate_aeoi = 1;
        break;
    case 0: /* clear rotate in automatic EOI mode */
        c->rotate_aeoi = 0;
        break;
    default: /* 2: no operation */
        break;
    }
}

static void chip_ocw3(PicChip *c, uint8_t v)
{
    if (v & OCW3_POLL)
        c->poll = 1;
    if (v & OCW3_RR)
        c->read_isr = v & OCW3_RIS;
    if (v & OCW3_ESMM)
        c->special_mask = (v & OCW3_SMM) != 0;
}

static void chip_write(Pic *p, int which, uint32_t offset, uint8_t v)
{
    PicChip *c = &p->chip[which];
    if (offset == 0) {
        if (v & ICW1_INIT)
            chip_icw1(c, which, v);
        else if (v & OCW3_SELECT)
            chip_ocw3(c, v);
        else
            chip_ocw2(c, v);
    } else if (c->init_step != INIT_DONE) {
        chip_init_data(c, v);
    } else {
        c->imr = v; /* OCW1 */
    }
    pic_update(p);
}

static uint8_t chip_read(Pic *p, int which, uint32_t offset)
{
    PicChip *c = &p->chip[which];
    if (c->poll)
        return chip_poll(p, which);
    if (offset == 1)
        return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static uint32_t master_read(void *dev, uint32_t off, unsigned w) { (void)w; return chip_read(dev, PIC_MASTER, off); }
static uint32_t slave_read(void *dev, uint32_t off, unsigned w) { (void)w; return chip_read(dev, PIC_SLAVE, off); }
static void master_write(void *dev, uint32_t off, uint32_t v, unsigned w) { (void)w; chip_write(dev, PIC_MASTER, off, (uint8_t)v); }
static void slave_write(void *dev, uint32_t off, uint32_t v, unsigned w) { (void)w; chip_write(dev, PIC_SLAVE, off, (uint8_t)v); }

static const IoOps master_ops = {master_read, master_write, IO_W8, "pic-master"};
static const IoOps slave_ops = {slave_read, slave_write, IO_W8, "pic-slave"};

/* ELCR1/ELCR2 (PIIX3): reserved bits read 0 and ignore writes. */
static uint32_t elcr_read(void *dev, uint32_t off, unsigned w)
{
    (void)w;
    Pic *p = dev;
    return p->chip[off & 1].elcr;
}

static void elcr_write(void *dev, uint32_t off, uint32_t v, unsigned w)
{
    (void)w;
    Pic *p = dev;
    PicChip *c = &p->chip[off & 1];
    c->elcr = (uint8_t)v & elcr_mask[off & 1];
    /* A line switched to level mode shows its current level at once. */
    uint8_t lm = level_mask(c, (int)(off & 1));
    c->irr = (c->irr & ~lm) | (c->lines & lm);
    pic_update(p);
}

static const IoOps elcr_ops = {elcr_read, elcr_write, IO_W8, "elcr"};

/* ------------------------------------------------------------- lifecycle */

static void pic_reset(void *dev)
{
    Pic *p = dev;
    for (int i = 0; i < 2; i++) {
        uint8_t lines = p->chip[i].lines;
        p->chip[i] = (PicChip){.lines = lines, .lowest = 7};
    }
    pic_update(p);
}

static void pic_save(void *dev, StateStream *s)
{
    Pic *p = dev;
    state_put(s, "pic.chips", p->chip, sizeof p->chip);
}

static int pic_load(void *dev, StateStream *s)
{
    Pic *p = dev;
    if (state_get(s, "pic.chips", p->chip, sizeof p->chip) < 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        p->chip[i].lowest &= 7;
        p->chip[i].elcr &= elcr_mask[i];
        if (p->chip[i].init_step > INIT_ICW4)
            p->chip[i].init_step = INIT_DONE;
    }
    p->intr = -1; /* force the INTR line to be driven again */
    pic_update(p);
    return 0;
}

static void pic_destroy(void *dev)
{
    Pic *p = dev;
    if (!p)
        return;
    bus_unmap_io(p->bus, 0x20, 2);
    bus_unmap_io(p->bus, 0xA0, 2);
    bus_unmap_io(p->bus, 0x4D0, 2);
    free(p);
}

Pic *pic_create(Bus *bus)
{
    Pic *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->bus = bus;
    if (bus_map_io(bus, 0x20, 2, &master_ops, p) < 0)
        goto fail;
    if (bus_map_io(bus, 0xA0, 2, &slave_ops, p) < 0)
        goto fail_master;
    if (bus_map_io(bus, 0x4D0, 2, &elcr_ops, p) < 0)
        goto fail_slave;
    bus_set_intr_controller(bus, pic_intr_ack, p);
    pic_reset(p);
    return p;
fail_slave:
    bus_unmap_io(bus, 0xA0, 2);
fail_master:
    bus_unmap_io(bus, 0x20, 2);
fail:
    free(p);
    return NULL;
}

const DeviceClass pic_device_class = {
    .name = "pic",
    .reset = pic_reset,
    .save = pic_save,
    .load = pic_load,
    .destroy = pic_destroy,
};
