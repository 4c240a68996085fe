/*
 * Memory-ordering litmus tests on several CPUs at once: MP, SB, LB, IRIW,
 * 2+2W, S and R, each plain (the relaxed outcome is allowed by the
 * architecture) and with the barriers, acquire/release accesses (LDAR, STLR,
 * LDAPR) or dependencies that forbid it.
 *
 * Each test runs LITMUS_ITERS iterations. An iteration uses fresh locations
 * (x = X[i], y = Y[i], all zero) and starts on every participating CPU at
 * the same time (a barrier); CPU 0 classifies the outcomes of a batch after
 * a second barrier. For the variants the architecture forbids, the count of
 * the forbidden outcome is printed and must be 0. How often an allowed
 * relaxed outcome shows depends on timing, so that count is only printed in
 * verbose builds (-DLITMUS_VERBOSE, lines starting with '#').
 *
 * The CPUs split into groups of the test's thread count, each group running
 * its own instance (so no CPU idles in a spin loop: QEMU's WFE does not sleep).
 *
 * SB+stlr+ldars and R+stlr+ldar (an STLR then an LDAR must not reorder: the
 * ARMv8 acquire/release accesses are RCsc) are only built with -DLITMUS_RCSC:
 * QEMU 7.2 on an x86-64 host shows their forbidden outcome (it fences before
 * an STLR and after an LDAR, not between them), so it cannot be the oracle
 * for them; `cargo xtask litmus` checks them on our emulator.
 *
 * Location naming in the comments: x, y; registers r0, r1 per thread.
 */
#include "torture-common.h"

#ifndef LITMUS_ITERS
#define LITMUS_ITERS 2048
#endif
#define BATCH 256
/* Iterations between two synchronisations of a test's CPUs (a power of two
 * dividing BATCH): 1 makes every iteration start together (most relaxed
 * outcomes), more makes each barrier cheaper where vCPU threads are
 * descheduled while they spin (QEMU on a loaded host). */
#ifndef LITMUS_SYNC
#define LITMUS_SYNC 8
#endif

typedef void (*thread_fn)(volatile u64 *x, volatile u64 *y, u64 *r);

enum shape { MP, SB, LB, IRIW, W22, S, R };

struct test {
    const char *name;
    enum shape shape;
    int forbidden;              /* the relaxed outcome is forbidden */
    u32 nthreads;
    thread_fn fn[4];
};

#define ONE 1ul
#define TWO 2ul

/* ---- thread bodies ---- */

#define STORE2(name, first, mid, second, v1, v2)                                     \
    static __attribute__((unused)) void name(volatile u64 *x, volatile u64 *y, u64 *r)                      \
    {                                                                                \
        (void)r;                                                                     \
        __asm__ volatile(first " %[a], [%[x]]\n\t" mid "\n\t" second " %[b], [%[y]]" \
                         :                                                           \
                         : [a] "r"(v1), [b] "r"(v2), [x] "r"(x), [y] "r"(y)          \
                         : "memory");                                                \
    }

#define LOAD2(name, first, mid, second)                                              \
    static void name(volatile u64 *x, volatile u64 *y, u64 *r)                      \
    {                                                                                \
        u64 a, b;                                                                    \
        __asm__ volatile(first " %[a], [%[y]]\n\t" mid "\n\t" second " %[b], [%[x]]" \
                         : [a] "=&r"(a), [b] "=&r"(b)                                \
                         : [x] "r"(x), [y] "r"(y)                                    \
                         : "memory");                                                \
        r[0] = a;                                                                    \
        r[1] = b;                                                                    \
    }

/* store x, then load y (SB, R's second thread) */
#define STORE_LOAD(name, st, mid, ld, val)                                           \
    static __attribute__((unused)) void name(volatile u64 *x, volatile u64 *y, u64 *r)                      \
    {                                                                                \
        u64 a;                                                                       \
        __asm__ volatile(st " %[v], [%[x]]\n\t" mid "\n\t" ld " %[a], [%[y]]"       \
                         : [a] "=&r"(a)                                              \
                         : [v] "r"(val), [x] "r"(x), [y] "r"(y)                      \
                         : "memory");                                                \
        r[0] = a;                                                                    \
    }

