/*
 * ui/ui_priv.h -- shared between the files of ui/ (run loop, SDL window,
 * scripted keys, PNG).  Private to ui/.
 */
#ifndef VSX_UI_UI_PRIV_H
#define VSX_UI_UI_PRIV_H

#include <stdint.h>

#include "ui.h"

/* keys.c */
int ui_key_code(const char *name, size_t len); /* -1 if unknown */
int ui_char_code(char c, bool *shift);         /* -1 if not typable */

/* The SDL window (sdl.c).  Events come back as actions for the run loop. */
typedef struct UiWindow UiWindow;
typedef enum UiAction {
    UI_NONE = 0,
    UI_QUIT,       /* window closed or Ctrl+Alt+Q: power off */
    UI_SCREENSHOT, /* Ctrl+Alt+S */
    UI_PAUSE,      /* Ctrl+Alt+P toggles */
} UiAction;
UiWindow *ui_window_open(Board *b, const UiOptions *opt, char *err, size_t errlen);
void ui_window_close(UiWindow *w);
void ui_window_present(UiWindow *w, const VgaFrame *f);
UiAction ui_window_events(UiWindow *w, int wait_ms);
void ui_window_set_paused(UiWindow *w, bool paused);
/* Where the picture is on the screen (for the Xvfb capture test). */
void ui_window_picture_rect(UiWindow *w, int *x, int *y, int *width, int *height);

#endif
