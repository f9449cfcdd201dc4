/*
 * main.c -- the vsx command line: runs a VM (windowed or headless), checks a
 * VM file, and dispatches the offline VHD tools.  The only place that turns
 * errors into messages and exit statuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chipset/config.h"
#include "cpu/cpu.h"
#include "disk/disk.h"
#include "svm/svm.h"
#include "ui/ui.h"

#define VSX_VERSION "0.1.0"

/* Exit statuses (also in --help and README). */
enum {
    EXIT_OK = 0,         /* the guest powered off, or the window was closed */
    EXIT_CONFIG = 1,     /* bad command line or VM file: nothing started */
    EXIT_START = 2,      /* the VM could not start (image, firmware, memory) */
    EXIT_TRIPLE = 4,     /* triple fault with [vm] shutdown = stop */
    EXIT_TIMEOUT = 124,  /* --timeout reached */
};

static const char usage_text[] =
    "usage: vsx [VM-FILE]                  run a VM in a window (no file: the built-in welcome VM)\n"
    "       vsx run [VM-FILE] [OPTIONS]     run a VM\n"
    "       vsx check VM-FILE [OPTIONS]     validate a VM file and print the resolved machine\n"
    "       vsx vhd COMMAND ...             offline VHD tools (vsx vhd help)\n"
    "       vsx --version | --help | --help-config\n"
    "\n"
    "Options (override the VM file):\n"
    "  --headless             no window; the screen is still rendered for --screenshot/--screen-text\n"
    "  --timeout SECONDS      stop after this much (virtual) time, exit status 124\n"
    "  --serial MODE          COM1: stdio | file:PATH | none\n"
    "  --debugcon FILE        guest writes to ports 0xE9 and 0x402 go to FILE (- for stdout)\n"
    "  --deterministic        virtual time follows executed instructions: runs repeat exactly\n"
    "  --memory SIZE          guest RAM, e.g. 256M\n"
    "  --cpu MODEL            CPU model\n"
    "  --accel auto|kvm|interp\n"
    "  --boot LIST            boot order, e.g. cdrom,disk\n"
    "  --bios FILE            system BIOS image instead of the embedded SeaBIOS\n"
    "  --fda FILE, --hda FILE, --hdb FILE, --cdrom FILE   attach images\n"
    "  --kernel FILE --initrd FILE --append CMDLINE       direct kernel boot\n"
    "  --set SECTION.KEY=VALUE  any VM-file key, e.g. --set display.vram=32M\n"
    "  --screenshot FILE      write a PNG of the screen at exit\n"
    "  --screen-text FILE     write the text-mode screen (UTF-8) at exit; also refreshed\n"
    "                         20 times a second (wall clock) while the VM runs\n"
    "  --keys SCRIPT          scripted keys, e.g. \"2s:f12 3s:\\\"boot\\\"+ret\" (see README)\n"
    "  --keys-file FILE       the same, from a file\n"
    "  --port-log PORT=FILE   append every byte the guest writes to I/O PORT to FILE (repeatable)\n"
    "  --debug post           show POST codes written to port 0x80 on stderr\n"
    "  --debug timing         when the first guest instruction runs, print on stderr the\n"
    "                         host's real time and the ms since the process started\n"
    "\n"
    "Exit status: 0 guest powered off or window closed; 1 bad command line or VM file;\n"
    "2 the VM could not start; 4 triple fault with [vm] shutdown = stop; 124 --timeout;\n"
    "130/143 interrupted by SIGINT/SIGTERM; (v << 1) | 1 when the guest writes v to the\n"
    "exit port 0xF4 (as QEMU's isa-debug-exit).\n";

/* The built-in welcome VM (`vsx` with no argument). */
static const char default_vm_ini[] =
    "[vm]\n"
    "name = Welcome to vsx\n"
    "memory = 32M\n"
    "boot = floppy\n"
    "[floppy0]\n"
    "image = builtin:welcome\n"
    "readonly = yes\n";

/* ---------------------------------------------------------- command line */

typedef struct Cli {
    const char *vm_file;
    bool check_only;
    RunOptions run;
    char *overrides[64];
    int noverrides;
    bool default_vm;
} Cli;

