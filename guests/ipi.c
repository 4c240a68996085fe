/*
 * Inter-processor interrupts: CPU 0 starts the other CPUs with PSCI CPU_ON;
 * every CPU enables its GIC CPU interface and its (banked) SGIs, then SGIs
 * go between them through GICD_SGIR:
 *   - a token ring (target list): each CPU prints and passes SGI 1 on;
 *   - a broadcast to all but self (SGI 2);
 *   - an SGI to self on each CPU in turn (SGI 3, requested with SGI 5);
 *   - per-CPU views of the banked registers (GICD_ITARGETSR0), in turn (SGI 4);
 *   - three SGIs pending at once on CPU 0, taken in priority order;
 *   - the same SGI from several source CPUs, pending separately (SGI 11,
 *     requested with SGI 12).
 * Printing is serialised by the protocol (a CPU prints only when it holds
 * the "turn"), so the output is the same on every run.
 */
#include "sys.h"

static u32 ncpus = 1;
static volatile u32 ready;
static volatile u32 finished;

static volatile u32 ring_done;
static volatile u32 bcast_count;
static volatile u32 bcast_got[MAX_CPUS];
static volatile u32 turn_done;
static volatile u32 prio_order[8];
static volatile u32 prio_n;
static volatile u32 multi_acks;
static volatile u32 multi_srcs;
static volatile u32 multi_count;

static void put_cpu_sgi(const char *what, u32 cpu, u32 id, u32 src)
{
    uart_puts(what);
    uart_puts(": cpu ");
    put_udec(cpu);
    uart_puts(" got SGI ");
    put_udec(id);
    uart_puts(" from cpu ");
    put_udec(src);
    uart_putc('\n');
}

static void irq(u32 iar)
{
    u32 id = iar & 0x3ff, src = (iar >> 10) & 7, me = cpu_id();
    switch (id) {
    case 1:     /* token ring */
        put_cpu_sgi("ring", me, id, src);
        if (me == 0)
            store_release32(&ring_done, 1);
        else
            gic_send_sgi(SGI_TO_LIST, 1u << ((me + 1) % ncpus), 1);
        break;
    case 2:     /* broadcast */
        bcast_got[me] = 0x100 | (src << 4) | id;
        atomic_add32(&bcast_count, 1);
        break;
    case 3:     /* SGI to self */
        put_cpu_sgi("self", me, id, src);
        store_release32(&turn_done, me + 1);
        break;
    case 4: {   /* print banked registers */
        uart_puts("cpu ");
        put_udec(me);
        uart_puts(": itargetsr0=");
        put_hexn(gicd_r32(GICD_ITARGETSR), 8);
        uart_puts(" isenabler0[15:0]=");
        put_hexn(gicd_r32(GICD_ISENABLER) & 0xffff, 4);
        uart_puts(" ipriorityr1=");
        put_hexn(gicd_r32(GICD_IPRIORITYR + 4), 8);
        uart_putc('\n');
        store_release32(&turn_done, me + 1);
        break;
    }
    case 5:     /* request: send SGI 3 to yourself */
        gic_send_sgi(SGI_TO_SELF, 0, 3);
        break;
    case 6:
    case 7:
    case 8:
        prio_order[prio_n++ & 7] = id;
        break;
    case 11:
        multi_srcs |= 1u << src;
        multi_count++;
        break;
    case 12:    /* request: send SGI 11 to CPU 0 */
        gic_send_sgi(SGI_TO_LIST, 1, 11);
        dsb(sy);
        atomic_add32(&multi_acks, 1);
        break;
    case 15:    /* wake-up at the end */
        break;
    default:
        uart_puts("unexpected interrupt ");
        put_hexn(iar, 4);
        uart_putc('\n');
        break;
    }
}

void exception_handler(struct exc_frame *f, u64 vector)
{
    if ((vector & 3) != VEC_IRQ) {
        fatal_exception("unexpected exception", f, vector);
    }
    /* One interrupt per exception: the next is taken after the ERET, so
     * the GIC's priorities decide the order. */
    u32 iar = gic_ack();
    if ((iar & 0x3ff) == GIC_SPURIOUS)
        return;
    irq(iar);
    gic_eoi(iar);
}

/* This CPU's banked GIC state: SGIs enabled with priority 0xa0 (SGIs 6-8
 * get 0x80, 0x40, 0xc0). */
static void gic_cpu_setup(void)
{
    for (u32 id = 0; id < 16; id++)
        mmio_w8(GICD_BASE + GICD_IPRIORITYR + id, 0xa0);
    mmio_w8(GICD_BASE + GICD_IPRIORITYR + 6, 0x80);
    mmio_w8(GICD_BASE + GICD_IPRIORITYR + 7, 0x40);
    mmio_w8(GICD_BASE + GICD_IPRIORITYR + 8, 0xc0);
    gicd_w32(GICD_ISENABLER, 0xffff);
    gic_cpu_enable();
}

