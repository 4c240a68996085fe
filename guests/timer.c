/*
 * Generic timer and GICv2 interrupts on one CPU. The virtual timer (PPI 27)
 * and the EL1 physical timer (PPI 30) are enabled in the distributor; the
 * IRQ comes through VBAR_EL1 and is acknowledged with GICC_IAR and
 * GICC_EOIR. Checks: ISTATUS with IMASK, pending state in the distributor
 * while PSTATE.I masks the IRQ, HPPIR, the running priority, level-triggered
 * re-delivery when the handler does not clear the source, masking by
 * GICC_PMR, waiting with WFI, TVAL and CVAL programming, and an interrupt
 * taken from EL0. No times are printed, only what happened.
 */
#include "sys.h"

static volatile u32 irq_count;
static volatile u32 last_iar;
static volatile u32 last_rpr;
static volatile u64 last_ctl;
static volatile u64 last_vector;
static volatile u64 last_spsr;
/* How the handler treats the timer: 0 = mask it (IMASK), 1 = leave it firing
 * the first time, then mask it. */
static volatile int leave_first;
static volatile u32 el0_flag;

static u64 user_stack[256] __attribute__((aligned(16)));

static u64 read_ctl(u32 intid)
{
    return intid == TIMER_VIRT_INTID ? read_sysreg(cntv_ctl_el0) : read_sysreg(cntp_ctl_el0);
}

static void write_ctl(u32 intid, u64 v)
{
    if (intid == TIMER_VIRT_INTID)
        write_sysreg(cntv_ctl_el0, v);
    else
        write_sysreg(cntp_ctl_el0, v);
    isb();
}

void exception_handler(struct exc_frame *f, u64 vector)
{
    if (vector == VEC_LOWER_A64 + VEC_SYNC && ESR_EC(read_sysreg(esr_el1)) == EC_SVC64) {
        el0_exit(f, f->x[0]);           /* the SVC that ends the EL0 run */
        return;
    }
    if ((vector & 3) != VEC_IRQ) {
        fatal_exception("unexpected exception", f, vector);
    }
    u32 iar = gic_ack();
    u32 id = iar & 0x3ff;
    last_iar = iar;
    last_vector = vector;
    last_spsr = f->spsr;
    if (id == GIC_SPURIOUS)
        return;
    last_rpr = gicc_r32(GICC_RPR);
    irq_count++;
    if (id == TIMER_VIRT_INTID || id == TIMER_PHYS_INTID) {
        last_ctl = read_ctl(id);
        if (!(leave_first && irq_count == 1))
            write_ctl(id, CNT_CTL_ENABLE | CNT_CTL_IMASK);
    }
    if (vector == VEC_LOWER_A64 + VEC_IRQ)
        el0_flag = 1;
    gic_eoi(iar);
}

static u64 ticks_per_ms(void)
{
    u64 f = read_sysreg(cntfrq_el0);
    return f / 1000 ? f / 1000 : 1;
}

static void put_pending(const char *what, u32 intid)
{
    u32 pend = gicd_r32(GICD_ISPENDR) >> intid & 1;
    uart_puts(what);
    uart_puts(pend ? "pending\n" : "not pending\n");
}

static void report_irq(const char *what)
{
    uart_puts(what);
    uart_puts(": irqs=");
    put_udec(irq_count);
    uart_puts(" intid=");
    put_udec(last_iar & 0x3ff);
    uart_puts(" vector=");
    put_udec(last_vector);
    uart_puts(" ctl=");
    put_hexn(last_ctl, 1);
    uart_puts(" rpr=");
    put_hexn(last_rpr, 2);
    uart_putc('\n');
}

static void wait_istatus(u32 intid)
{
    while (!(read_ctl(intid) & CNT_CTL_ISTATUS))
        ;
}

/*
 * The architecture does not bound how long a timer's output takes to
 * become a pending interrupt, so every wait for one has a deadline (long
 * enough for any working emulator): these return as soon as the event
 * happens, or after `ms` milliseconds of counter time.
 */
