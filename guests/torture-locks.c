/*
 * Locks under contention: every CPU takes each kind of lock LOCK_ITERS times
 * and increments a plain (non-atomic) counter inside it; each counter must end
 * at exactly ncpus * LOCK_ITERS. The locks:
 *   - LDXR/STXR with DMB ISH after taking and before releasing;
 *   - LDAXR/STLXR, released with STLR;
 *   - CASA (LSE), released with STLR;
 *   - a ticket lock: LDADDA takes a ticket, LDAR waits for it, STLR serves
 *     the next one;
 *   - SWPA (LSE), released with STLR;
 *   - the WFE/SEV spin lock (SEVL, WFE, LDAXR, STXR; STLR + SEV to release);
 * plus a counter incremented with STADD and one with an LDXR/STXR loop, no lock.
 * Every waiter sleeps in WFE and every release sends SEV: on a loaded host (or
 * one host thread for all vCPUs) a spinning waiter would burn the time the lock
 * holder needs.
 *
 * With -DLOCKS_RACY_REPORT the guest also increments a counter with plain
 * loads and stores and no lock, and prints how many updates were lost: under
 * MTTCG with two or more host threads, some must be (that shows the vCPUs ran
 * in parallel); one thread (round-robin) may lose none. That count depends on
 * timing, so it is only in that build, which `cargo xtask test` checks on its
 * own (never against QEMU).
 */
#include "torture-common.h"

#ifndef LOCK_ITERS
#define LOCK_ITERS 3000
#endif
#ifndef RACY_ITERS
#define RACY_ITERS 3000000
#endif

struct lockctr {
    volatile u32 lock __attribute__((aligned(64)));
    volatile u32 serving;               /* ticket lock only */
    volatile u64 counter __attribute__((aligned(64)));
};

enum { L_EXCL, L_ACQREL, L_CAS, L_TICKET, L_SWP, L_WFE, NLOCKS };
static const char *const lock_names[NLOCKS] = {
    "ldxr/stxr lock", "ldaxr/stlxr lock", "cas lock", "ldadd ticket lock",
    "swp lock", "wfe/sev lock",
};
static struct lockctr locks[NLOCKS];
static volatile u64 ldadd_counter __attribute__((aligned(64)));
static volatile u64 excl_counter __attribute__((aligned(64)));
static volatile u64 racy_counter __attribute__((aligned(64)));

static void lock_excl(volatile u32 *l)
{
    u32 t, fail;
    __asm__ volatile("b 1f\n\t"
                     "2: wfe\n\t"
                     "1: ldxr %w[t], [%[l]]\n\t"
                     "cbnz %w[t], 2b\n\t"
                     "stxr %w[f], %w[one], [%[l]]\n\t"
                     "cbnz %w[f], 1b\n\t"
                     "dmb ish"
                     : [t] "=&r"(t), [f] "=&r"(fail)
                     : [l] "r"(l), [one] "r"(1u)
                     : "memory");
}

static void unlock_excl(volatile u32 *l)
{
    __asm__ volatile("dmb ish\n\tstr wzr, [%[l]]\n\tdsb ish\n\tsev" : : [l] "r"(l) : "memory");
}

static void lock_acqrel(volatile u32 *l)
{
    u32 t, fail;
    __asm__ volatile("b 1f\n\t"
                     "2: wfe\n\t"
                     "1: ldaxr %w[t], [%[l]]\n\t"
                     "cbnz %w[t], 2b\n\t"
                     "stlxr %w[f], %w[one], [%[l]]\n\t"
                     "cbnz %w[f], 1b"
                     : [t] "=&r"(t), [f] "=&r"(fail)
                     : [l] "r"(l), [one] "r"(1u)
                     : "memory");
}

static void unlock_release(volatile u32 *l)
{
    __asm__ volatile("stlr wzr, [%[l]]\n\tdsb ish\n\tsev" : : [l] "r"(l) : "memory");
}

static void lock_cas(volatile u32 *l)
{
    for (;;) {
        u32 old = 0;
        __asm__ volatile("casa %w[o], %w[one], [%[l]]"
                         : [o] "+&r"(old)
                         : [l] "r"(l), [one] "r"(1u)
                         : "memory");
        if (old == 0)
            return;
        while (*l)
            wfe();
    }
}

static void lock_ticket(struct lockctr *c)
{
    u32 ticket;
    __asm__ volatile("ldadda %w[one], %w[t], [%[l]]"
                     : [t] "=r"(ticket)
                     : [l] "r"(&c->lock), [one] "r"(1u)
                     : "memory");
    while (ldar32(&c->serving) != ticket)
        wfe();
}

static void unlock_ticket(struct lockctr *c)
{
    store_release32(&c->serving, c->serving + 1);
    dsb(ish);
    sev();
}

