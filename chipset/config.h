/*
 * chipset/config.h -- a VM's configuration: INI file (inih) -> VmConfig.
 * The keys are defined once in chipset/config.def.  Devices never see the INI:
 * board.c hands them typed values from a validated VmConfig.
 */
#ifndef VSX_CHIPSET_CONFIG_H
#define VSX_CHIPSET_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "chipset.h"

#define CFG_PATH_MAX 1024

enum { ACCEL_AUTO, ACCEL_KVM, ACCEL_INTERP };
enum { SHUTDOWN_RESET, SHUTDOWN_STOP };
enum { DRIVE_NONE, DRIVE_DISK, DRIVE_CDROM, DRIVE_FLOPPY };
enum { UNDO_NO, UNDO_ASK, UNDO_DISCARD, UNDO_COMMIT, UNDO_KEEP };
enum { SERIAL_NONE, SERIAL_STDIO, SERIAL_FILE };
enum { ADAPTER_STD, ADAPTER_NONE };
enum { BOOT_DISK, BOOT_CDROM, BOOT_FLOPPY, BOOT_NETWORK };

#define CFG_FLOPPIES 2
#define CFG_IDE_DRIVES 4 /* ide0.master, ide0.slave, ide1.master, ide1.slave */
#define CFG_SERIALS 4
#define CFG_BOOT_MAX 4

typedef struct DriveConfig {
    int type; /* DRIVE_*; DRIVE_NONE when the section is absent */
    char image[CFG_PATH_MAX];
    bool readonly;
    int undo;
    char undo_file[CFG_PATH_MAX];
    int line; /* INI line of the section, for later errors (0: none) */
} DriveConfig;

typedef struct SerialConfig {
    int mode;
    char path[CFG_PATH_MAX]; /* SERIAL_FILE */
} SerialConfig;

struct VmConfig {
    char file[CFG_PATH_MAX]; /* the INI file, or "(built-in)" */
    char dir[CFG_PATH_MAX];  /* paths in the file are relative to this */

    char name[128];
    uint64_t memory;
    char cpu[32];
    int accel;
    int boot[CFG_BOOT_MAX];
    int nboot;
    bool boot_menu;
    char bios[CFG_PATH_MAX], vgabios[CFG_PATH_MAX];
    int shutdown;
    bool deterministic;

    DriveConfig floppy[CFG_FLOPPIES];
    DriveConfig ide[CFG_IDE_DRIVES];

    char kernel[CFG_PATH_MAX], initrd[CFG_PATH_MAX];
    char cmdline[1024];

    SerialConfig serial[CFG_SERIALS];

    int display_adapter;
    uint64_t vram;
    bool fullscreen, integer_scale;
    char screenshot_dir[CFG_PATH_MAX];

    char cmos_file[CFG_PATH_MAX];

    /* INI line that set each key (per section instance), for error messages. */
    int key_line[48][4];
};

/* Options that only the command line sets (not part of the INI). */
typedef struct RunOptions {
    bool headless;
    double timeout_s;
    char debugcon[CFG_PATH_MAX];
    char screenshot[CFG_PATH_MAX];
    char screen_text[CFG_PATH_MAX];
    char keys[4096];
    char keys_file[CFG_PATH_MAX];
    bool debug_post;
    bool debug_timing; /* --debug timing: stderr line at the first guest instruction */
    struct { uint16_t port; char path[CFG_PATH_MAX]; } port_log[16];
    int nport_log;
} RunOptions;

/* Loads and validates an INI file (path) or INI text (text != NULL; path is
 * then only the name used in messages and dir the base for relative paths).
 * cpu_models: the valid model names.  All problems are reported at once in
 * err, each as "FILE:LINE: [section] key: what is wrong".  Returns 0 or -1. */
int config_load(VmConfig *cfg, const char *path, const char *text, const char *dir,
                const char *const *cpu_models, VsxError *err);
/* Applies "section.key=value" (a command-line override) after loading; it is
 * validated like an INI line, with "command line" as the location. */
int config_override(VmConfig *cfg, const char *assignment, const char *const *cpu_models,
                    VsxError *err);
/* Re-checks everything that depends on more than one key or on the file
 * system (images exist, memory fits the host...).  Returns 0 or -1. */
int config_validate(const VmConfig *cfg, const char *const *cpu_models, VsxError *err);
/* Prints the resolved machine (`vsx check`). */
void config_print(const VmConfig *cfg, FILE *f);
/* Prints the key reference (`vsx --help-config`, README). */
void config_print_reference(FILE *f);
const char *config_drive_name(int index); /* "ide0.master" ... */
uint64_t config_host_memory(void);

#endif
