//! Interpreter tests on IR text: arithmetic edge cases, control flow, env and guest memory,
//! helpers and the exit protocol.

use backend_interp::Interp;
use softmmu::{EnvHead, MemCtx, PhysAddr, PhysMap};
use std::sync::Arc;
use tcg_ir::semantics;
use tcg_ir::text::parse;
use tcg_ir::{Backend, BackendError, ExitCode, Helper, HelperFlags, Opc, Type};

#[repr(C)]
struct Env {
    head: EnvHead,
    regs: [u64; 32],
}

const RAM: u64 = 0x4000_0000;

fn reg_off(i: usize) -> usize {
    std::mem::offset_of!(Env, regs) + 8 * i
}

/// Declarations `x0..x7:i64` at regs[0..8] and `w8..w11:i32` at regs[8..12].
fn decls() -> String {
    let mut s = String::new();
    for i in 0..8 {
        s += &format!("global x{i}:i64 @{:#x}\n", reg_off(i));
    }
    for i in 8..12 {
        s += &format!("global w{i}:i32 @{:#x}\n", reg_off(i));
    }
    s
}

fn setup() -> (Box<MemCtx>, Box<Env>) {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 0x10_0000).unwrap();
    let ctx = Box::new(MemCtx {
        phys: Arc::new(m),
        walker: Box::new(softmmu::tlb::IdentityWalker),
    });
    let env = Box::new(Env {
        head: EnvHead::new(&*ctx),
        regs: [0; 32],
    });
    (ctx, env)
}

