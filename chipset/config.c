/*
 * chipset/config.c -- INI file -> validated VmConfig, driven by config.def.
 *
 * inih does the tokenising; a line-counting reader in front of it gives each
 * key its line number, catches section headers (so unknown or empty sections
 * are reported too), lines inih cannot hold, and syntax errors.  Every
 * problem is collected, so the user sees all of them in one go.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "config.h"

enum { K_VM, K_FLOPPY, K_IDE, K_KERNEL, K_SERIAL, K_DISPLAY, K_CMOS, K_COUNT };
enum {
    T_STR, T_PATH, T_SIZE, T_BOOL, T_CPU, T_BOOT, T_SERIAL_MODE,
    T_ENUM_ACCEL, T_ENUM_SHUTDOWN, T_ENUM_FLOPPY, T_ENUM_DRIVE, T_ENUM_UNDO, T_ENUM_ADAPTER,
};

typedef struct KeyDef {
    int kind;
    const char *key;
    int type;
    size_t offset, size;
    const char *def, *help;
} KeyDef;

#define OFF_VM(f) offsetof(VmConfig, f)
#define OFF_KERNEL(f) offsetof(VmConfig, f)
#define OFF_DISPLAY(f) offsetof(VmConfig, f)
#define OFF_CMOS(f) offsetof(VmConfig, f)
#define OFF_FLOPPY(f) offsetof(DriveConfig, f)
#define OFF_IDE(f) offsetof(DriveConfig, f)
#define OFF_SERIAL(f) offsetof(SerialConfig, f)
#define SZ_VM(f) sizeof(((VmConfig *)0)->f)
#define SZ_KERNEL(f) SZ_VM(f)
#define SZ_DISPLAY(f) SZ_VM(f)
#define SZ_CMOS(f) SZ_VM(f)
#define SZ_FLOPPY(f) sizeof(((DriveConfig *)0)->f)
#define SZ_IDE(f) SZ_FLOPPY(f)
#define SZ_SERIAL(f) sizeof(((SerialConfig *)0)->f)

static const KeyDef keys[] = {
#define KEY(kind, key, type, field, def, help) \
    {K_##kind, #key, T_##type, OFF_##kind(field), SZ_##kind(field), def, help},
#include "config.def"
#undef KEY
};
#define NKEYS ((int)(sizeof keys / sizeof keys[0]))
_Static_assert(NKEYS <= 48, "VmConfig.key_line is too small");

static const char *const section_kind_names[K_COUNT] = {
    "vm", "floppy", "ide", "kernel", "serial", "display", "cmos",
};
static const int section_instances[K_COUNT] = {1, CFG_FLOPPIES, CFG_IDE_DRIVES, 1, CFG_SERIALS, 1, 1};
static const char *const ide_names[CFG_IDE_DRIVES] = {"ide0.master", "ide0.slave", "ide1.master", "ide1.slave"};

static const char *const accel_names[] = {"auto", "kvm", "interp", NULL};
static const char *const shutdown_names[] = {"reset", "stop", NULL};
static const char *const floppy_type_names[] = {"", "", "", "floppy", NULL};
static const char *const drive_type_names[] = {"", "disk", "cdrom", NULL};
static const char *const undo_names[] = {"no", "yes", "discard", "commit", "keep", NULL};
static const char *const adapter_names[] = {"std", "none", NULL};
static const char *const boot_names[] = {"disk", "cdrom", "floppy", "network", NULL};

typedef struct Loader {
    VmConfig *cfg;
    const char *file;
    VsxError *err;
    int errors;
    const char *const *models;
    int line;
    int kind, index; /* current section; kind -1: unknown */
    char section[64];
    const char *text; /* INI text for the string reader */
    FILE *fp;
} Loader;

const char *config_drive_name(int index) { return ide_names[index & 3]; }

uint64_t config_host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : UINT64_MAX;
}

