//! The common integer, bitwise and permute AdvSIMD instructions as IR vector ops (host SIMD
//! in the JIT), and the element moves to and from general registers as env loads/stores,
//! instead of the `arm_fpsimd` helper; anything not listed here stays on the helper.
//!
//! Every op reads its sources in full before writing the destination, so rd may alias rn
//! or rm; 64-bit forms (Q = 0, scalar D forms) zero the upper half of rd, as the
//! reference does. The saturating add/subtract set FPSR.QC from the op's flag output.

use super::Ctx;
use crate::state::off;
use arm_decode::{Arrangement, FpUnaryOp, Insn, ModImmOp, SimdOp};
use arm_fpsimd::regs::FPSR_QC;
use tcg_ir::types::MemOp;
use tcg_ir::{Cond, Opc, VecShape};

/// Env offset of V`r`.
fn v(r: u8) -> u32 {
    off::v((r & 31) as usize)
}

fn shape(arr: Arrangement) -> VecShape {
    VecShape::new(arr.size, arr.q)
}

/// The one-lane shape of the scalar D forms.
const D: VecShape = VecShape { vece: 3, q: false };

/// The compare condition of a register-register CMxx.
fn cmp3(op: SimdOp) -> Option<Cond> {
    Some(match op {
        SimdOp::Cmeq => Cond::Eq,
        SimdOp::Cmgt => Cond::Gt,
        SimdOp::Cmge => Cond::Ge,
        SimdOp::Cmhi => Cond::Gtu,
        SimdOp::Cmhs => Cond::Geu,
        SimdOp::Cmtst => Cond::TstNe,
        _ => return None,
    })
}

/// The condition of a CMxx against zero.
fn cmp0(op: SimdOp) -> Option<Cond> {
    Some(match op {
        SimdOp::Cmeq => Cond::Eq,
        SimdOp::Cmgt => Cond::Gt,
        SimdOp::Cmge => Cond::Ge,
        SimdOp::Cmle => Cond::Le,
        SimdOp::Cmlt => Cond::Lt,
        _ => return None,
    })
}

/// Lane-wise arithmetic of three-same (`lane_ok`: the element size is one the op has).
fn arith3(op: SimdOp, size: u8) -> Option<Opc> {
    let small = size < 3;
    Some(match op {
        SimdOp::Add => Opc::VAdd,
        SimdOp::Sub => Opc::VSub,
        SimdOp::Mul if small => Opc::VMul,
        SimdOp::Smax if small => Opc::VSmax,
        SimdOp::Smin if small => Opc::VSmin,
        SimdOp::Umax if small => Opc::VUmax,
        SimdOp::Umin if small => Opc::VUmin,
        _ => return None,
    })
}

/// UQADD/SQADD/UQSUB/SQSUB, and FPSR.QC |= saturated.
fn saturating(cx: &mut Ctx, opc: Opc, s: VecShape, rd: u8, rn: u8, rm: u8) {
    let sat = cx.tmp();
    cx.b.vec_sat(opc, s, sat, v(rd), v(rn), v(rm));
    let fpsr = cx.tmp();
    cx.b.ld_env(fpsr, off::FPSR, MemOp::UQ);
    let qc = cx.tmp();
    let bit = cx.c(FPSR_QC.trailing_zeros() as u64);
    cx.b.shl(qc, sat, bit);
    cx.b.or(fpsr, fpsr, qc);
    cx.b.st_env(fpsr, off::FPSR, MemOp::UQ);
}

fn sat_op(op: SimdOp) -> Option<Opc> {
    Some(match op {
        SimdOp::Uqadd => Opc::VUsadd,
        SimdOp::Sqadd => Opc::VSsadd,
        SimdOp::Uqsub => Opc::VUssub,
        SimdOp::Sqsub => Opc::VSssub,
        _ => return None,
    })
}

