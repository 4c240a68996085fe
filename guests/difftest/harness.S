// difftest harness, assembly part: process entry, the call into a test
// sequence (run_case), and the position-independent trampoline / epilogue
// that main() copies next to the sequence page.
#include "layout.h"

    .text
    .global _start
_start:
    mov     x29, #0
    mov     x0, sp
    bl      harness_main
    mov     x8, #93                 // exit(x0)
    svc     #0
    b       .

// void run_case(const uint64_t state[DT_STATE_WORDS]) : x[31], sp, nzcv, fpcr,
// fpsr, v[32][2] (see layout.h). V0-V31, FPCR and FPSR are loaded here (the C part
// never touches them: -mgeneral-regs-only); X0-X30 by the trampoline.
    .global run_case
run_case:
    ldr     x9, =DT_HOST_SAVE
    stp     x19, x20, [x9, #0]
    stp     x21, x22, [x9, #16]
    stp     x23, x24, [x9, #32]
    stp     x25, x26, [x9, #48]
    stp     x27, x28, [x9, #64]
    stp     x29, x30, [x9, #80]
    mov     x10, sp
    str     x10, [x9, #96]
    add     x11, x0, #DT_OFF_V
    ldp     q0, q1, [x11], #32
    ldp     q2, q3, [x11], #32
    ldp     q4, q5, [x11], #32
    ldp     q6, q7, [x11], #32
    ldp     q8, q9, [x11], #32
    ldp     q10, q11, [x11], #32
    ldp     q12, q13, [x11], #32
    ldp     q14, q15, [x11], #32
    ldp     q16, q17, [x11], #32
    ldp     q18, q19, [x11], #32
    ldp     q20, q21, [x11], #32
    ldp     q22, q23, [x11], #32
    ldp     q24, q25, [x11], #32
    ldp     q26, q27, [x11], #32
    ldp     q28, q29, [x11], #32
    ldp     q30, q31, [x11], #32
    ldr     x10, [x0, #DT_OFF_FPCR]
    msr     fpcr, x10
    ldr     x10, [x0, #DT_OFF_FPSR]
    msr     fpsr, x10
    ldr     x10, [x0, #DT_OFF_NZCV]
    msr     nzcv, x10
    ldr     x10, [x0, #248]
    mov     sp, x10
    mov     x30, x0
    clrex
    ldr     x10, =(DT_SEQ - DT_TRAMP_BYTES)
    br      x10
    .ltorg

// Copied to DT_SEQ - DT_TRAMP_BYTES: loads X0..X30 from [x30] and falls
// through into the sequence. Exactly DT_TRAMP_BYTES long.
    .global tramp_start, tramp_end
tramp_start:
    ldp     x0, x1, [x30, #0]
    ldp     x2, x3, [x30, #16]
    ldp     x4, x5, [x30, #32]
    ldp     x6, x7, [x30, #48]
    ldp     x8, x9, [x30, #64]
    ldp     x10, x11, [x30, #80]
    ldp     x12, x13, [x30, #96]
    ldp     x14, x15, [x30, #112]
    ldp     x16, x17, [x30, #128]
    ldp     x18, x19, [x30, #144]
    ldp     x20, x21, [x30, #160]
    ldp     x22, x23, [x30, #176]
    ldp     x24, x25, [x30, #192]
    ldp     x26, x27, [x30, #208]
    ldp     x28, x29, [x30, #224]
    ldr     x30, [x30, #240]
tramp_end:

// Copied to DT_EPI; the sequence ends with `b DT_EPI`. Saves X0..X30, SP,
// NZCV, FPCR, FPSR, V0..V31 at DT_SAVE in the input layout (x0 parked in
// TPIDR_EL0), then returns from run_case. Integer instructions only until the
// FP state is saved, so nothing here changes it.
    .global epi_start, epi_end
epi_start:
    msr     tpidr_el0, x0
    movz    x0, #(DT_SAVE >> 16), lsl #16
    movk    x0, #(DT_SAVE & 0xffff)
    str     x1, [x0, #8]
    stp     x2, x3, [x0, #16]
    stp     x4, x5, [x0, #32]
    stp     x6, x7, [x0, #48]
    stp     x8, x9, [x0, #64]
    stp     x10, x11, [x0, #80]
    stp     x12, x13, [x0, #96]
    stp     x14, x15, [x0, #112]
    stp     x16, x17, [x0, #128]
    stp     x18, x19, [x0, #144]
    stp     x20, x21, [x0, #160]
    stp     x22, x23, [x0, #176]
    stp     x24, x25, [x0, #192]
    stp     x26, x27, [x0, #208]
    stp     x28, x29, [x0, #224]
    str     x30, [x0, #240]
    mrs     x1, tpidr_el0
    str     x1, [x0, #0]
    mov     x1, sp
    str     x1, [x0, #248]
    mrs     x1, nzcv
    str     x1, [x0, #DT_OFF_NZCV]
    mrs     x1, fpcr
    str     x1, [x0, #DT_OFF_FPCR]
    mrs     x1, fpsr
    str     x1, [x0, #DT_OFF_FPSR]
    add     x1, x0, #DT_OFF_V
    stp     q0, q1, [x1], #32
    stp     q2, q3, [x1], #32
    stp     q4, q5, [x1], #32
    stp     q6, q7, [x1], #32
    stp     q8, q9, [x1], #32
    stp     q10, q11, [x1], #32
    stp     q12, q13, [x1], #32
    stp     q14, q15, [x1], #32
    stp     q16, q17, [x1], #32
    stp     q18, q19, [x1], #32
    stp     q20, q21, [x1], #32
    stp     q22, q23, [x1], #32
    stp     q24, q25, [x1], #32
    stp     q26, q27, [x1], #32
    stp     q28, q29, [x1], #32
    stp     q30, q31, [x1], #32
    movz    x9, #(DT_HOST_SAVE >> 16), lsl #16
    movk    x9, #(DT_HOST_SAVE & 0xffff)
    ldp     x19, x20, [x9, #0]
    ldp     x21, x22, [x9, #16]
    ldp     x23, x24, [x9, #32]
    ldp     x25, x26, [x9, #48]
    ldp     x27, x28, [x9, #64]
    ldp     x29, x30, [x9, #80]
    ldr     x10, [x9, #96]
    mov     sp, x10
    ret
epi_end:

// void sync_icache(uintptr_t start, uintptr_t end): the architectural
// sequence for making freshly written instructions visible.
    .global sync_icache
sync_icache:
    mrs     x3, ctr_el0
    ubfx    x4, x3, #16, #4         // DminLine (log2 words)
    mov     x5, #4
    lsl     x4, x5, x4
    sub     x6, x4, #1
    bic     x2, x0, x6
1:  dc      cvau, x2
    add     x2, x2, x4
    cmp     x2, x1
    b.lo    1b
    dsb     ish
    and     x4, x3, #0xf            // IminLine
    lsl     x4, x5, x4
    sub     x6, x4, #1
    bic     x2, x0, x6
2:  ic      ivau, x2
    add     x2, x2, x4
    cmp     x2, x1
    b.lo    2b
    dsb     ish
    isb
    ret
