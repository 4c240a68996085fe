use super::*;
use fpsr::{DZC, IDC, IOC, IXC, OFC, UFC};

const RP: u32 = 1 << fpcr::RMODE_SHIFT;
const RM: u32 = 2 << fpcr::RMODE_SHIFT;
const RZ: u32 = 3 << fpcr::RMODE_SHIFT;

const S_ONE: u64 = 0x3f80_0000;
const S_TWO: u64 = 0x4000_0000;
const S_QNAN_A: u64 = 0x7fc0_0001;
const S_QNAN_B: u64 = 0xffc0_0002;
const S_SNAN_A: u64 = 0x7f80_0003;
const S_SNAN_B: u64 = 0xff80_0004;
const S_MIN_NORM: u64 = 0x0080_0000;
const S_MAX: u64 = 0x7f7f_ffff;
const S_INF: u64 = 0x7f80_0000;

/// Run `f` with a fresh status for `fpcr`, returning (result, flags).
fn run(fpcr_v: u32, f: impl FnOnce(&mut FpStatus) -> u64) -> (u64, u32) {
    let mut st = FpStatus::new(fpcr_v);
    let r = f(&mut st);
    (r, st.fpsr)
}

#[test]
fn nan_propagation_order() {
    // Signalling NaNs win over quiet ones, regardless of position; they are quieted.
    assert_eq!(
        run(0, |s| add(Fmt::S, S_QNAN_A, S_SNAN_B, s)),
        (0xffc0_0004, IOC)
    );
    // Two SNaNs: the first operand.
    assert_eq!(
        run(0, |s| mul(Fmt::S, S_SNAN_A, S_SNAN_B, s)),
        (0x7fc0_0003, IOC)
    );
    // Two QNaNs: the first operand, no flags.
    assert_eq!(
        run(0, |s| sub(Fmt::S, S_QNAN_B, S_QNAN_A, s)),
        (S_QNAN_B, 0)
    );
    // NaN and number.
    assert_eq!(run(0, |s| div(Fmt::S, S_ONE, S_QNAN_A, s)), (S_QNAN_A, 0));
    // Three operands: SNaN in op2 beats QNaN in the addend.
    assert_eq!(
        run(0, |s| muladd(Fmt::S, S_QNAN_A, S_ONE, S_SNAN_B, s)),
        (0xffc0_0004, IOC)
    );
    // QNaN addend with infinity times zero: default NaN and Invalid.
    assert_eq!(
        run(0, |s| muladd(Fmt::S, S_QNAN_A, S_INF, 0, s)),
        (Fmt::S.default_nan(), IOC)
    );
    // Double and half.
    assert_eq!(
        run(0, |s| add(
            Fmt::D,
            0x7ff0_0000_0000_0001,
            0x7ff8_0000_0000_0000,
            s
        )),
        (0x7ff8_0000_0000_0001, IOC)
    );
    assert_eq!(run(0, |s| add(Fmt::H, 0x7c01, 0x3c00, s)), (0x7e01, IOC));
}

#[test]
fn default_nan_mode() {
    assert_eq!(
        run(fpcr::DN, |s| add(Fmt::S, S_QNAN_B, S_ONE, s)),
        (0x7fc0_0000, 0)
    );
    assert_eq!(
        run(fpcr::DN, |s| sqrt(Fmt::D, 0x7ff0_0000_0000_0001, s)),
        (0x7ff8_0000_0000_0000, IOC)
    );
    // inf - inf is invalid.
    assert_eq!(run(0, |s| sub(Fmt::H, 0x7c00, 0x7c00, s)), (0x7e00, IOC));
}

#[test]
fn flush_to_zero_inputs_and_outputs() {
    // Denormal input flushed with IDC (single/double).
    assert_eq!(run(fpcr::FZ, |s| add(Fmt::S, 1, 0, s)), (0, IDC));
    assert_eq!(run(0, |s| add(Fmt::S, 1, 0, s)), (1, 0));
    // Half precision uses FZ16 and never sets IDC.
    assert_eq!(run(fpcr::FZ16, |s| add(Fmt::H, 1, 0, s)), (0, 0));
    assert_eq!(run(fpcr::FZ, |s| add(Fmt::H, 1, 0, s)), (1, 0));
    // Tiny output flushed to a signed zero with UFC only.
    let half = 0x3f00_0000;
    assert_eq!(
        run(fpcr::FZ, |s| mul(Fmt::S, S_MIN_NORM | 0x8000_0000, half, s)),
        (0x8000_0000, UFC)
    );
    // Without FZ: exact denormal result, no flags.
    assert_eq!(
        run(0, |s| mul(Fmt::S, S_MIN_NORM, half, s)),
        (0x0040_0000, 0)
    );
}

#[test]
fn underflow_tininess_before_rounding() {
    // (1 - 2^-24) * 2^-126 rounds up to the minimum normal, but is tiny before rounding.
    assert_eq!(
        run(0, |s| mul(Fmt::S, 0x3f7f_ffff, S_MIN_NORM, s)),
        (S_MIN_NORM, UFC | IXC)
    );
    // With FZ the decision uses the unrounded exponent too: flushed, UFC only.
    assert_eq!(
        run(fpcr::FZ, |s| mul(Fmt::S, 0x3f7f_ffff, S_MIN_NORM, s)),
        (0, UFC)
    );
    // Not tiny before rounding: inexact only.
    assert_eq!(
        run(0, |s| mul(Fmt::S, 0x3f7f_ffff, S_MIN_NORM + 1, s)),
        (S_MIN_NORM, IXC)
    );
    // Smallest denormal halved: tie to even gives zero.
    assert_eq!(run(0, |s| mul(Fmt::S, 1, 0x3f00_0000, s)), (0, UFC | IXC));
    assert_eq!(run(RP, |s| mul(Fmt::S, 1, 0x3f00_0000, s)), (1, UFC | IXC));
}

