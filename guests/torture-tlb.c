/*
 * TLB maintenance racing with accesses. The MMU is on with the same tables
 * on every CPU (ASID 5). Two virtual pages, VA_D (data) and VA_C (code),
 * non-global, point into a rotation of four physical pages each. In round k
 * CPU 0 writes k into the next data page and `MOVZ W0, #k; RET` into the next
 * code page (with the cache maintenance for code), then breaks the old
 * mappings (descriptors invalid, DSB ISH, TLBI, DSB ISH), makes the new ones
 * (DSB ISH, ISB) and publishes k with STLR. The TLBI is, per phase, VAE1IS
 * (by VA and ASID), VAAE1IS (by VA, any ASID), ASIDE1IS and VMALLE1IS.
 *
 * Meanwhile the other CPUs read the round number with LDAR, then load from
 * VA_D and call VA_C (after an ISB) without pause. An access may fault (it
 * came in the break-before-make window) or see any round >= the one read
 * before it; seeing an older round means a stale translation survived the
 * TLBI + DSB that completed before the round was published: "stale".
 */
#include "torture-common.h"
#include "mmu.h"

#ifndef TLB_ROUNDS
#define TLB_ROUNDS 50
#endif

#define VA_D    0x0000004000000000ul
#define VA_C    0x0000004000001000ul
#define PAGES_D 0x46000000ul            /* 4 data pages */
#define PAGES_C 0x46010000ul            /* 4 code pages */
#define ASID    5ul
#define LEAF    (PTE_VALID | PTE_TABLE | PTE_NORMAL | PTE_NG | PTE_AP_EL1_RW | PTE_UXN)

enum { T_VAE1IS, T_VAAE1IS, T_ASIDE1IS, T_VMALLE1IS, NKINDS };
static const char *const kind_names[NKINDS] = {
    "tlbi vae1is", "tlbi vaae1is", "tlbi aside1is", "tlbi vmalle1is",
};

static struct pt tables;
static volatile u64 *pte_d, *pte_c;
static u64 tcr;
static u32 ncpus;
static volatile u32 started;
static volatile u32 round;
static volatile u32 done;
static volatile u32 acks[MAX_CPUS];
static struct barrier bar;
static volatile u64 stale_d[NKINDS], stale_c[NKINDS], faults, accesses;
static volatile u64 final_bad;

extern char probe_exec_ret[];

/*
 * The probes' fix-up (a faulting probe returns ~0), done here with this CPU's
 * own ESR: common/trap.c's trap_fixup records into one global and reads the
 * syndrome back from it, which another CPU may overwrite meanwhile.
 */
void exception_handler(struct exc_frame *f, u64 vector)
{
    u64 ec = ESR_EC(read_sysreg(esr_el1));
    if (vector == (VEC_CUR_SPX | VEC_SYNC)) {
        if (ec == EC_DABT_CUR && f->elr == (u64)probe_read64_insn) {
            f->x[0] = ~0ul;
            f->elr += 4;
            return;
        }
        if (ec == EC_IABT_CUR && f->x[30] == (u64)probe_exec_ret) {
            f->x[0] = ~0ul;
            f->elr = f->x[30];
            return;
        }
    }
    fatal_exception("unexpected exception", f, vector);
}

static void tlbi(u32 kind)
{
    switch (kind) {
    case T_VAE1IS:
        __asm__ volatile("tlbi vae1is, %0" : : "r"(ASID << 48 | VA_D >> 12) : "memory");
        __asm__ volatile("tlbi vae1is, %0" : : "r"(ASID << 48 | VA_C >> 12) : "memory");
        break;
    case T_VAAE1IS:
        __asm__ volatile("tlbi vaae1is, %0" : : "r"(VA_D >> 12) : "memory");
        __asm__ volatile("tlbi vaae1is, %0" : : "r"(VA_C >> 12) : "memory");
        break;
    case T_ASIDE1IS:
        __asm__ volatile("tlbi aside1is, %0" : : "r"(ASID << 48) : "memory");
        break;
    default:
        __asm__ volatile("tlbi vmalle1is" : : : "memory");
        break;
    }
}

static void remap(u32 k, u32 kind)
{
    u64 d = PAGES_D + (k % 4) * 4096, c = PAGES_C + (k % 4) * 4096;
    volatile u64 *dp = (volatile u64 *)d;
    dp[0] = k;
    dp[511] = k;
    volatile u32 *cp = (volatile u32 *)c;
    cp[0] = 0x52800000u | ((k & 0xffff) << 5);  /* MOVZ W0, #k */
    cp[1] = 0xd65f03c0u;                        /* RET */
    __asm__ volatile("dc cvau, %0" : : "r"(c) : "memory");
    dsb(ish);
    __asm__ volatile("ic ivau, %0" : : "r"(c) : "memory");
    dsb(ish);
    /* break */
    *pte_d = 0;
    *pte_c = 0;
    dsb(ish);
    tlbi(kind);
    dsb(ish);
    /* make */
    *pte_d = d | LEAF;
    *pte_c = c | LEAF;
    dsb(ish);
    isb();
    store_release32(&round, k);
    dsb(ish);
    sev();
    /* Every observer checks round k at least once before round k + 1. */
    for (u32 c = 1; c < ncpus; c++)
        while (ldar32(&acks[c]) < k)
            wfe();
}

