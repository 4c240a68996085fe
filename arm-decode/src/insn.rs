//! Typed A64 instructions produced by the decoder.

pub use crate::simd_op::SimdOp;
use crate::sysreg::SysReg;

/// A general-purpose register operand with the meaning of encoding 31 resolved.
///
/// The decoder knows, per field, whether register number 31 means the stack
/// pointer or the zero register; it records that here so the translator never
/// has to re-derive it. Values: 0..=30 are X0..X30, [`Reg::ZR`] and [`Reg::SP`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Reg(u8);

/// What a [`Reg`] refers to, for matching.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum RegKind {
    /// X0..X30 (or W0..W30).
    Gpr(u8),
    /// XZR/WZR: reads as zero, writes are discarded.
    Zr,
    /// SP/WSP.
    Sp,
}

impl Reg {
    /// The zero register.
    pub const ZR: Reg = Reg(31);
    /// The stack pointer.
    pub const SP: Reg = Reg(32);
    /// The link register X30.
    pub const LR: Reg = Reg(30);

    /// Field value where 31 means XZR.
    pub const fn zr(n: u32) -> Reg {
        Reg((n & 31) as u8)
    }

    /// Field value where 31 means SP.
    pub const fn sp(n: u32) -> Reg {
        let n = (n & 31) as u8;
        if n == 31 {
            Reg::SP
        } else {
            Reg(n)
        }
    }

    /// Classify for matching.
    pub const fn kind(self) -> RegKind {
        match self.0 {
            31 => RegKind::Zr,
            32 => RegKind::Sp,
            n => RegKind::Gpr(n),
        }
    }

    /// Register number 0..=30, or `None` for ZR/SP.
    pub const fn gpr(self) -> Option<u8> {
        if self.0 < 31 {
            Some(self.0)
        } else {
            None
        }
    }

    /// The 5-bit encoding (31 for both SP and ZR).
    pub const fn encoding(self) -> u8 {
        if self.0 > 31 {
            31
        } else {
            self.0
        }
    }

    pub const fn is_zr(self) -> bool {
        self.0 == 31
    }

    pub const fn is_sp(self) -> bool {
        self.0 == 32
    }
}

/// Operand width of a sign-extending load's destination.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Width {
    W,
    X,
}

/// Condition codes, in encoding order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[repr(u8)]
pub enum Cond {
    Eq = 0,
    Ne,
    Cs,
    Cc,
    Mi,
    Pl,
    Vs,
    Vc,
    Hi,
    Ls,
    Ge,
    Lt,
    Gt,
    Le,
    Al,
    Nv,
}

impl Cond {
    /// From the 4-bit field.
    pub const fn from_bits(b: u32) -> Cond {
        use Cond::*;
        const ALL: [Cond; 16] = [
            Eq, Ne, Cs, Cc, Mi, Pl, Vs, Vc, Hi, Ls, Ge, Lt, Gt, Le, Al, Nv,
        ];
        ALL[(b & 15) as usize]
    }

    pub const fn bits(self) -> u8 {
        self as u8
    }

    /// The condition with the low bit flipped (Al and Nv both mean "always").
    pub const fn invert(self) -> Cond {
        Cond::from_bits(self as u32 ^ 1)
    }

    pub const fn name(self) -> &'static str {
        const N: [&str; 16] = [
            "eq", "ne", "cs", "cc", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
            "al", "nv",
        ];
        N[self as usize]
    }
}

/// Shift applied to a register operand.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Shift {
    Lsl,
    Lsr,
    Asr,
    Ror,
}

impl Shift {
    pub const fn from_bits(b: u32) -> Shift {
        match b & 3 {
            0 => Shift::Lsl,
            1 => Shift::Lsr,
            2 => Shift::Asr,
            _ => Shift::Ror,
        }
    }
}

/// Extension applied to a register operand (extended-register forms and
/// register-offset addressing).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Extend {
    Uxtb,
    Uxth,
    Uxtw,
    Uxtx,
    Sxtb,
    Sxth,
    Sxtw,
    Sxtx,
}

impl Extend {
    pub const fn from_bits(b: u32) -> Extend {
        use self::Extend::*;
        const ALL: [Extend; 8] = [Uxtb, Uxth, Uxtw, Uxtx, Sxtb, Sxth, Sxtw, Sxtx];
        ALL[(b & 7) as usize]
    }

    /// Whether the source register is read as 64 bits (UXTX/SXTX).
    pub const fn source_is64(self) -> bool {
        matches!(self, Extend::Uxtx | Extend::Sxtx)
    }

    pub const fn is_signed(self) -> bool {
        matches!(
            self,
            Extend::Sxtb | Extend::Sxth | Extend::Sxtw | Extend::Sxtx
        )
    }

    /// log2 of the number of source bits kept (0 = 8 bits .. 3 = 64 bits).
    pub const fn source_log2_bytes(self) -> u8 {
        match self {
            Extend::Uxtb | Extend::Sxtb => 0,
            Extend::Uxth | Extend::Sxth => 1,
            Extend::Uxtw | Extend::Sxtw => 2,
            Extend::Uxtx | Extend::Sxtx => 3,
        }
    }
}