static void report(Loader *ld, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void report(Loader *ld, const char *key, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    char where[64] = "command line";
    if (ld->line)
        snprintf(where, sizeof where, "%d", ld->line);
    if (key)
        vsx_errorf(ld->err, "%s:%s: [%s] %s: %s", ld->file, where, ld->section, key, what);
    else
        vsx_errorf(ld->err, "%s:%s: %s", ld->file, where, what);
    ld->errors++;
}

/* "floppy1" -> (K_FLOPPY, 1); "ide0.slave" -> (K_IDE, 1); else -1. */
static int parse_section(const char *name, int *index)
{
    *index = 0;
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        if (!strcmp(name, ide_names[i])) {
            *index = i;
            return K_IDE;
        }
    for (int k = 0; k < K_COUNT; k++) {
        size_t n = strlen(section_kind_names[k]);
        if (k == K_IDE || strncmp(name, section_kind_names[k], n))
            continue;
        if (section_instances[k] == 1)
            return name[n] ? -1 : k;
        if (name[n] >= '0' && name[n] < '0' + section_instances[k] && !name[n + 1]) {
            *index = name[n] - '0';
            return k;
        }
    }
    return -1;
}

static void *field_ptr(VmConfig *cfg, const KeyDef *k, int index)
{
    uint8_t *base = (uint8_t *)cfg;
    if (k->kind == K_FLOPPY)
        base = (uint8_t *)&cfg->floppy[index];
    else if (k->kind == K_IDE)
        base = (uint8_t *)&cfg->ide[index];
    else if (k->kind == K_SERIAL)
        base = (uint8_t *)&cfg->serial[index];
    return base + k->offset;
}

static int lookup(const char *const *names, const char *value)
{
    for (int i = 0; names[i]; i++)
        if (names[i][0] && !strcasecmp(names[i], value))
            return i;
    return -1;
}

static void list_names(const char *const *names, char *buf, size_t len)
{
    buf[0] = 0;
    for (int i = 0; names[i]; i++) {
        if (!names[i][0])
            continue;
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", used ? " | " : "", names[i]);
    }
}

/* "256M" -> bytes.  Accepts K/M/G/T (powers of 1024), optionally "B"/"iB". */
static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || *s == '-')
        return -1;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    }
    if (shift && (!strcasecmp(end, "iB") || !strcasecmp(end, "B")))
        end += strlen(end);
    if (*end || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = {"yes", "true", "on", "1", NULL};
    static const char *const no[] = {"no", "false", "off", "0", NULL};
    if (lookup(yes, s) >= 0)
        return *out = true, 0;
    if (lookup(no, s) >= 0)
        return *out = false, 0;
    return -1;
}

static void resolve_path(const Loader *ld, const char *value, char *out, size_t size)
{
    if (!value[0] || value[0] == '/' || !strncmp(value, "builtin:", 8))
        snprintf(out, size, "%s", value);
    else
        snprintf(out, size, "%s/%s", ld->cfg->dir, value);
}

static void set_boot(Loader *ld, const char *key, const char *value, VmConfig *cfg)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", value);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
        int b = lookup(boot_names, tok);
        if (b < 0) {
            report(ld, key, "unknown boot device '%s' (use disk, cdrom, floppy, network)", tok);
            return;
        }
        for (int i = 0; i < n; i++)
            if (cfg->boot[i] == b) {
                report(ld, key, "'%s' is listed twice", tok);
                return;
            }
        if (n == CFG_BOOT_MAX) {
            report(ld, key, "too many boot devices");
            return;
        }
        cfg->boot[n++] = b;
    }
    if (!n)
        report(ld, key, "empty boot order");
    else
        cfg->nboot = n;
}

static void set_enum(Loader *ld, const char *key, const char *value, const char *const *names, int *field)
{
    int v = lookup(names, value);
    if (v < 0) {
        char all[256];
        list_names(names, all, sizeof all);
        report(ld, key, "'%s' is not one of: %s", value, all);
    } else {
        *field = v;
    }
}

static void set_size(Loader *ld, const KeyDef *k, const char *value, uint64_t *field)
{
    uint64_t v;
    if (parse_size(value, &v)) {
        report(ld, k->key, "'%s' is not a size (a number with K, M or G, e.g. 256M)", value);
        return;
    }
    if (!strcmp(k->key, "memory")) {
        uint64_t host = config_host_memory();
        if (v < (1u << 20)) {
            report(ld, k->key, "%s is under the 1M minimum%s", value,
                   v && v < 65536 ? " (did you mean a size in M?)" : "");
            return;
        }
        if (v > host) {
            report(ld, k->key, "%s is more than this host's %llu MiB of RAM", value,
                   (unsigned long long)(host >> 20));
            return;
        }
    } else if (!strcmp(k->key, "vram") && (v < (1u << 20) || v > (256u << 20) || v % (1u << 20))) {
        report(ld, k->key, "%s is out of range (1M to 256M, in whole MiB)", value);
        return;
    }
    *field = v;
}

