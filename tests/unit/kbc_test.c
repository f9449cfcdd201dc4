/* tests/unit/kbc_test.c -- the 8042 and its PS/2 keyboard and mouse through
 * ports 0x60/0x64 (IBM PS/2 technical references). */
#include "chiptest.h"

typedef struct KbcFix {
    Bus *bus;
    Clock *clk;
    Kbc *kbc;
    ChipIrqs irqs;
    ChipCpu cpu;
} KbcFix;

static void kbc_fix_init(KbcFix *f)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(1 << 20, NULL);
    f->clk = clock_create(CLOCK_VIRTUAL);
    bus_set_cpu_hooks(f->bus, &chiptest_hooks, &f->cpu);
    f->kbc = kbc_create(f->bus, f->clk, chiptest_line(&f->irqs, 1), chiptest_line(&f->irqs, 12));
}

static void kbc_fix_done(KbcFix *f)
{
    kbc_device_class.destroy(f->kbc);
    clock_destroy(f->clk);
    bus_destroy(f->bus);
}

/* Reads the next output-buffer byte, or -1 when the buffer is empty. */
static int rd(KbcFix *f)
{
    if (!(inb(f->bus, 0x64) & 0x01))
        return -1;
    return inb(f->bus, 0x60);
}

static void cmd(KbcFix *f, uint8_t c) { outb(f->bus, 0x64, c); }
static void dat(KbcFix *f, uint8_t d) { outb(f->bus, 0x60, d); }
static void mouse(KbcFix *f, uint8_t d)
{
    cmd(f, 0xD4);
    dat(f, d);
}

static void set_cmd_byte(KbcFix *f, uint8_t v)
{
    cmd(f, 0x60);
    dat(f, v);
}

/* Collects everything pending into buf; returns the count. */
static int drain(KbcFix *f, uint8_t *buf, int max)
{
    int n = 0, b;
    while (n < max && (b = rd(f)) >= 0)
        buf[n++] = (uint8_t)b;
    return n;
}

#define EXPECT_BYTES(f, ...)                                                   \
    do {                                                                       \
        static const uint8_t want_[] = {__VA_ARGS__};                          \
        uint8_t got_[64];                                                      \
        int n_ = drain(f, got_, 64);                                           \
        CHECK_EQ(n_, (int)sizeof want_);                                       \
        for (int i_ = 0; i_ < n_ && i_ < (int)sizeof want_; i_++)              \
            CHECK_EQ(got_[i_], want_[i_]);                                     \
    } while (0)

TEST(kbc, controller_commands)
{
    KbcFix f;
    kbc_fix_init(&f);
    CHECK_EQ(inb(f.bus, 0x64) & 0x01, 0);
    cmd(&f, 0xAA);
    CHECK_EQ(inb(f.bus, 0x64) & 0x0D, 0x0D);     /* OBF, SYS, last write a command */
    EXPECT_BYTES(&f, 0x55);
    cmd(&f, 0xAB);
    EXPECT_BYTES(&f, 0x00);
    cmd(&f, 0xA9);
    EXPECT_BYTES(&f, 0x00);
    cmd(&f, 0x20);
    EXPECT_BYTES(&f, 0x43);
    set_cmd_byte(&f, 0x45);
    CHECK_EQ(inb(f.bus, 0x64) & 0x08, 0);
    cmd(&f, 0x20);
    EXPECT_BYTES(&f, 0x45);
    cmd(&f, 0xA7);
    cmd(&f, 0x20);
    EXPECT_BYTES(&f, 0x65);
    cmd(&f, 0xA8);
    cmd(&f, 0xAD);
    cmd(&f, 0x20);
    EXPECT_BYTES(&f, 0x55);
    cmd(&f, 0xAE);
    cmd(&f, 0x75);                               /* controller RAM byte 0x15 */
    dat(&f, 0x9C);
    cmd(&f, 0x35);
    EXPECT_BYTES(&f, 0x9C);
    cmd(&f, 0xC0);
    CHECK(rd(&f) >= 0);
    cmd(&f, 0xD2);                               /* echo as keyboard data */
    dat(&f, 0x1E);
    EXPECT_BYTES(&f, 0x1E);
    cmd(&f, 0xA7);                               /* even with the aux port off */
    cmd(&f, 0xD3);                               /* echo as mouse data */
    dat(&f, 0x77);
    CHECK_EQ(inb(f.bus, 0x64) & 0x21, 0x21);
    EXPECT_BYTES(&f, 0x77);
    CHECK_EQ(inb(f.bus, 0x60), 0x77);            /* empty buffer: last byte again */
    mouse(&f, 0xF2);                             /* D4 enables the aux interface */
    EXPECT_BYTES(&f, 0xFA, 0x00);
    kbc_fix_done(&f);
}

