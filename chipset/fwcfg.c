/*
 * chipset/fwcfg.c -- the QEMU firmware configuration interface (fw_cfg), the
 * way SeaBIOS finds RAM size, the e820 map, boot order and kernel images.
 *
 * Interface facts from QEMU's docs/specs/fw_cfg.txt (x86 I/O variant):
 *   0x510  selector (16-bit write; bit 14 = write channel, bit 15 = arch key)
 *   0x511  data (byte reads return the selected item's next byte; reads past
 *          the end and of unknown keys return 0)
 *   0x514  DMA address, 64-bit big-endian in two 32-bit halves; the write of
 *          the low half (0x518) starts the transfer.  Reads return the
 *          signature "QEMU CFG".
 *   DMA descriptor in guest RAM: be32 control, be32 length, be64 address.
 *   control bits: 0x01 error, 0x02 read, 0x04 skip, 0x08 select (key in the
 *   upper 16 bits), 0x10 write.  The device writes control back: 0 on success,
 *   0x01 on error.
 *   Key 0x0000 "QEMU", 0x0001 feature bitmap (bit 0 traditional, bit 1 DMA),
 *   0x0019 file directory: be32 count, then per file be32 size, be16 select,
 *   be16 reserved, char name[56]; files take keys from 0x0020 up.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

#define FWCFG_PORT_SEL 0x510
#define FWCFG_PORT_DMA 0x514
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_ID 0x0001
#define FWCFG_RAM_SIZE 0x0003
#define FWCFG_NB_CPUS 0x0005
#define FWCFG_MAX_CPUS 0x000F
#define FWCFG_FILE_DIR 0x0019
#define FWCFG_FILE_FIRST 0x0020
#define FWCFG_KEY_MAX 0x4000  /* keys live below the write-channel bit */
#define FWCFG_WRITE_CHANNEL 0x4000
#define FWCFG_ARCH_LOCAL 0x8000
#define FWCFG_ID_TRADITIONAL 0x1
#define FWCFG_ID_DMA 0x2
#define FWCFG_NAME_LEN 56
#define FWCFG_DIR_ENTRY 64
#define FWCFG_ITEM_MAX (64u << 20) /* larger items are refused */
/* Zero padding a DMA read writes past the end of an item is capped, so a
 * nonsense length cannot keep the device busy for gigabytes. */
#define FWCFG_PAD_MAX (64u << 10)

enum {
    DMA_CTL_ERROR = 0x01,
    DMA_CTL_READ = 0x02,
    DMA_CTL_SKIP = 0x04,
    DMA_CTL_SELECT = 0x08,
    DMA_CTL_WRITE = 0x10,
};

static const char dma_signature[8] = {'Q', 'E', 'M', 'U', ' ', 'C', 'F', 'G'};

typedef struct FwCfgItem {
    uint16_t key;
    uint32_t len;
    uint8_t *data;
    char name[FWCFG_NAME_LEN]; /* files only */
} FwCfgItem;

typedef struct FwCfgRegs {
    uint16_t selector;
    uint32_t offset;
    uint8_t dma_addr[8]; /* big-endian, as written */
} FwCfgRegs;

struct FwCfg {
    Bus *bus;
    FwCfgItem *items;
    int nitems, cap;
    int nfiles;
    FwCfgRegs r;
};

/* ---------------------------------------------------------------- items */

static FwCfgItem *fwcfg_find(FwCfg *fw, uint16_t key)
{
    for (int i = 0; i < fw->nitems; i++)
        if (fw->items[i].key == key)
            return &fw->items[i];
    return NULL;
}

/* Stores a copy of data under key, creating the item if needed. */
static FwCfgItem *fwcfg_store(FwCfg *fw, uint16_t key, const void *data, size_t len)
{
    if (len > FWCFG_ITEM_MAX || (len && !data))
        return NULL;
    FwCfgItem *it = fwcfg_find(fw, key);
    if (!it) {
        if (fw->nitems == fw->cap) {
            int cap = fw->cap ? fw->cap * 2 : 32;
            FwCfgItem *n = realloc(fw->items, (size_t)cap * sizeof *n);
            if (!n)
                return NULL;
            fw->items = n, fw->cap = cap;
        }
        it = &fw->items[fw->nitems++];
        memset(it, 0, sizeof *it);
        it->key = key;
    }
    uint8_t *copy = len ? malloc(len) : NULL;
    if (len && !copy)
        return NULL;
    if (len)
        memcpy(copy, data, len);
    free(it->data);
    it->data = copy;
    it->len = (uint32_t)len;
    return it;
}

