//! Tiered execution: every TB starts in a cheap back end (the interpreter) and moves to an
//! optimising one (the Cranelift JIT) once it has run often enough to repay compilation.
//!
//! A Linux boot translates hundreds of thousands of TBs that run only a few times; the JIT
//! spends ~300 µs on each, the interpreter ~1 µs, while a hot JIT TB runs ~8x faster. The
//! TB keeps its (optimised) IR until it is promoted, then drops it.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tcg_ir::{Backend, BackendError, CompiledTb, Func};

/// Executions of a TB in the cold tier before it is compiled by the hot one.
pub const DEFAULT_THRESHOLD: u32 = 500;

/// What every tiered TB of one back end shares.
struct Shared {
    hot: Arc<dyn Backend>,
    threshold: u32,
    /// The hot back end ran out of code memory: the next `compile` reports `CodeFull` so
    /// the scheduler flushes and resets (promotions stop until then).
    hot_full: AtomicBool,
}

/// A back end running TBs in `cold` first and in `hot` once they are hot.
pub struct Tiered {
    cold: Arc<dyn Backend>,
    shared: Arc<Shared>,
}

impl Tiered {
    pub fn new(cold: Arc<dyn Backend>, hot: Arc<dyn Backend>, threshold: u32) -> Tiered {
        Tiered {
            cold,
            shared: Arc::new(Shared {
                hot,
                threshold: threshold.max(1),
                hot_full: AtomicBool::new(false),
            }),
        }
    }
}

/// One TB: cold code, the IR to compile later, and the hot code once it exists.
struct TieredTb {
    cold: Arc<dyn CompiledTb>,
    hot: OnceLock<Arc<dyn CompiledTb>>,
    ir: Mutex<Option<Func>>,
    runs: AtomicU32,
    /// Unchained (invalidated): never promoted, never a chain target.
    dead: AtomicBool,
    shared: Arc<Shared>,
}

impl TieredTb {
    /// Compiles the hot version (called once, by the thread whose run crossed the
    /// threshold). On failure the TB simply stays cold.
    fn promote(&self) {
        if self.dead.load(Ordering::Acquire) || self.shared.hot_full.load(Ordering::Relaxed) {
            return;
        }
        let Some(func) = self.ir.lock().ok().and_then(|mut g| g.take()) else {
            return;
        };
        match self.shared.hot.compile(&func) {
            Ok(code) => {
                let _ = self.hot.set(code);
            }
            Err(BackendError::CodeFull) => {
                self.shared.hot_full.store(true, Ordering::Relaxed);
                // Keep the IR: after the flush this TB is gone anyway.
            }
            // A hot back end that cannot compile what the cold one could: stay cold.
            Err(_) => {}
        }
    }

    #[inline]
    fn current(&self) -> &Arc<dyn CompiledTb> {
        if let Some(h) = self.hot.get() {
            return h;
        }
        if self.runs.fetch_add(1, Ordering::Relaxed) + 1 == self.shared.threshold {
            self.promote();
            if let Some(h) = self.hot.get() {
                return h;
            }
        }
        &self.cold
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

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

fn tiered(tb: &dyn CompiledTb) -> Option<&TieredTb> {
    tb.as_any()?.downcast_ref::<TieredTb>()
}

impl Backend for Tiered {
    fn name(&self) -> &'static str {
        "tiered"
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        if self.shared.hot_full.load(Ordering::Relaxed) {
            return Err(BackendError::CodeFull);
        }
        let cold = self.cold.compile(func)?;
        Ok(Arc::new(TieredTb {
            cold,
            hot: OnceLock::new(),
            ir: Mutex::new(Some(func.clone())),
            runs: AtomicU32::new(0),
            dead: AtomicBool::new(false),
            shared: self.shared.clone(),
        }))
    }

    fn reset(&self) {
        self.cold.reset();
        self.shared.hot.reset();
        self.shared.hot_full.store(false, Ordering::Relaxed);
    }

    /// Only hot code chains (the exit value comes from it); the target must be hot too.
    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        match tiered(&**target) {
            Some(t) if !t.dead.load(Ordering::Acquire) => match t.hot.get() {
                Some(h) => self.shared.hot.chain(from_exit, h),
                None => false,
            },
            _ => false,
        }
    }

    fn unchain(&self, tb: &dyn CompiledTb) {
        if let Some(t) = tiered(tb) {
            t.dead.store(true, Ordering::Release);
            if let Some(h) = t.hot.get() {
                self.shared.hot.unchain(&**h);
            }
            if let Ok(mut g) = t.ir.lock() {
                g.take();
            }
        }
    }
}

#[cfg(test)]
mod tests;
