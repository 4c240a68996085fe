/*
 * Bare-metal benchmark kernels of the kinds real software spends its time in and
 * selfcheck's integer loop lacks: a switch-dispatch bytecode interpreter (indirect
 * branches), deep recursion (BL/RET pairs), a recursive quicksort, pointer chasing over
 * more memory than the TLB covers, memcpy/memset/strlen-style loops and an
 * open-addressing hash table. Each kernel prints one checksum line, so the output can
 * be compared with QEMU's.
 *
 * ONLY=n runs kernel n alone (1-6; 0 or unset: all); BENCH selects the benchmark
 * sizes (the default sizes keep `cargo xtask test` quick on the interpreter).
 */
#include "lib.h"

#ifndef ONLY
#define ONLY 0
#endif

#ifdef BENCH
#define VM_ITERS 3000000u
#define FIB_N 32
#define SORT_N (1u << 20)
#define CHASE_NODES (1u << 18) /* 64-byte nodes: 16 MiB */
#define CHASE_STEPS 6000000u
#define COPY_BYTES (1u << 20)
#define COPY_ROUNDS 200u
#define HASH_BITS 18
#define HASH_KEYS 150000u
#define HASH_ROUNDS 8u
#else
#define VM_ITERS 20000u
#define FIB_N 18
#define SORT_N (1u << 12)
#define CHASE_NODES (1u << 12)
#define CHASE_STEPS 20000u
#define COPY_BYTES (1u << 13)
#define COPY_ROUNDS 3u
#define HASH_BITS 11
#define HASH_KEYS 1200u
#define HASH_ROUNDS 2u
#endif

#define RUN(k) (ONLY == 0 || ONLY == (k))

static u64 rng_state;

static void rng_seed(u64 s)
{
    rng_state = s;
}

static u64 rng(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return rng_state >> 17;
}

/* --- 1. switch-dispatch bytecode interpreter ------------------------------------ */

enum { V_LI, V_ADD, V_MUL, V_XOR, V_SHRI, V_ADDI, V_BNZ, V_LD, V_ST, V_HALT };

struct vinsn {
    u8 op, a, b, c;
    s32 imm;
};

/* Built at run time so the compiler cannot specialise the interpreter for it. */
static struct vinsn vprog[16];
static u64 vmem[256];

static void vemit(int at, u8 op, u8 a, u8 b, u8 c, s32 imm)
{
    vprog[at].op = op;
    vprog[at].a = a;
    vprog[at].b = b;
    vprog[at].c = c;
    vprog[at].imm = imm;
}

static u64 vm_run(u64 iters)
{
    u64 r[8] = {0};
    const struct vinsn *pc = vprog;
    r[1] = iters;
    for (;;) {
        const struct vinsn *i = pc++;
        switch (i->op) {
        case V_LI:
            r[i->a] = (u64)(s64)i->imm;
            break;
        case V_ADD:
            r[i->a] = r[i->b] + r[i->c];
            break;
        case V_MUL:
            r[i->a] = r[i->b] * r[i->c];
            break;
        case V_XOR:
            r[i->a] = r[i->b] ^ r[i->c];
            break;
        case V_SHRI:
            r[i->a] = r[i->b] >> (i->imm & 63);
            break;
        case V_ADDI:
            r[i->a] = r[i->b] + (u64)(s64)i->imm;
            break;
        case V_BNZ:
            if (r[i->a])
                pc = vprog + i->imm;
            break;
        case V_LD:
            r[i->a] = vmem[r[i->b] & 255];
            break;
        case V_ST:
            vmem[r[i->b] & 255] = r[i->a];
            break;
        default:
            return r[0];
        }
    }
}

static void kernel_switch(void)
{
    vemit(0, V_LI, 0, 0, 0, 1);
    vemit(1, V_LI, 2, 0, 0, 31);
    vemit(2, V_MUL, 0, 0, 2, 0); /* loop: r0 = r0 * 31 */
    vemit(3, V_ADD, 0, 0, 1, 0); /* r0 += r1 */
    vemit(4, V_SHRI, 3, 0, 0, 7);
    vemit(5, V_XOR, 0, 0, 3, 0); /* r0 ^= r0 >> 7 */
    vemit(6, V_ST, 0, 1, 0, 0);  /* vmem[r1] = r0 */
    vemit(7, V_LD, 4, 0, 0, 0);  /* r4 = vmem[r0] */
    vemit(8, V_ADD, 0, 0, 4, 0);
    vemit(9, V_ADDI, 1, 1, 0, -1);
    vemit(10, V_BNZ, 1, 0, 0, 2);
    vemit(11, V_HALT, 0, 0, 0, 0);
    put_labelled_hex("switch", vm_run(VM_ITERS));
}

/* --- 2. recursion ---------------------------------------------------------------- */