#[test]
fn rounding_modes_at_ties() {
    // 1 + 2^-24 is exactly half an ulp above 1.0.
    let tiny = 0x3380_0000; // 2^-24
    assert_eq!(run(0, |s| add(Fmt::S, S_ONE, tiny, s)), (S_ONE, IXC));
    assert_eq!(run(RP, |s| add(Fmt::S, S_ONE, tiny, s)), (S_ONE + 1, IXC));
    assert_eq!(run(RM, |s| add(Fmt::S, S_ONE, tiny, s)), (S_ONE, IXC));
    assert_eq!(run(RZ, |s| add(Fmt::S, S_ONE, tiny, s)), (S_ONE, IXC));
    // (1 + ulp) + half ulp: tie rounds to even, upwards.
    assert_eq!(
        run(0, |s| add(Fmt::S, S_ONE + 1, tiny, s)),
        (S_ONE + 2, IXC)
    );
    // Exact zero sum takes its sign from the rounding mode.
    assert_eq!(run(0, |s| sub(Fmt::S, S_ONE, S_ONE, s)), (0, 0));
    assert_eq!(run(RM, |s| sub(Fmt::S, S_ONE, S_ONE, s)), (0x8000_0000, 0));
    // (-0) + (-0) stays -0 in every mode.
    assert_eq!(
        run(0, |s| add(Fmt::S, 0x8000_0000, 0x8000_0000, s)),
        (0x8000_0000, 0)
    );
}

#[test]
fn overflow_per_rounding_mode() {
    let neg_max = S_MAX | 0x8000_0000;
    assert_eq!(run(0, |s| mul(Fmt::S, S_MAX, S_TWO, s)), (S_INF, OFC | IXC));
    assert_eq!(
        run(RZ, |s| mul(Fmt::S, S_MAX, S_TWO, s)),
        (S_MAX, OFC | IXC)
    );
    assert_eq!(
        run(RM, |s| mul(Fmt::S, S_MAX, S_TWO, s)),
        (S_MAX, OFC | IXC)
    );
    assert_eq!(
        run(RP, |s| mul(Fmt::S, S_MAX, S_TWO, s)),
        (S_INF, OFC | IXC)
    );
    assert_eq!(
        run(RM, |s| mul(Fmt::S, neg_max, S_TWO, s)),
        (S_INF | 0x8000_0000, OFC | IXC)
    );
    assert_eq!(
        run(RP, |s| mul(Fmt::S, neg_max, S_TWO, s)),
        (neg_max, OFC | IXC)
    );
    // Division by zero.
    assert_eq!(
        run(0, |s| div(Fmt::S, S_ONE, 0x8000_0000, s)),
        (S_INF | 0x8000_0000, DZC)
    );
    assert_eq!(
        run(0, |s| div(Fmt::S, 0, 0, s)),
        (Fmt::S.default_nan(), IOC)
    );
}

#[test]
fn fused_multiply_add_is_single_rounding() {
    // (1 + 2^-23)^2 - (1 + 2^-22) = 2^-46 exactly.
    let a = S_ONE + 1;
    let c = (S_ONE + 2) | 0x8000_0000;
    assert_eq!(run(0, |s| fmadd(Fmt::S, a, a, c, s)), (0x2880_0000, 0));
    // FMSUB negates the product: 1 - 1*1 = +0 (RN), -0 under RM.
    assert_eq!(run(0, |s| fmsub(Fmt::S, S_ONE, S_ONE, S_ONE, s)), (0, 0));
    assert_eq!(
        run(RM, |s| fmsub(Fmt::S, S_ONE, S_ONE, S_ONE, s)),
        (0x8000_0000, 0)
    );
    // FNMADD: -a - n*m ; FNMSUB: -a + n*m.
    assert_eq!(
        run(0, |s| fnmadd(Fmt::S, S_ONE, S_ONE, S_ONE, s)),
        (0xc000_0000, 0)
    );
    assert_eq!(
        run(0, |s| fnmsub(Fmt::S, S_TWO, S_ONE, S_ONE, s)),
        (S_ONE, 0)
    );
}

#[test]
fn min_max_zero_ordering_and_nm() {
    let nz = 0x8000_0000;
    assert_eq!(run(0, |s| max(Fmt::S, nz, 0, s)), (0, 0));
    assert_eq!(run(0, |s| max(Fmt::S, 0, nz, s)), (0, 0));
    assert_eq!(run(0, |s| min(Fmt::S, 0, nz, s)), (nz, 0));
    assert_eq!(run(0, |s| min(Fmt::S, nz, 0, s)), (nz, 0));
    // FMAX propagates quiet NaNs; FMAXNM ignores a single one.
    assert_eq!(run(0, |s| max(Fmt::S, S_QNAN_A, S_ONE, s)), (S_QNAN_A, 0));
    assert_eq!(run(0, |s| maxnm(Fmt::S, S_QNAN_A, S_ONE, s)), (S_ONE, 0));
    assert_eq!(run(0, |s| minnm(Fmt::S, S_ONE, S_QNAN_A, s)), (S_ONE, 0));
    // ... but not a signalling one.
    assert_eq!(
        run(0, |s| maxnm(Fmt::S, S_SNAN_A, S_ONE, s)),
        (0x7fc0_0003, IOC)
    );
    // Two quiet NaNs: first one.
    assert_eq!(
        run(0, |s| minnm(Fmt::S, S_QNAN_B, S_QNAN_A, s)),
        (S_QNAN_B, 0)
    );
    // Flushed denormal compares as zero.
    assert_eq!(run(fpcr::FZ, |s| max(Fmt::S, 1, nz, s)), (0, IDC));
}

