//! Decode throughput over a buffer of realistic A64 words.

use arm_decode::{decode, Insn};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

/// A mix resembling compiled kernel/user code: mostly loads/stores, ALU,
/// branches, with some system instructions.
const MIX: &[u32] = &[
    0xa9bf7bfd, 0x910003fd, 0xf9400020, 0xf9000420, 0xb9400c21, 0x39400022, 0x79400023, 0x91004020,
    0xd1004000, 0x8b020020, 0xcb020020, 0xeb01001f, 0xf100103f, 0x54000041, 0xb4000040, 0x35000040,
    0x36180040, 0x14000002, 0x94000010, 0xd65f03c0, 0xaa0103e0, 0x2a0103e0, 0x92401c20, 0xd3401c20,
    0x53001c20, 0x9a9f07e0, 0x9a810420, 0x9b027c20, 0xd2800000, 0xf2a24680, 0x90000000, 0x91000000,
    0xa8c17bfd, 0xf8408c20, 0xf8627820, 0xb862d820, 0xf85f8020, 0xc85f7c20, 0xc8027c20, 0xc8dffc20,
    0xd5033bbf, 0xd503201f, 0xd5384240, 0xd4000001, 0x1ac22c20, 0xdac01020, 0x93c10c20, 0xfa411004,
    0x9ac20c20, 0x8b214be0, 0x29410440, 0xb9000fe1, 0x3900003f, 0x58000040, 0xd63f0020, 0xd61f0200,
];

fn bench(c: &mut Criterion) {
    let mut words = Vec::with_capacity(4096);
    while words.len() < 4096 {
        words.extend_from_slice(MIX);
    }
    words.truncate(4096);
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(words.len() as u64));
    g.bench_function("realistic_mix_4096", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for &w in &words {
                if !matches!(decode(black_box(w)), Insn::Unallocated(_)) {
                    n += 1;
                }
            }
            n
        })
    });
    g.bench_function("display_4096", |b| {
        let insns: Vec<Insn> = words.iter().map(|&w| decode(w)).collect();
        let mut s = String::new();
        b.iter(|| {
            s.clear();
            for i in &insns {
                use std::fmt::Write;
                let _ = write!(s, "{i}");
            }
            s.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
