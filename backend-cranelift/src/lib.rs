//! The JIT back end: each TB becomes one native function `fn(env) -> exit code`, generated
//! by Cranelift or, with [`JitOptions::quick`], by the quick generator (`quick.rs`: x86-64
//! code straight from the IR in microseconds, the cold tier of the tiered back end). Both
//! share everything below: code arenas, chain cells, the calling convention, the exits.
//!
//! * [`CraneliftBackend::new`] picks the host ISA (`cranelift_native`, with the host's
//!   extensions such as SSE4.1 and AVX detected) with `opt_level=none` (the IR arrives
//!   optimised by `tcg-opt`; Cranelift's mid-end roughly doubled compile time for no
//!   measurable gain, see `arm-cpu`'s translate bench); [`JitOptions`] selects the
//!   register allocator, the mid-end, the Cranelift verifier, the code arena size and
//!   whether to use only the baseline ISA.
//! * Compilation runs without any lock (one reusable Cranelift context per thread); only
//!   placing the finished bytes in the shared code arena takes a mutex.
//! * Code lives in one large arena per generation (see `arena.rs`); each [`JitTb`] holds an
//!   `Arc` to its arena, so [`Backend::reset`] (which starts a fresh arena) or dropping the
//!   backend never leaves a TB dangling. A full arena gives [`BackendError::CodeFull`].
//! * The generated code follows the same contracts as the interpreter (see `translate.rs`):
//!   exit-request check on entry, inline TLB hit path, softmmu slow paths with a fault exit,
//!   helper calls with globals synced as the helper's flags require.
//!
//! # Direct block chaining
//!
//! TB functions use Cranelift's `tail` calling convention; Rust enters them through one
//! trampoline per arena generation (`extern "C" fn(env, entry) -> u64`, placed at the
//! start of the arena), so [`CompiledTb::exec`] is unchanged for callers.
//!
//! Every TB owns a *chain cell* in its arena: `[slot0, slot1, guest pc, flags, runs, run
//! limit]` (`AtomicU64`s, see `arena.rs`), whose address is a constant in its code. `goto_tb n`
//! atomically loads `cell[n]`; if it is non-zero it writes back the cached globals and
//! `return_call_indirect`s to that address with `env`; otherwise it falls through to the
//! `exit_tb n` that follows, which returns [`ExitCode::chainable`]`(cell, n)` (from
//! [`CompiledTb::exec_chained`]; plain `exec` normalises it to `GOTO_TB0/1`).
//!
//! Quick code (`quick.rs`) jumps directly instead: its `goto_tb n` is a `jmp rel32` whose
//! displacement offset the cell records (`site0/1`); chaining stores the slot and patches
//! the displacement (one aligned 4-byte store, on the writable view), unchaining points it
//! back at the unchained path (displacement 0).
//!
//! [`Backend::chain`] stores the target's entry into the exiting TB's cell slot. It checks,
//! without trusting the caller: the exit value names a cell that the *target's* arena
//! handed out (so both TBs are of one generation and the cell lives as long as the target
//! holds that arena), both TBs' first guest pcs are known and lie in the same guest page,
//! and neither TB was unchained. A successful chain is recorded in the target's incoming
//! list; [`Backend::unchain`] marks a TB dead, zeroes its own slots and every recorded slot
//! still pointing at it (and repoints their quick-code jumps). Chain and unchain serialise on one backend mutex; generated code
//! reads cells with plain atomic loads. Memory safety: chains jump only to entries of their
//! own arena, which the TB the execution loop entered keeps alive; `lookup_goto` jumps to
//! entries of the vCPU's jump cache (in tiered mode, from quick code into Cranelift's
//! arena), which the loop clears whenever the TB cache is flushed; a full flush replaces
//! an arena only inside an exclusive section (no thread in generated code).

mod arena;
mod quick;
mod translate;

use arena::{Arena, Cell};
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, types, AbiParam, InstBuilder, Signature, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use tcg_ir::{Backend, BackendError, CompiledTb, ExitCode, Func, Opc};