TEST(kbc, a20_and_reset)
{
    KbcFix f;
    kbc_fix_init(&f);
    CHECK(bus_a20(f.bus));
    cmd(&f, 0xD0);
    CHECK_EQ(rd(&f) & 0x03, 0x03);
    cmd(&f, 0xD1);
    dat(&f, 0xDD);
    CHECK(!bus_a20(f.bus));
    CHECK_EQ(bus_take_request(f.bus, NULL), BUS_REQ_NONE);
    cmd(&f, 0xD1);
    dat(&f, 0xDF);
    CHECK(bus_a20(f.bus));
    cmd(&f, 0xDD);
    CHECK(!bus_a20(f.bus));
    cmd(&f, 0xD0);
    CHECK_EQ(rd(&f) & 0x02, 0x00);
    cmd(&f, 0xDF);
    CHECK(bus_a20(f.bus));
    cmd(&f, 0xFF);                               /* pulse nothing */
    CHECK_EQ(bus_take_request(f.bus, NULL), BUS_REQ_NONE);
    cmd(&f, 0xFE);
    CHECK_EQ(bus_take_request(f.bus, NULL), BUS_REQ_RESET);
    CHECK(f.cpu.stops > 0);
    cmd(&f, 0xD1);
    dat(&f, 0xDE);                               /* output port bit 0 low: reset */
    CHECK_EQ(bus_take_request(f.bus, NULL), BUS_REQ_RESET);
    kbc_fix_done(&f);
}

TEST(kbc, keyboard_commands)
{
    KbcFix f;
    kbc_fix_init(&f);
    dat(&f, 0xFF);
    EXPECT_BYTES(&f, 0xFA, 0xAA);
    dat(&f, 0xF2);
    EXPECT_BYTES(&f, 0xFA, 0xAB, 0x41);          /* translated ID */
    dat(&f, 0xF0);
    dat(&f, 0x00);
    EXPECT_BYTES(&f, 0xFA, 0xFA, 0x41);          /* set 2, translated */
    set_cmd_byte(&f, 0x03);                      /* translation off */
    dat(&f, 0xF2);
    EXPECT_BYTES(&f, 0xFA, 0xAB, 0x83);
    dat(&f, 0xEE);
    EXPECT_BYTES(&f, 0xEE);
    dat(&f, 0xED);
    dat(&f, 0x07);
    EXPECT_BYTES(&f, 0xFA, 0xFA);
    dat(&f, 0xF0);
    dat(&f, 0x00);
    EXPECT_BYTES(&f, 0xFA, 0xFA, 0x02);
    dat(&f, 0xF0);
    dat(&f, 0x07);
    EXPECT_BYTES(&f, 0xFA, 0xFE);                /* no set 7 */
    dat(&f, 0xF3);
    dat(&f, 0x00);
    EXPECT_BYTES(&f, 0xFA, 0xFA);
    dat(&f, 0xF5);
    EXPECT_BYTES(&f, 0xFA);
    kbc_key_event(f.kbc, 0x1E, true);            /* scanning disabled */
    EXPECT_BYTES(&f);
    dat(&f, 0xF4);
    EXPECT_BYTES(&f, 0xFA);
    dat(&f, 0xFE);
    EXPECT_BYTES(&f, 0xFA);                      /* resend */
    dat(&f, 0x99);
    EXPECT_BYTES(&f, 0xFE);                      /* unknown command */
    dat(&f, 0xF0);
    dat(&f, 0x01);
    EXPECT_BYTES(&f, 0xFA, 0xFA);
    kbc_key_event(f.kbc, 0x1E, true);
    kbc_key_event(f.kbc, 0x1E, false);
    EXPECT_BYTES(&f, 0x1E, 0x9E);
    dat(&f, 0xF0);
    dat(&f, 0x03);
    EXPECT_BYTES(&f, 0xFA, 0xFA);
    kbc_key_event(f.kbc, 0x3B, true);            /* F1 in set 3 */
    kbc_key_event(f.kbc, 0x3B, false);
    EXPECT_BYTES(&f, 0x07, 0xF0, 0x07);
    kbc_fix_done(&f);
}

