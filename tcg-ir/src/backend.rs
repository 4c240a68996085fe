//! The contract between the IR and the back ends: helpers, exit codes, the `Backend` trait.

use crate::func::Func;
use bitflags::bitflags;
use std::fmt;
use std::sync::Arc;

bitflags! {
    /// What a helper may do, so back ends and the optimizer know what to sync or keep.
    ///
    /// A back end that caches globals in host registers must write them back before a call
    /// unless the helper has *both* NO_READ_GLOBALS and NO_WRITE_GLOBALS (a helper that
    /// writes some globals would otherwise have its writes undone, or see stale values, on
    /// reload), and reload after it unless NO_WRITE_GLOBALS.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct HelperFlags: u8 {
        /// Does not read guest globals from `env` (no write-back needed before the call).
        const NO_READ_GLOBALS = 1;
        /// Does not write guest globals (no reload needed after the call).
        const NO_WRITE_GLOBALS = 2;
        /// No side effects at all: may be removed when its result is unused.
        const NO_SIDE_EFFECTS = 4;
    }
}

/// A function generated code may call.
///
/// ABI: `extern "C" fn(env: *mut u8, a0: u64, .., a{nargs-1}: u64) -> u64` with at most
/// [`Helper::MAX_ARGS`] arguments after `env`; every argument and the result are 64-bit
/// (I32 values zero-extended). The result is ignored when `has_ret` is false.
#[derive(Debug)]
pub struct Helper {
    pub name: &'static str,
    pub addr: usize,
    pub nargs: u8,
    pub has_ret: bool,
    pub flags: HelperFlags,
}

impl Helper {
    pub const MAX_ARGS: u8 = 6;
}

/// The values a TB returns to the execution loop. Values from [`ExitCode::FIRST_GUEST`] up
/// to (excluding) [`ExitCode::CHAIN_BIT`] are defined by the guest CPU (the translator
/// emits them with `exit_tb`); values with `CHAIN_BIT` set are chainable `goto_tb` exits
/// (from [`CompiledTb::exec_chained`] only).
pub struct ExitCode;

impl ExitCode {
    /// Continue at `env.pc` through `goto_tb` slot 0 or 1 (chainable direct jump).
    pub const GOTO_TB0: u64 = 0;
    pub const GOTO_TB1: u64 = 1;
    /// Continue at `env.pc`, looked up (indirect branch or end of TB without a slot).
    pub const LOOKUP: u64 = 2;
    /// The TB saw the exit-request flag on entry and ran nothing.
    pub const REQUESTED: u64 = 3;
    /// A guest memory access (slow path) recorded a guest fault in the env's fault record.
    /// Back ends check for faults only after guest memory ops; a helper that can fail
    /// reports it in its return value and the translator branches on that.
    pub const FAULT: u64 = 4;
    pub const FIRST_GUEST: u64 = 16;

    /// Set in a *chainable* `goto_tb` exit value (see [`ExitCode::chainable`]). Guest exit
    /// codes are below this bit, so the two never collide.
    pub const CHAIN_BIT: u64 = 1 << 63;

    /// The exit value of a `goto_tb` exit that a back end can patch: `CHAIN_BIT | cell |
    /// slot`, where `cell` is the (at least 2-aligned, below `CHAIN_BIT`) address of the
    /// exiting TB's chain cell and `slot` is 0 or 1. Only the back end that produced the
    /// value interprets `cell` (in [`Backend::chain`]); everybody else only needs
    /// [`ExitCode::goto_tb_slot`]. Back ends that do not chain return plain
    /// [`GOTO_TB0`](Self::GOTO_TB0)/[`GOTO_TB1`](Self::GOTO_TB1) instead.
    #[inline]
    pub const fn chainable(cell: usize, slot: u64) -> u64 {
        Self::CHAIN_BIT | cell as u64 | (slot & 1)
    }

    /// `Some(slot)` for a `goto_tb` exit (plain or chainable), `None` for anything else.
    #[inline]
    pub const fn goto_tb_slot(v: u64) -> Option<u64> {
        if v & Self::CHAIN_BIT != 0 {
            Some(v & 1)
        } else if v <= Self::GOTO_TB1 {
            Some(v)
        } else {
            None
        }
    }

    /// Whether `v` is a `goto_tb` exit (plain or chainable).
    #[inline]
    pub const fn is_goto_tb(v: u64) -> bool {
        Self::goto_tb_slot(v).is_some()
    }

    /// The chain-cell address carried by a chainable exit value.
    #[inline]
    pub const fn chain_cell(v: u64) -> Option<usize> {
        if v & Self::CHAIN_BIT != 0 {
            Some((v & !Self::CHAIN_BIT & !1) as usize)
        } else {
            None
        }
    }

    /// `v` with a chainable `goto_tb` exit turned into the plain `GOTO_TB0`/`GOTO_TB1`
    /// (what [`CompiledTb::exec`] returns); other values unchanged.
    #[inline]
    pub const fn normalize(v: u64) -> u64 {
        if v & Self::CHAIN_BIT != 0 {
            v & 1
        } else {
            v
        }
    }
}

/// Executable code for one TB.
///
/// The pc passed to memory slow paths is that of the nearest `insn_start` before the op in
/// program order (translators never branch backwards over an `insn_start` within a TB).
pub trait CompiledTb: Send + Sync {
    /// Runs the TB and returns its exit code.
    ///
    /// # Safety
    /// `env` must point to a live guest environment of the layout the IR was built for,
    /// starting with the softmmu's `EnvHead`, used by this thread only for the call.
    unsafe fn exec(&self, env: *mut u8) -> u64;

    /// Host bytes this TB occupies (generated code or interpreter program).
    fn code_size(&self) -> usize;