fn three_same(cx: &mut Ctx, op: SimdOp, s: VecShape, rd: u8, rn: u8, rm: u8) -> bool {
    let (d, n, m) = (v(rd), v(rn), v(rm));
    // The bitwise ops work on whole registers (their size field selects the op).
    let bytes = VecShape::new(0, s.q);
    let b = &mut cx.b;
    match op {
        SimdOp::And => b.vec_binary(Opc::VAnd, bytes, d, n, m),
        SimdOp::Bic => b.vec_binary(Opc::VAndc, bytes, d, n, m),
        // MOV Vd, Vn is ORR Vd, Vn, Vn.
        SimdOp::Orr if rn == rm => b.vec_unary(Opc::VMov, bytes, d, n),
        SimdOp::Orr => b.vec_binary(Opc::VOr, bytes, d, n, m),
        SimdOp::Orn => b.vec_binary(Opc::VOrc, bytes, d, n, m),
        SimdOp::Eor => b.vec_binary(Opc::VXor, bytes, d, n, m),
        SimdOp::Bsl => b.vbitsel(bytes, d, d, n, m),
        SimdOp::Bit => b.vbitsel(bytes, d, m, n, d),
        SimdOp::Bif => b.vbitsel(bytes, d, m, d, n),
        _ => {
            if let (SimdOp::Mla | SimdOp::Mls, true) = (op, s.vece < 3) {
                let o = if op == SimdOp::Mla {
                    Opc::VMla
                } else {
                    Opc::VMls
                };
                cx.b.vec_acc(o, s, d, n, m, d);
            } else if let Some(o) = sat_op(op) {
                saturating(cx, o, s, rd, rn, rm);
            } else if let Some(c) = cmp3(op) {
                cx.b.vcmp(s, c, d, n, m);
            } else if let Some(o) = arith3(op, s.vece) {
                cx.b.vec_binary(o, s, d, n, m);
            } else {
                return false;
            }
        }
    }
    true
}

fn two_reg(cx: &mut Ctx, op: SimdOp, s: VecShape, rd: u8, rn: u8) -> bool {
    let (d, n) = (v(rd), v(rn));
    match op {
        SimdOp::Not => cx.b.vec_unary(Opc::VNot, VecShape::new(0, s.q), d, n),
        SimdOp::Neg => cx.b.vec_unary(Opc::VNeg, s, d, n),
        SimdOp::Abs => cx.b.vec_unary(Opc::VAbs, s, d, n),
        _ => match cmp0(op) {
            Some(c) => {
                let z = cx.c(0);
                cx.b.vcmps(s, c, d, n, z);
            }
            None => return false,
        },
    }
    true
}

/// SHL/SSHR/USHR by immediate, the accumulating SSRA/USRA and the inserting SLI/SRI
/// (`shift` is the left or the right count, up to the lane size for the right shifts).
fn shift_imm(cx: &mut Ctx, op: SimdOp, s: VecShape, rd: u8, rn: u8, shift: u8) -> bool {
    let sh = shift as u32;
    let plain = match op {
        SimdOp::Shl => Some(Opc::VShli),
        SimdOp::Sshr => Some(Opc::VSari),
        SimdOp::Ushr => Some(Opc::VShri),
        _ => None,
    };
    if let Some(opc) = plain {
        cx.b.vec_shift(opc, s, v(rd), v(rn), sh);
        return true;
    }
    // The shifted source goes to a scratch vector first: rd may alias rn.
    let t = off::vtmp(0);
    let lane = u64::MAX >> (64 - (8u32 << s.vece));
    match op {
        SimdOp::Ssra | SimdOp::Usra => {
            let opc = if op == SimdOp::Ssra {
                Opc::VSari
            } else {
                Opc::VShri
            };
            cx.b.vec_shift(opc, s, t, v(rn), sh);
            cx.b.vec_binary(Opc::VAdd, s, v(rd), v(rd), t);
        }
        SimdOp::Sli | SimdOp::Sri => {
            // Bits of each destination lane the shifted source replaces: above the
            // count (SLI) or below the lane size minus it (SRI, none for a whole-lane
            // shift); the shifted-in bits of the source are zero.
            let (opc, ins) = if op == SimdOp::Sli {
                (Opc::VShli, (lane << sh.min(63)) & lane)
            } else {
                (Opc::VShri, lane.checked_shr(sh).unwrap_or(0))
            };
            cx.b.vec_shift(opc, s, t, v(rn), sh);
            let keep = cx.c(!ins & lane);
            cx.b.vec_scalar(Opc::VAnds, s, v(rd), v(rd), keep);
            cx.b.vec_binary(Opc::VOr, s, v(rd), v(rd), t);
        }
        _ => return false,
    }
    true
}

