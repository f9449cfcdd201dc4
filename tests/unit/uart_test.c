/* tests/unit/uart_test.c -- the 16550A through its eight ports (PC16550D datasheet). */
#include "chiptest.h"

#define COM1 0x3F8

typedef struct UartFix {
    Bus *bus;
    Clock *clk;
    Uart *uart;
    ChipIrqs irqs;
    char *out;
    size_t outlen;
    FILE *f;
} UartFix;

static void uart_fix_init(UartFix *x)
{
    memset(x, 0, sizeof *x);
    x->bus = bus_create(1 << 20, NULL);
    x->clk = clock_create(CLOCK_VIRTUAL);
    x->f = open_memstream(&x->out, &x->outlen);
    x->uart = uart_create(x->bus, x->clk, COM1, chiptest_line(&x->irqs, 4), x->f);
}

static void uart_fix_done(UartFix *x)
{
    uart_device_class.destroy(x->uart);
    fclose(x->f);
    free(x->out);
    clock_destroy(x->clk);
    bus_destroy(x->bus);
}

TEST(uart, linux_autodetect)
{
    UartFix x;
    uart_fix_init(&x);
    outb(x.bus, COM1 + 1, 0x00);
    CHECK_EQ(inb(x.bus, COM1 + 1) & 0x0F, 0);
    outb(x.bus, COM1 + 1, 0xFF);
    CHECK_EQ(inb(x.bus, COM1 + 1), 0x0F);
    outb(x.bus, COM1 + 1, 0x00);
    outb(x.bus, COM1 + 7, 0xA5);
    CHECK_EQ(inb(x.bus, COM1 + 7), 0xA5);
    outb(x.bus, COM1 + 4, 0x1A);                 /* loopback, RTS, OUT2 */
    CHECK_EQ(inb(x.bus, COM1 + 6) & 0xF0, 0x90); /* CTS, DCD */
    outb(x.bus, COM1 + 4, 0x1F);
    CHECK_EQ(inb(x.bus, COM1 + 6) & 0xF0, 0xF0);
    outb(x.bus, COM1 + 4, 0x00);
    CHECK_EQ(inb(x.bus, COM1 + 6) & 0xF0, 0xB0); /* a terminal: CTS DSR DCD */
    outb(x.bus, COM1 + 2, 0x01);
    CHECK_EQ(inb(x.bus, COM1 + 2) >> 6, 3);      /* 16550A FIFOs */
    outb(x.bus, COM1 + 2, 0x21);
    CHECK_EQ(inb(x.bus, COM1 + 2) >> 5, 6);      /* not a 16750 */
    outb(x.bus, COM1 + 3, 0xBF);
    CHECK(inb(x.bus, COM1 + 2) != 0);            /* no EFR: not a 16650 */
    outb(x.bus, COM1 + 0, 0x01);                 /* DLL */
    outb(x.bus, COM1 + 1, 0x02);                 /* DLM */
    CHECK_EQ(inb(x.bus, COM1 + 0), 0x01);
    CHECK_EQ(inb(x.bus, COM1 + 1), 0x02);
    outb(x.bus, COM1 + 3, 0x03);
    CHECK_EQ(inb(x.bus, COM1 + 1), 0x00);        /* IER again */
    uart_fix_done(&x);
}

TEST(uart, seabios_detect_and_thre)
{
    UartFix x;
    uart_fix_init(&x);
    outb(x.bus, COM1 + 1, 0x02);
    CHECK_EQ(inb(x.bus, COM1 + 1), 0x02);
    CHECK_EQ(inb(x.bus, COM1 + 2) & 0x3F, 0x02);
    CHECK_EQ(inb(x.bus, COM1 + 2) & 0x3F, 0x01); /* cleared by the IIR read */
    outb(x.bus, COM1 + 1, 0x00);
    /* THRE interrupt on IRQ 4 only with OUT2. */
    outb(x.bus, COM1 + 1, 0x02);
    CHECK_EQ(x.irqs.level[4], 0);
    outb(x.bus, COM1 + 4, 0x08);
    CHECK_EQ(x.irqs.level[4], 1);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0x02);
    CHECK_EQ(x.irqs.level[4], 0);
    outb(x.bus, COM1, 'A');                      /* sent at once: THRE again */
    CHECK_EQ(x.irqs.level[4], 1);
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x60, 0x60);
    uart_fix_done(&x);
}

TEST(uart, transmit_to_out)
{
    UartFix x;
    uart_fix_init(&x);
    const char *msg = "hello\nworld";
    for (const char *p = msg; *p; p++)
        outb(x.bus, COM1, (uint8_t)*p);
    fflush(x.f);
    CHECK_STR(x.out, "hello\nworld");
    uart_fix_done(&x);
}

