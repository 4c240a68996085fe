//! PL011 UART (ARM PrimeCell UART PL011 TRM, DDI 0183): enough for Linux's amba-pl011
//! driver and for bare-metal guests.
//!
//! Transmit: bytes go to the output sink at once (the TX FIFO is always empty: TXFE set,
//! TXFF and BUSY clear), whatever the enables say, as QEMU does, so guests that never
//! program the UART can still print. Output is flushed at a newline and otherwise soon
//! after (the board arms an alarm through [`Pl011::with_flush_hook`]).
//!
//! Receive: bytes are pushed by the host side ([`Pl011::push_rx`], or a reader thread from
//! [`Pl011::spawn_reader`]) into a [`FIFO_DEPTH`]-entry FIFO (one holding register when
//! LCR_H.FEN is clear), only while UARTEN and RXE are set; a full FIFO holds the host side
//! back instead of overrunning. DR reads return data with the error bits clear.
//!
//! Interrupts (IMSC/RIS/MIS/ICR): RX when the FIFO fill level reaches the IFLS trigger
//! (FIFO mode) or a byte arrives (holding-register mode), cleared by reading below it;
//! RX timeout when received data waits and the line went idle (immediately after each
//! burst: we have no bit timing), cleared when the FIFO empties; TX latched whenever the
//! transmitter is at or below its trigger, which with instant transmission is after every
//! byte and when the transmitter gets enabled. Modem and error interrupts never assert.
//! The combined interrupt (UARTINTR) drives one level-sensitive output.

use softmmu::MmioDevice;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// Register offsets.
pub mod reg {
    pub const DR: u64 = 0x000;
    pub const RSR: u64 = 0x004;
    pub const FR: u64 = 0x018;
    pub const ILPR: u64 = 0x020;
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

/// FR bits.
pub mod fr {
    pub const BUSY: u64 = 1 << 3;
    pub const RXFE: u64 = 1 << 4;
    pub const TXFF: u64 = 1 << 5;
    pub const RXFF: u64 = 1 << 6;
    pub const TXFE: u64 = 1 << 7;
}

/// Interrupt bits (IMSC, RIS, MIS, ICR).
pub mod int {
    pub const RX: u32 = 1 << 4;
    pub const TX: u32 = 1 << 5;
    pub const RT: u32 = 1 << 6;
    pub const ALL: u32 = 0x7ff;
}

/// CR bits.
pub mod cr {
    pub const UARTEN: u64 = 1 << 0;
    pub const TXE: u64 = 1 << 8;
    pub const RXE: u64 = 1 << 9;
}

/// LCR_H.FEN: FIFOs enabled.
pub const LCR_H_FEN: u64 = 1 << 4;
/// Depth of the receive FIFO.
pub const FIFO_DEPTH: usize = 32;

const ID_BYTES: [u64; 8] = [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1];

/// Where transmitted bytes go.
pub type Sink = Box<dyn Write + Send>;
/// The interrupt output (level).
pub type IrqOut = Box<dyn Fn(bool) + Send + Sync>;
/// Called (outside the UART's locks) when output is waiting in the sink's buffer without
/// a newline; the board calls [`Pl011::flush`] soon after.
pub type FlushHook = Box<dyn Fn() + Send + Sync>;

struct Regs {
    ilpr: u64,
    ibrd: u64,
    fbrd: u64,
    lcr_h: u64,
    cr: u64,
    ifls: u64,
    imsc: u32,
    ris: u32,
    dmacr: u64,
    rx: VecDeque<u8>,
    /// The level last driven on the interrupt output.
    line: bool,
    /// Input is shut: the reader thread stops pushing.
    closed: bool,
}

impl Regs {
    fn fifo_enabled(&self) -> bool {
        self.lcr_h & LCR_H_FEN != 0
    }

    fn rx_capacity(&self) -> usize {
        if self.fifo_enabled() {
            FIFO_DEPTH
        } else {
            1
        }
    }

