//! Self-modifying code end to end: a toy guest CPU whose "instructions" live in guest RAM
//! (so a TB is only right while the RAM it was translated from is unchanged), run on both
//! back ends and both schedulers, with `Sched::attach_phys`. Guest stores (plain,
//! compare-and-swap, atomic exchange; from the same or another vCPU; through a virtual
//! alias), and writes from outside the vCPUs, must invalidate the TBs translated from the
//! bytes written, including a TB a vCPU is spinning in through a chain to itself.

use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use softmmu::layout::PAGE_MASK;
use softmmu::tlb::{Access, PageWalker, Perms, Translation as PageTranslation};
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap, WalkFault};
use std::mem::offset_of;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tcg_ir::{Backend, Builder, Cond, ExitCode, MemOp, MmuIdx, RmwOp, Type};
use vcpu_sched::{Control, CpuAction, GuestCpu, RunOutcome, Sched, SchedMode, TbKey, Translation};

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 0x10_0000;
/// Virtual addresses from here map to RAM again (`ALIAS + x` -> `RAM + x`).
const ALIAS: u64 = 0x1_0000_0000;

/// The code page the tests rewrite, and a code page of helper "instructions".
const CODE: u64 = RAM + 0x1_0000;
const CODE_ALIAS: u64 = ALIAS + 0x1_0000;
const STORE_PC: u64 = RAM + 0x2_0000;
const CAS_PC: u64 = RAM + 0x2_0004;
const XCHG_PC: u64 = RAM + 0x2_0008;
const PLAIN_PC: u64 = RAM + 0x2_000c;
/// A translation of this word writes its own code (see `OP_RACY`).
const RACY_PC: u64 = RAM + 0x3_0000;

/// Instruction words: opcode in bits 24-31, immediate below.
const OP_SET: u32 = 1 << 24; // r0 = imm; exit to the guest
const OP_STORE: u32 = 2 << 24; // [r4] = r3 (32-bit); exit
const OP_CAS: u32 = 3 << 24; // r6 = cmpxchg [r4], r5 -> r3 (32-bit); exit
const OP_XCHG: u32 = 4 << 24; // r6 = xchg [r4], r3 (32-bit); exit
/// r0 = imm; r1 += 1; exit to the guest if r0 == r2, else `goto_tb 0` to itself (the
/// pc does not change): on the JIT the TB chains to itself and never leaves on its own.
const OP_LOOP: u32 = 5 << 24;
/// Like OP_SET, but translating it also writes `OP_SET | imm + 1` over it, as a store by
/// another vCPU racing with the translation would.
const OP_RACY: u32 = 6 << 24;

const EXIT_GUEST: u64 = ExitCode::FIRST_GUEST;
const KEY_HOOK: u64 = u64::MAX;

struct AliasWalker;

impl PageWalker for AliasWalker {
    fn translate(
        &self,
        _env: *mut EnvHead,
        vaddr: u64,
        _access: Access,
        _mmu_idx: usize,
    ) -> Result<PageTranslation, WalkFault> {
        Ok(PageTranslation {
            paddr_page: phys_of(vaddr) & PAGE_MASK,
            perms: Perms::all(),
            attrs: 0,
        })
    }
}

fn phys_of(vaddr: u64) -> u64 {
    if vaddr >= ALIAS {
        vaddr - ALIAS + RAM
    } else {
        vaddr
    }
}

#[repr(C)]
struct SmcEnv {
    head: EnvHead,
    regs: [u64; 8],
}

const REGS: u32 = offset_of!(SmcEnv, regs) as u32;

struct Ctx<'a> {
    regs: &'a mut [u64; 8],
    pc: &'a mut u64,
    exit: u64,
}

type Script = Box<dyn FnMut(&mut Ctx) -> CpuAction + Send>;

struct SmcCpu {
    env: Box<SmcEnv>,
    ctx: Box<MemCtx>,
    pc: u64,
    script: Script,
}

// SAFETY: the only non-`Send` part is `EnvHead::ctx`, a pointer to the boxed `MemCtx` this
// CPU owns (it moves with it); `MemCtx` is `Send + Sync`.
unsafe impl Send for SmcCpu {}