/* load x, then store `v` to y (LB, S's second thread) */
#define LOAD_STORE(name, ld, mid, st, val)                                             \
    static void name(volatile u64 *x, volatile u64 *y, u64 *r)                      \
    {                                                                                \
        u64 a;                                                                       \
        __asm__ volatile(ld " %[a], [%[x]]\n\t" mid "\n\t" st " %[v], [%[y]]"       \
                         : [a] "=&r"(a)                                              \
                         : [v] "r"(val), [x] "r"(x), [y] "r"(y)                      \
                         : "memory");                                                \
        r[0] = a;                                                                    \
    }

/* load x, then store (r0 ^ r0) + v to y: a data dependency */
#define LOAD_DATA_STORE(name, val)                                                     \
    static void name(volatile u64 *x, volatile u64 *y, u64 *r)                      \
    {                                                                                \
        u64 a, t;                                                                    \
        __asm__ volatile("ldr %[a], [%[x]]\n\t"                                      \
                         "eor %[t], %[a], %[a]\n\t"                                  \
                         "add %[t], %[t], %[v]\n\t"                                  \
                         "str %[t], [%[y]]"                                          \
                         : [a] "=&r"(a), [t] "=&r"(t)                                \
                         : [v] "r"(val), [x] "r"(x), [y] "r"(y)                      \
                         : "memory");                                                \
        r[0] = a;                                                                    \
    }

/* load y, then load x at an address depending on r0 */
static void load2_addr(volatile u64 *x, volatile u64 *y, u64 *r)
{
    u64 a, b, t;
    __asm__ volatile("ldr %[a], [%[y]]\n\t"
                     "eor %[t], %[a], %[a]\n\t"
                     "ldr %[b], [%[x], %[t]]"
                     : [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t)
                     : [x] "r"(x), [y] "r"(y)
                     : "memory");
    r[0] = a;
    r[1] = b;
}

/* ...and the same with x and y swapped (the second IRIW reader) */
static void load2_addr_swapped(volatile u64 *x, volatile u64 *y, u64 *r)
{
    load2_addr(y, x, r);
}

static void store_x1(volatile u64 *x, volatile u64 *y, u64 *r)
{
    (void)y, (void)r;
    __asm__ volatile("str %[v], [%[x]]" : : [v] "r"(ONE), [x] "r"(x) : "memory");
}

static void store_y1(volatile u64 *x, volatile u64 *y, u64 *r)
{
    store_x1(y, x, r);
}

/* MP: x = 1; y = 1 || r0 = y; r1 = x. Relaxed: r0 = 1, r1 = 0. */
STORE2(mp_w, "str", "", "str", ONE, ONE)
STORE2(mp_w_dmb, "str", "dmb ish", "str", ONE, ONE)
STORE2(mp_w_dmbst, "str", "dmb ishst", "str", ONE, ONE)
STORE2(mp_w_stlr, "str", "", "stlr", ONE, ONE)
LOAD2(mp_r, "ldr", "", "ldr")
LOAD2(mp_r_dmb, "ldr", "dmb ish", "ldr")
LOAD2(mp_r_dmbld, "ldr", "dmb ishld", "ldr")
LOAD2(mp_r_ldar, "ldar", "", "ldr")
LOAD2(mp_r_ldapr, "ldapr", "", "ldr")

/* SB: x = 1; r0 = y || y = 1; r0 = x. Relaxed: both 0. */
STORE_LOAD(sb, "str", "", "ldr", ONE)
STORE_LOAD(sb_dmb, "str", "dmb ish", "ldr", ONE)
STORE_LOAD(sb_stlr_ldar, "stlr", "", "ldar", ONE)
STORE_LOAD(sb_stlr_ldapr, "stlr", "", "ldapr", ONE)

/* LB: r0 = x; y = 1 || r0 = y; x = 1. Relaxed: both 1. */
LOAD_STORE(lb, "ldr", "", "str", ONE)
LOAD_STORE(lb_dmb, "ldr", "dmb ish", "str", ONE)
LOAD_STORE(lb_ldar, "ldar", "", "str", ONE)
LOAD_STORE(lb_stlr, "ldr", "", "stlr", ONE)
LOAD_DATA_STORE(lb_data, ONE)

