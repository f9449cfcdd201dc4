/*
 * ui/sdl.c -- the SDL2 window: a streaming texture updated only on the rows
 * that changed, aspect-correct (optionally integer) scaling, fullscreen,
 * keyboard by physical key (SDL_Scancode -> PS/2 set 1), mouse capture in
 * relative mode, and the host key combinations that never reach the guest:
 *   Ctrl+Alt          release the mouse
 *   Ctrl+Alt+End      send Ctrl+Alt+Del
 *   Ctrl+Alt+F        fullscreen on/off
 *   Ctrl+Alt+S        screenshot
 *   Ctrl+Alt+P        pause/resume
 *   Ctrl+Alt+Q        quit (powers the VM off, like closing the window)
 */
#include <SDL.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui_priv.h"

/* Physical keys -> PS/2 set-1 make codes (0xE0xx extended).  Scan codes:
 * IBM PS/2 Keyboard Technical Reference; USB usages per SDL_scancode.h. */
static const uint16_t sdl_to_set1[SDL_NUM_SCANCODES] = {
    [SDL_SCANCODE_A] = 0x1E, [SDL_SCANCODE_B] = 0x30, [SDL_SCANCODE_C] = 0x2E,
    [SDL_SCANCODE_D] = 0x20, [SDL_SCANCODE_E] = 0x12, [SDL_SCANCODE_F] = 0x21,
    [SDL_SCANCODE_G] = 0x22, [SDL_SCANCODE_H] = 0x23, [SDL_SCANCODE_I] = 0x17,
    [SDL_SCANCODE_J] = 0x24, [SDL_SCANCODE_K] = 0x25, [SDL_SCANCODE_L] = 0x26,
    [SDL_SCANCODE_M] = 0x32, [SDL_SCANCODE_N] = 0x31, [SDL_SCANCODE_O] = 0x18,
    [SDL_SCANCODE_P] = 0x19, [SDL_SCANCODE_Q] = 0x10, [SDL_SCANCODE_R] = 0x13,
    [SDL_SCANCODE_S] = 0x1F, [SDL_SCANCODE_T] = 0x14, [SDL_SCANCODE_U] = 0x16,
    [SDL_SCANCODE_V] = 0x2F, [SDL_SCANCODE_W] = 0x11, [SDL_SCANCODE_X] = 0x2D,
    [SDL_SCANCODE_Y] = 0x15, [SDL_SCANCODE_Z] = 0x2C,
    [SDL_SCANCODE_1] = 0x02, [SDL_SCANCODE_2] = 0x03, [SDL_SCANCODE_3] = 0x04,
    [SDL_SCANCODE_4] = 0x05, [SDL_SCANCODE_5] = 0x06, [SDL_SCANCODE_6] = 0x07,
    [SDL_SCANCODE_7] = 0x08, [SDL_SCANCODE_8] = 0x09, [SDL_SCANCODE_9] = 0x0A,
    [SDL_SCANCODE_0] = 0x0B,
    [SDL_SCANCODE_RETURN] = 0x1C, [SDL_SCANCODE_ESCAPE] = 0x01,
    [SDL_SCANCODE_BACKSPACE] = 0x0E, [SDL_SCANCODE_TAB] = 0x0F, [SDL_SCANCODE_SPACE] = 0x39,
    [SDL_SCANCODE_MINUS] = 0x0C, [SDL_SCANCODE_EQUALS] = 0x0D,
    [SDL_SCANCODE_LEFTBRACKET] = 0x1A, [SDL_SCANCODE_RIGHTBRACKET] = 0x1B,
    [SDL_SCANCODE_BACKSLASH] = 0x2B, [SDL_SCANCODE_NONUSHASH] = 0x2B,
    [SDL_SCANCODE_SEMICOLON] = 0x27, [SDL_SCANCODE_APOSTROPHE] = 0x28,
    [SDL_SCANCODE_GRAVE] = 0x29, [SDL_SCANCODE_COMMA] = 0x33, [SDL_SCANCODE_PERIOD] = 0x34,
    [SDL_SCANCODE_SLASH] = 0x35, [SDL_SCANCODE_CAPSLOCK] = 0x3A,
    [SDL_SCANCODE_F1] = 0x3B, [SDL_SCANCODE_F2] = 0x3C, [SDL_SCANCODE_F3] = 0x3D,
    [SDL_SCANCODE_F4] = 0x3E, [SDL_SCANCODE_F5] = 0x3F, [SDL_SCANCODE_F6] = 0x40,
    [SDL_SCANCODE_F7] = 0x41, [SDL_SCANCODE_F8] = 0x42, [SDL_SCANCODE_F9] = 0x43,
    [SDL_SCANCODE_F10] = 0x44, [SDL_SCANCODE_F11] = 0x57, [SDL_SCANCODE_F12] = 0x58,
    [SDL_SCANCODE_PRINTSCREEN] = 0xE037, [SDL_SCANCODE_SCROLLLOCK] = 0x46,
    [SDL_SCANCODE_PAUSE] = 0xE11D, /* KBC_KEY_PAUSE */
    [SDL_SCANCODE_INSERT] = 0xE052, [SDL_SCANCODE_HOME] = 0xE047,
    [SDL_SCANCODE_PAGEUP] = 0xE049, [SDL_SCANCODE_DELETE] = 0xE053,
    [SDL_SCANCODE_END] = 0xE04F, [SDL_SCANCODE_PAGEDOWN] = 0xE051,
    [SDL_SCANCODE_RIGHT] = 0xE04D, [SDL_SCANCODE_LEFT] = 0xE04B,
    [SDL_SCANCODE_DOWN] = 0xE050, [SDL_SCANCODE_UP] = 0xE048,
    [SDL_SCANCODE_NUMLOCKCLEAR] = 0x45, [SDL_SCANCODE_KP_DIVIDE] = 0xE035,
    [SDL_SCANCODE_KP_MULTIPLY] = 0x37, [SDL_SCANCODE_KP_MINUS] = 0x4A,
    [SDL_SCANCODE_KP_PLUS] = 0x4E, [SDL_SCANCODE_KP_ENTER] = 0xE01C,
    [SDL_SCANCODE_KP_1] = 0x4F, [SDL_SCANCODE_KP_2] = 0x50, [SDL_SCANCODE_KP_3] = 0x51,
    [SDL_SCANCODE_KP_4] = 0x4B, [SDL_SCANCODE_KP_5] = 0x4C, [SDL_SCANCODE_KP_6] = 0x4D,
    [SDL_SCANCODE_KP_7] = 0x47, [SDL_SCANCODE_KP_8] = 0x48, [SDL_SCANCODE_KP_9] = 0x49,
    [SDL_SCANCODE_KP_0] = 0x52, [SDL_SCANCODE_KP_PERIOD] = 0x53,
    [SDL_SCANCODE_NONUSBACKSLASH] = 0x56, [SDL_SCANCODE_APPLICATION] = 0xE05D,
    [SDL_SCANCODE_POWER] = 0xE05E, [SDL_SCANCODE_SLEEP] = 0xE05F,
    [SDL_SCANCODE_MUTE] = 0xE020, [SDL_SCANCODE_VOLUMEUP] = 0xE030,
    [SDL_SCANCODE_VOLUMEDOWN] = 0xE02E,
    [SDL_SCANCODE_INTERNATIONAL1] = 0x73, [SDL_SCANCODE_INTERNATIONAL2] = 0x70,
    [SDL_SCANCODE_INTERNATIONAL3] = 0x7D, [SDL_SCANCODE_INTERNATIONAL4] = 0x79,
    [SDL_SCANCODE_INTERNATIONAL5] = 0x7B,
    [SDL_SCANCODE_LCTRL] = 0x1D, [SDL_SCANCODE_LSHIFT] = 0x2A, [SDL_SCANCODE_LALT] = 0x38,
    [SDL_SCANCODE_LGUI] = 0xE05B, [SDL_SCANCODE_RCTRL] = 0xE01D,
    [SDL_SCANCODE_RSHIFT] = 0x36, [SDL_SCANCODE_RALT] = 0xE038, [SDL_SCANCODE_RGUI] = 0xE05C,
};