    fn rx_enabled(&self) -> bool {
        self.cr & (cr::UARTEN | cr::RXE) == cr::UARTEN | cr::RXE
    }

    fn tx_enabled(&self) -> bool {
        self.cr & (cr::UARTEN | cr::TXE) == cr::UARTEN | cr::TXE
    }

    fn can_receive(&self) -> bool {
        self.rx_enabled() && self.rx.len() < self.rx_capacity()
    }

    /// The RX FIFO fill level at which the RX interrupt asserts (IFLS.RXIFLSEL).
    fn rx_trigger(&self) -> usize {
        let eighths = match (self.ifls >> 3) & 7 {
            0 => 1,
            1 => 2,
            3 => 6,
            4 => 7,
            _ => 4,
        };
        (FIFO_DEPTH * eighths / 8).max(1)
    }

    fn rx_level_reached(&self) -> bool {
        if self.fifo_enabled() {
            self.rx.len() >= self.rx_trigger()
        } else {
            !self.rx.is_empty()
        }
    }

    fn fr(&self) -> u64 {
        let mut v = fr::TXFE;
        if self.rx.is_empty() {
            v |= fr::RXFE;
        }
        if self.rx.len() >= self.rx_capacity() {
            v |= fr::RXFF;
        }
        v
    }

    fn read_dr(&mut self) -> u64 {
        let Some(b) = self.rx.pop_front() else {
            return 0;
        };
        if !self.rx_level_reached() {
            self.ris &= !int::RX;
        }
        if self.rx.is_empty() {
            self.ris &= !int::RT;
        }
        b as u64
    }

    /// Takes as many of `data` as fit; returns how many.
    fn push(&mut self, data: &[u8]) -> usize {
        let mut n = 0;
        for &b in data {
            if !self.can_receive() {
                break;
            }
            let below = !self.rx_level_reached();
            self.rx.push_back(b);
            if below && self.rx_level_reached() {
                self.ris |= int::RX;
            }
            n += 1;
        }
        if !self.rx.is_empty() && n > 0 {
            // The burst is over: the line is idle with data waiting.
            self.ris |= int::RT;
        }
        n
    }
}

pub struct Pl011 {
    regs: Mutex<Regs>,
    /// Signalled when the RX side can take more (or input closed).
    space: Condvar,
    out: Mutex<Sink>,
    irq: Option<IrqOut>,
    flush_hook: Option<FlushHook>,
}

impl Pl011 {
    pub fn new(out: Sink) -> Pl011 {
        let regs = Regs {
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: cr::TXE | cr::RXE,
            ifls: 0x12,
            imsc: 0,
            ris: 0,
            dmacr: 0,
            rx: VecDeque::with_capacity(FIFO_DEPTH),
            line: false,
            closed: false,
        };
        Pl011 {
            regs: Mutex::new(regs),
            space: Condvar::new(),
            out: Mutex::new(out),
            irq: None,
            flush_hook: None,
        }
    }

    /// Connects the interrupt output (GIC SPI 1 on the virt board).
    pub fn with_irq(mut self, irq: IrqOut) -> Pl011 {
        self.irq = Some(irq);
        self
    }

    /// Asks for a [`flush`](Self::flush) soon after output without a newline.
    pub fn with_flush_hook(mut self, hook: FlushHook) -> Pl011 {
        self.flush_hook = Some(hook);
        self
    }

