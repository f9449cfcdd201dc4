/*
 * chipset/acpi_pm.c -- the PIIX4 (82371AB) power-management function at
 * 00:01.3, 8086:7113 rev 03, as SeaBIOS and ACPI operating systems expect it
 * on an i440FX board:
 *
 *   config 0x40 PMBA (I/O base, 64 ports, bit 0 hard-wired 1), 0x80 PMREGMISC
 *   bit 0 PMIOSE (enable); 0x90 SMBBA (16 ports) with 0xD2 SMBHSTCFG bit 0;
 *   0x58 DEVACTB (bit 25 APMC_EN already set: we have no SMM, and SeaBIOS
 *   skips its SMM set-up when it sees the bit, as it does on QEMU with SMM off).
 *
 *   PM I/O (82371AB datasheet §7.2): PM1a_STS/EN (0x00/0x02), PM1a_CNT (0x04:
 *   SCI_EN, SLP_TYP, SLP_EN), PM_TMR (0x08, 24 bits at 3.579545 MHz), GPE0
 *   STS/EN (0x0C/0x0E) and plain storage for the rest of the block.
 *   The GPE0 block also appears at 0xAFE0, where the FADT SeaBIOS builds for
 *   this board points (QEMU's placement).  APM control/status (0xB2/0xB3):
 *   0xF1/0xF0 written to 0xB2 set/clear SCI_EN, the FADT's ACPI_ENABLE and
 *   ACPI_DISABLE values, doing what the SMI handler would.
 *   The SCI is IRQ 9, level-triggered.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/pci_internal.h"

#define PMBA 0x40
#define DEVACTB 0x58
#define PMREGMISC 0x80
#define SMBBA 0x90
#define SMBHSTCFG 0xD2
#define PM_IO_LEN 64
#define SMB_IO_LEN 16
#define GPE0_FIXED_PORT 0xAFE0
#define APM_PORT 0xB2

#define PM1_TMR_STS 0x0001
#define PM1_WAK_STS 0x8000
#define PM1_EVENTS 0x0521 /* TMR, GBL, PWRBTN, RTC: status/enable pairs */
#define PM1_CNT_SCI_EN 0x0001
#define PM1_CNT_STORED 0x1C03 /* SCI_EN, BM_RLD, SLP_TYP; GBL_RLS, SLP_EN write-only */
#define PM1_CNT_SLP_EN 0x2000
#define APM_ACPI_ENABLE 0xF1
#define APM_ACPI_DISABLE 0xF0
#define SMB_STS_DEV_ERR 0x04
#define SMB_CNT_START 0x40

#define PM_TIMER_HZ 3579545u
#define PM_TIMER_TOGGLE (1u << 23) /* TMR_STS: bit 23 of the counter changed */

typedef struct PmRegs {
    uint16_t sts, en, cnt, gpe_sts, gpe_en;
    uint8_t apmc, apms;
    uint8_t misc[PM_IO_LEN]; /* 0x10-0x3F: plain storage */
    uint8_t smb[SMB_IO_LEN];
} PmRegs;

struct AcpiPm {
    PciBus *pci;
    PciDevice *d;
    Bus *bus;
    Clock *clk;
    Timer *timer;
    uint16_t pm_mapped, smb_mapped; /* current I/O bases, 0 = unmapped */
    bool fixed_gpe, fixed_apm;
    PmRegs r;
};

/* ---------------------------------------------------------- the PM timer */

static uint64_t pm_ticks(uint64_t ns)
{
    return (uint64_t)((unsigned __int128)ns * PM_TIMER_HZ / 1000000000u);
}

uint32_t acpi_pm_timer(AcpiPm *pm)
{
    return (uint32_t)(pm_ticks(clock_now(pm->clk)) & 0xFFFFFF);
}

static void pm_update_sci(AcpiPm *pm)
{
    bool pending = (pm->r.sts & pm->r.en & PM1_EVENTS) || (pm->r.gpe_sts & pm->r.gpe_en);
    pci_set_sci(pm->pci, (pm->r.cnt & PM1_CNT_SCI_EN) && pending);
}

