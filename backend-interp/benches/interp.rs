//! Interpreter benchmarks: compile time of a realistic TB and ns per iteration of a loop TB.

use backend_interp::Interp;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::hint::black_box;
use std::sync::Arc;
use tcg_ir::text::parse;
use tcg_ir::{Backend, Func};

#[repr(C)]
struct Env {
    head: EnvHead,
    regs: [u64; 32],
}

fn reg(i: usize) -> usize {
    std::mem::offset_of!(Env, regs) + 8 * i
}

fn decls() -> String {
    let mut s = String::new();
    for i in 0..8 {
        s += &format!("global x{i}:i64 @{:#x}\n", reg(i));
    }
    s + &format!(
        "global nf:i32 @{:#x}\nglobal pc:i64 @{:#x}\n",
        reg(30),
        reg(31)
    )
}

/// About ten guest instructions: loads/stores of registers, arithmetic, flags, a guest
/// load and store, a conditional branch and two exits.
fn realistic_tb() -> Func {
    let src = decls()
        + "local t0:i64
local t1:i64
local t2:i32
  insn_start 0x40001000
  add.i64 x0, x1, $0x10
  insn_start 0x40001004
  qemu_ld.i64 t0, x0, uq, mmu0
  insn_start 0x40001008
  add.i64 t1, t0, x2
  mov.i64 x3, t1
  insn_start 0x4000100c
  shl.i64 t1, x3, $0x3
  xor.i64 x4, t1, x4
  insn_start 0x40001010
  qemu_st.i64 x4, x0, uq, mmu0
  insn_start 0x40001014
  sub.i64 t0, x5, $0x1
  mov.i64 x5, t0
  insn_start 0x40001018
  extrh_i64_i32 t2, t0
  mov.i32 nf, t2
  insn_start 0x4000101c
  and.i64 x6, x6, $0xff00
  insn_start 0x40001020
  mul.i64 x7, x6, x3
  insn_start 0x40001024
  brcond.i64 x5, $0x0, eq, L0
  goto_tb 0
  mov.i64 pc, $0x40001028
  exit_tb 0
L0:
  goto_tb 1
  mov.i64 pc, $0x40002000
  exit_tb 1
";
    parse(&src, &[]).expect("bench TB parses")
}

/// A counted loop inside one TB: 4 ops per iteration (add, xor, add, brcond).
fn loop_tb() -> Func {
    let src = decls()
        + "local i:i64
local s:i64
  mov.i64 i, $0x0
  mov.i64 s, x1
L0:
  add.i64 s, s, i
  xor.i64 s, s, $0x5a
  add.i64 i, i, $0x1
  brcond.i64 i, x0, ltu, L0
  mov.i64 x1, s
  exit_tb 2
";
    parse(&src, &[]).expect("loop TB parses")
}

fn benches(c: &mut Criterion) {
    let interp = Interp::new();
    let tb_ir = realistic_tb();
    let mut g = c.benchmark_group("interp");
    g.throughput(Throughput::Elements(1));
    g.bench_function("compile_tb_10_insns", |b| {
        b.iter(|| interp.compile(black_box(&tb_ir)).unwrap())
    });

    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(0x4000_0000), 0x10_0000).unwrap();
    let ctx = Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(softmmu::tlb::IdentityWalker),
    });
    let mut env = Box::new(Env {
        head: EnvHead::new(&*ctx),
        regs: [0; 32],
    });
    let envp = &mut *env as *mut Env as *mut u8;

    let tb = interp.compile(&tb_ir).unwrap();
    g.bench_function("exec_tb_10_insns", |b| {
        b.iter(|| {
            // SAFETY: envp is the live boxed Env (head pointing at ctx), used by this thread only.
            unsafe {
                (*(envp as *mut Env)).regs[1] = 0x4000_0100;
                (*(envp as *mut Env)).regs[5] = 5;
                tb.exec(black_box(envp))
            }
        })
    });

    const ITERS: u64 = 10_000;
    let lp = interp.compile(&loop_tb()).unwrap();
    g.throughput(Throughput::Elements(ITERS));
    g.bench_function("loop_per_iteration", |b| {
        b.iter(|| {
            // SAFETY: as above.
            unsafe {
                (*(envp as *mut Env)).regs[0] = ITERS;
                lp.exec(black_box(envp))
            }
        })
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
