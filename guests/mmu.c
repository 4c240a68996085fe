/*
 * Stage 1 translation at EL1&0, once per translation granule the CPU
 * implements (4 KiB, 16 KiB, 64 KiB; ID_AA64MMFR0_EL1 says which):
 * TTBR0 (39-bit VAs) and TTBR1 (48-bit VAs, 0xffff_...) tables with an
 * identity map of RAM and the UART, then with the MMU on:
 *   - aliases (pages, blocks, TTBR1) read the same physical memory;
 *   - permission faults: write to read-only, EL0 access to EL1-only, EL0
 *     write to EL0-read-only, execute never (PXN/UXN, implicit PXN of EL0-
 *     writable pages; not SCTLR_EL1.WXN, as the code runs from a writable
 *     identity map);
 *   - access-flag faults, fixed by the handler (AF set, TLBI) and retried;
 *   - translation faults at every level, and outside both VA ranges;
 *   - AT S1E1R/S1E1W/S1E0R/S1E0W and PAR_EL1;
 *   - TLBI by VA (several forms) and by ASID: after a changed descriptor,
 *     TLBI, DSB and ISB, the new mapping is used (only what the architecture
 *     guarantees is printed);
 *   - ASID-tagged TLB entries: two ASIDs with their own tables switched back
 *     and forth without TLBI each see their own page; a TLBI by VA naming
 *     another ASID still invalidates a global entry; a TLBI by VA of a page
 *     inside a block invalidates what was cached from the whole block;
 *   - DC ZVA (DCZID_EL0 block size, zeroed bytes).
 */
#include "mmu.h"

#define KB 1024ul
#define MB (1024ul * KB)
#define GB (1024ul * MB)

#define RAM_BASE    0x40000000ul
#define RAM_SIZE    (512 * MB)
#define UART_PA     0x09000000ul

/* Physical test pages, 64 KiB each (the largest granule). */
#define PG          0x10000ul
#define PA_PAGE(k)  (0x48000000ul + (u64)(k) * PG)

/* Virtual addresses; the same for every granule. */
#define VA_BASE     0x0000004000000000ul
#define VA(k)       (VA_BASE + (u64)(k) * PG)
#define VA_RW       VA(0)   /* -> P0, EL1 read/write */
#define VA_RO       VA(1)   /* -> P0, EL1 read-only */
#define VA_USER_RO  VA(2)   /* -> P1, EL0+EL1 read-only */
#define VA_USER_RW  VA(3)   /* -> P1, EL0+EL1 read/write */
#define VA_NOAF     VA(4)   /* -> P2, AF = 0 (fixed by the handler) */
#define VA_SWAP     VA(5)   /* -> P3 / P4 (TLBI by VA) */
#define VA_XN       VA(6)   /* -> P5 (code), PXN and UXN */
#define VA_X        VA(7)   /* -> P5, EL1-executable, read-only */
#define VA_UCODE    VA(8)   /* -> P6 (user code), EL0-executable only */
#define VA_RWX      VA(9)   /* -> P5, EL1 read/write, PXN = 0 */
#define VA_NOAF2    VA(10)  /* -> P7, AF = 0 (AT only) */
#define VA_NG       VA(11)  /* -> P3 / P4, non-global (TLBI by ASID) */
#define VA_HOLE3    VA(15)  /* unmapped, under the same level-3 table */
#define VA_BLK      0x0000006000000000ul   /* RAM_BASE, level-2 block, read-only */
#define VA_BLK1     0x0000007000000000ul   /* RAM_BASE, level-1 block (4K), read-only */
#define VA_BLKW     0x0000002000000000ul   /* RAM_BASE, level-2 block, read/write */
#define VA_HI       0xffffc00000000000ul   /* TTBR1 -> P0 */
#define VA_OUTSIDE  0x0000800000000000ul   /* in neither TTBR's range */

#define VA_BITS0    39
#define VA_BITS1    48

extern char user_code_start[], user_code_end[], user_load[], user_store[], user_exec[];
extern char xcode_start[], xcode_end[];