/* IRIW readers: r0 = x; r1 = y || r0 = y; r1 = x (LOAD2 reads y first). */
LOAD2(iriw_r, "ldr", "", "ldr")
LOAD2(iriw_r_dmb, "ldr", "dmb ish", "ldr")
LOAD2(iriw_r_ldar, "ldar", "", "ldar")

/* 2+2W: x = 1; y = 2 || y = 1; x = 2. Relaxed: finally x = 1 and y = 1. */
STORE2(w22, "str", "", "str", ONE, TWO)
STORE2(w22_dmb, "str", "dmb ish", "str", ONE, TWO)
STORE2(w22_stlr, "str", "", "stlr", ONE, TWO)

/* S: x = 2; y = 1 || r0 = y; x = 1. Relaxed: r0 = 1 and finally x = 2. */
STORE2(s_w, "str", "", "str", TWO, ONE)
STORE2(s_w_dmb, "str", "dmb ish", "str", TWO, ONE)
STORE2(s_w_stlr, "str", "", "stlr", TWO, ONE)
LOAD_STORE(s_r, "ldr", "", "str", ONE)
LOAD_STORE(s_r_dmb, "ldr", "dmb ish", "str", ONE)
LOAD_STORE(s_r_ldar, "ldar", "", "str", ONE)
LOAD_DATA_STORE(s_r_data, ONE)

/* R: x = 1; y = 1 || y = 2; r0 = x. Relaxed: r0 = 0 and finally y = 2. */
STORE2(r_w, "str", "", "str", ONE, ONE)
STORE2(r_w_dmb, "str", "dmb ish", "str", ONE, ONE)
STORE2(r_w_stlr, "str", "", "stlr", ONE, ONE)
STORE_LOAD(r_r, "str", "", "ldr", TWO)
STORE_LOAD(r_r_dmb, "str", "dmb ish", "ldr", TWO)
STORE_LOAD(r_r_stlr_ldar, "stlr", "", "ldar", TWO)

/*
 * Each thread gets (x, y) in its own order: for SB's, LB's and 2+2W's second
 * thread the roles of x and y swap, which the wrappers below do.
 */
#define SWAPPED(name, fn)                                                            \
    static __attribute__((unused)) void name(volatile u64 *x, volatile u64 *y, u64 *r)   \
    {                                                                                \
        fn(y, x, r);                                                                 \
    }

SWAPPED(sb_1, sb)
SWAPPED(sb_dmb_1, sb_dmb)
SWAPPED(sb_stlr_ldar_1, sb_stlr_ldar)
SWAPPED(sb_stlr_ldapr_1, sb_stlr_ldapr)
SWAPPED(lb_1, lb)
SWAPPED(lb_dmb_1, lb_dmb)
SWAPPED(lb_ldar_1, lb_ldar)
SWAPPED(lb_stlr_1, lb_stlr)
SWAPPED(lb_data_1, lb_data)
SWAPPED(w22_1, w22)
SWAPPED(w22_dmb_1, w22_dmb)
SWAPPED(w22_stlr_1, w22_stlr)
/* S and R: the second thread reads y / stores y first */
SWAPPED(s_r_1, s_r)
SWAPPED(s_r_dmb_1, s_r_dmb)
SWAPPED(s_r_ldar_1, s_r_ldar)
SWAPPED(s_r_data_1, s_r_data)
SWAPPED(r_r_1, r_r)
SWAPPED(r_r_dmb_1, r_r_dmb)
SWAPPED(r_r_stlr_ldar_1, r_r_stlr_ldar)
/* IRIW: the second reader reads x first (LOAD2 reads its y argument first) */
SWAPPED(iriw_r_1, iriw_r)
SWAPPED(iriw_r_dmb_1, iriw_r_dmb)
SWAPPED(iriw_r_ldar_1, iriw_r_ldar)