static void set_serial_mode(Loader *ld, const char *key, const char *value, SerialConfig *sc)
{
    if (!strcasecmp(value, "stdio"))
        sc->mode = SERIAL_STDIO;
    else if (!strcasecmp(value, "none"))
        sc->mode = SERIAL_NONE;
    else if (!strncasecmp(value, "file:", 5) && value[5]) {
        sc->mode = SERIAL_FILE;
        resolve_path(ld, value + 5, sc->path, sizeof sc->path);
    } else
        report(ld, key, "'%s' is not one of: stdio | file:PATH | none", value);
}

static void set_value(Loader *ld, const KeyDef *k, int index, const char *value)
{
    VmConfig *cfg = ld->cfg;
    void *field = field_ptr(cfg, k, index);
    switch (k->type) {
    case T_STR:
        if (strlen(value) >= k->size)
            report(ld, k->key, "value is too long (at most %zu characters)", k->size - 1);
        else
            strcpy(field, value);
        break;
    case T_PATH:
        if (strlen(value) + strlen(cfg->dir) + 2 > k->size)
            report(ld, k->key, "path is too long");
        else
            resolve_path(ld, value, field, k->size);
        break;
    case T_SIZE: set_size(ld, k, value, field); break;
    case T_BOOL:
        if (parse_bool(value, field))
            report(ld, k->key, "'%s' is not yes or no", value);
        break;
    case T_CPU:
        if (lookup(ld->models, value) < 0) {
            char all[256];
            list_names(ld->models, all, sizeof all);
            report(ld, k->key, "unknown CPU model '%s' (models: %s)", value, all);
        } else
            snprintf(field, k->size, "%s", value);
        break;
    case T_BOOT: set_boot(ld, k->key, value, cfg); break;
    case T_SERIAL_MODE: set_serial_mode(ld, k->key, value, &cfg->serial[index]); break;
    case T_ENUM_ACCEL: set_enum(ld, k->key, value, accel_names, field); break;
    case T_ENUM_SHUTDOWN: set_enum(ld, k->key, value, shutdown_names, field); break;
    case T_ENUM_FLOPPY: set_enum(ld, k->key, value, floppy_type_names, field); break;
    case T_ENUM_DRIVE: set_enum(ld, k->key, value, drive_type_names, field); break;
    case T_ENUM_UNDO: set_enum(ld, k->key, value, undo_names, field); break;
    case T_ENUM_ADAPTER: set_enum(ld, k->key, value, adapter_names, field); break;
    }
}

static const KeyDef *find_key(int kind, const char *name, int *which)
{
    for (int i = 0; i < NKEYS; i++)
        if (keys[i].kind == kind && !strcasecmp(keys[i].key, name)) {
            *which = i;
            return &keys[i];
        }
    return NULL;
}

static int config_ini_handler(void *user, const char *section, const char *name, const char *value)
{
    Loader *ld = user;
    (void)section; /* the reader already tracked the section and its line */
    if (ld->kind < 0)
        return 1; /* unknown section: reported once at its header */
    int which;
    const KeyDef *k = find_key(ld->kind, name, &which);
    if (!k) {
        report(ld, name, "unknown key");
        return 1;
    }
    int *seen = &ld->cfg->key_line[which][ld->index];
    if (*seen) {
        report(ld, k->key, "duplicate key (first set on line %d)", *seen);
        return 1;
    }
    *seen = ld->line;
    set_value(ld, k, ld->index, value);
    return 1;
}

static void mark_section_present(Loader *ld)
{
    DriveConfig *d = NULL;
    if (ld->kind == K_FLOPPY)
        d = &ld->cfg->floppy[ld->index];
    else if (ld->kind == K_IDE)
        d = &ld->cfg->ide[ld->index];
    if (d && !d->line)
        d->line = ld->line;
}

/* Looks at each raw line before inih does: counts lines, tracks sections,
 * and reports what inih would silently mangle. */