/* Arms the timer for the next change of counter bit 23 after `now`. */
static void pm_timer_arm(AcpiPm *pm, uint64_t now)
{
    uint64_t next_tick = (pm_ticks(now) | (PM_TIMER_TOGGLE - 1)) + 1;
    unsigned __int128 ns = ((unsigned __int128)next_tick * 1000000000u + PM_TIMER_HZ - 1) / PM_TIMER_HZ;
    timer_arm(pm->timer, (uint64_t)ns);
}

static void pm_timer_fire(void *opaque, uint64_t now)
{
    AcpiPm *pm = opaque;
    pm->r.sts |= PM1_TMR_STS;
    pm_update_sci(pm);
    pm_timer_arm(pm, now);
}

/* ------------------------------------------------------------ sleep */

/* Which SLP_TYP values turn the machine off.  0 is soft-off on the PIIX4
 * and in the DSDT SeaBIOS and QEMU supply (\_S5 = 0); 2 is their \_S4,
 * which after the OS saved its image means power off as well (as QEMU does);
 * 5 is what some tables use for S5 on other chipsets.  The other states
 * (S1, S3) wake at once: there is nothing to suspend to. */
static const uint8_t slp_typ_is_off[8] = {[0] = 1, [2] = 1, [5] = 1};

static void pm_sleep(AcpiPm *pm, unsigned slp_typ)
{
    if (slp_typ_is_off[slp_typ & 7]) {
        bus_request(pm->bus, BUS_REQ_POWEROFF, 0);
        return;
    }
    pm->r.sts |= PM1_WAK_STS;
}

/* ------------------------------------------------------------ PM I/O */

static uint8_t le_byte(uint32_t v, unsigned i) { return (uint8_t)(v >> (8 * i)); }

static uint8_t pm_read_byte(AcpiPm *pm, unsigned off, uint32_t tmr)
{
    const PmRegs *r = &pm->r;
    switch (off & ~1u) {
    case 0x00: return le_byte(r->sts, off & 1);
    case 0x02: return le_byte(r->en, off & 1);
    case 0x04: return le_byte(r->cnt, off & 1);
    case 0x08: return le_byte(tmr, off & 1);
    case 0x0A: return le_byte(tmr, (off & 1) + 2);
    case 0x0C: return le_byte(r->gpe_sts, off & 1);
    case 0x0E: return le_byte(r->gpe_en, off & 1);
    default: return off < PM_IO_LEN ? r->misc[off] : 0xFF;
    }
}

static void w1c16(uint16_t *reg, unsigned byte, uint8_t v)
{
    *reg &= (uint16_t)~(v << (8 * byte));
}

static void set16(uint16_t *reg, unsigned byte, uint8_t v, uint16_t mask)
{
    uint16_t shifted = (uint16_t)(v << (8 * byte));
    uint16_t lane = (uint16_t)(0xFF << (8 * byte));
    *reg = (uint16_t)((*reg & ~(lane & mask)) | (shifted & lane & mask));
}

static void pm_write_byte(AcpiPm *pm, unsigned off, uint8_t v)
{
    PmRegs *r = &pm->r;
    switch (off & ~1u) {
    case 0x00: w1c16(&r->sts, off & 1, v); break;
    case 0x02: set16(&r->en, off & 1, v, PM1_EVENTS); break;
    case 0x04:
        set16(&r->cnt, off & 1, v, PM1_CNT_STORED);
        if ((off & 1) && ((v << 8) & PM1_CNT_SLP_EN))
            pm_sleep(pm, (v >> 2) & 7);
        break;
    case 0x08: case 0x0A: break; /* PM_TMR is read-only */
    case 0x0C: w1c16(&r->gpe_sts, off & 1, v); break;
    case 0x0E: set16(&r->gpe_en, off & 1, v, 0xFFFF); break;
    default:
        if (off < PM_IO_LEN)
            r->misc[off] = v;
        break;
    }
}

