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
