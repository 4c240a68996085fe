/*
 * GICv3 (-M virt,gic-version=3): the distributor, the redistributors and the
 * ICC_* system-register CPU interface, as Linux uses them.
 *   - identification: ID_AA64PFR0_EL1.GIC, ICC_SRE/CTLR, GICD_TYPER/IIDR/
 *     PIDR2, each redistributor's GICR_TYPER (affinity, processor number,
 *     Last), the GICR_WAKER handshake;
 *   - what the implementation keeps of written values (PMR, BPR1, priorities);
 *   - CPU 0 starts the others with PSCI CPU_ON; SGIs through ICC_SGI1R_EL1:
 *     a token ring (target list), a broadcast (IRM = 1), SGIs to self;
 *   - priorities by polling ICC_IAR1_EL1 with interrupts masked: the running
 *     priority, preemption, the priority mask, EOImode = 1 with ICC_DIR_EL1;
 *   - an SPI routed with GICD_IROUTER to another CPU;
 *   - the virtual timer's PPI (27) on CPU 0.
 * Output is serialised by a turn protocol, so it is the same on every run.
 */
#include "sys.h"

#define GICD            0x08000000ul
#define GICR            0x080a0000ul
#define GICR_STRIDE     0x20000ul
#define SGI_BASE        0x10000ul

#define GICD_CTLR_      0x0000
#define GICD_TYPER_     0x0004
#define GICD_IIDR       0x0008
#define GICD_IGROUPR    0x0080
#define GICD_ISENABLER_ 0x0100
#define GICD_ISPENDR_   0x0200
#define GICD_IPRIORITYR_ 0x0400
#define GICD_IROUTER    0x6000
#define GICD_PIDR2      0xffe8

#define GICR_CTLR       0x0000
#define GICR_IIDR       0x0004
#define GICR_TYPER      0x0008
#define GICR_WAKER      0x0014
#define GICR_PIDR2      0xffe8
#define GICR_IGROUPR0   (SGI_BASE + 0x0080)
#define GICR_ISENABLER0 (SGI_BASE + 0x0100)
#define GICR_ISPENDR0   (SGI_BASE + 0x0200)
#define GICR_ISACTIVER0 (SGI_BASE + 0x0300)
#define GICR_IPRIORITYR (SGI_BASE + 0x0400)
#define GICR_ICFGR0     (SGI_BASE + 0x0c00)

#define ICC_PMR         S3_0_C4_C6_0
#define ICC_IAR1        S3_0_C12_C12_0
#define ICC_EOIR1       S3_0_C12_C12_1
#define ICC_HPPIR1      S3_0_C12_C12_2
#define ICC_BPR1        S3_0_C12_C12_3
#define ICC_CTLR        S3_0_C12_C12_4
#define ICC_SRE         S3_0_C12_C12_5
#define ICC_IGRPEN1     S3_0_C12_C12_7
#define ICC_BPR0        S3_0_C12_C8_3
#define ICC_AP1R0       S3_0_C12_C9_0
#define ICC_DIR         S3_0_C12_C11_1
#define ICC_RPR         S3_0_C12_C11_3
#define ICC_SGI1R       S3_0_C12_C11_5

/* Expands the register macros above before read_sysreg stringifies them. */
#define RD(r)           read_sysreg(r)
#define WR(r, v)        write_sysreg(r, v)

#define SPI_ID          33

static u32 ncpus = 1;
static volatile u32 ready;
static volatile u32 finished;
static volatile u32 ring_done;
static volatile u32 bcast_count;
static volatile u32 bcast_got[MAX_CPUS];
static volatile u32 turn_done;
static volatile u32 spi_cpu;
static volatile u32 timer_taken;

static u64 rdist(u32 cpu) { return GICR + cpu * GICR_STRIDE; }
static u32 r32(u64 a) { return mmio_r32(a); }
static u64 r64(u64 a) { return *(volatile u64 *)a; }
static void w64(u64 a, u64 v) { *(volatile u64 *)a = v; }

/* This CPU's index: Aff1 * 16 + Aff0 (QEMU's GICv3 layout, 16 per cluster). */
static u32 me(void)
{
    u64 m = read_sysreg(mpidr_el1);
    return ((m >> 8) & 0xff) * 16 + (m & 0xff);
}

static u64 affinity_of(u32 cpu)
{
    return ((u64)(cpu / 16) << 8) | (cpu % 16);
}

/* An SGI to the CPUs of `list` in cluster 0 (target list, Aff1 = 0). */
static void sgi_to_list(u32 list, u32 id)
{
    WR(ICC_SGI1R, ((u64)id << 24) | (list & 0xffff));
    isb();
}

