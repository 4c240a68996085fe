/*
 * The GDB stub's test guest (`cargo xtask test` drives gdb-multiarch against it, see
 * xtask/src/gdb.rs): a named function called in a loop, a global variable the loop
 * writes, secondary CPUs spinning in a function of their own until CPU 0 is done, and a
 * flag a debugger sets to keep CPU 0 spinning at the end.
 * Built with -g; run on its own it prints its results and powers off.
 */
#include "lib.h"

/* Written once per iteration: the tests watch it. */
volatile u64 counter;
/* Set by a debugger to keep CPU 0 spinning before it powers off (a machine to interrupt). */
volatile u64 hold;
/* What the secondaries do meanwhile. */
volatile u64 secondary_spins;
volatile u64 secondaries_stop;

__attribute__((noinline)) u64 step_value(u64 acc, u64 i)
{
    return acc * 3 + i;
}

void secondary_main(u64 context)
{
    (void)context;
    while (!secondaries_stop)
        secondary_spins = secondary_spins + 1;
    psci_cpu_off();
}

int main(void)
{
    for (u64 id = 1; id < MAX_CPUS; id++) {
        if (psci_cpu_on(id, secondary_entry, id) != PSCI_SUCCESS)
            break;
    }
    u64 acc = 1;
    for (u64 i = 0; i < 10; i++) {
        acc = step_value(acc, i);
        counter = counter + 1;
    }
    secondaries_stop = 1;
    while (hold)
        ;
    put_labelled_hex("result", acc);
    put_labelled_dec("counter", (s64)counter);
    psci_system_off();
}