fn run_with(src: &str, helpers: &[&'static Helper], env: &mut Env) -> u64 {
    let text = decls() + src;
    let f = parse(&text, helpers).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let tb = Interp::new()
        .compile(&f)
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(tb.code_size() > 0);
    // SAFETY: env is a live Env whose head points at a live MemCtx.
    unsafe { tb.exec(env as *mut Env as *mut u8) }
}

fn run(src: &str, regs: &[u64]) -> (u64, [u64; 32]) {
    let (_ctx, mut env) = setup();
    env.regs[..regs.len()].copy_from_slice(regs);
    let code = run_with(src, &[], &mut env);
    (code, env.regs)
}

#[test]
fn division_and_shift_edge_cases() {
    let (code, r) = run(
        "  div.i64 x0, x1, x2
  remu.i64 x3, x1, x2
  div.i32 w8, w9, w10
  rem.i32 w11, w9, w10
  shl.i32 w9, w9, $0x21
  sar.i64 x4, x5, $0x41
  exit_tb 0x11
",
        &[
            0,
            7,
            0,
            0,
            0,
            0x8000_0000_0000_0000,
            0,
            0,
            0,
            0x8000_0000,
            0xffff_ffff,
        ],
    );
    assert_eq!(code, 0x11);
    assert_eq!(r[0], 0, "x/0 = 0");
    assert_eq!(r[3], 7, "x%0 = x");
    assert_eq!(r[8], 0x8000_0000, "MIN/-1 = MIN");
    assert_eq!(r[11], 0, "MIN%-1 = 0");
    assert_eq!(r[9], 0, "0x80000000 << 1 in 32 bits");
    assert_eq!(r[4], 0xc000_0000_0000_0000, "sar by 65 = by 1");
}

#[test]
fn i32_results_are_zero_extended_in_env() {
    let (_, r) = run(
        "  sub.i32 w8, w8, $0x1
  add.i32 w9, w9, $0xffffffff
  ext8s.i32 w10, w10
  exit_tb 0
",
        &[
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0xdead_beef_0000_0000,
            0xaaaa_aaaa_0000_0000,
            0x80,
        ],
    );
    // Only the low 4 bytes of an i32 global's 8-byte slot are written.
    assert_eq!(r[8], 0xdead_beef_ffff_ffff);
    assert_eq!(r[9], 0xaaaa_aaaa_ffff_ffff);
    assert_eq!(r[10], 0xffff_ff80);
}

#[test]
fn bitfields_counts_conversions_and_wide_multiply() {
    let (_, r) = run(
        "local t:i32
local u:i32
  deposit.i64 x0, x0, x1, 8, 0x10
  sextract.i64 x2, x1, 4, 4
  clz.i64 x3, x4
  ctz.i32 w8, w8
  extrh_i64_i32 t, x1
  extu_i32_i64 x5, t
  exts_i32_i64 x6, w9
  muls2.i64 x4, x7, x7, $0x2
  bswap32.i32 w10, w10
  extrl_i64_i32 u, x1
  mov.i32 w11, u
  exit_tb 0
",
        &[
            0xffff_ffff_ffff_ffff,
            0x1234_5678_9abc_def8,
            0,
            0,
            0,
            0,
            0,
            0xffff_ffff_ffff_ffff,
            0,
            0x8000_0001,
            0x1122_3344,
        ],
    );
    assert_eq!(r[0], 0xffff_ffff_ffde_f8ff);
    assert_eq!(r[2], 0xffff_ffff_ffff_ffff, "sextract of 0xf");
    assert_eq!(r[3], 64, "clz 0");
    assert_eq!(r[8], 32, "ctz.i32 0");
    assert_eq!(r[5], 0x1234_5678, "extrh then extu");
    assert_eq!(r[6], 0xffff_ffff_8000_0001);
    assert_eq!(
        (r[4], r[7]),
        (0xffff_ffff_ffff_fffe, 0xffff_ffff_ffff_ffff),
        "-1 * 2 signed"
    );
    assert_eq!(r[10], 0x4433_2211);
    assert_eq!(r[11], 0x9abc_def8);
}

#[test]
fn setcond_and_movcond() {
    let (_, r) = run(
        "  setcond.i64 x0, x1, x2, lt
  setcond.i64 x3, x1, x2, ltu
  movcond.i32 w8, w9, $0x0, w10, w11, tsteq
  setcond.i32 w9, w9, $0x7fffffff, gt
  exit_tb 0
",
        &[9, u64::MAX, 1, 9, 0, 0, 0, 0, 0, 0x8000_0000, 5, 6],
    );
    assert_eq!(r[0], 1);
    assert_eq!(r[3], 0);
    assert_eq!(r[8], 5);
    assert_eq!(r[9], 0, "0x80000000 is negative as i32");
}

/// Deterministic xorshift for the cross-check below.
fn rng(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

fn interesting(s: &mut u64, ty: Type) -> u64 {
    let v = match rng(s) % 6 {
        0 => 0,
        1 => 1,
        2 => u64::MAX,
        3 => 1u64 << (ty.bits() - 1),
        4 => rng(s) % 70,
        _ => rng(s),
    };
    v & ty.mask()
}

/// Every pure one- and two-input op (specialised or not) agrees with `tcg_ir::semantics`.
#[test]
fn every_pure_op_matches_semantics() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for &opc in Opc::ALL {
        let d = opc.def();
        if !d.flags.contains(tcg_ir::OpFlags::PURE) || !d.cargs.is_empty() || d.nb_oargs != 1 {
            continue;
        }
        if d.flags.contains(tcg_ir::OpFlags::UNTYPED) {
            continue; // conversions are covered above
        }
        for ty in [Type::I32, Type::I64] {
            let (dst, a, b) = if ty == Type::I64 {
                ("x0", "x1", "x2")
            } else {
                ("w8", "w9", "w10")
            };
            let src = if d.nb_iargs == 1 {
                format!("  {}.{ty} {dst}, {a}\n  exit_tb 0\n", opc.name())
            } else {
                format!("  {}.{ty} {dst}, {a}, {b}\n  exit_tb 0\n", opc.name())
            };
            let f = parse(&(decls() + &src), &[]).unwrap();
            let tb = Interp::new().compile(&f).unwrap();
            let (_ctx, mut env) = setup();
            for _ in 0..200 {
                let (x, y) = (interesting(&mut seed, ty), interesting(&mut seed, ty));
                let want = if d.nb_iargs == 1 {
                    semantics::eval_unary(opc, ty, x)
                } else {
                    semantics::eval_binary(opc, ty, x, y)
                }
                .unwrap();
                let (ia, ib, id) = if ty == Type::I64 {
                    (1, 2, 0)
                } else {
                    (9, 10, 8)
                };
                env.regs[ia] = x;
                env.regs[ib] = y;
                env.regs[id] = 0;
                // SAFETY: as in run_with.
                unsafe { tb.exec(&mut *env as *mut Env as *mut u8) };
                assert_eq!(env.regs[id], want, "{}.{ty} {x:#x}, {y:#x}", opc.name());
            }
        }
    }
}

#[test]
fn counted_loop_with_backward_branch() {
    let (code, r) = run(
        "local i:i64
local s:i64
  mov.i64 i, $0x0
  mov.i64 s, $0x0
L0:
  add.i64 i, i, $0x1
  add.i64 s, s, i
  brcond.i64 i, x0, ltu, L0
  mov.i64 x1, s
  brcond.i64 s, $0x1000, geu, L1
  exit_tb 0x20
L1:
  exit_tb 0x21
",
        &[100],
    );
    assert_eq!(r[1], 5050);
    assert_eq!(code, 0x21);
}

#[test]
fn goto_tb_and_br_skip_code() {
    let (code, r) = run(
        "  br L0
  mov.i64 x0, $0x1
L0:
  goto_tb 1
  exit_tb 1
",
        &[7],
    );
    assert_eq!((code, r[0]), (ExitCode::GOTO_TB1, 7));
}

#[test]
fn env_loads_and_stores() {
    let off = reg_off(20);
    let src = format!(
        "local t:i64
  ld_env.i64 t, {off:#x}, sb
  mov.i64 x0, t
  ld_env.i32 w8, {o1:#x}, uw
  st_env.i64 x1, {o2:#x}, ul
  ld_env.i64 x2, {o2:#x}, sl
  exit_tb 0
",
        o1 = off + 1,
        o2 = reg_off(21)
    );
    let (_ctx, mut env) = setup();
    env.regs[20] = 0x1234_5680;
    env.regs[1] = 0xffff_ffff_8765_4321;
    env.regs[21] = 0xaaaa_aaaa_aaaa_aaaa;
    run_with(&src, &[], &mut env);
    assert_eq!(env.regs[0], 0xffff_ffff_ffff_ff80);
    assert_eq!(env.regs[8], 0x3456);
    assert_eq!(env.regs[21], 0xaaaa_aaaa_8765_4321);
    assert_eq!(env.regs[2], 0xffff_ffff_8765_4321);
}

#[test]
fn guest_memory_round_trip_and_atomics() {
    let (_ctx, mut env) = setup();
    env.regs[0] = RAM + 0x100;
    env.regs[1] = 0x8877_6655_4433_2211;
    let code = run_with(
        "local a:i64
  insn_start 0x1000
  qemu_st.i64 x1, x0, uq, mmu0
  qemu_ld.i64 x2, x0, sb+a, mmu0
  add.i64 a, x0, $0x7
  qemu_ld.i32 w8, a, sb, mmu0
  atomic_cmpxchg.i64 x3, x0, x1, $0x5, uq+a+x, mmu0
  atomic_rmw.i32 w9, x0, $0x3, ul+a, mmu0, add
  qemu_ld.i64 x4, x0, uq, mmu0
  exit_tb 0x10
",
        &[],
        &mut env,
    );
    assert_eq!(code, 0x10);
    assert_eq!(env.regs[2], 0x11);
    assert_eq!(env.regs[8], 0xffff_ff88, "sign-extended byte masked to i32");
    assert_eq!(env.regs[3], 0x8877_6655_4433_2211, "cmpxchg returns old");
    assert_eq!(env.regs[9], 5, "rmw returns old low word");
    assert_eq!(env.regs[4], 8);
}

#[test]
fn guest_fault_exits_with_pc_and_stops() {
    let (_ctx, mut env) = setup();
    env.regs[0] = 0x100; // nothing mapped there
    let code = run_with(
        "  insn_start 0x1000
  mov.i64 x1, $0x1
  insn_start 0x1004
  qemu_ld.i64 x2, x0, uq, mmu0
  mov.i64 x3, $0x1
  exit_tb 0x10
",
        &[],
        &mut env,
    );
    assert_eq!(code, ExitCode::FAULT);
    assert_eq!(env.head.fault, softmmu::fault::BUS);
    assert_eq!(env.head.fault_pc, 0x1004);
    assert_eq!(env.head.fault_addr, 0x100);
    assert_eq!(
        (env.regs[1], env.regs[3]),
        (1, 0),
        "globals before the fault are in env"
    );

    // An alignment fault on a store, with no insn_start: pc 0.
    let (_ctx, mut env) = setup();
    env.regs[0] = RAM + 1;
    let code = run_with(
        "  qemu_st.i32 w8, x0, ul+a, mmu0\n  exit_tb 0\n",
        &[],
        &mut env,
    );
    assert_eq!(code, ExitCode::FAULT);
    assert_eq!(env.head.fault, softmmu::fault::ALIGNMENT);
    assert_eq!(env.head.fault_pc, 0);
}

extern "C" fn helper_mix(env: *mut u8, a: u64, b: u64) -> u64 {
    // Writes a global behind the IR's back, as helpers may.
    // SAFETY: env is the Env the test passed to exec.
    unsafe { (env.add(reg_off(7)) as *mut u64).write(a ^ b) };
    a.wrapping_mul(3).wrapping_add(b)
}

extern "C" fn helper_six(_env: *mut u8, a: u64, b: u64, c: u64, d: u64, e: u64, f: u64) -> u64 {
    a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f
}

extern "C" fn helper_noret(env: *mut u8) -> u64 {
    // SAFETY: as in helper_mix.
    unsafe { (env.add(reg_off(6)) as *mut u64).write(66) };
    0
}

static MIX: Helper = Helper {
    name: "mix",
    addr: 0,
    nargs: 2,
    has_ret: true,
    flags: HelperFlags::empty(),
};

fn helpers() -> [&'static Helper; 3] {
    // Function addresses are not constants, so the statics are built once at run time.
    let mix: &'static Helper = Box::leak(Box::new(Helper {
        addr: helper_mix as *const () as usize,
        ..MIX
    }));
    let six: &'static Helper = Box::leak(Box::new(Helper {
        name: "six",
        addr: helper_six as *const () as usize,
        nargs: 6,
        has_ret: true,
        flags: HelperFlags::NO_READ_GLOBALS
            | HelperFlags::NO_WRITE_GLOBALS
            | HelperFlags::NO_SIDE_EFFECTS,
    }));
    let noret: &'static Helper = Box::leak(Box::new(Helper {
        name: "noret",
        addr: helper_noret as *const () as usize,
        nargs: 0,
        has_ret: false,
        flags: HelperFlags::empty(),
    }));
    [mix, six, noret]
}

