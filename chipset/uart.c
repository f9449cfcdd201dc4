/*
 * chipset/uart.c -- a 16550A UART (COM1-COM4 style: 8 ports at `base`).
 *
 * References: National Semiconductor PC16550D datasheet (register map,
 * interrupt priorities in table IV, FIFO control and trigger levels,
 * character timeout, loopback wiring of the modem control lines); IBM PC
 * convention that OUT2 enables the IRQ driver.
 *
 * Transmission is immediate: a byte written to THR goes straight to `out`
 * (or to the receiver in loopback) and THR is empty again at once, so the
 * THRE interrupt follows every write without delay.  Bytes from the host
 * wait in a host-side queue and move into the receiver as it has room (the
 * host never overruns the guest).  The character timeout uses a Timer.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

#define UART_FIFO 16
#define HOST_QUEUE 4096
#define UART_CLOCK_HZ 1843200ull
#define FLUSH_DELAY_NS 10000000ull /* output idle this long is flushed */

enum { REG_DATA = 0, REG_IER = 1, REG_IIR = 2, REG_LCR = 3, REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7 };

#define IER_RDA 0x01
#define IER_THRE 0x02
#define IER_RLS 0x04
#define IER_MS 0x08
#define IIR_NONE 0x01
#define IIR_MS 0x00
#define IIR_THRE 0x02
#define IIR_RDA 0x04
#define IIR_RLS 0x06
#define IIR_TIMEOUT 0x0C
#define IIR_FIFO 0xC0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_CLEAR_TX 0x04
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_OE 0x02
#define LSR_PE 0x04
#define LSR_FE 0x08
#define LSR_BI 0x10
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define LSR_ERRORS (LSR_OE | LSR_PE | LSR_FE | LSR_BI)
#define MSR_DCTS 0x01
#define MSR_DDSR 0x02
#define MSR_TERI 0x04
#define MSR_DDCD 0x08
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80
#define MSR_HOST_LINES (MSR_CTS | MSR_DSR | MSR_DCD) /* a terminal is attached */

typedef struct UartRegs {
    uint8_t rx[UART_FIFO];
    uint8_t rx_head, rx_count;
    uint8_t ier, lcr, mcr, lsr, msr, scr;
    uint8_t fcr;            /* as written (FIFO enable, trigger level) */
    uint8_t dll, dlm;
    uint8_t thr_ipending;   /* THRE interrupt pending until IIR read / THR write */
    uint8_t timeout_pending;
    uint8_t irq_level;
    uint8_t host[HOST_QUEUE];
    uint16_t host_head, host_count;
} UartRegs;

struct Uart {
    Bus *bus;
    Clock *clk;
    uint16_t base;
    IrqLine irq;
    FILE *out;
    Timer *timeout_timer;
    Timer *flush_timer;
    UartRegs r;
};

/* ------------------------------------------------------------ interrupts */

static bool fifo_enabled(const Uart *u) { return u->r.fcr & FCR_ENABLE; }

static unsigned rx_trigger(const Uart *u)
{
    static const uint8_t level[4] = {1, 4, 8, 14};
    return fifo_enabled(u) ? level[u->r.fcr >> 6] : 1;
}

/* Datasheet table IV: line status > received data / timeout > THRE > modem. */
static uint8_t uart_iir(const Uart *u)
{
    const UartRegs *r = &u->r;
    if ((r->ier & IER_RLS) && (r->lsr & LSR_ERRORS))
        return IIR_RLS;
    if ((r->ier & IER_RDA) && r->rx_count >= rx_trigger(u))
        return IIR_RDA;
    if ((r->ier & IER_RDA) && r->timeout_pending && r->rx_count)
        return IIR_TIMEOUT;
    if ((r->ier & IER_THRE) && r->thr_ipending)
        return IIR_THRE;
    if ((r->ier & IER_MS) && (r->msr & (MSR_DCTS | MSR_DDSR | MSR_TERI | MSR_DDCD)))
        return IIR_MS;
    return IIR_NONE;
}