/// MOVI/MVNI/FMOV (vector, immediate) and ORR/BIC (vector, immediate): `imm` is the 64-bit
/// pattern repeated across the register.
fn mod_imm(cx: &mut Ctx, op: ModImmOp, q: bool, imm: u64, rd: u8) -> bool {
    let s = VecShape::new(3, q);
    let d = v(rd);
    match op {
        ModImmOp::Movi | ModImmOp::Fmov => {
            let c = cx.c(imm);
            cx.b.vdup(s, d, c);
        }
        ModImmOp::Mvni => {
            let c = cx.c(!imm);
            cx.b.vdup(s, d, c);
        }
        ModImmOp::Orr => {
            let c = cx.c(imm);
            cx.b.vec_scalar(Opc::VOrs, s, d, d, c);
        }
        ModImmOp::Bic => {
            let c = cx.c(!imm);
            cx.b.vec_scalar(Opc::VAnds, s, d, d, c);
        }
    }
    true
}

/// A byte permutation of V`a`:V`b` into V`rd`: result byte `p` is byte `src(p)` (0..32)
/// of the 32 source bytes.
fn permute(cx: &mut Ctx, q: bool, rd: u8, a: u8, b: u8, src: impl Fn(u32) -> u32) {
    let mask: [u8; 16] = std::array::from_fn(|p| (src(p as u32) & 31) as u8);
    cx.b.vshuf(VecShape::new(0, q), v(rd), v(a), v(b), mask);
}

/// ZIP/UZP/TRN: lane `i` from lane `j` of n (even `i`) or m, or of the lane-concatenation
/// n:m (UZP), as the reference picks them.
fn zip_uzp_trn(cx: &mut Ctx, op: SimdOp, arr: Arrangement, rd: u8, rn: u8, rm: u8) -> bool {
    let e = 1u32 << arr.size;
    let l = arr.lanes() as u32;
    let h = l / 2;
    // Byte `k` of lane `j` of n (side 0) or m (side 1).
    let byte = |side: u32, j: u32, k: u32| 16 * side + j * e + k;
    let cat = |j: u32, k: u32| {
        if j < l {
            byte(0, j, k)
        } else {
            byte(1, j - l, k)
        }
    };
    let f: fn(u32, u32) -> (bool, u32) = match op {
        SimdOp::Zip1 => |i, _| (false, i / 2),
        SimdOp::Zip2 => |i, h| (false, h + i / 2),
        SimdOp::Uzp1 => |i, _| (true, 2 * i),
        SimdOp::Uzp2 => |i, _| (true, 2 * i + 1),
        SimdOp::Trn1 => |i, _| (false, i & !1),
        SimdOp::Trn2 => |i, _| (false, i | 1),
        _ => return false,
    };
    permute(cx, arr.q, rd, rn, rm, |p| {
        let (i, k) = (p / e, p % e);
        match f(i, h) {
            (true, j) => cat(j, k),
            (false, j) => byte(i % 2, j, k),
        }
    });
    true
}

/// REV16/REV32/REV64: lanes reversed within each container of 2, 4 or 8 bytes.
fn rev(cx: &mut Ctx, op: SimdOp, arr: Arrangement, rd: u8, rn: u8) -> bool {
    let container: u32 = match op {
        SimdOp::Rev16 => 2,
        SimdOp::Rev32 => 4,
        _ => 8,
    };
    let e = 1u32 << arr.size;
    if container <= e {
        return false;
    }
    let flip = container / e - 1;
    permute(cx, arr.q, rd, rn, rn, |p| ((p / e) ^ flip) * e + p % e);
    true
}

/// XTN/XTN2: the low half of each double-width lane; XTN2 keeps the low half of rd.
fn xtn(cx: &mut Ctx, arr: Arrangement, rd: u8, rn: u8) {
    let e = 1u32 << arr.size;
    let narrow = |p: u32| (p / e) * 2 * e + p % e;
    if arr.q {
        permute(cx, true, rd, rn, rd, |p| {
            if p < 8 {
                16 + p
            } else {
                narrow(p - 8)
            }
        });
    } else {
        permute(cx, false, rd, rn, rn, narrow);
    }
}