#[test]
fn compare_flags() {
    let mut st = FpStatus::new(0);
    assert_eq!(compare(Fmt::S, S_QNAN_A, S_ONE, false, &mut st), 0b0011);
    assert_eq!(st.fpsr, 0);
    assert_eq!(compare(Fmt::S, S_QNAN_A, S_ONE, true, &mut st), 0b0011);
    assert_eq!(st.fpsr, IOC);
    let mut st = FpStatus::new(0);
    assert_eq!(compare(Fmt::S, S_ONE, S_SNAN_A, false, &mut st), 0b0011);
    assert_eq!(st.fpsr, IOC);
    let mut st = FpStatus::new(0);
    assert_eq!(compare(Fmt::D, 0, 1 << 63, false, &mut st), 0b0110);
    assert_eq!(compare(Fmt::H, 0xbc00, 0x3c00, false, &mut st), 0b1000);
    assert_eq!(compare(Fmt::H, 0x7c00, 0x7bff, true, &mut st), 0b0010);
    assert_eq!(st.fpsr, 0);
}

#[test]
fn float_to_int_saturation_and_rounding() {
    let big = 0x4415_af1d_78b5_8c40; // 1e20
    let r = |fpv: u64, u: bool, bits: u32, rnd: Rounding| {
        run(0, move |s| to_fixed(Fmt::D, fpv, 0, u, bits, rnd, s))
    };
    assert_eq!(r(big, false, 32, Rounding::Zero), (0x7fff_ffff, IOC));
    assert_eq!(
        r(big | 1 << 63, false, 32, Rounding::Zero),
        (0x8000_0000, IOC)
    );
    assert_eq!(r(big, true, 64, Rounding::Zero), (u64::MAX, IOC));
    assert_eq!(
        r(0x7ff8_0000_0000_0000, false, 64, Rounding::Zero),
        (0, IOC)
    );
    assert_eq!(
        r(0xfff0_0000_0000_0000, false, 64, Rounding::Zero),
        (1 << 63, IOC)
    );
    let m15 = 0xbff8_0000_0000_0000; // -1.5
                                     // -1.5 truncates to -1, which is out of range for unsigned; -0.5 truncates to 0.
    assert_eq!(r(m15, true, 32, Rounding::Zero), (0, IOC));
    assert_eq!(r(0xbfe0_0000_0000_0000, true, 32, Rounding::Zero), (0, IXC));
    assert_eq!(r(m15, true, 32, Rounding::NegInf), (0, IOC));
    assert_eq!(r(m15, false, 32, Rounding::NegInf), (0xffff_fffe, IXC));
    let p25 = 0x4004_0000_0000_0000; // 2.5
    assert_eq!(r(p25, false, 64, Rounding::TieEven), (2, IXC));
    assert_eq!(r(p25, false, 64, Rounding::TieAway), (3, IXC));
    assert_eq!(
        r(p25 | 1 << 63, false, 64, Rounding::TieAway),
        (-3i64 as u64, IXC)
    );
    assert_eq!(r(p25, false, 64, Rounding::PosInf), (3, IXC));
    // 2^31 exactly overflows i32, and -2^31 does not.
    assert_eq!(
        r(0x41e0_0000_0000_0000, false, 32, Rounding::Zero),
        (0x7fff_ffff, IOC)
    );
    assert_eq!(
        r(0xc1e0_0000_0000_0000, false, 32, Rounding::Zero),
        (0x8000_0000, 0)
    );
    // Fixed point: 1.5 with 4 fraction bits = 24.
    assert_eq!(
        run(0, |s| to_fixed(
            Fmt::S,
            0x3fc0_0000,
            4,
            false,
            32,
            Rounding::Zero,
            s
        )),
        (24, 0)
    );
}

#[test]
fn int_to_float() {
    // 2^24 + 1 is not representable in single: ties to even.
    assert_eq!(
        run(0, |s| from_fixed(Fmt::S, 0x0100_0001, 0, true, 32, s)),
        (0x4b80_0000, IXC)
    );
    assert_eq!(
        run(RP, |s| from_fixed(Fmt::S, 0x0100_0001, 0, true, 32, s)),
        (0x4b80_0001, IXC)
    );
    // i64::MIN
    assert_eq!(
        run(0, |s| from_fixed(Fmt::D, 1 << 63, 0, true, 64, s)),
        (0xc3e0_0000_0000_0000, 0)
    );
    // u32::MAX as unsigned with 32 fraction bits is just below 1.0.
    assert_eq!(
        run(0, |s| from_fixed(Fmt::D, 0xffff_ffff, 32, false, 32, s)),
        (0x3fef_ffff_ffe0_0000, 0)
    );
    // Half overflow.
    assert_eq!(
        run(0, |s| from_fixed(Fmt::H, 70000, 0, false, 32, s)),
        (0x7c00, OFC | IXC)
    );
}

