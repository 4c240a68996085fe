//! Random programs give the same final globals and exit code on the interpreter before and
//! after `optimize`.

use backend_interp::Interp;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::sync::Arc;
use tcg_ir::text::parse;
use tcg_ir::verify::verify;
use tcg_ir::{Backend, Func, Helper, HelperFlags};

#[repr(C)]
struct Env {
    head: EnvHead,
    regs: [u64; 16],
}

fn reg_off(i: usize) -> usize {
    std::mem::offset_of!(Env, regs) + 8 * i
}

/// Writes x3 behind the IR's back, so copies of globals must not survive it.
extern "C" fn clobber(env: *mut u8, a: u64) -> u64 {
    // SAFETY: env is the Env the test passed to exec.
    unsafe { (env.add(reg_off(3)) as *mut u64).write(a.wrapping_mul(7) ^ 1) };
    a.rotate_left(5)
}

extern "C" fn pure(_env: *mut u8, a: u64, b: u64) -> u64 {
    a.wrapping_sub(b.wrapping_mul(3))
}

fn helpers() -> [&'static Helper; 2] {
    let c: &'static Helper = Box::leak(Box::new(Helper {
        name: "clobber",
        addr: clobber as *const () as usize,
        nargs: 1,
        has_ret: true,
        flags: HelperFlags::empty(),
    }));
    let p: &'static Helper = Box::leak(Box::new(Helper {
        name: "pure",
        addr: pure as *const () as usize,
        nargs: 2,
        has_ret: true,
        flags: HelperFlags::NO_READ_GLOBALS
            | HelperFlags::NO_WRITE_GLOBALS
            | HelperFlags::NO_SIDE_EFFECTS,
    }));
    [c, p]
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, s: &[&'a str]) -> &'a str {
        s[self.below(s.len())]
    }
}

const G64: &[&str] = &["x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"];
const G32: &[&str] = &["w8", "w9", "w10", "w11"];
const L64: &[&str] = &["t0", "t1", "t2", "t3", "t4"];
const L32: &[&str] = &["u0", "u1", "u2"];
const BIN: &[&str] = &[
    "add", "sub", "mul", "and", "or", "xor", "andc", "orc", "eqv", "shl", "shr", "sar", "rotl",
    "rotr", "div", "divu", "rem", "remu",
];
const UN: &[&str] = &[
    "mov", "neg", "not", "ext8s", "ext16u", "ext32s", "clz", "ctz", "ctpop", "bswap16", "bswap32",
];
const CONDS: &[&str] = &[
    "eq", "ne", "lt", "ge", "le", "gt", "ltu", "geu", "leu", "gtu", "tsteq", "tstne",
];

fn constant(r: &mut Rng, w64: bool) -> String {
    let v = match r.below(6) {
        0 => 0,
        1 => 1,
        2 => u64::MAX,
        3 => r.next() % 70,
        _ => r.next(),
    };
    format!("${:#x}", if w64 { v } else { v & 0xffff_ffff })
}

/// A source operand of the given width: a global, a local or a constant.
fn src(r: &mut Rng, w64: bool) -> String {
    match r.below(5) {
        0 | 1 => r.pick(if w64 { G64 } else { G32 }).to_string(),
        2 | 3 => r.pick(if w64 { L64 } else { L32 }).to_string(),
        _ => constant(r, w64),
    }
}

fn dst(r: &mut Rng, w64: bool) -> String {
    if r.below(2) == 0 {
        r.pick(if w64 { G64 } else { G32 })
    } else {
        r.pick(if w64 { L64 } else { L32 })
    }
    .to_string()
}

