/* tests/unit/rtc_test.c -- the MC146818A through ports 0x70/0x71 (MC146818A datasheet). */
#include <unistd.h>

#include "chiptest.h"

#define T0 1700000000ll /* 2023-11-14 22:13:20 UTC, a Tuesday */
#define MS 1000000ull

typedef struct RtcFix {
    Bus *bus;
    Clock *clk;
    Rtc *rtc;
    ChipIrqs irqs;
} RtcFix;

static void rtc_fix_init(RtcFix *f, int64_t start, const char *path)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(1 << 20, NULL);
    f->clk = clock_create(CLOCK_VIRTUAL);
    f->rtc = rtc_create(f->bus, f->clk, chiptest_line(&f->irqs, 8), start, path, NULL);
}

static void rtc_fix_done(RtcFix *f)
{
    rtc_device_class.destroy(f->rtc);
    clock_destroy(f->clk);
    bus_destroy(f->bus);
}

static uint8_t cmos_rd(Bus *b, uint8_t i)
{
    outb(b, 0x70, i);
    return inb(b, 0x71);
}

static void cmos_wr(Bus *b, uint8_t i, uint8_t v)
{
    outb(b, 0x70, i);
    outb(b, 0x71, v);
}

TEST(rtc, time_formats)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    CHECK(f.rtc != NULL);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x20);
    CHECK_EQ(cmos_rd(f.bus, 0x02), 0x13);
    CHECK_EQ(cmos_rd(f.bus, 0x04), 0x22);
    CHECK_EQ(cmos_rd(f.bus, 0x06), 3);
    CHECK_EQ(cmos_rd(f.bus, 0x07), 0x14);
    CHECK_EQ(cmos_rd(f.bus, 0x08), 0x11);
    CHECK_EQ(cmos_rd(f.bus, 0x09), 0x23);
    CHECK_EQ(cmos_rd(f.bus, 0x32), 0x20);
    CHECK_EQ(cmos_rd(f.bus, 0x0D), 0x80);
    cmos_wr(f.bus, 0x0B, 0x00);              /* BCD, 12-hour */
    CHECK_EQ(cmos_rd(f.bus, 0x04), 0x90);    /* 10 PM */
    cmos_wr(f.bus, 0x0B, 0x04);              /* binary, 12-hour */
    CHECK_EQ(cmos_rd(f.bus, 0x04), 0x8A);
    cmos_wr(f.bus, 0x0B, 0x06);              /* binary, 24-hour */
    CHECK_EQ(cmos_rd(f.bus, 0x04), 22);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 20);
    CHECK_EQ(cmos_rd(f.bus, 0x09), 23);
    rtc_fix_done(&f);
}

TEST(rtc, update_cycle_and_uip)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    chiptest_run(f.clk, 999 * MS, 10 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x0A) & 0x80, 0);
    chiptest_run(f.clk, 800000, 100000);
    CHECK_EQ(cmos_rd(f.bus, 0x0A) & 0x80, 0x80); /* within 244 us of the update */
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x20);
    chiptest_run(f.clk, 2 * MS, MS);
    CHECK_EQ(cmos_rd(f.bus, 0x0A) & 0x80, 0);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x21);
    CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0xB0, 0x10);  /* UF, no IRQF: UIE off */
    CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0xB0, 0x00);  /* cleared by the read */
    cmos_wr(f.bus, 0x0B, 0x12);                  /* UIE */
    chiptest_run(f.clk, 1000 * MS, 10 * MS);
    CHECK_EQ(f.irqs.rises[8], 1);
    CHECK_EQ(f.irqs.level[8], 1);
    CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0xB0, 0x90);
    CHECK_EQ(f.irqs.level[8], 0);
    chiptest_run(f.clk, 40000 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x02), 0x14);        /* minute rolled over */
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x02);
    rtc_fix_done(&f);
}