static int add_override(Cli *cli, const char *fmt, const char *value)
{
    if (cli->noverrides >= 64)
        return -1;
    char *s;
    if (asprintf(&s, fmt, value) < 0)
        return -1;
    cli->overrides[cli->noverrides++] = s;
    return 0;
}

static int copy_opt(char *dst, size_t size, const char *value, const char *opt)
{
    if (strlen(value) >= size) {
        fprintf(stderr, "vsx: %s: value too long\n", opt);
        return -1;
    }
    strcpy(dst, value);
    return 0;
}

/* Options that map onto VM-file keys. */
static const struct {
    const char *opt, *key;
} key_options[] = {
    {"--serial", "serial0.mode=%s"}, {"--memory", "vm.memory=%s"},    {"--cpu", "vm.cpu=%s"},
    {"--accel", "vm.accel=%s"},      {"--boot", "vm.boot=%s"},        {"--bios", "vm.bios=%s"},
    {"--vgabios", "vm.vgabios=%s"},  {"--fda", "floppy0.image=%s"},   {"--fdb", "floppy1.image=%s"},
    {"--hda", "ide0.master.image=%s"}, {"--hdb", "ide0.slave.image=%s"},
    {"--kernel", "kernel.image=%s"}, {"--initrd", "kernel.initrd=%s"}, {"--append", "kernel.cmdline=%s"},
    {"--set", "%s"},
};

static int parse_option(Cli *cli, int argc, char **argv, int *i)
{
    const char *opt = argv[*i];
    RunOptions *run = &cli->run;
    if (!strcmp(opt, "--headless"))
        return run->headless = true, 0;
    if (!strcmp(opt, "--deterministic"))
        return add_override(cli, "%s", "vm.deterministic=yes");
    if (*i + 1 >= argc) {
        fprintf(stderr, "vsx: %s needs a value (see vsx --help)\n", opt);
        return -1;
    }
    const char *val = argv[++*i];
    for (size_t k = 0; k < sizeof key_options / sizeof key_options[0]; k++)
        if (!strcmp(opt, key_options[k].opt))
            return add_override(cli, key_options[k].key, val);
    if (!strcmp(opt, "--cdrom")) {
        add_override(cli, "%s", "ide1.master.type=cdrom");
        return add_override(cli, "ide1.master.image=%s", val);
    }
    if (!strcmp(opt, "--timeout")) {
        char *end;
        run->timeout_s = strtod(val, &end);
        if (*end || run->timeout_s <= 0) {
            fprintf(stderr, "vsx: --timeout: '%s' is not a positive number of seconds\n", val);
            return -1;
        }
        return 0;
    }
    if (!strcmp(opt, "--debugcon"))
        return copy_opt(run->debugcon, sizeof run->debugcon, val, opt);
    if (!strcmp(opt, "--screenshot"))
        return copy_opt(run->screenshot, sizeof run->screenshot, val, opt);
    if (!strcmp(opt, "--screen-text"))
        return copy_opt(run->screen_text, sizeof run->screen_text, val, opt);
    if (!strcmp(opt, "--keys"))
        return copy_opt(run->keys, sizeof run->keys, val, opt);
    if (!strcmp(opt, "--keys-file"))
        return copy_opt(run->keys_file, sizeof run->keys_file, val, opt);
    if (!strcmp(opt, "--debug")) {
        if (!strcmp(val, "post"))
            return run->debug_post = true, 0;
        if (!strcmp(val, "timing"))
            return run->debug_timing = true, 0;
        fprintf(stderr, "vsx: --debug: unknown topic '%s' (topics: post, timing)\n", val);
        return -1;
    }
    if (!strcmp(opt, "--port-log")) {
        char *end;
        unsigned long port = strtoul(val, &end, 0);
        if (*end != '=' || port > 0xFFFF || !end[1] || run->nport_log >= 16) {
            fprintf(stderr, "vsx: --port-log: '%s' is not PORT=FILE\n", val);
            return -1;
        }
        run->port_log[run->nport_log].port = (uint16_t)port;
        return copy_opt(run->port_log[run->nport_log++].path, CFG_PATH_MAX, end + 1, opt);
    }
    fprintf(stderr, "vsx: unknown option '%s' (see vsx --help)\n", opt);
    return -1;
}

