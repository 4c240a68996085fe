//! The IR conformance suite: every program runs on the JIT and on the interpreter against
//! the same initial state; exit code, globals, RAM, MMIO traffic and the fault record must
//! match. A few results are also checked against known values.

mod common;

use common::*;
use softmmu::fault;
use tcg_ir::{Cond, ExitCode, RmwOp};

const VALUES: &[u64] = &[
    0,
    1,
    2,
    3,
    7,
    31,
    32,
    33,
    63,
    64,
    65,
    0x80,
    0xff,
    0x8000,
    0xffff,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x1234_5678_9abc_def0,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    0xffff_ffff_ffff_fffe,
    0xffff_ffff_ffff_ffff,
];

/// Operand registers for a type: (dest, a, b, c, d).
fn regs(ty: &str) -> [&'static str; 5] {
    if ty == "i64" {
        ["x2", "x0", "x1", "x3", "x4"]
    } else {
        ["w18", "w16", "w17", "w19", "w20"]
    }
}

fn slots(ty: &str) -> [usize; 5] {
    if ty == "i64" {
        [2, 0, 1, 3, 4]
    } else {
        [18, 16, 17, 19, 20]
    }
}

fn pair_inits(ty: &str) -> Vec<Init> {
    let s = slots(ty);
    let mut v = Vec::new();
    for &a in VALUES {
        for &b in VALUES {
            v.push(Init::new(&[(s[1], a), (s[2], b)]));
        }
    }
    v
}

fn single_inits(ty: &str) -> Vec<Init> {
    let s = slots(ty);
    VALUES.iter().map(|&a| Init::new(&[(s[1], a)])).collect()
}

const BINARY: &[&str] = &[
    "add", "sub", "mul", "and", "or", "xor", "andc", "orc", "eqv", "shl", "shr", "sar", "rotl",
    "rotr", "div", "divu", "rem", "remu",
];

const UNARY: &[&str] = &[
    "mov", "neg", "not", "ext8s", "ext8u", "ext16s", "ext16u", "ext32s", "ext32u", "clz", "ctz",
    "ctpop", "bswap16", "bswap32", "bswap64",
];

#[test]
fn binary_ops_on_globals() {
    for ty in ["i64", "i32"] {
        let [d, a, b, ..] = regs(ty);
        let inits = pair_inits(ty);
        for op in BINARY {
            check(
                &format!("{op}.{ty}"),
                &format!("  {op}.{ty} {d}, {a}, {b}\n  exit_tb 0\n"),
                &inits,
            );
        }
    }
}

#[test]
fn binary_ops_with_constants() {
    for ty in ["i64", "i32"] {
        let [d, a, ..] = regs(ty);
        let inits = single_inits(ty);
        for op in BINARY {
            for &c in VALUES {
                // Both operand orders, so constant folding and immediate forms are covered.
                check(
                    &format!("{op}.{ty} const rhs {c:#x}"),
                    &format!("  {op}.{ty} {d}, {a}, ${c:#x}\n  exit_tb 0\n"),
                    &inits,
                );
                check(
                    &format!("{op}.{ty} const lhs {c:#x}"),
                    &format!("  {op}.{ty} {d}, ${c:#x}, {a}\n  exit_tb 0\n"),
                    &inits[..4],
                );
            }
        }
    }
}

#[test]
fn unary_ops() {
    for ty in ["i64", "i32"] {
        let [d, a, ..] = regs(ty);
        let inits = single_inits(ty);
        for op in UNARY {
            check(
                &format!("{op}.{ty}"),
                &format!("  {op}.{ty} {d}, {a}\n  exit_tb 0\n"),
                &inits,
            );
            for &c in &VALUES[..8] {
                check(
                    &format!("{op}.{ty} const"),
                    &format!("  {op}.{ty} {d}, ${c:#x}\n  exit_tb 0\n"),
                    &inits[..1],
                );
            }
        }
    }
}

