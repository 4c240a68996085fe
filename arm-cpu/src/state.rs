//! The `#[repr(C)]` architectural state generated code runs against, and its offsets.

use arm_fpsimd::FpRegs;
use softmmu::{EnvHead, MemCtx};
use std::mem::offset_of;

/// One vCPU's state. Starts with the softmmu head (exit request, fault record, TLBs);
/// every field generated code touches is a plain u64 at an offset from [`off`].
#[repr(C)]
pub struct CpuEnv {
    pub head: EnvHead,
    /// X0..X30.
    pub x: [u64; 31],
    /// The current stack pointer (SP_EL0 or SP_ELx per PSTATE.SPSel).
    pub sp: u64,
    pub pc: u64,
    /// Lazy flags: N is bit 63 of `nf`, Z is `zf == 0`, C is `cf` (0/1), V is bit 63 of `vf`.
    pub nf: u64,
    pub zf: u64,
    pub cf: u64,
    pub vf: u64,
    /// Deferred flags: while `cc_pending` is non-zero, NZCV are the flags of the 64-bit
    /// subtraction `cc_a - cc_b` and `nf`..`vf` are stale. A CMP/SUBS stores its operands
    /// here instead of computing four flags most successors overwrite unread (a 32-bit one
    /// shifted left by 32: the same N, Z, C and V). Code reading the flags computes them
    /// first ([`CpuEnv::nzcv`], the translator's `Ctx::flags_for_read`); writers of all
    /// four clear `cc_pending` ([`CpuEnv::set_nzcv`]).
    pub cc_a: u64,
    pub cc_b: u64,
    pub cc_pending: u64,
    /// Exclusive monitor: address (`u64::MAX` = clear) and the value(s) loaded.
    pub excl_addr: u64,
    pub excl_val: u64,
    pub excl_val2: u64,
    /// Current exception level (0 or 1) and PSTATE bits kept apart.
    pub el: u64,
    pub daif: u64,
    pub spsel: u64,
    /// The SP of the mode not currently selected: `sp_el[0]` / `sp_el[1]`.
    pub sp_el: [u64; 2],
    /// Guest-defined exit detail: the instruction word or immediate of the last exit.
    pub exit_info: u64,
    /// The IRQ/FIQ inputs (owned by the `ArmCpu` through an `Arc`; null in bare test envs).
    pub lines: *const crate::irq::IrqLines,
    /// Backing storage of the system registers kept as plain values (see `sysregs`).
    pub sysregs: [u64; crate::sysregs::NUM_STORED],
    /// V0..V31, FPCR and FPSR (16-byte aligned: the JIT loads whole Q registers).
    pub fp: FpRegs,
    /// Two scratch vectors for native AdvSIMD sequences that need intermediates (the
    /// pairwise ops); never guest-visible.
    pub vtmp: [u128; 2],
    /// A debugger is attached: blocks keep NZCV exact at every block boundary (see
    /// `translate::Ctl::EXACT_NZCV`).
    pub debugged: bool,
}

impl CpuEnv {
    pub fn new(ctx: *const MemCtx) -> CpuEnv {
        CpuEnv {
            head: EnvHead::new(ctx),
            x: [0; 31],
            sp: 0,
            pc: 0,
            nf: 0,
            zf: 1,
            cf: 0,
            vf: 0,
            cc_a: 0,
            cc_b: 0,
            cc_pending: 0,
            excl_addr: u64::MAX,
            excl_val: 0,
            excl_val2: 0,
            el: 1,
            daif: 0x3c0,
            spsel: 1,
            sp_el: [0; 2],
            exit_info: 0,
            lines: std::ptr::null(),
            sysregs: [0; crate::sysregs::NUM_STORED],
            fp: FpRegs::default(),
            vtmp: [0; 2],
            debugged: false,
        }
    }

    /// NZCV in the layout of the NZCV system register (bits 31..28).
    pub fn nzcv(&self) -> u64 {
        let (nf, zf, cf, vf) = if self.cc_pending != 0 {
            let (a, b) = (self.cc_a, self.cc_b);
            let r = a.wrapping_sub(b);
            (r, r, (a >= b) as u64, (a ^ b) & (a ^ r))
        } else {
            (self.nf, self.zf, self.cf, self.vf)
        };
        let n = nf >> 63;
        let z = (zf == 0) as u64;
        let c = cf & 1;
        let v = vf >> 63;
        (n << 31) | (z << 30) | (c << 29) | (v << 28)
    }

    /// Sets NZCV from the layout of the NZCV system register (bits 31..28).
    pub fn set_nzcv(&mut self, nzcv: u64) {
        self.nf = ((nzcv >> 31) & 1) << 63;
        self.zf = ((nzcv >> 30) & 1) ^ 1;
        self.cf = (nzcv >> 29) & 1;
        self.vf = ((nzcv >> 28) & 1) << 63;
        self.cc_pending = 0;
    }
}

/// Offsets of `CpuEnv` fields, for globals and `ld_env`/`st_env`.
pub mod off {
    use super::*;

    pub fn x(n: usize) -> u32 {
        (offset_of!(CpuEnv, x) + 8 * n) as u32
    }
    pub const SP: u32 = offset_of!(CpuEnv, sp) as u32;
    pub const PC: u32 = offset_of!(CpuEnv, pc) as u32;
    pub const NF: u32 = offset_of!(CpuEnv, nf) as u32;
    pub const ZF: u32 = offset_of!(CpuEnv, zf) as u32;
    pub const CF: u32 = offset_of!(CpuEnv, cf) as u32;
    pub const VF: u32 = offset_of!(CpuEnv, vf) as u32;
    pub const CC_A: u32 = offset_of!(CpuEnv, cc_a) as u32;
    pub const CC_B: u32 = offset_of!(CpuEnv, cc_b) as u32;
    pub const CC_PENDING: u32 = offset_of!(CpuEnv, cc_pending) as u32;
    pub const EXCL_ADDR: u32 = offset_of!(CpuEnv, excl_addr) as u32;
    pub const EXCL_VAL: u32 = offset_of!(CpuEnv, excl_val) as u32;
    pub const EXCL_VAL2: u32 = offset_of!(CpuEnv, excl_val2) as u32;
    pub const EL: u32 = offset_of!(CpuEnv, el) as u32;
    pub const DAIF: u32 = offset_of!(CpuEnv, daif) as u32;
    pub const SPSEL: u32 = offset_of!(CpuEnv, spsel) as u32;
    pub const EXIT_INFO: u32 = offset_of!(CpuEnv, exit_info) as u32;
    pub fn sysreg(slot: usize) -> u32 {
        (offset_of!(CpuEnv, sysregs) + 8 * slot) as u32
    }
    /// Byte 0 of Vn (16-byte aligned).
    pub const fn v(n: usize) -> u32 {
        offset_of!(CpuEnv, fp) as u32 + arm_fpsimd::regs::off::v(n)
    }
    /// Byte `byte` of Vn.
    pub const fn v_byte(n: usize, byte: usize) -> u32 {
        v(n) + byte as u32
    }
    pub const FPCR: u32 = offset_of!(CpuEnv, fp) as u32 + arm_fpsimd::regs::off::FPCR;
    /// Scratch vector `n` (0 or 1), 16-byte aligned.
    pub const fn vtmp(n: usize) -> u32 {
        offset_of!(CpuEnv, vtmp) as u32 + 16 * n as u32
    }
    pub const FPSR: u32 = offset_of!(CpuEnv, fp) as u32 + arm_fpsimd::regs::off::FPSR;
}
