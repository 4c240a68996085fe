//! The common FP instructions resolved once, at translation time, into a [`Plan`]: the
//! per-lane arm-fp function, the format, the lane count and the registers. Running a
//! plan is one loop of direct calls; [`crate::exec`] would match on the instruction,
//! check it and look the function up again at every execution (a third of the time of
//! FP-heavy guest code went there). The rest of the FP/SIMD instructions run through
//! [`crate::exec`]; a plan leaves exactly the registers and FPSR it would.

use crate::fp_scalar::{fixed_rounding, fmt_of as scalar_fmt, scalar_binary, scalar_madd, Tern};
use crate::fp_vector::{binary, fixed_lane, fmt_of, mla, unary, Bin, Un};
use crate::FpRegs;
use arm_decode::{FpRounding, FpUnaryOp, Insn, SimdOp};
use arm_fp::{Fmt, Rounding};

type Runner = fn(&Plan, &mut FpRegs, u64) -> u64;

/// What a plan computes.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// `d[i] = f(n[i], m[i])`.
    Bin(Bin),
    /// `d[i] = f(n[i], m[idx])`.
    BinElem(Bin, u8),
    /// `d[i] = f(n[i])`.
    Un(Un),
    /// FMLA (`d[i] + n[i] * m[i]`) or FMLS (`neg`), fused.
    Mla(bool),
    /// FMLA/FMLS by element `idx`.
    MlaElem(bool, u8),
    /// Scalar FMADD family: `d = f(n, m, a)`, `a` in `ra`.
    Madd(Tern, u8),
    /// Fixed-point conversions by immediate, per lane (SCVTF, UCVTF, FCVTZS, FCVTZU
    /// with `fbits`).
    Fixed(SimdOp, u8),
    /// FCVT between scalar formats, to `Fmt` of `1 << size` bytes.
    Convert(Fmt, u8),
    /// FCVT* to a general register: the result is the plan's return value.
    ToInt {
        fbits: u8,
        unsigned: bool,
        bits: u8,
        rounding: Rounding,
    },
    /// SCVTF/UCVTF from a general register (the `gpr` argument).
    FromInt { fbits: u8, signed: bool, bits: u8 },
    /// FCMP/FCMPE (`signaling`) against `rm`, or against +0.0 (`zero`): NZCV in bits
    /// 31..28 of the return value.
    Compare { signaling: bool, zero: bool },
}

/// One instruction resolved for [`run`].
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// The loop for the kind (lane kinds: specialised for the lane size and count).
    runner: Runner,
    kind: Kind,
    fmt: Fmt,
    /// log2 of the lane size in bytes.
    size: u8,
    rd: u8,
    rn: u8,
    rm: u8,
}

