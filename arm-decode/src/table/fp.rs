//! Constructors for the floating-point and Advanced SIMD rows of the table.

use super::{sp, sx, zr, Fields, F};
use crate::insn::*;

// ---- SIMD&FP loads and stores ----

/// Access size (log2 bytes, 4 = Q) of a SIMD&FP single-register load/store from
/// size and opc<1>; `None` when reserved.
fn fp_ls_size(size: u32, opc: u32) -> Option<u8> {
    match (opc >> 1, size) {
        (0, s) => Some(s as u8),
        (_, 0) => Some(4),
        _ => None,
    }
}

pub(super) fn b_fp_ld_literal(f: &Fields<'_>, w: u32) -> Insn {
    let size = match f.get(F::Opc) {
        0 => 2,
        1 => 3,
        2 => 4,
        _ => return Insn::Unallocated(w),
    };
    Insn::FpLoadStore {
        load: true,
        size,
        rt: f.get(F::Rt) as u8,
        addr: AddrMode::Literal {
            offset: sx(f.get(F::Imm19), 19) << 2,
        },
        unscaled: false,
    }
}

pub(super) fn b_fp_ldst_pair(f: &Fields<'_>, w: u32) -> Insn {
    let size = match f.get(F::Opc) {
        0 => 2u8,
        1 => 3,
        2 => 4,
        _ => return Insn::Unallocated(w),
    };
    let idx = f.get(F::Idx);
    let rn = sp(f.get(F::Rn));
    let imm = sx(f.get(F::Imm7), 7) << size;
    let addr = match idx {
        1 => AddrMode::PostIndex { rn, imm },
        3 => AddrMode::PreIndex { rn, imm },
        _ => AddrMode::Offset { rn, imm },
    };
    Insn::FpLoadStorePair {
        load: f.get(F::L) == 1,
        size,
        nontemporal: idx == 0,
        rt: f.get(F::Rt) as u8,
        rt2: f.get(F::Rt2) as u8,
        addr,
    }
}

pub(super) fn b_fp_ldst_imm9(f: &Fields<'_>, w: u32) -> Insn {
    let opc = f.get(F::Opc);
    let Some(size) = fp_ls_size(f.get(F::Size), opc) else {
        return Insn::Unallocated(w);
    };
    let rn = sp(f.get(F::Rn));
    let imm = sx(f.get(F::Imm9), 9);
    let (addr, unscaled) = match f.get(F::Idx) {
        0 => (AddrMode::Offset { rn, imm }, true),
        1 => (AddrMode::PostIndex { rn, imm }, false),
        3 => (AddrMode::PreIndex { rn, imm }, false),
        _ => return Insn::Unallocated(w),
    };
    Insn::FpLoadStore {
        load: opc & 1 == 1,
        size,
        rt: f.get(F::Rt) as u8,
        addr,
        unscaled,
    }
}

pub(super) fn b_fp_ldst_regoff(f: &Fields<'_>, w: u32) -> Insn {
    let opc = f.get(F::Opc);
    let option = f.get(F::Option);
    let Some(size) = fp_ls_size(f.get(F::Size), opc) else {
        return Insn::Unallocated(w);
    };
    if option & 2 == 0 {
        return Insn::Unallocated(w);
    }
    let s = f.get(F::S) == 1;
    Insn::FpLoadStore {
        load: opc & 1 == 1,
        size,
        rt: f.get(F::Rt) as u8,
        addr: AddrMode::Reg {
            rn: sp(f.get(F::Rn)),
            rm: zr(f.get(F::Rm)),
            extend: Extend::from_bits(option),
            shift: if s { size } else { 0 },
            s,
        },
        unscaled: false,
    }
}

pub(super) fn b_fp_ldst_uimm(f: &Fields<'_>, w: u32) -> Insn {
    let opc = f.get(F::Opc);
    let Some(size) = fp_ls_size(f.get(F::Size), opc) else {
        return Insn::Unallocated(w);
    };
    Insn::FpLoadStore {
        load: opc & 1 == 1,
        size,
        rt: f.get(F::Rt) as u8,
        addr: AddrMode::Offset {
            rn: sp(f.get(F::Rn)),
            imm: (f.get(F::Imm12) as i64) << size,
        },
        unscaled: false,
    }
}

/// Writeback of a structure load/store: Rm = 31 means "by the transfer size".
fn simd_post(f: &Fields<'_>, post: bool, bytes: u32) -> SimdPost {
    if !post {
        SimdPost::None
    } else if f.get(F::Rm) == 31 {
        SimdPost::Imm(bytes as u8)
    } else {
        SimdPost::Reg(zr(f.get(F::Rm)))
    }
}

