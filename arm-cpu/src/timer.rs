//! The generic timer as the CPU sees it: the system counter, and each timer's output from
//! its CTL and CVAL registers. The board turns outputs into GIC PPIs and wakes vCPUs at
//! deadlines (it learns of register writes through `Platform::timer_changed`).

use crate::helpers::counter_now;
use crate::sysregs::CNTFRQ_HZ;
use std::time::Duration;

/// CNTx_CTL bits.
pub const CTL_ENABLE: u64 = 1;
pub const CTL_IMASK: u64 = 2;
pub const CTL_ISTATUS: u64 = 4;

/// The two EL1-visible timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Timer {
    /// CNTV_*: virtual timer, PPI 27 (device-tree PPI 11).
    Virt = 0,
    /// CNTP_*: non-secure physical timer, PPI 30 (device-tree PPI 14).
    Phys = 1,
}

impl Timer {
    pub const ALL: [Timer; 2] = [Timer::Virt, Timer::Phys];

    /// The GIC interrupt ID the timer drives.
    pub fn intid(self) -> usize {
        match self {
            Timer::Virt => 27,
            Timer::Phys => 30,
        }
    }
}

/// One timer's programmed state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimerRegs {
    pub ctl: u64,
    pub cval: u64,
}

impl TimerRegs {
    /// The condition ISTATUS reports: enabled and the count reached CVAL.
    pub fn condition(self, now: u64) -> bool {
        self.ctl & CTL_ENABLE != 0 && now >= self.cval
    }

    /// The interrupt output: the condition, unless masked.
    pub fn output(self, now: u64) -> bool {
        self.condition(now) && self.ctl & CTL_IMASK == 0
    }

    /// The count at which the output rises, if it is enabled, unmasked and not yet risen.
    pub fn deadline(self, now: u64) -> Option<u64> {
        (self.ctl & (CTL_ENABLE | CTL_IMASK) == CTL_ENABLE && now < self.cval).then_some(self.cval)
    }
}

/// The counter value now (CNTPCT_EL0; CNTVCT_EL0 equals it, CNTVOFF being 0).
pub fn now() -> u64 {
    counter_now()
}

/// Host time from now until the counter reaches `ticks` (zero if it already has).
pub fn until(ticks: u64) -> Duration {
    let now = counter_now();
    let d = ticks.saturating_sub(now) as u128;
    let ns = d * 1_000_000_000 / CNTFRQ_HZ as u128;
    Duration::from_nanos(ns.min(u64::MAX as u128) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_follows_enable_mask_and_compare() {
        let t = TimerRegs {
            ctl: CTL_ENABLE,
            cval: 100,
        };
        assert!(!t.output(99));
        assert!(t.output(100));
        assert_eq!(t.deadline(50), Some(100));
        assert_eq!(t.deadline(100), None);
        let masked = TimerRegs {
            ctl: CTL_ENABLE | CTL_IMASK,
            cval: 100,
        };
        assert!(masked.condition(200) && !masked.output(200));
        assert_eq!(masked.deadline(50), None);
        assert!(!TimerRegs { ctl: 0, cval: 0 }.condition(5));
    }

    #[test]
    fn until_is_zero_for_past_deadlines() {
        assert_eq!(until(0), Duration::ZERO);
        assert!(until(now() + CNTFRQ_HZ) > Duration::from_millis(500));
    }
}
