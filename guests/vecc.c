/*
 * Vectorised C: loops over int, float and double arrays that GCC's
 * auto-vectoriser turns into Advanced SIMD code at -O3 (saxpy, dot products,
 * reductions, min/max, int<->float conversions, compare-select, byte counts,
 * shifts, widening sums, structure loads/stores, narrowing), then FP special
 * values (NaNs, infinities, denormals, zeros of both signs) through the same
 * kind of loops under several FPCR modes, and a few ACLE intrinsics for what
 * the vectoriser never emits (FMAX/FRECPE-style estimates, half precision,
 * AES, SHA-1, SHA-256, PMULL).
 *
 * Every kernel prints one line: a checksum of the bit patterns it produced
 * (no FP printing) and the FPSR flags it raised, so a mismatch against QEMU
 * names the kernel. Set-up and checksums are integer-only code (see SCALAR)
 * so that only the kernels exercise FP/SIMD.
 *
 * VECC_REPS sets how many times the kernels run (the benchmark build raises
 * it); between repetitions a vectorised "stir" changes the inputs.
 */
#include "lib.h"
#include <arm_neon.h>

#ifndef VECC_REPS
#define VECC_REPS 1
#endif

#define N 1024
/* Special-value pairs: NSPEC x NSPEC. */
#define NSPEC 24
#define NPAIR (NSPEC * NSPEC)

/* Kernels stay separate functions whose inputs the compiler cannot see. */
#define KERNEL static __attribute__((noipa))
/* Set-up and checksum code: integer registers only, never vectorised. */
#define SCALAR static __attribute__((noipa, target("general-regs-only"), optimize("no-tree-vectorize")))

#define A16 __attribute__((aligned(16)))

/* Page-aligned (which page-aligns all of .bss): stores to a page holding code
 * make emulators with self-modifying-code detection (QEMU, ours) flush it. */
static s32 ia[N] __attribute__((aligned(4096)));
static s32 ib[N] A16, ic[N] A16;
static u32 ua[N] A16, ub[N] A16, uc[N] A16;
static s16 ha[N] A16, hb[N] A16, hc[N] A16;
static u16 wa[N] A16;
static u8 ba[N] A16, bb[N] A16, bc[N] A16;
static s64 la[N] A16, lb[N] A16, lc[N] A16;
static float fa[N] A16, fb[N] A16, fc[N] A16, fd[N] A16;
static double da[N] A16, db[N] A16, dc[N] A16, dd[N] A16;
/* Interleaved data: (re, im) float pairs, RGB bytes, RGBA words. */
static float cx[2 * N] A16, cy[2 * N] A16;
static u8 rgb[3 * N] A16;
static u32 quad[4 * N] A16;

static float sfa[NPAIR] A16, sfb[NPAIR] A16, sfc[NPAIR] A16;
static u32 sres[16 * NPAIR] A16;
static double sda[NPAIR] A16, sdb[NPAIR] A16, sdc[NPAIR] A16;
static u64 sdres[16 * NPAIR] A16;

/* ---- checksums and FPSR ---- */

#define NKERNELS 64
static const char *k_name[NKERNELS];
static u8 k_label[NKERNELS];       /* a heading line, no checksum */
static u64 k_hash[NKERNELS];
static u32 k_fpsr[NKERNELS];
static int k_count;

SCALAR u64 mix64(u64 h, u64 v)
{
    h ^= v + 0x9e3779b97f4a7c15ul + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdul;
    return h ^ (h >> 32);
}

/* Checksum of `n` bytes at p, 8 at a time (n is a multiple of 8, p 8-aligned). */
SCALAR u64 hash_bytes(u64 h, const void *p, usize n)
{
    const u64 *q = p;
    for (usize i = 0; i < n / 8; i++)
        h = mix64(h, q[i] + i);
    return h;
}

#define HASH(h, arr) hash_bytes((h), (arr), sizeof(arr))

static inline void fpsr_clear(void) { __builtin_aarch64_set_fpsr(0); }
static inline u32 fpsr_read(void) { return __builtin_aarch64_get_fpsr(); }

/* Records kernel `slot`'s checksum (folded over repetitions) and FPSR flags. */
SCALAR void record(int slot, const char *name, u64 h, u32 fpsr)
{
    if (slot >= NKERNELS)
        return;
    k_name[slot] = name;
    k_hash[slot] = mix64(k_hash[slot], h);
    k_fpsr[slot] |= fpsr;
    if (slot >= k_count)
        k_count = slot + 1;
}

/* Slot `slot` is a heading line. */
SCALAR void record_label(int slot, const char *name)
{
    if (slot >= NKERNELS)
        return;
    record(slot, name, 0, 0);
    k_label[slot] = 1;
}

/* ---- deterministic inputs (scalar) ---- */

static u64 rng_state;

SCALAR u64 rng(void)
{
    /* xorshift64* */
    u64 x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545f4914f6cdd1dul;
}