static struct pt pt0, pt1;
static struct pt pt0b;      /* a second TTBR0 table: VA_NG -> P4 */
static volatile int fix_af;
static u64 blk_word = 0x0b10c0b10c0b10c0ul;
/* Written only through VA_BLKW: its TLB entry is not evicted by the identity map's. */
static u64 blk_page[512] __attribute__((aligned(4096)));


void exception_handler(struct exc_frame *f, u64 vector)
{
    if (vector == VEC_LOWER_A64 + VEC_SYNC) {
        trap_note(f, vector);
        el0_exit(f, ESR_EC(trap_last.esr) == EC_SVC64 ? f->x[0] : ~0ul);
        return;
    }
    if (vector == VEC_CUR_SPX + VEC_SYNC && fix_af) {
        u64 esr = read_sysreg(esr_el1);
        if (ESR_EC(esr) == EC_DABT_CUR && (ESR_FSC(esr) & 0x3c) == 0x08) {
            trap_note(f, vector);
            u64 far = read_sysreg(far_el1);
            u64 *d = pt_leaf(far >> 63 ? &pt1 : &pt0, far, 0);
            if (!d)
                fatal_exception("access flag fault without a descriptor", f, vector);
            *d |= PTE_AF;
            tlb_flush_va(far);
            return;                     /* retry the access */
        }
    }
    if (trap_fixup(f, vector))
        return;
    fatal_exception("unexpected exception", f, vector);
}

static void put_fsc(u64 fsc)
{
    u64 level = fsc & 3;
    const char *name;
    switch (fsc & 0x3c) {
    case 0x00: name = "address size"; break;
    case 0x04: name = "translation"; break;
    case 0x08: name = "access flag"; break;
    case 0x0c: name = "permission"; break;
    default:
        if (fsc == 0x10)
            uart_puts("external abort");
        else if (fsc == 0x21)
            uart_puts("alignment");
        else
            uart_puts("other");
        return;
    }
    uart_puts(name);
    uart_puts(" L");
    put_udec(level);
}

/* "<what>: fault esr=... (kind) far=..." or "<what>: ok value=..." */
static void show(const char *what, u64 value, int print_value)
{
    uart_puts("  ");
    uart_puts(what);
    uart_puts(": ");
    if (trap_last.count) {
        uart_puts("fault ");
        put_esr(trap_last.esr);
        uart_puts(" (");
        put_fsc(ESR_FSC(trap_last.esr));
        if (trap_last.esr & ESR_WNR)
            uart_puts(", write");
        uart_puts(") far=");
        put_hex(trap_last.far);
        if (trap_last.count != 1) {
            uart_puts(" count=");
            put_udec(trap_last.count);
        }
    } else {
        uart_puts("ok");
        if (print_value) {
            uart_puts(" value=");
            put_hex(value);
        }
    }
    uart_putc('\n');
}

static void try_read(const char *what, u64 va)
{
    trap_reset();
    u64 v = probe_read64(va);
    show(what, v, 1);
}

static void try_write(const char *what, u64 va, u64 value)
{
    trap_reset();
    probe_write64(va, value);
    show(what, 0, 0);
}

static void try_exec(const char *what, u64 va)
{
    trap_reset();
    u64 v = probe_exec(va);
    show(what, v, 1);
}

static void try_el0(const char *what, void *fn, u64 a0)
{
    trap_reset();
    u64 entry = VA_UCODE + ((u64)fn - (u64)user_code_start);
    /* run_el0 passes one argument; user_store takes its value from x1,
     * which run_el0 clears, so it stores 0. */
    u64 v = run_el0((void (*)(void))entry, 0, a0);
    uart_puts("  ");
    uart_puts(what);
    uart_puts(": ");
    if (ESR_EC(trap_last.esr) == EC_SVC64) {
        uart_puts("ok value=");
        put_hex(v);
    } else {
        uart_puts("fault ");
        put_esr(trap_last.esr);
        uart_puts(" (");
        put_fsc(ESR_FSC(trap_last.esr));
        if (ESR_EC(trap_last.esr) == EC_DABT_LOW && (trap_last.esr & ESR_WNR))
            uart_puts(", write");
        uart_puts(") far=");
        put_hex(trap_last.far);
    }
    uart_putc('\n');
}