/// A result read again by the next op (the quick JIT keeps it in a register): an I32
/// result must be zero-extended there too. Found by `random_programs_agree`: the quick
/// JIT's inline `bswap64.i32` left the swapped upper half in the register, and a
/// following 32-bit multiply read it.
#[test]
fn unary_results_feed_the_next_op() {
    for ty in ["i64", "i32"] {
        let [d, a, b, c, _] = regs(ty);
        let inits = pair_inits(ty);
        for op in UNARY {
            check(
                &format!("{op}.{ty} then mulu2"),
                &format!("  {op}.{ty} {d}, {a}\n  mulu2.{ty} {b}, {c}, {d}, {d}\n  exit_tb 0\n"),
                &inits,
            );
        }
    }
    // The shrunk random program itself.
    check(
        "bswap64.i32 feeding mulu2.i32",
        "local m0:i32\n  mov.i32 m0, w19\n  bswap64.i32 w18, w16\n  \
         mulu2.i32 w16, w16, m0, w18\n  exit_tb 0x10\n",
        &[Init::new(&[
            (16, 0x538a_acc4_e151_e35f),
            (19, 0xd39d_8846_923c_2a29),
        ])],
    );
}

/// Ops whose input no later op reads (the quick JIT computes them in that input's cache
/// register), adds of cached values (a `lea`), a global advanced by a constant (`add t, G,
/// $c ; mov G, t`: one add to env, only when nothing else reads `t`) and constants stored
/// into globals.
#[test]
fn dead_inputs_bumped_globals_and_constant_stores() {
    let inits = pair_inits("i64");
    check(
        "in place",
        "local l0:i64\nlocal l1:i64\nlocal l2:i64\nlocal l3:i64\nlocal l4:i64\nlocal l5:i64\n\
         local m0:i32\n  \
         add.i64 l0, x0, x1\n  add.i64 l1, l0, $0x5\n  sub.i64 x2, l1, x3\n  \
         mul.i64 l2, x1, x0\n  xor.i64 x3, x2, l2\n  shl.i64 x4, x3, $0x7\n  \
         add.i64 x5, x4, x1\n  add.i64 x6, x0, $0xffffffffffffff80\n  sub.i64 l3, x5, $0x10\n  \
         and.i64 x7, l3, x6\n  or.i64 l4, x7, x1\n  mul.i64 x8, l4, $0x3\n  \
         sub.i64 l5, x0, x1\n  sub.i64 x9, l5, x0\n  \
         add.i32 m0, w16, $0x7fffffff\n  add.i32 w18, m0, w17\n  shr.i32 w19, w18, $0x3\n  \
         exit_tb 0\n",
        &inits,
    );
    check(
        "unary in place",
        "local l0:i64\nlocal l1:i64\nlocal l2:i64\nlocal l3:i64\nlocal l4:i64\n  \
         ext32u.i64 x2, x0\n  mul.i64 l0, x1, x0\n  ext32u.i64 x3, l0\n  \
         neg.i64 l1, x1\n  not.i64 x4, l1\n  add.i64 l2, x0, x1\n  neg.i64 x5, l2\n  \
         mul.i64 l3, x0, x0\n  ext32s.i64 x6, l3\n  xor.i64 l4, x0, x1\n  ext8u.i64 x7, l4\n  \
         exit_tb 0\n",
        &inits,
    );
    check(
        "bumps",
        "local l0:i64\nlocal l1:i64\n  \
         add.i64 l0, x0, $0x40\n  mov.i64 x0, l0\n  \
         add.i64 l1, x1, $0xfffffffffffffff8\n  mov.i64 x1, l1\n  add.i64 x2, l1, $0x1\n  \
         add.i64 l0, x3, $0x7fffffff\n  mov.i64 x3, l0\n  \
         mov.i64 x4, x0\n  exit_tb 0\n",
        &inits,
    );
    // Results read again computed in cache registers (`r8`-`r15`), more live values than
    // registers (evictions), every 8-bit immediate form, shifts, both widths.
    check(
        "results in cache registers",
        "local l0:i64\nlocal l1:i64\nlocal l2:i64\nlocal l3:i64\nlocal l4:i64\nlocal l5:i64\n\
         local l6:i64\nlocal l7:i64\nlocal l8:i64\nlocal l9:i64\nlocal m0:i32\nlocal m1:i32\n  \
         add.i64 l0, x0, $0x7f\n  sub.i64 l1, x1, $0xffffffffffffff80\n  \
         and.i64 l2, x0, $0x3c\n  or.i64 l3, x1, $0x11\n  xor.i64 l4, x0, $0xffffffffffffffff\n  \
         shl.i64 l5, x1, $0x3\n  sar.i64 l6, x0, $0x9\n  mul.i64 l7, x1, $0x5\n  \
         add.i64 l8, l0, l1\n  sub.i64 l9, l2, l3\n  \
         add.i32 m0, w16, $0x7f\n  shr.i32 m1, w17, $0x2\n  \
         add.i64 x2, l0, l4\n  add.i64 x3, l1, l5\n  add.i64 x4, l2, l6\n  \
         add.i64 x5, l3, l7\n  add.i64 x6, l8, l9\n  add.i64 x7, l4, l0\n  \
         xor.i64 x8, l5, l6\n  add.i32 w18, m0, m1\n  sub.i32 w19, m1, m0\n  exit_tb 0\n",
        &inits,
    );
    // Adds whose uncached operands later ops read again: each is loaded into a cache
    // register of its own before the `lea` (the sum must not overwrite it), both widths,
    // a global overwritten after the read, and more such operands than registers.
    check(
        "add operands kept in cache registers",
        "local l0:i64\nlocal l1:i64\nlocal l2:i64\nlocal l3:i64\nlocal m0:i32\n  \
         add.i64 l0, x0, x1\n  add.i64 l1, x2, x0\n  add.i64 l2, x3, x4\n  \
         add.i64 l3, x5, x6\n  add.i64 x7, x8, x9\n  add.i64 x10, x11, x12\n  \
         add.i32 m0, w16, w17\n  add.i32 w18, w16, m0\n  \
         add.i64 x0, x0, l0\n  add.i64 x1, x1, l1\n  add.i64 x2, x2, l2\n  \
         add.i64 x3, x3, l3\n  add.i64 x4, x4, x8\n  add.i64 x5, x5, x9\n  \
         add.i64 x6, x6, x11\n  add.i64 x8, x12, x3\n  sub.i32 w19, w17, m0\n  exit_tb 0\n",
        &inits,
    );
    let outs = check(
        "constant stores",
        "  mov.i64 x0, $0xffffffffffffffff\n  mov.i64 x1, $0x80000000\n  mov.i64 x2, $0x7fffffff\n  \
         mov.i64 x3, $0x123456789\n  mov.i32 w16, $0xffffffff\n  mov.i32 w17, $0x5\n  \
         add.i64 x4, x0, x1\n  exit_tb 0\n",
        &inits[..1],
    );
    let r = &outs[0].regs;
    assert_eq!(
        r[..5],
        [
            u64::MAX,
            0x8000_0000,
            0x7fff_ffff,
            0x1_2345_6789,
            0x7fff_ffff
        ]
    );
}

