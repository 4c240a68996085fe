//! Bit-exact AArch64 scalar floating-point semantics.
//!
//! Every operation is a pure function over bit patterns (`u64`, low 16/32/64 bits used
//! according to [`Fmt`]) plus an [`FpStatus`] carrying FPCR (read) and FPSR (cumulative
//! flags, written). The behaviour follows the Arm ARM pseudocode (FPUnpack, FPRound,
//! FPProcessNaN(s), FPAdd, FPMulAdd, FPToFixed, FPRecipEstimate, ...) with FPCR.AH = 0 and
//! all floating-point traps disabled. Arithmetic is done exactly on integers, then rounded
//! once by [`FpStatus`]'s rounding mode.
//!
//! Single and double precision take faster routes to the same bits and flags:
//! - the host FPU (module `host`) for add, sub, mul, div, sqrt, fused multiply-add,
//!   double-to-single and integer-to-float conversions when the operands are finite and
//!   nonzero and the result is safely normal (or, for sums and products, tiny);
//!   whether the operation was inexact, and on which side of the host's
//!   round-to-nearest-even result the exact value lies (for the directed rounding modes),
//!   is decided exactly (TwoSum error terms, products of significands in wider formats or
//!   in 128-bit integers);
//! - zeros, infinities and NaNs straight from the bits (`*_special`), without unpacking;
//! - rounding to integral, conversion to fixed point, comparisons and min/max straight
//!   from the bits, mostly without branches on the data.
//!
//! Everything else (denormal operands under FZ, overflowing results, tiny quotients,
//! half precision, ...) runs the general unpack-compute-round path, which the unit tests
//! use as the reference for every faster route.
//!
//! # API
//!
//! All functions take a [`Fmt`] (H, S, D; B only for BFCVT), operand bit patterns in the
//! low bits of `u64`s, and `&mut FpStatus`; they return the result bit pattern
//! (zero-extended) and OR exception flags into `FpStatus::fpsr`.
//!
//! - arithmetic: [`add`], [`sub`], [`mul`], [`mulx`], [`nmul`], [`div`], [`sqrt`], [`abd`],
//!   [`muladd`] (FPMulAdd) and [`fmadd`], [`fmsub`], [`fnmadd`], [`fnmsub`]; [`neg`], [`abs`]
//! - min/max: [`max`], [`min`], [`maxnm`], [`minnm`]
//! - compares: [`compare`] (FCMP/FCMPE, NZCV), [`compare_eq`], [`compare_ge`],
//!   [`compare_gt`], [`abs_compare_ge`], [`abs_compare_gt`] (AdvSIMD FCMxx/FACxx)
//! - conversions: [`convert`] / [`convert_with`] (FCVT, FCVTXN with `Rounding::Odd`,
//!   BFCVT with `Fmt::B`), [`to_fixed`] (`FCVT{N,A,P,M,Z}{S,U}`, fixed-point `FCVTZ{S,U}`),
//!   [`from_fixed`] (SCVTF/UCVTF), [`js_convert`] (FJCVTZS)
//! - rounding to integral: [`round_int`] (`FRINT{N,A,P,M,Z,X,I}`), [`round_int_n`]
//!   (FRINT32Z/X, FRINT64Z/X)
//! - estimates and steps: [`recip_estimate`], [`rsqrt_estimate`], [`recip_step`],
//!   [`rsqrt_step`], [`recpx`], [`unsigned_recip_estimate`], [`unsigned_rsqrt_estimate`]
//!
//! Vector (AdvSIMD) forms are these scalar functions applied per lane; FCCMP is
//! [`compare`] plus the condition check in the caller.
//!
//! Note on tininess: with FPCR.AH = 0 the Arm pseudocode (FPRoundBase) detects underflow
//! on the exponent *before* rounding, and flush-to-zero of outputs is decided on the
//! unrounded exponent too. This crate follows the pseudocode (and QEMU agrees).
#![forbid(unsafe_code)]

mod host;

/// `$body` with `$f` bound to the format `$fmt` as a constant, one copy per format: the
/// format's constants fold, and there is one dispatch on the format instead of many.
macro_rules! per_fmt {
    ($fmt:expr, $f:ident => $body:expr) => {
        match $fmt {
            Fmt::S => {
                let $f = Fmt::S;
                $body
            }
            Fmt::D => {
                let $f = Fmt::D;
                $body
            }
            Fmt::H => {
                let $f = Fmt::H;
                $body
            }
            Fmt::B => {
                let $f = Fmt::B;
                $body
            }
        }
    };
}

use core::cmp::Ordering;

/// FPCR bit masks and fields.
pub mod fpcr {
    /// Alternative half-precision format.
    pub const AHP: u32 = 1 << 26;
    /// Default NaN.
    pub const DN: u32 = 1 << 25;
    /// Flush-to-zero (single and double precision).
    pub const FZ: u32 = 1 << 24;
    /// Shift of the RMode field (2 bits).
    pub const RMODE_SHIFT: u32 = 22;
    /// Mask of the RMode field.
    pub const RMODE_MASK: u32 = 3 << RMODE_SHIFT;
    /// Flush-to-zero for half precision.
    pub const FZ16: u32 = 1 << 19;
}

/// FPSR cumulative exception flag bits.
pub mod fpsr {
    /// Invalid operation.
    pub const IOC: u32 = 1 << 0;
    /// Divide by zero.
    pub const DZC: u32 = 1 << 1;
    /// Overflow.
    pub const OFC: u32 = 1 << 2;
    /// Underflow.
    pub const UFC: u32 = 1 << 3;
    /// Inexact.
    pub const IXC: u32 = 1 << 4;
    /// Input denormal.
    pub const IDC: u32 = 1 << 7;
    /// All the cumulative exception flags.
    pub const ALL: u32 = IOC | DZC | OFC | UFC | IXC | IDC;
}

/// A floating-point format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fmt {
    /// IEEE half precision (binary16), or the Arm alternative format where AHP applies.
    H,
    /// Single precision (binary32).
    S,
    /// Double precision (binary64).
    D,
    /// BFloat16 (8-bit exponent, 7-bit fraction). Arm defines only conversions to it
    /// (BFCVT: `convert(Fmt::S, Fmt::B, ..)`, which uses FZ, not FZ16); the other
    /// functions accept it as a generic IEEE-style format, which is not an Arm operation.
    B,
}

impl Fmt {
    /// Exponent field width.
    pub const fn ebits(self) -> u32 {
        match self {
            Fmt::H => 5,
            Fmt::S | Fmt::B => 8,
            Fmt::D => 11,
        }
    }
    /// Fraction field width.
    pub const fn fbits(self) -> u32 {
        match self {
            Fmt::H => 10,
            Fmt::S => 23,
            Fmt::B => 7,
            Fmt::D => 52,
        }
    }
    /// Total width in bits.
    pub const fn width(self) -> u32 {
        match self {
            Fmt::H | Fmt::B => 16,
            Fmt::S => 32,
            Fmt::D => 64,
        }
    }
    /// Mask of all the bits of the format.
    pub const fn mask(self) -> u64 {
        match self {
            Fmt::H | Fmt::B => 0xffff,
            Fmt::S => 0xffff_ffff,
            Fmt::D => u64::MAX,
        }
    }
    const fn bias(self) -> i32 {
        (1 << (self.ebits() - 1)) - 1
    }
    const fn emax_field(self) -> u64 {
        (1 << self.ebits()) - 1
    }
    const fn frac_mask(self) -> u64 {
        (1 << self.fbits()) - 1
    }
    /// The sign bit.
    pub const fn sign_bit(self) -> u64 {
        1 << (self.width() - 1)
    }
    const fn quiet_bit(self) -> u64 {
        1 << (self.fbits() - 1)
    }
    fn sgn(self, sign: bool) -> u64 {
        if sign {
            self.sign_bit()
        } else {
            0
        }
    }
    /// The default NaN (positive, quiet, zero payload).
    pub const fn default_nan(self) -> u64 {
        (self.emax_field() << self.fbits()) | self.quiet_bit()
    }
    /// A zero of the given sign.
    pub fn zero(self, sign: bool) -> u64 {
        self.sgn(sign)
    }
    /// An infinity of the given sign.
    pub fn inf(self, sign: bool) -> u64 {
        self.sgn(sign) | (self.emax_field() << self.fbits())
    }
    /// The largest finite value of the given sign.
    pub fn max_normal(self, sign: bool) -> u64 {
        self.sgn(sign) | ((self.emax_field() - 1) << self.fbits()) | self.frac_mask()
    }
    /// The value 2.0 with the given sign.
    pub fn two(self, sign: bool) -> u64 {
        self.sgn(sign) | (((self.bias() + 1) as u64) << self.fbits())
    }
    /// The value 1.5 with the given sign.
    pub fn one_point_five(self, sign: bool) -> u64 {
        self.sgn(sign) | ((self.bias() as u64) << self.fbits()) | self.quiet_bit()
    }
    /// Is `bits` any NaN (IEEE interpretation)?
    pub fn is_nan(self, bits: u64) -> bool {
        let e = (bits >> self.fbits()) & self.emax_field();
        e == self.emax_field() && bits & self.frac_mask() != 0
    }
}

/// A rounding rule (the Arm `FPRounding` enumeration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rounding {
    /// Round to nearest, ties to even (RN).
    TieEven,
    /// Round towards plus infinity (RP).
    PosInf,
    /// Round towards minus infinity (RM).
    NegInf,
    /// Round towards zero (RZ).
    Zero,
    /// Round to nearest, ties away from zero (FCVTA*, FRINTA).
    TieAway,
    /// Round to odd (FCVTXN).
    Odd,
}

