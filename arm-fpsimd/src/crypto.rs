//! The AES (FIPS-197) and SHA-1/SHA-256 (FIPS-180) instructions of the Armv8 crypto
//! extension, following the Arm ARM pseudocode.

use crate::FpRegs;
use arm_decode::{Insn, SimdOp};

/// Product in GF(2^8) modulo the AES polynomial x^8 + x^4 + x^3 + x + 1.
const fn gmul(mut a: u8, mut b: u8) -> u8 {
    let mut p = 0u8;
    while b != 0 {
        if b & 1 != 0 {
            p ^= a;
        }
        let hi = a & 0x80;
        a <<= 1;
        if hi != 0 {
            a ^= 0x1b;
        }
        b >>= 1;
    }
    p
}

/// The AES S-box (multiplicative inverse then the affine map) and its inverse,
/// computed at compile time.
const fn sboxes() -> ([u8; 256], [u8; 256]) {
    let mut fwd = [0u8; 256];
    let mut inv = [0u8; 256];
    let mut x = 0usize;
    while x < 256 {
        // x^254 is the inverse of x (and maps 0 to 0).
        let (mut r, mut base, mut e) = (1u8, x as u8, 254u32);
        while e > 0 {
            if e & 1 == 1 {
                r = gmul(r, base);
            }
            base = gmul(base, base);
            e >>= 1;
        }
        let s =
            r ^ r.rotate_left(1) ^ r.rotate_left(2) ^ r.rotate_left(3) ^ r.rotate_left(4) ^ 0x63;
        fwd[x] = s;
        inv[s as usize] = x as u8;
        x += 1;
    }
    (fwd, inv)
}

const SBOX: ([u8; 256], [u8; 256]) = sboxes();

/// AES state: byte `i` of the register is row `i % 4`, column `i / 4`.
fn to_bytes(v: u128) -> [u8; 16] {
    v.to_le_bytes()
}

/// AESE (`decrypt` false): SubBytes(ShiftRows(state)); AESD: the inverses.
fn aes_round(state: u128, decrypt: bool) -> u128 {
    let b = to_bytes(state);
    let mut o = [0u8; 16];
    for (i, out) in o.iter_mut().enumerate() {
        let (r, c) = (i % 4, i / 4);
        // ShiftRows moves row r left by r columns; InvShiftRows right.
        let src = if decrypt {
            (c + 4 - r) % 4
        } else {
            (c + r) % 4
        };
        let x = b[r + 4 * src] as usize;
        *out = if decrypt { SBOX.1[x] } else { SBOX.0[x] };
    }
    u128::from_le_bytes(o)
}

/// Multiplication by x in GF(2^8).
fn xtime(a: u8) -> u8 {
    (a << 1) ^ if a & 0x80 != 0 { 0x1b } else { 0 }
}

/// MixColumns (`inverse` false) or InvMixColumns on every column.
fn mix_columns(state: u128, inverse: bool) -> u128 {
    let mut b = to_bytes(state);
    for col in b.chunks_exact_mut(4) {
        let mut a = [col[0], col[1], col[2], col[3]];
        if inverse {
            // InvMixColumns = MixColumns after adding 4*(a0^a2) to rows 0,2 and
            // 4*(a1^a3) to rows 1,3 (the {04}x^2+{05} factorisation).
            let u = xtime(xtime(a[0] ^ a[2]));
            let v = xtime(xtime(a[1] ^ a[3]));
            a = [a[0] ^ u, a[1] ^ v, a[2] ^ u, a[3] ^ v];
        }
        let t = a[0] ^ a[1] ^ a[2] ^ a[3];
        for r in 0..4 {
            col[r] = a[r] ^ t ^ xtime(a[r] ^ a[(r + 1) % 4]);
        }
    }
    u128::from_le_bytes(b)
}

/// The AES instructions on the host's AES unit (x86-64 AES-NI, through the `aes` crate's
/// round primitives): the same FIPS-197 steps, so the same bits as the table code above,
/// several times faster (openssl's AES spent a fifth of its time in `mix_columns`).
#[cfg(target_arch = "x86_64")]
mod host {
    use aes::{hazmat, Block};

