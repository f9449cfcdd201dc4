/*
 * chipset/pci_internal.h -- private to the PCI host files (pci.c, piix.c,
 * acpi_pm.c): the PciBus and PciDevice structures and the few hooks the
 * chipset functions need beyond the public PCI API of chipset.h.
 */
#ifndef VSX_CHIPSET_PCI_INTERNAL_H
#define VSX_CHIPSET_PCI_INTERNAL_H

#include "chipset/devices.h"

#define PCI_DEVFNS 256
#define PCI_BARS 6
#define PCI_LOG_MAX 16

/* Standard type-0 header offsets (PCI Local Bus Specification 2.1, §6.1). */
enum {
    PCI_VENDOR_ID = 0x00,
    PCI_DEVICE_ID = 0x02,
    PCI_COMMAND = 0x04,
    PCI_STATUS = 0x06,
    PCI_REVISION = 0x08,
    PCI_PROG_IF = 0x09,
    PCI_SUBCLASS = 0x0A,
    PCI_CLASS = 0x0B,
    PCI_CACHE_LINE = 0x0C,
    PCI_LATENCY = 0x0D,
    PCI_HEADER_TYPE = 0x0E,
    PCI_BAR0 = 0x10,
    PCI_SUBSYS_VENDOR = 0x2C,
    PCI_SUBSYS_ID = 0x2E,
    PCI_ROM_BAR = 0x30,
    PCI_INT_LINE = 0x3C,
    PCI_INT_PIN = 0x3D,
};

enum {
    PCI_CMD_IO = 1u << 0,
    PCI_CMD_MEM = 1u << 1,
    PCI_CMD_MASTER = 1u << 2,
    PCI_CMD_INTX_DISABLE = 1u << 10,
    PCI_STATUS_INTX = 1u << 3,
    PCI_ROM_ENABLE = 1u << 0,
};

typedef struct I440fx I440fx;
typedef struct Piix3 Piix3;
typedef struct AcpiPm AcpiPm;

struct PciDevice {
    PciBus *pci;
    int devfn;
    PciDeviceInfo info;
    const PciConfigOps *ops;
    void *dev;
    uint8_t cfg[256];
    uint8_t wmask[256]; /* bits a config write may change */
    uint8_t w1c[256];   /* bits a config write of 1 clears (status) */
    PciBar bar[PCI_BARS];
    uint32_t bar_mapped[PCI_BARS]; /* where each BAR is mapped now, 0 = not */
    uint32_t bar_map_len[PCI_BARS]; /* bytes/ports put on the bus (<= decode size) */
    uint8_t *rom;                  /* expansion ROM image, padded to rom_size */
    uint32_t rom_size;
    uint32_t rom_mapped;
    int irq_level; /* INTx# as the device drives it */
};

struct PciBus {
    Bus *bus;
    Clock *clk;
    IrqLine pic_irq[16];
    uint32_t confadd;        /* CONFADD at 0xCF8 */
    PciDevice *slot[PCI_DEVFNS];
    PciDevice *list[PCI_DEVFNS]; /* in the order they were added */
    int ndev;
    uint16_t irq_driven;     /* ISA IRQ lines we hold high */
    int sci_level;
    int logged; /* pci_log messages so far */
    I440fx *host;
    Piix3 *isa;
    AcpiPm *pm;
};

/* pci.c */
void pci_set_wmask(PciDevice *d, uint8_t offset, unsigned width, uint32_t mask);
uint32_t pci_cfg_get(const PciDevice *d, uint8_t offset, unsigned width);
void pci_cfg_put(PciDevice *d, uint8_t offset, unsigned width, uint32_t value);
void pci_update_irqs(PciBus *pci);
void pci_set_sci(PciBus *pci, int level);
void pci_log(PciBus *pci, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* piix.c: i440FX host bridge 00:00.0 and PIIX3 ISA bridge 00:01.0. */
I440fx *i440fx_create(PciBus *pci);
void i440fx_reset(I440fx *h);
void i440fx_apply(I440fx *h); /* re-applies PAM after load */
void i440fx_save(I440fx *h, StateStream *s);
int i440fx_load(I440fx *h, StateStream *s);
Piix3 *piix3_create(PciBus *pci);
void piix3_reset(Piix3 *p);
/* PIRQA-D routing: the ISA IRQ (3-15) or -1 when disabled/reserved. */
int piix3_pirq_irq(const Piix3 *p, int pirq);

/* acpi_pm.c: PIIX4-compatible power management function 00:01.3. */
AcpiPm *acpi_pm_create(PciBus *pci, Bus *bus, Clock *clk);
void acpi_pm_reset(AcpiPm *pm);
void acpi_pm_save(AcpiPm *pm, StateStream *s);
int acpi_pm_load(AcpiPm *pm, StateStream *s);
void acpi_pm_destroy(AcpiPm *pm);
uint32_t acpi_pm_timer(AcpiPm *pm); /* for tests: the 24-bit PM timer now */

#endif