struct UiWindow {
    Board *b;
    const UiOptions *opt;
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    int tex_w, tex_h;
    bool fullscreen, grabbed, paused, need_present;
    bool held[SDL_NUM_SCANCODES]; /* keys the guest believes are down */
    unsigned buttons;
};

static bool display_available(void)
{
    return getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
}

void ui_error_box(const char *title, const char *text)
{
    if (display_available())
        SDL_ShowSimpleMessageBox(SDL_MESSAGEBOX_ERROR, title, text, NULL);
}

static void window_title(UiWindow *w)
{
    char t[512];
    const char *state = w->paused ? " (paused)"
                        : w->grabbed ? " — mouse captured: Ctrl+Alt releases the mouse"
                                     : "";
    snprintf(t, sizeof t, "vsx — %s%s", w->opt->title ? w->opt->title : "vsx", state);
    SDL_SetWindowTitle(w->win, t);
}

/* The window icon: the same picture as ui/vsx.svg, drawn at 32x32 (a grey
 * monitor whose blue screen shows the welcome banner). */
static void window_icon(SDL_Window *win)
{
    static const char *const banner[5] = {
        "##    ##  ######  ##   ##", "##    ## ##        ## ## ", " ##  ##   #####     ###  ",
        "  ####        ##   ## ## ", "   ##     ######  ##   ##"};
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 32, 32, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!s)
        return;
    uint32_t *px = s->pixels;
    int pitch = s->pitch / 4;
    for (int y = 0; y < 32; y++)
        for (int x = 0; x < 32; x++) {
            uint32_t c = 0;                                      /* transparent */
            if (y >= 2 && y < 26)
                c = 0xFFD8DCE2;                                  /* case */
            if (y >= 4 && y < 23 && x >= 2 && x < 30)
                c = 0xFF1A2FB0;                                  /* screen */
            if (y >= 26 && y < 30 && x >= 12 && x < 20)
                c = 0xFF8A8F98;                                  /* stand */
            if (y >= 11 && y < 16 && x >= 3 && x < 28 && banner[y - 11][x - 3] == '#')
                c = 0xFFFFE14D;
            px[y * pitch + x] = c;
        }
    SDL_SetWindowIcon(win, s);
    SDL_FreeSurface(s);
}