/// Flag bits of a chain cell's word 3.
const CELL_HAS_PC: u64 = 1;
const CELL_DEAD: u64 = 2;
/// Quick code with the shared frame: its inner entry is at `quick::INNER_ENTRY`.
const CELL_SHARED: u64 = 4;
/// Byte offset of word 3 (the flags) in a chain cell.
const CELL_FLAGS_OFFSET: i64 = 24;
/// Guest page size for the same-page chaining rule.
const GUEST_PAGE_BITS: u32 = softmmu::layout::PAGE_BITS;

/// Knobs of the JIT.
#[derive(Clone, Debug)]
pub struct JitOptions {
    /// Bytes of code memory per arena generation.
    pub arena_size: usize,
    /// Use regalloc2's single-pass allocator (faster compiles, somewhat worse code).
    pub single_pass_regalloc: bool,
    /// Run Cranelift's mid-end optimiser (e-graph rewrites, GVN, LICM). The IR arrives
    /// already optimised by `tcg-opt`, so this mostly costs compile time.
    pub optimize: bool,
    /// Run Cranelift's IR verifier on every function (slow; for debugging).
    pub verifier: bool,
    /// Ignore the host's optional ISA extensions (x86-64: SSE2 only, no SSE4.1/AVX), so
    /// tests can check the fallback lowerings of the vector ops on this machine.
    pub baseline_isa: bool,
    /// Generate code with the quick generator (`quick.rs`, x86-64 only) instead of
    /// Cranelift: compiles in microseconds, runs slower.
    pub quick: bool,
    /// Quick code counts its runs ([`CompiledTb::runs`]) and honours
    /// [`CompiledTb::set_run_limit`] (the cold tier of the tiered back end).
    pub count_runs: bool,
    /// With `count_runs`: the run count at which chained entries stop at first (0: none),
    /// until [`CompiledTb::set_run_limit`] moves it.
    pub chain_limit: u32,
    /// Separate writable and executable views of code memory (W^X) instead of one
    /// read-write-execute mapping (see `arena.rs`).
    pub split_wx: bool,
    /// TEST ONLY (the lockstep checker's own test): compile every `add` whose second
    /// operand is the constant `Some(c)` as a `sub`, a deliberate miscompile. `None` (the
    /// default) costs one branch per compile.
    pub miscompile_add_imm: Option<u64>,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions {
            arena_size: 256 << 20,
            single_pass_regalloc: false,
            optimize: false,
            verifier: cfg!(debug_assertions),
            baseline_isa: false,
            quick: false,
            count_runs: false,
            chain_limit: 0,
            split_wx: false,
            miscompile_add_imm: None,
        }
    }
}

/// Which code a compile produces (see the fields of the same names in [`JitOptions`]).
#[derive(Clone, Copy, Debug)]
struct CodeKind {
    quick: bool,
    count_runs: bool,
    chain_limit: u32,
}

/// The quick generator of a JIT whose Cranelift code is the hot tier: the cold tier of the
/// tiered back end. Its TBs count runs and live in the same arenas as the JIT's, so cold
/// and hot code chain to each other and share the jump cache. [`Backend::reset`] does
/// nothing: the JIT, reset as the hot tier, owns the arenas.
pub struct QuickTier {
    jit: Arc<CraneliftBackend>,
    /// `None`: TBs do not count their runs (promotion by samples, see
    /// `Backend::sample`).
    chain_limit: Option<u32>,
}

impl QuickTier {
    /// Quick code for `jit` (x86-64 hosts only); chained entries stop at `chain_limit`
    /// runs until [`CompiledTb::set_run_limit`] moves the limit.
    pub fn new(jit: Arc<CraneliftBackend>, chain_limit: u32) -> Result<QuickTier, BackendError> {
        Self::with_counting(jit, Some(chain_limit))
    }

    /// Quick code for `jit` whose TBs count nothing: chained entries cost no more than
    /// without tiers, and the tiered back end promotes by profiling samples instead.
    pub fn uncounted(jit: Arc<CraneliftBackend>) -> Result<QuickTier, BackendError> {
        Self::with_counting(jit, None)
    }

    fn with_counting(
        jit: Arc<CraneliftBackend>,
        chain_limit: Option<u32>,
    ) -> Result<QuickTier, BackendError> {
        if !cfg!(target_arch = "x86_64") {
            return Err(BackendError::Compile(
                "the quick code generator needs an x86-64 host".into(),
            ));
        }
        Ok(QuickTier { jit, chain_limit })
    }
}

