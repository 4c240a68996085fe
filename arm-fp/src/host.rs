//! The host-FPU fast paths: for single and double precision, when the architectural
//! result provably equals what the host computes, compute it with a few host
//! instructions and decide inexactness exactly.
//!
//! The host floating-point environment is assumed to be in its default state, which Rust
//! code never changes: IEEE 754 binary32/binary64 arithmetic (SSE2 on x86-64) rounding
//! to nearest even, with denormal inputs and outputs (no flush-to-zero, no
//! denormals-are-zero).
//!
//! Every function here returns `None` (and leaves the status untouched) unless all of
//! these hold, and then the caller runs the exact soft-float path:
//! - every operand is a finite nonzero number: no NaN rules, no infinities, no zeros (so
//!   no invalid operation or division by zero); a denormal operand only with FPCR.FZ
//!   clear (then it is used as it is, and IDC is not raised: Arm raises IDC only when it
//!   flushes an input), and some operations take normal operands only;
//! - the host's round-to-nearest-even result `r` (Rust never changes the host rounding
//!   mode) is finite and larger in magnitude than the smallest normal number. Then the
//!   exact value `x` lies within half an ulp of `r`, so it is larger than the smallest
//!   normal too: Arm detects tininess *before* rounding (so a result that rounded up to
//!   the smallest normal may still underflow, and FZ may flush it), and here it was not
//!   tiny: no underflow, no flush;
//! - the rounding rule is one of nearest-even, towards +inf, towards -inf, towards zero
//!   (or to odd, for conversions), and the result rounded with it is finite (no
//!   overflow).
//!
//! Each operation also computes `|x|` compared with `|r|` *exactly* (TwoSum error terms,
//! products of 24-bit significands in `f64`, 53x53-bit integer products): the result is
//! inexact exactly when they differ, and a directed rounding rule is `r` or its neighbour
//! on the side of `x`. The only flag such an operation can raise is IXC (but see tiny
//! results below), and the rounded value is defined uniquely by IEEE 754, on the host as
//! in Arm.
//!
//! Exact zero results of additions (`x + -x`) and fused multiply-adds are handled too:
//! they are exact, raise nothing, and are `-0` only when rounding towards minus infinity
//! (neither operand of the sum is a zero, so the "both zeros" sign rule does not apply).
//!
//! Two operations also take results at or below the smallest normal number:
//! - sums, whose tiny results are always exact (every operand is a multiple of the
//!   smallest denormal): no flag, or a flush to zero with UFC under FZ;
//! - products, whose exact value is known (in `f64` for single precision, as a 128-bit
//!   integer times a power of two for double precision), so tininess before rounding is
//!   decided on it as Arm does: under FZ a tiny product is flushed to zero with UFC
//!   (and no IXC), otherwise the host's rounded denormal stands and UFC is raised with
//!   IXC when it is inexact.

use crate::{fpsr, FpStatus, Rounding};

/// The layout constants of single (`D == false`) or double (`D == true`) precision.
struct L<const D: bool>;

impl<const D: bool> L<D> {
    const FB: u32 = if D { 52 } else { 23 };
    const EMAX: u64 = if D { 0x7ff } else { 0xff };
    const SIGN: u64 = 1 << (Self::FB + if D { 11 } else { 8 });
    const FRAC: u64 = (1 << Self::FB) - 1;
    /// The magnitude bits of the smallest normal number.
    const MIN_NORMAL: u64 = 1 << Self::FB;
    /// The magnitude bits of infinity.
    const INF: u64 = Self::EMAX << Self::FB;

