/*
 * Code that smc.c rewrites while the program runs. The .text of these
 * guests is ordinary RAM, writable with the MMU off.
 */
        .text

        .macro  func name
        .global \name
        .type   \name, %function
        .balign 16
\name:
        .endm

/* Returns 1 until its first instruction is rewritten. */
func smc_target
        mov     w0, #1
        ret

/* Returns 10 or 20 depending on where its first instruction (a B) goes. */
func smc_branch
        b       1f
        .global smc_branch_to20
smc_branch_to20:
        mov     w0, #20
        ret
1:      mov     w0, #10
        ret

/*
 * w0 = an instruction word. Stores it over the instruction at 2f (later in
 * this same straight-line code), does the architected maintenance sequence
 * and runs it; returns what it leaves in w0 (2f starts as MOV w0, #7).
 */
func smc_inline
        adr     x1, 2f
        str     w0, [x1]
        dc      cvau, x1
        dsb     ish
        ic      ivau, x1
        dsb     ish
        isb
2:      mov     w0, #7
        ret

/*
 * The cross-CPU test: CPU 0 calls this in a loop while CPU 1 rewrites its
 * first instruction (both versions are B instructions, which the
 * architecture allows to be modified while another PE executes them).
 */
func smc_shared
        b       1f
        .global smc_shared_to2
smc_shared_to2:
        mov     w0, #2
        ret
1:      mov     w0, #1
        ret

/* Template copied into a buffer by the "generated code" test. */
func smc_template
        movz    x0, #0
        ret
