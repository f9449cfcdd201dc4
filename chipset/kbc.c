/*
 * chipset/kbc.c -- the 8042 keyboard controller (data 0x60, status/command
 * 0x64) with a PS/2 keyboard on its first port (IRQ 1) and a PS/2 mouse,
 * IntelliMouse-capable, on its auxiliary port (IRQ 12).
 *
 * References: IBM PS/2 Hardware Interface Technical Reference ("Keyboard and
 * Auxiliary Device Controller": status register, command byte, commands
 * 0x20-0xFF, output port); IBM 101/102-key keyboard technical reference
 * (keyboard commands 0xED-0xFF, scan code sets 1-3, typematic rate table);
 * the IBM PS/2 mouse technical reference and Microsoft's IntelliMouse
 * extension (sample-rate knock 200,100,80 -> ID 3, 4-byte packets).
 *
 * Flow: each device has its own byte queue; whenever the controller's
 * single output buffer is empty it is refilled -- controller replies first,
 * then the keyboard, then the mouse -- and the IRQ for the source is raised
 * if the command byte enables it.  With translation on (command byte bit 6)
 * keyboard bytes pass through the set-2 -> set-1 translator on the way.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset/devices.h"

#define QUEUE_SIZE 64
#define KBD_QUEUE_ROOM 16 /* typematic repeats stop when fewer bytes are free */

/* Status register (port 0x64 read). */
#define ST_OBF 0x01
#define ST_SYS 0x04
#define ST_CMD 0x08     /* last write went to 0x64 */
#define ST_UNLOCKED 0x10
#define ST_AUX 0x20     /* output buffer holds mouse data */

/* Command byte (controller RAM 0). */
#define CB_KBD_INT 0x01
#define CB_AUX_INT 0x02
#define CB_SYS 0x04
#define CB_KBD_OFF 0x10
#define CB_AUX_OFF 0x20
#define CB_XLATE 0x40

/* Output port. */
#define OP_RESET 0x01   /* 0 holds the CPU in reset */
#define OP_A20 0x02
#define OP_KBD_OBF 0x10
#define OP_AUX_OBF 0x20
#define OP_DEFAULT 0xCF

/* Replies. */
#define ACK 0xFA
#define RESEND 0xFE
#define BAT_OK 0xAA
#define SELFTEST_OK 0x55

enum { SRC_NONE = 0, SRC_CTRL, SRC_KBD, SRC_AUX };

typedef struct ByteQueue {
    uint8_t data[QUEUE_SIZE];
    uint8_t head, count;
} ByteQueue;

typedef struct KbdState {
    ByteQueue q;
    uint8_t scanning;   /* F4/F5 */
    uint8_t set;        /* scan code set 1-3 */
    uint8_t leds;
    uint8_t typematic;  /* F3 parameter */
    uint8_t pending;    /* command awaiting its parameter byte, or 0 */
    uint8_t last_sent;  /* for FE resend */
    int32_t held;       /* key repeating now, or 0 */
} KbdState;

typedef struct AuxState {
    ByteQueue q;
    uint8_t reporting;  /* F4/F5 */
    uint8_t remote;     /* F0 remote mode / EA stream mode */
    uint8_t wrap;       /* EE/EC */
    uint8_t scaling21;
    uint8_t resolution;
    uint8_t rate;
    uint8_t id;         /* 0 plain, 3 IntelliMouse */
    uint8_t knock[3];   /* last three sample rates */
    uint8_t pending;
    uint8_t last_sent;
    uint8_t buttons;
    int32_t dx, dy, dz; /* movement not yet reported (PS/2 axes: y up) */
} AuxState;

typedef struct KbcRegs {
    uint8_t status;
    uint8_t out;        /* output buffer */
    uint8_t out_src;
    uint8_t ram[32];    /* controller RAM; [0] is the command byte */
    uint8_t outport;
    uint8_t pending;    /* controller command awaiting a data byte */
    uint8_t xlate_break;/* translator saw F0 */
    uint8_t irq1, irq12;
    ByteQueue ctrl;     /* controller replies and D2/D3 bytes ... */
    ByteQueue ctrl_src; /* ... and the source each one poses as */
    KbdState kbd;
    AuxState aux;
} KbcRegs;

struct Kbc {
    Bus *bus;
    Clock *clk;
    IrqLine irq1, irq12;
    Timer *repeat_timer;
    KbcRegs r;
};

/* ------------------------------------------------------------------ queues */

static bool q_put(ByteQueue *q, uint8_t b)
{
    if (q->count >= QUEUE_SIZE)
        return false;
    q->data[(q->head + q->count) % QUEUE_SIZE] = b;
    q->count++;
    return true;
}