TEST(rtc, set_time)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    cmos_wr(f.bus, 0x0B, 0x82);                 /* SET */
    chiptest_run(f.clk, 3000 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x20);       /* frozen */
    cmos_wr(f.bus, 0x00, 0x59);
    cmos_wr(f.bus, 0x02, 0x59);
    cmos_wr(f.bus, 0x04, 0x23);
    cmos_wr(f.bus, 0x07, 0x31);
    cmos_wr(f.bus, 0x08, 0x12);
    cmos_wr(f.bus, 0x09, 0x99);
    cmos_wr(f.bus, 0x32, 0x19);
    cmos_wr(f.bus, 0x0B, 0x02);
    chiptest_run(f.clk, 1000 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x00);
    CHECK_EQ(cmos_rd(f.bus, 0x04), 0x00);
    CHECK_EQ(cmos_rd(f.bus, 0x07), 0x01);
    CHECK_EQ(cmos_rd(f.bus, 0x08), 0x01);
    CHECK_EQ(cmos_rd(f.bus, 0x09), 0x00);
    CHECK_EQ(cmos_rd(f.bus, 0x32), 0x20);
    CHECK_EQ(cmos_rd(f.bus, 0x06), 7);          /* 2000-01-01: Saturday */
    /* A write while running keeps counting from the new value. */
    cmos_wr(f.bus, 0x02, 0x30);
    chiptest_run(f.clk, 1000 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x02), 0x30);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x01);
    rtc_fix_done(&f);
}

TEST(rtc, alarm)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    cmos_wr(f.bus, 0x01, 0x25);
    cmos_wr(f.bus, 0x03, 0xC0);                 /* don't care */
    cmos_wr(f.bus, 0x05, 0xFF);
    cmos_wr(f.bus, 0x0B, 0x22);                 /* AIE */
    chiptest_run(f.clk, 4500 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 0);
    chiptest_run(f.clk, 1000 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 1);
    CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0xB0, 0xB0); /* IRQF | AF | UF */
    chiptest_run(f.clk, 5000 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 1);
    /* Exact match on all three. */
    cmos_wr(f.bus, 0x01, 0x40);
    cmos_wr(f.bus, 0x03, 0x13);
    cmos_wr(f.bus, 0x05, 0x22);
    chiptest_run(f.clk, 10000 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 2);
    rtc_fix_done(&f);
}

TEST(rtc, periodic)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    cmos_wr(f.bus, 0x0A, 0x2F);                 /* 500 ms */
    (void)cmos_rd(f.bus, 0x0C);
    cmos_wr(f.bus, 0x0B, 0x42);                 /* PIE */
    int edges = 0;
    for (int i = 0; i < 300; i++) {
        chiptest_run(f.clk, 10 * MS, 10 * MS);
        if (f.irqs.level[8]) {
            CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0xC0, 0xC0);
            edges++;
        }
    }
    CHECK(edges >= 5 && edges <= 7);           /* 3 s at 2 Hz */
    /* 1024 Hz: PF polled without PIE. */
    cmos_wr(f.bus, 0x0B, 0x02);
    cmos_wr(f.bus, 0x0A, 0x26);
    (void)cmos_rd(f.bus, 0x0C);
    chiptest_run(f.clk, 100000, 100000);        /* 100 us: no boundary yet? */
    chiptest_run(f.clk, 2 * MS, MS);
    CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0x40, 0x40);
    CHECK_EQ(f.irqs.level[8], 0);
    rtc_fix_done(&f);
}

TEST(rtc, divider_and_index)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    cmos_wr(f.bus, 0x0A, 0x70);                 /* divider reset */
    chiptest_run(f.clk, 5000 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x20);
    cmos_wr(f.bus, 0x0A, 0x26);
    chiptest_run(f.clk, 400 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x20);
    chiptest_run(f.clk, 200 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x21);      /* first update after 500 ms */
    CHECK_EQ(cmos_rd(f.bus, 0x0A), 0x26);
    outb(f.bus, 0x70, 0x80 | 0x40);             /* NMI masked, index 0x40 */
    outb(f.bus, 0x71, 0x5A);
    CHECK_EQ(rtc_cmos_get(f.rtc, 0x40), 0x5A);
    rtc_cmos_set(f.rtc, 0x15, 0x80);
    CHECK_EQ(cmos_rd(f.bus, 0x15), 0x80);
    cmos_wr(f.bus, 0x0D, 0x00);
    CHECK_EQ(cmos_rd(f.bus, 0x0D), 0x80);
    CHECK_EQ(chiptest_roundtrip(&rtc_device_class, f.rtc), 0);
    CHECK_EQ(cmos_rd(f.bus, 0x15), 0x80);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x21);
    rtc_fix_done(&f);
}

