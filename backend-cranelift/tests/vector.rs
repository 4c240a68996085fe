//! Vector ops (operands in env) on both back ends: every opcode in every shape on
//! boundary lane values, then random programs mixing vector ops with scalar ops on the
//! globals that share their bytes; state after the TB must be identical, and a few
//! results are checked against known values.

mod common;

use common::*;
use tcg_ir::vector::{self, VecShape};
use tcg_ir::{Cond, Opc};

const SHAPES: &[&str] = &["16b", "8b", "8h", "4h", "4s", "2s", "2d", "1d"];
const BINARY: &[&str] = &[
    "vadd", "vsub", "vmul", "vand", "vor", "vxor", "vandc", "vorc", "vsmin", "vsmax", "vumin",
    "vumax",
];
const UNARY: &[&str] = &["vmov", "vnot", "vneg", "vabs"];
const SAT: &[&str] = &["vusadd", "vssadd", "vussub", "vsssub"];
const CONDS: &[&str] = &[
    "eq", "ne", "lt", "ge", "le", "gt", "ltu", "geu", "leu", "gtu", "tsteq", "tstne",
];

/// Env offset of the 16-byte vector `k` (0..16) of the test env's slots.
fn v(k: usize) -> String {
    format!("@{:#x}", reg_off(2 * k))
}

/// Lane patterns with every boundary value of every lane size in some lane.
fn inits() -> Vec<Init> {
    let pats: [u64; 8] = [
        0,
        u64::MAX,
        0x8000_0000_0000_0000,
        0x7fff_ffff_ffff_ffff,
        0x807f_ff00_0180_7f01,
        0x8000_7fff_ffff_0001,
        0x8000_0000_7fff_ffff,
        0x1234_5678_9abc_def0,
    ];
    let mut out = Vec::new();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..24 {
        let mut regs = Vec::new();
        for slot in 0..NREGS {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            let p = pats[(slot + i) % pats.len()];
            // Half the inits are boundary patterns, half random, some equal lanes.
            let x = match i % 4 {
                0 => p,
                1 => s,
                2 => p ^ (s & 0x0101_0101_0101_0101),
                _ => pats[(i / 4) % pats.len()],
            };
            regs.push((slot, x));
        }
        out.push(Init::new(&regs));
    }
    out
}

/// `check` of a straight-line body followed by `exit_tb 0`.
fn check_body(name: &str, body: &str, inits: &[Init]) -> Vec<Outcome> {
    check(name, &format!("{body}  exit_tb 0\n"), inits)
}

