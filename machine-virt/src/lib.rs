//! The "virt" board: memory map, devices (PL011, PSCI), kernel loading, and wiring of CPUs,
//! back end and scheduler into a runnable machine.

pub mod board;
pub mod fdt;
pub mod gic;
pub mod loader;
pub mod pl011;
pub mod pl031;
pub mod psci;

pub use board::{Board, BoardConfig, BoardError};