fn simd_ldst_multi(f: &Fields<'_>, w: u32, post: bool) -> Insn {
    let (selem, regs) = match f.get(F::Opcode) {
        0b0000 => (4u8, 4u8),
        0b0010 => (1, 4),
        0b0100 => (3, 3),
        0b0110 => (1, 3),
        0b0111 => (1, 1),
        0b1000 => (2, 2),
        0b1010 => (1, 2),
        _ => return Insn::Unallocated(w),
    };
    let arr = Arrangement {
        size: f.get(F::Size) as u8,
        q: f.get(F::Q) == 1,
    };
    if arr.size == 3 && !arr.q && selem > 1 {
        return Insn::Unallocated(w);
    }
    let bytes = regs as u32 * if arr.q { 16 } else { 8 };
    Insn::SimdLoadStoreMulti {
        load: f.get(F::L) == 1,
        selem,
        regs,
        arr,
        rt: f.get(F::Rt) as u8,
        rn: sp(f.get(F::Rn)),
        post: simd_post(f, post, bytes),
    }
}

pub(super) fn b_simd_ldst_multi(f: &Fields<'_>, w: u32) -> Insn {
    simd_ldst_multi(f, w, false)
}

pub(super) fn b_simd_ldst_multi_post(f: &Fields<'_>, w: u32) -> Insn {
    simd_ldst_multi(f, w, true)
}

fn simd_ldst_single(f: &Fields<'_>, w: u32, post: bool) -> Insn {
    let opcode = f.get(F::Opcode);
    let s = f.get(F::S);
    let size = f.get(F::Size);
    let q = f.get(F::Q);
    let load = f.get(F::L) == 1;
    let selem = (((opcode & 1) << 1 | f.get(F::R)) + 1) as u8;
    let rt = f.get(F::Rt) as u8;
    let rn = sp(f.get(F::Rn));
    let (esize, index) = match opcode >> 1 {
        0 => (0u8, q << 3 | s << 2 | size),
        1 if size & 1 == 0 => (1, q << 2 | s << 1 | size >> 1),
        2 if size == 0 => (2, q << 1 | s),
        2 if size == 1 && s == 0 => (3, q),
        3 if load && s == 0 => {
            let arr = Arrangement {
                size: size as u8,
                q: q == 1,
            };
            return Insn::SimdLoadReplicate {
                selem,
                arr,
                rt,
                rn,
                post: simd_post(f, post, (selem as u32) << size),
            };
        }
        _ => return Insn::Unallocated(w),
    };
    Insn::SimdLoadStoreLane {
        load,
        selem,
        size: esize,
        index: index as u8,
        rt,
        rn,
        post: simd_post(f, post, (selem as u32) << esize),
    }
}

pub(super) fn b_simd_ldst_single(f: &Fields<'_>, w: u32) -> Insn {
    simd_ldst_single(f, w, false)
}

pub(super) fn b_simd_ldst_single_post(f: &Fields<'_>, w: u32) -> Insn {
    simd_ldst_single(f, w, true)
}

// ---- Scalar floating point ----

fn ftype(f: &Fields<'_>) -> Option<FpType> {
    FpType::from_ftype(f.get(F::Ftype))
}

fn vreg(f: &Fields<'_>, field: F) -> u8 {
    f.get(field) as u8
}

const CVT_ROUNDING: [FpRounding; 4] = [
    FpRounding::TieEven,
    FpRounding::PlusInf,
    FpRounding::MinusInf,
    FpRounding::Zero,
];

pub(super) fn b_fp_int(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let rmode = f.get(F::Rmode);
    let opcode = f.get(F::Opcode);
    let ft = f.get(F::Ftype);
    let (rd, rn) = (f.get(F::Rd), f.get(F::Rn));
    if opcode >= 6 {
        // FMOV (general).
        let (size, top) = match (rmode, ft, is64) {
            (0, 0, false) => (2, false),
            (0, 1, true) => (3, false),
            (0, 3, _) => (1, false),
            (1, 2, true) => (3, true),
            _ => return Insn::Unallocated(w),
        };
        let to_fp = opcode == 7;
        return Insn::FpMovGeneral {
            to_fp,
            is64,
            size,
            top,
            gpr: zr(if to_fp { rn } else { rd }),
            vreg: (if to_fp { rd } else { rn }) as u8,
        };
    }
    let Some(ftype) = FpType::from_ftype(ft) else {
        return Insn::Unallocated(w);
    };
    let unsigned = opcode & 1 == 1;
    let rounding = match (opcode >> 1, rmode) {
        (0, r) => CVT_ROUNDING[r as usize],
        (2, 0) => FpRounding::TieAway,
        (1, 0) => {
            return Insn::IntToFp {
                unsigned,
                is64,
                ftype,
                rd: rd as u8,
                rn: zr(rn),
                fbits: 0,
            }
        }
        _ => return Insn::Unallocated(w),
    };
    Insn::FpToInt {
        rounding,
        unsigned,
        is64,
        ftype,
        rd: zr(rd),
        rn: rn as u8,
        fbits: 0,
    }
}

