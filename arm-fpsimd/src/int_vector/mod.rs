//! Integer, bitwise, permute and move Advanced SIMD instructions (every AdvSIMD
//! operation that is not floating point), computed on whole 128-bit register values.
//!
//! Each shape reads its source registers once, builds the result lane by lane with a
//! per-lane function (`bin`, `un`, `long`, `narrow`, `shimm`, `shr_narrow`) and writes
//! the destination once, so rd may alias rn/rm. Lane arithmetic is done in `i128`,
//! wide enough for every intermediate (doubled products, unbounded shifts), then
//! truncated or saturated to the lane.

use crate::FpRegs;
use arm_decode::{Arrangement, Insn, ModImmOp, SimdOp};
use SimdOp::*;

/// All-ones in a lane of `1 << size` bytes (size 0..=3).
#[inline(always)]
fn mask(size: u8) -> u64 {
    if size >= 3 {
        u64::MAX
    } else {
        (1u64 << (8u32 << size)) - 1
    }
}

fn bits(size: u8) -> u32 {
    8u32 << size
}

/// Lane `i` of `v`, zero-extended (0 past the top of the register).
#[inline(always)]
fn get(v: u128, size: u8, i: usize) -> u64 {
    let b = bits(size) as usize * i;
    if b >= 128 {
        return 0;
    }
    // Shifting one 64-bit half is much cheaper than a variable u128 shift.
    let half = if b < 64 { v as u64 } else { (v >> 64) as u64 };
    (half >> (b % 64)) & mask(size)
}

/// `x` (a lane of `1 << size` bytes) sign-extended.
fn sx(x: u64, size: u8) -> i64 {
    let sh = 64 - bits(size);
    ((x << sh) as i64) >> sh
}

/// A lane value as a signed or unsigned mathematical integer.
fn ext(x: u64, size: u8, signed: bool) -> i128 {
    if signed {
        sx(x, size) as i128
    } else {
        (x & mask(size)) as i128
    }
}

/// A register value from `lanes` lanes of `1 << size` bytes given by `f`.
#[inline(always)]
fn build(lanes: usize, size: u8, mut f: impl FnMut(usize) -> u64) -> u128 {
    let b = bits(size) as usize;
    let m = mask(size);
    let mut r = [0u64; 2];
    for i in 0..lanes.min(128 / b) {
        let bit = i * b;
        r[(bit >> 6) & 1] |= (f(i) & m) << (bit % 64);
    }
    (r[1] as u128) << 64 | r[0] as u128
}

/// `v` clamped to the signed or unsigned range of a lane (noting saturation in `qc`),
/// as lane bits.
fn sat(v: i128, size: u8, signed: bool, qc: &mut bool) -> u64 {
    let b = bits(size);
    let (lo, hi) = if signed {
        (-(1i128 << (b - 1)), (1i128 << (b - 1)) - 1)
    } else {
        (0, (1i128 << b) - 1)
    };
    let c = v.clamp(lo, hi);
    if c != v {
        *qc = true;
    }
    c as u64 & mask(size)
}

/// `x << sh` (right shift by -sh when negative, rounding when asked) in unbounded
/// precision. A nonzero `x` shifted left by 64 or more is out of every lane's range
/// and truncates to 0, so it is returned as +-2^100 (the sign of `x`).
fn shift(x: i128, sh: i32, round: bool) -> i128 {
    if sh >= 0 {
        if x == 0 {
            0
        } else if sh >= 64 {
            x.signum() << 100
        } else {
            x << sh
        }
    } else {
        let n = (-sh).min(127) as u32;
        let r = if round { 1i128 << (n - 1) } else { 0 };
        (x + r) >> n
    }
}

/// Carry-less (polynomial) product of two 64-bit values.
fn clmul(a: u64, mut b: u64) -> u128 {
    let mut r = 0u128;
    while b != 0 {
        r ^= (a as u128) << b.trailing_zeros();
        b &= b - 1;
    }
    r
}

