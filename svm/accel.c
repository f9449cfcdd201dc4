/*
 * svm/accel.c -- backend selection, and the interpreter wrapped as a backend.
 *
 * DESIGN.md: `accel = auto` picks KVM when /dev/kvm opens and falls back to
 * the interpreter with a one-line notice; `interp` forces the interpreter;
 * `kvm` fails clearly when unavailable.  This build has no KVM backend yet
 * (it is developed where /dev/kvm exists), so `kvm` always fails with that
 * reason and `auto` says so once when a /dev/kvm is there to be used.
 */
#include <fcntl.h>
#include <unistd.h>

#include "../chipset/config.h"
#include "../cpu/cpu.h"
#include "svm.h"

static void *interp_create(Bus *bus, Clock *clk, const char *model, VsxError *err)
{
    return cpu_create(bus, clk, model, err);
}
static void interp_destroy(void *cpu) { cpu_destroy(cpu); }
static void interp_reset(void *cpu) { cpu_reset(cpu); }
static AccelExit interp_run(void *cpu, uint64_t max_insns, uint64_t *executed)
{
    switch (cpu_run(cpu, max_insns, executed)) {
    case CPU_EXIT_HLT: return ACCEL_EXIT_HLT;
    case CPU_EXIT_STOP: return ACCEL_EXIT_STOP;
    case CPU_EXIT_SHUTDOWN: return ACCEL_EXIT_SHUTDOWN;
    default: return ACCEL_EXIT_BUDGET;
    }
}
static void interp_save(void *cpu, StateStream *s) { cpu_save(cpu, s); }
static int interp_load(void *cpu, StateStream *s) { return cpu_load(cpu, s); }
static uint64_t interp_icount(void *cpu) { return cpu_icount(cpu); }

const AccelOps accel_interp = {
    "interp", interp_create, interp_destroy, interp_reset, interp_run, interp_save, interp_load, interp_icount,
};

static bool kvm_device_opens(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

const AccelOps *accel_select(int accel, const char *vm_file, VsxError *err)
{
    switch (accel) {
    case ACCEL_KVM:
        vsx_errorf(err, "%s: [vm] accel: kvm was requested, but this vsx has no KVM backend yet%s; "
                        "use accel = auto or interp", vm_file,
                   kvm_device_opens() ? "" : " (and /dev/kvm cannot be opened here)");
        return NULL;
    case ACCEL_AUTO:
        if (kvm_device_opens())
            fprintf(stderr, "vsx: /dev/kvm is available, but this build has no KVM backend yet; "
                            "using the interpreter\n");
        return &accel_interp;
    default:
        return &accel_interp;
    }
}