/* op is "s1e1r", "s1e1w", "s1e0r" or "s1e0w" */
static u64 at_par(const char *op, u64 va)
{
    int el0 = op[3] == '0', write = op[4] == 'w';
    if (!el0 && !write)
        __asm__ volatile("at s1e1r, %0" : : "r"(va) : "memory");
    else if (!el0)
        __asm__ volatile("at s1e1w, %0" : : "r"(va) : "memory");
    else if (!write)
        __asm__ volatile("at s1e0r, %0" : : "r"(va) : "memory");
    else
        __asm__ volatile("at s1e0w, %0" : : "r"(va) : "memory");
    isb();
    return read_sysreg(par_el1);
}

static void try_at(const char *op, const char *what, u64 va)
{
    u64 par = at_par(op, va);
    uart_puts("  at ");
    uart_puts(op);
    uart_putc(' ');
    uart_puts(what);
    /* NS (bit 9) is UNKNOWN for a non-secure translation regime: not printed. */
    uart_puts(": par&~ns=");
    put_hex(par & ~(1ul << 9));
    if (par & 1) {
        uart_puts(" (");
        put_fsc((par >> 1) & 0x3f);
        uart_putc(')');
    }
    uart_putc('\n');
}

static void set_leaf(u64 va, u64 pa)
{
    u64 *d = pt_leaf(va >> 63 ? &pt1 : &pt0, va, 0);
    *d = (*d & ~0x0000ffffffff0000ul) | pa;
}

static const char *granule_name(u32 gshift)
{
    return gshift == 12 ? "4K" : gshift == 14 ? "16K" : "64K";
}

static void build_tables(u32 gshift)
{
    pt_pool_reset();
    pt_init(&pt0, gshift, VA_BITS0);
    pt_init(&pt1, gshift, VA_BITS1);
    u64 page = 1ul << gshift;

    /* Identity map: the UART (device), all of RAM (EL1 only, not executable at EL0). */
    pt_map(&pt0, UART_PA, UART_PA, page, PTE_DEVICE, 0);
    pt_map(&pt0, RAM_BASE, RAM_BASE, RAM_SIZE, PTE_NORMAL | PTE_UXN, 0);

    /* Test pages (one granule each, at 64 KiB strides). */
    const u64 nx = PTE_UXN | PTE_PXN;
    pt_map(&pt0, VA_RW, PA_PAGE(0), page, PTE_NORMAL | PTE_AP_EL1_RW | nx, 3);
    pt_map(&pt0, VA_RO, PA_PAGE(0), page, PTE_NORMAL | PTE_AP_EL1_RO | nx, 3);
    pt_map(&pt0, VA_USER_RO, PA_PAGE(1), page, PTE_NORMAL | PTE_AP_RO | nx, 3);
    pt_map(&pt0, VA_USER_RW, PA_PAGE(1), page, PTE_NORMAL | PTE_AP_RW | nx, 3);
    pt_map(&pt0, VA_NOAF, PA_PAGE(2), page, (PTE_NORMAL & ~PTE_AF) | nx, 3);
    pt_map(&pt0, VA_SWAP, PA_PAGE(3), page, PTE_NORMAL | nx, 3);
    pt_map(&pt0, VA_XN, PA_PAGE(5), page, PTE_NORMAL | PTE_AP_EL1_RO | nx, 3);
    pt_map(&pt0, VA_X, PA_PAGE(5), page, PTE_NORMAL | PTE_AP_EL1_RO | PTE_UXN, 3);
    pt_map(&pt0, VA_UCODE, PA_PAGE(6), page, PTE_NORMAL | PTE_AP_RO | PTE_PXN, 3);
    pt_map(&pt0, VA_RWX, PA_PAGE(5), page, PTE_NORMAL | PTE_AP_EL1_RW | PTE_UXN, 3);
    pt_map(&pt0, VA_NOAF2, PA_PAGE(7), page, (PTE_NORMAL & ~PTE_AF) | nx, 3);
    pt_map(&pt0, VA_NG, PA_PAGE(3), page, PTE_NORMAL | PTE_NG | nx, 3);

    /* Read-only block aliases of the start of RAM. */
    u64 l2_block = 1ul << pt_level_shift(&pt0, 2);
    pt_map(&pt0, VA_BLK, RAM_BASE, l2_block, PTE_NORMAL | PTE_AP_EL1_RO | nx, 2);
    pt_map(&pt0, VA_BLKW, RAM_BASE, l2_block, PTE_NORMAL | nx, 2);
    if (gshift == 12)
        pt_map(&pt0, VA_BLK1, RAM_BASE, GB, PTE_NORMAL | PTE_AP_EL1_RO | nx, 1);

    /* TTBR1: one page. */
    pt_map(&pt1, VA_HI, PA_PAGE(0), page, PTE_NORMAL | PTE_AP_EL1_RW | nx, 3);

    /* Another process's TTBR0 table: the same identity map, VA_NG -> P4. */
    pt_init(&pt0b, gshift, VA_BITS0);
    pt_map(&pt0b, UART_PA, UART_PA, page, PTE_DEVICE, 0);
    pt_map(&pt0b, RAM_BASE, RAM_BASE, RAM_SIZE, PTE_NORMAL | PTE_UXN, 0);
    pt_map(&pt0b, VA_NG, PA_PAGE(4), page, PTE_NORMAL | PTE_NG | nx, 3);
}

