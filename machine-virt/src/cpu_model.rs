//! The `-cpu` models the board offers: what the guest sees of each (MIDR_EL1, the device
//! tree's `compatible`). Everything else (features, ID registers) is the one CPU
//! `arm-cpu` implements, a Cortex-A57-class ARMv8.0 core.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CpuModel {
    #[default]
    CortexA57,
    CortexA53,
    CortexA72,
    /// QEMU's `max`: its MIDR says "no real CPU" (implementer 0, part number 'Q').
    Max,
}

impl CpuModel {
    pub const ALL: [CpuModel; 4] = [
        CpuModel::CortexA57,
        CpuModel::CortexA53,
        CpuModel::CortexA72,
        CpuModel::Max,
    ];

    pub fn name(self) -> &'static str {
        match self {
            CpuModel::CortexA57 => "cortex-a57",
            CpuModel::CortexA53 => "cortex-a53",
            CpuModel::CortexA72 => "cortex-a72",
            CpuModel::Max => "max",
        }
    }

    pub fn from_name(name: &str) -> Option<CpuModel> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }

    /// MIDR_EL1 as QEMU reports it for this model.
    pub fn midr(self) -> u64 {
        match self {
            CpuModel::CortexA57 => 0x411f_d070,
            CpuModel::CortexA53 => 0x410f_d034,
            CpuModel::CortexA72 => 0x410f_d083,
            CpuModel::Max => 0x000f_0510,
        }
    }

    /// The CPU nodes' `compatible` in QEMU's tree (`max` is built on the A57 there).
    pub fn dtb_compatible(self) -> &'static str {
        match self {
            CpuModel::CortexA57 | CpuModel::Max => "arm,cortex-a57",
            CpuModel::CortexA53 => "arm,cortex-a53",
            CpuModel::CortexA72 => "arm,cortex-a72",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_midrs_are_distinct() {
        for m in CpuModel::ALL {
            assert_eq!(CpuModel::from_name(m.name()), Some(m));
        }
        assert_eq!(CpuModel::from_name("cortex-a15"), None);
        assert_eq!(CpuModel::default().midr(), arm_cpu::sysregs::MIDR);
        let mut midrs: Vec<u64> = CpuModel::ALL.iter().map(|m| m.midr()).collect();
        midrs.dedup();
        assert_eq!(midrs.len(), 4);
    }
}
