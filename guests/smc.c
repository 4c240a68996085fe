/*
 * Self-modifying code. Each test executes code (enough times for an
 * emulator to have translated and chained it), rewrites it with ordinary
 * stores, performs DC CVAU / DSB ISH / IC IVAU / DSB ISH / ISB, and runs it
 * again; the new instructions must be the ones executed:
 *   - a MOV in a function called from a loop, patched again and again;
 *   - a B whose target changes (the block was chained to the old target);
 *   - an instruction later in the same straight-line code as the store;
 *   - code generated into a buffer, rewritten in place (a tiny JIT);
 *   - with the MMU on, through a second, writable virtual alias of the page;
 *   - with several CPUs, CPU 1 patches a function CPU 0 keeps executing;
 *     CPU 0 runs the new code once it has seen CPU 1's flag (and an ISB).
 */
#include "mmu.h"

u32 smc_target(void);
u32 smc_branch(void);
extern char smc_branch_to20[];
u32 smc_inline(u32 insn);
u32 smc_shared(void);
extern char smc_shared_to2[];
extern char smc_template[];

void exception_handler(struct exc_frame *f, u64 vector)
{
    fatal_exception("unexpected exception", f, vector);
}

/* MOVZ Wd/Xd, #imm16 */
static u32 movz_w0(u32 imm) { return 0x52800000u | (imm << 5); }
static u32 movz_x0(u32 imm) { return 0xd2800000u | (imm << 5); }
/* B from `from` to `to` */
static u32 branch(u64 from, u64 to) { return 0x14000000u | (u32)(((to - from) >> 2) & 0x3ffffff); }

/* Makes `len` bytes written at data address `w` executable at `x`. */
static void sync_icache(u64 w, u64 x, u64 len)
{
    for (u64 a = w & ~63ul; a < w + len; a += 64)
        __asm__ volatile("dc cvau, %0" : : "r"(a) : "memory");
    dsb(ish);
    for (u64 a = x & ~63ul; a < x + len; a += 64)
        __asm__ volatile("ic ivau, %0" : : "r"(a) : "memory");
    dsb(ish);
    isb();
}

static void patch(void *fn, u32 insn)
{
    *(volatile u32 *)fn = insn;
    sync_icache((u64)fn, (u64)fn, 4);
}

static void test_mov(void)
{
    u64 sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += smc_target();
    uart_puts("mov: before: ");
    put_udec(smc_target());
    uart_puts(", 1000 calls sum ");
    put_udec(sum);
    uart_putc('\n');
    patch(smc_target, movz_w0(2));
    uart_puts("mov: after one patch: ");
    put_udec(smc_target());
    uart_putc('\n');
    sum = 0;
    for (u32 i = 0; i < 200; i++) {
        patch(smc_target, movz_w0(i));
        for (int j = 0; j < 3; j++)
            sum += smc_target();
    }
    uart_puts("mov: 200 patches x 3 calls, sum ");
    put_udec(sum);
    uart_puts(" (expected ");
    put_udec(3 * 199 * 200 / 2);
    uart_puts(")\n");
}

static void test_branch(void)
{
    u64 sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += smc_branch();
    uart_puts("branch: before ");
    put_udec(smc_branch());
    uart_puts(" (1000 calls sum ");
    put_udec(sum);
    uart_puts(")");
    u32 old = *(volatile u32 *)smc_branch;
    patch(smc_branch, branch((u64)smc_branch, (u64)smc_branch_to20));
    uart_puts(", after retarget ");
    put_udec(smc_branch());
    patch(smc_branch, old);
    uart_puts(", after restore ");
    put_udec(smc_branch());
    uart_putc('\n');
}

static void test_inline(void)
{
    uart_puts("same block: ");
    put_udec(smc_inline(movz_w0(42)));
    uart_puts(", then ");
    put_udec(smc_inline(movz_w0(43)));
    uart_puts(", then ");
    u64 sum = 0;
    for (u32 i = 0; i < 100; i++)
        sum += smc_inline(movz_w0(i));
    put_udec(sum);
    uart_puts(" (100 rewrites, expected 4950)\n");
}

static u32 jit_buf[64] __attribute__((aligned(64)));

