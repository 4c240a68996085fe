//! The declarative encoding table, its pattern parser and the lookup.
//!
//! Each entry is a 32-character-wide bit pattern (MSB first; `0`/`1` literal,
//! `x` don't care, `name:width` a field) and a constructor that turns the
//! extracted fields into an [`Insn`]. Patterns are parsed once into mask/value
//! pairs and bucketed by bits 28..21 so a lookup scans only a handful of them.

use crate::bitmask::decode_bit_masks;
use crate::insn::*;
use crate::sysreg::SysReg;
use std::sync::OnceLock;

mod fp;
mod simd;
mod simd_rows;
use fp::*;
use simd::*;

/// Field names usable in patterns; the constructor reads them by this index.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum F {
    Sf,
    Op,
    S,
    Sh,
    Imm12,
    Rn,
    Rd,
    Rm,
    Rt,
    Rt2,
    Rs,
    Ra,
    Opc,
    N,
    Immr,
    Imms,
    Hw,
    Imm16,
    Immlo,
    Immhi,
    Imm19,
    Imm26,
    Imm14,
    B5,
    B40,
    Cond,
    Shift,
    Imm6,
    Option,
    Imm3,
    O0,
    O2,
    L,
    Size,
    Sz,
    Imm9,
    Idx,
    Imm7,
    Nzcv,
    I,
    Op31,
    Opcode,
    Ll,
    Crm,
    Crn,
    Op1,
    Op2,
    A,
    R,
    O3,
    Q,
    Ftype,
    Rmode,
    Scale,
    Imm8,
    O1,
    U,
    Immh,
    Immb,
    Imm5,
    Imm4,
    Cmode,
    Abc,
    Defgh,
    H,
    M,
    Len,
}

const FIELD_NAMES: &[(&str, F)] = &[
    ("sf", F::Sf),
    ("op", F::Op),
    ("s", F::S),
    ("sh", F::Sh),
    ("imm12", F::Imm12),
    ("rn", F::Rn),
    ("rd", F::Rd),
    ("rm", F::Rm),
    ("rt", F::Rt),
    ("rt2", F::Rt2),
    ("rs", F::Rs),
    ("ra", F::Ra),
    ("opc", F::Opc),
    ("n", F::N),
    ("immr", F::Immr),
    ("imms", F::Imms),
    ("hw", F::Hw),
    ("imm16", F::Imm16),
    ("immlo", F::Immlo),
    ("immhi", F::Immhi),
    ("imm19", F::Imm19),
    ("imm26", F::Imm26),
    ("imm14", F::Imm14),
    ("b5", F::B5),
    ("b40", F::B40),
    ("cond", F::Cond),
    ("shift", F::Shift),
    ("imm6", F::Imm6),
    ("option", F::Option),
    ("imm3", F::Imm3),
    ("o0", F::O0),
    ("o2", F::O2),
    ("l", F::L),
    ("size", F::Size),
    ("sz", F::Sz),
    ("imm9", F::Imm9),
    ("idx", F::Idx),
    ("imm7", F::Imm7),
    ("nzcv", F::Nzcv),
    ("i", F::I),
    ("op31", F::Op31),
    ("opcode", F::Opcode),
    ("ll", F::Ll),
    ("crm", F::Crm),
    ("crn", F::Crn),
    ("op1", F::Op1),
    ("op2", F::Op2),
    ("a", F::A),
    ("r", F::R),
    ("o3", F::O3),
    ("q", F::Q),
    ("ftype", F::Ftype),
    ("rmode", F::Rmode),
    ("scale", F::Scale),
    ("imm8", F::Imm8),
    ("o1", F::O1),
    ("u", F::U),
    ("immh", F::Immh),
    ("immb", F::Immb),
    ("imm5", F::Imm5),
    ("imm4", F::Imm4),
    ("cmode", F::Cmode),
    ("abc", F::Abc),
    ("defgh", F::Defgh),
    ("h", F::H),
    ("m", F::M),
    ("len", F::Len),
];

const NUM_FIELDS: usize = F::Len as usize + 1;

/// Where each field sits in a pattern: (lsb, width); width 0 = absent.
type Layout = [(u8, u8); NUM_FIELDS];

/// One word plus its pattern's field layout; fields are extracted on demand
/// (cheaper than filling a table of every field up front). Absent fields read 0.
pub(crate) struct Fields<'a> {
    word: u32,
    layout: &'a Layout,
}

impl Fields<'_> {
    #[inline]
    fn get(&self, f: F) -> u32 {
        let (lsb, width) = self.layout[f as usize];
        // Width is at most 26, so the shifts cannot overflow.
        (self.word >> lsb) & ((1u32 << width) - 1)
    }
}

fn layout_of(fields: &[(F, u8, u8)]) -> Layout {
    let mut l = [(0u8, 0u8); NUM_FIELDS];
    for &(f, lsb, w) in fields {
        l[f as usize] = (lsb, w.min(31));
    }
    l
}

type Build = fn(&Fields<'_>, u32) -> Insn;

/// One row of the encoding table.
pub(crate) struct Entry {
    /// Unique name, used by `beats` and in test messages.
    pub name: &'static str,
    pub pattern: &'static str,
    pub build: Build,
    /// Entries this one deliberately overlaps and takes priority over.
    pub beats: &'static [&'static str],
}

/// A parsed pattern.
#[derive(Debug, Clone)]
pub(crate) struct Parsed {
    pub mask: u32,
    pub value: u32,
    /// (field, lsb, width)
    pub fields: Vec<(F, u8, u8)>,
}

/// Parse a pattern string; errors describe what is wrong (used by tests).
pub(crate) fn parse_pattern(p: &str) -> Result<Parsed, String> {
    let mut bit = 32i32; // next bit position + 1, counting down from the MSB
    let mut mask = 0u32;
    let mut value = 0u32;
    let mut fields: Vec<(F, u8, u8)> = Vec::new();
    for tok in p.split_whitespace() {
        if let Some((name, w)) = tok.split_once(':') {
            let w: i32 = w.parse().map_err(|_| format!("bad width in {tok}"))?;
            if w < 1 {
                return Err(format!("zero width in {tok}"));
            }
            let f = FIELD_NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|&(_, f)| f)
                .ok_or_else(|| format!("unknown field {name}"))?;
            if fields.iter().any(|&(g, _, _)| g == f) {
                return Err(format!("duplicate field {name}"));
            }
            bit -= w;
            if bit < 0 {
                return Err(format!("pattern longer than 32 bits at {tok}"));
            }
            fields.push((f, bit as u8, w as u8));
        } else {
            for c in tok.chars() {
                bit -= 1;
                if bit < 0 {
                    return Err(format!("pattern longer than 32 bits at {tok}"));
                }
                match c {
                    '0' => mask |= 1 << bit,
                    '1' => {
                        mask |= 1 << bit;
                        value |= 1 << bit;
                    }
                    'x' => {}
                    _ => return Err(format!("bad character {c:?}")),
                }
            }
        }
    }
    if bit != 0 {
        return Err(format!("pattern is {} bits, not 32", 32 - bit));
    }
    Ok(Parsed {
        mask,
        value,
        fields,
    })
}