/// The same-size binary lane operations (three-same, scalar three-same, by element):
/// `a` from rn, `b` from rm, `d` the old destination lane.
fn bin(op: SimdOp, size: u8, a: u64, b: u64, d: u64, qc: &mut bool) -> u64 {
    let (sa, sb) = (sx(a, size) as i128, sx(b, size) as i128);
    let (ua, ub) = ((a & mask(size)) as i128, (b & mask(size)) as i128);
    let cmp = |c: bool| if c { u64::MAX } else { 0 };
    // Register shift counts are the signed low byte of the rm lane.
    let sh = b as u8 as i8 as i32;
    let eb = bits(size);
    match op {
        Shadd => ((sa + sb) >> 1) as u64,
        Uhadd => ((ua + ub) >> 1) as u64,
        Srhadd => ((sa + sb + 1) >> 1) as u64,
        Urhadd => ((ua + ub + 1) >> 1) as u64,
        Shsub => ((sa - sb) >> 1) as u64,
        Uhsub => ((ua - ub) >> 1) as u64,
        Sqadd => sat(sa + sb, size, true, qc),
        Uqadd => sat(ua + ub, size, false, qc),
        Sqsub => sat(sa - sb, size, true, qc),
        Uqsub => sat(ua - ub, size, false, qc),
        Cmgt => cmp(sa > sb),
        Cmge => cmp(sa >= sb),
        Cmhi => cmp(ua > ub),
        Cmhs => cmp(ua >= ub),
        Cmeq => cmp(ua == ub),
        Cmtst => cmp(ua & ub != 0),
        Sshl => shift(sa, sh, false) as u64,
        Ushl => shift(ua, sh, false) as u64,
        Srshl => shift(sa, sh, true) as u64,
        Urshl => shift(ua, sh, true) as u64,
        Sqshl => sat(shift(sa, sh, false), size, true, qc),
        Uqshl => sat(shift(ua, sh, false), size, false, qc),
        Sqrshl => sat(shift(sa, sh, true), size, true, qc),
        Uqrshl => sat(shift(ua, sh, true), size, false, qc),
        Smax | Smaxp => sa.max(sb) as u64,
        Smin | Sminp => sa.min(sb) as u64,
        Umax | Umaxp => ua.max(ub) as u64,
        Umin | Uminp => ua.min(ub) as u64,
        Sabd => (sa - sb).unsigned_abs() as u64,
        Uabd => (ua - ub).unsigned_abs() as u64,
        Saba => d.wrapping_add((sa - sb).unsigned_abs() as u64),
        Uaba => d.wrapping_add((ua - ub).unsigned_abs() as u64),
        Add | Addp => a.wrapping_add(b),
        Sub => a.wrapping_sub(b),
        Mul => a.wrapping_mul(b),
        Mla => d.wrapping_add(a.wrapping_mul(b)),
        Mls => d.wrapping_sub(a.wrapping_mul(b)),
        Pmul => clmul(a & 0xff, b & 0xff) as u64,
        Sqdmulh => sat((2 * sa * sb) >> eb, size, true, qc),
        Sqrdmulh => sat((2 * sa * sb + (1i128 << (eb - 1))) >> eb, size, true, qc),
        _ => 0,
    }
}

/// The same-size unary lane operations (two-register misc, vector and scalar);
/// `d` is the old destination lane (the accumulator of SUQADD/USQADD).
fn un(op: SimdOp, size: u8, a: u64, d: u64, qc: &mut bool) -> u64 {
    let a = a & mask(size);
    let sa = sx(a, size) as i128;
    let cmp = |c: bool| if c { u64::MAX } else { 0 };
    let clz = |x: u64| x.leading_zeros() - (64 - bits(size));
    match op {
        Cls => clz(if sa < 0 { !a & mask(size) } else { a }) as u64 - 1,
        Clz => clz(a) as u64,
        Cnt => a.count_ones() as u64,
        Not => !a,
        Rbit => (a as u8).reverse_bits() as u64,
        Sqabs => sat(sa.abs(), size, true, qc),
        Sqneg => sat(-sa, size, true, qc),
        Abs => sa.unsigned_abs() as u64,
        Neg => (-sa) as u64,
        Cmgt => cmp(sa > 0),
        Cmge => cmp(sa >= 0),
        Cmeq => cmp(sa == 0),
        Cmle => cmp(sa <= 0),
        Cmlt => cmp(sa < 0),
        Suqadd => sat(sx(d, size) as i128 + a as i128, size, true, qc),
        Usqadd => sat((d & mask(size)) as i128 + sa, size, false, qc),
        _ => 0,
    }
}

/// The signed lengthening operations: the S-prefixed ones of [`is_long3`].
fn is_signed_long(op: SimdOp) -> bool {
    is_long3(op) && op.name().starts_with('s')
}

/// The lengthening lane operations (three-different and by-element long forms): `a`
/// and `b` of `1 << size` bytes (`a` of twice that for the wide ADDW/SUBW forms), `d`
/// the old double-width destination lane; returns the double-width lane.
fn long(op: SimdOp, size: u8, a: u64, b: u64, d: u64, qc: &mut bool) -> u64 {
    let w = size + 1;
    let signed = is_signed_long(op);
    let asize = if matches!(op, Saddw | Ssubw | Uaddw | Usubw) {
        w
    } else {
        size
    };
    let (ea, eb) = (ext(a, asize, signed), ext(b, size, signed));
    let dbl = |qc: &mut bool| sat(2 * ea * eb, w, true, qc);
    match op {
        Saddl | Saddw | Uaddl | Uaddw => (ea + eb) as u64,
        Ssubl | Ssubw | Usubl | Usubw => (ea - eb) as u64,
        Sabal | Uabal => d.wrapping_add((ea - eb).unsigned_abs() as u64),
        Sabdl | Uabdl => (ea - eb).unsigned_abs() as u64,
        Smlal | Umlal => d.wrapping_add((ea * eb) as u64),
        Smlsl | Umlsl => d.wrapping_sub((ea * eb) as u64),
        Smull | Umull => (ea * eb) as u64,
        Pmull => clmul(a & mask(size), b & mask(size)) as u64,
        Sqdmull => dbl(qc),
        Sqdmlal => {
            let p = dbl(qc);
            sat(sx(d, w) as i128 + sx(p, w) as i128, w, true, qc)
        }
        Sqdmlsl => {
            let p = dbl(qc);
            sat(sx(d, w) as i128 - sx(p, w) as i128, w, true, qc)
        }
        _ => 0,
    }
}