/* Float and double values from integers, built from bits so that set-up
 * needs no FP instructions: sign, exponent in [bias-8, bias+8], random
 * mantissa. */
SCALAR u32 rand_f32_bits(void)
{
    u64 r = rng();
    u32 sign = (u32)(r >> 63) << 31;
    u32 exp = 127 - 8 + (u32)((r >> 40) % 17);
    return sign | exp << 23 | ((u32)r & 0x7fffff);
}

SCALAR u64 rand_f64_bits(void)
{
    u64 r = rng();
    u64 sign = (r >> 63) << 63;
    u64 exp = 1023 - 8 + (r >> 40) % 17;
    u64 m = (r ^ rng()) & 0xffffffffffffful;
    return sign | exp << 52 | m;
}

SCALAR void set_f32(float *p, u32 bits) { __builtin_memcpy(p, &bits, 4); }
SCALAR void set_f64(double *p, u64 bits) { __builtin_memcpy(p, &bits, 8); }

SCALAR void init_inputs(void)
{
    rng_state = 0x0123456789abcdeful;
    for (int i = 0; i < N; i++) {
        u64 r = rng();
        ia[i] = (s32)r;
        ib[i] = (s32)(r >> 32);
        r = rng();
        ua[i] = (u32)r;
        ub[i] = (u32)(r >> 32);
        r = rng();
        ha[i] = (s16)r;
        hb[i] = (s16)(r >> 16);
        wa[i] = (u16)(r >> 32);
        ba[i] = (u8)(r >> 48);
        bb[i] = (u8)(r >> 56);
        la[i] = (s64)rng();
        lb[i] = (s64)rng();
        set_f32(&fa[i], rand_f32_bits());
        set_f32(&fb[i], rand_f32_bits());
        set_f64(&da[i], rand_f64_bits());
        set_f64(&db[i], rand_f64_bits());
    }
    for (int i = 0; i < 2 * N; i++) {
        set_f32(&cx[i], rand_f32_bits());
        set_f32(&cy[i], rand_f32_bits());
    }
    for (int i = 0; i < 3 * N; i++)
        rgb[i] = (u8)rng();
    for (int i = 0; i < 4 * N; i++)
        quad[i] = (u32)rng();
}

/* Special values: zeros, ones, denormals, normal limits, infinities, quiet
 * and signalling NaNs with payloads, halfway cases, integer limits. */
static const u32 spec_f32[NSPEC] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000, 0x00000001,
    0x807fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000,
    0x7fc00001, 0x7f800005, 0xffc12345, 0xff812345, 0x40200000, 0xc0200000,
    0x4f000000, 0xcf000001, 0x4f800000, 0x3f000000, 0x501502f9, 0x33800001,
};
static const u64 spec_f64[NSPEC] = {
    0x0000000000000000ul, 0x8000000000000000ul, 0x3ff0000000000000ul,
    0xbff0000000000000ul, 0x3ff8000000000000ul, 0x0000000000000001ul,
    0x800fffffffffffful, 0x0010000000000000ul, 0x7fefffffffffffful,
    0xffefffffffffffful, 0x7ff0000000000000ul, 0xfff0000000000000ul,
    0x7ff8000000000001ul, 0x7ff0000000000005ul, 0xfff8123456789abcul,
    0xfff0123456789abcul, 0x4004000000000000ul, 0xc004000000000000ul,
    0x43e0000000000000ul, 0xc3e0000000000001ul, 0x41e0000000000000ul,
    0x3fe0000000000000ul, 0x36a0000000000001ul, 0x380fffffe0000000ul,
};

SCALAR void init_specials(void)
{
    for (int i = 0; i < NSPEC; i++) {
        for (int j = 0; j < NSPEC; j++) {
            int k = i * NSPEC + j;
            set_f32(&sfa[k], spec_f32[i]);
            set_f32(&sfb[k], spec_f32[j]);
            /* Third operand: the special values in another order. */
            set_f32(&sfc[k], spec_f32[(i * 7 + j * 5) % NSPEC]);
            set_f64(&sda[k], spec_f64[i]);
            set_f64(&sdb[k], spec_f64[j]);
            set_f64(&sdc[k], spec_f64[(i * 7 + j * 5) % NSPEC]);
        }
    }
}

/* ---- integer kernels ---- */

KERNEL void k_i32_arith(void)
{
    for (int i = 0; i < N; i++)
        ic[i] = ia[i] * ib[i] + (ia[i] ^ ib[i]) - (ia[i] & 0x0ff0ff0f);
}

