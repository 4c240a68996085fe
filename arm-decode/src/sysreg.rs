//! System register identifiers for MRS/MSR.

use std::fmt;

/// A system register, packed as `op0:2 op1:3 CRn:4 CRm:4 op2:3` (the MRS/MSR
/// encoding bits 20..5 with op0 in the top two bits). Every encoding is
/// representable; named constants cover the registers the emulator models.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub struct SysReg(pub u16);

impl SysReg {
    pub const fn new(op0: u8, op1: u8, crn: u8, crm: u8, op2: u8) -> SysReg {
        SysReg(
            ((op0 as u16 & 3) << 14)
                | ((op1 as u16 & 7) << 11)
                | ((crn as u16 & 15) << 7)
                | ((crm as u16 & 15) << 3)
                | (op2 as u16 & 7),
        )
    }

    pub const fn op0(self) -> u8 {
        (self.0 >> 14) as u8 & 3
    }
    pub const fn op1(self) -> u8 {
        (self.0 >> 11) as u8 & 7
    }
    pub const fn crn(self) -> u8 {
        (self.0 >> 7) as u8 & 15
    }
    pub const fn crm(self) -> u8 {
        (self.0 >> 3) as u8 & 15
    }
    pub const fn op2(self) -> u8 {
        self.0 as u8 & 7
    }

    pub const MIDR_EL1: SysReg = SysReg::new(3, 0, 0, 0, 0);
    pub const MPIDR_EL1: SysReg = SysReg::new(3, 0, 0, 0, 5);
    pub const REVIDR_EL1: SysReg = SysReg::new(3, 0, 0, 0, 6);
    pub const ID_AA64PFR0_EL1: SysReg = SysReg::new(3, 0, 0, 4, 0);
    pub const ID_AA64PFR1_EL1: SysReg = SysReg::new(3, 0, 0, 4, 1);
    pub const ID_AA64DFR0_EL1: SysReg = SysReg::new(3, 0, 0, 5, 0);
    pub const ID_AA64ISAR0_EL1: SysReg = SysReg::new(3, 0, 0, 6, 0);
    pub const ID_AA64ISAR1_EL1: SysReg = SysReg::new(3, 0, 0, 6, 1);
    pub const ID_AA64MMFR0_EL1: SysReg = SysReg::new(3, 0, 0, 7, 0);
    pub const ID_AA64MMFR1_EL1: SysReg = SysReg::new(3, 0, 0, 7, 1);
    pub const ID_AA64MMFR2_EL1: SysReg = SysReg::new(3, 0, 0, 7, 2);
    pub const SCTLR_EL1: SysReg = SysReg::new(3, 0, 1, 0, 0);
    pub const CPACR_EL1: SysReg = SysReg::new(3, 0, 1, 0, 2);
    pub const TTBR0_EL1: SysReg = SysReg::new(3, 0, 2, 0, 0);
    pub const TTBR1_EL1: SysReg = SysReg::new(3, 0, 2, 0, 1);
    pub const TCR_EL1: SysReg = SysReg::new(3, 0, 2, 0, 2);
    pub const SPSR_EL1: SysReg = SysReg::new(3, 0, 4, 0, 0);
    pub const ELR_EL1: SysReg = SysReg::new(3, 0, 4, 0, 1);
    pub const SP_EL0: SysReg = SysReg::new(3, 0, 4, 1, 0);
    pub const SPSEL: SysReg = SysReg::new(3, 0, 4, 2, 0);
    pub const CURRENT_EL: SysReg = SysReg::new(3, 0, 4, 2, 2);
    pub const AFSR0_EL1: SysReg = SysReg::new(3, 0, 5, 1, 0);
    pub const AFSR1_EL1: SysReg = SysReg::new(3, 0, 5, 1, 1);
    pub const ESR_EL1: SysReg = SysReg::new(3, 0, 5, 2, 0);
    pub const FAR_EL1: SysReg = SysReg::new(3, 0, 6, 0, 0);
    pub const PAR_EL1: SysReg = SysReg::new(3, 0, 7, 4, 0);
    pub const MAIR_EL1: SysReg = SysReg::new(3, 0, 10, 2, 0);
    pub const AMAIR_EL1: SysReg = SysReg::new(3, 0, 10, 3, 0);
    pub const VBAR_EL1: SysReg = SysReg::new(3, 0, 12, 0, 0);
    pub const CONTEXTIDR_EL1: SysReg = SysReg::new(3, 0, 13, 0, 1);
    pub const TPIDR_EL1: SysReg = SysReg::new(3, 0, 13, 0, 4);
    pub const CNTKCTL_EL1: SysReg = SysReg::new(3, 0, 14, 1, 0);
    pub const CCSIDR_EL1: SysReg = SysReg::new(3, 1, 0, 0, 0);
    pub const CLIDR_EL1: SysReg = SysReg::new(3, 1, 0, 0, 1);
    pub const CSSELR_EL1: SysReg = SysReg::new(3, 2, 0, 0, 0);
    pub const CTR_EL0: SysReg = SysReg::new(3, 3, 0, 0, 1);
    pub const DCZID_EL0: SysReg = SysReg::new(3, 3, 0, 0, 7);
    pub const NZCV: SysReg = SysReg::new(3, 3, 4, 2, 0);
    pub const DAIF: SysReg = SysReg::new(3, 3, 4, 2, 1);
    pub const FPCR: SysReg = SysReg::new(3, 3, 4, 4, 0);
    pub const FPSR: SysReg = SysReg::new(3, 3, 4, 4, 1);
    pub const TPIDR_EL0: SysReg = SysReg::new(3, 3, 13, 0, 2);
    pub const TPIDRRO_EL0: SysReg = SysReg::new(3, 3, 13, 0, 3);
    pub const CNTFRQ_EL0: SysReg = SysReg::new(3, 3, 14, 0, 0);
    pub const CNTPCT_EL0: SysReg = SysReg::new(3, 3, 14, 0, 1);
    pub const CNTVCT_EL0: SysReg = SysReg::new(3, 3, 14, 0, 2);
    pub const CNTP_TVAL_EL0: SysReg = SysReg::new(3, 3, 14, 2, 0);
    pub const CNTP_CTL_EL0: SysReg = SysReg::new(3, 3, 14, 2, 1);
    pub const CNTP_CVAL_EL0: SysReg = SysReg::new(3, 3, 14, 2, 2);
    pub const CNTV_TVAL_EL0: SysReg = SysReg::new(3, 3, 14, 3, 0);
    pub const CNTV_CTL_EL0: SysReg = SysReg::new(3, 3, 14, 3, 1);
    pub const CNTV_CVAL_EL0: SysReg = SysReg::new(3, 3, 14, 3, 2);
    pub const MDSCR_EL1: SysReg = SysReg::new(2, 0, 0, 2, 2);
    pub const OSLAR_EL1: SysReg = SysReg::new(2, 0, 1, 0, 4);
    pub const OSDLR_EL1: SysReg = SysReg::new(2, 0, 1, 3, 4);