impl SmcCpu {
    fn new(phys: &Arc<PhysMap>, pc: u64, script: Script) -> SmcCpu {
        let ctx = Box::new(MemCtx {
            phys: phys.clone(),
            walker: Box::new(AliasWalker),
        });
        let env = Box::new(SmcEnv {
            head: EnvHead::new(&*ctx),
            regs: [0; 8],
        });
        SmcCpu {
            env,
            ctx,
            pc,
            script,
        }
    }

    fn call(&mut self, exit: u64) -> CpuAction {
        let mut c = Ctx {
            regs: &mut self.env.regs,
            pc: &mut self.pc,
            exit,
        };
        (self.script)(&mut c)
    }
}

impl GuestCpu for SmcCpu {
    fn env(&mut self) -> *mut u8 {
        &mut *self.env as *mut SmcEnv as *mut u8
    }

    fn tb_key(&mut self) -> Result<TbKey, CpuAction> {
        match self.call(KEY_HOOK) {
            CpuAction::Continue => Ok(TbKey {
                pc: self.pc,
                phys_pc: phys_of(self.pc),
                flags: 0,
            }),
            a => Err(a),
        }
    }

    fn translate(&mut self, key: &TbKey) -> Result<Translation, CpuAction> {
        let phys = &self.ctx.phys;
        let word = phys
            .read(PhysAddr(key.phys_pc), 4)
            .ok_or_else(|| CpuAction::Fatal(format!("no RAM at {:#x}", key.phys_pc)))?
            as u32;
        let (op, imm) = (word & 0xff00_0000, (word & 0x00ff_ffff) as u64);
        let mut b = Builder::new();
        let r: Vec<_> = (0..7)
            .map(|i| b.global(format!("r{i}"), Type::I64, REGS + 8 * i))
            .collect();
        b.insn_start(key.pc);
        match op {
            OP_SET | OP_RACY => {
                let v = b.c64(imm);
                b.mov(r[0], v);
                if op == OP_RACY {
                    let new = (OP_SET as u64) | (imm + 1);
                    phys.write(PhysAddr(key.phys_pc), 4, new)
                        .ok_or_else(|| CpuAction::Fatal("racy write".into()))?;
                }
                b.exit_tb(EXIT_GUEST);
            }
            OP_STORE => {
                b.qemu_st(r[3], r[4], MemOp::UL, MmuIdx(0));
                b.exit_tb(EXIT_GUEST);
            }
            OP_CAS => {
                b.atomic_cmpxchg(r[6], r[4], r[5], r[3], MemOp::UL, MmuIdx(0));
                b.exit_tb(EXIT_GUEST);
            }
            OP_XCHG => {
                b.atomic_rmw(RmwOp::Xchg, r[6], r[4], r[3], MemOp::UL, MmuIdx(0));
                b.exit_tb(EXIT_GUEST);
            }
            OP_LOOP => {
                let v = b.c64(imm);
                b.mov(r[0], v);
                let one = b.c64(1);
                b.add(r[1], r[1], one);
                let done = b.new_label();
                b.brcond(Cond::Eq, r[0], r[2], done);
                b.goto_tb(0);
                b.exit_tb(ExitCode::GOTO_TB0);
                b.set_label(done);
                b.exit_tb(EXIT_GUEST);
            }
            _ => {
                return Err(CpuAction::Fatal(format!(
                    "bad instruction {word:#x} at {:#x}",
                    key.pc
                )))
            }
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
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Be {
    Interp,
    Jit,
    Quick,
}

const ALL: [(Be, SchedMode); 6] = [
    (Be::Interp, SchedMode::RoundRobin),
    (Be::Interp, SchedMode::Mttcg),
    (Be::Jit, SchedMode::RoundRobin),
    (Be::Jit, SchedMode::Mttcg),
    (Be::Quick, SchedMode::RoundRobin),
    (Be::Quick, SchedMode::Mttcg),
];

fn backend(be: Be) -> Arc<dyn Backend> {
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

fn new_phys() -> Arc<PhysMap> {
    let mut p = PhysMap::new();
    p.add_ram("ram", PhysAddr(RAM), RAM_SIZE).expect("ram");
    for (pc, w) in [
        (STORE_PC, OP_STORE),
        (CAS_PC, OP_CAS),
        (XCHG_PC, OP_XCHG),
        (PLAIN_PC, OP_SET),
    ] {
        p.write(PhysAddr(pc), 4, w as u64).expect("ram");
    }
    Arc::new(p)
}

fn machine(cpus: Vec<SmcCpu>, phys: &Arc<PhysMap>, be: Be, mode: SchedMode) -> Sched<SmcCpu> {
    let mut s = Sched::new(cpus, backend(be), mode);
    for i in 0..s.num_cpus() {
        s.set_powered(i, true);
    }
    assert!(s.attach_phys(phys.clone()));
    s
}

const WATCHDOG: Duration = Duration::from_secs(20);

/// Runs the machine on a thread; fails the test instead of hanging.
fn run_with_watchdog(sched: Sched<SmcCpu>, what: &str) -> RunOutcome {
    let control = sched.control();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(sched.run());
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(o) => o,
        Err(_) => {
            control.fatal("watchdog");
            panic!("{what}: the machine hung (stale code kept running?)");
        }
    }
}

/// One step of a single-vCPU script: registers to set, where to go, and what r0 must be
/// when the block there exits (None: do not check).
struct Step {
    pc: u64,
    regs: &'static [(usize, u64)],
    expect_r0: Option<u64>,
}

const fn step(pc: u64, regs: &'static [(usize, u64)], expect_r0: Option<u64>) -> Step {
    Step {
        pc,
        regs,
        expect_r0,
    }
}

fn set(v: u32) -> u64 {
    (OP_SET | v) as u64
}

/// One vCPU rewrites and runs code, with each kind of store, through both virtual views.
#[test]
fn guest_stores_invalidate_tbs_on_the_physical_page() {
    static STEPS: OnceLock<Vec<Step>> = OnceLock::new();
    let steps = STEPS.get_or_init(|| {
        vec![
            // A clean writable TLB entry for the page before it holds code: marking the
            // page must make it take the slow path.
            step(STORE_PC, &[(3, 0), (4, CODE + 0x80)], None),
            step(CODE, &[], Some(1)),
            // Plain store, same virtual address.
            step(STORE_PC, &[(3, 0x0100_0002), (4, CODE)], None),
            step(CODE, &[], Some(2)),
            // Store through the alias.
            step(STORE_PC, &[(3, 0x0100_0003), (4, CODE_ALIAS)], None),
            step(CODE, &[], Some(3)),
            // Run through the alias (another TB of the same bytes), rewrite through the
            // identity view: both TBs go.
            step(CODE_ALIAS, &[], Some(3)),
            step(STORE_PC, &[(3, 0x0100_0004), (4, CODE)], None),
            step(CODE_ALIAS, &[], Some(4)),
            step(CODE, &[], Some(4)),
            // Compare-and-swap: a failing one changes nothing ...
            step(
                CAS_PC,
                &[(3, 0x0100_0005), (4, CODE), (5, 0x0100_0009)],
                None,
            ),
            step(CODE, &[], Some(4)),
            // ... a succeeding one rewrites the code.
            step(
                CAS_PC,
                &[(3, 0x0100_0005), (4, CODE), (5, 0x0100_0004)],
                None,
            ),
            step(CODE, &[], Some(5)),
            // Atomic exchange.
            step(XCHG_PC, &[(3, 0x0100_0006), (4, CODE_ALIAS)], None),
            step(CODE_ALIAS, &[], Some(6)),
            // A store to other bytes of the page leaves the TB alone (checked below).
            step(CODE + 0x100, &[], Some(9)),
            step(STORE_PC, &[(3, 7), (4, CODE + 0x40)], None),
            step(CODE, &[], Some(6)),
        ]
    });
    for (be, mode) in ALL {
        let phys = new_phys();
        phys.write(PhysAddr(CODE), 4, set(1)).expect("ram");
        phys.write(PhysAddr(CODE + 0x100), 4, set(9)).expect("ram");
        let mut i = 0usize;
        let script: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                return CpuAction::Continue;
            }
            // The block of step i - 1 just exited (i == 0: the first block ran).
            if let Some(want) = i.checked_sub(1).and_then(|k| steps[k].expect_r0) {
                if c.regs[0] != want {
                    return CpuAction::Fatal(format!(
                        "step {}: r0 = {:#x}, want {want:#x}",
                        i - 1,
                        c.regs[0]
                    ));
                }
            }
            let Some(s) = steps.get(i) else {
                return CpuAction::Shutdown(0);
            };
            for &(r, v) in s.regs {
                c.regs[r] = v;
            }
            *c.pc = s.pc;
            i += 1;
            CpuAction::Continue
        });
        // Start with a harmless block; its exit sets up step 0.
        let cpu = SmcCpu::new(&phys, PLAIN_PC, script);
        let s = machine(vec![cpu], &phys, be, mode);
        let control = s.control();
        let what = format!("{be:?}/{mode:?}");
        let out = run_with_watchdog(s, &what);
        assert_eq!(out.status, 0, "{what}: {:?}", out.message);
        // Translations: PLAIN, STORE, CAS, XCHG, CODE+0x100 once each; CODE six times
        // (1, 2, 3, 4, 5, 6; not again after the store to other bytes of the page);
        // CODE_ALIAS three times (3, 4, 6).
        let st = control.stats(0);
        assert_eq!(st.translations, 5 + 6 + 3, "{what}");
        assert!(phys.is_code(CODE), "{what}: TBs left on the page");
        assert_eq!(control.tb_cache().tbs_on_page(CODE), 3, "{what}");
        // A write from outside (a loader or DMA) invalidates too.
        phys.write(PhysAddr(CODE), 4, set(1)).expect("ram");
        assert_eq!(control.tb_cache().tbs_on_page(CODE), 1, "{what}");
        let key = TbKey {
            pc: CODE,
            phys_pc: CODE,
            flags: 0,
        };
        assert!(control.tb_cache().lookup(&key).is_none(), "{what}");
        control.invalidate_phys_page(CODE);
        assert_eq!(control.tb_cache().tbs_on_page(CODE), 0, "{what}");
        assert!(!phys.is_code(CODE), "{what}: no TB left, page unmarked");
    }
}

