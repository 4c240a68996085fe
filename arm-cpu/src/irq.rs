//! The CPU's interrupt inputs as the interrupt controller drives them (from any thread),
//! and the link from the GICv3 system registers (ICC_*_EL1) to the board's GIC.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

/// IRQ and FIQ input levels of one CPU. The board's GIC sets them and kicks the vCPU; the
/// CPU samples them at block boundaries and in WFI. With a GICv3 the board also attaches
/// the CPU's system-register interface here ([`IrqLines::attach_cpu_interface`]).
#[derive(Default)]
pub struct IrqLines {
    irq: AtomicBool,
    fiq: AtomicBool,
    icc: OnceLock<Box<dyn CpuInterface>>,
}

impl fmt::Debug for IrqLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IrqLines")
            .field("irq", &self.irq())
            .field("fiq", &self.fiq())
            .field("icc", &self.icc.get().is_some())
            .finish()
    }
}

impl IrqLines {
    pub fn set_irq(&self, level: bool) {
        self.irq.store(level, Ordering::Release);
    }

    pub fn set_fiq(&self, level: bool) {
        self.fiq.store(level, Ordering::Release);
    }

    pub fn irq(&self) -> bool {
        self.irq.load(Ordering::Acquire)
    }

    pub fn fiq(&self) -> bool {
        self.fiq.load(Ordering::Acquire)
    }

    /// The interrupt to take now under PSTATE.DAIF `daif` (FIQ before IRQ), if any.
    pub fn deliverable(&self, daif: u64) -> Option<crate::except::Kind> {
        if self.fiq() && daif & 0x40 == 0 {
            Some(crate::except::Kind::Fiq)
        } else if self.irq() && daif & 0x80 == 0 {
            Some(crate::except::Kind::Irq)
        } else {
            None
        }
    }

    /// Connects this CPU's ICC_* registers to a GICv3 CPU interface (once, before the CPU
    /// runs; a second call is ignored and returns false). The translator only lets the
    /// guest reach them when [`crate::ArmCpu::set_gicv3`] said so.
    pub fn attach_cpu_interface(&self, icc: Box<dyn CpuInterface>) -> bool {
        self.icc.set(icc).is_ok()
    }

    pub fn cpu_interface(&self) -> Option<&dyn CpuInterface> {
        self.icc.get().map(|b| &**b)
    }
}

/// A GICv3 CPU interface as the CPU's system registers see it (one per CPU: it knows
/// which CPU it serves). Reads of write-only and writes of read-only registers never get
/// here (they are UNDEFINED and the translator raises that).
pub trait CpuInterface: Send + Sync {
    fn read(&self, reg: IccReg) -> u64;
    fn write(&self, reg: IccReg, value: u64);
}

/// The EL1 GICv3 CPU-interface registers (ICC_*_EL1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IccReg {
    Pmr,
    Iar0,
    Eoir0,
    Hppir0,
    Bpr0,
    /// ICC_AP0R<n>_EL1, n = 0..=3.
    Ap0r(u8),
    /// ICC_AP1R<n>_EL1, n = 0..=3.
    Ap1r(u8),
    Dir,
    Rpr,
    Sgi1r,
    Asgi1r,
    Sgi0r,
    Iar1,
    Eoir1,
    Hppir1,
    Bpr1,
    Ctlr,
    Sre,
    Igrpen0,
    Igrpen1,
}