#[test]
fn helper_calls_pass_args_and_see_env() {
    let (_ctx, mut env) = setup();
    env.regs[0] = 10;
    let code = run_with(
        "local r:i64
  call mix, r, x0, $0x5
  mov.i64 x1, r
  add.i64 x2, x7, $0x0
  call six, x3, $0x1, $0x1, $0x1, $0x1, $0x1, $0x2
  call noret
  exit_tb 0x10
",
        &helpers(),
        &mut env,
    );
    assert_eq!(code, 0x10);
    assert_eq!(env.regs[1], 35);
    assert_eq!(
        env.regs[2],
        10 ^ 5,
        "the global written by the helper is re-read"
    );
    assert_eq!(env.regs[3], 1 + 2 + 3 + 4 + 5 + 12);
    assert_eq!(env.regs[6], 66);
}

#[test]
fn helper_without_address_is_rejected() {
    let f = parse(
        &(decls() + "  call mix, x0, x0, x1\n  exit_tb 0\n"),
        &[&MIX],
    )
    .unwrap();
    assert!(matches!(
        Interp::new().compile(&f),
        Err(BackendError::Invalid(_))
    ));
}

#[test]
fn exit_request_runs_nothing() {
    let (_ctx, mut env) = setup();
    env.head.request_exit();
    let code = run_with("  mov.i64 x0, $0x1\n  exit_tb 0x10\n", &[], &mut env);
    assert_eq!(code, ExitCode::REQUESTED);
    assert_eq!(env.regs[0], 0);
}

