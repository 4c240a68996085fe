//! Constructors for the Advanced SIMD and crypto rows of the table. Operations
//! are looked up in the data tables of `simd_rows`.

use super::simd_rows::*;
use super::{zr, Fields, F};
use crate::insn::*;

/// How a row reads the size field.
#[derive(Clone, Copy)]
pub(super) enum OpKind {
    /// Element size = size.
    Int,
    /// FP: size<1> is part of the opcode, size<0> picks S (0) or D (1).
    Fp,
    /// FP half precision.
    Fp16,
    /// FP by element: size 00 = H, 10 = S, 11 = D.
    FpElem,
    /// Bitwise: size is part of the opcode, lanes are bytes.
    Logic,
}

/// One operation of an encoding group.
pub(super) struct OpRow {
    pub u: u8,
    pub opcode: u8,
    /// Bit `size << 1 | Q` set when that combination is allocated.
    pub allowed: u8,
    pub kind: OpKind,
    pub op: SimdOp,
}

/// The operation and element size (log2 bytes) for (U, opcode, size, Q).
fn find(rows: &[OpRow], u: u32, opcode: u32, size: u32, q: u32) -> Option<(SimdOp, u8)> {
    let bit = 1u8 << ((size & 3) << 1 | (q & 1));
    let r = rows
        .iter()
        .find(|r| r.u as u32 == u && r.opcode as u32 == opcode && r.allowed & bit != 0)?;
    let esize = match r.kind {
        OpKind::Int => size as u8,
        OpKind::Fp => 2 + (size & 1) as u8,
        OpKind::Fp16 => 1,
        OpKind::FpElem => match size {
            0 => 1,
            s => s as u8,
        },
        OpKind::Logic => 0,
    };
    Some((r.op, esize))
}

fn arr(size: u8, q: u32) -> Arrangement {
    Arrangement { size, q: q == 1 }
}

fn regs(f: &Fields<'_>) -> (u8, u8, u8) {
    (f.get(F::Rd) as u8, f.get(F::Rn) as u8, f.get(F::Rm) as u8)
}

/// Look up (U, opcode, size, Q) of the word in `rows`.
fn lookup(f: &Fields<'_>, rows: &[OpRow], scalar: bool) -> Option<(SimdOp, u8)> {
    let q = if scalar { 1 } else { f.get(F::Q) };
    find(rows, f.get(F::U), f.get(F::Opcode), f.get(F::Size), q)
}

pub(super) fn b_simd_three_same(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, THREE_SAME, false) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdThreeSame {
        op,
        arr: arr(size, f.get(F::Q)),
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_scalar_three_same(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, SCALAR_THREE_SAME, true) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdScalarThreeSame {
        op,
        size,
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_three_diff(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, THREE_DIFF, false) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdThreeDiff {
        op,
        arr: arr(size, f.get(F::Q)),
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_scalar_three_diff(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, SCALAR_THREE_DIFF, true) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdScalarThreeDiff {
        op,
        size,
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_two_reg(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, TWO_REG, false) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdTwoReg {
        op,
        arr: arr(size, f.get(F::Q)),
        rd,
        rn,
    }
}

pub(super) fn b_simd_scalar_two_reg(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, SCALAR_TWO_REG, true) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdScalarTwoReg { op, size, rd, rn }
}

pub(super) fn b_simd_across(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, ACROSS, false) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdAcross {
        op,
        arr: arr(size, f.get(F::Q)),
        rd,
        rn,
    }
}

pub(super) fn b_simd_scalar_pairwise(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = lookup(f, SCALAR_PAIRWISE, true) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdScalarPairwise { op, size, rd, rn }
}

/// Whether a shift-by-immediate operation shifts left (amount = immh:immb - esize).
fn shifts_left(op: SimdOp) -> bool {
    matches!(
        op,
        SimdOp::Shl
            | SimdOp::Sqshl
            | SimdOp::Uqshl
            | SimdOp::Sqshlu
            | SimdOp::Sli
            | SimdOp::Sshll
            | SimdOp::Ushll
    )
}

/// (operation, element size, shift) of a shift-by-immediate word.
fn shift_imm(f: &Fields<'_>, rows: &[OpRow], q: u32) -> Option<(SimdOp, u8, u8)> {
    let immh = f.get(F::Immh);
    if immh == 0 {
        return None;
    }
    let esize = 31 - immh.leading_zeros();
    let (op, size) = find(rows, f.get(F::U), f.get(F::Opcode), esize, q)?;
    let immhb = immh << 3 | f.get(F::Immb);
    let bits = 8u32 << esize;
    let shift = if shifts_left(op) {
        immhb - bits
    } else {
        2 * bits - immhb
    };
    Some((op, size, shift as u8))
}

pub(super) fn b_simd_shift_imm(f: &Fields<'_>, w: u32) -> Insn {
    let q = f.get(F::Q);
    let Some((op, size, shift)) = shift_imm(f, SHIFT_IMM, q) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdShiftImm {
        op,
        arr: arr(size, q),
        rd,
        rn,
        shift,
    }
}

pub(super) fn b_simd_scalar_shift_imm(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size, shift)) = shift_imm(f, SCALAR_SHIFT_IMM, 1) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdScalarShiftImm {
        op,
        size,
        rd,
        rn,
        shift,
    }
}