TEST(kbc, scancode_sets_and_translation)
{
    KbcFix f;
    kbc_fix_init(&f);
    /* Translation on: set 2 comes out as set 1, for every key. */
    for (int code = 1; code <= 0x58; code++) {
        if (code == 0x55)
            continue; /* no key */
        kbc_key_event(f.kbc, code, true);
        kbc_key_event(f.kbc, code, false);
        uint8_t got[8];
        int n = drain(&f, got, 8);
        CHECK_EQ(n, 2);
        CHECK_EQ(got[0], code);
        CHECK_EQ(got[1], code | 0x80);
    }
    static const int ext[] = {0x1C, 0x1D, 0x35, 0x38, 0x47, 0x48, 0x49, 0x4B, 0x4D,
                              0x4F, 0x50, 0x51, 0x52, 0x53, 0x5B, 0x5C, 0x5D};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        kbc_key_event(f.kbc, 0xE000 | ext[i], true);
        kbc_key_event(f.kbc, 0xE000 | ext[i], false);
        uint8_t got[8];
        CHECK_EQ(drain(&f, got, 8), 4);
        CHECK_EQ(got[0], 0xE0);
        CHECK_EQ(got[1], ext[i]);
        CHECK_EQ(got[2], 0xE0);
        CHECK_EQ(got[3], ext[i] | 0x80);
    }
    kbc_key_event(f.kbc, 0xE037, true);
    kbc_key_event(f.kbc, 0xE037, false);
    EXPECT_BYTES(&f, 0xE0, 0x2A, 0xE0, 0x37, 0xE0, 0xB7, 0xE0, 0xAA);
    kbc_key_event(f.kbc, KBC_KEY_PAUSE, true);
    kbc_key_event(f.kbc, KBC_KEY_PAUSE, false);
    EXPECT_BYTES(&f, 0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5);
    /* Translation off: raw set 2. */
    set_cmd_byte(&f, 0x03);
    kbc_key_event(f.kbc, 0x1E, true);
    kbc_key_event(f.kbc, 0x1E, false);
    EXPECT_BYTES(&f, 0x1C, 0xF0, 0x1C);
    kbc_key_event(f.kbc, 0x41, true);            /* F7 */
    EXPECT_BYTES(&f, 0x83);
    kbc_key_event(f.kbc, 0x41, false);
    EXPECT_BYTES(&f, 0xF0, 0x83);
    kbc_key_event(f.kbc, 0xE048, true);
    kbc_key_event(f.kbc, 0xE048, false);
    EXPECT_BYTES(&f, 0xE0, 0x75, 0xE0, 0xF0, 0x75);
    kbc_key_event(f.kbc, 0xE037, true);
    kbc_key_event(f.kbc, 0xE037, false);
    EXPECT_BYTES(&f, 0xE0, 0x12, 0xE0, 0x7C, 0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12);
    kbc_key_event(f.kbc, KBC_KEY_PAUSE, true);
    EXPECT_BYTES(&f, 0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77);
    kbc_key_event(f.kbc, 0x9E, true);            /* not make codes: ignored */
    kbc_key_event(f.kbc, 0x1234, true);
    kbc_key_event(f.kbc, 0xE0F0, true);
    kbc_key_event(f.kbc, -5, true);
    EXPECT_BYTES(&f);
    kbc_fix_done(&f);
}

