//! The interpreter on a real guest loop (`guest_loop`), side by side with the JIT: ns per
//! guest instruction with and without TB chaining, and compile time per TB of the loop.

mod guest_loop;

use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use guest_loop::Machine;
use std::hint::black_box;
use tcg_ir::Backend;

const ITERS: u64 = 20;

fn benches(c: &mut Criterion) {
    // Guest instructions per run, counted without chaining (every TB entry is seen).
    let interp = Interp::new();
    let (regs, _, insns) = Machine::new(false).run(&interp, ITERS);
    let jit = CraneliftBackend::new().expect("host JIT");
    let (jregs, _, _) = Machine::new(false).run(&jit, ITERS);
    assert_eq!(regs, jregs, "interp and JIT disagree on the loop");

    let mut g = c.benchmark_group("guest_loop_per_insn");
    g.throughput(Throughput::Elements(insns));
    for (name, be, chain) in [
        ("interp_chained", &interp as &dyn Backend, true),
        ("interp_unchained", &interp, false),
        ("jit_chained", &jit, true),
    ] {
        let mut m = Machine::new(chain);
        m.run(be, 1);
        g.bench_function(name, |b| b.iter(|| m.run(be, black_box(ITERS))));
    }
    g.finish();

    // Compile time of the loop's TBs (what a cold TB costs before it runs).
    let m = {
        let mut m = Machine::new(false);
        m.run(&interp, 1);
        m
    };
    let mut pcs: Vec<u64> = m.tbs.keys().copied().collect();
    pcs.sort();
    let funcs: Vec<_> = pcs.iter().map(|&pc| guest_loop::tb_ir(pc)).collect();
    let ninsns: u64 = m.tbs.values().map(|t| t.0).sum();
    let mut g = c.benchmark_group("guest_loop_compile");
    g.throughput(Throughput::Elements(ninsns));
    g.bench_function(format!("interp_{}_tbs", funcs.len()), |b| {
        b.iter(|| {
            for f in &funcs {
                black_box(interp.compile(black_box(f)).expect("compile"));
            }
        })
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
