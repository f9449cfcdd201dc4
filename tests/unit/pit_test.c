/* tests/unit/pit_test.c -- the 8254 through ports 0x40-0x43 and 0x61 (8254 datasheet). */
#include "chiptest.h"

typedef struct PitFix {
    Bus *bus;
    Clock *clk;
    Pit *pit;
    ChipIrqs irqs;
} PitFix;

static void pit_fix_init(PitFix *f)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(1 << 20, NULL);
    f->clk = clock_create(CLOCK_VIRTUAL);
    f->pit = pit_create(f->bus, f->clk, chiptest_line(&f->irqs, 0));
}

static void pit_fix_done(PitFix *f)
{
    pit_device_class.destroy(f->pit);
    clock_destroy(f->clk);
    bus_destroy(f->bus);
}

/* Virtual ns from a load until `ticks` PIT clocks have elapsed. */
static uint64_t pit_ns(uint64_t ticks) { return (ticks * 1000000000ull + 1193181) / 1193182; }

/* Moves the clock to exactly `ticks` clocks after `base` and fires timers. */
static void pit_goto(PitFix *f, uint64_t base, uint64_t ticks)
{
    uint64_t target = base + pit_ns(ticks);
    uint64_t now = clock_now(f->clk);
    if (target > now)
        chiptest_run(f->clk, target - now, 100000);
}

static unsigned read16(Bus *b, uint16_t port)
{
    unsigned lo = inb(b, port);
    return lo | (unsigned)inb(b, port) << 8;
}

TEST(pit, mode2_irq0_rate)
{
    PitFix f;
    pit_fix_init(&f);
    outb(f.bus, 0x43, 0x34);
    outb(f.bus, 0x40, 1193 & 0xFF);
    outb(f.bus, 0x40, 1193 >> 8);
    CHECK_EQ(f.irqs.level[0], 1);           /* OUT high after the control word */
    int base = f.irqs.rises[0];
    chiptest_run(f.clk, 10000000, 1000000); /* 10 ms in 1 ms slices */
    CHECK_EQ(f.irqs.rises[0] - base, 10);
    /* Large slices must not lose edges: one per elapsed period. */
    chiptest_run(f.clk, 0, 1);
    uint64_t t0 = clock_now(f.clk);
    clock_advance(f.clk, 5000000);
    clock_run_timers(f.clk);
    CHECK(f.irqs.rises[0] - base >= 11);
    (void)t0;
    pit_fix_done(&f);
}

TEST(pit, mode2_count_and_output)
{
    PitFix f;
    pit_fix_init(&f);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x43, 0x34);
    outb(f.bus, 0x40, 100);
    outb(f.bus, 0x40, 0);
    pit_goto(&f, t0, 30);
    outb(f.bus, 0x43, 0x00); /* latch channel 0 */
    pit_goto(&f, t0, 50);
    CHECK_EQ(read16(f.bus, 0x40), 70); /* the latched value */
    CHECK_EQ(read16(f.bus, 0x40), 50); /* live again */
    CHECK_EQ(pit_output(f.pit, 0), 1);
    pit_goto(&f, t0, 99);
    CHECK_EQ(pit_output(f.pit, 0), 0); /* count 1: OUT low for one clock */
    pit_goto(&f, t0, 100);
    CHECK_EQ(pit_output(f.pit, 0), 1);
    pit_fix_done(&f);
}

TEST(pit, mode3_square_wave)
{
    PitFix f;
    pit_fix_init(&f);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x43, 0x36);
    outb(f.bus, 0x40, 101);
    outb(f.bus, 0x40, 0);
    int base = f.irqs.rises[0];
    pit_goto(&f, t0, 10);
    CHECK_EQ(pit_output(f.pit, 0), 1);
    pit_goto(&f, t0, 52);
    CHECK_EQ(pit_output(f.pit, 0), 0); /* odd count: high (N+1)/2, low (N-1)/2 */
    pit_goto(&f, t0, 100);
    CHECK_EQ(pit_output(f.pit, 0), 0);
    pit_goto(&f, t0, 102);
    CHECK_EQ(pit_output(f.pit, 0), 1);
    CHECK_EQ(f.irqs.rises[0] - base, 1);
    pit_fix_done(&f);
}

