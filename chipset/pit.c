/*
 * chipset/pit.c -- the 8254 programmable interval timer (0x40-0x43) and the
 * AT system control port B (0x61: channel 2 gate, speaker data, refresh
 * toggle, channel 2 output).
 *
 * References: Intel 8254 datasheet (control word, modes 0-5, counter latch
 * and read-back commands, status byte, BCD counting, gate behaviour);
 * IBM PC/AT technical reference (port 0x61 bits).
 *
 * Nothing ticks: each channel remembers when its count was loaded, and its
 * count and OUT are computed from (state, now).  Channel 0 arms a Timer for
 * its next IRQ 0 event.  CLK runs at 1.193182 MHz on all channels.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

#define PIT_HZ 1193182ull
#define NS_PER_S 1000000000ull
#define REFRESH_NS 15085 /* DRAM refresh request period: port 0x61 bit 4 toggles */

/* Control word fields (8254 datasheet, "Control Word Format"). */
#define CW_SC(v) (((v) >> 6) & 3)
#define CW_RW(v) (((v) >> 4) & 3)
#define CW_MODE(v) (((v) >> 1) & 7)
#define CW_BCD 0x01
#define SC_READBACK 3
#define RB_NOT_COUNT 0x20
#define RB_NOT_STATUS 0x10
#define STATUS_OUT 0x80
#define STATUS_NULL 0x40

enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_BOTH = 3 };

/* Port 0x61 (AT "port B"). */
#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_WRITABLE 0x0F
#define P61_REFRESH 0x10
#define P61_OUT2 0x20

typedef struct PitChannel {
    uint8_t mode;          /* 0-5 (6, 7 alias 2, 3) */
    uint8_t bcd;
    uint8_t rw;            /* RW_LSB / RW_MSB / RW_BOTH */
    uint8_t gate;
    uint8_t write_msb;     /* RW_BOTH: next write is the MSB */
    uint8_t read_msb;      /* RW_BOTH: next read is the MSB */
    uint8_t write_lsb;     /* the LSB written first in RW_BOTH */
    uint8_t null_count;    /* count written but not loaded into CE */
    uint8_t latched;       /* count latch holds `latch` (RW_* order) */
    uint8_t latch_msb;     /* next latched read is the MSB */
    uint8_t status_latched;
    uint8_t status;
    uint8_t counting;      /* CE loaded (and triggered, modes 1 and 5) */
    uint8_t frozen;        /* gate low in modes 0/4: count held at `frozen_ticks` */
    uint8_t armed;         /* a count was written since the control word */
    uint16_t latch;
    uint16_t count_reg;    /* CR: as written (BCD digits when bcd) */
    uint32_t reload;       /* CR as a number of clocks, 1..65536 */
    uint64_t load_ns;      /* virtual time the CE was loaded ... */
    int64_t tick_base;     /* ... and clocks after it the current count began */
    uint64_t frozen_ticks;
    uint64_t irq_events;   /* IRQ-0 events already signalled since load */
    uint8_t pending;       /* modes 2/3: a new count waits for the cycle end */
    uint8_t pending_low;   /* mode 3: it loads at the end of a high half */
    uint32_t pending_reload;
    uint64_t pending_tick; /* clocks after load_ns when it is loaded */
} PitChannel;

typedef struct PitRegs {
    PitChannel ch[3];
    uint8_t port61;
} PitRegs;

struct Pit {
    Bus *bus;
    Clock *clk;
    IrqLine irq0;
    Timer *timer;
    PitRegs r;
};

/* ------------------------------------------------------------------ time */

static uint64_t ticks_since(uint64_t from_ns, uint64_t now)
{
    if (now <= from_ns)
        return 0;
    return (uint64_t)((unsigned __int128)(now - from_ns) * PIT_HZ / NS_PER_S);
}

/* The first virtual time at which `ticks` clocks have elapsed. */
static uint64_t ticks_to_ns(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * NS_PER_S + PIT_HZ - 1) / PIT_HZ);
}

static int ch_mode(const PitChannel *c) { return c->mode > 5 ? c->mode - 4 : c->mode; }

/* Clocks counted since the current count began (exact: re-basing adds
 * whole clocks to tick_base instead of moving load_ns). */
