/* tests/unit/test_main.c -- runs the registered unit tests (see test.h).
 * `unit_tests [SUBSTRING]` runs only tests whose group.name contains it. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

typedef struct {
    const char *group, *name;
    TestFn fn;
} TestCase;

static TestCase tests[4096];
static int ntests;
static int cur_failed, cur_skipped;
static char cur_msg[1024];
static char tmpdir[256];

void test_register(const char *group, const char *name, TestFn fn)
{
    if (ntests < (int)(sizeof tests / sizeof tests[0]))
        tests[ntests++] = (TestCase){group, name, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    if (!cur_failed) { /* keep the first failure: it is the cause */
        int n = snprintf(cur_msg, sizeof cur_msg, "%s:%d: ", file, line);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cur_msg + n, sizeof cur_msg - n, fmt, ap);
        va_end(ap);
    }
    cur_failed++;
}

void test_skip(const char *why)
{
    cur_skipped = 1;
    snprintf(cur_msg, sizeof cur_msg, "%s", why);
}

int test_failed(void) { return cur_failed; }

const char *test_tmpdir(void)
{
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/vsx-unit-XXXXXX");
        if (!mkdtemp(tmpdir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return tmpdir;
}

const char *test_tmpfile(const char *name, const char *text)
{
    static char path[8][512];
    static int slot;
    char *p = path[slot++ & 7];
    snprintf(p, 512, "%s/%s", test_tmpdir(), name);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
    return p;
}

int main(int argc, char **argv)
{
    int failed = 0;
    for (int i = 0; i < ntests; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s.%s", tests[i].group, tests[i].name);
        if (argc > 1 && !strstr(full, argv[1]))
            continue;
        cur_failed = cur_skipped = 0;
        cur_msg[0] = 0;
        tests[i].fn();
        if (cur_failed) {
            printf("FAIL unit.%s: %s\n", full, cur_msg);
            failed++;
        } else if (cur_skipped) {
            printf("SKIP unit.%s: %s\n", full, cur_msg);
        } else {
            printf("PASS unit.%s\n", full);
        }
        fflush(stdout);
    }
    if (tmpdir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
    return failed ? 1 : 0;
}