impl IccReg {
    /// Every register with its (op0, op1, CRn, CRm, op2) encoding and name.
    pub const ALL: &'static [(IccReg, [u8; 5], &'static str)] = &[
        (IccReg::Pmr, [3, 0, 4, 6, 0], "ICC_PMR_EL1"),
        (IccReg::Iar0, [3, 0, 12, 8, 0], "ICC_IAR0_EL1"),
        (IccReg::Eoir0, [3, 0, 12, 8, 1], "ICC_EOIR0_EL1"),
        (IccReg::Hppir0, [3, 0, 12, 8, 2], "ICC_HPPIR0_EL1"),
        (IccReg::Bpr0, [3, 0, 12, 8, 3], "ICC_BPR0_EL1"),
        (IccReg::Ap0r(0), [3, 0, 12, 8, 4], "ICC_AP0R0_EL1"),
        (IccReg::Ap0r(1), [3, 0, 12, 8, 5], "ICC_AP0R1_EL1"),
        (IccReg::Ap0r(2), [3, 0, 12, 8, 6], "ICC_AP0R2_EL1"),
        (IccReg::Ap0r(3), [3, 0, 12, 8, 7], "ICC_AP0R3_EL1"),
        (IccReg::Ap1r(0), [3, 0, 12, 9, 0], "ICC_AP1R0_EL1"),
        (IccReg::Ap1r(1), [3, 0, 12, 9, 1], "ICC_AP1R1_EL1"),
        (IccReg::Ap1r(2), [3, 0, 12, 9, 2], "ICC_AP1R2_EL1"),
        (IccReg::Ap1r(3), [3, 0, 12, 9, 3], "ICC_AP1R3_EL1"),
        (IccReg::Dir, [3, 0, 12, 11, 1], "ICC_DIR_EL1"),
        (IccReg::Rpr, [3, 0, 12, 11, 3], "ICC_RPR_EL1"),
        (IccReg::Sgi1r, [3, 0, 12, 11, 5], "ICC_SGI1R_EL1"),
        (IccReg::Asgi1r, [3, 0, 12, 11, 6], "ICC_ASGI1R_EL1"),
        (IccReg::Sgi0r, [3, 0, 12, 11, 7], "ICC_SGI0R_EL1"),
        (IccReg::Iar1, [3, 0, 12, 12, 0], "ICC_IAR1_EL1"),
        (IccReg::Eoir1, [3, 0, 12, 12, 1], "ICC_EOIR1_EL1"),
        (IccReg::Hppir1, [3, 0, 12, 12, 2], "ICC_HPPIR1_EL1"),
        (IccReg::Bpr1, [3, 0, 12, 12, 3], "ICC_BPR1_EL1"),
        (IccReg::Ctlr, [3, 0, 12, 12, 4], "ICC_CTLR_EL1"),
        (IccReg::Sre, [3, 0, 12, 12, 5], "ICC_SRE_EL1"),
        (IccReg::Igrpen0, [3, 0, 12, 12, 6], "ICC_IGRPEN0_EL1"),
        (IccReg::Igrpen1, [3, 0, 12, 12, 7], "ICC_IGRPEN1_EL1"),
    ];

    /// A small number naming the register (the operand of the ICC helpers).
    pub fn index(self) -> u64 {
        IccReg::ALL
            .iter()
            .position(|&(r, _, _)| r == self)
            .unwrap_or(0) as u64
    }

    pub fn from_index(i: u64) -> Option<IccReg> {
        IccReg::ALL.get(i as usize).map(|&(r, _, _)| r)
    }

    /// MRS is allowed (the write-only EOIR, DIR and SGI registers are not readable).
    pub fn readable(self) -> bool {
        !matches!(
            self,
            IccReg::Eoir0
                | IccReg::Eoir1
                | IccReg::Dir
                | IccReg::Sgi0r
                | IccReg::Sgi1r
                | IccReg::Asgi1r
        )
    }

    /// MSR is allowed (IAR, HPPIR and RPR are read-only).
    pub fn writable(self) -> bool {
        !matches!(
            self,
            IccReg::Iar0 | IccReg::Iar1 | IccReg::Hppir0 | IccReg::Hppir1 | IccReg::Rpr
        )
    }

    /// Reading it changes the interrupt controller's state (acknowledges an interrupt).
    pub fn read_has_effect(self) -> bool {
        matches!(self, IccReg::Iar0 | IccReg::Iar1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icc_indices_round_trip() {
        for &(r, _, name) in IccReg::ALL {
            assert_eq!(IccReg::from_index(r.index()), Some(r), "{name}");
        }
        assert!(!IccReg::Eoir1.readable() && IccReg::Eoir1.writable());
        assert!(IccReg::Iar1.readable() && !IccReg::Iar1.writable());
    }
}
