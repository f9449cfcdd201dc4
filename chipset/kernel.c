/*
 * chipset/kernel.c -- direct kernel boot ([kernel] image/initrd/cmdline).
 *
 * The kernel is recognised and laid out here, on the host; the guest side is
 * roms/vsxboot.asm, an option ROM that SeaBIOS boots first and that copies the
 * prepared blobs into RAM through fw_cfg DMA.  Items use QEMU's standard
 * fw_cfg keys (docs/specs/fw_cfg.txt), so the layout is easy to inspect.
 *
 * Linux (Documentation/x86/boot.rst, protocol 2.02 and later, bzImage):
 *   real-mode setup at 0x10000 (setup_sects + 1 sectors), heap/stack up to
 *   0xE000 of that segment, command line at 0x20000, protected-mode kernel at
 *   0x100000, initrd as high as initrd_addr_max and RAM allow (page aligned,
 *   below the top 1 MiB that SeaBIOS keeps for its tables).
 * Multiboot v1 (ELF, or the a.out kludge of header flag bit 16): the image's
 *   segments flattened into one blob at their physical addresses, the
 *   Multiboot information at 0x20000 with the command line, one module (the
 *   initrd) page-aligned after the kernel, and room for the memory map that
 *   the ROM fills from INT 15h E820 at boot.
 */
#include <stdlib.h>
#include <string.h>

#include "devices.h"

#define LINUX_SETUP_ADDR 0x10000u
#define LINUX_CMDLINE_ADDR 0x20000u
#define LINUX_KERNEL_ADDR 0x100000u
#define LINUX_HEAP_END 0xE000u
#define MBI_ADDR 0x20000u
#define MBI_MODS 0x100u
#define MBI_STRINGS 0x200u
#define MBI_MMAP 0x1000u
#define MBI_SIZE (MBI_MMAP + 64 * 24)
#define TOP_RESERVE (1u << 20) /* SeaBIOS's tables live at the top of low RAM */
#define MULTIBOOT_MAGIC 0x1BADB002u
#define MULTIBOOT_SEARCH 8192

/* fw_cfg item keys (QEMU's numbering). */
enum {
    FW_CFG_KERNEL_ADDR = 0x07, FW_CFG_KERNEL_SIZE = 0x08, FW_CFG_INITRD_ADDR = 0x0a,
    FW_CFG_INITRD_SIZE = 0x0b, FW_CFG_KERNEL_ENTRY = 0x10, FW_CFG_KERNEL_DATA = 0x11,
    FW_CFG_INITRD_DATA = 0x12, FW_CFG_CMDLINE_ADDR = 0x13, FW_CFG_CMDLINE_SIZE = 0x14,
    FW_CFG_CMDLINE_DATA = 0x15, FW_CFG_SETUP_ADDR = 0x16, FW_CFG_SETUP_SIZE = 0x17,
    FW_CFG_SETUP_DATA = 0x18,
};

typedef struct Blob {
    uint8_t *data;
    size_t len;
} Blob;

static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }

static int read_whole(const char *path, Blob *b, VsxError *err)
{
    return chipset_read_file(path, &b->data, &b->len, 1u << 30, err);
}

static void set32(FwCfg *fw, uint16_t key, uint32_t v)
{
    uint8_t b[4];
    put32(b, v);
    fwcfg_set(fw, key, b, 4);
}

static void add_blob(FwCfg *fw, uint16_t addr_key, uint16_t size_key, uint16_t data_key, uint32_t addr,
                     const void *data, size_t len)
{
    set32(fw, addr_key, addr);
    set32(fw, size_key, (uint32_t)len);
    fwcfg_set(fw, data_key, data, len);
}

static uint32_t page_up(uint64_t v) { return (uint32_t)((v + 0xFFF) & ~0xFFFull); }

/* ------------------------------------------------------------------ Linux */

