//! Instruction semantics through the whole front end (decode → translate → optimise) on
//! the interpreter, without a scheduler. Encodings come from aarch64-linux-gnu-as; the
//! expected values are the architecture's (worked out by hand in the comments).

use arm_cpu::state::CpuEnv;
use arm_cpu::translate::{translate_block, TbFlags};
use backend_interp::Interp;
use softmmu::{MemCtx, PhysAddr, PhysMap};
use std::sync::Arc;
use tcg_ir::{Backend, ExitCode};

const RAM: u64 = 0x4000_0000;
/// `hvc #0`: ends every test program.
const HVC0: u32 = 0xd400_0002;

struct Machine {
    env: Box<CpuEnv>,
    _ctx: Box<MemCtx>,
    phys: Arc<PhysMap>,
}

fn machine(code: &[u32]) -> Machine {
    let mut m = PhysMap::new();
    m.add_ram("ram", PhysAddr(RAM), 1 << 20).unwrap();
    let bytes: Vec<u8> = code
        .iter()
        .chain([HVC0].iter())
        .flat_map(|w| w.to_le_bytes())
        .collect();
    m.write_bytes(PhysAddr(RAM), &bytes).unwrap();
    let phys = Arc::new(m);
    let ctx = Box::new(MemCtx {
        phys: phys.clone(),
        walker: Box::new(softmmu::tlb::IdentityWalker),
    });
    let mut env = Box::new(CpuEnv::new(&*ctx));
    env.pc = RAM;
    env.sp = RAM + 0x8_0000;
    Machine {
        env,
        _ctx: ctx,
        phys,
    }
}

/// Runs until the final HVC (or any guest exit); returns the exit code.
fn run(m: &mut Machine) -> u64 {
    let be = Interp::new();
    for _ in 0..10_000 {
        let env: *mut CpuEnv = &mut *m.env;
        let page = m.phys.ram_ptr(PhysAddr(m.env.pc & !0xfff), 4096).unwrap();
        // SAFETY: `page` is the host view of the RAM page holding the PC.
        let (mut f, _, _) = unsafe { translate_block(page, m.env.pc, TbFlags { el: 1 }) };
        tcg_opt::optimize(&mut f);
        let tb = be.compile(&f).unwrap();
        // SAFETY: `env` is a live CpuEnv used only by this thread.
        let code = unsafe { tb.exec(env as *mut u8) };
        if code >= ExitCode::FIRST_GUEST || code == ExitCode::FAULT {
            return code;
        }
    }
    panic!("did not finish");
}

#[test]
fn adds_subs_flags_and_csel() {
    // mov x0, #-1 ; adds x1, x0, #1 ; csel x2, x0, x1, cs ; subs w3, w1, #1 ; cset x4, mi
    let mut m = machine(&[
        0x9280_0000,
        0xb100_0401,
        0x9a81_2002,
        0x7100_0423,
        0x9a9f_57e4,
    ]);
    assert_eq!(run(&mut m), arm_cpu::exits::HVC);
    let x = &m.env.x;
    assert_eq!(x[1], 0); // -1 + 1 = 0 with carry out
    assert_eq!(x[2], u64::MAX); // C set -> x0
    assert_eq!(x[3], 0xffff_ffff); // w: 0 - 1
    assert_eq!(x[4], 1); // N set by the 32-bit result
    assert_eq!(m.env.nzcv(), 0x8000_0000); // N, no borrow -> C clear
}

#[test]
fn loads_stores_and_bitfields() {
    // movz x0, #0x8081 ; str x0, [sp, #-16]! ; ldrsb x1, [sp] ; ldrh w2, [sp] ;
    // ubfx x3, x0, #4, #8 ; ldr x4, [sp], #16
    let mut m = machine(&[
        0xd290_1020,
        0xf81f_0fe0,
        0x3980_03e1,
        0x7940_03e2,
        0xd344_2c03,
        0xf841_07e4,
    ]);
    assert_eq!(run(&mut m), arm_cpu::exits::HVC);
    let x = &m.env.x;
    assert_eq!(x[1], 0xffff_ffff_ffff_ff81);
    assert_eq!(x[2], 0x8081);
    assert_eq!(x[3], 0x08);
    assert_eq!(x[4], 0x8081);
    assert_eq!(m.env.sp, RAM + 0x8_0000);
}

#[test]
fn exclusive_pair_succeeds_then_fails_without_monitor() {
    // mov x1, sp ; ldxr x2, [x1] ; add x2, x2, #5 ; stxr w3, x2, [x1] ; stxr w4, x2, [x1]
    let mut m = machine(&[
        0x9100_03e1,
        0xc85f_7c22,
        0x9100_1442,
        0xc803_7c22,
        0xc804_7c22,
    ]);
    assert_eq!(run(&mut m), arm_cpu::exits::HVC);
    assert_eq!(m.env.x[3], 0, "first store-exclusive succeeds");
    assert_eq!(m.env.x[4], 1, "second fails: the monitor was cleared");
    let mut b = [0u8; 8];
    m.phys.read_bytes(PhysAddr(m.env.sp), &mut b).unwrap();
    assert_eq!(u64::from_le_bytes(b), 5);
}

#[test]
fn unmapped_access_is_a_fault_exit() {
    // mov x0, #0x1000 ; ldr x1, [x0]
    let mut m = machine(&[0xd282_0000, 0xf940_0001]);
    assert_eq!(run(&mut m), ExitCode::FAULT);
    assert_eq!(m.env.head.fault_pc, RAM + 4);
    assert_eq!(m.env.head.fault_addr, 0x1000);
}
