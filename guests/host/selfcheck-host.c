/*
 * Host-side cross-check for the selfcheck guest: recomputes a subset of its
 * values with portable C on the build machine (no AArch64 involved) and
 * prints them in the guest's "label: 0x..." format. Every line printed here
 * must appear verbatim in guests/expected/selfcheck.txt (and the loop lines
 * in selfcheck-bench.txt).
 *
 *   cc -O2 -o /tmp/selfcheck-host guests/host/selfcheck-host.c
 *   /tmp/selfcheck-host 100 | grep -vxFf guests/expected/selfcheck.txt   # no output = ok
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint8_t u8;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#include "../selfcheck_loop.h"

static void p(const char *label, u64 v)
{
    printf("%s: 0x%016llx\n", label, (unsigned long long)v);
}

static u64 rbit64(u64 x)
{
    u64 r = 0;
    for (int i = 0; i < 64; i++)
        r |= ((x >> i) & 1) << (63 - i);
    return r;
}

static u64 fib(u64 n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

int main(int argc, char **argv)
{
    u64 loops = argc > 1 ? strtoull(argv[1], NULL, 0) : 100;
    u64 a = 0xf0f0f0f00ff00ff0ull, b = 0x123456789abcdef0ull;

    p("and x", a & b);
    p("orr x lsl", a | (b << 4));
    p("eor x ror", a ^ ((b >> 36) | (b << 28)));
    p("bic x lsr", a & ~(b >> 8));
    p("ror x reg 100", (0x0123456789abcdefull >> 36) | (0x0123456789abcdefull << 28));
    p("asr x imm", (u64)((s64)0xfedcba9876543210ull >> 33));
    p("ubfx x", (0xfedcba9876543210ull >> 12) & 0xfffff);
    p("sbfx x", (u64)(s64)(int8_t)(0xfedcba9876543210ull >> 28));
    p("extr x", (0xfedcba9876543210ull >> 12) | (0x0123456789abcdefull << 52));
    p("mul x", 0x123456789abcdefull * 0xfedcba987654321ull);
    p("madd x", 1000003ull * 999983ull + 0xffffffffffffff00ull);
    p("msub x", 7 - 12345ull * 6789ull);
    p("umulh 2", (u64)(((unsigned __int128)0x123456789abcdefull * 0xfedcba987654321ull) >> 64));
    p("smulh neg", (u64)(((__int128)-3 * (__int128)0x7fffffffffffffffll) >> 64));
    p("udiv x", 0xffffffffffffffffull / 3);
    p("sdiv x neg/neg", (u64)(-100ll / -7ll));
    p("c sdiv", (u64)(-1000000007ll / 97));
    p("c smod", (u64)(-1000000007ll % 97));
    p("c udiv", 0xfedcba9876543210ull / 0x1234567ull);
    p("c umod", 0xfedcba9876543210ull % 0x1234567ull);
    unsigned __int128 w = (unsigned __int128)0xfedcba9876543210ull * 0xabcdef0123456789ull;
    p("c u128 mul lo", (u64)w);
    p("c u128 mul hi", (u64)(w >> 64));
    p("clz x", (u64)__builtin_clzll(0x0000100000000000ull));
    p("rbit x", rbit64(0x0123456789abcdefull));
    p("rev x", __builtin_bswap64(0x0123456789abcdefull));
    printf("fib(20): %llu\n", (unsigned long long)fib(20));

    struct loop_result r = selfcheck_loop(loops, 0x0123456789abcdefull);
    printf("loop iterations: %llu\n", (unsigned long long)loops);
    p("loop checksum", r.checksum);
    printf("sort violations: %llu\n", (unsigned long long)r.sort_violations);
    printf("primes below %d: %llu\n", SIEVE_N, (unsigned long long)r.primes);
    return 0;
}