/// The plan of `insn`, when it is one of the instructions plans cover (and
/// [`crate::supported`]).
pub fn plan(insn: &Insn) -> Option<Plan> {
    if !crate::supported(insn) {
        return None;
    }
    let vector = |size: u8, q: bool| ((if q { 16 } else { 8 }) >> size) as u8;
    let mk = |kind, size: u8, lanes, rd, rn, rm| {
        Some(Plan {
            runner: runner(kind, size, lanes)?,
            kind,
            fmt: fmt_of(size)?,
            size,
            rd,
            rn,
            rm,
        })
    };
    use SimdOp::*;
    match *insn {
        Insn::FpBinary {
            op,
            ftype,
            rd,
            rn,
            rm,
        } => {
            let f = scalar_binary(op);
            mk(Kind::Bin(f), ftype.log2_bytes(), 1, rd, rn, rm)
        }
        Insn::FpMulAdd {
            op,
            ftype,
            rd,
            rn,
            rm,
            ra,
        } => {
            let f = scalar_madd(op);
            mk(Kind::Madd(f, ra), ftype.log2_bytes(), 1, rd, rn, rm)
        }
        Insn::FpUnary { op, ftype, rd, rn } => {
            let f = match op {
                FpUnaryOp::Sqrt => unary(Fsqrt)?,
                FpUnaryOp::Round(r) => unary(match r {
                    FpRounding::TieEven => Frintn,
                    FpRounding::PlusInf => Frintp,
                    FpRounding::MinusInf => Frintm,
                    FpRounding::Zero => Frintz,
                    FpRounding::TieAway => Frinta,
                    FpRounding::Exact => Frintx,
                    FpRounding::Current => Frinti,
                })?,
                // Native IR (see the translator); no gain here.
                FpUnaryOp::Mov | FpUnaryOp::Abs | FpUnaryOp::Neg => return None,
            };
            mk(Kind::Un(f), ftype.log2_bytes(), 1, rd, rn, 0)
        }
        Insn::FpConvert { from, to, rd, rn } => mk(
            Kind::Convert(scalar_fmt(to), to.log2_bytes()),
            from.log2_bytes(),
            1,
            rd,
            rn,
            0,
        ),
        Insn::FpToInt {
            rounding,
            unsigned,
            is64,
            ftype,
            rn,
            fbits,
            ..
        } => mk(
            Kind::ToInt {
                fbits,
                unsigned,
                bits: if is64 { 64 } else { 32 },
                rounding: fixed_rounding(rounding)?,
            },
            ftype.log2_bytes(),
            1,
            0,
            rn,
            0,
        ),
        Insn::IntToFp {
            unsigned,
            is64,
            ftype,
            rd,
            fbits,
            ..
        } => mk(
            Kind::FromInt {
                fbits,
                signed: !unsigned,
                bits: if is64 { 64 } else { 32 },
            },
            ftype.log2_bytes(),
            1,
            rd,
            0,
            0,
        ),
        Insn::FpCompare {
            signaling,
            ftype,
            rn,
            rm,
        } => mk(
            Kind::Compare {
                signaling,
                zero: rm.is_none(),
            },
            ftype.log2_bytes(),
            1,
            0,
            rn,
            rm.unwrap_or(0),
        ),
        Insn::SimdThreeSame {
            op,
            arr,
            rd,
            rn,
            rm,
        } => {
            let kind = match op {
                Fmla | Fmls => Kind::Mla(op == Fmls),
                _ => Kind::Bin(binary(op)?),
            };
            mk(kind, arr.size, vector(arr.size, arr.q), rd, rn, rm)
        }
        Insn::SimdScalarThreeSame {
            op,
            size,
            rd,
            rn,
            rm,
        } => mk(Kind::Bin(binary(op)?), size, 1, rd, rn, rm),
        Insn::SimdTwoReg { op, arr, rd, rn } if !matches!(op, Fcvtn | Fcvtxn | Fcvtl) => mk(
            Kind::Un(unary(op)?),
            arr.size,
            vector(arr.size, arr.q),
            rd,
            rn,
            0,
        ),
        Insn::SimdScalarTwoReg { op, size, rd, rn } if op != Fcvtxn => {
            mk(Kind::Un(unary(op)?), size, 1, rd, rn, 0)
        }
        Insn::SimdShiftImm {
            op,
            arr,
            rd,
            rn,
            shift,
        } => mk(
            Kind::Fixed(fixed_op(op)?, shift),
            arr.size,
            vector(arr.size, arr.q),
            rd,
            rn,
            0,
        ),
        Insn::SimdScalarShiftImm {
            op,
            size,
            rd,
            rn,
            shift,
        } => mk(Kind::Fixed(fixed_op(op)?, shift), size, 1, rd, rn, 0),
        Insn::SimdByElement {
            op,
            arr,
            rd,
            rn,
            rm,
            index,
        } => mk(
            elem_kind(op, index)?,
            arr.size,
            vector(arr.size, arr.q),
            rd,
            rn,
            rm,
        ),
        Insn::SimdScalarByElement {
            op,
            size,
            rd,
            rn,
            rm,
            index,
        } => mk(elem_kind(op, index)?, size, 1, rd, rn, rm),
        _ => None,
    }
}

fn fixed_op(op: SimdOp) -> Option<SimdOp> {
    matches!(
        op,
        SimdOp::Scvtf | SimdOp::Ucvtf | SimdOp::Fcvtzs | SimdOp::Fcvtzu
    )
    .then_some(op)
}

fn elem_kind(op: SimdOp, index: u8) -> Option<Kind> {
    Some(match op {
        SimdOp::Fmul => Kind::BinElem(arm_fp::mul, index),
        SimdOp::Fmulx => Kind::BinElem(arm_fp::mulx, index),
        SimdOp::Fmla => Kind::MlaElem(false, index),
        SimdOp::Fmls => Kind::MlaElem(true, index),
        _ => return None,
    })
}

/// Runs `p` on `regs`; `gpr` and the result as for [`crate::exec`].
#[inline]
pub fn run(p: &Plan, regs: &mut FpRegs, gpr: u64) -> u64 {
    (p.runner)(p, regs, gpr)
}

/// The `N` lanes of `1 << SZ` bytes at the bottom of `q`.
#[inline(always)]
fn split<const SZ: u32, const N: usize>(q: u128) -> [u64; N] {
    let bits = 8 << SZ;
    let m = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    std::array::from_fn(|i| (q >> (i as u32 * bits)) as u64 & m)
}