static void sgi_to_others(u32 id)
{
    WR(ICC_SGI1R, (1ul << 40) | ((u64)id << 24));
    isb();
}

static void put_kv(const char *k, u64 v, int digits)
{
    uart_puts(k);
    uart_puts("=");
    put_hexn(v, digits);
    uart_putc('\n');
}

static void handle(u32 id)
{
    u32 cpu = me();
    switch (id) {
    case 1:
        uart_puts("ring: cpu ");
        put_udec(cpu);
        uart_puts(" got SGI 1\n");
        if (cpu == 0)
            store_release32(&ring_done, 1);
        else
            sgi_to_list(1u << ((cpu + 1) % ncpus), 1);
        break;
    case 2:
        bcast_got[cpu] = 1;
        atomic_add32(&bcast_count, 1);
        break;
    case 3:
        uart_puts("self: cpu ");
        put_udec(cpu);
        uart_puts(" got SGI 3, rpr=");
        put_hexn(RD(ICC_RPR), 2);
        uart_puts(" ap1r0=");
        put_hexn(RD(ICC_AP1R0), 8);
        uart_putc('\n');
        store_release32(&turn_done, cpu + 1);
        break;
    case 4:     /* request: SGI 3 to yourself */
        sgi_to_list(1u << cpu, 3);
        break;
    case 5: {   /* print this CPU's redistributor view */
        uart_puts("cpu ");
        put_udec(cpu);
        uart_puts(": mpidr=");
        put_hexn(read_sysreg(mpidr_el1), 8);
        uart_puts(" gicr_typer=");
        put_hexn(r64(rdist(cpu) + GICR_TYPER) & ~1ul, 16);
        uart_puts(" isenabler0=");
        put_hexn(r32(rdist(cpu) + GICR_ISENABLER0), 8);
        uart_putc('\n');
        store_release32(&turn_done, cpu + 1);
        break;
    }
    case SPI_ID:
        store_release32(&spi_cpu, 0x100 | cpu);
        break;
    case 27:
        write_sysreg(cntv_ctl_el0, 3);      /* enabled, masked */
        isb();
        store_release32(&timer_taken, 1);
        break;
    case 15:
        break;
    default:
        uart_puts("unexpected interrupt ");
        put_udec(id);
        uart_putc('\n');
    }
}

void exception_handler(struct exc_frame *f, u64 vector)
{
    if ((vector & 3) != VEC_IRQ)
        fatal_exception("unexpected exception", f, vector);
    u32 iar = RD(ICC_IAR1);
    if (iar >= 1020)
        return;
    handle(iar);
    WR(ICC_EOIR1, iar);
    isb();
}

/* Wakes this CPU's redistributor, sets up its SGIs and PPIs (group 1,
 * priority 0xa0, enabled) and its CPU interface. */
static void cpu_setup(int print)
{
    u64 rd = rdist(me());
    u32 w = r32(rd + GICR_WAKER);
    mmio_w32(rd + GICR_WAKER, w & ~2u);
    while (r32(rd + GICR_WAKER) & 4)
        ;
    if (print) {
        put_kv("gicr_waker before", w, 8);
        put_kv("gicr_waker after", r32(rd + GICR_WAKER), 8);
    }
    mmio_w32(rd + GICR_IGROUPR0, 0xffffffff);
    for (u32 id = 0; id < 32; id++)
        mmio_w8(rd + GICR_IPRIORITYR + id, 0xa0);
    mmio_w32(rd + GICR_ISENABLER0, 0xffff);
    WR(ICC_SRE, RD(ICC_SRE) | 1);
    isb();
    WR(ICC_PMR, 0xf0);
    WR(ICC_BPR1, 0);
    WR(ICC_CTLR, 0);
    WR(ICC_IGRPEN1, 1);
    isb();
}

static void wait_spin(volatile u32 *p, u32 v)
{
    irq_enable();
    while (load_acquire32(p) != v)
        ;
    irq_disable();
}

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
    cpu_setup(0);
    atomic_add32(&ready, 1);
    wait_for(&finished, 1);
}

static u32 ack(void)
{
    u32 v = RD(ICC_IAR1);
    isb();
    return v;
}

static void eoi(u32 id)
{
    WR(ICC_EOIR1, id);
    isb();
}

