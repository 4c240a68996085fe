//! The random sequence generator: picks rows of the decoder's pattern table, fills their
//! free bits at random, keeps every integer data-processing and load/store form and every
//! FP, Advanced SIMD and crypto form (SIMD&FP loads/stores included), and puts setup
//! instructions in front of each memory access so that it lands in the scratch block.
//!
//! Rules (checked by the unit tests):
//! - Every word belongs to one [`Part`] of the ISA; a run picks a part by the weights of
//!   its [`Only`] filter, then a row that can produce words of that part, and keeps only
//!   words of that part. The default mix keeps 40% of the words in the base (integer)
//!   ISA.
//! - The initial state over-represents special values: X registers get integer edges and
//!   FP bit patterns, V registers lanes of FP specials (signed zeros, infinities, quiet and
//!   signalling NaNs with random payloads, denormals, min normal, max finite, powers of two
//!   around integer boundaries ± 1 ulp, small and half integers) or integer edges per lane
//!   size, FPCR all four rounding modes with FZ, DN, AHP, FZ16 (only bits QEMU's FPCR keeps:
//!   0x07ff_0000 there; no trap enables), FPSR zero or random cumulative flags.
//! - The only system instructions kept are MRS/MSR of FPCR and FPSR (1 in 16 scalar-FP
//!   words), so the masks of those registers are tested and the modes change mid-way.
//! - Tested words are classified with `arm_decode::decode`. Branches (they would leave the
//!   sequence), exceptions, hints, barriers, MRS/MSR (but FPCR/FPSR)/SYS and unallocated
//!   words are rejected; CLREX, PRFM and everything data-processing or load/store is kept. A word
//!   of a class this generator does not know by name (a newly added `Insn` variant) is
//!   kept only if it is in the load/store encoding group (op0 = x1x0), whose base
//!   register is always Rn = bits 9:5 (exclusives, LSE atomics, CAS); it then gets a
//!   16-byte-aligned address with 16 bytes of room.
//! - No register is reserved. Before each memory access the generator writes the base
//!   register (MOVZ/MOVK, any register the row produced) so that the effective address
//!   — after the immediate offset, pre-index, or the register offset — is inside the
//!   scratch block together with the whole access. Post-index and pre-index writeback
//!   only change the base register. A register offset Rm is set up too (a small value,
//!   with random upper bits when only the low word is used: UXTW/SXTW); if Rm == Rn the
//!   Rm field is rewritten to another register. An SP base is set with
//!   `movz/movk xT; mov sp, xT` through a temporary register T != Rm.
//! - SIMD&FP loads/stores follow the same address rules: LDR/STR B..Q and pairs like the
//!   integer forms; LD1-LD4/ST1-ST4 (multiple, single lane, replicate) access
//!   registers × element bytes at the base, post-index by immediate or register only
//!   writes the base back (the register Rm needs no setup).
//! - PC-relative literal loads (integer and SIMD&FP) get their imm19 rewritten to point
//!   into the scratch block (code and scratch are at the same virtual addresses on both
//!   sides).
//! - Exclusives, load-acquire/store-release and unknown load/store classes get naturally
//!   aligned addresses (they alignment-fault otherwise); ordinary loads and stores are
//!   naturally aligned 3 times in 4 and unaligned otherwise.
//! - Encodings the ARM ARM makes CONSTRAINED UNPREDICTABLE are rejected by
//!   [`unpredictable`], each with its reason.
//! - SP: the initial SP is a 16-byte-aligned scratch address, but instructions may write
//!   any value to it; SP is compared like any register.

use crate::layout::{MAX_WORDS, SCRATCH, SCRATCH_SIZE, SEQ};
use arm_decode::{
    decode, patterns, AddrMode, Extend, Insn, InsnClass, PatternInfo, Reg, RegKind, SysReg,
};

/// splitmix64: small, fast, and good enough for test generation.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability num/den.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }
}

/// The seed of case `index` of a run with `seed`: every case is reproducible alone.
pub fn case_seed(seed: u64, index: u64) -> u64 {
    let mut r = Rng::new(seed ^ index.wrapping_mul(0xd1b5_4a32_d192_ed03));
    r.next_u64()
}

/// One test sequence and the initial state it runs from.
#[derive(Clone, Debug)]
pub struct Case {
    pub index: u64,
    /// Setup and tested words, in order, starting at [`SEQ`].
    pub words: Vec<u32>,
    /// Per word: a tested instruction (true) or generator setup (false).
    pub tested: Vec<bool>,
    pub x: [u64; 31],
    pub sp: u64,
    /// NZCV in bits 31..28.
    pub nzcv: u64,
    /// V0-V31 as (bits 63..0, bits 127..64).
    pub v: [[u64; 2]; 32],
    pub fpcr: u64,
    pub fpsr: u64,
    /// The scratch block is filled from this (see [`crate::layout::fill_scratch`]).
    pub scratch_seed: u64,
}