KERNEL u64 k_i32_minmax(void)
{
    s32 mx = ia[0], mn = ia[0];
    u32 umx = 0;
    for (int i = 0; i < N; i++) {
        s32 hi = ia[i] > ib[i] ? ia[i] : ib[i];
        s32 lo = ia[i] < ib[i] ? ia[i] : ib[i];
        ic[i] = hi - lo;
        mx = ia[i] > mx ? ia[i] : mx;
        mn = ib[i] < mn ? ib[i] : mn;
        umx = ua[i] > umx ? ua[i] : umx;
    }
    return (u64)(u32)mx << 32 ^ (u64)(u32)mn ^ (u64)umx << 16;
}

KERNEL void k_i32_select(void)
{
    for (int i = 0; i < N; i++)
        ic[i] = ia[i] > ib[i] ? ia[i] - ib[i] : ib[i] << 3;
    for (int i = 0; i < N; i++)
        uc[i] = ua[i] >= ub[i] ? ua[i] : ~ub[i];
}

KERNEL void k_i32_shift(void)
{
    for (int i = 0; i < N; i++)
        ic[i] = (ia[i] >> 5) + (s32)((u32)ib[i] >> 7) + (s32)((u32)ia[i] << 2);
    for (int i = 0; i < N; i++)
        uc[i] = (ua[i] >> (ub[i] & 31)) ^ (ua[i] << (ub[i] >> 27));
    for (int i = 0; i < N; i++)
        ic[i] += ia[i] >> (ib[i] & 31);
}

KERNEL u64 k_i32_sums(void)
{
    s64 s = 0;
    u64 u = 0;
    u32 x = 0;
    for (int i = 0; i < N; i++) {
        s += ia[i];
        u += ua[i];
        x ^= ua[i] + ub[i];
    }
    return (u64)s ^ (u << 7) ^ ((u64)x << 40);
}

KERNEL void k_i32_abs(void)
{
    for (int i = 0; i < N; i++) {
        s32 d = ia[i] - ib[i];
        ic[i] = d < 0 ? -d : d;
    }
    for (int i = 0; i < N; i++)
        uc[i] = ua[i] * 3u + (ua[i] == ub[i] ? 1u : 0u) - (ua[i] < ub[i] ? 7u : 0u);
}

KERNEL u64 k_i16(void)
{
    s32 dot = 0;
    for (int i = 0; i < N; i++)
        dot += ha[i] * hb[i];
    for (int i = 0; i < N; i++) {
        s32 s = ha[i] + hb[i];
        hc[i] = (s16)(s > 32767 ? 32767 : s < -32768 ? -32768 : s);
    }
    for (int i = 0; i < N; i++)
        ic[i] = (ha[i] * hb[i]) >> 8;
    u32 wsum = 0;
    for (int i = 0; i < N; i++)
        wsum += wa[i];
    return (u64)(u32)dot << 32 | wsum;
}

KERNEL u64 k_u8(void)
{
    u32 sad = 0, big = 0;
    u8 mx = 0;
    for (int i = 0; i < N; i++)
        bc[i] = (u8)((ba[i] + bb[i] + 1) >> 1);
    for (int i = 0; i < N; i++)
        sad += ba[i] > bb[i] ? ba[i] - bb[i] : bb[i] - ba[i];
    for (int i = 0; i < N; i++)
        big += ba[i] > 128;
    for (int i = 0; i < N; i++)
        mx = ba[i] > mx ? ba[i] : mx;
    return (u64)sad << 32 ^ (u64)big << 16 ^ mx;
}

/* Histogram-like counting: bytes per range, counted with compares. */
KERNEL u64 k_u8_bins(void)
{
    u32 b0 = 0, b1 = 0, b2 = 0, b3 = 0;
    for (int i = 0; i < N; i++) {
        u8 v = ba[i] ^ bb[i];
        b0 += v < 64;
        b1 += v >= 64 && v < 128;
        b2 += (v & 0xc0) == 0x80;
        b3 += v >= 192;
    }
    u16 wide = 0;
    for (int i = 0; i < N; i++)
        wide += (u16)(ba[i] * 3);
    for (int i = 0; i < N; i++) {
        u32 s = ba[i] + bb[i];
        bc[i] = (u8)(s > 255 ? 255 : s);
    }
    return (u64)b0 << 48 ^ (u64)b1 << 32 ^ (u64)b2 << 16 ^ b3 ^ (u64)wide << 8;
}

KERNEL u64 k_popcount(void)
{
    u32 total = 0;
    for (int i = 0; i < N; i++)
        total += (u32)__builtin_popcount(ua[i]);
    for (int i = 0; i < N; i++)
        bc[i] = (u8)__builtin_popcount(ba[i] ^ bb[i]);
    return total;
}

KERNEL void k_i64(void)
{
    for (int i = 0; i < N; i++)
        lc[i] = la[i] + (lb[i] ^ (s64)((u64)lb[i] >> 13)) - (la[i] >> 3);
    for (int i = 0; i < N; i++)
        lc[i] ^= la[i] > lb[i] ? la[i] : lb[i];
}

