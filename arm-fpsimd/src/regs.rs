//! The FP/SIMD register file (V0-V31, FPCR, FPSR) and lane access.

use arm_fp::FpStatus;

/// The FP/SIMD register file as it sits in the CPU state generated code touches.
/// `v[n][0]` is bits 63..0 of Vn, `v[n][1]` bits 127..64 (little-endian lanes: lane
/// `i` of size `e` bytes is at byte offset `i * e` of the 16-byte register).
#[repr(C, align(16))]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FpRegs {
    pub v: [[u64; 2]; 32],
    pub fpcr: u64,
    pub fpsr: u64,
}

/// Byte offsets inside [`FpRegs`] (add the offset of the `FpRegs` in the CPU state).
pub mod off {
    /// Offset of byte 0 of Vn.
    pub const fn v(n: usize) -> u32 {
        (16 * n) as u32
    }
    pub const FPCR: u32 = 512;
    pub const FPSR: u32 = 520;
}

/// FPSR.QC: cumulative saturation.
pub const FPSR_QC: u64 = 1 << 27;
/// The FPCR bits a write keeps: AHP, DN, FZ, RMode, FZ16 and the AArch32 Len/Stride
/// bits 21..16 (as QEMU's `-cpu max`, measured); the trap enables are RAZ/WI because no
/// FP exception traps are implemented.
pub const FPCR_MASK: u64 = 0x07ff_0000;
/// The FPSR bits a write keeps: the AArch32 NZCV (kept, as QEMU does), QC, IDC and the
/// five cumulative flags (measured on QEMU).
pub const FPSR_MASK: u64 = 0xf800_009f;

const _: () = assert!(std::mem::size_of::<FpRegs>() == 528);
const _: () = assert!(std::mem::offset_of!(FpRegs, fpcr) == off::FPCR as usize);
const _: () = assert!(std::mem::offset_of!(FpRegs, fpsr) == off::FPSR as usize);

impl FpRegs {
    /// The whole 128-bit register.
    pub fn q(&self, n: u8) -> u128 {
        let r = self.v[n as usize & 31];
        (r[1] as u128) << 64 | r[0] as u128
    }

    pub fn set_q(&mut self, n: u8, val: u128) {
        self.v[n as usize & 31] = [val as u64, (val >> 64) as u64];
    }

    /// Lane `idx` of `1 << size` bytes (size 0..=3), zero-extended.
    pub fn lane(&self, n: u8, size: u8, idx: usize) -> u64 {
        let bits = 8u32 << size;
        let bit = idx as u32 * bits;
        if bit >= 128 {
            return 0;
        }
        let w = self.v[n as usize & 31][(bit / 64) as usize];
        let v = w >> (bit % 64);
        if bits == 64 {
            v
        } else {
            v & ((1u64 << bits) - 1)
        }
    }

    /// Lane `idx` of `1 << size` bytes, sign-extended.
    pub fn lane_s(&self, n: u8, size: u8, idx: usize) -> i64 {
        let sh = 64 - (8u32 << size);
        ((self.lane(n, size, idx) << sh) as i64) >> sh
    }

    /// Writes lane `idx` (the value is truncated to the lane), leaving the rest.
    pub fn set_lane(&mut self, n: u8, size: u8, idx: usize, val: u64) {
        let bits = 8u32 << size;
        let bit = idx as u32 * bits;
        if bit >= 128 {
            return;
        }
        let w = &mut self.v[n as usize & 31][(bit / 64) as usize];
        let sh = bit % 64;
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        *w = (*w & !(mask << sh)) | ((val & mask) << sh);
    }

    /// Writes a scalar of `1 << size` bytes (size 0..=4) to Vn, zeroing the rest of
    /// the register (the architectural rule for every scalar and 64-bit result).
    pub fn set_scalar(&mut self, n: u8, size: u8, val: u128) {
        let v = if size >= 4 {
            val
        } else {
            val & ((1u128 << (8u32 << size)) - 1)
        };
        self.set_q(n, v);
    }

    /// Writes a vector result: the low 64 bits only (upper half zeroed) unless `q`.
    pub fn set_vec(&mut self, n: u8, q: bool, val: u128) {
        self.set_q(n, if q { val } else { val & u64::MAX as u128 });
    }

    /// Zeroes the upper 64 bits of Vn (after a 64-bit vector operation wrote lanes).
    pub fn clear_high(&mut self, n: u8) {
        self.v[n as usize & 31][1] = 0;
    }

    /// An [`FpStatus`] with the current FPCR and FPSR flags (arm-fp's host fast path
    /// needs to know whether IXC is already set); merge it back with
    /// [`FpRegs::merge_status`].
    pub fn status(&self) -> FpStatus {
        FpStatus {
            fpcr: self.fpcr as u32,
            fpsr: self.fpsr as u32,
        }
    }

    /// ORs the flags `st` raised into FPSR.
    pub fn merge_status(&mut self, st: &FpStatus) {
        self.fpsr |= st.fpsr as u64;
    }

    /// Sets FPSR.QC (an integer saturating operation saturated).
    pub fn set_qc(&mut self) {
        self.fpsr |= FPSR_QC;
    }
}