impl Backend for QuickTier {
    fn name(&self) -> &'static str {
        "quick"
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        let kind = CodeKind {
            quick: true,
            count_runs: self.chain_limit.is_some(),
            chain_limit: self.chain_limit.unwrap_or(0),
        };
        Ok(Arc::new(self.jit.compile_kind(func, kind)?))
    }

    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        self.jit.chain(from_exit, target)
    }

    fn direct_entry(&self, tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        self.jit.direct_entry(tb)
    }

    fn unchain(&self, tb: &dyn CompiledTb) {
        self.jit.unchain(tb)
    }
}

/// [`JitOptions::miscompile_add_imm`]: `func` with every `add x, y, $c` turned into a
/// `sub`.
#[cold]
fn miscompile_add_imm(func: &Func, c: u64) -> Func {
    let mut f = func.clone();
    for i in 0..f.ops.len() {
        let op = &f.ops[i];
        if op.opc == Opc::Add
            && op
                .iargs
                .get(1)
                .is_some_and(|t| f.temps[t.index()].kind == tcg_ir::TempKind::Const(c))
        {
            f.ops[i].opc = Opc::Sub;
        }
    }
    f
}

/// `extern "C" fn(env, tb_entry) -> exit value`: calls a tail-convention TB.
type Trampoline = unsafe extern "C" fn(*mut u8, *const u8) -> u64;

struct ArenaState {
    arena: Arc<Arena>,
    used: usize,
    tramp: Trampoline,
    /// Bytes the trampoline and the slow-path stubs occupy at the start of the arena.
    tramp_end: usize,
    /// This arena's slow-path stubs (see [`translate::SlowPaths`]).
    slow: translate::SlowPaths,
}

/// The Cranelift back end. Shared by all vCPU threads.
pub struct CraneliftBackend {
    isa: OwnedTargetIsa,
    /// The ISA has a byte shuffle Cranelift emits inline (x86-64 needs SSSE3 for
    /// `pshufb`; without it Cranelift would call a libcall the JIT cannot link).
    byte_shuffle: bool,
    opts: JitOptions,
    state: Mutex<ArenaState>,
    /// Serialises [`Backend::chain`] and [`Backend::unchain`].
    chain_lock: Mutex<()>,
}

/// One compiled TB: an entry point in an arena it keeps alive, and its chain cell there.
pub struct JitTb {
    /// Where chains and the jump cache enter.
    entry: *const u8,
    /// Where the execution loop enters (`entry` except for counting quick code).
    loop_entry: *const u8,
    /// Quick code with the shared frame: where other such TBs jump keeping their frame
    /// (null: none).
    inner_entry: *const u8,
    /// Counts runs in its cell (quick code with `count_runs`).
    counted: bool,
    tramp: Trampoline,
    size: usize,
    /// Writable-view address of this TB's chain cell (inside `arena`).
    cell: usize,
    /// Cells (address, slot) chained to this TB, for [`Backend::unchain`].
    incoming: Mutex<Vec<(usize, usize)>>,
    arena: Arc<Arena>,
}

// SAFETY: `entry` points to immutable code in `arena`, which the TB keeps alive; the cell
// is only accessed atomically; everything else is Send + Sync.
unsafe impl Send for JitTb {}
// SAFETY: as above.
unsafe impl Sync for JitTb {}

impl CompiledTb for JitTb {
    unsafe fn exec(&self, env: *mut u8) -> u64 {
        // SAFETY: as in `exec_chained`.
        let v = unsafe { self.exec_chained(env) };
        // Only values naming one of our cells are chainable exits; any other value (even
        // one with the top bit set) is an `exit_tb` constant and passes through unchanged.
        match ExitCode::chain_cell(v) {
            Some(c) if self.arena.cell(c).is_some() => ExitCode::normalize(v),
            _ => v,
        }
    }

    unsafe fn exec_chained(&self, env: *mut u8) -> u64 {
        // SAFETY: `tramp` and `entry` are finished functions in a live arena (we hold an
        // Arc to it; every TB chained from here is in the same arena); the caller
        // guarantees `env` is a valid environment for this TB.
        unsafe { (self.tramp)(env, self.loop_entry) }
    }

