//! Advanced SIMD floating-point instructions (vector and scalar forms): per-lane
//! arm-fp calls driven by one generic lane loop per instruction shape.

use crate::FpRegs;
use arm_decode::{Insn, SimdOp};
use arm_fp::{Fmt, FpStatus, Rounding};

pub(crate) type Un = fn(Fmt, u64, &mut FpStatus) -> u64;
pub(crate) type Bin = fn(Fmt, u64, u64, &mut FpStatus) -> u64;

/// Lane values of one register operand or result (at most 8 FP lanes; sized for 16 so
/// that any lane count the decoder can produce stays in bounds).
type Lanes = [u64; 16];

pub(crate) fn fmt_of(size: u8) -> Option<Fmt> {
    match size {
        1 => Some(Fmt::H),
        2 => Some(Fmt::S),
        3 => Some(Fmt::D),
        _ => None,
    }
}

/// All ones in the low `fmt.width()` bits when `t` (the FCMxx/FACxx lane result).
fn mask(f: Fmt, t: bool) -> u64 {
    if t {
        f.mask()
    } else {
        0
    }
}

/// The element-wise two-operand operations (three-same, scalar three-same).
pub(crate) fn binary(op: SimdOp) -> Option<Bin> {
    use SimdOp::*;
    Some(match op {
        Fadd => arm_fp::add,
        Fsub => arm_fp::sub,
        Fmul => arm_fp::mul,
        Fdiv => arm_fp::div,
        Fmax => arm_fp::max,
        Fmin => arm_fp::min,
        Fmaxnm => arm_fp::maxnm,
        Fminnm => arm_fp::minnm,
        Fmulx => arm_fp::mulx,
        Fabd => arm_fp::abd,
        Frecps => arm_fp::recip_step,
        Frsqrts => arm_fp::rsqrt_step,
        Fcmeq => |f, a, b, st| mask(f, arm_fp::compare_eq(f, a, b, st)),
        Fcmge => |f, a, b, st| mask(f, arm_fp::compare_ge(f, a, b, st)),
        Fcmgt => |f, a, b, st| mask(f, arm_fp::compare_gt(f, a, b, st)),
        Facge => |f, a, b, st| mask(f, arm_fp::abs_compare_ge(f, a, b, st)),
        Facgt => |f, a, b, st| mask(f, arm_fp::abs_compare_gt(f, a, b, st)),
        _ => return None,
    })
}

/// The reduction of a pairwise (FADDP, ...) or across-lanes (FMAXV, ...) operation.
fn pairwise(op: SimdOp) -> Option<Bin> {
    use SimdOp::*;
    Some(match op {
        Faddp => arm_fp::add,
        Fmaxp | Fmaxv => arm_fp::max,
        Fminp | Fminv => arm_fp::min,
        Fmaxnmp | Fmaxnmv => arm_fp::maxnm,
        Fminnmp | Fminnmv => arm_fp::minnm,
        _ => return None,
    })
}

/// FPToFixed to a lane-sized integer (FCVT{N,P,M,Z,A}{S,U}, vector and scalar).
fn to_int(f: Fmt, a: u64, unsigned: bool, r: Rounding, st: &mut FpStatus) -> u64 {
    arm_fp::to_fixed(f, a, 0, unsigned, f.width(), r, st)
}

/// The element-wise one-operand operations (two-reg misc, vector and scalar, including
/// the compares against zero), not counting the narrowing/lengthening conversions.
pub(crate) fn unary(op: SimdOp) -> Option<Un> {
    use Rounding::*;
    use SimdOp::*;
    Some(match op {
        Fabs => |f, a, _| arm_fp::abs(f, a),
        Fneg => |f, a, _| arm_fp::neg(f, a),
        Fsqrt => arm_fp::sqrt,
        Frintn => |f, a, st| arm_fp::round_int(f, a, TieEven, false, st),
        Frintp => |f, a, st| arm_fp::round_int(f, a, PosInf, false, st),
        Frintm => |f, a, st| arm_fp::round_int(f, a, NegInf, false, st),
        Frintz => |f, a, st| arm_fp::round_int(f, a, Zero, false, st),
        Frinta => |f, a, st| arm_fp::round_int(f, a, TieAway, false, st),
        Frintx => |f, a, st| arm_fp::round_int(f, a, st.rounding(), true, st),
        Frinti => |f, a, st| arm_fp::round_int(f, a, st.rounding(), false, st),
        Fcvtns => |f, a, st| to_int(f, a, false, TieEven, st),
        Fcvtps => |f, a, st| to_int(f, a, false, PosInf, st),
        Fcvtms => |f, a, st| to_int(f, a, false, NegInf, st),
        Fcvtzs => |f, a, st| to_int(f, a, false, Zero, st),
        Fcvtas => |f, a, st| to_int(f, a, false, TieAway, st),
        Fcvtnu => |f, a, st| to_int(f, a, true, TieEven, st),
        Fcvtpu => |f, a, st| to_int(f, a, true, PosInf, st),
        Fcvtmu => |f, a, st| to_int(f, a, true, NegInf, st),
        Fcvtzu => |f, a, st| to_int(f, a, true, Zero, st),
        Fcvtau => |f, a, st| to_int(f, a, true, TieAway, st),
        Scvtf => |f, a, st| arm_fp::from_fixed(f, a, 0, true, f.width(), st),
        Ucvtf => |f, a, st| arm_fp::from_fixed(f, a, 0, false, f.width(), st),
        Frecpe => arm_fp::recip_estimate,
        Frsqrte => arm_fp::rsqrt_estimate,
        Frecpx => arm_fp::recpx,
        Urecpe => |_, a, _| arm_fp::unsigned_recip_estimate(a as u32) as u64,
        Ursqrte => |_, a, _| arm_fp::unsigned_rsqrt_estimate(a as u32) as u64,
        // Compares against +0.0 (FCMLE/FCMLT compare zero with the element).
        Fcmeq => |f, a, st| mask(f, arm_fp::compare_eq(f, a, 0, st)),
        Fcmge => |f, a, st| mask(f, arm_fp::compare_ge(f, a, 0, st)),
        Fcmgt => |f, a, st| mask(f, arm_fp::compare_gt(f, a, 0, st)),
        Fcmle => |f, a, st| mask(f, arm_fp::compare_ge(f, 0, a, st)),
        Fcmlt => |f, a, st| mask(f, arm_fp::compare_gt(f, 0, a, st)),
        _ => return None,
    })
}

