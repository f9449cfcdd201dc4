/* tests/unit/pic_test.c -- the 8259A pair through its ports (8259A datasheet). */
#include "chiptest.h"

typedef struct PicFix {
    Bus *bus;
    Pic *pic;
    ChipCpu cpu;
} PicFix;

/* The BIOS's usual programming: vectors 0x08 / 0x70, cascade on IR2, 8086 mode. */
static void pic_std_init(Bus *b, uint8_t icw4)
{
    outb(b, 0x20, 0x11);
    outb(b, 0x21, 0x08);
    outb(b, 0x21, 0x04);
    outb(b, 0x21, icw4);
    outb(b, 0xA0, 0x11);
    outb(b, 0xA1, 0x70);
    outb(b, 0xA1, 0x02);
    outb(b, 0xA1, icw4);
    outb(b, 0x21, 0x00);
    outb(b, 0xA1, 0x00);
}

static void pic_fix_init(PicFix *f, uint8_t icw4)
{
    memset(f, 0, sizeof *f);
    f->bus = bus_create(1 << 20, NULL);
    f->pic = pic_create(f->bus);
    bus_set_cpu_hooks(f->bus, &chiptest_hooks, &f->cpu);
    pic_std_init(f->bus, icw4);
}

static void pic_fix_done(PicFix *f)
{
    pic_device_class.destroy(f->pic);
    bus_destroy(f->bus);
}

static void pulse(Pic *p, int irq)
{
    pic_set_irq(p, irq, 1);
    pic_set_irq(p, irq, 0);
}

TEST(pic, priority_and_eoi)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    CHECK_EQ(f.cpu.intr, 0);
    pulse(f.pic, 4);
    pulse(f.pic, 1);
    CHECK_EQ(f.cpu.intr, 1);
    CHECK_EQ(inb(f.bus, 0x20), 0x12); /* IRR after init reads IRR */
    CHECK_EQ(bus_intr_ack(f.bus), 0x09);
    outb(f.bus, 0x20, 0x0B);          /* read ISR */
    CHECK_EQ(inb(f.bus, 0x20), 0x02);
    CHECK_EQ(f.cpu.intr, 0);          /* IR4 is lower than IR1 in service */
    outb(f.bus, 0x20, 0x20);          /* non-specific EOI */
    CHECK_EQ(f.cpu.intr, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0C);
    /* A higher-priority request nests over IR4. */
    pulse(f.pic, 0);
    CHECK_EQ(f.cpu.intr, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x08);
    CHECK_EQ(inb(f.bus, 0x20), 0x11);
    outb(f.bus, 0x20, 0x64);          /* specific EOI IR4 */
    CHECK_EQ(inb(f.bus, 0x20), 0x01);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(inb(f.bus, 0x20), 0x00);
    pic_fix_done(&f);
}

TEST(pic, mask_and_edge)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    outb(f.bus, 0x21, 0x01);
    CHECK_EQ(inb(f.bus, 0x21), 0x01);
    pic_set_irq(f.pic, 0, 1);
    CHECK_EQ(f.cpu.intr, 0);
    outb(f.bus, 0x21, 0x00);
    CHECK_EQ(f.cpu.intr, 1);          /* latched while masked */
    CHECK_EQ(bus_intr_ack(f.bus), 0x08);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 0);          /* still high, no new edge */
    pic_set_irq(f.pic, 0, 1);
    CHECK_EQ(f.cpu.intr, 0);
    pic_set_irq(f.pic, 0, 0);
    pic_set_irq(f.pic, 0, 1);
    CHECK_EQ(f.cpu.intr, 1);
    pic_fix_done(&f);
}

TEST(pic, cascade_slave)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    pulse(f.pic, 14);
    CHECK_EQ(f.cpu.intr, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x76);
    outb(f.bus, 0xA0, 0x0B);
    CHECK_EQ(inb(f.bus, 0xA0), 0x40);
    outb(f.bus, 0x20, 0x0B);
    CHECK_EQ(inb(f.bus, 0x20), 0x04);
    pulse(f.pic, 8);                  /* higher than 14 on the slave but */
    CHECK_EQ(f.cpu.intr, 0);          /* master IR2 is in service */
    outb(f.bus, 0xA0, 0x20);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x70);
    pic_fix_done(&f);
}

