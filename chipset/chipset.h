/*
 * chipset/chipset.h -- the public face of the board: the buses every device and
 * CPU backend talk through (port I/O, physical memory, IRQ lines, the virtual
 * clock and its timers, PCI), the device contract (reset/save/load), and the
 * board object that wires a PC together from a validated configuration.
 *
 * Rules (DESIGN.md): devices never call the CPU or the UI; they see only the
 * Bus, their IrqLine(s), the Clock and their block devices.  No global mutable
 * state: everything hangs off Bus/Board so several VMs can live in one process.
 */
#ifndef VSX_CHIPSET_CHIPSET_H
#define VSX_CHIPSET_CHIPSET_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct Bus Bus;
typedef struct Clock Clock;
typedef struct Timer Timer;
typedef struct StateStream StateStream;
typedef struct PciBus PciBus;
typedef struct PciDevice PciDevice;
typedef struct Board Board;
typedef struct VmConfig VmConfig;
typedef struct RunOptions RunOptions;

/* ------------------------------------------------------------------------ */
/* Errors: one helper formats messages into a caller-owned buffer.           */
/* ------------------------------------------------------------------------ */
typedef struct VsxError {
    char msg[8192];
} VsxError;

/* Appends a line (fmt, printf-style) to err->msg if err is non-NULL.  Returns
 * -1 so call sites can `return vsx_errorf(err, ...)`. */
