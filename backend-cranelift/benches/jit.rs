//! JIT vs interpreter: compile time of a realistic TB, execution of a loop TB and of the
//! realistic TB, TB-to-TB transitions with and without direct chaining, and host code
//! bytes per TB.

use backend_cranelift::{CraneliftBackend, JitOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use softmmu::tlb::IdentityWalker;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::hint::black_box;
use std::sync::Arc;
use tcg_ir::{Backend, Func};

#[repr(C)]
struct Env {
    head: EnvHead,
    regs: [u64; 32],
}

fn prelude() -> String {
    let base = std::mem::offset_of!(Env, regs);
    let mut s = String::new();
    for i in 0..16 {
        s += &format!("global x{i}:i64 @{:#x}\n", base + 8 * i);
    }
    s += &format!("global nz:i32 @{:#x}\n", base + 8 * 16);
    s
}

/// About ten guest instructions: arithmetic on globals, one load, one store, a conditional
/// branch and two chained exits.
const TB: &str = "\
local t0:i64
local t1:i64
local t2:i32
  insn_start 0x40001000
  add.i64 x1, x2, $0x10
  insn_start 0x40001004
  sub.i64 x3, x1, x4
  insn_start 0x40001008
  and.i64 t0, x3, $0xff
  or.i64 x5, t0, x6
  insn_start 0x4000100c
  qemu_ld.i64 x7, x8, uq, mmu0
  insn_start 0x40001010
  xor.i64 x9, x7, x5
  insn_start 0x40001014
  add.i64 t1, x8, $0x8
  qemu_st.i64 x9, t1, uq, mmu0
  insn_start 0x40001018
  shl.i64 x10, x9, $0x3
  insn_start 0x4000101c
  extrl_i64_i32 t2, x10
  setcond.i32 nz, t2, $0x0, eq
  insn_start 0x40001020
  sub.i64 x11, x11, $0x1
  insn_start 0x40001024
  brcond.i64 x11, $0x0, ne, L0
  mov.i64 x15, $0x40001028
  goto_tb 0
  exit_tb 0
L0:
  mov.i64 x15, $0x40001000
  goto_tb 1
  exit_tb 1
";

/// A counted loop inside one TB: x0 iterations of a few arithmetic ops.
const LOOP: &str = "\
local i:i64
  mov.i64 i, x0
L0:
  mul.i64 x2, x1, $0x3
  xor.i64 x1, x2, x3
  rotl.i64 x3, x3, $0x7
  add.i64 x4, x4, x1
  sub.i64 i, i, $0x1
  brcond.i64 i, $0x0, ne, L0
  exit_tb 0x10
";

const LOOP_N: u64 = 1000;

/// One guest block that loops through `goto_tb 0` to itself: x0 rounds, then exit 0x10.
/// Chained, one `exec` runs every round; unchained, each round returns to the caller.
const SELF_TB: &str = "\
  insn_start 0x40001000
  sub.i64 x0, x0, $0x1
  add.i64 x1, x1, x0
  brcond.i64 x0, $0x0, eq, L0
  mov.i64 x15, $0x40001000
  goto_tb 0
  exit_tb 0
L0:
  exit_tb 0x10
";

fn parse(body: &str) -> Func {
    tcg_ir::text::parse(&format!("{}{}", prelude(), body), &[]).unwrap()
}

fn machine() -> (Box<MemCtx>, Box<Env>) {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(0x4000_0000), 0x10_0000).unwrap();
    let ctx = Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(IdentityWalker),
    });
    let env = Box::new(Env {
        head: EnvHead::new(&*ctx),
        regs: [0; 32],
    });
    (ctx, env)
}

fn benches(c: &mut Criterion) {
    let tb = parse(TB);
    let lp = parse(LOOP);
    let mut backends: Vec<(&str, Box<dyn Backend>)> = vec![
        ("jit", Box::new(CraneliftBackend::new().unwrap())),
        (
            "jit-single-pass",
            Box::new(
                CraneliftBackend::with_options(JitOptions {
                    single_pass_regalloc: true,
                    ..JitOptions::default()
                })
                .unwrap(),
            ),
        ),
    ];
    backends.push((
        "quick",
        Box::new(
            CraneliftBackend::with_options(JitOptions {
                quick: true,
                ..JitOptions::default()
            })
            .unwrap(),
        ),
    ));
    backends.push(("interp", Box::new(backend_interp::Interp::new())));

    // Code size per TB.
    for (name, be) in &backends {
        let n = 50;
        let total: usize = (0..n).map(|_| be.compile(&tb).unwrap().code_size()).sum();
        let lsz = be.compile(&lp).unwrap().code_size();
        eprintln!(
            "{name}: realistic TB {} bytes/TB (avg of {n}); loop TB {lsz} bytes",
            total / n
        );
    }

    let mut g = c.benchmark_group("compile_tb");
    for (name, be) in &backends {
        // The quick generator fills an arena within one measurement: start a new one.
        g.bench_function(*name, |b| {
            b.iter(|| match be.compile(black_box(&tb)) {
                Err(tcg_ir::BackendError::CodeFull) => {
                    be.reset();
                    be.compile(&tb).unwrap()
                }
                r => r.unwrap(),
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("exec_loop");
    g.throughput(Throughput::Elements(LOOP_N));
    for (name, be) in &backends {
        let code = be.compile(&lp).unwrap();
        let (_ctx, mut env) = machine();
        g.bench_function(*name, |b| {
            b.iter(|| {
                env.regs[0] = LOOP_N;
                // SAFETY: env is a valid Env with a live ctx.
                unsafe { code.exec(&mut *env as *mut Env as *mut u8) }
            })
        });
    }
    g.finish();

    // TB -> TB transitions: chained (the JIT patches the slot) vs returning to a
    // dispatch loop after every TB (what the execution loop does without chaining).
    let mut g = c.benchmark_group("tb_to_tb");
    g.throughput(Throughput::Elements(LOOP_N));
    let st = parse(SELF_TB);
    for (name, be) in &backends {
        for chained in [false, true] {
            let code = be.compile(&st).unwrap();
            let (_ctx, mut env) = machine();
            let envp = &mut *env as *mut Env as *mut u8;
            if chained {
                env.regs[0] = 2;
                // SAFETY: env is a valid Env with a live ctx.
                let v = unsafe { code.exec_chained(envp) };
                if !be.chain(v, &code) {
                    continue; // the interpreter never chains
                }
            }
            let label = format!("{name}{}", if chained { "-chained" } else { "" });
            g.bench_function(label, |b| {
                b.iter(|| {
                    // SAFETY: env is a valid Env with a live ctx.
                    unsafe {
                        (*(envp as *mut Env)).regs[0] = LOOP_N;
                        loop {
                            let v = code.exec_chained(envp);
                            if v == 0x10 {
                                break v;
                            }
                        }
                    }
                })
            });
        }
    }
    g.finish();

    let mut g = c.benchmark_group("exec_tb");
    for (name, be) in &backends {
        let code = be.compile(&tb).unwrap();
        let (_ctx, mut env) = machine();
        env.regs[8] = 0x4000_2000;
        g.bench_function(*name, |b| {
            b.iter(|| {
                env.regs[11] = 5;
                // SAFETY: env is a valid Env with a live ctx.
                unsafe { code.exec(&mut *env as *mut Env as *mut u8) }
            })
        });
    }
    g.finish();
    drop(backends);
}

criterion_group!(benches_group, benches);
criterion_main!(benches_group);