static void inspect_line(Loader *ld, char *line)
{
    ld->line++;
    size_t len = strlen(line);
    const char *p = line;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p || *p == ';' || *p == '#')
        return;
    if (*p == '[') {
        const char *end = strchr(p, ']');
        if (!end) {
            snprintf(ld->section, sizeof ld->section, "?");
            ld->kind = -1;
            report(ld, NULL, "section header without ']'");
            return;
        }
        snprintf(ld->section, sizeof ld->section, "%.*s", (int)(end - p - 1), p + 1);
        ld->kind = parse_section(ld->section, &ld->index);
        if (ld->kind < 0)
            report(ld, NULL, "[%s]: unknown section (sections: vm, floppy0-1, ide0.master, ide0.slave, "
                             "ide1.master, ide1.slave, kernel, serial0-3, display, cmos)", ld->section);
        else
            mark_section_present(ld);
        return;
    }
    if (!strchr(p, '=')) {
        report(ld, NULL, "expected 'key = value' but found '%.*s'", (int)strcspn(p, "\r\n"), p);
        line[0] = 0; /* keep inih from reporting it again */
    } else if (len && line[len - 1] != '\n' && len + 1 >= INI_MAX_LINE) {
        report(ld, NULL, "line is too long (at most %d characters)", INI_MAX_LINE - 2);
    }
}

static char *read_file_line(char *str, int num, void *stream)
{
    Loader *ld = stream;
    if (!fgets(str, num, ld->fp))
        return NULL;
    inspect_line(ld, str);
    return str;
}

static char *read_text_line(char *str, int num, void *stream)
{
    Loader *ld = stream;
    if (!*ld->text)
        return NULL;
    size_t n = strcspn(ld->text, "\n");
    if (ld->text[n] == '\n')
        n++;
    if (n >= (size_t)num)
        n = (size_t)num - 1;
    memcpy(str, ld->text, n);
    str[n] = 0;
    ld->text += n;
    inspect_line(ld, str);
    return str;
}

static void apply_defaults(Loader *ld)
{
    for (int i = 0; i < NKEYS; i++)
        for (int idx = 0; idx < section_instances[keys[i].kind]; idx++)
            if (keys[i].def[0])
                set_value(ld, &keys[i], idx, keys[i].def);
}

static void default_name(VmConfig *cfg, const char *path)
{
    char tmp[CFG_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    const char *base = basename(tmp);
    snprintf(cfg->name, sizeof cfg->name, "%.*s", (int)strcspn(base, "."), base);
}

int config_load(VmConfig *cfg, const char *path, const char *text, const char *dir,
                const char *const *cpu_models, VsxError *err)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->file, sizeof cfg->file, "%s", path);
    if (dir) {
        snprintf(cfg->dir, sizeof cfg->dir, "%s", dir);
    } else {
        char tmp[CFG_PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", path);
        snprintf(cfg->dir, sizeof cfg->dir, "%s", dirname(tmp));
    }
    Loader ld = {.cfg = cfg, .file = path, .err = err, .models = cpu_models, .kind = -1};
    snprintf(ld.section, sizeof ld.section, "vm");
    ld.err = NULL; /* defaults are the table's own: nothing to report */
    apply_defaults(&ld);
    ld.err = err;
    ld.errors = 0;
    int rc;
    if (text) {
        ld.text = text;
        rc = ini_parse_stream(read_text_line, &ld, config_ini_handler, &ld);
    } else {
        ld.fp = fopen(path, "r");
        if (!ld.fp) {
            vsx_errorf(err, "%s: cannot open: %s", path, strerror(errno));
            return -1;
        }
        rc = ini_parse_stream(read_file_line, &ld, config_ini_handler, &ld);
        fclose(ld.fp);
    }
    if (rc < 0) {
        vsx_errorf(err, "%s: cannot read the file", path);
        ld.errors++;
    }
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        if (!cfg->ide[i].line)
            cfg->ide[i].type = DRIVE_NONE;
    for (int i = 0; i < CFG_FLOPPIES; i++)
        if (!cfg->floppy[i].line)
            cfg->floppy[i].type = DRIVE_NONE;
    if (!cfg->name[0])
        default_name(cfg, path);
    if (ld.errors)
        return -1;
    return config_validate(cfg, cpu_models, err);
}

