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
}
