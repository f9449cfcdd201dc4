/*
 * ui/keys.c -- scripted keys ("2s:F12 3s:\"ls -l\"+ret") parsed into PS/2
 * set-1 press/release events.  Syntax in ui.h.  Scan codes: IBM PS/2
 * Keyboard Technical Reference, scan code set 1 (extended keys 0xE0xx).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../chipset/devices.h"
#include "ui_priv.h"

static const struct {
    const char *name;
    int code;
} key_names[] = {
    {"esc", 0x01}, {"1", 0x02}, {"2", 0x03}, {"3", 0x04}, {"4", 0x05}, {"5", 0x06},
    {"6", 0x07}, {"7", 0x08}, {"8", 0x09}, {"9", 0x0A}, {"0", 0x0B}, {"minus", 0x0C},
    {"equal", 0x0D}, {"bksp", 0x0E}, {"backspace", 0x0E}, {"tab", 0x0F},
    {"q", 0x10}, {"w", 0x11}, {"e", 0x12}, {"r", 0x13}, {"t", 0x14}, {"y", 0x15},
    {"u", 0x16}, {"i", 0x17}, {"o", 0x18}, {"p", 0x19}, {"lbracket", 0x1A},
    {"rbracket", 0x1B}, {"ret", 0x1C}, {"enter", 0x1C}, {"ctrl", 0x1D}, {"lctrl", 0x1D},
    {"a", 0x1E}, {"s", 0x1F}, {"d", 0x20}, {"f", 0x21}, {"g", 0x22}, {"h", 0x23},
    {"j", 0x24}, {"k", 0x25}, {"l", 0x26}, {"semicolon", 0x27}, {"quote", 0x28},
    {"backquote", 0x29}, {"shift", 0x2A}, {"lshift", 0x2A}, {"backslash", 0x2B},
    {"z", 0x2C}, {"x", 0x2D}, {"c", 0x2E}, {"v", 0x2F}, {"b", 0x30}, {"n", 0x31},
    {"m", 0x32}, {"comma", 0x33}, {"dot", 0x34}, {"slash", 0x35}, {"rshift", 0x36},
    {"kpmul", 0x37}, {"alt", 0x38}, {"lalt", 0x38}, {"spc", 0x39}, {"space", 0x39},
    {"capslock", 0x3A}, {"f1", 0x3B}, {"f2", 0x3C}, {"f3", 0x3D}, {"f4", 0x3E},
    {"f5", 0x3F}, {"f6", 0x40}, {"f7", 0x41}, {"f8", 0x42}, {"f9", 0x43}, {"f10", 0x44},
    {"numlock", 0x45}, {"scrolllock", 0x46}, {"kp7", 0x47}, {"kp8", 0x48}, {"kp9", 0x49},
    {"kpminus", 0x4A}, {"kp4", 0x4B}, {"kp5", 0x4C}, {"kp6", 0x4D}, {"kpplus", 0x4E},
    {"kp1", 0x4F}, {"kp2", 0x50}, {"kp3", 0x51}, {"kp0", 0x52}, {"kpdot", 0x53},
    {"f11", 0x57}, {"f12", 0x58},
    {"kpenter", 0xE01C}, {"rctrl", 0xE01D}, {"kpdiv", 0xE035}, {"print", 0xE037},
    {"ralt", 0xE038}, {"home", 0xE047}, {"up", 0xE048}, {"pgup", 0xE049},
    {"left", 0xE04B}, {"right", 0xE04D}, {"end", 0xE04F}, {"down", 0xE050},
    {"pgdn", 0xE051}, {"ins", 0xE052}, {"del", 0xE053}, {"win", 0xE05B},
    {"lwin", 0xE05B}, {"rwin", 0xE05C}, {"menu", 0xE05D}, {"pause", KBC_KEY_PAUSE},
};

int ui_key_code(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof key_names / sizeof key_names[0]; i++)
        if (strlen(key_names[i].name) == len && !strncasecmp(key_names[i].name, name, len))
            return key_names[i].code;
    return -1;
}

/* US layout: ASCII -> set-1 code, plus whether Shift is needed. */
static const char unshifted[] = "1234567890-=qwertyuiop[]asdfghjkl;'`\\zxcvbnm,./ \n\t";
static const char shifted[] = "!@#$%^&*()_+QWERTYUIOP{}ASDFGHJKL:\"~|ZXCVBNM<>?";
static const uint8_t char_codes[] = {
    0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B,
    0x1E, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2B,
    0x2C, 0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x39, 0x1C, 0x0F,
};

int ui_char_code(char c, bool *shift)
{
    const char *p;
    if (c && (p = strchr(unshifted, c))) {
        *shift = false;
        return char_codes[p - unshifted];
    }
    if (c && (p = strchr(shifted, c))) {
        *shift = true;
        return char_codes[p - shifted];
    }
    return -1;
}

/* ------------------------------------------------------------------------ */
typedef struct EventList {
    UiKeyEvent *ev;
    size_t n, cap;
    double time;
} EventList;

