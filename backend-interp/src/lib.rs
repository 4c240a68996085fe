//! The interpreter back end: compiles a TB's IR into a register-machine program over a
//! frame of slots and runs it, chaining TB to TB without returning to the execution loop.
//!
//! * Format (`insn.rs`, `compile.rs`): 16-byte instructions whose operands are frame
//!   slots; globals are copied into their slots at TB entry and written back at exits,
//!   on the fault exit and around helper calls, by the same rules as the JIT;
//!   constants are immediates where the instruction has an immediate form; the
//!   translator's NZCV idioms, compare-and-branch on zero and address + memory op are
//!   superinstructions. Compilation is linear and reuses per-thread scratch buffers.
//! * Execution (`exec.rs`): one `match` loop; guest memory goes through
//!   `softmmu::access` (TLB hit path inline, slow path with the pc of the nearest
//!   `insn_start`, `ExitCode::FAULT` when the env's fault record is set). Every TB entry,
//!   chained or not, checks the exit-request flag and counts in the TB's run counter.
//!
//! # Chaining and lifetimes
//!
//! A TB's program lives in a [`TbCore`] (behind an `Arc`) with two atomic chain slots
//! holding raw pointers to other cores. [`Backend::chain`] patches a slot; the run loop
//! follows it directly. What keeps a chained-to core alive while another thread may still
//! be about to enter it is its *generation*: every core that takes part in a chain (either
//! end) is pinned (a strong reference) in the generation it was compiled in, and every
//! [`InterpTb`] handle holds its generation. A thread running a TB holds that TB's handle,
//! so the generation and everything reachable through chain slots (always of the same
//! generation: `chain` checks it) stays alive; no core refers back to a generation or a
//! handle, so there are no reference cycles. [`Backend::unchain`] cuts the slots into and
//! out of a TB without freeing it; [`Backend::reset`] starts a new generation, and the old
//! one (with its pinned cores) is freed when its last handle is dropped. Pinned cores
//! that were unchained are counted; past [`DEAD_BYTES_LIMIT`] `compile` reports
//! `CodeFull`, so the scheduler flushes and resets, as with the JIT's code arena.

mod compile;
mod exec;
mod insn;

pub use compile::unary_eval_type;

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tcg_ir::verify::verify;
use tcg_ir::{Backend, BackendError, CompiledTb, ExitCode, Func};

/// Guest page size for the same-page chaining rule.
const GUEST_PAGE_BITS: u32 = softmmu::layout::PAGE_BITS;

/// Bytes of unchained-but-pinned TB programs a generation may keep before `compile`
/// asks for a flush (`BackendError::CodeFull`).
pub const DEAD_BYTES_LIMIT: usize = 64 << 20;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A TB's program, its chain slots and run counter. Shared by the handle and (once it
/// takes part in a chain) the generation's pin list.
#[derive(Debug)]
pub(crate) struct TbCore {
    pub prog: compile::Program,
    /// The TBs `goto_tb 0/1` continue in (null: return to the execution loop).
    pub chain: [AtomicPtr<TbCore>; 2],
    /// The slot's target is in another guest page: its exits are plain `GOTO_TB0/1`, so
    /// the execution loop does not ask to chain them again (a `goto_tb` slot always
    /// leads to the same pc, so the answer cannot change).
    pub nochain: [AtomicBool; 2],
    runs: AtomicU32,
    /// No chained entry once `runs` reached this (0: no limit).
    pub limit: AtomicU32,
    /// Unchained: never chained to or from again.
    dead: AtomicBool,
    /// In its generation's pin list.
    pinned: AtomicBool,
    /// (source core address, slot) of the chains into this TB, for `unchain`.
    incoming: Mutex<Vec<(usize, u8)>>,
    /// Its generation's address: the validity word of its jump-cache entries.
    pub gen_id: usize,
}

impl TbCore {
    /// Runs so far (saturating). Counted with a plain load and store: concurrent entries
    /// on several threads may lose an increment, which a hotness counter can afford.
    #[inline(always)]
    pub fn runs(&self) -> u32 {
        self.runs.load(Ordering::Relaxed)
    }

    #[inline(always)]
    pub fn count(&self) {
        let n = self.runs.load(Ordering::Relaxed);
        self.runs.store(n.saturating_add(1), Ordering::Relaxed);
    }

    fn addr(&self) -> usize {
        self as *const TbCore as usize
    }
}

/// One code generation: the registry of cores that can exit through a chainable
/// `goto_tb` (by address, to validate `chain`'s exit values) and the pinned cores.
#[derive(Debug, Default)]
struct Gen {
    state: Mutex<GenState>,
}

