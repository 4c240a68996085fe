//! A toy guest CPU for the scheduler tests: real IR, run by the interpreter back end.
#![allow(dead_code)]

use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::mem::offset_of;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tcg_ir::{Backend, Builder, Cond, ExitCode, MemOp, MmuIdx, RmwOp, Type};
use vcpu_sched::{Control, CpuAction, GuestCpu, RunOutcome, Sched, SchedMode, TbKey, Translation};

pub const RAM_BASE: u64 = 0x4000_0000;
pub const RAM_SIZE: u64 = 0x10_0000;
/// The word every counting block increments atomically.
pub const SHARED_WORD: u64 = RAM_BASE + 0x100;

/// Block: r0 += 1; atomic add [SHARED_WORD], 1; exit to the guest handler.
pub const PC_COUNT: u64 = 0x1000;
/// Block: r1 += 1; exit LOOKUP (never reaches `handle_exit`: a tight guest loop).
pub const PC_SPIN: u64 = 0x2000;
/// Block: exit to the guest handler, nothing else.
pub const PC_PLAIN: u64 = 0x3000;
/// Block (same guest page as PC_COUNT): r0 += 1; atomic add [SHARED_WORD], 1; then while
/// r0 < r2 continue through `goto_tb 0` (the toy's pc does not change, so the next TB is
/// this one again: on the JIT it chains to itself), else exit to the guest handler.
/// `Toy::new` sets r2 to u64::MAX.
pub const PC_COUNT_CHAIN: u64 = 0x1040;

pub const EXIT_GUEST: u64 = ExitCode::FIRST_GUEST;
/// `Ctx::exit` when the script is called from `tb_key` (before every TB).
pub const KEY_HOOK: u64 = u64::MAX;

#[repr(C)]
pub struct ToyEnv {
    pub head: EnvHead,
    pub regs: [u64; 8],
}

const REGS: u32 = offset_of!(ToyEnv, regs) as u32;

/// What a script sees: the CPU's id, registers and PC, and why it was called.
pub struct Ctx<'a> {
    pub id: usize,
    pub regs: &'a mut [u64; 8],
    pub pc: &'a mut u64,
    /// The TB exit code, or `KEY_HOOK`.
    pub exit: u64,
}

pub type Script = Box<dyn FnMut(&mut Ctx) -> CpuAction + Send>;

pub struct Toy {
    pub id: usize,
    // Boxed: the env must not move with the `Toy`.
    env: Box<ToyEnv>,
    _ctx: Box<MemCtx>,
    pub pc: u64,
    pub script: Script,
    pub irq: Arc<AtomicBool>,
    /// Words received through `GuestCpu::apply_deferred`, in order.
    pub applied: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Toy {
    pub fn new(id: usize, phys: &Arc<PhysMap>, pc: u64, script: Script) -> Toy {
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(IdentityWalker),
        });
        let env = Box::new(ToyEnv {
            head: EnvHead::new(&*ctx),
            regs: [0, 0, u64::MAX, 0, 0, 0, 0, 0],
        });
        Toy {
            id,
            env,
            _ctx: ctx,
            pc,
            script,
            irq: Arc::new(AtomicBool::new(false)),
            applied: Arc::default(),
        }
    }

    fn call(&mut self, exit: u64) -> CpuAction {
        let mut ctx = Ctx {
            id: self.id,
            regs: &mut self.env.regs,
            pc: &mut self.pc,
            exit,
        };
        (self.script)(&mut ctx)
    }
}

impl GuestCpu for Toy {
    fn env(&mut self) -> *mut u8 {
        &mut *self.env as *mut ToyEnv as *mut u8
    }

    fn tb_key(&mut self) -> Result<TbKey, CpuAction> {
        match self.call(KEY_HOOK) {
            CpuAction::Continue => Ok(TbKey {
                pc: self.pc,
                phys_pc: self.pc,
                flags: 0,
            }),
            a => Err(a),
        }
    }

    fn peek_tb_key(&mut self) -> Option<TbKey> {
        Some(TbKey {
            pc: self.pc,
            phys_pc: self.pc,
            flags: 0,
        })
    }

