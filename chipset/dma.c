/*
 * chipset/dma.c -- the two 8237A DMA controllers of the AT (channels 0-3 byte
 * wide at 0x00-0x0F; channels 4-7 word wide at 0xC0-0xDF with channel 4 the
 * cascade from the first controller) and the 74LS612 page registers
 * (0x81-0x8F; 0x80 is the POST port, mapped by sysctl.c).
 *
 * References: Intel 8237A datasheet (register map, mode register, mask and
 * request registers, status, flip-flop, master clear, auto-initialise,
 * TC behaviour); IBM AT technical reference (page register ports, word
 * channels shift the address left by one and ignore page bit 0).
 *
 * Devices raise DREQ with isa_dma_request and move their data in their
 * handler with isa_dma_read/write_memory; isa_dma_run gives every requesting,
 * unmasked channel one turn.  A channel's position is the number of bytes
 * moved since its registers were (re)loaded; the current address and count
 * registers are computed from it.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

#define MODE_TYPE(m) (((m) >> 2) & 3)
#define MODE_AUTOINIT 0x10
#define MODE_DECREMENT 0x20
#define MODE_SELECT(m) (((m) >> 6) & 3)
#define TYPE_VERIFY 0
#define TYPE_WRITE 1 /* device -> memory */
#define TYPE_READ 2  /* memory -> device */
#define SELECT_CASCADE 3
#define CMD_DISABLE 0x04

enum {
    REG_STATUS_COMMAND = 8, REG_REQUEST = 9, REG_SINGLE_MASK = 10, REG_MODE = 11,
    REG_CLEAR_FF = 12, REG_MASTER_CLEAR = 13, REG_CLEAR_MASK = 14, REG_ALL_MASK = 15,
};

typedef struct DmaChannel {
    uint16_t base_addr, base_count;
    uint8_t mode;
    uint8_t dreq;
    uint32_t pos; /* bytes moved since the last (re)load */
} DmaChannel;

typedef struct DmaController {
    DmaChannel ch[4];
    uint8_t command;
    uint8_t status;  /* TC bits 0-3 (request bits are computed) */
    uint8_t mask;
    uint8_t request; /* software requests */
    uint8_t flipflop;
} DmaController;

typedef struct IsaDmaRegs {
    DmaController ctl[2];
    uint8_t page[16]; /* ports 0x80-0x8F; the channel ones are used */
} IsaDmaRegs;

typedef struct DmaHandler {
    IsaDmaHandler fn;
    void *dev;
} DmaHandler;

struct IsaDma {
    Bus *bus;
    DmaHandler handler[8];
    bool running;
    IsaDmaRegs r;
};

/* Page register port offset (from 0x80) for each channel. */
static const uint8_t page_port[8] = {0x7, 0x3, 0x1, 0x2, 0xF, 0xB, 0x9, 0xA};

static DmaChannel *chan(IsaDma *d, int channel) { return &d->r.ctl[channel >> 2].ch[channel & 3]; }
static unsigned unit(int channel) { return channel >= 4 ? 2 : 1; }

/* Transfer length in bytes: count + 1 units. */
static uint32_t chan_size(int channel, const DmaChannel *c) { return ((uint32_t)c->base_count + 1) * unit(channel); }

/* ------------------------------------------------------- memory transfers */

/* Physical address of byte `pos` of the transfer.  Byte channels wrap inside
 * their 64 KiB page; word channels inside 128 KiB (page bit 0 ignored). */
static uint64_t chan_byte_addr(IsaDma *d, int channel, uint32_t pos)
{
    DmaChannel *c = chan(d, channel);
    uint32_t page = d->r.page[page_port[channel]];
    bool down = c->mode & MODE_DECREMENT;
    if (channel < 4) {
        uint16_t a = (uint16_t)(down ? c->base_addr - pos : c->base_addr + pos);
        return (uint64_t)page << 16 | a;
    }
    uint32_t word = pos / 2, byte = pos & 1;
    uint16_t a = (uint16_t)(down ? c->base_addr - word : c->base_addr + word);
    return ((uint64_t)(page & 0xFE) << 16) | ((uint32_t)a << 1 | byte);
}

/* Copies len bytes between buf and the transfer at pos, one contiguous run
 * at a time (runs break at page wraps and in decrement mode). */
static int dma_copy(IsaDma *d, int channel, void *buf, int pos, int len, bool to_memory)
{
    if (channel < 0 || channel > 7 || pos < 0 || len <= 0)
        return 0;
    DmaChannel *c = chan(d, channel);
    if (MODE_TYPE(c->mode) == TYPE_VERIFY || MODE_TYPE(c->mode) == 3) {
        if (!to_memory)
            memset(buf, 0xFF, (size_t)len); /* nothing is read from memory */
        return len;
    }
    uint8_t *p = buf;
    int done = 0;
    while (done < len) {
        uint64_t a = chan_byte_addr(d, channel, (uint32_t)(pos + done));
        int run = 1;
        if (!(c->mode & MODE_DECREMENT)) {
            uint64_t wrap = channel < 4 ? 0x10000 : 0x20000;
            uint64_t room = wrap - (a & (wrap - 1));
            run = (int)((uint64_t)(len - done) < room ? (uint64_t)(len - done) : room);
        }
        if (to_memory)
            bus_dma_write(d->bus, a, p + done, (size_t)run);
        else
            bus_dma_read(d->bus, a, p + done, (size_t)run);
        done += run;
    }
    return len;
}