/// (operation, element size, rm, index) of a by-element word.
fn by_element(f: &Fields<'_>, rows: &[OpRow], q: u32) -> Option<(SimdOp, u8, u8, u8)> {
    let (op, size) = find(rows, f.get(F::U), f.get(F::Opcode), f.get(F::Size), q)?;
    let (h, l, m) = (f.get(F::H), f.get(F::L), f.get(F::M));
    let rm4 = f.get(F::Rm);
    let (rm, index) = match size {
        1 => (rm4, h << 2 | l << 1 | m),
        2 => (m << 4 | rm4, h << 1 | l),
        _ if l == 0 => (m << 4 | rm4, h),
        _ => return None,
    };
    Some((op, size, rm as u8, index as u8))
}

pub(super) fn b_simd_by_element(f: &Fields<'_>, w: u32) -> Insn {
    let q = f.get(F::Q);
    let Some((op, size, rm, index)) = by_element(f, BY_ELEMENT, q) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdByElement {
        op,
        arr: arr(size, q),
        rd,
        rn,
        rm,
        index,
    }
}

pub(super) fn b_simd_scalar_by_element(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size, rm, index)) = by_element(f, SCALAR_BY_ELEMENT, 1) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdScalarByElement {
        op,
        size,
        rd,
        rn,
        rm,
        index,
    }
}