/// `N` lanes of `1 << SZ` bytes packed at the bottom of a register, the rest zero: a
/// scalar, 64-bit or 128-bit vector result alike.
#[inline(always)]
fn join<const SZ: u32, const N: usize>(r: [u64; N]) -> u128 {
    let bits = 8 << SZ;
    let m = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    r.iter().enumerate().fold(0, |acc, (i, &x)| {
        acc | ((x & m) as u128) << (i as u32 * bits)
    })
}

/// The element-wise kinds with their lane loops unrolled for `SZ` and `N`.
fn lanewise<const SZ: u32, const N: usize>(p: &Plan, regs: &mut FpRegs, _gpr: u64) -> u64 {
    let mut st = regs.status();
    let f = p.fmt;
    let n = split::<SZ, N>(regs.q(p.rn));
    let r: [u64; N] = match p.kind {
        Kind::Bin(func) => {
            let m = split::<SZ, N>(regs.q(p.rm));
            std::array::from_fn(|i| func(f, n[i], m[i], &mut st))
        }
        Kind::BinElem(func, idx) => {
            let m = regs.lane(p.rm, SZ as u8, idx as usize);
            std::array::from_fn(|i| func(f, n[i], m, &mut st))
        }
        Kind::Un(func) => std::array::from_fn(|i| func(f, n[i], &mut st)),
        Kind::Fixed(op, fbits) => {
            std::array::from_fn(|i| fixed_lane(f, op, n[i], fbits as u32, &mut st))
        }
        Kind::Madd(func, ra) => {
            let (m, a) = (split::<SZ, N>(regs.q(p.rm)), split::<SZ, N>(regs.q(ra)));
            std::array::from_fn(|i| func(f, n[i], m[i], a[i], &mut st))
        }
        Kind::Mla(neg) => {
            let op = if neg { SimdOp::Fmls } else { SimdOp::Fmla };
            let (d, m) = (split::<SZ, N>(regs.q(p.rd)), split::<SZ, N>(regs.q(p.rm)));
            std::array::from_fn(|i| mla(f, op, d[i], n[i], m[i], &mut st))
        }
        Kind::MlaElem(neg, idx) => {
            let op = if neg { SimdOp::Fmls } else { SimdOp::Fmla };
            let d = split::<SZ, N>(regs.q(p.rd));
            let m = regs.lane(p.rm, SZ as u8, idx as usize);
            std::array::from_fn(|i| mla(f, op, d[i], n[i], m, &mut st))
        }
        // Never selected for the other kinds (see `runner`).
        _ => return 0,
    };
    regs.set_q(p.rd, join::<SZ, N>(r));
    regs.merge_status(&st);
    0
}

/// The runner of `kind` on `lanes` lanes of `1 << size` bytes (`None`: a lane shape the
/// decoder does not produce; the instruction then runs through [`crate::exec`]).
fn runner(kind: Kind, size: u8, lanes: u8) -> Option<Runner> {
    match kind {
        Kind::Bin(_)
        | Kind::BinElem(..)
        | Kind::Un(_)
        | Kind::Mla(_)
        | Kind::MlaElem(..)
        | Kind::Fixed(..)
        | Kind::Madd(..) => {}
        Kind::Compare { .. } => return Some(compare),
        Kind::ToInt { .. } => return Some(to_int),
        Kind::FromInt { .. } => return Some(from_int),
        Kind::Convert(..) => return Some(convert),
    }
    Some(match (size, lanes) {
        (1, 1) => lanewise::<1, 1>,
        (1, 4) => lanewise::<1, 4>,
        (1, 8) => lanewise::<1, 8>,
        (2, 1) => lanewise::<2, 1>,
        (2, 2) => lanewise::<2, 2>,
        (2, 4) => lanewise::<2, 4>,
        (3, 1) => lanewise::<3, 1>,
        (3, 2) => lanewise::<3, 2>,
        _ => return None,
    })
}

fn compare(p: &Plan, regs: &mut FpRegs, _gpr: u64) -> u64 {
    let Kind::Compare { signaling, zero } = p.kind else {
        return 0;
    };
    let mut st = regs.status();
    let a = regs.lane(p.rn, p.size, 0);
    let b = if zero { 0 } else { regs.lane(p.rm, p.size, 0) };
    let out = (arm_fp::compare(p.fmt, a, b, signaling, &mut st) as u64 & 15) << 28;
    regs.merge_status(&st);
    out
}

