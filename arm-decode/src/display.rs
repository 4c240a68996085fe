//! GNU objdump-style disassembly of [`Insn`] (preferred aliases, lower case).

use crate::bitmask::value_prefers_move_wide;
use crate::insn::*;
use std::fmt::{self, Display, Formatter};

mod fp;

/// A register name at a given width.
struct R(Reg, bool);

impl Display for R {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let R(r, is64) = *self;
        match (r.kind(), is64) {
            (RegKind::Sp, true) => f.write_str("sp"),
            (RegKind::Sp, false) => f.write_str("wsp"),
            (RegKind::Zr, true) => f.write_str("xzr"),
            (RegKind::Zr, false) => f.write_str("wzr"),
            (RegKind::Gpr(n), true) => write!(f, "x{n}"),
            (RegKind::Gpr(n), false) => write!(f, "w{n}"),
        }
    }
}

impl Display for Cond {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Display for Shift {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Shift::Lsl => "lsl",
            Shift::Lsr => "lsr",
            Shift::Asr => "asr",
            Shift::Ror => "ror",
        })
    }
}

impl Display for Extend {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Extend::Uxtb => "uxtb",
            Extend::Uxth => "uxth",
            Extend::Uxtw => "uxtw",
            Extend::Uxtx => "uxtx",
            Extend::Sxtb => "sxtb",
            Extend::Sxth => "sxth",
            Extend::Sxtw => "sxtw",
            Extend::Sxtx => "sxtx",
        })
    }
}

/// An instruction together with (optionally) its address, so PC-relative
/// targets can print as absolute addresses like objdump does.
pub struct Disasm<'a> {
    insn: &'a Insn,
    pc: Option<u64>,
}

impl Insn {
    /// Display with branch/literal targets as absolute hex addresses (objdump
    /// style, without the `<symbol>` part).
    pub fn display_at(&self, pc: u64) -> Disasm<'_> {
        Disasm {
            insn: self,
            pc: Some(pc),
        }
    }
}

impl Display for Insn {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        Disasm {
            insn: self,
            pc: None,
        }
        .fmt(f)
    }
}

/// A signed immediate as `#0x..`/`#-0x..`.
struct SHex(i64);

impl Display for SHex {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            write!(f, "#-{:#x}", self.0.unsigned_abs())
        } else {
            write!(f, "#{:#x}", self.0)
        }
    }
}

/// Optional `, <shift> #n` suffix; LSL #0 is omitted.
struct ShiftSuffix(Shift, u8);

impl Display for ShiftSuffix {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.0 == Shift::Lsl && self.1 == 0 {
            Ok(())
        } else {
            write!(f, ", {} #{}", self.0, self.1)
        }
    }
}

/// Memory operand for the non-literal addressing modes.
struct Mem(AddrMode);

impl Display for Mem {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self.0 {
            AddrMode::Offset { rn, imm: 0 } => write!(f, "[{}]", R(rn, true)),
            AddrMode::Offset { rn, imm } => write!(f, "[{}, #{imm}]", R(rn, true)),
            AddrMode::PreIndex { rn, imm } => write!(f, "[{}, #{imm}]!", R(rn, true)),
            AddrMode::PostIndex { rn, imm } => write!(f, "[{}], #{imm}", R(rn, true)),
            AddrMode::Reg {
                rn,
                rm,
                extend,
                shift,
                s,
            } => {
                write!(f, "[{}, {}", R(rn, true), R(rm, extend.source_is64()))?;
                match (extend, s) {
                    (Extend::Uxtx, false) => {}
                    (Extend::Uxtx, true) => write!(f, ", lsl #{shift}")?,
                    (e, false) => write!(f, ", {e}")?,
                    (e, true) => write!(f, ", {e} #{shift}")?,
                }
                f.write_str("]")
            }
            // Callers print literals through `Disasm::target`.
            AddrMode::Literal { offset } => write!(f, "{}", SHex(offset)),
        }
    }
}

fn hint_name(n: u8) -> Option<&'static str> {
    Some(match n {
        0 => "nop",
        1 => "yield",
        2 => "wfe",
        3 => "wfi",
        4 => "sev",
        5 => "sevl",
        7 => "xpaclri",
        8 => "pacia1716",
        10 => "pacib1716",
        12 => "autia1716",
        14 => "autib1716",
        16 => "esb",
        17 => "psb\u{20}csync",
        18 => "tsb\u{20}csync",
        20 => "csdb",
        22 => "clearbhb",
        24 => "paciaz",
        25 => "paciasp",
        26 => "pacibz",
        27 => "pacibsp",
        28 => "autiaz",
        29 => "autiasp",
        30 => "autibz",
        31 => "autibsp",
        32 => "bti",
        34 => "bti c",
        36 => "bti j",
        38 => "bti jc",
        _ => return None,
    })
}

/// Mnemonic ordering suffix by (acquire, release).
const ORDERING: [&str; 4] = ["", "l", "a", "al"];

fn barrier_option(o: u8) -> Option<&'static str> {
    Some(match o {
        1 => "oshld",
        2 => "oshst",
        3 => "osh",
        5 => "nshld",
        6 => "nshst",
        7 => "nsh",
        9 => "ishld",
        10 => "ishst",
        11 => "ish",
        13 => "ld",
        14 => "st",
        15 => "sy",
        _ => return None,
    })
}

/// (op1, CRn, CRm, op2) of a SYS instruction.
type SysKey = (u8, u8, u8, u8);