static uint8_t q_get(ByteQueue *q)
{
    uint8_t b = q->data[q->head];
    q->head = (uint8_t)((q->head + 1) % QUEUE_SIZE);
    q->count--;
    return b;
}

static void q_clear(ByteQueue *q) { q->head = q->count = 0; }
static unsigned q_room(const ByteQueue *q) { return QUEUE_SIZE - q->count; }

/* ------------------------------------------------------- scan code tables */

/* Set-1 make code (index) -> set-2 code, non-extended keys.  0 = no key. */
static const uint8_t set1_to_set2[128] = {
    0x00, 0x76, 0x16, 0x1E, 0x26, 0x25, 0x2E, 0x36, 0x3D, 0x3E, 0x46, 0x45, 0x4E, 0x55, 0x66, 0x0D,
    0x15, 0x1D, 0x24, 0x2D, 0x2C, 0x35, 0x3C, 0x43, 0x44, 0x4D, 0x54, 0x5B, 0x5A, 0x14, 0x1C, 0x1B,
    0x23, 0x2B, 0x34, 0x33, 0x3B, 0x42, 0x4B, 0x4C, 0x52, 0x0E, 0x12, 0x5D, 0x1A, 0x22, 0x21, 0x2A,
    0x32, 0x31, 0x3A, 0x41, 0x49, 0x4A, 0x59, 0x7C, 0x11, 0x29, 0x58, 0x05, 0x06, 0x04, 0x0C, 0x03,
    0x0B, 0x83, 0x0A, 0x01, 0x09, 0x77, 0x7E, 0x6C, 0x75, 0x7D, 0x7B, 0x6B, 0x73, 0x74, 0x79, 0x69,
    0x72, 0x7A, 0x70, 0x71, 0x84, 0x00, 0x61, 0x78, 0x07, 0x0F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x00,
    0x13, 0x00, 0x00, 0x51, 0x00, 0x00, 0x5F, 0x00, 0x00, 0x64, 0x00, 0x67, 0x00, 0x6A, 0x6D, 0x00,
};

/* Extended keys: set-1 code after E0 -> set-2 code after E0. */
typedef struct ExtKey {
    uint8_t set1, set2, set3;
} ExtKey;

static const ExtKey ext_keys[] = {
    {0x1C, 0x5A, 0x79}, /* keypad Enter */
    {0x1D, 0x14, 0x58}, /* right Ctrl */
    {0x35, 0x4A, 0x77}, /* keypad / */
    {0x37, 0x7C, 0x57}, /* Print Screen (sequence handled apart) */
    {0x38, 0x11, 0x39}, /* right Alt */
    {0x46, 0x7E, 0x62}, /* Ctrl+Break */
    {0x47, 0x6C, 0x6E}, /* Home */
    {0x48, 0x75, 0x63}, /* Up */
    {0x49, 0x7D, 0x6F}, /* Page Up */
    {0x4B, 0x6B, 0x61}, /* Left */
    {0x4D, 0x74, 0x6A}, /* Right */
    {0x4F, 0x69, 0x65}, /* End */
    {0x50, 0x72, 0x60}, /* Down */
    {0x51, 0x7A, 0x6D}, /* Page Down */
    {0x52, 0x70, 0x67}, /* Insert */
    {0x53, 0x71, 0x64}, /* Delete */
    {0x5B, 0x1F, 0x8B}, /* left Windows */
    {0x5C, 0x27, 0x8C}, /* right Windows */
    {0x5D, 0x2F, 0x8D}, /* Menu */
    {0x5E, 0x37, 0x00}, /* Power */
    {0x5F, 0x3F, 0x00}, /* Sleep */
    {0x63, 0x5E, 0x00}, /* Wake */
    {0x10, 0x15, 0x00}, /* previous track */
    {0x19, 0x4D, 0x00}, /* next track */
    {0x20, 0x23, 0x00}, /* mute */
    {0x21, 0x2B, 0x00}, /* calculator */
    {0x22, 0x34, 0x00}, /* play/pause */
    {0x24, 0x3B, 0x00}, /* stop */
    {0x2E, 0x21, 0x00}, /* volume down */
    {0x30, 0x32, 0x00}, /* volume up */
    {0x32, 0x3A, 0x00}, /* WWW home */
};