int config_override(VmConfig *cfg, const char *assignment, const char *const *cpu_models, VsxError *err)
{
    Loader ld = {.cfg = cfg, .file = "vsx", .err = err, .models = cpu_models, .line = 0};
    const char *eq = strchr(assignment, '=');
    const char *dot = eq ? memrchr(assignment, '.', (size_t)(eq - assignment)) : NULL;
    if (!eq || !dot) {
        vsx_errorf(err, "vsx: command line: '%s' is not section.key=value", assignment);
        return -1;
    }
    snprintf(ld.section, sizeof ld.section, "%.*s", (int)(dot - assignment), assignment);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
    ld.kind = parse_section(ld.section, &ld.index);
    if (ld.kind < 0) {
        report(&ld, NULL, "[%s]: unknown section", ld.section);
        return -1;
    }
    int which;
    const KeyDef *k = find_key(ld.kind, name, &which);
    if (!k) {
        report(&ld, name, "unknown key");
        return -1;
    }
    /* Relative paths on the command line are relative to the current directory. */
    char saved[CFG_PATH_MAX];
    memcpy(saved, cfg->dir, sizeof saved);
    snprintf(cfg->dir, sizeof cfg->dir, ".");
    mark_section_present(&ld);
    if (ld.kind == K_IDE && cfg->ide[ld.index].type == DRIVE_NONE)
        cfg->ide[ld.index].type = DRIVE_DISK;
    if (ld.kind == K_FLOPPY)
        cfg->floppy[ld.index].type = DRIVE_FLOPPY;
    if (ld.kind == K_FLOPPY || ld.kind == K_IDE) {
        DriveConfig *d = ld.kind == K_FLOPPY ? &cfg->floppy[ld.index] : &cfg->ide[ld.index];
        if (!d->line)
            d->line = -1;
    }
    set_value(&ld, k, ld.index, eq + 1);
    cfg->key_line[which][ld.index] = -1;
    memcpy(cfg->dir, saved, sizeof saved);
    return ld.errors ? -1 : 0;
}

/* ------------------------------------------------------------ validation */

static int key_index(int kind, const char *name)
{
    int which = -1;
    find_key(kind, name, &which);
    return which;
}

static void check_file(Loader *ld, int kind, int index, const char *key, const char *path, bool need_write)
{
    if (!path[0] || !strncmp(path, "builtin:", 8))
        return;
    int which = key_index(kind, key);
    ld->line = which >= 0 ? ld->cfg->key_line[which][index] : 0;
    if (ld->line < 0)
        ld->line = 0;
    struct stat st;
    if (stat(path, &st) != 0)
        report(ld, key, "cannot open '%s': %s", path, strerror(errno));
    else if (S_ISDIR(st.st_mode))
        report(ld, key, "'%s' is a directory", path);
    else if (access(path, need_write ? R_OK | W_OK : R_OK) != 0)
        report(ld, key, "cannot %s '%s': %s", need_write ? "write" : "read", path, strerror(errno));
}

static void check_drive(Loader *ld, int kind, int index, const DriveConfig *d)
{
    if (d->type == DRIVE_NONE)
        return;
    if (kind == K_FLOPPY)
        snprintf(ld->section, sizeof ld->section, "floppy%d", index);
    else
        snprintf(ld->section, sizeof ld->section, "%s", ide_names[index]);
    ld->line = d->line > 0 ? d->line : 0;
    if (!d->image[0] && d->type != DRIVE_CDROM && kind == K_IDE) {
        report(ld, "image", "a disk needs an image");
        return;
    }
    bool write = d->type == DRIVE_DISK && !d->readonly && d->undo == UNDO_NO;
    check_file(ld, kind, index, "image", d->image, write);
    if (d->undo != UNDO_NO && d->type != DRIVE_DISK) {
        ld->line = ld->cfg->key_line[key_index(kind, "undo")][index];
        report(ld, "undo", "undo disks are for hard disks, not %s drives",
               d->type == DRIVE_CDROM ? "cdrom" : "floppy");
    }
}

int config_validate(const VmConfig *cfg, const char *const *cpu_models, VsxError *err)
{
    Loader ld = {.cfg = (VmConfig *)cfg, .file = cfg->file, .err = err, .models = cpu_models};
    for (int i = 0; i < CFG_FLOPPIES; i++)
        check_drive(&ld, K_FLOPPY, i, &cfg->floppy[i]);
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        check_drive(&ld, K_IDE, i, &cfg->ide[i]);
    snprintf(ld.section, sizeof ld.section, "vm");
    check_file(&ld, K_VM, 0, "bios", cfg->bios, false);
    check_file(&ld, K_VM, 0, "vgabios", cfg->vgabios, false);
    snprintf(ld.section, sizeof ld.section, "kernel");
    check_file(&ld, K_KERNEL, 0, "image", cfg->kernel, false);
    check_file(&ld, K_KERNEL, 0, "initrd", cfg->initrd, false);
    if (!cfg->kernel[0] && (cfg->initrd[0] || cfg->cmdline[0])) {
        int which = key_index(K_KERNEL, cfg->initrd[0] ? "initrd" : "cmdline");
        ld.line = cfg->key_line[which][0] > 0 ? cfg->key_line[which][0] : 0;
        report(&ld, cfg->initrd[0] ? "initrd" : "cmdline", "needs a kernel image");
    }
    return ld.errors ? -1 : 0;
}