static const struct test tests[] = {
    {"MP", MP, 0, 2, {mp_w, mp_r}},
    {"MP+dmbs", MP, 1, 2, {mp_w_dmb, mp_r_dmb}},
    {"MP+dmb.st+dmb.ld", MP, 1, 2, {mp_w_dmbst, mp_r_dmbld}},
    {"MP+dmb.st+addr", MP, 1, 2, {mp_w_dmbst, load2_addr}},
    {"MP+stlr+ldar", MP, 1, 2, {mp_w_stlr, mp_r_ldar}},
    {"MP+stlr+ldapr", MP, 1, 2, {mp_w_stlr, mp_r_ldapr}},
    {"SB", SB, 0, 2, {sb, sb_1}},
    {"SB+dmbs", SB, 1, 2, {sb_dmb, sb_dmb_1}},
#ifdef LITMUS_RCSC
    {"SB+stlr+ldars", SB, 1, 2, {sb_stlr_ldar, sb_stlr_ldar_1}},
#endif
    {"SB+stlr+ldaprs", SB, 0, 2, {sb_stlr_ldapr, sb_stlr_ldapr_1}},
    {"LB", LB, 0, 2, {lb, lb_1}},
    {"LB+dmbs", LB, 1, 2, {lb_dmb, lb_dmb_1}},
    {"LB+ldars", LB, 1, 2, {lb_ldar, lb_ldar_1}},
    {"LB+stlrs", LB, 1, 2, {lb_stlr, lb_stlr_1}},
    {"LB+datas", LB, 1, 2, {lb_data, lb_data_1}},
    {"IRIW", IRIW, 0, 4, {store_x1, store_y1, iriw_r_1, iriw_r}},
    {"IRIW+dmbs", IRIW, 1, 4, {store_x1, store_y1, iriw_r_dmb_1, iriw_r_dmb}},
    {"IRIW+ldars", IRIW, 1, 4, {store_x1, store_y1, iriw_r_ldar_1, iriw_r_ldar}},
    {"IRIW+addrs", IRIW, 1, 4, {store_x1, store_y1, load2_addr_swapped, load2_addr}},
    {"2+2W", W22, 0, 2, {w22, w22_1}},
    {"2+2W+dmbs", W22, 1, 2, {w22_dmb, w22_dmb_1}},
    {"2+2W+stlrs", W22, 1, 2, {w22_stlr, w22_stlr_1}},
    {"S", S, 0, 2, {s_w, s_r_1}},
    {"S+dmbs", S, 1, 2, {s_w_dmb, s_r_dmb_1}},
    {"S+stlr+ldar", S, 1, 2, {s_w_stlr, s_r_ldar_1}},
    {"S+dmb+data", S, 1, 2, {s_w_dmb, s_r_data_1}},
    {"R", R, 0, 2, {r_w, r_r_1}},
    {"R+dmbs", R, 1, 2, {r_w_dmb, r_r_dmb_1}},
#ifdef LITMUS_RCSC
    {"R+stlr+ldar", R, 1, 2, {r_w_stlr, r_r_stlr_ldar_1}},
#endif
};
#define NTESTS (sizeof(tests) / sizeof(tests[0]))

/* ---- the harness ---- */

/*
 * The CPUs split into groups of the test's thread count (CPUs 0-1, 2-3, ...
 * for a two-thread test), each running its own instance on its own
 * locations, so that no CPU idles in a spin loop while the others work.
 */
#define MAX_GROUPS (MAX_CPUS / 2)

struct group {
    volatile u64 x[BATCH] __attribute__((aligned(64)));
    volatile u64 y[BATCH] __attribute__((aligned(64)));
    u64 regs[4][BATCH][2];
    struct barrier bar;
};

static struct group groups[MAX_GROUPS];
static struct barrier all_bar;
static u32 ncpus;
static volatile u32 started;

/* Whether iteration i's outcome is the test's relaxed one. */
static int relaxed(const struct group *g, enum shape s, u32 i)
{
    switch (s) {
    case MP:
        return g->regs[1][i][0] == 1 && g->regs[1][i][1] == 0;
    case SB:
        return g->regs[0][i][0] == 0 && g->regs[1][i][0] == 0;
    case LB:
        return g->regs[0][i][0] == 1 && g->regs[1][i][0] == 1;
    case IRIW:
        /* thread 2 reads x then y, thread 3 reads y then x */
        return g->regs[2][i][0] == 1 && g->regs[2][i][1] == 0 && g->regs[3][i][0] == 1 &&
               g->regs[3][i][1] == 0;
    case W22:
        return g->x[i] == 1 && g->y[i] == 1;
    case S:
        return g->regs[1][i][0] == 1 && g->x[i] == 2;
    case R:
        return g->regs[1][i][0] == 0 && g->y[i] == 2;
    }
    return 0;
}