/* Widening and narrowing between element sizes. */
KERNEL void k_widen_narrow(void)
{
    for (int i = 0; i < N; i++)
        la[i] = (s64)ia[i] * ib[i];
    for (int i = 0; i < N; i++)
        hc[i] = (s16)(ia[i] >> 9);
    for (int i = 0; i < N; i++) {
        s32 v = ia[i] >> 16;
        bc[i] = (u8)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    for (int i = 0; i < N; i++)
        ic[i] = ha[i] * 7 + ba[i];
}

/* Structure loads and stores (LD2/ST2, LD3, LD4). */
KERNEL u64 k_interleave(void)
{
    for (int i = 0; i < N; i++) {
        float re = cx[2 * i] * cy[2 * i] - cx[2 * i + 1] * cy[2 * i + 1];
        float im = cx[2 * i] * cy[2 * i + 1] + cx[2 * i + 1] * cy[2 * i];
        fc[i] = re;
        fd[i] = im;
    }
    for (int i = 0; i < N; i++)
        bc[i] = (u8)((rgb[3 * i] * 77 + rgb[3 * i + 1] * 150 + rgb[3 * i + 2] * 29) >> 8);
    u32 s = 0;
    for (int i = 0; i < N; i++) {
        uc[i] = quad[4 * i] + quad[4 * i + 1] * 3 + (quad[4 * i + 2] ^ quad[4 * i + 3]);
        s += quad[4 * i + 3];
    }
    return s;
}

/* Structure stores (ST2, ST3, ST4); broadcasts and one-lane loads (what GCC
 * makes of vld1q_dup/vld1q_lane: LDR + DUP (element), LD1 {v.s}[i]). */
static float scale_f32 = 0.75f;
KERNEL void k_structs(void)
{
    for (int i = 0; i < N; i++) {
        cy[2 * i] = fa[i] * scale_f32;
        cy[2 * i + 1] = fb[i] - fa[i];
    }
    for (int i = 0; i < N; i++) {
        rgb[3 * i] = ba[i];
        rgb[3 * i + 1] = bb[i];
        rgb[3 * i + 2] = (u8)(ba[i] ^ bb[i]);
    }
    for (int i = 0; i < N; i++) {
        quad[4 * i] = ua[i];
        quad[4 * i + 1] = ub[i] + 1;
        quad[4 * i + 2] = ua[i] ^ ub[i];
        quad[4 * i + 3] = ua[i] >> 3;
    }
    for (int i = 0; i < N; i += 4) {
        uint32x4_t v = vaddq_u32(vld1q_u32(&ua[i]), vld1q_dup_u32(&ub[i]));
        v = vld1q_lane_u32(&ub[i + 3], v, 1);
        vst1q_u32(&uc[i], v);
        vst1q_lane_u32(&uc[i + 2], vreinterpretq_u32_u8(vld1q_dup_u8(&ba[i])), 0);
    }
}

SCALAR u64 hash_structs(void)
{
    u64 h = HASH(7, cy);
    h = HASH(h, rgb);
    h = HASH(h, uc);
    return HASH(h, quad);
}

/* ---- float kernels ---- */

KERNEL void k_saxpy(float a)
{
    for (int i = 0; i < N; i++)
        fc[i] = a * fa[i] + fb[i];
    for (int i = 0; i < N; i++)
        fd[i] = fa[i] * fb[i] - fc[i] * a;
}

/* Reductions reassociate, which needs these flags (exact and deterministic
 * all the same: the same instructions run everywhere). */
__attribute__((optimize("associative-math", "no-signed-zeros", "no-trapping-math")))
KERNEL u64 k_fdot(void)
{
    float dot = 0.0f, sum = 0.0f, mx = -__builtin_inff();
    for (int i = 0; i < N; i++)
        dot += fa[i] * fb[i];
    for (int i = 0; i < N; i++)
        sum += fa[i];
    for (int i = 0; i < N; i++)
        mx = __builtin_fmaxf(mx, fb[i]);
    u32 a, b, c;
    __builtin_memcpy(&a, &dot, 4);
    __builtin_memcpy(&b, &sum, 4);
    __builtin_memcpy(&c, &mx, 4);
    return (u64)a << 32 ^ (u64)b << 16 ^ c;
}

KERNEL void k_fselect(void)
{
    for (int i = 0; i < N; i++)
        fc[i] = fa[i] < fb[i] ? fa[i] * fb[i] : fa[i] - fb[i];
    for (int i = 0; i < N; i++)
        fd[i] = __builtin_fmaxf(fa[i], fb[i]) + __builtin_fminf(fa[i], fc[i]);
    for (int i = 0; i < N; i++)
        ic[i] = fa[i] >= fb[i] ? 1 : fa[i] == fc[i] ? 2 : -1;
}

KERNEL void k_fdiv_sqrt(void)
{
    for (int i = 0; i < N; i++)
        fc[i] = __builtin_sqrtf(__builtin_fabsf(fa[i])) / (fb[i] + 3.0f);
    for (int i = 0; i < N; i++)
        fd[i] = -__builtin_fabsf(fa[i] * 0.25f) + __builtin_fmaf(fa[i], fb[i], fc[i]);
}

KERNEL void k_fconv(void)
{
    for (int i = 0; i < N; i++)
        ic[i] = (s32)(fa[i] * 1.0e6f);
    for (int i = 0; i < N; i++)
        uc[i] = (u32)__builtin_fabsf(fb[i] * 65536.0f);
    for (int i = 0; i < N; i++)
        fc[i] = (float)ia[i] * 0.5f + (float)ua[i];
    for (int i = 0; i < N; i++)
        dc[i] = (double)fa[i] * (double)fb[i];
    for (int i = 0; i < N; i++)
        fd[i] = (float)(da[i] + db[i]);
    for (int i = 0; i < N; i++)
        dd[i] = (double)ia[i] + (double)ub[i];
}

KERNEL void k_frint(void)
{
    for (int i = 0; i < N; i++)
        fc[i] = __builtin_floorf(fa[i] * 8.0f) + __builtin_ceilf(fb[i] * 4.0f);
    for (int i = 0; i < N; i++)
        fd[i] = __builtin_roundf(fa[i] * 16.0f) - __builtin_truncf(fb[i] * 16.0f);
    for (int i = 0; i < N; i++)
        fc[i] += __builtin_rintf(fa[i] * 2.0f) + __builtin_nearbyintf(fb[i] * 2.0f);
    for (int i = 0; i < N; i++)
        dc[i] = __builtin_floor(da[i] * 8.0) + __builtin_round(db[i] * 4.0) + __builtin_rint(da[i]);
}

/* ---- double kernels ---- */

KERNEL void k_daxpy(double a)
{
    for (int i = 0; i < N; i++)
        dc[i] = a * da[i] + db[i];
    for (int i = 0; i < N; i++)
        dd[i] = (da[i] - db[i]) * (da[i] + 1.0);
}

__attribute__((optimize("associative-math", "no-signed-zeros", "no-trapping-math")))
KERNEL u64 k_ddot(void)
{
    double dot = 0.0, mn = __builtin_inf();
    for (int i = 0; i < N; i++)
        dot += da[i] * db[i];
    for (int i = 0; i < N; i++)
        mn = __builtin_fmin(mn, da[i]);
    u64 a, b;
    __builtin_memcpy(&a, &dot, 8);
    __builtin_memcpy(&b, &mn, 8);
    return a ^ (b << 1);
}

KERNEL void k_dmisc(void)
{
    for (int i = 0; i < N; i++)
        dc[i] = da[i] > 0.0 ? __builtin_sqrt(da[i]) : -da[i] / 3.0;
    for (int i = 0; i < N; i++)
        dd[i] = __builtin_fabs(db[i]) - __builtin_fmax(da[i], db[i]) * 0.125;
    for (int i = 0; i < N; i++)
        lc[i] = (s64)(da[i] * 1.0e12);
    for (int i = 0; i < N; i++)
        dc[i] += (double)la[i];
}

/* ---- special values, elementwise over every pair ---- */

/* 16 results per pair, as bit patterns (float ones). */
KERNEL void k_fspecial(void)
{
    u32 *r = sres;
    for (int k = 0; k < NPAIR; k++) {
        float a = sfa[k], b = sfb[k], c = sfc[k];
        float v[8] = {
            a + b, a - b, a * b, a / b, __builtin_fmaf(a, b, c),
            __builtin_fmaxf(a, b), __builtin_fminf(a, b), __builtin_sqrtf(a),
        };
        __builtin_memcpy(&r[16 * k], v, sizeof(v));
        r[16 * k + 8] = (u32)(a < b) | (u32)(a <= b) << 1 | (u32)(a == b) << 2 |
                        (u32)(a > b) << 3 | (u32)(a != a) << 4;
        r[16 * k + 9] = (u32)(s32)a;
        r[16 * k + 10] = (u32)a;
        float w[5] = {
            __builtin_rintf(a), __builtin_nearbyintf(b), __builtin_floorf(a),
            (float)(s32)r[16 * k + 9], (float)(double)b,
        };
        __builtin_memcpy(&r[16 * k + 11], w, sizeof(w));
    }
}

KERNEL void k_dspecial(void)
{
    u64 *r = sdres;
    for (int k = 0; k < NPAIR; k++) {
        double a = sda[k], b = sdb[k], c = sdc[k];
        double v[8] = {
            a + b, a - b, a * b, a / b, __builtin_fma(a, b, c),
            __builtin_fmax(a, b), __builtin_fmin(a, b), __builtin_sqrt(a),
        };
        __builtin_memcpy(&r[16 * k], v, sizeof(v));
        r[16 * k + 8] = (u64)(a < b) | (u64)(a <= b) << 1 | (u64)(a == b) << 2 |
                        (u64)(a > b) << 3 | (u64)(a != a) << 4;
        r[16 * k + 9] = (u64)(s64)a;
        r[16 * k + 10] = (u64)a;
        float f = (float)a;
        u32 fbits;
        __builtin_memcpy(&fbits, &f, 4);
        double w[4] = {
            __builtin_rint(a), __builtin_nearbyint(b), __builtin_ceil(a),
            (double)(s64)r[16 * k + 9],
        };
        r[16 * k + 11] = fbits;
        __builtin_memcpy(&r[16 * k + 12], w, sizeof(w));
    }
}

/* ---- intrinsics: what the vectoriser does not emit ---- */

/* FMAX/FMIN (NaN-propagating), FABD, pairwise ops, reciprocal and
 * reciprocal square root estimates and steps, FRECPX-free estimates,
 * half-precision conversions, over the special pairs. */
KERNEL void k_fintrin(void)
{
    u32 *r = sres;
    for (int k = 0; k < NPAIR; k += 4) {
        float32x4_t a = vld1q_f32(&sfa[k]), b = vld1q_f32(&sfb[k]);
        vst1q_u32(&r[0 * NPAIR + k], vreinterpretq_u32_f32(vmaxq_f32(a, b)));
        vst1q_u32(&r[1 * NPAIR + k], vreinterpretq_u32_f32(vminq_f32(a, b)));
        vst1q_u32(&r[2 * NPAIR + k], vreinterpretq_u32_f32(vabdq_f32(a, b)));
        vst1q_u32(&r[3 * NPAIR + k], vreinterpretq_u32_f32(vpaddq_f32(a, b)));
        vst1q_u32(&r[4 * NPAIR + k], vreinterpretq_u32_f32(vpmaxq_f32(a, b)));
        vst1q_u32(&r[5 * NPAIR + k], vreinterpretq_u32_f32(vrecpeq_f32(a)));
        vst1q_u32(&r[6 * NPAIR + k], vreinterpretq_u32_f32(vrsqrteq_f32(a)));
        vst1q_u32(&r[7 * NPAIR + k], vreinterpretq_u32_f32(vrecpsq_f32(a, b)));
        vst1q_u32(&r[8 * NPAIR + k], vreinterpretq_u32_f32(vrsqrtsq_f32(a, b)));
        vst1q_u32(&r[9 * NPAIR + k], vcvtq_n_u32_f32(a, 8));
        vst1q_u32(&r[10 * NPAIR + k], vreinterpretq_u32_s32(vcvtnq_s32_f32(b)));
        vst1q_u32(&r[11 * NPAIR + k], vreinterpretq_u32_f32(vcvt_f32_f16(vcvt_f16_f32(a))));
        vst1q_u32(&r[12 * NPAIR + k], vreinterpretq_u32_f32(vmaxnmq_f32(a, b)));
        vst1q_u32(&r[13 * NPAIR + k], vcageq_f32(a, b));
        float32x4_t odd = vcombine_f32(vcvtx_f32_f64(vld1q_f64(&sda[k])),
                                       vcvtx_f32_f64(vld1q_f64(&sda[k + 2])));
        vst1q_u32(&r[14 * NPAIR + k], vreinterpretq_u32_f32(odd));
        vst1q_u32(&r[15 * NPAIR + k], vreinterpretq_u32_f32(vrndaq_f32(b)));
    }
}

/* AES rounds (encrypt and decrypt), SHA-1 and SHA-256 schedule and hash
 * steps, 64-bit polynomial multiplies, TBL/EXT permutes. */
KERNEL u64 k_crypto(void)
{
    const u8 *p = (const u8 *)ua;
    uint8x16_t key = vld1q_u8(p), st = vld1q_u8(p + 16), dst = st;
    uint32x4_t h0 = vld1q_u32(&ub[0]), h1 = vld1q_u32(&ub[4]);
    uint32x4_t s0 = vld1q_u32(&ub[8]);
    u32 e = ub[12];
    poly64x2_t pacc = vreinterpretq_p64_u32(vld1q_u32(&ub[16]));
    uint8x16_t perm = vld1q_u8(p + 32);
    for (int blk = 0; blk < N / 16; blk++) {
        uint8x16_t in = vld1q_u8(p + 64 * blk);
        /* AES: 4 encrypt rounds, 4 decrypt rounds, with the data. */
        st = veorq_u8(st, in);
        for (int r = 0; r < 4; r++) {
            st = vaesmcq_u8(vaeseq_u8(st, key));
            dst = vaesimcq_u8(vaesdq_u8(dst, key));
            key = vextq_u8(key, key, 3);
        }
        /* SHA-256: message schedule + 4 rounds. */
        uint32x4_t w0 = vld1q_u32(&ua[16 * blk]), w1 = vld1q_u32(&ua[16 * blk + 4]);
        uint32x4_t w2 = vld1q_u32(&ua[16 * blk + 8]), w3 = vld1q_u32(&ua[16 * blk + 12]);
        uint32x4_t w4 = vsha256su1q_u32(vsha256su0q_u32(w0, w1), w2, w3);
        uint32x4_t t = h0;
        h0 = vsha256hq_u32(h0, h1, vaddq_u32(w0, w4));
        h1 = vsha256h2q_u32(h1, t, vaddq_u32(w0, w4));
        /* SHA-1: schedule + choose/parity/majority rounds. */
        uint32x4_t x4 = vsha1su1q_u32(vsha1su0q_u32(w0, w1, w2), w3);
        s0 = vsha1cq_u32(s0, e, x4);
        s0 = vsha1pq_u32(s0, vsha1h_u32(e), w1);
        s0 = vsha1mq_u32(s0, e ^ 0x5a827999u, w2);
        e = vsha1h_u32(vgetq_lane_u32(s0, 0));
        /* PMULL/PMULL2 on 64-bit lanes. */
        poly64x2_t pa = vreinterpretq_p64_u32(w3);
        poly128_t lo = vmull_p64(vgetq_lane_p64(pa, 0), vgetq_lane_p64(pacc, 1));
        poly128_t hi = vmull_high_p64(pa, pacc);
        pacc = vreinterpretq_p64_u8(veorq_u8(vreinterpretq_u8_p128(lo), vreinterpretq_u8_p128(hi)));
        /* Byte permutes. */
        perm = vqtbl1q_u8(veorq_u8(perm, in), vandq_u8(in, vdupq_n_u8(0x1f)));
        perm = vextq_u8(perm, st, 5);
    }
    uint8x16_t all = veorq_u8(veorq_u8(st, dst),
                              veorq_u8(vreinterpretq_u8_u32(veorq_u32(h0, h1)),
                                       vreinterpretq_u8_u32(s0)));
    all = veorq_u8(all, veorq_u8(vreinterpretq_u8_p64(pacc), perm));
    uint64x2_t w = vreinterpretq_u64_u8(all);
    return vgetq_lane_u64(w, 0) ^ (vgetq_lane_u64(w, 1) << 1) ^ e;
}

/* Between repetitions: new inputs from the old ones, vectorised. */
KERNEL void k_stir(u32 rep)
{
    for (int i = 0; i < N; i++) {
        u32 x = ua[i] * 0x9e3779b1u + rep;
        ua[i] = x ^ (x >> 15);
        ub[i] = ub[i] * 0x85ebca6bu ^ ua[i];
        ia[i] = (s32)(ua[i] ^ (u32)ib[i]);
        ib[i] = (s32)(ub[i] + (u32)ic[i]);
    }
    for (int i = 0; i < N; i++) {
        ha[i] = (s16)(ua[i] >> 9);
        hb[i] = (s16)ub[i];
        ba[i] = (u8)(ua[i] >> 3);
        bb[i] = (u8)(ub[i] >> 21);
    }
    /* Floats in a bounded range from the integers: (-2^15, 2^15) / 2^12. */
    for (int i = 0; i < N; i++) {
        fa[i] = (float)(ia[i] >> 16) * 0x1p-12f;
        fb[i] = (float)(ib[i] >> 12) * 0x1p-16f;
    }
    for (int i = 0; i < N; i++) {
        da[i] = (double)ia[i] * 0x1p-20;
        db[i] = (double)(s32)ub[i] * 0x1p-24 + da[i];
    }
    for (int i = 0; i < N; i++)
        la[i] += lb[i] ^ (s64)ua[i];
}

/* ---- driver ---- */

/* Runs `call` with FPSR cleared, then records the checksum of `hash_expr`. */
#define RUN(slot, name, call, hash_expr) do {                                  \
    fpsr_clear();                                                              \
    u64 ret_ = (u64)(call);                                                    \
    u32 fpsr_ = fpsr_read();                                                   \
    record((slot), (name), mix64((hash_expr), ret_), fpsr_);                   \
} while (0)
#define VOID(call) ((call), 0)