fn to_int(p: &Plan, regs: &mut FpRegs, _gpr: u64) -> u64 {
    let Kind::ToInt {
        fbits,
        unsigned,
        bits,
        rounding,
    } = p.kind
    else {
        return 0;
    };
    let mut st = regs.status();
    let a = regs.lane(p.rn, p.size, 0);
    let out = arm_fp::to_fixed(
        p.fmt,
        a,
        fbits as u32,
        unsigned,
        bits as u32,
        rounding,
        &mut st,
    );
    regs.merge_status(&st);
    out
}

fn from_int(p: &Plan, regs: &mut FpRegs, gpr: u64) -> u64 {
    let Kind::FromInt {
        fbits,
        signed,
        bits,
    } = p.kind
    else {
        return 0;
    };
    let mut st = regs.status();
    let r = arm_fp::from_fixed(p.fmt, gpr, fbits as u32, signed, bits as u32, &mut st);
    regs.set_scalar(p.rd, p.size, r as u128);
    regs.merge_status(&st);
    0
}

fn convert(p: &Plan, regs: &mut FpRegs, _gpr: u64) -> u64 {
    let Kind::Convert(to, to_size) = p.kind else {
        return 0;
    };
    let mut st = regs.status();
    let r = arm_fp::convert(p.fmt, to, regs.lane(p.rn, p.size, 0), &mut st);
    regs.set_scalar(p.rd, to_size, r as u128);
    regs.merge_status(&st);
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift64*: reproducible operands.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        /// A lane value biased towards the interesting FP encodings.
        fn lane(&mut self, bits: u32) -> u64 {
            let special: [u64; 8] = [
                0,
                1,
                0x7f80_0000,
                0x7fc0_0000,
                0x3f80_0000,
                0x8000_0000,
                0x3ff0_0000_0000_0000,
                0x7ff8_0000_0000_0001,
            ];
            let v = match self.next() % 4 {
                0 => special[(self.next() % 8) as usize],
                _ => self.next(),
            };
            if bits == 64 {
                v
            } else {
                v & ((1 << bits) - 1)
            }
        }
    }

    /// (mask, value) of the encoding groups plans cover.
    const GROUPS: &[(u32, u32)] = &[
        (0x5f20_fc00, 0x1e20_0800), // FP data-processing (2 source), scalar
        (0x5f00_0000, 0x1f00_0000), // FP data-processing (3 source)
        (0x5f20_7c00, 0x1e20_4000), // FP data-processing (1 source)
        (0x5f20_3c00, 0x1e20_2000), // FP compare
        (0x5f20_fc00, 0x1e20_0000), // FP <-> integer
        (0x5f20_0000, 0x1e00_0000), // FP <-> fixed point
        (0x9f20_0400, 0x0e20_0400), // AdvSIMD three same
        (0xdf20_0400, 0x5e20_0400), // scalar three same
        (0x9f3e_0c00, 0x0e20_0800), // two-register misc
        (0xdf3e_0c00, 0x5e20_0800), // scalar two-register misc
        (0x9f80_0400, 0x0f00_0400), // shift by immediate
        (0xdf80_0400, 0x5f00_0400), // scalar shift by immediate
        (0x9f00_0400, 0x0f00_0000), // by element
        (0xdf00_0400, 0x5f00_0000), // scalar by element
    ];

    /// Every plan leaves the registers, FPSR and result `exec` does, on random words of
    /// the covered groups, random FPCR modes and biased random register contents.
    #[test]
    fn plans_match_exec() {
        let mut rng = Rng(0x005e_ed0f_91a5);
        let mut planned = 0;
        for k in 0..200_000u32 {
            let (mask, val) = GROUPS[k as usize % GROUPS.len()];
            let word = val | (rng.next() as u32 & !mask);
            let insn = arm_decode::decode(word);
            let Some(p) = plan(&insn) else { continue };
            planned += 1;
            let mut a = FpRegs {
                // RMode, FZ, DN, AHP, FZ16 at random.
                fpcr: rng.next() & 0x07c8_0000,
                fpsr: if rng.next().is_multiple_of(2) {
                    0
                } else {
                    0x10
                },
                ..FpRegs::default()
            };
            for r in 0..32u8 {
                let bits = 16 << (rng.next() % 3);
                let mut q = 0u128;
                for i in 0..128 / bits {
                    q |= (rng.lane(bits) as u128) << (i * bits);
                }
                a.set_q(r, q);
            }
            let gpr = rng.next();
            let mut b = a.clone();
            let want = crate::exec(&mut a, &insn, gpr);
            let got = run(&p, &mut b, gpr);
            assert_eq!(got, want, "{word:#010x} {insn}: result");
            assert_eq!(b, a, "{word:#010x} {insn}: registers");
        }
        assert!(planned > 15_000, "only {planned} planned");
    }
}