#[test]
fn conversions_between_types() {
    let inits: Vec<Init> = VALUES
        .iter()
        .map(|&v| Init::new(&[(0, v), (16, v)]))
        .collect();
    let outs = check(
        "conversions",
        "  extu_i32_i64 x2, w16\n  exts_i32_i64 x3, w16\n  extrl_i64_i32 w18, x0\n  extrh_i64_i32 w19, x0\n  exit_tb 0\n",
        &inits,
    );
    // 0x8000_0000 sign-extends.
    let o = &outs[VALUES.iter().position(|&v| v == 0x8000_0000).unwrap()];
    assert_eq!(o.regs[2], 0x8000_0000);
    assert_eq!(o.regs[3], 0xffff_ffff_8000_0000);
}

#[test]
fn bitfields() {
    for ty in ["i64", "i32"] {
        let [d, a, b, ..] = regs(ty);
        let w = if ty == "i64" { 64 } else { 32 };
        let inits: Vec<Init> = pair_inits(ty).into_iter().step_by(7).collect();
        for (pos, len) in [
            (0, 1),
            (0, 8),
            (4, 8),
            (8, 16),
            (0, w),
            (w - 1, 1),
            (1, w - 1),
            (3, 29),
            (16, w - 16),
        ] {
            for op in ["extract", "sextract"] {
                check(
                    &format!("{op}.{ty} {pos} {len}"),
                    &format!("  {op}.{ty} {d}, {a}, {pos}, {len}\n  exit_tb 0\n"),
                    &inits,
                );
            }
            check(
                &format!("deposit.{ty} {pos} {len}"),
                &format!("  deposit.{ty} {d}, {a}, {b}, {pos}, {len}\n  exit_tb 0\n"),
                &inits,
            );
        }
    }
}

