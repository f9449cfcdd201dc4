/*
 * ui/ui.c -- the run loop shared by the window and the headless front end:
 * runs the board in slices of virtual time, feeds scripted keys, presents
 * about 60 frames a second when there is a window, and ends on the guest's
 * request, the timeout, a closed window or a signal.  Writes the screenshot
 * and text screen asked for at exit; the text screen also 20 times a
 * (wall-clock) second while running, so a script can watch for a prompt.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ui_priv.h"

#define NS_PER_S 1000000000ull
#define FRAME_NS (NS_PER_S / 60)
#define KEY_GAP_NS 10000000ull /* virtual time between scripted key bytes */
#define TEXT_REFRESH_NS (NS_PER_S / 20) /* wall time between --screen-text refreshes */

/* Signals are process-wide, so their flags are the one piece of global
 * state here; the loop reads and clears them. */
static volatile sig_atomic_t ui_signal_exit, ui_signal_shot;

static void ui_on_signal(int sig)
{
    if (sig == SIGUSR1)
        ui_signal_shot = 1;
    else
        ui_signal_exit = sig;
}

typedef struct SavedSignals {
    struct sigaction old_int, old_term, old_usr1;
} SavedSignals;

static void ui_signals_install(SavedSignals *s)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = ui_on_signal;
    sigemptyset(&sa.sa_mask);
    ui_signal_exit = ui_signal_shot = 0;
    sigaction(SIGINT, &sa, &s->old_int);
    sigaction(SIGTERM, &sa, &s->old_term);
    sigaction(SIGUSR1, &sa, &s->old_usr1);
}

static void ui_signals_restore(const SavedSignals *s)
{
    sigaction(SIGINT, &s->old_int, NULL);
    sigaction(SIGTERM, &s->old_term, NULL);
    sigaction(SIGUSR1, &s->old_usr1, NULL);
}

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------ */
/* Scripted keys                                                            */
/* ------------------------------------------------------------------------ */
typedef struct KeyFeed {
    UiKeyEvent *ev;
    size_t n, next;
    uint64_t last_ns;
    bool any_sent;
} KeyFeed;

static char *read_text_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    if (!buf)
        snprintf(err, errlen, "%s: out of memory", path);
    else
        buf[n] = 0;
    return buf;
}

static int key_feed_init(KeyFeed *kf, const UiOptions *opt)
{
    char err[512] = "";
    memset(kf, 0, sizeof *kf);
    size_t len = opt->keys ? strlen(opt->keys) : 0;
    char *script = NULL, *file = NULL;
    if (opt->keys_file && !(file = read_text_file(opt->keys_file, err, sizeof err))) {
        fprintf(stderr, "vsx: --keys-file %s\n", err);
        return -1;
    }
    size_t flen = file ? strlen(file) : 0;
    script = malloc(len + flen + 2);
    if (!script) {
        free(file);
        return -1;
    }
    snprintf(script, len + flen + 2, "%s\n%s", opt->keys ? opt->keys : "", file ? file : "");
    free(file);
    int rc = ui_keys_parse(script, &kf->ev, &kf->n, err, sizeof err);
    free(script);
    if (rc)
        fprintf(stderr, "vsx: scripted keys: %s\n", err);
    return rc;
}

/* Sends at most one key byte stream per call: the controller must have
 * taken the previous one and a small gap of virtual time must have passed. */
static void key_feed_run(KeyFeed *kf, Board *b, uint64_t now)
{
    if (kf->next >= kf->n)
        return;
    const UiKeyEvent *e = &kf->ev[kf->next];
    if ((double)now < e->time_s * (double)NS_PER_S)
        return;
    if (kf->any_sent && now < kf->last_ns + KEY_GAP_NS)
        return;
    if (!board_keyboard_idle(b))
        return;
    board_key_event(b, e->keycode, e->down);
    kf->last_ns = now;
    kf->any_sent = true;
    kf->next++;
}