static uint64_t ch_ticks(const PitChannel *c, uint64_t now)
{
    uint64_t t = ticks_since(c->load_ns, now);
    int64_t d = (int64_t)t - c->tick_base;
    return d > 0 ? (uint64_t)d : 0;
}

/* The virtual time `tick` clocks into the current count. */
static uint64_t ch_tick_ns(const PitChannel *c, uint64_t tick)
{
    int64_t at = c->tick_base + (int64_t)tick;
    return c->load_ns + ticks_to_ns(at > 0 ? (uint64_t)at : 0);
}

static uint64_t ch_elapsed(const PitChannel *c, uint64_t now)
{
    return c->frozen ? c->frozen_ticks : ch_ticks(c, now);
}

static unsigned bcd_to_bin(uint16_t v)
{
    return (v & 15) + ((v >> 4) & 15) * 10 + ((v >> 8) & 15) * 100 + ((v >> 12) & 15) * 1000;
}

static uint16_t bin_to_bcd(unsigned v)
{
    return (uint16_t)((v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12);
}

/* ------------------------------------------------------- deferred reload */

/* Modes 2 and 3 take a count written while counting at the end of the
 * current period (mode 2) or half-cycle (mode 3) (8254 datasheet, "Mode 2"
 * and "Mode 3"); the channel is then re-based at that clock. */
static void ch_apply_pending(PitChannel *c)
{
    c->tick_base += (int64_t)c->pending_tick;
    /* Mode 3 switching at the end of a high half: OUT goes low and the new
     * count starts with its low half. */
    if (c->pending_low)
        c->tick_base -= (int64_t)(c->pending_reload + 1) / 2;
    c->reload = c->pending_reload;
    c->irq_events = 0;
    c->pending = 0;
    c->null_count = 0;
}

static void ch_sync(PitChannel *c, uint64_t now)
{
    if (c->pending && c->counting && !c->frozen && ch_ticks(c, now) >= c->pending_tick)
        ch_apply_pending(c);
}

/* ------------------------------------------------------- count and output */

/* The counting element's value as a number (not BCD-encoded). */
static unsigned ch_count(const PitChannel *c, uint64_t now)
{
    unsigned modulus = c->bcd ? 10000 : 65536;
    if (!c->counting)
        return c->reload % modulus;
    uint64_t d = ch_elapsed(c, now);
    switch (ch_mode(c)) {
    case 2:
        return (unsigned)(c->reload - d % c->reload) % modulus;
    case 3: /* counts down by two each clock, reloading every half period */
        return (unsigned)((c->reload - (2 * d) % c->reload) % modulus);
    default: /* 0, 1, 4, 5: count down and wrap through the modulus */
        return (unsigned)((c->reload + modulus - d % modulus) % modulus);
    }
}

static int ch_out(const PitChannel *c, uint64_t now)
{
    int mode = ch_mode(c);
    if (!c->counting)
        return mode != 0; /* after the control word: mode 0 low, others high */
    if ((mode == 2 || mode == 3) && !c->gate)
        return 1;         /* gate low forces OUT high in modes 2 and 3 */
    uint64_t d = ch_elapsed(c, now);
    switch (mode) {
    case 0:
    case 1:
        return d >= c->reload;
    case 2:
        return d % c->reload != c->reload - 1;
    case 3:
        return d % c->reload < (c->reload + 1) / 2;
    default: /* 4, 5: a one-clock low strobe when the count reaches 0 */
        return d != c->reload;
    }
}

static void pit_irq_update(Pit *p, uint64_t now);

/* Brings a channel's deferred reload up to date; channel 0 through its IRQ
 * bookkeeping so that the event at the old cycle's end is not lost. */
static void pit_sync(Pit *p, int n, uint64_t now)
{
    if (n == 0)
        pit_irq_update(p, now);
    else
        ch_sync(&p->r.ch[n], now);
}

int pit_output(Pit *pit, int channel)
{
    if (channel < 0 || channel > 2)
        return 0;
    uint64_t now = clock_now(pit->clk);
    pit_sync(pit, channel, now);
    return ch_out(&pit->r.ch[channel], now);
}

/* -------------------------------------------------------------- IRQ 0 */

/* Channel 0 drives IRQ 0 with one rising edge per event: terminal count in
 * modes 0/1, the end of the strobe in 4/5, each period in 2/3.  Edges are
 * signalled as pulses when the timer fires, so a CPU slice that overshoots
 * the ~1 us low phase of mode 2 cannot swallow a tick. */
static uint64_t ch0_event_tick(const PitChannel *c, uint64_t n)
{
    switch (ch_mode(c)) {
    case 2:
    case 3:
        return (n + 1) * (uint64_t)c->reload;
    case 4:
    case 5:
        return n == 0 ? c->reload + 1ull : UINT64_MAX;
    default:
        return n == 0 ? c->reload : UINT64_MAX;
    }
}

static void pit_irq_update(Pit *p, uint64_t now)
{
    PitChannel *c = &p->r.ch[0];
    if (!c->counting) {
        /* After a control word OUT sits at its mode's initial level. */
        timer_cancel(p->timer);
        irq_set(&p->irq0, ch_out(c, now));
        return;
    }
    if (c->frozen || ((ch_mode(c) == 2 || ch_mode(c) == 3) && !c->gate)) {
        timer_cancel(p->timer);
        return;
    }
    uint64_t due;
    for (;;) {
        /* Events of the current count, up to a pending reload's clock. */
        uint64_t d = ch_ticks(c, now);
        uint64_t upto = c->pending && c->pending_tick < d ? c->pending_tick : d;
        due = ch0_event_tick(c, c->irq_events);
        if (due != UINT64_MAX && upto >= due) {
            int periodic = ch_mode(c) == 2 || ch_mode(c) == 3;
            c->irq_events = periodic ? upto / c->reload : c->irq_events + 1;
            irq_set(&p->irq0, 0);
            irq_set(&p->irq0, 1);
            due = ch0_event_tick(c, c->irq_events);
        }
        if (!c->pending || d < c->pending_tick)
            break;
        ch_apply_pending(c);
    }
    if (c->pending && c->pending_tick < due)
        due = c->pending_tick; /* wake up to switch counts */
    if (due == UINT64_MAX)
        timer_cancel(p->timer);
    else
        timer_arm(p->timer, ch_tick_ns(c, due));
}

static void pit_timer_fired(void *opaque, uint64_t now)
{
    pit_irq_update(opaque, now);
}

/* ------------------------------------------------------------- loading */

static void ch_start(Pit *p, int n, uint64_t now)
{
    PitChannel *c = &p->r.ch[n];
    c->counting = 1;
    c->null_count = 0;
    c->frozen = 0;
    c->load_ns = now;
    c->tick_base = 0;
    c->irq_events = 0;
    if (c->pending) { /* a gate trigger loads the newest count */
        c->reload = c->pending_reload;
        c->pending = 0;
    }
    if ((ch_mode(c) == 0 || ch_mode(c) == 4) && !c->gate) {
        c->frozen = 1;
        c->frozen_ticks = 0;
    }
    if (n == 0)
        pit_irq_update(p, now);
}

/* A complete count has been written to CR. */
static void ch_count_written(Pit *p, int n, uint16_t value)
{
    PitChannel *c = &p->r.ch[n];
    uint64_t now = clock_now(p->clk);
    pit_sync(p, n, now);
    c->count_reg = value;
    unsigned v = c->bcd ? bcd_to_bin(value) : value;
    uint32_t reload = v ? v : (c->bcd ? 10000u : 65536u);
    c->null_count = 1;
    c->armed = 1;
    int mode = ch_mode(c);
    if ((mode == 2 || mode == 3) && c->counting && c->gate) {
        if (!c->pending) {
            uint64_t d = ch_ticks(c, now), k = d / c->reload;
            uint64_t half = k * c->reload + (c->reload + 1) / 2;
            c->pending_low = mode == 3 && d < half;
            c->pending_tick = c->pending_low ? half : (k + 1) * c->reload;
        }
        c->pending = 1;
        c->pending_reload = reload;
        if (n == 0)
            pit_irq_update(p, now);
        return;
    }
    c->reload = reload;
    c->pending = 0;
    /* Modes 1 and 5 wait for a gate trigger; the others load on the write. */
    if (mode != 1 && mode != 5)
        ch_start(p, n, now);
}

static void ch_control(Pit *p, int n, uint8_t v)
{
    PitChannel *c = &p->r.ch[n];
    if (CW_RW(v) == RW_LATCH) {
        if (!c->latched) {
            uint64_t now = clock_now(p->clk);
            pit_sync(p, n, now);
            unsigned cnt = ch_count(c, now);
            c->latch = c->bcd ? bin_to_bcd(cnt) : (uint16_t)cnt;
            c->latched = c->rw;
            c->latch_msb = c->rw == RW_MSB;
        }
        return;
    }
    c->rw = CW_RW(v);
    c->mode = CW_MODE(v);
    c->bcd = v & CW_BCD;
    c->write_msb = c->read_msb = 0;
    c->latched = 0;
    c->status_latched = 0;
    c->counting = 0;
    c->frozen = 0;
    c->armed = 0;
    c->pending = 0;
    c->null_count = 1;
    if (n == 0)
        pit_irq_update(p, clock_now(p->clk));
}

static uint8_t ch_status(const PitChannel *c, uint64_t now)
{
    return (uint8_t)((ch_out(c, now) ? STATUS_OUT : 0) | (c->null_count ? STATUS_NULL : 0) |
                     c->rw << 4 | c->mode << 1 | c->bcd);
}

static void pit_readback(Pit *p, uint8_t v)
{
    uint64_t now = clock_now(p->clk);
    for (int n = 0; n < 3; n++) {
        if (!(v & (2u << n)))
            continue;
        PitChannel *c = &p->r.ch[n];
        pit_sync(p, n, now);
        if (!(v & RB_NOT_STATUS) && !c->status_latched) {
            c->status = ch_status(c, now);
            c->status_latched = 1;
        }
        if (!(v & RB_NOT_COUNT) && !c->latched) {
            unsigned cnt = ch_count(c, now);
            c->latch = c->bcd ? bin_to_bcd(cnt) : (uint16_t)cnt;
            c->latched = c->rw;
            c->latch_msb = c->rw == RW_MSB;
        }
    }
}

/* ----------------------------------------------------------- the ports */

static void pit_data_write(Pit *p, int n, uint8_t v)
{
    PitChannel *c = &p->r.ch[n];
    switch (c->rw) {
    case RW_LSB:
        ch_count_written(p, n, v);
        break;
    case RW_MSB:
        ch_count_written(p, n, (uint16_t)(v << 8));
        break;
    case RW_BOTH:
        if (!c->write_msb) {
            c->write_lsb = v;
            c->write_msb = 1;
            /* Mode 0: writing the first byte stops the count (datasheet). */
            if (ch_mode(c) == 0 && c->counting) {
                c->counting = 0;
                if (n == 0)
                    pit_irq_update(p, clock_now(p->clk));
            }
        } else {
            c->write_msb = 0;
            ch_count_written(p, n, (uint16_t)(c->write_lsb | v << 8));
        }
        break;
    default: /* no control word yet: the chip ignores data */
        break;
    }
}

static uint8_t pit_data_read(Pit *p, int n)
{
    PitChannel *c = &p->r.ch[n];
    if (c->status_latched) {
        c->status_latched = 0;
        return c->status;
    }
    if (c->latched) {
        uint8_t b = c->latch_msb ? (uint8_t)(c->latch >> 8) : (uint8_t)c->latch;
        if (c->latched == RW_BOTH && !c->latch_msb)
            c->latch_msb = 1;
        else
            c->latched = 0;
        return b;
    }
    uint64_t now = clock_now(p->clk);
    pit_sync(p, n, now);
    unsigned cnt = ch_count(c, now);
    uint16_t v = c->bcd ? bin_to_bcd(cnt) : (uint16_t)cnt;
    switch (c->rw) {
    case RW_MSB:
        return (uint8_t)(v >> 8);
    case RW_BOTH:
        c->read_msb ^= 1;
        return c->read_msb ? (uint8_t)v : (uint8_t)(v >> 8);
    default:
        return (uint8_t)v;
    }
}

static uint32_t pit_read(void *dev, uint32_t offset, unsigned width)
{
    (void)width;
    Pit *p = dev;
    if (offset == 3)
        return 0xFF; /* the control register is write-only; the bus floats */
    return pit_data_read(p, (int)offset);
}

static void pit_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)width;
    Pit *p = dev;
    uint8_t v = (uint8_t)value;
    if (offset < 3)
        pit_data_write(p, (int)offset, v);
    else if (CW_SC(v) == SC_READBACK)
        pit_readback(p, v);
    else
        ch_control(p, CW_SC(v), v);
}