TEST(kbc, irqs_and_priority)
{
    KbcFix f;
    kbc_fix_init(&f);
    set_cmd_byte(&f, 0x03);
    kbc_key_event(f.kbc, 0x1E, true);
    CHECK_EQ(f.irqs.level[1], 1);
    CHECK(!kbc_keyboard_idle(f.kbc));
    (void)inb(f.bus, 0x60);
    CHECK_EQ(f.irqs.level[1], 0);
    CHECK(kbc_keyboard_idle(f.kbc));
    /* Mouse byte and key byte both pending: the keyboard's goes first. */
    mouse(&f, 0xF4);                             /* FA from the mouse */
    CHECK_EQ(f.irqs.level[12], 1);
    CHECK_EQ(inb(f.bus, 0x64) & 0x20, 0x20);
    kbc_key_event(f.kbc, 0x1E, false);
    CHECK_EQ(inb(f.bus, 0x60), 0xFA);
    CHECK_EQ(f.irqs.level[12], 0);
    CHECK_EQ(f.irqs.level[1], 1);
    CHECK_EQ(inb(f.bus, 0x64) & 0x20, 0x00);
    EXPECT_BYTES(&f, 0xF0, 0x1C);
    /* Interrupt enables gate the lines, not the data. */
    set_cmd_byte(&f, 0x00);
    kbc_key_event(f.kbc, 0x1E, true);
    CHECK_EQ(f.irqs.level[1], 0);
    EXPECT_BYTES(&f, 0x1C);
    /* A disabled keyboard interface holds the bytes back. */
    cmd(&f, 0xAD);
    kbc_key_event(f.kbc, 0x1E, false);
    CHECK_EQ(rd(&f), -1);
    cmd(&f, 0xAE);
    EXPECT_BYTES(&f, 0xF0, 0x1C);
    int rises = f.irqs.rises[1];
    set_cmd_byte(&f, 0x01);
    kbc_key_event(f.kbc, 0x1E, true);
    kbc_key_event(f.kbc, 0x1E, false);
    (void)inb(f.bus, 0x60);
    (void)inb(f.bus, 0x60);
    CHECK_EQ(f.irqs.rises[1] - rises, 3);       /* one edge per byte */
    kbc_fix_done(&f);
}

TEST(kbc, typematic)
{
    KbcFix f;
    kbc_fix_init(&f);
    kbc_key_event(f.kbc, 0x1E, true);
    kbc_key_event(f.kbc, 0x1E, true);            /* host auto-repeat is ignored */
    EXPECT_BYTES(&f, 0x1E);
    chiptest_run(f.clk, 450000000, 10000000);
    CHECK_EQ(rd(&f), -1);                        /* 500 ms delay not over */
    chiptest_run(f.clk, 550000000, 10000000);
    uint8_t got[64];
    int n = drain(&f, got, 64);
    CHECK(n >= 5 && n <= 7);                     /* ~10.9/s after the delay */
    for (int i = 0; i < n; i++)
        CHECK_EQ(got[i], 0x1E);
    kbc_key_event(f.kbc, 0x1E, false);
    EXPECT_BYTES(&f, 0x9E);
    chiptest_run(f.clk, 1000000000, 10000000);
    CHECK_EQ(rd(&f), -1);
    /* Faster rate: 30/s after 250 ms. */
    dat(&f, 0xF3);
    dat(&f, 0x00);
    EXPECT_BYTES(&f, 0xFA, 0xFA);
    kbc_key_event(f.kbc, 0x1E, true);
    chiptest_run(f.clk, 1000000000, 5000000);
    n = drain(&f, got, 64);
    CHECK(n >= 20 && n <= 26);
    kbc_fix_done(&f);
}