/// Bitwise operation of the logical instructions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LogicOp {
    And,
    Orr,
    Eor,
    /// AND that sets NZCV.
    Ands,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum MoveWideOp {
    /// MOVN: `rd = !(imm16 << shift)`.
    N,
    /// MOVZ: `rd = imm16 << shift`.
    Z,
    /// MOVK: insert imm16 at shift, keep other bits.
    K,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BitfieldOp {
    Sbfm,
    Bfm,
    Ubfm,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CondSelOp {
    /// rd = cond ? rn : rm
    Csel,
    /// rd = cond ? rn : rm + 1
    Csinc,
    /// rd = cond ? rn : !rm
    Csinv,
    /// rd = cond ? rn : -rm
    Csneg,
}

/// Second operand of CCMP/CCMN.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum CcmpOperand {
    Reg(Reg),
    Imm(u8),
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DataProc3Op {
    /// rd = ra + rn * rm (ra - rn*rm when `sub`)
    Madd,
    /// 32x32->64 signed multiply-add; rn, rm are W registers.
    Smaddl,
    /// 32x32->64 unsigned multiply-add; rn, rm are W registers.
    Umaddl,
    /// High 64 bits of the signed 128-bit product (ra unused).
    Smulh,
    /// High 64 bits of the unsigned 128-bit product (ra unused).
    Umulh,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DataProc2Op {
    Udiv,
    Sdiv,
    Lslv,
    Lsrv,
    Asrv,
    Rorv,
    /// CRC32 (`c` = Castagnoli polynomial) over 1 << `size` bytes of rm.
    Crc32 {
        c: bool,
        size: u8,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DataProc1Op {
    Rbit,
    Rev16,
    /// Reverse bytes in each 32-bit word (64-bit only).
    Rev32,
    /// Reverse all bytes of the register (REV for either width).
    Rev,
    Clz,
    Cls,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BranchRegKind {
    Br,
    Blr,
    Ret,
}

/// What a single-register load/store does.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LsOp {
    Store,
    /// Zero-extending load.
    Load,
    /// Sign-extending load into a W or X register.
    LoadSigned(Width),
}

/// Flavour of a single-register load/store, for privilege and Display.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LsForm {
    /// LDR/STR (unsigned offset, pre/post-index, register offset, literal).
    Normal,
    /// LDUR/STUR: 9-bit signed byte offset.
    Unscaled,
    /// LDTR/STTR: access checked as EL0.
    Unprivileged,
}

/// Address computation of a load/store. Offsets are in bytes (already scaled).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AddrMode {
    /// `[rn, #imm]`
    Offset { rn: Reg, imm: i64 },
    /// `[rn, #imm]!` — address is rn+imm, rn is updated.
    PreIndex { rn: Reg, imm: i64 },
    /// `[rn], #imm` — address is rn, then rn += imm.
    PostIndex { rn: Reg, imm: i64 },
    /// `[rn, rm, extend #shift]`; `shift` is the left shift applied after
    /// extension (0 or log2 of the access size). `s` is the encoded S bit, kept
    /// only because byte accesses print `lsl #0` when it is set.
    Reg {
        rn: Reg,
        rm: Reg,
        extend: Extend,
        shift: u8,
        s: bool,
    },
    /// PC-relative: address is the instruction's address + offset.
    Literal { offset: i64 },
}

/// Key of a pointer-authentication hint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PacKey {
    A,
    B,
}

/// Operands of a pointer-authentication hint.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PacModifier {
    /// `*1716`: X17 is signed/authenticated with modifier X16.
    X1716,
    /// `*Z`: X30 with modifier zero.
    Zero,
    /// `*SP`: X30 with modifier SP.
    Sp,
}

/// Which branch kinds a BTI instruction admits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BtiTarget {
    /// `bti` with no target: admits none.
    None,
    C,
    J,
    Jc,
}

/// The hint space (`HINT #n`, n = CRm:op2). Every hint not implemented by the CPU
/// executes as a NOP; the named ones are kept apart for Display and for translators.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Hint {
    Nop,
    Yield,
    Wfe,
    Wfi,
    Sev,
    Sevl,
    /// XPACLRI (hint 7).
    Xpaclri,
    /// PACIA/PACIB (`auth == false`) or AUTIA/AUTIB with the given operands
    /// (hints 8, 10, 12, 14 and 24..=31).
    Pac {
        auth: bool,
        key: PacKey,
        modifier: PacModifier,
    },
    /// ESB (hint 16).
    Esb,
    /// PSB CSYNC (hint 17).
    PsbCsync,
    /// TSB CSYNC (hint 18).
    TsbCsync,
    /// CSDB (hint 20).
    Csdb,
    /// BTI (hints 32, 34, 36, 38).
    Bti(BtiTarget),
    /// Any other hint number (CRm:op2); architecturally a NOP unless implemented.
    Other(u8),
}

impl Hint {
    /// The hint for the 7-bit number CRm:op2.
    pub const fn from_number(n: u8) -> Hint {
        let n = n & 0x7f;
        match n {
            0 => Hint::Nop,
            1 => Hint::Yield,
            2 => Hint::Wfe,
            3 => Hint::Wfi,
            4 => Hint::Sev,
            5 => Hint::Sevl,
            7 => Hint::Xpaclri,
            8 | 10 | 12 | 14 | 24..=31 => Hint::Pac {
                auth: n & 4 != 0,
                key: if n & 2 != 0 { PacKey::B } else { PacKey::A },
                modifier: if n < 16 {
                    PacModifier::X1716
                } else if n & 1 != 0 {
                    PacModifier::Sp
                } else {
                    PacModifier::Zero
                },
            },
            16 => Hint::Esb,
            17 => Hint::PsbCsync,
            18 => Hint::TsbCsync,
            20 => Hint::Csdb,
            32 => Hint::Bti(BtiTarget::None),
            34 => Hint::Bti(BtiTarget::C),
            36 => Hint::Bti(BtiTarget::J),
            38 => Hint::Bti(BtiTarget::Jc),
            n => Hint::Other(n),
        }
    }