/* Set 3 differs from set 2 for these non-extended keys (set-1 code, set 3). */
static const uint8_t set3_overrides[][2] = {
    {0x01, 0x08}, {0x3B, 0x07}, {0x3C, 0x0F}, {0x3D, 0x17}, {0x3E, 0x1F}, {0x3F, 0x27},
    {0x40, 0x2F}, {0x41, 0x37}, {0x42, 0x3F}, {0x43, 0x47}, {0x44, 0x4F}, {0x57, 0x56},
    {0x58, 0x5E}, {0x46, 0x5F}, {0x1D, 0x11}, {0x38, 0x19}, {0x3A, 0x14}, {0x2B, 0x5C},
    {0x37, 0x7E}, {0x4A, 0x84}, {0x4E, 0x7C}, {0x45, 0x76}, {0x54, 0x57},
};

static const ExtKey *ext_key(uint8_t set1)
{
    for (size_t i = 0; i < sizeof ext_keys / sizeof ext_keys[0]; i++)
        if (ext_keys[i].set1 == set1)
            return &ext_keys[i];
    return NULL;
}

/* The 8042 translator: set-2 byte -> set-1 byte (F0 handled by the caller). */
static uint8_t translate_byte(uint8_t b)
{
    if (b == 0x83 || b == 0x02)
        return 0x41; /* F7 (the one set-2 make code above 0x7F); 0x02 is no
                      * key but the 8042 table maps it there too (F0 00 reply) */
    if (b == 0x84)
        return 0x54; /* SysRq */
    if (b >= 0x80)
        return b;    /* E0, E1, FA, AA, EE, FE ... pass through */
    if (b == 0x00)
        return 0xFF; /* buffer overrun code */
    for (int i = 1; i < 128; i++)
        if (set1_to_set2[i] == b)
            return (uint8_t)i;
    for (size_t i = 0; i < sizeof ext_keys / sizeof ext_keys[0]; i++)
        if (ext_keys[i].set2 == b)
            return ext_keys[i].set1;
    return b;
}

/* ------------------------------------------------------ the output buffer */

static void kbc_update_irq(Kbc *k)
{
    KbcRegs *r = &k->r;
    bool full = r->status & ST_OBF;
    int irq1 = full && r->out_src != SRC_AUX && (r->ram[0] & CB_KBD_INT);
    int irq12 = full && r->out_src == SRC_AUX && (r->ram[0] & CB_AUX_INT);
    if (irq1 != r->irq1) {
        r->irq1 = (uint8_t)irq1;
        irq_set(&k->irq1, irq1);
    }
    if (irq12 != r->irq12) {
        r->irq12 = (uint8_t)irq12;
        irq_set(&k->irq12, irq12);
    }
}

static void aux_flush_motion(Kbc *k);

/* Takes the next keyboard byte through the translator; false if none. */
static bool kbc_next_kbd_byte(Kbc *k, uint8_t *out)
{
    KbcRegs *r = &k->r;
    while (r->kbd.q.count) {
        uint8_t b = q_get(&r->kbd.q);
        if (!(r->ram[0] & CB_XLATE)) {
            *out = b;
            return true;
        }
        if (b == 0xF0) {
            r->xlate_break = 1;
            continue;
        }
        *out = (uint8_t)(translate_byte(b) | (r->xlate_break ? 0x80 : 0));
        r->xlate_break = 0;
        return true;
    }
    return false;
}

/* Refills an empty output buffer (controller, then keyboard, then mouse). */
static void kbc_refill(Kbc *k)
{
    KbcRegs *r = &k->r;
    if (!(r->status & ST_OBF)) {
        uint8_t b;
        int src = SRC_NONE;
        if (r->ctrl.count) {
            b = q_get(&r->ctrl);
            src = q_get(&r->ctrl_src);
        } else if (!(r->ram[0] & CB_KBD_OFF) && kbc_next_kbd_byte(k, &b)) {
            src = SRC_KBD;
        } else if (!(r->ram[0] & CB_AUX_OFF) && r->aux.q.count) {
            b = q_get(&r->aux.q);
            src = SRC_AUX;
        }
        if (src != SRC_NONE) {
            r->out = b;
            r->out_src = (uint8_t)src;
            r->status |= ST_OBF;
            r->status = (src == SRC_AUX) ? (r->status | ST_AUX) : (r->status & ~ST_AUX);
        }
        if (src == SRC_AUX || !r->aux.q.count)
            aux_flush_motion(k);
    }
    kbc_update_irq(k);
}

/* A controller reply, or a byte the guest wrote back (D2 as keyboard data,
 * D3 as mouse data): the controller itself fills the output buffer, so
 * neither translation nor the interface-disable bits apply. */
static void kbc_queue_ctrl(Kbc *k, uint8_t b, int as)
{
    if (q_put(&k->r.ctrl, b))
        q_put(&k->r.ctrl_src, (uint8_t)as);
}

/* -------------------------------------------------------- PS/2 keyboard */

