//! The lockstep self-check (`virt --check jit,interp`): a back end that runs every TB on
//! two back ends from the same state and stops at the first difference.
//!
//! For each execution of a TB, [`Check`]:
//!
//! 1. copies the guest-state bytes of the env ([`CheckSpec::ranges`]);
//! 2. runs the *reference* (the interpreter) on the real env with guest memory going to a
//!    write log (`softmmu::shadow`: stores are logged, loads see the log, then RAM; every
//!    RAM page touched is copied first);
//! 3. saves the resulting state and puts the copy from step 1 back;
//! 4. runs the *checked* back end for real;
//! 5. compares the exit value, the state bytes, and each 64-byte line of RAM the reference
//!    touched (expected: the line as it was, plus the log) with what the checked run left.
//!
//! At a difference it calls [`CheckSpec::on_divergence`] with a report: the TB's guest pc,
//! its guest code ([`CheckSpec::describe`]), its IR, and each differing field or byte with
//! the value before, the reference's and the checked back end's.
//!
//! SOUNDNESS RULES (a TB execution that cannot be replayed is run once, on the checked
//! back end only, and counted in [`CheckStats`]):
//! - a TB that calls a helper with effects beyond the env bytes compared (not
//!   `NO_SIDE_EFFECTS` and not in [`CheckSpec::replayable`]: timers, TLB maintenance,
//!   interrupt state, ERET) is never checked (`skipped_helper`);
//! - a reference run that reaches MMIO is abandoned before the device sees the access
//!   (`skipped_io`), so device side effects happen once;
//! - an exit request (kick, timer) that arrives between the two runs makes one of them
//!   leave at entry: that execution is not compared (`skipped_request`).
//!
//! LIMITS: TBs are never chained and never entered through the env's jump cache
//! ([`Backend::chain`] and [`Backend::direct_entry`] are the defaults), so each TB is
//! checked alone. Stores by the checked back end outside the lines the reference touched
//! are not seen. Memory written by another thread between the two runs (another vCPU under
//! MTTCG, a device's I/O thread) shows as a false difference: `virt` runs `--check` with
//! the round-robin scheduler only. The reference must be the interpreter (the only back
//! end that can run against the write log); the checked one can be any back end.

use backend_interp::{Interp, InterpTb};
use softmmu::shadow::{self, WriteLog};
use std::fmt::Write as _;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tcg_ir::{Backend, BackendError, CompiledTb, ExitCode, Func, IrSource};

/// Callback types of [`CheckSpec`].
pub type FieldName = Box<dyn Fn(usize) -> String + Send + Sync>;
pub type Describe = Box<dyn Fn(*mut u8, &[u64]) -> String + Send + Sync>;
pub type OnDivergence = Box<dyn Fn(&Divergence) + Send + Sync>;

/// What the checker needs to know about the guest CPU's env.
pub struct CheckSpec {
    /// Env bytes holding guest state: saved, restored between the runs, and compared
    /// (compared in 8-byte words; ranges should be 8-aligned).
    pub ranges: Vec<Range<usize>>,
    /// Env bytes restored between the runs but not compared (scratch).
    pub scratch: Vec<Range<usize>>,
    /// A name for the env word at this offset ("x3", "pc", "sysreg[12]").
    pub field_name: FieldName,
    /// Helper addresses that change nothing outside the compared env bytes and are
    /// deterministic (TBs calling them can be run twice).
    pub replayable: Vec<usize>,
    /// Guest code of the instructions at these virtual pcs (disassembled), for reports.
    pub describe: Describe,
    /// Called with the report at each difference (`virt` prints it and exits).
    pub on_divergence: OnDivergence,
}

/// A difference between the two back ends.
#[derive(Debug, Clone)]
pub struct Divergence {
    /// Guest pc of the TB (its first `insn_start`).
    pub pc: Option<u64>,
    /// The full human-readable report.
    pub report: String,
}

/// Counts of TB executions, by what happened to them.
#[derive(Default, Debug)]
pub struct CheckStats {
    pub checked: AtomicU64,
    pub skipped_helper: AtomicU64,
    pub skipped_io: AtomicU64,
    pub skipped_request: AtomicU64,
    pub divergences: AtomicU64,
}

impl CheckStats {
    /// One line for the end of a run.
    pub fn summary(&self) -> String {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        format!(
            "check: {} TB executions compared, {} divergences; not compared: {} (helpers with side effects), {} (MMIO), {} (exit request between runs)",
            g(&self.checked),
            g(&self.divergences),
            g(&self.skipped_helper),
            g(&self.skipped_io),
            g(&self.skipped_request)
        )
    }
}

/// The checking back end: compiles every TB for the interpreter and for `checked`.
pub struct Check {
    reference: Interp,
    checked: Arc<dyn Backend>,
    spec: Arc<CheckSpec>,
    /// The compared ranges, then the scratch ones (what is saved and restored).
    state: Arc<[Range<usize>]>,
    stats: Arc<CheckStats>,
}