static void test_generated(void)
{
    u64 (*fn)(void) = (u64 (*)(void))(u64)jit_buf;
    u64 sum = 0;
    for (u32 i = 0; i < 50; i++) {
        jit_buf[0] = movz_x0(i * 3);
        jit_buf[1] = ((u32 *)smc_template)[1];   /* RET */
        sync_icache((u64)jit_buf, (u64)jit_buf, 8);
        sum += fn();
        sum += fn();
    }
    uart_puts("generated: 50 versions x 2 calls, sum ");
    put_udec(sum);
    uart_puts(" (expected ");
    put_udec(2 * 3 * 49 * 50 / 2);
    uart_puts(")\n");
}

/* MMU on, 4K granule: the page holding jit_buf is also mapped executable at
 * VA_X and writable (never executable) at VA_W. */
#define VA_X    0x0000004000000000ul
#define VA_W    0x0000004000200000ul

static void test_alias(void)
{
    struct pt t;
    pt_pool_reset();
    pt_init(&t, 12, 39);
    pt_map(&t, 0x09000000ul, 0x09000000ul, 4096, PTE_DEVICE, 0);
    pt_map(&t, 0x40000000ul, 0x40000000ul, 512ul << 20, PTE_NORMAL | PTE_UXN, 0);
    u64 page = (u64)jit_buf & ~4095ul, off = (u64)jit_buf & 4095;
    pt_map(&t, VA_X, page, 4096, PTE_NORMAL | PTE_AP_EL1_RO | PTE_UXN, 3);
    pt_map(&t, VA_W, page, 4096, PTE_NORMAL | PTE_AP_EL1_RW | PTE_UXN | PTE_PXN, 3);
    mmu_on(t.root, 0, tcr_half(12, 39, 0) | TCR_EPD1 | TCR_IPS_40BIT);

    volatile u32 *w = (volatile u32 *)(VA_W + off);
    u64 (*fn)(void) = (u64 (*)(void))(VA_X + off);
    u64 sum = 0, first = 0, last = 0;
    for (u32 i = 0; i < 50; i++) {
        w[0] = movz_x0(1000 + i);
        w[1] = ((u32 *)smc_template)[1];
        sync_icache((u64)w, (u64)fn, 8);
        u64 a = fn(), b = fn();
        if (i == 0)
            first = a;
        last = b;
        sum += a + b;
    }
    mmu_off();
    uart_puts("alias: first ");
    put_udec(first);
    uart_puts(", last ");
    put_udec(last);
    uart_puts(", sum ");
    put_udec(sum);
    uart_puts(" (expected ");
    put_udec(2 * (50 * 1000 + 49 * 50 / 2));
    uart_puts(")\n");
}

/* ---- cross-CPU ---- */

static volatile u32 patched;
static volatile u32 go;

void secondary_main(u64 context)
{
    if (context != 1)
        return;
    install_vectors();
    while (!load_acquire32(&go))
        ;
    /* Let CPU 0 run the old code for a while. */
    for (int i = 0; i < 20000; i++)
        __asm__ volatile("isb");
    u64 at = (u64)smc_shared;
    *(volatile u32 *)at = branch(at, (u64)smc_shared_to2);
    sync_icache(at, at, 4);
    store_release32(&patched, 1);
}

static void test_cross_cpu(u32 ncpus)
{
    if (ncpus < 2) {
        uart_puts("cross-cpu: skipped (1 cpu)\n");
        return;
    }
    u32 v = smc_shared();
    uart_puts("cross-cpu: cpu 0 runs the old code: ");
    put_udec(v);
    uart_putc('\n');
    store_release32(&go, 1);
    /* Until the flag, either version may run (how many calls see which
     * depends on timing and is not printed). */
    u32 seen_other = 0;
    for (;;) {
        if (load_acquire32(&patched)) {
            isb();
            break;
        }
        u32 r = smc_shared();
        seen_other |= r != 1 && r != 2;
    }
    if (seen_other)
        uart_puts("cross-cpu: a value other than 1 or 2 was returned\n");
    uart_puts("cross-cpu: after cpu 1's flag and an isb: ");
    put_udec(smc_shared());
    uart_putc('\n');
}

int main(void)
{
    install_vectors();
    uart_puts("smc: start\n");
    u32 ncpus = 1;
    for (u64 id = 1; id < MAX_CPUS; id++) {
        if (psci_cpu_on(id, secondary_entry, id) != PSCI_SUCCESS)
            break;
        ncpus++;
    }
    test_mov();
    test_branch();
    test_inline();
    test_generated();
    test_alias();
    test_cross_cpu(ncpus);
    uart_puts("smc: done\n");
    return 0;
}
