/*
 * chipset/devices.h -- private to chipset/: how board.c creates and wires each
 * device of the i440FX/PIIX3 PC.  One section per chip; each chip's struct is
 * opaque and lives in its own .c file.  Every device exports a DeviceClass
 * (reset/save/load/destroy) that board.c registers.
 *
 * Wiring rule: a device receives its ports, IRQ lines, clock and backing store
 * as arguments and never looks anything up.
 */
#ifndef VSX_CHIPSET_DEVICES_H
#define VSX_CHIPSET_DEVICES_H

#include "chipset.h"

struct BlockDev;

/* ---- 8259A pair (pic.c): master 0x20-0x21, slave 0xA0-0xA1, ELCR 0x4D0-0x4D1.
 * Inputs are IRQ 0-15 (level semantics at the API; the PIC detects edges
 * unless the ELCR marks the line level-triggered).  Output: bus_set_intr();
 * the CPU acknowledges through bus_intr_ack() -> pic_intr_ack(). */
typedef struct Pic Pic;
Pic *pic_create(Bus *bus);
void pic_set_irq(void *pic, int irq, int level); /* IrqLine-compatible */
int pic_intr_ack(void *pic);                     /* BusIntrAck-compatible */
extern const DeviceClass pic_device_class;

/* ---- 8254 PIT (pit.c): 0x40-0x43; channel 0 -> irq0; channel 2 gate and
 * output on port 0x61 (with the refresh toggle and speaker bits), which the
 * PIT maps too. */
typedef struct Pit Pit;
Pit *pit_create(Bus *bus, Clock *clk, IrqLine irq0);
int pit_output(Pit *pit, int channel); /* for tests */
extern const DeviceClass pit_device_class;

/* ---- MC146818 RTC + CMOS (rtc.c): 0x70-0x71 (NMI mask in bit 7 of 0x70).
 * start_time: seconds since the Unix epoch at power-on (host time, or a fixed
 * epoch in deterministic mode).  nvram_path: persisted NVRAM or NULL. */
typedef struct Rtc Rtc;
Rtc *rtc_create(Bus *bus, Clock *clk, IrqLine irq8, int64_t start_time, const char *nvram_path,
                VsxError *err);
void rtc_cmos_set(Rtc *rtc, int index, uint8_t value); /* board fills memory/equipment bytes */
uint8_t rtc_cmos_get(Rtc *rtc, int index);
extern const DeviceClass rtc_device_class;

/* ---- 16550A UART (uart.c) at base (0x3F8, 0x2F8, 0x3E8, 0x2E8).
 * out: bytes the guest transmits (NULL: discarded); input is fed with
 * uart_receive (stdin back end). */
typedef struct Uart Uart;
Uart *uart_create(Bus *bus, Clock *clk, uint16_t base, IrqLine irq, FILE *out);
void uart_receive(Uart *uart, const uint8_t *data, size_t len); /* host -> guest */
extern const DeviceClass uart_device_class;

/* ---- 8042 keyboard controller + PS/2 keyboard and mouse (kbc.c):
 * 0x60, 0x64; irq1 (keyboard), irq12 (mouse); A20 via the output port
 * (bus_set_a20) and the reset pulse (bus_request BUS_REQ_RESET). */
typedef struct Kbc Kbc;
Kbc *kbc_create(Bus *bus, Clock *clk, IrqLine irq1, IrqLine irq12);
/* keycode: PS/2 set-1 make code; extended keys 0xE0xx; KBC_KEY_PAUSE for Pause.
 * The controller converts to set 2/3 and applies translation as the guest set it. */
#define KBC_KEY_PAUSE 0xE11D
void kbc_key_event(Kbc *kbc, int keycode, bool down);
void kbc_mouse_event(Kbc *kbc, int dx, int dy, int dz, unsigned buttons); /* bit0 L, 1 R, 2 M */
bool kbc_keyboard_idle(Kbc *kbc); /* output buffer empty: the next key can be fed */
extern const DeviceClass kbc_device_class;

/* ---- 8237 DMA pair (dma.c): 0x00-0x0F, 0xC0-0xDF, page registers 0x80-0x8F
 * (the board maps 0x80 itself for POST codes; dma.c maps 0x81-0x8F). */
typedef struct IsaDma IsaDma;
/* Called while the channel's DREQ is high and it is unmasked: the device moves
 * data with isa_dma_read/write_memory starting at `pos` of a transfer of
 * `size` bytes and returns the new position. */
typedef int (*IsaDmaHandler)(void *dev, int channel, int pos, int size);
IsaDma *isa_dma_create(Bus *bus);
void isa_dma_register(IsaDma *dma, int channel, IsaDmaHandler fn, void *dev);
void isa_dma_request(IsaDma *dma, int channel, bool dreq);
int isa_dma_read_memory(IsaDma *dma, int channel, void *buf, int pos, int len);
int isa_dma_write_memory(IsaDma *dma, int channel, const void *buf, int pos, int len);
/* Runs pending transfers (the board calls this after each CPU slice and
 * devices may call it after raising DREQ). */
