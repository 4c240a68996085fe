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
use std::sync::Arc;

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

/// Standard input attached to a UART for one run; dropping it restores the terminal and
/// stops feeding the UART.
pub struct Console {
    uart: Arc<Pl011>,
    _raw: Option<RawMode>,
}

impl Drop for Console {
    fn drop(&mut self) {
        self.uart.close_input();
    }
}

impl Console {
    /// Starts feeding `uart` from standard input; `quit` is called for `Ctrl-A x`.
    /// `None` if standard input is a background terminal or the thread cannot start.
    pub fn attach(uart: &Arc<Pl011>, quit: Box<dyn Fn() + Send>) -> Option<Console> {
        let stdin = std::io::stdin();
        let src: Box<dyn Read + Send> = if stdin.is_terminal() {
            if !raw::in_foreground() {
                return None;
            }
            Box::new(Escapes::new(stdin, quit))
        } else {
            Box::new(stdin)
        };
        let raw = if std::io::stdin().is_terminal() {
            RawMode::enter()
        } else {
            None
        };
        // The thread is detached: it may stay blocked reading until the process exits.
        uart.spawn_reader(src).ok()?;
        Some(Console {
            uart: uart.clone(),
            _raw: raw,
        })
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
    use std::sync::atomic::{AtomicBool, Ordering};

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

    #[test]
    fn plain_input_passes_through() {
        let input: &[u8] = b"echo hi\r";
        assert_eq!(read_all(Escapes::new(input, Box::new(|| {}))), b"echo hi\r");
    }
}
