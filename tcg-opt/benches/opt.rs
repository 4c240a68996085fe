//! Time to optimize a realistic ~10-guest-instruction TB.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tcg_ir::text::parse;

const TB: &str = "global x0:i64 @0x100
global x1:i64 @0x108
global x2:i64 @0x110
global x3:i64 @0x118
global x4:i64 @0x120
global x5:i64 @0x128
global nf:i32 @0x200
global zf:i32 @0x204
global pc:i64 @0x300
local t0:i64
local t1:i64
local t2:i64
local t3:i32
local t4:i64
  insn_start 0x40001000
  mov.i64 t0, $0x10
  add.i64 t1, x1, t0
  mov.i64 x0, t1
  insn_start 0x40001004
  qemu_ld.i64 t2, x0, uq, mmu0
  mov.i64 x2, t2
  insn_start 0x40001008
  add.i64 t1, x2, $0x0
  mul.i64 t4, t1, $0x1
  mov.i64 x3, t4
  insn_start 0x4000100c
  sub.i64 t0, x3, x4
  extrl_i64_i32 t3, t0
  mov.i32 nf, t3
  setcond.i32 zf, t3, $0x0, eq
  insn_start 0x40001010
  qemu_st.i64 x3, x0, uq, mmu0
  insn_start 0x40001014
  mov.i64 t0, $0x3
  shl.i64 t1, t0, $0x4
  add.i64 x5, x5, t1
  insn_start 0x40001018
  xor.i64 t2, x4, x4
  or.i64 x4, t2, x1
  insn_start 0x4000101c
  and.i64 t4, x5, $0xff
  insn_start 0x40001020
  brcond.i64 x5, $0x0, eq, L0
  goto_tb 0
  mov.i64 pc, $0x40001024
  exit_tb 0
L0:
  goto_tb 1
  mov.i64 pc, $0x40002000
  exit_tb 1
";

fn bench(c: &mut Criterion) {
    let f = parse(TB, &[]).expect("bench TB parses");
    c.bench_function("optimize_tb_10_insns", |b| {
        b.iter_batched(
            || f.clone(),
            |mut f| tcg_opt::optimize(black_box(&mut f)),
            criterion::BatchSize::SmallInput,
        )
    });
}

criterion_group!(group, bench);
criterion_main!(group);