static void priorities(void)
{
    u64 rd = rdist(0);
    irq_disable();
    mmio_w8(rd + GICR_IPRIORITYR + 6, 0x80);
    mmio_w8(rd + GICR_IPRIORITYR + 7, 0x40);
    mmio_w8(rd + GICR_IPRIORITYR + 8, 0xc0);
    sgi_to_list(1, 6);
    sgi_to_list(1, 8);
    sgi_to_list(1, 7);
    put_kv("pending sgis 6-8 (gicr_ispendr0[8:6])", (r32(rd + GICR_ISPENDR0) >> 6) & 7, 1);
    put_kv("hppir1", RD(ICC_HPPIR1), 4);
    u32 a = ack();
    put_kv("iar1", a, 4);
    put_kv("rpr", RD(ICC_RPR), 2);
    put_kv("ap1r0", RD(ICC_AP1R0), 8);
    put_kv("iar1 while 0x40 runs (spurious)", ack(), 4);
    eoi(a);
    put_kv("rpr after eoi", RD(ICC_RPR), 2);
    WR(ICC_PMR, 0x80);
    isb();
    put_kv("iar1 with pmr 0x80 (spurious)", ack(), 4);
    WR(ICC_PMR, 0xf0);
    /* Preemption: 6 (0x80) then 8 (0xc0); while 8 runs, 7 (0x40) preempts. */
    u32 b = ack();
    put_kv("iar1 (highest first)", b, 4);
    eoi(b);
    u32 c = ack();
    put_kv("iar1 (then)", c, 4);
    put_kv("rpr", RD(ICC_RPR), 2);
    sgi_to_list(1, 7);
    u32 d = ack();
    put_kv("iar1 preempting", d, 4);
    put_kv("rpr", RD(ICC_RPR), 2);
    put_kv("ap1r0", RD(ICC_AP1R0), 8);
    eoi(d);
    put_kv("rpr after inner eoi", RD(ICC_RPR), 2);
    eoi(c);
    put_kv("rpr after outer eoi", RD(ICC_RPR), 2);
    /* EOImode = 1: EOIR drops the priority, DIR deactivates. */
    WR(ICC_CTLR, 2);
    isb();
    put_kv("icc_ctlr eoimode=1", RD(ICC_CTLR), 8);
    sgi_to_list(1, 6);
    u32 e = ack();
    put_kv("iar1", e, 4);
    eoi(e);
    put_kv("rpr after eoi", RD(ICC_RPR), 2);
    put_kv("active after eoi (gicr_isactiver0[6])", (r32(rd + GICR_ISACTIVER0) >> 6) & 1, 1);
    WR(ICC_DIR, e);
    isb();
    put_kv("active after dir", (r32(rd + GICR_ISACTIVER0) >> 6) & 1, 1);
    WR(ICC_CTLR, 0);
    isb();
    put_kv("iar1 (nothing left)", ack(), 4);
}