static uint32_t pm_io_read(void *dev, uint32_t offset, unsigned width)
{
    AcpiPm *pm = dev;
    /* One sample of the clock for the whole access, so a dword read of the
     * timer is coherent. */
    uint32_t tmr = (offset < 0x0C && offset + width > 0x08) ? acpi_pm_timer(pm) : 0;
    uint32_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v |= (uint32_t)pm_read_byte(pm, offset + i, tmr) << (8 * i);
    return v;
}

static void pm_io_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    AcpiPm *pm = dev;
    for (unsigned i = 0; i < width; i++)
        pm_write_byte(pm, offset + i, (uint8_t)(value >> (8 * i)));
    pm_update_sci(pm);
}

static const IoOps pm_io_ops = {pm_io_read, pm_io_write, IO_W8 | IO_W16 | IO_W32, "acpi-pm"};

/* GPE0 at 0xAFE0: status (W1C) then enable, the same registers as PMBA+0x0C. */
static uint32_t gpe_read(void *dev, uint32_t offset, unsigned width)
{
    return pm_io_read(dev, 0x0C + offset, width);
}

static void gpe_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    pm_io_write(dev, 0x0C + offset, value, width);
}

static const IoOps gpe_ops = {gpe_read, gpe_write, IO_W8 | IO_W16 | IO_W32, "acpi-gpe0"};

/* APM control (0xB2) and status (0xB3), PIIX4 §7.1. */
static uint32_t apm_read(void *dev, uint32_t offset, unsigned width)
{
    (void)width;
    AcpiPm *pm = dev;
    return offset ? pm->r.apms : pm->r.apmc;
}

static void apm_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)width;
    AcpiPm *pm = dev;
    if (offset) {
        pm->r.apms = (uint8_t)value;
        return;
    }
    pm->r.apmc = (uint8_t)value;
    if (value == APM_ACPI_ENABLE)
        pm->r.cnt |= PM1_CNT_SCI_EN;
    else if (value == APM_ACPI_DISABLE)
        pm->r.cnt &= (uint16_t)~PM1_CNT_SCI_EN;
    pm_update_sci(pm);
}

static const IoOps apm_ops = {apm_read, apm_write, IO_W8, "apm"};

/* SMBus host stub: an empty bus.  A started transaction ends at once with
 * DEV_ERR (no device acknowledged), so drivers never wait. */
static uint32_t smb_read(void *dev, uint32_t offset, unsigned width)
{
    (void)width;
    return ((AcpiPm *)dev)->r.smb[offset % SMB_IO_LEN];
}

static void smb_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)width;
    AcpiPm *pm = dev;
    offset %= SMB_IO_LEN;
    if (offset == 0) {
        pm->r.smb[0] &= (uint8_t)~value; /* HST_STS: write 1 to clear */
        return;
    }
    pm->r.smb[offset] = (uint8_t)value;
    if (offset == 2 && (value & SMB_CNT_START)) {
        pm->r.smb[2] &= (uint8_t)~SMB_CNT_START;
        pm->r.smb[0] |= SMB_STS_DEV_ERR;
    }
}

static const IoOps smb_ops = {smb_read, smb_write, IO_W8, "smbus"};

/* ------------------------------------------------------- I/O placement */

static void pm_place(AcpiPm *pm, uint16_t *mapped, uint16_t want, uint32_t len, const IoOps *ops)
{
    if (want == *mapped)
        return;
    if (*mapped)
        bus_unmap_io(pm->bus, *mapped, len);
    *mapped = 0;
    if (!want || (uint32_t)want + len > 0x10000)
        return;
    if (bus_map_io(pm->bus, want, len, ops, pm) < 0) {
        pci_log(pm->pci, "%s I/O at 0x%x overlaps another device; left unmapped", ops->name, want);
        return;
    }
    *mapped = want;
}

static void pm_sync(AcpiPm *pm)
{
    uint32_t pmba = pci_cfg_get(pm->d, PMBA, 4) & 0xFFC0;
    uint32_t smbba = pci_cfg_get(pm->d, SMBBA, 4) & 0xFFF0;
    pm_place(pm, &pm->pm_mapped, (pm->d->cfg[PMREGMISC] & 1) ? (uint16_t)pmba : 0, PM_IO_LEN, &pm_io_ops);
    pm_place(pm, &pm->smb_mapped, (pm->d->cfg[SMBHSTCFG] & 1) ? (uint16_t)smbba : 0, SMB_IO_LEN, &smb_ops);
}

