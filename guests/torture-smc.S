/*
 * Code that torture-smc.c rewrites while other CPUs run it. It lives in .data
 * (ordinary RAM, writable and, with the MMU off, executable), three 4 KiB
 * pages long:
 *   page 0: 16 stubs (stub j returns j), then xc_f1: one B to a stub;
 *   page 0 end / page 1 start: xc_f2, two NOPs at the end of page 0 and a B
 *           to a stub as the first word of page 1 (a block crossing pages);
 *   page 1 end / page 2 start: xc_f3, MOVZ at the end of page 1, then MOVK
 *           and RET on page 2 (rewritten whole, while nobody runs it).
 */
        .section .data.xcode, "aw"
        .balign 4096
        .global xc_base, xc_stubs, xc_f1, xc_f2, xc_f3
xc_base:
xc_stubs:
        .irp    n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
        movz    w0, #\n
        ret
        .endr
        .balign 64
xc_f1:
        b       xc_stubs
        .balign 4096
        .skip   4096 - 8
xc_f2:
        nop
        nop
        /* page 1 */
        b       xc_stubs
        .balign 4096
        .skip   4096 - 4
xc_f3:
        movz    w0, #0
        /* page 2 */
        movk    w0, #0, lsl #16
        ret
        .balign 4096

        .text
        /* Direct calls (BL with a fixed target) and a BR tail jump. */
        .macro  func name
        .global \name
        .type   \name, %function
        .balign 16
\name:
        .endm
func call_f1_bl
        stp     x29, x30, [sp, #-16]!
        bl      xc_f1
        ldp     x29, x30, [sp], #16
        ret
func call_f2_bl
        stp     x29, x30, [sp, #-16]!
        bl      xc_f2
        ldp     x29, x30, [sp], #16
        ret
func call_f3_bl
        stp     x29, x30, [sp, #-16]!
        bl      xc_f3
        ldp     x29, x30, [sp], #16
        ret
func call_f1_br
        adrp    x16, xc_f1
        add     x16, x16, :lo12:xc_f1
        br      x16