/* FPCR values for the special-value kernels: default; FZ + DN; each
 * directed rounding mode. */
static const u32 fpcr_modes[] = { 0x0, 0x3000000, 0x400000, 0x800000, 0xc00000 };
static const char *const fpcr_names[] = {
    "fpcr=0", "fpcr=FZ|DN", "fpcr=RP", "fpcr=RM", "fpcr=RZ",
};

SCALAR u64 hash_ints(void)
{
    u64 h = HASH(0, ic);
    h = HASH(h, uc);
    return HASH(h, lc);
}

SCALAR u64 hash_small(void)
{
    u64 h = HASH(1, hc);
    h = HASH(h, bc);
    return HASH(h, ic);
}

SCALAR u64 hash_floats(void)
{
    u64 h = HASH(2, fc);
    h = HASH(h, fd);
    h = HASH(h, ic);
    h = HASH(h, uc);
    h = HASH(h, dc);
    return HASH(h, dd);
}

SCALAR u64 hash_doubles(void)
{
    u64 h = HASH(3, dc);
    h = HASH(h, dd);
    h = HASH(h, lc);
    return HASH(h, la);
}

SCALAR u64 hash_sres(void) { return HASH(4, sres); }
SCALAR u64 hash_sdres(void) { return HASH(5, sdres); }
SCALAR u64 hash_inputs(void)
{
    u64 h = HASH(6, ia);
    h = HASH(h, ua);
    h = HASH(h, ub);
    h = HASH(h, ha);
    h = HASH(h, ba);
    h = HASH(h, bb);
    h = HASH(h, fa);
    h = HASH(h, fb);
    h = HASH(h, da);
    h = HASH(h, db);
    return HASH(h, la);
}