    /// The hint number CRm:op2 (inverse of [`Hint::from_number`]).
    pub const fn number(self) -> u8 {
        match self {
            Hint::Nop => 0,
            Hint::Yield => 1,
            Hint::Wfe => 2,
            Hint::Wfi => 3,
            Hint::Sev => 4,
            Hint::Sevl => 5,
            Hint::Xpaclri => 7,
            Hint::Pac {
                auth,
                key,
                modifier,
            } => {
                let k = match key {
                    PacKey::A => 0,
                    PacKey::B => 2,
                };
                let a = if auth { 4 } else { 0 };
                match modifier {
                    PacModifier::X1716 => 8 | a | k,
                    PacModifier::Zero => 24 | a | k,
                    PacModifier::Sp => 25 | a | k,
                }
            }
            Hint::Esb => 16,
            Hint::PsbCsync => 17,
            Hint::TsbCsync => 18,
            Hint::Csdb => 20,
            Hint::Bti(t) => match t {
                BtiTarget::None => 32,
                BtiTarget::C => 34,
                BtiTarget::J => 36,
                BtiTarget::Jc => 38,
            },
            Hint::Other(n) => n & 0x7f,
        }
    }
}

/// Operation of an LSE atomic memory instruction: memory becomes `op(old, rs)`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AtomicOp {
    /// LDADD: old + rs.
    Add,
    /// LDCLR: old & !rs.
    Clr,
    /// LDEOR: old ^ rs.
    Eor,
    /// LDSET: old | rs.
    Set,
    /// LDSMAX: signed maximum at the access size.
    Smax,
    /// LDSMIN: signed minimum at the access size.
    Smin,
    /// LDUMAX: unsigned maximum.
    Umax,
    /// LDUMIN: unsigned minimum.
    Umin,
    /// SWP: rs.
    Swp,
}

impl AtomicOp {
    /// The mnemonic stem after `ld`/`st` (`swp` for SWP).
    pub const fn name(self) -> &'static str {
        match self {
            AtomicOp::Add => "add",
            AtomicOp::Clr => "clr",
            AtomicOp::Eor => "eor",
            AtomicOp::Set => "set",
            AtomicOp::Smax => "smax",
            AtomicOp::Smin => "smin",
            AtomicOp::Umax => "umax",
            AtomicOp::Umin => "umin",
            AtomicOp::Swp => "swp",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum BarrierKind {
    Dsb,
    Dmb,
    Isb,
    /// SB, the speculation barrier (option is always 0).
    Sb,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ExceptionKind {
    Svc,
    Hvc,
    Smc,
    Brk,
    Hlt,
}

/// PSTATE field written by MSR (immediate).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PstateField {
    SpSel,
    DaifSet,
    DaifClr,
    Pan,
    Uao,
}

/// Post-index writeback of an Advanced SIMD structure load/store.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum SimdPost {
    /// No writeback.
    None,
    /// rn += the number of bytes transferred (encoded as Rm = 31).
    Imm(u8),
    /// rn += rm.
    Reg(Reg),
}

/// Advanced SIMD vector arrangement: `lanes` lanes of 8 << `size` bits each.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Arrangement {
    /// log2 of the lane size in bytes (0 = B .. 3 = D).
    pub size: u8,
    /// 128-bit (Q) register rather than the low 64 bits.
    pub q: bool,
}

impl Arrangement {
    /// Number of lanes.
    pub const fn lanes(self) -> u8 {
        (if self.q { 16 } else { 8 }) >> self.size
    }

    /// objdump's suffix, e.g. `16b`, `2s`, `1d`.
    pub const fn name(self) -> &'static str {
        const N: [&str; 8] = ["8b", "16b", "4h", "8h", "2s", "4s", "1d", "2d"];
        N[((self.size & 3) as usize) << 1 | self.q as usize]
    }
}

/// Scalar floating-point format (the `ftype` field).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FpType {
    /// Half precision (ftype 11).
    H,
    /// Single precision (ftype 00).
    S,
    /// Double precision (ftype 01).
    D,
}

impl FpType {
    /// From the ftype field; 10 is reserved.
    pub const fn from_ftype(b: u32) -> Option<FpType> {
        match b & 3 {
            0 => Some(FpType::S),
            1 => Some(FpType::D),
            3 => Some(FpType::H),
            _ => None,
        }
    }

    /// log2 of the size in bytes (1, 2 or 3).
    pub const fn log2_bytes(self) -> u8 {
        match self {
            FpType::H => 1,
            FpType::S => 2,
            FpType::D => 3,
        }
    }
}

/// Rounding of FP-to-integer conversions and FRINT*.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FpRounding {
    /// To nearest, ties to even (N).
    TieEven,
    /// Towards +infinity (P).
    PlusInf,
    /// Towards -infinity (M).
    MinusInf,
    /// Towards zero (Z).
    Zero,
    /// To nearest, ties away from zero (A).
    TieAway,
    /// The FPCR mode, signalling Inexact (FRINTX).
    Exact,
    /// The FPCR mode (FRINTI).
    Current,
}

impl FpRounding {
    /// Mnemonic letter (`n`, `p`, `m`, `z`, `a`, `x`, `i`).
    pub const fn letter(self) -> char {
        match self {
            FpRounding::TieEven => 'n',
            FpRounding::PlusInf => 'p',
            FpRounding::MinusInf => 'm',
            FpRounding::Zero => 'z',
            FpRounding::TieAway => 'a',
            FpRounding::Exact => 'x',
            FpRounding::Current => 'i',
        }
    }
}

/// Scalar FP one-source operations (besides conversions).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FpUnaryOp {
    Mov,
    Abs,
    Neg,
    Sqrt,
    /// FRINT<r>: round to an integral value in FP format.
    Round(FpRounding),
}