    pub(super) fn available() -> bool {
        std::is_x86_feature_detected!("aes")
    }

    fn on_block(v: u128, f: impl FnOnce(&mut Block)) -> u128 {
        let mut b = Block::from(v.to_le_bytes());
        f(&mut b);
        let mut out = [0u8; 16];
        out.copy_from_slice(&b);
        u128::from_le_bytes(out)
    }

    /// AESE without the key: SubBytes(ShiftRows(x)), which is AESENC with a zero round
    /// key (it adds MixColumns) followed by InvMixColumns.
    pub(super) fn aese(x: u128) -> u128 {
        on_block(x, |b| {
            hazmat::cipher_round(b, &Block::default());
            hazmat::inv_mix_columns(b);
        })
    }

    /// AESD without the key: InvSubBytes(InvShiftRows(x)), AESDEC with a zero round key
    /// (it adds InvMixColumns) followed by MixColumns.
    pub(super) fn aesd(x: u128) -> u128 {
        on_block(x, |b| {
            hazmat::equiv_inv_cipher_round(b, &Block::default());
            hazmat::mix_columns(b);
        })
    }

    pub(super) fn mix_columns(x: u128, inverse: bool) -> u128 {
        on_block(x, |b| {
            if inverse {
                hazmat::inv_mix_columns(b)
            } else {
                hazmat::mix_columns(b)
            }
        })
    }
}

/// One AES instruction's transformation of `x` (the state after AddRoundKey for AESE and
/// AESD), on the host's AES unit when it has one.
fn aes_op(op: SimdOp, x: u128) -> u128 {
    #[cfg(target_arch = "x86_64")]
    if host::available() {
        return match op {
            SimdOp::Aese => host::aese(x),
            SimdOp::Aesd => host::aesd(x),
            SimdOp::Aesmc => host::mix_columns(x, false),
            _ => host::mix_columns(x, true),
        };
    }
    soft_aes_op(op, x)
}

fn soft_aes_op(op: SimdOp, x: u128) -> u128 {
    match op {
        SimdOp::Aese => aes_round(x, false),
        SimdOp::Aesd => aes_round(x, true),
        SimdOp::Aesmc => mix_columns(x, false),
        _ => mix_columns(x, true),
    }
}

fn w(v: u128, e: usize) -> u32 {
    (v >> (32 * (e & 3))) as u32
}

fn from_words(x: [u32; 4]) -> u128 {
    x.iter()
        .enumerate()
        .fold(0u128, |acc, (i, &e)| acc | (e as u128) << (32 * i))
}

fn words(v: u128) -> [u32; 4] {
    [w(v, 0), w(v, 1), w(v, 2), w(v, 3)]
}

fn choose(x: u32, y: u32, z: u32) -> u32 {
    ((y ^ z) & x) ^ z
}

fn majority(x: u32, y: u32, z: u32) -> u32 {
    (x & y) | ((x | y) & z)
}

fn parity(x: u32, y: u32, z: u32) -> u32 {
    x ^ y ^ z
}

/// SHA1C/SHA1P/SHA1M: four rounds on hash state `x` (abcd) and `e`, with the
/// schedule words in `wv`.
fn sha1_rounds(f: fn(u32, u32, u32) -> u32, x: u128, e: u32, wv: u128) -> u128 {
    let mut x = words(x);
    let mut y = e;
    for wi in words(wv) {
        let t = f(x[1], x[2], x[3]);
        y = y
            .wrapping_add(x[0].rotate_left(5))
            .wrapping_add(t)
            .wrapping_add(wi);
        x[1] = x[1].rotate_left(30);
        // ROL(Y:X, 32) over the 160-bit concatenation.
        let top = x[3];
        x = [y, x[0], x[1], x[2]];
        y = top;
    }
    from_words(x)
}

