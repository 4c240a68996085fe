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
/// are defined by the guest CPU (the translator emits them with `exit_tb`).
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

/// A code generator for TBs. Object-safe so it can be picked at run time; shared by all
/// vCPU threads (compilation may run concurrently).
pub trait Backend: Send + Sync {
    fn name(&self) -> &'static str;
    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError>;
    /// Drops all code (after the TB cache has been flushed and no vCPU runs old code).
    fn reset(&self) {}
}
