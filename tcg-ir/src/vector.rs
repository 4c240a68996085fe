//! Vector ops on CPU state: their shape argument and their lane semantics (the reference
//! the interpreter runs and the JIT's host-SIMD code must match).
//!
//! A vector op (an opcode with [`OpFlags::VECTOR`](crate::OpFlags::VECTOR)) names 16-byte
//! operands in `env` by byte offset (its `Env` constant arguments: the destination first,
//! then the sources), like QEMU's gvec. It reads every source in full before it writes the
//! destination, so operands may alias. The shape gives the lane size (`vece`, log2 bytes)
//! and the operation size: 16 bytes, or 8, in which case the upper 8 bytes of the
//! destination are zeroed (the A64 rule for Q = 0). Lanes are little-endian: lane `i` of
//! `1 << vece` bytes is at byte `i << vece` of the operand.

use crate::func::Op;
use crate::opcodes::{CArg, OpFlags, Opc};
use crate::types::Cond;
use smallvec::SmallVec;

/// Lane size and operation size of a vector op. Prints as the A64 arrangement it covers
/// (`16b 8b 8h 4h 4s 2s 2d 1d`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct VecShape {
    /// log2 of the lane size in bytes (0..=3).
    pub vece: u8,
    /// 16-byte operation; else 8 bytes with the upper half of the result zeroed.
    pub q: bool,
}

impl VecShape {
    pub fn new(vece: u8, q: bool) -> VecShape {
        VecShape { vece: vece & 3, q }
    }

    /// The constant-argument encoding: bits 0-1 `vece`, bit 2 `q`.
    pub fn carg(self) -> u64 {
        (self.vece & 3) as u64 | (self.q as u64) << 2
    }

    pub fn from_carg(v: u64) -> Option<VecShape> {
        (v < 8).then(|| VecShape::new((v & 3) as u8, v & 4 != 0))
    }

    /// Bytes the operation computes (8 or 16).
    pub fn oprsz(self) -> u32 {
        if self.q {
            16
        } else {
            8
        }
    }

    pub fn lane_bits(self) -> u32 {
        8 << self.vece
    }

    pub fn lanes(self) -> u32 {
        self.oprsz() >> self.vece
    }

    pub fn name(self) -> String {
        let l = ['b', 'h', 's', 'd'][(self.vece & 3) as usize];
        format!("{}{l}", self.lanes())
    }

    pub fn from_name(s: &str) -> Option<VecShape> {
        let (n, l) = s.split_at(s.len().checked_sub(1)?);
        let vece = match l {
            "b" => 0,
            "h" => 1,
            "s" => 2,
            "d" => 3,
            _ => return None,
        };
        let lanes: u32 = n.parse().ok()?;
        match lanes << vece {
            16 => Some(VecShape::new(vece, true)),
            8 => Some(VecShape::new(vece, false)),
            _ => None,
        }
    }
}

/// Size in bytes of every vector operand in env.
pub const VEC_BYTES: u32 = 16;

/// The env offsets of a vector op's operands: destination first, then the sources in
/// argument order. Empty for other ops.
pub fn env_operands(op: &Op) -> SmallVec<[u32; 4]> {
    if !op.opc.flags().contains(OpFlags::VECTOR) {
        return SmallVec::new();
    }
    op.opc
        .def()
        .cargs
        .iter()
        .zip(op.cargs.iter())
        .filter(|(k, _)| **k == CArg::Env)
        .map(|(_, &v)| v as u32)
        .collect()
}

/// The shape (first constant argument) of a vector op.
pub fn shape(op: &Op) -> Option<VecShape> {
    if !op.opc.flags().contains(OpFlags::VECTOR) {
        return None;
    }
    op.cargs.first().and_then(|&c| VecShape::from_carg(c))
}