void fwcfg_set(FwCfg *fw, uint16_t key, const void *data, size_t len)
{
    if (fw)
        fwcfg_store(fw, key & (uint16_t)~FWCFG_WRITE_CHANNEL, data, len);
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Rebuilds item 0x19 from the file items, in key order. */
static int fwcfg_rebuild_dir(FwCfg *fw)
{
    size_t len = 4 + (size_t)fw->nfiles * FWCFG_DIR_ENTRY;
    uint8_t *dir = calloc(1, len);
    if (!dir)
        return -ENOMEM;
    put_be32(dir, (uint32_t)fw->nfiles);
    for (int k = 0; k < fw->nfiles; k++) {
        FwCfgItem *it = fwcfg_find(fw, (uint16_t)(FWCFG_FILE_FIRST + k));
        uint8_t *e = dir + 4 + (size_t)k * FWCFG_DIR_ENTRY;
        if (!it)
            continue;
        put_be32(e, it->len);
        e[4] = (uint8_t)(it->key >> 8), e[5] = (uint8_t)it->key;
        memcpy(e + 8, it->name, FWCFG_NAME_LEN);
    }
    FwCfgItem *d = fwcfg_store(fw, FWCFG_FILE_DIR, dir, len);
    free(dir);
    return d ? 0 : -ENOMEM;
}

int fwcfg_add_file(FwCfg *fw, const char *name, const void *data, size_t len)
{
    if (!fw || !name || !name[0] || strlen(name) >= FWCFG_NAME_LEN)
        return -EINVAL;
    for (int i = 0; i < fw->nitems; i++)
        if (fw->items[i].key >= FWCFG_FILE_FIRST && !strcmp(fw->items[i].name, name))
            return -EEXIST;
    if (FWCFG_FILE_FIRST + fw->nfiles >= FWCFG_KEY_MAX)
        return -ENOSPC;
    FwCfgItem *it = fwcfg_store(fw, (uint16_t)(FWCFG_FILE_FIRST + fw->nfiles), data, len);
    if (!it)
        return -ENOMEM;
    strncpy(it->name, name, FWCFG_NAME_LEN - 1);
    fw->nfiles++;
    return fwcfg_rebuild_dir(fw);
}

/* ------------------------------------------------------------ data path */

static FwCfgItem *fwcfg_current(FwCfg *fw)
{
    return fwcfg_find(fw, fw->r.selector & (uint16_t)~FWCFG_WRITE_CHANNEL);
}

static void fwcfg_select(FwCfg *fw, uint16_t key)
{
    fw->r.selector = key;
    fw->r.offset = 0;
}

static uint8_t fwcfg_next_byte(FwCfg *fw)
{
    FwCfgItem *it = fwcfg_current(fw);
    if (!it || fw->r.offset >= it->len)
        return 0;
    return it->data[fw->r.offset++];
}

static uint32_t sel_read(void *dev, uint32_t offset, unsigned width)
{
    FwCfg *fw = dev;
    if (offset == 1 && width == 1)
        return fwcfg_next_byte(fw);
    return 0; /* the selector is write-only */
}

static void sel_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    FwCfg *fw = dev;
    if (offset == 0)
        fwcfg_select(fw, (uint16_t)(width == 1 ? (value & 0xFF) : value));
    /* Writes to the data port are ignored (QEMU 2.4 and later). */
}

static const IoOps sel_ops = {sel_read, sel_write, IO_W8 | IO_W16, "fw_cfg"};

/* ------------------------------------------------------------------ DMA */

static uint32_t fwcfg_dma_read_item(FwCfg *fw, uint64_t addr, uint32_t len)
{
    FwCfgItem *it = fwcfg_current(fw);
    uint32_t avail = it && fw->r.offset < it->len ? it->len - fw->r.offset : 0;
    uint32_t n = len < avail ? len : avail;
    if (n)
        bus_dma_write(fw->bus, addr, it->data + fw->r.offset, n);
    fw->r.offset += n;
    uint32_t pad = len - n;
    if (pad > FWCFG_PAD_MAX)
        pad = FWCFG_PAD_MAX;
    static const uint8_t zeros[4096];
    for (uint32_t done = 0; done < pad;) {
        uint32_t c = pad - done < sizeof zeros ? pad - done : (uint32_t)sizeof zeros;
        bus_dma_write(fw->bus, addr + n + done, zeros, c);
        done += c;
    }
    return 0;
}

static void fwcfg_skip(FwCfg *fw, uint32_t len)
{
    FwCfgItem *it = fwcfg_current(fw);
    uint32_t avail = it && fw->r.offset < it->len ? it->len - fw->r.offset : 0;
    fw->r.offset += len < avail ? len : avail;
}