static u64 __attribute__((noinline)) fib(u32 n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

/* Not a tail call either way: the caller combines both results. */
static u64 __attribute__((noinline)) tree(u32 depth, u64 seed)
{
    if (depth == 0)
        return seed * 0x9e3779b97f4a7c15ull >> 32;
    return tree(depth - 1, seed * 2 + 1) ^ (tree(depth - 1, seed * 2) + depth);
}

static void kernel_recursion(void)
{
    put_labelled_hex("fib", fib(FIB_N));
    put_labelled_hex("tree", tree(FIB_N - 8, 1));
}

/* --- 3. quicksort ---------------------------------------------------------------- */

static u32 sort_buf[SORT_N];

static void __attribute__((noinline)) quicksort(u32 *a, long lo, long hi)
{
    while (lo < hi) {
        u32 p = a[lo + (hi - lo) / 2];
        long i = lo, j = hi;
        while (i <= j) {
            while (a[i] < p)
                i++;
            while (a[j] > p)
                j--;
            if (i <= j) {
                u32 t = a[i];
                a[i] = a[j];
                a[j] = t;
                i++;
                j--;
            }
        }
        /* Recurse into the smaller side, loop on the larger (bounded depth). */
        if (j - lo < hi - i) {
            quicksort(a, lo, j);
            lo = i;
        } else {
            quicksort(a, i, hi);
            hi = j;
        }
    }
}

static void kernel_sort(void)
{
    rng_seed(3);
    for (u32 i = 0; i < SORT_N; i++)
        sort_buf[i] = (u32)rng();
    quicksort(sort_buf, 0, SORT_N - 1);
    u64 sum = 0, sorted = 1;
    for (u32 i = 0; i < SORT_N; i++) {
        sum = sum * 3 + sort_buf[i];
        if (i && sort_buf[i - 1] > sort_buf[i])
            sorted = 0;
    }
    put_labelled_hex("sort", sum);
    put_labelled_dec("sorted", (s64)sorted);
}

/* --- 4. pointer chasing ---------------------------------------------------------- */

struct node {
    u64 next;
    u64 pad[7]; /* one node per 64-byte line: each step touches a new line */
};

static struct node nodes[CHASE_NODES];

static void kernel_chase(void)
{
    /* Sattolo's algorithm: a random permutation that is one cycle through all nodes. */
    for (u32 i = 0; i < CHASE_NODES; i++)
        nodes[i].next = i;
    rng_seed(4);
    for (u32 i = CHASE_NODES - 1; i > 0; i--) {
        u32 j = (u32)(rng() % i);
        u64 t = nodes[i].next;
        nodes[i].next = nodes[j].next;
        nodes[j].next = t;
    }
    u64 at = 0, sum = 0;
    for (u32 s = 0; s < CHASE_STEPS; s++) {
        at = nodes[at].next;
        sum += at;
    }
    put_labelled_hex("chase", sum ^ at);
}

/* --- 5. memcpy / memset / strlen ------------------------------------------------- */

static u64 copy_src[COPY_BYTES / 8];
static u64 copy_dst[COPY_BYTES / 8];

/* Word loops, unrolled like a library memcpy's main loop. */
static void __attribute__((noinline)) copy_words(u64 *d, const u64 *s, usize n)
{
    for (usize i = 0; i + 4 <= n; i += 4) {
        u64 a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3];
        d[i] = a;
        d[i + 1] = b;
        d[i + 2] = c;
        d[i + 3] = e;
    }
}

static void __attribute__((noinline)) set_words(u64 *d, u64 v, usize n)
{
    for (usize i = 0; i + 4 <= n; i += 4) {
        d[i] = v;
        d[i + 1] = v;
        d[i + 2] = v;
        d[i + 3] = v;
    }
}

static usize __attribute__((noinline)) str_len(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (usize)(p - s);
}

static void kernel_memory(void)
{
    rng_seed(5);
    for (u32 i = 0; i < COPY_BYTES / 8; i++)
        copy_src[i] = rng() | 0x0101010101010101ull; /* no zero byte */
    u64 sum = 0;
    for (u32 r = 0; r < COPY_ROUNDS; r++) {
        copy_words(copy_dst, copy_src, COPY_BYTES / 8);
        char *str = (char *)copy_dst;
        str[COPY_BYTES - 1 - r] = 0;
        sum += str_len(str);
        sum = sum * 7 + copy_dst[r];
        set_words(copy_dst, r * 0x0101010101010101ull, COPY_BYTES / 8);
        sum += copy_dst[COPY_BYTES / 8 - 1 - r];
    }
    put_labelled_hex("memory", sum);
}

/* --- 6. hash table --------------------------------------------------------------- */

#define HASH_SIZE (1u << HASH_BITS)

static u64 hkeys[HASH_SIZE];
static u64 hvals[HASH_SIZE];

static u32 hslot(u64 k)
{
    return (u32)((k * 0x9e3779b97f4a7c15ull) >> (64 - HASH_BITS));
}

static void __attribute__((noinline)) hinsert(u64 k, u64 v)
{
    u32 i = hslot(k);
    while (hkeys[i] != 0 && hkeys[i] != k)
        i = (i + 1) & (HASH_SIZE - 1);
    hkeys[i] = k;
    hvals[i] += v;
}

static u64 __attribute__((noinline)) hfind(u64 k)
{
    u32 i = hslot(k);
    while (hkeys[i] != 0) {
        if (hkeys[i] == k)
            return hvals[i];
        i = (i + 1) & (HASH_SIZE - 1);
    }
    return 0;
}

static void kernel_hash(void)
{
    u64 hits = 0, sum = 0;
    for (u32 r = 0; r < HASH_ROUNDS; r++) {
        rng_seed(6);
        for (u32 i = 0; i < HASH_KEYS; i++)
            hinsert((rng() % (HASH_KEYS * 2)) + 1, i);
        rng_seed(7 + r);
        for (u32 i = 0; i < 2 * HASH_KEYS; i++) {
            u64 v = hfind((rng() % (HASH_KEYS * 2)) + 1);
            hits += v != 0;
            sum += v;
        }
    }
    put_labelled_dec("hash hits", (s64)hits);
    put_labelled_hex("hash", sum);
}

int main(void)
{
    if (RUN(1))
        kernel_switch();
    if (RUN(2))
        kernel_recursion();
    if (RUN(3))
        kernel_sort();
    if (RUN(4))
        kernel_chase();
    if (RUN(5))
        kernel_memory();
    if (RUN(6))
        kernel_hash();
    uart_puts("kernels done\n");
    return 0;
}
