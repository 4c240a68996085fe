//! How blocks end after system instructions: those that leave the TB flags as they are
//! (ISB, DAIF writes) continue through the jump cache from generated code
//! (`lookup_goto`); those that may change them (SCTLR_EL1, CPACR_EL1 writes) return to
//! the execution loop, which computes the new flags.

mod common;

use arm_cpu::translate::translate_block;
use common::{Machine, RAM};
use softmmu::PhysAddr;
use tcg_ir::{ExitCode, Opc};

/// The last two ops of the block `code` translates to (after optimisation).
fn tail(code: &[u32]) -> (Opc, Opc, u64) {
    let m = Machine::new(code);
    let page = m.phys.ram_ptr(PhysAddr(RAM), 4096).expect("ram page");
    // SAFETY: `page` is the host view of the RAM page holding the code.
    let (mut f, _, _) = unsafe { translate_block(page, RAM, m.flags) };
    tcg_opt::optimize(&mut f);
    let n = f.ops.len();
    assert!(n >= 2);
    let exit = f.ops[n - 1].cargs.first().copied().unwrap_or(u64::MAX);
    (f.ops[n - 2].opc, f.ops[n - 1].opc, exit)
}

#[test]
fn flag_preserving_system_instructions_continue_through_the_jump_cache() {
    for (name, code) in [
        ("isb", 0xd503_3fdf),
        ("msr daifclr, #2", 0xd503_42ff),
        ("msr daifset, #3", 0xd503_43df),
        ("msr daif, x1", 0xd51b_4221),
    ] {
        assert_eq!(
            tail(&[code, 0xd503_201f]),
            (Opc::LookupGoto, Opc::ExitTb, ExitCode::LOOKUP),
            "{name}"
        );
    }
}

#[test]
fn flag_changing_writes_return_to_the_loop() {
    for (name, code) in [
        ("msr sctlr_el1, x1", 0xd518_1001),
        ("msr cpacr_el1, x1", 0xd518_1041),
    ] {
        let (before, last, exit) = tail(&[code, 0xd503_201f]);
        assert_eq!((last, exit), (Opc::ExitTb, ExitCode::LOOKUP), "{name}");
        assert_ne!(before, Opc::LookupGoto, "{name}");
    }
}
