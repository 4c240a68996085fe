//! Tiered execution: every TB starts in a cheap back end (`virt` uses the JIT's quick code
//! generator on x86-64 hosts, the interpreter elsewhere) and moves to an optimising one
//! (Cranelift) once it has run often enough to repay compilation.
//!
//! A Linux boot translates hundreds of thousands of TBs that run only a few times;
//! Cranelift spends ~100-300 µs on each, the cold tiers a few µs, while a hot Cranelift TB
//! runs several times faster. The cold back end counts runs ([`CompiledTb::runs`]) and
//! stops chained entries at [`CompiledTb::set_run_limit`], so the loop sees a TB that is
//! due for promotion. By default hot TBs are compiled by the [`service`] on worker threads: the vCPU
//! keeps running the cold code and picks up the hot code when it is installed (a `OnceLock`
//! read, no lock on the execution path). [`TierOptions::workers`] `= 0` compiles on the
//! vCPU's thread instead, at the exact run that crosses the threshold (deterministic tests).
//!
//! A TB keeps no IR when the caller gives an [`IrSource`] (the execution loop re-translates
//! from guest memory at promotion); otherwise it keeps a copy of its IR until promoted.
//!
//! Invalidation: [`Backend::unchain`] marks the TB dead; a dead TB is never queued, never
//! compiled and never installed, and hot code installed concurrently with the unchain is
//! unchained by whichever side comes second (each writes its half, then reads the other's).

pub mod service;

use service::{CompileService, Enqueued, ServiceHandle};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tcg_ir::{Backend, BackendError, CompiledTb, Func, IrSource};

/// Executions of a TB in the cold tier before it is compiled by the hot one.
pub const DEFAULT_THRESHOLD: u32 = 10_000;

/// How the tiers are used.
#[derive(Clone, Debug)]
pub struct TierOptions {
    /// Runs of a TB in the cold tier before it is promoted.
    pub threshold: u32,
    /// Compile threads; 0 compiles synchronously on the vCPU's thread.
    pub workers: usize,
    /// Most TBs waiting for a worker; a TB that finds the queue full stays cold and asks
    /// again after another `threshold` runs.
    pub queue_cap: usize,
    /// Samples (see [`Backend::sample`]) after which a TB is promoted, whatever its run
    /// count (0: samples are ignored). For a cold tier whose chained code does not count
    /// runs, so that hot loops that never return to the execution loop are promoted too.
    pub sample_promote: u32,
    /// A queued TB that has run `steal_after` times the threshold while waiting for a
    /// worker is compiled by the vCPU running it (0: never). When vCPUs outnumber host
    /// cores the low-priority workers fall behind, and a hot TB left in the interpreter
    /// runs at a tenth of the JIT's speed.
    pub steal_after: u32,
    /// Guest instructions a TB needs to be promoted, unless it loops to itself or has
    /// vector ops (0: every TB may be promoted). Quick code chains to quick code inside
    /// one shared frame, while a Cranelift TB saves and restores registers on every entry
    /// and exit, so for short TBs between other short TBs the cold tier is as fast or
    /// faster. Measured with the quick cold tier ([`DEFAULT_MIN_INSNS`]).
    pub min_insns: usize,
}

/// The `min_insns` of `virt`'s tiered back end with the quick cold tier: in practice only
/// self loops, vector TBs and the longest straight-line TBs are promoted. Measured on 2
/// cores, same binary, interleaved runs (minimum of 2 per workload): the 14 userland
/// workloads 0.98x the time of a minimum of 10 (in four experiments, 64, 1000, and 10
/// without TBs ending in an indirect branch: 0.976-0.983x; python's n-body 0.92x), the
/// boot within noise, kernels-recursion 0.378 -> 0.370 s, vecc-bench 1.49 -> 1.54 s (its
/// hot 10-20 instruction functions gain from Cranelift). Against promoting every TB
/// (earlier): kernels-switch 0.59 -> 0.48 s.
pub const DEFAULT_MIN_INSNS: usize = 64;