/// Bits of the word used to pick a bucket: 28..21.
const KEY_SHIFT: u32 = 21;
const KEY_BITS: u32 = 8;

struct Compiled {
    mask: u32,
    value: u32,
    layout: Layout,
    build: Build,
}

struct Table {
    entries: Vec<Compiled>,
    buckets: Vec<Vec<u16>>,
}

fn table() -> &'static Table {
    static T: OnceLock<Table> = OnceLock::new();
    T.get_or_init(build_table)
}

/// Priority rank: an entry ranks above everything it beats (transitively).
pub(crate) fn ranks() -> Vec<u32> {
    fn rank(i: usize, seen: &mut Vec<Option<u32>>, depth: usize) -> u32 {
        if let Some(r) = seen[i] {
            return r;
        }
        // Depth cap keeps a (test-rejected) cycle from recursing forever.
        if depth > ENTRIES.len() {
            return 0;
        }
        let mut r = 0;
        for b in ENTRIES[i].beats {
            if let Some(j) = ENTRIES.iter().position(|e| e.name == *b) {
                r = r.max(rank(j, seen, depth + 1) + 1);
            }
        }
        seen[i] = Some(r);
        r
    }
    let mut seen = vec![None; ENTRIES.len()];
    (0..ENTRIES.len()).map(|i| rank(i, &mut seen, 0)).collect()
}

