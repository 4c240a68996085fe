//! PL031 real-time clock (ARM PrimeCell RTC PL031 TRM, DDI 0224): a 32-bit seconds counter
//! running from the host's wall clock, with the match interrupt.
//!
//! The counter always runs (CR reads 1). LR loads it. When the counter reaches MR the raw
//! interrupt status (RIS) latches; MIS = RIS & IMSC drives the interrupt output
//! (level-sensitive, SPI 2 on the virt board); ICR clears RIS. The moment of the match is
//! found with a host alarm ([`crate::timer::Alarm`]) re-armed on every MR/LR write.

use crate::timer::Alarm;
use softmmu::MmioDevice;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Register offsets.
pub mod reg {
    pub const DR: u64 = 0x00;
    pub const MR: u64 = 0x04;
    pub const LR: u64 = 0x08;
    pub const CR: u64 = 0x0c;
    pub const IMSC: u64 = 0x10;
    pub const RIS: u64 = 0x14;
    pub const MIS: u64 = 0x18;
    pub const ICR: u64 = 0x1c;
    pub const ID_BASE: u64 = 0xfe0;
}

const ID_BYTES: [u64; 8] = [0x31, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// Host wall-clock time since the Unix epoch.
fn host_time() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
}

/// The interrupt output (level).
pub type IrqOut = Box<dyn Fn(bool) + Send + Sync>;

struct Regs {
    /// Guest time minus host time, in seconds (LR writes move it).
    offset: i64,
    mr: u32,
    imsc: u32,
    ris: u32,
    /// A match is expected (MR is ahead of the counter and the alarm is set for it).
    armed: bool,
    line: bool,
}

impl Regs {
    fn counter_at(&self, host: Duration) -> u32 {
        (host.as_secs() as i64).wrapping_add(self.offset) as u32
    }
}

pub struct Pl031 {
    regs: Mutex<Regs>,
    irq: Option<IrqOut>,
    alarm: Option<Alarm>,
}

impl Default for Pl031 {
    fn default() -> Self {
        Pl031::new()
    }
}

impl Pl031 {
    pub fn new() -> Pl031 {
        Pl031 {
            regs: Mutex::new(Regs {
                offset: 0,
                mr: 0,
                imsc: 0,
                ris: 0,
                armed: false,
                line: false,
            }),
            irq: None,
            alarm: None,
        }
    }

    /// Connects the interrupt output.
    pub fn with_irq(mut self, irq: IrqOut) -> Pl031 {
        self.irq = Some(irq);
        self
    }

    /// Gives the RTC the host alarm it uses to notice the match in time; the alarm's
    /// callback must call [`check_match`](Self::check_match).
    pub fn with_alarm(mut self, alarm: Alarm) -> Pl031 {
        self.alarm = Some(alarm);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Regs> {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, r: &mut Regs) {
        let level = r.ris & r.imsc & 1 != 0;
        if level != r.line {
            r.line = level;
            if let Some(irq) = &self.irq {
                irq(level);
            }
        }
    }

    /// Latches the match if the counter reached MR, else (re)arms the alarm for the
    /// moment it will.
    fn evaluate(&self, r: &mut Regs) {
        let now = host_time();
        let count = r.counter_at(now);
        let ahead = r.mr.wrapping_sub(count);
        if ahead == 0 || (r.armed && ahead > u32::MAX / 2) {
            // Equal now, or passed while we were waiting (the alarm ran late).
            r.ris |= 1;
            r.armed = false;
        } else {
            r.armed = true;
        }
        if let Some(alarm) = &self.alarm {
            let at = r.armed.then(|| {
                let secs = Duration::from_secs(ahead as u64);
                let into_second = Duration::from_nanos(now.subsec_nanos() as u64);
                Instant::now().checked_add(secs.saturating_sub(into_second))
            });
            alarm.set(at.flatten());
        }
        self.update(r);
    }

    /// Called when the alarm fires (and safe to call at any time).
    pub fn check_match(&self) {
        let mut r = self.lock();
        if r.armed {
            self.evaluate(&mut r);
        }
    }
}

impl MmioDevice for Pl031 {
    fn read(&self, offset: u64, _size: u32) -> u64 {
        let r = self.lock();
        match offset {
            reg::DR => r.counter_at(host_time()) as u64,
            reg::MR => r.mr as u64,
            reg::LR => r.counter_at(host_time()) as u64,
            // The counter always runs.
            reg::CR => 1,
            reg::IMSC => r.imsc as u64,
            reg::RIS => r.ris as u64,
            reg::MIS => (r.ris & r.imsc) as u64,
            o if (reg::ID_BASE..reg::ID_BASE + 32).contains(&o) && o % 4 == 0 => {
                ID_BYTES[((o - reg::ID_BASE) / 4) as usize]
            }
            _ => 0,
        }
    }

