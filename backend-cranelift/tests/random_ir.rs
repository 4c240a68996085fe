//! Random straight-line IR programs (every pure opcode over globals, locals and constants of
//! both types, env and guest memory ops into a RAM window, atomics, a helper call) must
//! leave identical state on the JIT and the interpreter.

mod common;

use common::*;
use proptest::prelude::*;
use tcg_ir::{Cond, RmwOp};

const BINARY: &[&str] = &[
    "add", "sub", "mul", "and", "or", "xor", "andc", "orc", "eqv", "shl", "shr", "sar", "rotl",
    "rotr", "div", "divu", "rem", "remu",
];
const UNARY: &[&str] = &[
    "mov", "neg", "not", "ext8s", "ext8u", "ext16s", "ext16u", "ext32s", "ext32u", "clz", "ctz",
    "ctpop", "bswap16", "bswap32", "bswap64",
];
const T64: &[&str] = &["x0", "x1", "x2", "x3", "l0", "l1"];
const T32: &[&str] = &["w16", "w17", "w18", "m0", "m1"];

/// Interesting constants mixed with the random one.
const SPECIAL: &[u64] = &[
    0,
    1,
    31,
    32,
    63,
    64,
    0x8000_0000,
    0xffff_ffff,
    1 << 63,
    u64::MAX,
];

struct Gen<'a> {
    sel: &'a [u8],
    k: u64,
    i: usize,
}

impl Gen<'_> {
    fn next(&mut self) -> usize {
        let v = self.sel[self.i % self.sel.len()] as usize;
        self.i += 1;
        v
    }
    fn operand(&mut self, is64: bool) -> String {
        let s = self.next();
        if s % 6 == 5 {
            let c = if s & 64 != 0 {
                SPECIAL[s % SPECIAL.len()]
            } else {
                self.k
            };
            let c = if is64 { c } else { c & 0xffff_ffff };
            return format!("${c:#x}");
        }
        self.dest(is64, s)
    }
    fn dest(&self, is64: bool, s: usize) -> String {
        let l = if is64 { T64 } else { T32 };
        l[s % l.len()].to_string()
    }
    fn out(&mut self, is64: bool) -> String {
        let s = self.next();
        self.dest(is64, s)
    }
    fn ty(&mut self) -> (bool, &'static str) {
        if self.next() & 1 == 0 {
            (true, "i64")
        } else {
            (false, "i32")
        }
    }
    fn memop(&mut self, is64: bool) -> String {
        let s = self.next();
        let size = if is64 { s % 4 } else { s % 3 };
        let sign = if (s >> 2) & 1 == 1 { "s" } else { "u" };
        let sign = if size == 3 { "u" } else { sign };
        let al = if (s >> 3).is_multiple_of(8) { "+a" } else { "" };
        format!("{sign}{}{al}", ["b", "w", "l", "q"][size])
    }
    fn addr(&mut self) -> String {
        // A RAM window of 4 pages (page crossings included); rarely MMIO or unmapped.
        let src = self.operand(true);
        let s = self.next();
        let base = match s % 16 {
            0 => MMIO_BASE,
            1 => 0x10_0000,
            _ => RAM_BASE + 0x1000,
        };
        format!("  and.i64 la, {src}, $0x3fff\n  add.i64 la, la, ${base:#x}\n")
    }
}