TEST(pit, mode0_terminal_count_and_status)
{
    PitFix f;
    pit_fix_init(&f);
    outb(f.bus, 0x61, 0x01);           /* gate 2 high */
    outb(f.bus, 0x43, 0xB0);           /* ch2, LSB then MSB, mode 0, binary */
    outb(f.bus, 0x43, 0xE8);           /* read-back status of ch2 */
    CHECK_EQ(inb(f.bus, 0x42), 0x70);  /* OUT 0, null count, RW 3, mode 0 */
    CHECK_EQ(inb(f.bus, 0x61) & 0x20, 0);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x42, 0x00);
    outb(f.bus, 0x42, 0x02);           /* 512 */
    outb(f.bus, 0x43, 0xE8);
    CHECK_EQ(inb(f.bus, 0x42), 0x30);  /* loaded: null count clear */
    pit_goto(&f, t0, 511);
    CHECK_EQ(inb(f.bus, 0x61) & 0x20, 0);
    pit_goto(&f, t0, 512);
    CHECK_EQ(inb(f.bus, 0x61) & 0x20, 0x20);
    /* Read-back of count and status together: status comes first. */
    outb(f.bus, 0x43, 0xC8);
    CHECK_EQ(inb(f.bus, 0x42), 0xB0);
    CHECK_EQ(read16(f.bus, 0x42), 0);
    /* Mode 0 on channel 0 raises IRQ 0 once at terminal count. */
    t0 = clock_now(f.clk);
    outb(f.bus, 0x43, 0x30);
    CHECK_EQ(f.irqs.level[0], 0);
    outb(f.bus, 0x40, 10);
    outb(f.bus, 0x40, 0);
    pit_goto(&f, t0, 9);
    CHECK_EQ(f.irqs.rises[0], 0);
    pit_goto(&f, t0, 200);
    CHECK_EQ(f.irqs.rises[0], 1);
    CHECK_EQ(f.irqs.level[0], 1);
    pit_fix_done(&f);
}

TEST(pit, gate_and_one_shot_modes)
{
    PitFix f;
    pit_fix_init(&f);
    /* Mode 1 on channel 2: waits for a gate edge, then OUT low for N clocks. */
    outb(f.bus, 0x61, 0x00);
    outb(f.bus, 0x43, 0xB2);
    outb(f.bus, 0x42, 50);
    outb(f.bus, 0x42, 0);
    CHECK_EQ(pit_output(f.pit, 2), 1);
    chiptest_run(f.clk, pit_ns(200), 100000);
    CHECK_EQ(pit_output(f.pit, 2), 1);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x61, 0x01);
    CHECK_EQ(pit_output(f.pit, 2), 0);
    pit_goto(&f, t0, 49);
    CHECK_EQ(pit_output(f.pit, 2), 0);
    pit_goto(&f, t0, 50);
    CHECK_EQ(pit_output(f.pit, 2), 1);

    /* Mode 0 pauses while the gate is low. */
    outb(f.bus, 0x43, 0xB0);
    t0 = clock_now(f.clk);
    outb(f.bus, 0x42, 100);
    outb(f.bus, 0x42, 0);
    pit_goto(&f, t0, 40);
    outb(f.bus, 0x61, 0x00);
    chiptest_run(f.clk, pit_ns(1000), 100000);
    CHECK_EQ(read16(f.bus, 0x42), 60);
    outb(f.bus, 0x61, 0x01);
    t0 = clock_now(f.clk);
    pit_goto(&f, t0, 10);
    CHECK_EQ(read16(f.bus, 0x42), 50);

    /* Mode 4: one-clock strobe after N clocks; mode 5 needs the gate. */
    outb(f.bus, 0x43, 0xB8);
    t0 = clock_now(f.clk);
    outb(f.bus, 0x42, 20);
    outb(f.bus, 0x42, 0);
    pit_goto(&f, t0, 19);
    CHECK_EQ(pit_output(f.pit, 2), 1);
    pit_goto(&f, t0, 20);
    CHECK_EQ(pit_output(f.pit, 2), 0);
    pit_goto(&f, t0, 21);
    CHECK_EQ(pit_output(f.pit, 2), 1);
    outb(f.bus, 0x43, 0xBA);
    outb(f.bus, 0x42, 20);
    outb(f.bus, 0x42, 0);
    outb(f.bus, 0x61, 0x00);
    outb(f.bus, 0x61, 0x01);
    t0 = clock_now(f.clk);
    pit_goto(&f, t0, 20);
    CHECK_EQ(pit_output(f.pit, 2), 0);
    pit_fix_done(&f);
}

