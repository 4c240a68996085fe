//! Exception entry and return at EL1: syndrome values (ESR_EL1), the vector offsets, PSTATE
//! saving into SPSR_EL1 and restoring it on ERET.

use crate::state::CpuEnv;
use crate::sysregs::slot;

/// Exception classes (ESR_ELx.EC) this CPU raises.
pub mod ec {
    pub const UNKNOWN: u64 = 0x00;
    pub const WFX: u64 = 0x01;
    pub const FP_ACCESS: u64 = 0x07;
    pub const ILLEGAL_STATE: u64 = 0x0e;
    pub const SVC64: u64 = 0x15;
    pub const SYSREG: u64 = 0x18;
    pub const IABORT_LOWER: u64 = 0x20;
    pub const IABORT_SAME: u64 = 0x21;
    pub const PC_ALIGN: u64 = 0x22;
    pub const DABORT_LOWER: u64 = 0x24;
    pub const DABORT_SAME: u64 = 0x25;
    pub const SP_ALIGN: u64 = 0x26;
    pub const BRK64: u64 = 0x3c;
}

/// Data/instruction fault status codes (ESR ISS bits 5:0) the softmmu's own faults map to.
pub mod fsc {
    pub const SYNC_EXTERNAL: u64 = 0x10;
    pub const ALIGNMENT: u64 = 0x21;
}

/// Data abort ISS bits.
pub const ISS_WNR: u64 = 1 << 6;
pub const ISS_CM: u64 = 1 << 8;

/// ESR_EL1 for a 32-bit instruction's exception of class `ec` with syndrome `iss`.
pub fn esr(ec: u64, iss: u64) -> u64 {
    (ec << 26) | (1 << 25) | (iss & 0x1ff_ffff)
}

/// SPSR.IL: the illegal-execution-state bit.
pub const SPSR_IL: u64 = 1 << 20;

/// Which of the four entries of a vector-table quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Sync = 0,
    Irq = 1,
    Fiq = 2,
    SError = 3,
}

/// PSTATE as SPSR_EL1 stores it: NZCV, DAIF, M[3:0] = EL:SPSel (AArch64).
pub fn pstate(env: &CpuEnv) -> u64 {
    env.nzcv() | (env.daif & 0x3c0) | ((env.el & 3) << 2) | (env.spsel & 1)
}

/// Banks the current SP into the slot of the current selection.
fn bank_sp(env: &mut CpuEnv) {
    let idx = if env.spsel == 1 { env.el.min(1) } else { 0 } as usize;
    env.sp_el[idx] = env.sp;
}

/// Takes an exception of `kind` to EL1: `esr`/`far` are written when given, ELR_EL1 =
/// `elr`, SPSR_EL1 = PSTATE, then EL1h with D, A, I and F masked at the vector.
pub fn take(env: &mut CpuEnv, kind: Kind, esr: Option<u64>, far: Option<u64>, elr: u64) {
    let offset = if env.el == 0 {
        0x400
    } else if env.spsel == 1 {
        0x200
    } else {
        0
    };
    env.sysregs[slot::SPSR] = pstate(env);
    env.sysregs[slot::ELR] = elr;
    if let Some(e) = esr {
        env.sysregs[slot::ESR] = e;
    }
    if let Some(f) = far {
        env.sysregs[slot::FAR] = f;
    }
    bank_sp(env);
    env.el = 1;
    env.spsel = 1;
    env.sp = env.sp_el[1];
    env.daif = 0x3c0;
    env.excl_addr = u64::MAX;
    env.pc = (env.sysregs[slot::VBAR] & !0x7ff) + offset + 0x80 * kind as u64;
}

/// ERET from EL1: restores PSTATE from SPSR_EL1 and jumps to ELR_EL1. A return to a mode
/// this CPU does not have (AArch32, EL2/EL3) is an illegal return: the target state is not
/// entered and an Illegal Execution State exception is taken at ELR_EL1 instead.
pub fn eret(env: &mut CpuEnv) {
    let spsr = env.sysregs[slot::SPSR];
    let elr = env.sysregs[slot::ELR];
    let m = spsr & 0x1f;
    let legal = matches!(m, 0b00000 | 0b00100 | 0b00101);
    env.excl_addr = u64::MAX;
    env.set_nzcv(spsr);
    env.daif = spsr & 0x3c0;
    if !legal {
        // EL and SP stay; PSTATE.IL is set, so the instruction at ELR takes an Illegal
        // Execution State exception, which saves IL in SPSR_EL1.
        env.pc = elr;
        take(env, Kind::Sync, Some(esr(ec::ILLEGAL_STATE, 0)), None, elr);
        env.sysregs[slot::SPSR] |= SPSR_IL;
        return;
    }
    bank_sp(env);
    env.el = (m >> 2) & 1;
    env.spsel = m & 1;
    let idx = if env.spsel == 1 { env.el as usize } else { 0 };
    env.sp = env.sp_el[idx];
    env.pc = elr;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Box<CpuEnv> {
        Box::new(CpuEnv::new(std::ptr::null()))
    }

    #[test]
    fn entry_from_el0_uses_lower_el_vectors_and_banks_sp() {
        let mut e = env();
        e.sysregs[slot::VBAR] = 0x4000_0800;
        e.el = 0;
        e.spsel = 0;
        e.daif = 0;
        e.sp = 0x1000; // SP_EL0
        e.sp_el[1] = 0x2000; // SP_EL1
                             // Flags a CMP deferred: 0 - 1 gives N alone (nf..vf say otherwise).
        (e.cc_a, e.cc_b, e.cc_pending) = (0, 1, 1);
        take(&mut e, Kind::Sync, Some(esr(ec::SVC64, 7)), None, 0x1234);
        assert_eq!(e.pc, 0x4000_0800 + 0x400);
        assert_eq!(e.sysregs[slot::SPSR], 0x8000_0000);
        assert_eq!(e.sysregs[slot::ESR], 0x5600_0007);
        assert_eq!((e.el, e.spsel, e.sp, e.daif), (1, 1, 0x2000, 0x3c0));
        // The handler's own deferred compare (Z, C) is replaced by SPSR's flags.
        (e.cc_a, e.cc_b, e.cc_pending) = (5, 5, 1);
        eret(&mut e);
        assert_eq!(
            (e.el, e.spsel, e.sp, e.pc, e.daif),
            (0, 0, 0x1000, 0x1234, 0)
        );
        assert_eq!(e.nzcv(), 0x8000_0000);
    }

    #[test]
    fn irq_from_el1h_and_illegal_return() {
        let mut e = env();
        e.sysregs[slot::VBAR] = 0x8000;
        e.daif = 0;
        take(&mut e, Kind::Irq, None, None, 0x500);
        assert_eq!(e.pc, 0x8000 + 0x200 + 0x80);
        assert_eq!(e.sysregs[slot::SPSR], 0x5);
        // Return to EL2h: illegal, taken as an Illegal Execution State exception.
        e.sysregs[slot::SPSR] = 0x9;
        eret(&mut e);
        assert_eq!(e.sysregs[slot::ESR] >> 26, ec::ILLEGAL_STATE);
        assert_eq!(e.pc, 0x8000 + 0x200);
    }
}
