/*
 * SMP and atomics check. CPU 0 starts CPUs 1, 2, ... with PSCI CPU_ON until a
 * call fails (an absent CPU gives INVALID_PARAMETERS). Every CPU, CPU 0
 * included, then increments
 *   - `excl_counter` ITERATIONS times with an LDXR/STXR loop, and
 *   - `lock_counter` ITERATIONS times with plain loads and stores under a
 *     spinlock taken with LDAXR/STXR and released with STLR,
 * and finally increments `done` atomically. CPU 0 waits until `done` equals
 * the number of CPUs and prints the totals.
 */
#include "lib.h"

#ifndef ITERATIONS
#define ITERATIONS 100000
#endif

static u64 excl_counter;
static u32 lock;
static volatile u64 lock_counter;
static u64 done;
static u64 started;

static void atomic_inc_exclusive(u64 *p)
{
    u64 tmp;
    u32 fail;
    __asm__ volatile("1: ldxr %x[t], [%x[p]]\n\t"
                     "add %x[t], %x[t], #1\n\t"
                     "stxr %w[f], %x[t], [%x[p]]\n\t"
                     "cbnz %w[f], 1b"
                     : [t] "=&r"(tmp), [f] "=&r"(fail)
                     : [p] "r"(p)
                     : "memory");
}

/* Increment with acquire-release semantics (for the done/started signals). */
static void atomic_inc_acq_rel(u64 *p)
{
    u64 tmp;
    u32 fail;
    __asm__ volatile("1: ldaxr %x[t], [%x[p]]\n\t"
                     "add %x[t], %x[t], #1\n\t"
                     "stlxr %w[f], %x[t], [%x[p]]\n\t"
                     "cbnz %w[f], 1b"
                     : [t] "=&r"(tmp), [f] "=&r"(fail)
                     : [p] "r"(p)
                     : "memory");
}

static u64 load_acquire(u64 *p)
{
    u64 v;
    __asm__ volatile("ldar %x[v], [%x[p]]" : [v] "=r"(v) : [p] "r"(p) : "memory");
    return v;
}

static void spin_lock(u32 *l)
{
    u32 tmp, fail;
    __asm__ volatile("1: ldaxr %w[t], [%x[l]]\n\t"
                     "cbnz %w[t], 1b\n\t"
                     "stxr %w[f], %w[one], [%x[l]]\n\t"
                     "cbnz %w[f], 1b"
                     : [t] "=&r"(tmp), [f] "=&r"(fail)
                     : [l] "r"(l), [one] "r"(1u)
                     : "memory");
}

static void spin_unlock(u32 *l)
{
    __asm__ volatile("stlr wzr, [%x[l]]" : : [l] "r"(l) : "memory");
}

static void work(void)
{
    for (u32 i = 0; i < ITERATIONS; i++)
        atomic_inc_exclusive(&excl_counter);
    for (u32 i = 0; i < ITERATIONS; i++) {
        spin_lock(&lock);
        lock_counter = lock_counter + 1;
        spin_unlock(&lock);
    }
    atomic_inc_acq_rel(&done);
}

void secondary_main(u64 context)
{
    /* context is the CPU number CPU 0 asked for; check it arrived in x0. */
    if (context != cpu_id()) {
        uart_puts("secondary: wrong context\n");
        psci_cpu_off();
    }
    atomic_inc_acq_rel(&started);
    work();
}

int main(void)
{
    u64 ncpus = 1;
    s64 last = 0;
    for (u64 id = 1; id < MAX_CPUS; id++) {
        last = psci_cpu_on(id, secondary_entry, id);
        if (last != PSCI_SUCCESS)
            break;
        ncpus++;
    }
    work();
    while (load_acquire(&done) != ncpus)
        ;
    put_labelled_dec("cpus", (s64)ncpus);
    if (last != PSCI_SUCCESS) {
        uart_puts("cpu_on(");
        put_udec(ncpus);
        uart_puts("): ");
        put_sdec(last);
        uart_putc('\n');
    }
    put_labelled_dec("started secondaries", (s64)load_acquire(&started));
    put_labelled_dec("exclusive counter", (s64)load_acquire(&excl_counter));
    put_labelled_dec("locked counter", (s64)lock_counter);
    put_labelled_dec("expected each", (s64)(ncpus * ITERATIONS));
    uart_puts((excl_counter == ncpus * ITERATIONS && lock_counter == ncpus * ITERATIONS)
                  ? "smp-counter: PASS\n"
                  : "smp-counter: FAIL\n");
    psci_system_off();
}