/* CPU 0: spins with interrupts enabled until *p == v (other CPUs set these
 * flags without interrupting CPU 0). */
static void wait_spin(volatile u32 *p, u32 v)
{
    irq_enable();
    while (load_acquire32(p) != v)
        ;
    irq_disable();
}

/* Secondaries: waits with WFI, taking interrupts, until *p == v. */
static void wait_for(volatile u32 *p, u32 v)
{
    irq_disable();
    while (load_acquire32(p) != v) {
        wfi();
        irq_enable();
        isb();
        irq_disable();
    }
}

void secondary_main(u64 context)
{
    (void)context;
    install_vectors();
    gic_cpu_setup();
    atomic_add32(&ready, 1);
    wait_for(&finished, 1);
}

int main(void)
{
    install_vectors();
    uart_puts("ipi: start\n");
    gic_dist_enable();
    gic_cpu_setup();
    for (u64 id = 1; id < MAX_CPUS; id++) {
        if (psci_cpu_on(id, secondary_entry, id) != PSCI_SUCCESS)
            break;
        ncpus++;
    }
    while (load_acquire32(&ready) != ncpus - 1)
        ;
    put_labelled_dec("cpus", ncpus);
    put_labelled_dec("gicd_typer.CPUNumber+1", ((gicd_r32(GICD_TYPER) >> 5) & 7) + 1);

    /* Token ring */
    gic_send_sgi(SGI_TO_LIST, 1u << (1 % ncpus), 1);
    wait_spin(&ring_done, 1);

    /* Broadcast to all but self */
    gic_send_sgi(SGI_TO_OTHERS, 0, 2);
    wait_spin(&bcast_count, ncpus - 1);
    for (u32 c = 0; c < ncpus; c++) {
        uart_puts("broadcast: cpu ");
        put_udec(c);
        if (bcast_got[c]) {
            uart_puts(" got SGI ");
            put_udec(bcast_got[c] & 0xf);
            uart_puts(" from cpu ");
            put_udec((bcast_got[c] >> 4) & 0xf);
            uart_putc('\n');
        } else {
            uart_puts(" got nothing\n");
        }
    }

    /* SGI to self, one CPU at a time */
    turn_done = 0;
    for (u32 c = 0; c < ncpus; c++) {
        gic_send_sgi(SGI_TO_LIST, 1u << c, 5);
        wait_spin(&turn_done, c + 1);
    }

    /* Banked registers, one CPU at a time */
    turn_done = 0;
    for (u32 c = 0; c < ncpus; c++) {
        gic_send_sgi(SGI_TO_LIST, 1u << c, 4);
        wait_spin(&turn_done, c + 1);
    }

    /* Priorities: three SGIs pending at once on CPU 0. */
    irq_disable();
    gic_send_sgi(SGI_TO_SELF, 0, 6);
    gic_send_sgi(SGI_TO_SELF, 0, 8);
    gic_send_sgi(SGI_TO_SELF, 0, 7);
    uart_puts("pending sgis 6-8 (ispendr0[8:6]): ");
    put_hexn((gicd_r32(GICD_ISPENDR) >> 6) & 7, 1);
    uart_puts(", hppir: ");
    put_udec(gicc_r32(GICC_HPPIR) & 0x3ff);
    uart_putc('\n');
    wait_spin(&prio_n, 3);
    uart_puts("taken in order: ");
    for (u32 i = 0; i < 3; i++) {
        put_udec(prio_order[i]);
        uart_putc(i < 2 ? ' ' : '\n');
    }

    /* SGI 11 to CPU 0 from every other CPU while CPU 0 masks IRQs. */
    irq_disable();
    gic_send_sgi(SGI_TO_OTHERS, 0, 12);
    while (load_acquire32(&multi_acks) != ncpus - 1)
        ;
    uart_puts("sgi 11 pending (ispendr0[11]): ");
    put_udec((gicd_r32(GICD_ISPENDR) >> 11) & 1);
    uart_putc('\n');
    wait_spin(&multi_count, ncpus - 1);
    uart_puts("sgi 11 taken ");
    put_udec(multi_count);
    uart_puts(" times, sources mask ");
    put_hexn(multi_srcs, 2);
    uart_putc('\n');

    store_release32(&finished, 1);
    gic_send_sgi(SGI_TO_OTHERS, 0, 15);
    uart_puts("ipi: done\n");
    return 0;
}
