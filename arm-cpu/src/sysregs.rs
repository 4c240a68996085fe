//! The system registers this CPU implements, in one table: how each reads and writes.
//!
//! ID registers describe a Cortex-A57-class ARMv8.0 core with only what is implemented:
//! AArch64 EL0/EL1, FP/AdvSIMD with half precision, AES/SHA1/SHA256, no EL2/EL3.

use crate::translate::Ctl;
use arm_decode::SysReg;
use std::sync::LazyLock;

/// How a register is read and written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Read-only constant.
    Const(u64),
    /// Plain storage in `CpuEnv::sysregs[slot]`; writes are masked by `wmask`.
    Stored {
        slot: usize,
        wmask: u64,
        readonly: bool,
    },
    CurrentEl,
    Nzcv,
    Daif,
    SpSel,
    SpEl0,
    /// CNTVCT_EL0 / CNTPCT_EL0: the host monotonic clock at CNTFRQ.
    Counter,
    /// Reads as zero, writes ignored (debug registers of a debugger-less machine).
    RazWi,
    /// Stored like `Stored`, and a write that changes the value flushes this CPU's TLB
    /// (SCTLR, TCR, TTBR0/1: the translation regime changed).
    Mmu {
        slot: usize,
        wmask: u64,
    },
    /// A generic-timer register: CTL (ISTATUS computed), CVAL or TVAL of `timer`.
    Timer(crate::Timer, TimerReg),
    /// ISR_EL1: the pending IRQ/FIQ inputs.
    Isr,
    /// FPCR/FPSR: a u64 in `CpuEnv::fp` at `offset`; writes are masked by `wmask`.
    FpCtl {
        offset: u32,
        wmask: u64,
    },
    /// A GICv3 CPU-interface register, handled by the board's GIC through
    /// [`crate::irq::CpuInterface`]; UNDEFINED unless the CPU has a GICv3
    /// ([`crate::ArmCpu::set_gicv3`]).
    Icc(crate::irq::IccReg),
}

/// Which register of a timer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerReg {
    Ctl = 0,
    Cval = 1,
    Tval = 2,
}

pub struct Def {
    pub reg: SysReg,
    pub name: &'static str,
    pub kind: Kind,
}

/// The generic timer frequency (the value QEMU's virt board reports).
pub const CNTFRQ_HZ: u64 = 62_500_000;
/// QEMU's cortex-a57 MIDR (the reset value of every CPU).
pub const MIDR: u64 = 0x411f_d070;

macro_rules! stored {
    ($($slot:ident = $n:literal),* $(,)?) => {
        /// Slots of `CpuEnv::sysregs`.
        pub mod slot { $(pub const $slot: usize = $n;)* }
    };
}

stored! {
    MPIDR = 0, SCTLR = 1, CPACR = 2, TTBR0 = 3, TTBR1 = 4, TCR = 5, SPSR = 6, ELR = 7,
    ESR = 8, FAR = 9, PAR = 10, MAIR = 11, AMAIR = 12, VBAR = 13, CONTEXTIDR = 14,
    TPIDR_EL1 = 15, TPIDR_EL0 = 16, TPIDRRO_EL0 = 17, CNTKCTL = 18, CNTV_CTL = 19,
    CNTV_CVAL = 20, CNTP_CTL = 21, CNTP_CVAL = 22, MDSCR = 23, CSSELR = 24, AFSR0 = 25,
    AFSR1 = 26, OSDLR = 27, MIDR = 28, PFR0 = 29,
}
pub const NUM_STORED: usize = 30;

const fn rw(slot: usize) -> Kind {
    Kind::Stored {
        slot,
        wmask: u64::MAX,
        readonly: false,
    }
}

/// ID_AA64PFR0_EL1 without a GICv3 system-register interface: EL0 and EL1 AArch64 only;
/// FP (19:16) and AdvSIMD (23:20) = 1: with half precision.
pub const PFR0: u64 = 0x0011_0011;
/// ID_AA64PFR0_EL1.GIC = 1: the GICv3 CPU interface system registers are implemented.
pub const PFR0_GIC: u64 = 1 << 24;

/// SCTLR_EL1 reset value: the RES1 bits of ARMv8.0 (MMU and caches off).
pub const SCTLR_RESET: u64 = 0x30d0_0800;