static void kbd_send(Kbc *k, uint8_t b)
{
    KbdState *kb = &k->r.kbd;
    kb->last_sent = b;
    if (!q_put(&kb->q, b)) {
        /* Buffer overrun: the last byte becomes the overrun code. */
        kb->q.data[(kb->q.head + kb->q.count - 1) % QUEUE_SIZE] = kb->set == 1 ? 0xFF : 0x00;
    }
}

static void kbd_defaults(KbdState *kb)
{
    kb->set = 2;
    kb->typematic = 0x2B; /* 10.9 characters/s after 500 ms */
    kb->leds = 0;
    kb->scanning = 1;
    kb->pending = 0;
    kb->held = 0;
}

/* Typematic delay and period from the F3 byte (keyboard technical reference:
 * delay (1 + bits 6-5) * 250 ms; period (8 + bits 2-0) * 2^(bits 4-3) * 4.17 ms). */
static uint64_t kbd_delay_ns(const KbdState *kb) { return (uint64_t)(((kb->typematic >> 5) & 3) + 1) * 250000000ull; }
static uint64_t kbd_period_ns(const KbdState *kb)
{
    return (uint64_t)(8 + (kb->typematic & 7)) * (1u << ((kb->typematic >> 3) & 3)) * 4170000ull;
}

static uint8_t set3_code(uint8_t set1)
{
    for (size_t i = 0; i < sizeof set3_overrides / sizeof set3_overrides[0]; i++)
        if (set3_overrides[i][0] == set1)
            return set3_overrides[i][1];
    return set1_to_set2[set1 & 0x7F];
}

