/*
 * Synchronous exceptions taken to EL1 through VBAR_EL1: for each class the
 * handler records ESR_EL1, FAR_EL1 (where the architecture defines it),
 * ELR_EL1 and SPSR_EL1 and resumes; the test prints them, with code
 * addresses relative to the snippet that raised the exception (the snippets
 * are in exceptions.S). Also prints the PSTATE seen inside the handler and
 * what ERET restores, including illegal exception returns, and the
 * CPACR_EL1.FPEN traps of FP/SIMD instructions at EL1 and EL0.
 */
#include "sys.h"

void t_svc(void);
void t_svc_max(void);
void t_brk(void);
void t_udf(void);
void t_hlt(void);
void t_smc(void);
void t_sysreg_unalloc(void);
void t_sysreg_ro(void);
void t_sysreg_el2(void);
void t_sysreg_el3(void);
void t_fp(void);
void t_simd(void);
void t_simd_ld(void);
void t_fpcr(void);
u64 t_sp_align(u64 sp);
struct eret_seen {
    u64 nzcv, daif, el, spsel, sp;
};
u64 t_eret(u64 spsr);
extern char t_eret_target[];
void t_svc_unmasked(void);
u64 t_ret_zero(void);
void user_svc(void);
void user_fp(void);

/* What the handler saw on the last exception. */
static volatile u64 h_daif, h_spsel, h_el, h_x0, h_x8;

/* Stack for EL0 and EL1t code. */
static u64 alt_stack[512] __attribute__((aligned(16)));

void exception_handler(struct exc_frame *f, u64 vector)
{
    h_daif = read_sysreg(daif);
    h_spsel = read_sysreg(spsel);
    h_el = read_sysreg(currentel);
    h_x0 = f->x[0];
    h_x8 = f->x[8];
    if (trap_fixup(f, vector))
        return;
    u64 ec = ESR_EC(trap_last.esr);
    if ((vector & 3) != VEC_SYNC) {
        uart_puts("unexpected asynchronous exception, vector ");
        put_udec(vector);
        uart_putc('\n');
        psci_system_off();
    }
    if (vector >= VEC_LOWER_A64) {
        /* From EL0: end the EL0 run; SVC returns its x0. */
        el0_exit(f, ec == EC_SVC64 ? f->x[0] : ~0ul);
        return;
    }
    switch (ec) {
    case EC_SVC64:
    case EC_HVC64:
        break;                          /* ELR is already the next instruction */
    case EC_ILLEGAL:
        f->spsr &= ~SPSR_IL;            /* retry the instruction, now legal */
        break;
    case EC_PC_ALIGN:
    case EC_IABT_CUR:
        f->elr = f->x[30];              /* return to the caller */
        break;
    default:
        f->elr += 4;                    /* skip the faulting instruction */
        break;
    }
}

static void put_rel(const char *what, u64 addr, u64 base, const char *name)
{
    uart_puts(what);
    uart_puts(name);
    if (addr >= base) {
        uart_putc('+');
        put_hexn(addr - base, 2);
    } else {
        uart_putc('-');
        put_hexn(base - addr, 2);
    }
}

/* One line: "<name>: count=1 vec=4 esr=... elr=<name>+0x04 spsr=..." */
static void report(const char *name, u64 base, int show_far)
{
    uart_puts(name);
    uart_puts(": ");
    if (trap_last.count != 1) {
        uart_puts("count=");
        put_udec(trap_last.count);
        uart_putc('\n');
        return;
    }
    uart_puts("vec=");
    put_udec(trap_last.vector);
    uart_putc(' ');
    put_esr(trap_last.esr);
    put_rel(" elr=", trap_last.elr, base, name);
    /* NZCV is whatever the compiled C code left; not printed. */
    uart_puts(" spsr&~nzcv=");
    put_hexn(trap_last.spsr & 0x0ffffffful, 8);
    if (show_far) {
        uart_puts(" far=");
        put_hex(trap_last.far);
    }
    uart_putc('\n');
}

#define RUN(fn, show_far) do {                                                 \
    trap_reset();                                                              \
    fn();                                                                      \
    report(#fn, (u64)fn, show_far);                                            \
} while (0)

static u64 buf[8] __attribute__((aligned(64)));