/// One program per opcode, shape and interesting immediate/condition/aliasing.
fn cases() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |name: String, body: String| out.push((name, body));
    for sh in SHAPES {
        for op in BINARY {
            add(
                format!("{op} {sh}"),
                format!("  {op} {sh}, {}, {}, {}\n", v(0), v(1), v(2)),
            );
            // Destination aliasing both sources.
            add(
                format!("{op} {sh} aliased"),
                format!("  {op} {sh}, {}, {}, {}\n", v(3), v(3), v(3)),
            );
        }
        for op in SAT {
            add(
                format!("{op} {sh}"),
                format!(
                    "  {op} {sh}, {}, {}, {}, x10\n  {op} {sh}, {}, {}, {}, x11\n",
                    v(0),
                    v(1),
                    v(2),
                    v(3),
                    v(3),
                    v(4)
                ),
            );
        }
        for op in UNARY {
            add(
                format!("{op} {sh}"),
                format!("  {op} {sh}, {}, {}\n", v(0), v(1)),
            );
        }
        for c in CONDS {
            add(
                format!("vcmp {sh} {c}"),
                format!("  vcmp {sh}, {c}, {}, {}, {}\n", v(0), v(1), v(2)),
            );
            add(
                format!("vcmps {sh} {c}"),
                format!(
                    "  vcmps {sh}, {c}, {}, {}, x9\n  vcmps {sh}, {c}, {}, {}, $0x80\n",
                    v(0),
                    v(1),
                    v(2),
                    v(3)
                ),
            );
        }
        let bits = VecShape::from_name(sh).unwrap().lane_bits();
        for op in ["vshli", "vshri", "vsari"] {
            for n in [0, 1, bits / 2, bits - 1, bits, bits + 3] {
                add(
                    format!("{op} {sh} {n}"),
                    format!("  {op} {sh}, {}, {}, {n}\n", v(0), v(1)),
                );
            }
        }
        add(
            format!("vbitsel {sh}"),
            format!(
                "  vbitsel {sh}, {}, {}, {}, {}\n  vbitsel {sh}, {}, {}, {}, {}\n",
                v(0),
                v(1),
                v(2),
                v(3),
                v(4),
                v(4),
                v(5),
                v(4)
            ),
        );
        // Byte permutations: identity, reverse of b, interleave, all from one byte.
        for (k, mask) in [
            (0..16u8).collect::<Vec<_>>(),
            (0..16).map(|i| 31 - i).collect(),
            (0..16).map(|i| (i / 2) + 16 * (i % 2)).collect(),
            vec![21; 16],
            (0..16)
                .map(|i| if i % 3 == 0 { 0x80 + i } else { 2 * i })
                .collect(),
        ]
        .into_iter()
        .enumerate()
        {
            let m = u128::from_le_bytes(mask.try_into().unwrap());
            add(
                format!("vshuf {sh} {k}"),
                format!(
                    "  vshuf {sh}, {}, {}, {}, {:#x}, {:#x}\n  vshuf {sh}, {}, {}, {}, {:#x}, {:#x}\n",
                    v(0),
                    v(1),
                    v(2),
                    m as u64,
                    (m >> 64) as u64,
                    v(3),
                    v(3),
                    v(4),
                    m as u64,
                    (m >> 64) as u64
                ),
            );
        }
        // Table lookups: random indices (mostly out of range), indices 0..32 (half in
        // range), and the destination aliasing the table or the indices.
        add(
            format!("vtbl {sh}"),
            format!(
                "  vtbl {sh}, {}, {}, {}\n  vands 16b, {}, {}, $0x1f\n  vtbl {sh}, {}, {}, {}\n  vtbl {sh}, {}, {}, {}\n",
                v(0),
                v(1),
                v(2),
                v(2),
                v(2),
                v(3),
                v(1),
                v(2),
                v(2),
                v(3),
                v(2)
            ),
        );
        for op in ["vmla", "vmls"] {
            add(
                format!("{op} {sh}"),
                format!(
                    "  {op} {sh}, {}, {}, {}, {}\n  {op} {sh}, {}, {}, {}, {}\n",
                    v(0),
                    v(1),
                    v(2),
                    v(0),
                    v(3),
                    v(3),
                    v(3),
                    v(4)
                ),
            );
        }
        add(
            format!("vdup {sh}"),
            format!(
                "  vdup {sh}, {}, x9\n  vdup {sh}, {}, $0xfedcba9876543210\n",
                v(0),
                v(1)
            ),
        );
        add(
            format!("vands/vors {sh}"),
            format!(
                "  vands {sh}, {}, {}, x9\n  vors {sh}, {}, {}, $0xf0f0\n",
                v(0),
                v(1),
                v(2),
                v(3)
            ),
        );
    }
    out
}

#[test]
fn every_op_in_every_shape() {
    let inits = inits();
    for (name, body) in cases() {
        check(&name, &format!("{body}  exit_tb 0\n"), &inits);
    }
}

/// The same programs on a JIT restricted to the baseline ISA (SSE2 on x86-64): the
/// lowerings Cranelift uses without SSE4.1/AVX must give the same results.
#[test]
fn every_op_on_the_baseline_isa() {
    use tcg_ir::Backend;
    let jit = backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
        baseline_isa: true,
        ..Default::default()
    })
    .expect("baseline JIT");
    let interp = backend_interp::Interp::new();
    let inits = inits();
    for (name, body) in cases() {
        let f = parse(&format!("{body}  exit_tb 0\n"));
        let a = jit
            .compile(&f)
            .unwrap_or_else(|e| panic!("{name}: {e}\n{f}"));
        let b = interp.compile(&f).unwrap_or_else(|e| panic!("{name}: {e}"));
        for init in &inits {
            assert_eq!(run(&*a, init), run(&*b, init), "{name}\n{f}");
        }
    }
}

