//! The host's standard input as the UART's receive side.
//!
//! When standard input is a terminal and the emulator is in the foreground, the terminal
//! is put in raw mode for the run (no line editing, no local echo — the guest echoes —
//! and no signal keys, so Ctrl-C reaches the guest), as QEMU's `-nographic` does; the
//! previous mode is restored when the [`Console`] is dropped. In that mode the escape
//! Ctrl-A starts a command: `Ctrl-A x` stops the machine, `Ctrl-A Ctrl-A` sends one
//! Ctrl-A, `Ctrl-A h` prints this help. A terminal that is not in the foreground is not
//! read at all (reading would stop the process with SIGTTIN). Pipes and files are read
//! as they are, with no escapes; end of input just stops reading.

use crate::pl011::Pl011;
use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

const CTRL_A: u8 = 0x01;
const HELP: &str = "\r\nC-a x    stop the machine\r\nC-a C-a  send C-a\r\nC-a h    this help\r\n";

/// Filters the escape sequences out of a terminal's byte stream.
pub struct Escapes<R> {
    inner: R,
    after_ctrl_a: bool,
    quit: Box<dyn Fn() + Send>,
    done: bool,
}

impl<R: Read> Escapes<R> {
    pub fn new(inner: R, quit: Box<dyn Fn() + Send>) -> Escapes<R> {
        Escapes {
            inner,
            after_ctrl_a: false,
            quit,
            done: false,
        }
    }
}

impl<R: Read> Read for Escapes<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.done {
                return Ok(0);
            }
            // Leave room for the Ctrl-A of an unknown escape, which is passed on.
            let room = buf.len().div_ceil(2);
            let mut raw = vec![0u8; room];
            let n = self.inner.read(&mut raw)?;
            if n == 0 {
                return Ok(0);
            }
            let mut out = 0;
            for &b in &raw[..n] {
                if self.after_ctrl_a {
                    self.after_ctrl_a = false;
                    match b {
                        b'x' | b'X' => {
                            self.done = true;
                            eprint!("\r\nvirt: stopped by C-a x\r\n");
                            (self.quit)();
                            return Ok(out);
                        }
                        b'h' | b'H' | b'?' => eprint!("{HELP}"),
                        CTRL_A => {
                            buf[out] = CTRL_A;
                            out += 1;
                        }
                        other => {
                            buf[out] = CTRL_A;
                            buf[out + 1] = other;
                            out += 2;
                        }
                    }
                } else if b == CTRL_A {
                    self.after_ctrl_a = true;
                } else {
                    buf[out] = b;
                    out += 1;
                }
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

/// Standard input feeding the UART of whichever board is running: one reader thread for
/// the whole process (a reboot builds a new board and UART; the thread and the terminal
/// mode stay). Dropping the last handle restores the terminal.
pub struct Console {
    shared: Arc<Shared>,
    _raw: Option<RawMode>,
}

/// The running board's side: its UART and how to stop it (for `Ctrl-A x`).
struct Target {
    uart: Arc<Pl011>,
    stop: Box<dyn Fn() + Send>,
}

#[derive(Default)]
struct Shared {
    target: Mutex<Option<Target>>,
    connected: Condvar,
    quit: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<Target>> {
        self.target.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a connected UART; `None` once the user quit.
    fn uart(&self) -> Option<Arc<Pl011>> {
        let mut t = self.lock();
        loop {
            if self.quit.load(Ordering::Acquire) {
                return None;
            }
            if let Some(t) = t.as_ref() {
                return Some(t.uart.clone());
            }
            t = self.connected.wait(t).unwrap_or_else(|e| e.into_inner());
        }
    }
}

impl Console {
    /// Starts reading standard input (on a terminal: raw mode and escapes). `None` if
    /// standard input is a background terminal or the thread cannot start.
    pub fn start() -> Option<Console> {
        let shared = Arc::new(Shared::default());
        let stdin = std::io::stdin();
        let src: Box<dyn Read + Send> = if stdin.is_terminal() {
            if !raw::in_foreground() {
                return None;
            }
            let sh = shared.clone();
            Box::new(Escapes::new(
                stdin,
                Box::new(move || {
                    sh.quit.store(true, Ordering::Release);
                    if let Some(t) = sh.lock().as_ref() {
                        (t.stop)();
                    }
                    sh.connected.notify_all();
                }),
            ))
        } else {
            Box::new(stdin)
        };
        let raw = if std::io::stdin().is_terminal() {
            RawMode::enter()
        } else {
            None
        };
        let sh = shared.clone();
        // The thread is detached: it may stay blocked reading until the process exits.
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || feed(src, &sh))
            .ok()?;
        Some(Console { shared, _raw: raw })
    }

    /// Feeds `uart` from now on; `stop` ends its run (`Ctrl-A x`).
    pub fn connect(&self, uart: &Arc<Pl011>, stop: Box<dyn Fn() + Send>) {
        *self.shared.lock() = Some(Target {
            uart: uart.clone(),
            stop,
        });
        self.shared.connected.notify_all();
    }

    /// Stops feeding the connected UART (its run ended); input waits for the next one.
    pub fn disconnect(&self) {
        if let Some(t) = self.shared.lock().take() {
            t.uart.close_input();
        }
    }

    /// Whether the user stopped the machine (`Ctrl-A x`): no reboot then.
    pub fn quit_requested(&self) -> bool {
        self.shared.quit.load(Ordering::Acquire)
    }
}

/// The reader thread: each chunk goes to the UART connected at the time; a chunk cut
/// short by the end of a run (a reset) is dropped, as a real UART loses its FIFO.
fn feed(mut src: Box<dyn Read + Send>, shared: &Shared) {
    let mut buf = [0u8; 256];
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let Some(uart) = shared.uart() else { return };
        uart.push_rx_blocking(&buf[..n]);
    }
}