    /// Like [`exec`](Self::exec), but a `goto_tb` exit may come back as a chainable value
    /// ([`ExitCode::chainable`]) naming the TB that actually exited (which, once TBs are
    /// chained, need not be this one). The execution loop calls this and passes such
    /// values to [`Backend::chain`]; decode them with [`ExitCode::goto_tb_slot`].
    /// Default: [`exec`](Self::exec).
    ///
    /// # Safety
    /// As for [`exec`](Self::exec).
    unsafe fn exec_chained(&self, env: *mut u8) -> u64 {
        // SAFETY: same contract.
        unsafe { self.exec(env) }
    }

    /// The concrete TB, for back ends that need to recognise their own TBs (chaining).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// How many times the TB was entered, from the execution loop or through a chain, if
    /// the back end counts (the interpreter does; the tiered back end promotes by it).
    fn runs(&self) -> Option<u32> {
        None
    }

    /// Moves the run count at which chained entries into this TB stop (so the execution
    /// loop sees it again), for back ends that have such a limit; 0: no limit. The
    /// tiered back end raises it while the TB waits for its hot code.
    fn set_run_limit(&self, _limit: u32) {}

    /// The native code this TB runs now, as bytes at their host address (for `-d out_asm`
    /// and `-d exec`); `None` when it is not native code (the interpreter). Default: `None`.
    fn host_code(&self) -> Option<&[u8]> {
        None
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// The IR failed verification.
    Invalid(String),
    /// The back end could not compile valid IR (a back-end bug or resource limit).
    Compile(String),
    /// Code memory is exhausted; the caller should flush the TB cache and retry.
    CodeFull,
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendError::Invalid(m) => write!(f, "invalid IR: {m}"),
            BackendError::Compile(m) => write!(f, "back end failed to compile a TB: {m}"),
            BackendError::CodeFull => f.write_str("code memory is full"),
        }
    }
}

impl std::error::Error for BackendError {}

/// Produces a TB's IR again, on any thread, for back ends that compile it later (the
/// tiered back end promotes on worker threads and keeps no IR meanwhile).
pub trait IrSource: Send + Sync {
    /// The TB's (optimised) IR as it was given to [`Backend::compile_with_source`], or
    /// `None` if it cannot be had any more (the TB then stays as it is). If the guest code
    /// changed meanwhile, the TB has been (or is being) invalidated and whatever this
    /// returns is never run.
    fn ir(&self) -> Option<Func>;
}

/// A code generator for TBs. Object-safe so it can be picked at run time; shared by all
/// vCPU threads (compilation may run concurrently).
pub trait Backend: Send + Sync {
    fn name(&self) -> &'static str;
    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError>;

    /// [`compile`](Self::compile), where `source` (if any) can produce `func` again later,
    /// so a back end need not keep a copy. Default: `compile`.
    fn compile_with_source(
        &self,
        func: &Func,
        source: Option<Arc<dyn IrSource>>,
    ) -> Result<Arc<dyn CompiledTb>, BackendError> {
        let _ = source;
        self.compile(func)
    }
    /// Drops all code (after the TB cache has been flushed and no vCPU runs old code).
    fn reset(&self) {}

    /// Direct block chaining: patches the exit of the TB that returned `from_exit` (a
    /// chainable value from [`CompiledTb::exec_chained`]) so that it jumps straight to
    /// `target` next time, without returning to the execution loop. Returns whether it
    /// chained. Default: never (the interpreter).
    ///
    /// The caller guarantees `target` is the TB to run after that exit: the code behind a
    /// `goto_tb` slot always sets the same next pc, and the TB's flags do not change before
    /// a `goto_tb` exit, so it is the TB the loop looked up for the state after the exit.
    /// The back end refuses (returns false) unless it can prove the chain is safe: both
    /// TBs are its own, in code memory of the same generation, start in the same guest
    /// page, and neither was [`unchain`](Self::unchain)ed. Patching is atomic with respect
    /// to other threads running the code.
    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        let _ = (from_exit, target);
        false
    }

    /// For `lookup_goto`: the entry address of `tb`'s code, as generated code of this back
    /// end may jump to it from another TB, and the back end's validity word for the
    /// vCPU's jump cache (see `softmmu::jmp`). `None` (the default) when other TBs cannot
    /// jump into it (the interpreter, a cold tiered TB, a TB that was unchained).
    fn direct_entry(&self, tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        let _ = tb;
        None
    }

    /// Profiling: the execution loop found a vCPU about to run `tb` when it stopped for
    /// an exit request (a timer interrupt, a kick), a sample of where guest time goes. The tiered back end promotes by these samples
    /// when its cold code does not count runs. Returns whether the sample counted
    /// towards something (a TB that may still be promoted); the scheduler samples a
    /// vCPU less often while its samples do not. Default: ignored (false).
    fn sample(&self, tb: &dyn CompiledTb) -> bool {
        let _ = tb;
        false
    }

    /// Whether [`sample`](Self::sample) is used: the scheduler then also stops each
    /// running vCPU every few milliseconds, so that guests without timer interrupts (bare
    /// metal) are sampled too. Default: false.
    fn wants_samples(&self) -> bool {
        false
    }

    /// Invalidation support: cuts every chain *into* `tb` (resets the exit slots pointing
    /// at it), resets `tb`'s own exit slots, and makes every later
    /// [`chain`](Self::chain) to or from `tb` fail. After it returns no thread can newly
    /// enter `tb` through a chain (a thread already inside it finishes that TB). Call it
    /// after removing `tb` from the TB cache (so no lookup finds it again). Default: no-op.
    fn unchain(&self, tb: &dyn CompiledTb) {
        let _ = tb;
    }
}