static void fill_pages(void)
{
    for (int k = 0; k < 8; k++) {
        u64 *p = (u64 *)PA_PAGE(k);
        for (int i = 0; i < 64; i++)
            p[i] = 0xa000000000000000ul | ((u64)k << 32) | (u64)i;
    }
    /* Code pages: the execute test and the EL0 routines. */
    memcpy((void *)PA_PAGE(5), xcode_start, (usize)(xcode_end - xcode_start));
    memcpy((void *)PA_PAGE(6), user_code_start, (usize)(user_code_end - user_code_start));
    for (u64 a = PA_PAGE(5); a < PA_PAGE(7); a += 64)
        __asm__ volatile("dc cvau, %0" : : "r"(a) : "memory");
    dsb(ish);
    __asm__ volatile("ic iallu" : : : "memory");
    dsb(ish);
    isb();
}

static void faults_at_each_level(const char *which, const struct pt *t, u64 mapped, u64 hole3)
{
    for (u32 level = t->start_level; level <= 3; level++) {
        u64 va = level == 3 ? hole3 : mapped ^ (1ul << pt_level_shift(t, level));
        char what[40] = "read unmapped (";
        usize n = 15;
        for (const char *s = which; *s; s++)
            what[n++] = *s;
        what[n++] = ' ';
        what[n++] = 'L';
        what[n++] = (char)('0' + level);
        what[n++] = ')';
        what[n] = 0;
        try_read(what, va);
    }
}

static void tlbi_tests(void)
{
    static const char *const ops[] = {
        "tlbi vae1", "tlbi vale1", "tlbi vaae1", "tlbi vaale1",
        "tlbi vae1is", "tlbi vaae1is", "tlbi vmalle1", "tlbi vmalle1is",
    };
    u64 v = probe_read64(VA_SWAP);
    uart_puts("  read swap page: ");
    put_hex(v);
    uart_putc('\n');
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        u64 to = PA_PAGE((i & 1) ? 3 : 4);
        set_leaf(VA_SWAP, to);
        dsb(ishst);
        u64 arg = (VA_SWAP >> 12) & 0xffffffffffful;
        switch (i) {
        case 0: __asm__ volatile("tlbi vae1, %0" : : "r"(arg) : "memory"); break;
        case 1: __asm__ volatile("tlbi vale1, %0" : : "r"(arg) : "memory"); break;
        case 2: __asm__ volatile("tlbi vaae1, %0" : : "r"(arg) : "memory"); break;
        case 3: __asm__ volatile("tlbi vaale1, %0" : : "r"(arg) : "memory"); break;
        case 4: __asm__ volatile("tlbi vae1is, %0" : : "r"(arg) : "memory"); break;
        case 5: __asm__ volatile("tlbi vaae1is, %0" : : "r"(arg) : "memory"); break;
        case 6: __asm__ volatile("tlbi vmalle1" : : : "memory"); break;
        default: __asm__ volatile("tlbi vmalle1is" : : : "memory"); break;
        }
        dsb(ish);
        isb();
        v = probe_read64(VA_SWAP);
        uart_puts("  remap to P");
        put_udec((to - PA_PAGE(0)) / PG);
        uart_puts(", ");
        uart_puts(ops[i]);
        uart_puts(": read ");
        put_hex(v);
        uart_putc('\n');
    }
    set_leaf(VA_SWAP, PA_PAGE(3));
    tlb_flush_all();
}