/* X11 titles go out as UTF-8 only when the character type locale can
 * encode it ("vsx — NAME"); the C locale cannot, so prefer the user's and
 * fall back to C.UTF-8.  Only LC_CTYPE: numbers keep their format. */
static void utf8_ctype(void)
{
    const char *l = setlocale(LC_CTYPE, "");
    if (!l || !strcmp(l, "C") || !strcmp(l, "POSIX"))
        setlocale(LC_CTYPE, "C.UTF-8");
}

UiWindow *ui_window_open(Board *b, const UiOptions *opt, char *err, size_t errlen)
{
    utf8_ctype();
    if (SDL_InitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
        snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
        return NULL;
    }
    UiWindow *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, errlen, "out of memory");
        SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
        return NULL;
    }
    w->b = b, w->opt = opt;
    Uint32 flags = SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI;
    if (opt->fullscreen)
        flags |= SDL_WINDOW_FULLSCREEN_DESKTOP;
    w->fullscreen = opt->fullscreen;
    w->win = SDL_CreateWindow("vsx", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, 720, 540, flags);
    if (w->win)
        w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_ACCELERATED);
    if (w->win && !w->ren)
        w->ren = SDL_CreateRenderer(w->win, -1, SDL_RENDERER_SOFTWARE);
    if (!w->ren) {
        snprintf(err, errlen, "cannot open a window: %s", SDL_GetError());
        ui_window_close(w);
        return NULL;
    }
    /* whole-multiple scaling wants crisp blocks; free scaling a smooth picture */
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, opt->integer_scale ? "nearest" : "linear");
    window_icon(w->win);
    window_title(w);
    w->need_present = true;
    return w;
}

void ui_window_close(UiWindow *w)
{
    if (!w)
        return;
    if (w->grabbed)
        SDL_SetRelativeMouseMode(SDL_FALSE);
    if (w->tex)
        SDL_DestroyTexture(w->tex);
    if (w->ren)
        SDL_DestroyRenderer(w->ren);
    if (w->win)
        SDL_DestroyWindow(w->win);
    free(w);
    SDL_QuitSubSystem(SDL_INIT_VIDEO | SDL_INIT_EVENTS);
    if (!SDL_WasInit(0))
        SDL_Quit(); /* also closes SDL's D-Bus connection */
}

/* Legacy VGA modes (720x400 text, 320x200, 640x350 ...) were shown on a 4:3
 * monitor; VBE modes have square pixels.  Integer scaling keeps square
 * pixels everywhere, so every guest pixel becomes a whole block. */
static void display_size(const UiWindow *w, int fw, int fh, int *dw, int *dh)
{
    *dw = fw, *dh = fh;
    if (!w->opt->integer_scale && fw <= 720 && fh <= 480 && fw * 3 != fh * 4)
        *dh = fw * 3 / 4;
}

/* A new guest resolution: the window follows at the largest whole scale
 * that fits the desktop. */