/* Floats a*2^-k for kernel parameters, from bits (no FP in set-up). */
static inline float f32_from_bits(u32 b)
{
    float f;
    __builtin_memcpy(&f, &b, 4);
    return f;
}

static inline double f64_from_bits(u64 b)
{
    double d;
    __builtin_memcpy(&d, &b, 8);
    return d;
}

/* Runs every kernel once; returns the number of slots used. */
static int run_kernels(u32 rep)
{
    int s = 0;
    RUN(s++, "i32 arith", VOID(k_i32_arith()), hash_ints());
    RUN(s++, "i32 minmax", k_i32_minmax(), hash_ints());
    RUN(s++, "i32 select", VOID(k_i32_select()), hash_ints());
    RUN(s++, "i32 shift", VOID(k_i32_shift()), hash_ints());
    RUN(s++, "i32 sums", k_i32_sums(), 0);
    RUN(s++, "i32 abs/cmp", VOID(k_i32_abs()), hash_ints());
    RUN(s++, "i16 dot/sat", k_i16(), hash_small());
    RUN(s++, "u8 avg/sad/max", k_u8(), hash_small());
    RUN(s++, "u8 bins/sat", k_u8_bins(), hash_small());
    RUN(s++, "popcount", k_popcount(), hash_small());
    RUN(s++, "i64", VOID(k_i64()), hash_ints());
    RUN(s++, "widen/narrow", VOID(k_widen_narrow()), hash_small() ^ hash_doubles());
    RUN(s++, "interleave", k_interleave(), hash_floats() ^ hash_small());
    RUN(s++, "struct stores", VOID(k_structs()), hash_structs());
    /* a = 1.25 + rep / 4 (bits), so each repetition differs. */
    RUN(s++, "saxpy", VOID(k_saxpy(f32_from_bits(0x3fa00000u + (rep << 21)))), hash_floats());
    RUN(s++, "f32 reductions", k_fdot(), 0);
    RUN(s++, "f32 select", VOID(k_fselect()), hash_floats());
    RUN(s++, "f32 div/sqrt/fma", VOID(k_fdiv_sqrt()), hash_floats());
    RUN(s++, "conversions", VOID(k_fconv()), hash_floats());
    RUN(s++, "frint", VOID(k_frint()), hash_floats());
    RUN(s++, "daxpy", VOID(k_daxpy(f64_from_bits(0xbff4000000000000ul + ((u64)rep << 48)))),
        hash_doubles());
    RUN(s++, "f64 reductions", k_ddot(), 0);
    RUN(s++, "f64 misc", VOID(k_dmisc()), hash_doubles());
    RUN(s++, "crypto", k_crypto(), 0);
    for (unsigned m = 0; m < sizeof(fpcr_modes) / sizeof(fpcr_modes[0]); m++) {
        record_label(s++, fpcr_names[m]);
        __builtin_aarch64_set_fpcr(fpcr_modes[m]);
        RUN(s++, "f32 specials", VOID(k_fspecial()), hash_sres());
        RUN(s++, "f64 specials", VOID(k_dspecial()), hash_sdres());
        RUN(s++, "f32 intrinsics", VOID(k_fintrin()), hash_sres());
        __builtin_aarch64_set_fpcr(0);
    }
    record_label(s++, "fpcr=0");
    return s;
}

int main(void)
{
    uart_puts("vecc: start\n");
    init_inputs();
    init_specials();
    for (u32 rep = 0; rep < VECC_REPS; rep++) {
        int s = run_kernels(rep);
        RUN(s, "stir", VOID(k_stir(rep)), hash_inputs());
    }
    for (int i = 0; i < k_count; i++) {
        if (k_label[i]) {
            uart_puts("# ");
            uart_puts(k_name[i]);
            uart_putc('\n');
            continue;
        }
        uart_puts(k_name[i]);
        uart_puts(": ");
        put_hex(k_hash[i]);
        uart_puts(" fpsr=");
        put_hexn(k_fpsr[i], 8);
        uart_putc('\n');
    }
    uart_puts("vecc: done\n");
    return 0;
}
