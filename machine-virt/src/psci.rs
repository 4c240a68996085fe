//! PSCI 1.0 over HVC (SMC Calling Convention function IDs in W0, results in X0).

use arm_cpu::{ArmCpu, Platform};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use vcpu_sched::{Control, CpuAction, PowerState};

/// Function IDs (PSCI specification, SMC32/SMC64 calling convention).
pub mod func {
    pub const VERSION: u32 = 0x8400_0000;
    pub const CPU_SUSPEND_32: u32 = 0x8400_0001;
    pub const CPU_SUSPEND_64: u32 = 0xc400_0001;
    pub const CPU_OFF: u32 = 0x8400_0002;
    pub const CPU_ON_32: u32 = 0x8400_0003;
    pub const CPU_ON_64: u32 = 0xc400_0003;
    pub const AFFINITY_INFO_32: u32 = 0x8400_0004;
    pub const AFFINITY_INFO_64: u32 = 0xc400_0004;
    pub const MIGRATE_INFO_TYPE: u32 = 0x8400_0006;
    pub const SYSTEM_OFF: u32 = 0x8400_0008;
    pub const SYSTEM_RESET: u32 = 0x8400_0009;
    pub const FEATURES: u32 = 0x8400_000a;
}

/// Return codes.
pub mod ret {
    pub const SUCCESS: i64 = 0;
    pub const NOT_SUPPORTED: i64 = -1;
    pub const INVALID_PARAMETERS: i64 = -2;
    pub const ALREADY_ON: i64 = -4;
}

/// PSCI 1.0.
pub const VERSION_1_0: u64 = 0x0001_0000;
/// The run's status when the guest asks for SYSTEM_RESET: the board then reports a
/// reset ([`Psci::reset_requested`]) and the emulator reboots, or with `-no-reboot`
/// exits with this status (0, as QEMU).
pub const RESET_EXIT_STATUS: i32 = 0;

pub struct Psci {
    /// MPIDR_EL1 affinity fields (Aff3 39:32, Aff2..Aff0 23:0) of each vCPU, by index.
    affinities: Vec<u64>,
    control: OnceLock<Control<ArmCpu>>,
    reset: AtomicBool,
}

impl Psci {
    /// PSCI for `ncpus` vCPUs whose MPIDR affinity is their index (Aff0).
    pub fn new(ncpus: usize) -> Psci {
        Psci::with_affinities((0..ncpus as u64).collect())
    }

    /// PSCI for vCPUs with these MPIDR affinity values (by vCPU index).
    pub fn with_affinities(affinities: Vec<u64>) -> Psci {
        Psci {
            affinities,
            control: OnceLock::new(),
            reset: AtomicBool::new(false),
        }
    }

    /// Whether a vCPU called SYSTEM_RESET (the machine then stopped).
    pub fn reset_requested(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }

    /// Connects PSCI to the scheduler (after the CPUs exist).
    pub fn attach(&self, control: Control<ArmCpu>) {
        let _ = self.control.set(control);
    }

    /// The vCPU index of an MPIDR value: its affinity fields (Aff3 39:32, Aff2..Aff0
    /// 23:0) name a vCPU and every other bit is zero (PSCI's target_cpu format).
    fn cpu_of(&self, mpidr: u64) -> Option<usize> {
        if mpidr & !0xff_00ff_ffff != 0 {
            return None;
        }
        self.affinities.iter().position(|&a| a == mpidr)
    }

    fn call(&self, cpu: &mut ArmCpu) -> Result<i64, CpuAction> {
        let f = cpu.reg(0) as u32;
        let Some(control) = self.control.get() else {
            return Ok(ret::NOT_SUPPORTED);
        };
        Ok(match f {
            func::VERSION => VERSION_1_0 as i64,
            func::CPU_OFF => return Err(CpuAction::PowerOff),
            func::CPU_ON_32 | func::CPU_ON_64 => {
                let (target, entry, ctx) = (cpu.reg(1), cpu.reg(2), cpu.reg(3));
                let (entry, ctx) = if f == func::CPU_ON_32 {
                    (entry & 0xffff_ffff, ctx & 0xffff_ffff)
                } else {
                    (entry, ctx)
                };
                match self.cpu_of(target) {
                    None => ret::INVALID_PARAMETERS,
                    Some(i) => match control
                        .power_on(i, Box::new(move |c: &mut ArmCpu| c.reset_to(entry, ctx)))
                    {
                        Ok(()) => ret::SUCCESS,
                        Err(_) => ret::ALREADY_ON,
                    },
                }
            }
            func::AFFINITY_INFO_32 | func::AFFINITY_INFO_64 => {
                if cpu.reg(2) != 0 {
                    ret::INVALID_PARAMETERS
                } else {
                    match self.cpu_of(cpu.reg(1)) {
                        None => ret::INVALID_PARAMETERS,
                        Some(i) => match control.power_state(i) {
                            PowerState::On => 0,
                            PowerState::Off => 1,
                            PowerState::Pending => 2,
                        },
                    }
                }
            }
            func::MIGRATE_INFO_TYPE => 2,
            func::SYSTEM_OFF => return Err(CpuAction::Shutdown(0)),
            func::SYSTEM_RESET => {
                self.reset.store(true, Ordering::Release);
                return Err(CpuAction::Shutdown(RESET_EXIT_STATUS));
            }
            func::FEATURES => match cpu.reg(1) as u32 {
                func::VERSION
                | func::CPU_OFF
                | func::CPU_ON_32
                | func::CPU_ON_64
                | func::AFFINITY_INFO_32
                | func::AFFINITY_INFO_64
                | func::MIGRATE_INFO_TYPE
                | func::SYSTEM_OFF
                | func::SYSTEM_RESET
                | func::FEATURES => 0,
                _ => ret::NOT_SUPPORTED,
            },
            func::CPU_SUSPEND_32 | func::CPU_SUSPEND_64 => return Err(CpuAction::WaitForInterrupt),
            _ => ret::NOT_SUPPORTED,
        })
    }
}

impl Platform for Psci {
    fn hvc(&self, cpu: &mut ArmCpu, _imm: u16) -> CpuAction {
        match self.call(cpu) {
            Ok(r) => {
                cpu.set_reg(0, r as u64);
                CpuAction::Continue
            }
            Err(action) => action,
        }
    }
}