/// ADDP/UMAXP/UMINP/SMAXP/SMINP (vector): lane `i` of the result is `op` of lanes `2i`
/// and `2i + 1` of the lane-concatenation n:m. The even and odd lanes are gathered into the
/// scratch vectors first (Vd may alias Vn or Vm), then combined lane-wise.
fn pairwise(cx: &mut Ctx, op: SimdOp, arr: Arrangement, rd: u8, rn: u8, rm: u8) -> bool {
    let opc = match op {
        SimdOp::Addp => Opc::VAdd,
        SimdOp::Umaxp if arr.size < 3 => Opc::VUmax,
        SimdOp::Uminp if arr.size < 3 => Opc::VUmin,
        SimdOp::Smaxp if arr.size < 3 => Opc::VSmax,
        SimdOp::Sminp if arr.size < 3 => Opc::VSmin,
        _ => return false,
    };
    let e = 1u32 << arr.size;
    let l = arr.lanes() as u32;
    // Byte `k` of lane `j` of n:m, as a vshuf index into n (0..16) and m (16..32).
    let cat = |j: u32, k: u32| {
        if j < l {
            j * e + k
        } else {
            16 + (j - l) * e + k
        }
    };
    let bytes = VecShape::new(0, arr.q);
    for (t, odd) in [(0, 0), (1, 1)] {
        let mask: [u8; 16] = std::array::from_fn(|p| {
            let (i, k) = (p as u32 / e, p as u32 % e);
            (cat(2 * i + odd, k) & 31) as u8
        });
        cx.b.vshuf(bytes, off::vtmp(t), v(rn), v(rm), mask);
    }
    cx.b.vec_binary(opc, shape(arr), v(rd), off::vtmp(0), off::vtmp(1));
    true
}

/// SSHLL/USHLL (SXTL/UXTL) and SHLL: each narrow lane of the low or (`2` forms) high half
/// of Vn, extended and shifted left by `sh` (< the narrow lane bits, or equal for SHLL).
/// The lanes are first moved to the top of the double-width lanes (zero below), then
/// shifted right by `bits - sh` (arithmetic for the signed form) when `sh < bits`.
fn widen(cx: &mut Ctx, arr: Arrangement, rd: u8, rn: u8, sh: u32, signed: bool) {
    let e = 1u32 << arr.size;
    let half = if arr.q { 8 } else { 0 };
    permute_z(cx, rd, rn, |p| {
        let (i, k) = (p / (2 * e), p % (2 * e));
        (k >= e).then(|| half + i * e + k - e)
    });
    let bits = 8 * e;
    if sh < bits {
        let opc = if signed { Opc::VSari } else { Opc::VShri };
        let wide = VecShape::new(arr.size + 1, true);
        cx.b.vec_shift(opc, wide, v(rd), v(rd), bits - sh);
    }
}

/// A 16-byte permutation of V`a` into V`rd` where `src(p)` is `None` for zero bytes.
fn permute_z(cx: &mut Ctx, rd: u8, a: u8, src: impl Fn(u32) -> Option<u32>) {
    let mask: [u8; 16] = std::array::from_fn(|p| src(p as u32).map_or(0xff, |k| (k & 15) as u8));
    cx.b.vshuf(VecShape::new(0, true), v(rd), v(a), v(a), mask);
}

