//! Translation cost per guest instruction: decode + translate (+ optimise) a realistic block.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// A loop of mixed integer work, assembled with aarch64-linux-gnu-as (18 instructions).
const BLOCK: [u32; 18] = [
    0xf9400422, 0x8b000043, 0xb8404424, 0xca040c65, 0xf10004a6, 0x9a8510c7, 0xf9000827, 0x9b027ce8,
    0x9ac30909, 0xd3443d2a, 0xa9bf2be9, 0xa8c12be9, 0x2b09014b, 0xfa422164, 0xb4000040, 0xd1000400,
    0xf100001f, 0x54fffde1,
];

fn bench(c: &mut Criterion) {
    let mut page = vec![0u8; 4096];
    for (i, w) in BLOCK.iter().enumerate() {
        page[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    let flags = arm_cpu::translate::TbFlags { el: 1 };
    let mut g = c.benchmark_group("translate");
    g.throughput(Throughput::Elements(BLOCK.len() as u64));
    g.bench_function("decode_translate_18_insns", |b| {
        // SAFETY: `page` is a 4 KiB buffer holding the block at offset 0.
        b.iter(|| unsafe {
            arm_cpu::translate::translate_block(page.as_ptr(), black_box(0x4000_0000), flags)
        })
    });
    g.bench_function("decode_translate_optimize_18_insns", |b| {
        b.iter(|| {
            // SAFETY: as above.
            let (mut f, _, _) = unsafe {
                arm_cpu::translate::translate_block(page.as_ptr(), black_box(0x4000_0000), flags)
            };
            tcg_opt::optimize(&mut f);
            f
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