TEST(pic, auto_eoi)
{
    PicFix f;
    pic_fix_init(&f, 0x03);
    pulse(f.pic, 3);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0B);
    outb(f.bus, 0x20, 0x0B);
    CHECK_EQ(inb(f.bus, 0x20), 0x00);
    pulse(f.pic, 5);
    CHECK_EQ(f.cpu.intr, 1);
    pic_fix_done(&f);
}

TEST(pic, rotate)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    pulse(f.pic, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x09);
    outb(f.bus, 0x20, 0xA0);          /* rotate on non-specific EOI: IR1 lowest */
    pulse(f.pic, 1);
    pulse(f.pic, 3);
    pulse(f.pic, 0);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0B); /* order now 2,3,...,7,0,1 */
    outb(f.bus, 0x20, 0xE3);             /* rotate on specific EOI 3 */
    CHECK_EQ(bus_intr_ack(f.bus), 0x08); /* 4..7,0 */
    outb(f.bus, 0x20, 0x20);
    outb(f.bus, 0x20, 0xC0);             /* set priority: IR0 lowest */
    CHECK_EQ(bus_intr_ack(f.bus), 0x09);
    pic_fix_done(&f);
}

TEST(pic, polled)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    outb(f.bus, 0x20, 0x0C);
    CHECK_EQ(inb(f.bus, 0x20), 0x00);  /* nothing pending */
    pulse(f.pic, 6);
    outb(f.bus, 0x20, 0x0C);
    CHECK_EQ(inb(f.bus, 0x20), 0x86);
    outb(f.bus, 0x20, 0x0B);
    CHECK_EQ(inb(f.bus, 0x20), 0x40);  /* poll acknowledged into ISR */
    pic_fix_done(&f);
}

TEST(pic, special_mask)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    pulse(f.pic, 2 + 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0B);
    pulse(f.pic, 5);
    CHECK_EQ(f.cpu.intr, 0);
    outb(f.bus, 0x21, 0x08);           /* mask IR3 and enter special mask mode */
    outb(f.bus, 0x20, 0x68);
    CHECK_EQ(f.cpu.intr, 1);           /* IR5 now allowed past in-service IR3 */
    CHECK_EQ(bus_intr_ack(f.bus), 0x0D);
    outb(f.bus, 0x20, 0x48);           /* leave special mask mode */
    pic_fix_done(&f);
}

TEST(pic, spurious)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    outb(f.bus, 0x4D0, 0x20);          /* IRQ5 level-triggered */
    CHECK_EQ(inb(f.bus, 0x4D0), 0x20);
    pic_set_irq(f.pic, 5, 1);
    CHECK_EQ(f.cpu.intr, 1);
    pic_set_irq(f.pic, 5, 0);          /* line drops before INTA */
    CHECK_EQ(bus_intr_ack(f.bus), 0x0F);
    outb(f.bus, 0x20, 0x0B);
    CHECK_EQ(inb(f.bus, 0x20), 0x00);  /* spurious IR7 sets no ISR bit */
    /* The master latched the slave's INT edge: when the slave's request is
     * gone by INTA, the slave answers IR7 (IRQ 15) and master IR2 is in
     * service (the classic spurious IRQ 15). */
    outb(f.bus, 0x4D1, 0xFF);
    CHECK_EQ(inb(f.bus, 0x4D1), 0xDE);
    pic_set_irq(f.pic, 9, 1);
    CHECK_EQ(f.cpu.intr, 1);
    pic_set_irq(f.pic, 9, 0);          /* level request withdrawn */
    CHECK_EQ(f.cpu.intr, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x77);
    outb(f.bus, 0xA0, 0x0B);
    CHECK_EQ(inb(f.bus, 0xA0), 0x00);
    outb(f.bus, 0x20, 0x0B);
    CHECK_EQ(inb(f.bus, 0x20), 0x04);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 0);
    pic_fix_done(&f);
}

TEST(pic, slave_auto_eoi_keeps_requesting)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    outb(f.bus, 0xA0, 0x11);           /* slave in AEOI, master normal EOI */
    outb(f.bus, 0xA1, 0x70);
    outb(f.bus, 0xA1, 0x02);
    outb(f.bus, 0xA1, 0x03);
    outb(f.bus, 0xA1, 0x00);
    pulse(f.pic, 12);
    pulse(f.pic, 10);
    CHECK_EQ(bus_intr_ack(f.bus), 0x72);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 1);           /* IRQ 12 still waits on the slave */
    CHECK_EQ(bus_intr_ack(f.bus), 0x74);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 0);
    pic_fix_done(&f);
}

