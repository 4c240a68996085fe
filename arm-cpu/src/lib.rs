//! The AArch64 CPU: architectural state, system registers, helpers, and the translator
//! from decoded A64 instructions to IR.

pub mod cpu;
pub mod debug;
pub mod except;
pub mod exits;
pub mod helpers;
pub mod irq;
pub mod mmu;
pub mod state;
pub mod sysregs;
pub mod timer;
pub mod trace;
pub mod translate;

pub use cpu::{ArmCpu, CpuConfig, Platform};
pub use irq::IrqLines;
pub use state::CpuEnv;
pub use timer::{Timer, TimerRegs};