/* ---------------------------------------------------------------- output */

static const char *enum_name(int type, int v)
{
    const char *const *names = type == T_ENUM_ACCEL ? accel_names
                               : type == T_ENUM_SHUTDOWN ? shutdown_names
                               : type == T_ENUM_FLOPPY ? floppy_type_names
                               : type == T_ENUM_DRIVE ? drive_type_names
                               : type == T_ENUM_UNDO ? undo_names
                                                     : adapter_names;
    return v >= 0 && v < 5 && names[v] ? names[v] : "?";
}

static void print_value(const VmConfig *cfg, const KeyDef *k, int index, FILE *f)
{
    const void *field = field_ptr((VmConfig *)cfg, k, index);
    switch (k->type) {
    case T_STR:
    case T_PATH:
    case T_CPU: fprintf(f, "%s", (const char *)field); break;
    case T_SIZE: {
        uint64_t v = *(const uint64_t *)field;
        if (v % (1u << 20) == 0)
            fprintf(f, "%lluM", (unsigned long long)(v >> 20));
        else
            fprintf(f, "%lluK", (unsigned long long)(v >> 10));
        break;
    }
    case T_BOOL: fprintf(f, "%s", *(const bool *)field ? "yes" : "no"); break;
    case T_BOOT:
        for (int i = 0; i < cfg->nboot; i++)
            fprintf(f, "%s%s", i ? ", " : "", boot_names[cfg->boot[i]]);
        break;
    case T_SERIAL_MODE: {
        const SerialConfig *s = &cfg->serial[index];
        fprintf(f, "%s%s", s->mode == SERIAL_STDIO ? "stdio" : s->mode == SERIAL_FILE ? "file:" : "none",
                s->mode == SERIAL_FILE ? s->path : "");
        break;
    }
    default: fprintf(f, "%s", enum_name(k->type, *(const int *)field)); break;
    }
}

static void print_section(const VmConfig *cfg, int kind, int index, const char *name, FILE *f)
{
    fprintf(f, "[%s]\n", name);
    for (int i = 0; i < NKEYS; i++) {
        if (keys[i].kind != kind)
            continue;
        fprintf(f, "%-14s = ", keys[i].key);
        print_value(cfg, &keys[i], index, f);
        fputc('\n', f);
    }
    fputc('\n', f);
}

void config_print(const VmConfig *cfg, FILE *f)
{
    fprintf(f, "; %s, resolved\n", cfg->file);
    print_section(cfg, K_VM, 0, "vm", f);
    for (int i = 0; i < CFG_FLOPPIES; i++)
        if (cfg->floppy[i].type != DRIVE_NONE) {
            char n[24];
            snprintf(n, sizeof n, "floppy%d", i);
            print_section(cfg, K_FLOPPY, i, n, f);
        }
    for (int i = 0; i < CFG_IDE_DRIVES; i++)
        if (cfg->ide[i].type != DRIVE_NONE)
            print_section(cfg, K_IDE, i, ide_names[i], f);
    if (cfg->kernel[0])
        print_section(cfg, K_KERNEL, 0, "kernel", f);
    for (int i = 0; i < CFG_SERIALS; i++)
        if (cfg->serial[i].mode != SERIAL_NONE) {
            char n[24];
            snprintf(n, sizeof n, "serial%d", i);
            print_section(cfg, K_SERIAL, i, n, f);
        }
    print_section(cfg, K_DISPLAY, 0, "display", f);
    if (cfg->cmos_file[0])
        print_section(cfg, K_CMOS, 0, "cmos", f);
}

void config_print_reference(FILE *f)
{
    static const char *const titles[K_COUNT] = {
        "[vm]", "[floppy0] [floppy1]", "[ide0.master] [ide0.slave] [ide1.master] [ide1.slave]",
        "[kernel]", "[serial0] .. [serial3]", "[display]", "[cmos]",
    };
    for (int kind = 0; kind < K_COUNT; kind++) {
        fprintf(f, "%s\n", titles[kind]);
        for (int i = 0; i < NKEYS; i++)
            if (keys[i].kind == kind)
                fprintf(f, "  %-14s %s%s%s%s\n", keys[i].key, keys[i].help, keys[i].def[0] ? " [default: " : "",
                        keys[i].def, keys[i].def[0] ? "]" : "");
    }
}