/// Reads `n` lanes of `1 << size` bytes of Vr.
fn read(regs: &FpRegs, r: u8, size: u8, n: usize) -> Lanes {
    let mut l = [0; 16];
    for (i, x) in l.iter_mut().enumerate().take(n) {
        *x = regs.lane(r, size, i);
    }
    l
}

/// Packs lanes of `1 << size` bytes into a 128-bit value.
fn pack(size: u8, vals: &[u64]) -> u128 {
    let bits = 8u32 << size;
    let m = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    vals.iter()
        .enumerate()
        .filter(|&(i, _)| (i as u32) * bits < 128)
        .fold(0u128, |acc, (i, &v)| {
            acc | ((v & m) as u128) << (i as u32 * bits)
        })
}

/// Where a result goes: a scalar (rest of the register zeroed) or a vector of
/// 64 (`false`) or 128 (`true`) bits.
#[derive(Clone, Copy)]
enum Dst {
    Scalar,
    Vec(bool),
}

impl Dst {
    fn lanes(self, size: u8) -> usize {
        match self {
            Dst::Scalar => 1,
            Dst::Vec(q) => (if q { 16 } else { 8 }) >> size,
        }
    }
}

fn write(regs: &mut FpRegs, rd: u8, size: u8, dst: Dst, vals: &[u64]) {
    let v = pack(size, vals);
    match dst {
        Dst::Scalar => regs.set_scalar(rd, size, v),
        Dst::Vec(q) => regs.set_vec(rd, q, v),
    }
}

/// The Arm Reduce(): the reduction of the two halves, recursively (the pairing
/// order decides which NaN propagates).
fn reduce(f: Fmt, op: Bin, v: &[u64], st: &mut FpStatus) -> u64 {
    if v.len() <= 1 {
        return v.first().copied().unwrap_or(0);
    }
    let (lo, hi) = v.split_at(v.len() / 2);
    let l = reduce(f, op, lo, st);
    let h = reduce(f, op, hi, st);
    op(f, l, h, st)
}

/// Whether `insn` is an FP SIMD instruction shape, operation and element size this
/// module implements.
fn valid(insn: &Insn) -> bool {
    use SimdOp::*;
    // A vector FP arrangement: H, S or D lanes, and no 1D.
    let vec_ok = |size: u8, q: bool| matches!(size, 1 | 2) || (size == 3 && q);
    match *insn {
        Insn::SimdThreeSame { op, arr, .. } => {
            vec_ok(arr.size, arr.q)
                && (binary(op).is_some() || pairwise(op).is_some() || matches!(op, Fmla | Fmls))
        }
        Insn::SimdScalarThreeSame { op, size, .. } => {
            fmt_of(size).is_some()
                && matches!(
                    op,
                    Fmulx | Fcmeq | Fcmge | Fcmgt | Facge | Facgt | Fabd | Frecps | Frsqrts
                )
        }
        Insn::SimdTwoReg { op, arr, .. } => match op {
            Fcvtn | Fcvtl => matches!(arr.size, 2 | 3),
            Fcvtxn => arr.size == 3,
            Urecpe | Ursqrte => arr.size == 2,
            Frecpx => false,
            _ => vec_ok(arr.size, arr.q) && unary(op).is_some(),
        },
        Insn::SimdScalarTwoReg { op, size, .. } => match op {
            Fcvtxn => size == 3,
            Urecpe | Ursqrte | Fabs | Fneg | Fsqrt => false,
            Frintn | Frintp | Frintm | Frintz | Frinta | Frintx | Frinti => false,
            _ => fmt_of(size).is_some() && unary(op).is_some(),
        },
        Insn::SimdAcross { op, arr, .. } => {
            matches!(op, Fmaxv | Fminv | Fmaxnmv | Fminnmv)
                && (arr.size == 1 || (arr.size == 2 && arr.q))
        }
        Insn::SimdScalarPairwise { op, size, .. } => {
            fmt_of(size).is_some()
                && pairwise(op).is_some()
                && !matches!(op, Fmaxv | Fminv | Fmaxnmv | Fminnmv)
        }
        Insn::SimdShiftImm { op, arr, shift, .. } => {
            matches!(op, Scvtf | Ucvtf | Fcvtzs | Fcvtzu)
                && vec_ok(arr.size, arr.q)
                && (1..=8u32 << arr.size).contains(&(shift as u32))
        }
        Insn::SimdScalarShiftImm {
            op, size, shift, ..
        } => {
            matches!(op, Scvtf | Ucvtf | Fcvtzs | Fcvtzu)
                && fmt_of(size).is_some()
                && (1..=8u32 << size).contains(&(shift as u32))
        }
        Insn::SimdByElement {
            op, arr, rm, index, ..
        } => {
            matches!(op, Fmla | Fmls | Fmul | Fmulx)
                && vec_ok(arr.size, arr.q)
                && elem_ok(arr.size, rm, index)
        }
        Insn::SimdScalarByElement {
            op,
            size,
            rm,
            index,
            ..
        } => {
            matches!(op, Fmla | Fmls | Fmul | Fmulx)
                && fmt_of(size).is_some()
                && elem_ok(size, rm, index)
        }
        _ => false,
    }
}

/// The by-element index fits the register (H forms only reach V0-V15).
fn elem_ok(size: u8, rm: u8, index: u8) -> bool {
    (index as usize) < (16usize >> size) && rm < 32 && (size != 1 || rm < 16)
}

pub(crate) fn supported(insn: &Insn) -> bool {
    valid(insn)
}

pub(crate) fn exec(regs: &mut FpRegs, insn: &Insn, _gpr: u64) -> u64 {
    if !valid(insn) {
        return 0;
    }
    let mut st = regs.status();
    run(regs, insn, &mut st);
    regs.merge_status(&st);
    0
}