int isa_dma_read_memory(IsaDma *d, int channel, void *buf, int pos, int len)
{
    return dma_copy(d, channel, buf, pos, len, false);
}

int isa_dma_write_memory(IsaDma *d, int channel, const void *buf, int pos, int len)
{
    return dma_copy(d, channel, (void *)buf, pos, len, true);
}

/* ------------------------------------------------------------- transfers */

void isa_dma_register(IsaDma *d, int channel, IsaDmaHandler fn, void *dev)
{
    if (channel >= 0 && channel < 8)
        d->handler[channel] = (DmaHandler){fn, dev};
}

void isa_dma_request(IsaDma *d, int channel, bool dreq)
{
    if (channel >= 0 && channel < 8)
        chan(d, channel)->dreq = dreq;
}

/* A channel may run when requested, unmasked, its controller enabled and,
 * for the first controller, the cascade channel 4 unmasked. */
static bool chan_active(IsaDma *d, int channel)
{
    DmaController *ctl = &d->r.ctl[channel >> 2];
    int n = channel & 3;
    if (!chan(d, channel)->dreq && !(ctl->request & (1u << n)))
        return false;
    if ((ctl->mask & (1u << n)) || (ctl->command & CMD_DISABLE))
        return false;
    if (MODE_SELECT(ctl->ch[n].mode) == SELECT_CASCADE)
        return false;
    if (channel < 4 && ((d->r.ctl[1].mask & 1) || (d->r.ctl[1].command & CMD_DISABLE)))
        return false;
    return d->handler[channel].fn != NULL;
}

static void chan_run(IsaDma *d, int channel)
{
    DmaController *ctl = &d->r.ctl[channel >> 2];
    DmaChannel *c = chan(d, channel);
    int n = channel & 3;
    uint32_t size = chan_size(channel, c);
    int pos = d->handler[channel].fn(d->handler[channel].dev, channel, (int)c->pos, (int)size);
    c->pos = pos < 0 ? 0 : (uint32_t)pos > size ? size : (uint32_t)pos;
    if (c->pos < size)
        return;
    /* Terminal count (8237A "TC"): flag it, then reload or mask. */
    ctl->status |= (uint8_t)(1u << n);
    ctl->request &= (uint8_t)~(1u << n);
    if (c->mode & MODE_AUTOINIT)
        c->pos = 0;
    else
        ctl->mask |= (uint8_t)(1u << n);
}

void isa_dma_run(IsaDma *d)
{
    if (d->running)
        return; /* a handler calling isa_dma_run again */
    d->running = true;
    for (int channel = 0; channel < 8; channel++)
        if (chan_active(d, channel))
            chan_run(d, channel);
    d->running = false;
}

/* ---------------------------------------------------------------- ports */

static uint8_t flipflop_byte(DmaController *ctl, uint16_t v)
{
    uint8_t b = ctl->flipflop ? (uint8_t)(v >> 8) : (uint8_t)v;
    ctl->flipflop ^= 1;
    return b;
}

static uint16_t flipflop_store(DmaController *ctl, uint16_t old, uint8_t v)
{
    uint16_t r = ctl->flipflop ? (uint16_t)((old & 0x00FF) | v << 8) : (uint16_t)((old & 0xFF00) | v);
    ctl->flipflop ^= 1;
    return r;
}

static uint8_t ctl_read(IsaDma *d, int which, unsigned reg)
{
    DmaController *ctl = &d->r.ctl[which];
    if (reg < 8) {
        int channel = which * 4 + (int)(reg >> 1);
        DmaChannel *c = chan(d, channel);
        uint32_t units = c->pos / unit(channel);
        uint16_t v = (reg & 1) ? (uint16_t)(c->base_count - units)
                               : (uint16_t)((c->mode & MODE_DECREMENT) ? c->base_addr - units : c->base_addr + units);
        return flipflop_byte(ctl, v);
    }
    switch (reg) {
    case REG_STATUS_COMMAND: {
        uint8_t v = ctl->status & 0x0F;
        for (int n = 0; n < 4; n++)
            if (ctl->ch[n].dreq || (ctl->request & (1u << n)))
                v |= (uint8_t)(0x10u << n);
        ctl->status &= 0xF0; /* TC bits clear on read */
        return v;
    }
    case REG_ALL_MASK:
        return (uint8_t)(0xF0 | ctl->mask);
    default:
        return 0x00; /* temporary register (memory-to-memory only) */
    }
}

