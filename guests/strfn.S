/*
 * String functions with Advanced SIMD, in the style of an optimised C
 * library: 16-byte chunks, overlapping head/tail copies instead of byte
 * loops, strlen/strchr that align the pointer down and mask off the bytes
 * before the string, match "syndromes" built with SHRN (4 bits per byte) or
 * AND + ADDP (2 bits per byte), early exits with UMAXV/UMINV/UMAXP, and
 * RBIT + CLZ to find the first hit. Called from strfn.c, which checks them
 * against plain C.
 *
 * The guests run with the MMU off, where memory is Device memory and every
 * access must be aligned to its element size: so unaligned data is only
 * touched with byte-element LD1/ST1 (.8b/.16b) or LDRB/STRB, and LDR/LDP/STP
 * of Q registers only at 16-byte aligned addresses. strlen/strchr read whole
 * aligned 16-byte blocks, possibly past the terminator (never across a
 * page, as such code relies on).
 */
        .arch   armv8-a

        .macro  func name
        .global \name
        .type   \name, %function
        .balign 16
\name:
        .endm

        .macro  endfunc name
        .size   \name, . - \name
        .endm

        .text

/* void *neon_memcpy(void *dst x0, const void *src x1, size_t n x2) */
func neon_memcpy
        add     x4, x1, x2              /* src end */
        add     x5, x0, x2              /* dst end */
        cmp     x2, #16
        b.lo    .Lcpy_lt16
        cmp     x2, #32
        b.hi    .Lcpy_gt32
        /* 16..32: the first and the last 16 bytes (they may overlap). */
        ld1     {v0.16b}, [x1]
        sub     x6, x4, #16
        ld1     {v1.16b}, [x6]
        st1     {v0.16b}, [x0]
        sub     x7, x5, #16
        st1     {v1.16b}, [x7]
        ret
.Lcpy_lt16:
        cmp     x2, #8
        b.lo    .Lcpy_lt8
        /* 8..15: the first and the last 8 bytes. */
        ld1     {v0.8b}, [x1]
        sub     x6, x4, #8
        ld1     {v1.8b}, [x6]
        st1     {v0.8b}, [x0]
        sub     x7, x5, #8
        st1     {v1.8b}, [x7]
        ret
.Lcpy_lt8:
        /* 0..7: byte by byte. */
        mov     x3, x0
        cbz     x2, 2f
1:      ldrb    w6, [x1], #1
        strb    w6, [x3], #1
        subs    x2, x2, #1
        b.ne    1b
2:      ret
.Lcpy_gt32:
        cmp     x2, #64
        b.hi    .Lcpy_gt64
        /* 33..64: 32 bytes from each end. */
        ld1     {v0.16b, v1.16b}, [x1]
        sub     x6, x4, #32
        ld1     {v2.16b, v3.16b}, [x6]
        st1     {v0.16b, v1.16b}, [x0]
        sub     x7, x5, #32
        st1     {v2.16b, v3.16b}, [x7]
        ret
.Lcpy_gt64:
        /* The first 16 bytes unaligned, then continue from the next 16-byte
         * aligned destination address (1..16 bytes further on). */
        ld1     {v0.16b}, [x1]
        st1     {v0.16b}, [x0]
        and     x6, x0, #15
        mov     x7, #16
        sub     x6, x7, x6
        add     x3, x0, x6
        add     x1, x1, x6
        sub     x2, x2, x6              /* bytes left from x3: 49..n-1 */
        /* 64 bytes per iteration while more than 64 are left; aligned
         * stores, unaligned (byte-element) loads. */
        subs    x2, x2, #64
        b.ls    2f