impl TierOptions {
    /// Synchronous promotion at `threshold` runs.
    pub fn sync(threshold: u32) -> TierOptions {
        TierOptions {
            threshold,
            workers: 0,
            queue_cap: 0,
            sample_promote: 0,
            steal_after: 0,
            min_insns: 0,
        }
    }

    /// Background compilation with the default worker count for this host: one thread per
    /// host core beyond the first, at least one, at most [`service::MAX_WORKERS`].
    pub fn background(threshold: u32) -> TierOptions {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        TierOptions {
            threshold,
            workers: cores.saturating_sub(1).clamp(1, service::MAX_WORKERS),
            queue_cap: service::DEFAULT_QUEUE_CAP,
            sample_promote: 0,
            steal_after: DEFAULT_STEAL_AFTER,
            min_insns: 0,
        }
    }
}

/// What every tiered TB of one back end shares.
pub(crate) struct Shared {
    cold: Arc<dyn Backend>,
    hot: Arc<dyn Backend>,
    threshold: u32,
    /// Runs at which a queued TB is compiled by its vCPU (0: never).
    steal_at: u32,
    /// See [`TierOptions::sample_promote`].
    sample_promote: u32,
    /// See [`TierOptions::min_insns`].
    min_insns: usize,
    /// The hot back end ran out of code memory: the next `compile` reports `CodeFull` so
    /// the scheduler flushes and resets (promotions stop until then).
    hot_full: AtomicBool,
    service: Option<ServiceHandle>,
    /// Told about each hot TB as it is installed (`-d out_asm`); set once, read lock-free.
    on_install: OnceLock<InstallHook>,
}

/// See [`Tiered::on_install`].
pub type InstallHook = Box<dyn Fn(&dyn CompiledTb) + Send + Sync>;

/// A back end running TBs in `cold` first and in `hot` once they are hot.
pub struct Tiered {
    shared: Arc<Shared>,
    _workers: Option<CompileService>,
}

impl Tiered {
    /// Synchronous promotion at `threshold` runs (see [`TierOptions::sync`]).
    pub fn new(cold: Arc<dyn Backend>, hot: Arc<dyn Backend>, threshold: u32) -> Tiered {
        Self::with_options(cold, hot, TierOptions::sync(threshold))
    }

    pub fn with_options(cold: Arc<dyn Backend>, hot: Arc<dyn Backend>, o: TierOptions) -> Tiered {
        let workers = (o.workers > 0).then(|| CompileService::start(o.workers, o.queue_cap));
        Tiered {
            shared: Arc::new(Shared {
                cold,
                hot,
                threshold: o.threshold.max(1),
                steal_at: o.threshold.max(1).saturating_mul(o.steal_after),
                sample_promote: o.sample_promote,
                min_insns: o.min_insns,
                hot_full: AtomicBool::new(false),
                service: workers.as_ref().map(|w| w.handle()),
                on_install: OnceLock::new(),
            }),
            _workers: workers,
        }
    }

    /// Calls `hook` with the hot code of every TB promoted from now on, on the thread that
    /// compiled it, once it is installed. Only the first hook set is kept (returns false
    /// for later ones).
    pub fn on_install(&self, hook: InstallHook) -> bool {
        self.shared.on_install.set(hook).is_ok()
    }

    /// TBs promoted so far by the workers (0 when synchronous).
    pub fn background_compiles(&self) -> u64 {
        self.shared
            .service
            .as_ref()
            .map_or(0, |s| s.compiled.load(Ordering::Relaxed))
    }

    /// Waits until no promotion is queued or in flight (tests, benchmarks).
    pub fn wait_idle(&self) {
        if let Some(s) = &self.shared.service {
            s.wait_idle();
        }
    }
}

/// Where a TB is in its promotion.
mod state {
    /// Running cold, counting runs.
    pub const COLD: u8 = 0;
    /// Waiting in the compile queue.
    pub const QUEUED: u8 = 1;
    /// Hot code installed, or promotion abandoned (compile error, no IR).
    pub const DONE: u8 = 2;
    /// Being compiled (by a worker, or by the vCPU that stole it from the queue).
    pub const COMPILING: u8 = 3;
}

