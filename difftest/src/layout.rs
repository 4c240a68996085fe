//! The fixed guest-virtual layout both sides use (must agree with
//! `guests/difftest/layout.h`). Virtual = physical on our side.

/// The test sequence starts here (one page; our side maps only this page for code).
pub const SEQ: u64 = 0x1000_1000;
/// The scratch block every memory operand is constrained into (one page).
pub const SCRATCH: u64 = 0x1001_0000;
pub const SCRATCH_SIZE: u64 = 4096;
/// Most words (setup + tested) in one sequence (the harness limit).
pub const MAX_WORDS: usize = 1000;

/// u64 words of the state the harness loads and saves: x[0..30], sp, nzcv, fpcr, fpsr,
/// then V0..V31 as (bits 63..0, bits 127..64).
pub const STATE_WORDS: usize = 99;
/// Word index of NZCV, FPCR, FPSR and V0 in that state.
pub const W_NZCV: usize = 32;
pub const W_FPCR: usize = 33;
pub const W_FPSR: usize = 34;
pub const W_V: usize = 35;

/// `hvc #0`: ends a sequence on our side (the harness appends `b epilogue` instead).
pub const HVC0: u32 = 0xd400_0002;

/// Fills the scratch block from a seed (splitmix64; the harness does the same).
pub fn fill_scratch(seed: u64, out: &mut [u8]) {
    let mut s = seed;
    for chunk in out.chunks_exact_mut(8) {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        chunk.copy_from_slice(&(z ^ (z >> 31)).to_le_bytes());
    }
}