static void observe(u32 me)
{
    u64 n = 0, f = 0;
    u32 r, acked = 0, since_ack = 0;
    while (!ldar32(&done)) {
        r = ldar32(&round);
        u32 kind = r ? (r - 1) / TLB_ROUNDS : 0;
        if (kind >= NKINDS)
            kind = NKINDS - 1;
        u64 v = probe_read64(VA_D + (n & 1) * 4088);
        isb();
        u64 c = probe_exec(VA_C);
        n++;
        if (v == ~0ul)
            f++;
        else if (v < r)
            atomic_add64(&stale_d[kind], 1);
        if (c == ~0ul)
            f++;
        else if ((u32)c < (r & 0xffff))
            atomic_add64(&stale_c[kind], 1);
        if (r != acked) {
            acked = r;
            since_ack = 0;
            store_release32(&acks[me], r);
            dsb(ish);
            sev();
        } else if (++since_ack >= 16) {
            wfe();      /* on one host thread: let CPU 0 run */
        }
    }
    /* After the last round: exactly its mappings. */
    r = ldar32(&round);
    isb();
    if (probe_read64(VA_D) != r || probe_exec(VA_C) != r)
        atomic_add64(&final_bad, 1);
    atomic_add64(&faults, f);
    atomic_add64(&accesses, n);
}

static void cpu_mmu_on(void)
{
    install_vectors();
    mmu_on(tables.root | ASID << 48, 0, tcr);
}

void secondary_main(u64 context)
{
    (void)context;
    torture_gic_init();
    while (!ldar32(&started))
        ;
    cpu_mmu_on();
    barrier_wait(&bar, ncpus);
    observe(cpu_id());
    barrier_wait(&bar, ncpus);
}

int main(void)
{
    uart_puts("torture-tlb: start\n");
    torture_gic_init();
    pt_pool_reset();
    pt_init(&tables, 12, 39);
    pt_map(&tables, 0x08000000ul, 0x08000000ul, 0x20000, PTE_DEVICE, 0);
    pt_map(&tables, 0x09000000ul, 0x09000000ul, 4096, PTE_DEVICE, 0);
    pt_map(&tables, 0x40000000ul, 0x40000000ul, 512ul << 20, PTE_NORMAL | PTE_UXN, 0);
    /* round 0: page 0 of each rotation */
    *(volatile u64 *)PAGES_D = 0;
    *(volatile u64 *)(PAGES_D + 4088) = 0;
    *(volatile u32 *)PAGES_C = 0x52800000u;
    *(volatile u32 *)(PAGES_C + 4) = 0xd65f03c0u;
    pt_map(&tables, VA_D, PAGES_D, 4096, PTE_NORMAL | PTE_NG | PTE_UXN, 3);
    pt_map(&tables, VA_C, PAGES_C, 4096, PTE_NORMAL | PTE_NG | PTE_UXN, 3);
    u32 level;
    pte_d = pt_leaf(&tables, VA_D, &level);
    pte_c = pt_leaf(&tables, VA_C, &level);
    tcr = tcr_half(12, 39, 0) | TCR_EPD1 | TCR_IPS_40BIT;
    ncpus = torture_start_cpus();
    put_labelled_dec("cpus", ncpus);
    store_release32(&started, 1);
    cpu_mmu_on();
    barrier_wait(&bar, ncpus);
    u32 k = 0;
    for (u32 kind = 0; kind < NKINDS; kind++)
        for (u32 i = 0; i < TLB_ROUNDS; i++)
            remap(++k, kind);
    store_release32(&done, 1);
    barrier_wait(&bar, ncpus);
    mmu_off();
    int fail = final_bad != 0;
    for (u32 kind = 0; kind < NKINDS; kind++) {
        uart_puts(kind_names[kind]);
        uart_puts(": ");
        put_udec(TLB_ROUNDS);
        uart_puts(" remaps, stale data ");
        put_udec(stale_d[kind]);
        uart_puts(", stale code ");
        put_udec(stale_c[kind]);
        uart_putc('\n');
        fail |= stale_d[kind] || stale_c[kind];
    }
    uart_puts(final_bad ? "after the last remap: FAIL old mapping seen\n"
                        : "after the last remap: every cpu sees the new pages\n");
#ifdef TORTURE_VERBOSE
    uart_puts("# accesses ");
    put_udec(accesses);
    uart_puts(", faults (break-before-make window) ");
    put_udec(faults);
    uart_putc('\n');
#endif
    uart_puts(fail ? "torture-tlb: FAIL\n" : "torture-tlb: PASS\n");
    return 0;
}
