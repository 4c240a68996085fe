//! Scalar floating-point instructions (FMOV, FCVT*, SCVTF/UCVTF, FRINT*, arithmetic,
//! fused multiply-add, compares, FCSEL, FMOV immediate) over the register file.

use crate::FpRegs;
use arm_decode::{FpBinOp, FpMaddOp, FpRounding, FpType, FpUnaryOp, Insn};
use arm_fp::{Fmt, Rounding};

/// The arm-fp format of a scalar `ftype`.
pub(crate) fn fmt_of(t: FpType) -> Fmt {
    match t {
        FpType::H => Fmt::H,
        FpType::S => Fmt::S,
        FpType::D => Fmt::D,
    }
}

/// The arm-fp rounding of a fixed rounding mode; `None` for the FPCR-driven ones.
pub(crate) fn fixed_rounding(r: FpRounding) -> Option<Rounding> {
    Some(match r {
        FpRounding::TieEven => Rounding::TieEven,
        FpRounding::PlusInf => Rounding::PosInf,
        FpRounding::MinusInf => Rounding::NegInf,
        FpRounding::Zero => Rounding::Zero,
        FpRounding::TieAway => Rounding::TieAway,
        FpRounding::Exact | FpRounding::Current => return None,
    })
}

/// VFPExpandImm: the 8-bit encoded constant as a value of format `fmt`.
pub(crate) fn expand_imm(fmt: Fmt, imm8: u8) -> u64 {
    let (e, f) = (fmt.ebits(), fmt.fbits());
    let i = imm8 as u64;
    let sign = i >> 7;
    let b6 = (i >> 6) & 1;
    // exp = NOT(b6) : Replicate(b6, E-3) : imm8<5:4>
    let rep = if b6 == 1 { (1u64 << (e - 3)) - 1 } else { 0 };
    let exp = ((b6 ^ 1) << (e - 1)) | (rep << 2) | ((i >> 4) & 3);
    let frac = (i & 15) << (f - 4);
    sign << (e + f) | exp << f | frac
}

/// The scalar fused multiply-add family: `f(fmt, n, m, a)`.
pub(crate) type Tern = fn(Fmt, u64, u64, u64, &mut arm_fp::FpStatus) -> u64;

/// The arm-fp function of a scalar two-operand FP operation.
pub(crate) fn scalar_binary(op: FpBinOp) -> crate::fp_vector::Bin {
    match op {
        FpBinOp::Mul => arm_fp::mul,
        FpBinOp::Div => arm_fp::div,
        FpBinOp::Add => arm_fp::add,
        FpBinOp::Sub => arm_fp::sub,
        FpBinOp::Max => arm_fp::max,
        FpBinOp::Min => arm_fp::min,
        FpBinOp::MaxNm => arm_fp::maxnm,
        FpBinOp::MinNm => arm_fp::minnm,
        FpBinOp::NMul => arm_fp::nmul,
    }
}

/// The arm-fp function of FMADD/FMSUB/FNMADD/FNMSUB.
pub(crate) fn scalar_madd(op: FpMaddOp) -> Tern {
    match op {
        FpMaddOp::Madd => arm_fp::fmadd,
        FpMaddOp::Msub => arm_fp::fmsub,
        FpMaddOp::NMadd => arm_fp::fnmadd,
        FpMaddOp::NMsub => arm_fp::fnmsub,
    }
}

pub(crate) fn supported(insn: &Insn) -> bool {
    match *insn {
        Insn::FpMovGeneral { size, top, .. } => matches!((size, top), (1..=3, false) | (3, true)),
        Insn::FpToInt {
            rounding,
            fbits,
            is64,
            ..
        } => fixed_rounding(rounding).is_some() && fbits <= if is64 { 64 } else { 32 },
        Insn::IntToFp { fbits, is64, .. } => fbits <= if is64 { 64 } else { 32 },
        Insn::FpConvert { from, to, .. } => from != to,
        Insn::FpUnary { .. }
        | Insn::FpBinary { .. }
        | Insn::FpMulAdd { .. }
        | Insn::FpCompare { .. }
        | Insn::FpCondCompare { .. }
        | Insn::FpCondSelect { .. }
        | Insn::FpMovImm { .. } => true,
        _ => false,
    }
}