static const IoOps pit_ops = {pit_read, pit_write, IO_W8, "pit"};

/* Channel 2's gate (port 0x61 bit 0): the only gate not tied high on a PC. */
static void ch2_set_gate(Pit *p, int gate)
{
    PitChannel *c = &p->r.ch[2];
    uint64_t now = clock_now(p->clk);
    if (gate == c->gate)
        return;
    pit_sync(p, 2, now);
    int mode = ch_mode(c);
    if (!gate) {
        if ((mode == 0 || mode == 4) && c->counting && !c->frozen) {
            c->frozen_ticks = ch_ticks(c, now);
            c->frozen = 1;
        }
        c->gate = 0;
        return;
    }
    c->gate = 1;
    if ((mode == 0 || mode == 4) && c->frozen) {
        /* Counting resumes where it stopped. */
        c->frozen = 0;
        uint64_t back = ticks_to_ns(c->frozen_ticks);
        c->load_ns = back < now ? now - back : 0;
        c->tick_base = 0;
    } else if (c->armed && mode != 0 && mode != 4) {
        /* Rising gate: triggers modes 1/5 and restarts modes 2/3. */
        ch_start(p, 2, now);
    }
}

static uint32_t port61_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    Pit *p = dev;
    uint64_t now = clock_now(p->clk);
    uint8_t v = p->r.port61 & P61_WRITABLE;
    pit_sync(p, 2, now);
    if ((now / REFRESH_NS) & 1)
        v |= P61_REFRESH;
    if (ch_out(&p->r.ch[2], now))
        v |= P61_OUT2;
    return v;
}

