//! How blocks end after system instructions: those that leave the TB flags as they are
//! (ISB, DAIF and SP_EL0 writes, YIELD) continue through the jump cache from generated
//! code (`lookup_goto`); those that may change them (SCTLR_EL1, CPACR_EL1, CNTKCTL_EL1
//! writes) return to the execution loop, which computes the new flags; writes of
//! registers read only where used (ELR_EL1, VBAR_EL1, TPIDR_EL0) do not end the block.

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
        ("msr sp_el0, x1", 0xd518_4101),
        ("yield", 0xd503_203f),
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
        ("msr cntkctl_el1, x1", 0xd518_e101),
    ] {
        let (before, last, exit) = tail(&[code, 0xd503_201f]);
        assert_eq!((last, exit), (Opc::ExitTb, ExitCode::LOOKUP), "{name}");
        assert_ne!(before, Opc::LookupGoto, "{name}");
    }
}

#[test]
fn plain_register_writes_do_not_end_the_block() {
    for (name, code) in [
        ("msr elr_el1, x1", 0xd518_4021),
        ("msr vbar_el1, x1", 0xd518_c001),
        ("msr tpidr_el0, x1", 0xd51b_d041),
    ] {
        // The block runs on to the `b .` after the write (a backward branch: a chainable
        // goto_tb exit; a forward one in the page would continue the block).
        let (before, last, exit) = tail(&[code, 0x1400_0000]);
        assert_eq!(
            (before, last, exit),
            (Opc::GotoTb, Opc::ExitTb, 0),
            "{name}"
        );
    }
}
