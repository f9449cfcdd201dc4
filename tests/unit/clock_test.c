/* tests/unit/clock_test.c -- virtual clock and timers. */
#include "../../chipset/chipset.h"
#include "test.h"

typedef struct Log {
    char order[16];
    int n;
    uint64_t when[16];
} Log;

typedef struct Tick {
    Log *log;
    char id;
    Timer *t;
    uint64_t period; /* re-arm if nonzero */
} Tick;

static void on_tick(void *opaque, uint64_t now)
{
    Tick *k = opaque;
    if (k->log->n < 15) {
        k->log->when[k->log->n] = now;
        k->log->order[k->log->n++] = k->id;
    }
    if (k->period)
        timer_arm(k->t, timer_deadline(k->t) + k->period);
}

TEST(clock, virtual_time_only_moves_when_advanced)
{
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    CHECK_EQ(clock_now(clk), 0);
    clock_advance(clk, 1500);
    CHECK_EQ(clock_now(clk), 1500);
    CHECK_EQ(clock_next_deadline(clk), UINT64_MAX);
    clock_destroy(clk);
}

TEST(clock, timers_fire_in_deadline_order)
{
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    Log log = {0};
    Tick a = {&log, 'a', NULL, 0}, b = {&log, 'b', NULL, 0}, c = {&log, 'c', NULL, 0};
    a.t = timer_new(clk, on_tick, &a, "a");
    b.t = timer_new(clk, on_tick, &b, "b");
    c.t = timer_new(clk, on_tick, &c, "c");
    timer_arm(a.t, 300);
    timer_arm(b.t, 100);
    timer_arm(c.t, 200);
    CHECK_EQ(clock_next_deadline(clk), 100);
    clock_advance(clk, 250);
    CHECK_EQ(clock_run_timers(clk), 2);
    CHECK_STR(log.order, "bc");
    CHECK(timer_armed(a.t));
    CHECK(!timer_armed(b.t));
    timer_cancel(a.t);
    clock_advance(clk, 1000);
    CHECK_EQ(clock_run_timers(clk), 0);
    /* Re-arming moves a timer instead of duplicating it. */
    timer_arm(b.t, 5000);
    timer_arm(b.t, 2000);
    clock_advance(clk, 1000);
    CHECK_EQ(clock_run_timers(clk), 1);
    CHECK_EQ(clock_next_deadline(clk), UINT64_MAX);
    timer_free(a.t);
    timer_free(b.t);
    timer_free(c.t);
    clock_destroy(clk);
}

TEST(clock, periodic_timer_catches_up_in_bounded_steps)
{
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    Log log = {0};
    Tick p = {&log, 'p', NULL, 100};
    p.t = timer_new(clk, on_tick, &p, "p");
    timer_arm(p.t, 100);
    clock_advance(clk, 450);
    CHECK_EQ(clock_run_timers(clk), 4); /* 100, 200, 300, 400 */
    CHECK_EQ(timer_deadline(p.t), 500);
    /* A timer that re-arms in the past forever must not hang the caller. */
    p.period = 0;
    timer_arm(p.t, 0);
    timer_free(p.t);
    clock_destroy(clk);
}

static void rearm_now(void *opaque, uint64_t now)
{
    timer_arm(*(Timer **)opaque, now);
}

TEST(clock, self_rearming_timer_is_bounded)
{
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    Timer *t = NULL;
    t = timer_new(clk, rearm_now, &t, "spin");
    timer_arm(t, 0);
    int fired = clock_run_timers(clk);
    CHECK(fired > 0 && fired <= 10000);
    timer_free(t);
    clock_destroy(clk);
}

TEST(clock, host_clock_is_monotonic_and_pauses)
{
    Clock *clk = clock_create(CLOCK_HOST);
    uint64_t a = clock_now(clk);
    uint64_t b = clock_now(clk);
    CHECK(b >= a);
    clock_pause(clk, true);
    uint64_t p1 = clock_now(clk);
    for (volatile int i = 0; i < 1000000; i++)
        ;
    uint64_t p2 = clock_now(clk);
    CHECK_EQ(p1, p2);
    clock_pause(clk, false);
    CHECK(clock_now(clk) >= p2);
    clock_destroy(clk);
}

TEST(state, round_trip_and_mismatch)
{
    StateStream *w = state_writer_create();
    uint32_t x = 0xDEADBEEF;
    state_put(w, "pit.count", &x, sizeof x);
    state_put_u64(w, "pit.when", 123456789);
    size_t len;
    const void *data = state_data(w, &len);
    StateStream *r = state_reader_create(data, len);
    uint32_t y = 0;
    uint64_t when = 0;
    CHECK_EQ(state_get(r, "pit.count", &y, sizeof y), 0);
    CHECK_EQ(y, 0xDEADBEEF);
    CHECK_EQ(state_get_u64(r, "pit.when", &when), 0);
    CHECK_EQ(when, 123456789);
    CHECK_EQ(state_get(r, "pit.more", &y, sizeof y), -1);
    state_destroy(r);
    r = state_reader_create(data, len);
    CHECK_EQ(state_get(r, "pic.count", &y, sizeof y), -1); /* wrong tag */
    state_destroy(r);
    r = state_reader_create(data, len);
    CHECK_EQ(state_get(r, "pit.count", &when, sizeof when), -1); /* wrong size */
    state_destroy(r);
    state_destroy(w);
}

static uint64_t fake_insns;
static uint64_t insn_time(void *opaque)
{
    (void)opaque;
    return fake_insns * 10;
}
static int kicks;
static void on_deadline(void *opaque)
{
    (void)opaque;
    kicks++;
}
static void noop_tick(void *opaque, uint64_t now)
{
    (void)opaque;
    (void)now;
}

TEST(clock, virtual_source_moves_time_inside_a_slice)
{
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    fake_insns = 0;
    clock_set_virtual_source(clk, insn_time, NULL);
    clock_advance(clk, 1000); /* idle time skipped over HLT */
    CHECK_EQ(clock_now(clk), 1000);
    fake_insns = 25; /* the CPU retired 25 instructions since */
    CHECK_EQ(clock_now(clk), 1250);
    clock_set_virtual_source(clk, NULL, NULL);
    CHECK_EQ(clock_now(clk), 1000);
    clock_destroy(clk);
}

TEST(clock, deadline_hook_fires_only_for_a_new_earliest_timer)
{
    Clock *clk = clock_create(CLOCK_VIRTUAL);
    Timer *a = timer_new(clk, noop_tick, NULL, "a"), *b = timer_new(clk, noop_tick, NULL, "b");
    kicks = 0;
    clock_set_deadline_hook(clk, on_deadline, NULL);
    timer_arm(a, 500);
    CHECK_EQ(kicks, 1);
    timer_arm(b, 900); /* later than a: the current slice end is still right */
    CHECK_EQ(kicks, 1);
    timer_arm(b, 100); /* earlier than everything */
    CHECK_EQ(kicks, 2);
    timer_free(a);
    timer_free(b);
    clock_destroy(clk);
}