/* Emits the bytes of one key transition in the keyboard's current set. */
static void kbd_emit(Kbc *k, int keycode, bool down)
{
    int set = k->r.kbd.set;
    if (keycode == KBC_KEY_PAUSE) {
        static const uint8_t s1[] = {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
        static const uint8_t s2[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        if (!down)
            return; /* Pause has no break code */
        if (set == 3) {
            kbd_send(k, 0x62);
        } else {
            const uint8_t *s = set == 1 ? s1 : s2;
            size_t n = set == 1 ? sizeof s1 : sizeof s2;
            for (size_t i = 0; i < n; i++)
                kbd_send(k, s[i]);
        }
        return;
    }
    bool ext = (keycode >> 8) == 0xE0;
    uint8_t code = keycode & 0x7F;
    if (set == 1) {
        if (ext && code == 0x37) { /* Print Screen: fake shift around E0 37 */
            static const uint8_t mk[] = {0xE0, 0x2A, 0xE0, 0x37}, br[] = {0xE0, 0xB7, 0xE0, 0xAA};
            for (int i = 0; i < 4; i++)
                kbd_send(k, down ? mk[i] : br[i]);
            return;
        }
        if (ext)
            kbd_send(k, 0xE0);
        kbd_send(k, (uint8_t)(code | (down ? 0 : 0x80)));
        return;
    }
    if (set == 2 && ext && code == 0x37) {
        static const uint8_t mk[] = {0xE0, 0x12, 0xE0, 0x7C}, br[] = {0xE0, 0xF0, 0x7C, 0xE0, 0xF0, 0x12};
        if (down)
            for (int i = 0; i < 4; i++)
                kbd_send(k, mk[i]);
        else
            for (int i = 0; i < 6; i++)
                kbd_send(k, br[i]);
        return;
    }
    uint8_t out;
    if (ext) {
        const ExtKey *e = ext_key(code);
        if (!e)
            return;
        out = set == 3 ? e->set3 : e->set2;
    } else {
        out = set == 3 ? set3_code(code) : set1_to_set2[code];
    }
    if (!out)
        return; /* no such key in this set */
    if (ext && set == 2)
        kbd_send(k, 0xE0);
    if (!down)
        kbd_send(k, 0xF0);
    kbd_send(k, out);
}

/* A set-1 make code (1-0x7F), an extended one (0xE001-0xE07F) or Pause. */
static bool key_valid(int keycode)
{
    if (keycode == KBC_KEY_PAUSE)
        return true;
    int code = keycode & 0xFF;
    return (keycode >> 8 == 0 || keycode >> 8 == 0xE0) && code > 0 && code < 0x80;
}

static void kbd_repeat_fired(void *opaque, uint64_t now)
{
    Kbc *k = opaque;
    KbdState *kb = &k->r.kbd;
    if (!kb->held || !kb->scanning)
        return;
    if (q_room(&kb->q) >= KBD_QUEUE_ROOM) {
        kbd_emit(k, kb->held, true);
        kbc_refill(k);
    }
    timer_arm(k->repeat_timer, now + kbd_period_ns(kb));
}

void kbc_key_event(Kbc *k, int keycode, bool down)
{
    KbdState *kb = &k->r.kbd;
    if (!kb->scanning || !key_valid(keycode))
        return;
    if (down && keycode == kb->held)
        return; /* host auto-repeat: the keyboard's own typematic repeats */
    kbd_emit(k, keycode, down);
    if (down && keycode != KBC_KEY_PAUSE) {
        kb->held = keycode;
        timer_arm(k->repeat_timer, clock_now(k->clk) + kbd_delay_ns(kb));
    } else if (!down && keycode == kb->held) {
        kb->held = 0;
        timer_cancel(k->repeat_timer);
    }
    kbc_refill(k);
}

bool kbc_keyboard_idle(Kbc *k)
{
    return !(k->r.status & ST_OBF) && !k->r.kbd.q.count;
}

/* A parameter byte for the command in kb->pending. */
static void kbd_param(Kbc *k, uint8_t cmd, uint8_t v)
{
    KbdState *kb = &k->r.kbd;
    switch (cmd) {
    case 0xED:
        kb->leds = v & 7;
        kbd_send(k, ACK);
        break;
    case 0xF3:
        kb->typematic = v & 0x7F;
        kbd_send(k, ACK);
        break;
    default: /* 0xF0: scan code set */
        if (v == 0) {
            kbd_send(k, ACK);
            kbd_send(k, kb->set);
        } else if (v <= 3) {
            kb->set = v;
            kbd_send(k, ACK);
        } else {
            kbd_send(k, RESEND);
        }
        break;
    }
}

/* A byte from the host (port 0x60 with no controller command pending). */
static void kbd_write(Kbc *k, uint8_t v)
{
    KbdState *kb = &k->r.kbd;
    if (kb->pending) {
        uint8_t cmd = kb->pending;
        kb->pending = 0;
        kbd_param(k, cmd, v);
        return;
    }
    switch (v) {
    case 0xED: case 0xF0: case 0xF3:
        kb->pending = v;
        kbd_send(k, ACK);
        break;
    case 0xEE:
        kbd_send(k, 0xEE);
        break;
    case 0xF2: /* MF2 keyboard */
        kbd_send(k, ACK);
        kbd_send(k, 0xAB);
        kbd_send(k, 0x83);
        break;
    case 0xF4:
        kb->scanning = 1;
        q_clear(&kb->q);
        kbd_send(k, ACK);
        break;
    case 0xF5:
        kbd_defaults(kb);
        kb->scanning = 0;
        q_clear(&kb->q);
        kbd_send(k, ACK);
        break;
    case 0xF6:
        kbd_defaults(kb);
        q_clear(&kb->q);
        kbd_send(k, ACK);
        break;
    case 0xF7: case 0xF8: case 0xF9: case 0xFA: case 0xFB: case 0xFC: case 0xFD:
        kbd_send(k, ACK); /* set-3 key types: accepted, all keys stay make/break */
        break;
    case 0xFE:
        kbd_send(k, kb->last_sent);
        break;
    case 0xFF:
        kbd_defaults(kb);
        q_clear(&kb->q);
        kbd_send(k, ACK);
        kbd_send(k, BAT_OK);
        break;
    default:
        kbd_send(k, RESEND);
        break;
    }
    if (!kb->held)
        timer_cancel(k->repeat_timer);
}

/* ----------------------------------------------------------- PS/2 mouse */

static void aux_send(Kbc *k, uint8_t b)
{
    k->r.aux.last_sent = b;
    q_put(&k->r.aux.q, b);
}

static void aux_defaults(AuxState *m)
{
    m->reporting = 0;
    m->remote = 0;
    m->wrap = 0;
    m->scaling21 = 0;
    m->resolution = 2;
    m->rate = 100;
    m->pending = 0;
    m->dx = m->dy = m->dz = 0;
}

static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* 2:1 scaling (mouse technical reference): small motions are damped. */
static int scale21(int d)
{
    static const int small[6] = {0, 1, 1, 3, 6, 9};
    int a = d < 0 ? -d : d;
    int s = a <= 5 ? small[a] : 2 * a;
    return d < 0 ? -s : s;
}

/* One movement packet from the accumulated motion.  `overflow`: report
 * motion beyond 9 bits with the overflow bits and drop it (remote reads);
 * otherwise send at most 9 bits and keep the rest for the next packet. */
static void aux_packet(Kbc *k, bool overflow)
{
    AuxState *m = &k->r.aux;
    int dx = m->dx, dy = m->dy, dz = m->dz;
    bool ox = dx < -256 || dx > 255, oy = dy < -256 || dy > 255;
    dx = clamp(dx, -256, 255);
    dy = clamp(dy, -256, 255);
    dz = clamp(dz, -8, 7);
    m->dx = overflow ? 0 : m->dx - dx;
    m->dy = overflow ? 0 : m->dy - dy;
    m->dz -= dz;
    if (m->scaling21 && !m->remote) {
        dx = clamp(scale21(dx), -256, 255);
        dy = clamp(scale21(dy), -256, 255);
    }
    uint8_t b0 = (uint8_t)(0x08 | (m->buttons & 1) | ((m->buttons & 2) ? 0x02 : 0) |
                           ((m->buttons & 4) ? 0x04 : 0) | (dx < 0 ? 0x10 : 0) | (dy < 0 ? 0x20 : 0));
    if (overflow)
        b0 |= (uint8_t)((ox ? 0x40 : 0) | (oy ? 0x80 : 0));
    aux_send(k, b0);
    aux_send(k, (uint8_t)dx);
    aux_send(k, (uint8_t)dy);
    if (m->id == 3)
        aux_send(k, (uint8_t)dz);
}

/* Stream mode: report pending motion while the queue has room. */
static void aux_flush_motion(Kbc *k)
{
    AuxState *m = &k->r.aux;
    if (!m->reporting || m->remote || m->wrap)
        return;
    for (int i = 0; i < 8 && (m->dx || m->dy || m->dz) && q_room(&m->q) >= 4; i++)
        aux_packet(k, false);
}

void kbc_mouse_event(Kbc *k, int dx, int dy, int dz, unsigned buttons)
{
    AuxState *m = &k->r.aux;
    /* Callers use screen axes (y down); PS/2 reports y up. */
    m->dx = clamp(m->dx + dx, -100000, 100000);
    m->dy = clamp(m->dy - dy, -100000, 100000);
    if (m->id == 3)
        m->dz = clamp(m->dz + dz, -100000, 100000);
    bool changed = (buttons & 7) != m->buttons;
    m->buttons = buttons & 7;
    if (m->reporting && !m->remote && !m->wrap && changed && !m->dx && !m->dy && !m->dz &&
        q_room(&m->q) >= 4)
        aux_packet(k, false);
    aux_flush_motion(k);
    kbc_refill(k);
}

static void aux_param(Kbc *k, uint8_t cmd, uint8_t v)
{
    AuxState *m = &k->r.aux;
    if (cmd == 0xE8) {
        m->resolution = v & 3;
    } else { /* 0xF3 */
        m->rate = v;
        m->knock[0] = m->knock[1];
        m->knock[1] = m->knock[2];
        m->knock[2] = v;
        if (m->knock[0] == 200 && m->knock[1] == 100 && m->knock[2] == 80)
            m->id = 3;
    }
    aux_send(k, ACK);
}

static void aux_status(Kbc *k)
{
    AuxState *m = &k->r.aux;
    uint8_t b = (uint8_t)((m->remote ? 0x40 : 0) | (m->reporting ? 0x20 : 0) | (m->scaling21 ? 0x10 : 0) |
                          ((m->buttons & 1) ? 0x04 : 0) | ((m->buttons & 4) ? 0x02 : 0) |
                          ((m->buttons & 2) ? 0x01 : 0));
    aux_send(k, ACK);
    aux_send(k, b);
    aux_send(k, m->resolution);
    aux_send(k, m->rate);
}

static void aux_write(Kbc *k, uint8_t v)
{
    AuxState *m = &k->r.aux;
    if (m->pending) {
        uint8_t cmd = m->pending;
        m->pending = 0;
        aux_param(k, cmd, v);
        return;
    }
    if (m->wrap && v != 0xEC && v != 0xFF) {
        aux_send(k, v); /* wrap mode echoes */
        return;
    }
    switch (v) {
    case 0xE6: m->scaling21 = 0; aux_send(k, ACK); break;
    case 0xE7: m->scaling21 = 1; aux_send(k, ACK); break;
    case 0xE8: case 0xF3: m->pending = v; aux_send(k, ACK); break;
    case 0xE9: aux_status(k); break;
    case 0xEA: m->remote = 0; aux_send(k, ACK); break;
    case 0xEB: aux_send(k, ACK); aux_packet(k, true); break;
    case 0xEC: m->wrap = 0; aux_send(k, ACK); break;
    case 0xEE: m->wrap = 1; aux_send(k, ACK); break;
    case 0xF0: m->remote = 1; aux_send(k, ACK); break;
    case 0xF2: aux_send(k, ACK); aux_send(k, m->id); break;
    case 0xF4: /* motion before enabling is not reported */
        m->reporting = 1;
        m->dx = m->dy = m->dz = 0;
        aux_send(k, ACK);
        break;
    case 0xF5: m->reporting = 0; aux_send(k, ACK); break;
    case 0xF6: aux_defaults(m); aux_send(k, ACK); break;
    case 0xFE: aux_send(k, m->last_sent); break;
    case 0xFF:
        aux_defaults(m);
        m->id = 0;
        q_clear(&m->q);
        aux_send(k, ACK);
        aux_send(k, BAT_OK);
        aux_send(k, 0x00);
        break;
    default: aux_send(k, RESEND); break;
    }
}

/* ------------------------------------------------------------ the 8042 */

static void kbc_set_outport(Kbc *k, uint8_t v)
{
    k->r.outport = v;
    bus_set_a20(k->bus, (v & OP_A20) != 0);
    if (!(v & OP_RESET))
        bus_request(k->bus, BUS_REQ_RESET, 0);
}

static void kbc_write_ram(Kbc *k, int index, uint8_t v)
{
    k->r.ram[index & 31] = v;
    if ((index & 31) == 0)
        k->r.status = (k->r.status & ~ST_SYS) | (v & CB_SYS);
}

/* A byte to port 0x60: the data of a controller command, or for the keyboard. */
static void kbc_data_write(Kbc *k, uint8_t v)
{
    KbcRegs *r = &k->r;
    uint8_t cmd = r->pending;
    r->pending = 0;
    if (cmd >= 0x60 && cmd <= 0x7F)
        kbc_write_ram(k, cmd - 0x60, v);
    else if (cmd == 0xD1)
        kbc_set_outport(k, v);
    else if (cmd == 0xD2)
        kbc_queue_ctrl(k, v, SRC_KBD);
    else if (cmd == 0xD3)
        kbc_queue_ctrl(k, v, SRC_AUX);
    else if (cmd == 0xD4) {
        r->ram[0] &= ~CB_AUX_OFF; /* talking to the mouse enables its interface */
        aux_write(k, v);
    } else {
        r->ram[0] &= ~CB_KBD_OFF; /* sending to the keyboard enables its interface */
        kbd_write(k, v);
    }
}

static uint8_t kbc_outport_value(const Kbc *k)
{
    const KbcRegs *r = &k->r;
    uint8_t v = r->outport & ~(OP_KBD_OBF | OP_AUX_OBF);
    if (r->status & ST_OBF)
        v |= (r->out_src == SRC_AUX) ? OP_AUX_OBF : OP_KBD_OBF;
    return v;
}

static void kbc_command(Kbc *k, uint8_t cmd)
{
    KbcRegs *r = &k->r;
    r->pending = 0;
    if (cmd >= 0x20 && cmd <= 0x3F) {
        kbc_queue_ctrl(k, r->ram[cmd & 31], SRC_CTRL);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7F) || (cmd >= 0xD1 && cmd <= 0xD4)) {
        r->pending = cmd;
        return;
    }
    if (cmd >= 0xF0) {
        /* Pulse output port bits 0-3 low for each 0 in the command's low
         * nibble: bit 0 is the CPU reset line. */
        if (!(cmd & 1))
            bus_request(k->bus, BUS_REQ_RESET, 0);
        return;
    }
    switch (cmd) {
    case 0xA1: kbc_queue_ctrl(k, 0x00, SRC_CTRL); break;    /* controller version */
    case 0xA4: kbc_queue_ctrl(k, 0xF1, SRC_CTRL); break;    /* no password installed */
    case 0xA7: r->ram[0] |= CB_AUX_OFF; break;
    case 0xA8: r->ram[0] &= ~CB_AUX_OFF; break;
    case 0xA9: kbc_queue_ctrl(k, 0x00, SRC_CTRL); break;    /* aux interface OK */
    case 0xAA:
        r->status |= ST_SYS;
        kbc_queue_ctrl(k, SELFTEST_OK, SRC_CTRL);
        break;
    case 0xAB: kbc_queue_ctrl(k, 0x00, SRC_CTRL); break;    /* kbd interface OK */
    case 0xAD: r->ram[0] |= CB_KBD_OFF; break;
    case 0xAE: r->ram[0] &= ~CB_KBD_OFF; break;
    case 0xC0: kbc_queue_ctrl(k, 0x80, SRC_CTRL); break;    /* input port: unlocked */
    case 0xD0: kbc_queue_ctrl(k, kbc_outport_value(k), SRC_CTRL); break;
    case 0xDD: kbc_set_outport(k, r->outport & ~OP_A20); break;
    case 0xDF: kbc_set_outport(k, r->outport | OP_A20); break;
    case 0xE0: kbc_queue_ctrl(k, 0x00, SRC_CTRL); break;    /* test inputs */
    default: break;                                         /* unknown: ignored */
    }
}

/* Port 0x60: the buffer is read even when empty (the last byte again). */
static uint32_t kbc_data_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    Kbc *k = dev;
    uint8_t v = k->r.out;
    k->r.status &= ~(ST_OBF | ST_AUX);
    kbc_update_irq(k); /* the IRQ drops before the next byte raises it */
    kbc_refill(k);
    return v;
}

