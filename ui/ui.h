/*
 * ui/ui.h -- the desktop front end (SDL2 window) and the headless front end.
 * The only part of vsx that includes SDL or libpng.  It drives the Board
 * (board_run in slices), renders the Vga into a window or files, and feeds
 * keyboard and mouse input, real or scripted.
 *
 * Scripted keys (UiOptions.keys, or one item per line / space-separated in
 * keys_file, '#' starts a comment):
 *     ITEM  := TIME ':' ACTION ('+' ACTION)*
 *     TIME  := seconds of *virtual* time: "2", "2.5", "2s", "1500ms"
 *     ACTION:= KEY            press and release one key
 *            | MOD '-' ACTION hold modifier(s) around it: ctrl-alt-del, shift-a
 *            | '"' TEXT '"'   type each character (shift added for uppercase
 *                             and symbols; \" and \\ escape; \n is Return)
 *     KEY   := a..z 0..9 f1..f12 ret esc tab spc bksp up down left right
 *              home end pgup pgdn ins del minus equal lbracket rbracket
 *              semicolon quote backquote backslash comma dot slash
 *              ctrl alt shift lctrl rctrl lalt ralt lshift rshift win menu
 *              capslock numlock scrolllock pause print kp0..kp9 kpenter
 *              kpplus kpminus kpmul kpdiv kpdot
 *   e.g.  "2s:F12 3s:1 4.5s:\"ls -l\"+ret 9s:ctrl-alt-del"
 * Keys are fed through board_key_event (PS/2 set-1 make codes), one byte
 * stream at a time: each press/release waits until board_keyboard_idle and a
 * small gap of virtual time, so the guest sees a plausible typist.
 */
#ifndef VSX_UI_UI_H
#define VSX_UI_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "../chipset/chipset.h"
#include "../video/video.h"

typedef struct UiOptions {
    const char *title;           /* VM name: window title "vsx — NAME" */
    bool headless;               /* no SDL video at all */
    double timeout_s;            /* 0 = none; virtual seconds; exit status 124 */
    const char *screenshot_path; /* PNG written at exit */
    const char *screen_text_path;/* text screen (UTF-8) written at exit, refreshed while running */
    const char *keys;            /* scripted keys, see above */
    const char *keys_file;       /* the same syntax, read from a file */
    const char *screenshot_dir;  /* Ctrl+Alt+S / SIGUSR1: NAME-YYYYmmdd-HHMMSS[-N].png */
    bool fullscreen;
    bool integer_scale;
    bool deterministic;          /* clock is virtual: never sleep to pace frames */
} UiOptions;

/* Runs the VM until it ends (status from board_run), the timeout (124), the
 * window is closed (0), or SIGINT/SIGTERM (130/143).  Returns 0, or -1 with a
 * message on stderr when the front end itself cannot start (bad key script,
 * no display for a windowed run). */
int ui_run(Board *b, const UiOptions *opt, int *exit_status);

/* SDL_ShowSimpleMessageBox when a display is available, else nothing. */
void ui_error_box(const char *title, const char *text);

/* Asks what to do with undo disks at exit (Commit / Discard / Keep); returns
 * UNDO_COMMIT, UNDO_DISCARD or UNDO_KEEP (config.h).  KEEP without a display. */
int ui_ask_undo(const char *vm_name);

/* Writes the frame as an 8-bit RGB PNG.  0 or -1 with a message in err. */
int ui_write_png(const char *path, const VgaFrame *frame, char *err, size_t errlen);

/* ---- scripted keys (ui/keys.c), public for tests ------------------------ */
typedef struct UiKeyEvent {
    double time_s; /* earliest virtual time */
    int keycode;   /* PS/2 set-1 make code, 0xE0xx extended, KBC_KEY_PAUSE */
    bool down;
} UiKeyEvent;
/* Parses a script into a malloc'ed event list in time order (*out, *count).
 * Returns 0, or -1 with a message naming the bad item in err. */
int ui_keys_parse(const char *script, UiKeyEvent **out, size_t *count, char *err, size_t errlen);

#endif
