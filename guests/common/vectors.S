/*
 * Exception vectors for the system-level guests, a way to run code at EL0,
 * and "probes": single accesses that may fault (see sys.h).
 *
 * Every vector saves x0-x30, ELR_EL1, SPSR_EL1 and SP_EL0 in a struct
 * exc_frame on the SP_EL1 stack and calls
 *     exception_handler(struct exc_frame *frame, u64 vector)
 * with vector = 4 * source + kind (source: 0 current EL with SP_EL0,
 * 1 current EL with SP_ELx, 2 lower EL AArch64, 3 lower EL AArch32; kind:
 * 0 synchronous, 1 IRQ, 2 FIQ, 3 SError). When the handler returns, x0-x30,
 * ELR_EL1 and SPSR_EL1 are reloaded from the frame (so the handler can change
 * them) and the code ERETs.
 */

#define FRAME_SIZE      272     /* struct exc_frame, 16-byte multiple */
#define FRAME_ELR       248
#define FRAME_SPSR      256

        .macro  ventry n
        .balign 0x80
        sub     sp, sp, #FRAME_SIZE
        stp     x0, x1, [sp, #0]
        mov     x1, #\n
        b       exc_common
        .endm

        .section .text.vectors, "ax"
        .balign 2048
        .global exception_vectors
exception_vectors:
        ventry  0
        ventry  1
        ventry  2
        ventry  3
        ventry  4
        ventry  5
        ventry  6
        ventry  7
        ventry  8
        ventry  9
        ventry  10
        ventry  11
        ventry  12
        ventry  13
        ventry  14
        ventry  15

exc_common:
        stp     x2, x3, [sp, #16]
        stp     x4, x5, [sp, #32]
        stp     x6, x7, [sp, #48]
        stp     x8, x9, [sp, #64]
        stp     x10, x11, [sp, #80]
        stp     x12, x13, [sp, #96]
        stp     x14, x15, [sp, #112]
        stp     x16, x17, [sp, #128]
        stp     x18, x19, [sp, #144]
        stp     x20, x21, [sp, #160]
        stp     x22, x23, [sp, #176]
        stp     x24, x25, [sp, #192]
        stp     x26, x27, [sp, #208]
        stp     x28, x29, [sp, #224]
        mrs     x2, elr_el1
        stp     x30, x2, [sp, #240]
        mrs     x2, spsr_el1
        mrs     x3, sp_el0
        stp     x2, x3, [sp, #256]
        mov     x0, sp
        bl      exception_handler
        ldr     x2, [sp, #FRAME_SPSR]
        msr     spsr_el1, x2
        ldp     x30, x2, [sp, #240]
        msr     elr_el1, x2
        ldp     x0, x1, [sp, #0]
        ldp     x2, x3, [sp, #16]
        ldp     x4, x5, [sp, #32]
        ldp     x6, x7, [sp, #48]
        ldp     x8, x9, [sp, #64]
        ldp     x10, x11, [sp, #80]
        ldp     x12, x13, [sp, #96]
        ldp     x14, x15, [sp, #112]
        ldp     x16, x17, [sp, #128]
        ldp     x18, x19, [sp, #144]
        ldp     x20, x21, [sp, #160]
        ldp     x22, x23, [sp, #176]
        ldp     x24, x25, [sp, #192]
        ldp     x26, x27, [sp, #208]
        ldp     x28, x29, [sp, #224]
        add     sp, sp, #FRAME_SIZE
        eret

        .text
        .global install_vectors
        .type   install_vectors, %function
install_vectors:
        adrp    x0, exception_vectors
        add     x0, x0, :lo12:exception_vectors
        msr     vbar_el1, x0
        isb
        ret
        .size   install_vectors, . - install_vectors

/* x10 = &el0_ctx[this CPU] (clobbers x9) */
        .macro  el0_ctx_ptr
        mrs     x9, mpidr_el1
        and     x9, x9, #0x7
        adrp    x10, el0_ctx
        add     x10, x10, :lo12:el0_ctx
        add     x10, x10, x9, lsl #7
        .endm

/* u64 run_el0(void (*fn)(void), u64 sp, u64 arg): EL0t with DAIF masked */
        .global run_el0
        .type   run_el0, %function
run_el0:
        mov     x3, #0x3c0
        /* fall through */
        .size   run_el0, . - run_el0

/* u64 run_el0_spsr(void (*fn)(void), u64 sp, u64 arg, u64 spsr) */
        .global run_el0_spsr
        .type   run_el0_spsr, %function
run_el0_spsr:
        el0_ctx_ptr
        stp     x19, x20, [x10, #0]
        stp     x21, x22, [x10, #16]
        stp     x23, x24, [x10, #32]
        stp     x25, x26, [x10, #48]
        stp     x27, x28, [x10, #64]
        stp     x29, x30, [x10, #80]
        mov     x11, sp
        str     x11, [x10, #96]
        msr     sp_el0, x1
        msr     elr_el1, x0
        msr     spsr_el1, x3
        mov     x0, x2
        /* Leave nothing of EL1 in the other registers. */
        mov     x1, xzr
        mov     x2, xzr
        mov     x9, xzr
        mov     x10, xzr
        mov     x11, xzr
        mov     x3, xzr
        mov     x29, xzr
        mov     x30, xzr
        eret
        .size   run_el0_spsr, . - run_el0_spsr

/* Reached by the ERET of a handler that called el0_exit(); x0 = result. */
        .global el0_resume
        .type   el0_resume, %function
el0_resume:
        el0_ctx_ptr
        ldp     x19, x20, [x10, #0]
        ldp     x21, x22, [x10, #16]
        ldp     x23, x24, [x10, #32]
        ldp     x25, x26, [x10, #48]
        ldp     x27, x28, [x10, #64]
        ldp     x29, x30, [x10, #80]
        ldr     x11, [x10, #96]
        mov     sp, x11
        ret
        .size   el0_resume, . - el0_resume

/* ---- probes: one access each, fixed up by trap_fixup() ---- */

        .global probe_read64, probe_read64_insn
        .type   probe_read64, %function
probe_read64:
probe_read64_insn:
        ldr     x0, [x0]
        ret
        .size   probe_read64, . - probe_read64

        .global probe_read32, probe_read32_insn
        .type   probe_read32, %function
probe_read32:
probe_read32_insn:
        ldr     w0, [x0]
        ret
        .size   probe_read32, . - probe_read32

        .global probe_write64, probe_write64_insn
        .type   probe_write64, %function
probe_write64:
        mov     x2, x0
        mov     x0, #0
probe_write64_insn:
        str     x1, [x2]
        ret
        .size   probe_write64, . - probe_write64

        .global probe_ldxr, probe_ldxr_insn
        .type   probe_ldxr, %function
probe_ldxr:
probe_ldxr_insn:
        ldxr    x0, [x0]
        clrex
        ret
        .size   probe_ldxr, . - probe_ldxr

        .global probe_ldar, probe_ldar_insn
        .type   probe_ldar, %function
probe_ldar:
probe_ldar_insn:
        ldar    x0, [x0]
        ret
        .size   probe_ldar, . - probe_ldar

        .global probe_exec, probe_exec_ret
        .type   probe_exec, %function
probe_exec:
        stp     x29, x30, [sp, #-16]!
        mov     x29, sp
        blr     x0
probe_exec_ret:
        ldp     x29, x30, [sp], #16
        ret
        .size   probe_exec, . - probe_exec

        .bss
        .balign 16
        .global el0_ctx
el0_ctx:
        .skip   128 * 8