impl Check {
    pub fn new(checked: Arc<dyn Backend>, spec: CheckSpec) -> Check {
        let state = spec.ranges.iter().chain(&spec.scratch).cloned().collect();
        Check {
            reference: Interp::new(),
            checked,
            state,
            spec: Arc::new(spec),
            stats: Arc::new(CheckStats::default()),
        }
    }

    pub fn stats(&self) -> Arc<CheckStats> {
        self.stats.clone()
    }

    /// Why TBs of `func` cannot be run twice, if they cannot.
    fn unreplayable(&self, func: &Func) -> Option<&'static str> {
        func.helpers
            .iter()
            .find(|h| {
                !h.flags.contains(tcg_ir::HelperFlags::NO_SIDE_EFFECTS)
                    && !self.spec.replayable.contains(&h.addr)
            })
            .map(|h| h.name)
    }
}

/// How a TB's IR is had again for a report.
enum Ir {
    Kept(Func),
    Source(Arc<dyn IrSource>),
}

struct CheckTb {
    reference: InterpTb,
    checked: Arc<dyn CompiledTb>,
    /// The helper that makes the TB unreplayable.
    skip: Option<&'static str>,
    ir: Ir,
    pc: Option<u64>,
    spec: Arc<CheckSpec>,
    state: Arc<[Range<usize>]>,
    stats: Arc<CheckStats>,
}

impl Backend for Check {
    fn name(&self) -> &'static str {
        "check"
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        self.compile_with_source(func, None)
    }

    fn compile_with_source(
        &self,
        func: &Func,
        source: Option<Arc<dyn IrSource>>,
    ) -> Result<Arc<dyn CompiledTb>, BackendError> {
        let reference = self.reference.compile_tb(func)?;
        let checked = self.checked.compile_with_source(func, source.clone())?;
        let pc = func
            .ops
            .iter()
            .find(|op| op.opc == tcg_ir::Opc::InsnStart)
            .and_then(|op| op.cargs.first().copied());
        Ok(Arc::new(CheckTb {
            reference,
            checked,
            skip: self.unreplayable(func),
            ir: match source {
                Some(s) => Ir::Source(s),
                None => Ir::Kept(func.clone()),
            },
            pc,
            spec: self.spec.clone(),
            state: self.state.clone(),
            stats: self.stats.clone(),
        }))
    }

    fn reset(&self) {
        self.reference.reset();
        self.checked.reset();
    }
}

/// Copies the env bytes of `ranges`.
///
/// # Safety
/// `env` covers every range.
unsafe fn save(env: *const u8, ranges: &[Range<usize>]) -> Vec<u8> {
    let mut v = Vec::with_capacity(ranges.iter().map(|r| r.len()).sum());
    for r in ranges {
        // SAFETY: caller contract.
        v.extend_from_slice(unsafe { std::slice::from_raw_parts(env.add(r.start), r.len()) });
    }
    v
}

/// Writes back what [`save`] copied.
///
/// # Safety
/// As [`save`]; nothing else uses the env meanwhile.
unsafe fn restore(env: *mut u8, ranges: &[Range<usize>], bytes: &[u8]) {
    let mut at = 0;
    for r in ranges {
        // SAFETY: caller contract; `bytes` came from `save` with the same ranges.
        unsafe { std::ptr::copy_nonoverlapping(bytes[at..].as_ptr(), env.add(r.start), r.len()) };
        at += r.len();
    }
}

/// The little-endian value of up to 8 bytes.
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    let n = bytes.len().min(8);
    w[..n].copy_from_slice(&bytes[..n]);
    u64::from_le_bytes(w)
}

fn exit_name(c: u64) -> String {
    match c {
        ExitCode::GOTO_TB0 => "goto_tb 0".into(),
        ExitCode::GOTO_TB1 => "goto_tb 1".into(),
        ExitCode::LOOKUP => "lookup".into(),
        ExitCode::REQUESTED => "requested".into(),
        ExitCode::FAULT => "fault".into(),
        c => format!("guest exit {c:#x}"),
    }
}