static u64 deadline(u64 ms)
{
    return read_sysreg(cntvct_el0) + ms * ticks_per_ms();
}

static int wait_pending(u32 intid, u64 ms)
{
    u64 end = deadline(ms);
    while (!(gicd_r32(GICD_ISPENDR) >> intid & 1))
        if (read_sysreg(cntvct_el0) > end)
            return 0;
    return 1;
}

/* IRQs unmasked until irq_count >= n or the deadline. */
static void take_irqs(u32 n, u64 ms)
{
    u64 end = deadline(ms);
    irq_enable();
    while (irq_count < n && read_sysreg(cntvct_el0) <= end)
        ;
    irq_disable();
}

static void one_timer(const char *name, u32 intid)
{
    u64 t = ticks_per_ms();
    uart_puts("== ");
    uart_puts(name);
    uart_puts(" timer, intid ");
    put_udec(intid);
    uart_putc('\n');
    irq_disable();
    irq_count = 0;

    /* Masked at the timer: condition met, no interrupt. */
    write_ctl(intid, 0);
    if (intid == TIMER_VIRT_INTID)
        write_sysreg(cntv_tval_el0, t);
    else
        write_sysreg(cntp_tval_el0, t);
    write_ctl(intid, CNT_CTL_ENABLE | CNT_CTL_IMASK);
    wait_istatus(intid);
    uart_puts("ctl after expiry with IMASK: ");
    put_hexn(read_ctl(intid), 1);
    uart_putc('\n');
    put_pending("gic with IMASK: ", intid);

    /* Unmasked at the timer, PSTATE.I set: pending in the GIC, not taken. */
    write_ctl(intid, CNT_CTL_ENABLE);
    wait_pending(intid, 1000);
    put_pending("gic without IMASK, PSTATE.I=1: ", intid);
    uart_puts("hppir: ");
    put_udec(gicc_r32(GICC_HPPIR) & 0x3ff);
    uart_puts(", irqs so far: ");
    put_udec(irq_count);
    uart_putc('\n');
    take_irqs(1, 1000);
    report_irq("after PSTATE.I=0");
    put_pending("gic after the handler masked the timer: ", intid);
    uart_puts("rpr when idle: ");
    put_hexn(gicc_r32(GICC_RPR), 2);
    uart_putc('\n');

    /* CVAL in the past (the counter has advanced, see main): ISTATUS at
     * once; TVAL reads negative. */
    write_ctl(intid, CNT_CTL_ENABLE | CNT_CTL_IMASK);
    if (intid == TIMER_VIRT_INTID)
        write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) - 1);
    else
        write_sysreg(cntp_cval_el0, read_sysreg(cntpct_el0) - 1);
    isb();
    s64 tval = (s32)(intid == TIMER_VIRT_INTID ? read_sysreg(cntv_tval_el0)
                                               : read_sysreg(cntp_tval_el0));
    uart_puts("cval in the past: ctl=");
    put_hexn(read_ctl(intid), 1);
    uart_puts(tval < 0 ? " tval negative\n" : " tval not negative\n");

    /* CVAL in the future, wait with WFI (IRQs masked around it). */
    irq_count = 0;
    if (intid == TIMER_VIRT_INTID)
        write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + 2 * t);
    else
        write_sysreg(cntp_cval_el0, read_sysreg(cntpct_el0) + 2 * t);
    write_ctl(intid, CNT_CTL_ENABLE);
    u32 wakeups = 0;
    while (irq_count == 0) {
        wfi();
        wakeups++;
        irq_enable();
        isb();
        irq_disable();
    }
    report_irq("wfi");
    uart_puts(wakeups >= 1 ? "wfi returned\n" : "wfi did not return\n");

    /* Level-triggered: the handler leaves the timer asserted the first
     * time, so the interrupt is taken again after EOI. */
    irq_count = 0;
    leave_first = 1;
    if (intid == TIMER_VIRT_INTID)
        write_sysreg(cntv_tval_el0, t / 2);
    else
        write_sysreg(cntp_tval_el0, t / 2);
    write_ctl(intid, CNT_CTL_ENABLE);
    wait_istatus(intid);
    take_irqs(2, 1000);
    leave_first = 0;
    report_irq("level re-delivery");

    /* GICC_PMR below the priority: not signalled until PMR is raised. */
    irq_count = 0;
    gicc_w32(GICC_PMR, 0x90);
    if (intid == TIMER_VIRT_INTID)
        write_sysreg(cntv_tval_el0, t / 2);
    else
        write_sysreg(cntp_tval_el0, t / 2);
    write_ctl(intid, CNT_CTL_ENABLE);
    wait_istatus(intid);
    wait_pending(intid, 1000);
    take_irqs(1, 20);                   /* must not be taken */
    uart_puts("pmr=0x90, priority 0xa0: irqs=");
    put_udec(irq_count);
    uart_putc('\n');
    put_pending("gic: ", intid);
    gicc_w32(GICC_PMR, 0xf0);
    take_irqs(1, 1000);
    report_irq("pmr=0xf0");

    write_ctl(intid, 0);
}

