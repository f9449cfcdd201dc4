/*
 * chipset/rtc.c -- the MC146818A real-time clock and its CMOS RAM (index port
 * 0x70 with the NMI mask in bit 7, data port 0x71), on IRQ 8.
 *
 * References: Motorola MC146818A datasheet (registers A-D, divider control,
 * update cycle and UIP timing, periodic rates, alarm "don't care" codes,
 * BCD/binary and 12/24-hour formats); IBM AT CMOS map (0x32 century byte).
 *
 * The time is a pure function of virtual time: wall time `time_s`/`time_sub`
 * at virtual time `base_ns`, advancing while the divider runs and SET
 * is clear.  The time registers are materialised from it when read.  One
 * timer marks each update cycle (UF, AF), another the periodic rate (PF)
 * while PIE is set; PF is otherwise computed lazily when register C is read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

#define NS 1000000000ll
#define UIP_NS 244000ll        /* UIP rises 244 us before the update (datasheet) */
#define DIVIDER_HZ 32768ull
#define CMOS_SIZE 128
#define NVRAM_FIRST 0x0E       /* bytes below are the clock's registers */
#define NVRAM_FLUSH_NS (2 * NS) /* write-back delay for dirty NVRAM */

enum {
    RTC_SEC = 0, RTC_SEC_ALARM = 1, RTC_MIN = 2, RTC_MIN_ALARM = 3, RTC_HOUR = 4,
    RTC_HOUR_ALARM = 5, RTC_WDAY = 6, RTC_MDAY = 7, RTC_MONTH = 8, RTC_YEAR = 9,
    RTC_REG_A = 0x0A, RTC_REG_B = 0x0B, RTC_REG_C = 0x0C, RTC_REG_D = 0x0D,
    RTC_CENTURY = 0x32,
};

#define A_UIP 0x80
#define A_DV_MASK 0x70
#define A_DV_NORMAL 0x20       /* 32.768 kHz time base, divider running */
#define A_RS_MASK 0x0F
#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_BINARY 0x04
#define B_24H 0x02
#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define D_VRT 0x80
#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xC0

typedef struct RtcRegs {
    uint8_t cmos[CMOS_SIZE];
    uint8_t index;
    uint8_t nmi_disabled;
    uint8_t irq_level;
    int64_t time_s;           /* wall time at base_ns: seconds since the epoch */
    int64_t time_sub;         /* ... and nanoseconds into that second */
    uint64_t base_ns;
    uint64_t next_update_ns;  /* virtual time of the next update cycle */
    uint64_t div_origin_ns;   /* divider chain start: periodic phase */
    uint64_t pf_checked_ns;   /* PF is set for boundaries after this */
} RtcRegs;

struct Rtc {
    Bus *bus;
    Clock *clk;
    IrqLine irq;
    Timer *update_timer;
    Timer *periodic_timer;
    char *nvram_path;
    bool dirty;
    uint64_t dirty_since;
    RtcRegs r;
};

/* ------------------------------------------------------------ calendar */

/* Days since 1970-01-01 of a proleptic Gregorian date (era arithmetic). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

typedef struct Civil {
    int64_t year;
    int month, day, hour, min, sec, wday; /* wday 0 = Sunday */
} Civil;

static Civil civil_from_seconds(int64_t t)
{
    Civil c;
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0)
        rem += 86400, days--;
    c.hour = (int)(rem / 3600);
    c.min = (int)(rem / 60 % 60);
    c.sec = (int)(rem % 60);
    c.wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    c.day = (int)(doy - (153 * mp + 2) / 5 + 1);
    c.month = (int)(mp < 10 ? mp + 3 : mp - 9);
    c.year = yoe + era * 400 + (c.month <= 2);
    return c;
}

/* --------------------------------------------------------- register format */

static uint8_t rtc_encode(const Rtc *rtc, int v)
{
    if (rtc->r.cmos[RTC_REG_B] & B_BINARY)
        return (uint8_t)v;
    return (uint8_t)(((v / 10) % 10) << 4 | (v % 10));
}