TEST(kbc, mouse_commands)
{
    KbcFix f;
    kbc_fix_init(&f);
    mouse(&f, 0xFF);
    EXPECT_BYTES(&f, 0xFA, 0xAA, 0x00);
    mouse(&f, 0xF2);
    EXPECT_BYTES(&f, 0xFA, 0x00);
    mouse(&f, 0xE9);
    EXPECT_BYTES(&f, 0xFA, 0x00, 0x02, 100);
    mouse(&f, 0xE8);
    mouse(&f, 0x03);
    mouse(&f, 0xE7);
    mouse(&f, 0xF3);
    mouse(&f, 40);
    EXPECT_BYTES(&f, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA);
    mouse(&f, 0xE9);
    EXPECT_BYTES(&f, 0xFA, 0x10, 0x03, 40);
    mouse(&f, 0xE6);
    mouse(&f, 0xF4);
    EXPECT_BYTES(&f, 0xFA, 0xFA);
    /* Stream packets: 3 bytes, y up, sign bits. */
    kbc_mouse_event(f.kbc, 5, 3, 0, 1);
    EXPECT_BYTES(&f, 0x29, 0x05, 0xFD);
    kbc_mouse_event(f.kbc, -2, 0, 0, 0);
    EXPECT_BYTES(&f, 0x18, 0xFE, 0x00);
    kbc_mouse_event(f.kbc, 0, 0, 0, 2);          /* button only */
    EXPECT_BYTES(&f, 0x0A, 0x00, 0x00);
    /* IntelliMouse knock: 200, 100, 80 -> ID 3 and a wheel byte. */
    mouse(&f, 0xF3); mouse(&f, 200);
    mouse(&f, 0xF3); mouse(&f, 100);
    mouse(&f, 0xF3); mouse(&f, 80);
    mouse(&f, 0xF2);
    EXPECT_BYTES(&f, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x03);
    kbc_mouse_event(f.kbc, 1, 0, 1, 0);
    EXPECT_BYTES(&f, 0x08, 0x01, 0x00, 0x01);
    /* Remote mode: EB reads, with overflow beyond 9 bits. */
    mouse(&f, 0xF0);
    EXPECT_BYTES(&f, 0xFA);
    kbc_mouse_event(f.kbc, 300, -10, 0, 0);
    EXPECT_BYTES(&f);
    mouse(&f, 0xEB);
    EXPECT_BYTES(&f, 0xFA, 0x48, 0xFF, 0x0A, 0x00);
    mouse(&f, 0xEB);
    EXPECT_BYTES(&f, 0xFA, 0x08, 0x00, 0x00, 0x00);
    /* Wrap mode echoes; reset leaves IntelliMouse mode. */
    mouse(&f, 0xEE);
    mouse(&f, 0x12);
    mouse(&f, 0xEC);
    EXPECT_BYTES(&f, 0xFA, 0x12, 0xFA);
    mouse(&f, 0x42);
    EXPECT_BYTES(&f, 0xFE);
    mouse(&f, 0xFF);
    mouse(&f, 0xF2);
    EXPECT_BYTES(&f, 0xFA, 0xAA, 0x00, 0xFA, 0x00);
    kbc_fix_done(&f);
}

TEST(kbc, mouse_large_motion_streams)
{
    KbcFix f;
    kbc_fix_init(&f);
    mouse(&f, 0xF4);
    EXPECT_BYTES(&f, 0xFA);
    kbc_mouse_event(f.kbc, 1000, 0, 0, 0);
    uint8_t got[64];
    int total = 0, n;
    while ((n = drain(&f, got, 3)) == 3) {
        CHECK_EQ(got[0] & 0xC0, 0);              /* no overflow in stream mode */
        total += (got[0] & 0x10) ? (int)got[1] - 256 : got[1];
    }
    CHECK_EQ(total, 1000);
    kbc_fix_done(&f);
}

TEST(kbc, save_load_and_reset)
{
    KbcFix f;
    kbc_fix_init(&f);
    set_cmd_byte(&f, 0x03);
    kbc_key_event(f.kbc, 0x1E, true);
    kbc_key_event(f.kbc, 0x30, true);
    CHECK_EQ(chiptest_roundtrip(&kbc_device_class, f.kbc), 0);
    EXPECT_BYTES(&f, 0x1C, 0x32);
    cmd(&f, 0xDD);
    kbc_device_class.reset(f.kbc);
    CHECK(bus_a20(f.bus));
    cmd(&f, 0x20);
    EXPECT_BYTES(&f, 0x43);
    kbc_fix_done(&f);
}

TEST(kbc, nonsense)
{
    KbcFix f;
    kbc_fix_init(&f);
    uint32_t seed = 0xBEEF;
    for (int i = 0; i < 30000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port = (r & 1) ? 0x64 : 0x60;
        uint8_t v = (uint8_t)(r >> 8);
        if (port == 0x64 && (v & 0xF0) == 0xF0)
            v = 0xFF;                           /* keep resets rare */
        if (r & 2)
            outb(f.bus, port, v);
        else
            (void)inb(f.bus, port);
        if ((r & 0x1C) == 0)
            kbc_key_event(f.kbc, (int)((r >> 16) & 0x7F) | ((r & 0x20) ? 0xE000 : 0), (r >> 24) & 1);
        if ((r & 0x1C) == 4)
            kbc_mouse_event(f.kbc, (int)(r >> 20) - 2048, (int)((r >> 8) & 0xFFF) - 2048, (int)(r & 0xF) - 8,
                            r >> 29);
        if ((r & 0x3C) == 8)
            chiptest_run(f.clk, (r >> 16) * 1000, 10000000);
    }
    (void)bus_take_request(f.bus, NULL);
    kbc_device_class.reset(f.kbc);
    cmd(&f, 0xAA);
    EXPECT_BYTES(&f, 0x55);
    kbc_fix_done(&f);
}