/// XTN/SQXTN/SQXTUN/UQXTN of one double-width lane `a` to `1 << size` bytes.
fn narrow(op: SimdOp, size: u8, a: u64, qc: &mut bool) -> u64 {
    let w = size + 1;
    match op {
        Sqxtn => sat(sx(a, w) as i128, size, true, qc),
        Sqxtun => sat(sx(a, w) as i128, size, false, qc),
        Uqxtn => sat((a & mask(w)) as i128, size, false, qc),
        _ => a,
    }
}

/// The same-size shift-by-immediate lane operations; `d` is the old destination lane.
fn shimm(op: SimdOp, size: u8, a: u64, d: u64, sh: u32, qc: &mut bool) -> u64 {
    let (sa, ua) = (sx(a, size) as i128, (a & mask(size)) as i128);
    let r = -(sh as i32);
    let m = mask(size);
    match op {
        Sshr => shift(sa, r, false) as u64,
        Ushr => shift(ua, r, false) as u64,
        Srshr => shift(sa, r, true) as u64,
        Urshr => shift(ua, r, true) as u64,
        Ssra => d.wrapping_add(shift(sa, r, false) as u64),
        Usra => d.wrapping_add(shift(ua, r, false) as u64),
        Srsra => d.wrapping_add(shift(sa, r, true) as u64),
        Ursra => d.wrapping_add(shift(ua, r, true) as u64),
        Shl => shift(ua, sh as i32, false) as u64,
        Sli => {
            let ins = (m << sh.min(63)) & m;
            (d & !ins) | (shift(ua, sh as i32, false) as u64 & ins)
        }
        Sri => {
            // A shift by the whole lane inserts nothing.
            let ins = if sh >= 64 { 0 } else { m >> sh };
            (d & !ins) | (shift(ua, r, false) as u64 & ins)
        }
        Sqshl => sat(shift(sa, sh as i32, false), size, true, qc),
        Uqshl => sat(shift(ua, sh as i32, false), size, false, qc),
        Sqshlu => sat(shift(sa, sh as i32, false), size, false, qc),
        _ => 0,
    }
}

/// The narrowing right shifts of one double-width lane `a` to `1 << size` bytes.
fn shr_narrow(op: SimdOp, size: u8, a: u64, sh: u32, qc: &mut bool) -> u64 {
    let signed = matches!(op, Sqshrn | Sqrshrn | Sqshrun | Sqrshrun);
    let round = matches!(op, Rshrn | Sqrshrn | Sqrshrun | Uqrshrn);
    let v = shift(ext(a, size + 1, signed), -(sh as i32), round);
    match op {
        Shrn | Rshrn => v as u64,
        Sqshrn | Sqrshrn => sat(v, size, true, qc),
        _ => sat(v, size, false, qc),
    }
}

/// The three-same bitwise operations on whole registers.
fn logic(op: SimdOp, n: u128, m: u128, d: u128) -> u128 {
    match op {
        And => n & m,
        Bic => n & !m,
        Orr => n | m,
        Orn => n | !m,
        Eor => n ^ m,
        Bsl => (d & n) | (!d & m),
        Bit => (d & !m) | (n & m),
        _ => (d & m) | (n & !m), // Bif
    }
}

/// Writes a 64-bit narrowed result to the low half of rd (zeroing the upper half),
/// or for the `2` forms to the upper half, keeping the low one.
fn write_narrow(regs: &mut FpRegs, rd: u8, upper: bool, r: u128) {
    if upper {
        let lo = regs.q(rd) & u64::MAX as u128;
        regs.set_q(rd, lo | r << 64);
    } else {
        regs.set_vec(rd, false, r);
    }
}

fn is_logic(op: SimdOp) -> bool {
    matches!(op, And | Bic | Orr | Orn | Eor | Bsl | Bit | Bif)
}

fn is_pairwise(op: SimdOp) -> bool {
    matches!(op, Addp | Smaxp | Sminp | Umaxp | Uminp)
}

fn is_long3(op: SimdOp) -> bool {
    matches!(
        op,
        Saddl
            | Saddw
            | Ssubl
            | Ssubw
            | Sabal
            | Sabdl
            | Smlal
            | Smlsl
            | Smull
            | Sqdmlal
            | Sqdmlsl
            | Sqdmull
            | Pmull
            | Uaddl
            | Uaddw
            | Usubl
            | Usubw
            | Uabal
            | Uabdl
            | Umlal
            | Umlsl
            | Umull
    )
}

