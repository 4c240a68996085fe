//! The guest-defined exit codes the translator emits with `exit_tb` (above
//! `tcg_ir::ExitCode::FIRST_GUEST`); `env.pc` and `env.exit_info` say where and what.

use tcg_ir::ExitCode;

/// An instruction we do not implement: `pc` at it, `exit_info` = the word.
pub const UNDEF: u64 = ExitCode::FIRST_GUEST;
/// HVC: `pc` after it, `exit_info` = imm16. PSCI goes to the board.
pub const HVC: u64 = ExitCode::FIRST_GUEST + 1;
/// WFI: `pc` after it.
pub const WFI: u64 = ExitCode::FIRST_GUEST + 2;
/// WFE: `pc` after it.
pub const WFE: u64 = ExitCode::FIRST_GUEST + 3;
/// SEV: `pc` after it.
pub const SEV: u64 = ExitCode::FIRST_GUEST + 4;
/// SVC/SMC/BRK/HLT/ERET before the exception model exists: `pc` at it, `exit_info` = word.
pub const EXCEPTION_INSN: u64 = ExitCode::FIRST_GUEST + 5;