    fn code_size(&self) -> usize {
        self.size
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn runs(&self) -> Option<u32> {
        self.counted
            .then(|| self.cell()[4].load(Ordering::Relaxed).min(u32::MAX as u64) as u32)
    }

    fn set_run_limit(&self, limit: u32) {
        if self.counted {
            let l = if limit == 0 { u64::MAX } else { limit as u64 };
            self.cell()[5].store(l, Ordering::Relaxed);
        }
    }

    fn host_code(&self) -> Option<&[u8]> {
        // SAFETY: `entry..entry + size` is this TB's finished code in `arena`, which we
        // keep alive; the executable view is mapped readable and never written again.
        Some(unsafe { std::slice::from_raw_parts(self.entry, self.size) })
    }
}

impl JitTb {
    /// Host address of the TB's code (for disassembly and profiling).
    pub fn code_ptr(&self) -> *const u8 {
        self.entry
    }

    fn cell(&self) -> &Cell {
        // The cell was handed out by this arena, so the lookup cannot fail; fall back to a
        // dummy dead cell rather than panic.
        self.arena.cell(self.cell).unwrap_or(&DEAD_CELL)
    }

    /// The current target addresses of the two exit slots (0: not chained).
    pub fn chained_slots(&self) -> [usize; 2] {
        let c = self.cell();
        [
            c[0].load(Ordering::Acquire) as usize,
            c[1].load(Ordering::Acquire) as usize,
        ]
    }

