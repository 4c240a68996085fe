//! objdump-style text of the floating-point and Advanced SIMD instructions.

use super::{Disasm, Mem, R};
use crate::insn::*;
use std::fmt::{self, Display, Formatter};

/// Scalar SIMD&FP register name prefix by log2 size in bytes.
const FP_PREFIX: [char; 5] = ['b', 'h', 's', 'd', 'q'];

/// A scalar SIMD&FP register: `V(size, n)` prints `s3`, `q0`, ...
struct V(u8, u8);

impl Display for V {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let p = FP_PREFIX.get(self.0 as usize).copied().unwrap_or('?');
        write!(f, "{p}{}", self.1 & 31)
    }
}

/// A scalar FP register of the given format.
struct Sc(FpType, u8);

impl Display for Sc {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        V(self.0.log2_bytes(), self.1).fmt(f)
    }
}

/// FMOV (general)'s vector operand: a scalar, or `vN.d[1]`.
struct FpOrTop(u8, u8, bool);

impl Display for FpOrTop {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.2 {
            write!(f, "v{}.d[1]", self.1 & 31)
        } else {
            V(self.0, self.1).fmt(f)
        }
    }
}

/// `, #fbits` of the fixed-point conversions (nothing for 0).
struct Fbits(u8);

impl Display for Fbits {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            Ok(())
        } else {
            write!(f, ", #{}", self.0)
        }
    }
}

/// A float as C's `%.18e` prints it (`1.000000000000000000e+00`).
struct CFloat(f64);

impl Display for CFloat {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = format!("{:.18e}", self.0);
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let e: i32 = exp.parse().unwrap_or(0);
        let sign = if e < 0 { '-' } else { '+' };
        write!(f, "{mant}e{sign}{:02}", e.unsigned_abs())
    }
}

/// Something with an arrangement suffix.
trait ArrName: Copy {
    fn arr_name(self) -> &'static str;
}

impl ArrName for &'static str {
    fn arr_name(self) -> &'static str {
        self
    }
}

impl ArrName for Arrangement {
    fn arr_name(self) -> &'static str {
        self.name()
    }
}

impl ArrName for Wide {
    fn arr_name(self) -> &'static str {
        match self.0.size {
            0 => "8h",
            1 => "4s",
            2 => "2d",
            _ => "1q",
        }
    }
}

/// A vector register with arrangement, `v3.4s`.
struct Va<A>(u8, A);

impl<A: ArrName> Display for Va<A> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "v{}.{}", self.0 & 31, self.1.arr_name())
    }
}

/// The double-width (128-bit) arrangement of a long/wide/narrow operation
/// (`1q` for 64-bit PMULL).
#[derive(Clone, Copy)]
struct Wide(Arrangement);

/// The `2` suffix of upper-half forms.
struct Two(bool);

impl Display for Two {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 {
            f.write_str("2")
        } else {
            Ok(())
        }
    }
}

/// A vector element `v2.s[1]`.
struct Elem(u8, u8, u8);

impl Display for Elem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let s = ["b", "h", "s", "d"][(self.1 & 3) as usize];
        write!(f, "v{}.{s}[{}]", self.0 & 31, self.2)
    }
}

/// The `, #0` / `, #0.0` operand of the compare-with-zero forms.
struct ZeroOperand(SimdOp);

impl Display for ZeroOperand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            SimdOp::Cmgt | SimdOp::Cmeq | SimdOp::Cmlt | SimdOp::Cmge | SimdOp::Cmle => {
                f.write_str(", #0")
            }
            SimdOp::Fcmgt | SimdOp::Fcmeq | SimdOp::Fcmlt | SimdOp::Fcmge | SimdOp::Fcmle => {
                f.write_str(", #0.0")
            }
            _ => Ok(()),
        }
    }
}

/// By-element operations whose destination is twice as wide as the sources.
fn long_by_element(op: SimdOp) -> bool {
    matches!(
        op,
        SimdOp::Smlal
            | SimdOp::Sqdmlal
            | SimdOp::Smlsl
            | SimdOp::Sqdmlsl
            | SimdOp::Smull
            | SimdOp::Sqdmull
            | SimdOp::Umlal
            | SimdOp::Umlsl
            | SimdOp::Umull
    )
}

