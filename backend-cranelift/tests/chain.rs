//! Direct block chaining on the JIT: chained TBs run as one `exec`, loops chained to
//! themselves still see the exit request, and chaining is refused across guest pages,
//! across arena generations and after `unchain`.

mod common;

use backend_cranelift::{CraneliftBackend, JitTb};
use common::{parse, TestEnv, RAM_BASE, RAM_SIZE};
use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tcg_ir::{Backend, CompiledTb, ExitCode};

/// A leaked env (tests only): stable, and safe to touch from a watchdog after a hang.
fn env() -> &'static mut TestEnv {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM_BASE), RAM_SIZE).unwrap();
    let ctx: &'static MemCtx = Box::leak(Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(IdentityWalker),
    }));
    Box::leak(Box::new(TestEnv {
        head: EnvHead::new(ctx),
        regs: [0; common::NREGS],
    }))
}

fn exec(tb: &Arc<dyn CompiledTb>, env: &mut TestEnv) -> u64 {
    // SAFETY: env is a TestEnv with a live MemCtx; used by this thread only.
    unsafe { tb.exec_chained(env as *mut TestEnv as *mut u8) }
}

/// `x1 += 1`, then continue at `next` through slot 0.
fn tb_inc(pc: u64, next: u64) -> String {
    format!(
        "  insn_start {pc:#x}\n  add.i64 x1, x1, $0x1\n  mov.i64 x15, ${next:#x}\n  goto_tb 0\n  exit_tb 0\n"
    )
}

/// `x2 = x1 * 2`, then the guest exit 0x20.
fn tb_end(pc: u64) -> String {
    format!("  insn_start {pc:#x}\n  mul.i64 x2, x1, $0x2\n  exit_tb 0x20\n")
}

fn jit() -> CraneliftBackend {
    CraneliftBackend::new().expect("host JIT")
}

fn compile(be: &CraneliftBackend, body: &str) -> Arc<dyn CompiledTb> {
    be.compile(&parse(body)).expect("compile")
}

fn slots(tb: &Arc<dyn CompiledTb>) -> [usize; 2] {
    tb.as_any()
        .and_then(|a| a.downcast_ref::<JitTb>())
        .expect("a JIT TB")
        .chained_slots()
}

#[test]
fn exit_values_encode_and_normalize() {
    let be = jit();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let e = env();
    let v = exec(&a, e);
    assert_ne!(
        v & ExitCode::CHAIN_BIT,
        0,
        "JIT goto_tb exits are chainable: {v:#x}"
    );
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert!(ExitCode::chain_cell(v).is_some());
    assert_eq!(ExitCode::normalize(v), ExitCode::GOTO_TB0);
    // SAFETY: as in `exec`.
    let plain = unsafe { a.exec(e as *mut TestEnv as *mut u8) };
    assert_eq!(plain, ExitCode::GOTO_TB0, "exec keeps the plain protocol");
    for g in [ExitCode::FIRST_GUEST, 0x20, 0xffff, u32::MAX as u64] {
        assert_eq!(ExitCode::goto_tb_slot(g), None);
        assert_eq!(ExitCode::normalize(g), g);
    }
    assert_eq!(ExitCode::goto_tb_slot(ExitCode::GOTO_TB1), Some(1));
    assert_eq!(ExitCode::goto_tb_slot(ExitCode::LOOKUP), None);
}

#[test]
fn two_chained_tbs_run_as_one_exec() {
    let be = jit();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(&be, &tb_end(0x4000_1040));
    let e = env();
    e.regs[1] = 10;
    let v = exec(&a, e);
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert_eq!((e.regs[1], e.regs[15]), (11, 0x4000_1040));
    assert!(be.chain(v, &b));
    assert_eq!(
        slots(&a)[0],
        b.as_any()
            .unwrap()
            .downcast_ref::<JitTb>()
            .unwrap()
            .code_ptr() as usize
    );
    assert!(be.chain(v, &b), "chaining again is a no-op success");
    // One exec now runs A then B (B sees A's cached global written back).
    let v = exec(&a, e);
    assert_eq!(v, 0x20);
    assert_eq!((e.regs[1], e.regs[2]), (12, 24));
    // SAFETY: as in `exec`.
    assert_eq!(unsafe { a.exec(e as *mut TestEnv as *mut u8) }, 0x20);
}