/// Samples that promote a TB when the cold tier does not count runs (the quick JIT in
/// `virt`). The scheduler samples every running vCPU each 2 ms (MTTCG; up to every 16 ms
/// while its samples find no TB to promote) or 4 ms time slice (round-robin), and at every
/// other exit request (timer interrupts): a TB taking a tenth of a vCPU's time is promoted
/// in well under a second, a loop taking all of it in ~10 ms (~70 ms after a long phase
/// without promotable TBs).
pub const DEFAULT_SAMPLE_PROMOTE: u32 = 4;

/// Default [`TierOptions::steal_after`].
pub const DEFAULT_STEAL_AFTER: u32 = 8;

/// How a TB's IR is had again at promotion.
enum Ir {
    Kept(Func),
    Source(Arc<dyn IrSource>),
    Gone,
}

/// One TB: cold code, the means to get its IR again, and the hot code once it exists.
pub(crate) struct TieredTb {
    cold: Arc<dyn CompiledTb>,
    hot: OnceLock<Arc<dyn CompiledTb>>,
    ir: Mutex<Ir>,
    /// Runs in the cold tier (counted without an atomic read-modify-write: a lost update
    /// between vCPUs only delays the promotion a little).
    runs: AtomicU32,
    /// Profiling samples since the last promotion request (see [`Backend::sample`]).
    samples: AtomicU32,
    /// The run count at which to ask for promotion (again, after back-pressure).
    ask_at: AtomicU32,
    state: AtomicU8,
    /// Unchained (invalidated): never promoted, never a chain target.
    dead: AtomicBool,
    shared: Arc<Shared>,
    me: Weak<TieredTb>,
}

impl TieredTb {
    /// Compiles and installs the hot version (synchronously, or on a worker). On failure
    /// the TB simply stays cold.
    pub(crate) fn promote(&self) {
        if self.dead.load(Ordering::Acquire) || self.shared.hot_full.load(Ordering::Relaxed) {
            self.state.store(state::DONE, Ordering::Release);
            return;
        }
        let func = {
            let mut g = self.ir.lock().unwrap_or_else(|p| p.into_inner());
            match std::mem::replace(&mut *g, Ir::Gone) {
                Ir::Kept(f) => Some(f),
                Ir::Source(s) => {
                    let f = s.ir();
                    if f.is_none() {
                        *g = Ir::Source(s);
                    }
                    f
                }
                Ir::Gone => None,
            }
        };
        let Some(func) = func else {
            self.state.store(state::DONE, Ordering::Release);
            return;
        };
        match self.shared.hot.compile(&func) {
            Ok(code) => {
                if self.hot.set(code).is_ok() {
                    if let (Some(hook), Some(h)) = (self.shared.on_install.get(), self.hot.get()) {
                        hook(&**h);
                    }
                    // Cold code chained to this TB's cold code would keep running it.
                    self.shared.cold.unchain(&*self.cold);
                    // Publish, then look for a concurrent unchain (see the module doc).
                    fence(Ordering::SeqCst);
                    if self.dead.load(Ordering::Acquire) {
                        if let Some(h) = self.hot.get() {
                            self.shared.hot.unchain(&**h);
                        }
                    }
                }
            }
            Err(BackendError::CodeFull) => {
                self.shared.hot_full.store(true, Ordering::Relaxed);
                // After the flush this TB is gone anyway.
            }
            // A hot back end that cannot compile what the cold one could: stay cold.
            Err(_) => {}
        }
        self.state.store(state::DONE, Ordering::Release);
    }

