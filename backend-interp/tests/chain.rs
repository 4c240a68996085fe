//! TB chaining in the interpreter: chained TBs run in one `exec`, loops chained to
//! themselves still see the exit request, the run counters count chained entries, the
//! chain limit, and chaining refused across guest pages, generations, back ends and after
//! `unchain` (also while other threads run the chained code).

use backend_interp::{Interp, InterpTb};
use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tcg_ir::text::parse;
use tcg_ir::{Backend, CompiledTb, ExitCode};

#[repr(C)]
struct Env {
    head: EnvHead,
    regs: [u64; 16],
}

fn decls() -> String {
    let base = std::mem::offset_of!(Env, regs);
    (0..16)
        .map(|i| format!("global x{i}:i64 @{:#x}\n", base + 8 * i))
        .collect()
}

/// A leaked env (tests only): stable, and safe to touch from another thread after a hang.
fn env() -> &'static mut Env {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(0x4000_0000), 0x1_0000).unwrap();
    let ctx: &'static MemCtx = Box::leak(Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(IdentityWalker),
    }));
    Box::leak(Box::new(Env {
        head: EnvHead::new(ctx),
        regs: [0; 16],
    }))
}

fn exec(tb: &Arc<dyn CompiledTb>, e: &mut Env) -> u64 {
    // SAFETY: a leaked Env with a live MemCtx, used by this thread only.
    unsafe { tb.exec_chained(e as *mut Env as *mut u8) }
}

fn compile(be: &Interp, body: &str) -> Arc<dyn CompiledTb> {
    be.compile(&parse(&(decls() + body), &[]).expect("parses"))
        .expect("compiles")
}

fn itb(tb: &Arc<dyn CompiledTb>) -> &InterpTb {
    tb.as_any()
        .and_then(|a| a.downcast_ref::<InterpTb>())
        .expect("an interpreter TB")
}

/// `x1 += 1`, `x15 = next`, then `goto_tb 0`.
fn tb_inc(pc: u64, next: u64) -> String {
    format!(
        "  insn_start {pc:#x}\n  add.i64 x1, x1, $0x1\n  mov.i64 x15, ${next:#x}\n  goto_tb 0\n  exit_tb 0\n"
    )
}

/// `x2 = x1 * 2`, then the guest exit 0x20.
fn tb_end(pc: u64) -> String {
    format!("  insn_start {pc:#x}\n  mul.i64 x2, x1, $0x2\n  exit_tb 0x20\n")
}

/// Back to A (`x15 = 0x40001000`, slot 0) until `x1 >= limit`, then the guest exit 0x21.
fn tb_back(limit: u64) -> String {
    format!(
        "  insn_start 0x40001040\n  brcond.i64 x1, ${limit:#x}, geu, L0\n  mov.i64 x15, $0x40001000\n  goto_tb 0\n  exit_tb 0\nL0:\n  exit_tb 0x21\n"
    )
}

#[test]
fn exit_values_encode_and_normalize() {
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let e = env();
    let v = exec(&a, e);
    assert_ne!(
        v & ExitCode::CHAIN_BIT,
        0,
        "goto_tb exits are chainable: {v:#x}"
    );
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert!(ExitCode::chain_cell(v).is_some());
    // SAFETY: as in `exec`.
    let plain = unsafe { a.exec(e as *mut Env as *mut u8) };
    assert_eq!(plain, ExitCode::GOTO_TB0, "exec keeps the plain protocol");
    assert_eq!(e.regs[1], 2);
    // A guest exit code with the top bit set is not mistaken for a chainable exit.
    let big = compile(
        &be,
        "  insn_start 0x40001000\n  exit_tb 0x8000000000000020\n",
    );
    assert_eq!(exec(&big, e), 0x8000_0000_0000_0020);
}

#[test]
fn two_chained_tbs_run_as_one_exec_and_both_count() {
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(&be, &tb_end(0x4000_1040));
    let e = env();
    e.regs[1] = 10;
    let v = exec(&a, e);
    assert_eq!((e.regs[1], e.regs[15]), (11, 0x4000_1040));
    assert!(be.chain(v, &b));
    assert_eq!(itb(&a).chained_slots(), [true, false]);
    assert!(be.chain(v, &b), "chaining again is a no-op success");
    assert_eq!(exec(&a, e), 0x20);
    assert_eq!((e.regs[1], e.regs[2]), (12, 24));
    // SAFETY: as in `exec`.
    assert_eq!(unsafe { a.exec(e as *mut Env as *mut u8) }, 0x20);
    assert_eq!(itb(&a).runs(), 3);
    assert_eq!(itb(&b).runs(), 2, "entries through the chain count");
}