/* On a PC the IRQ driver is enabled by OUT2; in loopback the OUT pins are
 * disconnected, so the line stays quiet. */
static void uart_update_irq(Uart *u)
{
    int level = uart_iir(u) != IIR_NONE && (u->r.mcr & MCR_OUT2) && !(u->r.mcr & MCR_LOOP);
    if (level != u->r.irq_level) {
        u->r.irq_level = (uint8_t)level;
        irq_set(&u->irq, level);
    }
}

/* ------------------------------------------------------------- receiver */

/* One character time at the programmed rate and frame (LCR), in ns. */
static uint64_t uart_char_ns(const Uart *u)
{
    unsigned divisor = u->r.dll | u->r.dlm << 8;
    if (!divisor)
        divisor = 1;
    unsigned bits = 1 + 5 + (u->r.lcr & 3) + ((u->r.lcr & 4) ? 2 : 1) + ((u->r.lcr & 8) ? 1 : 0);
    return (uint64_t)bits * divisor * 16 * 1000000000ull / UART_CLOCK_HZ;
}

/* The timeout indication needs data below the trigger level and no FIFO
 * activity for four character times (datasheet "FIFO Interrupt Mode"). */
static void uart_rx_activity(Uart *u)
{
    u->r.timeout_pending = 0;
    if (fifo_enabled(u) && u->r.rx_count && u->r.rx_count < rx_trigger(u))
        timer_arm(u->timeout_timer, clock_now(u->clk) + 4 * uart_char_ns(u));
    else
        timer_cancel(u->timeout_timer);
}

static void uart_timeout_fired(void *opaque, uint64_t now)
{
    (void)now;
    Uart *u = opaque;
    if (u->r.rx_count)
        u->r.timeout_pending = 1;
    uart_update_irq(u);
}

static unsigned rx_capacity(const Uart *u) { return fifo_enabled(u) ? UART_FIFO : 1; }

/* A character arrives at the receiver (from the host or the loopback). */
static void uart_rx_push(Uart *u, uint8_t c)
{
    UartRegs *r = &u->r;
    if (r->rx_count >= rx_capacity(u)) {
        r->lsr |= LSR_OE; /* the shift register overwrote nothing it could keep */
        return;
    }
    r->rx[(r->rx_head + r->rx_count) % UART_FIFO] = c;
    r->rx_count++;
    r->lsr |= LSR_DR;
}

/* Moves host bytes into the receiver while it has room. */
static void uart_rx_refill(Uart *u)
{
    UartRegs *r = &u->r;
    bool moved = false;
    while (r->host_count && r->rx_count < rx_capacity(u) && !(r->mcr & MCR_LOOP)) {
        uart_rx_push(u, r->host[r->host_head]);
        r->host_head = (uint16_t)((r->host_head + 1) % HOST_QUEUE);
        r->host_count--;
        moved = true;
    }
    if (moved)
        uart_rx_activity(u);
}

static uint8_t uart_rx_pop(Uart *u)
{
    UartRegs *r = &u->r;
    if (!r->rx_count)
        return r->rx[r->rx_head]; /* empty: the last character again */
    uint8_t c = r->rx[r->rx_head];
    r->rx_head = (uint8_t)((r->rx_head + 1) % UART_FIFO);
    r->rx_count--;
    if (!r->rx_count)
        r->lsr &= ~LSR_DR;
    uart_rx_refill(u);
    uart_rx_activity(u);
    return c;
}

void uart_receive(Uart *u, const uint8_t *data, size_t len)
{
    UartRegs *r = &u->r;
    for (size_t i = 0; i < len && r->host_count < HOST_QUEUE; i++) {
        r->host[(r->host_head + r->host_count) % HOST_QUEUE] = data[i];
        r->host_count++;
    }
    uart_rx_refill(u);
    uart_update_irq(u);
}

/* ----------------------------------------------------------- transmitter */

static void uart_flush_fired(void *opaque, uint64_t now)
{
    (void)now;
    Uart *u = opaque;
    if (u->out)
        fflush(u->out);
}

