//! TB cache costs: jump-cache hit, global lookup hit, insert.

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion};
use std::sync::Arc;
use tcg_ir::CompiledTb;
use vcpu_sched::{JumpCache, Tb, TbCache, TbKey};

struct Nop;

impl CompiledTb for Nop {
    unsafe fn exec(&self, _env: *mut u8) -> u64 {
        0
    }
    fn code_size(&self) -> usize {
        0
    }
}

fn key(i: u64) -> TbKey {
    TbKey {
        pc: 0xffff_0000_0000 + i * 64,
        phys_pc: 0x4000_0000 + i * 64,
        flags: 5,
    }
}

fn tb(i: u64) -> Arc<Tb> {
    Arc::new(Tb::new(key(i), Arc::new(Nop), 64, 16))
}

fn bench(c: &mut Criterion) {
    const N: u64 = 10_000;
    let cache = TbCache::default();
    for i in 0..N {
        cache.insert(tb(i));
    }
    let mut jc = JumpCache::new();
    for i in 0..1024 {
        if let Some(t) = cache.lookup(&key(i)) {
            jc.insert(key(i).pc, t);
        }
    }
    let mut i = 0u64;
    c.bench_function("jump_cache_hit", |b| {
        b.iter(|| {
            i = (i + 1) & 1023;
            jc.sync(&cache);
            black_box(jc.lookup(black_box(&key(i))).is_some())
        })
    });
    let mut i = 0u64;
    c.bench_function("global_lookup_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % N;
            black_box(cache.lookup(black_box(&key(i))))
        })
    });
    c.bench_function("insert_1000_fresh", |b| {
        b.iter_batched(
            || (TbCache::new(12), (0..1000).map(tb).collect::<Vec<_>>()),
            |(cache, tbs)| {
                for t in tbs {
                    cache.insert(t);
                }
                cache
            },
            BatchSize::LargeInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