/* Virtual time until the next scripted key could go out (for slicing). */
static uint64_t key_feed_wait(const KeyFeed *kf, uint64_t now)
{
    if (kf->next >= kf->n)
        return UINT64_MAX;
    uint64_t due = (uint64_t)(kf->ev[kf->next].time_s * (double)NS_PER_S);
    if (kf->any_sent && due < kf->last_ns + KEY_GAP_NS)
        due = kf->last_ns + KEY_GAP_NS;
    return due > now ? due - now : KEY_GAP_NS / 4;
}

/* ------------------------------------------------------------------------ */
/* Files at exit and on request                                             */
/* ------------------------------------------------------------------------ */
static void screenshot_name(const UiOptions *opt, char *out, size_t len)
{
    char name[64];
    const char *t = opt->title && *opt->title ? opt->title : "vsx";
    size_t i = 0;
    for (; t[i] && i < sizeof name - 1; i++) {
        unsigned char c = (unsigned char)t[i];
        name[i] = (c == ' ' || c == '/' || c < 0x20) ? '-' : (char)c;
    }
    name[i] = 0;
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    const char *dir = opt->screenshot_dir ? opt->screenshot_dir : ".";
    snprintf(out, len, "%s/%s-%s.png", dir, name, stamp);
    /* two in the same second: NAME-STAMP-2.png, -3, ... */
    for (int n = 2; n < 100 && access(out, F_OK) == 0; n++)
        snprintf(out, len, "%s/%s-%s-%d.png", dir, name, stamp, n);
}

/* Renders and writes a PNG.  The render consumes the VGA's change record,
 * so a window, if any, is shown the same frame to stay in step. */
static int save_screenshot(Board *b, UiWindow *win, const char *path)
{
    Vga *vga = board_vga(b);
    if (!vga) {
        fprintf(stderr, "vsx: %s: the VM has no display adapter\n", path);
        return -1;
    }
    VgaFrame f;
    vga_render(vga, &f);
    if (win)
        ui_window_present(win, &f);
    char err[512];
    if (ui_write_png(path, &f, err, sizeof err)) {
        fprintf(stderr, "vsx: screenshot %s\n", err);
        return -1;
    }
    return 0;
}

static void screenshot_on_request(Board *b, UiWindow *win, const UiOptions *opt)
{
    char path[4096];
    if (opt->screenshot_dir || !opt->screenshot_path)
        screenshot_name(opt, path, sizeof path);
    else
        snprintf(path, sizeof path, "%s", opt->screenshot_path);
    if (save_screenshot(b, win, path) == 0)
        fprintf(stderr, "vsx: screenshot %s\n", path);
}

static int save_screen_text(Board *b, const char *path)
{
    enum { TEXT_MAX = 256 * 1024 }; /* 132x60 cells of 3-byte UTF-8 fit easily */
    char *text = malloc(TEXT_MAX);
    Vga *vga = board_vga(b);
    size_t n = vga && text ? vga_screen_text(vga, text, TEXT_MAX) : 0;
    FILE *f = fopen(path, "wb");
    int rc = f && fwrite(text, 1, n, f) == n ? 0 : -1;
    if (f && fclose(f))
        rc = -1;
    if (rc)
        fprintf(stderr, "vsx: %s: %s\n", path, strerror(errno));
    free(text);
    return rc;
}

/* The refresh while running: PATH.tmp renamed over PATH, so a reader never
 * sees a half-written screen.  Only for a regular file (or none yet): a
 * device or pipe gets the one write at exit. */
static void refresh_screen_text(Board *b, const char *path)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return;
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return;
    if (save_screen_text(b, tmp) == 0 && rename(tmp, path) != 0)
        unlink(tmp);
}