/// All-ones in the low `bits` bits.
fn lane_mask(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// `x` replicated into every lane of `1 << vece` bytes of a 128-bit value.
pub fn dup(vece: u8, x: u64) -> u128 {
    let bits = 8u32 << (vece & 3);
    let lane = x as u128 & lane_mask(bits);
    (0..128 / bits).fold(0u128, |r, i| r | lane << (i * bits))
}

/// Applies `f` to each pair of lanes (as u64, zero-extended) and packs the results.
fn lanewise(vece: u8, a: u128, b: u128, f: impl Fn(u64, u64) -> u64) -> u128 {
    let bits = 8u32 << (vece & 3);
    let m = lane_mask(bits);
    (0..128 / bits).fold(0u128, |r, i| {
        let sh = i * bits;
        let x = ((a >> sh) & m) as u64;
        let y = ((b >> sh) & m) as u64;
        r | ((f(x, y) as u128) & m) << sh
    })
}

/// A lane sign-extended to 64 bits.
fn sx(vece: u8, x: u64) -> i64 {
    let s = 64 - (8u32 << (vece & 3));
    ((x << s) as i64) >> s
}

/// All-ones for true.
fn ones(c: bool) -> u64 {
    if c {
        u64::MAX
    } else {
        0
    }
}

/// The result of a vector op from its source operands (`srcs`, 16 bytes each, in
/// argument order), its scalar input (`vdup`, `vands`, `vors`, `vcmps`; the low lane bits
/// are used) and its non-shape constant arguments other than offsets (`cond` of the
/// compares, `imm` the shift count). The upper half is zeroed for 8-byte shapes. `None`
/// for opcodes that are not vector ops.
pub fn eval(
    opc: Opc,
    shape: VecShape,
    cond: Cond,
    imm: u64,
    srcs: &[u128],
    scalar: u64,
) -> Option<u128> {
    let v = shape.vece;
    let bits = shape.lane_bits() as u64;
    let s = |k: usize| srcs.get(k).copied().unwrap_or(0);
    let (a, b) = (s(0), s(1));
    let cmp = |x: u64, y: u64| {
        let (x, y) = match cond {
            // Conditions compare lanes; the signed ones on sign-extended lanes.
            Cond::Lt | Cond::Ge | Cond::Le | Cond::Gt => (sx(v, x) as u64, sx(v, y) as u64),
            _ => (x, y),
        };
        ones(cond.eval(crate::types::Type::I64, x, y))
    };
    let r = match opc {
        Opc::VMov => a,
        Opc::VNot => !a,
        Opc::VNeg => lanewise(v, a, 0, |x, _| x.wrapping_neg()),
        Opc::VAbs => lanewise(v, a, 0, |x, _| sx(v, x).unsigned_abs()),
        Opc::VAdd => lanewise(v, a, b, u64::wrapping_add),
        Opc::VSub => lanewise(v, a, b, u64::wrapping_sub),
        Opc::VMul => lanewise(v, a, b, u64::wrapping_mul),
        Opc::VMla => lanewise(
            v,
            s(2),
            lanewise(v, a, b, u64::wrapping_mul),
            u64::wrapping_add,
        ),
        Opc::VMls => lanewise(
            v,
            s(2),
            lanewise(v, a, b, u64::wrapping_mul),
            u64::wrapping_sub,
        ),
        Opc::VAnd => a & b,
        Opc::VOr => a | b,
        Opc::VXor => a ^ b,
        Opc::VAndc => a & !b,
        Opc::VOrc => a | !b,
        Opc::VSmin => lanewise(v, a, b, |x, y| sx(v, x).min(sx(v, y)) as u64),
        Opc::VSmax => lanewise(v, a, b, |x, y| sx(v, x).max(sx(v, y)) as u64),
        Opc::VUmin => lanewise(v, a, b, u64::min),
        Opc::VUmax => lanewise(v, a, b, u64::max),
        Opc::VCmp => lanewise(v, a, b, cmp),
        // Counts of the lane size or more shift everything out (sari: fill with the sign).
        Opc::VShli if imm >= bits => 0,
        Opc::VShli => lanewise(v, a, 0, |x, _| x << imm),
        Opc::VShri if imm >= bits => 0,
        Opc::VShri => lanewise(v, a, 0, |x, _| x >> imm),
        Opc::VSari => lanewise(v, a, 0, |x, _| (sx(v, x) >> imm.min(bits - 1)) as u64),
        Opc::VBitsel => (a & b) | (!a & s(2)),
        Opc::VDup => dup(v, scalar),
        Opc::VAnds => a & dup(v, scalar),
        Opc::VOrs => a | dup(v, scalar),
        Opc::VCmps => lanewise(v, a, dup(v, scalar), cmp),
        Opc::VTbl => {
            let (table, idx) = (a.to_le_bytes(), b.to_le_bytes());
            u128::from_le_bytes(std::array::from_fn(|i| {
                table.get(idx[i] as usize).copied().unwrap_or(0)
            }))
        }
        _ => return None,
    };
    Some(if shape.q { r } else { r & lane_mask(64) })
}

/// `vshuf`: byte `i` of the result is byte `mask[i]` of `a:b` (`a` first), or zero when
/// `mask[i]` is 32 or more, with `mask` the 16 index bytes (little-endian); the upper half
/// is zeroed for 8-byte shapes.
pub fn shuffle(shape: VecShape, a: u128, b: u128, mask: u128) -> u128 {
    let src = |k: u32| -> u128 {
        match k {
            0..16 => (a >> (8 * k)) & 0xff,
            16..32 => (b >> (8 * (k - 16))) & 0xff,
            _ => 0,
        }
    };
    let r = (0..16).fold(0u128, |r, i| {
        let k = ((mask >> (8 * i)) & 0xff) as u32;
        r | src(k) << (8 * i)
    });
    if shape.q {
        r
    } else {
        r & lane_mask(64)
    }
}

/// What a back end needs to run a vector op through [`eval`], [`eval_sat`] or
/// [`shuffle`]: its shape, env operands (destination first), the condition of the
/// compares (`Eq` otherwise), the shift count of the immediate shifts (0 otherwise) and the
/// shuffle mask of `vshuf`.
#[derive(Clone, Debug)]
pub struct VecParams {
    pub shape: VecShape,
    pub envs: SmallVec<[u32; 4]>,
    pub cond: Cond,
    pub imm: u64,
    pub mask: Option<u128>,
}

/// Why [`params`] refused an op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VecParamsError {
    /// Malformed IR: what is wrong.
    Invalid(&'static str),
    /// Well-formed, but `eval`/`eval_sat`/`shuffle` have no semantics for the opcode.
    NoSemantics(Opc),
}

/// [`VecParams`] of `op`, checked: a valid shape, one to four env operands, and
/// semantics for the opcode.
pub fn params(op: &Op) -> Result<VecParams, VecParamsError> {
    let bad = VecParamsError::Invalid;
    let shape = shape(op).ok_or(bad("bad vector shape"))?;
    let envs = env_operands(op);
    if envs.is_empty() || envs.len() > 4 {
        return Err(bad("bad vector operands"));
    }
    let cond = match op.opc {
        Opc::VCmp | Opc::VCmps => op
            .cargs
            .get(1)
            .and_then(|&c| Cond::from_u64(c))
            .ok_or(bad("bad condition"))?,
        _ => Cond::Eq,
    };
    let imm = match op.opc {
        Opc::VShli | Opc::VShri | Opc::VSari => *op.cargs.get(3).ok_or(bad("no shift count"))?,
        _ => 0,
    };
    let mask = shuffle_mask(op);
    if eval(op.opc, shape, cond, imm, &[], 0).is_none()
        && eval_sat(op.opc, shape, 0, 0).is_none()
        && mask.is_none()
    {
        return Err(VecParamsError::NoSemantics(op.opc));
    }
    Ok(VecParams {
        shape,
        envs,
        cond,
        imm,
        mask,
    })
}

/// The 16 index bytes of a `vshuf` (its last two constant arguments).
pub fn shuffle_mask(op: &Op) -> Option<u128> {
    if op.opc != Opc::VShuf {
        return None;
    }
    let (&lo, &hi) = (op.cargs.get(4)?, op.cargs.get(5)?);
    Some((hi as u128) << 64 | lo as u128)
}

/// A saturating add or subtract (`vusadd vssadd vussub vsssub`): the result (upper half
/// zeroed for 8-byte shapes) and whether any lane of the operation size saturated.
pub fn eval_sat(opc: Opc, shape: VecShape, a: u128, b: u128) -> Option<(u128, bool)> {
    let v = shape.vece;
    let bits = shape.lane_bits();
    let (lo, hi): (i128, i128) = match opc {
        Opc::VSsadd | Opc::VSssub => (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1),
        Opc::VUsadd | Opc::VUssub => (0, (1i128 << bits) - 1),
        _ => return None,
    };
    let signed = matches!(opc, Opc::VSsadd | Opc::VSssub);
    let m = lane_mask(bits);
    let mut r = 0u128;
    let mut sat = false;
    for i in 0..shape.lanes() {
        let sh = i * bits;
        let (x, y) = (((a >> sh) & m) as u64, ((b >> sh) & m) as u64);
        let (x, y) = if signed {
            (sx(v, x) as i128, sx(v, y) as i128)
        } else {
            (x as i128, y as i128)
        };
        let exact = match opc {
            Opc::VUsadd | Opc::VSsadd => x + y,
            _ => x - y,
        };
        let c = exact.clamp(lo, hi);
        sat |= c != exact;
        r |= (c as u128 & m) << sh;
    }
    Some((r, sat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_print_as_arrangements() {
        for c in 0..8 {
            let s = VecShape::from_carg(c).unwrap();
            assert_eq!(s.carg(), c);
            assert_eq!(VecShape::from_name(&s.name()), Some(s));
        }
        assert_eq!(VecShape::new(0, true).name(), "16b");
        assert_eq!(VecShape::new(3, false).name(), "1d");
        assert_eq!(VecShape::from_name("3s"), None);
        assert_eq!(VecShape::from_carg(8), None);
    }

    #[test]
    fn lane_semantics() {
        let q16 = VecShape::new(1, true);
        let a = 0x8000_7fff_0001_ffffu128 | 0x1234 << 64;
        let b = 0x0001_0001_0002_0001u128;
        let add = eval(Opc::VAdd, q16, Cond::Eq, 0, &[a, b], 0).unwrap();
        assert_eq!(add, 0x8001_8000_0003_0000u128 | 0x1234 << 64);
        let gt = eval(Opc::VCmp, q16, Cond::Gt, 0, &[a, b], 0).unwrap();
        // Signed: 0x8000 < 1, 0x7fff > 1, 1 < 2, -1 < 1; upper lanes 0x1234 > 0, 0 == 0.
        assert_eq!(gt, 0x0000_ffff_0000_0000u128 | 0xffff << 64);
        let d8 = VecShape::new(3, false);
        assert_eq!(
            eval(Opc::VNot, d8, Cond::Eq, 0, &[0], 0),
            Some(u64::MAX as u128)
        );
        assert_eq!(
            eval(Opc::VSari, VecShape::new(0, true), Cond::Eq, 8, &[0x80], 0),
            Some(0xff)
        );
        assert_eq!(
            eval(Opc::VShri, VecShape::new(0, true), Cond::Eq, 8, &[0x80], 0),
            Some(0)
        );
        assert_eq!(
            dup(2, 0x1_8000_0001),
            0x8000_0001_8000_0001_8000_0001_8000_0001
        );
        assert_eq!(
            eval(Opc::VAbs, VecShape::new(0, true), Cond::Eq, 0, &[0x80ff], 0),
            Some(0x8001)
        );
    }

    #[test]
    fn shuffle_picks_bytes_of_both_sources() {
        let a = 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100u128;
        let b = a | 0x1010_1010_1010_1010_1010_1010_1010_1010;
        // b's bytes reversed.
        let m = u128::from_le_bytes(std::array::from_fn(|i| 31 - i as u8));
        let r = shuffle(VecShape::new(0, true), a, b, m);
        assert_eq!(r & 0xff, 0x1f);
        assert_eq!(r >> 120, 0x10);
        assert_eq!(shuffle(VecShape::new(0, false), a, b, 0x20) >> 64, 0);
        // Indices of 32 or more give zero bytes.
        assert_eq!(shuffle(VecShape::new(0, true), a, b, u128::MAX), 0);
        assert_eq!(
            shuffle(VecShape::new(0, true), a, b, !0xffu128 | 0x11),
            0x11
        );
    }

    #[test]
    fn saturation_counts_only_the_operation_size() {
        let b8 = VecShape::new(0, false);
        // Upper-half lanes would saturate but are outside an 8-byte operation.
        let a = 0xff << 64 | 0x7f01;
        assert_eq!(
            eval_sat(Opc::VUsadd, b8, a, 0x01 << 64 | 0x0102),
            Some((0x8003, false))
        );
        assert_eq!(eval_sat(Opc::VSsadd, b8, a, 0x0102), Some((0x7f03, true)));
        let d = VecShape::new(3, true);
        assert_eq!(
            eval_sat(Opc::VSssub, d, 1u128 << 63, 1),
            Some((1u128 << 63, true))
        );
        assert_eq!(eval_sat(Opc::VUssub, d, 1, 2), Some((0, true)));
    }
}
