/*
 * Cross-modifying code (code in torture-smc.S). CPU 0 rewrites code that the
 * other CPUs keep running:
 *   - xmodify: the B of xc_f1 and of xc_f2 (whose B is the first word of a
 *     page, after two NOPs ending the previous page) is retargeted to stub
 *     k % 16 in round k: store, DC CVAU, DSB ISH, IC IVAU, DSB ISH, then the
 *     round number is published with STLR. The other CPUs call the two
 *     functions in a loop by direct BL, BLR and BR; a call made after reading
 *     round k (LDAR) and an ISB must run round k's code (CPU 0 waits for every
 *     CPU's acknowledgement of round k before it writes round k+1; calls while
 *     it writes may run either version, and only B instructions are rewritten
 *     concurrently, which the architecture allows). Done once without and once
 *     with the virtual timer interrupting the callers every ~50 us.
 *     Only built with -DTORTURE_XMOD (the `torture-xmod` guest, checked on our
 *     emulator by its own verdict line): QEMU 7.2 (MTTCG, x86-64 host) runs
 *     stale code here after the full sequence and the flag, so it cannot be
 *     the oracle for this part.
 *   - rewrite: xc_f3 (MOVZ at the end of one page, MOVK and RET on the next) is
 *     rewritten whole while the others wait at a barrier; after it they call
 *     it (ISB, then BL and BLR) and must get the new value.
 */
#include "torture-common.h"

#ifndef XMOD_ROUNDS
#define XMOD_ROUNDS 150
#endif
#ifndef REWRITE_ROUNDS
#define REWRITE_ROUNDS 100
#endif

extern u32 xc_stubs[], xc_f1[], xc_f2[], xc_f3[];
u32 call_f1_bl(void);
u32 call_f2_bl(void);
u32 call_f3_bl(void);
u32 call_f1_br(void);

static u32 ncpus;
static volatile u32 started;
static struct barrier bar;
static volatile u32 round;          /* published with STLR */
static volatile u32 done;
static volatile u32 acks[MAX_CPUS];
static volatile u64 stale, bad, calls, irqs, wrong;
static volatile u32 timer_on;
static u64 timer_ticks;

static u32 branch(const u32 *from, const u32 *to)
{
    return 0x14000000u | (u32)((((u64)to - (u64)from) >> 2) & 0x3ffffff);
}

static void sync_icache(const void *p, u64 len)
{
    u64 a = (u64)p;
    for (u64 l = a & ~63ul; l < a + len; l += 64)
        __asm__ volatile("dc cvau, %0" : : "r"(l) : "memory");
    dsb(ish);
    for (u64 l = a & ~63ul; l < a + len; l += 64)
        __asm__ volatile("ic ivau, %0" : : "r"(l) : "memory");
    dsb(ish);
}

void exception_handler(struct exc_frame *f, u64 vector)
{
    if ((vector & 3) != VEC_IRQ)
        fatal_exception("unexpected exception", f, vector);
    u32 iar = gic_ack();
    u32 id = iar & 0x3ff;
    if (id == GIC_SPURIOUS)
        return;
    if (id == TIMER_VIRT_INTID) {
        atomic_add64(&irqs, 1);
        if (timer_on)
            write_sysreg(cntv_tval_el0, timer_ticks);
        else
            write_sysreg(cntv_ctl_el0, CNT_CTL_IMASK);
    }
    gic_eoi(iar);
}

static u32 call(u32 how)
{
    u32 (*f1)(void) = (u32 (*)(void))(u64)OPAQUE(xc_f1);
    u32 (*f2)(void) = (u32 (*)(void))(u64)OPAQUE(xc_f2);
    switch (how % 5) {
    case 0: return call_f1_bl();
    case 1: return f1();
    case 2: return call_f1_br();
    case 3: return call_f2_bl();
    default: return f2();
    }
}

/* One xmodify phase on a calling CPU. */
static void xmodify_caller(u32 me, int with_timer)
{
    u32 acked = acks[me];
    u32 since_ack = 0;
    u64 n = 0, my_stale = 0, my_bad = 0;
    if (with_timer) {
        write_sysreg(cntv_tval_el0, timer_ticks);
        write_sysreg(cntv_ctl_el0, CNT_CTL_ENABLE);
        irq_enable();
    }
    for (u32 i = 0;; i++) {
        if (ldar32(&done))
            break;
        u32 g = ldar32(&round);
        isb();
        u32 r = call(i);
        n++;
        if (g != acked) {
            /* The first call after seeing round g: CPU 0 waits for our
             * acknowledgement before writing round g + 1, so only round g's
             * code may run now. */
            if (r != g % 16)
                my_stale++;
            acked = g;
            since_ack = 0;
            store_release32(&acks[me], g);
            dsb(ish);
            sev();
        } else if (r != g % 16 && r != (g + 1) % 16) {
            my_bad++;
        }
        /* A few calls race with CPU 0's next rewrite; then sleep until it
         * publishes (on one host thread, WFE lets the others run). */
        if (++since_ack >= 16)
            wfe();
    }
    if (with_timer) {
        /* A short phase may end before the first tick: wait for one (WFI ends
         * when it arrives), for at most 100 ms of counter time. */
        u64 end = read_sysreg(cntvct_el0) + timer_ticks * 2000;
        while (!irqs && read_sysreg(cntvct_el0) < end)
            wfi();
        irq_disable();
        write_sysreg(cntv_ctl_el0, CNT_CTL_IMASK);
    }
    atomic_add64(&stale, my_stale);
    atomic_add64(&bad, my_bad);
    atomic_add64(&calls, n);
}

