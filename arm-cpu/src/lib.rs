//! The AArch64 CPU: architectural state, system registers, helpers, and the translator
//! from decoded A64 instructions to IR.

pub mod cpu;
pub mod exits;
pub mod helpers;
pub mod state;
pub mod sysregs;
pub mod translate;

pub use cpu::{ArmCpu, CpuConfig, Platform};
pub use state::CpuEnv;
