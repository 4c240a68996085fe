//! Cost of a guest load through the TLB: hit path, and miss path (fill + access).

use criterion::{criterion_group, criterion_main, Criterion};
use softmmu::{access, EnvHead, MemCtx, PhysAddr, PhysMap};
use std::hint::black_box;
use std::sync::Arc;
use tcg_ir::types::MemOp;

fn bench(c: &mut Criterion) {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(0x4000_0000), 16 << 20)
        .expect("ram");
    let ctx = Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(softmmu::tlb::IdentityWalker),
    });
    let mut env = Box::new(EnvHead::new(&*ctx));
    let e: *mut EnvHead = &mut *env;
    c.bench_function("tlb_load_hit", |b| {
        // SAFETY: env and ctx are live for the whole bench.
        b.iter(|| unsafe { access::load(e, black_box(0x4000_1008), MemOp::UQ, 0, 0) })
    });
    c.bench_function("tlb_load_miss_fill", |b| {
        b.iter(|| {
            // SAFETY: as above.
            unsafe {
                (*e).flush_page(0x4000_1008);
                access::load(e, black_box(0x4000_1008), MemOp::UQ, 0, 0)
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