impl Case {
    /// Tested instructions (setup words not counted).
    pub fn insn_count(&self) -> usize {
        self.tested.iter().filter(|&&t| t).count()
    }
}

/// How the effective address of a kept word is formed (what its setup must produce).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mem {
    /// No memory access (data processing, CLREX, PRFM).
    None,
    /// Base register plus an offset; `bytes` are accessed from the effective address,
    /// which must be a multiple of `align` when `must_align`, else preferably.
    Access {
        rn: Reg,
        off: Off,
        bytes: u64,
        align: u64,
        must_align: bool,
    },
    /// PC-relative literal load of `bytes`.
    Literal { bytes: u64 },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Off {
    /// Effective address = base + imm (offset and pre-index; post-index uses 0).
    Imm(i64),
    /// Effective address = base + (extend(rm) << shift).
    Reg { rm: Reg, extend: Extend, shift: u8 },
}

/// Whether a word is in the A64 load/store encoding group (op0 = x1x0).
pub fn is_ldst_group(word: u32) -> bool {
    word & (1 << 27) != 0 && word & (1 << 25) == 0
}

/// Classifies a decoded word: its memory behaviour if kept, or why it is rejected.
pub fn classify(insn: &Insn, word: u32) -> Result<Mem, &'static str> {
    use Insn::*;
    if is_fp_sysreg(insn) {
        return Ok(Mem::None);
    }
    match insn.class() {
        InsnClass::Unallocated => return Err("unallocated"),
        InsnClass::FpSimd => return Ok(fp_simd_mem(insn)),
        InsnClass::Branch => return Err("branch: would leave the sequence"),
        InsnClass::Exception => return Err("exception-generating"),
        InsnClass::System => return Err("system instruction"),
        InsnClass::DataProcessing => return Ok(Mem::None),
        InsnClass::LoadStore => {}
    }
    Ok(match *insn {
        Clrex { .. } | Prefetch { .. } => Mem::None,
        LoadStore { size, addr, .. } => single_mem(1 << size, addr),
        LoadStorePair { size, addr, .. } => pair_mem(size, addr)?,
        Exclusive { pair, size, rn, .. } => {
            let bytes = (1u64 << size) * if pair { 2 } else { 1 };
            Mem::Access {
                rn,
                off: Off::Imm(0),
                bytes,
                align: bytes,
                must_align: true,
            }
        }
        AcquireRelease { size, rn, .. } => Mem::Access {
            rn,
            off: Off::Imm(0),
            bytes: 1 << size,
            align: 1 << size,
            must_align: true,
        },
        #[allow(unreachable_patterns)]
        _ if is_ldst_group(word) => Mem::Access {
            // Every load/store group encoding without an offset field (exclusives, LSE
            // atomics, CAS/CASP) has its base in bits 9:5, SP-capable.
            rn: Reg::sp(word >> 5),
            off: Off::Imm(0),
            bytes: 16,
            align: 16,
            must_align: true,
        },
        #[allow(unreachable_patterns)]
        _ => return Err("instruction class unknown to the generator"),
    })
}

/// The memory behaviour of a single-register load/store of `bytes` (integer or SIMD&FP).
fn single_mem(bytes: u64, addr: AddrMode) -> Mem {
    match addr {
        AddrMode::Literal { .. } => Mem::Literal { bytes },
        AddrMode::Offset { rn, imm } | AddrMode::PreIndex { rn, imm } => Mem::Access {
            rn,
            off: Off::Imm(imm),
            bytes,
            align: bytes,
            must_align: false,
        },
        AddrMode::PostIndex { rn, .. } => Mem::Access {
            rn,
            off: Off::Imm(0),
            bytes,
            align: bytes,
            must_align: false,
        },
        AddrMode::Reg {
            rn,
            rm,
            extend,
            shift,
            ..
        } => Mem::Access {
            rn,
            off: Off::Reg { rm, extend, shift },
            bytes,
            align: bytes,
            must_align: false,
        },
    }
}

/// The memory behaviour of a pair of registers of `1 << size` bytes each.
fn pair_mem(size: u8, addr: AddrMode) -> Result<Mem, &'static str> {
    let (rn, imm) = match addr {
        AddrMode::Offset { rn, imm } | AddrMode::PreIndex { rn, imm } => (rn, imm),
        AddrMode::PostIndex { rn, .. } => (rn, 0),
        _ => return Err("pair with an unexpected addressing mode"),
    };
    Ok(Mem::Access {
        rn,
        off: Off::Imm(imm),
        bytes: 2 << size,
        align: 1 << size,
        must_align: false,
    })
}

