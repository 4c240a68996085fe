//! Debugger support in the execution loop (a GDB stub drives it): all-stop halting of
//! every vCPU, single-stepping, breakpoints, watchpoints and stop events.
//!
//! A [`Debugger`] is made once per process and attached to each machine that runs
//! ([`crate::Sched::attach_debugger`]), so breakpoints and the run state survive a guest
//! reboot. What it costs without a debugger attached: the loop reads one `OnceLock` at the
//! top of each slice; with one attached but nothing set, one more relaxed load.
//!
//! - **Run state.** Each vCPU has a mode: running, stopped (held at the top of its loop,
//!   still running queued work, so the stub reads and writes its state with
//!   [`crate::Control::run_on_sync`]) or stepping. The first stop event (a breakpoint, a
//!   watchpoint, a finished step, an interrupt from the debugger) stops *every* vCPU
//!   (all-stop) and is kept for the stub ([`Debugger::wait_event`]); later ones are
//!   dropped (their vCPUs meet the same breakpoint again when resumed).
//! - **Breakpoints** are guest virtual addresses checked when a block is translated, as
//!   QEMU does (no instruction is written into guest memory): a block reaching one ends
//!   before it with an exit that reports the hit ([`crate::CpuAction::Debug`]). The stub
//!   invalidates the TBs holding an address when it inserts or removes a breakpoint.
//!   Translations are shared by every virtual alias of the code (position-independent
//!   TBs), so a hit at an address that is no breakpoint (another alias) is stepped over
//!   silently.
//! - **Single step** runs one one-instruction TB ([`crate::TbKey::ONE_INSN`]), with
//!   interrupts held off and WFI/WFE as no-ops (QEMU's default stepping mode), then
//!   reports the step.
//! - **Watchpoints** live in `softmmu::watch` (TLB flag bits, checked by the slow path).

use crate::control::{lock, Core};
use softmmu::watch::{WatchKind, WatchList};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

const RUN: u8 = 0;
const STOP: u8 = 1;
const STEP: u8 = 2;

/// What a vCPU does when the debugger resumes the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Stays stopped (GDB's scheduler locking).
    Stop,
    Continue,
    /// Executes one instruction, then the machine stops.
    Step,
}

/// GDB's two breakpoint kinds; both work the same way here (see the module docs), but a
/// hit is reported as the kind that was inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakKind {
    Software,
    Hardware,
}

/// Why the machine stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The debugger asked (an interrupt, a new connection, a machine started halted).
    Interrupted,
    Breakpoint(BreakKind),
    /// A single step finished.
    Step,
    /// A watchpoint of `kind` stopped an access to `addr` before it happened.
    Watch {
        kind: WatchKind,
        addr: u64,
    },
    /// The machine stopped running for good, with this exit status.
    Exited(i32),
}

/// A stop and the vCPU it happened on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopEvent {
    pub cpu: usize,
    pub reason: StopReason,
}

/// Breakpoint bookkeeping: addresses with how many times each kind was inserted (GDB may
/// insert the same address as a software and as a hardware breakpoint).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Breakpoints {
    /// Sorted by address: (address, software count, hardware count).
    entries: Vec<(u64, u32, u32)>,
}

impl Breakpoints {
    pub fn new() -> Breakpoints {
        Breakpoints::default()
    }

    fn find(&self, addr: u64) -> Result<usize, usize> {
        self.entries.binary_search_by_key(&addr, |e| e.0)
    }

    /// Adds one breakpoint of `kind` at `addr`; returns whether the address was not a
    /// breakpoint before (its translations must then be invalidated).
    pub fn insert(&mut self, addr: u64, kind: BreakKind) -> bool {
        let (i, new) = match self.find(addr) {
            Ok(i) => (i, false),
            Err(i) => {
                self.entries.insert(i, (addr, 0, 0));
                (i, true)
            }
        };
        let e = &mut self.entries[i];
        match kind {
            BreakKind::Software => e.1 = e.1.saturating_add(1),
            BreakKind::Hardware => e.2 = e.2.saturating_add(1),
        }
        new
    }

    /// Removes one breakpoint of `kind` at `addr`. `None` if there is none; else whether
    /// the address stopped being a breakpoint (its translations must be invalidated).
    pub fn remove(&mut self, addr: u64, kind: BreakKind) -> Option<bool> {
        let i = self.find(addr).ok()?;
        let e = &mut self.entries[i];
        let n = match kind {
            BreakKind::Software => &mut e.1,
            BreakKind::Hardware => &mut e.2,
        };
        if *n == 0 {
            return None;
        }
        *n -= 1;
        if e.1 == 0 && e.2 == 0 {
            self.entries.remove(i);
            return Some(true);
        }
        Some(false)
    }