/// A register list `{v0.16b, v1.16b}`; objdump uses a range for three or more
/// registers that do not wrap past V31.
struct VList<'a> {
    first: u8,
    count: u8,
    suffix: &'a str,
}

impl Display for VList<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let first = self.first & 31;
        let last = first + self.count - 1;
        if self.count >= 3 && last < 32 {
            return write!(f, "{{v{first}.{s}-v{last}.{s}}}", s = self.suffix);
        }
        f.write_str("{")?;
        for i in 0..self.count {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "v{}.{}", (first + i) & 31, self.suffix)?;
        }
        f.write_str("}")
    }
}

/// `[xn]` plus the post-index part.
struct SimdAddr(Reg, SimdPost);

impl Display for SimdAddr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", R(self.0, true))?;
        match self.1 {
            SimdPost::None => Ok(()),
            SimdPost::Imm(n) => write!(f, ", #{n}"),
            SimdPost::Reg(r) => write!(f, ", {}", R(r, true)),
        }
    }
}

impl Disasm<'_> {
    /// Text of an instruction of class [`InsnClass::FpSimd`].
    pub(super) fn fmt_fpsimd(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self.insn {
            Insn::FpLoadStore {
                load,
                size,
                rt,
                addr,
                unscaled,
            } => {
                let m = match (load, unscaled) {
                    (true, false) => "ldr",
                    (true, true) => "ldur",
                    (false, false) => "str",
                    (false, true) => "stur",
                };
                write!(f, "{m} {}, ", V(size, rt))?;
                self.mem(f, addr)
            }
            Insn::FpLoadStorePair {
                load,
                size,
                nontemporal,
                rt,
                rt2,
                addr,
            } => {
                let m = match (load, nontemporal) {
                    (true, false) => "ldp",
                    (true, true) => "ldnp",
                    (false, false) => "stp",
                    (false, true) => "stnp",
                };
                write!(f, "{m} {}, {}, {}", V(size, rt), V(size, rt2), Mem(addr))
            }
            Insn::SimdLoadStoreMulti {
                load,
                selem,
                regs,
                arr,
                rt,
                rn,
                post,
            } => {
                let m = if load { "ld" } else { "st" };
                let list = VList {
                    first: rt,
                    count: regs,
                    suffix: arr.name(),
                };
                write!(f, "{m}{selem} {list}, {}", SimdAddr(rn, post))
            }
            Insn::SimdLoadStoreLane {
                load,
                selem,
                size,
                index,
                rt,
                rn,
                post,
            } => {
                let m = if load { "ld" } else { "st" };
                let list = VList {
                    first: rt,
                    count: selem,
                    suffix: ["b", "h", "s", "d"][(size & 3) as usize],
                };
                write!(f, "{m}{selem} {list}[{index}], {}", SimdAddr(rn, post))
            }
            Insn::SimdLoadReplicate {
                selem,
                arr,
                rt,
                rn,
                post,
            } => {
                let list = VList {
                    first: rt,
                    count: selem,
                    suffix: arr.name(),
                };
                write!(f, "ld{selem}r {list}, {}", SimdAddr(rn, post))
            }
            Insn::FpMovGeneral {
                to_fp,
                is64,
                size,
                top,
                gpr,
                vreg,
            } => {
                let g = R(gpr, is64);
                let v = FpOrTop(size, vreg, top);
                if to_fp {
                    write!(f, "fmov {v}, {g}")
                } else {
                    write!(f, "fmov {g}, {v}")
                }
            }
            Insn::FpToInt {
                rounding,
                unsigned,
                is64,
                ftype,
                rd,
                rn,
                fbits,
            } => {
                let u = if unsigned { 'u' } else { 's' };
                write!(
                    f,
                    "fcvt{}{u} {}, {}",
                    rounding.letter(),
                    R(rd, is64),
                    Sc(ftype, rn)
                )?;
                Fbits(fbits).fmt(f)
            }
            Insn::IntToFp {
                unsigned,
                is64,
                ftype,
                rd,
                rn,
                fbits,
            } => {
                let u = if unsigned { 'u' } else { 's' };
                write!(f, "{u}cvtf {}, {}", Sc(ftype, rd), R(rn, is64))?;
                Fbits(fbits).fmt(f)
            }
            Insn::FpUnary { op, ftype, rd, rn } => {
                let m = match op {
                    FpUnaryOp::Mov => "fmov",
                    FpUnaryOp::Abs => "fabs",
                    FpUnaryOp::Neg => "fneg",
                    FpUnaryOp::Sqrt => "fsqrt",
                    FpUnaryOp::Round(r) => {
                        return write!(
                            f,
                            "frint{} {}, {}",
                            r.letter(),
                            Sc(ftype, rd),
                            Sc(ftype, rn)
                        )
                    }
                };
                write!(f, "{m} {}, {}", Sc(ftype, rd), Sc(ftype, rn))
            }
            Insn::FpConvert { from, to, rd, rn } => {
                write!(f, "fcvt {}, {}", Sc(to, rd), Sc(from, rn))
            }
            Insn::FpBinary {
                op,
                ftype,
                rd,
                rn,
                rm,
            } => {
                let m = match op {
                    FpBinOp::Mul => "fmul",
                    FpBinOp::Div => "fdiv",
                    FpBinOp::Add => "fadd",
                    FpBinOp::Sub => "fsub",
                    FpBinOp::Max => "fmax",
                    FpBinOp::Min => "fmin",
                    FpBinOp::MaxNm => "fmaxnm",
                    FpBinOp::MinNm => "fminnm",
                    FpBinOp::NMul => "fnmul",
                };
                write!(
                    f,
                    "{m} {}, {}, {}",
                    Sc(ftype, rd),
                    Sc(ftype, rn),
                    Sc(ftype, rm)
                )
            }
            Insn::FpMulAdd {
                op,
                ftype,
                rd,
                rn,
                rm,
                ra,
            } => {
                let m = match op {
                    FpMaddOp::Madd => "fmadd",
                    FpMaddOp::Msub => "fmsub",
                    FpMaddOp::NMadd => "fnmadd",
                    FpMaddOp::NMsub => "fnmsub",
                };
                write!(
                    f,
                    "{m} {}, {}, {}, {}",
                    Sc(ftype, rd),
                    Sc(ftype, rn),
                    Sc(ftype, rm),
                    Sc(ftype, ra)
                )
            }
            Insn::FpCompare {
                signaling,
                ftype,
                rn,
                rm,
            } => {
                let m = if signaling { "fcmpe" } else { "fcmp" };
                match rm {
                    Some(rm) => write!(f, "{m} {}, {}", Sc(ftype, rn), Sc(ftype, rm)),
                    None => write!(f, "{m} {}, #0.0", Sc(ftype, rn)),
                }
            }
            Insn::FpCondCompare {
                signaling,
                ftype,
                rn,
                rm,
                nzcv,
                cond,
            } => {
                let m = if signaling { "fccmpe" } else { "fccmp" };
                write!(
                    f,
                    "{m} {}, {}, #{nzcv:#x}, {cond}",
                    Sc(ftype, rn),
                    Sc(ftype, rm)
                )
            }
            Insn::FpCondSelect {
                ftype,
                rd,
                rn,
                rm,
                cond,
            } => write!(
                f,
                "fcsel {}, {}, {}, {cond}",
                Sc(ftype, rd),
                Sc(ftype, rn),
                Sc(ftype, rm)
            ),
            Insn::FpMovImm { ftype, rd, imm8 } => {
                write!(
                    f,
                    "fmov {}, #{}",
                    Sc(ftype, rd),
                    CFloat(fp_imm8_to_f64(imm8))
                )
            }
            Insn::SimdThreeSame {
                op,
                arr,
                rd,
                rn,
                rm,
            } => {
                if op == SimdOp::Orr && rn == rm {
                    return write!(f, "mov {}, {}", Va(rd, arr), Va(rn, arr));
                }
                write!(
                    f,
                    "{} {}, {}, {}",
                    op.name(),
                    Va(rd, arr),
                    Va(rn, arr),
                    Va(rm, arr)
                )
            }
            Insn::SimdScalarThreeSame {
                op,
                size,
                rd,
                rn,
                rm,
            } => write!(
                f,
                "{} {}, {}, {}",
                op.name(),
                V(size, rd),
                V(size, rn),
                V(size, rm)
            ),
            Insn::SimdThreeDiff {
                op,
                arr,
                rd,
                rn,
                rm,
            } => {
                let (w, n) = (Wide(arr).arr_name(), arr.name());
                let (d, n, m) = match op {
                    SimdOp::Saddw | SimdOp::Ssubw | SimdOp::Uaddw | SimdOp::Usubw => (w, w, n),
                    SimdOp::Addhn | SimdOp::Subhn | SimdOp::Raddhn | SimdOp::Rsubhn => (n, w, w),
                    _ => (w, n, n),
                };
                let (d, n, m) = (Va(rd, d), Va(rn, n), Va(rm, m));
                write!(f, "{}{} {d}, {n}, {m}", op.name(), Two(arr.q))
            }
            Insn::SimdScalarThreeDiff {
                op,
                size,
                rd,
                rn,
                rm,
            } => write!(
                f,
                "{} {}, {}, {}",
                op.name(),
                V(size + 1, rd),
                V(size, rn),
                V(size, rm)
            ),
            Insn::SimdTwoReg { op, arr, rd, rn } => {
                let m = op.name();
                let half = |a: Arrangement| Arrangement {
                    size: a.size.saturating_sub(1),
                    q: a.q,
                };
                let full = |a: Arrangement| Arrangement {
                    size: a.size,
                    q: true,
                };
                let up = |a: Arrangement| Arrangement {
                    size: a.size + 1,
                    q: a.q,
                };
                match op {
                    SimdOp::Not => write!(f, "mvn {}, {}", Va(rd, arr), Va(rn, arr)),
                    SimdOp::Saddlp | SimdOp::Uaddlp | SimdOp::Sadalp | SimdOp::Uadalp => {
                        write!(f, "{m} {}, {}", Va(rd, up(arr)), Va(rn, arr))
                    }
                    SimdOp::Xtn | SimdOp::Sqxtn | SimdOp::Sqxtun | SimdOp::Uqxtn => write!(
                        f,
                        "{m}{} {}, {}",
                        Two(arr.q),
                        Va(rd, arr),
                        Va(rn, Wide(arr))
                    ),
                    SimdOp::Fcvtn | SimdOp::Fcvtxn => write!(
                        f,
                        "{m}{} {}, {}",
                        Two(arr.q),
                        Va(rd, half(arr)),
                        Va(rn, full(arr))
                    ),
                    SimdOp::Fcvtl => write!(
                        f,
                        "{m}{} {}, {}",
                        Two(arr.q),
                        Va(rd, full(arr)),
                        Va(rn, half(arr))
                    ),
                    SimdOp::Shll => write!(
                        f,
                        "{m}{} {}, {}, #{}",
                        Two(arr.q),
                        Va(rd, Wide(arr)),
                        Va(rn, arr),
                        8u32 << arr.size
                    ),
                    _ => write!(f, "{m} {}, {}{}", Va(rd, arr), Va(rn, arr), ZeroOperand(op)),
                }
            }
            Insn::SimdScalarTwoReg { op, size, rd, rn } => {
                let m = op.name();
                match op {
                    SimdOp::Sqxtn | SimdOp::Sqxtun | SimdOp::Uqxtn => {
                        write!(f, "{m} {}, {}", V(size, rd), V(size + 1, rn))
                    }
                    SimdOp::Fcvtxn => write!(f, "{m} {}, {}", V(size - 1, rd), V(size, rn)),
                    _ => write!(f, "{m} {}, {}{}", V(size, rd), V(size, rn), ZeroOperand(op)),
                }
            }
            Insn::SimdAcross { op, arr, rd, rn } => {
                let dsize = match op {
                    SimdOp::Saddlv | SimdOp::Uaddlv => arr.size + 1,
                    _ => arr.size,
                };
                write!(f, "{} {}, {}", op.name(), V(dsize, rd), Va(rn, arr))
            }
            Insn::SimdScalarPairwise { op, size, rd, rn } => {
                let pair = ["2b", "2h", "2s", "2d"][(size & 3) as usize];
                write!(f, "{} {}, v{rn}.{pair}", op.name(), V(size, rd))
            }
            Insn::SimdShiftImm {
                op,
                arr,
                rd,
                rn,
                shift,
            } => {
                let m = op.name();
                match op {
                    SimdOp::Shrn
                    | SimdOp::Rshrn
                    | SimdOp::Sqshrn
                    | SimdOp::Sqrshrn
                    | SimdOp::Sqshrun
                    | SimdOp::Sqrshrun
                    | SimdOp::Uqshrn
                    | SimdOp::Uqrshrn => write!(
                        f,
                        "{m}{} {}, {}, #{shift}",
                        Two(arr.q),
                        Va(rd, arr),
                        Va(rn, Wide(arr))
                    ),
                    SimdOp::Sshll | SimdOp::Ushll if shift == 0 => {
                        let x = if op == SimdOp::Sshll { "sxtl" } else { "uxtl" };
                        write!(
                            f,
                            "{x}{} {}, {}",
                            Two(arr.q),
                            Va(rd, Wide(arr)),
                            Va(rn, arr)
                        )
                    }
                    SimdOp::Sshll | SimdOp::Ushll => write!(
                        f,
                        "{m}{} {}, {}, #{shift}",
                        Two(arr.q),
                        Va(rd, Wide(arr)),
                        Va(rn, arr)
                    ),
                    _ => write!(f, "{m} {}, {}, #{shift}", Va(rd, arr), Va(rn, arr)),
                }
            }
            Insn::SimdScalarShiftImm {
                op,
                size,
                rd,
                rn,
                shift,
            } => {
                let narrow = matches!(
                    op,
                    SimdOp::Sqshrn
                        | SimdOp::Sqrshrn
                        | SimdOp::Sqshrun
                        | SimdOp::Sqrshrun
                        | SimdOp::Uqshrn
                        | SimdOp::Uqrshrn
                );
                let ns = if narrow { size + 1 } else { size };
                write!(f, "{} {}, {}, #{shift}", op.name(), V(size, rd), V(ns, rn))
            }
            Insn::SimdByElement {
                op,
                arr,
                rd,
                rn,
                rm,
                index,
            } => {
                let e = Elem(rm, arr.size, index);
                if long_by_element(op) {
                    write!(
                        f,
                        "{}{} {}, {}, {e}",
                        op.name(),
                        Two(arr.q),
                        Va(rd, Wide(arr)),
                        Va(rn, arr)
                    )
                } else {
                    write!(f, "{} {}, {}, {e}", op.name(), Va(rd, arr), Va(rn, arr))
                }
            }
            Insn::SimdScalarByElement {
                op,
                size,
                rd,
                rn,
                rm,
                index,
            } => {
                let ds = if long_by_element(op) { size + 1 } else { size };
                write!(
                    f,
                    "{} {}, {}, {}",
                    op.name(),
                    V(ds, rd),
                    V(size, rn),
                    Elem(rm, size, index)
                )
            }
            Insn::SimdPermute {
                op,
                arr,
                rd,
                rn,
                rm,
            } => write!(
                f,
                "{} {}, {}, {}",
                op.name(),
                Va(rd, arr),
                Va(rn, arr),
                Va(rm, arr)
            ),
            Insn::SimdExt {
                q,
                rd,
                rn,
                rm,
                index,
            } => {
                let a = Arrangement { size: 0, q };
                write!(
                    f,
                    "ext {}, {}, {}, #{index}",
                    Va(rd, a),
                    Va(rn, a),
                    Va(rm, a)
                )
            }
            Insn::SimdTable {
                tbx,
                q,
                len,
                rd,
                rn,
                rm,
            } => {
                let a = Arrangement { size: 0, q };
                let list = VList {
                    first: rn,
                    count: len,
                    suffix: "16b",
                };
                let m = if tbx { "tbx" } else { "tbl" };
                write!(f, "{m} {}, {list}, {}", Va(rd, a), Va(rm, a))
            }
            Insn::SimdDupElement { arr, rd, rn, index } => {
                write!(f, "dup {}, {}", Va(rd, arr), Elem(rn, arr.size, index))
            }
            Insn::SimdDupScalar {
                size,
                rd,
                rn,
                index,
            } => write!(f, "mov {}, {}", V(size, rd), Elem(rn, size, index)),
            Insn::SimdDupGeneral { arr, rd, rn } => {
                write!(f, "dup {}, {}", Va(rd, arr), R(rn, arr.size == 3))
            }
            Insn::SimdInsGeneral {
                size,
                rd,
                index,
                rn,
            } => write!(f, "mov {}, {}", Elem(rd, size, index), R(rn, size == 3)),
            Insn::SimdInsElement {
                size,
                rd,
                index,
                rn,
                src_index,
            } => write!(
                f,
                "mov {}, {}",
                Elem(rd, size, index),
                Elem(rn, size, src_index)
            ),
            Insn::SimdMovToGeneral {
                signed,
                is64,
                size,
                rd,
                rn,
                index,
            } => {
                let m = match (signed, size) {
                    (true, _) => "smov",
                    (false, 2 | 3) => "mov",
                    (false, _) => "umov",
                };
                write!(f, "{m} {}, {}", R(rd, is64), Elem(rn, size, index))
            }
            Insn::SimdModImm {
                op,
                arr,
                imm,
                imm8,
                shift,
                msl,
                rd,
            } => {
                let m = match op {
                    ModImmOp::Movi => "movi",
                    ModImmOp::Mvni => "mvni",
                    ModImmOp::Orr => "orr",
                    ModImmOp::Bic => "bic",
                    ModImmOp::Fmov => {
                        return write!(f, "fmov {}, #{}", Va(rd, arr), CFloat(fp_imm8_to_f64(imm8)))
                    }
                };
                if arr.size == 3 {
                    return if arr.q {
                        write!(f, "{m} {}, #{imm:#x}", Va(rd, arr))
                    } else {
                        write!(f, "{m} {}, #{imm:#x}", V(3, rd))
                    };
                }
                write!(f, "{m} {}, #{imm8:#x}", Va(rd, arr))?;
                if msl {
                    write!(f, ", msl #{shift}")
                } else if shift != 0 {
                    write!(f, ", lsl #{shift}")
                } else {
                    Ok(())
                }
            }
            Insn::CryptoAes { op, rd, rn } => {
                let a = Arrangement { size: 0, q: true };
                write!(f, "{} {}, {}", op.name(), Va(rd, a), Va(rn, a))
            }
            Insn::CryptoSha3 { op, rd, rn, rm } => {
                let s4 = Arrangement { size: 2, q: true };
                match op {
                    SimdOp::Sha1c | SimdOp::Sha1p | SimdOp::Sha1m => {
                        write!(
                            f,
                            "{} {}, {}, {}",
                            op.name(),
                            V(4, rd),
                            V(2, rn),
                            Va(rm, s4)
                        )
                    }
                    SimdOp::Sha256h | SimdOp::Sha256h2 => {
                        write!(
                            f,
                            "{} {}, {}, {}",
                            op.name(),
                            V(4, rd),
                            V(4, rn),
                            Va(rm, s4)
                        )
                    }
                    _ => write!(
                        f,
                        "{} {}, {}, {}",
                        op.name(),
                        Va(rd, s4),
                        Va(rn, s4),
                        Va(rm, s4)
                    ),
                }
            }
            Insn::CryptoSha2 { op, rd, rn } => {
                if op == SimdOp::Sha1h {
                    return write!(f, "sha1h {}, {}", V(2, rd), V(2, rn));
                }
                let s4 = Arrangement { size: 2, q: true };
                write!(f, "{} {}, {}", op.name(), Va(rd, s4), Va(rn, s4))
            }
            // Not an FP/SIMD instruction: the caller never sends these here.
            _ => f.write_str("?"),
        }
    }
}
