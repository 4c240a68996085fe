/*
 * System-level helpers for the bare-metal guests: system registers, barriers,
 * the exception frame built by vectors.S, ESR decoding, the GICv2 and the
 * generic timer of the virt board. Everything here is a macro or static
 * inline; the out-of-line parts live in vectors.S and trap.c.
 */
#ifndef GUEST_SYS_H
#define GUEST_SYS_H

#include "lib.h"

/* ---- system registers and barriers ---- */

#define read_sysreg(reg) ({                                                    \
    u64 __v;                                                                   \
    __asm__ volatile("mrs %0, " #reg : "=r"(__v) : : "memory");                \
    __v;                                                                       \
})
#define write_sysreg(reg, v) do {                                              \
    u64 __v = (u64)(v);                                                        \
    __asm__ volatile("msr " #reg ", %0" : : "r"(__v) : "memory");              \
} while (0)

#define isb()       __asm__ volatile("isb" : : : "memory")
#define dsb(opt)    __asm__ volatile("dsb " #opt : : : "memory")
#define dmb(opt)    __asm__ volatile("dmb " #opt : : : "memory")
#define wfi()       __asm__ volatile("wfi" : : : "memory")
#define wfe()       __asm__ volatile("wfe" : : : "memory")
#define sev()       __asm__ volatile("sev" : : : "memory")
#define irq_enable()  __asm__ volatile("msr daifclr, #2" : : : "memory")
#define irq_disable() __asm__ volatile("msr daifset, #2" : : : "memory")

static inline void mmio_w32(u64 addr, u32 v) { *(volatile u32 *)addr = v; }
static inline u32 mmio_r32(u64 addr) { return *(volatile u32 *)addr; }
static inline void mmio_w8(u64 addr, u8 v) { *(volatile u8 *)addr = v; }

/* Acquire/release accesses for flags shared between CPUs. */
static inline u32 load_acquire32(const volatile u32 *p)
{
    u32 v;
    __asm__ volatile("ldar %w0, [%1]" : "=r"(v) : "r"(p) : "memory");
    return v;
}
static inline void store_release32(volatile u32 *p, u32 v)
{
    __asm__ volatile("stlr %w0, [%1]" : : "r"(v), "r"(p) : "memory");
}
static inline u32 atomic_add32(volatile u32 *p, u32 n) /* returns the new value */
{
    u32 v, fail;
    __asm__ volatile("1: ldaxr %w0, [%2]\n\t"
                     "add %w0, %w0, %w3\n\t"
                     "stlxr %w1, %w0, [%2]\n\t"
                     "cbnz %w1, 1b"
                     : "=&r"(v), "=&r"(fail)
                     : "r"(p), "r"(n)
                     : "memory");
    return v;
}

/* SCTLR_EL1 bits */
#define SCTLR_M     (1ul << 0)
#define SCTLR_A     (1ul << 1)
#define SCTLR_C     (1ul << 2)
#define SCTLR_SA    (1ul << 3)
#define SCTLR_SA0   (1ul << 4)
#define SCTLR_UMA   (1ul << 9)
#define SCTLR_I     (1ul << 12)
#define SCTLR_DZE   (1ul << 14)
#define SCTLR_UCT   (1ul << 15)
#define SCTLR_NTWI  (1ul << 16)
#define SCTLR_NTWE  (1ul << 18)
#define SCTLR_WXN   (1ul << 19)
#define SCTLR_UCI   (1ul << 26)

/* PSTATE / SPSR */
#define SPSR_EL0T   0x0ul
#define SPSR_EL1T   0x4ul
#define SPSR_EL1H   0x5ul
#define SPSR_DAIF   (0xful << 6)
#define SPSR_IL     (1ul << 20)

/* ---- exceptions (see vectors.S) ---- */

/* Vector slot = 4 * source + kind. */
#define VEC_CUR_SP0     0   /* current EL, SP_EL0 */
#define VEC_CUR_SPX     4   /* current EL, SP_ELx */
#define VEC_LOWER_A64   8   /* lower EL, AArch64 */
#define VEC_LOWER_A32   12  /* lower EL, AArch32 */
#define VEC_SYNC        0
#define VEC_IRQ         1
#define VEC_FIQ         2
#define VEC_SERROR      3

/* Registers saved on exception entry; the handler may change any of them
 * (elr/spsr included) and they are restored by the ERET path. */
struct exc_frame {
    u64 x[31];
    u64 elr;
    u64 spsr;
    u64 sp_el0;     /* saved only, not restored */
};

/* Every guest linking vectors.S defines this. */
void exception_handler(struct exc_frame *f, u64 vector);

void install_vectors(void);         /* VBAR_EL1 = vectors; ISB */
extern char exception_vectors[];

/*
 * Runs fn at EL0 (AArch64, SP_EL0 = sp, x0 = arg, interrupts masked) and
 * returns when the exception handler calls el0_exit(). Single level of
 * nesting per CPU.
 */
u64 run_el0(void (*fn)(void), u64 sp, u64 arg);
/* The same with this SPSR (M must be EL0t; e.g. DAIF clear for interrupts). */
u64 run_el0_spsr(void (*fn)(void), u64 sp, u64 arg, u64 spsr);
/* From the exception handler: make the ERET go back to run_el0's caller at
 * EL1 with `value` as run_el0's result. */
void el0_exit(struct exc_frame *f, u64 value);

/* ESR_EL1 fields */
#define ESR_EC(esr)     (((esr) >> 26) & 0x3f)
#define ESR_IL          (1ul << 25)
#define ESR_ISS(esr)    ((esr) & 0x1ffffff)
#define ESR_FSC(esr)    ((esr) & 0x3f)
#define ESR_WNR         (1ul << 6)

