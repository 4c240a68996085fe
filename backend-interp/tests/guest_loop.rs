//! The real guest loop of the benchmarks (`benches/guest_loop`) on the interpreter and on
//! the JIT: the same final registers, chained or not, and the same state after every TB.

#[path = "../benches/guest_loop/mod.rs"]
mod guest_loop;

use backend_cranelift::CraneliftBackend;
use backend_interp::Interp;
use guest_loop::Machine;
use tcg_ir::Backend;

fn jit() -> CraneliftBackend {
    CraneliftBackend::new().expect("host JIT")
}

#[test]
fn every_tb_of_the_loop_matches_the_jit_step_by_step() {
    let (interp, jit) = (Interp::new(), jit());
    let mut mi = Machine::new(false);
    let mut mj = Machine::new(false);
    for m in [&mut mi, &mut mj] {
        m.env.x = guest_loop::REGS;
        m.env.x[1] = 3;
        (m.env.nf, m.env.zf, m.env.cf, m.env.vf) = (0, 1, 1, 0);
        m.env.pc = guest_loop::LOOP;
    }
    for step in 0..20_000 {
        if mi.env.pc == guest_loop::AFTER {
            return;
        }
        let pc = mi.env.pc;
        let ir = guest_loop::tb_ir(pc);
        let ti = interp.compile(&ir).expect("interp");
        let tj = jit.compile(&ir).expect("jit");
        // SAFETY: live envs used by this thread only.
        let (ci, cj) = unsafe {
            (
                ti.exec(&mut *mi.env as *mut _ as *mut u8),
                tj.exec(&mut *mj.env as *mut _ as *mut u8),
            )
        };
        let flags = |m: &Machine| (m.env.nf, m.env.zf, m.env.cf, m.env.vf, m.env.pc);
        assert_eq!(
            (ci, mi.env.x, flags(&mi)),
            (cj, mj.env.x, flags(&mj)),
            "step {step}: TB {pc:#x}\n{ir}"
        );
    }
    panic!("the loop did not finish");
}

#[test]
fn the_loop_gives_the_same_registers_chained_and_unchained() {
    let (interp, jit) = (Interp::new(), jit());
    let (a, _, insns) = Machine::new(false).run(&interp, 3);
    let (b, entries, _) = Machine::new(true).run(&interp, 3);
    let (c, _, _) = Machine::new(true).run(&jit, 3);
    assert_eq!(a, c);
    assert_eq!(b, c);
    assert!(
        entries < insns / 20,
        "chaining kept {entries} of {insns} entries"
    );
}