#[derive(Debug, Default)]
struct GenState {
    /// Weak: a registered TB nobody chained is freed with its handle; the dead weak
    /// entries keep the allocation (so the address is not reused) until pruned.
    cores: HashMap<usize, Weak<TbCore>>,
    /// Entries alive after the last prune (prune again when the map doubles).
    live: usize,
    pins: Vec<Arc<TbCore>>,
    dead_bytes: usize,
}

impl GenState {
    fn register(&mut self, core: &Arc<TbCore>) {
        if self.cores.len() >= 2 * self.live.max(4096) {
            self.cores.retain(|_, w| w.strong_count() > 0);
            self.live = self.cores.len();
        }
        self.cores.insert(core.addr(), Arc::downgrade(core));
    }

    fn core(&self, addr: usize) -> Option<Arc<TbCore>> {
        self.cores.get(&addr)?.upgrade()
    }

    fn pin(&mut self, core: &Arc<TbCore>) {
        if !core.pinned.swap(true, Ordering::AcqRel) {
            self.pins.push(core.clone());
        }
    }
}

/// The interpreter back end. Shared by all vCPU threads.
#[derive(Debug)]
pub struct Interp {
    gen: Mutex<Arc<Gen>>,
    chain_limit: u32,
    /// [`DEAD_BYTES_LIMIT`] (smaller in tests).
    dead_limit: usize,
}

impl Default for Interp {
    fn default() -> Self {
        Self::new()
    }
}

impl Interp {
    pub fn new() -> Interp {
        Interp {
            gen: Mutex::new(Arc::new(Gen::default())),
            chain_limit: 0,
            dead_limit: DEAD_BYTES_LIMIT,
        }
    }

    /// An interpreter whose TBs are no longer entered through a chain once they have run
    /// `n` times (the chained exit returns to the execution loop instead, where a tiered
    /// back end can promote the TB). 0: no limit.
    pub fn with_chain_limit(n: u32) -> Interp {
        Interp {
            chain_limit: n,
            ..Interp::new()
        }
    }

    pub fn chain_limit(&self) -> u32 {
        self.chain_limit
    }

    /// Compiles `func` into an [`InterpTb`] (also available through [`Backend::compile`]).
    pub fn compile_tb(&self, func: &Func) -> Result<InterpTb, BackendError> {
        if tcg_ir::verify::enabled() {
            verify(func).map_err(|e| BackendError::Invalid(e.to_string()))?;
        }
        let prog = compile::compile(func)?;
        let gen = lock(&self.gen).clone();
        let chains = prog.first_pc.is_some() && prog.chainable;
        let core = Arc::new(TbCore {
            prog,
            chain: [AtomicPtr::default(), AtomicPtr::default()],
            nochain: [AtomicBool::new(false), AtomicBool::new(false)],
            runs: AtomicU32::new(0),
            limit: AtomicU32::new(self.chain_limit),
            dead: AtomicBool::new(false),
            pinned: AtomicBool::new(false),
            incoming: Mutex::new(Vec::new()),
            gen_id: Arc::as_ptr(&gen) as usize,
        });
        {
            let mut st = lock(&gen.state);
            if st.dead_bytes > self.dead_limit {
                return Err(BackendError::CodeFull);
            }
            if chains {
                st.register(&core);
            }
        }
        Ok(InterpTb { core, gen })
    }
}

/// A compiled TB: a handle on its core and generation.
#[derive(Debug)]
pub struct InterpTb {
    core: Arc<TbCore>,
    gen: Arc<Gen>,
}