pub static TABLE: &[Def] = &[
    Def {
        reg: SysReg::MIDR_EL1,
        name: "MIDR_EL1",
        // Per CPU (the board picks the model, `ArmCpu::set_midr`); [`MIDR`] by default.
        kind: Kind::Stored {
            slot: slot::MIDR,
            wmask: 0,
            readonly: true,
        },
    },
    Def {
        reg: SysReg::MPIDR_EL1,
        name: "MPIDR_EL1",
        kind: Kind::Stored {
            slot: slot::MPIDR,
            wmask: 0,
            readonly: true,
        },
    },
    Def {
        reg: SysReg::REVIDR_EL1,
        name: "REVIDR_EL1",
        kind: Kind::Const(0),
    },
    // Per CPU: [`PFR0`], with GIC (27:24) = 1 when the board has a GICv3.
    Def {
        reg: SysReg::ID_AA64PFR0_EL1,
        name: "ID_AA64PFR0_EL1",
        kind: Kind::Stored {
            slot: slot::PFR0,
            wmask: 0,
            readonly: true,
        },
    },
    Def {
        reg: SysReg::ID_AA64PFR1_EL1,
        name: "ID_AA64PFR1_EL1",
        kind: Kind::Const(0),
    },
    Def {
        reg: SysReg::ID_AA64DFR0_EL1,
        name: "ID_AA64DFR0_EL1",
        // Debug v8.0, 2 breakpoints, 2 watchpoints (the architectural minimum; their
        // registers exist but never fire), no PMU, no trace.
        kind: Kind::Const(0x0010_1006),
    },
    Def {
        reg: SysReg::ID_AA64ISAR0_EL1,
        name: "ID_AA64ISAR0_EL1",
        // Atomic (23:20) = 2: LSE atomics; CRC32 (19:16) = 1; SHA2 (15:12) = 1: SHA256;
        // SHA1 (11:8) = 1; AES (7:4) = 2: AES and PMULL/PMULL2 on 64-bit lanes.
        kind: Kind::Const(0x0021_1120),
    },
    Def {
        reg: SysReg::ID_AA64ISAR1_EL1,
        name: "ID_AA64ISAR1_EL1",
        // SB (39:36) = 1; LRCPC (23:20) = 1: LDAPR*.
        kind: Kind::Const(0x0000_0010_0010_0000),
    },
    // 40-bit PA, 16-bit ASIDs, 4K, 16K and 64K granules, little-endian only.
    Def {
        reg: SysReg::ID_AA64MMFR0_EL1,
        name: "ID_AA64MMFR0_EL1",
        kind: Kind::Const(0x0010_0022),
    },
    Def {
        reg: SysReg::ID_AA64MMFR1_EL1,
        name: "ID_AA64MMFR1_EL1",
        kind: Kind::Const(0),
    },
    Def {
        reg: SysReg::ID_AA64MMFR2_EL1,
        name: "ID_AA64MMFR2_EL1",
        kind: Kind::Const(0),
    },
    Def {
        reg: SysReg::CTR_EL0,
        name: "CTR_EL0",
        kind: Kind::Const(0x8444_c004),
    },
    // DC ZVA zeroes 64-byte blocks (2^4 words).
    Def {
        reg: SysReg::DCZID_EL0,
        name: "DCZID_EL0",
        kind: Kind::Const(0x4),
    },
    Def {
        reg: SysReg::CLIDR_EL1,
        name: "CLIDR_EL1",
        kind: Kind::Const(0x0a20_0023),
    },
    Def {
        reg: SysReg::CCSIDR_EL1,
        name: "CCSIDR_EL1",
        kind: Kind::Const(0x701f_e00a),
    },
    Def {
        reg: SysReg::CSSELR_EL1,
        name: "CSSELR_EL1",
        kind: rw(slot::CSSELR),
    },
    Def {
        reg: SysReg::SCTLR_EL1,
        name: "SCTLR_EL1",
        kind: Kind::Mmu {
            slot: slot::SCTLR,
            wmask: u64::MAX,
        },
    },
    Def {
        reg: SysReg::CPACR_EL1,
        name: "CPACR_EL1",
        kind: rw(slot::CPACR),
    },
    Def {
        reg: SysReg::TTBR0_EL1,
        name: "TTBR0_EL1",
        kind: Kind::Mmu {
            slot: slot::TTBR0,
            wmask: u64::MAX,
        },
    },
    Def {
        reg: SysReg::TTBR1_EL1,
        name: "TTBR1_EL1",
        kind: Kind::Mmu {
            slot: slot::TTBR1,
            wmask: u64::MAX,
        },
    },
    Def {
        reg: SysReg::TCR_EL1,
        name: "TCR_EL1",
        kind: Kind::Mmu {
            slot: slot::TCR,
            wmask: u64::MAX,
        },
    },
    Def {
        reg: SysReg::SPSR_EL1,
        name: "SPSR_EL1",
        kind: rw(slot::SPSR),
    },
    Def {
        reg: SysReg::ELR_EL1,
        name: "ELR_EL1",
        kind: rw(slot::ELR),
    },
    Def {
        reg: SysReg::ESR_EL1,
        name: "ESR_EL1",
        kind: rw(slot::ESR),
    },
    Def {
        reg: SysReg::FAR_EL1,
        name: "FAR_EL1",
        kind: rw(slot::FAR),
    },
    Def {
        reg: SysReg::PAR_EL1,
        name: "PAR_EL1",
        kind: rw(slot::PAR),
    },
    Def {
        reg: SysReg::MAIR_EL1,
        name: "MAIR_EL1",
        kind: Kind::Mmu {
            slot: slot::MAIR,
            wmask: u64::MAX,
        },
    },
    Def {
        reg: SysReg::AMAIR_EL1,
        name: "AMAIR_EL1",
        kind: rw(slot::AMAIR),
    },
    Def {
        reg: SysReg::VBAR_EL1,
        name: "VBAR_EL1",
        kind: Kind::Stored {
            slot: slot::VBAR,
            wmask: !0x7ff,
            readonly: false,
        },
    },
    Def {
        reg: SysReg::CONTEXTIDR_EL1,
        name: "CONTEXTIDR_EL1",
        kind: rw(slot::CONTEXTIDR),
    },
    Def {
        reg: SysReg::TPIDR_EL1,
        name: "TPIDR_EL1",
        kind: rw(slot::TPIDR_EL1),
    },
    Def {
        reg: SysReg::TPIDR_EL0,
        name: "TPIDR_EL0",
        kind: rw(slot::TPIDR_EL0),
    },
    Def {
        reg: SysReg::TPIDRRO_EL0,
        name: "TPIDRRO_EL0",
        kind: rw(slot::TPIDRRO_EL0),
    },
    Def {
        reg: SysReg::CNTKCTL_EL1,
        name: "CNTKCTL_EL1",
        kind: rw(slot::CNTKCTL),
    },
    Def {
        reg: SysReg::CNTV_CTL_EL0,
        name: "CNTV_CTL_EL0",
        kind: Kind::Timer(crate::Timer::Virt, TimerReg::Ctl),
    },
    Def {
        reg: SysReg::CNTV_CVAL_EL0,
        name: "CNTV_CVAL_EL0",
        kind: Kind::Timer(crate::Timer::Virt, TimerReg::Cval),
    },
    Def {
        reg: SysReg::CNTP_CTL_EL0,
        name: "CNTP_CTL_EL0",
        kind: Kind::Timer(crate::Timer::Phys, TimerReg::Ctl),
    },
    Def {
        reg: SysReg::CNTP_CVAL_EL0,
        name: "CNTP_CVAL_EL0",
        kind: Kind::Timer(crate::Timer::Phys, TimerReg::Cval),
    },
    Def {
        reg: SysReg::FPCR,
        name: "FPCR",
        kind: Kind::FpCtl {
            offset: crate::state::off::FPCR,
            wmask: arm_fpsimd::regs::FPCR_MASK,
        },
    },
    Def {
        reg: SysReg::FPSR,
        name: "FPSR",
        kind: Kind::FpCtl {
            offset: crate::state::off::FPSR,
            wmask: arm_fpsimd::regs::FPSR_MASK,
        },
    },
    Def {
        reg: SysReg::MDSCR_EL1,
        name: "MDSCR_EL1",
        kind: rw(slot::MDSCR),
    },
    Def {
        reg: SysReg::AFSR0_EL1,
        name: "AFSR0_EL1",
        kind: rw(slot::AFSR0),
    },
    Def {
        reg: SysReg::AFSR1_EL1,
        name: "AFSR1_EL1",
        kind: rw(slot::AFSR1),
    },
    Def {
        reg: SysReg::OSLAR_EL1,
        name: "OSLAR_EL1",
        kind: Kind::RazWi,
    },
    Def {
        reg: SysReg::OSDLR_EL1,
        name: "OSDLR_EL1",
        kind: rw(slot::OSDLR),
    },
    Def {
        reg: SysReg::CNTFRQ_EL0,
        name: "CNTFRQ_EL0",
        kind: Kind::Const(CNTFRQ_HZ),
    },
    Def {
        reg: SysReg::CNTVCT_EL0,
        name: "CNTVCT_EL0",
        kind: Kind::Counter,
    },
    Def {
        reg: SysReg::CNTPCT_EL0,
        name: "CNTPCT_EL0",
        kind: Kind::Counter,
    },
    Def {
        reg: SysReg::new(3, 3, 14, 3, 0),
        name: "CNTV_TVAL_EL0",
        kind: Kind::Timer(crate::Timer::Virt, TimerReg::Tval),
    },
    Def {
        reg: SysReg::new(3, 3, 14, 2, 0),
        name: "CNTP_TVAL_EL0",
        kind: Kind::Timer(crate::Timer::Phys, TimerReg::Tval),
    },
    Def {
        reg: SysReg::new(3, 0, 12, 1, 0),
        name: "ISR_EL1",
        kind: Kind::Isr,
    },
    Def {
        reg: SysReg::new(2, 0, 0, 2, 0),
        name: "MDCCINT_EL1",
        kind: Kind::RazWi,
    },
    Def {
        reg: SysReg::new(2, 0, 1, 0, 0),
        name: "MDRAR_EL1",
        kind: Kind::Const(0),
    },
    // OS lock implemented (OSLM = 0b10), unlocked.
    Def {
        reg: SysReg::new(2, 0, 1, 1, 4),
        name: "OSLSR_EL1",
        kind: Kind::Const(0x8),
    },
    Def {
        reg: SysReg::new(2, 0, 1, 4, 4),
        name: "DBGPRCR_EL1",
        kind: Kind::RazWi,
    },
    Def {
        reg: SysReg::new(2, 0, 7, 8, 6),
        name: "DBGCLAIMSET_EL1",
        kind: Kind::RazWi,
    },
    Def {
        reg: SysReg::new(2, 0, 7, 9, 6),
        name: "DBGCLAIMCLR_EL1",
        kind: Kind::RazWi,
    },
    Def {
        reg: SysReg::CURRENT_EL,
        name: "CurrentEL",
        kind: Kind::CurrentEl,
    },
    Def {
        reg: SysReg::NZCV,
        name: "NZCV",
        kind: Kind::Nzcv,
    },
    Def {
        reg: SysReg::DAIF,
        name: "DAIF",
        kind: Kind::Daif,
    },
    Def {
        reg: SysReg::SPSEL,
        name: "SPSel",
        kind: Kind::SpSel,
    },
    Def {
        reg: SysReg::SP_EL0,
        name: "SP_EL0",
        kind: Kind::SpEl0,
    },
];