#[test]
fn invalid_ir_is_rejected() {
    for src in [
        "  add.i64 x0, x0, w8\n  exit_tb 0\n",
        "  br L3\n",
        "  mov.i64 x0, $0x1\n",
    ] {
        let f = parse(&(decls() + src), &[]).unwrap();
        assert!(
            matches!(Interp::new().compile(&f), Err(BackendError::Invalid(_))),
            "{src}"
        );
    }
}

#[test]
fn many_temps_use_a_heap_frame() {
    // More slots than the largest stack frame: 600 locals chained through adds.
    let mut src = String::new();
    for i in 0..600 {
        src += &format!("local t{i}:i64\n");
    }
    src += "  mov.i64 t0, x0\n";
    for i in 1..600 {
        src += &format!("  add.i64 t{i}, t{}, $0x1\n", i - 1);
    }
    src += "  mov.i64 x1, t599\n  mb ldld|stld\n  exit_tb 0\n";
    let (_, r) = run(&src, &[1]);
    assert_eq!(r[1], 600);
}

#[test]
fn dead_moves_and_unread_locals_compile_and_run() {
    // Moves whose outputs nobody reads (unoptimised IR), into locals and globals.
    let (r, regs) = run(
        "local t0:i64
local t1:i64
  insn_start 0x1000
  mov.i64 t0, x1
  add.i64 t1, x1, $0x1
  mov.i64 x2, t1
  exit_tb 0x10
",
        &[0, 41],
    );
    assert_eq!((r, regs[2]), (0x10, 42));
}