fn run(regs: &mut FpRegs, insn: &Insn, st: &mut FpStatus) {
    use SimdOp::*;
    match *insn {
        Insn::SimdThreeSame {
            op,
            arr,
            rd,
            rn,
            rm,
        } => three_same(regs, st, op, arr.size, Dst::Vec(arr.q), rd, rn, rm),
        Insn::SimdScalarThreeSame {
            op,
            size,
            rd,
            rn,
            rm,
        } => three_same(regs, st, op, size, Dst::Scalar, rd, rn, rm),
        Insn::SimdTwoReg { op, arr, rd, rn } => match op {
            Fcvtn | Fcvtxn => narrow(regs, st, op, arr.size, arr.q, rd, rn),
            Fcvtl => lengthen(regs, st, arr.size, arr.q, rd, rn),
            _ => two_reg(regs, st, op, arr.size, Dst::Vec(arr.q), rd, rn),
        },
        Insn::SimdScalarTwoReg { op, size, rd, rn } => match op {
            Fcvtxn => {
                let a = regs.lane(rn, 3, 0);
                let r = arm_fp::convert_with(Fmt::D, Fmt::S, a, Rounding::Odd, st);
                regs.set_scalar(rd, 2, r as u128);
            }
            _ => two_reg(regs, st, op, size, Dst::Scalar, rd, rn),
        },
        Insn::SimdAcross { op, arr, rd, rn } => {
            let (Some(f), Some(func)) = (fmt_of(arr.size), pairwise(op)) else {
                return;
            };
            let n = arr.lanes() as usize;
            let v = read(regs, rn, arr.size, n);
            let r = reduce(f, func, &v[..n.min(16)], st);
            regs.set_scalar(rd, arr.size, r as u128);
        }
        Insn::SimdScalarPairwise { op, size, rd, rn } => {
            let (Some(f), Some(func)) = (fmt_of(size), pairwise(op)) else {
                return;
            };
            let (a, b) = (regs.lane(rn, size, 0), regs.lane(rn, size, 1));
            let r = func(f, a, b, st);
            regs.set_scalar(rd, size, r as u128);
        }
        Insn::SimdShiftImm {
            op,
            arr,
            rd,
            rn,
            shift,
        } => fixed(regs, st, op, arr.size, Dst::Vec(arr.q), rd, rn, shift),
        Insn::SimdScalarShiftImm {
            op,
            size,
            rd,
            rn,
            shift,
        } => fixed(regs, st, op, size, Dst::Scalar, rd, rn, shift),
        Insn::SimdByElement {
            op,
            arr,
            rd,
            rn,
            rm,
            index,
        } => by_elem(regs, st, op, arr.size, Dst::Vec(arr.q), rd, rn, rm, index),
        Insn::SimdScalarByElement {
            op,
            size,
            rd,
            rn,
            rm,
            index,
        } => by_elem(regs, st, op, size, Dst::Scalar, rd, rn, rm, index),
        _ => {}
    }
}

/// Three-same (vector and scalar): element-wise, fused multiply-accumulate, or
/// pairwise over the concatenation rm:rn.
#[allow(clippy::too_many_arguments)]
fn three_same(
    regs: &mut FpRegs,
    st: &mut FpStatus,
    op: SimdOp,
    size: u8,
    dst: Dst,
    rd: u8,
    rn: u8,
    rm: u8,
) {
    let Some(f) = fmt_of(size) else { return };
    let n = dst.lanes(size);
    let a = read(regs, rn, size, n);
    let b = read(regs, rm, size, n);
    let mut r: Lanes = [0; 16];
    if let Some(func) = binary(op) {
        for i in 0..n {
            r[i] = func(f, a[i], b[i], st);
        }
    } else if matches!(op, SimdOp::Fmla | SimdOp::Fmls) {
        let d = read(regs, rd, size, n);
        for i in 0..n {
            r[i] = mla(f, op, d[i], a[i], b[i], st);
        }
    } else if let Some(func) = pairwise(op) {
        // Result lane i = op(cat[2i], cat[2i+1]) where cat = rm:rn (rn in the low half).
        let mut cat: [u64; 32] = [0; 32];
        cat[..n].copy_from_slice(&a[..n]);
        cat[n..2 * n].copy_from_slice(&b[..n]);
        for i in 0..n {
            r[i] = func(f, cat[2 * i], cat[2 * i + 1], st);
        }
    } else {
        return;
    }
    write(regs, rd, size, dst, &r[..n]);
}

/// FMLA (`d + n * m`) / FMLS (`d + (-n) * m`), fused.
pub(crate) fn mla(f: Fmt, op: SimdOp, d: u64, n: u64, m: u64, st: &mut FpStatus) -> u64 {
    let n = if op == SimdOp::Fmls {
        arm_fp::neg(f, n)
    } else {
        n
    };
    arm_fp::muladd(f, d, n, m, st)
}

fn two_reg(regs: &mut FpRegs, st: &mut FpStatus, op: SimdOp, size: u8, dst: Dst, rd: u8, rn: u8) {
    let (Some(f), Some(func)) = (fmt_of(size), unary(op)) else {
        return;
    };
    let n = dst.lanes(size);
    let a = read(regs, rn, size, n);
    let mut r: Lanes = [0; 16];
    for i in 0..n {
        r[i] = func(f, a[i], st);
    }
    write(regs, rd, size, dst, &r[..n]);
}

/// FCVTN/FCVTXN(2): wide lanes of `size` to half-width lanes in the low half (upper
/// zeroed) or, for the `2` forms, the upper half of rd (lower kept).
fn narrow(regs: &mut FpRegs, st: &mut FpStatus, op: SimdOp, size: u8, upper: bool, rd: u8, rn: u8) {
    let (Some(from), Some(to)) = (fmt_of(size), fmt_of(size.wrapping_sub(1))) else {
        return;
    };
    let n = 8usize >> (size - 1);
    let a = read(regs, rn, size, n);
    let mut r: Lanes = [0; 16];
    for i in 0..n {
        r[i] = if op == SimdOp::Fcvtxn {
            arm_fp::convert_with(from, to, a[i], Rounding::Odd, st)
        } else {
            arm_fp::convert(from, to, a[i], st)
        };
    }
    let half = pack(size - 1, &r[..n]) & u64::MAX as u128;
    let low = regs.q(rd) & u64::MAX as u128;
    regs.set_q(rd, if upper { half << 64 | low } else { half });
}