#[test]
fn chain_through_a_chain_names_the_exiting_tb() {
    // A -> B -> (exit, slot 0 of B): the exit value must name B's cell, so chaining it
    // to A closes the loop A -> B -> A, which runs until B's counter exit.
    let be = jit();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(
        &be,
        "  insn_start 0x40001040\n  brcond.i64 x1, $0x64, geu, L0\n  mov.i64 x15, $0x40001000\n  goto_tb 0\n  exit_tb 0\nL0:\n  exit_tb 0x21\n",
    );
    let e = env();
    let v = exec(&a, e);
    assert!(be.chain(v, &b));
    let v = exec(&a, e);
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert_eq!(e.regs[1], 2);
    assert!(be.chain(v, &a), "B's slot chains back to A");
    assert_eq!(exec(&a, e), 0x21);
    assert_eq!(e.regs[1], 100);
}

#[test]
fn self_loop_sees_exit_request_from_another_thread() {
    // Chained through its cell, and (marked) looping inside the TB.
    for marked in ["", "self_loops 0x1\n"] {
        self_loop_sees_exit_request(&format!("{marked}{}", tb_inc(0x4000_1000, 0x4000_1000)));
    }
}

fn self_loop_sees_exit_request(body: &str) {
    let be = Arc::new(jit());
    let a = compile(&be, body);
    let e = env();
    let v = exec(&a, e);
    assert!(be.chain(v, &a), "a TB may chain to itself");
    let flag = &e.head.exit_request as *const AtomicU32 as usize;
    let addr = e as *mut TestEnv as usize;
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        // SAFETY: the env is leaked; only this thread uses it besides the atomic flag.
        let e = unsafe { &mut *(addr as *mut TestEnv) };
        let r = exec(&a, e);
        let _ = tx.send((r, e.regs[1]));
    });
    std::thread::sleep(Duration::from_millis(50));
    // SAFETY: the flag is an atomic in a leaked env.
    unsafe { &*(flag as *const AtomicU32) }.store(1, Ordering::SeqCst);
    // Watchdog: a chained loop that ignored the request would hang here.
    let (r, count) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("chained loop did not see the exit request");
    runner.join().unwrap();
    assert_eq!(r, ExitCode::REQUESTED);
    assert!(count > 1000, "the loop ran chained ({count} iterations)");
}

/// `x1 += 1` until it reaches 1000 (exit 0x21), else back to its own start, marked as a
/// self loop (`Func::self_loops`).
const COUNT_LOOP: &str = "self_loops 0x1\n  insn_start 0x40001000\n  add.i64 x1, x1, $0x1\n  brcond.i64 x1, $0x3e8, geu, L0\n  mov.i64 x15, $0x40001000\n  goto_tb 0\n  exit_tb 0\nL0:\n  exit_tb 0x21\n";

#[test]
fn a_marked_self_loop_runs_inside_the_tb_once_chained() {
    let be = jit();
    let a = compile(&be, COUNT_LOOP);
    let e = env();
    // Unchained: one iteration, then the loop's exit.
    let v = exec(&a, e);
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert_eq!((e.regs[1], e.regs[15]), (1, 0x4000_1000));
    assert!(be.chain(v, &a));
    // Chained: the rest of the count in one exec, the globals written back at the exit.
    assert_eq!(exec(&a, e), 0x21);
    assert_eq!(e.regs[1], 1000);
    // A pending request stops it at the entry.
    e.regs[1] = 0;
    e.head.exit_request.store(1, Ordering::Relaxed);
    assert_eq!(exec(&a, e), ExitCode::REQUESTED);
    assert_eq!(e.regs[1], 0);
    e.head.exit_request.store(0, Ordering::Relaxed);
}

/// Invalidating a TB that is looping inside itself (another vCPU wrote its code): the
/// loop leaves through its exit at the next iteration, with the globals in env. On the
/// JIT and on the interpreter, which runs a marked self loop without writing its globals
/// back at every iteration too.
#[test]
fn unchaining_a_running_self_loop_stops_it() {
    unchaining_a_running_self_loop_stops_it_on(Arc::new(jit()));
    unchaining_a_running_self_loop_stops_it_on(Arc::new(backend_interp::Interp::new()));
}