    const NAMES: &'static [(SysReg, &'static str)] = &[
        (SysReg::MIDR_EL1, "MIDR_EL1"),
        (SysReg::MPIDR_EL1, "MPIDR_EL1"),
        (SysReg::REVIDR_EL1, "REVIDR_EL1"),
        (SysReg::ID_AA64PFR0_EL1, "ID_AA64PFR0_EL1"),
        (SysReg::ID_AA64PFR1_EL1, "ID_AA64PFR1_EL1"),
        (SysReg::ID_AA64DFR0_EL1, "ID_AA64DFR0_EL1"),
        (SysReg::ID_AA64ISAR0_EL1, "ID_AA64ISAR0_EL1"),
        (SysReg::ID_AA64ISAR1_EL1, "ID_AA64ISAR1_EL1"),
        (SysReg::ID_AA64MMFR0_EL1, "ID_AA64MMFR0_EL1"),
        (SysReg::ID_AA64MMFR1_EL1, "ID_AA64MMFR1_EL1"),
        (SysReg::ID_AA64MMFR2_EL1, "ID_AA64MMFR2_EL1"),
        (SysReg::SCTLR_EL1, "SCTLR_EL1"),
        (SysReg::CPACR_EL1, "CPACR_EL1"),
        (SysReg::TTBR0_EL1, "TTBR0_EL1"),
        (SysReg::TTBR1_EL1, "TTBR1_EL1"),
        (SysReg::TCR_EL1, "TCR_EL1"),
        (SysReg::SPSR_EL1, "SPSR_EL1"),
        (SysReg::ELR_EL1, "ELR_EL1"),
        (SysReg::SP_EL0, "SP_EL0"),
        (SysReg::SPSEL, "SPSel"),
        (SysReg::CURRENT_EL, "CurrentEL"),
        (SysReg::AFSR0_EL1, "AFSR0_EL1"),
        (SysReg::AFSR1_EL1, "AFSR1_EL1"),
        (SysReg::ESR_EL1, "ESR_EL1"),
        (SysReg::FAR_EL1, "FAR_EL1"),
        (SysReg::PAR_EL1, "PAR_EL1"),
        (SysReg::MAIR_EL1, "MAIR_EL1"),
        (SysReg::AMAIR_EL1, "AMAIR_EL1"),
        (SysReg::VBAR_EL1, "VBAR_EL1"),
        (SysReg::CONTEXTIDR_EL1, "CONTEXTIDR_EL1"),
        (SysReg::TPIDR_EL1, "TPIDR_EL1"),
        (SysReg::CNTKCTL_EL1, "CNTKCTL_EL1"),
        (SysReg::CCSIDR_EL1, "CCSIDR_EL1"),
        (SysReg::CLIDR_EL1, "CLIDR_EL1"),
        (SysReg::CSSELR_EL1, "CSSELR_EL1"),
        (SysReg::CTR_EL0, "CTR_EL0"),
        (SysReg::DCZID_EL0, "DCZID_EL0"),
        (SysReg::NZCV, "NZCV"),
        (SysReg::DAIF, "DAIF"),
        (SysReg::FPCR, "FPCR"),
        (SysReg::FPSR, "FPSR"),
        (SysReg::TPIDR_EL0, "TPIDR_EL0"),
        (SysReg::TPIDRRO_EL0, "TPIDRRO_EL0"),
        (SysReg::CNTFRQ_EL0, "CNTFRQ_EL0"),
        (SysReg::CNTPCT_EL0, "CNTPCT_EL0"),
        (SysReg::CNTVCT_EL0, "CNTVCT_EL0"),
        (SysReg::CNTP_TVAL_EL0, "CNTP_TVAL_EL0"),
        (SysReg::CNTP_CTL_EL0, "CNTP_CTL_EL0"),
        (SysReg::CNTP_CVAL_EL0, "CNTP_CVAL_EL0"),
        (SysReg::CNTV_TVAL_EL0, "CNTV_TVAL_EL0"),
        (SysReg::CNTV_CTL_EL0, "CNTV_CTL_EL0"),
        (SysReg::CNTV_CVAL_EL0, "CNTV_CVAL_EL0"),
        (SysReg::MDSCR_EL1, "MDSCR_EL1"),
        (SysReg::OSLAR_EL1, "OSLAR_EL1"),
        (SysReg::OSDLR_EL1, "OSDLR_EL1"),
    ];

    /// Architectural name (ARM ARM spelling), if this is a named register.
    pub fn name(self) -> Option<&'static str> {
        SysReg::NAMES
            .iter()
            .find(|(r, _)| *r == self)
            .map(|&(_, n)| n)
    }
}