/// Emits `insn` as vector ops when it is one of the common integer/bitwise instructions
/// (the caller has checked `arm_fpsimd::supported`); false leaves it to the helper.
pub(super) fn emit(cx: &mut Ctx, insn: &Insn) -> bool {
    match *insn {
        Insn::SimdThreeSame {
            op: op @ (SimdOp::Addp | SimdOp::Umaxp | SimdOp::Uminp | SimdOp::Smaxp | SimdOp::Sminp),
            arr,
            rd,
            rn,
            rm,
        } if arr.size < 3 || arr.q => pairwise(cx, op, arr, rd, rn, rm),
        Insn::SimdThreeSame {
            op,
            arr,
            rd,
            rn,
            rm,
        } if arr.size < 3 || arr.q => three_same(cx, op, shape(arr), rd, rn, rm),
        Insn::SimdScalarThreeSame {
            op,
            size: 3,
            rd,
            rn,
            rm,
        } if cmp3(op).is_some()
            || sat_op(op).is_some()
            || matches!(op, SimdOp::Add | SimdOp::Sub) =>
        {
            three_same(cx, op, D, rd, rn, rm)
        }
        Insn::SimdTwoReg {
            op: op @ (SimdOp::Rev16 | SimdOp::Rev32 | SimdOp::Rev64),
            arr,
            rd,
            rn,
        } if arr.size < 3 => rev(cx, op, arr, rd, rn),
        Insn::SimdTwoReg {
            op: SimdOp::Shll,
            arr,
            rd,
            rn,
        } if arr.size < 3 => {
            widen(cx, arr, rd, rn, 8 << arr.size, false);
            true
        }
        Insn::SimdShiftImm {
            op: op @ (SimdOp::Sshll | SimdOp::Ushll),
            arr,
            rd,
            rn,
            shift,
        } if arr.size < 3 && (shift as u32) < 8 << arr.size => {
            widen(cx, arr, rd, rn, shift as u32, op == SimdOp::Sshll);
            true
        }
        Insn::SimdTwoReg {
            op: SimdOp::Xtn,
            arr,
            rd,
            rn,
        } if arr.size < 3 => {
            xtn(cx, arr, rd, rn);
            true
        }
        // SHRN (the lower-half form; glibc's NEON string functions narrow their compare
        // masks with `shrn v.8b, v.8h, #4`): the wide lanes shifted right in place in Vd,
        // then narrowed like XTN. SHRN2 keeps Vd's low half, so it stays on the helper.
        Insn::SimdShiftImm {
            op: SimdOp::Shrn,
            arr,
            rd,
            rn,
            shift,
        } if arr.size < 3 && !arr.q && (shift as u32) <= 8 << arr.size => {
            let wide = VecShape::new(arr.size + 1, true);
            cx.b.vec_shift(Opc::VShri, wide, v(rd), v(rn), shift as u32);
            xtn(cx, arr, rd, rd);
            true
        }
        Insn::SimdTwoReg { op, arr, rd, rn } if arr.size < 3 || arr.q => {
            two_reg(cx, op, shape(arr), rd, rn)
        }
        Insn::SimdPermute {
            op,
            arr,
            rd,
            rn,
            rm,
        } if arr.size < 3 || arr.q => zip_uzp_trn(cx, op, arr, rd, rn, rm),
        Insn::SimdExt {
            q,
            rd,
            rn,
            rm,
            index,
        } => {
            let nb = if q { 16 } else { 8 };
            permute(cx, q, rd, rn, rm, |i| {
                let j = i + (index as u32 & 15);
                if j < nb {
                    j
                } else {
                    16 + j - nb
                }
            });
            true
        }
        Insn::SimdInsElement {
            size,
            rd,
            index,
            rn,
            src_index,
        } if size <= 3 => {
            let e = 1u32 << size;
            let (dst, src) = (index as u32, src_index as u32);
            permute(cx, true, rd, rd, rn, |p| {
                if p / e == dst {
                    16 + (src * e + p % e)
                } else {
                    p
                }
            });
            true
        }
        Insn::SimdInsGeneral {
            size,
            rd,
            index,
            rn,
        } if size <= 3 => {
            let x = cx.rx(rn);
            let byte = ((index as u32) << size) & 15;
            cx.b.st_env(x, v(rd) + byte, MemOp::size(size));
            true
        }
        Insn::SimdMovToGeneral {
            signed,
            is64,
            size,
            rd,
            rn,
            index,
        } if size <= 3 => {
            let byte = ((index as u32) << size) & 15;
            let m = if signed {
                MemOp::size(size).with_sign()
            } else {
                MemOp::size(size)
            };
            let x = cx.tmp();
            cx.b.ld_env(x, v(rn) + byte, m);
            cx.wr(rd, x, is64);
            true
        }
        Insn::FpMovGeneral {
            to_fp,
            is64,
            size,
            top,
            vreg,
            gpr,
        } if matches!((size, top), (1..=3, false) | (3, true)) => {
            let lane = v(vreg) + if top { 8 } else { 0 };
            if to_fp {
                let x = cx.rx(gpr);
                if top {
                    // FMOV Vd.D[1], Xn keeps the low half.
                    cx.b.st_env(x, lane, MemOp::UQ);
                } else {
                    cx.b.st_env(x, lane, MemOp::size(size));
                    scalar_upper_zero(cx, vreg, size);
                }
            } else {
                let x = cx.tmp();
                cx.b.ld_env(x, lane, MemOp::size(size.min(if is64 { 3 } else { 2 })));
                cx.wr(gpr, x, true);
            }
            true
        }
        Insn::FpUnary {
            op: op @ (FpUnaryOp::Mov | FpUnaryOp::Abs | FpUnaryOp::Neg),
            ftype,
            rd,
            rn,
        } => {
            let size = ftype.log2_bytes();
            let x = cx.tmp();
            cx.b.ld_env(x, v(rn), MemOp::size(size));
            let sign = 1u64 << ((8u32 << size) - 1);
            match op {
                FpUnaryOp::Abs => {
                    let m = cx.c(sign - 1);
                    cx.b.and(x, x, m);
                }
                FpUnaryOp::Neg => {
                    let m = cx.c(sign);
                    cx.b.xor(x, x, m);
                }
                _ => {}
            }
            cx.b.st_env(x, v(rd), MemOp::size(size));
            scalar_upper_zero(cx, rd, size);
            true
        }
        Insn::FpMovImm { ftype, rd, imm8 } => {
            let size = ftype.log2_bytes();
            let x = cx.c(arm_fpsimd::fp_imm(ftype, imm8));
            cx.b.st_env(x, v(rd), MemOp::size(size));
            scalar_upper_zero(cx, rd, size);
            true
        }
        Insn::FpCondSelect {
            ftype,
            cond,
            rd,
            rn,
            rm,
        } => {
            let size = ftype.log2_bytes();
            let (a, b) = (cx.tmp(), cx.tmp());
            cx.b.ld_env(a, v(rn), MemOp::size(size));
            cx.b.ld_env(b, v(rm), MemOp::size(size));
            let t = cx.cond_test(cond);
            let x = cx.tmp();
            cx.b.movcond(t.cond, x, t.a, t.b, a, b);
            cx.b.st_env(x, v(rd), MemOp::size(size));
            scalar_upper_zero(cx, rd, size);
            true
        }
        Insn::SimdScalarTwoReg {
            op,
            size: 3,
            rd,
            rn,
        } if matches!(op, SimdOp::Neg | SimdOp::Abs) || cmp0(op).is_some() => {
            two_reg(cx, op, D, rd, rn)
        }
        Insn::SimdShiftImm {
            op,
            arr,
            rd,
            rn,
            shift,
        } if arr.size < 3 || arr.q => shift_imm(cx, op, shape(arr), rd, rn, shift),
        Insn::SimdScalarShiftImm {
            op,
            size: 3,
            rd,
            rn,
            shift,
        } => shift_imm(cx, op, D, rd, rn, shift),
        Insn::SimdModImm {
            op, arr, imm, rd, ..
        } => mod_imm(cx, op, arr.q, imm, rd),
        Insn::SimdTable {
            tbx: false,
            q,
            len: 1,
            rd,
            rn,
            rm,
        } => {
            let s = VecShape::new(0, q);
            cx.b.vec_binary(Opc::VTbl, s, v(rd), v(rn), v(rm));
            true
        }
        Insn::SimdDupGeneral { arr, rd, rn } if arr.size < 3 || arr.q => {
            let x = cx.rx(rn);
            cx.b.vdup(shape(arr), v(rd), x);
            true
        }
        Insn::SimdDupElement { arr, rd, rn, index } if arr.size < 3 || arr.q => {
            let e = 1u32 << arr.size;
            let first = (index as u32 * e) & 15;
            permute(cx, arr.q, rd, rn, rn, |p| first + p % e);
            true
        }
        _ => false,
    }
}