TEST(rtc, nvram_file)
{
    char path[512];
    snprintf(path, sizeof path, "%s/cmos.bin", test_tmpdir());
    unlink(path);
    RtcFix f;
    rtc_fix_init(&f, T0, path);
    CHECK(f.rtc != NULL);
    cmos_wr(f.bus, 0x40, 0xA5);
    cmos_wr(f.bus, 0x7F, 0x3C);
    rtc_fix_done(&f);
    rtc_fix_init(&f, T0 + 100, path);
    CHECK(f.rtc != NULL);
    CHECK_EQ(cmos_rd(f.bus, 0x40), 0xA5);
    CHECK_EQ(cmos_rd(f.bus, 0x7F), 0x3C);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 0x00);      /* time from start_time, not the file */
    rtc_fix_done(&f);
    FILE *fp = fopen(path, "wb");              /* an empty file is a new NVRAM */
    fclose(fp);
    rtc_fix_init(&f, T0, path);
    CHECK(f.rtc != NULL);
    rtc_fix_done(&f);
    fp = fopen(path, "rb");
    fseek(fp, 0, SEEK_END);
    CHECK_EQ(ftell(fp), 128);                  /* written back whole at exit */
    fclose(fp);
    fp = fopen(path, "wb");
    fputs("short", fp);
    fclose(fp);
    VsxError err = {{0}};
    Bus *b = bus_create(1 << 20, NULL);
    Clock *c = clock_create(CLOCK_VIRTUAL);
    CHECK(rtc_create(b, c, (IrqLine){0}, T0, path, &err) == NULL);
    CHECK(strstr(err.msg, "CMOS") != NULL);
    clock_destroy(c);
    bus_destroy(b);
}

TEST(rtc, nonsense)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    uint32_t seed = 4242;
    for (int i = 0; i < 20000; i++) {
        uint32_t r = chiptest_rand(&seed);
        if (r & 1)
            outb(f.bus, (uint16_t)(0x70 + ((r >> 1) & 1)), (uint8_t)(r >> 8));
        else
            (void)inb(f.bus, (uint16_t)(0x70 + ((r >> 1) & 1)));
        if ((r & 0xF0) == 0)
            chiptest_run(f.clk, (r >> 16) * 1000, 1000000);
    }
    cmos_wr(f.bus, 0x0B, 0x02);
    cmos_wr(f.bus, 0x0A, 0x26);
    chiptest_run(f.clk, 3000 * MS, 100 * MS);
    CHECK_EQ(cmos_rd(f.bus, 0x0D), 0x80);
    rtc_fix_done(&f);
}

TEST(rtc, alarm_12_hour_binary)
{
    RtcFix f;
    rtc_fix_init(&f, T0, NULL);
    cmos_wr(f.bus, 0x0B, 0x24);                 /* AIE, binary, 12-hour */
    cmos_wr(f.bus, 0x01, 23);
    cmos_wr(f.bus, 0x03, 13);
    cmos_wr(f.bus, 0x05, 0x8A);                 /* 10 PM */
    CHECK_EQ(cmos_rd(f.bus, 0x04), 0x8A);
    chiptest_run(f.clk, 2500 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 0);
    chiptest_run(f.clk, 1000 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 1);
    CHECK_EQ(cmos_rd(f.bus, 0x00), 23);
    CHECK_EQ(cmos_rd(f.bus, 0x0C) & 0xA0, 0xA0);
    cmos_wr(f.bus, 0x05, 0x0A);                 /* 10 AM: no match */
    cmos_wr(f.bus, 0x01, 0xFF);
    chiptest_run(f.clk, 3000 * MS, 100 * MS);
    CHECK_EQ(f.irqs.rises[8], 1);
    rtc_fix_done(&f);
}