fn render(kind: u8, sel: &[u8], k: u64, pc: u64) -> String {
    let mut g = Gen { sel, k, i: 0 };
    let mut s = format!("  insn_start {pc:#x}\n");
    match kind % 16 {
        0..=2 => {
            let (is64, ty) = g.ty();
            let op = BINARY[g.next() % BINARY.len()];
            let (a, b, d) = (g.operand(is64), g.operand(is64), g.out(is64));
            s += &format!("  {op}.{ty} {d}, {a}, {b}\n");
        }
        3 | 4 => {
            let (is64, ty) = g.ty();
            let op = UNARY[g.next() % UNARY.len()];
            let (a, d) = (g.operand(is64), g.out(is64));
            s += &format!("  {op}.{ty} {d}, {a}\n");
        }
        5 => {
            let n = g.next() % 4;
            let op = [
                "extu_i32_i64",
                "exts_i32_i64",
                "extrl_i64_i32",
                "extrh_i64_i32",
            ][n];
            let is64in = n >= 2;
            let (a, d) = (g.operand(is64in), g.out(!is64in));
            s += &format!("  {op} {d}, {a}\n");
        }
        6 => {
            let (is64, ty) = g.ty();
            let w = if is64 { 64 } else { 32 };
            let pos = g.next() % w;
            let len = 1 + g.next() % (w - pos);
            let n = g.next() % 3;
            let (a, b, d) = (g.operand(is64), g.operand(is64), g.out(is64));
            s += &match n {
                0 => format!("  deposit.{ty} {d}, {a}, {b}, {pos}, {len}\n"),
                1 => format!("  extract.{ty} {d}, {a}, {pos}, {len}\n"),
                _ => format!("  sextract.{ty} {d}, {a}, {pos}, {len}\n"),
            };
        }
        7 => {
            let (is64, ty) = g.ty();
            let op = if g.next() & 1 == 0 { "mulu2" } else { "muls2" };
            let (a, b, lo, hi) = (g.operand(is64), g.operand(is64), g.out(is64), g.out(is64));
            s += &format!("  {op}.{ty} {lo}, {hi}, {a}, {b}\n");
        }
        8 => {
            let (is64, ty) = g.ty();
            let c = Cond::ALL[g.next() % Cond::ALL.len()].name();
            let (a, b, d) = (g.operand(is64), g.operand(is64), g.out(is64));
            if g.next() & 1 == 0 {
                s += &format!("  setcond.{ty} {d}, {a}, {b}, {c}\n");
            } else {
                let (v1, v2) = (g.operand(is64), g.operand(is64));
                s += &format!("  movcond.{ty} {d}, {a}, {b}, {v1}, {v2}, {c}\n");
            }
        }
        9 => {
            let (is64, ty) = g.ty();
            let m = g.memop(is64).replace("+a", "");
            let off = reg_off(0) + (k as usize % (NREGS * 8 - 8));
            if g.next() & 1 == 0 {
                let d = g.out(is64);
                s += &format!("  ld_env.{ty} {d}, {off:#x}, {m}\n");
            } else {
                let a = g.operand(is64);
                s += &format!("  st_env.{ty} {a}, {off:#x}, {m}\n");
            }
        }
        10 | 11 => {
            let (is64, ty) = g.ty();
            let m = g.memop(is64);
            let mmu = g.next() % 5;
            s += &g.addr();
            if kind % 16 == 10 {
                let d = g.out(is64);
                s += &format!("  qemu_ld.{ty} {d}, la, {m}, mmu{mmu}\n");
            } else {
                let a = g.operand(is64);
                s += &format!("  qemu_st.{ty} {a}, la, {m}, mmu{mmu}\n");
            }
        }
        12 | 13 => {
            let (is64, ty) = g.ty();
            let m = g.memop(is64);
            s += &g.addr();
            let (v, c, d) = (g.operand(is64), g.operand(is64), g.out(is64));
            if kind % 16 == 12 {
                s += &format!("  atomic_cmpxchg.{ty} {d}, la, {c}, {v}, {m}+x, mmu0\n");
            } else {
                let op = RmwOp::ALL[g.next() % RmwOp::ALL.len()].name();
                s += &format!("  atomic_rmw.{ty} {d}, la, {v}, {m}+x, mmu1, {op}\n");
            }
        }
        14 => {
            let (a, b, d) = (g.operand(true), g.operand(true), g.out(true));
            s += &format!("  call mix, {d}, {a}, {b}\n");
        }
        _ => {
            let (a, b, d) = (g.operand(true), g.operand(true), g.out(true));
            s += &format!("  call read_globals, {d}, {a}\n  call write_globals, {d}, {b}\n");
        }
    }
    s
}

fn program(ops: &[(u8, Vec<u8>, u64)]) -> String {
    let mut s = String::from(
        "local l0:i64\nlocal l1:i64\nlocal la:i64\nlocal m0:i32\nlocal m1:i32\n  \
         mov.i64 l0, x4\n  mov.i64 l1, x5\n  mov.i32 m0, w19\n  mov.i32 m1, w20\n  mov.i64 la, $0\n",
    );
    for (i, (kind, sel, k)) in ops.iter().enumerate() {
        s += &render(*kind, sel, *k, 0x8000 + 4 * i as u64);
    }
    s += "  mov.i64 x6, l0\n  mov.i64 x7, l1\n  extu_i32_i64 x8, m0\n  extu_i32_i64 x9, m1\n  exit_tb 0x10\n";
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, .. ProptestConfig::default() })]

    #[test]
    fn random_programs_agree(
        ops in prop::collection::vec((any::<u8>(), prop::collection::vec(any::<u8>(), 8), any::<u64>()), 1..40),
        regs in prop::collection::vec(any::<u64>(), 12),
        special in prop::collection::vec(0usize..SPECIAL.len(), 4),
    ) {
        let text = program(&ops);
        let mut init = Init::new(&[]);
        for (i, &r) in regs.iter().enumerate() {
            init.regs[if i < 8 { i } else { 16 + i - 8 }] = r;
        }
        let mut init2 = init.clone();
        for (i, &s) in special.iter().enumerate() {
            init2.regs[i] = SPECIAL[s];
            init2.regs[16 + i] = SPECIAL[(s + 3) % SPECIAL.len()];
        }
        init2.ram_seed = 0x55;
        check("random program", &text, &[init, init2]);
    }
}