void isa_dma_run(IsaDma *dma);
extern const DeviceClass isa_dma_device_class;

/* ---- System control ports (sysctl.c): port 0x92 (fast A20, fast reset),
 * 0xCF9 reset control, 0x80 POST code (to post_log if non-NULL), debug console
 * 0xE9 and 0x402 (to debugcon), exit port 0xF4 (a write of v ends vsx with
 * status (v << 1) | 1, as QEMU's isa-debug-exit). */
typedef struct SysCtl SysCtl;
SysCtl *sysctl_create(Bus *bus, FILE *debugcon, FILE *post_log);
extern const DeviceClass sysctl_device_class;

/* ---- PCI host: configuration mechanism #1 (0xCF8/0xCFC), i440FX host bridge
 * 00:00.0 (PAM, SMRAM), PIIX3 ISA bridge 00:01.0 (PIRQ routing to PIC IRQs),
 * PIIX4-style ACPI PM 00:01.3 (PM timer, SCI, soft-off -> BUS_REQ_POWEROFF).
 * pic_irq: the 16 ISA IRQ inputs, used for PCI INTx routing and the SCI. */
PciBus *pci_create(Bus *bus, Clock *clk, const IrqLine pic_irq[16]);
extern const DeviceClass pci_device_class;

/* ---- fw_cfg (fwcfg.c): selector 0x510, data 0x511, DMA 0x514. */
typedef struct FwCfg FwCfg;
FwCfg *fwcfg_create(Bus *bus);
/* Adds a file (copied) visible through the file directory (key 0x19). */
int fwcfg_add_file(FwCfg *fw, const char *name, const void *data, size_t len);
/* Sets a fixed-key item (copied), e.g. FW_CFG_RAM_SIZE = 0x03. */
void fwcfg_set(FwCfg *fw, uint16_t key, const void *data, size_t len);
extern const DeviceClass fwcfg_device_class;

/* ---- IDE: PIIX3 IDE function 00:01.1 (legacy ports 0x1F0/0x3F6 irq14 and
 * 0x170/0x376 irq15, bus-master DMA in BAR4).  drives[channel*2+unit] may be
 * NULL; cdrom[i] marks ATAPI CD-ROM drives. */
typedef struct Ide Ide;
Ide *ide_create(Bus *bus, PciBus *pci, Clock *clk, IrqLine irq14, IrqLine irq15,
                struct BlockDev *drives[4], const bool cdrom[4]);
extern const DeviceClass ide_device_class;

/* ---- Floppy: 82077AA at 0x3F0-0x3F5, 0x3F7; irq6, DMA channel 2. */
typedef struct Fdc Fdc;
Fdc *fdc_create(Bus *bus, Clock *clk, IrqLine irq6, IsaDma *dma, struct BlockDev *drives[2]);
extern const DeviceClass fdc_device_class;
/* CMOS register 0x10 drive type (1 360K, 2 1.2M, 3 720K, 4 1.44M, 5 2.88M) for an image. */
int fdc_drive_type(const struct BlockDev *bd);

/* ---- Local APIC and I/O APIC (apic.c).  The local APIC sits at 0xFEE00000
 * between the PIC (its LINT0, virtual-wire ExtINT at reset) and the CPU, and
 * owns IA32_APIC_BASE; the I/O APIC at 0xFEC00000 has 24 pins (board wiring:
 * ISA IRQ 0 on pin 2, other ISA IRQs on their own number). */
typedef struct Lapic Lapic;
typedef struct IoApic IoApic;
Lapic *lapic_create(Bus *bus, Clock *clk, Pic *pic);
int lapic_intr_ack(void *lapic); /* BusIntrAck-compatible */
extern const DeviceClass lapic_device_class;
IoApic *ioapic_create(Bus *bus, Lapic *lapic);
void ioapic_set_irq(void *ioapic, int pin, int level); /* IrqLine-compatible */
extern const DeviceClass ioapic_device_class;

/* Reads a whole host file (firmware, kernels) of 1 byte to `max` bytes into
 * a malloc'ed buffer.  0, or -1 with "PATH: what" in err (board.c). */
int chipset_read_file(const char *path, uint8_t **data, size_t *size, size_t max, VsxError *err);

/* ---- Direct kernel boot (kernel.c): recognises a Linux bzImage or a
 * Multiboot v1 kernel and lays it out in fw_cfg items for roms/vsxboot.asm.
 * initrd may be "" (none). */
int kernel_setup(FwCfg *fw, const char *kernel, const char *initrd, const char *cmdline,
                 uint64_t ram_below_4g, VsxError *err);

#endif