/* EL0 code: spin until the IRQ handler sets the flag, then exit via SVC. */
static void user_spin(void)
{
    __asm__ volatile("1: ldr w1, [x0]\n\t"
                     "cbz w1, 1b\n\t"
                     "mov x0, #0x55\n\t"
                     "svc #0\n\t"
                     "2: b 2b");
}

int main(void)
{
    install_vectors();
    uart_puts("timer: start\n");
    u64 frq = read_sysreg(cntfrq_el0);
    uart_puts(frq ? "cntfrq_el0 nonzero\n" : "cntfrq_el0 is zero\n");
    u64 v0 = read_sysreg(cntvct_el0);
    u64 spins = 0;
    while (read_sysreg(cntvct_el0) == v0 && spins < 100000000)
        spins++;
    uart_puts(read_sysreg(cntvct_el0) > v0 ? "cntvct_el0 advances\n" : "cntvct_el0 stuck\n");
    u64 vct = read_sysreg(cntvct_el0);
    isb();
    u64 pct = read_sysreg(cntpct_el0);
    uart_puts(vct <= pct ? "cntvct_el0 <= later cntpct_el0\n" : "cntvct_el0 > later cntpct_el0\n");

    gic_dist_enable();
    gic_cpu_enable();
    gic_enable_irq(TIMER_VIRT_INTID, 0xa0, 0);
    gic_enable_irq(TIMER_PHYS_INTID, 0xa0, 0);
    uart_puts("gicd_isenabler0 bits 27,30: ");
    put_hexn(gicd_r32(GICD_ISENABLER) & ((1u << 27) | (1u << 30)), 8);
    uart_putc('\n');

    one_timer("virtual", TIMER_VIRT_INTID);
    one_timer("physical", TIMER_PHYS_INTID);

    /* An interrupt while running at EL0: taken to the lower-EL IRQ vector. */
    uart_puts("== interrupt from EL0\n");
    irq_count = 0;
    el0_flag = 0;
    write_sysreg(cntv_tval_el0, ticks_per_ms());
    write_ctl(TIMER_VIRT_INTID, CNT_CTL_ENABLE);
    u64 r = run_el0_spsr(user_spin, (u64)&user_stack[256], (u64)&el0_flag, SPSR_EL0T);
    report_irq("el0");
    uart_puts("interrupted spsr: ");
    put_hexn(last_spsr & 0x3cf, 3);
    uart_puts(", el0 exit code: ");
    put_hexn(r, 2);
    uart_putc('\n');
    write_ctl(TIMER_VIRT_INTID, 0);

    uart_puts("timer: done\n");
    return 0;
}