/// objdump style: lower-case name, or `s<op0>_<op1>_c<n>_c<m>_<op2>`.
impl fmt::Display for SysReg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => {
                for c in n.chars() {
                    fmt::Write::write_char(f, c.to_ascii_lowercase())?;
                }
                Ok(())
            }
            None => write!(
                f,
                "s{}_{}_c{}_c{}_{}",
                self.op0(),
                self.op1(),
                self.crn(),
                self.crm(),
                self.op2()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_roundtrip() {
        let r = SysReg::new(3, 3, 14, 3, 2);
        assert_eq!(
            (r.op0(), r.op1(), r.crn(), r.crm(), r.op2()),
            (3, 3, 14, 3, 2)
        );
        assert_eq!(r, SysReg::CNTV_CVAL_EL0);
    }

    #[test]
    fn display() {
        assert_eq!(SysReg::CURRENT_EL.to_string(), "currentel");
        assert_eq!(SysReg::new(3, 0, 15, 2, 0).to_string(), "s3_0_c15_c2_0");
        assert_eq!(SysReg::SPSEL.name(), Some("SPSel"));
    }

    #[test]
    fn names_unique() {
        for (i, (a, an)) in SysReg::NAMES.iter().enumerate() {
            for (b, bn) in &SysReg::NAMES[i + 1..] {
                assert!(a != b && an != bn, "{an} / {bn}");
            }
        }
    }
}