    fn lock(&self) -> MutexGuard<'_, Regs> {
        self.regs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Drives the interrupt output from RIS & IMSC (call with the lock held, after any
    /// change, so levels reach the GIC in order).
    fn update(&self, r: &mut Regs) {
        let level = r.ris & r.imsc != 0;
        if level != r.line {
            r.line = level;
            if let Some(irq) = &self.irq {
                irq(level);
            }
        }
    }

    pub fn flush(&self) {
        let _ = self.out.lock().unwrap_or_else(|e| e.into_inner()).flush();
    }

    /// Host side: offers received bytes; returns how many were taken (0 when the receiver
    /// is disabled or the FIFO is full).
    pub fn push_rx(&self, data: &[u8]) -> usize {
        let mut r = self.lock();
        let n = r.push(data);
        self.update(&mut r);
        n
    }

    /// Host side: delivers all of `data`, waiting while the receiver is disabled or full.
    /// Returns false if input was closed first.
    pub fn push_rx_blocking(&self, mut data: &[u8]) -> bool {
        let mut r = self.lock();
        while !data.is_empty() {
            if r.closed {
                return false;
            }
            if !r.can_receive() {
                r = self.space.wait(r).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            let n = r.push(data);
            self.update(&mut r);
            data = &data[n..];
        }
        true
    }

    /// Stops accepting host input (a reader thread ends after its current read).
    pub fn close_input(&self) {
        self.lock().closed = true;
        self.space.notify_all();
    }

    /// Feeds the UART from `src` on a new thread until end of input, a read error, or
    /// [`close_input`](Self::close_input). The thread may stay blocked in `read` after
    /// that (standard input cannot be interrupted portably); it then exits without
    /// touching the UART.
    pub fn spawn_reader(
        self: &Arc<Self>,
        mut src: Box<dyn Read + Send>,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        let uart = self.clone();
        std::thread::Builder::new()
            .name("pl011-input".into())
            .spawn(move || {
                let mut buf = [0u8; 256];
                loop {
                    let n = match src.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(_) => break,
                    };
                    if !uart.push_rx_blocking(&buf[..n]) {
                        break;
                    }
                }
            })
    }

    fn transmit(&self, b: u8) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        let _ = out.write_all(&[b]);
        if b == b'\n' {
            let _ = out.flush();
        } else if let Some(hook) = &self.flush_hook {
            drop(out);
            hook();
        }
    }
}

impl MmioDevice for Pl011 {
    fn read(&self, offset: u64, _size: u32) -> u64 {
        let mut r = self.lock();
        match offset {
            reg::DR => {
                let v = r.read_dr();
                self.update(&mut r);
                if r.can_receive() {
                    self.space.notify_all();
                }
                v
            }
            reg::FR => r.fr(),
            reg::ILPR => r.ilpr,
            reg::IBRD => r.ibrd,
            reg::FBRD => r.fbrd,
            reg::LCR_H => r.lcr_h,
            reg::CR => r.cr,
            reg::IFLS => r.ifls,
            reg::IMSC => r.imsc as u64,
            reg::RIS => r.ris as u64,
            reg::MIS => (r.ris & r.imsc) as u64,
            reg::DMACR => r.dmacr,
            o if (reg::ID_BASE..reg::ID_BASE + 32).contains(&o) && o % 4 == 0 => {
                ID_BYTES[((o - reg::ID_BASE) / 4) as usize]
            }
            _ => 0,
        }
    }