impl Rounding {
    /// Decode an FPCR.RMode field value (0..=3).
    pub fn from_rmode(rmode: u32) -> Rounding {
        match rmode & 3 {
            0 => Rounding::TieEven,
            1 => Rounding::PosInf,
            2 => Rounding::NegInf,
            _ => Rounding::Zero,
        }
    }
}

/// FPCR inputs and FPSR cumulative flags of one floating-point operation sequence.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FpStatus {
    /// Floating-point control register (only RMode, FZ, DN, AHP, FZ16 are used).
    pub fpcr: u32,
    /// Floating-point status register; operations OR exception flags into it.
    pub fpsr: u32,
}

impl FpStatus {
    /// A status with the given FPCR and clear FPSR.
    pub fn new(fpcr: u32) -> FpStatus {
        FpStatus { fpcr, fpsr: 0 }
    }
    /// The rounding mode selected by FPCR.RMode.
    pub fn rounding(&self) -> Rounding {
        Rounding::from_rmode(self.fpcr >> fpcr::RMODE_SHIFT)
    }
    /// FPCR.FZ.
    pub fn fz(&self) -> bool {
        self.fpcr & fpcr::FZ != 0
    }
    /// FPCR.FZ16.
    pub fn fz16(&self) -> bool {
        self.fpcr & fpcr::FZ16 != 0
    }
    /// FPCR.DN.
    pub fn dn(&self) -> bool {
        self.fpcr & fpcr::DN != 0
    }
    /// FPCR.AHP.
    pub fn ahp(&self) -> bool {
        self.fpcr & fpcr::AHP != 0
    }
    /// Set cumulative flags (FPProcessException with traps disabled).
    pub fn raise(&mut self, flags: u32) {
        self.fpsr |= flags;
    }
    /// The cumulative exception flags currently set.
    pub fn flags(&self) -> u32 {
        self.fpsr & fpsr::ALL
    }
    fn flush(&self, fmt: Fmt) -> bool {
        if fmt == Fmt::H {
            self.fz16()
        } else {
            self.fz()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Unpacking and NaN handling
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Zero,
    Finite,
    Inf,
    QNaN,
    SNaN,
}

/// An unpacked operand; a finite value is `mant * 2^exp`.
#[derive(Clone, Copy, Debug)]
struct Unp {
    class: Class,
    sign: bool,
    mant: u64,
    exp: i32,
}

impl Unp {
    fn is_nan(&self) -> bool {
        matches!(self.class, Class::QNaN | Class::SNaN)
    }
    /// Exact value as (mant, exp); zero mantissa for zeros.
    fn m(&self) -> u128 {
        if self.class == Class::Finite {
            self.mant as u128
        } else {
            0
        }
    }
}

#[inline(always)]
fn unpack_base(fmt: Fmt, bits: u64, st: &mut FpStatus, flush: bool, ahp: bool) -> Unp {
    let bits = bits & fmt.mask();
    let sign = bits & fmt.sign_bit() != 0;
    let e = (bits >> fmt.fbits()) & fmt.emax_field();
    let f = bits & fmt.frac_mask();
    let fb = fmt.fbits() as i32;
    let mk = |class, mant, exp| Unp {
        class,
        sign,
        mant,
        exp,
    };
    if e == 0 {
        if f == 0 {
            mk(Class::Zero, 0, 0)
        } else if flush {
            if fmt != Fmt::H {
                st.raise(fpsr::IDC);
            }
            mk(Class::Zero, 0, 0)
        } else {
            mk(Class::Finite, f, 1 - fmt.bias() - fb)
        }
    } else if e == fmt.emax_field() && !ahp {
        if f == 0 {
            mk(Class::Inf, 0, 0)
        } else if f & fmt.quiet_bit() != 0 {
            mk(Class::QNaN, 0, 0)
        } else {
            mk(Class::SNaN, 0, 0)
        }
    } else {
        mk(
            Class::Finite,
            f | (1 << fmt.fbits()),
            e as i32 - fmt.bias() - fb,
        )
    }
}

/// FPUnpack: AHP ignored, FZ/FZ16 honoured.
#[inline(always)]
fn unpack(fmt: Fmt, bits: u64, st: &mut FpStatus) -> Unp {
    let flush = st.flush(fmt);
    unpack_base(fmt, bits, st, flush, false)
}

/// FPUnpackCV: FZ16 ignored, AHP honoured for half precision.
#[inline(always)]
fn unpack_cv(fmt: Fmt, bits: u64, st: &mut FpStatus) -> Unp {
    let flush = fmt != Fmt::H && st.fz();
    let ahp = fmt == Fmt::H && st.ahp();
    unpack_base(fmt, bits, st, flush, ahp)
}

#[inline(always)]
fn process_nan(fmt: Fmt, bits: u64, class: Class, st: &mut FpStatus) -> u64 {
    let mut r = bits & fmt.mask();
    if class == Class::SNaN {
        st.raise(fpsr::IOC);
        r |= fmt.quiet_bit();
    }
    if st.dn() {
        fmt.default_nan()
    } else {
        r
    }
}

#[inline(always)]
fn process_nans(fmt: Fmt, ops: &[(u64, Unp)], st: &mut FpStatus) -> Option<u64> {
    for &(b, u) in ops {
        if u.class == Class::SNaN {
            return Some(process_nan(fmt, b, u.class, st));
        }
    }
    for &(b, u) in ops {
        if u.class == Class::QNaN {
            return Some(process_nan(fmt, b, u.class, st));
        }
    }
    None
}

#[inline(always)]
fn invalid(fmt: Fmt, st: &mut FpStatus) -> u64 {
    st.raise(fpsr::IOC);
    fmt.default_nan()
}

// ---------------------------------------------------------------------------------------
// Rounding (FPRoundBase)
// ---------------------------------------------------------------------------------------

/// Classification of a discarded fraction relative to one half ulp.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rem {
    Zero,
    Less,
    Half,
    More,
}

#[inline(always)]
fn classify(rem: u128, half: u128) -> Rem {
    if rem == 0 {
        Rem::Zero
    } else {
        match rem.cmp(&half) {
            Ordering::Less => Rem::Less,
            Ordering::Equal => Rem::Half,
            Ordering::Greater => Rem::More,
        }
    }
}

/// `mant / 2^k` split into integer part and the classified remainder.
#[inline(always)]
fn shr_round(mant: u128, k: u32) -> (u128, Rem) {
    match k {
        0 => (mant, Rem::Zero),
        1..=127 => (
            mant >> k,
            classify(mant & ((1u128 << k) - 1), 1u128 << (k - 1)),
        ),
        128 => (0, classify(mant, 1u128 << 127)),
        _ => (0, if mant == 0 { Rem::Zero } else { Rem::Less }),
    }
}

/// Shift right keeping a sticky bit in the least significant bit.
#[inline(always)]
fn jam_shr(m: u128, d: u32) -> u128 {
    if d == 0 {
        m
    } else if d >= 127 {
        (m != 0) as u128
    } else {
        (m >> d) | ((m & ((1u128 << d) - 1)) != 0) as u128
    }
}

/// Round `(-1)^sign * mant * 2^exp` (mant != 0). If the LSB of `mant` is a sticky bit,
/// `mant` must have at least F+3 significant bits.
#[allow(clippy::too_many_arguments)]
fn round_base(
    fmt: Fmt,
    sign: bool,
    mant: u128,
    exp: i32,
    st: &mut FpStatus,
    rounding: Rounding,
    flush: bool,
    ahp: bool,
) -> u64 {
    per_fmt!(fmt, f => round_base_impl(f, sign, mant, exp, st, rounding, flush, ahp))
}

/// [`round_base`] for one format (inlined into one copy per format there).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn round_base_impl(
    fmt: Fmt,
    sign: bool,
    mant: u128,
    exp: i32,
    st: &mut FpStatus,
    rounding: Rounding,
    flush: bool,
    ahp: bool,
) -> u64 {
    debug_assert!(mant != 0);
    let fb = fmt.fbits() as i32;
    let msb = 127 - mant.leading_zeros() as i32;
    let e = exp + msb;
    let min_exp = 1 - fmt.bias();
    if flush && e < min_exp {
        st.raise(fpsr::UFC);
        return fmt.zero(sign);
    }
    let mut biased_exp = (e - min_exp + 1).max(0);
    let sh = exp + fb - e.max(min_exp);
    let (mut int_mant, err) = if sh >= 0 {
        (mant << sh, Rem::Zero)
    } else {
        shr_round(mant, (-sh) as u32)
    };
    if biased_exp == 0 && err != Rem::Zero {
        st.raise(fpsr::UFC);
    }
    let odd = int_mant & 1 == 1;
    let (round_up, overflow_to_inf) = match rounding {
        Rounding::TieEven => (err == Rem::More || (err == Rem::Half && odd), true),
        Rounding::TieAway => (err >= Rem::Half, true),
        Rounding::PosInf => (err != Rem::Zero && !sign, !sign),
        Rounding::NegInf => (err != Rem::Zero && sign, sign),
        Rounding::Zero | Rounding::Odd => (false, false),
    };
    if rounding == Rounding::Odd && err != Rem::Zero {
        int_mant |= 1;
    }
    if round_up {
        int_mant += 1;
        if int_mant == 1u128 << fb {
            biased_exp = 1;
        }
        if int_mant == 1u128 << (fb + 1) {
            biased_exp += 1;
            int_mant >>= 1;
        }
    }
    let emax = fmt.emax_field() as i32;
    let mut inexact = err != Rem::Zero;
    let pack =
        |be: i32, im: u128| fmt.sgn(sign) | ((be as u64) << fb) | (im as u64 & fmt.frac_mask());
    let result = if !ahp {
        if biased_exp >= emax {
            st.raise(fpsr::OFC);
            inexact = true;
            if overflow_to_inf {
                fmt.inf(sign)
            } else {
                fmt.max_normal(sign)
            }
        } else {
            pack(biased_exp, int_mant)
        }
    } else if biased_exp > emax {
        st.raise(fpsr::IOC);
        inexact = false;
        fmt.sgn(sign) | (fmt.mask() >> 1)
    } else {
        pack(biased_exp, int_mant)
    };
    if inexact {
        st.raise(fpsr::IXC);
    }
    result
}

