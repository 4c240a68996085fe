/*
 * Checks the Advanced SIMD string functions of strfn.S against plain C
 * references over every source and destination alignment (0..15) and every
 * length 0..256: memcpy and memcmp for each (src, dst) alignment pair,
 * memset, strlen and strchr for each alignment. Bytes around the
 * destination are checked to be untouched; strings have NULs and the
 * searched-for character just before their start and just after their end,
 * to catch wrong masking of aligned blocks. Prints per function the cases
 * passed out of those run, the first few failures, and a checksum of the
 * results. This driver is integer-only C: only the routines use SIMD.
 */
#include "lib.h"

void *neon_memcpy(void *dst, const void *src, usize n);
void *neon_memset(void *dst, int c, usize n);
usize neon_strlen(const char *s);
char *neon_strchr(const char *s, int c);
int neon_memcmp(const void *a, const void *b, usize n);

#define MAXLEN 256
#define NALIGN 16
/* Room before and after the region under test. */
#define PAD 48
/* Bytes checked on each side of a destination. */
#define RED 16
#define BUFSZ (PAD + NALIGN + MAXLEN + PAD)

/* Page-aligned (which page-aligns all of .bss): stores to a page holding code
 * make emulators with self-modifying-code detection (QEMU, ours) flush it. */
static u8 bufa[BUFSZ] __attribute__((aligned(4096)));
static u8 bufb[BUFSZ] __attribute__((aligned(64)));
/* What bufb holds outside the bytes a memcpy/memset test writes. */
static u8 fillb[BUFSZ] __attribute__((aligned(64)));

/* ---- references ---- */

/* memcpy and memset are checked byte by byte against their definition. */

static usize ref_strlen(const char *s)
{
    usize n = 0;
    while (s[n])
        n++;
    return n;
}

static char *ref_strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return 0;
    }
}

/* memcmp's cases differ in at most one byte, so the expected result is
 * known without a reference loop (which would dominate the run time). */

/* ---- bookkeeping ---- */

struct tally {
    const char *name;
    u64 run, passed, hash;
    int shown;
};

static void mix(struct tally *t, u64 v)
{
    t->hash ^= v + 0x9e3779b97f4a7c15ul + (t->hash << 6) + (t->hash >> 2);
    t->hash *= 0xff51afd7ed558ccdul;
}

/* Counts one case; prints the first few failures. */
static void result(struct tally *t, int ok, u64 a1, u64 a2, u64 n, u64 got, u64 want)
{
    t->run++;
    if (ok) {
        t->passed++;
        return;
    }
    if (t->shown >= 4)
        return;
    t->shown++;
    uart_puts("  FAIL ");
    uart_puts(t->name);
    uart_puts(" a=");
    put_udec(a1);
    uart_puts(" b=");
    put_udec(a2);
    uart_puts(" n=");
    put_udec(n);
    uart_puts(" got=");
    put_hex(got);
    uart_puts(" want=");
    put_hex(want);
    uart_putc('\n');
}

static void report(const struct tally *t)
{
    uart_puts(t->name);
    uart_puts(": ");
    put_udec(t->passed);
    uart_putc('/');
    put_udec(t->run);
    uart_puts(" passed, checksum ");
    put_hex(t->hash);
    uart_putc('\n');
}

/* Source bytes: 0x01..0xf7, never 0 nor a filler byte. */
static u8 pattern(usize i)
{
    return (u8)(1 + (i * 37 + (i >> 3)) % 0xf7);
}

/* Destination filler: 0xf9..0xff, never a pattern byte at the same place. */
static void fill_dst(void)
{
    for (usize i = 0; i < BUFSZ; i++) {
        fillb[i] = (u8)(0xff - (i * 11) % 7);
        bufb[i] = fillb[i];
    }
}

/* Index of the first byte of bufb within RED bytes outside [lo, hi) that is
 * not the filler; -1 if none. */
static long red_zone(usize lo, usize hi)
{
    for (usize i = lo - RED; i < lo; i++)
        if (bufb[i] != fillb[i])
            return (long)i;
    for (usize i = hi; i < hi + RED; i++)
        if (bufb[i] != fillb[i])
            return (long)i;
    return -1;
}

/* Puts the filler back after a test wrote [lo, hi) (and, if it failed,
 * anything around it). */
static void restore_dst(usize lo, usize hi, int ok)
{
    if (!ok) {
        lo = 0;
        hi = BUFSZ;
    }
    for (usize i = lo; i < hi; i++)
        bufb[i] = fillb[i];
}

/* ---- tests ---- */

static void test_memcpy(void)
{
    struct tally t = { .name = "memcpy" };
    for (usize i = 0; i < BUFSZ; i++)
        bufa[i] = pattern(i);
    fill_dst();
    for (usize sa = 0; sa < NALIGN; sa++) {
        for (usize da = 0; da < NALIGN; da++) {
            for (usize n = 0; n <= MAXLEN; n++) {
                const u8 *src = bufa + PAD + sa;
                u8 *dst = bufb + PAD + da;
                void *r = neon_memcpy(dst, src, n);
                long bad = -1;
                for (usize k = 0; k < n && bad < 0; k++)
                    if (dst[k] != src[k])
                        bad = (long)(PAD + da + k);
                if (bad < 0)
                    bad = red_zone(PAD + da, PAD + da + n);
                int ok = r == dst && bad < 0;
                mix(&t, (u64)((u8 *)r - bufb) ^ (u64)bad << 20);
                result(&t, ok, sa, da, n, bad < 0 ? (u64)((u8 *)r - bufb) : (u64)bad,
                       PAD + da);
                restore_dst(PAD + da, PAD + da + n, ok);
            }
        }
    }
    report(&t);
}