pub(crate) fn exec(regs: &mut FpRegs, insn: &Insn, gpr: u64) -> u64 {
    if !supported(insn) {
        return 0;
    }
    let mut st = regs.status();
    let mut out = 0;
    match *insn {
        Insn::FpMovGeneral {
            to_fp,
            is64,
            size,
            top,
            vreg,
            ..
        } => {
            if to_fp {
                if top {
                    regs.set_lane(vreg, 3, 1, gpr);
                } else {
                    regs.set_scalar(vreg, size, gpr as u128);
                }
            } else {
                let v = regs.lane(vreg, size, top as usize);
                out = if is64 { v } else { v & 0xffff_ffff };
            }
        }
        Insn::FpToInt {
            rounding,
            unsigned,
            is64,
            ftype,
            rn,
            fbits,
            ..
        } => {
            let f = fmt_of(ftype);
            let r = fixed_rounding(rounding).unwrap_or(Rounding::Zero);
            let bits = if is64 { 64 } else { 32 };
            let a = regs.lane(rn, ftype.log2_bytes(), 0);
            out = arm_fp::to_fixed(f, a, fbits as u32, unsigned, bits, r, &mut st);
        }
        Insn::IntToFp {
            unsigned,
            is64,
            ftype,
            rd,
            fbits,
            ..
        } => {
            let bits = if is64 { 64 } else { 32 };
            let r = arm_fp::from_fixed(fmt_of(ftype), gpr, fbits as u32, !unsigned, bits, &mut st);
            regs.set_scalar(rd, ftype.log2_bytes(), r as u128);
        }
        Insn::FpUnary { op, ftype, rd, rn } => {
            let f = fmt_of(ftype);
            let a = regs.lane(rn, ftype.log2_bytes(), 0);
            let r = match op {
                FpUnaryOp::Mov => a,
                FpUnaryOp::Abs => arm_fp::abs(f, a),
                FpUnaryOp::Neg => arm_fp::neg(f, a),
                FpUnaryOp::Sqrt => arm_fp::sqrt(f, a, &mut st),
                FpUnaryOp::Round(r) => {
                    let mode = fixed_rounding(r).unwrap_or(st.rounding());
                    arm_fp::round_int(f, a, mode, r == FpRounding::Exact, &mut st)
                }
            };
            regs.set_scalar(rd, ftype.log2_bytes(), r as u128);
        }
        Insn::FpConvert { from, to, rd, rn } => {
            let a = regs.lane(rn, from.log2_bytes(), 0);
            let r = arm_fp::convert(fmt_of(from), fmt_of(to), a, &mut st);
            regs.set_scalar(rd, to.log2_bytes(), r as u128);
        }
        Insn::FpBinary {
            op,
            ftype,
            rd,
            rn,
            rm,
        } => {
            let sz = ftype.log2_bytes();
            let (a, b) = (regs.lane(rn, sz, 0), regs.lane(rm, sz, 0));
            let func = scalar_binary(op);
            let r = func(fmt_of(ftype), a, b, &mut st);
            regs.set_scalar(rd, sz, r as u128);
        }
        Insn::FpMulAdd {
            op,
            ftype,
            rd,
            rn,
            rm,
            ra,
        } => {
            let sz = ftype.log2_bytes();
            let (n, m, a) = (
                regs.lane(rn, sz, 0),
                regs.lane(rm, sz, 0),
                regs.lane(ra, sz, 0),
            );
            let func = scalar_madd(op);
            let r = func(fmt_of(ftype), n, m, a, &mut st);
            regs.set_scalar(rd, sz, r as u128);
        }
        Insn::FpCompare {
            signaling,
            ftype,
            rn,
            rm,
        } => {
            let sz = ftype.log2_bytes();
            let a = regs.lane(rn, sz, 0);
            let b = rm.map_or(0, |m| regs.lane(m, sz, 0));
            out = (arm_fp::compare(fmt_of(ftype), a, b, signaling, &mut st) as u64 & 15) << 28;
        }
        Insn::FpCondCompare {
            signaling,
            ftype,
            rn,
            rm,
            nzcv,
            ..
        } => {
            let nzcv = if gpr != 0 {
                let sz = ftype.log2_bytes();
                let (a, b) = (regs.lane(rn, sz, 0), regs.lane(rm, sz, 0));
                arm_fp::compare(fmt_of(ftype), a, b, signaling, &mut st) as u64
            } else {
                nzcv as u64
            };
            out = (nzcv & 15) << 28;
        }
        Insn::FpCondSelect {
            ftype, rd, rn, rm, ..
        } => {
            let sz = ftype.log2_bytes();
            let r = regs.lane(if gpr != 0 { rn } else { rm }, sz, 0);
            regs.set_scalar(rd, sz, r as u128);
        }
        Insn::FpMovImm { ftype, rd, imm8 } => {
            regs.set_scalar(
                rd,
                ftype.log2_bytes(),
                expand_imm(fmt_of(ftype), imm8) as u128,
            );
        }
        _ => {}
    }
    regs.merge_status(&st);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fmov_imm_expands() {
        // fmov d0, #1.0 / #-0.125 / #31.0; fmov h0, #1.0; fmov s0, #0.5
        assert_eq!(expand_imm(Fmt::D, 0x70), 0x3ff0_0000_0000_0000);
        assert_eq!(expand_imm(Fmt::D, 0xc0), 0xbfc0_0000_0000_0000);
        assert_eq!(expand_imm(Fmt::D, 0x3f), 0x403f_0000_0000_0000);
        assert_eq!(expand_imm(Fmt::H, 0x70), 0x3c00);
        assert_eq!(expand_imm(Fmt::S, 0x60), 0x3f00_0000);
        for i in 0..=255u8 {
            let d = f64::from_bits(expand_imm(Fmt::D, i));
            assert_eq!(d, arm_decode::fp_imm8_to_f64(i), "{i:#x}");
        }
    }

    use crate::tests::{check, Case};

    #[test]
    fn matches_qemu() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
    // fmov h0, w1
    (0x1ee70020, 0x4880000, 0x6f15190ca5a4e, [0xff9bfb627e9756f4_7fd852c5806e87ef, 0x80000055bc10fc00_3e41f8360173df7e, 0x81e17ef2ab607c00_70587c00fc0037d6, 0x52663f00bc000000_79b75500173efdeb], 0x0000000000000000_0000000000005a4e, 0x0, 0x0),
    // fmov s0, w1
    (0x1e270020, 0x0, 0xfffffffe67edbb99, [0xff4fb80b64a8dae6_000000000000058b, 0xfff13ddf4870a367_7ff4263c53a12e56, 0xfffffffefd9c81b8_d86ef8342c0006b9, 0x9d3aa8ed3e2bc89f_e00aa27000000006], 0x0000000000000000_0000000067edbb99, 0x0, 0x0),
    // fmov d0, x1
    (0x9e670020, 0x2000000, 0xad86208, [0x3ff8000000000001_bc0ff1cb763d574e, 0x7fe6f2b9a27793a6_c0063fe700000000, 0xffa1eeb8bfc00000_9e25ab357fb36972, 0x00000000feace402_ff80000077c3a28a], 0x0000000000000000_000000000ad86208, 0x0, 0x0),
    // fmov v0.d[1], x1
    (0x9eaf0020, 0x2000000, 0xed503b724d537, [0x8e0db7d880afee58_ad8285bea8962784, 0xffc004ed3e400001_7efa8c9bff6b1d4c, 0xb623aaeb044685ba_e01e9a222796c351, 0xa49307a9c897fcb5_20627018fd775e0c], 0x000ed503b724d537_ad8285bea8962784, 0x0, 0x0),
    // fmov w0, h1
    (0x1ee60020, 0x4880000, 0x0, [0xc242614e340bd880_fff60e76c8678f22, 0x800000005aa2528e_4df200007f91af5c, 0xe026c940744f0287_c1d87f5d3c00ab9d, 0x0ece4aa602fcf927_307e76d603e3ffdf], 0xc242614e340bd880_fff60e76c8678f22, 0xaf5c, 0x0),
    // fmov x0, h1
    (0x9ee60020, 0x2000000, 0x0, [0x9a7e635100000000_00000cb8ffffffa7, 0x000d6fba2ab05c26_c11049403f805000, 0xf104793780e0fd84_e6ad5ce47290dd7f, 0x3f4000009a0d5ab1_fecd858e415c2800], 0x9a7e635100000000_00000cb8ffffffa7, 0x5000, 0x0),
    // fmov w0, s1
    (0x1e260020, 0xc00000, 0x0, [0x002c52341e84d1ab_80010596c3f7b8ed, 0xfe1047c687b3e3d0_77b0fc5ec520bc00, 0xbb73c9c45ea71539_4156a8a07fa71600, 0x514f4d5c29192ac2_ba4ae55c2277e817], 0x002c52341e84d1ab_80010596c3f7b8ed, 0xc520bc00, 0x0),
    // fmov x0, d1
    (0x9e660020, 0x0, 0x0, [0x78b78d015ddaffbb_80000000ff800000, 0xded1ff1a73768deb_2b9f6c2913dc0035, 0xaf6f79a406059f52_ddf7b79e7d5c00ec, 0xffd4d637252de7c0_801aa280e0747c05], 0x78b78d015ddaffbb_80000000ff800000, 0x2b9f6c2913dc0035, 0x0),
    // fmov x0, v1.d[1]
    (0x9eae0020, 0xc00000, 0x0, [0xbfd8000000000000_7ffa4428613427a8, 0x77d602fd3c000000_039fcb00317d7c6c, 0xc1f83cd3e8480000_438e925b00000000, 0xff9866003c006460_d1af8000f9de8000], 0xbfd8000000000000_7ffa4428613427a8, 0x77d602fd3c000000, 0x0),
    // fcvtns w0, s1
    (0x1e200020, 0x2000000, 0x0, [0x7fc6456c803e42cd_3f800000d1484e44, 0x042503c6adfaf5d9_000bbc82ff800000, 0xcba0000047b56b40_bf800000bfc00001, 0x8000bc007c003e50_3c0071403e80c400], 0x7fc6456c803e42cd_3f800000d1484e44, 0x80000000, 0x1),
    // fcvtps x0, d1
    (0x9e680020, 0x4880000, 0x0, [0xc00eeedc90c00000_bfe8000000000000, 0x3fd8000000000000_0004c78e3c5f1e00, 0x80d42e8c80c249e8_47a50000bf800000, 0x416d8600fffaada3_4b6eff60ff800000], 0xc00eeedc90c00000_bfe8000000000000, 0x1, 0x10),
    // fcvtms w0, h1
    (0x1ef00020, 0x0, 0x0, [0xfff81ee3e903a3e8_661f8af788b9ba07, 0x3c0001f5ced0c560_bc00fc0082807c00, 0x7c00a7c5fb11bc00_0000880cc6000000, 0x8000ce4049ff8c56_bca07af67c005400], 0xfff81ee3e903a3e8_661f8af788b9ba07, 0x7fffffff, 0x1),
    // fcvtzu x0, s1
    (0x9e390020, 0xc00000, 0x0, [0x8120b72f010b35ce_ffe38e3200abab77, 0x013cfcef5243df2c_7ff7f4bf7f800000, 0x80067c0c6f4aa33e_7fd55e7ad0750f5f, 0x4deccec0bf800000_42fe8dd6cdf45c86], 0x8120b72f010b35ce_ffe38e3200abab77, 0xffffffffffffffff, 0x1),
    // fcvtau w0, d1
    (0x1e650020, 0xc00000, 0x0, [0x80135f254ec1a805_c181399e70000000, 0xd3dcc4c7ec4a8f2d_29aaf094c2327173, 0x3f800000c6440000_cb868fe2beb99b8e, 0x412eb909d30c8000_802b79dc522bb63a], 0x80135f254ec1a805_c181399e70000000, 0x0, 0x10),
    // fcvtas x0, h1
    (0x9ee40020, 0x0, 0x0, [0xbfc000017f800000_d9a20d2ebfc00000, 0x6fcc7e087c5fbc00_734874000b44579b, 0x6c000ebd7100d600_2f2fb2013e008000, 0x80007d654c6c3d00_ffc34351fcb0768c], 0xbfc000017f800000_d9a20d2ebfc00000, 0x7a, 0x10),
    // fcvtzs w0, d1, #10
    (0x1e58d820, 0x2000000, 0x0, [0x0007144923d6ed34_0000000001c0f635, 0x3ff0000000000000_800119269bb8fd18, 0x0000000000e864a6_ffffffffffb6cda5, 0x7fea71e42e22d958_5b6ab99ab834d3d9], 0x0007144923d6ed34_0000000001c0f635, 0x0, 0x10),
    // fcvtzu x0, h1, #40
    (0x9ed96020, 0xc00000, 0x0, [0x01904ae940af4800_7c41df0082f07c00, 0x0000f40000002abf_be70fc00fdce3c00, 0x541dbe60643780fd_000080007cc13c00, 0x78a07e24a73cbe1f_6900fd02fc001815], 0x01904ae940af4800_7c41df0082f07c00, 0x10000000000, 0x0),
    // scvtf d0, w1
    (0x1e620020, 0xc00000, 0xc187484cbcba35b6, [0xff86bf08fc007973_7e5a4200429c3a01, 0x7ffcbdd76c66fa67_0008588e8e70341c, 0x6f97ac0bd9813513_6e09eb2fafaf13b9, 0xd6bd83aa6740eb8f_dbbca3562df56998], 0x0000000000000000_c1d0d17292800000, 0x0, 0x0),
    // ucvtf h0, x1
    (0x9ee30020, 0x0, 0x32ea14f, [0x7cb500003600fd21_bc0079ee62327fd3, 0xd6b60098f2433e7d_3ff0000000000000, 0xfff7f25a6e3cb62f_8000000000000000, 0x36010a6c84bb0af6_c6e07cd509b17c00], 0x0000000000000000_0000000000007c00, 0x0, 0x14),
    // scvtf s0, x1, #17
    (0x9e02bc20, 0x4880000, 0x15ca7e6, [0x0000000028dd9554_0000000000000002, 0x939d7b00eaa0b590_8237be00803d7b98, 0x06f2fdeafc927c00_e800beec8000d000, 0xffffff0f10de0021_fffffffffffffff3], 0x0000000000000000_00000000432e53f3, 0x0, 0x0),
    // ucvtf d0, w1, #32
    (0x1e438020, 0x4880000, 0xffffe9e065478fad, [0xfe0bfd646cdf8a50_5808a73286485a67, 0x42ef8b2143d8e000_800bef99fb842bea, 0x7fefd54ece61a53b_3ff0000000000000, 0xffffec2166bfba98_eddc384865f364b2], 0x0000000000000000_3fd951e3eb400000, 0x0, 0x0),
    // fmov d0, d1
    (0x1e604020, 0x2000000, 0x0, [0x429853de00000000_0000000000000000, 0xbff0000000000000_000ec2e94c9ce7f8, 0xbe00ffac83e6bc00_7d73bc00d8007e7d, 0x00bd04ffbc008000_fc20000002a570e1], 0x0000000000000000_000ec2e94c9ce7f8, 0x0, 0x0),
    // fabs s0, s1
    (0x1e20c020, 0x0, 0x0, [0xcd4000007f800000_95bf17893f800000, 0x678fc28b4b7ffb00_c0e0dd80bec00001, 0x0000000000005970_04f4c93b4bbaf2ef, 0x7fdfbd937fdaeef1_eea3996880000000], 0x0000000000000000_000000003ec00001, 0x0, 0x0),
    // fneg h0, h1
    (0x1ee14020, 0x2000000, 0x0, [0x08fabe012cfc8eb7_5f2c5800bc44fc00, 0xca005b80fc003fbe_7c00bc006080c940, 0xb200fcb0fb70787b_7fdb158fcad074a0, 0x4b6029174ae6be4a_81a5498e027062ff], 0x0000000000000000_0000000000004940, 0x0, 0x0),
    // fsqrt d0, d1
    (0x1e61c020, 0x0, 0x0, [0x433db48c9941a560_0000000000000000, 0x800755a0696d816a_4088000000000000, 0xffffff976b9a991c_e96057079220f8e3, 0x821a0000f8ad8225_a8a80780e500d761], 0x0000000000000000_403bb67ae8584caa, 0x0, 0x10),
    // frintn s0, s1
    (0x1e244020, 0x1400000, 0x0, [0x000000000000002e_fffffffffffd4319, 0x30dd709cc3c00000_7f8a6766763d5624, 0x3e400001c4800000_4add9e00ff4c41b3, 0x3f80000048800000_7fdb39bbff8fb3da], 0x0000000000000000_00000000763d5624, 0x0, 0x0),
    // frintp d0, d1
    (0x1e64c020, 0x0, 0x0, [0xa798fd0dfcc8ce1c_d96aa9937dc15880, 0xc3232c0000000000_fffd5c8186f56ad6, 0x7c00ff3abc5f1f27_7c00dd0e3d005d00, 0x71007c85da3e3a01_0a70be7efd3f3ed0], 0x0000000000000000_fffd5c8186f56ad6, 0x0, 0x0),
    // frintm h0, h1
    (0x1ee54020, 0xc00000, 0x0, [0xd48088809855d805_fda65c5c8000759a, 0x00005ad9800001bc_c4007e37fcc7fe5b, 0x7ed686fd57807c00_fc66416fbd0c8765, 0xc580762f4800d000_a08c80003a00646c], 0x0000000000000000_000000000000fe5b, 0x0, 0x0),
    // frintz s0, s1
    (0x1e25c020, 0xc00000, 0x0, [0x3f800000c2ad17bd_466d880044f73f58, 0x0b5379dbc59fceaa_c1dc000000000000, 0x3fbc98347ff4ee32_4dec65003ec00000, 0x010754375f220875_930fcc8d5a5af125], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // frinta d0, d1
    (0x1e664020, 0x2000000, 0x0, [0xfc8ce3fa07133e00_fff0000000000000, 0x80028e3715dfc9de_3ff0000000000000, 0xb5f8dc35bc8109f1_000913384bb868f4, 0xc9ecf2d5273b2414_ffffe085030047ea], 0x0000000000000000_3ff0000000000000, 0x0, 0x0),
    // frintx h0, h1
    (0x1ee74020, 0x0, 0x0, [0x026cbc003c00ce1f_f85d3e00ce000000, 0x7ff0000000000000_228f1e51e114261e, 0x05453d00c4bd3c70_db80f82bc3f0bc00, 0x86423d8042807c50_7e8b4c6afea33e00], 0x0000000000000000_0000000000000000, 0x0, 0x10),
    // frinti s0, s1
    (0x1e27c020, 0xc00000, 0x0, [0xf458ce003c00fbf7_d0008000a11fb4b4, 0x6cb39f880b11b44e_7f800000c5600000, 0xffd418dc86a80d77_40d873cc00000000, 0xee638c145379deb0_1631f88a9c64810d], 0x0000000000000000_00000000c5600000, 0x0, 0x0),
    // fcvt s0, d1
    (0x1e624020, 0x1400000, 0x0, [0xff900d7641a4fb00_7fb03299e1fbda97, 0x42701d7b00000000_fff0000000000000, 0xdbc85e5124862578_7ff4aeb9d270dfd7, 0xfff98446d68eeb1f_0f9ee10eeaf17025], 0x0000000000000000_00000000ff800000, 0x0, 0x0),
    // fcvt h0, s1
    (0x1e23c020, 0x2000000, 0x0, [0x401b4138b8000000_7fddebfa47dba018, 0xbff0000000000000_40dde20767873800, 0x5f27ba6b99773b91_9095f525d7b511a6, 0x1abe8ab7414c5c14_bf9900008038a271], 0x0000000000000000_0000000000007c00, 0x0, 0x14),
    // fcvt d0, h1
    (0x1ee2c020, 0x4880000, 0x0, [0x7ef892467ff29cb7_5cba8bcfffdd706c, 0xfcfe7d06b201accc_8335fc34ee139407, 0xbff0000000000000_c2fb490000000000, 0x40166000cd200000_42ff2000ff800000], 0x0000000000000000_bf501c0000000000, 0x0, 0x0),
    // fcvt h0, d1
    (0x1e63c020, 0x0, 0x0, [0x71dcdf27a3d6a23a_5dfbc1f64e82c1fe, 0x3ff0000000000000_43136d3724280000, 0x5723815c7d85f9a3_ed4952c67593cdf9, 0x4ff6953dfffa2f29_ffffffafe3921d71], 0x0000000000000000_0000000000007c00, 0x0, 0x14),
    // fadd s0, s1, s2
    (0x1e222820, 0x0, 0x0, [0x7f1efe7400ecf726_ffbf6845c1bac000, 0x00000000ff800000_b0f6098ebfc00000, 0x80579b3334624c69_2eafa9c141076000, 0xfe8429f383a14ca2_90d1fa8e4baa0000], 0x0000000000000000_0000000040dec000, 0x0, 0x0),
    // fsub d0, d1, d2
    (0x1e623820, 0x4880000, 0x0, [0x97aafdd709bb78db_fffc2e8c9774c1a8, 0xc102a00000000000_c14b530bf7c00000, 0x406af00000000000_fff84c591b474f44, 0x5b4c0a3ac700fd9c_bde8cf29790cffef], 0x0000000000000000_fff84c591b474f44, 0x0, 0x0),
    // fmul h0, h1, h2
    (0x1ee20820, 0xc00000, 0x0, [0xfc006a738000bc00_75c63ca0cb003c00, 0x7f8df0dd00000000_cbc000000067ec19, 0x4400bf807ef63a00_bde1fdbe7a8cbc00, 0x2d23c4e78875f84b_7eae7c28839f542d], 0x0000000000000000_0000000000006c19, 0x0, 0x0),
    // fdiv s0, s1, s2
    (0x1e221820, 0x0, 0x0, [0x000000001bba9e4c_ff95fd3fc027c000, 0x7a234d0cff800000_7f800000ffb85711, 0xff081a5a1dd11b3a_431c22c591d3378c, 0xe142d2b43e808000_e10019298000860d], 0x0000000000000000_00000000fff85711, 0x0, 0x1),
    // fmax d0, d1, d2
    (0x1e624820, 0x1400000, 0x0, [0xfff8704ea5e68461_e7e7709b1a1a964f, 0x7ff0000000000000_8009261fb255df24, 0x81944d2d3ec4ef02_cee0f89599b821d4, 0xbff1400000000000_416767a888400000], 0x0000000000000000_8000000000000000, 0x0, 0x80),
    // fmin h0, h1, h2
    (0x1ee25820, 0x0, 0x0, [0x41902400c43579c9_42df4000bf800000, 0xbc008000fb847de1_c0008000c28002e8, 0xbc00ff15bef8bc00_7000ffdb80000000, 0xbff8000000000001_8000000000000000], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // fmaxnm s0, s1, s2
    (0x1e226820, 0x1400000, 0x0, [0xff5bfda57fda6215_001a788dbf800000, 0xcbd436b0809672a2_7f80000042f00000, 0x03c224a0bf800000_bf800000fe915609, 0xcaa00000ffcddfe8_7f8000003f800000], 0x0000000000000000_0000000042f00000, 0x0, 0x0),
    // fminnm d0, d1, d2
    (0x1e627820, 0xc00000, 0x0, [0x3ff0000000000000_4327cec4d909a900, 0x4864cb2818cac266_47e18faf3ec30e62, 0x3fd8000000000000_0000000000000000, 0x415a18e813e66520_bff8000000000000], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // fnmul s0, s1, s2
    (0x1e228820, 0x4880000, 0x0, [0xffbce52e7f5f30ca_7fc634abcdeb0480, 0x001c9d2bbf400001_3e4000007f800000, 0x49d981583e400000_c9e038373f800000, 0xc9735e009618916d_ff8000004a46beb2], 0x0000000000000000_00000000ff800000, 0x0, 0x0),
    // fmadd d0, d1, d2, d3
    (0x1f420c20, 0x0, 0x0, [0x80246dd9a0d7ecbc_7ff0000000000000, 0x802f1a8bcc380cc4_800c813a28376e6f, 0x3ff8000000000000_000a4fbecf3dd3ed, 0x8004e7a7e03fab98_fff0000000000000], 0x0000000000000000_fff0000000000000, 0x0, 0x0),
    // fmsub s0, s1, s2, s3
    (0x1f028c20, 0x0, 0x0, [0x4105bc00fc678767_3a013f2044609bb5, 0x3375000000e7b228_7692b601ffa6cc00, 0x0e096ea17ba5bc00_7c00e600fb822bf4, 0x0010619feb67acf3_bec00001ff800000], 0x0000000000000000_000000007fe6cc00, 0x0, 0x1),
    // fnmadd h0, h1, h2, h3
    (0x1fe20c20, 0x0, 0x0, [0x800ffd38befab837_41c1c3bf48000000, 0xd18062543e00cebd_fc3b7f1503647fe9, 0xd000000086267e15_7c0074007c000000, 0x450479b8865c6339_0ba78b0abc007c00], 0x0000000000000000_000000000000ffe9, 0x0, 0x0),
    // fnmsub d0, d1, d2, d3
    (0x1f628c20, 0x2000000, 0x0, [0x81477e8bff800000_7fb6f69d00000000, 0x3ff0000000000000_c1e9800000000000, 0xc160000000000000_c0f7fe411c10a600, 0x3ffcf8034c3b8e00_c02531c2956fe000], 0x0000000000000000_42f31e9be25d44f2, 0x0, 0x10),
    // fmov s0, #5.000000000000000000e-01
    (0x1e2c1000, 0xc00000, 0x0, [0xf8895c5127002840_57d879ced0b6cfd4, 0xffec6731937f661d_0000000000000000, 0x837c4184fd663c00_946a81e087923200, 0x86be3c00806e19c4_bc0001298a68fd4a], 0x0000000000000000_000000003f000000, 0x0, 0x0),
    // fmov d0, #-3.100000000000000000e+01
    (0x1e77f000, 0x0, 0x0, [0x910ca8659ff91a63_33530835a8e21097, 0x9a9400110c1674e3_b1806e54cd5b004a, 0x84ce0bea4c305000_74d99d50bde4bf00, 0x7ff25ac7abedf2c4_bff03c95177db800], 0x0000000000000000_c03f000000000000, 0x0, 0x0),
    // fmov h0, #1.000000000000000000e+00
    (0x1eee1000, 0x4880000, 0x0, [0x7edef18d8a3500e5_0778d2890001be55, 0x32003eb88a22090f_facfcdc0832f8a39, 0x0000be34b6014ee6_52b07e5c025c3c00, 0xffd8fe207faf3169_e41101a57f800000], 0x0000000000000000_0000000000003c00, 0x0, 0x0),
        ];
        check(CASES);
    }

    #[test]
    fn compares_match_qemu() {
        #[rustfmt::skip]
        const CASES: &[Case] = &[
    // fcmp s1, s2
    (0x1e222020, 0x1400000, 0x0, [0x7ff9409fd6f5f858_40dc000000000000, 0xc9200000bfc00000_ff9598bfc0689600, 0x1c01cac80023ee7e_bff317007faa5e56, 0xad3fcbcdb0fc9213_4891d77e8c120000], 0x7ff9409fd6f5f858_40dc000000000000, 0x30000000, 0x1),
    // fcmp d1, #0.0
    (0x1e602028, 0x1400000, 0x0, [0x0000000000000000_7ff7ebb3c44b5959, 0xffffeeb4506541a8_ffeea2a25f2f38b4, 0xa1843b5bcbc467ee_8029504e1943c9e0, 0x3e013600d9f08000_0277e26636016e38], 0x0000000000000000_7ff7ebb3c44b5959, 0x80000000, 0x0),
    // fcmpe h1, h2
    (0x1ee22030, 0x0, 0x0, [0x7c0000003e01ddf9_740009e5001cfa6a, 0x8000f2007c00bf80_80007c007d4bbc00, 0x7fdd59c345600000_bf800000ffd0fcf8, 0x7ff0000000000000_800c1a61824d3b99], 0x7c0000003e01ddf9_740009e5001cfa6a, 0x30000000, 0x1),
    // fcmpe d1, d2
    (0x1e622030, 0x1400000, 0x0, [0xbff0000000000000_409a663132000000, 0x4270504000000000_7fe9cf21c45e157e, 0x3fe8000000000001_800ccc86355469a9, 0xc184c98b83800000_c23c9c8400000000], 0xbff0000000000000_409a663132000000, 0x20000000, 0x80),
    // fccmp s1, s2, #0x4, eq
    (0x1e220424, 0x4880000, 0x0, [0x7f49c39e4a416400_cb800000be400000, 0xffd12bad00579517_bf40000100000000, 0x41e0000000000000_7f26492e7ff0fc46, 0x076b51695276b160_823f6175c3560402], 0x7f49c39e4a416400_cb800000be400000, 0x40000000, 0x0),
    // fccmpe d1, d2, #0x2, ne
    (0x1e621432, 0x2000000, 0x1, [0xbff0000000000000_40a3d00000000000, 0xc0c7c8bc00000000_3fd8000000000001, 0x3ff794a83d4fa908_225c81d01da6e8c1, 0xbfc8000000000000_7ff0000000000000], 0xbff0000000000000_40a3d00000000000, 0x20000000, 0x0),
    // fccmp h1, h2, #0x9, ge
    (0x1ee2a429, 0x4880000, 0x1, [0xc1c063aa7fe5f000_00007d2c62e7cd00, 0x2801032cbc90f82b_83fe7c003c000d62, 0xf590730080003600_c4dd805ffce8bc9a, 0xf98d3e0081a70094_f7524ba6fc008000], 0xc1c063aa7fe5f000_00007d2c62e7cd00, 0x20000000, 0x0),
    // fcsel d0, d1, d2, eq
    (0x1e620c20, 0x2000000, 0x1, [0x8005f5644c376d23_41840f771a000000, 0x4368eb1295400000_a27d14046681632a, 0xbffdbf1a74bbb780_3fd8000000000000, 0x584e011aaf490454_bff0000000000000], 0x0000000000000000_a27d14046681632a, 0x0, 0x0),
    // fcsel s0, s1, s2, lt
    (0x1e22bc20, 0x2000000, 0x1, [0x3ec00001be400000_4a0ec7a0cbcb4700, 0x493f9b3ac2326000_80913ee80013e6cc, 0xc67a0000bf800000_7f48b6e6c4e4db80, 0x3ff0000000000000_c37d4a82b4684c00], 0x0000000000000000_000000000013e6cc, 0x0, 0x0),
    // fcsel h0, h1, h2, hi
    (0x1ee28c20, 0x4880000, 0x0, [0x2390fe0cbf3efbac_aa58a62f6c3ded5b, 0xcc34868c06c23ab9_007e4ec05c80ba72, 0xfff0000000000000_fff0000000000000, 0x7c003c00fa445400_3a016b2afc7ccd80], 0x0000000000000000_0000000000000000, 0x0, 0x0),
    // fcmp s1, s2
    (0x1e222020, 0x0, 0x0, [0x000000007ebcb5e3_7f211b7c4a58a200, 0xbec0000045baef08_4242d1b43fcc1e00, 0xc3864000802da62b_2a4c23277fd04ecb, 0xbf8000007f800000_80000000bf8ba200], 0x000000007ebcb5e3_7f211b7c4a58a200, 0x30000000, 0x0),
    // fcmp d1, #0.0
    (0x1e602028, 0x0, 0x0, [0xe7d9658971ec0e5d_0020567ddfd28c59, 0xfff6403954643207_ffe89b2dfeeac26f, 0x40e5000000000000_c0ec429ccf0af100, 0xc4bc3217bdd8e810_3234cb11421b5dc0], 0xe7d9658971ec0e5d_0020567ddfd28c59, 0x80000000, 0x0),
    // fcmpe h1, h2
    (0x1ee22030, 0xc00000, 0x0, [0x3c007c006a28fc00_fdfaac8e5a1cb601, 0x76db8000fd4d7fbe_7d690000cb32e6e0, 0xf804f60582da8000_e31981b2bc007c00, 0x3f80000057388cf9_00044397c763e800], 0x3c007c006a28fc00_fdfaac8e5a1cb601, 0x80000000, 0x0),
    // fcmpe d1, d2
    (0x1e622030, 0xc00000, 0x0, [0xd01e615e1eda1f79_fffe625803ce1e7b, 0x3ff8000000000001_fff0000000000000, 0x42ef6ce400000000_c190500000000000, 0xfff0000000000000_fff4c980c84087d3], 0xd01e615e1eda1f79_fffe625803ce1e7b, 0x80000000, 0x0),
    // fccmp s1, s2, #0x4, eq
    (0x1e220424, 0x1400000, 0x1, [0x222c7f043c003c00_00007dc07ebb0836, 0x00000000c800e8c6_3f8000000283cf70, 0x80f6e905bd241719_4a0000009676649f, 0xc40fbba0ff800000_bf8000007f8f11f5], 0x222c7f043c003c00_00007dc07ebb0836, 0x20000000, 0x0),
    // fccmpe d1, d2, #0x2, ne
    (0x1e621432, 0x4880000, 0x1, [0x41d4320000000000_bff0000000000000, 0x001c0ae38b5b13d5_ffdfd62d41bbd0b3, 0xc08a7ffae6b44000_8005dd541c471098, 0x7ff4045b1feb45a0_fffda5a6f0900c9d], 0x41d4320000000000_bff0000000000000, 0x80000000, 0x0),
    // fccmp h1, h2, #0x9, ge
    (0x1ee2a429, 0x4880000, 0x0, [0x6400bc00b601ea00_79ee80008980da5f, 0x8279ce0084aeff8e_77a2da4ed9597c9a, 0x4bbbdcf6ffed0583_7c03fff26667977f, 0xd61abc0080008ada_ff110aa8be002dda], 0x6400bc00b601ea00_79ee80008980da5f, 0x90000000, 0x0),
    // fcsel d0, d1, d2, eq
    (0x1e620c20, 0xc00000, 0x0, [0xfffcbea2a30b7f5c_98e28eded8febcd0, 0x0da59b6ee1cd661a_bff0000000000000, 0xbf8000004240c2e0_24e5a70ac2809544, 0x8000000000000000_fffcff265782bb53], 0x0000000000000000_24e5a70ac2809544, 0x0, 0x0),
    // fcsel s0, s1, s2, lt
    (0x1e22bc20, 0x0, 0x1, [0xfff5aa4a4c1b0071_1bda1435436ce5e7, 0x7f2574d72e499640_c1d26bc0ff800000, 0x3fd16c80ffed4a89_c1b00000ffef7847, 0x7faf679eff800000_810a496fc4654e3f], 0x0000000000000000_00000000ff800000, 0x0, 0x0),
    // fcsel h0, h1, h2, hi
    (0x1ee28c20, 0x0, 0x0, [0x8a1ccc50a7f10337_f98e402e437accf1, 0x00003cc0fb420000_00c53c003fc04750, 0x3e008000d0003d18_8be73e01fc3bb201, 0x32017d530d62899f_7f0932010a503200], 0x0000000000000000_000000000000b201, 0x0, 0x0),
    // fcmp s1, s2
    (0x1e222020, 0x4880000, 0x0, [0x5821bf6f64391ada_982493ab0005c6cf, 0xbfc00000bf8c844e_fefb1b3981562f2b, 0x7f800000cdc486c0_fff71ee6bf800000, 0xbf80000000000000_ff8000007f9819ef], 0x5821bf6f64391ada_982493ab0005c6cf, 0x20000000, 0x0),
    // fcmp d1, #0.0
    (0x1e602028, 0x0, 0x0, [0xc247d1c200000000_c1fe166000000000, 0x7fe31126c1e20000_7f80000041adf000, 0xffffffffffffea56_fffffffffffeb7c7, 0x7ff0000000000000_b6ca45cb154a2bf1], 0xc247d1c200000000_c1fe166000000000, 0x20000000, 0x0),
    // fcmpe h1, h2
    (0x1ee22030, 0xc00000, 0x0, [0xde0480af7c8ceb38_d54c75b0e5f43cee, 0x06265b7691a4489b_0004a339e1ece97e, 0xc98f776b3e01f448_bc0088963c000372, 0x59308b6ac471a5aa_984b1a09e1e76c61], 0xde0480af7c8ceb38_d54c75b0e5f43cee, 0x80000000, 0x0),
    // fcmpe d1, d2
    (0x1e622030, 0x2000000, 0x0, [0x8000000000000000_e40da36d806946c6, 0x7feec21064b08de2_4070000000000000, 0x80000000f4cc8bfc_f90ce4f67fef2bdc, 0x0004aa4ca356297a_3fe8000000000000], 0x8000000000000000_e40da36d806946c6, 0x20000000, 0x0),
    // fccmp s1, s2, #0x4, eq
    (0x1e220424, 0xc00000, 0x1, [0xff80000081171229_fe9329314b2da59c, 0xd7369746d900431d_e429c97c557724db, 0xbfeb3000c0214c37_bfc00000011f7221, 0x7f9c1591074465e3_7f6481282be0da66], 0xff80000081171229_fe9329314b2da59c, 0x20000000, 0x0),
    // fccmpe d1, d2, #0x2, ne
    (0x1e621432, 0x4880000, 0x1, [0x2059b37942443623_0000000000000000, 0x2e0a322620145533_0023eb7a08c4e0f7, 0x0000c48362344c5a_8000000000000000, 0x68b2264ca211a506_7ffaf2af357f6840], 0x2059b37942443623_0000000000000000, 0x20000000, 0x0),
    // fccmp h1, h2, #0x9, ge
    (0x1ee2a429, 0x2000000, 0x0, [0x00000000000000e4_00000000000000bf, 0xfc003c00bc802377_5187cc207d0abc00, 0x6a9431e9738ca2df_763fe1960eacec5a, 0xba083c006b307c00_7c008000007701a3], 0x00000000000000e4_00000000000000bf, 0x90000000, 0x0),
    // fcsel d0, d1, d2, eq
    (0x1e620c20, 0x1400000, 0x1, [0x0010de6a515c4673_bff0000000000000, 0x46653045cd4e9abe_bfe8000000000001, 0xbc00a5a2fc900000_3601c000bc009b5d, 0x93a75589b1fe0dca_e706763e9a05c351], 0x0000000000000000_bfe8000000000001, 0x0, 0x0),
    // fcsel s0, s1, s2, lt
    (0x1e22bc20, 0x4880000, 0x1, [0x80513f0080f579f0_76a7ff3ae000bc00, 0xffd18e6eff7aa1b0_81213c437f9435cc, 0xc149400066e0f811_430b4400806bc478, 0x7f9511833f800000_47f0478055ee4483], 0x0000000000000000_000000007f9435cc, 0x0, 0x0),
    // fcsel h0, h1, h2, hi
    (0x1ee28c20, 0x0, 0x0, [0x756f0a78448031b7_bd20c500350dbd40, 0x78807310be01fcea_bed88890ce00cd40, 0x8229e800da100b27_df9ffba87c007540, 0x7dfaefc7f4b47f47_52c0f780ebe03a01], 0x0000000000000000_0000000000007540, 0x0, 0x0),
        ];
        check(CASES);
    }
}
