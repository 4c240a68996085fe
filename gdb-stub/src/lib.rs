//! A GDB remote stub for the virt machine: `gdbstub`'s protocol over TCP, driving the
//! execution loop's debugger hooks (`vcpu_sched::debug`) and the A64 CPU's register and
//! memory access (`arm_cpu::debug`).
//!
//! The server thread accepts one connection at a time. A connection stops the machine (as
//! QEMU's stub does); detaching, or the client going away, removes every breakpoint and
//! watchpoint and lets the machine run on, and the next connection is accepted; `kill`
//! stops the machine. While GDB waits for the machine, the session thread polls the
//! connection for Ctrl-C and the debugger for a stop event.

mod arch;
mod target;

pub use arch::{Aarch64, CoreRegs, Reg, TARGET_XML};

use arm_cpu::ArmCpu;
use gdbstub::common::Signal;
use gdbstub::conn::ConnectionExt;
use gdbstub::stub::state_machine::GdbStubStateMachine;
use gdbstub::stub::{DisconnectReason, GdbStub, MultiThreadStopReason};
use std::fmt;
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use target::VirtTarget;
use vcpu_sched::{Control, Debugger, StopEvent, StopReason};

/// What can go wrong in the stub.
#[derive(Debug)]
pub enum Error {
    /// A `-gdb` / `--gdb` address this stub does not take.
    BadAddress(String),
    /// The listening socket could not be opened.
    Listen(String, std::io::Error),
    /// The server thread could not start.
    Thread(std::io::Error),
    /// No machine to debug (it ended, or a reboot took too long).
    NoMachine,
    /// The machine refused a request (it shut down).
    Sched(vcpu_sched::SchedError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadAddress(m) => f.write_str(m),
            Error::Listen(a, e) => write!(f, "cannot listen for GDB on {a}: {e}"),
            Error::Thread(e) => write!(f, "cannot start the GDB stub thread: {e}"),
            Error::NoMachine => f.write_str("the machine is not running"),
            Error::Sched(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

/// The port of QEMU's `-s`.
pub const DEFAULT_PORT: u16 = 1234;

/// The address to listen on for a stub address as QEMU's `-gdb` writes it (`tcp::PORT`,
/// `tcp:HOST:PORT`) or as `--gdb` takes it (`PORT`, `HOST:PORT`). Without a host: the
/// loopback interface only (QEMU listens on every interface; a stub controls the whole
/// machine, so other hosts must be asked for: `tcp:0.0.0.0:PORT`).
pub fn listen_address(spec: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::BadAddress(format!("GDB stub address `{spec}`: {why}"));
    let rest = match spec.split_once(':') {
        Some(("tcp", rest)) => rest,
        Some((kind @ ("unix" | "udp" | "telnet" | "pipe" | "file" | "pty" | "stdio"), _)) => {
            return Err(bad(&format!(
                "only tcp is supported (not {kind}): tcp::PORT or tcp:HOST:PORT"
            )))
        }
        _ if matches!(spec, "stdio" | "pty" | "none") => {
            return Err(bad("only tcp is supported: tcp::PORT or tcp:HOST:PORT"))
        }
        _ => spec,
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => ("", rest),
    };
    let port: u16 = port
        .split(',')
        .next()
        .unwrap_or_default()
        .parse()
        .map_err(|_| bad("expected a TCP port number"))?;
    let host = match host {
        "" | "localhost" => "127.0.0.1",
        h => h,
    };
    if host.contains(':') && !host.starts_with('[') {
        return Ok(format!("[{host}]:{port}"));
    }
    Ok(format!("{host}:{port}"))
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The machine the stub debugs now. Whoever runs machines sets it before `run` and clears
/// it after (a guest reboot makes a new machine; breakpoints stay in the [`Debugger`]).
#[derive(Default)]
pub struct MachineSlot {
    ctl: Mutex<Option<Control<ArmCpu>>>,
    cv: Condvar,
}

impl MachineSlot {
    pub fn new() -> MachineSlot {
        MachineSlot::default()
    }

    pub fn set(&self, c: Control<ArmCpu>) {
        *lock(&self.ctl) = Some(c);
        self.cv.notify_all();
    }

    pub fn clear(&self) {
        *lock(&self.ctl) = None;
    }

    /// The machine, waiting up to `wait` for one.
    pub fn get(&self, wait: Duration) -> Option<Control<ArmCpu>> {
        let deadline = Instant::now() + wait;
        let mut g = lock(&self.ctl);
        loop {
            if let Some(c) = &*g {
                return Some(c.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            g = self
                .cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

#[derive(Default)]
struct SessionState {
    /// A session waits for the machine to stop (it can report an exit).
    waiting: bool,
    /// The exit was reported to GDB (or there was nobody to report it to).
    exit_reported: bool,
    /// GDB asked to kill the machine.
    killed: bool,
}

struct Shared {
    state: Mutex<SessionState>,
    cv: Condvar,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut SessionState)) {
        f(&mut lock(&self.state));
        self.cv.notify_all();
    }
}

/// The running stub: a thread serving GDB connections one after the other.
pub struct GdbServer {
    dbg: Arc<Debugger>,
    shared: Arc<Shared>,
    addr: String,
}

impl GdbServer {
    /// Listens on `addr` (see [`listen_address`]) and serves GDB from a thread for the
    /// rest of the process, debugging whatever machine `slot` holds through `dbg`.
    pub fn start(
        addr: &str,
        dbg: Arc<Debugger>,
        slot: Arc<MachineSlot>,
    ) -> Result<GdbServer, Error> {
        let listener = TcpListener::bind(addr).map_err(|e| Error::Listen(addr.to_string(), e))?;
        let bound = listener
            .local_addr()
            .map(|a| a.to_string())
            .unwrap_or_else(|_| addr.to_string());
        let shared = Arc::new(Shared {
            state: Mutex::new(SessionState::default()),
            cv: Condvar::new(),
        });
        let sh = shared.clone();
        let d = dbg.clone();
        std::thread::Builder::new()
            .name("gdb-stub".into())
            .spawn(move || serve(listener, d, slot, sh))
            .map_err(Error::Thread)?;
        Ok(GdbServer {
            dbg,
            shared,
            addr: bound,
        })
    }

    /// The address listened on.
    pub fn address(&self) -> &str {
        &self.addr
    }

    /// The machine ended for good with `status`: tells a GDB waiting for it (waits up to
    /// `timeout` for the report to be sent).
    pub fn machine_exited(&self, status: i32, timeout: Duration) {
        self.dbg.machine_exited(status);
        let deadline = Instant::now() + timeout;
        let mut g = lock(&self.shared.state);
        while g.waiting && !g.exit_reported {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            g = self
                .shared
                .cv
                .wait_timeout(g, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Whether GDB killed the machine.
    pub fn killed(&self) -> bool {
        lock(&self.shared.state).killed
    }
}

fn serve(listener: TcpListener, dbg: Arc<Debugger>, slot: Arc<MachineSlot>, shared: Arc<Shared>) {
    for conn in listener.incoming() {
        let Ok(stream) = conn else {
            continue;
        };
        let mut target = VirtTarget::new(dbg.clone(), slot.clone());
        let end = session(stream, &mut target, &shared);
        match end {
            Some(DisconnectReason::Kill) => {
                shared.update(|s| s.killed = true);
                if let Some(c) = slot.get(Duration::ZERO) {
                    c.shutdown(0);
                }
                return;
            }
            Some(DisconnectReason::TargetExited(_) | DisconnectReason::TargetTerminated(_)) => {
                return;
            }
            // Detached, or the client went away: the machine runs on without our
            // breakpoints and watchpoints.
            Some(DisconnectReason::Disconnect) | None => {
                if dbg.has_exited() {
                    return;
                }
                let _ = target.clear_all();
                dbg.resume(&[]);
            }
        }
    }
}

/// The stop reason GDB gets for `ev`.
fn stop_reason(ev: StopEvent) -> MultiThreadStopReason<u64> {
    let tid = gdbstub::common::Tid::new(ev.cpu + 1).unwrap_or(gdbstub::common::Tid::MIN);
    match ev.reason {
        StopReason::Interrupted => MultiThreadStopReason::SignalWithThread {
            tid,
            signal: Signal::SIGINT,
        },
        StopReason::Breakpoint(vcpu_sched::BreakKind::Software) => {
            MultiThreadStopReason::SwBreak(tid)
        }
        StopReason::Breakpoint(vcpu_sched::BreakKind::Hardware) => {
            MultiThreadStopReason::HwBreak(tid)
        }
        // A step is a SIGTRAP of the stepped thread (a bare `S05` would not name it).
        StopReason::Step => MultiThreadStopReason::SignalWithThread {
            tid,
            signal: Signal::SIGTRAP,
        },
        StopReason::Watch { kind, addr } => MultiThreadStopReason::Watch {
            tid,
            kind: match kind {
                softmmu::watch::WatchKind::Write => {
                    gdbstub::target::ext::breakpoints::WatchKind::Write
                }
                softmmu::watch::WatchKind::Read => {
                    gdbstub::target::ext::breakpoints::WatchKind::Read
                }
                softmmu::watch::WatchKind::Access => {
                    gdbstub::target::ext::breakpoints::WatchKind::ReadWrite
                }
            },
            addr,
        },
        StopReason::Exited(status) => MultiThreadStopReason::Exited(status.clamp(0, 255) as u8),
    }
}

/// How often a waiting session looks at the connection (Ctrl-C) and for a stop event.
const POLL: Duration = Duration::from_millis(5);

/// Serves one connection; `None` when it broke (I/O or protocol error).
fn session(
    stream: TcpStream,
    target: &mut VirtTarget,
    shared: &Shared,
) -> Option<DisconnectReason> {
    // A new connection stops the machine (GDB expects a stopped target).
    target.dbg.interrupt();
    let _ = target.dbg.wait_event(Duration::ZERO);
    let stub = GdbStub::<VirtTarget, TcpStream>::new(stream);
    let mut gdb = stub.run_state_machine(target).ok()?;
    loop {
        gdb = match gdb {
            GdbStubStateMachine::Idle(mut g) => {
                let byte = g.borrow_conn().read().ok()?;
                g.incoming_data(target, byte).ok()?
            }
            GdbStubStateMachine::Disconnected(g) => return Some(g.get_reason()),
            GdbStubStateMachine::CtrlCInterrupt(g) => {
                // Running: stops now and the interrupt is the event. Stopped already: a
                // stop event not yet reported, or none (GDB interrupted an idle target).
                target.dbg.interrupt();
                let reason = target.dbg.wait_event(Duration::ZERO).map(stop_reason);
                g.interrupt_handled(target, reason).ok()?
            }
            GdbStubStateMachine::Running(mut g) => {
                shared.update(|s| s.waiting = true);
                let next = loop {
                    if let Some(ev) = target.dbg.wait_event(POLL) {
                        let exited = matches!(ev.reason, StopReason::Exited(_));
                        let r = g.report_stop(target, stop_reason(ev));
                        if exited {
                            shared.update(|s| s.exit_reported = true);
                        }
                        break r;
                    }
                    match g.borrow_conn().peek() {
                        Ok(Some(_)) => match g.borrow_conn().read() {
                            Ok(b) => break g.incoming_data(target, b),
                            Err(_) => {
                                shared.update(|s| s.waiting = false);
                                return None;
                            }
                        },
                        Ok(None) => {}
                        Err(_) => {
                            shared.update(|s| s.waiting = false);
                            return None;
                        }
                    }
                };
                shared.update(|s| s.waiting = false);
                next.ok()?
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_like_qemu() {
        let a = |s: &str| listen_address(s).map_err(|e| e.to_string());
        assert_eq!(a("tcp::1234").unwrap(), "127.0.0.1:1234");
        assert_eq!(a("tcp:localhost:4321").unwrap(), "127.0.0.1:4321");
        assert_eq!(a("tcp:0.0.0.0:1234").unwrap(), "0.0.0.0:1234");
        assert_eq!(a("tcp:[::1]:1234").unwrap(), "[::1]:1234");
        assert_eq!(a("tcp::1234,server,nowait").unwrap(), "127.0.0.1:1234");
        assert_eq!(a("1234").unwrap(), "127.0.0.1:1234");
        assert_eq!(a("127.0.0.1:99").unwrap(), "127.0.0.1:99");
        assert!(a("unix:/tmp/gdb").unwrap_err().contains("only tcp"));
        assert!(a("stdio").unwrap_err().contains("only tcp"));
        assert!(a("tcp::port").unwrap_err().contains("port number"));
        assert!(a("tcp::99999").is_err());
        assert!(a("").is_err());
    }
}