static void uart_transmit(Uart *u, uint8_t c)
{
    if (u->r.mcr & MCR_LOOP) {
        uart_rx_push(u, c);
        uart_rx_activity(u);
    } else if (u->out) {
        fputc(c, u->out);
        if (c == '\n')
            fflush(u->out);
        else
            timer_arm(u->flush_timer, clock_now(u->clk) + FLUSH_DELAY_NS);
    }
    u->r.thr_ipending = 1; /* THR (and the shifter) are empty again */
}

/* ------------------------------------------------------------- modem lines */

/* The modem status inputs: in loopback they are the MCR outputs
 * (RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD); otherwise a live terminal. */
static uint8_t uart_msr_lines(const Uart *u)
{
    uint8_t m = u->r.mcr;
    if (!(m & MCR_LOOP))
        return MSR_HOST_LINES;
    return (uint8_t)(((m & MCR_RTS) ? MSR_CTS : 0) | ((m & MCR_DTR) ? MSR_DSR : 0) |
                     ((m & MCR_OUT1) ? MSR_RI : 0) | ((m & MCR_OUT2) ? MSR_DCD : 0));
}

static void uart_set_msr_lines(Uart *u, uint8_t lines)
{
    uint8_t old = u->r.msr, delta = (uint8_t)((old ^ lines) & 0xF0);
    uint8_t d = u->r.msr & 0x0F;
    if (delta & MSR_CTS)
        d |= MSR_DCTS;
    if (delta & MSR_DSR)
        d |= MSR_DDSR;
    if (delta & MSR_DCD)
        d |= MSR_DDCD;
    if ((delta & MSR_RI) && !(lines & MSR_RI))
        d |= MSR_TERI; /* trailing edge of RI only */
    u->r.msr = (uint8_t)(lines | d);
}

/* ---------------------------------------------------------------- ports */

static uint8_t uart_read_iir(Uart *u)
{
    uint8_t iir = uart_iir(u);
    if (iir == IIR_THRE)
        u->r.thr_ipending = 0; /* reading IIR as the source clears it */
    return (uint8_t)(iir | (fifo_enabled(u) ? IIR_FIFO : 0));
}

static uint8_t uart_read_lsr(Uart *u)
{
    uint8_t v = u->r.lsr | LSR_THRE | LSR_TEMT;
    if (fifo_enabled(u) && (u->r.lsr & LSR_ERRORS))
        v |= 0x80;
    u->r.lsr &= ~LSR_ERRORS;
    return v;
}

static uint8_t uart_read_msr(Uart *u)
{
    uint8_t v = u->r.msr;
    u->r.msr &= 0xF0;
    return v;
}

static uint32_t uart_io_read(void *dev, uint32_t offset, unsigned width)
{
    (void)width;
    Uart *u = dev;
    bool dlab = u->r.lcr & LCR_DLAB;
    uint8_t v;
    switch (offset) {
    case REG_DATA: v = dlab ? u->r.dll : uart_rx_pop(u); break;
    case REG_IER: v = dlab ? u->r.dlm : u->r.ier; break;
    case REG_IIR: v = uart_read_iir(u); break;
    case REG_LCR: v = u->r.lcr; break;
    case REG_MCR: v = u->r.mcr; break;
    case REG_LSR: v = uart_read_lsr(u); break;
    case REG_MSR: v = uart_read_msr(u); break;
    default: v = u->r.scr; break;
    }
    uart_update_irq(u);
    return v;
}

static void uart_write_ier(Uart *u, uint8_t v)
{
    v &= 0x0F;
    /* Enabling ETBEI while THR is empty raises the THRE interrupt. */
    if ((v & IER_THRE) && !(u->r.ier & IER_THRE))
        u->r.thr_ipending = 1;
    u->r.ier = v;
}

static void uart_write_fcr(Uart *u, uint8_t v)
{
    if ((v ^ u->r.fcr) & FCR_ENABLE)
        v |= FCR_CLEAR_RX | FCR_CLEAR_TX; /* toggling FIFO mode resets both FIFOs */
    u->r.fcr = v & 0xC1;
    if (v & FCR_CLEAR_RX) {
        u->r.rx_count = 0;
        u->r.rx_head = 0;
        u->r.lsr &= ~LSR_DR;
        u->r.timeout_pending = 0;
        uart_rx_refill(u);
    }
    uart_rx_activity(u);
}

