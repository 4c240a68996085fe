/*
 * EL0: drop to EL0 with ERET (SPSR_EL1 = EL0t), run a small user program
 * that talks to the EL1 "kernel" through SVC (a tiny syscall ABI: x8 = call
 * number, x0.. = arguments, x0 = result), and return to EL1 when it exits.
 * The user program tries instructions EL0 may not execute: reads and writes
 * of EL1 system registers (UNDEFINED, EC 0x00), and the accesses that
 * SCTLR_EL1 / CNTKCTL_EL1 trap to EL1 (EC 0x18, EC 0x01); the kernel prints
 * what was trapped. The program runs twice: once with every EL0 trap
 * enabled, once with the SCTLR_EL1 bits set that give EL0 access. Runs with
 * the MMU off (so there are no permission checks at EL0).
 */
#include "sys.h"

/* ---- syscall ABI ---- */
#define SYS_PUTS    1   /* x0 = string */
#define SYS_REPORT  2   /* x0 = name, x1 = address of the tried insn, x2 = value, x3 = print value */
#define SYS_EXIT    3   /* x0 = exit code */
#define SYS_CHECK   4   /* x0 = name, x1 = 0/1 */

static inline u64 syscall4(u64 nr, u64 a0, u64 a1, u64 a2, u64 a3)
{
    register u64 x0 __asm__("x0") = a0;
    register u64 x1 __asm__("x1") = a1;
    register u64 x2 __asm__("x2") = a2;
    register u64 x3 __asm__("x3") = a3;
    register u64 x8 __asm__("x8") = nr;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3), "r"(x8) : "memory");
    return x0;
}

static void user_puts(const char *s) { syscall4(SYS_PUTS, (u64)s, 0, 0, 0); }
static void user_check(const char *s, int ok) { syscall4(SYS_CHECK, (u64)s, (u64)ok, 0, 0); }
static void user_exit(u64 code) { syscall4(SYS_EXIT, code, 0, 0, 0); for (;;) ; }

/*
 * Runs `pre` then one instruction `insn` (asm text; %0 is x9, initialised
 * to 0xdead, so the Rt field of a trapped MRS/MSR is always 9) and reports
 * it. `show` = 1: the kernel prints the value left in x9.
 */
#define TRY2(name, show, pre, insn) do {                                       \
    register u64 v_ __asm__("x9") = 0xdead;                                    \
    u64 pc_;                                                                   \
    __asm__ volatile(pre "\n\tadr %1, 1f\n1:\t" insn                           \
                     : "+r"(v_), "=&r"(pc_) : : "x0", "x8", "memory", "cc");   \
    syscall4(SYS_REPORT, (u64)(name), pc_, v_, (show));                        \
} while (0)
#define TRY(name, show, insn) TRY2(name, show, "", insn)

static u64 user_sp_seen;