#[test]
fn double_word_multiply() {
    for ty in ["i64", "i32"] {
        let [d, a, b, c, _] = regs(ty);
        let inits = pair_inits(ty);
        for op in ["mulu2", "muls2"] {
            check(
                &format!("{op}.{ty}"),
                &format!("  {op}.{ty} {d}, {c}, {a}, {b}\n  exit_tb 0\n"),
                &inits,
            );
            // Outputs aliasing inputs.
            check(
                &format!("{op}.{ty} aliased"),
                &format!("  {op}.{ty} {a}, {b}, {a}, {b}\n  exit_tb 0\n"),
                &inits,
            );
        }
    }
    let o = check(
        "mulu2 known",
        "  mulu2.i64 x2, x3, x0, x1\n  exit_tb 0\n",
        &[Init::new(&[(0, u64::MAX), (1, 2)])],
    );
    assert_eq!((o[0].regs[2], o[0].regs[3]), (u64::MAX - 1, 1));
}

#[test]
fn setcond_movcond_brcond_every_cond() {
    for ty in ["i64", "i32"] {
        let [d, a, b, c, e] = regs(ty);
        let inits: Vec<Init> = pair_inits(ty)
            .into_iter()
            .map(|mut i| {
                let s = slots(ty);
                i.regs[s[3]] = 0x1111;
                i.regs[s[4]] = 0x2222;
                i
            })
            .collect();
        for &cond in Cond::ALL {
            let cn = cond.name();
            check(
                &format!("setcond.{ty} {cn}"),
                &format!("  setcond.{ty} {d}, {a}, {b}, {cn}\n  exit_tb 0\n"),
                &inits,
            );
            check(
                &format!("setcond.{ty} {cn} const"),
                &format!("  setcond.{ty} {d}, {a}, $0x80, {cn}\n  exit_tb 0\n"),
                &inits[..VALUES.len()],
            );
            check(
                &format!("movcond.{ty} {cn}"),
                &format!("  movcond.{ty} {d}, {a}, {b}, {c}, {e}, {cn}\n  exit_tb 0\n"),
                &inits,
            );
            check(
                &format!("brcond.{ty} {cn}"),
                &format!("  brcond.{ty} {a}, {b}, {cn}, L0\n  exit_tb 0x20\nL0:\n  exit_tb 0x21\n"),
                &inits,
            );
        }
    }
    // tst conditions: known values.
    let o = check(
        "tst",
        "  setcond.i64 x2, x0, x1, tstne\n  setcond.i64 x3, x0, x1, tsteq\n  exit_tb 0\n",
        &[
            Init::new(&[(0, 0xf0), (1, 0x0f)]),
            Init::new(&[(0, 0xf0), (1, 0x10)]),
        ],
    );
    assert_eq!((o[0].regs[2], o[0].regs[3]), (0, 1));
    assert_eq!((o[1].regs[2], o[1].regs[3]), (1, 0));
}

#[test]
fn loops_with_labels_and_locals() {
    let body = "\
local i:i64
local acc:i32
  mov.i64 i, $0
  mov.i32 acc, $0x1
  mov.i64 x2, $0
L0:
  brcond.i64 i, x0, geu, L1
  add.i64 x2, x2, i
  mul.i32 acc, acc, $0x3
  xor.i32 acc, acc, w16
  add.i64 i, i, $1
  br L0
L1:
  mov.i32 w18, acc
  brcond.i64 x2, $0x0, eq, L2
  exit_tb 0x10
L2:
  exit_tb 0x11
";
    let inits: Vec<Init> = [0u64, 1, 2, 10, 100, 1000]
        .iter()
        .map(|&n| Init::new(&[(0, n), (16, 0x5555)]))
        .collect();
    let o = check("counted loop", body, &inits);
    assert_eq!(o[3].regs[2], 45);
    assert_eq!(o[3].exit, 0x10);
    assert_eq!(o[0].exit, 0x11);
}

#[test]
fn unreachable_code_and_goto_tb() {
    check(
        "dead code",
        "  goto_tb 1\n  exit_tb 1\n  add.i64 x0, x0, $1\n  br L0\nL0:\n  exit_tb 2\n",
        &[Init::new(&[])],
    );
    let o = check(
        "goto_tb",
        "  add.i64 x0, x0, $1\n  brcond.i64 x0, $0x5, eq, L0\n  goto_tb 0\n  exit_tb 0\nL0:\n  goto_tb 1\n  exit_tb 1\n",
        &[Init::new(&[(0, 4)]), Init::new(&[(0, 5)])],
    );
    assert_eq!(o[0].exit, ExitCode::GOTO_TB1);
    assert_eq!(o[1].exit, ExitCode::GOTO_TB0);
}