static void kbc_data_port_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    Kbc *k = dev;
    k->r.status &= ~ST_CMD;
    kbc_data_write(k, (uint8_t)value);
    kbc_refill(k);
}

static uint32_t kbc_status_read(void *dev, uint32_t offset, unsigned width)
{
    (void)offset, (void)width;
    Kbc *k = dev;
    return k->r.status | ST_UNLOCKED;
}

static void kbc_command_write(void *dev, uint32_t offset, uint32_t value, unsigned width)
{
    (void)offset, (void)width;
    Kbc *k = dev;
    k->r.status |= ST_CMD;
    kbc_command(k, (uint8_t)value);
    kbc_refill(k);
}

static const IoOps kbc_data_ops = {kbc_data_read, kbc_data_port_write, IO_W8, "kbc-data"};
static const IoOps kbc_cmd_ops = {kbc_status_read, kbc_command_write, IO_W8, "kbc-command"};

/* ------------------------------------------------------------ lifecycle */

static void kbc_reset(void *dev)
{
    Kbc *k = dev;
    KbcRegs *r = &k->r;
    memset(r, 0, sizeof *r);
    r->ram[0] = CB_KBD_INT | CB_AUX_INT | CB_XLATE;
    kbd_defaults(&r->kbd);
    aux_defaults(&r->aux);
    timer_cancel(k->repeat_timer);
    r->outport = OP_DEFAULT;
    bus_set_a20(k->bus, true); /* output port bit 1 comes up set */
    irq_set(&k->irq1, 0);
    irq_set(&k->irq12, 0);
}