static void asid_tests(void)
{
    u64 tcr = read_sysreg(tcr_el1);
    write_sysreg(tcr_el1, tcr | TCR_AS16);
    isb();
    tlb_flush_all();
    const u64 asid1 = 1ul << 48, asid2 = 2ul << 48;

    write_sysreg(ttbr0_el1, pt0.root | asid1);
    isb();
    u64 v = probe_read64(VA_NG);
    uart_puts("  asid 1, nG page: ");
    put_hex(v);
    uart_putc('\n');

    /* New descriptor; ASID 2 has no cached entry for it. */
    set_leaf(VA_NG, PA_PAGE(4));
    dsb(ish);
    write_sysreg(ttbr0_el1, pt0.root | asid2);
    isb();
    v = probe_read64(VA_NG);
    uart_puts("  remap to P4, switch to asid 2 (no tlbi): ");
    put_hex(v);
    uart_putc('\n');

    /* Back to ASID 1 only after invalidating it. */
    __asm__ volatile("tlbi aside1, %0" : : "r"(asid1) : "memory");
    dsb(ish);
    write_sysreg(ttbr0_el1, pt0.root | asid1);
    isb();
    v = probe_read64(VA_NG);
    uart_puts("  tlbi aside1 1, switch to asid 1: ");
    put_hex(v);
    uart_putc('\n');

    set_leaf(VA_NG, PA_PAGE(3));
    dsb(ishst);
    __asm__ volatile("tlbi aside1is, %0" : : "r"(asid1) : "memory");
    dsb(ish);
    isb();
    v = probe_read64(VA_NG);
    uart_puts("  remap to P3, tlbi aside1is 1: ");
    put_hex(v);
    uart_putc('\n');

    set_leaf(VA_NG, PA_PAGE(4));
    dsb(ishst);
    __asm__ volatile("tlbi vae1, %0" : : "r"(asid1 | ((VA_NG >> 12) & 0xffffffffffful)) : "memory");
    dsb(ish);
    isb();
    v = probe_read64(VA_NG);
    uart_puts("  remap to P4, tlbi vae1 (asid 1, va): ");
    put_hex(v);
    uart_putc('\n');

    set_leaf(VA_NG, PA_PAGE(3));
    write_sysreg(ttbr0_el1, pt0.root);
    write_sysreg(tcr_el1, tcr);
    isb();
    tlb_flush_all();
}

/*
 * Context switches without TLB maintenance, as an OS with ASIDs does them, and
 * what a TLBI by VA must still reach.
 */