TEST(pit, access_modes_and_bcd)
{
    PitFix f;
    pit_fix_init(&f);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x43, 0x31);           /* ch0 mode 0 BCD */
    outb(f.bus, 0x40, 0x00);
    outb(f.bus, 0x40, 0x10);           /* 1000 decimal */
    pit_goto(&f, t0, 100);
    CHECK_EQ(read16(f.bus, 0x40), 0x0900);
    pit_goto(&f, t0, 1001);
    CHECK_EQ(read16(f.bus, 0x40), 0x9999); /* BCD wraps through 9999 */

    outb(f.bus, 0x43, 0x50);           /* ch1 LSB only, mode 0 */
    t0 = clock_now(f.clk);
    outb(f.bus, 0x41, 200);
    pit_goto(&f, t0, 50);
    CHECK_EQ(inb(f.bus, 0x41), 150);
    CHECK_EQ(inb(f.bus, 0x41), 150);
    outb(f.bus, 0x43, 0x64);           /* ch1 MSB only, mode 2 */
    t0 = clock_now(f.clk);
    outb(f.bus, 0x41, 0x02);           /* 512 */
    pit_goto(&f, t0, 256);
    CHECK_EQ(inb(f.bus, 0x41), 0x01);
    outb(f.bus, 0x43, 0xE4);           /* status ch1 */
    CHECK_EQ(inb(f.bus, 0x41), 0xA4);
    /* Reserved modes 6 and 7 are 2 and 3 (datasheet: X10, X11). */
    outb(f.bus, 0x43, 0x3C);
    t0 = clock_now(f.clk);
    outb(f.bus, 0x40, 10);
    outb(f.bus, 0x40, 0);
    pit_goto(&f, t0, 9);
    CHECK_EQ(pit_output(f.pit, 0), 0);
    pit_fix_done(&f);
}

TEST(pit, port61)
{
    PitFix f;
    pit_fix_init(&f);
    outb(f.bus, 0x61, 0x03);
    CHECK_EQ(inb(f.bus, 0x61) & 0x0F, 0x03);
    int toggles = 0;
    uint8_t last = inb(f.bus, 0x61) & 0x10;
    for (int i = 0; i < 40; i++) {
        chiptest_run(f.clk, 5000, 5000);
        uint8_t now = inb(f.bus, 0x61) & 0x10;
        toggles += now != last;
        last = now;
    }
    CHECK(toggles >= 10 && toggles <= 16); /* ~15 us half period over 200 us */
    pit_fix_done(&f);
}

TEST(pit, save_load)
{
    PitFix f;
    pit_fix_init(&f);
    outb(f.bus, 0x43, 0x34);
    outb(f.bus, 0x40, 0xE8);
    outb(f.bus, 0x40, 0x03);
    chiptest_run(f.clk, 3000000, 100000);
    int before = f.irqs.rises[0];
    CHECK_EQ(chiptest_roundtrip(&pit_device_class, f.pit), 0);
    chiptest_run(f.clk, 3000000, 100000);
    CHECK(f.irqs.rises[0] - before >= 3);
    pit_device_class.reset(f.pit);
    before = f.irqs.rises[0];
    chiptest_run(f.clk, 3000000, 100000);
    CHECK_EQ(f.irqs.rises[0], before);
    pit_fix_done(&f);
}

TEST(pit, nonsense)
{
    PitFix f;
    pit_fix_init(&f);
    uint32_t seed = 777;
    for (int i = 0; i < 20000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port = (r & 7) < 5 ? (uint16_t)(0x40 + (r & 3)) : 0x61;
        if (r & 0x10)
            outb(f.bus, port, (uint8_t)(r >> 8));
        else
            (void)inb(f.bus, port);
        if ((r & 0x1E0) == 0)
            chiptest_run(f.clk, (r >> 20) * 10, 1000);
    }
    /* Count 1 in mode 2/3 and count 0 everywhere must neither hang nor crash. */
    outb(f.bus, 0x43, 0x34);
    outb(f.bus, 0x40, 1);
    outb(f.bus, 0x40, 0);
    chiptest_run(f.clk, 100000, 100000);
    outb(f.bus, 0x43, 0x36);
    outb(f.bus, 0x40, 1);
    outb(f.bus, 0x40, 0);
    chiptest_run(f.clk, 100000, 100000);
    CHECK(pit_output(f.pit, 3) == 0);
    pit_fix_done(&f);
}