/// The memory behaviour of an FP/SIMD-class word (only the loads and stores access
/// memory). Structure loads/stores transfer everything from the base address; their
/// post-index writeback (by the size or by Rm) only changes the base.
fn fp_simd_mem(insn: &Insn) -> Mem {
    use Insn::*;
    let at = |rn: Reg, bytes: u64, align: u64| Mem::Access {
        rn,
        off: Off::Imm(0),
        bytes,
        align,
        must_align: false,
    };
    match *insn {
        FpLoadStore { size, addr, .. } => single_mem(1 << size, addr),
        FpLoadStorePair { size, addr, .. } => pair_mem(size, addr).unwrap_or(Mem::None),
        SimdLoadStoreMulti { regs, arr, rn, .. } => {
            at(rn, regs as u64 * if arr.q { 16 } else { 8 }, 1 << arr.size)
        }
        SimdLoadStoreLane {
            selem, size, rn, ..
        } => at(rn, (selem as u64) << size, 1 << size),
        SimdLoadReplicate { selem, arr, rn, .. } => {
            at(rn, (selem as u64) << arr.size, 1 << arr.size)
        }
        _ => Mem::None,
    }
}

/// The part of the ISA a word belongs to (what `--only` selects).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// The base (integer, non-FP/SIMD) ISA.
    Base,
    /// Scalar FP: arithmetic, conversions, compares, FMOV (general, immediate).
    FpScalar,
    /// Advanced SIMD floating-point operations (vector and scalar forms).
    FpVector,
    /// Advanced SIMD integer, bitwise and permute operations.
    SimdInt,
    Crypto,
    /// SIMD&FP loads and stores.
    LdstSimd,
}

pub const PARTS: [Part; 6] = [
    Part::Base,
    Part::FpScalar,
    Part::FpVector,
    Part::SimdInt,
    Part::Crypto,
    Part::LdstSimd,
];

/// FPCR and FPSR (op0 3, op1 3, CRn 4, CRm 4, op2 0 / 1).
pub const FPCR: SysReg = SysReg::new(3, 3, 4, 4, 0);
pub const FPSR: SysReg = SysReg::new(3, 3, 4, 4, 1);

/// MRS/MSR of FPCR or FPSR: the only system instructions kept (they test the
/// writable-bit masks and let the FP state change mid-sequence).
pub fn is_fp_sysreg(insn: &Insn) -> bool {
    matches!(insn, Insn::Mrs { reg, .. } | Insn::Msr { reg, .. } if *reg == FPCR || *reg == FPSR)
}

pub fn part_of(insn: &Insn) -> Part {
    use Insn::*;
    if is_fp_sysreg(insn) {
        return Part::FpScalar;
    }
    if insn.class() != InsnClass::FpSimd {
        return Part::Base;
    }
    match insn {
        FpLoadStore { .. }
        | FpLoadStorePair { .. }
        | SimdLoadStoreMulti { .. }
        | SimdLoadStoreLane { .. }
        | SimdLoadReplicate { .. } => Part::LdstSimd,
        _ => match arm_fpsimd::part(insn) {
            arm_fpsimd::Part::FpScalar => Part::FpScalar,
            arm_fpsimd::Part::FpVector => Part::FpVector,
            arm_fpsimd::Part::Crypto => Part::Crypto,
            arm_fpsimd::Part::IntVector | arm_fpsimd::Part::None => Part::SimdInt,
        },
    }
}

/// The `--only` filter: which parts a run generates, and how often.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only {
    All,
    Base,
    /// Scalar FP and AdvSIMD FP.
    Fp,
    FpScalar,
    FpVector,
    /// Everything FP/SIMD (all but the base ISA).
    Simd,
    /// AdvSIMD integer.
    Int,
    Crypto,
    /// SIMD&FP loads and stores.
    Ldst,
}

impl Only {
    pub const NAMES: &'static str =
        "all, base, fp, fp-scalar, fp-vector, simd, int (simd-int), crypto, ldst (ldst-simd)";

    pub fn parse(s: &str) -> Option<Only> {
        Some(match s {
            "all" => Only::All,
            "base" => Only::Base,
            "fp" => Only::Fp,
            "fp-scalar" => Only::FpScalar,
            "fp-vector" => Only::FpVector,
            "simd" => Only::Simd,
            "int" | "simd-int" => Only::Int,
            "crypto" => Only::Crypto,
            "ldst" | "ldst-simd" => Only::Ldst,
            _ => return None,
        })
    }

    /// Relative weight of each of [`PARTS`].
    pub fn weights(self) -> [u64; 6] {
        match self {
            Only::All => [40, 15, 15, 15, 5, 10],
            Only::Base => [1, 0, 0, 0, 0, 0],
            Only::Fp => [0, 1, 1, 0, 0, 0],
            Only::FpScalar => [0, 1, 0, 0, 0, 0],
            Only::FpVector => [0, 0, 1, 0, 0, 0],
            Only::Simd => [0, 25, 25, 25, 8, 17],
            Only::Int => [0, 0, 0, 1, 0, 0],
            Only::Crypto => [0, 0, 0, 0, 1, 0],
            Only::Ldst => [0, 0, 0, 0, 0, 1],
        }
    }
}