#[test]
fn chain_through_a_chain_names_the_exiting_tb() {
    // A -> B -> (exit through B's slot 0): the exit value names B, so chaining it to A
    // closes the loop A -> B -> A, which runs until B's own exit.
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(&be, &tb_back(100));
    let e = env();
    let v = exec(&a, e);
    assert!(be.chain(v, &b));
    let v = exec(&a, e);
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert_eq!(e.regs[1], 2);
    assert!(be.chain(v, &a));
    assert_eq!(
        itb(&b).chained_slots(),
        [true, false],
        "B's slot was patched"
    );
    assert_eq!(exec(&a, e), 0x21);
    assert_eq!(e.regs[1], 100);
}

#[test]
fn self_loop_sees_exit_request_from_another_thread() {
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1000));
    let e = env();
    let v = exec(&a, e);
    assert!(be.chain(v, &a), "a TB may chain to itself");
    let flag = &e.head.exit_request as *const AtomicU32 as usize;
    let addr = e as *mut Env as usize;
    let (tx, rx) = std::sync::mpsc::channel();
    let runner = std::thread::spawn(move || {
        // SAFETY: the env is leaked; only this thread uses it besides the atomic flag.
        let e = unsafe { &mut *(addr as *mut Env) };
        let r = exec(&a, e);
        let _ = tx.send((r, e.regs[1], itb(&a).runs()));
    });
    std::thread::sleep(Duration::from_millis(50));
    // SAFETY: the flag is an atomic in a leaked env.
    unsafe { &*(flag as *const AtomicU32) }.store(1, Ordering::SeqCst);
    // Watchdog: a chained loop that ignored the request would hang here.
    let (r, count, runs) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("chained loop did not see the exit request");
    runner.join().unwrap();
    assert_eq!(r, ExitCode::REQUESTED);
    assert!(count > 1000, "the loop ran chained ({count} iterations)");
    // The entry that saw the request ran nothing; every other one counted and ran once.
    assert_eq!(runs as u64, count);
}

/// A self loop that reads a global through env before writing it: every iteration's
/// env read must see the previous iteration's write (the loop keeps the globals in slots,
/// so the sync before the read has to store it), marked as a self loop or not.
#[test]
fn a_self_loop_syncs_globals_its_next_iteration_reads_from_env() {
    let off = std::mem::offset_of!(Env, regs) + 8 * 2;
    let body = format!(
        "local t:i64
  insn_start 0x40001000
  ld_env.i64 t, {off:#x}, uq
  add.i64 x1, x1, t
  add.i64 x2, x2, $0x1
  brcond.i64 x2, $0x64, geu, L0
  mov.i64 x15, $0x40001000
  goto_tb 0
  exit_tb 0
L0:
  exit_tb 0x21
"
    );
    for marked in ["", "self_loops 0x1\n"] {
        let be = Interp::new();
        let a = compile(&be, &format!("{marked}{body}"));
        let e = env();
        let v = exec(&a, e);
        assert!(be.chain(v, &a));
        assert_eq!(exec(&a, e), 0x21, "{marked}");
        assert_eq!((e.regs[1], e.regs[2]), (4950, 100), "{marked}");
    }
}

#[test]
fn the_chain_limit_sends_hot_tbs_back_to_the_loop() {
    let be = Interp::with_chain_limit(50);
    assert_eq!(be.chain_limit(), 50);
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1000));
    let e = env();
    let v = exec(&a, e);
    assert!(be.chain(v, &a));
    // Chained entries stop once A has run 50 times; the exit names A's slot 0.
    let v = exec(&a, e);
    assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
    assert_eq!(e.regs[1], 50);
    assert_eq!(itb(&a).runs(), 50);
    // Entries from the loop still run (and count) it, once each.
    assert_eq!(ExitCode::goto_tb_slot(exec(&a, e)), Some(0));
    assert_eq!((e.regs[1], itb(&a).runs()), (51, 51));
    // Without a limit the same loop only leaves on a request.
    assert_eq!(Interp::new().chain_limit(), 0);
}

#[test]
fn chaining_is_refused_across_pages_and_without_a_pc() {
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1ff8, 0x4000_2000));
    let b = compile(&be, &tb_end(0x4000_2000));
    let e = env();
    let v = exec(&a, e);
    assert!(!be.chain(v, &b), "different guest pages");
    assert_eq!(itb(&a).chained_slots(), [false, false]);
    let nopc = compile(&be, "  mul.i64 x2, x1, $0x2\n  exit_tb 0x20\n");
    assert!(!be.chain(v, &nopc), "target without insn_start");
    let same = compile(&be, &tb_end(0x4000_1000));
    assert!(be.chain(v, &same), "same page chains");
    // The refused cross-page slot now exits plainly: the loop will not ask again.
    let c = compile(&be, &tb_inc(0x4000_1ff0, 0x4000_2000));
    let v = exec(&c, e);
    assert!(!be.chain(v, &b));
    assert_eq!(
        exec(&c, e),
        ExitCode::GOTO_TB0,
        "plain exit after a page refusal"
    );
    assert!(
        !be.chain(ExitCode::GOTO_TB0, &same),
        "plain exit values never chain"
    );
    assert!(!be.chain(0x20, &same));
    assert!(
        !be.chain(ExitCode::chainable(0x1000, 0), &same),
        "unknown cell"
    );
}