static int linux_setup(FwCfg *fw, const char *path, Blob *k, const Blob *initrd, const char *cmdline,
                       uint64_t ram_below_4g, VsxError *err)
{
    uint8_t *h = k->data;
    uint16_t version = get16(h + 0x206);
    if (version < 0x202 || !(h[0x211] & 0x01))
        return vsx_errorf(err, "%s: Linux boot protocol %x.%02x without LOADED_HIGH; vsx boots bzImage "
                               "kernels of protocol 2.02 and later", path, version >> 8, version & 0xFF);
    unsigned setup_sects = h[0x1F1] ? h[0x1F1] : 4;
    size_t setup_len = (setup_sects + 1) * 512u;
    if (setup_len >= k->len || setup_len > LINUX_HEAP_END)
        return vsx_errorf(err, "%s: setup of %zu bytes does not fit", path, setup_len);
    size_t cmd_max = version >= 0x206 ? get32(h + 0x238) : 255;
    if (strlen(cmdline) > cmd_max)
        return vsx_errorf(err, "%s: command line longer than the kernel's %zu bytes", path, cmd_max);
    uint32_t initrd_max = version >= 0x203 ? get32(h + 0x22C) : 0x37FFFFFF;
    uint64_t limit = ram_below_4g - TOP_RESERVE;
    if (initrd_max < limit)
        limit = (uint64_t)initrd_max + 1;
    uint64_t kernel_end = LINUX_KERNEL_ADDR + (k->len - setup_len);
    h[0x210] = 0xB0;                   /* type_of_loader: "other", as QEMU reports */
    h[0x211] |= 0x80;                  /* CAN_USE_HEAP */
    put16(h + 0x224, LINUX_HEAP_END - 0x200);
    put32(h + 0x228, LINUX_CMDLINE_ADDR);
    if (initrd) {
        uint64_t at = initrd->len <= limit ? (limit - initrd->len) & ~0xFFFull : 0;
        if (at < kernel_end)
            return vsx_errorf(err, "initrd of %zu bytes does not fit between the kernel and %#llx",
                              initrd->len, (unsigned long long)limit);
        put32(h + 0x218, at);
        put32(h + 0x21C, (uint32_t)initrd->len);
        add_blob(fw, FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA, (uint32_t)at, initrd->data,
                 initrd->len);
    }
    add_blob(fw, FW_CFG_SETUP_ADDR, FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA, LINUX_SETUP_ADDR, h, setup_len);
    add_blob(fw, FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA, LINUX_KERNEL_ADDR, h + setup_len,
             k->len - setup_len);
    add_blob(fw, FW_CFG_CMDLINE_ADDR, FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA, LINUX_CMDLINE_ADDR, cmdline,
             strlen(cmdline) + 1);
    set32(fw, FW_CFG_KERNEL_ENTRY, 0);
    return 0;
}

/* -------------------------------------------------------------- Multiboot */

typedef struct Image {
    uint32_t load, end; /* [load, end) holds the flattened image incl. bss */
    uint32_t entry;
    uint8_t *data;
} Image;

static int multiboot_aout(const char *path, const Blob *k, const uint8_t *hdr, Image *img, VsxError *err)
{
    uint32_t header_addr = get32(hdr + 12), load = get32(hdr + 16), load_end = get32(hdr + 20);
    uint32_t bss_end = get32(hdr + 24), entry = get32(hdr + 28);
    size_t hdr_off = (size_t)(hdr - k->data);
    if (load > header_addr || header_addr - load > hdr_off)
        return vsx_errorf(err, "%s: Multiboot header addresses are inconsistent", path);
    size_t file_off = hdr_off - (header_addr - load);
    size_t len = load_end ? load_end - load : k->len - file_off;
    if (load_end && load_end < load)
        return vsx_errorf(err, "%s: Multiboot load_end_addr below load_addr", path);
    if (file_off + len > k->len)
        return vsx_errorf(err, "%s: Multiboot image extends past the end of the file", path);
    img->load = load;
    img->end = bss_end > load + len ? bss_end : load + (uint32_t)len;
    img->entry = entry;
    img->data = calloc(1, img->end - img->load);
    if (!img->data)
        return vsx_errorf(err, "%s: out of memory", path);
    memcpy(img->data, k->data + file_off, len);
    return 0;
}

static int multiboot_elf(const char *path, const Blob *k, Image *img, VsxError *err)
{
    const uint8_t *e = k->data;
    if (k->len < 52 || memcmp(e, "\177ELF", 4) || e[4] != 1 || get16(e + 18) != 3)
        return vsx_errorf(err, "%s: Multiboot kernel is neither a 32-bit x86 ELF nor uses the a.out kludge", path);
    uint32_t phoff = get32(e + 28), entry = get32(e + 24);
    unsigned phnum = get16(e + 44), phentsize = get16(e + 42);
    if (phentsize < 32 || phoff + (uint64_t)phnum * phentsize > k->len)
        return vsx_errorf(err, "%s: ELF program headers run past the end of the file", path);
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = e + phoff + i * phentsize;
        if (get32(ph) != 1 /* PT_LOAD */ || !get32(ph + 20))
            continue;
        uint64_t pa = get32(ph + 12), memsz = get32(ph + 20), off = get32(ph + 4), filesz = get32(ph + 16);
        if (filesz > memsz || off + filesz > k->len)
            return vsx_errorf(err, "%s: ELF segment %u lies outside the file", path, i);
        lo = pa < lo ? pa : lo;
        hi = pa + memsz > hi ? pa + memsz : hi;
        /* Entry given as a virtual address inside this segment: translate. */
        uint32_t va = get32(ph + 8);
        if (entry >= va && entry - va < memsz && va != pa)
            entry = entry - va + (uint32_t)pa;
    }
    if (hi <= lo || hi > 0xFFFFFFFFull || hi - lo > (1u << 30))
        return vsx_errorf(err, "%s: no loadable ELF segments below 4 GiB", path);
    img->load = (uint32_t)lo;
    img->end = (uint32_t)hi;
    img->entry = entry;
    img->data = calloc(1, (size_t)(hi - lo));
    if (!img->data)
        return vsx_errorf(err, "%s: out of memory", path);
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = e + phoff + i * phentsize;
        if (get32(ph) == 1 && get32(ph + 20))
            memcpy(img->data + (get32(ph + 12) - lo), e + get32(ph + 4), get32(ph + 16));
    }
    return 0;
}

