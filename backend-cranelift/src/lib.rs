//! The Cranelift JIT back end: each TB becomes one native function `fn(env) -> exit code`.
//!
//! * [`CraneliftBackend::new`] picks the host ISA (`cranelift_native`) with `opt_level=speed`;
//!   [`JitOptions`] selects the register allocator, the Cranelift verifier and the code
//!   arena size.
//! * Compilation runs without any lock (one reusable Cranelift context per thread); only
//!   placing the finished bytes in the shared code arena takes a mutex.
//! * Code lives in one large arena per generation (see `arena.rs`); each [`JitTb`] holds an
//!   `Arc` to its arena, so [`Backend::reset`] (which starts a fresh arena) or dropping the
//!   backend never leaves a TB dangling. A full arena gives [`BackendError::CodeFull`].
//! * The generated code follows the same contracts as the interpreter (see `translate.rs`):
//!   exit-request check on entry, inline TLB hit path, softmmu slow paths with a fault exit,
//!   helper calls with globals synced as the helper's flags require.

mod arena;
mod translate;

use arena::Arena;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use tcg_ir::{Backend, BackendError, CompiledTb, Func};

/// Knobs of the JIT.
#[derive(Clone, Debug)]
pub struct JitOptions {
    /// Bytes of code memory per arena generation.
    pub arena_size: usize,
    /// Use regalloc2's single-pass allocator (faster compiles, somewhat worse code).
    pub single_pass_regalloc: bool,
    /// Run Cranelift's IR verifier on every function (slow; for debugging).
    pub verifier: bool,
}

impl Default for JitOptions {
    fn default() -> Self {
        JitOptions {
            arena_size: 256 << 20,
            single_pass_regalloc: false,
            verifier: cfg!(debug_assertions),
        }
    }
}

struct ArenaState {
    arena: Arc<Arena>,
    used: usize,
}

/// The Cranelift back end. Shared by all vCPU threads.
pub struct CraneliftBackend {
    isa: OwnedTargetIsa,
    opts: JitOptions,
    state: Mutex<ArenaState>,
}

/// One compiled TB: an entry point in an arena it keeps alive.
pub struct JitTb {
    entry: unsafe extern "C" fn(*mut u8) -> u64,
    size: usize,
    _arena: Arc<Arena>,
}

impl CompiledTb for JitTb {
    unsafe fn exec(&self, env: *mut u8) -> u64 {
        // SAFETY: `entry` is a finished function in a live arena (we hold an Arc to it);
        // the caller guarantees `env` is a valid environment for this TB.
        unsafe { (self.entry)(env) }
    }

    fn code_size(&self) -> usize {
        self.size
    }
}

impl JitTb {
    /// Host address of the TB's code (for disassembly and profiling).
    pub fn code_ptr(&self) -> *const u8 {
        self.entry as *const u8
    }
}

thread_local! {
    static CTX: RefCell<Option<(Context, FunctionBuilderContext)>> = const { RefCell::new(None) };
}

impl CraneliftBackend {
    /// A JIT for the host with default options.
    pub fn new() -> Result<CraneliftBackend, BackendError> {
        Self::with_options(JitOptions::default())
    }

    pub fn with_options(opts: JitOptions) -> Result<CraneliftBackend, BackendError> {
        let err = |e: String| BackendError::Compile(e);
        let mut fb = settings::builder();
        fb.set("opt_level", "speed")
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
        let isa = cranelift_native::builder()
            .map_err(|e| err(e.to_string()))?
            .finish(settings::Flags::new(fb))
            .map_err(|e| err(e.to_string()))?;
        let arena = Arc::new(Arena::new(opts.arena_size).map_err(err)?);
        Ok(CraneliftBackend {
            isa,
            opts,
            state: Mutex::new(ArenaState { arena, used: 0 }),
        })
    }

    pub fn options(&self) -> &JitOptions {
        &self.opts
    }

    /// Bytes of the current arena in use.
    pub fn code_used(&self) -> usize {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ArenaState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Compiles `func` and returns the concrete TB type.
    pub fn compile_jit(&self, func: &Func) -> Result<JitTb, BackendError> {
        tcg_ir::verify::verify(func).map_err(|e| BackendError::Invalid(e.to_string()))?;
        CTX.with(|cell| {
            let mut slot = cell.borrow_mut();
            let (ctx, fctx) =
                slot.get_or_insert_with(|| (Context::new(), FunctionBuilderContext::new()));
            ctx.clear();
            translate::translate(func, &mut ctx.func, fctx, self.isa.frontend_config());
            let code = ctx
                .compile(&*self.isa, &mut ControlPlane::default())
                .map_err(|e| BackendError::Compile(format!("{:?}", e.inner)))?;
            if !code.buffer.relocs().is_empty() {
                return Err(BackendError::Compile(format!(
                    "unexpected relocations in generated code: {:?}",
                    code.buffer.relocs()
                )));
            }
            let bytes = code.code_buffer();
            self.place(bytes)
        })
    }

    fn place(&self, bytes: &[u8]) -> Result<JitTb, BackendError> {
        let mut st = self.lock();
        let off = st.used.next_multiple_of(16);
        if off + bytes.len() > st.arena.size() {
            return Err(BackendError::CodeFull);
        }
        st.used = off + bytes.len();
        // SAFETY: `off..off+len` is inside the arena and was never handed out (bump
        // pointer under the lock).
        let p = unsafe { st.arena.place(off, bytes) };
        // SAFETY: `p` is the start of a complete function with the TB signature
        // `extern "C" fn(env) -> u64` in the host's default calling convention.
        let entry =
            unsafe { std::mem::transmute::<*const u8, unsafe extern "C" fn(*mut u8) -> u64>(p) };
        Ok(JitTb {
            entry,
            size: bytes.len(),
            _arena: st.arena.clone(),
        })
    }
}

impl Backend for CraneliftBackend {
    fn name(&self) -> &'static str {
        "cranelift"
    }

    fn compile(&self, func: &Func) -> Result<Arc<dyn CompiledTb>, BackendError> {
        Ok(Arc::new(self.compile_jit(func)?))
    }

    fn reset(&self) {
        // A new generation; old TBs keep the old arena alive until they are dropped.
        if let Ok(a) = Arena::new(self.opts.arena_size) {
            let mut st = self.lock();
            st.arena = Arc::new(a);
            st.used = 0;
        } else {
            let mut st = self.lock();
            if Arc::strong_count(&st.arena) == 1 {
                st.used = 0;
            }
        }
    }
}