static int parse_args(Cli *cli, int argc, char **argv, int start)
{
    for (int i = start; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) {
            if (parse_option(cli, argc, argv, &i))
                return -1;
        } else if (!cli->vm_file) {
            cli->vm_file = argv[i];
        } else {
            fprintf(stderr, "vsx: one VM file at a time ('%s' and '%s')\n", cli->vm_file, argv[i]);
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ run */

static void report_error(const char *msg, bool windowed)
{
    fprintf(stderr, "%s\n", msg);
    if (windowed)
        ui_error_box("vsx could not start the VM", msg);
}

static int load_config(Cli *cli, VmConfig *cfg, VsxError *err)
{
    const char *const *models = cpu_model_names();
    int rc;
    if (cli->vm_file) {
        rc = config_load(cfg, cli->vm_file, NULL, NULL, models, err);
    } else {
        char cwd[CFG_PATH_MAX];
        if (!getcwd(cwd, sizeof cwd))
            strcpy(cwd, ".");
        rc = config_load(cfg, "(built-in)", cli->default_vm ? default_vm_ini : "", cwd, models, err);
        if (!cli->default_vm)
            strcpy(cfg->name, "vsx");
    }
    if (rc)
        return -1;
    for (int i = 0; i < cli->noverrides; i++)
        if (config_override(cfg, cli->overrides[i], models, err))
            return -1;
    return cli->noverrides ? config_validate(cfg, models, err) : 0;
}

static int run_vm(Cli *cli)
{
    static VmConfig cfg; /* large; one per process */
    static VsxError err;
    bool windowed = !cli->run.headless && !cli->check_only;
    if (load_config(cli, &cfg, &err)) {
        report_error(err.msg, windowed);
        return EXIT_CONFIG;
    }
    const AccelOps *accel = accel_select(cfg.accel, cfg.file, &err);
    if (!accel) {
        report_error(err.msg, windowed);
        return EXIT_CONFIG;
    }
    if (cli->check_only) {
        config_print(&cfg, stdout);
        return EXIT_OK;
    }
    Board *board = board_create(&cfg, &cli->run, accel, &err);
    if (!board) {
        report_error(err.msg, windowed);
        return EXIT_START;
    }
    UiOptions ui = {
        .title = cfg.name,
        .headless = cli->run.headless,
        .timeout_s = cli->run.timeout_s,
        .screenshot_path = cli->run.screenshot[0] ? cli->run.screenshot : NULL,
        .screen_text_path = cli->run.screen_text[0] ? cli->run.screen_text : NULL,
        .keys = cli->run.keys[0] ? cli->run.keys : NULL,
        .keys_file = cli->run.keys_file[0] ? cli->run.keys_file : NULL,
        .screenshot_dir = cfg.screenshot_dir[0] ? cfg.screenshot_dir : cfg.dir,
        .fullscreen = cfg.fullscreen,
        .integer_scale = cfg.integer_scale,
        .deterministic = cfg.deterministic,
    };
    int status = EXIT_OK;
    if (ui_run(board, &ui, &status) != 0)
        status = EXIT_START;
    if (!cli->run.headless && board_has_undo_prompt(board))
        board_set_undo_choice(board, ui_ask_undo(cfg.name));
    board_destroy(board);
    return status;
}

int main(int argc, char **argv)
{
    static Cli cli;
    if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
        printf("vsx %s\n", VSX_VERSION);
        return EXIT_OK;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        fputs(usage_text, stdout);
        printf("\nCPU models:");
        for (const char *const *m = cpu_model_names(); *m; m++)
            printf(" %s", *m);
        printf("\n");
        return EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "--help-config")) {
        config_print_reference(stdout);
        return EXIT_OK;
    }
    if (argc >= 2 && !strcmp(argv[1], "vhd"))
        return vhd_tool_main(argc - 2, argv + 2);
    int start = 1;
    if (argc >= 2 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "check"))) {
        cli.check_only = !strcmp(argv[1], "check");
        start = 2;
    }
    if (parse_args(&cli, argc, argv, start)) {
        fprintf(stderr, "(vsx --help lists the options)\n");
        return EXIT_CONFIG;
    }
    if (cli.check_only && !cli.vm_file) {
        fprintf(stderr, "vsx check: which VM file? (vsx check vm.ini)\n");
        return EXIT_CONFIG;
    }
    /* `vsx` alone (a double-click on the program) boots the welcome VM. */
    cli.default_vm = argc == 1;
    return run_vm(&cli);
}