/* The user program; pass = 0 first (all traps on), then 1. */
static void __attribute__((noinline)) user_main(u64 pass)
{
    user_puts(pass == 0 ? "user: hello from EL0 (pass 0)\n" : "user: hello from EL0 (pass 1)\n");

    /* EL1-only registers and instructions: always UNDEFINED at EL0. */
    TRY("mrs sctlr_el1", 0, "mrs %0, sctlr_el1");
    TRY("msr sctlr_el1", 0, "msr sctlr_el1, %0");
    TRY("mrs vbar_el1", 0, "mrs %0, vbar_el1");
    TRY("mrs mpidr_el1", 0, "mrs %0, mpidr_el1");
    TRY("mrs currentel", 0, "mrs %0, currentel");
    TRY("mrs spsel", 0, "mrs %0, spsel");
    TRY("msr tpidrro_el0", 0, "msr tpidrro_el0, %0");
    TRY("eret", 0, "eret");
    TRY("hvc", 0, "hvc #0");
    TRY("smc", 0, "smc #0");
    TRY("tlbi vmalle1", 0, "tlbi vmalle1");
    TRY("at s1e0r", 0, "at s1e0r, %0");
    TRY("dc ivac", 0, "dc ivac, %0");

    /* Always allowed at EL0. */
    TRY("mrs tpidrro_el0", 1, "mrs %0, tpidrro_el0");
    TRY("mrs tpidr_el0", 1, "mrs %0, tpidr_el0");
    TRY2("msr tpidr_el0", 0, "mov %0, #0x77", "msr tpidr_el0, %0");
    TRY2("mrs nzcv", 1, "mov %0, #0x30000000\n\tmsr nzcv, %0", "mrs %0, nzcv");
    TRY("brk", 0, "brk #0x99");
    TRY2("svc #0x1234 (unknown call)", 1, "mov x8, #0x99", "svc #0x1234\n\tmov %0, x0");

    /* Controlled by SCTLR_EL1.UMA / UCT / UCI / nTWI and CNTKCTL_EL1. */
    TRY("mrs daif", pass, "mrs %0, daif");
    TRY("msr daifset", 0, "msr daifset, #2");
    TRY("msr daifclr", 0, "msr daifclr, #2");
    TRY("mrs ctr_el0", 0, "mrs %0, ctr_el0");
    TRY2("dc cvau", 0, "adr %0, .", "dc cvau, %0");
    TRY2("ic ivau", 0, "adr %0, .", "ic ivau, %0");
    TRY("mrs cntvct_el0", 0, "mrs %0, cntvct_el0");
    TRY("mrs cntfrq_el0", 0, "mrs %0, cntfrq_el0");
    if (pass == 0) {
        TRY("wfi", 0, "wfi");
        TRY2("dc zva", 0, "adr %0, .", "dc zva, %0");
    }

    /* Registers survive a system call. */
    u64 fail;
    __asm__ volatile("mov x19, #19\n\tmov x20, #20\n\tmov x21, #21\n\tmov x22, #22\n\t"
                     "mov x23, #23\n\tmov x24, #24\n\tmov x25, #25\n\tmov x26, #26\n\t"
                     "mov x27, #27\n\tmov x28, #28\n\tmov x9, #9\n\tmov x18, #18\n\t"
                     "mov x0, #0x9\n\tlsl x0, x0, #28\n\tmsr nzcv, x0\n\t"
                     "mov x8, #0x99\n\tsvc #0\n\t"
                     "mrs %0, nzcv\n\t"
                     "lsr %0, %0, #28\n\tcmp %0, #9\n\tcset %0, ne\n\t"
                     "cmp x19, #19\n\tcinc %0, %0, ne\n\t"
                     "cmp x20, #20\n\tcinc %0, %0, ne\n\t"
                     "cmp x21, #21\n\tcinc %0, %0, ne\n\t"
                     "cmp x22, #22\n\tcinc %0, %0, ne\n\t"
                     "cmp x23, #23\n\tcinc %0, %0, ne\n\t"
                     "cmp x24, #24\n\tcinc %0, %0, ne\n\t"
                     "cmp x25, #25\n\tcinc %0, %0, ne\n\t"
                     "cmp x26, #26\n\tcinc %0, %0, ne\n\t"
                     "cmp x27, #27\n\tcinc %0, %0, ne\n\t"
                     "cmp x28, #28\n\tcinc %0, %0, ne\n\t"
                     "cmp x9, #9\n\tcinc %0, %0, ne\n\t"
                     "cmp x18, #18\n\tcinc %0, %0, ne"
                     : "=&r"(fail)
                     :
                     : "x0", "x8", "x9", "x18", "x19", "x20", "x21", "x22", "x23",
                       "x24", "x25", "x26", "x27", "x28", "memory", "cc");
    user_check("registers and NZCV preserved across svc", fail == 0);

    /* The stack is SP_EL0. */
    u64 sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    user_sp_seen = sp;
    user_exit(0x100 + pass);
}

static void user_entry(void)
{
    u64 pass;
    __asm__ volatile("mov %0, x0" : "=r"(pass));
    user_main(pass);
}

/* ---- the kernel side ---- */

static u64 user_stack[1024] __attribute__((aligned(16)));

static u64 traps_since_report;
static u64 trap_esr, trap_elr;
static u64 svc_count;