int main(void)
{
    install_vectors();
    uart_puts("gicv3: start\n");
    put_kv("id_aa64pfr0.gic", (read_sysreg(id_aa64pfr0_el1) >> 24) & 0xf, 1);
    put_kv("icc_sre", RD(ICC_SRE), 8);
    put_kv("icc_ctlr", RD(ICC_CTLR), 8);
    put_kv("gicd_ctlr", r32(GICD + GICD_CTLR_), 8);
    /* LPIs are not emulated: their support bits (GICD_TYPER.LPIS, GICR_TYPER.PLPIS,
     * GICR_CTLR.CES) are masked out of what is printed. */
    put_kv("gicd_typer (LPIS masked)", r32(GICD + GICD_TYPER_) & ~(1u << 17), 8);
    put_kv("gicd_iidr", r32(GICD + GICD_IIDR), 8);
    put_kv("gicd_pidr2", r32(GICD + GICD_PIDR2), 8);
    put_kv("gicr_iidr", r32(rdist(0) + GICR_IIDR), 8);
    put_kv("gicr_pidr2", r32(rdist(0) + GICR_PIDR2), 8);
    put_kv("gicr_ctlr (CES masked)", r32(rdist(0) + GICR_CTLR) & ~2u, 8);
    put_kv("gicr_icfgr0", r32(rdist(0) + GICR_ICFGR0), 8);
    /* Linux's sequence: distributor off, then on with ARE and both groups. */
    mmio_w32(GICD + GICD_CTLR_, 0);
    while (r32(GICD + GICD_CTLR_) & (1u << 31))
        ;
    mmio_w32(GICD + GICD_CTLR_, 0x13);
    while (r32(GICD + GICD_CTLR_) & (1u << 31))
        ;
    put_kv("gicd_ctlr on", r32(GICD + GICD_CTLR_), 8);
    cpu_setup(1);
    put_kv("icc_sre after", RD(ICC_SRE), 8);
    put_kv("icc_pmr (0xf0 written)", RD(ICC_PMR), 2);
    WR(ICC_PMR, 0xff);
    put_kv("icc_pmr (0xff written)", RD(ICC_PMR), 2);
    WR(ICC_PMR, 0xf0);
    put_kv("icc_bpr1 (0 written)", RD(ICC_BPR1), 1);
    put_kv("icc_bpr0", RD(ICC_BPR0), 1);
    put_kv("icc_rpr idle", RD(ICC_RPR), 2);
    put_kv("icc_hppir1 idle", RD(ICC_HPPIR1), 4);
    mmio_w8(rdist(0) + GICR_IPRIORITYR + 20, 0xff);
    put_kv("gicr_ipriorityr5 (0xff in byte 0)", r32(rdist(0) + GICR_IPRIORITYR + 20), 8);
    mmio_w8(GICD + GICD_IPRIORITYR_ + SPI_ID, 0xff);
    put_kv("gicd_ipriorityr8 (0xff in byte 1)", r32(GICD + GICD_IPRIORITYR_ + 32), 8);
    put_kv("gicd_irouter33 reset", r64(GICD + GICD_IROUTER + 8 * SPI_ID), 16);
    put_kv("gicd_ipriorityr0 (RAZ with ARE)", r32(GICD + GICD_IPRIORITYR_), 8);

    for (u32 id = 1; id < MAX_CPUS; id++) {
        if (psci_cpu_on(affinity_of(id), secondary_entry, id) != PSCI_SUCCESS)
            break;
        ncpus++;
    }
    while (load_acquire32(&ready) != ncpus - 1)
        ;
    put_labelled_dec("cpus", ncpus);
    for (u32 c = 0; c < ncpus; c++) {
        uart_puts("redistributor ");
        put_udec(c);
        uart_puts(": typer (PLPIS masked)=");
        put_hexn(r64(rdist(c) + GICR_TYPER) & ~1ul, 16);
        uart_puts(" waker=");
        put_hexn(r32(rdist(c) + GICR_WAKER), 1);
        uart_putc('\n');
    }

    /* Token ring through the target list. */
    sgi_to_list(1u << (1 % ncpus), 1);
    wait_spin(&ring_done, 1);

    /* Broadcast (IRM = 1): every CPU but the sender. */
    sgi_to_others(2);
    wait_spin(&bcast_count, ncpus - 1);
    for (u32 c = 0; c < ncpus; c++) {
        uart_puts("broadcast: cpu ");
        put_udec(c);
        uart_puts(bcast_got[c] ? " got SGI 2\n" : " got nothing\n");
    }

    /* SGI to self on each CPU in turn (requested with SGI 4). */
    turn_done = 0;
    for (u32 c = 0; c < ncpus; c++) {
        sgi_to_list(1u << c, 4);
        wait_spin(&turn_done, c + 1);
    }
    /* Each CPU's view of its redistributor, in turn (SGI 5). */
    turn_done = 0;
    for (u32 c = 0; c < ncpus; c++) {
        sgi_to_list(1u << c, 5);
        wait_spin(&turn_done, c + 1);
    }

    priorities();

    /* An SPI routed to the last CPU through GICD_IROUTER. */
    u32 target = ncpus - 1;
    mmio_w32(GICD + GICD_IGROUPR + 4, 0xffffffff);
    mmio_w8(GICD + GICD_IPRIORITYR_ + SPI_ID, 0x90);
    w64(GICD + GICD_IROUTER + 8 * SPI_ID, affinity_of(target));
    put_kv("gicd_irouter33", r64(GICD + GICD_IROUTER + 8 * SPI_ID), 16);
    mmio_w32(GICD + GICD_ISENABLER_ + 4, 1u << (SPI_ID - 32));
    mmio_w32(GICD + GICD_ISPENDR_ + 4, 1u << (SPI_ID - 32));
    wait_spin(&spi_cpu, 0x100 | target);
    uart_puts("spi 33 taken by cpu ");
    put_udec(spi_cpu & 0xff);
    uart_putc('\n');

    /* The virtual timer's PPI on CPU 0 (level-sensitive: ICFGR1 bit 23 = 0). */
    mmio_w32(rdist(0) + GICR_ISENABLER0, 1u << 27);
    put_kv("gicr_icfgr1", r32(rdist(0) + GICR_ICFGR0 + 4), 8);
    write_sysreg(cntv_tval_el0, 1000);
    write_sysreg(cntv_ctl_el0, 1);
    isb();
    wait_for(&timer_taken, 1);
    uart_puts("timer ppi 27 taken, cntv_ctl=");
    put_hexn(read_sysreg(cntv_ctl_el0), 1);
    uart_putc('\n');

    store_release32(&finished, 1);
    sgi_to_others(15);
    uart_puts("gicv3: done\n");
    return 0;
}
