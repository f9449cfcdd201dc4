/* tests/unit/sysctl_test.c -- port 0x92, 0xCF9, POST, debug console, exit port. */
#include "chiptest.h"

TEST(sysctl, ports)
{
    Bus *b = bus_create(1 << 20, NULL);
    char *con = NULL, *post = NULL;
    size_t conlen = 0, postlen = 0;
    FILE *fc = open_memstream(&con, &conlen);
    FILE *fp = open_memstream(&post, &postlen);
    SysCtl *s = sysctl_create(b, fc, fp);
    CHECK(s != NULL);
    CHECK(sysctl_create(b, NULL, NULL) == NULL); /* ports already taken */

    outb(b, 0x92, 0x02);
    CHECK(bus_a20(b));
    CHECK_EQ(inb(b, 0x92), 0x02);
    outb(b, 0x92, 0x00);
    CHECK(!bus_a20(b));
    CHECK_EQ(bus_take_request(b, NULL), BUS_REQ_NONE);
    outb(b, 0x92, 0x01);
    CHECK_EQ(bus_take_request(b, NULL), BUS_REQ_RESET);
    outb(b, 0x92, 0x01);                 /* no new 0->1 edge */
    CHECK_EQ(bus_take_request(b, NULL), BUS_REQ_NONE);

    outb(b, 0xCF9, 0x02);
    CHECK_EQ(bus_take_request(b, NULL), BUS_REQ_NONE);
    CHECK_EQ(inb(b, 0xCF9), 0x02);
    outb(b, 0xCF9, 0x06);
    CHECK_EQ(bus_take_request(b, NULL), BUS_REQ_RESET);
    CHECK(bus_io_read(b, 0xCFC, 4) == 0xFFFFFFFFu); /* not ours */

    outb(b, 0x80, 0x3C);
    CHECK_EQ(inb(b, 0x80), 0x3C);
    CHECK_EQ(inb(b, 0xE9), 0xE9);
    const char *msg = "hi\n";
    for (const char *p = msg; *p; p++)
        outb(b, 0xE9, (uint8_t)*p);
    outb(b, 0x402, 'x');

    int status = 0;
    bus_io_write(b, 0xF4, 0x10, 4);
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_EXIT);
    CHECK_EQ(status, 0x21);
    outb(b, 0xF4, 0xFF);
    CHECK_EQ(bus_take_request(b, &status), BUS_REQ_EXIT);
    CHECK_EQ(status, 0xFF);

    CHECK_EQ(chiptest_roundtrip(&sysctl_device_class, s), 0);
    CHECK_EQ(inb(b, 0x80), 0x3C);
    sysctl_device_class.reset(s);
    CHECK_EQ(inb(b, 0x80), 0x00);

    sysctl_device_class.destroy(s);
    fclose(fc);
    fclose(fp);
    CHECK_STR(con, "hi\nx");
    CHECK_STR(post, "POST 3c\n");
    free(con);
    free(post);
    bus_destroy(b);
}

TEST(sysctl, nonsense)
{
    Bus *b = bus_create(1 << 20, NULL);
    SysCtl *s = sysctl_create(b, NULL, NULL);
    uint32_t seed = 99;
    static const uint16_t ports[] = {0x92, 0xCF9, 0x80, 0xE9, 0x402, 0xF4, 0xF5, 0xCF8};
    for (int i = 0; i < 5000; i++) {
        uint32_t r = chiptest_rand(&seed);
        unsigned w = 1u << (r % 3);
        if (r & 8)
            bus_io_write(b, ports[(r >> 4) % 8], r >> 8, w);
        else
            (void)bus_io_read(b, ports[(r >> 4) % 8], w);
    }
    (void)bus_take_request(b, NULL);
    outb(b, 0x80, 0x55);
    CHECK_EQ(inb(b, 0x80), 0x55);
    sysctl_device_class.destroy(s);
    bus_destroy(b);
}
