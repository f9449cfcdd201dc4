/*
 * chipset/clock.c -- the virtual clock and its timers.
 *
 * Time is virtual nanoseconds.  CLOCK_HOST follows the host's monotonic clock
 * (minus time spent paused); CLOCK_VIRTUAL moves only when the board (or a
 * test) calls clock_advance, which makes runs deterministic.  Devices compute
 * their outputs from clock_now() and arm a Timer for their next transition
 * instead of ticking (DESIGN.md "Device timing").
 *
 * Timers sit in a list sorted by deadline; the few a PC has make a list the
 * right structure (insertion is O(n) for n of about ten).
 */
#include <stdlib.h>
#include <time.h>

#include "chipset.h"

/* A timer that keeps re-arming itself in the past would otherwise spin. */
#define MAX_FIRES_PER_RUN 10000

struct Timer {
    Clock *clk;
    TimerFn fn;
    void *opaque;
    const char *name;
    uint64_t deadline;
    bool armed;
    Timer *next;
};

struct Clock {
    ClockMode mode;
    uint64_t virtual_now; /* CLOCK_VIRTUAL */
    uint64_t host_base;   /* CLOCK_HOST: host ns at virtual 0, plus paused time */
    bool paused;
    uint64_t paused_at;   /* host ns when paused */
    uint64_t last;        /* never go backwards */
    Timer *head;
    uint64_t (*elapsed)(void *opaque); /* CLOCK_VIRTUAL: time not yet advanced */
    void *elapsed_opaque;
    void (*deadline_hook)(void *opaque);
    void *deadline_opaque;
};

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

Clock *clock_create(ClockMode mode)
{
    Clock *clk = calloc(1, sizeof *clk);
    if (!clk)
        return NULL;
    clk->mode = mode;
    clk->host_base = host_ns();
    return clk;
}

void clock_destroy(Clock *clk)
{
    if (!clk)
        return;
    for (Timer *t = clk->head; t; t = t->next)
        t->armed = false;
    free(clk);
}

ClockMode clock_mode(const Clock *clk) { return clk->mode; }

uint64_t clock_now(Clock *clk)
{
    if (clk->mode == CLOCK_VIRTUAL)
        return clk->virtual_now + (clk->elapsed ? clk->elapsed(clk->elapsed_opaque) : 0);
    uint64_t now = (clk->paused ? clk->paused_at : host_ns()) - clk->host_base;
    if (now < clk->last)
        now = clk->last;
    clk->last = now;
    return now;
}

void clock_advance(Clock *clk, uint64_t ns)
{
    if (clk->mode == CLOCK_VIRTUAL)
        clk->virtual_now += ns;
}

void clock_set_virtual_source(Clock *clk, uint64_t (*elapsed)(void *opaque), void *opaque)
{
    clk->elapsed = elapsed;
    clk->elapsed_opaque = opaque;
}

void clock_set_deadline_hook(Clock *clk, void (*hook)(void *opaque), void *opaque)
{
    clk->deadline_hook = hook;
    clk->deadline_opaque = opaque;
}

void clock_pause(Clock *clk, bool paused)
{
    if (clk->mode != CLOCK_HOST || paused == clk->paused)
        return;
    uint64_t h = host_ns();
    if (paused)
        clk->paused_at = h;
    else
        clk->host_base += h - clk->paused_at;
    clk->paused = paused;
}

uint64_t clock_next_deadline(const Clock *clk)
{
    return clk->head ? clk->head->deadline : UINT64_MAX;
}

static void timer_unlink(Timer *t)
{
    for (Timer **p = &t->clk->head; *p; p = &(*p)->next)
        if (*p == t) {
            *p = t->next;
            break;
        }
    t->armed = false;
    t->next = NULL;
}

int clock_run_timers(Clock *clk)
{
    int fired = 0;
    uint64_t now = clock_now(clk);
    while (clk->head && clk->head->deadline <= now && fired < MAX_FIRES_PER_RUN) {
        Timer *t = clk->head;
        clk->head = t->next;
        t->armed = false;
        t->next = NULL;
        t->fn(t->opaque, now);
        fired++;
    }
    return fired;
}

Timer *timer_new(Clock *clk, TimerFn fn, void *opaque, const char *name)
{
    Timer *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *t = (Timer){.clk = clk, .fn = fn, .opaque = opaque, .name = name};
    return t;
}

void timer_free(Timer *t)
{
    if (!t)
        return;
    if (t->armed)
        timer_unlink(t);
    free(t);
}

void timer_arm(Timer *t, uint64_t deadline_ns)
{
    if (t->armed)
        timer_unlink(t);
    t->deadline = deadline_ns;
    t->armed = true;
    Timer **p = &t->clk->head;
    while (*p && (*p)->deadline <= deadline_ns)
        p = &(*p)->next;
    t->next = *p;
    *p = t;
    if (t->clk->head == t && t->clk->deadline_hook)
        t->clk->deadline_hook(t->clk->deadline_opaque);
}

void timer_cancel(Timer *t)
{
    if (t->armed)
        timer_unlink(t);
}

bool timer_armed(const Timer *t) { return t->armed; }
uint64_t timer_deadline(const Timer *t) { return t->deadline; }