pub(super) fn b_simd_permute(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, size)) = find(PERMUTE, 0, f.get(F::Opcode), f.get(F::Size), f.get(F::Q)) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdPermute {
        op,
        arr: arr(size, f.get(F::Q)),
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_ext(f: &Fields<'_>, w: u32) -> Insn {
    let q = f.get(F::Q) == 1;
    let index = f.get(F::Imm4);
    if !q && index >= 8 {
        return Insn::Unallocated(w);
    }
    let (rd, rn, rm) = regs(f);
    Insn::SimdExt {
        q,
        rd,
        rn,
        rm,
        index: index as u8,
    }
}

pub(super) fn b_simd_table(f: &Fields<'_>, _: u32) -> Insn {
    let (rd, rn, rm) = regs(f);
    Insn::SimdTable {
        tbx: f.get(F::Op) == 1,
        q: f.get(F::Q) == 1,
        len: f.get(F::Len) as u8 + 1,
        rd,
        rn,
        rm,
    }
}

/// Element size and index encoded in imm5 (`None` for the reserved x0000).
fn imm5_elem(imm5: u32) -> Option<(u8, u8)> {
    let size = (imm5 & 15).trailing_zeros();
    if size > 3 {
        return None;
    }
    Some((size as u8, (imm5 >> (size + 1)) as u8))
}

pub(super) fn b_simd_copy(f: &Fields<'_>, w: u32) -> Insn {
    let Some((size, index)) = imm5_elem(f.get(F::Imm5)) else {
        return Insn::Unallocated(w);
    };
    let q = f.get(F::Q);
    let (rd, rn) = (f.get(F::Rd), f.get(F::Rn));
    match (f.get(F::Op), f.get(F::Imm4), q) {
        (0, 0b0000, _) if size < 3 || q == 1 => Insn::SimdDupElement {
            arr: arr(size, q),
            rd: rd as u8,
            rn: rn as u8,
            index,
        },
        (0, 0b0001, _) if size < 3 || q == 1 => Insn::SimdDupGeneral {
            arr: arr(size, q),
            rd: rd as u8,
            rn: zr(rn),
        },
        (0, 0b0101, _) if size < 2 + q as u8 => Insn::SimdMovToGeneral {
            signed: true,
            is64: q == 1,
            size,
            rd: zr(rd),
            rn: rn as u8,
            index,
        },
        (0, 0b0111, 0) if size < 3 => Insn::SimdMovToGeneral {
            signed: false,
            is64: false,
            size,
            rd: zr(rd),
            rn: rn as u8,
            index,
        },
        (0, 0b0111, 1) if size == 3 => Insn::SimdMovToGeneral {
            signed: false,
            is64: true,
            size,
            rd: zr(rd),
            rn: rn as u8,
            index,
        },
        (0, 0b0011, 1) => Insn::SimdInsGeneral {
            size,
            rd: rd as u8,
            index,
            rn: zr(rn),
        },
        (1, imm4, 1) => Insn::SimdInsElement {
            size,
            rd: rd as u8,
            index,
            rn: rn as u8,
            src_index: (imm4 >> size) as u8,
        },
        _ => Insn::Unallocated(w),
    }
}

pub(super) fn b_simd_scalar_copy(f: &Fields<'_>, w: u32) -> Insn {
    let Some((size, index)) = imm5_elem(f.get(F::Imm5)) else {
        return Insn::Unallocated(w);
    };
    if f.get(F::Op) != 0 || f.get(F::Imm4) != 0 {
        return Insn::Unallocated(w);
    }
    Insn::SimdDupScalar {
        size,
        rd: f.get(F::Rd) as u8,
        rn: f.get(F::Rn) as u8,
        index,
    }
}

/// Replicate the low `bits` bits of `v` across 64 bits.
fn replicate(v: u64, bits: u32) -> u64 {
    let mut r = 0u64;
    let mut i = 0;
    while i < 64 {
        r |= v << i;
        i += bits;
    }
    r
}

pub(super) fn b_simd_mod_imm(f: &Fields<'_>, w: u32) -> Insn {
    let imm8 = (f.get(F::Abc) << 5 | f.get(F::Defgh)) as u8;
    let v = imm8 as u64;
    let q = f.get(F::Q);
    let op = f.get(F::Op);
    let cmode = f.get(F::Cmode);
    let (a, b, low6) = (v >> 7, (v >> 6) & 1, v & 0x3f);
    let logic = |set: ModImmOp, modify: ModImmOp| if cmode & 1 == 0 { set } else { modify };
    let (mop, size, imm, shift, msl) = match (f.get(F::O2), op, cmode) {
        (1, 0, 0b1111) => {
            let h = a << 15 | (b ^ 1) << 14 | (if b == 1 { 3 } else { 0 }) << 12 | low6 << 6;
            (ModImmOp::Fmov, 1, replicate(h, 16), 0, false)
        }
        (1, _, _) => return Insn::Unallocated(w),
        (_, _, c) if c & 0b1000 == 0 => {
            let sh = (c >> 1 & 3) * 8;
            let ops = if op == 0 {
                logic(ModImmOp::Movi, ModImmOp::Orr)
            } else {
                logic(ModImmOp::Mvni, ModImmOp::Bic)
            };
            (ops, 2, replicate(v << sh, 32), sh, false)
        }
        (_, _, c) if c & 0b1100 == 0b1000 => {
            let sh = (c >> 1 & 1) * 8;
            let ops = if op == 0 {
                logic(ModImmOp::Movi, ModImmOp::Orr)
            } else {
                logic(ModImmOp::Mvni, ModImmOp::Bic)
            };
            (ops, 1, replicate(v << sh, 16), sh, false)
        }
        (_, _, c) if c & 0b1110 == 0b1100 => {
            let sh = if c & 1 == 1 { 16 } else { 8 };
            let ops = if op == 0 {
                ModImmOp::Movi
            } else {
                ModImmOp::Mvni
            };
            (ops, 2, replicate(v << sh | ((1 << sh) - 1), 32), sh, true)
        }
        (_, 0, 0b1110) => (ModImmOp::Movi, 0, replicate(v, 8), 0, false),
        (_, _, 0b1110) => {
            let mut m = 0u64;
            for i in 0..8 {
                if v >> i & 1 == 1 {
                    m |= 0xff << (8 * i);
                }
            }
            (ModImmOp::Movi, 3, m, 0, false)
        }
        (_, 0, _) => {
            let s = a << 31 | (b ^ 1) << 30 | (if b == 1 { 0x1f } else { 0 }) << 25 | low6 << 19;
            (ModImmOp::Fmov, 2, replicate(s, 32), 0, false)
        }
        (_, _, _) if q == 1 => {
            let d = a << 63 | (b ^ 1) << 62 | (if b == 1 { 0xff } else { 0 }) << 54 | low6 << 48;
            (ModImmOp::Fmov, 3, d, 0, false)
        }
        _ => return Insn::Unallocated(w),
    };
    Insn::SimdModImm {
        op: mop,
        arr: arr(size, q),
        imm,
        imm8,
        shift: shift as u8,
        msl,
        rd: f.get(F::Rd) as u8,
    }
}

pub(super) fn b_crypto_aes(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, _)) = find(CRYPTO_AES, 0, f.get(F::Opcode), 0, 1) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::CryptoAes { op, rd, rn }
}