impl CheckTb {
    /// The differences between the runs, as report lines (empty: none).
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        before: &[u8],
        ref_state: &[u8],
        env: *mut u8,
        ref_exit: u64,
        exit: u64,
        log: &WriteLog,
    ) -> Vec<String> {
        let mut diffs = Vec::new();
        if ref_exit != exit {
            diffs.push(format!(
                "exit: reference {} ({ref_exit:#x}), checked {} ({exit:#x})",
                exit_name(ref_exit),
                exit_name(exit)
            ));
        }
        // SAFETY: the env covers the spec's ranges (Check's contract with its user).
        let now = unsafe { save(env, &self.spec.ranges) };
        let mut at = 0;
        for r in &self.spec.ranges {
            for off in (0..r.len()).step_by(8) {
                let w = at + off..at + r.len().min(off + 8);
                let (a, b) = (word(&ref_state[w.clone()]), word(&now[w.clone()]));
                if a != b {
                    diffs.push(format!(
                        "{:<14} before {:#018x}  reference {a:#018x}  checked {b:#018x}",
                        (self.spec.field_name)(r.start + off),
                        word(&before[w])
                    ));
                }
            }
            at += r.len();
        }
        let mut mem_diffs = 0;
        for (&host, (va, orig)) in &log.lines {
            let Some(expect) = log.expected_line(host) else {
                continue;
            };
            let mut actual = [0u8; shadow::LINE];
            // SAFETY: `host` is a line of guest RAM the reference run translated to (RAM
            // lives as long as the machine).
            unsafe {
                std::ptr::copy_nonoverlapping(host as *const u8, actual.as_mut_ptr(), actual.len())
            };
            for i in (0..expect.len()).filter(|&i| expect[i] != actual[i]) {
                mem_diffs += 1;
                if mem_diffs <= 32 {
                    diffs.push(format!(
                        "mem {:#x} (host {:#x}): before {:#04x}  reference {:#04x}  checked {:#04x}",
                        va + i as u64,
                        host + i,
                        orig[i],
                        expect[i],
                        actual[i]
                    ));
                }
            }
        }
        diffs
    }

    #[cold]
    fn report(&self, env: *mut u8, diffs: &[String]) -> Divergence {
        let mut r = String::new();
        let ir = match &self.ir {
            Ir::Kept(f) => Some(f.clone()),
            Ir::Source(s) => s.ir(),
        };
        let pcs: Vec<u64> = ir.as_ref().map_or_else(Vec::new, |f| {
            f.ops
                .iter()
                .filter(|op| op.opc == tcg_ir::Opc::InsnStart)
                .filter_map(|op| op.cargs.first().copied())
                .collect()
        });
        let _ = writeln!(
            r,
            "lockstep check: divergence in the TB at guest pc {}",
            self.pc.map_or("?".into(), |p| format!("{p:#x}"))
        );
        let _ = writeln!(r, "-- guest code --");
        r.push_str(&(self.spec.describe)(env, &pcs));
        let _ = writeln!(r, "-- IR (optimised) --");
        match ir {
            Some(f) => {
                let _ = write!(r, "{f}");
            }
            None => r.push_str("(not available)\n"),
        }
        let _ = writeln!(r, "-- differences (reference: interp) --");
        for d in diffs {
            let _ = writeln!(r, "{d}");
        }
        Divergence {
            pc: self.pc,
            report: r,
        }
    }
}

impl CompiledTb for CheckTb {
    unsafe fn exec(&self, env: *mut u8) -> u64 {
        if let Some(_helper) = self.skip {
            self.stats.skipped_helper.fetch_add(1, Ordering::Relaxed);
            // SAFETY: caller contract.
            return ExitCode::normalize(unsafe { self.checked.exec(env) });
        }
        let spec = &*self.spec;
        let state = &*self.state;
        // SAFETY: the env covers the spec's ranges; this thread owns it for the call.
        let before = unsafe { save(env, state) };
        shadow::begin();
        // SAFETY: caller contract; the reference TB is never chained.
        let ref_exit = unsafe { self.reference.exec_shadow(env) };
        let log = shadow::end();
        // SAFETY: as above.
        let ref_state = unsafe { save(env, &spec.ranges) };
        // SAFETY: as above.
        unsafe { restore(env, state, &before) };
        // SAFETY: caller contract.
        let exit = ExitCode::normalize(unsafe { self.checked.exec(env) });
        if log.side_effect.is_some() {
            self.stats.skipped_io.fetch_add(1, Ordering::Relaxed);
            return exit;
        }
        if ref_exit == ExitCode::REQUESTED || exit == ExitCode::REQUESTED {
            if ref_exit != exit {
                self.stats.skipped_request.fetch_add(1, Ordering::Relaxed);
            }
            return exit;
        }
        let before = &before[..ref_state.len()];
        let diffs = self.compare(before, &ref_state, env, ref_exit, exit, &log);
        self.stats.checked.fetch_add(1, Ordering::Relaxed);
        if !diffs.is_empty() {
            self.stats.divergences.fetch_add(1, Ordering::Relaxed);
            (spec.on_divergence)(&self.report(env, &diffs));
        }
        exit
    }

    fn code_size(&self) -> usize {
        self.reference.code_size() + self.checked.code_size()
    }

    fn host_code(&self) -> Option<&[u8]> {
        self.checked.host_code()
    }
}

#[cfg(test)]
mod tests;