/// SHA256H (`part1`, returns the new X = abcd) and SHA256H2 (returns Y = efgh).
fn sha256_hash(x: u128, y: u128, wv: u128, part1: bool) -> u128 {
    let (mut x, mut y) = (words(x), words(y));
    for wi in words(wv) {
        let chs = choose(y[0], y[1], y[2]);
        let maj = majority(x[0], x[1], x[2]);
        let s1 = y[0].rotate_right(6) ^ y[0].rotate_right(11) ^ y[0].rotate_right(25);
        let s0 = x[0].rotate_right(2) ^ x[0].rotate_right(13) ^ x[0].rotate_right(22);
        let t = y[3].wrapping_add(s1).wrapping_add(chs).wrapping_add(wi);
        x[3] = t.wrapping_add(x[3]);
        y[3] = t.wrapping_add(s0).wrapping_add(maj);
        // ROL(Y:X, 32) over the 256-bit concatenation.
        let (xt, yt) = (x[3], y[3]);
        x = [yt, x[0], x[1], x[2]];
        y = [xt, y[0], y[1], y[2]];
    }
    from_words(if part1 { x } else { y })
}

fn sha256_su0(d: u128, n: u128) -> u128 {
    let t = words((n << 96) | (d >> 32));
    let d = words(d);
    let mut r = [0u32; 4];
    for e in 0..4 {
        let x = t[e];
        r[e] = (x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)).wrapping_add(d[e]);
    }
    from_words(r)
}

fn sha256_su1(d: u128, n: u128, m: u128) -> u128 {
    let t0 = words((m << 96) | (n >> 32));
    let d = words(d);
    let sig = |x: u32| x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10);
    let mut r = [0u32; 4];
    for e in 0..4 {
        // The upper two words use the lower two just computed.
        let src = if e < 2 { w(m, e + 2) } else { r[e - 2] };
        r[e] = sig(src).wrapping_add(d[e]).wrapping_add(t0[e]);
    }
    from_words(r)
}

fn sha1_su1(d: u128, n: u128) -> u128 {
    let t = words(d ^ (n >> 32));
    let mut r = [
        t[0].rotate_left(1),
        t[1].rotate_left(1),
        t[2].rotate_left(1),
        t[3].rotate_left(1),
    ];
    r[3] ^= t[0].rotate_left(2);
    from_words(r)
}

pub(crate) fn supported(insn: &Insn) -> bool {
    use SimdOp::*;
    match *insn {
        Insn::CryptoAes { op, .. } => matches!(op, Aese | Aesd | Aesmc | Aesimc),
        Insn::CryptoSha3 { op, .. } => {
            matches!(
                op,
                Sha1c | Sha1p | Sha1m | Sha1su0 | Sha256h | Sha256h2 | Sha256su1
            )
        }
        Insn::CryptoSha2 { op, .. } => matches!(op, Sha1h | Sha1su1 | Sha256su0),
        _ => false,
    }
}