#[test]
fn exit_request_runs_nothing() {
    let mut init = Init::new(&[(0, 7)]);
    init.exit_request = true;
    let o = check(
        "exit request",
        "  add.i64 x0, x0, $1\n  qemu_st.i64 x0, $0x40000000, uq, mmu0\n  exit_tb 0x10\n",
        &[init],
    );
    assert_eq!(o[0].exit, ExitCode::REQUESTED);
    assert_eq!(o[0].regs[0], 7);
}

#[test]
fn env_loads_and_stores_every_size() {
    let base = reg_off(8);
    for ty in ["i64", "i32"] {
        let [d, a, ..] = regs(ty);
        let mops: &[&str] = if ty == "i64" {
            &["ub", "uw", "ul", "uq", "sb", "sw", "sl"]
        } else {
            &["ub", "uw", "ul", "sb", "sw", "sl"]
        };
        for m in mops {
            for off in [0usize, 1, 3, 5] {
                check(
                    &format!("ld_env.{ty} {m} +{off}"),
                    &format!("  ld_env.{ty} {d}, {:#x}, {m}\n  exit_tb 0\n", base + off),
                    &single_inits(ty),
                );
                check(
                    &format!("st_env.{ty} {m} +{off}"),
                    &format!("  st_env.{ty} {a}, {:#x}, {m}\n  exit_tb 0\n", base + off),
                    &single_inits(ty),
                );
            }
        }
    }
    // Env accesses overlapping live globals (x0 is slot 0, w16 slot 16).
    let body = format!(
        "  add.i64 x0, x0, $1\n  ld_env.i64 x2, {x0:#x}, uq\n  st_env.i64 x1, {x0b:#x}, ub\n  add.i64 x0, x0, $1\n  \
         st_env.i32 w17, {w16:#x}, uw\n  mov.i32 w18, w16\n  ld_env.i64 x3, {w16:#x}, sl\n  exit_tb 0\n",
        x0 = reg_off(0),
        x0b = reg_off(0) + 2,
        w16 = reg_off(16),
    );
    check("env aliasing globals", &body, &pair_inits("i64")[..40]);
}

fn mem_inits() -> Vec<Init> {
    let addrs = [
        RAM_BASE,
        RAM_BASE + 0x10,
        RAM_BASE + 0x11,
        RAM_BASE + 0x13,
        RAM_BASE + 0x107,
        RAM_BASE + 0xffc,
        RAM_BASE + 0xffd,
        RAM_BASE + 0xfff,
        RAM_BASE + 0x5ff9,
        RAM_BASE + RAM_SIZE - 8,
        RAM_BASE + RAM_SIZE - 2,
        MMIO_BASE + 0x10,
        MMIO_BASE + 0x13,
        0x100,
        0xffff_ffff_ffff_fff0,
    ];
    addrs
        .iter()
        .map(|&a| Init::new(&[(0, a), (1, 0x8182_8384_8586_8788), (17, 0xf1f2_f3f4)]))
        .collect()
}

#[test]
fn guest_loads_and_stores_every_memop() {
    let inits = mem_inits();
    for ty in ["i64", "i32"] {
        let (d, v) = if ty == "i64" {
            ("x2", "x1")
        } else {
            ("w18", "w17")
        };
        for size in ["b", "w", "l", "q"] {
            if ty == "i32" && size == "q" {
                continue;
            }
            for sign in ["u", "s"] {
                for al in ["", "+a"] {
                    let m = format!("{sign}{size}{al}");
                    for mmu in [0, 2, 5] {
                        // Store, load back (TLB hit after the fill), load again, with an
                        // insn_start before each so faults carry the right pc.
                        let body = format!(
                            "  insn_start 0x1000\n  add.i64 x5, x5, $1\n  qemu_ld.{ty} {d}, x0, {m}, mmu{mmu}\n  \
                             insn_start 0x1004\n  qemu_st.{ty} {v}, x0, {m}, mmu{mmu}\n  \
                             insn_start 0x1008\n  qemu_ld.{ty} {d}, x0, {m}, mmu{mmu}\n  mov.i64 x6, x0\n  exit_tb 0x10\n"
                        );
                        check(&format!("mem {ty} {m} mmu{mmu}"), &body, &inits);
                    }
                }
            }
        }
    }
}