fn unchaining_a_running_self_loop_stops_it_on(be: Arc<dyn Backend>) {
    let src = format!("self_loops 0x1\n{}", tb_inc(0x4000_1000, 0x4000_1000));
    let a = be.compile(&parse(&src)).expect("compile");
    let e = env();
    let v = exec(&a, e);
    assert!(be.chain(v, &a), "{}", be.name());
    let addr = e as *mut TestEnv as usize;
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = {
        let a = a.clone();
        std::thread::spawn(move || {
            // SAFETY: the env is leaked; only this thread uses it.
            let e = unsafe { &mut *(addr as *mut TestEnv) };
            let r = exec(&a, e);
            let _ = tx.send((r, e.regs[1], e.regs[15]));
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    be.unchain(&*a);
    let (r, count, pc) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the loop did not leave after unchain");
    runner.join().unwrap();
    let name = be.name();
    assert_eq!(
        ExitCode::normalize(r),
        ExitCode::GOTO_TB0,
        "{name}: left through its exit"
    );
    assert!(
        count > 1000,
        "{name}: it ran in the TB ({count} iterations)"
    );
    assert_eq!(pc, 0x4000_1000, "{name}");
}

#[test]
fn chaining_is_refused_across_pages_and_without_a_pc() {
    let be = jit();
    let a = compile(&be, &tb_inc(0x4000_1ff8, 0x4000_2000));
    let b = compile(&be, &tb_end(0x4000_2000));
    let e = env();
    let v = exec(&a, e);
    assert!(!be.chain(v, &b), "different guest pages");
    assert_eq!(slots(&a), [0, 0]);
    let nopc = compile(&be, "  mul.i64 x2, x1, $0x2\n  exit_tb 0x20\n");
    assert!(!be.chain(v, &nopc), "target without insn_start");
    let same = compile(&be, &tb_end(0x4000_1000));
    assert!(be.chain(v, &same), "same page chains");
    // Plain exit values and non-goto values never chain.
    assert!(!be.chain(ExitCode::GOTO_TB0, &same));
    assert!(!be.chain(0x20, &same));
}

#[test]
fn chaining_is_refused_across_generations_and_backends() {
    let be = jit();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let e = env();
    let v = exec(&a, e);
    be.reset();
    let b = compile(&be, &tb_end(0x4000_1040));
    assert!(!be.chain(v, &b), "old generation -> new generation");
    let v2 = exec(&compile(&be, &tb_inc(0x4000_1000, 0x4000_1040)), e);
    assert!(!be.chain(v2, &a), "new generation -> old generation");
    let other = jit();
    let c = compile(&other, &tb_end(0x4000_1040));
    assert!(!be.chain(v2, &c), "another backend's TB");
    assert!(!other.chain(v2, &c), "another backend's exit value");
    let interp: Arc<dyn CompiledTb> = backend_interp::Interp::new()
        .compile(&parse(&tb_end(0x4000_1040)))
        .unwrap();
    assert!(!be.chain(v2, &interp), "interpreter TB");
    assert!(be.chain(v2, &b), "same generation chains");
    // Old TBs keep running after the reset (their arena is alive).
    e.regs[1] = 0;
    assert_eq!(ExitCode::goto_tb_slot(exec(&a, e)), Some(0));
    assert_eq!(e.regs[1], 1);
}

#[test]
fn unchain_resets_cells_and_blocks_later_chains() {
    unchain_resets(jit());
}

/// Quick code chains by patching its jumps: unchaining must point them back.
#[test]
fn quick_code_unchain_repoints_its_jumps() {
    unchain_resets(quick_counting(0));
}

fn unchain_resets(be: CraneliftBackend) {
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let a2 = compile(&be, &tb_inc(0x4000_1080, 0x4000_1040));
    let b = compile(&be, &tb_end(0x4000_1040));
    let e = env();
    let va = exec(&a, e);
    let va2 = exec(&a2, e);
    assert!(be.chain(va, &b) && be.chain(va2, &b));
    assert_ne!(slots(&a)[0], 0);
    assert_eq!(exec(&a, e), 0x20);
    be.unchain(&*b);
    assert_eq!(slots(&a), [0, 0], "incoming chain cut");
    assert_eq!(slots(&a2), [0, 0], "incoming chain cut");
    assert_eq!(
        ExitCode::goto_tb_slot(exec(&a, e)),
        Some(0),
        "back to the loop"
    );
    assert!(
        !be.chain(va, &b),
        "an unchained TB is never chained to again"
    );
    // Unchaining the source: its own slots reset, and it never chains again.
    let b2 = compile(&be, &tb_end(0x4000_1040));
    assert!(be.chain(va, &b2));
    be.unchain(&*a);
    assert_eq!(slots(&a), [0, 0]);
    assert!(!be.chain(va, &b2));
    assert!(be.chain(va2, &b2), "others unaffected");
    assert_eq!(exec(&a2, e), 0x20);
}

#[test]
fn concurrent_chaining_while_running() {
    concurrent_chaining(jit());
}

/// Four threads patch the same quick-code jumps while running through them.
#[test]
fn quick_code_concurrent_chaining_while_running() {
    concurrent_chaining(quick_counting(0));
}

fn concurrent_chaining(be: CraneliftBackend) {
    // Four threads run A -> B -> A ... (B leaves after 2000 rounds of its env's counter),
    // chaining the slots as they exit, all at once.
    let be = Arc::new(be);
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(
        &be,
        "  insn_start 0x40001040\n  brcond.i64 x1, $0x7d0, geu, L0\n  mov.i64 x15, $0x40001000\n  goto_tb 0\n  exit_tb 0\nL0:\n  exit_tb 0x21\n",
    );
    let hs: Vec<_> = (0..4)
        .map(|_| {
            let (be, a, b) = (be.clone(), a.clone(), b.clone());
            std::thread::spawn(move || {
                let e = env();
                let mut next = a.clone();
                let mut execs = 0u64;
                loop {
                    let v = exec(&next, e);
                    execs += 1;
                    if v == 0x21 {
                        break;
                    }
                    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
                    next = if e.regs[15] == 0x4000_1000 {
                        a.clone()
                    } else {
                        b.clone()
                    };
                    be.chain(v, &next);
                }
                (e.regs[1], execs)
            })
        })
        .collect();
    for h in hs {
        let (count, execs) = h.join().unwrap();
        assert_eq!(count, 2000);
        assert!(execs < 100, "chained: {execs} execs");
    }
}

/// Quick code as the tiered back end uses it: no counting, so TBs share one frame size
/// and chains between them keep the frame (inner entries and sites).
fn quick_shared() -> CraneliftBackend {
    CraneliftBackend::with_options(backend_cranelift::JitOptions {
        quick: true,
        ..Default::default()
    })
    .expect("host JIT")
}

#[test]
fn quick_shared_frame_chains_unchain_and_run_concurrently() {
    unchain_resets(quick_shared());
    concurrent_chaining(quick_shared());
    // From shared-frame quick code into Cranelift code of the same arena (the tiered
    // back end's tiers): the outer site and the full entry.
    let hot = Arc::new(jit());
    let q = backend_cranelift::QuickTier::uncounted(hot.clone()).expect("quick tier");
    let a = q
        .compile(&parse(&tb_inc(0x4000_1000, 0x4000_1040)))
        .expect("compile");
    let b = compile(&hot, &tb_end(0x4000_1040));
    let e = env();
    e.regs[1] = 1;
    let v = exec(&a, e);
    assert!(q.chain(v, &b));
    assert_eq!(exec(&a, e), 0x20);
    assert_eq!((e.regs[1], e.regs[2]), (3, 6));
}

fn quick_counting(limit: u32) -> CraneliftBackend {
    CraneliftBackend::with_options(backend_cranelift::JitOptions {
        quick: true,
        count_runs: true,
        chain_limit: limit,
        ..Default::default()
    })
    .expect("host JIT")
}

#[test]
fn quick_code_chains_counts_runs_and_stops_chained_entries_at_the_limit() {
    let be = quick_counting(3);
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(&be, &tb_end(0x4000_1040));
    let e = env();
    e.regs[1] = 10;
    let v = exec(&a, e);
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert!(be.chain(v, &b));
    assert_eq!((a.runs(), b.runs()), (Some(1), Some(0)));
    // Chained entries into B while it has run fewer than 3 times.
    for k in 0..3u64 {
        assert_eq!(exec(&a, e), 0x20, "chained run {k}");
        assert_eq!(e.regs[2], 2 * (12 + k));
    }
    assert_eq!(b.runs(), Some(3));
    // B reached its limit: the chained entry leaves for the loop, pc set, B not run.
    e.regs[2] = 0;
    assert_eq!(exec(&a, e), ExitCode::LOOKUP);
    assert_eq!((e.regs[1], e.regs[2], e.regs[15]), (15, 0, 0x4000_1040));
    assert_eq!(b.runs(), Some(3));
    // The loop may always enter it; a raised limit lets chains in again.
    assert_eq!(exec(&b, e), 0x20);
    b.set_run_limit(10);
    assert_eq!(exec(&a, e), 0x20);
    assert_eq!(b.runs(), Some(5));
    // 0: no limit.
    b.set_run_limit(0);
    for _ in 0..10 {
        assert_eq!(exec(&a, e), 0x20);
    }
    assert_eq!(b.runs(), Some(15));
}

#[test]
fn quick_code_sees_the_exit_request_on_entry() {
    let be = quick_counting(0);
    let a = compile(&be, &tb_end(0x4000_1000));
    let e = env();
    e.head.exit_request.store(1, Ordering::Relaxed);
    assert_eq!(exec(&a, e), ExitCode::REQUESTED);
    assert_eq!(e.regs[2], 0);
    e.head.exit_request.store(0, Ordering::Relaxed);
    e.regs[1] = 4;
    assert_eq!(exec(&a, e), 0x20);
    assert_eq!(e.regs[2], 8);
}