/// Named SYS operations: key -> (mnemonic, operation, takes Xt).
const SYS_OPS: &[(SysKey, &str, &str, bool)] = &[
    ((0, 7, 1, 0), "ic", "ialluis", false),
    ((0, 7, 5, 0), "ic", "iallu", false),
    ((3, 7, 5, 1), "ic", "ivau", true),
    ((0, 7, 6, 1), "dc", "ivac", true),
    ((0, 7, 6, 2), "dc", "isw", true),
    ((0, 7, 10, 2), "dc", "csw", true),
    ((0, 7, 14, 2), "dc", "cisw", true),
    ((3, 7, 4, 1), "dc", "zva", true),
    ((3, 7, 10, 1), "dc", "cvac", true),
    ((3, 7, 11, 1), "dc", "cvau", true),
    ((3, 7, 12, 1), "dc", "cvap", true),
    ((3, 7, 14, 1), "dc", "civac", true),
    ((0, 7, 8, 0), "at", "s1e1r", true),
    ((0, 7, 8, 1), "at", "s1e1w", true),
    ((0, 7, 8, 2), "at", "s1e0r", true),
    ((0, 7, 8, 3), "at", "s1e0w", true),
    ((0, 8, 3, 0), "tlbi", "vmalle1is", false),
    ((0, 8, 3, 1), "tlbi", "vae1is", true),
    ((0, 8, 3, 2), "tlbi", "aside1is", true),
    ((0, 8, 3, 3), "tlbi", "vaae1is", true),
    ((0, 8, 3, 5), "tlbi", "vale1is", true),
    ((0, 8, 3, 7), "tlbi", "vaale1is", true),
    ((0, 8, 7, 0), "tlbi", "vmalle1", false),
    ((0, 8, 7, 1), "tlbi", "vae1", true),
    ((0, 8, 7, 2), "tlbi", "aside1", true),
    ((0, 8, 7, 3), "tlbi", "vaae1", true),
    ((0, 8, 7, 5), "tlbi", "vale1", true),
    ((0, 8, 7, 7), "tlbi", "vaale1", true),
];

/// objdump's BFXPreferred: whether SBFM/UBFM reads best as [su]bfx.
fn bfx_preferred(is64: bool, unsigned: bool, imms: u8, immr: u8) -> bool {
    let top = if is64 { 63 } else { 31 };
    if imms < immr || imms == top {
        return false;
    }
    if immr == 0 {
        if !is64 && (imms == 7 || imms == 15) {
            return false;
        }
        if is64 && !unsigned && (imms == 7 || imms == 15 || imms == 31) {
            return false;
        }
    }
    true
}

impl Disasm<'_> {
    /// A PC-relative target: absolute when the address is known.
    fn target(&self, f: &mut Formatter<'_>, offset: i64, page: bool) -> fmt::Result {
        match self.pc {
            Some(pc) => {
                let base = if page { pc & !0xfff } else { pc };
                write!(f, "{:x}", base.wrapping_add(offset as u64))
            }
            None => write!(f, "{}", SHex(offset)),
        }
    }

    fn mem(&self, f: &mut Formatter<'_>, addr: AddrMode) -> fmt::Result {
        match addr {
            AddrMode::Literal { offset } => self.target(f, offset, false),
            a => write!(f, "{}", Mem(a)),
        }
    }
}

