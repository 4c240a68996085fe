//! PL031 real-time clock: a seconds counter from the host's wall clock.
//!
//! The match interrupt is not raised (Linux reads the time at boot and never arms an
//! alarm on this board unless asked to); MR/IMSC/RIS/ICR keep their values.

use softmmu::MmioDevice;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Register offsets (ARM PrimeCell RTC PL031 TRM).
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

fn host_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

struct Regs {
    /// Guest time minus host time, in seconds (LR writes move it).
    offset: i64,
    mr: u32,
    imsc: u32,
    ris: u32,
}

pub struct Pl031 {
    regs: Mutex<Regs>,
}

impl Default for Pl031 {
    fn default() -> Self {
        Pl031 {
            regs: Mutex::new(Regs {
                offset: 0,
                mr: 0,
                imsc: 0,
                ris: 0,
            }),
        }
    }
}

impl Pl031 {
    pub fn new() -> Pl031 {
        Pl031::default()
    }
}

impl MmioDevice for Pl031 {
    fn read(&self, offset: u64, _size: u32) -> u64 {
        let r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        match offset {
            reg::DR => (host_seconds() as i64).wrapping_add(r.offset) as u32 as u64,
            reg::MR => r.mr as u64,
            reg::LR => (host_seconds() as i64).wrapping_add(r.offset) as u32 as u64,
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
        let mut r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        match offset {
            reg::MR => r.mr = value as u32,
            reg::LR => r.offset = (value as u32 as i64) - host_seconds() as i64,
            reg::IMSC => r.imsc = (value & 1) as u32,
            reg::ICR => r.ris &= !(value as u32 & 1),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_host_seconds_and_can_be_loaded() {
        let rtc = Pl031::new();
        let now = host_seconds();
        let dr = rtc.read(reg::DR, 4);
        assert!(dr >= now as u32 as u64 && dr <= now as u32 as u64 + 2);
        rtc.write(reg::LR, 4, 1000);
        let dr = rtc.read(reg::DR, 4);
        assert!((1000..1003).contains(&dr), "{dr}");
        assert_eq!(rtc.read(0xfe0, 4), 0x31);
        assert_eq!(rtc.read(0xffc, 4), 0xb1);
    }
}