pub(super) fn b_fp_fixed(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let scale = f.get(F::Scale);
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    if !is64 && scale < 32 {
        return Insn::Unallocated(w);
    }
    let fbits = (64 - scale) as u8;
    let opcode = f.get(F::Opcode);
    let unsigned = opcode & 1 == 1;
    let (rd, rn) = (f.get(F::Rd), f.get(F::Rn));
    match (f.get(F::Rmode), opcode >> 1) {
        (0, 1) => Insn::IntToFp {
            unsigned,
            is64,
            ftype,
            rd: rd as u8,
            rn: zr(rn),
            fbits,
        },
        (3, 0) => Insn::FpToInt {
            rounding: FpRounding::Zero,
            unsigned,
            is64,
            ftype,
            rd: zr(rd),
            rn: rn as u8,
            fbits,
        },
        _ => Insn::Unallocated(w),
    }
}

pub(super) fn b_fp_dp1(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    let (rd, rn) = (vreg(f, F::Rd), vreg(f, F::Rn));
    let op = match f.get(F::Opcode) {
        0b000000 => FpUnaryOp::Mov,
        0b000001 => FpUnaryOp::Abs,
        0b000010 => FpUnaryOp::Neg,
        0b000011 => FpUnaryOp::Sqrt,
        o @ (0b000100 | 0b000101 | 0b000111) => {
            let to = match o & 3 {
                0 => FpType::S,
                1 => FpType::D,
                _ => FpType::H,
            };
            if to == ftype {
                return Insn::Unallocated(w);
            }
            return Insn::FpConvert {
                from: ftype,
                to,
                rd,
                rn,
            };
        }
        0b001000 => FpUnaryOp::Round(FpRounding::TieEven),
        0b001001 => FpUnaryOp::Round(FpRounding::PlusInf),
        0b001010 => FpUnaryOp::Round(FpRounding::MinusInf),
        0b001011 => FpUnaryOp::Round(FpRounding::Zero),
        0b001100 => FpUnaryOp::Round(FpRounding::TieAway),
        0b001110 => FpUnaryOp::Round(FpRounding::Exact),
        0b001111 => FpUnaryOp::Round(FpRounding::Current),
        _ => return Insn::Unallocated(w),
    };
    Insn::FpUnary { op, ftype, rd, rn }
}

pub(super) fn b_fp_dp2(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    let op = match f.get(F::Opcode) {
        0 => FpBinOp::Mul,
        1 => FpBinOp::Div,
        2 => FpBinOp::Add,
        3 => FpBinOp::Sub,
        4 => FpBinOp::Max,
        5 => FpBinOp::Min,
        6 => FpBinOp::MaxNm,
        7 => FpBinOp::MinNm,
        8 => FpBinOp::NMul,
        _ => return Insn::Unallocated(w),
    };
    Insn::FpBinary {
        op,
        ftype,
        rd: vreg(f, F::Rd),
        rn: vreg(f, F::Rn),
        rm: vreg(f, F::Rm),
    }
}

pub(super) fn b_fp_dp3(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    let op = match (f.get(F::O1), f.get(F::O0)) {
        (0, 0) => FpMaddOp::Madd,
        (0, _) => FpMaddOp::Msub,
        (_, 0) => FpMaddOp::NMadd,
        _ => FpMaddOp::NMsub,
    };
    Insn::FpMulAdd {
        op,
        ftype,
        rd: vreg(f, F::Rd),
        rn: vreg(f, F::Rn),
        rm: vreg(f, F::Rm),
        ra: vreg(f, F::Ra),
    }
}

pub(super) fn b_fp_compare(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    let opc = f.get(F::Opc);
    Insn::FpCompare {
        signaling: opc & 2 != 0,
        ftype,
        rn: vreg(f, F::Rn),
        rm: if opc & 1 != 0 {
            None
        } else {
            Some(vreg(f, F::Rm))
        },
    }
}

pub(super) fn b_fp_ccmp(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    Insn::FpCondCompare {
        signaling: f.get(F::Op) == 1,
        ftype,
        rn: vreg(f, F::Rn),
        rm: vreg(f, F::Rm),
        nzcv: f.get(F::Nzcv) as u8,
        cond: Cond::from_bits(f.get(F::Cond)),
    }
}

pub(super) fn b_fp_csel(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    Insn::FpCondSelect {
        ftype,
        rd: vreg(f, F::Rd),
        rn: vreg(f, F::Rn),
        rm: vreg(f, F::Rm),
        cond: Cond::from_bits(f.get(F::Cond)),
    }
}

pub(super) fn b_fp_imm(f: &Fields<'_>, w: u32) -> Insn {
    let Some(ftype) = ftype(f) else {
        return Insn::Unallocated(w);
    };
    Insn::FpMovImm {
        ftype,
        rd: vreg(f, F::Rd),
        imm8: f.get(F::Imm8) as u8,
    }
}