/// The breakpoint and watchpoint value/control registers of [`ID_AA64DFR0_EL1`]'s two
/// breakpoints and two watchpoints: `DBG{B,W}{V,C}R<n>_EL1`, op0=2 op1=0 CRn=0 CRm=n,
/// op2 = 4..7.
static DEBUG_BP: Def = Def {
    reg: SysReg::new(2, 0, 0, 0, 4),
    name: "DBG{B,W}{V,C}R<n>_EL1",
    kind: Kind::RazWi,
};

/// Unallocated registers of the ID space (op0=3, op1=0, CRn=0, CRm=1..7) read as zero.
static ID_RAZ: Def = Def {
    reg: SysReg::new(3, 0, 0, 1, 0),
    name: "ID (reserved, RAZ)",
    kind: Kind::Const(0),
};

/// The GICv3 CPU-interface registers (ICC_*_EL1), in the order of
/// [`crate::irq::IccReg::ALL`].
static ICC: LazyLock<Vec<Def>> = LazyLock::new(|| {
    crate::irq::IccReg::ALL
        .iter()
        .map(|&(r, [op0, op1, crn, crm, op2], name)| Def {
            reg: SysReg::new(op0, op1, crn, crm, op2),
            name,
            kind: Kind::Icc(r),
        })
        .collect()
});