/// LDP/STP-shaped pairs (`add B, A, $size` then two accesses; the quick JIT probes the TLB
/// once for both) at every address of `mem_inits`: page crossings, the end of RAM (a
/// fault on the second element: a load pair writes neither register, a store pair has
/// written the first), MMIO, unmapped and wrapping addresses.
#[test]
fn guest_access_pairs() {
    let inits = mem_inits();
    for (ty, d1, d2, v1, v2, sizes) in [
        ("i64", "x2", "x4", "x1", "x7", &["l", "q"][..]),
        ("i32", "w18", "w19", "w17", "w20", &["l"][..]),
    ] {
        for size in sizes {
            let bytes = if *size == "q" { 8 } else { 4 };
            for sign in ["u", "s"] {
                for al in ["", "+a"] {
                    let m = format!("{sign}{size}{al}");
                    for mmu in [0, 2] {
                        let body = format!(
                            "  insn_start 0x1000\n  add.i64 x3, x0, ${bytes}\n  qemu_st.{ty} {v1}, x0, {m}, mmu{mmu}\n  \
                             qemu_st.{ty} {v2}, x3, {m}, mmu{mmu}\n  \
                             insn_start 0x1004\n  add.i64 x3, x0, ${bytes}\n  qemu_ld.{ty} {d1}, x0, {m}, mmu{mmu}\n  \
                             qemu_ld.{ty} {d2}, x3, {m}, mmu{mmu}\n  exit_tb 0x10\n"
                        );
                        check(&format!("pair {ty} {m} mmu{mmu}"), &body, &inits);
                    }
                }
            }
        }
    }
}

#[test]
fn guest_memory_known_results() {
    let o = check(
        "sign extension",
        "  qemu_st.i64 x1, x0, uq, mmu0\n  qemu_ld.i64 x2, x0, sb, mmu0\n  qemu_ld.i64 x3, x0, uw, mmu0\n  \
         qemu_ld.i32 w18, x0, sw, mmu0\n  qemu_ld.i64 x4, x0, sl, mmu0\n  exit_tb 0x10\n",
        &[Init::new(&[(0, RAM_BASE + 0x20), (1, 0x0102_0304_8586_8788)])],
    );
    assert_eq!(o[0].regs[2], 0xffff_ffff_ffff_ff88);
    assert_eq!(o[0].regs[3], 0x8788);
    assert_eq!(o[0].regs[18] & 0xffff_ffff, 0xffff_8788);
    assert_eq!(o[0].regs[4], 0xffff_ffff_8586_8788);

    // Unmapped: FAULT exit with the pc of the faulting instruction and the globals
    // written before it visible.
    let o = check(
        "bus fault",
        "  insn_start 0x2000\n  add.i64 x5, x5, $1\n  qemu_st.i64 x1, x3, uq, mmu0\n  insn_start 0x2004\n  \
         add.i64 x5, x5, $1\n  qemu_ld.i64 x2, x0, uq, mmu0\n  add.i64 x5, x5, $1\n  exit_tb 0x10\n",
        &[Init::new(&[(0, 0x100), (3, RAM_BASE), (5, 0)])],
    );
    assert_eq!(o[0].exit, ExitCode::FAULT);
    assert_eq!(o[0].fault, fault::BUS);
    assert_eq!(o[0].fault_pc, 0x2004);
    assert_eq!(o[0].fault_addr, 0x100);
    assert_eq!(o[0].regs[5], 2);

    let o = check(
        "alignment fault",
        "  insn_start 0x3000\n  qemu_ld.i64 x2, x0, uq+a, mmu0\n  exit_tb 0x10\n",
        &[Init::new(&[(0, RAM_BASE + 4)])],
    );
    assert_eq!(o[0].exit, ExitCode::FAULT);
    assert_eq!(o[0].fault, fault::ALIGNMENT);
    assert_eq!(o[0].fault_pc, 0x3000);

    // Page crossing.
    let o = check(
        "page crossing",
        "  qemu_st.i64 x1, x0, uq, mmu0\n  qemu_ld.i64 x2, x0, uq, mmu0\n  qemu_ld.i64 x3, x4, ub, mmu0\n  exit_tb 0x10\n",
        &[Init::new(&[(0, RAM_BASE + 0xffd), (1, 0x0102_0304_0506_0708), (4, RAM_BASE + 0x1000)])],
    );
    assert_eq!(o[0].regs[2], 0x0102_0304_0506_0708);
    assert_eq!(o[0].regs[3], 0x05);

    // MMIO goes to the device.
    let o = check(
        "mmio",
        "  qemu_st.i32 w17, x0, ul, mmu0\n  qemu_ld.i64 x2, x0, uw, mmu0\n  exit_tb 0x10\n",
        &[Init::new(&[(0, MMIO_BASE + 8), (17, 0xabcd)])],
    );
    assert_eq!(o[0].mmio.len(), 2);
    assert_eq!(o[0].mmio[0], (true, 8, 4, 0xabcd));
}

