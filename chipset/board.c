/*
 * chipset/board.c -- builds an i440FX/PIIX3 PC from a validated VmConfig and
 * runs it.  This is the one place where devices are wired: each gets its
 * ports, IRQ lines, clock and backing store here, in hardware order.
 *
 * Run loop (board_run): the CPU executes until the nearest timer deadline (or
 * the end of the slice), due timers fire, ISA DMA runs, board-level requests
 * (reset, power-off, exit port, triple fault) are handled.  With a virtual
 * clock (deterministic mode) time advances by a fixed cost per instruction and
 * jumps over HLT; with the host clock the loop sleeps through HLT.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../disk/disk.h"
#include "../roms/roms.h"
#include "../video/video.h"
#include "config.h"
#include "devices.h"

#define BOARD_MAX_DEVICES 32
#define VIRTUAL_NS_PER_INSN 10     /* deterministic mode: a 100 MIPS machine */
#define HOST_INSNS_PER_CHECK 50000 /* host clock: look at the time this often */
#define EXIT_TRIPLE_FAULT 4

typedef struct BoardDevice {
    const DeviceClass *cls;
    void *dev;
} BoardDevice;

struct Board {
    VmConfig cfg;
    Bus *bus;
    Clock *clk;
    const AccelOps *accel;
    void *cpu;

    Pic *pic;
    IoApic *ioapic;
    Rtc *rtc;
    Kbc *kbc;
    IsaDma *dma;
    PciBus *pci;
    FwCfg *fwcfg;
    Uart *uart[CFG_SERIALS];
    Vga *vga;
    IrqLine isa_irq[16];

    BlockDev *floppy[CFG_FLOPPIES];
    BlockDev *ide[CFG_IDE_DRIVES];

    BoardDevice devs[BOARD_MAX_DEVICES];
    int ndevs;

    uint8_t *bios, *vgabios; /* owned copies */
    size_t bios_size, vgabios_size;
    FILE *debugcon, *post_log, *serial_out[CFG_SERIALS];
    FILE *port_logs[16];
    int nport_logs;
    bool serial_stdin; /* a stdio serial port reads the host's stdin */
    bool timing_pending; /* --debug timing: report before the first instruction */
    uint64_t icount_base; /* deterministic clock: instructions before time 0 */
    bool in_cpu;          /* inside accel->run (a device is being driven by the guest) */
    char undo_path[CFG_IDE_DRIVES][CFG_PATH_MAX]; /* undo disks in use */
    int undo_choice;      /* what `undo = yes` drives do at exit (UNDO_KEEP default) */
};

static void board_add(Board *b, const DeviceClass *cls, void *dev)
{
    if (b->ndevs < BOARD_MAX_DEVICES)
        b->devs[b->ndevs++] = (BoardDevice){cls, dev};
}

/* ISA IRQ n reaches PIC input n and I/O APIC pin n, except IRQ 0 (the PIT),
 * which is wired to pin 2 as on QEMU's PC (firmware reports the override). */
/* Deterministic mode: virtual time is instructions retired x a fixed cost
 * (plus idle time skipped over HLT, which board_run adds to the clock). */
static uint64_t board_insn_time(void *opaque)
{
    Board *b = opaque;
    return (b->accel->icount(b->cpu) - b->icount_base) * VIRTUAL_NS_PER_INSN;
}

/* FERR# drives IRQ 13; any write to port 0xF0 clears it again (the PC/AT's
 * coprocessor error latch, which also asserts IGNNE#). */
static void board_ferr(void *opaque, int level)
{
    Board *b = opaque;
    irq_set(&b->isa_irq[13], level);
}

static uint32_t ferr_port_read(void *dev, uint32_t offset, unsigned width)
{
    (void)dev, (void)offset, (void)width;
    return 0xFF;
}

static void ferr_port_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)value, (void)width;
    board_ferr(dev, 0);
}

static const IoOps ferr_port_ops = {ferr_port_read, ferr_port_write, IO_W8, "coprocessor error latch"};

/* A timer armed for before the end of the CPU's current slice: end it. */
static void board_deadline_moved(void *opaque)
{
    Board *b = opaque;
    if (b->in_cpu)
        bus_cpu_kick(b->bus);
}