#[test]
fn copies_of_globals_survive_env_writes_that_reload_them() {
    // `t = x4` must keep the old value across an st_env that rewrites x4's bytes.
    let off = reg_off(4);
    let (r, regs) = run(
        &format!(
            "local t0:i64
  insn_start 0x1000
  mov.i64 t0, x4
  st_env.i64 x0, {off:#x}, ub
  mov.i64 x6, t0
  exit_tb 0x10
"
        ),
        &[0xff, 0, 0, 0, 0x1234],
    );
    assert_eq!((r, regs[4], regs[6]), (0x10, 0x12ff, 0x1234));
}

#[test]
fn a_local_read_before_its_def_stays_zero_when_coalesced() {
    // `u2` is read undefined (zero) before it is defined and moved to w9: coalescing it
    // into w9 must not make that first read see w9.
    let (r, regs) = run(
        "local u0:i32
local u2:i32
  insn_start 0x1000
  mov.i32 u0, u2
  setcond.i32 u2, w8, $0x5, geu
  mov.i32 w9, u2
  mov.i32 w10, u0
  exit_tb 0x10
",
        &[0, 0, 0, 0, 0, 0, 0, 0, 7, 0x1234, 0x5678],
    );
    assert_eq!((r, regs[9], regs[10]), (0x10, 1, 0));
}
