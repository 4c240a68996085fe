//! The CPU's interrupt inputs as the interrupt controller drives them (from any thread).

use std::sync::atomic::{AtomicBool, Ordering};

/// IRQ and FIQ input levels of one CPU. The board's GIC sets them and kicks the vCPU; the
/// CPU samples them at block boundaries and in WFI.
#[derive(Debug, Default)]
pub struct IrqLines {
    irq: AtomicBool,
    fiq: AtomicBool,
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
}