    /// The biased exponent field.
    #[inline(always)]
    fn exp(b: u64) -> u64 {
        (b >> Self::FB) & Self::EMAX
    }
    /// A normal number (exponent field neither all zeros nor all ones).
    #[inline(always)]
    fn normal(b: u64) -> bool {
        Self::exp(b).wrapping_sub(1) < Self::EMAX - 1
    }
    /// A normal number below `2^(emax - 1)` in magnitude: sums of two of these and the
    /// intermediate values of TwoSum stay far from overflow.
    #[inline(always)]
    fn normal_small(b: u64) -> bool {
        Self::exp(b).wrapping_sub(1) < Self::EMAX - 3
    }
    /// A finite nonzero operand that FZ does not flush: a normal number, or a denormal
    /// when `fz` is clear.
    #[inline(always)]
    fn operand(b: u64, fz: bool) -> bool {
        let m = b & (Self::SIGN - 1);
        Self::normal(b) | ((m != 0) & (m < Self::MIN_NORMAL) & !fz)
    }
    /// [`L::operand`], and below `2^(emax - 1)` in magnitude.
    #[inline(always)]
    fn operand_small(b: u64, fz: bool) -> bool {
        Self::operand(b, fz) & (b & (Self::SIGN - 1) < (Self::EMAX - 2) << Self::FB)
    }
    /// Significand and exponent field of a finite nonzero number, normalized so that the
    /// significand has its top bit at bit `FB` (a denormal gets an exponent below 1).
    #[inline(always)]
    fn norm(b: u64) -> (u64, i32) {
        let e = Self::exp(b);
        if e != 0 {
            return (Self::mant(b), e as i32);
        }
        let m = b & Self::FRAC;
        let lz = m.leading_zeros() - (63 - Self::FB);
        (m << lz, 1 - lz as i32)
    }
    /// Significand of a finite number: with its implicit bit if normal.
    #[inline(always)]
    fn sig(b: u64) -> u64 {
        (b & Self::FRAC) | (((Self::exp(b) != 0) as u64) << Self::FB)
    }
    /// Significand with its implicit bit (normal numbers only).
    #[inline(always)]
    fn mant(b: u64) -> u64 {
        (b & Self::FRAC) | Self::MIN_NORMAL
    }
    /// Magnitude bits of a result that is finite and above the smallest normal.
    #[inline(always)]
    fn safe(r: u64) -> bool {
        let m = r & (Self::SIGN - 1);
        m > Self::MIN_NORMAL && m < Self::INF
    }
    /// The result of a sum whose (exact) value `r` is below the smallest normal: flushed
    /// to a zero of its sign with UFC under FZ, else `r` itself, with no flag (a tiny
    /// result that is exact does not underflow).
    #[inline(always)]
    fn tiny_exact(r: u64, fz: bool, st: &mut FpStatus) -> u64 {
        if fz {
            st.raise(fpsr::UFC);
            r & Self::SIGN
        } else {
            r
        }
    }
    /// A zero produced by an exact cancellation.
    #[inline(always)]
    fn exact_zero(st: &FpStatus) -> u64 {
        if st.rounding() == Rounding::NegInf {
            Self::SIGN
        } else {
            0
        }
    }
}

/// Where the exact value `x` of an operation lies against its host result `r`:
/// `|x| != |r|` (the operation is inexact) and `|x| > |r|` (meaningful when inexact).
/// Computed without branches: whether an operation is exact is data-dependent and
/// unpredictable.
#[derive(Clone, Copy)]
struct Side {
    inexact: bool,
    greater: bool,
}

impl Side {
    /// `|x|` against `|r|` given as values (compared exactly).
    #[inline(always)]
    fn of_f64(x: f64, r: f64) -> Side {
        Side {
            inexact: x != r,
            greater: x > r,
        }
    }
    /// `|x|` against `|r|` given as integers.
    #[inline(always)]
    fn of_u128(x: u128, r: u128) -> Side {
        Side {
            inexact: x != r,
            greater: x > r,
        }
    }
    /// `x = s + e` with `s != 0` the rounded sum and `e` its exact error.
    #[inline(always)]
    fn of_err(s_neg: bool, e_pos: bool, e_zero: bool) -> Side {
        Side {
            inexact: !e_zero,
            greater: s_neg != e_pos,
        }
    }
}