static volatile u64 counts[NTESTS];
static volatile u64 strange[NTESTS];

/* Whether iteration i's values are possible at all (each register 0 or 1, each
 * final value one of the stores): catches lost or torn stores. */
static int sane(const struct group *g, u32 i)
{
    for (u32 t = 0; t < 4; t++)
        for (u32 k = 0; k < 2; k++)
            if (g->regs[t][i][k] > 1)
                return 0;
    return g->x[i] <= 2 && g->y[i] <= 2;
}

static u32 ngroups(const struct test *t)
{
    u32 n = ncpus / t->nthreads;
    return n > MAX_GROUPS ? MAX_GROUPS : n;
}

static void run_test(u32 ti, u32 me)
{
    const struct test *t = &tests[ti];
    u32 gi = me / t->nthreads, role = me % t->nthreads;
    if (gi >= ngroups(t))
        return;
    struct group *g = &groups[gi];
    thread_fn fn = t->fn[role];
    for (u32 done = 0; done < LITMUS_ITERS; done += BATCH) {
        for (u32 i = 0; i < BATCH; i++) {
            if (i % LITMUS_SYNC == 0)
                barrier_wait(&g->bar, t->nthreads);
            fn(&g->x[i], &g->y[i], g->regs[role][i]);
        }
        barrier_wait(&g->bar, t->nthreads);
        if (role == 0) {
            u64 n = 0, bad = 0;
            for (u32 i = 0; i < BATCH; i++) {
                n += relaxed(g, t->shape, i);
                bad += !sane(g, i);
                g->x[i] = 0;
                g->y[i] = 0;
            }
            memset(g->regs, 0, sizeof(g->regs));
            atomic_add64(&counts[ti], n);
            atomic_add64(&strange[ti], bad);
        }
        barrier_wait(&g->bar, t->nthreads);
    }
}

static void run_all(u32 me)
{
    for (u32 ti = 0; ti < NTESTS; ti++) {
        run_test(ti, me);
        barrier_wait(&all_bar, ncpus);
    }
}

void secondary_main(u64 context)
{
    (void)context;
    torture_gic_init();
    while (!ldar32(&started))
        ;
    run_all(cpu_id());
}

/* Iterations of test t, all groups together. */
static u64 iters_run(const struct test *t)
{
    return (u64)(LITMUS_ITERS + BATCH - 1) / BATCH * BATCH * ngroups(t);
}

int main(void)
{
    uart_puts("litmus: start\n");
    torture_gic_init();
    ncpus = torture_start_cpus();
    store_release32(&started, 1);
    run_all(0);
    int fail = 0;
    for (u32 ti = 0; ti < NTESTS; ti++) {
        const struct test *t = &tests[ti];
        uart_puts(t->name);
        if (t->nthreads > ncpus) {
            uart_puts(": skipped (needs ");
            put_udec(t->nthreads);
            uart_puts(" cpus)\n");
            continue;
        }
        if (strange[ti]) {
            fail = 1;
            uart_puts(": FAIL impossible values in ");
            put_udec(strange[ti]);
            uart_puts(" iterations\n");
        } else if (!t->forbidden) {
            uart_puts(": allowed, not counted\n");
        } else if (counts[ti] == 0) {
            uart_puts(": forbidden 0\n");
        } else {
            fail = 1;
            uart_puts(": FAIL forbidden outcome seen ");
            put_udec(counts[ti]);
            uart_puts(" times in ");
            put_udec(iters_run(t));
            uart_puts(" iterations\n");
        }
    }
#ifdef LITMUS_VERBOSE
    for (u32 ti = 0; ti < NTESTS; ti++) {
        if (tests[ti].nthreads > ncpus)
            continue;
        uart_puts("# ");
        uart_puts(tests[ti].name);
        uart_puts(tests[ti].forbidden ? " (forbidden)" : " (allowed)");
        uart_puts(": relaxed outcome ");
        put_udec(counts[ti]);
        uart_puts(" of ");
        put_udec(iters_run(&tests[ti]));
        uart_putc('\n');
    }
#endif
    uart_puts(fail ? "litmus: FAIL\n" : "litmus: PASS\n");
    return 0;
}