void exception_handler(struct exc_frame *f, u64 vector)
{
    u64 esr = read_sysreg(esr_el1);
    if (vector != VEC_LOWER_A64 + VEC_SYNC) {
        fatal_exception("kernel: unexpected exception", f, vector);
    }
    if (ESR_EC(esr) != EC_SVC64) {
        /* A trapped instruction: remember it, skip it. */
        traps_since_report++;
        trap_esr = esr;
        trap_elr = f->elr;
        f->elr += 4;
        return;
    }
    svc_count++;
    u64 *x = f->x;
    switch (x[8]) {
    case SYS_PUTS:
        uart_puts((const char *)x[0]);
        x[0] = 0;
        break;
    case SYS_REPORT:
        uart_puts("  ");
        uart_puts((const char *)x[0]);
        uart_puts(": ");
        if (traps_since_report == 0) {
            uart_puts("ok");
            if (x[3]) {
                uart_puts(" value=");
                put_hex(x[2]);
            }
        } else {
            uart_puts("trapped ");
            /* A trapped MSR (immediate) (EC 0x18, Op0 = 0): QEMU 7.2 reports its Op1
             * and Op2 fields swapped, so they are left out of the comparison. */
            if (ESR_EC(trap_esr) == 0x18 && ((trap_esr >> 20) & 3) == 0) {
                trap_esr &= ~(0x3ful << 14);
                uart_puts("(op1/op2 masked) ");
            }
            put_esr(trap_esr);
            if (trap_elr != x[1])
                uart_puts(" (ELR is not the instruction)");
            if (traps_since_report != 1) {
                uart_puts(" traps=");
                put_udec(traps_since_report);
            }
        }
        uart_putc('\n');
        traps_since_report = 0;
        break;
    case SYS_CHECK:
        uart_puts("  ");
        uart_puts((const char *)x[0]);
        uart_puts(x[1] ? ": yes\n" : ": NO\n");
        break;
    case SYS_EXIT:
        el0_exit(f, x[0]);
        break;
    default:
        /* Unknown call: report the immediate, return -1 (ENOSYS-like). */
        if (ESR_ISS(esr) != 0) {
            uart_puts("  kernel: unknown syscall, svc imm=");
            put_hexn(ESR_ISS(esr) & 0xffff, 4);
            uart_putc('\n');
        }
        x[0] = ~0ul;
        break;
    }
}

int main(void)
{
    install_vectors();
    uart_puts("el0: start\n");
    write_sysreg(tpidrro_el0, 0x7e57ul);
    write_sysreg(tpidr_el0, 0x1111ul);

    u64 base = read_sysreg(sctlr_el1) & ~(SCTLR_M | SCTLR_A);
    static const u64 el0_bits = SCTLR_UMA | SCTLR_UCT | SCTLR_UCI | SCTLR_DZE | SCTLR_NTWI | SCTLR_NTWE;
    for (u64 pass = 0; pass < 2; pass++) {
        if (pass == 0) {
            write_sysreg(sctlr_el1, base & ~el0_bits);
            write_sysreg(cntkctl_el1, 0);
        } else {
            /* Everything EL0 may be given, except DZE (DC ZVA with the MMU off
             * is an access to Device memory) and nTWI (a real WFI would sleep). */
            write_sysreg(sctlr_el1, (base & ~el0_bits) | SCTLR_UMA | SCTLR_UCT | SCTLR_UCI);
            write_sysreg(cntkctl_el1, 3);   /* EL0PCTEN | EL0VCTEN */
        }
        isb();
        uart_puts("kernel: eret to EL0, sctlr_el1 EL0 bits=");
        put_hexn(read_sysreg(sctlr_el1) & el0_bits, 8);
        uart_puts(" cntkctl_el1=");
        put_hexn(read_sysreg(cntkctl_el1) & 3, 1);
        uart_putc('\n');
        u64 code = run_el0(user_entry, (u64)&user_stack[1024], pass);
        uart_puts("kernel: back at EL");
        put_udec(read_sysreg(currentel) >> 2);
        uart_puts(", exit code=");
        put_hexn(code, 3);
        uart_puts(", spsel=");
        put_udec(read_sysreg(spsel));
        uart_puts(", daif=");
        put_hexn(read_sysreg(daif), 3);
        uart_putc('\n');
        put_labelled_hex("kernel: tpidr_el0", read_sysreg(tpidr_el0));
        uart_puts("kernel: user code ran on its SP_EL0 stack: ");
        u64 top = (u64)&user_stack[1024];
        uart_puts(user_sp_seen <= top && user_sp_seen >= top - 4096 ? "yes\n" : "no\n");
        write_sysreg(tpidr_el0, 0x1111ul);
    }
    put_labelled_dec("kernel: system calls", (s64)svc_count);
    uart_puts("el0: done\n");
    return 0;
}