/// FPRound with an explicit rounding rule.
fn round_with(
    fmt: Fmt,
    sign: bool,
    mant: u128,
    exp: i32,
    rounding: Rounding,
    st: &mut FpStatus,
) -> u64 {
    let flush = st.flush(fmt);
    round_base(fmt, sign, mant, exp, st, rounding, flush, false)
}

/// FPRound with the FPCR rounding mode.
fn round(fmt: Fmt, sign: bool, mant: u128, exp: i32, st: &mut FpStatus) -> u64 {
    let r = st.rounding();
    round_with(fmt, sign, mant, exp, r, st)
}

/// Exact zero result whose sign depends on the rounding mode.
fn rounded_zero(fmt: Fmt, st: &FpStatus) -> u64 {
    fmt.zero(st.rounding() == Rounding::NegInf)
}

/// Exact sum of two signed values `m * 2^e`; `None` for an exact zero.
fn add_exact(
    s1: bool,
    m1: u128,
    e1: i32,
    s2: bool,
    m2: u128,
    e2: i32,
) -> Option<(bool, u128, i32)> {
    if m1 == 0 {
        return if m2 == 0 { None } else { Some((s2, m2, e2)) };
    }
    if m2 == 0 {
        return Some((s1, m1, e1));
    }
    let norm = |m: u128, e: i32| {
        let lz = m.leading_zeros();
        if lz >= 2 {
            (m << (lz - 2), e - (lz as i32 - 2))
        } else {
            (jam_shr(m, 2 - lz), e + (2 - lz as i32))
        }
    };
    let (mut a, mut b) = ((s1, norm(m1, e1)), (s2, norm(m2, e2)));
    if a.1 .1 < b.1 .1 {
        core::mem::swap(&mut a, &mut b);
    }
    let (sa, (ma, ea)) = a;
    let (sb, (mb, eb)) = b;
    let mb = jam_shr(mb, (ea - eb) as u32);
    if sa == sb {
        Some((sa, ma + mb, ea))
    } else {
        match ma.cmp(&mb) {
            Ordering::Equal => None,
            Ordering::Greater => Some((sa, ma - mb, ea)),
            Ordering::Less => Some((sb, mb - ma, ea)),
        }
    }
}

/// Integer square root (floor). The host `f64` square root only provides a starting
/// guess; the result is corrected exactly with integer arithmetic, so it does not depend
/// on the host floating-point environment.
fn isqrt(n: u128) -> u128 {
    if n < 2 {
        return n;
    }
    let g = ((n as f64).sqrt() as u128).max(1);
    // One Newton step from any positive guess lands at or above the root.
    let mut x = (g + n / g) / 2;
    while x.checked_mul(x).is_none_or(|sq| sq > n) {
        x = (x + n / x) / 2;
    }
    while (x + 1).checked_mul(x + 1).is_some_and(|sq| sq <= n) {
        x += 1;
    }
    x
}