static int rtc_decode(const Rtc *rtc, uint8_t b)
{
    if (rtc->r.cmos[RTC_REG_B] & B_BINARY)
        return b;
    return (b >> 4) * 10 + (b & 15); /* nonsense digits decode to nonsense, safely */
}

static uint8_t rtc_encode_hour(const Rtc *rtc, int h)
{
    if (rtc->r.cmos[RTC_REG_B] & B_24H)
        return rtc_encode(rtc, h);
    int h12 = h % 12 ? h % 12 : 12;
    return (uint8_t)(rtc_encode(rtc, h12) | (h >= 12 ? HOUR_PM : 0));
}

static int rtc_decode_hour(const Rtc *rtc, uint8_t b)
{
    if (rtc->r.cmos[RTC_REG_B] & B_24H)
        return rtc_decode(rtc, b);
    int h = rtc_decode(rtc, b & 0x7F) % 12;
    return (b & HOUR_PM) ? h + 12 : h;
}

/* -------------------------------------------------------------- the clock */

static bool rtc_divider_running(const Rtc *rtc)
{
    /* DV 010 selects the PC's 32.768 kHz crystal; 000/001 name other
     * crystals, which a PC does not have: the chain still runs from the
     * real one (as QEMU does).  11x holds the divider in reset. */
    return (rtc->r.cmos[RTC_REG_A] & A_DV_MASK) <= A_DV_NORMAL;
}

static bool rtc_running(const Rtc *rtc)
{
    return rtc_divider_running(rtc) && !(rtc->r.cmos[RTC_REG_B] & B_SET);
}

/* Wall time at virtual time `now`: seconds, and ns into the second.  Kept
 * apart because guests may set years far beyond int64 nanoseconds' reach. */
static int64_t rtc_time_at(const Rtc *rtc, uint64_t now, int64_t *sub)
{
    uint64_t d = rtc_running(rtc) && now > rtc->r.base_ns ? now - rtc->r.base_ns : 0;
    uint64_t total = (uint64_t)rtc->r.time_sub + d;
    if (sub)
        *sub = (int64_t)(total % NS);
    return rtc->r.time_s + (int64_t)(total / NS);
}

/* Writes the time registers (and century) for wall time t (seconds). */
static void rtc_materialise(Rtc *rtc, int64_t t)
{
    Civil c = civil_from_seconds(t);
    uint8_t *m = rtc->r.cmos;
    m[RTC_SEC] = rtc_encode(rtc, c.sec);
    m[RTC_MIN] = rtc_encode(rtc, c.min);
    m[RTC_HOUR] = rtc_encode_hour(rtc, c.hour);
    m[RTC_WDAY] = rtc_encode(rtc, c.wday + 1);
    m[RTC_MDAY] = rtc_encode(rtc, c.day);
    m[RTC_MONTH] = rtc_encode(rtc, c.month);
    int64_t y = c.year < 0 ? 0 : c.year % 10000;
    m[RTC_YEAR] = rtc_encode(rtc, (int)(y % 100));
    m[RTC_CENTURY] = rtc_encode(rtc, (int)(y / 100));
}

/* The wall time (s) the time registers say. */
static int64_t rtc_registers_seconds(const Rtc *rtc)
{
    const uint8_t *m = rtc->r.cmos;
    int64_t year = rtc_decode(rtc, m[RTC_CENTURY]) * 100 + rtc_decode(rtc, m[RTC_YEAR]);
    int month = rtc_decode(rtc, m[RTC_MONTH]);
    month = month < 1 ? 1 : month > 12 ? 12 : month;
    int64_t days = days_from_civil(year, month, 1) + rtc_decode(rtc, m[RTC_MDAY]) - 1;
    return days * 86400 + rtc_decode_hour(rtc, m[RTC_HOUR]) * 3600ll +
           rtc_decode(rtc, m[RTC_MIN]) * 60ll + rtc_decode(rtc, m[RTC_SEC]);
}

/* ------------------------------------------------------------ interrupts */