impl Display for Disasm<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match *self.insn {
            Insn::AddSubImm {
                is64,
                sub,
                set_flags,
                rd,
                rn,
                imm,
                lsl12,
            } => {
                let (shown, sfx) = if lsl12 {
                    (imm >> 12, ", lsl #12")
                } else {
                    (imm, "")
                };
                if !sub && !set_flags && !lsl12 && imm == 0 && (rd.is_sp() || rn.is_sp()) {
                    return write!(f, "mov {}, {}", R(rd, is64), R(rn, is64));
                }
                if set_flags && rd.is_zr() {
                    let m = if sub { "cmp" } else { "cmn" };
                    return write!(f, "{m} {}, #{shown:#x}{sfx}", R(rn, is64));
                }
                let m = match (sub, set_flags) {
                    (false, false) => "add",
                    (false, true) => "adds",
                    (true, false) => "sub",
                    (true, true) => "subs",
                };
                write!(f, "{m} {}, {}, #{shown:#x}{sfx}", R(rd, is64), R(rn, is64))
            }
            Insn::AddSubShifted {
                is64,
                sub,
                set_flags,
                rd,
                rn,
                rm,
                shift,
                amount,
            } => {
                let sfx = ShiftSuffix(shift, amount);
                if set_flags && rd.is_zr() {
                    let m = if sub { "cmp" } else { "cmn" };
                    return write!(f, "{m} {}, {}{sfx}", R(rn, is64), R(rm, is64));
                }
                if sub && rn.is_zr() {
                    let m = if set_flags { "negs" } else { "neg" };
                    return write!(f, "{m} {}, {}{sfx}", R(rd, is64), R(rm, is64));
                }
                let m = match (sub, set_flags) {
                    (false, false) => "add",
                    (false, true) => "adds",
                    (true, false) => "sub",
                    (true, true) => "subs",
                };
                write!(
                    f,
                    "{m} {}, {}, {}{sfx}",
                    R(rd, is64),
                    R(rn, is64),
                    R(rm, is64)
                )
            }
            Insn::AddSubExtended {
                is64,
                sub,
                set_flags,
                rd,
                rn,
                rm,
                extend,
                amount,
            } => {
                let m = match (sub, set_flags) {
                    (false, false) => "add",
                    (false, true) => "adds",
                    (true, false) => "sub",
                    (true, true) => "subs",
                };
                let rm = R(rm, is64 && extend.source_is64());
                if set_flags && rd.is_zr() {
                    let m = if sub { "cmp" } else { "cmn" };
                    write!(f, "{m} {}, {rm}", R(rn, is64))?;
                } else {
                    write!(f, "{m} {}, {}, {rm}", R(rd, is64), R(rn, is64))?;
                }
                // With SP involved, the "native width" extension reads as LSL.
                let lsl_form = if is64 { Extend::Uxtx } else { Extend::Uxtw };
                if (rd.is_sp() || rn.is_sp()) && extend == lsl_form {
                    if amount != 0 {
                        write!(f, ", lsl #{amount}")?;
                    }
                    Ok(())
                } else if amount == 0 {
                    write!(f, ", {extend}")
                } else {
                    write!(f, ", {extend} #{amount}")
                }
            }
            Insn::LogicalImm {
                is64,
                op,
                rd,
                rn,
                imm,
            } => {
                if op == LogicOp::Orr && rn.is_zr() && !value_prefers_move_wide(is64, imm) {
                    return write!(f, "mov {}, #{imm:#x}", R(rd, is64));
                }
                if op == LogicOp::Ands && rd.is_zr() {
                    return write!(f, "tst {}, #{imm:#x}", R(rn, is64));
                }
                let m = match op {
                    LogicOp::And => "and",
                    LogicOp::Orr => "orr",
                    LogicOp::Eor => "eor",
                    LogicOp::Ands => "ands",
                };
                write!(f, "{m} {}, {}, #{imm:#x}", R(rd, is64), R(rn, is64))
            }
            Insn::LogicalShifted {
                is64,
                op,
                invert,
                rd,
                rn,
                rm,
                shift,
                amount,
            } => {
                let sfx = ShiftSuffix(shift, amount);
                if op == LogicOp::Orr && rn.is_zr() {
                    if invert {
                        return write!(f, "mvn {}, {}{sfx}", R(rd, is64), R(rm, is64));
                    }
                    if shift == Shift::Lsl && amount == 0 {
                        return write!(f, "mov {}, {}", R(rd, is64), R(rm, is64));
                    }
                }
                if op == LogicOp::Ands && !invert && rd.is_zr() {
                    return write!(f, "tst {}, {}{sfx}", R(rn, is64), R(rm, is64));
                }
                let m = match (op, invert) {
                    (LogicOp::And, false) => "and",
                    (LogicOp::And, true) => "bic",
                    (LogicOp::Orr, false) => "orr",
                    (LogicOp::Orr, true) => "orn",
                    (LogicOp::Eor, false) => "eor",
                    (LogicOp::Eor, true) => "eon",
                    (LogicOp::Ands, false) => "ands",
                    (LogicOp::Ands, true) => "bics",
                };
                write!(
                    f,
                    "{m} {}, {}, {}{sfx}",
                    R(rd, is64),
                    R(rn, is64),
                    R(rm, is64)
                )
            }
            Insn::MoveWide {
                is64,
                op,
                rd,
                imm16,
                shift,
            } => {
                let wmask = if is64 { u64::MAX } else { 0xffff_ffff };
                let v = ((imm16 as u64) << (shift & 63)) & wmask;
                let shifted_zero = imm16 == 0 && shift != 0;
                match op {
                    MoveWideOp::Z if !shifted_zero => {
                        return write!(f, "mov {}, #{v:#x}", R(rd, is64))
                    }
                    MoveWideOp::N if !shifted_zero && (is64 || imm16 != 0xffff) => {
                        return write!(f, "mov {}, #{:#x}", R(rd, is64), !v & wmask)
                    }
                    _ => {}
                }
                let m = match op {
                    MoveWideOp::N => "movn",
                    MoveWideOp::Z => "movz",
                    MoveWideOp::K => "movk",
                };
                write!(f, "{m} {}, #{imm16:#x}", R(rd, is64))?;
                if shift != 0 {
                    write!(f, ", lsl #{shift}")?;
                }
                Ok(())
            }
            Insn::Adr { rd, page, offset } => {
                write!(f, "{} {}, ", if page { "adrp" } else { "adr" }, R(rd, true))?;
                self.target(f, offset, page)
            }
            Insn::Bitfield {
                is64,
                op,
                rd,
                rn,
                immr,
                imms,
            } => {
                let top: u8 = if is64 { 63 } else { 31 };
                let width = top + 1;
                let (d, n) = (R(rd, is64), R(rn, is64));
                let nw = R(rn, false);
                match op {
                    BitfieldOp::Sbfm => {
                        if imms == top {
                            write!(f, "asr {d}, {n}, #{immr}")
                        } else if imms < immr {
                            write!(
                                f,
                                "sbfiz {d}, {n}, #{}, #{}",
                                width.wrapping_sub(immr),
                                imms.wrapping_add(1)
                            )
                        } else if bfx_preferred(is64, false, imms, immr) {
                            write!(
                                f,
                                "sbfx {d}, {n}, #{immr}, #{}",
                                imms.wrapping_sub(immr).wrapping_add(1)
                            )
                        } else if immr == 0 && imms == 7 {
                            write!(f, "sxtb {d}, {nw}")
                        } else if immr == 0 && imms == 15 {
                            write!(f, "sxth {d}, {nw}")
                        } else if immr == 0 && imms == 31 {
                            write!(f, "sxtw {d}, {nw}")
                        } else {
                            write!(f, "sbfm {d}, {n}, #{immr}, #{imms}")
                        }
                    }
                    BitfieldOp::Ubfm => {
                        if imms != top && imms.wrapping_add(1) == immr {
                            write!(f, "lsl {d}, {n}, #{}", top.wrapping_sub(imms))
                        } else if imms == top {
                            write!(f, "lsr {d}, {n}, #{immr}")
                        } else if imms < immr {
                            write!(
                                f,
                                "ubfiz {d}, {n}, #{}, #{}",
                                width.wrapping_sub(immr),
                                imms.wrapping_add(1)
                            )
                        } else if bfx_preferred(is64, true, imms, immr) {
                            write!(
                                f,
                                "ubfx {d}, {n}, #{immr}, #{}",
                                imms.wrapping_sub(immr).wrapping_add(1)
                            )
                        } else if immr == 0 && imms == 7 {
                            write!(f, "uxtb {d}, {nw}")
                        } else if immr == 0 && imms == 15 {
                            write!(f, "uxth {d}, {nw}")
                        } else {
                            write!(f, "ubfm {d}, {n}, #{immr}, #{imms}")
                        }
                    }
                    BitfieldOp::Bfm => {
                        if imms < immr {
                            if rn.is_zr() {
                                write!(
                                    f,
                                    "bfc {d}, #{}, #{}",
                                    width.wrapping_sub(immr),
                                    imms.wrapping_add(1)
                                )
                            } else {
                                write!(
                                    f,
                                    "bfi {d}, {n}, #{}, #{}",
                                    width.wrapping_sub(immr),
                                    imms.wrapping_add(1)
                                )
                            }
                        } else {
                            write!(
                                f,
                                "bfxil {d}, {n}, #{immr}, #{}",
                                imms.wrapping_sub(immr).wrapping_add(1)
                            )
                        }
                    }
                }
            }
            Insn::Extr {
                is64,
                rd,
                rn,
                rm,
                lsb,
            } => {
                if rn == rm {
                    write!(f, "ror {}, {}, #{lsb}", R(rd, is64), R(rn, is64))
                } else {
                    write!(
                        f,
                        "extr {}, {}, {}, #{lsb}",
                        R(rd, is64),
                        R(rn, is64),
                        R(rm, is64)
                    )
                }
            }
            Insn::AddSubCarry {
                is64,
                sub,
                set_flags,
                rd,
                rn,
                rm,
            } => {
                if sub && rn.is_zr() {
                    let m = if set_flags { "ngcs" } else { "ngc" };
                    return write!(f, "{m} {}, {}", R(rd, is64), R(rm, is64));
                }
                let m = match (sub, set_flags) {
                    (false, false) => "adc",
                    (false, true) => "adcs",
                    (true, false) => "sbc",
                    (true, true) => "sbcs",
                };
                write!(f, "{m} {}, {}, {}", R(rd, is64), R(rn, is64), R(rm, is64))
            }
            Insn::CondSelect {
                is64,
                op,
                rd,
                rn,
                rm,
                cond,
            } => {
                let (d, n, m) = (R(rd, is64), R(rn, is64), R(rm, is64));
                let aliasable = rn == rm && (cond as u8) < 14;
                let inv = cond.invert();
                match op {
                    CondSelOp::Csinc if aliasable && rn.is_zr() => write!(f, "cset {d}, {inv}"),
                    CondSelOp::Csinc if aliasable => write!(f, "cinc {d}, {n}, {inv}"),
                    CondSelOp::Csinv if aliasable && rn.is_zr() => write!(f, "csetm {d}, {inv}"),
                    CondSelOp::Csinv if aliasable => write!(f, "cinv {d}, {n}, {inv}"),
                    CondSelOp::Csneg if aliasable => write!(f, "cneg {d}, {n}, {inv}"),
                    _ => {
                        let mn = match op {
                            CondSelOp::Csel => "csel",
                            CondSelOp::Csinc => "csinc",
                            CondSelOp::Csinv => "csinv",
                            CondSelOp::Csneg => "csneg",
                        };
                        write!(f, "{mn} {d}, {n}, {m}, {cond}")
                    }
                }
            }
            Insn::CondCompare {
                is64,
                sub,
                rn,
                operand,
                nzcv,
                cond,
            } => {
                write!(f, "{} {}, ", if sub { "ccmp" } else { "ccmn" }, R(rn, is64))?;
                match operand {
                    CcmpOperand::Reg(rm) => write!(f, "{}", R(rm, is64))?,
                    CcmpOperand::Imm(i) => write!(f, "#{i:#x}")?,
                }
                write!(f, ", #{nzcv:#x}, {cond}")
            }
            Insn::DataProc3 {
                is64,
                op,
                sub,
                rd,
                rn,
                rm,
                ra,
            } => {
                let (long, names) = match op {
                    DataProc3Op::Madd => (false, ["madd", "msub", "mul", "mneg"]),
                    DataProc3Op::Smaddl => (true, ["smaddl", "smsubl", "smull", "smnegl"]),
                    DataProc3Op::Umaddl => (true, ["umaddl", "umsubl", "umull", "umnegl"]),
                    DataProc3Op::Smulh | DataProc3Op::Umulh => {
                        let m = if op == DataProc3Op::Smulh {
                            "smulh"
                        } else {
                            "umulh"
                        };
                        return write!(f, "{m} {}, {}, {}", R(rd, true), R(rn, true), R(rm, true));
                    }
                };
                let sw = if long { false } else { is64 };
                let (d, n, m) = (R(rd, is64), R(rn, sw), R(rm, sw));
                if ra.is_zr() {
                    write!(f, "{} {d}, {n}, {m}", names[2 + sub as usize])
                } else {
                    write!(f, "{} {d}, {n}, {m}, {}", names[sub as usize], R(ra, is64))
                }
            }
            Insn::DataProc2 {
                is64,
                op,
                rd,
                rn,
                rm,
            } => {
                let m = match op {
                    DataProc2Op::Udiv => "udiv",
                    DataProc2Op::Sdiv => "sdiv",
                    DataProc2Op::Lslv => "lsl",
                    DataProc2Op::Lsrv => "lsr",
                    DataProc2Op::Asrv => "asr",
                    DataProc2Op::Rorv => "ror",
                    DataProc2Op::Crc32 { c, size } => {
                        let sfx = ["b", "h", "w", "x"][(size & 3) as usize];
                        let c = if c { "c" } else { "" };
                        return write!(
                            f,
                            "crc32{c}{sfx} {}, {}, {}",
                            R(rd, false),
                            R(rn, false),
                            R(rm, size == 3)
                        );
                    }
                };
                write!(f, "{m} {}, {}, {}", R(rd, is64), R(rn, is64), R(rm, is64))
            }
            Insn::DataProc1 { is64, op, rd, rn } => {
                let m = match op {
                    DataProc1Op::Rbit => "rbit",
                    DataProc1Op::Rev16 => "rev16",
                    DataProc1Op::Rev32 => "rev32",
                    DataProc1Op::Rev => "rev",
                    DataProc1Op::Clz => "clz",
                    DataProc1Op::Cls => "cls",
                };
                write!(f, "{m} {}, {}", R(rd, is64), R(rn, is64))
            }
            Insn::Branch { link, offset } => {
                f.write_str(if link { "bl " } else { "b " })?;
                self.target(f, offset, false)
            }
            Insn::BranchReg { kind, rn } => match kind {
                BranchRegKind::Br => write!(f, "br {}", R(rn, true)),
                BranchRegKind::Blr => write!(f, "blr {}", R(rn, true)),
                BranchRegKind::Ret if rn == Reg::LR => f.write_str("ret"),
                BranchRegKind::Ret => write!(f, "ret {}", R(rn, true)),
            },
            Insn::BranchCond { cond, offset } => {
                write!(f, "b.{cond} ")?;
                self.target(f, offset, false)
            }
            Insn::CompareBranch {
                is64,
                nonzero,
                rt,
                offset,
            } => {
                let m = if nonzero { "cbnz" } else { "cbz" };
                write!(f, "{m} {}, ", R(rt, is64))?;
                self.target(f, offset, false)
            }
            Insn::TestBranch {
                nonzero,
                rt,
                bit,
                offset,
            } => {
                let m = if nonzero { "tbnz" } else { "tbz" };
                write!(f, "{m} {}, #{bit}, ", R(rt, bit >= 32))?;
                self.target(f, offset, false)
            }
            Insn::LoadStore {
                op,
                size,
                rt,
                addr,
                form,
            } => {
                let (base, signed, to64) = match op {
                    LsOp::Store => ("st", false, size == 3),
                    LsOp::Load => ("ld", false, size == 3),
                    LsOp::LoadSigned(w) => ("ld", true, w == Width::X),
                };
                let fm = match form {
                    LsForm::Normal => "r",
                    LsForm::Unscaled => "ur",
                    LsForm::Unprivileged => "tr",
                };
                let s = if signed { "s" } else { "" };
                let sz = match (size, signed) {
                    (0, _) => "b",
                    (1, _) => "h",
                    (2, true) => "w",
                    _ => "",
                };
                write!(f, "{base}{fm}{s}{sz} {}, ", R(rt, to64))?;
                self.mem(f, addr)
            }
            Insn::Prefetch {
                prfop,
                addr,
                unscaled,
            } => {
                f.write_str(if unscaled { "prfum " } else { "prfm " })?;
                let ty = ["pld", "pli", "pst", ""][(prfop >> 3 & 3) as usize];
                let tg = ["l1", "l2", "l3", ""][(prfop >> 1 & 3) as usize];
                if ty.is_empty() || tg.is_empty() {
                    write!(f, "#0x{prfop:02x}, ")?;
                } else {
                    let pol = if prfop & 1 == 0 { "keep" } else { "strm" };
                    write!(f, "{ty}{tg}{pol}, ")?;
                }
                self.mem(f, addr)
            }
            Insn::LoadStorePair {
                load,
                size,
                signed,
                nontemporal,
                rt,
                rt2,
                addr,
            } => {
                let m = match (load, nontemporal, signed) {
                    (true, _, true) => "ldpsw",
                    (true, true, _) => "ldnp",
                    (true, false, _) => "ldp",
                    (false, true, _) => "stnp",
                    (false, false, _) => "stp",
                };
                let x = size == 3 || signed;
                write!(f, "{m} {}, {}, ", R(rt, x), R(rt2, x))?;
                self.mem(f, addr)
            }
            Insn::Exclusive {
                load,
                acquire_release,
                pair,
                size,
                rs,
                rt,
                rt2,
                rn,
            } => {
                let ordering = match (load, acquire_release) {
                    (_, false) => "",
                    (true, true) => "a",
                    (false, true) => "l",
                };
                let kind = if pair { "p" } else { "r" };
                let sz = match (pair, size) {
                    (false, 0) => "b",
                    (false, 1) => "h",
                    _ => "",
                };
                let x = size == 3;
                if load {
                    write!(f, "ld{ordering}x{kind}{sz} {}, ", R(rt, x))?;
                } else {
                    write!(
                        f,
                        "st{ordering}x{kind}{sz} {}, {}, ",
                        R(rs, false),
                        R(rt, x)
                    )?;
                }
                if pair {
                    write!(f, "{}, ", R(rt2, x))?;
                }
                write!(f, "[{}]", R(rn, true))
            }
            Insn::AcquireRelease { load, size, rt, rn } => {
                let sz = ["b", "h", "", ""][(size & 3) as usize];
                let m = if load { "ldar" } else { "stlr" };
                write!(f, "{m}{sz} {}, [{}]", R(rt, size == 3), R(rn, true))
            }
            Insn::AtomicMem {
                op,
                size,
                acquire,
                release,
                rs,
                rt,
                rn,
            } => {
                let x = size == 3;
                let sz = ["b", "h", "", ""][(size & 3) as usize];
                let ord = ORDERING[(acquire as usize) << 1 | release as usize];
                if op == AtomicOp::Swp {
                    return write!(
                        f,
                        "swp{ord}{sz} {}, {}, [{}]",
                        R(rs, x),
                        R(rt, x),
                        R(rn, true)
                    );
                }
                let name = op.name();
                if rt.is_zr() && !acquire {
                    // ST<op>: the alias when the old value is discarded.
                    write!(f, "st{name}{ord}{sz} {}, [{}]", R(rs, x), R(rn, true))
                } else {
                    write!(
                        f,
                        "ld{name}{ord}{sz} {}, {}, [{}]",
                        R(rs, x),
                        R(rt, x),
                        R(rn, true)
                    )
                }
            }
            Insn::CompareSwap {
                size,
                acquire,
                release,
                rs,
                rt,
                rn,
            } => {
                let x = size == 3;
                let sz = ["b", "h", "", ""][(size & 3) as usize];
                let ord = ORDERING[(acquire as usize) << 1 | release as usize];
                write!(
                    f,
                    "cas{ord}{sz} {}, {}, [{}]",
                    R(rs, x),
                    R(rt, x),
                    R(rn, true)
                )
            }
            Insn::CompareSwapPair {
                size,
                acquire,
                release,
                rs,
                rs2,
                rt,
                rt2,
                rn,
            } => {
                let x = size == 3;
                let ord = ORDERING[(acquire as usize) << 1 | release as usize];
                write!(
                    f,
                    "casp{ord} {}, {}, {}, {}, [{}]",
                    R(rs, x),
                    R(rs2, x),
                    R(rt, x),
                    R(rt2, x),
                    R(rn, true)
                )
            }
            Insn::LoadAcquirePc { size, rt, rn } => {
                let sz = ["b", "h", "", ""][(size & 3) as usize];
                write!(f, "ldapr{sz} {}, [{}]", R(rt, size == 3), R(rn, true))
            }
            Insn::Clrex { crm } => {
                if crm == 15 {
                    f.write_str("clrex")
                } else {
                    write!(f, "clrex #{crm:#x}")
                }
            }
            Insn::Hint(h) => {
                let n = h.number();
                match hint_name(n) {
                    Some(s) => f.write_str(s),
                    None => write!(f, "hint #{n:#x}"),
                }
            }
            Insn::Barrier { kind, option } => match kind {
                BarrierKind::Dsb if option == 0 => f.write_str("ssbb"),
                BarrierKind::Dsb if option == 4 => f.write_str("pssbb"),
                BarrierKind::Dsb | BarrierKind::Dmb => {
                    let m = if kind == BarrierKind::Dsb {
                        "dsb"
                    } else {
                        "dmb"
                    };
                    match barrier_option(option) {
                        Some(o) => write!(f, "{m} {o}"),
                        None => write!(f, "{m} #0x{option:02x}"),
                    }
                }
                BarrierKind::Isb if option == 15 => f.write_str("isb"),
                BarrierKind::Isb => write!(f, "isb #{option:#x}"),
                BarrierKind::Sb => f.write_str("sb"),
            },
            Insn::Exception { kind, imm16 } => {
                let m = match kind {
                    ExceptionKind::Svc => "svc",
                    ExceptionKind::Hvc => "hvc",
                    ExceptionKind::Smc => "smc",
                    ExceptionKind::Brk => "brk",
                    ExceptionKind::Hlt => "hlt",
                };
                write!(f, "{m} #{imm16:#x}")
            }
            Insn::Mrs { rt, reg } => write!(f, "mrs {}, {reg}", R(rt, true)),
            Insn::Msr { reg, rt } => write!(f, "msr {reg}, {}", R(rt, true)),
            Insn::MsrImm { op1, crm, op2 } => {
                let name = match self.insn.pstate_field() {
                    Some(PstateField::SpSel) => "spsel",
                    Some(PstateField::DaifSet) => "daifset",
                    Some(PstateField::DaifClr) => "daifclr",
                    Some(PstateField::Pan) => "pan",
                    Some(PstateField::Uao) => "uao",
                    None => return write!(f, "msr s0_{op1}_c4_c{crm}_{op2}, xzr"),
                };
                write!(f, "msr {name}, #{crm:#x}")
            }
            Insn::Sys {
                l,
                op1,
                crn,
                crm,
                op2,
                rt,
            } => {
                if l {
                    return write!(f, "sysl {}, #{op1}, C{crn}, C{crm}, #{op2}", R(rt, true));
                }
                if let Some(&(_, m, name, takes_reg)) =
                    SYS_OPS.iter().find(|e| e.0 == (op1, crn, crm, op2))
                {
                    return if takes_reg {
                        write!(f, "{m} {name}, {}", R(rt, true))
                    } else {
                        write!(f, "{m} {name}")
                    };
                }
                write!(f, "sys #{op1}, C{crn}, C{crm}, #{op2}")?;
                if !rt.is_zr() {
                    write!(f, ", {}", R(rt, true))?;
                }
                Ok(())
            }
            Insn::Eret => f.write_str("eret"),
            Insn::FpLoadStore { .. }
            | Insn::FpLoadStorePair { .. }
            | Insn::SimdLoadStoreMulti { .. }
            | Insn::SimdLoadStoreLane { .. }
            | Insn::SimdLoadReplicate { .. }
            | Insn::FpMovGeneral { .. }
            | Insn::FpToInt { .. }
            | Insn::IntToFp { .. }
            | Insn::FpUnary { .. }
            | Insn::FpConvert { .. }
            | Insn::FpBinary { .. }
            | Insn::FpMulAdd { .. }
            | Insn::FpCompare { .. }
            | Insn::FpCondCompare { .. }
            | Insn::FpCondSelect { .. }
            | Insn::FpMovImm { .. }
            | Insn::SimdThreeSame { .. }
            | Insn::SimdScalarThreeSame { .. }
            | Insn::SimdThreeDiff { .. }
            | Insn::SimdScalarThreeDiff { .. }
            | Insn::SimdTwoReg { .. }
            | Insn::SimdScalarTwoReg { .. }
            | Insn::SimdAcross { .. }
            | Insn::SimdScalarPairwise { .. }
            | Insn::SimdShiftImm { .. }
            | Insn::SimdScalarShiftImm { .. }
            | Insn::SimdByElement { .. }
            | Insn::SimdScalarByElement { .. }
            | Insn::SimdPermute { .. }
            | Insn::SimdExt { .. }
            | Insn::SimdTable { .. }
            | Insn::SimdDupElement { .. }
            | Insn::SimdDupScalar { .. }
            | Insn::SimdDupGeneral { .. }
            | Insn::SimdInsGeneral { .. }
            | Insn::SimdInsElement { .. }
            | Insn::SimdMovToGeneral { .. }
            | Insn::SimdModImm { .. }
            | Insn::CryptoAes { .. }
            | Insn::CryptoSha3 { .. }
            | Insn::CryptoSha2 { .. } => self.fmt_fpsimd(f),
            Insn::Unallocated(w) => {
                if w >> 16 == 0 {
                    write!(f, "udf #{}", w & 0xffff)
                } else {
                    write!(f, ".inst {w:#010x} ; undefined")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::decode;

    /// Words and texts produced by GNU as/objdump 2.40 (see tests/objdump.rs
    /// for the automated comparison over a larger corpus).
    const CASES: &[(u32, &str)] = &[
        (0x91004020, "add x0, x1, #0x10"),
        (0x91400420, "add x0, x1, #0x1, lsl #12"),
        (0x9100003f, "mov sp, x1"),
        (0x910003e0, "mov x0, sp"),
        (0xb100103f, "cmn x1, #0x4"),
        (0xf100103f, "cmp x1, #0x4"),
        (0xeb0103e0, "negs x0, x1"),
        (0xeb0103ff, "cmp xzr, x1"),
        (0xcb010fe0, "neg x0, x1, lsl #3"),
        (0x8b820c20, "add x0, x1, x2, asr #3"),
        (0x8b214be0, "add x0, sp, w1, uxtw #2"),
        (0x8b220020, "add x0, x1, w2, uxtb"),
        (0x8b2163ff, "add sp, sp, x1"),
        (0x8b216be0, "add x0, sp, x1, lsl #2"),
        (0x0b2143e0, "add w0, wsp, w1"),
        (0xab2163ff, "cmn sp, x1"),
        (0x92401c20, "and x0, x1, #0xff"),
        (0xb2089fe0, "mov x0, #0xff00ff00ff00ff00"),
        (0xb2403fe0, "orr x0, xzr, #0xffff"),
        (0xf240003f, "tst x1, #0x1"),
        (0xaa0103e0, "mov x0, x1"),
        (0x2a010be0, "orr w0, wzr, w1, lsl #2"),
        (0xaa2103e0, "mvn x0, x1"),
        (0xd2800000, "mov x0, #0x0"),
        (0xd2a00000, "movz x0, #0x0, lsl #16"),
        (0x92800000, "mov x0, #0xffffffffffffffff"),
        (0x12800000, "mov w0, #0xffffffff"),
        (0x129fffe0, "movn w0, #0xffff"),
        (0x92c00020, "mov x0, #0xfffffffeffffffff"),
        (0xf2a24680, "movk x0, #0x1234, lsl #16"),
        (0x9343fc20, "asr x0, x1, #3"),
        (0x93401c20, "sxtb x0, w1"),
        (0x93407c20, "sxtw x0, w1"),
        (0x13003c20, "sxth w0, w1"),
        (0x934a0c20, "sbfiz x0, x1, #54, #4"),
        (0x93432820, "sbfx x0, x1, #3, #8"),
        (0xd37cec20, "lsl x0, x1, #4"),
        (0xd343fc20, "lsr x0, x1, #3"),
        (0x53001c20, "uxtb w0, w1"),
        (0xd3401c20, "ubfx x0, x1, #0, #8"),
        (0xb34a0c20, "bfi x0, x1, #54, #4"),
        (0xb3432820, "bfxil x0, x1, #3, #8"),
        (0xb34a0fe0, "bfc x0, #54, #4"),
        (0x93c10c20, "ror x0, x1, #3"),
        (0x93c20c20, "extr x0, x1, x2, #3"),
        (0xda0103e0, "ngc x0, x1"),
        (0x9a9f07e0, "cset x0, ne"),
        (0x9a810420, "cinc x0, x1, ne"),
        (0xda9f13e0, "csetm x0, eq"),
        (0xda9fb7e0, "cneg x0, xzr, ge"),
        (0x9a81e420, "csinc x0, x1, x1, al"),
        (0xfa411004, "ccmp x0, x1, #0x4, ne"),
        (0x3a5f080f, "ccmn w0, #0x1f, #0xf, eq"),
        (0x9b027c20, "mul x0, x1, x2"),
        (0x9b227c20, "smull x0, w1, w2"),
        (0x9ba2fc20, "umnegl x0, w1, w2"),
        (0x9b427c20, "smulh x0, x1, x2"),
        (0x9ac22020, "lsl x0, x1, x2"),
        (0xdac00c20, "rev x0, x1"),
        (0x5ac00820, "rev w0, w1"),
        (0xdac00820, "rev32 x0, x1"),
        (0x14000002, "b #0x8"),
        (0x97fffffe, "bl #-0x8"),
        (0x54000041, "b.ne #0x8"),
        (0x36180040, "tbz w0, #3, #0x8"),
        (0xb7400040, "tbnz x0, #40, #0x8"),
        (0xd65f03c0, "ret"),
        (0xd65f0020, "ret x1"),
        (0xd69f03e0, "eret"),
        (0xf8408c20, "ldr x0, [x1, #8]!"),
        (0xf8408420, "ldr x0, [x1], #8"),
        (0xf8627820, "ldr x0, [x1, x2, lsl #3]"),
        (0xb862d820, "ldr w0, [x1, w2, sxtw #2]"),
        (0x38627820, "ldrb w0, [x1, x2, lsl #0]"),
        (0x389ffc20, "ldrsb x0, [x1, #-1]!"),
        (0xf85f8020, "ldur x0, [x1, #-8]"),
        (0xf8408820, "ldtr x0, [x1, #8]"),
        (0xf9800020, "prfm pldl1keep, [x1]"),
        (0xf980003f, "prfm #0x1f, [x1]"),
        (0xf8803033, "prfum pstl2strm, [x1, #3]"),
        (0xa9bf7bfd, "stp x29, x30, [sp, #-16]!"),
        (0x69400440, "ldpsw x0, x1, [x2]"),
        (0xc8027c20, "stxr w2, x0, [x1]"),
        (0xc8238440, "stlxp w3, x0, x1, [x2]"),
        (0x089ffc20, "stlrb w0, [x1]"),
        (0xd503335f, "clrex #0x3"),
        (0xd503245f, "bti c"),
        (0xd50330bf, "dmb #0x00"),
        (0xd503309f, "ssbb"),
        (0xd4207d00, "brk #0x3e8"),
        (0xd538f200, "mrs x0, s3_0_c15_c2_0"),
        (0xd50342df, "msr daifset, #0x2"),
        (0xd50b7e20, "dc civac, x0"),
        (0xd508831f, "tlbi vmalle1is"),
        (0xd5287500, "sysl x0, #0, C7, C5, #0"),
        (0xd509127f, "sys #1, C1, C2, #3"),
        (0x00000000, "udf #0"),
        (0x9ac15c00, "crc32cx w0, w0, x1"),
        (0xb8200041, "ldadd w0, w1, [x2]"),
        (0xb820005f, "stadd w0, [x2]"),
        (0xb8a0005f, "ldadda w0, wzr, [x2]"),
        (0xb860005f, "staddl w0, [x2]"),
        (0x38e0005f, "ldaddalb w0, wzr, [x2]"),
        (0xb820805f, "swp w0, wzr, [x2]"),
        (0x782343e4, "ldsmaxh w3, w4, [sp]"),
        (0x08207c82, "casp w0, w1, w2, w3, [x4]"),
        (0x4860ffe2, "caspal x0, x1, x2, x3, [sp]"),
        (0x08e0fc41, "casalb w0, w1, [x2]"),
        (0xc8a07fe1, "cas x0, x1, [sp]"),
        (0x78bfc3e0, "ldaprh w0, [sp]"),
        (0xd50330ff, "sb"),
        (0xd503233f, "paciasp"),
        (0xd503223f, "psb csync"),
        (0xd501405f, "msr s0_1_c4_c0_2, xzr"),
        (0x3dc00420, "ldr q0, [x1, #16]"),
        (0x4cc36000, "ld1 {v0.16b-v2.16b}, [x0], x3"),
        (0x4c402c1e, "ld1 {v30.2d, v31.2d, v0.2d, v1.2d}, [x0]"),
        (0x4d007bff, "st3 {v31.h, v0.h, v1.h}[7], [sp]"),
        (0x1e2e1000, "fmov s0, #1.000000000000000000e+00"),
        (0x1e202008, "fcmp s0, #0.0"),
        (0x9eae0020, "fmov x0, v1.d[1]"),
        (0x1e18f420, "fcvtzs w0, s1, #3"),
        (0x4ea11c20, "mov v0.16b, v1.16b"),
        (0x0ee2e020, "pmull v0.1q, v1.1d, v2.1d"),
        (0x0f08a420, "sxtl v0.8h, v1.8b"),
        (0x0e0c3c20, "mov w0, v1.s[1]"),
        (0x2f05e540, "movi d0, #0xff00ff00ff00ff00"),
        (0x5e020020, "sha1c q0, s1, v2.4s"),
    ];

    #[test]
    fn hand_checked_against_objdump() {
        for &(w, s) in CASES {
            assert_eq!(decode(w).to_string(), s, "{w:#010x}");
        }
    }

    #[test]
    fn later_extensions_stay_unallocated() {
        use crate::Insn;
        for w in [
            0x48217c82u32, // CASP with an odd register
            0x38a1c020,    // LDAPRB with Rs != 31
            0xf8200420,    // LDRAA x0, [x1]
            0xf8a00c20,    // LDRAB x0, [x1, #0]!
            0x889f7c20,    // STLLR w0, [x1] (LOR, not advertised)
            0x88df7c20,    // LDLAR w0, [x1]
            0xdac10020,    // PACIA x0, x1
            0xd61f083f,    // BRAAZ x1
            0xd50331ff,    // op2=7, CRm!=0 (not SB)
        ] {
            assert_eq!(decode(w), Insn::Unallocated(w), "{w:#010x}");
        }
    }

    #[test]
    fn absolute_targets() {
        assert_eq!(decode(0x14000002).display_at(0x130).to_string(), "b 138");
        assert_eq!(
            decode(0x90000000).display_at(0x88).to_string(),
            "adrp x0, 0"
        );
        assert_eq!(
            decode(0x58000040).display_at(0x1a0).to_string(),
            "ldr x0, 1a8"
        );
    }
}