#define EC_UNKNOWN      0x00
#define EC_WFX          0x01
#define EC_FP           0x07
#define EC_ILLEGAL      0x0e
#define EC_SVC64        0x15
#define EC_HVC64        0x16
#define EC_SMC64        0x17
#define EC_SYSREG       0x18
#define EC_IABT_LOW     0x20
#define EC_IABT_CUR     0x21
#define EC_PC_ALIGN     0x22
#define EC_DABT_LOW     0x24
#define EC_DABT_CUR     0x25
#define EC_SP_ALIGN     0x26
#define EC_BRK64        0x3c

/* ---- probes (vectors.S) and their fix-up (trap.c) ---- */

/* Each probe is one access that may fault. When it faults, trap_fixup()
 * (called by a guest's handler) resumes after it with the result ~0. */
u64 probe_read64(u64 addr);
u32 probe_read32(u64 addr);
u64 probe_write64(u64 addr, u64 value);    /* returns 0, or ~0 if it faulted */
u64 probe_exec(u64 addr);                  /* BLR addr; returns x0 of the callee */
u64 probe_ldxr(u64 addr);
u64 probe_ldar(u64 addr);
extern char probe_read64_insn[], probe_read32_insn[], probe_write64_insn[];
extern char probe_ldxr_insn[], probe_ldar_insn[];

/* The last exception the fix-up saw. */
struct trap_record {
    u64 count;
    u64 vector;
    u64 esr;
    u64 far;
    u64 elr;
    u64 spsr;
};
extern volatile struct trap_record trap_last;

/*
 * Records the exception in trap_last and, if it is a synchronous fault of a
 * probe (or of a probe_exec target), makes the probe return ~0. Returns 1 if
 * it handled the exception.
 */
int trap_fixup(struct exc_frame *f, u64 vector);
/* Only the recording part of trap_fixup(). */
void trap_note(struct exc_frame *f, u64 vector);
/* Clears trap_last.count (call before a probe). */
void trap_reset(void);

/* "esr=0x........ ec=0x.. iss=0x......" */
void put_esr(u64 esr);

/* Prints "<what>: vector N esr=... elr=... far=..." and powers the machine off: the
 * end of a test that met an exception it did not expect. */
void fatal_exception(const char *what, struct exc_frame *f, u64 vector)
    __attribute__((noreturn));

/* ---- GICv2 (virt: distributor 0x0800_0000, CPU interface 0x0801_0000) ---- */

#define GICD_BASE       0x08000000ul
#define GICC_BASE       0x08010000ul

#define GICD_CTLR       0x000
#define GICD_TYPER      0x004
#define GICD_ISENABLER  0x100
#define GICD_ICENABLER  0x180
#define GICD_ISPENDR    0x200
#define GICD_ICPENDR    0x280
#define GICD_ISACTIVER  0x300
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR  0x800
#define GICD_ICFGR      0xc00
#define GICD_SGIR       0xf00

#define GICC_CTLR       0x000
#define GICC_PMR        0x004
#define GICC_BPR        0x008
#define GICC_IAR        0x00c
#define GICC_EOIR       0x010
#define GICC_RPR        0x014
#define GICC_HPPIR      0x018

#define GIC_SPURIOUS    1023

static inline void gicd_w32(u32 off, u32 v) { mmio_w32(GICD_BASE + off, v); }
static inline u32 gicd_r32(u32 off) { return mmio_r32(GICD_BASE + off); }
static inline void gicc_w32(u32 off, u32 v) { mmio_w32(GICC_BASE + off, v); }
static inline u32 gicc_r32(u32 off) { return mmio_r32(GICC_BASE + off); }

/* Distributor on (done once, by CPU 0). */
static inline void gic_dist_enable(void)
{
    gicd_w32(GICD_CTLR, 1);
}

/* This CPU's interface on, all priorities let through. */
static inline void gic_cpu_enable(void)
{
    gicc_w32(GICC_PMR, 0xf0);
    gicc_w32(GICC_BPR, 0);
    gicc_w32(GICC_CTLR, 1);
}

/* Enables INTID `id` with priority `prio`; SPIs are routed to `cpu_mask`. */
static inline void gic_enable_irq(u32 id, u8 prio, u8 cpu_mask)
{
    mmio_w8(GICD_BASE + GICD_IPRIORITYR + id, prio);
    if (id >= 32)
        mmio_w8(GICD_BASE + GICD_ITARGETSR + id, cpu_mask);
    gicd_w32(GICD_ISENABLER + 4 * (id / 32), 1u << (id % 32));
}

static inline void gic_disable_irq(u32 id)
{
    gicd_w32(GICD_ICENABLER + 4 * (id / 32), 1u << (id % 32));
}

static inline u32 gic_ack(void) { return gicc_r32(GICC_IAR); }
static inline void gic_eoi(u32 iar) { gicc_w32(GICC_EOIR, iar); }

/* GICD_SGIR target list filters */
#define SGI_TO_LIST     0u
#define SGI_TO_OTHERS   1u
#define SGI_TO_SELF     2u

static inline void gic_send_sgi(u32 filter, u32 cpu_mask, u32 sgi)
{
    dsb(ish);
    gicd_w32(GICD_SGIR, (filter << 24) | ((cpu_mask & 0xff) << 16) | (sgi & 0xf));
}

/* ---- generic timer ---- */

#define TIMER_VIRT_INTID    27
#define TIMER_PHYS_INTID    30
#define CNT_CTL_ENABLE      (1u << 0)
#define CNT_CTL_IMASK       (1u << 1)
#define CNT_CTL_ISTATUS     (1u << 2)

#endif