/// Finish an operation whose host result (rounded to nearest even) is `r`, a [`L::safe`]
/// value, with `side` placing its exact value: apply the rounding rule, check for
/// overflow, raise IXC if inexact.
#[inline(always)]
fn finish<const D: bool>(r: u64, side: Side, rounding: Rounding, st: &mut FpStatus) -> Option<u64> {
    if rounding == Rounding::TieEven {
        st.fpsr |= side.inexact as u32 * fpsr::IXC;
        return Some(r);
    }
    if !side.inexact {
        return Some(r);
    }
    let neg = r & L::<D>::SIGN != 0;
    // Move the magnitude away from zero (`Some(true)`) or towards it (`Some(false)`)
    // when `x` lies on that side of `r`.
    let step = match rounding {
        Rounding::TieEven => None,
        Rounding::PosInf => Some(!neg),
        Rounding::NegInf => Some(neg),
        Rounding::Zero => Some(false),
        Rounding::Odd => (r & 1 == 0).then_some(side.greater),
        Rounding::TieAway => return None,
    };
    let r = match step {
        Some(true) if side.greater => r + 1,
        Some(false) if !side.greater => r - 1,
        _ => r,
    };
    // Stepping away from the largest finite number overflows: the soft path raises OFC.
    if r & !L::<D>::SIGN >= L::<D>::INF {
        return None;
    }
    st.raise(fpsr::IXC);
    Some(r)
}

/// TwoSum (Knuth): the rounding error `a + b - s` of `s = a + b`, exact when nothing
/// overflows (and whatever the order of magnitude of `a` and `b`).
macro_rules! two_sum_err {
    ($a:expr, $b:expr, $s:expr) => {{
        let (a, b, s) = ($a, $b, $s);
        let bv = s - a;
        let av = s - bv;
        (a - av) + (b - bv)
    }};
}

// ---------------------------------------------------------------------------------------
// Single precision
// ---------------------------------------------------------------------------------------

type S = L<false>;
type Dp = L<true>;

#[inline(always)]
fn f32_of(b: u64) -> f32 {
    f32::from_bits(b as u32)
}

/// FADD/FSUB (`negate_b` flips the sign of `b`).
#[inline]
pub(crate) fn add32(a: u64, b: u64, negate_b: bool, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(S::operand_small(a, fz) & S::operand_small(b, fz)) {
        return None;
    }
    let b = if negate_b { b ^ S::SIGN } else { b };
    let (x, y) = (f32_of(a), f32_of(b));
    let s = x + y;
    if s == 0.0 {
        return Some(S::exact_zero(st));
    }
    let r = s.to_bits() as u64;
    let m = r & !S::SIGN;
    if m < S::MIN_NORMAL {
        // Sums below the smallest normal are exact (all are multiples of the smallest
        // denormal).
        return Some(S::tiny_exact(r, fz, st));
    }
    if m >= S::INF {
        return None;
    }
    let e = two_sum_err!(x, y, s);
    let side = Side::of_err(s < 0.0, e > 0.0, e == 0.0);
    finish::<false>(r, side, st.rounding(), st)
}

/// FMUL: the product of two 24-bit significands is exact in `f64`.
#[inline]
pub(crate) fn mul32(a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(S::operand(a, fz) & S::operand(b, fz)) {
        return None;
    }
    let p = f32_of(a) as f64 * f32_of(b) as f64;
    let r32 = p as f32;
    let r = r32.to_bits() as u64;
    let side = Side::of_f64(p.abs(), r32.abs() as f64);
    if !S::safe(r) {
        return mul32_edge(p, r, side, fz, st);
    }
    finish::<false>(r, side, st.rounding(), st)
}

/// [`mul32`] with a result that is not above the smallest normal (or overflows): the
/// exact product `p` tells tininess (before rounding, as Arm does); a tiny result is
/// flushed under FZ, and underflows when inexact.
#[inline(never)]
fn mul32_edge(p: f64, r: u64, side: Side, fz: bool, st: &mut FpStatus) -> Option<u64> {
    if r & !S::SIGN >= S::INF {
        return None;
    }
    let tiny = p.abs() < f32::MIN_POSITIVE as f64;
    if tiny && fz {
        st.raise(fpsr::UFC);
        return Some(r & S::SIGN);
    }
    let res = finish::<false>(r, side, st.rounding(), st)?;
    if tiny && side.inexact {
        st.raise(fpsr::UFC);
    }
    Some(res)
}