static void kbc_save(void *dev, StateStream *s)
{
    Kbc *k = dev;
    state_put(s, "kbc", &k->r, sizeof k->r);
}

static void q_sanitise(ByteQueue *q)
{
    q->head %= QUEUE_SIZE;
    if (q->count > QUEUE_SIZE)
        q->count = QUEUE_SIZE;
}

static int kbc_load(void *dev, StateStream *s)
{
    Kbc *k = dev;
    KbcRegs *r = &k->r;
    if (state_get(s, "kbc", r, sizeof *r) < 0)
        return -1;
    q_sanitise(&r->ctrl);
    r->ctrl_src.head = r->ctrl.head; /* the two queues move in lockstep */
    r->ctrl_src.count = r->ctrl.count;
    for (int i = 0; i < QUEUE_SIZE; i++)
        if (r->ctrl_src.data[i] > SRC_AUX || r->ctrl_src.data[i] == SRC_NONE)
            r->ctrl_src.data[i] = SRC_CTRL;
    q_sanitise(&r->kbd.q);
    q_sanitise(&r->aux.q);
    if (r->kbd.set < 1 || r->kbd.set > 3)
        r->kbd.set = 2;
    r->irq1 = !r->irq1;
    r->irq12 = !r->irq12;
    kbc_update_irq(k);
    if (r->kbd.held)
        timer_arm(k->repeat_timer, clock_now(k->clk) + kbd_period_ns(&r->kbd));
    else
        timer_cancel(k->repeat_timer);
    return 0;
}

