//! PL011 UART: transmit to the host's standard output (receive comes with a later issue).

use softmmu::MmioDevice;
use std::io::Write;
use std::sync::Mutex;

/// Register offsets (ARM PrimeCell UART PL011 TRM).
pub mod reg {
    pub const DR: u64 = 0x000;
    pub const FR: u64 = 0x018;
    pub const IBRD: u64 = 0x024;
    pub const FBRD: u64 = 0x028;
    pub const LCR_H: u64 = 0x02c;
    pub const CR: u64 = 0x030;
    pub const IFLS: u64 = 0x034;
    pub const IMSC: u64 = 0x038;
    pub const RIS: u64 = 0x03c;
    pub const MIS: u64 = 0x040;
    pub const ICR: u64 = 0x044;
    pub const DMACR: u64 = 0x048;
    /// PrimeCell peripheral and cell ID registers, 0xfe0..0xffc.
    pub const ID_BASE: u64 = 0xfe0;
}

/// FR bits: receive FIFO empty, transmit FIFO empty (TXFF is never set: output is
/// written synchronously).
const FR_RXFE: u64 = 1 << 4;
const FR_TXFE: u64 = 1 << 7;
const ID_BYTES: [u64; 8] = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

#[derive(Default)]
struct Regs {
    ibrd: u64,
    fbrd: u64,
    lcr_h: u64,
    cr: u64,
    ifls: u64,
    imsc: u64,
    dmacr: u64,
}

/// Where transmitted bytes go.
pub type Sink = Box<dyn Write + Send>;

pub struct Pl011 {
    regs: Mutex<Regs>,
    out: Mutex<Sink>,
}

impl Pl011 {
    pub fn new(out: Sink) -> Pl011 {
        let regs = Regs {
            cr: 0x300,
            ifls: 0x12,
            ..Regs::default()
        };
        Pl011 {
            regs: Mutex::new(regs),
            out: Mutex::new(out),
        }
    }

    pub fn flush(&self) {
        let _ = self.out.lock().unwrap_or_else(|e| e.into_inner()).flush();
    }
}

impl MmioDevice for Pl011 {
    fn read(&self, offset: u64, _size: u32) -> u64 {
        let r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        match offset {
            reg::DR => 0,
            reg::FR => FR_RXFE | FR_TXFE,
            reg::IBRD => r.ibrd,
            reg::FBRD => r.fbrd,
            reg::LCR_H => r.lcr_h,
            reg::CR => r.cr,
            reg::IFLS => r.ifls,
            reg::IMSC => r.imsc,
            reg::RIS | reg::MIS => 0,
            reg::DMACR => r.dmacr,
            o if (reg::ID_BASE..reg::ID_BASE + 32).contains(&o) && o % 4 == 0 => {
                ID_BYTES[((o - reg::ID_BASE) / 4) as usize]
            }
            _ => 0,
        }
    }

    fn write(&self, offset: u64, _size: u32, value: u64) {
        if offset == reg::DR {
            let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
            let b = value as u8;
            let _ = out.write_all(&[b]);
            if b == b'\n' {
                let _ = out.flush();
            }
            return;
        }
        let mut r = self.regs.lock().unwrap_or_else(|e| e.into_inner());
        match offset {
            reg::IBRD => r.ibrd = value & 0xffff,
            reg::FBRD => r.fbrd = value & 0x3f,
            reg::LCR_H => r.lcr_h = value & 0xff,
            reg::CR => r.cr = value & 0xffff,
            reg::IFLS => r.ifls = value & 0x3f,
            reg::IMSC => r.imsc = value & 0x7ff,
            reg::DMACR => r.dmacr = value & 7,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn transmits_and_reports_ids() {
        let s = Shared::default();
        let u = Pl011::new(Box::new(s.clone()));
        for b in b"hi\n" {
            u.write(reg::DR, 4, *b as u64);
        }
        assert_eq!(&*s.0.lock().unwrap(), b"hi\n");
        assert_eq!(u.read(reg::FR, 4) & (1 << 5), 0, "TXFF must stay clear");
        assert_eq!(u.read(0xfe0, 4), 0x11);
        assert_eq!(u.read(0xffc, 4), 0xb1);
    }
}