/// A write that lands while the block is being translated: the TB runs once (stale) but is
/// not cached; the next run translates the new code. (An exit request can arrive between
/// the translation and the run: the stale TB then leaves before running anything and is
/// not seen; what must never happen is the stale code running twice, i.e. being cached.)
#[test]
fn a_write_during_translation_is_not_cached() {
    for (be, mode) in ALL {
        let phys = new_phys();
        phys.write(PhysAddr(RACY_PC), 4, (OP_RACY | 1) as u64)
            .expect("ram");
        let mut seen = Vec::new();
        let script: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                return CpuAction::Continue;
            }
            seen.push(c.regs[0]);
            match seen.as_slice() {
                [1] => CpuAction::Continue,
                [1, 2] | [2] => CpuAction::Shutdown(0),
                _ => CpuAction::Fatal(format!("saw {seen:?}")),
            }
        });
        let cpu = SmcCpu::new(&phys, RACY_PC, script);
        let s = machine(vec![cpu], &phys, be, mode);
        let control = s.control();
        let what = format!("{be:?}/{mode:?}");
        let out = run_with_watchdog(s, &what);
        assert_eq!(out.status, 0, "{what}: {:?}", out.message);
        assert_eq!(control.stats(0).translations, 2, "{what}");
        assert_eq!(control.tb_cache().tbs_on_page(RACY_PC), 1, "{what}");
    }
}