/// After a scalar write of `1 << size` bytes to the bottom of Vr: zero the rest of the
/// register, as every scalar FP write does.
fn scalar_upper_zero(cx: &mut Ctx, r: u8, size: u8) {
    let z = cx.c(0);
    let mut at = 1u32 << size;
    while at < 16 {
        let sz = if at < 8 { at.trailing_zeros() as u8 } else { 3 };
        cx.b.st_env(z, v(r) + at, MemOp::size(sz));
        at += 1 << sz;
    }
}

#[cfg(test)]
mod tests {
    //! Every covered instruction, from random words of its encoding groups, on random
    //! register values: the native IR on every back end must leave exactly the register
    //! file the reference (`arm_fpsimd::exec`) computes.
    use super::*;
    use crate::state::CpuEnv;
    use crate::translate::TbFlags;
    use arm_decode::{decode, RegKind};
    use arm_fpsimd::FpRegs;
    use softmmu::{MemCtx, PhysMap};
    use std::sync::Arc;
    use tcg_ir::{Backend, Func};

    /// (mask, value) of the AdvSIMD encoding groups the native path covers.
    const GROUPS: &[(u32, u32)] = &[
        (0x9f20_0400, 0x0e20_0400), // three same
        (0xdf20_0400, 0x5e20_0400), // scalar three same
        (0x9f3e_0c00, 0x0e20_0800), // two-register misc
        (0xdf3e_0c00, 0x5e20_0800), // scalar two-register misc
        (0x9f80_0400, 0x0f00_0400), // shift by immediate / modified immediate
        (0xdf80_0400, 0x5f00_0400), // scalar shift by immediate
        (0xbfe0_fc00, 0x0e00_0400), // DUP (element)
        (0xbfe0_fc00, 0x0e00_0c00), // DUP (general)
        (0xbf20_8c00, 0x0e00_0800), // ZIP/UZP/TRN
        (0xbfe0_8400, 0x2e00_0000), // EXT
        (0xffe0_8400, 0x6e00_0400), // INS (element)
        (0xffe0_fc00, 0x4e00_1c00), // INS (general)
        (0xbfe0_fc00, 0x0e00_3c00), // UMOV
        (0xbfe0_fc00, 0x0e00_2c00), // SMOV
        (0xbfe0_fc00, 0x0e00_0000), // TBL, one table register
    ];

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        /// Random lanes mixed with boundary values.
        fn lane_word(&mut self) -> u64 {
            const P: [u64; 6] = [
                0,
                u64::MAX,
                0x8000_0000_0000_0000,
                0x7fff_ffff_ffff_ffff,
                0x807f_ff00_0180_7f01,
                0x8000_7fff_ffff_0001,
            ];
            let r = self.next();
            match r % 4 {
                0 => P[(r >> 8) as usize % P.len()],
                1 => P[(r >> 8) as usize % P.len()] ^ (self.next() & 0x0101_0101_0101_0101),
                _ => self.next(),
            }
        }
    }

    fn native_func(insn: &Insn) -> Option<Func> {
        let mut cx = Ctx::new(TbFlags::at_el(1));
        if !emit(&mut cx, insn) {
            return None;
        }
        cx.b.exit_tb(0);
        let mut f = cx.b.finish();
        tcg_opt::optimize(&mut f);
        Some(f)
    }

    /// The scalar FP encoding groups with natively emitted members (FMOV general among
    /// the FP<->integer conversions, FMOV/FABS/FNEG among the one-source ops, FMOV
    /// immediate, FCSEL).
    const FP_GROUPS: &[(u32, u32)] = &[
        (0x5f20_fc00, 0x1e20_0000), // FP <-> integer (FMOV general, FCVT*, SCVTF, ...)
        (0xff20_7c00, 0x1e20_4000), // FP data-processing, one source
        (0xff20_1fe0, 0x1e20_1000), // FMOV (scalar, immediate)
        (0xff20_0c00, 0x1e20_0c00), // FCSEL
    ];

    /// Whether A64 condition `c` holds for NZCV `nzcv` (bits 31..28).
    fn holds(c: arm_decode::Cond, nzcv: u64) -> bool {
        use arm_decode::Cond::*;
        let (n, z, cf, v) = (
            nzcv >> 31 & 1 == 1,
            nzcv >> 30 & 1 == 1,
            nzcv >> 29 & 1 == 1,
            nzcv >> 28 & 1 == 1,
        );
        match c {
            Eq => z,
            Ne => !z,
            Cs => cf,
            Cc => !cf,
            Mi => n,
            Pl => !n,
            Vs => v,
            Vc => !v,
            Hi => cf && !z,
            Ls => !cf || z,
            Ge => n == v,
            Lt => n != v,
            Gt => !z && n == v,
            Le => z || n != v,
            Al | Nv => true,
        }
    }

    #[test]
    fn native_ops_match_the_reference() {
        let native = check_groups(GROUPS, 10000, 0x1234_5678_9abc_def1);
        // Most words of these groups are covered natively.
        assert!(native > 4000, "only {native} of 10000 words native");
    }

    #[test]
    fn native_fp_scalar_ops_match_the_reference() {
        let native = check_groups(FP_GROUPS, 4000, 0x0fed_cba9_8765_4321);
        // FMOV immediate and FCSEL are all native, about half of the other two groups
        // are not (conversions, FSQRT, FRINT*).
        assert!(native > 1800, "only {native} of 4000 words native");
    }

    /// Runs `count` supported random words of `groups` through the native path (where it
    /// emits) on the JIT and the interpreter and compares every register with
    /// `arm_fpsimd::exec`; returns how many were native.
    fn check_groups(groups: &[(u32, u32)], count: usize, seed: u64) -> usize {
        let phys = Arc::new(PhysMap::new());
        let ctx = Box::new(MemCtx {
            phys,
            walker: Box::new(softmmu::tlb::IdentityWalker),
        });
        let jit = backend_cranelift::CraneliftBackend::new().expect("host JIT");
        let quick =
            backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
                quick: true,
                ..Default::default()
            })
            .expect("quick JIT");
        let interp = backend_interp::Interp::new();
        let backends: [&dyn Backend; 3] = [&jit, &quick, &interp];
        let mut r = Rng(seed);
        let mut native = 0;
        let mut tried = 0;
        while tried < count {
            let (mask, val) = groups[tried % groups.len()];
            let word = val | (r.next() as u32 & !mask);
            let insn = decode(word);
            if !arm_fpsimd::supported(&insn) {
                continue;
            }
            tried += 1;
            let Some(func) = native_func(&insn) else {
                continue;
            };
            native += 1;
            assert!(
                func.ops.iter().all(|o| o.opc != Opc::Call),
                "{word:#010x}: helper call in native IR\n{func}"
            );
            for be in backends {
                let tb = be
                    .compile(&func)
                    .unwrap_or_else(|e| panic!("{word:#010x}: {e}\n{func}"));
                for _ in 0..4 {
                    let mut env = Box::new(CpuEnv::new(&*ctx));
                    for n in 0..32 {
                        env.fp.v[n] = [r.lane_word(), r.lane_word()];
                    }
                    for x in env.x.iter_mut() {
                        *x = r.lane_word();
                    }
                    env.nf = r.next();
                    env.zf = r.next() & 1;
                    env.cf = r.next() & 1;
                    env.vf = r.next();
                    env.fp.fpsr = 0;
                    let xreg = |reg: arm_decode::Reg, x: &[u64; 31]| match reg.kind() {
                        RegKind::Gpr(n) => x[n as usize],
                        _ => 0,
                    };
                    let gpr = match insn {
                        Insn::SimdDupGeneral { rn, .. }
                        | Insn::SimdInsGeneral { rn, .. }
                        | Insn::FpMovGeneral {
                            to_fp: true,
                            gpr: rn,
                            ..
                        } => xreg(rn, &env.x),
                        Insn::FpCondSelect { cond, .. } => holds(cond, env.nzcv()) as u64,
                        _ => 0,
                    };
                    let mut want: FpRegs = env.fp.clone();
                    let ret = arm_fpsimd::exec(&mut want, &insn, gpr);
                    let mut want_x = env.x;
                    if let Insn::SimdMovToGeneral { rd, .. }
                    | Insn::FpMovGeneral {
                        to_fp: false,
                        gpr: rd,
                        ..
                    } = insn
                    {
                        if let RegKind::Gpr(n) = rd.kind() {
                            want_x[n as usize] = ret;
                        }
                    }
                    // SAFETY: env is a live CpuEnv; the TB touches only its registers.
                    let exit = unsafe { tb.exec(&mut *env as *mut CpuEnv as *mut u8) };
                    assert_eq!(exit, 0);
                    assert_eq!(env.x, want_x, "{word:#010x} ({insn:?}): X registers");
                    assert!(
                        env.fp == want,
                        "{word:#010x} ({insn:?}) on {}: got {:x?}\nwant {:x?}\n{func}",
                        be.name(),
                        env.fp.v,
                        want.v
                    );
                }
            }
        }
        native
    }
}