static void rtc_update_irq(Rtc *rtc)
{
    uint8_t *m = rtc->r.cmos;
    uint8_t active = m[RTC_REG_C] & m[RTC_REG_B] & (C_PF | C_AF | C_UF);
    if (active)
        m[RTC_REG_C] |= C_IRQF;
    int level = (m[RTC_REG_C] & C_IRQF) != 0;
    if (level != rtc->r.irq_level) {
        rtc->r.irq_level = (uint8_t)level;
        irq_set(&rtc->irq, level);
    }
}

/* Periodic interrupt period in 32.768 kHz divider clocks (datasheet table 3);
 * 0 when RS is 0 or the divider is held. */
static uint64_t rtc_period_ticks(const Rtc *rtc)
{
    int rs = rtc->r.cmos[RTC_REG_A] & A_RS_MASK;
    if (!rs || !rtc_divider_running(rtc))
        return 0;
    return rs <= 2 ? 1ull << (rs + 6) : 1ull << (rs - 1);
}

static uint64_t rtc_period_index(const Rtc *rtc, uint64_t t, uint64_t period)
{
    if (t <= rtc->r.div_origin_ns)
        return 0;
    return (uint64_t)((unsigned __int128)(t - rtc->r.div_origin_ns) * DIVIDER_HZ / NS / period);
}

/* Sets PF if a periodic boundary passed since the last check. */
static void rtc_check_periodic(Rtc *rtc, uint64_t now)
{
    uint64_t period = rtc_period_ticks(rtc);
    if (period && rtc_period_index(rtc, now, period) > rtc_period_index(rtc, rtc->r.pf_checked_ns, period))
        rtc->r.cmos[RTC_REG_C] |= C_PF;
    rtc->r.pf_checked_ns = now;
}

static void rtc_arm_periodic(Rtc *rtc, uint64_t now)
{
    uint64_t period = rtc_period_ticks(rtc);
    if (!period || !(rtc->r.cmos[RTC_REG_B] & B_PIE)) {
        timer_cancel(rtc->periodic_timer);
        return;
    }
    uint64_t k = rtc_period_index(rtc, now, period) + 1;
    uint64_t at = (uint64_t)(((unsigned __int128)k * period * NS + DIVIDER_HZ - 1) / DIVIDER_HZ);
    timer_arm(rtc->periodic_timer, rtc->r.div_origin_ns + at);
}

static void rtc_periodic_fired(void *opaque, uint64_t now)
{
    Rtc *rtc = opaque;
    rtc_check_periodic(rtc, now);
    rtc_update_irq(rtc);
    rtc_arm_periodic(rtc, now);
}

/* ---------------------------------------------------------- update cycle */

static void rtc_nvram_flush(Rtc *rtc);

static bool alarm_match(uint8_t alarm, uint8_t value)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == value;
}

static void rtc_arm_update(Rtc *rtc, uint64_t now)
{
    if (!rtc_running(rtc)) {
        timer_cancel(rtc->update_timer);
        return;
    }
    int64_t sub;
    rtc_time_at(rtc, now, &sub);
    rtc->r.next_update_ns = now + (uint64_t)(NS - sub);
    timer_arm(rtc->update_timer, rtc->r.next_update_ns);
}

/* One update cycle at wall time t: the registers advance, UF is set and AF
 * when the alarm registers match (datasheet "Update Cycle"). */
static void rtc_do_update(Rtc *rtc, int64_t t)
{
    uint8_t *m = rtc->r.cmos;
    rtc_materialise(rtc, t);
    m[RTC_REG_C] |= C_UF;
    if (alarm_match(m[RTC_SEC_ALARM], m[RTC_SEC]) && alarm_match(m[RTC_MIN_ALARM], m[RTC_MIN]) &&
        alarm_match(m[RTC_HOUR_ALARM], m[RTC_HOUR]))
        m[RTC_REG_C] |= C_AF;
}