static void ctl_write(IsaDma *d, int which, unsigned reg, uint8_t v)
{
    DmaController *ctl = &d->r.ctl[which];
    if (reg < 8) {
        DmaChannel *c = &ctl->ch[reg >> 1];
        if (reg & 1)
            c->base_count = flipflop_store(ctl, c->base_count, v);
        else
            c->base_addr = flipflop_store(ctl, c->base_addr, v);
        c->pos = 0; /* writing base also loads current */
        return;
    }
    switch (reg) {
    case REG_STATUS_COMMAND: ctl->command = v; break;
    case REG_REQUEST:
        ctl->request = (v & 4) ? (ctl->request | (1u << (v & 3))) : (ctl->request & ~(1u << (v & 3)));
        break;
    case REG_SINGLE_MASK:
        ctl->mask = (v & 4) ? (ctl->mask | (1u << (v & 3))) : (ctl->mask & ~(1u << (v & 3)));
        break;
    case REG_MODE: ctl->ch[v & 3].mode = v; break;
    case REG_CLEAR_FF: ctl->flipflop = 0; break;
    case REG_MASTER_CLEAR:
        ctl->command = ctl->status = ctl->request = ctl->flipflop = 0;
        ctl->mask = 0x0F;
        break;
    case REG_CLEAR_MASK: ctl->mask = 0; break;
    default: ctl->mask = v & 0x0F; break; /* write all mask bits */
    }
}

static uint32_t dma1_read(void *dev, uint32_t off, unsigned w) { (void)w; return ctl_read(dev, 0, off & 15); }
static void dma1_write(void *dev, uint32_t off, uint32_t v, unsigned w)
{
    (void)w;
    ctl_write(dev, 0, off & 15, (uint8_t)v);
    isa_dma_run(dev); /* unmasking may start a pending transfer */
}
/* The second controller sits on A1-A4: registers at even ports, odd alias. */
static uint32_t dma2_read(void *dev, uint32_t off, unsigned w) { (void)w; return ctl_read(dev, 1, (off >> 1) & 15); }
static void dma2_write(void *dev, uint32_t off, uint32_t v, unsigned w)
{
    (void)w;
    ctl_write(dev, 1, (off >> 1) & 15, (uint8_t)v);
    isa_dma_run(dev);
}

static uint32_t page_read(void *dev, uint32_t off, unsigned w)
{
    (void)w;
    IsaDma *d = dev;
    return d->r.page[(off + 1) & 15];
}

static void page_write(void *dev, uint32_t off, uint32_t v, unsigned w)
{
    (void)w;
    IsaDma *d = dev;
    d->r.page[(off + 1) & 15] = (uint8_t)v;
}

static const IoOps dma1_ops = {dma1_read, dma1_write, IO_W8, "dma1"};
static const IoOps dma2_ops = {dma2_read, dma2_write, IO_W8, "dma2"};
static const IoOps page_ops = {page_read, page_write, IO_W8, "dma-page"};

/* ------------------------------------------------------------ lifecycle */

static void isa_dma_reset(void *dev)
{
    IsaDma *d = dev;
    memset(&d->r, 0, sizeof d->r);
    d->r.ctl[0].mask = d->r.ctl[1].mask = 0x0F; /* master clear state */
}

static void isa_dma_save(void *dev, StateStream *s)
{
    IsaDma *d = dev;
    state_put(s, "isa-dma", &d->r, sizeof d->r);
}

static int isa_dma_load(void *dev, StateStream *s)
{
    IsaDma *d = dev;
    if (state_get(s, "isa-dma", &d->r, sizeof d->r) < 0)
        return -1;
    for (int channel = 0; channel < 8; channel++) {
        DmaChannel *c = chan(d, channel);
        if (c->pos > chan_size(channel, c))
            c->pos = 0;
    }
    return 0;
}

static void isa_dma_destroy(void *dev)
{
    IsaDma *d = dev;
    if (!d)
        return;
    bus_unmap_io(d->bus, 0x00, 16);
    bus_unmap_io(d->bus, 0xC0, 32);
    bus_unmap_io(d->bus, 0x81, 15);
    free(d);
}

IsaDma *isa_dma_create(Bus *bus)
{
    IsaDma *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->bus = bus;
    if (bus_map_io(bus, 0x00, 16, &dma1_ops, d) < 0)
        goto fail;
    if (bus_map_io(bus, 0xC0, 32, &dma2_ops, d) < 0)
        goto fail1;
    if (bus_map_io(bus, 0x81, 15, &page_ops, d) < 0)
        goto fail2;
    isa_dma_reset(d);
    return d;
fail2:
    bus_unmap_io(bus, 0xC0, 32);
fail1:
    bus_unmap_io(bus, 0x00, 16);
fail:
    free(d);
    return NULL;
}

const DeviceClass isa_dma_device_class = {
    .name = "isa-dma",
    .reset = isa_dma_reset,
    .save = isa_dma_save,
    .load = isa_dma_load,
    .destroy = isa_dma_destroy,
};