    fn write(&self, offset: u64, _size: u32, value: u64) {
        if offset == reg::DR {
            self.transmit(value as u8);
            let mut r = self.lock();
            r.ris |= int::TX;
            self.update(&mut r);
            return;
        }
        let mut r = self.lock();
        let could_receive = r.can_receive();
        match offset {
            reg::RSR => {} // clears the (always clear) error status
            reg::ILPR => r.ilpr = value & 0xff,
            reg::IBRD => r.ibrd = value & 0xffff,
            reg::FBRD => r.fbrd = value & 0x3f,
            reg::LCR_H => r.lcr_h = value & 0xff,
            reg::CR => {
                let was = r.tx_enabled();
                r.cr = value & 0xff87;
                if !was && r.tx_enabled() {
                    r.ris |= int::TX;
                }
            }
            reg::IFLS => r.ifls = value & 0x3f,
            reg::IMSC => r.imsc = value as u32 & int::ALL,
            reg::ICR => r.ris &= !(value as u32),
            reg::DMACR => r.dmacr = value & 7,
            _ => return,
        }
        self.update(&mut r);
        if !could_receive && r.can_receive() {
            self.space.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

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

    /// A UART with its interrupt output recorded.
    fn uart() -> (Arc<Pl011>, Arc<AtomicBool>, Shared) {
        let s = Shared::default();
        let line = Arc::new(AtomicBool::new(false));
        let l = line.clone();
        let u = Pl011::new(Box::new(s.clone()))
            .with_irq(Box::new(move |v| l.store(v, Ordering::SeqCst)));
        (Arc::new(u), line, s)
    }

    /// As Linux's pl011_startup: FIFOs on, RX/TX at 1/2, enabled, RX and RT unmasked.
    fn linux_setup(u: &Pl011) {
        u.write(reg::LCR_H, 4, LCR_H_FEN | (3 << 5));
        u.write(reg::IFLS, 4, 0x12);
        u.write(reg::CR, 4, cr::UARTEN | cr::TXE | cr::RXE);
        u.write(reg::ICR, 4, int::ALL as u64);
        u.write(reg::IMSC, 4, (int::RX | int::RT) as u64);
    }

    #[test]
    fn transmits_and_reports_ids() {
        let (u, _, s) = uart();
        for b in b"hi\n" {
            u.write(reg::DR, 4, *b as u64);
        }
        assert_eq!(&*s.0.lock().unwrap(), b"hi\n");
        let f = u.read(reg::FR, 4);
        assert_eq!(f & (fr::TXFF | fr::BUSY), 0, "TXFF and BUSY stay clear");
        assert_ne!(f & fr::TXFE, 0);
        assert_eq!(u.read(0xfe0, 4), 0x11);
        assert_eq!(u.read(0xffc, 4), 0xb1);
    }

    #[test]
    fn rx_fifo_fills_to_depth_and_flags_follow() {
        let (u, _, _) = uart();
        assert_eq!(u.push_rx(b"x"), 0, "disabled at reset (UARTEN clear)");
        linux_setup(&u);
        assert_ne!(u.read(reg::FR, 4) & fr::RXFE, 0);
        let data: Vec<u8> = (0..40).collect();
        assert_eq!(u.push_rx(&data), FIFO_DEPTH);
        let f = u.read(reg::FR, 4);
        assert_eq!(f & (fr::RXFE | fr::RXFF), fr::RXFF);
        for i in 0..FIFO_DEPTH as u64 {
            assert_eq!(u.read(reg::DR, 4), i, "in order, error bits clear");
        }
        assert_eq!(u.read(reg::FR, 4) & (fr::RXFE | fr::RXFF), fr::RXFE);
        assert_eq!(u.read(reg::DR, 4), 0, "empty reads zero");
    }

    #[test]
    fn without_fen_the_receiver_holds_one_byte() {
        let (u, line, _) = uart();
        u.write(reg::CR, 4, cr::UARTEN | cr::TXE | cr::RXE);
        u.write(reg::IMSC, 4, int::RX as u64);
        assert_eq!(u.push_rx(b"ab"), 1);
        assert_ne!(u.read(reg::FR, 4) & fr::RXFF, 0);
        assert!(
            line.load(Ordering::SeqCst),
            "a byte in the holding register asserts RX"
        );
        assert_eq!(u.read(reg::DR, 4), b'a' as u64);
        assert!(!line.load(Ordering::SeqCst));
        assert_eq!(u.push_rx(b"b"), 1);
    }

    #[test]
    fn rx_trigger_level_and_timeout_interrupts() {
        let (u, line, _) = uart();
        linux_setup(&u);
        // Below the 1/2 trigger (16 bytes): only the timeout fires.
        u.push_rx(b"abc");
        assert_eq!(u.read(reg::RIS, 4) as u32 & (int::RX | int::RT), int::RT);
        assert_eq!(u.read(reg::MIS, 4) as u32, int::RT);
        assert!(line.load(Ordering::SeqCst));
        for _ in 0..3 {
            u.read(reg::DR, 4);
        }
        assert_eq!(
            u.read(reg::RIS, 4) as u32 & int::RT,
            0,
            "emptied: timeout clears"
        );
        assert!(!line.load(Ordering::SeqCst));
        // Reaching the trigger sets RX; reading below it clears RX.
        let data = [b'z'; 16];
        u.push_rx(&data);
        assert_ne!(u.read(reg::RIS, 4) as u32 & int::RX, 0);
        u.read(reg::DR, 4);
        assert_eq!(u.read(reg::RIS, 4) as u32 & int::RX, 0);
        assert!(
            line.load(Ordering::SeqCst),
            "timeout still pending with data left"
        );
        // ICR clears the timeout; masking keeps the line low.
        u.write(reg::ICR, 4, int::RT as u64);
        assert!(!line.load(Ordering::SeqCst));
        u.write(reg::IMSC, 4, 0);
        u.push_rx(b"q");
        assert!(!line.load(Ordering::SeqCst));
        assert_ne!(
            u.read(reg::RIS, 4) as u32 & int::RT,
            0,
            "raw status still set"
        );
        // A lower trigger (1/8 = 4 bytes).
        u.write(reg::IFLS, 4, 0);
        while u.read(reg::FR, 4) & fr::RXFE == 0 {
            u.read(reg::DR, 4);
        }
        u.push_rx(b"1234");
        assert_ne!(u.read(reg::RIS, 4) as u32 & int::RX, 0);
    }

    #[test]
    fn tx_interrupt_asserts_when_enabled_and_clears_with_icr() {
        let (u, line, s) = uart();
        assert_eq!(u.read(reg::RIS, 4), 0);
        u.write(reg::CR, 4, cr::UARTEN | cr::TXE | cr::RXE);
        assert_ne!(u.read(reg::RIS, 4) as u32 & int::TX, 0, "enabling set TX");
        u.write(reg::ICR, 4, int::TX as u64);
        u.write(reg::IMSC, 4, int::TX as u64);
        assert!(!line.load(Ordering::SeqCst));
        u.write(reg::DR, 4, b'x' as u64);
        assert!(line.load(Ordering::SeqCst), "FIFO drained below trigger");
        assert_eq!(u.read(reg::MIS, 4) as u32, int::TX);
        // Linux's stop_tx masks it.
        u.write(reg::IMSC, 4, 0);
        assert!(!line.load(Ordering::SeqCst));
        assert_eq!(&*s.0.lock().unwrap(), b"x");
    }

    #[test]
    fn reader_thread_delivers_everything_with_backpressure() {
        let (u, _, _) = uart();
        linux_setup(&u);
        let data: Vec<u8> = (0..200u32).map(|i| i as u8).collect();
        let h = u
            .spawn_reader(Box::new(std::io::Cursor::new(data.clone())))
            .unwrap();
        let mut got = Vec::new();
        let end = Instant::now() + Duration::from_secs(10);
        while got.len() < data.len() && Instant::now() < end {
            if u.read(reg::FR, 4) & fr::RXFE == 0 {
                got.push(u.read(reg::DR, 4) as u8);
            } else {
                std::thread::yield_now();
            }
        }
        assert_eq!(got, data);
        h.join().unwrap();
    }

    #[test]
    fn closing_input_ends_a_blocked_reader() {
        let (u, _, _) = uart(); // never enabled: the reader blocks
        let h = u
            .spawn_reader(Box::new(std::io::Cursor::new(vec![1u8; 10])))
            .unwrap();
        std::thread::sleep(Duration::from_millis(20));
        u.close_input();
        h.join().unwrap();
    }

    #[test]
    fn flush_hook_runs_for_partial_lines_only() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let u = Pl011::new(Box::new(std::io::sink())).with_flush_hook(Box::new(move || {
            c.fetch_add(1, Ordering::SeqCst);
        }));
        u.write(reg::DR, 4, b'#' as u64);
        u.write(reg::DR, 4, b'\n' as u64);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