/// FDIV: `|a / b|` against `|q|` is `|a|` against `|q * b|`, exact in `f64`.
#[inline]
pub(crate) fn div32(a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(S::operand(a, fz) & S::operand(b, fz)) {
        return None;
    }
    let (x, y) = (f32_of(a), f32_of(b));
    let q = x / y;
    let r = q.to_bits() as u64;
    if !S::safe(r) {
        return None;
    }
    let qb = (q as f64 * y as f64).abs();
    finish::<false>(r, Side::of_f64((x as f64).abs(), qb), st.rounding(), st)
}

/// FSQRT of a positive normal: `sqrt(a)` against `r` is `a` against `r * r`, exact in
/// `f64`. The result is always normal.
#[inline]
pub(crate) fn sqrt32(a: u64, st: &mut FpStatus) -> Option<u64> {
    if !S::operand(a, st.fz()) || a & S::SIGN != 0 {
        return None;
    }
    let x = f32_of(a);
    let r32 = x.sqrt();
    let r = r32.to_bits() as u64;
    if !S::safe(r) {
        return None;
    }
    let rr = r32 as f64 * r32 as f64;
    finish::<false>(r, Side::of_f64(x as f64, rr), st.rounding(), st)
}

/// FPMulAdd `c + a * b`: the product is exact in `f64`, TwoSum gives the sum exactly as
/// `s + e`; rounding `s` to odd (53 bits) with the sign of `e` and then to nearest in
/// 24 bits is one correct rounding of the exact value (53 >= 24 + 2).
#[inline]
pub(crate) fn muladd32(c: u64, a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(S::operand(a, fz) & S::operand(b, fz) & S::operand(c, fz)) {
        return None;
    }
    let p = f32_of(a) as f64 * f32_of(b) as f64;
    let z = f32_of(c) as f64;
    let s = p + z;
    if s == 0.0 {
        // The sum of two doubles rounds to zero only when it is zero (no underflow at
        // these magnitudes: all are multiples of 2^-298).
        return Some(S::exact_zero(st));
    }
    let e = two_sum_err!(p, z, s);
    let mut sb = s.to_bits();
    if e != 0.0 && sb & 1 == 0 {
        // Round to odd: the neighbour of `s` on the side of the exact value.
        if (e > 0.0) == (s > 0.0) {
            sb += 1;
        } else {
            sb -= 1;
        }
    }
    let so = f64::from_bits(sb);
    let r32 = so as f32;
    let r = r32.to_bits() as u64;
    if !S::safe(r) {
        return None;
    }
    // `so` is exact when `e == 0`; otherwise it is odd in 53 bits, so not `r`, and on
    // the same side of `r` as the exact value.
    finish::<false>(
        r,
        Side::of_f64(so.abs(), r32.abs() as f64),
        st.rounding(),
        st,
    )
}

/// FCVT from double to single precision with an explicit rounding rule.
#[inline]
pub(crate) fn d_to_s(a: u64, rounding: Rounding, st: &mut FpStatus) -> Option<u64> {
    if !Dp::normal(a) {
        return None;
    }
    let x = f64::from_bits(a);
    let r32 = x as f32;
    let r = r32.to_bits() as u64;
    if !S::safe(r) {
        return None;
    }
    finish::<false>(r, Side::of_f64(x.abs(), r32.abs() as f64), rounding, st)
}

