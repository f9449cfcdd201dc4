/* tests/unit/dma_test.c -- the 8237A pair and page registers (8237A datasheet). */
#include "chiptest.h"

typedef struct FakeDev {
    IsaDma *dma;
    uint8_t data[4096];
    int chunk;        /* bytes per handler call */
    int calls;
    bool to_memory;
} FakeDev;

static int fake_handler(void *opaque, int channel, int pos, int size)
{
    FakeDev *f = opaque;
    f->calls++;
    int n = size - pos < f->chunk ? size - pos : f->chunk;
    if (pos + n > (int)sizeof f->data)
        n = (int)sizeof f->data - pos;
    if (n <= 0)
        return pos;
    if (f->to_memory)
        isa_dma_write_memory(f->dma, channel, f->data + pos, pos, n);
    else
        isa_dma_read_memory(f->dma, channel, f->data + pos, pos, n);
    return pos + n;
}

typedef struct DmaFix {
    Bus *bus;
    IsaDma *dma;
    FakeDev dev;
} DmaFix;

static void dma_fix_init(DmaFix *f)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(1 << 20, NULL);
    f->dma = isa_dma_create(f->bus);
    f->dev.dma = f->dma;
    f->dev.chunk = 4096;
    for (int i = 0; i < 4096; i++)
        f->dev.data[i] = (uint8_t)(i * 7 + 1);
}

static void dma_fix_done(DmaFix *f)
{
    isa_dma_device_class.destroy(f->dma);
    bus_destroy(f->bus);
}

/* Programs a byte channel (0-3) as a BIOS does. */
static void setup8(Bus *b, int ch, uint8_t page, uint16_t addr, uint16_t count, uint8_t mode)
{
    static const uint16_t pages[4] = {0x87, 0x83, 0x81, 0x82};
    outb(b, 0x0A, (uint8_t)(0x04 | ch));
    outb(b, 0x0C, 0);
    outb(b, 0x0B, (uint8_t)(mode | ch));
    outb(b, (uint16_t)(ch * 2), (uint8_t)addr);
    outb(b, (uint16_t)(ch * 2), (uint8_t)(addr >> 8));
    outb(b, (uint16_t)(ch * 2 + 1), (uint8_t)count);
    outb(b, (uint16_t)(ch * 2 + 1), (uint8_t)(count >> 8));
    outb(b, pages[ch], page);
}

static unsigned read16(Bus *b, uint16_t port)
{
    unsigned lo = inb(b, port);
    return lo | (unsigned)inb(b, port) << 8;
}

TEST(dma, write_transfer_into_ram)
{
    DmaFix f;
    dma_fix_init(&f);
    f.dev.to_memory = true;
    f.dev.chunk = 100;
    isa_dma_register(f.dma, 2, fake_handler, &f.dev);
    outb(f.bus, 0xD6, 0xC0);                     /* channel 4 cascade */
    outb(f.bus, 0xD4, 0x00);                     /* unmask channel 4 */
    setup8(f.bus, 2, 0x01, 0x2000, 511, 0x44);   /* single, write to memory */
    outb(f.bus, 0x0A, 0x02);                     /* unmask channel 2 */
    isa_dma_request(f.dma, 2, true);
    CHECK_EQ(inb(f.bus, 0x08) & 0x40, 0x40);     /* DREQ 2 in status */
    for (int i = 0; i < 10; i++)
        isa_dma_run(f.dma);
    CHECK_EQ(f.dev.calls, 6);                    /* 100-byte turns, then masked at TC */
    uint8_t *ram = bus_ram(f.bus);
    CHECK(memcmp(ram + 0x12000, f.dev.data, 512) == 0);
    CHECK_EQ(ram[0x12200], 0);
    CHECK_EQ(inb(f.bus, 0x08) & 0x04, 0x04);     /* TC 2 */
    CHECK_EQ(inb(f.bus, 0x08) & 0x04, 0x00);     /* cleared by the read */
    CHECK_EQ(inb(f.bus, 0x0F) & 0x04, 0x04);     /* masked at TC */
    outb(f.bus, 0x0C, 0);
    CHECK_EQ(read16(f.bus, 0x04), 0x2200);
    CHECK_EQ(read16(f.bus, 0x05), 0xFFFF);
    dma_fix_done(&f);
}