int vsx_errorf(VsxError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------------------ */
/* Port I/O                                                                  */
/* ------------------------------------------------------------------------ */
enum { IO_W8 = 1u << 0, IO_W16 = 1u << 1, IO_W32 = 1u << 2 };

typedef struct IoOps {
    /* offset is relative to the mapped base; width is 1, 2 or 4 and always one
     * of `widths` (the bus splits other widths into little-endian pieces). */
    uint32_t (*read)(void *dev, uint32_t offset, unsigned width);
    void (*write)(void *dev, uint32_t offset, uint32_t value, unsigned width);
    uint8_t widths;   /* IO_W8 | IO_W16 | IO_W32 handled natively */
    const char *name; /* for logs and `vsx check` */
} IoOps;

/* Maps ports [base, base+count).  Returns -EEXIST if any port is taken. */
int bus_map_io(Bus *bus, uint16_t base, uint32_t count, const IoOps *ops, void *dev);
void bus_unmap_io(Bus *bus, uint16_t base, uint32_t count);
/* Claims only accesses of exactly `width` bytes that start at `port`, ahead
 * of whatever owns those ports byte-wise (ops->read/write see offset 0).  The
 * PCI host bridge needs this: a dword at 0xCF8 is CONFADD, while a byte at
 * 0xCF9 is the PIIX3 reset control register (82371SB datasheet, CONFADD and
 * RC).  Returns -EEXIST if the same (port, width) is claimed already.
 * bus_unmap_io over `port` removes the claim too. */
int bus_map_io_wide(Bus *bus, uint16_t port, unsigned width, const IoOps *ops, void *dev);
/* Unclaimed ports read all-ones; writes to them are dropped. */
uint32_t bus_io_read(Bus *bus, uint16_t port, unsigned width);
void bus_io_write(Bus *bus, uint16_t port, uint32_t value, unsigned width);
/* --port-log PORT=FILE: every byte written to PORT is appended to f. */
int bus_add_port_log(Bus *bus, uint16_t port, FILE *f);

/* ------------------------------------------------------------------------ */
/* Physical memory                                                           */
/* ------------------------------------------------------------------------ */
#define BUS_PAGE_SIZE 4096u
#define BUS_PAGE_MASK (~(uint64_t)(BUS_PAGE_SIZE - 1))

typedef struct MmioOps {
    /* width 1, 2 or 4; accesses never cross the region's end. 8-byte
     * accesses arrive as two 4-byte ones (low half first). */
    uint32_t (*read)(void *dev, uint64_t offset, unsigned width);
    void (*write)(void *dev, uint64_t offset, uint32_t value, unsigned width);
    const char *name;
} MmioOps;

/* MMIO regions must be 4 KiB aligned in base and length (the CPU TLB works
 * on 4 KiB pages).  Return -EEXIST on overlap with another MMIO/RAM mapping. */
int bus_map_mmio(Bus *bus, uint64_t base, uint64_t len, const MmioOps *ops, void *dev);
/* Extra host memory mapped as RAM (e.g. a linear framebuffer).  Writes by the
 * CPU go straight to host memory; the owner detects changes itself. */
int bus_map_ram(Bus *bus, uint64_t base, uint64_t len, uint8_t *host, bool readonly);
void bus_unmap(Bus *bus, uint64_t base); /* removes an MMIO or extra-RAM mapping */

/* Guest RAM: one host allocation; below 4 GiB it occupies [0, below_4g) except
 * the legacy hole 0xA0000-0xFFFFF; the rest is mapped at 4 GiB. */
uint8_t *bus_ram(Bus *bus);
uint64_t bus_ram_size(const Bus *bus);
uint64_t bus_ram_below_4g(const Bus *bus);

/* The system BIOS image (size a multiple of 64 KiB, at most 16 MiB): mapped
 * read-only just below 4 GiB; its last 128 KiB (or all of it if smaller) is
 * the ROM side of 0xE0000-0xFFFFF. */
int bus_set_bios(Bus *bus, const uint8_t *image, size_t size);

/* i440FX PAM shadowing of 0xC0000-0xFFFFF in 16 KiB granules (the 0xF0000
 * segment is one 64 KiB granule in hardware; callers pass each piece).
 * read_ram: reads come from shadow RAM, else from the ROM side (BIOS image
 * for 0xE0000+, unassigned -- all-ones -- for 0xC0000-0xDFFFF unless a ROM
 * was placed there with bus_set_isa_rom).  write_ram: writes go to shadow
 * RAM, else they are dropped. */
void bus_set_shadow(Bus *bus, uint32_t base, uint32_t len, bool read_ram, bool write_ram);
/* A20 gate: when off, physical address bit 20 reads as 0 for CPU accesses. */
void bus_set_a20(Bus *bus, bool enabled);
bool bus_a20(const Bus *bus);
uint64_t bus_a20_mask(const Bus *bus);

/* What backs one 4 KiB physical page, for the CPU's TLB.  `read`/`write`
 * point at the host bytes of the page, or are NULL when accesses must go
 * through bus_mem_read/bus_mem_write (MMIO, unassigned, ROM for writes). */
typedef struct BusPage {
    uint8_t *read;
    uint8_t *write;
} BusPage;
void bus_page(Bus *bus, uint64_t page_addr, BusPage *out);

/* Slow path, any physical address (width 1, 2, 4 or 8). Unassigned reads are
 * all-ones; writes to ROM or unassigned space are dropped. */
uint64_t bus_mem_read(Bus *bus, uint64_t paddr, unsigned width);
void bus_mem_write(Bus *bus, uint64_t paddr, uint64_t value, unsigned width);
/* Device (DMA) access to guest-physical memory: byte-exact, any length,
 * tells the CPU which RAM it changed (self-modifying-code tracking). */
void bus_dma_read(Bus *bus, uint64_t paddr, void *buf, size_t len);
void bus_dma_write(Bus *bus, uint64_t paddr, const void *buf, size_t len);

/* ------------------------------------------------------------------------ */
/* The CPU side of the bus                                                   */
/* ------------------------------------------------------------------------ */
typedef struct BusCpuHooks {
    void (*intr)(void *cpu, int level);   /* INTR line from PIC/APIC changed */
    void (*nmi)(void *cpu);               /* NMI edge */
    void (*map_changed)(void *cpu);       /* PAM, BAR, A20, mappings: flush TLB */
    void (*ram_written)(void *cpu, uint64_t paddr, uint64_t len); /* DMA wrote RAM */
    void (*stop)(void *cpu);              /* return from the run loop soon */
} BusCpuHooks;
void bus_set_cpu_hooks(Bus *bus, const BusCpuHooks *hooks, void *cpu);

/* The interrupt controller the CPU acknowledges (PIC, later the local APIC). */
typedef int (*BusIntrAck)(void *ctl); /* returns the vector of the INTA cycle */
void bus_set_intr_controller(Bus *bus, BusIntrAck ack, void *ctl);
void bus_set_intr(Bus *bus, int level); /* called by the interrupt controller */
/* A local APIC between the PIC and the CPU: bus_set_intr (the PIC's INTR pin,
 * the APIC's LINT0) goes to `lint0`, and the APIC drives the CPU's INTR line
 * with bus_cpu_intr. */
void bus_set_intr_filter(Bus *bus, void (*lint0)(void *apic, int level), void *apic);
void bus_cpu_intr(Bus *bus, int level);
/* IA32_APIC_BASE (MSR 1Bh) belongs to the local APIC device; without one,
 * bus_apic_present is false and the CPU treats the MSR as absent. */
void bus_set_apic(Bus *bus, uint64_t (*read_base)(void *apic), void (*write_base)(void *apic, uint64_t v),
                  void *apic);
bool bus_apic_present(const Bus *bus);
uint64_t bus_apic_base_read(Bus *bus);
void bus_apic_base_write(Bus *bus, uint64_t v);
int bus_intr_ack(Bus *bus);             /* called by the CPU when it takes INTR */
void bus_raise_nmi(Bus *bus);
/* Asks the CPU to return from its run loop soon (the stop hook). */
void bus_cpu_kick(Bus *bus);
/* FERR#: the x87 signals an unmasked error with CR0.NE=0; on a PC that is
 * IRQ 13, cleared by a write to port 0xF0.  The board installs the handler. */
void bus_set_ferr_handler(Bus *bus, void (*fn)(void *opaque, int level), void *opaque);
void bus_set_ferr(Bus *bus, int level);

/* Board-level requests from devices (8042 reset pulse, port 0x92, 0xCF9,
 * ACPI soft-off, exit port) or the CPU (triple fault). */
typedef enum BusRequest {
    BUS_REQ_NONE = 0,
    BUS_REQ_RESET,    /* system reset */
    BUS_REQ_POWEROFF, /* guest turned itself off: vsx exits 0 */
    BUS_REQ_EXIT,     /* exit port: vsx exits with `status` */
    BUS_REQ_SHUTDOWN, /* triple fault: reset or stop as configured */
} BusRequest;
void bus_request(Bus *bus, BusRequest req, int status);
BusRequest bus_take_request(Bus *bus, int *status);

/* Standalone bus for unit tests and tools; the Board creates its own. */
Bus *bus_create(uint64_t ram_size, VsxError *err);
void bus_destroy(Bus *bus);

/* ------------------------------------------------------------------------ */
/* IRQ lines: level semantics at the API; edge detection lives in the PIC.    */
/* ------------------------------------------------------------------------ */
typedef struct IrqLine {
    void (*set)(void *opaque, int n, int level);
    void *opaque;
    int n;
} IrqLine;
static inline void irq_set(const IrqLine *line, int level)
{
    if (line->set)
        line->set(line->opaque, line->n, level);
}
static inline void irq_pulse(const IrqLine *line)
{
    irq_set(line, 1);
    irq_set(line, 0);
}

/* ------------------------------------------------------------------------ */
/* Virtual clock and timers (nanoseconds)                                    */
/* ------------------------------------------------------------------------ */
typedef enum ClockMode {
    CLOCK_HOST,    /* follows the host's monotonic clock (pausable) */
    CLOCK_VIRTUAL, /* advanced only by clock_advance (deterministic runs, tests) */
} ClockMode;

typedef void (*TimerFn)(void *opaque, uint64_t now_ns);

Clock *clock_create(ClockMode mode);
void clock_destroy(Clock *clk);
ClockMode clock_mode(const Clock *clk);
uint64_t clock_now(Clock *clk);
void clock_advance(Clock *clk, uint64_t ns); /* CLOCK_VIRTUAL only */
/* CLOCK_VIRTUAL: time also includes `elapsed(opaque)` ns (the board counts
 * the CPU's retired instructions), so a guest reading a timer in the middle of
 * a CPU slice sees time move. */
void clock_set_virtual_source(Clock *clk, uint64_t (*elapsed)(void *opaque), void *opaque);
/* Called when a timer is armed earlier than every other one (the CPU may
 * have to leave its slice early to let it fire on time). */
void clock_set_deadline_hook(Clock *clk, void (*hook)(void *opaque), void *opaque);
void clock_pause(Clock *clk, bool paused);   /* CLOCK_HOST: stop time */
/* Earliest armed deadline, or UINT64_MAX. */
uint64_t clock_next_deadline(const Clock *clk);
/* Fires every timer whose deadline <= now, in deadline order.  Returns count. */
int clock_run_timers(Clock *clk);

Timer *timer_new(Clock *clk, TimerFn fn, void *opaque, const char *name);
void timer_free(Timer *t);
void timer_arm(Timer *t, uint64_t deadline_ns); /* re-arming moves it */
void timer_cancel(Timer *t);
bool timer_armed(const Timer *t);
uint64_t timer_deadline(const Timer *t);

/* ------------------------------------------------------------------------ */
/* Device state streams (save/load) and the device contract                  */
/* ------------------------------------------------------------------------ */
/* A stream is a sequence of tagged blobs.  Devices write their state with
 * state_put and read it back in the same order with state_get, which fails
 * (-1) on a tag or size mismatch. */
StateStream *state_writer_create(void);
StateStream *state_reader_create(const void *data, size_t len);
void state_destroy(StateStream *s);
const void *state_data(const StateStream *s, size_t *len);
void state_put(StateStream *s, const char *tag, const void *data, size_t len);
int state_get(StateStream *s, const char *tag, void *data, size_t len);
static inline void state_put_u64(StateStream *s, const char *tag, uint64_t v)
{
    state_put(s, tag, &v, sizeof v);
}
static inline int state_get_u64(StateStream *s, const char *tag, uint64_t *v)
{
    return state_get(s, tag, v, sizeof *v);
}

typedef struct DeviceClass {
    const char *name;
    void (*reset)(void *dev);                 /* power-on state, idempotent */
    void (*save)(void *dev, StateStream *s);
    int (*load)(void *dev, StateStream *s);   /* 0 or -1 */
    void (*destroy)(void *dev);
} DeviceClass;

/* ------------------------------------------------------------------------ */
/* PCI (configuration mechanism #1 lives in chipset/pci.c)                  */
/* ------------------------------------------------------------------------ */
typedef struct PciDeviceInfo {
    uint16_t vendor_id, device_id;
    uint8_t revision;
    uint8_t class_code, subclass, prog_if;
    uint8_t header_type;       /* bit 7: multi-function */
    uint16_t subsystem_vendor, subsystem_id;
    uint8_t interrupt_pin;     /* 0 none, 1..4 = INTA#..INTD# */
    const char *name;
} PciDeviceInfo;

typedef enum PciBarType { PCI_BAR_UNUSED = 0, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM32_PREFETCH } PciBarType;

typedef struct PciBar {
    PciBarType type;
    uint32_t size;          /* power of two; I/O >= 4, memory >= 4096 */
    const IoOps *io;        /* PCI_BAR_IO */
    const MmioOps *mmio;    /* memory BAR backed by callbacks ... */
    uint8_t *ram;           /* ... or by host memory (framebuffers) */
    void *dev;
} PciBar;

/* Device-specific configuration registers (offsets 0x40-0xFF and any the
 * generic code does not own).  Return false from read to use the stored byte
 * values; write is called after the stored bytes were updated. */
typedef struct PciConfigOps {
    bool (*read)(void *dev, uint8_t offset, unsigned width, uint32_t *value);
    void (*write)(void *dev, uint8_t offset, uint32_t value, unsigned width);
} PciConfigOps;

/* devfn = device << 3 | function.  Returns NULL if the slot is taken. */
PciDevice *pci_add_device(PciBus *pci, int devfn, const PciDeviceInfo *info,
                          const PciConfigOps *ops, void *dev);
void pci_set_bar(PciDevice *d, int index, const PciBar *bar);
/* Expansion ROM BAR (offset 0x30); the image is copied. */
int pci_set_rom(PciDevice *d, const uint8_t *rom, size_t size);
uint8_t *pci_config_space(PciDevice *d); /* 256 bytes */
void pci_set_irq(PciDevice *d, int level); /* INTx# through PIIX PIRQ routing */
/* Where BAR `index` is mapped now (0 when disabled/unassigned). */
uint32_t pci_bar_address(PciDevice *d, int index);

/* ------------------------------------------------------------------------ */
/* The board: a whole PC built from a validated VmConfig (chipset/config.h)  */
/* ------------------------------------------------------------------------ */
typedef struct Vga Vga;

/* A CPU backend (DESIGN.md "CPU backend"): the interpreter (cpu/) or KVM
 * (svm/).  main.c picks one and hands it to the board, so chipset/ never
 * depends on a particular backend. */
typedef enum AccelExit {
    ACCEL_EXIT_BUDGET = 0, /* ran its budget */
    ACCEL_EXIT_HLT,        /* halted with no interrupt to take */
    ACCEL_EXIT_STOP,       /* asked to stop (bus_request, UI) */
    ACCEL_EXIT_SHUTDOWN,   /* triple fault */
} AccelExit;

typedef struct AccelOps {
    const char *name;
    void *(*create)(Bus *bus, Clock *clk, const char *model, VsxError *err);
    void (*destroy)(void *cpu);
    void (*reset)(void *cpu);
    AccelExit (*run)(void *cpu, uint64_t max_insns, uint64_t *executed);
    void (*save)(void *cpu, StateStream *s);
    int (*load)(void *cpu, StateStream *s);
    uint64_t (*icount)(void *cpu); /* instructions retired so far */
} AccelOps;

/* cfg: validated configuration; run: command-line-only options (may be NULL). */
Board *board_create(const VmConfig *cfg, const RunOptions *run, const AccelOps *accel,
                    VsxError *err);
void board_destroy(Board *b);
void board_reset(Board *b);
/* Runs the machine for about `slice_ns` of virtual time (CPU, due timers, DMA).
 * Returns 0 while the VM runs; 1 when it ended, with the process exit status
 * in *status (guest power-off 0, exit port (v<<1)|1, shutdown per config). */
int board_run(Board *b, uint64_t slice_ns, int *status);
Bus *board_bus(Board *b);
Clock *board_clock(Board *b);
Vga *board_vga(Board *b); /* NULL when the VM has no display adapter */
/* Input from the UI (or scripted keys): see kbc_key_event for keycodes. */
void board_key_event(Board *b, int keycode, bool down);
bool board_keyboard_idle(Board *b);
void board_mouse_event(Board *b, int dx, int dy, int dz, unsigned buttons);
/* Serial input from the host (stdio back end). */
void board_serial_input(Board *b, int port, const uint8_t *data, size_t len);
/* Pause/resume virtual time (the UI's pause key). */
void board_pause(Board *b, bool paused);
/* Undo disks configured `undo = yes` ask at exit: true when there is one.
 * The answer (UNDO_DISCARD, UNDO_COMMIT or UNDO_KEEP from config.h; KEEP
 * when nobody answers) is applied by board_destroy. */
bool board_has_undo_prompt(const Board *b);
void board_set_undo_choice(Board *b, int choice);

#endif