static void asid_switch_tests(u32 gshift)
{
    u64 tcr = read_sysreg(tcr_el1);
    write_sysreg(tcr_el1, tcr | TCR_AS16);
    isb();
    tlb_flush_all();
    const u64 asid1 = 1ul << 48, asid2 = 2ul << 48;

    /* Each ASID has its own table mapping VA_NG (nG) to its own page. */
    for (int i = 0; i < 3; i++) {
        write_sysreg(ttbr0_el1, pt0.root | asid1);
        isb();
        u64 v1 = probe_read64(VA_NG);
        write_sysreg(ttbr0_el1, pt0b.root | asid2);
        isb();
        u64 v2 = probe_read64(VA_NG);
        uart_puts("  switch asid 1 / asid 2 (own tables, no tlbi): ");
        put_hex(v1);
        uart_puts(" / ");
        put_hex(v2);
        uart_putc('\n');
    }

    /* A global entry cached under ASID 1 goes with a TLBI VAE1 naming ASID 2. */
    write_sysreg(ttbr0_el1, pt0.root | asid1);
    isb();
    u64 v = probe_read64(VA_SWAP);
    set_leaf(VA_SWAP, PA_PAGE(4));
    dsb(ishst);
    __asm__ volatile("tlbi vae1is, %0" : : "r"(asid2 | ((VA_SWAP >> 12) & 0xffffffffffful)) : "memory");
    dsb(ish);
    isb();
    uart_puts("  global page read as asid 1: ");
    put_hex(v);
    uart_puts(", remap to P4, tlbi vae1is (asid 2, va): ");
    put_hex(probe_read64(VA_SWAP));
    uart_putc('\n');
    /* Other pages are still mapped (and the same). */
    try_read("read P0 after that tlbi", VA_RW);
    set_leaf(VA_SWAP, PA_PAGE(3));
    tlb_flush_va(VA_SWAP);

    /* A TLBI by VA of one page of a block drops what was cached from all of it. */
    u64 blk = 1ul << pt_level_shift(&pt0, 2);
    u64 word = VA_BLKW + ((u64)&blk_page[8] - RAM_BASE);
    try_write("write via rw level-2 block", word, 1);
    u64 *d = pt_leaf(&pt0, VA_BLKW, 0);
    *d |= PTE_AP_EL1_RO;
    dsb(ishst);
    u64 other = VA_BLKW + blk - (1ul << gshift);
    __asm__ volatile("tlbi vaae1, %0" : : "r"((other >> 12) & 0xffffffffffful) : "memory");
    dsb(ish);
    isb();
    try_write("block made ro, tlbi vaae1 of its last page, write again", word, 2);
    *d &= ~PTE_AP_EL1_RO;
    tlb_flush_va(other);

    write_sysreg(ttbr0_el1, pt0.root);
    write_sysreg(tcr_el1, tcr);
    isb();
    tlb_flush_all();
}

static void dc_zva_test(void)
{
    u64 dczid = read_sysreg(dczid_el0);
    uart_puts("  dczid_el0: ");
    put_hexn(dczid, 2);
    uart_puts(" (block ");
    put_udec(4ul << (dczid & 0xf));
    uart_puts(" bytes");
    uart_puts(dczid & 0x10 ? ", prohibited)\n" : ")\n");
    if (dczid & 0x10)
        return;
    volatile u64 *p = (volatile u64 *)VA_RW;
    for (int i = 0; i < 64; i++)
        p[i] = ~0ul;
    __asm__ volatile("dc zva, %0" : : "r"(VA_RW + 0x88) : "memory");
    dsb(ish);
    uart_puts("  dc zva at +0x88, words: ");
    for (int i = 0; i < 64; i++)
        uart_putc(p[i] == 0 ? '0' : p[i] == ~0ul ? 'f' : '?');
    uart_putc('\n');
}

