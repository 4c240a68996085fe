//! The "virt" board: memory map, devices (GICv2 or GICv3, generic-timer wiring, PL011, PL031, PSCI,
//! the virtio-mmio bank),
//! kernel loading, and wiring of CPUs, back end and scheduler into a runnable machine.

pub mod board;
pub mod check;
pub mod cpu_model;
pub mod device_args;
pub mod fdt;
pub mod fdt_edit;
pub mod gic;
pub mod gicv3;
pub mod loader;
pub mod pl011;
pub mod pl031;
pub mod psci;
pub mod qemu_args;
pub mod stdin;
pub mod timer;

pub use board::{Board, BoardConfig, BoardError};