#[test]
fn atomics_every_op_and_size() {
    let inits = mem_inits();
    for ty in ["i64", "i32"] {
        let (d, v, c) = if ty == "i64" {
            ("x2", "x1", "x3")
        } else {
            ("w18", "w17", "w19")
        };
        for size in ["b", "w", "l", "q"] {
            if ty == "i32" && size == "q" {
                continue;
            }
            for sign in ["u", "s"] {
                for al in ["", "+a"] {
                    let m = format!("{sign}{size}{al}+x");
                    for &op in RmwOp::ALL {
                        let body = format!(
                            "  insn_start 0x4000\n  atomic_rmw.{ty} {d}, x0, {v}, {m}, mmu1, {op}\n  \
                             insn_start 0x4004\n  atomic_rmw.{ty} {c}, x0, {d}, {m}, mmu1, {op}\n  exit_tb 0x10\n",
                            op = op.name()
                        );
                        check(&format!("rmw {ty} {m} {}", op.name()), &body, &inits);
                    }
                    // cmpxchg: first with the value just read (succeeds), then a miss.
                    let body = format!(
                        "  insn_start 0x5000\n  qemu_ld.{ty} {c}, x0, {m}, mmu0\n  \
                         atomic_cmpxchg.{ty} {d}, x0, {c}, {v}, {m}, mmu0\n  \
                         atomic_cmpxchg.{ty} {c}, x0, {c}, {d}, {m}, mmu0\n  exit_tb 0x10\n"
                    );
                    check(&format!("cmpxchg {ty} {m}"), &body, &inits);
                }
            }
        }
    }
    let o = check(
        "rmw known",
        "  qemu_st.i64 x1, x0, uq, mmu0\n  atomic_rmw.i64 x2, x0, $0x5, uq, mmu0, add\n  \
         atomic_cmpxchg.i64 x3, x0, $0x0, $0x1, uq, mmu0\n  atomic_cmpxchg.i64 x4, x0, $0xf, $0x77, uq, mmu0\n  \
         qemu_ld.i64 x2, x0, uq, mmu0\n  exit_tb 0x10\n",
        &[Init::new(&[(0, RAM_BASE + 0x40), (1, 10)])],
    );
    assert_eq!(o[0].regs[2], 0x77);
    assert_eq!(o[0].regs[3], 15);
    assert_eq!(o[0].regs[4], 15);
}

#[test]
fn barriers() {
    for f in [
        "none",
        "ldld",
        "ldst",
        "stld",
        "stst",
        "ldld|ldst|stld|stst",
        "stld|stst",
    ] {
        check(
            &format!("mb {f}"),
            &format!("  qemu_st.i64 x1, x0, uq, mmu0\n  mb {f}\n  qemu_ld.i64 x2, x0, uq, mmu0\n  exit_tb 0x10\n"),
            &[Init::new(&[(0, RAM_BASE + 0x80)])],
        );
    }
}

#[test]
fn helper_calls_and_global_sync() {
    let inits: Vec<Init> = pair_inits("i64").into_iter().step_by(13).collect();
    let o = check(
        "helpers",
        "  add.i64 x0, x0, $1\n  add.i32 w16, w16, $0x2\n  call mix, x2, x0, x1\n  \
         call sum6, x3, x0, x1, x2, $0x3, $0x4, $0x5\n  call read_globals, x4, x1\n  \
         mov.i64 x1, $0x99\n  call write_globals, x5, x0\n  add.i64 x6, x1, $0\n  mov.i32 w20, w17\n  \
         call write_globals_noret, x2\n  add.i64 x7, x1, x1\n  call konst, x8\n  exit_tb 0x10\n",
        &inits,
    );
    assert_eq!(o[0].regs[8], 0x1234_5678_9abc_def0);
    assert_eq!(o[0].regs[5], 0xdead);
    // Helper output into an i32-sized use and a global read after a globals-writing helper.
    check(
        "helper i32 args",
        "  extu_i32_i64 x3, w16\n  call mix, x2, x3, x1\n  extrl_i64_i32 w18, x2\n  exit_tb 0x10\n",
        &inits,
    );
}

