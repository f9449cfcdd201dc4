/*
 * chipset/state.c -- state streams for save/load of device and CPU state.
 * A stream is a sequence of records: a NUL-terminated tag, a 32-bit length and
 * the bytes.  Readers must ask for the same tags in the same order; any
 * mismatch fails the load instead of silently mis-restoring a device.
 */
#include <stdlib.h>
#include <string.h>

#include "chipset.h"

struct StateStream {
    uint8_t *data;
    size_t len, cap, pos;
    bool writer, failed;
};

StateStream *state_writer_create(void)
{
    StateStream *s = calloc(1, sizeof *s);
    if (s)
        s->writer = true;
    return s;
}

StateStream *state_reader_create(const void *data, size_t len)
{
    StateStream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->data = malloc(len ? len : 1);
    if (!s->data) {
        free(s);
        return NULL;
    }
    memcpy(s->data, data, len);
    s->len = len;
    return s;
}

void state_destroy(StateStream *s)
{
    if (!s)
        return;
    free(s->data);
    free(s);
}

const void *state_data(const StateStream *s, size_t *len)
{
    *len = s->failed ? 0 : s->len;
    return s->data;
}

static void put_bytes(StateStream *s, const void *p, size_t n)
{
    if (s->failed)
        return;
    if (s->len + n > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n)
            cap *= 2;
        uint8_t *d = realloc(s->data, cap);
        if (!d) {
            s->failed = true;
            return;
        }
        s->data = d;
        s->cap = cap;
    }
    memcpy(s->data + s->len, p, n);
    s->len += n;
}

void state_put(StateStream *s, const char *tag, const void *data, size_t len)
{
    uint32_t n = (uint32_t)len;
    put_bytes(s, tag, strlen(tag) + 1);
    put_bytes(s, &n, sizeof n);
    put_bytes(s, data, len);
}

int state_get(StateStream *s, const char *tag, void *data, size_t len)
{
    size_t taglen = strlen(tag) + 1;
    uint32_t n;
    if (s->writer || s->pos + taglen + sizeof n > s->len || memcmp(s->data + s->pos, tag, taglen))
        return -1;
    memcpy(&n, s->data + s->pos + taglen, sizeof n);
    if (n != len || s->pos + taglen + sizeof n + n > s->len)
        return -1;
    memcpy(data, s->data + s->pos + taglen + sizeof n, len);
    s->pos += taglen + sizeof n + n;
    return 0;
}