static void rtc_update_fired(void *opaque, uint64_t now)
{
    Rtc *rtc = opaque;
    if (rtc_running(rtc)) {
        /* Replay each second boundary crossed (a day at most: older ones
         * cannot change the flags). */
        int64_t last = rtc_time_at(rtc, now, NULL);
        int64_t first = rtc_time_at(rtc, rtc->r.next_update_ns, NULL);
        if (last - first > 86400)
            first = last - 86400;
        for (int64_t s = first; s <= last; s++)
            rtc_do_update(rtc, s);
        rtc_update_irq(rtc);
    }
    if (rtc->dirty && now - rtc->dirty_since >= NVRAM_FLUSH_NS)
        rtc_nvram_flush(rtc);
    rtc_arm_update(rtc, now);
}

/* ----------------------------------------------------------- registers */

/* Stops or restarts the clock around a change of register A or B. */
static void rtc_freeze(Rtc *rtc, uint64_t now)
{
    rtc->r.time_s = rtc_time_at(rtc, now, &rtc->r.time_sub);
    rtc->r.base_ns = now;
}

static void rtc_write_reg_a(Rtc *rtc, uint8_t v, uint64_t now)
{
    bool was = rtc_divider_running(rtc);
    rtc_check_periodic(rtc, now);
    rtc_freeze(rtc, now);
    rtc->r.cmos[RTC_REG_A] = v & ~A_UIP; /* UIP is read-only */
    if (!was && rtc_divider_running(rtc)) {
        /* Leaving divider reset: the first update comes 500 ms later. */
        rtc->r.time_sub = NS / 2;
        rtc->r.div_origin_ns = now;
    }
    rtc->r.pf_checked_ns = now;
    rtc_arm_update(rtc, now);
    rtc_arm_periodic(rtc, now);
}

static void rtc_write_reg_b(Rtc *rtc, uint8_t v, uint64_t now)
{
    uint8_t old = rtc->r.cmos[RTC_REG_B];
    if (!(old & B_SET) && (v & B_SET)) {
        rtc_freeze(rtc, now);
        rtc_materialise(rtc, rtc->r.time_s); /* the guest reads/edits these */
    }
    if (v & B_SET)
        v &= ~B_UIE; /* datasheet: setting SET clears UIE */
    rtc->r.cmos[RTC_REG_B] = v;
    if ((old & B_SET) && !(v & B_SET)) {
        /* SET cleared: the registers become the time; a full second to go. */
        rtc->r.time_s = rtc_registers_seconds(rtc);
        rtc->r.time_sub = 0;
        rtc->r.base_ns = now;
    }
    rtc_arm_update(rtc, now);
    rtc_arm_periodic(rtc, now);
    rtc_update_irq(rtc);
}

static bool is_time_register(int index)
{
    return index == RTC_SEC || index == RTC_MIN || index == RTC_HOUR || index == RTC_WDAY ||
           index == RTC_MDAY || index == RTC_MONTH || index == RTC_YEAR || index == RTC_CENTURY;
}

static void rtc_write_time_register(Rtc *rtc, int index, uint8_t v, uint64_t now)
{
    if (!rtc_running(rtc)) {
        rtc->r.cmos[index] = v;
        return;
    }
    /* Counting continues from the written value, keeping the sub-second phase. */
    int64_t sub;
    rtc_materialise(rtc, rtc_time_at(rtc, now, &sub));
    rtc->r.cmos[index] = v;
    rtc->r.time_s = rtc_registers_seconds(rtc);
    rtc->r.time_sub = sub;
    rtc->r.base_ns = now;
    rtc_arm_update(rtc, now);
}

static uint8_t rtc_read_reg(Rtc *rtc, int index)
{
    uint64_t now = clock_now(rtc->clk);
    uint8_t *m = rtc->r.cmos;
    if (is_time_register(index)) {
        if (rtc_running(rtc))
            rtc_materialise(rtc, rtc_time_at(rtc, now, NULL));
        return m[index];
    }
    switch (index) {
    case RTC_REG_A: {
        uint8_t v = m[RTC_REG_A] & ~A_UIP;
        int64_t sub;
        rtc_time_at(rtc, now, &sub);
        if (rtc_running(rtc) && NS - sub <= UIP_NS)
            v |= A_UIP;
        return v;
    }
    case RTC_REG_C: {
        rtc_check_periodic(rtc, now);
        uint8_t v = m[RTC_REG_C];
        if (v & m[RTC_REG_B] & (C_PF | C_AF | C_UF))
            v |= C_IRQF;
        m[RTC_REG_C] = 0; /* reading C clears every flag and the IRQ */
        rtc_update_irq(rtc);
        return v;
    }
    case RTC_REG_D:
        return D_VRT;
    default:
        return m[index];
    }
}

