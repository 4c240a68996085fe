/* difftest harness for qemu-aarch64 (qemu-user): a static, freestanding Linux
 * program that runs many test sequences per process.
 *
 * stdin, per case (little-endian u64 words):
 *   nwords, scratch_seed, the state (DT_STATE_WORDS: x[0..30], sp, nzcv,
 *   fpcr, fpsr, v[0..31] as lo, hi), then nwords u32 instruction words padded
 *   to a multiple of 8 bytes. nwords == ~0 ends the stream.
 * stdout, per case: the final state (DT_STATE_WORDS u64, same layout), then
 *   the scratch block.
 *
 * For each case: the scratch block is filled from scratch_seed (splitmix64,
 * the same generator our side uses), the words are copied to DT_SEQ followed
 * by `b DT_EPI`, the instruction cache is synchronised, and run_case() loads
 * the registers, NZCV, FPCR and FPSR, clears the exclusive monitor and falls into the
 * sequence through the trampoline; the epilogue saves everything back.
 * A case that faults kills the process (the runner reports the case). */
#include "layout.h"

typedef unsigned long u64;
typedef unsigned int u32;

void run_case(const u64 *state);
void sync_icache(u64 start, u64 end);
extern const char tramp_start[], tramp_end[], epi_start[], epi_end[];

static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long x8 __asm__("x8") = n;
    register long x0 __asm__("x0") = a;
    register long x1 __asm__("x1") = b;
    register long x2 __asm__("x2") = c;
    register long x3 __asm__("x3") = d;
    register long x4 __asm__("x4") = e;
    register long x5 __asm__("x5") = f;
    __asm__ volatile("svc #0"
                     : "+r"(x0)
                     : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                     : "memory");
    return x0;
}

#define SYS_read 63
#define SYS_write 64
#define SYS_exit 93
#define SYS_mmap 222

static void die(const char *msg)
{
    long n = 0;
    while (msg[n])
        n++;
    sys6(SYS_write, 2, (long)msg, n, 0, 0, 0);
    sys6(SYS_exit, 3, 0, 0, 0, 0, 0);
}

static unsigned char inbuf[1 << 16];
static long in_len, in_pos;

/* Reads exactly n bytes; returns 0 at a clean end of input. */
static int rd(void *dst, long n)
{
    unsigned char *d = dst;
    while (n > 0) {
        if (in_pos == in_len) {
            long r = sys6(SYS_read, 0, (long)inbuf, sizeof inbuf, 0, 0, 0);
            if (r <= 0)
                return 0;
            in_len = r;
            in_pos = 0;
        }
        long k = in_len - in_pos;
        if (k > n)
            k = n;
        for (long i = 0; i < k; i++)
            d[i] = inbuf[in_pos + i];
        in_pos += k;
        d += k;
        n -= k;
    }
    return 1;
}

static unsigned char outbuf[1 << 16];
static long out_len;

static void flush(void)
{
    long off = 0;
    while (off < out_len) {
        long w = sys6(SYS_write, 1, (long)(outbuf + off), out_len - off, 0, 0, 0);
        if (w <= 0)
            die("difftest harness: write failed\n");
        off += w;
    }
    out_len = 0;
}

static void wr(const void *src, long n)
{
    const unsigned char *s = src;
    while (n > 0) {
        if (out_len == (long)sizeof outbuf)
            flush();
        long k = (long)sizeof outbuf - out_len;
        if (k > n)
            k = n;
        for (long i = 0; i < k; i++)
            outbuf[out_len + i] = s[i];
        out_len += k;
        s += k;
        n -= k;
    }
}

static void *map_fixed(u64 addr, u64 len, long prot)
{
    /* MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED */
    long r = sys6(SYS_mmap, (long)addr, (long)len, prot, 0x02 | 0x20 | 0x10, -1, 0);
    if (r != (long)addr)
        die("difftest harness: mmap failed\n");
    return (void *)addr;
}

static void copy(u64 dst, const char *s, const char *e)
{
    volatile char *d = (volatile char *)dst;
    while (s < e)
        *d++ = *s++;
}

static u64 state[DT_STATE_WORDS];

int harness_main(void)
{
    map_fixed(DT_TRAMP_PAGE, DT_CODE_END - DT_TRAMP_PAGE, 7 /* RWX */);
    map_fixed(DT_SCRATCH, DT_SCRATCH_SIZE, 3 /* RW */);
    if (tramp_end - tramp_start != (long)DT_TRAMP_BYTES)
        die("difftest harness: trampoline size\n");
    copy(DT_SEQ - DT_TRAMP_BYTES, tramp_start, tramp_end);
    copy(DT_EPI, epi_start, epi_end);
    sync_icache(DT_TRAMP_PAGE, DT_CODE_END);

    volatile u32 *seq = (volatile u32 *)DT_SEQ;
    volatile u64 *scratch = (volatile u64 *)DT_SCRATCH;
    const u64 *saved = (const u64 *)DT_SAVE;
    for (;;) {
        u64 hdr[2];
        if (!rd(hdr, sizeof hdr) || hdr[0] == ~0UL)
            break;
        u64 n = hdr[0];
        if (n > DT_MAX_WORDS)
            die("difftest harness: sequence too long\n");
        if (!rd(state, sizeof state))
            die("difftest harness: truncated case\n");
        u64 padded = (n + 1) & ~1UL;
        for (u64 i = 0; i < padded; i += 2) {
            u32 w[2];
            if (!rd(w, sizeof w))
                die("difftest harness: truncated case\n");
            seq[i] = w[0];
            if (i + 1 < n)
                seq[i + 1] = w[1];
        }
        /* b DT_EPI */
        u64 at = DT_SEQ + 4 * n;
        seq[n] = 0x14000000u | (u32)(((DT_EPI - at) >> 2) & 0x3ffffff);
        sync_icache(DT_SEQ, at + 4);

        u64 s = hdr[1];
        for (u64 i = 0; i < DT_SCRATCH_SIZE / 8; i++) {
            s += 0x9e3779b97f4a7c15UL;
            u64 z = s;
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
            scratch[i] = z ^ (z >> 31);
        }
        run_case(state);
        wr(saved, DT_STATE_WORDS * 8);
        wr((const void *)DT_SCRATCH, DT_SCRATCH_SIZE);
    }
    flush();
    return 0;
}