#[test]
fn precision_conversions() {
    // Double NaN payload truncated into single, SNaN quieted.
    assert_eq!(
        run(0, |s| convert(Fmt::D, Fmt::S, 0x7ff0_0000_2000_0000, s)),
        (0x7fc0_0001, IOC)
    );
    assert_eq!(
        run(0, |s| convert(Fmt::S, Fmt::D, 0xffc0_0001, s)),
        (0xfff8_0000_2000_0000, 0)
    );
    // AHP: infinities and NaNs are not representable in the alternative format.
    assert_eq!(
        run(fpcr::AHP, |s| convert(Fmt::S, Fmt::H, S_INF, s)),
        (0x7fff, IOC)
    );
    assert_eq!(
        run(fpcr::AHP, |s| convert(Fmt::S, Fmt::H, S_QNAN_A, s)),
        (0, IOC)
    );
    // AHP source: 0x7c00 is 65536.
    assert_eq!(
        run(fpcr::AHP, |s| convert(Fmt::H, Fmt::S, 0x7c00, s)),
        (0x4780_0000, 0)
    );
    // Conversions ignore FZ16 (half denormal stays).
    assert_eq!(
        run(fpcr::FZ16, |s| convert(Fmt::H, Fmt::S, 1, s)),
        (0x3380_0000, 0)
    );
    // Overflow to half.
    assert_eq!(
        run(0, |s| convert(Fmt::S, Fmt::H, 0x4780_0000, s)),
        (0x7c00, OFC | IXC)
    );
    assert_eq!(
        run(RZ, |s| convert(Fmt::S, Fmt::H, 0x4780_0000, s)),
        (0x7bff, OFC | IXC)
    );
    // Round to odd (FCVTXN).
    assert_eq!(
        run(0, |s| convert_with(
            Fmt::D,
            Fmt::S,
            0x3ff0_0000_0000_0001,
            Rounding::Odd,
            s
        )),
        (S_ONE | 1, IXC)
    );
}

#[test]
fn round_to_integral() {
    let m25 = 0xc020_0000; // -2.5
    let ri = |r: Rounding, exact: bool| run(0, move |s| round_int(Fmt::S, m25, r, exact, s));
    assert_eq!(ri(Rounding::TieEven, false), (0xc000_0000, 0));
    assert_eq!(ri(Rounding::TieAway, false), (0xc040_0000, 0));
    assert_eq!(ri(Rounding::PosInf, false), (0xc000_0000, 0));
    assert_eq!(ri(Rounding::NegInf, false), (0xc040_0000, 0));
    assert_eq!(ri(Rounding::TieEven, true), (0xc000_0000, IXC));
    // -0.25 rounds to -0.
    assert_eq!(
        run(0, |s| round_int(
            Fmt::S,
            0xbe80_0000,
            Rounding::TieEven,
            false,
            s
        )),
        (0x8000_0000, 0)
    );
}

#[test]
fn estimates_and_steps() {
    assert_eq!(
        run(0, |s| recip_estimate(Fmt::S, S_ONE, s)),
        (0x3f7f_8000, 0)
    );
    assert_eq!(run(0, |s| recip_estimate(Fmt::S, 0, s)), (S_INF, DZC));
    assert_eq!(run(0, |s| recip_estimate(Fmt::S, 1, s)), (S_INF, OFC | IXC));
    assert_eq!(
        run(RZ, |s| recip_estimate(Fmt::S, 1, s)),
        (S_MAX, OFC | IXC)
    );
    assert_eq!(
        run(fpcr::FZ, |s| recip_estimate(Fmt::S, S_MAX, s)),
        (0, UFC)
    );
    assert_eq!(
        run(0, |s| rsqrt_estimate(Fmt::S, S_ONE, s)),
        (0x3f7f_8000, 0)
    );
    assert_eq!(
        run(0, |s| rsqrt_estimate(Fmt::S, 0x4080_0000, s)),
        (0x3eff_8000, 0)
    );
    assert_eq!(
        run(0, |s| rsqrt_estimate(Fmt::S, 0xbf80_0000, s)),
        (0x7fc0_0000, IOC)
    );
    // FRECPS: 2 - a*b ; inf*0 gives 2.0.
    assert_eq!(run(0, |s| recip_step(Fmt::S, S_ONE, S_ONE, s)), (S_ONE, 0));
    assert_eq!(run(0, |s| recip_step(Fmt::S, S_INF, 0, s)), (S_TWO, 0));
    // FRSQRTS: (3 - a*b)/2 ; inf*0 gives 1.5.
    assert_eq!(run(0, |s| rsqrt_step(Fmt::S, S_ONE, S_ONE, s)), (S_ONE, 0));
    assert_eq!(
        run(0, |s| rsqrt_step(Fmt::S, 0, S_INF, s)),
        (0x3fc0_0000, 0)
    );
    // FRECPX.
    assert_eq!(run(0, |s| recpx(Fmt::S, 0x4040_0000, s)), (S_ONE, 0));
    assert_eq!(run(0, |s| recpx(Fmt::S, 0x8000_0001, s)), (0xff00_0000, 0));
}

#[test]
fn sqrt_cases() {
    assert_eq!(run(0, |s| sqrt(Fmt::S, 0x4080_0000, s)), (S_TWO, 0));
    assert_eq!(run(0, |s| sqrt(Fmt::S, S_TWO, s)), (0x3fb5_04f3, IXC));
    assert_eq!(run(0, |s| sqrt(Fmt::S, 0x8000_0000, s)), (0x8000_0000, 0));
    assert_eq!(
        run(0, |s| sqrt(Fmt::D, 1 << 63 | 1, s)),
        (0x7ff8_0000_0000_0000, IOC)
    );
    assert_eq!(run(0, |s| sqrt(Fmt::D, 1, s)), (0x1e60_0000_0000_0000, 0));
}