static void board_irq_set(void *opaque, int n, int level)
{
    Board *b = opaque;
    pic_set_irq(b->pic, n, level);
    if (b->ioapic)
        ioapic_set_irq(b->ioapic, n == 0 ? 2 : n, level);
}

/* ------------------------------------------------------------ firmware */

int chipset_read_file(const char *path, uint8_t **data, size_t *size, size_t max, VsxError *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return vsx_errorf(err, "%s: cannot open: %s", path, strerror(errno));
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    rewind(f);
    if (len <= 0 || (size_t)len > max) {
        fclose(f);
        return vsx_errorf(err, "%s: size %ld is not between 1 byte and %zu KiB", path, len, max >> 10);
    }
    *data = malloc((size_t)len);
    if (!*data || fread(*data, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        return vsx_errorf(err, "%s: cannot read", path);
    }
    fclose(f);
    *size = (size_t)len;
    return 0;
}

static int board_load_firmware(Board *b, VsxError *err)
{
    if (b->cfg.bios[0]) {
        if (chipset_read_file(b->cfg.bios, &b->bios, &b->bios_size, 16u << 20, err))
            return -1;
        if (b->bios_size % 0x10000)
            return vsx_errorf(err, "%s: a BIOS image must be a multiple of 64 KiB (it is %zu bytes)",
                              b->cfg.bios, b->bios_size);
    } else {
        b->bios_size = VSX_ROM_SIZE(vsx_rom_bios);
        b->bios = malloc(b->bios_size);
        if (!b->bios)
            return vsx_errorf(err, "out of memory");
        memcpy(b->bios, vsx_rom_bios, b->bios_size);
    }
    if (b->cfg.vgabios[0])
        return chipset_read_file(b->cfg.vgabios, &b->vgabios, &b->vgabios_size, 256u << 10, err);
    b->vgabios_size = VSX_ROM_SIZE(vsx_rom_vgabios);
    b->vgabios = malloc(b->vgabios_size);
    if (!b->vgabios)
        return vsx_errorf(err, "out of memory");
    memcpy(b->vgabios, vsx_rom_vgabios, b->vgabios_size);
    return 0;
}

/* --------------------------------------------------------------- CMOS */

static void cmos_set16(Rtc *rtc, int index, unsigned v)
{
    rtc_cmos_set(rtc, index, v & 0xFF);
    rtc_cmos_set(rtc, index + 1, (v >> 8) & 0xFF);
}

/* The CMOS bytes SeaBIOS and old software read (IBM AT layout, plus the
 * QEMU/Bochs extensions at 0x34/0x35, 0x38, 0x3D, 0x5B-0x5F). */
static void board_fill_cmos(Board *b)
{
    Rtc *rtc = b->rtc;
    uint64_t below = bus_ram_below_4g(b->bus), above = bus_ram_size(b->bus) - below;
    uint64_t ext_kb = below > (1u << 20) ? (below - (1u << 20)) >> 10 : 0;
    cmos_set16(rtc, 0x15, 640);
    cmos_set16(rtc, 0x17, ext_kb > 0xFFFF ? 0xFFFF : (unsigned)ext_kb);
    cmos_set16(rtc, 0x30, ext_kb > 0xFFFF ? 0xFFFF : (unsigned)ext_kb);
    uint64_t over16 = below > (16u << 20) ? (below - (16u << 20)) >> 16 : 0;
    cmos_set16(rtc, 0x34, over16 > 0xFFFF ? 0xFFFF : (unsigned)over16);
    uint64_t hi = above >> 16;
    rtc_cmos_set(rtc, 0x5B, hi & 0xFF);
    rtc_cmos_set(rtc, 0x5C, (hi >> 8) & 0xFF);
    rtc_cmos_set(rtc, 0x5D, (hi >> 16) & 0xFF);
    rtc_cmos_set(rtc, 0x5F, 0); /* CPUs - 1 */

    int floppies = 0, types = 0;
    for (int i = 0; i < CFG_FLOPPIES; i++)
        if (b->floppy[i]) {
            floppies++;
            types |= fdc_drive_type(b->floppy[i]) << (i ? 0 : 4);
        }
    rtc_cmos_set(rtc, 0x10, (uint8_t)types);
    /* Equipment: FPU present, VGA (00), floppies. */
    uint8_t equip = 0x02 | (floppies ? 0x01 | ((floppies - 1) << 6) : 0);
    rtc_cmos_set(rtc, 0x14, equip);

    /* Boot order, QEMU encoding: 1 floppy, 2 disk, 3 cdrom, 4 network. */
    static const uint8_t code[] = {[BOOT_DISK] = 2, [BOOT_CDROM] = 3, [BOOT_FLOPPY] = 1, [BOOT_NETWORK] = 4};
    uint8_t order[3] = {0};
    for (int i = 0; i < b->cfg.nboot && i < 3; i++)
        order[i] = code[b->cfg.boot[i]];
    rtc_cmos_set(rtc, 0x3D, (uint8_t)(order[0] | order[1] << 4));
    rtc_cmos_set(rtc, 0x38, (uint8_t)(order[2] << 4 | 0x01)); /* bit 0: skip floppy signature check */
}

/* -------------------------------------------------------------- fw_cfg */

static void put_le64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void board_fill_fwcfg(Board *b)
{
    uint8_t buf[8];
    put_le64(buf, bus_ram_size(b->bus));
    fwcfg_set(b->fwcfg, 0x03, buf, 8); /* FW_CFG_RAM_SIZE */
    uint8_t cpus[2] = {1, 0};
    fwcfg_set(b->fwcfg, 0x05, cpus, 2); /* FW_CFG_NB_CPUS */
    fwcfg_set(b->fwcfg, 0x0F, cpus, 2); /* FW_CFG_MAX_CPUS */
    /* The PIT's IRQ 0 reaches I/O APIC pin 2 (board_irq_set): firmware must
     * describe that override in its MP/ACPI tables (QEMU's key 0x8002). */
    uint8_t irq0_override[4] = {1, 0, 0, 0};
    fwcfg_set(b->fwcfg, 0x8002, irq0_override, 4);
    uint8_t boot_menu[2] = {b->cfg.boot_menu ? 1 : 0, 0};
    fwcfg_set(b->fwcfg, 0x0E, boot_menu, 2); /* FW_CFG_BOOT_MENU */

    /* etc/e820: guest RAM; SeaBIOS reserves its own areas inside it. */
    uint8_t e820[2 * 20];
    size_t n = 0;
    uint64_t below = bus_ram_below_4g(b->bus), above = bus_ram_size(b->bus) - below;
    uint64_t ranges[2][2] = {{0, below}, {0x100000000ull, above}};
    for (int i = 0; i < 2; i++) {
        if (!ranges[i][1])
            continue;
        put_le64(e820 + n, ranges[i][0]);
        put_le64(e820 + n + 8, ranges[i][1]);
        e820[n + 16] = 1, e820[n + 17] = e820[n + 18] = e820[n + 19] = 0; /* E820_RAM */
        n += 20;
    }
    fwcfg_add_file(b->fwcfg, "etc/e820", e820, n);

    /* bootorder: Open Firmware paths SeaBIOS matches against its devices;
     * a direct kernel boot goes first. */
    char order[512] = "";
    if (b->cfg.kernel[0])
        snprintf(order, sizeof order, "/rom@genroms/vsxboot.bin\n");
    for (int i = 0; i < b->cfg.nboot; i++) {
        size_t used = strlen(order);
        switch (b->cfg.boot[i]) {
        case BOOT_FLOPPY:
            for (int d = 0; d < CFG_FLOPPIES; d++)
                if (b->floppy[d])
                    used += snprintf(order + used, sizeof order - used, "/pci@i0cf8/isa@1/fdc@03f0/floppy@%d\n", d);
            break;
        case BOOT_DISK:
        case BOOT_CDROM:
            for (int d = 0; d < CFG_IDE_DRIVES; d++) {
                bool cd = b->cfg.ide[d].type == DRIVE_CDROM;
                if (b->cfg.ide[d].type == DRIVE_NONE || cd != (b->cfg.boot[i] == BOOT_CDROM))
                    continue;
                used += snprintf(order + used, sizeof order - used, "/pci@i0cf8/ide@1,1/drive@%d/disk@%d\n",
                                 d / 2, d % 2);
            }
            break;
        default:
            break;
        }
    }
    fwcfg_add_file(b->fwcfg, "bootorder", order, strlen(order) + 1);
}

/* The direct-boot option ROM, with its PnP header and whole-ROM checksums
 * made right (both must sum to zero bytewise). */
static int board_setup_kernel(Board *b, VsxError *err)
{
    if (kernel_setup(b->fwcfg, b->cfg.kernel, b->cfg.initrd, b->cfg.cmdline, bus_ram_below_4g(b->bus), err))
        return -1;
    size_t len = VSX_ROM_SIZE(vsx_rom_vsxboot);
    uint8_t *rom = malloc(len);
    if (!rom)
        return vsx_errorf(err, "out of memory");
    memcpy(rom, vsx_rom_vsxboot, len);
    size_t pnp = rom[0x1A] | rom[0x1B] << 8;
    if (pnp + 32 <= len && !memcmp(rom + pnp, "$PnP", 4)) {
        uint8_t sum = 0;
        rom[pnp + 9] = 0;
        for (size_t i = 0; i < (size_t)rom[pnp + 5] * 16; i++)
            sum += rom[pnp + i];
        rom[pnp + 9] = (uint8_t)-sum;
    }
    uint8_t sum = 0;
    rom[len - 1] = 0;
    for (size_t i = 0; i < len; i++)
        sum += rom[i];
    rom[len - 1] = (uint8_t)-sum;
    int rc = fwcfg_add_file(b->fwcfg, "genroms/vsxboot.bin", rom, len);
    free(rom);
    return rc ? vsx_errorf(err, "cannot add the direct-boot ROM to fw_cfg") : 0;
}

/* ---------------------------------------------------------------- disks */

/* "builtin:welcome": the welcome VM's floppy, embedded in the binary. */
static BlockDev *open_builtin(const char *name, char *msg, size_t len)
{
#ifdef VSX_ROM_DEFAULT_VM
    if (!strcmp(name, "builtin:welcome"))
        return disk_open_memory(vsx_rom_default_vm, VSX_ROM_SIZE(vsx_rom_default_vm), 1474560, true);
#endif
    snprintf(msg, len, "%s: no such built-in image in this build", name);
    return NULL;
}

static int board_open_disks(Board *b, VsxError *err)
{
    char msg[512];
    for (int i = 0; i < CFG_FLOPPIES; i++) {
        const DriveConfig *d = &b->cfg.floppy[i];
        if (d->type == DRIVE_NONE || !d->image[0])
            continue;
        if (!strncmp(d->image, "builtin:", 8))
            b->floppy[i] = open_builtin(d->image, msg, sizeof msg);
        else
            b->floppy[i] = disk_open(d->image, d->readonly ? DISK_OPEN_READONLY : 0, msg, sizeof msg);
        if (!b->floppy[i])
            return vsx_errorf(err, "[floppy%d] image: %s", i, msg);
    }
    for (int i = 0; i < CFG_IDE_DRIVES; i++) {
        const DriveConfig *d = &b->cfg.ide[i];
        if (d->type == DRIVE_NONE || !d->image[0])
            continue;
        unsigned flags = d->readonly ? DISK_OPEN_READONLY : 0;
        if (d->type == DRIVE_CDROM)
            flags |= DISK_OPEN_CDROM | DISK_OPEN_READONLY;
        if (d->undo != UNDO_NO) {
            /* Undo disk: guest writes go to a differencing VHD beside the image. */
            char *u = b->undo_path[i], path[CFG_PATH_MAX];
            if (d->undo_file[0])
                snprintf(path, sizeof path, "%s", d->undo_file);
            else
                snprintf(path, sizeof path, "%.*s.undo.vhd", CFG_PATH_MAX - 10, d->image);
            memcpy(u, path, sizeof path);
            b->ide[i] = disk_open_undo(d->image, u, flags, msg, sizeof msg);
            if (!b->ide[i])
                u[0] = 0;
        } else {
            b->ide[i] = disk_open(d->image, flags, msg, sizeof msg);
        }
        if (!b->ide[i])
            return vsx_errorf(err, "[%s] image: %s", config_drive_name(i), msg);
    }
    return 0;
}

void board_set_undo_choice(Board *b, int choice) { b->undo_choice = choice; }

bool board_has_undo_prompt(const Board *b)
{
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        if (b->undo_path[i][0] && b->cfg.ide[i].undo == UNDO_ASK)
            return true;
    return false;
}

/* At exit, after the drives are closed: each undo disk is dropped, merged
 * into its base, or kept for next time, as configured. */
static void board_finish_undo(Board *b)
{
    for (int i = 0; i < CFG_IDE_DRIVES; i++) {
        const char *u = b->undo_path[i];
        if (!u[0])
            continue;
        int what = b->cfg.ide[i].undo == UNDO_ASK ? b->undo_choice : b->cfg.ide[i].undo;
        char msg[512];
        if (what == UNDO_COMMIT && vhd_commit(u, msg, sizeof msg) != 0) {
            fprintf(stderr, "vsx: [%s] undo disk not committed, kept as %s: %s\n", config_drive_name(i), u, msg);
            continue;
        }
        if (what == UNDO_COMMIT || what == UNDO_DISCARD) {
            if (unlink(u) != 0)
                fprintf(stderr, "vsx: cannot remove the undo disk %s: %s\n", u, strerror(errno));
        } else {
            fprintf(stderr, "vsx: [%s] guest changes kept in the undo disk %s\n", config_drive_name(i), u);
        }
    }
}

/* ------------------------------------------------------------ host files */

static FILE *open_output(const char *path, VsxError *err)
{
    if (!path[0])
        return NULL;
    if (!strcmp(path, "-") || !strcmp(path, "stdout"))
        return stdout;
    if (!strcmp(path, "stderr"))
        return stderr;
    FILE *f = fopen(path, "w");
    if (!f)
        vsx_errorf(err, "%s: cannot create: %s", path, strerror(errno));
    else
        setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

static void close_output(FILE *f)
{
    if (f && f != stdout && f != stderr)
        fclose(f);
}

static int board_open_host_files(Board *b, const RunOptions *run, VsxError *err)
{
    for (int i = 0; i < CFG_SERIALS; i++) {
        const SerialConfig *s = &b->cfg.serial[i];
        if (s->mode == SERIAL_STDIO) {
            b->serial_out[i] = stdout;
            b->serial_stdin = true;
        } else if (s->mode == SERIAL_FILE && !(b->serial_out[i] = open_output(s->path, err))) {
            return -1;
        }
    }
    if (!run)
        return 0;
    if (run->debugcon[0] && !(b->debugcon = open_output(run->debugcon, err)))
        return -1;
    if (run->debug_post)
        b->post_log = stderr;
    b->timing_pending = run->debug_timing;
    for (int i = 0; i < run->nport_log; i++) {
        FILE *f = fopen(run->port_log[i].path, "ab");
        if (!f)
            return vsx_errorf(err, "%s: cannot open: %s", run->port_log[i].path, strerror(errno));
        b->port_logs[b->nport_logs++] = f;
        bus_add_port_log(b->bus, run->port_log[i].port, f);
    }
    return 0;
}

/* ----------------------------------------------------------- lifecycle */

static const uint16_t com_base[CFG_SERIALS] = {0x3F8, 0x2F8, 0x3E8, 0x2E8};
static const int com_irq[CFG_SERIALS] = {4, 3, 4, 3};

static int board_create_devices(Board *b, VsxError *err)
{
    Bus *bus = b->bus;
    Clock *clk = b->clk;
    for (int i = 0; i < 16; i++)
        b->isa_irq[i] = (IrqLine){board_irq_set, b, i};

    b->pic = pic_create(bus);
    if (!b->pic)
        return vsx_errorf(err, "cannot create the interrupt controller");
    board_add(b, &pic_device_class, b->pic);
    bus_set_intr_controller(bus, pic_intr_ack, b->pic);

    Lapic *lapic = lapic_create(bus, clk, b->pic);
    if (!lapic)
        return vsx_errorf(err, "cannot create the local APIC");
    board_add(b, &lapic_device_class, lapic);
    b->ioapic = ioapic_create(bus, lapic);
    if (!b->ioapic)
        return vsx_errorf(err, "cannot create the I/O APIC");
    board_add(b, &ioapic_device_class, b->ioapic);

    Pit *pit = pit_create(bus, clk, b->isa_irq[0]);
    if (!pit)
        return vsx_errorf(err, "cannot create the PIT");
    board_add(b, &pit_device_class, pit);

    int64_t start = b->cfg.deterministic ? 1700000000 /* 2023-11-14 22:13:20 UTC */ : (int64_t)time(NULL);
    b->rtc = rtc_create(bus, clk, b->isa_irq[8], start, b->cfg.cmos_file[0] ? b->cfg.cmos_file : NULL, err);
    if (!b->rtc)
        return -1;
    board_add(b, &rtc_device_class, b->rtc);

    b->dma = isa_dma_create(bus);
    if (!b->dma)
        return vsx_errorf(err, "cannot create the DMA controllers");
    board_add(b, &isa_dma_device_class, b->dma);

    b->kbc = kbc_create(bus, clk, b->isa_irq[1], b->isa_irq[12]);
    if (!b->kbc)
        return vsx_errorf(err, "cannot create the keyboard controller");
    board_add(b, &kbc_device_class, b->kbc);

    b->pci = pci_create(bus, clk, b->isa_irq);
    if (!b->pci)
        return vsx_errorf(err, "cannot create the PCI host bridge");
    board_add(b, &pci_device_class, b->pci);

    bool cdrom[CFG_IDE_DRIVES];
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        cdrom[i] = b->cfg.ide[i].type == DRIVE_CDROM;
    Ide *ide = ide_create(bus, b->pci, clk, b->isa_irq[14], b->isa_irq[15], b->ide, cdrom);
    if (!ide)
        return vsx_errorf(err, "cannot create the IDE controller");
    board_add(b, &ide_device_class, ide);

    if (b->cfg.display_adapter == ADAPTER_STD) {
        b->vga = vga_create(bus, b->pci, clk, (uint32_t)b->cfg.vram, b->vgabios, b->vgabios_size, err);
        if (!b->vga)
            return -1;
        board_add(b, &vga_device_class, b->vga);
    }

    Fdc *fdc = fdc_create(bus, clk, b->isa_irq[6], b->dma, b->floppy);
    if (!fdc)
        return vsx_errorf(err, "cannot create the floppy controller");
    board_add(b, &fdc_device_class, fdc);

    for (int i = 0; i < CFG_SERIALS; i++) {
        if (i > 0 && b->cfg.serial[i].mode == SERIAL_NONE)
            continue; /* COM1 is always there, as on every PC */
        b->uart[i] = uart_create(bus, clk, com_base[i], b->isa_irq[com_irq[i]], b->serial_out[i]);
        if (!b->uart[i])
            return vsx_errorf(err, "cannot create COM%d", i + 1);
        board_add(b, &uart_device_class, b->uart[i]);
    }

    bus_set_ferr_handler(bus, board_ferr, b);
    if (bus_map_io(bus, 0xF0, 1, &ferr_port_ops, b))
        return vsx_errorf(err, "cannot map port 0xF0");

    b->fwcfg = fwcfg_create(bus);
    if (!b->fwcfg)
        return vsx_errorf(err, "cannot create fw_cfg");
    board_add(b, &fwcfg_device_class, b->fwcfg);

    SysCtl *sys = sysctl_create(bus, b->debugcon, b->post_log);
    if (!sys)
        return vsx_errorf(err, "cannot create the system control ports");
    board_add(b, &sysctl_device_class, sys);
    return 0;
}

Board *board_create(const VmConfig *cfg, const RunOptions *run, const AccelOps *accel, VsxError *err)
{
    Board *b = calloc(1, sizeof *b);
    if (!b) {
        vsx_errorf(err, "out of memory");
        return NULL;
    }
    b->cfg = *cfg;
    b->accel = accel;
    b->undo_choice = UNDO_KEEP;
    b->clk = clock_create(cfg->deterministic ? CLOCK_VIRTUAL : CLOCK_HOST);
    b->bus = bus_create(cfg->memory, err);
    if (!b->clk || !b->bus)
        goto fail;
    if (board_load_firmware(b, err) || bus_set_bios(b->bus, b->bios, b->bios_size)) {
        vsx_errorf(err, "cannot map the BIOS image");
        goto fail;
    }
    if (board_open_host_files(b, run, err) || board_open_disks(b, err) || board_create_devices(b, err))
        goto fail;
    board_fill_cmos(b);
    board_fill_fwcfg(b);
    if (b->cfg.kernel[0] && board_setup_kernel(b, err))
        goto fail;
    b->cpu = accel->create(b->bus, b->clk, cfg->cpu, err);
    if (!b->cpu)
        goto fail;
    if (cfg->deterministic) {
        b->icount_base = accel->icount(b->cpu);
        clock_set_virtual_source(b->clk, board_insn_time, b);
    }
    clock_set_deadline_hook(b->clk, board_deadline_moved, b);
    board_reset(b);
    return b;
fail:
    board_destroy(b);
    return NULL;
}

void board_destroy(Board *b)
{
    if (!b)
        return;
    if (b->clk) {
        clock_set_deadline_hook(b->clk, NULL, NULL);
        clock_set_virtual_source(b->clk, NULL, NULL);
    }
    if (b->cpu) {
        b->accel->destroy(b->cpu);
        bus_set_cpu_hooks(b->bus, NULL, NULL); /* devices below may still remap */
    }
    for (int i = b->ndevs - 1; i >= 0; i--)
        if (b->devs[i].cls->destroy)
            b->devs[i].cls->destroy(b->devs[i].dev);
    for (int i = 0; i < CFG_FLOPPIES; i++)
        disk_close(b->floppy[i]);
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        disk_close(b->ide[i]);
    board_finish_undo(b);
    for (int i = 0; i < CFG_SERIALS; i++)
        close_output(b->serial_out[i]);
    close_output(b->debugcon);
    for (int i = 0; i < b->nport_logs; i++)
        fclose(b->port_logs[i]);
    bus_destroy(b->bus);
    clock_destroy(b->clk);
    free(b->bios);
    free(b->vgabios);
    free(b);
}

void board_reset(Board *b)
{
    /* RESET# reaches every device in creation order, then the CPU. The A20
     * gate comes up enabled on this board's reset (SeaBIOS expects that). */
    for (int i = 0; i < b->ndevs; i++)
        if (b->devs[i].cls->reset)
            b->devs[i].cls->reset(b->devs[i].dev);
    bus_set_a20(b->bus, true);
    b->accel->reset(b->cpu);
}

/* ------------------------------------------------------------------ run */

static void board_poll_stdin(Board *b)
{
    if (!b->serial_stdin)
        return;
    struct pollfd p = {.fd = 0, .events = POLLIN};
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLIN))
        return;
    uint8_t buf[256];
    ssize_t n = read(0, buf, sizeof buf);
    if (n <= 0) {
        b->serial_stdin = false; /* EOF: stop polling */
        return;
    }
    for (int i = 0; i < CFG_SERIALS; i++)
        if (b->cfg.serial[i].mode == SERIAL_STDIO && b->uart[i]) {
            uart_receive(b->uart[i], buf, (size_t)n);
            break;
        }
}