#[test]
fn chaining_is_refused_across_generations_and_backends() {
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let e = env();
    let v = exec(&a, e);
    be.reset();
    let b = compile(&be, &tb_end(0x4000_1040));
    assert!(!be.chain(v, &b), "old generation -> new generation");
    let a2 = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let v2 = exec(&a2, e);
    assert!(!be.chain(v2, &a), "new generation -> old generation");
    let other = Interp::new();
    let c = compile(&other, &tb_end(0x4000_1040));
    assert!(!be.chain(v2, &c), "another back end's TB");
    assert!(!other.chain(v2, &c), "another back end's exit value");
    let jit = backend_cranelift::CraneliftBackend::new().expect("host JIT");
    let j = jit
        .compile(&parse(&(decls() + &tb_end(0x4000_1040)), &[]).unwrap())
        .unwrap();
    assert!(!be.chain(v2, &j), "JIT TB");
    assert!(be.chain(v2, &b), "same generation chains");
    // Old TBs keep running after the reset.
    e.regs[1] = 0;
    assert_eq!(ExitCode::goto_tb_slot(exec(&a, e)), Some(0));
    assert_eq!(e.regs[1], 1);
}

#[test]
fn unchain_cuts_chains_both_ways_and_blocks_later_ones() {
    let be = Interp::new();
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let a2 = compile(&be, &tb_inc(0x4000_1080, 0x4000_1040));
    let b = compile(&be, &tb_end(0x4000_1040));
    let e = env();
    let (va, va2) = (exec(&a, e), exec(&a2, e));
    assert!(be.chain(va, &b) && be.chain(va2, &b));
    assert_eq!(exec(&a, e), 0x20);
    be.unchain(&*b);
    assert_eq!(
        itb(&a).chained_slots(),
        [false, false],
        "incoming chain cut"
    );
    assert_eq!(
        itb(&a2).chained_slots(),
        [false, false],
        "incoming chain cut"
    );
    assert_eq!(
        ExitCode::goto_tb_slot(exec(&a, e)),
        Some(0),
        "back to the loop"
    );
    assert!(
        !be.chain(va, &b),
        "an unchained TB is never chained to again"
    );
    let b2 = compile(&be, &tb_end(0x4000_1040));
    assert!(be.chain(va, &b2));
    be.unchain(&*a);
    assert_eq!(itb(&a).chained_slots(), [false, false], "own slots reset");
    assert!(!be.chain(va, &b2), "nor chained from");
    assert!(be.chain(va2, &b2), "others unaffected");
    assert_eq!(exec(&a2, e), 0x20);
}

#[test]
fn concurrent_chaining_while_running() {
    // Four threads run A -> B -> A ... (B leaves after 2000 rounds of its env's counter),
    // chaining the slots as they exit, all at once.
    let be = Arc::new(Interp::new());
    let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
    let b = compile(&be, &tb_back(2000));
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

#[test]
fn invalidation_while_other_threads_run_the_chain() {
    // Runners loop through A -> B -> A chained (B never leaves); meanwhile the main thread
    // unchains B, drops every handle it has, resets the back end and compiles more. The
    // runners must fall back to the loop (A's exit), never crash, and stay correct.
    let be = Arc::new(Interp::new());
    for round in 0..20 {
        let a = compile(&be, &tb_inc(0x4000_1000, 0x4000_1040));
        let b = compile(&be, &tb_back(u64::MAX));
        let stop = Arc::new(AtomicU32::new(0));
        let started = Arc::new(AtomicU32::new(0));
        let hs: Vec<_> = (0..2)
            .map(|_| {
                let (be, a, b, stop) = (be.clone(), a.clone(), b.clone(), stop.clone());
                let started = started.clone();
                std::thread::spawn(move || {
                    let e = env();
                    let mut next = a.clone();
                    started.fetch_add(1, Ordering::Relaxed);
                    while stop.load(Ordering::Relaxed) == 0 {
                        let v = exec(&next, e);
                        assert_eq!(ExitCode::goto_tb_slot(v), Some(0));
                        next = if e.regs[15] == 0x4000_1000 {
                            a.clone()
                        } else {
                            b.clone()
                        };
                        be.chain(v, &next);
                        if e.regs[1] > 200_000 {
                            break;
                        }
                    }
                    e.regs[1]
                })
            })
            .collect();
        // Until both runners run (and have had time to chain the loop).
        let t0 = std::time::Instant::now();
        while started.load(Ordering::Relaxed) < 2 && t0.elapsed() < Duration::from_secs(20) {
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(5));
        be.unchain(&*b);
        drop(b);
        if round % 2 == 0 {
            be.reset();
        }
        let _more = compile(&be, &tb_end(0x4000_1040));
        stop.store(1, Ordering::Relaxed);
        for h in hs {
            assert!(h.join().expect("runner") > 0);
        }
        drop(a);
    }
}