TEST(dma, read_autoinit_decrement)
{
    DmaFix f;
    dma_fix_init(&f);
    uint8_t *ram = bus_ram(f.bus);
    for (int i = 0; i < 16; i++)
        ram[0x30000 + 0x100 - i] = (uint8_t)(0xA0 + i);
    isa_dma_register(f.dma, 1, fake_handler, &f.dev);
    outb(f.bus, 0xD4, 0x00);
    setup8(f.bus, 1, 0x03, 0x0100, 15, 0x08 | 0x10 | 0x20 | 0x80); /* read, auto, down, block */
    outb(f.bus, 0x0A, 0x01);
    isa_dma_request(f.dma, 1, true);
    isa_dma_run(f.dma);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(f.dev.data[i], 0xA0 + i);
    CHECK_EQ(inb(f.bus, 0x0F) & 0x02, 0x00);     /* auto-init: still unmasked */
    outb(f.bus, 0x0C, 0);
    CHECK_EQ(read16(f.bus, 0x02), 0x0100);       /* reloaded */
    CHECK_EQ(read16(f.bus, 0x03), 15);
    dma_fix_done(&f);
}

TEST(dma, word_channel_and_cascade_mask)
{
    DmaFix f;
    dma_fix_init(&f);
    f.dev.to_memory = true;
    isa_dma_register(f.dma, 5, fake_handler, &f.dev);
    isa_dma_register(f.dma, 3, fake_handler, &f.dev);
    outb(f.bus, 0xD4, 0x05);                     /* mask 5 */
    outb(f.bus, 0xD6, 0x45);                     /* single write, channel 5 */
    outb(f.bus, 0xD8, 0);
    outb(f.bus, 0xC4, 0x00);                     /* word address 0x8000 */
    outb(f.bus, 0xC4, 0x80);
    outb(f.bus, 0xC6, 7);                        /* 8 words */
    outb(f.bus, 0xC6, 0);
    outb(f.bus, 0x8B, 0x05);                     /* page bit 0 ignored: 0x40000 */
    CHECK_EQ(inb(f.bus, 0x8B), 0x05);
    outb(f.bus, 0xD4, 0x01);                     /* unmask 5 */
    isa_dma_request(f.dma, 5, true);
    isa_dma_run(f.dma);
    uint8_t *ram = bus_ram(f.bus);
    CHECK(memcmp(ram + 0x50000, f.dev.data, 16) == 0);
    CHECK_EQ(inb(f.bus, 0xD0) & 0x02, 0x02);     /* TC on channel 5 */
    /* Channels 0-3 need the cascade channel 4 unmasked. */
    f.dev.calls = 0;
    outb(f.bus, 0xD4, 0x04);
    setup8(f.bus, 3, 0x06, 0, 3, 0x44);
    outb(f.bus, 0x0A, 0x03);
    isa_dma_request(f.dma, 3, true);
    isa_dma_run(f.dma);
    CHECK_EQ(f.dev.calls, 0);
    outb(f.bus, 0xD4, 0x00);
    CHECK_EQ(f.dev.calls, 1);                    /* unmasking runs it */
    dma_fix_done(&f);
}

TEST(dma, registers)
{
    DmaFix f;
    dma_fix_init(&f);
    outb(f.bus, 0x0C, 0);
    outb(f.bus, 0x00, 0x34);
    outb(f.bus, 0x00, 0x12);
    outb(f.bus, 0x0C, 0);
    CHECK_EQ(inb(f.bus, 0x00), 0x34);
    CHECK_EQ(inb(f.bus, 0x00), 0x12);
    outb(f.bus, 0x0F, 0x05);
    CHECK_EQ(inb(f.bus, 0x0F) & 0x0F, 0x05);
    outb(f.bus, 0x0E, 0);
    CHECK_EQ(inb(f.bus, 0x0F) & 0x0F, 0x00);
    outb(f.bus, 0x09, 0x06);                     /* software request channel 2 */
    CHECK_EQ(inb(f.bus, 0x08) & 0xF0, 0x40);
    outb(f.bus, 0x09, 0x02);
    CHECK_EQ(inb(f.bus, 0x08) & 0xF0, 0x00);
    outb(f.bus, 0x0D, 0);                        /* master clear */
    CHECK_EQ(inb(f.bus, 0x0F) & 0x0F, 0x0F);
    for (uint16_t p = 0x81; p <= 0x8F; p++)
        outb(f.bus, p, (uint8_t)p);
    for (uint16_t p = 0x81; p <= 0x8F; p++)
        CHECK_EQ(inb(f.bus, p), (uint8_t)p);
    CHECK_EQ(inb(f.bus, 0x80), 0xFF);            /* not ours */
    CHECK_EQ(chiptest_roundtrip(&isa_dma_device_class, f.dma), 0);
    CHECK_EQ(inb(f.bus, 0x8F), 0x8F);
    dma_fix_done(&f);
}