TEST(uart, loopback_and_overrun)
{
    UartFix x;
    uart_fix_init(&x);
    outb(x.bus, COM1 + 4, 0x10);
    outb(x.bus, COM1, 0x55);
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x01, 0x01);
    outb(x.bus, COM1, 0x66);                     /* no FIFO: overrun */
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x03, 0x03);
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x02, 0x00); /* OE cleared by the LSR read */
    CHECK_EQ(inb(x.bus, COM1), 0x55);
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x01, 0x00);
    fflush(x.f);
    CHECK_EQ(x.outlen, 0);                       /* nothing left the chip */
    /* Priority: line status before received data before THRE. */
    outb(x.bus, COM1 + 1, 0x07);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0x02);
    outb(x.bus, COM1, 1);
    outb(x.bus, COM1, 2);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0x06);
    (void)inb(x.bus, COM1 + 5);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0x04);
    CHECK_EQ(inb(x.bus, COM1), 1);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0x02);
    CHECK_EQ(x.irqs.rises[4], 0);                /* loopback keeps IRQ quiet */
    /* FIFO mode: 16 characters fit, the 17th overruns. */
    outb(x.bus, COM1 + 2, 0x07);
    for (int i = 0; i < 17; i++)
        outb(x.bus, COM1, (uint8_t)(0x30 + i));
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x83, 0x83);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(inb(x.bus, COM1), 0x30 + i);
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x01, 0);
    /* Modem status deltas follow MCR in loopback. */
    (void)inb(x.bus, COM1 + 6);
    outb(x.bus, COM1 + 4, 0x12);
    CHECK_EQ(inb(x.bus, COM1 + 6), 0x11);        /* CTS, DCTS */
    CHECK_EQ(inb(x.bus, COM1 + 6), 0x10);
    outb(x.bus, COM1 + 4, 0x16);
    outb(x.bus, COM1 + 4, 0x12);
    CHECK_EQ(inb(x.bus, COM1 + 6), 0x14);        /* TERI on RI's trailing edge */
    uart_fix_done(&x);
}

TEST(uart, fifo_trigger_and_timeout)
{
    UartFix x;
    uart_fix_init(&x);
    outb(x.bus, COM1 + 3, 0x80);
    outb(x.bus, COM1 + 0, 0x01);                 /* 115200 baud */
    outb(x.bus, COM1 + 1, 0x00);
    outb(x.bus, COM1 + 3, 0x03);
    outb(x.bus, COM1 + 2, 0x87);                 /* FIFO, trigger 8 */
    outb(x.bus, COM1 + 4, 0x0B);
    outb(x.bus, COM1 + 1, 0x01);
    uart_receive(x.uart, (const uint8_t *)"abc", 3);
    CHECK_EQ(x.irqs.level[4], 0);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0xC1);
    chiptest_run(x.clk, 400000, 10000);          /* > 4 character times */
    CHECK_EQ(x.irqs.level[4], 1);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0xCC);
    CHECK_EQ(inb(x.bus, COM1), 'a');
    CHECK_EQ(x.irqs.level[4], 0);                /* activity restarts the timeout */
    CHECK_EQ(inb(x.bus, COM1), 'b');
    CHECK_EQ(inb(x.bus, COM1), 'c');
    chiptest_run(x.clk, 400000, 10000);
    CHECK_EQ(x.irqs.level[4], 0);
    uart_receive(x.uart, (const uint8_t *)"0123456789", 10);
    CHECK_EQ(x.irqs.level[4], 1);
    CHECK_EQ(inb(x.bus, COM1 + 2), 0xC4);
    uart_fix_done(&x);
}

TEST(uart, host_queue_no_overrun)
{
    UartFix x;
    uart_fix_init(&x);
    uint8_t buf[100];
    for (int i = 0; i < 100; i++)
        buf[i] = (uint8_t)i;
    uart_receive(x.uart, buf, sizeof buf);
    int got = 0;
    while (inb(x.bus, COM1 + 5) & 0x01) {
        CHECK_EQ(inb(x.bus, COM1), got);
        got++;
        if (got > 200)
            break;
    }
    CHECK_EQ(got, 100);
    CHECK_EQ(inb(x.bus, COM1 + 5) & 0x02, 0);
    uart_receive(x.uart, buf, 5);
    CHECK_EQ(chiptest_roundtrip(&uart_device_class, x.uart), 0);
    CHECK_EQ(inb(x.bus, COM1), 0);
    CHECK_EQ(inb(x.bus, COM1), 1);
    uart_fix_done(&x);
}

TEST(uart, nonsense)
{
    UartFix x;
    uart_fix_init(&x);
    uint32_t seed = 31337;
    for (int i = 0; i < 30000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port = (uint16_t)(COM1 + (r & 7));
        if (r & 8)
            outb(x.bus, port, (uint8_t)(r >> 8));
        else
            (void)inb(x.bus, port);
        if ((r & 0x1F0) == 0)
            uart_receive(x.uart, (const uint8_t *)&r, 4);
        if ((r & 0x1F0) == 0x10)
            chiptest_run(x.clk, (r >> 20) * 100, 100000);
    }
    uart_device_class.reset(x.uart);
    outb(x.bus, COM1 + 7, 0x42);
    CHECK_EQ(inb(x.bus, COM1 + 7), 0x42);
    uart_fix_done(&x);
}

TEST(uart, modem_status_interrupt)
{
    UartFix x;
    uart_fix_init(&x);
    outb(x.bus, COM1 + 4, 0x10);                 /* loopback */
    (void)inb(x.bus, COM1 + 6);
    outb(x.bus, COM1 + 1, 0x08);                 /* modem status interrupt only */
    CHECK_EQ(inb(x.bus, COM1 + 2) & 0x0F, 0x01);
    outb(x.bus, COM1 + 4, 0x11);                 /* DTR -> DSR */
    CHECK_EQ(inb(x.bus, COM1 + 2) & 0x0F, 0x00);
    CHECK_EQ(inb(x.bus, COM1 + 6), 0x22);        /* DSR, DDSR; the read clears */
    CHECK_EQ(inb(x.bus, COM1 + 2) & 0x0F, 0x01);
    /* Out of loopback with OUT2: a delta raises IRQ 4. */
    outb(x.bus, COM1 + 4, 0x08);
    CHECK_EQ(x.irqs.level[4], 1);                /* the terminal's lines appeared */
    (void)inb(x.bus, COM1 + 6);
    CHECK_EQ(x.irqs.level[4], 0);
    uart_fix_done(&x);
}