static void data_aborts(void)
{
    u64 base = (u64)buf;
    for (int i = 0; i < 8; i++)
        buf[i] = 0x1111111111111111ul * (u64)(i + 1);

    /* Misaligned exclusive and acquire loads: alignment faults. */
    static const struct { const char *name; u64 off; int kind; } cases[] = {
        { "ldxr +1", 1, 0 },
        { "ldxr +4", 4, 0 },
        { "ldxr +8", 8, 0 },
        { "ldar +2", 2, 1 },
        { "ldar +8", 8, 1 },
        { "ldr +4 (SCTLR.A=1)", 4, 2 },
        { "ldr +8 (SCTLR.A=1)", 8, 2 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        u64 addr = base + cases[i].off;
        u64 v;
        trap_reset();
        if (cases[i].kind == 0) {
            v = probe_ldxr(addr);
        } else if (cases[i].kind == 1) {
            v = probe_ldar(addr);
        } else {
            u64 sctlr = read_sysreg(sctlr_el1);
            write_sysreg(sctlr_el1, sctlr | SCTLR_A);
            isb();
            v = probe_read64(addr);
            write_sysreg(sctlr_el1, sctlr);
            isb();
        }
        uart_puts(cases[i].name);
        uart_puts(": ");
        if (trap_last.count == 0) {
            uart_puts("no fault, value=");
            put_hex(v);
        } else {
            put_esr(trap_last.esr);
            uart_puts(" far=buf+");
            put_hexn(trap_last.far - base, 2);
        }
        uart_putc('\n');
    }

    /* Unassigned physical address (MMU off): external abort. */
    const u64 hole = 0x0b000000ul;
    trap_reset();
    u64 v = probe_read64(hole);
    uart_puts("read 0x0b000000: ");
    if (trap_last.count == 0) {
        uart_puts("no fault, value=");
        put_hex(v);
    } else {
        put_esr(trap_last.esr);
        uart_puts(" far=");
        put_hex(trap_last.far);
    }
    uart_putc('\n');
    trap_reset();
    v = probe_write64(hole + 0x10, 1);
    uart_puts("write 0x0b000010: ");
    if (trap_last.count == 0) {
        uart_puts("no fault\n");
    } else {
        put_esr(trap_last.esr);
        uart_puts(" far=");
        put_hex(trap_last.far);
        uart_putc('\n');
    }
}

static void pc_and_sp_alignment(void)
{
    /* Branch to a misaligned address: PC alignment fault at the target. */
    u64 target = (u64)t_ret_zero + 2;
    trap_reset();
    u64 r = probe_exec(target);
    uart_puts("br misaligned: ");
    put_esr(trap_last.esr);
    put_rel(" elr=", trap_last.elr, (u64)t_ret_zero, "t_ret_zero");
    put_rel(" far=", trap_last.far, (u64)t_ret_zero, "t_ret_zero");
    uart_puts(" result=");
    put_hex(r);
    uart_putc('\n');

    /* Instruction fetch from an unassigned physical address. */
    trap_reset();
    r = probe_exec(0x0b000000ul);
    uart_puts("exec 0x0b000000: ");
    put_esr(trap_last.esr);
    uart_puts(" elr=");
    put_hex(trap_last.elr);
    uart_puts(" far=");
    put_hex(trap_last.far);
    uart_putc('\n');

    /*
     * A load through SP_EL0 at EL1t with SP_EL0 8 mod 16 and SCTLR_EL1.SA = 0:
     * no fault. (SA = 1 must give an SP alignment fault, EC 0x26, but QEMU
     * 7.2, the oracle, does not implement the check, so it is not tested.)
     */
    u64 sctlr = read_sysreg(sctlr_el1);
    write_sysreg(sctlr_el1, sctlr & ~SCTLR_SA);
    isb();
    alt_stack[1] = 0x5a5a5a5a5a5a5a5aul;
    trap_reset();
    u64 v = t_sp_align((u64)&alt_stack[1]);
    write_sysreg(sctlr_el1, sctlr);
    isb();
    uart_puts("ldr [sp_el0] at EL1t, sp%16=8, SA=0: exceptions=");
    put_udec(trap_last.count);
    uart_puts(" value=");
    put_hex(v);
    uart_putc('\n');
}

#define CPACR_FPEN_SHIFT 20

/*
 * The CPACR_EL1.FPEN trap (EC 0x07) for every FPEN value: at EL1 (FPEN = 0b00
 * and 0b10 trap, 0b01 and 0b11 do not) and at EL0 (only 0b11 lets FP through).
 * start.S set FPEN = 0b11; it is restored at the end.
 */
static void fp_traps(void)
{
    u64 cpacr = read_sysreg(cpacr_el1);
    put_labelled_hex("cpacr_el1 at start", cpacr);
    for (u64 fpen = 0; fpen < 4; fpen++) {
        write_sysreg(cpacr_el1, fpen << CPACR_FPEN_SHIFT);
        isb();
        uart_puts("FPEN=");
        put_udec(fpen >> 1);
        put_udec(fpen & 1);
        uart_putc('\n');
        RUN(t_fp, 0);
        RUN(t_simd, 0);
        RUN(t_simd_ld, 0);
        RUN(t_fpcr, 0);

        /* EL0 always ends with an exception: the FP trap, or (FP allowed)
         * user_fp's SVC with x0 = its argument, round-tripped through d0. */
        trap_reset();
        u64 r = run_el0(user_fp, (u64)&alt_stack[512], 0x5678);
        uart_puts("fp at el0: vec=");
        put_udec(trap_last.vector);
        uart_putc(' ');
        put_esr(trap_last.esr);
        put_rel(" elr=", trap_last.elr, (u64)user_fp, "user_fp");
        uart_puts(" spsr=");
        put_hexn(trap_last.spsr, 8);
        uart_puts(" x0=");
        put_hexn(r, 4);
        uart_putc('\n');
    }
    write_sysreg(cpacr_el1, cpacr);
    isb();
}

static void eret_tests(void)
{
    static const struct { const char *name; u64 spsr; } cases[] = {
        { "eret EL1h NZCV=1111 DAIF=1111", 0xf00003c5ul },
        { "eret EL1h NZCV=0101 DAIF=0101", 0x50000145ul },
        { "eret EL1t", 0x000003c4ul },
        { "eret EL2h (illegal)", 0x900003c9ul },
        { "eret EL0h (illegal)", 0x300003c1ul },
        { "eret EL3h (illegal)", 0x000003cdul },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        u64 spel0 = (u64)&alt_stack[256];
        write_sysreg(sp_el0, spel0);
        trap_reset();
        u64 seen[5];
        register u64 x0 __asm__("x0") = cases[i].spsr;
        register u64 x1 __asm__("x1");
        register u64 x2 __asm__("x2");
        register u64 x3 __asm__("x3");
        register u64 x4 __asm__("x4");
        __asm__ volatile("bl t_eret"
                         : "+r"(x0), "=r"(x1), "=r"(x2), "=r"(x3), "=r"(x4)
                         :
                         : "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
                           "x13", "x14", "x15", "x16", "x17", "x18", "x30",
                           "memory", "cc");
        seen[0] = x0;
        seen[1] = x1;
        seen[2] = x2;
        seen[3] = x3;
        seen[4] = x4;
        uart_puts(cases[i].name);
        uart_puts(": nzcv=");
        put_hexn(seen[0], 8);
        uart_puts(" daif=");
        put_hexn(seen[1], 3);
        uart_puts(" el=");
        put_udec(seen[2] >> 2);
        uart_puts(" spsel=");
        put_udec(seen[3]);
        uart_puts(seen[4] == spel0 ? " sp=sp_el0" : " sp=sp_el1");
        if (trap_last.count) {
            uart_puts(" | exception ");
            put_esr(trap_last.esr);
            put_rel(" elr=", trap_last.elr, (u64)t_eret_target, "target");
            uart_puts(" spsr=");
            put_hexn(trap_last.spsr, 8);
        }
        uart_putc('\n');
    }
}

int main(void)
{
    install_vectors();
    uart_puts("exceptions: start\n");
    put_labelled_hex("currentel", read_sysreg(currentel));

    RUN(t_svc, 0);
    uart_puts("  in handler: daif=");
    put_hexn(h_daif, 3);
    uart_puts(" spsel=");
    put_udec(h_spsel);
    uart_puts(" el=");
    put_udec(h_el >> 2);
    uart_putc('\n');
    RUN(t_svc_max, 0);
    RUN(t_svc_unmasked, 0);
    uart_puts("  spsr=");
    put_hexn(trap_last.spsr, 8);
    uart_puts(" in handler: daif=");
    put_hexn(h_daif, 3);
    uart_puts(" after return: daif=");
    put_hexn(read_sysreg(daif), 3);
    uart_putc('\n');
    RUN(t_brk, 0);
    RUN(t_udf, 0);
    RUN(t_hlt, 0);
    RUN(t_smc, 0);
    RUN(t_sysreg_unalloc, 0);
    RUN(t_sysreg_ro, 0);
    RUN(t_sysreg_el2, 0);
    RUN(t_sysreg_el3, 0);

    fp_traps();

    data_aborts();
    pc_and_sp_alignment();
    eret_tests();

    /* SVC from EL0: lower-EL vector, SPSR says EL0t. */
    trap_reset();
    u64 r = run_el0(user_svc, (u64)&alt_stack[512], 0x1234);
    uart_puts("svc from el0: vec=");
    put_udec(trap_last.vector);
    uart_putc(' ');
    put_esr(trap_last.esr);
    put_rel(" elr=", trap_last.elr, (u64)user_svc, "user_svc");
    uart_puts(" spsr=");
    put_hexn(trap_last.spsr, 8);
    uart_puts(" x0=");
    put_hexn(r, 4);
    uart_puts(" x8=");
    put_hexn(h_x8, 2);
    uart_putc('\n');
    uart_puts("  in handler: daif=");
    put_hexn(h_daif, 3);
    uart_puts(" spsel=");
    put_udec(h_spsel);
    uart_puts(" el=");
    put_udec(h_el >> 2);
    uart_putc('\n');
    put_labelled_hex("back at el", read_sysreg(currentel) >> 2);

    uart_puts("exceptions: done\n");
    return 0;
}
