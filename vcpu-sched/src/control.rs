//! Machine-level control shared by the vCPU threads and the board: power states, kicks,
//! events, cross-vCPU work (async and synced), shutdown, and exclusive sections.

use crate::cpu::GuestCpu;
use crate::debug::{Debugger, StopEvent};
use crate::tb_cache::TbCache;
use crossbeam_channel::{Receiver, Sender};
use softmmu::{EnvHead, PhysMap};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::Duration;
use tcg_ir::Backend;

/// How vCPUs map to host threads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedMode {
    /// All vCPUs on one host thread, switched on a time slice, on WFI/WFE and power-off.
    RoundRobin,
    /// One host thread per vCPU (multi-threaded TCG).
    Mttcg,
}

/// A vCPU's power state (as PSCI `AFFINITY_INFO` reports it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerState {
    Off,
    On,
    /// `power_on` was requested; the vCPU has not run its start-up work yet.
    Pending,
}

/// How [`crate::Sched::run`] ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    pub status: i32,
    /// Set for `CpuAction::Fatal` (status 1) and internal failures.
    pub message: Option<String>,
}

/// Errors of [`Control`] requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchedError {
    /// No vCPU with this index.
    NoSuchCpu(usize),
    /// `power_on` of a vCPU that is on (or already pending).
    AlreadyOn(usize),
    /// The machine stopped before the work could complete.
    ShutDown,
}

impl fmt::Display for SchedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchedError::NoSuchCpu(i) => write!(f, "no vCPU {i}"),
            SchedError::AlreadyOn(i) => write!(f, "vCPU {i} is already on"),
            SchedError::ShutDown => f.write_str("the machine has shut down"),
        }
    }
}

impl std::error::Error for SchedError {}

/// Per-vCPU statistics (published by the vCPU when it returns to the top of its loop).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VcpuStats {
    /// TBs entered from the execution loop (chained TBs run without it).
    pub tbs_executed: u64,
    pub translations: u64,
    /// Of the loop entries: after generated code missed the jump cache, and after a
    /// `goto_tb` exit that was not chained yet.
    pub lookup_exits: u64,
    pub goto_exits: u64,
}

/// Work queued on a vCPU; runs on its thread with `&mut` access to the CPU.
pub type Work<C> = Box<dyn FnOnce(&mut C) + Send>;

/// Poll interval of sleeping vCPUs: a safety net so a missed wake-up cannot hang.
pub(crate) const IDLE_POLL: Duration = Duration::from_millis(10);

/// Most sampler periods a vCPU with useless samples is left alone (see [`Core::sampled`]):
/// a TB that becomes hot later is still promoted within 4 x 8 periods (64 ms).
pub(crate) const MAX_SAMPLE_SKIP: u32 = 7;

/// The sampler periods to skip after a sample, given the current skip.
pub(crate) fn next_sample_skip(skip: u32, useful: bool) -> u32 {
    if useful {
        0
    } else {
        (skip * 2 + 1).min(MAX_SAMPLE_SKIP)
    }
}

// ---------------------------------------------------------------------------------------
// Parking

