/*
 * chipset/sysctl.c -- the small system control ports of a PIIX PC:
 *   0x92   System Control Port A (PS/2 "fast A20" bit 1, fast reset bit 0)
 *   0xCF9  PIIX3 Reset Control Register (bit 2 RST_CPU, bit 1 SYS_RST)
 *   0x80   POST code (the BIOS's progress byte; kept and optionally logged)
 *   0xE9, 0x402  debug console bytes (Bochs / QEMU debugcon convention)
 *   0xF4   exit port (QEMU isa-debug-exit: status (v << 1) | 1)
 *
 * 0xCF8 and 0xCFC-0xCFF are the PCI configuration mechanism's; only the byte
 * port 0xCF9 is mapped here (PIIX3 datasheet 4.1.16: RC is a byte register
 * that shares the address with CONFADD; a dword access goes to CONFADD).
 */
#include <stdlib.h>

#include "chipset/devices.h"

#define PORT92_FAST_RESET 0x01 /* write 0->1: pulse INIT/reset */
#define PORT92_A20 0x02
#define RCR_SYS_RST 0x02       /* 1: hard reset, 0: soft (CPU only) reset */
#define RCR_RST_CPU 0x04       /* write 1: reset now */
#define RCR_FULL_RST 0x08
#define DEBUGCON_READBACK 0xE9 /* Bochs: reading 0xE9 returns 0xE9 (presence check) */

typedef struct SysCtlRegs {
    uint8_t port92;
    uint8_t rcr;
    uint8_t post;
} SysCtlRegs;

struct SysCtl {
    Bus *bus;
    FILE *debugcon;
    FILE *post_log;
    SysCtlRegs r;
};

/* ------------------------------------------------------------ port 0x92 */

static uint32_t port92_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    return s->r.port92;
}

static void port92_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    uint8_t old = s->r.port92;
    /* Bits 2-7 are reserved/read-only on PIIX; keep only A20 and reset. */
    s->r.port92 = (uint8_t)(value & (PORT92_A20 | PORT92_FAST_RESET));
    bus_set_a20(s->bus, (value & PORT92_A20) != 0);
    if ((value & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET))
        bus_request(s->bus, BUS_REQ_RESET, 0);
}

static const IoOps port92_ops = {port92_read, port92_write, IO_W8, "port92"};

/* ----------------------------------------------------------- port 0xCF9 */

static uint32_t rcr_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    return s->r.rcr;
}

static void rcr_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    /* RST_CPU is a command bit: it reads back 0; the mode bits are kept. */
    s->r.rcr = (uint8_t)(value & (RCR_SYS_RST | RCR_FULL_RST));
    if (value & RCR_RST_CPU)
        bus_request(s->bus, BUS_REQ_RESET, 0);
}

static const IoOps rcr_ops = {rcr_read, rcr_write, IO_W8, "reset-control"};

/* ------------------------------------------------------------ POST 0x80 */

static uint32_t post_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    return s->r.post;
}

static void post_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    s->r.post = (uint8_t)value;
    if (s->post_log) {
        fprintf(s->post_log, "POST %02x\n", s->r.post);
        fflush(s->post_log);
    }
}

static const IoOps post_ops = {post_read, post_write, IO_W8, "post"};

/* -------------------------------------------------- debug console 0xE9/0x402 */

static uint32_t debugcon_read(void *dev, uint32_t offset, unsigned width)
{
    (void)dev, (void)offset, (void)width;
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    if (!s->debugcon)
        return;
    fputc((int)(value & 0xFF), s->debugcon);
    /* Tests read the console while the VM runs; flush at line ends. */
    if ((value & 0xFF) == '\n')
        fflush(s->debugcon);
}

static const IoOps debugcon_ops = {debugcon_read, debugcon_write, IO_W8, "debugcon"};

/* ----------------------------------------------------------- exit 0xF4 */

static uint32_t exit_read(void *dev, uint32_t offset, unsigned width)
{
    (void)dev, (void)offset;
    return width >= 4 ? 0xFFFFFFFFu : (1u << (8 * width)) - 1;
}

static void exit_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    SysCtl *s = dev;
    if (s->debugcon)
        fflush(s->debugcon);
    /* QEMU isa-debug-exit: the process status is (v << 1) | 1; the OS keeps
     * its low 8 bits, so truncate here to say what the caller will see. */
    bus_request(s->bus, BUS_REQ_EXIT, (int)(((value << 1) | 1) & 0xFF));
}

static const IoOps exit_ops = {exit_read, exit_write, IO_W8 | IO_W16 | IO_W32, "exit"};

/* ------------------------------------------------------------ lifecycle */

static void sysctl_reset(void *dev)
{
    SysCtl *s = dev;
    s->r = (SysCtlRegs){0};
}

static void sysctl_save(void *dev, StateStream *st)
{
    SysCtl *s = dev;
    state_put(st, "sysctl", &s->r, sizeof s->r);
}

static int sysctl_load(void *dev, StateStream *st)
{
    SysCtl *s = dev;
    return state_get(st, "sysctl", &s->r, sizeof s->r);
}

static void sysctl_destroy(void *dev)
{
    SysCtl *s = dev;
    if (!s)
        return;
    if (s->debugcon)
        fflush(s->debugcon);
    bus_unmap_io(s->bus, 0x92, 1);
    bus_unmap_io(s->bus, 0xCF9, 1);
    bus_unmap_io(s->bus, 0x80, 1);
    bus_unmap_io(s->bus, 0xE9, 1);
    bus_unmap_io(s->bus, 0x402, 1);
    bus_unmap_io(s->bus, 0xF4, 1);
    free(s);
}

SysCtl *sysctl_create(Bus *bus, FILE *debugcon, FILE *post_log)
{
    SysCtl *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->bus = bus;
    s->debugcon = debugcon;
    s->post_log = post_log;
    static const struct {
        uint16_t port;
        const IoOps *ops;
    } map[] = {
        {0x92, &port92_ops}, {0xCF9, &rcr_ops},       {0x80, &post_ops},
        {0xE9, &debugcon_ops}, {0x402, &debugcon_ops}, {0xF4, &exit_ops},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (bus_map_io(bus, map[i].port, 1, map[i].ops, s) < 0) {
            for (size_t j = 0; j < i; j++)
                bus_unmap_io(bus, map[j].port, 1);
            free(s);
            return NULL;
        }
    return s;
}

const DeviceClass sysctl_device_class = {
    .name = "sysctl",
    .reset = sysctl_reset,
    .save = sysctl_save,
    .load = sysctl_load,
    .destroy = sysctl_destroy,
};