static void pm_config_write(void *dev, uint8_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)value, (void)width;
    pm_sync(dev);
}

static const PciConfigOps pm_config_ops = {.write = pm_config_write};

static const PciDeviceInfo pm_info = {
    .vendor_id = 0x8086, .device_id = 0x7113, .revision = 0x03,
    .class_code = 0x06, .subclass = 0x80, .prog_if = 0x00, .header_type = 0x00,
    .interrupt_pin = 1, .name = "PIIX4-PM",
};

AcpiPm *acpi_pm_create(PciBus *pci, Bus *bus, Clock *clk)
{
    AcpiPm *pm = calloc(1, sizeof *pm);
    if (!pm)
        return NULL;
    pm->pci = pci, pm->bus = bus, pm->clk = clk;
    pm->timer = clk ? timer_new(clk, pm_timer_fire, pm, "acpi-pm-timer") : NULL;
    pm->d = pm->timer ? pci_add_device(pci, 0x0B, &pm_info, &pm_config_ops, pm) : NULL;
    if (!pm->d) {
        timer_free(pm->timer);
        free(pm);
        return NULL;
    }
    pci_set_wmask(pm->d, PMBA, 4, 0xFFC0);
    pci_set_wmask(pm->d, SMBBA, 4, 0xFFF0);
    pm->d->wmask[PMREGMISC] = 0x01;
    pm->d->wmask[SMBHSTCFG] = 0x0F;
    pm->fixed_gpe = bus_map_io(bus, GPE0_FIXED_PORT, 4, &gpe_ops, pm) == 0;
    pm->fixed_apm = bus_map_io(bus, APM_PORT, 2, &apm_ops, pm) == 0;
    if (!pm->fixed_gpe || !pm->fixed_apm)
        pci_log(pci, "GPE0 (0xAFE0) or APM (0xB2) ports already taken; left unmapped");
    acpi_pm_reset(pm);
    return pm;
}

void acpi_pm_reset(AcpiPm *pm)
{
    uint8_t *c = pm->d->cfg;
    memset(c + 0x40, 0, 256 - 0x40);
    pci_cfg_put(pm->d, PCI_STATUS, 2, 0x0280);
    pci_cfg_put(pm->d, PMBA, 4, 0x00000001); /* bit 0: I/O space indicator */
    pci_cfg_put(pm->d, SMBBA, 4, 0x00000001);
    pci_cfg_put(pm->d, DEVACTB, 4, 1u << 25); /* APMC_EN: see the file comment */
    memset(&pm->r, 0, sizeof pm->r);
    pm_sync(pm);
    pm_update_sci(pm);
    pm_timer_arm(pm, clock_now(pm->clk));
}

void acpi_pm_save(AcpiPm *pm, StateStream *s)
{
    state_put(s, "acpi_pm.regs", &pm->r, sizeof pm->r);
}

int acpi_pm_load(AcpiPm *pm, StateStream *s)
{
    if (state_get(s, "acpi_pm.regs", &pm->r, sizeof pm->r))
        return -1;
    pm_sync(pm);
    pm_update_sci(pm);
    pm_timer_arm(pm, clock_now(pm->clk));
    return 0;
}

void acpi_pm_destroy(AcpiPm *pm)
{
    if (!pm)
        return;
    if (pm->pm_mapped)
        bus_unmap_io(pm->bus, pm->pm_mapped, PM_IO_LEN);
    if (pm->smb_mapped)
        bus_unmap_io(pm->bus, pm->smb_mapped, SMB_IO_LEN);
    if (pm->fixed_gpe)
        bus_unmap_io(pm->bus, GPE0_FIXED_PORT, 4);
    if (pm->fixed_apm)
        bus_unmap_io(pm->bus, APM_PORT, 2);
    timer_free(pm->timer);
    free(pm);
}