/// Scalar FP two-source operations.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FpBinOp {
    Mul,
    Div,
    Add,
    Sub,
    Max,
    Min,
    MaxNm,
    MinNm,
    /// -(rn * rm)
    NMul,
}

/// Scalar FP fused multiply-add: rd = [-]ra [+-] rn * rm.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FpMaddOp {
    /// ra + rn*rm
    Madd,
    /// ra - rn*rm
    Msub,
    /// -ra - rn*rm
    NMadd,
    /// -ra + rn*rm
    NMsub,
}

/// What an Advanced SIMD modified-immediate instruction does with its immediate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum ModImmOp {
    /// Every lane = imm (MOVI).
    Movi,
    /// Every lane = !imm (MVNI).
    Mvni,
    /// Every lane |= imm (ORR).
    Orr,
    /// Every lane &= !imm (BIC).
    Bic,
    /// Every lane = the FP value `imm` (FMOV vector, immediate).
    Fmov,
}

/// One decoded A64 instruction.
///
/// Register fields use [`Reg`], which already says whether encoding 31 is SP
/// or ZR for that operand. `is64` is the `sf` bit (X vs W registers).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Insn {
    /// ADD/ADDS/SUB/SUBS (immediate). `imm` is the final value (already
    /// shifted by 12 when `lsl12`). rd is SP-capable unless `set_flags`.
    AddSubImm {
        is64: bool,
        sub: bool,
        set_flags: bool,
        rd: Reg,
        rn: Reg,
        imm: u32,
        lsl12: bool,
    },
    /// ADD/SUB(S) (shifted register); shift is never ROR.
    AddSubShifted {
        is64: bool,
        sub: bool,
        set_flags: bool,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        shift: Shift,
        amount: u8,
    },
    /// ADD/SUB(S) (extended register): rm is extended then shifted left by
    /// `amount` (0..=4). rd (unless `set_flags`) and rn are SP-capable.
    AddSubExtended {
        is64: bool,
        sub: bool,
        set_flags: bool,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        extend: Extend,
        amount: u8,
    },
    /// AND/ORR/EOR/ANDS (immediate) with the decoded bitmask (upper 32 bits
    /// zero when !is64). rd is SP-capable except for ANDS.
    LogicalImm {
        is64: bool,
        op: LogicOp,
        rd: Reg,
        rn: Reg,
        imm: u64,
    },
    /// AND/BIC/ORR/ORN/EOR/EON/ANDS/BICS (shifted register); `invert` means
    /// rm (after shifting) is complemented.
    LogicalShifted {
        is64: bool,
        op: LogicOp,
        invert: bool,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        shift: Shift,
        amount: u8,
    },
    /// MOVN/MOVZ/MOVK; shift is 0, 16, 32 or 48.
    MoveWide {
        is64: bool,
        op: MoveWideOp,
        rd: Reg,
        imm16: u16,
        shift: u8,
    },
    /// ADR (`page == false`: rd = pc + offset) or ADRP (rd = (pc & !0xfff) + offset).
    Adr {
        rd: Reg,
        page: bool,
        offset: i64,
    },
    /// SBFM/BFM/UBFM.
    Bitfield {
        is64: bool,
        op: BitfieldOp,
        rd: Reg,
        rn: Reg,
        immr: u8,
        imms: u8,
    },
    /// EXTR: rd = (rn:rm) >> lsb.
    Extr {
        is64: bool,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        lsb: u8,
    },
    /// ADC/ADCS/SBC/SBCS.
    AddSubCarry {
        is64: bool,
        sub: bool,
        set_flags: bool,
        rd: Reg,
        rn: Reg,
        rm: Reg,
    },
    /// CSEL/CSINC/CSINV/CSNEG.
    CondSelect {
        is64: bool,
        op: CondSelOp,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        cond: Cond,
    },
    /// CCMP (`sub`) / CCMN: if cond then flags = compare(rn, operand) else flags = nzcv.
    CondCompare {
        is64: bool,
        sub: bool,
        rn: Reg,
        operand: CcmpOperand,
        nzcv: u8,
        cond: Cond,
    },
    /// MADD/MSUB/SMADDL/SMSUBL/UMADDL/UMSUBL/SMULH/UMULH (`sub` selects the
    /// subtracting form).
    DataProc3 {
        is64: bool,
        op: DataProc3Op,
        sub: bool,
        rd: Reg,
        rn: Reg,
        rm: Reg,
        ra: Reg,
    },
    /// UDIV/SDIV/LSLV/LSRV/ASRV/RORV/CRC32*.
    DataProc2 {
        is64: bool,
        op: DataProc2Op,
        rd: Reg,
        rn: Reg,
        rm: Reg,
    },
    /// RBIT/REV16/REV32/REV/CLZ/CLS.
    DataProc1 {
        is64: bool,
        op: DataProc1Op,
        rd: Reg,
        rn: Reg,
    },
    /// B/BL; offset from this instruction's address.
    Branch {
        link: bool,
        offset: i64,
    },
    /// BR/BLR/RET.
    BranchReg {
        kind: BranchRegKind,
        rn: Reg,
    },
    /// B.cond.
    BranchCond {
        cond: Cond,
        offset: i64,
    },
    /// CBZ/CBNZ.
    CompareBranch {
        is64: bool,
        nonzero: bool,
        rt: Reg,
        offset: i64,
    },
    /// TBZ/TBNZ on bit `bit` (0..=63) of rt.
    TestBranch {
        nonzero: bool,
        rt: Reg,
        bit: u8,
        offset: i64,
    },
    /// Single-register load/store of 1 << `size` bytes, including LDR literal
    /// (`AddrMode::Literal`). rt is a W register unless size == 3 or the
    /// load sign-extends to X.
    LoadStore {
        op: LsOp,
        size: u8,
        rt: Reg,
        addr: AddrMode,
        form: LsForm,
    },
    /// PRFM/PRFUM (all addressing forms incl. literal); `prfop` is the Rt field.
    Prefetch {
        prfop: u8,
        addr: AddrMode,
        unscaled: bool,
    },
    /// LDP/STP/LDNP/STNP/LDPSW; size is 2 (W) or 3 (X). `signed` is LDPSW
    /// (size 2, loads into X registers). addr is Offset, PreIndex or PostIndex.
    LoadStorePair {
        load: bool,
        size: u8,
        signed: bool,
        nontemporal: bool,
        rt: Reg,
        rt2: Reg,
        addr: AddrMode,
    },
    /// LDXR/LDAXR/STXR/STLXR and the pair forms. `rs` is the status register
    /// of stores (ZR for loads); `rt2` is meaningful only when `pair`.
    Exclusive {
        load: bool,
        acquire_release: bool,
        pair: bool,
        size: u8,
        rs: Reg,
        rt: Reg,
        rt2: Reg,
        rn: Reg,
    },
    /// LDAR (`load`) / STLR of 1 << size bytes at [rn].
    AcquireRelease {
        load: bool,
        size: u8,
        rt: Reg,
        rn: Reg,
    },
    /// LSE atomic memory operation (LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX,
    /// LDUMIN, SWP and the ST* aliases, which are these with rt = ZR): memory of
    /// 1 << `size` bytes at [rn] becomes `op(old, rs)` and rt receives the old value
    /// (zero-extended; W registers when size < 3). `acquire`/`release` are the A/R bits.
    AtomicMem {
        op: AtomicOp,
        size: u8,
        acquire: bool,
        release: bool,
        rs: Reg,
        rt: Reg,
        rn: Reg,
    },
    /// CAS{A,L,AL}{B,H}: if memory at [rn] (1 << `size` bytes) equals rs, store rt; rs
    /// receives the old value either way. `acquire` is the L bit, `release` is o0.
    CompareSwap {
        size: u8,
        acquire: bool,
        release: bool,
        rs: Reg,
        rt: Reg,
        rn: Reg,
    },
    /// CASP{A,L,AL}: compare the pair (rs, rs+1) with memory at [rn] and store
    /// (rt, rt+1) if equal; (rs, rs+1) receive the old pair. `size` is 2 (W pair) or
    /// 3 (X pair); rs and rt are even (`rs2`/`rt2` are the next registers, ZR after X30).
    CompareSwapPair {
        size: u8,
        acquire: bool,
        release: bool,
        rs: Reg,
        rs2: Reg,
        rt: Reg,
        rt2: Reg,
        rn: Reg,
    },
    /// LDAPR/LDAPRB/LDAPRH (RCpc load-acquire) of 1 << `size` bytes at [rn].
    LoadAcquirePc {
        size: u8,
        rt: Reg,
        rn: Reg,
    },
    /// CLREX; `crm` is ignored by hardware but kept for Display.
    Clrex {
        crm: u8,
    },
    /// The hint space (NOP, YIELD, WFE, WFI, SEV, SEVL, others).
    Hint(Hint),
    /// DMB/DSB/ISB with the CRm option.
    Barrier {
        kind: BarrierKind,
        option: u8,
    },
    /// SVC/HVC/SMC/BRK/HLT.
    Exception {
        kind: ExceptionKind,
        imm16: u16,
    },
    /// MRS rt, reg.
    Mrs {
        rt: Reg,
        reg: SysReg,
    },
    /// MSR reg, rt.
    Msr {
        reg: SysReg,
        rt: Reg,
    },
    /// MSR (immediate) to a PSTATE field selected by op1/op2; `crm` is the value.
    MsrImm {
        op1: u8,
        crm: u8,
        op2: u8,
    },
    /// SYS (`l == false`) / SYSL: cache, TLB and address-translation operations.
    Sys {
        l: bool,
        op1: u8,
        crn: u8,
        crm: u8,
        op2: u8,
        rt: Reg,
    },
    Eret,
    /// LDR/STR/LDUR/STUR (incl. LDR literal) of a SIMD&FP register of 1 << `size`
    /// bytes (0 = B, 1 = H, 2 = S, 3 = D, 4 = Q); `rt` is V0..V31.
    FpLoadStore {
        load: bool,
        size: u8,
        rt: u8,
        addr: AddrMode,
        unscaled: bool,
    },
    /// LDP/STP/LDNP/STNP of SIMD&FP registers; `size` 2 (S), 3 (D) or 4 (Q).
    FpLoadStorePair {
        load: bool,
        size: u8,
        nontemporal: bool,
        rt: u8,
        rt2: u8,
        addr: AddrMode,
    },
    /// LD1-LD4/ST1-ST4 (multiple structures): `regs` consecutive registers (mod 32)
    /// from `rt`, interleaved as `selem`-element structures (selem is 1 for LD1/ST1,
    /// which may still use 1..=4 registers).
    SimdLoadStoreMulti {
        load: bool,
        selem: u8,
        regs: u8,
        arr: Arrangement,
        rt: u8,
        rn: Reg,
        post: SimdPost,
    },
    /// LD1-LD4/ST1-ST4 (single structure): lane `index` of `selem` registers from
    /// `rt`, lanes of 1 << `size` bytes.
    SimdLoadStoreLane {
        load: bool,
        selem: u8,
        size: u8,
        index: u8,
        rt: u8,
        rn: Reg,
        post: SimdPost,
    },
    /// LD1R-LD4R: load one structure and replicate it to all lanes of `selem` registers.
    SimdLoadReplicate {
        selem: u8,
        arr: Arrangement,
        rt: u8,
        rn: Reg,
        post: SimdPost,
    },
    /// FMOV (general): between a general register (W/X, `is64`) and the low
    /// 1 << `size` bytes of V`vreg` (size 1 = H, 2 = S, 3 = D), or, when `top`,
    /// the upper 64 bits (`V.D[1]`, size 3). `to_fp` moves general -> vector.
    FpMovGeneral {
        to_fp: bool,
        is64: bool,
        size: u8,
        top: bool,
        gpr: Reg,
        vreg: u8,
    },
    /// FCVT<r>{S,U}: FP `ftype` in V`rn` to a W/X integer, rounded by `rounding`.
    /// `fbits` > 0 is the fixed-point form (FCVTZS/FCVTZU with #fbits, always Zero).
    FpToInt {
        rounding: FpRounding,
        unsigned: bool,
        is64: bool,
        ftype: FpType,
        rd: Reg,
        rn: u8,
        fbits: u8,
    },
    /// SCVTF/UCVTF: W/X integer (fixed-point with `fbits` fraction bits when > 0)
    /// to FP `ftype` in V`rd`, rounded by FPCR.
    IntToFp {
        unsigned: bool,
        is64: bool,
        ftype: FpType,
        rd: u8,
        rn: Reg,
        fbits: u8,
    },
    /// FMOV/FABS/FNEG/FSQRT/FRINT* (scalar register).
    FpUnary {
        op: FpUnaryOp,
        ftype: FpType,
        rd: u8,
        rn: u8,
    },
    /// FCVT between precisions (`from` != `to`).
    FpConvert {
        from: FpType,
        to: FpType,
        rd: u8,
        rn: u8,
    },
    /// FADD/FSUB/FMUL/FDIV/FMAX/FMIN/FMAXNM/FMINNM/FNMUL (scalar).
    FpBinary {
        op: FpBinOp,
        ftype: FpType,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// FMADD/FMSUB/FNMADD/FNMSUB.
    FpMulAdd {
        op: FpMaddOp,
        ftype: FpType,
        rd: u8,
        rn: u8,
        rm: u8,
        ra: u8,
    },
    /// FCMP/FCMPE (`signaling`): NZCV from comparing V`rn` with V`rm`, or with
    /// +0.0 when `rm` is `None`.
    FpCompare {
        signaling: bool,
        ftype: FpType,
        rn: u8,
        rm: Option<u8>,
    },
    /// FCCMP/FCCMPE: if cond then NZCV = compare(rn, rm) else NZCV = nzcv.
    FpCondCompare {
        signaling: bool,
        ftype: FpType,
        rn: u8,
        rm: u8,
        nzcv: u8,
        cond: Cond,
    },
    /// FCSEL: rd = cond ? rn : rm.
    FpCondSelect {
        ftype: FpType,
        rd: u8,
        rn: u8,
        rm: u8,
        cond: Cond,
    },
    /// FMOV (scalar, immediate): `imm8` is the encoded 8-bit float (see
    /// [`fp_imm8_to_f64`]).
    FpMovImm {
        ftype: FpType,
        rd: u8,
        imm8: u8,
    },
    /// Advanced SIMD three registers of the same type (vector). For FP operations
    /// `arr.size` is 2 (S) or 3 (D); for the bitwise ones it is 0 (8B/16B).
    SimdThreeSame {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Advanced SIMD scalar three same; `size` is the log2 element size in bytes.
    SimdScalarThreeSame {
        op: SimdOp,
        size: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Advanced SIMD three different (long, wide and narrowing forms). `arr` is the
    /// narrow operand's arrangement; `arr.q` selects the upper-half (`2`) form.
    SimdThreeDiff {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Advanced SIMD scalar three different (SQDMLAL/SQDMLSL/SQDMULL); `size` is
    /// the source element size.
    SimdScalarThreeDiff {
        op: SimdOp,
        size: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// Advanced SIMD two-register miscellaneous (vector). `arr` is the encoded
    /// size/Q (FP operations: 1 = H, 2 = S, 3 = D; NOT/RBIT: 0). For the narrowing
    /// and lengthening operations `arr.size` is the wider element size for
    /// FCVTN/FCVTXN/FCVTL, and the narrower one for XTN/SQXTN/SQXTUN/UQXTN, SHLL
    /// and the pairwise-long ops; `arr.q` selects the upper-half (`2`) forms.
    SimdTwoReg {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
    },
    /// Advanced SIMD scalar two-register miscellaneous; `size` is the element size
    /// of the source, except for SQXTN/SQXTUN/UQXTN where it is the (narrower)
    /// destination's (FCVTXN: size 3, D -> S).
    SimdScalarTwoReg {
        op: SimdOp,
        size: u8,
        rd: u8,
        rn: u8,
    },
    /// Advanced SIMD across lanes (ADDV, SADDLV, SMAXV, FMAXV, ...).
    SimdAcross {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
    },
    /// Advanced SIMD scalar pairwise (ADDP, FADDP, FMAXP, ...): the two lanes of
    /// V`rn` of size `size`.
    SimdScalarPairwise {
        op: SimdOp,
        size: u8,
        rd: u8,
        rn: u8,
    },
    /// Advanced SIMD shift by immediate (vector); `arr.size` is the element size
    /// given by immh (the narrow one for narrowing and lengthening shifts).
    SimdShiftImm {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
        shift: u8,
    },
    /// Advanced SIMD scalar shift by immediate.
    SimdScalarShiftImm {
        op: SimdOp,
        size: u8,
        rd: u8,
        rn: u8,
        shift: u8,
    },
    /// Advanced SIMD vector x indexed element; `size` of the element is `arr.size`
    /// (for the long forms the narrow source's).
    SimdByElement {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
        rm: u8,
        index: u8,
    },
    /// Advanced SIMD scalar x indexed element.
    SimdScalarByElement {
        op: SimdOp,
        size: u8,
        rd: u8,
        rn: u8,
        rm: u8,
        index: u8,
    },
    /// ZIP1/ZIP2/UZP1/UZP2/TRN1/TRN2.
    SimdPermute {
        op: SimdOp,
        arr: Arrangement,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// EXT: bytes `index`.. of rm:rn.
    SimdExt {
        q: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        index: u8,
    },
    /// TBL/TBX (`tbx`) with a table of `len` (1..=4) registers from `rn`.
    SimdTable {
        tbx: bool,
        q: bool,
        len: u8,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// DUP (element): every lane of rd = rn[index].
    SimdDupElement {
        arr: Arrangement,
        rd: u8,
        rn: u8,
        index: u8,
    },
    /// DUP (element, scalar) a.k.a. MOV: rd (scalar of 1 << size bytes) = rn[index].
    SimdDupScalar {
        size: u8,
        rd: u8,
        rn: u8,
        index: u8,
    },
    /// DUP (general): every lane of rd = the low bits of a W/X register.
    SimdDupGeneral {
        arr: Arrangement,
        rd: u8,
        rn: Reg,
    },
    /// INS (general) a.k.a. MOV: rd[index] = general register rn.
    SimdInsGeneral {
        size: u8,
        rd: u8,
        index: u8,
        rn: Reg,
    },
    /// INS (element) a.k.a. MOV: rd[index] = rn[src_index].
    SimdInsElement {
        size: u8,
        rd: u8,
        index: u8,
        rn: u8,
        src_index: u8,
    },
    /// UMOV/SMOV (`signed`): general register rd (X when `is64`) = rn[index].
    SimdMovToGeneral {
        signed: bool,
        is64: bool,
        size: u8,
        rd: Reg,
        rn: u8,
        index: u8,
    },
    /// MOVI/MVNI/ORR/BIC/FMOV (vector, immediate). `imm` is the 64-bit pattern
    /// (AdvSIMDExpandImm) repeated across the register; `arr` is the displayed
    /// arrangement (`1d` is the scalar MOVI Dd form). `imm8`, `shift` and `msl`
    /// are the encoded immediate and its shift (for Display).
    SimdModImm {
        op: ModImmOp,
        arr: Arrangement,
        imm: u64,
        imm8: u8,
        shift: u8,
        msl: bool,
        rd: u8,
    },
    /// AESE/AESD/AESMC/AESIMC.
    CryptoAes {
        op: SimdOp,
        rd: u8,
        rn: u8,
    },
    /// SHA1C/SHA1P/SHA1M/SHA1SU0/SHA256H/SHA256H2/SHA256SU1.
    CryptoSha3 {
        op: SimdOp,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    /// SHA1H/SHA1SU1/SHA256SU0.
    CryptoSha2 {
        op: SimdOp,
        rd: u8,
        rn: u8,
    },
    /// Not an instruction this decoder knows (UNDEFINED in the guest).
    Unallocated(u32),
}

impl Insn {
    /// The operation of an Advanced SIMD instruction whose shape carries a [`SimdOp`]
    /// (three-same, two-register misc, shifts, by element, permutes, ...).
    pub fn simd_op(&self) -> Option<SimdOp> {
        use Insn::*;
        match *self {
            SimdThreeSame { op, .. }
            | SimdScalarThreeSame { op, .. }
            | SimdThreeDiff { op, .. }
            | SimdScalarThreeDiff { op, .. }
            | SimdTwoReg { op, .. }
            | SimdScalarTwoReg { op, .. }
            | SimdAcross { op, .. }
            | SimdScalarPairwise { op, .. }
            | SimdShiftImm { op, .. }
            | SimdScalarShiftImm { op, .. }
            | SimdByElement { op, .. }
            | SimdScalarByElement { op, .. }
            | SimdPermute { op, .. } => Some(op),
            _ => None,
        }
    }

    /// For `MsrImm`, the PSTATE field it writes, if it is one we know.
    pub fn pstate_field(&self) -> Option<PstateField> {
        match *self {
            Insn::MsrImm { op1, op2, crm } => match (op1, op2) {
                // SPSel, PAN and UAO take a 1-bit immediate in CRm<0>; later
                // architecture versions (and objdump) reserve CRm<3:1> != 0.
                (0, 5) if crm <= 1 => Some(PstateField::SpSel),
                (3, 6) => Some(PstateField::DaifSet),
                (3, 7) => Some(PstateField::DaifClr),
                (0, 4) if crm <= 1 => Some(PstateField::Pan),
                (0, 3) if crm <= 1 => Some(PstateField::Uao),
                _ => None,
            },
            _ => None,
        }
    }

    /// Whether this instruction may change control flow (ends a TB).
    pub fn is_branch(&self) -> bool {
        self.class() == InsnClass::Branch
    }

    /// The encoding group of the instruction, for dispatch (translator) and filtering
    /// (generators). Every variant belongs to exactly one class.
    pub fn class(&self) -> InsnClass {
        use Insn::*;
        match self {
            AddSubImm { .. }
            | AddSubShifted { .. }
            | AddSubExtended { .. }
            | LogicalImm { .. }
            | LogicalShifted { .. }
            | MoveWide { .. }
            | Adr { .. }
            | Bitfield { .. }
            | Extr { .. }
            | AddSubCarry { .. }
            | CondSelect { .. }
            | CondCompare { .. }
            | DataProc3 { .. }
            | DataProc2 { .. }
            | DataProc1 { .. } => InsnClass::DataProcessing,
            Branch { .. }
            | BranchReg { .. }
            | BranchCond { .. }
            | CompareBranch { .. }
            | TestBranch { .. }
            | Eret => InsnClass::Branch,
            LoadStore { .. }
            | Prefetch { .. }
            | LoadStorePair { .. }
            | Exclusive { .. }
            | AcquireRelease { .. }
            | Clrex { .. }
            | AtomicMem { .. }
            | CompareSwap { .. }
            | CompareSwapPair { .. }
            | LoadAcquirePc { .. } => InsnClass::LoadStore,
            Exception { .. } => InsnClass::Exception,
            Hint(_) | Barrier { .. } | Mrs { .. } | Msr { .. } | MsrImm { .. } | Sys { .. } => {
                InsnClass::System
            }
            FpLoadStore { .. }
            | FpLoadStorePair { .. }
            | SimdLoadStoreMulti { .. }
            | SimdLoadStoreLane { .. }
            | SimdLoadReplicate { .. }
            | FpMovGeneral { .. }
            | FpToInt { .. }
            | IntToFp { .. }
            | FpUnary { .. }
            | FpConvert { .. }
            | FpBinary { .. }
            | FpMulAdd { .. }
            | FpCompare { .. }
            | FpCondCompare { .. }
            | FpCondSelect { .. }
            | FpMovImm { .. }
            | SimdThreeSame { .. }
            | SimdScalarThreeSame { .. }
            | SimdThreeDiff { .. }
            | SimdScalarThreeDiff { .. }
            | SimdTwoReg { .. }
            | SimdScalarTwoReg { .. }
            | SimdAcross { .. }
            | SimdScalarPairwise { .. }
            | SimdShiftImm { .. }
            | SimdScalarShiftImm { .. }
            | SimdByElement { .. }
            | SimdScalarByElement { .. }
            | SimdPermute { .. }
            | SimdExt { .. }
            | SimdTable { .. }
            | SimdDupElement { .. }
            | SimdDupScalar { .. }
            | SimdDupGeneral { .. }
            | SimdInsGeneral { .. }
            | SimdInsElement { .. }
            | SimdMovToGeneral { .. }
            | SimdModImm { .. }
            | CryptoAes { .. }
            | CryptoSha3 { .. }
            | CryptoSha2 { .. } => InsnClass::FpSimd,
            Unallocated(_) => InsnClass::Unallocated,
        }
    }
}

/// Encoding groups of [`Insn`] (CLREX sits with the exclusives it clears).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum InsnClass {
    DataProcessing,
    /// Changes control flow (ERET included).
    Branch,
    /// Loads, stores, exclusives, atomics, prefetch.
    LoadStore,
    /// SVC, HVC, SMC, BRK, HLT.
    Exception,
    /// Hints, barriers, MRS/MSR, SYS.
    System,
    /// Floating-point, Advanced SIMD and crypto instructions, including SIMD&FP
    /// loads and stores (not executed yet: the translator treats them as UNDEFINED).
    FpSimd,
    Unallocated,
}

/// The value of an 8-bit FP immediate (VFPExpandImm): sign, 3-bit exponent,
/// 4-bit fraction; exact in every format.
pub fn fp_imm8_to_f64(imm8: u8) -> f64 {
    let sign = if imm8 & 0x80 != 0 { -1.0 } else { 1.0 };
    let frac = 16.0 + (imm8 & 15) as f64; // 1.ffff as sixteenths
    let e = (imm8 >> 4) & 7;
    // Exponent: NOT(b6):b6:b6..:b5:b4 biased, i.e. -3..=4 around 1.0.
    let exp = if e & 4 != 0 { e as i32 - 8 } else { e as i32 } + 1;
    sign * frac / 16.0 * 2f64.powi(exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reg_sp_zr_distinct() {
        assert_eq!(Reg::sp(31).kind(), RegKind::Sp);
        assert_eq!(Reg::zr(31).kind(), RegKind::Zr);
        assert_eq!(Reg::sp(5).kind(), RegKind::Gpr(5));
        assert_eq!(Reg::sp(31).encoding(), 31);
        assert_ne!(Reg::sp(31), Reg::zr(31));
    }

    #[test]
    fn hint_numbers_round_trip() {
        for n in 0..128u8 {
            assert_eq!(Hint::from_number(n).number(), n, "{n}");
        }
        assert_eq!(
            Hint::from_number(25),
            Hint::Pac {
                auth: false,
                key: PacKey::A,
                modifier: PacModifier::Sp
            }
        );
        assert_eq!(Hint::from_number(36), Hint::Bti(BtiTarget::J));
    }

    #[test]
    fn fp_imm8_values() {
        assert_eq!(fp_imm8_to_f64(0x70), 1.0);
        assert_eq!(fp_imm8_to_f64(0x00), 2.0);
        assert_eq!(fp_imm8_to_f64(0x80), -2.0);
        assert_eq!(fp_imm8_to_f64(0x3f), 31.0);
        assert_eq!(fp_imm8_to_f64(0x40), 0.125);
        assert_eq!(fp_imm8_to_f64(0xc4), -0.15625);
    }

    #[test]
    fn arrangement_names() {
        let a = Arrangement { size: 2, q: true };
        assert_eq!((a.name(), a.lanes()), ("4s", 4));
        let a = Arrangement { size: 3, q: false };
        assert_eq!((a.name(), a.lanes()), ("1d", 1));
    }

    #[test]
    fn cond_invert() {
        assert_eq!(Cond::Eq.invert(), Cond::Ne);
        assert_eq!(Cond::from_bits(11), Cond::Lt);
        assert_eq!(Cond::Le.name(), "le");
    }
}