/// Bit-by-bit integer square root, the reference for [`isqrt`] in tests.
#[cfg(test)]
fn isqrt_reference(n: u128) -> u128 {
    let mut x = n;
    let mut r = 0u128;
    let mut bit = 1u128 << 126;
    while bit > x {
        bit >>= 2;
    }
    while bit != 0 {
        if x >= r + bit {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    r
}

// ---------------------------------------------------------------------------------------
// Arithmetic
// ---------------------------------------------------------------------------------------

// Special operands straight from the bits (zeros, infinities, NaNs), for S and D: the
// results of the unpacking path without unpacking or rounding. Each returns `None` when
// an operand is a denormal (FZ and IDC are the unpacking path's business) or when no
// operand is special.

/// The magnitude bits of `x` (the sign cleared).
#[inline(always)]
fn mag(fmt: Fmt, x: u64) -> u64 {
    x & (fmt.mask() >> 1)
}

/// A zero, an infinity or a NaN (not a denormal, not a normal number).
#[inline(always)]
fn is_special(fmt: Fmt, m: u64) -> bool {
    m == 0 || m >= fmt.inf(false)
}

#[inline(always)]
fn is_denormal(fmt: Fmt, m: u64) -> bool {
    m != 0 && m < (1 << fmt.fbits())
}

/// Neither operand a denormal, and one of them special.
#[inline(always)]
fn special2(fmt: Fmt, ma: u64, mb: u64) -> bool {
    !is_denormal(fmt, ma) && !is_denormal(fmt, mb) && (is_special(fmt, ma) || is_special(fmt, mb))
}

/// FPProcessNaNs for two operands of which one is a NaN (given their magnitudes).
#[inline(always)]
fn nans2(fmt: Fmt, a: u64, b: u64, ma: u64, mb: u64, st: &mut FpStatus) -> u64 {
    let inf = fmt.inf(false);
    let q = fmt.quiet_bit();
    let snan = |m: u64| m > inf && m & q == 0;
    let (x, class) = if snan(ma) {
        (a, Class::SNaN)
    } else if snan(mb) {
        (b, Class::SNaN)
    } else if ma > inf {
        (a, Class::QNaN)
    } else {
        (b, Class::QNaN)
    };
    process_nan(fmt, x, class, st)
}

/// FADD/FSUB with a special operand.
#[inline(always)]
fn addsub_special(fmt: Fmt, a: u64, b: u64, negate_b: bool, st: &mut FpStatus) -> Option<u64> {
    let (a, b) = (a & fmt.mask(), b & fmt.mask());
    let (ma, mb) = (mag(fmt, a), mag(fmt, b));
    if !special2(fmt, ma, mb) {
        return None;
    }
    let inf = fmt.inf(false);
    if ma > inf || mb > inf {
        return Some(nans2(fmt, a, b, ma, mb, st));
    }
    let bn = if negate_b { b ^ fmt.sign_bit() } else { b };
    let opposite = (a ^ bn) & fmt.sign_bit() != 0;
    Some(if ma == inf {
        if mb == inf && opposite {
            invalid(fmt, st)
        } else {
            a
        }
    } else if mb == inf {
        bn
    } else if ma == 0 {
        if mb == 0 && opposite {
            rounded_zero(fmt, st)
        } else {
            // 0 + x is x exactly (x is normal or a zero of the same sign).
            bn
        }
    } else {
        // x + 0 with x normal.
        a
    })
}

/// FMUL/FMULX with a special operand.
#[inline(always)]
fn mul_special(fmt: Fmt, a: u64, b: u64, mulx: bool, st: &mut FpStatus) -> Option<u64> {
    let (a, b) = (a & fmt.mask(), b & fmt.mask());
    let (ma, mb) = (mag(fmt, a), mag(fmt, b));
    if !special2(fmt, ma, mb) {
        return None;
    }
    let inf = fmt.inf(false);
    if ma > inf || mb > inf {
        return Some(nans2(fmt, a, b, ma, mb, st));
    }
    let s = (a ^ b) & fmt.sign_bit();
    Some(if (ma == inf && mb == 0) || (ma == 0 && mb == inf) {
        if mulx {
            fmt.two(s != 0)
        } else {
            invalid(fmt, st)
        }
    } else if ma == inf || mb == inf {
        s | inf
    } else {
        s
    })
}

/// FDIV with a special operand.
#[inline(always)]
fn div_special(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let (a, b) = (a & fmt.mask(), b & fmt.mask());
    let (ma, mb) = (mag(fmt, a), mag(fmt, b));
    if !special2(fmt, ma, mb) {
        return None;
    }
    let inf = fmt.inf(false);
    if ma > inf || mb > inf {
        return Some(nans2(fmt, a, b, ma, mb, st));
    }
    let s = (a ^ b) & fmt.sign_bit();
    Some(if (ma == inf && mb == inf) || (ma == 0 && mb == 0) {
        invalid(fmt, st)
    } else if ma == inf {
        s | inf
    } else if mb == 0 {
        st.raise(fpsr::DZC);
        s | inf
    } else {
        // 0 / x or x / inf.
        s
    })
}

/// FSQRT of a special operand or a negative normal one.
#[inline(always)]
fn sqrt_special(fmt: Fmt, a: u64, st: &mut FpStatus) -> Option<u64> {
    let a = a & fmt.mask();
    let ma = mag(fmt, a);
    let inf = fmt.inf(false);
    if is_denormal(fmt, ma) {
        return None;
    }
    if ma > inf {
        let q = ma & fmt.quiet_bit() != 0;
        return Some(process_nan(
            fmt,
            a,
            if q { Class::QNaN } else { Class::SNaN },
            st,
        ));
    }
    if ma == 0 {
        return Some(a);
    }
    if a != ma {
        return Some(invalid(fmt, st));
    }
    (ma == inf).then_some(a)
}

/// FPMulAdd `c + a * b` with a special operand.
#[inline(always)]
fn muladd_special(fmt: Fmt, c: u64, a: u64, b: u64, st: &mut FpStatus) -> Option<u64> {
    let (c, a, b) = (c & fmt.mask(), a & fmt.mask(), b & fmt.mask());
    let (mc, ma, mb) = (mag(fmt, c), mag(fmt, a), mag(fmt, b));
    let denormal = is_denormal(fmt, mc) || is_denormal(fmt, ma) || is_denormal(fmt, mb);
    if denormal || !(is_special(fmt, mc) || is_special(fmt, ma) || is_special(fmt, mb)) {
        return None;
    }
    let inf = fmt.inf(false);
    let inf_times_zero = (ma == inf && mb == 0) || (ma == 0 && mb == inf);
    if mc > inf || ma > inf || mb > inf {
        let q = fmt.quiet_bit();
        let snan = |m: u64| m > inf && m & q == 0;
        let ops = [(c, mc), (a, ma), (b, mb)];
        let pick = ops
            .iter()
            .find(|&&(_, m)| snan(m))
            .map(|&(x, _)| (x, Class::SNaN))
            .or_else(|| {
                ops.iter()
                    .find(|&&(_, m)| m > inf)
                    .map(|&(x, _)| (x, Class::QNaN))
            });
        let (x, class) = pick?;
        let r = process_nan(fmt, x, class, st);
        // A quiet NaN addend with infinity times zero is invalid (after the NaN rules).
        return Some(if mc > inf && mc & q != 0 && inf_times_zero {
            invalid(fmt, st)
        } else {
            r
        });
    }
    let sign = fmt.sign_bit();
    let sp = (a ^ b) & sign;
    let sc = c & sign;
    let (inf_c, inf_p) = (mc == inf, ma == inf || mb == inf);
    Some(if inf_times_zero || (inf_c && inf_p && sc != sp) {
        invalid(fmt, st)
    } else if inf_c {
        c
    } else if inf_p {
        sp | inf
    } else if ma == 0 || mb == 0 {
        // A zero product: the addend, or a zero whose sign follows the sum rules.
        if mc != 0 || sc == sp {
            c
        } else {
            rounded_zero(fmt, st)
        }
    } else {
        // A zero addend and a nonzero product of normal numbers: the product, rounded
        // once, as FMUL rounds it.
        mul_common(fmt, a, b, false, st)
    })
}

/// FADD/FSUB off the host fast path: special operands, then the soft-float path. Out of
/// line, so that the fast path stays a small leaf.
#[inline(never)]
fn addsub_slow(fmt: Fmt, a: u64, b: u64, negate_b: bool, st: &mut FpStatus) -> u64 {
    let special = match fmt {
        Fmt::S => addsub_special(Fmt::S, a, b, negate_b, st),
        Fmt::D => addsub_special(Fmt::D, a, b, negate_b, st),
        Fmt::H | Fmt::B => None,
    };
    match special {
        Some(r) => r,
        None => addsub(fmt, a, b, negate_b, st),
    }
}

fn addsub(fmt: Fmt, a: u64, b: u64, negate_b: bool, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, a, st);
    let ub = unpack(fmt, b, st);
    if let Some(r) = process_nans(fmt, &[(a, ua), (b, ub)], st) {
        return r;
    }
    let sb = ub.sign ^ negate_b;
    match (ua.class, ub.class) {
        (Class::Inf, Class::Inf) if ua.sign != sb => invalid(fmt, st),
        (Class::Inf, _) => fmt.inf(ua.sign),
        (_, Class::Inf) => fmt.inf(sb),
        (Class::Zero, Class::Zero) if ua.sign == sb => fmt.zero(ua.sign),
        _ => match add_exact(ua.sign, ua.m(), ua.exp, sb, ub.m(), ub.exp) {
            None => rounded_zero(fmt, st),
            Some((s, m, e)) => round(fmt, s, m, e, st),
        },
    }
}

/// FADD.
pub fn add(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    let fast = match fmt {
        Fmt::S => host::add32(a, b, false, st),
        Fmt::D => host::add64(a, b, false, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => addsub_slow(fmt, a, b, false, st),
    }
}

/// FSUB (`a - b`).
pub fn sub(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    let fast = match fmt {
        Fmt::S => host::add32(a, b, true, st),
        Fmt::D => host::add64(a, b, true, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => addsub_slow(fmt, a, b, true, st),
    }
}

fn mul_common(fmt: Fmt, a: u64, b: u64, mulx: bool, st: &mut FpStatus) -> u64 {
    // FMULX differs from FMUL only for infinity times zero, which the fast path excludes.
    let fast = match fmt {
        Fmt::S => host::mul32(a, b, st),
        Fmt::D => host::mul64(a, b, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => mul_slow(fmt, a, b, mulx, st),
    }
}

/// FMUL/FMULX off the host fast path (out of line).
#[inline(never)]
fn mul_slow(fmt: Fmt, a: u64, b: u64, mulx: bool, st: &mut FpStatus) -> u64 {
    let special = match fmt {
        Fmt::S => mul_special(Fmt::S, a, b, mulx, st),
        Fmt::D => mul_special(Fmt::D, a, b, mulx, st),
        Fmt::H | Fmt::B => None,
    };
    match special {
        Some(r) => r,
        None => mul_soft(fmt, a, b, mulx, st),
    }
}

/// FMUL/FMULX without the host fast path.
fn mul_soft(fmt: Fmt, a: u64, b: u64, mulx: bool, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, a, st);
    let ub = unpack(fmt, b, st);
    if let Some(r) = process_nans(fmt, &[(a, ua), (b, ub)], st) {
        return r;
    }
    let s = ua.sign ^ ub.sign;
    match (ua.class, ub.class) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => {
            if mulx {
                fmt.two(s)
            } else {
                invalid(fmt, st)
            }
        }
        (Class::Inf, _) | (_, Class::Inf) => fmt.inf(s),
        (Class::Zero, _) | (_, Class::Zero) => fmt.zero(s),
        _ => round(fmt, s, ua.m() * ub.m(), ua.exp + ub.exp, st),
    }
}

/// FMUL.
pub fn mul(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    mul_common(fmt, a, b, false, st)
}

/// FMULX (infinity times zero gives 2.0).
pub fn mulx(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    mul_common(fmt, a, b, true, st)
}

/// FNMUL: the negation of FMUL's result (including NaN results).
pub fn nmul(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    neg(fmt, mul(fmt, a, b, st))
}

/// FDIV (`a / b`).
pub fn div(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    let fast = match fmt {
        Fmt::S => host::div32(a, b, st),
        Fmt::D => host::div64(a, b, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => div_slow(fmt, a, b, st),
    }
}

/// FDIV off the host fast path (out of line).
#[inline(never)]
fn div_slow(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    let special = match fmt {
        Fmt::S => div_special(Fmt::S, a, b, st),
        Fmt::D => div_special(Fmt::D, a, b, st),
        Fmt::H | Fmt::B => None,
    };
    match special {
        Some(r) => r,
        None => div_soft(fmt, a, b, st),
    }
}

/// FDIV without the host fast path.
fn div_soft(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, a, st);
    let ub = unpack(fmt, b, st);
    if let Some(r) = process_nans(fmt, &[(a, ua), (b, ub)], st) {
        return r;
    }
    let s = ua.sign ^ ub.sign;
    match (ua.class, ub.class) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => invalid(fmt, st),
        (Class::Inf, _) => fmt.inf(s),
        (_, Class::Zero) => {
            st.raise(fpsr::DZC);
            fmt.inf(s)
        }
        (Class::Zero, _) | (_, Class::Inf) => fmt.zero(s),
        _ => {
            let la = ua.mant.leading_zeros();
            let lb = ub.mant.leading_zeros();
            let ma = ((ua.mant << la) as u128) << 64;
            let mb = (ub.mant << lb) as u128;
            let q = ma / mb;
            let r = ma % mb;
            let e = (ua.exp - la as i32) - 64 - (ub.exp - lb as i32);
            round(fmt, s, q | (r != 0) as u128, e, st)
        }
    }
}

/// FSQRT.
pub fn sqrt(fmt: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    // Negative operands are invalid: only positive ones take the fast path.
    let fast = match fmt {
        Fmt::S => host::sqrt32(a, st),
        Fmt::D => host::sqrt64(a, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => sqrt_slow(fmt, a, st),
    }
}

/// FSQRT off the host fast path (out of line).
#[inline(never)]
fn sqrt_slow(fmt: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    let special = match fmt {
        Fmt::S => sqrt_special(Fmt::S, a, st),
        Fmt::D => sqrt_special(Fmt::D, a, st),
        Fmt::H | Fmt::B => None,
    };
    match special {
        Some(r) => r,
        None => sqrt_soft(fmt, a, st),
    }
}

/// FSQRT without the host fast path.
fn sqrt_soft(fmt: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, a, st);
    if ua.is_nan() {
        return process_nan(fmt, a, ua.class, st);
    }
    match ua.class {
        Class::Zero => fmt.zero(ua.sign),
        _ if ua.sign => invalid(fmt, st),
        Class::Inf => fmt.inf(false),
        _ => {
            let mut m = ua.mant as u128;
            let mut e = ua.exp;
            if e & 1 != 0 {
                m <<= 1;
                e -= 1;
            }
            let msb = 127 - m.leading_zeros() as i32;
            let s = (126 - msb) & !1;
            let rad = m << s;
            e -= s;
            let root = isqrt(rad);
            let rem = rad - root * root;
            round(fmt, false, root | (rem != 0) as u128, e / 2, st)
        }
    }
}

/// FPMulAdd: `addend + op1 * op2`, fused, with the Arm NaN and invalid rules.
pub fn muladd(fmt: Fmt, addend: u64, op1: u64, op2: u64, st: &mut FpStatus) -> u64 {
    let fast = match fmt {
        Fmt::S => host::muladd32(addend, op1, op2, st),
        Fmt::D => host::muladd64(addend, op1, op2, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => muladd_slow(fmt, addend, op1, op2, st),
    }
}

/// FPMulAdd off the host fast path (out of line).
#[inline(never)]
fn muladd_slow(fmt: Fmt, addend: u64, op1: u64, op2: u64, st: &mut FpStatus) -> u64 {
    let special = match fmt {
        Fmt::S => muladd_special(Fmt::S, addend, op1, op2, st),
        Fmt::D => muladd_special(Fmt::D, addend, op1, op2, st),
        Fmt::H | Fmt::B => None,
    };
    match special {
        Some(r) => r,
        None => muladd_soft(fmt, addend, op1, op2, st),
    }
}

/// FPMulAdd without the host fast path.
fn muladd_soft(fmt: Fmt, addend: u64, op1: u64, op2: u64, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, addend, st);
    let u1 = unpack(fmt, op1, st);
    let u2 = unpack(fmt, op2, st);
    let inf1 = u1.class == Class::Inf;
    let inf2 = u2.class == Class::Inf;
    let zero1 = u1.class == Class::Zero;
    let zero2 = u2.class == Class::Zero;
    let inf_times_zero = (inf1 && zero2) || (zero1 && inf2);
    let nan = process_nans(fmt, &[(addend, ua), (op1, u1), (op2, u2)], st);
    if ua.class == Class::QNaN && inf_times_zero {
        return invalid(fmt, st);
    }
    if let Some(r) = nan {
        return r;
    }
    let inf_a = ua.class == Class::Inf;
    let zero_a = ua.class == Class::Zero;
    let sign_p = u1.sign ^ u2.sign;
    let inf_p = inf1 || inf2;
    let zero_p = zero1 || zero2;
    if inf_times_zero || (inf_a && inf_p && ua.sign != sign_p) {
        invalid(fmt, st)
    } else if (inf_a && !ua.sign) || (inf_p && !sign_p) {
        fmt.inf(false)
    } else if inf_a || inf_p {
        fmt.inf(true)
    } else if zero_a && zero_p && ua.sign == sign_p {
        fmt.zero(ua.sign)
    } else {
        match add_exact(
            ua.sign,
            ua.m(),
            ua.exp,
            sign_p,
            u1.m() * u2.m(),
            u1.exp + u2.exp,
        ) {
            None => rounded_zero(fmt, st),
            Some((s, m, e)) => round(fmt, s, m, e, st),
        }
    }
}

/// FMADD: `a + n * m`.
pub fn fmadd(fmt: Fmt, n: u64, m: u64, a: u64, st: &mut FpStatus) -> u64 {
    muladd(fmt, a, n, m, st)
}

/// FMSUB: `a - n * m`.
pub fn fmsub(fmt: Fmt, n: u64, m: u64, a: u64, st: &mut FpStatus) -> u64 {
    muladd(fmt, a, neg(fmt, n), m, st)
}

/// FNMADD: `-a - n * m`.
pub fn fnmadd(fmt: Fmt, n: u64, m: u64, a: u64, st: &mut FpStatus) -> u64 {
    muladd(fmt, neg(fmt, a), neg(fmt, n), m, st)
}

/// FNMSUB: `-a + n * m`.
pub fn fnmsub(fmt: Fmt, n: u64, m: u64, a: u64, st: &mut FpStatus) -> u64 {
    muladd(fmt, neg(fmt, a), n, m, st)
}

/// FNEG (no flags).
pub fn neg(fmt: Fmt, a: u64) -> u64 {
    (a ^ fmt.sign_bit()) & fmt.mask()
}

/// FABS (no flags).
pub fn abs(fmt: Fmt, a: u64) -> u64 {
    a & (fmt.mask() >> 1)
}

// ---------------------------------------------------------------------------------------
// Comparisons, min/max
// ---------------------------------------------------------------------------------------

/// Signed ordering key of a non-NaN unpacked operand of a single format.
#[inline(always)]
fn key(fmt: Fmt, bits: u64, u: &Unp) -> i64 {
    let mag = if u.class == Class::Zero {
        0
    } else {
        (bits & (fmt.mask() >> 1)) as i64
    };
    if u.sign {
        -mag
    } else {
        mag
    }
}

/// The order key of an operand for comparisons and min/max straight from the bits, what
/// [`key`] gives after unpacking: the signed magnitude, 0 for zeros and for denormals
/// that `flush` flushes. Also whether it is a NaN (the key is meaningless then) and
/// whether it was flushed (unpacking would raise IDC for S and D). No branches.
#[inline(always)]
fn order_key(fmt: Fmt, bits: u64, flush: bool) -> (i64, bool, bool) {
    let bits = bits & fmt.mask();
    let m = bits & (fmt.mask() >> 1);
    let nan = m > fmt.inf(false);
    let flushed = flush & (m != 0) & (m < 1 << fmt.fbits());
    let km = select(flushed, 0, m) as i64;
    let neg = (bits >> (fmt.width() - 1)) as i64;
    ((km ^ -neg) + neg, nan, flushed)
}

/// The keys of two operands for comparisons and min/max, raising IDC as unpacking both
/// would; `None` if either is a NaN.
#[inline(always)]
fn order_keys(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> Option<(i64, i64)> {
    let flush = st.flush(fmt);
    let (ka, na, fa) = order_key(fmt, a, flush);
    let (kb, nb, fb) = order_key(fmt, b, flush);
    if fmt != Fmt::H {
        st.fpsr |= (fa | fb) as u32 * fpsr::IDC;
    }
    (!(na | nb)).then_some((ka, kb))
}

/// A signalling NaN (given the bits).
#[inline(always)]
fn is_snan(fmt: Fmt, bits: u64) -> bool {
    let m = mag(fmt, bits);
    m > fmt.inf(false) && m & fmt.quiet_bit() == 0
}

/// NZCV of FCMP for an ordering.
#[inline(always)]
#[cfg(test)]
fn nzcv(o: Ordering) -> u32 {
    match o {
        Ordering::Equal => 0b0110,
        Ordering::Less => 0b1000,
        Ordering::Greater => 0b0010,
    }
}

/// [`nzcv`] of `ka` against `kb`, without branches (the outcome is data-dependent).
#[inline(always)]
fn nzcv_keys(ka: i64, kb: i64) -> u32 {
    let (lt, eq) = (ka < kb, ka == kb);
    (lt as u32) << 3 | (eq as u32) << 2 | (!lt as u32) << 1
}

/// FCMP (`signal_nans == false`) / FCMPE (`true`): returns NZCV in bits 3..0.
pub fn compare(fmt: Fmt, a: u64, b: u64, signal_nans: bool, st: &mut FpStatus) -> u32 {
    per_fmt!(fmt, f => compare_impl(f, a, b, signal_nans, st))
}

#[inline(always)]
fn compare_impl(fmt: Fmt, a: u64, b: u64, signal_nans: bool, st: &mut FpStatus) -> u32 {
    match order_keys(fmt, a, b, st) {
        Some((ka, kb)) => nzcv_keys(ka, kb),
        None => {
            if signal_nans || is_snan(fmt, a) || is_snan(fmt, b) {
                st.raise(fpsr::IOC);
            }
            0b0011
        }
    }
}

/// [`compare`] through unpacking, the reference for tests.
#[cfg(test)]
fn compare_soft(fmt: Fmt, a: u64, b: u64, signal_nans: bool, st: &mut FpStatus) -> u32 {
    let ua = unpack(fmt, a, st);
    let ub = unpack(fmt, b, st);
    if ua.is_nan() || ub.is_nan() {
        if ua.class == Class::SNaN || ub.class == Class::SNaN || signal_nans {
            st.raise(fpsr::IOC);
        }
        return 0b0011;
    }
    nzcv(key(fmt, a, &ua).cmp(&key(fmt, b, &ub)))
}

#[inline(always)]
fn compare_bool(
    fmt: Fmt,
    a: u64,
    b: u64,
    signal_nans: bool,
    st: &mut FpStatus,
    pred: fn(Ordering) -> bool,
) -> bool {
    match order_keys(fmt, a, b, st) {
        Some((ka, kb)) => pred(ka.cmp(&kb)),
        None => {
            if signal_nans || is_snan(fmt, a) || is_snan(fmt, b) {
                st.raise(fpsr::IOC);
            }
            false
        }
    }
}

/// FPCompareEQ (FCMEQ): false on NaN, Invalid only for signalling NaNs.
pub fn compare_eq(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> bool {
    per_fmt!(fmt, f => compare_bool(f, a, b, false, st, |o| o == Ordering::Equal))
}

/// FPCompareGE (FCMGE, FCMLE with swapped operands): Invalid on any NaN.
pub fn compare_ge(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> bool {
    per_fmt!(fmt, f => compare_bool(f, a, b, true, st, |o| o != Ordering::Less))
}

/// FPCompareGT (FCMGT, FCMLT with swapped operands): Invalid on any NaN.
pub fn compare_gt(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> bool {
    per_fmt!(fmt, f => compare_bool(f, a, b, true, st, |o| o == Ordering::Greater))
}

/// FACGE: `|a| >= |b|`.
pub fn abs_compare_ge(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> bool {
    compare_ge(fmt, abs(fmt, a), abs(fmt, b), st)
}

/// FACGT: `|a| > |b|`.
pub fn abs_compare_gt(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> bool {
    compare_gt(fmt, abs(fmt, a), abs(fmt, b), st)
}

/// FABD: `|a - b|` (the absolute value is applied to NaN results too).
pub fn abd(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    abs(fmt, sub(fmt, a, b, st))
}

#[inline(always)]
fn minmax(fmt: Fmt, a: u64, b: u64, is_max: bool, st: &mut FpStatus) -> u64 {
    let Some((ka, kb)) = order_keys(fmt, a, b, st) else {
        return minmax_unpacked(fmt, a, b, is_max, st);
    };
    let first = if is_max { ka > kb } else { ka < kb };
    let r = select(first, a, b) & fmt.mask();
    if select(first, ka as u64, kb as u64) != 0 {
        return r;
    }
    // A zero result (or a flushed denormal): both were zeros or one was (the other on
    // its side of it).
    let (sa, sb) = (a & fmt.sign_bit() != 0, b & fmt.sign_bit() != 0);
    fmt.zero(if is_max { sa && sb } else { sa || sb })
}

/// [`minmax`] through unpacking: NaNs (and the reference for tests). Out of line.
#[inline(never)]
fn minmax_unpacked(fmt: Fmt, a: u64, b: u64, is_max: bool, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, a, st);
    let ub = unpack(fmt, b, st);
    if let Some(r) = process_nans(fmt, &[(a, ua), (b, ub)], st) {
        return r;
    }
    let ka = key(fmt, a, &ua);
    let kb = key(fmt, b, &ub);
    let first = if is_max { ka > kb } else { ka < kb };
    let (bits, u) = if first { (a, ua) } else { (b, ub) };
    match u.class {
        Class::Zero => {
            let s = if is_max {
                ua.sign && ub.sign
            } else {
                ua.sign || ub.sign
            };
            fmt.zero(s)
        }
        _ => bits & fmt.mask(),
    }
}

/// FMAX.
pub fn max(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    per_fmt!(fmt, f => minmax(f, a, b, true, st))
}

/// FMIN.
pub fn min(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    per_fmt!(fmt, f => minmax(f, a, b, false, st))
}

#[inline(always)]
fn minmaxnum(fmt: Fmt, a: u64, b: u64, is_max: bool, st: &mut FpStatus) -> u64 {
    // A single quiet NaN is treated as -inf (max) or +inf (min). (Unpacking here would
    // only raise IDC for flushed denormals, which `minmax` does as well.)
    let qnan = |x: u64| mag(fmt, x) >= (fmt.inf(false) | fmt.quiet_bit());
    let (qa, qb) = (qnan(a), qnan(b));
    if qa == qb {
        return minmax(fmt, a, b, is_max, st);
    }
    let repl = fmt.inf(is_max);
    if qa {
        minmax(fmt, repl, b, is_max, st)
    } else {
        minmax(fmt, a, repl, is_max, st)
    }
}

/// [`minmaxnum`] as the pseudocode has it (unpacking both operands first), the reference
/// for tests.
#[cfg(test)]
fn minmaxnum_unpacked(fmt: Fmt, a: u64, b: u64, is_max: bool, st: &mut FpStatus) -> u64 {
    let ua = unpack(fmt, a, st);
    let ub = unpack(fmt, b, st);
    let (mut a, mut b) = (a, b);
    let repl = fmt.inf(is_max);
    if ua.class == Class::QNaN && ub.class != Class::QNaN {
        a = repl;
    } else if ua.class != Class::QNaN && ub.class == Class::QNaN {
        b = repl;
    }
    minmax_unpacked(fmt, a, b, is_max, st)
}

/// FMAXNM.
pub fn maxnm(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    per_fmt!(fmt, f => minmaxnum(f, a, b, true, st))
}

/// FMINNM.
pub fn minnm(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    per_fmt!(fmt, f => minmaxnum(f, a, b, false, st))
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

fn convert_nan(from: Fmt, to: Fmt, a: u64) -> u64 {
    let sign = a & from.sign_bit() != 0;
    // Payload below the quiet bit, left-aligned in 64 bits.
    let pw = from.fbits() - 1;
    let payload = a & ((1u64 << pw) - 1);
    let aligned = payload << (64 - pw);
    let tw = to.fbits() - 1;
    let tp = aligned >> (64 - tw);
    to.sgn(sign) | (to.emax_field() << to.fbits()) | to.quiet_bit() | tp
}

/// Whether rounding the integer magnitude `int` with a discarded fraction `rem` (in units
/// where `half` is one half) goes up, as [`round_integer`] decides.
#[inline(always)]
fn round_up_bits(int: u64, rem: u64, half: u64, neg: bool, rounding: Rounding) -> bool {
    match rounding {
        // Non-short-circuit operators: these are data-dependent, better without branches.
        Rounding::TieEven => (rem > half) | ((rem == half) & (int & 1 == 1)),
        Rounding::TieAway => rem >= half,
        Rounding::PosInf => (rem != 0) & !neg,
        Rounding::NegInf => (rem != 0) & neg,
        Rounding::Zero | Rounding::Odd => false,
    }
}

/// `x` if `c`, else `y`, without a branch.
#[inline(always)]
fn select(c: bool, x: u64, y: u64) -> u64 {
    let m = (c as u64).wrapping_neg();
    (x & m) | (y & !m)
}

/// [`round_int`] for S and D straight from the bits: every case, no unpacking.
#[inline(always)]
fn round_int_bits(fmt: Fmt, a: u64, rounding: Rounding, exact: bool, st: &mut FpStatus) -> u64 {
    let a = a & fmt.mask();
    let m = mag(fmt, a);
    let fb = fmt.fbits() as u64;
    let inf = fmt.inf(false);
    if m >= inf {
        if m == inf {
            return a;
        }
        let class = if m & fmt.quiet_bit() != 0 {
            Class::QNaN
        } else {
            Class::SNaN
        };
        return process_nan(fmt, a, class, st);
    }
    let e = m >> fb;
    let bias = fmt.bias() as u64;
    if e >= bias + fb || m == 0 {
        // Zeros and values without fraction bits.
        return a;
    }
    let sign = a & fmt.sign_bit();
    let neg = sign != 0;
    if e == 0 && st.fz() {
        st.raise(fpsr::IDC);
        return sign;
    }
    // n fraction bits below the integer's unit, at most F + 2: below 0.5 (denormals
    // included) the integer part is 0 and the fraction nonzero and less than a half
    // either way. No branches on the (unpredictable) value from here on.
    let n = (bias + fb).saturating_sub(e.max(1)).min(fb + 2);
    let unit = 1u64 << n;
    let mant = (m & fmt.frac_mask()) | (((e != 0) as u64) << fb);
    let rem = mant & (unit - 1);
    let int = mant >> n;
    let up = round_up_bits(int, rem, unit >> 1, neg, rounding);
    st.fpsr |= ((rem != 0) & exact) as u32 * fpsr::IXC;
    // |a| >= 1: add a unit to the truncated bit pattern (it carries into the exponent
    // when needed); |a| < 1: zero or one.
    let big = (a - rem) + up as u64 * unit;
    let small = sign | (up as u64 * (bias << fb));
    select(e >= bias, big, small)
}

/// [`to_fixed`] for S and D straight from the bits: every case, no unpacking.
#[inline(always)]
fn to_fixed_bits(
    fmt: Fmt,
    a: u64,
    fbits: u32,
    unsigned: bool,
    int_bits: u32,
    rounding: Rounding,
    st: &mut FpStatus,
) -> u64 {
    let a = a & fmt.mask();
    let m = mag(fmt, a);
    let neg = a & fmt.sign_bit() != 0;
    let inf = fmt.inf(false);
    let out_mask = u64::MAX >> (64 - int_bits);
    // The saturated results (with IOC).
    let lo = if unsigned { 0 } else { 1u64 << (int_bits - 1) };
    let hi = if unsigned {
        out_mask
    } else {
        (1u64 << (int_bits - 1)) - 1
    };
    let saturate = |st: &mut FpStatus| {
        st.raise(fpsr::IOC);
        if neg {
            lo
        } else {
            hi
        }
    };
    if m >= inf {
        if m == inf {
            return saturate(st);
        }
        st.raise(fpsr::IOC);
        return 0;
    }
    if m == 0 {
        return 0;
    }
    let fb = fmt.fbits();
    let e = (m >> fb) as i32;
    let (mant, e) = if e == 0 {
        if st.fz() {
            st.raise(fpsr::IDC);
            return 0;
        }
        (m, 1)
    } else {
        ((m & fmt.frac_mask()) | (1 << fb), e)
    };
    // |a| * 2^fbits = mant * 2^k.
    let k = e - fmt.bias() - fb as i32 + fbits as i32;
    let (mag_int, rem) = if k >= 0 {
        if k > 63 - fb as i32 {
            // At least 2^64: out of range of every destination.
            return saturate(st);
        }
        (mant << k, 0)
    } else {
        let s = (-k) as u32;
        let (int, rem, half) = if s >= 64 {
            // mant < 2^53 <= half of 2^64.
            (0, 1, 2)
        } else {
            (mant >> s, mant & ((1u64 << s) - 1), 1u64 << (s - 1))
        };
        let up = round_up_bits(int, rem, half, neg, rounding);
        (int + up as u64, rem)
    };
    let neg_limit = if unsigned { 0 } else { 1u64 << (int_bits - 1) };
    if mag_int > select(neg, neg_limit, hi) {
        return saturate(st);
    }
    st.fpsr |= (rem != 0) as u32 * fpsr::IXC;
    select(neg, mag_int.wrapping_neg(), mag_int) & out_mask
}

/// FCVT between precisions with an explicit rounding rule (FPConvert).
pub fn convert_with(from: Fmt, to: Fmt, a: u64, rounding: Rounding, st: &mut FpStatus) -> u64 {
    match (from, to) {
        (Fmt::S, Fmt::D) => {
            let m = a & 0x7fff_ffff;
            // Not a NaN, and not a denormal that FZ flushes: the conversion is exact.
            if m <= 0x7f80_0000 && (m >= 0x0080_0000 || m == 0 || !st.fz()) {
                return (f32::from_bits(a as u32) as f64).to_bits();
            }
        }
        (Fmt::D, Fmt::S) => {
            if let Some(r) = host::d_to_s(a, rounding, st) {
                return r;
            }
            let m = a & !(1 << 63);
            let sign = (a >> 32) as u32 as u64 & 0x8000_0000;
            if m == 0 {
                return sign;
            }
            if m == f64::INFINITY.to_bits() {
                return sign | 0x7f80_0000;
            }
        }
        _ => {}
    }
    convert_with_soft(from, to, a, rounding, st)
}

/// [`convert_with`] through unpacking and rounding.
fn convert_with_soft(from: Fmt, to: Fmt, a: u64, rounding: Rounding, st: &mut FpStatus) -> u64 {
    let alt_hp = to == Fmt::H && st.ahp();
    let u = unpack_cv(from, a, st);
    match u.class {
        Class::QNaN | Class::SNaN => {
            let r = if alt_hp {
                to.zero(u.sign)
            } else if st.dn() {
                to.default_nan()
            } else {
                convert_nan(from, to, a)
            };
            if u.class == Class::SNaN || alt_hp {
                st.raise(fpsr::IOC);
            }
            r
        }
        Class::Inf => {
            if alt_hp {
                st.raise(fpsr::IOC);
                to.sgn(u.sign) | (to.mask() >> 1)
            } else {
                to.inf(u.sign)
            }
        }
        Class::Zero => to.zero(u.sign),
        Class::Finite => {
            let flush = to != Fmt::H && st.fz();
            round_base(
                to,
                u.sign,
                u.mant as u128,
                u.exp,
                st,
                rounding,
                flush,
                alt_hp,
            )
        }
    }
}

/// FCVT between precisions using the FPCR rounding mode.
pub fn convert(from: Fmt, to: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    let r = st.rounding();
    convert_with(from, to, a, r, st)
}

fn round_integer(mag: u128, err: Rem, neg: bool, rounding: Rounding) -> u128 {
    let odd = mag & 1 == 1;
    let up = match rounding {
        Rounding::TieEven => err == Rem::More || (err == Rem::Half && odd),
        Rounding::TieAway => err >= Rem::Half,
        Rounding::PosInf => err != Rem::Zero && !neg,
        Rounding::NegInf => err != Rem::Zero && neg,
        Rounding::Zero | Rounding::Odd => false,
    };
    mag + up as u128
}

/// FPToFixed: FCVT{N,A,P,M,Z}{S,U} and the fixed-point FCVTZS/FCVTZU forms.
///
/// `fbits` is the number of fraction bits (0 for the integer forms), `int_bits` is 32 or
/// 64. The result is the integer zero-extended from `int_bits` to 64 bits.
pub fn to_fixed(
    fmt: Fmt,
    a: u64,
    fbits: u32,
    unsigned: bool,
    int_bits: u32,
    rounding: Rounding,
    st: &mut FpStatus,
) -> u64 {
    match fmt {
        Fmt::S => to_fixed_bits(Fmt::S, a, fbits, unsigned, int_bits, rounding, st),
        Fmt::D => to_fixed_bits(Fmt::D, a, fbits, unsigned, int_bits, rounding, st),
        Fmt::H | Fmt::B => to_fixed_soft(fmt, a, fbits, unsigned, int_bits, rounding, st),
    }
}

/// [`to_fixed`] through unpacking.
fn to_fixed_soft(
    fmt: Fmt,
    a: u64,
    fbits: u32,
    unsigned: bool,
    int_bits: u32,
    rounding: Rounding,
    st: &mut FpStatus,
) -> u64 {
    let u = unpack(fmt, a, st);
    let (lo, hi): (i128, i128) = if unsigned {
        (0, (1i128 << int_bits) - 1)
    } else {
        (-(1i128 << (int_bits - 1)), (1i128 << (int_bits - 1)) - 1)
    };
    let out = |v: i128| (v as u64) & (u64::MAX >> (64 - int_bits));
    let (mag, err) = match u.class {
        Class::QNaN | Class::SNaN => {
            st.raise(fpsr::IOC);
            return 0;
        }
        Class::Zero => return 0,
        Class::Inf => {
            st.raise(fpsr::IOC);
            return out(if u.sign { lo } else { hi });
        }
        Class::Finite => {
            let k = u.exp + fbits as i32;
            if k > 64 {
                st.raise(fpsr::IOC);
                return out(if u.sign { lo } else { hi });
            } else if k >= 0 {
                ((u.mant as u128) << k, Rem::Zero)
            } else {
                shr_round(u.mant as u128, (-k) as u32)
            }
        }
    };
    let r = round_integer(mag, err, u.sign, rounding) as i128;
    let v = if u.sign { -r } else { r };
    if v < lo || v > hi {
        st.raise(fpsr::IOC);
        out(v.clamp(lo, hi))
    } else {
        if err != Rem::Zero {
            st.raise(fpsr::IXC);
        }
        out(v)
    }
}

/// FixedToFP: SCVTF / UCVTF (integer and fixed-point forms), FPCR rounding.
///
/// `v` holds the integer in its low `int_bits` (32 or 64) bits.
pub fn from_fixed(
    fmt: Fmt,
    v: u64,
    fbits: u32,
    signed: bool,
    int_bits: u32,
    st: &mut FpStatus,
) -> u64 {
    let mask = u64::MAX >> (64 - int_bits);
    let v = v & mask;
    // Negative: the magnitude is 2^int_bits - v. No branch on the (data-dependent) sign.
    let neg = signed & ((v >> (int_bits - 1)) & 1 == 1);
    let mag = select(neg, v.wrapping_neg() & mask, v);
    if mag == 0 {
        return fmt.zero(false);
    }
    let fast = match fmt {
        Fmt::S => host::from_int::<false>(mag, neg, fbits, st),
        Fmt::D => host::from_int::<true>(mag, neg, fbits, st),
        Fmt::H | Fmt::B => None,
    };
    match fast {
        Some(r) => r,
        None => round(fmt, neg, mag as u128, -(fbits as i32), st),
    }
}

/// FPRoundInt: FRINTN/A/P/M/Z (`exact == false`), FRINTX (`exact == true`, FPCR
/// rounding), FRINTI (`exact == false`, FPCR rounding).
pub fn round_int(fmt: Fmt, a: u64, rounding: Rounding, exact: bool, st: &mut FpStatus) -> u64 {
    match fmt {
        Fmt::S => round_int_bits(Fmt::S, a, rounding, exact, st),
        Fmt::D => round_int_bits(Fmt::D, a, rounding, exact, st),
        Fmt::H | Fmt::B => round_int_soft(fmt, a, rounding, exact, st),
    }
}

/// [`round_int`] through unpacking.
fn round_int_soft(fmt: Fmt, a: u64, rounding: Rounding, exact: bool, st: &mut FpStatus) -> u64 {
    let u = unpack(fmt, a, st);
    match u.class {
        Class::QNaN | Class::SNaN => process_nan(fmt, a, u.class, st),
        Class::Inf => fmt.inf(u.sign),
        Class::Zero => fmt.zero(u.sign),
        Class::Finite => {
            if u.exp >= 0 {
                return a & fmt.mask();
            }
            let (mag, err) = shr_round(u.mant as u128, (-u.exp) as u32);
            let r = round_integer(mag, err, u.sign, rounding);
            let res = if r == 0 {
                fmt.zero(u.sign)
            } else {
                round_with(fmt, u.sign, r, 0, Rounding::Zero, st)
            };
            if err != Rem::Zero && exact {
                st.raise(fpsr::IXC);
            }
            res
        }
    }
}

/// FPRoundIntN: FRINT32Z/FRINT64Z (`Rounding::Zero`) and FRINT32X/FRINT64X (FPCR
/// rounding). `fmt` is S or D, `int_bits` is 32 or 64. Inexact is always signalled.
pub fn round_int_n(fmt: Fmt, a: u64, rounding: Rounding, int_bits: u32, st: &mut FpStatus) -> u64 {
    let u = unpack(fmt, a, st);
    let most_neg = fmt.sign_bit() | (((fmt.bias() as u64) + int_bits as u64 - 1) << fmt.fbits());
    match u.class {
        Class::QNaN | Class::SNaN | Class::Inf => {
            st.raise(fpsr::IOC);
            most_neg
        }
        Class::Zero => fmt.zero(u.sign),
        Class::Finite => {
            let (mag, err) = if u.exp >= 0 {
                if u.exp > 64 {
                    st.raise(fpsr::IOC);
                    return most_neg;
                }
                ((u.mant as u128) << u.exp, Rem::Zero)
            } else {
                shr_round(u.mant as u128, (-u.exp) as u32)
            };
            let r = round_integer(mag, err, u.sign, rounding);
            let limit = if u.sign {
                1u128 << (int_bits - 1)
            } else {
                (1u128 << (int_bits - 1)) - 1
            };
            if r > limit {
                st.raise(fpsr::IOC);
                return most_neg;
            }
            let res = if r == 0 {
                fmt.zero(u.sign)
            } else {
                round_with(fmt, u.sign, r, 0, Rounding::Zero, st)
            };
            if err != Rem::Zero {
                st.raise(fpsr::IXC);
            }
            res
        }
    }
}

/// FJCVTZS (FPToFixedJS): double to 32-bit signed integer, rounding towards zero,
/// modulo 2^32. Returns the W result and the Z flag (the result is exact and in range).
pub fn js_convert(a: u64, st: &mut FpStatus) -> (u32, bool) {
    let u = unpack(Fmt::D, a, st);
    match u.class {
        Class::QNaN | Class::SNaN | Class::Inf => {
            st.raise(fpsr::IOC);
            (0, false)
        }
        Class::Zero => (0, !u.sign),
        Class::Finite => {
            let (low, err, big) = if u.exp >= 0 {
                if u.exp >= 64 {
                    (0u64, Rem::Zero, true)
                } else {
                    let m = (u.mant as u128) << u.exp;
                    (m as u64, Rem::Zero, m > u32::MAX as u128)
                }
            } else {
                let (m, e) = shr_round(u.mant as u128, (-u.exp) as u32);
                (m as u64, e, m > u32::MAX as u128)
            };
            let v = if u.sign {
                (low as u32).wrapping_neg()
            } else {
                low as u32
            };
            let in_range = !big && {
                let signed = if u.sign { -(low as i64) } else { low as i64 };
                signed >= i32::MIN as i64 && signed <= i32::MAX as i64
            };
            if !in_range {
                st.raise(fpsr::IOC);
                (v, false)
            } else if err != Rem::Zero {
                st.raise(fpsr::IXC);
                (v, false)
            } else {
                (v, !u.sign || low != 0)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Estimates and Newton-Raphson steps
// ---------------------------------------------------------------------------------------

fn recip_estimate_int(a: u64) -> u64 {
    let a = a * 2 + 1;
    let b = (1u64 << 19) / a;
    b.div_ceil(2)
}

/// [`rsqrt_estimate_search`] for every input the callers pass (128..512), computed at
/// build time: the search takes up to ~360 steps, and FRSQRTE is common in vector code.
static RSQRT_TABLE: [u16; 384] = {
    let mut t = [0u16; 384];
    let mut i = 0;
    while i < 384 {
        t[i] = rsqrt_estimate_search(i as u64 + 128) as u16;
        i += 1;
    }
    t
};

/// The Arm RecipSqrtEstimate() on a 9-bit input in 128..512.
fn rsqrt_estimate_int(a: u64) -> u64 {
    match RSQRT_TABLE.get((a as usize).wrapping_sub(128)) {
        Some(&e) => e as u64,
        None => rsqrt_estimate_search(a),
    }
}

/// The Arm pseudocode's search for the estimate.
const fn rsqrt_estimate_search(a: u64) -> u64 {
    let a = if a < 256 {
        a * 2 + 1
    } else {
        (((a >> 1) << 1) + 1) * 2
    };
    let mut b = 512u64;
    while a * (b + 1) * (b + 1) < (1 << 28) {
        b += 1;
    }
    b.div_ceil(2)
}

/// URECPE (UnsignedRecipEstimate) on one 32-bit lane. No flags.
pub fn unsigned_recip_estimate(a: u32) -> u32 {
    if a >> 31 == 0 {
        u32::MAX
    } else {
        let est = recip_estimate_int((a >> 23) as u64);
        ((est as u32) & 0x1ff) << 23
    }
}

/// URSQRTE (UnsignedRSqrtEstimate) on one 32-bit lane. No flags.
pub fn unsigned_rsqrt_estimate(a: u32) -> u32 {
    if a >> 30 == 0 {
        u32::MAX
    } else {
        let est = rsqrt_estimate_int((a >> 23) as u64);
        ((est as u32) & 0x1ff) << 23
    }
}

/// Exponent of the leading bit of a finite unpacked value.
fn ilogb(u: &Unp) -> i32 {
    u.exp + 63 - u.mant.leading_zeros() as i32
}

/// FRECPE (scalar, FPRecipEstimate without increased precision).
pub fn recip_estimate(fmt: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    let a = a & fmt.mask();
    let u = unpack(fmt, a, st);
    match u.class {
        Class::QNaN | Class::SNaN => return process_nan(fmt, a, u.class, st),
        Class::Inf => return fmt.zero(u.sign),
        Class::Zero => {
            st.raise(fpsr::DZC);
            return fmt.inf(u.sign);
        }
        Class::Finite => {}
    }
    let e = ilogb(&u);
    let (tiny, big) = match fmt {
        Fmt::H => (-16, 14),
        Fmt::S | Fmt::B => (-128, 126),
        Fmt::D => (-1024, 1022),
    };
    if e < tiny {
        let to_inf = match st.rounding() {
            Rounding::PosInf => !u.sign,
            Rounding::NegInf => u.sign,
            Rounding::Zero => false,
            _ => true,
        };
        st.raise(fpsr::OFC | fpsr::IXC);
        return if to_inf {
            fmt.inf(u.sign)
        } else {
            fmt.max_normal(u.sign)
        };
    }
    if st.flush(fmt) && e >= big {
        st.raise(fpsr::UFC);
        return fmt.zero(u.sign);
    }
    let mask52 = (1u64 << 52) - 1;
    let mut frac = (a & fmt.frac_mask()) << (52 - fmt.fbits());
    let mut exp = ((a >> fmt.fbits()) & fmt.emax_field()) as i64;
    if exp == 0 {
        if frac & (1 << 51) == 0 {
            exp = -1;
            frac = (frac << 2) & mask52;
        } else {
            frac = (frac << 1) & mask52;
        }
    }
    let scaled = 256 | (frac >> 44);
    let mut result_exp = match fmt {
        Fmt::H => 29,
        Fmt::S | Fmt::B => 253,
        Fmt::D => 2045,
    } - exp;
    let est = recip_estimate_int(scaled);
    let mut fraction = (est & 0xff) << 44;
    if result_exp == 0 {
        fraction = (1 << 51) | (fraction >> 1);
    } else if result_exp == -1 {
        fraction = (1 << 50) | (fraction >> 2);
        result_exp = 0;
    }
    fmt.sgn(u.sign)
        | (((result_exp as u64) & fmt.emax_field()) << fmt.fbits())
        | (fraction >> (52 - fmt.fbits()))
}

/// FRSQRTE (scalar, FPRSqrtEstimate without increased precision).
pub fn rsqrt_estimate(fmt: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    let a = a & fmt.mask();
    let u = unpack(fmt, a, st);
    match u.class {
        Class::QNaN | Class::SNaN => return process_nan(fmt, a, u.class, st),
        Class::Zero => {
            st.raise(fpsr::DZC);
            return fmt.inf(u.sign);
        }
        _ if u.sign => return invalid(fmt, st),
        Class::Inf => return fmt.zero(false),
        Class::Finite => {}
    }
    let mask52 = (1u64 << 52) - 1;
    let mut frac = (a & fmt.frac_mask()) << (52 - fmt.fbits());
    let mut exp = ((a >> fmt.fbits()) & fmt.emax_field()) as i64;
    if exp == 0 {
        while frac & (1 << 51) == 0 {
            frac <<= 1;
            exp -= 1;
        }
        frac = (frac << 1) & mask52;
    }
    let scaled = if exp & 1 == 0 {
        256 | (frac >> 44)
    } else {
        128 | (frac >> 45)
    };
    let k: i64 = match fmt {
        Fmt::H => 44,
        Fmt::S | Fmt::B => 380,
        Fmt::D => 3068,
    };
    let result_exp = (k - exp).div_euclid(2);
    let est = rsqrt_estimate_int(scaled);
    (((result_exp as u64) & fmt.emax_field()) << fmt.fbits()) | ((est & 0xff) << (fmt.fbits() - 8))
}

fn step_common(fmt: Fmt, a: u64, b: u64, rsqrt: bool, st: &mut FpStatus) -> u64 {
    let a = neg(fmt, a);
    let u1 = unpack(fmt, a, st);
    let u2 = unpack(fmt, b, st);
    if let Some(r) = process_nans(fmt, &[(a, u1), (b, u2)], st) {
        return r;
    }
    let inf1 = u1.class == Class::Inf;
    let inf2 = u2.class == Class::Inf;
    let zero1 = u1.class == Class::Zero;
    let zero2 = u2.class == Class::Zero;
    if (inf1 && zero2) || (zero1 && inf2) {
        return if rsqrt {
            fmt.one_point_five(false)
        } else {
            fmt.two(false)
        };
    }
    if inf1 || inf2 {
        return fmt.inf(u1.sign ^ u2.sign);
    }
    // 2 + a*b  or  (3 + a*b) / 2
    let (cm, ce) = if rsqrt { (3, 0) } else { (1, 1) };
    match add_exact(
        false,
        cm,
        ce,
        u1.sign ^ u2.sign,
        u1.m() * u2.m(),
        u1.exp + u2.exp,
    ) {
        None => rounded_zero(fmt, st),
        Some((s, m, e)) => round(fmt, s, m, if rsqrt { e - 1 } else { e }, st),
    }
}

/// FRECPS: `2.0 - a * b`, fused.
pub fn recip_step(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    step_common(fmt, a, b, false, st)
}

/// FRSQRTS: `(3.0 - a * b) / 2.0`, fused.
pub fn rsqrt_step(fmt: Fmt, a: u64, b: u64, st: &mut FpStatus) -> u64 {
    step_common(fmt, a, b, true, st)
}

/// FRECPX.
pub fn recpx(fmt: Fmt, a: u64, st: &mut FpStatus) -> u64 {
    let a = a & fmt.mask();
    let u = unpack(fmt, a, st);
    if u.is_nan() {
        return process_nan(fmt, a, u.class, st);
    }
    let e = (a >> fmt.fbits()) & fmt.emax_field();
    let ne = if e == 0 {
        fmt.emax_field() - 1
    } else {
        !e & fmt.emax_field()
    };
    fmt.sgn(u.sign) | (ne << fmt.fbits())
}

#[cfg(test)]
mod tests;
