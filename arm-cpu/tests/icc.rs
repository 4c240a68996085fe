//! The GICv3 system registers (ICC_*_EL1): UNDEFINED without a GICv3 (the translator's
//! `Ctl::GICV3`), UNDEFINED in the wrong direction, and otherwise handed to the CPU
//! interface attached to the CPU's `IrqLines`, on every back end.

mod common;

use arm_cpu::irq::{CpuInterface, IccReg, IrqLines};
use arm_cpu::translate::Ctl;
use common::*;
use std::sync::{Arc, Mutex};

/// `mrs x1, <reg>` / `msr <reg>, x2` for an op0 = 3 register.
fn mrs(op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    0xd538_0000 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | 1
}
fn msr(op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    0xd518_0000 | op1 << 16 | crn << 12 | crm << 8 | op2 << 5 | 2
}

type Log = Arc<Mutex<Vec<(IccReg, Option<u64>)>>>;

struct Recorder(Log);

impl CpuInterface for Recorder {
    fn read(&self, reg: IccReg) -> u64 {
        self.0.lock().unwrap().push((reg, None));
        0x1234
    }
    fn write(&self, reg: IccReg, value: u64) {
        self.0.lock().unwrap().push((reg, Some(value)));
    }
}

#[test]
fn icc_registers_need_a_gicv3() {
    for be in backends() {
        for code in [mrs(0, 4, 6, 0), msr(0, 12, 12, 7), msr(0, 12, 11, 5)] {
            let mut m = Machine::new(&[code]);
            m.flags.ctl -= Ctl::GICV3;
            assert_eq!(
                m.run(&*be),
                arm_cpu::exits::UNDEF,
                "{code:#x} {}",
                be.name()
            );
        }
    }
}

#[test]
fn icc_accesses_reach_the_cpu_interface() {
    for be in backends() {
        let log = Log::default();
        let lines = Arc::new(IrqLines::default());
        assert!(lines.attach_cpu_interface(Box::new(Recorder(log.clone()))));
        // mrs x1, ICC_IAR1_EL1; msr ICC_EOIR1_EL1, x2; msr ICC_SGI1R_EL1, x2
        let mut m = Machine::new(&[mrs(0, 12, 12, 0), msr(0, 12, 12, 1), msr(0, 12, 11, 5)]);
        m.env.lines = Arc::as_ptr(&lines);
        m.env.x[2] = 0x1_0000_0101;
        assert_eq!(m.run(&*be), arm_cpu::exits::HVC, "{}", be.name());
        assert_eq!(m.env.x[1], 0x1234);
        assert_eq!(
            *log.lock().unwrap(),
            [
                (IccReg::Iar1, None),
                (IccReg::Eoir1, Some(0x1_0000_0101)),
                (IccReg::Sgi1r, Some(0x1_0000_0101)),
            ],
            "{}",
            be.name()
        );
        drop(m);
    }
}

#[test]
fn write_only_and_read_only_icc_registers_are_undefined_the_other_way() {
    for be in backends() {
        // Reading ICC_EOIR1_EL1, writing ICC_IAR1_EL1 / ICC_RPR_EL1.
        for code in [mrs(0, 12, 12, 1), msr(0, 12, 12, 0), msr(0, 12, 11, 3)] {
            let mut m = Machine::new(&[code]);
            assert_eq!(
                m.run(&*be),
                arm_cpu::exits::UNDEF,
                "{code:#x} {}",
                be.name()
            );
        }
    }
}

#[test]
fn id_aa64pfr0_gic_field_follows_the_board() {
    use arm_cpu::sysregs::{slot, PFR0, PFR0_GIC};
    use arm_cpu::translate::TbFlags;
    let mut m = Machine::new(&[mrs(0, 0, 4, 0)]);
    m.env.sysregs[slot::PFR0] = PFR0;
    assert!(!TbFlags::from_env(&m.env).ctl.contains(Ctl::GICV3));
    m.env.sysregs[slot::PFR0] = PFR0 | PFR0_GIC;
    assert!(TbFlags::from_env(&m.env).ctl.contains(Ctl::GICV3));
    m.env.el = 0;
    assert!(
        !TbFlags::from_env(&m.env).ctl.contains(Ctl::GICV3),
        "EL0 never reaches them"
    );
    m.env.el = 1;
    let be = &backends()[0];
    assert_eq!(m.run(&**be), arm_cpu::exits::HVC);
    assert_eq!(m.env.x[1] >> 24 & 0xf, 1);
}