/// vCPU 0 spins in a block (chained to itself on the JIT) until the code says r0 == 2;
/// vCPU 1 rewrites the code with a store through a TLB entry it filled before the page
/// held code.
#[test]
fn a_store_from_another_vcpu_cuts_a_spinning_chain() {
    for (be, mode) in ALL {
        let phys = new_phys();
        phys.write(PhysAddr(CODE), 4, (OP_LOOP | 1) as u64)
            .expect("ram");
        let primed = Arc::new(AtomicBool::new(false));
        let ctl_cell: Arc<OnceLock<Control<SmcCpu>>> = Arc::new(OnceLock::new());
        let p0 = primed.clone();
        let spin0: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                c.regs[2] = 2;
                return CpuAction::Continue;
            }
            if *c.pc == CODE {
                // Left the loop: only once the code says 2.
                return if c.regs[0] == 2 {
                    CpuAction::Shutdown(0)
                } else {
                    CpuAction::Fatal(format!("left the loop with r0 = {}", c.regs[0]))
                };
            }
            // Wait at PLAIN_PC until vCPU 1 has its TLB entry, then enter the loop.
            if p0.load(Ordering::Acquire) {
                *c.pc = CODE;
            }
            CpuAction::Continue
        });
        let p1 = primed.clone();
        let cell = ctl_cell.clone();
        let mut phase = 0;
        let mut waited = 0u64;
        let writer1: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                return CpuAction::Continue;
            }
            let ctl = cell.get().expect("control");
            match phase {
                0 => {
                    // Fill a writable TLB entry for the code page (other bytes of it).
                    c.regs[3] = 0;
                    c.regs[4] = CODE + 0x200;
                    *c.pc = STORE_PC;
                    phase = 1;
                }
                1 => {
                    p1.store(true, Ordering::Release);
                    *c.pc = PLAIN_PC;
                    phase = 2;
                }
                2 => {
                    // Let vCPU 0 translate the loop and spin in it for a while.
                    if ctl.tb_cache().tbs_on_page(CODE) > 0 {
                        waited += 1;
                    }
                    if waited > 200 {
                        c.regs[3] = (OP_LOOP | 2) as u64;
                        c.regs[4] = CODE;
                        *c.pc = STORE_PC;
                        phase = 3;
                    }
                }
                _ => {
                    *c.pc = PLAIN_PC;
                    return CpuAction::WaitForInterrupt;
                }
            }
            CpuAction::Continue
        });
        let cpus = vec![
            SmcCpu::new(&phys, PLAIN_PC, spin0),
            SmcCpu::new(&phys, PLAIN_PC, writer1),
        ];
        let s = machine(cpus, &phys, be, mode);
        let _ = ctl_cell.set(s.control());
        let what = format!("{be:?}/{mode:?}");
        let out = run_with_watchdog(s, &what);
        assert_eq!(out.status, 0, "{what}: {:?}", out.message);
    }
}