static void port61_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    Pit *p = dev;
    p->r.port61 = (uint8_t)(value & P61_WRITABLE);
    ch2_set_gate(p, (int)(value & P61_GATE2));
}

static const IoOps port61_ops = {port61_read, port61_write, IO_W8, "port61"};

/* ------------------------------------------------------------ lifecycle */

static void pit_reset(void *dev)
{
    Pit *p = dev;
    memset(&p->r, 0, sizeof p->r);
    for (int n = 0; n < 3; n++) {
        PitChannel *c = &p->r.ch[n];
        c->gate = n != 2; /* gates 0 and 1 are tied high */
        c->reload = 65536;
        c->rw = RW_LATCH;  /* no control word yet */
    }
    pit_irq_update(p, clock_now(p->clk));
}

static void pit_save(void *dev, StateStream *s)
{
    Pit *p = dev;
    state_put(s, "pit", &p->r, sizeof p->r);
}

static int pit_load(void *dev, StateStream *s)
{
    Pit *p = dev;
    if (state_get(s, "pit", &p->r, sizeof p->r) < 0)
        return -1;
    for (int n = 0; n < 3; n++) {
        PitChannel *c = &p->r.ch[n];
        c->mode &= 7;
        c->rw &= 3;
        if (c->reload == 0 || c->reload > 65536)
            c->reload = 65536;
        if (c->pending_reload == 0 || c->pending_reload > 65536)
            c->pending = 0;
    }
    pit_irq_update(p, clock_now(p->clk));
    return 0;
}

static void pit_destroy(void *dev)
{
    Pit *p = dev;
    if (!p)
        return;
    bus_unmap_io(p->bus, 0x40, 4);
    bus_unmap_io(p->bus, 0x61, 1);
    timer_free(p->timer);
    free(p);
}

Pit *pit_create(Bus *bus, Clock *clk, IrqLine irq0)
{
    Pit *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->bus = bus;
    p->clk = clk;
    p->irq0 = irq0;
    p->timer = timer_new(clk, pit_timer_fired, p, "pit");
    if (!p->timer || bus_map_io(bus, 0x40, 4, &pit_ops, p) < 0) {
        timer_free(p->timer);
        free(p);
        return NULL;
    }
    if (bus_map_io(bus, 0x61, 1, &port61_ops, p) < 0) {
        bus_unmap_io(bus, 0x40, 4);
        timer_free(p->timer);
        free(p);
        return NULL;
    }
    pit_reset(p);
    return p;
}

const DeviceClass pit_device_class = {
    .name = "pit",
    .reset = pit_reset,
    .save = pit_save,
    .load = pit_load,
    .destroy = pit_destroy,
};
