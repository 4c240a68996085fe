//! A64 (AArch64) instruction decoder: 32-bit word -> typed [`Insn`] via one declarative pattern table, plus an objdump-style disassembler.

mod bitmask;
mod display;
mod insn;
mod simd_op;
mod sysreg;
mod table;

#[cfg(test)]
mod objdump_tests;

pub use bitmask::decode_bit_masks;
pub use display::Disasm;
pub use insn::*;
pub use sysreg::SysReg;
pub use table::{decode, patterns, PatternInfo};

#[cfg(test)]
mod tests {
    use super::*;

    /// xorshift, so the test needs no extra crates.
    fn rng(seed: &mut u64) -> u32 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed >> 16) as u32
    }

    #[test]
    fn random_words_decode_and_display_without_panic() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut s = String::new();
        let mut known = 0u32;
        for _ in 0..3_000_000 {
            let w = rng(&mut seed);
            let i = decode(w);
            if !matches!(i, Insn::Unallocated(_)) {
                known += 1;
            }
            s.clear();
            use std::fmt::Write;
            let _ = write!(s, "{}", i.display_at(0xffff_ffff_ffff_f000));
            assert!(!s.is_empty());
        }
        // Sanity: the integer A64 space is a sizeable part of all words.
        assert!(known > 300_000, "{known}");
    }

    #[test]
    fn every_top_level_class_exhaustive_low_bits() {
        // Walk the high 12 bits fully with a few low-bit fills; catches panics
        // in constructors for field extremes (all-zero / all-one fields).
        for hi in 0..4096u32 {
            for lo in [0u32, 0xfffff, 0x5a5a5, 0xa5a5a, 0x7c1f, 0x83e0] {
                let w = (hi << 20) | lo;
                let _ = decode(w).to_string();
            }
        }
    }
}

#[cfg(test)]
mod pattern_api_tests {
    #[test]
    fn every_pattern_value_decodes_as_its_row_or_unallocated() {
        let pats = super::patterns();
        assert!(pats.len() > 30);
        for p in &pats {
            assert_eq!(p.value & !p.mask, 0, "{}", p.name);
        }
    }
}