/// FCVTL(2): the low (or upper, `2` form) half-width lanes to lanes of `size`.
fn lengthen(regs: &mut FpRegs, st: &mut FpStatus, size: u8, upper: bool, rd: u8, rn: u8) {
    let (Some(to), Some(from)) = (fmt_of(size), fmt_of(size.wrapping_sub(1))) else {
        return;
    };
    let n = 8usize >> (size - 1);
    let base = if upper { n } else { 0 };
    let mut r: Lanes = [0; 16];
    let src = read(regs, rn, size - 1, 2 * n);
    for i in 0..n {
        r[i] = arm_fp::convert(from, to, src[base + i], st);
    }
    write(regs, rd, size, Dst::Vec(true), &r[..n]);
}

/// Fixed-point conversions by immediate (SCVTF/UCVTF/FCVTZS/FCVTZU #fbits).
#[allow(clippy::too_many_arguments)]
fn fixed(
    regs: &mut FpRegs,
    st: &mut FpStatus,
    op: SimdOp,
    size: u8,
    dst: Dst,
    rd: u8,
    rn: u8,
    fbits: u8,
) {
    let Some(f) = fmt_of(size) else { return };
    let n = dst.lanes(size);
    let a = read(regs, rn, size, n);
    let mut r: Lanes = [0; 16];
    for i in 0..n {
        r[i] = fixed_lane(f, op, a[i], fbits as u32, st);
    }
    write(regs, rd, size, dst, &r[..n]);
}

/// One lane of SCVTF/UCVTF/FCVTZS/FCVTZU (FCVTZU for any other `op`) with `fbits`.
pub(crate) fn fixed_lane(f: Fmt, op: SimdOp, a: u64, fbits: u32, st: &mut FpStatus) -> u64 {
    let w = f.width();
    match op {
        SimdOp::Scvtf => arm_fp::from_fixed(f, a, fbits, true, w, st),
        SimdOp::Ucvtf => arm_fp::from_fixed(f, a, fbits, false, w, st),
        SimdOp::Fcvtzs => arm_fp::to_fixed(f, a, fbits, false, w, Rounding::Zero, st),
        _ => arm_fp::to_fixed(f, a, fbits, true, w, Rounding::Zero, st),
    }
}

/// FMLA/FMLS/FMUL/FMULX by element (vector and scalar).
#[allow(clippy::too_many_arguments)]
fn by_elem(
    regs: &mut FpRegs,
    st: &mut FpStatus,
    op: SimdOp,
    size: u8,
    dst: Dst,
    rd: u8,
    rn: u8,
    rm: u8,
    index: u8,
) {
    let Some(f) = fmt_of(size) else { return };
    let n = dst.lanes(size);
    let a = read(regs, rn, size, n);
    let d = read(regs, rd, size, n);
    let m = regs.lane(rm, size, index as usize);
    let mut r: Lanes = [0; 16];
    for i in 0..n {
        r[i] = match op {
            SimdOp::Fmul => arm_fp::mul(f, a[i], m, st),
            SimdOp::Fmulx => arm_fp::mulx(f, a[i], m, st),
            _ => mla(f, op, d[i], a[i], m, st),
        };
    }
    write(regs, rd, size, dst, &r[..n]);
}

#[cfg(test)]
mod tests {

    use crate::tests::{check, Case};

