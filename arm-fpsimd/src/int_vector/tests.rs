//! Unit tests: instructions run on a fixed register file, expected results from
//! qemu-aarch64 (`-cpu max`) executing the same words on the same registers.

use super::*;
use crate::regs::FPSR_QC;
use arm_decode::{decode, Arrangement};

/// The general register DUP/INS read in the expected values.
const GPR: u64 = 0x8123_4567_89ab_cdef;

fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Random lanes, and every fourth register lanes near the signed/unsigned limits.
fn test_regs() -> FpRegs {
    let mut r = FpRegs::default();
    for k in 0..32u64 {
        let (a, b) = (splitmix(2 * k), splitmix(2 * k + 1));
        r.v[k as usize] = match k % 4 {
            3 => [
                a & 0x8180_7f01_8000_ffff | 0x7f7f_8000_7fff_0000,
                b & 0x0f00_0f00_0f00_0f00 | 0x8000_0000_7fff_ffff,
            ],
            _ => [a, b],
        };
    }
    r
}

/// Runs every (word, expected Vd, expected FPSR.QC, expected general result) case
/// through `exec` and checks Vd, that no other register changed, QC and the result.
pub(crate) fn check(
    cases: &[(u32, u128, u64, u64)],
    exec: fn(&mut FpRegs, &Insn, u64) -> u64,
    supported: fn(&Insn) -> bool,
) {
    let mut bad = Vec::new();
    for &(w, want, qc, want_ret) in cases {
        let insn = decode(w);
        assert!(supported(&insn), "{w:08x} {insn} not supported");
        let before = test_regs();
        let mut r = before.clone();
        let ret = exec(&mut r, &insn, GPR);
        let rd = (w & 31) as u8;
        let others_same = (0..32u8).all(|k| k == rd || r.q(k) == before.q(k));
        if r.q(rd) != want
            || (r.fpsr & FPSR_QC != 0) != (qc == 1)
            || ret != want_ret
            || !others_same
        {
            bad.push(format!(
                "{w:08x} {insn}: got {:032x} qc {} ret {ret:x}, want {want:032x} qc {qc} ret {want_ret:x}",
                r.q(rd),
                r.fpsr >> 27 & 1
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Whether `insn` is an AdvSIMD instruction of this module (not FP, not crypto).
fn is_mine(insn: &Insn) -> bool {
    use Insn::*;
    match *insn {
        SimdDupElement { .. } | SimdDupScalar { .. } | SimdInsElement { .. } => true,
        SimdMovToGeneral { .. } => true,
        _ => insn.simd_op().is_some_and(|op| !crate::is_fp_op(op)),
    }
}

#[test]
fn matches_qemu() {
    check(CASES, exec, supported);
}

#[test]
fn rejects_other_parts() {
    // FADD (vector) is the FP module's; a load is nobody's here.
    assert!(!supported(&decode(0x4e22d420)));
    assert!(!supported(&decode(0x3dc00000)));
}

/// Every instruction of this module's part the decoder produces from a sample of the
/// AdvSIMD encoding space, re-sized to every element size and Q: `exec` must not
/// panic, and must leave the registers alone when `supported` says no.
#[test]
fn any_size_is_safe() {
    use Insn::*;
    let mut seen = 0;
    for k in 0..(1u32 << 16) {
        // bits 27..25 = 111, bit 31 = 0, the rest spread over the word.
        let w = (k.wrapping_mul(0x9e37_79b9) & !(1 << 31 | 0b111 << 25)) | 0b111 << 25;
        let insn = decode(w);
        if !is_mine(&insn) {
            continue;
        }
        for size in 0..=4u8 {
            for q in [false, true] {
                let arr = Arrangement { size, q };
                let v = match insn {
                    SimdThreeSame { op, rd, rn, rm, .. } => SimdThreeSame {
                        op,
                        arr,
                        rd,
                        rn,
                        rm,
                    },
                    SimdThreeDiff { op, rd, rn, rm, .. } => SimdThreeDiff {
                        op,
                        arr,
                        rd,
                        rn,
                        rm,
                    },
                    SimdTwoReg { op, rd, rn, .. } => SimdTwoReg { op, arr, rd, rn },
                    SimdAcross { op, rd, rn, .. } => SimdAcross { op, arr, rd, rn },
                    SimdPermute { op, rd, rn, rm, .. } => SimdPermute {
                        op,
                        arr,
                        rd,
                        rn,
                        rm,
                    },
                    SimdShiftImm {
                        op, rd, rn, shift, ..
                    } => SimdShiftImm {
                        op,
                        arr,
                        rd,
                        rn,
                        shift,
                    },
                    SimdByElement {
                        op,
                        rd,
                        rn,
                        rm,
                        index,
                        ..
                    } => SimdByElement {
                        op,
                        arr,
                        rd,
                        rn,
                        rm,
                        index,
                    },
                    SimdScalarThreeSame { op, rd, rn, rm, .. } => SimdScalarThreeSame {
                        op,
                        size,
                        rd,
                        rn,
                        rm,
                    },
                    SimdScalarThreeDiff { op, rd, rn, rm, .. } => SimdScalarThreeDiff {
                        op,
                        size,
                        rd,
                        rn,
                        rm,
                    },
                    SimdScalarTwoReg { op, rd, rn, .. } => SimdScalarTwoReg { op, size, rd, rn },
                    SimdScalarShiftImm {
                        op, rd, rn, shift, ..
                    } => SimdScalarShiftImm {
                        op,
                        size,
                        rd,
                        rn,
                        shift,
                    },
                    SimdScalarByElement {
                        op,
                        rd,
                        rn,
                        rm,
                        index,
                        ..
                    } => SimdScalarByElement {
                        op,
                        size,
                        rd,
                        rn,
                        rm,
                        index,
                    },
                    SimdScalarPairwise { op, rd, rn, .. } => {
                        SimdScalarPairwise { op, size, rd, rn }
                    }
                    SimdDupElement { rd, rn, index, .. } => SimdDupElement { arr, rd, rn, index },
                    SimdDupScalar { rd, rn, index, .. } => SimdDupScalar {
                        size,
                        rd,
                        rn,
                        index,
                    },
                    SimdInsElement {
                        rd,
                        index,
                        rn,
                        src_index,
                        ..
                    } => SimdInsElement {
                        size,
                        rd,
                        index,
                        rn,
                        src_index,
                    },
                    SimdMovToGeneral {
                        signed,
                        is64,
                        rd,
                        rn,
                        index,
                        ..
                    } => SimdMovToGeneral {
                        signed,
                        is64,
                        size,
                        rd,
                        rn,
                        index,
                    },
                    _ => continue,
                };
                seen += 1;
                let before = test_regs();
                let mut r = before.clone();
                exec(&mut r, &v, GPR);
                if !supported(&v) {
                    assert_eq!(r, before, "{v:?} changed registers");
                }
            }
        }
    }
    assert!(seen > 10_000, "{seen}");
}

/// (word, Vd after, FPSR.QC after, general-register result), from qemu-aarch64.
#[rustfmt::skip]
static CASES: &[(u32, u128, u64, u64)] = &[
    (0x5ee0ba70, 0x00000000_00000000_008030fe_80008150, 0, 0x0), // abs d16, d19
    (0x4e20ba5c, 0x39555605_7c735707_174d1629_0724461b, 0, 0x0), // abs v28.16b, v18.16b
    (0x0e60b863, 0x00000000_00000000_00815aff_00012000, 0, 0x0), // abs v3.4h, v3.4h
    (0x5eee874d, 0x00000000_00000000_8a10c557_dc5354b6, 0, 0x0), // add d13, d26, d14
    (0x4eec8781, 0xd80e3540_75d6e13a_47e15ed0_00233f8b, 0, 0x0), // add v1.2d, v28.2d, v12.2d
    (0x0e2b848d, 0x00000000_00000000_9dd531b1_ee944440, 0, 0x0), // add v13.8b, v4.8b, v11.8b
    (0x0e7543da, 0x00000000_00000000_fbe9ed3a_78e2c184, 0, 0x0), // addhn v26.4h, v30.4s, v21.4s
    (0x4e3b415c, 0x940b3725_350f4875_9d189ecf_ff7b2147, 0, 0x0), // addhn2 v28.16b, v10.8h, v27.8h
    (0x5ef1bb2a, 0x00000000_00000000_18e2daff_615a9533, 0, 0x0), // addp d10, v25.2d
    (0x0e7abdff, 0x00000000_00000000_488147fe_d6ff0dcd, 0, 0x0), // addp v31.4h, v15.4h, v26.4h
    (0x4e3dbe65, 0x274e02f4_2c52b831_8e077efe_7ed07e2e, 0, 0x0), // addp v5.16b, v19.16b, v29.16b
    (0x4e31bb16, 0x00000000_00000000_00000000_00000016, 0, 0x0), // addv b22, v24.16b
    (0x0e71b941, 0x00000000_00000000_00000000_00005954, 0, 0x0), // addv h1, v10.4h
    (0x4eb1bb2a, 0x00000000_00000000_00000000_7a3d7032, 0, 0x0), // addv s10, v25.4s
    (0x0e241e11, 0x00000000_00000000_8a425120_a5042400, 0, 0x0), // and v17.8b, v16.8b, v4.8b
    (0x4e3f1f19, 0x0c000100_6dc2a958_040a2000_f6070b22, 0, 0x0), // and v25.16b, v24.16b, v31.16b
    (0x2f0157f1, 0x00000000_00000000_89002d2d_d9c0a40d, 0, 0x0), // bic v17.2s, #0x3f, lsl #16
    (0x6f0515c2, 0x63033b00_a389c350_6e73e350_e2338a40, 0, 0x0), // bic v2.4s, #0xae
    (0x2ef31fac, 0x00000000_00000000_aac8f0d6_80a81f42, 0, 0x0), // bif v12.8b, v29.8b, v19.8b
    (0x6eee1d2f, 0x87003450_6f43df74_917cd750_dddfe45e, 0, 0x0), // bif v15.16b, v9.16b, v14.16b
    (0x6ea71ee1, 0x9b0b14e4_ffffffff_fffff7de_7fff30c6, 0, 0x0), // bit v1.16b, v23.16b, v7.16b
    (0x2eb21fb3, 0x00000000_00000000_7fefdb01_78db5eb2, 0, 0x0), // bit v19.8b, v29.8b, v18.8b
    (0x2e691f40, 0x00000000_00000000_f1201bc9_0354701a, 0, 0x0), // bsl v0.8b, v26.8b, v9.8b
    (0x6e611e0b, 0x1d0b1ee4_be2218a8_ea6b75df_b54e54c4, 0, 0x0), // bsl v11.16b, v16.16b, v1.16b
    (0x4e204952, 0x04010300_00020101_01010000_00020000, 0, 0x0), // cls v18.16b, v10.16b
    (0x0ea04809, 0x00000000_00000000_00000002_00000000, 0, 0x0), // cls v9.2s, v0.2s
    (0x6ea049ca, 0x00000000_00000000_00000000_00000000, 0, 0x0), // clz v10.4s, v14.4s
    (0x2e604ba5, 0x00000000_00000000_00010001_00000001, 0, 0x0), // clz v5.4h, v29.4h
    (0x5ee09988, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmeq d8, d12, #0
    (0x0ea0987f, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmeq v31.2s, v3.2s, #0
    (0x6eb38e28, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmeq v8.4s, v17.4s, v19.4s
    (0x5eec3df0, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // cmge d16, d15, d12
    (0x4eb93f3d, 0xffffffff_ffffffff_ffffffff_ffffffff, 0, 0x0), // cmge v29.4s, v25.4s, v25.4s
    (0x2ea08944, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // cmge v4.2s, v10.2s, #0
    (0x5ef735be, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmgt d30, d13, d23
    (0x0eaa36d6, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmgt v22.2s, v22.2s, v10.2s
    (0x4ee08ae3, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmgt v3.2d, v23.2d, #0
    (0x7ee53632, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // cmhi d18, d17, d5
    (0x6ef63720, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmhi v0.2d, v25.2d, v22.2d
    (0x2e7137a4, 0x00000000_00000000_0000ffff_00000000, 0, 0x0), // cmhi v4.4h, v29.4h, v17.4h
    (0x7efc3cc0, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmhs d0, d6, d28
    (0x2e7b3ce3, 0x00000000_00000000_0000ffff_00000000, 0, 0x0), // cmhs v3.4h, v7.4h, v27.4h
    (0x6e613fbe, 0xffffffff_0000ffff_0000ffff_ffffffff, 0, 0x0), // cmhs v30.8h, v29.8h, v1.8h
    (0x7ee09af4, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // cmle d20, d23, #0
    (0x6ea0992b, 0xffffffff_ffffffff_00000000_00000000, 0, 0x0), // cmle v11.4s, v9.4s, #0
    (0x2e209be8, 0x00000000_00000000_0000ff00_ffff00ff, 0, 0x0), // cmle v8.8b, v31.8b, #0
    (0x5ee0aa90, 0x00000000_00000000_00000000_00000000, 0, 0x0), // cmlt d16, d20, #0
    (0x0e60ab33, 0x00000000_00000000_ffff0000_00000000, 0, 0x0), // cmlt v19.4h, v25.4h, #0
    (0x4e60a943, 0x00000000_ffff0000_00000000_0000ffff, 0, 0x0), // cmlt v3.8h, v10.8h, #0
    (0x5ee78e5b, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // cmtst d27, d18, d7
    (0x0e288efa, 0x00000000_00000000_ffffff00_ffffffff, 0, 0x0), // cmtst v26.8b, v23.8b, v8.8b
    (0x4ea28da6, 0xffffffff_ffffffff_ffffffff_ffffffff, 0, 0x0), // cmtst v6.4s, v13.4s, v2.4s
    (0x0e2059f5, 0x00000000_00000000_08080600_08080305, 0, 0x0), // cnt v21.8b, v15.8b
    (0x4e205b1d, 0x03030504_06030403_01020105_06030803, 0, 0x0), // cnt v29.16b, v24.16b
    (0x0e1f0d33, 0x00000000_00000000_efefefef_efefefef, 0, 0x0), // dup v19.8b, w9
    (0x4e020d26, 0xcdefcdef_cdefcdef_cdefcdef_cdefcdef, 0, 0x0), // dup v6.8h, w9
    (0x2e2c1fa5, 0x00000000_00000000_d767bbd7_b0a04196, 0, 0x0), // eor v5.8b, v29.8b, v12.8b
    (0x6e3a1ea7, 0x72376864_8b6f80fe_44637ceb_285f2edf, 0, 0x0), // eor v7.16b, v21.16b, v26.16b
    (0x2e0610d0, 0x00000000_00000000_8f03943f_f9fc99de, 0, 0x0), // ext v16.8b, v6.8b, v6.8b, #2
    (0x6e1340d4, 0xff7fcf01_7fff7eb0_c4ca37b7_f8ad8aff, 0, 0x0), // ext v20.16b, v6.16b, v19.16b, #8
    (0x0f07ff77, 0x00000000_00000000_bec0bec0_bec0bec0, 0, 0x0), // fmov v23.4h, #-1.687500000000000000e+00
    (0x4f01febf, 0x4d404d40_4d404d40_4d404d40_4d404d40, 0, 0x0), // fmov v31.8h, #2.100000000000000000e+01
    (0x4e7c9641, 0x1562bb43_68441044_47206f05_66e36f4b, 0, 0x0), // mla v1.8h, v18.8h, v28.8h
    (0x2f710bea, 0x00000000_00000000_1397799b_2b0b869a, 0, 0x0), // mla v10.4h, v31.4h, v1.h[7]
    (0x6fb148db, 0xb3f66b8d_2c5fa124_f4037494_7ff72006, 0, 0x0), // mls v27.4s, v6.4s, v17.s[3]
    (0x2fbf4a3f, 0x00000000_00000000_bf52bc01_0f5afeea, 0, 0x0), // mls v31.2s, v17.2s, v31.s[3]
    (0x5e1706be, 0x00000000_00000000_00000000_000000eb, 0, 0x0), // mov b30, v21.b[11]
    (0x5e180560, 0x00000000_00000000_88000a00_7fffffff, 0, 0x0), // mov d0, v11.d[1]
    (0x5e1a06a0, 0x00000000_00000000_00000000_0000ec90, 0, 0x0), // mov h0, v21.h[6]
    (0x5e0407a3, 0x00000000_00000000_00000000_b0085fd2, 0, 0x0), // mov s3, v29.s[0]
    (0x6e1d35ef, 0x87ff0600_7fffffff_ffffd700_ffff0dce, 0, 0x0), // mov v15.b[14], v15.b[6]
    (0x4ebf1ff6, 0x8c000100_7fffffff_7f7fe901_ffff0bea, 0, 0x0), // mov v22.16b, v31.16b
    (0x0e143e49, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0x7c8da907), // mov w9, v18.s[2]
    (0x4e083c09, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0xe220a8397b1dcdaf), // mov x9, v0.d[0]
    (0x2f05e712, 0x00000000_00000000_ff00ffff_ff000000, 0, 0x0), // movi d18, #0xff00ffffff000000
    (0x4f04d5ce, 0x008effff_008effff_008effff_008effff, 0, 0x0), // movi v14.4s, #0x8e, msl #16
    (0x0f064403, 0x00000000_00000000_00c00000_00c00000, 0, 0x0), // movi v3.2s, #0xc0, lsl #16
    (0x0f71897e, 0x00000000_00000000_5d75bd0b_e2f5bc6e, 0, 0x0), // mul v30.4h, v11.4h, v1.h[7]
    (0x4e639c5f, 0x89000c00_dc773ca6_580d5d72_1dcdc000, 0, 0x0), // mul v31.8h, v2.8h, v3.8h
    (0x6e20593e, 0x43bf8a0d_10bce5bb_eedf4c2f_f6aa0fcd, 0, 0x0), // mvn v30.16b, v9.16b
    (0x2e20593e, 0x00000000_00000000_eedf4c2f_f6aa0fcd, 0, 0x0), // mvn v30.8b, v9.8b
    (0x2f04257f, 0x00000000_00000000_ffff74ff_ffff74ff, 0, 0x0), // mvni v31.2s, #0x8b, lsl #8
    (0x6f014789, 0xffc3ffff_ffc3ffff_ffc3ffff_ffc3ffff, 0, 0x0), // mvni v9.4s, #0x3c, lsl #16
    (0x7ee0bad8, 0x00000000_00000000_04bad6ed_d665abad, 0, 0x0), // neg d24, d22
    (0x2e20bb54, 0x00000000_00000000_074cb233_f94cc0b6, 0, 0x0), // neg v20.8b, v26.8b
    (0x6e60ba38, 0xb2a447db_20564fa5_76dcd2d3_262c5bf3, 0, 0x0), // neg v24.8h, v17.8h
    (0x0efc1c4b, 0x00000000_00000000_6ef7e372_e2b7defa, 0, 0x0), // orn v11.8b, v2.8b, v28.8b
    (0x4efa1c63, 0xb7a17b0b_ffffffff_ff7fb533_ffffffb5, 0, 0x0), // orn v3.16b, v3.16b, v26.16b
    (0x0f0534ed, 0x00000000_00000000_c3b7f7e8_0f55efda, 0, 0x0), // orr v13.2s, #0xa7, lsl #8
    (0x4eb81d1b, 0x9ccef7f6_efe3fb7b_5deba6fe_fe77ff27, 0, 0x0), // orr v27.16b, v8.16b, v24.16b
    (0x6e399e3d, 0x819840b7_fa560078_e3205a74_223cd0bf, 0, 0x0), // pmul v29.16b, v17.16b, v25.16b
    (0x2e3d9c85, 0x00000000_00000000_b6d20b10_90a8d28c, 0, 0x0), // pmul v5.8b, v4.8b, v29.8b
    (0x0eeee216, 0x7bebcbbb_569dc26a_3aecc108_174b246c, 0, 0x0), // pmull v22.1q, v16.1d, v14.1d
    (0x0e35e25e, 0x63357d69_038c05d6_00cd1ecc_3f8c0c47, 0, 0x0), // pmull v30.8h, v18.8b, v21.8b
    (0x4e33e20a, 0x17880000_002d0000_356a1e1e_08086798, 0, 0x0), // pmull2 v10.8h, v16.16b, v19.16b
    (0x4ee1e37c, 0x0e23e8b2_1f1553a3_57f6a3f1_c900855b, 0, 0x0), // pmull2 v28.1q, v27.2d, v1.2d
    (0x2e7642b0, 0x00000000_00000000_b2547810_b91c5986, 0, 0x0), // raddhn v16.4h, v21.4s, v22.4s
    (0x6e334009, 0x1f35095d_e277fb4c_1120b3d0_0955f032, 0, 0x0), // raddhn2 v9.16b, v0.8h, v19.8h
    (0x6e605a6d, 0x7100e000_feffffff_fffef380_feff7e0d, 0, 0x0), // rbit v13.16b, v19.16b
    (0x2e605a31, 0x00000000_00000000_9124b4b4_9b2b25b0, 0, 0x0), // rbit v17.8b, v17.8b
    (0x4e201a18, 0x0e2ced0f_22bea818_ebea277f_4eb50124, 0, 0x0), // rev16 v24.16b, v16.16b
    (0x0e201947, 0x00000000_00000000_22369059_16488c81, 0, 0x0), // rev16 v7.8b, v10.8b
    (0x2e60084c, 0x00000000_00000000_e3726e73_8acae233, 0, 0x0), // rev32 v12.4h, v2.4h
    (0x6e200a87, 0x6e848e11_49c93ba9_0bae9e36_1291a10c, 0, 0x0), // rev32 v7.16b, v20.16b
    (0x4e200bef, 0xffffff7f_0001008c_ea0bffff_01e97f7f, 0, 0x0), // rev64 v15.16b, v31.16b
    (0x0e2008ff, 0x00000000_00000000_3ee6ff7f_00d6ff7f, 0, 0x0), // rev64 v31.8b, v7.8b
    (0x0f088fa5, 0x00000000_00000000_97c431b8_7e7cb060, 0, 0x0), // rshrn v5.8b, v29.8h, #8
    (0x4f1c8dd4, 0xb49b1cf7_c769f147_369eae0b_0ca19112, 0, 0x0), // rshrn2 v20.8h, v14.4s, #4
    (0x2eae6364, 0x00000000_00000000_d284b755_6f233f76, 0, 0x0), // rsubhn v4.2s, v27.2d, v14.2d
    (0x6e2c62d6, 0x56339c94_50692936_fb452912_299a5453, 0, 0x0), // rsubhn2 v22.16b, v22.8h, v12.8h
    (0x0eb57e30, 0x00000000_00000000_1f9e8420_0b64ee89, 0, 0x0), // saba v16.2s, v17.2s, v21.2s
    (0x4e737e31, 0x0cb80700_7fffffff_ff7f8b59_7fff7eb0, 0, 0x0), // saba v17.8h, v17.8h, v19.8h
    (0x0ea05357, 0x8b000400_9793a693_ffffd601_f368bd6c, 0, 0x0), // sabal v23.2d, v26.2s, v0.2s
    (0x4e7a5299, 0x5ddb216b_4e8740ee_bb08b9a9_12d3faf8, 0, 0x0), // sabal2 v25.4s, v20.8h, v26.8h
    (0x4e747785, 0x2477efa5_242c60e8_99860f3c_0d269035, 0, 0x0), // sabd v5.8h, v28.8h, v20.8h
    (0x0e7c76a9, 0x00000000_00000000_20bf9357_30704d4e, 0, 0x0), // sabd v9.4h, v21.4h, v28.4h
    (0x0eaf73c3, 0x00000000_44f4e60d_00000000_6e659667, 0, 0x0), // sabdl v3.2d, v30.2s, v15.2s
    (0x4e63701b, 0x00000e0a_00002cec_0000f6fd_00005cc2, 0, 0x0), // sabdl2 v27.4s, v0.8h, v3.8h
    (0x0e60680e, 0x00000000_00000000_905c00e3_d49f5d38, 0, 0x0), // sadalp v14.2s, v0.4h
    (0x4e206aba, 0xc8818470_605a6eed_f9484f25_07ce404d, 0, 0x0), // sadalp v26.8h, v21.16b
    (0x0e6300a8, 0x00000806_ffffb7bf_ffff8a57_00000fca, 0, 0x0), // saddl v8.4s, v5.4h, v3.4h
    (0x4e200221, 0xffde0066_ffe50011_ff68ffac_000c001c, 0, 0x0), // saddl2 v1.8h, v17.16b, v0.16b
    (0x4e202870, 0xff830001_007efffe_007effa6_fffeffe0, 0, 0x0), // saddlp v16.8h, v3.16b
    (0x0ea02a1f, 0x00000000_00000000_ffffffff_a039a328, 0, 0x0), // saddlp v31.1d, v16.2s
    (0x4eb03959, 0x00000000_00000000_00000000_3ceb0b78, 0, 0x0), // saddlv d25, v10.4s
    (0x4e303a14, 0x00000000_00000000_00000000_00000079, 0, 0x0), // saddlv h20, v16.16b
    (0x4e703871, 0x00000000_00000000_00000000_ffff887d, 0, 0x0), // saddlv s17, v3.8h
    (0x0eb11106, 0x808475ef_b807a090_5de186dc_944c3614, 0, 0x0), // saddw v6.2d, v8.2d, v17.2s
    (0x4e7711ba, 0x974dc032_59810a8a_c3b874e7_0f554dd9, 0, 0x0), // saddw2 v26.4s, v13.4s, v23.8h
    (0x4ea504f0, 0xebfab3be_51c0184e_4443745f_052c0b04, 0, 0x0), // shadd v16.4s, v7.4s, v5.4s
    (0x0e7e0565, 0x00000000_00000000_dd44e87a_c8cc42b8, 0, 0x0), // shadd v5.4h, v11.4h, v30.4h
    (0x5f545623, 0x00000000_00000000_d2dd9d4a_40d00000, 0, 0x0), // shl d3, d17, #20
    (0x4f5c5762, 0x07ffffff_f0000000_0fffff37_50000000, 0, 0x0), // shl v2.2d, v27.2d, #28
    (0x0f3857e6, 0x00000000_00000000_01000000_ea000000, 0, 0x0), // shl v6.2s, v31.2s, #24
    (0x2ea13ba3, 0x7daf7bd7_00000000_b0085fd2_00000000, 0, 0x0), // shll v3.2d, v29.2s, #32
    (0x6e213aeb, 0x8b000000_04000000_7f00ff00_ff00ff00, 0, 0x0), // shll2 v11.8h, v23.16b, #8
    (0x0f0e8595, 0x00000000_00000000_824b31c2_b2002a91, 0, 0x0), // shrn v21.8b, v12.8h, #2
    (0x4f3b84bf, 0xe91c0184_f452c17e_7f7fe901_ffff0bea, 0, 0x0), // shrn2 v31.4s, v5.2d, #5
    (0x0e7b267b, 0x00000000_00000000_00000c80_4000459d, 0, 0x0), // shsub v27.4h, v19.4h, v27.4h
    (0x4eae249d, 0xf99a04a9_1b37487a_06fced93_0d7b10e5, 0, 0x0), // shsub v29.4s, v4.4s, v14.4s
    (0x7f4d57e9, 0x00000000_00000000_fd203fff_e17d5032, 0, 0x0), // sli d9, d31, #13
    (0x6f3f5725, 0xd0f5647d_2380309d_088712be_8a582fca, 0, 0x0), // sli v5.4s, v25.4s, #31
    (0x2f3e55a6, 0x00000000_00000000_143ff9fc_99de8f03, 0, 0x0), // sli v6.2s, v13.2s, #30
    (0x4e7b640c, 0x910a2dec_7fff5cc1_ff7fb600_7b1df375, 0, 0x0), // smax v12.8h, v0.8h, v27.8h
    (0x0eae6608, 0x00000000_00000000_eaeb7f27_d49f146c, 0, 0x0), // smax v8.2s, v16.2s, v14.2s
    (0x4e2aa4ba, 0x060ae825_3659488c_507d2330_0812582f, 0, 0x0), // smaxp v26.16b, v5.16b, v10.16b
    (0x0e79a6a3, 0x00000000_00000000_02c454cb_32266e95, 0, 0x0), // smaxp v3.4h, v21.4h, v25.4h
    (0x4e30abff, 0x00000000_00000000_00000000_0000007f, 0, 0x0), // smaxv b31, v31.16b
    (0x0e70abe1, 0x00000000_00000000_00000000_00007f7f, 0, 0x0), // smaxv h1, v31.4h
    (0x4eb0aa69, 0x00000000_00000000_00000000_7fffffff, 0, 0x0), // smaxv s9, v19.4s
    (0x0eba6c79, 0x00000000_00000000_f9b44ecd_ffffe000, 0, 0x0), // smin v25.2s, v3.2s, v26.2s
    (0x4e656fda, 0x417ffd13_01eaa631_bb0af0f3_8a582fca, 0, 0x0), // smin v26.8h, v30.8h, v5.8h
    (0x0e38adcf, 0x00000000_00000000_0420f6ff_908a9f14, 0, 0x0), // sminp v15.8b, v14.8b, v24.8b
    (0x4e7dad1d, 0x9691b83c_7bd7b008_80842ee3_86dc9207, 0, 0x0), // sminp v29.8h, v8.8h, v29.8h
    (0x4e31a850, 0x00000000_00000000_00000000_00000089, 0, 0x0), // sminv b16, v2.16b
    (0x0e71a80e, 0x00000000_00000000_00000000_0000a839, 0, 0x0), // sminv h14, v0.4h
    (0x4eb1ab35, 0x00000000_00000000_00000000_bb0802c4, 0, 0x0), // sminv s21, v25.4s
    (0x0f612937, 0x8c65c480_79c8653f_00c2c9b5_7eb5048f, 0, 0x0), // smlal v23.4s, v9.4h, v1.h[6]
    (0x4f9b20b0, 0x2c0e0bf6_482eacc9_eaeb7d6a_6c6c62c2, 0, 0x0), // smlal2 v16.2d, v5.4s, v27.s[0]
    (0x0f73681b, 0x7f69a100_5523d4ff_3b9cdf00_e76e6675, 0, 0x0), // smlsl v27.4s, v0.4h, v3.h[7]
    (0x4e35a19f, 0x724cfdb8_7b13133f_7e2ffa98_fb261022, 0, 0x0), // smlsl2 v31.8h, v12.16b, v21.16b
    (0x0e0b2d89, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0xffffffc0), // smov w9, v12.b[5]
    (0x4e1b2de9, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0x6), // smov x9, v15.b[13]
    (0x0eb9c32b, 0x1294aec2_8447a610_01626661_6eb7d8f9, 0, 0x0), // smull v11.2d, v25.2s, v25.2s
    (0x4f7eaa8f, 0xfb4d293a_2112fada_17396859_0ea50913, 0, 0x0), // smull2 v15.4s, v20.8h, v14.h[7]
    (0x5e2079c3, 0x00000000_00000000_00000000_0000006c, 0, 0x0), // sqabs b3, b14
    (0x5ee07aa1, 0x00000000_00000000_4228cdd9_d014916b, 0, 0x0), // sqabs d1, d21
    (0x5e6078d5, 0x00000000_00000000_00000000_000070fd, 0, 0x0), // sqabs h21, h6
    (0x5ea079b9, 0x00000000_00000000_00000000_0f554dda, 0, 0x0), // sqabs s25, s13
    (0x0e6079ee, 0x00000000_00000000_00012900_00010dce, 0, 0x0), // sqabs v14.4h, v15.4h
    (0x4e207be7, 0x74000100_7f010101_7f7f1701_01010b16, 0, 0x0), // sqabs v7.16b, v31.16b
    (0x5e330ca6, 0x00000000_00000000_00000000_00000080, 1, 0x0), // sqadd b6, b5, b19
    (0x5efe0c25, 0x00000000_00000000_80000000_00000000, 1, 0x0), // sqadd d5, d1, d30
    (0x5e740ed8, 0x00000000_00000000_00000000_0000e565, 0, 0x0), // sqadd h24, h22, h20
    (0x5eb60d08, 0x00000000_00000000_00000000_e411e65a, 0, 0x0), // sqadd s8, s8, s22
    (0x4ef40d99, 0xb397459b_9a038052_e1676e0b_0d49af56, 0, 0x0), // sqadd v25.2d, v12.2d, v20.2d
    (0x0eb50c85, 0x00000000_00000000_80000000_1f80a4cb, 1, 0x0), // sqadd v5.2s, v4.2s, v21.2s
    (0x5eab9061, 0x00000000_00000000_975835de_5914d6ce, 0, 0x0), // sqdmlal d1, s3, s11
    (0x5f443249, 0x00000000_00000000_00000000_ebbbd796, 0, 0x0), // sqdmlal s9, h18, v4.h[0]
    (0x0fa138ef, 0xa40b115c_dd252fff_1d0ae60c_d11edc3e, 0, 0x0), // sqdmlal v15.2d, v7.2s, v1.s[3]
    (0x4f713bc6, 0xd3a69ea1_f80398a1_94af2818_857df139, 0, 0x0), // sqdmlal2 v6.4s, v30.8h, v1.h[7]
    (0x5fb67125, 0x00000000_00000000_08df62ce_2c5e64c2, 0, 0x0), // sqdmlsl d5, s9, v22.s[1]
    (0x5e75b07b, 0x00000000_00000000_00000000_1ba53375, 0, 0x0), // sqdmlsl s27, h3, h21
    (0x0f607bfe, 0x13c244eb_0a2ab259_bb0b4ccb_8d533bf7, 0, 0x0), // sqdmlsl v30.4s, v31.4h, v0.h[6]
    (0x4f5f7298, 0x1c4abac2_edc1b234_040972ec_f60791b5, 0, 0x0), // sqdmlsl2 v24.4s, v20.8h, v15.h[1]
    (0x5f61c81d, 0x00000000_00000000_00000000_0000f7c9, 0, 0x0), // sqdmulh h29, h0, v1.h[6]
    (0x5fb0ca5f, 0x00000000_00000000_00000000_027568e1, 0, 0x0), // sqdmulh s31, s18, v16.s[3]
    (0x0fa4c01e, 0x00000000_00000000_16cada14_a210351e, 0, 0x0), // sqdmulh v30.2s, v0.2s, v4.s[1]
    (0x4f69c245, 0x2187cccc_b5dd33c4_0d46f2cf_fbbf299a, 0, 0x0), // sqdmulh v5.8h, v18.8h, v9.h[2]
    (0x5fa0bbf8, 0x00000000_00000000_0000d397_aab63b70, 0, 0x0), // sqdmull d24, s31, v0.s[3]
    (0x5f5fb1ec, 0x00000000_00000000_00000000_ffffe464, 0, 0x0), // sqdmull s12, h15, v15.h[1]
    (0x0f50b04a, 0x6a3b880e_e48913d4_e356418e_8f438dc4, 0, 0x0), // sqdmull v10.4s, v2.4h, v0.h[1]
    (0x4f70b9fe, 0x68e48c00_facc7800_910addec_0000ddec, 0, 0x0), // sqdmull2 v30.4s, v15.8h, v0.h[7]
    (0x7e207b49, 0x00000000_00000000_00000000_000000b6, 0, 0x0), // sqneg b9, b26
    (0x7ee07a99, 0x00000000_00000000_c96151f4_f35e6eee, 0, 0x0), // sqneg d25, d20
    (0x7e607b6a, 0x00000000_00000000_00000000_00000c8b, 0, 0x0), // sqneg h10, h27
    (0x7ea078fe, 0x00000000_00000000_00000000_800019c2, 0, 0x0), // sqneg s30, s7
    (0x6ee07a56, 0x3854a9fa_837256f9_164ce9d6_f8db45e5, 0, 0x0), // sqneg v22.2d, v18.2d
    (0x2ea07bbe, 0x00000000_00000000_82508429_4ff7a02e, 0, 0x0), // sqneg v30.2s, v29.2s
    (0x5f71da57, 0x00000000_00000000_00000000_0000f024, 0, 0x0), // sqrdmulh h23, h18, v1.h[7]
    (0x5fa1da1d, 0x00000000_00000000_00000000_ef0d3cae, 0, 0x0), // sqrdmulh s29, s16, v1.s[3]
    (0x4f60db95, 0x136129a5_d3e50f23_dc84dd22_ffd00bf0, 0, 0x0), // sqrdmulh v21.8h, v28.8h, v0.h[6]
    (0x2eadb41a, 0x00000000_00000000_0e11815d_0ebf8ac7, 0, 0x0), // sqrdmulh v26.2s, v0.2s, v13.2s
    (0x5e3d5cc8, 0x00000000_00000000_00000000_00000000, 0, 0x0), // sqrshl b8, b6, b29
    (0x5ef05f07, 0x00000000_00000000_081440ed_ec0ffe46, 0, 0x0), // sqrshl d7, d24, d16
    (0x5e775f4b, 0x00000000_00000000_00000000_00007fff, 1, 0x0), // sqrshl h11, h26, h23
    (0x5eb15fe6, 0x00000000_00000000_00000000_e17d4000, 0, 0x0), // sqrshl s6, s31, s17
    (0x0ea15e15, 0x00000000_00000000_00000000_00000000, 0, 0x0), // sqrshl v21.2s, v16.2s, v1.2s
    (0x4e7d5d79, 0x00000000_00008000_00000000_ff000000, 1, 0x0), // sqrshl v25.8h, v11.8h, v29.8h
    (0x5f0b9e5a, 0x00000000_00000000_00000000_00000080, 1, 0x0), // sqrshrn b26, h18, #5
    (0x5f1f9e3b, 0x00000000_00000000_00000000_00008000, 1, 0x0), // sqrshrn h27, s17, #1
    (0x5f369e42, 0x00000000_00000000_00000000_80000000, 1, 0x0), // sqrshrn s2, d18, #10
    (0x0f2b9eb4, 0x00000000_00000000_80000000_80000000, 1, 0x0), // sqrshrn v20.2s, v21.2d, #21
    (0x4f1e9fce, 0x7fff7fff_80008000_905c768a_d49f146c, 1, 0x0), // sqrshrn2 v14.8h, v30.4s, #2
    (0x7f0a8e3d, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqrshrun b29, h17, #6
    (0x7f1d8d85, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // sqrshrun h5, s12, #3
    (0x7f2e8f67, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqrshrun s7, d27, #18
    (0x2f398fd0, 0x00000000_00000000_ffffffff_00000000, 1, 0x0), // sqrshrun v16.2s, v30.2d, #7
    (0x6f198d1c, 0x0000ffff_ffff0000_9d189ecf_ff7b2147, 1, 0x0), // sqrshrun2 v28.8h, v8.4s, #7
    (0x5e354f9e, 0x00000000_00000000_00000000_00000000, 0, 0x0), // sqshl b30, b28, b21
    (0x5ee14c2b, 0x00000000_00000000_ffffffff_ffffe5d6, 0, 0x0), // sqshl d11, d1, d1
    (0x5e694f86, 0x00000000_00000000_00000000_00007fff, 1, 0x0), // sqshl h6, h28, h9
    (0x5f257490, 0x00000000_00000000_00000000_80000000, 1, 0x0), // sqshl s16, s4, #5
    (0x0ea14e53, 0x00000000_00000000_ffffffff_00000000, 0, 0x0), // sqshl v19.2s, v18.2s, v1.2s
    (0x4ef94e3a, 0x7fffffff_ffffffff_ffffffff_fffffc49, 1, 0x0), // sqshl v26.2d, v17.2d, v25.2d
    (0x7f0c6529, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // sqshlu b9, b9, #4
    (0x7f43659c, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqshlu d28, d12, #3
    (0x7f1f6606, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // sqshlu h6, h16, #15
    (0x7f3b66c6, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // sqshlu s6, s22, #27
    (0x6f64672f, 0xffffffff_ffffffff_00000000_00000000, 1, 0x0), // sqshlu v15.2d, v25.2d, #36
    (0x2f30643e, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // sqshlu v30.2s, v1.2s, #16
    (0x5f0d97cd, 0x00000000_00000000_00000000_0000007f, 1, 0x0), // sqshrn b13, h30, #3
    (0x5f149639, 0x00000000_00000000_00000000_00008000, 1, 0x0), // sqshrn h25, s17, #12
    (0x5f259403, 0x00000000_00000000_00000000_80000000, 1, 0x0), // sqshrn s3, d0, #27
    (0x0f1b9570, 0x00000000_00000000_80007fff_8000f870, 1, 0x0), // sqshrn v16.4h, v11.4s, #5
    (0x4f219591, 0x80000000_80000000_89242d2d_d9d4a40d, 1, 0x0), // sqshrn2 v17.4s, v12.2d, #31
    (0x7f0e846c, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqshrun b12, h3, #2
    (0x7f1b867a, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // sqshrun h26, s19, #5
    (0x7f268798, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqshrun s24, d28, #26
    (0x2f118651, 0x00000000_00000000_0000f91b_00000e49, 1, 0x0), // sqshrun v17.4h, v18.4s, #15
    (0x6f3c869e, 0xffffffff_ffffffff_bb0af0f3_91997767, 1, 0x0), // sqshrun2 v30.4s, v20.2d, #4
    (0x5e2b2c3c, 0x00000000_00000000_00000000_000000c4, 0, 0x0), // sqsub b28, b1, b11
    (0x5ef22cee, 0x00000000_00000000_7fffffff_ffffffff, 1, 0x0), // sqsub d14, d7, d18
    (0x5e782c39, 0x00000000_00000000_00000000_000057ab, 0, 0x0), // sqsub h25, h1, h24
    (0x5eb42f98, 0x00000000_00000000_00000000_f2d99035, 0, 0x0), // sqsub s24, s28, s20
    (0x0e232fb6, 0x00000000_00000000_7e807fd6_b1097fd2, 1, 0x0), // sqsub v22.8b, v29.8b, v3.8b
    (0x4e7b2e08, 0x7fff0eed_800018a9_eb6c7fff_b54f308c, 1, 0x0), // sqsub v8.8h, v16.8h, v27.8h
    (0x5e2149a5, 0x00000000_00000000_00000000_0000007f, 1, 0x0), // sqxtn b5, h13
    (0x5e614961, 0x00000000_00000000_00000000_00008000, 1, 0x0), // sqxtn h1, s11
    (0x5ea14832, 0x00000000_00000000_00000000_80000000, 1, 0x0), // sqxtn s18, d1
    (0x0ea149b6, 0x00000000_00000000_80000000_80000000, 1, 0x0), // sqxtn v22.2s, v13.2d
    (0x4e61499a, 0x80008000_80007fff_f9b44ecd_07b4404a, 1, 0x0), // sqxtn2 v26.8h, v12.4s
    (0x7e212b57, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // sqxtun b23, h26
    (0x7e61283b, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // sqxtun h27, s1
    (0x7ea12883, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqxtun s3, d4
    (0x2ea12abc, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqxtun v28.2s, v21.2d
    (0x6ea12930, 0x00000000_ffffffff_eaeb7f27_b54e2401, 1, 0x0), // sqxtun2 v16.4s, v9.2d
    (0x0e60176b, 0x00000000_00000000_f0d0af1d_3d8ee092, 0, 0x0), // srhadd v11.4h, v27.4h, v0.4h
    (0x4e7c1783, 0x36057413_850f2a31_9d189ecf_ff7b2147, 0, 0x0), // srhadd v3.8h, v28.8h, v28.8h
    (0x7f5f462f, 0x00000000_00000000_ffffd700_c4921696, 0, 0x0), // sri d15, d17, #33
    (0x6f5447a2, 0x63033b0c_a389691c_6e73e372_e237daf7, 0, 0x0), // sri v2.2d, v29.2d, #44
    (0x2f12451e, 0x00000000_00000000_bb09f0f2_919a7766, 0, 0x0), // sri v30.4h, v8.4h, #14
    (0x5ef456b4, 0x00000000_00000000_c898bfad_ba540000, 0, 0x0), // srshl d20, d21, d20
    (0x0e6c5714, 0x00000000_00000000_00002076_00000000, 0, 0x0), // srshl v20.4h, v24.4h, v12.4h
    (0x4e7654fe, 0x00000003_00000000_00000000_00000000, 0, 0x0), // srshl v30.8h, v7.8h, v22.8h
    (0x5f7726fe, 0x00000000_00000000_ffffffeb_00bfff98, 0, 0x0), // srshr d30, d23, #9
    (0x0f30248a, 0x00000000_00000000_ffff9e56_ffffef95, 0, 0x0), // srshr v10.2s, v4.2s, #16
    (0x4f7a246e, 0xfe0c0004_02000000_fffdfe94_07ffff80, 0, 0x0), // srshr v14.2d, v3.2d, #6
    (0x5f7a3705, 0x00000000_00000000_08973b40_66304fc7, 0, 0x0), // srsra d5, d24, #6
    (0x0f2f368f, 0x00000000_00000000_fffff24f_ffff141f, 0, 0x0), // srsra v15.2s, v20.2s, #17
    (0x4f5d37f1, 0x4d5cb825_d12ab07b_89242d2d_e9c4a12d, 0, 0x0), // srsra v17.2d, v31.2d, #35
    (0x5ef54778, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // sshl d24, d27, d21
    (0x0eb946aa, 0x00000000_00000000_ffffffff_00000000, 0, 0x0), // sshl v10.2s, v21.2s, v25.2s
    (0x4e684606, 0x00000000_ffff0000_ffff0000_00000080, 0, 0x0), // sshl v6.8h, v16.8h, v8.8h
    (0x0f24a415, 0xfffffffe_220a8390_00000007_b1dcdaf0, 0, 0x0), // sshll v21.2d, v0.2s, #4
    (0x4f3ca710, 0x01c4a97a_60000000_fedc2a95_80000000, 0, 0x0), // sshll2 v16.2d, v24.4s, #28
    (0x5f590570, 0x00000000_00000000_ffffffff_fffeffc0, 0, 0x0), // sshr d16, d11, #39
    (0x0f2c0696, 0x00000000_00000000_00000369_000000ca, 0, 0x0), // sshr v22.2s, v20.2s, #20
    (0x4f3006a8, 0xffffba69_ffffeb4f_ffffbdd7_00002feb, 0, 0x0), // sshr v8.4s, v21.4s, #16
    (0x5f55157c, 0x00000000_00000000_9d189ecf_ff7b1143, 0, 0x0), // ssra d28, d11, #43
    (0x0f1b152c, 0x00000000_00000000_ab51bd9e_00f21dc5, 0, 0x0), // ssra v12.4h, v9.4h, #5
    (0x4f3f17cc, 0xc2c8bfb5_f1bd0a21_884e3879_c974d9f7, 0, 0x0), // ssra v12.4s, v30.4s, #1
    (0x0ebd213e, 0xffffffff_937137f9_00000000_594d9060, 0, 0x0), // ssubl v30.2d, v9.2s, v29.2s
    (0x4e2f21f8, 0x00000000_00000000_00000000_00000000, 0, 0x0), // ssubl2 v24.8h, v15.16b, v15.16b
    (0x0e2d30b2, 0x513264c6_238c30b5_08781269_8a0b2ff0, 0, 0x0), // ssubw v18.8h, v5.8h, v13.8b
    (0x4e363311, 0x1c5397bd_edcfa960_047e20b6_f5bdff4d, 0, 0x0), // ssubw2 v17.8h, v24.8h, v22.16b
    (0x7ef185f0, 0x00000000_00000000_76dba9d3_262a69c1, 0, 0x0), // sub d16, d15, d17
    (0x2e2886f9, 0x00000000_00000000_a21e5025_c5889e00, 0, 0x0), // sub v25.8b, v23.8b, v8.8b
    (0x6eaa84e8, 0x8035f86b_c817da38_49dd7c70_37e964b2, 0, 0x0), // sub v8.4s, v7.4s, v10.4s
    (0x0e326192, 0x00000000_00000000_da6b740e_c1a9f964, 0, 0x0), // subhn v18.8b, v12.8h, v18.8h
    (0x4e6e63ab, 0xdb16a8d0_ed53db69_ff7fe001_ffff0e0a, 0, 0x0), // subhn2 v11.8h, v29.4s, v14.4s
    (0x5e2038a9, 0x00000000_00000000_00000000_0000007f, 1, 0x0), // suqadd b9, b5
    (0x5ee03a67, 0x00000000_00000000_7fffffff_ffffffff, 1, 0x0), // suqadd d7, d19
    (0x5e60385c, 0x00000000_00000000_00000000_00007fff, 1, 0x0), // suqadd h28, h2
    (0x5ea03b3b, 0x00000000_00000000_00000000_12d34840, 0, 0x0), // suqadd s27, s25
    (0x4ee039ec, 0x2908c72d_70c7b708_7fffffff_ffffffff, 1, 0x0), // suqadd v12.2d, v15.2d
    (0x0e203847, 0x00000000_00000000_7f727f72_7f32707f, 1, 0x0), // suqadd v7.8b, v2.8b
    (0x0f10a5bf, 0xffffc3b7_fffff4e8_00000f55_00004dda, 0, 0x0), // sxtl v31.4s, v13.4h
    (0x4f08a56d, 0xff880000_000a0000_007fffff_ffffffff, 0, 0x0), // sxtl2 v13.8h, v11.16b
    (0x4e050380, 0x00000000_00000000_31000000_00000000, 0, 0x0), // tbl v0.16b, {v28.16b}, v5.16b
    (0x4e1e2086, 0x0000008a_36000000_00700000_00000000, 0, 0x0), // tbl v6.16b, {v4.16b, v5.16b}, v30.16b
    (0x0e0042e8, 0x00000000_00000000_00cb0000_00970000, 0, 0x0), // tbl v8.8b, {v23.16b-v25.16b}, v0.8b
    (0x4e08704e, 0xbb7b49ab_af01cf70_905c768a_d49f146e, 0, 0x0), // tbx v14.16b, {v2.16b-v5.16b}, v8.16b
    (0x4e1b30b5, 0xbaca2fca_eb4fef88_bdd732ca_2feb6e95, 0, 0x0), // tbx v21.16b, {v5.16b, v6.16b}, v27.16b
    (0x4e0e1223, 0x83000100_7fa4ffff_ff7fa501_ffffe000, 0, 0x0), // tbx v3.16b, {v17.16b}, v14.16b
    (0x0e1b28bb, 0x00000000_00000000_7f8700be_ff5875ca, 0, 0x0), // trn1 v27.8b, v5.8b, v27.8b
    (0x4e8129dd, 0xdb018fed_8801cf70_1c9756ce_d49f146c, 0, 0x0), // trn1 v29.4s, v14.4s, v1.4s
    (0x0e016b82, 0x00000000_00000000_979d359e_1cff5621, 0, 0x0), // trn2 v2.8b, v28.8b, v1.8b
    (0x4e5c6b83, 0x36053605_850f850f_9d189d18_ff7bff7b, 0, 0x0), // trn2 v3.8h, v28.8h, v28.8h
    (0x6e7b7eaf, 0xb369f190_eb4f1076_41a75ada_d01392ae, 0, 0x0), // uaba v15.8h, v21.8h, v27.8h
    (0x2eac7f19, 0x00000000_00000000_61c6a24e_083335aa, 0, 0x0), // uaba v25.2s, v24.2s, v12.2s
    (0x2e205228, 0x80dd75f4_2f5e736f_5e3f8793_baa092a9, 0, 0x0), // uabal v8.8h, v17.8b, v0.8b
    (0x6e2c507f, 0x8c1f0108_80bf002b_7ff0e939_00470ce0, 0, 0x0), // uabal2 v31.8h, v3.16b, v12.16b
    (0x2e3e77aa, 0x00000000_00000000_3ea5751c_1f91186b, 0, 0x0), // uabd v10.8b, v29.8b, v30.8b
    (0x6e3e760d, 0x1571eeda_bdc88e77_2fe171cc_244b5366, 0, 0x0), // uabd v13.16b, v16.16b, v30.16b
    (0x2ea173cb, 0x00000000_23b2bb15_00000000_75022099, 0, 0x0), // uabdl v11.2d, v30.2s, v1.2s
    (0x6e2970a2, 0x006c00b5_00110075_00cc003d_00160059, 0, 0x0), // uabdl2 v2.8h, v5.16b, v9.16b
    (0x6e2068ea, 0x07510a98_b96627c5_37a05a66_499482b0, 0, 0x0), // uadalp v10.8h, v7.16b
    (0x2e2068c2, 0x00000000_00000000_6f46e567_e3aa8b5c, 0, 0x0), // uadalp v2.4h, v6.8b
    (0x2e3102aa, 0x014600fb_005f0053_010801bf_011200a2, 0, 0x0), // uaddl v10.8h, v21.8b, v17.8b
    (0x6e710176, 0x0000d55c_0000c225_00015fa9_0001b05a, 0, 0x0), // uaddl2 v22.4s, v11.8h, v17.8h
    (0x6e20281f, 0x009b0119_008b011d_010200e1_0098017c, 0, 0x0), // uaddlp v31.8h, v0.16b
    (0x2ea02b84, 0x00000000_00000000_00000001_9c93c016, 0, 0x0), // uaddlp v4.1d, v28.2s
    (0x6eb0389a, 0x00000000_00000000_00000002_fb0b3b48, 0, 0x0), // uaddlv d26, v4.4s
    (0x6e3039d1, 0x00000000_00000000_00000000_000007d1, 0, 0x0), // uaddlv h17, v14.16b
    (0x2e703b71, 0x00000000_00000000_00000000_0003a8f3, 0, 0x0), // uaddlv s17, v27.4h
    (0x2eb91369, 0x8e000101_3b0802c3_ff7fb601_12d34840, 0, 0x0), // uaddw v9.2d, v27.2d, v25.2s
    (0x6e7e1049, 0x63037c8b_a38ac06d_6e73e55c_e23430fb, 0, 0x0), // uaddw2 v9.4s, v2.4s, v30.8h
    (0x6e2d054c, 0x4e8c1f63_88b415a8_7c6ca6bc_2b3567b3, 0, 0x0), // uhadd v12.16b, v10.16b, v13.16b
    (0x2e6e04c7, 0x00000000_00000000_924db843_b73e51b7, 0, 0x0), // uhadd v7.4h, v6.4h, v14.4h
    (0x6eb92554, 0xd477992d_34b072af_bd8d2b66_1aa19660, 0, 0x0), // uhsub v20.4s, v10.4s, v25.4s
    (0x2e6927fd, 0x00000000_00000000_372f1a98_7b558ddc, 0, 0x0), // uhsub v29.4h, v31.4h, v9.4h
    (0x6e7d672a, 0x9691d83b_4e87b83c_bb087bd7_b0085fd2, 0, 0x0), // umax v10.8h, v25.8h, v29.8h
    (0x2e23666d, 0x00000000_00000000_ff7fcf01_ffffe0b0, 0, 0x0), // umax v13.8b, v19.8b, v3.8b
    (0x2e67a4ad, 0x00000000_00000000_d600e63e_12be8a58, 0, 0x0), // umaxp v13.4h, v5.4h, v7.4h
    (0x6e38a7bc, 0x4aa6eda9_0a76f6ff_96c3d2b8_afd7b0d2, 0, 0x0), // umaxp v28.16b, v29.16b, v24.16b
    (0x2e30a851, 0x00000000_00000000_00000000_000000e3, 0, 0x0), // umaxv b17, v2.8b
    (0x6e70a911, 0x00000000_00000000_00000000_0000ba77, 0, 0x0), // umaxv h17, v8.8h
    (0x6eb0a915, 0x00000000_00000000_00000000_ba779207, 0, 0x0), // umaxv s21, v8.4s
    (0x6eba6d4f, 0x06ca0a95_60206f76_36225990_07b4404a, 0, 0x0), // umin v15.4s, v10.4s, v26.4s
    (0x2ea46ca4, 0x00000000_00000000_088712be_8a582fca, 0, 0x0), // umin v4.2s, v5.2s, v4.2s
    (0x2eafae23, 0x00000000_00000000_ffff0dce_89242d2d, 0, 0x0), // uminp v3.2s, v17.2s, v15.2s
    (0x6e37ae3e, 0x00007fff_ff017f07_4d25aa5b_242dd40d, 0, 0x0), // uminp v30.16b, v17.16b, v23.16b
    (0x6e31a8ae, 0x00000000_00000000_00000000_00000008, 0, 0x0), // uminv b14, v5.16b
    (0x2e71ab5d, 0x00000000_00000000_00000000_000007b4, 0, 0x0), // uminv h29, v26.4h
    (0x6eb1a955, 0x00000000_00000000_00000000_06ca0a95, 0, 0x0), // uminv s21, v10.4s
    (0x2fb12ba9, 0xe23bc3ab_66e68857_4652fa44_18e2b98c, 0, 0x0), // umlal v9.2d, v29.2s, v17.s[3]
    (0x6f602843, 0x94c2cec4_8a978b0f_1cd57c4d_230ac8f8, 0, 0x0), // umlal2 v3.4s, v2.8h, v0.h[6]
    (0x2f5f690b, 0x590fe7e1_3c9286db_a2451a78_b6fc2011, 0, 0x0), // umlsl v11.4s, v8.4h, v15.h[5]
    (0x6f79689c, 0xb5914453_4807e2b1_110ec2cf_b8999847, 0, 0x0), // umlsl2 v28.4s, v4.8h, v9.h[7]
    (0x0e0e3d69, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0xff7f), // umov w9, v11.h[3]
    (0x2fa4a2a9, 0x756ad3d1_e7948020_1da376a1_8be72b70, 0, 0x0), // umull v9.2d, v21.2s, v4.s[1]
    (0x6f6da8ab, 0x10d288da_14e1816a_07606f00_0a19ffaa, 0, 0x0), // umull2 v11.4s, v5.8h, v13.h[6]
    (0x7e210da1, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // uqadd b1, b13, b1
    (0x7ef40c2d, 0x00000000_00000000_cdf6e3e9_2938e7e0, 0, 0x0), // uqadd d13, d1, d20
    (0x7e7a0c9d, 0x00000000_00000000_00000000_00007680, 0, 0x0), // uqadd h29, h4, h26
    (0x7ebf0d2e, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqadd s14, s9, s31
    (0x6eec0c94, 0xffffffff_ffffffff_ffffffff_ffffffff, 1, 0x0), // uqadd v20.2d, v4.2d, v12.2d
    (0x2e2f0e38, 0x00000000_00000000_ffffff2d_ffffb1db, 1, 0x0), // uqadd v24.8b, v17.8b, v15.8b
    (0x7e355da1, 0x00000000_00000000_00000000_00000000, 0, 0x0), // uqrshl b1, b13, b21
    (0x7eef5f5d, 0x00000000_00000000_00000000_00003e6d, 0, 0x0), // uqrshl d29, d26, d15
    (0x7e615d23, 0x00000000_00000000_00000000_00000000, 0, 0x0), // uqrshl h3, h9, h1
    (0x7eb05f4d, 0x00000000_00000000_00000000_0f688094, 0, 0x0), // uqrshl s13, s26, s16
    (0x2eae5e82, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqrshl v2.2s, v20.2s, v14.2s
    (0x6e385c7d, 0xff000000_000000ff_ffffffff_00ff7000, 1, 0x0), // uqrshl v29.16b, v3.16b, v24.16b
    (0x7f0a9e48, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // uqrshrn b8, h18, #6
    (0x7f169cb4, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // uqrshrn h20, s5, #10
    (0x7f379e2f, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqrshrn s15, d17, #9
    (0x2f0f9fcc, 0x00000000_00000000_fffff5ff_ffffffff, 1, 0x0), // uqrshrn v12.8b, v30.8h, #1
    (0x6f2a9ef3, 0xffffffff_ffffffff_ff7fcf01_7fff7eb0, 1, 0x0), // uqrshrn2 v19.4s, v23.2d, #22
    (0x7e2e4cf8, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // uqshl b24, b7, b14
    (0x7f7b773f, 0x00000000_00000000_ffffffff_ffffffff, 1, 0x0), // uqshl d31, d25, #59
    (0x7e684f88, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // uqshl h8, h28, h8
    (0x7ebc4f9c, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqshl s28, s28, s28
    (0x2ea44c74, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqshl v20.2s, v3.2s, v4.2s
    (0x6f1a74d7, 0xffffffff_ffffffff_ffffffff_ffffffff, 1, 0x0), // uqshl v23.8h, v6.8h, #10
    (0x7f0f9767, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // uqshrn b7, h27, #1
    (0x7f189658, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // uqshrn h24, s18, #8
    (0x7f3c9610, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqshrn s16, d16, #4
    (0x2f3596ff, 0x00000000_00000000_ffffffff_ffffffff, 1, 0x0), // uqshrn v31.2s, v23.2d, #11
    (0x6f119485, 0xffffffff_ffffffff_088712be_8a582fca, 1, 0x0), // uqshrn2 v5.8h, v4.4s, #15
    (0x7e202ea8, 0x00000000_00000000_00000000_00000000, 1, 0x0), // uqsub b8, b21, b0
    (0x7ef52ee9, 0x00000000_00000000_4228a3db_5013c172, 0, 0x0), // uqsub d9, d23, d21
    (0x7e712d9a, 0x00000000_00000000_00000000_00000000, 1, 0x0), // uqsub h26, h12, h17
    (0x7ea92ff5, 0x00000000_00000000_00000000_f6a91bb8, 0, 0x0), // uqsub s21, s31, s9
    (0x2eb52d0c, 0x00000000_00000000_00000000_8a8c2372, 1, 0x0), // uqsub v12.2s, v8.2s, v21.2s
    (0x6e2d2dd6, 0x242d1479_2f00c900_00000000_c54a0000, 1, 0x0), // uqsub v22.16b, v14.16b, v13.16b
    (0x7e2149ea, 0x00000000_00000000_00000000_000000ff, 1, 0x0), // uqxtn b10, h15
    (0x7e614b2a, 0x00000000_00000000_00000000_0000ffff, 1, 0x0), // uqxtn h10, s25
    (0x7ea14a0a, 0x00000000_00000000_00000000_ffffffff, 1, 0x0), // uqxtn s10, d16
    (0x2e2148ae, 0x00000000_00000000_ffffffff_ffffffff, 1, 0x0), // uqxtn v14.8b, v5.8h
    (0x6ea14846, 0xffffffff_ffffffff_943ff9fc_99de8f03, 1, 0x0), // uqxtn2 v6.4s, v2.2d
    (0x6e3c176c, 0x62033b0a_82879598_ce4caa68_ffbd8a5e, 0, 0x0), // urhadd v12.16b, v27.16b, v28.16b
    (0x2e3914e7, 0x00000000_00000000_9d846c62_49e99d85, 0, 0x0), // urhadd v7.8b, v7.8b, v25.8b
    (0x7ef6545f, 0x00000000_00000000_00000000_00000000, 0, 0x0), // urshl d31, d2, d22
    (0x6e3e5613, 0x00000200_7c000000_00000000_00000000, 0, 0x0), // urshl v19.16b, v16.16b, v30.16b
    (0x2ea95715, 0x00000000_00000000_00000000_00000000, 0, 0x0), // urshl v21.2s, v24.2s, v9.2s
    (0x7f6325b8, 0x00000000_00000000_00000006_1dbfa740, 0, 0x0), // urshr d24, d13, #29
    (0x6f5826e0, 0x00000000_008b0004_00000000_00ffffd6, 0, 0x0), // urshr v0.2d, v23.2d, #40
    (0x2f3e25ca, 0x00000000_00000000_24171da3_3527c51b, 0, 0x0), // urshr v10.2s, v14.2s, #2
    (0x7f753676, 0x00000000_00000000_fb65190c_09ca5443, 0, 0x0), // ursra d22, d19, #11
    (0x6f5635cc, 0xa208c12c_f0f695db_aac8c000_00cc3562, 0, 0x0), // ursra v12.2d, v14.2d, #42
    (0x2f2237b5, 0x00000000_00000000_bdd73228_2feb6e98, 0, 0x0), // ursra v21.2s, v29.2s, #30
    (0x7ef34401, 0x00000000_00000000_00000000_00000000, 0, 0x0), // ushl d1, d0, d19
    (0x6ee845d2, 0x00000000_00000000_2e3b456a_4f8a3600, 0, 0x0), // ushl v18.2d, v14.2d, v8.2d
    (0x2eaa475f, 0x00000000_00000000_00000000_00000000, 0, 0x0), // ushl v31.2s, v26.2s, v10.2s
    (0x2f0fa75c, 0x7c805a00_27006680_03805a00_20002500, 0, 0x0), // ushll v28.8h, v26.8b, #7
    (0x6f39a422, 0x003a1629_c8000000_01b6031f_da000000, 0, 0x0), // ushll2 v2.2d, v1.4s, #25
    (0x7f450465, 0x00000000_00000000_00000000_0000001f, 0, 0x0), // ushr d5, d3, #59
    (0x6f0d053d, 0x17080e1e_1d080308_0204161a_010a1e06, 0, 0x0), // ushr v29.16b, v9.16b, #3
    (0x2f3307fe, 0x00000000_00000000_0003fbff_0007fff8, 0, 0x0), // ushr v30.2s, v31.2s, #13
    (0x7e203943, 0x00000000_00000000_00000000_00000000, 1, 0x0), // usqadd b3, b10
    (0x7ee03a43, 0x00000000_00000000_e932bb2b_07249a1b, 0, 0x0), // usqadd d3, d18
    (0x7e603954, 0x00000000_00000000_00000000_0000129e, 0, 0x0), // usqadd h20, h10
    (0x7ea03b48, 0x00000000_00000000_00000000_c22bd251, 0, 0x0), // usqadd s8, s26
    (0x2e203b57, 0x00000000_00000000_f8b3ff00_86b37051, 1, 0x0), // usqadd v23.8b, v26.8b
    (0x6e203a38, 0x69a64fcb_cc6c59b3_002e4da3_cf00a330, 1, 0x0), // usqadd v24.16b, v17.16b
    (0x7f6c173f, 0x00000000_00000000_7f7ff4b2_802b4d17, 0, 0x0), // usra d31, d25, #20
    (0x2f2f14ac, 0x00000000_00000000_aac8c443_00a86370, 0, 0x0), // usra v12.2s, v5.2s, #17
    (0x6f2317fa, 0xc85e84f8_60206f79_f9b44ed0_07b44051, 0, 0x0), // usra v26.4s, v31.4s, #29
    (0x2ead2315, 0xffffffff_40522b8e_00000000_e6b2b149, 0, 0x0), // usubl v21.2d, v24.2s, v13.2s
    (0x6e7621fd, 0xffff8f17_ffff1208_fffff33f_0000b529, 0, 0x0), // usubl2 v29.4s, v15.8h, v22.8h
    (0x2e733156, 0x06c90b16_b7e756c6_3621d991_481602dc, 0, 0x0), // usubw v22.4s, v10.4s, v19.4h
    (0x6ea733fc, 0x8c0000ff_f8fffcff_7f7fe901_7fff0beb, 0, 0x0), // usubw2 v28.2d, v31.2d, v7.4s
    (0x2f08a5ed, 0x00ff00ff_00d70000_00ff00ff_000d00ce, 0, 0x0), // uxtl v13.8h, v15.8b
    (0x6f10a4a5, 0x000050f5_0000647d_00002380_0000309d, 0, 0x0), // uxtl2 v5.4s, v5.8h
    (0x4e0319b0, 0x0000ffff_7f01ff00_4e32818a_b7e855da, 0, 0x0), // uzp1 v16.16b, v13.16b, v3.16b
    (0x0e40195d, 0x00000000_00000000_a839cdaf_5990818c, 0, 0x0), // uzp1 v29.4h, v10.4h, v0.4h
    (0x4e0d5bb6, 0x97355906_c3f40f4d_96c330b8_7d7bb05f, 0, 0x0), // uzp2 v22.16b, v29.16b, v13.16b
    (0x0e4b583f, 0x00000000_00000000_ff7fffff_97581c97, 0, 0x0), // uzp2 v31.4h, v1.4h, v11.4h
    (0x0ea12be8, 0x00000000_00000000_7fffffff_ffff0bea, 0, 0x0), // xtn v8.2s, v31.2d
    (0x4e612bd3, 0xfd13a631_f0f37767_ff7fcf01_7fff7eb0, 0, 0x0), // xtn2 v19.8h, v30.4s
    (0x4ecb3a37, 0xff7fe001_ffff0e0a_89242d2d_d9d4a40d, 0, 0x0), // zip1 v23.2d, v17.2d, v11.2d
    (0x0e40389a, 0x00000000_00000000_7b1def95_cdaf3636, 0, 0x0), // zip1 v26.4h, v4.4h, v0.4h
    (0x4e817bb5, 0x1d0b14e4_9691c38b_db018fed_30d2b83c, 0, 0x0), // zip2 v21.4s, v29.4s, v1.4s
    (0x0e117bfe, 0x00000000_00000000_897f247f_2de92d01, 0, 0x0), // zip2 v30.8b, v31.8b, v17.8b
    (0x4e0363c0, 0x00677767_00000000_00000077_00000067, 0, 0x0), // tbl v0.16b, {v30.16b, v31.16b, v0.16b, v1.16b}, v3.16b
    (0x0e0733e1, 0x00000000_00000000_975835ea_1c9756ce, 0, 0x0), // tbx v1.8b, {v31.16b, v0.16b}, v7.8b
    (0x2f05e545, 0x00000000_00000000_ff00ff00_ff00ff00, 0, 0x0), // movi d5, #0xff00ff00ff00ff00
    (0x6f05e546, 0xff00ff00_ff00ff00_ff00ff00_ff00ff00, 0, 0x0), // movi v6.2d, #0xff00ff00ff00ff00
    (0x6f00d647, 0xffed0000_ffed0000_ffed0000_ffed0000, 0, 0x0), // mvni v7.4s, #0x12, msl #16
    (0x4f01b688, 0xb48475f0_3ee37763_7de1b6dc_be77b607, 0, 0x0), // orr v8.8h, #0x34, lsl #8
    (0x2f0276c9, 0x00000000_00000000_0120b3d0_0955f032, 0, 0x0), // bic v9.2s, #0x56, lsl #24
    (0x0f03ff0a, 0x00000000_00000000_3e003e00_3e003e00, 0, 0x0), // fmov v10.4h, #1.500000000000000000e+00
    (0x6f04f50b, 0xc0080000_00000000_c0080000_00000000, 0, 0x0), // fmov v11.2d, #-3.000000000000000000e+00
    (0x4f02f40c, 0x3e000000_3e000000_3e000000_3e000000, 0, 0x0), // fmov v12.4s, #1.250000000000000000e-01
    (0x4e244c6d, 0xff007f00_00808080_ff7f8000_ffff8000, 1, 0x0), // sqshl v13.16b, v3.16b, v4.16b
    (0x5eeb5cee, 0x00000000_00000000_7fffffff_ffffffff, 1, 0x0), // sqrshl d14, d7, d11
    (0x6e635def, 0x87000600_40008000_ffffffff_80000dce, 1, 0x0), // uqrshl v15.8h, v15.8h, v3.8h
    (0x7f0f6470, 0x00000000_00000000_00000000_00000000, 0, 0x0), // sqshlu b16, b3, #7
    (0x7f404471, 0x00000000_00000000_89242d2d_d9d4a40d, 0, 0x0), // sri d17, d3, #64
    (0x6f7f54f2, 0xc7ab5605_7c8da907_69b31629_0724ba1b, 0, 0x0), // sli v18.2d, v7.2d, #63
    (0x5f400473, 0x00000000_00000000_ffffffff_ffffffff, 0, 0x0), // sshr d19, d3, #64
    (0x6f400474, 0x00000000_00000000_00000000_00000000, 0, 0x0), // ushr v20.2d, v3.2d, #64
    (0x4f403475, 0xba69ec90_eb4fef88_bdd73226_2feb6e95, 0, 0x0), // srsra v21.2d, v3.2d, #64
    (0x7f4034f6, 0x00000000_00000000_fb452912_299a5453, 0, 0x0), // ursra d22, d7, #64
    (0x4ee7e077, 0x42090102_01fcff00_16aaab55_55555555, 0, 0x0), // pmull2 v23.1q, v3.2d, v7.2d
    (0x5e67d078, 0x00000000_00000000_00000000_06708000, 0, 0x0), // sqdmull s24, h3, h7
    (0x4fa73879, 0x7fffffff_ffffffff_80000000_00000000, 1, 0x0), // sqdmlal2 v25.2d, v3.4s, v7.s[3]
    (0x4f77d87a, 0x762aff0e_87010001_007a5605_00011e40, 0, 0x0), // sqrdmulh v26.8h, v3.8h, v7.h[7]
    (0x4e181d3b, 0x81234567_89abcdef_ff7fb600_fffff375, 0, 0x0), // mov v27.d[1], x9
    (0x6e1f047c, 0x00057413_850f2a31_9d189ecf_ff7b2147, 0, 0x0), // mov v28.b[15], v3.b[0]
    (0x0e1e2c69, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0xffff8300), // smov w9, v3.h[7]
    (0x4e1c2c69, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0xffffffff83000100), // smov x9, v3.s[3]
    (0x4e183c69, 0xbc4075f2_ef431a44_1120b3d0_0955f032, 0, 0x830001007fffffff), // mov x9, v3.d[1]
    (0x4e010d3d, 0xefefefef_efefefef_efefefef_efefefef, 0, 0x0), // dup v29.16b, w9
    (0x4e18047e, 0x83000100_7fffffff_83000100_7fffffff, 0, 0x0), // dup v30.2d, v3.d[1]
    (0x5e16047f, 0x00000000_00000000_00000000_00007fff, 0, 0x0), // mov h31, v3.h[5]
    (0x2e073860, 0x00000000_00000000_ffd6007f_ffe63eff, 0, 0x0), // ext v0.8b, v3.8b, v7.8b, #7
    (0x5ef1b861, 0x00000000_00000000_827fa602_7fffdfff, 0, 0x0), // addp d1, v3.2d
    (0x6eb03862, 0x00000000_00000000_00000003_027f8600, 0, 0x0), // uaddlv d2, v3.4s
    (0x4e3038e3, 0x00000000_00000000_00000000_000000fc, 0, 0x0), // saddlv h3, v7.16b
    (0x4e31a864, 0x00000000_00000000_00000000_00000083, 0, 0x0), // sminv b4, v3.16b
    (0x4e200865, 0xffffff7f_00010083_00e0ffff_01a57fff, 0, 0x0), // rev64 v5.16b, v3.16b
    (0x4ea04866, 0x00000000_00000000_00000007_00000012, 0, 0x0), // cls v6.4s, v3.4s
    (0x6e604967, 0x00000004_00010000_00000000_00000004, 0, 0x0), // clz v7.8h, v11.8h
    (0x5ee07868, 0x00000000_00000000_00805afe_00002000, 0, 0x0), // sqabs d8, d3
    (0x6ee07869, 0x7cfffeff_80000001_00805afe_00002000, 0, 0x0), // sqneg v9.2d, v3.2d
    (0x5e20386a, 0x00000000_00000000_00000000_0000008c, 0, 0x0), // suqadd b10, b3
    (0x6ea038eb, 0x0f000d00_fffffffe_ffffffff_ffffffff, 1, 0x0), // usqadd v11.4s, v7.4s
    (0x6e21286c, 0x00ffff00_00000000_aac8c000_00a81e44, 1, 0x0), // sqxtun2 v12.16b, v3.8h
    (0x6f10946d, 0x83007fff_ff7fffff_c3b7f4e8_0f554dda, 0, 0x0), // uqshrn2 v13.8h, v3.4s, #16
    (0x7f3f8c6e, 0x00000000_00000000_00000000_00000000, 1, 0x0), // sqrshrun s14, d3, #1
    (0x6ea138ef, 0x87000300_00000000_7fffffff_00000000, 0, 0x0), // shll2 v15.2d, v7.4s, #32
];