/// The definition of `reg`, if implemented.
pub fn lookup(reg: SysReg) -> Option<&'static Def> {
    if let Some(d) = TABLE.iter().find(|d| d.reg == reg) {
        return Some(d);
    }
    // ICC registers live at op0=3, op1=0, CRn=4 (PMR) or 12.
    if reg.op0() == 3 && reg.op1() == 0 && (reg.crn() == 12 || reg.crn() == 4) {
        if let Some(d) = ICC.iter().find(|d| d.reg == reg) {
            return Some(d);
        }
    }
    let (op0, op1, crn, crm, op2) = (reg.op0(), reg.op1(), reg.crn(), reg.crm(), reg.op2());
    if op0 == 2 && op1 == 0 && crn == 0 && crm < 2 && op2 >= 4 {
        return Some(&DEBUG_BP);
    }
    if op0 == 3 && op1 == 0 && crn == 0 && (1..=7).contains(&crm) {
        return Some(&ID_RAZ);
    }
    None
}

/// What an EL0 access to a register does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum El0Access {
    Allowed,
    /// Trapped to EL1 with EC 0x18 (an EL1 control bit disallows it).
    Trap,
    /// UNDEFINED at EL0.
    Undef,
}

/// The EL0 access rule for `reg` (`read` = MRS) under the EL0 controls in `ctl`.
pub fn el0_access(reg: SysReg, read: bool, ctl: Ctl) -> El0Access {
    use El0Access::*;
    let gate = |f: Ctl| if ctl.contains(f) { Allowed } else { Trap };
    match reg {
        SysReg::NZCV | SysReg::FPCR | SysReg::FPSR | SysReg::TPIDR_EL0 => Allowed,
        SysReg::TPIDRRO_EL0 | SysReg::DCZID_EL0 if read => Allowed,
        SysReg::DAIF => gate(Ctl::UMA),
        SysReg::CTR_EL0 if read => gate(Ctl::UCT),
        SysReg::CNTFRQ_EL0 if read => {
            if ctl.intersects(Ctl::EL0PCTEN | Ctl::EL0VCTEN) {
                Allowed
            } else {
                Trap
            }
        }
        SysReg::CNTPCT_EL0 if read => gate(Ctl::EL0PCTEN),
        SysReg::CNTVCT_EL0 if read => gate(Ctl::EL0VCTEN),
        _ => match lookup(reg).map(|d| d.kind) {
            Some(Kind::Timer(crate::Timer::Phys, _)) => gate(Ctl::EL0PTEN),
            Some(Kind::Timer(crate::Timer::Virt, _)) => gate(Ctl::EL0VTEN),
            _ => Undef,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_unique_registers_and_valid_slots() {
        for (i, a) in TABLE.iter().enumerate() {
            for b in &TABLE[i + 1..] {
                assert_ne!(a.reg, b.reg, "{} and {}", a.name, b.name);
            }
            if let Kind::Stored { slot, .. } = a.kind {
                assert!(slot < NUM_STORED);
            }
        }
    }

    #[test]
    fn icc_registers_are_found_and_distinct_from_the_table() {
        use crate::irq::IccReg;
        for &(r, [op0, op1, crn, crm, op2], name) in IccReg::ALL {
            let reg = SysReg::new(op0, op1, crn, crm, op2);
            assert!(TABLE.iter().all(|d| d.reg != reg), "{name}");
            let d = lookup(reg).expect(name);
            assert_eq!(d.kind, Kind::Icc(r), "{name}");
        }
        // ICC_SRE_EL1 (3, 0, 12, 12, 5), and an unallocated neighbour.
        assert_eq!(
            lookup(SysReg::new(3, 0, 12, 12, 5)).map(|d| d.name),
            Some("ICC_SRE_EL1")
        );
        assert!(lookup(SysReg::new(3, 0, 12, 10, 0)).is_none());
        // Without a GICv3, ID_AA64PFR0_EL1.GIC is 0.
        assert_eq!(PFR0 >> 24 & 0xf, 0);
    }
}
