/*
 * tests/bin/cpurun.c -- runs flat binaries on a bare vsx CPU + RAM (no board).
 *
 *   cpurun [--model M] [--ram MB] [--bios FILE] [--load FILE@ADDR]...
 *          [--entry SEG:OFF] [--max-insns N] [--quiet]
 *
 * Port 0xE9 is a debug console (bytes go to stdout); a write of v to port
 * 0xF4 ends the run with exit status (v << 1) | 1, like QEMU's isa-debug-exit.
 * On exit the instruction count and MIPS go to stderr.  Exit status 2 means
 * the budget ran out, 3 a triple fault, 4 HLT with interrupts off (nothing
 * can wake the CPU), 1 a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "chipset/chipset.h"
#include "cpu/cpu.h"

typedef struct Run {
    int exit_status;
    bool exited;
} Run;

static uint32_t port_read(void *dev, uint32_t off, unsigned width)
{
    (void)dev;
    (void)off;
    (void)width;
    return 0xFFFFFFFFu;
}

static void debugcon_write(void *dev, uint32_t off, uint32_t v, unsigned width)
{
    (void)dev;
    (void)off;
    (void)width;
    putchar((int)(v & 0xFF));
    fflush(stdout);
}

static void exit_write(void *dev, uint32_t off, uint32_t v, unsigned width)
{
    Run *r = dev;
    (void)off;
    (void)width;
    r->exit_status = (int)((v << 1) | 1) & 0xFF;
    r->exited = true;
}

static const IoOps debugcon_ops = { port_read, debugcon_write, IO_W8 | IO_W16 | IO_W32, "debugcon" };
static const IoOps exit_ops = { port_read, exit_write, IO_W8 | IO_W16 | IO_W32, "exit" };

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0)
            break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: cpurun [--model M] [--ram MB] [--bios FILE] [--load FILE@ADDR]...\n"
                    "              [--entry SEG:OFF] [--max-insns N] [--quiet]\n");
    return 1;
}

int main(int argc, char **argv)
{
    const char *model = "pentium", *bios = NULL;
    const char *loads[32];
    int nloads = 0;
    uint64_t ram_mb = 32, max_insns = 1000000000ull;
    long entry_seg = -1, entry_off = 0;
    bool quiet = false;
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        const char *v = k + 1 < argc ? argv[k + 1] : NULL;
        if (!strcmp(a, "--model") && v) {
            model = v, k++;
        } else if (!strcmp(a, "--ram") && v) {
            ram_mb = strtoull(v, NULL, 0), k++;
        } else if (!strcmp(a, "--bios") && v) {
            bios = v, k++;
        } else if (!strcmp(a, "--load") && v && nloads < 32) {
            loads[nloads++] = v, k++;
        } else if (!strcmp(a, "--entry") && v) {
            if (sscanf(v, "%lx:%lx", &entry_seg, &entry_off) != 2) /* SEG:OFF in hex */
                return usage();
            k++;
        } else if (!strcmp(a, "--max-insns") && v) {
            max_insns = strtoull(v, NULL, 0), k++;
        } else if (!strcmp(a, "--quiet")) {
            quiet = true;
        } else {
            return usage();
        }
    }
    VsxError err = { { 0 } };
    Bus *bus = bus_create(ram_mb << 20, &err);
    if (!bus) {
        fprintf(stderr, "cpurun: %s\n", err.msg);
        return 1;
    }
    Clock *clk = clock_create(CLOCK_HOST);
    Run run = { 0, false };
    bus_map_io(bus, 0xE9, 1, &debugcon_ops, &run);
    bus_map_io(bus, 0xF4, 1, &exit_ops, &run);
    uint8_t *bios_img = NULL; /* the bus keeps a pointer to it: freed at the end */
    if (bios) {
        size_t len;
        bios_img = read_file(bios, &len);
        if (!bios_img || bus_set_bios(bus, bios_img, len) < 0) {
            fprintf(stderr, "cpurun: cannot use BIOS %s\n", bios);
            return 1;
        }
    }
    for (int k = 0; k < nloads; k++) {
        char path[512];
        const char *at = strrchr(loads[k], '@');
        if (!at || (size_t)(at - loads[k]) >= sizeof path)
            return usage();
        memcpy(path, loads[k], (size_t)(at - loads[k]));
        path[at - loads[k]] = 0;
        uint64_t addr = strtoull(at + 1, NULL, 0);
        size_t len;
        uint8_t *img = read_file(path, &len);
        if (!img) {
            fprintf(stderr, "cpurun: cannot read %s: %s\n", path, strerror(errno));
            return 1;
        }
        bus_dma_write(bus, addr, img, len);
        free(img);
    }
    Cpu *cpu = cpu_create(bus, clk, model, &err);
    if (!cpu) {
        fprintf(stderr, "cpurun: %s\n", err.msg);
        return 1;
    }
    if (entry_seg >= 0) {
        CpuRegs r;
        cpu_get_regs(cpu, &r);
        r.seg[SEG_CS].selector = (uint16_t)entry_seg;
        r.seg[SEG_CS].base = (uint64_t)entry_seg << 4;
        r.rip = (uint64_t)entry_off;
        cpu_set_regs(cpu, &r);
    }
    double t0 = now_s();
    uint64_t total = 0;
    int status = 2;
    while (total < max_insns) {
        uint64_t ran = 0, slice = max_insns - total < 1000000 ? max_insns - total : 1000000;
        CpuExit why = cpu_run(cpu, slice, &ran);
        total += ran;
        int st;
        BusRequest req = bus_take_request(bus, &st);
        if (run.exited || req == BUS_REQ_EXIT) {
            status = run.exited ? run.exit_status : st;
            break;
        }
        if (why == CPU_EXIT_SHUTDOWN || req == BUS_REQ_SHUTDOWN) {
            fprintf(stderr, "cpurun: triple fault\n");
            status = 3;
            break;
        }
        if (req == BUS_REQ_RESET || req == BUS_REQ_POWEROFF) {
            status = req == BUS_REQ_POWEROFF ? 0 : 5;
            break;
        }
        if (why == CPU_EXIT_HLT) {
            CpuRegs r;
            cpu_get_regs(cpu, &r);
            fprintf(stderr, "cpurun: HLT at %04x:%08llx (nothing to wake the CPU)\n",
                    (unsigned)r.seg[SEG_CS].selector, (unsigned long long)r.rip);
            status = 4;
            break;
        }
    }
    double dt = now_s() - t0;
    if (!quiet) {
        CpuRegs r;
        cpu_get_regs(cpu, &r);
        fprintf(stderr, "cpurun: %llu instructions, %.3f s, %.1f MIPS, stop at %04x:%08llx\n",
                (unsigned long long)total, dt, dt > 0 ? total / dt / 1e6 : 0.0,
                (unsigned)r.seg[SEG_CS].selector, (unsigned long long)r.rip);
    }
    cpu_destroy(cpu);
    clock_destroy(clk);
    bus_destroy(bus);
    free(bios_img);
    return status;
}