static void rtc_write_reg(Rtc *rtc, int index, uint8_t v)
{
    uint64_t now = clock_now(rtc->clk);
    if (is_time_register(index)) {
        rtc_write_time_register(rtc, index, v, now);
        return;
    }
    switch (index) {
    case RTC_REG_A:
        rtc_write_reg_a(rtc, v, now);
        break;
    case RTC_REG_B:
        rtc_write_reg_b(rtc, v, now);
        break;
    case RTC_REG_C:
    case RTC_REG_D:
        break; /* read-only */
    default:
        if (rtc->r.cmos[index] != v && index >= NVRAM_FIRST) {
            if (!rtc->dirty)
                rtc->dirty_since = now;
            rtc->dirty = true;
        }
        rtc->r.cmos[index] = v;
        break;
    }
}

static uint32_t rtc_io_read(void *dev, uint32_t offset, unsigned width)
{
    (void)width;
    Rtc *rtc = dev;
    if (offset == 0)
        return 0xFF; /* the index register is write-only on the PIIX */
    return rtc_read_reg(rtc, rtc->r.index);
}

static void rtc_io_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)width;
    Rtc *rtc = dev;
    if (offset == 0) {
        rtc->r.index = value & 0x7F;
        rtc->r.nmi_disabled = (value & 0x80) != 0;
    } else {
        rtc_write_reg(rtc, rtc->r.index, (uint8_t)value);
    }
}

static const IoOps rtc_ops = {rtc_io_read, rtc_io_write, IO_W8, "rtc"};

void rtc_cmos_set(Rtc *rtc, int index, uint8_t value)
{
    if (index >= 0 && index < CMOS_SIZE)
        rtc_write_reg(rtc, index, value);
}

uint8_t rtc_cmos_get(Rtc *rtc, int index)
{
    if (index < 0 || index >= CMOS_SIZE)
        return 0xFF;
    if (index == RTC_REG_C) /* a peek must not clear the flags */
        return rtc->r.cmos[RTC_REG_C];
    return rtc_read_reg(rtc, index);
}

/* --------------------------------------------------------------- NVRAM */