/// The terminal's previous mode, restored on drop.
pub struct RawMode {
    #[cfg(unix)]
    saved: libc::termios,
}

#[cfg(unix)]
mod raw {
    use super::RawMode;

    /// Whether this process is in the terminal's foreground process group.
    pub fn in_foreground() -> bool {
        // SAFETY: plain libc calls on file descriptor 0; no memory is passed.
        unsafe { libc::tcgetpgrp(0) == libc::getpgrp() }
    }

    impl RawMode {
        pub fn enter() -> Option<RawMode> {
            // SAFETY: `termios` is plain old data; an all-zero value is valid and is
            // overwritten by tcgetattr before use.
            let mut t: libc::termios = unsafe { std::mem::zeroed() };
            // SAFETY: `t` is a valid, writable termios.
            if unsafe { libc::tcgetattr(0, &mut t) } != 0 {
                return None;
            }
            let saved = t;
            t.c_iflag &= !(libc::IGNBRK
                | libc::BRKINT
                | libc::PARMRK
                | libc::ISTRIP
                | libc::INLCR
                | libc::IGNCR
                | libc::ICRNL
                | libc::IXON);
            t.c_lflag &= !(libc::ECHO | libc::ECHONL | libc::ICANON | libc::ISIG | libc::IEXTEN);
            t.c_cc[libc::VMIN] = 1;
            t.c_cc[libc::VTIME] = 0;
            // SAFETY: `t` is a valid termios obtained from tcgetattr and modified in place.
            if unsafe { libc::tcsetattr(0, libc::TCSANOW, &t) } != 0 {
                return None;
            }
            Some(RawMode { saved })
        }
    }

    impl Drop for RawMode {
        fn drop(&mut self) {
            // SAFETY: `saved` is the termios tcgetattr returned for this descriptor.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &self.saved);
            }
        }
    }
}

#[cfg(not(unix))]
mod raw {
    use super::RawMode;

    pub fn in_foreground() -> bool {
        true
    }

    impl RawMode {
        pub fn enter() -> Option<RawMode> {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(mut r: impl Read) -> Vec<u8> {
        let mut v = Vec::new();
        let mut buf = [0u8; 8];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                return v;
            }
            v.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn escapes_are_filtered_and_ctrl_a_x_quits() {
        let quit = Arc::new(AtomicBool::new(false));
        let q = quit.clone();
        let input: &[u8] = b"ab\x01\x01c\x01zd\x01xnot seen";
        let got = read_all(Escapes::new(
            input,
            Box::new(move || q.store(true, Ordering::SeqCst)),
        ));
        assert_eq!(got, b"ab\x01c\x01zd");
        assert!(quit.load(Ordering::SeqCst));
    }

    /// Reads the UART's receive FIFO through its registers (DR at 0, FR.RXFE = bit 4).
    fn drain(u: &Pl011) -> Vec<u8> {
        use softmmu::MmioDevice;
        let mut v = Vec::new();
        while u.read(0x18, 4) & 0x10 == 0 {
            v.push(u.read(0, 4) as u8);
        }
        v
    }

    /// One reader feeds whichever UART is connected: input waits across a reboot.
    #[test]
    fn input_goes_to_the_uart_connected_at_the_time() {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
        struct Chan(std::sync::mpsc::Receiver<Vec<u8>>);
        impl Read for Chan {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                match self.0.recv() {
                    Ok(v) => {
                        buf[..v.len()].copy_from_slice(&v);
                        Ok(v.len())
                    }
                    Err(_) => Ok(0),
                }
            }
        }
        let sh = shared.clone();
        let t = std::thread::spawn(move || feed(Box::new(Chan(rx)), &sh));
        let console = Console {
            shared: shared.clone(),
            _raw: None,
        };
        let uart = || {
            use softmmu::MmioDevice;
            let u = Arc::new(Pl011::new(Box::new(std::io::sink())));
            u.write(0x30, 4, 0x301); // CR: UARTEN | TXE | RXE
            u
        };
        let first = uart();
        console.connect(&first, Box::new(|| {}));
        tx.send(b"ab".to_vec()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let mut got = Vec::new();
        while got.len() < 2 && std::time::Instant::now() < deadline {
            got.extend(drain(&first));
        }
        assert_eq!(got, b"ab");
        console.disconnect();
        // Sent between two boots: delivered to the next UART.
        tx.send(b"cd".to_vec()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let second = uart();
        console.connect(&second, Box::new(|| {}));
        let mut got = Vec::new();
        while got.len() < 2 && std::time::Instant::now() < deadline {
            got.extend(drain(&second));
        }
        assert_eq!(got, b"cd");
        assert!(drain(&first).is_empty());
        assert!(!console.quit_requested());
        drop(tx);
        t.join().unwrap();
    }

    #[test]
    fn plain_input_passes_through() {
        let input: &[u8] = b"echo hi\r";
        assert_eq!(read_all(Escapes::new(input, Box::new(|| {}))), b"echo hi\r");
    }
}