static void lock_swp(volatile u32 *l)
{
    for (;;) {
        u32 old;
        __asm__ volatile("swpa %w[one], %w[o], [%[l]]"
                         : [o] "=r"(old)
                         : [l] "r"(l), [one] "r"(1u)
                         : "memory");
        if (old == 0)
            return;
        while (*l)
            wfe();
    }
}

static void lock_wfe(volatile u32 *l)
{
    u32 t, fail;
    __asm__ volatile("sevl\n\t"
                     "1: wfe\n\t"
                     "2: ldaxr %w[t], [%[l]]\n\t"
                     "cbnz %w[t], 1b\n\t"
                     "stxr %w[f], %w[one], [%[l]]\n\t"
                     "cbnz %w[f], 2b"
                     : [t] "=&r"(t), [f] "=&r"(fail)
                     : [l] "r"(l), [one] "r"(1u)
                     : "memory");
}

static void unlock_wfe(volatile u32 *l)
{
    __asm__ volatile("stlr wzr, [%[l]]\n\tdsb ish\n\tsev" : : [l] "r"(l) : "memory");
}

static void take(u32 k)
{
    struct lockctr *c = &locks[k];
    switch (k) {
    case L_EXCL: lock_excl(&c->lock); break;
    case L_ACQREL: lock_acqrel(&c->lock); break;
    case L_CAS: lock_cas(&c->lock); break;
    case L_TICKET: lock_ticket(c); break;
    case L_SWP: lock_swp(&c->lock); break;
    case L_WFE: lock_wfe(&c->lock); break;
    }
}

static void give(u32 k)
{
    struct lockctr *c = &locks[k];
    switch (k) {
    case L_EXCL: unlock_excl(&c->lock); break;
    case L_TICKET: unlock_ticket(c); break;
    case L_WFE: unlock_wfe(&c->lock); break;
    default: unlock_release(&c->lock); break;
    }
}

static struct barrier bar;
static u32 ncpus;
static volatile u32 started;

static void work(void)
{
    for (u32 k = 0; k < NLOCKS; k++) {
        barrier_wait(&bar, ncpus);
        for (u32 i = 0; i < LOCK_ITERS; i++) {
            take(k);
            locks[k].counter = locks[k].counter + 1;
            give(k);
        }
    }
    barrier_wait(&bar, ncpus);
    for (u32 i = 0; i < LOCK_ITERS; i++) {
        __asm__ volatile("stadd %x[one], [%[p]]" : : [p] "r"(&ldadd_counter), [one] "r"(1ul)
                         : "memory");
        u64 t;
        u32 fail;
        __asm__ volatile("1: ldxr %x[t], [%[p]]\n\t"
                         "add %x[t], %x[t], #1\n\t"
                         "stxr %w[f], %x[t], [%[p]]\n\t"
                         "cbnz %w[f], 1b"
                         : [t] "=&r"(t), [f] "=&r"(fail)
                         : [p] "r"(&excl_counter)
                         : "memory");
    }
#ifdef LOCKS_RACY_REPORT
    barrier_wait(&bar, ncpus);
    for (u32 i = 0; i < RACY_ITERS; i++) {
        u64 t;
        __asm__ volatile("ldr %x[t], [%[p]]\n\t"
                         "add %x[t], %x[t], #1\n\t"
                         "str %x[t], [%[p]]"
                         : [t] "=&r"(t)
                         : [p] "r"(&racy_counter)
                         : "memory");
    }
#endif
    barrier_wait(&bar, ncpus);
}

void secondary_main(u64 context)
{
    (void)context;
    torture_gic_init();
    while (!ldar32(&started))
        ;
    work();
}

static int report(const char *what, u64 got, u64 want)
{
    uart_puts(what);
    if (got == want) {
        uart_puts(": ok\n");
        return 0;
    }
    uart_puts(": FAIL counter ");
    put_udec(got);
    uart_puts(", expected ");
    put_udec(want);
    uart_putc('\n');
    return 1;
}

int main(void)
{
    uart_puts("torture-locks: start\n");
    torture_gic_init();
    ncpus = torture_start_cpus();
    put_labelled_dec("cpus", ncpus);
    store_release32(&started, 1);
    work();
    u64 want = (u64)ncpus * LOCK_ITERS;
    int fail = 0;
    for (u32 k = 0; k < NLOCKS; k++)
        fail |= report(lock_names[k], locks[k].counter, want);
    fail |= report("stadd counter", ldadd_counter, want);
    fail |= report("ldxr/stxr counter", excl_counter, want);
#ifdef LOCKS_RACY_REPORT
    u64 racy_want = (u64)ncpus * RACY_ITERS;
    uart_puts("racy: lost ");
    put_udec(racy_want - racy_counter);
    uart_puts(" of ");
    put_udec(racy_want);
    uart_putc('\n');
#else
    (void)racy_counter;
#endif
    uart_puts(fail ? "torture-locks: FAIL\n" : "torture-locks: PASS\n");
    return 0;
}