#[test]
fn known_results() {
    let init = Init::new(&[
        (0, 0x0102_0304_0506_07ff),
        (1, 0x8000_0000_0000_0001),
        (2, 0x0101_0101_0101_0102),
        (3, 0xffff_ffff_ffff_ffff),
        (4, 0xdead_beef_dead_beef),
        (5, 0xdead_beef_dead_beef),
    ]);
    // v(0) = slots 0,1; v(1) = slots 2,3; v(2) = slots 4,5.
    let out = check_body(
        "known",
        &format!("  vadd 8b, {}, {}, {}\n", v(2), v(0), v(1)),
        std::slice::from_ref(&init),
    );
    assert_eq!(out[0].regs[4], 0x0203_0405_0607_0801);
    assert_eq!(out[0].regs[5], 0, "8-byte shape zeroes the upper half");
    let out = check_body(
        "known mul",
        &format!(
            "  vmul 16b, {}, {}, {}\n  vcmp 2d, lt, {}, {}, {}\n",
            v(2),
            v(0),
            v(1),
            v(3),
            v(0),
            v(1)
        ),
        std::slice::from_ref(&init),
    );
    assert_eq!(out[0].regs[4], 0x0102_0304_0506_07fe);
    assert_eq!(out[0].regs[5], 0x8000_0000_0000_00ff);
    // Lane 0: 0x0102..07ff < 0x0101..0102 is false; lane 1: MIN+1 < -1 is true.
    assert_eq!(out[0].regs[6], 0);
    assert_eq!(out[0].regs[7], u64::MAX);
    // Saturation: only lanes of the operation size count.
    let out = check_body(
        "known sat",
        &format!(
            "  vusadd 8b, {}, {}, {}, x9\n  vssadd 8b, {}, {}, {}, x10\n  vussub 2d, {}, {}, {}, x11\n",
            v(3),
            v(1),
            v(1),
            v(4),
            v(0),
            v(0),
            v(5),
            v(1),
            v(0)
        ),
        std::slice::from_ref(&init),
    );
    // v(1) lo = 0x0101..0102 doubled without saturation; its upper half (all-ones) would.
    assert_eq!(out[0].regs[6], 0x0202_0202_0202_0204);
    assert_eq!((out[0].regs[7], out[0].regs[9]), (0, 0));
    // v(0) lo bytes 0x7ff..: 0xff + 0xff = -2 fits; upper half ignored.
    assert_eq!(out[0].regs[8], 0x0204_0608_0a0c_0efe);
    assert_eq!(out[0].regs[10], 0);
    // 0x0101..0102 - 0x0102..07ff wraps below 0 in lane 0; lane 1: MAX - (MIN+1) fits.
    assert_eq!(out[0].regs[10 + 1], 1);
}

