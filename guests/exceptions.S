/*
 * Exception-raising snippets for exceptions.c. Each is a function; the
 * instruction that raises the exception is at the function's first
 * instruction unless a *_insn label says otherwise. The handler in
 * exceptions.c decides where to resume.
 */
        .arch   armv8-a+fp

        .macro  func name
        .global \name
        .type   \name, %function
        .balign 8
\name:
        .endm

        .text

func t_svc
        svc     #0x123
        ret

func t_svc_max
        svc     #0xffff
        ret

func t_brk
        brk     #0x4d2
        ret

func t_udf
        .inst   0x00000000              /* UDF #0 */
        ret

func t_hlt
        hlt     #0x77
        ret

func t_smc
        smc     #0
        ret

/* An unallocated system register encoding (op0=3 op1=0 CRn=4 CRm=15 op2=7). */
func t_sysreg_unalloc
        mrs     x0, s3_0_c4_c15_7
        ret

/* A write to a read-only register (MIDR_EL1). */
func t_sysreg_ro
        msr     s3_0_c0_c0_0, x0
        ret

/* EL2 and EL3 registers from EL1 (neither level is implemented). */
func t_sysreg_el2
        mrs     x0, hcr_el2
        ret

func t_sysreg_el3
        mrs     x0, scr_el3
        ret

/* FP/SIMD instructions and FP register accesses (trap when CPACR_EL1.FPEN
 * says so): scalar FP, a SIMD op, a vector load, MRS FPCR. */
func t_fp
        fmov    d0, xzr
        ret

func t_simd
        add     v0.4s, v0.4s, v0.4s
        ret

func t_simd_ld
        ld1     {v0.16b}, [sp]
        ret

func t_fpcr
        mrs     x0, fpcr
        ret

/* x0 = value for SP_EL0: switch to SP_EL0 (EL1t) and load through it. */
func t_sp_align
        mrs     x1, sp_el0
        msr     sp_el0, x0
        msr     spsel, #0
        ldr     x0, [sp]
        msr     spsel, #1
        msr     sp_el0, x1
        ret

/*
 * x0 = SPSR value for an ERET to t_eret_target with that SPSR (an illegal
 * return when M names a missing or higher level). Returns at EL1h with
 * x0 = NZCV, x1 = DAIF, x2 = CurrentEL, x3 = SPSel seen right after the
 * ERET (before anything changed them), x4 = SP as seen there.
 */
func t_eret
        msr     spsr_el1, x0
        adr     x1, t_eret_target
        msr     elr_el1, x1
        mov     x5, sp
        eret
        .global t_eret_target
t_eret_target:
        mrs     x0, nzcv
        mrs     x1, daif
        mrs     x2, currentel
        mrs     x3, spsel
        mov     x4, sp
        msr     spsel, #1
        mov     sp, x5
        msr     daifset, #0xf
        ret

/* SVC with DAIF = 0 (everything unmasked), NZCV = nZCv. */
func t_svc_unmasked
        mov     x1, #0x60000000
        msr     nzcv, x1
        msr     daifclr, #0xf
        svc     #0x7
        msr     daifset, #0xf
        ret

/* A function whose address + 2 is used for a misaligned branch target. */
func t_ret_zero
        mov     x0, #0
        ret

/* ---- code run at EL0 by run_el0() ---- */

/* svc #0x42 with x0 = arg, x8 = 0x5a. */
func user_svc
        mov     x8, #0x5a
        svc     #0x42
1:      b       1b

/* An FP instruction at EL0, then svc #0x43 with x0 = its result's low bits
 * (reached only if the FP instruction did not trap). */
func user_fp
        fmov    d0, x0
        fmov    x0, d0
        svc     #0x43
1:      b       1b