    /// Guest pc of the TB's first instruction, if it has an `insn_start`.
    pub fn guest_pc(&self) -> Option<u64> {
        let c = self.cell();
        (c[3].load(Ordering::Acquire) & CELL_HAS_PC != 0).then(|| c[2].load(Ordering::Acquire))
    }
}

static DEAD_CELL: Cell = {
    use std::sync::atomic::AtomicU64;
    [
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(CELL_DEAD),
        AtomicU64::new(0),
        AtomicU64::new(u64::MAX),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ]
};

thread_local! {
    static CTX: RefCell<Option<(Context, FunctionBuilderContext)>> = const { RefCell::new(None) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl CraneliftBackend {
    /// A JIT for the host with default options.
    pub fn new() -> Result<CraneliftBackend, BackendError> {
        Self::with_options(JitOptions::default())
    }

    pub fn with_options(opts: JitOptions) -> Result<CraneliftBackend, BackendError> {
        let err = |e: String| BackendError::Compile(e);
        if opts.quick && !cfg!(target_arch = "x86_64") {
            return Err(err("the quick code generator needs an x86-64 host".into()));
        }
        let mut fb = settings::builder();
        fb.set("opt_level", if opts.optimize { "speed" } else { "none" })
            .map_err(|e| err(e.to_string()))?;
        fb.set(
            "enable_verifier",
            if opts.verifier { "true" } else { "false" },
        )
        .map_err(|e| err(e.to_string()))?;
        fb.set(
            "regalloc_algorithm",
            if opts.single_pass_regalloc {
                "single_pass"
            } else {
                "backtracking"
            },
        )
        .map_err(|e| err(e.to_string()))?;
        // Cranelift's x64 tail calls rely on frame pointers (it asserts this when emitting
        // `return_call_indirect`).
        fb.set("preserve_frame_pointers", "true")
            .map_err(|e| err(e.to_string()))?;
        // Host detection enables SSE4.1/4.2, AVX, AVX-512, ... as available: the vector
        // ops use them.
        let isa = cranelift_native::builder_with_options(!opts.baseline_isa)
            .map_err(|e| err(e.to_string()))?
            .finish(settings::Flags::new(fb))
            .map_err(|e| err(e.to_string()))?;
        let arena = Arc::new(Arena::new(opts.arena_size, opts.split_wx).map_err(err)?);
        let state = Self::new_generation(&isa, arena)?;
        let byte_shuffle = isa.name() != "x64"
            || isa
                .isa_flags()
                .iter()
                .any(|f| f.name == "has_ssse3" && f.as_bool() == Some(true));
        Ok(CraneliftBackend {
            isa,
            byte_shuffle,
            opts,
            state: Mutex::new(state),
            chain_lock: Mutex::new(()),
        })
    }

    /// Compiles the trampoline and the slow-path stubs into the start of a fresh (or
    /// emptied) arena.
    fn new_generation(isa: &OwnedTargetIsa, arena: Arc<Arena>) -> Result<ArenaState, BackendError> {
        let bytes = compile_trampoline(isa)?;
        let stubs = translate::slow_helpers()
            .into_iter()
            .map(|(addr, nargs)| compile_preserving_stub(isa, addr, nargs))
            .collect::<Result<Vec<_>, _>>()?;
        let total = stubs
            .iter()
            .fold(bytes.len(), |n, s| n.next_multiple_of(16) + s.len());
        if total > arena.size() {
            return Err(BackendError::CodeFull);
        }
        arena.reset_cells();
        // SAFETY: offset 0 of an arena no TB uses (fresh, or reused only when no TB holds
        // it), within bounds (checked above).
        let p = unsafe { arena.place(0, &bytes) };
        // SAFETY: `p` is a finished function with the SystemV signature `Trampoline`.
        let tramp = unsafe { std::mem::transmute::<*const u8, Trampoline>(p) };
        let mut used = bytes.len();
        let mut slow = [0usize; 4];
        for (i, s) in stubs.iter().enumerate() {
            let off = used.next_multiple_of(16);
            // SAFETY: inside the bounds checked above, after the trampoline, not yet used.
            slow[i] = unsafe { arena.place(off, s) } as usize;
            used = off + s.len();
        }
        Ok(ArenaState {
            arena,
            used,
            tramp,
            tramp_end: used,
            slow: translate::SlowPaths(slow),
        })
    }

    pub fn options(&self) -> &JitOptions {
        &self.opts
    }

    /// Bytes of the current arena in use (code, trampoline and chain cells).
    pub fn code_used(&self) -> usize {
        let st = self.lock();
        st.used + (st.arena.size() - st.arena.cells_low())
    }

    fn lock(&self) -> MutexGuard<'_, ArenaState> {
        lock(&self.state)
    }

    /// Compiles `func` and returns the concrete TB type.
    pub fn compile_jit(&self, func: &Func) -> Result<JitTb, BackendError> {
        let kind = CodeKind {
            quick: self.opts.quick,
            count_runs: self.opts.count_runs,
            chain_limit: self.opts.chain_limit,
        };
        self.compile_kind(func, kind)
    }

    /// Compiles `func` with the code generator and counting `kind` says.
    fn compile_kind(&self, func: &Func, kind: CodeKind) -> Result<JitTb, BackendError> {
        if tcg_ir::verify::enabled() {
            tcg_ir::verify::verify(func).map_err(|e| BackendError::Invalid(e.to_string()))?;
        }
        let flipped;
        let func = match self.opts.miscompile_add_imm {
            None => func,
            Some(c) => {
                flipped = miscompile_add_imm(func, c);
                &flipped
            }
        };
        let pc = func
            .ops
            .iter()
            .find(|op| op.opc == Opc::InsnStart)
            .and_then(|op| op.cargs.first().copied());
        // The cell must exist before translation (its address is a constant in the code)
        // and the code must land in the cell's arena: retry if a reset came in between.
        for _ in 0..3 {
            let (arena, cell_addr, slow) = {
                let st = self.lock();
                let a = st.arena.alloc_cell(st.used).ok_or(BackendError::CodeFull)?;
                (st.arena.clone(), a, st.slow)
            };
            if let Some(c) = arena.cell(cell_addr) {
                let limit = match kind.chain_limit {
                    0 => u64::MAX,
                    n => n as u64,
                };
                c[5].store(limit, Ordering::Relaxed);
                if let Some(pc) = pc {
                    c[2].store(pc, Ordering::Relaxed);
                    c[3].store(CELL_HAS_PC, Ordering::Release);
                }
            }
            if kind.quick {
                let q = quick::compile(func, cell_addr, kind.count_runs)?;
                if let Some(mut tb) = self.place(&arena, &q.code, cell_addr)? {
                    // SAFETY: `loop_entry` is an offset inside the code just placed.
                    tb.loop_entry = unsafe { tb.entry.add(q.loop_entry) };
                    if let Some(i) = q.inner {
                        // SAFETY: as above.
                        tb.inner_entry = unsafe { tb.entry.add(i) };
                        if let Some(c) = arena.cell(cell_addr) {
                            c[3].fetch_or(CELL_SHARED, Ordering::AcqRel);
                        }
                    }
                    if let (Some(c), Some(base)) =
                        (arena.cell(cell_addr), arena.offset_of(tb.entry))
                    {
                        for (k, site) in q.sites.iter().enumerate() {
                            if let Some(s) = site {
                                let inner = if q.inner_sites[k] { SITE_INNER } else { 0 };
                                c[arena::CELL_SITE + k]
                                    .store((base + s + 1) as u64 | inner, Ordering::Release);
                            }
                        }
                    }
                    tb.counted = kind.count_runs;
                    if let Some(map) = perf_map() {
                        map.record(tb.entry as u64, q.code.len(), "q", pc);
                    }
                    return Ok(tb);
                }
                continue;
            }
            let bytes = CTX.with(|cell| {
                let mut slot = cell.borrow_mut();
                let (ctx, fctx) =
                    slot.get_or_insert_with(|| (Context::new(), FunctionBuilderContext::new()));
                ctx.clear();
                translate::translate(
                    func,
                    &mut ctx.func,
                    fctx,
                    self.isa.frontend_config(),
                    cell_addr,
                    &slow,
                    self.byte_shuffle,
                )?;
                let code = ctx
                    .compile(&*self.isa, &mut ControlPlane::default())
                    .map_err(|e| BackendError::Compile(format!("{:?}", e.inner)))?;
                if !code.buffer.relocs().is_empty() {
                    return Err(BackendError::Compile(format!(
                        "unexpected relocations in generated code: {:?}",
                        code.buffer.relocs()
                    )));
                }
                Ok(code.code_buffer().to_vec())
            })?;
            if let Some(tb) = self.place(&arena, &bytes, cell_addr)? {
                if let Some(map) = perf_map() {
                    map.record(tb.entry as u64, bytes.len(), "tb", pc);
                }
                return Ok(tb);
            }
        }
        Err(BackendError::CodeFull)
    }

    /// Places code for the cell `cell` of `arena`; `None` if `arena` is no longer current.
    fn place(
        &self,
        arena: &Arc<Arena>,
        bytes: &[u8],
        cell: usize,
    ) -> Result<Option<JitTb>, BackendError> {
        let mut st = self.lock();
        if !Arc::ptr_eq(&st.arena, arena) {
            return Ok(None);
        }
        let off = st.used.next_multiple_of(16);
        if off + bytes.len() > st.arena.cells_low() {
            return Err(BackendError::CodeFull);
        }
        st.used = off + bytes.len();
        // SAFETY: `off..off+len` is inside the arena below the chain cells and was never
        // handed out (bump pointer under the lock).
        let p = unsafe { st.arena.place(off, bytes) };
        Ok(Some(JitTb {
            entry: p,
            loop_entry: p,
            inner_entry: std::ptr::null(),
            counted: false,
            tramp: st.tramp,
            size: bytes.len(),
            cell,
            incoming: Mutex::new(Vec::new()),
            arena: st.arena.clone(),
        }))
    }
}

/// `TCG_PERF_MAP=1`: every placed TB is written to `/tmp/perf-<pid>.map` (perf's JIT map
/// format, `addr size name`, the name being the TB's guest pc) so profiles of generated
/// code can be attributed to guest code. perf itself shows the arena as a file mapping
/// (`memfd:tcg-jit`), so match `perf script -F ip` addresses against the map.
struct PerfMap(Mutex<std::fs::File>);

impl PerfMap {
    /// `kind` names the generator (`tb` for Cranelift, `q` for the quick JIT).
    fn record(&self, addr: u64, len: usize, kind: &str, pc: Option<u64>) {
        use std::io::Write;
        let pc = pc.map_or_else(|| kind.to_string(), |pc| format!("{kind}_{pc:x}"));
        // A profiling aid: a failed write loses a line, nothing else.
        let _ = writeln!(lock(&self.0), "{addr:x} {len:x} {pc}");
    }
}

/// Points the quick-code jump of `cell`'s `slot` (if it has one) at `target`, or back at
/// its unchained path. Call under the chain lock, after updating the slot.
/// In a cell's site word: the site has an inner site (quick code with the shared frame,
/// `quick::INNER_SITE_DISTANCE` bytes before it).
const SITE_INNER: u64 = 1 << 62;

/// Points the jump of quick code's `goto_tb` `slot` (if it has one) at `target`, or back
/// to its fall-through (`None`). `inner`: the target's inner entry, taken from the inner
/// site when the slot has one (the frame is kept); the outer site is reset then, and the
/// inner one otherwise.
fn patch_site(
    arena: &Arena,
    cell: &Cell,
    slot: usize,
    target: Option<usize>,
    inner: Option<usize>,
) {
    let word = cell[arena::CELL_SITE + slot].load(Ordering::Acquire);
    let site = (word & !SITE_INNER) as usize;
    if site == 0 {
        return;
    }
    let site = site - 1;
    match (word & SITE_INNER != 0, target.and(inner)) {
        (true, Some(i)) => {
            arena.patch_jump(site - quick::INNER_SITE_DISTANCE, Some(i));
            arena.patch_jump(site, None);
        }
        (has_inner, _) => {
            if has_inner {
                arena.patch_jump(site - quick::INNER_SITE_DISTANCE, None);
            }
            arena.patch_jump(site, target);
        }
    }
}

fn perf_map() -> Option<&'static PerfMap> {
    static MAP: std::sync::OnceLock<Option<PerfMap>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        std::env::var_os("TCG_PERF_MAP")?;
        let path = format!("/tmp/perf-{}.map", std::process::id());
        std::fs::File::create(path)
            .ok()
            .map(|f| PerfMap(Mutex::new(f)))
    })
    .as_ref()
}

