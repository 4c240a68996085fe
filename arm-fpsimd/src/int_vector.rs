//! (to be written)

use crate::FpRegs;
use arm_decode::Insn;

pub(crate) fn supported(_insn: &Insn) -> bool {
    false
}

pub(crate) fn exec(_regs: &mut FpRegs, _insn: &Insn, _gpr: u64) -> u64 {
    0
}