static const uint8_t *find_multiboot(const Blob *k)
{
    size_t limit = k->len < MULTIBOOT_SEARCH ? k->len : MULTIBOOT_SEARCH;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        const uint8_t *p = k->data + off;
        if (get32(p) == MULTIBOOT_MAGIC && get32(p) + get32(p + 4) + get32(p + 8) == 0)
            return p;
    }
    return NULL;
}

static int multiboot_setup(FwCfg *fw, const char *path, const Blob *k, const uint8_t *hdr, const Blob *initrd,
                           const char *initrd_path, const char *cmdline, uint64_t ram_below_4g, VsxError *err)
{
    /* Bits 0-15 are features the kernel requires: 0 (page-aligned modules)
     * and 1 (memory information) are provided; 2 (video mode) is ignored, as
     * QEMU does; anything else cannot be honoured. */
    uint32_t flags = get32(hdr + 4);
    if (flags & 0xFFF8)
        return vsx_errorf(err, "%s: Multiboot header requires features vsx does not provide (flags %#x)",
                          path, flags);
    Image img = {0};
    if ((flags & (1u << 16)) ? multiboot_aout(path, k, hdr, &img, err) : multiboot_elf(path, k, &img, err))
        return -1;
    if (img.load < 0x100000 || img.end > ram_below_4g - TOP_RESERVE) {
        free(img.data);
        return vsx_errorf(err, "%s: the kernel (%#x-%#x) does not fit in guest RAM above 1 MiB", path,
                          img.load, img.end);
    }
    static uint8_t mbi[MBI_SIZE];
    memset(mbi, 0, sizeof mbi);
    uint32_t mbi_flags = 0x1 | 0x4 | 0x40 | 0x200; /* MEM, CMDLINE, MEM_MAP, BOOT_LOADER_NAME */
    size_t str = MBI_STRINGS;
    size_t cl = strlen(cmdline) + 1, pl = strlen(initrd_path) + 1;
    if (str + cl + pl + 8 > MBI_MMAP) {
        free(img.data);
        return vsx_errorf(err, "%s: command line too long for the Multiboot information", path);
    }
    memcpy(mbi + str, cmdline, cl);
    put32(mbi + 16, MBI_ADDR + (uint32_t)str);
    str += cl;
    memcpy(mbi + str, "vsx", 4);
    put32(mbi + 64, MBI_ADDR + (uint32_t)str);
    str += 4;
    if (initrd) {
        uint32_t at = page_up(img.end);
        if (at + initrd->len > ram_below_4g - TOP_RESERVE) {
            free(img.data);
            return vsx_errorf(err, "%s: module does not fit in guest RAM", initrd_path);
        }
        memcpy(mbi + str, initrd_path, strlen(initrd_path) + 1);
        put32(mbi + MBI_MODS, at);
        put32(mbi + MBI_MODS + 4, at + (uint32_t)initrd->len);
        put32(mbi + MBI_MODS + 8, MBI_ADDR + (uint32_t)str);
        put32(mbi + 20, 1);
        put32(mbi + 24, MBI_ADDR + MBI_MODS);
        mbi_flags |= 0x8; /* MODS */
        add_blob(fw, FW_CFG_INITRD_ADDR, FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA, at, initrd->data, initrd->len);
    }
    put32(mbi + 0, mbi_flags);
    put32(mbi + 48, MBI_ADDR + MBI_MMAP); /* mmap_addr; the ROM fills it and mmap_length */
    add_blob(fw, FW_CFG_SETUP_ADDR, FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA, MBI_ADDR, mbi, MBI_MMAP);
    add_blob(fw, FW_CFG_KERNEL_ADDR, FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA, img.load, img.data, img.end - img.load);
    set32(fw, FW_CFG_KERNEL_ENTRY, img.entry);
    free(img.data);
    return 0;
}

int kernel_setup(FwCfg *fw, const char *kernel, const char *initrd_path, const char *cmdline,
                 uint64_t ram_below_4g, VsxError *err)
{
    Blob k = {0}, initrd = {0};
    int rc = -1;
    if (read_whole(kernel, &k, err) || (initrd_path[0] && read_whole(initrd_path, &initrd, err)))
        goto out;
    const uint8_t *mb = find_multiboot(&k);
    if (k.len > 0x240 && get32(k.data + 0x202) == 0x53726448 /* "HdrS" */)
        rc = linux_setup(fw, kernel, &k, initrd_path[0] ? &initrd : NULL, cmdline, ram_below_4g, err);
    else if (mb)
        rc = multiboot_setup(fw, kernel, &k, mb, initrd_path[0] ? &initrd : NULL, initrd_path, cmdline,
                             ram_below_4g, err);
    else
        vsx_errorf(err, "%s: not a Linux bzImage (no \"HdrS\" header) nor a Multiboot kernel", kernel);
out:
    free(k.data);
    free(initrd.data);
    return rc;
}