/// `extern "C" fn(env, entry) -> u64 { entry(env) }` with `entry` in the tail convention.
fn compile_trampoline(isa: &OwnedTargetIsa) -> Result<Vec<u8>, BackendError> {
    let mut sig = Signature::new(isa.default_call_conv());
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I64));
    let mut func = ir::Function::with_name_signature(UserFuncName::default(), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    let (env, entry) = (b.block_params(blk)[0], b.block_params(blk)[1]);
    let tsig = b.import_signature(translate::tb_signature(CallConv::Tail));
    let call = b.ins().call_indirect(tsig, entry, &[env]);
    let r = b.inst_results(call)[0];
    b.ins().return_(&[r]);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    let mut ctx = Context::for_function(func);
    let code = ctx
        .compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| BackendError::Compile(format!("trampoline: {:?}", e.inner)))?;
    Ok(code.code_buffer().to_vec())
}

/// A `preserve_all` stub calling the SystemV function at `addr` with `nargs` I64
/// arguments (the first being env) and storing its I64 result at the pointer passed as
/// one more, last argument (`preserve_all` functions return nothing). TB code calls the
/// memory slow paths through these stubs: a call that clobbers no register lets TBs keep
/// their values in caller-saved registers, so most TBs save and restore no callee-saved
/// register on entry and on every chained exit; the stub saves what the C function may
/// clobber, on the slow path only.
fn compile_preserving_stub(
    isa: &OwnedTargetIsa,
    addr: usize,
    nargs: usize,
) -> Result<Vec<u8>, BackendError> {
    let mut sig = Signature::new(CallConv::PreserveAll);
    for _ in 0..=nargs {
        sig.params.push(AbiParam::new(types::I64));
    }
    let mut csig = Signature::new(isa.default_call_conv());
    for _ in 0..nargs {
        csig.params.push(AbiParam::new(types::I64));
    }
    csig.returns.push(AbiParam::new(types::I64));
    let mut func = ir::Function::with_name_signature(UserFuncName::default(), sig);
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut func, &mut fctx);
    let blk = b.create_block();
    b.append_block_params_for_function_params(blk);
    b.switch_to_block(blk);
    let params = b.block_params(blk).to_vec();
    let (args, out) = params.split_at(nargs);
    let csig = b.import_signature(csig);
    let callee = b.ins().iconst(types::I64, addr as i64);
    let call = b.ins().call_indirect(csig, callee, args);
    let r = b.inst_results(call)[0];
    b.ins().store(ir::MemFlagsData::trusted(), r, out[0], 0);
    b.ins().return_(&[]);
    b.seal_all_blocks();
    b.finalize(isa.frontend_config());
    let mut ctx = Context::for_function(func);
    let code = ctx
        .compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| BackendError::Compile(format!("slow-path stub: {:?}", e.inner)))?;
    Ok(code.code_buffer().to_vec())
}