    /// Takes a queued TB for compilation; false if someone else did (or it was dropped).
    pub(crate) fn claim(&self) -> bool {
        self.state
            .compare_exchange(
                state::QUEUED,
                state::COMPILING,
                Ordering::AcqRel,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// The code to run now; counts the run and asks for promotion at the threshold.
    #[inline]
    fn current(&self) -> &Arc<dyn CompiledTb> {
        if let Some(h) = self.hot.get() {
            return h;
        }
        // A cold back end that counts sees the runs through its own chains too.
        let runs = match self.cold.runs() {
            Some(r) => r.saturating_add(1),
            None => {
                let r = self.runs.load(Ordering::Relaxed).saturating_add(1);
                self.runs.store(r, Ordering::Relaxed);
                r
            }
        };
        if runs >= self.ask_at.load(Ordering::Relaxed) {
            self.request_promotion(runs);
            if let Some(h) = self.hot.get() {
                return h;
            }
        }
        &self.cold
    }

    #[cold]
    fn request_promotion(&self, runs: u32) {
        // Asked once per `threshold` runs at most. Chains into the cold code stop at the
        // same count (the cold back end's run limit), not at every run from now on, so
        // a TB waiting for a worker keeps running chained until the next ask.
        let next = runs.saturating_add(self.shared.threshold);
        self.ask_at.store(next, Ordering::Relaxed);
        self.cold.set_run_limit(next);
        if let Err(now) = self.state.compare_exchange(
            state::COLD,
            state::QUEUED,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            // Still waiting for a worker after `steal_after` thresholds of runs: the
            // workers are behind (see `TierOptions::steal_after`): compile it here. The
            // worker that dequeues it later skips it.
            if now == state::QUEUED
                && self.shared.steal_at != 0
                && runs >= self.shared.steal_at
                && self.claim()
            {
                self.promote();
            }
            return;
        }
        match &self.shared.service {
            None => self.promote(),
            Some(s) => match self.me.upgrade() {
                Some(me) => {
                    if s.enqueue(me) == Enqueued::Full {
                        // Back-pressure: ask again after another `threshold` runs.
                        self.state.store(state::COLD, Ordering::Release);
                    }
                }
                None => self.state.store(state::DONE, Ordering::Release),
            },
        }
    }

    /// One more profiling sample: promote at [`TierOptions::sample_promote`] samples.
    /// False when the TB is not waiting for promotion (not promotable, queued, hot).
    fn sampled(&self) -> bool {
        let need = self.shared.sample_promote;
        if need == 0
            || self.hot.get().is_some()
            || self.dead.load(Ordering::Acquire)
            || self.state.load(Ordering::Acquire) != state::COLD
        {
            return false;
        }
        let s = self.samples.load(Ordering::Relaxed).saturating_add(1);
        self.samples.store(s, Ordering::Relaxed);
        if s >= need {
            self.samples.store(0, Ordering::Relaxed);
            self.request_promotion(self.runs());
        }
        true
    }

    pub(crate) fn runs(&self) -> u32 {
        self.cold
            .runs()
            .unwrap_or_else(|| self.runs.load(Ordering::Relaxed))
    }
}

impl CompiledTb for TieredTb {
    unsafe fn exec(&self, env: *mut u8) -> u64 {
        // SAFETY: the caller's contract, passed on; both tiers were compiled from the
        // same IR for the same env layout.
        unsafe { self.current().exec(env) }
    }

    unsafe fn exec_chained(&self, env: *mut u8) -> u64 {
        // SAFETY: as above.
        unsafe { self.current().exec_chained(env) }
    }

    fn code_size(&self) -> usize {
        self.cold.code_size() + self.hot.get().map_or(0, |h| h.code_size())
    }

    fn host_code(&self) -> Option<&[u8]> {
        // The code that runs now: the hot code once installed, the cold code before.
        match self.hot.get() {
            Some(h) => h.host_code(),
            None => self.cold.host_code(),
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Whether a TB may be promoted: it loops to itself, has vector ops, or has at least
/// `min_insns` guest instructions. Short straight-line TBs (calls, returns, dispatch)
/// stay in the cold tier, whose code chains to cold code without the hot code's full
/// prologue and epilogue (see [`TierOptions::min_insns`]).
fn promotable(func: &Func, min_insns: usize) -> bool {
    min_insns == 0
        || func.self_loops != 0
        || func.guest_insn_count() >= min_insns
        || func
            .ops
            .iter()
            .any(|o| o.opc.flags().contains(tcg_ir::OpFlags::VECTOR))
}

fn tiered(tb: &dyn CompiledTb) -> Option<&TieredTb> {
    tb.as_any()?.downcast_ref::<TieredTb>()
}

impl Tiered {
    fn make(&self, func: &Func, ir: Ir) -> Result<Arc<dyn CompiledTb>, BackendError> {
        if self.shared.hot_full.load(Ordering::Relaxed) {
            return Err(BackendError::CodeFull);
        }
        let cold = self.shared.cold.compile(func)?;
        let st = if promotable(func, self.shared.min_insns) {
            state::COLD
        } else {
            state::DONE
        };
        Ok(Arc::new_cyclic(|me| TieredTb {
            cold,
            hot: OnceLock::new(),
            ir: Mutex::new(ir),
            runs: AtomicU32::new(0),
            samples: AtomicU32::new(0),
            ask_at: AtomicU32::new(self.shared.threshold),
            state: AtomicU8::new(st),
            dead: AtomicBool::new(false),
            shared: self.shared.clone(),
            me: me.clone(),
        }))
    }
}

impl Backend for Tiered {
    fn name(&self) -> &'static str {
        "tiered"
    }

    /// Keeps a copy of `func` until the TB is promoted.
    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        self.make(func, Ir::Kept(func.clone()))
    }

    /// Keeps only `source`, asked for the IR again at promotion.
    fn compile_with_source(
        &self,
        func: &Func,
        source: Option<Arc<dyn IrSource>>,
    ) -> Result<Arc<dyn CompiledTb>, BackendError> {
        match source {
            Some(s) => self.make(func, Ir::Source(s)),
            None => self.compile(func),
        }
    }

    fn reset(&self) {
        if let Some(s) = &self.shared.service {
            // Queued TBs belong to the flushed generation; one being compiled finishes
            // into its (unreachable) TB.
            s.clear();
        }
        self.shared.cold.reset();
        self.shared.hot.reset();
        self.shared.hot_full.store(false, Ordering::Relaxed);
    }

    fn sample(&self, tb: &dyn CompiledTb) -> bool {
        tiered(tb).is_some_and(|t| t.sampled())
    }

    fn wants_samples(&self) -> bool {
        self.shared.sample_promote > 0
    }

    /// Hot code chains to hot code, cold to cold (each back end recognises its own exit
    /// values and refuses the other's); a promoted TB's cold code is no chain target.
    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        match tiered(&**target) {
            Some(t) if !t.dead.load(Ordering::Acquire) => match t.hot.get() {
                Some(h) => self.shared.hot.chain(from_exit, h),
                None => self.shared.cold.chain(from_exit, &t.cold),
            },
            _ => false,
        }
    }

    /// The hot code once installed, else the cold code if its back end lets other TBs
    /// jump into it (the quick JIT: its chained entry stops at the run limit, so a cold
    /// TB entered this way is still promoted; the interpreter does not).
    fn direct_entry(&self, tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        let t = tiered(tb)?;
        if t.dead.load(Ordering::Acquire) {
            return None;
        }
        match t.hot.get() {
            Some(h) => self.shared.hot.direct_entry(&**h),
            None => self.shared.cold.direct_entry(&*t.cold),
        }
    }

    fn unchain(&self, tb: &dyn CompiledTb) {
        if let Some(t) = tiered(tb) {
            t.dead.store(true, Ordering::Release);
            self.shared.cold.unchain(&*t.cold);
            // Mark dead, then look for hot code (see the module doc).
            fence(Ordering::SeqCst);
            if let Some(h) = t.hot.get() {
                self.shared.hot.unchain(&**h);
            }
            let mut g = t.ir.lock().unwrap_or_else(|p| p.into_inner());
            *g = Ir::Gone;
        }
    }
}

#[cfg(test)]
mod tests;