/* Writes the image atomically (temporary file + rename). */
static void rtc_nvram_flush(Rtc *rtc)
{
    rtc->dirty = false;
    if (!rtc->nvram_path)
        return;
    size_t n = strlen(rtc->nvram_path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return;
    snprintf(tmp, n, "%s.tmp", rtc->nvram_path);
    FILE *f = fopen(tmp, "wb");
    bool ok = f && fwrite(rtc->r.cmos, 1, CMOS_SIZE, f) == CMOS_SIZE;
    if (f && fclose(f) != 0)
        ok = false;
    if (ok && rename(tmp, rtc->nvram_path) == 0) {
        free(tmp);
        return;
    }
    remove(tmp);
    fprintf(stderr, "vsx: cannot save CMOS NVRAM to %s\n", rtc->nvram_path);
    free(tmp);
}

static int rtc_nvram_load(Rtc *rtc, VsxError *err)
{
    FILE *f = fopen(rtc->nvram_path, "rb");
    if (!f)
        return errno == ENOENT ? 0 : vsx_errorf(err, "%s: %s", rtc->nvram_path, strerror(errno));
    uint8_t buf[CMOS_SIZE + 1];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (n == 0)
        return 0; /* an empty file is a new, blank NVRAM */
    if (n != CMOS_SIZE)
        return vsx_errorf(err, "%s: not a %d-byte CMOS image", rtc->nvram_path, CMOS_SIZE);
    memcpy(rtc->r.cmos + NVRAM_FIRST, buf + NVRAM_FIRST, CMOS_SIZE - NVRAM_FIRST);
    return 0;
}

/* ------------------------------------------------------------ lifecycle */

/* The RESET pin clears the interrupt enables and flags (datasheet "RESET");
 * the time and NVRAM live on. */
static void rtc_reset(void *dev)
{
    Rtc *rtc = dev;
    rtc->r.cmos[RTC_REG_B] &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    rtc->r.cmos[RTC_REG_C] = 0;
    rtc->r.nmi_disabled = 0;
    rtc_update_irq(rtc);
    rtc_arm_periodic(rtc, clock_now(rtc->clk));
}

static void rtc_save(void *dev, StateStream *s)
{
    Rtc *rtc = dev;
    state_put(s, "rtc", &rtc->r, sizeof rtc->r);
}

static int rtc_load(void *dev, StateStream *s)
{
    Rtc *rtc = dev;
    if (state_get(s, "rtc", &rtc->r, sizeof rtc->r) < 0)
        return -1;
    rtc->r.index &= 0x7F;
    uint64_t now = clock_now(rtc->clk);
    rtc->r.irq_level = !rtc->r.irq_level; /* drive the line again */
    rtc_update_irq(rtc);
    rtc_arm_update(rtc, now);
    rtc_arm_periodic(rtc, now);
    return 0;
}

static void rtc_destroy(void *dev)
{
    Rtc *rtc = dev;
    if (!rtc)
        return;
    rtc_nvram_flush(rtc);
    bus_unmap_io(rtc->bus, 0x70, 2);
    timer_free(rtc->update_timer);
    timer_free(rtc->periodic_timer);
    free(rtc->nvram_path);
    free(rtc);
}

Rtc *rtc_create(Bus *bus, Clock *clk, IrqLine irq8, int64_t start_time, const char *nvram_path,
                VsxError *err)
{
    Rtc *rtc = calloc(1, sizeof *rtc);
    if (!rtc) {
        vsx_errorf(err, "out of memory");
        return NULL;
    }
    rtc->bus = bus;
    rtc->clk = clk;
    rtc->irq = irq8;
    rtc->update_timer = timer_new(clk, rtc_update_fired, rtc, "rtc-update");
    rtc->periodic_timer = timer_new(clk, rtc_periodic_fired, rtc, "rtc-periodic");
    rtc->nvram_path = nvram_path ? strdup(nvram_path) : NULL;
    if (!rtc->update_timer || !rtc->periodic_timer || (nvram_path && !rtc->nvram_path)) {
        vsx_errorf(err, "out of memory");
        goto fail;
    }
    if (rtc->nvram_path && rtc_nvram_load(rtc, err) < 0)
        goto fail;
    if (bus_map_io(bus, 0x70, 2, &rtc_ops, rtc) < 0) {
        vsx_errorf(err, "rtc: ports 0x70-0x71 are already in use");
        goto fail;
    }
    uint64_t now = clock_now(clk);
    rtc->r.cmos[RTC_REG_A] = A_DV_NORMAL | 0x06; /* 1024 Hz periodic rate */
    rtc->r.cmos[RTC_REG_B] = B_24H;              /* BCD, 24-hour */
    rtc->r.cmos[RTC_REG_D] = D_VRT;
    rtc->r.time_s = start_time;
    rtc->r.base_ns = now;
    rtc->r.div_origin_ns = now;
    rtc->r.pf_checked_ns = now;
    rtc_materialise(rtc, rtc->r.time_s);
    rtc_arm_update(rtc, now);
    return rtc;
fail:
    timer_free(rtc->update_timer);
    timer_free(rtc->periodic_timer);
    free(rtc->nvram_path);
    free(rtc);
    return NULL;
}

const DeviceClass rtc_device_class = {
    .name = "rtc",
    .reset = rtc_reset,
    .save = rtc_save,
    .load = rtc_load,
    .destroy = rtc_destroy,
};
