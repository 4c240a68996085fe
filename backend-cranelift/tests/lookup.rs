//! `lookup_goto`: generated (or interpreted) code continues in the TB the vCPU's jump cache
//! names, but only for the right pc, flags and current code mapping, never into an
//! unchained TB, and in the interpreter never into another code generation's TB.

mod common;

use backend_cranelift::CraneliftBackend;
use common::{parse, TestEnv, RAM_BASE, RAM_SIZE};
use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::sync::Arc;
use tcg_ir::{Backend, CompiledTb, ExitCode};

const A: u64 = RAM_BASE + 0x1000;
const B: u64 = RAM_BASE + 0x2040;
const FLAGS: u64 = 5;

fn env() -> Box<TestEnv> {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM_BASE), RAM_SIZE).unwrap();
    let ctx: &'static MemCtx = Box::leak(Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(IdentityWalker),
    }));
    Box::new(TestEnv {
        head: EnvHead::new(ctx),
        regs: [0; common::NREGS],
    })
}

fn exec(tb: &Arc<dyn CompiledTb>, env: &mut TestEnv) -> u64 {
    // SAFETY: env is a TestEnv with a live MemCtx; used by this thread only.
    unsafe { tb.exec_chained(env as *mut TestEnv as *mut u8) }
}

/// `x1 += 1`, then an indirect jump to the pc in x14 (written to x15, the "pc").
fn tb_a() -> String {
    format!(
        "  insn_start {A:#x}\n  add.i64 x1, x1, $0x1\n  mov.i64 x15, x14\n  lookup_goto x14, {FLAGS}, mmu0\n  exit_tb 0x2\n"
    )
}

/// `x2 = x1 * 2`, then the guest exit 0x20.
fn tb_b() -> String {
    format!("  insn_start {B:#x}\n  mul.i64 x2, x1, $0x2\n  exit_tb 0x20\n")
}

/// Maps B's code page in the code TLB of MMU index 0 (identity walker).
fn map_code(e: &mut TestEnv) {
    let head = &mut e.head as *mut EnvHead;
    // SAFETY: a live env with a valid MemCtx, used by this thread only.
    assert!(unsafe { softmmu::slow::code_page(head, B, 0) }.is_some());
}

#[test]
fn lookup_goto_enters_only_the_right_live_tb() {
    lookup_goto_enters_only_the_right_live_tb_on(CraneliftBackend::new().expect("host JIT"));
}

/// Quick code that counts nothing: A and B share the frame, so A enters B's inner entry.
#[test]
fn quick_lookup_goto_enters_only_the_right_live_tb() {
    lookup_goto_enters_only_the_right_live_tb_on(
        CraneliftBackend::with_options(backend_cranelift::JitOptions {
            quick: true,
            ..Default::default()
        })
        .expect("quick JIT"),
    );
}

#[test]
fn interpreted_lookup_goto_enters_only_the_right_live_tb() {
    lookup_goto_enters_only_the_right_live_tb_on(backend_interp::Interp::new());
}

fn lookup_goto_enters_only_the_right_live_tb_on(be: impl Backend) {
    let a = be.compile(&parse(&tb_a())).unwrap();
    let b = be.compile(&parse(&tb_b())).unwrap();
    let (code, aux) = be.direct_entry(&*b).expect("TBs have a direct entry");
    let mut e = env();
    e.regs[14] = B;
    // SAFETY: the env's MemCtx is leaked (lives for the test).
    let phys = unsafe { &(*e.head.ctx).phys };
    let host = phys.ram_ptr(PhysAddr(B), 4).unwrap() as u64;

    // Empty jump cache: falls through to the exit.
    e.regs[1] = 10;
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);
    assert_eq!((e.regs[1], e.regs[15]), (11, B), "globals written back");

    // Filled and mapped: A continues into B in the same exec.
    map_code(&mut e);
    e.head.fill_jmp(B, host, FLAGS as u32, code, aux);
    assert_eq!(exec(&a, &mut e), 0x20);
    assert_eq!((e.regs[1], e.regs[2]), (12, 24));

    // Another target pc, other flags, other guest code, or no code mapping: miss.
    e.regs[14] = B + 4;
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);
    e.regs[14] = B;
    e.head.fill_jmp(B, host, FLAGS as u32 + 1, code, aux);
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);
    e.head.fill_jmp(B, host + 0x1000, FLAGS as u32, code, aux);
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);
    e.head.fill_jmp(B, host, FLAGS as u32, code, aux);
    e.head.flush_tlb();
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);
    map_code(&mut e);
    assert_eq!(exec(&a, &mut e), 0x20);

    // An unchained (invalidated) TB is never entered, even with its entry still cached.
    be.unchain(&*b);
    assert!(be.direct_entry(&*b).is_none());
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);

    // The jump cache is per env and starts empty; clear_jmp empties it.
    e.head.clear_jmp();
    assert!(e
        .head
        .jmp
        .iter()
        .all(|j| j.pc == softmmu::jmp::JmpEntry::EMPTY_PC));
}

/// An interpreted TB never enters a jump-cache entry of another code generation (the
/// entry's validity word is its generation).
#[test]
fn the_interpreter_enters_only_its_own_generation() {
    let be = backend_interp::Interp::new();
    let b = be.compile(&parse(&tb_b())).unwrap();
    let (code, aux) = be
        .direct_entry(&*b)
        .expect("interpreted TBs have a direct entry");
    be.reset();
    let a = be.compile(&parse(&tb_a())).unwrap();
    let mut e = env();
    e.regs[14] = B;
    // SAFETY: the env's MemCtx is leaked (lives for the test).
    let phys = unsafe { &(*e.head.ctx).phys };
    let host = phys.ram_ptr(PhysAddr(B), 4).unwrap() as u64;
    map_code(&mut e);
    e.head.fill_jmp(B, host, FLAGS as u32, code, aux);
    assert_eq!(exec(&a, &mut e), ExitCode::LOOKUP);
    assert_eq!(e.regs[15], B);
    // The same TB in A's generation is entered.
    let b2 = be.compile(&parse(&tb_b())).unwrap();
    let (code, aux) = be.direct_entry(&*b2).expect("a direct entry");
    e.head.fill_jmp(B, host, FLAGS as u32, code, aux);
    assert_eq!(exec(&a, &mut e), 0x20);
}
