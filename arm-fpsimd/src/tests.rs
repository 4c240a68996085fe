use super::*;

#[test]
fn lanes_round_trip() {
    let mut r = FpRegs::default();
    r.set_q(3, 0x0011_2233_4455_6677_8899_aabb_ccdd_eeff);
    assert_eq!(r.lane(3, 0, 0), 0xff);
    assert_eq!(r.lane(3, 1, 4), 0x6677);
    assert_eq!(r.lane(3, 3, 1), 0x0011_2233_4455_6677);
    assert_eq!(r.lane_s(3, 0, 1), -0x12);
    r.set_lane(3, 2, 1, 0xdead_beef);
    assert_eq!(r.v[3][0], 0xdead_beef_ccdd_eeff);
    r.set_scalar(3, 1, 0x1_2345);
    assert_eq!(r.q(3), 0x2345);
}

/// (word, FPCR, gpr input, V0-V3 before, V0 after, returned value, FPSR after), all from
/// qemu-aarch64 runs of the real instructions (V4-V31 are zero): the FP modules' cases.
pub(crate) type Case = (u32, u64, u64, [u128; 4], u128, u64, u64);

/// Runs each case through `supported` and `exec` and checks V0, the result, FPSR and
/// that V1-V3 are unchanged.
pub(crate) fn check(cases: &[Case]) {
    for &(w, fpcr, gpr, vin, v0, out, fpsr) in cases {
        let insn = arm_decode::decode(w);
        assert!(crate::supported(&insn), "{w:08x} {insn}");
        let mut r = FpRegs {
            fpcr,
            ..FpRegs::default()
        };
        for (i, &v) in vin.iter().enumerate() {
            r.set_q(i as u8, v);
        }
        let got = crate::exec(&mut r, &insn, gpr);
        assert_eq!(r.q(0), v0, "{w:08x} {insn}: V0");
        assert_eq!(got, out, "{w:08x} {insn}: result");
        assert_eq!(r.fpsr, fpsr, "{w:08x} {insn}: FPSR");
        for i in 1..4 {
            assert_eq!(r.q(i), vin[i as usize], "{w:08x} {insn}: V{i} changed");
        }
    }
}
