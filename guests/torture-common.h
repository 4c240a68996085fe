/*
 * Shared pieces of the MTTCG torture guests (torture-*.c, litmus.c): starting
 * every CPU, a reusable barrier that sleeps in WFE (so that it also works on a
 * round-robin scheduler, which switches vCPU on WFE), and a verdict line.
 *
 * Everything is static inline: each guest includes this once.
 */
#ifndef TORTURE_COMMON_H
#define TORTURE_COMMON_H

#include "sys.h"

/* Starts CPUs 1, 2, ... with PSCI CPU_ON until a call fails; returns the CPU
 * count. Each secondary enters secondary_main(its number). */
static inline u32 torture_start_cpus(void)
{
    u32 n = 1;
    for (u64 id = 1; id < MAX_CPUS; id++) {
        if (psci_cpu_on(id, secondary_entry, id) != PSCI_SUCCESS)
            break;
        n++;
    }
    return n;
}

static inline u32 ldar32(const volatile u32 *p)
{
    u32 v;
    __asm__ volatile("ldar %w0, [%1]" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static inline u64 ldar64(const volatile u64 *p)
{
    u64 v;
    __asm__ volatile("ldar %x0, [%1]" : "=r"(v) : "r"(p) : "memory");
    return v;
}

static inline void stlr64(volatile u64 *p, u64 v)
{
    __asm__ volatile("stlr %x0, [%1]" : : "r"(v), "r"(p) : "memory");
}

/* Atomic add with LDAXR/STLXR; returns the new value. */
static inline u64 atomic_add64(volatile u64 *p, u64 n)
{
    u64 v;
    u32 fail;
    __asm__ volatile("1: ldaxr %x0, [%2]\n\t"
                     "add %x0, %x0, %x3\n\t"
                     "stlxr %w1, %x0, [%2]\n\t"
                     "cbnz %w1, 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(p), "r"(n)
                     : "memory");
    return v;
}

/* The SGI that wakes barrier waiters. */
#define WAKE_SGI 0

/*
 * Every CPU calls this once, before its first barrier_wait (CPU 0 before it
 * starts the others): the distributor on, this CPU's interface on and its
 * wake-up SGI enabled. Interrupts stay masked at PSTATE.I: a pending SGI
 * only ends WFI, no handler runs.
 */
static inline void torture_gic_init(void)
{
    if (cpu_id() == 0)
        gic_dist_enable();
    mmio_w8(GICD_BASE + GICD_IPRIORITYR + WAKE_SGI, 0x80);
    gicd_w32(GICD_ISENABLER, 1u << WAKE_SGI);
    gic_cpu_enable();
}

/* Acknowledges whatever the GIC signals to this CPU (a wake-up SGI). */
static inline void torture_gic_drain(void)
{
    for (int i = 0; i < 8; i++) {
        u32 iar = gic_ack();
        if ((iar & 0x3ff) == GIC_SPURIOUS)
            return;
        gic_eoi(iar);
    }
}

/*
 * A sense-reversing barrier for `n` participants. Waiters spin briefly on the
 * generation word, then sleep in WFI (interrupts masked); the last arrival
 * bumps the generation and sends the wake-up SGI to every other CPU. A waiter
 * that misses the SGI's moment finds it pending: its WFI returns at once, so
 * no wake-up is lost. WFI, not WFE: QEMU's WFE does not sleep, and spinning
 * vCPU threads on a loaded host make every barrier cost a host time slice.
 */
struct barrier {
    volatile u32 count;
    volatile u32 gen;
} __attribute__((aligned(64)));

static inline void barrier_wait(struct barrier *b, u32 n)
{
    u32 gen = ldar32(&b->gen);
    if (atomic_add32(&b->count, 1) == n) {
        b->count = 0;
        store_release32(&b->gen, gen + 1);
        gic_send_sgi(SGI_TO_OTHERS, 0, WAKE_SGI);
        return;
    }
    u32 spins = 0;
    while (ldar32(&b->gen) == gen) {
        if (++spins > 64) {
            torture_gic_drain();
            if (ldar32(&b->gen) != gen)
                break;
            wfi();
        }
    }
    /* A wake-up SGI left pending (masked) makes --sched rr ~500x slower (see
     * the torture-rr-pending-irq guest); the reproducer builds without this. */
#ifndef TORTURE_KEEP_PENDING_SGI
    torture_gic_drain();
#endif
}

#endif
