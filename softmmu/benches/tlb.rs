//! TLB costs: a guest load on the hit path and on a miss (fill + access); flushes (all,
//! one page, one ASID) of a populated TLB; an ASID switch; and a context switch that
//! touches a working set, with ASID tags (switch, then hits) against a full flush (what
//! every TTBR write used to cost: flush, then refills).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use softmmu::layout::{PAGE_MASK, PAGE_SIZE};
use softmmu::tlb::{tlb_protect_code_page, Access, PageWalker, Perms, Translation};
use softmmu::{access, EnvHead, MemCtx, PhysAddr, PhysMap, TlbFlush, WalkFault};
use std::hint::black_box;
use std::sync::Arc;
use tcg_ir::types::MemOp;

const RAM: u64 = 0x4000_0000;
const RAM_SIZE: u64 = 64 << 20;
/// Virtual addresses from here are non-global (ASID-tagged) views of RAM.
const NG: u64 = 0x1_0000_0000;

/// Identity map of RAM (global), and a non-global alias of it above `NG`.
struct BenchWalker;

impl PageWalker for BenchWalker {
    fn translate(
        &self,
        _env: *mut EnvHead,
        vaddr: u64,
        _access: Access,
        _mmu_idx: usize,
    ) -> Result<Translation, WalkFault> {
        let ng = vaddr >= NG;
        let pa = if ng { vaddr - NG } else { vaddr };
        Ok(Translation {
            paddr_page: pa & PAGE_MASK,
            perms: Perms::all(),
            attrs: 0,
        }
        .with_mapping(12, ng))
    }
}

/// The bench's vCPU: an env and its memory context, used through the env pointer only.
struct Cpu {
    e: *mut EnvHead,
    _env: Box<EnvHead>,
    _ctx: Box<MemCtx>,
}

impl Cpu {
    fn new() -> Cpu {
        let mut m = PhysMap::new();
        m.add_ram("ram", PhysAddr(RAM), RAM_SIZE).expect("ram");
        let ctx = Box::new(MemCtx {
            phys: Arc::new(m),
            walker: Box::new(BenchWalker),
        });
        let mut env = Box::new(EnvHead::new(&*ctx));
        let e: *mut EnvHead = &mut *env;
        Cpu {
            e,
            _env: env,
            _ctx: ctx,
        }
    }

    fn load(&self, va: u64) -> u64 {
        // SAFETY: the env and its context live as long as `self`; one thread.
        unsafe { access::load(self.e, va, MemOp::UQ, 0, 0) }
    }

    /// Loads one word from each of `n` consecutive pages from `base`.
    fn touch(&self, base: u64, n: u64) {
        for k in 0..n {
            black_box(self.load(base + k * PAGE_SIZE));
        }
    }

    /// Runs `f` on the env (flushes, ASID switches).
    fn with(&self, f: impl FnOnce(&mut EnvHead)) {
        // SAFETY: as in `load`; no other reference to the env is live during `f`.
        f(unsafe { &mut *self.e })
    }
}

fn bench(c: &mut Criterion) {
    let cpu = Cpu::new();
    c.bench_function("tlb_load_hit", |b| {
        b.iter(|| cpu.load(black_box(RAM + 0x1008)))
    });
    c.bench_function("tlb_load_miss_fill", |b| {
        b.iter(|| {
            cpu.with(|e| e.flush_page(RAM + 0x1008));
            cpu.load(black_box(RAM + 0x1008))
        })
    });
    for pages in [256u64, 4096] {
        c.bench_function(&format!("tlb_flush_all_{pages}_entries"), |b| {
            b.iter_batched(
                || cpu.touch(RAM, pages),
                |()| cpu.with(|e| e.flush_tlb()),
                BatchSize::PerIteration,
            )
        });
    }
    cpu.touch(RAM, 4096);
    c.bench_function("tlb_flush_page", |b| {
        let op = TlbFlush::Page {
            vaddr: RAM + 0x5000,
            asid: Some(1),
        };
        b.iter(|| cpu.with(|e| e.tlb_flush(black_box(op))))
    });
    c.bench_function("tlb_flush_asid_256_entries", |b| {
        b.iter_batched(
            || {
                cpu.with(|e| e.tlb_set_asid(1));
                cpu.touch(NG + RAM, 256);
            },
            |()| cpu.with(|e| e.tlb_flush(TlbFlush::Asid(1))),
            BatchSize::PerIteration,
        )
    });
    for asid in [1, 2] {
        cpu.with(|e| e.tlb_set_asid(asid));
        cpu.touch(NG + RAM, 64);
    }
    c.bench_function("tlb_asid_switch", |b| {
        b.iter(|| {
            cpu.with(|e| e.tlb_set_asid(black_box(1)));
            cpu.with(|e| e.tlb_set_asid(black_box(2)));
        })
    });
    // Two processes switching and each touching 64 pages.
    c.bench_function("tlb_context_switch_64_pages_tagged", |b| {
        b.iter(|| {
            for asid in [1, 2] {
                cpu.with(|e| e.tlb_set_asid(black_box(asid)));
                cpu.touch(NG + RAM, 64);
            }
        })
    });
    // The code-page sweep (another vCPU translating from a new page) over 8 ASIDs' tables
    // holding 2048 entries each.
    for asid in 0..8 {
        cpu.with(|e| e.tlb_set_asid(asid));
        cpu.touch(RAM, 2048);
    }
    c.bench_function("tlb_protect_code_page_8_asids", |b| {
        // SAFETY: the env is live; the sweep only ORs flags into write tags.
        b.iter(|| cpu.with(|e| unsafe { tlb_protect_code_page(e, black_box(RAM + 0x1000)) }))
    });
    c.bench_function("tlb_context_switch_64_pages_flushing", |b| {
        b.iter(|| {
            for _ in [1, 2] {
                cpu.with(|e| e.flush_tlb());
                cpu.touch(NG + RAM, 64);
            }
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
