/*
 * Stage 1 page tables for the EL1&0 regime, for any granule (4, 16 or
 * 64 KiB) and input address size, built in a fixed physical pool. Used with
 * the MMU off (tables are written through their physical addresses) or on
 * with the pool identity-mapped.
 */
#ifndef GUEST_MMU_H
#define GUEST_MMU_H

#include "sys.h"

/* Where the tables live (physical; inside the virt board's RAM). */
#define PT_POOL_BASE    0x44000000ul
#define PT_POOL_SIZE    0x00800000ul

/* Descriptor bits */
#define PTE_VALID       (1ul << 0)
#define PTE_TABLE       (1ul << 1)      /* table (levels 0-2) or page (level 3) */
#define PTE_ATTR(i)     ((u64)(i) << 2) /* MAIR_EL1 index */
#define PTE_NS          (1ul << 5)
#define PTE_AP_EL1_RW   (0ul << 6)
#define PTE_AP_RW       (1ul << 6)      /* EL1 and EL0 read/write */
#define PTE_AP_EL1_RO   (2ul << 6)
#define PTE_AP_RO       (3ul << 6)      /* EL1 and EL0 read-only */
#define PTE_SH_INNER    (3ul << 8)
#define PTE_AF          (1ul << 10)
#define PTE_NG          (1ul << 11)
#define PTE_PXN         (1ul << 53)
#define PTE_UXN         (1ul << 54)

/* MAIR_EL1 used with these tables */
#define MAIR_NORMAL     0               /* 0xff: Normal, write-back */
#define MAIR_DEVICE     1               /* 0x00: Device-nGnRnE */
#define MAIR_NORMAL_NC  2               /* 0x44: Normal, non-cacheable */
#define MAIR_VALUE      0x00000000004400fful

/* Common leaf attributes */
#define PTE_NORMAL      (PTE_ATTR(MAIR_NORMAL) | PTE_SH_INNER | PTE_AF)
#define PTE_DEVICE      (PTE_ATTR(MAIR_DEVICE) | PTE_AF | PTE_PXN | PTE_UXN)

struct pt {
    u32 gshift;         /* 12, 14 or 16 */
    u32 va_bits;        /* 64 - TxSZ */
    u32 start_level;
    u64 root;           /* physical address of the top-level table */
};

/* Forgets every table allocated so far. */
void pt_pool_reset(void);
/* A zeroed table of one granule, aligned to the granule. */
u64 pt_alloc(u32 gshift);

void pt_init(struct pt *t, u32 gshift, u32 va_bits);
u32 pt_level_shift(const struct pt *t, u32 level);
/* Whether a block descriptor is allowed at `level`. */
int pt_block_ok(const struct pt *t, u32 level);
/*
 * Maps [va, va+size) to [pa, pa+size) with leaf attributes `attrs` (without
 * the valid/type bits), using the largest blocks allowed that fit, but no
 * leaf above `min_leaf_level` (pass 0 for "largest possible").
 */
void pt_map(struct pt *t, u64 va, u64 pa, u64 size, u64 attrs, u32 min_leaf_level);
/* The leaf descriptor mapping va and its level, or 0 if none. */
u64 *pt_leaf(const struct pt *t, u64 va, u32 *level);

/* TCR_EL1 fields for one half (shift 0: TTBR0, 16: TTBR1) */
u64 tcr_half(u32 gshift, u32 va_bits, int ttbr1);
#define TCR_IPS_40BIT   (2ul << 32)
#define TCR_AS16        (1ul << 36)
#define TCR_EPD0        (1ul << 7)
#define TCR_EPD1        (1ul << 23)

/* MMU on with these registers (TLBs invalidated first); SCTLR.{M,C,I} = 1. */
void mmu_on(u64 ttbr0, u64 ttbr1, u64 tcr);
/* MMU off (execution must be on an identity mapping); TLBs invalidated. */
void mmu_off(void);

/* TLB invalidation of one VA (all ASIDs) / everything, with the barriers. */
void tlb_flush_va(u64 va);
void tlb_flush_all(void);

#endif
