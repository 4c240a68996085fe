//! The host-FPU fast path: for single and double precision, when the architectural
//! result provably equals the host's IEEE result, compute it with one host instruction.
//!
//! Conditions (all checked, else the caller runs the exact soft-float path):
//! - FPCR.RMode is round-to-nearest-even (the host's default mode, which Rust never
//!   changes);
//! - FPSR.IXC is already set, so whether this operation is inexact need not be known;
//! - every operand is a normal number: no NaN rules, no infinities, no zeros (so no
//!   invalid operation or division by zero), no denormals (so FZ cannot flush an input
//!   and IDC cannot be raised);
//! - the result is finite and larger in magnitude than the smallest normal number: no
//!   overflow, and the unrounded value was not tiny either (Arm detects tininess before
//!   rounding, so a result that rounded up to the smallest normal may still underflow,
//!   and FZ may flush it), so no underflow and no flush.
//!
//! Then the only flag the operation could raise is IXC (already set), and IEEE 754
//! round-to-nearest-even defines the result bits uniquely, on the host as in Arm.

use crate::{fpcr, fpsr, Fmt, FpStatus};

fn usable(st: &FpStatus) -> bool {
    st.fpcr & fpcr::RMODE_MASK == 0 && st.fpsr & fpsr::IXC != 0
}

fn normal32(b: u64) -> bool {
    let e = (b >> 23) & 0xff;
    e != 0 && e != 0xff
}

fn normal64(b: u64) -> bool {
    let e = (b >> 52) & 0x7ff;
    e != 0 && e != 0x7ff
}

/// Finite and above the smallest normal in magnitude.
fn safe_result32(b: u64) -> bool {
    normal32(b) && b & 0x7fff_ffff > 0x0080_0000
}

fn safe_result64(b: u64) -> bool {
    normal64(b) && b & !(1 << 63) > 0x0010_0000_0000_0000
}

/// `op` on two or three operands of `fmt` through the host, if provably exact.
pub(crate) fn try_op(
    fmt: Fmt,
    ops: &[u64],
    st: &FpStatus,
    f32op: impl Fn(&[f32]) -> f32,
    f64op: impl Fn(&[f64]) -> f64,
) -> Option<u64> {
    if !usable(st) {
        return None;
    }
    match fmt {
        Fmt::S => {
            if !ops.iter().all(|&b| normal32(b)) {
                return None;
            }
            let mut v = [0f32; 3];
            for (d, &b) in v.iter_mut().zip(ops) {
                *d = f32::from_bits(b as u32);
            }
            let r = f32op(&v[..ops.len()]).to_bits() as u64;
            safe_result32(r).then_some(r)
        }
        Fmt::D => {
            if !ops.iter().all(|&b| normal64(b)) {
                return None;
            }
            let mut v = [0f64; 3];
            for (d, &b) in v.iter_mut().zip(ops) {
                *d = f64::from_bits(b);
            }
            let r = f64op(&v[..ops.len()]).to_bits();
            safe_result64(r).then_some(r)
        }
        Fmt::H | Fmt::B => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_with_rne_ixc_normal_operands_and_a_normal_result() {
        let one = 1f64.to_bits();
        let add = |st: &FpStatus, a: u64, b: u64| {
            try_op(Fmt::D, &[a, b], st, |v| v[0] + v[1], |v| v[0] + v[1])
        };
        let mut st = FpStatus::new(0);
        assert_eq!(add(&st, one, one), None, "IXC not yet set");
        st.fpsr = fpsr::IXC;
        assert_eq!(add(&st, one, one), Some(2f64.to_bits()));
        assert_eq!(add(&st, one, (-1f64).to_bits()), None, "zero result");
        assert_eq!(add(&st, one, 0), None, "zero operand");
        assert_eq!(
            add(&st, f64::MAX.to_bits(), f64::MAX.to_bits()),
            None,
            "overflow"
        );
        let min = f64::MIN_POSITIVE;
        let mul = |a: f64, b: f64| {
            try_op(
                Fmt::D,
                &[a.to_bits(), b.to_bits()],
                &st,
                |v| v[0] * v[1],
                |v| v[0] * v[1],
            )
        };
        // Rounds up to the smallest normal from a tiny value: underflow in Arm.
        assert_eq!(
            mul(min, 1.0 - f64::EPSILON / 2.0),
            None,
            "tiny before rounding"
        );
        assert_eq!(mul(min, 2.0), Some((2.0 * min).to_bits()));
        st.fpcr = 1 << fpcr::RMODE_SHIFT;
        assert_eq!(add(&st, one, one), None, "not round-to-nearest");
    }
}