static void window_fit(UiWindow *w, int fw, int fh)
{
    if (w->fullscreen)
        return;
    int dw, dh, scale = 1;
    display_size(w, fw, fh, &dw, &dh);
    SDL_Rect usable;
    if (SDL_GetDisplayUsableBounds(SDL_GetWindowDisplayIndex(w->win), &usable) == 0)
        while (dw * (scale + 1) <= usable.w * 9 / 10 && dh * (scale + 1) <= usable.h * 9 / 10 &&
               scale < 4 && dw * scale < 1024)
            scale++;
    SDL_SetWindowSize(w->win, dw * scale, dh * scale);
}

static bool texture_for(UiWindow *w, int fw, int fh)
{
    if (w->tex && fw == w->tex_w && fh == w->tex_h)
        return false;
    if (w->tex)
        SDL_DestroyTexture(w->tex);
    w->tex = SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING, fw, fh);
    w->tex_w = fw, w->tex_h = fh;
    window_fit(w, fw, fh);
    return true;
}

static SDL_Rect dest_rect(UiWindow *w)
{
    int ow, oh, dw, dh;
    SDL_GetRendererOutputSize(w->ren, &ow, &oh);
    display_size(w, w->tex_w, w->tex_h, &dw, &dh);
    double sx = (double)ow / dw, sy = (double)oh / dh, s = sx < sy ? sx : sy;
    if (w->opt->integer_scale && s >= 1)
        s = (int)s;
    SDL_Rect r;
    r.w = (int)(dw * s), r.h = (int)(dh * s);
    r.x = (ow - r.w) / 2, r.y = (oh - r.h) / 2;
    return r;
}

void ui_window_present(UiWindow *w, const VgaFrame *f)
{
    bool fresh = texture_for(w, f->width, f->height);
    if (!w->tex)
        return;
    int y0 = fresh ? 0 : f->dirty_y0, y1 = fresh ? f->height : f->dirty_y1;
    if (y1 > y0) {
        SDL_Rect rows = {0, y0, f->width, y1 - y0};
        SDL_UpdateTexture(w->tex, &rows, f->pixels + (size_t)y0 * (size_t)f->stride,
                          f->stride * 4);
        w->need_present = true;
    }
    if (!w->need_present)
        return;
    SDL_Rect dst = dest_rect(w);
    SDL_SetRenderDrawColor(w->ren, 0, 0, 0, 255);
    SDL_RenderClear(w->ren);
    SDL_RenderCopy(w->ren, w->tex, NULL, &dst);
    SDL_RenderPresent(w->ren);
    w->need_present = false;
}

void ui_window_picture_rect(UiWindow *w, int *x, int *y, int *width, int *height)
{
    int wx, wy;
    SDL_GetWindowPosition(w->win, &wx, &wy);
    SDL_Rect r = w->tex ? dest_rect(w) : (SDL_Rect){0, 0, 0, 0};
    *x = wx + r.x, *y = wy + r.y, *width = r.w, *height = r.h;
}

void ui_window_set_paused(UiWindow *w, bool paused)
{
    w->paused = paused;
    window_title(w);
}

/* ------------------------------------------------------------------------ */
/* Input                                                                    */
/* ------------------------------------------------------------------------ */
static void guest_key(UiWindow *w, SDL_Scancode sc, bool down)
{
    int code = sc < SDL_NUM_SCANCODES ? sdl_to_set1[sc] : 0;
    if (!code || (!down && !w->held[sc]))
        return;
    w->held[sc] = down;
    board_key_event(w->b, code, down);
}

static void release_all_keys(UiWindow *w)
{
    for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++)
        if (w->held[sc])
            guest_key(w, (SDL_Scancode)sc, false);
    if (w->buttons) {
        w->buttons = 0;
        board_mouse_event(w->b, 0, 0, 0, 0);
    }
}

static void set_grab(UiWindow *w, bool on)
{
    w->grabbed = on;
    SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE);
    window_title(w);
}