static void test_memset(void)
{
    static const int values[] = { 0x00, 0xa5, 0x17f };  /* only the low byte counts */
    struct tally t = { .name = "memset" };
    fill_dst();
    for (unsigned v = 0; v < sizeof(values) / sizeof(values[0]); v++) {
        u8 c = (u8)values[v];
        for (usize da = 0; da < NALIGN; da++) {
            for (usize n = 0; n <= MAXLEN; n++) {
                u8 *dst = bufb + PAD + da;
                void *r = neon_memset(dst, values[v], n);
                long bad = -1;
                for (usize k = 0; k < n && bad < 0; k++)
                    if (dst[k] != c)
                        bad = (long)(PAD + da + k);
                if (bad < 0)
                    bad = red_zone(PAD + da, PAD + da + n);
                int ok = r == dst && bad < 0;
                mix(&t, (u64)((u8 *)r - bufb) ^ (u64)bad << 20);
                result(&t, ok, c, da, n, bad < 0 ? (u64)((u8 *)r - bufb) : (u64)bad,
                       PAD + da);
                restore_dst(PAD + da, PAD + da + n, ok);
            }
        }
    }
    report(&t);
}

/*
 * bufa holds a string of length len at PAD + sa: pattern bytes, a NUL, then
 * `after` bytes; before the string alternately NUL and `before`.
 */
static char *make_string(usize sa, usize len, u8 before, u8 after)
{
    for (usize i = 0; i < PAD + sa; i++)
        bufa[i] = i & 1 ? before : 0;
    for (usize k = 0; k < len; k++)
        bufa[PAD + sa + k] = pattern(k + sa);
    bufa[PAD + sa + len] = 0;
    for (usize i = PAD + sa + len + 1; i < BUFSZ; i++)
        bufa[i] = after;
    return (char *)bufa + PAD + sa;
}

static void test_strlen(void)
{
    struct tally t = { .name = "strlen" };
    for (usize sa = 0; sa < NALIGN; sa++) {
        for (usize len = 0; len <= MAXLEN; len++) {
            const char *s = make_string(sa, len, 0x55, 0);
            usize got = neon_strlen(s), want = ref_strlen(s);
            mix(&t, got);
            result(&t, got == want, sa, 0, len, got, want);
        }
    }
    report(&t);
}

static void test_strchr(void)
{
    struct tally t = { .name = "strchr" };
    for (usize sa = 0; sa < NALIGN; sa++) {
        for (usize len = 0; len <= MAXLEN; len++) {
            /* 0xff: never in the string, but just before and after it. */
            const char *s = make_string(sa, len, 0xff, 0xff);
            int cs[5] = {
                0xff, 0, 0x100 | (u8)s[len / 2], len ? (u8)s[len - 1] : 'x', (u8)s[0],
            };
            for (int j = 0; j < 5; j++) {
                const char *got = neon_strchr(s, cs[j]);
                const char *want = ref_strchr(s, cs[j]);
                u64 g = got ? (u64)(got - s) : ~0ul, w = want ? (u64)(want - s) : ~0ul;
                mix(&t, g);
                result(&t, g == w, sa, (u64)cs[j], len, g, w);
            }
        }
    }
    report(&t);
}

static void test_memcmp(void)
{
    struct tally t = { .name = "memcmp" };
    for (usize sa = 0; sa < NALIGN; sa++) {
        for (usize da = 0; da < NALIGN; da++) {
            /* The same bytes at both places, different bytes around them. */
            for (usize i = 0; i < BUFSZ; i++) {
                bufa[i] = (u8)(i * 3);
                bufb[i] = (u8)(i * 5 + 1);
            }
            u8 *a = bufa + PAD + sa, *b = bufb + PAD + da;
            for (usize k = 0; k < MAXLEN; k++)
                a[k] = b[k] = pattern(k);
            for (usize n = 0; n <= MAXLEN; n++) {
                /* Also make the byte right after the compared ones differ. */
                u8 saved = b[n];
                b[n] = (u8)(a[n] + 1);
                usize pos[4] = { n, 0, n / 2, n - 1 };   /* n: no difference */
                for (int j = 0; j < 4; j++) {
                    usize p = pos[j];
                    if (j > 0 && n == 0)
                        break;
                    u8 old = b[p];
                    if (j > 0)
                        b[p] = (u8)(old ^ (j == 2 ? 0x01 : 0x80));
                    int got = neon_memcmp(a, b, n);
                    int want = j == 0 ? 0 : a[p] - b[p];
                    mix(&t, (u64)(s64)got);
                    result(&t, got == want, sa, da, n, (u64)(s64)got, (u64)(s64)want);
                    if (j > 0)
                        b[p] = old;
                }
                b[n] = saved;
            }
        }
    }
    report(&t);
}

int main(void)
{
    uart_puts("strfn: start\n");
    test_memcpy();
    test_memset();
    test_strlen();
    test_strchr();
    test_memcmp();
    uart_puts("strfn: done\n");
    return 0;
}