/* Runs the descriptor at guest address `desc` and writes its status back. */
static void fwcfg_dma_run(FwCfg *fw, uint64_t desc)
{
    uint8_t d[16];
    bus_dma_read(fw->bus, desc, d, sizeof d);
    uint32_t control = get_be32(d), len = get_be32(d + 4);
    uint64_t addr = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);
    uint32_t status = 0;
    if (control & DMA_CTL_SELECT)
        fwcfg_select(fw, (uint16_t)(control >> 16));
    if (control & DMA_CTL_READ)
        status = fwcfg_dma_read_item(fw, addr, len);
    else if (control & DMA_CTL_WRITE)
        status = DMA_CTL_ERROR; /* no item is writable */
    else if (control & DMA_CTL_SKIP)
        fwcfg_skip(fw, len);
    uint8_t out[4];
    put_be32(out, status);
    bus_dma_write(fw->bus, desc, out, sizeof out);
}

static uint32_t dma_read(void *dev, uint32_t offset, unsigned width)
{
    (void)dev;
    uint32_t v = 0;
    for (unsigned i = 0; i < width && offset + i < 8; i++)
        v |= (uint32_t)(uint8_t)dma_signature[offset + i] << (8 * i);
    return v;
}

static void dma_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    FwCfg *fw = dev;
    for (unsigned i = 0; i < width && offset + i < 8; i++)
        fw->r.dma_addr[offset + i] = (uint8_t)(value >> (8 * i));
    if (offset + width < 8)
        return; /* the low half's last byte (0x51B) starts the transfer */
    uint64_t desc = (uint64_t)get_be32(fw->r.dma_addr) << 32 | get_be32(fw->r.dma_addr + 4);
    fwcfg_dma_run(fw, desc);
}

static const IoOps dma_ops = {dma_read, dma_write, IO_W8 | IO_W16 | IO_W32, "fw_cfg-dma"};

/* ------------------------------------------------------------ lifecycle */

static void fwcfg_destroy(void *dev)
{
    FwCfg *fw = dev;
    if (!fw)
        return;
    bus_unmap_io(fw->bus, FWCFG_PORT_SEL, 2);
    bus_unmap_io(fw->bus, FWCFG_PORT_DMA, 8);
    for (int i = 0; i < fw->nitems; i++)
        free(fw->items[i].data);
    free(fw->items);
    free(fw);
}

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static int fwcfg_defaults(FwCfg *fw)
{
    uint8_t id[4], ram[8], cpus[2];
    put_le(id, FWCFG_ID_TRADITIONAL | FWCFG_ID_DMA, 4);
    put_le(ram, bus_ram_size(fw->bus), 8);
    put_le(cpus, 1, 2);
    if (!fwcfg_store(fw, FWCFG_SIGNATURE, "QEMU", 4) || !fwcfg_store(fw, FWCFG_ID, id, 4) ||
        !fwcfg_store(fw, FWCFG_RAM_SIZE, ram, 8) || !fwcfg_store(fw, FWCFG_NB_CPUS, cpus, 2) ||
        !fwcfg_store(fw, FWCFG_MAX_CPUS, cpus, 2))
        return -ENOMEM;
    return fwcfg_rebuild_dir(fw);
}

FwCfg *fwcfg_create(Bus *bus)
{
    FwCfg *fw = calloc(1, sizeof *fw);
    if (!fw)
        return NULL;
    fw->bus = bus;
    if (bus_map_io(bus, FWCFG_PORT_SEL, 2, &sel_ops, fw) < 0) {
        free(fw);
        return NULL;
    }
    if (bus_map_io(bus, FWCFG_PORT_DMA, 8, &dma_ops, fw) < 0 || fwcfg_defaults(fw) < 0) {
        fwcfg_destroy(fw);
        return NULL;
    }
    return fw;
}

static void fwcfg_reset(void *dev)
{
    FwCfg *fw = dev;
    memset(&fw->r, 0, sizeof fw->r);
}

/* The items are configuration the board sets again when it is rebuilt; only
 * the guest-visible registers are state. */
static void fwcfg_save(void *dev, StateStream *s)
{
    FwCfg *fw = dev;
    state_put(s, "fwcfg.regs", &fw->r, sizeof fw->r);
}

static int fwcfg_load(void *dev, StateStream *s)
{
    FwCfg *fw = dev;
    return state_get(s, "fwcfg.regs", &fw->r, sizeof fw->r);
}

const DeviceClass fwcfg_device_class = {
    .name = "fw_cfg",
    .reset = fwcfg_reset,
    .save = fwcfg_save,
    .load = fwcfg_load,
    .destroy = fwcfg_destroy,
};