/// SCVTF/UCVTF: `(-1)^neg * mag * 2^-fbits` for `mag != 0`, `fbits <= 64`. The host
/// converts integers to floating point rounding to nearest even; `mag` against the
/// (integral) result is an integer comparison, and scaling by `2^-fbits` is exact: the
/// result of a nonzero integer is at least 1, so it stays normal.
#[inline]
pub(crate) fn from_int<const D: bool>(
    mag: u64,
    neg: bool,
    fbits: u32,
    st: &mut FpStatus,
) -> Option<u64> {
    if fbits > 64 {
        return None;
    }
    let sign = if neg { L::<D>::SIGN } else { 0 };
    if mag >> (L::<D>::FB + 1) == 0 {
        // Few enough bits to be exact (and a signed conversion, one instruction).
        let r = if D {
            (mag as i64 as f64).to_bits()
        } else {
            (mag as i64 as f32).to_bits() as u64
        };
        return Some((r - ((fbits as u64) << L::<D>::FB)) | sign);
    }
    let (r, rf) = if D {
        let r = mag as f64;
        (r.to_bits(), r)
    } else {
        let r = mag as f32;
        (r.to_bits() as u64, r as f64)
    };
    // The result back as an integer; it may have rounded up to 2^64, which `as u64`
    // would saturate (and which is above every `mag`).
    let top = rf >= 18_446_744_073_709_551_616.0;
    let back = rf as u64;
    let side = Side {
        inexact: top | (mag != back),
        greater: !top & (mag > back),
    };
    let r = (r - ((fbits as u64) << L::<D>::FB)) | sign;
    finish::<D>(r, side, st.rounding(), st)
}

// ---------------------------------------------------------------------------------------
// Double precision
// ---------------------------------------------------------------------------------------

/// FADD/FSUB (`negate_b` flips the sign of `b`).
#[inline]
pub(crate) fn add64(a: u64, b: u64, negate_b: bool, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(Dp::operand_small(a, fz) & Dp::operand_small(b, fz)) {
        return None;
    }
    let b = if negate_b { b ^ Dp::SIGN } else { b };
    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
    let s = x + y;
    if s == 0.0 {
        return Some(Dp::exact_zero(st));
    }
    let r = s.to_bits();
    let m = r & !Dp::SIGN;
    if m < Dp::MIN_NORMAL {
        // Sums below the smallest normal are exact (all are multiples of the smallest
        // denormal).
        return Some(Dp::tiny_exact(r, fz, st));
    }
    if m >= Dp::INF {
        return None;
    }
    let e = two_sum_err!(x, y, s);
    let side = Side::of_err(s < 0.0, e > 0.0, e == 0.0);
    finish::<true>(r, side, st.rounding(), st)
}

/// `ma * 2^d` for 128-bit comparisons of products of significands; `d` is derived from
/// exponent fields and normalized significands and lies in 51..=54 (checked,
/// defensively).
#[inline(always)]
fn shifted(ma: u64, d: i32) -> Option<u128> {
    if !(0..=60).contains(&d) {
        return None;
    }
    Some((ma as u128) << d)
}

/// FMUL: the exact product of the significands `ma * mb` (at most 106 bits); the normal
/// result `p` keeps its top 53 bits, so the product is inexact when the bits below them
/// are not all zero, and `|a * b| > |p|` when `p` is their truncation.
#[inline]
pub(crate) fn mul64(a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(Dp::operand(a, fz) & Dp::operand(b, fz)) {
        return None;
    }
    let r = (f64::from_bits(a) * f64::from_bits(b)).to_bits();
    if !Dp::safe(r) {
        return mul64_edge(a, b, r, fz, st);
    }
    let prod = Dp::sig(a) as u128 * Dp::sig(b) as u128;
    // The number of bits below the top 53 (at most 53, as prod < 2^106).
    let k = (127 - prod.leading_zeros()).saturating_sub(52);
    let side = Side {
        inexact: (prod as u64) & ((1u64 << k) - 1) != 0,
        greater: (prod >> k) as u64 == Dp::mant(r),
    };
    finish::<true>(r, side, st.rounding(), st)
}

