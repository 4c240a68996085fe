//! Per-operation throughput of the single- and double-precision paths over a fixed
//! pseudo-random mix resembling a floating-point benchmark guest: mostly normal operands
//! (some with short mantissas, so that some results are exact), about 10 % specials
//! (zeros, infinities, NaNs, denormals), a fresh FPSR (IXC clear) for every operation and
//! the default FPCR.

use arm_fp::{self as fp, Fmt, FpStatus, Rounding};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

const N: usize = 1024;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One operand of `fmt`: `spread` is the half-width of the exponent range around 1.0.
fn operand(rng: &mut Rng, fmt: Fmt, spread: u64) -> u64 {
    let fb = fmt.fbits();
    let bias = (1u64 << (fmt.ebits() - 1)) - 1;
    let sign = if rng.below(2) == 1 { fmt.sign_bit() } else { 0 };
    let frac = rng.next() & ((1 << fb) - 1);
    if rng.below(10) == 0 {
        let emax = (1u64 << fmt.ebits()) - 1;
        return match rng.below(5) {
            0 => sign,                                         // zero
            1 => sign | emax << fb,                            // infinity
            2 => fmt.default_nan() | (rng.below(4) << 2),      // quiet NaN
            3 => sign | (emax << fb) | (1 + rng.below(4)),     // signalling NaN
            _ => sign | (frac >> rng.below(fb as u64)).max(1), // denormal
        };
    }
    let e = bias - spread + rng.below(2 * spread + 1);
    // A quarter of the operands have short mantissas (small integers, halves, ...), so
    // that sums, products and quotients are often exact.
    let frac = if rng.below(4) == 0 {
        frac & !((1 << (fb - 4)) - 1)
    } else {
        frac
    };
    sign | (e << fb) | frac
}

fn inputs(fmt: Fmt, spread: u64, seed: u64) -> Vec<[u64; 3]> {
    let mut rng = Rng(seed | 1);
    (0..N)
        .map(|_| {
            [
                operand(&mut rng, fmt, spread),
                operand(&mut rng, fmt, spread),
                operand(&mut rng, fmt, spread),
            ]
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    for (fmt, name) in [(Fmt::S, "s"), (Fmt::D, "d")] {
        let ins = inputs(fmt, 20, 0x1234_5678 ^ fmt.width() as u64);
        // Mostly positive square roots, as in a guest.
        let pos: Vec<[u64; 3]> = ins
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let a = if i % 16 == 0 {
                    v[0]
                } else {
                    fp::abs(fmt, v[0])
                };
                [a, v[1], v[2]]
            })
            .collect();
        let mut g = c.benchmark_group(format!("fp_{name}"));
        g.throughput(Throughput::Elements(N as u64));
        macro_rules! bin {
            ($label:expr, $data:expr, |$a:ident, $b:ident, $c:ident, $st:ident| $body:expr) => {
                g.bench_function($label, |bch| {
                    bch.iter(|| {
                        let mut acc = 0u64;
                        for v in $data.iter() {
                            let mut $st = FpStatus::new(0);
                            let ($a, $b, $c) = (black_box(v[0]), black_box(v[1]), black_box(v[2]));
                            let _ = (&$b, &$c);
                            let r: u64 = $body;
                            acc = acc.wrapping_add(r ^ $st.fpsr as u64);
                        }
                        acc
                    })
                });
            };
        }
        // The loop itself (a fresh status per operation, an op without flags).
        bin!("abs", ins, |a, b, c, st| {
            let _ = &mut st;
            fp::abs(fmt, a)
        });
        bin!("add", ins, |a, b, c, st| fp::add(fmt, a, b, &mut st));
        bin!("sub", ins, |a, b, c, st| fp::sub(fmt, a, b, &mut st));
        bin!("mul", ins, |a, b, c, st| fp::mul(fmt, a, b, &mut st));
        bin!("div", ins, |a, b, c, st| fp::div(fmt, a, b, &mut st));
        bin!("sqrt", pos, |a, b, c, st| fp::sqrt(fmt, a, &mut st));
        bin!("fmadd", ins, |a, b, c, st| fp::fmadd(fmt, a, b, c, &mut st));
        bin!("frintn", ins, |a, b, c, st| fp::round_int(
            fmt,
            a,
            Rounding::TieEven,
            false,
            &mut st
        ));
        bin!("frintm", ins, |a, b, c, st| fp::round_int(
            fmt,
            a,
            Rounding::NegInf,
            false,
            &mut st
        ));
        bin!("frintx", ins, |a, b, c, st| fp::round_int(
            fmt,
            a,
            Rounding::TieEven,
            true,
            &mut st
        ));
        bin!("fcvtzs_w", ins, |a, b, c, st| fp::to_fixed(
            fmt,
            a,
            0,
            false,
            32,
            Rounding::Zero,
            &mut st
        ));
        bin!("fcvtzs_x", ins, |a, b, c, st| fp::to_fixed(
            fmt,
            a,
            0,
            false,
            64,
            Rounding::Zero,
            &mut st
        ));
        bin!("fcvtns_x", ins, |a, b, c, st| fp::to_fixed(
            fmt,
            a,
            0,
            false,
            64,
            Rounding::TieEven,
            &mut st
        ));
        // Integer operands: small ones (exact), and full 64-bit ones (mostly inexact).
        let ints: Vec<[u64; 3]> = ins
            .iter()
            .map(|v| {
                let x = (v[0] ^ v[1] << 7).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let small = ((x >> 44) as i64 - (1 << 19)) >> (x & 15);
                [small as u64, v[1], v[2]]
            })
            .collect();
        bin!("scvtf_w", ints, |a, b, c, st| fp::from_fixed(
            fmt, a, 0, true, 32, &mut st
        ));
        bin!("scvtf_x", ins, |a, b, c, st| fp::from_fixed(
            fmt, a, 0, true, 64, &mut st
        ));
        let other = if fmt == Fmt::S { Fmt::D } else { Fmt::S };
        bin!("fcvt", ins, |a, b, c, st| fp::convert(
            fmt, other, a, &mut st
        ));
        bin!("minnm", ins, |a, b, c, st| fp::minnm(fmt, a, b, &mut st));
        bin!("maxnm", ins, |a, b, c, st| fp::maxnm(fmt, a, b, &mut st));
        bin!("max", ins, |a, b, c, st| fp::max(fmt, a, b, &mut st));
        bin!(
            "fcmp",
            ins,
            |a, b, c, st| fp::compare(fmt, a, b, false, &mut st) as u64
        );
        bin!(
            "fcmeq",
            ins,
            |a, b, c, st| fp::compare_eq(fmt, a, b, &mut st) as u64
        );
        g.finish();
    }
}

