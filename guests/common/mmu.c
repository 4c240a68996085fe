/* Stage 1 page tables for any granule (see mmu.h). */
#include "mmu.h"

static u64 pool_next = PT_POOL_BASE;

void pt_pool_reset(void)
{
    pool_next = PT_POOL_BASE;
}

u64 pt_alloc(u32 gshift)
{
    u64 size = 1ul << gshift;
    u64 t = (pool_next + size - 1) & ~(size - 1);
    if (t + size > PT_POOL_BASE + PT_POOL_SIZE) {
        uart_puts("pt_alloc: page-table pool exhausted\n");
        psci_system_off();
    }
    pool_next = t + size;
    u64 *p = (u64 *)t;
    for (u64 i = 0; i < size / 8; i++)
        p[i] = 0;
    return t;
}

u32 pt_level_shift(const struct pt *t, u32 level)
{
    return t->gshift + (3 - level) * (t->gshift - 3);
}

void pt_init(struct pt *t, u32 gshift, u32 va_bits)
{
    t->gshift = gshift;
    t->va_bits = va_bits;
    u32 level = 3;
    while (level > 0 && pt_level_shift(t, level - 1) < va_bits)
        level--;
    t->start_level = level;
    t->root = pt_alloc(gshift);
}

int pt_block_ok(const struct pt *t, u32 level)
{
    if (level == 2)
        return 1;
    return level == 1 && t->gshift == 12;
}

static u64 *pt_slot(const struct pt *t, u64 table, u32 level, u64 va)
{
    u64 va_mask = (1ul << t->va_bits) - 1;
    u64 idx = ((va & va_mask) >> pt_level_shift(t, level)) & ((1ul << (t->gshift - 3)) - 1);
    return (u64 *)table + idx;
}

/* Output address of a table or leaf descriptor (bits 47:12; low bits of the
 * granule are zero in the tables this code writes). */
static u64 desc_addr(u64 d)
{
    return d & 0x0000fffffffff000ul;
}

static u64 map_one(struct pt *t, u64 va, u64 pa, u64 size, u64 attrs, u32 min_leaf)
{
    u64 table = t->root;
    for (u32 level = t->start_level;; level++) {
        u64 *slot = pt_slot(t, table, level, va);
        u64 bs = 1ul << pt_level_shift(t, level);
        if (level == 3) {
            *slot = pa | attrs | PTE_VALID | PTE_TABLE;
            return bs;
        }
        if (level >= min_leaf && pt_block_ok(t, level) && !(va & (bs - 1)) &&
            !(pa & (bs - 1)) && size >= bs) {
            *slot = pa | attrs | PTE_VALID;
            return bs;
        }
        if (!(*slot & PTE_VALID)) {
            *slot = pt_alloc(t->gshift) | PTE_VALID | PTE_TABLE;
        } else if (!(*slot & PTE_TABLE)) {
            uart_puts("pt_map: a block is in the way\n");
            psci_system_off();
        }
        table = desc_addr(*slot);
    }
}

void pt_map(struct pt *t, u64 va, u64 pa, u64 size, u64 attrs, u32 min_leaf_level)
{
    while (size) {
        u64 done = map_one(t, va, pa, size, attrs, min_leaf_level);
        va += done;
        pa += done;
        size = size > done ? size - done : 0;
    }
}

u64 *pt_leaf(const struct pt *t, u64 va, u32 *level_out)
{
    u64 table = t->root;
    for (u32 level = t->start_level; level <= 3; level++) {
        u64 *slot = pt_slot(t, table, level, va);
        if (!(*slot & PTE_VALID))
            return 0;
        if (level == 3 || !(*slot & PTE_TABLE)) {
            if (level_out)
                *level_out = level;
            return slot;
        }
        table = desc_addr(*slot);
    }
    return 0;
}

u64 tcr_half(u32 gshift, u32 va_bits, int ttbr1)
{
    u64 v = (u64)(64 - va_bits)     /* TxSZ */
            | (1ul << 8)            /* IRGN: write-back write-allocate */
            | (1ul << 10)           /* ORGN: write-back write-allocate */
            | (3ul << 12);          /* SH: inner shareable */
    u64 tg;
    if (!ttbr1)
        tg = gshift == 12 ? 0 : gshift == 16 ? 1 : 2;
    else
        tg = gshift == 12 ? 2 : gshift == 16 ? 3 : 1;
    v |= tg << 14;
    return ttbr1 ? v << 16 : v;
}

void mmu_on(u64 ttbr0, u64 ttbr1, u64 tcr)
{
    dsb(sy);
    write_sysreg(mair_el1, MAIR_VALUE);
    write_sysreg(tcr_el1, tcr);
    write_sysreg(ttbr0_el1, ttbr0);
    write_sysreg(ttbr1_el1, ttbr1);
    isb();
    __asm__ volatile("tlbi vmalle1" : : : "memory");
    dsb(nsh);
    isb();
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | SCTLR_M | SCTLR_C | SCTLR_I);
    isb();
}

void mmu_off(void)
{
    write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~SCTLR_M);
    isb();
    __asm__ volatile("tlbi vmalle1" : : : "memory");
    dsb(nsh);
    isb();
}

void tlb_flush_va(u64 va)
{
    dsb(ishst);
    __asm__ volatile("tlbi vaae1is, %0" : : "r"((va >> 12) & 0xffffffffffful) : "memory");
    dsb(ish);
    isb();
}

void tlb_flush_all(void)
{
    dsb(ishst);
    __asm__ volatile("tlbi vmalle1is" : : : "memory");
    dsb(ish);
    isb();
}