fn is_hn(op: SimdOp) -> bool {
    matches!(op, Addhn | Raddhn | Subhn | Rsubhn)
}

fn is_xtn(op: SimdOp) -> bool {
    matches!(op, Xtn | Sqxtn | Sqxtun | Uqxtn)
}

fn is_shr_narrow(op: SimdOp) -> bool {
    matches!(
        op,
        Shrn | Rshrn | Sqshrn | Sqrshrn | Sqshrun | Sqrshrun | Uqshrn | Uqrshrn
    )
}

fn is_shimm(op: SimdOp) -> bool {
    matches!(
        op,
        Sshr | Ushr
            | Srshr
            | Urshr
            | Ssra
            | Usra
            | Srsra
            | Ursra
            | Shl
            | Sli
            | Sri
            | Sqshl
            | Uqshl
            | Sqshlu
    )
}

fn is_bin3(op: SimdOp) -> bool {
    matches!(
        op,
        Shadd
            | Uhadd
            | Srhadd
            | Urhadd
            | Shsub
            | Uhsub
            | Sqadd
            | Uqadd
            | Sqsub
            | Uqsub
            | Cmgt
            | Cmge
            | Cmhi
            | Cmhs
            | Cmeq
            | Cmtst
            | Sshl
            | Ushl
            | Srshl
            | Urshl
            | Sqshl
            | Uqshl
            | Sqrshl
            | Uqrshl
            | Smax
            | Smin
            | Umax
            | Umin
            | Sabd
            | Uabd
            | Saba
            | Uaba
            | Add
            | Sub
            | Mul
            | Mla
            | Mls
            | Pmul
            | Sqdmulh
            | Sqrdmulh
    )
}

fn is_un(op: SimdOp) -> bool {
    matches!(
        op,
        Cls | Clz
            | Cnt
            | Not
            | Rbit
            | Sqabs
            | Sqneg
            | Abs
            | Neg
            | Cmgt
            | Cmge
            | Cmeq
            | Cmle
            | Cmlt
            | Suqadd
            | Usqadd
    )
}

/// Operations whose vector forms have 64-bit lanes (2D only, never 1D) and whose
/// scalar forms exist at 64 bits.
fn has_d(op: SimdOp) -> bool {
    matches!(
        op,
        Sqadd
            | Uqadd
            | Sqsub
            | Uqsub
            | Cmgt
            | Cmge
            | Cmhi
            | Cmhs
            | Cmeq
            | Cmtst
            | Cmle
            | Cmlt
            | Sshl
            | Ushl
            | Sqshl
            | Uqshl
            | Srshl
            | Urshl
            | Sqrshl
            | Uqrshl
            | Add
            | Sub
            | Addp
            | Suqadd
            | Usqadd
            | Sqabs
            | Sqneg
            | Abs
            | Neg
    )
}

/// Operations whose scalar forms exist at every element size (the other scalar
/// integer forms are 64-bit only).
fn scalar_any_size(op: SimdOp) -> bool {
    matches!(
        op,
        Sqadd
            | Uqadd
            | Sqsub
            | Uqsub
            | Sqshl
            | Uqshl
            | Sqrshl
            | Uqrshl
            | Sqabs
            | Sqneg
            | Suqadd
            | Usqadd
            | Sqshlu
    )
}

/// Whether a same-size vector operation exists with the arrangement `arr`.
fn vec_size_ok(op: SimdOp, arr: Arrangement) -> bool {
    match op {
        Pmul | Cnt | Not | Rbit | Rev16 => arr.size == 0,
        Rev32 => arr.size <= 1,
        Sqdmulh | Sqrdmulh => (1..=2).contains(&arr.size),
        _ if is_logic(op) => arr.size == 0,
        _ => arr.size < 3 || (arr.q && has_d(op)),
    }
}

/// Whether a scalar operation exists with elements of `1 << size` bytes.
fn scalar_size_ok(op: SimdOp, size: u8) -> bool {
    match op {
        Sqdmulh | Sqrdmulh => (1..=2).contains(&size),
        _ => scalar_any_size(op) || size == 3,
    }
}