/* Returns 1 when the VM has ended (status set). */
static int board_handle_request(Board *b, int *status)
{
    int st;
    switch (bus_take_request(b->bus, &st)) {
    case BUS_REQ_NONE: return 0;
    case BUS_REQ_RESET: board_reset(b); return 0;
    case BUS_REQ_POWEROFF: *status = 0; return 1;
    case BUS_REQ_EXIT: *status = st; return 1;
    case BUS_REQ_SHUTDOWN:
        if (b->cfg.shutdown == SHUTDOWN_RESET) {
            board_reset(b);
            return 0;
        }
        fprintf(stderr, "vsx: the guest triple-faulted; stopped ([vm] shutdown = stop)\n");
        *status = EXIT_TRIPLE_FAULT;
        return 1;
    }
    return 0;
}

static void sleep_until(Clock *clk, uint64_t deadline)
{
    uint64_t now = clock_now(clk);
    if (deadline <= now)
        return;
    uint64_t ns = deadline - now;
    struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

/* --debug timing: called once, right before the CPU backend is first asked to
 * execute.  Prints the host's CLOCK_REALTIME (a caller that noted the time
 * before exec subtracts it: that includes fork, exec and dynamic loading) and
 * the time since the kernel started the process (/proc/self/stat field 22, in
 * clock ticks of usually 10 ms, against CLOCK_BOOTTIME). */
static void report_first_instruction(Board *b)
{
    b->timing_pending = false;
    struct timespec rt, bt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    double since_start_ms = -1;
    char stat[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(stat, 1, sizeof stat - 1, f) : 0;
    if (f)
        fclose(f);
    stat[n] = 0;
    char *p = strrchr(stat, ')'); /* the command name may hold spaces */
    long hz = sysconf(_SC_CLK_TCK);
    if (p && hz > 0) {
        /* fields 3..21 follow ") "; starttime is field 22 */
        for (int field = 3; field <= 22 && p; field++)
            p = strchr(p + 1, ' ');
        unsigned long long ticks;
        if (p && sscanf(p + 1, "%llu", &ticks) == 1)
            since_start_ms = ((double)bt.tv_sec + (double)bt.tv_nsec / 1e9 - (double)ticks / (double)hz) * 1e3;
    }
    fprintf(stderr, "vsx: timing: first guest instruction at realtime %lld.%09ld, %.0f ms after process start\n",
            (long long)rt.tv_sec, rt.tv_nsec, since_start_ms);
    fflush(stderr);
}

int board_run(Board *b, uint64_t slice_ns, int *status)
{
    uint64_t end = clock_now(b->clk) + slice_ns;
    bool virtual_clock = clock_mode(b->clk) == CLOCK_VIRTUAL;
    board_poll_stdin(b);
    for (;;) {
        if (board_handle_request(b, status))
            return 1;
        clock_run_timers(b->clk);
        isa_dma_run(b->dma);
        uint64_t now = clock_now(b->clk);
        if (now >= end)
            return 0;
        uint64_t next = clock_next_deadline(b->clk);
        if (next > end)
            next = end;
        uint64_t budget = virtual_clock ? (next - now + VIRTUAL_NS_PER_INSN - 1) / VIRTUAL_NS_PER_INSN
                                        : HOST_INSNS_PER_CHECK;
        if (budget == 0)
            budget = 1;
        uint64_t done = 0;
        if (b->timing_pending)
            report_first_instruction(b);
        b->in_cpu = true;
        AccelExit why = b->accel->run(b->cpu, budget, &done);
        b->in_cpu = false;
        if (why == ACCEL_EXIT_SHUTDOWN)
            bus_request(b->bus, BUS_REQ_SHUTDOWN, 0);
        if (why == ACCEL_EXIT_HLT) {
            /* Idle until the next event: jump there on a virtual clock. */
            now = clock_now(b->clk);
            if (virtual_clock)
                clock_advance(b->clk, next > now ? next - now : 0);
            else
                sleep_until(b->clk, next);
        }
    }
}

Bus *board_bus(Board *b) { return b->bus; }
Clock *board_clock(Board *b) { return b->clk; }
Vga *board_vga(Board *b) { return b->vga; }
void board_key_event(Board *b, int keycode, bool down) { kbc_key_event(b->kbc, keycode, down); }
bool board_keyboard_idle(Board *b) { return kbc_keyboard_idle(b->kbc); }
void board_mouse_event(Board *b, int dx, int dy, int dz, unsigned buttons)
{
    kbc_mouse_event(b->kbc, dx, dy, dz, buttons);
}
void board_serial_input(Board *b, int port, const uint8_t *data, size_t len)
{
    if (port >= 0 && port < CFG_SERIALS && b->uart[port])
        uart_receive(b->uart[port], data, len);
}
void board_pause(Board *b, bool paused) { clock_pause(b->clk, paused); }
