/* tests/unit/config_test.c -- INI loading: every error case names file, line,
 * section and key; all errors are reported at once. */
#include <stdlib.h>
#include <unistd.h>

#include "../../chipset/config.h"
#include "test.h"

static const char *const models[] = {"486", "pentium", "pentium3", NULL};
static VmConfig cfg; /* large: keep it off the stack */

static int load(const char *text, VsxError *err)
{
    memset(err, 0, sizeof *err);
    const char *path = test_tmpfile("vm.ini", text);
    return config_load(&cfg, path, NULL, NULL, models, err);
}

/* The message contains "vm.ini:LINE: [section] key: " followed by `what`. */
static int has_error(const VsxError *err, int line, const char *section_key, const char *what)
{
    char needle[256];
    snprintf(needle, sizeof needle, "vm.ini:%d: %s: %s", line, section_key, what);
    return strstr(err->msg, needle) != NULL;
}

static int count_lines(const char *s)
{
    int n = *s ? 1 : 0;
    for (; *s; s++)
        if (*s == '\n' && s[1])
            n++;
    return n;
}

TEST(config, defaults_and_relative_paths)
{
    VsxError err;
    test_tmpfile("disk.img", "x");
    CHECK_EQ(load("[vm]\nmemory = 64M\n[ide0.master]\nimage = disk.img\n", &err), 0);
    CHECK_STR(err.msg, "");
    CHECK_EQ(cfg.memory, 64u << 20);
    CHECK_STR(cfg.cpu, "pentium3");
    CHECK_EQ(cfg.accel, ACCEL_AUTO);
    CHECK_STR(cfg.name, "vm");
    CHECK_EQ(cfg.ide[0].type, DRIVE_DISK);
    CHECK_EQ(cfg.ide[1].type, DRIVE_NONE);
    char want[CFG_PATH_MAX];
    snprintf(want, sizeof want, "%s/disk.img", test_tmpdir());
    CHECK_STR(cfg.ide[0].image, want);
    CHECK_EQ(cfg.vram, 16u << 20);
    CHECK_EQ(cfg.nboot, 3);
    CHECK_EQ(cfg.boot[0], BOOT_DISK);
}

TEST(config, every_value_kind_parses)
{
    VsxError err;
    CHECK_EQ(load("[vm]\nname = Test box\nmemory = 1G\ncpu = 486\naccel = interp\n"
                  "boot = cdrom, floppy\nshutdown = stop\ndeterministic = yes\n"
                  "[ide1.master]\ntype = cdrom\n"
                  "[serial0]\nmode = file:com1.log\n[serial1]\nmode = stdio\n"
                  "[display]\nvram = 32M\ninteger_scale = on\n"
                  "[kernel]\ncmdline = console=ttyS0 quiet\n",
                  &err),
             -1); /* cmdline without a kernel image */
    CHECK(has_error(&err, 19, "[kernel] cmdline", "needs a kernel image"));
    CHECK_EQ(count_lines(err.msg), 1);
    CHECK_STR(cfg.name, "Test box");
    CHECK_EQ(cfg.memory, 1ull << 30);
    CHECK_STR(cfg.cpu, "486");
    CHECK_EQ(cfg.accel, ACCEL_INTERP);
    CHECK_EQ(cfg.nboot, 2);
    CHECK_EQ(cfg.boot[1], BOOT_FLOPPY);
    CHECK_EQ(cfg.shutdown, SHUTDOWN_STOP);
    CHECK(cfg.deterministic);
    CHECK_EQ(cfg.ide[2].type, DRIVE_CDROM);
    CHECK_EQ(cfg.serial[0].mode, SERIAL_FILE);
    CHECK(strstr(cfg.serial[0].path, "/com1.log") != NULL);
    CHECK_EQ(cfg.serial[1].mode, SERIAL_STDIO);
    CHECK_EQ(cfg.vram, 32u << 20);
    CHECK(cfg.integer_scale);
}