static void run_granule(u32 gshift)
{
    uart_puts("granule ");
    uart_puts(granule_name(gshift));
    uart_putc('\n');
    fill_pages();
    build_tables(gshift);
    uart_puts("  ttbr0: 39-bit, start level ");
    put_udec(pt0.start_level);
    uart_puts("; ttbr1: 48-bit, start level ");
    put_udec(pt1.start_level);
    uart_putc('\n');

    u64 tcr = tcr_half(gshift, VA_BITS0, 0) | tcr_half(gshift, VA_BITS1, 1) | TCR_IPS_40BIT;
    mmu_on(pt0.root, pt1.root, tcr);
    uart_puts("  mmu on, sctlr_el1.M=");
    put_udec(read_sysreg(sctlr_el1) & 1);
    uart_putc('\n');

    /* Aliases */
    u64 marker = 0x5eed000000000000ul | gshift;
    *(volatile u64 *)VA_RW = marker;
    dsb(sy);
    try_read("read P0 via ro alias", VA_RO);
    try_read("read P0 via ttbr1", VA_HI);
    try_read("read P0 via identity", PA_PAGE(0));
    try_read("read blk_word via level-2 block", VA_BLK + ((u64)&blk_word - RAM_BASE));
    if (gshift == 12)
        try_read("read blk_word via level-1 block", VA_BLK1 + ((u64)&blk_word - RAM_BASE));
    try_write("write P1 via EL0 rw alias", VA_USER_RW + 8, 0x1234);
    try_read("read P1 via EL0 ro alias", VA_USER_RO + 8);

    /* Permission faults at EL1 */
    try_write("write ro page", VA_RO + 0x10, 1);
    try_write("write ro level-2 block", VA_BLK + 0x20, 1);
    if (gshift == 12)
        try_write("write ro level-1 block", VA_BLK1 + 0x20, 1);
    try_write("write EL0-ro page", VA_USER_RO, 1);
    try_exec("exec P5 via pxn page", VA_XN);
    try_exec("exec P5 via executable page", VA_X);
    try_exec("exec P5 via EL0-writable page", VA_USER_RW);
    try_exec("exec P5 via EL1-rw page", VA_RWX);

    /* EL0 */
    try_el0("el0 read EL0-ro page", user_load, VA_USER_RO + 8);
    try_el0("el0 read EL1-only page", user_load, VA_RW);
    try_el0("el0 read EL1-ro page", user_load, VA_RO);
    try_el0("el0 write EL0-ro page", user_store, VA_USER_RO);
    try_el0("el0 write EL0-rw page", user_store, VA_USER_RW + 16);
    try_el0("el0 exec uxn page", user_exec, VA_X);
    try_el0("el0 read unmapped", user_load, VA_HOLE3);
    try_el0("el0 read ttbr1 page", user_load, VA_HI);

    /* Access flag: the handler sets AF and the access is retried. */
    fix_af = 1;
    try_read("read AF=0 page (handler sets AF)", VA_NOAF + 0x18);
    try_read("read it again", VA_NOAF + 0x18);
    fix_af = 0;

    /* Translation faults */
    faults_at_each_level("ttbr0", &pt0, VA_RW, VA_HOLE3);
    faults_at_each_level("ttbr1", &pt1, VA_HI, VA_HI + 15 * PG);
    try_read("read outside both ranges", VA_OUTSIDE);
    try_write("write unmapped", VA_HOLE3 + 0x40, 1);

    /* Address translation instructions */
    try_at("s1e1r", "rw page", VA_RW + 0x123);
    try_at("s1e1w", "rw page", VA_RW);
    try_at("s1e1r", "ro page", VA_RO);
    try_at("s1e1w", "ro page", VA_RO);
    try_at("s1e0r", "EL1-only page", VA_RW);
    try_at("s1e0r", "EL0-ro page", VA_USER_RO);
    try_at("s1e0w", "EL0-ro page", VA_USER_RO);
    try_at("s1e0w", "EL0-rw page", VA_USER_RW);
    try_at("s1e1r", "AF=0 page", VA_NOAF2);
    try_at("s1e1r", "unmapped", VA_HOLE3);
    try_at("s1e1r", "ttbr1 page", VA_HI + 0x10);
    try_at("s1e1r", "level-2 block", VA_BLK + 0x12345);

    /* TLB maintenance */
    tlbi_tests();
    asid_tests();
    asid_switch_tests(gshift);
    dc_zva_test();

    mmu_off();
    uart_puts("  mmu off, sctlr_el1.M=");
    put_udec(read_sysreg(sctlr_el1) & 1);
    uart_putc('\n');
}

int main(void)
{
    install_vectors();
    uart_puts("mmu: start\n");
    u64 mmfr0 = read_sysreg(id_aa64mmfr0_el1);
    int has4 = ((mmfr0 >> 28) & 0xf) != 0xf;    /* TGran4: 0xf = not implemented */
    int has64 = ((mmfr0 >> 24) & 0xf) != 0xf;   /* TGran64: 0xf = not implemented */
    int has16 = ((mmfr0 >> 20) & 0xf) != 0;     /* TGran16: 0 = not implemented */
    uart_puts("granules: 4K ");
    uart_puts(has4 ? "yes" : "no");
    uart_puts(", 16K ");
    uart_puts(has16 ? "yes" : "no");
    uart_puts(", 64K ");
    uart_puts(has64 ? "yes" : "no");
    uart_putc('\n');
    if (has4)
        run_granule(12);
    if (has16)
        run_granule(14);
    if (has64)
        run_granule(16);
    uart_puts("mmu: done\n");
    return 0;
}