/// Whether `exec` implements an integer AdvSIMD instruction: the operation belongs
/// to the shape and the element size / Q combination is allocated. The decoder
/// already produces only allocated combinations; checking again here keeps `exec`
/// exact and the double-width helpers within 64-bit lanes whatever it is given.
pub(crate) fn supported(insn: &Insn) -> bool {
    use Insn::*;
    let esize = match *insn {
        SimdThreeSame { arr, .. }
        | SimdThreeDiff { arr, .. }
        | SimdTwoReg { arr, .. }
        | SimdAcross { arr, .. }
        | SimdShiftImm { arr, .. }
        | SimdByElement { arr, .. }
        | SimdPermute { arr, .. }
        | SimdDupElement { arr, .. }
        | SimdDupGeneral { arr, .. }
        | SimdModImm { arr, .. } => arr.size,
        SimdScalarThreeSame { size, .. }
        | SimdScalarThreeDiff { size, .. }
        | SimdScalarTwoReg { size, .. }
        | SimdScalarPairwise { size, .. }
        | SimdScalarShiftImm { size, .. }
        | SimdScalarByElement { size, .. }
        | SimdDupScalar { size, .. }
        | SimdInsGeneral { size, .. }
        | SimdInsElement { size, .. }
        | SimdMovToGeneral { size, .. } => size,
        _ => 0,
    };
    if esize > 3 {
        return false;
    }
    match *insn {
        SimdThreeSame { op, arr, .. } => {
            (is_bin3(op) || is_logic(op) || is_pairwise(op)) && vec_size_ok(op, arr)
        }
        SimdScalarThreeSame { op, size, .. } => {
            is_bin3(op)
                && (has_d(op) || matches!(op, Sqdmulh | Sqrdmulh))
                && scalar_size_ok(op, size)
        }
        SimdThreeDiff { op, arr, .. } => match op {
            Pmull => arr.size == 0 || arr.size == 3,
            Sqdmlal | Sqdmlsl | Sqdmull => (1..=2).contains(&arr.size),
            _ => (is_hn(op) || is_long3(op)) && arr.size < 3,
        },
        SimdScalarThreeDiff { op, size, .. } => {
            matches!(op, Sqdmlal | Sqdmlsl | Sqdmull) && (1..=2).contains(&size)
        }
        SimdTwoReg { op, arr, .. } => match op {
            Saddlp | Uaddlp | Sadalp | Uadalp | Shll | Rev64 | Cls | Clz => arr.size < 3,
            _ if is_xtn(op) => arr.size < 3,
            _ => (is_un(op) || matches!(op, Rev16 | Rev32)) && vec_size_ok(op, arr),
        },
        SimdScalarTwoReg { op, size, .. } => match op {
            Sqxtn | Sqxtun | Uqxtn => size < 3,
            Cmgt | Cmge | Cmeq | Cmle | Cmlt | Abs | Neg | Sqabs | Sqneg | Suqadd | Usqadd => {
                scalar_size_ok(op, size)
            }
            _ => false,
        },
        SimdAcross { op, arr, .. } => {
            matches!(op, Addv | Saddlv | Uaddlv | Smaxv | Sminv | Umaxv | Uminv)
                && (arr.size < 2 || (arr.size == 2 && arr.q))
        }
        SimdScalarPairwise { op, size, .. } => op == Addp && size == 3,
        SimdShiftImm { op, arr, shift, .. } => {
            let b = bits(arr.size) as u8;
            match op {
                Sshll | Ushll => arr.size < 3 && shift < b,
                _ if is_shr_narrow(op) => arr.size < 3 && (1..=b).contains(&shift),
                Shl | Sli | Sqshl | Uqshl | Sqshlu => (arr.size < 3 || arr.q) && shift < b,
                _ => is_shimm(op) && (arr.size < 3 || arr.q) && (1..=b).contains(&shift),
            }
        }
        SimdScalarShiftImm {
            op, size, shift, ..
        } => {
            let b = bits(size) as u8;
            match op {
                Sqshrn | Sqrshrn | Sqshrun | Sqrshrun | Uqshrn | Uqrshrn => {
                    size < 3 && (1..=b).contains(&shift)
                }
                Shl | Sli | Sqshl | Uqshl | Sqshlu => scalar_size_ok(op, size) && shift < b,
                _ => is_shimm(op) && size == 3 && (1..=b).contains(&shift),
            }
        }
        SimdByElement { op, arr, index, .. } => {
            matches!(
                op,
                Mul | Mla
                    | Mls
                    | Sqdmulh
                    | Sqrdmulh
                    | Smull
                    | Umull
                    | Smlal
                    | Umlal
                    | Smlsl
                    | Umlsl
                    | Sqdmull
                    | Sqdmlal
                    | Sqdmlsl
            ) && (1..=2).contains(&arr.size)
                && index < 16 >> arr.size
        }
        SimdScalarByElement {
            op, size, index, ..
        } => {
            matches!(op, Sqdmulh | Sqrdmulh | Sqdmull | Sqdmlal | Sqdmlsl)
                && (1..=2).contains(&size)
                && index < 16 >> size
        }
        SimdPermute { op, arr, .. } => {
            matches!(op, Zip1 | Zip2 | Uzp1 | Uzp2 | Trn1 | Trn2) && (arr.size < 3 || arr.q)
        }
        SimdExt { q, index, .. } => index < if q { 16 } else { 8 },
        SimdTable { len, .. } => (1..=4).contains(&len),
        SimdModImm { arr, op, .. } => arr.q || arr.size < 3 || op == ModImmOp::Movi,
        SimdDupElement { arr, index, .. } => (arr.size < 3 || arr.q) && index < 16 >> arr.size,
        SimdDupGeneral { arr, .. } => arr.size < 3 || arr.q,
        SimdDupScalar { size, index, .. } => index < 16 >> size,
        SimdInsGeneral { size, index, .. } => index < 16 >> size,
        SimdInsElement {
            size,
            index,
            src_index,
            ..
        } => index < 16 >> size && src_index < 16 >> size,
        SimdMovToGeneral {
            signed,
            is64,
            size,
            index,
            ..
        } => {
            let size_ok = match (signed, is64) {
                (true, true) => size < 3,
                (true, false) => size < 2,
                (false, true) => size == 3,
                (false, false) => size < 3,
            };
            size_ok && index < 16 >> size
        }
        _ => false,
    }
}