fn same_gpr(a: Reg, b: Reg) -> bool {
    matches!((a.kind(), b.kind()), (RegKind::Gpr(x), RegKind::Gpr(y)) if x == y)
}

/// Encodings the ARM ARM (DDI 0487, "Architectural Constraints on UNPREDICTABLE
/// behaviors", K1.2) leaves CONSTRAINED UNPREDICTABLE: hardware and QEMU may legitimately
/// differ from us, so they are never generated. Returns the reason.
/// Encodings where QEMU 7.2 (the oracle) contradicts the Arm ARM, so comparing with it
/// would test QEMU's bug; we follow the architecture and do not generate them. Each
/// has a unit test of the architectural result next to its implementation.
pub fn qemu_deviation(insn: &Insn) -> Option<&'static str> {
    match *insn {
        // FCVTZS Hd, Hn, #fbits: QEMU writes the 16-bit result sign-extended to 32 bits;
        // the pseudocode writes V[d] with the 16-bit element (bits 127..16 zero).
        Insn::SimdScalarShiftImm {
            op: arm_decode::SimdOp::Fcvtzs,
            size: 1,
            ..
        } => Some("scalar FCVTZS (fixed-point) to H: QEMU sign-extends into bits 31..16"),
        _ => None,
    }
}

pub fn unpredictable(insn: &Insn) -> Option<&'static str> {
    match *insn {
        // LDR/STR (immediate, pre/post-index): "if wback && n == t && n != 31"
        // -> Unpredictable_WBOVERLAPLD / WBOVERLAPST (UNKNOWN value loaded/stored).
        Insn::LoadStore {
            rt,
            addr: AddrMode::PreIndex { rn, .. } | AddrMode::PostIndex { rn, .. },
            ..
        } if same_gpr(rt, rn) => Some("LDR/STR writeback with Rn == Rt (WBOVERLAP)"),
        Insn::LoadStorePair {
            load,
            rt,
            rt2,
            addr,
            ..
        } => {
            if let AddrMode::PreIndex { rn, .. } | AddrMode::PostIndex { rn, .. } = addr {
                if same_gpr(rt, rn) || same_gpr(rt2, rn) {
                    return Some("LDP/STP writeback with Rn == Rt or Rt2 (WBOVERLAP)");
                }
            }
            // LDP/LDNP/LDPSW: "if l && t == t2" -> Unpredictable_LDPOVERLAP.
            if load && rt == rt2 {
                return Some("LDP with Rt == Rt2 (LDPOVERLAP)");
            }
            None
        }
        // LDP/LDNP (SIMD&FP): "if L == '1' && t == t2" -> Unpredictable_LDPOVERLAP.
        Insn::FpLoadStorePair {
            load: true,
            rt,
            rt2,
            ..
        } if rt == rt2 => Some("LDP (SIMD&FP) with Rt == Rt2 (LDPOVERLAP)"),
        Insn::Exclusive {
            load,
            pair,
            rs,
            rt,
            rt2,
            rn,
            ..
        } => {
            if load {
                // LDXP/LDAXP: "if pair && l && t == t2" -> Unpredictable_LDPOVERLAP.
                if pair && rt == rt2 {
                    return Some("LDXP with Rt == Rt2 (LDPOVERLAP)");
                }
                None
            } else if same_gpr(rs, rt) || (pair && same_gpr(rs, rt2)) {
                // STXR/STXP: "if s == t || (pair && s == t2)" -> Unpredictable_DATAOVERLAP.
                Some("STXR status register == a data register (DATAOVERLAP)")
            } else if same_gpr(rs, rn) {
                // "if s == n && n != 31" -> Unpredictable_BASEOVERLAP.
                Some("STXR status register == base register (BASEOVERLAP)")
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Exclusive loads/stores have fields shown as (1) in the ARM ARM (should-be-one: Rs of
/// loads, Rt2 of single-register forms); other values are CONSTRAINED UNPREDICTABLE.
/// The generator sets them to ones rather than rejecting the row.
pub fn fix_should_be_one(word: u32, insn: &Insn) -> u32 {
    match *insn {
        Insn::Exclusive { load, pair, .. } => {
            let mut w = word;
            if load {
                w |= 31 << 16;
            }
            if !pair {
                w |= 31 << 10;
            }
            w
        }
        _ => word,
    }
}

/// `movz/movn + movk` for a 64-bit constant.
pub fn mov64(rd: u32, v: u64) -> Vec<u32> {
    let halves: [u16; 4] = std::array::from_fn(|i| (v >> (16 * i)) as u16);
    let ones = halves.iter().filter(|&&h| h == 0xffff).count();
    let zeros = halves.iter().filter(|&&h| h == 0).count();
    let mut out = Vec::new();
    if ones > zeros {
        let first = halves.iter().position(|&h| h != 0xffff).unwrap_or(0);
        out.push(0x9280_0000 | (first as u32) << 21 | (!halves[first] as u32) << 5 | rd);
        for (i, &h) in halves.iter().enumerate() {
            if i != first && h != 0xffff {
                out.push(0xf280_0000 | (i as u32) << 21 | (h as u32) << 5 | rd);
            }
        }
    } else {
        let first = halves.iter().position(|&h| h != 0).unwrap_or(0);
        out.push(0xd280_0000 | (first as u32) << 21 | (halves[first] as u32) << 5 | rd);
        for (i, &h) in halves.iter().enumerate() {
            if i != first && h != 0 {
                out.push(0xf280_0000 | (i as u32) << 21 | (h as u32) << 5 | rd);
            }
        }
    }
    out
}

/// The extension the address calculation applies to a register offset.
pub fn extend_value(v: u64, e: Extend) -> u64 {
    match e {
        Extend::Uxtb => v as u8 as u64,
        Extend::Uxth => v as u16 as u64,
        Extend::Uxtw => v as u32 as u64,
        Extend::Uxtx | Extend::Sxtx => v,
        Extend::Sxtb => v as u8 as i8 as i64 as u64,
        Extend::Sxth => v as u16 as i16 as i64 as u64,
        Extend::Sxtw => v as u32 as i32 as i64 as u64,
    }
}

/// A random register value biased towards edge cases (integer edges, and FP bit
/// patterns for SCVTF/UCVTF, FMOV (general), DUP/INS (general)).
pub fn interesting(rng: &mut Rng) -> u64 {
    const EDGES: [u64; 10] = [
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
        0xffff_ffff_8000_0000,
        0x8000_0000_7fff_ffff,
        0x5555_5555_aaaa_aaaa,
    ];
    match rng.below(10) {
        0 => 0,
        1 => rng.below(32),
        2 => rng.below(32).wrapping_neg(),
        3 => EDGES[rng.below(EDGES.len() as u64) as usize],
        4 => rng.next_u32() as u64,
        5 => rng.next_u32() as i32 as i64 as u64,
        6 => fp_special(rng, FP_D),
        // A single or half in the low bits, the rest random one time in two.
        7 => {
            let f = if rng.chance(1, 2) { FP_S } else { FP_H };
            let hi = if rng.chance(1, 2) {
                rng.next_u64() << f.bits()
            } else {
                0
            };
            fp_special(rng, f) | hi
        }
        _ => rng.next_u64(),
    }
}

/// An IEEE binary format: exponent and fraction widths.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FpFormat {
    pub exp: u32,
    pub frac: u32,
}

pub const FP_H: FpFormat = FpFormat { exp: 5, frac: 10 };
pub const FP_S: FpFormat = FpFormat { exp: 8, frac: 23 };
pub const FP_D: FpFormat = FpFormat { exp: 11, frac: 52 };

impl FpFormat {
    pub fn bits(self) -> u32 {
        1 + self.exp + self.frac
    }

    pub fn bias(self) -> u64 {
        (1 << (self.exp - 1)) - 1
    }

    /// The all-ones exponent (infinities and NaNs).
    fn emax(self) -> u64 {
        (1 << self.exp) - 1
    }

    fn frac_mask(self) -> u64 {
        (1 << self.frac) - 1
    }

    fn enc(self, exp: u64, frac: u64) -> u64 {
        (exp & self.emax()) << self.frac | (frac & self.frac_mask())
    }

    /// n · 2^k exactly (1 <= n < 2^(frac+1), no overflow); saturates to infinity.
    pub fn int(self, n: u64, k: i64) -> u64 {
        let p = 63 - n.max(1).leading_zeros() as i64;
        let exp = self.bias() as i64 + p + k;
        if exp >= self.emax() as i64 {
            return self.enc(self.emax(), 0);
        }
        let frac = (n.max(1) - (1 << p)) << (self.frac as i64 - p).max(0);
        self.enc(exp.max(0) as u64, frac)
    }
}

/// An FP value of format `f` biased towards the special cases (random sign).
pub fn fp_special(rng: &mut Rng, f: FpFormat) -> u64 {
    // Powers of two where integer conversions saturate or lose precision.
    const BOUNDARIES: [i64; 14] = [7, 8, 10, 11, 15, 16, 23, 24, 31, 32, 52, 53, 63, 64];
    let sign = rng.below(2) << (f.exp + f.frac);
    let fm = f.frac_mask();
    let quiet = 1 << (f.frac - 1);
    let body = match rng.below(16) {
        0 => 0,
        1 => f.enc(f.emax(), 0),
        // qNaN with a random payload (the default NaN one time in four).
        2 => {
            let payload = if rng.chance(1, 4) {
                0
            } else {
                rng.next_u64() & (quiet - 1)
            };
            f.enc(f.emax(), quiet | payload)
        }
        // sNaN: quiet bit clear, payload nonzero.
        3 => f.enc(f.emax(), (rng.next_u64() & (quiet - 1)).max(1)),
        // Denormals: smallest, largest, random.
        4 => match rng.below(3) {
            0 => 1,
            1 => fm,
            _ => (rng.next_u64() & fm).max(1),
        },
        // Smallest normals.
        5 => f.enc(1, if rng.chance(1, 2) { 0 } else { rng.next_u64() }),
        // Largest finite, and its neighbour.
        6 => f.enc(f.emax() - 1, fm - rng.below(2)),
        // 1.0, 0.5, 2.0 and 1.0 ± ulp.
        7 => match rng.below(5) {
            0 => f.int(1, 0),
            1 => f.int(1, -1),
            2 => f.int(1, 1),
            3 => f.int(1, 0) + 1,
            _ => f.int(1, 0) - 1,
        },
        // 2^p, 2^p - ulp, 2^p + ulp at integer-conversion boundaries that fit.
        8 => {
            let fits: Vec<i64> = BOUNDARIES
                .iter()
                .copied()
                .filter(|&p| f.bias() as i64 + p < f.emax() as i64)
                .collect();
            let p = fits[rng.below(fits.len() as u64) as usize];
            let two_p = f.int(1, p);
            match rng.below(3) {
                0 => two_p,
                1 => two_p - 1,
                _ => two_p + 1,
            }
        }
        // Small integers and halves (rounding ties: 0.5, 1.5, 2.5, ...).
        9 => f.int(1 + rng.below(16), 0),
        10 => f.int(1 + 2 * rng.below(8), -1),
        // Random finite with a moderate exponent (|x| in 2^-8 .. 2^24).
        11 | 12 => {
            let e =
                (f.bias() as i64 - 8 + rng.below(33) as i64).clamp(1, f.emax() as i64 - 1) as u64;
            f.enc(e, rng.next_u64())
        }
        _ => rng.next_u64() & (f.enc(f.emax(), fm)),
    };
    sign | body
}

/// A lane of `8 << size` bits at an integer edge (0, ±1, MIN, MAX, small, random).
pub fn int_edge(rng: &mut Rng, size: u32) -> u64 {
    let bits = 8u32 << size;
    let mask = if bits == 64 {
        u64::MAX
    } else {
        (1 << bits) - 1
    };
    let v = match rng.below(8) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,
        3 => 1 << (bits - 1),
        4 => (1 << (bits - 1)) - 1,
        5 => rng.below(8),
        6 => rng.below(8).wrapping_neg(),
        _ => rng.next_u64(),
    };
    v & mask
}

/// An initial V register: random bits, lanes of one FP format's specials, or integer
/// edges for one lane size.
pub fn v_value(rng: &mut Rng) -> [u64; 2] {
    fn lanes(rng: &mut Rng, size: u32, lane: impl Fn(&mut Rng) -> u64) -> [u64; 2] {
        let bits = 8u32 << size;
        let mut v = 0u128;
        for i in 0..128 / bits {
            v |= (lane(rng) as u128) << (i * bits);
        }
        [v as u64, (v >> 64) as u64]
    }
    match rng.below(8) {
        0 => [rng.next_u64(), rng.next_u64()],
        1 | 2 => {
            let size = rng.below(4) as u32;
            lanes(rng, size, |r| int_edge(r, size))
        }
        3 | 4 => lanes(rng, 1, |r| fp_special(r, FP_H)),
        5 | 6 => lanes(rng, 2, |r| fp_special(r, FP_S)),
        _ => lanes(rng, 3, |r| fp_special(r, FP_D)),
    }
}

/// FPCR bits QEMU keeps (`msr fpcr` with all ones reads back 0x07ff_0000 on
/// qemu-aarch64 7.2 `-cpu max`) that matter in AArch64: AHP, DN, FZ, RMode, FZ16.
pub const FPCR_GEN_MASK: u64 = 0x07c8_0000;
/// FPSR bits an initial FPSR may have: QC and the cumulative exception flags.
pub const FPSR_GEN_MASK: u64 = 0x0800_009f;

/// An initial FPCR: the default one time in three, else a random rounding mode with
/// each of FZ, DN, AHP, FZ16 set one time in two.
pub fn fpcr_value(rng: &mut Rng) -> u64 {
    if rng.chance(1, 3) {
        return 0;
    }
    let mut f = rng.below(4) << 22;
    for bit in [24, 25, 26, 19] {
        if rng.chance(1, 2) {
            f |= 1 << bit;
        }
    }
    f
}

/// An initial FPSR: clear three times in four (so raised flags show), else random flags.
pub fn fpsr_value(rng: &mut Rng) -> u64 {
    if rng.chance(3, 4) {
        0
    } else {
        rng.next_u64() & FPSR_GEN_MASK
    }
}

/// What earlier instructions of the sequence being generated constrain.
#[derive(Default)]
struct SeqState {
    /// Scratch offsets accessed so far: one access in three reuses one, so loads see
    /// earlier stores and store-exclusives meet their load-exclusive.
    targets: Vec<u64>,
    /// (size, pair) of the last load-exclusive.
    excl: Option<(u8, bool)>,
}

/// A scratch offset for an access of `bytes` aligned to `align`: new, or (one time in
/// three) an earlier target rounded down to the alignment.
fn pick_target(rng: &mut Rng, targets: &mut Vec<u64>, bytes: u64, align: u64) -> u64 {
    let t = if !targets.is_empty() && rng.chance(1, 3) {
        let old = targets[rng.below(targets.len() as u64) as usize];
        (old.min(SCRATCH_SIZE - bytes) / align) * align
    } else {
        rng.below((SCRATCH_SIZE - bytes) / align + 1) * align
    };
    targets.push(t);
    t
}

/// The generator: per [`Part`], the pattern rows that can produce a kept word of it.
pub struct Generator {
    pools: [Vec<PatternInfo>; 6],
    weights: [u64; 6],
}

impl Default for Generator {
    fn default() -> Self {
        Self::new()
    }
}

/// One generated tested instruction with its setup.
struct Emitted {
    setup: Vec<u32>,
    word: u32,
}

impl Generator {
    pub fn new() -> Generator {
        Generator::with_only(Only::All)
    }

    pub fn with_only(only: Only) -> Generator {
        let mut rng = Rng::new(0x5eed);
        let mut pools: [Vec<PatternInfo>; 6] = Default::default();
        let mut weights = only.weights();
        for p in patterns() {
            let mut seen = [false; 6];
            for _ in 0..400 {
                let w = p.value | (rng.next_u32() & !p.mask);
                let insn = decode(w);
                if classify(&insn, w).is_ok() {
                    let part = part_of(&insn);
                    if let Some(i) = PARTS.iter().position(|&q| q == part) {
                        seen[i] = true;
                    }
                }
            }
            for (i, pool) in pools.iter_mut().enumerate() {
                if seen[i] {
                    pool.push(p);
                }
            }
        }
        for (w, pool) in weights.iter_mut().zip(&pools) {
            if pool.is_empty() {
                *w = 0;
            }
        }
        if weights.iter().all(|&w| w == 0) {
            // Cannot happen with the real table; generate the base ISA rather than spin.
            weights = [1, 0, 0, 0, 0, 0];
        }
        // The table always has base rows; guard `pick_part` against an empty pool anyway.
        if pools[0].is_empty() {
            pools[0].push(PatternInfo {
                name: "movz",
                mask: 0xff80_0000,
                value: 0xd280_0000,
            });
        }
        Generator { pools, weights }
    }

    /// Names of the pattern rows in use (each once).
    pub fn rows(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = Vec::new();
        let used = self.pools.iter().zip(&self.weights).filter(|(_, &w)| w > 0);
        for p in used.flat_map(|(pool, _)| pool) {
            if !v.contains(&p.name) {
                v.push(p.name);
            }
        }
        v
    }

    /// The rows in use for `part`.
    pub fn rows_of(&self, part: Part) -> Vec<PatternInfo> {
        PARTS
            .iter()
            .position(|&q| q == part)
            .map(|i| self.pools[i].clone())
            .unwrap_or_default()
    }

    /// A part by the weights.
    fn pick_part(&self, rng: &mut Rng) -> usize {
        let total: u64 = self.weights.iter().sum();
        let mut r = rng.below(total.max(1));
        let mut i = 0;
        while i + 1 < self.weights.len() && r >= self.weights[i] {
            r -= self.weights[i];
            i += 1;
        }
        i
    }

    /// Case `index` of the run with `seed`, with up to `max_insns` tested instructions.
    pub fn case(&self, seed: u64, index: u64, max_insns: u64) -> Case {
        let mut rng = Rng::new(case_seed(seed, index));
        let n = 1 + rng.below(max_insns.max(1));
        let x = std::array::from_fn(|_| interesting(&mut rng));
        let sp = SCRATCH + 16 * rng.below(SCRATCH_SIZE / 16);
        let nzcv = rng.below(16) << 28;
        let mut v = [[0u64; 2]; 32];
        for i in 0..32 {
            // One register in eight repeats an earlier one: equal operands matter
            // (FMAX/FMIN of equal values, compares, NaN propagation order).
            v[i] = if i > 0 && rng.chance(1, 8) {
                v[rng.below(i as u64) as usize]
            } else {
                v_value(&mut rng)
            };
        }
        let fpcr = fpcr_value(&mut rng);
        let fpsr = fpsr_value(&mut rng);
        let scratch_seed = rng.next_u64();
        let mut words = Vec::new();
        let mut tested = Vec::new();
        let mut seq = SeqState::default();
        for _ in 0..n {
            let e = self.insn(&mut rng, SEQ + 4 * words.len() as u64, &mut seq);
            if words.len() + e.setup.len() + 1 >= MAX_WORDS {
                break;
            }
            tested.extend(std::iter::repeat_n(false, e.setup.len()));
            words.extend(e.setup);
            words.push(e.word);
            tested.push(true);
        }
        Case {
            index,
            words,
            tested,
            x,
            sp,
            nzcv,
            v,
            fpcr,
            fpsr,
            scratch_seed,
        }
    }

    /// One kept word and its setup; `pc` is where the setup starts.
    fn insn(&self, rng: &mut Rng, pc: u64, seq: &mut SeqState) -> Emitted {
        let targets = &mut seq.targets;
        // The part is chosen once: retrying rejected words within it keeps the mix at
        // the weights however often a part's rows produce rejected words.
        let pi = self.pick_part(rng);
        let (part, pool) = (PARTS[pi], &self.pools[pi]);
        if part == Part::FpScalar && rng.chance(1, 16) {
            // MRS/MSR FPCR/FPSR: msr fpcr, xT / mrs xT, fpcr / msr fpsr / mrs fpsr.
            const OPS: [u32; 4] = [0xd51b_4400, 0xd53b_4400, 0xd51b_4420, 0xd53b_4420];
            let word = OPS[rng.below(4) as usize] | rng.below(32) as u32;
            return Emitted {
                setup: Vec::new(),
                word,
            };
        }
        loop {
            let p = pool[rng.below(pool.len() as u64) as usize];
            let mut w = p.value | (rng.next_u32() & !p.mask);
            w = fix_should_be_one(w, &decode(w));
            let mut insn = decode(w);
            if part_of(&insn) != part {
                continue;
            }
            let Ok(mut mem) = classify(&insn, w) else {
                continue;
            };
            // A register offset equal to the base cannot be set up independently.
            if let Mem::Access {
                rn,
                off: Off::Reg { rm, .. },
                ..
            } = mem
            {
                if same_gpr(rn, rm) {
                    let new_rm = (rm.encoding() as u32 + 1 + rng.below(29) as u32) % 31;
                    w = (w & !(31 << 16)) | new_rm << 16;
                    insn = decode(w);
                    let Ok(m) = classify(&insn, w) else { continue };
                    mem = m;
                }
            }
            if unpredictable(&insn).is_some() || qemu_deviation(&insn).is_some() {
                continue;
            }
            // ARM ARM B2.9.5 (Load-Exclusive and Store-Exclusive usage restrictions): a
            // Store-Exclusive whose transaction size differs from the preceding
            // Load-Exclusive's is CONSTRAINED UNPREDICTABLE (may pass or fail, memory
            // UNKNOWN). After a load-exclusive, only store-exclusives of its size are kept.
            if let Insn::Exclusive {
                load, pair, size, ..
            } = insn
            {
                if load {
                    seq.excl = Some((size, pair));
                } else if seq.excl.is_some_and(|e| e != (size, pair)) {
                    continue;
                }
            }
            let mut setup = Vec::new();
            match mem {
                Mem::None => {}
                Mem::Literal { bytes } => {
                    let a = if rng.chance(3, 4) { bytes.max(4) } else { 4 };
                    let t = pick_target(rng, targets, bytes, a);
                    let off = (SCRATCH + t).wrapping_sub(pc) as i64;
                    let imm19 = ((off >> 2) as u32) & 0x7ffff;
                    w = (w & !(0x7ffff << 5)) | imm19 << 5;
                }
                Mem::Access {
                    rn,
                    off,
                    bytes,
                    align,
                    must_align,
                } => {
                    let a = if must_align || rng.chance(3, 4) {
                        align
                    } else {
                        1
                    };
                    let t = pick_target(rng, targets, bytes, a);
                    let mut avoid = None;
                    let offset = match off {
                        Off::Imm(i) => i as u64,
                        Off::Reg { rm, extend, shift } => match rm.gpr() {
                            None => 0,
                            Some(m) => {
                                avoid = Some(m as u64);
                                let small = rng.below(128).wrapping_sub(64);
                                let val = match extend {
                                    Extend::Uxtw => rng.next_u64() << 32 | rng.below(64),
                                    Extend::Sxtw => rng.next_u64() << 32 | small as u32 as u64,
                                    Extend::Uxtx | Extend::Sxtx => small,
                                    _ => rng.below(64),
                                };
                                setup.extend(mov64(m as u32, val));
                                extend_value(val, extend) << shift
                            }
                        },
                    };
                    let base = (SCRATCH + t).wrapping_sub(offset);
                    match rn.gpr() {
                        Some(n) => setup.extend(mov64(n as u32, base)),
                        None => {
                            // SP base: through a temporary register != Rm.
                            let tmp = loop {
                                let r = rng.below(31);
                                if Some(r) != avoid {
                                    break r as u32;
                                }
                            };
                            setup.extend(mov64(tmp, base));
                            setup.push(0x9100_001f | tmp << 5); // mov sp, xT
                        }
                    }
                }
            }
            return Emitted { setup, word: w };
        }
    }
}