#[test]
fn exit_codes_pass_through() {
    for code in [0u64, 1, 2, 4, 16, 0x1234, u64::MAX] {
        let o = check("exit", &format!("  exit_tb {code:#x}\n"), &[Init::new(&[])]);
        assert_eq!(o[0].exit, code);
    }
}

#[test]
fn invalid_ir_is_rejected() {
    // No exit at the end: the verifier rejects it. Release builds verify only with
    // TCG_VERIFY=1 (`tcg_ir::verify::enabled`); unverified, the JIT still compiles it
    // safely (running off the end leaves through the loop).
    let f = parse("  add.i64 x0, x0, $1\n");
    let p = backends();
    let r = tcg_ir::Backend::compile(&p.jit, &f);
    if tcg_ir::verify::enabled() {
        assert!(matches!(r, Err(tcg_ir::BackendError::Invalid(_))));
    } else {
        assert!(r.is_ok());
    }
}

#[test]
fn code_survives_reset_and_arena_fills() {
    use tcg_ir::Backend;
    let small = backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
        arena_size: 4096,
        ..Default::default()
    })
    .unwrap();
    let f = parse("  add.i64 x0, x0, $1\n  qemu_ld.i64 x2, x0, uq, mmu0\n  exit_tb 0x10\n");
    let first = small.compile(&f).unwrap();
    assert!(first.code_size() > 0);
    let mut n = 1;
    loop {
        match small.compile(&f) {
            Ok(_) => n += 1,
            Err(tcg_ir::BackendError::CodeFull) => break,
            Err(e) => panic!("{e}"),
        }
        assert!(n < 1000);
    }
    small.reset();
    let second = small.compile(&f).unwrap();
    drop(small);
    let init = Init::new(&[(0, RAM_BASE - 1)]);
    assert_eq!(run(&*first, &init), run(&*second, &init));
}

/// Code in split writable/executable views (`-accel tcg,split-wx=on`) runs as code in one
/// read-write-execute mapping does, for Cranelift and quick code.
#[test]
fn split_wx_code_runs_like_single_mapping() {
    use tcg_ir::Backend;
    let f = parse("  add.i64 x0, x0, x1\n  mul.i64 x2, x0, $0x3\n  qemu_ld.i64 x3, x4, uq, mmu0\n  exit_tb 0x10\n");
    let init = Init::new(&[(0, 2), (1, 3), (4, RAM_BASE)]);
    // The quick generator exists on x86-64 hosts only.
    for quick in [false, cfg!(target_arch = "x86_64")] {
        let mk = |split_wx| {
            backend_cranelift::CraneliftBackend::with_options(backend_cranelift::JitOptions {
                split_wx,
                quick,
                ..Default::default()
            })
            .unwrap()
        };
        let (split, single) = (mk(true), mk(false));
        let a = run(&*split.compile(&f).unwrap(), &init);
        let b = run(&*single.compile(&f).unwrap(), &init);
        assert_eq!(a.regs[2], 15);
        assert_eq!(a, b, "quick: {quick}");
    }
}

#[test]
fn concurrent_compilation() {
    use tcg_ir::Backend;
    let p = backends();
    let f = parse("  add.i64 x0, x0, x1\n  mul.i64 x2, x0, $0x3\n  exit_tb 0x10\n");
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..50 {
                    let tb = p.jit.compile(&f).unwrap();
                    let o = run(&*tb, &Init::new(&[(0, 2), (1, 3)]));
                    assert_eq!(o.regs[2], 15);
                }
            });
        }
    });
}

#[test]
fn globals_written_on_some_paths_only() {
    let o = check(
        "write-only globals",
        "  mov.i64 x1, $0x5\n  mov.i32 w17, $0x6\n  qemu_ld.i64 x2, x0, uq, mmu0\n  brcond.i64 x2, $0x0, eq, L0\n  \
         mov.i64 x3, $0x7\n  exit_tb 0x10\nL0:\n  mov.i64 x4, $0x8\n  exit_tb 0x11\n",
        &[Init::new(&[(0, 0x100)]), Init::new(&[(0, RAM_BASE)]), Init::new(&[(0, RAM_BASE + RAM_SIZE - 1)])],
    );
    assert_eq!(o[0].exit, ExitCode::FAULT);
    assert_eq!((o[0].regs[1], o[0].regs[17] & 0xffff_ffff), (5, 6));
}
