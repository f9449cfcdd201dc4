/*
 * chipset/piix.c -- the two chipset functions firmware finds first on PCI
 * bus 0:
 *
 *   00:00.0  82441FX PMC (i440FX host bridge), 8086:1237 rev 02
 *            PAM0-PAM6 (0x59-0x5F) steer reads and writes of 0xC0000-0xFFFFF
 *            between shadow RAM and the ROM side (82441FX datasheet §3.2.18);
 *            SMRAM (0x72) with its open/close/lock rules (§3.2.26).
 *   00:01.0  82371SB PIIX3 PCI-to-ISA bridge, 8086:7000, multi-function
 *            PIRQRC[A:D] (0x60-0x63) route PCI INTx# to ISA IRQs (82371SB
 *            datasheet §2.2.10); the other ISA-bridge registers SeaBIOS and
 *            operating systems touch are plain storage with datasheet resets.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/pci_internal.h"

#define PAM0 0x59
#define PAM_LAST 0x5F
#define PAM_RE 0x1 /* read enable: reads from DRAM */
#define PAM_WE 0x2 /* write enable: writes to DRAM */
#define SMRAM 0x72
#define SMRAM_C_BASE_SEG 0x02 /* bits 2:0 hard-wired to 010: A0000-BFFFF */
#define SMRAM_G_SMRAME 0x08
#define SMRAM_D_LCK 0x10
#define SMRAM_D_CLS 0x20
#define SMRAM_D_OPEN 0x40
#define PIRQRC 0x60
#define PIRQ_DISABLE 0x80

struct I440fx {
    PciBus *pci;
    PciDevice *d;
};

struct Piix3 {
    PciBus *pci;
    PciDevice *d;
};

/* ---------------------------------------------------------------- PAM */

/* One attribute nibble of a PAM register and the range it governs. */
typedef struct PamField {
    uint8_t reg, shift;
    uint32_t base, len;
} PamField;

/* 82441FX §3.2.18: PAM0[7:4] is the 64 KiB BIOS area F0000-FFFFF (PAM0[3:0]
 * reserved); PAM1-PAM6 each hold two 16 KiB segments, low nibble first. */
static const PamField pam_fields[] = {
    {0x59, 4, 0xF0000, 0x10000},
    {0x5A, 0, 0xC0000, 0x4000}, {0x5A, 4, 0xC4000, 0x4000},
    {0x5B, 0, 0xC8000, 0x4000}, {0x5B, 4, 0xCC000, 0x4000},
    {0x5C, 0, 0xD0000, 0x4000}, {0x5C, 4, 0xD4000, 0x4000},
    {0x5D, 0, 0xD8000, 0x4000}, {0x5D, 4, 0xDC000, 0x4000},
    {0x5E, 0, 0xE0000, 0x4000}, {0x5E, 4, 0xE4000, 0x4000},
    {0x5F, 0, 0xE8000, 0x4000}, {0x5F, 4, 0xEC000, 0x4000},
};

void i440fx_apply(I440fx *h)
{
    for (size_t i = 0; i < sizeof pam_fields / sizeof pam_fields[0]; i++) {
        const PamField *f = &pam_fields[i];
        uint8_t attr = (uint8_t)(h->d->cfg[f->reg] >> f->shift);
        bus_set_shadow(h->pci->bus, f->base, f->len, attr & PAM_RE, attr & PAM_WE);
    }
}

/* ---------------------------------------------------------------- SMRAM */

/* 82441FX §3.2.26: once D_LCK is set, D_OPEN reads 0 and D_LCK, D_OPEN and
 * G_SMRAME are read-only until a power-on reset; D_CLS stays writable. */
static uint8_t smram_next(uint8_t old, uint8_t written)
{
    uint8_t v;
    if (old & SMRAM_D_LCK)
        v = (uint8_t)((old & (SMRAM_D_LCK | SMRAM_G_SMRAME)) | (written & SMRAM_D_CLS));
    else
        v = written & (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME);
    if (v & SMRAM_D_LCK)
        v &= (uint8_t)~SMRAM_D_OPEN;
    return v | SMRAM_C_BASE_SEG;
}

/* ------------------------------------------------------- host bridge ops */

static void i440fx_config_write(void *dev, uint8_t offset, uint32_t value, unsigned width)
{
    I440fx *h = dev;
    if (offset <= SMRAM && offset + width > SMRAM) {
        uint8_t written = (uint8_t)(value >> (8 * (SMRAM - offset)));
        /* The stored byte is not writable through the mask; compute it. */
        h->d->cfg[SMRAM] = smram_next(h->d->cfg[SMRAM], written);
    }
    if (offset <= PAM_LAST && offset + width > PAM0)
        i440fx_apply(h);
}

static const PciConfigOps i440fx_ops = {.write = i440fx_config_write};