fn build_table() -> Table {
    let ranks = ranks();
    let mut entries = Vec::with_capacity(ENTRIES.len());
    for e in ENTRIES {
        // Malformed patterns are caught by the table tests; at run time they
        // simply never match.
        let p = parse_pattern(e.pattern).unwrap_or(Parsed {
            mask: 0xffff_ffff,
            value: 0,
            fields: Vec::new(),
        });
        entries.push(Compiled {
            mask: p.mask,
            value: p.value,
            layout: layout_of(&p.fields),
            build: e.build,
        });
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    // Higher rank first; stable, so table order breaks ties.
    order.sort_by_key(|&i| std::cmp::Reverse(ranks[i]));
    let kmask = (1u32 << KEY_BITS) - 1;
    let mut buckets = vec![Vec::new(); 1 << KEY_BITS];
    for (key, bucket) in buckets.iter_mut().enumerate() {
        let kw = (key as u32) << KEY_SHIFT;
        for &i in &order {
            let c = &entries[i];
            let m = c.mask & (kmask << KEY_SHIFT);
            if kw & m == c.value & m {
                bucket.push(i as u16);
            }
        }
    }
    Table { entries, buckets }
}

/// Decode one instruction word. Never panics.
pub fn decode(word: u32) -> Insn {
    let t = table();
    let key = ((word >> KEY_SHIFT) & ((1 << KEY_BITS) - 1)) as usize;
    let Some(bucket) = t.buckets.get(key) else {
        return Insn::Unallocated(word);
    };
    for &i in bucket {
        let Some(c) = t.entries.get(i as usize) else {
            continue;
        };
        if word & c.mask == c.value {
            let f = Fields {
                word,
                layout: &c.layout,
            };
            return (c.build)(&f, word);
        }
    }
    Insn::Unallocated(word)
}

/// Sign-extend the low `bits` bits of `v`.
fn sx(v: u32, bits: u32) -> i64 {
    let sh = 64 - bits;
    ((v as u64) << sh) as i64 >> sh
}

fn zr(v: u32) -> Reg {
    Reg::zr(v)
}

fn sp(v: u32) -> Reg {
    Reg::sp(v)
}

pub(crate) static ENTRIES: &[Entry] = &[
    // ---- Data processing (immediate) ----
    Entry {
        name: "adr",
        pattern: "op:1 immlo:2 10000 immhi:19 rd:5",
        build: b_adr,
        beats: &[],
    },
    Entry {
        name: "addsub_imm",
        pattern: "sf:1 op:1 s:1 100010 sh:1 imm12:12 rn:5 rd:5",
        build: b_addsub_imm,
        beats: &[],
    },
    Entry {
        name: "logical_imm",
        pattern: "sf:1 opc:2 100100 n:1 immr:6 imms:6 rn:5 rd:5",
        build: b_logical_imm,
        beats: &[],
    },
    Entry {
        name: "move_wide",
        pattern: "sf:1 opc:2 100101 hw:2 imm16:16 rd:5",
        build: b_move_wide,
        beats: &[],
    },
    Entry {
        name: "bitfield",
        pattern: "sf:1 opc:2 100110 n:1 immr:6 imms:6 rn:5 rd:5",
        build: b_bitfield,
        beats: &[],
    },
    Entry {
        name: "extr",
        pattern: "sf:1 00 100111 n:1 0 rm:5 imms:6 rn:5 rd:5",
        build: b_extr,
        beats: &[],
    },
    // ---- Branches, exceptions, system ----
    Entry {
        name: "b",
        pattern: "op:1 00101 imm26:26",
        build: b_branch,
        beats: &[],
    },
    Entry {
        name: "cb",
        pattern: "sf:1 011010 op:1 imm19:19 rt:5",
        build: b_cb,
        beats: &[],
    },
    Entry {
        name: "tb",
        pattern: "b5:1 011011 op:1 b40:5 imm14:14 rt:5",
        build: b_tb,
        beats: &[],
    },
    Entry {
        name: "bcond",
        pattern: "01010100 imm19:19 0 cond:4",
        build: b_bcond,
        beats: &[],
    },
    Entry {
        name: "exception",
        pattern: "11010100 opc:3 imm16:16 000 ll:2",
        build: b_exception,
        beats: &[],
    },
    Entry {
        name: "hint",
        pattern: "1101010100 0 00 011 0010 crm:4 op2:3 11111",
        build: b_hint,
        beats: &[],
    },
    Entry {
        name: "barrier",
        pattern: "1101010100 0 00 011 0011 crm:4 op2:3 11111",
        build: b_barrier,
        beats: &[],
    },
    Entry {
        name: "msr_imm",
        pattern: "1101010100 0 00 op1:3 0100 crm:4 op2:3 11111",
        build: b_msr_imm,
        beats: &[],
    },
    Entry {
        name: "sys",
        pattern: "1101010100 l:1 01 op1:3 crn:4 crm:4 op2:3 rt:5",
        build: b_sys,
        beats: &[],
    },
    Entry {
        name: "sysreg",
        pattern: "1101010100 l:1 1 o0:1 op1:3 crn:4 crm:4 op2:3 rt:5",
        build: b_sysreg,
        beats: &[],
    },
    Entry {
        name: "branch_reg",
        pattern: "1101011 opc:4 11111 000000 rn:5 00000",
        build: b_branch_reg,
        beats: &[],
    },
    // ---- Loads and stores ----
    Entry {
        name: "ldst_excl",
        pattern: "size:2 001000 0 l:1 0 rs:5 o0:1 rt2:5 rn:5 rt:5",
        build: b_excl,
        beats: &[],
    },
    Entry {
        name: "ldst_excl_pair",
        pattern: "1 sz:1 001000 0 l:1 1 rs:5 o0:1 rt2:5 rn:5 rt:5",
        build: b_excl_pair,
        beats: &[],
    },
    Entry {
        name: "ldar_stlr",
        // Rs and Rt2 are should-be-one; objdump (and later architecture versions)
        // treat other values as unallocated.
        pattern: "size:2 001000 1 l:1 0 11111 1 11111 rn:5 rt:5",
        build: b_ldar_stlr,
        beats: &[],
    },
    Entry {
        name: "cas",
        // Rt2 (bits 14:10) is should-be-one; objdump treats other values as unallocated.
        pattern: "size:2 001000 1 l:1 1 rs:5 o0:1 11111 rn:5 rt:5",
        build: b_cas,
        beats: &[],
    },
    Entry {
        name: "casp",
        pattern: "0 sz:1 001000 0 l:1 1 rs:5 o0:1 11111 rn:5 rt:5",
        build: b_casp,
        beats: &[],
    },
    Entry {
        name: "atomic_mem",
        // LD<op>/SWP, and LDAPR in the o3=1 opc=100 slot.
        pattern: "size:2 111 0 00 a:1 r:1 1 rs:5 o3:1 opc:3 00 rn:5 rt:5",
        build: b_atomic_mem,
        beats: &[],
    },
    Entry {
        name: "ld_literal",
        pattern: "opc:2 011 0 00 imm19:19 rt:5",
        build: b_ld_literal,
        beats: &[],
    },
    Entry {
        name: "ldst_pair",
        pattern: "opc:2 101 0 0 idx:2 l:1 imm7:7 rt2:5 rn:5 rt:5",
        build: b_ldst_pair,
        beats: &[],
    },
    Entry {
        name: "ldst_imm9",
        pattern: "size:2 111 0 00 opc:2 0 imm9:9 idx:2 rn:5 rt:5",
        build: b_ldst_imm9,
        beats: &[],
    },
    Entry {
        name: "ldst_regoff",
        pattern: "size:2 111 0 00 opc:2 1 rm:5 option:3 s:1 10 rn:5 rt:5",
        build: b_ldst_regoff,
        beats: &[],
    },
    Entry {
        name: "prfm_uimm",
        pattern: "11 111 0 01 10 imm12:12 rn:5 rt:5",
        build: b_prfm_uimm,
        // PRFM sits in the LDRSW-to-X slot (size=11, opc=10) of the general row.
        beats: &["ldst_uimm"],
    },
    Entry {
        name: "ldst_uimm",
        pattern: "size:2 111 0 01 opc:2 imm12:12 rn:5 rt:5",
        build: b_ldst_uimm,
        beats: &[],
    },
    // ---- Data processing (register) ----
    Entry {
        name: "logical_shifted",
        pattern: "sf:1 opc:2 01010 shift:2 n:1 rm:5 imm6:6 rn:5 rd:5",
        build: b_logical_shifted,
        beats: &[],
    },
    Entry {
        name: "addsub_shifted",
        pattern: "sf:1 op:1 s:1 01011 shift:2 0 rm:5 imm6:6 rn:5 rd:5",
        build: b_addsub_shifted,
        beats: &[],
    },
    Entry {
        name: "addsub_ext",
        pattern: "sf:1 op:1 s:1 01011 00 1 rm:5 option:3 imm3:3 rn:5 rd:5",
        build: b_addsub_ext,
        beats: &[],
    },
    Entry {
        name: "addsub_carry",
        pattern: "sf:1 op:1 s:1 11010000 rm:5 000000 rn:5 rd:5",
        build: b_addsub_carry,
        beats: &[],
    },
    Entry {
        name: "cond_compare",
        pattern: "sf:1 op:1 1 11010010 rm:5 cond:4 i:1 0 rn:5 0 nzcv:4",
        build: b_ccmp,
        beats: &[],
    },
    Entry {
        name: "cond_select",
        pattern: "sf:1 op:1 0 11010100 rm:5 cond:4 0 o2:1 rn:5 rd:5",
        build: b_csel,
        beats: &[],
    },
    Entry {
        name: "dp3",
        pattern: "sf:1 00 11011 op31:3 rm:5 o0:1 ra:5 rn:5 rd:5",
        build: b_dp3,
        beats: &[],
    },
    Entry {
        name: "dp2",
        pattern: "sf:1 0 0 11010110 rm:5 opcode:6 rn:5 rd:5",
        build: b_dp2,
        beats: &[],
    },
    Entry {
        name: "dp1",
        pattern: "sf:1 1 0 11010110 00000 opcode:6 rn:5 rd:5",
        build: b_dp1,
        beats: &[],
    },
    // ---- SIMD&FP loads and stores ----
    Entry {
        name: "fp_ld_literal",
        pattern: "opc:2 011 1 00 imm19:19 rt:5",
        build: b_fp_ld_literal,
        beats: &[],
    },
    Entry {
        name: "fp_ldst_pair",
        pattern: "opc:2 101 1 0 idx:2 l:1 imm7:7 rt2:5 rn:5 rt:5",
        build: b_fp_ldst_pair,
        beats: &[],
    },
    Entry {
        name: "fp_ldst_imm9",
        pattern: "size:2 111 1 00 opc:2 0 imm9:9 idx:2 rn:5 rt:5",
        build: b_fp_ldst_imm9,
        beats: &[],
    },
    Entry {
        name: "fp_ldst_regoff",
        pattern: "size:2 111 1 00 opc:2 1 rm:5 option:3 s:1 10 rn:5 rt:5",
        build: b_fp_ldst_regoff,
        beats: &[],
    },
    Entry {
        name: "fp_ldst_uimm",
        pattern: "size:2 111 1 01 opc:2 imm12:12 rn:5 rt:5",
        build: b_fp_ldst_uimm,
        beats: &[],
    },
    Entry {
        name: "simd_ldst_multi",
        pattern: "0 q:1 0011000 l:1 000000 opcode:4 size:2 rn:5 rt:5",
        build: b_simd_ldst_multi,
        beats: &[],
    },
    Entry {
        name: "simd_ldst_multi_post",
        pattern: "0 q:1 0011001 l:1 0 rm:5 opcode:4 size:2 rn:5 rt:5",
        build: b_simd_ldst_multi_post,
        beats: &[],
    },
    Entry {
        name: "simd_ldst_single",
        pattern: "0 q:1 0011010 l:1 r:1 00000 opcode:3 s:1 size:2 rn:5 rt:5",
        build: b_simd_ldst_single,
        beats: &[],
    },
    Entry {
        name: "simd_ldst_single_post",
        pattern: "0 q:1 0011011 l:1 r:1 rm:5 opcode:3 s:1 size:2 rn:5 rt:5",
        build: b_simd_ldst_single_post,
        beats: &[],
    },
    // ---- Scalar floating point ----
    Entry {
        name: "fp_fixed",
        pattern: "sf:1 0 0 11110 ftype:2 0 rmode:2 opcode:3 scale:6 rn:5 rd:5",
        build: b_fp_fixed,
        beats: &[],
    },
    Entry {
        name: "fp_int",
        pattern: "sf:1 0 0 11110 ftype:2 1 rmode:2 opcode:3 000000 rn:5 rd:5",
        build: b_fp_int,
        beats: &[],
    },
    Entry {
        name: "fp_dp1",
        pattern: "0 0 0 11110 ftype:2 1 opcode:6 10000 rn:5 rd:5",
        build: b_fp_dp1,
        beats: &[],
    },
    Entry {
        name: "fp_compare",
        pattern: "0 0 0 11110 ftype:2 1 rm:5 00 1000 rn:5 opc:2 000",
        build: b_fp_compare,
        beats: &[],
    },
    Entry {
        name: "fp_imm",
        pattern: "0 0 0 11110 ftype:2 1 imm8:8 100 00000 rd:5",
        build: b_fp_imm,
        beats: &[],
    },
    Entry {
        name: "fp_ccmp",
        pattern: "0 0 0 11110 ftype:2 1 rm:5 cond:4 01 rn:5 op:1 nzcv:4",
        build: b_fp_ccmp,
        beats: &[],
    },
    Entry {
        name: "fp_dp2",
        pattern: "0 0 0 11110 ftype:2 1 rm:5 opcode:4 10 rn:5 rd:5",
        build: b_fp_dp2,
        beats: &[],
    },
    Entry {
        name: "fp_csel",
        pattern: "0 0 0 11110 ftype:2 1 rm:5 cond:4 11 rn:5 rd:5",
        build: b_fp_csel,
        beats: &[],
    },
    Entry {
        name: "fp_dp3",
        pattern: "0 0 0 11111 ftype:2 o1:1 rm:5 o0:1 ra:5 rn:5 rd:5",
        build: b_fp_dp3,
        beats: &[],
    },
    // ---- Advanced SIMD ----
    Entry {
        name: "simd_three_same",
        pattern: "0 q:1 u:1 01110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5",
        build: b_simd_three_same,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_three_same",
        pattern: "01 u:1 11110 size:2 1 rm:5 opcode:5 1 rn:5 rd:5",
        build: b_simd_scalar_three_same,
        beats: &[],
    },
    Entry {
        name: "simd_three_diff",
        pattern: "0 q:1 u:1 01110 size:2 1 rm:5 opcode:4 00 rn:5 rd:5",
        build: b_simd_three_diff,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_three_diff",
        pattern: "01 u:1 11110 size:2 1 rm:5 opcode:4 00 rn:5 rd:5",
        build: b_simd_scalar_three_diff,
        beats: &[],
    },
    Entry {
        name: "simd_two_reg",
        pattern: "0 q:1 u:1 01110 size:2 10000 opcode:5 10 rn:5 rd:5",
        build: b_simd_two_reg,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_two_reg",
        pattern: "01 u:1 11110 size:2 10000 opcode:5 10 rn:5 rd:5",
        build: b_simd_scalar_two_reg,
        beats: &[],
    },
    Entry {
        name: "simd_across",
        pattern: "0 q:1 u:1 01110 size:2 11000 opcode:5 10 rn:5 rd:5",
        build: b_simd_across,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_pairwise",
        pattern: "01 u:1 11110 size:2 11000 opcode:5 10 rn:5 rd:5",
        build: b_simd_scalar_pairwise,
        beats: &[],
    },
    Entry {
        name: "simd_copy",
        pattern: "0 q:1 op:1 01110000 imm5:5 0 imm4:4 1 rn:5 rd:5",
        build: b_simd_copy,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_copy",
        pattern: "01 op:1 11110000 imm5:5 0 imm4:4 1 rn:5 rd:5",
        build: b_simd_scalar_copy,
        beats: &[],
    },
    Entry {
        name: "simd_mod_imm",
        pattern: "0 q:1 op:1 0111100000 abc:3 cmode:4 o2:1 1 defgh:5 rd:5",
        build: b_simd_mod_imm,
        beats: &["simd_shift_imm"],
    },
    Entry {
        name: "simd_shift_imm",
        pattern: "0 q:1 u:1 011110 immh:4 immb:3 opcode:5 1 rn:5 rd:5",
        build: b_simd_shift_imm,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_shift_imm",
        pattern: "01 u:1 111110 immh:4 immb:3 opcode:5 1 rn:5 rd:5",
        build: b_simd_scalar_shift_imm,
        beats: &[],
    },
    Entry {
        name: "simd_by_element",
        pattern: "0 q:1 u:1 01111 size:2 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5",
        build: b_simd_by_element,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_by_element",
        pattern: "01 u:1 11111 size:2 l:1 m:1 rm:4 opcode:4 h:1 0 rn:5 rd:5",
        build: b_simd_scalar_by_element,
        beats: &[],
    },
    Entry {
        name: "simd_permute",
        pattern: "0 q:1 001110 size:2 0 rm:5 0 opcode:3 10 rn:5 rd:5",
        build: b_simd_permute,
        beats: &[],
    },
    Entry {
        name: "simd_ext",
        pattern: "0 q:1 101110 00 0 rm:5 0 imm4:4 0 rn:5 rd:5",
        build: b_simd_ext,
        beats: &[],
    },
    Entry {
        name: "simd_table",
        pattern: "0 q:1 001110 00 0 rm:5 0 len:2 op:1 00 rn:5 rd:5",
        build: b_simd_table,
        beats: &[],
    },
    Entry {
        name: "simd_three_same_fp16",
        pattern: "0 q:1 u:1 01110 a:1 10 rm:5 00 opcode:3 1 rn:5 rd:5",
        build: b_simd_three_same_fp16,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_three_same_fp16",
        pattern: "01 u:1 11110 a:1 10 rm:5 00 opcode:3 1 rn:5 rd:5",
        build: b_simd_scalar_three_same_fp16,
        beats: &[],
    },
    Entry {
        name: "simd_two_reg_fp16",
        pattern: "0 q:1 u:1 01110 a:1 1111 00 opcode:5 10 rn:5 rd:5",
        build: b_simd_two_reg_fp16,
        beats: &[],
    },
    Entry {
        name: "simd_scalar_two_reg_fp16",
        pattern: "01 u:1 11110 a:1 1111 00 opcode:5 10 rn:5 rd:5",
        build: b_simd_scalar_two_reg_fp16,
        beats: &[],
    },
    // ---- Crypto ----
    Entry {
        name: "crypto_aes",
        pattern: "01001110 00 10100 opcode:5 10 rn:5 rd:5",
        build: b_crypto_aes,
        beats: &[],
    },
    Entry {
        name: "crypto_sha3",
        pattern: "01011110 00 0 rm:5 0 opcode:3 00 rn:5 rd:5",
        build: b_crypto_sha3,
        beats: &[],
    },
    Entry {
        name: "crypto_sha2",
        pattern: "01011110 00 10100 opcode:5 10 rn:5 rd:5",
        build: b_crypto_sha2,
        beats: &[],
    },
];

// ---- constructors ----

fn b_adr(f: &Fields<'_>, _: u32) -> Insn {
    let imm = sx((f.get(F::Immhi) << 2) | f.get(F::Immlo), 21);
    let page = f.get(F::Op) == 1;
    Insn::Adr {
        rd: zr(f.get(F::Rd)),
        page,
        offset: if page { imm << 12 } else { imm },
    }
}

fn b_addsub_imm(f: &Fields<'_>, _: u32) -> Insn {
    let set_flags = f.get(F::S) == 1;
    let lsl12 = f.get(F::Sh) == 1;
    Insn::AddSubImm {
        is64: f.get(F::Sf) == 1,
        sub: f.get(F::Op) == 1,
        set_flags,
        rd: if set_flags {
            zr(f.get(F::Rd))
        } else {
            sp(f.get(F::Rd))
        },
        rn: sp(f.get(F::Rn)),
        imm: if lsl12 {
            f.get(F::Imm12) << 12
        } else {
            f.get(F::Imm12)
        },
        lsl12,
    }
}

fn logic_op(opc: u32) -> LogicOp {
    match opc & 3 {
        0 => LogicOp::And,
        1 => LogicOp::Orr,
        2 => LogicOp::Eor,
        _ => LogicOp::Ands,
    }
}

fn b_logical_imm(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    if !is64 && f.get(F::N) == 1 {
        return Insn::Unallocated(w);
    }
    let Some(imm) = decode_bit_masks(is64, f.get(F::N), f.get(F::Imms), f.get(F::Immr)) else {
        return Insn::Unallocated(w);
    };
    let op = logic_op(f.get(F::Opc));
    Insn::LogicalImm {
        is64,
        op,
        rd: if op == LogicOp::Ands {
            zr(f.get(F::Rd))
        } else {
            sp(f.get(F::Rd))
        },
        rn: zr(f.get(F::Rn)),
        imm,
    }
}

fn b_move_wide(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let op = match f.get(F::Opc) {
        0 => MoveWideOp::N,
        2 => MoveWideOp::Z,
        3 => MoveWideOp::K,
        _ => return Insn::Unallocated(w),
    };
    if !is64 && f.get(F::Hw) >= 2 {
        return Insn::Unallocated(w);
    }
    Insn::MoveWide {
        is64,
        op,
        rd: zr(f.get(F::Rd)),
        imm16: f.get(F::Imm16) as u16,
        shift: (f.get(F::Hw) * 16) as u8,
    }
}

fn b_bitfield(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let op = match f.get(F::Opc) {
        0 => BitfieldOp::Sbfm,
        1 => BitfieldOp::Bfm,
        2 => BitfieldOp::Ubfm,
        _ => return Insn::Unallocated(w),
    };
    if f.get(F::N) != f.get(F::Sf) || (!is64 && (f.get(F::Immr) | f.get(F::Imms)) & 0x20 != 0) {
        return Insn::Unallocated(w);
    }
    Insn::Bitfield {
        is64,
        op,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        immr: f.get(F::Immr) as u8,
        imms: f.get(F::Imms) as u8,
    }
}

fn b_extr(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    if f.get(F::N) != f.get(F::Sf) || (!is64 && f.get(F::Imms) >= 32) {
        return Insn::Unallocated(w);
    }
    Insn::Extr {
        is64,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        lsb: f.get(F::Imms) as u8,
    }
}

fn b_branch(f: &Fields<'_>, _: u32) -> Insn {
    Insn::Branch {
        link: f.get(F::Op) == 1,
        offset: sx(f.get(F::Imm26), 26) << 2,
    }
}

fn b_cb(f: &Fields<'_>, _: u32) -> Insn {
    Insn::CompareBranch {
        is64: f.get(F::Sf) == 1,
        nonzero: f.get(F::Op) == 1,
        rt: zr(f.get(F::Rt)),
        offset: sx(f.get(F::Imm19), 19) << 2,
    }
}

fn b_tb(f: &Fields<'_>, _: u32) -> Insn {
    Insn::TestBranch {
        nonzero: f.get(F::Op) == 1,
        rt: zr(f.get(F::Rt)),
        bit: ((f.get(F::B5) << 5) | f.get(F::B40)) as u8,
        offset: sx(f.get(F::Imm14), 14) << 2,
    }
}

fn b_bcond(f: &Fields<'_>, _: u32) -> Insn {
    Insn::BranchCond {
        cond: Cond::from_bits(f.get(F::Cond)),
        offset: sx(f.get(F::Imm19), 19) << 2,
    }
}

fn b_exception(f: &Fields<'_>, w: u32) -> Insn {
    let kind = match (f.get(F::Opc), f.get(F::Ll)) {
        (0, 1) => ExceptionKind::Svc,
        (0, 2) => ExceptionKind::Hvc,
        (0, 3) => ExceptionKind::Smc,
        (1, 0) => ExceptionKind::Brk,
        (2, 0) => ExceptionKind::Hlt,
        _ => return Insn::Unallocated(w),
    };
    Insn::Exception {
        kind,
        imm16: f.get(F::Imm16) as u16,
    }
}

fn b_hint(f: &Fields<'_>, _: u32) -> Insn {
    let n = ((f.get(F::Crm) << 3) | f.get(F::Op2)) as u8;
    Insn::Hint(Hint::from_number(n))
}

fn b_barrier(f: &Fields<'_>, w: u32) -> Insn {
    let option = f.get(F::Crm) as u8;
    let kind = match f.get(F::Op2) {
        2 => return Insn::Clrex { crm: option },
        4 => BarrierKind::Dsb,
        5 => BarrierKind::Dmb,
        6 => BarrierKind::Isb,
        // SB: CRm is should-be-zero (objdump reads other values as something else).
        7 if option == 0 => BarrierKind::Sb,
        _ => return Insn::Unallocated(w),
    };
    Insn::Barrier { kind, option }
}

fn b_msr_imm(f: &Fields<'_>, _: u32) -> Insn {
    // The whole op1/CRm/op2 space decodes; fields other than the PSTATE fields we
    // know (`Insn::pstate_field`) are UNDEFINED at execution, like unknown MSR/MRS.
    Insn::MsrImm {
        op1: f.get(F::Op1) as u8,
        crm: f.get(F::Crm) as u8,
        op2: f.get(F::Op2) as u8,
    }
}

fn b_sys(f: &Fields<'_>, _: u32) -> Insn {
    Insn::Sys {
        l: f.get(F::L) == 1,
        op1: f.get(F::Op1) as u8,
        crn: f.get(F::Crn) as u8,
        crm: f.get(F::Crm) as u8,
        op2: f.get(F::Op2) as u8,
        rt: zr(f.get(F::Rt)),
    }
}

fn b_sysreg(f: &Fields<'_>, _: u32) -> Insn {
    let reg = SysReg::new(
        2 + f.get(F::O0) as u8,
        f.get(F::Op1) as u8,
        f.get(F::Crn) as u8,
        f.get(F::Crm) as u8,
        f.get(F::Op2) as u8,
    );
    let rt = zr(f.get(F::Rt));
    if f.get(F::L) == 1 {
        Insn::Mrs { rt, reg }
    } else {
        Insn::Msr { reg, rt }
    }
}

fn b_branch_reg(f: &Fields<'_>, w: u32) -> Insn {
    let rn = zr(f.get(F::Rn));
    let kind = match f.get(F::Opc) {
        0 => BranchRegKind::Br,
        1 => BranchRegKind::Blr,
        2 => BranchRegKind::Ret,
        4 if f.get(F::Rn) == 31 => return Insn::Eret,
        _ => return Insn::Unallocated(w),
    };
    Insn::BranchReg { kind, rn }
}

fn b_excl(f: &Fields<'_>, _: u32) -> Insn {
    let load = f.get(F::L) == 1;
    Insn::Exclusive {
        load,
        acquire_release: f.get(F::O0) == 1,
        pair: false,
        size: f.get(F::Size) as u8,
        rs: if load { Reg::ZR } else { zr(f.get(F::Rs)) },
        rt: zr(f.get(F::Rt)),
        rt2: Reg::ZR,
        rn: sp(f.get(F::Rn)),
    }
}

fn b_excl_pair(f: &Fields<'_>, _: u32) -> Insn {
    let load = f.get(F::L) == 1;
    Insn::Exclusive {
        load,
        acquire_release: f.get(F::O0) == 1,
        pair: true,
        size: 2 + f.get(F::Sz) as u8,
        rs: if load { Reg::ZR } else { zr(f.get(F::Rs)) },
        rt: zr(f.get(F::Rt)),
        rt2: zr(f.get(F::Rt2)),
        rn: sp(f.get(F::Rn)),
    }
}

fn b_ldar_stlr(f: &Fields<'_>, _: u32) -> Insn {
    Insn::AcquireRelease {
        load: f.get(F::L) == 1,
        size: f.get(F::Size) as u8,
        rt: zr(f.get(F::Rt)),
        rn: sp(f.get(F::Rn)),
    }
}

fn b_cas(f: &Fields<'_>, _: u32) -> Insn {
    Insn::CompareSwap {
        size: f.get(F::Size) as u8,
        acquire: f.get(F::L) == 1,
        release: f.get(F::O0) == 1,
        rs: zr(f.get(F::Rs)),
        rt: zr(f.get(F::Rt)),
        rn: sp(f.get(F::Rn)),
    }
}

fn b_casp(f: &Fields<'_>, w: u32) -> Insn {
    let (s, t) = (f.get(F::Rs), f.get(F::Rt));
    // Both register pairs must start at an even register.
    if (s | t) & 1 != 0 {
        return Insn::Unallocated(w);
    }
    Insn::CompareSwapPair {
        size: 2 + f.get(F::Sz) as u8,
        acquire: f.get(F::L) == 1,
        release: f.get(F::O0) == 1,
        rs: zr(s),
        rs2: zr(s + 1),
        rt: zr(t),
        rt2: zr(t + 1),
        rn: sp(f.get(F::Rn)),
    }
}

fn b_atomic_mem(f: &Fields<'_>, w: u32) -> Insn {
    let size = f.get(F::Size) as u8;
    let (acquire, release) = (f.get(F::A) == 1, f.get(F::R) == 1);
    let rs = f.get(F::Rs);
    let op = match (f.get(F::O3), f.get(F::Opc)) {
        (0, 0) => AtomicOp::Add,
        (0, 1) => AtomicOp::Clr,
        (0, 2) => AtomicOp::Eor,
        (0, 3) => AtomicOp::Set,
        (0, 4) => AtomicOp::Smax,
        (0, 5) => AtomicOp::Smin,
        (0, 6) => AtomicOp::Umax,
        (0, 7) => AtomicOp::Umin,
        (1, 0) => AtomicOp::Swp,
        // LDAPR: A=1, R=0, Rs should-be-one (objdump: unallocated otherwise).
        (1, 4) if acquire && !release && rs == 31 => {
            return Insn::LoadAcquirePc {
                size,
                rt: zr(f.get(F::Rt)),
                rn: sp(f.get(F::Rn)),
            }
        }
        _ => return Insn::Unallocated(w),
    };
    Insn::AtomicMem {
        op,
        size,
        acquire,
        release,
        rs: zr(rs),
        rt: zr(f.get(F::Rt)),
        rn: sp(f.get(F::Rn)),
    }
}

fn b_ld_literal(f: &Fields<'_>, _: u32) -> Insn {
    let addr = AddrMode::Literal {
        offset: sx(f.get(F::Imm19), 19) << 2,
    };
    let (op, size) = match f.get(F::Opc) {
        0 => (LsOp::Load, 2),
        1 => (LsOp::Load, 3),
        2 => (LsOp::LoadSigned(Width::X), 2),
        _ => {
            return Insn::Prefetch {
                prfop: f.get(F::Rt) as u8,
                addr,
                unscaled: false,
            }
        }
    };
    Insn::LoadStore {
        op,
        size,
        rt: zr(f.get(F::Rt)),
        addr,
        form: LsForm::Normal,
    }
}

fn b_ldst_pair(f: &Fields<'_>, w: u32) -> Insn {
    let load = f.get(F::L) == 1;
    let idx = f.get(F::Idx);
    let (size, signed) = match f.get(F::Opc) {
        0 => (2u8, false),
        1 if load && idx != 0 => (2, true),
        2 => (3, false),
        _ => return Insn::Unallocated(w),
    };
    let rn = sp(f.get(F::Rn));
    let imm = sx(f.get(F::Imm7), 7) << size;
    let addr = match idx {
        1 => AddrMode::PostIndex { rn, imm },
        3 => AddrMode::PreIndex { rn, imm },
        _ => AddrMode::Offset { rn, imm },
    };
    Insn::LoadStorePair {
        load,
        size,
        signed,
        nontemporal: idx == 0,
        rt: zr(f.get(F::Rt)),
        rt2: zr(f.get(F::Rt2)),
        addr,
    }
}

/// What size/opc select for the single-register load/store rows.
enum LsSel {
    Op(LsOp),
    Prefetch,
    Bad,
}

fn ls_sel(size: u32, opc: u32) -> LsSel {
    match opc {
        0 => LsSel::Op(LsOp::Store),
        1 => LsSel::Op(LsOp::Load),
        2 if size == 3 => LsSel::Prefetch,
        2 => LsSel::Op(LsOp::LoadSigned(Width::X)),
        _ if size <= 1 => LsSel::Op(LsOp::LoadSigned(Width::W)),
        _ => LsSel::Bad,
    }
}

fn b_ldst_imm9(f: &Fields<'_>, w: u32) -> Insn {
    let size = f.get(F::Size);
    let rn = sp(f.get(F::Rn));
    let imm = sx(f.get(F::Imm9), 9);
    let idx = f.get(F::Idx);
    let (addr, form) = match idx {
        0 => (AddrMode::Offset { rn, imm }, LsForm::Unscaled),
        1 => (AddrMode::PostIndex { rn, imm }, LsForm::Normal),
        2 => (AddrMode::Offset { rn, imm }, LsForm::Unprivileged),
        _ => (AddrMode::PreIndex { rn, imm }, LsForm::Normal),
    };
    match ls_sel(size, f.get(F::Opc)) {
        LsSel::Op(op) => Insn::LoadStore {
            op,
            size: size as u8,
            rt: zr(f.get(F::Rt)),
            addr,
            form,
        },
        LsSel::Prefetch if idx == 0 => Insn::Prefetch {
            prfop: f.get(F::Rt) as u8,
            addr,
            unscaled: true,
        },
        _ => Insn::Unallocated(w),
    }
}

fn b_ldst_regoff(f: &Fields<'_>, w: u32) -> Insn {
    let size = f.get(F::Size);
    let option = f.get(F::Option);
    // Only UXTW, LSL(UXTX), SXTW and SXTX are valid index extensions.
    if option & 2 == 0 {
        return Insn::Unallocated(w);
    }
    let s = f.get(F::S) == 1;
    let addr = AddrMode::Reg {
        rn: sp(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        extend: Extend::from_bits(option),
        shift: if s { size as u8 } else { 0 },
        s,
    };
    match ls_sel(size, f.get(F::Opc)) {
        LsSel::Op(op) => Insn::LoadStore {
            op,
            size: size as u8,
            rt: zr(f.get(F::Rt)),
            addr,
            form: LsForm::Normal,
        },
        LsSel::Prefetch => Insn::Prefetch {
            prfop: f.get(F::Rt) as u8,
            addr,
            unscaled: false,
        },
        LsSel::Bad => Insn::Unallocated(w),
    }
}

fn b_prfm_uimm(f: &Fields<'_>, _: u32) -> Insn {
    Insn::Prefetch {
        prfop: f.get(F::Rt) as u8,
        addr: AddrMode::Offset {
            rn: sp(f.get(F::Rn)),
            imm: (f.get(F::Imm12) as i64) << 3,
        },
        unscaled: false,
    }
}

fn b_ldst_uimm(f: &Fields<'_>, w: u32) -> Insn {
    let size = f.get(F::Size);
    let addr = AddrMode::Offset {
        rn: sp(f.get(F::Rn)),
        imm: (f.get(F::Imm12) as i64) << size,
    };
    match ls_sel(size, f.get(F::Opc)) {
        LsSel::Op(op) => Insn::LoadStore {
            op,
            size: size as u8,
            rt: zr(f.get(F::Rt)),
            addr,
            form: LsForm::Normal,
        },
        // Reached only if the dedicated PRFM row is removed.
        LsSel::Prefetch => b_prfm_uimm(f, w),
        LsSel::Bad => Insn::Unallocated(w),
    }
}

fn b_logical_shifted(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    if !is64 && f.get(F::Imm6) >= 32 {
        return Insn::Unallocated(w);
    }
    Insn::LogicalShifted {
        is64,
        op: logic_op(f.get(F::Opc)),
        invert: f.get(F::N) == 1,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        shift: Shift::from_bits(f.get(F::Shift)),
        amount: f.get(F::Imm6) as u8,
    }
}

fn b_addsub_shifted(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    if f.get(F::Shift) == 3 || (!is64 && f.get(F::Imm6) >= 32) {
        return Insn::Unallocated(w);
    }
    Insn::AddSubShifted {
        is64,
        sub: f.get(F::Op) == 1,
        set_flags: f.get(F::S) == 1,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        shift: Shift::from_bits(f.get(F::Shift)),
        amount: f.get(F::Imm6) as u8,
    }
}

fn b_addsub_ext(f: &Fields<'_>, w: u32) -> Insn {
    if f.get(F::Imm3) > 4 {
        return Insn::Unallocated(w);
    }
    let set_flags = f.get(F::S) == 1;
    Insn::AddSubExtended {
        is64: f.get(F::Sf) == 1,
        sub: f.get(F::Op) == 1,
        set_flags,
        rd: if set_flags {
            zr(f.get(F::Rd))
        } else {
            sp(f.get(F::Rd))
        },
        rn: sp(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        extend: Extend::from_bits(f.get(F::Option)),
        amount: f.get(F::Imm3) as u8,
    }
}

fn b_addsub_carry(f: &Fields<'_>, _: u32) -> Insn {
    Insn::AddSubCarry {
        is64: f.get(F::Sf) == 1,
        sub: f.get(F::Op) == 1,
        set_flags: f.get(F::S) == 1,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
    }
}

fn b_ccmp(f: &Fields<'_>, _: u32) -> Insn {
    Insn::CondCompare {
        is64: f.get(F::Sf) == 1,
        sub: f.get(F::Op) == 1,
        rn: zr(f.get(F::Rn)),
        operand: if f.get(F::I) == 1 {
            CcmpOperand::Imm(f.get(F::Rm) as u8)
        } else {
            CcmpOperand::Reg(zr(f.get(F::Rm)))
        },
        nzcv: f.get(F::Nzcv) as u8,
        cond: Cond::from_bits(f.get(F::Cond)),
    }
}

fn b_csel(f: &Fields<'_>, _: u32) -> Insn {
    let op = match (f.get(F::Op), f.get(F::O2)) {
        (0, 0) => CondSelOp::Csel,
        (0, _) => CondSelOp::Csinc,
        (_, 0) => CondSelOp::Csinv,
        _ => CondSelOp::Csneg,
    };
    Insn::CondSelect {
        is64: f.get(F::Sf) == 1,
        op,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        cond: Cond::from_bits(f.get(F::Cond)),
    }
}

fn b_dp3(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let sub = f.get(F::O0) == 1;
    let op = match (f.get(F::Op31), is64, sub) {
        (0, _, _) => DataProc3Op::Madd,
        (1, true, _) => DataProc3Op::Smaddl,
        (2, true, false) => DataProc3Op::Smulh,
        (5, true, _) => DataProc3Op::Umaddl,
        (6, true, false) => DataProc3Op::Umulh,
        _ => return Insn::Unallocated(w),
    };
    Insn::DataProc3 {
        is64,
        op,
        sub,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
        ra: zr(f.get(F::Ra)),
    }
}

fn b_dp2(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let opcode = f.get(F::Opcode);
    let op = match opcode {
        0b000010 => DataProc2Op::Udiv,
        0b000011 => DataProc2Op::Sdiv,
        0b001000 => DataProc2Op::Lslv,
        0b001001 => DataProc2Op::Lsrv,
        0b001010 => DataProc2Op::Asrv,
        0b001011 => DataProc2Op::Rorv,
        0b010000..=0b010111 => {
            let size = (opcode & 3) as u8;
            // The 64-bit data form needs sf=1; the others need sf=0.
            if (size == 3) != is64 {
                return Insn::Unallocated(w);
            }
            DataProc2Op::Crc32 {
                c: opcode & 4 != 0,
                size,
            }
        }
        _ => return Insn::Unallocated(w),
    };
    Insn::DataProc2 {
        is64,
        op,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
        rm: zr(f.get(F::Rm)),
    }
}

fn b_dp1(f: &Fields<'_>, w: u32) -> Insn {
    let is64 = f.get(F::Sf) == 1;
    let op = match (f.get(F::Opcode), is64) {
        (0, _) => DataProc1Op::Rbit,
        (1, _) => DataProc1Op::Rev16,
        (2, false) => DataProc1Op::Rev,
        (2, true) => DataProc1Op::Rev32,
        (3, true) => DataProc1Op::Rev,
        (4, _) => DataProc1Op::Clz,
        (5, _) => DataProc1Op::Cls,
        _ => return Insn::Unallocated(w),
    };
    Insn::DataProc1 {
        is64,
        op,
        rd: zr(f.get(F::Rd)),
        rn: zr(f.get(F::Rn)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_parses_to_32_bits_with_unique_fields() {
        for e in ENTRIES {
            let p = parse_pattern(e.pattern).map_err(|m| format!("{}: {m}", e.name));
            let p = match p {
                Ok(p) => p,
                Err(m) => panic!("{m}"),
            };
            // Literal bits and field bits must tile the word exactly.
            let mut covered = p.mask as u64;
            for &(_, lsb, width) in &p.fields {
                let m = ((1u64 << width) - 1) << lsb;
                assert_eq!(covered & m, 0, "{}: field overlaps", e.name);
                covered |= m;
            }
            let xs = e
                .pattern
                .split_whitespace()
                .filter(|t| !t.contains(':'))
                .map(|t| t.chars().filter(|&c| c == 'x').count() as u32)
                .sum::<u32>();
            assert_eq!(
                covered.count_ones() + xs,
                32,
                "{}: literal + field bits",
                e.name
            );
        }
    }

    #[test]
    fn parser_rejects_bad_patterns() {
        assert!(parse_pattern("sf:1 0").is_err());
        assert!(parse_pattern("rd:5 rd:5 0000000000000000000000").is_err());
        assert!(parse_pattern("foo:32").is_err());
        assert!(parse_pattern("rd:33").is_err());
        assert!(parse_pattern("2222222222222222222222222222222").is_err());
        assert!(parse_pattern("rd:5 000000000000000000000000000").is_ok());
    }

    #[test]
    fn names_unique_and_beats_resolve() {
        for (i, a) in ENTRIES.iter().enumerate() {
            for b in &ENTRIES[i + 1..] {
                assert_ne!(a.name, b.name);
            }
            for b in a.beats {
                assert!(
                    ENTRIES.iter().any(|e| e.name == *b),
                    "{} beats unknown {b}",
                    a.name
                );
            }
        }
    }

    #[test]
    fn no_unstated_overlaps() {
        let parsed: Vec<Parsed> = ENTRIES
            .iter()
            .map(|e| parse_pattern(e.pattern).unwrap_or_else(|m| panic!("{m}")))
            .collect();
        let mut stated = 0;
        for i in 0..ENTRIES.len() {
            for j in i + 1..ENTRIES.len() {
                let (a, b) = (&parsed[i], &parsed[j]);
                let overlap = (a.value ^ b.value) & a.mask & b.mask == 0;
                let (ea, eb) = (&ENTRIES[i], &ENTRIES[j]);
                let a_wins = ea.beats.contains(&eb.name);
                let b_wins = eb.beats.contains(&ea.name);
                assert!(
                    !(a_wins && b_wins),
                    "{} and {} beat each other",
                    ea.name,
                    eb.name
                );
                if overlap {
                    assert!(
                        a_wins || b_wins,
                        "{} and {} overlap without a stated priority",
                        ea.name,
                        eb.name
                    );
                    stated += 1;
                } else {
                    assert!(
                        !(a_wins || b_wins),
                        "{} states priority over {} but they do not overlap",
                        ea.name,
                        eb.name
                    );
                }
            }
        }
        assert!(stated >= 1);
    }

    #[test]
    fn fpsimd_rows_and_only_they_give_the_fpsimd_class() {
        let mut x: u32 = 0x9e37_79b9;
        for e in ENTRIES {
            let p = parse_pattern(e.pattern).unwrap_or_else(|m| panic!("{m}"));
            let fp = ["fp_", "simd_", "crypto_"]
                .iter()
                .any(|q| e.name.starts_with(q));
            for _ in 0..2000 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let w = (x & !p.mask) | p.value;
                let c = decode(w).class();
                if c != InsnClass::Unallocated {
                    assert_eq!(c == InsnClass::FpSimd, fp, "{} {w:#010x}", e.name);
                }
            }
        }
    }

    #[test]
    fn simd_immediates_expand() {
        // movi d0, #0xff00ff00ff00ff00
        assert!(matches!(
            decode(0x2f05e540),
            Insn::SimdModImm {
                imm: 0xff00_ff00_ff00_ff00,
                ..
            }
        ));
        // fmov v0.4s, #1.0
        assert!(matches!(
            decode(0x4f03f600),
            Insn::SimdModImm {
                op: ModImmOp::Fmov,
                imm: 0x3f80_0000_3f80_0000,
                ..
            }
        ));
        // fmov v0.2d, #-2.0
        assert!(matches!(
            decode(0x6f04f400),
            Insn::SimdModImm {
                imm: 0xc000_0000_0000_0000,
                ..
            }
        ));
        // movi v0.4s, #0x12, msl #8
        assert!(matches!(
            decode(0x4f00c640),
            Insn::SimdModImm {
                imm: 0x0000_12ff_0000_12ff,
                msl: true,
                ..
            }
        ));
        // ld4 {v0.4s-v3.4s}, [x0], #64
        assert!(matches!(
            decode(0x4cdf0800),
            Insn::SimdLoadStoreMulti {
                selem: 4,
                regs: 4,
                post: SimdPost::Imm(64),
                ..
            }
        ));
        // sshr v0.4s, v1.4s, #3 ; shl v0.16b, v1.16b, #7
        assert!(matches!(
            decode(0x4f3d0420),
            Insn::SimdShiftImm { shift: 3, .. }
        ));
        assert!(matches!(
            decode(0x4f0f5420),
            Insn::SimdShiftImm { shift: 7, .. }
        ));
    }

    #[test]
    fn priority_is_respected() {
        // prfm pldl1keep, [x1] lies in both prfm_uimm and ldst_uimm.
        assert!(matches!(decode(0xf980_0020), Insn::Prefetch { .. }));
        let r = ranks();
        let pos = |n: &str| ENTRIES.iter().position(|e| e.name == n).unwrap_or(0);
        assert!(r[pos("prfm_uimm")] > r[pos("ldst_uimm")]);
    }

    #[test]
    fn buckets_agree_with_linear_scan() {
        // The bucketed lookup must pick the same row as a plain ordered scan.
        let parsed: Vec<Parsed> = ENTRIES
            .iter()
            .map(|e| parse_pattern(e.pattern).unwrap_or_else(|m| panic!("{m}")))
            .collect();
        let r = ranks();
        let mut order: Vec<usize> = (0..ENTRIES.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(r[i]));
        let mut x: u32 = 0x1234_5678;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let lin = order
                .iter()
                .find(|&&i| x & parsed[i].mask == parsed[i].value)
                .map(|&i| {
                    let layout = layout_of(&parsed[i].fields);
                    let f = Fields {
                        word: x,
                        layout: &layout,
                    };
                    (ENTRIES[i].build)(&f, x)
                })
                .unwrap_or(Insn::Unallocated(x));
            assert_eq!(decode(x), lin, "{x:#010x}");
        }
    }
}

/// One row of the encoding table as seen from outside: its name and the bits it fixes.
/// Any `value | (r & !mask)` is a word of this pattern (which may still decode as
/// `Unallocated` for reserved field values, or as a higher-priority pattern).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PatternInfo {
    pub name: &'static str,
    pub mask: u32,
    pub value: u32,
}

/// Every pattern of the table, in table order (for random instruction generators).
pub fn patterns() -> Vec<PatternInfo> {
    ENTRIES
        .iter()
        .zip(table().entries.iter())
        .map(|(e, c)| PatternInfo {
            name: e.name,
            mask: c.mask,
            value: c.value,
        })
        .collect()
}
