//! The guest-defined exit codes the translator emits with `exit_tb` (above
//! `tcg_ir::ExitCode::FIRST_GUEST`); `env.pc` and `env.exit_info` say where and what.

use tcg_ir::ExitCode;

/// An unallocated or unimplemented instruction: `pc` at it, `exit_info` = the word.
pub const UNDEF: u64 = ExitCode::FIRST_GUEST;
/// HVC from EL1: `pc` after it, `exit_info` = imm16. PSCI goes to the board.
pub const HVC: u64 = ExitCode::FIRST_GUEST + 1;
/// WFI: `pc` after it.
pub const WFI: u64 = ExitCode::FIRST_GUEST + 2;
/// WFE: `pc` after it.
pub const WFE: u64 = ExitCode::FIRST_GUEST + 3;
/// SEV: `pc` after it.
pub const SEV: u64 = ExitCode::FIRST_GUEST + 4;
/// SVC: `pc` after it, `exit_info` = imm16.
pub const SVC: u64 = ExitCode::FIRST_GUEST + 5;
/// BRK: `pc` at it, `exit_info` = imm16.
pub const BRK: u64 = ExitCode::FIRST_GUEST + 6;
/// A generic-timer register was written: `pc` after it, `exit_info` = timer (0 virtual,
/// 1 physical). The board recomputes the timer's output.
pub const TIMER: u64 = ExitCode::FIRST_GUEST + 7;
/// An inner-shareable TLBI (already done locally): `pc` after it, `exit_info` = the
/// operation (`helpers::tlbi`); every other vCPU must do it before this one runs on.
pub const TLBI_BROADCAST: u64 = ExitCode::FIRST_GUEST + 8;
/// A trap the translator decided on (EL0 access controls): `pc` at the instruction,
/// `exit_info` = the ESR_EL1 value of the synchronous exception to take.
pub const TRAP: u64 = ExitCode::FIRST_GUEST + 9;
/// The block reached a debugger breakpoint (`vcpu_sched::debug`): `pc` at the instruction,
/// which has not run.
pub const DEBUG: u64 = ExitCode::FIRST_GUEST + 10;