/// A device (any non-vCPU thread) rewrites code a vCPU spins in.
#[test]
fn a_write_from_outside_cuts_a_spinning_chain() {
    for (be, mode) in ALL {
        let phys = new_phys();
        phys.write(PhysAddr(CODE), 4, (OP_LOOP | 1) as u64)
            .expect("ram");
        let spins = Arc::new(AtomicU64::new(0));
        let sp = spins.clone();
        let script: Script = Box::new(move |c: &mut Ctx| {
            if c.exit == KEY_HOOK {
                c.regs[2] = 2;
                sp.fetch_add(1, Ordering::Relaxed);
                return CpuAction::Continue;
            }
            if c.regs[0] == 2 {
                CpuAction::Shutdown(0)
            } else {
                CpuAction::Fatal(format!("left the loop with r0 = {}", c.regs[0]))
            }
        });
        let cpu = SmcCpu::new(&phys, CODE, script);
        let s = machine(vec![cpu], &phys, be, mode);
        let control = s.control();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(s.run());
        });
        let what = format!("{be:?}/{mode:?}");
        let deadline = Instant::now() + WATCHDOG;
        while control.tb_cache().tbs_on_page(CODE) == 0 {
            assert!(Instant::now() < deadline, "{what}: never translated");
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(10));
        phys.write_bytes(PhysAddr(CODE), &(OP_LOOP | 2).to_le_bytes())
            .expect("ram");
        let out = match rx.recv_timeout(WATCHDOG) {
            Ok(o) => o,
            Err(_) => {
                control.fatal("watchdog");
                panic!("{what}: the vCPU kept running the old code");
            }
        };
        assert_eq!(out.status, 0, "{what}: {:?}", out.message);
    }
}