pub(crate) fn exec(regs: &mut FpRegs, insn: &Insn, _gpr: u64) -> u64 {
    use SimdOp::*;
    if !supported(insn) {
        return 0;
    }
    match *insn {
        Insn::CryptoAes { op, rd, rn } => {
            let (d, n) = (regs.q(rd), regs.q(rn));
            let x = if matches!(op, Aese | Aesd) { d ^ n } else { n };
            regs.set_q(rd, aes_op(op, x));
        }
        Insn::CryptoSha3 { op, rd, rn, rm } => {
            let (d, n, m) = (regs.q(rd), regs.q(rn), regs.q(rm));
            let r = match op {
                Sha1c => sha1_rounds(choose, d, n as u32, m),
                Sha1p => sha1_rounds(parity, d, n as u32, m),
                Sha1m => sha1_rounds(majority, d, n as u32, m),
                Sha1su0 => ((n << 64) | (d >> 64)) ^ d ^ m,
                Sha256h => sha256_hash(d, n, m, true),
                Sha256h2 => sha256_hash(n, d, m, false),
                _ => sha256_su1(d, n, m),
            };
            regs.set_q(rd, r);
        }
        Insn::CryptoSha2 { op, rd, rn } => {
            let (d, n) = (regs.q(rd), regs.q(rn));
            let r = match op {
                Sha1h => (n as u32).rotate_left(30) as u128,
                Sha1su1 => sha1_su1(d, n),
                _ => sha256_su0(d, n),
            };
            regs.set_q(rd, r);
        }
        _ => {}
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aes_sbox_known_values() {
        // FIPS-197 figure 7 / 14.
        assert_eq!(SBOX.0[0x00], 0x63);
        assert_eq!(SBOX.0[0x53], 0xed);
        assert_eq!(SBOX.1[0x63], 0x00);
        assert_eq!(SBOX.1[0xed], 0x53);
    }

    /// The host's AES unit and the table code agree on every instruction (xorshift inputs).
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn host_aes_matches_the_tables() {
        if !host::available() {
            return;
        }
        let mut s = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        for _ in 0..2000 {
            let x = (next() as u128) << 64 | next() as u128;
            for op in [SimdOp::Aese, SimdOp::Aesd, SimdOp::Aesmc, SimdOp::Aesimc] {
                assert_eq!(aes_op(op, x), soft_aes_op(op, x), "{op:?} {x:#x}");
            }
        }
    }

    #[test]
    fn matches_qemu() {
        crate::int_vector::tests::check(CASES, exec, supported);
    }

    /// (word, Vd after, FPSR.QC after, 0), from qemu-aarch64 on the register file of
    /// the int_vector tests.
    #[rustfmt::skip]
    static CASES: &[(u32, u128, u64, u64)] = &[
        (0x4e285899, 0x219d5407_7e985081_173fabca_c226cf21, 0, 0x0), // aesd v25.16b, v4.16b
        (0x4e284a34, 0x38f496b3_089debc9_03b5b6f7_4a81ecc0, 0, 0x0), // aese v20.16b, v17.16b
        (0x4e287b2e, 0xda0f9726_92374501_679834be_20b2da16, 0, 0x0), // aesimc v14.16b, v25.16b
        (0x4e2868b1, 0xb618e1f3_4ad345d2_5ca100de_3dd0f62c, 0, 0x0), // aesmc v17.16b, v5.16b
        (0x5e0500f9, 0x6ce561f9_09f63a14_f9fb0039_a3fbe1df, 0, 0x0), // sha1c q25, s7, v5.4s
        (0x5e280bdf, 0x00000000_00000000_00000000_e4665dd9, 0, 0x0), // sha1h s31, s30
        (0x5e0021b1, 0x648d155c_d4742bb6_1537f1c9_0f269fb4, 0, 0x0), // sha1m q17, s13, v0.4s
        (0x5e041050, 0x3d152a66_d1b41e06_ba5f7bc5_0bf086fb, 0, 0x0), // sha1p q16, s2, v4.4s
        (0x5e083193, 0xa44cb2f0_51b492d8_2c9e4edd_ba771348, 0, 0x0), // sha1su0 v19.4s, v12.4s, v8.4s
        (0x5e281972, 0x6e3bc460_e91b460f_2c99d3ad_f0b6b435, 0, 0x0), // sha1su1 v18.4s, v11.4s
        (0x5e114102, 0xe0372cc8_5c987a27_a377bf3e_4dabe2f9, 0, 0x0), // sha256h q2, q8, v17.4s
        (0x5e0052b5, 0x5166641b_c3d1b672_5fa73332_b14f7256, 0, 0x0), // sha256h2 q21, q21, v0.4s
        (0x5e282ad5, 0xf0dea0d4_386db059_b5348b23_c63455ea, 0, 0x0), // sha256su0 v21.4s, v22.4s
        (0x5e156397, 0x4cf454ea_ea52b2a7_5103d034_27278a0b, 0, 0x0), // sha256su1 v23.4s, v28.4s, v21.4s
    ];
}