1:      ld1     {v0.16b, v1.16b, v2.16b, v3.16b}, [x1], #64
        stp     q0, q1, [x3]
        stp     q2, q3, [x3, #32]
        add     x3, x3, #64
        subs    x2, x2, #64
        b.hi    1b
        /* The last 64 bytes, ending exactly at the end (overlap is fine). */
2:      sub     x6, x4, #64
        ld1     {v0.16b, v1.16b, v2.16b, v3.16b}, [x6]
        sub     x7, x5, #64
        st1     {v0.16b, v1.16b, v2.16b, v3.16b}, [x7]
        ret
endfunc neon_memcpy

/* void *neon_memset(void *dst x0, int c w1, size_t n x2) */
func neon_memset
        dup     v0.16b, w1
        add     x5, x0, x2              /* dst end */
        cmp     x2, #16
        b.lo    .Lset_lt16
        cmp     x2, #32
        b.hi    .Lset_gt32
        st1     {v0.16b}, [x0]
        sub     x7, x5, #16
        st1     {v0.16b}, [x7]
        ret
.Lset_lt16:
        cmp     x2, #8
        b.lo    .Lset_lt8
        st1     {v0.8b}, [x0]
        sub     x7, x5, #8
        st1     {v0.8b}, [x7]
        ret
.Lset_lt8:
        mov     x3, x0
        cbz     x2, 2f
1:      strb    w1, [x3], #1
        subs    x2, x2, #1
        b.ne    1b
2:      ret
.Lset_gt32:
        mov     v1.16b, v0.16b
        cmp     x2, #64
        b.hi    .Lset_gt64
        st1     {v0.16b, v1.16b}, [x0]
        sub     x7, x5, #32
        st1     {v0.16b, v1.16b}, [x7]
        ret
.Lset_gt64:
        st1     {v0.16b}, [x0]
        add     x3, x0, #16
        and     x3, x3, #~15            /* next aligned address, dst+1..dst+16 */
        sub     x2, x5, x3
        subs    x2, x2, #64
        b.ls    2f
1:      stp     q0, q0, [x3]
        stp     q0, q0, [x3, #32]
        add     x3, x3, #64
        subs    x2, x2, #64
        b.hi    1b
2:      sub     x7, x5, #64
        st1     {v0.16b, v1.16b}, [x7], #32
        st1     {v0.16b, v1.16b}, [x7]
        ret
endfunc neon_memset

/* size_t neon_strlen(const char *s x0) */
func neon_strlen
        bic     x1, x0, #15
        ldr     q0, [x1]
        cmeq    v0.16b, v0.16b, #0
        /* 4 bits per byte: bits 4i..4i+3 are set iff byte i is NUL. */
        shrn    v0.8b, v0.8h, #4
        fmov    x2, d0
        /* Drop the bytes before s: shift by 4 * (s & 15) (LSR takes it mod 64). */
        lsl     x3, x0, #2
        lsr     x2, x2, x3
        cbz     x2, .Llen_loop
        rbit    x2, x2
        clz     x2, x2
        lsr     x0, x2, #2
        ret
.Llen_loop:
        ldr     q0, [x1, #16]!
        cmeq    v0.16b, v0.16b, #0
        /* Any NUL? Fold the 16 flags into 8 bytes. */
        umaxp   v1.16b, v0.16b, v0.16b
        fmov    x2, d1
        cbz     x2, .Llen_loop
        shrn    v0.8b, v0.8h, #4
        fmov    x2, d0
        rbit    x2, x2
        clz     x2, x2
        sub     x0, x1, x0
        add     x0, x0, x2, lsr #2
        ret
endfunc neon_strlen

/* char *neon_strchr(const char *s x0, int c w1) */
func neon_strchr
        dup     v1.16b, w1
        /* Syndrome masks: byte i contributes bit 2(i%4) for "is c" and
         * bit 2(i%4)+1 for "is NUL"; two ADDPs pack 16 bytes into 32 bits. */
        movz    w3, #0x0401
        movk    w3, #0x4010, lsl #16
        dup     v2.4s, w3               /* 0x01 0x04 0x10 0x40 ... */
        shl     v3.4s, v2.4s, #1        /* 0x02 0x08 0x20 0x80 ... */
        bic     x5, x0, #15
        ldr     q0, [x5]
        cmeq    v4.16b, v0.16b, v1.16b
        cmeq    v5.16b, v0.16b, #0
        and     v4.16b, v4.16b, v2.16b
        and     v5.16b, v5.16b, v3.16b
        orr     v4.16b, v4.16b, v5.16b
        addp    v4.16b, v4.16b, v4.16b
        addp    v4.16b, v4.16b, v4.16b
        fmov    w6, s4
        /* Drop the bytes before s: shift by 2 * (s & 15) (mod 32). */
        lsl     w7, w0, #1
        lsr     w6, w6, w7
        cbz     w6, .Lchr_loop
        rbit    w6, w6
        clz     w6, w6
        /* An odd bit first: the NUL came before any c. */
        tbnz    w6, #0, .Lchr_null
        add     x0, x0, x6, lsr #1
        ret
.Lchr_loop:
        ldr     q0, [x5, #16]!
        cmeq    v4.16b, v0.16b, v1.16b
        cmeq    v5.16b, v0.16b, #0
        orr     v6.16b, v4.16b, v5.16b
        umaxv   b6, v6.16b
        fmov    w6, s6
        cbz     w6, .Lchr_loop
        and     v4.16b, v4.16b, v2.16b
        and     v5.16b, v5.16b, v3.16b
        orr     v4.16b, v4.16b, v5.16b
        addp    v4.16b, v4.16b, v4.16b
        addp    v4.16b, v4.16b, v4.16b
        fmov    w6, s4
        rbit    w6, w6
        clz     w6, w6
        tbnz    w6, #0, .Lchr_null
        add     x0, x5, x6, lsr #1
        ret
.Lchr_null:
        mov     x0, #0
        ret
endfunc neon_strchr

/* int neon_memcmp(const void *a x0, const void *b x1, size_t n x2):
 * a[i] - b[i] at the first differing byte, else 0. */
func neon_memcmp
        cmp     x2, #16
        b.lo    .Lcmp_lt16
        add     x8, x0, x2              /* a end */
        add     x9, x1, x2              /* b end */
1:      ld1     {v0.16b}, [x0], #16
        ld1     {v1.16b}, [x1], #16
        cmeq    v2.16b, v0.16b, v1.16b
        uminv   b3, v2.16b              /* 0 iff some byte differs */
        fmov    w4, s3
        cbz     w4, .Lcmp_diff
        sub     x2, x2, #16
        cmp     x2, #16
        b.hs    1b
        cbz     x2, .Lcmp_equal
        /* 1..15 left: compare the last 16 bytes (some already equal). */
        sub     x0, x8, #16
        sub     x1, x9, #16
        ld1     {v0.16b}, [x0], #16
        ld1     {v1.16b}, [x1], #16
        cmeq    v2.16b, v0.16b, v1.16b
        uminv   b3, v2.16b
        fmov    w4, s3
        cbz     w4, .Lcmp_diff
.Lcmp_equal:
        mov     w0, #0
        ret
.Lcmp_diff:
        /* x0/x1 are 16 bytes past the chunk; v2 = equal flags. */
        not     v2.16b, v2.16b
        shrn    v2.8b, v2.8h, #4
        fmov    x4, d2
        rbit    x4, x4
        clz     x4, x4
        lsr     x4, x4, #2
        sub     x4, x4, #16
        ldrb    w5, [x0, x4]
        ldrb    w6, [x1, x4]
        sub     w0, w5, w6
        ret
.Lcmp_lt16:
        cbz     x2, .Lcmp_equal
1:      ldrb    w5, [x0], #1
        ldrb    w6, [x1], #1
        subs    w7, w5, w6
        b.ne    2f
        subs    x2, x2, #1
        b.ne    1b
2:      mov     w0, w7
        ret
endfunc neon_memcmp