/// [`mul64`] with a result that is not above the smallest normal (or overflows). The
/// exact product is `prod * 2^e0`; its leading bit tells tininess (before rounding, as
/// Arm does), and the result keeps the bits down to `2^max(top - 52, -1074)`.
#[inline(never)]
fn mul64_edge(a: u64, b: u64, r: u64, fz: bool, st: &mut FpStatus) -> Option<u64> {
    if r & !Dp::SIGN >= Dp::INF {
        return None;
    }
    let prod = Dp::sig(a) as u128 * Dp::sig(b) as u128;
    let e0 = (Dp::exp(a).max(1) + Dp::exp(b).max(1)) as i32 - 2150;
    let top = e0 + 127 - prod.leading_zeros() as i32;
    let tiny = top < -1022;
    if tiny && fz {
        st.raise(fpsr::UFC);
        return Some(r & Dp::SIGN);
    }
    // The number of product bits below the result's unit in the last place.
    let k = (top - 52).max(-1074) - e0;
    let (inexact, trunc) = if k <= 0 {
        (false, prod)
    } else if k >= 128 {
        (true, 0)
    } else {
        (prod & ((1u128 << k) - 1) != 0, prod >> k)
    };
    let side = Side {
        inexact,
        greater: trunc == Dp::sig(r) as u128,
    };
    let res = finish::<true>(r, side, st.rounding(), st)?;
    if tiny && inexact {
        st.raise(fpsr::UFC);
    }
    Some(res)
}

/// FDIV: `|a / b|` against `|q|` is `ma * 2^d` against `mq * mb` in integers.
#[inline]
pub(crate) fn div64(a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let fz = st.fz();
    if !(Dp::operand(a, fz) & Dp::operand(b, fz)) {
        return None;
    }
    let r = (f64::from_bits(a) / f64::from_bits(b)).to_bits();
    if !Dp::safe(r) {
        return None;
    }
    let ((ma, ea), (mb, eb)) = (Dp::norm(a), Dp::norm(b));
    let d = ea - Dp::exp(r) as i32 - eb + 1075;
    let qb = Dp::mant(r) as u128 * mb as u128;
    let side = Side::of_u128(shifted(ma, d)?, qb);
    finish::<true>(r, side, st.rounding(), st)
}

/// FSQRT of a positive normal: `sqrt(a)` against `r` is `ma * 2^d` against `mr * mr`.
#[inline]
pub(crate) fn sqrt64(a: u64, st: &mut FpStatus) -> Option<u64> {
    if !Dp::operand(a, st.fz()) || a & Dp::SIGN != 0 {
        return None;
    }
    let r = f64::from_bits(a).sqrt().to_bits();
    if !Dp::safe(r) {
        return None;
    }
    let (ma, ea) = Dp::norm(a);
    let d = ea - 2 * Dp::exp(r) as i32 + 1075;
    let mr = Dp::mant(r) as u128;
    let side = Side::of_u128(shifted(ma, d)?, mr * mr);
    finish::<true>(r, side, st.rounding(), st)
}