TEST(pit, latch_holds_until_read)
{
    PitFix f;
    pit_fix_init(&f);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x43, 0x74);           /* ch1, both bytes, mode 2 */
    outb(f.bus, 0x41, 0x00);
    outb(f.bus, 0x41, 0x10);           /* 4096 */
    pit_goto(&f, t0, 96);
    outb(f.bus, 0x43, 0x40);           /* latch: 4000 */
    pit_goto(&f, t0, 196);
    outb(f.bus, 0x43, 0x40);           /* a second latch is ignored */
    CHECK_EQ(inb(f.bus, 0x41), 0xA0);
    pit_goto(&f, t0, 296);
    CHECK_EQ(inb(f.bus, 0x41), 0x0F);  /* MSB of the first latch */
    CHECK_EQ(read16(f.bus, 0x41), 4096 - 296);
    /* Read-back of count and status for channels 1 and 2 at once. */
    outb(f.bus, 0x43, 0xB0);
    outb(f.bus, 0x43, 0xCC);
    CHECK_EQ(inb(f.bus, 0x41), 0xB4);  /* OUT high, RW 3, mode 2 */
    CHECK_EQ(read16(f.bus, 0x41), 4096 - 296);
    CHECK_EQ(inb(f.bus, 0x42), 0x70);  /* channel 2 after its control word */
    pit_fix_done(&f);
}

TEST(pit, new_count_waits_for_cycle_end)
{
    PitFix f;
    pit_fix_init(&f);
    uint64_t t0 = clock_now(f.clk);
    outb(f.bus, 0x43, 0x34);           /* mode 2, 1000 clocks */
    outb(f.bus, 0x40, 1000 & 0xFF);
    outb(f.bus, 0x40, 1000 >> 8);
    int base = f.irqs.rises[0];
    pit_goto(&f, t0, 300);
    outb(f.bus, 0x40, 500 & 0xFF);     /* new count without a control word */
    outb(f.bus, 0x40, 500 >> 8);
    outb(f.bus, 0x43, 0xE2);
    CHECK_EQ(inb(f.bus, 0x40) & 0x40, 0x40); /* null count until it loads */
    CHECK_EQ(read16(f.bus, 0x40), 700);      /* the old cycle goes on */
    pit_goto(&f, t0, 999);
    CHECK_EQ(f.irqs.rises[0] - base, 0);
    pit_goto(&f, t0, 1000);
    CHECK_EQ(f.irqs.rises[0] - base, 1);
    pit_goto(&f, t0, 1200);
    CHECK_EQ(read16(f.bus, 0x40), 300);      /* now counting 500 */
    outb(f.bus, 0x43, 0xE2);
    CHECK_EQ(inb(f.bus, 0x40) & 0x40, 0x00);
    pit_goto(&f, t0, 1499);
    CHECK_EQ(f.irqs.rises[0] - base, 1);
    pit_goto(&f, t0, 1500);
    CHECK_EQ(f.irqs.rises[0] - base, 2);
    pit_goto(&f, t0, 3000);
    CHECK_EQ(f.irqs.rises[0] - base, 5);
    /* Mode 3 on channel 2: the new count starts at the half-cycle end. */
    outb(f.bus, 0x61, 0x01);
    outb(f.bus, 0x43, 0xB6);
    t0 = clock_now(f.clk);
    outb(f.bus, 0x42, 100);
    outb(f.bus, 0x42, 0);
    pit_goto(&f, t0, 20);
    outb(f.bus, 0x42, 40);
    outb(f.bus, 0x42, 0);
    pit_goto(&f, t0, 49);
    CHECK_EQ(pit_output(f.pit, 2), 1);       /* first half of 100 unchanged */
    pit_goto(&f, t0, 50);
    CHECK_EQ(pit_output(f.pit, 2), 0);       /* then the low half of 40 ... */
    pit_goto(&f, t0, 50 + 19);
    CHECK_EQ(pit_output(f.pit, 2), 0);
    pit_goto(&f, t0, 50 + 20);
    CHECK_EQ(pit_output(f.pit, 2), 1);       /* ... and cycles of 40 */
    pit_goto(&f, t0, 50 + 39);
    CHECK_EQ(pit_output(f.pit, 2), 1);
    pit_goto(&f, t0, 50 + 40);
    CHECK_EQ(pit_output(f.pit, 2), 0);
    pit_fix_done(&f);
}
