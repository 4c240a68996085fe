//! Host signals, as QEMU handles them:
//!
//! - SIGINT, SIGTERM, SIGHUP stop the machine cleanly: the vCPUs stop, the board is
//!   dropped (serial and log files flushed, disk images closed), the terminal leaves raw
//!   mode, `virt: terminating on signal N from pid P` goes to standard error and the exit
//!   status is 0 (QEMU 7.2 prints the same line and exits with 0).
//! - SIGUSR1 dumps each vCPU's state to standard error without stopping anything: run
//!   state (from its flags alone, so a vCPU stuck outside guest code still shows), TBs
//!   executed, and a few samples of its PC and EL taken by queueing work on it (a vCPU
//!   that does not answer within a short time is reported as such). `cargo xtask soak`
//!   sends it when a boot stops printing.
//!
//! The handler only records the signal and writes one byte to a pipe; a thread reads the
//! pipe and does the work.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arm_cpu::ArmCpu;
use vcpu_sched::Control;

static PIPE_WRITE: AtomicI32 = AtomicI32::new(-1);
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(0);
static LAST_SENDER: AtomicI32 = AtomicI32::new(0);

extern "C" fn on_signal(sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let pid = if info.is_null() {
        0
    } else {
        // SAFETY: the kernel passes a valid siginfo for an SA_SIGINFO handler; si_pid is
        // meaningful for signals sent by kill(2), and reading it is harmless otherwise.
        unsafe { (*info).si_pid() }
    };
    if sig != libc::SIGUSR1 {
        LAST_SIGNAL.store(sig, Ordering::SeqCst);
        LAST_SENDER.store(pid, Ordering::SeqCst);
    }
    let fd = PIPE_WRITE.load(Ordering::SeqCst);
    if fd >= 0 {
        let b = sig as u8;
        // SAFETY: write(2) is async-signal-safe; `b` lives for the call.
        unsafe {
            libc::write(fd, (&b as *const u8).cast(), 1);
        }
    }
}

/// The machine the signals act on (set while a board runs).
#[derive(Default)]
pub struct Signals {
    machine: Mutex<Option<Control<ArmCpu>>>,
}

impl Signals {
    /// Installs the handlers and starts the thread serving them. `None` (with a
    /// message) if the pipe or a handler cannot be set up: the emulator then runs with
    /// the default dispositions.
    pub fn install() -> Option<Arc<Signals>> {
        let mut fds = [0 as RawFd; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 returns.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            eprintln!(
                "virt: no signal handling: {}",
                std::io::Error::last_os_error()
            );
            return None;
        }
        PIPE_WRITE.store(fds[1], Ordering::SeqCst);
        let signals = Arc::new(Signals::default());
        let me = signals.clone();
        let reader = fds[0];
        let spawned = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || me.serve(reader));
        if spawned.is_err() {
            return None;
        }
        for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGUSR1] {
            // SAFETY: a zeroed sigaction is valid; the handler has the SA_SIGINFO
            // signature and only does async-signal-safe work.
            unsafe {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = on_signal as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
                libc::sigemptyset(&mut sa.sa_mask);
                if libc::sigaction(sig, &sa, std::ptr::null_mut()) != 0 {
                    eprintln!("virt: cannot handle signal {sig}");
                }
            }
        }
        Some(signals)
    }

    /// The board now running (its vCPUs are what a signal stops or dumps).
    pub fn attach(&self, control: Control<ArmCpu>) {
        *self.lock() = Some(control);
        // A termination that came before the board existed stops it at once.
        if self.terminated().is_some() {
            self.stop();
        }
    }

    pub fn detach(&self) {
        *self.lock() = None;
    }

    /// `(signal, sender pid)` of the termination signal received, if any.
    pub fn terminated(&self) -> Option<(i32, i32)> {
        match LAST_SIGNAL.load(Ordering::SeqCst) {
            0 => None,
            sig => Some((sig, LAST_SENDER.load(Ordering::SeqCst))),
        }
    }

    /// The line QEMU prints, with our name.
    pub fn message(sig: i32, pid: i32) -> String {
        let who = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| format!(" ({})", s.trim()))
            .unwrap_or_default();
        format!("terminating on signal {sig} from pid {pid}{who}")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Control<ArmCpu>>> {
        self.machine.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stop(&self) {
        if let Some(c) = self.lock().as_ref() {
            c.shutdown(0);
        }
    }

    fn serve(&self, fd: RawFd) {
        loop {
            let mut b = 0u8;
            // SAFETY: reading one byte into `b`.
            let n = unsafe { libc::read(fd, (&mut b as *mut u8).cast(), 1) };
            if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            if n <= 0 {
                return;
            }
            if i32::from(b) == libc::SIGUSR1 {
                let control = self.lock().clone();
                match control {
                    Some(c) => eprint!("{}", dump(&c)),
                    None => eprintln!("virt: SIGUSR1: no machine running"),
                }
            } else {
                self.stop();
            }
        }
    }
}

/// How many PC samples a dump takes per vCPU, and how long it waits for each.
const SAMPLES: usize = 6;
const SAMPLE_WAIT: Duration = Duration::from_millis(300);

/// Each vCPU's state, for a hung machine.
pub fn dump(c: &Control<ArmCpu>) -> String {
    let mut s = String::from("virt: vCPU dump (SIGUSR1)\r\n");
    for i in 0..c.num_cpus() {
        let stats = c.stats(i);
        s.push_str(&format!(
            "virt:   vcpu {i}: {}, {} TBs entered from the loop ({} after jump-cache \
             misses, {} after unchained goto_tb exits), {} translations\r\n",
            c.run_state(i),
            stats.tbs_executed,
            stats.lookup_exits,
            stats.goto_exits,
            stats.translations
        ));
        if c.run_state(i) == "off" {
            continue;
        }
        // PC samples: where the vCPU is when it next looks at its work queue (between
        // TBs), which for a spinning vCPU is the loop it spins in.
        let mut pcs = Vec::new();
        for _ in 0..SAMPLES {
            let (tx, rx) = std::sync::mpsc::channel();
            if c.run_on(i, move |cpu: &mut ArmCpu| {
                let _ = tx.send((cpu.pc(), cpu.env_ref().el));
            })
            .is_err()
            {
                break;
            }
            match rx.recv_timeout(SAMPLE_WAIT) {
                Ok(v) => pcs.push(v),
                Err(_) => break,
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        match pcs.first() {
            None => s.push_str(&format!(
                "virt:     no answer in {} ms (stuck outside guest code?)\r\n",
                SAMPLE_WAIT.as_millis()
            )),
            Some(&(pc, el)) => {
                let list: Vec<String> = pcs.iter().map(|(p, _)| format!("{p:#x}")).collect();
                s.push_str(&format!(
                    "virt:     EL{el} pc {pc:#x}; recent pcs (newest last): {}\r\n",
                    list.join(" ")
                ));
            }
        }
    }
    s
}