static void xmodify_writer(void)
{
    for (u32 k = round + 1, end = round + XMOD_ROUNDS; k <= end; k++) {
        u32 *to = &xc_stubs[2 * (k % 16)];
        *(volatile u32 *)xc_f1 = branch(xc_f1, to);
        *(volatile u32 *)&xc_f2[2] = branch(&xc_f2[2], to);
        sync_icache(xc_f1, 4);
        sync_icache(&xc_f2[2], 4);
        store_release32(&round, k);
        dsb(ish);
        sev();
        for (u32 c = 1; c < ncpus; c++)
            while (ldar32(&acks[c]) != k)
                wfe();
    }
    store_release32(&done, 1);
    dsb(ish);
    sev();
}

static u32 f3_value(u32 k) { return k | ((k ^ 0x5a5au) << 16); }

static void rewrite_phase(u32 me)
{
    u32 (*f3)(void) = (u32 (*)(void))(u64)OPAQUE(xc_f3);
    u64 my_wrong = 0;
    for (u32 k = 1; k <= REWRITE_ROUNDS; k++) {
        if (me == 0) {
            u32 v = f3_value(k);
            xc_f3[0] = 0x52800000u | ((v & 0xffff) << 5);          /* MOVZ w0 */
            xc_f3[1] = 0x72a00000u | ((v >> 16) << 5);             /* MOVK w0, lsl 16 */
            sync_icache(xc_f3, 8);
        }
        barrier_wait(&bar, ncpus);
        isb();
        my_wrong += call_f3_bl() != f3_value(k);
        my_wrong += f3() != f3_value(k);
        barrier_wait(&bar, ncpus);
    }
    atomic_add64(&wrong, my_wrong);
}

static void run(u32 me)
{
#ifndef TORTURE_XMOD
    (void)xmodify_writer;
    (void)xmodify_caller;
    if (0)
#endif
    for (int with_timer = 0; with_timer < 2; with_timer++) {
        barrier_wait(&bar, ncpus);
        if (me == 0)
            xmodify_writer();
        else
            xmodify_caller(me, with_timer);
        barrier_wait(&bar, ncpus);
        if (me == 0) {
            uart_puts(with_timer ? "xmodify (timer interrupts): " : "xmodify (no interrupts): ");
            put_udec(XMOD_ROUNDS);
            uart_puts(" rounds, stale ");
            put_udec(stale);
            uart_puts(", bad ");
            put_udec(bad);
            if (with_timer)
                uart_puts(irqs ? ", interrupts arrived" : ", FAIL no interrupt arrived");
            uart_putc('\n');
#ifdef TORTURE_VERBOSE
            uart_puts("# calls ");
            put_udec(calls);
            uart_puts(", interrupts ");
            put_udec(irqs);
            uart_putc('\n');
#endif
            done = 0;
            calls = 0;
        }
    }
    rewrite_phase(me);
}

static void cpu_setup(void)
{
    install_vectors();
    torture_gic_init();
    mmio_w8(GICD_BASE + GICD_IPRIORITYR + TIMER_VIRT_INTID, 0xa0);
    gicd_w32(GICD_ISENABLER, 1u << TIMER_VIRT_INTID);
}

void secondary_main(u64 context)
{
    (void)context;
    cpu_setup();
    while (!ldar32(&started))
        ;
    run(cpu_id());
}

int main(void)
{
    uart_puts("torture-smc: start\n");
    cpu_setup();
    timer_ticks = read_sysreg(cntfrq_el0) / 20000;  /* 50 us */
    timer_on = 1;
    ncpus = torture_start_cpus();
    put_labelled_dec("cpus", ncpus);
    store_release32(&started, 1);
    run(0);
    uart_puts("rewrite across a page boundary: ");
    put_udec(REWRITE_ROUNDS);
    uart_puts(" rounds, wrong ");
    put_udec(wrong);
    uart_putc('\n');
#ifdef TORTURE_XMOD
    int fail = stale || bad || wrong || !irqs;
#else
    int fail = wrong != 0;
#endif
    uart_puts(fail ? "torture-smc: FAIL\n" : "torture-smc: PASS\n");
    return 0;
}