#[test]
fn isqrt_matches_reference() {
    let mut x = 0x0123_4567_89ab_cdefu128;
    for i in 0..20000u32 {
        x = x
            .wrapping_mul(0x2545_f491_4f6c_dd1d_9e37_79b9_7f4a_7c15)
            .wrapping_add(i as u128);
        let n = x >> (i % 128);
        assert_eq!(isqrt(n), isqrt_reference(n), "n={n:#x}");
        let r = n >> 64;
        for m in [r * r, (r * r).saturating_sub(1), r * r + 1] {
            assert_eq!(isqrt(m), isqrt_reference(m), "m={m:#x}");
        }
    }
    for n in [
        0u128,
        1,
        2,
        3,
        4,
        u128::MAX >> 1,
        (1u128 << 126) - 1,
        1 << 126,
    ] {
        assert_eq!(isqrt(n), isqrt_reference(n), "n={n:#x}");
    }
}

/// Values every bit-level fast path must treat as the unpacking path does: zeros,
/// infinities, normals at both ends, denormals and NaNs of both kinds, both signs.
fn special_values(fmt: Fmt) -> Vec<u64> {
    let s = fmt.sign_bit();
    let base: Vec<u64> = match fmt {
        Fmt::S => vec![
            0,
            1,
            0x007f_ffff,
            S_MIN_NORM,
            S_ONE,
            S_TWO,
            S_MAX,
            S_INF,
            0x7fc0_0001,
            0x7f80_0003,
        ],
        _ => vec![
            0,
            1,
            0x000f_ffff_ffff_ffff,
            0x0010_0000_0000_0000,
            1f64.to_bits(),
            2f64.to_bits(),
            f64::MAX.to_bits(),
            f64::INFINITY.to_bits(),
            0x7ff8_0000_0000_0001,
            0x7ff0_0000_0000_0003,
        ],
    };
    let mut v: Vec<u64> = base.iter().flat_map(|&b| [b, b | s]).collect();
    // Some pseudo-random patterns too (a fixed LCG: reproducible).
    let mut x = 0x1234_5678_9abc_def0u64;
    for _ in 0..64 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        v.push(x & fmt.mask());
    }
    v
}

#[test]
fn min_max_fast_path_matches_unpacking() {
    for fmt in [Fmt::S, Fmt::D] {
        let vals = special_values(fmt);
        for fz in [0, fpcr::FZ] {
            for &a in &vals {
                for &b in &vals {
                    for is_max in [false, true] {
                        let fast = run(fz, |st| minmax(fmt, a, b, is_max, st));
                        let slow = run(fz, |st| minmax_unpacked(fmt, a, b, is_max, st));
                        assert_eq!(fast, slow, "{fmt:?} fz {fz} max {is_max} {a:#x} {b:#x}");
                    }
                }
            }
        }
    }
}