fn jit_tb(tb: &dyn CompiledTb) -> Option<&JitTb> {
    tb.as_any()?.downcast_ref::<JitTb>()
}

impl Backend for CraneliftBackend {
    fn name(&self) -> &'static str {
        if self.opts.quick {
            "quick"
        } else {
            "cranelift"
        }
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        Ok(Arc::new(self.compile_jit(func)?))
    }

    fn reset(&self) {
        // A new generation; old TBs keep the old arena alive until they are dropped.
        let fresh = Arena::new(self.opts.arena_size, self.opts.split_wx)
            .ok()
            .and_then(|a| Self::new_generation(&self.isa, Arc::new(a)).ok());
        let mut st = self.lock();
        if let Some(s) = fresh {
            *st = s;
        } else if Arc::strong_count(&st.arena) == 1 {
            // No TB refers to the arena any more: reuse it (the trampoline stays).
            st.used = st.tramp_end;
            st.arena.reset_cells();
        }
    }

    fn chain(&self, from_exit: u64, target: &Arc<dyn CompiledTb>) -> bool {
        let Some(cell) = ExitCode::chain_cell(from_exit) else {
            return false;
        };
        let slot = (from_exit & 1) as usize;
        let Some(t) = jit_tb(&**target) else {
            return false;
        };
        // A cell the target's arena handed out: same generation, and the cell's memory
        // lives as long as `t` does.
        let Some(from) = t.arena.cell(cell) else {
            return false;
        };
        let to = t.cell();
        let ok = |from: &Cell, to: &Cell| {
            let (ff, tf) = (
                from[3].load(Ordering::Acquire),
                to[3].load(Ordering::Acquire),
            );
            ff & tf & CELL_HAS_PC != 0
                && (ff | tf) & CELL_DEAD == 0
                && (from[2].load(Ordering::Relaxed) ^ to[2].load(Ordering::Relaxed))
                    >> GUEST_PAGE_BITS
                    == 0
        };
        if !ok(from, to) {
            return false;
        }
        let entry = t.entry as u64;
        if from[slot].load(Ordering::Acquire) == entry {
            return true;
        }
        let _g = lock(&self.chain_lock);
        if !ok(from, to) {
            return false;
        }
        // Record first: an unchain of `t` (under the same lock) then sees this slot.
        lock(&t.incoming).push((cell, slot));
        from[slot].store(entry, Ordering::Release);
        let inner = (!t.inner_entry.is_null()).then_some(t.inner_entry as usize);
        patch_site(&t.arena, from, slot, Some(t.entry as usize), inner);
        true
    }

    fn direct_entry(&self, tb: &dyn CompiledTb) -> Option<(u64, u64)> {
        let t = jit_tb(tb)?;
        (t.cell()[3].load(Ordering::Acquire) & CELL_DEAD == 0)
            .then_some((t.entry as u64, t.cell as u64))
    }

    fn unchain(&self, tb: &dyn CompiledTb) {
        let Some(t) = jit_tb(tb) else {
            return;
        };
        let _g = lock(&self.chain_lock);
        let c = t.cell();
        c[3].fetch_or(CELL_DEAD, Ordering::AcqRel);
        c[0].store(0, Ordering::Release);
        c[1].store(0, Ordering::Release);
        patch_site(&t.arena, c, 0, None, None);
        patch_site(&t.arena, c, 1, None, None);
        let entry = t.entry as u64;
        for (cell, slot) in lock(&t.incoming).drain(..) {
            if let Some(from) = t.arena.cell(cell) {
                // Only if it still points here (the slot may have been re-chained).
                if from[slot]
                    .compare_exchange(entry, 0, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    patch_site(&t.arena, from, slot, None, None);
                }
            }
        }
    }
}
