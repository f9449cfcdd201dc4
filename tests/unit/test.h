/*
 * tests/unit/test.h -- a small unit-test harness.  Every .c file in tests/unit is
 * linked into one binary (build/unit_tests); TEST() bodies register themselves
 * at start-up.  Each test prints one line: "PASS group.name", "FAIL group.name:
 * file:line: what" or "SKIP group.name: why", which tests/run.sh counts.
 *
 *   TEST(pit, mode2_reload) { ...; CHECK(x == 3); CHECK_EQ(a, b); }
 */
#ifndef VSX_TESTS_UNIT_TEST_H
#define VSX_TESTS_UNIT_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*TestFn)(void);
void test_register(const char *group, const char *name, TestFn fn);
void test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void test_skip(const char *why);
int test_failed(void);

#define TEST(group, name)                                                     \
    static void test_##group##_##name(void);                                  \
    __attribute__((constructor)) static void test_reg_##group##_##name(void)  \
    {                                                                         \
        test_register(#group, #name, test_##group##_##name);                  \
    }                                                                         \
    static void test_##group##_##name(void)

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond))                                                          \
            test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                \
    } while (0)

#define CHECK_EQ(a, b)                                                        \
    do {                                                                      \
        unsigned long long va_ = (unsigned long long)(a);                     \
        unsigned long long vb_ = (unsigned long long)(b);                     \
        if (va_ != vb_)                                                       \
            test_fail(__FILE__, __LINE__, "%s == %s: 0x%llx != 0x%llx", #a,   \
                      #b, va_, vb_);                                          \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *sa_ = (a), *sb_ = (b);                                    \
        if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0)                            \
            test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a,   \
                      #b, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");        \
    } while (0)

/* Writes `text` to a fresh temporary file and returns its path (static
 * buffer per call site is the caller's business: copy it if needed). */
const char *test_tmpfile(const char *name, const char *text);
const char *test_tmpdir(void);

#endif