    fn translate(&mut self, key: &TbKey) -> Result<Translation, CpuAction> {
        let mut b = Builder::new();
        let r0 = b.global("r0", Type::I64, REGS);
        let r1 = b.global("r1", Type::I64, REGS + 8);
        b.insn_start(key.pc);
        let one = b.c64(1);
        match key.pc {
            PC_COUNT => {
                b.add(r0, r0, one);
                let addr = b.c64(SHARED_WORD);
                let old = b.temp(Type::I64);
                b.atomic_rmw(RmwOp::Add, old, addr, one, MemOp::UQ, MmuIdx(0));
                b.exit_tb(EXIT_GUEST);
            }
            PC_SPIN => {
                b.add(r1, r1, one);
                b.exit_tb(ExitCode::LOOKUP);
            }
            PC_PLAIN => b.exit_tb(EXIT_GUEST),
            PC_COUNT_CHAIN => {
                let r2 = b.global("r2", Type::I64, REGS + 16);
                b.add(r0, r0, one);
                let addr = b.c64(SHARED_WORD);
                let old = b.temp(Type::I64);
                b.atomic_rmw(RmwOp::Add, old, addr, one, MemOp::UQ, MmuIdx(0));
                let done = b.new_label();
                b.brcond(Cond::Geu, r0, r2, done);
                b.goto_tb(0);
                b.exit_tb(ExitCode::GOTO_TB0);
                b.set_label(done);
                b.exit_tb(EXIT_GUEST);
            }
            pc => return Err(CpuAction::Fatal(format!("no code at {pc:#x}"))),
        }
        Ok(Translation {
            func: b.finish(),
            size: 4,
            before: 0,
            insns: 1,
        })
    }

    fn handle_exit(&mut self, code: u64) -> CpuAction {
        if code == ExitCode::FAULT {
            return CpuAction::Fatal(format!("fault at {:#x}", self.env.head.fault_addr));
        }
        self.call(code)
    }

    fn has_interrupt(&self) -> bool {
        self.irq.load(Ordering::Acquire)
    }

    fn apply_deferred(&mut self, word: u64) {
        self.applied.lock().unwrap().push(word);
    }
}

pub fn new_phys() -> Arc<PhysMap> {
    let mut p = PhysMap::new();
    p.add_ram("ram", PhysAddr(RAM_BASE), RAM_SIZE).expect("ram");
    Arc::new(p)
}

pub fn shared_word(phys: &PhysMap) -> u64 {
    phys.read(PhysAddr(SHARED_WORD), 8).expect("shared word")
}

pub fn sched(cpus: Vec<Toy>, mode: SchedMode) -> Sched<Toy> {
    Sched::new(cpus, Arc::new(Interp::new()), mode)
}

/// The back ends the scheduler tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Be {
    Interp,
    Jit,
    /// The JIT's quick code generator.
    Quick,
}

pub fn backend(be: Be) -> Arc<dyn Backend> {
    match be {
        Be::Interp => Arc::new(Interp::new()),
        Be::Jit => Arc::new(CraneliftBackend::new().expect("host JIT")),
        Be::Quick => Arc::new(
            CraneliftBackend::with_options(backend_cranelift::JitOptions {
                quick: true,
                ..Default::default()
            })
            .expect("host JIT"),
        ),
    }
}

pub fn sched_on(cpus: Vec<Toy>, mode: SchedMode, be: Be) -> Sched<Toy> {
    Sched::new(cpus, backend(be), mode)
}

/// A `Control` the scripts can reach (set after the `Sched` exists).
pub type CtlCell = Arc<OnceLock<Control<Toy>>>;

pub fn ctl(cell: &CtlCell) -> &Control<Toy> {
    cell.get().expect("control set before run")
}

/// Runs the machine on a thread; fails the test instead of hanging.
pub fn run_with_watchdog(sched: Sched<Toy>, timeout: Duration) -> RunOutcome {
    let control = sched.control();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(sched.run());
    });
    match rx.recv_timeout(timeout) {
        Ok(o) => o,
        Err(_) => {
            control.fatal("watchdog");
            panic!("the machine hung (watchdog after {timeout:?})");
        }
    }
}

pub const WATCHDOG: Duration = Duration::from_secs(30);

pub const BOTH: [SchedMode; 2] = [SchedMode::RoundRobin, SchedMode::Mttcg];

// SAFETY: the only non-`Send` part is `EnvHead::ctx`, a pointer to the `MemCtx` this `Toy`
// owns (boxed, moving with it); `MemCtx` itself is `Send + Sync` (an `Arc<PhysMap>` and a
// `Send + Sync` walker).
unsafe impl Send for Toy {}