pub(super) fn b_crypto_sha3(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, _)) = find(CRYPTO_SHA3, 0, f.get(F::Opcode), 0, 1) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::CryptoSha3 { op, rd, rn, rm }
}

pub(super) fn b_crypto_sha2(f: &Fields<'_>, w: u32) -> Insn {
    let Some((op, _)) = find(CRYPTO_SHA2, 0, f.get(F::Opcode), 0, 1) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::CryptoSha2 { op, rd, rn }
}

// ---- Half-precision groups (FEAT_FP16): size is replaced by the `a` bit ----

fn lookup_fp16(f: &Fields<'_>, rows: &[OpRow], scalar: bool) -> Option<SimdOp> {
    let q = if scalar { 1 } else { f.get(F::Q) };
    find(rows, f.get(F::U), f.get(F::Opcode), f.get(F::A), q).map(|(op, _)| op)
}

pub(super) fn b_simd_three_same_fp16(f: &Fields<'_>, w: u32) -> Insn {
    let Some(op) = lookup_fp16(f, THREE_SAME_FP16, false) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdThreeSame {
        op,
        arr: arr(1, f.get(F::Q)),
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_scalar_three_same_fp16(f: &Fields<'_>, w: u32) -> Insn {
    let Some(op) = lookup_fp16(f, SCALAR_THREE_SAME_FP16, true) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, rm) = regs(f);
    Insn::SimdScalarThreeSame {
        op,
        size: 1,
        rd,
        rn,
        rm,
    }
}

pub(super) fn b_simd_two_reg_fp16(f: &Fields<'_>, w: u32) -> Insn {
    let Some(op) = lookup_fp16(f, TWO_REG_FP16, false) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdTwoReg {
        op,
        arr: arr(1, f.get(F::Q)),
        rd,
        rn,
    }
}

pub(super) fn b_simd_scalar_two_reg_fp16(f: &Fields<'_>, w: u32) -> Insn {
    let Some(op) = lookup_fp16(f, SCALAR_TWO_REG_FP16, true) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn, _) = regs(f);
    Insn::SimdScalarTwoReg {
        op,
        size: 1,
        rd,
        rn,
    }
}