    /// The kind a hit at `addr` reports (software if both were inserted).
    pub fn kind_at(&self, addr: u64) -> Option<BreakKind> {
        let e = self.entries.get(self.find(addr).ok()?)?;
        if e.1 > 0 {
            Some(BreakKind::Software)
        } else {
            Some(BreakKind::Hardware)
        }
    }

    /// The addresses, sorted.
    pub fn addrs(&self) -> Vec<u64> {
        self.entries.iter().map(|e| e.0).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

struct Events {
    /// Resumed and not stopped since: the next stop event is recorded.
    running: bool,
    pending: Option<StopEvent>,
    /// The machine ended (`Exited` stays pending across resumes).
    exited: bool,
}

/// The debugger's side of the machine (see the module docs).
pub struct Debugger {
    modes: Box<[AtomicU8]>,
    /// Any mode is not `RUN` (a cheap first test in the loop's per-slice checks).
    any_not_running: AtomicBool,
    bps: Mutex<Breakpoints>,
    /// The breakpoint addresses as translation reads them; `None` when there are none.
    bp_addrs: Mutex<Option<Arc<[u64]>>>,
    has_bps: AtomicBool,
    watch: Arc<WatchList>,
    events: Mutex<Events>,
    cv: Condvar,
    /// The machine running now (to kick its vCPUs); empty between machines.
    machine: Mutex<Weak<Core>>,
}

impl Debugger {
    /// A debugger for a machine of `ncpus` vCPUs; with `halted`, every vCPU starts stopped
    /// (QEMU's `-S`).
    pub fn new(ncpus: usize, halted: bool) -> Debugger {
        let m = if halted { STOP } else { RUN };
        Debugger {
            modes: (0..ncpus).map(|_| AtomicU8::new(m)).collect(),
            any_not_running: AtomicBool::new(halted),
            bps: Mutex::new(Breakpoints::new()),
            bp_addrs: Mutex::new(None),
            has_bps: AtomicBool::new(false),
            watch: Arc::new(WatchList::new()),
            events: Mutex::new(Events {
                running: !halted,
                pending: None,
                exited: false,
            }),
            cv: Condvar::new(),
            machine: Mutex::new(Weak::new()),
        }
    }

    pub fn num_cpus(&self) -> usize {
        self.modes.len()
    }

    /// Called by `Core::attach_debugger`.
    pub(crate) fn set_machine(&self, core: Weak<Core>) {
        *lock(&self.machine) = core;
    }

    fn kick_all(&self) {
        let core = lock(&self.machine).upgrade();
        if let Some(core) = core {
            for i in 0..core.vcpus.len() {
                core.notify(i);
            }
        }
    }

    fn mode(&self, cpu: usize) -> u8 {
        self.modes
            .get(cpu)
            .map_or(RUN, |m| m.load(Ordering::Acquire))
    }

    /// Whether vCPU `cpu` must stay at the top of its loop.
    #[inline]
    pub fn held(&self, cpu: usize) -> bool {
        self.any_not_running.load(Ordering::Relaxed) && self.mode(cpu) == STOP
    }

    /// Whether vCPU `cpu` is to execute one instruction and report it.
    #[inline]
    pub fn stepping(&self, cpu: usize) -> bool {
        self.any_not_running.load(Ordering::Relaxed) && self.mode(cpu) == STEP
    }

    /// What vCPU `cpu` does now.
    pub fn resume_mode(&self, cpu: usize) -> Resume {
        match self.mode(cpu) {
            STOP => Resume::Stop,
            STEP => Resume::Step,
            _ => Resume::Continue,
        }
    }

    /// Whether the machine is stopped (no vCPU may run until [`resume`](Self::resume)).
    pub fn is_stopped(&self) -> bool {
        !lock(&self.events).running
    }

    /// Records `ev` and stops every vCPU, unless the machine is stopped already (the
    /// first event wins; `Exited` always replaces what is pending). Returns whether it
    /// was recorded. Kicks the vCPUs of the machine attached.
    pub fn report(&self, ev: StopEvent) -> bool {
        let recorded = {
            let mut e = lock(&self.events);
            let exited = matches!(ev.reason, StopReason::Exited(_));
            if !(e.running || exited) {
                false
            } else {
                e.running = false;
                e.exited |= exited;
                e.pending = Some(ev);
                self.any_not_running.store(true, Ordering::Release);
                for m in self.modes.iter() {
                    m.store(STOP, Ordering::Release);
                }
                self.cv.notify_all();
                true
            }
        };
        if recorded {
            self.kick_all();
        }
        recorded
    }

    /// Stops the machine on the debugger's request (GDB's Ctrl-C, a new connection).
    /// Returns whether it was running.
    pub fn interrupt(&self) -> bool {
        self.report(StopEvent {
            cpu: 0,
            reason: StopReason::Interrupted,
        })
    }

    /// The machine ended with `status`: the stub tells the debugger.
    pub fn machine_exited(&self, status: i32) {
        self.report(StopEvent {
            cpu: 0,
            reason: StopReason::Exited(status),
        });
    }

    /// Whether the machine has ended.
    pub fn has_exited(&self) -> bool {
        lock(&self.events).exited
    }

    /// Lets the vCPUs run again, vCPU `i` as `modes[i]` says (missing entries:
    /// `Continue`). Drops a pending event (except `Exited`).
    pub fn resume(&self, modes: &[Resume]) {
        {
            let mut e = lock(&self.events);
            if e.exited {
                return;
            }
            e.pending = None;
            let mut all_run = true;
            for (i, m) in self.modes.iter().enumerate() {
                let v = match modes.get(i).copied().unwrap_or(Resume::Continue) {
                    Resume::Stop => STOP,
                    Resume::Continue => RUN,
                    Resume::Step => STEP,
                };
                all_run &= v == RUN;
                m.store(v, Ordering::Release);
            }
            self.any_not_running.store(!all_run, Ordering::Release);
            e.running = true;
        }
        self.kick_all();
    }

    /// Takes the pending stop event, waiting up to `timeout` for one.
    pub fn wait_event(&self, timeout: Duration) -> Option<StopEvent> {
        let deadline = Instant::now() + timeout;
        let mut e = lock(&self.events);
        loop {
            if let Some(ev) = e.pending {
                if !e.exited {
                    e.pending = None;
                }
                return Some(ev);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            e = self
                .cv
                .wait_timeout(e, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    // --- breakpoints ----------------------------------------------------------------------

    fn publish_bps(&self, b: &Breakpoints) {
        let addrs = (!b.is_empty()).then(|| Arc::from(b.addrs()));
        self.has_bps.store(addrs.is_some(), Ordering::Release);
        *lock(&self.bp_addrs) = addrs;
    }

    /// Inserts a breakpoint; `true` if `addr` was not one before (the caller invalidates
    /// the TBs holding it).
    pub fn insert_breakpoint(&self, addr: u64, kind: BreakKind) -> bool {
        let mut b = lock(&self.bps);
        let new = b.insert(addr, kind);
        self.publish_bps(&b);
        new
    }

    /// Removes a breakpoint; `Some(true)` if `addr` stopped being one (the caller
    /// invalidates the TBs holding it), `None` if there was no such breakpoint.
    pub fn remove_breakpoint(&self, addr: u64, kind: BreakKind) -> Option<bool> {
        let mut b = lock(&self.bps);
        let r = b.remove(addr, kind);
        self.publish_bps(&b);
        r
    }

    /// Removes every breakpoint; returns their addresses.
    pub fn clear_breakpoints(&self) -> Vec<u64> {
        let mut b = lock(&self.bps);
        let addrs = b.addrs();
        *b = Breakpoints::new();
        self.publish_bps(&b);
        addrs
    }

    /// The kind of the breakpoint at `addr`, if there is one.
    pub fn breakpoint_at(&self, addr: u64) -> Option<BreakKind> {
        if !self.has_bps.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.bps).kind_at(addr)
    }

    /// The sorted breakpoint addresses for a translation; `None` when there are none.
    pub fn translation_breakpoints(&self) -> Option<Arc<[u64]>> {
        if !self.has_bps.load(Ordering::Acquire) {
            return None;
        }
        lock(&self.bp_addrs).clone()
    }

    /// The watchpoints (the caller flushes every vCPU's TLB after changing them).
    pub fn watchpoints(&self) -> &Arc<WatchList> {
        &self.watch
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn breakpoint_bookkeeping() {
        let mut b = Breakpoints::new();
        assert!(b.insert(0x40, BreakKind::Software));
        assert!(!b.insert(0x40, BreakKind::Hardware));
        assert!(b.insert(0x10, BreakKind::Hardware));
        assert!(!b.insert(0x10, BreakKind::Hardware));
        assert_eq!(b.addrs(), [0x10, 0x40]);
        assert_eq!(b.kind_at(0x40), Some(BreakKind::Software));
        assert_eq!(b.kind_at(0x10), Some(BreakKind::Hardware));
        assert_eq!(b.kind_at(0x20), None);
        // Removal counts per kind; the address goes with its last breakpoint.
        assert_eq!(b.remove(0x40, BreakKind::Software), Some(false));
        assert_eq!(b.kind_at(0x40), Some(BreakKind::Hardware));
        assert_eq!(b.remove(0x40, BreakKind::Software), None);
        assert_eq!(b.remove(0x40, BreakKind::Hardware), Some(true));
        assert_eq!(b.remove(0x40, BreakKind::Hardware), None);
        assert_eq!(b.remove(0x10, BreakKind::Hardware), Some(false));
        assert_eq!(b.remove(0x10, BreakKind::Hardware), Some(true));
        assert!(b.is_empty());
    }

    #[test]
    fn debugger_publishes_breakpoints_for_translation() {
        let d = Debugger::new(2, false);
        assert_eq!(d.translation_breakpoints(), None);
        assert!(d.insert_breakpoint(0x4008_0010, BreakKind::Software));
        assert!(d.insert_breakpoint(0x4008_0000, BreakKind::Hardware));
        assert_eq!(
            d.translation_breakpoints().as_deref(),
            Some(&[0x4008_0000, 0x4008_0010][..])
        );
        assert_eq!(d.breakpoint_at(0x4008_0010), Some(BreakKind::Software));
        assert_eq!(
            d.remove_breakpoint(0x4008_0010, BreakKind::Software),
            Some(true)
        );
        assert_eq!(d.remove_breakpoint(0x4008_0010, BreakKind::Software), None);
        assert_eq!(d.clear_breakpoints(), [0x4008_0000]);
        assert_eq!(d.translation_breakpoints(), None);
        assert_eq!(d.breakpoint_at(0x4008_0000), None);
    }

    #[test]
    fn all_stop_first_event_wins_and_resume_sets_modes() {
        let d = Debugger::new(3, true);
        assert!(d.is_stopped() && d.held(0) && d.held(2));
        // Stopped: nothing is recorded until a resume.
        assert!(!d.interrupt());
        assert_eq!(d.wait_event(Duration::ZERO), None);
        d.resume(&[Resume::Step, Resume::Stop]);
        assert!(!d.is_stopped());
        assert!(d.stepping(0) && !d.held(0));
        assert!(d.held(1));
        assert!(!d.held(2) && !d.stepping(2));
        assert_eq!(d.resume_mode(2), Resume::Continue);
        let step = StopEvent {
            cpu: 0,
            reason: StopReason::Step,
        };
        assert!(d.report(step));
        assert!(!d.report(StopEvent {
            cpu: 2,
            reason: StopReason::Breakpoint(BreakKind::Software),
        }));
        assert!(d.held(0) && d.held(1) && d.held(2));
        assert_eq!(d.wait_event(Duration::from_millis(1)), Some(step));
        assert_eq!(d.wait_event(Duration::ZERO), None);
        // All running: the loop's checks are one relaxed load.
        d.resume(&[]);
        assert!(!d.any_not_running.load(Ordering::Relaxed));
        assert!(d.interrupt());
        assert_eq!(
            d.wait_event(Duration::ZERO).map(|e| e.reason),
            Some(StopReason::Interrupted)
        );
    }

    #[test]
    fn exit_is_reported_even_when_stopped_and_stays() {
        let d = Debugger::new(1, true);
        let waiter = {
            let d = Arc::new(d);
            let d2 = d.clone();
            let t = std::thread::spawn(move || d2.wait_event(Duration::from_secs(10)));
            std::thread::sleep(Duration::from_millis(10));
            d.machine_exited(3);
            (t.join().unwrap(), d)
        };
        let (ev, d) = waiter;
        assert_eq!(ev.map(|e| e.reason), Some(StopReason::Exited(3)));
        assert!(d.has_exited());
        d.resume(&[]);
        assert!(d.is_stopped());
        assert_eq!(
            d.wait_event(Duration::ZERO).map(|e| e.reason),
            Some(StopReason::Exited(3))
        );
    }
}