/// Globals cached by the JIT that share bytes with vector operands are kept coherent.
#[test]
fn globals_overlapping_vector_operands() {
    let inits = inits();
    // x0/x1 are the bytes of v(0); x2/x3 of v(1); x4/x5 of v(2).
    check_body(
        "write global then vector reads it",
        &format!(
            "  add.i64 x0, x0, $0x1\n  vadd 2d, {}, {}, {}\n  add.i64 x5, x5, x4\n",
            v(2),
            v(0),
            v(1)
        ),
        &inits,
    );
    check_body(
        "vector writes a global then scalar reads it",
        &format!(
            "  mov.i64 x4, x7\n  vsub 4s, {}, {}, {}\n  add.i64 x8, x4, x5\n  mov.i64 x5, x0\n",
            v(2),
            v(0),
            v(1)
        ),
        &inits,
    );
    check_body(
        "unaligned operands",
        &format!(
            "  add.i64 x3, x3, $0x5\n  vxor 16b, @{:#x}, @{:#x}, @{:#x}\n  add.i64 x2, x2, x4\n",
            reg_off(3),
            reg_off(1),
            reg_off(5)
        ),
        &inits,
    );
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.next() as usize % xs.len()]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// One random op: mostly vector ops on 16-byte operands that may start at any 8-byte slot
/// (so they overlap each other and the globals), some scalar ops on the globals.
fn random_op(r: &mut Rng) -> String {
    let sh = r.pick(SHAPES);
    let mut e = || format!("@{:#x}", reg_off(r.below(NREGS as u64 - 1) as usize));
    let (d, a, b, c) = (e(), e(), e(), e());
    let scalar = ["x0", "x3", "x9", "$0x80", "$0xffffffffffff7fff"];
    match r.below(12) {
        0..=3 => format!("  {} {sh}, {d}, {a}, {b}", r.pick(BINARY)),
        4 => format!("  {} {sh}, {d}, {a}", r.pick(UNARY)),
        5 => format!("  vcmp {sh}, {}, {d}, {a}, {b}", r.pick(CONDS)),
        6 => format!(
            "  vcmps {sh}, {}, {d}, {a}, {}",
            r.pick(CONDS),
            r.pick(&scalar)
        ),
        7 => {
            let bits = VecShape::from_name(sh).unwrap().lane_bits() as u64;
            let op = r.pick(&["vshli", "vshri", "vsari"]);
            format!("  {op} {sh}, {d}, {a}, {}", r.below(bits + 2))
        }
        8 if r.below(3) == 0 => format!("  vbitsel {sh}, {d}, {a}, {b}, {c}"),
        8 if r.below(2) == 0 => format!("  {} {sh}, {d}, {a}, {b}, {c}", r.pick(&["vmla", "vmls"])),
        8 => {
            let m = u128::from_le_bytes(std::array::from_fn(|_| r.below(40) as u8));
            format!(
                "  vshuf {sh}, {d}, {a}, {b}, {:#x}, {:#x}",
                m as u64,
                (m >> 64) as u64
            )
        }
        9 => format!("  {} {sh}, {d}, {}", r.pick(&["vdup"]), r.pick(&scalar)),
        10 => format!(
            "  {} {sh}, {d}, {a}, {}",
            r.pick(&["vands", "vors"]),
            r.pick(&scalar)
        ),
        11 if r.below(2) == 0 => format!("  {} {sh}, {d}, {a}, {b}, x1", r.pick(SAT)),
        _ => {
            let g = ["x0", "x1", "x3", "x6", "x9"];
            format!(
                "  {}.i64 {}, {}, {}",
                r.pick(&["add", "xor", "sub"]),
                r.pick(&g),
                r.pick(&g),
                r.pick(&g)
            )
        }
    }
}

#[test]
fn random_programs_agree() {
    let inits: Vec<Init> = inits().into_iter().step_by(3).collect();
    let mut r = Rng(0x2545_f491_4f6c_dd1d);
    for n in 0..300 {
        let len = 1 + r.below(8);
        let body: String = (0..len).map(|_| random_op(&mut r) + "\n").collect();
        check(
            &format!("random program {n}"),
            &format!("{body}  exit_tb 0\n"),
            &inits,
        );
    }
}

#[test]
fn reference_semantics_spot_checks() {
    // vdup of the low lane bits; sari by the lane size fills with the sign.
    let s = VecShape::new(1, false);
    assert_eq!(
        vector::eval(Opc::VDup, s, Cond::Eq, 0, &[], 0x1_2345),
        Some(0x2345_2345_2345_2345)
    );
    let s = VecShape::new(3, true);
    assert_eq!(
        vector::eval(Opc::VSari, s, Cond::Eq, 64, &[1u128 << 127 | 5], 0),
        Some(u128::MAX << 64)
    );
}
