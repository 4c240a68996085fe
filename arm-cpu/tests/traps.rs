//! Checks that the translator decides at translation time (SCTLR_EL1.SA / A): the SP
//! alignment fault and alignment-checked accesses, on both back ends. (QEMU 7.2 does not
//! implement the SP alignment check, so no guest program can compare it against QEMU.)

mod common;

use arm_cpu::except::{ec, esr};
use arm_cpu::translate::Ctl;
use common::*;
use tcg_ir::ExitCode;

const LDR_X1_SP: u32 = 0xf940_03e1; // ldr x1, [sp]
const STP_PRE_SP: u32 = 0xa9bf_7bfd; // stp x29, x30, [sp, #-16]!
const LDR_X1_X0: u32 = 0xf940_0001; // ldr x1, [x0]

#[test]
fn misaligned_sp_base_faults_only_when_sctlr_sa_is_set() {
    for be in backends() {
        for (sa, sp, code) in [
            (true, DATA + 8, LDR_X1_SP),
            (true, DATA + 24, STP_PRE_SP),
            (false, DATA + 8, LDR_X1_SP),
            (true, DATA + 16, LDR_X1_SP),
        ] {
            let mut m = Machine::new(&[code]);
            if sa {
                m.flags.ctl |= Ctl::SP_ALIGN;
            }
            m.env.sp = sp;
            let exit = m.run(&*be);
            let misaligned = sa && sp & 15 != 0;
            if misaligned {
                assert_eq!(exit, arm_cpu::exits::TRAP, "{}", be.name());
                assert_eq!(m.env.exit_info, esr(ec::SP_ALIGN, 0), "{}", be.name());
                assert_eq!(m.env.pc, RAM, "ELR is the faulting instruction");
                assert_eq!(m.env.sp, sp, "no writeback before the fault");
            } else {
                assert_eq!(
                    exit,
                    arm_cpu::exits::HVC,
                    "{}: sa {sa} sp {sp:#x}",
                    be.name()
                );
            }
        }
    }
}

#[test]
fn sctlr_a_makes_every_access_alignment_checked() {
    for be in backends() {
        for (check, addr) in [(true, DATA + 4), (false, DATA + 4), (true, DATA + 8)] {
            let mut m = Machine::new(&[LDR_X1_X0]);
            if check {
                m.flags.ctl |= Ctl::ALIGN;
            }
            m.env.x[0] = addr;
            let exit = m.run(&*be);
            if check && addr & 7 != 0 {
                assert_eq!(exit, ExitCode::FAULT, "{}", be.name());
                assert_eq!(m.env.head.fault, softmmu::fault::ALIGNMENT);
                assert_eq!(m.env.head.fault_addr, addr);
            } else {
                assert_eq!(exit, arm_cpu::exits::HVC, "{}", be.name());
            }
        }
    }
}
