//! IR construction and verification cost for a TB-sized function.

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use tcg_ir::types::{Cond, MemOp, MmuIdx, Type};
use tcg_ir::Builder;

/// A function shaped like a translated block of 10 guest instructions.
fn build_tb() -> tcg_ir::Func {
    let mut b = Builder::new();
    let regs: Vec<_> = (0..31)
        .map(|i| b.global(format!("x{i}"), Type::I64, 64 + 8 * i))
        .collect();
    let pc = b.global("pc", Type::I64, 64 + 8 * 32);
    for i in 0..10u64 {
        b.insn_start(0x4000_0000 + 4 * i);
        let t = b.temp(Type::I64);
        let c = b.c64(i * 8);
        b.add(t, regs[1], c);
        let v = b.temp(Type::I64);
        b.qemu_ld(v, t, MemOp::UQ, MmuIdx(0));
        let d = regs[(i % 30) as usize];
        b.xor(d, d, v);
    }
    let l = b.new_label();
    let z = b.c64(0);
    b.brcond(Cond::Eq, regs[0], z, l);
    let n = b.c64(0x4000_0028);
    b.mov(pc, n);
    b.exit_tb(0);
    b.set_label(l);
    b.exit_tb(2);
    b.finish()
}

fn bench(c: &mut Criterion) {
    c.bench_function("ir_build_10_insn_tb", |b| b.iter(|| black_box(build_tb())));
    let f = build_tb();
    c.bench_function("ir_verify_10_insn_tb", |b| {
        b.iter(|| tcg_ir::verify::verify(black_box(&f)))
    });
    c.bench_function("ir_print_10_insn_tb", |b| {
        b.iter(|| black_box(f.to_string()))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