static int push(EventList *l, int code, bool down)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        UiKeyEvent *e = realloc(l->ev, cap * sizeof *e);
        if (!e)
            return -1;
        l->ev = e, l->cap = cap;
    }
    l->ev[l->n++] = (UiKeyEvent){l->time, code, down};
    return 0;
}

static int press_release(EventList *l, int code, bool shift)
{
    int rc = 0;
    if (shift)
        rc |= push(l, 0x2A, true);
    rc |= push(l, code, true);
    rc |= push(l, code, false);
    if (shift)
        rc |= push(l, 0x2A, false);
    return rc;
}

static int seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A quoted string [s, end): each character typed with Shift as needed. */
static int type_text(EventList *l, const char *s, const char *end, char *err, size_t errlen)
{
    for (; s < end; s++) {
        char c = *s;
        if (c == '\\' && s + 1 < end) {
            c = *++s;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
        }
        bool shift;
        int code = ui_char_code(c, &shift);
        if (code < 0)
            return seterr(err, errlen, "cannot type the character '%c' (0x%02x)", c, (unsigned char)c);
        if (press_release(l, code, shift))
            return seterr(err, errlen, "out of memory");
    }
    return 0;
}

/* KEY or MOD-MOD-KEY: modifiers pressed first, released last. */
static int key_action(EventList *l, const char *s, const char *end, char *err, size_t errlen)
{
    int mods[8], nmods = 0;
    const char *dash;
    while ((dash = memchr(s, '-', (size_t)(end - s))) && dash + 1 < end && nmods < 8) {
        int m = ui_key_code(s, (size_t)(dash - s));
        if (m < 0)
            return seterr(err, errlen, "unknown modifier '%.*s'", (int)(dash - s), s);
        mods[nmods++] = m;
        s = dash + 1;
    }
    int code = ui_key_code(s, (size_t)(end - s));
    if (code < 0)
        return seterr(err, errlen, "unknown key '%.*s'", (int)(end - s), s);
    int rc = 0;
    for (int i = 0; i < nmods; i++)
        rc |= push(l, mods[i], true);
    rc |= press_release(l, code, false);
    for (int i = nmods - 1; i >= 0; i--)
        rc |= push(l, mods[i], false);
    return rc ? seterr(err, errlen, "out of memory") : 0;
}

/* Finds the end of one action starting at s (a '+' or blank outside quotes). */
static const char *action_end(const char *s)
{
    if (*s == '"') {
        for (s++; *s && *s != '"'; s++)
            if (*s == '\\' && s[1])
                s++;
        return *s ? s + 1 : NULL;
    }
    while (*s && *s != '+' && !isspace((unsigned char)*s))
        s++;
    return s;
}

static int parse_time(const char **ps, double *t)
{
    char *e;
    double v = strtod(*ps, &e);
    if (e == *ps || v < 0)
        return -1;
    if (!strncasecmp(e, "ms", 2))
        v /= 1000, e += 2;
    else if (*e == 's' || *e == 'S')
        e++;
    if (*e != ':')
        return -1;
    *t = v;
    *ps = e + 1;
    return 0;
}

static int parse_item(EventList *l, const char **ps, char *err, size_t errlen)
{
    const char *item = *ps, *s = *ps;
    if (parse_time(&s, &l->time))
        return seterr(err, errlen, "key item '%.20s': expected TIME:KEY, e.g. 2s:ret", item);
    for (;;) {
        const char *end = action_end(s);
        if (!end)
            return seterr(err, errlen, "key item '%.20s': unterminated quote", item);
        if (end == s)
            return seterr(err, errlen, "key item '%.20s': empty key", item);
        int rc = *s == '"' ? type_text(l, s + 1, end - 1, err, errlen)
                           : key_action(l, s, end, err, errlen);
        if (rc)
            return -1;
        s = end;
        if (*s != '+')
            break;
        s++;
    }
    if (*s && !isspace((unsigned char)*s))
        return seterr(err, errlen, "key item '%.20s': junk after the keys", item);
    *ps = s;
    return 0;
}

static int cmp_time(const void *a, const void *b)
{
    const UiKeyEvent *x = a, *y = b;
    return x->time_s < y->time_s ? -1 : x->time_s > y->time_s;
}

int ui_keys_parse(const char *script, UiKeyEvent **out, size_t *count, char *err, size_t errlen)
{
    EventList l = {0};
    const char *s = script ? script : "";
    for (;;) {
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '#') {                       /* comment to end of line */
            while (*s && *s != '\n')
                s++;
            continue;
        }
        if (!*s)
            break;
        if (parse_item(&l, &s, err, errlen)) {
            free(l.ev);
            return -1;
        }
    }
    /* stable insertion sort by time: items at equal times keep their order,
     * and scripts are short and mostly ordered already */
    for (size_t i = 1; i < l.n; i++) {
        UiKeyEvent e = l.ev[i];
        size_t j = i;
        for (; j > 0 && cmp_time(&l.ev[j - 1], &e) > 0; j--)
            l.ev[j] = l.ev[j - 1];
        l.ev[j] = e;
    }
    *out = l.ev;
    *count = l.n;
    return 0;
}