    fn write(&self, offset: u64, _size: u32, value: u64) {
        let mut r = self.lock();
        match offset {
            reg::MR => {
                r.mr = value as u32;
                r.armed = false;
                self.evaluate(&mut r);
            }
            reg::LR => {
                r.offset = (value as u32 as i64) - host_time().as_secs() as i64;
                r.armed = false;
                self.evaluate(&mut r);
            }
            reg::IMSC => {
                r.imsc = (value & 1) as u32;
                self.update(&mut r);
            }
            reg::ICR => {
                r.ris &= !(value as u32 & 1);
                self.update(&mut r);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::timer::{PpiSink, TimerService};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Weak};

    #[test]
    fn counts_host_seconds_and_can_be_loaded() {
        let rtc = Pl031::new();
        let now = host_time().as_secs();
        let dr = rtc.read(reg::DR, 4);
        assert!(dr >= now as u32 as u64 && dr <= now as u32 as u64 + 2);
        rtc.write(reg::LR, 4, 1000);
        let dr = rtc.read(reg::DR, 4);
        assert!((1000..1003).contains(&dr), "{dr}");
        assert_eq!(rtc.read(0xfe0, 4), 0x31);
        assert_eq!(rtc.read(0xffc, 4), 0xb1);
    }

    #[test]
    fn match_now_latches_and_icr_clears() {
        let line = Arc::new(AtomicBool::new(false));
        let l = line.clone();
        let rtc = Pl031::new().with_irq(Box::new(move |v| l.store(v, Ordering::SeqCst)));
        rtc.write(reg::IMSC, 4, 1);
        // Retry across a second boundary: MR equal to the counter matches at once.
        let mut matched = false;
        for _ in 0..3 {
            let dr = rtc.read(reg::DR, 4);
            rtc.write(reg::MR, 4, dr);
            if rtc.read(reg::RIS, 4) == 1 {
                matched = true;
                break;
            }
        }
        assert!(matched);
        assert_eq!(rtc.read(reg::MIS, 4), 1);
        assert!(line.load(Ordering::SeqCst));
        rtc.write(reg::ICR, 4, 1);
        assert_eq!(rtc.read(reg::RIS, 4), 0);
        assert!(!line.load(Ordering::SeqCst));
        // A match far ahead does not latch.
        let dr = rtc.read(reg::DR, 4) as u32;
        rtc.write(reg::MR, 4, dr.wrapping_add(1000) as u64);
        assert_eq!(rtc.read(reg::RIS, 4), 0);
    }

    struct NoPpis;
    impl PpiSink for NoPpis {
        fn set_ppi(&self, _: usize, _: usize, _: bool) {}
    }

    #[test]
    fn the_alarm_raises_the_match_interrupt_a_second_later() {
        let svc = TimerService::new(1, Arc::new(NoPpis));
        let _thread = svc.start().unwrap();
        let line = Arc::new(AtomicBool::new(false));
        let l = line.clone();
        let rtc = Arc::new_cyclic(|w: &Weak<Pl031>| {
            let w = w.clone();
            let alarm = svc.alarm(move || {
                if let Some(r) = w.upgrade() {
                    r.check_match();
                }
            });
            Pl031::new()
                .with_irq(Box::new(move |v| l.store(v, Ordering::SeqCst)))
                .with_alarm(alarm)
        });
        rtc.write(reg::IMSC, 4, 1);
        let dr = rtc.read(reg::DR, 4) as u32;
        rtc.write(reg::MR, 4, dr.wrapping_add(1) as u64);
        let end = Instant::now() + Duration::from_secs(5);
        while !line.load(Ordering::SeqCst) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(line.load(Ordering::SeqCst));
        assert_eq!(rtc.read(reg::RIS, 4), 1);
        assert!(rtc.read(reg::DR, 4) as u32 >= dr.wrapping_add(1));
    }
}