    #[test]
    fn matches_qemu() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
    // fadd v0.4s, v1.4s, v2.4s
    (0x4e22d420, 0x4880000, 0x0, [0x88f474ffb8e8ab15_d9aa792e1af470ea, 0x41fa7be49c0aa21a_c0714b40bf5a101f, 0xff9e5f90ffffbff6_80e200ec987d857d, 0x7ea6d4afc8800000_8140d9ec3f9ad4a0], 0xffde5f90ffffbff6_c0714b41bf5a1020, 0x0, 0x11),
    // fsub v0.2d, v1.2d, v2.2d
    (0x4ee2d420, 0x0, 0x0, [0x7fa2c0c7ffdc4e1c_fb805a5d7f800000, 0x78fd0016351ac3e1_0000000000000000, 0x1adf073ca7e24f12_0028256e71b67944, 0xbff0000000000000_415be54750000000], 0x78fd0016351ac3e1_8028256e71b67944, 0x0, 0x10),
    // fmul v0.8h, v1.8h, v2.8h
    (0x6e421c20, 0x0, 0x0, [0xdc303dc0ba00d5ba_f60090a28000cd4d, 0xfecb3c00bc000b09_11662752fc007e55, 0x41031bc75f55bcba_2da461eb41957943, 0xfc00271595787fa8_6c9dce8868d08000], 0xfecb1bc7df558c28_03ce4d6afc007e55, 0x0, 0x18),
    // fdiv v0.2s, v1.2s, v2.2s
    (0x2e22fc20, 0x0, 0x0, [0x80000000bfa0d800_539e2861bfbcf360, 0x7fb2573980000000_ff9cd942c0153370, 0x3f4000009e1e6b06_7fe888b6c438a400, 0x8027b30dd057be6b_c20bac1c8afb8280], 0x0000000000000000_ffdcd9423b4edd1a, 0x0, 0x11),
    // fmax v0.4s, v1.4s, v2.4s
    (0x4e22f420, 0x0, 0x0, [0x008f039189794e20_fe8df7513f800000, 0x4699f000ffe6a2e1_4c378fb0ffcd250a, 0x3fe8000058c3f538_8179de913f800000, 0x00f7b6c94da8c000_800000004cf76000], 0x4699f000ffe6a2e1_4c378fb0ffcd250a, 0x0, 0x0),
    // fminnm v0.2d, v1.2d, v2.2d
    (0x4ee2c420, 0x0, 0x0, [0x8000000000000000_c1b55fb874000000, 0x40cdc22800000000_bfd8000000000001, 0x8009b5c60677fa31_bfd8000000000000, 0x3fe8000000000001_7ff0000000000000], 0x8009b5c60677fa31_bfd8000000000001, 0x0, 0x0),
    // fmla v0.4s, v1.4s, v2.4s
    (0x4e22cc20, 0x1400000, 0x0, [0x9dfc3c006b767cde_f73e8d8c830f82ae, 0xfdcabd3089313e00_d600fc00ff657c79, 0x3fa60000bfd60180_cfb110297fc1b72f, 0x7f96f5ccbe00067b_7d3fb601fd3db145], 0xfe0376ad6b767cdf_f73e8d8b7fc1b72f, 0x0, 0x10),
    // fmls v0.2d, v1.2d, v2.2d
    (0x4ee2cc20, 0x1400000, 0x0, [0xbfe152dbbceac6ab_bff8000000000001, 0xbfa07700737024c9_3a01000062007d44, 0x80098a0f26eaa39d_fff0000000000000, 0xffde6555e4c71ccc_bff0000000000000], 0xbfe152dbbceac6ab_7ff0000000000000, 0x0, 0x80),
    // fmls v0.4h, v1.4h, v2.4h
    (0x0ec20c20, 0xc00000, 0x0, [0x0000be46dcceff25_b20000002e687c4e, 0x61337de3b6017c00_1cb5f79382b07ffe, 0xbd600000ff062fa4_89600000b200bc00, 0x3cf0fc00a23dba01_7eba03a3fcf67492], 0x0000000000000000_b1ff00002e677e4e, 0x0, 0x11),
    // fmulx v0.4s, v1.4s, v2.4s
    (0x4e22dc20, 0x0, 0x0, [0xc689b6f3673e3cf4_1af6666372fbfd8d, 0x0178ad5afeb68d4a_8000000054b64e8e, 0x7fa81e15fe9527a5_7ec2a5e8ff800000, 0xcad836407f9ea1d4_19655124bf400000], 0x7fe81e157f800000_80000000ff800000, 0x0, 0x15),
    // fabd v0.8h, v1.8h, v2.8h
    (0x6ec21420, 0x1400000, 0x0, [0x7cfcbd80f435bc00_bc00fbf48f773200, 0xdd607c0089e30000_fd3ad3c8311b3e01, 0xb601e3687c00f8cb_78417c00ce00fc00, 0xb1900677c0006e00_00009e0007130193], 0x5d5e7c007c0078cb_7f3a7c004e0b7c00, 0x0, 0x11),
    // frecps v0.2s, v1.2s, v2.2s
    (0x0e22fc20, 0xc00000, 0x0, [0x80c0f3427f97df49_bf800000ff800000, 0x00c3ac4ebf800000_be4000010136e59a, 0x824d0000771a7ef3_3c00cee3bc003e00, 0xcb3f3e20131c700d_c9be8564c178aeae], 0x0000000000000000_4000182640000000, 0x0, 0x10),
    // frsqrts v0.2d, v1.2d, v2.2d
    (0x4ee2fc20, 0xc00000, 0x0, [0x0018d74399cbc75d_802b00e871da0da9, 0x00000000ffffb5f7_1ca7946700000000, 0x0613fc00bf410000_06085dddb9543c00, 0x0000000000000000_802a7b348f3b0268], 0x3ff7ffffffffffff_3ff7ffffffffffff, 0x0, 0x10),
    // fcmeq v0.4s, v1.4s, v2.4s
    (0x4e22e420, 0x0, 0x0, [0xbec00000bf800000_3ec000004a398f00, 0xd7b3a91829108368_9d62a49500001812, 0x1c155891499d9f50_c16a00007f800000, 0x4b8075cb5332c718_3dd6be0181a48037], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // fcmge v0.8h, v1.8h, v2.8h
    (0x6e422420, 0x0, 0x0, [0x7dfbfa7a025d79f1_8000fd4400006d8d, 0x8000adb0d060874b_30394ea57eb176d2, 0xfc0032c267c63c00_be003ff0f752897f, 0x29e3e568fc007037_bc00bc008000bc00], 0xffff000000000000_ffffffff0000ffff, 0x0, 0x1),
    // facgt v0.2d, v1.2d, v2.2d
    (0x6ee2ec20, 0x2000000, 0x0, [0xc19bec3640000000_000e102fa1f608de, 0xbff0000000000000_8870aec586a32e0d, 0x3fe8000000000001_3fc8000000000000, 0x41f8477486433e00_41c07cdb5de3de14], 0xffffffffffffffff_0000000000000000, 0x0, 0x0),
    // faddp v0.4s, v1.4s, v2.4s
    (0x6e22d420, 0x0, 0x0, [0x0c1f97fb926d0335_259da641cac746e3, 0x00000000ff800000_bfb49d80bf400000, 0x8151df27ff99bbf8_ff800000216140b8, 0x7f800000c9c2bd72_7f800000802bb7b5], 0xffd9bbf8ff800000_ff800000c00a4ec0, 0x0, 0x1),
    // fmaxp v0.8h, v1.8h, v2.8h
    (0x6e423420, 0x0, 0x0, [0xffffffffffffff15_ffff0bdfcda42a60, 0xbe01800041d00b0e_2dc1feaf0af40fe1, 0xebf0c6b8e63d8000_7e2dfc09be017996, 0x78943c003c000a2e_76f33c0079f97d6c], 0xc6b88000fe097996_800041d0feaf0fe1, 0x0, 0x1),
    // fminnmp v0.2d, v1.2d, v2.2d
    (0x6ee2c420, 0x0, 0x0, [0xfffc020fe9b2cee1_fff47cb22486c003, 0x8000000000000000_432e9a4000000000, 0x00190734cf9bafe0_2353aea4462eff86, 0x7fd16319edf3891a_000df2f504f40264], 0x00190734cf9bafe0_8000000000000000, 0x0, 0x0),
    // fmulx s0, s1, s2
    (0x5e22dc20, 0x1400000, 0x0, [0xc8c000002c9c482d_3ff4e3c07f800000, 0xc08d800000000000_7ff75e129a1e7108, 0x4952b280008213bd_7f800000805ca102, 0x5780c6300386bc00_8000da0080b28627], 0x0000000000000000_0000000000000000, 0x0, 0x80),
    // fcmgt d0, d1, d2
    (0x7ee2e420, 0x0, 0x0, [0x8000000000000000_0000000000000000, 0x8000000000000000_0005f57ee30f1357, 0x3ffd04f5a0000000_435c2cd0ea810974, 0x9e4eb2562026d74e_bff0000000000000], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // facge h0, h1, h2
    (0x7e422c20, 0x0, 0x0, [0x3f40000180688a14_fe95439e42a80000, 0xfc0003fa7c000000_3a010dbb8352f76f, 0xb6fdc3406ba07542_7db98f3abe406e6f, 0xfc890382fd198073_b1881292ba0086a8], 0x0000000000000000_000000000000ffff, 0x0, 0x0),
    // fabd s0, s1, s2
    (0x7ea2d420, 0x4880000, 0x0, [0xffd8da5f5dc78f88_feb95c4c7e8b0d33, 0x20061e1f28c9924e_03e25d9ab36152ea, 0x076208977900ba00_49d84cc9029dbc00, 0x800cc7588129bdfc_f76afed4ffe98e4d], 0x0000000000000000_00000000336152eb, 0x0, 0x10),
    // frsqrts h0, h1, h2
    (0x5ec23c20, 0x0, 0x0, [0x7ff0000000000000_7ff0000000000000, 0x00003c007770b200_7f98b5507c00fc87, 0x000cd4217a54e283_0000000000000000, 0x7d6efc00e1f4bed4_fde17eb4b201bc00], 0x0000000000000000_0000000000007e87, 0x0, 0x1),
    // fabs v0.2d, v1.2d
    (0x4ee0f820, 0x0, 0x0, [0xc1027212a0000000_3ff0000000000000, 0x8000000000000000_c0966b7e7c700000, 0x5b4573787083e87f_a7e592bcfd49106f, 0xfff0000000000000_40be3fc000000000], 0x0000000000000000_40966b7e7c700000, 0x0, 0x0),
    // fneg v0.4h, v1.4h
    (0x2ef8f820, 0x2000000, 0x0, [0x3c0029c5be5f5500_fa566196ae36e2a0, 0x7dccf6e9bd7f744f_0000ff0480007eb0, 0xc1b80000ffed0115_7faf0cf6dbe37d74, 0x4b803d628a786967_010efcb41f793201], 0x0000000000000000_80007f040000feb0, 0x0, 0x0),
    // fsqrt v0.4s, v1.4s
    (0x6ea1f820, 0x0, 0x0, [0x58c634669e05362b_974d815b2765d464, 0x8ea4f9dc76928000_3e00313cafbdd980, 0xff7d607f251bf411_7fa5eacf7f961011, 0x42e4b04047b75000_ff60f3adf698e886], 0x7fc000005b08f01d_3eb527c07fc00000, 0x0, 0x11),
    // frintn v0.2d, v1.2d
    (0x4e618820, 0xc00000, 0x0, [0xc27ec1087841d020_8000000000000000, 0x000000007f800000_bf800000003d0da2, 0x46000089bc008000_897bbc80fc00d000, 0x000056ec0c3876ef_fffffff9cd46e849], 0x0000000000000000_8000000000000000, 0x0, 0x0),
    // frinta v0.8h, v1.8h
    (0x6e798820, 0xc00000, 0x0, [0x8000fb8e51405200_3c00fca03c58fedf, 0xbd00bb8cfc003e01_0110ba00ba000b98, 0xfd5002191824b200_e3e0bc803c00158d, 0x76b27e0a3c580000_3c0000003a017c00], 0xbc00bc00fc004000_0000bc00bc000000, 0x0, 0x0),
    // frintx v0.4s, v1.4s
    (0x6e219820, 0x4880000, 0x0, [0x000000008075ba24_4d7a30004af80000, 0x006dd3bd3f800000_809102627fa2a970, 0x6c85e42d8a197ab5_cdbbbae5114ff1f4, 0x7299dbb98cb5b530_7fcef847c8560000], 0x000000003f800000_bf8000007fe2a970, 0x0, 0x11),
    // fcvtns v0.4s, v1.4s
    (0x4e21a820, 0x0, 0x0, [0x00a9f18dbe400000_000000004abe14c0, 0x3fc00000bf400001_402b000000000000, 0xd22c10d3ea24376d_520e856c4a960443, 0xc8b30000ad8968d6_3fd000006155cdcb], 0x00000002ffffffff_0000000300000000, 0x0, 0x10),
    // fcvtau v0.8h, v1.8h
    (0x6e79c820, 0x4880000, 0x0, [0x7c7088400d9ebf00_7f5f81387d07c4e7, 0x60007e3e0a0efc51_029e7c00fc00e7d0, 0xe4e1b686c3c3a000_00deffbe008e1816, 0xfb206ed46c407da9_75a1bc00fbe8ff2d], 0x0200000000000000_0000ffff00000000, 0x0, 0x11),
    // fcvtzs d0, d1
    (0x5ee1b820, 0x0, 0x0, [0x005da0fffffffee7_000000940075f5d2, 0x0000000000000000_ffdb313d1e679b54, 0x40c97b1300000000_7ffa04126798ce91, 0xfc00d542fcb33c00_0bff5b70bc007c00], 0x0000000000000000_8000000000000000, 0x0, 0x1),
    // scvtf v0.2d, v1.2d
    (0x4e61d820, 0x1400000, 0x0, [0xfff92ccef95de496_8015206ea685f259, 0x7ff9ceb56d743b3a_4204d4ea00000000, 0x7ff4c59b5853eb64_bff0000000000000, 0x2bdf6a885122095d_27ae2cdc015146ef], 0x43dffe73ad5b5d0f_43d081353a800000, 0x0, 0x10),
    // ucvtf h0, h1
    (0x7e79d820, 0xc00000, 0x0, [0xe280ff058000fd34_4da42e9df8974e70, 0xfffffffc0acfdfd3_fffdd6b91ca9d6e6, 0x70c61c9f610d2f4b_4a62d3d4e7e52fbc, 0x7c00fedd7a6dbe01_852b7c21b201a3f0], 0x0000000000000000_0000000000007ab7, 0x0, 0x10),
    // frecpe v0.4s, v1.4s
    (0x4ea1d820, 0x0, 0x0, [0xfecfb45c300c9b67_7fa367dc00631b95, 0x7f8000004cce9b12_7f80000000131336, 0xd572507a0010c596_00000000bd696b66, 0xfff26cbf3fc00000_bf80000045400000], 0x00000000321e8000_000000007f800000, 0x0, 0x14),
    // frsqrte d0, d1
    (0x7ee1d820, 0xc00000, 0x0, [0x800337f1abd03807_3ec0000180989c14, 0xbf800000b85c916f_7fcc16d43fc00001, 0x0020be29676717c0_fffa6021221e6228, 0x411122b02ab444e8_0000000000000000], 0x0000000000000000_2001100000000000, 0x0, 0x0),
    // frecpx h0, h1
    (0x5ef9f820, 0x0, 0x0, [0x81068a1ac1882640_3ec000015117865c, 0x3ff47c4eaf7effa6_0ab40000fe3eb600, 0x0101d98bc11d6900_4272f7003f800000, 0x5bb00be3ce806e8c_7caeb2010182e000], 0x0000000000000000_000000000000c800, 0x0, 0x0),
    // urecpe v0.4s, v1.4s
    (0x4ea1c820, 0x4880000, 0x0, [0xa633ec9f7f800000_4c0118843e400001, 0xffebf1f7cac7c000_0061ffd6cb27f40e, 0x5a10378534e85fd0_fc2d4ee2f9b27b6f, 0x916408277b688daf_80003c00bc00fc00], 0x80000000a1800000_ffffffffa1000000, 0x0, 0x0),
    // ursqrte v0.2s, v1.2s
    (0x2ea1c820, 0x2000000, 0x0, [0x0000ff11e663fcd9_bf59b67dbbb71f77, 0xfed5275f80000000_bba8f03dffce94d8, 0x0070d1a244802000_5608812e3f800000, 0x32013c00fd448000_f30841750008bea4], 0x0000000000000000_9580000080000000, 0x0, 0x0),
    // fcmlt v0.4s, v1.4s, #0.0
    (0x4ea0e820, 0x0, 0x0, [0xc3908943814ed6a2_c22c96c3c833a38f, 0xbfd78980ff6609fe_7e8c4c253f800000, 0xbe400000502452f6_8000000080000000, 0x8000000000000000_407e31a8a3da8a80], 0xffffffffffffffff_0000000000000000, 0x0, 0x0),
    // fcmle d0, d1, #0.0
    (0x7ee0d820, 0x0, 0x0, [0xe17eaab1f6777f9b_fff0000000000000, 0xffe794e5e3ef969c_c21c000000000000, 0x7ff0000000000000_2e6c7b63fc03f814, 0xbff8000000000001_0000000000000000], 0x0000000000000000_ffffffffffffffff, 0x0, 0x0),
    // fcmeq v0.8h, v1.8h, #0.0
    (0x4ef8d820, 0x4880000, 0x0, [0xf8f6a0ededcd98ea_0000000000006daa, 0xb201bf80cbd67c00_bc00d8de4ed28000, 0x000078468214790d_686ebf000359f9b1, 0x9443df6068598174_f5ef9040502bef76], 0x0000000000000000_000000000000ffff, 0x0, 0x0),
    // fcvtn v0.4h, v1.4s
    (0x0e216820, 0x0, 0x0, [0x7b13417ec6f10000_3e400000b5e8bb14, 0x8000000000000000_8000000000000000, 0x809d71f400000000_ff8000007fc7cc6b, 0x7ef9e65500000000_8052bc0cffee0377], 0x0000000000000000_8000000080000000, 0x0, 0x0),
    // fcvtn2 v0.4s, v1.2d
    (0x4e616820, 0x0, 0x0, [0x3ff8000000000000_0000af7162959b0c, 0xc37f16e000000000_7fe1d4492fee26bc, 0xda12f1ac6994c2a8_186ec19be7bb3982, 0x42856020ea2d6000_c1e30ac000000000], 0xdbf8b7007f800000_0000af7162959b0c, 0x0, 0x14),
    // fcvtl v0.2d, v1.2s
    (0x0e617820, 0x0, 0x0, [0x3fd8000000000000_8a615fac003a63b9, 0x24f3650838ee8a6e_d2f4bbc33f996f22, 0x7fd836ad55e4e260_3ff0000000000000, 0xc01c600000000000_c378298e8d776980], 0xc25e977860000000_3ff32de440000000, 0x0, 0x0),
    // fcvtl2 v0.4s, v1.8h
    (0x4e217820, 0xc00000, 0x0, [0xc88e67c0fed1694b_fab141c2c27bc000, 0xdd08bc00ec8089f8_03013c00fc00bd52, 0x80215bf4017603e8_cb6d2000ffc6f482, 0x3e095375bf800000_0137a531bf800000], 0xc3a10000bf800000_c5900000b93f0000, 0x0, 0x0),
    // fcvtxn v0.2s, v1.2d
    (0x2e616820, 0x1400000, 0x0, [0x7ff0000000000000_41f0640000000000, 0x4066e8fc80000000_9d17f3a69353c058, 0xc29f5af660000000_5ee85362a1a63743, 0x404bdcb671640000_41a0bfca00000000], 0x0000000000000000_433747e480000000, 0x0, 0x8),
    // fcvtxn2 v0.4s, v1.2d
    (0x6e616820, 0x0, 0x0, [0xc2d3758249f07900_bff0000000000000, 0x7fdb2135b97d7086_bfe8000000000000, 0x801032354366a3c6_7ff0000000000000, 0xc538162b8a3cbcb3_c384000000000000], 0x7f7fffffbf400000_bff0000000000000, 0x0, 0x14),
    // fcvtxn s0, d1
    (0x7e616820, 0xc00000, 0x0, [0xfff0000000000000_ffe8a0ea289289b2, 0x84bf8000f00043c0_3601fd517cbe0314, 0x91078a11edd9dcb9_7fdd834eb5070201, 0xc0fd0fb000000000_4099e9c8dc86db00], 0x0000000000000000_0000000000000001, 0x0, 0x18),
    // fmaxv s0, v1.4s
    (0x6e30f820, 0x0, 0x0, [0xc5b4a4e77f800000_5075853a3f800000, 0xc2700000bf400001_7e81b18c7f800000, 0xfff4f2cd1f9ac8e1_4b97408370141b5d, 0xfef4f6f5ffc98a7f_2c22d631cd53d000], 0x0000000000000000_000000007f800000, 0x0, 0x0),
    // fminnmv h0, v1.8h
    (0x4eb0c820, 0x4880000, 0x0, [0x260107b7b2000000_003ee80e3c008000, 0x800000001203ce8a_be40000101767986, 0x0000000000000000_7ff0000000000000, 0x316eaed178513c00_bf003c007c518000], 0x0000000000000000_000000000000ce8a, 0x0, 0x0),
    // fmaxnmv h0, v1.4h
    (0x0e30c820, 0x2000000, 0x0, [0xbd0173f4f736ea00_7ca47c0080007000, 0x90213de4fc008000_d928fd2102f2e73a, 0x8000000000000000_00117a8a9baf3637, 0x77e17e32788b3200_000001c7d99dbe01], 0x0000000000000000_00000000000002f2, 0x0, 0x1),
    // faddp d0, v1.2d
    (0x7e70d820, 0x2000000, 0x0, [0x3ff0000000000000_7dc389783743f48f, 0xed4e0000ccdd0044_9cc50005b1baadfd, 0xddd417351b31ca31_7ff0b7b9336c8a49, 0x8023e8147ff296b4_a0fa63ad812beb9c], 0x0000000000000000_ed4e0000ccdd0044, 0x0, 0x10),
    // fminp h0, v1.2h
    (0x5eb0f820, 0x2000000, 0x0, [0xc10e56d7c3d84d7b_0420203615a1c321, 0xbd52f309037bc700_0fdafc797c0009ff, 0xfa207f0ffdb10000_bc00bc00ffb4c95c, 0xfca6e9d07530bc00_ba017b964b6ebfac], 0x0000000000000000_00000000000009ff, 0x0, 0x0),
    // scvtf v0.4s, v1.4s, #3
    (0x4f3de420, 0xc00000, 0x0, [0xaf13b2ae38e25cc7_2a46d66184e049be, 0x7feb775efe879408_3e4000017f955122, 0x9a75d46e3f800000_dcc8c5187673b7e2, 0x7f800000ffbe9d33_4836ad8e7fecdf08], 0x4d7fd6eeca3c35fc_4cf900004d7f2aa2, 0x0, 0x10),
    // fcvtzu v0.8h, v1.8h, #5
    (0x6f1bfc20, 0x0, 0x0, [0x73e3bc6569b1926b_b21d000587a68d7d, 0x65206ae105c1f400_560053cd40003e80, 0x6ee402d8b1e32933_3af850149a2ec3a1, 0x76909d280377e600_ff3dfc00ba003200], 0xa400ffff00000000_0c0007cd00400034, 0x0, 0x11),
    // fcvtzs d0, d1, #60
    (0x5f44fc20, 0x2000000, 0x0, [0xd6dd1e654a7499b1_bff0000000000000, 0x0022b2926e3b08d3_fff7989ad6613784, 0x43700fc000000000_5ec7decc39327683, 0xb6017980f7893e00_3a00be017efadfe5], 0x0000000000000000_0000000000000000, 0x0, 0x1),
    // ucvtf s0, s1, #32
    (0x7f20e420, 0x2000000, 0x0, [0xbec0000196ecb62b_ff800000ff395527, 0x378ad7d9a89b8c7c_6fb59843046e2464, 0xbfee0000b802d7bc_0133be5f3f800000, 0xddec0fbf7f9da39e_8000000001698284], 0x0000000000000000_000000003c8dc48c, 0x0, 0x10),
    // fcvtzs h0, h1, #3
    (0x5f1dfc20, 0x4880000, 0x0, [0xfff94a213046477a_00000000005ed9b9, 0x000a968b9d1ac712_1bd41bf3e0615ae1, 0xfc00a1ea78007dd5_7dce19ed004a0adf, 0x5000413e41c07970_3ff78a365fd47df7], 0x0000000000000000_00000000000006e1, 0x0, 0x0),
    // fmla v0.4s, v1.4s, v2.s[3]
    (0x4fa21820, 0x1400000, 0x0, [0xc7220000ff6986c8_c21a5000ffe76d65, 0x697d23c400023439_9f07f9e6b81b3d63, 0x00059f2fc8460a00_00000000ffe6ba0c, 0xbf80000000000000_ff80000048cb2d50], 0xc7220000ff6986c8_c21a5000ffe76d65, 0x0, 0x80),
    // fmls v0.2d, v1.2d, v2.d[1]
    (0x4fc25820, 0xc00000, 0x0, [0x8009b57510316917_0001daf25170d125, 0x7431b2ebdfb986c9_63f5bdf219b66784, 0xfff8dd8839683a09_bff0000000000000, 0xc2dd0760d3be2ea2_fe4e369d37770939], 0xfff8dd8839683a09_fff8dd8839683a09, 0x0, 0x0),
    // fmul v0.8h, v1.8h, v2.h[7]
    (0x4f329820, 0x0, 0x0, [0x07dac1e62611d681_b67f00210312cbfc, 0x3c00c400872d89aa_fc00782063db49c3, 0xbc0048003c0002fd_750af800003dfca0, 0xfff54b73e4f1a087_fff365fd1dbc90dd], 0xbc004400072d09aa_7c00f820e3dbc9c3, 0x0, 0x0),
    // fmulx v0.2s, v1.2s, v2.s[1]
    (0x2fa29020, 0x1400000, 0x0, [0x7f5e534dcc743cbc_3f40000100000000, 0x7fde824fc54f66a6_0000000000000000, 0x421a00008106bf81_7ea6dcf400194c62, 0x4b900000ff4f5166_82eb10531630ef57], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // fmla s0, s1, v2.s[2]
    (0x5f821820, 0x0, 0x0, [0xfff89709b28a4acf_bff0000000000000, 0xea3c18a13b150888_fff0000000000000, 0xff800000b0b276f0_ff8000004bbe6490, 0x331a9d73dcf957f3_c05b21048b000000], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // fmulx h0, h1, v2.h[5]
    (0x7f129820, 0xc00000, 0x0, [0x4854c5f07c003c00_6c80bc0055e0be01, 0x00ac7d85dfd21a5d_be00fef65c08823e, 0xc2f6cbd842800000_4658ddadc950104f, 0x801bd67df1000000_7f78fd0bbc00e800], 0x0000000000000000_0000000000008749, 0x0, 0x10),
    // fmul d0, d1, v2.d[0]
    (0x5fc29020, 0x2000000, 0x0, [0x7c008aab80410565_be016800fd2df515, 0xfff43da7a0f4462b_7ffa8e0dc8790e05, 0xa3643f6048398968_e626c8005711bc00, 0xc1c3fc0000000000_7ff3fb7cb0c249d9], 0x0000000000000000_7ff8000000000000, 0x0, 0x0),
            // fcvtzs h0, h1, #1 of -1.5: the architectural 16-bit result with bits
            // 127..16 zero (QEMU 7.2 sign-extends it to 32 bits: see the difftest's
            // `qemu_deviation`).
            (0x5f1ffc20, 0x0, 0x0, [0x0, 0xbe00, 0x0, 0x0], 0xfffd, 0x0, 0x0),
        ];
        check(CASES);
    }
}
