//! Architectural semantics of the A64 FP, Advanced SIMD and crypto instructions over
//! a register file: the reference both back ends call for what they do not inline.
//!
//! [`exec`] runs one decoded data-processing instruction (every [`InsnClass::FpSimd`]
//! variant except the loads and stores, which the translator emits as guest memory
//! accesses) on [`FpRegs`]. [`supported`] says, at translation time, whether `exec`
//! implements an instruction; the translator makes everything else UNDEFINED.
//!
//! Values crossing to the general-purpose side go through one `u64`:
//! - in (`gpr`): the source W/X register of IntToFp, FpMovGeneral (to FP),
//!   SimdDupGeneral and SimdInsGeneral (ZR reads 0); for FpCondSelect and
//!   FpCondCompare the condition, already evaluated by the translator (1 = holds);
//! - out (return value): the W/X result of FpToInt, FpMovGeneral (to general) and
//!   SimdMovToGeneral (32-bit results zero-extended); NZCV in bits 31..28 for
//!   FpCompare and FpCondCompare; 0 otherwise.
#![forbid(unsafe_code)]

pub mod plan;
pub mod regs;

mod crypto;
mod fp_scalar;
mod fp_vector;
mod int_vector;

pub use regs::FpRegs;

use arm_decode::{FpType, Insn, SimdOp};

/// Whether `op` is a floating-point operation (handled by `fp_vector`) rather than an
/// integer, bitwise or permute one (`int_vector`).
pub fn is_fp_op(op: SimdOp) -> bool {
    op.name().starts_with('f')
        || matches!(
            op,
            SimdOp::Scvtf | SimdOp::Ucvtf | SimdOp::Urecpe | SimdOp::Ursqrte
        )
}

/// The part of the FP/SIMD data-processing instructions an instruction belongs to
/// (the module implementing it; the difftest's `--only` parts follow it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Scalar FP, FP<->general moves and conversions (`fp_scalar`).
    FpScalar,
    /// AdvSIMD floating-point operations (`fp_vector`).
    FpVector,
    /// AdvSIMD integer, bitwise, permute, copy and immediate operations (`int_vector`).
    IntVector,
    /// AES, SHA1, SHA256 (`crypto`).
    Crypto,
    /// Not an FP/SIMD data-processing instruction (loads and stores, everything else).
    None,
}

/// Which [`Part`] `insn` belongs to.
pub fn part(insn: &Insn) -> Part {
    use Insn::*;
    match insn {
        FpMovGeneral { .. }
        | FpToInt { .. }
        | IntToFp { .. }
        | FpUnary { .. }
        | FpConvert { .. }
        | FpBinary { .. }
        | FpMulAdd { .. }
        | FpCompare { .. }
        | FpCondCompare { .. }
        | FpCondSelect { .. }
        | FpMovImm { .. } => Part::FpScalar,
        CryptoAes { .. } | CryptoSha3 { .. } | CryptoSha2 { .. } => Part::Crypto,
        SimdModImm { .. }
        | SimdExt { .. }
        | SimdTable { .. }
        | SimdDupElement { .. }
        | SimdDupScalar { .. }
        | SimdDupGeneral { .. }
        | SimdInsGeneral { .. }
        | SimdInsElement { .. }
        | SimdMovToGeneral { .. } => Part::IntVector,
        _ => match insn.simd_op() {
            Some(op) if is_fp_op(op) => Part::FpVector,
            Some(_) => Part::IntVector,
            None => Part::None,
        },
    }
}

/// Whether [`exec`] implements `insn` (decided at translation time).
pub fn supported(insn: &Insn) -> bool {
    match part(insn) {
        Part::FpScalar => fp_scalar::supported(insn),
        Part::FpVector => fp_vector::supported(insn),
        Part::IntVector => int_vector::supported(insn),
        Part::Crypto => crypto::supported(insn),
        Part::None => false,
    }
}

/// Executes `insn` on `regs` (see the crate docs for `gpr` and the result). An
/// instruction [`supported`] rejects changes nothing and returns 0.
pub fn exec(regs: &mut FpRegs, insn: &Insn, gpr: u64) -> u64 {
    exec_part(part(insn), regs, insn, gpr)
}

/// [`exec`] for an instruction of part `p` (`p` must be [`part`]`(insn)`): the translator
/// resolves the part once per instruction, not once per execution.
pub fn exec_part(p: Part, regs: &mut FpRegs, insn: &Insn, gpr: u64) -> u64 {
    match p {
        Part::FpScalar => fp_scalar::exec(regs, insn, gpr),
        Part::FpVector => fp_vector::exec(regs, insn, gpr),
        Part::IntVector => int_vector::exec(regs, insn, gpr),
        Part::Crypto => crypto::exec(regs, insn, gpr),
        Part::None => 0,
    }
}

/// The value FMOV (scalar, immediate) writes: `imm8` expanded to `ftype`'s format.
pub fn fp_imm(ftype: FpType, imm8: u8) -> u64 {
    fp_scalar::expand_imm(fp_scalar::fmt_of(ftype), imm8)
}

#[cfg(test)]
mod tests;
