//! Logical-immediate ("bitmask") decoding, ARM ARM DecodeBitMasks.

/// Decode N:immr:imms into the immediate for a register of 32 or 64 bits.
/// Returns `None` for the reserved encodings (all-ones element, bad length).
pub fn decode_bit_masks(is64: bool, n: u32, imms: u32, immr: u32) -> Option<u64> {
    // Element size comes from the highest set bit of N:NOT(imms).
    let combined = ((n & 1) << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 || (!is64 && len > 5) {
        return None;
    }
    let esize = 1u32 << len;
    let levels = esize - 1;
    let s = imms & levels;
    let r = immr & levels;
    // An element of all ones is not encodable (it would be "all bits set").
    if s == levels {
        return None;
    }
    let emask = if esize == 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    };
    let welem = (1u64 << (s + 1)) - 1;
    let rotated = if r == 0 {
        welem
    } else {
        ((welem >> r) | (welem << (esize - r))) & emask
    };
    let mut out = 0u64;
    let mut pos = 0;
    while pos < 64 {
        out |= rotated << pos;
        pos += esize;
    }
    if !is64 {
        out &= 0xffff_ffff;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_masks() {
        // and x0, x1, #0xff: N=1 immr=0 imms=7
        assert_eq!(decode_bit_masks(true, 1, 7, 0), Some(0xff));
        // 0xff00ff00ff00ff00: N=0 immr=8 imms=0b100111
        assert_eq!(
            decode_bit_masks(true, 0, 0x27, 8),
            Some(0xff00_ff00_ff00_ff00)
        );
        assert_eq!(decode_bit_masks(false, 0, 0x3c, 0), Some(0x5555_5555));
        assert_eq!(
            decode_bit_masks(true, 1, 62, 0),
            Some(0x7fff_ffff_ffff_ffff)
        );
        assert_eq!(
            decode_bit_masks(true, 1, 62, 1),
            Some(0xbfff_ffff_ffff_ffff)
        );
    }

    #[test]
    fn reserved_masks() {
        assert_eq!(decode_bit_masks(true, 1, 63, 0), None);
        assert_eq!(decode_bit_masks(true, 0, 0x3f, 0), None);
        assert_eq!(decode_bit_masks(false, 0, 31, 0), None);
        assert_eq!(decode_bit_masks(false, 1, 0, 0), None);
    }

    #[test]
    fn all_encodings_are_total() {
        for n in 0..2 {
            for imms in 0..64 {
                for immr in 0..64 {
                    let _ = decode_bit_masks(true, n, imms, immr);
                    let _ = decode_bit_masks(false, n, imms, immr);
                }
            }
        }
    }
}

/// Whether an ORR-immediate value could be made by one MOVZ or MOVN; if so
/// the disassembler keeps `orr` (the `mov` alias belongs to MOVZ/MOVN). This is
/// the rule GNU objdump applies (it differs from a literal reading of the ARM
/// ARM's MoveWidePreferred for 15/16-zero runs).
pub fn value_prefers_move_wide(is64: bool, value: u64) -> bool {
    let wmask = if is64 { u64::MAX } else { 0xffff_ffff };
    let halves = if is64 { 4 } else { 2 };
    let single_half = |v: u64| (0..halves).any(|k| v & !(0xffffu64 << (16 * k)) == 0);
    single_half(value & wmask) || single_half(!value & wmask)
}

#[cfg(test)]
mod value_tests {
    use super::*;

    #[test]
    fn wide_values() {
        assert!(value_prefers_move_wide(true, 0xffff));
        assert!(value_prefers_move_wide(true, 0xffff_ffff_ffff_0000));
        assert!(value_prefers_move_wide(true, 0xffff_0000_ffff_ffff));
        assert!(value_prefers_move_wide(false, 0xfffe_0000));
        assert!(!value_prefers_move_wide(true, 0xff00_ff00_ff00_ff00));
        assert!(!value_prefers_move_wide(false, 0x5555_5555));
    }
}
