//! The random sequence generator: picks rows of the decoder's pattern table, fills their
//! free bits at random, keeps every integer data-processing and load/store form, and
//! puts setup instructions in front of each memory access so that it lands in the
//! scratch block.
//!
//! Rules (checked by the unit tests):
//! - Tested words are classified with `arm_decode::decode`. Branches (they would leave the
//!   sequence), exceptions, hints, barriers, MRS/MSR/SYS and unallocated words are
//!   rejected; CLREX, PRFM and everything data-processing or load/store is kept. A word
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
//! - PC-relative literal loads get their imm19 rewritten to point into the scratch block
//!   (code and scratch are at the same virtual addresses on both sides).
//! - Exclusives, load-acquire/store-release and unknown load/store classes get naturally
//!   aligned addresses (they alignment-fault otherwise); ordinary loads and stores are
//!   naturally aligned 3 times in 4 and unaligned otherwise.
//! - Encodings the ARM ARM makes CONSTRAINED UNPREDICTABLE are rejected by
//!   [`unpredictable`], each with its reason.
//! - SP: the initial SP is a 16-byte-aligned scratch address, but instructions may write
//!   any value to it; SP is compared like any register.

use crate::layout::{MAX_WORDS, SCRATCH, SCRATCH_SIZE, SEQ};
use arm_decode::{decode, patterns, AddrMode, Extend, Insn, InsnClass, PatternInfo, Reg, RegKind};

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
    match insn.class() {
        InsnClass::Unallocated => return Err("unallocated"),
        InsnClass::FpSimd => return Err("FP/SIMD: not implemented yet"),
        InsnClass::Branch => return Err("branch: would leave the sequence"),
        InsnClass::Exception => return Err("exception-generating"),
        InsnClass::System => return Err("system instruction"),
        InsnClass::DataProcessing => return Ok(Mem::None),
        InsnClass::LoadStore => {}
    }
    Ok(match *insn {
        Clrex { .. } | Prefetch { .. } => Mem::None,
        LoadStore { size, addr, .. } => {
            let bytes = 1u64 << size;
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
        LoadStorePair { size, addr, .. } => {
            let (rn, imm) = match addr {
                AddrMode::Offset { rn, imm } | AddrMode::PreIndex { rn, imm } => (rn, imm),
                AddrMode::PostIndex { rn, .. } => (rn, 0),
                _ => return Err("pair with an unexpected addressing mode"),
            };
            Mem::Access {
                rn,
                off: Off::Imm(imm),
                bytes: 2 << size,
                align: 1 << size,
                must_align: false,
            }
        }
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

fn same_gpr(a: Reg, b: Reg) -> bool {
    matches!((a.kind(), b.kind()), (RegKind::Gpr(x), RegKind::Gpr(y)) if x == y)
}

/// Encodings the ARM ARM (DDI 0487, "Architectural Constraints on UNPREDICTABLE
/// behaviors", K1.2) leaves CONSTRAINED UNPREDICTABLE: hardware and QEMU may legitimately
/// differ from us, so they are never generated. Returns the reason.
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

/// A random register value biased towards edge cases.
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
    match rng.below(8) {
        0 => 0,
        1 => rng.below(32),
        2 => rng.below(32).wrapping_neg(),
        3 => EDGES[rng.below(EDGES.len() as u64) as usize],
        4 => rng.next_u32() as u64,
        5 => rng.next_u32() as i32 as i64 as u64,
        _ => rng.next_u64(),
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

/// The generator: the pattern rows that can produce a kept word.
pub struct Generator {
    pool: Vec<PatternInfo>,
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
        let mut rng = Rng::new(0x5eed);
        let pool = patterns()
            .into_iter()
            .filter(|p| {
                (0..400).any(|_| {
                    let w = p.value | (rng.next_u32() & !p.mask);
                    classify(&decode(w), w).is_ok()
                })
            })
            .collect();
        Generator { pool }
    }

    /// Names of the pattern rows in use.
    pub fn rows(&self) -> Vec<&'static str> {
        self.pool.iter().map(|p| p.name).collect()
    }

    /// Case `index` of the run with `seed`, with up to `max_insns` tested instructions.
    pub fn case(&self, seed: u64, index: u64, max_insns: u64) -> Case {
        let mut rng = Rng::new(case_seed(seed, index));
        let n = 1 + rng.below(max_insns.max(1));
        let x = std::array::from_fn(|_| interesting(&mut rng));
        let sp = SCRATCH + 16 * rng.below(SCRATCH_SIZE / 16);
        let nzcv = rng.below(16) << 28;
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
            scratch_seed,
        }
    }

    /// One kept word and its setup; `pc` is where the setup starts.
    fn insn(&self, rng: &mut Rng, pc: u64, seq: &mut SeqState) -> Emitted {
        let targets = &mut seq.targets;
        loop {
            let p = self.pool[rng.below(self.pool.len() as u64) as usize];
            let mut w = p.value | (rng.next_u32() & !p.mask);
            w = fix_should_be_one(w, &decode(w));
            let mut insn = decode(w);
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
            if unpredictable(&insn).is_some() {
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