thread_local! {
    /// The frame TBs run on: reused across executions, grown on demand.
    static FRAME: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl InterpTb {
    /// Number of instructions in the program (for tests and statistics).
    pub fn len(&self) -> usize {
        self.core.prog.prog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.core.prog.prog.is_empty()
    }

    /// How many times the TB was entered, from the execution loop or through a chain.
    pub fn runs(&self) -> u32 {
        self.core.runs()
    }

    /// Whether each `goto_tb` slot is currently chained.
    pub fn chained_slots(&self) -> [bool; 2] {
        self.core
            .chain
            .each_ref()
            .map(|s| !s.load(Ordering::Acquire).is_null())
    }

    /// Guest pc of the TB's first instruction, if it has an `insn_start`.
    pub fn guest_pc(&self) -> Option<u64> {
        self.core.prog.first_pc
    }

    /// Guest instructions (`insn_start`s) in the TB.
    pub fn guest_insns(&self) -> u32 {
        self.core.prog.ninsns
    }

    /// The program, one instruction a line (for tests and debugging).
    pub fn listing(&self) -> String {
        let p = &self.core.prog;
        let mut s = format!(
            "slots {} load {:?} inits {:?}\n",
            p.nslots,
            p.list(p.gload)
                .iter()
                .map(|&g| compile::GSlot(g).slot())
                .collect::<Vec<_>>(),
            p.list(p.inits)
        );
        for (i, insn) in p.prog.iter().enumerate() {
            s += &format!("{i:3}: {insn:?}\n");
        }
        s
    }

    /// Frame slots the program uses.
    pub fn frame_slots(&self) -> usize {
        self.core.prog.nslots as usize
    }

    /// # Safety
    /// As [`CompiledTb::exec`].
    unsafe fn enter(&self, env: *mut u8, chainable: bool) -> u64 {
        // SAFETY: env starts with an EnvHead (caller contract).
        if unsafe { exec::exit_requested(env) } {
            return ExitCode::REQUESTED;
        }
        self.core.count();
        FRAME.with(|fr| match fr.try_borrow_mut() {
            // SAFETY: caller contract; `self` holds the core and its generation, which
            // keeps every core reachable through chain slots alive.
            Ok(mut v) => unsafe {
                exec::run::<softmmu::access::Direct>(&self.core, env, &mut v, chainable)
            },
            // Re-entered from a helper: a fresh frame.
            // SAFETY: as above.
            Err(_) => unsafe {
                exec::run::<softmmu::access::Direct>(&self.core, env, &mut Vec::new(), chainable)
            },
        })
    }
}

impl InterpTb {
    /// Runs this TB alone (no chains followed, not counted) with guest memory accesses
    /// going to the thread's shadow write log (`softmmu::shadow`; the caller has called
    /// `shadow::begin`): RAM and devices are left untouched. Helpers the TB calls run
    /// as usual, so the caller runs only TBs whose helpers touch nothing but the env.
    /// This is the reference run of the lockstep checker.
    ///
    /// # Safety
    /// As [`CompiledTb::exec`]; and the TB must never have been chained.
    pub unsafe fn exec_shadow(&self, env: *mut u8) -> u64 {
        // SAFETY: env starts with an EnvHead (caller contract).
        if unsafe { exec::exit_requested(env) } {
            return ExitCode::REQUESTED;
        }
        // SAFETY: caller contract; not chained, so only this core runs.
        unsafe { exec::run::<softmmu::shadow::Shadow>(&self.core, env, &mut Vec::new(), false) }
    }
}

impl CompiledTb for InterpTb {
    unsafe fn exec(&self, env: *mut u8) -> u64 {
        // SAFETY: caller contract forwarded.
        unsafe { self.enter(env, false) }
    }

    unsafe fn exec_chained(&self, env: *mut u8) -> u64 {
        // SAFETY: caller contract forwarded.
        unsafe { self.enter(env, true) }
    }

    fn code_size(&self) -> usize {
        self.core.prog.size()
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn runs(&self) -> Option<u32> {
        Some(self.core.runs())
    }

    fn set_run_limit(&self, limit: u32) {
        self.core.limit.store(limit, Ordering::Relaxed);
    }
}

fn interp_tb(tb: &dyn CompiledTb) -> Option<&InterpTb> {
    tb.as_any()?.downcast_ref::<InterpTb>()
}

impl Backend for Interp {
    fn name(&self) -> &'static str {
        "interp"
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        Ok(Arc::new(self.compile_tb(func)?))
    }

    fn reset(&self) {
        // Old TBs keep their generation (and its pinned cores) until they are dropped.
        *lock(&self.gen) = Arc::new(Gen::default());
    }

    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        let Some(cell) = ExitCode::chain_cell(from_exit) else {
            return false;
        };
        let slot = (from_exit & 1) as usize;
        let Some(t) = interp_tb(&**target) else {
            return false;
        };
        let mut st = lock(&t.gen.state);
        // Only a core registered in the target's generation: same generation, and alive.
        let Some(from) = st.core(cell) else {
            return false;
        };
        let to = &t.core;
        let same_page = match (from.prog.first_pc, to.prog.first_pc) {
            (Some(a), Some(b)) => (a ^ b) >> GUEST_PAGE_BITS == 0,
            _ => false,
        };
        if !same_page {
            if to.prog.first_pc.is_some() {
                from.nochain[slot].store(true, Ordering::Relaxed);
            }
            return false;
        }
        if from.dead.load(Ordering::Acquire) || to.dead.load(Ordering::Acquire) {
            return false;
        }
        let ptr = Arc::as_ptr(to) as *mut TbCore;
        if from.chain[slot].load(Ordering::Acquire) == ptr {
            return true;
        }
        st.pin(&from);
        st.pin(to);
        lock(&to.incoming).push((cell, slot as u8));
        from.chain[slot].store(ptr, Ordering::Release);
        true
    }

    /// The jump-cache entry names the core, pinned in its generation (so it lives as long
    /// as any TB of that generation), and the generation, which the interpreter's
    /// `lookup_goto` compares with the running TB's. Only interpreted code reads it: no
    /// other back end shares an env's jump cache with this one.
    fn direct_entry(&self, tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        let t = interp_tb(tb)?;
        if t.core.dead.load(Ordering::Acquire) {
            return None;
        }
        lock(&t.gen.state).pin(&t.core);
        Some((t.core.addr() as u64, t.core.gen_id as u64))
    }

    fn unchain(&self, tb: &dyn CompiledTb) {
        let Some(t) = interp_tb(tb) else {
            return;
        };
        let mut st = lock(&t.gen.state);
        let c = &t.core;
        if c.dead.swap(true, Ordering::AcqRel) {
            return;
        }
        for s in &c.chain {
            s.store(std::ptr::null_mut(), Ordering::Release);
        }
        let me = Arc::as_ptr(c) as *mut TbCore;
        for (cell, slot) in lock(&c.incoming).drain(..) {
            if let Some(from) = st.core(cell) {
                // Only if it still points here (the slot may have been re-chained).
                let _ = from.chain[slot as usize & 1].compare_exchange(
                    me,
                    std::ptr::null_mut(),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
        }
        if c.pinned.load(Ordering::Acquire) {
            st.dead_bytes += c.prog.size();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tcg_ir::text::parse;

    #[test]
    fn instructions_stay_small() {
        assert_eq!(std::mem::size_of::<insn::Insn>(), 16);
    }

    /// `x1 += 1` at `pc`, then `goto_tb 0`.
    fn tb(be: &Interp, pc: u64) -> (Arc<dyn CompiledTb>, Weak<TbCore>, u64) {
        let src = format!(
            "global x1:i64 @0x100\n  insn_start {pc:#x}\n  add.i64 x1, x1, $0x1\n  goto_tb 0\n  exit_tb 0\n"
        );
        let t = be.compile_tb(&parse(&src, &[]).unwrap()).unwrap();
        let w = Arc::downgrade(&t.core);
        let exit = ExitCode::chainable(t.core.addr(), 0);
        (Arc::new(t), w, exit)
    }

    #[test]
    fn chained_cycles_are_freed_with_their_generation() {
        let be = Interp::new();
        let (a, wa, ea) = tb(&be, 0x1000);
        let (b, wb, eb) = tb(&be, 0x1040);
        let (c, wc, _) = tb(&be, 0x1080);
        assert!(be.chain(ea, &b) && be.chain(eb, &a), "A <-> B");
        drop((a, b, c));
        assert!(
            wc.upgrade().is_none(),
            "a TB never chained is freed with its handle"
        );
        assert!(
            wa.upgrade().is_some(),
            "chained TBs stay pinned in the generation"
        );
        be.reset();
        assert!(
            wa.upgrade().is_none() && wb.upgrade().is_none(),
            "freed, no cycle"
        );
        // The same with the back end dropped instead of reset.
        let be = Interp::new();
        let (a, wa, ea) = tb(&be, 0x1000);
        assert!(be.chain(ea, &a));
        drop(be);
        assert!(wa.upgrade().is_some(), "the handle keeps its generation");
        drop(a);
        assert!(wa.upgrade().is_none());
    }

    #[test]
    fn dead_pinned_code_past_the_limit_asks_for_a_flush() {
        let be = Interp {
            dead_limit: 1,
            ..Interp::new()
        };
        let (a, _, ea) = tb(&be, 0x1000);
        let (b, _, _) = tb(&be, 0x1040);
        assert!(be.chain(ea, &b));
        be.unchain(&*b);
        let src = "global x1:i64 @0x100\n  insn_start 0x1000\n  exit_tb 0x20\n";
        let f = parse(src, &[]).unwrap();
        assert!(matches!(be.compile(&f), Err(BackendError::CodeFull)));
        be.reset();
        assert!(be.compile(&f).is_ok(), "a new generation starts empty");
        drop(a);
    }
}