static void uart_write_mcr(Uart *u, uint8_t v)
{
    u->r.mcr = v & 0x1F;
    uart_set_msr_lines(u, uart_msr_lines(u));
    uart_rx_refill(u);
}

static void uart_io_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)width;
    Uart *u = dev;
    uint8_t v = (uint8_t)value;
    bool dlab = u->r.lcr & LCR_DLAB;
    switch (offset) {
    case REG_DATA:
        if (dlab)
            u->r.dll = v;
        else
            uart_transmit(u, v);
        break;
    case REG_IER:
        if (dlab)
            u->r.dlm = v;
        else
            uart_write_ier(u, v);
        break;
    case REG_IIR: uart_write_fcr(u, v); break;
    case REG_LCR: u->r.lcr = v; break;
    case REG_MCR: uart_write_mcr(u, v); break;
    case REG_LSR: break; /* factory test register: writes ignored */
    case REG_MSR: break;
    default: u->r.scr = v; break;
    }
    uart_update_irq(u);
}

static const IoOps uart_ops = {uart_io_read, uart_io_write, IO_W8, "uart"};

/* ------------------------------------------------------------ lifecycle */

static void uart_reset(void *dev)
{
    Uart *u = dev;
    UartRegs *r = &u->r;
    uint16_t head = r->host_head, count = r->host_count;
    uint8_t host[HOST_QUEUE];
    memcpy(host, r->host, sizeof host);
    memset(r, 0, sizeof *r);
    memcpy(r->host, host, sizeof host); /* the host's typing survives a guest reset */
    r->host_head = head;
    r->host_count = count;
    r->dll = 0x0C; /* 9600 baud */
    r->msr = uart_msr_lines(u);
    timer_cancel(u->timeout_timer);
    irq_set(&u->irq, 0);
    uart_rx_refill(u);
}

static void uart_save(void *dev, StateStream *s)
{
    Uart *u = dev;
    state_put(s, "uart", &u->r, sizeof u->r);
}

static int uart_load(void *dev, StateStream *s)
{
    Uart *u = dev;
    if (state_get(s, "uart", &u->r, sizeof u->r) < 0)
        return -1;
    UartRegs *r = &u->r;
    r->rx_head %= UART_FIFO;
    if (r->rx_count > UART_FIFO)
        r->rx_count = UART_FIFO;
    r->host_head %= HOST_QUEUE;
    if (r->host_count > HOST_QUEUE)
        r->host_count = HOST_QUEUE;
    r->irq_level = !r->irq_level;
    uart_rx_activity(u);
    uart_update_irq(u);
    return 0;
}

static void uart_destroy(void *dev)
{
    Uart *u = dev;
    if (!u)
        return;
    if (u->out)
        fflush(u->out);
    bus_unmap_io(u->bus, u->base, 8);
    timer_free(u->timeout_timer);
    timer_free(u->flush_timer);
    free(u);
}

Uart *uart_create(Bus *bus, Clock *clk, uint16_t base, IrqLine irq, FILE *out)
{
    Uart *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->bus = bus;
    u->clk = clk;
    u->base = base;
    u->irq = irq;
    u->out = out;
    u->timeout_timer = timer_new(clk, uart_timeout_fired, u, "uart-timeout");
    u->flush_timer = timer_new(clk, uart_flush_fired, u, "uart-flush");
    if (!u->timeout_timer || !u->flush_timer || bus_map_io(bus, base, 8, &uart_ops, u) < 0) {
        timer_free(u->timeout_timer);
        timer_free(u->flush_timer);
        free(u);
        return NULL;
    }
    uart_reset(u);
    return u;
}

const DeviceClass uart_device_class = {
    .name = "uart",
    .reset = uart_reset,
    .save = uart_save,
    .load = uart_load,
    .destroy = uart_destroy,
};