fn program(seed: u64) -> String {
    let mut r = Rng(seed);
    let mut s = String::new();
    for (i, g) in G64.iter().chain(G32.iter()).enumerate() {
        let ty = if i < 8 { "i64" } else { "i32" };
        s += &format!("global {g}:{ty} @{:#x}\n", reg_off(i));
    }
    for l in L64 {
        s += &format!("local {l}:i64\n");
    }
    for l in L32 {
        s += &format!("local {l}:i32\n");
    }
    for l in L64 {
        s += &format!("  mov.i64 {l}, {}\n", src(&mut r, true));
    }
    for l in L32 {
        s += &format!("  mov.i32 {l}, {}\n", src(&mut r, false));
    }
    let mut pending: Vec<u32> = Vec::new();
    let mut next_label = 0;
    let n = 20 + r.below(30);
    for k in 0..n {
        if !pending.is_empty() && r.below(4) == 0 {
            let l = pending.swap_remove(r.below(pending.len()));
            s += &format!("L{l}:\n");
        }
        let w64 = r.below(3) != 0;
        let ty = if w64 { "i64" } else { "i32" };
        let line = match r.below(16) {
            0..=5 => format!(
                "{}.{ty} {}, {}, {}",
                r.pick(BIN),
                dst(&mut r, w64),
                src(&mut r, w64),
                src(&mut r, w64)
            ),
            6 | 7 => format!(
                "{}.{ty} {}, {}",
                r.pick(UN),
                dst(&mut r, w64),
                src(&mut r, w64)
            ),
            8 => format!(
                "setcond.{ty} {}, {}, {}, {}",
                dst(&mut r, w64),
                src(&mut r, w64),
                src(&mut r, w64),
                r.pick(CONDS)
            ),
            9 => format!(
                "movcond.{ty} {}, {}, {}, {}, {}, {}",
                dst(&mut r, w64),
                src(&mut r, w64),
                src(&mut r, w64),
                src(&mut r, w64),
                src(&mut r, w64),
                r.pick(CONDS)
            ),
            10 => {
                let bits = if w64 { 64 } else { 32 };
                let pos = r.below(bits);
                let len = 1 + r.below(bits - pos);
                match r.below(3) {
                    0 => format!(
                        "deposit.{ty} {}, {}, {}, {pos}, {len}",
                        dst(&mut r, w64),
                        src(&mut r, w64),
                        src(&mut r, w64)
                    ),
                    1 => format!(
                        "extract.{ty} {}, {}, {pos}, {len}",
                        dst(&mut r, w64),
                        src(&mut r, w64)
                    ),
                    _ => format!(
                        "sextract.{ty} {}, {}, {pos}, {len}",
                        dst(&mut r, w64),
                        src(&mut r, w64)
                    ),
                }
            }
            11 => {
                let (lo, hi) = (dst(&mut r, w64), dst(&mut r, w64));
                let m = if r.below(2) == 0 { "mulu2" } else { "muls2" };
                format!(
                    "{m}.{ty} {lo}, {hi}, {}, {}",
                    src(&mut r, w64),
                    src(&mut r, w64)
                )
            }
            12 => match r.below(4) {
                0 => format!("extu_i32_i64 {}, {}", dst(&mut r, true), src(&mut r, false)),
                1 => format!("exts_i32_i64 {}, {}", dst(&mut r, true), src(&mut r, false)),
                2 => format!(
                    "extrl_i64_i32 {}, {}",
                    dst(&mut r, false),
                    src(&mut r, true)
                ),
                _ => format!(
                    "extrh_i64_i32 {}, {}",
                    dst(&mut r, false),
                    src(&mut r, true)
                ),
            },
            13 if k + 3 < n => {
                let l = next_label;
                next_label += 1;
                pending.push(l);
                format!(
                    "brcond.{ty} {}, {}, {}, L{l}",
                    src(&mut r, w64),
                    src(&mut r, w64),
                    r.pick(CONDS)
                )
            }
            14 => match r.below(3) {
                0 => format!("call clobber, {}, {}", dst(&mut r, true), src(&mut r, true)),
                1 => format!(
                    "call pure, {}, {}, {}",
                    dst(&mut r, true),
                    src(&mut r, true),
                    src(&mut r, true)
                ),
                // Overwrite part of a global through env.
                _ => format!(
                    "st_env.i64 {}, {:#x}, ul",
                    src(&mut r, true),
                    reg_off(r.below(12)) + 4 * r.below(2)
                ),
            },
            _ => format!("mov.{ty} {}, {}", dst(&mut r, w64), src(&mut r, w64)),
        };
        s += "  ";
        s += &line;
        s += "\n";
    }
    for l in pending {
        s += &format!("L{l}:\n");
    }
    s += "  exit_tb 0x10\n";
    s
}

fn run(f: &Func, regs: &[u64; 16]) -> (u64, [u64; 16]) {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(0x4000_0000), 0x1_0000).unwrap();
    let ctx = Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(softmmu::tlb::IdentityWalker),
    });
    let mut env = Box::new(Env {
        head: EnvHead::new(&*ctx),
        regs: *regs,
    });
    let tb = Interp::new()
        .compile(f)
        .unwrap_or_else(|e| panic!("{e}\n{f}"));
    // SAFETY: env is a live Env whose head points at a live MemCtx.
    let code = unsafe { tb.exec(&mut *env as *mut Env as *mut u8) };
    (code, env.regs)
}

#[test]
fn optimize_preserves_semantics_of_random_programs() {
    let hs = helpers();
    let mut total_before = 0;
    let mut total_after = 0;
    for seed in 1..=200u64 {
        let text = program(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        let f = parse(&text, &hs).unwrap_or_else(|e| panic!("{e}\n{text}"));
        verify(&f).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let mut g = f.clone();
        tcg_opt::optimize(&mut g);
        verify(&g)
            .unwrap_or_else(|e| panic!("optimized program does not verify: {e}\n{text}\n{g}"));
        total_before += f.ops.len();
        total_after += g.ops.len();
        let mut r = Rng(seed);
        for _ in 0..4 {
            let mut regs = [0u64; 16];
            for (i, v) in regs.iter_mut().enumerate().take(12) {
                *v = match r.below(3) {
                    0 => r.next() % 8,
                    _ => r.next(),
                } & if i >= 8 { 0xffff_ffff } else { u64::MAX };
            }
            assert_eq!(
                run(&f, &regs),
                run(&g, &regs),
                "seed {seed}\n--- before\n{f}--- after\n{g}"
            );
        }
    }
    assert!(
        total_after < total_before,
        "optimize removed nothing ({total_before} ops)"
    );
}

/// Each pass on its own also preserves semantics.
#[test]
fn each_pass_alone_preserves_semantics() {
    let hs = helpers();
    type Pass = (&'static str, fn(&mut Func));
    let passes: [Pass; 3] = [
        ("fold", tcg_opt::fold_constants),
        ("copies", tcg_opt::propagate_copies),
        ("dce", tcg_opt::eliminate_dead_code),
    ];
    for seed in 1..=60u64 {
        let text = program(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let f = parse(&text, &hs).unwrap();
        let regs: [u64; 16] = std::array::from_fn(|i| {
            if i < 8 {
                seed * 0x1234_5678_9abc + i as u64
            } else {
                i as u64
            }
        });
        let want = run(&f, &regs);
        for (name, pass) in passes {
            let mut g = f.clone();
            pass(&mut g);
            verify(&g).unwrap_or_else(|e| panic!("{name}: {e}\n{g}"));
            assert_eq!(
                run(&g, &regs),
                want,
                "{name} seed {seed}\n--- before\n{f}--- after\n{g}"
            );
        }
    }
}