TEST(dma, past_end_of_ram)
{
    DmaFix f;
    dma_fix_init(&f);
    f.dev.to_memory = true;
    isa_dma_register(f.dma, 2, fake_handler, &f.dev);
    outb(f.bus, 0xD4, 0x00);
    setup8(f.bus, 2, 0xFF, 0xFF00, 0x0FFF, 0x44); /* 16 MiB - 256, wraps in its page */
    outb(f.bus, 0x0A, 0x02);
    isa_dma_request(f.dma, 2, true);
    isa_dma_run(f.dma);
    CHECK_EQ(inb(f.bus, 0x08) & 0x04, 0x04);
    f.dev.to_memory = false;
    memset(f.dev.data, 0, sizeof f.dev.data);
    setup8(f.bus, 2, 0xFF, 0x0000, 0x00FF, 0x48);
    outb(f.bus, 0x0A, 0x02);
    isa_dma_run(f.dma);
    CHECK_EQ(f.dev.data[0], 0xFF);               /* unassigned memory reads all-ones */
    CHECK_EQ(f.dev.data[255], 0xFF);
    dma_fix_done(&f);
}

TEST(dma, nonsense)
{
    DmaFix f;
    dma_fix_init(&f);
    for (int ch = 0; ch < 8; ch++)
        isa_dma_register(f.dma, ch, fake_handler, &f.dev);
    uint32_t seed = 2024;
    for (int i = 0; i < 30000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port;
        switch (r & 3) {
        case 0: port = (uint16_t)((r >> 2) & 15); break;
        case 1: port = (uint16_t)(0xC0 + ((r >> 2) & 31)); break;
        default: port = (uint16_t)(0x81 + ((r >> 2) % 15)); break;
        }
        if (r & 0x80)
            outb(f.bus, port, (uint8_t)(r >> 8));
        else
            (void)inb(f.bus, port);
        if ((r & 0x700) == 0) {
            f.dev.to_memory = (r >> 20) & 1;
            f.dev.chunk = (int)((r >> 21) & 1023) + 1;
            isa_dma_request(f.dma, (int)((r >> 12) & 7), (r >> 15) & 1);
            isa_dma_run(f.dma);
        }
    }
    isa_dma_request(f.dma, 9, true);
    isa_dma_register(f.dma, -1, fake_handler, &f.dev);
    CHECK_EQ(isa_dma_read_memory(f.dma, 8, f.dev.data, 0, 4), 0);
    isa_dma_device_class.reset(f.dma);
    CHECK_EQ(inb(f.bus, 0x0F) & 0x0F, 0x0F);
    dma_fix_done(&f);
}

TEST(dma, verify_touches_no_memory)
{
    DmaFix f;
    dma_fix_init(&f);
    f.dev.to_memory = true;
    isa_dma_register(f.dma, 2, fake_handler, &f.dev);
    outb(f.bus, 0xD4, 0x00);
    setup8(f.bus, 2, 0x02, 0x0000, 63, 0x40);    /* single, verify */
    outb(f.bus, 0x0A, 0x02);
    isa_dma_request(f.dma, 2, true);
    isa_dma_run(f.dma);
    CHECK_EQ(inb(f.bus, 0x08) & 0x04, 0x04);     /* it still counts to TC */
    uint8_t *ram = bus_ram(f.bus);
    for (int i = 0; i < 64; i++)
        CHECK_EQ(ram[0x20000 + i], 0);
    dma_fix_done(&f);
}