static void toggle_fullscreen(UiWindow *w)
{
    w->fullscreen = !w->fullscreen;
    SDL_SetWindowFullscreen(w->win, w->fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
    if (!w->fullscreen && w->tex)
        window_fit(w, w->tex_w, w->tex_h);
    w->need_present = true;
}

/* Ctrl+Alt+key: handled by the host, never forwarded. */
static UiAction host_combo(UiWindow *w, SDL_Scancode sc, bool *consumed)
{
    *consumed = true;
    switch (sc) {
    case SDL_SCANCODE_END:
        board_key_event(w->b, 0xE053, true); /* Ctrl and Alt are already down */
        board_key_event(w->b, 0xE053, false);
        return UI_NONE;
    case SDL_SCANCODE_F: toggle_fullscreen(w); return UI_NONE;
    case SDL_SCANCODE_S: return UI_SCREENSHOT;
    case SDL_SCANCODE_P: return UI_PAUSE;
    case SDL_SCANCODE_Q: return UI_QUIT;
    default:
        *consumed = false;
        return UI_NONE;
    }
}

/* From the key events in order, not SDL_GetModState(): that reflects every
 * event already pumped, so a quick Ctrl+Alt+S could read as plain S. */
static bool ctrl_alt(const UiWindow *w)
{
    return (w->held[SDL_SCANCODE_LCTRL] || w->held[SDL_SCANCODE_RCTRL]) &&
           (w->held[SDL_SCANCODE_LALT] || w->held[SDL_SCANCODE_RALT]);
}

static bool is_ctrl_or_alt(SDL_Scancode sc)
{
    return sc == SDL_SCANCODE_LCTRL || sc == SDL_SCANCODE_RCTRL ||
           sc == SDL_SCANCODE_LALT || sc == SDL_SCANCODE_RALT;
}

static UiAction on_key(UiWindow *w, const SDL_KeyboardEvent *k)
{
    SDL_Scancode sc = k->keysym.scancode;
    bool down = k->type == SDL_KEYDOWN;
    if (down && ctrl_alt(w)) {
        bool consumed;
        UiAction a = host_combo(w, sc, &consumed);
        if (consumed)
            return a;
    }
    guest_key(w, sc, down);
    if (down && w->grabbed && is_ctrl_or_alt(sc) && ctrl_alt(w))
        set_grab(w, false);
    return UI_NONE;
}

static unsigned sdl_buttons(Uint32 state)
{
    return ((state & SDL_BUTTON_LMASK) ? 1u : 0) | ((state & SDL_BUTTON_RMASK) ? 2u : 0) |
           ((state & SDL_BUTTON_MMASK) ? 4u : 0);
}

/* Mouse: a click captures it (that click is not forwarded); while captured
 * motion is relative.  dy follows screen direction (down positive) and dz
 * is positive for the wheel turned toward the user. */
static void on_mouse(UiWindow *w, const SDL_Event *e)
{
    if (!w->grabbed) {
        if (e->type == SDL_MOUSEBUTTONUP && !w->paused)
            set_grab(w, true);
        return;
    }
    switch (e->type) {
    case SDL_MOUSEMOTION:
        w->buttons = sdl_buttons(e->motion.state);
        board_mouse_event(w->b, e->motion.xrel, e->motion.yrel, 0, w->buttons);
        break;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
        w->buttons = sdl_buttons(SDL_GetMouseState(NULL, NULL));
        board_mouse_event(w->b, 0, 0, 0, w->buttons);
        break;
    case SDL_MOUSEWHEEL:
        board_mouse_event(w->b, 0, 0, -e->wheel.y, w->buttons);
        break;
    default:
        break;
    }
}

static UiAction on_window(UiWindow *w, const SDL_WindowEvent *we)
{
    switch (we->event) {
    case SDL_WINDOWEVENT_CLOSE: return UI_QUIT;
    case SDL_WINDOWEVENT_FOCUS_LOST:
        release_all_keys(w);
        if (w->grabbed)
            set_grab(w, false);
        break;
    case SDL_WINDOWEVENT_EXPOSED:
    case SDL_WINDOWEVENT_SIZE_CHANGED:
        w->need_present = true;
        break;
    default:
        break;
    }
    return UI_NONE;
}

static UiAction on_event(UiWindow *w, const SDL_Event *e)
{
    switch (e->type) {
    case SDL_QUIT: return UI_QUIT;
    case SDL_WINDOWEVENT: return on_window(w, &e->window);
    case SDL_KEYDOWN:
    case SDL_KEYUP: return on_key(w, &e->key);
    case SDL_MOUSEMOTION:
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
    case SDL_MOUSEWHEEL: on_mouse(w, e); return UI_NONE;
    default: return UI_NONE;
    }
}

/* Drains pending events (waiting up to wait_ms for the first); returns the
 * first action that needs the run loop. */
UiAction ui_window_events(UiWindow *w, int wait_ms)
{
    SDL_Event e;
    UiAction result = UI_NONE;
    int got = wait_ms > 0 ? SDL_WaitEventTimeout(&e, wait_ms) : SDL_PollEvent(&e);
    while (got) {
        UiAction a = on_event(w, &e);
        if (a != UI_NONE && result == UI_NONE)
            result = a;
        got = SDL_PollEvent(&e);
    }
    return result;
}