/// FPMulAdd `c + a * b` through the host's fused multiply-add `r`. The exact value
/// `x = ph + pl` (TwoProduct, with `pl` computed exactly by a second fused operation) and
/// `r - c = u + v` (TwoSum) are both unique "rounded + exact error" pairs, so `x`
/// against `r` (the sign of `x - r = (ph + pl) - (u + v)`) is `ph` against `u`, or if
/// those are equal, `pl` against `v` (rounding to nearest is monotonic).
///
/// `pl` is exact when the product's significand quantum `2^(ea + eb - 104)` is at least
/// the smallest denormal `2^-1074`, i.e. when the biased exponent fields satisfy
/// `Ea + Eb >= 1076`; that also makes every nonzero exact value at least `2^-1074` in
/// magnitude, so a zero `r` means an exact zero.
#[inline]
pub(crate) fn muladd64(c: u64, a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    // The exact-product argument below needs normal `a` and `b`.
    if !(Dp::normal_small(a) & Dp::normal_small(b) & Dp::operand_small(c, st.fz())) {
        return None;
    }
    if Dp::exp(a) + Dp::exp(b) < 1076 {
        return None;
    }
    let (x, y, z) = (f64::from_bits(a), f64::from_bits(b), f64::from_bits(c));
    let rf = x.mul_add(y, z);
    if rf == 0.0 {
        return Some(Dp::exact_zero(st));
    }
    let r = rf.to_bits();
    // Below 2^1022 too, so that TwoSum of `r` and `-c` stays far from overflow.
    if !Dp::safe(r) || !Dp::normal_small(r) {
        return None;
    }
    let ph = x * y;
    if !ph.is_finite() {
        return None;
    }
    let pl = x.mul_add(y, -ph);
    let u = rf - z;
    if !u.is_finite() {
        return None;
    }
    let v = two_sum_err!(rf, -z, u);
    let above = (ph > u) | ((ph == u) & (pl > v));
    let below = (ph < u) | ((ph == u) & (pl < v));
    let side = Side {
        inexact: above | below,
        greater: if rf < 0.0 { below } else { above },
    };
    finish::<true>(r, side, st.rounding(), st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fpcr;

    /// What this module assumes of the host: nearest-even rounding, denormals kept.
    #[test]
    fn host_environment_is_default() {
        use std::hint::black_box;
        let min = black_box(f64::MIN_POSITIVE);
        assert_eq!(
            (min * black_box(0.5)).to_bits(),
            1 << 51,
            "no flush to zero"
        );
        assert_eq!(
            black_box(f64::from_bits(1)) * 2.0,
            f64::from_bits(2),
            "no DAZ"
        );
        let tie = black_box(1.0) + black_box(f64::EPSILON / 2.0);
        assert_eq!(tie, 1.0, "ties to even");
        let m = black_box(f32::MIN_POSITIVE);
        assert_eq!((m * black_box(0.25f32)).to_bits(), 1 << 21);
    }

    #[test]
    fn fast_paths_and_their_limits() {
        let one = 1f64.to_bits();
        let add = |st: &mut FpStatus, a: u64, b: u64| add64(a, b, false, st);
        let mut st = FpStatus::new(0);
        assert_eq!(add(&mut st, one, one), Some(2f64.to_bits()));
        assert_eq!(st.fpsr, 0, "exact");
        assert_eq!(
            add(&mut st, one, (-1f64).to_bits()),
            Some(0),
            "exact cancellation"
        );
        assert_eq!(add(&mut st, one, 0), None, "zero operand");
        assert_eq!(
            add(&mut st, f64::MAX.to_bits(), f64::MAX.to_bits()),
            None,
            "overflow"
        );
        assert_eq!(st.fpsr, 0);
        assert_eq!(
            add(&mut st, one, f64::EPSILON.to_bits() / 2),
            Some(one),
            "tie"
        );
        assert_eq!(st.fpsr, fpsr::IXC);
        let min = f64::MIN_POSITIVE;
        let mut st = FpStatus::new(0);
        assert_eq!(
            mul64(min.to_bits(), 2f64.to_bits(), &mut st),
            Some((2.0 * min).to_bits())
        );
        assert_eq!(st.fpsr, 0);
        // Rounds up to the smallest normal from a tiny value: underflow in Arm.
        let below_one = (1.0 - f64::EPSILON / 2.0).to_bits();
        assert_eq!(
            mul64(min.to_bits(), below_one, &mut st),
            Some(min.to_bits()),
            "tiny before rounding"
        );
        assert_eq!(st.fpsr, fpsr::UFC | fpsr::IXC);
        // ... and is flushed under FZ.
        let mut st = FpStatus::new(fpcr::FZ);
        assert_eq!(mul64(min.to_bits(), below_one, &mut st), Some(0));
        assert_eq!(st.fpsr, fpsr::UFC);
        // A tiny sum is exact.
        let mut st = FpStatus::new(0);
        let (m15, m1) = ((1.5 * min).to_bits(), (-min).to_bits());
        assert_eq!(add(&mut st, m15, m1), Some((0.5 * min).to_bits()));
        assert_eq!(st.fpsr, 0);
        let mut st = FpStatus::new(1 << fpcr::RMODE_SHIFT);
        assert_eq!(
            add(&mut st, one, f64::EPSILON.to_bits() / 2),
            Some(one + 1),
            "round up"
        );
        assert_eq!(st.fpsr, fpsr::IXC);
        let mut st = FpStatus::new(2 << fpcr::RMODE_SHIFT);
        assert_eq!(
            add(&mut st, one, (-1f64).to_bits()),
            Some(1 << 63),
            "-0 towards minus infinity"
        );
    }
}