TEST(pic, level_mode)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    outb(f.bus, 0x4D1, 0x08);          /* IRQ11 level */
    pic_set_irq(f.pic, 11, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x73);
    outb(f.bus, 0xA0, 0x20);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 1);           /* line still high: requests again */
    CHECK_EQ(bus_intr_ack(f.bus), 0x73);
    pic_set_irq(f.pic, 11, 0);         /* the device is serviced */
    outb(f.bus, 0xA0, 0x20);
    outb(f.bus, 0x20, 0x20);
    CHECK_EQ(f.cpu.intr, 0);
    /* On the master, a level input simply follows its line. */
    outb(f.bus, 0x4D0, 0x20);
    pic_set_irq(f.pic, 5, 1);
    CHECK_EQ(f.cpu.intr, 1);
    pic_set_irq(f.pic, 5, 0);
    CHECK_EQ(f.cpu.intr, 0);
    pic_fix_done(&f);
}

TEST(pic, save_load)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    pulse(f.pic, 4);
    outb(f.bus, 0x21, 0x80);
    CHECK_EQ(chiptest_roundtrip(&pic_device_class, f.pic), 0);
    CHECK_EQ(inb(f.bus, 0x21), 0x80);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0C);
    pic_fix_done(&f);
}

TEST(pic, nonsense)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    uint32_t seed = 0x1234567;
    static const uint16_t ports[] = {0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1};
    for (int i = 0; i < 20000; i++) {
        uint32_t r = chiptest_rand(&seed);
        uint16_t port = ports[r % 6];
        if (r & 0x100)
            outb(f.bus, port, (uint8_t)(r >> 16));
        else
            (void)inb(f.bus, port);
        if ((r & 0x3000) == 0)
            pic_set_irq(f.pic, (int)((r >> 24) & 15), (int)(r >> 28) & 1);
        if ((r & 0xC000) == 0)
            (void)bus_intr_ack(f.bus);
    }
    pic_set_irq(f.pic, -1, 1);
    pic_set_irq(f.pic, 99, 1);
    /* After all that, a fresh init still works. */
    for (int i = 0; i < 16; i++)
        pic_set_irq(f.pic, i, 0);
    outb(f.bus, 0x4D0, 0);
    outb(f.bus, 0x4D1, 0);
    pic_std_init(f.bus, 0x01);
    pulse(f.pic, 6);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0E);
    pic_fix_done(&f);
}

TEST(pic, icw_sequences)
{
    PicFix f;
    pic_fix_init(&f, 0x01);
    /* Single mode without ICW4: ICW1, ICW2 only; the next data write is OCW1. */
    outb(f.bus, 0xA0, 0x12);
    outb(f.bus, 0xA1, 0x48);
    outb(f.bus, 0xA1, 0xF7);
    CHECK_EQ(inb(f.bus, 0xA1), 0xF7);
    /* ICW1 in the middle of a sequence restarts it; IMR is cleared. */
    outb(f.bus, 0x20, 0x11);
    outb(f.bus, 0x21, 0x50);
    outb(f.bus, 0x20, 0x11);
    outb(f.bus, 0x21, 0x30);
    outb(f.bus, 0x21, 0x04);
    outb(f.bus, 0x21, 0x01);
    CHECK_EQ(inb(f.bus, 0x21), 0x00);
    outb(f.bus, 0x21, 0x01);
    pulse(f.pic, 0);
    CHECK_EQ(f.cpu.intr, 0);
    pulse(f.pic, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x31);
    /* An edge seen before ICW1 is forgotten: the line must rise again. */
    pic_set_irq(f.pic, 3, 1);
    pic_std_init(f.bus, 0x01);
    CHECK_EQ(inb(f.bus, 0x20) & 0x08, 0);
    pic_set_irq(f.pic, 3, 0);
    pic_set_irq(f.pic, 3, 1);
    CHECK_EQ(bus_intr_ack(f.bus), 0x0B);
    pic_fix_done(&f);
}