static const PciDeviceInfo i440fx_info = {
    .vendor_id = 0x8086, .device_id = 0x1237, .revision = 0x02,
    .class_code = 0x06, .subclass = 0x00, .prog_if = 0x00, .header_type = 0x00,
    .name = "i440FX",
};

I440fx *i440fx_create(PciBus *pci)
{
    I440fx *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->pci = pci;
    h->d = pci_add_device(pci, 0x00, &i440fx_info, &i440fx_ops, h);
    if (!h->d) {
        free(h);
        return NULL;
    }
    h->d->wmask[PAM0] = 0x70; /* PAM0[3:0] reserved */
    for (int r = PAM0 + 1; r <= PAM_LAST; r++)
        h->d->wmask[r] = 0x77; /* RE, WE, CE per nibble; bits 3 and 7 reserved */
    h->d->wmask[SMRAM] = 0;
    i440fx_reset(h);
    return h;
}

/* Datasheet reset values: PCICMD 0006h, PCISTS 0280h, PAMs 00h (every
 * segment reads and writes the ROM side / PCI), SMRAM 02h. */
void i440fx_reset(I440fx *h)
{
    uint8_t *c = h->d->cfg;
    pci_cfg_put(h->d, PCI_COMMAND, 2, 0x0006);
    pci_cfg_put(h->d, PCI_STATUS, 2, 0x0280);
    memset(c + 0x40, 0, 256 - 0x40);
    c[0x50] = 0x00; /* PMCCFG */
    c[0x57] = 0x01; /* DRAMC */
    c[0x58] = 0x10; /* DRAMT */
    for (int r = 0x60; r <= 0x67; r++)
        c[r] = 0x01; /* DRB: row boundaries in 8 MiB units (reset value) */
    c[SMRAM] = SMRAM_C_BASE_SEG;
    i440fx_apply(h);
}

void i440fx_save(I440fx *h, StateStream *s)
{
    (void)h, (void)s; /* everything is in the configuration bytes pci.c saves */
}

int i440fx_load(I440fx *h, StateStream *s)
{
    (void)h, (void)s;
    return 0;
}

/* ------------------------------------------------------------- PIIX3 ISA */

int piix3_pirq_irq(const Piix3 *p, int pirq)
{
    if (!p || pirq < 0 || pirq > 3)
        return -1;
    uint8_t v = p->d->cfg[PIRQRC + pirq];
    int irq = v & 0x0F;
    /* IRQ 0-2, 8 and 13 are reserved routing values (82371SB §2.2.10). */
    static const uint16_t routable = 0xDEF8; /* 3-7, 9-12, 14, 15 */
    if ((v & PIRQ_DISABLE) || !(routable & (1u << irq)))
        return -1;
    return irq;
}

static void piix3_config_write(void *dev, uint8_t offset, uint32_t value, unsigned width)
{
    (void)value;
    Piix3 *p = dev;
    if (offset <= PIRQRC + 3 && offset + width > PIRQRC)
        pci_update_irqs(p->pci);
}

static const PciConfigOps piix3_ops = {.write = piix3_config_write};

static const PciDeviceInfo piix3_info = {
    .vendor_id = 0x8086, .device_id = 0x7000, .revision = 0x00,
    .class_code = 0x06, .subclass = 0x01, .prog_if = 0x00, .header_type = 0x80,
    .name = "PIIX3",
};

Piix3 *piix3_create(PciBus *pci)
{
    Piix3 *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->pci = pci;
    p->d = pci_add_device(pci, 0x08, &piix3_info, &piix3_ops, p);
    if (!p->d) {
        free(p);
        return NULL;
    }
    for (int r = PIRQRC; r < PIRQRC + 4; r++)
        p->d->wmask[r] = 0x8F; /* bits 6:4 reserved */
    piix3_reset(p);
    return p;
}

/* 82371SB §2.2 reset values for the registers firmware reads back. */
void piix3_reset(Piix3 *p)
{
    uint8_t *c = p->d->cfg;
    pci_cfg_put(p->d, PCI_COMMAND, 2, 0x0007);
    pci_cfg_put(p->d, PCI_STATUS, 2, 0x0200);
    memset(c + 0x40, 0, 256 - 0x40);
    c[0x4C] = 0x4D; /* IORT */
    c[0x4E] = 0x03; /* XBCS: RTC, keyboard controller decode */
    for (int r = PIRQRC; r < PIRQRC + 4; r++)
        c[r] = PIRQ_DISABLE;
    c[0x69] = 0x02; /* TOM */
    c[0x70] = 0x80; /* MBIRQ0 */
    c[0x76] = 0x0C; /* MBDMA0 */
    c[0x77] = 0x0C; /* MBDMA1 */
    c[0x78] = 0x02; /* PCSC */
    c[0xA0] = 0x08; /* SMICNTL */
    c[0xA8] = 0x0F; /* FTMR */
    pci_update_irqs(p->pci);
}