/* ------------------------------------------------------------------------ */
/* The loop                                                                 */
/* ------------------------------------------------------------------------ */
typedef struct Loop {
    Board *b;
    const UiOptions *opt;
    UiWindow *win;
    KeyFeed keys;
    uint64_t t0, timeout_ns, last_frame_wall, last_text_wall;
    bool paused;
} Loop;

/* Window events and frames.  Returns 1 (and *status) when the user quit. */
static int loop_window(Loop *l, int *status)
{
    uint64_t w = wall_ns();
    int wait = 0;
    if (l->paused)
        wait = 16;
    switch (ui_window_events(l->win, wait)) {
    case UI_QUIT:
        *status = 0;
        return 1;
    case UI_SCREENSHOT:
        screenshot_on_request(l->b, l->win, l->opt);
        break;
    case UI_PAUSE:
        l->paused = !l->paused;
        board_pause(l->b, l->paused);
        ui_window_set_paused(l->win, l->paused);
        break;
    default:
        break;
    }
    if (w - l->last_frame_wall >= FRAME_NS && board_vga(l->b)) {
        VgaFrame f;
        vga_render(board_vga(l->b), &f);
        ui_window_present(l->win, &f);
        l->last_frame_wall = w;
    }
    return 0;
}

/* One iteration: returns 1 when the run is over with *status set. */
static int loop_step(Loop *l, int *status)
{
    Clock *clk = board_clock(l->b);
    uint64_t now = clock_now(clk), slice = FRAME_NS;
    uint64_t kw = key_feed_wait(&l->keys, now);
    if (kw < slice)
        slice = kw ? kw : 1;
    if (l->timeout_ns && l->t0 + l->timeout_ns - now < slice)
        slice = l->t0 + l->timeout_ns - now;
    if (!l->paused && board_run(l->b, slice ? slice : 1, status))
        return 1;
    now = clock_now(clk);
    key_feed_run(&l->keys, l->b, now);
    if (l->timeout_ns && now - l->t0 >= l->timeout_ns) {
        *status = 124;
        return 1;
    }
    if (ui_signal_exit) {
        *status = 128 + (int)ui_signal_exit;
        return 1;
    }
    if (ui_signal_shot) {
        ui_signal_shot = 0;
        screenshot_on_request(l->b, l->win, l->opt);
    }
    if (l->opt->screen_text_path) {
        uint64_t w = wall_ns();
        if (w - l->last_text_wall >= TEXT_REFRESH_NS) {
            l->last_text_wall = w;
            refresh_screen_text(l->b, l->opt->screen_text_path);
        }
    }
    return l->win ? loop_window(l, status) : 0;
}

static void finish_files(Board *b, const UiOptions *opt)
{
    if (opt->screenshot_path)
        save_screenshot(b, NULL, opt->screenshot_path);
    if (opt->screen_text_path)
        save_screen_text(b, opt->screen_text_path);
}

int ui_run(Board *b, const UiOptions *opt, int *exit_status)
{
    Loop l;
    memset(&l, 0, sizeof l);
    l.b = b, l.opt = opt;
    if (key_feed_init(&l.keys, opt))
        return -1;
    if (!opt->headless) {
        char err[512];
        l.win = ui_window_open(b, opt, err, sizeof err);
        if (!l.win) {
            fprintf(stderr, "vsx: %s (use --headless to run without a window)\n", err);
            free(l.keys.ev);
            return -1;
        }
    }
    SavedSignals saved;
    ui_signals_install(&saved);
    l.t0 = clock_now(board_clock(b));
    l.timeout_ns = opt->timeout_s > 0 ? (uint64_t)(opt->timeout_s * (double)NS_PER_S) : 0;
    int status = 0;
    while (!loop_step(&l, &status))
        ;
    if (l.paused)
        board_pause(b, false);
    finish_files(b, opt);
    if (l.win)
        ui_window_close(l.win);
    ui_signals_restore(&saved);
    free(l.keys.ev);
    *exit_status = status;
    return 0;
}