TEST(config, all_errors_reported_at_once)
{
    VsxError err;
    int rc = load("[vm]\n"                    /* 1 */
                  "memory = 512K\n"           /* 2: under 1M */
                  "colour = blue\n"           /* 3: unknown key */
                  "cpu = z80\n"               /* 4: unknown model */
                  "memory = 2M\n"             /* 5: duplicate */
                  "[gpu]\n"                   /* 6: unknown section */
                  "x = 1\n"                   /* 7: (inside unknown section: not repeated) */
                  "[ide0.master]\n"           /* 8 */
                  "image = missing.vhd\n"     /* 9: missing file */
                  "readonly = maybe\n"        /* 10: bad bool */
                  "[display]\n"               /* 11 */
                  "vram = lots\n"             /* 12: bad size */
                  "this line has no equals\n" /* 13: syntax */
                  "[vm]\n"                    /* 14 */
                  "accel = warp\n",           /* 15: bad enum */
                  &err);
    CHECK_EQ(rc, -1);
    CHECK(has_error(&err, 2, "[vm] memory", "512K is under the 1M minimum"));
    CHECK(has_error(&err, 3, "[vm] colour", "unknown key"));
    CHECK(has_error(&err, 4, "[vm] cpu", "unknown CPU model 'z80'"));
    CHECK(has_error(&err, 5, "[vm] memory", "duplicate key (first set on line 2)"));
    CHECK(strstr(err.msg, "vm.ini:6: [gpu]: unknown section") != NULL);
    CHECK(has_error(&err, 10, "[ide0.master] readonly", "'maybe' is not yes or no"));
    CHECK(has_error(&err, 12, "[display] vram", "'lots' is not a size"));
    CHECK(strstr(err.msg, "vm.ini:13: expected 'key = value'") != NULL);
    CHECK(has_error(&err, 15, "[vm] accel", "'warp' is not one of: auto | kvm | interp"));
    /* The missing image is a validation error: reported only once the file
     * parsed cleanly, so here we have exactly the nine above. */
    CHECK_EQ(count_lines(err.msg), 9);
}

TEST(config, missing_images_named_with_their_line)
{
    VsxError err;
    int rc = load("[vm]\nmemory = 32M\n\n[ide0.master]\nimage = missing.vhd\n"
                  "[floppy0]\nimage = gone.img\n[kernel]\nimage = nokernel\n",
                  &err);
    CHECK_EQ(rc, -1);
    CHECK(has_error(&err, 5, "[ide0.master] image", "cannot open"));
    CHECK(strstr(err.msg, "missing.vhd': No such file or directory") != NULL);
    CHECK(has_error(&err, 7, "[floppy0] image", "cannot open"));
    CHECK(has_error(&err, 9, "[kernel] image", "cannot open"));
    CHECK_EQ(count_lines(err.msg), 3);
}

TEST(config, memory_bounds)
{
    VsxError err;
    CHECK_EQ(load("[vm]\nmemory = 1M\n", &err), 0);
    CHECK_EQ(load("[vm]\nmemory = 100000G\n", &err), -1);
    CHECK(has_error(&err, 2, "[vm] memory", "100000G is more than this host's"));
    CHECK_EQ(load("[vm]\nmemory = 256\n", &err), -1);
    CHECK(has_error(&err, 2, "[vm] memory", "256 is under the 1M minimum (did you mean a size in M?)"));
    CHECK_EQ(load("[vm]\nmemory = -5M\n", &err), -1);
    CHECK(has_error(&err, 2, "[vm] memory", "'-5M' is not a size"));
}

TEST(config, undo_rules_and_boot_list)
{
    VsxError err;
    test_tmpfile("cd.iso", "x");
    CHECK_EQ(load("[ide1.master]\ntype = cdrom\nimage = cd.iso\nundo = yes\n"
                  "[vm]\nboot = disk, disk\n",
                  &err),
             -1);
    CHECK(has_error(&err, 6, "[vm] boot", "'disk' is listed twice"));
    CHECK_EQ(load("[ide1.master]\ntype = cdrom\nimage = cd.iso\nundo = yes\n", &err), -1);
    CHECK(has_error(&err, 4, "[ide1.master] undo", "undo disks are for hard disks"));
}

TEST(config, overrides_from_the_command_line)
{
    VsxError err;
    CHECK_EQ(load("[vm]\nmemory = 64M\n", &err), 0);
    CHECK_EQ(config_override(&cfg, "vm.memory=128M", models, &err), 0);
    CHECK_EQ(cfg.memory, 128u << 20);
    CHECK_EQ(config_override(&cfg, "serial0.mode=stdio", models, &err), 0);
    CHECK_EQ(cfg.serial[0].mode, SERIAL_STDIO);
    CHECK_EQ(config_override(&cfg, "vm.bogus=1", models, &err), -1);
    CHECK(strstr(err.msg, "[vm] bogus: unknown key") != NULL);
    CHECK_EQ(config_override(&cfg, "nonsense", models, &err), -1);
}

TEST(config, text_config_and_print)
{
    VsxError err = {{0}};
    CHECK_EQ(config_load(&cfg, "(built-in)", "[vm]\nname = Welcome\nmemory = 32M\n", "/tmp", models, &err), 0);
    CHECK_STR(cfg.name, "Welcome");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_print(&cfg, f);
    fclose(f);
    CHECK(strstr(buf, "memory         = 32M") != NULL);
    CHECK(strstr(buf, "[display]") != NULL);
    free(buf);
}
