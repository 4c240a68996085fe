/*
 * Shared start-up code for the bare-metal guests.
 *
 * Entered at EL1 with the MMU off. CPU 0 enters at _start, zeroes .bss and
 * calls main(); when main returns its value is ignored and the machine is
 * powered off with PSCI SYSTEM_OFF. Secondary CPUs are started by PSCI
 * CPU_ON at secondary_entry with x0 = context; they call
 * secondary_main(context) and power themselves off with PSCI CPU_OFF when it
 * returns.
 *
 * FP/SIMD is enabled (CPACR_EL1.FPEN = 0b11: no traps at EL0 or EL1) on every
 * CPU before any C code runs: the reset value traps them, and guests built
 * with FP/SIMD allowed (and GCC's vectoriser) use them anywhere.
 *
 * Only a few instructions are used here: MRS MPIDR_EL1, MSR CPACR_EL1, ISB,
 * setting SP, plain stores for .bss zeroing, branches and HVC.
 */

/* A guest may override both (-D), keeping MAX_CPUS << STACK_SHIFT at most the
 * 128 KiB of stack area in link.ld. */
#ifndef STACK_SHIFT
#define STACK_SHIFT     14              /* 16 KiB of stack per CPU */
#endif
#ifndef MAX_CPUS
#define MAX_CPUS        8
#endif

#define PSCI_CPU_OFF    0x84000002
#define PSCI_SYSTEM_OFF 0x84000008

#define CPACR_FPEN_ALL  (3 << 20)       /* FPEN = 0b11 */

        /* CPACR_EL1.FPEN = 0b11, then ISB so the next instructions see it. */
        .macro  fp_enable
        mov     x9, #CPACR_FPEN_ALL
        msr     cpacr_el1, x9
        isb
        .endm

        .section .text.boot, "ax"
        .global _start
        .type   _start, %function
_start:
        /* sp = __stack_top - Aff0 * stack size */
        mrs     x9, mpidr_el1
        and     x9, x9, #0xff
        cmp     x9, #MAX_CPUS
        b.hs    park
        adrp    x10, __stack_top
        add     x10, x10, :lo12:__stack_top
        sub     x10, x10, x9, lsl #STACK_SHIFT
        mov     sp, x10
        /* Only CPU 0 boots; anything else that arrives here just parks. */
        cbnz    x9, park
        fp_enable

        /* Zero .bss (8-byte aligned by the linker script). */
        adrp    x10, __bss_start
        add     x10, x10, :lo12:__bss_start
        adrp    x11, __bss_end
        add     x11, x11, :lo12:__bss_end
1:      cmp     x10, x11
        b.hs    2f
        str     xzr, [x10], #8
        b       1b
2:
        bl      main
        movz    w0, #(PSCI_SYSTEM_OFF & 0xffff)
        movk    w0, #(PSCI_SYSTEM_OFF >> 16), lsl #16
        hvc     #0
park:
        b       park
        .size   _start, . - _start

        .global secondary_entry
        .type   secondary_entry, %function
secondary_entry:
        /* x0 = context from CPU_ON; keep it for secondary_main. */
        mrs     x9, mpidr_el1
        and     x9, x9, #0xff
        cmp     x9, #MAX_CPUS
        b.hs    park
        adrp    x10, __stack_top
        add     x10, x10, :lo12:__stack_top
        sub     x10, x10, x9, lsl #STACK_SHIFT
        mov     sp, x10
        fp_enable
        bl      secondary_main
        movz    w0, #(PSCI_CPU_OFF & 0xffff)
        movk    w0, #(PSCI_CPU_OFF >> 16), lsl #16
        hvc     #0
        b       park
        .size   secondary_entry, . - secondary_entry

        /* Default secondary_main for guests that never start other CPUs. */
        .weak   secondary_main
        .type   secondary_main, %function
secondary_main:
        ret
        .size   secondary_main, . - secondary_main