#[test]
fn compare_fast_path_is_ieee_order() {
    let vals = special_values(Fmt::D);
    for &a in &vals {
        for &b in &vals {
            let (x, y) = (f64::from_bits(a), f64::from_bits(b));
            let (nzcv, flags) = run(0, |st| compare(Fmt::D, a, b, false, st) as u64);
            let want = match x.partial_cmp(&y) {
                Some(Ordering::Equal) => 0b0110,
                Some(Ordering::Less) => 0b1000,
                Some(Ordering::Greater) => 0b0010,
                None => 0b0011,
            };
            assert_eq!(nzcv, want, "{a:#x} {b:#x}");
            if !x.is_nan() && !y.is_nan() {
                assert_eq!(flags, 0, "{a:#x} {b:#x}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Differential tests: the fast paths against the soft-float paths
// ---------------------------------------------------------------------------------------

/// A reproducible xorshift64* generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Every combination of the rounding mode, FZ, DN and AHP.
fn all_fpcrs() -> Vec<u32> {
    let mut v = Vec::new();
    for rm in 0..4u32 {
        for extra in 0..8u32 {
            let mut f = rm << fpcr::RMODE_SHIFT;
            if extra & 1 != 0 {
                f |= fpcr::FZ;
            }
            if extra & 2 != 0 {
                f |= fpcr::DN;
            }
            if extra & 4 != 0 {
                f |= fpcr::AHP | fpcr::FZ16;
            }
            v.push(f);
        }
    }
    v
}

/// The generator of a differential test: its own seed, changed by `ARM_FP_DIFF_SEED`.
fn diff_rng(seed: u64) -> Rng {
    let extra = std::env::var("ARM_FP_DIFF_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0u64);
    Rng((seed ^ extra.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1)
}

/// How many random cases each differential test runs (`ARM_FP_DIFF_SCALE` multiplies).
fn diff_cases(base: u64) -> u64 {
    let k = std::env::var("ARM_FP_DIFF_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1u64)
        .max(1);
    base * k
}

/// An operand biased towards what the fast paths must get right: specials, values near
/// the underflow and overflow thresholds, short significands (exact results), values
/// near 1.0, and raw bit patterns.
fn rand_operand(rng: &mut Rng, fmt: Fmt) -> u64 {
    let x = rand_operand_bits(rng, fmt);
    // Now and then garbage above the format's bits, which every function ignores.
    if fmt != Fmt::D && rng.below(16) == 0 {
        x | rng.next() << fmt.width()
    } else {
        x
    }
}

fn rand_operand_bits(rng: &mut Rng, fmt: Fmt) -> u64 {
    let fb = fmt.fbits();
    let emax = fmt.emax_field();
    let bias = emax >> 1;
    let sign = if rng.below(2) == 1 { fmt.sign_bit() } else { 0 };
    let frac = rng.next() & fmt.frac_mask();
    // Short significands: the low bits cleared.
    let short = frac & !(fmt.frac_mask() >> rng.below(fb as u64 + 1));
    match rng.below(12) {
        0 => {
            let sp = special_values(fmt);
            sp[rng.below(sp.len() as u64) as usize]
        }
        1 => rng.next() & fmt.mask(),
        2 => sign | frac >> rng.below(fb as u64 + 1), // denormal or zero
        3 => sign | ((1 + rng.below(4)) << fb) | frac, // tiny normal
        4 => sign | ((1 + rng.below(4)) << fb) | short,
        5 => sign | ((emax - 1 - rng.below(4)) << fb) | frac, // huge
        6 => sign | ((emax - 1 - rng.below(4)) << fb) | short,
        7 | 8 => sign | ((bias - 4 + rng.below(9)) << fb) | short,
        9 => sign | ((bias - 2 + rng.below(5)) << fb) | (frac | fmt.frac_mask() >> 3), // near a power of two
        _ => sign | ((1 + rng.below(emax - 1)) << fb) | frac,
    }
}

/// A second operand related to `a`: equal, opposite, a few ulps away, scaled, or far
/// smaller (large exponent differences, ties at half an ulp), or unrelated.
fn rand_related(rng: &mut Rng, fmt: Fmt, a: u64) -> u64 {
    let fb = fmt.fbits() as u64;
    let e = (a >> fb) & fmt.emax_field();
    let with_exp = |x: u64, e: u64| (x & !(fmt.emax_field() << fb)) | (e << fb);
    match rng.below(10) {
        0 => a,
        1 => a ^ fmt.sign_bit(),
        2 => {
            (a ^ fmt.sign_bit())
                .wrapping_add(rng.below(5))
                .wrapping_sub(2)
                & fmt.mask()
        }
        3 => a.wrapping_add(rng.below(9)).wrapping_sub(4) & fmt.mask(),
        4 if e > fb + 2 => {
            // Half an ulp of `a` (or near it), either sign: ties.
            let s = if rng.below(2) == 1 { fmt.sign_bit() } else { 0 };
            let m = if rng.below(2) == 1 { 0 } else { rng.next() & 3 };
            s | ((e - fb - 1 - rng.below(3)) << fb) | m
        }
        5 if e > 0 => {
            // Much smaller or larger exponent.
            let d = rng.below(2 * fb + 8);
            let ne = if rng.below(2) == 1 {
                e.saturating_sub(d).max(1)
            } else {
                (e + d).min(fmt.emax_field() - 1)
            };
            with_exp(rand_operand(rng, fmt), ne)
        }
        6 => {
            // Product or quotient near 1.0 (products of tiny and ~1, huge and ~1).
            let bias = fmt.emax_field() >> 1;
            let s = if rng.below(2) == 1 { fmt.sign_bit() } else { 0 };
            let f = if rng.below(2) == 1 {
                fmt.frac_mask() - rng.below(4)
            } else {
                rng.below(4)
            };
            s | ((bias - rng.below(2)) << fb) | f
        }
        _ => rand_operand(rng, fmt),
    }
}

/// Run `fast` and `slow` from the same status, over every FPCR setting and FPSR with and
/// without IXC, and require the same result and flags.
fn check_same(
    what: &str,
    ops: &[u64],
    fpcrs: &[u32],
    fast: impl Fn(&mut FpStatus) -> u64,
    slow: impl Fn(&mut FpStatus) -> u64,
) {
    for &fc in fpcrs {
        for fpsr0 in [0, IXC] {
            let mut s1 = FpStatus::new(fc);
            s1.fpsr = fpsr0;
            let mut s2 = s1;
            let r1 = fast(&mut s1);
            let r2 = slow(&mut s2);
            assert_eq!(
                (r1, s1.fpsr),
                (r2, s2.fpsr),
                "{what} fpcr={fc:#x} fpsr0={fpsr0:#x} operands {ops:x?}: fast {r1:#x} flags {:#x}, soft {r2:#x} flags {:#x}",
                s1.fpsr,
                s2.fpsr
            );
        }
    }
}

/// A random subset of the FPCR settings (all of them every so often).
fn some_fpcrs(rng: &mut Rng, all: &[u32]) -> Vec<u32> {
    if rng.below(8) == 0 {
        return all.to_vec();
    }
    (0..3)
        .map(|_| all[rng.below(all.len() as u64) as usize])
        .collect()
}

#[test]
fn host_arithmetic_matches_soft_float() {
    let all = all_fpcrs();
    let mut rng = diff_rng(0x5eed_1234_abcd_0001);
    for fmt in [Fmt::S, Fmt::D] {
        for _ in 0..diff_cases(40_000) {
            let a = rand_operand(&mut rng, fmt);
            let b = rand_related(&mut rng, fmt, a);
            let fc = some_fpcrs(&mut rng, &all);
            let ops = [a, b];
            check_same(
                "add",
                &ops,
                &fc,
                |s| add(fmt, a, b, s),
                |s| addsub(fmt, a, b, false, s),
            );
            check_same(
                "sub",
                &ops,
                &fc,
                |s| sub(fmt, a, b, s),
                |s| addsub(fmt, a, b, true, s),
            );
            check_same(
                "mul",
                &ops,
                &fc,
                |s| mul(fmt, a, b, s),
                |s| mul_soft(fmt, a, b, false, s),
            );
            check_same(
                "mulx",
                &ops,
                &fc,
                |s| mulx(fmt, a, b, s),
                |s| mul_soft(fmt, a, b, true, s),
            );
            check_same(
                "div",
                &ops,
                &fc,
                |s| div(fmt, a, b, s),
                |s| div_soft(fmt, a, b, s),
            );
            // Exact quotients: (a * b) / b.
            let p = mul_soft(fmt, a, b, false, &mut FpStatus::new(0));
            check_same(
                "div-exact",
                &[p, b],
                &fc,
                |s| div(fmt, p, b, s),
                |s| div_soft(fmt, p, b, s),
            );
            check_same(
                "sqrt",
                &[a],
                &fc,
                |s| sqrt(fmt, a, s),
                |s| sqrt_soft(fmt, a, s),
            );
            // Exact square roots.
            let sq = mul_soft(fmt, a, a, false, &mut FpStatus::new(0));
            check_same(
                "sqrt-exact",
                &[sq],
                &fc,
                |s| sqrt(fmt, sq, s),
                |s| sqrt_soft(fmt, sq, s),
            );
            // Fused multiply-add with an addend that is unrelated, or cancels the
            // product (nearly) exactly, or is far smaller or larger.
            let c = match rng.below(4) {
                0 => rand_operand(&mut rng, fmt),
                1 => {
                    let p = mul_soft(fmt, a, b, false, &mut FpStatus::new(0));
                    (p ^ fmt.sign_bit())
                        .wrapping_add(rng.below(7))
                        .wrapping_sub(3)
                        & fmt.mask()
                }
                _ => rand_related(&mut rng, fmt, p),
            };
            check_same(
                "muladd",
                &[c, a, b],
                &fc,
                |s| muladd(fmt, c, a, b, s),
                |s| muladd_soft(fmt, c, a, b, s),
            );
        }
    }
}

/// Operands for rounding to integers and conversions to fixed point: exponents around
/// the integer range of the format and around 2^31, 2^32, 2^63, 2^64 (with fraction
/// bits), halves and other ties, plus the general mix.
fn rand_int_like(rng: &mut Rng, fmt: Fmt) -> u64 {
    let fb = fmt.fbits() as u64;
    let bias = fmt.emax_field() >> 1;
    let sign = if rng.below(2) == 1 { fmt.sign_bit() } else { 0 };
    let frac = rng.next() & fmt.frac_mask();
    let short = frac & !(fmt.frac_mask() >> rng.below(fb + 1));
    let f = if rng.below(2) == 1 { frac } else { short };
    match rng.below(4) {
        0 => sign | ((bias - 3 + rng.below(fb + 6)) << fb) | f,
        1 => {
            let p = [31u64, 32, 63, 64][rng.below(4) as usize];
            let e = bias + p - 1 + rng.below(3) - rng.below(8).min(p);
            let f = if rng.below(2) == 1 {
                fmt.frac_mask() - rng.below(3)
            } else {
                rng.below(3) * (1 << fb.saturating_sub(40))
            };
            sign | (e << fb) | f
        }
        _ => rand_operand(rng, fmt),
    }
}

const ROUNDINGS: [Rounding; 6] = [
    Rounding::TieEven,
    Rounding::PosInf,
    Rounding::NegInf,
    Rounding::Zero,
    Rounding::TieAway,
    Rounding::Odd,
];

#[test]
fn bit_level_conversions_match_soft_float() {
    let all = all_fpcrs();
    let mut rng = diff_rng(0x5eed_1234_abcd_0002);
    for fmt in [Fmt::S, Fmt::D] {
        for _ in 0..diff_cases(20_000) {
            let a = rand_int_like(&mut rng, fmt);
            let fc = some_fpcrs(&mut rng, &all);
            let rnd = ROUNDINGS[rng.below(6) as usize];
            let exact = rng.below(2) == 1;
            check_same(
                "round_int",
                &[a, exact as u64],
                &fc,
                |s| round_int(fmt, a, rnd, exact, s),
                |s| round_int_soft(fmt, a, rnd, exact, s),
            );
            let int_bits = if rng.below(2) == 1 { 64 } else { 32 };
            let fbits = match rng.below(4) {
                0 | 1 => 0,
                2 => 1 + rng.below(int_bits as u64) as u32,
                _ => int_bits,
            };
            let unsigned = rng.below(2) == 1;
            check_same(
                "to_fixed",
                &[a, fbits as u64, unsigned as u64, int_bits as u64],
                &fc,
                |s| to_fixed(fmt, a, fbits, unsigned, int_bits, rnd, s),
                |s| to_fixed_soft(fmt, a, fbits, unsigned, int_bits, rnd, s),
            );
            let to = if fmt == Fmt::S { Fmt::D } else { Fmt::S };
            // Doubles that convert to singles near their limits, too.
            let c = if fmt == Fmt::D && rng.below(2) == 1 {
                let x = rand_operand(&mut rng, Fmt::S);
                let wide =
                    convert_with_soft(Fmt::S, Fmt::D, x, Rounding::TieEven, &mut FpStatus::new(0));
                wide ^ (rng.next() & ((1 << 30) - 1)) >> rng.below(31)
            } else {
                a
            };
            check_same(
                "convert",
                &[c, rnd as u64],
                &fc,
                |s| convert_with(fmt, to, c, rnd, s),
                |s| convert_with_soft(fmt, to, c, rnd, s),
            );
            check_same(
                "convert-fpcr",
                &[c],
                &fc,
                |s| convert(fmt, to, c, s),
                |s| {
                    let r = s.rounding();
                    convert_with_soft(fmt, to, c, r, s)
                },
            );
        }
    }
}

type Pred = fn(Ordering) -> bool;

#[test]
fn bit_level_compare_and_min_max_match_soft_float() {
    let all = all_fpcrs();
    let mut rng = diff_rng(0x5eed_1234_abcd_0003);
    for fmt in [Fmt::S, Fmt::D] {
        for _ in 0..diff_cases(20_000) {
            let a = rand_operand(&mut rng, fmt);
            let b = rand_related(&mut rng, fmt, a);
            let fc = some_fpcrs(&mut rng, &all);
            let ops = [a, b];
            for signal in [false, true] {
                check_same(
                    "compare",
                    &ops,
                    &fc,
                    |s| compare(fmt, a, b, signal, s) as u64,
                    |s| compare_soft(fmt, a, b, signal, s) as u64,
                );
            }
            for is_max in [false, true] {
                check_same(
                    "minmax",
                    &ops,
                    &fc,
                    |s| minmax(fmt, a, b, is_max, s),
                    |s| minmax_unpacked(fmt, a, b, is_max, s),
                );
                check_same(
                    "minmaxnum",
                    &ops,
                    &fc,
                    |s| minmaxnum(fmt, a, b, is_max, s),
                    |s| minmaxnum_unpacked(fmt, a, b, is_max, s),
                );
            }
            let preds: [(Pred, bool); 3] = [
                (|o| o == Ordering::Equal, false),
                (|o| o != Ordering::Less, true),
                (|o| o == Ordering::Greater, true),
            ];
            for (pred, signal) in preds {
                check_same(
                    "compare_bool",
                    &ops,
                    &fc,
                    |s| compare_bool(fmt, a, b, signal, s, pred) as u64,
                    |s| {
                        let ua = unpack(fmt, a, s);
                        let ub = unpack(fmt, b, s);
                        if ua.is_nan() || ub.is_nan() {
                            if signal || ua.class == Class::SNaN || ub.class == Class::SNaN {
                                s.raise(IOC);
                            }
                            return 0;
                        }
                        pred(key(fmt, a, &ua).cmp(&key(fmt, b, &ub))) as u64
                    },
                );
            }
        }
    }
}

#[test]
fn special_operands_match_soft_float() {
    let all = all_fpcrs();
    for fmt in [Fmt::S, Fmt::D] {
        // Zeros, denormals, normals at both ends, infinities, NaNs of both kinds, both
        // signs (the fixed part of `special_values`).
        let vals: Vec<u64> = special_values(fmt).into_iter().take(20).collect();
        for &a in &vals {
            check_same(
                "sqrt",
                &[a],
                &all,
                |s| sqrt(fmt, a, s),
                |s| sqrt_soft(fmt, a, s),
            );
            for &b in &vals {
                let ops = [a, b];
                check_same(
                    "add",
                    &ops,
                    &all,
                    |s| add(fmt, a, b, s),
                    |s| addsub(fmt, a, b, false, s),
                );
                check_same(
                    "sub",
                    &ops,
                    &all,
                    |s| sub(fmt, a, b, s),
                    |s| addsub(fmt, a, b, true, s),
                );
                check_same(
                    "mulx",
                    &ops,
                    &all,
                    |s| mulx(fmt, a, b, s),
                    |s| mul_soft(fmt, a, b, true, s),
                );
                check_same(
                    "div",
                    &ops,
                    &all,
                    |s| div(fmt, a, b, s),
                    |s| div_soft(fmt, a, b, s),
                );
                for &c in &vals {
                    check_same(
                        "muladd",
                        &[c, a, b],
                        &all[..8],
                        |s| muladd(fmt, c, a, b, s),
                        |s| muladd_soft(fmt, c, a, b, s),
                    );
                }
            }
        }
    }
}

#[test]
fn host_int_to_float_matches_soft_float() {
    let all = all_fpcrs();
    let mut rng = diff_rng(0x5eed_1234_abcd_0004);
    for fmt in [Fmt::S, Fmt::D] {
        for i in 0..diff_cases(20_000) {
            let x = rng.next();
            let v = match i % 6 {
                0 => x >> rng.below(64),
                1 => (x >> rng.below(64)).wrapping_neg(),
                // Just above and below the precision: ties and carries.
                2 => (1u64 << (24 + rng.below(40))) + rng.below(5) - 2,
                3 => (x >> rng.below(64)) & !((1u64 << rng.below(40)) - 1),
                4 => [0, 1, u64::MAX, 1 << 63, (1 << 63) - 1, 1 << 31, 0xffff_ffff]
                    [rng.below(7) as usize],
                _ => x,
            };
            let int_bits = if rng.below(2) == 1 { 64 } else { 32 };
            let fbits = match rng.below(3) {
                0 => 0,
                1 => rng.below(int_bits as u64 + 1) as u32,
                _ => int_bits,
            };
            let signed = rng.below(2) == 1;
            let fc = some_fpcrs(&mut rng, &all);
            check_same(
                "from_fixed",
                &[v, fbits as u64, signed as u64, int_bits as u64],
                &fc,
                |s| from_fixed(fmt, v, fbits, signed, int_bits, s),
                |s| {
                    let v = v & (u64::MAX >> (64 - int_bits));
                    let (neg, mag) = if signed && (v >> (int_bits - 1)) & 1 == 1 {
                        (true, (1u128 << int_bits) - v as u128)
                    } else {
                        (false, v as u128)
                    };
                    if mag == 0 {
                        return fmt.zero(false);
                    }
                    round(fmt, neg, mag, -(fbits as i32), s)
                },
            );
        }
    }
}