criterion_group!(benches, bench, bench_special);
criterion_main!(benches);

type Gen = Box<dyn Fn(&mut Rng) -> u64>;

/// Operations on special operands only (each group of 1024 cycles through one class).
fn bench_special(c: &mut Criterion) {
    for (fmt, name) in [(Fmt::S, "s"), (Fmt::D, "d")] {
        let ins = inputs(fmt, 20, 0x9876 ^ fmt.width() as u64);
        let mut rng = Rng(0x5555);
        let qnan = fmt.default_nan() | 3;
        let snan = fmt.inf(false) | 5;
        let classes: [(&str, Gen); 4] = [
            (
                "zero",
                Box::new(move |r: &mut Rng| fmt.zero(r.below(2) == 1)),
            ),
            ("inf", Box::new(move |r: &mut Rng| fmt.inf(r.below(2) == 1))),
            (
                "nan",
                Box::new(move |r: &mut Rng| if r.below(2) == 1 { qnan } else { snan }),
            ),
            (
                "denormal",
                Box::new(move |r: &mut Rng| (r.next() & fmt.mask() >> (fmt.ebits() + 1)).max(1)),
            ),
        ];
        let mut g = c.benchmark_group(format!("fp_{name}_special"));
        g.throughput(Throughput::Elements(N as u64));
        for (cname, gen) in &classes {
            let data: Vec<[u64; 3]> = ins
                .iter()
                .map(|v| {
                    let s = gen(&mut rng);
                    if rng.below(2) == 1 {
                        [s, v[1], v[2]]
                    } else {
                        [v[0], s, v[2]]
                    }
                })
                .collect();
            for (oname, op) in [
                ("add", fp::add as fn(Fmt, u64, u64, &mut FpStatus) -> u64),
                ("mul", fp::mul),
                ("maxnm", fp::maxnm),
            ] {
                g.bench_function(format!("{oname}_{cname}"), |bch| {
                    bch.iter(|| {
                        let mut acc = 0u64;
                        for v in data.iter() {
                            let mut st = FpStatus::new(0);
                            let r = op(fmt, black_box(v[0]), black_box(v[1]), &mut st);
                            acc = acc.wrapping_add(r ^ st.fpsr as u64);
                        }
                        acc
                    })
                });
            }
        }
        g.finish();
    }
}