/// Executes a supported integer AdvSIMD instruction; returns the general-register
/// result of UMOV/SMOV, 0 otherwise.
pub(crate) fn exec(regs: &mut FpRegs, insn: &Insn, gpr: u64) -> u64 {
    if !supported(insn) {
        return 0;
    }
    let mut qc = false;
    let ret = run(regs, insn, gpr, &mut qc);
    if qc {
        regs.set_qc();
    }
    ret
}

fn run(regs: &mut FpRegs, insn: &Insn, gpr: u64, qc: &mut bool) -> u64 {
    use Insn::*;
    match *insn {
        SimdThreeSame {
            op,
            arr,
            rd,
            rn,
            rm,
        } => {
            let (n, m, d) = (regs.q(rn), regs.q(rm), regs.q(rd));
            let (s, l) = (arr.size, arr.lanes() as usize);
            let r = if is_logic(op) {
                logic(op, n, m, d)
            } else if is_pairwise(op) {
                // Pairs of adjacent lanes of rm:rn (rn in the low lanes).
                let c = |j: usize| {
                    if j < l {
                        get(n, s, j)
                    } else {
                        get(m, s, j - l)
                    }
                };
                build(l, s, |i| bin(op, s, c(2 * i), c(2 * i + 1), 0, qc))
            } else {
                build(l, s, |i| {
                    bin(op, s, get(n, s, i), get(m, s, i), get(d, s, i), qc)
                })
            };
            regs.set_vec(rd, arr.q, r);
        }
        SimdScalarThreeSame {
            op,
            size,
            rd,
            rn,
            rm,
        } => {
            let (a, b, d) = (
                regs.lane(rn, size, 0),
                regs.lane(rm, size, 0),
                regs.lane(rd, size, 0),
            );
            let r = bin(op, size, a, b, d, qc);
            regs.set_scalar(rd, size, r as u128);
        }
        SimdThreeDiff {
            op,
            arr,
            rd,
            rn,
            rm,
        } => {
            let (n, m, d) = (regs.q(rn), regs.q(rm), regs.q(rd));
            let s = arr.size;
            // Lanes of the double-width result, and where the narrow sources start.
            let nl = 8usize >> s;
            let hl = if arr.q { nl } else { 0 };
            if is_hn(op) {
                let w = s + 1;
                let r = build(nl, s, |i| {
                    let (a, b) = (get(n, w, i), get(m, w, i));
                    let mut v = if matches!(op, Addhn | Raddhn) {
                        a.wrapping_add(b)
                    } else {
                        a.wrapping_sub(b)
                    };
                    if matches!(op, Raddhn | Rsubhn) {
                        v = v.wrapping_add(1 << (bits(s) - 1));
                    }
                    (v & mask(w)) >> bits(s)
                });
                write_narrow(regs, rd, arr.q, r);
            } else if s == 3 {
                // PMULL/PMULL2 .1q: one 128-bit product.
                regs.set_q(rd, clmul(get(n, 3, hl), get(m, 3, hl)));
            } else {
                let wide_a = matches!(op, Saddw | Ssubw | Uaddw | Usubw);
                let r = build(nl, s + 1, |i| {
                    let a = if wide_a {
                        get(n, s + 1, i)
                    } else {
                        get(n, s, i + hl)
                    };
                    long(op, s, a, get(m, s, i + hl), get(d, s + 1, i), qc)
                });
                regs.set_q(rd, r);
            }
        }
        SimdScalarThreeDiff {
            op,
            size,
            rd,
            rn,
            rm,
        } => {
            let (a, b) = (regs.lane(rn, size, 0), regs.lane(rm, size, 0));
            let d = regs.lane(rd, size + 1, 0);
            let r = long(op, size, a, b, d, qc);
            regs.set_scalar(rd, size + 1, r as u128);
        }
        SimdTwoReg { op, arr, rd, rn } => {
            let (n, d) = (regs.q(rn), regs.q(rd));
            let (s, l) = (arr.size, arr.lanes() as usize);
            let nl = 8usize >> s;
            match op {
                Rev16 | Rev32 | Rev64 => {
                    let cont = match op {
                        Rev16 => 2usize,
                        Rev32 => 4,
                        _ => 8,
                    } >> s;
                    let r = build(l, s, |i| get(n, s, i ^ (cont - 1)));
                    regs.set_vec(rd, arr.q, r);
                }
                Saddlp | Uaddlp | Sadalp | Uadalp => {
                    let signed = matches!(op, Saddlp | Sadalp);
                    let acc = matches!(op, Sadalp | Uadalp);
                    let w = s + 1;
                    let r = build(l / 2, w, |i| {
                        let v =
                            ext(get(n, s, 2 * i), s, signed) + ext(get(n, s, 2 * i + 1), s, signed);
                        let base = if acc { get(d, w, i) } else { 0 };
                        base.wrapping_add(v as u64)
                    });
                    regs.set_vec(rd, arr.q, r);
                }
                Shll => {
                    let hl = if arr.q { nl } else { 0 };
                    let r = build(nl, s + 1, |i| get(n, s, i + hl) << bits(s));
                    regs.set_q(rd, r);
                }
                _ if is_xtn(op) => {
                    let r = build(nl, s, |i| narrow(op, s, get(n, s + 1, i), qc));
                    write_narrow(regs, rd, arr.q, r);
                }
                _ => {
                    let r = build(l, s, |i| un(op, s, get(n, s, i), get(d, s, i), qc));
                    regs.set_vec(rd, arr.q, r);
                }
            }
        }
        SimdScalarTwoReg { op, size, rd, rn } => {
            let r = if is_xtn(op) {
                narrow(op, size, regs.lane(rn, size + 1, 0), qc)
            } else {
                un(op, size, regs.lane(rn, size, 0), regs.lane(rd, size, 0), qc)
            };
            regs.set_scalar(rd, size, r as u128);
        }
        SimdAcross { op, arr, rd, rn } => {
            let n = regs.q(rn);
            let (s, l) = (arr.size, arr.lanes() as usize);
            let lanes = (0..l).map(|i| get(n, s, i));
            let (rsize, r) = match op {
                Addv => (s, lanes.fold(0u64, u64::wrapping_add)),
                Saddlv | Uaddlv => {
                    let signed = op == Saddlv;
                    (s + 1, lanes.map(|x| ext(x, s, signed)).sum::<i128>() as u64)
                }
                _ => {
                    let bop = match op {
                        Smaxv => Smax,
                        Sminv => Smin,
                        Umaxv => Umax,
                        _ => Umin,
                    };
                    let first = get(n, s, 0);
                    (s, lanes.fold(first, |x, y| bin(bop, s, x, y, 0, qc)))
                }
            };
            regs.set_scalar(rd, rsize, r as u128);
        }
        SimdScalarPairwise { rd, rn, .. } => {
            let r = regs.lane(rn, 3, 0).wrapping_add(regs.lane(rn, 3, 1));
            regs.set_scalar(rd, 3, r as u128);
        }
        SimdShiftImm {
            op,
            arr,
            rd,
            rn,
            shift,
        } => {
            let (n, d) = (regs.q(rn), regs.q(rd));
            let (s, l, sh) = (arr.size, arr.lanes() as usize, shift as u32);
            let nl = 8usize >> s;
            if is_shr_narrow(op) {
                let r = build(nl, s, |i| shr_narrow(op, s, get(n, s + 1, i), sh, qc));
                write_narrow(regs, rd, arr.q, r);
            } else if matches!(op, Sshll | Ushll) {
                let hl = if arr.q { nl } else { 0 };
                let signed = op == Sshll;
                let r = build(nl, s + 1, |i| {
                    (ext(get(n, s, i + hl), s, signed) << sh) as u64
                });
                regs.set_q(rd, r);
            } else {
                let r = build(l, s, |i| shimm(op, s, get(n, s, i), get(d, s, i), sh, qc));
                regs.set_vec(rd, arr.q, r);
            }
        }
        SimdScalarShiftImm {
            op,
            size,
            rd,
            rn,
            shift,
        } => {
            let sh = shift as u32;
            let r = if is_shr_narrow(op) {
                shr_narrow(op, size, regs.lane(rn, size + 1, 0), sh, qc)
            } else {
                let (a, d) = (regs.lane(rn, size, 0), regs.lane(rd, size, 0));
                shimm(op, size, a, d, sh, qc)
            };
            regs.set_scalar(rd, size, r as u128);
        }
        SimdByElement {
            op,
            arr,
            rd,
            rn,
            rm,
            index,
        } => {
            let (n, d) = (regs.q(rn), regs.q(rd));
            let (s, l) = (arr.size, arr.lanes() as usize);
            let b = regs.lane(rm, s, index as usize);
            if is_long3(op) {
                let nl = 8usize >> s;
                let hl = if arr.q { nl } else { 0 };
                let r = build(nl, s + 1, |i| {
                    long(op, s, get(n, s, i + hl), b, get(d, s + 1, i), qc)
                });
                regs.set_q(rd, r);
            } else {
                let r = build(l, s, |i| bin(op, s, get(n, s, i), b, get(d, s, i), qc));
                regs.set_vec(rd, arr.q, r);
            }
        }
        SimdScalarByElement {
            op,
            size,
            rd,
            rn,
            rm,
            index,
        } => {
            let a = regs.lane(rn, size, 0);
            let b = regs.lane(rm, size, index as usize);
            if is_long3(op) {
                let d = regs.lane(rd, size + 1, 0);
                let r = long(op, size, a, b, d, qc);
                regs.set_scalar(rd, size + 1, r as u128);
            } else {
                let r = bin(op, size, a, b, 0, qc);
                regs.set_scalar(rd, size, r as u128);
            }
        }
        SimdPermute {
            op,
            arr,
            rd,
            rn,
            rm,
        } => {
            let (n, m) = (regs.q(rn), regs.q(rm));
            let (s, l) = (arr.size, arr.lanes() as usize);
            let h = l / 2;
            let c = |j: usize| {
                if j < l {
                    get(n, s, j)
                } else {
                    get(m, s, j - l)
                }
            };
            let pick = |i: usize, j: usize| get(if i & 1 == 0 { n } else { m }, s, j);
            let r = match op {
                Zip1 => build(l, s, |i| pick(i, i / 2)),
                Zip2 => build(l, s, |i| pick(i, h + i / 2)),
                Uzp1 => build(l, s, |i| c(2 * i)),
                Uzp2 => build(l, s, |i| c(2 * i + 1)),
                Trn1 => build(l, s, |i| pick(i, i & !1)),
                _ => build(l, s, |i| pick(i, i | 1)), // Trn2
            };
            regs.set_vec(rd, arr.q, r);
        }
        SimdExt {
            q,
            rd,
            rn,
            rm,
            index,
        } => {
            let (n, m) = (regs.q(rn), regs.q(rm));
            let nb = if q { 16 } else { 8 };
            let r = build(nb, 0, |i| {
                let j = i + index as usize;
                if j < nb {
                    get(n, 0, j)
                } else {
                    get(m, 0, j - nb)
                }
            });
            regs.set_vec(rd, q, r);
        }
        SimdTable {
            tbx,
            q,
            len,
            rd,
            rn,
            rm,
        } => {
            let (idx, d) = (regs.q(rm), regs.q(rd));
            let mut table = [0u128; 4];
            let len = (len as usize).clamp(1, 4);
            for (k, t) in table.iter_mut().enumerate().take(len) {
                *t = regs.q(rn.wrapping_add(k as u8) & 31);
            }
            let nb = if q { 16 } else { 8 };
            let r = build(nb, 0, |i| {
                let x = get(idx, 0, i) as usize;
                if x < 16 * len {
                    get(table[x / 16], 0, x % 16)
                } else if tbx {
                    get(d, 0, i)
                } else {
                    0
                }
            });
            regs.set_vec(rd, q, r);
        }
        SimdDupElement { arr, rd, rn, index } => {
            let v = regs.lane(rn, arr.size, index as usize);
            let r = build(arr.lanes() as usize, arr.size, |_| v);
            regs.set_vec(rd, arr.q, r);
        }
        SimdDupScalar {
            size,
            rd,
            rn,
            index,
        } => {
            let v = regs.lane(rn, size, index as usize);
            regs.set_scalar(rd, size, v as u128);
        }
        SimdDupGeneral { arr, rd, .. } => {
            let r = build(arr.lanes() as usize, arr.size, |_| gpr);
            regs.set_vec(rd, arr.q, r);
        }
        SimdInsGeneral {
            size, rd, index, ..
        } => regs.set_lane(rd, size, index as usize, gpr),
        SimdInsElement {
            size,
            rd,
            index,
            rn,
            src_index,
        } => {
            let v = regs.lane(rn, size, src_index as usize);
            regs.set_lane(rd, size, index as usize, v);
        }
        SimdMovToGeneral {
            signed,
            is64,
            size,
            rn,
            index,
            ..
        } => {
            let v = regs.lane(rn, size, index as usize);
            return match (signed, is64) {
                (false, _) => v,
                (true, true) => sx(v, size) as u64,
                (true, false) => sx(v, size) as u32 as u64,
            };
        }
        SimdModImm {
            op, arr, imm, rd, ..
        } => {
            let imm = (imm as u128) << 64 | imm as u128;
            let d = regs.q(rd);
            let r = match op {
                ModImmOp::Movi | ModImmOp::Fmov => imm,
                ModImmOp::Mvni => !imm,
                ModImmOp::Orr => d | imm,
                ModImmOp::Bic => d & !imm,
            };
            regs.set_vec(rd, arr.q, r);
        }
        _ => {}
    }
    0
}

#[cfg(test)]
pub(crate) mod tests;