/// A one-token parker: `unpark` before `park` makes the next `park` return at once.
pub(crate) struct Parker {
    token: Mutex<bool>,
    cv: Condvar,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            token: Mutex::new(false),
            cv: Condvar::new(),
        }
    }

    pub(crate) fn unpark(&self) {
        let mut t = lock(&self.token);
        *t = true;
        self.cv.notify_all();
    }

    pub(crate) fn park_timeout(&self, d: Duration) {
        let mut t = lock(&self.token);
        if !*t {
            t = self
                .cv
                .wait_timeout(t, d)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *t = false;
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------
// Synced work completion

/// Counts outstanding shares of a synced request.
pub(crate) struct Completion {
    remaining: AtomicUsize,
    lock: Mutex<()>,
    cv: Condvar,
    /// The vCPU parker to wake when the issuer is a vCPU (it waits at its loop top).
    waiter: Option<Arc<Parker>>,
}

impl Completion {
    fn new(n: usize, waiter: Option<Arc<Parker>>) -> Arc<Completion> {
        Arc::new(Completion {
            remaining: AtomicUsize::new(n),
            lock: Mutex::new(()),
            cv: Condvar::new(),
            waiter,
        })
    }

    pub(crate) fn is_done(&self) -> bool {
        self.remaining.load(Ordering::Acquire) == 0
    }

    fn done_one(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            let _g = lock(&self.lock);
            self.cv.notify_all();
            if let Some(p) = &self.waiter {
                p.unpark();
            }
        }
    }

    /// Blocks a non-vCPU thread until done, or until the machine shut down.
    fn wait(&self, core: &Core) -> Result<(), SchedError> {
        let mut g = lock(&self.lock);
        loop {
            if self.is_done() {
                return Ok(());
            }
            if core.is_shutdown() {
                return Err(SchedError::ShutDown);
            }
            g = self
                .cv
                .wait_timeout(g, IDLE_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// One share of a synced request: completes when the work ran or was dropped unrun.
struct Share(Arc<Completion>);

impl Drop for Share {
    fn drop(&mut self) {
        self.0.done_one();
    }
}

// ---------------------------------------------------------------------------------------
// The calling thread's vCPU identity

thread_local! {
    /// Address of the `Core` whose vCPU this thread runs (0: not a vCPU thread).
    static CUR_CORE: Cell<usize> = const { Cell::new(0) };
    /// Index of the vCPU this thread runs now.
    static CUR_IDX: Cell<usize> = const { Cell::new(0) };
    /// This thread's vCPU is inside its execution region (counted by exclusive sections).
    static IN_REGION: Cell<bool> = const { Cell::new(false) };
    /// This thread is running an exclusive section.
    static IN_EXCL: Cell<bool> = const { Cell::new(false) };
    /// Synced requests this vCPU issued that must complete before its next TB.
    static PENDING_SYNC: RefCell<Vec<Arc<Completion>>> = const { RefCell::new(Vec::new()) };
}

// ---------------------------------------------------------------------------------------
// Core: the non-generic shared machine state

/// The env pointer of a vCPU, used only to reach its atomic `exit_request` and, for
/// self-modifying code, its TLB write tags (`softmmu::tlb::tlb_protect_code_page`).
struct EnvPtr(*mut EnvHead);

// SAFETY: the pointer is only dereferenced (in `Core::with_env`) to reach the `AtomicU32`
// `exit_request`, which is safe to access from any thread, and the TLB write tags, which
// the softmmu accesses atomically from other threads under its documented protocol; the
// access is guarded so it never happens after the CPU (and its env) was dropped.
unsafe impl Send for EnvPtr {}
// SAFETY: as above; shared access only ever touches atomically accessed fields.
unsafe impl Sync for EnvPtr {}

const POWER_OFF: u8 = 0;
const POWER_ON: u8 = 1;
const POWER_PENDING: u8 = 2;

pub(crate) const HALT_NONE: u8 = 0;
pub(crate) const HALT_WFI: u8 = 1;
pub(crate) const HALT_WFE: u8 = 2;

pub(crate) struct VcpuState {
    env: EnvPtr,
    power: AtomicU8,
    pub(crate) halt: AtomicU8,
    /// Set by an explicit kick: ends WFI/WFE.
    pub(crate) wake: AtomicBool,
    /// The WFE event register.
    pub(crate) event: AtomicBool,
    /// Inside the execution region (exclusive-section protocol).
    running: AtomicBool,
    /// Requests of [`Control::sync_others_deferrable`] to apply before executing again,
    /// and whether there are any (checked on every entry to the execution region).
    deferred: Mutex<Vec<u64>>,
    has_deferred: AtomicBool,
    /// Counted by the exclusive section being started (protected by `Core::excl`).
    has_waiter: AtomicBool,
    pub(crate) parker: Arc<Parker>,
    pub(crate) stat_tbs: AtomicU64,
    pub(crate) stat_lookups: AtomicU64,
    pub(crate) stat_gotos: AtomicU64,
    pub(crate) stat_translations: AtomicU64,
    /// PROFILING: sampler periods to let pass between two sampling exits of this vCPU
    /// (see [`Core::sampled`]).
    pub(crate) sample_skip: AtomicU32,
}

pub(crate) struct Core {
    pub(crate) mode: SchedMode,
    pub(crate) vcpus: Vec<VcpuState>,
    pub(crate) tb_cache: TbCache,
    pub(crate) backend: Arc<dyn Backend>,
    shutdown: AtomicBool,
    outcome: Mutex<Option<RunOutcome>>,
    /// Exclusive sections (QEMU's `pending_cpus` protocol): 0 = none; else 1 + the number
    /// of running vCPUs the requester still waits for. Written under `excl`.
    excl_pending: AtomicUsize,
    excl: Mutex<()>,
    excl_done: Condvar,
    excl_resume: Condvar,
    /// Threads currently touching an env through `EnvPtr`, and whether envs are gone.
    env_users: AtomicUsize,
    envs_dead: AtomicBool,
    /// Round-robin: the vCPU running now, and whether its time slice has ended.
    pub(crate) rr_current: AtomicUsize,
    pub(crate) rr_slice_expired: AtomicBool,
    /// The board's memory, once `Sched::attach_phys` was called: code pages are then
    /// tracked and writes to them invalidate TBs.
    pub(crate) phys: OnceLock<Arc<PhysMap>>,
    /// The debugger, once `Sched::attach_debugger` was called.
    pub(crate) debug: OnceLock<Arc<Debugger>>,
}

impl Core {
    pub(crate) fn new(
        mode: SchedMode,
        envs: Vec<*mut u8>,
        backend: Arc<dyn Backend>,
        pc_relative: bool,
    ) -> Core {
        let rr_parker = Arc::new(Parker::new());
        let vcpus = envs
            .into_iter()
            .enumerate()
            .map(|(i, env)| VcpuState {
                env: EnvPtr(env as *mut EnvHead),
                power: AtomicU8::new(if i == 0 { POWER_ON } else { POWER_OFF }),
                halt: AtomicU8::new(HALT_NONE),
                wake: AtomicBool::new(false),
                event: AtomicBool::new(false),
                running: AtomicBool::new(false),
                deferred: Mutex::new(Vec::new()),
                has_deferred: AtomicBool::new(false),
                has_waiter: AtomicBool::new(false),
                parker: match mode {
                    SchedMode::RoundRobin => rr_parker.clone(),
                    SchedMode::Mttcg => Arc::new(Parker::new()),
                },
                stat_tbs: AtomicU64::new(0),
                stat_lookups: AtomicU64::new(0),
                stat_gotos: AtomicU64::new(0),
                stat_translations: AtomicU64::new(0),
                sample_skip: AtomicU32::new(0),
            })
            .collect();
        Core {
            mode,
            vcpus,
            tb_cache: TbCache::with_pc_relative(TbCache::DEFAULT_BITS, pc_relative),
            backend,
            shutdown: AtomicBool::new(false),
            outcome: Mutex::new(None),
            excl_pending: AtomicUsize::new(0),
            excl: Mutex::new(()),
            excl_done: Condvar::new(),
            excl_resume: Condvar::new(),
            env_users: AtomicUsize::new(0),
            envs_dead: AtomicBool::new(false),
            rr_current: AtomicUsize::new(0),
            rr_slice_expired: AtomicBool::new(false),
            phys: OnceLock::new(),
            debug: OnceLock::new(),
        }
    }

    fn addr(&self) -> usize {
        self as *const Core as usize
    }

    pub(crate) fn env_ptr(&self, i: usize) -> *const EnvHead {
        self.vcpus[i].env.0
    }

    /// Runs `f` with vCPU `i`'s env pointer unless the envs were retired. The env is live
    /// for the whole call: the CPUs are dropped only after `retire_envs`, which waits until
    /// `env_users` is 0 after setting `envs_dead` (SeqCst on both sides, so either we saw
    /// `envs_dead` or it waits for us). `f` may only touch fields that are safe to access
    /// while the vCPU runs on another thread.
    fn with_env(&self, i: usize, f: impl FnOnce(*mut EnvHead)) {
        self.env_users.fetch_add(1, Ordering::SeqCst);
        if !self.envs_dead.load(Ordering::SeqCst) {
            f(self.vcpus[i].env.0);
        }
        self.env_users.fetch_sub(1, Ordering::SeqCst);
    }

    /// Runs `f` on vCPU `i`'s exit-request flag unless the envs were retired.
    fn with_exit_request(&self, i: usize, f: impl FnOnce(&AtomicU32)) {
        self.with_env(i, |p| {
            // SAFETY: `p` is the env pointer the CPU returned at construction, stable and
            // live for this call (see `with_env`). Only the atomic `exit_request` field is
            // referenced.
            let req = unsafe { &*std::ptr::addr_of!((*p).exit_request) };
            f(req);
        });
    }

    // --- self-modifying code ----------------------------------------------------------

    /// Sets `TLB_NOTDIRTY` in every vCPU's TLB write entries for physical page `page` (the
    /// `protect` step of `PhysMap::mark_code`).
    pub(crate) fn protect_code_page(&self, page: u64) {
        for i in 0..self.vcpus.len() {
            self.with_env(i, |p| {
                // SAFETY: `p` is live for this call (`with_env`); the function only
                // touches TLB write tags (atomically) and physical pages, which the softmmu
                // documents as safe while the vCPU runs on another thread.
                unsafe { softmmu::tlb::tlb_protect_code_page(p, page) };
            });
        }
    }

    /// Invalidates the TBs on guest physical bytes `[paddr, paddr + len)` (one page) and
    /// cuts the chains into them. Needs no exclusive section: a vCPU inside one of them
    /// finishes that TB (architecturally fine: the write and the fetch were concurrent).
    pub(crate) fn invalidate_phys_range(&self, phys: Option<&PhysMap>, paddr: u64, len: u64) {
        for tb in self.tb_cache.invalidate_phys_range(paddr, len, phys) {
            self.backend.unchain(&*tb.code);
        }
    }

    /// Attaches the board's memory (once; later calls with another map are refused):
    /// installs the code-write hook that invalidates TBs.
    pub(crate) fn attach_phys(self: &Arc<Core>, phys: Arc<PhysMap>) -> bool {
        if self.phys.set(phys.clone()).is_err() {
            return self.phys.get().is_some_and(|p| Arc::ptr_eq(p, &phys));
        }
        // Weak: the map outlives the machine in the board; no cycle through the hook.
        let core: Weak<Core> = Arc::downgrade(self);
        phys.set_code_write_hook(Some(Arc::new(
            move |pm: &PhysMap, paddr: u64, len: u64| match core.upgrade() {
                Some(c) => c.invalidate_phys_range(Some(pm), paddr, len),
                None => {
                    pm.clear_code(paddr);
                }
            },
        )));
        true
    }

    // --- debugger ----------------------------------------------------------------------

    /// Attaches `d` (once; another debugger later is refused): its watchpoints go to the
    /// memory map, which must be attached already.
    pub(crate) fn attach_debugger(self: &Arc<Core>, d: Arc<Debugger>) -> bool {
        if d.num_cpus() < self.vcpus.len() {
            return false;
        }
        let Some(phys) = self.phys.get() else {
            return false;
        };
        if !phys.attach_watchpoints(d.watchpoints().clone()) {
            return false;
        }
        if self.debug.set(d.clone()).is_err() {
            return self.debug.get().is_some_and(|x| Arc::ptr_eq(x, &d));
        }
        d.set_machine(Arc::downgrade(self));
        true
    }

    #[inline]
    pub(crate) fn debugger(&self) -> Option<&Debugger> {
        self.debug.get().map(|d| &**d)
    }

    /// Whether the debugger holds vCPU `i` at the top of its loop (one load without one).
    #[inline]
    pub(crate) fn debug_held(&self, i: usize) -> bool {
        self.debugger().is_some_and(|d| d.held(i))
    }

    /// A vCPU met a stop event: every vCPU stops (see `crate::debug`).
    pub(crate) fn debug_stop(&self, ev: StopEvent) {
        if let Some(d) = self.debugger() {
            d.report(ev);
        }
    }

    /// Makes later kicks no-ops and waits for in-flight ones; call before dropping CPUs.
    pub(crate) fn retire_envs(&self) {
        self.envs_dead.store(true, Ordering::SeqCst);
        while self.env_users.load(Ordering::SeqCst) != 0 {
            std::thread::yield_now();
        }
    }

    /// Sets vCPU `i`'s exit request (it leaves generated code at the next TB entry).
    pub(crate) fn request_exit(&self, i: usize) {
        self.with_exit_request(i, |r| r.store(1, Ordering::Release));
    }

    /// PROFILING: vCPU `i` gave the back end a sample; `useful` when it could still lead
    /// to a promotion. Leaving generated code and entering it again costs far more than
    /// the loop's few instructions on some hosts (kernels-recursion, where no TB can be
    /// promoted: 7 % of its time at one exit per 2 ms), so a vCPU whose samples lead
    /// nowhere is sampled less often: the skip doubles (1, 3, 7 periods) after each
    /// useless sample and is back to none after a useful one.
    pub(crate) fn sampled(&self, i: usize, useful: bool) {
        let s = &self.vcpus[i].sample_skip;
        s.store(
            next_sample_skip(s.load(Ordering::Relaxed), useful),
            Ordering::Relaxed,
        );
    }

    /// Clears vCPU `i`'s exit request (top of its loop).
    pub(crate) fn clear_exit_request(&self, i: usize) {
        self.with_exit_request(i, |r| {
            r.swap(0, Ordering::AcqRel);
        });
    }

    /// Makes vCPU `i` look at its queue/state soon: exit request + wake its thread.
    pub(crate) fn notify(&self, i: usize) {
        self.request_exit(i);
        if self.mode == SchedMode::RoundRobin {
            // The one thread may be running another vCPU: make it come back to the top.
            let cur = self.rr_current.load(Ordering::Acquire);
            if cur != i && cur < self.vcpus.len() {
                self.request_exit(cur);
            }
        }
        self.vcpus[i].parker.unpark();
    }

    pub(crate) fn kick(&self, i: usize) {
        self.vcpus[i].wake.store(true, Ordering::Release);
        self.notify(i);
    }

    pub(crate) fn send_event(&self) {
        for v in &self.vcpus {
            v.event.store(true, Ordering::Release);
        }
        for (i, v) in self.vcpus.iter().enumerate() {
            if v.halt.load(Ordering::Acquire) == HALT_WFE {
                self.notify(i);
            }
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }

    /// Stops the machine; the first request's status wins.
    pub(crate) fn request_shutdown(&self, status: i32, message: Option<String>) {
        {
            let mut o = lock(&self.outcome);
            if o.is_none() {
                *o = Some(RunOutcome { status, message });
            }
        }
        self.shutdown.store(true, Ordering::Release);
        for i in 0..self.vcpus.len() {
            self.notify(i);
        }
        // Wake vCPUs waiting for an exclusive section to end (it will end anyway, but do
        // not let them sleep a full poll interval).
        let _g = lock(&self.excl);
        self.excl_resume.notify_all();
    }

    pub(crate) fn take_outcome(&self) -> Option<RunOutcome> {
        lock(&self.outcome).take()
    }

    pub(crate) fn power(&self, i: usize) -> PowerState {
        match self.vcpus[i].power.load(Ordering::Acquire) {
            POWER_ON => PowerState::On,
            POWER_PENDING => PowerState::Pending,
            _ => PowerState::Off,
        }
    }

    pub(crate) fn is_on(&self, i: usize) -> bool {
        self.vcpus[i].power.load(Ordering::Acquire) == POWER_ON
    }

    pub(crate) fn set_power_initial(&self, i: usize, on: bool) {
        let p = if on { POWER_ON } else { POWER_OFF };
        self.vcpus[i].power.store(p, Ordering::Release);
    }

    pub(crate) fn power_off(&self, i: usize) {
        let v = &self.vcpus[i];
        v.halt.store(HALT_NONE, Ordering::Release);
        v.power.store(POWER_OFF, Ordering::Release);
    }

    fn power_on_done(&self, i: usize) {
        let v = &self.vcpus[i];
        v.halt.store(HALT_NONE, Ordering::Release);
        v.event.store(false, Ordering::Release);
        v.power.store(POWER_ON, Ordering::Release);
        self.notify(i);
    }

    // --- the current thread -----------------------------------------------------------

    /// Marks the calling thread as running this core's vCPUs (vCPU `i` now).
    pub(crate) fn enter_thread(&self, i: usize) {
        CUR_CORE.with(|c| c.set(self.addr()));
        CUR_IDX.with(|c| c.set(i));
    }

    pub(crate) fn set_current(&self, i: usize) {
        CUR_IDX.with(|c| c.set(i));
    }

    pub(crate) fn leave_thread(&self) {
        CUR_CORE.with(|c| c.set(0));
        PENDING_SYNC.with(|p| p.borrow_mut().clear());
    }

    /// The vCPU the calling thread runs, if it is one of this core's vCPU threads.
    pub(crate) fn current(&self) -> Option<usize> {
        if CUR_CORE.with(|c| c.get()) == self.addr() {
            Some(CUR_IDX.with(|c| c.get()))
        } else {
            None
        }
    }

    /// Whether the synced requests the calling vCPU issued have all completed.
    pub(crate) fn pending_sync_done(&self) -> bool {
        PENDING_SYNC.with(|p| {
            let mut p = p.borrow_mut();
            p.retain(|c| !c.is_done());
            p.is_empty()
        })
    }

    // --- exclusive sections -------------------------------------------------------------

    /// Enters vCPU `i`'s execution region (may wait for an exclusive section to end).
    pub(crate) fn exec_start(&self, i: usize) {
        let v = &self.vcpus[i];
        v.running.store(true, Ordering::SeqCst);
        if self.excl_pending.load(Ordering::SeqCst) != 0 {
            let mut g = lock(&self.excl);
            if !v.has_waiter.load(Ordering::SeqCst) {
                // Not counted by the requester: step aside until it is done.
                v.running.store(false, Ordering::SeqCst);
                while self.excl_pending.load(Ordering::SeqCst) != 0 {
                    g = self
                        .excl_resume
                        .wait_timeout(g, IDLE_POLL)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                v.running.store(true, Ordering::SeqCst);
            }
            // Counted: run on; it is kicked and releases the requester in `exec_end`.
        }
        IN_REGION.with(|c| c.set(true));
    }

    /// Leaves vCPU `i`'s execution region.
    /// Requests other vCPUs deferred to vCPU `i` while it was outside the execution
    /// region (call right after [`exec_start`](Self::exec_start): its SeqCst store of
    /// `running` orders against the requester's SeqCst load).
    pub(crate) fn take_deferred(&self, i: usize) -> Vec<u64> {
        let v = &self.vcpus[i];
        if !v.has_deferred.load(Ordering::SeqCst) {
            return Vec::new();
        }
        let mut d = lock(&v.deferred);
        v.has_deferred.store(false, Ordering::SeqCst);
        std::mem::take(&mut *d)
    }

    pub(crate) fn exec_end(&self, i: usize) {
        IN_REGION.with(|c| c.set(false));
        let v = &self.vcpus[i];
        v.running.store(false, Ordering::SeqCst);
        if self.excl_pending.load(Ordering::SeqCst) != 0 {
            let _g = lock(&self.excl);
            if v.has_waiter.swap(false, Ordering::SeqCst) {
                let before = self.excl_pending.fetch_sub(1, Ordering::SeqCst);
                if before == 2 {
                    self.excl_done.notify_all();
                }
            }
        }
    }

    fn start_exclusive(&self) {
        let mut g = lock(&self.excl);
        while self.excl_pending.load(Ordering::SeqCst) != 0 {
            g = self
                .excl_resume
                .wait_timeout(g, IDLE_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        self.excl_pending.store(1, Ordering::SeqCst);
        let mut n = 0;
        for (i, v) in self.vcpus.iter().enumerate() {
            if v.running.load(Ordering::SeqCst) {
                v.has_waiter.store(true, Ordering::SeqCst);
                n += 1;
                self.request_exit(i);
            }
        }
        self.excl_pending.store(n + 1, Ordering::SeqCst);
        while self.excl_pending.load(Ordering::SeqCst) > 1 {
            g = self
                .excl_done
                .wait_timeout(g, IDLE_POLL)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    fn end_exclusive(&self) {
        let _g = lock(&self.excl);
        self.excl_pending.store(0, Ordering::SeqCst);
        self.excl_resume.notify_all();
    }

    /// Runs `f` while every other vCPU is out of its execution region.
    pub(crate) fn exclusive<R>(&self, f: impl FnOnce() -> R) -> R {
        if IN_EXCL.with(|c| c.get()) {
            return f();
        }
        // A vCPU thread asking from inside its own region steps out of it first, or it
        // would wait for itself.
        let me = self.current().filter(|_| IN_REGION.with(|c| c.get()));
        if let Some(i) = me {
            self.exec_end(i);
        }
        self.start_exclusive();
        IN_EXCL.with(|c| c.set(true));
        struct End<'a>(&'a Core, Option<usize>);
        impl Drop for End<'_> {
            fn drop(&mut self) {
                IN_EXCL.with(|c| c.set(false));
                self.0.end_exclusive();
                if let Some(i) = self.1 {
                    self.0.exec_start(i);
                }
            }
        }
        let _end = End(self, me);
        f()
    }
}

// ---------------------------------------------------------------------------------------
// The generic part: work queues, and the `Control` handle

/// A vCPU's work queue (both ends: the receiver is shared so work can be drained at exit).
pub(crate) type Queue<C> = (Sender<Work<C>>, Receiver<Work<C>>);

pub(crate) struct Shared<C> {
    pub(crate) core: Arc<Core>,
    pub(crate) queues: Vec<Queue<C>>,
}

impl<C> Shared<C> {
    /// Runs vCPU `i`'s queued work (on its thread, with the CPU).
    pub(crate) fn run_work(&self, i: usize, cpu: &mut C) {
        while let Ok(w) = self.queues[i].1.try_recv() {
            w(cpu);
        }
    }

    /// Drops all queued work unrun (completing synced shares).
    pub(crate) fn drain(&self) {
        for (_, rx) in &self.queues {
            while rx.try_recv().is_ok() {}
        }
    }
}

/// A handle to control a machine's vCPUs from any thread (the board, devices, the vCPUs
/// themselves). Obtain it with [`crate::Sched::control`] before `run`.
pub struct Control<C> {
    pub(crate) shared: Arc<Shared<C>>,
}

impl<C> Clone for Control<C> {
    fn clone(&self) -> Self {
        Control {
            shared: self.shared.clone(),
        }
    }
}

impl<C: GuestCpu> Control<C> {
    fn core(&self) -> &Core {
        &self.shared.core
    }

    fn check(&self, cpu: usize) -> Result<(), SchedError> {
        if cpu < self.core().vcpus.len() {
            Ok(())
        } else {
            Err(SchedError::NoSuchCpu(cpu))
        }
    }

    pub fn num_cpus(&self) -> usize {
        self.core().vcpus.len()
    }

    pub fn mode(&self) -> SchedMode {
        self.core().mode
    }

    /// The vCPU the calling thread is running, if it is a vCPU thread of this machine.
    pub fn current_cpu(&self) -> Option<usize> {
        self.core().current()
    }

    fn enqueue(&self, cpu: usize, w: Work<C>) -> Result<(), SchedError> {
        self.check(cpu)?;
        if self.core().is_shutdown() {
            return Err(SchedError::ShutDown);
        }
        // The receiver lives as long as `Shared`, so this cannot fail.
        let _ = self.shared.queues[cpu].0.send(w);
        self.core().notify(cpu);
        Ok(())
    }

    /// Queues `f` on `cpu` and kicks it; returns at once. Work runs on the vCPU's thread
    /// at the top of its loop (also while it is off or halted), outside generated code.
    pub fn run_on(
        &self,
        cpu: usize,
        f: impl FnOnce(&mut C) + Send + 'static,
    ) -> Result<(), SchedError> {
        self.enqueue(cpu, Box::new(f))
    }

    /// Queues `f` on every vCPU; returns at once.
    pub fn run_on_all(&self, f: impl Fn(&mut C) + Send + Sync + 'static) -> Result<(), SchedError> {
        let f = Arc::new(f);
        for i in 0..self.num_cpus() {
            let f = f.clone();
            self.enqueue(i, Box::new(move |c: &mut C| f(c)))?;
        }
        Ok(())
    }

    /// Runs `f` on `cpu` and waits for it to complete.
    ///
    /// Called from a thread that is not one of this machine's vCPU threads, it blocks until
    /// `f` has run (or fails with `ShutDown`). Called from a vCPU thread (e.g. inside
    /// `GuestCpu::handle_exit`) it cannot block — the target may be that very thread — so
    /// it queues `f`, returns at once, and the calling vCPU does not execute its next TB
    /// before `f` has completed (it waits at the top of its loop, running its own queued
    /// work meanwhile, so two vCPUs syncing with each other cannot deadlock). That is the
    /// guarantee broadcast TLB invalidation needs: end the TB after issuing it.
    pub fn run_on_sync(
        &self,
        cpu: usize,
        f: impl FnOnce(&mut C) + Send + 'static,
    ) -> Result<(), SchedError> {
        self.check(cpu)?;
        let me = self.core().current();
        let waiter = me.map(|i| self.core().vcpus[i].parker.clone());
        let done = Completion::new(1, waiter);
        let share = Share(done.clone());
        self.enqueue(
            cpu,
            Box::new(move |c: &mut C| {
                f(c);
                drop(share);
            }),
        )?;
        self.finish_sync(me, done)
    }

    /// Runs `f` on every vCPU (including one that is off) and waits for all of them, with
    /// the same rule as [`run_on_sync`](Self::run_on_sync) when called from a vCPU thread.
    pub fn run_on_all_sync(
        &self,
        f: impl Fn(&mut C) + Send + Sync + 'static,
    ) -> Result<(), SchedError> {
        let n = self.num_cpus();
        let me = self.core().current();
        let waiter = me.map(|i| self.core().vcpus[i].parker.clone());
        let done = Completion::new(n, waiter);
        let f = Arc::new(f);
        for i in 0..n {
            let f = f.clone();
            let share = Share(done.clone());
            self.enqueue(
                i,
                Box::new(move |c: &mut C| {
                    f(c);
                    drop(share);
                }),
            )?;
        }
        self.finish_sync(me, done)
    }

    /// Has every vCPU but `from` carry out `word` ([`GuestCpu::apply_deferred`]) before
    /// `from` runs its next TB, like [`run_on_all_sync`](Self::run_on_all_sync), without
    /// waking the ones outside generated code (halted in WFI, off, between slices): those
    /// apply it before they execute again. Only the vCPUs inside the execution region are
    /// waited for. On a host with fewer cores than vCPUs, waking every idle vCPU for each
    /// broadcast TLBI of a booting kernel cost context switches on every one.
    pub fn sync_others_deferrable(&self, from: usize, word: u64) -> Result<(), SchedError> {
        let core = self.core();
        let mut waiting = Vec::new();
        for (i, v) in core.vcpus.iter().enumerate() {
            if i == from {
                continue;
            }
            {
                let mut d = lock(&v.deferred);
                d.push(word);
                v.has_deferred.store(true, Ordering::SeqCst);
            }
            // Pairs with exec_start's SeqCst store of `running` followed by
            // take_deferred's load: either it is running now (we wait for it below) or it
            // will see the request before it executes.
            std::sync::atomic::fence(Ordering::SeqCst);
            if v.running.load(Ordering::SeqCst) {
                waiting.push(i);
            }
        }
        let me = core.current();
        let waiter = me.map(|i| core.vcpus[i].parker.clone());
        let done = Completion::new(waiting.len(), waiter);
        for i in waiting {
            let share = Share(done.clone());
            self.enqueue(
                i,
                Box::new(move |c: &mut C| {
                    c.apply_deferred(word);
                    drop(share);
                }),
            )?;
        }
        self.finish_sync(me, done)
    }

    fn finish_sync(&self, me: Option<usize>, done: Arc<Completion>) -> Result<(), SchedError> {
        match me {
            None => done.wait(self.core()),
            Some(i) => {
                if !done.is_done() {
                    PENDING_SYNC.with(|p| p.borrow_mut().push(done));
                    // Leave generated code before the next TB and wait at the loop top.
                    self.core().request_exit(i);
                }
                Ok(())
            }
        }
    }

    /// Powers `cpu` on: queues `f` (set its registers: entry point, context id, ...), then
    /// marks it running and wakes it. Fails if it is on or already pending.
    pub fn power_on(
        &self,
        cpu: usize,
        f: impl FnOnce(&mut C) + Send + 'static,
    ) -> Result<(), SchedError> {
        self.check(cpu)?;
        let v = &self.core().vcpus[cpu];
        if v.power
            .compare_exchange(
                POWER_OFF,
                POWER_PENDING,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_err()
        {
            return Err(SchedError::AlreadyOn(cpu));
        }
        let core = self.shared.core.clone();
        let r = self.enqueue(
            cpu,
            Box::new(move |c: &mut C| {
                f(c);
                core.power_on_done(cpu);
            }),
        );
        if r.is_err() {
            v.power.store(POWER_OFF, Ordering::Release);
        }
        r
    }

    /// The power state of `cpu` (`Off` for an index out of range; see `num_cpus`).
    pub fn power_state(&self, cpu: usize) -> PowerState {
        if cpu < self.num_cpus() {
            self.core().power(cpu)
        } else {
            PowerState::Off
        }
    }

    /// Makes `cpu` leave generated code promptly and ends a WFI/WFE it sleeps in (an
    /// interrupt controller calls this after making an interrupt pending).
    pub fn kick(&self, cpu: usize) {
        if cpu < self.num_cpus() {
            self.core().kick(cpu);
        }
    }

    pub fn kick_all(&self) {
        for i in 0..self.num_cpus() {
            self.core().kick(i);
        }
    }

    /// SEV: sets every vCPU's event register and wakes those in WFE.
    pub fn send_event(&self) {
        self.core().send_event();
    }

    /// Stops every vCPU loop; `run` returns `status` (the first shutdown request wins).
    pub fn shutdown(&self, status: i32) {
        self.core().request_shutdown(status, None);
    }

    /// Stops the machine with status 1 and `message`.
    pub fn fatal(&self, message: impl Into<String>) {
        self.core().request_shutdown(1, Some(message.into()));
    }

    pub fn is_shutdown(&self) -> bool {
        self.core().is_shutdown()
    }

    /// Stop-the-world: runs `f` while no other vCPU is in generated code (or translating);
    /// they stay parked until `f` returns. Callable from any thread, including a vCPU thread
    /// inside a `GuestCpu` callback (that vCPU steps out of its region for the duration),
    /// and nested. Rules: do not hold a device lock, and do not wait for another vCPU
    /// (e.g. `run_on_sync` from a non-vCPU thread) inside `f`.
    pub fn exclusive<R>(&self, f: impl FnOnce() -> R) -> R {
        self.core().exclusive(f)
    }

    /// The machine's TB cache (e.g. to invalidate TBs of a written code page).
    pub fn tb_cache(&self) -> &TbCache {
        &self.core().tb_cache
    }

    /// Invalidates the TB(s) with `key` (self-modifying code, a written code page): removes
    /// them from the TB cache (no lookup or jump cache finds them again), then has the back
    /// end cut every chain into them ([`tcg_ir::Backend::unchain`]), so no vCPU enters them
    /// again; a vCPU already inside one finishes that TB. Returns whether one was found.
    /// Needs no exclusive section.
    pub fn invalidate_tb(&self, key: &crate::TbKey) -> bool {
        let core = self.core();
        let tbs = core.tb_cache.remove_tbs(key);
        for tb in &tbs {
            core.backend.unchain(&*tb.code);
        }
        !tbs.is_empty()
    }

    /// Self-modifying code and DMA: invalidates the TBs translated from guest physical bytes
    /// `[paddr, paddr + len)` (any length; split by page) and cuts every chain into them.
    /// Writes through the softmmu (guest stores, `PhysMap::write`/`write_bytes`) do this
    /// themselves once [`crate::Sched::attach_phys`] was called; call it for writes that
    /// bypass them. Needs no exclusive section; a vCPU already inside such a TB finishes it.
    pub fn invalidate_phys_range(&self, paddr: u64, len: u64) {
        let core = self.core();
        let phys = core.phys.get().map(|p| &**p);
        let end = paddr.saturating_add(len);
        let mut a = paddr;
        while a < end {
            let next = ((a & softmmu::layout::PAGE_MASK) + softmmu::layout::PAGE_SIZE).min(end);
            core.invalidate_phys_range(phys, a, next - a);
            if next <= a {
                break;
            }
            a = next;
        }
    }

    /// Invalidates every TB translated from the guest physical page holding `paddr`.
    pub fn invalidate_phys_page(&self, paddr: u64) {
        self.invalidate_phys_range(
            paddr & softmmu::layout::PAGE_MASK,
            softmmu::layout::PAGE_SIZE,
        );
    }

    /// Flushes every TB and the back end's code memory, in an exclusive section.
    pub fn flush_tbs(&self) {
        let core = self.core();
        core.exclusive(|| {
            core.tb_cache.flush();
            core.backend.reset();
        });
    }

    /// What `cpu` is doing, from its flags alone (no work queued, nothing waited for):
    /// "off", "pending" (CPU_ON not yet taken), "wfi", "wfe" or "running". For a hang
    /// dump, which must work when the vCPU answers nothing.
    pub fn run_state(&self, cpu: usize) -> &'static str {
        let Some(v) = self.core().vcpus.get(cpu) else {
            return "absent";
        };
        match self.core().power(cpu) {
            PowerState::Off => "off",
            PowerState::Pending => "pending",
            PowerState::On => match v.halt.load(Ordering::Acquire) {
                HALT_WFI => "wfi",
                HALT_WFE => "wfe",
                _ => "running",
            },
        }
    }

    /// Statistics of `cpu` as last published by its loop.
    pub fn stats(&self, cpu: usize) -> VcpuStats {
        match self.core().vcpus.get(cpu) {
            Some(v) => VcpuStats {
                tbs_executed: v.stat_tbs.load(Ordering::Relaxed),
                lookup_exits: v.stat_lookups.load(Ordering::Relaxed),
                goto_exits: v.stat_gotos.load(Ordering::Relaxed),
                translations: v.stat_translations.load(Ordering::Relaxed),
            },
            None => VcpuStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn useless_samples_back_off_and_a_useful_one_resets() {
        let mut skip = 0;
        let mut seen = Vec::new();
        for _ in 0..5 {
            skip = next_sample_skip(skip, false);
            seen.push(skip);
        }
        assert_eq!(seen, [1, 3, 7, MAX_SAMPLE_SKIP, MAX_SAMPLE_SKIP]);
        assert_eq!(next_sample_skip(skip, true), 0);
    }
}
