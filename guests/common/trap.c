/* Exception helpers shared by the system-level guests (see sys.h). */
#include "sys.h"

volatile struct trap_record trap_last;

extern char el0_resume[];
extern char probe_exec_ret[];

void trap_reset(void)
{
    trap_last.count = 0;
    trap_last.esr = 0;
    trap_last.far = 0;
    trap_last.elr = 0;
    trap_last.spsr = 0;
    trap_last.vector = 0;
}

void el0_exit(struct exc_frame *f, u64 value)
{
    f->elr = (u64)el0_resume;
    f->spsr = SPSR_EL1H | SPSR_DAIF;
    f->x[0] = value;
}

void trap_note(struct exc_frame *f, u64 vector)
{
    trap_last.count++;
    trap_last.vector = vector;
    trap_last.esr = read_sysreg(esr_el1);
    trap_last.far = read_sysreg(far_el1);
    trap_last.elr = f->elr;
    trap_last.spsr = f->spsr;
}

int trap_fixup(struct exc_frame *f, u64 vector)
{
    trap_note(f, vector);
    u64 esr = trap_last.esr;

    if ((vector & 3) != VEC_SYNC || vector >= VEC_LOWER_A64)
        return 0;
    u64 ec = ESR_EC(esr);
    u64 elr = f->elr;
    if (ec == EC_DABT_CUR || ec == EC_SP_ALIGN) {
        if (elr == (u64)probe_read64_insn || elr == (u64)probe_read32_insn ||
            elr == (u64)probe_write64_insn || elr == (u64)probe_ldxr_insn ||
            elr == (u64)probe_ldar_insn) {
            f->x[0] = ~0ul;
            f->elr = elr + 4;
            return 1;
        }
    }
    if ((ec == EC_IABT_CUR || ec == EC_PC_ALIGN) && f->x[30] == (u64)probe_exec_ret) {
        f->x[0] = ~0ul;
        f->elr = f->x[30];
        return 1;
    }
    return 0;
}

void put_esr(u64 esr)
{
    uart_puts("esr=");
    put_hexn(esr, 8);
    uart_puts(" ec=");
    put_hexn(ESR_EC(esr), 2);
    uart_puts(" iss=");
    put_hexn(ESR_ISS(esr), 7);
}

void fatal_exception(const char *what, struct exc_frame *f, u64 vector)
{
    uart_puts(what);
    uart_puts(": vector ");
    put_udec(vector);
    uart_putc(' ');
    put_esr(read_sysreg(esr_el1));
    uart_puts(" elr=");
    put_hex(f->elr);
    uart_puts(" far=");
    put_hex(read_sysreg(far_el1));
    uart_putc('\n');
    psci_system_off();
    for (;;)
        ;
}