static void kbc_destroy(void *dev)
{
    Kbc *k = dev;
    if (!k)
        return;
    bus_unmap_io(k->bus, 0x60, 1);
    bus_unmap_io(k->bus, 0x64, 1);
    timer_free(k->repeat_timer);
    free(k);
}

Kbc *kbc_create(Bus *bus, Clock *clk, IrqLine irq1, IrqLine irq12)
{
    Kbc *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->bus = bus;
    k->clk = clk;
    k->irq1 = irq1;
    k->irq12 = irq12;
    k->repeat_timer = timer_new(clk, kbd_repeat_fired, k, "kbd-typematic");
    if (!k->repeat_timer || bus_map_io(bus, 0x60, 1, &kbc_data_ops, k) < 0) {
        timer_free(k->repeat_timer);
        free(k);
        return NULL;
    }
    if (bus_map_io(bus, 0x64, 1, &kbc_cmd_ops, k) < 0) {
        bus_unmap_io(bus, 0x60, 1);
        timer_free(k->repeat_timer);
        free(k);
        return NULL;
    }
    kbc_reset(k);
    return k;
}

const DeviceClass kbc_device_class = {
    .name = "kbc",
    .reset = kbc_reset,
    .save = kbc_save,
    .load = kbc_load,
    .destroy = kbc_destroy,
};
